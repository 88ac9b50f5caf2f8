#!/usr/bin/env bash
# Instructions per message of the C and zmqx `inproc_thr` (1-byte messages by
# default), counted by valgrind's callgrind, and their ratio.
#
#   bench/callgrind.sh                  # C, zmqx and async, 1 B
#   SIZE=64 IMPLS="c zmqx" bench/callgrind.sh
#   TOOL=inproc_lat SMALL=2000 LARGE=22000 bench/callgrind.sh   # per roundtrip
#   TOOL=many_sockets PAIRS=1000 SMALL=20 LARGE=120 IMPLS="zmqx async tasks" \
#       bench/callgrind.sh   # 1,000 pairs on one thread, per message
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
# Variables: TOOL (inproc_thr, inproc_lat: then per roundtrip, or
# many_sockets: SMALL and LARGE are rounds of PAIRS messages), PAIRS (1), SIZE (1),
# SMALL (20000), LARGE (220000), REPEAT (3), IMPLS ("c zmqx async"),
# CARGO_TARGET_DIR (target), BEFORE (a directory holding the tool binaries of
# an older build: its async and zmqx run too, as "async@before" and
# "zmqx@before", in the same run).
#
# The table gives each implementation's ratio to C and to zmqx's blocking API
# (async / sync is the figure issue 21 tracks).
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

PAIRS=${PAIRS:-1}
case "$TOOL" in
inproc_thr | inproc_lat) pre=() ;;
many_sockets) pre=("$PAIRS") ;;
*) echo "TOOL must be inproc_thr, inproc_lat or many_sockets" >&2; exit 2 ;;
esac
cargo build --release -p zmqx-bench --bin "$TOOL" >&2
bin="$TARGET/release/$TOOL"
if [[ -n "${BEFORE:-}" ]]; then
    [[ -x "$BEFORE/$TOOL" ]] || { echo "BEFORE: no $BEFORE/$TOOL" >&2; exit 2; }
    IMPLS="$IMPLS zmqx@before async@before"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# total_ir IMPL COUNT: all instructions of one run.
total_ir() {
    local out="$tmp/callgrind.$1.$2" exe="$bin" impl="$1"
    if [[ "$impl" == *@before ]]; then
        exe="$BEFORE/$TOOL"
        impl=${impl%@before}
    fi
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$exe" --impl "$impl" "${pre[@]}" "$SIZE" "$2" >"$tmp/stdout" 2>"$tmp/stderr" || {
        cat "$tmp/stdout" "$tmp/stderr" >&2
        return 1
    }
    # The output file ends with "totals: <Ir>" (older valgrinds: "summary:").
    awk '/^(totals|summary):/ { print $2; exit }' "$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Messages (or roundtrips) between the SMALL and the LARGE run.
units=$((LARGE - SMALL))
[[ "$TOOL" == many_sockets ]] && units=$((units * PAIRS))
declare -A per_msg
for impl in $IMPLS; do
    samples=()
    for _ in $(seq "$REPEAT"); do
        small=$(total_ir "$impl" "$SMALL")
        large=$(total_ir "$impl" "$LARGE")
        samples+=("$(awk -v a="$small" -v b="$large" -v n=$units 'BEGIN { printf "%.1f", (b - a) / n }')")
    done
    per_msg[$impl]=$(printf '%s\n' "${samples[@]}" | median)
    echo "$impl: ${samples[*]} instructions each (median ${per_msg[$impl]})" >&2
done

echo
unit=message
[[ "$TOOL" == inproc_lat ]] && unit=roundtrip
what="$TOOL"
[[ "$TOOL" == many_sockets ]] && what="many_sockets, $PAIRS pairs"
echo "$what, $SIZE B, ($units ${unit}s), callgrind Ir per $unit, median of $REPEAT:"
echo
echo "| implementation | instructions/$unit | ratio to C | ratio to zmqx (sync) |"
echo "|---|---:|---:|---:|"
# ratio A B: A / B with three decimals, "–" when B was not measured.
ratio() {
    if [[ -n "${2:-}" ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
    else
        echo "–"
    fi
}
for impl in $IMPLS; do
    echo "| $impl | ${per_msg[$impl]} | $(ratio "${per_msg[$impl]}" "${per_msg[c]:-}") |" \
        "$(ratio "${per_msg[$impl]}" "${per_msg[zmqx]:-}") |"
done
if [[ -n "${per_msg[async]:-}" && -n "${per_msg[zmqx]:-}" ]]; then
    echo
    echo "async / sync: $(ratio "${per_msg[async]}" "${per_msg[zmqx]}")"
fi
