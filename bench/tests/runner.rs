//! The tools and the runner work end to end: every implementation over
//! inproc and tcp, with tiny message counts (a few seconds in all).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Generous: a debug build on a busy 2-core machine.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` to completion, failing the test if it takes too long.
fn output(mut cmd: Command) -> (bool, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(out) => {
            let out = out.expect("wait");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Err(_) => {
            // The child is still running: kill it by its pid, then fail.
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("{cmd:?} did not finish within {TIMEOUT:?}");
        }
    }
}

#[test]
fn runner_prints_a_full_table() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-runner"));
    cmd.args(["--rounds", "1", "--scale", "0.0005", "--sizes", "1,65536"]);
    let (ok, stdout, stderr) = output(cmd);
    assert!(ok, "runner failed:\n{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ")).collect();
    // Header plus 2 transports x 2 sizes.
    assert_eq!(rows.len(), 5, "{stdout}");
    assert!(
        rows[0].contains("zmqx/C")
            && rows[0].contains("async/sync")
            && rows[0].contains("lat async/sync"),
        "{stdout}"
    );
    for row in &rows[1..] {
        // No cell is missing: every implementation produced its numbers.
        assert!(!row.contains('–'), "missing result in {row}\n{stderr}");
    }
    // The tcp runs' placement is stated: pinned to two CPUs where there are.
    let pinned = zmqx_bench::allowed_cpus().len() >= 2;
    let placement = if pinned {
        "tcp: the binding tool pinned to CPU"
    } else {
        "tcp: not pinned"
    };
    assert!(stdout.contains(placement), "{stdout}");
}

#[test]
fn bench_cpu_pins_a_tool_or_names_what_is_wrong() {
    let cpus = zmqx_bench::allowed_cpus();
    if cfg!(target_os = "linux") {
        assert!(!cpus.is_empty(), "sched_getaffinity gave no CPU");
    }
    for bad in ["x", "4096"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_lat"));
        cmd.env("BENCH_CPU", bad)
            .args(["--impl", "zmqx", "1", "10"]);
        let (ok, stdout, _) = output(cmd);
        assert!(!ok, "BENCH_CPU={bad} was accepted: {stdout}");
        assert!(stdout.contains(&format!("BENCH_CPU={bad}")), "{stdout}");
    }
    if let Some(&last) = cpus.last() {
        for imp in ["c", "zmqx", "async"] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_lat"));
            cmd.env("BENCH_CPU", last.to_string())
                .args(["--impl", imp, "1", "50"]);
            let (ok, stdout, stderr) = output(cmd);
            assert!(ok, "{imp} on CPU {last}: {stdout}{stderr}");
        }
    }
}

#[test]
fn tools_keep_libzmq_output_format() {
    for imp in ["c", "zmqx", "async"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_lat"));
        cmd.args(["--impl", imp, "32", "50"]);
        let (ok, stdout, stderr) = output(cmd);
        assert!(ok, "{imp}: {stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{imp}: {stdout}");
        assert_eq!(lines[0], "message size: 32 [B]");
        assert_eq!(lines[1], "roundtrip count: 50");
        assert!(lines[2].starts_with("average latency: ") && lines[2].ends_with(" [us]"));

        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_thr"));
        cmd.args(["--impl", imp, "32", "500"]);
        let (ok, stdout, stderr) = output(cmd);
        assert!(ok, "{imp}: {stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{imp}: {stdout}");
        assert_eq!(lines[0], "message size: 32 [B]");
        assert_eq!(lines[1], "message count: 500");
        assert!(lines[2].ends_with(" [msg/s]") && lines[3].ends_with(" [Mb/s]"));
    }
}

#[test]
fn bad_arguments_are_refused() {
    for imp in ["c", "zmqx", "async"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_thr"));
        cmd.args(["--impl", imp, "1"]);
        let (ok, stdout, _) = output(cmd);
        assert!(!ok, "{imp} accepted a missing count");
        assert!(stdout.starts_with("usage: inproc_thr"), "{imp}: {stdout}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_thr"));
        cmd.args(["--impl", imp, "1", "0"]);
        let (ok, _, _) = output(cmd);
        assert!(!ok, "{imp} accepted a zero count");
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_local_thr"));
    cmd.args(["--impl", "fortran", "tcp://127.0.0.1:*", "1", "1"]);
    let (ok, stdout, _) = output(cmd);
    assert!(!ok && stdout.starts_with("usage: local_thr"), "{stdout}");
}

#[test]
fn many_sockets_runs_every_mode() {
    for imp in ["zmqx", "async", "tasks"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_many_sockets"));
        cmd.args(["--impl", imp, "600", "8", "3"]);
        let (ok, stdout, stderr) = output(cmd);
        assert!(ok, "{imp}: {stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{imp}: {stdout}");
        assert_eq!(lines[0], "sockets: 1200");
        assert_eq!(lines[2], "message count: 1800");
        assert!(lines[3].starts_with("mean time per message: ") && lines[3].ends_with(" [ns]"));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_many_sockets"));
    cmd.args(["--impl", "async", "0", "1", "1"]);
    let (ok, stdout, _) = output(cmd);
    assert!(!ok && stdout.starts_with("usage: many_sockets"), "{stdout}");
}

/// `BENCH_MINIMAL_FUTURE=1` makes the async `local_thr` receive through the
/// minimal future (a blocking socket, its fd in tokio), and say so on
/// stderr: it prints the endpoint it bound, takes every message of a blocking `remote_thr` over
/// tcp and reports as libzmq's tool does.
#[cfg(unix)]
#[test]
fn the_minimal_future_receives_a_tcp_stream() {
    let mut local = Command::new(env!("CARGO_BIN_EXE_local_thr"))
        .env("BENCH_MINIMAL_FUTURE", "1")
        .args(["--impl", "async", "tcp://127.0.0.1:*", "64", "20000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start local_thr");
    let stdout = local.stdout.take().expect("piped");
    let mut stderr = local.stderr.take().expect("piped");
    let said = thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("read local_thr")).is_err() {
                break;
            }
        }
    });
    let Ok(first) = rx.recv_timeout(TIMEOUT) else {
        let _ = local.kill();
        panic!("local_thr printed no endpoint within {TIMEOUT:?}");
    };
    let endpoint = first
        .strip_prefix("endpoint: ")
        .unwrap_or_else(|| panic!("not an endpoint line: {first}"))
        .to_owned();
    let mut remote = Command::new(env!("CARGO_BIN_EXE_remote_thr"));
    remote.args(["--impl", "zmqx", &endpoint, "64", "20000"]);
    let (ok, out, err) = output(remote);
    assert!(ok, "remote_thr: {out}{err}");
    let mut lines = Vec::new();
    while lines.len() < 4 {
        match rx.recv_timeout(TIMEOUT) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = local.kill();
                panic!("local_thr printed {lines:?} and then nothing within {TIMEOUT:?}");
            }
        }
    }
    assert!(local.wait().expect("wait local_thr").success());
    let said = said.join().expect("stderr reader").expect("read stderr");
    assert!(
        said.contains("minimal future"),
        "local_thr did not say it used the minimal future: {said:?}"
    );
    assert_eq!(lines[0], "message size: 64 [B]");
    assert_eq!(lines[1], "message count: 20000");
    assert!(
        lines[2].ends_with(" [msg/s]") && lines[3].ends_with(" [Mb/s]"),
        "{lines:?}"
    );
}

/// `inproc_thr --impl async` with a blocking receiver (`BENCH_SYNC_PEER`),
/// its sender an `AsyncSocket` or the minimal future
/// (`BENCH_MINIMAL_FUTURE`); each says so on stderr, and the output is
/// libzmq's either way.
#[cfg(unix)]
#[test]
fn an_async_sender_feeds_a_blocking_receiver_in_process() {
    for minimal in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inproc_thr"));
        cmd.env("BENCH_SYNC_PEER", "1")
            .args(["--impl", "async", "64", "20000"]);
        if minimal {
            cmd.env("BENCH_MINIMAL_FUTURE", "1");
        } else {
            cmd.env_remove("BENCH_MINIMAL_FUTURE");
        }
        let (ok, out, err) = output(cmd);
        assert!(ok, "inproc_thr (minimal: {minimal}): {out}{err}");
        assert!(
            err.contains("receiving through a blocking socket"),
            "stderr: {err:?}"
        );
        assert_eq!(
            err.contains("sending through the minimal future"),
            minimal,
            "stderr: {err:?}"
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(lines[0], "message size: 64 [B]");
        assert_eq!(lines[1], "message count: 20000");
        assert!(
            lines[2].ends_with(" [msg/s]") && lines[3].ends_with(" [Mb/s]"),
            "{lines:?}"
        );
    }
}
