//! # zmqx: ZeroMQ for Rust that simply works
//!
//! Safe, fast bindings over libzmq 4.3.5, with CURVE on out of the box (the
//! vendored build links libsodium), no hang on exit, and the batteries pyzmq
//! ships.
//!
//! ```
//! use zmqx::prelude::*;
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!
//!     // Request/reply over TCP on a port the OS picks.
//!     let server = ctx.socket(SocketType::Rep)?;
//!     let endpoint = server.bind("tcp://127.0.0.1:*")?; // the port the OS picked
//!     let client = ctx.socket(SocketType::Req)?;
//!     client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     client.connect(&endpoint)?;
//!
//!     client.send("hello")?;
//!     let request = server.recv_msg()?;
//!     server.send_multipart([&b"world"[..], &request[..]])?;
//!     let reply = client.recv_multipart()?;
//!     assert_eq!(reply[0], "world");
//!     assert_eq!(reply[1], "hello");
//!
//!     // CURVE: an encrypted, authenticated pair.
//!     let server_keys = zmqx::curve_keypair()?;
//!     let client_keys = zmqx::curve_keypair()?;
//!     let pull = ctx.socket(SocketType::Pull)?;
//!     pull.set_curve_server(true)?;
//!     pull.set_curve_secretkey(server_keys.secret.as_bytes())?;
//!     let endpoint = pull.bind("tcp://127.0.0.1:*")?;
//!     let push = ctx.socket(SocketType::Push)?;
//!     push.set_curve_serverkey(server_keys.public.to_z85())?;
//!     push.set_curve_publickey(client_keys.public.as_bytes())?;
//!     push.set_curve_secretkey(client_keys.secret.as_bytes())?;
//!     push.connect(&endpoint)?;
//!     push.send("secret")?;
//!     pull.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     assert_eq!(pull.recv_string()?, "secret");
//!     Ok(())
//! }
//! ```
//!
//! ## The pieces
//!
//! - [`Context`] (`zmq_ctx_*`): `Send + Sync`, cloneable; [`Context::instance`]
//!   is the process-wide one.
//! - [`Socket`] (`zmq_socket`): `Send`, not `Sync`; typed options generated
//!   from one table ([`SocketOption`]); sends take any [`Sendable`], receives
//!   return [`Message`]s without copying.
//! - [`Message`] (`zmq_msg_t`, pyzmq's `Frame`) and [`MessageTracker`].
//! - [`Poller`] and [`select`] (`zmq_poll`).
//! - [`z85`] and [`curve`]: Z85 text and CURVE keys.
//! - [`auth`] (security; pyzmq's `zmq.auth`): PLAIN and CURVE in a few
//!   calls ([`Socket::set_curve_server_keys`], [`Socket::set_curve_client`],
//!   [`Socket::set_plain_client`]); a ZAP authenticator with IP allow/deny
//!   lists, PLAIN passwords, CURVE keys from certificate directories or a
//!   [`CredentialsProvider`](auth::CredentialsProvider), and user ids,
//!   served by a [`ThreadAuthenticator`](auth::ThreadAuthenticator); and
//!   certificate files compatible with pyzmq and czmq
//!   ([`create_certificates`](auth::create_certificates),
//!   [`load_certificate`](auth::load_certificate)). Note that without a
//!   running authenticator libzmq accepts CURVE clients with any key.
//! - [`serialize`]: `send_json`/`recv_json`, `send_postcard`/`recv_postcard`
//!   (pyzmq's `send_pyobj`), custom [`Serializer`](serialize::Serializer)s,
//!   text [`Encoding`](serialize::Encoding)s, size limits for untrusted peers.
//! - [`monitor`]: socket events as typed [`MonitorEvent`](monitor::MonitorEvent)s
//!   ([`Socket::monitor_events`], [`parse_monitor_message`](monitor::parse_monitor_message)).
//! - [`asynchronous`] (feature `tokio`, on by default; Unix): [`AsyncSocket`]
//!   (pyzmq's `zmq.asyncio`) with `Send` cancel-safe futures, `Stream`/`Sink`
//!   and split halves; an async poller, awaitable trackers, and
//!   [`ZmqStream`](asynchronous::ZmqStream) callbacks.
//! - [`txzmq`] (feature `txzmq`; Unix): txZMQ's patterns on async sockets,
//!   wire-compatible with txZMQ 1.0: a [`Factory`](txzmq::Factory) that
//!   shuts all its connections down, PUB/SUB with tags, PUSH/PULL, a
//!   request client with timeouts and cancellation, a reply server, raw
//!   ROUTER/DEALER.
//! - [`ssh`]: SSH tunnels to sockets behind an SSH server (`tunnel_connection`,
//!   `open_tunnel`), through the system `ssh` or, with the `russh` feature,
//!   in process (pyzmq's `zmq.ssh`).
//! - [`proxy`](proxy()) (`zmq_proxy`), [`proxy_steerable`] (PAUSE/RESUME/TERMINATE/STATISTICS
//!   as documented, in Rust), [`monitored_queue`]; a background
//!   [`Device`](devices::Device) (pyzmq's `ThreadDevice`, `ThreadProxy`,
//!   `ThreadProxySteerable` and `ThreadMonitoredQueue` in one type).
//! - `log` (feature `log`): logging over PUB, a `log::Log` `PubHandler` and
//!   a `TopicLogger` (pyzmq's `zmq.log.handlers`); the `zmqx` command-line
//!   tool (crate `zmqx-cli`: `cargo install zmqx-cli`) has `logwatch`,
//!   `keygen`, `proxy`, `device` and `monitor` subcommands.
//! - `draft` (feature `draft`): libzmq's DRAFT API: thread-safe, `Sync`
//!   SERVER/CLIENT/RADIO/DISH/GATHER/SCATTER/PEER/CHANNEL sockets
//!   (`ThreadSafeSocket`, `Context::thread_safe_socket`) with routing ids,
//!   groups and `connect_peer`; `ZmqPoller` (`zmq_poller_*`); version-2
//!   monitor events; `AsyncThreadSafeSocket` on tokio.
//! - [`patterns`]: the zguide's reliability patterns and discovery.
//! - [`prelude`]: the names most programs use, in one import.
//! - [`Error`]: libzmq's errors, naming the endpoint or option that failed;
//!   add-ons ([`auth`], `ssh`, `txzmq`, [`devices`]) have their own error
//!   types wrapping it. "Would block" is `Ok(None)` (or `Ok(false)`) on
//!   `try_*` calls.
//!
//! ## Linger: zmqx never hangs on exit unless asked
//!
//! libzmq's default linger is infinite, so a program with unsent messages for
//! an absent peer hangs forever at exit. zmqx gives every socket a linger of
//! [`DEFAULT_LINGER`] (one second) instead; set it per context
//! ([`Context::set_default_linger`]) or per socket ([`Socket::set_linger`]),
//! `None` being libzmq's infinite wait.
//!
//! ## Differences from pyzmq
//!
//! - No pickle: [`Socket::send_postcard`] / [`Socket::recv_postcard`] carry any
//!   serde type in a compact binary format instead (see [`serialize`]).
//! - Sockets are closed by dropping them; use-after-close does not compile.
//! - [`Context::destroy`] cannot close sockets owned by other threads (Rust
//!   ownership); it shuts the context down so their owners see
//!   [`Error::ContextTerminated`] and drop them.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(all(feature = "tokio", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
pub mod asynchronous;
pub mod auth;
pub mod constants;
mod context;
pub mod curve;
pub mod devices;
#[cfg(feature = "draft")]
#[cfg_attr(docsrs, doc(cfg(feature = "draft")))]
pub mod draft;
mod endpoint;
mod error;
mod fdlimit;
mod functions;
mod hardening;
#[cfg(feature = "log")]
#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
pub mod log;
mod message;
pub mod monitor;
pub mod options;
pub mod patterns;
mod poll;
pub mod prelude;
pub mod proxy;
pub mod serialize;
mod socket;
#[cfg(feature = "ssh")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssh")))]
pub mod ssh;
mod tracker;
#[cfg(all(feature = "txzmq", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "txzmq", unix))))]
pub mod txzmq;
pub mod z85;

pub use zmq_sys as sys;

#[cfg(all(feature = "tokio", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
pub use asynchronous::{AsyncReceiver, AsyncSender, AsyncSocket};

pub use constants::{
    ContextOption, DeviceType, Event, GssapiNameType, Mechanism, MessageOption, NormMode,
    PollEvents, ReconnectStop, RouterNotify, SendFlags, SocketType,
};
pub use context::{Context, DEFAULT_LINGER};
pub use curve::{CurveKey, CurveKeyPair, KeyError, KeyFormat};
#[cfg(feature = "draft")]
#[cfg_attr(docsrs, doc(cfg(feature = "draft")))]
pub use draft::{ThreadSafeSocket, ZmqPoller};
pub use endpoint::IPC_PATH_MAX_LEN;
pub use error::{Error, Result, Version, strerror};
pub use functions::{CRATE_VERSION, curve_keypair, curve_public, has, version, version_info};
pub use hardening::Hardening;
pub use message::{DEFAULT_COPY_THRESHOLD, Frames, Message, copy_threshold, set_copy_threshold};
pub use options::{OptionValue, SocketOption};
pub use poll::{PollTarget, Poller, RawFd, Selected, select};
pub use proxy::{monitored_queue, proxy, proxy_steerable};
pub use socket::{Bound, Connected, Sendable, Socket};
pub use tracker::MessageTracker;
pub use z85::Z85Error;
