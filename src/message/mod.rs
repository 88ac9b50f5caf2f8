//! [`Message`] (pyzmq's `Frame`) and [`Frames`]: what can fail and what is
//! safe code. The `zmq_msg_t` itself is owned by `raw.rs` (its only
//! `unsafe`, besides `Frames`' `Sync`); neither `raw.rs` nor `frames.rs`
//! imports anything of zmqx, so `error.rs` can hold `Frames` without an
//! import cycle.

// Not `forbid(unsafe_code)`: it would reach `raw`, the owner of the C
// object, and `frames`' `unsafe impl Sync`. This file has no unsafe code.
#![deny(unsafe_code)]

mod frames;
mod raw;

pub use frames::Frames;
pub use raw::Message;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::constants::MessageOption;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::tracker::MessageTracker;

/// Below this many bytes, owned data is copied into the message instead of
/// handed over (pyzmq's `zmq.COPY_THRESHOLD`, 64 KiB): zero-copy costs a free
/// callback from libzmq's I/O thread, which is dearer than copying small data.
pub const DEFAULT_COPY_THRESHOLD: usize = 65536;

static COPY_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_COPY_THRESHOLD);

/// The current copy threshold (see [`DEFAULT_COPY_THRESHOLD`]).
pub fn copy_threshold() -> usize {
    COPY_THRESHOLD.load(Ordering::Relaxed)
}

/// Changes the copy threshold for the whole process. `0` makes every owned
/// buffer zero-copy; `usize::MAX` copies everything.
pub fn set_copy_threshold(bytes: usize) {
    COPY_THRESHOLD.store(bytes, Ordering::Relaxed);
}

/// A [`Socket`]'s copy threshold when it has none of its own: it follows
/// the process-wide one.
const FOLLOW_PROCESS: usize = usize::MAX;

/// The copy threshold a new socket starts with: the process-wide one.
pub(crate) fn follow_process_copy_threshold() -> AtomicUsize {
    AtomicUsize::new(FOLLOW_PROCESS)
}

impl Socket {
    /// The copy threshold of sends on this socket (pyzmq's
    /// `socket.copy_threshold`): owned buffers (`Vec<u8>`, `String`,
    /// `Box<[u8]>`, `bytes::Bytes`) of at least this many bytes are handed
    /// to libzmq without copying, smaller ones are copied. This socket's own
    /// value if [`set_copy_threshold`](Socket::set_copy_threshold) gave one,
    /// the process-wide [`copy_threshold`] otherwise.
    pub fn copy_threshold(&self) -> usize {
        match self.copy_threshold.load(Ordering::Relaxed) {
            FOLLOW_PROCESS => copy_threshold(),
            own => own,
        }
    }

    /// Sets this socket's copy threshold (see
    /// [`copy_threshold`](Socket::copy_threshold)), overriding the
    /// process-wide one for sends on this socket: `Some(0)` makes every owned
    /// buffer zero-copy, `Some(usize::MAX)` copies everything, `None` follows
    /// the process-wide value again ([`set_copy_threshold`]).
    ///
    /// It applies to what [`Socket::send`] and its multipart forms convert
    /// themselves; a [`Message`] built beforehand ([`Message::from_owned`],
    /// `Message::from(vec)`) was already made with the process-wide value.
    pub fn set_copy_threshold(&self, bytes: Option<usize>) {
        // usize::MAX is the "none" marker; as a threshold it means "copy
        // everything", as does usize::MAX - 1 (no buffer is that large).
        let stored = bytes.map_or(FOLLOW_PROCESS, |b| b.min(usize::MAX - 1));
        self.copy_threshold.store(stored, Ordering::Relaxed);
    }

    /// The threshold the send path uses.
    #[inline]
    pub(crate) fn effective_copy_threshold(&self) -> usize {
        self.copy_threshold()
    }
}

impl Message {
    /// A message over `data` without copying, when `data` is at least
    /// [`copy_threshold`] bytes; a copy otherwise. `data` is dropped once
    /// libzmq no longer needs it (possibly on a libzmq I/O thread).
    ///
    /// Works for `Vec<u8>`, `Box<[u8]>`, `String`, `bytes::Bytes`,
    /// `Arc<[u8]>` or any owner of bytes.
    #[inline]
    pub fn from_owned<T>(data: T) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        if data.as_ref().len() < copy_threshold() {
            return Message::from_slice(data.as_ref());
        }
        Message::zero_copy(data, ())
    }

    /// A message over `data` without copying, whatever its size.
    #[inline]
    pub fn from_owned_zero_copy<T>(data: T) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        Message::zero_copy(data, ())
    }

    /// A zero-copy message whose release is reported to `tracker`
    /// (pyzmq's `Frame(data, track=True)`). Several messages may share one
    /// tracker: it is done when all of them are released.
    pub fn with_tracker<T>(data: T, tracker: &MessageTracker) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        Message::zero_copy(data, tracker.guard())
    }

    /// A zero-copy message and a new tracker for it.
    pub fn tracked<T>(data: T) -> (Message, MessageTracker)
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        let tracker = MessageTracker::new();
        let msg = Message::with_tracker(data, &tracker);
        (msg, tracker)
    }

    /// A message property (`zmq_msg_get`).
    ///
    /// `ZMQ_SRCFD` is `-1` when libzmq does not know the descriptor (libzmq
    /// 4.3 no longer records it, so always): libzmq returns `-1` then, with
    /// errno left as it was or set by its failed metadata lookup, which is
    /// not an error of the call.
    pub fn get(&self, option: MessageOption) -> Result<i32> {
        let call = || self.get_raw(option.raw());
        match crate::functions::value_or_errno(call) {
            Some(Err(_)) | None if option == MessageOption::SrcFd => Ok(-1),
            Some(result) => result,
            None => Err(Error::last()),
        }
    }

    /// A metadata property of a received message (`zmq_msg_gets`):
    /// `"Socket-Type"`, `"Routing-Id"`, `"User-Id"`, `"Peer-Address"`, or an
    /// application property. `Ok(None)` when absent (or the name has a NUL);
    /// an [`Error::Utf8`] when the value is not UTF-8.
    ///
    /// `"Routing-Id"` works as documented: libzmq 4.3.5 stores the peer's
    /// routing id only under its wire name `"Identity"` (the deprecated
    /// alias), so zmqx looks that up when `"Routing-Id"` is absent.
    pub fn gets(&self, property: &str) -> Result<Option<String>> {
        let mut value = self.property(property);
        if value.is_none() && property == "Routing-Id" {
            value = self.property("Identity");
        }
        let Some(value) = value else {
            return Ok(None);
        };
        String::from_utf8(value.to_bytes().to_vec())
            .map(Some)
            .map_err(|e| Error::Utf8 {
                source: e.utf8_error(),
                bytes: e.into_bytes(),
            })
    }

    /// The bytes as a `&str`, if they are UTF-8 (pyzmq's `Frame.bytes.decode()`).
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self).ok()
    }

    /// The bytes as a slice.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self
    }

    /// Sets the routing id a CLIENT/SERVER message goes to (DRAFT,
    /// `zmq_msg_set_routing_id`).
    #[cfg(feature = "draft")]
    pub fn set_routing_id(&mut self, id: u32) -> Result<()> {
        crate::error::check(self.set_routing_id_raw(id)).map(drop)
    }

    /// Sets the group of a RADIO message (DRAFT, `zmq_msg_set_group`), at most
    /// 255 bytes.
    #[cfg(feature = "draft")]
    pub fn set_group(&mut self, group: &str) -> Result<()> {
        let c = std::ffi::CString::new(group)
            .map_err(|_| Error::invalid("group", "interior NUL byte"))?;
        crate::error::check(self.set_group_raw(&c)).map(drop)
    }
}

impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Default for Message {
    fn default() -> Message {
        Message::new()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Message {}

impl PartialEq<[u8]> for Message {
    fn eq(&self, other: &[u8]) -> bool {
        &self[..] == other
    }
}

impl PartialEq<&[u8]> for Message {
    fn eq(&self, other: &&[u8]) -> bool {
        &self[..] == *other
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        &self[..] == other.as_bytes()
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        &self[..] == other.as_bytes()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        let bytes = &self[..];
        let head = &bytes[..bytes.len().min(SHOWN)];
        write!(f, "Message({:?}", String::from_utf8_lossy(head))?;
        if bytes.len() > SHOWN {
            write!(f, "… {} bytes", bytes.len())?;
        }
        f.write_str(")")
    }
}

/// The content as text: UTF-8, with invalid sequences shown as U+FFFD
/// (pyzmq's `frame.bytes.decode(errors="replace")`; [`Message::as_str`]
/// is the checked form). Lets a received part be printed directly.
///
/// ```
/// let m = zmqx::Message::from("hello");
/// assert_eq!(m.to_string(), "hello");
/// assert_eq!(zmqx::Message::from(&b"a\xffb"[..]).to_string(), "a\u{fffd}b");
/// ```
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self[..].utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

impl From<&[u8]> for Message {
    #[inline]
    fn from(b: &[u8]) -> Message {
        Message::from_slice(b)
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    #[inline]
    fn from(b: &[u8; N]) -> Message {
        Message::from_slice(b)
    }
}

impl From<&str> for Message {
    #[inline]
    fn from(s: &str) -> Message {
        Message::from_slice(s.as_bytes())
    }
}

impl From<&String> for Message {
    fn from(s: &String) -> Message {
        Message::from_slice(s.as_bytes())
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Message {
        Message::from_owned(v)
    }
}

impl From<&Vec<u8>> for Message {
    fn from(v: &Vec<u8>) -> Message {
        Message::from_slice(v)
    }
}

impl From<Box<[u8]>> for Message {
    fn from(v: Box<[u8]>) -> Message {
        Message::from_owned(v)
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        Message::from_owned(s)
    }
}

impl From<bytes::Bytes> for Message {
    fn from(b: bytes::Bytes) -> Message {
        Message::from_owned(b)
    }
}

impl From<&Message> for Message {
    fn from(m: &Message) -> Message {
        m.clone()
    }
}

impl From<Message> for Vec<u8> {
    fn from(m: Message) -> Vec<u8> {
        m.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn small_and_large() {
        let small = Message::from(&b"abc"[..]);
        assert_eq!(&small[..], b"abc");
        let big = vec![7u8; 100_000];
        let m = Message::from(big.clone());
        assert_eq!(&m[..], &big[..]);
        assert!(Message::new().is_empty());
        assert_eq!(Message::from_static(b"static"), "static");
    }

    #[test]
    fn moved_small_message_keeps_its_bytes() {
        // Small messages store bytes inline: the data pointer must be taken
        // afresh after every move.
        let v: Vec<Message> = (0..10)
            .map(|i| Message::from(format!("m{i}").as_str()))
            .collect();
        let moved: Vec<Message> = v.into_iter().collect();
        for (i, m) in moved.iter().enumerate() {
            assert_eq!(m.as_str(), Some(format!("m{i}").as_str()));
        }
    }

    #[test]
    fn clone_shares_large_buffers() {
        let m = Message::from_owned_zero_copy(vec![1u8; 1000]);
        let c = m.clone();
        assert_eq!(m, c);
        assert!(m.is_shared());
    }

    #[test]
    fn zero_copy_owner_dropped_and_tracked() -> crate::Result<()> {
        let (m, tracker) = Message::tracked(vec![9u8; 10]);
        assert!(!tracker.done());
        assert!(matches!(
            tracker.wait(Some(Duration::from_millis(10))),
            Err(Error::NotDone)
        ));
        let c = m.clone();
        drop(m);
        assert!(!tracker.done());
        drop(c);
        assert!(tracker.done());
        tracker.wait(Some(Duration::ZERO))?;
        Ok(())
    }

    #[test]
    fn panicking_owner_is_caught() {
        struct Bomb(Vec<u8>);
        impl AsRef<[u8]> for Bomb {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("boom");
            }
        }
        let tracker = MessageTracker::new();
        let m = Message::with_tracker(Bomb(vec![1, 2, 3]), &tracker);
        drop(m);
        assert!(
            tracker.done(),
            "tracker signalled even though the owner panicked"
        );
    }

    #[test]
    fn inline_storage_owner_is_not_moved() {
        // An owner whose bytes live inside it must be boxed before its address is taken.
        struct Inline([u8; 100]);
        impl AsRef<[u8]> for Inline {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        let m = Message::from_owned_zero_copy(Inline([5u8; 100]));
        assert!(m.iter().all(|&b| b == 5));
    }

    #[test]
    fn gets_absent_is_none() -> crate::Result<()> {
        let m = Message::from("x");
        assert_eq!(m.gets("Socket-Type")?, None);
        assert_eq!(m.gets("bad\0name")?, None);
        Ok(())
    }
}
