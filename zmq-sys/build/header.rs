//! Reading facts off a libzmq: the version in its header, and its
//! capabilities by running a tiny program linked against it.

use std::path::Path;
use std::process::Command;

use crate::{Found, env};

/// `ZMQ_VERSION_MAJOR/MINOR/PATCH` from a `zmq.h`.
pub fn read_version(header: &Path) -> Option<(u32, u32, u32)> {
    let text = std::fs::read_to_string(header).ok()?;
    let get = |name: &str| {
        text.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("#define") && words.next() == Some(name))
                .then(|| words.next()?.parse::<u32>().ok())
                .flatten()
        })
    };
    Some((
        get("ZMQ_VERSION_MAJOR")?,
        get("ZMQ_VERSION_MINOR")?,
        get("ZMQ_VERSION_PATCH")?,
    ))
}

const CAPS_PROBE: &str = r#"
#include <stdio.h>
#include <zmq.h>
int main(void) {
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("%d.%d.%d %d %d\n", major, minor, patch, zmq_has("curve"), zmq_has("draft"));
    return 0;
}
"#;

/// Link and run a program against a system or prefix libzmq to learn its
/// run-time version, CURVE and DRAFT support. Leaves them unknown when that is
/// impossible (cross-compiling, no compiler for the host).
pub fn probe_capabilities(found: &mut Found) {
    if std::env::var("HOST").ok() != std::env::var("TARGET").ok() {
        return;
    }
    let dir = env::out_dir().join("caps-probe");
    let _ = std::fs::create_dir_all(&dir);
    let src = dir.join("caps.c");
    let exe = dir.join("caps");
    if std::fs::write(&src, CAPS_PROBE).is_err() {
        return;
    }
    let mut build = cc::Build::new();
    build.cargo_metadata(false).cargo_warnings(false);
    let Ok(compiler) = build.try_get_compiler() else {
        return;
    };
    let mut cmd = compiler.to_command();
    if let Some(inc) = &found.include_dir {
        cmd.arg(format!("-I{}", inc.display()));
    }
    cmd.arg(&src).arg("-o").arg(&exe).args(&found.link_args);
    if !matches!(cmd.output(), Ok(o) if o.status.success()) {
        println!(
            "cargo:warning=zmq-sys: could not link a probe against libzmq; CURVE/DRAFT support unknown at build time"
        );
        return;
    }
    let mut run = Command::new(&exe);
    let paths: Vec<_> = found
        .lib_dirs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if !paths.is_empty() {
        run.env("LD_LIBRARY_PATH", paths.join(":"));
    }
    let Ok(out) = run.output() else { return };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    if let Some(v) = words.next().and_then(|v| {
        let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    }) {
        found.version = v;
    }
    found.curve = words.next().map(|w| w != "0");
    found.draft = words.next().map(|w| w != "0");
}
