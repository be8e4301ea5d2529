#!/usr/bin/env bash
# The web console under load: with 10,000 incidents, 1,000,000 customers and
# 100,000 outbox rows, each page is loaded by wrk on loopback with a signed-in
# session, and its latency compared with /healthz (the HTTP floor) and the
# JSON API's view of the same incident.
#
# Usage: bench/console.sh
# Environment (defaults in brackets):
#   DURATION [20] seconds per route, THREADS [2], CONNS [16], TIMEOUT [30] for wrk,
#   PORT [18282], CUSTOMERS [1000000], INCIDENTS [10000], SCOPE [100000],
#   BULWARK_PASSPHRASE [the test kit's], ROUTES (see below), SERVE_ARGS,
#   RESEED=1 (delete and seed the data directory again), BUILD=0 (skip cargo
#   build), BULWARK_BIN and SEED_BIN (binaries built elsewhere; with BUILD=0).
# The data directory (target/bench-console/data-c…-i…-s…) is seeded once and
# reused; delete it to seed again. Every run signs in afresh.
# Exits 1 when any route answers anything but 200 (or not at all); with
# STRICT=1, 3 when a page of the requirement misses 50 ms at p99.
set -euo pipefail
cd "$(dirname "$0")/.."

# The routes: "label|path|auth", auth = cookie (the console session), bearer
# (the admin API key) or none; {big} is the big incident's number. The
# baselines always run. ROUTES=required loads only the three pages of the
# requirement, ROUTES=stand-ins only the home page and /sessions (what stood
# in before the three existed); by default both; or give ROUTES as lines of
# "label|path|auth" yourself.
REQUIRED_ROUTES="incident board|/incidents|cookie
incident page|/incidents/{big}|cookie
deadline board|/incidents/{big}/deadlines|cookie"
STAND_IN_ROUTES="home (open incidents, drafts)|/|cookie
sessions|/sessions|cookie"
BASELINE_ROUTES="healthz|/healthz|none
api incident|/v1/incidents/{big}|bearer"
case ${ROUTES:-all} in
  all) ROUTES="$REQUIRED_ROUTES
$STAND_IN_ROUTES" ;;
  required) ROUTES=$REQUIRED_ROUTES ;;
  stand-ins) ROUTES=$STAND_IN_ROUTES ;;
esac

DURATION=${DURATION:-20}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
# wrk leaves a request that takes longer out of the latency figures (and counts
# it as an error): long, so a slow page shows in p99 rather than vanishing.
TIMEOUT=${TIMEOUT:-30}
PORT=${PORT:-18282}
CUSTOMERS=${CUSTOMERS:-1000000}
INCIDENTS=${INCIDENTS:-10000}
SCOPE=${SCOPE:-100000}
export BULWARK_PASSPHRASE=${BULWARK_PASSPHRASE:-correct horse battery staple}

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
command -v wrk >/dev/null || { echo "wrk is missing and could not be installed" >&2; exit 1; }

if [[ ${BUILD:-1} != 0 ]]; then
  echo "== building bulwark and the seeding program (release)" >&2
  cargo build --release -q -p bulwark-cli -p bulwark-bench
fi
bin=${BULWARK_BIN:-target/release/bulwark}
seed=${SEED_BIN:-target/release/bulwark-seed-console}

root=target/bench-console
mkdir -p "$root"
dir=$root/data-c$CUSTOMERS-i$INCIDENTS-s$SCOPE
log=$root/serve.log

stamp=$dir.commit
if [[ ${RESEED:-0} != 0 && -e $dir ]]; then
  echo "== RESEED: removing $dir" >&2
  rm -rf "$dir" "$stamp"
fi
if [[ -e $dir/bench-seeded.json && -s $stamp ]]; then
  # A reused directory holds what the store wrote when it was seeded; a store
  # changed since (say, a table kept beside incident_tasks) may need a reseed.
  if ! git diff --quiet "$(cat "$stamp")" -- crates/store crates/incident 2>/dev/null; then
    echo "WARNING: crates/store or crates/incident changed since $dir was seeded at $(cut -c1-12 "$stamp"); RESEED=1 seeds again" >&2
  fi
fi
echo "== seeding (or reusing) $dir" >&2
[[ -e $dir ]] || git rev-parse HEAD >"$stamp" 2>/dev/null || true
out=$("$seed" --data-dir "$dir" --customers "$CUSTOMERS" --incidents "$INCIDENTS" --scope "$SCOPE")
SESSION= BIG= API_KEY= OUTBOX= SIZE_BYTES=
while IFS='=' read -r k v; do
  case $k in
    SESSION) SESSION=$v ;;
    BIG) BIG=$v ;;
    API_KEY) API_KEY=$v ;;
    OUTBOX) OUTBOX=$v ;;
    SIZE_BYTES) SIZE_BYTES=$v ;;
  esac
done <<<"$out"
[[ -n $SESSION && -n $BIG && -n $API_KEY ]] || { echo "the seeding program printed no session, incident or key" >&2; exit 1; }
echo "   big incident $BIG, $OUTBOX outbox rows, data directory $(du -sh "$dir" | cut -f1) ($SIZE_BYTES bytes)" >&2

base=http://127.0.0.1:$PORT
if curl -s -o /dev/null "$base/healthz"; then
  echo "something already listens on port $PORT; set PORT" >&2
  exit 1
fi
echo "== bulwark serve on $base (log: $log)" >&2
# shellcheck disable=SC2086
BULWARK_LOG=${BULWARK_LOG:-warn} "$bin" serve --data-dir "$dir" --listen "127.0.0.1:$PORT" ${SERVE_ARGS:-} >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -sf -o /dev/null "$base/healthz" && break
  kill -0 $pid 2>/dev/null || { echo "bulwark serve stopped:" >&2; tail -20 "$log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "$base/healthz" || { echo "bulwark serve did not answer /healthz" >&2; tail -20 "$log" >&2; exit 1; }

auth_header() {
  case $1 in
    cookie) printf 'Cookie: bulwark=%s' "$SESSION" ;;
    bearer) printf 'Authorization: Bearer %s' "$API_KEY" ;;
    none) printf 'X-Bench: none' ;;
    *) echo "unknown auth kind $1" >&2; exit 1 ;;
  esac
}

# Every route must answer 200 itself (no redirect to /login) before it is loaded.
all_routes="$BASELINE_ROUTES
$ROUTES"
declare -a labels paths auths sizes
while IFS='|' read -r label path auth; do
  [[ -z $label ]] && continue
  path=${path//\{big\}/$BIG}
  read -r code size redirect < <(curl -s -o /dev/null -w '%{http_code} %{size_download} %{redirect_url}\n' \
    -H "$(auth_header "$auth")" "$base$path")
  if [[ $code != 200 ]]; then
    echo "FAIL: $path answered $code${redirect:+ (redirect to $redirect)}, not 200" >&2
    exit 1
  fi
  labels+=("$label"); paths+=("$path"); auths+=("$auth"); sizes+=("$size")
done <<<"$all_routes"

# The server's own CPU time per request (utime + stime of the process): what a
# page costs the server, apart from queueing and from wrk on the same cores.
tck=$(getconf CLK_TCK)
server_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Busy jiffies of the whole machine, to see whether something else ran too.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: load average $load before the run: something else is using the cores; figures will be noisy" >&2
fi

declare -a results cpu others
failed=0
for i in "${!paths[@]}"; do
  echo "== wrk -t$THREADS -c$CONNS -d${DURATION}s ${paths[$i]}" >&2
  s0=$(server_ticks); b0=$(busy_ticks)
  line=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "${TIMEOUT}s" --latency -s bench/console-status.lua \
    -H "$(auth_header "${auths[$i]}")" "$base${paths[$i]}" | grep '^RESULT ' || true)
  s1=$(server_ticks); b1=$(busy_ticks)
  [[ -n $line ]] || { echo "FAIL: wrk printed no result for ${paths[$i]}" >&2; exit 1; }
  results+=("$line")
  cpu+=("$((s1 - s0))")
  others+=("$((b1 - b0 - (s1 - s0)))")
  non200=$(sed -E 's/.*non200=([0-9]+).*/\1/' <<<"$line")
  errs=$(sed -E 's/.* errors=([0-9]+).*/\1/' <<<"$line")
  timeouts=$(sed -E 's/.* timeouts=([0-9]+).*/\1/' <<<"$line")
  if [[ $non200 != 0 || $errs != 0 ]]; then
    echo "FAIL: ${paths[$i]}: $non200 responses not 200, $errs socket errors ($timeouts of them no answer within ${TIMEOUT} s)" >&2
    failed=1
  fi
done

# The session must still be valid after the run (no page was a redirect).
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$(auth_header cookie)" "$base/")
[[ $code == 200 ]] || { echo "FAIL: the session no longer opens / ($code)" >&2; failed=1; }

echo
echo "Console under load: $CUSTOMERS customers, $((INCIDENTS + 1)) incidents, $OUTBOX outbox rows; wrk -t$THREADS -c$CONNS, ${DURATION} s per route, loopback, $(nproc) cores"
echo
printf '| %-32s | %-28s | %8s | %9s | %8s | %8s | %8s | %11s | %14s | %11s |\n' route path "bytes" "req/s" "p50 ms" "p90 ms" "p99 ms" "p99/healthz" "server CPU/req" "other cores"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..34})" "$(printf -- '-%.0s' {1..30})" "---------:" "----------:" "---------:" "---------:" "---------:" "------------:" "---------------:" "------------:"
floor=
for i in "${!paths[@]}"; do
  [[ ${paths[$i]} == /healthz ]] && floor=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"${results[$i]}")
done
for i in "${!paths[@]}"; do
  r=${results[$i]}
  get() { sed -E "s/.* $1=([0-9.]+).*/\\1/" <<<"$r"; }
  rps=$(get rps); p50=$(get p50_us); p90=$(get p90_us); p99=$(get p99_us)
  n=$(get requests); secs=$(get seconds)
  awk -v l="${labels[$i]}" -v p="${paths[$i]}" -v b="${sizes[$i]}" -v rps="$rps" -v p50="$p50" -v p90="$p90" -v p99="$p99" -v f="${floor:-0}" \
    -v cpu="${cpu[$i]}" -v oth="${others[$i]}" -v n="$n" -v secs="$secs" -v tck="$tck" \
    'BEGIN { ratio = (f > 0) ? sprintf("%.1f×", p99 / f) : "n/a";
             printf "| %-32s | %-28s | %8d | %9.0f | %8.2f | %8.2f | %8.2f | %11s | %11.3f ms | %11.2f |\n", l, p, b, rps, p50/1000, p90/1000, p99/1000, ratio,
               (n > 0) ? cpu * 1000 / tck / n : 0, oth / tck / secs }'
done
echo
echo "p50/p90/p99: wrk's latency on loopback (server time plus queueing behind $CONNS connections on $(nproc) shared cores)."
echo "server CPU/req: the server process's CPU time over the run divided by requests. other cores: CPU used meanwhile by everything but the server (wrk itself, and anything else running)."
echo
# The requirement: each of its pages under 50 ms at p99.
missed=0
for i in "${!paths[@]}"; do
  case ${labels[$i]} in
    "incident board" | "incident page" | "deadline board")
      p99=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"${results[$i]}")
      if ((p99 < 50000)); then verdict=meets; else verdict="MISSES"; missed=1; fi
      printf 'requirement (< 50 ms at p99): %-16s %8.2f ms  %s\n' "${labels[$i]}" "$(awk -v u="$p99" 'BEGIN{print u/1000}')" "$verdict"
      ;;
  esac
done
if [[ $failed == 0 && $missed != 0 && ${STRICT:-0} != 0 ]]; then
  exit 3
fi
exit $failed
