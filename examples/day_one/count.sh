#!/bin/sh
# Line counts of the day-one programs: each zmqx program against its pyzmq
# twin. A line counts when it is not blank and not only a comment (`//`,
# `//!`, `///` in Rust; `#` in Python), in both languages alike; the Rust
# is counted as `cargo fmt` lays it out.
#
#   sh examples/day_one/count.sh             # the table
#   sh examples/day_one/count.sh --markdown  # the same, as Markdown
#   sh examples/day_one/count.sh --detail    # plus the Rust lines that only
#                                            # close a block (`}`, `});`, `})?;`)
set -eu
cd "$(dirname "$0")"

count() { # count FILE COMMENT-PREFIX
    awk -v prefix="$2" '{ sub(/^[ \t]+/, "") } $0 != "" && index($0, prefix) != 1 { n++ } END { print n + 0 }' "$1"
}
closers() { # closers FILE: lines made only of closing brackets and ; ? ,
    awk '/^[ \t]*[]})][]});?,]*[ \t]*$/ { n++ } END { print n + 0 }' "$1"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

mode=${1:-}
case $mode in
--markdown)
    echo "| program | zmqx lines | pyzmq lines | ratio |"
    echo "|---|---:|---:|---:|"
    ;;
--detail)
    printf '%-14s %6s %6s %6s %9s %11s\n' program zmqx pyzmq ratio closers "ratio w/o"
    ;;
*)
    printf '%-14s %6s %6s %6s\n' program zmqx pyzmq ratio
    ;;
esac
sum_rs=0 sum_py=0 sum_cl=0
row() { # row NAME RS PY CLOSERS
    case $mode in
    --markdown) printf '| %s | %d | %d | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" ;;
    --detail) printf '%-14s %6d %6d %6s %9d %11s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4" "$(ratio "$(($2 - $4))" "$3")" ;;
    *) printf '%-14s %6d %6d %6s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" ;;
    esac
}
for rs in [0-9][0-9]_*.rs; do
    name=${rs%.rs}
    n_rs=$(count "$rs" //)
    n_py=$(count "py/$name.py" '#')
    n_cl=$(closers "$rs")
    sum_rs=$((sum_rs + n_rs)) sum_py=$((sum_py + n_py)) sum_cl=$((sum_cl + n_cl))
    row "$name" "$n_rs" "$n_py" "$n_cl"
done
row total "$sum_rs" "$sum_py" "$sum_cl"
