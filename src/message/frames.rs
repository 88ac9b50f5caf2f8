//! [`Frames`]: received message parts handed back inside an error. It
//! depends on the [`Message`] owner alone, so `error.rs` can hold it without
//! an import cycle.

use std::fmt;

use super::raw::Message;

/// Received message parts handed back inside an [`Error`](crate::Error) (a
/// payload that did not decode, a message over a size limit…), so nothing is
/// lost.
///
/// It holds the [`Message`]s themselves, not copies. Unlike `Message` it is
/// `Sync`, which keeps [`Error`](crate::Error) `Send + Sync` (and convertible
/// to [`std::io::Error`]): through a shared `&Frames` only the bytes can be
/// read; the messages come back by value with [`Frames::into_messages`].
///
/// ```
/// let frames = zmqx::Frames::from(vec![zmqx::Message::from("a"), zmqx::Message::from("bc")]);
/// assert_eq!(frames.len(), 2);
/// assert_eq!(&frames[1], b"bc");
/// assert_eq!(frames.total_len(), 3);
/// let messages: Vec<zmqx::Message> = frames.into_messages();
/// assert_eq!(messages[0], "a");
/// ```
#[derive(Default)]
pub struct Frames(Vec<Message>);

// SAFETY: Message is !Sync only because `Clone` (zmq_msg_copy) writes to the
// source message's reference count and flags. A shared `&Frames` exposes
// nothing but the bytes and sizes (zmq_msg_data / zmq_msg_size, which only
// read the message); it never hands out `&Message` (its own `Debug` only
// reads the bytes), so no clone can happen through it. The messages leave
// only by value (`into_messages`).
#[allow(unsafe_code)]
unsafe impl Sync for Frames {}

impl Frames {
    /// Wraps received messages.
    pub fn new(messages: Vec<Message>) -> Frames {
        Frames(messages)
    }

    /// The number of parts.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no parts.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes of part `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.0.get(index).map(|m| &m[..])
    }

    /// The bytes of every part, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.0.iter().map(|m| &m[..])
    }

    /// The size of all parts together, in bytes.
    pub fn total_len(&self) -> usize {
        self.0.iter().map(|m| m.len()).sum()
    }

    /// The messages, as received (without copying).
    pub fn into_messages(self) -> Vec<Message> {
        self.0
    }

    /// A copy of every part's bytes (pyzmq's `recv_multipart()` list).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

impl std::ops::Index<usize> for Frames {
    type Output = [u8];

    fn index(&self, index: usize) -> &[u8] {
        &self.0[index]
    }
}

impl From<Vec<Message>> for Frames {
    fn from(messages: Vec<Message>) -> Frames {
        Frames(messages)
    }
}

impl From<Message> for Frames {
    fn from(message: Message) -> Frames {
        Frames(vec![message])
    }
}

impl From<Frames> for Vec<Message> {
    fn from(frames: Frames) -> Vec<Message> {
        frames.0
    }
}

impl fmt::Debug for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}
