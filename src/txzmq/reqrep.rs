//! Request/reply over DEALER/ROUTER with txZMQ's envelope:
//! [`ReqConnection`] (client), [`RepConnection`] (server).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::connection::{
    ConnectionOptions, Core, CoreShared, Endpoint, Inbox, Receiving, connection_methods,
    impl_inbox_stream, inbox_methods,
};
use super::error::{Error, Result};
use super::factory::Factory;
use super::wire::{self, WireError};
use crate::{Frames, Message, SocketType};

/// The socket errors, as `crate::Error` is shadowed by this module's.
type ZmqError = crate::Error;

/// How many ids a [`ReqConnection`] makes when its pool is empty (txZMQ's
/// `UUID_POOL_GEN_SIZE`); the pool keeps at most twice as many.
pub const ID_POOL_GEN_SIZE: usize = 5;

/// A request id: a uuid4's 16 bytes, as txZMQ's `uuid.uuid4().bytes`.
type Id = [u8; 16];

/// No parts, for a request or reply that has none:
/// `client.send_msg(NO_PARTS)`, `server.reply(&id, NO_PARTS)`.
///
/// An empty array literal `[]` cannot say what its elements would be, so
/// Rust cannot infer the parts' type from it; this constant names one.
/// On the wire it is [id, empty] (a request) or [routing…, id, empty] (a
/// reply), which txZMQ peers take. Plain libzmq REQ and REP sockets drop
/// such messages: a reply with no parts to a REQ peer is refused
/// ([`WireError::NoPartsForReq`]), and a plain REP server ignores a request
/// with none.
///
/// ```
/// use zmqx::txzmq::{Endpoint, Factory, NO_PARTS, RepConnection, ReqConnection};
/// use futures_util::StreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::txzmq::Result<()> {
/// let factory = Factory::new()?;
/// let mut server = RepConnection::new(&factory, Endpoint::bind("inproc://no-parts"))?;
/// let client = ReqConnection::new(&factory, Endpoint::connect("inproc://no-parts"))?;
/// let reply = client.send_msg(NO_PARTS)?;
/// let request = server.next().await.expect("a request")?;
/// assert!(request.parts.is_empty());
/// server.reply(&request.id, NO_PARTS)?;
/// assert!(reply.await?.is_empty());
/// # factory.shutdown().await
/// # }
/// ```
pub const NO_PARTS: [&[u8]; 0] = [];

type Waiter = oneshot::Sender<Result<Vec<Message>>>;

/// The client's bookkeeping, shared with its task and its [`Reply`]s.
#[derive(Default)]
struct ClientState {
    pending: HashMap<Id, Waiter>,
    /// Ids not on the wire, reused as txZMQ does.
    pool: Vec<Id>,
    default_timeout: Option<Duration>,
    stray: u64,
    closed: bool,
}

impl ClientState {
    /// txZMQ's `_getNextId`: from the pool, refilled with
    /// [`ID_POOL_GEN_SIZE`] fresh uuid4s when empty.
    fn next_id(&mut self) -> Id {
        if self.pool.is_empty() {
            self.pool
                .extend((0..ID_POOL_GEN_SIZE).map(|_| *uuid::Uuid::new_v4().as_bytes()));
        }
        self.pool
            .pop()
            .unwrap_or_else(|| *uuid::Uuid::new_v4().as_bytes())
    }

    /// txZMQ's `_releaseId`: an id no longer on the wire goes back to the
    /// pool, which is trimmed when it grows past twice the batch size.
    fn release_id(&mut self, id: Id) {
        self.pool.push(id);
        if self.pool.len() > 2 * ID_POOL_GEN_SIZE {
            let keep = self.pool.len() - ID_POOL_GEN_SIZE;
            self.pool.truncate(keep);
        }
    }
}

struct ClientShared {
    state: Mutex<ClientState>,
}

impl ClientShared {
    fn state(&self) -> MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The task's handling of one received reply.
    fn dispatch(&self, frames: Vec<Message>) {
        let id: Option<Id> = frames.first().and_then(|f| Id::try_from(&f[..]).ok());
        let framing = wire::parse_reply(&frames).map(|_| ());
        let mut state = self.state();
        let Some((id, waiter)) = id.and_then(|id| state.pending.remove(&id).map(|w| (id, w)))
        else {
            // A late reply (timed out, cancelled) or one that is not ours:
            // dropped, as txZMQ does.
            state.stray += 1;
            return;
        };
        // The id is off the wire both ways.
        state.release_id(id);
        drop(state);
        let outcome = match framing {
            Ok(()) => {
                let mut frames = frames;
                Ok(frames.split_off(2))
            }
            Err(reason) => Err(Error::Framing {
                reason,
                frames: Frames::new(frames),
            }),
        };
        // The requester may have gone meanwhile: nothing to do then.
        let _ = waiter.send(outcome);
    }
}

/// txZMQ's `ZmqREQConnection`: a request client over a DEALER socket, with
/// many requests in flight.
///
/// Each request goes out as [16-byte uuid4, empty, parts…];
/// [`send_msg`](Self::send_msg) returns a [`Reply`] future that resolves
/// to the reply's parts. A request that gets no reply within its timeout
/// (or the [default timeout](Self::set_default_timeout)) resolves to
/// [`Error::RequestTimeout`]; dropping the [`Reply`] cancels the request.
/// Either way a late reply is dropped silently.
///
/// `send_msg` fails at once with [`zmqx::Error::Again`](crate::Error::Again)
/// when no peer can take the request (none connected yet, or all at their
/// high-water mark), as txZMQ's does;
/// [`send_msg_async`](Self::send_msg_async) waits instead, and
/// [`connected`](Self::connected) waits for a peer.
#[derive(Debug)]
pub struct ReqConnection {
    core: Core,
    shared: Arc<ClientShared>,
}

impl std::fmt::Debug for ClientShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("ReqState")
            .field("pending", &state.pending.len())
            .field("default_timeout", &state.default_timeout)
            .finish()
    }
}

impl ReqConnection {
    /// A request client on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<ReqConnection> {
        ReqConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A request client on any number of endpoints (requests are spread
    /// over the peers, as DEALER does).
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<ReqConnection> {
        let shared = Arc::new(ClientShared {
            state: Mutex::new(ClientState::default()),
        });
        let on_reply = shared.clone();
        let on_exit = shared.clone();
        let receiving = Receiving::<()> {
            handler: Box::new(move |frames: crate::Result<Vec<Message>>| {
                // Receive errors other than ETERM (which ends the task)
                // cannot be pinned on a request.
                if let Ok(frames) = frames {
                    on_reply.dispatch(frames);
                }
                None
            }),
            on_exit: Some(Box::new(move || {
                // Pending requests fail with NotSocket (their waiters drop).
                let mut state = on_exit.state();
                state.closed = true;
                state.pending.clear();
            })),
        };
        let (core, _) = Core::open(
            factory,
            SocketType::Dealer,
            endpoints,
            options,
            Some(receiving),
        )?;
        Ok(ReqConnection { core, shared })
    }

    /// Sends a request with the default timeout (txZMQ's `sendMsg`). The
    /// request leaves now, or this fails with
    /// [`zmqx::Error::Again`](crate::Error::Again) (no peer can take it) as
    /// txZMQ's does; the returned [`Reply`] resolves to the reply's parts.
    /// For a request with no parts, give [`NO_PARTS`].
    pub fn send_msg<I>(&self, parts: I) -> Result<Reply>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let timeout = self.shared.state().default_timeout;
        self.send(parts, timeout)
    }

    /// Sends a request that fails with [`Error::RequestTimeout`] if no
    /// reply comes within `timeout` (txZMQ's `sendMsg(..., timeout=t)`).
    pub fn send_msg_with_timeout<I>(&self, parts: I, timeout: Duration) -> Result<Reply>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.send(parts, Some(timeout))
    }

    /// Sends a request with the default timeout, waiting while no peer can
    /// take it (no txZMQ counterpart: txZMQ's `sendMsg` fails with
    /// `EAGAIN`). Resolves to the [`Reply`] once the request has left.
    ///
    /// The timeout covers the whole request, from this call: a request
    /// that cannot leave in time fails with [`Error::RequestTimeout`]
    /// here. Without a timeout it waits for a peer as long as it takes
    /// (bound it with [`tokio::time::timeout`]); it fails with
    /// [`zmqx::Error::NotSocket`](crate::Error::NotSocket) if the
    /// connection shuts down first. Cancel-safe: dropping the future
    /// before it resolves sends nothing.
    ///
    /// ```
    /// use zmqx::txzmq::{Endpoint, Factory, RepConnection, ReqConnection};
    /// use futures_util::StreamExt;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> zmqx::txzmq::Result<()> {
    /// let factory = Factory::new()?;
    /// // The client first: its request waits for the server.
    /// let client = ReqConnection::new(&factory, Endpoint::connect("inproc://later"))?;
    /// let request = client.send_msg_async(["ping"]);
    /// let mut server = RepConnection::new(&factory, Endpoint::bind("inproc://later"))?;
    /// let reply = request.await?;
    /// let got = server.next().await.expect("a request")?;
    /// server.reply(&got.id, ["pong"])?;
    /// assert_eq!(reply.await?, ["pong"]);
    /// # factory.shutdown().await
    /// # }
    /// ```
    pub fn send_msg_async<I>(&self, parts: I) -> impl Future<Output = Result<Reply>> + Send + '_
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let timeout = self.shared.state().default_timeout;
        self.send_waiting(parts, timeout)
    }

    /// [`send_msg_async`](Self::send_msg_async) with a timeout of its own
    /// (for leaving and for the reply together).
    pub fn send_msg_async_with_timeout<I>(
        &self,
        parts: I,
        timeout: Duration,
    ) -> impl Future<Output = Result<Reply>> + Send + '_
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.send_waiting(parts, Some(timeout))
    }

    /// Registers a request: an id, its pending entry and its [`Reply`]
    /// (which removes the entry if dropped), and the frames to send.
    fn prepare<I>(&self, parts: I, timeout: Option<Duration>) -> Result<(Reply, Vec<Message>)>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let deadline = timeout.map(|t| Instant::now() + t);
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut state = self.shared.state();
            if state.closed {
                return Err(ZmqError::NotSocket.into());
            }
            let id = state.next_id();
            state.pending.insert(id, tx);
            id
        };
        let reply = Reply {
            id,
            rx,
            timeout,
            deadline,
            sleep: None,
            shared: self.shared.clone(),
            finished: false,
        };
        match wire::encode_request(&id, parts) {
            Ok(frames) => Ok((reply, frames)),
            Err(e) => {
                reply.unsent();
                Err(Error::Unsendable(e))
            }
        }
    }

    fn send<I>(&self, parts: I, timeout: Option<Duration>) -> Result<Reply>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let (reply, mut frames) = self.prepare(parts, timeout)?;
        match self.core.try_send(&mut frames) {
            Ok(()) => Ok(reply),
            Err(e) => {
                reply.unsent();
                Err(e)
            }
        }
    }

    fn send_waiting<I>(
        &self,
        parts: I,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Reply>> + Send + '_
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        // Encoded now, so that the future does not hold `parts`.
        let prepared = self.prepare(parts, timeout);
        async move {
            let (reply, frames) = prepared?;
            let sending = self.core.send(frames);
            let sent = match reply.deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, sending).await {
                    Ok(sent) => sent,
                    // The send was dropped unfinished: nothing left.
                    Err(_) => Err(Error::RequestTimeout {
                        id: reply.id.to_vec(),
                        timeout: timeout.unwrap_or_default(),
                    }),
                },
                None => sending.await,
            };
            match sent {
                Ok(()) => Ok(reply),
                Err(e) => {
                    reply.unsent();
                    Err(e)
                }
            }
        }
    }

    /// Sets the timeout of requests sent with [`send_msg`](Self::send_msg)
    /// (txZMQ's `defaultRequestTimeout`; `None`, the default, is no
    /// timeout).
    pub fn set_default_timeout(&self, timeout: Option<Duration>) {
        self.shared.state().default_timeout = timeout;
    }

    /// The default request timeout.
    pub fn default_timeout(&self) -> Option<Duration> {
        self.shared.state().default_timeout
    }

    /// How many requests wait for their reply (txZMQ's
    /// `len(_requests)`).
    pub fn pending_requests(&self) -> usize {
        self.shared.state().pending.len()
    }

    /// How many unused ids the pool holds (txZMQ's `len(_uuids)`): ids of
    /// answered requests are reused, those of timed-out or cancelled ones
    /// are not.
    pub fn id_pool_len(&self) -> usize {
        self.shared.state().pool.len()
    }

    /// How many replies were dropped because no request waited for them
    /// (late replies to timed-out or cancelled requests, unknown ids).
    pub fn stray_replies(&self) -> u64 {
        self.shared.state().stray
    }

    connection_methods!();
}

/// The reply to a request of a [`ReqConnection`]: a future of the reply's
/// parts (txZMQ's `Deferred`).
///
/// It resolves to [`Error::RequestTimeout`] when the request's timeout
/// expires, to [`Error::Framing`] when the reply is malformed, and to
/// [`zmqx::Error::NotSocket`](crate::Error::NotSocket) when the connection
/// shuts down first. Dropping it cancels the request (txZMQ's
/// `d.cancel()`): its reply will be dropped.
#[must_use = "dropping a Reply cancels the request"]
#[derive(Debug)]
pub struct Reply {
    id: Id,
    rx: oneshot::Receiver<Result<Vec<Message>>>,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
    shared: Arc<ClientShared>,
    finished: bool,
}

impl Reply {
    /// The request's message id (16 bytes of a uuid4).
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// Completes with `outcome`; `None` means the connection's task is
    /// gone (the connection shut down).
    fn settle(&mut self, outcome: Option<Result<Vec<Message>>>) -> Poll<Result<Vec<Message>>> {
        self.finished = true;
        Poll::Ready(outcome.unwrap_or(Err(ZmqError::NotSocket.into())))
    }

    /// The request never went on the wire: forget it, and its id can be
    /// reused at once.
    fn unsent(mut self) {
        self.finished = true;
        let mut state = self.shared.state();
        state.pending.remove(&self.id);
        state.release_id(self.id);
    }
}

impl Future for Reply {
    type Output = Result<Vec<Message>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        if me.finished {
            // Polled after completion: the outcome was handed out.
            return Poll::Ready(Err(ZmqError::NotSocket.into()));
        }
        if let Poll::Ready(outcome) = Pin::new(&mut me.rx).poll(cx) {
            return me.settle(outcome.ok());
        }
        let Some(deadline) = me.deadline else {
            return Poll::Pending;
        };
        let sleep = me
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Timed out, unless the reply just came in.
        let removed = me.shared.state().pending.remove(&me.id).is_some();
        if removed {
            me.finished = true;
            return Poll::Ready(Err(Error::RequestTimeout {
                id: me.id.to_vec(),
                timeout: me.timeout.unwrap_or_default(),
            }));
        }
        let outcome = me.rx.try_recv().ok();
        me.settle(outcome)
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if !self.finished {
            // Cancelled: forget the request; its reply will be stray.
            self.shared.state().pending.remove(&self.id);
        }
    }
}

/// A request as a [`RepConnection`] receives it.
#[derive(Debug)]
pub struct Request {
    /// The message id to reply with (txZMQ's `messageId`). From a plain
    /// REQ socket, which sends no id, it is the peer's routing id, as in
    /// txZMQ.
    pub id: Vec<u8>,
    /// The request's parts (txZMQ's `*messageParts`).
    pub parts: Vec<Message>,
    envelope: Vec<Message>,
}

impl Request {
    /// The routing envelope ahead of the message id: the routing id of the
    /// peer that sent it, then one frame per ROUTER it went through (a
    /// broker's DEALER side adds its own in front). Empty for a plain REQ
    /// peer, whose routing id is the message id. [`RepConnection::reply`]
    /// sends it back in front of the reply; it is here to read (which
    /// peer, which hops), not needed to reply.
    pub fn envelope(&self) -> &[Message] {
        &self.envelope
    }
}

/// How to send a reply back: what a pending request leaves behind.
#[derive(Debug)]
struct Route {
    envelope: Vec<Message>,
    /// The peer is a REQ socket (`Socket-Type` metadata, tcp and ipc only),
    /// which drops a reply with no parts.
    req_peer: bool,
}

type Routes = Arc<Mutex<HashMap<Vec<u8>, Route>>>;

fn routes(routes: &Routes) -> MutexGuard<'_, HashMap<Vec<u8>, Route>> {
    routes.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends the reply to `id` through `core`; the route is put back if the
/// send fails, so the reply can be retried.
fn reply_to<I>(core: &CoreShared, routes_map: &Routes, id: &[u8], parts: I) -> Result<()>
where
    I: IntoIterator,
    I::Item: Into<Message>,
{
    let route = routes(routes_map)
        .remove(id)
        .ok_or_else(|| Error::UnknownMessageId { id: id.to_vec() })?;
    let Route { envelope, req_peer } = route;
    let hops = envelope.len();
    let put_back = |envelope: Vec<Message>| {
        routes(routes_map).insert(id.to_vec(), Route { envelope, req_peer });
    };
    let mut parts = parts.into_iter().map(Into::into).peekable();
    if req_peer && parts.peek().is_none() {
        put_back(envelope);
        return Err(Error::Unsendable(WireError::NoPartsForReq));
    }
    // Only an empty id fails, and no pending request has one.
    let mut frames = wire::encode_reply(envelope, id, parts).map_err(Error::Unsendable)?;
    match core.try_send(&mut frames) {
        Ok(()) => Ok(()),
        Err(e) => {
            frames.truncate(hops);
            put_back(frames);
            Err(e)
        }
    }
}

/// txZMQ's `ZmqREPConnection`: a reply server over a ROUTER socket.
///
/// Requests ([`Request`]: message id and parts) arrive as a
/// [`Stream`](futures_core::Stream) or through a callback
/// ([`on_request`](Self::on_request), txZMQ's `gotMessage`); the routing
/// envelope is kept until [`reply`](Self::reply) sends
/// [routing…, id, empty, parts…] back. Malformed requests are
/// [`Error::Framing`] items holding the frames.
///
/// Its clients are txZMQ request clients ([`ReqConnection`]), DEALERs
/// sending [id, empty, parts…], and plain REQ sockets, as with txZMQ: a
/// REQ sends no message id, so its routing id serves as one and the reply
/// routes back to it (a REQ with `ZMQ_REQ_CORRELATE` sends its request id,
/// which becomes the message id).
///
/// Requests are keyed by message id alone, as in txZMQ: a second request
/// with the id of an unanswered one replaces its routing envelope.
#[derive(Debug)]
pub struct RepConnection {
    core: Core,
    inbox: Inbox<Request>,
    routes: Routes,
}

impl RepConnection {
    /// A reply server on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<RepConnection> {
        RepConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A reply server on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<RepConnection> {
        let routes: Routes = Arc::default();
        let store = routes.clone();
        let receiving = Receiving {
            handler: Box::new(move |frames: crate::Result<Vec<Message>>| {
                Some(
                    frames
                        .map_err(Error::from)
                        .and_then(|frames| parse_request(&store, frames)),
                )
            }),
            on_exit: None,
        };
        let (core, inbox) = Core::open(
            factory,
            SocketType::Router,
            endpoints,
            options,
            Some(receiving),
        )?;
        let inbox = inbox.ok_or(ZmqError::NotSocket)?;
        Ok(RepConnection {
            core,
            inbox,
            routes,
        })
    }

    /// Sends the reply to request `id` (txZMQ's `reply(messageId, *parts)`),
    /// now or [`zmqx::Error::Again`](crate::Error::Again). An id with no
    /// pending request is an [`Error::UnknownMessageId`]. For a reply with
    /// no parts, give [`NO_PARTS`]. A failed reply keeps the request
    /// pending, for a retry.
    pub fn reply<I>(&self, id: impl AsRef<[u8]>, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        reply_to(self.core.shared(), &self.routes, id.as_ref(), parts)
    }

    /// A cloneable handle that can reply from elsewhere (a callback,
    /// another task).
    pub fn replier(&self) -> Replier {
        Replier {
            core: self.core.shared().clone(),
            routes: self.routes.clone(),
        }
    }

    /// How many requests wait for a reply. Each keeps its routing
    /// envelope until it is answered or [forgotten](Self::forget).
    pub fn pending_requests(&self) -> usize {
        routes(&self.routes).len()
    }

    /// Drops the pending request `id` without replying (its client then
    /// times out); `false` if there was none.
    pub fn forget(&self, id: impl AsRef<[u8]>) -> bool {
        routes(&self.routes).remove(id.as_ref()).is_some()
    }

    inbox_methods!(Request, on_request, "request", |r: &Request| Some(
        r.id.clone()
    ));
    connection_methods!();
}

impl_inbox_stream!(RepConnection, Request);

fn parse_request(routes_map: &Routes, mut frames: Vec<Message>) -> Result<Request> {
    let parsed = wire::parse_request(&frames).map(|r| (r.routing.len(), r.id.to_vec()));
    match parsed {
        Ok((hops, id)) => {
            // The delimiter came from the peer itself (the ROUTER made the
            // first frame): its metadata names the peer's socket type.
            let req_peer = frames[hops + 1]
                .gets("Socket-Type")
                .is_ok_and(|t| t.as_deref() == Some("REQ"));
            let parts = frames.split_off(hops + 2);
            frames.truncate(hops);
            routes(routes_map).insert(
                id.clone(),
                Route {
                    envelope: frames.clone(),
                    req_peer,
                },
            );
            Ok(Request {
                id,
                parts,
                envelope: frames,
            })
        }
        Err(reason) => Err(Error::Framing {
            reason,
            frames: Frames::new(frames),
        }),
    }
}

/// Replies for a [`RepConnection`] from anywhere ([`RepConnection::replier`]).
/// After the connection shuts down, replies fail with
/// [`zmqx::Error::NotSocket`](crate::Error::NotSocket).
#[derive(Clone)]
pub struct Replier {
    core: Arc<CoreShared>,
    routes: Routes,
}

impl std::fmt::Debug for Replier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replier").finish_non_exhaustive()
    }
}

impl Replier {
    /// See [`RepConnection::reply`].
    pub fn reply<I>(&self, id: impl AsRef<[u8]>, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        reply_to(&self.core, &self.routes, id.as_ref(), parts)
    }
}
