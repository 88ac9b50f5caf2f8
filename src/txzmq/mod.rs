//! txZMQ's patterns on tokio, wire-compatible with txZMQ 1.0 (feature
//! `txzmq`; Unix).
//!
//! ```
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use zmqx::txzmq::{Endpoint, Factory, PullConnection, PushConnection, RepConnection, ReqConnection};
//!
//! #[tokio::main]
//! async fn main() -> zmqx::txzmq::Result<()> {
//!     let factory = Factory::new()?;
//!
//!     // Request/reply: many requests in flight, each with its own timeout.
//!     let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
//!     let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
//!     let reply = client.send_msg_with_timeout(["ping", "1"], Duration::from_secs(5))?;
//!     let request = server.next().await.expect("a request")?;
//!     assert_eq!(request.parts, ["ping", "1"]);
//!     server.reply(&request.id, ["pong"])?;
//!     assert_eq!(reply.await?, ["pong"]);
//!
//!     // Push/pull, the puller as a callback.
//!     let mut pull = PullConnection::new(&factory, Endpoint::bind("inproc://jobs"))?;
//!     let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//!     pull.on_pull(move |message| { let _ = tx.send(message); });
//!     let push = PushConnection::new(&factory, Endpoint::connect("inproc://jobs"))?;
//!     push.push("job 1")?;
//!     assert_eq!(rx.recv().await.expect("pulled")?, ["job 1"]);
//!
//!     // Closes every connection, then terminates the context.
//!     factory.shutdown().await
//! }
//! ```
//!
//! ## The pieces
//!
//! - [`Factory`] (`ZmqFactory`): owns the [`Context`](crate::Context) (I/O
//!   threads, linger period) and every connection made with it;
//!   [`shutdown`](Factory::shutdown) closes them all and terminates the
//!   context; [`shutdown_on_ctrl_c`](Factory::shutdown_on_ctrl_c) ties it
//!   to ctrl-c and to the runtime's shutdown. Dropping it never hangs.
//! - [`Endpoint`] (`ZmqEndpoint`: bind or connect, an address) and
//!   [`ConnectionOptions`] (identity, multicast loop and rate, high-water
//!   mark, TCP keepalive, reconnect intervals, lost-connection reports).
//!   Every connection has `add_endpoints`, `last_endpoint`, `shutdown` and
//!   `disconnects` (txZMQ's `connectionLost`, from a socket monitor).
//! - [`PubConnection`] / [`SubConnection`]: `publish(message, tag)` sends
//!   one frame `tag \0 message`; the subscriber filters by tag prefix and
//!   yields [`Published`] (tag and body, not copied); the two-frame form
//!   [tag, body] is accepted too.
//! - [`PushConnection`] / [`PullConnection`].
//! - [`ReqConnection`] (`ZmqREQConnection`, DEALER): `send_msg` returns a
//!   [`Reply`] future; [uuid4, empty, parts…] on the wire; timeouts, a
//!   default timeout, cancellation by dropping; `send_msg_async` waits
//!   for a peer instead of failing.
//!   [`RepConnection`] (`ZmqREPConnection`, ROUTER): [`Request`]s with
//!   their message id (and [routing envelope](Request::envelope)),
//!   `reply(id, parts)`; plain REQ clients are answered too. [`NO_PARTS`]
//!   is a request or reply with no parts.
//! - [`RouterConnection`] / [`DealerConnection`]: raw multipart messages
//!   with routing ids.
//! - [`wire`]: the framing as pure functions over byte slices.
//!
//! Receiving connections are a [`Stream`](futures_core::Stream) of their
//! messages, or hand them to a callback (`on_message`, `on_pull`,
//! `on_request`); a panicking callback is reported to itself
//! ([`Error::CallbackPanicked`]) and the connection goes on. Sends are
//! immediate, as in txZMQ: they fail with
//! [`zmqx::Error::Again`](crate::Error::Again) when the socket cannot take
//! the message; the `*_async` variants wait instead, and every connection
//! can wait for a peer (`connected().await`).
//!
//! Errors are [`Error`]: socket errors ([`Error::Zmq`], wrapping
//! [`zmqx::Error`](crate::Error)) and txZMQ's own (framing, message ids,
//! timeouts, callback panics).
//!
//! ## Differences from txZMQ
//!
//! - **No reactor.** Connections are made inside a tokio runtime; each one
//!   that receives is driven by a task of that runtime, which owns its
//!   socket so that a shutdown can close it from anywhere.
//! - **Futures instead of Deferreds.** [`ReqConnection::send_msg`] returns
//!   a [`Reply`] future; dropping it is `Deferred.cancel()`. A timeout is
//!   [`Error::RequestTimeout`] (`ZmqRequestTimeoutError`). When the
//!   connection shuts down, pending replies fail with
//!   [`zmqx::Error::NotSocket`](crate::Error::NotSocket) instead of never
//!   firing.
//! - **Streams and callbacks instead of overriding** `gotMessage`,
//!   `onPull` or `messageReceived`. An exception in a txZMQ handler
//!   unwinds into the reactor; a panic in a callback here is caught and
//!   handed to the callback as [`Error::CallbackPanicked`] (with the
//!   message id of the request it was handling, still pending), and
//!   receiving goes on.
//! - **Options are values**, given per connection ([`ConnectionOptions`]),
//!   not class attributes. Multicast loopback exists in libzmq 4 only in
//!   DRAFT builds; elsewhere it is ignored, as txZMQ ignores it on libzmq
//!   3 and later.
//! - **Stricter framing, nothing lost.** A published frame without `\0`,
//!   a published message of three or more frames (txZMQ ignores the extra
//!   frames), a request without its envelope, a reply whose delimiter is
//!   not empty: each is an [`Error::Framing`] that hands the frames back,
//!   where txZMQ raises inside the reactor. Publishing a tag that contains
//!   `\0` is refused, and so is a reply with no parts to a REQ peer
//!   (which would drop it).
//! - **Unknown ids are errors**: replying to an id with no pending request
//!   is [`Error::UnknownMessageId`], not a `KeyError`; a failed reply keeps
//!   the request pending for a retry.
//! - **The id pool** works as txZMQ's (batches of [`ID_POOL_GEN_SIZE`]
//!   uuid4s, trimmed to twice that), but only ids of answered requests go
//!   back to it: a late reply to a cancelled or timed-out request, or a
//!   reply with an id that is not ours, is dropped and counted
//!   ([`ReqConnection::stray_replies`]) instead of feeding the pool.
//! - **Shutdown** is `async` ([`Factory::shutdown`]) or immediate
//!   ([`Factory::shutdown_now`], and dropping the factory);
//!   `registerForShutdown` is [`Factory::shutdown_on`] /
//!   [`Factory::shutdown_on_ctrl_c`], which also fire when the runtime
//!   shuts down. The linger period is txZMQ's 100 ms by default, not
//!   zmqx's one second.
//! - **Lost connections** (`connectionLost`) are opt-in
//!   ([`ConnectionOptions::watch_disconnects`]) and come from a socket
//!   monitor: one `ZMQ_EVENT_DISCONNECTED` per broken peer connection, and
//!   the end of the stream when the connection shuts down.
//! - The deprecated `ZmqXREQConnection`/`ZmqXREPConnection` aliases and
//!   the overridable `_getNextId` are not provided.

#![forbid(unsafe_code)]

mod connection;
mod error;
mod factory;
mod pubsub;
mod pushpull;
mod reqrep;
mod router_dealer;
pub mod wire;

pub use connection::{ConnectionOptions, Disconnects, Endpoint, EndpointType};
pub use error::{Error, Result};
pub use factory::{DEFAULT_LINGER_PERIOD, Factory};
pub use pubsub::{PubConnection, Published, SubConnection};
pub use pushpull::{PullConnection, PushConnection};
pub use reqrep::{
    ID_POOL_GEN_SIZE, NO_PARTS, RepConnection, Replier, Reply, ReqConnection, Request,
};
pub use router_dealer::{DealerConnection, RouterConnection, RouterMessage};
pub use wire::{PublishedForm, WireError};
