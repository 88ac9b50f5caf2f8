//! Sending and receiving on a [`Socket`].
//!
//! Blocking calls retry when a signal interrupts them (`EINTR`).
//! Non-blocking `try_*` calls report "would block" as `Ok(None)`.

use std::ffi::c_void;

use super::Socket;
use crate::constants::{RecvFlags, SendFlags};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::tracker::MessageTracker;

mod sealed {
    pub trait Sealed {}
}

/// Data that can be sent as one message part: byte slices and strings
/// (copied by libzmq, no allocation on our side), owned buffers (`Vec<u8>`,
/// `String`, `Box<[u8]>`, `bytes::Bytes`: zero-copy from
/// [`copy_threshold`](crate::copy_threshold) bytes up), and [`Message`]s.
///
/// Sending `&mut Message` leaves the message empty on success and untouched
/// when the call fails or would block, so nothing is lost.
pub trait Sendable: sealed::Sealed {
    #[doc(hidden)]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()>;
}

macro_rules! sendable_borrowed {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Sendable for $t {
            #[inline]
            fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
                let bytes: &[u8] = self.as_ref();
                socket.send_slice(bytes, flags)
            }
        }
    )*};
}

sendable_borrowed!(&[u8], &Vec<u8>, &str, &String, &bytes::Bytes, &Box<[u8]>);

impl<const N: usize> sealed::Sealed for &[u8; N] {}
impl<const N: usize> Sendable for &[u8; N] {
    #[inline]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_slice(self, flags)
    }
}

macro_rules! sendable_owned {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Sendable for $t {
            #[inline]
            fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
                let bytes: &[u8] = self.as_ref();
                if bytes.len() < socket.effective_copy_threshold() {
                    return socket.send_slice(bytes, flags);
                }
                let mut msg = Message::from_owned_zero_copy(self);
                socket.send_message(&mut msg, flags)
            }
        }
    )*};
}

sendable_owned!(Vec<u8>, String, Box<[u8]>, bytes::Bytes);

impl sealed::Sealed for Message {}
impl Sendable for Message {
    #[inline]
    fn send_on(mut self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_message(&mut self, flags)
    }
}

impl sealed::Sealed for &mut Message {}
impl Sendable for &mut Message {
    #[inline]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_message(self, flags)
    }
}

impl sealed::Sealed for &Message {}
impl Sendable for &Message {
    /// Sends a shared copy (`zmq_msg_copy`); the message stays as it is.
    #[inline]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_message(&mut self.clone(), flags)
    }
}

/// Retries `f` while it fails with `EINTR`.
#[inline(always)]
fn retry<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    loop {
        match f() {
            Err(Error::Interrupted) => continue,
            other => return other,
        }
    }
}

/// `Err(Again)` becomes `Ok(None)`.
#[inline]
fn would_block<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Again) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Socket {
    #[inline]
    pub(crate) fn send_slice(&self, data: &[u8], flags: i32) -> Result<()> {
        retry(|| {
            // SAFETY: raw is a live socket; data is readable for its length
            // and libzmq copies it before returning.
            let rc = unsafe {
                zmq_sys::zmq_send(self.raw, data.as_ptr() as *const c_void, data.len(), flags)
            };
            if rc >= 0 { Ok(()) } else { Err(Error::last()) }
        })
    }

    #[inline]
    pub(crate) fn send_message(&self, msg: &mut Message, flags: i32) -> Result<()> {
        retry(|| {
            // SAFETY: raw is a live socket; the message is initialised and
            // exclusively ours. On success libzmq takes its content and leaves
            // it empty; on failure it is unchanged.
            let rc = unsafe { zmq_sys::zmq_msg_send(msg.as_raw_mut(), self.raw, flags) };
            if rc >= 0 { Ok(()) } else { Err(Error::last()) }
        })
    }

    /// Sends one message part (`zmq_send` / `zmq_msg_send`), blocking unless
    /// `flags` has `DONTWAIT` (then a full queue is [`Error::Again`]).
    #[inline]
    pub fn send<D: Sendable>(&self, data: D, flags: SendFlags) -> Result<()> {
        data.send_on(self, flags.bits())
    }

    /// Sends one part without blocking: `Ok(None)` when it would block.
    /// An owned `Message` passed by value is dropped then; pass `&mut Message`
    /// to keep it.
    #[inline]
    pub fn try_send<D: Sendable>(&self, data: D, flags: SendFlags) -> Result<Option<()>> {
        would_block(data.send_on(self, (flags | SendFlags::DONTWAIT).bits()))
    }

    /// Sends a multipart message: every part but the last with `SNDMORE`
    /// (pyzmq's `send_multipart`). Parts may be any [`Sendable`].
    ///
    /// libzmq delivers multipart messages atomically: the peer gets all parts
    /// or none. With `DONTWAIT`, only the first part can fail with
    /// [`Error::Again`]; later parts are then always accepted.
    ///
    /// A message has at least one part: no parts at all is an
    /// [`Error::InvalidInput`] (nothing is sent).
    pub fn send_multipart<I, D>(&self, parts: I, flags: SendFlags) -> Result<()>
    where
        I: IntoIterator<Item = D>,
        D: Sendable,
    {
        let mut parts = parts.into_iter();
        let Some(mut current) = parts.next() else {
            return Err(Error::invalid(
                "multipart message",
                "it has no parts; send at least one (possibly empty) part",
            ));
        };
        let base = flags - SendFlags::SNDMORE;
        let mut f = base;
        for next in parts {
            current.send_on(self, (f | SendFlags::SNDMORE).bits())?;
            // Only the first part may be non-blocking: once it is queued, the
            // rest must follow or the message would be cut in half.
            f = base - SendFlags::DONTWAIT;
            current = next;
        }
        current.send_on(self, f.bits())
    }

    /// Sends a multipart message without blocking: `Ok(None)` when the first
    /// part would block (then nothing was sent).
    pub fn try_send_multipart<I, D>(&self, parts: I, flags: SendFlags) -> Result<Option<()>>
    where
        I: IntoIterator<Item = D>,
        D: Sendable,
    {
        would_block(self.send_multipart(parts, flags | SendFlags::DONTWAIT))
    }

    /// Sends a multipart message without copying any part and returns one
    /// tracker for all of them (pyzmq's `send_multipart(copy=False, track=True)`).
    pub fn send_multipart_tracked<I, T>(&self, parts: I, flags: SendFlags) -> Result<MessageTracker>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]> + Send + 'static,
    {
        let tracker = MessageTracker::new();
        let msgs: Vec<Message> = parts
            .into_iter()
            .map(|p| Message::with_tracker(p, &tracker))
            .collect();
        self.send_multipart(msgs, flags)?;
        Ok(tracker)
    }

    /// Receives one part into `msg`, replacing its content (`zmq_msg_recv`).
    /// Reusing one `Message` receives without any allocation by zmqx.
    #[inline]
    pub fn recv_msg_into(&self, msg: &mut Message, flags: RecvFlags) -> Result<()> {
        retry(|| {
            // SAFETY: raw is a live socket; msg is initialised and exclusively
            // ours; libzmq releases its old content and fills it.
            let rc = unsafe { zmq_sys::zmq_msg_recv(msg.as_raw_mut(), self.raw, flags.bits()) };
            if rc >= 0 { Ok(()) } else { Err(Error::last()) }
        })
    }

    /// Receives one part as a [`Message`] (pyzmq's `recv(copy=False)`).
    #[inline]
    pub fn recv_msg(&self, flags: RecvFlags) -> Result<Message> {
        let mut msg = Message::new();
        self.recv_msg_into(&mut msg, flags)?;
        Ok(msg)
    }

    /// Receives one part without blocking: `Ok(None)` when nothing is there.
    pub fn try_recv_msg(&self, flags: RecvFlags) -> Result<Option<Message>> {
        would_block(self.recv_msg(flags | RecvFlags::DONTWAIT))
    }

    /// Receives one part as bytes (pyzmq's `recv()`).
    pub fn recv_bytes(&self, flags: RecvFlags) -> Result<Vec<u8>> {
        Ok(self.recv_msg(flags)?.to_vec())
    }

    /// Receives one part as bytes without blocking.
    pub fn try_recv_bytes(&self, flags: RecvFlags) -> Result<Option<Vec<u8>>> {
        would_block(self.recv_bytes(flags | RecvFlags::DONTWAIT))
    }

    /// Receives one part as a UTF-8 string (pyzmq's `recv_string`). Invalid
    /// UTF-8 is an [`Error::Utf8`] that carries the bytes: nothing is lost.
    pub fn recv_string(&self, flags: RecvFlags) -> Result<String> {
        let bytes = self.recv_bytes(flags)?;
        String::from_utf8(bytes).map_err(|e| Error::Utf8 {
            source: e.utf8_error(),
            bytes: e.into_bytes(),
        })
    }

    /// Receives one part as a string without blocking.
    pub fn try_recv_string(&self, flags: RecvFlags) -> Result<Option<String>> {
        would_block(self.recv_string(flags | RecvFlags::DONTWAIT))
    }

    /// Receives one part into `buf` (`zmq_recv`), returning the message's real
    /// size: if it is larger than `buf.len()`, the message was truncated to
    /// fit (pyzmq's `recv_into`).
    pub fn recv_into(&self, buf: &mut [u8], flags: RecvFlags) -> Result<usize> {
        retry(|| {
            // SAFETY: raw is a live socket; buf is writable for its length and
            // libzmq writes at most that many bytes.
            let rc = unsafe {
                zmq_sys::zmq_recv(
                    self.raw,
                    buf.as_mut_ptr() as *mut c_void,
                    buf.len(),
                    flags.bits(),
                )
            };
            if rc >= 0 {
                Ok(rc as usize)
            } else {
                Err(Error::last())
            }
        })
    }

    /// Receives all parts of one message (pyzmq's `recv_multipart(copy=False)`),
    /// without copying any of them.
    pub fn recv_multipart(&self, flags: RecvFlags) -> Result<Vec<Message>> {
        let mut parts = Vec::new();
        self.recv_multipart_into(&mut parts, flags)?;
        Ok(parts)
    }

    /// Receives all parts of one message, appending them to `parts` (reuse the
    /// vector to avoid its allocation). Only the first part honours
    /// `DONTWAIT`: the rest are always there once the first has arrived.
    pub fn recv_multipart_into(&self, parts: &mut Vec<Message>, flags: RecvFlags) -> Result<()> {
        // Receive each part in place in the vector: no move per part.
        let mut f = flags;
        loop {
            let idx = parts.len();
            parts.push(Message::new());
            let part = &mut parts[idx];
            let more = match self.recv_msg_into(part, f) {
                Ok(()) => part.more(),
                Err(e) => {
                    parts.pop();
                    return Err(e);
                }
            };
            if !more {
                return Ok(());
            }
            f = flags - RecvFlags::DONTWAIT;
        }
    }

    /// Receives a multipart message without blocking: `Ok(None)` when nothing
    /// is there.
    pub fn try_recv_multipart(&self, flags: RecvFlags) -> Result<Option<Vec<Message>>> {
        would_block(self.recv_multipart(flags | RecvFlags::DONTWAIT))
    }

    /// Receives a multipart message as byte vectors (pyzmq's `recv_multipart()`).
    pub fn recv_multipart_bytes(&self, flags: RecvFlags) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .recv_multipart(flags)?
            .into_iter()
            .map(Vec::from)
            .collect())
    }

    /// Sends a string (pyzmq's `send_string`), UTF-8 encoded.
    pub fn send_string(&self, s: &str, flags: SendFlags) -> Result<()> {
        self.send(s, flags)
    }
}
