#!/usr/bin/env bash
# Regenerate zmq-sys's committed bindings (src/bindings/{stable,draft}.rs) with
# bindgen from the vendored libzmq 4.3.5 headers. Needs libclang
# (Debian: apt-get install libclang-dev).
#
#   scripts/regen-bindings.sh          rewrite the committed files
#   scripts/regen-bindings.sh --check  fail if they differ from bindgen's output
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# A target dir of its own so the bindgen feature does not invalidate the main build.
ZMQ_SYS_BINDINGS_OUT="$out" CARGO_TARGET_DIR=target/bindgen \
    cargo build --quiet -p zmq-sys --features vendored,bindgen

status=0
for f in stable.rs draft.rs; do
    if [ "${1:-}" = "--check" ]; then
        if ! diff -u "zmq-sys/src/bindings/$f" "$out/$f"; then
            echo "zmq-sys/src/bindings/$f is out of date: run scripts/regen-bindings.sh" >&2
            status=1
        fi
    else
        cp "$out/$f" "zmq-sys/src/bindings/$f"
    fi
done
[ "${1:-}" = "--check" ] && [ $status = 0 ] && echo "committed bindings match bindgen's output"
exit $status
