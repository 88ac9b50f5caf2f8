//! The error of [`zmqx::devices`](super): libzmq's errors, or a panic in
//! the device thread.

/// `Result<T, devices::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a [`Device`](super::Device) call can fail with.
///
/// ```
/// use zmqx::SocketType;
/// use zmqx::devices::{Device, Error, Kind, Side};
///
/// fn main() -> Result<(), Error> {
///     let mut dev = Device::new(Kind::Proxy, SocketType::Pull, SocketType::Push)?;
///     let e = dev.bind(Side::In, "tcp://nonsense").unwrap_err();
///     // libzmq's error, matchable through the context zmqx added.
///     assert!(matches!(e.zmq().map(zmqx::Error::root), Some(zmqx::Error::InvalidArgument)));
///     // A panic in a closure run in the device thread is caught.
///     let e = dev.configure(Side::In, |_| panic!("bug")).unwrap_err();
///     assert!(matches!(e, Error::Panicked { ref message } if message == "bug"));
///     Ok(())
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libzmq, or an argument zmqx checked (a bad endpoint, a side the
    /// device does not have, a call in the wrong state: [`zmqx::Error::InvalidInput`](crate::Error::InvalidInput)).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// The device thread panicked, or a [`configure`](super::Device::configure)
    /// closure run in it did. The panic was caught in that thread; its
    /// message is handed to the device's owner.
    #[error("a device thread panicked: {message}")]
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
            Error::Panicked { .. } => None,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            e @ Error::Panicked { .. } => std::io::Error::other(e),
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
        let io: std::io::Error = Error::Panicked {
            message: "boom".into(),
        }
        .into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
        assert_eq!(io.to_string(), "a device thread panicked: boom");
    }
}
