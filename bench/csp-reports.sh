#!/usr/bin/env bash
# CSP violation reports over HTTP on loopback with the caps on (64 KiB body
# limit, 1,000 requests a second per page), each report parsed, turned into an
# event and run through the detector, measured with wrk.
# Usage: bench/csp-reports.sh [duration-seconds] [connections] [pages]
# Prints wrk's figures for GET /healthz (the HTTP ceiling), for reports to one
# page (the per-page cap answers the excess with 429) and spread over PAGES pages.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-15}
conns=${2:-64}
pages=${3:-8}
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
cargo build --release -q -p bulwark-cli
bin=target/release/bulwark
tmp=$(mktemp -d)
dir=$tmp/data
port=${BULWARK_BENCH_PORT:-18182}
export BULWARK_PASSPHRASE="benchmark passphrase, not secret"
$bin init --data-dir "$dir" --kdf-memory-mib 8 --kdf-iterations 1 --json >/dev/null
for i in $(seq "$pages"); do
  $bin pagewatch add --data-dir "$dir" "https://shop.example/checkout-$i" >/dev/null 2>&1
done
tokens=$($bin pagewatch list --data-dir "$dir" --json | python3 -c 'import sys,json; print(" ".join(json.loads(l)["report_token"] for l in sys.stdin))')
BULWARK_LOG=warn $bin serve --data-dir "$dir" --listen 127.0.0.1:$port &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
# A report a browser sends for an inline style attribute: parsed and detected,
# raises no alert (the checkout rules watch scripts and connections).
body='{"csp-report":{"document-uri":"https://shop.example/checkout","referrer":"https://shop.example/cart","violated-directive":"style-src-attr","effective-directive":"style-src-attr","original-policy":"default-src '"'"'self'"'"'; report-uri /r","blocked-uri":"inline","status-code":200,"source-file":"https://shop.example/checkout","line-number":12,"column-number":7,"disposition":"enforce","script-sample":"color: red"}}'
cat > "$tmp/report.lua" <<LUA
local tokens = {}
for t in string.gmatch("$tokens", "%S+") do tokens[#tokens + 1] = t end
local n = tonumber(os.getenv("PAGES") or "1")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/csp-report"
wrk.body = [[$body]]
request = function()
  i = i % n + 1
  return wrk.format(nil, "/v1/csp-reports/" .. tokens[i])
end
LUA
echo "== GET /healthz (HTTP ceiling), $conns connections, ${dur}s"
wrk -t1 -c"$conns" -d"${dur}s" --latency http://127.0.0.1:$port/healthz | grep -E "Requests/sec|Latency|99%|50%|Non-2xx"
echo "== CSP reports to 1 page (capped at 1,000 requests/s: the rest are 429), $conns connections, ${dur}s"
PAGES=1 wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$tmp/report.lua" http://127.0.0.1:$port | grep -E "Requests/sec|Latency|99%|50%|Non-2xx|requests in"
echo "== CSP reports spread over $pages pages, $conns connections, ${dur}s"
PAGES=$pages wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$tmp/report.lua" http://127.0.0.1:$port | grep -E "Requests/sec|Latency|99%|50%|Non-2xx|requests in"
