//! The error of [`zmqx::patterns::mdp`](super): libzmq's errors, a request
//! that got no reply, or a panic in the broker thread.

/// `Result<T, mdp::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a Majordomo call can fail with.
///
/// ```
/// use zmqx::patterns::mdp::Error;
///
/// let e = Error::Timeout { service: "echo".into(), attempts: 3 };
/// assert_eq!(e.to_string(), "no reply from service \"echo\" after 3 attempts");
/// assert!(e.zmq().is_none());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libzmq, or an argument zmqx checked (an empty service name, a bad
    /// endpoint: [`zmqx::Error::InvalidInput`](crate::Error::InvalidInput)).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// A [`Client`](super::Client) request got no FINAL reply within its
    /// timeout on any of its attempts (each attempt on a new socket).
    #[error("no reply from service {service:?} after {attempts} attempts")]
    Timeout {
        /// The service asked (lossy UTF-8).
        service: String,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// The broker thread panicked; the panic was caught there.
    #[error("the broker thread panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
}

impl Error {
    /// The libzmq (or argument) error, if this is one.
    pub fn zmq(&self) -> Option<&crate::Error> {
        match self {
            Error::Zmq(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            e @ Error::Timeout { .. } => std::io::Error::new(std::io::ErrorKind::TimedOut, e),
            e => std::io::Error::other(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_io_errors() {
        let io: std::io::Error = Error::Zmq(crate::Error::AddressInUse).into();
        assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
        let io: std::io::Error = Error::Timeout {
            service: "s".into(),
            attempts: 1,
        }
        .into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        let io: std::io::Error = Error::Panicked {
            message: "boom".into(),
        }
        .into();
        assert_eq!(io.to_string(), "the broker thread panicked: boom");
    }
}
