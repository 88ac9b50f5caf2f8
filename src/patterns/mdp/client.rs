//! The Majordomo client: a DEALER asking the broker, one request at a time.

use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::{CLIENT_HEADER, Framing, check_service, parse, report_malformed};
use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::message::Message;
use crate::poll::Poller;
use crate::socket::Socket;

/// The client's settings.
///
/// ```
/// use std::time::Duration;
/// use zmqx::patterns::mdp::ClientOptions;
/// let opts = ClientOptions::default().timeout(Duration::from_millis(500)).attempts(5);
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub(super) timeout: Duration,
    pub(super) attempts: u32,
    pub(super) framing: Framing,
}

impl Default for ClientOptions {
    /// 2.5 s per attempt (libmdp's default), 3 attempts, RFC framing.
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_millis(2500),
            attempts: 3,
            framing: Framing::Rfc,
        }
    }
}

impl ClientOptions {
    /// How long one attempt waits for each part of the reply.
    pub fn timeout(mut self, timeout: Duration) -> ClientOptions {
        self.timeout = timeout;
        self
    }

    /// How many times a request is sent before [`Error::Timeout`] (at least 1).
    pub fn attempts(mut self, attempts: u32) -> ClientOptions {
        self.attempts = attempts.max(1);
        self
    }

    /// How the client frames its requests and expects replies.
    pub fn framing(mut self, framing: Framing) -> ClientOptions {
        self.framing = framing;
        self
    }
}

/// The answer to one request: the bodies of the `PARTIAL` replies, in
/// order, and the body of the `FINAL` one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub(super) partials: Vec<Vec<Message>>,
    pub(super) body: Vec<Message>,
}

impl Reply {
    /// The frames of the `FINAL` reply.
    pub fn body(&self) -> &[Message] {
        &self.body
    }

    /// The bodies of the `PARTIAL` replies before the `FINAL` one.
    pub fn partials(&self) -> &[Vec<Message>] {
        &self.partials
    }

    /// Takes the `FINAL` frames.
    pub fn into_body(self) -> Vec<Message> {
        self.body
    }
}

/// A Majordomo client (majortomo's `Client`, libmdp's `mdp_client`):
/// sends a request to a service through the broker and waits for the reply,
/// retrying on a new socket when none comes (see the
/// [module docs](super#delivery-at-least-once)).
///
/// One request at a time, as the RFC says; run several clients for
/// requests in parallel.
#[derive(Debug)]
pub struct Client {
    ctx: Context,
    endpoint: String,
    socket: Option<Socket>,
    options: ClientOptions,
    malformed: u64,
    retries: u64,
}

impl Client {
    /// A client of the broker at `endpoint`, with [`ClientOptions::default`].
    pub fn connect(ctx: &Context, endpoint: &str) -> Result<Client> {
        Client::with_options(ctx, endpoint, ClientOptions::default())
    }

    /// A client with `options`.
    pub fn with_options(ctx: &Context, endpoint: &str, options: ClientOptions) -> Result<Client> {
        let mut client = Client {
            ctx: ctx.clone(),
            endpoint: endpoint.to_owned(),
            socket: None,
            options,
            malformed: 0,
            retries: 0,
        };
        client.open()?;
        Ok(client)
    }

    fn open(&mut self) -> crate::Result<&Socket> {
        match &mut self.socket {
            Some(s) => Ok(s),
            slot @ None => {
                let s = self.ctx.socket(SocketType::Dealer)?;
                s.set_linger(Some(Duration::ZERO))?;
                s.set_sndtimeo(Some(self.options.timeout))?;
                s.connect(&self.endpoint)?;
                Ok(slot.insert(s))
            }
        }
    }

    /// Messages from the broker dropped as malformed so far.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Requests sent again after a timeout so far.
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// Sends `body` to `service` and waits for the `FINAL` reply, retrying
    /// on a new socket after each timeout; [`Error::Timeout`] when every
    /// attempt timed out. An empty service name is
    /// [`zmqx::Error::InvalidInput`](crate::Error::InvalidInput).
    pub fn request<S, I>(&mut self, service: S, body: I) -> Result<Reply>
    where
        S: AsRef<[u8]>,
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let service = service.as_ref();
        check_service(service)?;
        let body: Vec<Message> = body.into_iter().map(Into::into).collect();
        for attempt in 0..self.options.attempts {
            if attempt > 0 {
                self.retries += 1;
            }
            if let Some(reply) = self.attempt(service, &body)? {
                return Ok(reply);
            }
            // No reply: a late one must not meet the next request.
            self.socket = None;
        }
        Err(Error::Timeout {
            service: String::from_utf8_lossy(service).into_owned(),
            attempts: self.options.attempts,
        })
    }

    fn attempt(&mut self, service: &[u8], body: &[Message]) -> crate::Result<Option<Reply>> {
        let framing = self.options.framing;
        let timeout = self.options.timeout;
        let socket = self.open()?;
        match socket.send_multipart(request_frames(framing, service, body)) {
            Ok(()) => {}
            Err(crate::Error::Again) => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut reply = Reply::default();
        let mut deadline = Instant::now() + timeout;
        let mut malformed = 0;
        let result = loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let mut poller = Poller::new();
            poller.register(socket, PollEvents::POLLIN);
            if poller.wait(Some(wait))? == 0 {
                if Instant::now() >= deadline {
                    break None;
                }
                continue;
            }
            let Some(frames) = socket.try_recv_multipart()? else {
                continue;
            };
            match read_reply(&frames, framing, service) {
                Ok((final_, start)) => {
                    let part: Vec<Message> = frames.into_iter().skip(start).collect();
                    if final_ {
                        reply.body = part;
                        break Some(reply);
                    }
                    reply.partials.push(part);
                    deadline = Instant::now() + timeout;
                }
                Err(reason) => {
                    report_malformed("mdp client", &reason);
                    malformed += 1;
                }
            }
        };
        self.malformed += malformed;
        Ok(result)
    }
}

/// A REQUEST command in `framing`.
pub(super) fn request_frames(framing: Framing, service: &[u8], body: &[Message]) -> Vec<Message> {
    let mut msg = Vec::with_capacity(body.len() + 4);
    if framing.delimiter() {
        msg.push(Message::new());
    }
    msg.push(Message::from(CLIENT_HEADER));
    msg.push(Message::from(&[framing.client_codes()[0]][..]));
    msg.push(Message::from(service));
    msg.extend(body.iter().cloned());
    msg
}

/// Checks a reply; returns whether it is FINAL and where its body starts.
pub(super) fn read_reply(
    frames: &[Message],
    framing: Framing,
    service: &[u8],
) -> Result<(bool, usize), String> {
    let cmd = parse(frames)?;
    if cmd.worker {
        return Err("a worker command sent to a client".into());
    }
    let [_, partial, final_] = framing.client_codes();
    let final_ = match cmd.command {
        c if c == final_ => true,
        c if c == partial => false,
        c => {
            return Err(format!(
                "client command {c:#04x} where PARTIAL or FINAL belongs"
            ));
        }
    };
    let mut start = cmd.rest;
    if framing.reply_service() {
        match frames.get(start) {
            Some(s) if s.as_bytes() == service => start += 1,
            Some(s) => {
                return Err(format!(
                    "a reply from service {:?} to a request for {:?}",
                    String::from_utf8_lossy(s.as_bytes()),
                    String::from_utf8_lossy(service)
                ));
            }
            None => return Err("a reply without its service frame".into()),
        }
    }
    Ok((final_, start))
}
