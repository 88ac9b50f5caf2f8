//! SSH tunnels (`zmqx::ssh`) against a real OpenSSH server that each test
//! starts on 127.0.0.1 with throwaway keys.
//!
//! The server is Debian's `openssh-server` (`/usr/sbin/sshd`, installed by
//! `.ci/run`). Without it, or without `ssh-keygen`, the tests skip with a
//! message, and fail under CI (`CI=true`).
//!
//! Password authentication needs a password hash that sshd (with
//! `UsePAM no`) reads from `/etc/shadow`. Changing a real account's password
//! is not something a test may do, so when running as root the harness starts
//! sshd in a private mount namespace (`unshare --mount`) where a copy of
//! `/etc/shadow`, with a throwaway hash for root, is bind-mounted over the
//! real one. The copy is seen by that sshd only and vanishes with it; the
//! system's accounts are never touched. Not root, sshd runs as the current
//! user and only key authentication can be tested (the password test then
//! skips, and fails under CI, which runs as root).
//!
//! Every sshd runs under `setpriv --pdeathsig KILL`, so it dies with the
//! test thread that started it even if the test binary is killed.
#![cfg(feature = "ssh")]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TIMEOUT, socket};
use zmqx::ssh::{self, Backend, ErrorKind, HostKeyPolicy, SshOptions, Tunnel};
use zmqx::{Context, SocketType};

const SSHD: &str = "/usr/sbin/sshd";
/// The throwaway password for root inside sshd's private mount namespace.
#[cfg_attr(not(feature = "russh"), allow(dead_code))]
const PASSWORD: &str = "zmqx-throwaway-pw";
/// `openssl passwd -6 -salt zmqxtestsalt zmqx-throwaway-pw`.
const PASSWORD_HASH: &str = "$6$zmqxtestsalt$yVy.FLveE2z3HJ1HfZk7iG29pdgHIYzYMqPdpPa2C3WJ1JinyamM.oS.INoKC/KBYmkhab90yB5I/MSL3usef.";
/// How long a failure may take: well under the tunnel timeout it is given.
const OPEN_TIMEOUT: Duration = Duration::from_secs(8);

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (returns `None`) with a message, or fails under CI.
fn skip<T>(why: &str) -> Option<T> {
    if under_ci() {
        panic!("{why} (CI must run the SSH tests: .ci/run installs openssh-server)");
    }
    eprintln!("skipping SSH test: {why}");
    None
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "root".into())
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "zmqx-ssh-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the temp dir");
        TempDir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "zmqx-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen failed: {status}");
}

/// A running sshd on 127.0.0.1, killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    user: String,
    /// The authorized user key.
    key: PathBuf,
    /// A key the server does not accept.
    wrong_key: PathBuf,
    /// The host's public key line.
    host_pub: String,
    /// The client's known-hosts file (starts empty).
    known_hosts: PathBuf,
    /// Whether root's password is [`PASSWORD`] for this sshd.
    #[cfg_attr(not(feature = "russh"), allow(dead_code))]
    password_auth: bool,
    dir: TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    /// `user@127.0.0.1:port`.
    fn server(&self) -> String {
        format!("{}@127.0.0.1:{}", self.user, self.port)
    }

    /// Options with the test's known-hosts file and timeout.
    fn options(&self, backend: Backend) -> SshOptions {
        SshOptions::new()
            .backend(backend)
            .known_hosts(&self.known_hosts)
            .timeout(OPEN_TIMEOUT)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("sshd.log")).unwrap_or_default()
    }
}

/// Starts an sshd, or says why it cannot (`None`: skip).
fn sshd() -> Option<Sshd> {
    sshd_with(true)
}

/// Starts an sshd with `AllowTcpForwarding` set as given.
/// Whether the server on `stream` greets as an SSH server ("SSH-"), within
/// two seconds.
fn says_ssh(mut stream: TcpStream) -> bool {
    use std::io::Read;
    let mut banner = [0u8; 4];
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_ok()
        && stream.read_exact(&mut banner).is_ok()
        && &banner == b"SSH-"
}

fn sshd_with(allow_tcp_forwarding: bool) -> Option<Sshd> {
    if !Path::new(SSHD).is_file() {
        return skip(&format!(
            "{SSHD} not found (apt-get install openssh-server)"
        ));
    }
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        return skip("ssh-keygen not found (apt-get install openssh-client)");
    }
    let root = is_root();
    if root {
        // sshd's privilege separation directory, normally made by its service.
        std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    }
    let dir = TempDir::new();
    let (host_key, key, wrong_key) = (
        dir.path("host_key"),
        dir.path("user_key"),
        dir.path("wrong_key"),
    );
    keygen(&host_key);
    keygen(&key);
    keygen(&wrong_key);
    std::fs::copy(dir.path("user_key.pub"), dir.path("authorized_keys")).expect("authorized_keys");
    let host_pub = std::fs::read_to_string(dir.path("host_key.pub")).expect("host key");
    let known_hosts = dir.path("known_hosts");

    // The namespace trick for password authentication (see the module docs).
    let mut namespace = root && Command::new("unshare").arg("--version").output().is_ok();
    if namespace {
        let shadow = std::fs::read_to_string("/etc/shadow").expect("read /etc/shadow");
        let patched: String = shadow
            .lines()
            .map(|line| match line.split_once(':') {
                Some(("root", rest)) => {
                    let rest = rest.split_once(':').map_or("", |(_, r)| r);
                    format!("root:{PASSWORD_HASH}:{rest}\n")
                }
                _ => format!("{line}\n"),
            })
            .collect();
        std::fs::write(dir.path("shadow"), patched).expect("write the shadow copy");
    }

    let user = current_user();
    for _attempt in 0..4 {
        let port = ssh::select_random_ports(1).expect("a free port")[0];
        let config = dir.path("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {host_key}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {auth}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication yes\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin yes\n\
                 AllowTcpForwarding {forwarding}\n\
                 AllowUsers {user}\n\
                 MaxStartups 100\n\
                 LogLevel VERBOSE\n",
                host_key = host_key.display(),
                pid = dir.path("sshd.pid").display(),
                auth = dir.path("authorized_keys").display(),
                forwarding = if allow_tcp_forwarding { "yes" } else { "no" },
            ),
        )
        .expect("write sshd_config");
        let log = std::fs::File::create(dir.path("sshd.log")).expect("sshd log");
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "--"]);
        if namespace {
            cmd.args([
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
            ])
            .arg(r#"mount --bind "$1" /etc/shadow && exec "$2" -D -e -f "$3""#)
            .arg("sh")
            .arg(dir.path("shadow"))
            .arg(SSHD)
            .arg(&config);
        } else {
            cmd.arg(SSHD).arg("-D").arg("-e").arg("-f").arg(&config);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd under setpriv");
        // Up when the port accepts a connection; gone if it exited (port
        // taken: try another).
        let deadline = Instant::now() + TIMEOUT;
        let up = loop {
            if child.try_wait().expect("sshd status").is_some() {
                break false;
            }
            // Up when sshd itself answers: its banner, not just any
            // listener (another test may hold the port sshd failed to bind).
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok_and(says_ssh) {
                break true;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen within {TIMEOUT:?}: {}",
                std::fs::read_to_string(dir.path("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        if up {
            return Some(Sshd {
                child,
                port,
                user: user.clone(),
                key,
                wrong_key,
                host_pub,
                known_hosts,
                password_auth: namespace,
                dir,
            });
        }
        let log = std::fs::read_to_string(dir.path("sshd.log")).unwrap_or_default();
        eprintln!("sshd exited at start, retrying: {log}");
        if namespace && (log.contains("unshare") || log.contains("mount")) {
            // No private mount namespace here (a container without
            // CAP_SYS_ADMIN): go on without password authentication.
            eprintln!("no private mount namespace: password authentication will not be tested");
            namespace = false;
        }
    }
    panic!("sshd did not start in four attempts");
}

/// A REP socket on an OS-assigned port, its endpoint, and its context.
fn rep() -> (Context, zmqx::Socket, String) {
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep).expect("rep");
    let endpoint = common::bind_tcp(&rep).expect("bind");
    (ctx, rep, endpoint)
}

/// One request and its reply through the tunnel.
fn req_rep_through(ctx: &Context, rep: &zmqx::Socket, tunnel: &Tunnel) {
    let req = socket(ctx, SocketType::Req).expect("req");
    req.connect(tunnel.local_url())
        .expect("connect to the tunnel");
    roundtrip(&req, rep);
}

fn roundtrip(req: &zmqx::Socket, rep: &zmqx::Socket) {
    for i in 0..3 {
        let text = format!("ping {i}");
        req.send(text.as_str()).expect("send request");
        let got = rep.recv_string().expect("request through the tunnel");
        assert_eq!(got, text);
        rep.send(format!("pong {i}").as_str()).expect("send reply");
        let back = req.recv_string().expect("reply through the tunnel");
        assert_eq!(back, format!("pong {i}"));
    }
}

/// Whether the process is gone (no /proc entry, or a zombie nobody reaped).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

fn expect_kind(result: ssh::Result<Tunnel>, kind: ErrorKind, started: Instant) -> String {
    let elapsed = started.elapsed();
    match result {
        Err(ssh::Error::Tunnel { kind: k, message }) => {
            eprintln!("{kind:?} after {elapsed:?}: {message}");
            assert_eq!(k, kind, "{message}");
            assert!(
                elapsed < OPEN_TIMEOUT,
                "took {elapsed:?}, over the {OPEN_TIMEOUT:?} timeout"
            );
            message
        }
        Err(other) => panic!("expected an ssh {kind:?} error, got {other:?}"),
        Ok(t) => panic!("expected an ssh {kind:?} error, got a tunnel {t:?}"),
    }
}

/// Appends a wrong key for the server to the known-hosts file.
fn poison_known_hosts(sshd: &Sshd) {
    let other = sshd.dir.path("other_host");
    keygen(&other);
    let line = std::fs::read_to_string(other.with_extension("pub")).expect("other host key");
    let mut fields = line.split_whitespace();
    let (algo, key) = (fields.next().expect("algo"), fields.next().expect("key"));
    std::fs::write(
        &sshd.known_hosts,
        format!("[127.0.0.1]:{} {algo} {key}\n", sshd.port),
    )
    .expect("write known_hosts");
}

/// Whether the server's key was recorded (OpenSSH may hash the host name:
/// Debian's ssh_config sets `HashKnownHosts yes`).
fn known_hosts_has_server(sshd: &Sshd) -> bool {
    let key = sshd.host_pub.split_whitespace().nth(1).expect("host key");
    std::fs::read_to_string(&sshd.known_hosts).is_ok_and(|t| t.lines().any(|l| l.contains(key)))
}

// ---------------------------------------------------------------------------
// OpenSSH backend

#[test]
fn openssh_req_rep_through_a_tunnel() {
    let Some(sshd) = sshd() else { return };
    let (ctx, rep, endpoint) = rep();
    let req = socket(&ctx, SocketType::Req).expect("req");
    let started = Instant::now();
    let tunnel = ssh::tunnel_connection(
        &req,
        &endpoint,
        &sshd.server(),
        &sshd.options(Backend::OpenSsh).keyfile(&sshd.key),
    )
    .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
    eprintln!("openssh tunnel up in {:?}", started.elapsed());
    assert_eq!(tunnel.backend(), Backend::OpenSsh);
    assert!(tunnel.local_url().starts_with("tcp://127.0.0.1:"));
    assert_ne!(tunnel.local_url(), endpoint);
    roundtrip(&req, &rep);
    // accept-new recorded the host key in the given file, not ~/.ssh.
    assert!(known_hosts_has_server(&sshd), "host key not recorded");

    let pid = tunnel.pid().expect("an ssh process");
    let port = tunnel.local_port();
    assert!(!process_gone(pid));
    drop(tunnel);
    assert!(process_gone(pid), "ssh (pid {pid}) outlived its tunnel");
    // The local port is closed with it.
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
}

#[test]
fn openssh_open_tunnel_with_the_pyzmq_signature_and_close() {
    let Some(sshd) = sshd() else { return };
    let (ctx, rep, endpoint) = rep();
    // The free functions use ~/.ssh/known_hosts: hand ssh the test's file
    // through its own option instead, by way of SshOptions.
    let tunnel = ssh::open_tunnel(
        &endpoint,
        &sshd.server(),
        &sshd.options(Backend::Auto).keyfile(&sshd.key),
    )
    .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
    // Without a password, Auto means the system ssh.
    assert_eq!(tunnel.backend(), Backend::OpenSsh);
    req_rep_through(&ctx, &rep, &tunnel);
    let pid = tunnel.pid().expect("pid");
    let port = tunnel.local_port();
    tunnel.close().expect("close");
    assert!(process_gone(pid));
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "the local port still accepts after close"
    );
}

#[test]
fn openssh_tunnel_survives_the_thread_that_opened_it() {
    let Some(sshd) = sshd() else { return };
    let (ctx, rep, endpoint) = rep();
    // A caller's LogLevel must not hide the client's report of the forward.
    let options = sshd
        .options(Backend::OpenSsh)
        .keyfile(&sshd.key)
        .ssh_option("LogLevel=QUIET");
    let server = sshd.server();
    // PR_SET_PDEATHSIG fires when the forking *thread* ends: the tunnel must
    // not die with a short-lived thread that opened it.
    let mut tunnel = std::thread::spawn(move || ssh::open_tunnel(&endpoint, &server, &options))
        .join()
        .expect("opener thread")
        .expect("open");
    assert!(tunnel.is_alive());
    req_rep_through(&ctx, &rep, &tunnel);
    assert!(tunnel.is_alive());
}

#[test]
fn openssh_no_orphan_when_the_owner_panics() {
    let Some(sshd) = sshd() else { return };
    let (_ctx, _rep, endpoint) = rep();
    let options = sshd.options(Backend::OpenSsh).keyfile(&sshd.key);
    let server = sshd.server();
    let (tx, rx) = std::sync::mpsc::channel();
    let owner = std::thread::spawn(move || {
        let tunnel = ssh::open_tunnel(&endpoint, &server, &options).expect("open");
        tx.send(tunnel.pid().expect("pid")).expect("send pid");
        panic!("the owner of the tunnel panics");
    });
    let pid = rx.recv_timeout(TIMEOUT).expect("the owner opened a tunnel");
    assert!(owner.join().is_err(), "the owner should have panicked");
    assert!(
        process_gone(pid),
        "ssh (pid {pid}) outlived its panicking owner"
    );
}

/// Run by [`openssh_no_orphan_when_the_owner_is_killed`] in a child process:
/// opens a tunnel, prints the ssh pid, and waits to be killed.
#[test]
#[ignore = "helper run in a child process by openssh_no_orphan_when_the_owner_is_killed"]
fn helper_open_tunnel_and_wait() {
    let Ok(spec) = std::env::var("ZMQX_SSH_HELPER") else {
        return;
    };
    let parts: Vec<&str> = spec.split('\n').collect();
    let [server, key, known_hosts, target] = parts[..] else {
        panic!("bad ZMQX_SSH_HELPER: {spec:?}")
    };
    let tunnel = ssh::open_tunnel(
        target,
        server,
        &SshOptions::new()
            .backend(Backend::OpenSsh)
            .keyfile(key)
            .known_hosts(known_hosts)
            .timeout(OPEN_TIMEOUT),
    )
    .expect("open");
    println!("SSH_PID={}", tunnel.pid().expect("pid"));
    // Bounded: the parent kills us long before.
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
fn openssh_no_orphan_when_the_owner_is_killed() {
    let Some(sshd) = sshd() else { return };
    let (_ctx, _rep, endpoint) = rep();
    let spec = [
        sshd.server(),
        sshd.key.display().to_string(),
        sshd.known_hosts.display().to_string(),
        endpoint,
    ]
    .join("\n");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "helper_open_tunnel_and_wait",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZMQX_SSH_HELPER", spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the helper");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            // libtest prints "test name ... " on the same line first.
            if let Some((_, pid)) = line.split_once("SSH_PID=") {
                let _ = tx.send(pid.trim().parse::<u32>().expect("pid"));
                return;
            }
        }
    });
    let pid = match rx.recv_timeout(TIMEOUT) {
        Ok(pid) => pid,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the helper printed no ssh pid ({e}); sshd log:\n{}",
                sshd.log()
            );
        }
    };
    assert!(!process_gone(pid));
    // SIGKILL: no destructor runs, only PR_SET_PDEATHSIG can help.
    child.kill().expect("kill the helper");
    child.wait().expect("reap the helper");
    let gone = common::eventually(TIMEOUT, || process_gone(pid).then_some(()));
    if gone.is_none() {
        // Do not leave it behind ourselves.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("ssh (pid {pid}) outlived its killed owner");
    }
}

#[test]
fn openssh_auth_failure() {
    let Some(sshd) = sshd() else { return };
    let (_ctx, _rep, endpoint) = rep();
    let started = Instant::now();
    let result = ssh::open_tunnel(
        &endpoint,
        &sshd.server(),
        &sshd.options(Backend::OpenSsh).keyfile(&sshd.wrong_key),
    );
    let message = expect_kind(result, ErrorKind::Auth, started);
    assert!(
        message.to_lowercase().contains("permission denied"),
        "{message}"
    );
}

#[test]
fn openssh_unreachable_server() {
    // A port nobody listens on: no sshd needed, but the client is.
    if Command::new("ssh").arg("-V").output().is_err() {
        skip::<()>("ssh not found (apt-get install openssh-client)");
        return;
    }
    let dir = TempDir::new();
    let closed = ssh::select_random_ports(1).expect("port")[0];
    let started = Instant::now();
    let result = ssh::open_tunnel(
        "tcp://127.0.0.1:5555",
        &format!("nobody@127.0.0.1:{closed}"),
        &SshOptions::new()
            .backend(Backend::OpenSsh)
            .known_hosts(dir.path("known_hosts"))
            .timeout(OPEN_TIMEOUT),
    );
    let message = expect_kind(result, ErrorKind::Unreachable, started);
    assert!(message.contains("Connection refused"), "{message}");
}

#[test]
fn openssh_missing_binary() {
    let started = Instant::now();
    let result = ssh::open_tunnel(
        "tcp://127.0.0.1:5555",
        "user@127.0.0.1:22",
        &SshOptions::new()
            .backend(Backend::OpenSsh)
            .ssh_program("/nonexistent/zmqx/ssh")
            .timeout(OPEN_TIMEOUT),
    );
    let message = expect_kind(result, ErrorKind::MissingBinary, started);
    assert!(message.contains("/nonexistent/zmqx/ssh"), "{message}");
    // try_passwordless reports it the same way.
    let options = SshOptions::new()
        .backend(Backend::OpenSsh)
        .ssh_program("/nonexistent/zmqx/ssh");
    let err = ssh::try_passwordless_ssh("user@127.0.0.1:22", &options).expect_err("no client");
    assert_eq!(err.kind(), ErrorKind::MissingBinary, "{err:?}");
}

#[test]
fn openssh_changed_host_key_is_refused() {
    let Some(sshd) = sshd() else { return };
    poison_known_hosts(&sshd);
    let started = Instant::now();
    let result = ssh::open_tunnel(
        "tcp://127.0.0.1:5555",
        &sshd.server(),
        &sshd.options(Backend::OpenSsh).keyfile(&sshd.key),
    );
    expect_kind(result, ErrorKind::HostKey, started);
}

#[test]
fn openssh_strict_policy_refuses_an_unknown_host() {
    let Some(sshd) = sshd() else { return };
    let started = Instant::now();
    let result = ssh::open_tunnel(
        "tcp://127.0.0.1:5555",
        &sshd.server(),
        &sshd
            .options(Backend::OpenSsh)
            .host_key_policy(HostKeyPolicy::Strict)
            .keyfile(&sshd.key),
    );
    expect_kind(result, ErrorKind::HostKey, started);
}

#[test]
fn openssh_try_passwordless() {
    let Some(sshd) = sshd() else { return };
    let options = sshd.options(Backend::OpenSsh);
    assert!(
        ssh::try_passwordless_ssh(&sshd.server(), &options.clone().keyfile(&sshd.key))
            .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()))
    );
    assert!(
        !ssh::try_passwordless_ssh(&sshd.server(), &options.keyfile(&sshd.wrong_key))
            .expect("a clean no")
    );
}

// What the readiness check must catch (issue 18): each of these used to give
// a tunnel that reported itself open while nothing could pass.

/// A tunnel whose local port another program holds fails with
/// `LocalPortInUse`. OpenSSH binds only after logging in, so a probe that
/// took any listener on the port for the tunnel handed out a URL pointing at
/// the other program.
#[test]
fn openssh_local_port_held_by_another_listener_is_an_error() {
    let Some(sshd) = sshd() else { return };
    let (_ctx, _rep, endpoint) = rep();
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = squatter.local_addr().expect("addr").port();
    let options = sshd
        .options(Backend::OpenSsh)
        .keyfile(&sshd.key)
        .local_port(port);
    let started = Instant::now();
    let result = ssh::open_tunnel(&endpoint, &sshd.server(), &options);
    let message = expect_kind(result, ErrorKind::LocalPortInUse, started);
    assert!(message.contains(&port.to_string()), "{message}");
}

/// On the default path zmqx picks a free port, and another program may take
/// it during the login, before ssh binds it. ssh then reports the bind
/// failure, and zmqx picks another port. The race is made certain here by an
/// `ssh` wrapper whose first run reports exactly that and exits as OpenSSH
/// does; later runs are the real client.
#[test]
fn openssh_default_port_taken_during_login_is_picked_again() {
    let Some(sshd) = sshd() else { return };
    let (ctx, rep, endpoint) = rep();
    let wrapper = sshd.dir.path("ssh-port-taken-once");
    let runs = sshd.dir.path("ssh-runs");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             echo run >> '{runs}'\n\
             if [ \"$(wc -l < '{runs}')\" -eq 1 ]; then\n\
             echo 'bind [127.0.0.1]:1: Address already in use' >&2\n\
             echo 'channel_setup_fwd_listener_tcpip: cannot listen to port: 1' >&2\n\
             echo 'Could not request local forwarding.' >&2\n\
             exit 255\n\
             fi\n\
             exec ssh \"$@\"\n",
            runs = runs.display()
        ),
    )
    .expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .expect("chmod the wrapper");
    let options = sshd
        .options(Backend::OpenSsh)
        .keyfile(&sshd.key)
        .ssh_program(&wrapper);
    let tunnel = ssh::open_tunnel(&endpoint, &sshd.server(), &options)
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
    let runs = std::fs::read_to_string(&runs).expect("runs");
    assert_eq!(runs.lines().count(), 2, "ssh should have run twice");
    req_rep_through(&ctx, &rep, &tunnel);

    // A port the caller chose is not changed behind their back.
    std::fs::write(sshd.dir.path("ssh-runs"), "").expect("reset");
    let started = Instant::now();
    let result = ssh::open_tunnel(&endpoint, &sshd.server(), &options.local_port(1));
    expect_kind(result, ErrorKind::LocalPortInUse, started);
}

/// A server with `AllowTcpForwarding no` lets the client log in and bind
/// its port, then refuses every channel: an error, not a dead tunnel.
#[test]
fn openssh_forwarding_disabled_on_the_server_is_an_error() {
    let Some(sshd) = sshd_with(false) else { return };
    let (_ctx, _rep, endpoint) = rep();
    let options = sshd.options(Backend::OpenSsh).keyfile(&sshd.key);
    let started = Instant::now();
    let result = ssh::open_tunnel(&endpoint, &sshd.server(), &options);
    let message = expect_kind(result, ErrorKind::ForwardingDenied, started);
    assert!(message.contains("administratively prohibited"), "{message}");
}

/// A target the server cannot resolve is an error naming it.
#[test]
fn openssh_unresolvable_target_is_an_error() {
    let Some(sshd) = sshd() else { return };
    let options = sshd.options(Backend::OpenSsh).keyfile(&sshd.key);
    let started = Instant::now();
    let result = ssh::open_tunnel("tcp://nowhere.invalid:5555", &sshd.server(), &options);
    let message = expect_kind(result, ErrorKind::TargetUnreachable, started);
    assert!(message.contains("nowhere.invalid:5555"), "{message}");
}

/// A target where nothing listens is an error too: the tunnel is only handed
/// out once the path is shown to work.
#[test]
fn openssh_target_refusing_connections_is_an_error() {
    let Some(sshd) = sshd() else { return };
    let closed = ssh::select_random_ports(1).expect("port")[0];
    let options = sshd.options(Backend::OpenSsh).keyfile(&sshd.key);
    let started = Instant::now();
    let result = ssh::open_tunnel(
        &format!("tcp://127.0.0.1:{closed}"),
        &sshd.server(),
        &options,
    );
    let message = expect_kind(result, ErrorKind::TargetUnreachable, started);
    assert!(message.contains("Connection refused"), "{message}");
}

// ---------------------------------------------------------------------------
// Library backend (russh)

#[cfg(feature = "russh")]
mod library {
    use super::*;

    #[test]
    fn russh_req_rep_through_a_tunnel_with_a_key() {
        let Some(sshd) = sshd() else { return };
        let (ctx, rep, endpoint) = rep();
        let req = socket(&ctx, SocketType::Req).expect("req");
        let started = Instant::now();
        let mut tunnel = ssh::tunnel_connection(
            &req,
            &endpoint,
            &sshd.server(),
            &sshd.options(Backend::Russh).keyfile(&sshd.key),
        )
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
        eprintln!("russh tunnel up in {:?}", started.elapsed());
        assert_eq!(tunnel.backend(), Backend::Russh);
        assert_eq!(tunnel.pid(), None);
        assert!(tunnel.is_alive());
        roundtrip(&req, &rep);
        assert!(known_hosts_has_server(&sshd), "host key not recorded");
        // Several connections share the session: a second client.
        req_rep_through(&ctx, &rep, &tunnel);

        let port = tunnel.local_port();
        tunnel.close().expect("close");
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
            "the local port still accepts after close"
        );
    }

    #[test]
    fn russh_password_authentication() {
        let Some(sshd) = sshd() else { return };
        if !sshd.password_auth {
            skip::<()>("password authentication needs root (see the module docs)");
            return;
        }
        let (ctx, rep, endpoint) = rep();
        let req = socket(&ctx, SocketType::Req).expect("req");
        let tunnel = ssh::tunnel_connection(
            &req,
            &endpoint,
            &sshd.server(),
            &sshd.options(Backend::Russh).password(PASSWORD),
        )
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
        roundtrip(&req, &rep);
        drop(tunnel);

        // Auto picks the library backend for a password.
        let tunnel = ssh::open_tunnel(
            &endpoint,
            &sshd.server(),
            &sshd.options(Backend::Auto).password(PASSWORD),
        )
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
        assert_eq!(tunnel.backend(), Backend::Russh);
        req_rep_through(&ctx, &rep, &tunnel);
    }

    #[test]
    fn russh_wrong_password_and_wrong_key() {
        let Some(sshd) = sshd() else { return };
        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &sshd.server(),
            &sshd.options(Backend::Russh).password("not-the-password"),
        );
        let message = expect_kind(result, ErrorKind::Auth, started);
        assert!(message.contains("password"), "{message}");

        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &sshd.server(),
            &sshd.options(Backend::Russh).keyfile(&sshd.wrong_key),
        );
        expect_kind(result, ErrorKind::Auth, started);

        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &sshd.server(),
            &sshd
                .options(Backend::Russh)
                .keyfile(sshd.dir.path("no_such_key")),
        );
        expect_kind(result, ErrorKind::Auth, started);
    }

    #[test]
    fn russh_is_the_fallback_without_an_ssh_binary() {
        let Some(sshd) = sshd() else { return };
        let (ctx, rep, endpoint) = rep();
        let tunnel = ssh::open_tunnel(
            &endpoint,
            &sshd.server(),
            &sshd
                .options(Backend::Auto)
                .ssh_program("/nonexistent/zmqx/ssh")
                .keyfile(&sshd.key),
        )
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
        assert_eq!(tunnel.backend(), Backend::Russh);
        req_rep_through(&ctx, &rep, &tunnel);
    }

    #[test]
    fn russh_unreachable_server() {
        let dir = TempDir::new();
        let closed = ssh::select_random_ports(1).expect("port")[0];
        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &format!("nobody@127.0.0.1:{closed}"),
            &SshOptions::new()
                .backend(Backend::Russh)
                .known_hosts(dir.path("known_hosts"))
                .timeout(OPEN_TIMEOUT),
        );
        expect_kind(result, ErrorKind::Unreachable, started);
    }

    #[test]
    fn russh_timeout_on_a_silent_server() {
        // A listener that never speaks SSH: the handshake cannot finish.
        let silent = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let timeout = Duration::from_millis(500);
        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &format!("nobody@127.0.0.1:{port}"),
            &SshOptions::new()
                .backend(Backend::Russh)
                .host_key_policy(HostKeyPolicy::AcceptAny)
                .timeout(timeout)
                .password("x"),
        );
        let elapsed = started.elapsed();
        match result {
            Err(e) if e.kind() == ErrorKind::Timeout => {}
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(
            elapsed >= timeout && elapsed < timeout + Duration::from_secs(2),
            "{elapsed:?}"
        );
    }

    #[test]
    fn russh_changed_host_key_is_refused() {
        let Some(sshd) = sshd() else { return };
        poison_known_hosts(&sshd);
        let started = Instant::now();
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &sshd.server(),
            &sshd.options(Backend::Russh).keyfile(&sshd.key),
        );
        let message = expect_kind(result, ErrorKind::HostKey, started);
        assert!(message.contains("CHANGED"), "{message}");

        let started = Instant::now();
        std::fs::write(&sshd.known_hosts, "").expect("empty known_hosts");
        let result = ssh::open_tunnel(
            "tcp://127.0.0.1:5555",
            &sshd.server(),
            &sshd
                .options(Backend::Russh)
                .host_key_policy(HostKeyPolicy::Strict)
                .keyfile(&sshd.key),
        );
        expect_kind(result, ErrorKind::HostKey, started);
    }

    #[test]
    fn russh_try_passwordless() {
        let Some(sshd) = sshd() else { return };
        let options = sshd.options(Backend::Russh);
        assert!(
            ssh::try_passwordless_ssh(&sshd.server(), &options.clone().keyfile(&sshd.key))
                .expect("key login")
        );
        assert!(
            !ssh::try_passwordless_ssh(&sshd.server(), &options.keyfile(&sshd.wrong_key))
                .expect("a clean no")
        );
    }

    #[test]
    fn russh_tunnel_ends_when_the_owner_panics() {
        let Some(sshd) = sshd() else { return };
        let (_ctx, _rep, endpoint) = rep();
        let options = sshd.options(Backend::Russh).keyfile(&sshd.key);
        let server = sshd.server();
        let (tx, rx) = std::sync::mpsc::channel();
        let owner = std::thread::spawn(move || {
            let tunnel = ssh::open_tunnel(&endpoint, &server, &options).expect("open");
            tx.send(tunnel.local_port()).expect("send port");
            panic!("the owner of the tunnel panics");
        });
        let port = rx.recv_timeout(TIMEOUT).expect("the owner opened a tunnel");
        assert!(owner.join().is_err());
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
            "the tunnel outlived its panicking owner"
        );
    }

    #[test]
    fn russh_local_port_held_by_another_listener_is_an_error() {
        let Some(sshd) = sshd() else { return };
        let (_ctx, _rep, endpoint) = rep();
        let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = squatter.local_addr().expect("addr").port();
        let options = sshd
            .options(Backend::Russh)
            .keyfile(&sshd.key)
            .local_port(port);
        let started = Instant::now();
        let result = ssh::open_tunnel(&endpoint, &sshd.server(), &options);
        let message = expect_kind(result, ErrorKind::LocalPortInUse, started);
        assert!(message.contains(&port.to_string()), "{message}");
    }

    #[test]
    fn russh_forwarding_disabled_on_the_server_is_an_error() {
        let Some(sshd) = sshd_with(false) else { return };
        let (_ctx, _rep, endpoint) = rep();
        let options = sshd.options(Backend::Russh).keyfile(&sshd.key);
        let started = Instant::now();
        let result = ssh::open_tunnel(&endpoint, &sshd.server(), &options);
        expect_kind(result, ErrorKind::ForwardingDenied, started);
    }

    #[test]
    fn russh_unresolvable_target_is_an_error() {
        let Some(sshd) = sshd() else { return };
        let options = sshd.options(Backend::Russh).keyfile(&sshd.key);
        let started = Instant::now();
        let result = ssh::open_tunnel("tcp://nowhere.invalid:5555", &sshd.server(), &options);
        let message = expect_kind(result, ErrorKind::TargetUnreachable, started);
        assert!(message.contains("nowhere.invalid:5555"), "{message}");
    }

    #[test]
    fn russh_target_refusing_connections_is_an_error() {
        let Some(sshd) = sshd() else { return };
        let closed = ssh::select_random_ports(1).expect("port")[0];
        let options = sshd.options(Backend::Russh).keyfile(&sshd.key);
        let started = Instant::now();
        let result = ssh::open_tunnel(
            &format!("tcp://127.0.0.1:{closed}"),
            &sshd.server(),
            &options,
        );
        expect_kind(result, ErrorKind::TargetUnreachable, started);
    }
}
