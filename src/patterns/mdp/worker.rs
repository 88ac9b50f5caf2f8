//! The Majordomo worker: a DEALER offering one service through the broker.

use std::time::{Duration, Instant};

use super::error::Result;
use super::{
    Framing, W_DISCONNECT, W_FINAL, W_HEARTBEAT, W_PARTIAL, W_READY, W_REQUEST, WORKER_HEADER,
    check_service, parse, report_malformed,
};
use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::message::Message;
use crate::poll::Poller;
use crate::socket::Socket;

/// The worker's settings.
///
/// ```
/// use std::time::Duration;
/// use zmqx::patterns::mdp::WorkerOptions;
/// let opts = WorkerOptions::default().heartbeat_interval(Duration::from_millis(250)).heartbeat_liveness(3);
/// ```
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub(super) heartbeat_interval: Duration,
    pub(super) heartbeat_liveness: u32,
    pub(super) framing: Framing,
}

impl Default for WorkerOptions {
    /// 2.5 s heartbeats, liveness 4 (majortomo's 2.5 s / 10 s), RFC framing.
    fn default() -> WorkerOptions {
        WorkerOptions {
            heartbeat_interval: Duration::from_millis(2500),
            heartbeat_liveness: 4,
            framing: Framing::Rfc,
        }
    }
}

impl WorkerOptions {
    /// How often the worker sends `HEARTBEAT` while it waits; use the
    /// broker's interval.
    pub fn heartbeat_interval(mut self, interval: Duration) -> WorkerOptions {
        self.heartbeat_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many intervals the broker may stay silent before the worker
    /// opens a new socket and registers again (at least 1).
    pub fn heartbeat_liveness(mut self, liveness: u32) -> WorkerOptions {
        self.heartbeat_liveness = liveness.max(1);
        self
    }

    /// How the worker frames its commands.
    pub fn framing(mut self, framing: Framing) -> WorkerOptions {
        self.framing = framing;
        self
    }
}

/// A request handed to a worker: the client's address and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub(super) client: Message,
    pub(super) body: Vec<Message>,
}

impl Request {
    /// The address the broker gave the client (opaque).
    pub fn client(&self) -> &[u8] {
        self.client.as_bytes()
    }

    /// The request's frames.
    pub fn body(&self) -> &[Message] {
        &self.body
    }

    /// Takes the request's frames.
    pub fn into_body(self) -> Vec<Message> {
        self.body
    }
}

/// A Majordomo worker (majortomo's `Worker`, libmdp's `mdp_worker`):
/// registers for one service, receives requests with
/// [`recv`](Worker::recv) and answers them with [`reply`](Worker::reply)
/// (after any [`partial`](Worker::partial) ones).
///
/// Heartbeats run inside [`recv`](Worker::recv): call it again soon after
/// answering. When the broker goes silent for `liveness × interval` or
/// sends `DISCONNECT`, the worker opens a new socket and sends `READY`
/// again ([`reconnects`](Worker::reconnects) counts that).
///
/// Dropping the worker sends `DISCONNECT` without blocking;
/// [`disconnect`](Worker::disconnect) does the same explicitly.
#[derive(Debug)]
pub struct Worker {
    ctx: Context,
    endpoint: String,
    service: Vec<u8>,
    options: WorkerOptions,
    socket: Option<Socket>,
    live: Liveness,
}

/// What a worker does next ([`Liveness::next`]).
pub(super) enum Next {
    /// The broker has been silent too long: open a new socket.
    Reopen,
    /// Time for a heartbeat.
    Heartbeat,
    /// The caller's time is up.
    TimedOut,
    /// Wait for a message from the broker until then.
    Wait(Instant),
}

/// A message from the broker, as [`Liveness::received`] reads it.
pub(super) enum Received {
    Request(Request),
    /// `DISCONNECT`: register again on a new socket.
    Reopen,
}

/// The heartbeat clock and counters of a worker: the protocol logic that
/// [`Worker`] and the async worker share (they differ only in how they
/// wait and send).
#[derive(Debug)]
pub(super) struct Liveness {
    pub(super) next_heartbeat: Instant,
    pub(super) broker_seen: Instant,
    pub(super) reconnects: u64,
    pub(super) malformed: u64,
}

impl Liveness {
    pub(super) fn new() -> Liveness {
        let now = Instant::now();
        Liveness {
            next_heartbeat: now,
            broker_seen: now,
            reconnects: 0,
            malformed: 0,
        }
    }

    /// What to do at `now`, for a `recv` that ends at `deadline`.
    pub(super) fn next(
        &self,
        options: &WorkerOptions,
        now: Instant,
        deadline: Option<Instant>,
    ) -> Next {
        let expiry = options.heartbeat_interval * options.heartbeat_liveness;
        if now.saturating_duration_since(self.broker_seen) > expiry {
            return Next::Reopen;
        }
        if now >= self.next_heartbeat {
            return Next::Heartbeat;
        }
        let mut until = self.next_heartbeat.min(self.broker_seen + expiry);
        if let Some(d) = deadline {
            if now >= d {
                return Next::TimedOut;
            }
            until = until.min(d);
        }
        Next::Wait(until)
    }

    /// Reads a message from the broker; a malformed one is counted and
    /// reported, heartbeats only keep the broker alive.
    pub(super) fn received(&mut self, frames: Vec<Message>) -> Option<Received> {
        self.broker_seen = Instant::now();
        match read_command(&frames) {
            Ok((W_HEARTBEAT, _)) => None,
            Ok((W_DISCONNECT, _)) => Some(Received::Reopen),
            Ok((W_REQUEST, start)) => {
                let mut rest = frames.into_iter().skip(start);
                let (Some(client), Some(_empty)) = (rest.next(), rest.next()) else {
                    return None;
                };
                Some(Received::Request(Request {
                    client,
                    body: rest.collect(),
                }))
            }
            Ok((c, _)) => {
                self.bad(&format!("worker command {c:#04x} from the broker"));
                None
            }
            Err(reason) => {
                self.bad(&reason);
                None
            }
        }
    }

    fn bad(&mut self, reason: &str) {
        report_malformed("mdp worker", reason);
        self.malformed += 1;
    }
}

/// The frames of a reply to `request` (after the command).
pub(super) fn answer_frames<I>(request: &Request, body: I) -> impl Iterator<Item = Message>
where
    I: IntoIterator,
    I::Item: Into<Message>,
{
    [request.client.clone(), Message::new()]
        .into_iter()
        .chain(body.into_iter().map(Into::into))
}

impl Worker {
    /// A worker for `service` at the broker at `endpoint`, with
    /// [`WorkerOptions::default`]. Sends `READY` at once.
    pub fn connect(ctx: &Context, endpoint: &str, service: impl AsRef<[u8]>) -> Result<Worker> {
        Worker::with_options(ctx, endpoint, service, WorkerOptions::default())
    }

    /// A worker with `options`.
    pub fn with_options(
        ctx: &Context,
        endpoint: &str,
        service: impl AsRef<[u8]>,
        options: WorkerOptions,
    ) -> Result<Worker> {
        let service = service.as_ref();
        check_service(service)?;
        let mut worker = Worker {
            ctx: ctx.clone(),
            endpoint: endpoint.to_owned(),
            service: service.to_vec(),
            options,
            socket: None,
            live: Liveness::new(),
        };
        worker.open()?;
        Ok(worker)
    }

    /// The service the worker offers.
    pub fn service(&self) -> &[u8] {
        &self.service
    }

    /// How often the worker opened a new socket after losing the broker.
    pub fn reconnects(&self) -> u64 {
        self.live.reconnects
    }

    /// Messages from the broker dropped as malformed so far.
    pub fn malformed(&self) -> u64 {
        self.live.malformed
    }

    fn open(&mut self) -> crate::Result<()> {
        self.socket = None;
        let s = self.ctx.socket(SocketType::Dealer)?;
        s.set_linger(Some(Duration::ZERO))?;
        s.set_sndtimeo(Some(self.options.heartbeat_interval))?;
        s.connect(&self.endpoint)?;
        self.socket = Some(s);
        let service = Message::from(&self.service[..]);
        self.send(W_READY, [service])?;
        self.live.broker_seen = Instant::now();
        Ok(())
    }

    /// Sends a command; without a socket it goes nowhere (`recv` opens
    /// one), but the heartbeat clock restarts all the same.
    fn send(&mut self, command: u8, rest: impl IntoIterator<Item = Message>) -> crate::Result<()> {
        if let Some(socket) = self.socket.as_ref() {
            match socket.send_multipart(worker_frames(self.options.framing, command, rest)) {
                // The broker is unreachable for a heartbeat interval: the
                // heartbeat logic will open a new socket.
                Ok(()) | Err(crate::Error::Again) => {}
                Err(e) => return Err(e),
            }
        }
        self.live.next_heartbeat = Instant::now() + self.options.heartbeat_interval;
        Ok(())
    }

    /// Waits for the next request at most `timeout` (`None`: until one
    /// comes), sending heartbeats and re-registering as needed meanwhile.
    /// `Ok(None)` when the time is up.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Request>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let until = match self.live.next(&self.options, Instant::now(), deadline) {
                Next::Reopen => {
                    self.live.reconnects += 1;
                    self.open()?;
                    continue;
                }
                Next::Heartbeat => {
                    self.send(W_HEARTBEAT, [])?;
                    continue;
                }
                Next::TimedOut => return Ok(None),
                Next::Wait(until) => until,
            };
            let wait = until.saturating_duration_since(Instant::now());
            let frames = {
                let Some(socket) = self.socket.as_ref() else {
                    self.open()?;
                    continue;
                };
                let mut poller = Poller::new();
                poller.register(socket, PollEvents::POLLIN);
                if poller.wait(Some(wait))? == 0 {
                    continue;
                }
                match socket.try_recv_multipart()? {
                    Some(f) => f,
                    None => continue,
                }
            };
            match self.live.received(frames) {
                Some(Received::Request(request)) => return Ok(Some(request)),
                Some(Received::Reopen) => {
                    self.live.reconnects += 1;
                    self.open()?;
                }
                None => {}
            }
        }
    }

    /// Sends a `PARTIAL` reply to `request`: the client gets it at once
    /// and waits for more.
    pub fn partial<I>(&mut self, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.answer(W_PARTIAL, request, body)
    }

    /// Sends the `FINAL` reply to `request`; the worker is then free for
    /// the next one.
    pub fn reply<I>(&mut self, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.answer(W_FINAL, request, body)
    }

    fn answer<I>(&mut self, command: u8, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        Ok(self.send(command, answer_frames(request, body))?)
    }

    /// Sends `DISCONNECT` and closes the socket: the broker forgets the
    /// worker at once.
    pub fn disconnect(mut self) -> Result<()> {
        self.say_goodbye();
        Ok(())
    }

    fn say_goodbye(&mut self) {
        let Some(socket) = self.socket.take() else {
            return;
        };
        let msg = worker_frames(self.options.framing, W_DISCONNECT, []);
        // A short linger lets the command leave; closing does not wait.
        let _ = socket.set_linger(Some(Duration::from_millis(100)));
        let _ = socket.try_send_multipart(msg);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.say_goodbye();
    }
}

/// A worker command in `framing`.
pub(super) fn worker_frames(
    framing: Framing,
    command: u8,
    rest: impl IntoIterator<Item = Message>,
) -> Vec<Message> {
    let mut msg = Vec::with_capacity(6);
    if framing.delimiter() {
        msg.push(Message::new());
    }
    msg.push(Message::from(WORKER_HEADER));
    msg.push(Message::from(&[command][..]));
    msg.extend(rest);
    msg
}

/// Checks a command from the broker; returns it and where its frames start.
pub(super) fn read_command(frames: &[Message]) -> Result<(u8, usize), String> {
    let cmd = parse(frames)?;
    if !cmd.worker {
        return Err("a client command sent to a worker".into());
    }
    if cmd.command == W_REQUEST {
        let ok = frames.len() >= cmd.rest + 2 && frames[cmd.rest + 1].as_bytes().is_empty();
        if !ok {
            return Err("a REQUEST without client address and empty frame".into());
        }
    }
    Ok((cmd.command, cmd.rest))
}
