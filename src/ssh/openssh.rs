//! The OpenSSH backend: the system `ssh` client with `-N -L`.
//!
//! The client runs in `BatchMode` (it never waits on a prompt) with
//! `ExitOnForwardFailure`, in a process group of its own so that a Ctrl-C
//! meant for the owner does not reach it first. The tunnel is up when its
//! local port accepts a TCP connection (OpenSSH listens only after it has
//! logged in); if the client exits first, its standard error tells why.
//!
//! No orphans: [`SshProcess`] kills and reaps the client (and its process
//! group) when dropped, and on Linux the client is started with
//! `PR_SET_PDEATHSIG`, so it is killed when the owning process dies in any
//! way. The death signal fires when the *thread* that forked the client ends,
//! so every client is forked by one process-wide thread that never ends.

use std::ffi::OsString;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{HostKeyPolicy, SshErrorKind, SshOptions, SshServer, Target, ssh_error};
use crate::Result;

/// How often the opening loop looks at the client and the local port.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// The most of the client's standard error kept for error messages.
const STDERR_KEEP: usize = 16 * 1024;
/// How long to wait for the client's standard error to close once it has
/// exited.
const STDERR_GRACE: Duration = Duration::from_secs(1);

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
            ssh_error(
                SshErrorKind::Io,
                format!("stopping ssh (pid {}): {e}", self.pid),
            )
        })
    }
}

impl Drop for SshProcess {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn kill_and_reap(child: &mut Child) -> io::Result<ExitStatus> {
    if child.try_wait()?.is_none() {
        #[cfg(unix)]
        {
            // The client leads its own process group (process_group(0)):
            // killing the group also ends a ProxyCommand it started. The
            // group id stays ours until the leader is reaped below.
            let pgid = child.id() as libc::pid_t;
            // SAFETY: kill(2) takes plain integers and touches no memory.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
        // Also covers non-Unix, and a group kill that failed.
        let _ = child.kill();
    }
    child.wait()
}

/// Reads the client's standard error until it closes, keeping the last
/// [`STDERR_KEEP`] bytes. Reading it all the time keeps a chatty client
/// from blocking on a full pipe.
struct StderrDrain {
    text: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
    /// Signalled when the reader ends (in a mutex so the tunnel is `Sync`).
    done: Mutex<Receiver<()>>,
}

impl StderrDrain {
    fn start(mut pipe: impl Read + Send + 'static) -> io::Result<StderrDrain> {
        let text = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&text);
        let (done_tx, done) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("zmqx-ssh-stderr".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                            text.extend_from_slice(&buf[..n]);
                            if text.len() > STDERR_KEEP {
                                let cut = text.len() - STDERR_KEEP;
                                text.drain(..cut);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = done_tx.send(());
            })?;
        Ok(StderrDrain {
            text,
            thread,
            done: Mutex::new(done),
        })
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

/// The `ssh` arguments common to tunnels and login checks: the caller's
/// `-o` options first (OpenSSH keeps the first value of an option), then
/// zmqx's, then the port, user and key, and the host last after `--`.
fn base_args(options: &SshOptions, server: &SshServer) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
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
    opt("LogLevel=ERROR".into());
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

fn spawn_error(options: &SshOptions, e: io::Error) -> crate::Error {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => ssh_error(
            SshErrorKind::MissingBinary,
            format!(
                "cannot run {}: {e} (install OpenSSH's client, e.g. `apt-get install \
                 openssh-client`, set SshOptions::ssh_program, or use the library backend)",
                options.ssh_program.display()
            ),
        ),
        _ => ssh_error(
            SshErrorKind::Io,
            format!("cannot start {}: {e}", options.ssh_program.display()),
        ),
    }
}

/// Starts `ssh -N -L 127.0.0.1:<port>:<target>` and waits until the local
/// port listens, the client exits, or the timeout passes.
pub(super) fn open(
    options: &SshOptions,
    server: &SshServer,
    target: &Target,
    local_port: u16,
) -> Result<SshProcess> {
    let deadline = Instant::now() + options.timeout;
    let mut args = base_args(options, server);
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

    let (child, drain) = spawn_drained(options, args)?;
    let pid = child.id();
    let mut process = SshProcess {
        child: Some(child),
        pid,
        stderr: drain,
    };
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, local_port));
    loop {
        let child = process.child.as_mut().expect("set above");
        match child.try_wait() {
            Ok(Some(status)) => {
                process.child = None;
                let text = process
                    .stderr
                    .take()
                    .map(StderrDrain::join)
                    .unwrap_or_default();
                return Err(classify(&text, Some(status), server));
            }
            Ok(None) => {}
            Err(e) => {
                let _ = process.shutdown();
                return Err(ssh_error(SshErrorKind::Io, format!("waiting for ssh: {e}")));
            }
        }
        // OpenSSH opens the local listener after logging in. Connecting
        // makes it open (and, as we hang up at once, close) one channel to
        // the target, which a ZeroMQ peer shrugs off.
        if TcpStream::connect_timeout(&local, Duration::from_millis(200)).is_ok() {
            // The connection may have reached someone else who took the port
            // since it was chosen; then ssh exits at once on its bind error.
            std::thread::sleep(POLL_INTERVAL);
            if let Ok(Some(status)) = process.child.as_mut().expect("set above").try_wait() {
                process.child = None;
                let text = process
                    .stderr
                    .take()
                    .map(StderrDrain::join)
                    .unwrap_or_default();
                return Err(classify(&text, Some(status), server));
            }
            return Ok(process);
        }
        let now = Instant::now();
        if now >= deadline {
            let text = process
                .stderr
                .as_ref()
                .map(StderrDrain::snapshot)
                .unwrap_or_default();
            let _ = process.shutdown();
            return Err(timeout_error(options, server, &text));
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

fn timeout_error(options: &SshOptions, server: &SshServer, stderr: &str) -> crate::Error {
    let mut message = format!(
        "the tunnel through {server} was not up within {:?}",
        options.timeout
    );
    if !stderr.is_empty() {
        message.push_str(": ");
        message.push_str(stderr);
    }
    ssh_error(SshErrorKind::Timeout, message)
}

/// Turns the client's last words into an error kind.
fn classify(stderr: &str, status: Option<ExitStatus>, server: &SshServer) -> crate::Error {
    let lower = stderr.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    let kind = if has(&[
        "permission denied",
        "too many authentication failures",
        "authentication failed",
    ]) {
        SshErrorKind::Auth
    } else if has(&[
        "host key verification failed",
        "remote host identification has changed",
        "no matching host key",
        "host key for",
    ]) {
        SshErrorKind::HostKey
    } else if has(&[
        "connection refused",
        "no route to host",
        "could not resolve",
        "network is unreachable",
        "name or service not known",
        "temporary failure in name resolution",
    ]) {
        SshErrorKind::Unreachable
    } else if has(&["connection timed out", "operation timed out"]) {
        SshErrorKind::Timeout
    } else {
        SshErrorKind::Protocol
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
    ssh_error(kind, format!("ssh to {server} failed{status}: {said}"))
}

/// `ssh -o BatchMode=yes … host exit`: `true` when the login succeeds,
/// `false` when the server refuses the credentials.
pub(super) fn try_passwordless(options: &SshOptions, server: &SshServer) -> Result<bool> {
    let deadline = Instant::now() + options.timeout;
    let mut args = base_args(options, server);
    args.push("-T".into());
    args.push("--".into());
    args.push(server.host.clone().into());
    args.push("exit".into());
    let (mut child, drain) = spawn_drained(options, args)?;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let text = drain.map(StderrDrain::join).unwrap_or_default();
                if status.success() {
                    return Ok(true);
                }
                let err = classify(&text, Some(status), server);
                return match err {
                    crate::Error::Ssh {
                        kind: SshErrorKind::Auth,
                        ..
                    } => Ok(false),
                    other => Err(other),
                };
            }
            Ok(None) => {}
            Err(e) => {
                let _ = kill_and_reap(&mut child);
                return Err(ssh_error(SshErrorKind::Io, format!("waiting for ssh: {e}")));
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
            return Err(timeout_error(options, server, &text));
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

/// Starts the client: on Linux from the process-wide spawner thread, with
/// `PR_SET_PDEATHSIG`; elsewhere directly.
/// Starts ssh with `args` and a thread draining its stderr; kills it if the
/// drain cannot start.
fn spawn_drained(
    options: &SshOptions,
    args: Vec<OsString>,
) -> crate::Result<(Child, Option<StderrDrain>)> {
    let mut child = spawn(command(options, args)).map_err(|e| spawn_error(options, e))?;
    let drain = match child.stderr.take().map(StderrDrain::start) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            let _ = kill_and_reap(&mut child);
            return Err(ssh_error(
                SshErrorKind::Io,
                format!("reading ssh's stderr: {e}"),
            ));
        }
        None => None,
    };
    Ok((child, drain))
}

fn spawn(mut cmd: Command) -> io::Result<Child> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        linux::spawn(cmd)
    }
    #[cfg(not(target_os = "linux"))]
    {
        cmd.spawn()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};
    use std::sync::OnceLock;
    use std::sync::mpsc::{Sender, channel};

    type Job = (Command, Sender<io::Result<Child>>);

    /// The spawner thread's queue. The sender lives in a static and is never
    /// dropped, so the thread (the "parent" of every client for
    /// `PR_SET_PDEATHSIG`) lives as long as the process.
    static SPAWNER: OnceLock<io::Result<Sender<Job>>> = OnceLock::new();

    pub(super) fn spawn(mut cmd: Command) -> io::Result<Child> {
        // SAFETY: getpid(2) has no preconditions.
        let parent = unsafe { libc::getpid() };
        let hook = move || {
            // SAFETY: runs in the forked child before exec, where only
            // async-signal-safe calls are allowed: prctl(2) and getppid(2)
            // are system calls that neither allocate nor take locks, and
            // io::Error::last_os_error/from_raw_os_error only wrap an errno.
            unsafe {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // The owner died between fork and prctl: the signal will
                // never come, so do not start at all.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            Ok(())
        };
        // SAFETY: the hook only makes async-signal-safe calls (see above).
        unsafe { cmd.pre_exec(hook) };

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

/// The user name of the current uid from the password database.
#[cfg(all(unix, feature = "russh"))]
pub(super) fn user_from_passwd() -> Option<String> {
    use std::ffi::CStr;
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: an all-zero passwd is a valid value for a plain C struct.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf outlives the use of
    // the strings getpwuid_r stores in it.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points to a NUL-terminated string inside buf.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) };
    name.to_str().ok().map(str::to_string)
}

/// Without a password database, no fallback user name.
#[cfg(all(not(unix), feature = "russh"))]
pub(super) fn user_from_passwd() -> Option<String> {
    None
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
                SshErrorKind::Auth,
            ),
            (
                "ssh: connect to host 127.0.0.1 port 1: Connection refused",
                SshErrorKind::Unreachable,
            ),
            (
                "ssh: Could not resolve hostname nowhere.invalid: Name or service not known",
                SshErrorKind::Unreachable,
            ),
            ("Host key verification failed.", SshErrorKind::HostKey),
            (
                "ssh: connect to host 10.255.255.1 port 22: Connection timed out",
                SshErrorKind::Timeout,
            ),
            (
                "kex_exchange_identification: Connection closed by remote host",
                SshErrorKind::Protocol,
            ),
            ("", SshErrorKind::Protocol),
        ];
        for (text, kind) in cases {
            match classify(text, None, &server()) {
                crate::Error::Ssh { kind: k, message } => {
                    assert_eq!(k, kind, "{text}");
                    assert!(message.contains("alice@gateway:2222"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn arguments_put_the_callers_options_first_and_the_host_last() {
        let options = SshOptions::new()
            .keyfile("/k")
            .known_hosts("/kh")
            .ssh_option("ConnectTimeout=3")
            .timeout(Duration::from_millis(1500));
        let args = base_args(&options, &server());
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&args[..2], ["-o", "ConnectTimeout=3"]);
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
