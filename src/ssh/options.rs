//! How to open a tunnel: [`SshOptions`] (pyzmq's keyword arguments) and the
//! choice of [`Backend`].

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(doc)]
use super::ErrorKind;

/// pyzmq's default timeout for opening a tunnel (60 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

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

/// Everything about how to open a tunnel but the server and the target:
/// pyzmq's keyword arguments (`keyfile`, `password`, `paramiko`, `timeout`)
/// and more. Pass it to [`open_tunnel`](super::open_tunnel),
/// [`tunnel_connection`](super::tunnel_connection) or
/// [`try_passwordless_ssh`](super::try_passwordless_ssh);
/// `SshOptions::new()` (or `default()`) means pyzmq's defaults.
///
/// ```no_run
/// use std::time::Duration;
/// use zmqx::ssh::{self, Backend, HostKeyPolicy, SshOptions};
///
/// # fn main() -> Result<(), ssh::Error> {
/// let options = SshOptions::new()
///     .backend(Backend::OpenSsh)
///     .keyfile("/home/alice/.ssh/id_ed25519")
///     .known_hosts("/home/alice/.ssh/known_hosts")
///     .host_key_policy(HostKeyPolicy::Strict)
///     .timeout(Duration::from_secs(5));
/// let tunnel = ssh::open_tunnel("tcp://10.0.1.2:5555", "alice@gateway", &options)?;
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
    /// [`ErrorKind::Unsupported`]; [`Backend::Auto`] then picks the
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
    /// own, and OpenSSH keeps the first value it sees, so they win, except
    /// `LogLevel`: zmqx reads the client's report of the forward and sets it
    /// first. The library backend ignores these options.
    pub fn ssh_option(mut self, option: impl Into<OsString>) -> Self {
        self.ssh_options.push(option.into());
        self
    }

    /// The local port of the tunnel, instead of a free one picked at random.
    /// If another program holds it, opening fails with
    /// [`ErrorKind::LocalPortInUse`].
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// The backend `Auto` stands for here.
    pub(super) fn resolve_backend(&self) -> Chosen {
        match self.backend {
            Backend::OpenSsh => Chosen::OpenSsh,
            #[cfg(feature = "russh")]
            Backend::Russh => Chosen::Russh,
            Backend::Auto => {
                #[cfg(feature = "russh")]
                if self.password.is_some() || !super::openssh::program_exists(&self.ssh_program) {
                    return Chosen::Russh;
                }
                Chosen::OpenSsh
            }
        }
    }
}

/// A backend that is not `Auto`.
pub(super) enum Chosen {
    OpenSsh,
    #[cfg(feature = "russh")]
    Russh,
}
