//! The one error type of zmqx.
//!
//! Every failing libzmq call is turned into an [`Error`] right after it
//! returns, with `zmq_errno()` read at once. Errno values libzmq documents get
//! their own variant; anything else is kept as [`Error::Other`], never a panic.

use std::ffi::CStr;
use std::fmt;

/// `Result<T, zmqx::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A libzmq version as `(major, minor, patch)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub i32, pub i32, pub i32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Everything that can go wrong in zmqx (pyzmq's `ZMQError` family).
///
/// The errno-based variants carry libzmq's message (`zmq_strerror`) as their
/// `Display`. Convert to [`std::io::Error`] with `?` or `into()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `EAGAIN`: the operation would block (non-blocking call, or a send/receive
    /// timeout expired). Non-blocking `try_*` methods report this as `Ok(None)`.
    #[error("{}", strerror(libc::EAGAIN))]
    Again,
    /// `EINTR`: interrupted by a signal. Blocking calls of zmqx retry on it;
    /// you only see it from `poll` and where a retry would be wrong.
    #[error("{}", strerror(libc::EINTR))]
    Interrupted,
    /// `ETERM`: the context was terminated (or shut down).
    #[error("{}", strerror(zmq_sys::ETERM))]
    ContextTerminated,
    /// `EFSM`: the operation is not valid in the socket's current state
    /// (for example two sends in a row on REQ).
    #[error("{}", strerror(zmq_sys::EFSM))]
    InvalidState,
    /// `ENOCOMPATPROTO`: the transport is not compatible with the socket type.
    #[error("{}", strerror(zmq_sys::ENOCOMPATPROTO))]
    IncompatibleProtocol,
    /// `EMTHREAD`: no I/O thread is available.
    #[error("{}", strerror(zmq_sys::EMTHREAD))]
    NoIoThread,
    /// `EHOSTUNREACH`: the message cannot be routed (ROUTER_MANDATORY, or a
    /// peer that is gone).
    #[error("{}", strerror(libc::EHOSTUNREACH))]
    HostUnreachable,
    /// `EINVAL`: an invalid argument (bad endpoint syntax, bad option value…).
    #[error("{}", strerror(libc::EINVAL))]
    InvalidArgument,
    /// `ENOTSUP`: the operation is not supported by this socket type or build.
    #[error("{}", strerror(libc::ENOTSUP))]
    NotSupported,
    /// `EPROTONOSUPPORT`: the transport protocol is not supported.
    #[error("{}", strerror(libc::EPROTONOSUPPORT))]
    ProtocolNotSupported,
    /// `EADDRINUSE`: the address is already in use.
    #[error("{}", strerror(libc::EADDRINUSE))]
    AddressInUse,
    /// `EADDRNOTAVAIL`: the address is not local.
    #[error("{}", strerror(libc::EADDRNOTAVAIL))]
    AddressNotAvailable,
    /// `ENODEV`: the named interface does not exist.
    #[error("{}", strerror(libc::ENODEV))]
    NoDevice,
    /// `ENOENT`: the endpoint was not bound or connected (unbind/disconnect).
    #[error("{}", strerror(libc::ENOENT))]
    NotFound,
    /// `ENOTSOCK`: the socket is invalid (closed).
    #[error("{}", strerror(libc::ENOTSOCK))]
    NotSocket,
    /// `EMFILE`: too many open sockets or files.
    #[error("{}", strerror(libc::EMFILE))]
    TooManyOpenFiles,
    /// `ENOMEM`: out of memory.
    #[error("{}", strerror(libc::ENOMEM))]
    OutOfMemory,
    /// `EFAULT`: libzmq was handed an invalid object.
    #[error("{}", strerror(libc::EFAULT))]
    Fault,
    /// The process has fewer free file descriptors than a call needs, found
    /// by zmqx before calling libzmq, which would otherwise abort the process
    /// on some of these calls (an assertion in `epoll_create` or
    /// `getifaddrs`). Its [`errno`](Error::errno) is `EMFILE`, like
    /// [`TooManyOpenFiles`](Error::TooManyOpenFiles).
    #[error(
        "{what} needs {needed} free file descriptors, but the process is at its limit of {limit} open files (RLIMIT_NOFILE): close some or raise the limit"
    )]
    FdLimit {
        /// The call that was refused (`"bind tcp://127.0.0.1:*"`…).
        what: String,
        /// How many free descriptors it needs.
        needed: usize,
        /// The process's soft `RLIMIT_NOFILE`.
        limit: u64,
    },
    /// An `ipc://` path longer than [`IPC_PATH_MAX_LEN`](crate::IPC_PATH_MAX_LEN),
    /// refused by zmqx before libzmq (which only says "File name too
    /// long"). Its [`errno`](Error::errno) is `ENAMETOOLONG`, as pyzmq's.
    #[error(
        "ipc path {path:?} is {} bytes, longer than IPC_PATH_MAX_LEN ({limit} bytes: the size of sockaddr_un.sun_path less its NUL)",
        path.len()
    )]
    IpcPathTooLong {
        /// The path (the endpoint without `ipc://`).
        path: String,
        /// The limit, [`IPC_PATH_MAX_LEN`](crate::IPC_PATH_MAX_LEN).
        limit: usize,
    },
    /// Any other errno value, kept as is.
    #[error("{} (errno {})", strerror(*.0), .0)]
    Other(i32),

    /// A libzmq call on an endpoint failed (`bind`, `connect`, `unbind`,
    /// `disconnect`, `monitor`): what libzmq reported, with the endpoint, as
    /// pyzmq's `Address already in use (addr='tcp://127.0.0.1:5599')`.
    /// Match on [`Error::root`] to see the libzmq error whatever the context.
    #[error("{cause} (addr={endpoint:?})")]
    AtEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What libzmq reported.
        cause: Box<Error>,
    },
    /// A `zmq_setsockopt` / `zmq_getsockopt` call failed: what libzmq
    /// reported, with the option's C name (`ZMQ_LINGER`…). Match on
    /// [`Error::root`] to see the libzmq error whatever the context.
    #[error("{cause} (option {option})")]
    AtOption {
        /// The option's C name, or its number when zmqx does not know it.
        option: String,
        /// What libzmq reported.
        cause: Box<Error>,
    },

    /// A [`MessageTracker`](crate::MessageTracker) wait timed out before libzmq
    /// released the tracked messages (pyzmq's `NotDone`).
    #[error("the tracked messages are still in use by libzmq")]
    NotDone,
    /// The linked libzmq is too old for what was asked.
    #[error("{what} needs libzmq {required}, but the linked libzmq is {linked}")]
    Version {
        /// The feature, option or call that was asked for.
        what: String,
        /// The oldest libzmq version that has it.
        required: Version,
        /// The version actually linked.
        linked: Version,
    },
    /// The linked libzmq was built without a capability (`zmq_has`).
    #[error("{what} needs libzmq built with {capability:?}, which the linked libzmq lacks")]
    MissingCapability {
        /// The feature, option or call that was asked for.
        what: String,
        /// The `zmq_has` capability name (for example `"curve"`, `"draft"`).
        capability: &'static str,
    },
    /// `bind_to_random_port` found no free port (pyzmq's `ZMQBindError`).
    #[error("could not bind {addr} to a port in {min}..{max} after {tries} tries")]
    Bind {
        /// The address without port.
        addr: String,
        /// Lowest port tried.
        min: u16,
        /// One past the highest port tried.
        max: u16,
        /// How many ports were tried.
        tries: u32,
    },
    /// An argument zmqx checked before calling libzmq: an interior NUL, a value
    /// out of range, an option that does not apply…
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was wrong (an endpoint, an option…).
        what: String,
        /// Why.
        reason: String,
    },
    /// A string receive got bytes that are not UTF-8. The bytes are handed back:
    /// nothing is lost.
    #[error("received a message that is not valid UTF-8: {source}")]
    Utf8 {
        /// The message as received.
        bytes: Vec<u8>,
        /// Where the UTF-8 decoding failed.
        source: std::str::Utf8Error,
    },
    /// A bad CURVE key or Z85 text.
    #[error(transparent)]
    Key(#[from] crate::curve::KeyError),
    /// Bad Z85 text or a length that Z85 cannot encode.
    #[error(transparent)]
    Z85(#[from] crate::z85::Z85Error),
    /// A value could not be serialized for sending (JSON, postcard, a
    /// [`Serializer`](crate::serialize::Serializer), a string encoding).
    /// Nothing was sent.
    #[error("could not encode a message as {format}: {source}")]
    Serialize {
        /// The format or encoding (`"json"`, `"postcard"`, `"latin-1"`…).
        format: &'static str,
        /// What the encoder reported.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A received message could not be decoded (malformed JSON, postcard, a
    /// custom deserializer's error, bytes invalid in a text encoding). The
    /// message is handed back in `frames`: nothing is lost.
    #[error("could not decode a {len}-part message as {format}: {source}", len = frames.len())]
    Deserialize {
        /// The format or encoding that was expected.
        format: &'static str,
        /// The message as received.
        frames: crate::Frames,
        /// What the decoder reported.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A received message was larger than the limit given for decoding it
    /// (`recv_json_limited` and friends). It was not decoded; it is handed
    /// back in `frames`.
    #[error("received a {size}-byte message, over the {limit}-byte limit for decoding")]
    TooLarge {
        /// The message's size in bytes (all parts together).
        size: usize,
        /// The limit it broke.
        limit: usize,
        /// The message as received.
        frames: crate::Frames,
    },
    /// A socket monitor message that is not a well-formed event
    /// ([`parse_monitor_message`](crate::monitor::parse_monitor_message)).
    /// The frames are handed back.
    #[error("malformed socket monitor event: {reason}")]
    MonitorEvent {
        /// What is wrong with it.
        reason: MalformedEvent,
        /// The message as received.
        frames: crate::Frames,
    },
    /// The async API cannot drive this socket: the thread-safe DRAFT socket
    /// types (SERVER, CLIENT, RADIO, DISH…) have no `ZMQ_FD`.
    #[error(
        "{socket_type} sockets have no ZMQ_FD (thread-safe DRAFT type), so they cannot be async"
    )]
    AsyncUnsupported {
        /// The socket type.
        socket_type: String,
    },
    /// The tokio reactor could not watch a socket: no runtime in this
    /// context, a runtime shutting down, or an fd epoll refuses.
    #[error("tokio reactor: {0}")]
    Reactor(#[source] std::io::Error),
    /// A [`ZmqStream`](crate::asynchronous::ZmqStream) callback panicked;
    /// the panic was caught and the stream goes on.
    #[error("the {callback} callback panicked: {message}")]
    CallbackPanicked {
        /// Which callback (`"on_recv"`, `"on_recv_async"`, `"on_send"`,
        /// `"send completion"`).
        callback: &'static str,
        /// The panic message.
        message: String,
    },
    /// A thread-safe socket was asked for a socket type that is not one of
    /// libzmq's thread-safe DRAFT types
    /// ([`Context::thread_safe_socket`](crate::Context::thread_safe_socket)).
    #[cfg(feature = "draft")]
    #[error("{socket_type} sockets are not thread-safe: create them with Context::socket")]
    NotThreadSafe {
        /// The socket type asked for.
        socket_type: String,
    },
    /// A version-2 socket monitor message that is not a well-formed event
    /// ([`parse_monitor_message_v2`](crate::draft::parse_monitor_message_v2)).
    /// The frames are handed back.
    #[cfg(feature = "draft")]
    #[error("malformed socket monitor event (version 2): {reason}")]
    MonitorEventV2 {
        /// What is wrong with it.
        reason: MalformedEventV2,
        /// The message as received.
        frames: crate::Frames,
    },
}

impl Error {
    /// Map an errno value (as from `zmq_errno()`) to an [`Error`].
    pub fn from_errno(errno: i32) -> Error {
        match errno {
            libc::EAGAIN => Error::Again,
            libc::EINTR => Error::Interrupted,
            zmq_sys::ETERM => Error::ContextTerminated,
            zmq_sys::EFSM => Error::InvalidState,
            zmq_sys::ENOCOMPATPROTO => Error::IncompatibleProtocol,
            zmq_sys::EMTHREAD => Error::NoIoThread,
            libc::EHOSTUNREACH => Error::HostUnreachable,
            libc::EINVAL => Error::InvalidArgument,
            libc::ENOTSUP => Error::NotSupported,
            libc::EPROTONOSUPPORT => Error::ProtocolNotSupported,
            libc::EADDRINUSE => Error::AddressInUse,
            libc::EADDRNOTAVAIL => Error::AddressNotAvailable,
            libc::ENODEV => Error::NoDevice,
            libc::ENOENT => Error::NotFound,
            libc::ENOTSOCK => Error::NotSocket,
            libc::EMFILE => Error::TooManyOpenFiles,
            libc::ENOMEM => Error::OutOfMemory,
            libc::EFAULT => Error::Fault,
            other => Error::Other(other),
        }
    }

    /// The error without the context zmqx added to it: for
    /// [`Error::AtEndpoint`] and [`Error::AtOption`], what libzmq reported;
    /// any other error is its own root.
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// let ctx = zmqx::Context::new();
    /// let a = ctx.socket(zmqx::SocketType::Pull)?;
    /// a.bind("tcp://127.0.0.1:*")?;
    /// let b = ctx.socket(zmqx::SocketType::Pull)?;
    /// let e = b.bind(&a.last_endpoint()?).unwrap_err();
    /// assert!(matches!(e.root(), zmqx::Error::AddressInUse));
    /// assert!(e.to_string().contains("addr=\"tcp://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn root(&self) -> &Error {
        match self {
            Error::AtEndpoint { cause, .. } | Error::AtOption { cause, .. } => cause.root(),
            other => other,
        }
    }

    /// Adds the endpoint to an error libzmq reported.
    pub(crate) fn at_endpoint(self, endpoint: &str) -> Error {
        match self {
            e @ (Error::InvalidInput { .. } | Error::AtEndpoint { .. }) => e,
            e => Error::AtEndpoint {
                endpoint: endpoint.to_string(),
                cause: Box::new(e),
            },
        }
    }

    /// Adds the option's name to an error libzmq reported.
    pub(crate) fn at_option(self, option: impl FnOnce() -> String) -> Error {
        match self {
            e @ (Error::InvalidInput { .. }
            | Error::AtOption { .. }
            | Error::Version { .. }
            | Error::MissingCapability { .. }) => e,
            e => Error::AtOption {
                option: option(),
                cause: Box::new(e),
            },
        }
    }

    /// The errno value behind this error, for the errno-based variants
    /// (looking through [`Error::AtEndpoint`] and [`Error::AtOption`]).
    pub fn errno(&self) -> Option<i32> {
        Some(match self.root() {
            Error::Again => libc::EAGAIN,
            Error::Interrupted => libc::EINTR,
            Error::ContextTerminated => zmq_sys::ETERM,
            Error::InvalidState => zmq_sys::EFSM,
            Error::IncompatibleProtocol => zmq_sys::ENOCOMPATPROTO,
            Error::NoIoThread => zmq_sys::EMTHREAD,
            Error::HostUnreachable => libc::EHOSTUNREACH,
            Error::InvalidArgument => libc::EINVAL,
            Error::NotSupported => libc::ENOTSUP,
            Error::ProtocolNotSupported => libc::EPROTONOSUPPORT,
            Error::AddressInUse => libc::EADDRINUSE,
            Error::AddressNotAvailable => libc::EADDRNOTAVAIL,
            Error::NoDevice => libc::ENODEV,
            Error::NotFound => libc::ENOENT,
            Error::NotSocket => libc::ENOTSOCK,
            Error::TooManyOpenFiles => libc::EMFILE,
            Error::OutOfMemory => libc::ENOMEM,
            Error::Fault => libc::EFAULT,
            Error::Other(e) => *e,
            Error::FdLimit { .. } => libc::EMFILE,
            Error::IpcPathTooLong { .. } => libc::ENAMETOOLONG,
            _ => return None,
        })
    }

    /// Builds an [`Error::InvalidInput`].
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidInput {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// The error libzmq reported for the call that just failed.
    #[inline]
    pub(crate) fn last() -> Error {
        Error::from_errno(errno())
    }
}

/// libzmq's message for an errno value (`zmq_strerror`). Never fails: unknown
/// values get libc's "Unknown error N".
pub fn strerror(errno: i32) -> String {
    // SAFETY: zmq_strerror returns a pointer to a static (or libc-owned,
    // thread-local) NUL-terminated string for any input.
    let ptr = unsafe { zmq_sys::zmq_strerror(errno) };
    if ptr.is_null() {
        return format!("Unknown error {errno}");
    }
    // SAFETY: non-null and NUL-terminated as above; copied out at once.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// The errno of the last failed libzmq call on this thread (`zmq_errno`).
#[inline]
pub(crate) fn errno() -> i32 {
    // SAFETY: zmq_errno only reads the calling thread's errno.
    unsafe { zmq_sys::zmq_errno() }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind as K;
        let kind = match e.root() {
            Error::Again => K::WouldBlock,
            Error::Interrupted => K::Interrupted,
            Error::InvalidArgument
            | Error::InvalidInput { .. }
            | Error::IpcPathTooLong { .. }
            | Error::Key(_)
            | Error::Z85(_) => K::InvalidInput,
            Error::Utf8 { .. }
            | Error::Deserialize { .. }
            | Error::TooLarge { .. }
            | Error::MonitorEvent { .. } => K::InvalidData,
            Error::Serialize { .. } => K::InvalidInput,
            Error::NotSupported | Error::ProtocolNotSupported | Error::IncompatibleProtocol => {
                K::Unsupported
            }
            Error::AddressInUse | Error::Bind { .. } => K::AddrInUse,
            Error::AddressNotAvailable => K::AddrNotAvailable,
            Error::NotFound => K::NotFound,
            Error::OutOfMemory => K::OutOfMemory,
            Error::NotDone => K::TimedOut,
            Error::AsyncUnsupported { .. } => K::Unsupported,
            #[cfg(feature = "draft")]
            Error::NotThreadSafe { .. } => K::Unsupported,
            #[cfg(feature = "draft")]
            Error::MonitorEventV2 { .. } => K::InvalidData,
            Error::HostUnreachable => K::HostUnreachable,
            _ => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// The text of a caught panic's payload (for the errors that report a
/// panic in a callback or a background thread).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Turn a libzmq return code into a `Result`, reading errno at once on failure.
///
/// libzmq reports failure with `-1` and nothing else: any other value,
/// negative ones included, is a result (a negative thread name prefix, a
/// scheduling policy), never an error with a stale errno.
#[inline(always)]
pub(crate) fn check(rc: i32) -> Result<i32> {
    if rc != -1 { Ok(rc) } else { Err(Error::last()) }
}

// The reasons inside `Error::MonitorEvent` and `Error::MonitorEventV2`,
// published as `zmqx::monitor::MalformedEvent` and
// `zmqx::draft::{MalformedEventV2, EndpointSide}`. They live here so that
// this file imports nothing of the modules that return an `Error`.

/// What is wrong with a malformed monitor message (inside
/// [`Error::MonitorEvent`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedEvent {
    /// A version-1 event has exactly two frames.
    #[error("expected 2 frames, got {0}")]
    FrameCount(usize),
    /// The first frame holds a 16-bit id and a 32-bit value: 6 bytes.
    #[error("expected a 6-byte event frame, got {0} bytes")]
    EventFrameSize(usize),
    /// The endpoint frame is not UTF-8.
    #[error("the endpoint is not UTF-8: {0}")]
    EndpointNotUtf8(std::str::Utf8Error),
}

/// Which endpoint frame of a version-2 event.
#[cfg(feature = "draft")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointSide {
    /// The local endpoint (second-to-last frame).
    Local,
    /// The remote endpoint (last frame).
    Remote,
}

/// What is wrong with a malformed version-2 monitor message (inside
/// [`Error::MonitorEventV2`]).
#[cfg(feature = "draft")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedEventV2 {
    /// An event has at least four frames: id, count, endpoints.
    #[error("expected at least 4 frames, got {0}")]
    TooFewFrames(usize),
    /// The id, the count and every value are 8-byte numbers.
    #[error("frame {frame} should be an 8-byte number, but has {len} bytes")]
    NumberSize {
        /// The frame's index (0-based).
        frame: usize,
        /// Its length.
        len: usize,
    },
    /// The declared number of values does not match the frames.
    #[error("the event declares {declared} values but has {present} value frames")]
    ValueCount {
        /// The number in the second frame.
        declared: u64,
        /// The frames between the count and the endpoints.
        present: usize,
    },
    /// An endpoint frame is not UTF-8.
    #[error("the {side:?} endpoint is not UTF-8: {source}")]
    EndpointNotUtf8 {
        /// Which endpoint.
        side: EndpointSide,
        /// Where decoding failed.
        source: std::str::Utf8Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_text() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&7u8), "a panic without a message");
    }

    #[test]
    fn errno_round_trip() {
        for e in [
            libc::EAGAIN,
            libc::EINTR,
            zmq_sys::ETERM,
            zmq_sys::EFSM,
            zmq_sys::ENOCOMPATPROTO,
            zmq_sys::EMTHREAD,
            libc::EHOSTUNREACH,
            libc::EINVAL,
            libc::ENOTSUP,
            libc::ENOENT,
            12345,
            -7,
        ] {
            assert_eq!(Error::from_errno(e).errno(), Some(e));
        }
    }

    #[test]
    fn unknown_errno_has_a_message() {
        let e = Error::from_errno(98765);
        assert!(matches!(e, Error::Other(98765)));
        assert!(e.to_string().contains("98765"));
    }

    #[test]
    fn display_uses_zmq_strerror() {
        assert_eq!(
            Error::ContextTerminated.to_string(),
            strerror(zmq_sys::ETERM)
        );
        assert!(
            Error::InvalidState
                .to_string()
                .to_lowercase()
                .contains("state")
        );
    }

    #[test]
    fn into_io_error() {
        let io: std::io::Error = Error::Again.into();
        assert_eq!(io.kind(), std::io::ErrorKind::WouldBlock);
        let io: std::io::Error = Error::Interrupted.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Interrupted);
    }

    #[test]
    fn error_is_send_and_sync() {
        // Error::Deserialize and friends carry received frames (`Frames`);
        // they must not make Error lose Sync, which io::Error needs.
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
        let io: std::io::Error = Error::Deserialize {
            format: "json",
            frames: crate::Message::from("{").into(),
            source: "eof".into(),
        }
        .into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    }
}
