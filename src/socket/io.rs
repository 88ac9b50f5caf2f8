//! Sending and receiving on a [`Socket`].
//!
//! Blocking calls retry when a signal interrupts them (`EINTR`).
//! Non-blocking `try_*` calls report "would block" as `Ok(None)` when they
//! return a value and `Ok(false)` when they return nothing.

use std::ffi::{c_int, c_void};

use super::Socket;
use crate::constants::SendFlags;
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

    /// What an async send keeps until libzmq takes it.
    #[doc(hidden)]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a;
}

/// What an async send keeps until libzmq takes it: borrowed bytes (copied
/// by `zmq_send` when libzmq takes them), a [`Message`], or the caller's
/// `&mut Message`. Not nameable outside the crate.
///
/// Borrowed bytes are not copied into a [`Message`] up front: that message
/// would be moved into the future and again into the caller's state, 72
/// bytes each time, and those copies (re-reading what `zmq_msg_init_size`
/// has just written) cost more wall-clock time than the send itself.
#[doc(hidden)]
#[derive(Debug)]
pub enum Outgoing<'a> {
    /// Borrowed bytes, copied by `zmq_send` once the socket can send.
    Bytes(&'a [u8]),
    /// An owned message, whose content libzmq takes.
    Owned(Message),
    /// The caller's message: emptied on success, untouched otherwise.
    Borrowed(&'a mut Message),
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

            #[inline]
            fn into_outgoing<'a>(self) -> Outgoing<'a>
            where
                Self: 'a,
            {
                Outgoing::Bytes(self.as_ref())
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

    #[inline]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Bytes(self)
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

            #[inline]
            fn into_outgoing<'a>(self) -> Outgoing<'a>
            where
                Self: 'a,
            {
                Outgoing::Owned(Message::from(self))
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

    #[inline]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Owned(self)
    }
}

impl sealed::Sealed for &mut Message {}
impl Sendable for &mut Message {
    #[inline]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_message(self, flags)
    }

    #[inline]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Borrowed(self)
    }
}

impl sealed::Sealed for &Message {}
impl Sendable for &Message {
    /// Sends a shared copy (`zmq_msg_copy`); the message stays as it is.
    #[inline]
    fn send_on(self, socket: &Socket, flags: i32) -> Result<()> {
        socket.send_message(&mut self.clone(), flags)
    }

    #[inline]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Owned(self.clone())
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

/// `Err(Again)` becomes `Ok(false)`.
#[inline]
fn sent(r: Result<()>) -> Result<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(Error::Again) => Ok(false),
        Err(e) => Err(e),
    }
}

/// After a failed `ZMQ_DONTWAIT` call: `Ok(false)` for `EAGAIN`, `None` for
/// `EINTR` (try again), the error otherwise. Out of line: the callers' fast
/// path is the call that succeeds.
#[cold]
#[inline(never)]
fn nowait_failed() -> Option<Result<bool>> {
    match crate::error::errno() {
        libc::EAGAIN => Some(Ok(false)),
        libc::EINTR => None,
        e => Some(Err(Error::from_errno(e))),
    }
}

/// Runs a libzmq call made with `ZMQ_DONTWAIT` (its return code) until it is
/// not interrupted: `Ok(true)` when it succeeded, `Ok(false)` when it would
/// block, without making an [`Error`] for that (the async paths meet
/// `EAGAIN` on every wait).
#[inline(always)]
fn nowait(mut call: impl FnMut() -> c_int) -> Result<bool> {
    loop {
        if call() >= 0 {
            return Ok(true);
        }
        if let Some(r) = nowait_failed() {
            return r;
        }
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

    // Always inlined, and a plain loop rather than `retry` with a closure:
    // each public receive is then one function around `zmq_msg_recv`
    // (callgrind, 1 B inproc: 831.8 instructions per message against C's
    // 835.1; 858 with the closure left out of line).
    #[inline(always)]
    fn recv_raw(&self, msg: &mut Message, flags: i32) -> Result<()> {
        loop {
            // SAFETY: raw is a live socket; msg is initialised and exclusively
            // ours; libzmq releases its old content and fills it.
            let rc = unsafe { zmq_sys::zmq_msg_recv(msg.as_raw_mut(), self.raw, flags) };
            if rc >= 0 {
                return Ok(());
            }
            match Error::last() {
                Error::Interrupted => continue,
                e => return Err(e),
            }
        }
    }

    /// `zmq_msg_recv` with `ZMQ_DONTWAIT`: `Ok(false)` when nothing is
    /// there, without making an [`Error`] for it (the async receive path
    /// meets `EAGAIN` on every wait).
    #[inline(always)]
    pub(crate) fn recv_nowait(&self, msg: &mut Message) -> Result<bool> {
        // SAFETY: as in `recv_raw`.
        nowait(|| unsafe {
            zmq_sys::zmq_msg_recv(msg.as_raw_mut(), self.raw, zmq_sys::ZMQ_DONTWAIT)
        })
    }

    /// `zmq_msg_send` of one part with `ZMQ_DONTWAIT`: `Ok(false)` when it
    /// would block (`msg` is then untouched), without making an [`Error`].
    #[inline(always)]
    #[cfg_attr(not(all(feature = "tokio", unix)), allow(dead_code))]
    pub(crate) fn send_nowait(&self, msg: &mut Message) -> Result<bool> {
        // SAFETY: as in `send_message`.
        nowait(|| unsafe {
            zmq_sys::zmq_msg_send(msg.as_raw_mut(), self.raw, zmq_sys::ZMQ_DONTWAIT)
        })
    }

    /// Sends `data` (copied by libzmq) if the socket can take it now:
    /// `Ok(false)` when it would block, and nothing was sent.
    #[inline(always)]
    #[cfg_attr(not(all(feature = "tokio", unix)), allow(dead_code))]
    pub(crate) fn send_slice_nowait(&self, data: &[u8]) -> Result<bool> {
        // SAFETY: as in `send_slice`.
        nowait(|| unsafe {
            zmq_sys::zmq_send(
                self.raw,
                data.as_ptr() as *const c_void,
                data.len(),
                zmq_sys::ZMQ_DONTWAIT,
            )
        })
    }

    /// Sends one message part (`zmq_send` / `zmq_msg_send`; pyzmq's
    /// `send(data)`), blocking until libzmq queues it (or `SNDTIMEO`
    /// expires: [`Error::Again`]).
    ///
    /// `data` is any [`Sendable`]: `&str`, `&[u8]`, `Vec<u8>`, `String`,
    /// `bytes::Bytes`, a [`Message`]…
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// # let ctx = zmqx::Context::new();
    /// # let pull = ctx.socket(zmqx::SocketType::Pull)?;
    /// # pull.bind("inproc://send-doc")?;
    /// # let s = ctx.socket(zmqx::SocketType::Push)?;
    /// # s.connect("inproc://send-doc")?;
    /// s.send("hello")?;
    /// s.send(vec![1u8, 2, 3])?;
    /// # Ok(()) }
    /// ```
    #[inline]
    #[doc(alias = "zmq_send")]
    #[doc(alias = "zmq_msg_send")]
    pub fn send<D: Sendable>(&self, data: D) -> Result<()> {
        data.send_on(self, 0)
    }

    /// Sends one part with explicit flags (pyzmq's `send(data, flags)`):
    /// [`SendFlags::SNDMORE`] to start or continue a multipart message by
    /// hand, [`SendFlags::DONTWAIT`] to fail with [`Error::Again`] instead of
    /// blocking. [`send`](Socket::send), [`send_multipart`](Socket::send_multipart)
    /// and [`try_send`](Socket::try_send) cover the common cases.
    #[inline]
    pub fn send_with<D: Sendable>(&self, data: D, flags: SendFlags) -> Result<()> {
        data.send_on(self, flags.bits())
    }

    /// Sends one part without blocking: `Ok(false)` when it would block
    /// (then nothing was sent). An owned `Message` passed by value is dropped
    /// then; pass `&mut Message` to keep it.
    #[inline]
    pub fn try_send<D: Sendable>(&self, data: D) -> Result<bool> {
        sent(data.send_on(self, SendFlags::DONTWAIT.bits()))
    }

    /// Sends a multipart message: every part but the last with `SNDMORE`
    /// (pyzmq's `send_multipart`). Parts may be any [`Sendable`].
    ///
    /// libzmq delivers multipart messages atomically: the peer gets all parts
    /// or none.
    ///
    /// A message has at least one part: no parts at all is an
    /// [`Error::InvalidInput`] (nothing is sent).
    pub fn send_multipart<I, D>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator<Item = D>,
        D: Sendable,
    {
        self.send_parts(parts, 0)
    }

    /// Sends a multipart message without blocking: `Ok(false)` when the first
    /// part would block (then nothing was sent). Once the first part is
    /// queued the rest always follow.
    pub fn try_send_multipart<I, D>(&self, parts: I) -> Result<bool>
    where
        I: IntoIterator<Item = D>,
        D: Sendable,
    {
        sent(self.send_parts(parts, zmq_sys::ZMQ_DONTWAIT))
    }

    fn send_parts<I, D>(&self, parts: I, first: i32) -> Result<()>
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
        let mut f = first;
        for next in parts {
            current.send_on(self, f | zmq_sys::ZMQ_SNDMORE)?;
            // Only the first part may be non-blocking: once it is queued, the
            // rest must follow or the message would be cut in half.
            f = 0;
            current = next;
        }
        current.send_on(self, f)
    }

    /// Sends a multipart message without copying any part and returns one
    /// tracker for all of them (pyzmq's `send_multipart(copy=False, track=True)`).
    pub fn send_multipart_tracked<I, T>(&self, parts: I) -> Result<MessageTracker>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]> + Send + 'static,
    {
        let tracker = MessageTracker::new();
        let msgs: Vec<Message> = parts
            .into_iter()
            .map(|p| Message::with_tracker(p, &tracker))
            .collect();
        self.send_multipart(msgs)?;
        Ok(tracker)
    }

    /// Sends a string (pyzmq's `send_string`), UTF-8 encoded. The same as
    /// [`send`](Socket::send) with a `&str`.
    pub fn send_string(&self, s: &str) -> Result<()> {
        self.send(s)
    }

    /// Receives one part into `msg`, replacing its content (`zmq_msg_recv`).
    /// Reusing one `Message` receives without any allocation by zmqx.
    #[inline]
    #[doc(alias = "zmq_msg_recv")]
    pub fn recv_msg_into(&self, msg: &mut Message) -> Result<()> {
        self.recv_raw(msg, 0)
    }

    /// Receives one part into `msg` without blocking: `Ok(false)` when
    /// nothing is there. libzmq releases the old content of `msg` when it
    /// tries to receive, so `msg` may then be empty (never invalid).
    #[inline]
    pub fn try_recv_msg_into(&self, msg: &mut Message) -> Result<bool> {
        self.recv_nowait(msg)
    }

    /// Receives a batch of parts into `buffer`, reusing its messages as
    /// [`recv_msg_into`](Self::recv_msg_into) does: waits for the first
    /// part as [`recv_msg`](Self::recv_msg) does (`RCVTIMEO` applies), then
    /// takes those already queued, without waiting, until `buffer` is full.
    /// Returns how many parts it received, into `buffer[..n]`: at least one,
    /// unless `buffer` is empty (then 0, at once). zmqx's addition (pyzmq
    /// has none; tokio's `mpsc::Receiver::recv_many` is the same idea, with
    /// a `Vec` to append to: here the messages are reused, so a loop over
    /// batches allocates nothing).
    ///
    /// Each part is its own [`Message`]; [`Message::more`] tells where a
    /// multipart message goes on (a batch may end inside one: the next call
    /// continues it). After the first part, the batch ends at the first part
    /// that is not there yet, or at an error, which is left for the next
    /// call to report (a REQ socket, for one, fails a second receive with
    /// [`Error::InvalidState`]): a received part is never dropped for it.
    /// libzmq releases the old content of a message when it tries to receive
    /// into it, so `buffer[n]` may be empty afterwards.
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// let ctx = zmqx::Context::new();
    /// let pull = ctx.socket(zmqx::SocketType::Pull)?;
    /// pull.bind("inproc://recv-many-doc")?;
    /// let push = ctx.socket(zmqx::SocketType::Push)?;
    /// push.connect("inproc://recv-many-doc")?;
    /// for i in 0..3 {
    ///     push.send(format!("job {i}").as_str())?;
    /// }
    /// let mut batch: Vec<zmqx::Message> = (0..64).map(|_| zmqx::Message::new()).collect();
    /// let n = pull.recv_many(&mut batch)?;
    /// assert_eq!(n, 3);
    /// assert_eq!(batch[2], "job 2");
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_many(&self, buffer: &mut [Message]) -> Result<usize> {
        let Some((first, rest)) = buffer.split_first_mut() else {
            return Ok(0);
        };
        self.recv_msg_into(first)?;
        Ok(1 + self.recv_queued(rest))
    }

    /// [`recv_many`](Self::recv_many) without waiting for the first part:
    /// `Ok(None)` when none is there (the async sockets' batch receive).
    #[inline]
    #[cfg_attr(
        not(any(all(feature = "tokio", unix), feature = "draft")),
        allow(dead_code)
    )]
    pub(crate) fn try_recv_many(&self, buffer: &mut [Message]) -> Result<Option<usize>> {
        let Some((first, rest)) = buffer.split_first_mut() else {
            return Ok(Some(0));
        };
        Ok(self.recv_nowait(first)?.then(|| 1 + self.recv_queued(rest)))
    }

    /// Receives the parts already queued into `slots`, in order, without
    /// waiting: the rest of a [`recv_many`](Self::recv_many). Stops at the
    /// first part that is not there or fails (see there); returns how many
    /// slots it filled.
    #[inline]
    fn recv_queued(&self, slots: &mut [Message]) -> usize {
        let mut n = 0;
        for slot in slots {
            match self.recv_nowait(slot) {
                Ok(true) => n += 1,
                Ok(false) | Err(_) => break,
            }
        }
        n
    }

    /// Receives one part as a [`Message`] (pyzmq's `recv(copy=False)`),
    /// without copying it.
    #[inline]
    pub fn recv_msg(&self) -> Result<Message> {
        let mut msg = Message::new();
        self.recv_raw(&mut msg, 0)?;
        Ok(msg)
    }

    /// Receives one part without blocking: `Ok(None)` when nothing is there.
    pub fn try_recv_msg(&self) -> Result<Option<Message>> {
        let mut msg = Message::new();
        Ok(self.try_recv_msg_into(&mut msg)?.then_some(msg))
    }

    /// Receives one part as bytes (pyzmq's `recv()`).
    pub fn recv_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.recv_msg()?.to_vec())
    }

    /// Receives one part as bytes without blocking.
    pub fn try_recv_bytes(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.try_recv_msg()?.map(|m| m.to_vec()))
    }

    /// Receives one part as a UTF-8 string (pyzmq's `recv_string`). Invalid
    /// UTF-8 is an [`Error::Utf8`] that carries the bytes: nothing is lost.
    pub fn recv_string(&self) -> Result<String> {
        utf8(self.recv_bytes()?)
    }

    /// Receives one part as a string without blocking.
    pub fn try_recv_string(&self) -> Result<Option<String>> {
        self.try_recv_bytes()?.map(utf8).transpose()
    }

    /// Receives one part into `buf` (`zmq_recv`), returning the message's real
    /// size: if it is larger than `buf.len()`, the message was truncated to
    /// fit (pyzmq's `recv_into`).
    #[doc(alias = "zmq_recv")]
    pub fn recv_into(&self, buf: &mut [u8]) -> Result<usize> {
        self.recv_into_raw(buf, 0)
    }

    /// [`recv_into`](Socket::recv_into) without blocking: `Ok(None)` when
    /// nothing is there.
    pub fn try_recv_into(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        would_block(self.recv_into_raw(buf, zmq_sys::ZMQ_DONTWAIT))
    }

    fn recv_into_raw(&self, buf: &mut [u8], flags: i32) -> Result<usize> {
        retry(|| {
            // SAFETY: raw is a live socket; buf is writable for its length and
            // libzmq writes at most that many bytes.
            let rc = unsafe {
                zmq_sys::zmq_recv(self.raw, buf.as_mut_ptr() as *mut c_void, buf.len(), flags)
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
    pub fn recv_multipart(&self) -> Result<Vec<Message>> {
        let mut parts = Vec::new();
        self.recv_parts(&mut parts, 0)?;
        Ok(parts)
    }

    /// Receives all parts of one message, appending them to `parts` (reuse the
    /// vector to avoid its allocation).
    pub fn recv_multipart_into(&self, parts: &mut Vec<Message>) -> Result<()> {
        self.recv_parts(parts, 0)
    }

    /// [`recv_multipart_into`](Socket::recv_multipart_into) without blocking:
    /// `Ok(false)` when nothing is there (then `parts` is unchanged).
    pub fn try_recv_multipart_into(&self, parts: &mut Vec<Message>) -> Result<bool> {
        sent(self.recv_parts(parts, zmq_sys::ZMQ_DONTWAIT))
    }

    /// Receives a multipart message without blocking: `Ok(None)` when nothing
    /// is there.
    pub fn try_recv_multipart(&self) -> Result<Option<Vec<Message>>> {
        let mut parts = Vec::new();
        Ok(self.try_recv_multipart_into(&mut parts)?.then_some(parts))
    }

    /// Receives a multipart message as byte vectors (pyzmq's `recv_multipart()`).
    pub fn recv_multipart_bytes(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self.recv_multipart()?.into_iter().map(Vec::from).collect())
    }

    /// Only the first part honours `DONTWAIT`: the rest are always there once
    /// the first has arrived.
    fn recv_parts(&self, parts: &mut Vec<Message>, first: i32) -> Result<()> {
        // Receive each part in place in the vector: no move per part.
        let mut f = first;
        loop {
            let idx = parts.len();
            parts.push(Message::new());
            let part = &mut parts[idx];
            let more = match self.recv_raw(part, f) {
                Ok(()) => part.more(),
                Err(e) => {
                    parts.pop();
                    return Err(e);
                }
            };
            if !more {
                return Ok(());
            }
            f = 0;
        }
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::Utf8 {
        source: e.utf8_error(),
        bytes: e.into_bytes(),
    })
}
