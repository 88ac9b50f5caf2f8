//! The DRAFT socket calls of a classic [`Socket`] (`zmq_join`,
//! `zmq_leave`, `zmq_connect_peer`, `zmq_socket_monitor_versioned`,
//! `zmq_socket_monitor_pipes_stats`), kept with the socket's other raw calls.

use super::{Socket, check_port, endpoint_cstr};
use crate::constants::{Event, SocketType};
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

    /// `zmq_socket_monitor_versioned` (version 2), without telling the
    /// socket's monitor link (see [`Socket::monitor_versioned`]).
    pub(crate) fn start_monitor_v2(
        &self,
        endpoint: &str,
        events: Event,
        kind: SocketType,
    ) -> Result<()> {
        require_draft("zmq_socket_monitor_versioned")?;
        let c = endpoint_cstr(endpoint)?;
        // SAFETY: as_raw is a live socket; c is a valid C string.
        check(unsafe {
            zmq_sys::zmq_socket_monitor_versioned(
                self.as_raw(),
                c.as_ptr(),
                u64::from(events.bits()),
                2,
                kind.raw(),
            )
        })
        .map(drop)
        .map_err(|e| e.at_endpoint(endpoint))
    }

    /// Asks for a `PIPES_STATS` event per connected peer on the version-2
    /// monitor (`zmq_socket_monitor_pipes_stats`, DRAFT). Without a monitor
    /// listening to `PIPES_STATS` this is an [`Error::InvalidArgument`].
    pub fn monitor_pipes_stats(&self) -> Result<()> {
        require_draft("zmq_socket_monitor_pipes_stats")?;
        // SAFETY: as_raw is a live socket.
        check(unsafe { zmq_sys::zmq_socket_monitor_pipes_stats(self.as_raw()) }).map(drop)
    }
}
