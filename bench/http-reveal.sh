#!/usr/bin/env bash
# Reveals over HTTP on loopback with the access log durable, measured with wrk.
# Usage: bench/http-reveal.sh [duration-seconds] [connections]
# Prints wrk's figures for GET /healthz (the HTTP ceiling) and for a 3-field reveal.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-15}
conns=${2:-64}
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
cargo build --release -q -p bulwark-cli
bin=target/release/bulwark
dir=$(mktemp -d)/data
port=${BULWARK_BENCH_PORT:-18181}
export BULWARK_PASSPHRASE="benchmark passphrase, not secret"
admin=$($bin init --data-dir "$dir" --kdf-memory-mib 8 --kdf-iterations 1 --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["admin_key"])')
BULWARK_LOG=warn $bin serve --data-dir "$dir" --listen 127.0.0.1:$port &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$(dirname "$dir")"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
key=$(curl -sf -H "Authorization: Bearer $admin" -X POST http://127.0.0.1:$port/v1/keys \
  -d '{"name":"bench","scopes":["vault:write","vault:reveal:email","vault:reveal:name","vault:reveal:postal_address"]}' \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["key"])')
id=$(curl -sf -H "Authorization: Bearer $key" -X POST http://127.0.0.1:$port/v1/customers \
  -d '{"residency":{"country":"US","subdivision":"US-CA"},"fields":{"email":"bench@example.com","name":"Bench Customer","postal_address":"1 Market St, San Francisco"}}' \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
echo "== GET /healthz (HTTP ceiling), $conns connections, ${dur}s"
wrk -t1 -c"$conns" -d"${dur}s" --latency http://127.0.0.1:$port/healthz | grep -E "Requests/sec|Latency|99%|50%|Non-2xx"
echo "== reveal of 3 fields with a durable access-log entry, $conns connections, ${dur}s"
wrk -t1 -c"$conns" -d"${dur}s" --latency -H "Authorization: Bearer $key" -H "X-Bulwark-Purpose: benchmark" \
  "http://127.0.0.1:$port/v1/customers/$id?fields=email,name,postal_address" | grep -E "Requests/sec|Latency|99%|50%|Non-2xx"
reveals=$(curl -sf -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/v1/ledger/verify" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["intact"], d["status"]["entries"])')
echo "== ledger after the run: intact, entries = $reveals"
