//! [`Hardening`]: one call that sets the options a socket facing untrusted
//! peers needs ([`Socket::harden`]).
#![forbid(unsafe_code)]

use std::time::Duration;

use crate::constants::SocketType;
use crate::error::Result;
use crate::socket::Socket;

/// Options for a socket that accepts peers it does not trust, applied by
/// [`Socket::harden`] (also on async and thread-safe sockets).
///
/// libzmq's defaults trust the peer: a plain socket buffers a 1 GiB frame
/// from one peer for as long as it takes, a CURVE server buffers whatever an
/// *unauthenticated* peer sends until its 30 s handshake timeout, a peer
/// that stops answering keeps its connection (and its queue) forever, and a
/// ROUTER silently drops what it cannot route. The default preset changes
/// that:
///
/// | option | default here | why |
/// |---|---|---|
/// | `ZMQ_MAXMSGSIZE` | 1 MiB | a peer that announces a larger frame is disconnected before it is buffered (libzmq: no limit) |
/// | `ZMQ_HANDSHAKE_IVL` | 10 s | a peer that does not finish the ZMTP/CURVE handshake is dropped (libzmq: 30 s) |
/// | `ZMQ_HEARTBEAT_IVL` | 10 s | PING every peer, so dead and silent ones are noticed (libzmq: off) |
/// | `ZMQ_HEARTBEAT_TIMEOUT` | 30 s | drop a peer that does not answer a PING (with its queued messages) |
/// | `ZMQ_HEARTBEAT_TTL` | 30 s | ask the peer to drop us likewise |
/// | `ZMQ_ROUTER_MANDATORY` | on, ROUTER only | a send to a peer that is gone or at its high-water mark fails with [`Error::HostUnreachable`](crate::Error::HostUnreachable) or `Again` instead of a silent drop |
/// | `ZMQ_ZAP_DOMAIN` | not set | set one with [`zap_domain`](Hardening::zap_domain) so an authenticator is asked about NULL-mechanism peers too |
///
/// Apply it before `bind`/`connect`: libzmq copies a socket's options into
/// each connection when it is made. Raise [`max_msg_size`](Hardening::max_msg_size)
/// to the largest message your protocol sends. What it does not cover: the
/// number of connections (limit them in front, or with the
/// [`auth`](crate::auth) allow/deny rules), memory per connection
/// (`RCVHWM` × `MAXMSGSIZE` at most), and file descriptors (keep headroom
/// under `RLIMIT_NOFILE`; zmqx refuses, with
/// [`Error::FdLimit`](crate::Error::FdLimit), the calls libzmq would abort
/// on).
///
/// ```
/// # fn main() -> zmqx::Result<()> {
/// use std::time::Duration;
/// use zmqx::{Context, Hardening, SocketType};
/// let router = Context::new().socket(SocketType::Router)?;
/// router.harden(&Hardening::default().max_msg_size(Some(64 << 10)))?;
/// assert_eq!(router.maxmsgsize()?, 64 << 10);
/// assert_eq!(router.heartbeat_ivl()?, Some(Duration::from_secs(10)));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    max_msg_size: Option<i64>,
    handshake_ivl: Option<Duration>,
    heartbeat_ivl: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    heartbeat_ttl: Option<Duration>,
    router_mandatory: bool,
    zap_domain: Option<String>,
}

impl Default for Hardening {
    fn default() -> Hardening {
        Hardening {
            max_msg_size: Some(1 << 20),
            handshake_ivl: Some(Duration::from_secs(10)),
            heartbeat_ivl: Some(Duration::from_secs(10)),
            heartbeat_timeout: Some(Duration::from_secs(30)),
            heartbeat_ttl: Some(Duration::from_secs(30)),
            router_mandatory: true,
            zap_domain: None,
        }
    }
}

impl Hardening {
    /// The default preset (see the table above).
    pub fn new() -> Hardening {
        Hardening::default()
    }

    /// The largest inbound message in bytes (`ZMQ_MAXMSGSIZE`); `None`
    /// leaves the socket's value as it is.
    pub fn max_msg_size(mut self, bytes: Option<i64>) -> Hardening {
        self.max_msg_size = bytes;
        self
    }

    /// The handshake timeout (`ZMQ_HANDSHAKE_IVL`); `None` leaves the
    /// socket's value as it is.
    pub fn handshake_ivl(mut self, ivl: Option<Duration>) -> Hardening {
        self.handshake_ivl = ivl;
        self
    }

    /// Heartbeats: the interval between PINGs (`ZMQ_HEARTBEAT_IVL`), how long
    /// to wait for an answer (`ZMQ_HEARTBEAT_TIMEOUT`) and the time-to-live
    /// asked of the peer (`ZMQ_HEARTBEAT_TTL`). `None` leaves that value as
    /// it is.
    pub fn heartbeat(
        mut self,
        ivl: Option<Duration>,
        timeout: Option<Duration>,
        ttl: Option<Duration>,
    ) -> Hardening {
        self.heartbeat_ivl = ivl;
        self.heartbeat_timeout = timeout;
        self.heartbeat_ttl = ttl;
        self
    }

    /// Whether ROUTER sockets get `ZMQ_ROUTER_MANDATORY` (other types are
    /// never touched by it).
    pub fn router_mandatory(mut self, on: bool) -> Hardening {
        self.router_mandatory = on;
        self
    }

    /// A ZAP domain (`ZMQ_ZAP_DOMAIN`), so that a running authenticator
    /// ([`auth`](crate::auth)) is consulted for this socket's peers, NULL
    /// mechanism included (allow/deny by address).
    pub fn zap_domain(mut self, domain: impl Into<String>) -> Hardening {
        self.zap_domain = Some(domain.into());
        self
    }
}

impl Socket {
    /// Applies a [`Hardening`] preset for untrusted peers:
    /// `MAXMSGSIZE`, `HANDSHAKE_IVL`, `HEARTBEAT_*`, `ROUTER_MANDATORY` on a
    /// ROUTER, and a ZAP domain if one is given. Call it before
    /// `bind`/`connect`. Stops at the first option libzmq refuses, with its
    /// error.
    pub fn harden(&self, hardening: &Hardening) -> Result<()> {
        if let Some(bytes) = hardening.max_msg_size {
            self.set_maxmsgsize(bytes)?;
        }
        if let Some(ivl) = hardening.handshake_ivl {
            self.set_handshake_ivl(Some(ivl))?;
        }
        if let Some(ivl) = hardening.heartbeat_ivl {
            self.set_heartbeat_ivl(Some(ivl))?;
        }
        if let Some(timeout) = hardening.heartbeat_timeout {
            self.set_heartbeat_timeout(Some(timeout))?;
        }
        if let Some(ttl) = hardening.heartbeat_ttl {
            self.set_heartbeat_ttl(Some(ttl))?;
        }
        if hardening.router_mandatory && self.socket_type()? == SocketType::Router {
            self.set_router_mandatory(true)?;
        }
        if let Some(domain) = &hardening.zap_domain {
            self.set_zap_domain(domain)?;
        }
        Ok(())
    }
}
