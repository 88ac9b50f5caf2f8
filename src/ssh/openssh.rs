//! The OpenSSH backend: the system `ssh` client with `-N -L`.
//!
//! The client runs in `BatchMode` (it never waits on a prompt) with
//! `ExitOnForwardFailure`, in a process group of its own so that a Ctrl-C
//! meant for the owner does not reach it first.
//!
//! # When the tunnel is up
//!
//! A listener on the local port proves nothing: another program may hold
//! the port, and OpenSSH binds it only after logging in. So the client runs
//! at `LogLevel=DEBUG2` and the opener reads its own report, line by line:
//!
//! 1. `Local forwarding listening on 127.0.0.1 port N.`: the client, and no
//!    one else, holds the local port. A port held by another program makes
//!    it say `bind [127.0.0.1]:N: Address already in use` and exit.
//! 2. The opener then connects once through the port and waits for the
//!    client to report that channel: `channel K: open confirm` (the server
//!    reached the target) or `channel K: open failed: <reason>` (forwarding
//!    disabled on the server, a target that does not resolve or refuses).
//!
//! Only then is the tunnel handed out. If the client exits first, its
//! standard error tells why. Debug lines are parsed, never kept.
//!
//! No orphans: [`SshProcess`] kills and reaps the client (and its process
//! group) when dropped, and on Linux the client is started with
//! `PR_SET_PDEATHSIG`, so it is killed when the owning process dies in any
//! way. The death signal fires when the *thread* that forked the client ends,
//! so every client is forked by one process-wide thread that never ends.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Error, ErrorKind, HostKeyPolicy, Result, SshOptions, SshServer, Target};

/// How often the opening loop looks at the client.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How soon to connect again when the client has bound the local port but
/// does not listen on it yet.
const LISTEN_RETRY: Duration = Duration::from_millis(1);
/// The most of the client's standard error kept for error messages.
const STDERR_KEEP: usize = 16 * 1024;
/// The longest line the reader collects before cutting it.
const LINE_MAX: usize = 4096;
/// How long to wait for the client's standard error to close once it has
/// exited.
const STDERR_GRACE: Duration = Duration::from_secs(1);
/// How many free ports to try when the one picked is taken before the client
/// binds it (only when the caller did not ask for a port).
const PORT_ATTEMPTS: usize = 3;

/// A running `ssh -N -L` client; killed and reaped on drop.
pub(super) struct SshProcess {
    child: Option<Child>,
    pid: u32,
    stderr: Option<StderrDrain>,
}

impl SshProcess {
    pub(super) fn pid(&self) -> u32 {
        self.pid
    }

    pub(super) fn is_alive(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the client and its process group, reaps it and joins the
    /// standard-error reader. Idempotent.
    pub(super) fn shutdown(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let result = kill_and_reap(&mut child);
        if let Some(drain) = self.stderr.take() {
            drain.join();
        }
        result.map(drop).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("stopping ssh (pid {}): {e}", self.pid),
            )
        })
    }

    /// The client has exited with `status`: reaps it and turns its last
    /// words into an error.
    fn exited(&mut self, status: ExitStatus, server: &SshServer) -> Error {
        self.child = None;
        let text = self
            .stderr
            .take()
            .map(StderrDrain::join)
            .unwrap_or_default();
        classify(&text, Some(status), server)
    }

    /// What the client said so far (its non-debug lines).
    fn said(&self) -> String {
        self.stderr
            .as_ref()
            .map(StderrDrain::snapshot)
            .unwrap_or_default()
    }
}

impl Drop for SshProcess {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn kill_and_reap(child: &mut Child) -> io::Result<ExitStatus> {
    if child.try_wait()?.is_none() {
        // The client leads its own process group (process_group(0)):
        // killing the group also ends a ProxyCommand it started. The group
        // id stays ours until the leader is reaped below.
        #[cfg(unix)]
        super::sys::kill_process_group(child.id());
        // Also covers non-Unix, and a group kill that failed.
        let _ = child.kill();
    }
    child.wait()
}

/// What the client reports that the opener waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// `Local forwarding listening on 127.0.0.1 port N.`: the client holds
    /// the local port.
    Listening(u16),
    /// `channel K: open confirm …`: a connection through the tunnel reached
    /// the target.
    ChannelOpened,
    /// `channel K: open failed: <reason>`: the server could not open it.
    ChannelFailed(String),
}

/// Reads one line of the client's log.
fn parse_event(line: &str) -> Option<Event> {
    let line = line.trim_end();
    if let Some(rest) = line
        .strip_prefix("debug1: ")
        .and_then(|l| l.strip_prefix("Local forwarding listening on 127.0.0.1 port "))
    {
        return rest
            .trim_end_matches('.')
            .parse()
            .ok()
            .map(Event::Listening);
    }
    let channel_says = |line: &str| -> Option<String> {
        let rest = line.strip_prefix("channel ")?;
        let (number, what) = rest.split_once(": ")?;
        (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then(|| what.to_string())
    };
    if let Some(what) = line.strip_prefix("debug2: ").and_then(channel_says) {
        if what.starts_with("open confirm") {
            return Some(Event::ChannelOpened);
        }
    }
    // Logged at INFO, so without a debug prefix.
    if let Some(what) = channel_says(line) {
        if let Some(reason) = what.strip_prefix("open failed: ") {
            return Some(Event::ChannelFailed(reason.to_string()));
        }
    }
    None
}

/// Whether a line is kept for error messages: not debug output, nor the
/// client's routine chatter.
fn worth_keeping(line: &str) -> bool {
    const ROUTINE: [&str; 5] = [
        "debug",
        "Warning: Permanently added",
        "Authenticated to",
        "Transferred: ",
        "Bytes per second: ",
    ];
    !line.trim().is_empty() && !ROUTINE.iter().any(|p| line.starts_with(p))
}

/// Reads the client's standard error until it closes: reports the
/// [`Event`]s it reads while someone listens, and keeps the last
/// [`STDERR_KEEP`] bytes of the lines worth keeping. Reading it all the time
/// keeps a chatty client from blocking on a full pipe.
struct StderrDrain {
    text: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
    /// Signalled when the reader ends (in a mutex so the tunnel is `Sync`).
    done: Mutex<Receiver<()>>,
}

impl StderrDrain {
    /// Starts the reader; the receiver gets the events until it is dropped,
    /// and disconnects when the pipe closes.
    fn start(mut pipe: impl Read + Send + 'static) -> io::Result<(StderrDrain, Receiver<Event>)> {
        let text = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&text);
        let (done_tx, done) = sync_channel(1);
        let (event_tx, events) = channel();
        let thread = std::thread::Builder::new()
            .name("zmqx-ssh-stderr".into())
            .spawn(move || {
                let mut events: Option<Sender<Event>> = Some(event_tx);
                let mut line = Vec::new();
                let mut buf = [0u8; 4096];
                let mut take_line = |line: &mut Vec<u8>| {
                    let text = String::from_utf8_lossy(line);
                    let text = text.trim_end_matches(['\r', '\n']);
                    if let (Some(tx), Some(event)) = (&events, parse_event(text)) {
                        if tx.send(event).is_err() {
                            // Nobody waits any more: the tunnel is open.
                            events = None;
                        }
                    }
                    if worth_keeping(text) {
                        let mut kept = sink.lock().unwrap_or_else(|e| e.into_inner());
                        kept.extend_from_slice(text.as_bytes());
                        kept.push(b'\n');
                        if kept.len() > STDERR_KEEP {
                            let cut = kept.len() - STDERR_KEEP;
                            kept.drain(..cut);
                        }
                    }
                    line.clear();
                };
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            for &b in &buf[..n] {
                                line.push(b);
                                if b == b'\n' || line.len() >= LINE_MAX {
                                    take_line(&mut line);
                                }
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                if !line.is_empty() {
                    take_line(&mut line);
                }
                let _ = done_tx.send(());
            })?;
        Ok((
            StderrDrain {
                text,
                thread,
                done: Mutex::new(done),
            },
            events,
        ))
    }

    fn snapshot(&self) -> String {
        let text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&text).trim().to_string()
    }

    /// Waits for the pipe to close (the client has exited) and returns all
    /// that was kept. A grandchild that inherited the pipe (a
    /// `ProxyCommand` that left the process group) could keep it open: after
    /// [`STDERR_GRACE`] the reader is left to finish on its own.
    fn join(self) -> String {
        let finished = self
            .done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv_timeout(STDERR_GRACE)
            .is_ok();
        let text = self.snapshot();
        if finished {
            let _ = self.thread.join();
        }
        text
    }
}

/// The `ssh` arguments common to tunnels and login checks: `LogLevel`
/// first (zmqx reads the client's report, so this one must win), then the
/// caller's `-o` options (OpenSSH keeps the first value of an option), then
/// zmqx's, then the port, user and key. The host comes last, after `--`.
fn base_args(options: &SshOptions, server: &SshServer, log_level: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-o".into(), format!("LogLevel={log_level}").into()];
    for o in &options.ssh_options {
        args.push("-o".into());
        args.push(o.clone());
    }
    let connect_timeout = options.timeout.as_secs_f64().ceil().max(1.0) as u64;
    let mut opt = |s: String| {
        args.push("-o".into());
        args.push(s.into());
    };
    opt("BatchMode=yes".into());
    opt(format!("ConnectTimeout={connect_timeout}"));
    // Our own connection, never a shared ControlMaster: closing the tunnel
    // must close exactly this forward.
    opt("ControlMaster=no".into());
    opt("ControlPath=none".into());
    opt("ServerAliveInterval=15".into());
    opt("ServerAliveCountMax=3".into());
    match options.host_key_policy {
        HostKeyPolicy::AcceptNew => opt("StrictHostKeyChecking=accept-new".into()),
        HostKeyPolicy::Strict => opt("StrictHostKeyChecking=yes".into()),
        HostKeyPolicy::AcceptAny => {
            opt("StrictHostKeyChecking=no".into());
            if options.known_hosts.is_none() {
                opt("UserKnownHostsFile=/dev/null".into());
            }
        }
    }
    if let Some(path) = &options.known_hosts {
        let mut o = OsString::from("UserKnownHostsFile=");
        o.push(path.as_os_str());
        args.push("-o".into());
        args.push(o);
    }
    if let Some(key) = &options.keyfile {
        args.push("-i".into());
        args.push(key.as_os_str().into());
        // Only the key given, not every key of the agent and the defaults:
        // a server counts each offered key against MaxAuthTries.
        args.push("-o".into());
        args.push("IdentitiesOnly=yes".into());
    }
    if let Some(port) = server.port {
        args.push("-p".into());
        args.push(port.to_string().into());
    }
    if let Some(user) = &server.user {
        args.push("-l".into());
        args.push(user.into());
    }
    args
}

fn command(options: &SshOptions, args: Vec<OsString>) -> Command {
    let mut cmd = Command::new(&options.ssh_program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // No GUI password prompt either.
        .env_remove("SSH_ASKPASS")
        .env_remove("SSH_ASKPASS_REQUIRE")
        .env_remove("DISPLAY");
    cmd
}

/// Whether `program` can be run: an existing file for a path, or found in
/// `PATH` for a bare name.
#[cfg(any(feature = "russh", test))]
pub(super) fn program_exists(program: &std::path::Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn spawn_error(options: &SshOptions, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => Error::new(
            ErrorKind::MissingBinary,
            format!(
                "cannot run {}: {e} (install OpenSSH's client, e.g. `apt-get install \
                 openssh-client`, set SshOptions::ssh_program, or use the library backend)",
                options.ssh_program.display()
            ),
        ),
        _ => Error::new(
            ErrorKind::Io,
            format!("cannot start {}: {e}", options.ssh_program.display()),
        ),
    }
}

/// Starts `ssh -N -L 127.0.0.1:<port>:<target>` and returns once the
/// forward is shown to reach the target (see the module docs), the client
/// has failed, or the timeout has passed. Without `local_port`, a free port
/// is picked, and picked again if another program takes it first.
pub(super) fn open(
    options: &SshOptions,
    server: &SshServer,
    target: &Target,
    local_port: Option<u16>,
) -> Result<(SshProcess, u16)> {
    let deadline = Instant::now() + options.timeout;
    let mut attempt = 1;
    loop {
        let port = match local_port {
            Some(p) => p,
            None => super::select_random_ports(1)?[0],
        };
        match open_on(options, server, target, port, deadline) {
            Err(e)
                if local_port.is_none()
                    && e.kind() == ErrorKind::LocalPortInUse
                    && attempt < PORT_ATTEMPTS
                    && Instant::now() < deadline =>
            {
                attempt += 1;
            }
            result => return result.map(|process| (process, port)),
        }
    }
}

/// Where the opening is.
#[derive(Debug)]
enum Stage {
    /// Logging in; the client has not bound the local port yet.
    LoggingIn,
    /// The client has bound the port (it says so just before it calls
    /// `listen`, so a connection may still be refused for a moment).
    Bound,
    /// The client holds the port; a connection through it waits for the
    /// server to reach the target. The probe is closed once it has.
    Probing {
        /// Held open until the client reports the channel.
        _probe: TcpStream,
    },
}

fn open_on(
    options: &SshOptions,
    server: &SshServer,
    target: &Target,
    local_port: u16,
    deadline: Instant,
) -> Result<SshProcess> {
    let mut args = base_args(options, server, "DEBUG2");
    args.push("-N".into());
    args.push("-T".into());
    args.push("-o".into());
    args.push("ExitOnForwardFailure=yes".into());
    args.push("-L".into());
    args.push(
        format!(
            "127.0.0.1:{local_port}:{}:{}",
            target.host_for_forward(),
            target.port
        )
        .into(),
    );
    args.push("--".into());
    args.push(server.host.clone().into());

    let (child, drain, events) = spawn_drained(options, args)?;
    let pid = child.id();
    let mut process = SshProcess {
        child: Some(child),
        pid,
        stderr: drain,
    };
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, local_port));
    let mut stage = Stage::LoggingIn;
    loop {
        match process.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => return Err(process.exited(status, server)),
            Some(Ok(None)) => {}
            Some(Err(e)) => {
                let _ = process.shutdown();
                return Err(Error::new(ErrorKind::Io, format!("waiting for ssh: {e}")));
            }
            None => unreachable!("the child is only taken on the way out"),
        }
        let now = Instant::now();
        if now >= deadline {
            let err = timeout_error(options, server, target, &stage, &process.said());
            let _ = process.shutdown();
            return Err(err);
        }
        let mut wait = POLL_INTERVAL;
        if let Stage::Bound = stage {
            let remaining = deadline - now;
            match TcpStream::connect_timeout(&local, remaining) {
                Ok(probe) => stage = Stage::Probing { _probe: probe },
                // Not listening yet (nobody else can: the client holds it).
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => wait = LISTEN_RETRY,
                Err(e) => {
                    let _ = process.shutdown();
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "ssh holds 127.0.0.1:{local_port}, but connecting to it failed: {e}"
                        ),
                    ));
                }
            }
        }
        let event = match events.recv_timeout(wait.min(deadline - now)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                // Standard error closed: the client is exiting; the
                // try_wait above reaps it.
                std::thread::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(now)));
                continue;
            }
        };
        match (&stage, event) {
            (Stage::LoggingIn, Event::Listening(port)) if port == local_port => {
                stage = Stage::Bound;
            }
            (Stage::Probing { .. }, Event::ChannelOpened) => return Ok(process),
            (Stage::Probing { .. }, Event::ChannelFailed(reason)) => {
                let _ = process.shutdown();
                return Err(channel_failure(&reason, server, target));
            }
            _ => {}
        }
    }
}

fn timeout_error(
    options: &SshOptions,
    server: &SshServer,
    target: &Target,
    stage: &Stage,
    stderr: &str,
) -> Error {
    let mut message = match stage {
        Stage::LoggingIn | Stage::Bound => format!(
            "the tunnel through {server} was not up within {:?}",
            options.timeout
        ),
        Stage::Probing { .. } => format!(
            "logged in to {server}, but it did not reach {} within {:?}",
            target.display(),
            options.timeout
        ),
    };
    if !stderr.is_empty() {
        message.push_str(": ");
        message.push_str(stderr);
    }
    Error::new(ErrorKind::Timeout, message)
}

/// The server could not open a connection through the tunnel.
fn channel_failure(reason: &str, server: &SshServer, target: &Target) -> Error {
    let lower = reason.to_ascii_lowercase();
    let target = target.display();
    if lower.contains("administratively prohibited") {
        Error::new(
            ErrorKind::ForwardingDenied,
            format!(
                "{server} refuses to forward to {target} (its sshd_config may say \
                 AllowTcpForwarding no, or PermitOpen): channel open failed: {reason}"
            ),
        )
    } else if lower.contains("connect failed") {
        Error::new(
            ErrorKind::TargetUnreachable,
            format!("{server} could not connect to {target}: {reason}"),
        )
    } else {
        Error::new(
            ErrorKind::Protocol,
            format!("{server} could not open a channel to {target}: {reason}"),
        )
    }
}

/// Turns the client's last words into an error kind.
fn classify(stderr: &str, status: Option<ExitStatus>, server: &SshServer) -> Error {
    let lower = stderr.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    // The local forward first: binding a privileged port says "Permission
    // denied", which is no login failure.
    let kind = if has(&[
        "cannot listen to port",
        "could not request local forwarding",
    ]) {
        if has(&["address already in use"]) {
            ErrorKind::LocalPortInUse
        } else {
            ErrorKind::Io
        }
    } else if has(&[
        "permission denied",
        "too many authentication failures",
        "authentication failed",
    ]) {
        ErrorKind::Auth
    } else if has(&[
        "host key verification failed",
        "remote host identification has changed",
        "no matching host key",
        "host key for",
    ]) {
        ErrorKind::HostKey
    } else if has(&[
        "connection refused",
        "no route to host",
        "could not resolve",
        "network is unreachable",
        "name or service not known",
        "temporary failure in name resolution",
    ]) {
        ErrorKind::Unreachable
    } else if has(&["connection timed out", "operation timed out"]) {
        ErrorKind::Timeout
    } else {
        ErrorKind::Protocol
    };
    let status = match status {
        Some(s) => format!(" ({s})"),
        None => String::new(),
    };
    let said = if stderr.is_empty() {
        "no message"
    } else {
        stderr
    };
    Error::new(kind, format!("ssh to {server} failed{status}: {said}"))
}

/// `ssh -o BatchMode=yes … host exit`: `true` when the login succeeds,
/// `false` when the server refuses the credentials.
pub(super) fn try_passwordless(options: &SshOptions, server: &SshServer) -> Result<bool> {
    let deadline = Instant::now() + options.timeout;
    let mut args = base_args(options, server, "ERROR");
    args.push("-T".into());
    args.push("--".into());
    args.push(server.host.clone().into());
    args.push("exit".into());
    let (mut child, drain, _events) = spawn_drained(options, args)?;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let text = drain.map(StderrDrain::join).unwrap_or_default();
                if status.success() {
                    return Ok(true);
                }
                let err = classify(&text, Some(status), server);
                return match err.kind() {
                    ErrorKind::Auth => Ok(false),
                    _ => Err(err),
                };
            }
            Ok(None) => {}
            Err(e) => {
                let _ = kill_and_reap(&mut child);
                return Err(Error::new(ErrorKind::Io, format!("waiting for ssh: {e}")));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            let text = drain
                .as_ref()
                .map(StderrDrain::snapshot)
                .unwrap_or_default();
            let _ = kill_and_reap(&mut child);
            if let Some(d) = drain {
                d.join();
            }
            let mut message = format!(
                "logging in to {server} took longer than {:?}",
                options.timeout
            );
            if !text.is_empty() {
                message.push_str(": ");
                message.push_str(&text);
            }
            return Err(Error::new(ErrorKind::Timeout, message));
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

/// Starts ssh with `args` and a thread draining its stderr; kills it if the
/// drain cannot start. The receiver gets the client's [`Event`]s (it is
/// already disconnected when there is no stderr to read).
fn spawn_drained(
    options: &SshOptions,
    args: Vec<OsString>,
) -> Result<(Child, Option<StderrDrain>, Receiver<Event>)> {
    let mut child = spawn(command(options, args)).map_err(|e| spawn_error(options, e))?;
    match child.stderr.take().map(StderrDrain::start) {
        Some(Ok((drain, events))) => Ok((child, Some(drain), events)),
        Some(Err(e)) => {
            let _ = kill_and_reap(&mut child);
            Err(Error::new(
                ErrorKind::Io,
                format!("reading ssh's stderr: {e}"),
            ))
        }
        None => Ok((child, None, channel().1)),
    }
}

/// Starts the client in a process group of its own: on Linux from the
/// process-wide spawner thread, with `PR_SET_PDEATHSIG`; elsewhere directly.
fn spawn(mut cmd: Command) -> io::Result<Child> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        super::sys::kill_with_parent(&mut cmd);
        spawner::spawn(cmd)
    }
    #[cfg(not(target_os = "linux"))]
    {
        cmd.spawn()
    }
}

#[cfg(target_os = "linux")]
mod spawner {
    use std::io;
    use std::process::{Child, Command};
    use std::sync::OnceLock;
    use std::sync::mpsc::{Sender, channel};

    type Job = (Command, Sender<io::Result<Child>>);

    /// The spawner thread's queue. The sender lives in a static and is never
    /// dropped, so the thread (the "parent" of every client for
    /// `PR_SET_PDEATHSIG`) lives as long as the process.
    static SPAWNER: OnceLock<io::Result<Sender<Job>>> = OnceLock::new();

    /// Forks `cmd` from the spawner thread.
    pub(super) fn spawn(cmd: Command) -> io::Result<Child> {
        let sender = SPAWNER.get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            std::thread::Builder::new()
                .name("zmqx-ssh-spawner".into())
                .spawn(move || {
                    for (mut cmd, reply) in rx {
                        let _ = reply.send(cmd.spawn());
                    }
                })
                .map(|_| tx)
        });
        let sender = match sender {
            Ok(s) => s,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("starting the ssh spawner thread: {e}"),
                ));
            }
        };
        let (reply_tx, reply_rx) = channel();
        sender
            .send((cmd, reply_tx))
            .map_err(|_| io::Error::other("the ssh spawner thread is gone"))?;
        reply_rx
            .recv()
            .map_err(|_| io::Error::other("the ssh spawner thread is gone"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn server() -> SshServer {
        SshServer::parse("alice@gateway:2222").expect("valid")
    }

    #[test]
    fn classifies_client_messages() {
        let cases = [
            (
                "alice@127.0.0.1: Permission denied (publickey).",
                ErrorKind::Auth,
            ),
            (
                "ssh: connect to host 127.0.0.1 port 1: Connection refused",
                ErrorKind::Unreachable,
            ),
            (
                "ssh: Could not resolve hostname nowhere.invalid: Name or service not known",
                ErrorKind::Unreachable,
            ),
            ("Host key verification failed.", ErrorKind::HostKey),
            (
                "ssh: connect to host 10.255.255.1 port 22: Connection timed out",
                ErrorKind::Timeout,
            ),
            (
                "kex_exchange_identification: Connection closed by remote host",
                ErrorKind::Protocol,
            ),
            (
                "bind [127.0.0.1]:43000: Address already in use\n\
                 channel_setup_fwd_listener_tcpip: cannot listen to port: 43000\n\
                 Could not request local forwarding.",
                ErrorKind::LocalPortInUse,
            ),
            (
                "bind [127.0.0.1]:80: Permission denied\n\
                 channel_setup_fwd_listener_tcpip: cannot listen to port: 80\n\
                 Could not request local forwarding.",
                ErrorKind::Io,
            ),
            ("", ErrorKind::Protocol),
        ];
        for (text, kind) in cases {
            let err = classify(text, None, &server());
            assert_eq!(err.kind(), kind, "{text}");
            assert!(err.to_string().contains("alice@gateway:2222"), "{err}");
        }
    }

    #[test]
    fn reads_the_clients_report_of_the_forward() {
        let cases = [
            (
                "debug1: Local forwarding listening on 127.0.0.1 port 43005.\r",
                Some(Event::Listening(43005)),
            ),
            (
                "debug2: channel 2: open confirm rwindow 2097152 rmax 32768",
                Some(Event::ChannelOpened),
            ),
            (
                "channel 1: open failed: administratively prohibited: open failed\r",
                Some(Event::ChannelFailed(
                    "administratively prohibited: open failed".into(),
                )),
            ),
            (
                "channel 12: open failed: connect failed: Name or service not known",
                Some(Event::ChannelFailed(
                    "connect failed: Name or service not known".into(),
                )),
            ),
            // Lookalikes are not reports.
            (
                "debug1: Local connections to 127.0.0.1:43005 forwarded to remote address \
                 127.0.0.1:5555",
                None,
            ),
            (
                "debug1: Local forwarding listening on ::1 port 43005.",
                None,
            ),
            ("channel 2: open confirm rwindow 1 rmax 1", None),
            ("debug2: channel x: open confirm", None),
            ("debug1: channel 1: new direct-tcpip", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_event(line), expected, "{line:?}");
        }
    }

    #[test]
    fn channel_failures_have_their_kinds() {
        let target = Target::parse("tcp://nowhere.invalid:5555").expect("valid");
        let err = channel_failure(
            "administratively prohibited: open failed",
            &server(),
            &target,
        );
        assert_eq!(err.kind(), ErrorKind::ForwardingDenied);
        assert!(err.to_string().contains("AllowTcpForwarding"), "{err}");
        let err = channel_failure(
            "connect failed: Name or service not known",
            &server(),
            &target,
        );
        assert_eq!(err.kind(), ErrorKind::TargetUnreachable);
        assert!(err.to_string().contains("nowhere.invalid:5555"), "{err}");
        let err = channel_failure("resource shortage", &server(), &target);
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn keeps_only_lines_worth_showing() {
        assert!(worth_keeping("alice@host: Permission denied (publickey)."));
        assert!(!worth_keeping("debug1: Connecting to host"));
        assert!(!worth_keeping(
            "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts."
        ));
        assert!(!worth_keeping("   "));
    }

    #[test]
    fn arguments_put_the_log_level_first_then_the_callers_options_and_the_host_last() {
        let options = SshOptions::new()
            .keyfile("/k")
            .known_hosts("/kh")
            .ssh_option("ConnectTimeout=3")
            .ssh_option("LogLevel=QUIET")
            .timeout(Duration::from_millis(1500));
        let args = base_args(&options, &server(), "DEBUG2");
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            &args[..4],
            ["-o", "LogLevel=DEBUG2", "-o", "ConnectTimeout=3"]
        );
        assert!(args.contains(&"ConnectTimeout=2".to_string()));
        assert!(args.contains(&"BatchMode=yes".to_string()));
        assert!(args.contains(&"UserKnownHostsFile=/kh".to_string()));
        assert!(args.windows(2).any(|w| w == ["-i", "/k"]));
        assert!(args.windows(2).any(|w| w == ["-p", "2222"]));
        assert!(args.windows(2).any(|w| w == ["-l", "alice"]));
    }

    #[test]
    fn finds_programs() {
        assert!(program_exists(Path::new("/bin/sh")));
        assert!(program_exists(Path::new("sh")));
        assert!(!program_exists(Path::new("/nonexistent/ssh")));
        assert!(!program_exists(Path::new("zmqx-no-such-program")));
    }
}
