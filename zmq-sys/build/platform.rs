//! Platform probes for the vendored libzmq, driven by `vendor/platform/features.txt`
//! (inside this package: `zmq-sys/vendor/`; the workspace's top-level `vendor`
//! is a symlink to it).
//!
//! Each probe is compiled with the same C++ compiler (and flags) that builds
//! libzmq, like CMake's `check_cxx_symbol_exists` / `check_c_source_runs` in
//! libzmq's own build. The result is a list of `-D` defines.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env;

/// One row of the features table.
struct Row {
    define: String,
    mode: Mode,
    probe: PathBuf,
}

enum Mode {
    Compile,
    Run,
    Value(String),
}

/// Where our own build configuration lives: `vendor/` of this package, so a
/// packaged zmq-sys builds from its own files alone.
pub fn vendor_dir() -> PathBuf {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    manifest.join("vendor")
}

fn read_table(dir: &Path) -> Vec<Row> {
    let table = dir.join("features.txt");
    println!("cargo:rerun-if-changed={}", dir.display());
    let text = std::fs::read_to_string(&table)
        .unwrap_or_else(|e| panic!("zmq-sys: cannot read {}: {e}", table.display()));
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        let row = match cols.as_slice() {
            [define, "compile", probe] => Some((define, Mode::Compile, probe)),
            [define, "run", probe] => Some((define, Mode::Run, probe)),
            [define, "value", probe, default] => {
                Some((define, Mode::Value(default.to_string()), probe))
            }
            _ => None,
        };
        let Some((define, mode, probe)) = row else {
            panic!(
                "zmq-sys: {}:{}: malformed row {line:?}",
                table.display(),
                n + 1
            );
        };
        rows.push(Row {
            define: define.to_string(),
            mode,
            probe: dir.join("probes").join(probe),
        });
    }
    rows
}

/// Run every probe; return the `NAME` or `NAME=VALUE` defines that hold.
pub fn probe() -> Vec<String> {
    let dir = vendor_dir().join("platform");
    let rows = read_table(&dir);
    let work = env::out_dir().join("platform-probes");
    std::fs::create_dir_all(&work).expect("create probe dir");
    let can_run = std::env::var("HOST").ok() == std::env::var("TARGET").ok();

    let compiler = cc::Build::new()
        .cpp(true)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler();

    let mut defines = Vec::new();
    for row in rows {
        let exe = work.join(row.define.to_ascii_lowercase());
        let built = compiler
            .to_command()
            .arg("-pthread")
            .arg(&row.probe)
            .arg("-o")
            .arg(&exe)
            .output()
            .is_ok_and(|o| o.status.success());
        let result = match (&row.mode, built) {
            (_, false) => None,
            (Mode::Compile, true) => Some(row.define.clone()),
            (Mode::Run, true) if !can_run => Some(row.define.clone()),
            (Mode::Run, true) => Command::new(&exe)
                .status()
                .is_ok_and(|s| s.success())
                .then(|| row.define.clone()),
            (Mode::Value(default), true) => {
                let value = can_run
                    .then(|| Command::new(&exe).output().ok())
                    .flatten()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                    .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
                    .unwrap_or_else(|| default.clone());
                Some(format!("{}={value}", row.define))
            }
        };
        let result = result.or_else(|| match &row.mode {
            Mode::Value(default) => Some(format!("{}={default}", row.define)),
            _ => None,
        });
        if let Some(d) = result {
            defines.push(d);
        }
    }
    defines
}
