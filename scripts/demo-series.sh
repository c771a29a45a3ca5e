#!/usr/bin/env bash
# make demo-series: the demo (`stampede run gameday`) N times on this machine as
# it is, then N times beside a process that keeps one core busy (an ordinary CI
# runner), and a tally: the breaking point's cause and the scorecard's verdict
# for each fault (the client-path blip must read network.client, the connection
# cap db.connections). A verdict that flips with noise is a bug; this is how to
# see it. Figures only, but it exits 1 when any run named the wrong cause.
#
#   N=10 ./scripts/demo-series.sh          # OUT=runs/demo-series by default
#   REPLAY=1 ./scripts/demo-series.sh      # re-report the run directories already
#                                          # in OUT with bin/stampede (no new runs)
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-10}
OUT=${OUT:-runs/demo-series}
REPLAY=${REPLAY:-}
busy_pid=
cleanup() { [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null; }
trap cleanup EXIT

run_one() { # label
  local dir=$OUT/$1
  rm -rf "$dir"
  ./bin/stampede run gameday --out "$dir" --quiet >/dev/null 2>"$OUT/$1.err"
  local rc=$?
  [ $rc -le 1 ] || { echo "$1: stampede exited $rc" >&2; cat "$OUT/$1.err" >&2; }
}

tally() { # label: one line of figures from the run's report.json
  local dir=$OUT/$1 rep=$OUT/$1/report.json
  if [ -n "$REPLAY" ]; then rep=$OUT/$1.replay.json; ./bin/stampede report "$dir" --format json >"$rep" 2>/dev/null; fi
  python3 - "$dir" "$1" "$rep" <<'PY'
import json, sys
d, label, rep = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    r = json.load(open(rep))
except Exception as e:
    print(f"{label:8} no report ({e})"); sys.exit(0)
want = {"net.latency": "network.client", "db.conn_limit": "db.connections"}
cause = r["cause"]["primary"]
score = {s["kind"]: (s["detected"], s["match"]) for s in r.get("scorecard", [])}
ok = cause == "db.connections" and all(score.get(k, ("-", False)) == (v, True) for k, v in want.items())
host = []
for line in open(d + "/timeline.jsonl"):
    ev = json.loads(line)
    if ev.get("type") == "cpu_sample" and ev.get("host_busy") is not None:
        host.append(ev["host_busy"])
hb = f"{100*sum(host)/len(host):.0f}%" if host else "-"
sc = " ".join(f"{k}={score.get(k, ('-', False))[0]}" for k in want)
print(f"{label:8} {'ok   ' if ok else 'WRONG'} breaking {cause} ({r['cause'].get('confidence', '-')}); {sc}; host CPU {hb} busy (mean)")
PY
}

mkdir -p "$OUT"
if [ -z "$REPLAY" ]; then
  make -s build >/dev/null || exit 2
  for i in $(seq "$N"); do run_one "quiet$i"; tally "quiet$i"; done
  sh -c 'while :; do :; done' & busy_pid=$!
  for i in $(seq "$N"); do run_one "busy$i"; tally "busy$i"; done
  kill "$busy_pid"; busy_pid=
else
  for i in $(seq "$N"); do tally "quiet$i"; done
  for i in $(seq "$N"); do tally "busy$i"; done
fi | tee "$OUT/series.txt"
q=$(grep -c '^quiet.*ok ' "$OUT/series.txt"); b=$(grep -c '^busy.*ok ' "$OUT/series.txt")
echo "demo series: right in $q of $N quiet runs and $b of $N beside a busy core" | tee -a "$OUT/series.txt"
[ "$q" -eq "$N" ] && [ "$b" -eq "$N" ]
