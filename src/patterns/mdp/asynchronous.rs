//! [`AsyncClient`] and [`AsyncWorker`]: the Majordomo client and worker on
//! tokio, with the blocking types' behaviour and wire format.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::client::{ClientOptions, Reply, read_reply, request_frames};
use super::error::{Error, Result};
use super::worker::{
    Liveness, Next, Received, Request, WorkerOptions, answer_frames, worker_frames,
};
use super::{
    W_DISCONNECT, W_FINAL, W_HEARTBEAT, W_PARTIAL, W_READY, check_service, report_malformed,
};
use crate::asynchronous::AsyncSocket;
use crate::constants::SocketType;
use crate::context::Context;
use crate::message::Message;

fn dealer(ctx: &Context, endpoint: &str) -> crate::Result<AsyncSocket> {
    let s = ctx.socket(SocketType::Dealer)?;
    s.set_linger(Some(Duration::ZERO))?;
    s.connect(endpoint)?;
    AsyncSocket::new(s)
}

/// The async [`Client`](super::Client): same options, retries and replies.
///
/// Cancel-safe: dropping a [`request`](AsyncClient::request) future
/// abandons its socket at the next request, so a late reply never answers
/// another request. One request at a time (`&mut self`); use several
/// clients for requests in parallel.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), zmqx::patterns::mdp::Error> {
/// use std::time::Duration;
/// use zmqx::Context;
/// use zmqx::patterns::mdp::{AsyncClient, AsyncWorker, Broker};
///
/// let ctx = Context::new();
/// let broker = Broker::new(&ctx)?;
/// let endpoint = broker.bind("tcp://127.0.0.1:*")?;
/// let broker = broker.spawn()?;
/// let mut worker = AsyncWorker::connect(&ctx, &endpoint, "echo")?;
/// let mut client = AsyncClient::connect(&ctx, &endpoint)?;
/// let serve = async {
///     let req = worker.recv(Some(Duration::from_secs(5))).await?.expect("a request");
///     let body = req.body().to_vec();
///     worker.reply(&req, body).await
/// };
/// let (reply, served) = tokio::join!(client.request("echo", ["hi"]), serve);
/// served?;
/// assert_eq!(reply?.body()[0], "hi");
/// broker.stop(Duration::from_secs(5))?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncClient {
    ctx: Context,
    endpoint: String,
    socket: Option<AsyncSocket>,
    options: ClientOptions,
    in_flight: bool,
    malformed: u64,
    retries: u64,
}

impl AsyncClient {
    /// A client of the broker at `endpoint` with [`ClientOptions::default`].
    /// Call it inside a tokio runtime.
    pub fn connect(ctx: &Context, endpoint: &str) -> Result<AsyncClient> {
        AsyncClient::with_options(ctx, endpoint, ClientOptions::default())
    }

    /// A client with `options`.
    pub fn with_options(
        ctx: &Context,
        endpoint: &str,
        options: ClientOptions,
    ) -> Result<AsyncClient> {
        Ok(AsyncClient {
            ctx: ctx.clone(),
            endpoint: endpoint.to_owned(),
            socket: Some(dealer(ctx, endpoint)?),
            options,
            in_flight: false,
            malformed: 0,
            retries: 0,
        })
    }

    /// Messages from the broker dropped as malformed so far.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Requests sent again after a timeout so far.
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// [`Client::request`](super::Client::request), awaiting.
    pub async fn request<S, I>(&mut self, service: S, body: I) -> Result<Reply>
    where
        S: AsRef<[u8]>,
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let service = service.as_ref();
        check_service(service)?;
        let body: Vec<Message> = body.into_iter().map(Into::into).collect();
        if self.in_flight {
            // A cancelled request: its reply may still come on that socket.
            self.socket = None;
        }
        for attempt in 0..self.options.attempts {
            if attempt > 0 {
                self.retries += 1;
            }
            if self.socket.is_none() {
                self.socket = Some(dealer(&self.ctx, &self.endpoint)?);
            }
            self.in_flight = true;
            if let Some(reply) = self.attempt(service, &body).await? {
                self.in_flight = false;
                return Ok(reply);
            }
            self.socket = None;
        }
        self.in_flight = false;
        Err(Error::Timeout {
            service: String::from_utf8_lossy(service).into_owned(),
            attempts: self.options.attempts,
        })
    }

    async fn attempt(&mut self, service: &[u8], body: &[Message]) -> crate::Result<Option<Reply>> {
        let framing = self.options.framing;
        let timeout = self.options.timeout;
        let Some(socket) = self.socket.as_ref() else {
            return Ok(None);
        };
        let mut deadline = Instant::now() + timeout;
        let sent = timeout_at(
            deadline,
            socket.send_multipart(request_frames(framing, service, body)),
        );
        match sent.await {
            Ok(r) => r?,
            Err(_) => return Ok(None),
        }
        let mut reply = Reply::default();
        loop {
            let frames = match timeout_at(deadline, socket.recv_multipart()).await {
                Ok(r) => r?,
                Err(_) => return Ok(None),
            };
            match read_reply(&frames, framing, service) {
                Ok((final_, start)) => {
                    let part: Vec<Message> = frames.into_iter().skip(start).collect();
                    if final_ {
                        reply.body = part;
                        return Ok(Some(reply));
                    }
                    reply.partials.push(part);
                    deadline = Instant::now() + timeout;
                }
                Err(reason) => {
                    report_malformed("mdp client", &reason);
                    self.malformed += 1;
                }
            }
        }
    }
}

/// The async [`Worker`](super::Worker): same options, heartbeats and
/// re-registration; heartbeats run inside [`recv`](AsyncWorker::recv).
///
/// Dropping it sends `DISCONNECT` without blocking.
#[derive(Debug)]
pub struct AsyncWorker {
    ctx: Context,
    endpoint: String,
    service: Vec<u8>,
    options: WorkerOptions,
    socket: Option<AsyncSocket>,
    live: Liveness,
}

impl AsyncWorker {
    /// A worker for `service` with [`WorkerOptions::default`]; sends
    /// `READY` at once. Call it inside a tokio runtime.
    pub fn connect(
        ctx: &Context,
        endpoint: &str,
        service: impl AsRef<[u8]>,
    ) -> Result<AsyncWorker> {
        AsyncWorker::with_options(ctx, endpoint, service, WorkerOptions::default())
    }

    /// A worker with `options`.
    pub fn with_options(
        ctx: &Context,
        endpoint: &str,
        service: impl AsRef<[u8]>,
        options: WorkerOptions,
    ) -> Result<AsyncWorker> {
        let service = service.as_ref();
        check_service(service)?;
        let mut w = AsyncWorker {
            ctx: ctx.clone(),
            endpoint: endpoint.to_owned(),
            service: service.to_vec(),
            options,
            socket: None,
            live: Liveness::new(),
        };
        w.open()?;
        Ok(w)
    }

    /// How often the worker opened a new socket after losing the broker.
    pub fn reconnects(&self) -> u64 {
        self.live.reconnects
    }

    /// Messages from the broker dropped as malformed so far.
    pub fn malformed(&self) -> u64 {
        self.live.malformed
    }

    /// Opens a new socket and queues READY (without waiting: a fresh
    /// DEALER queues it before the connection is up).
    fn open(&mut self) -> crate::Result<()> {
        self.socket = None;
        let s = dealer(&self.ctx, &self.endpoint)?;
        let mut ready = worker_frames(
            self.options.framing,
            W_READY,
            [Message::from(&self.service[..])],
        );
        s.try_send_multipart(&mut ready)?;
        self.socket = Some(s);
        let now = std::time::Instant::now();
        self.live.broker_seen = now;
        self.live.next_heartbeat = now + self.options.heartbeat_interval;
        Ok(())
    }

    async fn send(
        &mut self,
        command: u8,
        rest: impl IntoIterator<Item = Message>,
    ) -> crate::Result<()> {
        if let Some(socket) = self.socket.as_ref() {
            let msg = worker_frames(self.options.framing, command, rest);
            let deadline = Instant::now() + self.options.heartbeat_interval;
            // A broker unreachable for an interval: heartbeating reconnects.
            if let Ok(r) = timeout_at(deadline, socket.send_multipart(msg)).await {
                r?;
            }
        }
        self.live.next_heartbeat = std::time::Instant::now() + self.options.heartbeat_interval;
        Ok(())
    }

    /// [`Worker::recv`](super::Worker::recv), awaiting: the next request,
    /// or `Ok(None)` after `timeout` (`None`: wait until one comes).
    pub async fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Request>> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            let until = match self
                .live
                .next(&self.options, std::time::Instant::now(), deadline)
            {
                Next::Reopen => {
                    self.live.reconnects += 1;
                    self.open()?;
                    continue;
                }
                Next::Heartbeat => {
                    self.send(W_HEARTBEAT, []).await?;
                    continue;
                }
                Next::TimedOut => return Ok(None),
                Next::Wait(until) => Instant::from_std(until),
            };
            let Some(socket) = self.socket.as_ref() else {
                self.open()?;
                continue;
            };
            let frames = match timeout_at(until, socket.recv_multipart()).await {
                Ok(r) => r?,
                Err(_) => continue,
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

    /// Sends a `PARTIAL` reply to `request`.
    pub async fn partial<I>(&mut self, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.answer(W_PARTIAL, request, body).await
    }

    /// Sends the `FINAL` reply to `request`.
    pub async fn reply<I>(&mut self, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.answer(W_FINAL, request, body).await
    }

    async fn answer<I>(&mut self, command: u8, request: &Request, body: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let rest: Vec<Message> = answer_frames(request, body).collect();
        Ok(self.send(command, rest).await?)
    }

    /// Sends `DISCONNECT` and closes the socket.
    pub fn disconnect(mut self) -> Result<()> {
        self.say_goodbye();
        Ok(())
    }

    fn say_goodbye(&mut self) {
        let Some(socket) = self.socket.take() else {
            return;
        };
        let mut msg = worker_frames(self.options.framing, W_DISCONNECT, []);
        let _ = socket.try_send_multipart(&mut msg);
        let socket = socket.into_socket();
        let _ = socket.set_linger(Some(Duration::from_millis(100)));
    }
}

impl Drop for AsyncWorker {
    fn drop(&mut self) {
        self.say_goodbye();
    }
}
