//! SSH tunnels for reaching a socket behind an SSH server (pyzmq's
//! `zmq.ssh.tunnel`).
//!
//! A tunnel forwards a local port on 127.0.0.1 to `host:port` *as seen from
//! the SSH server*, so a socket connects to the local end instead of the
//! unreachable remote one:
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::Duration;
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let req = ctx.socket(SocketType::Req)?;
//!     // The REP socket listens on 10.0.1.2:5555, which only `gateway` reaches.
//!     let tunnel = zmqx::ssh::tunnel_connection(
//!         &req,
//!         "tcp://10.0.1.2:5555",
//!         "alice@gateway:2222",
//!         Some(Path::new("/home/alice/.ssh/id_ed25519")),
//!         None,
//!         Duration::from_secs(10),
//!     )?;
//!     println!("connected through {}", tunnel.local_url());
//!     // ... use `req`; dropping `tunnel` closes it.
//!     Ok(())
//! }
//! ```
//!
//! # Backends
//!
//! As pyzmq has pexpect (the `ssh` command) and paramiko, zmqx has two:
//!
//! - [`Backend::OpenSsh`] runs the system `ssh` client with `-N -L`, so your
//!   `~/.ssh/config`, agent, keys and known hosts are used as usual. It runs in
//!   `BatchMode`, so it never waits on a prompt: passwords are not supported
//!   (use keys or an agent, or the library backend).
//! - `Backend::Russh` (cargo feature `russh`, off by default) speaks SSH in
//!   process with the pure-Rust [russh](https://docs.rs/russh) crate: password
//!   and key authentication, and no `ssh` binary needed. It forwards each
//!   accepted local connection over a `direct-tcpip` channel from a background
//!   thread.
//!
//! [`Backend::Auto`] (the default) picks the library backend when it is built
//! in and a password is given or no `ssh` binary is found, and OpenSSH
//! otherwise.
//!
//! # Host keys
//!
//! Both backends check the server's host key against `~/.ssh/known_hosts` (or
//! the file given with [`SshOptions::known_hosts`]) and, by default, accept
//! and record a host seen for the first time, as OpenSSH's
//! `StrictHostKeyChecking=accept-new` does. A *changed* key is always refused
//! with [`SshErrorKind::HostKey`]. See [`HostKeyPolicy`].
//!
//! # Failures
//!
//! Every failure is an [`Error::Ssh`] with an
//! [`SshErrorKind`] (authentication, unreachable server, missing `ssh`
//! binary, timeout, host key…) and the client's own message, and it comes
//! within the timeout given.
//!
//! # Lifetime
//!
//! A [`Tunnel`] lives as long as its handle: dropping it (or
//! [`Tunnel::close`]) kills the `ssh` process and reaps it, or stops the
//! library backend's thread. On Linux the `ssh` process also gets
//! `PR_SET_PDEATHSIG`, so it dies with the owning process even when that
//! process is killed or aborts.
//!
//! # Differences from pyzmq
//!
//! - pyzmq's `timeout` keeps an idle tunnel open for that long, then lets it
//!   close by itself. In zmqx the tunnel lives exactly as long as its handle,
//!   and `timeout` bounds how long opening it may take.
//! - pyzmq prompts on the terminal for a missing password; zmqx never
//!   prompts.
//! - [`select_random_ports`] returns a `Result` and binds 127.0.0.1 only.

use std::ffi::OsString;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, Result, Socket};

#[cfg(feature = "russh")]
mod library;
mod openssh;

/// pyzmq's default timeout for opening a tunnel (60 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong with an SSH tunnel (the kind of an
/// [`Error::Ssh`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SshErrorKind {
    /// The server refused every credential offered (pyzmq: a password
    /// prompt, or paramiko's `AuthenticationException`).
    Auth,
    /// The SSH server could not be reached: connection refused, no route,
    /// unknown host name.
    Unreachable,
    /// The `ssh` program was not found (or is not executable).
    MissingBinary,
    /// The tunnel was not up within the timeout.
    Timeout,
    /// The server's host key is unknown (with [`HostKeyPolicy::Strict`]) or
    /// differs from the one recorded.
    HostKey,
    /// The SSH session failed for another reason (protocol error, the server
    /// closed the connection, the local forward could not be set up…).
    Protocol,
    /// A local I/O error (spawning, binding the local port…).
    Io,
    /// What was asked is not available with this backend or build (a
    /// password with the OpenSSH backend, the library backend without its
    /// cargo feature).
    Unsupported,
}

impl fmt::Display for SshErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SshErrorKind::Auth => "authentication failed",
            SshErrorKind::Unreachable => "server unreachable",
            SshErrorKind::MissingBinary => "ssh client not found",
            SshErrorKind::Timeout => "timed out",
            SshErrorKind::HostKey => "host key not trusted",
            SshErrorKind::Protocol => "session failed",
            SshErrorKind::Io => "I/O error",
            SshErrorKind::Unsupported => "not supported",
        })
    }
}

/// Builds an [`Error::Ssh`].
pub(crate) fn ssh_error(kind: SshErrorKind, message: impl Into<String>) -> Error {
    Error::Ssh {
        kind,
        message: message.into(),
    }
}

/// Which SSH implementation opens the tunnel (pyzmq's `paramiko=` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backend {
    /// The library backend when it is built in and a password is given or no
    /// `ssh` binary is found; the system `ssh` otherwise (pyzmq's
    /// `paramiko=None`).
    #[default]
    Auto,
    /// The system OpenSSH client (`ssh -N -L …`, pyzmq's pexpect tunnel).
    OpenSsh,
    /// The in-process pure-Rust client (pyzmq's paramiko tunnel). Needs the
    /// `russh` cargo feature.
    #[cfg(feature = "russh")]
    Russh,
}

/// How the server's host key is checked against the known-hosts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HostKeyPolicy {
    /// A host not in the file is accepted and recorded; a changed key is
    /// refused (OpenSSH's `StrictHostKeyChecking=accept-new`).
    #[default]
    AcceptNew,
    /// Only hosts already in the file are accepted
    /// (`StrictHostKeyChecking=yes`).
    Strict,
    /// Any key is accepted and nothing is recorded
    /// (`StrictHostKeyChecking=no` with `UserKnownHostsFile=/dev/null`).
    /// Open to man-in-the-middle attacks: for tests and closed networks only.
    AcceptAny,
}

/// An SSH server as `[user@]host[:port]` (pyzmq's `server` argument).
///
/// `host` may be a name, an IPv4 address or an IPv6 address in brackets
/// (`[::1]:2222`; a bare IPv6 address without port is accepted too). Without
/// a user, OpenSSH takes the one from `~/.ssh/config`, and the library
/// backend the local user name; without a port, OpenSSH's configuration or
/// 22 applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshServer {
    /// The login name, if given.
    pub user: Option<String>,
    /// The host name or address (IPv6 without brackets).
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
}

impl SshServer {
    /// Parses `[user@]host[:port]`.
    pub fn parse(server: &str) -> Result<SshServer> {
        let bad = |reason: &str| Error::invalid("ssh server", format!("{server:?}: {reason}"));
        let (user, rest) = match server.rsplit_once('@') {
            Some((user, rest)) => {
                if user.is_empty() {
                    return Err(bad("empty user name before '@'"));
                }
                (Some(user.to_string()), rest)
            }
            None => (None, server),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("'[' without a closing ']'"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(bad("expected ':port' after ']'")),
                },
            }
        } else {
            match rest.matches(':').count() {
                0 => (rest, None),
                // A bare IPv6 address: no port can be told apart.
                n if n > 1 => (rest, None),
                _ => {
                    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
                    (host, Some(port))
                }
            }
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        // A leading '-' would be read as an option by ssh; whitespace and
        // control characters have no place in a host or user name.
        let suspicious =
            |s: &str| s.starts_with('-') || s.chars().any(|c| c.is_whitespace() || c.is_control());
        if suspicious(host) {
            return Err(bad("the host starts with '-' or contains whitespace"));
        }
        if user.as_deref().is_some_and(suspicious) {
            return Err(bad("the user starts with '-' or contains whitespace"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port must be a number in 1..=65535")),
                Ok(p) => Some(p),
            },
        };
        Ok(SshServer {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// The port to connect to: the one given, or 22.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(22)
    }
}

impl FromStr for SshServer {
    type Err = Error;

    fn from_str(s: &str) -> Result<SshServer> {
        SshServer::parse(s)
    }
}

impl fmt::Display for SshServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(port)) => write!(f, "[{}]:{port}", self.host),
            (false, Some(port)) => write!(f, "{}:{port}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// The remote end of a tunnel: `tcp://host:port`, as seen from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Host name or address, IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

impl Target {
    pub(crate) fn parse(addr: &str) -> Result<Target> {
        let bad = |reason: &str| Error::invalid("tunnel address", format!("{addr:?}: {reason}"));
        let rest = addr
            .strip_prefix("tcp://")
            .ok_or_else(|| bad("only tcp:// endpoints can be tunneled"))?;
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("'[' without a closing ']'"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("expected ':port' after ']'"))?;
            (host, port)
        } else {
            rest.rsplit_once(':').ok_or_else(|| bad("no port"))?
        };
        // libzmq's "source;destination" form has no meaning through a tunnel.
        if host.is_empty() || host == "*" || host.contains(';') {
            return Err(bad("the host must be a name or address"));
        }
        if host.starts_with('-') || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the host starts with '-' or contains whitespace"));
        }
        let port = match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err(bad("the port must be a number in 1..=65535")),
            Ok(p) => p,
        };
        Ok(Target {
            host: host.to_string(),
            port,
        })
    }

    /// The host as OpenSSH's `-L` wants it: IPv6 in brackets.
    pub(crate) fn host_for_forward(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

/// Everything about how to open a tunnel; the functions of this module are
/// shortcuts for `SshOptions::new()` with a key file, a password and a
/// timeout.
///
/// ```no_run
/// use std::time::Duration;
/// use zmqx::ssh::{Backend, HostKeyPolicy, SshOptions};
///
/// # fn main() -> zmqx::Result<()> {
/// let tunnel = SshOptions::new()
///     .backend(Backend::OpenSsh)
///     .keyfile("/home/alice/.ssh/id_ed25519")
///     .known_hosts("/home/alice/.ssh/known_hosts")
///     .host_key_policy(HostKeyPolicy::Strict)
///     .timeout(Duration::from_secs(5))
///     .open_tunnel("tcp://10.0.1.2:5555", "alice@gateway")?;
/// println!("{}", tunnel.local_url());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SshOptions {
    pub(crate) backend: Backend,
    pub(crate) keyfile: Option<PathBuf>,
    pub(crate) password: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) ssh_program: PathBuf,
    pub(crate) known_hosts: Option<PathBuf>,
    pub(crate) host_key_policy: HostKeyPolicy,
    pub(crate) ssh_options: Vec<OsString>,
    pub(crate) local_port: Option<u16>,
}

impl fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshOptions")
            .field("backend", &self.backend)
            .field("keyfile", &self.keyfile)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .field("ssh_program", &self.ssh_program)
            .field("known_hosts", &self.known_hosts)
            .field("host_key_policy", &self.host_key_policy)
            .field("ssh_options", &self.ssh_options)
            .field("local_port", &self.local_port)
            .finish()
    }
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions::new()
    }
}

impl SshOptions {
    /// Defaults: [`Backend::Auto`], no key file or password (the client's
    /// defaults apply), [`DEFAULT_TIMEOUT`], `ssh` from `PATH`,
    /// `~/.ssh/known_hosts` with [`HostKeyPolicy::AcceptNew`], a free local
    /// port.
    pub fn new() -> SshOptions {
        SshOptions {
            backend: Backend::Auto,
            keyfile: None,
            password: None,
            timeout: DEFAULT_TIMEOUT,
            ssh_program: PathBuf::from("ssh"),
            known_hosts: None,
            host_key_policy: HostKeyPolicy::AcceptNew,
            ssh_options: Vec::new(),
            local_port: None,
        }
    }

    /// The backend (pyzmq's `paramiko=`).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The private key to log in with (`ssh -i`, pyzmq's `keyfile`).
    pub fn keyfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.keyfile = Some(path.into());
        self
    }

    /// The password to log in with (pyzmq's `password`). The library backend
    /// also tries it as the key file's passphrase. The OpenSSH backend runs
    /// in `BatchMode` and refuses a password with
    /// [`SshErrorKind::Unsupported`]; [`Backend::Auto`] then picks the
    /// library backend when it is built in.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// How long opening the tunnel may take, connection and authentication
    /// included (pyzmq's `timeout`, but see the module docs).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `ssh` program for the OpenSSH backend (default: `ssh`, looked up
    /// in `PATH`).
    pub fn ssh_program(mut self, path: impl Into<PathBuf>) -> Self {
        self.ssh_program = path.into();
        self
    }

    /// The known-hosts file to check (and, with
    /// [`HostKeyPolicy::AcceptNew`], extend) instead of `~/.ssh/known_hosts`
    /// (OpenSSH's `UserKnownHostsFile`).
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> Self {
        self.known_hosts = Some(path.into());
        self
    }

    /// How the server's host key is checked.
    pub fn host_key_policy(mut self, policy: HostKeyPolicy) -> Self {
        self.host_key_policy = policy;
        self
    }

    /// An extra `-o` option for the OpenSSH backend, as `Name=value` (for
    /// example `"ProxyJump=bastion"`). Options given here come before zmqx's
    /// own, and OpenSSH keeps the first value it sees, so they win. The
    /// library backend ignores them.
    pub fn ssh_option(mut self, option: impl Into<OsString>) -> Self {
        self.ssh_options.push(option.into());
        self
    }

    /// The local port of the tunnel, instead of a free one picked at random.
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// Opens a tunnel from a free local port on 127.0.0.1 to `addr`
    /// (`tcp://host:port` as seen from `server`) through `server`
    /// (`[user@]host[:port]`). pyzmq: `open_tunnel`.
    pub fn open_tunnel(&self, addr: &str, server: &str) -> Result<Tunnel> {
        let target = Target::parse(addr)?;
        let server = SshServer::parse(server)?;
        match self.resolve_backend()? {
            Chosen::OpenSsh => {
                if self.password.is_some() {
                    return Err(ssh_error(
                        SshErrorKind::Unsupported,
                        "the OpenSSH backend runs in BatchMode and takes no password: use a key \
                         or an agent, or the library backend (cargo feature `russh`)",
                    ));
                }
                let port = match self.local_port {
                    Some(p) => p,
                    None => select_random_ports(1)?[0],
                };
                let process = openssh::open(self, &server, &target, port)?;
                Ok(Tunnel::new(port, Inner::OpenSsh(process)))
            }
            #[cfg(feature = "russh")]
            Chosen::Russh => {
                let listener =
                    TcpListener::bind((Ipv4Addr::LOCALHOST, self.local_port.unwrap_or(0)))
                        .map_err(|e| {
                            ssh_error(SshErrorKind::Io, format!("binding the local port: {e}"))
                        })?;
                let port = listener
                    .local_addr()
                    .map_err(|e| ssh_error(SshErrorKind::Io, e.to_string()))?
                    .port();
                let forwarder = library::open(self, &server, &target, listener)?;
                Ok(Tunnel::new(port, Inner::Russh(forwarder)))
            }
        }
    }

    /// Opens a tunnel to `addr` through `server` and connects `socket` to its
    /// local end. pyzmq: `tunnel_connection`. The returned [`Tunnel`] must
    /// be kept: dropping it closes the tunnel.
    pub fn tunnel_connection(&self, socket: &Socket, addr: &str, server: &str) -> Result<Tunnel> {
        let tunnel = self.open_tunnel(addr, server)?;
        socket.connect(tunnel.local_url())?;
        Ok(tunnel)
    }

    /// Whether `server` accepts a login without a password (keys or agent).
    /// pyzmq: `try_passwordless_ssh`. `Ok(false)` means the server refused
    /// the credentials; any other failure is an error.
    pub fn try_passwordless(&self, server: &str) -> Result<bool> {
        let server = SshServer::parse(server)?;
        let mut options = self.clone();
        options.password = None;
        match options.resolve_backend()? {
            Chosen::OpenSsh => openssh::try_passwordless(&options, &server),
            #[cfg(feature = "russh")]
            Chosen::Russh => library::try_passwordless(&options, &server),
        }
    }

    fn resolve_backend(&self) -> Result<Chosen> {
        match self.backend {
            Backend::OpenSsh => Ok(Chosen::OpenSsh),
            #[cfg(feature = "russh")]
            Backend::Russh => Ok(Chosen::Russh),
            Backend::Auto => {
                #[cfg(feature = "russh")]
                if self.password.is_some() || !openssh::program_exists(&self.ssh_program) {
                    return Ok(Chosen::Russh);
                }
                Ok(Chosen::OpenSsh)
            }
        }
    }
}

enum Chosen {
    OpenSsh,
    #[cfg(feature = "russh")]
    Russh,
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

/// Opens a tunnel from a free local port to `addr` (`tcp://host:port` as
/// seen from `server`) through `server` (`[user@]host[:port]`) and returns
/// the local url with the tunnel. pyzmq: `zmq.ssh.tunnel.open_tunnel`.
///
/// `keyfile` is the private key (`ssh -i`); `password` needs the library
/// backend (see [`SshOptions::password`]); `timeout` bounds the whole opening.
/// For more control, use [`SshOptions`].
pub fn open_tunnel(
    addr: &str,
    server: &str,
    keyfile: Option<&Path>,
    password: Option<&str>,
    timeout: Duration,
) -> Result<(String, Tunnel)> {
    let tunnel = simple_options(keyfile, password, timeout).open_tunnel(addr, server)?;
    Ok((tunnel.local_url().to_string(), tunnel))
}

/// Connects `socket` to `addr` through a new SSH tunnel via `server` and
/// returns the tunnel, which must be kept alive. pyzmq:
/// `zmq.ssh.tunnel.tunnel_connection`. Arguments as for [`open_tunnel`].
pub fn tunnel_connection(
    socket: &Socket,
    addr: &str,
    server: &str,
    keyfile: Option<&Path>,
    password: Option<&str>,
    timeout: Duration,
) -> Result<Tunnel> {
    simple_options(keyfile, password, timeout).tunnel_connection(socket, addr, server)
}

/// Whether `server` accepts a login with `keyfile` (or the client's default
/// keys and agent) and no password, within [`DEFAULT_TIMEOUT`]. pyzmq:
/// `zmq.ssh.tunnel.try_passwordless_ssh`. `Ok(false)` means the server
/// refused; an unreachable server or a missing client is an error.
pub fn try_passwordless_ssh(
    server: &str,
    keyfile: Option<&Path>,
    backend: Backend,
) -> Result<bool> {
    let mut options = SshOptions::new().backend(backend);
    options.keyfile = keyfile.map(Path::to_path_buf);
    options.try_passwordless(server)
}

fn simple_options(keyfile: Option<&Path>, password: Option<&str>, timeout: Duration) -> SshOptions {
    let mut options = SshOptions::new().timeout(timeout);
    options.keyfile = keyfile.map(Path::to_path_buf);
    options.password = password.map(str::to_string);
    options
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
        .map_err(|e| ssh_error(SshErrorKind::Io, format!("selecting free ports: {e}")))?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| ssh_error(SshErrorKind::Io, format!("selecting free ports: {e}")))
        })
        .collect()
}

/// The local user name, for the library backend when the server string has
/// none (`$USER`, `$LOGNAME`, then the password database).
#[cfg(feature = "russh")]
pub(crate) fn local_user() -> Option<String> {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return Some(v);
            }
        }
    }
    openssh::user_from_passwd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_servers() -> Result<()> {
        let s = SshServer::parse("alice@gateway:2222")?;
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.host, "gateway");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.to_string(), "alice@gateway:2222");

        let s = SshServer::parse("gateway")?;
        assert_eq!((s.user, s.host.as_str(), s.port), (None, "gateway", None));

        let s = SshServer::parse("bob@10.0.0.1")?;
        assert_eq!(
            (s.user.as_deref(), s.host.as_str(), s.port),
            (Some("bob"), "10.0.0.1", None)
        );

        let s = SshServer::parse("[::1]:22")?;
        assert_eq!((s.host.as_str(), s.port), ("::1", Some(22)));
        assert_eq!(s.to_string(), "[::1]:22");

        let s = SshServer::parse("carol@fe80::1")?;
        assert_eq!((s.host.as_str(), s.port), ("fe80::1", None));
        assert_eq!(s.port_or_default(), 22);
        Ok(())
    }

    #[test]
    fn rejects_bad_servers() {
        for bad in [
            "",
            "@host",
            "user@",
            "host:",
            "host:0",
            "host:65536",
            "host:ssh",
            "[::1",
            "[::1]2222",
            "-oProxyCommand=evil",
            "-l@host",
            "user@-host",
            "us er@host",
            "host name",
        ] {
            let err = SshServer::parse(bad).expect_err(bad);
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn parses_targets() -> Result<()> {
        let t = Target::parse("tcp://10.0.1.2:5555")?;
        assert_eq!((t.host.as_str(), t.port), ("10.0.1.2", 5555));
        assert_eq!(t.host_for_forward(), "10.0.1.2");
        let t = Target::parse("tcp://[::1]:5555")?;
        assert_eq!((t.host.as_str(), t.port), ("::1", 5555));
        assert_eq!(t.host_for_forward(), "[::1]");
        for bad in [
            "ipc:///tmp/x",
            "tcp://host",
            "tcp://*:5555",
            "tcp://:5555",
            "tcp://host:*",
            "tcp://host:0",
            "tcp://a;b:5555",
            "tcp://-x:5555",
            "tcp://[::1:5555",
        ] {
            let err = Target::parse(bad).expect_err(bad);
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        }
        Ok(())
    }

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
                .map_err(|e| ssh_error(SshErrorKind::Io, e.to_string()))?;
        }
        assert!(select_random_ports(0)?.is_empty());
        Ok(())
    }

    #[test]
    fn password_with_openssh_is_unsupported() {
        let err = SshOptions::new()
            .backend(Backend::OpenSsh)
            .password("secret")
            .open_tunnel("tcp://127.0.0.1:5555", "user@127.0.0.1:1")
            .expect_err("a password cannot go through BatchMode");
        assert!(
            matches!(
                err,
                Error::Ssh {
                    kind: SshErrorKind::Unsupported,
                    ..
                }
            ),
            "{err:?}"
        );
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
