//! The error type of [`zmqx::ssh`](crate::ssh).
//!
//! SSH tunnels fail in their own ways (a refused login, a changed host key,
//! a server that will not forward), so they have their own error, as
//! openssl's `ssl::Error` wraps its core `ErrorStack`: an
//! [`Error::Tunnel`] with an [`ErrorKind`] and the SSH client's own words,
//! or an [`Error::Zmq`] wrapping the [`zmqx::Error`](crate::Error) of a
//! ZeroMQ call (connecting the socket to the tunnel).

#![forbid(unsafe_code)]

use std::fmt;

/// `Result<T, zmqx::ssh::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with an SSH tunnel (see [`Error::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server refused every credential offered (pyzmq: a password
    /// prompt, or paramiko's `AuthenticationException`).
    Auth,
    /// The SSH server could not be reached: connection refused, no route,
    /// unknown host name.
    Unreachable,
    /// The `ssh` program was not found (or is not executable).
    MissingBinary,
    /// The tunnel was not up within the timeout.
    Timeout,
    /// The server's host key is unknown (with
    /// [`HostKeyPolicy::Strict`](super::HostKeyPolicy::Strict)) or differs
    /// from the one recorded.
    HostKey,
    /// The local port of the tunnel is taken by another program (given with
    /// [`SshOptions::local_port`](super::SshOptions::local_port); a port
    /// zmqx picks itself is picked again).
    LocalPortInUse,
    /// The server refused to forward (OpenSSH's `AllowTcpForwarding no` or
    /// `PermitOpen`: "administratively prohibited").
    ForwardingDenied,
    /// The server could not connect to the target: its name does not
    /// resolve there, nothing listens on it, or no route leads to it.
    TargetUnreachable,
    /// The SSH session failed for another reason (protocol error, the server
    /// closed the connection…).
    Protocol,
    /// A local I/O error (spawning the client, binding the local port…).
    Io,
    /// What was asked is not available with this backend or build (a
    /// password with the OpenSSH backend).
    Unsupported,
    /// A server or tunnel address that cannot be parsed.
    InvalidInput,
    /// A ZeroMQ call failed: the error is an [`Error::Zmq`].
    Zmq,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Unreachable => "server unreachable",
            ErrorKind::MissingBinary => "ssh client not found",
            ErrorKind::Timeout => "timed out",
            ErrorKind::HostKey => "host key not trusted",
            ErrorKind::LocalPortInUse => "local port in use",
            ErrorKind::ForwardingDenied => "forwarding denied by the server",
            ErrorKind::TargetUnreachable => "target unreachable from the server",
            ErrorKind::Protocol => "session failed",
            ErrorKind::Io => "I/O error",
            ErrorKind::Unsupported => "not supported",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Zmq => "zmq error",
        })
    }
}

/// Why an SSH tunnel could not be opened or closed (pyzmq raises
/// `SSHException`, `RuntimeError` or a paramiko error).
///
/// Match on [`Error::kind`]; the `Display` text says what failed, with the
/// SSH client's or server's own message where there is one. Converts into
/// [`std::io::Error`] with `?`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tunnel failed.
    #[error("ssh: {kind}: {message}")]
    Tunnel {
        /// What went wrong.
        kind: ErrorKind,
        /// The details, with the SSH client's own message where it gave one.
        message: String,
    },
    /// A ZeroMQ call failed (connecting the socket to the tunnel's local
    /// end, in [`tunnel_connection`](super::tunnel_connection)).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
}

impl Error {
    /// Builds an [`Error::Tunnel`].
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::Tunnel {
            kind,
            message: message.into(),
        }
    }

    /// An [`ErrorKind::InvalidInput`] naming what was bad.
    pub(crate) fn invalid(what: &str, value: &str, reason: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{what} {value:?}: {reason}"),
        )
    }

    /// What went wrong; [`ErrorKind::Zmq`] for an [`Error::Zmq`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Tunnel { kind, .. } => *kind,
            Error::Zmq(_) => ErrorKind::Zmq,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind as K;
        let kind = match e {
            Error::Zmq(inner) => return inner.into(),
            Error::Tunnel { kind, .. } => match kind {
                ErrorKind::Auth | ErrorKind::HostKey | ErrorKind::ForwardingDenied => {
                    K::PermissionDenied
                }
                ErrorKind::Unreachable => K::ConnectionRefused,
                ErrorKind::TargetUnreachable => K::HostUnreachable,
                ErrorKind::MissingBinary => K::NotFound,
                ErrorKind::Timeout => K::TimedOut,
                ErrorKind::LocalPortInUse => K::AddrInUse,
                ErrorKind::Unsupported => K::Unsupported,
                ErrorKind::InvalidInput => K::InvalidInput,
                _ => K::Other,
            },
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_io_errors() {
        let e = Error::new(ErrorKind::LocalPortInUse, "port 5555");
        assert_eq!(e.kind(), ErrorKind::LocalPortInUse);
        assert_eq!(e.to_string(), "ssh: local port in use: port 5555");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
        assert!(io.to_string().contains("port 5555"), "{io}");

        let io: std::io::Error = Error::new(ErrorKind::Auth, "no").into();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        let io: std::io::Error = Error::new(ErrorKind::Timeout, "slow").into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

        // A wrapped zmqx error keeps its own io kind.
        let e = Error::from(crate::Error::Again);
        assert_eq!(e.kind(), ErrorKind::Zmq);
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::WouldBlock);
    }

    #[test]
    fn error_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}
