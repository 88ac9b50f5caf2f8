//! [`Context`]: the owner of libzmq's `void *context`.
//!
//! A `Context` is a cheap, cloneable handle (`Send + Sync`) to one libzmq
//! context. Every [`Socket`] keeps the context alive, so the context is
//! terminated (`zmq_ctx_term`) when the last handle *and* the last socket are
//! gone — which can never block forever, because zmqx gives every socket a
//! finite default linger (see [`DEFAULT_LINGER`]).

use std::collections::HashSet;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::constants::{ContextOption, SocketType};
use crate::error::{Error, Result, check};
use crate::options::OptionValue;
use crate::socket::Socket;

/// The linger zmqx gives every new socket unless told otherwise: one second.
///
/// libzmq's own default is infinite: a program whose socket holds unsent
/// messages for a peer that never comes hangs forever in `zmq_ctx_term` at
/// exit. zmqx never hangs without being asked to: pending messages get one
/// second to leave, then are dropped. Ask for libzmq's behaviour with
/// `ctx.set_default_linger(None)` or `socket.set_linger(None)`; for pyzmq's
/// common `ctx.linger = 0`, use `ctx.set_default_linger(Some(Duration::ZERO))`.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// Marker for "no forced linger" in [`Shared::forced_linger`].
const NO_FORCED_LINGER: i32 = i32::MIN;

/// The libzmq context of a [`Shared`].
#[derive(Clone, Copy)]
enum Raw {
    /// `zmq_ctx_new` failed when the [`Context`] was made (out of file
    /// descriptors or memory): it is tried again on the next call that needs
    /// the context, which fails with libzmq's error if it still cannot.
    Unborn,
    /// The live context.
    Live(*mut c_void),
    /// Terminated ([`Context::term`], [`Context::destroy`]).
    Terminated,
}

/// The state shared by a context's handles and sockets.
pub(crate) struct Shared {
    /// The libzmq context. Readers (socket creation, options) hold the read
    /// lock during their call so termination, which takes the write lock to
    /// retire it, cannot free it under them.
    raw: RwLock<Raw>,
    /// The process that created the libzmq context. In a forked child the
    /// context is unusable (its threads stayed in the parent): it is then
    /// never terminated nor its sockets closed, only leaked, as pyzmq does.
    pid: u32,
    /// Whether a socket was made, so libzmq has started the context's
    /// threads (which need file descriptors: see [`crate::fdlimit`]).
    started: AtomicBool,
    /// Socket options applied to every new socket (pyzmq's `ctx.linger = 0`).
    defaults: Mutex<Vec<(i32, OptionValue)>>,
    /// Linger forced on sockets as they close, set by [`Context::destroy`].
    forced_linger: AtomicI32,
    /// The live sockets of this context (their `void *` as `usize`), so that
    /// [`Context::destroy`] can set their linger. A socket removes itself
    /// (under this lock) before `zmq_close`, so every entry is a live socket.
    sockets: Mutex<HashSet<usize>>,
    /// Whether zmqx owns the libzmq context: false for a shadow
    /// ([`Context::shadow`]), which is never shut down nor terminated here.
    owned: bool,
}

// SAFETY: libzmq contexts are thread-safe (zmq_ctx_* and zmq_socket may be
// called from any thread); the pointer itself is guarded by the RwLock.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// A new context state; `zmq_ctx_new` is tried at once, and again on
    /// first use if it fails now.
    fn new() -> Shared {
        // SAFETY: zmq_ctx_new has no preconditions.
        let raw = unsafe { zmq_sys::zmq_ctx_new() };
        Shared::with(
            if raw.is_null() {
                Raw::Unborn
            } else {
                Raw::Live(raw)
            },
            true,
        )
    }

    /// The state of the libzmq context `raw`, owned by zmqx or not.
    fn with(raw: Raw, owned: bool) -> Shared {
        Shared {
            raw: RwLock::new(raw),
            pid: std::process::id(),
            started: AtomicBool::new(false),
            defaults: Mutex::new(Vec::new()),
            forced_linger: AtomicI32::new(NO_FORCED_LINGER),
            sockets: Mutex::new(HashSet::new()),
            owned,
        }
    }

    /// Whether this process is a fork of the one that made the context.
    fn forked(&self) -> bool {
        std::process::id() != self.pid
    }

    /// Runs `f` with the live context pointer, or fails with
    /// [`Error::ContextTerminated`] (or, if the context was never created
    /// and still cannot be, with libzmq's error for `zmq_ctx_new`).
    pub(crate) fn with_raw<T>(&self, f: impl FnOnce(*mut c_void) -> Result<T>) -> Result<T> {
        {
            let guard = self.raw.read().unwrap_or_else(|e| e.into_inner());
            match *guard {
                Raw::Live(raw) => return f(raw),
                Raw::Terminated => return Err(Error::ContextTerminated),
                Raw::Unborn => {}
            }
        }
        self.create()?;
        let guard = self.raw.read().unwrap_or_else(|e| e.into_inner());
        match *guard {
            Raw::Live(raw) => f(raw),
            // Terminated between the two locks.
            _ => Err(Error::ContextTerminated),
        }
    }

    /// Creates the libzmq context of an unborn `Shared`.
    fn create(&self) -> Result<()> {
        let mut guard = self.raw.write().unwrap_or_else(|e| e.into_inner());
        if let Raw::Unborn = *guard {
            // SAFETY: zmq_ctx_new has no preconditions.
            let raw = unsafe { zmq_sys::zmq_ctx_new() };
            if raw.is_null() {
                return Err(Error::last());
            }
            *guard = Raw::Live(raw);
        }
        Ok(())
    }

    /// The live context pointer, null when terminated or not created.
    fn raw_or_null(&self) -> *mut c_void {
        match *self.raw.read().unwrap_or_else(|e| e.into_inner()) {
            Raw::Live(raw) => raw,
            _ => std::ptr::null_mut(),
        }
    }

    /// The linger [`Context::destroy`] asked closing sockets to use, in ms.
    pub(crate) fn forced_linger(&self) -> Option<i32> {
        let v = self.forced_linger.load(Ordering::Acquire);
        (v != NO_FORCED_LINGER).then_some(v)
    }

    /// Records a live socket of this context.
    pub(crate) fn register_socket(&self, raw: *mut c_void) {
        self.started.store(true, Ordering::Relaxed);
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(raw as usize);
    }

    /// Runs `close` (which closes or gives away `raw`) after removing `raw`
    /// from the live sockets, under the lock, so that [`Context::destroy`]
    /// never touches a closed socket.
    ///
    /// In a forked child `close` is not run: the socket belongs to the
    /// parent's context, whose threads are not in this process, and closing
    /// it would signal the parent's reaper through a shared descriptor. It
    /// is leaked, as pyzmq does.
    pub(crate) fn unregister_socket(&self, raw: *mut c_void, close: impl FnOnce()) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        sockets.remove(&(raw as usize));
        if !self.forked() {
            close();
        }
    }

    /// Sets `ZMQ_LINGER` on every live socket (pyzmq's `destroy(linger)`).
    fn set_linger_of_all(&self, ms: i32) {
        let sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        for &raw in sockets.iter() {
            // SAFETY: `raw` is a live socket: sockets leave this set under
            // this lock before they are closed; see `force_linger` for why
            // its owner thread may be using it meanwhile.
            unsafe { crate::socket::force_linger(raw as *mut c_void, ms) };
        }
    }

    /// Terminates the libzmq context if still alive. Blocks until every socket
    /// is closed. In a forked child, and for a shadow, the context is only
    /// forgotten.
    fn terminate(&self) -> Result<()> {
        let raw = {
            let mut guard = self.raw.write().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *guard, Raw::Terminated)
        };
        let Raw::Live(raw) = raw else {
            return Ok(());
        };
        if !self.owned {
            // A shadow: the context belongs to whoever made it, who
            // terminates it.
            return Ok(());
        }
        if self.forked() {
            // The parent's context: its I/O and reaper threads are not in
            // this process, so zmq_ctx_term would wait for them forever.
            return Ok(());
        }
        loop {
            // SAFETY: raw is the live context; it is no longer reachable from
            // `self.raw`, so nothing else will use it after this returns.
            let rc = unsafe { zmq_sys::zmq_ctx_term(raw) };
            match check(rc) {
                Ok(_) => return Ok(()),
                Err(Error::Interrupted) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Every socket holds an Arc<Shared>, so all are closed by now and this
        // waits at most for their linger.
        let _ = self.terminate();
    }
}

/// A ZeroMQ context (`zmq_ctx_new`): the container of sockets and I/O threads.
///
/// `Context` is `Send + Sync` and cheap to clone (all clones are the same
/// context). Sockets can be created from any thread.
///
/// ```
/// # fn main() -> zmqx::Result<()> {
/// let ctx = zmqx::Context::new();
/// let push = ctx.socket(zmqx::SocketType::Push)?;
/// let pull = ctx.socket(zmqx::SocketType::Pull)?;
/// pull.bind("inproc://example")?;
/// push.connect("inproc://example")?;
/// push.send("hello")?;
/// assert_eq!(pull.recv_string()?, "hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("raw", &self.shared.raw_or_null())
            .finish()
    }
}

impl Default for Context {
    fn default() -> Context {
        Context::new()
    }
}

impl Context {
    /// A new context with one I/O thread (`zmq_ctx_new`).
    ///
    /// Never fails nor panics: if libzmq cannot create the context now (out
    /// of file descriptors or memory), the first call that needs it
    /// ([`socket`](Context::socket), [`set`](Context::set), [`get`](Context::get)…)
    /// tries again and returns libzmq's error if it still cannot. Use
    /// [`Context::try_new`] to get that error at once.
    pub fn new() -> Context {
        let ctx = Context {
            shared: Arc::new(Shared::new()),
        };
        ctx.set_default(
            crate::options::SocketOption::LINGER,
            OptionValue::Int(DEFAULT_LINGER.as_millis() as i32),
        );
        ctx
    }

    /// A new context (`zmq_ctx_new`), or the error libzmq reported
    /// ([`Error::TooManyOpenFiles`] at the file descriptor limit).
    pub fn try_new() -> Result<Context> {
        let ctx = Context::new();
        ctx.shared.with_raw(|_| Ok(()))?;
        Ok(ctx)
    }

    /// A new context with `io_threads` I/O threads (`ZMQ_IO_THREADS`).
    pub fn with_io_threads(io_threads: i32) -> Result<Context> {
        let ctx = Context::try_new()?;
        ctx.set(ContextOption::IoThreads, io_threads)?;
        Ok(ctx)
    }

    /// The process-wide shared context (pyzmq's `Context.instance()`), created
    /// on first use. It lives until the process exits, unless it is
    /// terminated ([`term`](Context::term), [`destroy`](Context::destroy)):
    /// then the next call creates a new one, as pyzmq does.
    ///
    /// Fork-aware, like pyzmq's: in a child process made by `fork`, the
    /// first call returns a new context. The parent's instance is left
    /// untouched in the child: never terminated there, its sockets never
    /// closed there (its threads live in the parent only); the same holds for
    /// every other `Context` and `Socket` the child inherited. A fork made
    /// while another thread is inside this call leaves its lock taken in the
    /// child, as with any lock: fork from a quiet point. Like
    /// [`Context::new`] it never fails: if libzmq cannot create the context
    /// now, the first socket made from it reports the error.
    pub fn instance() -> Context {
        // The pid of the process the instance was made in, and the instance.
        static INSTANCE: Mutex<Option<(u32, Context)>> = Mutex::new(None);
        let mut instance = INSTANCE.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if let Some((owner, ctx)) = &*instance {
            if *owner == pid && !ctx.is_terminated() {
                return ctx.clone();
            }
        }
        // A terminated instance, or the parent's after a fork (whose drop
        // here does nothing to libzmq: see `Shared::terminate`).
        let ctx = Context::new();
        *instance = Some((pid, ctx.clone()));
        ctx
    }

    /// A new socket of the given type (`zmq_socket`), with this context's
    /// default socket options applied.
    ///
    /// The first socket of a context starts its I/O threads, which take file
    /// descriptors: if too few are free, this fails with
    /// [`Error::FdLimit`] (libzmq would abort the process).
    pub fn socket(&self, kind: SocketType) -> Result<Socket> {
        let raw = self.shared.with_raw(|ctx| {
            if !self.shared.started.load(Ordering::Relaxed) {
                // SAFETY: ctx is live (guarded by the read lock for this call).
                let io_threads = unsafe { zmq_sys::zmq_ctx_get(ctx, zmq_sys::ZMQ_IO_THREADS) };
                crate::fdlimit::require(
                    crate::fdlimit::needed_to_start_context(io_threads),
                    || format!("the first socket of a context with {io_threads} I/O threads"),
                )?;
            }
            // SAFETY: ctx is live (guarded by the read lock for this call).
            unsafe { Socket::open_raw(ctx, kind) }
        })?;
        // SAFETY: raw is a fresh socket of this context, owned by nobody else.
        let socket = unsafe { Socket::from_parts(raw, self.shared.clone()) };
        let defaults = self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (id, value) in defaults {
            match socket.set_raw_value(id, &value) {
                // An option that does not apply to this socket type is skipped,
                // as pyzmq does with context defaults.
                Err(e) if !matches!(e.root(), Error::InvalidArgument) => return Err(e),
                _ => {}
            }
        }
        Ok(socket)
    }

    /// A background loop's stop pair over inproc, both ends with linger 0:
    /// (the loop's end, the owner's end). One message from the owner's end
    /// ends the loop at its next poll, wherever it waits. `name` makes the
    /// endpoint readable in a debugger (`inproc://zmqx-NAME-stop-…`).
    pub(crate) fn stop_pair(&self, name: &str) -> Result<(Socket, Socket)> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let endpoint = format!(
            "inproc://zmqx-{name}-stop-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let rx = self.socket(SocketType::Pair)?;
        rx.set_linger(Some(Duration::ZERO))?;
        rx.bind(&endpoint)?;
        let tx = self.socket(SocketType::Pair)?;
        tx.set_linger(Some(Duration::ZERO))?;
        tx.connect(&endpoint)?;
        Ok((rx, tx))
    }

    /// Stores a socket option applied to every socket created afterwards
    /// (pyzmq's `ctx.setsockopt` / `ctx.linger = …`). Sockets that already
    /// exist are not changed.
    pub fn set_default(&self, option: crate::options::SocketOption, value: OptionValue) {
        let mut defaults = self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let id = option.id();
        defaults.retain(|(o, _)| *o != id);
        defaults.push((id, value));
    }

    /// Removes a default socket option; new sockets get libzmq's default for it.
    pub fn clear_default(&self, option: crate::options::SocketOption) {
        let mut defaults = self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        defaults.retain(|(o, _)| *o != option.id());
    }

    /// The default value of a socket option, if one is stored.
    pub fn get_default(&self, option: crate::options::SocketOption) -> Option<OptionValue> {
        let defaults = self
            .shared
            .defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        defaults
            .iter()
            .find(|(o, _)| *o == option.id())
            .map(|(_, v)| v.clone())
    }

    /// Sets the linger of sockets created afterwards; `None` is infinite
    /// (libzmq's own default). See [`DEFAULT_LINGER`].
    pub fn set_default_linger(&self, linger: Option<Duration>) -> Result<()> {
        let ms = crate::options::duration_to_ms(linger, "linger")?;
        self.set_default(crate::options::SocketOption::LINGER, OptionValue::Int(ms));
        Ok(())
    }

    /// Sets a context option (`zmq_ctx_set`). Read-only options
    /// (`SOCKET_LIMIT`, `MSG_T_SIZE`) are an [`Error::InvalidInput`].
    pub fn set(&self, option: ContextOption, value: i32) -> Result<()> {
        if matches!(option, ContextOption::SocketLimit | ContextOption::MsgTSize) {
            return Err(Error::invalid(
                format!("context option {option:?}"),
                "the option is read-only",
            ));
        }
        self.shared.with_raw(|ctx| {
            // SAFETY: ctx is live for the call.
            check(unsafe { zmq_sys::zmq_ctx_set(ctx, option.id(), value) }).map(drop)
        })
    }

    /// Reads a context option (`zmq_ctx_get`). Write-only options (thread
    /// priority, affinity) are an [`Error::InvalidInput`].
    pub fn get(&self, option: ContextOption) -> Result<i32> {
        if matches!(
            option,
            ContextOption::ThreadPriority
                | ContextOption::ThreadAffinityCpuAdd
                | ContextOption::ThreadAffinityCpuRemove
        ) {
            return Err(Error::invalid(
                format!("context option {option:?}"),
                "the option is write-only",
            ));
        }
        self.shared.with_raw(|ctx| {
            // zmq_ctx_get returns -1 both on error and for a value of -1
            // (the scheduling policy's default, a name prefix of -1), and
            // any other negative number is a value too (a prefix of -5):
            // errno, cleared before the call, tells them apart.
            // SAFETY: ctx is live for the call.
            let call = || unsafe { zmq_sys::zmq_ctx_get(ctx, option.id()) };
            match crate::functions::value_or_errno(call) {
                Some(result) => result,
                // errno cannot be cleared on this platform: for a live
                // context and a readable option libzmq cannot fail, so -1
                // is the value of the options that can hold it.
                None if matches!(
                    option,
                    ContextOption::ThreadSchedPolicy | ContextOption::ThreadNamePrefix
                ) =>
                {
                    Ok(-1)
                }
                None => Err(Error::last()),
            }
        })
    }

    /// `ZMQ_IO_THREADS`.
    pub fn io_threads(&self) -> Result<i32> {
        self.get(ContextOption::IoThreads)
    }

    /// Sets `ZMQ_IO_THREADS` (only effective before the first socket).
    pub fn set_io_threads(&self, n: i32) -> Result<()> {
        self.set(ContextOption::IoThreads, n)
    }

    /// `ZMQ_MAX_SOCKETS`.
    pub fn max_sockets(&self) -> Result<i32> {
        self.get(ContextOption::MaxSockets)
    }

    /// Sets `ZMQ_MAX_SOCKETS`.
    pub fn set_max_sockets(&self, n: i32) -> Result<()> {
        self.set(ContextOption::MaxSockets, n)
    }

    /// `ZMQ_SOCKET_LIMIT`: the largest value `ZMQ_MAX_SOCKETS` accepts.
    pub fn socket_limit(&self) -> Result<i32> {
        self.get(ContextOption::SocketLimit)
    }

    /// `ZMQ_IPV6`.
    pub fn ipv6(&self) -> Result<bool> {
        Ok(self.get(ContextOption::Ipv6)? != 0)
    }

    /// Sets `ZMQ_IPV6` for sockets created afterwards.
    pub fn set_ipv6(&self, on: bool) -> Result<()> {
        self.set(ContextOption::Ipv6, on as i32)
    }

    /// `ZMQ_BLOCKY`.
    pub fn blocky(&self) -> Result<bool> {
        Ok(self.get(ContextOption::Blocky)? != 0)
    }

    /// Sets `ZMQ_BLOCKY`.
    pub fn set_blocky(&self, on: bool) -> Result<()> {
        self.set(ContextOption::Blocky, on as i32)
    }

    /// `ZMQ_MAX_MSGSZ`.
    pub fn max_msgsz(&self) -> Result<i32> {
        self.get(ContextOption::MaxMsgSz)
    }

    /// Sets `ZMQ_MAX_MSGSZ`.
    pub fn set_max_msgsz(&self, n: i32) -> Result<()> {
        self.set(ContextOption::MaxMsgSz, n)
    }

    /// `ZMQ_MSG_T_SIZE`: the size of libzmq's `zmq_msg_t`.
    pub fn msg_t_size(&self) -> Result<i32> {
        self.get(ContextOption::MsgTSize)
    }

    /// `ZMQ_THREAD_SCHED_POLICY`.
    pub fn thread_sched_policy(&self) -> Result<i32> {
        self.get(ContextOption::ThreadSchedPolicy)
    }

    /// Sets `ZMQ_THREAD_SCHED_POLICY`.
    pub fn set_thread_sched_policy(&self, policy: i32) -> Result<()> {
        self.set(ContextOption::ThreadSchedPolicy, policy)
    }

    /// Sets `ZMQ_THREAD_PRIORITY`.
    pub fn set_thread_priority(&self, priority: i32) -> Result<()> {
        self.set(ContextOption::ThreadPriority, priority)
    }

    /// Adds a CPU to the I/O threads' affinity (`ZMQ_THREAD_AFFINITY_CPU_ADD`).
    pub fn add_thread_affinity_cpu(&self, cpu: i32) -> Result<()> {
        self.set(ContextOption::ThreadAffinityCpuAdd, cpu)
    }

    /// Removes a CPU from the I/O threads' affinity (`ZMQ_THREAD_AFFINITY_CPU_REMOVE`).
    pub fn remove_thread_affinity_cpu(&self, cpu: i32) -> Result<()> {
        self.set(ContextOption::ThreadAffinityCpuRemove, cpu)
    }

    /// Sets `ZMQ_THREAD_NAME_PREFIX` (I/O threads are named `ZMQbg/<prefix>/IO/n`).
    pub fn set_thread_name_prefix(&self, prefix: i32) -> Result<()> {
        self.set(ContextOption::ThreadNamePrefix, prefix)
    }

    /// `ZMQ_THREAD_NAME_PREFIX`.
    pub fn thread_name_prefix(&self) -> Result<i32> {
        self.get(ContextOption::ThreadNamePrefix)
    }

    /// `ZMQ_ZERO_COPY_RECV`: whether received messages point into the
    /// decoder's buffer instead of being copied out of it (libzmq's default:
    /// on). In the DRAFT section of `zmq.h`, implemented by every 4.3.5 build.
    pub fn zero_copy_recv(&self) -> Result<bool> {
        Ok(self.get(ContextOption::ZeroCopyRecv)? != 0)
    }

    /// Sets `ZMQ_ZERO_COPY_RECV` for sockets created afterwards.
    pub fn set_zero_copy_recv(&self, on: bool) -> Result<()> {
        self.set(ContextOption::ZeroCopyRecv, on as i32)
    }

    /// Shuts the context down (`zmq_ctx_shutdown`): every blocking call on its
    /// sockets, now and later, fails with [`Error::ContextTerminated`], so the
    /// threads that own them can close them. Does not block.
    ///
    /// On a shadow ([`Context::shadow`]) this shuts down the owner's context
    /// too (every socket of it, whoever owns them): it is the same context.
    pub fn shutdown(&self) -> Result<()> {
        self.shared.with_raw(|ctx| {
            // SAFETY: ctx is live for the call.
            check(unsafe { zmq_sys::zmq_ctx_shutdown(ctx) }).map(drop)
        })
    }

    /// Terminates the context (`zmq_ctx_term`), blocking until every socket of
    /// it is closed, then waiting for their linger.
    ///
    /// Sockets owned by other threads keep working until those threads close
    /// them; blocking calls on them fail with [`Error::ContextTerminated`]
    /// from now on. Other `Context` handles see the context as terminated:
    /// creating a socket fails with `ContextTerminated`. Terminating twice is
    /// not an error.
    ///
    /// On a shadow ([`Context::shadow`]) this only detaches the shadow: the
    /// libzmq context is left to its owner, and this never blocks.
    pub fn term(&self) -> Result<()> {
        self.shared.terminate()
    }

    /// pyzmq's `ctx.destroy(linger)`: makes every socket of this context close
    /// with `linger` (`None` keeps each socket's own), shuts the context down so
    /// blocked calls return [`Error::ContextTerminated`], then terminates it.
    ///
    /// The linger is set on every live socket (`ZMQ_LINGER`, which libzmq
    /// allows from another thread) before the shutdown, so even a socket with
    /// an infinite linger and unsent messages cannot make this hang once its
    /// owner drops it.
    ///
    /// Rust sockets are owned by their threads, so unlike pyzmq this does not
    /// close them from here: the owning threads must drop them (they will see
    /// `ContextTerminated`). Sockets owned by the calling thread must be
    /// dropped before calling this, or it blocks until they are.
    ///
    /// On a shadow ([`Context::shadow`]) this sets the linger of the sockets
    /// made through the shadow, then detaches it like [`term`](Context::term):
    /// the owner's context is neither shut down nor terminated.
    pub fn destroy(&self, linger: Option<Duration>) -> Result<()> {
        if let Some(l) = linger {
            let ms = crate::options::duration_to_ms(Some(l), "linger")?;
            self.shared.forced_linger.store(ms, Ordering::Release);
            // Sockets whose owners are blocked (and will see ETERM before they
            // can close) must get the linger now: libzmq refuses setsockopt
            // on a socket that has seen the context stop.
            self.shared.set_linger_of_all(ms);
        }
        if self.shared.owned {
            match self.shutdown() {
                Ok(()) | Err(Error::ContextTerminated) => {}
                Err(e) => return Err(e),
            }
        }
        self.term()
    }

    /// Whether [`term`](Context::term) or [`destroy`](Context::destroy) was
    /// called (pyzmq's `ctx.closed`); for a shadow, whether it was detached.
    pub fn is_terminated(&self) -> bool {
        matches!(
            *self.shared.raw.read().unwrap_or_else(|e| e.into_inner()),
            Raw::Terminated
        )
    }

    /// The raw `void *` of the context: null once terminated, or when libzmq
    /// cannot create it (see [`Context::new`]).
    ///
    /// It stays valid while this `Context` (or any clone or socket of it) is
    /// alive and [`term`](Context::term) has not been called.
    pub fn as_raw(&self) -> *mut c_void {
        self.shared.with_raw(Ok).unwrap_or(std::ptr::null_mut())
    }

    /// A handle to a libzmq context that zmqx does not own (pyzmq's
    /// `Context.shadow(address)`), for a context handed over by C code or
    /// another binding (a PyO3 extension given pyzmq's `ctx.underlying`).
    ///
    /// The shadow uses the context but never ends it: dropping the last
    /// clone (and the last socket made from it) does not call
    /// `zmq_ctx_term`. [`term`](Context::term) and
    /// [`destroy`](Context::destroy) on a shadow only detach it: afterwards
    /// the shadow and its clones behave as terminated (making a socket fails
    /// with [`Error::ContextTerminated`]), while the libzmq context and the
    /// owner's sockets go on; `destroy(Some(linger))` still sets the linger
    /// of the sockets made through the shadow, but neither shuts the context
    /// down nor terminates it. Unlike pyzmq, whose `term()` on a shadow
    /// terminates the shadowed context, zmqx leaves ending it to its owner:
    /// a context terminated behind the owner's back would be freed twice.
    /// [`shutdown`](Context::shutdown) is passed on (`zmq_ctx_shutdown`
    /// frees nothing; it makes the owner's blocking calls fail too).
    ///
    /// Sockets made from a shadow are ordinary zmqx sockets: they are closed
    /// when dropped, and get zmqx's [`DEFAULT_LINGER`] as from
    /// [`Context::new`]. Context options ([`set`](Context::set)) change the
    /// shared libzmq context.
    ///
    /// Fails with an [`Error::InvalidInput`] for a null pointer, and with
    /// libzmq's [`Error::Fault`] for a pointer libzmq does not recognise as
    /// a context (it checks a tag in the object, which catches some mistakes,
    /// such as a socket passed for a context, but not a dangling pointer).
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// let owner = zmqx::Context::new();
    /// // SAFETY: `owner` is a zmqx context (so of the libzmq zmqx links)
    /// // and outlives the shadow.
    /// let shadow = unsafe { zmqx::Context::shadow(owner.as_raw())? };
    /// let pull = shadow.socket(zmqx::SocketType::Pull)?;
    /// pull.bind("inproc://shadowed")?;
    /// let push = owner.socket(zmqx::SocketType::Push)?;
    /// push.connect("inproc://shadowed")?;
    /// push.send("through one context")?;
    /// assert_eq!(pull.recv_string()?, "through one context");
    /// # Ok(()) }
    /// ```
    ///
    /// # Safety
    ///
    /// - `raw` must be a live context (`zmq_ctx_new`, not yet terminated) of
    ///   the very libzmq that zmqx links. With the vendored build (the
    ///   `vendored` feature, a static libzmq inside this binary) that means
    ///   a context made through zmqx's own [`sys`](crate::sys) or
    ///   [`Context::as_raw`]; a context from another copy of libzmq (a
    ///   Python wheel's bundled one, a C library's static one) has another
    ///   layout and must not be passed, even when the versions match.
    /// - The context must stay live (its owner must not call
    ///   `zmq_ctx_term`/`zmq_ctx_destroy`) until the shadow, all its clones
    ///   and every socket made from it are dropped, or
    ///   [`term`](Context::term) has been called on the shadow and the
    ///   sockets made from it are dropped. (The owner's `zmq_ctx_term`
    ///   blocks until those sockets are closed, which is allowed as long as
    ///   the threads that own them go on to drop them.)
    pub unsafe fn shadow(raw: *mut c_void) -> Result<Context> {
        if raw.is_null() {
            return Err(Error::invalid("context pointer to shadow", "it is null"));
        }
        // SAFETY: raw is a live context of zmqx's libzmq, as the caller
        // guarantees; zmq_ctx_get checks its tag before using it.
        let rc = unsafe { zmq_sys::zmq_ctx_get(raw, zmq_sys::ZMQ_IO_THREADS) };
        if rc < 0 {
            return Err(Error::last());
        }
        let ctx = Context {
            shared: Arc::new(Shared::with(Raw::Live(raw), false)),
        };
        ctx.set_default(
            crate::options::SocketOption::LINGER,
            OptionValue::Int(DEFAULT_LINGER.as_millis() as i32),
        );
        Ok(ctx)
    }

    /// Whether this is a shadow, made by [`Context::shadow`], which zmqx
    /// never terminates.
    pub fn is_shadow(&self) -> bool {
        !self.shared.owned
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Context {
        Context { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn context_is_send_and_sync() {
        assert_send_sync::<Context>();
    }

    #[test]
    fn options_round_trip() -> Result<()> {
        let ctx = Context::new();
        assert_eq!(ctx.io_threads()?, 1);
        ctx.set_io_threads(2)?;
        assert_eq!(ctx.io_threads()?, 2);
        ctx.set_max_sockets(100)?;
        assert_eq!(ctx.max_sockets()?, 100);
        assert!(ctx.socket_limit()? > 0);
        ctx.set_ipv6(true)?;
        assert!(ctx.ipv6()?);
        assert!(ctx.blocky()?);
        ctx.set_blocky(false)?;
        assert!(!ctx.blocky()?);
        assert_eq!(ctx.msg_t_size()?, 64);
        ctx.set_max_msgsz(1 << 20)?;
        assert_eq!(ctx.max_msgsz()?, 1 << 20);
        Ok(())
    }

    #[test]
    fn bad_option_value_is_an_error() {
        let ctx = Context::new();
        assert!(matches!(
            ctx.set_io_threads(-1),
            Err(Error::InvalidArgument)
        ));
        assert!(matches!(
            ctx.set(ContextOption::SocketLimit, 5),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            ctx.get(ContextOption::ThreadPriority),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn instance_is_shared() {
        let a = Context::instance();
        let b = Context::instance();
        assert_eq!(a.as_raw(), b.as_raw());
    }

    #[test]
    fn term_twice_and_after() -> Result<()> {
        let ctx = Context::new();
        let clone = ctx.clone();
        ctx.term()?;
        ctx.term()?;
        assert!(clone.is_terminated());
        assert!(matches!(
            clone.socket(SocketType::Pair),
            Err(Error::ContextTerminated)
        ));
        assert!(matches!(
            clone.get(ContextOption::IoThreads),
            Err(Error::ContextTerminated)
        ));
        Ok(())
    }
}
