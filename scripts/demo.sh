#!/usr/bin/env bash
# make demo: the bundled fixture (login service + throwaway PostgreSQL) under a
# surge, with the live display, then the per-stage summary. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${DEMO_SCENARIO:-surge}
out=runs/demo-$(date +%Y%m%d-%H%M%S)-$scenario
./bin/stampede run "$scenario" --out "$out"
echo
echo "demo: results in $out (vegeta reads them: vegeta report $out/results.bin)"
