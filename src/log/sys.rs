#![allow(unsafe_code)]
//! The two questions the log formatter asks the C library: the local
//! broken-down time of an instant (`localtime_r`) and the calling thread's
//! kernel id (`gettid`). The only `unsafe` of `zmqx::log` lives here.

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

/// The kernel's id of the calling thread (`gettid`, what `ps -L`, `top -H`
/// and debuggers show), cached per thread.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn thread_id() -> u64 {
    thread_local! {
        // SAFETY: `gettid` takes no argument, cannot fail and only reads
        // the calling thread's id.
        static TID: u64 = u64::try_from(unsafe { libc::gettid() }).unwrap_or(0);
    }
    TID.with(|tid| *tid)
}

/// Elsewhere: a number given to each thread in the order threads first log
/// (1, 2, …), stable for the thread's life.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn thread_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TID.with(|tid| *tid)
}
