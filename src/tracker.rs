//! [`MessageTracker`]: learn when libzmq is done with zero-copy buffers
//! (pyzmq's `zmq.MessageTracker`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

struct State {
    /// Messages not yet released by libzmq.
    pending: AtomicUsize,
    /// Guards the wake-up: waiters sleep on `cond`; async waiters leave a waker.
    wakers: Mutex<Vec<Waker>>,
    cond: Condvar,
}

/// Tracks one or more zero-copy messages until libzmq releases them all
/// (pyzmq's `MessageTracker`). The release is signalled from libzmq's free
/// callback, usually on an I/O thread.
///
/// Create one with [`Message::tracked`](crate::Message::tracked), or
/// [`MessageTracker::new`] plus [`Message::with_tracker`](crate::Message::with_tracker)
/// for several messages; [`Socket::send_multipart_tracked`](crate::Socket::send_multipart_tracked)
/// returns one for a whole multipart message.
#[derive(Clone)]
pub struct MessageTracker {
    state: Arc<State>,
}

impl std::fmt::Debug for MessageTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageTracker")
            .field("pending", &self.state.pending.load(Ordering::Acquire))
            .finish()
    }
}

impl Default for MessageTracker {
    fn default() -> Self {
        MessageTracker::new()
    }
}

impl MessageTracker {
    /// A tracker watching nothing yet (so already done).
    pub fn new() -> MessageTracker {
        MessageTracker {
            state: Arc::new(State {
                pending: AtomicUsize::new(0),
                wakers: Mutex::new(Vec::new()),
                cond: Condvar::new(),
            }),
        }
    }

    /// Whether every tracked message has been released (pyzmq's `done`).
    pub fn done(&self) -> bool {
        self.state.pending.load(Ordering::Acquire) == 0
    }

    /// How many tracked messages libzmq still holds.
    pub fn pending(&self) -> usize {
        self.state.pending.load(Ordering::Acquire)
    }

    /// Blocks until done, or fails with [`Error::NotDone`] after `timeout`
    /// (`None`: wait forever). pyzmq's `wait`.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<()> {
        // A timeout too large for `Instant` is as good as none.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut guard = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
        while !self.done() {
            guard = match deadline {
                None => self
                    .state
                    .cond
                    .wait(guard)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::NotDone);
                    }
                    self.state
                        .cond
                        .wait_timeout(guard, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        Ok(())
    }

    /// Leaves a waker to be woken when the tracker is done; returns `true` if
    /// it is already done (then the waker is not kept). This is the hook the
    /// async layer awaits on, without polling.
    pub fn register_waker(&self, waker: &Waker) -> bool {
        let mut wakers = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if self.done() {
            return true;
        }
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        false
    }

    /// Counts one more message; the guard releases it when dropped.
    pub(crate) fn guard(&self) -> TrackerGuard {
        self.state.pending.fetch_add(1, Ordering::AcqRel);
        TrackerGuard {
            state: self.state.clone(),
        }
    }
}

/// Held by a tracked message's buffer owner; dropping it releases one count.
pub(crate) struct TrackerGuard {
    state: Arc<State>,
}

impl Drop for TrackerGuard {
    fn drop(&mut self) {
        // Decrement under the lock so a waiter cannot miss the notification
        // between its check and its sleep.
        let wakers = {
            let mut wakers = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
            if self.state.pending.fetch_sub(1, Ordering::AcqRel) != 1 {
                return;
            }
            std::mem::take(&mut *wakers)
        };
        self.state.cond.notify_all();
        for w in wakers {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tracker_is_done() -> Result<()> {
        let t = MessageTracker::new();
        assert!(t.done());
        t.wait(Some(Duration::ZERO))
    }

    #[test]
    fn huge_timeout_does_not_overflow() -> Result<()> {
        let t = MessageTracker::new();
        t.wait(Some(Duration::MAX))?;
        let g = t.guard();
        let h = std::thread::spawn(move || drop(g));
        t.wait(Some(Duration::from_secs(u64::MAX)))?;
        h.join().expect("thread");
        Ok(())
    }

    #[test]
    fn released_from_another_thread() -> Result<()> {
        let t = MessageTracker::new();
        let g = t.guard();
        let h = std::thread::spawn(move || drop(g));
        t.wait(Some(Duration::from_secs(10)))?;
        h.join().expect("thread");
        Ok(())
    }
}
