//! What every txZMQ connection shares: [`Endpoint`]s, [`ConnectionOptions`],
//! the socket and the task that receives from it.
#![forbid(unsafe_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::{Error, Result};
use super::factory::{Factory, FactoryShared};
use crate::asynchronous::{AsyncMonitor, AsyncReceiver, AsyncSender, AsyncSocket};
use crate::error::panic_message;
use crate::monitor::{EventKind, MonitorEvent};
use crate::{Event, Message, Socket, SocketType};

/// The socket errors, as `crate::Error` is shadowed by this module's.
type ZmqError = crate::Error;

/// How many received messages wait between a connection's task and its
/// [`Stream`] before the task stops reading (and libzmq's receive
/// high-water mark takes over).
const INBOX_CAPACITY: usize = 128;

/// Whether an [`Endpoint`] binds or connects (txZMQ's `ZmqEndpointType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointType {
    /// Bind, listen for connections (`zmq_bind`; txZMQ's `bind`).
    Bind,
    /// Connect to another endpoint (`zmq_connect`; txZMQ's `connect`).
    Connect,
}

/// A ZeroMQ address to bind or connect (txZMQ's `ZmqEndpoint`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Bind or connect.
    pub kind: EndpointType,
    /// The ZeroMQ address (`tcp://127.0.0.1:*`, `ipc:///tmp/x`,
    /// `inproc://name`…).
    pub address: String,
}

impl Endpoint {
    /// An endpoint to bind (`ZmqEndpoint(ZmqEndpointType.bind, address)`).
    pub fn bind(address: impl Into<String>) -> Endpoint {
        Endpoint {
            kind: EndpointType::Bind,
            address: address.into(),
        }
    }

    /// An endpoint to connect to
    /// (`ZmqEndpoint(ZmqEndpointType.connect, address)`).
    pub fn connect(address: impl Into<String>) -> Endpoint {
        Endpoint {
            kind: EndpointType::Connect,
            address: address.into(),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            EndpointType::Bind => "bind",
            EndpointType::Connect => "connect",
        };
        write!(f, "{kind} {}", self.address)
    }
}

/// The socket options txZMQ's `ZmqConnection` sets, with its defaults, plus
/// the identity and whether to report lost connections.
///
/// txZMQ sets them as class attributes; here they are given when the
/// connection is made (`with_options`).
///
/// ```
/// use std::time::Duration;
/// use zmqx::txzmq::ConnectionOptions;
/// let options = ConnectionOptions::new()
///     .identity("worker-1")
///     .high_water_mark(1000)
///     .tcp_keepalive(true)
///     .reconnect_interval(Duration::from_millis(50))
///     .watch_disconnects(true);
/// assert_ne!(options, ConnectionOptions::default());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionOptions {
    identity: Option<Vec<u8>>,
    multicast_loop: bool,
    multicast_rate: i32,
    high_water_mark: i32,
    tcp_keepalive: bool,
    tcp_keepalive_count: i32,
    tcp_keepalive_idle: i32,
    tcp_keepalive_interval: i32,
    reconnect_interval: Option<Duration>,
    reconnect_interval_max: Option<Duration>,
    watch_disconnects: bool,
}

impl Default for ConnectionOptions {
    fn default() -> ConnectionOptions {
        ConnectionOptions {
            identity: None,
            multicast_loop: false,
            multicast_rate: 100,
            high_water_mark: 0,
            tcp_keepalive: false,
            tcp_keepalive_count: 0,
            tcp_keepalive_idle: 0,
            tcp_keepalive_interval: 0,
            reconnect_interval: Some(Duration::from_millis(100)),
            reconnect_interval_max: None,
            watch_disconnects: false,
        }
    }
}

impl ConnectionOptions {
    /// txZMQ's defaults: no identity, multicast loop off, rate 100 kbit/s,
    /// high-water mark 0 (none), no TCP keepalive override, reconnect
    /// interval 100 ms, no reconnect maximum; lost connections not watched.
    pub fn new() -> ConnectionOptions {
        ConnectionOptions::default()
    }

    /// The socket identity (`ZMQ_ROUTING_ID`, txZMQ's `identity`): 1 to 255
    /// bytes. "Don't set unless you know how it works."
    pub fn identity(mut self, identity: impl Into<Vec<u8>>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    /// Multicast loopback (txZMQ's `allowLoopbackMulticast`). libzmq 4
    /// has it only in DRAFT builds (`ZMQ_MULTICAST_LOOP`); elsewhere it is
    /// ignored, as txZMQ ignores it on libzmq 3 and later.
    pub fn multicast_loop(mut self, on: bool) -> Self {
        self.multicast_loop = on;
        self
    }

    /// Multicast rate in kbit/s (`ZMQ_RATE`, txZMQ's `multicastRate`).
    pub fn multicast_rate(mut self, kbps: i32) -> Self {
        self.multicast_rate = kbps;
        self
    }

    /// Both high-water marks (`ZMQ_SNDHWM` and `ZMQ_RCVHWM`, txZMQ's
    /// `highWaterMark`); 0 is no limit.
    pub fn high_water_mark(mut self, hwm: i32) -> Self {
        self.high_water_mark = hwm;
        self
    }

    /// Turns TCP keepalive on (`ZMQ_TCP_KEEPALIVE`, txZMQ's `tcpKeepalive`)
    /// with the count, idle and interval below. Off: the OS default.
    pub fn tcp_keepalive(mut self, on: bool) -> Self {
        self.tcp_keepalive = on;
        self
    }

    /// `ZMQ_TCP_KEEPALIVE_CNT` (txZMQ's `tcpKeepaliveCount`), used when
    /// keepalive is on.
    pub fn tcp_keepalive_count(mut self, count: i32) -> Self {
        self.tcp_keepalive_count = count;
        self
    }

    /// `ZMQ_TCP_KEEPALIVE_IDLE` in seconds (txZMQ's `tcpKeepaliveIdle`),
    /// used when keepalive is on.
    pub fn tcp_keepalive_idle(mut self, seconds: i32) -> Self {
        self.tcp_keepalive_idle = seconds;
        self
    }

    /// `ZMQ_TCP_KEEPALIVE_INTVL` in seconds (txZMQ's
    /// `tcpKeepaliveInterval`), used when keepalive is on.
    pub fn tcp_keepalive_interval(mut self, seconds: i32) -> Self {
        self.tcp_keepalive_interval = seconds;
        self
    }

    /// `ZMQ_RECONNECT_IVL` (txZMQ's `reconnectInterval`, default 100 ms).
    pub fn reconnect_interval(mut self, interval: Duration) -> Self {
        self.reconnect_interval = Some(interval);
        self
    }

    /// `ZMQ_RECONNECT_IVL_MAX` (txZMQ's `reconnectIntervalMax`): the
    /// reconnect interval doubles up to it. Not set by default.
    pub fn reconnect_interval_max(mut self, max: Duration) -> Self {
        self.reconnect_interval_max = Some(max);
        self
    }

    /// Reports lost connections (`ZMQ_EVENT_DISCONNECTED` from a socket
    /// monitor) through the connection's `disconnects()` stream: txZMQ's
    /// `connectionLost`.
    pub fn watch_disconnects(mut self, on: bool) -> Self {
        self.watch_disconnects = on;
        self
    }

    /// Applies the options as txZMQ's `ZmqConnection.__init__` does.
    fn apply(&self, socket: &Socket, linger: Duration) -> crate::Result<()> {
        socket.set_linger(Some(linger))?;
        if self.multicast_loop {
            match socket.set_multicast_loop(true) {
                Ok(()) | Err(ZmqError::MissingCapability { .. } | ZmqError::Version { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        socket.set_rate(self.multicast_rate)?;
        socket.set_hwm(self.high_water_mark)?;
        if self.tcp_keepalive {
            socket.set_tcp_keepalive(1)?;
            socket.set_tcp_keepalive_cnt(self.tcp_keepalive_count)?;
            socket.set_tcp_keepalive_idle(self.tcp_keepalive_idle)?;
            socket.set_tcp_keepalive_intvl(self.tcp_keepalive_interval)?;
        }
        if let Some(ivl) = self.reconnect_interval {
            socket.set_reconnect_ivl(Some(ivl))?;
        }
        if let Some(max) = self.reconnect_interval_max {
            socket.set_reconnect_ivl_max(Some(max))?;
        }
        if let Some(id) = &self.identity {
            socket.set_routing_id(id)?;
        }
        Ok(())
    }
}

/// A connection's state shared with its factory and its task.
pub(crate) struct CoreShared {
    id: u64,
    kind: SocketType,
    /// The send half; `None` once closed. Sends clone the `Arc` for their
    /// duration and race it against `closed`.
    sender: Mutex<Option<Arc<AsyncSender>>>,
    endpoints: Mutex<Vec<Endpoint>>,
    closed: watch::Sender<bool>,
    /// Peers connected now (see [`Peers`]).
    peers: watch::Sender<Peers>,
    driver: Mutex<Option<JoinHandle<()>>>,
}

/// The peers of a connection, as its socket monitor tells (libzmq has no
/// call that lists them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Peers {
    /// Handshakes that succeeded and whose connection has not broken since.
    live: usize,
    /// Connections whose handshake failed: the `DISCONNECTED` that follows
    /// each is not a live peer leaving.
    failed: usize,
    /// `inproc` endpoints connected: inproc makes no monitor events, and
    /// libzmq queues for such a peer from the connect on.
    inproc: usize,
}

impl Peers {
    fn count(&self) -> usize {
        self.live + self.inproc
    }

    /// Follows one monitor event.
    fn event(&mut self, kind: EventKind) {
        match kind {
            EventKind::HandshakeSucceeded => self.live += 1,
            EventKind::HandshakeFailedNoDetail
            | EventKind::HandshakeFailedProtocol
            | EventKind::HandshakeFailedAuth => self.failed += 1,
            EventKind::Disconnected => {
                if self.failed > 0 {
                    self.failed -= 1;
                } else {
                    self.live = self.live.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

/// The monitor events a connection follows: its peers, and the lost
/// connections it reports.
fn peer_events() -> Event {
    Event::HANDSHAKE_SUCCEEDED
        | Event::HANDSHAKE_FAILED_NO_DETAIL
        | Event::HANDSHAKE_FAILED_PROTOCOL
        | Event::HANDSHAKE_FAILED_AUTH
        | Event::DISCONNECTED
}

fn is_inproc_connect(endpoint: &Endpoint) -> bool {
    endpoint.kind == EndpointType::Connect && endpoint.address.starts_with("inproc://")
}

impl CoreShared {
    /// Drops the send half and tells the task to stop (and drop the
    /// receive half): the socket closes once both are gone.
    pub(crate) fn close(&self) {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(sender);
        self.closed.send_replace(true);
    }

    /// Waits for the task to end (after [`close`](Self::close)).
    pub(crate) async fn join(&self) {
        let handle = self.driver.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    /// See [`Core::try_send`].
    pub(crate) fn try_send(&self, parts: &mut [Message]) -> Result<()> {
        if self.sender()?.try_send_multipart(parts)? {
            Ok(())
        } else {
            Err(ZmqError::Again.into())
        }
    }

    fn sender(&self) -> crate::Result<Arc<AsyncSender>> {
        self.sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(ZmqError::NotSocket)
    }

    /// Resolves once a peer is connected, at once if one is; fails with
    /// `NotSocket` once the connection is closed.
    pub(crate) async fn connected(&self) -> Result<()> {
        let mut peers = self.peers.subscribe();
        let mut closed = self.closed.subscribe();
        tokio::select! {
            biased;
            _ = until_closed(&mut closed) => return Err(ZmqError::NotSocket.into()),
            r = peers.wait_for(|p| p.count() > 0) => if r.is_err() {
                return Err(ZmqError::NotSocket.into());
            },
        }
        // On the accepting side libzmq attaches the new peer's pipe when the
        // socket next processes its commands (queued before the handshake
        // event), and a send processes them at most once a millisecond:
        // reading ZMQ_EVENTS processes them now, so that a send right
        // after this can reach the peer.
        self.sender()?.with_socket(|s| s.events())?;
        Ok(())
    }

    pub(crate) fn connected_peers(&self) -> usize {
        self.peers.borrow().count()
    }
}

/// How a connection's task handles what its socket receives: it turns a
/// multipart message (or a receive error) into an item for the inbox, or
/// handles it itself (`None`).
pub(crate) type Handler<T> =
    Box<dyn FnMut(crate::Result<Vec<Message>>) -> Option<Result<T>> + Send>;

/// What to do with received messages.
pub(crate) struct Receiving<T> {
    pub(crate) handler: Handler<T>,
    /// Run when the task ends (fail pending requests…).
    pub(crate) on_exit: Option<Box<dyn FnOnce() + Send>>,
}

/// The socket side of a connection, common to every kind: txZMQ's
/// `ZmqConnection`. Dropping it shuts the connection down.
pub(crate) struct Core {
    shared: Arc<CoreShared>,
    factory: Weak<FactoryShared>,
    disconnects: Option<Disconnects>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("socket_type", &self.shared.kind)
            .field("endpoints", &self.endpoints())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Core {
    /// Makes the socket, applies the options, binds/connects, registers
    /// with the factory and starts the task. `receiving` is `None` for
    /// send-only kinds (PUB, PUSH).
    pub(crate) fn open<T: Send + 'static>(
        factory: &Factory,
        kind: SocketType,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
        receiving: Option<Receiving<T>>,
    ) -> Result<(Core, Option<Inbox<T>>)> {
        let fshared = factory.shared();
        fshared.check_open()?;
        let socket = fshared.context().socket(kind)?;
        options.apply(&socket, fshared.linger())?;
        // Always on, before any bind or connect: it counts the peers.
        let monitor = AsyncMonitor::new(socket.monitor_events(peer_events())?)?;
        let endpoints: Vec<Endpoint> = endpoints.into_iter().collect();
        connect_or_bind(&socket, &endpoints)?;
        let (sender, receiver) = AsyncSocket::new(socket)?.split();

        let (closed, closed_rx) = watch::channel(false);
        let peers = Peers {
            inproc: endpoints.iter().filter(|e| is_inproc_connect(e)).count(),
            ..Peers::default()
        };
        let shared = fshared.register(|id| {
            Arc::new(CoreShared {
                id,
                kind,
                sender: Mutex::new(Some(Arc::new(sender))),
                endpoints: Mutex::new(endpoints),
                closed,
                peers: watch::Sender::new(peers),
                driver: Mutex::new(None),
            })
        })?;

        let (lost_tx, disconnects) = if options.watch_disconnects {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(Disconnects { rx }))
        } else {
            (None, None)
        };
        let watcher = Watcher {
            monitor: Some(monitor),
            lost: lost_tx,
            shared: Arc::downgrade(&shared),
        };
        let (inbox_tx, inbox) = match &receiving {
            Some(_) => {
                let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
                (Some(tx), Some(Inbox { rx: Some(rx) }))
            }
            None => (None, None),
        };
        let mut receiving = receiving;
        let on_exit = OnExit(receiving.as_mut().and_then(|r| r.on_exit.take()));
        let receiver = receiving.is_some().then_some(receiver);
        let handle = tokio::spawn(drive(
            on_exit, receiver, receiving, watcher, closed_rx, inbox_tx,
        ));
        *shared.driver.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok((
            Core {
                shared,
                factory: Arc::downgrade(fshared),
                disconnects,
            },
            inbox,
        ))
    }

    /// txZMQ's `addEndpoints`: binds and connects more endpoints, mixing
    /// transports. Stops at the first failure (the endpoints before it are
    /// in use).
    pub(crate) fn add_endpoints(
        &self,
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> Result<()> {
        let sender = self.shared.sender()?;
        for endpoint in endpoints {
            sender.with_socket(|s| connect_or_bind(s, std::slice::from_ref(&endpoint)))?;
            if is_inproc_connect(&endpoint) {
                self.shared.peers.send_modify(|p| p.inproc += 1);
            }
            self.shared
                .endpoints
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(endpoint);
        }
        Ok(())
    }

    pub(crate) fn endpoints(&self) -> Vec<Endpoint> {
        self.shared
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn last_endpoint(&self) -> Result<String> {
        Ok(self.shared.sender()?.last_endpoint()?)
    }

    pub(crate) fn with_socket<R>(&self, f: impl FnOnce(&Socket) -> crate::Result<R>) -> Result<R> {
        Ok(self.shared.sender()?.with_socket(f)?)
    }

    pub(crate) fn is_closed(&self) -> bool {
        *self.shared.closed.borrow()
    }

    pub(crate) fn take_disconnects(&mut self) -> Option<Disconnects> {
        self.disconnects.take()
    }

    /// Sends a multipart message now or fails with `EAGAIN` (txZMQ's
    /// `send`, which is non-blocking). `parts` are left as they were on
    /// failure.
    pub(crate) fn try_send(&self, parts: &mut [Message]) -> Result<()> {
        self.shared.try_send(parts)
    }

    pub(crate) fn shared(&self) -> &Arc<CoreShared> {
        &self.shared
    }

    /// Sends a multipart message, waiting while the socket cannot take it;
    /// ends with `NotSocket` if the connection shuts down first.
    /// Cancel-safe: all parts or none.
    pub(crate) async fn send(&self, parts: Vec<Message>) -> Result<()> {
        let sender = self.shared.sender()?;
        let mut closed = self.shared.closed.subscribe();
        tokio::select! {
            biased;
            _ = until_closed(&mut closed) => Err(ZmqError::NotSocket.into()),
            r = sender.send_multipart(parts) => Ok(r?),
        }
    }

    /// See [`CoreShared::connected`].
    pub(crate) async fn connected(&self) -> Result<()> {
        self.shared.connected().await
    }

    pub(crate) fn connected_peers(&self) -> usize {
        self.shared.connected_peers()
    }

    /// txZMQ's `ZmqConnection.shutdown`: closes the socket and leaves the
    /// factory. Idempotent.
    pub(crate) fn shutdown(&self) {
        self.shared.close();
        if let Some(f) = self.factory.upgrade() {
            f.unregister(self.shared.id);
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn connect_or_bind(socket: &Socket, endpoints: &[Endpoint]) -> crate::Result<()> {
    for e in endpoints {
        match e.kind {
            EndpointType::Bind => {
                socket.bind(&e.address)?;
            }
            EndpointType::Connect => socket.connect(&e.address)?,
        }
    }
    Ok(())
}

/// Runs a connection's `on_exit` however its task ends: also when the task
/// is dropped unfinished, or before it first ran (its runtime shut down).
struct OnExit(Option<Box<dyn FnOnce() + Send>>);

impl Drop for OnExit {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// What a connection's task watches besides its socket: the socket
/// monitor (peers, lost connections) and the connection's state.
struct Watcher {
    /// `None` once the monitor's stream ended.
    monitor: Option<AsyncMonitor>,
    /// Where lost connections go, when they are watched.
    lost: Option<mpsc::UnboundedSender<MonitorEvent>>,
    shared: Weak<CoreShared>,
}

impl Watcher {
    async fn next_event(&mut self) -> Option<crate::Result<MonitorEvent>> {
        match &mut self.monitor {
            Some(m) => m.next_event().await,
            None => std::future::pending().await,
        }
    }

    fn handle(&mut self, event: Option<crate::Result<MonitorEvent>>) {
        match event {
            Some(Ok(event)) => {
                if let Some(shared) = self.shared.upgrade() {
                    shared.peers.send_if_modified(|p| {
                        let before = *p;
                        p.event(event.kind);
                        *p != before
                    });
                }
                if event.kind == EventKind::Disconnected {
                    if let Some(tx) = &self.lost {
                        let _ = tx.send(event);
                    }
                }
            }
            // A malformed event: nothing to follow.
            Some(Err(_)) => {}
            None => self.monitor = None,
        }
    }
}

/// The task of a connection: receives and dispatches until closed, and
/// follows the socket monitor. It owns the receive half (and the monitor),
/// so the socket closes when it ends; however it ends, the connection is
/// closed then (`is_closed`, failing sends), never left open but deaf.
async fn drive<T: Send + 'static>(
    on_exit: OnExit,
    receiver: Option<AsyncReceiver>,
    mut receiving: Option<Receiving<T>>,
    mut watcher: Watcher,
    mut closed: watch::Receiver<bool>,
    inbox: Option<mpsc::Sender<Result<T>>>,
) {
    'run: loop {
        tokio::select! {
            biased;
            _ = until_closed(&mut closed) => break,
            event = watcher.next_event() => watcher.handle(event),
            frames = recv(&receiver) => {
                let Some(r) = receiving.as_mut() else { continue };
                // ETERM, or a socket that cannot receive any more: the
                // error is handed on, then the task ends.
                let terminated = matches!(
                    &frames,
                    Err(e) if !matches!(e, ZmqError::Again | ZmqError::Interrupted)
                );
                if let (Some(item), Some(inbox)) = ((r.handler)(frames), &inbox) {
                    // Wait for room in the inbox, following the monitor
                    // meanwhile (`connected()` must not wait for a reader).
                    loop {
                        tokio::select! {
                            biased;
                            _ = until_closed(&mut closed) => break 'run,
                            event = watcher.next_event() => watcher.handle(event),
                            permit = inbox.reserve() => match permit {
                                Ok(permit) => {
                                    permit.send(item);
                                    break;
                                }
                                // Nobody takes the items any more (the
                                // callback's task was aborted): close
                                // rather than go on deaf.
                                Err(_) => break 'run,
                            },
                        }
                    }
                }
                if terminated {
                    break;
                }
            }
        }
    }
    if let Some(shared) = watcher.shared.upgrade() {
        shared.close();
    }
    drop(receiver);
    drop(on_exit);
    drop(watcher);
}

/// Resolves once the connection is closed (or its state is gone).
pub(crate) async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}

async fn recv(receiver: &Option<AsyncReceiver>) -> crate::Result<Vec<Message>> {
    match receiver {
        Some(rx) => rx.recv_multipart().await,
        None => std::future::pending().await,
    }
}

/// Received items waiting for the owner: a [`Stream`], or a callback.
pub(crate) struct Inbox<T> {
    rx: Option<mpsc::Receiver<Result<T>>>,
}

impl<T> std::fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("callback", &self.rx.is_none())
            .finish()
    }
}

impl<T: Send + 'static> Inbox<T> {
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        match &mut self.rx {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }

    /// Hands every item to `callback` on a task of its own; the stream then
    /// ends. `None` if a callback was already set.
    ///
    /// A panic in the callback is caught and handed to the callback as its
    /// next item ([`Error::CallbackPanicked`], with the message id `id_of`
    /// finds in the item it was handling); a panic on that report is
    /// printed to stderr. Either way the task goes on with the next item.
    pub(crate) fn callback<F>(
        &mut self,
        name: &'static str,
        id_of: fn(&T) -> Option<Vec<u8>>,
        mut callback: F,
    ) -> Option<JoinHandle<()>>
    where
        F: FnMut(Result<T>) + Send + 'static,
    {
        let mut rx = self.rx.take()?;
        Some(tokio::spawn(async move {
            while let Some(item) = rx.recv().await {
                let message_id = item.as_ref().ok().and_then(id_of);
                let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(item))) else {
                    continue;
                };
                let report = Error::CallbackPanicked {
                    callback: name,
                    message: panic_message(payload.as_ref()),
                    message_id,
                };
                if let Err(again) = catch_unwind(AssertUnwindSafe(|| callback(Err(report)))) {
                    eprintln!(
                        "zmqx::txzmq: the {name} callback panicked on the report of its own panic: {}",
                        panic_message(again.as_ref())
                    );
                }
            }
        }))
    }
}

/// Lost connections of a connection made with
/// [`ConnectionOptions::watch_disconnects`]: txZMQ's `connectionLost`, as a
/// [`Stream`] of `ZMQ_EVENT_DISCONNECTED` monitor events (the endpoint is
/// in [`MonitorEvent::endpoint`]). It ends when the connection shuts down.
#[derive(Debug)]
pub struct Disconnects {
    rx: mpsc::UnboundedReceiver<MonitorEvent>,
}

impl Disconnects {
    /// The next lost connection; `None` once the connection is shut down.
    pub async fn next_event(&mut self) -> Option<MonitorEvent> {
        self.rx.recv().await
    }
}

impl Stream for Disconnects {
    type Item = MonitorEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<MonitorEvent>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// The methods every connection kind has (txZMQ's `ZmqConnection`).
macro_rules! connection_methods {
    () => {
        /// Binds and connects more endpoints (txZMQ's `addEndpoints`),
        /// mixing transports and kinds. Stops at the first failure.
        pub fn add_endpoints(
            &self,
            endpoints: impl IntoIterator<Item = $crate::txzmq::Endpoint>,
        ) -> $crate::txzmq::Result<()> {
            self.core.add_endpoints(endpoints)
        }

        /// The endpoints given so far (txZMQ's `endpoints`).
        pub fn endpoints(&self) -> Vec<$crate::txzmq::Endpoint> {
            self.core.endpoints()
        }

        /// The last endpoint bound or connected, with the port the OS chose
        /// for `tcp://…:*` (`ZMQ_LAST_ENDPOINT`).
        pub fn last_endpoint(&self) -> $crate::txzmq::Result<String> {
            self.core.last_endpoint()
        }

        /// Runs `f` with the socket, for options txZMQ does not expose. Keep
        /// it short: the socket is locked meanwhile. Do not start a socket
        /// monitor on it: libzmq allows one, and the connection's own
        /// (behind [`connected`](Self::connected) and `disconnects`) would
        /// stop.
        pub fn with_socket<R>(
            &self,
            f: impl FnOnce(&$crate::Socket) -> $crate::Result<R>,
        ) -> $crate::txzmq::Result<R> {
            self.core.with_socket(f)
        }

        /// Resolves once a peer is connected: at once if one is, else when
        /// the next peer completes its ZMTP handshake
        /// (`ZMQ_EVENT_HANDSHAKE_SUCCEEDED` from the connection's socket
        /// monitor). No txZMQ counterpart. Fails with
        /// [`zmqx::Error::NotSocket`](crate::Error::NotSocket) when the
        /// connection shuts down first; wrap it in a timeout to bound it.
        ///
        /// A peer counts from its handshake until its connection breaks
        /// (`ZMQ_EVENT_DISCONNECTED`). `inproc` makes no monitor events: an
        /// `inproc` endpoint this connection *connects* counts as a peer
        /// from the connect on (libzmq queues for it even before the other
        /// side binds); peers connecting to an `inproc` endpoint it
        /// *binds* are not seen. A subscriber that is connected may still
        /// miss messages published before its subscription arrives.
        pub async fn connected(&self) -> $crate::txzmq::Result<()> {
            self.core.connected().await
        }

        /// How many peers are connected now, as [`connected`](Self::connected)
        /// counts them.
        pub fn connected_peers(&self) -> usize {
            self.core.connected_peers()
        }

        /// Closes the socket and leaves the factory (txZMQ's `shutdown`).
        /// Dropping the connection does the same. Pending messages get the
        /// factory's linger period to leave.
        pub fn shutdown(&self) {
            self.core.shutdown()
        }

        /// Whether the connection is closed: shut down (itself or its
        /// factory), or its task ended (the context was terminated, or the
        /// task of its callback was aborted). A closed connection never
        /// receives again and its sends fail with
        /// [`zmqx::Error::NotSocket`](crate::Error::NotSocket).
        pub fn is_closed(&self) -> bool {
            self.core.is_closed()
        }

        /// The stream of lost connections (txZMQ's `connectionLost`), once:
        /// `None` if [`ConnectionOptions::watch_disconnects`](crate::txzmq::ConnectionOptions::watch_disconnects)
        /// was not set or the stream was already taken.
        pub fn disconnects(&mut self) -> Option<$crate::txzmq::Disconnects> {
            self.core.take_disconnects()
        }
    };
}

/// `Stream` and callback access to a connection's inbox.
macro_rules! inbox_methods {
    ($item:ty, $callback:ident, $what:literal, $id_of:expr) => {
        #[doc = concat!("Hands every ", $what, " to `callback`, on a task of its own (txZMQ's")]
        #[doc = concat!("overridable method); the [`Stream`](futures_core::Stream) then ends.")]
        /// Returns the task, or `None` if a callback was already set. The
        /// task ends when the connection closes.
        ///
        /// A panic in the callback does not stop the connection: it is
        /// caught, and the callback gets it as its next item,
        #[doc = concat!("[`Error::CallbackPanicked`](crate::txzmq::Error::CallbackPanicked) (`callback: \"", stringify!($callback), "\"`);")]
        /// then receiving goes on, as pyzmq's `ZMQStream` does. (A panic on
        /// that report is printed to stderr.) Aborting the task closes the
        /// connection: nothing would take its messages.
        pub fn $callback<F>(&mut self, callback: F) -> Option<tokio::task::JoinHandle<()>>
        where
            F: FnMut($crate::txzmq::Result<$item>) + Send + 'static,
        {
            self.inbox.callback(stringify!($callback), $id_of, callback)
        }
    };
}

/// `impl Stream` over the inbox.
macro_rules! impl_inbox_stream {
    ($t:ty, $item:ty) => {
        impl futures_core::Stream for $t {
            type Item = $crate::txzmq::Result<$item>;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                self.get_mut().inbox.poll_next(cx)
            }
        }
    };
}

pub(crate) use {connection_methods, impl_inbox_stream, inbox_methods};
