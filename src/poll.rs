//! [`Poller`] and [`select`]: wait on many sockets and file descriptors
//! (`zmq_poll`), pyzmq's `zmq.Poller` and `zmq.select`.

use std::time::Duration;

use crate::constants::PollEvents;
use crate::error::{Error, Result, check};
use crate::socket::Socket;

/// A raw OS file descriptor (a `SOCKET` on Windows).
#[cfg(unix)]
pub type RawFd = std::os::raw::c_int;
/// A raw OS file descriptor (a `SOCKET` on Windows).
#[cfg(windows)]
pub type RawFd = u64;

/// Something a [`Poller`] can watch: a socket or a raw fd.
#[derive(Debug, Clone, Copy)]
pub enum PollTarget<'a> {
    /// A ZeroMQ socket.
    Socket(&'a Socket),
    /// A plain file descriptor (a TCP socket, a pipe…).
    Fd(RawFd),
}

impl PartialEq for PollTarget<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PollTarget::Socket(a), PollTarget::Socket(b)) => std::ptr::eq(*a, *b),
            (PollTarget::Fd(a), PollTarget::Fd(b)) => a == b,
            _ => false,
        }
    }
}

impl<'a> From<&'a Socket> for PollTarget<'a> {
    fn from(s: &'a Socket) -> Self {
        PollTarget::Socket(s)
    }
}

impl From<RawFd> for PollTarget<'_> {
    fn from(fd: RawFd) -> Self {
        PollTarget::Fd(fd)
    }
}

/// Converts a timeout to `zmq_poll` milliseconds (`None`: forever).
fn timeout_ms(timeout: Option<Duration>) -> Result<std::os::raw::c_long> {
    Ok(crate::options::duration_to_ms(timeout, "poll timeout")? as std::os::raw::c_long)
}

/// Polls raw items, retrying on `EINTR` with the remaining time.
fn poll_items(items: &mut [zmq_sys::zmq_pollitem_t], timeout: Option<Duration>) -> Result<usize> {
    // Refuse an out-of-range timeout before computing a deadline with it
    // (which could overflow `Instant`).
    timeout_ms(timeout)?;
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        // SAFETY: items is a valid array of initialised poll items whose
        // sockets are alive (borrowed by the Poller for its lifetime).
        let rc = unsafe {
            zmq_sys::zmq_poll(
                items.as_mut_ptr(),
                items.len() as i32,
                timeout_ms(remaining)?,
            )
        };
        match check(rc) {
            Ok(n) => return Ok(n as usize),
            Err(Error::Interrupted) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Waits on sockets and fds (`zmq_poll`), pyzmq's `zmq.Poller`.
///
/// The poller borrows what it watches, so a socket cannot be closed while
/// registered.
///
/// ```
/// # fn main() -> zmqx::Result<()> {
/// use std::time::Duration;
/// use zmqx::{Context, Poller, PollEvents, SocketType};
/// let ctx = Context::new();
/// let a = ctx.socket(SocketType::Pair)?;
/// let b = ctx.socket(SocketType::Pair)?;
/// a.bind("inproc://poller-doc")?;
/// b.connect("inproc://poller-doc")?;
/// b.send("hi")?;
/// let mut poller = Poller::new();
/// poller.register(&a, PollEvents::POLLIN);
/// let ready = poller.poll(Some(Duration::from_secs(5)))?;
/// assert_eq!(ready.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Poller<'a> {
    targets: Vec<PollTarget<'a>>,
    items: Vec<zmq_sys::zmq_pollitem_t>,
}

impl std::fmt::Debug for Poller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("registered", &self.targets.len())
            .finish()
    }
}

impl<'a> Poller<'a> {
    /// An empty poller.
    pub fn new() -> Poller<'a> {
        Poller::default()
    }

    /// Watches `target` for `events` (pyzmq's `register`). Registering again
    /// replaces the events; empty events unregister it.
    pub fn register(&mut self, target: impl Into<PollTarget<'a>>, events: PollEvents) {
        let target = target.into();
        if events.is_empty() {
            self.unregister(target);
            return;
        }
        if let Some(i) = self.position(target) {
            self.items[i].events = events.bits();
            return;
        }
        let mut item = zmq_sys::zmq_pollitem_t {
            events: events.bits(),
            ..Default::default()
        };
        match target {
            PollTarget::Socket(s) => item.socket = s.as_raw(),
            PollTarget::Fd(fd) => item.fd = fd,
        }
        self.targets.push(target);
        self.items.push(item);
    }

    /// Changes the events of a registered target (pyzmq's `modify`).
    pub fn modify(&mut self, target: impl Into<PollTarget<'a>>, events: PollEvents) {
        self.register(target, events);
    }

    /// Stops watching `target`; returns whether it was registered.
    pub fn unregister(&mut self, target: impl Into<PollTarget<'a>>) -> bool {
        match self.position(target.into()) {
            Some(i) => {
                self.targets.remove(i);
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    /// What the poller holds: every registered target with the events it
    /// is watched for, in registration order (pyzmq's `Poller.sockets`).
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// use zmqx::{Context, PollEvents, PollTarget, Poller, SocketType};
    /// let ctx = Context::new();
    /// let a = ctx.socket(SocketType::Pull)?;
    /// let mut poller = Poller::new();
    /// poller.register(&a, PollEvents::POLLIN);
    /// let held: Vec<_> = poller.sockets().collect();
    /// assert_eq!(held, [(PollTarget::Socket(&a), PollEvents::POLLIN)]);
    /// # Ok(()) }
    /// ```
    pub fn sockets(&self) -> impl ExactSizeIterator<Item = (PollTarget<'a>, PollEvents)> + '_ {
        self.targets
            .iter()
            .zip(&self.items)
            .map(|(target, item)| (*target, PollEvents::from_bits_retain(item.events)))
    }

    /// The events `target` is registered for, `None` when it is not
    /// registered (pyzmq's `socket in poller` and `dict(poller.sockets)[socket]`).
    pub fn events(&self, target: impl Into<PollTarget<'a>>) -> Option<PollEvents> {
        self.position(target.into())
            .map(|i| PollEvents::from_bits_retain(self.items[i].events))
    }

    /// How many targets are registered.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    fn position(&self, target: PollTarget<'a>) -> Option<usize> {
        self.targets.iter().position(|t| *t == target)
    }

    /// Waits until something is ready or `timeout` passes (`None`: forever),
    /// and returns the ready targets with their events (pyzmq's `poll`).
    /// Interrupted waits resume with the remaining time.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<Vec<(PollTarget<'a>, PollEvents)>> {
        for item in &mut self.items {
            item.revents = 0;
        }
        let n = poll_items(&mut self.items, timeout)?;
        let mut ready = Vec::with_capacity(n);
        for (target, item) in self.targets.iter().zip(&self.items) {
            if item.revents != 0 {
                ready.push((*target, PollEvents::from_bits_retain(item.revents)));
            }
        }
        Ok(ready)
    }

    /// Waits like [`poll`](Poller::poll) but only returns how many targets
    /// are ready, without allocating: read each one's events with
    /// [`revents`](Poller::revents). Meant for hot loops (zmqx's proxies).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<usize> {
        for item in &mut self.items {
            item.revents = 0;
        }
        poll_items(&mut self.items, timeout)
    }

    /// The events a target got in the last [`poll`](Poller::poll) or
    /// [`wait`](Poller::wait), if registered.
    pub fn revents(&self, target: impl Into<PollTarget<'a>>) -> Option<PollEvents> {
        self.position(target.into())
            .map(|i| PollEvents::from_bits_retain(self.items[i].revents))
    }
}

/// What [`select`] found ready.
#[derive(Debug, Default)]
pub struct Selected<'a> {
    /// Readable targets.
    pub read: Vec<PollTarget<'a>>,
    /// Writable targets.
    pub write: Vec<PollTarget<'a>>,
    /// Targets with an error condition.
    pub error: Vec<PollTarget<'a>>,
}

/// pyzmq's `zmq.select(rlist, wlist, xlist, timeout)`: polls the targets and
/// returns those ready for reading, writing, or in error.
pub fn select<'a>(
    read: &[PollTarget<'a>],
    write: &[PollTarget<'a>],
    error: &[PollTarget<'a>],
    timeout: Option<Duration>,
) -> Result<Selected<'a>> {
    let mut poller = Poller::new();
    for (list, ev) in [
        (read, PollEvents::POLLIN),
        (write, PollEvents::POLLOUT),
        (error, PollEvents::POLLERR),
    ] {
        for t in list {
            let now = poller
                .position(*t)
                .map(|i| PollEvents::from_bits_retain(poller.items[i].events));
            poller.register(*t, now.unwrap_or_default() | ev);
        }
    }
    let ready = poller.poll(timeout)?;
    let mut out = Selected::default();
    for (t, ev) in ready {
        if ev.contains(PollEvents::POLLIN) && read.contains(&t) {
            out.read.push(t);
        }
        if ev.contains(PollEvents::POLLOUT) && write.contains(&t) {
            out.write.push(t);
        }
        if ev.contains(PollEvents::POLLERR) && error.contains(&t) {
            out.error.push(t);
        }
    }
    Ok(out)
}

impl Socket {
    /// Waits until the socket is ready for `events` or `timeout` passes
    /// (`None`: forever); returns the events that are ready, empty on timeout
    /// (pyzmq's `socket.poll`).
    pub fn poll(&self, events: PollEvents, timeout: Option<Duration>) -> Result<PollEvents> {
        let mut items = [zmq_sys::zmq_pollitem_t {
            socket: self.as_raw(),
            events: events.bits(),
            ..Default::default()
        }];
        poll_items(&mut items, timeout)?;
        Ok(PollEvents::from_bits_retain(items[0].revents))
    }
}
