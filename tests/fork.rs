//! `Context::instance()` across `fork` (pyzmq's fork-aware instance): the
//! child gets a new context that works, and the parent's context, leaked in
//! the child, is never terminated there (which would hang: its threads
//! stayed in the parent).
//!
//! One test per binary: a fork copies only the forking thread, so nothing
//! else of this process may be running when it happens.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, socket};
use zmqx::{Context, SocketType};

/// What the child reports through its exit status.
const OK: i32 = 0;
const SAME_CONTEXT: i32 = 10;
const NO_SOCKET: i32 = 11;
const NO_MESSAGE: i32 = 12;

/// Runs in the child: only returns an exit status.
fn child(parent_raw: usize, parent_ctx: Context, parent_socket: zmqx::Socket) -> i32 {
    let ctx = Context::instance();
    if ctx.as_raw() as usize == parent_raw {
        return SAME_CONTEXT;
    }
    let endpoint = inproc("fork-child");
    let (Ok(a), Ok(b)) = (
        socket(&ctx, SocketType::Pair),
        socket(&ctx, SocketType::Pair),
    ) else {
        return NO_SOCKET;
    };
    if a.bind(&endpoint).is_err() || b.connect(&endpoint).is_err() {
        return NO_SOCKET;
    }
    if b.send("from the child").is_err() {
        return NO_MESSAGE;
    }
    match a.recv_string() {
        Ok(s) if s == "from the child" => {}
        _ => return NO_MESSAGE,
    }
    // The parent's socket and last handle of its context: dropping them here
    // must neither close nor terminate anything of the parent's (before the
    // fix, zmq_ctx_term waited forever for threads that are not here).
    drop(parent_socket);
    drop(parent_ctx);
    drop((a, b));
    // A second call in the child returns the child's instance.
    if Context::instance().as_raw() != ctx.as_raw() {
        return SAME_CONTEXT;
    }
    OK
}

#[test]
fn instance_after_fork_is_a_new_context() -> zmqx::Result<()> {
    // In the child, the parent's context is then held by the instance
    // (replaced there by the child's), this handle and this socket only: the
    // child drops the last two, which terminated the context before the fix.
    let parent_handle = Context::instance();
    let parent_raw = parent_handle.as_raw() as usize;
    // A socket, so the parent's context has started its threads.
    let parent_socket = socket(&parent_handle, SocketType::Pair)?;
    let endpoint = inproc("fork-parent");
    parent_socket.bind(&endpoint)?;

    // SAFETY: fork in a test binary with a single test; the child only runs
    // `child` and leaves with `_exit`, never returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let status = child(parent_raw, parent_handle, parent_socket);
        // SAFETY: ends the child at once, without running the parent's
        // atexit handlers or destructors a second time.
        unsafe { libc::_exit(status) };
    }
    drop(parent_handle);

    // Wait for the child, killing it if it hangs.
    let deadline = Instant::now() + TIMEOUT;
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; status is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(rc >= 0, "waitpid failed");
        if rc == pid {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above, reaps it.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("the child hung (instance or drop of the parent's context after fork)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        libc::WIFEXITED(status),
        "the child died of signal {}",
        libc::WTERMSIG(status)
    );
    match libc::WEXITSTATUS(status) {
        OK => {}
        SAME_CONTEXT => panic!("the child got the parent's context from Context::instance()"),
        NO_SOCKET => panic!("the child's context could not make or connect sockets"),
        NO_MESSAGE => panic!("the child's sockets did not carry a message"),
        other => panic!("the child exited with {other}"),
    }

    // The parent's instance is untouched by the child.
    let parent = Context::instance();
    assert_eq!(parent.as_raw() as usize, parent_raw);
    let peer = socket(&parent, SocketType::Pair)?;
    peer.connect(&endpoint)?;
    peer.send("still here")?;
    assert_eq!(parent_socket.recv_string()?, "still here");
    Ok(())
}
