#!/usr/bin/env bash
# make demo: the login incident replayed on the bundled fixture (login service
# + throwaway PostgreSQL): a surge, the database connection limit reached, a
# network blip as a decoy; then the report. Leaves nothing running.
set -uo pipefail
cd "$(dirname "$0")/.."
scenario=${DEMO_SCENARIO:-gameday}
out=runs/demo-$(date +%Y%m%d-%H%M%S)-$scenario
# Live Prometheus metrics while it runs: the run prints their URL
# ("metrics: http://127.0.0.1:PORT/metrics"); DEMO_METRICS_ADDR fixes the port.
./bin/stampede run "$scenario" --out "$out" --metrics-addr "${DEMO_METRICS_ADDR:-127.0.0.1:0}"
rc=$?
case $rc in
  0) echo "demo: every SLO and gate held." ;;
  1) echo "demo: the SLO failed, as the drill intends: the report above says where and why." ;;
  *) echo "demo: stampede exited $rc" >&2; exit "$rc" ;;
esac
echo "demo: open $out/report.html in a browser; the postmortem draft is $out/postmortem.md"
