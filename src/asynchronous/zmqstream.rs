//! [`ZmqStream`]: pyzmq's callback interface to a socket
//! (`zmq.eventloop.zmqstream.ZMQStream`), driven by a tokio task.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

#[cfg(feature = "json")]
use serde::Serialize;
use tokio::sync::oneshot;

use super::engine::Slot;
use super::socket::AsyncSocket;
use crate::constants::PollEvents;
use crate::error::{Error, Result, panic_message};
use crate::message::Message;

type RecvFn = Box<dyn FnMut(Vec<Message>) + Send>;
type RecvStreamFn = Box<dyn FnMut(&ZmqStream, Vec<Message>) + Send>;
type SendFn = Box<dyn FnMut(&[Message]) + Send>;
type SendStreamFn = Box<dyn FnMut(&ZmqStream, &[Message]) + Send>;
type DoneFn = Box<dyn FnOnce(Result<()>) + Send>;
type ErrorFn = Box<dyn FnMut(Error) + Send>;
type CloseFn = Box<dyn FnOnce() + Send>;
type HandlerFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type RecvAsyncFn = Box<dyn FnMut(Vec<Message>) -> HandlerFuture + Send>;
type RecvStreamAsyncFn = Box<dyn FnMut(ZmqStream, Vec<Message>) -> HandlerFuture + Send>;

/// The name async handler panics are reported under.
const ASYNC_HANDLER: &str = "on_recv_async";

enum OnRecv {
    Plain(RecvFn),
    Stream(RecvStreamFn),
    /// An async handler, with how many of its futures may run at once.
    Async(RecvAsyncFn, usize),
    AsyncStream(RecvStreamAsyncFn, usize),
}

impl OnRecv {
    /// How many handler futures may run at once (`None`: a plain callback).
    fn limit(&self) -> Option<usize> {
        match self {
            OnRecv::Plain(_) | OnRecv::Stream(_) => None,
            OnRecv::Async(_, n) | OnRecv::AsyncStream(_, n) => Some(*n),
        }
    }
}

enum OnSend {
    Plain(SendFn),
    Stream(SendStreamFn),
}

struct Outgoing {
    parts: Vec<Message>,
    done: Option<DoneFn>,
    /// Shared copies of the parts for the send callback (sending empties
    /// `parts`), made only while one is set.
    copy: Option<Vec<Message>>,
}

struct FlushRequest {
    events: PollEvents,
    limit: Option<usize>,
    reply: oneshot::Sender<Result<usize>>,
}

/// A callback slot. Callbacks run without any lock held (so they may call
/// back into the stream); the generation tells whether the slot was changed
/// while one ran, in which case it is not put back.
struct Callback<T> {
    f: Option<T>,
    generation: u64,
}

impl<T> Default for Callback<T> {
    fn default() -> Self {
        Callback {
            f: None,
            generation: 0,
        }
    }
}

impl<T> Callback<T> {
    fn set(&mut self, f: Option<T>) {
        self.f = f;
        self.generation += 1;
    }
}

#[derive(Default)]
struct State {
    on_recv: Callback<OnRecv>,
    on_send: Callback<OnSend>,
    on_error: Callback<ErrorFn>,
    on_close: Option<CloseFn>,
    queue: VecDeque<Outgoing>,
    flushes: Vec<FlushRequest>,
    /// The driver holds a message it has not sent yet.
    in_flight: bool,
    /// Async receive handlers running (a copy of the driver's count).
    handlers_running: usize,
    closed: bool,
    driver: Option<Waker>,
}

struct Shared {
    socket: AsyncSocket,
    state: Mutex<State>,
    /// User handles alive; the stream closes when it drops to zero.
    handles: AtomicUsize,
}

impl State {
    /// The next message to send, with copies for the send callback.
    fn next_outgoing(&mut self) -> Option<Outgoing> {
        let mut out = self.queue.pop_front()?;
        if self.on_send.f.is_some() {
            out.copy = Some(out.parts.clone());
        }
        Some(out)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Callbacks run outside the lock, so a poisoned lock still holds a
        // consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state and wakes the driver.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let (r, waker) = {
            let mut st = self.lock();
            let r = f(&mut st);
            (r, st.driver.take())
        };
        if let Some(w) = waker {
            w.wake();
        }
        r
    }
}

/// pyzmq's `ZMQStream`: register callbacks for received and sent messages
/// and queue sends; a tokio task does the I/O and calls the callbacks.
///
/// - [`on_recv`](Self::on_recv) / [`on_recv_stream`](Self::on_recv_stream):
///   called with every received multipart message. Until one is set, nothing
///   is received (messages wait in the socket): this pauses a stream.
/// - [`on_recv_async`](Self::on_recv_async) /
///   [`on_recv_async_concurrent`](Self::on_recv_async_concurrent) (and the
///   `on_recv_stream_async` pair): an async handler (pyzmq's coroutine
///   callback), with back-pressure: the next message is read only when the
///   handler's future (or one of `limit`) has completed.
/// - [`send`](Self::send), [`send_multipart`](Self::send_multipart),
///   [`send_multipart_with`](Self::send_multipart_with) (with a completion
///   callback): queued, and sent by the task when the socket can send.
///   [`on_send`](Self::on_send) is called after each send.
/// - [`flush`](Self::flush): handle pending events now, up to a limit.
///
/// Callbacks run on the stream's task, one at a time, and may call any
/// method of the stream. A panicking callback does not kill the task: the
/// panic is caught and reported to [`on_error`](Self::on_error) as
/// [`Error::CallbackPanicked`] (printed to stderr when no error callback is
/// set, like pyzmq's log line), and the stream goes on.
///
/// `ZmqStream` is a cloneable handle. The stream stops when [`close`]d or
/// when every handle is dropped; a callback that captures a handle keeps it
/// alive until `close` (use [`on_recv_stream`](Self::on_recv_stream), which
/// passes the stream, to avoid that).
///
/// [`close`]: Self::close
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> zmqx::Result<()> {
/// use zmqx::asynchronous::ZmqStream;
/// use zmqx::{AsyncSocket, Context, SocketType};
/// let ctx = Context::new();
/// // An echo server.
/// let rep = ZmqStream::new(AsyncSocket::new(ctx.socket(SocketType::Rep)?)?)?;
/// rep.socket().bind("inproc://zmqstream-doc")?;
/// rep.on_recv_stream(|stream, msg| {
///     let _ = stream.send_multipart(msg);
/// });
///
/// let req = AsyncSocket::new(ctx.socket(SocketType::Req)?)?;
/// req.connect("inproc://zmqstream-doc")?;
/// req.send("echo").await?;
/// assert_eq!(req.recv_string().await?, "echo");
/// rep.close();
/// # Ok(()) }
/// ```
pub struct ZmqStream {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ZmqStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("ZmqStream")
            .field("socket", &self.shared.socket)
            .field("receiving", &st.on_recv.f.is_some())
            .field("handlers_running", &st.handlers_running)
            .field("queued", &st.queue.len())
            .field("closed", &st.closed)
            .finish()
    }
}

impl Clone for ZmqStream {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::AcqRel);
        ZmqStream {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for ZmqStream {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }
}

impl ZmqStream {
    /// Starts a stream over `socket`, spawning its task on the current tokio
    /// runtime (pyzmq's `ZMQStream(socket)`). Fails with [`Error::Reactor`]
    /// outside a runtime.
    pub fn new(socket: AsyncSocket) -> Result<ZmqStream> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::Reactor(std::io::Error::other(e)))?;
        let shared = Arc::new(Shared {
            socket,
            state: Mutex::new(State::default()),
            handles: AtomicUsize::new(1),
        });
        handle.spawn(drive(shared.clone()));
        Ok(ZmqStream { shared })
    }

    /// The socket, for `bind`, `connect`, options… Receiving from it
    /// directly competes with the stream; sending directly skips the queue.
    pub fn socket(&self) -> &AsyncSocket {
        &self.shared.socket
    }

    /// Calls `callback` with every received multipart message (pyzmq's
    /// `on_recv`), replacing any previous receive callback.
    pub fn on_recv<F>(&self, callback: F)
    where
        F: FnMut(Vec<Message>) + Send + 'static,
    {
        self.shared
            .update(|st| st.on_recv.set(Some(OnRecv::Plain(Box::new(callback)))));
    }

    /// Like [`on_recv`](Self::on_recv), but the callback also gets the stream
    /// (pyzmq's `on_recv_stream`): one callback can serve several streams,
    /// and need not capture a handle.
    pub fn on_recv_stream<F>(&self, callback: F)
    where
        F: FnMut(&ZmqStream, Vec<Message>) + Send + 'static,
    {
        self.shared
            .update(|st| st.on_recv.set(Some(OnRecv::Stream(Box::new(callback)))));
    }

    /// Calls the async `handler` with every received multipart message and
    /// runs the future it returns on the stream's task, one at a time: the
    /// next message is received only once the previous handler's future has
    /// completed (pyzmq's `on_recv` with a coroutine callback, with
    /// back-pressure). Replaces any previous receive callback.
    ///
    /// Back-pressure: while a handler runs, the stream does not read the
    /// socket, so messages wait in libzmq's queue and its high-water mark
    /// applies (a PUSH peer blocks, a PUB peer drops, as with a slow
    /// `recv` loop). Nothing is buffered in Rust and nothing is lost. pyzmq
    /// schedules every coroutine at once instead, without a bound.
    ///
    /// The futures are polled by the stream's task (as
    /// `StreamExt::for_each` would), so they need not be `Sync` and no task
    /// is spawned per message; a handler that must do heavy work spawns it
    /// or uses [`on_recv_async_concurrent`](Self::on_recv_async_concurrent).
    ///
    /// A handler that panics, when called or while its future is polled,
    /// is reported to [`on_error`](Self::on_error) as
    /// [`Error::CallbackPanicked`] (`"on_recv_async"`), and the stream goes
    /// on with the next message. Replacing or removing the handler
    /// ([`stop_on_recv`](Self::stop_on_recv)) lets running futures finish
    /// (their messages were already taken from the socket);
    /// [`close`](Self::close) drops them at once, before the close callback
    /// is called.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> zmqx::Result<()> {
    /// use zmqx::asynchronous::ZmqStream;
    /// use zmqx::{AsyncSocket, Context, SocketType};
    /// let ctx = Context::new();
    /// let pull = ZmqStream::new(AsyncSocket::new(ctx.socket(SocketType::Pull)?)?)?;
    /// pull.socket().bind("inproc://zmqstream-async-doc")?;
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    /// pull.on_recv_async(move |msg| {
    ///     let tx = tx.clone();
    ///     // Waits for room in the channel before the next message is read.
    ///     async move {
    ///         let _ = tx.send(msg).await;
    ///     }
    /// });
    ///
    /// let push = AsyncSocket::new(ctx.socket(SocketType::Push)?)?;
    /// push.connect("inproc://zmqstream-async-doc")?;
    /// push.send("hello").await?;
    /// assert_eq!(rx.recv().await.unwrap(), ["hello"]);
    /// pull.close();
    /// # Ok(()) }
    /// ```
    pub fn on_recv_async<F, Fut>(&self, handler: F)
    where
        F: FnMut(Vec<Message>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.set_async(OnRecv::Async(box_handler(handler), 1));
    }

    /// Like [`on_recv_async`](Self::on_recv_async), but up to `limit`
    /// handler futures run at once (as `StreamExt::for_each_concurrent`):
    /// the stream reads the next message only while fewer than `limit` are
    /// running. They are polled on the stream's task (concurrently, not in
    /// parallel) and may complete in any order. Fails with
    /// [`Error::InvalidInput`] when `limit` is 0.
    pub fn on_recv_async_concurrent<F, Fut>(&self, limit: usize, handler: F) -> Result<()>
    where
        F: FnMut(Vec<Message>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        check_limit(limit)?;
        self.set_async(OnRecv::Async(box_handler(handler), limit));
        Ok(())
    }

    /// Like [`on_recv_async`](Self::on_recv_async), but the handler also
    /// gets a handle to the stream (pyzmq's `on_recv_stream` with a
    /// coroutine). The handle keeps the stream open until the handler's
    /// future has completed.
    pub fn on_recv_stream_async<F, Fut>(&self, handler: F)
    where
        F: FnMut(ZmqStream, Vec<Message>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.set_async(OnRecv::AsyncStream(box_stream_handler(handler), 1));
    }

    /// [`on_recv_stream_async`](Self::on_recv_stream_async) with up to
    /// `limit` handler futures at once, as
    /// [`on_recv_async_concurrent`](Self::on_recv_async_concurrent). Fails
    /// with [`Error::InvalidInput`] when `limit` is 0.
    pub fn on_recv_stream_async_concurrent<F, Fut>(&self, limit: usize, handler: F) -> Result<()>
    where
        F: FnMut(ZmqStream, Vec<Message>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        check_limit(limit)?;
        self.set_async(OnRecv::AsyncStream(box_stream_handler(handler), limit));
        Ok(())
    }

    fn set_async(&self, on_recv: OnRecv) {
        self.shared.update(|st| st.on_recv.set(Some(on_recv)));
    }

    /// How many async receive handlers are running (see
    /// [`on_recv_async`](Self::on_recv_async)); 0 with a plain callback.
    pub fn handlers_running(&self) -> usize {
        self.shared.lock().handlers_running
    }

    /// Stops receiving (pyzmq's `stop_on_recv`): messages wait in the socket
    /// until a receive callback is set again. Async handlers already running
    /// finish.
    pub fn stop_on_recv(&self) {
        self.shared.update(|st| st.on_recv.set(None));
    }

    /// Calls `callback` with each message after it was sent (pyzmq's
    /// `on_send`). The parts are shared copies (`zmq_msg_copy`), made only
    /// while a send callback is set.
    pub fn on_send<F>(&self, callback: F)
    where
        F: FnMut(&[Message]) + Send + 'static,
    {
        self.shared
            .update(|st| st.on_send.set(Some(OnSend::Plain(Box::new(callback)))));
    }

    /// Like [`on_send`](Self::on_send), but the callback also gets the
    /// stream (pyzmq's `on_send_stream`).
    pub fn on_send_stream<F>(&self, callback: F)
    where
        F: FnMut(&ZmqStream, &[Message]) + Send + 'static,
    {
        self.shared
            .update(|st| st.on_send.set(Some(OnSend::Stream(Box::new(callback)))));
    }

    /// Removes the send callback (pyzmq's `stop_on_send`).
    pub fn stop_on_send(&self) {
        self.shared.update(|st| st.on_send.set(None));
    }

    /// Calls `callback` with errors the task meets: a panicking callback
    /// ([`Error::CallbackPanicked`]), a failed send without a completion
    /// callback, a failed receive. Without it they are printed to stderr.
    pub fn on_error<F>(&self, callback: F)
    where
        F: FnMut(Error) + Send + 'static,
    {
        self.shared
            .update(|st| st.on_error.set(Some(Box::new(callback))));
    }

    /// Calls `callback` once the stream has closed (pyzmq's
    /// `set_close_callback`).
    pub fn set_close_callback<F>(&self, callback: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared
            .update(|st| st.on_close = Some(Box::new(callback)));
    }

    /// Whether a receive callback is set (pyzmq's `receiving()`).
    pub fn receiving(&self) -> bool {
        self.shared.lock().on_recv.f.is_some()
    }

    /// Whether sends are queued (pyzmq's `sending()`).
    pub fn sending(&self) -> bool {
        let st = self.shared.lock();
        st.in_flight || !st.queue.is_empty()
    }

    /// Whether the stream is closed (pyzmq's `closed()`).
    pub fn closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Queues one message part (pyzmq's `stream.send`). Fails with
    /// [`Error::NotSocket`] when the stream is closed.
    pub fn send(&self, data: impl Into<Message>) -> Result<()> {
        self.queue(vec![data.into()], None)
    }

    /// Queues a multipart message (pyzmq's `stream.send_multipart`).
    pub fn send_multipart<I>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.queue(parts.into_iter().map(Into::into).collect(), None)
    }

    /// Queues a multipart message and calls `done` with the outcome once it
    /// was sent, failed, or the stream closed before sending it (pyzmq's
    /// `send_multipart(msg, callback=…)`).
    pub fn send_multipart_with<I, F>(&self, parts: I, done: F) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
        F: FnOnce(Result<()>) + Send + 'static,
    {
        self.queue(
            parts.into_iter().map(Into::into).collect(),
            Some(Box::new(done)),
        )
    }

    /// Queues `value` as JSON in one part (pyzmq's `stream.send_json`).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(|e| Error::Serialize {
            format: "json",
            source: Box::new(e),
        })?;
        self.send(bytes)
    }

    fn queue(&self, parts: Vec<Message>, done: Option<DoneFn>) -> Result<()> {
        if parts.is_empty() {
            return Err(Error::invalid(
                "multipart message",
                "a message needs at least one part",
            ));
        }
        self.shared.update(|st| {
            if st.closed {
                return Err(Error::NotSocket);
            }
            st.queue.push_back(Outgoing {
                parts,
                done,
                copy: None,
            });
            Ok(())
        })
    }

    /// Handles pending events now, without waiting (pyzmq's `flush`):
    /// receives (`POLLIN` in `events`) and sends queued messages (`POLLOUT`)
    /// until none is pending or `limit` events were handled; returns how
    /// many. Received messages go to the receive callback, and are dropped
    /// when none is set: as in pyzmq, `flush(POLLIN)` also discards.
    /// An async handler at its limit takes none: they stay in the socket.
    ///
    /// The stream's task does the work. Dropping the future before the task
    /// took the request cancels it: nothing is received or sent for it.
    pub async fn flush(&self, events: PollEvents, limit: Option<usize>) -> Result<usize> {
        let (tx, rx) = oneshot::channel();
        self.shared.update(|st| {
            if st.closed {
                return Err(Error::NotSocket);
            }
            st.flushes.push(FlushRequest {
                events,
                limit,
                reply: tx,
            });
            Ok(())
        })?;
        rx.await.unwrap_or(Err(Error::NotSocket))
    }

    /// Closes the stream (pyzmq's `close`): the task stops, queued sends
    /// that were not sent report [`Error::NotSocket`] to their completion
    /// callbacks, and callbacks are dropped. The socket is closed when the
    /// last handle is dropped.
    pub fn close(&self) {
        self.shared.update(|st| st.closed = true);
    }
}

fn check_limit(limit: usize) -> Result<()> {
    if limit == 0 {
        return Err(Error::invalid(
            "concurrency limit",
            "at least one handler must be allowed to run",
        ));
    }
    Ok(())
}

fn box_handler<F, Fut>(mut handler: F) -> RecvAsyncFn
where
    F: FnMut(Vec<Message>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::new(move |msg| Box::pin(handler(msg)))
}

fn box_stream_handler<F, Fut>(mut handler: F) -> RecvStreamAsyncFn
where
    F: FnMut(ZmqStream, Vec<Message>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::new(move |stream, msg| Box::pin(handler(stream, msg)))
}

/// The stream's task.
async fn drive(shared: Arc<Shared>) {
    let mut driver = Driver {
        recv_slot: Slot::default(),
        send_slot: Slot::default(),
        sending: None,
        held: None,
        handlers: Handlers::default(),
    };
    poll_fn(|cx| driver.poll(&shared, cx)).await;
    driver.finish(&shared);
}

struct Driver {
    recv_slot: Slot,
    send_slot: Slot,
    /// The message being sent: out of the queue, not yet taken by libzmq.
    sending: Option<Outgoing>,
    /// A message received while the receive callback was being removed.
    held: Option<Vec<Message>>,
    /// The futures of async receive handlers that have not completed.
    handlers: Handlers,
}

/// The running async handlers. Each has a waker of its own that records
/// its slot in a ready list and wakes the driver, so a wake polls only the
/// handler it was meant for, however many run.
#[derive(Default)]
struct Handlers {
    slots: Vec<Option<Running>>,
    free: Vec<usize>,
    len: usize,
    ready: Arc<ReadyList>,
}

struct Running {
    future: HandlerFuture,
    waker: Waker,
}

#[derive(Default)]
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    slots: Vec<usize>,
    driver: Option<Waker>,
}

impl ReadyList {
    fn lock(&self) -> MutexGuard<'_, ReadyInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark(&self, slot: usize) -> Option<Waker> {
        let mut r = self.lock();
        r.slots.push(slot);
        r.driver.clone()
    }
}

/// The waker of one handler. A stale one (its handler done, the slot
/// reused) only causes a spurious poll.
struct HandlerWaker {
    slot: usize,
    ready: Arc<ReadyList>,
}

impl std::task::Wake for HandlerWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(w) = self.ready.mark(self.slot) {
            w.wake();
        }
    }
}

impl Handlers {
    fn len(&self) -> usize {
        self.len
    }

    /// Adds a handler, to be polled at the driver's next look.
    fn push(&mut self, future: HandlerFuture) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let waker = Waker::from(Arc::new(HandlerWaker {
            slot,
            ready: self.ready.clone(),
        }));
        self.slots[slot] = Some(Running { future, waker });
        self.len += 1;
        self.ready.lock().slots.push(slot);
    }

    /// The slots woken since the last call; `driver` is woken by later
    /// wakes.
    fn take_ready(&self, driver: &Waker) -> Vec<usize> {
        let mut r = self.ready.lock();
        match &r.driver {
            Some(w) if w.will_wake(driver) => {}
            _ => r.driver = Some(driver.clone()),
        }
        let mut slots = std::mem::take(&mut r.slots);
        drop(r);
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    fn remove(&mut self, slot: usize) -> Option<HandlerFuture> {
        let running = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(running.future)
    }

    fn take_all(&mut self) -> Vec<HandlerFuture> {
        self.free.clear();
        self.len = 0;
        let mut r = self.ready.lock();
        r.slots.clear();
        // Wakers still held elsewhere no longer reach the finished task.
        r.driver = None;
        drop(r);
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .map(|r| r.future)
            .collect()
    }
}

/// A temporary handle for callbacks that get the stream.
fn handle(shared: &Arc<Shared>) -> ZmqStream {
    shared.handles.fetch_add(1, Ordering::AcqRel);
    ZmqStream {
        shared: shared.clone(),
    }
}

impl Driver {
    /// Whether a received message can be handed on now: a receive callback
    /// is set and, for an async one, fewer than its limit are running.
    fn can_receive(&self, st: &State) -> bool {
        st.on_recv
            .f
            .as_ref()
            .is_some_and(|f| f.limit().is_none_or(|n| self.handlers.len() < n))
    }

    /// Polls the running async handlers and drops those that completed or
    /// panicked; returns whether any did.
    fn poll_handlers(&mut self, sh: &Arc<Shared>, cx: &mut Context<'_>) -> bool {
        let mut finished = false;
        for slot in self.handlers.take_ready(cx.waker()) {
            let Some(Some(running)) = self.handlers.slots.get_mut(slot) else {
                continue;
            };
            let polled = catch_unwind(AssertUnwindSafe(|| {
                let mut hcx = Context::from_waker(&running.waker);
                running.future.as_mut().poll(&mut hcx)
            }));
            let panicked = match polled {
                Ok(Poll::Pending) => continue,
                Ok(Poll::Ready(())) => None,
                Err(p) => Some(panic_message(p.as_ref())),
            };
            finished = true;
            // Dropped without the lock: it may hold the last stream handle.
            let f = self.handlers.remove(slot);
            let dropped = catch_unwind(AssertUnwindSafe(move || drop(f)));
            for message in panicked
                .into_iter()
                .chain(dropped.err().map(|p| panic_message(p.as_ref())))
            {
                report(
                    sh,
                    Error::CallbackPanicked {
                        callback: ASYNC_HANDLER,
                        message,
                    },
                );
            }
        }
        if finished {
            sh.lock().handlers_running = self.handlers.len();
        }
        finished
    }

    fn poll(&mut self, sh: &Arc<Shared>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = sh.socket.inner();
        loop {
            let (closed, flushes, receiving) = {
                let mut st = sh.lock();
                match &st.driver {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => st.driver = Some(cx.waker().clone()),
                }
                if self.sending.is_none() {
                    self.sending = st.next_outgoing();
                    st.in_flight = self.sending.is_some();
                }
                (
                    st.closed,
                    std::mem::take(&mut st.flushes),
                    self.can_receive(&st),
                )
            };
            if closed {
                return Poll::Ready(());
            }
            if self.poll_handlers(sh, cx) {
                // A slot may have freed: look at the state again.
                continue;
            }
            let mut progressed = false;
            for f in flushes {
                if f.reply.is_closed() {
                    // Its future was dropped: the flush was cancelled.
                    continue;
                }
                let n = self.flush(sh, f.events, f.limit);
                let _ = f.reply.send(n);
                progressed = true;
            }
            if let Some(out) = &mut self.sending {
                let sent = inner.poll_op(cx, &mut self.send_slot, PollEvents::POLLOUT, |s| {
                    Ok(s.try_send_multipart(out.parts.iter_mut())?.then_some(()))
                });
                if let Poll::Ready(result) = sent {
                    self.sent(sh, result);
                    progressed = true;
                }
            }
            if receiving {
                if let Some(msg) = self.held.take() {
                    self.received(sh, msg, false);
                    progressed = true;
                } else if let Poll::Ready(r) =
                    inner.poll_op(cx, &mut self.recv_slot, PollEvents::POLLIN, |s| {
                        s.try_recv_multipart()
                    })
                {
                    match r {
                        Ok(msg) => {
                            self.received(sh, msg, false);
                            progressed = true;
                        }
                        // Not progress: a failed receive (a REP socket
                        // that has not replied yet: EFSM) is tried again at
                        // the next wake, not in a loop that would starve
                        // the handler or send that fixes it.
                        Err(e) => self.recv_failed(sh, e),
                    }
                }
            } else {
                inner.release(&mut self.recv_slot);
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    }

    /// Non-blocking: pyzmq's `flush`.
    fn flush(
        &mut self,
        sh: &Arc<Shared>,
        events: PollEvents,
        limit: Option<usize>,
    ) -> Result<usize> {
        let inner = sh.socket.inner();
        let mut count = 0;
        let full = |count: usize| limit.is_some_and(|l| count >= l);
        while !full(count) {
            let mut progressed = false;
            // An async handler at its limit takes no more: the messages
            // stay in the socket (flush never buffers them).
            let full_handlers = {
                let st = sh.lock();
                st.on_recv.f.is_some() && !self.can_receive(&st)
            };
            if events.contains(PollEvents::POLLIN) && !full_handlers {
                let msg = match self.held.take() {
                    Some(m) => Some(m),
                    None => inner.with_socket(|s| s.try_recv_multipart())?,
                };
                if let Some(msg) = msg {
                    self.received(sh, msg, true);
                    count += 1;
                    progressed = true;
                }
            }
            if events.contains(PollEvents::POLLOUT) && !full(count) {
                if self.sending.is_none() {
                    let mut st = sh.lock();
                    self.sending = st.next_outgoing();
                    st.in_flight = self.sending.is_some();
                }
                if let Some(out) = &mut self.sending {
                    let r = inner.with_socket(|s| s.try_send_multipart(out.parts.iter_mut()));
                    match r {
                        Ok(false) => {}
                        Ok(true) => {
                            self.sent(sh, Ok(()));
                            count += 1;
                            progressed = true;
                        }
                        Err(e) => {
                            self.sent(sh, Err(e));
                            count += 1;
                            progressed = true;
                        }
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(count)
    }

    /// Hands a received message to the receive callback. Without one, the
    /// message is kept for the next callback, or dropped by `flush` (as in
    /// pyzmq).
    fn received(&mut self, sh: &Arc<Shared>, msg: Vec<Message>, flushing: bool) {
        let (cb, generation) = {
            let mut st = sh.lock();
            (st.on_recv.f.take(), st.on_recv.generation)
        };
        let Some(mut cb) = cb else {
            if !flushing {
                // The callback was removed after the receive began.
                self.held = Some(msg);
            }
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(|| match &mut cb {
            OnRecv::Plain(f) => {
                f(msg);
                None
            }
            OnRecv::Stream(f) => {
                f(&handle(sh), msg);
                None
            }
            OnRecv::Async(f, _) => Some(f(msg)),
            OnRecv::AsyncStream(f, _) => Some(f(handle(sh), msg)),
        }));
        let callback = if cb.limit().is_some() {
            ASYNC_HANDLER
        } else {
            "on_recv"
        };
        {
            let mut st = sh.lock();
            if st.on_recv.generation == generation && st.on_recv.f.is_none() {
                st.on_recv.f = Some(cb);
            }
            if let Ok(Some(f)) = result {
                // Polled at once by the driver's loop.
                self.handlers.push(f);
                st.handlers_running = self.handlers.len();
                return;
            }
        }
        if let Err(p) = result {
            report(
                sh,
                Error::CallbackPanicked {
                    callback,
                    message: panic_message(p.as_ref()),
                },
            );
        }
    }

    fn recv_failed(&mut self, sh: &Arc<Shared>, e: Error) {
        let fatal = matches!(e, Error::ContextTerminated | Error::NotSocket);
        report(sh, e);
        if fatal {
            sh.update(|st| st.closed = true);
        }
    }

    /// The message in `self.sending` was sent (or failed).
    fn sent(&mut self, sh: &Arc<Shared>, result: Result<()>) {
        let Some(out) = self.sending.take() else {
            return;
        };
        sh.lock().in_flight = false;
        let ok = result.is_ok();
        match out.done {
            Some(done) => {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| done(result))) {
                    report(
                        sh,
                        Error::CallbackPanicked {
                            callback: "send completion",
                            message: panic_message(p.as_ref()),
                        },
                    );
                }
            }
            None => {
                if let Err(e) = result {
                    report(sh, e);
                }
            }
        }
        let Some(parts) = out.copy.filter(|_| ok) else {
            return;
        };
        let (cb, generation) = {
            let mut st = sh.lock();
            (st.on_send.f.take(), st.on_send.generation)
        };
        let Some(mut cb) = cb else { return };
        let result = catch_unwind(AssertUnwindSafe(|| match &mut cb {
            OnSend::Plain(f) => f(&parts),
            OnSend::Stream(f) => f(&handle(sh), &parts),
        }));
        {
            let mut st = sh.lock();
            if st.on_send.generation == generation && st.on_send.f.is_none() {
                st.on_send.f = Some(cb);
            }
        }
        if let Err(p) = result {
            report(
                sh,
                Error::CallbackPanicked {
                    callback: "on_send",
                    message: panic_message(p.as_ref()),
                },
            );
        }
    }

    /// After `close`: fail what was not sent, drop running async handlers
    /// and the callbacks (they may hold handles), call the close callback.
    fn finish(&mut self, sh: &Arc<Shared>) {
        let inner = sh.socket.inner();
        inner.release(&mut self.recv_slot);
        inner.release(&mut self.send_slot);
        let (unsent, flushes, on_close, callbacks) = {
            let mut st = sh.lock();
            st.driver = None;
            let unsent: Vec<Outgoing> = self
                .sending
                .take()
                .into_iter()
                .chain(st.queue.drain(..))
                .collect();
            let callbacks = (
                st.on_recv.f.take(),
                st.on_send.f.take(),
                st.on_error.f.take(),
            );
            (
                unsent,
                std::mem::take(&mut st.flushes),
                st.on_close.take(),
                callbacks,
            )
        };
        for out in unsent {
            if let Some(done) = out.done {
                let _ = catch_unwind(AssertUnwindSafe(|| done(Err(Error::NotSocket))));
            }
        }
        for f in flushes {
            let _ = f.reply.send(Err(Error::NotSocket));
        }
        // Running async handlers are cancelled: dropped here, on the task,
        // before the close callback (none is left behind).
        let handlers = self.handlers.take_all();
        sh.lock().handlers_running = 0;
        if catch_unwind(AssertUnwindSafe(move || drop(handlers))).is_err() {
            eprintln!("zmqx::ZmqStream: an on_recv_async future panicked when dropped");
        }
        drop(callbacks);
        if let Some(f) = on_close {
            let _ = catch_unwind(AssertUnwindSafe(f));
        }
    }
}

/// Hands an error to the error callback, or prints it.
fn report(sh: &Arc<Shared>, error: Error) {
    let (cb, generation) = {
        let mut st = sh.lock();
        (st.on_error.f.take(), st.on_error.generation)
    };
    let Some(mut cb) = cb else {
        eprintln!("zmqx::ZmqStream: {error}");
        return;
    };
    let result = catch_unwind(AssertUnwindSafe(|| cb(error)));
    let mut st = sh.lock();
    if st.on_error.generation == generation && st.on_error.f.is_none() {
        st.on_error.f = Some(cb);
    }
    drop(st);
    if let Err(p) = result {
        eprintln!(
            "zmqx::ZmqStream: the error callback panicked: {}",
            panic_message(p.as_ref())
        );
    }
}
