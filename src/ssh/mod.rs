//! SSH tunnels for reaching a socket behind an SSH server (pyzmq's
//! `zmq.ssh.tunnel`).
//!
//! A tunnel forwards a local port on 127.0.0.1 to `host:port` *as seen from
//! the SSH server*, so a socket connects to the local end instead of the
//! unreachable remote one. The functions are pyzmq's, with its keyword
//! arguments gathered in [`SshOptions`]:
//!
//! | pyzmq (`zmq.ssh`) | zmqx (`zmqx::ssh`) |
//! |---|---|
//! | `tunnel_connection(socket, addr, server, keyfile=k, timeout=10)` | [`tunnel_connection`]`(&socket, addr, server, &SshOptions::new().keyfile(k).timeout(…))` |
//! | `url, tunnel = open_tunnel(addr, server)` | `let tunnel = `[`open_tunnel`]`(addr, server, &SshOptions::new())`, url: [`Tunnel::local_url`] |
//! | `try_passwordless_ssh(server, keyfile)` | [`try_passwordless_ssh`]`(server, &options)` |
//! | `select_random_ports(n)` | [`select_random_ports`]`(n)` |
//! | `paramiko=True` / `False` | [`SshOptions::backend`] |
//!
//! ```no_run
//! use zmqx::ssh::{self, SshOptions};
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> Result<(), ssh::Error> {
//!     let ctx = Context::new();
//!     let req = ctx.socket(SocketType::Req)?;
//!     // The REP socket listens on 10.0.1.2:5555, which only `gateway` reaches.
//!     let options = SshOptions::new().keyfile("/home/alice/.ssh/id_ed25519");
//!     let tunnel =
//!         ssh::tunnel_connection(&req, "tcp://10.0.1.2:5555", "alice@gateway:2222", &options)?;
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
//! # When a tunnel counts as open
//!
//! [`open_tunnel`] returns a tunnel only once the whole path is shown to
//! work: the client has logged in, the local port is the tunnel's own (not
//! another program's), and the server has opened one connection through it
//! to the target. That connection is closed at once; a ZeroMQ peer sees a
//! connection that comes and goes. So, unlike a plain `connect`, the target
//! must accept connections when the tunnel opens. Each failure has its
//! [`ErrorKind`]: [`LocalPortInUse`](ErrorKind::LocalPortInUse),
//! [`ForwardingDenied`](ErrorKind::ForwardingDenied) (the server's
//! `AllowTcpForwarding no`), [`TargetUnreachable`](ErrorKind::TargetUnreachable)
//! (a target that does not resolve or refuses, from the server), and the
//! login's own ([`Auth`](ErrorKind::Auth), [`HostKey`](ErrorKind::HostKey),
//! [`Unreachable`](ErrorKind::Unreachable), …).
//!
//! # Host keys
//!
//! Both backends check the server's host key against `~/.ssh/known_hosts` (or
//! the file given with [`SshOptions::known_hosts`]) and, by default, accept
//! and record a host seen for the first time, as OpenSSH's
//! `StrictHostKeyChecking=accept-new` does. A *changed* key is always refused
//! with [`ErrorKind::HostKey`]. See [`HostKeyPolicy`].
//!
//! # Failures
//!
//! Every failure is an [`Error`]: an [`Error::Tunnel`] with an [`ErrorKind`]
//! and the SSH client's own message, or an [`Error::Zmq`] from connecting
//! the socket. It comes within the timeout given. `Error` converts into
//! [`std::io::Error`].
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
//! - pyzmq hands out a tunnel without checking it; zmqx checks the path to
//!   the target first (see above).
//! - pyzmq prompts on the terminal for a missing password; zmqx never
//!   prompts.
//! - [`select_random_ports`] returns a `Result` and binds 127.0.0.1 only.

// Not `forbid(unsafe_code)`: it would reach `sys`, the one child with
// system calls. Every other file of the module forbids unsafe code itself.
#![deny(unsafe_code)]

mod address;
mod error;
#[cfg(feature = "russh")]
mod library;
mod openssh;
mod options;
#[allow(unsafe_code)]
mod sys;
mod tunnel;

pub use address::SshServer;
pub(crate) use address::Target;
pub use error::{Error, ErrorKind, Result};
pub use options::{Backend, DEFAULT_TIMEOUT, HostKeyPolicy, SshOptions};
pub use tunnel::{
    Tunnel, open_tunnel, select_random_ports, try_passwordless_ssh, tunnel_connection,
};

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
    sys::user_from_passwd()
}
