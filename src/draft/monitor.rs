//! Version-2 socket monitor events (`zmq_socket_monitor_versioned`, DRAFT):
//! 64-bit event ids and values, the local and the remote endpoint, and
//! `ZMQ_EVENT_PIPES_STATS`.
//!
//! A version-2 event is a message of at least four frames, all numbers in
//! native byte order: the event id (8 bytes), the number of values `n` (8
//! bytes), `n` values (8 bytes each), the local endpoint, the remote
//! endpoint. [`parse_monitor_message_v2`] decodes it, and refuses anything
//! else with an [`Error::MonitorEventV2`] that hands the frames back.

#![forbid(unsafe_code)]

use crate::constants::{Event, SocketType};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::monitor::{EventFormat, EventKind, EventValue, Monitor};
use crate::socket::Socket;

use super::require_draft;

/// What a version-2 event is: one of the version-1 kinds, `PIPES_STATS`,
/// or an id zmqx does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKindV2 {
    /// A version-1 kind (`CONNECTED`, `LISTENING`… `HANDSHAKE_FAILED_AUTH`).
    V1(EventKind),
    /// `ZMQ_EVENT_PIPES_STATS`: two values, the messages queued outbound
    /// and inbound on the connection (after
    /// [`Socket::monitor_pipes_stats`]).
    PipesStats,
    /// An id this version of zmqx does not know.
    Unknown(u64),
}

impl EventKindV2 {
    /// The kind of a 64-bit event id.
    pub fn from_id(id: u64) -> EventKindV2 {
        if id == Event::PIPES_STATS.bits() as u64 {
            return EventKindV2::PipesStats;
        }
        match u16::try_from(id).map(EventKind::from_id) {
            Ok(EventKind::Unknown(_)) | Err(_) => EventKindV2::Unknown(id),
            Ok(kind) => EventKindV2::V1(kind),
        }
    }

    /// The event id (`ZMQ_EVENT_*`).
    pub fn id(self) -> u64 {
        match self {
            EventKindV2::V1(kind) => u64::from(kind.id()),
            EventKindV2::PipesStats => Event::PIPES_STATS.bits() as u64,
            EventKindV2::Unknown(id) => id,
        }
    }
}

impl std::fmt::Display for EventKindV2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKindV2::V1(kind) => std::fmt::Display::fmt(kind, f),
            EventKindV2::PipesStats => f.write_str("PIPES_STATS"),
            EventKindV2::Unknown(id) => write!(f, "UNKNOWN({id})"),
        }
    }
}

/// One version-2 socket monitor event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MonitorEventV2 {
    /// What happened.
    pub kind: EventKindV2,
    /// The values, as sent (one for the version-1 kinds, two for
    /// `PIPES_STATS`).
    pub values: Vec<u64>,
    /// The local endpoint (`tcp://127.0.0.1:5555`); empty when libzmq gives
    /// none (`MONITOR_STOPPED`).
    pub local_endpoint: String,
    /// The remote endpoint, when libzmq knows it (connections); empty
    /// otherwise.
    pub remote_endpoint: String,
}

impl MonitorEventV2 {
    /// The raw event id.
    pub fn id(&self) -> u64 {
        self.kind.id()
    }

    /// The value decoded as in version 1 ([`EventValue`]), for version-1
    /// kinds with one value that fits 32 bits.
    pub fn value(&self) -> Option<EventValue> {
        match (self.kind, self.values.as_slice()) {
            (EventKindV2::V1(kind), [v]) => {
                u32::try_from(*v).ok().map(|v| EventValue::decode(kind, v))
            }
            _ => None,
        }
    }

    /// `(outbound, inbound)` queued messages of a `PIPES_STATS` event.
    pub fn pipes_stats(&self) -> Option<(u64, u64)> {
        match (self.kind, self.values.as_slice()) {
            (EventKindV2::PipesStats, [out, inb]) => Some((*out, *inb)),
            _ => None,
        }
    }
}

impl std::fmt::Display for MonitorEventV2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.local_endpoint.is_empty() {
            write!(f, " {}", self.local_endpoint)?;
        }
        if !self.remote_endpoint.is_empty() {
            write!(f, " <-> {}", self.remote_endpoint)?;
        }
        write!(f, " {:?}", self.values)
    }
}

// Defined beside `Error` so that error.rs imports nothing above it.
pub use crate::error::{EndpointSide, MalformedEventV2};

/// An 8-byte native-endian number frame.
fn number(frames: &[Message], index: usize) -> std::result::Result<u64, MalformedEventV2> {
    let frame = &frames[index];
    let bytes: [u8; 8] = frame[..]
        .try_into()
        .map_err(|_| MalformedEventV2::NumberSize {
            frame: index,
            len: frame.len(),
        })?;
    Ok(u64::from_ne_bytes(bytes))
}

fn endpoint(frame: &Message, side: EndpointSide) -> std::result::Result<String, MalformedEventV2> {
    std::str::from_utf8(frame)
        .map(str::to_string)
        .map_err(|source| MalformedEventV2::EndpointNotUtf8 { side, source })
}

/// Decodes the frames of a version-2 event.
fn decode(frames: &[Message]) -> std::result::Result<MonitorEventV2, MalformedEventV2> {
    if frames.len() < 4 {
        return Err(MalformedEventV2::TooFewFrames(frames.len()));
    }
    let id = number(frames, 0)?;
    let declared = number(frames, 1)?;
    let present = frames.len() - 4;
    if declared != present as u64 {
        return Err(MalformedEventV2::ValueCount { declared, present });
    }
    let values = (2..2 + present)
        .map(|i| number(frames, i))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(MonitorEventV2 {
        kind: EventKindV2::from_id(id),
        values,
        local_endpoint: endpoint(&frames[frames.len() - 2], EndpointSide::Local)?,
        remote_endpoint: endpoint(&frames[frames.len() - 1], EndpointSide::Remote)?,
    })
}

/// Decodes a version-2 monitor message. Anything malformed is an
/// [`Error::MonitorEventV2`] handing (shared copies of) the frames back;
/// it never panics.
///
/// ```
/// use zmqx::Message;
/// use zmqx::draft::{EventKindV2, parse_monitor_message_v2};
/// use zmqx::monitor::EventKind;
/// let frames = [
///     Message::from(8u64.to_ne_bytes().to_vec()), // LISTENING
///     Message::from(1u64.to_ne_bytes().to_vec()),
///     Message::from(7u64.to_ne_bytes().to_vec()),
///     Message::from("tcp://127.0.0.1:5555"),
///     Message::from(""),
/// ];
/// let event = parse_monitor_message_v2(&frames)?;
/// assert_eq!(event.kind, EventKindV2::V1(EventKind::Listening));
/// assert_eq!(event.values, [7]);
/// assert!(parse_monitor_message_v2(&frames[..3]).is_err());
/// # Ok::<(), zmqx::Error>(())
/// ```
pub fn parse_monitor_message_v2(frames: &[Message]) -> Result<MonitorEventV2> {
    decode(frames).map_err(|reason| Error::MonitorEventV2 {
        reason,
        frames: frames.to_vec().into(),
    })
}

fn parse_owned(frames: Vec<Message>) -> Result<MonitorEventV2> {
    decode(&frames).map_err(|reason| Error::MonitorEventV2 {
        reason,
        frames: frames.into(),
    })
}

/// Receives and decodes one version-2 event from a socket connected to a
/// version-2 monitor endpoint.
pub fn recv_monitor_message_v2(socket: &Socket) -> Result<MonitorEventV2> {
    parse_owned(socket.recv_multipart()?)
}

impl Socket {
    /// Starts publishing version-2 monitor events on a socket of type
    /// `kind` (PAIR, PUB or PUSH) bound at the `inproc://` `endpoint`
    /// (`zmq_socket_monitor_versioned` with version 2, DRAFT).
    ///
    /// As with [`Socket::monitor`], read the events until
    /// `MONITOR_STOPPED` or libzmq can block on a full PAIR/PUSH pipe;
    /// [`monitor_events_v2`](Socket::monitor_events_v2) takes care of it.
    pub fn monitor_versioned(&self, endpoint: &str, events: Event, kind: SocketType) -> Result<()> {
        self.replace_monitor(0, || self.start_monitor_v2(endpoint, events, kind))
    }

    /// Starts version-2 monitoring and returns the [`MonitorV2`] receiving
    /// the events (as [`monitor_events`](Socket::monitor_events) does for
    /// version 1: `MONITOR_STOPPED` is always added, and the monitor can be
    /// dropped at any time without blocking libzmq).
    pub fn monitor_events_v2(&self, events: Event) -> Result<MonitorV2> {
        require_draft("zmq_socket_monitor_versioned")?;
        Monitor::start(self, events)
    }
}

/// The version-2 event layout of `zmq_socket_monitor_versioned` (DRAFT),
/// decoded by [`parse_monitor_message_v2`] into a [`MonitorEventV2`]: the
/// format of a [`MonitorV2`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V2 {}

impl EventFormat for V2 {
    type Event = MonitorEventV2;
    type Kind = EventKindV2;

    fn parse(frames: Vec<Message>) -> Result<MonitorEventV2> {
        parse_owned(frames)
    }

    fn kind(event: &MonitorEventV2) -> EventKindV2 {
        event.kind
    }

    fn is_stopped(event: &MonitorEventV2) -> bool {
        event.kind == EventKindV2::V1(EventKind::MonitorStopped)
    }

    fn start(socket: &Socket, endpoint: &str, events: Event) -> Result<()> {
        socket.start_monitor_v2(endpoint, events, SocketType::Pair)
    }

    const TAG: &'static str = "v2";
}

/// A socket's version-2 event stream: the [`Monitor`] reading the
/// version-2 layout, made by [`Socket::monitor_events_v2`]. Read events with
/// [`next_event`](Monitor::next_event), [`try_next_event`](Monitor::try_next_event)
/// or as a blocking iterator that ends after `MONITOR_STOPPED`; drop it at
/// any time (see [`crate::monitor`]).
pub type MonitorV2 = Monitor<V2>;

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&[u8]]) -> Vec<Message> {
        parts.iter().map(|p| Message::from(*p)).collect()
    }

    #[test]
    fn decodes_pipes_stats() -> Result<()> {
        let id = 0x10000u64.to_ne_bytes();
        let two = 2u64.to_ne_bytes();
        let out = 3u64.to_ne_bytes();
        let inb = 4u64.to_ne_bytes();
        let e = parse_monitor_message_v2(&frames(&[&id, &two, &out, &inb, b"l", b"r"]))?;
        assert_eq!(e.kind, EventKindV2::PipesStats);
        assert_eq!(e.pipes_stats(), Some((3, 4)));
        assert_eq!(e.value(), None);
        assert_eq!(
            (e.local_endpoint.as_str(), e.remote_endpoint.as_str()),
            ("l", "r")
        );
        Ok(())
    }

    #[test]
    fn kinds_round_trip() {
        for kind in EventKind::all() {
            let v2 = EventKindV2::from_id(u64::from(kind.id()));
            assert_eq!(v2, EventKindV2::V1(kind));
            assert_eq!(v2.id(), u64::from(kind.id()));
        }
        assert_eq!(EventKindV2::from_id(1 << 40), EventKindV2::Unknown(1 << 40));
        assert_eq!(EventKindV2::from_id(0), EventKindV2::Unknown(0));
        assert_eq!(EventKindV2::from_id(3), EventKindV2::Unknown(3));
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        let one = 1u64.to_ne_bytes();
        let big = u64::MAX.to_ne_bytes();
        let cases: Vec<(Vec<Message>, MalformedEventV2)> = vec![
            (frames(&[]), MalformedEventV2::TooFewFrames(0)),
            (
                frames(&[&one, &one, b"x"]),
                MalformedEventV2::TooFewFrames(3),
            ),
            (
                frames(&[b"short", &one, b"", b""]),
                MalformedEventV2::NumberSize { frame: 0, len: 5 },
            ),
            (
                frames(&[&one, b"123456789", b"", b""]),
                MalformedEventV2::NumberSize { frame: 1, len: 9 },
            ),
            (
                frames(&[&one, &one, b"", b""]),
                MalformedEventV2::ValueCount {
                    declared: 1,
                    present: 0,
                },
            ),
            (
                frames(&[&one, &big, &one, b"", b""]),
                MalformedEventV2::ValueCount {
                    declared: u64::MAX,
                    present: 1,
                },
            ),
            (
                frames(&[&one, &one, b"1234", b"", b""]),
                MalformedEventV2::NumberSize { frame: 2, len: 4 },
            ),
        ];
        for (input, expected) in cases {
            match parse_monitor_message_v2(&input) {
                Err(Error::MonitorEventV2 { reason, frames }) => {
                    assert_eq!(reason, expected);
                    assert_eq!(frames.len(), input.len(), "frames handed back");
                }
                other => panic!("{expected:?}: got {other:?}"),
            }
        }
        let zero = 0u64.to_ne_bytes();
        for (parts, side) in [
            (frames(&[&one, &zero, b"\xff", b""]), EndpointSide::Local),
            (frames(&[&one, &zero, b"", b"\xc3"]), EndpointSide::Remote),
        ] {
            match parse_monitor_message_v2(&parts) {
                Err(Error::MonitorEventV2 {
                    reason: MalformedEventV2::EndpointNotUtf8 { side: s, .. },
                    ..
                }) => assert_eq!(s, side),
                other => panic!("expected a UTF-8 error, got {other:?}"),
            }
        }
    }
}
