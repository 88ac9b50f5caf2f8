//! An idle async socket costs no CPU: no busy loop while waiting. Alone in
//! its test binary, so that no other test's work is counted.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::time::Duration;

use zmqx::{AsyncSocket, Context, Result, SocketType};

/// CPU time of this process (user + system).
fn cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_socket_uses_no_cpu() -> Result<()> {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull)?;
    let ep = common::bind_tcp(&pull)?;
    let push = AsyncSocket::new(common::socket(&ctx, SocketType::Push)?)?;
    push.connect(&ep)?;
    let (tx, rx) = AsyncSocket::new(pull)?.split();
    // The connection is up and one message went through: the fd has fired.
    push.send("warm-up").await?;
    let warm = tokio::time::timeout(common::TIMEOUT, rx.recv_msg()).await;
    assert_eq!(warm.expect("warm-up message")?, "warm-up");

    // Three waiters parked on one socket (a receive, a readiness wait and a
    // send that cannot happen on PULL), nothing arriving, for a second.
    let before = cpu_time();
    let second = Duration::from_secs(1);
    let (a, b, c) = tokio::join!(
        tokio::time::timeout(second, rx.recv_msg()),
        tokio::time::timeout(second, rx.readable(None)),
        tokio::time::timeout(second, tx.writable(None)),
    );
    let used = cpu_time() - before;
    assert!(a.is_err() && b.is_err() && c.is_err(), "nothing was sent");
    // A busy loop would burn about a second.
    assert!(
        used < Duration::from_millis(50),
        "idle wait used {used:?} of CPU"
    );
    eprintln!("idle second used {used:?} of CPU");
    Ok(())
}
