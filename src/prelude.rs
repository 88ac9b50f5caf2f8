//! The names most programs use, in one import: `use zmqx::prelude::*;`.
//!
//! [`Context`], [`Socket`], [`SocketType`], [`Message`], [`SendFlags`],
//! [`Poller`] and [`PollEvents`], [`Error`] and [`Result`], [`AsyncSocket`]
//! (feature `tokio`), and [`Duration`] (a re-export of
//! [`std::time::Duration`], as `tokio::time::Duration` is), since every
//! timeout option takes one. pyzmq needs none of this: `import zmq` is the
//! Python counterpart.
//!
//! ```
//! use zmqx::prelude::*;
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let pull = ctx.socket(SocketType::Pull)?;
//!     pull.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     let push = ctx.socket(SocketType::Push)?;
//!     push.connect(&pull.bind("tcp://127.0.0.1:*")?)?;
//!     push.send("hello")?;
//!     assert_eq!(pull.recv_string()?, "hello");
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]

pub use std::time::Duration;

#[cfg(all(feature = "tokio", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
pub use crate::AsyncSocket;
pub use crate::{
    Context, Error, Message, PollEvents, Poller, Result, SendFlags, Socket, SocketType,
};
