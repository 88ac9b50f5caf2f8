#!/usr/bin/env bash
# Instructions per message of the C and zmqx `inproc_thr` (1-byte messages by
# default), counted by valgrind's callgrind, and their ratio.
#
#   bench/callgrind.sh                  # C, zmqx and async, 1 B
#   SIZE=64 IMPLS="c zmqx" bench/callgrind.sh
#   TOOL=inproc_lat SMALL=2000 LARGE=22000 bench/callgrind.sh   # per roundtrip
#
# Method: callgrind counts every instruction the process executes, in all its
# threads (valgrind runs them one at a time). Each implementation runs twice,
# with SMALL and with LARGE messages; the difference of the two totals divided
# by LARGE - SMALL is the cost of one message (send + receive, both threads,
# libzmq included), with the setup and teardown (context, sockets, thread
# start, runtime) cancelled out. Thread interleaving under valgrind varies a
# little between runs (how often the receiver finds the pipe empty and has to
# sleep), so each pair is run REPEAT times and the median is reported.
#
# Variables: TOOL (inproc_thr, or inproc_lat: then per roundtrip), SIZE (1),
# SMALL (20000), LARGE (220000), REPEAT (3), IMPLS ("c zmqx async"),
# CARGO_TARGET_DIR (target).
set -euo pipefail

cd "$(dirname "$0")/.."
TOOL=${TOOL:-inproc_thr}
SIZE=${SIZE:-1}
SMALL=${SMALL:-20000}
LARGE=${LARGE:-220000}
REPEAT=${REPEAT:-3}
IMPLS=${IMPLS:-c zmqx async}
TARGET=${CARGO_TARGET_DIR:-target}

if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing; installing it (Debian: apt-get install -y valgrind)" >&2
    apt-get install -y valgrind >/dev/null
fi

case "$TOOL" in
inproc_thr | inproc_lat) ;;
*) echo "TOOL must be inproc_thr or inproc_lat" >&2; exit 2 ;;
esac
cargo build --release -p zmqx-bench --bin "$TOOL" >&2
bin="$TARGET/release/$TOOL"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# total_ir IMPL COUNT: all instructions of one run.
total_ir() {
    local out="$tmp/callgrind.$1.$2"
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --impl "$1" "$SIZE" "$2" >"$tmp/stdout" 2>"$tmp/stderr" || {
        cat "$tmp/stdout" "$tmp/stderr" >&2
        return 1
    }
    # The output file ends with "totals: <Ir>" (older valgrinds: "summary:").
    awk '/^(totals|summary):/ { print $2; exit }' "$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A per_msg
for impl in $IMPLS; do
    samples=()
    for _ in $(seq "$REPEAT"); do
        small=$(total_ir "$impl" "$SMALL")
        large=$(total_ir "$impl" "$LARGE")
        samples+=("$(awk -v a="$small" -v b="$large" -v n=$((LARGE - SMALL)) 'BEGIN { printf "%.1f", (b - a) / n }')")
    done
    per_msg[$impl]=$(printf '%s\n' "${samples[@]}" | median)
    echo "$impl: ${samples[*]} instructions each (median ${per_msg[$impl]})" >&2
done

echo
unit=message
[[ "$TOOL" == inproc_lat ]] && unit=roundtrip
echo "$TOOL, $SIZE B, ($LARGE - $SMALL ${unit}s), callgrind Ir per $unit, median of $REPEAT:"
echo
echo "| implementation | instructions/$unit | ratio to C |"
echo "|---|---:|---:|"
for impl in $IMPLS; do
    ratio="–"
    if [[ -n "${per_msg[c]:-}" ]]; then
        ratio=$(awk -v a="${per_msg[$impl]}" -v c="${per_msg[c]}" 'BEGIN { printf "%.3f", a / c }')
    fi
    echo "| $impl | ${per_msg[$impl]} | $ratio |"
done
