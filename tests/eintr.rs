//! Blocking calls retry when a signal interrupts them (`EINTR`), as
//! pyzmq's `test_retry_eintr.py` checks.
//!
//! A receiver thread blocks in a call with a long timeout; the test sends it
//! SIGUSR1, whose handler is installed without `SA_RESTART`, so libzmq's
//! wait fails with `EINTR`. The control test shows that libzmq itself then
//! reports `EINTR`; the zmqx tests show that zmqx retries and returns what
//! arrives afterwards.

#![cfg(target_os = "linux")]

mod common;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use common::{TIMEOUT, inproc, socket};
use zmqx::{Context, PollEvents, Poller, Result, Socket, SocketType};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigusr1(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Installs a no-op SIGUSR1 handler without SA_RESTART (once per process).
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is valid; the handler only touches an
        // atomic (async-signal-safe); sa_mask is initialised by sigemptyset.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0; // no SA_RESTART: interrupted calls fail with EINTR
            libc::sigemptyset(&mut action.sa_mask);
            let rc = libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
            assert_eq!(rc, 0, "sigaction: {}", std::io::Error::last_os_error());
        }
    });
}

/// A thread running `blocking`; reports its ids before it starts.
struct Blocked<T> {
    handle: JoinHandle<T>,
    pthread: libc::pthread_t,
    tid: libc::pid_t,
}

fn spawn_blocked<T: Send + 'static>(blocking: impl FnOnce() -> T + Send + 'static) -> Blocked<T> {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        // SAFETY: both calls only return the calling thread's ids.
        let ids = unsafe { (libc::pthread_self(), libc::gettid()) };
        tx.send(ids).expect("ids");
        blocking()
    });
    let (pthread, tid) = rx.recv_timeout(TIMEOUT).expect("thread started");
    Blocked {
        handle,
        pthread,
        tid,
    }
}

/// Whether thread `tid` of this process is asleep (state `S`): blocked in
/// the libzmq call, since it does nothing else after reporting its ids.
fn is_sleeping(tid: libc::pid_t) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    // Fields after the parenthesised name: state is the first.
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('S'))
}

/// Waits until the thread sleeps, then interrupts it with SIGUSR1, `times`
/// times; returns once the handler has run for each.
fn interrupt<T>(blocked: &Blocked<T>, times: usize) {
    let deadline = Instant::now() + TIMEOUT;
    for _ in 0..times {
        while !is_sleeping(blocked.tid) {
            assert!(Instant::now() < deadline, "the thread never blocked");
            thread::yield_now();
        }
        let before = SIGNALS.load(Ordering::SeqCst);
        // SAFETY: the thread is alive (it is blocked, not joined).
        let rc = unsafe { libc::pthread_kill(blocked.pthread, libc::SIGUSR1) };
        assert_eq!(rc, 0);
        while SIGNALS.load(Ordering::SeqCst) == before {
            assert!(Instant::now() < deadline, "the signal was not handled");
            thread::yield_now();
        }
    }
}

fn connected_pair(ctx: &Context) -> Result<(Socket, Socket)> {
    let a = socket(ctx, SocketType::Pair)?;
    let b = socket(ctx, SocketType::Pair)?;
    let ep = inproc("eintr");
    a.bind(&ep)?;
    b.connect(&ep)?;
    Ok((a, b))
}

#[test]
fn control_libzmq_reports_eintr() -> Result<()> {
    install_handler();
    let ctx = Context::new();
    let (receiver, _sender) = connected_pair(&ctx)?;
    let blocked = spawn_blocked(move || {
        let mut msg = zmqx::Message::new();
        // SAFETY: receiver's raw socket is live for the call (the socket is
        // owned by this closure) and msg is an initialised zmq_msg_t.
        let rc = unsafe { zmqx::sys::zmq_msg_recv(msg.as_raw_mut(), receiver.as_raw(), 0) };
        // SAFETY: zmq_errno only reads this thread's errno.
        (rc, unsafe { zmqx::sys::zmq_errno() })
    });
    interrupt(&blocked, 1);
    let (rc, errno) = blocked.handle.join().expect("thread");
    assert_eq!((rc, errno), (-1, libc::EINTR), "libzmq must see the signal");
    Ok(())
}

#[test]
fn recv_retries_on_eintr() -> Result<()> {
    install_handler();
    let ctx = Context::new();
    let (receiver, sender) = connected_pair(&ctx)?;
    let blocked = spawn_blocked(move || {
        let start = Instant::now();
        let got = receiver.recv_string();
        (got, start.elapsed())
    });
    interrupt(&blocked, 3);
    sender.send("after the signals")?;
    let (got, took) = blocked.handle.join().expect("thread");
    assert_eq!(got?, "after the signals", "not Error::Interrupted");
    assert!(took < TIMEOUT, "returned by the message, not the timeout");
    Ok(())
}

#[test]
fn send_retries_on_eintr() -> Result<()> {
    install_handler();
    let ctx = Context::new();
    // A PUSH whose only peer is full blocks in send.
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.set_rcvhwm(1)?;
    let ep = inproc("eintr-send");
    pull.bind(&ep)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.set_sndhwm(1)?;
    push.connect(&ep)?;
    let mut queued = 0;
    while push.try_send("fill")? {
        queued += 1;
    }
    let blocked = spawn_blocked(move || push.send("blocked").map(|()| push));
    interrupt(&blocked, 2);
    for _ in 0..queued {
        assert_eq!(pull.recv_string()?, "fill");
    }
    let _push = blocked.handle.join().expect("thread")?;
    assert_eq!(pull.recv_string()?, "blocked");
    Ok(())
}

#[test]
fn poll_retries_on_eintr() -> Result<()> {
    install_handler();
    let ctx = Context::new();
    let (receiver, sender) = connected_pair(&ctx)?;
    let blocked = spawn_blocked(move || -> Result<PollEvents> {
        let mut poller = Poller::new();
        poller.register(&receiver, PollEvents::POLLIN);
        let ready = poller.poll(Some(TIMEOUT))?;
        Ok(ready.first().map(|r| r.1).unwrap_or_default())
    });
    interrupt(&blocked, 2);
    sender.send("wake")?;
    assert_eq!(blocked.handle.join().expect("thread")?, PollEvents::POLLIN);
    Ok(())
}
