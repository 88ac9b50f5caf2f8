//! [`AsyncThreadSafeSocket`]: async sends and receives on a thread-safe
//! DRAFT socket, woken through `zmq_poller_fd` (feature `tokio`, Unix).
//!
//! See [`AsyncThreadSafeSocket`] for how readiness works.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use crate::constants::{PollEvents, SocketType};
use crate::error::{Error, Result};
use crate::message::Message;

use super::ThreadSafeSocket;
use super::poller::SocketPoller;

/// How many times an operation is retried while the events say it can
/// proceed but it would still block, before waiting for a fresh edge.
const TRUSTED_RETRIES: u32 = 2;

/// The poller's fd as tokio sees it; libzmq owns it (closed by
/// `zmq_poller_destroy`).
#[derive(Debug)]
struct PollerFd(RawFd);

impl AsRawFd for PollerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

struct Inner {
    /// First, so it leaves the reactor before the poller closes the fd.
    fd: AsyncFd<PollerFd>,
    /// Second: destroyed while the socket is still alive.
    poller: Mutex<SocketPoller>,
    socket: ThreadSafeSocket,
    /// Signalled after every look at the events (step 3 of "How readiness works").
    checked: Notify,
}

impl Inner {
    /// The socket's events now, from `zmq_poller_wait` with no timeout;
    /// then every subscribed future retries its operation.
    fn check(&self) -> Result<PollEvents> {
        let events = self
            .poller
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events();
        self.checked.notify_waiters();
        events
    }
}

/// A [`ThreadSafeSocket`] driven by tokio (feature `tokio`, Unix): `async`
/// [`send`](Self::send) and [`recv_msg`](Self::recv_msg) of single-part messages
/// with routing ids and groups. Thread-safe sockets have no `ZMQ_FD`, so
/// [`AsyncSocket`](crate::AsyncSocket) refuses them; this type is woken
/// through a `zmq_poller` holding the socket (see "How readiness works"
/// below for how no wakeup is lost).
///
/// It is `Clone` (all clones drive the same socket) and `Send + Sync`: any
/// number of tasks may send and receive at once. Futures are cancel-safe:
/// a receive takes a message only in the poll that returns it, and a
/// dropped send has sent its message or not at all. `RCVTIMEO` and
/// `SNDTIMEO` do not apply: use `tokio::time::timeout`.
///
/// ```
/// use zmqx::{Context, SocketType};
/// use zmqx::draft::AsyncThreadSafeSocket;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> zmqx::Result<()> {
///     let ctx = Context::new();
///     let server = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Server)?)?;
///     server.socket().bind("tcp://127.0.0.1:*")?;
///     let client = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Client)?)?;
///     client.socket().connect(&server.socket().last_endpoint()?)?;
///
///     client.send("ping").await?;
///     let ping = server.recv_msg().await?;
///     server.send_to("pong", ping.routing_id()).await?;
///     assert_eq!(client.recv_msg().await?, "pong");
///     Ok(())
/// }
/// ```
///
/// ## How readiness works
///
/// Thread-safe sockets have no `ZMQ_FD`. A `zmq_poller` holding one has an
/// fd of its own (`zmq_poller_fd`, an eventfd) that libzmq signals when a
/// command reaches the socket's mailbox while nobody was reading it: "the
/// socket's state may have changed". It says nothing about what changed, so
/// the truth is read with `zmq_poller_wait` and a zero timeout (the socket's
/// `ZMQ_EVENTS`, which also processes the pending commands, so that the
/// next command signals the fd again). Clearing tokio's readiness at the
/// wrong time is what loses wakeups, so:
///
/// 1. An operation is tried first, non-blocking.
/// 2. When it would block, the future subscribes to the socket's "checked"
///    notification, *then* tries again: whatever changed before the
///    subscription is seen by this try.
/// 3. It waits for either the fd (tokio's `AsyncFd`; every waiting future is
///    woken on an edge) or the notification. Woken by the fd, it reads the
///    events after taking the readiness guard and notifies every other
///    subscribed future, which then retries its own operation: reading the
///    events may have processed the command that the other was waiting for.
///    Readiness is cleared only when the events lack what this future wants;
///    an edge arriving after the read carries a newer tick, which the clear
///    leaves in place.
/// 4. An operation that would block although the events say it should not
///    (a SERVER's `POLLOUT` means *some* peer has room) stops trusting the
///    events after two tries: it clears readiness and waits for the next
///    edge or notification, so it never spins.
///
/// An idle socket costs no CPU: nothing runs until the fd is signalled.
#[derive(Clone)]
pub struct AsyncThreadSafeSocket {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncThreadSafeSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncThreadSafeSocket")
            .field("socket", &self.inner.socket)
            .field("fd", &self.inner.fd.get_ref().0)
            .finish()
    }
}

impl AsyncThreadSafeSocket {
    /// Drives `socket` from the current tokio runtime (which needs IO
    /// enabled): a `zmq_poller` holding it, its `zmq_poller_fd` registered
    /// with tokio. Outside a runtime this is an [`Error::Reactor`].
    pub fn new(socket: ThreadSafeSocket) -> Result<AsyncThreadSafeSocket> {
        if let Err(e) = tokio::runtime::Handle::try_current() {
            return Err(Error::Reactor(std::io::Error::other(e)));
        }
        // SAFETY: the poller is stored in `Inner` next to the socket, in a
        // field declared before it, so it is destroyed while the socket is
        // alive. Moving `socket` into `Inner` does not move the libzmq
        // socket the poller points to.
        let poller = unsafe { SocketPoller::new(&socket)? };
        let raw = poller.fd()?;
        // SAFETY: `raw` is the poller's fd, which libzmq keeps open until
        // zmq_poller_destroy. The AsyncFd is declared before the poller in
        // `Inner` (and dropped first in `into_socket`), so it is
        // deregistered before the fd closes; PollerFd returns the same fd
        // for its whole life.
        let fd = unsafe { AsyncFd::register_with_interest(PollerFd(raw), Interest::READABLE) }
            .map_err(|e| Error::Reactor(e.into_parts().1))?;
        Ok(AsyncThreadSafeSocket {
            inner: Arc::new(Inner {
                fd,
                poller: Mutex::new(poller),
                socket,
                checked: Notify::new(),
            }),
        })
    }

    /// The socket, for `bind`, `connect`, `join`, options…
    pub fn socket(&self) -> &ThreadSafeSocket {
        &self.inner.socket
    }

    /// The socket type.
    pub fn socket_type(&self) -> SocketType {
        self.inner.socket.socket_type()
    }

    /// Runs the non-blocking `op` (`Ok(None)`: would block) until it is
    /// done, waiting for `want` in between ("How readiness works", steps 1 to 4).
    async fn ready_op<R>(
        &self,
        want: PollEvents,
        mut op: impl FnMut(&ThreadSafeSocket) -> Result<Option<R>>,
    ) -> Result<R> {
        let inner = &*self.inner;
        // A socket that is always ready must not starve its worker: take
        // part in tokio's budget. *Before* the operation, as this may yield:
        // a yield between a receive and the return of its message would
        // lose the message if the future were dropped there.
        tokio::task::coop::consume_budget().await;
        if let Some(r) = op(&inner.socket)? {
            return Ok(r);
        }
        let mut tries = 0u32;
        loop {
            let checked = inner.checked.notified();
            tokio::pin!(checked);
            // Subscribed before trying: a look at the events from now on
            // wakes this future.
            checked.as_mut().enable();
            if let Some(r) = op(&inner.socket)? {
                return Ok(r);
            }
            tries += 1;
            let trusted = tries <= TRUSTED_RETRIES;
            tokio::select! {
                biased;
                () = &mut checked => {}
                guard = inner.fd.readable() => {
                    let mut guard = guard.map_err(Error::Reactor)?;
                    let events = inner.check()?;
                    if !(trusted && events.intersects(want)) {
                        guard.clear_ready();
                    }
                }
            }
        }
    }

    /// Sends one message (pyzmq-style `await socket.send(data)`), waiting
    /// while the socket cannot take it. On SERVER/PEER use
    /// [`send_to`](Self::send_to), on RADIO [`send_group`](Self::send_group)
    /// (or set them on the [`Message`]).
    pub async fn send<D: Into<Message>>(&self, data: D) -> Result<()> {
        let mut msg = data.into();
        self.ready_op(PollEvents::POLLOUT, |s| {
            Ok(s.try_send(&mut msg)?.then_some(()))
        })
        .await
    }

    /// Sends one message to the peer with this routing id (SERVER, PEER).
    pub async fn send_to<D: Into<Message>>(&self, data: D, routing_id: u32) -> Result<()> {
        let mut msg = data.into();
        msg.set_routing_id(routing_id)?;
        self.send(msg).await
    }

    /// Sends one message to a group (RADIO).
    pub async fn send_group<D: Into<Message>>(&self, data: D, group: &str) -> Result<()> {
        let mut msg = data.into();
        if group.len() > 255 {
            return Err(Error::invalid(
                format!("group {group:?}"),
                "longer than 255 bytes",
            ));
        }
        msg.set_group(group)?;
        self.send(msg).await
    }

    /// Receives one message, with its routing id or group on it.
    pub async fn recv_msg(&self) -> Result<Message> {
        self.ready_op(PollEvents::POLLIN, |s| s.try_recv_msg())
            .await
    }

    /// Receives a batch of messages into `buffer`, reusing its messages,
    /// waiting for the first only; as [`AsyncSocket::recv_many`](crate::AsyncSocket::recv_many).
    /// Cancel-safe: the messages are taken in the poll that completes it.
    pub async fn recv_many(&self, buffer: &mut [Message]) -> Result<usize> {
        if buffer.is_empty() {
            return Ok(0);
        }
        self.ready_op(PollEvents::POLLIN, |s| s.try_recv_many(buffer))
            .await
    }

    /// Gives the socket back once this is the last clone (`Err(self)`
    /// otherwise), after leaving the reactor.
    pub fn into_socket(self) -> std::result::Result<ThreadSafeSocket, AsyncThreadSafeSocket> {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                let Inner {
                    fd, poller, socket, ..
                } = inner;
                drop(fd);
                drop(poller);
                Ok(socket)
            }
            Err(inner) => Err(AsyncThreadSafeSocket { inner }),
        }
    }
}
