//! Helpers shared by the integration tests. Each test binary uses a part of
//! them, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zmqx::{Context, Result, Socket, SocketType};

/// The timeout every blocking step of a test gets: a bug fails fast.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Awaits `f` for at most [`TIMEOUT`]: fails the test instead of hanging
/// when a wakeup is lost.
pub async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?} (lost wakeup?)"),
    }
}

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

/// A unique inproc endpoint name.
pub fn inproc(name: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("inproc://{name}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// PUSH connected to PULL over a fresh inproc endpoint named after `name`,
/// both made by [`socket`]: `(push, pull)`.
pub fn push_pull(ctx: &Context, name: &str) -> Result<(Socket, Socket)> {
    let pull = socket(ctx, SocketType::Pull)?;
    let ep = inproc(name);
    pull.bind(&ep)?;
    let push = socket(ctx, SocketType::Push)?;
    push.connect(&ep)?;
    Ok((push, pull))
}

/// A unique ipc endpoint in the temp directory.
pub fn ipc(name: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "zmqx-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    format!("ipc://{}", path.display())
}

/// Retries `f` until it returns `Some` or the deadline passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::yield_now();
    }
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

/// Starts a Python script (given as source) with arguments; stdout is piped.
pub fn spawn_python(python: &PathBuf, script: &str, args: &[&str]) -> std::io::Result<Child> {
    Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
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

/// The calling thread's kernel id, for [`wait_until_blocked`].
#[cfg(target_os = "linux")]
pub fn thread_id() -> i32 {
    // SAFETY: gettid(2) takes no argument and cannot fail.
    unsafe { libc::gettid() }
}

/// Waits until thread `tid` of this process sleeps in the kernel (state `S`
/// in `/proc/self/task/<tid>/stat`): the sign that a waiter has reached its
/// blocking call (a poll), so that what follows wakes it rather than
/// arriving before it waits. Panics after [`TIMEOUT`].
#[cfg(target_os = "linux")]
pub fn wait_until_blocked(tid: i32) {
    let path = format!("/proc/self/task/{tid}/stat");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let stat = std::fs::read_to_string(&path).unwrap_or_default();
        // The state follows the command name, which is in parentheses.
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if state == Some('S') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {tid} did not block within {TIMEOUT:?} (state {state:?})"
        );
        std::thread::yield_now();
    }
}

/// Elsewhere there is no thread id to look at: 0.
#[cfg(not(target_os = "linux"))]
pub fn thread_id() -> i32 {
    0
}

/// Elsewhere there is no `/proc` to look at: gives the waiter the CPU once
/// (what follows is correct either way; it only less surely arrives while
/// the waiter waits).
#[cfg(not(target_os = "linux"))]
pub fn wait_until_blocked(_tid: i32) {
    std::thread::yield_now();
}
