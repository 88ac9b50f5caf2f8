//! Helpers shared by the integration tests. Each test binary uses a part of
//! them, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zmqx::{Context, Result, Socket, SocketType};

/// The timeout every blocking step of a test gets: a bug fails fast.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A socket with send/receive timeouts and no linger, so a failing test
/// neither hangs nor waits at exit.
pub fn socket(ctx: &Context, kind: SocketType) -> Result<Socket> {
    let s = ctx.socket(kind)?;
    s.set_rcvtimeo(Some(TIMEOUT))?;
    s.set_sndtimeo(Some(TIMEOUT))?;
    s.set_linger(Some(Duration::ZERO))?;
    Ok(s)
}

/// Binds to an OS-assigned TCP port on 127.0.0.1 and returns the endpoint.
pub fn bind_tcp(s: &Socket) -> Result<String> {
    s.bind("tcp://127.0.0.1:*")?;
    s.last_endpoint()
}

/// The Python interpreter with pyzmq/txZMQ (`ZMQX_PYTHON`, made by
/// `.ci/python-env.sh`). `None` means skip; under CI a missing interpreter is
/// a failure, so interop tests cannot silently pass there.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("ZMQX_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("ZMQX_PYTHON is not set under CI: run .ci/python-env.sh");
            }
            eprintln!("skipping interop test: ZMQX_PYTHON is not set (see .ci/python-env.sh)");
            None
        }
    }
}

/// Waits for a child with a deadline, killing it if it overruns.
pub fn wait_child(mut child: Child, timeout: Duration) -> std::io::Result<std::process::Output> {
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait()?.is_some() {
            return child.wait_with_output();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output()?;
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "child overran {timeout:?}; stdout: {}",
                    String::from_utf8_lossy(&out.stdout)
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `zmqx` binary under test.
pub fn zmqx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zmqx"))
}

/// Runs `zmqx ARGS` to its end (bounded by [`TIMEOUT`]).
pub fn run(args: &[&str]) -> Output {
    let child = zmqx()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmqx");
    wait_child(child, TIMEOUT).expect("zmqx finishes")
}

/// Starts `zmqx ARGS` with stdout and stderr piped.
pub fn spawn(args: &[&str]) -> Child {
    zmqx()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmqx")
}

/// Reads a child's stdout lines on a thread, so the test can wait for each
/// with a timeout.
pub fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// What a child wrote on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh path in the temp directory (not created).
pub fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "zmqx-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Sends SIGTERM to a child.
#[cfg(unix)]
pub fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// The endpoint a subcommand printed for a bound role (`ROLE ENDPOINT`).
pub fn bound(rx: &mpsc::Receiver<String>, role: &str) -> String {
    endpoints(rx, &[role]).remove(0)
}

/// The endpoints a subcommand printed for bound roles (`ROLE ENDPOINT`
/// lines, in any order), in the order of `roles`.
pub fn endpoints(rx: &mpsc::Receiver<String>, roles: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut found: Vec<Option<String>> = vec![None; roles.len()];
    while found.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no `ROLE ENDPOINT` line for all of {roles:?}"));
        if let Some((role, endpoint)) = line.split_once(' ') {
            if let Some(i) = roles.iter().position(|r| *r == role) {
                found[i] = Some(endpoint.to_owned());
            }
        }
    }
    found.into_iter().flatten().collect()
}

/// Stops a long-running subcommand with SIGTERM and checks it exits cleanly
/// (code 0) in time.
#[cfg(unix)]
pub fn stop(child: Child) {
    terminate(&child);
    let out = wait_child(child, TIMEOUT).expect("exits on SIGTERM");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
}

/// An XPUB for log records on an OS-picked port, and its endpoint.
pub fn log_publisher(ctx: &Context) -> Result<(Socket, String)> {
    let xpub = socket(ctx, SocketType::XPub)?;
    let endpoint = bind_tcp(&xpub)?;
    Ok((xpub, endpoint))
}

/// Waits (bounded by the socket's receive timeout) for the watcher's
/// subscription, then publishes through the XPUB: no slow-joiner loss.
pub fn subscribed_handler(xpub: Socket) -> Result<zmqx::log::PubHandler> {
    xpub.recv_msg()?;
    zmqx::log::PubHandler::from_socket(xpub)
}
