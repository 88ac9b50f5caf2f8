//! The few system calls of the SSH module, each in a small safe function:
//! killing the client's process group, giving it `PR_SET_PDEATHSIG`, and the
//! local user name. The only `unsafe` code of `zmqx::ssh` lives here.

#[cfg(unix)]
use std::process::Command;

/// Sends `SIGKILL` to the process group `pgid` (the `ssh` client leads its
/// own group, see `openssh::spawn`). Errors are ignored: the caller kills
/// the leader directly as well.
#[cfg(unix)]
pub(super) fn kill_process_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 0 {
        // -0 would be our own group, and negative ids mean something else.
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

/// Makes the child started by `cmd` get `SIGKILL` when the thread that forks
/// it ends (`PR_SET_PDEATHSIG`), and not start at all if the owning process
/// is already gone by then.
#[cfg(target_os = "linux")]
pub(super) fn kill_with_parent(cmd: &mut Command) {
    use std::io;
    use std::os::unix::process::CommandExt;

    // SAFETY: getpid(2) has no preconditions.
    let parent = unsafe { libc::getpid() };
    let hook = move || {
        // SAFETY: runs in the forked child before exec, where only
        // async-signal-safe calls are allowed: prctl(2) and getppid(2) are
        // system calls that neither allocate nor take locks, and
        // io::Error::last_os_error/from_raw_os_error only wrap an errno.
        unsafe {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The owner died between fork and prctl: the signal will never
            // come, so do not start at all.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls (see above).
    unsafe { cmd.pre_exec(hook) };
}

/// The user name of the current uid from the password database.
#[cfg(all(unix, feature = "russh"))]
pub(super) fn user_from_passwd() -> Option<String> {
    use std::ffi::CStr;
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: an all-zero passwd is a valid value for a plain C struct.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf outlives the use of
    // the strings getpwuid_r stores in it.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points to a NUL-terminated string inside buf, which
    // is still alive.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) };
    name.to_str().ok().map(str::to_string)
}

/// Without a password database, no fallback user name.
#[cfg(all(not(unix), feature = "russh"))]
pub(super) fn user_from_passwd() -> Option<String> {
    None
}
