#!/usr/bin/env bash
# Detection speed of `bulwark hunt` against rsigma 0.23.0, in one run, same machine, same file:
#   (a) bulwark --parse-only            (reading + parsing every field, no rules: the ceiling)
#   (b) bulwark, rules/ecommerce        (c) rsigma, rules/ecommerce
#   (d) bulwark, all SigmaHQ rules      (e) rsigma, all SigmaHQ rules
# Single-threaded: both pinned to one CPU with taskset (rsigma's `engine eval` evaluates line
# by line; RAYON_NUM_THREADS=1 as well). Wall time and peak RSS from /usr/bin/time; each
# configuration runs REPEAT times, interleaved, and the best wall time counts. "eval ev/s"
# subtracts the start-up (rule loading) measured on a one-event file; "e2e ev/s" does not.
# Both tools see the events with an unknown log source (every rule applies: no --logsource,
# no --logsource-routing) and the same field mapping (bulwark's built-in Sigma -> ECS web and
# proxy names, handed to rsigma as a processing pipeline); rsigma drops detections of rules
# that only feed correlations (--no-detections), as bulwark does. After a correlation fires,
# rsigma starts its group afresh (--action reset: N events over a threshold T give about N/T
# alerts, each claiming T), while bulwark keeps counting and suppresses re-alerts until one
# timespan after the fired window (one alert per window, with the window's real count, upper
# bounds enforced); so per-correlation counts are expected to differ, and the comparison lists
# them apart without failing on them. Per-rule detection counts of the two tools are compared.
#
# Environment: EVENTS (JSON-lines file; generated with bench/gen_store_events.py if missing),
# N (events to generate, 1000000), REPEAT (3), CPU (0), SIGMAHQ (rule tree),
# RSIGMA (binary; default: installed into RSIGMA_ROOT, a cache dir), CARGO_TARGET_DIR,
# KEEP=1 keeps the outputs in the work dir, NO_BUILD=1 uses the bulwark binary as it is.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$ROOT/bench/detect-vs-rsigma.py"
N=${N:-1000000}
REPEAT=${REPEAT:-3}
CPU=${CPU:-0}
EVENTS=${EVENTS:-${TMPDIR:-/tmp}/bulwark-bench/store-events-$N.jsonl}
SIGMAHQ=${SIGMAHQ:-$ROOT/../shared/reference/sigma/sigmahq-rules}
ECOMMERCE=$ROOT/rules/ecommerce
RSIGMA_ROOT=${RSIGMA_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/bulwark-bench/rsigma-0.23.0}
RSIGMA=${RSIGMA:-$RSIGMA_ROOT/bin/rsigma}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BULWARK=$TARGET/release/bulwark

for tool in taskset python3 cargo; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "missing: /usr/bin/time (GNU time)" >&2; exit 2; }
[ -d "$SIGMAHQ" ] || { echo "SigmaHQ rules not found at $SIGMAHQ (set SIGMAHQ)" >&2; exit 2; }

if [ ! -x "$RSIGMA" ]; then
    echo "installing rsigma 0.23.0 into $RSIGMA_ROOT" >&2
    cargo install rsigma --version 0.23.0 --locked --root "$RSIGMA_ROOT" >&2
    RSIGMA=$RSIGMA_ROOT/bin/rsigma
fi
if [ ! -s "$EVENTS" ]; then
    mkdir -p "$(dirname "$EVENTS")"
    python3 "$ROOT/bench/gen_store_events.py" "$N" "$EVENTS"
fi
[ "${NO_BUILD:-0}" = 1 ] || (cd "$ROOT" && cargo build --release -q -p bulwark-cli)
[ -x "$BULWARK" ] || { echo "no $BULWARK" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/detect-vs-rsigma.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
LINES=$(wc -l <"$EVENTS")
head -n 1 "$EVENTS" >"$WORK/one.jsonl"
python3 "$HELPER" pipeline >"$WORK/pipeline.yml"
PIN=(env RAYON_NUM_THREADS=1 taskset -c "$CPU")

# rsigma gets a copy of each rule tree (correlation references by name rewritten to ids, see
# the helper) without the rule files it cannot compile (it refuses a whole directory for one),
# which are recorded with its reason.
rsigma_rules() { # DIR NAME -> prints the directory rsigma gets
    local dir=$WORK/$1.rules f err
    python3 "$HELPER" rsigma-rules "$2" "$dir"
    : >"$WORK/$1.excluded"
    if ! "$RSIGMA" engine eval -r "$dir" -p "$WORK/pipeline.yml" -e "@$WORK/one.jsonl" \
        >/dev/null 2>&1; then
        mkdir -p "$WORK/$1.rejected"
        for f in "$dir"/*; do
            "$RSIGMA" engine eval -r "$f" -p "$WORK/pipeline.yml" -e "@$WORK/one.jsonl" \
                >/dev/null 2>"$WORK/err" && continue
            err=$(grep -v '^Loaded\|^Processed' "$WORK/err" | tr '\n' ' ')
            mv "$f" "$WORK/$1.rejected/"
            printf '%s\t%s\n' "$WORK/$1.rejected/${f##*/}" "$err" >>"$WORK/$1.excluded"
        done
    fi
    echo "$dir"
}
RS_ECOM=$(rsigma_rules ecom "$ECOMMERCE")
RS_HQ=$(rsigma_rules hq "$SIGMAHQ")

# Command lines per configuration (EV is replaced by the events file).
declare -A CMD
CMD[a]="$BULWARK hunt EV --json --parse-only --rules $ECOMMERCE"
CMD[b]="$BULWARK hunt EV --json --rules $ECOMMERCE"
CMD[c]="$RSIGMA engine eval -r $RS_ECOM -p $WORK/pipeline.yml --no-detections --action reset -e @EV"
CMD[d]="$BULWARK hunt EV --json --rules $SIGMAHQ"
CMD[e]="$RSIGMA engine eval -r $RS_HQ -p $WORK/pipeline.yml --no-detections --action reset -e @EV"
declare -A LABEL=([a]="bulwark parse-only" [b]="bulwark ecommerce" [c]="rsigma  ecommerce"
    [d]="bulwark SigmaHQ" [e]="rsigma  SigmaHQ")
KEYS=(a b c d e)

run() { # KEY EVENTS OUT -> "wall_s peak_kib" in $WORK/time
    local cmd=${CMD[$1]//EV/$2}
    # Exit status 1 means "found something" for both tools.
    /usr/bin/time -f '%e %M' -o "$WORK/time" "${PIN[@]}" $cmd >"$3" 2>"$3.err" || {
        local rc=$?
        [ "$rc" -le 1 ] || { echo "$1 failed ($rc): $cmd" >&2; tail -3 "$3.err" >&2; exit 2; }
    }
}

declare -A START BEST ALL RSS
for k in "${KEYS[@]}"; do
    run "$k" "$WORK/one.jsonl" "$WORK/$k.startup"
    read -r START[$k] _ < <(tail -n 1 "$WORK/time")
done
for ((i = 1; i <= REPEAT; i++)); do
    for k in "${KEYS[@]}"; do
        run "$k" "$EVENTS" "$WORK/$k.out"
        read -r wall rss < <(tail -n 1 "$WORK/time")
        ALL[$k]="${ALL[$k]:-}${ALL[$k]:+ }$wall"
        if [ -z "${BEST[$k]:-}" ] || awk "BEGIN{exit !($wall < ${BEST[$k]})}"; then BEST[$k]=$wall; fi
        if [ -z "${RSS[$k]:-}" ] || [ "$rss" -gt "${RSS[$k]}" ]; then RSS[$k]=$rss; fi
    done
done

echo "detect-vs-rsigma: $LINES events ($EVENTS), CPU $CPU, best of $REPEAT, $(date -u +%FT%TZ)"
echo "  rules: bulwark $(grep -h 'rules loaded' "$WORK/b.out.err") ecommerce," \
    "$(grep -h 'rules loaded' "$WORK/d.out.err") SigmaHQ;" \
    "rsigma $(grep -ho 'Loaded [0-9]* [a-z ]*rules' "$WORK/c.out.err") / $(grep -ho 'Loaded [0-9]* [a-z ]*rules' "$WORK/e.out.err")"
printf '  %-20s %9s %9s %11s %11s %9s  %s\n' config wall_s start_s "e2e ev/s" "eval ev/s" peak_MiB "runs (s)"
for k in "${KEYS[@]}"; do
    awk -v l="${LABEL[$k]}" -v k="$k" -v w="${BEST[$k]}" -v s="${START[$k]}" -v n="$LINES" \
        -v m="${RSS[$k]}" -v all="${ALL[$k]}" 'BEGIN {
        if (w <= 0) w = 0.005; e = w - s; if (e <= 0) e = 0.005
        printf "  (%s) %-16s %9.2f %9.2f %11.0f %11.0f %9.1f  %s\n", k, l, w, s, n / w, n / e, m / 1024, all }'
done
ratio() { awk -v a="${BEST[$1]}" -v b="${BEST[$2]}" -v sa="${START[$1]}" -v sb="${START[$2]}" \
    'BEGIN { d = a - sa; if (a <= 0) a = 0.005; if (d <= 0) d = 0.005
             printf "%.2fx e2e, %.2fx eval", b / a, (b - sb) / d }'; }
echo "  speed-up over rsigma: ecommerce $(ratio b c); SigmaHQ $(ratio d e)"
echo "  per-rule detections:"
status=0
python3 "$HELPER" compare ecommerce "$WORK/b.out" "$WORK/c.out" "$WORK/ecom.excluded" "$ECOMMERCE" || status=1
python3 "$HELPER" compare SigmaHQ "$WORK/d.out" "$WORK/e.out" "$WORK/hq.excluded" "$SIGMAHQ" || status=1
[ "${KEEP:-0}" = 1 ] && echo "  outputs kept in $WORK"
exit $status
