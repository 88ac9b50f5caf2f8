//! libzmq's DRAFT API (feature `draft`): the thread-safe socket types, the
//! `zmq_poller` API, and version-2 socket monitor events.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::{Context, Message, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!
//!     // CLIENT/SERVER: the server answers whoever asked, by routing id.
//!     let server = ctx.thread_safe_socket(SocketType::Server)?;
//!     server.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     server.bind("tcp://127.0.0.1:*")?;
//!     let client = ctx.thread_safe_socket(SocketType::Client)?;
//!     client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     client.connect(&server.last_endpoint()?)?;
//!
//!     client.send("request")?;
//!     let request = server.recv_msg()?;
//!     server.send_to("reply", request.routing_id())?;
//!     assert_eq!(client.recv_msg()?, "reply");
//!
//!     // Thread-safe sockets are `Sync`: share one between threads.
//!     std::thread::scope(|s| {
//!         s.spawn(|| client.send("from another thread"))
//!             .join()
//!             .expect("sender thread")
//!     })?;
//!     assert_eq!(server.recv_msg()?, "from another thread");
//!
//!     // RADIO/DISH: groups instead of topics.
//!     let dish = ctx.thread_safe_socket(SocketType::Dish)?;
//!     dish.set_rcvtimeo(Some(Duration::from_millis(100)))?;
//!     dish.bind("inproc://weather")?;
//!     dish.join("rain")?;
//!     let radio = ctx.thread_safe_socket(SocketType::Radio)?;
//!     radio.connect("inproc://weather")?;
//!     // RADIO drops what no DISH has joined yet: the join travels to the
//!     // radio like a message, so the first sends may be dropped.
//!     let msg: Message = (0..50)
//!         .find_map(|_| {
//!             radio.send_group("light", "rain").ok()?;
//!             dish.recv_msg().ok()
//!         })
//!         .expect("the join reached the radio");
//!     assert_eq!((msg.group().as_deref(), &msg[..]), (Some("rain"), &b"light"[..]));
//!     Ok(())
//! }
//! ```
//!
//! ## The pieces
//!
//! - [`ThreadSafeSocket`] ([`Context::thread_safe_socket`](crate::Context::thread_safe_socket)):
//!   SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, PEER and CHANNEL sockets,
//!   `Send + Sync`, with single-part sends and receives, routing ids
//!   ([`send_to`](ThreadSafeSocket::send_to), [`Message::routing_id`](crate::Message::routing_id)),
//!   groups ([`send_group`](ThreadSafeSocket::send_group),
//!   [`join`](ThreadSafeSocket::join), [`leave`](ThreadSafeSocket::leave),
//!   [`Message::group`](crate::Message::group)) and
//!   [`connect_peer`](ThreadSafeSocket::connect_peer). DGRAM is not
//!   thread-safe: it is a classic [`Socket`](crate::Socket) (two-part
//!   messages: the peer address, then the body).
//! - [`ZmqPoller`] (`zmq_poller_*`): waits on sockets (thread-safe ones too,
//!   which `zmq_poll` cannot watch) and fds, with user data per item.
//! - [`AsyncThreadSafeSocket`] (feature `tokio`, Unix): async sends and
//!   receives on a thread-safe socket, woken through `zmq_poller_fd`.
//! - Version-2 monitor events ([`Socket::monitor_events_v2`](crate::Socket::monitor_events_v2),
//!   [`MonitorEventV2`], [`parse_monitor_message_v2`]): 64-bit ids and
//!   values, local and remote endpoints, and `PIPES_STATS`.
//! - The DRAFT socket options ([`SocketOption`](crate::SocketOption)s marked
//!   as needing `"draft"`) and context options (`ZMQ_ZERO_COPY_RECV`,
//!   `ZMQ_MSG_T_SIZE`) are on [`Socket`](crate::Socket) and
//!   [`Context`](crate::Context) in every build; `zmq_ctx_set_ext` gives
//!   the I/O threads a text name prefix
//!   ([`Context::set_thread_name_prefix_str`](crate::Context::set_thread_name_prefix_str)).
//!
//! ## Which libzmq
//!
//! With the `vendored` feature (the default), `draft` builds the bundled
//! libzmq with `ZMQ_BUILD_DRAFT_API`. A system or `LIBZMQ_PREFIX` libzmq is
//! probed at build time: if it is known to lack the DRAFT API (Debian's and
//! Homebrew's packages do), the build of `zmq-sys` stops with an
//! explanation, rather than failing later with undefined symbols. When the
//! probe cannot tell (cross-compiling), everything here checks
//! [`has("draft")`](crate::has) at run time and fails with
//! [`Error::MissingCapability`] instead of
//! libzmq's bare `EINVAL`.
//!
//! ## Differences from pyzmq
//!
//! - pyzmq's draft sockets are ordinary `Socket`s; zmqx gives the
//!   thread-safe types their own [`ThreadSafeSocket`], which is `Sync` (the
//!   classic [`Socket`](crate::Socket) stays `!Sync`), and which has no
//!   multipart send (these types carry single-part messages).
//! - pyzmq's `send(data, routing_id=…)` / `send(data, group=…)` are
//!   [`send_to`](ThreadSafeSocket::send_to) and
//!   [`send_group`](ThreadSafeSocket::send_group).
//! - pyzmq has no async thread-safe sockets (its asyncio sockets need
//!   `ZMQ_FD`); zmqx drives them through a `zmq_poller`.

#[cfg(all(feature = "tokio", unix))]
mod asynchronous;
mod context;
mod monitor;
mod options;
mod poller;
pub(crate) mod thread_safe;

#[cfg(all(feature = "tokio", unix))]
pub use asynchronous::AsyncThreadSafeSocket;
pub use monitor::{
    EndpointSide, EventKindV2, MalformedEventV2, MonitorEventV2, MonitorV2, V2,
    parse_monitor_message_v2, recv_monitor_message_v2,
};
pub use poller::{PollerEvent, PollerEvents, PollerSocket, PollerTarget, ZmqPoller};
pub use thread_safe::ThreadSafeSocket;

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Whether the linked libzmq has the DRAFT API, asked once.
fn draft_available() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| crate::has("draft"))
}

/// `Ok` when `available`, else the [`Error::MissingCapability`] for `what`.
fn capability(available: bool, what: &str) -> Result<()> {
    if available {
        Ok(())
    } else {
        Err(Error::MissingCapability {
            what: what.to_string(),
            capability: "draft",
        })
    }
}

/// Fails with [`Error::MissingCapability`] when the linked libzmq was built
/// without the DRAFT API (`zmq_has("draft")` false), so that a DRAFT call
/// never reaches a libzmq that would answer a bare `EINVAL`.
pub(crate) fn require_draft(what: &str) -> Result<()> {
    capability(draft_available(), what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_draft_is_a_typed_error() {
        match capability(false, "ZMQ_SERVER sockets") {
            Err(Error::MissingCapability { what, capability }) => {
                assert_eq!(capability, "draft");
                assert!(what.contains("SERVER"));
            }
            other => panic!("expected MissingCapability, got {other:?}"),
        }
        assert!(capability(true, "x").is_ok());
    }

    #[test]
    fn vendored_draft_build_has_draft() {
        // The `draft` feature builds the vendored libzmq with the DRAFT API;
        // a system libzmq without it stops the build (zmq-sys/build).
        if cfg!(zmq_vendored) {
            assert!(draft_available());
            assert!(require_draft("x").is_ok());
        }
    }
}
