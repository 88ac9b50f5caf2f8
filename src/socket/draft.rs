//! The DRAFT socket calls of a classic [`Socket`] (`zmq_join`,
//! `zmq_leave`, `zmq_connect_peer`), kept with the socket's other raw calls.

use super::{Socket, check_port, endpoint_cstr};
use crate::draft::require_draft;
use crate::draft::thread_safe::check_group;
use crate::error::{Error, Result, check};

impl Socket {
    /// Joins a group on a DISH socket (`zmq_join`, DRAFT; pyzmq's
    /// `dish.join`). Groups are at most 255 bytes.
    pub fn join(&self, group: &str) -> Result<()> {
        require_draft("zmq_join")?;
        let c = check_group(group)?;
        // SAFETY: as_raw is a live socket; c is a valid C string.
        check(unsafe { zmq_sys::zmq_join(self.as_raw(), c.as_ptr()) }).map(drop)
    }

    /// Leaves a group on a DISH socket (`zmq_leave`, DRAFT). Leaving a group
    /// not joined is an [`Error::InvalidArgument`].
    pub fn leave(&self, group: &str) -> Result<()> {
        require_draft("zmq_leave")?;
        let c = check_group(group)?;
        // SAFETY: as_raw is a live socket; c is a valid C string.
        check(unsafe { zmq_sys::zmq_leave(self.as_raw(), c.as_ptr()) }).map(drop)
    }

    /// Connects a PEER socket and returns the new peer's routing id
    /// (`zmq_connect_peer`, DRAFT). Other socket types are an
    /// [`Error::NotSupported`].
    pub fn connect_peer(&self, endpoint: &str) -> Result<u32> {
        require_draft("zmq_connect_peer")?;
        let c = endpoint_cstr(endpoint)?;
        check_port(endpoint)?;
        crate::endpoint::check_ipc_path(endpoint)?;
        crate::fdlimit::check_endpoint(endpoint, false)?;
        // SAFETY: as_raw is a live socket; c is a valid C string.
        let id = unsafe { zmq_sys::zmq_connect_peer(self.as_raw(), c.as_ptr()) };
        if id == 0 {
            Err(Error::last().at_endpoint(endpoint))
        } else {
            Ok(id)
        }
    }
}
