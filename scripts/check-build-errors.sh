#!/usr/bin/env bash
# zmq-sys's build script names the real problem when LIBZMQ_PREFIX is wrong,
# and LIBZMQ_PREFIX=/usr finds a Debian/Ubuntu libzmq in /usr/lib/<multiarch>.
#
#   scripts/check-build-errors.sh
#
# Needs a libzmq installed under /usr (Debian: apt-get install libzmq3-dev).
# Builds zmq-sys with the `vendored` feature on, as CI step g does, in the
# same target directory (target/novendor), so the explicit location must win
# over the feature and the failure text must not suggest enabling it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/novendor}"
unset LIBZMQ_PREFIX LIBZMQ_LIB_DIR LIBZMQ_INCLUDE_DIR LIBZMQ_STATIC LIBZMQ_NO_VENDOR

locked=()
if [ -f Cargo.lock ]; then
    locked=(--locked)
fi

die() {
    echo "error: $*" >&2
    exit 1
}

# The Debian multiarch directory the build script derives from the target.
multiarch=$(gcc -print-multiarch 2>/dev/null || true)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Builds zmq-sys with the given environment; must fail. Prints its output.
must_fail() {
    local out
    if out=$(env "$@" cargo build "${locked[@]}" --quiet -p zmq-sys --features vendored 2>&1); then
        printf '%s\n' "$out" >&2
        die "zmq-sys built with $*: it must fail"
    fi
    printf '%s\n' "$out"
}

# Asserts that $1 (the output) contains each of the other arguments.
expect() {
    local out=$1 missing=0
    shift
    for line in "$@"; do
        if ! grep -qF -- "$line" <<<"$out"; then
            echo "missing from the failure text: $line" >&2
            missing=1
        fi
    done
    if [ "$missing" = 1 ]; then
        printf '%s\n' "$out" >&2
        die "the failure text does not name the problem"
    fi
}

# Asserts that $1 (the output) contains none of the other arguments.
refuse() {
    local out=$1
    shift
    for line in "$@"; do
        if grep -qF -- "$line" <<<"$out"; then
            printf '%s\n' "$out" >&2
            die "the failure text must not say: $line"
        fi
    done
}

# 1. A prefix that does not exist.
bad=/nonexistent/zmqx-no-such-prefix
libs="$bad/lib, $bad/lib64"
if [ -n "$multiarch" ]; then
    libs="$libs, $bad/lib/$multiarch"
fi
out=$(must_fail LIBZMQ_PREFIX="$bad")
expect "$out" \
    "LIBZMQ_PREFIX=$bad: no such directory" \
    "LIBZMQ_PREFIX=$bad: no libzmq.so or libzmq.a in $libs" \
    "LIBZMQ_PREFIX=$bad: no zmq.h in $bad/include" \
    "feature is on, so zmq-sys then builds libzmq 4.3.5 from source"
refuse "$out" "enable the \`vendored\` feature" "zmq-sys could not find or build libzmq"
echo "ok: a missing LIBZMQ_PREFIX is called out with what was looked for where"

# 2. A prefix with a header but no library.
mkdir -p "$work/prefix/include" "$work/prefix/lib"
cp /usr/include/zmq.h "$work/prefix/include/" 2>/dev/null ||
    printf '#define ZMQ_VERSION_MAJOR 4\n#define ZMQ_VERSION_MINOR 3\n#define ZMQ_VERSION_PATCH 5\n' \
        >"$work/prefix/include/zmq.h"
out=$(must_fail LIBZMQ_PREFIX="$work/prefix")
expect "$out" "LIBZMQ_PREFIX=$work/prefix: no libzmq.so or libzmq.a in $work/prefix/lib, "
refuse "$out" "no zmq.h" "no such directory" "enable the \`vendored\` feature"
echo "ok: a prefix without the library says only that"

# 3. LIBZMQ_LIB_DIR alone.
out=$(must_fail LIBZMQ_LIB_DIR="$work/prefix/lib")
expect "$out" "LIBZMQ_LIB_DIR=$work/prefix/lib is set but LIBZMQ_INCLUDE_DIR is not"
echo "ok: LIBZMQ_LIB_DIR without LIBZMQ_INCLUDE_DIR is called out"

# 4. LIBZMQ_PREFIX=/usr links the system libzmq (Debian keeps it in
#    /usr/lib/<multiarch>): the declarations test links and runs against it.
[ -f /usr/include/zmq.h ] || die "no /usr/include/zmq.h: install libzmq3-dev"
LIBZMQ_PREFIX=/usr timeout --kill-after=10 600 \
    cargo test "${locked[@]}" --quiet -p zmq-sys --features vendored \
    --test declared --test draft_constants
# shellcheck disable=SC2012 # plain file names under target/, ls -t is fine
meta=$(ls -t "$CARGO_TARGET_DIR"/debug/build/zmq-sys-*/output 2>/dev/null | head -n 1)
[ -n "$meta" ] || die "no zmq-sys build script output under $CARGO_TARGET_DIR"
grep -qx 'cargo:source=prefix' "$meta" || die "$meta: LIBZMQ_PREFIX=/usr was not used"
if [ -n "$multiarch" ] && [ -d "/usr/lib/$multiarch" ] && [ ! -e /usr/lib/libzmq.so ]; then
    grep -qx "cargo:rustc-link-search=native=/usr/lib/$multiarch" "$meta" ||
        die "$meta: LIBZMQ_PREFIX=/usr did not find /usr/lib/$multiarch"
fi
echo "ok: LIBZMQ_PREFIX=/usr links $(grep '^cargo:version=' "$meta" | cut -d= -f2) from $(grep '^cargo:rustc-link-search=' "$meta" | cut -d= -f3)"
