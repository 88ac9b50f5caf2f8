//! Async sockets on tokio: pyzmq's `zmq.asyncio`, `zmq.eventloop.future` and
//! `ZMQStream`, for Rust (feature `tokio`, on by default; Unix).
//!
//! ```
//! use zmqx::{AsyncSocket, Context, SocketType};
//!
//! #[tokio::main]
//! async fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let server = AsyncSocket::new(ctx.socket(SocketType::Rep)?)?;
//!     server.bind("tcp://127.0.0.1:*")?;
//!     let endpoint = server.last_endpoint()?;
//!
//!     // Futures are Send: the server runs on another worker thread.
//!     let task = tokio::spawn(async move {
//!         let request = server.recv_string().await?;
//!         server.send(format!("hello, {request}")).await
//!     });
//!
//!     let client = AsyncSocket::new(ctx.socket(SocketType::Req)?)?;
//!     client.connect(&endpoint)?;
//!     client.send("world").await?;
//!     assert_eq!(client.recv_string().await?, "hello, world");
//!     task.await.expect("server task")?;
//!     Ok(())
//! }
//! ```
//!
//! ## The pieces
//!
//! - [`AsyncSocket`]: `async` send/recv of parts, multipart messages, text,
//!   JSON and [`Serializer`](crate::serialize::Serializer)s; `poll`;
//!   [`Stream`](futures_core::Stream) of incoming multipart messages and
//!   [`Sink`](futures_sink::Sink) of outgoing ones;
//!   [`split`](AsyncSocket::split) into an [`AsyncSender`] and an
//!   [`AsyncReceiver`] for two tasks.
//! - [`AsyncPoller`]: waits on many async sockets, plain blocking
//!   [`Socket`](crate::Socket)s and plain fds (pyzmq's `zmq.asyncio.Poller`,
//!   which also takes a blocking socket).
//! - [`MessageTracker`](crate::MessageTracker) can be awaited
//!   ([`TrackerWait`]).
//! - [`ZmqStream`]: pyzmq's callback interface (`on_recv`, `on_send`,
//!   `flush`…), driven by a tokio task; async receive handlers
//!   ([`ZmqStream::on_recv_async`]) with back-pressure.
//! - [`AsyncMonitor`]: socket monitor events as a
//!   [`Stream`](futures_core::Stream) ([`AsyncSocket::monitor_events`]).
//! - [`send_queue`]: a cloneable `Send + Sync` [`SharedSender`] for many
//!   producer tasks and a bounded [`SendQueue`] the socket's owner drains.
//! - [`AsyncAuthenticator`]: the ZAP handler as a tokio task, with an
//!   [`Authenticator`](crate::auth::Authenticator) policy.
//!
//! ## Differences from pyzmq
//!
//! - An async socket wraps a [`Socket`](crate::Socket) you made
//!   ([`AsyncSocket::new`]); there is no async `Context` class. It must be
//!   made inside a tokio runtime with IO enabled.
//! - Futures are lazy, as always in Rust: `let f = socket.recv_msg()` does
//!   nothing until awaited, where pyzmq's future is already running.
//!   Concurrent receives on one socket get messages in no particular order.
//! - `RCVTIMEO`/`SNDTIMEO` are honoured as pyzmq does ([`Error::Again`](crate::Error::Again)
//!   when they expire); `tokio::time::timeout` is the Rust way.
//! - Thread-safe DRAFT socket types have no `ZMQ_FD`: [`AsyncSocket::new`]
//!   refuses them with [`Error::AsyncUnsupported`](crate::Error::AsyncUnsupported).
//!
//! ## Cancellation
//!
//! Every future may be dropped at any point (a `select!` branch, a
//! `tokio::time::timeout`) without losing or corrupting anything:
//!
//! - **Receives** take a message from libzmq only inside the poll that
//!   returns it. A future never holds a received message between polls, so
//!   dropping it leaves the message in the socket for the next receive.
//! - **Sends** keep their message until libzmq accepts the first part. Only
//!   the first part of a multipart message can block (libzmq counts the
//!   high-water mark in whole messages), so the other parts are sent in the
//!   same call: a dropped send future has sent all parts or none, never half
//!   a message.
//! - **Waits** leave nothing behind. A future that has to wait registers
//!   with the socket through a guard whose drop removes the registration at
//!   once, in constant time, however many others wait: sends, receives,
//!   `poll`, `readable`/`writable` of the halves, [`AsyncPoller::poll`],
//!   [`AsyncMonitor::next_event`], [`TrackerWait`]. (A [`Stream`](futures_core::Stream)
//!   or [`Sink`](futures_sink::Sink) keeps its one registration while it
//!   lives, as streams do.) A cancelled [`ZmqStream::flush`] is not run.
//!
//! ## How readiness works
//!
//! libzmq gives each socket a notification fd (`ZMQ_FD`). It is not a data
//! socket: it only says "the socket's state may have changed", edge-
//! triggered, and only ever as *readable*. The truth is in `ZMQ_EVENTS`
//! (`POLLIN`, `POLLOUT`), and reading `ZMQ_EVENTS`, like every send and
//! receive, processes libzmq's pending commands and may consume the edge.
//! Treating the fd as "a message is ready", or not re-checking after an
//! operation, loses wakeups: a socket at its high-water mark then never
//! wakes again. So:
//!
//! 1. Operations are tried first, non-blocking. When data is flowing, that
//!    is the only libzmq call (and the socket's lock the only other cost).
//! 2. When an operation would block, the future registers its waker with the
//!    socket *before* the socket is unlocked (so whoever changes the state
//!    after that sees it), then looks at `ZMQ_EVENTS`. Looking drains
//!    libzmq's command mailbox, so any later state change signals the fd
//!    again. A receive that would block has just done the same (libzmq
//!    processes pending commands before it gives up), so a receive waiting
//!    alone skips the look.
//! 3. Then it waits for the fd through tokio's `AsyncFd`. When tokio reports
//!    it readable, `ZMQ_EVENTS` is read again, after taking the readiness
//!    guard, and readiness is cleared: that look has drained the mailbox, and
//!    an edge that arrives after it carries a newer readiness tick, which
//!    clearing leaves in place. (A woken waiter with no other waiter around
//!    clears the spent readiness before it retries, which is as safe, since
//!    every waiter looks before it waits; its next wait then needs no look.)
//! 4. The fd has one reader waker in tokio, but a socket has two directions
//!    and maybe several waiters. zmqx registers a single "fan-out" waker with
//!    tokio that wakes every waiter of the socket; each re-checks
//!    `ZMQ_EVENTS` for itself.
//! 5. After every successful operation, every look at `ZMQ_EVENTS`, and
//!    every operation that would block while others wait, any *other* waiter
//!    whose event is now set is woken: the operation may have consumed the
//!    edge that waiter was waiting for (a receive on a split socket can
//!    process the command that makes it writable again). When nobody waits,
//!    this costs one atomic load.
//! 6. If an operation would block although `ZMQ_EVENTS` says it should not
//!    (a `ROUTER_MANDATORY` socket reports `POLLOUT` when *any* peer has
//!    room), the future waits for the next edge instead of spinning.
//!
//! 7. Before parking in tokio, an operation that would block, with nobody
//!    else waiting on its socket and no spawned task alive in the runtime,
//!    first waits on its own thread for the fd to signal (up to
//!    [`AsyncSocket::set_blocking_wait`]: 100 µs by default for in-process
//!    sockets, none once a socket has a tcp or ipc endpoint), as a blocking
//!    socket waits: a peer that answers within microseconds costs no trip
//!    through tokio's reactor and scheduler. In-process, the first 20 µs
//!    look at the fd without sleeping (yielding the CPU between looks;
//!    [`AsyncSocket::set_busy_wait`]), the rest sleeps in `ppoll(2)`: a
//!    peer that answers that soon costs no wake-up through the kernel's
//!    scheduler either. Nothing is registered for so
//!    short a wait; libzmq's mailbox has just been drained (step 2), so the
//!    fd signals any change after it, as for `zmq_poll`. A wait that ends
//!    without a signal parks as usual, after registering and looking at
//!    `ZMQ_EVENTS` (someone else may have processed the command meant for
//!    it); the third such miss since the last wait that succeeded makes the
//!    next 16 or more waits (doubling up to 4,096) park at once. In a task
//!    that waits on several things at once (`select!` over two sockets, a
//!    socket and a channel), a successful wait can hold the others up by as
//!    much as the limit: set zero on such sockets.
//!
//! When nothing happens, nothing runs: an idle socket costs no CPU. The
//! socket sits behind a lock (a libzmq socket is not thread-safe, and the
//! halves of a split socket work from two threads), held only for the
//! non-blocking libzmq call, never across an `.await`. A socket that is always
//! ready does not starve the other tasks of its thread, nor its timers and
//! I/O: after 128 operations in a row that did not have to wait (tokio's
//! task budget is 128 too), and 100 µs more, the next one yields to the
//! runtime once. (A budget per socket, cheaper to keep than tokio's per
//! task. The 100 µs: a yield turns the runtime's I/O driver, an
//! `epoll_wait` system call, which 128 in-process operations of 50 ns each
//! could not carry. The clock is read every 32 operations after the 128th.)

mod auth;
mod engine;
mod lock;
mod monitor;
mod options;
mod poller;
mod shared_sender;
mod socket;
mod tracker;
mod zmqstream;

pub use auth::AsyncAuthenticator;
pub use monitor::AsyncMonitor;
pub use poller::{AsyncPollable, AsyncPoller};
pub use shared_sender::{SendQueue, SharedSender, send_queue};
pub use socket::{AsyncReceiver, AsyncSender, AsyncSocket, ReuniteError};
pub use tracker::TrackerWait;
pub use zmqstream::ZmqStream;
