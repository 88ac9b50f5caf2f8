//! The Majordomo broker: one ROUTER socket for clients and workers.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::{
    C_REQUEST, CLIENT_HEADER, Framing, W_DISCONNECT, W_FINAL, W_HEARTBEAT, W_PARTIAL, W_READY,
    W_REQUEST, WORKER_HEADER, parse, report_malformed,
};
use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::error::panic_message;
use crate::message::Message;
use crate::poll::Poller;
use crate::socket::Socket;

/// The broker's settings.
///
/// ```
/// use std::time::Duration;
/// use zmqx::patterns::mdp::BrokerOptions;
/// let opts = BrokerOptions::default()
///     .heartbeat_interval(Duration::from_millis(500))
///     .heartbeat_liveness(4);
/// assert_eq!(opts.expiry(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    heartbeat_interval: Duration,
    heartbeat_liveness: u32,
    busy_timeout: Duration,
    request_ttl: Duration,
}

impl Default for BrokerOptions {
    /// 2.5 s heartbeats, liveness 4 (majortomo's 2.5 s / 10 s), 15 minutes
    /// for a busy worker, 10 s for a request to an unknown service.
    fn default() -> BrokerOptions {
        BrokerOptions {
            heartbeat_interval: Duration::from_millis(2500),
            heartbeat_liveness: 4,
            busy_timeout: Duration::from_secs(900),
            request_ttl: Duration::from_secs(10),
        }
    }
}

impl BrokerOptions {
    /// How often the broker sends `HEARTBEAT` to idle workers; use the
    /// workers' interval.
    pub fn heartbeat_interval(mut self, interval: Duration) -> BrokerOptions {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many intervals an idle worker may stay silent before the broker
    /// forgets it (at least 1).
    pub fn heartbeat_liveness(mut self, liveness: u32) -> BrokerOptions {
        self.heartbeat_liveness = liveness.max(1);
        self
    }

    /// How long a worker holding a request may stay silent before the
    /// broker gives its request to another worker (workers send no
    /// heartbeats while they work).
    pub fn busy_timeout(mut self, timeout: Duration) -> BrokerOptions {
        self.busy_timeout = timeout;
        self
    }

    /// How long a request for a service no worker offers waits for one
    /// before it is dropped (the RFC's "reasonable and configurable time").
    pub fn request_ttl(mut self, ttl: Duration) -> BrokerOptions {
        self.request_ttl = ttl;
        self
    }

    /// `interval × liveness`: the silence after which an idle worker is dead.
    pub fn expiry(&self) -> Duration {
        self.heartbeat_interval * self.heartbeat_liveness
    }
}

/// Counters of a broker, read with [`Broker::stats`] or
/// [`BrokerThread::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerStats {
    /// Client requests received (including `mmi.` ones).
    pub requests: u64,
    /// `FINAL` replies forwarded to clients (including `mmi.` answers).
    pub replies: u64,
    /// Messages dropped as malformed.
    pub malformed: u64,
    /// Why the last malformed message was dropped.
    pub last_malformed: Option<String>,
    /// `HEARTBEAT` commands received from registered workers.
    pub heartbeats: u64,
    /// `DISCONNECT` commands sent to workers.
    pub disconnects_sent: u64,
    /// Workers forgotten after heartbeat (or busy) expiry.
    pub workers_expired: u64,
    /// Requests given to another worker after theirs died.
    pub requeued: u64,
    /// Requests dropped after [`BrokerOptions::request_ttl`].
    pub requests_expired: u64,
    /// Workers registered now.
    pub workers: usize,
}

#[derive(Debug, Default)]
struct Shared {
    requests: AtomicU64,
    replies: AtomicU64,
    malformed: AtomicU64,
    last_malformed: Mutex<Option<String>>,
    heartbeats: AtomicU64,
    disconnects_sent: AtomicU64,
    workers_expired: AtomicU64,
    requeued: AtomicU64,
    requests_expired: AtomicU64,
    workers: AtomicUsize,
}

impl Shared {
    fn snapshot(&self) -> BrokerStats {
        BrokerStats {
            requests: self.requests.load(Ordering::Relaxed),
            replies: self.replies.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            last_malformed: self
                .last_malformed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            heartbeats: self.heartbeats.load(Ordering::Relaxed),
            disconnects_sent: self.disconnects_sent.load(Ordering::Relaxed),
            workers_expired: self.workers_expired.load(Ordering::Relaxed),
            requeued: self.requeued.load(Ordering::Relaxed),
            requests_expired: self.requests_expired.load(Ordering::Relaxed),
            workers: self.workers.load(Ordering::Relaxed),
        }
    }

    fn malformed(&self, reason: String) {
        report_malformed("mdp broker", &reason);
        self.malformed.fetch_add(1, Ordering::Relaxed);
        *self
            .last_malformed
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }
}

/// Ends a broker's [`run`](Broker::run) (or `run_async`) from any thread
/// or task: cloneable, `Send` and `Sync`, and [`stop`](Stopper::stop) never
/// blocks. A stop sent before the broker runs ends it as soon as it starts.
#[derive(Debug, Clone)]
pub struct Stopper {
    socket: Arc<Mutex<Socket>>,
}

impl Stopper {
    /// Asks the broker loop to end. Returns at once; the loop reacts at its
    /// next poll. Calling it again, or after the broker ended, does nothing.
    pub fn stop(&self) {
        let socket = self.socket.lock().unwrap_or_else(|e| e.into_inner());
        let _ = socket.try_send(&b""[..]);
    }
}

/// A request waiting for a worker or held by one.
#[derive(Debug)]
struct Pending {
    client: Message,
    delimiter: bool,
    dialect: Framing,
    service: Vec<u8>,
    body: Vec<Message>,
    since: Instant,
}

#[derive(Debug)]
struct WorkerEntry {
    service: Vec<u8>,
    delimiter: bool,
    last_seen: Instant,
    job: Option<Pending>,
}

#[derive(Debug, Default)]
struct Service {
    /// Idle workers, least recently used first.
    idle: VecDeque<Vec<u8>>,
    /// Registered workers (idle and busy).
    workers: usize,
    queue: VecDeque<Pending>,
}

/// The Majordomo broker (majortomo's `Broker`): binds one ROUTER socket
/// for clients and workers and runs in the caller's thread
/// ([`run`](Broker::run)), its own ([`spawn`](Broker::spawn)) or, with the
/// `tokio` feature, as a future on the caller's runtime (`run_async`).
///
/// See the [module docs](super) for an example.
#[derive(Debug)]
pub struct Broker {
    socket: Socket,
    stop_socket: Socket,
    stopper: Stopper,
    core: Core,
}

/// The broker's protocol state and steps, shared by the blocking loop
/// ([`Broker::run`]) and the async one (`Broker::run_async`). Each step
/// only makes non-blocking calls on the ROUTER socket it is given.
#[derive(Debug)]
struct Core {
    options: BrokerOptions,
    shared: Arc<Shared>,
    workers: HashMap<Vec<u8>, WorkerEntry>,
    services: HashMap<Vec<u8>, Service>,
}

impl Broker {
    /// A broker with [`BrokerOptions::default`] on `ctx`.
    pub fn new(ctx: &Context) -> Result<Broker> {
        Broker::with_options(ctx, BrokerOptions::default())
    }

    /// A broker with `options`. Bind it with [`bind`](Broker::bind).
    pub fn with_options(ctx: &Context, options: BrokerOptions) -> Result<Broker> {
        use std::sync::atomic::AtomicUsize;
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = ctx.socket(SocketType::Router)?;
        socket.set_linger(Some(Duration::ZERO))?;
        socket.set_sndtimeo(Some(Duration::ZERO))?;
        let endpoint = format!(
            "inproc://zmqx-mdp-broker-stop-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let stop_socket = ctx.socket(SocketType::Pair)?;
        stop_socket.set_linger(Some(Duration::ZERO))?;
        stop_socket.bind(&endpoint)?;
        let remote = ctx.socket(SocketType::Pair)?;
        remote.set_linger(Some(Duration::ZERO))?;
        remote.connect(&endpoint)?;
        Ok(Broker {
            socket,
            stop_socket,
            stopper: Stopper {
                socket: Arc::new(Mutex::new(remote)),
            },
            core: Core {
                options,
                shared: Arc::default(),
                workers: HashMap::new(),
                services: HashMap::new(),
            },
        })
    }

    /// Binds the broker's socket and returns the endpoint bound (the real
    /// port for `tcp://…:*`). Call it as often as needed.
    pub fn bind(&self, endpoint: &str) -> Result<String> {
        Ok(self.socket.bind(endpoint)?)
    }

    /// A handle that ends [`run`](Broker::run) (or `run_async`) from
    /// another thread or task.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// The broker's counters now.
    pub fn stats(&self) -> BrokerStats {
        self.core.shared.snapshot()
    }

    /// The options the broker runs with.
    pub fn options(&self) -> &BrokerOptions {
        &self.core.options
    }

    /// Runs the broker in this thread until a [`Stopper`] stops it (then
    /// `Ok` with the final counters) or its context is shut down (also
    /// `Ok`). Other libzmq errors end it with the error.
    pub fn run(mut self) -> Result<BrokerStats> {
        match self.run_loop() {
            Ok(()) => {}
            Err(crate::Error::ContextTerminated) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self.core.shared.snapshot())
    }

    /// Runs the broker in a thread of its own. End it with
    /// [`BrokerThread::stop`]; dropping the handle stops it without waiting.
    pub fn spawn(self) -> Result<BrokerThread> {
        let stopper = self.stopper();
        let shared = Arc::clone(&self.core.shared);
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("zmqx-mdp-broker".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run()))
                    .unwrap_or_else(|p| {
                        Err(Error::Panicked {
                            message: panic_message(&*p),
                        })
                    });
                let _ = done_tx.send(());
                result
            })
            .map_err(|e| {
                crate::Error::invalid("the broker thread", format!("it could not start: {e}"))
            })?;
        Ok(BrokerThread {
            stopper,
            shared,
            thread: Some(thread),
            done,
        })
    }

    fn run_loop(&mut self) -> crate::Result<()> {
        let interval = self.core.options.heartbeat_interval;
        let mut next_tick = Instant::now() + interval;
        let mut frames: Vec<Message> = Vec::new();
        loop {
            self.core.tick_if_due(&self.socket, &mut next_tick)?;
            let wait = next_tick.saturating_duration_since(Instant::now());
            let (readable, stop) = {
                let mut poller = Poller::new();
                poller.register(&self.socket, PollEvents::POLLIN);
                poller.register(&self.stop_socket, PollEvents::POLLIN);
                poller.wait(Some(wait))?;
                (
                    poller
                        .revents(&self.socket)
                        .is_some_and(|e| e.contains(PollEvents::POLLIN)),
                    poller
                        .revents(&self.stop_socket)
                        .is_some_and(|e| e.contains(PollEvents::POLLIN)),
                )
            };
            if stop {
                return Ok(());
            }
            if readable {
                self.core.drain(&self.socket, &mut frames)?;
            }
        }
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Broker {
    /// Runs the broker as a future on the caller's tokio runtime: the same
    /// protocol, heartbeats and counters as [`run`](Broker::run), with its
    /// sockets driven by [`AsyncSocket`](crate::AsyncSocket)s. It ends
    /// when a [`Stopper`] stops it (`Ok` with the final counters) or its
    /// context is shut down (also `Ok`).
    ///
    /// Cancel-safe: each message is handled whole between two awaits, so
    /// dropping the future (or aborting its task) leaves no half-handled
    /// message; it closes the broker's socket (linger 0), which frees its
    /// endpoints, and what libzmq still queued for the broker goes with it
    /// as with a broker process that exits (clients retry).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), zmqx::patterns::mdp::Error> {
    /// use zmqx::Context;
    /// use zmqx::patterns::mdp::Broker;
    ///
    /// let ctx = Context::new();
    /// let broker = Broker::new(&ctx)?;
    /// broker.bind("tcp://127.0.0.1:*")?;
    /// let stopper = broker.stopper();
    /// let task = tokio::spawn(broker.run_async());
    /// stopper.stop();
    /// let stats = task.await.expect("the broker task")?;
    /// assert_eq!(stats.requests, 0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A libzmq error other than the context's end; outside a tokio
    /// runtime, [`zmqx::Error::Reactor`](crate::Error::Reactor).
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn run_async(self) -> Result<BrokerStats> {
        let Broker {
            socket,
            stop_socket,
            stopper: _stopper,
            mut core,
        } = self;
        let socket = crate::AsyncSocket::new(socket)?;
        let stop = crate::AsyncSocket::new(stop_socket)?;
        match core.run_async(&socket, &stop).await {
            Ok(()) => {}
            Err(e) if matches!(e.root(), crate::Error::ContextTerminated) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(core.shared.snapshot())
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Core {
    /// The async loop: [`Broker::run_loop`]'s steps, awaiting readiness.
    async fn run_async(
        &mut self,
        socket: &crate::AsyncSocket,
        stop: &crate::AsyncSocket,
    ) -> crate::Result<()> {
        let interval = self.options.heartbeat_interval;
        let mut next_tick = Instant::now() + interval;
        let mut frames: Vec<Message> = Vec::new();
        loop {
            socket.with_socket(|s| self.tick_if_due(s, &mut next_tick))?;
            let wait = next_tick.saturating_duration_since(Instant::now());
            // Both waits only watch readiness (no message is taken), so
            // either may be dropped by the other's completion or by the
            // caller without losing anything.
            tokio::select! {
                biased;
                ready = stop.poll(PollEvents::POLLIN, None) => {
                    ready?;
                    return Ok(());
                }
                ready = socket.poll(PollEvents::POLLIN, Some(wait)) => {
                    if ready?.contains(PollEvents::POLLIN) {
                        socket.with_socket(|s| self.drain(s, &mut frames))?;
                    }
                }
            }
        }
    }
}

impl Core {
    /// Runs [`tick`](Core::tick) when `next_tick` has passed and sets the
    /// next one.
    fn tick_if_due(&mut self, socket: &Socket, next_tick: &mut Instant) -> crate::Result<()> {
        let now = Instant::now();
        if now >= *next_tick {
            self.tick(socket, now)?;
            *next_tick = now + self.options.heartbeat_interval;
        }
        Ok(())
    }

    /// Handles a batch of the messages waiting on `socket` (at most 1024,
    /// so the clock and the stop socket are looked at in between).
    fn drain(&mut self, socket: &Socket, frames: &mut Vec<Message>) -> crate::Result<()> {
        for _ in 0..1024 {
            frames.clear();
            if !socket.try_recv_multipart_into(frames)? {
                break;
            }
            self.handle(socket, std::mem::take(frames))?;
        }
        Ok(())
    }
}

impl Core {
    fn handle(&mut self, socket: &Socket, mut frames: Vec<Message>) -> crate::Result<()> {
        if frames.is_empty() {
            return Ok(());
        }
        let id = frames.remove(0);
        let cmd = match parse(&frames) {
            Ok(c) => c,
            Err(reason) => {
                self.shared.malformed(reason);
                return Ok(());
            }
        };
        let rest = frames.split_off(cmd.rest);
        if cmd.worker {
            self.handle_worker(socket, id, cmd.command, cmd.delimiter, rest)
        } else if cmd.command == C_REQUEST || cmd.command == W_REQUEST {
            let dialect = if cmd.command == C_REQUEST {
                Framing::Rfc
            } else {
                Framing::Majortomo
            };
            let mut rest = rest.into_iter();
            let Some(service) = rest.next() else {
                self.shared
                    .malformed("a client REQUEST without a service frame".into());
                return Ok(());
            };
            if service.as_bytes().is_empty() {
                self.shared
                    .malformed("a client REQUEST with an empty service name".into());
                return Ok(());
            }
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            let pending = Pending {
                client: id,
                delimiter: cmd.delimiter,
                dialect,
                service: service.as_bytes().to_vec(),
                body: rest.collect(),
                since: Instant::now(),
            };
            if pending.service.starts_with(b"mmi.") {
                return self.mmi(socket, pending);
            }
            let service = pending.service.clone();
            self.services
                .entry(service.clone())
                .or_default()
                .queue
                .push_back(pending);
            self.dispatch(socket, &service)
        } else {
            self.shared.malformed(format!(
                "client command {:#04x} (a client may only send REQUEST)",
                cmd.command
            ));
            Ok(())
        }
    }

    fn handle_worker(
        &mut self,
        socket: &Socket,
        id: Message,
        command: u8,
        delimiter: bool,
        rest: Vec<Message>,
    ) -> crate::Result<()> {
        let key = id.as_bytes().to_vec();
        let known = self.workers.contains_key(&key);
        match command {
            W_READY if !known => {
                let Some(service) = rest.first().map(|s| s.as_bytes().to_vec()) else {
                    self.shared
                        .malformed("a worker READY without a service frame".into());
                    return Ok(());
                };
                if service.is_empty() || service.starts_with(b"mmi.") {
                    self.shared.malformed(format!(
                        "a worker READY for service {:?}, which cannot be offered",
                        String::from_utf8_lossy(&service)
                    ));
                    return self.disconnect_peer(socket, &key, delimiter);
                }
                self.workers.insert(
                    key.clone(),
                    WorkerEntry {
                        service: service.clone(),
                        delimiter,
                        last_seen: Instant::now(),
                        job: None,
                    },
                );
                self.shared
                    .workers
                    .store(self.workers.len(), Ordering::Relaxed);
                let svc = self.services.entry(service.clone()).or_default();
                svc.workers += 1;
                svc.idle.push_back(key);
                self.dispatch(socket, &service)
            }
            W_HEARTBEAT if known => {
                self.shared.heartbeats.fetch_add(1, Ordering::Relaxed);
                if let Some(w) = self.workers.get_mut(&key) {
                    w.last_seen = Instant::now();
                }
                Ok(())
            }
            W_PARTIAL | W_FINAL if known => {
                // Client address, empty frame, body.
                let valid = rest.len() >= 2 && rest[1].as_bytes().is_empty();
                let holds = self
                    .workers
                    .get(&key)
                    .and_then(|w| w.job.as_ref())
                    .is_some_and(|job| valid && job.client.as_bytes() == rest[0].as_bytes());
                if !holds {
                    self.shared.malformed(if valid {
                        "a worker reply for a request it does not hold".into()
                    } else {
                        "a worker reply without client address and empty frame".into()
                    });
                    return self.drop_worker(socket, &key, true);
                }
                let Some(w) = self.workers.get_mut(&key) else {
                    return Ok(());
                };
                w.last_seen = Instant::now();
                let body = rest.into_iter().skip(2);
                if command == W_PARTIAL {
                    // Forward a partial; the worker keeps the job.
                    if let Some(job) = w.job.as_ref() {
                        let head = client_head(job, 1);
                        send_all(socket, head.into_iter().chain(body))?;
                    }
                    return Ok(());
                }
                let Some(job) = w.job.take() else {
                    return Ok(());
                };
                let head = client_head(&job, 2);
                send_all(socket, head.into_iter().chain(body))?;
                self.shared.replies.fetch_add(1, Ordering::Relaxed);
                let service = job.service;
                self.services
                    .entry(service.clone())
                    .or_default()
                    .idle
                    .push_back(key);
                self.dispatch(socket, &service)
            }
            W_DISCONNECT => {
                if known {
                    // The worker leaves; it gets nothing more, not even DISCONNECT.
                    self.drop_worker(socket, &key, false)
                } else {
                    Ok(())
                }
            }
            W_READY | W_HEARTBEAT | W_PARTIAL | W_FINAL => {
                // Valid but unexpected (a second READY, or anything from a
                // worker the broker does not know, say after a restart).
                if known {
                    self.shared.malformed("a second READY from a worker".into());
                    self.drop_worker(socket, &key, true)
                } else {
                    self.disconnect_peer(socket, &key, delimiter)
                }
            }
            W_REQUEST => {
                self.shared.malformed("a worker sent REQUEST".into());
                if known {
                    self.drop_worker(socket, &key, true)
                } else {
                    self.disconnect_peer(socket, &key, delimiter)
                }
            }
            c => {
                self.shared
                    .malformed(format!("unknown worker command {c:#04x}"));
                Ok(())
            }
        }
    }

    fn mmi(&mut self, socket: &Socket, pending: Pending) -> crate::Result<()> {
        let code: &[u8] = if pending.service == b"mmi.service" {
            let known = pending
                .body
                .first()
                .and_then(|name| self.services.get(name.as_bytes()))
                .is_some_and(|s| s.workers > 0);
            if known { b"200" } else { b"404" }
        } else {
            b"501"
        };
        let head = client_head(&pending, 2);
        send_all(socket, head.into_iter().chain([Message::from(code)]))?;
        self.shared.replies.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Hands queued requests of `service` to its idle workers.
    fn dispatch(&mut self, socket: &Socket, service: &[u8]) -> crate::Result<()> {
        let Some(svc) = self.services.get_mut(service) else {
            return Ok(());
        };
        while !svc.queue.is_empty() {
            let Some(worker) = svc.idle.pop_front() else {
                break;
            };
            let Some(entry) = self.workers.get_mut(&worker) else {
                continue;
            };
            let Some(job) = svc.queue.pop_front() else {
                break;
            };
            let mut msg = Vec::with_capacity(job.body.len() + 6);
            msg.push(Message::from(&worker[..]));
            if entry.delimiter {
                msg.push(Message::new());
            }
            msg.push(Message::from(WORKER_HEADER));
            msg.push(Message::from(&[W_REQUEST][..]));
            msg.push(job.client.clone());
            msg.push(Message::new());
            msg.extend(job.body.iter().cloned());
            entry.job = Some(job);
            send_all(socket, msg)?;
        }
        Ok(())
    }

    /// Sends DISCONNECT to a peer the broker does not (or no longer) track.
    fn disconnect_peer(
        &mut self,
        socket: &Socket,
        id: &[u8],
        delimiter: bool,
    ) -> crate::Result<()> {
        let mut msg = vec![Message::from(id)];
        if delimiter {
            msg.push(Message::new());
        }
        msg.push(Message::from(WORKER_HEADER));
        msg.push(Message::from(&[W_DISCONNECT][..]));
        send_all(socket, msg)?;
        self.shared.disconnects_sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Forgets a worker, optionally telling it, and gives its request (if
    /// it held one) to the next worker of its service.
    fn drop_worker(&mut self, socket: &Socket, id: &[u8], tell: bool) -> crate::Result<()> {
        let Some(entry) = self.workers.remove(id) else {
            return Ok(());
        };
        self.shared
            .workers
            .store(self.workers.len(), Ordering::Relaxed);
        if tell {
            self.disconnect_peer(socket, id, entry.delimiter)?;
        }
        if let Some(svc) = self.services.get_mut(&entry.service) {
            svc.workers = svc.workers.saturating_sub(1);
            svc.idle.retain(|w| w != id);
            if let Some(job) = entry.job {
                self.shared.requeued.fetch_add(1, Ordering::Relaxed);
                svc.queue.push_front(job);
            }
        }
        self.dispatch(socket, &entry.service)
    }

    /// Once per heartbeat interval: expire silent workers and old requests
    /// for services nobody offers, and send HEARTBEAT to idle workers.
    fn tick(&mut self, socket: &Socket, now: Instant) -> crate::Result<()> {
        let expiry = self.options.expiry();
        let busy = self.options.busy_timeout;
        let dead: Vec<Vec<u8>> = self
            .workers
            .iter()
            .filter(|(_, w)| {
                let limit = if w.job.is_some() { busy } else { expiry };
                now.saturating_duration_since(w.last_seen) > limit
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in dead {
            self.shared.workers_expired.fetch_add(1, Ordering::Relaxed);
            self.drop_worker(socket, &id, true)?;
        }
        let ttl = self.options.request_ttl;
        let mut expired = 0;
        self.services.retain(|_, svc| {
            if svc.workers == 0 {
                let before = svc.queue.len();
                svc.queue
                    .retain(|p| now.saturating_duration_since(p.since) <= ttl);
                expired += (before - svc.queue.len()) as u64;
            }
            svc.workers > 0 || !svc.queue.is_empty()
        });
        self.shared
            .requests_expired
            .fetch_add(expired, Ordering::Relaxed);
        let idle: Vec<(Vec<u8>, bool)> = self
            .services
            .values()
            .flat_map(|s| s.idle.iter())
            .filter_map(|id| self.workers.get(id).map(|w| (id.clone(), w.delimiter)))
            .collect();
        for (id, delimiter) in idle {
            let mut msg = vec![Message::from(&id[..])];
            if delimiter {
                msg.push(Message::new());
            }
            msg.push(Message::from(WORKER_HEADER));
            msg.push(Message::from(&[W_HEARTBEAT][..]));
            send_all(socket, msg)?;
        }
        Ok(())
    }
}

/// The frames before a reply body to a client: routing id, optional empty
/// frame, header, command, optional service.
/// `code` 1 is PARTIAL, 2 FINAL, numbered in the client's dialect.
fn client_head(job: &Pending, code: usize) -> Vec<Message> {
    let mut head = Vec::with_capacity(5);
    head.push(job.client.clone());
    if job.delimiter {
        head.push(Message::new());
    }
    head.push(Message::from(CLIENT_HEADER));
    head.push(Message::from(&[job.dialect.client_codes()[code]][..]));
    if job.dialect.reply_service() {
        head.push(Message::from(&job.service[..]));
    }
    head
}

/// Sends on the ROUTER without blocking; a peer that is gone or full loses
/// the message (as the RFC allows: the client retries).
fn send_all(socket: &Socket, parts: impl IntoIterator<Item = Message>) -> crate::Result<()> {
    match socket.try_send_multipart(parts) {
        Ok(_) => Ok(()),
        Err(crate::Error::HostUnreachable) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A broker running in its own thread ([`Broker::spawn`]).
///
/// Dropping it asks the broker to stop and returns at once; the thread ends
/// by itself at its next poll.
#[derive(Debug)]
pub struct BrokerThread {
    stopper: Stopper,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<BrokerStats>>>,
    done: Receiver<()>,
}

impl BrokerThread {
    /// The broker's counters now.
    pub fn stats(&self) -> BrokerStats {
        self.shared.snapshot()
    }

    /// A handle that stops the broker from elsewhere.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Stops the broker and waits for its thread at most `timeout`:
    /// `Ok(true)` when it ended, `Ok(false)` when it did not in time (it
    /// still ends by itself), the broker's error or panic otherwise.
    pub fn stop(mut self, timeout: Duration) -> Result<bool> {
        self.stopper.stop();
        match self.done.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
            Err(RecvTimeoutError::Timeout) => return Ok(false),
        }
        let Some(thread) = self.thread.take() else {
            return Ok(true);
        };
        match thread.join() {
            Ok(result) => result.map(|_| true),
            Err(p) => Err(Error::Panicked {
                message: panic_message(&*p),
            }),
        }
    }
}

impl Drop for BrokerThread {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stopper.stop();
        }
    }
}
