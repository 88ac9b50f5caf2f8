#!/usr/bin/env bash
# Runs the test suite (the test binaries of `cargo test --workspace`) under a
# memory checker.
#
#   scripts/memcheck.sh [valgrind | asan] [binary-name…]
#
#   valgrind (default)  every test binary under valgrind memcheck, one after
#                       the other: --leak-check=full, definite and indirect
#                       leaks are errors, scripts/valgrind.supp suppresses
#                       the documented false positives. The binaries and
#                       tests of the skip lists below are not run.
#   asan                the same test binaries built with
#                       -Zsanitizer=address (AddressSanitizer and
#                       LeakSanitizer) for x86_64-unknown-linux-gnu, run one
#                       after the other (all but ssh, soak and fault_netns);
#                       scripts/lsan.supp suppresses documented leaks. Only the
#                       Rust code is instrumented: the vendored C++ libzmq and
#                       libsodium are built by their own build scripts without
#                       the sanitizer, so their out-of-bounds accesses go
#                       unseen (their leaks do not: LeakSanitizer replaces
#                       malloc and operator new for the whole process).
#   binary-name…        only these test binaries (`lib` is the crate's unit
#                       tests, otherwise tests/<name>.rs)
#
# Environment:
#   CARGO_TARGET_DIR        build directory (default target/memcheck and
#                           target/asan, so the normal build is untouched)
#   MEMCHECK_TEST_THREADS   --test-threads for each binary (default 2:
#                           valgrind runs one thread at a time anyway, but
#                           tests that wait on the network overlap)
#   MEMCHECK_NO_BUILD=1     run the test binaries already built in
#                           CARGO_TARGET_DIR, without `cargo test --no-run`
#   MEMCHECK_TIMEOUT        seconds one binary may take under valgrind
#                           (default 1200; exit 124 when it runs out)
#   MEMCHECK_LOG_DIR        logs, one per binary (default
#                           target/memcheck-logs, target/asan-logs)
#   ZMQX_PYTHON             as for `cargo test` (the asan mode runs the
#                           interop tests with it)
#
# Not in CI (too slow: about half an hour for the valgrind mode on two
# cores); see the "Memory checks" section of fuzz/README.md. Exits non-zero
# when a binary fails a test or valgrind/ASan reports an error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=valgrind
case "${1:-}" in
valgrind | asan)
    mode=$1
    shift
    ;;
esac
only=("$@")

# Test binaries valgrind does not run, and why. Their children (a Python
# interpreter, sshd/ssh) would run outside valgrind anyway, and valgrind
# makes their handshakes slower than the tests' timeouts.
skip_binaries=(
    interop_async # spawns pyzmq/txZMQ peers
    interop_auth  # spawns pyzmq peers
    interop_core  # spawns pyzmq peers
    interop_log   # spawns pyzmq peers
    interop_txzmq # spawns txZMQ peers
    ssh           # spawns ssh/sshd
    soak          # long-running by design (scripts/soak*)
    fault_netns   # needs network namespaces (root, ip netns)
)
# Single tests valgrind does not run (binary:test-name-filter), and why.
# Most bound a duration, which valgrind's 20-50x slowdown (one thread at a
# time) breaks: an explicit upper bound, or a shutdown grace period that
# nearly fills the tests' 10 s step timeout.
skip_tests=(
    serialize:interop_with_pyzmq                     # spawns a pyzmq peer
    log:a_full_subscriber_makes_records_drop_without_blocking # took < N s
    log:no_subscriber_is_not_a_drop                  # elapsed < 5 s
    txzmq:shutdown_does_not_wait_for_an_idle_runtime # grace period vs 10 s
    async_stream:sink_to_stream_through_a_small_hwm  # 10 s per step at HWM
    # libzmq bug, not ours: with a monitor attached, a failed zmq_bind can
    # return EAGAIN instead of EADDRINUSE (the bind-failed event's send on
    # the monitor socket overwrites errno when the monitor pipe is not
    # attached yet). Valgrind's timing makes it happen every time.
    monitor:bind_failed_and_connect_retried
)

in_list() {
    local needle=$1
    shift
    local x
    for x in "$@"; do
        [ "$x" = "$needle" ] && return 0
    done
    return 1
}

# The test executables of the workspace, as `name<TAB>path` lines.
test_binaries() {
    cargo test --workspace --no-run --message-format=json "$@" 2>/dev/null |
        python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if not m.get("profile", {}).get("test"):
        continue
    t = m["target"]
    # The zmqx unit tests are "lib"; other targets keep their names.
    name = "lib" if t["name"] == "zmqx" and "lib" in t["kind"] else t["name"]
    print(name + "\t" + m["executable"])
'
}

# MEMCHECK_NO_BUILD=1: the test executables already in the target directory
# (every libtest harness in debug/deps), for when the tree does not build
# right now; a name built twice keeps its hash (zmqx-1a2b… for the lib and
# the bin). Only meaningful in a target directory with one build in it.
built_binaries() {
    local exe stem
    local -A count=()
    local found=()
    for exe in "$CARGO_TARGET_DIR"/debug/deps/*; do
        case "${exe##*/}" in *.*) continue ;; esac
        if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then continue; fi
        grep -qF -- '--test-threads' "$exe" || continue
        found+=("$exe")
        stem=${exe##*/}
        stem=${stem%-*}
        count[$stem]=$((${count[$stem]:-0} + 1))
    done
    for exe in "${found[@]}"; do
        stem=${exe##*/}
        stem=${stem%-*}
        if [ "${count[$stem]}" = 1 ]; then
            printf '%s\t%s\n' "$stem" "$exe"
        else
            printf '%s\t%s\n' "${exe##*/}" "$exe"
        fi
    done
}

if [ "$mode" = valgrind ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/memcheck}
    log_dir=${MEMCHECK_LOG_DIR:-$root/target/memcheck-logs}
    threads=${MEMCHECK_TEST_THREADS:-2}
    binary_timeout=${MEMCHECK_TIMEOUT:-1200}
    # Without ZMQX_PYTHON (and CI), the tests that need a Python peer in the
    # binaries that are run skip themselves.
    unset ZMQX_PYTHON CI
    # Symbolising a panic's backtrace under valgrind takes seconds to
    # minutes; the tests that panic on purpose would time out.
    export RUST_BACKTRACE=0
    mkdir -p "$log_dir"
    if [ "${MEMCHECK_NO_BUILD:-}" = 1 ]; then
        mapfile -t binaries < <(built_binaries)
    else
        echo "==> building the test binaries in $CARGO_TARGET_DIR"
        cargo test --workspace --no-run
        mapfile -t binaries < <(test_binaries)
    fi
    summary=()
    failed=0
    for entry in "${binaries[@]}"; do
        name=${entry%%$'\t'*}
        exe=${entry#*$'\t'}
        if [ ${#only[@]} -gt 0 ] && ! in_list "$name" "${only[@]}"; then
            continue
        fi
        if in_list "$name" "${skip_binaries[@]}"; then
            summary+=("$(printf '%-22s skipped (skip list)' "$name")")
            continue
        fi
        skips=()
        for s in "${skip_tests[@]}"; do
            if [ "${s%%:*}" = "$name" ] && [ -n "${s#*:}" ]; then
                skips+=(--skip "${s#*:}")
            fi
        done
        log=$log_dir/$name.log
        echo "==> $name ($exe)"
        started=$SECONDS
        rc=0
        # Each test binary runs from its package directory, as under cargo test.
        pkg_dir=$root
        case "$exe" in */bench-* | */runner-*) pkg_dir=$root/bench ;; esac
        case "$name" in zmq_sys* | zmq-sys*) pkg_dir=$root/zmq-sys ;; esac
        (cd "$pkg_dir" && timeout --kill-after=10 "$binary_timeout" valgrind --tool=memcheck --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=97 --suppressions="$root/scripts/valgrind.supp" \
            --gen-suppressions=all --num-callers=40 --log-file="$log" \
            "$exe" --test-threads="$threads" "${skips[@]}" >"$log.out" 2>&1) || rc=$?
        tests=$(grep -o '^test result: [a-zA-Z]*\. [0-9]* passed; [0-9]* failed; [0-9]* ignored' \
            "$log.out" | tail -n 1 || true)
        errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
        definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
        indirect=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
        invalid=$(grep -c 'Invalid \(read\|write\|free\)' "$log" || true)
        result=ok
        if [ "$rc" != 0 ]; then
            result="FAILED (exit $rc)"
            failed=1
        fi
        summary+=("$(printf '%-22s %5ss  %-50s errors %s, definitely lost %s B, indirectly lost %s B, invalid r/w/free %s  %s' \
            "$name" $((SECONDS - started)) "${tests#test result: }" "${errors:-?}" \
            "${definite:-0}" "${indirect:-0}" "$invalid" "$result")")
        echo "${summary[-1]}"
    done
    echo
    echo "==> valgrind memcheck summary (logs in $log_dir)"
    printf '%s\n' "${summary[@]}"
    exit "$failed"
fi

# asan
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/asan}
triple=x86_64-unknown-linux-gnu
if [ "$(uname -m)-$(uname -s)" != "x86_64-Linux" ]; then
    echo "the asan mode is written for $triple" >&2
    exit 2
fi
# -Zsanitizer is unstable: a stable rustc accepts it with RUSTC_BOOTSTRAP=1.
# --target keeps RUSTFLAGS away from build scripts and proc macros (they
# run on the host without the ASan runtime). Doctests are left out (rustdoc
# would need the sanitizer runtime in each doctest).
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="${RUSTFLAGS:-} -Zsanitizer=address"
# A leak or an invalid access fails the binary (exit 98); the report is in
# its log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=98}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=1}
log_dir=${MEMCHECK_LOG_DIR:-$root/target/asan-logs}
threads=${MEMCHECK_TEST_THREADS:-2}
mkdir -p "$log_dir"
echo "==> building the test binaries with AddressSanitizer in $CARGO_TARGET_DIR"
cargo test --target "$triple" --workspace --lib --bins --tests --no-run
mapfile -t binaries < <(test_binaries --target "$triple" --lib --bins --tests)
summary=()
failed=0
for entry in "${binaries[@]}"; do
    name=${entry%%$'\t'*}
    exe=${entry#*$'\t'}
    if [ ${#only[@]} -gt 0 ] && ! in_list "$name" "${only[@]}"; then
        continue
    fi
    # The Python interop tests run (natively fast enough); ssh, soak and
    # fault_netns are skipped as under valgrind.
    case "$name" in ssh | soak | fault_netns)
        summary+=("$(printf '%-22s skipped' "$name")")
        continue
        ;;
    esac
    log=$log_dir/$name.log
    pkg_dir=$root
    case "$exe" in */bench-* | */runner-*) pkg_dir=$root/bench ;; esac
    case "$name" in zmq_sys* | zmq-sys*) pkg_dir=$root/zmq-sys ;; esac
    started=$SECONDS
    rc=0
    (cd "$pkg_dir" && "$exe" --test-threads="$threads" >"$log" 2>&1) || rc=$?
    tests=$(grep -o '^test result: [a-zA-Z]*\. [0-9]* passed; [0-9]* failed; [0-9]* ignored' \
        "$log" | tail -n 1 || true)
    reports=$(grep -c 'ERROR: \(AddressSanitizer\|LeakSanitizer\)' "$log" || true)
    result=ok
    if [ "$rc" != 0 ]; then
        result="FAILED (exit $rc)"
        failed=1
    fi
    summary+=("$(printf '%-22s %5ss  %-50s sanitizer reports %s  %s' \
        "$name" $((SECONDS - started)) "${tests#test result: }" "$reports" "$result")")
    echo "${summary[-1]}"
done
echo
echo "==> AddressSanitizer summary (logs in $log_dir)"
printf '%s\n' "${summary[@]}"
exit "$failed"
