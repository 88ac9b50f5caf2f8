//! [`AsyncPoller`]: wait on many async sockets, plain sockets and file
//! descriptors at once (pyzmq's `zmq.asyncio.Poller`).

use std::future::poll_fn;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::engine::{Inner, Slot};
use super::socket::{AsyncReceiver, AsyncSender, AsyncSocket};
use crate::constants::PollEvents;
use crate::error::{Error, Result};
use crate::socket::Socket;

mod sealed {
    pub trait Sealed {
        fn engine(&self) -> &super::Inner;
    }
}

/// What an [`AsyncPoller`] can watch: an [`AsyncSocket`] or one of its halves.
pub trait AsyncPollable: sealed::Sealed {}

impl sealed::Sealed for AsyncSocket {
    fn engine(&self) -> &Inner {
        self.inner()
    }
}
impl AsyncPollable for AsyncSocket {}
impl sealed::Sealed for AsyncSender {
    fn engine(&self) -> &Inner {
        self.inner()
    }
}
impl AsyncPollable for AsyncSender {}
impl sealed::Sealed for AsyncReceiver {
    fn engine(&self) -> &Inner {
        self.inner()
    }
}
impl AsyncPollable for AsyncReceiver {}

/// A borrowed fd registered with tokio; the borrow keeps it open.
struct PlainFd(RawFd);

impl AsRawFd for PlainFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

enum Target<'a> {
    Socket(&'a Inner),
    Fd(AsyncFd<PlainFd>, std::marker::PhantomData<BorrowedFd<'a>>),
    /// A plain [`Socket`], borrowed exclusively (it is `!Sync`: a shared
    /// borrow would make every poller `!Send`). The `Mutex` only keeps the
    /// poller `Sync`; it is reached through `&mut self`, never locked.
    /// `notify` is its `ZMQ_FD` registered with tokio, only while a poll
    /// waits on it.
    Plain {
        socket: Mutex<&'a mut Socket>,
        notify: Option<AsyncFd<PlainFd>>,
    },
}

struct Entry<'a> {
    target: Target<'a>,
    events: PollEvents,
    slot: Slot,
}

/// Waits on many async sockets, plain (blocking) sockets and plain file
/// descriptors (pyzmq's `zmq.asyncio.Poller`, async `zmq_poll`).
///
/// Register targets ([`register`](Self::register) for an [`AsyncSocket`],
/// [`register_socket`](Self::register_socket) for a plain [`Socket`],
/// [`register_fd`](Self::register_fd) for an fd), then
/// `poll(timeout).await` returns the keys of the ready ones with their
/// events. The poller borrows what it watches; async sockets stay usable
/// (send and receive take `&self`), a plain socket is reached through
/// [`socket`](Self::socket) while registered.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::Result<()> {
/// use std::time::Duration;
/// use zmqx::asynchronous::AsyncPoller;
/// use zmqx::{AsyncSocket, Context, PollEvents, SocketType};
/// let ctx = Context::new();
/// let a = AsyncSocket::new(ctx.socket(SocketType::Pull)?)?;
/// a.bind("inproc://async-poller-doc")?;
/// let b = AsyncSocket::new(ctx.socket(SocketType::Push)?)?;
/// b.connect("inproc://async-poller-doc")?;
///
/// let mut poller = AsyncPoller::new();
/// let key = poller.register(&a, PollEvents::POLLIN);
/// b.send("hi").await?;
/// let ready = poller.poll(Some(Duration::from_secs(5))).await?;
/// assert_eq!(ready, vec![(key, PollEvents::POLLIN)]);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct AsyncPoller<'a> {
    entries: Vec<Option<Entry<'a>>>,
}

impl std::fmt::Debug for AsyncPoller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPoller")
            .field("registered", &self.len())
            .finish()
    }
}

impl<'a> AsyncPoller<'a> {
    /// An empty poller.
    pub fn new() -> AsyncPoller<'a> {
        AsyncPoller::default()
    }

    /// Watches a socket for `events` (`POLLIN`, `POLLOUT`) and returns its
    /// key (pyzmq's `register`). Registering the same socket again changes
    /// its events and keeps its key.
    pub fn register<S: AsyncPollable>(&mut self, socket: &'a S, events: PollEvents) -> usize {
        let inner = sealed::Sealed::engine(socket);
        let found = self.entries.iter().position(|e| {
            matches!(e, Some(Entry { target: Target::Socket(s), .. }) if std::ptr::eq(*s, inner))
        });
        if let Some(key) = found {
            self.modify(key, events);
            return key;
        }
        self.insert(Entry {
            target: Target::Socket(inner),
            events,
            slot: Slot::default(),
        })
    }

    /// Watches a plain file descriptor (a pipe, a TCP socket…) for `POLLIN`
    /// and/or `POLLOUT`; readiness is level-triggered, as with `zmq_poll`.
    /// Fails with [`Error::Reactor`] when tokio cannot watch it (regular
    /// files, or outside a runtime).
    pub fn register_fd(&mut self, fd: BorrowedFd<'a>, events: PollEvents) -> Result<usize> {
        if let Err(e) = tokio::runtime::Handle::try_current() {
            return Err(Error::Reactor(std::io::Error::other(e)));
        }
        // SAFETY: `fd` is borrowed for 'a, so it stays open while the poller
        // (which lives at most 'a) holds the registration; PlainFd always
        // returns the same fd.
        let afd = unsafe {
            AsyncFd::register_with_interest(
                PlainFd(fd.as_raw_fd()),
                Interest::READABLE | Interest::WRITABLE,
            )
        }
        .map_err(|e| Error::Reactor(e.into_parts().1))?;
        Ok(self.insert(Entry {
            target: Target::Fd(afd, std::marker::PhantomData),
            events,
            slot: Slot::default(),
        }))
    }

    /// Watches a plain, blocking [`Socket`] for `POLLIN` and/or `POLLOUT`
    /// (pyzmq's `zmq.asyncio.Poller().register(sync_socket)`), and returns
    /// its key.
    ///
    /// The socket is borrowed exclusively: a [`Socket`] is `!Sync`, and the
    /// poller (which may move to another thread with its task) reads the
    /// socket's `ZMQ_EVENTS`. Use it through [`socket`](Self::socket)
    /// meanwhile, with non-blocking calls (`try_recv_msg`, `try_send`…):
    /// a blocking call would block the runtime's thread.
    ///
    /// Readiness is `ZMQ_EVENTS`, looked at on every poll and after every
    /// wake of the socket's `ZMQ_FD` (which is edge-triggered and only says
    /// "look again"), so a message queued before the poll is seen. The fd
    /// is registered with tokio only while a poll waits, as pyzmq wraps the
    /// socket for the duration of a poll: between polls, and after a
    /// cancelled poll, nothing is registered. A poll that finds the socket
    /// ready at once registers nothing.
    ///
    /// Fails with [`Error::AsyncUnsupported`] for a thread-safe (DRAFT)
    /// socket, which has no `ZMQ_FD`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> zmqx::Result<()> {
    /// use std::time::Duration;
    /// use zmqx::asynchronous::AsyncPoller;
    /// use zmqx::{Context, PollEvents, SocketType};
    /// let ctx = Context::new();
    /// let mut pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://async-poller-plain-doc")?;
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.connect("inproc://async-poller-plain-doc")?;
    ///
    /// let mut poller = AsyncPoller::new();
    /// let key = poller.register_socket(&mut pull, PollEvents::POLLIN)?;
    /// std::thread::spawn(move || push.send("hi"));
    /// let ready = poller.poll(Some(Duration::from_secs(5))).await?;
    /// assert_eq!(ready, vec![(key, PollEvents::POLLIN)]);
    /// let pull = poller.socket(key).expect("a plain socket");
    /// assert_eq!(pull.try_recv_string()?.as_deref(), Some("hi"));
    /// # Ok(()) }
    /// ```
    #[doc(alias = "ZMQ_FD")]
    pub fn register_socket(&mut self, socket: &'a mut Socket, events: PollEvents) -> Result<usize> {
        if socket.thread_safe()? {
            let kind = socket.socket_type().ok();
            return Err(Error::AsyncUnsupported {
                socket_type: kind.map_or_else(|| "thread-safe".to_string(), |k| k.to_string()),
            });
        }
        // Fails now, not in the middle of a poll, on a socket without one.
        socket.fd()?;
        Ok(self.insert(Entry {
            target: Target::Plain {
                socket: Mutex::new(socket),
                notify: None,
            },
            events,
            slot: Slot::default(),
        }))
    }

    /// The plain socket registered under `key` (by
    /// [`register_socket`](Self::register_socket)), to receive or send
    /// once a poll found it ready; `None` for another key.
    pub fn socket(&mut self, key: usize) -> Option<&Socket> {
        match self.entries.get_mut(key) {
            Some(Some(Entry {
                target: Target::Plain { socket, .. },
                ..
            })) => Some(&**socket.get_mut().unwrap_or_else(PoisonError::into_inner)),
            _ => None,
        }
    }

    fn insert(&mut self, entry: Entry<'a>) -> usize {
        if let Some(key) = self.entries.iter().position(Option::is_none) {
            self.entries[key] = Some(entry);
            key
        } else {
            self.entries.push(Some(entry));
            self.entries.len() - 1
        }
    }

    /// Changes the events of a registered key (pyzmq's `modify`); returns
    /// whether the key was registered.
    pub fn modify(&mut self, key: usize, events: PollEvents) -> bool {
        match self.entries.get_mut(key) {
            Some(Some(e)) => {
                e.events = events;
                true
            }
            _ => false,
        }
    }

    /// Stops watching a key (pyzmq's `unregister`); returns whether it was
    /// registered.
    pub fn unregister(&mut self, key: usize) -> bool {
        // The entry's slot, if registered, unregisters as it drops.
        self.entries.get_mut(key).and_then(Option::take).is_some()
    }

    /// How many targets are registered.
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until a target is ready or `timeout` passes (`None`: no limit)
    /// and returns the ready keys with their events, empty on timeout
    /// (pyzmq's `await poller.poll(timeout)`). A zero timeout only looks.
    ///
    /// Cancel-safe: dropping the future (a `select!` branch, a
    /// `tokio::time::timeout`) unregisters it from every socket at once
    /// (and takes the `ZMQ_FD` of every plain socket out of tokio).
    pub async fn poll(&mut self, timeout: Option<Duration>) -> Result<Vec<(usize, PollEvents)>> {
        let polling = Polling(self);
        let wait = poll_fn(|cx| polling.0.poll_entries(cx));
        match timeout {
            None => wait.await,
            Some(t) => tokio::time::timeout(t, wait)
                .await
                .unwrap_or(Ok(Vec::new())),
        }
    }

    fn release_all(&mut self) {
        for e in self.entries.iter_mut().flatten() {
            e.slot.release();
            if let Target::Plain { notify, .. } = &mut e.target {
                // Leaves tokio's reactor (the fd stays open: libzmq owns it).
                *notify = None;
            }
        }
    }

    fn poll_entries(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<(usize, PollEvents)>>> {
        let mut ready = Vec::new();
        for (key, e) in self.entries.iter_mut().enumerate() {
            let Some(e) = e else { continue };
            let want = e.events & (PollEvents::POLLIN | PollEvents::POLLOUT | PollEvents::POLLERR);
            if want.is_empty() {
                continue;
            }
            let events = match &mut e.target {
                Target::Socket(inner) => match inner.poll_ready(cx, &mut e.slot, want, true) {
                    Poll::Ready(Ok(ev)) => ev,
                    Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                    Poll::Pending => PollEvents::empty(),
                },
                Target::Fd(afd, _) => poll_fd(afd, want, cx)?,
                Target::Plain { socket, notify } => {
                    let socket = socket.get_mut().unwrap_or_else(PoisonError::into_inner);
                    poll_plain(socket, notify, want, cx)?
                }
            };
            if !events.is_empty() {
                ready.push((key, events));
            }
        }
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(ready))
        }
    }
}

/// A poll in progress: its registrations with the sockets end with it,
/// whether it completes or is dropped. (Between polls, the poller is
/// registered with no socket.)
struct Polling<'p, 'a>(&'p mut AsyncPoller<'a>);

impl Drop for Polling<'_, '_> {
    fn drop(&mut self) {
        self.0.release_all();
    }
}

/// The events of a plain fd now (`poll(2)` with a zero timeout).
fn level(fd: RawFd, want: PollEvents) -> Result<PollEvents> {
    let mut pfd = libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    };
    if want.contains(PollEvents::POLLIN) {
        pfd.events |= libc::POLLIN;
    }
    if want.contains(PollEvents::POLLOUT) {
        pfd.events |= libc::POLLOUT;
    }
    loop {
        // SAFETY: one valid pollfd, a zero timeout.
        let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
        if rc >= 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::Reactor(err));
        }
    }
    let mut out = PollEvents::empty();
    if pfd.revents & (libc::POLLIN | libc::POLLHUP) != 0 && want.contains(PollEvents::POLLIN) {
        out |= PollEvents::POLLIN;
    }
    if pfd.revents & libc::POLLOUT != 0 && want.contains(PollEvents::POLLOUT) {
        out |= PollEvents::POLLOUT;
    }
    if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 && want.contains(PollEvents::POLLERR) {
        out |= PollEvents::POLLERR;
    }
    Ok(out)
}

/// Level-triggered readiness of a plain fd on top of tokio's edge-triggered
/// reactor: look with `poll(2)`; clear tokio's readiness only after a look
/// found nothing, then look again.
fn poll_fd(afd: &AsyncFd<PlainFd>, want: PollEvents, cx: &mut Context<'_>) -> Result<PollEvents> {
    loop {
        let now = level(afd.get_ref().0, want)?;
        if !now.is_empty() {
            return Ok(now);
        }
        let mut cleared = false;
        if want.intersects(PollEvents::POLLIN | PollEvents::POLLERR) {
            if let Poll::Ready(r) = afd.poll_read_ready(cx) {
                r.map_err(Error::Reactor)?.clear_ready();
                cleared = true;
            }
        }
        if want.contains(PollEvents::POLLOUT) {
            if let Poll::Ready(r) = afd.poll_write_ready(cx) {
                r.map_err(Error::Reactor)?.clear_ready();
                cleared = true;
            }
        }
        if !cleared {
            return Ok(PollEvents::empty());
        }
    }
}

/// Readiness of a plain socket: `ZMQ_EVENTS`, looked at first and again
/// after every wake of its `ZMQ_FD` (registered with tokio on the first
/// wait of a poll, in `notify`).
///
/// The fd is edge-triggered and only means "the socket's state may have
/// changed": every look at `ZMQ_EVENTS` processes libzmq's pending commands,
/// so any change after it signals the fd again. Clearing tokio's readiness
/// before the next look is therefore safe: an edge that comes after the
/// clear has a newer tick, which stays.
fn poll_plain(
    socket: &Socket,
    notify: &mut Option<AsyncFd<PlainFd>>,
    want: PollEvents,
    cx: &mut Context<'_>,
) -> Result<PollEvents> {
    loop {
        let now = socket.events()? & want;
        if !now.is_empty() {
            return Ok(now);
        }
        let afd = match notify {
            Some(afd) => afd,
            None => notify.insert(register_notify(socket)?),
        };
        match afd.poll_read_ready(cx) {
            Poll::Pending => return Ok(PollEvents::empty()),
            Poll::Ready(Err(e)) => return Err(Error::Reactor(e)),
            Poll::Ready(Ok(mut guard)) => guard.clear_ready(),
        }
    }
}

/// Registers the `ZMQ_FD` of a plain socket with the current runtime.
fn register_notify(socket: &Socket) -> Result<AsyncFd<PlainFd>> {
    if let Err(e) = tokio::runtime::Handle::try_current() {
        return Err(Error::Reactor(std::io::Error::other(e)));
    }
    let raw = socket.fd()?;
    // SAFETY: `raw` is the ZMQ_FD of `socket`, which libzmq keeps open until
    // `zmq_close`; the socket is borrowed by the poller for 'a, so it cannot
    // be closed while the poller (which holds this registration, and drops
    // it at the end of every poll) lives. PlainFd always returns the same fd.
    unsafe { AsyncFd::register_with_interest(PlainFd(raw), Interest::READABLE) }
        .map_err(|e| Error::Reactor(e.into_parts().1))
}
