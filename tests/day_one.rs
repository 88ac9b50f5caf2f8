//! The day-one programs (`examples/day_one/`): every zmqx program has its
//! pyzmq twin and an `[[example]]` entry that `cargo test` runs (the Rust
//! side is tested by running the examples themselves, `test = true`), and
//! every pyzmq twin runs to completion and prints what it should.
//!
//! The Python half is skipped (with a message) when `ZMQX_PYTHON` is unset
//! outside CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{python, wait_child};

/// Each twin's own time limits add up to a few seconds; this bounds a hang.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(60);

fn day_one_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/day_one")
}

/// The program names (`01_reqrep` …), from the Rust files.
fn programs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(day_one_dir())
        .expect("examples/day_one exists")
        .map(|e| e.expect("a directory entry").file_name())
        .filter_map(|n| n.to_str()?.strip_suffix(".rs").map(str::to_owned))
        .filter(|n| n.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .collect();
    names.sort();
    names
}

/// Lines that count, as `count.sh` counts them: not blank and not only a
/// comment (`//` in Rust, `#` in Python). CI's `cargo fmt --check` keeps the
/// Rust laid out as `count.sh` assumes.
fn counted_lines(path: &Path, comment: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with(comment))
        .count()
}

/// Issue 17's bound: each zmqx program at most 1.25× its pyzmq twin's lines.
#[test]
fn every_program_is_at_most_a_quarter_longer_than_its_twin() {
    let mut over = Vec::new();
    for name in programs() {
        let rust = counted_lines(&day_one_dir().join(format!("{name}.rs")), "//");
        let python = counted_lines(&day_one_dir().join(format!("py/{name}.py")), "#");
        assert!(python > 0, "{name}.py is empty");
        if rust * 4 > python * 5 {
            over.push(format!("{name}: {rust} lines against {python}"));
        }
    }
    assert!(over.is_empty(), "over 1.25× pyzmq: {over:?}");
}

#[test]
fn every_program_has_a_twin_and_runs_under_cargo_test() {
    let names = programs();
    assert_eq!(names.len(), 8, "the eight day-one programs: {names:?}");
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("read Cargo.toml");
    for name in &names {
        let twin = day_one_dir().join(format!("py/{name}.py"));
        assert!(
            twin.is_file(),
            "{name} has no pyzmq twin at {}",
            twin.display()
        );
        let entry = format!(
            "[[example]]\nname = \"day_one_{name}\"\npath = \"examples/day_one/{name}.rs\"\n"
        );
        let at = manifest
            .find(&entry)
            .unwrap_or_else(|| panic!("Cargo.toml has no [[example]] entry for {name}"));
        let rest = &manifest[at + entry.len()..];
        let body = &rest[..rest.find("\n\n").unwrap_or(rest.len())];
        assert!(
            body.contains("test = true") && body.contains("harness = false"),
            "the {name} example must run under cargo test (test = true, harness = false)"
        );
    }
}

/// The starts of lines each twin must print (keys, ports, file descriptors
/// and which worker got which task change from run to run).
fn expected_lines(name: &str) -> &'static [&'static str] {
    match name {
        "01_reqrep" => &[
            "client got world (hello #1)",
            "client got world (hello #2)",
            "client got world (hello #3)",
        ],
        "02_pubsub" => &["weather: sunny", "news: zmqx 0.1 is out"],
        "03_pipeline" => &["worker 0 slept", "worker 1 slept", "worker 2 slept"],
        "04_json" => &[
            "received Order(id=0, item='apple', quantity=1)",
            "received Order(id=2, item='plum', quantity=3)",
        ],
        "05_curve" => &["server got b'hello from", "nothing from"],
        "06_monitor" => &[
            "server got b'hello'",
            "LISTENING",
            "ACCEPTED",
            "DISCONNECTED",
        ],
        "07_steerable" => &["running: one", "resumed: two", "proxy ended"],
        "08_async" => &["50 replies, the last: HELLO 49"],
        other => panic!("no expectations for {other}"),
    }
}

#[test]
fn pyzmq_twins_run_to_completion() {
    let Some(python) = python() else { return };
    for name in programs() {
        let script = day_one_dir().join(format!("py/{name}.py"));
        let child = Command::new(&python)
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python");
        let out = wait_child(child, PROGRAM_TIMEOUT)
            .unwrap_or_else(|e| panic!("{name}.py did not finish: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}.py failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        for line in expected_lines(&name) {
            assert!(
                stdout.lines().any(|l| l.starts_with(line)),
                "{name}.py did not print {line:?}:\n{stdout}"
            );
        }
    }
}
