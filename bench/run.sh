#!/usr/bin/env bash
# Builds the perf tools in release mode and runs bench-runner: C, zmqx and
# zmqx async interleaved, 5 rounds, 1 B to 1 MiB over inproc and tcp on
# 127.0.0.1, printed as a markdown table of medians (a few minutes).
#
#   bench/run.sh                         # the README table
#   bench/run.sh --rounds 9 --sizes 1,64 --transports tcp --impls c,zmqx
#   bench/run.sh --scale 0.2             # shorter runs (fewer messages)
#   bench/run.sh --raw                   # also print every sample (stderr)
#   bench/run.sh --no-pin                # tcp processes placed by the scheduler
#
# With two CPUs or more, a tcp run's two processes are pinned to two
# different CPUs (BENCH_CPU; see bench/src/bin/bench-runner.rs for why).
#
# Run it on a quiet machine: every other process competes for the cores.
# When allowed (root, or a raised RLIMIT_NICE), the runner and the tools run
# at nice -20, so that ordinary jobs (a compiler) take little CPU from them;
# BENCH_NICE=0 turns that off.
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --release -p zmqx-bench >&2
target=${CARGO_TARGET_DIR:-target}

model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')
echo "Machine: ${model:-unknown CPU}, $(nproc) cores, $(uname -sr);" \
    "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo
nice_level=${BENCH_NICE:--20}
if [[ "$nice_level" != 0 ]] && nice -n "$nice_level" true 2>/dev/null; then
    echo "(the runner and the tools ran at nice $nice_level)"
    echo
    exec nice -n "$nice_level" "$target/release/bench-runner" "$@"
fi
exec "$target/release/bench-runner" "$@"
