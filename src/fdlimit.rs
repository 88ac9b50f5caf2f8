//! File-descriptor headroom: a cheap check before the libzmq calls that
//! abort the process instead of failing when no descriptor is free.
//!
//! libzmq 4.3.5 turns a few `EMFILE`s into assertions (`SIGABRT`):
//!
//! - starting a context's threads, on its first socket: `epoll_create` for
//!   the reaper and each I/O thread (`epoll.cpp:38`);
//! - resolving a TCP, WebSocket or UDP address for `bind` (and a connect's
//!   source address): `getifaddrs` (`ip_resolver.cpp:542`).
//!
//! Before those calls zmqx opens (and closes at once) as many descriptors as
//! the call needs; if it cannot, the call is refused with
//! [`Error::FdLimit`] and libzmq is never asked.
//!
//! What remains: the check and the call are not atomic, so another thread
//! opening files in between can still exhaust the table; and work libzmq does
//! later on its I/O thread (a TCP connect's source address resolved on each
//! reconnection) is not covered.

use crate::error::{Error, Result};

/// How many descriptors can still be opened, counting up to `wanted`: opens
/// `/dev/null` and duplicates it until `wanted` are open or the process is out
/// of descriptors, then closes them all. `None` when that cannot be told
/// (no `/dev/null`, or not Unix).
#[cfg(unix)]
fn free_fds_up_to(wanted: usize) -> Option<usize> {
    if wanted == 0 {
        return Some(0);
    }
    // SAFETY: a valid NUL-terminated path; the returned descriptor (if any)
    // is ours and closed below.
    let first = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if first == -1 {
        let errno = std::io::Error::last_os_error().raw_os_error();
        return match errno {
            Some(libc::EMFILE) | Some(libc::ENFILE) => Some(0),
            _ => None,
        };
    }
    let mut open = vec![first];
    while open.len() < wanted {
        // SAFETY: `first` is a descriptor we opened above and still own.
        let fd = unsafe { libc::fcntl(first, libc::F_DUPFD_CLOEXEC, 0) };
        if fd == -1 {
            break;
        }
        open.push(fd);
    }
    let free = open.len();
    for fd in open {
        // SAFETY: each descriptor was opened here and is closed exactly once.
        unsafe { libc::close(fd) };
    }
    Some(free)
}

#[cfg(not(unix))]
fn free_fds_up_to(_wanted: usize) -> Option<usize> {
    None
}

/// The soft `RLIMIT_NOFILE` (0 when unknown).
#[cfg(unix)]
fn soft_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        // rlim_t is not u64 on every platform.
        #[allow(clippy::unnecessary_cast)]
        let soft = limit.rlim_cur as u64;
        soft
    } else {
        0
    }
}

#[cfg(not(unix))]
fn soft_limit() -> u64 {
    0
}

/// Fails with [`Error::FdLimit`] when fewer than `needed` descriptors can be
/// opened now. `what` names the call for the error.
pub(crate) fn require(needed: usize, what: impl FnOnce() -> String) -> Result<()> {
    match free_fds_up_to(needed) {
        Some(free) if free < needed => Err(Error::FdLimit {
            what: what(),
            needed,
            limit: soft_limit(),
        }),
        _ => Ok(()),
    }
}

/// Descriptors a context takes when its first socket starts its threads:
/// the reaper's and each I/O thread's mailbox and poller, and the socket's
/// own mailbox.
pub(crate) fn needed_to_start_context(io_threads: i32) -> usize {
    // An eventfd per mailbox on Linux, a socketpair elsewhere; one epoll or
    // kqueue per thread.
    let per_thread = if cfg!(any(target_os = "linux", target_os = "android")) {
        2
    } else {
        3
    };
    let threads = 1 + io_threads.max(0) as usize;
    threads * per_thread + per_thread - 1
}

/// Checks the headroom of a `bind` (`connect` when `bind` is false) whose
/// address libzmq resolves at once with `getifaddrs`: every TCP, WebSocket
/// and UDP bind, and a connect with a source address (`tcp://src;dst`).
/// Two descriptors: the netlink socket of `getifaddrs` and the socket itself.
pub(crate) fn check_endpoint(endpoint: &str, bind: bool) -> Result<()> {
    let Some((transport, address)) = endpoint.split_once("://") else {
        return Ok(());
    };
    let resolved_now = match transport {
        "tcp" | "ws" | "wss" | "udp" => bind || address.contains(';'),
        _ => false,
    };
    if !resolved_now {
        return Ok(());
    }
    require(2, || {
        format!("{} {endpoint}", if bind { "bind" } else { "connect" })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plenty_of_room_in_a_test() -> Result<()> {
        assert_eq!(free_fds_up_to(3), Some(3));
        require(4, || "test".into())?;
        check_endpoint("tcp://127.0.0.1:*", true)?;
        check_endpoint("inproc://x", true)?;
        assert!(soft_limit() > 0);
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn start_needs() {
        assert_eq!(needed_to_start_context(1), 5);
        assert_eq!(needed_to_start_context(0), 3);
        assert_eq!(needed_to_start_context(4), 11);
    }
}
