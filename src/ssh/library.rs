//! The library backend: an in-process SSH client ([russh], pure Rust), behind
//! the `russh` cargo feature.
//!
//! Each tunnel owns one thread running a single-threaded tokio runtime. The
//! thread logs in, then accepts connections on the local listener and
//! forwards each over a `direct-tcpip` channel of the one SSH session.
//! Dropping the [`Forwarder`] stops the accept loop, disconnects the session,
//! drops the runtime (which cancels every forwarding task) and joins the
//! thread: nothing is left running.
//!
//! Before the tunnel is handed out, the thread opens one `direct-tcpip`
//! channel to the target and closes it: that proves the server forwards
//! (OpenSSH's `AllowTcpForwarding no` refuses it as "administratively
//! prohibited") and reaches the target (it resolves and accepts there).
//!
//! [russh]: https://docs.rs/russh

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use russh::ChannelOpenFailure;
use russh::client::{self, AuthResult, Handle};
use russh::keys::{self, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::{Error, ErrorKind, HostKeyPolicy, Result, SshOptions, SshServer, Target, local_user};

/// How long a closing tunnel waits for its session to say goodbye.
const DISCONNECT_GRACE: Duration = Duration::from_millis(500);
/// How much longer than the timeout the opener waits for the tunnel thread,
/// which enforces the timeout itself.
const REPORT_GRACE: Duration = Duration::from_secs(2);

/// A running library tunnel: its thread and the way to stop it.
pub(super) struct Forwarder {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    alive: Arc<AtomicBool>,
}

impl Forwarder {
    pub(super) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    pub(super) fn shutdown(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .map_err(|_| Error::new(ErrorKind::Io, "the ssh tunnel thread panicked"))?;
        }
        Ok(())
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// What the opener needs to log in, owned so it can move to the thread.
struct Login {
    server: SshServer,
    user: String,
    keyfile: Option<PathBuf>,
    password: Option<String>,
    known_hosts: Option<PathBuf>,
    policy: HostKeyPolicy,
    timeout: Duration,
}

impl Login {
    fn new(options: &SshOptions, server: &SshServer) -> Result<Login> {
        let user = match &server.user {
            Some(u) => u.clone(),
            None => local_user().ok_or_else(|| {
                Error::new(
                    ErrorKind::Auth,
                    format!("no user name for {server}: give one as user@host"),
                )
            })?,
        };
        Ok(Login {
            server: server.clone(),
            user,
            keyfile: options.keyfile.clone(),
            password: options.password.clone(),
            known_hosts: options.known_hosts.clone(),
            policy: options.host_key_policy,
            timeout: options.timeout,
        })
    }
}

/// Opens the session and starts forwarding `listener` to `target`.
pub(super) fn open(
    options: &SshOptions,
    server: &SshServer,
    target: &Target,
    listener: TcpListener,
) -> Result<Forwarder> {
    let login = Login::new(options, server)?;
    let target = target.clone();
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::new(ErrorKind::Io, format!("local listener: {e}")))?;
    let (ready_tx, ready_rx) = sync_channel::<Result<()>>(1);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let alive = Arc::new(AtomicBool::new(false));
    let alive_in_thread = Arc::clone(&alive);
    let timeout = login.timeout;
    let thread = std::thread::Builder::new()
        .name("zmqx-ssh-tunnel".into())
        .spawn(move || {
            let runtime = match runtime() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let deadline = tokio::time::Instant::now() + login.timeout;
                let session = match login_before(&login, deadline).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                if let Err(e) = check_forwarding(&session, &login, &target, deadline).await {
                    disconnect(&session).await;
                    let _ = ready_tx.send(Err(e));
                    return;
                }
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::new(
                            ErrorKind::Io,
                            format!("local listener: {e}"),
                        )));
                        return;
                    }
                };
                alive_in_thread.store(true, Ordering::Release);
                let _ = ready_tx.send(Ok(()));
                serve(session, listener, target, stop_rx).await;
                alive_in_thread.store(false, Ordering::Release);
            });
            // Dropping the runtime here cancels every forwarding task.
            runtime.shutdown_timeout(DISCONNECT_GRACE);
        })
        .map_err(|e| Error::new(ErrorKind::Io, format!("starting the tunnel thread: {e}")))?;
    let mut forwarder = Forwarder {
        stop: Some(stop_tx),
        thread: Some(thread),
        alive,
    };
    match ready_rx.recv_timeout(timeout + REPORT_GRACE) {
        Ok(Ok(())) => Ok(forwarder),
        Ok(Err(e)) => {
            let _ = forwarder.shutdown();
            Err(e)
        }
        Err(RecvTimeoutError::Disconnected) => {
            let _ = forwarder.shutdown();
            Err(Error::new(
                ErrorKind::Io,
                "the ssh tunnel thread ended without a word",
            ))
        }
        Err(RecvTimeoutError::Timeout) => {
            // The thread bounds its own work by the timeout; do not wait on
            // it further, it ends by itself once it sees the stop signal.
            if let Some(stop) = forwarder.stop.take() {
                let _ = stop.send(());
            }
            forwarder.thread = None;
            Err(Error::new(
                ErrorKind::Timeout,
                format!("the tunnel through {server} was not up within {timeout:?}"),
            ))
        }
    }
}

/// Whether the server accepts a login without a password.
pub(super) fn try_passwordless(options: &SshOptions, server: &SshServer) -> Result<bool> {
    let login = Login::new(options, server)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + login.timeout;
        match login_before(&login, deadline).await {
            Ok(session) => {
                disconnect(&session).await;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::Auth => Ok(false),
            Err(e) => Err(e),
        }
    });
    runtime.shutdown_timeout(DISCONNECT_GRACE);
    result
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::new(ErrorKind::Io, format!("starting the tunnel runtime: {e}")))
}

/// Accepts local connections and forwards each one until told to stop or
/// the session ends.
async fn serve(
    session: Handle<Client>,
    listener: tokio::net::TcpListener,
    target: Target,
    mut stop: oneshot::Receiver<()>,
) {
    let session = Arc::new(session);
    let mut tasks = tokio::task::JoinSet::new();
    let mut watchdog = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = watchdog.tick() => {
                if session.is_closed() {
                    break;
                }
                // Reap finished forwarding tasks.
                while tasks.try_join_next().is_some() {}
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let session = Arc::clone(&session);
                    let target = target.clone();
                    tasks.spawn(async move {
                        let _ = forward(&session, stream, peer, &target).await;
                    });
                }
                // Out of file descriptors and the like: give it a moment.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    // Stop accepting first, so a client sees the tunnel gone at once.
    drop(listener);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    disconnect(&session).await;
}

async fn forward(
    session: &Handle<Client>,
    mut stream: TcpStream,
    peer: std::net::SocketAddr,
    target: &Target,
) -> std::result::Result<(), russh::Error> {
    let _ = stream.set_nodelay(true);
    let channel = session
        .channel_open_direct_tcpip(
            target.host.clone(),
            u32::from(target.port),
            peer.ip().to_string(),
            u32::from(peer.port()),
        )
        .await?;
    let mut remote = channel.into_stream();
    let _ = tokio::io::copy_bidirectional(&mut stream, &mut remote).await;
    Ok(())
}

async fn disconnect(session: &Handle<Client>) {
    let _ = tokio::time::timeout(
        DISCONNECT_GRACE,
        session.disconnect(russh::Disconnect::ByApplication, "tunnel closed", "en"),
    )
    .await;
}

/// Logs in, or fails with [`ErrorKind::Timeout`] at `deadline`.
async fn login_before(login: &Login, deadline: tokio::time::Instant) -> Result<Handle<Client>> {
    match tokio::time::timeout_at(deadline, login_to(login)).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "logging in to {} took longer than {:?}",
                login.server, login.timeout
            ),
        )),
    }
}

/// Opens one `direct-tcpip` channel to the target and closes it: proves
/// that the server forwards and reaches the target before the tunnel is
/// handed out.
async fn check_forwarding(
    session: &Handle<Client>,
    login: &Login,
    target: &Target,
    deadline: tokio::time::Instant,
) -> Result<()> {
    let server = &login.server;
    let open = session.channel_open_direct_tcpip(
        target.host.clone(),
        u32::from(target.port),
        "127.0.0.1",
        0,
    );
    match tokio::time::timeout_at(deadline, open).await {
        Ok(Ok(channel)) => {
            let _ = tokio::time::timeout(DISCONNECT_GRACE, channel.close()).await;
            Ok(())
        }
        Ok(Err(russh::Error::ChannelOpenFailure(reason))) => {
            Err(channel_failure(&reason, server, target))
        }
        Ok(Err(e)) => Err(session_error(
            server,
            &format!("opening a channel to {}", target.display()),
            e,
        )),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "logged in to {server}, but it did not reach {} within {:?}",
                target.display(),
                login.timeout
            ),
        )),
    }
}

/// The server refused to open a channel to the target.
fn channel_failure(reason: &ChannelOpenFailure, server: &SshServer, target: &Target) -> Error {
    let target = target.display();
    match reason {
        ChannelOpenFailure::AdministrativelyProhibited => Error::new(
            ErrorKind::ForwardingDenied,
            format!(
                "{server} refuses to forward to {target} (its sshd_config may say \
                 AllowTcpForwarding no, or PermitOpen): administratively prohibited"
            ),
        ),
        ChannelOpenFailure::ConnectFailed => Error::new(
            ErrorKind::TargetUnreachable,
            format!(
                "{server} could not connect to {target} (the name does not resolve there, \
                 nothing listens, or no route leads to it)"
            ),
        ),
        other => Error::new(
            ErrorKind::Protocol,
            format!("{server} could not open a channel to {target}: {other:?}"),
        ),
    }
}

/// Connects, checks the host key and authenticates: the key file (or the
/// default keys) first, then the password.
async fn login_to(login: &Login) -> Result<Handle<Client>> {
    let server = &login.server;
    let port = server.port_or_default();
    let stream = TcpStream::connect((server.host.as_str(), port))
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Unreachable,
                format!("connecting to {server}: {e}"),
            )
        })?;
    let _ = stream.set_nodelay(true);
    let config = Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 3,
        ..Default::default()
    });
    let host_key_problem = Arc::new(Mutex::new(None));
    let handler = Client {
        host: server.host.clone(),
        port,
        policy: login.policy,
        known_hosts: login.known_hosts.clone(),
        problem: Arc::clone(&host_key_problem),
    };
    let mut session = match client::connect_stream(config, stream, handler).await {
        Ok(s) => s,
        Err(e) => {
            let problem = host_key_problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            return Err(match problem {
                Some(message) => Error::new(ErrorKind::HostKey, format!("{server}: {message}")),
                None => session_error(server, "the SSH handshake", e),
            });
        }
    };

    let mut tried = Vec::new();
    for key in keys_to_try(login) {
        let name = key.path.display().to_string();
        let loaded = match key.load(login.password.as_deref()) {
            Ok(k) => k,
            // An explicit key file that cannot be read is the caller's error;
            // a default key that does not load is skipped.
            Err(e) if key.explicit => {
                return Err(Error::new(
                    ErrorKind::Auth,
                    format!("cannot use the key file {name}: {e}"),
                ));
            }
            Err(_) => continue,
        };
        let hash = if loaded.algorithm().is_rsa() {
            rsa_hash(&session).await?
        } else {
            None
        };
        let result = session
            .authenticate_publickey(
                login.user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(loaded), hash),
            )
            .await
            .map_err(|e| session_error(server, "public key authentication", e))?;
        if result.success() {
            return Ok(session);
        }
        tried.push(format!("key {name}"));
    }
    if let Some(password) = &login.password {
        let result = session
            .authenticate_password(login.user.clone(), password.clone())
            .await
            .map_err(|e| session_error(server, "password authentication", e))?;
        if result.success() {
            return Ok(session);
        }
        if let AuthResult::Failure {
            partial_success: true,
            ..
        } = result
        {
            tried.push("password (accepted, but the server wants more)".into());
        } else {
            tried.push("password".into());
        }
    }
    disconnect(&session).await;
    let tried = if tried.is_empty() {
        "no key file or password to offer".to_string()
    } else {
        format!("tried {}", tried.join(", "))
    };
    Err(Error::new(
        ErrorKind::Auth,
        format!("{}@{server}: permission denied ({tried})", login.user),
    ))
}

/// The hash for an RSA signature: the best the server supports.
async fn rsa_hash(session: &Handle<Client>) -> Result<Option<HashAlg>> {
    match session.best_supported_rsa_hash().await {
        Ok(best) => Ok(best.flatten()),
        Err(_) => Ok(Some(HashAlg::Sha256)),
    }
}

fn session_error(server: &SshServer, during: &str, e: russh::Error) -> Error {
    let kind = match &e {
        russh::Error::IO(_) | russh::Error::HUP | russh::Error::Disconnect => ErrorKind::Protocol,
        russh::Error::ConnectionTimeout | russh::Error::KeepaliveTimeout => ErrorKind::Timeout,
        russh::Error::UnknownKey
        | russh::Error::WrongServerSig
        | russh::Error::KeyChanged { .. } => ErrorKind::HostKey,
        _ => ErrorKind::Protocol,
    };
    Error::new(kind, format!("{during} with {server} failed: {e}"))
}

struct KeyCandidate {
    path: PathBuf,
    explicit: bool,
}

impl KeyCandidate {
    /// Loads the key, with the password as passphrase if it is encrypted.
    fn load(&self, password: Option<&str>) -> std::result::Result<PrivateKey, keys::Error> {
        match keys::load_secret_key(&self.path, None) {
            Err(keys::Error::KeyIsEncrypted) if password.is_some() => {
                keys::load_secret_key(&self.path, password)
            }
            other => other,
        }
    }
}

/// The key file given, or else OpenSSH's default key files that exist.
fn keys_to_try(login: &Login) -> Vec<KeyCandidate> {
    if let Some(path) = &login.keyfile {
        return vec![KeyCandidate {
            path: path.clone(),
            explicit: true,
        }];
    }
    // With a password and no key file, log in with the password alone.
    if login.password.is_some() {
        return Vec::new();
    }
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| Path::new(&home).join(".ssh").join(name))
        .filter(|p| p.is_file())
        .map(|path| KeyCandidate {
            path,
            explicit: false,
        })
        .collect()
}

/// The session's event handler: checks the host key.
struct Client {
    host: String,
    port: u16,
    policy: HostKeyPolicy,
    known_hosts: Option<PathBuf>,
    /// Why the host key was refused, for the error message.
    problem: Arc<Mutex<Option<String>>>,
}

impl Client {
    fn known_hosts_path(&self) -> Option<PathBuf> {
        self.known_hosts.clone().or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| Path::new(&home).join(".ssh").join("known_hosts"))
        })
    }

    fn refuse(&self, why: String) -> bool {
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        false
    }

    fn check(&self, key: &keys::PublicKey) -> bool {
        if self.policy == HostKeyPolicy::AcceptAny {
            return true;
        }
        let Some(path) = self.known_hosts_path() else {
            return self.refuse("no known-hosts file (HOME is not set)".into());
        };
        let known = if path.exists() {
            keys::check_known_hosts_path(&self.host, self.port, key, &path)
        } else {
            Ok(false)
        };
        match known {
            Ok(true) => true,
            Ok(false) if self.policy == HostKeyPolicy::AcceptNew => {
                // Recording is best effort, as OpenSSH's accept-new: the key
                // is accepted either way.
                let _ =
                    keys::known_hosts::learn_known_hosts_path(&self.host, self.port, key, &path);
                true
            }
            Ok(false) => self.refuse(format!(
                "the host key is not in {} (HostKeyPolicy::Strict)",
                path.display()
            )),
            Err(keys::Error::KeyChanged { line }) => self.refuse(format!(
                "REMOTE HOST KEY CHANGED: it differs from the one at {}:{line} \
                 (someone may be intercepting the connection)",
                path.display()
            )),
            Err(e) => self.refuse(format!("cannot read {}: {e}", path.display())),
        }
    }
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        Ok(match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.check(key),
            PublicKeyOrCertificate::Certificate(_) if self.policy == HostKeyPolicy::AcceptAny => {
                true
            }
            PublicKeyOrCertificate::Certificate(_) => {
                self.refuse("host certificates are not supported; use a plain host key".into())
            }
        })
    }
}
