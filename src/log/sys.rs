#![allow(unsafe_code)]
//! What the log formatter asks the C library: the local broken-down time of
//! an instant (`localtime_r`), the calling thread's kernel id (`gettid`),
//! and (to cache the process and thread ids, as `getpid` is a system call)
//! when the process forks (`pthread_atfork`). The only `unsafe` of
//! `zmqx::log` lives here.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// A local broken-down time as `localtime_r` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LocalParts {
    pub(super) year: i64,
    /// 1–12.
    pub(super) month: u8,
    /// 1–31.
    pub(super) day: u8,
    pub(super) hour: u8,
    pub(super) minute: u8,
    /// 0–60 (a leap second is possible in principle).
    pub(super) second: u8,
    /// 0 = Sunday.
    pub(super) weekday: u8,
    /// 1–366.
    pub(super) yday: u16,
    /// Seconds east of UTC.
    pub(super) offset: i32,
    /// The zone's abbreviation (`CET`), at most 15 bytes, `len` of them used.
    pub(super) zone: [u8; 15],
    pub(super) zone_len: u8,
}

/// The local time of `secs` seconds since the Unix epoch, per the process's
/// time zone (`TZ`, else `/etc/localtime`), or `None` when the C library
/// cannot represent it.
#[cfg(unix)]
pub(super) fn local_parts(secs: i64) -> Option<LocalParts> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `tm` is plain old data (integers and one pointer), so the
    // all-zero value is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live, properly aligned locals; the
    // reentrant `localtime_r` writes only into `tm` and returns NULL on
    // failure. (glibc reads `TZ` once; a concurrent `setenv` is the caller's
    // hazard, as for every libc time function.)
    let filled = unsafe { libc::localtime_r(&t, &mut tm) };
    if filled.is_null() {
        return None;
    }
    let mut zone = [0u8; 15];
    let mut zone_len = 0u8;
    if !tm.tm_zone.is_null() {
        // SAFETY: on success `tm_zone` points to a NUL-terminated string in
        // the C library's static time-zone storage, valid at least until the
        // next `tzset`; it is copied out here at once.
        let name = unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }.to_bytes();
        let n = name.len().min(zone.len());
        zone[..n].copy_from_slice(&name[..n]);
        zone_len = n as u8;
    }
    Some(LocalParts {
        year: i64::from(tm.tm_year) + 1900,
        month: u8::try_from(tm.tm_mon + 1).ok()?,
        day: u8::try_from(tm.tm_mday).ok()?,
        hour: u8::try_from(tm.tm_hour).ok()?,
        minute: u8::try_from(tm.tm_min).ok()?,
        second: u8::try_from(tm.tm_sec).ok()?,
        weekday: u8::try_from(tm.tm_wday).ok()?,
        yday: u16::try_from(tm.tm_yday + 1).ok()?,
        offset: i32::try_from(tm.tm_gmtoff).ok()?,
        zone,
        zone_len,
    })
}

/// No C local time outside Unix: callers fall back to UTC.
#[cfg(not(unix))]
pub(super) fn local_parts(_secs: i64) -> Option<LocalParts> {
    None
}

/// Forks seen by this process's lineage (bumped in each child), to notice
/// that cached ids belong to the parent.
static FORKS: AtomicU64 = AtomicU64::new(0);
/// The cached process id; 0 when unknown.
static PID: AtomicU32 = AtomicU32::new(0);

/// Runs in the child right after `fork`: forgets the parent's ids. It
/// only stores to atomics, which is async-signal-safe.
#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    PID.store(0, Ordering::Relaxed);
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// Registers [`after_fork_in_child`] once (not with `Once`: a fork during
/// the registration must not leave the child a lock it cannot take).
fn watch_forks() {
    static WATCHING: AtomicBool = AtomicBool::new(false);
    #[cfg(unix)]
    if !WATCHING.swap(true, Ordering::AcqRel) {
        // SAFETY: the handler is a plain `extern "C" fn` with `'static`
        // lifetime that only touches atomics; NULL prepare/parent handlers
        // are allowed. A registration failure (ENOMEM) only means ids stay
        // cached across a fork, so the result is ignored.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    }
    #[cfg(not(unix))]
    WATCHING.store(true, Ordering::Relaxed);
}

/// The process id, cached until the process forks (`getpid` costs a system
/// call per record otherwise).
pub(super) fn process_id() -> u32 {
    match PID.load(Ordering::Relaxed) {
        0 => {
            watch_forks();
            let pid = std::process::id();
            PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

thread_local! {
    /// (the `FORKS` count it was read at, the thread id).
    static TID: Cell<(u64, u64)> = const { Cell::new((u64::MAX, 0)) };
}

/// The numeric id of the calling thread, cached per thread until a fork.
pub(super) fn thread_id() -> u64 {
    TID.with(|cache| {
        let (seen, tid) = cache.get();
        if seen == FORKS.load(Ordering::Relaxed) {
            return tid;
        }
        watch_forks();
        let forks = FORKS.load(Ordering::Relaxed);
        let tid = read_thread_id();
        cache.set((forks, tid));
        tid
    })
}

/// The kernel's id of the calling thread (`gettid`, what `ps -L`, `top -H`
/// and debuggers show).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_thread_id() -> u64 {
    // SAFETY: `gettid` takes no argument, cannot fail and only reads the
    // calling thread's id.
    u64::try_from(unsafe { libc::gettid() }).unwrap_or(0)
}

/// Elsewhere: a number given to each thread in the order threads first log
/// (1, 2, …), stable for the thread's life.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_thread_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
