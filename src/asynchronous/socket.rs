//! [`AsyncSocket`] and its halves, [`AsyncSender`] and [`AsyncReceiver`].
#![forbid(unsafe_code)]

use std::future::{Future, poll_fn};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
#[cfg(feature = "json")]
use serde::Serialize;
#[cfg(feature = "json")]
use serde::de::DeserializeOwned;

use super::engine::{Inner, Slot};
use crate::constants::PollEvents;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::serialize::Serializer;
use crate::socket::{Outgoing, Sendable, Socket};
use crate::tracker::MessageTracker;

/// The state of one operation future: the socket and what it keeps once it
/// has had to wait. `IN`: it waits for `POLLIN` (a receive), else for
/// `POLLOUT` (a send); a constant, so that the future need not store it.
///
/// An operation that completes in its first poll (the usual case when data
/// flows) never fills `wait`, and its drop is then a single test.
struct Op<'a, const IN: bool> {
    inner: &'a Inner,
    /// `None` until the operation first has to wait. Dropped by `Op`'s
    /// `Drop`, so that the drop of an operation that never waited is one
    /// inlined test instead of a call to the drop glue.
    wait: ManuallyDrop<Option<Waiting>>,
}

impl<const IN: bool> Drop for Op<'_, IN> {
    #[inline]
    fn drop(&mut self) {
        if self.wait.is_some() {
            drop_waiting(&mut self.wait);
        }
    }
}

/// Drops what an operation kept while waiting (its slot: the registration
/// leaves the socket; its timer). Leaves `None`, which owns nothing.
#[cold]
#[inline(never)]
fn drop_waiting(wait: &mut Option<Waiting>) {
    drop(wait.take());
}

/// What an operation keeps across polls once it has had to wait: its waiter
/// slot and the timer of `RCVTIMEO`/`SNDTIMEO` (`None`: no timeout).
struct Waiting {
    slot: Slot,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A receive's [`Op`].
type RecvOp<'a> = Op<'a, true>;
/// A send's [`Op`].
type SendOp<'a> = Op<'a, false>;

impl<'a, const IN: bool> Op<'a, IN> {
    /// The event the operation waits for.
    const WANT: PollEvents = if IN {
        PollEvents::POLLIN
    } else {
        PollEvents::POLLOUT
    };

    #[inline]
    fn new(inner: &'a Inner) -> Op<'a, IN> {
        Op {
            inner,
            wait: ManuallyDrop::new(None),
        }
    }

    #[inline(always)]
    fn poll<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut(&Socket) -> Result<Option<R>>,
    ) -> Poll<Result<R>> {
        let Some(wait) = &mut *self.wait else {
            return self.poll_first(cx, op);
        };
        match self.inner.poll_op(cx, &mut wait.slot, Self::WANT, op) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => poll_timer(&mut wait.timer, cx),
        }
    }

    /// The first poll: no slot until the operation has to wait (then
    /// `start_waiting` keeps it, with its registration).
    #[inline(always)]
    fn poll_first<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut(&Socket) -> Result<Option<R>>,
    ) -> Poll<Result<R>> {
        let inner = self.inner;
        inner.poll_op_first(cx, Self::WANT, op, |cx, slot| self.start_waiting(cx, slot))
    }

    /// The operation has to wait for the first time: keeps its slot, and
    /// arms the timer of `RCVTIMEO`/`SNDTIMEO` (`Error::Again` at once for a
    /// zero timeout).
    #[cold]
    #[inline(never)]
    fn start_waiting<R>(&mut self, cx: &mut Context<'_>, slot: Slot) -> Poll<Result<R>> {
        let timer = match self.inner.timeout(IN) {
            Ok(Some(d)) if d.is_zero() => return Poll::Ready(Err(Error::Again)),
            Ok(Some(d)) => Some(Box::pin(tokio::time::sleep(d))),
            _ => None,
        };
        let wait = self.wait.insert(Waiting { slot, timer });
        poll_timer(&mut wait.timer, cx)
    }
}

/// While an operation waits: `Error::Again` once its timer has expired.
#[inline]
fn poll_timer<R>(
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
) -> Poll<Result<R>> {
    if let Some(sleep) = timer {
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Error::Again));
        }
    }
    Poll::Pending
}

/// The future of [`AsyncSocket::send`]: keeps what it sends until libzmq
/// takes it (a `&mut Message` is left untouched when the send would
/// block).
struct SendMsg<'a> {
    op: SendOp<'a>,
    /// `None` once sent.
    out: Option<Outgoing<'a>>,
}

impl Future for SendMsg<'_> {
    type Output = Result<()>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let me = self.get_mut();
        // One operation per kind of content, so that each inlines into
        // this poll.
        let sent = match me.out.as_mut() {
            // Polled again after completion: the message was sent.
            None => return Poll::Ready(Ok(())),
            Some(Outgoing::Bytes(bytes)) => {
                let bytes: &[u8] = bytes;
                me.op
                    .poll(cx, |s| Ok(s.send_slice_nowait(bytes)?.then_some(())))
            }
            Some(Outgoing::Owned(msg)) => me.op.poll(cx, |s| send_op(s, msg)),
            Some(Outgoing::Borrowed(msg)) => me.op.poll(cx, |s| send_op(s, msg)),
        };
        match sent {
            Poll::Ready(Ok(())) => {
                // libzmq has taken an owned message's content and left an
                // empty message that needs no `zmq_msg_close`
                // (zmq_msg_send(3)): skip that call.
                if let Some(Outgoing::Owned(msg)) = me.out.take() {
                    std::mem::forget(msg);
                }
                // A new value rather than `sent`: the caller then copies
                // only the tag of a success, not the payload an error would
                // have (callgrind: 5 instructions per message).
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// The future of a multipart send. Only the first part can block; once
/// libzmq has taken it, the others are taken in the same call, so a dropped
/// future has sent all parts or none.
struct SendParts<'a> {
    op: SendOp<'a>,
    parts: Vec<Message>,
}

impl Future for SendParts<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let me = self.get_mut();
        if me.parts.is_empty() {
            return Poll::Ready(Err(empty_multipart()));
        }
        let parts = &mut me.parts;
        me.op.poll(cx, |s| {
            Ok(s.try_send_multipart(parts.iter_mut())?.then_some(()))
        })
    }
}

/// The future of [`AsyncSocket::recv`].
struct RecvMsg<'a> {
    op: RecvOp<'a>,
}

impl Future for RecvMsg<'_> {
    type Output = Result<Message>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Message>> {
        self.get_mut().op.poll(cx, recv_msg_op)
    }
}

/// The future of [`AsyncSocket::recv_many`].
struct RecvMany<'a> {
    op: RecvOp<'a>,
    buffer: &'a mut [Message],
}

impl Future for RecvMany<'_> {
    type Output = Result<usize>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let me = self.get_mut();
        if me.buffer.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let buffer = &mut *me.buffer;
        me.op.poll(cx, |s| s.try_recv_many(buffer))
    }
}

/// The future of [`AsyncSocket::recv_msg_into`].
struct RecvInto<'a> {
    op: RecvOp<'a>,
    msg: &'a mut Message,
}

impl Future for RecvInto<'_> {
    type Output = Result<()>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let me = self.get_mut();
        let msg = &mut *me.msg;
        me.op.poll(cx, |s| recv_into_op(s, msg))
    }
}

/// The future of [`AsyncSocket::recv_multipart`].
struct RecvParts<'a> {
    op: RecvOp<'a>,
}

impl Future for RecvParts<'_> {
    type Output = Result<Vec<Message>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<Message>>> {
        self.get_mut().op.poll(cx, recv_multipart_op)
    }
}

#[inline(always)]
fn send_op(s: &Socket, msg: &mut Message) -> Result<Option<()>> {
    Ok(s.send_nowait(msg)?.then_some(()))
}

#[inline]
fn recv_msg_op(s: &Socket) -> Result<Option<Message>> {
    s.try_recv_msg()
}

#[inline]
fn recv_into_op(s: &Socket, msg: &mut Message) -> Result<Option<()>> {
    Ok(s.recv_nowait(msg)?.then_some(()))
}

fn recv_multipart_op(s: &Socket) -> Result<Option<Vec<Message>>> {
    s.try_recv_multipart()
}

fn empty_multipart() -> Error {
    Error::invalid("multipart message", "a message needs at least one part")
}

fn utf8(msg: Message) -> Result<String> {
    String::from_utf8(msg.to_vec()).map_err(|e| Error::Utf8 {
        source: e.utf8_error(),
        bytes: e.into_bytes(),
    })
}

#[cfg(feature = "json")]
fn json_frames<T: Serialize + ?Sized>(value: &T) -> Result<Message> {
    serde_json::to_vec(value)
        .map(Message::from)
        .map_err(|e| Error::Serialize {
            format: "json",
            source: Box::new(e),
        })
}

#[cfg(feature = "json")]
fn from_json<T: DeserializeOwned>(msg: Message) -> Result<T> {
    serde_json::from_slice(&msg).map_err(|e| Error::Deserialize {
        format: "json",
        frames: msg.into(),
        source: Box::new(e),
    })
}

/// The operations, shared by the socket and its halves.
impl Inner {
    #[inline]
    fn send_msg(&self, msg: Message) -> SendMsg<'_> {
        self.send_outgoing(Outgoing::Owned(msg))
    }

    #[inline]
    fn send_outgoing<'a>(&'a self, out: Outgoing<'a>) -> SendMsg<'a> {
        SendMsg {
            op: Op::new(self),
            out: Some(out),
        }
    }

    fn send_parts(&self, parts: Vec<Message>) -> SendParts<'_> {
        SendParts {
            op: Op::new(self),
            parts,
        }
    }

    #[inline]
    fn recv_msg(&self) -> RecvMsg<'_> {
        RecvMsg { op: Op::new(self) }
    }

    #[inline]
    fn recv_many<'a>(&'a self, buffer: &'a mut [Message]) -> RecvMany<'a> {
        RecvMany {
            op: Op::new(self),
            buffer,
        }
    }

    #[inline]
    fn recv_into<'a>(&'a self, msg: &'a mut Message) -> RecvInto<'a> {
        RecvInto {
            op: Op::new(self),
            msg,
        }
    }

    fn recv_parts(&self) -> RecvParts<'_> {
        RecvParts { op: Op::new(self) }
    }

    async fn poll_events(
        &self,
        events: PollEvents,
        timeout: Option<Duration>,
    ) -> Result<PollEvents> {
        let mut slot = Slot::default();
        let wait = poll_fn(|cx| self.poll_ready(cx, &mut slot, events, true));
        let result = match timeout {
            None => wait.await,
            Some(t) => tokio::time::timeout(t, wait)
                .await
                .unwrap_or(Ok(PollEvents::empty())),
        };
        self.release(&mut slot);
        result
    }

    fn try_recv_now(&self) -> Result<Option<Vec<Message>>> {
        self.with_socket(recv_multipart_op)
    }

    fn try_recv_one(&self) -> Result<Option<Message>> {
        self.with_socket(recv_msg_op)
    }

    fn try_send_now(&self, parts: &mut [Message]) -> Result<bool> {
        if parts.is_empty() {
            return Err(empty_multipart());
        }
        self.with_socket(|s| s.try_send_multipart(parts.iter_mut()))
    }
}

/// The receive side of `Stream`: a slot kept across polls.
#[derive(Debug, Default)]
struct StreamState {
    slot: Slot,
    terminated: bool,
}

impl StreamState {
    fn poll_next(
        &mut self,
        inner: &Inner,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<Message>>>> {
        if self.terminated {
            return Poll::Ready(None);
        }
        match inner.poll_op(cx, &mut self.slot, PollEvents::POLLIN, recv_multipart_op) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(m)) => Poll::Ready(Some(Ok(m))),
            Poll::Ready(Err(e)) => {
                // The socket cannot be used any more: report it once, then end.
                if matches!(e, Error::ContextTerminated | Error::NotSocket) {
                    self.terminated = true;
                }
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

/// The send side of `Sink`: at most one message that `start_send` could not
/// hand to libzmq at once.
#[derive(Debug, Default)]
struct SinkState {
    slot: Slot,
    pending: Option<Vec<Message>>,
}

impl SinkState {
    fn start_send(&mut self, inner: &Inner, mut item: Vec<Message>) -> Result<()> {
        if item.is_empty() {
            return Err(empty_multipart());
        }
        debug_assert!(self.pending.is_none(), "start_send without poll_ready");
        if !inner.try_send_now(&mut item)? {
            self.pending = Some(item);
        }
        Ok(())
    }

    fn poll_flush(&mut self, inner: &Inner, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(parts) = self.pending.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let result =
            std::task::ready!(inner.poll_op(cx, &mut self.slot, PollEvents::POLLOUT, |s| {
                Ok(s.try_send_multipart(parts.iter_mut())?.then_some(()))
            }));
        self.pending = None;
        Poll::Ready(result)
    }
}

macro_rules! socket_access {
    () => {
        /// Runs `f` with the socket, for options and calls without an async
        /// form (`bind`, `subscribe`, `set_*`…). The socket is locked for the
        /// call: keep it short and do not block in it. Waiters are re-checked
        /// afterwards, as the call may have changed the socket's state.
        pub fn with_socket<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
            self.inner.with_socket(f)
        }

        /// `zmq_bind`, see [`Socket::bind`]: returns the endpoint actually
        /// bound (with the port the OS picked for `:*`).
        pub fn bind(&self, endpoint: &str) -> Result<String> {
            let bound = self.with_socket(|s| s.bind(endpoint))?;
            self.inner.note_endpoint(&bound);
            Ok(bound)
        }

        /// `zmq_connect`, see [`Socket::connect`].
        pub fn connect(&self, endpoint: &str) -> Result<()> {
            self.with_socket(|s| s.connect(endpoint))?;
            self.inner.note_endpoint(endpoint);
            Ok(())
        }

        /// The last endpoint bound or connected (`ZMQ_LAST_ENDPOINT`).
        pub fn last_endpoint(&self) -> Result<String> {
            self.inner.peek(|s| s.last_endpoint())
        }

        /// What the socket can do now (`ZMQ_EVENTS`), without waiting.
        pub fn events(&self) -> Result<PollEvents> {
            self.with_socket(|s| s.events())
        }

        /// Sets how long an operation that would block may wait for the
        /// socket on its own thread, as a blocking [`Socket`] does, before
        /// it parks its task in the runtime (zero: never; at most 10 ms,
        /// else [`Error::InvalidInput`]). Shared by the halves of a split
        /// socket. No pyzmq counterpart (asyncio has no such cost to save);
        /// in the spirit of Linux's `SO_BUSY_POLL`.
        ///
        /// The default is 100 µs for an in-process socket and zero once it
        /// has an endpoint that is not `inproc://` (bound or connected
        /// through [`bind`](Self::bind)/[`connect`](Self::connect), or the
        /// last endpoint before [`AsyncSocket::new`]); setting a limit fixes
        /// it. In-process, a peer on another thread answers within
        /// microseconds, and parking in tokio and being woken by its
        /// reactor costs several times what libzmq's own wait costs (a
        /// REQ/REP round trip: half the instructions). Over tcp and ipc,
        /// messages come through libzmq's I/O thread, and parking measured
        /// as quick as waiting here.
        ///
        /// The wait happens only when it can hold up nothing else:
        ///
        /// - the runtime has no spawned task alive (the usual layout of a
        ///   `block_on`/`#[tokio::main]` loop per thread); with any spawned
        ///   task, operations park at once. A [`tokio::task::LocalSet`]'s
        ///   tasks are not the runtime's: set zero there.
        /// - it is the only waiter of the socket, and the socket's
        ///   `RCVTIMEO`/`SNDTIMEO` is not shorter;
        /// - the third wait since the last that succeeded to end without
        ///   the socket ready (the peer was slow, or it runs in the same
        ///   task, a branch of the same `select!`) makes the next 16
        ///   would-block operations park at once, then 32, … up to 4,096,
        ///   until a wait succeeds again.
        ///
        /// A task that waits on several things at once (a `select!` over
        /// two sockets, or a socket and a channel) can see the others held
        /// up by as much as the limit while this one waits: set zero there.
        /// The wait is on `ZMQ_FD`; on platforms without `ppoll(2)`
        /// (macOS) operations always park at once. Its first part looks at
        /// the fd without sleeping ([`set_busy_wait`](Self::set_busy_wait):
        /// 20 µs by default for an in-process socket), the rest sleeps in
        /// `ppoll(2)`.
        pub fn set_blocking_wait(&self, limit: Duration) -> Result<()> {
            self.inner.set_wait_here(limit)
        }

        /// See [`set_blocking_wait`](Self::set_blocking_wait).
        pub fn blocking_wait(&self) -> Duration {
            self.inner.wait_here_limit()
        }

        /// Sets how much of a wait on the thread
        /// ([`set_blocking_wait`](Self::set_blocking_wait)) looks at the
        /// socket without sleeping before it sleeps in the kernel for the
        /// rest (zero: never; at most 10 ms, else [`Error::InvalidInput`];
        /// never longer than the wait itself). Shared by the halves of a
        /// split socket. No pyzmq counterpart; what Linux's `SO_BUSY_POLL`
        /// does for a network socket's wait (not libzmq's DRAFT option
        /// `ZMQ_BUSY_POLL`, `set_busy_poll`, which sets `SO_BUSY_POLL` on
        /// the socket's tcp connections).
        ///
        /// The default is 20 µs for an in-process socket and zero once it
        /// has an endpoint that is not `inproc://` (as for
        /// `set_blocking_wait`); setting a limit fixes it. Each look is a
        /// `ppoll(2)` that does not sleep, then `sched_yield(2)`, so that a
        /// peer waiting for the same CPU runs.
        ///
        /// A thread that sleeps is woken through the kernel's scheduler,
        /// which on a virtual machine costs exits to the hypervisor (an
        /// interrupt to the other CPU, a re-armed timer). On a 2-core KVM
        /// guest (Linux 6.18), `inproc_lat` (1 B, 20,000 round trips, three
        /// runs each) took 4.0 µs one way with async sockets against 36 µs
        /// with the looks off and 32.5 µs with blocking sockets, and 15–21 µs
        /// of CPU time per round trip (user and system) against 68–70 µs
        /// and 36–38 µs; an async client of a blocking echo thread, 11 µs
        /// one way against 35 µs with the looks off. Over tcp and ipc the
        /// default is off, from mixed measurements on the same machine (two
        /// processes over 127.0.0.1): 20 µs of looks, then a sleep, made the
        /// round trip slower (99 µs one way against 81 µs parked); a wait
        /// of 100 µs that is all looks (`set_blocking_wait` and
        /// `set_busy_wait` both 100 µs) halved it (30–37 µs against
        /// 70–77 µs parked and 63–71 µs for blocking sockets, each process
        /// pinned to its own CPU; 30–59 µs unpinned), but cost a pinned
        /// receiver of 1 KiB messages a sixth of its throughput. Set both
        /// where a tcp round trip's latency matters and the peer is near.
        ///
        /// Looks that do not pay off back off: after four waits whose peer
        /// answered later than three times the looks (or not within the
        /// wait), with no look between that saw the answer, the next wait
        /// sleeps at once, then the next two, four… up to 64 after each
        /// further miss, until a look sees the answer again; a slow peer
        /// then costs about one look in 65 waits (measured: 60 round trips
        /// with a peer that answers after 2 ms, 0.5 ms of looks, 7.5–8.6 ms
        /// of CPU time against 32 ms without the backoff). Set zero where CPU time matters more than
        /// latency.
        ///
        /// ```
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> zmqx::Result<()> {
        /// use std::time::Duration;
        /// let ctx = zmqx::Context::new();
        /// let s = zmqx::AsyncSocket::new(ctx.socket(zmqx::SocketType::Req)?)?;
        /// s.connect("inproc://worker")?;
        /// // In-process: looks for 20 µs (on Linux), then sleeps. Sleep at
        /// // once instead, for less CPU time:
        /// s.set_busy_wait(Duration::ZERO)?;
        /// assert_eq!(s.busy_wait(), Duration::ZERO);
        /// # Ok(()) }
        /// ```
        pub fn set_busy_wait(&self, limit: Duration) -> Result<()> {
            self.inner.set_busy_wait(limit)
        }

        /// See [`set_busy_wait`](Self::set_busy_wait).
        pub fn busy_wait(&self) -> Duration {
            self.inner.busy_wait_limit()
        }
    };
}

macro_rules! send_methods {
    () => {
        /// Sends one message part (pyzmq's `await socket.send(data)`),
        /// waiting while the socket cannot send (high-water mark reached,
        /// no peer, REQ waiting for its reply…).
        ///
        /// Takes any [`Sendable`], as [`Socket::send`] does: `&[u8]` and
        /// `&str` are borrowed by the future and copied once, by libzmq
        /// (`zmq_send`), when the socket can take them; owned buffers of
        /// [`copy_threshold`](crate::copy_threshold) bytes and more are not
        /// copied, a `&mut Message` is emptied once sent. Honours `SNDTIMEO`
        /// like pyzmq: [`Error::Again`] when it expires.
        ///
        /// Cancel-safe: dropping the future before it completes sends nothing
        /// (a `&mut Message` is then left as it was).
        pub fn send<'a, D: Sendable + 'a>(
            &'a self,
            data: D,
        ) -> impl Future<Output = Result<()>> + Send + 'a {
            self.inner.send_outgoing(data.into_outgoing())
        }

        /// Sends a multipart message (pyzmq's `send_multipart`). The parts
        /// are converted to messages at once; the future then owns them.
        ///
        /// Cancel-safe and atomic: dropping the future sends all parts or
        /// none (only the first part can block; once libzmq has accepted it,
        /// the others follow in the same call).
        pub fn send_multipart<I>(&self, parts: I) -> impl Future<Output = Result<()>> + Send + '_
        where
            I: IntoIterator,
            I::Item: Into<Message>,
        {
            self.inner
                .send_parts(parts.into_iter().map(Into::into).collect())
        }

        /// Sends `value` as JSON in one part (pyzmq's `send_json`). An
        /// encoding error is [`Error::Serialize`] and nothing is sent.
        #[cfg(feature = "json")]
        #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
        pub fn send_json<T: Serialize + ?Sized>(
            &self,
            value: &T,
        ) -> impl Future<Output = Result<()>> + Send + '_ {
            let msg = json_frames(value);
            async move { self.inner.send_msg(msg?).await }
        }

        /// Sends `value` in postcard's compact binary format in one part, as
        /// [`Socket::send_postcard`] (pyzmq's `send_pyobj` counterpart).
        #[cfg(feature = "postcard")]
        #[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
        pub fn send_postcard<T: serde::Serialize + ?Sized>(
            &self,
            value: &T,
        ) -> impl Future<Output = Result<()>> + Send + '_ {
            let msg = crate::serialize::postcard_message(value);
            async move { self.inner.send_msg(msg?).await }
        }

        /// Sends `value` with bincode 2 (standard configuration) in one part,
        /// as [`Socket::send_bincode`].
        #[cfg(feature = "bincode")]
        #[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
        pub fn send_bincode<T: serde::Serialize + ?Sized>(
            &self,
            value: &T,
        ) -> impl Future<Output = Result<()>> + Send + '_ {
            let msg = crate::serialize::bincode_message(value);
            async move { self.inner.send_msg(msg?).await }
        }

        /// Sends `value` as the parts `serializer` makes of it (pyzmq's
        /// `send_serialized`). The value is encoded at once; an encoding
        /// error is [`Error::Serialize`] and nothing is sent.
        pub fn send_serialized<T, S>(
            &self,
            value: &T,
            serializer: &S,
        ) -> impl Future<Output = Result<()>> + Send + '_
        where
            S: Serializer<T> + ?Sized,
        {
            let parts = serializer
                .serialize(value)
                .map_err(|source| Error::Serialize {
                    format: serializer.format(),
                    source,
                });
            async move { self.inner.send_parts(parts?).await }
        }

        /// Sends `data` without copying it and returns a tracker that
        /// completes when libzmq has released it (pyzmq's
        /// `send(data, copy=False, track=True)`). Await the tracker
        /// ([`MessageTracker`] is [`IntoFuture`](std::future::IntoFuture)).
        pub fn send_tracked<T>(
            &self,
            data: T,
        ) -> impl Future<Output = Result<MessageTracker>> + Send + '_
        where
            T: AsRef<[u8]> + Send + 'static,
        {
            let (msg, tracker) = Message::tracked(data);
            async move {
                self.inner.send_msg(msg).await?;
                Ok(tracker)
            }
        }

        /// Sends one part at once if the socket can take it: `Ok(false)`
        /// when it would block, and then `msg` is left as it was (pyzmq's
        /// `send(data, flags=DONTWAIT)`), as [`Socket::try_send`].
        pub fn try_send(&self, msg: &mut Message) -> Result<bool> {
            self.inner.try_send_now(std::slice::from_mut(msg))
        }

        /// Sends a multipart message at once if the socket can take it:
        /// `Ok(false)` when it would block, and then `parts` are left as they
        /// were (pyzmq's `send_multipart(flags=DONTWAIT)`).
        pub fn try_send_multipart(&self, parts: &mut [Message]) -> Result<bool> {
            self.inner.try_send_now(parts)
        }
    };
}

macro_rules! recv_methods {
    () => {
        /// Receives one message part without copying it (pyzmq's
        /// `await socket.recv(copy=False)`).
        /// Honours `RCVTIMEO` like pyzmq: [`Error::Again`] when it expires.
        ///
        /// Cancel-safe: the message is taken from libzmq only in the poll
        /// that returns it, so dropping the future (a `select!` branch, a
        /// `tokio::time::timeout`) never loses one.
        pub fn recv_msg(&self) -> impl Future<Output = Result<Message>> + Send + '_ {
            self.inner.recv_msg()
        }

        /// Receives one part as bytes (pyzmq's `await socket.recv()`).
        /// Cancel-safe, like [`recv_msg`](Self::recv_msg).
        pub fn recv_bytes(&self) -> impl Future<Output = Result<Vec<u8>>> + Send + '_ {
            let recv = self.inner.recv_msg();
            async move { Ok(recv.await?.to_vec()) }
        }

        /// Receives one message part into `msg`, replacing its content: the
        /// form of [`recv_msg`](Self::recv_msg) for a loop that reuses one
        /// [`Message`], as [`Socket::recv_msg_into`] is for blocking sockets
        /// (zmqx's addition; pyzmq's `recv(copy=False)` makes a new frame
        /// each time). Honours `RCVTIMEO` like [`recv_msg`](Self::recv_msg).
        ///
        /// Cancel-safe: a message is taken from libzmq only in the poll that
        /// completes the future. libzmq releases the old content of `msg`
        /// when it tries to receive, so after a dropped or failed receive
        /// `msg` may be empty (never invalid).
        pub fn recv_msg_into<'a>(
            &'a self,
            msg: &'a mut Message,
        ) -> impl Future<Output = Result<()>> + Send + 'a {
            self.inner.recv_into(msg)
        }

        /// Receives a batch of parts into `buffer`, reusing its messages:
        /// waits for the first part as [`recv_msg`](Self::recv_msg) does
        /// (`RCVTIMEO` applies), then takes those already queued, without
        /// waiting, until `buffer` is full. Resolves to how many parts it
        /// received, into `buffer[..n]`: at least one, unless `buffer` is
        /// empty (then 0, at once). As [`Socket::recv_many`] (see there for
        /// multipart messages and errors after the first part).
        ///
        /// One future, one lock and one readiness check serve the whole
        /// batch, so a receiver that keeps up with a fast sender spends
        /// less per message than with [`recv_msg_into`](Self::recv_msg_into).
        ///
        /// Cancel-safe: the parts are taken from libzmq only in the poll
        /// that completes the future.
        pub fn recv_many<'a>(
            &'a self,
            buffer: &'a mut [Message],
        ) -> impl Future<Output = Result<usize>> + Send + 'a {
            self.inner.recv_many(buffer)
        }

        /// Receives all parts of one message (pyzmq's `recv_multipart`).
        /// Cancel-safe, like [`recv_msg`](Self::recv_msg).
        pub fn recv_multipart(&self) -> impl Future<Output = Result<Vec<Message>>> + Send + '_ {
            self.inner.recv_parts()
        }

        /// Receives one part as UTF-8 text (pyzmq's `recv_string`). Invalid
        /// UTF-8 is an [`Error::Utf8`] that carries the bytes.
        pub fn recv_string(&self) -> impl Future<Output = Result<String>> + Send + '_ {
            let recv = self.inner.recv_msg();
            async move { utf8(recv.await?) }
        }

        /// Receives one part and decodes it as JSON (pyzmq's `recv_json`).
        /// Bad JSON is an [`Error::Deserialize`] that hands the part back.
        #[cfg(feature = "json")]
        #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
        pub fn recv_json<T: DeserializeOwned>(
            &self,
        ) -> impl Future<Output = Result<T>> + Send + '_ {
            let recv = self.inner.recv_msg();
            async move { from_json(recv.await?) }
        }

        /// Receives one part and decodes it from postcard, as
        /// [`Socket::recv_postcard`]; a bad part is an [`Error::Deserialize`]
        /// that hands it back.
        #[cfg(feature = "postcard")]
        #[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
        pub fn recv_postcard<T: serde::de::DeserializeOwned>(
            &self,
        ) -> impl Future<Output = Result<T>> + Send + '_ {
            let recv = self.inner.recv_msg();
            async move { crate::serialize::from_postcard(recv.await?) }
        }

        /// Receives one part and decodes it with bincode 2, as
        /// [`Socket::recv_bincode`].
        #[cfg(feature = "bincode")]
        #[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
        pub fn recv_bincode<T: serde::de::DeserializeOwned>(
            &self,
        ) -> impl Future<Output = Result<T>> + Send + '_ {
            let recv = self.inner.recv_msg();
            async move { crate::serialize::from_bincode(recv.await?) }
        }

        /// Receives all parts of one message and decodes them with
        /// `serializer` (pyzmq's `recv_serialized`). A decoding error is an
        /// [`Error::Deserialize`] that hands the parts back.
        pub async fn recv_serialized<T, S>(&self, serializer: &S) -> Result<T>
        where
            S: Serializer<T> + ?Sized,
        {
            let frames = self.inner.recv_parts().await?;
            serializer
                .deserialize(&frames)
                .map_err(|source| Error::Deserialize {
                    format: serializer.format(),
                    frames: frames.into(),
                    source,
                })
        }

        /// Receives one part if one is there, without waiting: `Ok(None)`
        /// otherwise (pyzmq's `recv(flags=DONTWAIT)`), as [`Socket::try_recv_msg`].
        pub fn try_recv_msg(&self) -> Result<Option<Message>> {
            self.inner.try_recv_one()
        }

        /// Receives a multipart message if one is there, without waiting
        /// (pyzmq's `recv_multipart(flags=DONTWAIT)`).
        pub fn try_recv_multipart(&self) -> Result<Option<Vec<Message>>> {
            self.inner.try_recv_now()
        }
    };
}

/// A socket driven by tokio (pyzmq's `zmq.asyncio.Socket`): `async` send and
/// receive, [`Stream`] of incoming messages and [`Sink`] of outgoing ones.
///
/// Create it from a [`Socket`] inside a tokio runtime with IO enabled
/// ([`AsyncSocket::new`]). Its futures are `Send`, so they run under
/// `tokio::spawn` on the multi-thread runtime, and its methods take `&self`,
/// so one socket can be shared (in an `Arc`) by several tasks: several
/// receivers get the messages in no particular order. [`split`](Self::split)
/// gives a send half and a receive half for two tasks.
///
/// Receive futures are cancel-safe and send futures are atomic: see the
/// [module docs](super).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::Result<()> {
/// use zmqx::{AsyncSocket, Context, SocketType};
/// let ctx = Context::new();
/// let pull = AsyncSocket::new(ctx.socket(SocketType::Pull)?)?;
/// pull.bind("tcp://127.0.0.1:*")?;
/// let push = AsyncSocket::new(ctx.socket(SocketType::Push)?)?;
/// push.connect(&pull.last_endpoint()?)?;
///
/// push.send_multipart(["job", "42"]).await?;
/// let msg = pull.recv_multipart().await?;
/// assert_eq!(msg, ["job", "42"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncSocket {
    inner: Arc<Inner>,
    stream: StreamState,
    sink: SinkState,
}

impl AsyncSocket {
    /// Drives `socket` with the current tokio runtime (registers its
    /// `ZMQ_FD` with tokio's reactor).
    ///
    /// Fails with [`Error::AsyncUnsupported`] for the thread-safe DRAFT
    /// socket types (SERVER, CLIENT, RADIO, DISH, …), which have no `ZMQ_FD`,
    /// and with [`Error::Reactor`] outside a tokio runtime. A runtime built
    /// without `enable_io` makes tokio panic.
    pub fn new(socket: Socket) -> Result<AsyncSocket> {
        Ok(AsyncSocket::from_inner(Arc::new(Inner::new(socket)?)))
    }

    fn from_inner(inner: Arc<Inner>) -> AsyncSocket {
        AsyncSocket {
            inner,
            stream: StreamState::default(),
            sink: SinkState::default(),
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Leaves the reactor and gives the socket back. A message that the
    /// [`Sink`] had not sent yet is dropped: flush the sink first.
    pub fn into_socket(mut self) -> Socket {
        self.inner.release(&mut self.stream.slot);
        self.inner.release(&mut self.sink.slot);
        let inner = self.inner.clone();
        drop(self);
        match Arc::try_unwrap(inner) {
            Ok(inner) => inner.into_socket(),
            // The socket and its halves are the only owners, and `split`
            // consumes the socket: no one else can hold it.
            Err(_) => unreachable!("an AsyncSocket is the only owner of its Inner"),
        }
    }

    /// Splits the socket into a send half and a receive half that work at
    /// the same time from two tasks. [`AsyncSender::reunite`] puts them back.
    pub fn split(mut self) -> (AsyncSender, AsyncReceiver) {
        self.inner.release(&mut self.stream.slot);
        self.inner.release(&mut self.sink.slot);
        let pending = self.sink.pending.take();
        let inner = self.inner.clone();
        drop(self);
        (
            AsyncSender {
                inner: inner.clone(),
                sink: SinkState {
                    slot: Slot::default(),
                    pending,
                },
            },
            AsyncReceiver {
                inner,
                stream: StreamState::default(),
            },
        )
    }

    /// Waits until the socket is ready for any of `events` (`POLLIN`,
    /// `POLLOUT`) and returns those ready, or empty after `timeout` (`None`:
    /// no limit). pyzmq's `await socket.poll(timeout, flags)`.
    pub fn poll(
        &self,
        events: PollEvents,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<PollEvents>> + Send + '_ {
        self.inner.poll_events(events, timeout)
    }

    socket_access!();
    send_methods!();
    recv_methods!();
}

impl Drop for AsyncSocket {
    fn drop(&mut self) {
        self.inner.release(&mut self.stream.slot);
        self.inner.release(&mut self.sink.slot);
    }
}

impl Stream for AsyncSocket {
    type Item = Result<Vec<Message>>;

    /// Receives the next multipart message. The stream ends after reporting
    /// [`Error::ContextTerminated`]; other errors are reported and it goes on.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let me = self.get_mut();
        me.stream.poll_next(&me.inner, cx)
    }
}

/// `Sink` of multipart messages for a type with `inner` and `sink` fields:
/// readiness is a flush of the pending item.
macro_rules! impl_sink {
    ($t:ty) => {
        impl Sink<Vec<Message>> for $t {
            type Error = Error;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
                let me = self.get_mut();
                me.sink.poll_flush(&me.inner, cx)
            }

            fn start_send(self: Pin<&mut Self>, item: Vec<Message>) -> Result<()> {
                let me = self.get_mut();
                me.sink.start_send(&me.inner, item)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
                let me = self.get_mut();
                me.sink.poll_flush(&me.inner, cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
                self.poll_flush(cx)
            }
        }
    };
}

impl_sink!(AsyncSocket);

/// The send half of a split [`AsyncSocket`]: async sends and a [`Sink`].
#[derive(Debug)]
pub struct AsyncSender {
    inner: Arc<Inner>,
    sink: SinkState,
}

impl AsyncSender {
    /// Waits until the socket can send (`POLLOUT`); `false` after `timeout`.
    pub async fn writable(&self, timeout: Option<Duration>) -> Result<bool> {
        let ev = self.inner.poll_events(PollEvents::POLLOUT, timeout).await?;
        Ok(!ev.is_empty())
    }

    /// Puts the halves back together; fails, handing them back, when they
    /// come from different sockets.
    pub fn reunite(
        mut self,
        mut receiver: AsyncReceiver,
    ) -> std::result::Result<AsyncSocket, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &receiver.inner) {
            return Err(ReuniteError(self, receiver));
        }
        self.inner.release(&mut self.sink.slot);
        receiver.inner.release(&mut receiver.stream.slot);
        let pending = self.sink.pending.take();
        let inner = self.inner.clone();
        drop(self);
        drop(receiver);
        let mut socket = AsyncSocket::from_inner(inner);
        socket.sink.pending = pending;
        Ok(socket)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    socket_access!();
    send_methods!();
}

impl Drop for AsyncSender {
    fn drop(&mut self) {
        self.inner.release(&mut self.sink.slot);
    }
}

impl_sink!(AsyncSender);

/// The receive half of a split [`AsyncSocket`]: async receives and a
/// [`Stream`].
#[derive(Debug)]
pub struct AsyncReceiver {
    inner: Arc<Inner>,
    stream: StreamState,
}

impl AsyncReceiver {
    /// Waits until a message can be received (`POLLIN`); `false` after
    /// `timeout`.
    pub async fn readable(&self, timeout: Option<Duration>) -> Result<bool> {
        let ev = self.inner.poll_events(PollEvents::POLLIN, timeout).await?;
        Ok(!ev.is_empty())
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    socket_access!();
    recv_methods!();
}

impl Drop for AsyncReceiver {
    fn drop(&mut self) {
        self.inner.release(&mut self.stream.slot);
    }
}

impl Stream for AsyncReceiver {
    type Item = Result<Vec<Message>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let me = self.get_mut();
        me.stream.poll_next(&me.inner, cx)
    }
}

/// [`AsyncSender::reunite`] was given halves of two different sockets; here
/// they are back.
#[derive(Debug)]
pub struct ReuniteError(pub AsyncSender, pub AsyncReceiver);

impl std::fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite halves of two different sockets")
    }
}

impl std::error::Error for ReuniteError {}
