#!/usr/bin/env bash
# The browser test: report.html opened in headless Chromium, every chart
# checked as drawn, no console error, nothing fetched; it saves the page's
# screenshot to docs/report-screenshot.png (the README's picture).
#
# Installs Debian's chromium when /usr/bin/chromium is missing, and fails
# loudly when it is still missing after that. CI calls this script.
#
#   scripts/browser-test.sh            # STAMPEDE_SCREENSHOT=- to keep none
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${STAMPEDE_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser-test: $chromium missing: installing Debian's chromium"
  if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q || echo "browser-test: apt-get update failed" >&2
  $sudo apt-get install -y -q chromium || echo "browser-test: apt-get install chromium failed" >&2
fi
if [ ! -x "$chromium" ]; then
  echo "browser-test: FAIL: no Chromium at $chromium after the install attempt; the browser test cannot run" >&2
  exit 1
fi
"$chromium" --version 2>/dev/null || true

export STAMPEDE_CHROMIUM=$chromium
export STAMPEDE_SCREENSHOT=${STAMPEDE_SCREENSHOT:-$PWD/docs/report-screenshot.png}
go vet -tags browser ./report/render/
go test -tags browser -run '^TestBrowser' -count=1 -v ./report/render/
