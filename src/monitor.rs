//! Socket monitoring: what happens on a socket's connections, as typed
//! events (`zmq_socket_monitor`; pyzmq's `get_monitor_socket` and
//! `zmq.utils.monitor`).
//!
//! ```
//! use std::time::Duration;
//! use zmqx::monitor::EventKind;
//! use zmqx::{Context, Event, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let server = ctx.socket(SocketType::Rep)?;
//!     let mut events = server.monitor_events(Event::ALL)?;
//!     server.bind("tcp://127.0.0.1:*")?;
//!
//!     let client = ctx.socket(SocketType::Req)?;
//!     client.connect(&server.last_endpoint()?)?;
//!
//!     let timeout = Some(Duration::from_secs(5));
//!     let listening = events.next_event(timeout)?.expect("an event");
//!     assert_eq!(listening.kind, EventKind::Listening);
//!     assert_eq!(listening.endpoint, server.last_endpoint()?);
//!     // Skips ACCEPTED on the way.
//!     let ok = events.wait_for(EventKind::HandshakeSucceeded, timeout)?;
//!     assert!(ok.is_some());
//!
//!     server.disable_monitor()?;
//!     let rest: Vec<_> = events.by_ref().collect::<zmqx::Result<_>>()?;
//!     assert_eq!(rest.last().map(|e| e.kind), Some(EventKind::MonitorStopped));
//!     Ok(())
//! }
//! ```
//!
//! ## How it works
//!
//! [`Socket::monitor`] asks libzmq to publish the socket's events on an
//! internal PAIR socket bound at an `inproc://` endpoint; a PAIR socket
//! connected there receives each event as two frames (the version-1 layout,
//! which [`parse_monitor_message`] decodes). [`Socket::monitor_events`]
//! does all of this and returns a [`Monitor`] that owns the receiving PAIR
//! socket. The same [`Monitor`] reads the version-2 layout of the DRAFT
//! `zmq_socket_monitor_versioned` (feature `draft`: `draft::MonitorV2`,
//! made by `Socket::monitor_events_v2`); [`EventFormat`] names the layout.
//!
//! ## A monitor never hangs libzmq
//!
//! libzmq sends events with a *blocking* send. If nobody reads them, or the
//! receiving socket is closed while the monitor is still on, the next event
//! blocks the thread that emits it — usually a libzmq I/O thread, which
//! freezes every socket it serves (libzmq issue #3575). [`Monitor`] rules
//! this out:
//!
//! - its PAIR socket has no receive high-water mark, so unread events queue
//!   up in memory instead of blocking libzmq;
//! - it always subscribes to `MONITOR_STOPPED`, so it knows when libzmq has
//!   let go (its monitor disabled or replaced, or the context terminated);
//! - it shares a small link with the monitored socket, through which the
//!   libzmq monitor is always disabled before the PAIR socket closes:
//!   dropped before `MONITOR_STOPPED`, the `Monitor` disables it itself
//!   (from whatever thread it is dropped on: libzmq guards the monitor with
//!   a lock of its own, as its I/O threads emit events concurrently), and a
//!   socket closing while its `Monitor` lives disables it just before
//!   `zmq_close`. Dropping either never blocks and starts no thread.
//!
//! Closing the monitored socket therefore ends its `Monitor`'s stream at
//! once with `MONITOR_STOPPED`; the events of the socket's own teardown
//! (which libzmq emits after `zmq_close` returns) are not reported.
//!
//! If you wire a monitor by hand with [`Socket::monitor`], include
//! [`Event::MONITOR_STOPPED`] and keep reading until it arrives, or call
//! [`Socket::disable_monitor`] before closing your PAIR socket.
//!
//! The `Monitor` does not borrow the monitored socket, so both can be used
//! (and moved to other threads) freely. To stop it, call
//! [`Monitor::stop`] (from any thread) or [`Socket::disable_monitor`] on the
//! monitored socket and read on to `MONITOR_STOPPED`, or just drop either.

#![forbid(unsafe_code)]

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::constants::{Event, PollEvents, SocketType};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::poll::{PollTarget, RawFd};
use crate::socket::{MonitorLink, Released, Socket};

/// The kind of a monitor event (`ZMQ_EVENT_*`), as libzmq 4.3.5 sends them.
///
/// Ids libzmq may add later are kept as [`EventKind::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `ZMQ_EVENT_CONNECTED`: a connection to a peer is up.
    Connected,
    /// `ZMQ_EVENT_CONNECT_DELAYED`: a connect is pending.
    ConnectDelayed,
    /// `ZMQ_EVENT_CONNECT_RETRIED`: a connect failed and will be retried.
    ConnectRetried,
    /// `ZMQ_EVENT_LISTENING`: a bind succeeded.
    Listening,
    /// `ZMQ_EVENT_BIND_FAILED`: a bind failed.
    BindFailed,
    /// `ZMQ_EVENT_ACCEPTED`: a connection from a peer was accepted.
    Accepted,
    /// `ZMQ_EVENT_ACCEPT_FAILED`: accepting a connection failed.
    AcceptFailed,
    /// `ZMQ_EVENT_CLOSED`: a connection or listener was closed.
    Closed,
    /// `ZMQ_EVENT_CLOSE_FAILED`: closing failed (IPC only).
    CloseFailed,
    /// `ZMQ_EVENT_DISCONNECTED`: a connection broke unexpectedly.
    Disconnected,
    /// `ZMQ_EVENT_MONITOR_STOPPED`: monitoring ended; no event follows.
    MonitorStopped,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`: the ZMTP handshake failed.
    HandshakeFailedNoDetail,
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`: the ZMTP handshake (and security
    /// mechanism) succeeded.
    HandshakeSucceeded,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`: the handshake failed on a
    /// protocol error (see [`ProtocolError`]).
    HandshakeFailedProtocol,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`: the ZAP handler refused the peer.
    HandshakeFailedAuth,
    /// An id this version of zmqx does not know.
    Unknown(u16),
}

/// Every known kind, in id order.
const KINDS: [EventKind; 15] = [
    EventKind::Connected,
    EventKind::ConnectDelayed,
    EventKind::ConnectRetried,
    EventKind::Listening,
    EventKind::BindFailed,
    EventKind::Accepted,
    EventKind::AcceptFailed,
    EventKind::Closed,
    EventKind::CloseFailed,
    EventKind::Disconnected,
    EventKind::MonitorStopped,
    EventKind::HandshakeFailedNoDetail,
    EventKind::HandshakeSucceeded,
    EventKind::HandshakeFailedProtocol,
    EventKind::HandshakeFailedAuth,
];

impl EventKind {
    /// The kind of an event id (the 16-bit number of the first frame).
    pub fn from_id(id: u16) -> EventKind {
        match id {
            0 => EventKind::Unknown(0),
            // Known ids are single bits 0..=14.
            _ if id.is_power_of_two() && id.trailing_zeros() < 15 => {
                KINDS[id.trailing_zeros() as usize]
            }
            _ => EventKind::Unknown(id),
        }
    }

    /// The event id (`ZMQ_EVENT_*`).
    pub fn id(self) -> u16 {
        match self {
            EventKind::Unknown(id) => id,
            known => {
                let index = KINDS.iter().position(|k| *k == known).unwrap_or(0);
                1 << index
            }
        }
    }

    /// The [`Event`] flag that subscribes to this kind.
    pub fn event(self) -> Event {
        Event::from_bits_retain(u32::from(self.id()))
    }

    /// libzmq's name without the `ZMQ_EVENT_` prefix (`"CONNECTED"`…);
    /// `"UNKNOWN"` for unknown ids.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Connected => "CONNECTED",
            EventKind::ConnectDelayed => "CONNECT_DELAYED",
            EventKind::ConnectRetried => "CONNECT_RETRIED",
            EventKind::Listening => "LISTENING",
            EventKind::BindFailed => "BIND_FAILED",
            EventKind::Accepted => "ACCEPTED",
            EventKind::AcceptFailed => "ACCEPT_FAILED",
            EventKind::Closed => "CLOSED",
            EventKind::CloseFailed => "CLOSE_FAILED",
            EventKind::Disconnected => "DISCONNECTED",
            EventKind::MonitorStopped => "MONITOR_STOPPED",
            EventKind::HandshakeFailedNoDetail => "HANDSHAKE_FAILED_NO_DETAIL",
            EventKind::HandshakeSucceeded => "HANDSHAKE_SUCCEEDED",
            EventKind::HandshakeFailedProtocol => "HANDSHAKE_FAILED_PROTOCOL",
            EventKind::HandshakeFailedAuth => "HANDSHAKE_FAILED_AUTH",
            EventKind::Unknown(_) => "UNKNOWN",
        }
    }

    /// Every kind libzmq 4.3.5 sends, in id order.
    pub fn all() -> impl Iterator<Item = EventKind> {
        KINDS.into_iter()
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKind::Unknown(id) => write!(f, "UNKNOWN({id})"),
            known => f.write_str(known.name()),
        }
    }
}

/// Why a ZMTP handshake failed (`ZMQ_PROTOCOL_ERROR_*`), the value of a
/// `HANDSHAKE_FAILED_PROTOCOL` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED`.
    ZmtpUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND`.
    ZmtpUnexpectedCommand,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE`.
    ZmtpInvalidSequence,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE`.
    ZmtpKeyExchange,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED`.
    ZmtpMalformedCommandUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE`.
    ZmtpMalformedCommandMessage,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO`.
    ZmtpMalformedCommandHello,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE`.
    ZmtpMalformedCommandInitiate,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR`.
    ZmtpMalformedCommandError,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY`.
    ZmtpMalformedCommandReady,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME`.
    ZmtpMalformedCommandWelcome,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA`.
    ZmtpInvalidMetadata,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC`: a CURVE box did not open
    /// (for example a client that used the wrong server key).
    ZmtpCryptographic,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH`: the peers use different
    /// security mechanisms.
    ZmtpMechanismMismatch,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED`.
    ZapUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY`.
    ZapMalformedReply,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID`.
    ZapBadRequestId,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION`.
    ZapBadVersion,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE`.
    ZapInvalidStatusCode,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA`.
    ZapInvalidMetadata,
    /// `ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED` (WebSocket transport, DRAFT).
    WsUnspecified,
    /// A code this version of zmqx does not know.
    Unknown(u32),
}

/// Known protocol errors and their codes, from `zmq.h`.
const PROTOCOL_ERRORS: [(ProtocolError, i32); 21] = [
    (
        ProtocolError::ZmtpUnspecified,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED,
    ),
    (
        ProtocolError::ZmtpUnexpectedCommand,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
    ),
    (
        ProtocolError::ZmtpInvalidSequence,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE,
    ),
    (
        ProtocolError::ZmtpKeyExchange,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE,
    ),
    (
        ProtocolError::ZmtpMalformedCommandUnspecified,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
    ),
    (
        ProtocolError::ZmtpMalformedCommandMessage,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE,
    ),
    (
        ProtocolError::ZmtpMalformedCommandHello,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
    ),
    (
        ProtocolError::ZmtpMalformedCommandInitiate,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE,
    ),
    (
        ProtocolError::ZmtpMalformedCommandError,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR,
    ),
    (
        ProtocolError::ZmtpMalformedCommandReady,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY,
    ),
    (
        ProtocolError::ZmtpMalformedCommandWelcome,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME,
    ),
    (
        ProtocolError::ZmtpInvalidMetadata,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA,
    ),
    (
        ProtocolError::ZmtpCryptographic,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC,
    ),
    (
        ProtocolError::ZmtpMechanismMismatch,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
    ),
    (
        ProtocolError::ZapUnspecified,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED,
    ),
    (
        ProtocolError::ZapMalformedReply,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY,
    ),
    (
        ProtocolError::ZapBadRequestId,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID,
    ),
    (
        ProtocolError::ZapBadVersion,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION,
    ),
    (
        ProtocolError::ZapInvalidStatusCode,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE,
    ),
    (
        ProtocolError::ZapInvalidMetadata,
        zmq_sys::ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA,
    ),
    (
        ProtocolError::WsUnspecified,
        zmq_sys::ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED,
    ),
];

impl ProtocolError {
    /// The error for a `ZMQ_PROTOCOL_ERROR_*` code.
    pub fn from_code(code: u32) -> ProtocolError {
        PROTOCOL_ERRORS
            .iter()
            .find(|(_, c)| *c as u32 == code)
            .map_or(ProtocolError::Unknown(code), |(e, _)| *e)
    }

    /// The `ZMQ_PROTOCOL_ERROR_*` code.
    pub fn code(self) -> u32 {
        match self {
            ProtocolError::Unknown(code) => code,
            known => PROTOCOL_ERRORS
                .iter()
                .find(|(e, _)| *e == known)
                .map_or(0, |(_, c)| *c as u32),
        }
    }

    /// Whether the error came from the ZAP handler exchange
    /// (`ZMQ_PROTOCOL_ERROR_ZAP_*`) rather than from the peer.
    pub fn is_zap(self) -> bool {
        self.code() & 0xf000_0000 == 0x2000_0000
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolError::Unknown(code) => write!(f, "unknown protocol error 0x{code:08x}"),
            known => write!(f, "{known:?} (0x{:08x})", known.code()),
        }
    }
}

/// The value of a monitor event, decoded according to its kind (the 32-bit
/// number of the first frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventValue {
    /// The OS socket of the connection or listener (`CONNECTED`, `LISTENING`,
    /// `ACCEPTED`, `CLOSED`, `DISCONNECTED`). It may already be closed when
    /// the event is read.
    Fd(RawFd),
    /// An errno value (`BIND_FAILED`, `ACCEPT_FAILED`, `CLOSE_FAILED`,
    /// `HANDSHAKE_FAILED_NO_DETAIL`); [`Error::from_errno`] names it.
    Errno(i32),
    /// The interval before the next reconnect (`CONNECT_RETRIED`).
    ReconnectInterval(Duration),
    /// Why the handshake failed (`HANDSHAKE_FAILED_PROTOCOL`).
    Protocol(ProtocolError),
    /// The ZAP handler's status code (`HANDSHAKE_FAILED_AUTH`): 300
    /// (temporary error), 400 (denied) or 500 (internal error).
    AuthStatus(u32),
    /// A value libzmq leaves unspecified (`CONNECT_DELAYED`,
    /// `MONITOR_STOPPED`, `HANDSHAKE_SUCCEEDED`, unknown kinds), as sent.
    Unspecified(u32),
}

impl EventValue {
    /// Decodes the raw value of an event of `kind`.
    pub fn decode(kind: EventKind, raw: u32) -> EventValue {
        use EventKind as K;
        match kind {
            K::Connected | K::Listening | K::Accepted | K::Closed | K::Disconnected => {
                // The fd is an int (a SOCKET on Windows) that libzmq cast to 32 bits.
                EventValue::Fd(raw as RawFd)
            }
            K::BindFailed | K::AcceptFailed | K::CloseFailed | K::HandshakeFailedNoDetail => {
                EventValue::Errno(raw as i32)
            }
            K::ConnectRetried => EventValue::ReconnectInterval(Duration::from_millis(raw.into())),
            K::HandshakeFailedProtocol => EventValue::Protocol(ProtocolError::from_code(raw)),
            K::HandshakeFailedAuth => EventValue::AuthStatus(raw),
            K::ConnectDelayed | K::MonitorStopped | K::HandshakeSucceeded | K::Unknown(_) => {
                EventValue::Unspecified(raw)
            }
        }
    }

    /// The raw 32-bit value, as libzmq sent it.
    pub fn raw(self) -> u32 {
        match self {
            EventValue::Fd(fd) => fd as u32,
            EventValue::Errno(e) => e as u32,
            EventValue::ReconnectInterval(d) => u32::try_from(d.as_millis()).unwrap_or(u32::MAX),
            EventValue::Protocol(p) => p.code(),
            EventValue::AuthStatus(s) | EventValue::Unspecified(s) => s,
        }
    }

    /// The error an errno value stands for.
    pub fn error(self) -> Option<Error> {
        match self {
            EventValue::Errno(e) => Some(Error::from_errno(e)),
            _ => None,
        }
    }
}

/// One socket monitor event: pyzmq's `{'event', 'value', 'endpoint'}` dict,
/// typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MonitorEvent {
    /// What happened.
    pub kind: EventKind,
    /// The event's value, decoded according to `kind`.
    pub value: EventValue,
    /// The endpoint it happened on (`tcp://127.0.0.1:5555`); empty for
    /// `MONITOR_STOPPED`.
    pub endpoint: String,
}

impl MonitorEvent {
    /// The raw event id (`ZMQ_EVENT_*`).
    pub fn id(&self) -> u16 {
        self.kind.id()
    }
}

impl std::fmt::Display for MonitorEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.endpoint.is_empty() {
            write!(f, " {}", self.endpoint)?;
        }
        match self.value {
            EventValue::Fd(fd) => write!(f, " (fd {fd})"),
            EventValue::Errno(e) => write!(f, " ({})", Error::from_errno(e)),
            EventValue::ReconnectInterval(d) => write!(f, " (retry in {d:?})"),
            EventValue::Protocol(p) => write!(f, " ({p})"),
            EventValue::AuthStatus(s) => write!(f, " (ZAP status {s})"),
            EventValue::Unspecified(_) => Ok(()),
        }
    }
}

// Defined beside `Error` so that error.rs imports nothing above it.
pub use crate::error::MalformedEvent;

/// Decodes the two frames of a version-1 event.
fn decode(frames: &[Message]) -> std::result::Result<MonitorEvent, MalformedEvent> {
    let [head, endpoint] = frames else {
        return Err(MalformedEvent::FrameCount(frames.len()));
    };
    let head: &[u8; 6] = head[..]
        .try_into()
        .map_err(|_| MalformedEvent::EventFrameSize(head.len()))?;
    // libzmq copies the numbers in native byte order, unaligned.
    let id = u16::from_ne_bytes([head[0], head[1]]);
    let raw = u32::from_ne_bytes([head[2], head[3], head[4], head[5]]);
    let endpoint = std::str::from_utf8(endpoint).map_err(MalformedEvent::EndpointNotUtf8)?;
    let kind = EventKind::from_id(id);
    Ok(MonitorEvent {
        kind,
        value: EventValue::decode(kind, raw),
        endpoint: endpoint.to_string(),
    })
}

/// Decodes a monitor message (pyzmq's `zmq.utils.monitor.parse_monitor_message`).
///
/// The version-1 layout of `zmq_socket_monitor`: frame 1 is 6 bytes, a
/// 16-bit event id and a 32-bit value in native byte order; frame 2 is the
/// endpoint. Anything else is an [`Error::MonitorEvent`] that hands (shared
/// copies of) the frames back; it never panics. Unknown ids decode as
/// [`EventKind::Unknown`].
///
/// ```
/// use zmqx::Message;
/// use zmqx::monitor::{EventKind, EventValue, parse_monitor_message};
/// let mut head = 8u16.to_ne_bytes().to_vec(); // LISTENING
/// head.extend_from_slice(&7u32.to_ne_bytes());
/// let event = parse_monitor_message(&[Message::from(head), Message::from("tcp://127.0.0.1:5555")])?;
/// assert_eq!(event.kind, EventKind::Listening);
/// assert_eq!(event.value, EventValue::Fd(7));
/// assert!(parse_monitor_message(&[Message::from("junk")]).is_err());
/// # Ok::<(), zmqx::Error>(())
/// ```
pub fn parse_monitor_message(frames: &[Message]) -> Result<MonitorEvent> {
    decode(frames).map_err(|reason| Error::MonitorEvent {
        reason,
        frames: frames.to_vec().into(),
    })
}

/// Decodes a received monitor message, handing the frames back on error.
fn parse_owned(frames: Vec<Message>) -> Result<MonitorEvent> {
    decode(&frames).map_err(|reason| Error::MonitorEvent {
        reason,
        frames: frames.into(),
    })
}

/// Receives and decodes one event from a PAIR socket connected to a monitor
/// endpoint (pyzmq's `zmq.utils.monitor.recv_monitor_message`).
pub fn recv_monitor_message(socket: &Socket) -> Result<MonitorEvent> {
    parse_owned(socket.recv_multipart()?)
}

/// The layout of a monitor's event messages: [`V1`] (`zmq_socket_monitor`)
/// or, with the `draft` feature, `draft::V2`
/// (`zmq_socket_monitor_versioned`). A [`Monitor`] reads either; this trait
/// is sealed.
pub trait EventFormat: sealed::Sealed + Sized {
    /// One decoded event.
    type Event: std::fmt::Debug;
    /// What an event is, for [`Monitor::wait_for`].
    type Kind: Copy + PartialEq + std::fmt::Debug;

    /// Decodes a received message, handing the frames back on error.
    #[doc(hidden)]
    fn parse(frames: Vec<Message>) -> Result<Self::Event>;
    /// The kind of an event.
    #[doc(hidden)]
    fn kind(event: &Self::Event) -> Self::Kind;
    /// Whether the event is `MONITOR_STOPPED` (the last of a stream).
    #[doc(hidden)]
    fn is_stopped(event: &Self::Event) -> bool;
    /// Starts publishing `socket`'s events at `endpoint` in this layout
    /// (without telling the socket's monitor link).
    #[doc(hidden)]
    fn start(socket: &Socket, endpoint: &str, events: Event) -> Result<()>;
    /// A tag for the monitor's endpoint name.
    #[doc(hidden)]
    const TAG: &'static str;
}

mod sealed {
    /// Only zmqx's event formats implement [`EventFormat`](super::EventFormat).
    pub trait Sealed {}
    impl Sealed for super::V1 {}
    #[cfg(feature = "draft")]
    impl Sealed for crate::draft::V2 {}
}

/// The version-1 event layout of `zmq_socket_monitor`: two frames, decoded
/// by [`parse_monitor_message`] into a [`MonitorEvent`]. The format of a
/// plain [`Monitor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1 {}

impl EventFormat for V1 {
    type Event = MonitorEvent;
    type Kind = EventKind;

    fn parse(frames: Vec<Message>) -> Result<MonitorEvent> {
        parse_owned(frames)
    }

    fn kind(event: &MonitorEvent) -> EventKind {
        event.kind
    }

    fn is_stopped(event: &MonitorEvent) -> bool {
        event.kind == EventKind::MonitorStopped
    }

    fn start(socket: &Socket, endpoint: &str, events: Event) -> Result<()> {
        socket.start_monitor(endpoint, events)
    }

    const TAG: &'static str = "v1";
}

/// A socket's event stream: owns the PAIR socket that receives the events
/// (pyzmq's `get_monitor_socket()` plus `recv_monitor_message`). Made by
/// [`Socket::monitor_events`] (and, with the `draft` feature, as
/// `draft::MonitorV2` by `Socket::monitor_events_v2`).
///
/// Read events with [`next_event`](Monitor::next_event) (with a timeout),
/// [`try_next_event`](Monitor::try_next_event), or as a blocking iterator
/// that ends after `MONITOR_STOPPED`. They all take `&self`, so the
/// monitor's socket can stay registered in a [`Poller`](crate::Poller) while
/// the events are read:
///
/// ```
/// use std::time::Duration;
/// use zmqx::monitor::EventKind;
/// use zmqx::{Context, Event, PollEvents, Poller, SocketType};
///
/// fn main() -> zmqx::Result<()> {
///     let ctx = Context::new();
///     let server = ctx.socket(SocketType::Pull)?;
///     let monitor = server.monitor_events(Event::LISTENING)?;
///     let mut poller = Poller::new();
///     poller.register(&monitor, PollEvents::POLLIN);
///     poller.register(&server, PollEvents::POLLIN);
///     server.bind("tcp://127.0.0.1:*")?;
///     poller.wait(Some(Duration::from_secs(5)))?;
///     while let Some(event) = monitor.try_next_event()? {
///         assert_eq!(event.kind, EventKind::Listening);
///     }
///     Ok(())
/// }
/// ```
///
/// Dropping a `Monitor` at any time is safe and does not block: see the
/// [module docs](self#a-monitor-never-hangs-libzmq).
pub struct Monitor<F: EventFormat = V1> {
    /// The receiving PAIR socket; `None` only while lent to an
    /// `AsyncMonitor` or while dropping.
    socket: Option<Socket>,
    endpoint: String,
    /// Shared with the monitored socket.
    link: Arc<MonitorLink>,
    /// This monitor's id in the link.
    id: u64,
    /// `MONITOR_STOPPED` was received (or the context is gone): no event
    /// can follow.
    stopped: Cell<bool>,
    _format: PhantomData<fn() -> F>,
}

impl<F: EventFormat> std::fmt::Debug for Monitor<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("format", &F::TAG)
            .field("endpoint", &self.endpoint)
            .field("stopped", &self.stopped.get())
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// Starts monitoring this socket and returns the [`Monitor`] that
    /// receives its events (pyzmq's `get_monitor_socket(events)`).
    ///
    /// The monitor publishes on a unique `inproc://` endpoint; the `Monitor`
    /// owns the PAIR socket connected there, in this socket's context.
    /// [`Event::MONITOR_STOPPED`] is always added to `events`, so the
    /// `Monitor` knows when the stream ends. Pass [`Event::ALL`] for every
    /// event. [`Socket::monitor`] is the raw libzmq call this builds on.
    ///
    /// A socket has one monitor at a time: calling this again (or
    /// [`Socket::monitor`]) stops the previous one, whose `Monitor` then
    /// receives `MONITOR_STOPPED`. pyzmq returns the same PAIR socket on a
    /// second call; zmqx cannot, as the first `Monitor` is owned elsewhere.
    pub fn monitor_events(&self, events: Event) -> Result<Monitor> {
        Monitor::start(self, events)
    }
}

impl<F: EventFormat> Monitor<F> {
    /// Connects a PAIR socket to a fresh endpoint, then starts `socket`'s
    /// monitor there in the layout `F`.
    pub(crate) fn start(socket: &Socket, events: Event) -> Result<Monitor<F>> {
        let id = MonitorLink::next_id();
        let endpoint = format!(
            "inproc://zmqx.monitor.{}.{:x}.{id}",
            F::TAG,
            socket.as_raw() as usize,
        );
        let pair = socket.context().socket(SocketType::Pair)?;
        // No receive high-water mark: unread events queue up here rather
        // than block the libzmq thread that sends them.
        pair.set_rcvhwm(0)?;
        pair.set_linger(Some(Duration::ZERO))?;
        // inproc allows connecting before the bind, so no event can be sent
        // (and block) before this socket is there to receive it.
        pair.connect(&endpoint)?;
        socket.replace_monitor(id, || {
            F::start(socket, &endpoint, events | Event::MONITOR_STOPPED)
        })?;
        Ok(Monitor {
            socket: Some(pair),
            endpoint,
            link: socket.monitor_link().clone(),
            id,
            stopped: Cell::new(false),
            _format: PhantomData,
        })
    }

    /// The PAIR socket that receives the events (to poll it, or to wrap it in
    /// an event loop; read it with [`Monitor::try_next_event`] so the
    /// `Monitor` sees `MONITOR_STOPPED`).
    pub fn socket(&self) -> &Socket {
        // Taken out only while lent to an AsyncMonitor (which owns this
        // Monitor meanwhile) and in `drop`.
        self.socket
            .as_ref()
            .expect("the monitor socket is present until drop")
    }

    /// Lends the PAIR socket to the async monitor
    /// ([`AsyncMonitor`](crate::asynchronous::AsyncMonitor)); it is put back
    /// with [`restore_socket`](Self::restore_socket) before this is dropped.
    #[cfg(all(feature = "tokio", unix))]
    pub(crate) fn take_socket(&mut self) -> Option<Socket> {
        self.socket.take()
    }

    /// Puts back the socket lent by [`take_socket`](Self::take_socket),
    /// noting whether `MONITOR_STOPPED` was seen meanwhile.
    #[cfg(all(feature = "tokio", unix))]
    pub(crate) fn restore_socket(&mut self, socket: Socket, stopped: bool) {
        self.socket = Some(socket);
        self.stopped.set(self.stopped.get() | stopped);
    }

    /// The `inproc://` endpoint the events are published on.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether `MONITOR_STOPPED` was received (or the context terminated):
    /// no event will follow.
    pub fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Notes what an event or error means for the stream.
    fn track(&self, r: Result<F::Event>) -> Result<F::Event> {
        match &r {
            Ok(e) if F::is_stopped(e) => self.stopped.set(true),
            Err(Error::ContextTerminated) => self.stopped.set(true),
            _ => {}
        }
        r
    }

    /// Waits for the next event at most `timeout` (`None`: no limit).
    /// `Ok(None)` on timeout, and at once after `MONITOR_STOPPED`.
    ///
    /// A malformed message is an [`Error::MonitorEvent`] (or
    /// `MonitorEventV2`; the stream goes on); a terminated context is
    /// [`Error::ContextTerminated`].
    pub fn next_event(&self, timeout: Option<Duration>) -> Result<Option<F::Event>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.stopped.get() {
                return Ok(None);
            }
            if let Some(event) = self.try_next_event()? {
                return Ok(Some(event));
            }
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if remaining == Some(Duration::ZERO) {
                return Ok(None);
            }
            if let Err(e) = self.socket().poll(PollEvents::POLLIN, remaining) {
                return self.track(Err(e)).map(Some);
            }
        }
    }

    /// The next event if one is queued, without waiting: `Ok(None)` when
    /// there is none (or after `MONITOR_STOPPED`).
    pub fn try_next_event(&self) -> Result<Option<F::Event>> {
        if self.stopped.get() {
            return Ok(None);
        }
        match self.socket().try_recv_multipart() {
            Ok(None) => Ok(None),
            Ok(Some(frames)) => self.track(F::parse(frames)).map(Some),
            Err(e) => self.track(Err(e)).map(Some),
        }
    }

    /// Reads events until one of `kind` arrives, at most `timeout` in all;
    /// the events before it are discarded. `Ok(None)` on timeout or when the
    /// stream ends first.
    pub fn wait_for(&self, kind: F::Kind, timeout: Option<Duration>) -> Result<Option<F::Event>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.next_event(remaining)? {
                Some(event) if F::kind(&event) == kind => return Ok(Some(event)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Stops the monitor (as [`Socket::disable_monitor`] on the monitored
    /// socket would), from any thread, without needing the monitored
    /// socket. The events already sent, then `MONITOR_STOPPED`, can still be
    /// read; iteration ends there. Does nothing if the monitor has stopped
    /// already (the socket closed, or its monitor disabled or replaced).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the monitored socket was given away with
    /// [`Socket::into_raw`]; what libzmq reports otherwise.
    pub fn stop(&self) -> Result<()> {
        match self.link.release(self.id)? {
            Released::Stopped => Ok(()),
            Released::Unknown => Err(Error::invalid(
                "Monitor::stop",
                "the monitored socket was given away (Socket::into_raw)",
            )),
        }
    }

    /// The next event, blocking; `None` after `MONITOR_STOPPED`.
    fn next_blocking(&self) -> Option<Result<F::Event>> {
        if self.stopped.get() {
            return None;
        }
        let r = self
            .socket()
            .recv_multipart()
            .and_then(|frames| F::parse(frames));
        match self.track(r) {
            Err(Error::ContextTerminated) => None,
            other => Some(other),
        }
    }
}

/// Blocking iteration: the events in order. It ends after yielding
/// `MONITOR_STOPPED`, or when the context is terminated. A malformed message
/// or a receive error (such as a receive timeout set on
/// [`Monitor::socket`]) is yielded as an `Err` and iteration goes on.
impl<F: EventFormat> Iterator for Monitor<F> {
    type Item = Result<F::Event>;

    fn next(&mut self) -> Option<Result<F::Event>> {
        self.next_blocking()
    }
}

/// Blocking iteration through a shared reference (as for `Monitor`), so a
/// `Poller` can keep the monitor's socket registered meanwhile.
impl<F: EventFormat> Iterator for &Monitor<F> {
    type Item = Result<F::Event>;

    fn next(&mut self) -> Option<Result<F::Event>> {
        self.next_blocking()
    }
}

/// Registers the monitor's PAIR socket (`poller.register(&monitor, POLLIN)`).
impl<'a, F: EventFormat> From<&'a Monitor<F>> for PollTarget<'a> {
    fn from(monitor: &'a Monitor<F>) -> PollTarget<'a> {
        PollTarget::from(monitor.socket())
    }
}

impl<F: EventFormat> Drop for Monitor<F> {
    /// Never blocks: if libzmq may still send events, the monitor is
    /// disabled first (see the [module docs](self#a-monitor-never-hangs-libzmq)).
    fn drop(&mut self) {
        let Some(socket) = self.socket.take() else {
            return;
        };
        if self.stopped.get() {
            return;
        }
        match self.link.release(self.id) {
            // libzmq sends nothing more: the PAIR socket can close.
            Ok(Released::Stopped) => drop(socket),
            // The monitored socket was given away with its monitor on (or
            // disabling failed, which libzmq never reports for a live
            // socket): libzmq may still send here, and closing would let its
            // next event block a libzmq thread for good. Leaking the socket
            // keeps the context from terminating, which a socket given away
            // already does.
            Ok(Released::Unknown) | Err(_) => std::mem::forget(socket),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_frames(id: u16, value: u32, endpoint: &[u8]) -> Vec<Message> {
        let mut head = id.to_ne_bytes().to_vec();
        head.extend_from_slice(&value.to_ne_bytes());
        vec![Message::from(head), Message::from(endpoint)]
    }

    #[test]
    fn kinds_match_zmq_h() {
        let expected = [
            (EventKind::Connected, zmq_sys::ZMQ_EVENT_CONNECTED),
            (
                EventKind::ConnectDelayed,
                zmq_sys::ZMQ_EVENT_CONNECT_DELAYED,
            ),
            (
                EventKind::ConnectRetried,
                zmq_sys::ZMQ_EVENT_CONNECT_RETRIED,
            ),
            (EventKind::Listening, zmq_sys::ZMQ_EVENT_LISTENING),
            (EventKind::BindFailed, zmq_sys::ZMQ_EVENT_BIND_FAILED),
            (EventKind::Accepted, zmq_sys::ZMQ_EVENT_ACCEPTED),
            (EventKind::AcceptFailed, zmq_sys::ZMQ_EVENT_ACCEPT_FAILED),
            (EventKind::Closed, zmq_sys::ZMQ_EVENT_CLOSED),
            (EventKind::CloseFailed, zmq_sys::ZMQ_EVENT_CLOSE_FAILED),
            (EventKind::Disconnected, zmq_sys::ZMQ_EVENT_DISCONNECTED),
            (
                EventKind::MonitorStopped,
                zmq_sys::ZMQ_EVENT_MONITOR_STOPPED,
            ),
            (
                EventKind::HandshakeFailedNoDetail,
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
            ),
            (
                EventKind::HandshakeSucceeded,
                zmq_sys::ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
            ),
            (
                EventKind::HandshakeFailedProtocol,
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
            ),
            (
                EventKind::HandshakeFailedAuth,
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
            ),
        ];
        assert_eq!(expected.len(), EventKind::all().count());
        for (kind, raw) in expected {
            assert_eq!(u32::from(kind.id()), raw as u32, "{kind}");
            assert_eq!(EventKind::from_id(kind.id()), kind);
            assert_eq!(kind.event().bits(), raw as u32);
        }
        for id in [0u16, 3, 1 << 15, 0xffff, 6] {
            assert_eq!(EventKind::from_id(id), EventKind::Unknown(id));
            assert_eq!(EventKind::Unknown(id).id(), id);
        }
    }

    #[test]
    fn protocol_errors_round_trip() {
        for (e, code) in PROTOCOL_ERRORS {
            assert_eq!(ProtocolError::from_code(code as u32), e);
            assert_eq!(e.code(), code as u32);
        }
        assert!(ProtocolError::ZapBadVersion.is_zap());
        assert!(!ProtocolError::ZmtpCryptographic.is_zap());
        assert_eq!(ProtocolError::from_code(42), ProtocolError::Unknown(42));
    }

    #[test]
    fn values_round_trip() {
        for kind in EventKind::all().chain([EventKind::Unknown(1 << 15)]) {
            for raw in [0u32, 1, 400, 0x1100_0001, u32::MAX] {
                assert_eq!(EventValue::decode(kind, raw).raw(), raw, "{kind} {raw}");
            }
        }
    }

    #[test]
    fn parses_every_kind() -> Result<()> {
        let e = parse_monitor_message(&event_frames(4096, 0, b"tcp://127.0.0.1:1"))?;
        assert_eq!(e.kind, EventKind::HandshakeSucceeded);
        let e = parse_monitor_message(&event_frames(16384, 400, b"tcp://x:1"))?;
        assert_eq!(e.value, EventValue::AuthStatus(400));
        let code = zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC as u32;
        let e = parse_monitor_message(&event_frames(8192, code, b"tcp://x:1"))?;
        assert_eq!(
            e.value,
            EventValue::Protocol(ProtocolError::ZmtpCryptographic)
        );
        let e = parse_monitor_message(&event_frames(4, 250, b"tcp://x:1"))?;
        assert_eq!(
            e.value,
            EventValue::ReconnectInterval(Duration::from_millis(250))
        );
        let e = parse_monitor_message(&event_frames(16, libc::EADDRINUSE as u32, b""))?;
        assert!(matches!(e.value.error(), Some(Error::AddressInUse)));
        assert!(e.to_string().starts_with("BIND_FAILED"));
        let e = parse_monitor_message(&event_frames(1 << 15, 9, b"x"))?;
        assert_eq!(e.kind, EventKind::Unknown(1 << 15));
        Ok(())
    }

    #[test]
    fn malformed_hands_frames_back() {
        let mut frames = event_frames(1, 0, b"\xff\xfe");
        match parse_monitor_message(&frames) {
            Err(Error::MonitorEvent {
                reason: MalformedEvent::EndpointNotUtf8(_),
                frames: back,
            }) => assert_eq!(back.get(1), Some(&b"\xff\xfe"[..])),
            other => panic!("unexpected {other:?}"),
        }
        frames.push(Message::from("extra"));
        assert!(matches!(
            parse_monitor_message(&frames),
            Err(Error::MonitorEvent {
                reason: MalformedEvent::FrameCount(3),
                ..
            })
        ));
        assert!(matches!(
            parse_monitor_message(&[Message::from("12345"), Message::from("")]),
            Err(Error::MonitorEvent {
                reason: MalformedEvent::EventFrameSize(5),
                ..
            })
        ));
    }
}
