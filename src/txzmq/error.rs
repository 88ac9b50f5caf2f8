//! [`Error`]: what can go wrong in [`zmqx::txzmq`](crate::txzmq), wrapping
//! [`zmqx::Error`](crate::Error) for the socket's own errors.
#![forbid(unsafe_code)]

use std::time::Duration;

use super::wire::WireError;
use crate::Frames;

/// `Result<T, zmqx::txzmq::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of every txZMQ connection: a socket error
/// ([`Error::Zmq`], from libzmq or the rest of zmqx) or one of txZMQ's own
/// (framing, message ids, timeouts, panicking callbacks).
///
/// Convert to [`std::io::Error`] with `?` or `into()`; the kind follows the
/// variant (a socket error keeps the kind zmqx gives it).
///
/// ```
/// use zmqx::txzmq::{Error, Factory, PushConnection, Endpoint};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::txzmq::Result<()> {
/// let factory = Factory::new()?;
/// // No peer: the immediate push fails with libzmq's EAGAIN.
/// let push = PushConnection::new(&factory, Endpoint::bind("inproc://nobody"))?;
/// match push.push("job") {
///     Err(Error::Zmq(zmqx::Error::Again)) => {}
///     other => panic!("{other:?}"),
/// }
/// # factory.shutdown().await
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket or context error (libzmq's errno, a bad option, a closed
    /// connection: [`zmqx::Error::NotSocket`](crate::Error::NotSocket)
    /// once the connection is shut down).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// A received message that is not valid txZMQ framing
    /// ([`wire`](super::wire)): a published frame with no tag separator, a
    /// request without its delimiter, a reply whose delimiter is not
    /// empty… The message is handed back in `frames`; the connection goes
    /// on.
    #[error("malformed txZMQ message: {reason}")]
    Framing {
        /// What is wrong with it.
        reason: WireError,
        /// The message as received.
        frames: Frames,
    },
    /// A message to send that txZMQ's framing cannot carry: a tag with a
    /// NUL byte, an empty message id, a multipart message with no parts.
    /// Nothing was sent.
    #[error("cannot send this as a txZMQ message: {0}")]
    Unsendable(WireError),
    /// A reply server was asked to reply to a message id it has no pending
    /// request for (never received, already answered or forgotten; txZMQ
    /// raises `KeyError`).
    #[error("no pending txZMQ request has the message id {}", hex(id))]
    UnknownMessageId {
        /// The id asked for.
        id: Vec<u8>,
    },
    /// A request got no reply in time (txZMQ's `ZmqRequestTimeoutError`);
    /// with the waiting sends, also a request that could not leave in time.
    /// The request is forgotten: a late reply is dropped.
    #[error("txZMQ request {} got no reply within {timeout:?}", hex(id))]
    RequestTimeout {
        /// The request's message id.
        id: Vec<u8>,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// A connection's callback (`on_message`, `on_pull`, `on_request`)
    /// panicked. The panic was caught, the connection goes on, and this
    /// error is handed to the same callback as its next item.
    #[error("the txZMQ {callback} callback panicked: {message}")]
    CallbackPanicked {
        /// Which callback (`"on_message"`, `"on_pull"`, `"on_request"`).
        callback: &'static str,
        /// The panic message.
        message: String,
        /// For `on_request`: the message id of the request it was handling.
        /// That request is still pending: reply to it (with whatever your
        /// protocol says for a failure) or [forget](super::RepConnection::forget)
        /// it, else its client waits for its timeout.
        message_id: Option<Vec<u8>>,
    },
}

impl Error {
    /// For [`Error::Zmq`], what libzmq (or zmqx) reported, without the
    /// endpoint or option zmqx added ([`zmqx::Error::root`](crate::Error::root)):
    /// `matches!(e.zmq(), Some(zmqx::Error::AddressInUse))`.
    pub fn zmq(&self) -> Option<&crate::Error> {
        match self {
            Error::Zmq(e) => Some(e.root()),
            _ => None,
        }
    }
}

/// Lower-case hex of an id, for messages.
fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind as K;
        let kind = match e {
            Error::Zmq(inner) => return inner.into(),
            Error::Framing { .. } => K::InvalidData,
            Error::Unsendable(_) => K::InvalidInput,
            Error::UnknownMessageId { .. } => K::NotFound,
            Error::RequestTimeout { .. } => K::TimedOut,
            Error::CallbackPanicked { .. } => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds() {
        let io: std::io::Error = Error::Zmq(crate::Error::Again).into();
        assert_eq!(io.kind(), std::io::ErrorKind::WouldBlock);
        let io: std::io::Error = Error::RequestTimeout {
            id: vec![0xab],
            timeout: Duration::from_millis(5),
        }
        .into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        assert!(io.to_string().contains("ab"), "{io}");
        let io: std::io::Error = Error::UnknownMessageId { id: vec![1] }.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let io: std::io::Error = Error::Framing {
            reason: WireError::NoFrames,
            frames: Frames::default(),
        }
        .into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
        let io: std::io::Error = Error::Unsendable(WireError::NulInTag { offset: 0 }).into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    }

    #[test]
    fn send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<Error>();
    }
}
