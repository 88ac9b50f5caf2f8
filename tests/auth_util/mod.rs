//! Helpers for the security tests (auth, certs, security, interop_auth):
//! temporary certificate directories and a connection check that waits on
//! the server's monitor events. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use zmqx::auth::{create_certificates, load_certificate};
use zmqx::monitor::{EventKind, EventValue, Monitor, MonitorEvent};
use zmqx::{CurveKeyPair, Event, PollEvents, Result, Socket};

/// What the tests return: any error, zmqx's or the file system's.
pub type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// How long a refused client is watched to make sure no message gets
/// through: the refusal itself is already proven by the monitor event.
pub const QUIET: Duration = Duration::from_millis(150);

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "zmqx-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A subdirectory, created.
    pub fn sub(&self, name: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(&p).expect("create a subdir");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// pyzmq's `create_certs` fixture: server and client certificates, the
/// public ones in `public_keys`, the secret ones in `private_keys`.
pub struct Certs {
    pub dir: TempDir,
    pub public_dir: PathBuf,
    pub secret_dir: PathBuf,
    pub server: CurveKeyPair,
    pub client: CurveKeyPair,
}

impl Certs {
    pub fn new() -> TestResult<Certs> {
        let dir = TempDir::new("certs");
        let public_dir = dir.sub("public_keys");
        let secret_dir = dir.sub("private_keys");
        let mut pairs = Vec::new();
        for name in ["server", "client"] {
            let (public, secret) = create_certificates(dir.path(), name, &[])?;
            std::fs::rename(
                &public,
                public_dir.join(public.file_name().expect("a file")),
            )?;
            let moved = secret_dir.join(secret.file_name().expect("a file"));
            std::fs::rename(&secret, &moved)?;
            let (public, secret) = load_certificate(&moved)?;
            pairs.push(CurveKeyPair {
                public,
                secret: secret.expect("a secret certificate"),
            });
        }
        let client = pairs.pop().expect("two pairs");
        let server = pairs.pop().expect("two pairs");
        Ok(Certs {
            dir,
            public_dir,
            secret_dir,
            server,
            client,
        })
    }
}

/// The handshake events a server monitor is asked for.
pub fn handshake_events() -> Event {
    Event::HANDSHAKE_SUCCEEDED
        | Event::HANDSHAKE_FAILED_AUTH
        | Event::HANDSHAKE_FAILED_PROTOCOL
        | Event::HANDSHAKE_FAILED_NO_DETAIL
}

/// What happened to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handshake succeeded and a message went through.
    Connected,
    /// The ZAP handler refused the client with this status, and no message
    /// went through.
    Refused(u32),
    /// The handshake failed before ZAP (wrong server key, mechanism
    /// mismatch…), and no message went through.
    Failed(MonitorEvent),
}

/// The first handshake event on `monitor`, at most `common::TIMEOUT`.
pub fn first_handshake_event(monitor: &mut Monitor, timeout: Duration) -> Result<MonitorEvent> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let event = monitor
            .next_event(Some(left))?
            .unwrap_or_else(|| panic!("no handshake event within {timeout:?}"));
        match event.kind {
            EventKind::HandshakeSucceeded
            | EventKind::HandshakeFailedAuth
            | EventKind::HandshakeFailedProtocol
            | EventKind::HandshakeFailedNoDetail => return Ok(event),
            _ => continue,
        }
    }
}

/// pyzmq's `can_connect`, on real signals: `sender` (monitored by
/// `monitor`, set up before it was bound) is the bound side, `receiver`
/// connects to `endpoint`. The first handshake event decides; then a
/// message must go through (connected) or must not (refused or failed).
pub fn judge(
    sender: &Socket,
    receiver: &Socket,
    monitor: &mut Monitor,
    endpoint: &str,
    timeout: Duration,
) -> Result<Outcome> {
    receiver.connect(endpoint)?;
    let event = first_handshake_event(monitor, timeout)?;
    if event.kind == EventKind::HandshakeSucceeded {
        sender.send("Hello World")?;
        assert!(
            !receiver.poll(PollEvents::POLLIN, Some(timeout))?.is_empty(),
            "handshake succeeded but no message arrived"
        );
        let got = receiver.recv_msg()?;
        assert_eq!(got, "Hello World");
        return Ok(Outcome::Connected);
    }
    // Refused: nothing may get through within QUIET, and the bound side
    // still has no peer to send to.
    assert!(
        receiver.poll(PollEvents::POLLIN, Some(QUIET))?.is_empty(),
        "a message arrived after a failed handshake"
    );
    assert!(
        sender
            .poll(PollEvents::POLLOUT, Some(Duration::ZERO))?
            .is_empty()
            || !sender.try_send("leak")?,
        "the sender can send after a failed handshake"
    );
    Ok(match (event.kind, event.value) {
        (EventKind::HandshakeFailedAuth, EventValue::AuthStatus(status)) => {
            Outcome::Refused(status)
        }
        _ => Outcome::Failed(event),
    })
}
