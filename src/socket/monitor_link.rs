//! What a [`Monitor`](crate::monitor::Monitor) shares with the socket it
//! watches, so that the libzmq monitor is always ended before the PAIR
//! socket receiving its events is closed.
//!
//! libzmq sends monitor events with a blocking send. Once the receiving PAIR
//! is closed, the next event blocks the thread that emits it (often an I/O
//! thread, which then serves no socket any more: libzmq issue #3575). So the
//! monitor must be disabled first, and only the monitored socket can do
//! that. The link lets either side do it:
//!
//! - the socket, as it closes, disables a monitor a `Monitor` still
//!   receives (before `zmq_close`, so the events of its own teardown,
//!   which libzmq emits after `zmq_close` returns, are never sent);
//! - the `Monitor`, as it is dropped or stopped, disables the monitor from
//!   its own thread, under the link's lock, which the socket also takes
//!   before closing: the socket is alive for the whole call.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result, check};

/// The link between a socket and the [`Monitor`](crate::monitor::Monitor)s
/// made from it.
#[derive(Debug)]
pub(crate) struct MonitorLink {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The monitored socket while it is open; null once closed or given
    /// away.
    raw: *mut c_void,
    /// The socket was given away with `into_raw`: whoever owns it now may
    /// close it at any time without disabling its monitor.
    given_away: bool,
    /// The id of the `Monitor` receiving the socket's current monitor
    /// events; 0: none (no monitor, or one set up by hand).
    current: u64,
}

// SAFETY: the raw socket pointer is only used under the mutex, and only for
// `zmq_socket_monitor` (see `MonitorLink::release`); the socket's owner takes
// the same mutex before closing it or giving it away.
unsafe impl Send for State {}

/// What [`MonitorLink::release`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Released {
    /// libzmq sends nothing more to the monitor's endpoint: its PAIR socket
    /// may be closed.
    Stopped,
    /// The socket was given away with its monitor on: libzmq may still send
    /// to the PAIR socket, which must therefore stay open.
    Unknown,
}

impl MonitorLink {
    /// A link for the live socket `raw`.
    pub(crate) fn new(raw: *mut c_void) -> Arc<MonitorLink> {
        Arc::new(MonitorLink {
            state: Mutex::new(State {
                raw,
                given_away: false,
                current: 0,
            }),
        })
    }

    /// A fresh id for a `Monitor` (never 0).
    pub(crate) fn next_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `start` (a `zmq_socket_monitor` call by the socket's owner) under
    /// the lock; on success the monitor of `id` is the socket's current one
    /// (`id` 0: a monitor set up by hand, or none).
    pub(crate) fn replace(&self, id: u64, start: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut state = self.lock();
        start()?;
        state.current = id;
        Ok(())
    }

    /// The socket is closing (called by its owner before `zmq_close`):
    /// disables a monitor a `Monitor` still receives, then forgets the
    /// socket.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        if state.current != 0 {
            // SAFETY: called by the socket's owner with the socket still
            // open. A failure (ETERM: the context already stopped the
            // monitor) leaves nothing to do.
            let _ = unsafe { disable(state.raw) };
            state.current = 0;
        }
        state.raw = std::ptr::null_mut();
    }

    /// The socket is given away (`into_raw`): nothing can be done through
    /// the link from now on.
    pub(crate) fn give_away(&self) {
        let mut state = self.lock();
        state.raw = std::ptr::null_mut();
        state.given_away = true;
    }

    /// Ends the monitor of `id` if it is still the socket's current one, from
    /// any thread; afterwards libzmq sends nothing more to it (after
    /// `MONITOR_STOPPED`). Never blocks for long: the call takes the link's
    /// lock (held by the owner only around a `zmq_socket_monitor` or
    /// `zmq_close`) and libzmq's monitor lock (held only while an event is
    /// queued, which never waits: the PAIR socket has no receive limit).
    pub(crate) fn release(&self, id: u64) -> Result<Released> {
        let mut state = self.lock();
        if state.current != id {
            // Replaced, disabled or closed: libzmq already sent
            // MONITOR_STOPPED to this monitor and closed its end.
            return Ok(Released::Stopped);
        }
        if state.given_away {
            return Ok(Released::Unknown);
        }
        // `current == id != 0` implies the socket is open: `close` resets
        // `current` before forgetting it.
        //
        // SAFETY: `state.raw` is open and stays so while the lock is held
        // (the owner takes it before closing or giving the socket away).
        // The owner thread may use the socket meanwhile; libzmq supports
        // that for this call: `zmq_socket_monitor` checks the socket's tag
        // (written only at creation and by `zmq_close`, excluded by the
        // lock), then does everything under the socket's own monitor mutex
        // (`socket_base_t::_monitor_sync`), which also guards the monitor
        // socket against libzmq's I/O threads that emit events concurrently,
        // and the context-terminated flag that `process_stop` sets.
        let r = unsafe { disable(state.raw) };
        state.current = 0;
        match r {
            // ETERM: the context stopped the monitor already.
            Ok(()) | Err(Error::ContextTerminated) => Ok(Released::Stopped),
            Err(e) => Err(e),
        }
    }
}

/// `zmq_socket_monitor(raw, NULL, 0)`: stops the socket's monitor, which
/// sends `MONITOR_STOPPED` (if asked for) and closes libzmq's end.
///
/// # Safety
///
/// `raw` is an open socket, not being closed by another thread.
unsafe fn disable(raw: *mut c_void) -> Result<()> {
    // SAFETY: forwarded from the caller; a null endpoint stops monitoring.
    check(unsafe { zmq_sys::zmq_socket_monitor(raw, std::ptr::null(), 0) }).map(drop)
}
