//! Version-2 socket monitor events (`zmq_socket_monitor_versioned`, DRAFT):
//! 64-bit event ids and values, the local and the remote endpoint, and
//! `ZMQ_EVENT_PIPES_STATS`.
//!
//! A version-2 event is a message of at least four frames, all numbers in
//! native byte order: the event id (8 bytes), the number of values `n` (8
//! bytes), `n` values (8 bytes each), the local endpoint, the remote
//! endpoint. [`parse_monitor_message_v2`] decodes it, and refuses anything
//! else with an [`Error::MonitorEventV2`] that hands the frames back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::constants::{Event, PollEvents, SocketType};
use crate::error::{Error, Result, check};
use crate::message::Message;
use crate::monitor::{EventKind, EventValue};
use crate::socket::{Socket, endpoint_cstr};

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
    /// [`get_monitor_socket_v2`](Socket::get_monitor_socket_v2) takes care
    /// of it.
    pub fn monitor_versioned(&self, endpoint: &str, events: Event, kind: SocketType) -> Result<()> {
        require_draft("zmq_socket_monitor_versioned")?;
        let c = endpoint_cstr(endpoint)?;
        // SAFETY: as_raw is a live socket; c is a valid C string.
        check(unsafe {
            zmq_sys::zmq_socket_monitor_versioned(
                self.as_raw(),
                c.as_ptr(),
                u64::from(events.bits()),
                2,
                kind.raw(),
            )
        })
        .map(drop)
    }

    /// Asks for a `PIPES_STATS` event per connected peer on the version-2
    /// monitor (`zmq_socket_monitor_pipes_stats`, DRAFT). Without a monitor
    /// listening to `PIPES_STATS` this is an [`Error::InvalidArgument`].
    pub fn monitor_pipes_stats(&self) -> Result<()> {
        require_draft("zmq_socket_monitor_pipes_stats")?;
        // SAFETY: as_raw is a live socket.
        check(unsafe { zmq_sys::zmq_socket_monitor_pipes_stats(self.as_raw()) }).map(drop)
    }

    /// Starts version-2 monitoring and returns the [`MonitorV2`] receiving
    /// the events (like [`get_monitor_socket`](Socket::get_monitor_socket),
    /// which it mirrors: `MONITOR_STOPPED` is always added, and the monitor
    /// can be dropped at any time without blocking libzmq).
    pub fn get_monitor_socket_v2(&self, events: Event) -> Result<MonitorV2> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        require_draft("zmq_socket_monitor_versioned")?;
        let endpoint = format!(
            "inproc://zmqx.monitor-v2.{:x}.{}",
            self.as_raw() as usize,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let pair = self.context().socket(SocketType::Pair)?;
        // No receive high-water mark: unread events queue here instead of
        // blocking the libzmq thread that sends them.
        pair.set_rcvhwm(0)?;
        pair.set_linger(Some(Duration::ZERO))?;
        pair.connect(&endpoint)?;
        self.monitor_versioned(&endpoint, events | Event::MONITOR_STOPPED, SocketType::Pair)?;
        Ok(MonitorV2 {
            socket: Some(pair),
            endpoint,
            stopped: false,
        })
    }
}

/// A socket's version-2 event stream: owns the PAIR socket receiving the
/// events. Made by [`Socket::get_monitor_socket_v2`].
///
/// Read events with [`next_event`](MonitorV2::next_event),
/// [`try_next_event`](MonitorV2::try_next_event) or as a blocking iterator
/// that ends after `MONITOR_STOPPED`. Dropped before `MONITOR_STOPPED`, it
/// hands its socket to a short-lived thread that discards events until
/// then, so libzmq never blocks on it (see [`crate::monitor`]).
#[derive(Debug)]
pub struct MonitorV2 {
    /// `None` only while dropping.
    socket: Option<Socket>,
    endpoint: String,
    stopped: bool,
}

impl MonitorV2 {
    /// The PAIR socket receiving the events.
    pub fn socket(&self) -> &Socket {
        self.socket
            .as_ref()
            .expect("the monitor socket is present until drop")
    }

    /// The `inproc://` endpoint the events are published on.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether `MONITOR_STOPPED` was received (or the context ended).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    fn track(&mut self, r: Result<MonitorEventV2>) -> Result<MonitorEventV2> {
        match &r {
            Ok(e) if e.kind == EventKindV2::V1(EventKind::MonitorStopped) => self.stopped = true,
            Err(Error::ContextTerminated) => self.stopped = true,
            _ => {}
        }
        r
    }

    /// The next event if one is queued: `Ok(None)` when there is none (or
    /// after `MONITOR_STOPPED`). A malformed message is an
    /// [`Error::MonitorEventV2`]; the stream goes on.
    pub fn try_next_event(&mut self) -> Result<Option<MonitorEventV2>> {
        if self.stopped {
            return Ok(None);
        }
        match self.socket().try_recv_multipart() {
            Ok(None) => Ok(None),
            Ok(Some(frames)) => self.track(parse_owned(frames)).map(Some),
            Err(e) => self.track(Err(e)).map(Some),
        }
    }

    /// Waits for the next event at most `timeout` (`None`: no limit).
    /// `Ok(None)` on timeout, and at once after `MONITOR_STOPPED`.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<MonitorEventV2>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.stopped {
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

    /// Reads events until one of `kind` arrives, at most `timeout` in all.
    pub fn wait_for(
        &mut self,
        kind: EventKindV2,
        timeout: Option<Duration>,
    ) -> Result<Option<MonitorEventV2>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.next_event(remaining)? {
                Some(event) if event.kind == kind => return Ok(Some(event)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }
}

impl Iterator for MonitorV2 {
    type Item = Result<MonitorEventV2>;

    fn next(&mut self) -> Option<Result<MonitorEventV2>> {
        if self.stopped {
            return None;
        }
        let r = recv_monitor_message_v2(self.socket());
        match self.track(r) {
            Err(Error::ContextTerminated) => None,
            other => Some(other),
        }
    }
}

impl Drop for MonitorV2 {
    fn drop(&mut self) {
        let Some(socket) = self.socket.take() else {
            return;
        };
        if self.stopped {
            return;
        }
        loop {
            match socket.try_recv_multipart() {
                Ok(Some(frames)) if is_monitor_stopped(&frames) => return,
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => return,
            }
        }
        // libzmq still sends here with a blocking send: read on until
        // MONITOR_STOPPED (the monitored socket closes, its monitor stops or
        // the context ends) so no libzmq thread ever blocks.
        let spawned = std::thread::Builder::new()
            .name("zmqx-monitor-v2-drain".into())
            .spawn(move || drain(socket));
        if let Err(e) = spawned {
            eprintln!("zmqx: cannot start a thread to drain a dropped monitor ({e}); leaking it");
        }
    }
}

fn drain(socket: Socket) {
    if socket.set_rcvtimeo(None).is_err() {
        return;
    }
    loop {
        match socket.recv_multipart() {
            Ok(frames) if is_monitor_stopped(&frames) => return,
            Ok(_) => continue,
            Err(_) => return,
        }
    }
}

fn is_monitor_stopped(frames: &[Message]) -> bool {
    decode(frames).is_ok_and(|e| e.kind == EventKindV2::V1(EventKind::MonitorStopped))
}

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
