#!/usr/bin/env bash
# make bench, part 2: one agent's efficiency as a user measures it. A trivial
# loopback login service runs in a process of its own (internal/benchserver);
# then, interleaved, REPS repetitions of: `stampede run` (64 workers, 64
# connections, a rate above reach, SECS seconds), the vegeta CLI with the same
# settings, and wrk -t2 -c64. Each rate, then the ratios stampede/vegeta and
# stampede/wrk per repetition. stampede's rate is read from its results.bin
# by `vegeta report`, the same way as vegeta's own: this also checks that
# every result was recorded in a file vegeta can read.
# Figures only: it asserts nothing. Needs bin/stampede, bin/vegeta, wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
SECS=${SECS:-5}
VEGETA=${VEGETA:-bin/vegeta}
# BASELINE names an earlier stampede binary to run beside bin/stampede in
# each repetition (before/after figures for a change).
BASELINE=${BASELINE:-}
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/benchserver" ./internal/benchserver
"$tmp/benchserver" >"$tmp/server.out" &
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/server.out" ] && break; sleep 0.1; done
url=$(head -1 "$tmp/server.out")

printf 'username,password\n' >"$tmp/users.csv"
for i in $(seq 8); do printf 'user%d,good\n' "$i" >>"$tmp/users.csv"; done
cat >"$tmp/max.yaml" <<YAML
name: bench-max
max_rate: 1000000
credentials: {file: $tmp/users.csv}
login: {success: {status: [200]}}
client: {max_workers: 64, max_connections: 64, timeout: 5s}
stages:
  - constant: {rate: 1000000, for: ${SECS}s}
YAML
printf 'POST %s/login\nContent-Type: application/json\n@%s/body.json\n' "$url" "$tmp" >"$tmp/targets.txt"
printf '{"username":"user1","password":"good"}' >"$tmp/body.json"
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"user1","password":"good"}'
wrk.headers["Content-Type"] = "application/json"
LUA

rate_of() { "$VEGETA" report -type=json "$1" | sed -n 's/.*"rate":\([0-9.]*\).*/\1/p'; }
count_of() { "$VEGETA" report -type=json "$1" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }

echo "bench: agents against $url, $REPS × ${SECS}s each, interleaved"
for rep in $(seq "$REPS"); do
  out="$tmp/run$rep"
  bin/stampede run "$tmp/max.yaml" --target "$url" --out "$out" --quiet --seed 1 >/dev/null 2>"$tmp/stampede.err" || {
    rc=$?; [ $rc -eq 1 ] || { cat "$tmp/stampede.err" >&2; exit $rc; }; }
  s=$(rate_of "$out/results.bin"); sn=$(count_of "$out/results.bin")
  sent=$(grep -o '"sent": *[0-9]*' "$out/manifest.json" | head -1 | grep -o '[0-9]*$')
  if [ -n "$BASELINE" ]; then
    "$BASELINE" run "$tmp/max.yaml" --target "$url" --out "$out.base" --quiet --seed 1 >/dev/null 2>&1 || true
    echo "rep $rep: baseline $(rate_of "$out.base/results.bin" | cut -d. -f1)/s"
    rm -rf "$out.base"
  fi
  "$VEGETA" attack -rate 0 -max-workers 64 -connections 64 -duration "${SECS}s" -targets "$tmp/targets.txt" >"$tmp/v.bin"
  v=$(rate_of "$tmp/v.bin")
  w=nan
  if command -v wrk >/dev/null; then
    w=$(wrk -t2 -c64 -d"${SECS}s" -s "$tmp/post.lua" "$url/login" | sed -n 's/^Requests\/sec: *//p')
  fi
  awk -v r="$rep" -v s="$s" -v n="$sn" -v sent="$sent" -v v="$v" -v w="$w" 'BEGIN {
    printf "rep %d: stampede %6.0f/s (%d of %d sent recorded)  vegeta %6.0f/s  wrk %6.0f/s  stampede/vegeta %.2f  stampede/wrk %.2f\n", r, s, n, sent, v, w, s/v, s/w }'
  awk -v s="$s" -v v="$v" -v w="$w" 'BEGIN { printf "%f %f\n", s/v, s/w }' >>"$tmp/ratios"
  rm -rf "$out"
done
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf 'median of %d: stampede/vegeta %.2f  stampede/wrk %.2f\n' "$REPS" \
  "$(cut -d' ' -f1 "$tmp/ratios" | median)" "$(cut -d' ' -f2 "$tmp/ratios" | median)"
