//! [`ZmqPoller`]: the owner of a libzmq `zmq_poller` (DRAFT).

use std::collections::HashMap;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::time::Duration;

use crate::constants::PollEvents;
use crate::error::{Error, Result, check};
use crate::poll::RawFd;
use crate::socket::Socket;

use super::ThreadSafeSocket;
use super::require_draft;

mod sealed {
    pub trait Sealed {}
}

/// A socket a [`ZmqPoller`] can watch: [`Socket`] and [`ThreadSafeSocket`].
pub trait PollerSocket: sealed::Sealed {
    #[doc(hidden)]
    fn raw_socket(&self) -> *mut c_void;
}

impl sealed::Sealed for Socket {}
impl PollerSocket for Socket {
    fn raw_socket(&self) -> *mut c_void {
        self.as_raw()
    }
}

impl sealed::Sealed for ThreadSafeSocket {}
impl PollerSocket for ThreadSafeSocket {
    fn raw_socket(&self) -> *mut c_void {
        self.as_raw()
    }
}

/// What a poller item is: a socket (by its raw pointer, for comparing with
/// [`as_raw`](Socket::as_raw)) or a plain fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollerTarget {
    /// A ZeroMQ socket, by its `void *` (never dereferenced through this).
    Socket(usize),
    /// A file descriptor.
    Fd(RawFd),
}

impl PollerTarget {
    /// The target naming `socket`.
    pub fn of<S: PollerSocket>(socket: &S) -> PollerTarget {
        PollerTarget::Socket(socket.raw_socket() as usize)
    }
}

/// One ready item of a [`ZmqPoller`] wait.
#[derive(Debug)]
pub struct PollerEvent<'p, T> {
    /// Which item.
    pub target: PollerTarget,
    /// The events that are ready (a subset of those asked for).
    pub events: PollEvents,
    /// The user data given when the item was added.
    pub data: &'p T,
}

/// A waiter on sockets and fds (`zmq_poller_new`… `zmq_poller_destroy`,
/// DRAFT; cppzmq's `poller_t`), with user data of type `T` per item.
///
/// Unlike [`Poller`](crate::Poller) (`zmq_poll`) it can watch thread-safe
/// sockets ([`ThreadSafeSocket`]), and it keeps its item set between waits.
/// It borrows what it watches for `'a`, so no socket can be closed while
/// the poller may look at it. It is neither `Send` nor `Sync` (libzmq's
/// poller is not thread-safe).
///
/// ```
/// use std::time::Duration;
/// use zmqx::{Context, PollEvents, SocketType};
/// use zmqx::draft::ZmqPoller;
///
/// # fn main() -> zmqx::Result<()> {
/// let ctx = Context::new();
/// let server = ctx.thread_safe_socket(SocketType::Server)?;
/// server.bind("inproc://poller-doc")?;
/// let client = ctx.thread_safe_socket(SocketType::Client)?;
/// client.connect("inproc://poller-doc")?;
///
/// let mut poller = ZmqPoller::new()?;
/// poller.add(&server, PollEvents::POLLIN, "server")?;
/// client.send("hi")?;
/// let ready: Vec<_> = poller
///     .wait_all(Some(Duration::from_secs(5)))?
///     .map(|e| *e.data)
///     .collect();
/// assert_eq!(ready, ["server"]);
/// # Ok(()) }
/// ```
///
/// ```compile_fail
/// fn send<T: Send>() {}
/// send::<zmqx::draft::ZmqPoller<'static, ()>>();
/// ```
pub struct ZmqPoller<'a, T = ()> {
    raw: *mut c_void,
    items: HashMap<PollerTarget, T>,
    /// Reused by `wait_all`: no allocation per wait once grown.
    events: Vec<zmq_sys::zmq_poller_event_t>,
    _borrows: PhantomData<&'a ()>,
}

impl<T> std::fmt::Debug for ZmqPoller<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZmqPoller")
            .field("raw", &self.raw)
            .field("items", &self.items.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A timeout as `zmq_poller_wait` milliseconds (`None`: forever).
fn timeout_ms(timeout: Option<Duration>) -> Result<std::os::raw::c_long> {
    Ok(crate::options::duration_to_ms(timeout, "poller timeout")? as std::os::raw::c_long)
}

/// libzmq answers `EINVAL` for an item added twice or removed unknown.
fn item_error(e: Error, what: &str) -> Error {
    match e {
        Error::InvalidArgument => Error::invalid("poller item", what),
        e => e,
    }
}

impl<'a, T> ZmqPoller<'a, T> {
    /// An empty poller (`zmq_poller_new`).
    pub fn new() -> Result<ZmqPoller<'a, T>> {
        require_draft("zmq_poller_new")?;
        // SAFETY: zmq_poller_new has no preconditions.
        let raw = unsafe { zmq_sys::zmq_poller_new() };
        if raw.is_null() {
            return Err(Error::last());
        }
        Ok(ZmqPoller {
            raw,
            items: HashMap::new(),
            events: Vec::new(),
            _borrows: PhantomData,
        })
    }

    /// The number of items (`zmq_poller_size`).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the poller watches nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The user data of an item.
    pub fn data(&self, target: PollerTarget) -> Option<&T> {
        self.items.get(&target)
    }

    /// Watches `socket` for `events` (`zmq_poller_add`). A socket already
    /// in the poller is an [`Error::InvalidInput`].
    pub fn add<S: PollerSocket>(
        &mut self,
        socket: &'a S,
        events: PollEvents,
        data: T,
    ) -> Result<()> {
        let target = PollerTarget::of(socket);
        // SAFETY: raw is our live poller; the socket is alive for 'a, which
        // outlives the poller (it borrows the socket for 'a).
        let rc = unsafe {
            zmq_sys::zmq_poller_add(
                self.raw,
                socket.raw_socket(),
                std::ptr::null_mut(),
                events.bits(),
            )
        };
        check(rc).map_err(|e| item_error(e, "the socket is already in the poller"))?;
        self.items.insert(target, data);
        Ok(())
    }

    /// Changes the events watched on `socket` (`zmq_poller_modify`).
    pub fn modify<S: PollerSocket>(&mut self, socket: &S, events: PollEvents) -> Result<()> {
        // SAFETY: raw is our live poller; libzmq only compares the pointer
        // with its items (an unknown socket is EINVAL).
        let rc =
            unsafe { zmq_sys::zmq_poller_modify(self.raw, socket.raw_socket(), events.bits()) };
        check(rc)
            .map(drop)
            .map_err(|e| item_error(e, "the socket is not in the poller"))
    }

    /// Stops watching `socket` (`zmq_poller_remove`), returning its data.
    pub fn remove<S: PollerSocket>(&mut self, socket: &S) -> Result<T> {
        // SAFETY: as in `modify`.
        let rc = unsafe { zmq_sys::zmq_poller_remove(self.raw, socket.raw_socket()) };
        check(rc).map_err(|e| item_error(e, "the socket is not in the poller"))?;
        self.items
            .remove(&PollerTarget::of(socket))
            .ok_or_else(|| Error::invalid("poller item", "the socket is not in the poller"))
    }

    /// Watches a file descriptor (`zmq_poller_add_fd`): `POLLIN`, `POLLOUT`,
    /// `POLLERR`, `POLLPRI`. The poller does not own it; closing it while
    /// watched makes waits report it with `POLLERR`.
    pub fn add_fd(&mut self, fd: RawFd, events: PollEvents, data: T) -> Result<()> {
        // SAFETY: raw is our live poller; an fd is a plain number to libzmq.
        let rc = unsafe {
            zmq_sys::zmq_poller_add_fd(self.raw, fd, std::ptr::null_mut(), events.bits())
        };
        check(rc).map_err(|e| item_error(e, "the fd is already in the poller or invalid"))?;
        self.items.insert(PollerTarget::Fd(fd), data);
        Ok(())
    }

    /// Changes the events watched on an fd (`zmq_poller_modify_fd`).
    pub fn modify_fd(&mut self, fd: RawFd, events: PollEvents) -> Result<()> {
        // SAFETY: raw is our live poller.
        let rc = unsafe { zmq_sys::zmq_poller_modify_fd(self.raw, fd, events.bits()) };
        check(rc)
            .map(drop)
            .map_err(|e| item_error(e, "the fd is not in the poller"))
    }

    /// Stops watching an fd (`zmq_poller_remove_fd`), returning its data.
    pub fn remove_fd(&mut self, fd: RawFd) -> Result<T> {
        // SAFETY: raw is our live poller.
        let rc = unsafe { zmq_sys::zmq_poller_remove_fd(self.raw, fd) };
        check(rc).map_err(|e| item_error(e, "the fd is not in the poller"))?;
        self.items
            .remove(&PollerTarget::Fd(fd))
            .ok_or_else(|| Error::invalid("poller item", "the fd is not in the poller"))
    }

    /// The poller's own notification fd (`zmq_poller_fd`): signalled when a
    /// command reaches a thread-safe socket of the poller while nobody was
    /// reading its mailbox, that is when its state *may* have changed (read
    /// the truth with [`wait`](Self::wait) and a zero timeout, as
    /// `AsyncThreadSafeSocket` does). libzmq only has one when
    /// the poller holds a thread-safe socket; otherwise this is an
    /// [`Error::InvalidInput`]. It belongs to the poller: do not close it.
    pub fn fd(&self) -> Result<RawFd> {
        let mut fd: zmq_sys::zmq_fd_t = Default::default();
        // SAFETY: raw is our live poller; fd is writable.
        match check(unsafe { zmq_sys::zmq_poller_fd(self.raw, &mut fd) }) {
            Ok(_) => Ok(fd as RawFd),
            Err(Error::InvalidArgument) => Err(Error::invalid(
                "zmq_poller_fd",
                "the poller holds no thread-safe socket, so it has no fd",
            )),
            Err(e) => Err(e),
        }
    }

    fn check_wait(&self, timeout: Option<Duration>) -> Result<std::os::raw::c_long> {
        if self.items.is_empty() && timeout.is_none() {
            return Err(Error::invalid(
                "poller wait",
                "the poller is empty: waiting forever would never end",
            ));
        }
        timeout_ms(timeout)
    }

    fn event_of(&self, e: &zmq_sys::zmq_poller_event_t) -> Option<PollerEvent<'_, T>> {
        let target = if e.socket.is_null() {
            PollerTarget::Fd(e.fd as RawFd)
        } else {
            PollerTarget::Socket(e.socket as usize)
        };
        let data = self.items.get(&target)?;
        Some(PollerEvent {
            target,
            events: PollEvents::from_bits_retain(e.events),
            data,
        })
    }

    /// Waits at most `timeout` (`None`: forever) for one item to be ready
    /// (`zmq_poller_wait`). `Ok(None)` on timeout. A signal interrupting
    /// the wait is an [`Error::Interrupted`], as with [`crate::select`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Option<PollerEvent<'_, T>>> {
        let ms = self.check_wait(timeout)?;
        let mut event = zmq_sys::zmq_poller_event_t::default();
        // SAFETY: raw is our live poller whose sockets are alive ('a); event
        // is writable.
        match check(unsafe { zmq_sys::zmq_poller_wait(self.raw, &mut event, ms) }) {
            Ok(_) => Ok(self.event_of(&event)),
            Err(Error::Again) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits at most `timeout` for items to be ready and returns all that
    /// are (`zmq_poller_wait_all`); none on timeout.
    pub fn wait_all(&mut self, timeout: Option<Duration>) -> Result<PollerEvents<'_, 'a, T>> {
        let ms = self.check_wait(timeout)?;
        let n = self.items.len().max(1);
        self.events.clear();
        self.events
            .resize(n, zmq_sys::zmq_poller_event_t::default());
        // SAFETY: raw is our live poller whose sockets are alive; events
        // holds `n` writable entries and libzmq writes at most `n`.
        let rc = unsafe {
            zmq_sys::zmq_poller_wait_all(self.raw, self.events.as_mut_ptr(), n as i32, ms)
        };
        let found = match check(rc) {
            Ok(found) => found as usize,
            Err(Error::Again) => 0,
            Err(e) => return Err(e),
        };
        Ok(PollerEvents {
            poller: self,
            next: 0,
            end: found.min(n),
        })
    }

    /// The raw `void *` poller, for calls zmqx does not wrap.
    pub fn as_raw(&self) -> *mut c_void {
        self.raw
    }
}

/// The ready items of [`ZmqPoller::wait_all`].
#[derive(Debug)]
pub struct PollerEvents<'p, 'a, T> {
    poller: &'p ZmqPoller<'a, T>,
    next: usize,
    end: usize,
}

impl<'p, T> Iterator for PollerEvents<'p, '_, T> {
    type Item = PollerEvent<'p, T>;

    fn next(&mut self) -> Option<PollerEvent<'p, T>> {
        while self.next < self.end {
            let e = &self.poller.events[self.next];
            self.next += 1;
            if let Some(event) = self.poller.event_of(e) {
                return Some(event);
            }
        }
        None
    }
}

impl<T> Drop for ZmqPoller<'_, T> {
    fn drop(&mut self) {
        // SAFETY: raw is our live poller, destroyed once; its sockets are
        // still alive (borrowed for 'a), which destroy needs to detach
        // itself from thread-safe ones.
        unsafe { zmq_sys::zmq_poller_destroy(&mut self.raw) };
    }
}

/// A poller made only to drive one thread-safe socket, without the
/// borrow: owned by [`AsyncThreadSafeSocket`](super::AsyncThreadSafeSocket)
/// next to its socket, dropped before it.
#[cfg(all(feature = "tokio", unix))]
pub(crate) struct SocketPoller {
    raw: *mut c_void,
}

// SAFETY: a zmq_poller may be used from any thread, one at a time; the
// owner keeps it behind a Mutex.
#[cfg(all(feature = "tokio", unix))]
unsafe impl Send for SocketPoller {}

#[cfg(all(feature = "tokio", unix))]
impl SocketPoller {
    /// A poller watching `socket` for `POLLIN | POLLOUT`.
    ///
    /// # Safety
    ///
    /// `socket` must stay alive until this poller is dropped.
    pub(crate) unsafe fn new(socket: &ThreadSafeSocket) -> Result<SocketPoller> {
        require_draft("zmq_poller_new")?;
        // SAFETY: no preconditions.
        let raw = unsafe { zmq_sys::zmq_poller_new() };
        if raw.is_null() {
            return Err(Error::last());
        }
        let poller = SocketPoller { raw };
        let events = (PollEvents::POLLIN | PollEvents::POLLOUT).bits();
        // SAFETY: raw is live; the caller keeps the socket alive.
        check(unsafe {
            zmq_sys::zmq_poller_add(raw, socket.as_raw(), std::ptr::null_mut(), events)
        })?;
        Ok(poller)
    }

    /// `zmq_poller_fd`.
    pub(crate) fn fd(&self) -> Result<RawFd> {
        let mut fd: zmq_sys::zmq_fd_t = Default::default();
        // SAFETY: raw is live; fd is writable.
        check(unsafe { zmq_sys::zmq_poller_fd(self.raw, &mut fd) })?;
        Ok(fd as RawFd)
    }

    /// The socket's ready events now (`zmq_poller_wait`, timeout 0), which
    /// also consumes one pending signal of the poller's fd.
    pub(crate) fn events(&mut self) -> Result<PollEvents> {
        let mut event = zmq_sys::zmq_poller_event_t::default();
        loop {
            // SAFETY: raw is live, its socket too; event is writable.
            match check(unsafe { zmq_sys::zmq_poller_wait(self.raw, &mut event, 0) }) {
                Ok(_) => return Ok(PollEvents::from_bits_retain(event.events)),
                Err(Error::Again) => return Ok(PollEvents::empty()),
                Err(Error::Interrupted) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(all(feature = "tokio", unix))]
impl Drop for SocketPoller {
    fn drop(&mut self) {
        // SAFETY: raw is live, destroyed once, while its socket is alive.
        unsafe { zmq_sys::zmq_poller_destroy(&mut self.raw) };
    }
}
