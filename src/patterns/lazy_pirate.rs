//! The Lazy Pirate client (zguide, chapter 4): a request with a timeout and
//! a bounded number of retries, so that a client survives a server that
//! crashed, restarted or lost a request.
//!
//! A plain `REQ` socket that sent a request and got no reply is stuck: it
//! cannot send again until a reply comes, and none will if the server died
//! with the request. The Lazy Pirate client waits at most
//! [`timeout`](Builder::timeout) for each reply; when it expires it throws
//! the socket away (linger 0, so nothing queued for the dead server is
//! kept), makes a new one, connects it and sends the request again, up to
//! [`retries`](Builder::retries) more times, then fails with
//! [`Error::Exhausted`], which names the endpoints and the number of
//! attempts.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::patterns::lazy_pirate::Client;
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let ctx = Context::new();
//!     let server = ctx.socket(SocketType::Rep)?;
//!     server.bind("tcp://127.0.0.1:*")?;
//!     let endpoint = server.last_endpoint()?;
//!     std::thread::spawn(move || {
//!         while let Ok(request) = server.recv_multipart() {
//!             if server.send_multipart(request).is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!
//!     let mut client = Client::builder()
//!         .endpoint(&endpoint)
//!         .timeout(Duration::from_secs(2))
//!         .retries(3)
//!         .context(&ctx)
//!         .build()?;
//!     let reply = client.request(["hello"])?;
//!     assert_eq!(reply[0], "hello");
//!     Ok(())
//! }
//! ```
//!
//! ## Delivery: at least once
//!
//! A request can reach the server and be processed even though its reply
//! never comes back (the server dies after doing the work, or the reply is
//! lost with the connection); the client then sends it again. So every
//! request that returns `Ok` was processed **at least once**, maybe more:
//! make requests idempotent, or give them an id the server uses to drop
//! duplicates. The client itself never returns a stale reply: in
//! [`Mode::Recreate`] a new socket cannot receive the old request's reply,
//! and in [`Mode::Relaxed`] libzmq's `ZMQ_REQ_CORRELATE` drops it. A request
//! that fails with [`Error::Exhausted`] may have been processed too.
//!
//! The tests (`tests/pirate.rs`) kill the server with `SIGKILL` ten times
//! while a client sends requests without pause: every request is answered,
//! and the number of requests the server processed twice is counted.
//!
//! ## Two ways to retry: [`Mode`]
//!
//! - [`Mode::Recreate`] (the zguide's way, the default): each retry closes
//!   the socket and opens a new one. Nothing meant for the dead server
//!   survives, so a restarted server gets each retry once; the price is a
//!   new TCP connection (and handshake) per retry.
//! - [`Mode::Relaxed`]: one socket for the client's life, with
//!   `ZMQ_REQ_RELAXED` (a `REQ` may send again without a reply) and
//!   `ZMQ_REQ_CORRELATE` (replies carry the request's id, so a late reply
//!   to an earlier attempt is dropped by libzmq). No reconnection churn and
//!   libzmq's own reconnection runs in the background; but a request queued
//!   for a server that is down stays queued in libzmq and is delivered when
//!   the server returns, together with the retry: the server may process
//!   the same request more often than in `Recreate` mode. The request id
//!   travels as an extra envelope frame, which a `REP` server (or a
//!   `ROUTER` server that returns the whole envelope) handles without
//!   knowing it.
//!
//! With several endpoints, `Recreate` connects to one server at a time and
//! moves to the next one on each retry (staying with a server that
//! answers); `Relaxed` connects to all of them and lets `REQ`'s round robin
//! pick.
//!
//! There is no counterpart in pyzmq or libzmq: this is the zguide's
//! `lpclient`, as a component. With the `tokio` feature,
//! [`Builder::build_async`] makes an [`AsyncClient`] with the same
//! behaviour.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use crate::constants::SocketType;
use crate::context::Context;
use crate::message::Message;
use crate::socket::Socket;

/// `Result<T, lazy_pirate::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a Lazy Pirate request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket or context error, or a bad argument
    /// ([`zmqx::Error::InvalidInput`](crate::Error::InvalidInput): no
    /// endpoint, a zero timeout, an empty request).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// No reply came in `attempts` attempts of `timeout` each: the servers
    /// at `endpoints` are down or too slow. The request may have been
    /// processed anyway (see the [module docs](self#delivery-at-least-once)).
    #[error(
        "no reply from {} after {attempts} attempts of {timeout:?} each",
        .endpoints.join(", ")
    )]
    Exhausted {
        /// The endpoints the attempts went to.
        endpoints: Vec<String>,
        /// How many times the request was sent.
        attempts: u32,
        /// How long each attempt waited for the reply.
        timeout: Duration,
    },
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            e @ Error::Exhausted { .. } => std::io::Error::new(std::io::ErrorKind::TimedOut, e),
        }
    }
}

/// How a client retries (see the [module docs](self#two-ways-to-retry-mode)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Close the socket and open a new one for every retry (the zguide's
    /// Lazy Pirate).
    #[default]
    Recreate,
    /// Keep one socket with `ZMQ_REQ_RELAXED` and `ZMQ_REQ_CORRELATE` and
    /// send the retry on it.
    Relaxed,
}

/// Counters of a client's life, for monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests started.
    pub requests: u64,
    /// Requests answered.
    pub replies: u64,
    /// Sends after the first one of a request (timeouts).
    pub retries: u64,
    /// Requests that failed with [`Error::Exhausted`].
    pub exhausted: u64,
    /// Sockets created (one at the start, then one per retry in
    /// [`Mode::Recreate`]).
    pub sockets: u64,
}

/// The zguide's default reply timeout (`REQUEST_TIMEOUT`): 2.5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(2500);
/// The zguide's default retries (`REQUEST_RETRIES`): 3.
pub const DEFAULT_RETRIES: u32 = 3;

/// Describes a Lazy Pirate client: its endpoints, timeout, retries and
/// [`Mode`]. Made by [`Client::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build`"]
pub struct Builder {
    endpoints: Vec<String>,
    timeout: Duration,
    retries: u32,
    mode: Mode,
    context: Option<Context>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            endpoints: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            mode: Mode::Recreate,
            context: None,
        }
    }
}

impl Builder {
    /// Adds a server endpoint to connect to (`tcp://host:port`…). At least
    /// one is needed.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Builder {
        self.endpoints.push(endpoint.into());
        self
    }

    /// Adds several server endpoints (see the [module docs](self#two-ways-to-retry-mode)
    /// for how each mode uses them).
    pub fn endpoints<I>(mut self, endpoints: I) -> Builder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.endpoints.extend(endpoints.into_iter().map(Into::into));
        self
    }

    /// How long each attempt waits for the reply ([`DEFAULT_TIMEOUT`]
    /// unless set; at least a millisecond).
    pub fn timeout(mut self, timeout: Duration) -> Builder {
        self.timeout = timeout;
        self
    }

    /// How many times a request is sent again after a timeout
    /// ([`DEFAULT_RETRIES`] unless set): a request is sent at most
    /// `retries + 1` times.
    pub fn retries(mut self, retries: u32) -> Builder {
        self.retries = retries;
        self
    }

    /// How the client retries ([`Mode::Recreate`] unless set).
    pub fn mode(mut self, mode: Mode) -> Builder {
        self.mode = mode;
        self
    }

    /// Creates the sockets in `ctx` (for `inproc://` servers) instead of
    /// the process-wide [`Context::instance`].
    pub fn context(mut self, ctx: &Context) -> Builder {
        self.context = Some(ctx.clone());
        self
    }

    fn check(&self) -> crate::Result<()> {
        if self.endpoints.is_empty() {
            return Err(crate::Error::invalid(
                "lazy_pirate::Builder",
                "no endpoint: add one with `endpoint`",
            ));
        }
        if self.timeout < Duration::from_millis(1) {
            return Err(crate::Error::invalid(
                "lazy_pirate::Builder::timeout",
                format!("{:?} is below the 1 ms resolution of libzmq", self.timeout),
            ));
        }
        // RCVTIMEO is an int of milliseconds.
        crate::options::duration_to_ms(Some(self.timeout), "lazy_pirate::Builder::timeout")?;
        Ok(())
    }

    fn into_core(self) -> crate::Result<Core> {
        self.check()?;
        let ctx = self.context.unwrap_or_else(Context::instance);
        Ok(Core {
            ctx,
            endpoints: self.endpoints,
            timeout: self.timeout,
            attempts: self.retries.saturating_add(1),
            mode: self.mode,
            cursor: 0,
            stats: Stats::default(),
        })
    }

    /// Makes the blocking client and its first socket, connected (so a bad
    /// endpoint is an error here, naming it).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::Error::InvalidInput) for no endpoint or a
    /// timeout below 1 ms; the socket's errors (a malformed endpoint…).
    pub fn build(self) -> Result<Client> {
        let mut core = self.into_core()?;
        let socket = core.new_socket()?;
        Ok(Client {
            core,
            socket: Some(socket),
            pending: false,
        })
    }

    /// Makes the async client (on the current tokio runtime) and its first
    /// socket, connected.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build); outside a tokio runtime,
    /// [`zmqx::Error::Reactor`](crate::Error::Reactor).
    #[cfg(all(feature = "tokio", unix))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub fn build_async(self) -> Result<AsyncClient> {
        let mut core = self.into_core()?;
        let socket = crate::AsyncSocket::new(core.new_socket()?)?;
        Ok(AsyncClient {
            core,
            socket: Some(socket),
            pending: false,
        })
    }
}

/// What the blocking and async clients share: configuration, the endpoint
/// cursor and the counters.
#[derive(Debug)]
struct Core {
    ctx: Context,
    endpoints: Vec<String>,
    timeout: Duration,
    attempts: u32,
    mode: Mode,
    /// The endpoint `Recreate` mode connects to next.
    cursor: usize,
    stats: Stats,
}

impl Core {
    /// A `REQ` socket, linger 0, connected to the current endpoint
    /// (`Recreate`) or to all of them (`Relaxed`).
    fn new_socket(&mut self) -> crate::Result<Socket> {
        let socket = self.ctx.socket(SocketType::Req)?;
        socket.set_linger(Some(Duration::ZERO))?;
        // A send never waits longer than an attempt.
        socket.set_sndtimeo(Some(self.timeout))?;
        match self.mode {
            Mode::Recreate => socket.connect(&self.endpoints[self.cursor])?,
            Mode::Relaxed => {
                socket.set_req_relaxed(true)?;
                socket.set_req_correlate(true)?;
                for endpoint in &self.endpoints {
                    socket.connect(endpoint)?;
                }
            }
        }
        self.stats.sockets += 1;
        Ok(socket)
    }

    /// After a failed attempt: whether the socket must be replaced (and the
    /// cursor moves on to the next endpoint).
    fn after_timeout(&mut self) -> bool {
        match self.mode {
            Mode::Recreate => {
                self.cursor = (self.cursor + 1) % self.endpoints.len();
                true
            }
            Mode::Relaxed => false,
        }
    }

    fn exhausted(&mut self) -> Error {
        self.stats.exhausted += 1;
        Error::Exhausted {
            endpoints: self.endpoints.clone(),
            attempts: self.attempts,
            timeout: self.timeout,
        }
    }
}

/// Collects the request's parts, refusing an empty request.
fn request_parts<I>(parts: I) -> crate::Result<Vec<Message>>
where
    I: IntoIterator,
    I::Item: Into<Message>,
{
    let parts: Vec<Message> = parts.into_iter().map(Into::into).collect();
    if parts.is_empty() {
        return Err(crate::Error::invalid(
            "lazy_pirate request",
            "it has no parts; send at least one (possibly empty) part",
        ));
    }
    Ok(parts)
}

/// A blocking Lazy Pirate client (see the [module docs](self)).
#[derive(Debug)]
pub struct Client {
    core: Core,
    /// `None` only between a dropped socket and its replacement.
    socket: Option<Socket>,
    /// A request was sent on `socket` and its reply not received: the
    /// socket must be replaced before the next request (`Recreate`).
    pending: bool,
}

impl Client {
    /// A builder with the zguide's defaults (2.5 s timeout, 3 retries,
    /// [`Mode::Recreate`]); add at least an endpoint.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The client's counters.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// The endpoint the next request goes to first in [`Mode::Recreate`]
    /// (the one that answered last).
    pub fn current_endpoint(&self) -> &str {
        &self.core.endpoints[self.core.cursor]
    }

    /// Sends a request (one or more parts) and returns the reply, sending
    /// it again on a new socket each time `timeout` passes without a reply,
    /// at most `retries` more times. At least once: see the
    /// [module docs](self#delivery-at-least-once).
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when no attempt got a reply; a request with no
    /// parts is an [`InvalidInput`](crate::Error::InvalidInput); socket
    /// errors ([`ContextTerminated`](crate::Error::ContextTerminated)…)
    /// end the request at once.
    pub fn request<I>(&mut self, parts: I) -> Result<Vec<Message>>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let parts = request_parts(parts)?;
        self.core.stats.requests += 1;
        for attempt in 0..self.core.attempts {
            if attempt > 0 {
                self.core.stats.retries += 1;
            }
            // A socket whose last request went unanswered (a timeout, an
            // error, a panic in between) is replaced in Recreate mode.
            if self.socket.is_none() || (self.pending && self.core.mode == Mode::Recreate) {
                self.socket = None;
                self.socket = Some(self.core.new_socket()?);
                self.pending = false;
            }
            let socket = self.socket.as_ref().expect("a socket was just made");
            let deadline = Instant::now() + self.core.timeout;
            match socket.send_multipart(&parts) {
                Ok(()) => self.pending = true,
                // No room to queue the request in time: this attempt failed.
                Err(e) if matches!(e.root(), crate::Error::Again) => {
                    self.pending = true;
                    if self.core.after_timeout() {
                        self.socket = None;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            // libzmq's RCVTIMEO has a coarse clock and may end a little
            // early: wait again until the deadline really passed.
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    break;
                }
                socket.set_rcvtimeo(Some(remaining.max(Duration::from_millis(1))))?;
                match socket.recv_multipart() {
                    Ok(reply) => {
                        self.pending = false;
                        self.core.stats.replies += 1;
                        return Ok(reply);
                    }
                    Err(e) if matches!(e.root(), crate::Error::Again) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if self.core.after_timeout() {
                // Linger 0: the request queued for the dead server goes
                // with the socket.
                self.socket = None;
            }
        }
        Err(self.core.exhausted())
    }
}

/// An async Lazy Pirate client on tokio (see the [module docs](self)),
/// made by [`Builder::build_async`].
#[cfg(all(feature = "tokio", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
#[derive(Debug)]
pub struct AsyncClient {
    core: Core,
    socket: Option<crate::AsyncSocket>,
    pending: bool,
}

#[cfg(all(feature = "tokio", unix))]
impl AsyncClient {
    /// The client's counters.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// The endpoint the next request goes to first in [`Mode::Recreate`].
    pub fn current_endpoint(&self) -> &str {
        &self.core.endpoints[self.core.cursor]
    }

    /// [`Client::request`], awaiting the reply instead of blocking.
    ///
    /// Cancel-safe in the sense that matters here: dropping the future
    /// leaves the client usable; in [`Mode::Recreate`] the next request
    /// starts on a new socket (the abandoned request may still be
    /// processed by the server).
    ///
    /// # Errors
    ///
    /// As [`Client::request`].
    pub async fn request<I>(&mut self, parts: I) -> Result<Vec<Message>>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let parts = request_parts(parts)?;
        self.core.stats.requests += 1;
        for attempt in 0..self.core.attempts {
            if attempt > 0 {
                self.core.stats.retries += 1;
            }
            if self.socket.is_none() || (self.pending && self.core.mode == Mode::Recreate) {
                self.socket = None;
                self.socket = Some(crate::AsyncSocket::new(self.core.new_socket()?)?);
                self.pending = false;
            }
            let socket = self.socket.as_ref().expect("a socket was just made");
            let deadline = tokio::time::Instant::now() + self.core.timeout;
            // Set before the first await: a dropped future leaves the socket
            // marked.
            self.pending = true;
            let attempt = async {
                socket.send_multipart(parts.iter()).await?;
                socket.recv_multipart().await
            };
            match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(reply)) => {
                    self.pending = false;
                    self.core.stats.replies += 1;
                    return Ok(reply);
                }
                Ok(Err(e)) if !matches!(e.root(), crate::Error::Again) => return Err(e.into()),
                // A timeout, or SNDTIMEO on the send.
                Ok(Err(_)) | Err(_) => {
                    if self.core.after_timeout() {
                        self.socket = None;
                    }
                }
            }
        }
        Err(self.core.exhausted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configurations_are_typed_errors() {
        let e = Client::builder().build().unwrap_err();
        assert!(
            matches!(e, Error::Zmq(crate::Error::InvalidInput { ref reason, .. }) if reason.contains("no endpoint")),
            "{e}"
        );
        let e = Client::builder()
            .endpoint("tcp://127.0.0.1:1")
            .timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(
            matches!(e, Error::Zmq(crate::Error::InvalidInput { .. })),
            "{e}"
        );
        let e = Client::builder().endpoint("nonsense").build().unwrap_err();
        assert!(e.to_string().contains("nonsense"), "{e}");
    }

    #[test]
    fn exhausted_names_endpoints_and_attempts() {
        let e = Error::Exhausted {
            endpoints: vec!["tcp://a:1".into(), "tcp://b:2".into()],
            attempts: 4,
            timeout: Duration::from_millis(250),
        };
        assert_eq!(
            e.to_string(),
            "no reply from tcp://a:1, tcp://b:2 after 4 attempts of 250ms each"
        );
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    }
}
