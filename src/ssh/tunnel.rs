//! Opening tunnels (pyzmq's `open_tunnel`, `tunnel_connection`,
//! `try_passwordless_ssh`, `select_random_ports`) and the [`Tunnel`] handle.

#![forbid(unsafe_code)]

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

#[cfg(feature = "russh")]
use super::library;
use super::options::Chosen;
use super::{Backend, Error, ErrorKind, Result, SshOptions, SshServer, Target, openssh};
use crate::Socket;

/// Opens a tunnel from a local port on 127.0.0.1 to `addr` (`tcp://host:port`
/// as seen from `server`) through `server` (`[user@]host[:port]`). pyzmq:
/// `zmq.ssh.tunnel.open_tunnel(addr, server, keyfile=None, password=None,
/// paramiko=None, timeout=60)`, with the keyword arguments in `options`.
///
/// pyzmq returns `(url, tunnel)`; here the url is
/// [`tunnel.local_url()`](Tunnel::local_url). The tunnel is returned only
/// once a connection through it has reached the target (see the [module
/// docs](super#when-a-tunnel-counts-as-open)); every failure is an
/// [`Error`] within the options' timeout.
///
/// ```no_run
/// use zmqx::ssh::{self, SshOptions};
///
/// # fn main() -> Result<(), ssh::Error> {
/// let options = SshOptions::new().keyfile("/home/alice/.ssh/id_ed25519");
/// let tunnel = ssh::open_tunnel("tcp://10.0.1.2:5555", "alice@gateway", &options)?;
/// println!("connect to {}", tunnel.local_url());
/// # Ok(())
/// # }
/// ```
pub fn open_tunnel(addr: &str, server: &str, options: &SshOptions) -> Result<Tunnel> {
    let target = Target::parse(addr)?;
    let server = SshServer::parse(server)?;
    match options.resolve_backend() {
        Chosen::OpenSsh => {
            if options.password.is_some() {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the OpenSSH backend runs in BatchMode and takes no password: use a key \
                     or an agent, or the library backend (cargo feature `russh`)",
                ));
            }
            let (process, port) = openssh::open(options, &server, &target, options.local_port)?;
            Ok(Tunnel::new(port, Inner::OpenSsh(process)))
        }
        #[cfg(feature = "russh")]
        Chosen::Russh => {
            let port = options.local_port.unwrap_or(0);
            let listener =
                TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| bind_error(port, e))?;
            let port = listener
                .local_addr()
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?
                .port();
            let forwarder = library::open(options, &server, &target, listener)?;
            Ok(Tunnel::new(port, Inner::Russh(forwarder)))
        }
    }
}

/// Connects `socket` to `addr` through a new SSH tunnel via `server`, and
/// returns the tunnel, which must be kept: dropping it closes the tunnel.
/// pyzmq: `zmq.ssh.tunnel_connection(socket, addr, server, keyfile=None,
/// password=None, paramiko=None, timeout=60)`, with the keyword arguments in
/// `options`. Opening is as for [`open_tunnel`]; a failing
/// [`Socket::connect`] is an [`Error::Zmq`].
///
/// ```no_run
/// use std::time::Duration;
/// use zmqx::ssh::{self, SshOptions};
/// use zmqx::{Context, SocketType};
///
/// # fn main() -> Result<(), ssh::Error> {
/// let ctx = Context::new();
/// let req = ctx.socket(SocketType::Req)?;
/// // pyzmq: ssh.tunnel_connection(req, "tcp://10.0.1.2:5555", "alice@gateway", timeout=10)
/// let _tunnel = ssh::tunnel_connection(
///     &req,
///     "tcp://10.0.1.2:5555",
///     "alice@gateway",
///     &SshOptions::new().timeout(Duration::from_secs(10)),
/// )?;
/// # Ok(())
/// # }
/// ```
pub fn tunnel_connection(
    socket: &Socket,
    addr: &str,
    server: &str,
    options: &SshOptions,
) -> Result<Tunnel> {
    let tunnel = open_tunnel(addr, server, options)?;
    socket.connect(tunnel.local_url())?;
    Ok(tunnel)
}

/// Whether `server` accepts a login without a password (the options' key
/// file, or the client's default keys and agent), within the options'
/// timeout. pyzmq: `zmq.ssh.tunnel.try_passwordless_ssh(server, keyfile,
/// paramiko=None)`. A password in `options` is ignored. `Ok(false)` means
/// the server refused the credentials; an unreachable server or a missing
/// client is an error.
pub fn try_passwordless_ssh(server: &str, options: &SshOptions) -> Result<bool> {
    let server = SshServer::parse(server)?;
    let mut options = options.clone();
    options.password = None;
    match options.resolve_backend() {
        Chosen::OpenSsh => openssh::try_passwordless(&options, &server),
        #[cfg(feature = "russh")]
        Chosen::Russh => library::try_passwordless(&options, &server),
    }
}

/// The error for a local port that cannot be bound.
#[cfg(feature = "russh")]
fn bind_error(port: u16, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::AddrInUse => ErrorKind::LocalPortInUse,
        _ => ErrorKind::Io,
    };
    Error::new(
        kind,
        format!("binding the local port 127.0.0.1:{port}: {e}"),
    )
}

/// `n` distinct free TCP ports on 127.0.0.1. pyzmq:
/// `zmq.ssh.tunnel.select_random_ports`.
///
/// All `n` listeners are held until every port is chosen, so the ports are
/// distinct, then released. Another process may take one before you use it.
pub fn select_random_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::new(ErrorKind::Io, format!("selecting free ports: {e}")))?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| Error::new(ErrorKind::Io, format!("selecting free ports: {e}")))
        })
        .collect()
}

enum Inner {
    OpenSsh(openssh::SshProcess),
    #[cfg(feature = "russh")]
    Russh(library::Forwarder),
}

/// An open SSH tunnel (pyzmq's tunnel object: a pexpect process id or a
/// paramiko `Process`). It forwards `127.0.0.1:`[`local_port`](Self::local_port)
/// through the server until it is dropped or [closed](Self::close).
pub struct Tunnel {
    local_url: String,
    local_port: u16,
    inner: Inner,
}

impl fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tunnel")
            .field("local_url", &self.local_url)
            .field("backend", &self.backend())
            .field("pid", &self.pid())
            .finish()
    }
}

impl Tunnel {
    fn new(local_port: u16, inner: Inner) -> Tunnel {
        Tunnel {
            local_url: format!("tcp://127.0.0.1:{local_port}"),
            local_port,
            inner,
        }
    }

    /// The endpoint to connect to, `tcp://127.0.0.1:<port>` (the url
    /// pyzmq's `open_tunnel` returns).
    pub fn local_url(&self) -> &str {
        &self.local_url
    }

    /// The local port of the tunnel.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The local address of the tunnel, `127.0.0.1:<port>`.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.local_port))
    }

    /// The backend that opened this tunnel ([`Backend::OpenSsh`] or
    /// `Backend::Russh`, never [`Backend::Auto`]).
    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::OpenSsh(_) => Backend::OpenSsh,
            #[cfg(feature = "russh")]
            Inner::Russh(_) => Backend::Russh,
        }
    }

    /// The process id of the `ssh` client (OpenSSH backend), `None` for the
    /// library backend.
    pub fn pid(&self) -> Option<u32> {
        match &self.inner {
            Inner::OpenSsh(p) => Some(p.pid()),
            #[cfg(feature = "russh")]
            Inner::Russh(_) => None,
        }
    }

    /// Whether the tunnel still runs: the `ssh` process has not exited, or
    /// the library backend's session is open.
    pub fn is_alive(&mut self) -> bool {
        match &mut self.inner {
            Inner::OpenSsh(p) => p.is_alive(),
            #[cfg(feature = "russh")]
            Inner::Russh(f) => f.is_alive(),
        }
    }

    /// Closes the tunnel and waits until it is gone (the `ssh` process is
    /// killed and reaped; the library backend's thread has ended). Dropping
    /// the tunnel does the same; `close` reports a failure to do it.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::OpenSsh(p) => p.shutdown(),
            #[cfg(feature = "russh")]
            Inner::Russh(f) => f.shutdown(),
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ports_are_distinct_and_free() -> Result<()> {
        let ports = select_random_ports(8)?;
        assert_eq!(ports.len(), 8);
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 8);
        for port in ports {
            assert_ne!(port, 0);
            // Released: each can be bound again.
            TcpListener::bind((Ipv4Addr::LOCALHOST, port))
                .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        }
        assert!(select_random_ports(0)?.is_empty());
        Ok(())
    }

    #[test]
    fn password_with_openssh_is_unsupported() {
        let options = SshOptions::new()
            .backend(Backend::OpenSsh)
            .password("secret");
        let err = open_tunnel("tcp://127.0.0.1:5555", "user@127.0.0.1:1", &options)
            .expect_err("a password cannot go through BatchMode");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err:?}");
    }

    #[test]
    fn tunnel_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Tunnel>();
        check::<SshOptions>();
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", SshOptions::new().password("hunter2"));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
