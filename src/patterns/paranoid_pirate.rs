//! The Paranoid Pirate queue and worker (zguide, chapter 4): a load
//! balancer between clients and workers, with heartbeats both ways so that
//! the queue forgets dead workers and workers reconnect to a restarted
//! queue.
//!
//! - The [`Queue`] has a `ROUTER` frontend for clients (any `REQ` client;
//!   [`lazy_pirate::Client`](super::lazy_pirate::Client) retries what a
//!   dying worker lost) and a `ROUTER` backend for workers. It keeps the
//!   workers that said they are ready in least-recently-used order, gives
//!   each request to the one that waited longest, sends each ready worker a
//!   heartbeat every interval, and drops a worker it has not heard from for
//!   `liveness` intervals.
//! - The [`Worker`] connects a `DEALER` to the backend, says `READY`, runs
//!   your handler (`FnMut(Vec<Message>) -> Vec<Message>`) on each request,
//!   and sends a heartbeat every interval. When it has not heard from the
//!   queue for `liveness` intervals it closes its socket, waits (1 s, then
//!   twice as long each time up to a cap: exponential backoff) and
//!   connects a new socket.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::patterns::lazy_pirate;
//! use zmqx::patterns::paranoid_pirate::{Queue, Worker};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut queue = Queue::builder()
//!         .frontend("tcp://127.0.0.1:*")
//!         .backend("tcp://127.0.0.1:*")
//!         .bind()?
//!         .spawn()?;
//!     let mut worker = Worker::builder(&queue.backend_endpoints()[0])
//!         .build()?
//!         .spawn(|request| request)?; // an echo service
//!
//!     let mut client = lazy_pirate::Client::builder()
//!         .endpoint(&queue.frontend_endpoints()[0])
//!         .timeout(Duration::from_secs(2))
//!         .build()?;
//!     assert_eq!(client.request(["hello"])?[0], "hello");
//!
//!     assert!(worker.stop(Duration::from_secs(5))?);
//!     assert!(queue.stop(Duration::from_secs(5))?);
//!     Ok(())
//! }
//! ```
//!
//! ## The protocol (the zguide's PPP)
//!
//! Between the queue's backend (`ROUTER`) and a worker (`DEALER`); the
//! queue's side shows the worker's routing id first, as a `ROUTER` sees it:
//!
//! | direction | frames | meaning |
//! |---|---|---|
//! | worker → queue | [`READY`] (`"\x01"`) | "I am here and idle": sent once per connection |
//! | worker → queue | [`HEARTBEAT`] (`"\x02"`) | sent every heartbeat interval |
//! | queue → worker | [`HEARTBEAT`] | sent to every idle worker every interval |
//! | queue → worker | client envelope…, `""`, request… | a request: the frames the client's `REQ` sent, behind its routing id(s) and the empty delimiter |
//! | worker → queue | the same envelope…, `""`, reply… | the reply; the queue sends it to the client and counts the worker idle again |
//!
//! Any message from a worker proves it alive. A one-frame message other
//! than `READY` or `HEARTBEAT` is ignored by both sides; so is a request
//! without an empty delimiter frame.
//!
//! ## Delivery and failure
//!
//! A request given to a worker that dies before replying is lost by the
//! queue: the client's retry (Lazy Pirate) sends it again, and it goes to
//! another (or the restarted) worker. So requests are processed **at least
//! once**: a worker may have done the work of a request whose reply died
//! with it. The tests (`tests/pirate.rs`) kill a worker process with
//! `SIGKILL` ten times under load and count that no request goes
//! unanswered; the figures are in the README.
//!
//! The queue's backend has `ZMQ_ROUTER_MANDATORY`: a request for a worker
//! whose connection is gone goes to the next idle worker at once instead of
//! being dropped. While no worker is idle the queue does not read from its
//! frontend, so requests wait in libzmq's queues (up to the high-water
//! mark); a request that no worker could take is dropped and left to the
//! client's retry.
//!
//! ## Running them
//!
//! [`Queue::spawn`] and [`Worker::spawn`] run the loop in a background
//! thread and return a handle whose [`stop(timeout)`](QueueThread::stop)
//! ends it (through an internal `inproc` socket the loop polls) and waits
//! at most `timeout`; dropping the handle only asks the loop to end and
//! returns at once (like [`Device`](crate::devices::Device)).
//! [`Queue::run`] and [`Worker::run`] run the loop in the caller's thread
//! until the context is shut down ([`Context::shutdown`]). With the
//! `tokio` feature, [`Queue::run_async`] runs the queue as a future on
//! tokio (ended by the context's shutdown or by dropping the future), and
//! [`Worker::run_async`] runs a worker with an async handler.
//!
//! There is no counterpart in pyzmq or libzmq: these are the zguide's
//! `ppqueue` and `ppworker` as components.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::error::panic_message;
use crate::message::Message;
use crate::patterns::Report;
use crate::poll::Poller;
use crate::socket::Socket;

/// The frame a worker sends once per connection to say it is ready
/// (PPP's `PPP_READY`, `"\x01"`).
pub const READY: &[u8] = b"\x01";
/// The frame both sides send every heartbeat interval (PPP's
/// `PPP_HEARTBEAT`, `"\x02"`).
pub const HEARTBEAT: &[u8] = b"\x02";

/// The zguide's heartbeat interval (`HEARTBEAT_INTERVAL`): 1 s.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// The zguide's liveness (`HEARTBEAT_LIVENESS`): 3 intervals.
pub const DEFAULT_LIVENESS: u32 = 3;
/// The zguide's first reconnection delay (`INTERVAL_INIT`): 1 s.
pub const DEFAULT_RECONNECT_INITIAL: Duration = Duration::from_secs(1);
/// The zguide's largest reconnection delay (`INTERVAL_MAX`): 32 s.
pub const DEFAULT_RECONNECT_MAX: Duration = Duration::from_secs(32);

/// `Result<T, paranoid_pirate::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the queue and the worker can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket or context error, or a bad argument
    /// ([`zmqx::Error::InvalidInput`](crate::Error::InvalidInput): no
    /// endpoint, a zero interval…).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// The background thread panicked (a panicking handler, for a worker);
    /// its message is handed to the owner by `stop`.
    #[error("a Paranoid Pirate thread panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            e @ Error::Panicked { .. } => std::io::Error::other(e),
        }
    }
}

/// Heartbeat settings shared by both sides.
#[derive(Debug, Clone, Copy)]
struct Heartbeat {
    interval: Duration,
    liveness: u32,
}

impl Heartbeat {
    fn check(&self, what: &str) -> crate::Result<()> {
        if self.interval < Duration::from_millis(1) {
            return Err(crate::Error::invalid(
                what,
                format!("heartbeat interval {:?} is below 1 ms", self.interval),
            ));
        }
        crate::options::duration_to_ms(Some(self.interval), what)?;
        if self.liveness == 0 {
            return Err(crate::Error::invalid(what, "liveness must be at least 1"));
        }
        Ok(())
    }

    /// How long a silent peer is considered alive.
    fn expiry(&self) -> Duration {
        self.interval.saturating_mul(self.liveness)
    }
}

impl Default for Heartbeat {
    fn default() -> Heartbeat {
        Heartbeat {
            interval: DEFAULT_HEARTBEAT_INTERVAL,
            liveness: DEFAULT_LIVENESS,
        }
    }
}

/// Whether an error means the context was shut down (the loops then end
/// cleanly).
fn terminated(e: &crate::Error) -> bool {
    matches!(e.root(), crate::Error::ContextTerminated)
}

// ---------------------------------------------------------------------------
// Background threads.

/// What a dropped handle leaves to its thread (the owner's end of the stop
/// pair), so that the thread, not the owner's drop, releases what may be
/// the context's last handle. `None` once the thread is ending.
type Parked = Arc<Mutex<Option<Vec<Socket>>>>;

/// A loop in a background thread, ended through an inproc stop pair.
#[derive(Debug)]
struct Background {
    /// The owner's end of the stop pair.
    stop: Option<Socket>,
    report: Report<Error>,
    parked: Parked,
}

impl Background {
    fn spawn<F>(ctx: &Context, name: &str, body: F) -> Result<Background>
    where
        F: FnOnce(&Socket) -> Result<()> + Send + 'static,
    {
        let (rx, tx) = ctx.stop_pair("pirate")?;
        let (done_tx, done) = mpsc::channel();
        let parked: Parked = Arc::new(Mutex::new(Some(Vec::new())));
        let thread_parked = parked.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&rx)))
                    .unwrap_or_else(|payload| {
                        Err(Error::Panicked {
                            message: panic_message(payload.as_ref()),
                        })
                    });
                drop(rx);
                let parked = thread_parked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                let _ = done_tx.send(result);
                // A dropped owner's stop socket is closed here, last.
                drop(parked);
            })
            .map_err(|e| crate::Error::invalid(name, format!("cannot spawn the thread: {e}")))?;
        Ok(Background {
            stop: Some(tx),
            report: Report::new(done, thread),
            parked,
        })
    }

    fn stop(&mut self, timeout: Duration) -> Result<bool> {
        if !self.report.is_finished() {
            if let Some(stop) = &self.stop {
                // Fails only when the loop has ended already, which is fine.
                let _ = stop.try_send(&b""[..]);
            }
        }
        self.report.wait(timeout, || Error::Panicked {
            message: "the thread ended without a report".into(),
        })
    }

    fn is_finished(&self) -> bool {
        self.report.is_finished()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let Some(stop) = self.stop.take() else {
            return;
        };
        let _ = stop.try_send(&b""[..]);
        let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
        match parked.as_mut() {
            // The thread closes it as it ends.
            Some(v) => v.push(stop),
            // The thread is ending or gone: close it here (linger 0).
            None => {
                drop(parked);
                drop(stop);
            }
        }
        // The thread, if still there, is detached: it ends by itself.
    }
}

/// Waits on `sockets` (and the stop socket) for input at most `timeout`;
/// returns which are readable (`None` when the context was shut down or
/// the stop socket fired).
fn wait_readable(
    sockets: &[&Socket],
    stop: Option<&Socket>,
    timeout: Duration,
) -> crate::Result<Option<Vec<bool>>> {
    let mut poller = Poller::new();
    for s in sockets {
        poller.register(*s, PollEvents::POLLIN);
    }
    if let Some(stop) = stop {
        poller.register(stop, PollEvents::POLLIN);
    }
    match poller.wait(Some(timeout)) {
        Ok(_) => {}
        Err(e) if terminated(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let readable = |s: &Socket| {
        poller
            .revents(s)
            .is_some_and(|ev| ev.contains(PollEvents::POLLIN))
    };
    if stop.is_some_and(readable) {
        return Ok(None);
    }
    Ok(Some(sockets.iter().map(|s| readable(s)).collect()))
}

// ---------------------------------------------------------------------------
// The queue.

/// Describes a [`Queue`]: its endpoints and heartbeat. Made by
/// [`Queue::builder`].
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `bind`"]
pub struct QueueBuilder {
    frontends: Vec<String>,
    backends: Vec<String>,
    heartbeat: Heartbeat,
    context: Option<Context>,
}

impl QueueBuilder {
    /// Adds an endpoint the frontend (clients' side) binds to
    /// (`tcp://127.0.0.1:*` lets the OS pick the port). At least one.
    pub fn frontend(mut self, endpoint: impl Into<String>) -> QueueBuilder {
        self.frontends.push(endpoint.into());
        self
    }

    /// Adds an endpoint the backend (workers' side) binds to. At least one.
    pub fn backend(mut self, endpoint: impl Into<String>) -> QueueBuilder {
        self.backends.push(endpoint.into());
        self
    }

    /// The heartbeat interval ([`DEFAULT_HEARTBEAT_INTERVAL`] unless set);
    /// the workers must use the same.
    pub fn heartbeat_interval(mut self, interval: Duration) -> QueueBuilder {
        self.heartbeat.interval = interval;
        self
    }

    /// After how many silent intervals a worker is dropped
    /// ([`DEFAULT_LIVENESS`] unless set).
    pub fn liveness(mut self, liveness: u32) -> QueueBuilder {
        self.heartbeat.liveness = liveness;
        self
    }

    /// Creates the sockets in `ctx` (for `inproc://` peers) instead of a
    /// context of the queue's own.
    pub fn context(mut self, ctx: &Context) -> QueueBuilder {
        self.context = Some(ctx.clone());
        self
    }

    /// Creates the sockets and binds them, now: a port in use is an error
    /// here, naming the endpoint.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::Error::InvalidInput) for a missing endpoint,
    /// an interval below 1 ms or a zero liveness; the sockets' errors.
    pub fn bind(self) -> Result<Queue> {
        for (list, side) in [(&self.frontends, "frontend"), (&self.backends, "backend")] {
            if list.is_empty() {
                return Err(crate::Error::invalid(
                    "paranoid_pirate::QueueBuilder",
                    format!("no {side} endpoint: add one with `{side}`"),
                )
                .into());
            }
        }
        self.heartbeat.check("paranoid_pirate::QueueBuilder")?;
        let ctx = match self.context {
            Some(ctx) => ctx,
            None => Context::try_new()?,
        };
        let bind_all = |socket: &Socket, endpoints: &[String]| -> crate::Result<Vec<String>> {
            let mut bound = Vec::with_capacity(endpoints.len());
            for endpoint in endpoints {
                socket.bind(endpoint)?;
                bound.push(socket.last_endpoint()?);
            }
            Ok(bound)
        };
        let frontend = ctx.socket(SocketType::Router)?;
        frontend.set_linger(Some(Duration::ZERO))?;
        let frontend_endpoints = bind_all(&frontend, &self.frontends)?;
        let backend = ctx.socket(SocketType::Router)?;
        backend.set_linger(Some(Duration::ZERO))?;
        backend.set_router_mandatory(true)?;
        let backend_endpoints = bind_all(&backend, &self.backends)?;
        Ok(Queue {
            ctx,
            frontend,
            backend,
            frontend_endpoints,
            backend_endpoints,
            heartbeat: self.heartbeat,
        })
    }
}

/// A Paranoid Pirate queue with its sockets bound, ready to
/// [`run`](Queue::run) here or [`spawn`](Queue::spawn) in a thread (see
/// the [module docs](self)).
#[derive(Debug)]
pub struct Queue {
    ctx: Context,
    frontend: Socket,
    backend: Socket,
    frontend_endpoints: Vec<String>,
    backend_endpoints: Vec<String>,
    heartbeat: Heartbeat,
}

/// A worker the queue knows as idle.
#[derive(Debug)]
struct Idle {
    id: Vec<u8>,
    expires: Instant,
}

/// The queue's loop state.
#[derive(Debug)]
struct QueueState {
    /// Idle workers, least recently used first.
    idle: VecDeque<Idle>,
    heartbeat: Heartbeat,
}

impl QueueState {
    /// A queue with no idle worker, and when its first heartbeat is due.
    fn start(heartbeat: Heartbeat) -> (QueueState, Instant) {
        let state = QueueState {
            idle: VecDeque::new(),
            heartbeat,
        };
        (state, Instant::now() + heartbeat.interval)
    }

    /// A worker showed a sign of life: it goes (back) to the end of the
    /// idle list with a fresh expiry.
    fn ready(&mut self, id: &[u8]) {
        self.idle.retain(|w| w.id != id);
        self.idle.push_back(Idle {
            id: id.to_vec(),
            expires: Instant::now() + self.heartbeat.expiry(),
        });
    }

    fn purge(&mut self, now: Instant) {
        self.idle.retain(|w| w.expires > now);
    }

    /// One message from the backend.
    fn on_worker_message(&mut self, msg: &[Message], frontend: &Socket) -> crate::Result<()> {
        let [id, rest @ ..] = msg else {
            return Ok(());
        };
        match rest {
            [] => {}
            [control] if control[..] == *READY || control[..] == *HEARTBEAT => self.ready(id),
            // An unknown control frame: ignored.
            [_] => {}
            reply => {
                self.ready(id);
                // A vanished client's reply is dropped by the ROUTER.
                frontend.try_send_multipart(reply)?;
            }
        }
        Ok(())
    }

    /// Gives a client's request to the least recently used idle worker that
    /// is still connected.
    fn dispatch(&mut self, request: &[Message], backend: &Socket) -> crate::Result<()> {
        while let Some(worker) = self.idle.pop_front() {
            let parts = std::iter::once(&worker.id[..]).chain(request.iter().map(|m| &m[..]));
            match backend.try_send_multipart(parts) {
                Ok(true) => return Ok(()),
                // Its pipe is full: it is not keeping up; it comes back to
                // the idle list with its next message.
                Ok(false) => {}
                // Its connection is gone.
                Err(e) if matches!(e.root(), crate::Error::HostUnreachable) => {}
                Err(e) => return Err(e),
            }
        }
        // No worker could take it: the client's retry will.
        Ok(())
    }

    fn send_heartbeats(&mut self, backend: &Socket) -> crate::Result<()> {
        let mut gone = Vec::new();
        for worker in &self.idle {
            match backend.try_send_multipart([&worker.id[..], HEARTBEAT]) {
                Ok(_) => {}
                Err(e) if matches!(e.root(), crate::Error::HostUnreachable) => {
                    gone.push(worker.id.clone());
                }
                Err(e) => return Err(e),
            }
        }
        self.idle.retain(|w| !gone.contains(&w.id));
        Ok(())
    }
}

impl Queue {
    /// A builder with the zguide's heartbeat (1 s, liveness 3); add a
    /// frontend and a backend endpoint.
    pub fn builder() -> QueueBuilder {
        QueueBuilder::default()
    }

    /// The endpoints the frontend is bound to, with the real ports.
    pub fn frontend_endpoints(&self) -> &[String] {
        &self.frontend_endpoints
    }

    /// The endpoints the backend is bound to, with the real ports.
    pub fn backend_endpoints(&self) -> &[String] {
        &self.backend_endpoints
    }

    /// The queue's context: shutting it down ends [`run`](Self::run) (and
    /// `run_async`).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Runs the queue in the caller's thread until its context is shut
    /// down ([`Context::shutdown`] from another thread), then returns
    /// `Ok(())`.
    ///
    /// # Errors
    ///
    /// A socket error other than the context's end.
    pub fn run(self) -> Result<()> {
        run_queue(&self.frontend, &self.backend, None, self.heartbeat)
    }

    /// Runs the queue in a background thread; end it with
    /// [`QueueThread::stop`].
    ///
    /// # Errors
    ///
    /// The context's errors (creating the internal stop sockets), or a
    /// thread that cannot be spawned.
    pub fn spawn(self) -> Result<QueueThread> {
        let frontend_endpoints = self.frontend_endpoints.clone();
        let backend_endpoints = self.backend_endpoints.clone();
        let ctx = self.ctx.clone();
        let background = Background::spawn(&ctx, "zmqx-ppqueue", move |stop| {
            run_queue(&self.frontend, &self.backend, Some(stop), self.heartbeat)
        })?;
        Ok(QueueThread {
            background,
            frontend_endpoints,
            backend_endpoints,
        })
    }
}

fn run_queue(
    frontend: &Socket,
    backend: &Socket,
    stop: Option<&Socket>,
    heartbeat: Heartbeat,
) -> Result<()> {
    match queue_loop(frontend, backend, stop, heartbeat) {
        Err(e) if terminated(&e) => Ok(()),
        other => Ok(other?),
    }
}

fn queue_loop(
    frontend: &Socket,
    backend: &Socket,
    stop: Option<&Socket>,
    heartbeat: Heartbeat,
) -> crate::Result<()> {
    let (mut state, mut next_heartbeat) = QueueState::start(heartbeat);
    loop {
        // The frontend is read only while a worker is idle.
        let sockets: &[&Socket] = if state.idle.is_empty() {
            &[backend]
        } else {
            &[backend, frontend]
        };
        let timeout = next_heartbeat.saturating_duration_since(Instant::now());
        let Some(readable) = wait_readable(sockets, stop, timeout)? else {
            return Ok(());
        };
        let ready = Ready {
            backend: readable[0],
            frontend: readable.get(1).copied().unwrap_or(false),
        };
        state.step(frontend, backend, ready, &mut next_heartbeat)?;
    }
}

/// Which of the queue's sockets a wait found readable.
#[derive(Debug, Clone, Copy)]
struct Ready {
    backend: bool,
    frontend: bool,
}

impl QueueState {
    /// One turn of the queue after a wait (the blocking and the async
    /// loops both call it): reads what `ready` says is there, sends the
    /// heartbeats when `next_heartbeat` has passed, forgets expired workers.
    /// Only non-blocking calls.
    fn step(
        &mut self,
        frontend: &Socket,
        backend: &Socket,
        ready: Ready,
        next_heartbeat: &mut Instant,
    ) -> crate::Result<()> {
        if ready.backend {
            while let Some(msg) = backend.try_recv_multipart()? {
                self.on_worker_message(&msg, frontend)?;
            }
        }
        if ready.frontend {
            while !self.idle.is_empty() {
                let Some(request) = frontend.try_recv_multipart()? else {
                    break;
                };
                self.dispatch(&request, backend)?;
            }
        }
        let now = Instant::now();
        if now >= *next_heartbeat {
            self.send_heartbeats(backend)?;
            *next_heartbeat = now + self.heartbeat.interval;
        }
        self.purge(now);
        Ok(())
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Queue {
    /// Runs the queue as a future on the caller's tokio runtime: the same
    /// protocol and heartbeats as [`run`](Self::run), with its sockets
    /// driven by [`AsyncSocket`](crate::AsyncSocket)s. It returns `Ok(())`
    /// when its [context](Self::context) is shut down.
    ///
    /// Cancel-safe: it only awaits readiness, and each message is handled
    /// whole between two awaits, so dropping the future (or aborting its
    /// task) takes nothing half-way; it closes both sockets (linger 0),
    /// which frees their endpoints, and requests libzmq still queued go
    /// with them, as with a queue process that exits (the clients retry).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zmqx::patterns::lazy_pirate;
    /// use zmqx::patterns::paranoid_pirate::{Queue, Worker};
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let queue = Queue::builder()
    ///         .frontend("tcp://127.0.0.1:*")
    ///         .backend("tcp://127.0.0.1:*")
    ///         .bind()?;
    ///     let (frontend, backend) = (
    ///         queue.frontend_endpoints()[0].clone(),
    ///         queue.backend_endpoints()[0].clone(),
    ///     );
    ///     let queue = tokio::spawn(queue.run_async());
    ///     let worker = Worker::builder(&backend).build()?;
    ///     let worker = tokio::spawn(worker.run_async(|request| async move { request }));
    ///
    ///     let mut client = lazy_pirate::Client::builder()
    ///         .endpoint(&frontend)
    ///         .build_async()?;
    ///     assert_eq!(client.request(["hello"]).await?[0], "hello");
    ///
    ///     worker.abort();
    ///     queue.abort(); // dropping the future ends the queue
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// A socket error other than the context's end; outside a tokio
    /// runtime, [`zmqx::Error::Reactor`](crate::Error::Reactor).
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn run_async(self) -> Result<()> {
        let Queue {
            ctx: _ctx,
            frontend,
            backend,
            heartbeat,
            ..
        } = self;
        let frontend = crate::AsyncSocket::new(frontend)?;
        let backend = crate::AsyncSocket::new(backend)?;
        match queue_loop_async(&frontend, &backend, heartbeat).await {
            Err(e) if terminated(&e) => Ok(()),
            other => Ok(other?),
        }
    }
}

/// [`queue_loop`] on async sockets: the same [`QueueState::step`], awaiting
/// readiness instead of polling.
#[cfg(all(feature = "tokio", unix))]
async fn queue_loop_async(
    frontend: &crate::AsyncSocket,
    backend: &crate::AsyncSocket,
    heartbeat: Heartbeat,
) -> crate::Result<()> {
    let (mut state, mut next_heartbeat) = QueueState::start(heartbeat);
    loop {
        let timeout = next_heartbeat.saturating_duration_since(Instant::now());
        let read_frontend = !state.idle.is_empty();
        // Readiness waits only: no message is taken until `step`.
        let ready = tokio::select! {
            biased;
            events = backend.poll(PollEvents::POLLIN, Some(timeout)) => Ready {
                backend: events?.contains(PollEvents::POLLIN),
                frontend: false,
            },
            events = frontend.poll(PollEvents::POLLIN, None), if read_frontend => Ready {
                backend: false,
                frontend: events?.contains(PollEvents::POLLIN),
            },
        };
        frontend.with_socket(|f| {
            backend.with_socket(|b| state.step(f, b, ready, &mut next_heartbeat))
        })?;
    }
}

/// A [`Queue`] running in a background thread (from [`Queue::spawn`]).
/// Dropping it asks the queue to end and returns at once.
#[derive(Debug)]
pub struct QueueThread {
    background: Background,
    frontend_endpoints: Vec<String>,
    backend_endpoints: Vec<String>,
}

impl QueueThread {
    /// The endpoints the frontend is bound to, with the real ports.
    pub fn frontend_endpoints(&self) -> &[String] {
        &self.frontend_endpoints
    }

    /// The endpoints the backend is bound to, with the real ports.
    pub fn backend_endpoints(&self) -> &[String] {
        &self.backend_endpoints
    }

    /// Ends the queue and waits for its thread at most `timeout`:
    /// `Ok(true)` once it has ended (calling again is fine), `Ok(false)`
    /// if it is still ending.
    ///
    /// # Errors
    ///
    /// The socket error that ended the queue (reported once), or
    /// [`Error::Panicked`].
    pub fn stop(&mut self, timeout: Duration) -> Result<bool> {
        self.background.stop(timeout)
    }

    /// Whether the thread has ended (an error or the context's end).
    pub fn is_finished(&self) -> bool {
        self.background.is_finished()
    }
}

// ---------------------------------------------------------------------------
// The worker.

/// Describes a [`Worker`]: the queue's backend endpoint, heartbeat and
/// reconnection backoff. Made by [`Worker::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build`"]
pub struct WorkerBuilder {
    endpoint: String,
    heartbeat: Heartbeat,
    reconnect_initial: Duration,
    reconnect_max: Duration,
    context: Option<Context>,
}

impl WorkerBuilder {
    /// The heartbeat interval ([`DEFAULT_HEARTBEAT_INTERVAL`] unless set);
    /// the queue must use the same.
    pub fn heartbeat_interval(mut self, interval: Duration) -> WorkerBuilder {
        self.heartbeat.interval = interval;
        self
    }

    /// After how many intervals without a word from the queue the worker
    /// reconnects ([`DEFAULT_LIVENESS`] unless set).
    pub fn liveness(mut self, liveness: u32) -> WorkerBuilder {
        self.heartbeat.liveness = liveness;
        self
    }

    /// The reconnection backoff: the first wait before reconnecting
    /// (`initial`), doubled after each reconnection that heard nothing from
    /// the queue, up to `max` (the zguide's 1 s and 32 s unless set). A
    /// message from the queue resets it.
    pub fn reconnect(mut self, initial: Duration, max: Duration) -> WorkerBuilder {
        self.reconnect_initial = initial;
        self.reconnect_max = max;
        self
    }

    /// Creates the sockets in `ctx` (for an `inproc://` queue) instead of a
    /// context of the worker's own.
    pub fn context(mut self, ctx: &Context) -> WorkerBuilder {
        self.context = Some(ctx.clone());
        self
    }

    /// Checks the settings and connects the first socket (a malformed
    /// endpoint is an error here, naming it); the worker says `READY` when
    /// it runs.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::Error::InvalidInput) for an interval below
    /// 1 ms, a zero liveness or a backoff whose `max` is below `initial`;
    /// the socket's errors.
    pub fn build(self) -> Result<Worker> {
        const WHAT: &str = "paranoid_pirate::WorkerBuilder";
        self.heartbeat.check(WHAT)?;
        if self.reconnect_max < self.reconnect_initial {
            return Err(crate::Error::invalid(
                WHAT,
                format!(
                    "the reconnection backoff's max {:?} is below its initial {:?}",
                    self.reconnect_max, self.reconnect_initial
                ),
            )
            .into());
        }
        let ctx = match self.context {
            Some(ctx) => ctx,
            None => Context::try_new()?,
        };
        let settings = Settings {
            ctx,
            endpoint: self.endpoint,
            heartbeat: self.heartbeat,
            reconnect_initial: self.reconnect_initial,
            reconnect_max: self.reconnect_max,
        };
        let socket = settings.new_socket()?;
        socket.connect(&settings.endpoint)?;
        Ok(Worker {
            settings,
            first: Some(socket),
        })
    }
}

/// A Paranoid Pirate worker, ready to [`run`](Worker::run) a handler here
/// or [`spawn`](Worker::spawn) it in a thread (see the [module docs](self)).
///
/// The handler gets a request's frames (after the envelope and its empty
/// delimiter) and returns the reply's frames; an empty reply is sent as
/// one empty frame (a `REQ` client needs at least one).
#[derive(Debug)]
pub struct Worker {
    settings: Settings,
    /// The socket `build` connected, used by the first connection.
    first: Option<Socket>,
}

/// What a worker needs to make its connections.
#[derive(Debug, Clone)]
struct Settings {
    ctx: Context,
    endpoint: String,
    heartbeat: Heartbeat,
    reconnect_initial: Duration,
    reconnect_max: Duration,
}

impl Settings {
    fn new_socket(&self) -> crate::Result<Socket> {
        let socket = self.ctx.socket(SocketType::Dealer)?;
        socket.set_linger(Some(Duration::ZERO))?;
        // A reply that cannot leave within the expiry means a dead queue.
        socket.set_sndtimeo(Some(self.heartbeat.expiry()))?;
        Ok(socket)
    }
}

/// Why a connection's loop ended.
enum Outcome {
    /// Stop asked, or the context shut down.
    Stop,
    /// The queue was silent for `liveness` intervals, or a reply could not
    /// be sent in time.
    Lost,
}

impl Worker {
    /// A builder for a worker of the queue whose backend is at `endpoint`,
    /// with the zguide's heartbeat (1 s, liveness 3) and backoff (1 s to
    /// 32 s).
    pub fn builder(endpoint: impl Into<String>) -> WorkerBuilder {
        WorkerBuilder {
            endpoint: endpoint.into(),
            heartbeat: Heartbeat::default(),
            reconnect_initial: DEFAULT_RECONNECT_INITIAL,
            reconnect_max: DEFAULT_RECONNECT_MAX,
            context: None,
        }
    }

    /// The worker's context: shutting it down ends [`run`](Self::run).
    pub fn context(&self) -> &Context {
        &self.settings.ctx
    }

    /// Runs the worker in the caller's thread until its context is shut
    /// down ([`Context::shutdown`] from another thread), then returns
    /// `Ok(())`. A panic in `handler` unwinds out of `run`.
    ///
    /// # Errors
    ///
    /// A socket error other than the context's end.
    pub fn run<F>(mut self, mut handler: F) -> Result<()>
    where
        F: FnMut(Vec<Message>) -> Vec<Message>,
    {
        self.serve(&mut handler, None)
    }

    /// Runs the worker in a background thread; end it with
    /// [`WorkerThread::stop`], which reports a panic of `handler` as
    /// [`Error::Panicked`].
    ///
    /// # Errors
    ///
    /// The context's errors (creating the internal stop sockets), or a
    /// thread that cannot be spawned.
    pub fn spawn<F>(mut self, mut handler: F) -> Result<WorkerThread>
    where
        F: FnMut(Vec<Message>) -> Vec<Message> + Send + 'static,
    {
        let ctx = self.settings.ctx.clone();
        let background = Background::spawn(&ctx, "zmqx-ppworker", move |stop| {
            self.serve(&mut handler, Some(stop))
        })?;
        Ok(WorkerThread { background })
    }

    fn serve(
        &mut self,
        handler: &mut dyn FnMut(Vec<Message>) -> Vec<Message>,
        stop: Option<&Socket>,
    ) -> Result<()> {
        match self.connections(handler, stop) {
            Err(e) if terminated(&e) => Ok(()),
            other => Ok(other?),
        }
    }

    /// One connection after another, with the backoff in between.
    fn connections(
        &mut self,
        handler: &mut dyn FnMut(Vec<Message>) -> Vec<Message>,
        stop: Option<&Socket>,
    ) -> crate::Result<()> {
        let mut backoff = self.settings.reconnect_initial;
        let mut next = self.first.take();
        loop {
            let socket = match next.take() {
                Some(s) => s,
                None => {
                    let s = self.settings.new_socket()?;
                    s.connect(&self.settings.endpoint)?;
                    s
                }
            };
            if let Outcome::Stop = self.connection(&socket, handler, stop, &mut backoff)? {
                return Ok(());
            }
            drop(socket);
            // Wait out the backoff on the next socket (not connected yet),
            // so that a stop or the context's end cuts the wait short.
            let waiting = self.settings.new_socket()?;
            if wait_readable(&[&waiting], stop, backoff)?.is_none() {
                return Ok(());
            }
            waiting.connect(&self.settings.endpoint)?;
            next = Some(waiting);
            backoff = backoff.saturating_mul(2).min(self.settings.reconnect_max);
        }
    }

    /// Serves one connection until the queue goes silent or a stop.
    fn connection(
        &self,
        socket: &Socket,
        handler: &mut dyn FnMut(Vec<Message>) -> Vec<Message>,
        stop: Option<&Socket>,
        backoff: &mut Duration,
    ) -> crate::Result<Outcome> {
        let expiry = self.settings.heartbeat.expiry();
        match socket.send(READY) {
            Ok(()) => {}
            Err(e) if matches!(e.root(), crate::Error::Again) => return Ok(Outcome::Lost),
            Err(e) => return Err(e),
        }
        let mut heard = Instant::now();
        let mut next_heartbeat = heard + self.settings.heartbeat.interval;
        loop {
            let timeout = next_heartbeat.saturating_duration_since(Instant::now());
            let Some(readable) = wait_readable(&[socket], stop, timeout)? else {
                return Ok(Outcome::Stop);
            };
            if readable[0] {
                while let Some(mut msg) = socket.try_recv_multipart()? {
                    if msg.len() == 1 && msg[0][..] == *HEARTBEAT {
                        heard = Instant::now();
                        *backoff = self.settings.reconnect_initial;
                        continue;
                    }
                    // A request: envelope, empty delimiter, body.
                    let Some(delimiter) = msg.iter().position(|m| m.is_empty()) else {
                        continue;
                    };
                    *backoff = self.settings.reconnect_initial;
                    let body = msg.split_off(delimiter + 1);
                    let mut reply = handler(body);
                    if reply.is_empty() {
                        reply.push(Message::new());
                    }
                    match socket.send_multipart(msg.iter().chain(reply.iter())) {
                        Ok(()) => {}
                        Err(e) if matches!(e.root(), crate::Error::Again) => {
                            return Ok(Outcome::Lost);
                        }
                        Err(e) => return Err(e),
                    }
                    // The clock restarts once the handler is done: the queue
                    // does not heartbeat a busy worker.
                    heard = Instant::now();
                }
            }
            let now = Instant::now();
            if now.duration_since(heard) > expiry {
                return Ok(Outcome::Lost);
            }
            if now >= next_heartbeat {
                socket.try_send(HEARTBEAT)?;
                next_heartbeat = now + self.settings.heartbeat.interval;
            }
        }
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Worker {
    /// Runs the worker on the current tokio runtime with an async
    /// `handler`: the same protocol, heartbeats and backoff as
    /// [`run`](Self::run), with the socket driven by an
    /// [`AsyncSocket`](crate::AsyncSocket). It returns `Ok(())` when the
    /// context is shut down; dropping the future (or aborting its task)
    /// ends the worker at once, closing its socket (a request being handled
    /// then goes unanswered, and the client's retry takes it elsewhere).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zmqx::patterns::lazy_pirate;
    /// use zmqx::patterns::paranoid_pirate::{Queue, Worker};
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let mut queue = Queue::builder()
    ///         .frontend("tcp://127.0.0.1:*")
    ///         .backend("tcp://127.0.0.1:*")
    ///         .bind()?
    ///         .spawn()?;
    ///     let worker = Worker::builder(&queue.backend_endpoints()[0]).build()?;
    ///     let task = tokio::spawn(worker.run_async(|request| async move { request }));
    ///
    ///     let mut client = lazy_pirate::Client::builder()
    ///         .endpoint(&queue.frontend_endpoints()[0])
    ///         .build_async()?;
    ///     assert_eq!(client.request(["hello"]).await?[0], "hello");
    ///
    ///     task.abort();
    ///     assert!(queue.stop(Duration::from_secs(5))?);
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// A socket error other than the context's end; outside a tokio
    /// runtime, [`zmqx::Error::Reactor`](crate::Error::Reactor).
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn run_async<F, Fut>(mut self, mut handler: F) -> Result<()>
    where
        F: FnMut(Vec<Message>) -> Fut,
        Fut: std::future::Future<Output = Vec<Message>>,
    {
        let first = self.first.take();
        // Only the settings (`Sync`) are borrowed across awaits, so the
        // future is `Send`.
        match self.settings.connections_async(first, &mut handler).await {
            Err(e) if terminated(&e) => Ok(()),
            other => Ok(other?),
        }
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Settings {
    async fn connections_async<F, Fut>(
        &self,
        first: Option<Socket>,
        handler: &mut F,
    ) -> crate::Result<()>
    where
        F: FnMut(Vec<Message>) -> Fut,
        Fut: std::future::Future<Output = Vec<Message>>,
    {
        let mut backoff = self.reconnect_initial;
        let mut next = first;
        loop {
            let socket = match next.take() {
                Some(s) => s,
                None => {
                    let s = self.new_socket()?;
                    s.connect(&self.endpoint)?;
                    s
                }
            };
            let socket = crate::AsyncSocket::new(socket)?;
            self.connection_async(&socket, handler, &mut backoff)
                .await?;
            drop(socket);
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2).min(self.reconnect_max);
        }
    }

    /// Serves one connection until the queue goes silent (`Ok`) or an
    /// error.
    async fn connection_async<F, Fut>(
        &self,
        socket: &crate::AsyncSocket,
        handler: &mut F,
        backoff: &mut Duration,
    ) -> crate::Result<()>
    where
        F: FnMut(Vec<Message>) -> Fut,
        Fut: std::future::Future<Output = Vec<Message>>,
    {
        let expiry = self.heartbeat.expiry();
        match tokio::time::timeout(expiry, socket.send(READY)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) if !matches!(e.root(), crate::Error::Again) => return Err(e),
            // Could not even say READY: the queue is unreachable.
            Ok(Err(_)) | Err(_) => return Ok(()),
        }
        let mut heard = Instant::now();
        let mut next_heartbeat = heard + self.heartbeat.interval;
        loop {
            let wake = tokio::time::Instant::from_std(next_heartbeat);
            if let Ok(received) = tokio::time::timeout_at(wake, socket.recv_multipart()).await {
                let mut msg = received?;
                if msg.len() == 1 && msg[0][..] == *HEARTBEAT {
                    heard = Instant::now();
                    *backoff = self.reconnect_initial;
                } else if let Some(delimiter) = msg.iter().position(|m| m.is_empty()) {
                    *backoff = self.reconnect_initial;
                    let body = msg.split_off(delimiter + 1);
                    let mut reply = handler(body).await;
                    if reply.is_empty() {
                        reply.push(Message::new());
                    }
                    let parts = msg.into_iter().chain(reply);
                    match tokio::time::timeout(expiry, socket.send_multipart(parts)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) if !matches!(e.root(), crate::Error::Again) => {
                            return Err(e);
                        }
                        Ok(Err(_)) | Err(_) => return Ok(()),
                    }
                    heard = Instant::now();
                }
            }
            let now = Instant::now();
            if now.duration_since(heard) > expiry {
                return Ok(());
            }
            if now >= next_heartbeat {
                socket.try_send(&mut Message::from(HEARTBEAT))?;
                next_heartbeat = now + self.heartbeat.interval;
            }
        }
    }
}

/// A [`Worker`] running in a background thread (from [`Worker::spawn`]).
/// Dropping it asks the worker to end and returns at once.
#[derive(Debug)]
pub struct WorkerThread {
    background: Background,
}

impl WorkerThread {
    /// Ends the worker and waits for its thread at most `timeout`:
    /// `Ok(true)` once it has ended (calling again is fine), `Ok(false)`
    /// if it is still busy (a handler still running).
    ///
    /// # Errors
    ///
    /// The socket error that ended the worker (reported once), or
    /// [`Error::Panicked`] for a panicking handler.
    pub fn stop(&mut self, timeout: Duration) -> Result<bool> {
        self.background.stop(timeout)
    }

    /// Whether the thread has ended (an error, a panic or the context's
    /// end).
    pub fn is_finished(&self) -> bool {
        self.background.is_finished()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn handles_are_send() {
        assert_send::<Queue>();
        assert_send::<QueueThread>();
        assert_send::<Worker>();
        assert_send::<WorkerThread>();
        assert_send::<Error>();
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let e = Queue::builder().backend("inproc://b").bind().unwrap_err();
        assert!(e.to_string().contains("no frontend endpoint"), "{e}");
        let e = Queue::builder()
            .frontend("inproc://f")
            .backend("inproc://b")
            .liveness(0)
            .bind()
            .unwrap_err();
        assert!(e.to_string().contains("liveness"), "{e}");
        let e = Worker::builder("inproc://x")
            .heartbeat_interval(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("interval"), "{e}");
        let e = Worker::builder("inproc://x")
            .reconnect(Duration::from_secs(2), Duration::from_secs(1))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("backoff"), "{e}");
        let e = Worker::builder("nonsense").build().unwrap_err();
        assert!(e.to_string().contains("nonsense"), "{e}");
    }

    #[test]
    fn a_panicking_handler_is_reported_by_stop() -> Result<()> {
        let ctx = Context::new();
        let mut queue = Queue::builder()
            .frontend("inproc://pp-panic-front")
            .backend("inproc://pp-panic-back")
            .heartbeat_interval(Duration::from_millis(50))
            .context(&ctx)
            .bind()?
            .spawn()?;
        let mut worker = Worker::builder("inproc://pp-panic-back")
            .heartbeat_interval(Duration::from_millis(50))
            .context(&ctx)
            .build()?
            .spawn(|_| panic!("handler bug"))?;
        let client = ctx.socket(SocketType::Req)?;
        client.set_linger(Some(Duration::ZERO))?;
        client.set_rcvtimeo(Some(Duration::from_secs(10)))?;
        client.connect("inproc://pp-panic-front")?;
        client.send("boom")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !worker.is_finished() && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let e = worker.stop(Duration::from_secs(10)).unwrap_err();
        assert!(
            matches!(e, Error::Panicked { ref message } if message == "handler bug"),
            "{e}"
        );
        assert!(queue.stop(Duration::from_secs(10))?);
        Ok(())
    }
}
