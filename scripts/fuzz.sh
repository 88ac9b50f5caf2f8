#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (the zmqx parsers of foreign bytes)
# one after the other, and prints a summary: executions, time, exec/s,
# coverage and crashes per target.
#
#   scripts/fuzz.sh [--smoke | --runs N | --time SECS] [target…]
#
#   (no option)   10 million executions per target (FUZZ_RUNS overrides)
#   --runs N      N executions per target
#   --time SECS   SECS seconds per target
#   --smoke       every seed of fuzz/corpus/<target>, then a few seconds of
#                 fuzzing per target (FUZZ_SMOKE_SECS, default 4): for CI
#   target…       only these targets (default: all, see `cargo fuzz list`)
#
# Environment:
#   CARGO_TARGET_DIR   where to build (default fuzz/target)
#   FUZZ_TOOLCHAIN     a rustup toolchain to use (`nightly`); by default the
#                      active toolchain with RUSTC_BOOTSTRAP=1, so a stable
#                      Rust is enough
#   FUZZ_SANITIZER     address (default), leak, memory, thread or none
#   FUZZ_WORK_DIR      the growing working corpora (default fuzz/work); the
#                      committed seeds in fuzz/corpus are only read
#   FUZZ_LOG_DIR       one log per target (default fuzz/logs)
#   FUZZ_NICE          run the fuzzers under `nice -n FUZZ_NICE` (default 0)
#   FUZZ_ARGS          extra libFuzzer flags (for example `-max_len=65536`)
#   LIBZMQ_NO_VENDOR=1 link the system libzmq (pkg-config) instead of
#                      building the vendored one: a much shorter first build
#
# Crashes are written to fuzz/artifacts/<target>/; replay one with
# `cargo fuzz run <target> fuzz/artifacts/<target>/crash-…` (see
# fuzz/README.md). cargo-fuzz is installed with `cargo install --locked`
# when missing. Exits non-zero if any target crashed or failed to run.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD

# Directories given relative to where the script was started from.
absolute() {
    case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$caller/$1" ;;
    esac
}

mode=runs
runs=${FUZZ_RUNS:-10000000}
secs=
smoke_secs=${FUZZ_SMOKE_SECS:-4}
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) mode=smoke ;;
    --runs)
        mode=runs
        runs=${2:?--runs needs a number}
        shift
        ;;
    --time)
        mode="time"
        secs=${2:?--time needs a number of seconds}
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "unknown option $1 (see --help)" >&2
        exit 2
        ;;
    *) targets+=("$1") ;;
    esac
    shift
done

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> cargo-fuzz is missing: cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked
fi

cargo=(cargo)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    cargo=(cargo "+$FUZZ_TOOLCHAIN")
else
    # cargo-fuzz needs -Zsanitizer and a few other unstable flags; a stable
    # compiler accepts them with RUSTC_BOOTSTRAP=1.
    export RUSTC_BOOTSTRAP=1
fi
target_dir=$(absolute "${CARGO_TARGET_DIR:-$root/fuzz/target}")
sanitizer=${FUZZ_SANITIZER:-address}
work_dir=$(absolute "${FUZZ_WORK_DIR:-$root/fuzz/work}")
log_dir=$(absolute "${FUZZ_LOG_DIR:-$root/fuzz/logs}")
nice_cmd=()
if [ "${FUZZ_NICE:-0}" != 0 ]; then
    nice_cmd=(nice -n "$FUZZ_NICE")
fi
fuzz_opts=(--fuzz-dir "$root/fuzz" --target-dir "$target_dir" --sanitizer "$sanitizer")
if [ "${LIBZMQ_NO_VENDOR:-}" = 1 ]; then
    # Also leaves out libsodium's source build (the `vendored` feature).
    fuzz_opts+=(--no-default-features)
fi

cd "$root/fuzz"
if [ ${#targets[@]} = 0 ]; then
    mapfile -t targets < <("${cargo[@]}" fuzz list --fuzz-dir "$root/fuzz")
fi

if [ -n "${CI:-}" ]; then
    # As the rest of CI: exactly the committed fuzz/Cargo.lock.
    "${cargo[@]}" fetch --locked --quiet
fi
echo "==> building ${#targets[@]} fuzz targets (sanitizer: $sanitizer, target dir: $target_dir)"
"${cargo[@]}" fuzz build "${fuzz_opts[@]}"

case "$mode" in
runs) limit=(-runs="$runs") ;;
time) limit=(-max_total_time="$secs") ;;
smoke) limit=(-max_total_time="$smoke_secs") ;;
esac

mkdir -p "$log_dir"
summary=()
failed=0
for target in "${targets[@]}"; do
    seeds=$root/fuzz/corpus/$target
    work=$work_dir/$target
    log=$log_dir/$target.log
    mkdir -p "$work" "$seeds" "$root/fuzz/artifacts/$target"
    echo "==> $target: ${limit[*]} (log: $log)"
    started=$SECONDS
    rc=0
    # One fuzzing process, no -jobs/-workers: that is already one job on
    # one core (with -jobs, libFuzzer forks workers that log to fuzz-N.log).
    # New inputs go to the working corpus (first directory); the seeds are
    # only read. cargo-fuzz sets -artifact_prefix to fuzz/artifacts/<target>/.
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    "${nice_cmd[@]}" "${cargo[@]}" fuzz run "${fuzz_opts[@]}" "$target" "$work" "$seeds" -- \
        "${limit[@]}" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1 || rc=$?
    elapsed=$((SECONDS - started))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -n 1 || true)
    if [ "$rc" = 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc)"
        failed=1
        grep -E 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^SUMMARY|Test unit written' \
            "$log" | head -n 8 || tail -n 20 "$log"
    fi
    summary+=("$(printf '%-10s %12s execs %6ss %8s exec/s  %-28s %s' \
        "$target" "${execs:-?}" "$elapsed" "${rate:-?}" "${cov:-}" "$result")")
done

echo
echo "==> summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
