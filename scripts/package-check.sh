#!/usr/bin/env bash
# Builds zmqx the way its users get it: from the packaged crates, never from
# this checkout.
#
#   scripts/package-check.sh [WORKDIR]
#
# 1. `cargo package` zmq-sys, zmqx and zmqx-cli (the .crate files a registry
#    would serve), then unpacks them into WORKDIR (default: a new temporary
#    directory outside the checkout, so no file of the checkout is reachable).
# 2. A fresh consumer crate depending on `zmqx = "0.1"` with the registry
#    patched to the unpacked packages:
#    a. default features (vendored libzmq + libsodium): runs a REQ/REP
#       exchange over CURVE and checks the vendored build's platform defines
#       are the same as the in-repo build's (target/debug, when built);
#    b. `default-features = false`: links the system libzmq through
#       pkg-config (Debian's libzmq3-dev must be installed) and runs the same
#       exchange;
# 3. `cargo install` of zmqx-cli from its package, then runs the binary.
#
# Any file a build needs that lies outside its package makes a step fail:
# the packages are built where the checkout cannot be seen.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/zmqx-packages.XXXXXX)}"
mkdir -p "$work"
case "$work" in
"$repo"/*) echo "error: WORKDIR must lie outside the checkout" >&2; exit 1 ;;
esac
echo "package check in $work"

cd "$repo"
# --no-verify: cargo's own verification would build from target/package,
# inside the checkout; the builds below are the verification, from outside.
cargo package --quiet --no-verify --allow-dirty -p zmq-sys -p zmqx -p zmqx-cli
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
pkgs="$work/packages"
rm -rf "$pkgs"
mkdir -p "$pkgs"
for crate in zmq-sys zmqx zmqx-cli; do
    tar -xzf "target/package/$crate-$version.crate" -C "$pkgs"
done
ls "$pkgs"

# The packages only: crates.io's zmqx and zmq-sys are replaced by them.
patch="[patch.crates-io]
zmqx = { path = \"$pkgs/zmqx-$version\" }
zmq-sys = { path = \"$pkgs/zmq-sys-$version\" }"

consumer() {
    local dir="$1" dep="$2"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$(basename "$dir")"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$dep

[workspace]

$patch
EOF
    cat >"$dir/src/main.rs" <<'EOF'
//! A day-one program against the packaged zmqx: REQ/REP over CURVE.
use std::time::Duration;

use zmqx::{Context, SocketType};

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;

    let rep = ctx.socket(SocketType::Rep)?;
    rep.set_curve_server(true)?;
    rep.set_curve_secretkey(server_keys.secret.as_bytes())?;
    rep.set_rcvtimeo(Some(Duration::from_secs(10)))?;
    rep.bind("tcp://127.0.0.1:*")?;

    let req = ctx.socket(SocketType::Req)?;
    req.set_curve_serverkey(server_keys.public.to_z85())?;
    req.set_curve_publickey(client_keys.public.as_bytes())?;
    req.set_curve_secretkey(client_keys.secret.as_bytes())?;
    req.set_rcvtimeo(Some(Duration::from_secs(10)))?;
    req.connect(&rep.last_endpoint()?)?;

    req.send("hello")?;
    let request = rep.recv_string()?;
    rep.send(format!("{request}, world"))?;
    let reply = req.recv_string()?;
    assert_eq!(reply, "hello, world");
    println!("packaged zmqx over CURVE: {reply} (libzmq {})", zmqx::version());
    Ok(())
}
EOF
}

export CARGO_TARGET_DIR="$work/target"

echo "==> consumer with default features (vendored libzmq)"
consumer "$work/consumer-default" "zmqx = \"0.1\""
(cd "$work/consumer-default" && cargo run --quiet)
# The vendored build from the package has the platform defines of the
# in-repo one (both ran zmq-sys's probes; the package carries them).
packaged=$(grep -h '^cargo:platform=.' "$CARGO_TARGET_DIR"/debug/build/zmq-sys-*/output | sort -u)
echo "packaged vendored build: $packaged"
[ -n "$packaged" ] && [ "$packaged" != "cargo:platform=" ] || {
    echo "error: the packaged vendored build ran no platform probe" >&2
    exit 1
}
# Non-vendored builds (pkg-config, docs) print an empty list: leave them out.
in_repo=$(grep -sh '^cargo:platform=.' "$repo"/target/debug/build/zmq-sys-*/output | sort -u || true)
if [ -n "$in_repo" ]; then
    if ! grep -qxF "$packaged" <<<"$in_repo"; then
        echo "error: platform defines differ from the in-repo vendored build's:" >&2
        printf '%s\n' "$in_repo" >&2
        exit 1
    fi
    echo "same platform defines as the in-repo vendored build"
else
    echo "note: no in-repo vendored build under target/debug to compare with"
fi

echo "==> consumer with default-features = false (system libzmq via pkg-config)"
consumer "$work/consumer-system" "zmqx = { version = \"0.1\", default-features = false }"
(cd "$work/consumer-system" && LIBZMQ_NO_VENDOR=1 cargo run --quiet)

echo "==> cargo install zmqx-cli from its package"
cargo install --quiet --locked --path "$pkgs/zmqx-cli-$version" --root "$work/install" \
    --config "patch.crates-io.zmqx.path=\"$pkgs/zmqx-$version\"" \
    --config "patch.crates-io.zmq-sys.path=\"$pkgs/zmq-sys-$version\"" 2>/dev/null ||
    cargo install --quiet --path "$pkgs/zmqx-cli-$version" --root "$work/install" \
        --config "patch.crates-io.zmqx.path=\"$pkgs/zmqx-$version\"" \
        --config "patch.crates-io.zmq-sys.path=\"$pkgs/zmq-sys-$version\""
"$work/install/bin/zmqx" --version
keys="$work/keys"
rm -rf "$keys"
"$work/install/bin/zmqx" keygen --dir "$keys" server
test -s "$keys/server.key" && test -s "$keys/server.key_secret"
echo "the installed zmqx wrote a certificate pair"
echo "package check passed"
