//! [`MessageTracker`]: learn when libzmq is done with zero-copy buffers
//! (pyzmq's `zmq.MessageTracker`).
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

struct State {
    /// Messages not yet released by libzmq.
    pending: AtomicUsize,
    /// Guards the wake-up: waiters sleep on `cond`; async waiters leave a waker.
    wakers: Mutex<Wakers>,
    cond: Condvar,
}

/// Where an async wait is registered: its round and its index. Its
/// `TrackerWait` removes it when dropped, so a cancelled wait leaves nothing.
#[cfg(all(feature = "tokio", unix))]
pub(crate) type WaitKey = (u64, usize);

/// The wakers left by async waiters, all woken when the count reaches zero.
#[derive(Default)]
struct Wakers {
    /// Bumped each time the wakers are taken: a key from an older round
    /// names nothing any more.
    round: u64,
    /// Registered by waits with a key (an index here); `None`: free.
    keyed: Vec<Option<Waker>>,
    /// Free indices of `keyed`.
    free: Vec<usize>,
    /// Registered through [`MessageTracker::register_waker`].
    hooks: Vec<Waker>,
}

impl Wakers {
    /// All the wakers, to wake; every key given so far becomes stale.
    fn take_all(&mut self) -> Vec<Waker> {
        self.round += 1;
        self.free.clear();
        let mut all = std::mem::take(&mut self.hooks);
        all.extend(self.keyed.drain(..).flatten());
        all
    }
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
                wakers: Mutex::new(Wakers::default()),
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
    /// it is already done (then the waker is not kept). A waker left here
    /// stays until the tracker is done: to wait in a future that may be
    /// dropped first, use [`wait_async`](MessageTracker::wait_async) (or
    /// `.await` the tracker), which takes its waker back when dropped.
    pub fn register_waker(&self, waker: &Waker) -> bool {
        let mut wakers = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if self.done() {
            return true;
        }
        if !wakers.hooks.iter().any(|w| w.will_wake(waker)) {
            wakers.hooks.push(waker.clone());
        }
        false
    }

    /// Registers (or updates) the waker of the async wait holding `key`;
    /// returns `true`, keeping nothing, if the tracker is done. O(1).
    #[cfg(all(feature = "tokio", unix))]
    pub(crate) fn poll_wait(&self, key: &mut Option<WaitKey>, waker: &Waker) -> bool {
        let mut wakers = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *wakers;
        let mine = key.filter(|&(round, _)| round == w.round);
        if self.done() {
            if let Some((_, i)) = mine {
                let old = w.keyed[i].take();
                w.free.push(i);
                *key = None;
                drop(wakers);
                drop(old);
            }
            return true;
        }
        let old = match mine {
            Some((_, i)) => match &mut w.keyed[i] {
                Some(kept) if kept.will_wake(waker) => None,
                slot => slot.replace(waker.clone()),
            },
            None => {
                let i = match w.free.pop() {
                    Some(i) => {
                        w.keyed[i] = Some(waker.clone());
                        i
                    }
                    None => {
                        w.keyed.push(Some(waker.clone()));
                        w.keyed.len() - 1
                    }
                };
                *key = Some((w.round, i));
                None
            }
        };
        drop(wakers);
        // Dropped outside the lock: dropping a waker may run any code.
        drop(old);
        false
    }

    /// Removes the waker of the async wait holding `key`. O(1).
    #[cfg(all(feature = "tokio", unix))]
    pub(crate) fn cancel_wait(&self, key: WaitKey) {
        let mut wakers = self.state.wakers.lock().unwrap_or_else(|e| e.into_inner());
        let (round, i) = key;
        if round != wakers.round {
            return;
        }
        let old = wakers.keyed[i].take();
        wakers.free.push(i);
        drop(wakers);
        drop(old);
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
            wakers.take_all()
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
