#!/usr/bin/env bash
# Live tailing speed: `bulwark tail` following a file while N combined-format lines are
# appended to it (rotated by rename half-way), against plain `bulwark hunt` over the same
# lines (the baseline: reading, parsing and detection with nothing stored). Both run the
# built-in e-commerce rules pinned to one CPU (taskset -c $CPU; the tailer's store writer
# thread shares that CPU), with --json output to /dev/null; the appending and the status
# polling run on another CPU. Figures, never assertions:
#   hunt lines/s  (its own figure: from the rules loaded to the last line)
#   tail lines/s  (its own figure: from its first batch to the commit of its last one, with
#                  every batch's alerts and checkpoint committed, synchronous=FULL)
#   ratio tail / hunt
# and, since a shared machine's other work steals wall time, the same per CPU-second
# (user + system time from GNU time, so start-up and rule loading count there).
# Environment: N (2000000), REPEAT (3, best counts), CPU (0), WRITER_CPU (1),
# CARGO_TARGET_DIR, NO_BUILD=1 uses the binary as it is, KEEP=1 keeps the work dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-2000000}
REPEAT=${REPEAT:-3}
CPU=${CPU:-0}
WRITER_CPU=${WRITER_CPU:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BULWARK=$TARGET/release/bulwark

for tool in taskset python3 cargo pgrep; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "missing: /usr/bin/time (GNU time)" >&2; exit 2; }
[ "${NO_BUILD:-0}" = 1 ] || (cd "$ROOT" && cargo build --release -q -p bulwark-cli)
[ -x "$BULWARK" ] || { echo "no $BULWARK" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-tail-bench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# N combined-format lines: a shop's traffic with about 1% attacks (SQL injection, path
# traversal, XSS, scanners), one second apart, 5,000 client addresses.
python3 - "$N" "$WORK/gen.log" <<'PY'
import random, sys, time
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(7)
paths = ["/", "/products/%d", "/category/shoes?page=%d", "/cart", "/checkout", "/account",
         "/static/app.%d.js", "/api/cart/items/%d", "/search?q=boots+%d", "/images/p%d.webp"]
attacks = ["/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
           "/static/../../../../etc/passwd", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
           "/wp-login.php", "/.env", "/admin/config.php?cmd=cat%20/etc/shadow"]
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Version/17.1 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"]
t0 = 1790000000
with open(out, "w") as f:
    for i in range(n):
        ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(t0 + i))
        ip = "198.51.%d.%d" % (random.randrange(20), random.randrange(250))
        if random.random() < 0.01:
            path, status, ua = random.choice(attacks), random.choice([200, 403, 404]), "sqlmap/1.7"
            ip = "203.0.113.%d" % random.randrange(20)
        else:
            p = random.choice(paths)
            path, status, ua = (p % random.randrange(10000) if "%d" in p else p), 200, random.choice(uas)
        f.write('%s - - [%s] "GET %s HTTP/1.1" %d %d "https://shop.example/" "%s"\n'
                % (ip, ts, path, status, random.randrange(200, 90000), ua))
PY
SIZE=$(du -m "$WORK/gen.log" | cut -f1)
HALF=$((N / 2))
head -n "$HALF" "$WORK/gen.log" >"$WORK/half1.log"
tail -n +"$((HALF + 1))" "$WORK/gen.log" >"$WORK/half2.log"
export BULWARK_PASSPHRASE=bench-passphrase-not-secret

best() { sort -g | tail -n 1; }
cpu_rate() { python3 -c "import sys; u, s = open(sys.argv[1]).read().split()[-2:]; print(int($N / (float(u) + float(s))))" "$1"; }
hunt_rates=()
tail_rates=()
hunt_cpu=()
tail_cpu=()
for r in $(seq "$REPEAT"); do
    # Baseline: hunt over the whole file.
    /usr/bin/time -f "%U %S" -o "$WORK/hunt.time" taskset -c "$CPU" "$BULWARK" hunt \
        "$WORK/gen.log" --format combined --json >/dev/null 2>"$WORK/hunt.err" || true
    rate=$(grep -o '([0-9]* lines/s)' "$WORK/hunt.err" | tr -dc '0-9')
    hunt_rates+=("$rate")
    hunt_cpu+=("$(cpu_rate "$WORK/hunt.time")")

    # Tail: a fresh data directory, an empty file followed from its start while the
    # lines are appended, rotated by rename half-way.
    D="$WORK/data-$r"
    LIVE="$WORK/live-$r.log"
    "$BULWARK" init --data-dir "$D" --kdf-memory-mib 8 --kdf-iterations 1 --json >/dev/null
    : >"$LIVE"
    /usr/bin/time -f "%U %S" -o "$WORK/tail-$r.time" taskset -c "$CPU" "$BULWARK" tail "$LIVE" \
        --data-dir "$D" --format combined --from-start --json >/dev/null 2>"$WORK/tail-$r.err" &
    TIMER=$!
    until grep -q "reading" "$WORK/tail-$r.err" 2>/dev/null; do sleep 0.05; done
    TAILER=$(pgrep -P "$TIMER")
    taskset -c "$WRITER_CPU" sh -c "cat '$WORK/half1.log' >>'$LIVE'; mv '$LIVE' '$LIVE.1'; cat '$WORK/half2.log' >>'$LIVE'"
    while :; do
        done_lines=$(taskset -c "$WRITER_CPU" "$BULWARK" tail --status --json --data-dir "$D" \
            | python3 -c 'import json,sys; print(sum(json.loads(l)["lines_read"] for l in sys.stdin))')
        [ "$done_lines" -ge "$N" ] && break
        sleep 0.2
    done
    kill -TERM "$TAILER"
    wait "$TIMER"
    rate=$(grep -o '([0-9]* lines/s)' "$WORK/tail-$r.err" | tr -dc '0-9')
    tail_rates+=("$rate")
    tail_cpu+=("$(cpu_rate "$WORK/tail-$r.time")")
    grep -q "rotated" "$WORK/tail-$r.err" || echo "warning: run $r saw no rotation" >&2
    echo "run $r: hunt ${hunt_rates[-1]} lines/s (${hunt_cpu[-1]} per CPU-s), tail ${tail_rates[-1]} lines/s (${tail_cpu[-1]} per CPU-s)" >&2
done
HUNT=$(printf '%s\n' "${hunt_rates[@]}" | best)
TAIL=$(printf '%s\n' "${tail_rates[@]}" | best)
DETECTIONS=$(grep -o '[0-9]* detections' "$WORK/tail-1.err" | head -n 1)
echo
echo "lines: $N combined-format (${SIZE} MiB), rotated once; $DETECTIONS per run; CPU $CPU; best of $REPEAT"
HUNT_CPU=$(printf '%s\n' "${hunt_cpu[@]}" | best)
TAIL_CPU=$(printf '%s\n' "${tail_cpu[@]}" | best)
printf '%-38s %12s lines/s %12s lines/CPU-s\n' "bulwark hunt (baseline)" "$HUNT" "$HUNT_CPU"
printf '%-38s %12s lines/s %12s lines/CPU-s\n' "bulwark tail (alerts + checkpoint)" "$TAIL" "$TAIL_CPU"
python3 -c "print('%-38s %12.2f %20.2f' % ('ratio tail / hunt', $TAIL / $HUNT, $TAIL_CPU / $HUNT_CPU))"
