#!/bin/sh
# Line counts of the day-one programs: each zmqx program against its pyzmq
# twin. A line counts when it is not blank and not only a comment (`//`,
# `//!`, `///` in Rust; `#` in Python), in both languages alike.
#
#   sh examples/day_one/count.sh            # plain table
#   sh examples/day_one/count.sh --markdown # the table for the README
set -eu
cd "$(dirname "$0")"

count() { # count FILE COMMENT-PREFIX
    awk -v prefix="$2" '{ sub(/^[ \t]+/, "") } $0 != "" && index($0, prefix) != 1 { n++ } END { print n + 0 }' "$1"
}

if [ "${1:-}" = "--markdown" ]; then
    echo "| program | zmqx lines | pyzmq lines | ratio |"
    echo "|---|---:|---:|---:|"
    row='| %s | %d | %d | %s |\n'
else
    printf '%-14s %10s %11s %6s\n' program zmqx pyzmq ratio
    row='%-14s %10d %11d %6s\n'
fi
total_rs=0
total_py=0
for rs in [0-9][0-9]_*.rs; do
    name=${rs%.rs}
    n_rs=$(count "$rs" //)
    n_py=$(count "py/$name.py" '#')
    total_rs=$((total_rs + n_rs))
    total_py=$((total_py + n_py))
    printf "$row" "$name" "$n_rs" "$n_py" "$(awk "BEGIN { printf \"%.2f\", $n_rs / $n_py }")"
done
printf "$row" total "$total_rs" "$total_py" "$(awk "BEGIN { printf \"%.2f\", $total_rs / $total_py }")"
