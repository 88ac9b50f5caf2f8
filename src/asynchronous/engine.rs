//! The readiness engine: one libzmq socket, its `ZMQ_FD` registered with
//! tokio, and the waiters (futures, streams, pollers) parked on it.
//!
//! See the [module docs](super) ("How readiness works") for the reasoning;
//! the comments here point back to it.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicUsize, Ordering};

use futures_util::task::AtomicWaker;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::constants::{PollEvents, SocketType};
use crate::error::{Error, Result};
use crate::socket::Socket;

use super::lock::{BiasedLock, Guard};

/// How many times an operation is retried while `ZMQ_EVENTS` claims the
/// socket is ready but the operation would still block, before waiting for
/// the next edge of the fd instead. (A `ROUTER_MANDATORY` socket reports
/// `POLLOUT` when *any* peer has room, while the addressed peer may be full:
/// trusting `ZMQ_EVENTS` forever there would spin at 100% CPU.)
const TRUSTED_RETRIES: u32 = 2;

/// How many operations on one socket may complete in a row, none of them
/// having to wait, before the next one yields to the runtime once (tokio's
/// task budget is 128 too), unless they have taken less than [`SLICE`]:
/// an always-ready socket cannot starve the other tasks of its thread, nor
/// its timers and I/O, for longer than both. At most 255 (the countdown is
/// the low byte of [`Inner::streak`]).
const BUDGET: u32 = 128;

/// How long a streak goes on after its [`BUDGET`] is spent, at least, before
/// it yields.
///
/// A yield costs the runtime a turn of its I/O driver (an `epoll_wait`
/// system call, about a microsecond), which 128 in-process operations of
/// 50 ns each cannot carry: yielding after every 128 took 10 % of a
/// single-thread send-and-receive loop's time. Operations of 100 µs or more
/// (large copies) yield after 160 (the clock is read at the 128th and every
/// [`SLICE_EVERY`] after), tokio's after 128.
const SLICE: Duration = Duration::from_micros(100);

/// Once its [`BUDGET`] is spent, a streak looks at the clock every this
/// many operations: the first look starts its [`SLICE`], the others see
/// whether it is spent.
const SLICE_EVERY: u32 = 32;

/// [`Inner::streak`] at the start of a streak: no look yet, [`BUDGET`]
/// operations to go before the first.
const STREAK_START: u32 = BUDGET;

/// The bit of [`Inner::streak`] above its countdown: the streak's
/// [`SLICE`] has started.
const SLICE_STARTED: u32 = 1 << 8;

/// The default of [`Inner::set_wait_here`]: how long an operation that
/// would block waits for the socket's fd on its own thread before parking
/// in the runtime, when the runtime has no other task (see
/// [`Inner::wait_here`]).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const WAIT_HERE_DEFAULT: Duration = Duration::from_micros(100);
/// See above: without `ppoll(2)`, never.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const WAIT_HERE_DEFAULT: Duration = Duration::ZERO;

/// The default of [`Inner::set_busy_wait`]: how long a wait on the thread
/// first looks at the fd without sleeping (at most its limit), while every
/// endpoint of the socket is in-process; then it sleeps in the kernel for
/// the rest of its limit.
///
/// A thread that sleeps is woken by its peer's `eventfd` write through the
/// scheduler: on a virtual machine an inter-processor interrupt and the
/// re-arming of the CPU's timer, each an exit to the hypervisor. Measured on
/// a 2-core KVM guest (`inproc_lat`, 1 B, 20,000 round trips, three runs):
/// 36 µs one way for an async socket that sleeps at once, 32.5 µs for a
/// blocking socket (which sleeps in libzmq), 4.0 µs for an async socket
/// that looks for up to 20 µs first, with a third of the CPU time (0.30 s of
/// user and system time against 0.95 s for the blocking socket, whose
/// wake-ups are system time). Every look yields the CPU (`sched_yield(2)`),
/// so that a peer on the same CPU runs (both pinned to one CPU: 7.0 µs,
/// against 13.1 µs sleeping at once and 20 µs looking without yielding).
/// Over tcp and ipc the message comes through libzmq's I/O threads, and the
/// measurements were mixed (see `AsyncSocket::set_busy_wait`): 20 µs of
/// looks then a sleep made the round trip slower, looks for the whole limit
/// halved it but cost 1 KiB streams a sixth of their throughput; so by
/// default the looks are only done in-process.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const BUSY_WAIT_DEFAULT: Duration = Duration::from_micros(20);
/// See above: without `ppoll(2)`, never.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const BUSY_WAIT_DEFAULT: Duration = Duration::ZERO;

/// The longest [`Inner::set_wait_here`] accepts: a wait on the thread must
/// stay short.
pub(crate) const WAIT_HERE_MAX: Duration = Duration::from_millis(10);

/// After the third wait on the thread since the last that succeeded to end
/// without the socket becoming ready, the next 16 would-block operations
/// (doubling on each further miss, up to 4,096) park at once: a socket whose
/// peer is slow, or whose peer runs in the same task, pays for a miss
/// rarely. Two misses are tolerated first: a quick peer that was once late
/// (preempted, or slowed by this thread's looks when both share a CPU)
/// should not cost 16 parks, about a thousand instructions each. Under
/// valgrind, which runs one thread at a time, `inproc_lat` missed 858 waits
/// of 44,000 (2 %) with none tolerated, which made 16,212 of them park; with
/// two tolerated, 1,099 parked.
const WAIT_HERE_BACKOFF: BackoffPolicy = BackoffPolicy {
    tolerated: 2,
    min: 16,
    max: 4096,
};

/// After a wait on the thread whose looks ([`BUSY_WAIT_DEFAULT`]) missed a
/// slow peer (the fd signalled [`LOOK_SLOW_FACTOR`] times the looks' length
/// after the wait began, or never), the next wait sleeps at once, then two,
/// four… (up to 64) after each further miss: looks that do not pay off are
/// CPU time lost (a peer that answers after 200 µs costs the whole look per
/// wait). A wait whose looks see the signal ends the backoff; a socket whose
/// peer is slow still looks once in 65 waits, to notice a quick peer again.
/// Four misses are tolerated first (counted until a look sees the signal):
/// a burst of them (the thread preempted) should not make a quick pair
/// sleep.
const LOOK_BACKOFF: BackoffPolicy = BackoffPolicy {
    tolerated: 4,
    min: 1,
    max: 64,
};

/// See [`LOOK_BACKOFF`]: a signal that comes after the looks but within
/// three times their length is not a miss. The peer was quick but had
/// itself to wake up first (about 30 µs on a virtual machine): counting those
/// made two async sockets in ping-pong, once one backed off and slept, miss
/// each other's looks in turn and sleep for good.
const LOOK_SLOW_FACTOR: u32 = 3;

/// How a [`Backoff`] answers misses: the first `tolerated` misses since the
/// last hit skip nothing, the next skips `min` attempts, each further one twice as
/// many as the last, up to `max`.
#[derive(Debug)]
struct BackoffPolicy {
    tolerated: u32,
    min: u32,
    max: u32,
}

/// An exponential backoff after misses (see [`BackoffPolicy`]):
/// [`skip`](Self::skip) says whether to skip the attempt this time; a hit
/// resets it. Plain loads and stores: the socket's operations do not race on
/// it, and a lost update only shifts the backoff by one.
#[derive(Debug, Default)]
struct Backoff {
    /// Attempts still to skip.
    skip: AtomicU32,
    /// The length of the last penalty.
    penalty: AtomicU32,
    /// Misses since the last hit.
    misses: AtomicU32,
}

impl Backoff {
    /// Whether this attempt is skipped (counts it).
    #[inline]
    fn skip(&self) -> bool {
        let skip = self.skip.load(Ordering::Relaxed);
        if skip == 0 {
            return false;
        }
        self.skip.store(skip - 1, Ordering::Relaxed);
        true
    }

    #[inline]
    fn hit(&self) {
        if self.misses.load(Ordering::Relaxed) != 0 {
            self.reset();
        }
    }

    fn miss(&self, policy: &BackoffPolicy) {
        let misses = self.misses.load(Ordering::Relaxed).saturating_add(1);
        self.misses.store(misses, Ordering::Relaxed);
        if misses <= policy.tolerated {
            return;
        }
        let penalty = self
            .penalty
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .clamp(policy.min, policy.max);
        self.penalty.store(penalty, Ordering::Relaxed);
        self.skip.store(penalty, Ordering::Relaxed);
    }

    fn reset(&self) {
        self.skip.store(0, Ordering::Relaxed);
        self.penalty.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }
}

/// A limit of the wait on the thread or of its looks, in microseconds (0:
/// never), with the backoff after its misses.
#[derive(Debug)]
struct WaitLimit {
    micros: AtomicU32,
    /// Whether `micros` is still the default, which
    /// [`Inner::note_endpoint`] turns off for a socket with an endpoint that
    /// is not `inproc://`.
    auto: AtomicBool,
    backoff: Backoff,
}

impl WaitLimit {
    /// The default limit; off for a socket that already has an endpoint
    /// that is not in-process (`remote`).
    fn new(default: Duration, remote: bool) -> WaitLimit {
        WaitLimit {
            micros: AtomicU32::new(if remote { 0 } else { micros(default) }),
            auto: AtomicBool::new(true),
            backoff: Backoff::default(),
        }
    }

    #[inline]
    fn micros(&self) -> u32 {
        self.micros.load(Ordering::Relaxed)
    }

    fn get(&self) -> Duration {
        Duration::from_micros(u64::from(self.micros()))
    }

    /// Fixes the limit (at most [`WAIT_HERE_MAX`], else
    /// [`Error::InvalidInput`] naming `setter`) and starts its backoff over.
    fn set(&self, setter: &str, limit: Duration) -> Result<()> {
        let us = limit_micros(setter, limit)?;
        self.auto.store(false, Ordering::Relaxed);
        self.micros.store(us, Ordering::Relaxed);
        self.backoff.reset();
        Ok(())
    }

    /// Turns the limit off while it is the default.
    fn off_unless_set(&self) {
        if self.auto.load(Ordering::Relaxed) {
            self.micros.store(0, Ordering::Relaxed);
        }
    }
}

/// The lock of a driven socket, biased to the thread that uses it (see
/// [`BiasedLock`]). It is held only for one non-blocking libzmq call (or a
/// short `with_socket` closure), so a thread that finds it taken yields
/// until it is free instead of sleeping on a futex. (`std::sync::Mutex`
/// releases with an atomic swap and checks for poisoning on both ends: those
/// two atomic operations were most of an async operation's cycles.)
type SocketLock = BiasedLock<Socket>;
/// See [`SocketLock`].
type SocketGuard<'a> = Guard<'a, Socket>;

/// The `ZMQ_FD` of a socket as tokio sees it. It does not own the fd:
/// libzmq does, and closes it in `zmq_close`.
#[derive(Debug)]
struct NotifyFd(RawFd);

impl AsRawFd for NotifyFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// "No key": a [`Slot`] that is not registered, or no waiter to leave out
/// of [`Waiters::take`].
const NO_KEY: u32 = u32::MAX;

/// The key of the [`Slot`] that owns a socket's solo registration (see
/// [`Waiters`]), never a key of the [`Table`].
const SOLO_KEY: u32 = u32::MAX - 1;

/// `PollEvents` as the low 16 bits of a `u32`.
#[inline]
fn event_bits(events: PollEvents) -> u32 {
    u32::from(u16::from_ne_bytes(events.bits().to_ne_bytes()))
}

/// Bits of [`Waiters::solo_state`]: a [`Slot`] owns the solo registration.
const SOLO_CLAIMED: u32 = 1;
/// Bits of [`Waiters::solo_state`]: the owner is parked, for the events in
/// bits 8 and up (`PollEvents` bits), its waker in [`Waiters::solo`].
const SOLO_PARKED: u32 = 2;
/// Where the wanted events sit in [`Waiters::solo_state`].
const SOLO_WANT_SHIFT: u32 = 8;

/// When the last registration leaves a table this large, its memory is
/// given back (a burst of parked futures does not keep it forever).
const SHRINK_ABOVE: usize = 1024;

/// One registration in a [`Table`], owned by exactly one [`Slot`]: only that
/// slot frees it, so a key is never reused while its slot holds it.
enum Entry {
    /// Free; the next free key (or [`NO_KEY`]).
    Vacant { next: u32 },
    /// Waiting: its waker is in the table, its key at `armed[at]`.
    Parked {
        want: PollEvents,
        waker: Waker,
        at: u32,
    },
    /// Registered but not waiting: its waker was taken to wake it (it will
    /// be polled again), or it has never parked.
    Woken,
}

/// The registrations of one socket: a slab whose keys the [`Slot`]s hold,
/// plus the dense list of those currently parked. Every operation is O(1),
/// except [`take`](Table::take), which is linear in the parked waiters it
/// looks at (never in the registrations of the past).
#[derive(Default)]
struct Table {
    entries: Vec<Entry>,
    /// Head of the free list threaded through `Vacant` entries.
    free: Option<u32>,
    /// Keys of the `Parked` entries.
    armed: Vec<u32>,
    /// Entries that are not `Vacant`.
    live: usize,
}

impl Table {
    /// A new registration, not parked yet.
    fn insert(&mut self) -> u32 {
        self.live += 1;
        match self.free {
            Some(key) => {
                let entry = &mut self.entries[key as usize];
                let Entry::Vacant { next } = *entry else {
                    unreachable!("the free list holds vacant entries only")
                };
                self.free = (next != NO_KEY).then_some(next);
                *entry = Entry::Woken;
                key
            }
            None => {
                let key = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&k| k < SOLO_KEY)
                    .expect("fewer than 2^32 - 1 futures wait on one socket");
                self.entries.push(Entry::Woken);
                key
            }
        }
    }

    /// Parks `key` with `waker`; returns the waker it replaces, to be dropped
    /// once the lock is released (dropping a waker may run any code).
    fn arm(&mut self, key: u32, want: PollEvents, waker: &Waker) -> Option<Waker> {
        let armed = u32::try_from(self.armed.len()).expect("armed keys fit in u32");
        match &mut self.entries[key as usize] {
            Entry::Parked {
                want: w,
                waker: old,
                ..
            } => {
                *w = want;
                if old.will_wake(waker) {
                    None
                } else {
                    Some(std::mem::replace(old, waker.clone()))
                }
            }
            entry @ Entry::Woken => {
                *entry = Entry::Parked {
                    want,
                    waker: waker.clone(),
                    at: armed,
                };
                self.armed.push(key);
                None
            }
            Entry::Vacant { .. } => unreachable!("a slot's key is registered until it is released"),
        }
    }

    /// Unparks `armed[i]`, returning its waker.
    fn disarm_at(&mut self, i: usize) -> Waker {
        let key = self.armed.swap_remove(i);
        if let Some(&moved) = self.armed.get(i) {
            if let Entry::Parked { at, .. } = &mut self.entries[moved as usize] {
                *at = u32::try_from(i).expect("armed keys fit in u32");
            }
        }
        match std::mem::replace(&mut self.entries[key as usize], Entry::Woken) {
            Entry::Parked { waker, .. } => waker,
            _ => unreachable!("armed keys are parked"),
        }
    }

    /// Frees `key`, returning its waker if it was parked.
    fn remove(&mut self, key: u32) -> Option<Waker> {
        let waker = match self.entries[key as usize] {
            Entry::Parked { at, .. } => Some(self.disarm_at(at as usize)),
            Entry::Woken => None,
            Entry::Vacant { .. } => unreachable!("a slot's key is registered until it is released"),
        };
        self.entries[key as usize] = Entry::Vacant {
            next: self.free.unwrap_or(NO_KEY),
        };
        self.free = Some(key);
        self.live -= 1;
        if self.live == 0 && self.entries.len() > SHRINK_ABOVE {
            // No slot holds a key any more: start afresh.
            *self = Table::default();
        }
        waker
    }

    /// Unparks the waiters other than `except` that wait for any of `ready`
    /// (all of them when `ready` is `None`), adding their wakers to `out`.
    fn take(&mut self, ready: Option<PollEvents>, except: u32, out: &mut Wakers) {
        let mut i = 0;
        while let Some(&key) = self.armed.get(i) {
            let wanted = match &self.entries[key as usize] {
                Entry::Parked { want, .. } => ready.is_none_or(|r| want.intersects(r)),
                _ => unreachable!("armed keys are parked"),
            };
            if key != except && wanted {
                out.push(self.disarm_at(i));
            } else {
                i += 1;
            }
        }
    }
}

/// The waiters of one socket. It is also the waker registered with tokio for
/// the fd (the "fan-out" waker): an edge wakes every waiter, whatever it
/// waits for, because libzmq's fd does not tell which state changed.
///
/// One waiter at a time (the usual case: one task per socket or per half)
/// holds the *solo* registration, which needs no lock: an [`AtomicWaker`]
/// and a state word. Only the waiters that come while the solo registration
/// is held go to the locked [`Table`]. Both are woken alike.
///
/// The solo registration has one owner, which alone registers its waker
/// (`AtomicWaker`'s contract); anyone may take it. Its owner parks by
/// storing its waker, then setting `SOLO_PARKED`; a taker clears
/// `SOLO_PARKED`, then takes the waker. A take that races a new park may
/// take the newer waker (a wakeup of a task that has just parked: it is
/// polled again and parks again), never none: whoever sees `SOLO_PARKED`
/// finds the waker stored before it.
#[derive(Default)]
pub(crate) struct Waiters {
    table: Mutex<Table>,
    /// How many waiters are parked in `table`, readable without the lock for
    /// the fast path of operations: nobody parked, nothing to check.
    len: AtomicUsize,
    /// The solo waiter's waker.
    solo: AtomicWaker,
    /// `SOLO_CLAIMED`, `SOLO_PARKED` and the wanted events (bits 8 and up);
    /// 0: nobody holds the solo registration.
    solo_state: AtomicU32,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table is never left half-updated (wakers are cloned, dropped
        // and woken outside of it), so a poisoned lock still holds a valid
        // table.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks `slot` (registering it first if it is not) for `want`, to be
    /// woken through `waker`.
    fn register(self: &Arc<Self>, slot: &mut Slot, want: PollEvents, waker: &Waker) {
        if slot
            .waiters
            .as_ref()
            .is_some_and(|mine| !Arc::ptr_eq(mine, self))
        {
            // A slot moves to another socket only by mistake; never let it
            // touch the other table's keys.
            slot.release();
        }
        if slot.waiters.is_none()
            && self
                .solo_state
                .compare_exchange(0, SOLO_CLAIMED, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            slot.key = SOLO_KEY;
            slot.waiters = Some(self.clone());
        }
        if slot.key == SOLO_KEY {
            // Only the owner registers: the waker first, then the flag that
            // tells takers it is there.
            self.solo.register(waker);
            let want = event_bits(want) << SOLO_WANT_SHIFT;
            self.solo_state
                .store(SOLO_CLAIMED | SOLO_PARKED | want, Ordering::SeqCst);
            return;
        }
        let replaced = {
            let mut table = self.lock();
            if slot.waiters.is_none() {
                slot.key = table.insert();
                slot.waiters = Some(self.clone());
            }
            let replaced = table.arm(slot.key, want, waker);
            self.len.store(table.armed.len(), Ordering::Release);
            replaced
        };
        drop(replaced);
    }

    /// Frees a slot's key.
    #[inline]
    fn remove(&self, key: u32) {
        if key == SOLO_KEY {
            let waker = self.solo.take();
            self.solo_state.store(0, Ordering::Release);
            drop(waker);
            return;
        }
        self.remove_from_table(key);
    }

    #[cold]
    fn remove_from_table(&self, key: u32) {
        let waker = {
            let mut table = self.lock();
            let waker = table.remove(key);
            self.len.store(table.armed.len(), Ordering::Release);
            waker
        };
        drop(waker);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0 && !self.solo_parked()
    }

    #[inline]
    fn solo_parked(&self) -> bool {
        self.solo_state.load(Ordering::SeqCst) & SOLO_PARKED != 0
    }

    /// How many waiters are parked.
    fn len(&self) -> usize {
        self.len.load(Ordering::Acquire) + usize::from(self.solo_parked())
    }

    /// How many slots are registered, parked or not.
    #[cfg(test)]
    fn registered(&self) -> usize {
        self.lock().live + usize::from(self.solo_state.load(Ordering::SeqCst) & SOLO_CLAIMED != 0)
    }

    /// Unparks the solo waiter, unless it is `except` or waits for none of
    /// `ready` (any when `None`), adding its waker to `out`.
    #[inline]
    fn take_solo(&self, ready: Option<PollEvents>, except: u32, out: &mut Wakers) {
        if except == SOLO_KEY {
            return;
        }
        let mut state = self.solo_state.load(Ordering::SeqCst);
        loop {
            if state & SOLO_PARKED == 0 {
                return;
            }
            let want = (state >> SOLO_WANT_SHIFT) & 0xffff;
            if let Some(r) = ready {
                if want & event_bits(r) == 0 {
                    return;
                }
            }
            match self.solo_state.compare_exchange_weak(
                state,
                state & !SOLO_PARKED,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if let Some(waker) = self.solo.take() {
            out.push(waker);
        }
    }

    /// Unparks the waiters other than `except` that wait for any of `ready`
    /// (all of them when `ready` is `None`, an error), returning their wakers.
    fn take(&self, ready: Option<PollEvents>, except: u32) -> Wakers {
        let mut out = Wakers::None;
        if ready.is_some_and(|r| r.is_empty()) {
            return out;
        }
        self.take_solo(ready, except, &mut out);
        if self.len.load(Ordering::Acquire) == 0 {
            return out;
        }
        let mut table = self.lock();
        table.take(ready, except, &mut out);
        self.len.store(table.armed.len(), Ordering::Release);
        out
    }
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_all(self.take(None, NO_KEY));
    }
}

/// Wakers taken from the list, to wake once its lock is released; the
/// usual one without an allocation.
#[derive(Default)]
enum Wakers {
    #[default]
    None,
    One(Waker),
    Many(Vec<Waker>),
}

impl Wakers {
    fn push(&mut self, waker: Waker) {
        *self = match std::mem::take(self) {
            Wakers::None => Wakers::One(waker),
            Wakers::One(first) => Wakers::Many(vec![first, waker]),
            Wakers::Many(mut all) => {
                all.push(waker);
                Wakers::Many(all)
            }
        };
    }
}

/// Wakes outside of every lock: a waker may run arbitrary code.
#[inline]
fn wake_all(wakers: Wakers) {
    if !matches!(wakers, Wakers::None) {
        wake_each(wakers);
    }
}

#[cold]
fn wake_each(wakers: Wakers) {
    match wakers {
        Wakers::None => {}
        Wakers::One(w) => w.wake(),
        Wakers::Many(all) => all.into_iter().for_each(Waker::wake),
    }
}

/// A waiter's registration with one socket, kept by a future, a
/// `Stream`/`Sink` or a poller entry across polls: the guard of its entry
/// in the socket's [`Table`]. Dropping it (or [`release`](Slot::release))
/// removes the entry, in O(1), so a future cancelled at any point leaves
/// nothing behind.
pub(crate) struct Slot {
    /// The table `key` belongs to; `None` while not registered.
    waiters: Option<Arc<Waiters>>,
    key: u32,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            waiters: None,
            key: NO_KEY,
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("registered", &self.is_registered())
            .finish()
    }
}

impl Slot {
    /// Whether the slot holds a registration (parked, or woken and not
    /// released yet).
    #[inline]
    pub(crate) fn is_registered(&self) -> bool {
        self.waiters.is_some()
    }

    /// Removes the registration, if any.
    #[inline]
    pub(crate) fn release(&mut self) {
        if self.waiters.is_some() {
            self.unregister();
        }
    }

    #[cold]
    fn unregister(&mut self) {
        if let Some(waiters) = self.waiters.take() {
            waiters.remove(self.key);
            self.key = NO_KEY;
        }
    }
}

impl Drop for Slot {
    #[inline]
    fn drop(&mut self) {
        self.release();
    }
}

/// A socket driven by tokio: the socket behind a mutex (it is `!Sync`, and
/// the halves of a split socket work from two tasks), its fd registration,
/// and its waiters.
///
/// In declaration order (`repr(C)`): what every operation touches (the
/// streak, the waiters' pointer, the lock and the socket) lies together,
/// 80 bytes after the fd, for the case where it is out of the cache at each
/// operation (2,000 sockets on one thread: 474 ns per message, against 469
/// in the compiler's order before the biased lock, medians of 15).
#[repr(C)]
pub struct Inner {
    /// Declared before `socket` so that it is dropped first: the fd leaves
    /// the reactor before `zmq_close` closes it.
    fd: AsyncFd<NotifyFd>,
    waiters: Arc<Waiters>,
    /// The operations completed in a row without waiting (see [`BUDGET`]):
    /// in the low byte, how many are left before the next look at the
    /// clock; [`SLICE_STARTED`] once the first look was made. An operation costs a
    /// relaxed load, a test of the low byte and a relaxed store of one less;
    /// a lost update between two threads only moves the next yield by an
    /// operation or two.
    streak: AtomicU32,
    /// When the current streak's slice started (its [`BUDGET`]th operation):
    /// [`epoch_micros`], which wraps every 71 minutes (a slice is 100 µs).
    /// Plain loads and stores.
    slice_start: AtomicU32,
    /// Held only for non-blocking libzmq calls, never across an `.await`.
    socket: SocketLock,
    /// `waiters` as a waker, the only waker ever given to `fd`.
    fanout: Waker,
    /// `RCVTIMEO` and `SNDTIMEO`, in that order, as last read by an
    /// operation that had to wait: milliseconds, [`NO_TIMEOUT`] or
    /// [`UNKNOWN`]. Written under the socket's lock; `with_socket`, the only
    /// way to change options of a driven socket, forgets them.
    timeouts: [AtomicI64; 2],
    /// The runtime the fd is registered with: whether it has tasks.
    runtime: tokio::runtime::RuntimeMetrics,
    /// [`set_wait_here`](Self::set_wait_here); its backoff makes
    /// would-block operations park at once after missed waits (see
    /// [`WAIT_HERE_BACKOFF`]).
    wait_here: WaitLimit,
    /// [`set_busy_wait`](Self::set_busy_wait); its backoff makes waits on
    /// the thread sleep at once after looks that missed (see
    /// [`LOOK_BACKOFF`]).
    looks: WaitLimit,
    kind: Option<SocketType>,
}

/// A cached timeout that is not known.
const UNKNOWN: i64 = -2;
/// A cached timeout that is infinite.
const NO_TIMEOUT: i64 = -1;

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
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle,
            Err(e) => return Err(Error::Reactor(std::io::Error::other(e))),
        };
        // On a current-thread runtime every task runs on one thread: the
        // lock is biased to it. A multi-thread runtime moves tasks between
        // its workers, which would revoke the bias (a process-wide barrier)
        // of nearly every socket: the spin lock from the start.
        let biased = handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread;
        let runtime = handle.metrics();
        let remote = socket
            .last_endpoint()
            .is_ok_and(|ep| !ep.is_empty() && !is_inproc(&ep));
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
            socket: SocketLock::new(socket, biased),
            fanout: Waker::from(waiters.clone()),
            waiters,
            kind,
            timeouts: [AtomicI64::new(UNKNOWN), AtomicI64::new(UNKNOWN)],
            streak: AtomicU32::new(STREAK_START),
            slice_start: AtomicU32::new(0),
            runtime,
            wait_here: WaitLimit::new(WAIT_HERE_DEFAULT, remote),
            looks: WaitLimit::new(BUSY_WAIT_DEFAULT, remote),
        })
    }

    /// Gives the socket back, after leaving the reactor.
    pub(crate) fn into_socket(self) -> Socket {
        let Inner { fd, socket, .. } = self;
        drop(fd);
        socket.into_inner()
    }

    #[inline]
    fn lock(&self) -> SocketGuard<'_> {
        // No poisoning: libzmq calls do not panic, and a panic in a
        // `with_socket` closure leaves the socket as valid as before.
        self.socket.lock()
    }

    /// Runs `f` on the socket, then wakes the waiters it may have made ready
    /// (any libzmq call may process commands and consume the fd's edge).
    pub(crate) fn with_socket<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
        let (r, wake) = {
            let s = self.lock();
            let r = f(&s);
            // `f` may have set RCVTIMEO or SNDTIMEO.
            for t in &self.timeouts {
                t.store(UNKNOWN, Ordering::Relaxed);
            }
            (r, self.ready_waiters(&s, NO_KEY))
        };
        wake_all(wake);
        r
    }

    /// `RCVTIMEO` (`receiving`) or `SNDTIMEO`, `None` for no limit, read from
    /// the socket the first time and remembered until `with_socket`.
    #[inline]
    pub(crate) fn timeout(&self, receiving: bool) -> Result<Option<Duration>> {
        self.timeout_of(receiving, None)
    }

    /// [`timeout`](Self::timeout), reading the option (when not cached)
    /// from `locked`, the socket already locked by the caller, if given.
    #[inline]
    fn timeout_of(&self, receiving: bool, locked: Option<&Socket>) -> Result<Option<Duration>> {
        let cached = &self.timeouts[usize::from(!receiving)];
        match cached.load(Ordering::Relaxed) {
            UNKNOWN => match locked {
                Some(s) => self.read_timeout(receiving, s),
                None => self.read_timeout(receiving, &self.lock()),
            },
            NO_TIMEOUT => Ok(None),
            ms => Ok(Some(Duration::from_millis(ms.unsigned_abs()))),
        }
    }

    /// Reads and caches a timeout; `s` is the socket, locked.
    #[cold]
    fn read_timeout(&self, receiving: bool, s: &Socket) -> Result<Option<Duration>> {
        let cached = &self.timeouts[usize::from(!receiving)];
        let t = if receiving {
            s.rcvtimeo()?
        } else {
            s.sndtimeo()?
        };
        // Under the lock, so that a `with_socket` that changes the option
        // forgets this value after it is stored, never before.
        let ms = t.map_or(NO_TIMEOUT, |d| {
            i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
        });
        cached.store(ms, Ordering::Relaxed);
        Ok(t)
    }

    /// Runs `f` on the socket for a read that processes no command (an
    /// option that is not `EVENTS`), without checking waiters.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
        f(&self.lock())
    }

    /// The waiters (other than `except`) that the state of `s` makes ready.
    /// Costs nothing when nobody waits.
    #[inline]
    fn ready_waiters(&self, s: &Socket, except: u32) -> Wakers {
        if self.waiters.is_empty() {
            return Wakers::None;
        }
        self.waiters.take(s.events().ok(), except)
    }

    /// Reads `ZMQ_EVENTS` (which processes libzmq's pending commands and
    /// drains the fd) and wakes the other waiters it shows ready.
    fn check(&self, me: u32) -> Result<PollEvents> {
        let (events, wake) = {
            let s = self.lock();
            let events = s.events();
            let wake = self.waiters.take(events.as_ref().ok().copied(), me);
            (events, wake)
        };
        wake_all(wake);
        events
    }

    /// Forgets a slot's registration (when its future completes); dropping
    /// the slot does the same.
    #[inline]
    pub(crate) fn release(&self, slot: &mut Slot) {
        slot.release();
    }

    /// How many futures, streams and poller entries are registered with the
    /// socket, parked or not.
    #[cfg(test)]
    pub(crate) fn registered_waiters(&self) -> usize {
        self.waiters.registered()
    }

    /// Runs the non-blocking `op` (`Ok(None)`: would block) as soon as the
    /// socket is ready for `want`; the heart of every future.
    ///
    /// `op` runs inside this poll and its result is returned from it at once,
    /// so a future dropped between polls never holds a received message or a
    /// half-sent one. An `op` that waits for `POLLIN` must be a libzmq
    /// receive: when one would block, it has processed libzmq's pending
    /// commands, as a look at `ZMQ_EVENTS` would (see [`park`](Self::park)).
    #[inline(always)]
    pub(crate) fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Slot,
        want: PollEvents,
        mut op: impl FnMut(&Socket) -> Result<Option<R>>,
    ) -> Poll<Result<R>> {
        let Some(streak) = self.streak_goes_on() else {
            return self.yield_once(cx);
        };
        // Try first: when data is flowing this is the only libzmq call.
        let s = self.lock();
        if slot.is_registered() {
            // Parked before, polled again: probably woken by an edge.
            self.forget_spent_edge();
        }
        match op(&s) {
            Ok(Some(v)) => {
                self.streak.store(streak - 1, Ordering::Relaxed);
                self.done(s, slot);
                Poll::Ready(Ok(v))
            }
            Err(e) => {
                self.done(s, slot);
                Poll::Ready(Err(e))
            }
            Ok(None) => {
                self.streak.store(STREAK_START, Ordering::Relaxed);
                self.poll_op_wait(cx, slot, want, op, s)
            }
        }
    }

    /// [`poll_op`](Self::poll_op) for a future's first poll, which has no
    /// slot yet: one is made only when the operation has to wait, and
    /// handed to `keep` when the future is to be woken (`Poll::Pending`).
    /// (A slot made up front would live on the stack of every operation,
    /// and its drop would test it after the libzmq call.) The same steps
    /// as `poll_op`'s, written out again: sharing them through a helper
    /// that returns what the try did cost 40 instructions per message
    /// (callgrind), the result moved through memory.
    #[inline(always)]
    pub(crate) fn poll_op_first<R>(
        &self,
        cx: &mut Context<'_>,
        want: PollEvents,
        mut op: impl FnMut(&Socket) -> Result<Option<R>>,
        keep: impl FnOnce(&mut Context<'_>, Slot) -> Poll<Result<R>>,
    ) -> Poll<Result<R>> {
        let Some(streak) = self.streak_goes_on() else {
            return self.yield_once(cx);
        };
        let s = self.lock();
        match op(&s) {
            Ok(Some(v)) => {
                self.streak.store(streak - 1, Ordering::Relaxed);
                self.done_unregistered(s);
                Poll::Ready(Ok(v))
            }
            Err(e) => {
                self.done_unregistered(s);
                Poll::Ready(Err(e))
            }
            Ok(None) => {
                self.streak.store(STREAK_START, Ordering::Relaxed);
                self.poll_op_wait_first(cx, want, op, s, keep)
            }
        }
    }

    /// The streak's value when the operation about to run may go on
    /// (cooperative scheduling: a socket that is always ready must not
    /// starve the other tasks of its worker thread); `None` when it is to
    /// yield first. Checked before the operation, so a yield never holds a
    /// message.
    #[inline(always)]
    fn streak_goes_on(&self) -> Option<u32> {
        let streak = self.streak.load(Ordering::Relaxed);
        if streak as u8 == 0 {
            self.look_at_clock(streak)
        } else {
            Some(streak)
        }
    }

    /// A streak's countdown is at zero (`streak`): `None` when the streak
    /// is to yield, its [`BUDGET`] and its [`SLICE`] spent; else the
    /// streak's next value. The first look (at the end of the budget) starts
    /// the slice.
    #[cold]
    #[inline(never)]
    fn look_at_clock(&self, streak: u32) -> Option<u32> {
        let now = epoch_micros();
        if streak & SLICE_STARTED == 0 {
            self.slice_start.store(now, Ordering::Relaxed);
        } else if u128::from(now.wrapping_sub(self.slice_start.load(Ordering::Relaxed)))
            >= SLICE.as_micros()
        {
            return None;
        }
        Some(SLICE_STARTED | SLICE_EVERY)
    }

    /// The streak's [`BUDGET`] and [`SLICE`] are spent: give the thread to the other tasks
    /// once, and start a new streak.
    #[cold]
    #[inline(never)]
    fn yield_once<R>(&self, cx: &mut Context<'_>) -> Poll<R> {
        self.streak.store(STREAK_START, Ordering::Relaxed);
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Clears the fd's readiness that woke a waiter, when no waiter is
    /// registered, so that its next wait need not look at `ZMQ_EVENTS` only to
    /// find that readiness spent. Call with the socket locked, before the
    /// operation.
    ///
    /// Clearing before a look is as safe as after one: an edge that comes
    /// after the clear has a newer tick, which stays; the commands of the
    /// cleared edges are processed by the next look. And every waiter looks
    /// after registering and before waiting on the fd (a receive that would
    /// block is such a look): one that registered before this call is seen
    /// here (and then nothing is cleared), one that registers after looks
    /// after this call (the look needs the socket's lock).
    #[cold]
    fn forget_spent_edge(&self) {
        if !self.waiters.is_empty() {
            return;
        }
        let mut fanout = Context::from_waker(&self.fanout);
        if let Poll::Ready(Ok(mut guard)) = self.fd.poll_read_ready(&mut fanout) {
            guard.clear_ready();
        }
    }

    /// After an operation completed (or failed), with the socket still
    /// locked (`s`): releases `slot` and wakes the other waiters the call
    /// made ready. When nobody waits, that costs a test of the slot and one
    /// atomic load.
    #[inline(always)]
    fn done(&self, s: SocketGuard<'_>, slot: &mut Slot) {
        // Checked under the socket's lock, which every waiter holds when it
        // registers or looks at `ZMQ_EVENTS`: a waiter that registers later
        // will see the state this call left.
        if slot.is_registered() || !self.waiters.is_empty() {
            let wake = self.settle(&s, slot);
            drop(s);
            wake_all(wake);
        }
    }

    /// [`done`](Self::done) for an operation that holds no registration.
    #[inline(always)]
    fn done_unregistered(&self, s: SocketGuard<'_>) {
        if !self.waiters.is_empty() {
            let wake = self.ready_waiters(&s, NO_KEY);
            drop(s);
            wake_all(wake);
        }
    }

    /// After an operation completed: forgets `slot`'s registration and takes
    /// the waiters the call made ready (it may have processed the command
    /// that would have woken them: look on their behalf).
    #[cold]
    fn settle(&self, s: &Socket, slot: &mut Slot) -> Wakers {
        slot.release();
        self.ready_waiters(s, NO_KEY)
    }

    /// [`poll_op_wait`](Self::poll_op_wait) for a first poll: with a new
    /// slot, handed to `keep` if the future is to be woken.
    #[inline(never)]
    fn poll_op_wait_first<'a, R>(
        &'a self,
        cx: &mut Context<'_>,
        want: PollEvents,
        op: impl FnMut(&Socket) -> Result<Option<R>>,
        s: SocketGuard<'a>,
        keep: impl FnOnce(&mut Context<'_>, Slot) -> Poll<Result<R>>,
    ) -> Poll<Result<R>> {
        let mut slot = Slot::default();
        match self.poll_op_wait(cx, &mut slot, want, op, s) {
            Poll::Pending => keep(cx, slot),
            // Completed or failed: its registration (if any) leaves with
            // the slot.
            ready => ready,
        }
    }

    /// The rest of [`poll_op`](Self::poll_op) when the operation would
    /// block (`s`: the socket, still locked since): wait for readiness and
    /// try again.
    #[inline(never)]
    fn poll_op_wait<'a, R>(
        &'a self,
        cx: &mut Context<'_>,
        slot: &mut Slot,
        want: PollEvents,
        mut op: impl FnMut(&Socket) -> Result<Option<R>>,
        mut s: SocketGuard<'a>,
    ) -> Poll<Result<R>> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.park(cx, slot, want, tries <= TRUSTED_RETRIES, s) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            let again = self.lock();
            match op(&again) {
                Ok(Some(v)) => {
                    self.done(again, slot);
                    return Poll::Ready(Ok(v));
                }
                Err(e) => {
                    self.done(again, slot);
                    return Poll::Ready(Err(e));
                }
                Ok(None) => s = again,
            }
        }
    }

    /// After an operation for `want` would block, with the socket still
    /// locked (`s`) since: registers the waiter, then waits until the
    /// operation is worth trying again.
    ///
    /// Inlined, as [`wait_here`](Self::wait_here) is into it: the calls of
    /// the slow path cost about 100 instructions per round trip
    /// (`inproc_lat` under callgrind, median of five: 7,644 → 7,544).
    #[inline(always)]
    fn park<'a>(
        &'a self,
        cx: &mut Context<'_>,
        slot: &mut Slot,
        want: PollEvents,
        trust_events: bool,
        mut s: SocketGuard<'a>,
    ) -> Poll<Result<()>> {
        // Whether the socket was unlocked since the operation's try, without
        // a registration: then a look at `ZMQ_EVENTS` is due after
        // registering (someone may have processed the command meant for us).
        let mut looked_away = false;
        if trust_events && !slot.is_registered() && self.waiters.is_empty() {
            if let Some(limit) = self.wait_here_allowed(want, &s) {
                match self.wait_here(want, limit, s) {
                    Ok(true) => return Poll::Ready(Ok(())),
                    Ok(false) => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
                s = self.lock();
                looked_away = true;
            }
        }
        // Registered before the socket is unlocked: whoever changes its state
        // after our try holds the lock after us, and sees us.
        self.waiters.register(slot, want, cx.waker());
        let id = slot.key;
        if want == PollEvents::POLLIN && !looked_away && self.waiters.len() == 1 {
            // A receive that would block has just processed libzmq's pending
            // commands, as a look at `ZMQ_EVENTS` does: any later change
            // signals the fd. And no one else waits whose edge it may have
            // consumed. So there is nothing to look at: wait for the fd.
            drop(s);
        } else {
            let events = s.events();
            let wake = self.waiters.take(events.as_ref().ok().copied(), id);
            drop(s);
            wake_all(wake);
            match events {
                Ok(events) if trust_events && events.intersects(want) => {
                    self.release(slot);
                    return Poll::Ready(Ok(()));
                }
                Ok(_) => {}
                Err(e) => {
                    self.release(slot);
                    return Poll::Ready(Err(e));
                }
            }
        }
        let result = self.wait_fd(id, want, trust_events);
        if result.is_ready() {
            self.release(slot);
        }
        result.map_ok(drop)
    }

    /// How long an operation that would block may wait for the fd on its
    /// own thread before parking in the runtime (zero: never).
    pub(crate) fn wait_here_limit(&self) -> Duration {
        self.wait_here.get()
    }

    /// Sets [`wait_here_limit`](Self::wait_here_limit); at most
    /// [`WAIT_HERE_MAX`].
    pub(crate) fn set_wait_here(&self, limit: Duration) -> Result<()> {
        self.wait_here.set("set_blocking_wait", limit)
    }

    /// How long a wait on the thread first looks at the fd without sleeping
    /// (zero: never).
    pub(crate) fn busy_wait_limit(&self) -> Duration {
        self.looks.get()
    }

    /// Sets [`busy_wait_limit`](Self::busy_wait_limit); at most
    /// [`WAIT_HERE_MAX`].
    pub(crate) fn set_busy_wait(&self, limit: Duration) -> Result<()> {
        self.looks.set("set_busy_wait", limit)
    }

    /// After `endpoint` was bound or connected: while the limits are the
    /// defaults, an endpoint that is not in-process turns the wait and its
    /// looks off (see [`BUSY_WAIT_DEFAULT`] for the looks).
    /// Over tcp and ipc, messages come through libzmq's I/O thread, and
    /// parking in tokio measured as quick as waiting here (tcp REQ/REP,
    /// Linux: 47.6 µs per half round trip parked, 55.3 µs waiting here,
    /// 49.1 µs for a blocking socket); in-process, waiting here is quicker
    /// and costs half the instructions.
    pub(crate) fn note_endpoint(&self, endpoint: &str) {
        if is_inproc(endpoint) {
            return;
        }
        self.looks.off_unless_set();
        self.wait_here.off_unless_set();
    }

    /// Whether an operation for `want` that would block, with nobody else
    /// waiting, may wait on this thread (see [`wait_here`](Self::wait_here)),
    /// and for how many microseconds: not when disabled, in the backoff
    /// after misses, when the runtime has a spawned task the wait could
    /// hold up, or when the timeout is shorter.
    #[inline]
    fn wait_here_allowed(&self, want: PollEvents, s: &Socket) -> Option<u32> {
        let limit = self.wait_here.micros();
        if limit == 0 {
            return None;
        }
        if self.wait_here.backoff.skip() {
            return None;
        }
        if self.runtime.num_alive_tasks() != 0 {
            return None;
        }
        let limit = match self.timeout_of(want == PollEvents::POLLIN, Some(s)) {
            Ok(Some(t)) => u32::try_from(t.as_micros()).map_or(limit, |t| t.min(limit)),
            Ok(None) => limit,
            Err(_) => return None,
        };
        (limit > 0).then_some(limit)
    }

    /// An operation for `want` would block and nobody else waits: waits on
    /// this thread, up to `limit` microseconds, for the fd to signal.
    /// `Ok(true)`: worth trying again (ready, or something changed);
    /// `Ok(false)`: a miss, wait in the runtime.
    ///
    /// Parking in tokio and being woken by its reactor costs several times
    /// what the libzmq call itself costs (the driver, the timer wheel, the
    /// scheduler); a peer that answers within microseconds is better waited
    /// for here, as a blocking socket waits. [`wait_here_allowed`](Self::wait_here_allowed)
    /// says when; misses make the next waits park at once (see
    /// [`WAIT_HERE_BACKOFF`]).
    ///
    /// No registration is made for so short a wait: nobody else waits (so
    /// no one's edge can be consumed here), libzmq's mailbox is drained
    /// first (a receive that would block has just done so, a send looks at
    /// `ZMQ_EVENTS`), so the fd signals any later change (as for
    /// `zmq_poll`). Should another thread consume that signal meanwhile (the
    /// other half of a split socket), the wait only misses, and the caller
    /// registers and looks at `ZMQ_EVENTS` before it parks.
    #[inline(always)]
    fn wait_here(&self, want: PollEvents, limit: u32, s: SocketGuard<'_>) -> Result<bool> {
        if want != PollEvents::POLLIN {
            // A send that would block may have left commands unprocessed
            // (libzmq throttles that): drain them.
            if s.events()?.intersects(want) {
                return Ok(true);
            }
        }
        drop(s);
        let looks = self.looks.micros().min(limit);
        let spin = if looks == 0 || self.looks.backoff.skip() {
            0
        } else {
            looks
        };
        let signalled = fd_signalled(self.fd.get_ref().0, limit, spin);
        if spin > 0 {
            match signalled {
                // A signal soon after the looks: the peer was quick, but
                // could not answer sooner (it had itself slept, or this
                // thread's looks kept it from the CPU).
                Some(Signal::Looking) => self.looks.backoff.hit(),
                Some(Signal::Asleep(after)) if after / LOOK_SLOW_FACTOR < spin => {}
                _ => self.looks.backoff.miss(&LOOK_BACKOFF),
            }
        }
        if signalled.is_some() {
            // Something changed: the caller tries its operation again, which
            // processes the commands as a look at `ZMQ_EVENTS` would. A
            // change for the other direction makes it come back here, at
            // most `TRUSTED_RETRIES` times.
            self.wait_here.backoff.hit();
            return Ok(true);
        }
        self.wait_here.backoff.miss(&WAIT_HERE_BACKOFF);
        Ok(false)
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
        // Register before looking, so that whoever changes the state after
        // our look sees us and wakes us.
        self.waiters.register(slot, want, cx.waker());
        let id = slot.key;
        let result = self.poll_ready_registered(id, want, trust_events);
        if result.is_ready() {
            self.release(slot);
        }
        result
    }

    fn poll_ready_registered(
        &self,
        id: u32,
        want: PollEvents,
        trust_events: bool,
    ) -> Poll<Result<PollEvents>> {
        // Reading EVENTS drains libzmq's command mailbox, so any state change
        // from now on signals the fd again.
        let events = self.check(id)?;
        if trust_events && events.intersects(want) {
            return Poll::Ready(Ok(events & want));
        }
        self.wait_fd(id, want, trust_events)
    }

    /// Waits for an edge of the fd, after a look at `ZMQ_EVENTS` (or a
    /// receive that would block) drained libzmq's command mailbox.
    fn wait_fd(&self, id: u32, want: PollEvents, trust_events: bool) -> Poll<Result<PollEvents>> {
        let mut fanout = Context::from_waker(&self.fanout);
        loop {
            match self.fd.poll_read_ready(&mut fanout) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Reactor(e))),
                Poll::Ready(Ok(mut guard)) => {
                    // The edge may predate our look, or be new: look again,
                    // *after* taking the guard, then clear readiness. The
                    // look drained libzmq's mailbox, so the readiness tokio
                    // holds is spent (and kept, it would cost another look on
                    // the next wait); an edge that comes after the look has a
                    // newer tick, which `clear_ready` leaves alone.
                    let events = self.check(id)?;
                    guard.clear_ready();
                    if !trust_events || events.intersects(want) {
                        return Poll::Ready(Ok(events & want));
                    }
                }
            }
        }
    }
}

/// Microseconds since the first call in the process, wrapping at 2^32 (71
/// minutes): the clock of [`SLICE`].
fn epoch_micros() -> u32 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let since = EPOCH.get_or_init(Instant::now).elapsed().as_micros();
    // Truncated on purpose: only differences of a few slices are used.
    (since & u128::from(u32::MAX)) as u32
}

/// Whether `endpoint` is an in-process one.
fn is_inproc(endpoint: &str) -> bool {
    endpoint.starts_with("inproc://")
}

/// A limit given to `setter`, in whole microseconds: at most
/// [`WAIT_HERE_MAX`], else [`Error::InvalidInput`] naming the setter.
fn limit_micros(setter: &str, limit: Duration) -> Result<u32> {
    if limit > WAIT_HERE_MAX {
        return Err(Error::invalid(
            setter,
            format!(
                "{limit:?} is longer than the limit of {WAIT_HERE_MAX:?}: a wait on the \
                 runtime's thread must stay short"
            ),
        ));
    }
    Ok(micros(limit))
}

/// `d` in whole microseconds, saturated (the limits are at most
/// [`WAIT_HERE_MAX`]).
fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// When [`fd_signalled`] saw the fd readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd")),
    allow(dead_code, reason = "no wait on the thread there")
)]
enum Signal {
    /// While looking at it without sleeping.
    Looking,
    /// After it went to sleep, this many microseconds after the wait began
    /// (measured only after looks; 0 otherwise).
    Asleep(u32),
}

/// Waits up to `micros` microseconds (less than a second) on this thread for
/// `fd` to become readable: the first `spin` of them (at most `micros`)
/// looking at it without sleeping, yielding the CPU between looks, the rest
/// asleep in `ppoll(2)` (see [`BUSY_WAIT_DEFAULT`]). `None`: not readable
/// within the limit.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn fd_signalled(fd: RawFd, micros: u32, spin: u32) -> Option<Signal> {
    if spin == 0 {
        return fd_readable_within(fd, micros).then_some(Signal::Asleep(0));
    }
    // The first look before the clock starts: a peer that answered while
    // this thread was on its way here costs no clock read.
    if fd_readable_within(fd, 0) {
        return Some(Signal::Looking);
    }
    let start = Instant::now();
    let elapsed = || u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
    loop {
        std::thread::yield_now();
        if fd_readable_within(fd, 0) {
            return Some(Signal::Looking);
        }
        let spun = elapsed();
        if spun >= spin {
            let asleep = spun < micros && fd_readable_within(fd, micros - spun);
            return asleep.then(|| Signal::Asleep(elapsed()));
        }
    }
}

/// One `ppoll(2)` of `fd` for `POLLIN`, for up to `micros` microseconds
/// (less than a second; 0: a look that does not sleep).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn fd_readable_within(fd: RawFd, micros: u32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let limit = libc::timespec {
        tv_sec: libc::time_t::from(0u8),
        tv_nsec: libc::c_long::from(micros.min(999_999)) * 1000,
    };
    // SAFETY: `pfd` is one valid, writable pollfd (count 1), `limit` a valid
    // timespec, and a null signal mask leaves the thread's mask as it is.
    // `fd` is the socket's ZMQ_FD, open while the socket (owned by the
    // caller's `Inner`) lives; polling it only reads its state.
    let n = unsafe { libc::ppoll(&raw mut pfd, 1, &raw const limit, std::ptr::null()) };
    n > 0 && pfd.revents & libc::POLLIN != 0
}

/// Elsewhere no wait on the thread (`poll(2)` counts in milliseconds).
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn fd_signalled(_fd: RawFd, _micros: u32, _spin: u32) -> Option<Signal> {
    None
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use super::{Entry, NO_KEY, SHRINK_ABOVE, Table, Wakers};
    use crate::asynchronous::{AsyncMonitor, AsyncPoller};
    use crate::constants::{Event, PollEvents, SocketType};
    use crate::{AsyncSocket, Context as ZmqContext, Result};

    fn count(w: &Wakers) -> usize {
        match w {
            Wakers::None => 0,
            Wakers::One(_) => 1,
            Wakers::Many(all) => all.len(),
        }
    }

    struct Nothing;
    impl std::task::Wake for Nothing {
        fn wake(self: std::sync::Arc<Self>) {}
    }

    /// One waker (`will_wake` itself), doing nothing.
    fn noop() -> &'static Waker {
        static ONE: std::sync::OnceLock<Waker> = std::sync::OnceLock::new();
        ONE.get_or_init(|| Waker::from(std::sync::Arc::new(Nothing)))
    }

    /// The wait on the thread keeps its limit whether it looks first
    /// (`spin`) or not, and sees a signal that comes while it looks.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    #[test]
    fn a_wait_on_the_thread_keeps_its_limit_and_sees_a_late_signal() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        use std::os::unix::net::UnixStream;
        use std::time::Instant;

        use super::{Signal, fd_signalled};

        let (mut tx, rx) = UnixStream::pair().expect("socket pair");
        let fd = rx.as_raw_fd();
        for (limit, spin) in [(3_000, 0), (3_000, 1_000), (2_000, 2_000)] {
            let start = Instant::now();
            assert_eq!(fd_signalled(fd, limit, spin), None, "nothing was written");
            let took = start.elapsed();
            assert!(
                took >= Duration::from_micros(limit.into()) && took < Duration::from_secs(1),
                "limit {limit} µs, first {spin} µs looking: took {took:?}"
            );
        }

        // Written while the wait looks (a limit of almost a second, all of
        // it looking; the writer starts when the wait is about to begin):
        // seen long before the limit.
        let go = std::sync::Arc::new(std::sync::Barrier::new(2));
        let writer = std::thread::spawn({
            let go = go.clone();
            move || {
                go.wait();
                tx.write_all(b"x").expect("write");
                tx
            }
        });
        go.wait();
        let start = Instant::now();
        assert_eq!(
            fd_signalled(fd, 999_000, 999_000),
            Some(Signal::Looking),
            "the write was not seen while looking"
        );
        assert!(start.elapsed() < Duration::from_millis(500));
        let _tx = writer.join().expect("writer");
        // Still readable: seen at once, looking first or not.
        assert_eq!(fd_signalled(fd, 1_000, 0), Some(Signal::Asleep(0)));
        assert_eq!(fd_signalled(fd, 1_000, 1_000), Some(Signal::Looking));
    }

    #[test]
    fn a_backoff_doubles_on_each_miss_up_to_its_max_and_a_hit_ends_it() {
        use super::{Backoff, BackoffPolicy};

        let skipped_in_a_row = |b: &Backoff| (0..).take_while(|_| b.skip()).count();
        for tolerated in [0, 2] {
            let policy = BackoffPolicy {
                tolerated,
                min: 3,
                max: 20,
            };
            let b = Backoff::default();
            assert_eq!(skipped_in_a_row(&b), 0, "nothing missed yet");
            let mut runs = Vec::new();
            for _ in 0..tolerated + 5 {
                b.miss(&policy);
                runs.push(skipped_in_a_row(&b));
            }
            let mut expected = vec![0; tolerated as usize];
            expected.extend([3, 6, 12, 20, 20]);
            assert_eq!(runs, expected, "{tolerated} misses tolerated");
            b.hit();
            assert_eq!(skipped_in_a_row(&b), 0);
            for _ in 0..=tolerated {
                b.miss(&policy);
            }
            assert_eq!(skipped_in_a_row(&b), 3, "a hit starts the backoff over");
            b.miss(&policy);
            b.reset();
            assert_eq!(skipped_in_a_row(&b), 0, "reset forgets the misses");
            for _ in 0..=tolerated {
                b.miss(&policy);
            }
            assert_eq!(skipped_in_a_row(&b), 3);
        }
    }

    #[test]
    fn table_keys_are_reused_and_take_unparks() {
        let mut t = Table::default();
        let a = t.insert();
        let b = t.insert();
        let c = t.insert();
        assert_eq!(t.live, 3);
        assert!(t.arm(a, PollEvents::POLLIN, noop()).is_none());
        assert!(t.arm(b, PollEvents::POLLOUT, noop()).is_none());
        assert!(t.arm(c, PollEvents::POLLIN, noop()).is_none());
        // Re-arming a parked key updates it in place.
        assert!(t.arm(a, PollEvents::POLLIN, noop()).is_none());
        assert_eq!(t.armed.len(), 3);

        // POLLIN ready: a and c, except c.
        let mut out = Wakers::None;
        t.take(Some(PollEvents::POLLIN), c, &mut out);
        assert_eq!(count(&out), 1);
        assert!(matches!(t.entries[a as usize], Entry::Woken));
        assert_eq!(t.armed.len(), 2);
        // Everything (the fan-out waker).
        let mut out = Wakers::None;
        t.take(None, NO_KEY, &mut out);
        assert_eq!(count(&out), 2);
        assert!(t.armed.is_empty());

        // A woken entry stays its slot's until removed; a parked one gives
        // its waker back.
        assert!(t.remove(a).is_none());
        assert!(t.arm(b, PollEvents::POLLOUT, noop()).is_none());
        assert!(t.remove(b).is_some());
        assert!(t.armed.is_empty());
        assert_eq!(t.live, 1);
        // Freed keys are reused, most recent first.
        assert_eq!(t.insert(), b);
        assert_eq!(t.insert(), a);
        assert_eq!(t.insert(), 3);
    }

    #[test]
    fn table_moves_keep_positions() {
        let mut t = Table::default();
        let keys: Vec<u32> = (0..10).map(|_| t.insert()).collect();
        for &k in &keys {
            t.arm(k, PollEvents::POLLIN, noop());
        }
        // Remove from the middle, in an order that moves others around.
        for &k in &[3, 0, 9, 5] {
            assert!(t.remove(k).is_some());
        }
        for (i, &k) in t.armed.iter().enumerate() {
            match t.entries[k as usize] {
                Entry::Parked { at, .. } => assert_eq!(at as usize, i),
                _ => panic!("armed key {k} is not parked"),
            }
        }
        let mut out = Wakers::None;
        t.take(None, NO_KEY, &mut out);
        assert_eq!(count(&out), 6);
    }

    #[test]
    fn empty_table_gives_its_memory_back() {
        let mut t = Table::default();
        let keys: Vec<u32> = (0..SHRINK_ABOVE as u32 + 10).map(|_| t.insert()).collect();
        for k in keys {
            t.remove(k);
        }
        assert_eq!(t.live, 0);
        assert!(t.entries.is_empty());
        assert_eq!(t.insert(), 0);
    }

    /// Polls `f` once with a waker that does nothing, then drops it.
    fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
        let mut f = pin!(f);
        f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    fn asock(ctx: &ZmqContext, kind: SocketType) -> Result<AsyncSocket> {
        let s = ctx.socket(kind)?;
        s.set_linger(Some(Duration::ZERO))?;
        AsyncSocket::new(s)
    }

    #[tokio::test]
    async fn every_cancelled_future_unregisters() -> Result<()> {
        let ctx = ZmqContext::new();
        // A PUSH without a peer can neither send nor receive.
        let push = asock(&ctx, SocketType::Push)?;
        let pull = asock(&ctx, SocketType::Pull)?;
        let n = |s: &AsyncSocket| s.inner().registered_waiters();

        for _ in 0..3 {
            assert!(poll_once(push.poll(PollEvents::POLLOUT, None)).is_pending());
            assert!(
                poll_once(push.poll(PollEvents::POLLIN, Some(Duration::from_secs(60))))
                    .is_pending()
            );
            assert!(poll_once(push.send("x")).is_pending());
            assert!(poll_once(push.send_multipart(["a", "b"])).is_pending());
            assert!(poll_once(pull.recv_msg()).is_pending());
            assert!(poll_once(pull.recv_multipart()).is_pending());
            assert!(poll_once(pull.recv_string()).is_pending());
            let mut m = crate::Message::new();
            assert!(poll_once(pull.recv_msg_into(&mut m)).is_pending());
        }
        assert_eq!(n(&push), 0);
        assert_eq!(n(&pull), 0);

        // Parked, then woken (its waker taken), then dropped unpolled.
        {
            let mut f = pin!(pull.recv_msg());
            assert!(
                f.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending()
            );
            assert_eq!(n(&pull), 1);
            pull.inner().waiters.take(None, NO_KEY);
            assert_eq!(n(&pull), 1, "woken, still registered until dropped");
        }
        assert_eq!(n(&pull), 0);

        // The halves.
        let (tx, rx) = push.split();
        assert!(poll_once(tx.writable(None)).is_pending());
        assert!(poll_once(rx.readable(Some(Duration::from_secs(60)))).is_pending());
        assert_eq!(tx.inner().registered_waiters(), 0);
        let push = tx.reunite(rx).expect("same socket");

        // The poller: registered while a poll waits, not between polls.
        let mut poller = AsyncPoller::new();
        poller.register(&push, PollEvents::POLLIN | PollEvents::POLLOUT);
        poller.register(&pull, PollEvents::POLLIN);
        {
            let mut f = pin!(poller.poll(None));
            assert!(
                f.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending()
            );
            assert_eq!((n(&push), n(&pull)), (1, 1));
        }
        assert_eq!((n(&push), n(&pull)), (0, 0));
        assert!(poller.poll(Some(Duration::ZERO)).await?.is_empty());
        assert_eq!((n(&push), n(&pull)), (0, 0));
        drop(poller);

        // A monitor's next event.
        let mut monitor: AsyncMonitor = pull.monitor_events(Event::ALL)?;
        pull.bind("tcp://127.0.0.1:*")?;
        let first = tokio::time::timeout(Duration::from_secs(10), monitor.next_event())
            .await
            .expect("an event")
            .expect("not ended")?;
        assert_eq!(first.kind, crate::monitor::EventKind::Listening);
        let monitor_socket = monitor.into_monitor();
        let mut monitor = AsyncMonitor::new(monitor_socket)?;
        assert!(poll_once(monitor.next_event()).is_pending());
        assert_eq!(
            monitor
                .socket
                .as_ref()
                .expect("socket")
                .inner()
                .registered_waiters(),
            0
        );
        Ok(())
    }
}
