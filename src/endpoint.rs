//! Checks of endpoints zmqx makes before libzmq sees them.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// The longest path an `ipc://` endpoint may have, in bytes (pyzmq's
/// `zmq.IPC_PATH_MAX_LEN`): the size of `sockaddr_un.sun_path` less its
/// terminating NUL. 107 on Linux, 103 on macOS and the BSDs.
///
/// A longer path given to [`Socket::bind`](crate::Socket::bind) or
/// [`Socket::connect`](crate::Socket::connect) is an
/// [`Error::IpcPathTooLong`] naming the path and this limit.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd"
))]
pub const IPC_PATH_MAX_LEN: usize = 103;

/// The longest path an `ipc://` endpoint may have, in bytes (pyzmq's
/// `zmq.IPC_PATH_MAX_LEN`): the size of `sockaddr_un.sun_path` less its
/// terminating NUL. 107 on Linux, 103 on macOS and the BSDs.
///
/// A longer path given to [`Socket::bind`](crate::Socket::bind) or
/// [`Socket::connect`](crate::Socket::connect) is an
/// [`Error::IpcPathTooLong`] naming the path and this limit.
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd"
)))]
pub const IPC_PATH_MAX_LEN: usize = 107;

/// Refuses an `ipc://` endpoint whose path is longer than
/// [`IPC_PATH_MAX_LEN`], with an error naming the path and the limit (libzmq
/// would only say "File name too long"). Other endpoints pass. `ipc://*`
/// (a path libzmq picks) and Linux's abstract `ipc://@name` follow the same
/// limit as libzmq applies it: the path's bytes, `@` included.
pub(crate) fn check_ipc_path(endpoint: &str) -> Result<()> {
    let Some(path) = endpoint.strip_prefix("ipc://") else {
        return Ok(());
    };
    if path.len() <= IPC_PATH_MAX_LEN {
        return Ok(());
    }
    Err(Error::IpcPathTooLong {
        path: path.to_string(),
        limit: IPC_PATH_MAX_LEN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipc_path_limit() {
        let longest = format!("ipc:///{}", "a".repeat(IPC_PATH_MAX_LEN - 1));
        assert!(check_ipc_path(&longest).is_ok());
        let too_long = format!("ipc:///{}", "a".repeat(IPC_PATH_MAX_LEN));
        let e = check_ipc_path(&too_long).expect_err("too long");
        let text = e.to_string();
        assert!(text.contains(&IPC_PATH_MAX_LEN.to_string()), "{text}");
        assert!(text.contains(&"a".repeat(IPC_PATH_MAX_LEN)), "{text}");
        assert!(check_ipc_path(&format!("tcp://{}", "a".repeat(500))).is_ok());
        assert!(check_ipc_path("ipc://*").is_ok());
    }
}
