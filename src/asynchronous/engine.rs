//! The readiness engine: one libzmq socket, its `ZMQ_FD` registered with
//! tokio, and the waiters (futures, streams, pollers) parked on it.
//!
//! See the [module docs](super) ("How readiness works") for the reasoning;
//! the comments here point back to it.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::constants::{PollEvents, SocketType};
use crate::error::{Error, Result};
use crate::socket::Socket;

/// How many times an operation is retried while `ZMQ_EVENTS` claims the
/// socket is ready but the operation would still block, before waiting for
/// the next edge of the fd instead. (A `ROUTER_MANDATORY` socket reports
/// `POLLOUT` when *any* peer has room, while the addressed peer may be full:
/// trusting `ZMQ_EVENTS` forever there would spin at 100% CPU.)
const TRUSTED_RETRIES: u32 = 2;

/// The `ZMQ_FD` of a socket as tokio sees it. It does not own the fd:
/// libzmq does, and closes it in `zmq_close`.
#[derive(Debug)]
struct NotifyFd(RawFd);

impl AsRawFd for NotifyFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// One parked future, stream or poller entry.
struct Waiter {
    id: u64,
    want: PollEvents,
    waker: Waker,
}

/// The waiters of one socket. It is also the waker registered with tokio for
/// the fd (the "fan-out" waker): an edge wakes every waiter, whatever it
/// waits for, because libzmq's fd does not tell which state changed.
#[derive(Default)]
pub(crate) struct Waiters {
    list: Mutex<Vec<Waiter>>,
    /// `list.len()`, readable without the lock for the fast path of
    /// operations: nobody parked, nothing to check.
    len: AtomicUsize,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, Vec<Waiter>> {
        // Waker calls cannot leave the list half-updated, so a poisoned lock
        // (a panicking waker elsewhere) still holds a valid list.
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, id: u64, want: PollEvents, waker: &Waker) {
        let mut list = self.lock();
        if let Some(w) = list.iter_mut().find(|w| w.id == id) {
            w.want = want;
            if !w.waker.will_wake(waker) {
                w.waker.clone_from(waker);
            }
            return;
        }
        list.push(Waiter {
            id,
            want,
            waker: waker.clone(),
        });
        self.len.store(list.len(), Ordering::Release);
    }

    fn unregister(&self, id: u64) {
        if self.is_empty() {
            return;
        }
        let mut list = self.lock();
        if let Some(i) = list.iter().position(|w| w.id == id) {
            list.swap_remove(i);
            self.len.store(list.len(), Ordering::Release);
        }
    }

    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Removes the waiters other than `except` that wait for any of `ready`
    /// (all of them when `ready` is `None`, an error), returning their wakers.
    fn take(&self, ready: Option<PollEvents>, except: u64) -> Vec<Waker> {
        let mut out = Vec::new();
        if self.is_empty() || ready.is_some_and(|r| r.is_empty()) {
            return out;
        }
        let mut list = self.lock();
        let mut i = 0;
        while i < list.len() {
            let w = &list[i];
            if w.id != except && ready.is_none_or(|r| w.want.intersects(r)) {
                out.push(list.swap_remove(i).waker);
            } else {
                i += 1;
            }
        }
        self.len.store(list.len(), Ordering::Release);
        out
    }
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_all(self.take(None, 0));
    }
}

/// Wakes outside of every lock: a waker may run arbitrary code.
fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// A waiter's identity on one socket, kept by a future, a `Stream`/`Sink`
/// or a poller entry across polls. Id 0 means "none yet".
#[derive(Debug, Default)]
pub(crate) struct Slot {
    id: u64,
    registered: bool,
}

/// A socket driven by tokio: the socket behind a mutex (it is `!Sync`, and
/// the halves of a split socket work from two tasks), its fd registration,
/// and its waiters.
pub struct Inner {
    /// Declared first so that it is dropped first: the fd leaves the reactor
    /// before `zmq_close` closes it.
    fd: AsyncFd<NotifyFd>,
    /// Held only for non-blocking libzmq calls, never across an `.await`.
    socket: Mutex<Socket>,
    waiters: Arc<Waiters>,
    /// `waiters` as a waker, the only waker ever given to `fd`.
    fanout: Waker,
    next_id: AtomicU64,
    kind: Option<SocketType>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSocket")
            .field("type", &self.kind)
            .field("fd", &self.fd.get_ref().0)
            .finish()
    }
}

impl Inner {
    /// Registers the socket's `ZMQ_FD` with the current tokio runtime.
    pub(crate) fn new(socket: Socket) -> Result<Inner> {
        let kind = socket.socket_type().ok();
        if socket.thread_safe()? {
            return Err(Error::AsyncUnsupported {
                socket_type: kind.map_or_else(|| "thread-safe".to_string(), |k| k.to_string()),
            });
        }
        if let Err(e) = tokio::runtime::Handle::try_current() {
            return Err(Error::Reactor(std::io::Error::other(e)));
        }
        let raw = socket.fd()?;
        // SAFETY: `raw` is the ZMQ_FD of `socket`, which libzmq keeps open
        // until `zmq_close`. The AsyncFd is a field of the same struct as the
        // socket, declared before it, so it is dropped (deregistered) before
        // the socket closes the fd; `into_socket` drops it first too.
        // NotifyFd returns the same fd for its whole life.
        let fd = unsafe { AsyncFd::register_with_interest(NotifyFd(raw), Interest::READABLE) }
            .map_err(|e| Error::Reactor(e.into_parts().1))?;
        let waiters = Arc::new(Waiters::default());
        Ok(Inner {
            fd,
            socket: Mutex::new(socket),
            fanout: Waker::from(waiters.clone()),
            waiters,
            next_id: AtomicU64::new(1),
            kind,
        })
    }

    /// Gives the socket back, after leaving the reactor.
    pub(crate) fn into_socket(self) -> Socket {
        let Inner { fd, socket, .. } = self;
        drop(fd);
        socket.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, Socket> {
        // libzmq calls do not panic; a panic in a `with_socket` closure leaves
        // the socket as valid as before.
        self.socket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the socket, then wakes the waiters it may have made ready
    /// (any libzmq call may process commands and consume the fd's edge).
    pub(crate) fn with_socket<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
        let (r, wake) = {
            let s = self.lock();
            let r = f(&s);
            (r, self.ready_waiters(&s, 0))
        };
        wake_all(wake);
        r
    }

    /// Runs `f` on the socket for a read that processes no command (an
    /// option that is not `EVENTS`), without checking waiters.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
        f(&self.lock())
    }

    /// The waiters (other than `except`) that the state of `s` makes ready.
    /// Costs nothing when nobody waits.
    fn ready_waiters(&self, s: &Socket, except: u64) -> Vec<Waker> {
        if self.waiters.is_empty() {
            return Vec::new();
        }
        self.waiters.take(s.events().ok(), except)
    }

    /// Reads `ZMQ_EVENTS` (which processes libzmq's pending commands and
    /// drains the fd) and wakes the other waiters it shows ready.
    fn check(&self, me: u64) -> Result<PollEvents> {
        let (events, wake) = {
            let s = self.lock();
            let events = s.events();
            let wake = self.waiters.take(events.as_ref().ok().copied(), me);
            (events, wake)
        };
        wake_all(wake);
        events
    }

    fn slot_id(&self, slot: &mut Slot) -> u64 {
        if slot.id == 0 {
            slot.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        }
        slot.id
    }

    /// Forgets a slot's registration (when its future completes or drops).
    pub(crate) fn release(&self, slot: &mut Slot) {
        if slot.registered {
            self.waiters.unregister(slot.id);
            slot.registered = false;
        }
    }

    /// Runs the non-blocking `op` (`Ok(None)`: would block) as soon as the
    /// socket is ready for `want`; the heart of every future.
    ///
    /// `op` runs inside this poll and its result is returned from it at once,
    /// so a future dropped between polls never holds a received message or a
    /// half-sent one.
    pub(crate) fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Slot,
        want: PollEvents,
        mut op: impl FnMut(&Socket) -> Result<Option<R>>,
    ) -> Poll<Result<R>> {
        // Take part in tokio's cooperative scheduling: a socket that is always
        // ready must not starve the other tasks of its worker thread.
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        let mut tries = 0;
        loop {
            // Try first: when data is flowing this is the only libzmq call.
            let (done, wake) = {
                let s = self.lock();
                match op(&s) {
                    Ok(None) => (None, Vec::new()),
                    done => {
                        self.release(slot);
                        // The call may have processed the command that would
                        // have woken someone else: look on their behalf.
                        (Some(done), self.ready_waiters(&s, slot.id))
                    }
                }
            };
            match done {
                Some(Ok(Some(v))) => {
                    wake_all(wake);
                    coop.made_progress();
                    return Poll::Ready(Ok(v));
                }
                Some(Err(e)) => {
                    wake_all(wake);
                    return Poll::Ready(Err(e));
                }
                Some(Ok(None)) | None => {}
            }
            tries += 1;
            match self.poll_ready(cx, slot, want, tries <= TRUSTED_RETRIES) {
                Poll::Ready(Ok(_)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Waits until `ZMQ_EVENTS` shows any of `want` (returned), parking the
    /// task on the fd otherwise.
    ///
    /// With `trust_events` false, only a fresh edge of the fd completes it
    /// (see [`TRUSTED_RETRIES`]).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Slot,
        want: PollEvents,
        trust_events: bool,
    ) -> Poll<Result<PollEvents>> {
        let id = self.slot_id(slot);
        // Register before looking, so that whoever changes the state after
        // our look sees us and wakes us.
        self.waiters.register(id, want, cx.waker());
        slot.registered = true;
        let result = self.poll_ready_registered(id, want, trust_events);
        if result.is_ready() {
            self.release(slot);
        }
        result
    }

    fn poll_ready_registered(
        &self,
        id: u64,
        want: PollEvents,
        trust_events: bool,
    ) -> Poll<Result<PollEvents>> {
        // Reading EVENTS drains libzmq's command mailbox, so any state change
        // from now on signals the fd again.
        let events = self.check(id)?;
        if trust_events && events.intersects(want) {
            return Poll::Ready(Ok(events & want));
        }
        let mut fanout = Context::from_waker(&self.fanout);
        loop {
            match self.fd.poll_read_ready(&mut fanout) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Reactor(e))),
                Poll::Ready(Ok(mut guard)) => {
                    // The edge may predate our look above, or be new: look
                    // again, *after* taking the guard, and clear readiness
                    // only when the wanted bit is absent. An edge that comes
                    // after this look has a newer tick, which `clear_ready`
                    // leaves alone.
                    let events = self.check(id)?;
                    if !trust_events {
                        guard.clear_ready();
                        return Poll::Ready(Ok(events & want));
                    }
                    if events.intersects(want) {
                        return Poll::Ready(Ok(events & want));
                    }
                    guard.clear_ready();
                }
            }
        }
    }
}
