//! The libzmq call that takes several sockets at once: `zmq_proxy`. The safe
//! API is in [`crate::proxy`].

use std::ptr;

use super::Socket;
use crate::error::{Error, Result, check};

/// Runs libzmq's `zmq_proxy` until it fails; `EINTR` restarts it.
///
/// Always returns an error: libzmq's proxy only returns on failure, usually
/// [`Error::ContextTerminated`].
pub(crate) fn libzmq_proxy(
    frontend: &Socket,
    backend: &Socket,
    capture: Option<&Socket>,
) -> Result<()> {
    let capture = capture.map_or(ptr::null_mut(), Socket::as_raw);
    loop {
        // SAFETY: the sockets are alive for the whole call (borrowed), and
        // `Socket: !Sync` guarantees no other thread uses them meanwhile;
        // a null capture means none. frontend and backend may be the same
        // socket, which libzmq supports.
        let rc = unsafe { zmq_sys::zmq_proxy(frontend.as_raw(), backend.as_raw(), capture) };
        match check(rc) {
            Ok(_) => return Ok(()),
            Err(Error::Interrupted) => continue,
            Err(e) => return Err(e),
        }
    }
}
