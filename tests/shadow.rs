//! Shadows: zmqx handles over a libzmq context or socket that zmqx does not
//! own (pyzmq's `Context.shadow(address)` and `Socket.shadow(address)`).
//!
//! The contexts and sockets here are made, used, closed and terminated by
//! the test through the raw C API (`zmqx::sys`), as a C library or another
//! binding would; the shadows must use them without ever ending them.

mod common;

use std::ffi::{CString, c_void};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{TIMEOUT, inproc, socket};
use zmqx::sys;
use zmqx::{Context, Error, Result, Socket, SocketType};

/// Runs `f` on a thread and returns its result, failing the test if it takes
/// longer than [`TIMEOUT`] (a hang becomes a failure, not a stuck run).
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(TIMEOUT)
        .unwrap_or_else(|e| panic!("did not finish within {TIMEOUT:?}: {e}"))
}

/// The error libzmq reported for the raw call that just failed.
fn last_errno() -> i32 {
    // SAFETY: zmq_errno has no preconditions.
    unsafe { sys::zmq_errno() }
}

/// A context owned by the test, terminated by it (with a timeout) when
/// dropped, as its C owner would.
struct RawContext(*mut c_void);

impl RawContext {
    fn new() -> RawContext {
        // SAFETY: zmq_ctx_new has no preconditions.
        let raw = unsafe { sys::zmq_ctx_new() };
        assert!(!raw.is_null(), "zmq_ctx_new failed: {}", last_errno());
        RawContext(raw)
    }

    /// A raw socket of this context, with timeouts and no linger, or the
    /// errno of `zmq_socket`.
    fn socket(&self, kind: i32) -> std::result::Result<RawSocket, i32> {
        // SAFETY: self.0 is a live context (terminated only by `drop`).
        let s = unsafe { sys::zmq_socket(self.0, kind) };
        if s.is_null() {
            return Err(last_errno());
        }
        let s = RawSocket(s);
        s.set_int(sys::ZMQ_RCVTIMEO, TIMEOUT.as_millis() as i32);
        s.set_int(sys::ZMQ_SNDTIMEO, TIMEOUT.as_millis() as i32);
        s.set_int(sys::ZMQ_LINGER, 0);
        Ok(s)
    }
}

impl Drop for RawContext {
    fn drop(&mut self) {
        let raw = self.0 as usize;
        // zmq_ctx_term blocks until every socket of the context is closed:
        // a socket zmqx failed to close makes this a failure, not a hang.
        let rc = within(move || {
            // SAFETY: the context is live and terminated exactly once, here.
            unsafe { sys::zmq_ctx_term(raw as *mut c_void) }
        });
        if !thread::panicking() {
            assert_eq!(rc, 0, "zmq_ctx_term failed: {}", last_errno());
        }
    }
}

/// A socket owned by the test, closed by it when dropped.
struct RawSocket(*mut c_void);

impl RawSocket {
    fn set_int(&self, option: i32, value: i32) {
        // SAFETY: self.0 is a live socket; value outlives the call.
        let rc = unsafe {
            sys::zmq_setsockopt(self.0, option, (&raw const value).cast(), size_of::<i32>())
        };
        assert_eq!(rc, 0, "zmq_setsockopt({option}) failed: {}", last_errno());
    }

    fn get_int(&self, option: i32) -> i32 {
        let mut value = 0i32;
        let mut len = size_of::<i32>();
        // SAFETY: self.0 is a live socket; value has room for len bytes.
        let rc = unsafe { sys::zmq_getsockopt(self.0, option, (&raw mut value).cast(), &mut len) };
        assert_eq!(rc, 0, "zmq_getsockopt({option}) failed: {}", last_errno());
        value
    }

    fn bind(&self, endpoint: &str) {
        let c = CString::new(endpoint).unwrap();
        // SAFETY: self.0 is a live socket; c is a C string outliving the call.
        let rc = unsafe { sys::zmq_bind(self.0, c.as_ptr()) };
        assert_eq!(rc, 0, "zmq_bind({endpoint}) failed: {}", last_errno());
    }

    fn connect(&self, endpoint: &str) {
        let c = CString::new(endpoint).unwrap();
        // SAFETY: self.0 is a live socket; c is a C string outliving the call.
        let rc = unsafe { sys::zmq_connect(self.0, c.as_ptr()) };
        assert_eq!(rc, 0, "zmq_connect({endpoint}) failed: {}", last_errno());
    }

    fn send(&self, data: &[u8]) {
        // SAFETY: self.0 is a live socket; data is readable for its length.
        let rc = unsafe { sys::zmq_send(self.0, data.as_ptr().cast(), data.len(), 0) };
        assert_eq!(rc, data.len() as i32, "zmq_send failed: {}", last_errno());
    }

    /// One message (at most 256 bytes), waiting at most [`TIMEOUT`].
    fn recv(&self) -> Vec<u8> {
        let mut buf = [0u8; 256];
        // SAFETY: self.0 is a live socket; buf is writable for its length.
        let rc = unsafe { sys::zmq_recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert!(rc >= 0, "zmq_recv failed: {}", last_errno());
        buf[..rc as usize].to_vec()
    }
}

impl Drop for RawSocket {
    fn drop(&mut self) {
        // SAFETY: self.0 is a live socket, closed exactly once, here.
        let rc = unsafe { sys::zmq_close(self.0) };
        if !thread::panicking() {
            assert_eq!(rc, 0, "zmq_close failed: {}", last_errno());
        }
    }
}

#[test]
fn a_shadow_context_uses_a_raw_context_and_never_terminates_it() -> Result<()> {
    let owner = RawContext::new();
    // SAFETY: owner.0 is a live context of zmqx's libzmq (made through
    // zmqx::sys) and is terminated only when `owner` drops, after the shadow.
    let shadow = unsafe { Context::shadow(owner.0)? };
    assert!(shadow.is_shadow());
    assert_eq!(shadow.as_raw(), owner.0);

    // Sockets made through the shadow talk to each other.
    let endpoint = inproc("shadow-ctx");
    let a = socket(&shadow, SocketType::Pair)?;
    a.bind(&endpoint)?;
    let b = socket(&shadow, SocketType::Pair)?;
    b.connect(&endpoint)?;
    b.send("through the shadow")?;
    assert_eq!(a.recv_string()?, "through the shadow");

    // And with the owner's raw sockets: inproc only joins sockets of one
    // context, so this proves the shadow is the owner's context.
    let raw_endpoint = inproc("shadow-ctx-raw");
    let raw = owner.socket(sys::ZMQ_PULL).unwrap();
    raw.bind(&raw_endpoint);
    let c = socket(&shadow, SocketType::Push)?;
    c.connect(&raw_endpoint)?;
    c.send("to the owner")?;
    assert_eq!(raw.recv(), b"to the owner");

    // Dropping the shadow and everything made through it leaves the
    // context alive: the owner's socket still works, and new raw sockets
    // can still be made and joined to it. (On a thread: a shadow that
    // terminated the context would block there on the owner's socket.)
    within(move || drop((a, b, c, shadow)));
    let late = owner.socket(sys::ZMQ_PUSH).unwrap();
    late.connect(&raw_endpoint);
    late.send(b"after the shadow");
    assert_eq!(raw.recv(), b"after the shadow");
    drop((raw, late));
    // `owner` terminates the context here, within the timeout.
    Ok(())
}

#[test]
fn term_and_destroy_on_a_shadow_only_detach_it() -> Result<()> {
    let owner = RawContext::new();
    let raw = owner.socket(sys::ZMQ_PAIR).unwrap();
    raw.set_int(sys::ZMQ_LINGER, 5000);

    // SAFETY: owner.0 is a live context of zmqx's libzmq that outlives
    // both shadows.
    let shadow = unsafe { Context::shadow(owner.0)? };
    let clone = shadow.clone();
    within(move || shadow.term())?;
    assert!(clone.is_terminated());
    assert!(matches!(
        clone.socket(SocketType::Pair),
        Err(Error::ContextTerminated)
    ));
    // Neither shut down (zmq_socket would fail with ETERM) nor terminated.
    let _more = owner
        .socket(sys::ZMQ_PAIR)
        .expect("the context was shut down");

    // SAFETY: as above.
    let shadow = unsafe { Context::shadow(owner.0)? };
    let mine = shadow.socket(SocketType::Pair)?;
    // SAFETY: raw.0 is a live socket of owner's context, closed by the test
    // after the shadow is dropped, and used by this thread only.
    let shadowed = unsafe { Socket::shadow(raw.0, &shadow)? };
    let detach = shadow.clone();
    within(move || detach.destroy(Some(Duration::ZERO)))?;
    // destroy's forced linger reaches the sockets made through the shadow,
    // not the shadowed one (whose linger is its owner's business).
    assert_eq!(mine.linger()?, Some(Duration::ZERO));
    assert_eq!(raw.get_int(sys::ZMQ_LINGER), 5000);
    assert!(shadow.is_terminated());
    drop((mine, shadowed, shadow));
    let _after = owner
        .socket(sys::ZMQ_PAIR)
        .expect("the context was shut down");
    raw.set_int(sys::ZMQ_LINGER, 0);
    Ok(())
}

#[test]
fn a_shadow_socket_uses_a_raw_socket_and_never_closes_it() -> Result<()> {
    let owner = RawContext::new();
    let raw = owner.socket(sys::ZMQ_PAIR).unwrap();
    let endpoint = inproc("shadow-socket");
    raw.bind(&endpoint);
    // SAFETY: owner.0 is a live context of zmqx's libzmq that outlives it.
    let ctx = unsafe { Context::shadow(owner.0)? };
    let peer = socket(&ctx, SocketType::Pair)?;
    peer.connect(&endpoint)?;

    {
        // SAFETY: raw.0 is a live socket of owner's context (zmqx's
        // libzmq), closed by the test only after the shadow is dropped, and
        // not used by the test while the shadow is.
        let shadow = unsafe { Socket::shadow(raw.0, &ctx)? };
        assert!(shadow.is_shadow());
        assert_eq!(shadow.as_raw(), raw.0);
        assert_eq!(shadow.socket_type()?, SocketType::Pair);
        peer.send("to the shadow")?;
        assert_eq!(shadow.recv_string()?, "to the shadow");
        shadow.send("from the shadow")?;
        assert_eq!(peer.recv_string()?, "from the shadow");
        // `close` on a shadow only drops it.
        shadow.close();
    }

    // The raw socket is still open, connected, and the test's to use.
    peer.send("to the owner")?;
    assert_eq!(raw.recv(), b"to the owner");
    raw.send(b"from the owner");
    assert_eq!(peer.recv_string()?, "from the owner");
    within(move || drop((peer, ctx)));
    // The test closes the socket, then terminates the context (which
    // would hang, then fail, if zmqx had left a socket open).
    drop(raw);
    Ok(())
}

#[test]
fn shadowing_a_zmqx_context_and_socket() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("shadow-zmqx");
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.bind(&endpoint)?;
    {
        // SAFETY: ctx is a zmqx context, alive (and not terminated) until
        // after the shadow is dropped.
        let shadow = unsafe { Context::shadow(ctx.as_raw())? };
        assert!(!ctx.is_shadow());
        let push = socket(&shadow, SocketType::Push)?;
        push.connect(&endpoint)?;
        push.send("from the shadow context")?;
        assert_eq!(pull.recv_string()?, "from the shadow context");

        // SAFETY: `pull` is a live zmqx socket that outlives the shadow and
        // is not used while the shadow is.
        let shadow_pull = unsafe { Socket::shadow(pull.as_raw(), &ctx)? };
        push.send("to the shadow socket")?;
        assert_eq!(shadow_pull.recv_string()?, "to the shadow socket");
        // `into_raw` on a shadow hands back the pointer and closes nothing.
        assert_eq!(shadow_pull.into_raw(), pull.as_raw());
        within(move || drop((push, shadow)));
    }
    // The shadow context's socket is closed, the context and `pull` are not.
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&endpoint)?;
    push.send("after the shadows")?;
    assert_eq!(pull.recv_string()?, "after the shadows");
    drop((push, pull));
    // Every socket is closed, so termination returns at once.
    within(move || ctx.term())?;
    Ok(())
}

#[test]
fn a_shadow_socket_can_be_async() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("shadow-async");
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.bind(&endpoint)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&endpoint)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        // SAFETY: `pull` is a live zmqx socket that outlives the shadow and
        // is not used while the shadow is (pyzmq's async copy of a sync
        // socket).
        let shadow = unsafe { Socket::shadow(pull.as_raw(), &ctx)? };
        let shadow = zmqx::AsyncSocket::new(shadow)?;
        push.send("async")?;
        let msg = tokio::time::timeout(TIMEOUT, shadow.recv_msg())
            .await
            .expect("no message within the timeout")?;
        assert_eq!(msg, "async");
        Ok::<(), Error>(())
    })?;
    push.send("sync again")?;
    assert_eq!(pull.recv_string()?, "sync again");
    Ok(())
}

#[test]
fn null_pointers_are_refused() {
    // SAFETY: a null pointer is checked before any use.
    let ctx = unsafe { Context::shadow(std::ptr::null_mut()) };
    assert!(matches!(ctx, Err(Error::InvalidInput { .. })), "{ctx:?}");
    let owner = Context::new();
    // SAFETY: as above.
    let s = unsafe { Socket::shadow(std::ptr::null_mut(), &owner) };
    assert!(matches!(s, Err(Error::InvalidInput { .. })), "{s:?}");
}
