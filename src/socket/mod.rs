//! [`Socket`]: the owner of a libzmq `void *socket`.

#[cfg(feature = "draft")]
mod draft;
mod io;
mod monitor_link;
mod proxy;

use std::cell::Cell;
use std::ffi::{CString, c_void};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[cfg(all(feature = "tokio", unix))]
pub(crate) use io::Outgoing;
pub use io::Sendable;
pub(crate) use monitor_link::{MonitorLink, Released};
pub(crate) use proxy::libzmq_proxy;

use crate::constants::Event;
use crate::context::{Context, Shared};
use crate::error::{Error, Result, check};
use crate::options::{OptionKind, OptionValue, SocketOption};

/// A ZeroMQ socket (`zmq_socket`).
///
/// `Socket` is `Send` (it may move to another thread) but not `Sync`: libzmq
/// sockets must not be used from two threads at once. It keeps its
/// [`Context`] alive and is closed (`zmq_close`) when dropped, with its linger
/// (zmqx's default: [`DEFAULT_LINGER`](crate::DEFAULT_LINGER), never forever
/// unless you ask).
///
/// Options have typed accessors (`set_linger`, `sndhwm`, `set_curve_server`…,
/// generated from one table; see [`SocketOption`]).
///
/// ```
/// # fn main() -> zmqx::Result<()> {
/// use zmqx::{Context, SocketType};
/// let ctx = Context::new();
/// let rep = ctx.socket(SocketType::Rep)?;
/// rep.bind("tcp://127.0.0.1:*")?;
/// let endpoint = rep.last_endpoint()?;
/// let req = ctx.socket(SocketType::Req)?;
/// req.connect(&endpoint)?;
/// req.send("ping")?;
/// assert_eq!(rep.recv_msg()?, "ping");
/// rep.send("pong")?;
/// assert_eq!(req.recv_string()?, "pong");
/// # Ok(()) }
/// ```
///
/// A socket cannot be shared between threads (`!Sync`):
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<zmqx::Socket>();
/// ```
///
/// A closed socket cannot be used: `close` takes it by value.
///
/// ```compile_fail
/// # fn main() -> zmqx::Result<()> {
/// let ctx = zmqx::Context::new();
/// let s = ctx.socket(zmqx::SocketType::Push)?;
/// s.close();
/// s.bind("inproc://x")?; // error: use of moved value
/// # Ok(()) }
/// ```
pub struct Socket {
    raw: *mut c_void,
    ctx: Arc<Shared>,
    /// This socket's copy threshold, or `FOLLOW_PROCESS` (see
    /// `Socket::set_copy_threshold` in message.rs). Atomic because a
    /// `ThreadSafeSocket` shares its `Socket` between threads.
    pub(crate) copy_threshold: std::sync::atomic::AtomicUsize,
    /// Shared with the [`Monitor`](crate::monitor::Monitor)s made from this
    /// socket; created by the first one. (A `OnceLock`, as
    /// `ThreadSafeSocket` shares a `Socket` between threads.)
    monitor_link: OnceLock<Arc<MonitorLink>>,
    /// Whether zmqx owns the libzmq socket: false for a shadow
    /// ([`Socket::shadow`]), which is never closed here.
    owned: bool,
    /// Makes `Socket` `!Sync` (libzmq sockets are not thread-safe).
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: a libzmq socket may be used from any thread as long as only one
// thread uses it at a time (and a full memory barrier separates them, which
// moving a value between threads provides). `!Sync` keeps it to one thread.
unsafe impl Send for Socket {}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Socket");
        d.field("raw", &self.raw);
        if !self.owned {
            d.field("shadow", &true);
        }
        if let Ok(t) = self.socket_type() {
            d.field("type", &t);
        }
        d.finish()
    }
}

/// An endpoint bound by [`Socket::bind_scoped`]; unbinds when dropped
/// (pyzmq's `with socket.bind(...)`).
#[must_use = "the endpoint is unbound as soon as the guard is dropped"]
#[derive(Debug)]
pub struct Bound<'a> {
    socket: &'a Socket,
    endpoint: String,
}

impl Bound<'_> {
    /// The endpoint actually bound (with the real port for `:*` / `:0`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Bound<'_> {
    fn drop(&mut self) {
        // The context may be gone or the endpoint already unbound: nothing to do then.
        let _ = self.socket.unbind(&self.endpoint);
    }
}

/// An endpoint connected by [`Socket::connect_scoped`]; disconnects when dropped.
#[must_use = "the endpoint is disconnected as soon as the guard is dropped"]
#[derive(Debug)]
pub struct Connected<'a> {
    socket: &'a Socket,
    endpoint: String,
}

impl Connected<'_> {
    /// The endpoint connected.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        let _ = self.socket.disconnect(&self.endpoint);
    }
}

/// The largest string option value read back (1 KiB, then 16 KiB … 16 MiB).
const MAX_STRING_OPTION: usize = 16 << 20;

/// An endpoint as a C string, or a typed error for an interior NUL.
pub(crate) fn endpoint_cstr(endpoint: &str) -> Result<CString> {
    CString::new(endpoint)
        .map_err(|_| Error::invalid(format!("endpoint {endpoint:?}"), "interior NUL byte"))
}

/// Checks the port of a `tcp://` or `udp://` endpoint before libzmq sees
/// it: libzmq parses ports with `atoi`-like leniency, so `:99999` would bind
/// port 34463, `:-1` port 65535 and `:12x` port 12. A port is `*` or a
/// decimal number up to 65535 (for `connect`'s `source;destination` form,
/// the destination's).
pub(crate) fn check_port(endpoint: &str) -> Result<()> {
    let Some(address) = endpoint
        .strip_prefix("tcp://")
        .or_else(|| endpoint.strip_prefix("udp://"))
    else {
        return Ok(());
    };
    let destination = address.rsplit(';').next().unwrap_or(address);
    // No port at all (`tcp://`, `tcp://host`) is libzmq's to refuse.
    let Some((_, port)) = destination.rsplit_once(':') else {
        return Ok(());
    };
    let valid = port == "*"
        || (!port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65535));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("endpoint {endpoint:?}"),
            format!("port {port:?} is not `*` or a number from 0 to 65535"),
        ))
    }
}

/// Sets `ZMQ_LINGER` on a socket that another thread may own (pyzmq's
/// `Context.destroy(linger)`); a failure (a socket already stopped) is
/// ignored: that socket closes with its own linger.
///
/// # Safety
///
/// `raw` must be a live socket (not yet closed). Its owner thread may be
/// using it right now: libzmq 4.3.5 tolerates that for `ZMQ_LINGER` alone,
/// since the value is stored in an atomic, no socket type's own option
/// handler acts on it and it touches no pipe; the caller must call this
/// before the context is shut down, so the socket's termination flag that
/// `zmq_setsockopt` reads is not being written.
pub(crate) unsafe fn force_linger(raw: *mut c_void, ms: i32) {
    // SAFETY: as the caller guarantees above; `ms` outlives the call.
    unsafe {
        zmq_sys::zmq_setsockopt(
            raw,
            zmq_sys::ZMQ_LINGER,
            (&raw const ms).cast(),
            size_of::<i32>(),
        )
    };
}

impl Socket {
    /// Creates a raw libzmq socket (`zmq_socket`) of `kind` in the libzmq
    /// context `ctx`.
    ///
    /// # Safety
    ///
    /// `ctx` must be a live libzmq context for the whole call.
    pub(crate) unsafe fn open_raw(
        ctx: *mut c_void,
        kind: crate::SocketType,
    ) -> Result<*mut c_void> {
        // SAFETY: ctx is live, as the caller guarantees.
        let s = unsafe { zmq_sys::zmq_socket(ctx, kind.raw()) };
        if s.is_null() {
            Err(Error::last())
        } else {
            Ok(s)
        }
    }

    /// # Safety
    ///
    /// `raw` must be a live socket of the context `ctx`, owned by nobody else.
    pub(crate) unsafe fn from_parts(raw: *mut c_void, ctx: Arc<Shared>) -> Socket {
        ctx.register_socket(raw);
        Socket {
            raw,
            ctx,
            copy_threshold: crate::message::follow_process_copy_threshold(),
            monitor_link: OnceLock::new(),
            owned: true,
            _not_sync: PhantomData,
        }
    }

    /// Wraps a raw libzmq socket (for sockets created by C code).
    ///
    /// # Safety
    ///
    /// `raw` must be a live socket created from `ctx`'s context, not used by
    /// anything else from now on: the returned `Socket` owns it and closes it
    /// when dropped.
    pub unsafe fn from_raw(raw: *mut c_void, ctx: &Context) -> Socket {
        // SAFETY: forwarded from the caller.
        unsafe { Socket::from_parts(raw, ctx.shared().clone()) }
    }

    /// A `Socket` over a libzmq socket that zmqx does not own (pyzmq's
    /// `Socket.shadow(address)`), for a socket handed over by C code or
    /// another binding. It works as any `Socket` (it can become an
    /// [`AsyncSocket`](crate::AsyncSocket), join a [`Poller`](crate::Poller)…)
    /// but dropping it, [`close`](Socket::close) and
    /// [`close_with_linger`](Socket::close_with_linger) never call
    /// `zmq_close`: the owner closes the socket. (`close_with_linger` sets the
    /// linger the owner's close will use.) A monitor started through the
    /// shadow ([`Socket::monitor_events`]) is stopped when the shadow is
    /// dropped, as for an owned socket. [`Context::destroy`]'s forced linger
    /// does not touch a shadow: its linger is its owner's business.
    ///
    /// `ctx` is the context the socket was made in, or a shadow of it
    /// ([`Context::shadow`]); the shadow keeps that handle alive and returns
    /// it from [`context`](Socket::context). Compare [`Socket::from_raw`],
    /// which takes ownership.
    ///
    /// Fails with an [`Error::InvalidInput`] for a null pointer, and with
    /// libzmq's error when it cannot read the socket's type (naming
    /// `ZMQ_TYPE`; match on [`Error::root`]): [`Error::NotSocket`]
    /// for a pointer libzmq does not recognise as a socket (it checks a tag
    /// in the object, which catches some mistakes but not a dangling
    /// pointer), [`Error::ContextTerminated`] when its context is terminating.
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// use zmqx::{Context, Socket, SocketType};
    /// let ctx = Context::new();
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://shadow-doc")?;
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.connect("inproc://shadow-doc")?;
    /// {
    ///     // SAFETY: `pull` is a socket of zmqx's libzmq that outlives the
    ///     // shadow, and is not used while the shadow is.
    ///     let shadow = unsafe { Socket::shadow(pull.as_raw(), &ctx)? };
    ///     push.send("first")?;
    ///     assert_eq!(shadow.recv_string()?, "first");
    /// } // the shadow is gone; `pull` is still open
    /// push.send("second")?;
    /// assert_eq!(pull.recv_string()?, "second");
    /// # Ok(()) }
    /// ```
    ///
    /// # Safety
    ///
    /// - `raw` must be a live socket (`zmq_socket`, not yet closed) of the
    ///   very libzmq that zmqx links (with the vendored build, a socket made
    ///   through zmqx's own [`sys`](crate::sys) or taken from
    ///   [`Socket::as_raw`]; never one from another copy of libzmq), made in
    ///   `ctx`'s libzmq context.
    /// - The owner must not close it until the shadow is dropped.
    /// - libzmq sockets are not thread-safe: while the shadow lives, the
    ///   socket must be used by one thread at a time, the shadow's or the
    ///   owner's, with a synchronisation (a lock, a channel, a thread join)
    ///   between a use by one and a use by the other. `Socket` is `!Sync`,
    ///   which keeps the shadow itself to one thread at a time, but it cannot
    ///   see the owner's uses.
    pub unsafe fn shadow(raw: *mut c_void, ctx: &Context) -> Result<Socket> {
        if raw.is_null() {
            return Err(Error::invalid("socket pointer to shadow", "it is null"));
        }
        let socket = Socket {
            raw,
            ctx: ctx.shared().clone(),
            copy_threshold: crate::message::follow_process_copy_threshold(),
            monitor_link: OnceLock::new(),
            owned: false,
            _not_sync: PhantomData,
        };
        // A call libzmq checks the socket's tag for, and that every live
        // socket answers. On failure the shadow is dropped, which closes
        // nothing.
        socket.socket_type()?;
        Ok(socket)
    }

    /// Whether this is a shadow, made by [`Socket::shadow`], which zmqx never
    /// closes.
    pub fn is_shadow(&self) -> bool {
        !self.owned
    }

    /// The raw `void *` socket, for calls zmqx does not wrap. It stays valid
    /// while this `Socket` is alive; do not close it.
    #[inline]
    pub fn as_raw(&self) -> *mut c_void {
        self.raw
    }

    /// Gives up ownership of the raw socket without closing it. The context
    /// is then kept alive for good, since zmqx can no longer tell when the raw
    /// socket is closed.
    ///
    /// On a shadow ([`Socket::shadow`]) this only drops the shadow (which
    /// never closes the socket) and returns the pointer.
    pub fn into_raw(self) -> *mut c_void {
        if !self.owned {
            return self.raw;
        }
        // Not dropping `self` also leaks its context reference, on purpose.
        let me = std::mem::ManuallyDrop::new(self);
        if let Some(link) = me.monitor_link.get() {
            link.give_away();
        }
        me.ctx.unregister_socket(me.raw, || {});
        me.raw
    }

    /// The context this socket belongs to (pyzmq's `socket.context`).
    pub fn context(&self) -> Context {
        Context::from_shared(self.ctx.clone())
    }

    /// Closes the socket (`zmq_close`) with its current linger. A shadow
    /// ([`Socket::shadow`]) is only dropped: its owner closes the socket.
    pub fn close(self) {
        drop(self);
    }

    /// Closes the socket after setting its linger (`None`: wait forever for
    /// pending messages).
    pub fn close_with_linger(self, linger: Option<Duration>) -> Result<()> {
        self.set_linger(linger)?;
        drop(self);
        Ok(())
    }

    /// Accepts connections on an endpoint (`zmq_bind`): `tcp://127.0.0.1:5555`,
    /// `tcp://*:*` (any free port), `tcp://lo:0`, `ipc:///tmp/sock`,
    /// `inproc://name`… Returns the endpoint actually bound, with the port
    /// the OS picked for `:*` / `:0` (what [`last_endpoint`](Socket::last_endpoint)
    /// reports right after; pyzmq's `bind` returns nothing and you read
    /// `socket.last_endpoint`), so a peer can connect to it directly:
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// let ctx = zmqx::Context::new();
    /// let pull = ctx.socket(zmqx::SocketType::Pull)?;
    /// let push = ctx.socket(zmqx::SocketType::Push)?;
    /// push.connect(&pull.bind("tcp://127.0.0.1:*")?)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A failure names the endpoint ([`Error::AtEndpoint`], as pyzmq's
    /// `Address already in use (addr='tcp://127.0.0.1:5555')`); match on
    /// [`Error::root`] for libzmq's error.
    #[doc(alias = "zmq_bind")]
    pub fn bind(&self, endpoint: &str) -> Result<String> {
        crate::endpoint::check_ipc_path(endpoint)?;
        crate::fdlimit::check_endpoint(endpoint, true)?;
        self.endpoint_call(endpoint, true, zmq_sys::zmq_bind)?;
        self.last_endpoint().map_err(|e| e.at_endpoint(endpoint))
    }

    /// Connects to an endpoint (`zmq_connect`). A failure names the endpoint
    /// ([`Error::AtEndpoint`]).
    #[doc(alias = "zmq_connect")]
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        crate::endpoint::check_ipc_path(endpoint)?;
        crate::fdlimit::check_endpoint(endpoint, false)?;
        self.endpoint_call(endpoint, true, zmq_sys::zmq_connect)
    }

    /// Stops accepting on an endpoint (`zmq_unbind`). For a wildcard bind, pass
    /// the endpoint [`last_endpoint`](Socket::last_endpoint) reported.
    #[doc(alias = "zmq_unbind")]
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.endpoint_call(endpoint, false, zmq_sys::zmq_unbind)
    }

    /// Disconnects from an endpoint (`zmq_disconnect`).
    #[doc(alias = "zmq_disconnect")]
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.endpoint_call(endpoint, false, zmq_sys::zmq_disconnect)
    }

    /// One of libzmq's endpoint calls, with the endpoint checked first and
    /// named in the error.
    fn endpoint_call(
        &self,
        endpoint: &str,
        new: bool,
        call: unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32,
    ) -> Result<()> {
        let c = endpoint_cstr(endpoint)?;
        if new {
            check_port(endpoint)?;
        }
        // SAFETY: raw is a live socket; c is a valid C string that outlives
        // the call; `call` is one of zmq_bind/connect/unbind/disconnect.
        check(unsafe { call(self.raw, c.as_ptr()) })
            .map(drop)
            .map_err(|e| e.at_endpoint(endpoint))
    }

    /// Binds, returning a guard that unbinds when dropped. The guard knows the
    /// real endpoint, so wildcard binds (`tcp://127.0.0.1:*`) unbind correctly.
    pub fn bind_scoped(&self, endpoint: &str) -> Result<Bound<'_>> {
        let endpoint = self.bind(endpoint)?;
        Ok(Bound {
            socket: self,
            endpoint,
        })
    }

    /// Connects, returning a guard that disconnects when dropped.
    pub fn connect_scoped(&self, endpoint: &str) -> Result<Connected<'_>> {
        self.connect(endpoint)?;
        Ok(Connected {
            socket: self,
            endpoint: endpoint.to_string(),
        })
    }

    /// Binds `addr` (like `tcp://127.0.0.1`, no port) to a random port in
    /// `ports`, trying at most `max_tries` ports; returns the port
    /// (pyzmq's `bind_to_random_port(addr, min_port, max_port, max_tries)`,
    /// whose default range is `49152..65536`).
    ///
    /// The port is always in `ports`. Only a port in use is retried: any
    /// other failure (an address that is not local, a bad address…) is
    /// returned at once. Fails with [`Error::Bind`] when every try hit a port
    /// in use. To let the OS pick any free port, use
    /// [`bind_to_any_port`](Socket::bind_to_any_port).
    pub fn bind_to_random_port(
        &self,
        addr: &str,
        ports: Range<u16>,
        max_tries: u32,
    ) -> Result<u16> {
        if ports.is_empty() {
            return Err(Error::invalid("port range", format!("{ports:?} is empty")));
        }
        let span = u64::from(ports.end - ports.start);
        for _ in 0..max_tries {
            let port = ports.start + (random_u64() % span) as u16;
            match self.bind(&format!("{addr}:{port}")) {
                Ok(_) => return Ok(port),
                Err(e) if matches!(e.root(), Error::AddressInUse) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Bind {
            addr: addr.to_string(),
            min: ports.start,
            max: ports.end,
            tries: max_tries,
        })
    }

    /// Binds `addr` (like `tcp://127.0.0.1`, no port) to a port the OS
    /// picks (`addr:*`, which never collides) and returns it. pyzmq has no
    /// such call (`bind("tcp://127.0.0.1:*")` then reading `LAST_ENDPOINT`).
    pub fn bind_to_any_port(&self, addr: &str) -> Result<u16> {
        self.bind(&format!("{addr}:*"))?;
        port_of(&self.last_endpoint()?)
    }

    /// Starts publishing this socket's monitor events on a PAIR socket bound at
    /// `endpoint` (`zmq_socket_monitor`, an `inproc://` address).
    /// Receive the events with a PAIR socket connected to `endpoint`, and
    /// decode them with [`recv_monitor_message`](crate::monitor::recv_monitor_message).
    ///
    /// libzmq sends events with a blocking send: read them until
    /// `MONITOR_STOPPED`, or call [`disable_monitor`](Socket::disable_monitor)
    /// before closing your PAIR socket, or a libzmq thread can block for good.
    /// [`monitor_events`](Socket::monitor_events) does all of this.
    pub fn monitor(&self, endpoint: &str, events: Event) -> Result<()> {
        self.replace_monitor(0, || self.start_monitor(endpoint, events))
    }

    /// `zmq_socket_monitor` on `endpoint`, without telling the link.
    pub(crate) fn start_monitor(&self, endpoint: &str, events: Event) -> Result<()> {
        let c = endpoint_cstr(endpoint)?;
        // SAFETY: raw is a live socket; c is a valid C string.
        check(unsafe { zmq_sys::zmq_socket_monitor(self.raw, c.as_ptr(), events.bits() as i32) })
            .map(drop)
            .map_err(|e| e.at_endpoint(endpoint))
    }

    /// Stops the socket monitor (`zmq_socket_monitor` with a null endpoint).
    pub fn disable_monitor(&self) -> Result<()> {
        self.replace_monitor(0, || {
            // SAFETY: raw is a live socket; a null endpoint stops monitoring.
            check(unsafe { zmq_sys::zmq_socket_monitor(self.raw, std::ptr::null(), 0) }).map(drop)
        })
    }

    /// Runs `start` (a `zmq_socket_monitor*` call, which replaces any
    /// previous monitor) and records that the monitor of `id` (0: none, or
    /// one set up by hand) is now the socket's, under the monitor link's
    /// lock.
    pub(crate) fn replace_monitor(
        &self,
        id: u64,
        start: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        match self.monitor_link.get() {
            Some(link) => link.replace(id, start),
            None if id == 0 => start(),
            None => self.monitor_link().replace(id, start),
        }
    }

    /// The link shared with this socket's [`Monitor`](crate::monitor::Monitor)s.
    pub(crate) fn monitor_link(&self) -> &Arc<MonitorLink> {
        self.monitor_link.get_or_init(|| MonitorLink::new(self.raw))
    }

    /// Reads a raw option value of the given kind (`zmq_getsockopt`); a
    /// failure names the option ([`Error::AtOption`]).
    pub(crate) fn get_raw_value(&self, id: i32, kind: OptionKind) -> Result<OptionValue> {
        self.get_raw_unnamed(id, kind)
            .map_err(|e| e.at_option(|| option_name(id)))
    }

    fn get_raw_unnamed(&self, id: i32, kind: OptionKind) -> Result<OptionValue> {
        match kind {
            OptionKind::Int => {
                // A value libzmq never stores, to see whether it wrote one.
                const UNSET: i32 = i32::MIN;
                let mut v: i32 = UNSET;
                match self.getsockopt(id, (&raw mut v).cast(), size_of::<i32>()) {
                    Ok(_) => Ok(OptionValue::Int(v)),
                    // libzmq 4.3.5 (DRAFT build) writes ZMQ_BUSY_POLL's value
                    // but then reports EINVAL (a missing `return 0`).
                    Err(Error::InvalidArgument)
                        if id == SocketOption::BUSY_POLL.id() && v != UNSET =>
                    {
                        Ok(OptionValue::Int(v))
                    }
                    Err(e) => Err(e),
                }
            }
            OptionKind::Int64 => {
                let mut v: i64 = 0;
                self.getsockopt(id, (&raw mut v).cast(), size_of::<i64>())?;
                Ok(OptionValue::Int64(v))
            }
            OptionKind::UInt64 => {
                let mut v: u64 = 0;
                self.getsockopt(id, (&raw mut v).cast(), size_of::<u64>())?;
                Ok(OptionValue::UInt64(v))
            }
            OptionKind::Bytes => {
                // CURVE keys come back binary only when asked for exactly 32 bytes.
                let is_key = matches!(
                    SocketOption::from_raw(id),
                    Some(
                        SocketOption::CURVE_PUBLICKEY
                            | SocketOption::CURVE_SECRETKEY
                            | SocketOption::CURVE_SERVERKEY
                    )
                );
                let is_string = SocketOption::from_raw(id).is_some_and(|o| o.is_string());
                let mut cap = if is_key { 32 } else { 1024 };
                let mut buf = loop {
                    let mut buf = vec![0u8; cap];
                    match self.getsockopt(id, buf.as_mut_ptr().cast(), buf.len()) {
                        Ok(len) => {
                            buf.truncate(len);
                            break buf;
                        }
                        // libzmq answers EINVAL, without the size it needs, when
                        // a string does not fit (a long inproc endpoint, a SOCKS
                        // proxy URL): retry with more room, up to a bound so a
                        // truly invalid option stays cheap.
                        Err(Error::InvalidArgument) if is_string && cap < MAX_STRING_OPTION => {
                            cap = (cap * 16).min(MAX_STRING_OPTION);
                        }
                        Err(e) => return Err(e),
                    }
                };
                if is_string && buf.last() == Some(&0) {
                    buf.pop();
                }
                Ok(OptionValue::Bytes(buf))
            }
        }
    }

    /// Sets a raw option value (`zmq_setsockopt`); a failure names the
    /// option ([`Error::AtOption`]).
    pub(crate) fn set_raw_value(&self, id: i32, value: &OptionValue) -> Result<()> {
        self.set_raw_unnamed(id, value)
            .map_err(|e| e.at_option(|| option_name(id)))
    }

    fn set_raw_unnamed(&self, id: i32, value: &OptionValue) -> Result<()> {
        match value {
            OptionValue::Int(v) => self.setsockopt(id, (v as *const i32).cast(), size_of::<i32>()),
            OptionValue::Int64(v) => {
                self.setsockopt(id, (v as *const i64).cast(), size_of::<i64>())
            }
            OptionValue::UInt64(v) => {
                self.setsockopt(id, (v as *const u64).cast(), size_of::<u64>())
            }
            OptionValue::Bytes(b) => self.setsockopt(id, b.as_ptr().cast(), b.len()),
        }
    }

    /// Sets a binary or string option (`zmq_setsockopt`); a failure names
    /// the option ([`Error::AtOption`]).
    pub(crate) fn set_raw_bytes(&self, id: i32, value: &[u8]) -> Result<()> {
        self.setsockopt(id, value.as_ptr().cast(), value.len())
            .map_err(|e| e.at_option(|| option_name(id)))
    }

    /// Sets an option to `(NULL, 0)`, which libzmq reads as "clear" for a
    /// few options (`zmq_setsockopt`).
    pub(crate) fn set_raw_null(&self, id: i32) -> Result<()> {
        self.setsockopt(id, std::ptr::null(), 0)
            .map_err(|e| e.at_option(|| option_name(id)))
    }

    fn setsockopt(&self, id: i32, ptr: *const c_void, len: usize) -> Result<()> {
        // SAFETY: raw is a live socket; ptr points to len readable bytes.
        check(unsafe { zmq_sys::zmq_setsockopt(self.raw, id, ptr, len) }).map(drop)
    }

    pub(crate) fn getsockopt(&self, id: i32, ptr: *mut c_void, len: usize) -> Result<usize> {
        let mut size = len;
        // SAFETY: raw is a live socket; ptr points to `len` writable bytes and
        // size tells libzmq so; libzmq writes back the size used.
        check(unsafe { zmq_sys::zmq_getsockopt(self.raw, id, ptr, &mut size) })?;
        Ok(size.min(len))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // A shadow is neither registered with its context nor closed here:
        // only the monitor started through it is stopped.
        if !self.owned {
            if let Some(link) = self.monitor_link.get() {
                link.close();
            }
            return;
        }
        if let Some(ms) = self.ctx.forced_linger() {
            let _ = self.setsockopt(
                zmq_sys::ZMQ_LINGER,
                (&raw const ms).cast(),
                size_of::<i32>(),
            );
        }
        // A monitor still read by a `Monitor` is disabled before the close, so
        // libzmq never sends to its PAIR socket after that is closed.
        if let Some(link) = self.monitor_link.get() {
            link.close();
        }
        let raw = self.raw;
        self.ctx.unregister_socket(raw, || {
            // SAFETY: raw is a live socket owned by self; closed exactly once.
            // zmq_close only fails for an invalid socket, which cannot happen here.
            unsafe { zmq_sys::zmq_close(raw) };
        });
    }
}

/// An option's C name (`ZMQ_LINGER`), or `#number` for one zmqx does not know.
fn option_name(id: i32) -> String {
    match SocketOption::from_raw(id) {
        Some(o) => format!("ZMQ_{}", o.name()),
        None => format!("#{id}"),
    }
}

/// The port of `tcp://host:port`.
fn port_of(endpoint: &str) -> Result<u16> {
    endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error::invalid("endpoint", format!("no port in {endpoint:?}")))
}

/// A random number without a dependency: std's per-process random hash keys
/// mixed with a counter.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn socket_is_send() {
        assert_send::<Socket>();
    }

    #[test]
    fn port_checks() {
        for ok in [
            "tcp://127.0.0.1:5555",
            "tcp://*:*",
            "tcp://127.0.0.1:0",
            "tcp://[::1]:65535",
            "tcp://eth0;127.0.0.1:80",
            "tcp://127.0.0.1:5555;127.0.0.1:6666",
            "tcp://",
            "tcp://host",
            "inproc://a:b:99999",
            "ipc:///tmp/x:1",
            "udp://127.0.0.1:5555",
        ] {
            assert!(check_port(ok).is_ok(), "{ok}");
        }
        for bad in [
            "tcp://127.0.0.1:99999",
            "tcp://127.0.0.1:65536",
            "tcp://127.0.0.1:-1",
            "tcp://127.0.0.1:+1",
            "tcp://127.0.0.1:12x",
            "tcp://127.0.0.1:",
            "tcp://127.0.0.1:notaport",
            "tcp://127.0.0.1:99999999999999999999",
            "udp://127.0.0.1:99999",
            "tcp://eth0;127.0.0.1:99999",
        ] {
            assert!(
                matches!(check_port(bad), Err(Error::InvalidInput { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn ports() {
        assert_eq!(port_of("tcp://127.0.0.1:5555").ok(), Some(5555));
        assert!(port_of("inproc://x").is_err());
    }
}
