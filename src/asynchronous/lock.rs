//! The lock of a driven socket: biased to the thread that uses it.
//!
//! A libzmq socket is not thread-safe, and an [`AsyncSocket`](super::AsyncSocket)
//! is `Sync` (its futures are `Send`, the halves of a split socket work from
//! two threads), so every operation takes a lock, held only for one
//! non-blocking libzmq call. An ordinary lock costs an atomic
//! read-modify-write per operation (a `lock cmpxchg` on x86: a full barrier,
//! half of what an async operation added to the blocking call in a measured
//! single-thread loop). Yet almost every socket is only ever used from one
//! thread: a current-thread runtime, or a task that does not move.
//!
//! So the lock is *biased*: the first thread that takes it owns it, and
//! takes it with plain stores and loads (mark itself busy, then check that
//! nobody revoked the bias). Any other thread revokes the bias, for good:
//! it raises the flag, then runs a process-wide memory barrier
//! (`membarrier(2)`, `MEMBARRIER_CMD_PRIVATE_EXPEDITED`) that orders the
//! owner's "busy" store before its flag load as a fence in the owner would,
//! waits for the owner to leave, and from then on everyone, the owner too,
//! takes an ordinary spin lock. A revocation costs a system call once in the
//! life of a socket.
//!
//! Where `membarrier(2)` is missing (not Linux, an old kernel, a sandbox that
//! refuses it), there is no bias: the spin lock from the start. Nor on a
//! multi-thread runtime, whose workers take tasks from each other: nearly
//! every socket would pay a revocation there.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, compiler_fence};

/// No thread owns the lock yet. (Thread tokens are from 1 up, and 0 on a
/// thread that has none yet: neither matches.)
const NO_OWNER: u64 = u64::MAX - 1;
/// The bias was revoked, or never possible: no thread owns the lock, ever.
const REVOKED: u64 = u64::MAX;

/// A mutual-exclusion lock biased to the first thread that takes it (see the
/// module's documentation). Never held across an `.await`.
pub(crate) struct BiasedLock<T> {
    /// The thread the lock is biased to ([`thread_token`]), [`NO_OWNER`] or
    /// [`REVOKED`] (for good: the fast path is closed).
    owner: AtomicU64,
    /// The owner holds the lock through its fast path. Written only by the
    /// owner's thread.
    owner_busy: AtomicBool,
    /// The lock of everyone but the owner's fast path.
    slow: spin::mutex::SpinMutex<(), spin::relax::Yield>,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through a `Guard`, and guards exclude each
// other (see `lock`): the owner's fast-path guards come one at a time from
// its one thread, a slow-path guard holds `slow`, and a slow-path guard is
// made only once no fast path is running and none can start (`owner` set to
// `REVOKED`, then the heavy barrier, then `owner_busy` seen clear). So `T` is
// used by one thread at a time, which `T: Send` allows.
unsafe impl<T: Send> Sync for BiasedLock<T> {}

/// What a [`BiasedLock`] hands out: the value, until dropped. Not `Send`: the
/// owner's fast path relies on its guards being dropped on its thread.
pub(crate) struct Guard<'a, T> {
    lock: &'a BiasedLock<T>,
    /// Taken through the spin lock (whose guard was forgotten: this guard
    /// releases it).
    slow: bool,
    _not_send: PhantomData<*const ()>,
}

impl<T> BiasedLock<T> {
    /// A lock around `value`; `biased`: whether it may be biased (else, and
    /// without the heavy barrier, it is the spin lock only).
    pub(crate) fn new(value: T, biased: bool) -> BiasedLock<T> {
        BiasedLock {
            owner: AtomicU64::new(if biased && heavy_barrier_available() {
                NO_OWNER
            } else {
                REVOKED
            }),
            owner_busy: AtomicBool::new(false),
            slow: spin::mutex::SpinMutex::new(()),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, for good.
    pub(crate) fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// Takes the lock; on the thread it is biased to, with a store and two
    /// loads, no atomic read-modify-write.
    #[inline]
    pub(crate) fn lock(&self) -> Guard<'_, T> {
        let me = TOKEN.with(Cell::get);
        if self.owner.load(Ordering::Relaxed) == me {
            self.owner_busy.store(true, Ordering::Relaxed);
            // The store above comes before the load below: for the compiler
            // here, for the processor through the revoker's heavy barrier
            // (an asymmetric fence: either the revoker sees `owner_busy` set,
            // or this load sees `REVOKED`).
            compiler_fence(Ordering::SeqCst);
            if self.owner.load(Ordering::Relaxed) == me {
                return Guard {
                    lock: self,
                    slow: false,
                    _not_send: PhantomData,
                };
            }
            self.owner_busy.store(false, Ordering::Release);
        }
        self.lock_slow()
    }

    /// Every lock but the owner's fast path: the spin lock, after taking the
    /// bias (first lock) or revoking it (another thread).
    #[cold]
    #[inline(never)]
    fn lock_slow(&self) -> Guard<'_, T> {
        // Released by the guard's drop (a plain flag there, rather than the
        // spin lock's guard in an `Option`, keeps the fast path's guard in a
        // register), also if what follows panics.
        std::mem::forget(self.slow.lock());
        let guard = Guard {
            lock: self,
            slow: true,
            _not_send: PhantomData,
        };
        match self.owner.load(Ordering::Relaxed) {
            REVOKED => {}
            // The first lock: biased to this thread from the next one on
            // (this one holds the spin lock, so nobody else is in).
            NO_OWNER => self.owner.store(thread_token(), Ordering::Relaxed),
            // Another thread's (the owner's fast path never fails while the
            // owner is itself): revoke the bias.
            _ => {
                self.owner.store(REVOKED, Ordering::Relaxed);
                heavy_barrier();
            }
        }
        // The owner may be in a fast path begun before the revocation: wait
        // for it to leave (its release store makes what it did visible
        // here). It cannot enter again: it will see `REVOKED`.
        while self.owner_busy.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        guard
    }
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard excludes every other (see the `Sync` impl), so
        // nobody else reaches `value` while the reference lives; it cannot
        // outlive the guard.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.slow {
            // SAFETY: this guard took the spin lock and forgot its guard
            // (`lock_slow`); this drop is the one release of that lock.
            unsafe { self.lock.slow.force_unlock() }
        } else {
            // Publishes what the owner did to a revoker waiting for it.
            self.lock.owner_busy.store(false, Ordering::Release);
        }
    }
}

thread_local! {
    /// This thread's token, 0 until first asked.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

/// A number for the calling thread, never given to another thread (unlike a
/// thread-local's address, which a later thread may reuse), from 1 up.
fn thread_token() -> u64 {
    TOKEN.with(|token| {
        let t = token.get();
        if t != 0 {
            return t;
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let t = NEXT.fetch_add(1, Ordering::Relaxed);
        token.set(t);
        t
    })
}

/// `membarrier(2)` commands (linux/membarrier.h).
#[cfg(any(target_os = "linux", target_os = "android"))]
mod cmd {
    pub(super) const QUERY: libc::c_int = 0;
    pub(super) const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    pub(super) const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;
}

/// Whether [`heavy_barrier`] works in this process: `membarrier(2)` has the
/// private expedited command and the process is registered for it (done by
/// the first call).
fn heavy_barrier_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let both = cmd::PRIVATE_EXPEDITED | cmd::REGISTER_PRIVATE_EXPEDITED;
            let supported = membarrier(cmd::QUERY);
            supported >= 0
                && supported & libc::c_long::from(both) == libc::c_long::from(both)
                && membarrier(cmd::REGISTER_PRIVATE_EXPEDITED) == 0
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            false
        }
    })
}

/// A memory barrier on every running thread of the process, at once: after
/// it, each has either made its earlier stores visible to the caller, or
/// will see the caller's earlier stores in its later loads.
fn heavy_barrier() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // Only called once `heavy_barrier_available` said yes (a lock that
        // was never biased never revokes), and a registered process's
        // private expedited barrier does not fail. A child of `fork(2)` may
        // not have inherited the registration: register again and retry.
        if membarrier(cmd::PRIVATE_EXPEDITED) != 0 {
            let rc = membarrier(cmd::REGISTER_PRIVATE_EXPEDITED);
            let again = membarrier(cmd::PRIVATE_EXPEDITED);
            assert!(
                rc == 0 && again == 0,
                "membarrier(2) failed after it was registered: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn membarrier(command: libc::c_int) -> libc::c_long {
    // SAFETY: membarrier(2) takes a command and flags (0) by value and touches
    // no memory of ours; an unsupported command fails with an errno.
    unsafe { libc::syscall(libc::SYS_membarrier, command, 0 as libc::c_int) }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{BiasedLock, REVOKED, heavy_barrier_available, thread_token};

    #[test]
    fn the_first_thread_owns_the_lock_and_keeps_it_alone() {
        let lock = BiasedLock::new(Cell::new(0u32), true);
        for _ in 0..3 {
            let g = lock.lock();
            g.set(g.get() + 1);
        }
        assert_eq!(lock.lock().get(), 3);
        if heavy_barrier_available() {
            assert_eq!(lock.owner.load(Ordering::Relaxed), thread_token());
        } else {
            eprintln!("SKIPPED (bias part): membarrier(2) is not available here");
        }
    }

    /// The owner and another thread both increment a plain counter (a
    /// non-atomic read-modify-write) under the lock: a lock that let both in
    /// at once would lose increments. The other thread revokes the bias
    /// while the owner is running.
    #[test]
    fn owner_and_another_thread_exclude_each_other() {
        const N: u64 = 200_000;
        let lock = Arc::new(BiasedLock::new(Cell::new(0u64), true));
        // Biased to this thread.
        drop(lock.lock());
        let other = std::thread::spawn({
            let lock = lock.clone();
            move || {
                for _ in 0..N {
                    let g = lock.lock();
                    let v = std::hint::black_box(g.get());
                    g.set(v + 1);
                }
            }
        });
        for _ in 0..N {
            let g = lock.lock();
            // A few more instructions in the section, so that a broken
            // lock would show.
            let v = std::hint::black_box(g.get());
            g.set(v + 1);
        }
        other.join().expect("the other thread panicked");
        assert_eq!(lock.lock().get(), 2 * N, "increments were lost");
        if heavy_barrier_available() {
            assert_eq!(lock.owner.load(Ordering::Relaxed), REVOKED);
        }
    }

    /// The owner holds the lock through its fast path when another thread
    /// asks for it: that thread revokes the bias and still waits until the
    /// owner lets go.
    #[test]
    fn a_revoker_waits_for_the_owner_to_let_go() {
        let lock = Arc::new(BiasedLock::new(Cell::new(0u32), true));
        drop(lock.lock());
        let held = lock.lock();
        let entered = Arc::new(AtomicBool::new(false));
        let other = std::thread::spawn({
            let (lock, entered) = (lock.clone(), entered.clone());
            move || {
                let g = lock.lock();
                entered.store(true, Ordering::SeqCst);
                g.set(g.get() + 1);
            }
        });
        // The other thread gets going and blocks; it must not get in while
        // the owner holds the lock (a window of 20 ms is checked).
        let until = Instant::now() + Duration::from_millis(20);
        while Instant::now() < until {
            assert!(
                !entered.load(Ordering::SeqCst),
                "got in while the owner held the lock"
            );
            std::thread::yield_now();
        }
        held.set(held.get() + 1);
        drop(held);
        other.join().expect("the other thread panicked");
        assert!(entered.load(Ordering::SeqCst));
        assert_eq!(lock.lock().get(), 2);
        if heavy_barrier_available() {
            assert_eq!(lock.owner.load(Ordering::Relaxed), REVOKED);
        }
    }

    #[test]
    fn an_unbiased_lock_is_the_spin_lock() {
        let lock = BiasedLock::new(Cell::new(0u32), false);
        drop(lock.lock());
        assert_eq!(lock.owner.load(Ordering::Relaxed), REVOKED);
    }

    #[test]
    fn tokens_differ_between_threads() {
        let here = thread_token();
        assert_eq!(here, thread_token());
        let there = std::thread::spawn(thread_token).join().expect("join");
        assert_ne!(here, there);
    }
}
