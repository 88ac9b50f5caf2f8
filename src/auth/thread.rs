//! [`ThreadAuthenticator`]: an [`Authenticator`] answering ZAP requests on a
//! background thread (pyzmq's `zmq.auth.thread.ThreadAuthenticator`).
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::CertificateError;
use super::policy::{AsyncCredentialsProvider, Authenticator, CredentialsProvider};
use super::zap::ZAP_ENDPOINT;
use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::curve::CurveKey;
use crate::error::{Error, Result};
use crate::poll::Poller;
use crate::socket::Socket;

/// How long [`ThreadAuthenticator::stop`] waits for the thread by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the thread checks its stop flag even without a wake-up message
/// (a safety net: the wake-up message normally ends the wait at once).
const WAKE_INTERVAL: Duration = Duration::from_millis(500);

/// Runs an [`Authenticator`] on a background thread that answers ZAP
/// requests at [`ZAP_ENDPOINT`] for one [`Context`] (pyzmq's
/// `ThreadAuthenticator`, czmq's `zauth` actor).
///
/// Configure it before or while it runs: the `allow`, `deny` and
/// `configure_*` methods change the policy the thread uses for the next
/// connection (calling one again reloads it). They take `&self`, so the
/// authenticator can be shared through an `Arc`.
///
/// ```
/// use std::time::Duration;
/// use zmqx::auth::ThreadAuthenticator;
/// use zmqx::{Context, SocketType};
///
/// fn main() -> zmqx::Result<()> {
///     let ctx = Context::new();
///     let mut auth = ThreadAuthenticator::new(&ctx);
///     auth.start()?;
///     auth.allow(["127.0.0.1"])?;
///     auth.configure_plain("*", [("admin", "secret")]);
///
///     let server = ctx.socket(SocketType::Pull)?;
///     server.set_plain_server(true)?;
///     server.set_rcvtimeo(Some(Duration::from_secs(5)))?;
///     server.bind("tcp://127.0.0.1:*")?;
///
///     let client = ctx.socket(SocketType::Push)?;
///     client.set_plain_client("admin", "secret")?;
///     client.connect(&server.last_endpoint()?)?;
///     client.send("hello")?;
///
///     let msg = server.recv_msg()?;
///     assert_eq!(msg, "hello");
///     assert_eq!(msg.gets("User-Id")?.as_deref(), Some("admin"));
///     auth.stop();
///     Ok(())
/// }
/// ```
///
/// ## Lifetime
///
/// [`start`](Self::start) binds the ZAP socket before it returns, so a
/// second handler in the same context (or anything else bound at the ZAP
/// endpoint) makes it fail at once. [`stop`](Self::stop) (drop only signals)
/// wakes the thread and waits for it at most
/// [`stop_timeout`](Self::set_stop_timeout): it never hangs, even if a
/// [`CredentialsProvider`] is stuck (the thread is then left to finish on
/// its own). The thread also ends by itself when the context is terminated.
/// The thread owns its sockets; the `ThreadAuthenticator` holds none, so it
/// never keeps [`Context::term`] waiting.
pub struct ThreadAuthenticator {
    ctx: Context,
    policy: Arc<RwLock<Authenticator>>,
    worker: Option<Worker>,
    stop_timeout: Duration,
}

/// The running thread and what it shares with its owner.
struct Worker {
    handle: JoinHandle<()>,
    shared: Arc<WorkerState>,
}

#[derive(Default)]
struct WorkerState {
    stop: AtomicBool,
    done: Mutex<bool>,
    done_changed: Condvar,
    /// The owner's end of the control pair, connected by `start` while the
    /// thread's end surely exists; the thread closes it when it ends.
    /// Connecting only at stop time raced with the thread closing its end
    /// (on ETERM, or on its own after seeing the stop flag): libzmq then
    /// left the late inproc connection unfinished and `zmq_ctx_term` hung
    /// for good (found by `tests/shutdown_matrix.rs`).
    waker: Mutex<Option<Socket>>,
}

/// The bound ZAP socket, unbound when dropped (also when the thread cannot
/// be spawned): unbinding an inproc endpoint is immediate, while closing is
/// finished later by libzmq's reaper, so a handler started right after
/// would find the endpoint still taken.
struct BoundZap(Socket);

impl Drop for BoundZap {
    fn drop(&mut self) {
        let _ = self.0.unbind(ZAP_ENDPOINT);
    }
}

/// Marks the worker done when the thread ends, however it ends.
struct DoneGuard(Arc<WorkerState>);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.0.done_changed.notify_all();
    }
}

impl fmt::Debug for ThreadAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadAuthenticator")
            .field("alive", &self.is_alive())
            .field("policy", &*self.policy())
            .finish_non_exhaustive()
    }
}

impl ThreadAuthenticator {
    /// An authenticator for `ctx` with an empty policy (NULL accepted, PLAIN
    /// and CURVE refused); not started.
    pub fn new(ctx: &Context) -> ThreadAuthenticator {
        ThreadAuthenticator::with_authenticator(ctx, Authenticator::new())
    }

    /// An authenticator for `ctx` with a policy built beforehand.
    pub fn with_authenticator(ctx: &Context, policy: Authenticator) -> ThreadAuthenticator {
        ThreadAuthenticator {
            ctx: ctx.clone(),
            policy: Arc::new(RwLock::new(policy)),
            worker: None,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }

    /// The context whose ZAP requests this answers.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Sets how long [`stop`](Self::stop) waits for the thread.
    pub fn set_stop_timeout(&mut self, timeout: Duration) {
        self.stop_timeout = timeout;
    }

    /// Binds the ZAP socket at [`ZAP_ENDPOINT`] and starts the thread
    /// (pyzmq's `start`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when this authenticator already runs or the
    /// ZAP endpoint is already bound in the context (there can be one
    /// handler per context); the context's errors otherwise.
    pub fn start(&mut self) -> Result<()> {
        if self.is_alive() {
            return Err(Error::invalid(
                "ThreadAuthenticator::start",
                "the authenticator is already running",
            ));
        }
        // A thread that ended on its own (terminated context) is reaped.
        if let Some(old) = self.worker.take() {
            let _ = old.handle.join();
        }
        let zap = self.ctx.socket(SocketType::Router)?;
        zap.set_linger(Some(Duration::ZERO))?;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let control_endpoint = format!(
            "inproc://zmqx.auth.control.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let control = self.ctx.socket(SocketType::Pair)?;
        control.set_linger(Some(Duration::ZERO))?;
        control.bind(&control_endpoint)?;
        let waker = self.ctx.socket(SocketType::Pair)?;
        waker.set_linger(Some(Duration::ZERO))?;
        waker.connect(&control_endpoint)?;
        // Bound last, so that a failure before this leaves the endpoint free;
        // from here on the guard unbinds it whatever happens.
        match zap.bind(ZAP_ENDPOINT) {
            Ok(_) => {}
            Err(e) if matches!(e.root(), Error::AddressInUse) => {
                return Err(Error::invalid(
                    "ThreadAuthenticator::start",
                    format!(
                        "{ZAP_ENDPOINT} is already bound in this context: \
                         a context has one ZAP handler"
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
        let zap = BoundZap(zap);

        let shared = Arc::new(WorkerState {
            waker: Mutex::new(Some(waker)),
            ..WorkerState::default()
        });
        let policy = self.policy.clone();
        let state = shared.clone();
        let handle = std::thread::Builder::new()
            .name("zmqx-auth".to_string())
            .spawn(move || {
                let _done = DoneGuard(state.clone());
                run(&zap.0, &control, &policy, &state.stop);
                // Under the lock: `stop` may be sending on it right now.
                drop(state.waker.lock().unwrap_or_else(|e| e.into_inner()).take());
                // Unbinds, so a new handler can bind once `stop` returns.
                drop(zap);
                drop(control);
            })
            .map_err(|e| {
                Error::invalid(
                    "ThreadAuthenticator::start",
                    format!("cannot spawn the thread: {e}"),
                )
            })?;
        self.worker = Some(Worker { handle, shared });
        Ok(())
    }

    /// Whether the thread is running (pyzmq's `is_alive`).
    pub fn is_alive(&self) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|w| !*w.shared.done.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Stops the thread and unbinds the ZAP endpoint (pyzmq's `stop`),
    /// waiting at most the stop timeout. Returns `true` when the thread has
    /// ended (or was not running), `false` when it did not end in time: it
    /// is then stuck in a [`CredentialsProvider`] and is left to end on its
    /// own.
    ///
    /// Without a handler, libzmq 4.3 refuses new PLAIN clients but accepts
    /// NULL clients and CURVE clients with *any* key (encryption without
    /// authentication): stop the authenticator only after the sockets it
    /// guards are closed.
    pub fn stop(&mut self) -> bool {
        let Some(worker) = self.worker.take() else {
            return true;
        };
        worker.shared.stop.store(true, Ordering::Release);
        // Best effort: the thread also checks the flag every WAKE_INTERVAL.
        // A message in an attached inproc pipe reaches the reader even if
        // the waker closes right after (linger 0 only drops what is not in
        // the pipe yet).
        if let Some(waker) = &*worker
            .shared
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            let _ = waker.try_send(&b"TERMINATE"[..]);
        }
        let done = worker.shared.done.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = worker
            .shared
            .done_changed
            .wait_timeout_while(done, self.stop_timeout, |done| !*done)
            .unwrap_or_else(|e| e.into_inner());
        let finished = *done;
        drop(done);
        if finished {
            // The thread has left `run` and dropped its sockets.
            let _ = worker.handle.join();
        }
        finished
    }

    /// The policy, for reading.
    pub fn policy(&self) -> RwLockReadGuard<'_, Authenticator> {
        self.policy.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The policy, for changing; the thread uses the change from the next
    /// request on. Hold the guard briefly: requests wait while it is held.
    pub fn policy_mut(&self) -> RwLockWriteGuard<'_, Authenticator> {
        self.policy.write().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Authenticator::allow`].
    ///
    /// # Errors
    ///
    /// As [`Authenticator::allow`].
    pub fn allow<I, S>(&self, addresses: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.policy_mut().allow(addresses)
    }

    /// [`Authenticator::deny`].
    ///
    /// # Errors
    ///
    /// As [`Authenticator::deny`].
    pub fn deny<I, S>(&self, addresses: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.policy_mut().deny(addresses)
    }

    /// [`Authenticator::configure_plain`].
    pub fn configure_plain<I, U, P>(&self, domain: &str, passwords: I)
    where
        I: IntoIterator<Item = (U, P)>,
        U: Into<String>,
        P: Into<String>,
    {
        self.policy_mut().configure_plain(domain, passwords);
    }

    /// [`Authenticator::configure_curve`]: loads the certificates now (not
    /// under the policy lock), then installs them.
    ///
    /// # Errors
    ///
    /// As [`Authenticator::configure_curve`].
    pub fn configure_curve(
        &self,
        domain: &str,
        location: impl AsRef<std::path::Path>,
    ) -> std::result::Result<(), CertificateError> {
        let location = location.as_ref();
        if location.as_os_str() == super::CURVE_ALLOW_ANY {
            self.configure_curve_allow_any(domain);
            return Ok(());
        }
        let keys = super::load_certificates(location)?;
        self.policy_mut().configure_curve_keys(domain, keys);
        Ok(())
    }

    /// [`Authenticator::configure_curve_allow_any`].
    pub fn configure_curve_allow_any(&self, domain: &str) {
        self.policy_mut().configure_curve_allow_any(domain);
    }

    /// [`Authenticator::configure_curve_keys`].
    pub fn configure_curve_keys<I>(&self, domain: &str, keys: I)
    where
        I: IntoIterator<Item = CurveKey>,
    {
        self.policy_mut().configure_curve_keys(domain, keys);
    }

    /// [`Authenticator::configure_curve_callback`].
    pub fn configure_curve_callback<P>(&self, domain: &str, provider: P)
    where
        P: CredentialsProvider + 'static,
    {
        self.policy_mut().configure_curve_callback(domain, provider);
    }

    /// [`Authenticator::configure_curve_callback_async`]. This thread runs
    /// each lookup to completion, one at a time and without a tokio
    /// runtime; the `AsyncAuthenticator`
    /// runs them concurrently.
    pub fn configure_curve_callback_async<P>(&self, domain: &str, provider: P)
    where
        P: AsyncCredentialsProvider + 'static,
    {
        self.policy_mut()
            .configure_curve_callback_async(domain, provider);
    }

    /// [`Authenticator::configure_gssapi`].
    pub fn configure_gssapi(&self, domain: &str) {
        self.policy_mut().configure_gssapi(domain);
    }

    /// [`Authenticator::set_curve_user_id`].
    pub fn set_curve_user_id<F>(&self, map: F)
    where
        F: Fn(&CurveKey) -> String + Send + Sync + 'static,
    {
        self.policy_mut().set_curve_user_id(map);
    }
}

impl Drop for ThreadAuthenticator {
    /// Asks the thread to stop and returns at once: the thread wakes on its
    /// control socket (or its stop flag, within `WAKE_INTERVAL`), unbinds
    /// the ZAP endpoint, closes its sockets and ends by itself; only a
    /// [`CredentialsProvider`] call in progress delays it. Call
    /// [`stop`](Self::stop) to wait for it (for example to start another
    /// handler on the same context right away).
    fn drop(&mut self) {
        // `stop` with a zero timeout only signals; the thread is detached.
        self.stop_timeout = Duration::ZERO;
        self.stop();
    }
}

/// The thread: answer ZAP requests until told to stop or the context ends.
fn run(zap: &Socket, control: &Socket, policy: &RwLock<Authenticator>, stop: &AtomicBool) {
    let mut poller = Poller::new();
    poller.register(zap, PollEvents::POLLIN);
    poller.register(control, PollEvents::POLLIN);
    while !stop.load(Ordering::Acquire) {
        match poller.wait(Some(WAKE_INTERVAL)) {
            Ok(_) => {}
            Err(Error::Interrupted) => continue,
            // ContextTerminated, or a broken socket: nothing more to serve.
            Err(_) => return,
        }
        if poller
            .revents(control)
            .is_some_and(|e| e.contains(PollEvents::POLLIN))
        {
            return;
        }
        // Answer everything queued before polling again.
        loop {
            match zap.try_recv_multipart() {
                Ok(Some(frames)) => {
                    let reply = policy
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .handle_routed(&frames);
                    if let Some(reply) = reply {
                        // ROUTER never blocks; a server gone meanwhile
                        // (EHOSTUNREACH is not raised without MANDATORY) is
                        // simply not answered.
                        if let Err(Error::ContextTerminated) =
                            zap.try_send_multipart(reply.iter().map(Vec::as_slice))
                        {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(Error::ContextTerminated) => return,
                Err(_) => break,
            }
        }
    }
}
