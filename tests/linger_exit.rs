//! A program whose socket holds unsent messages for an absent peer must exit:
//! zmqx gives every socket a linger of [`zmqx::DEFAULT_LINGER`] (1 s) where
//! libzmq's default is to wait forever in `zmq_ctx_term`.
//!
//! Each parent test re-executes this test binary, running only
//! `child_scenario` (`--exact`), with `ZMQX_LINGER_EXIT_CHILD` telling it
//! which linger to use. The child connects a PUSH to a TCP port where nothing
//! listens, queues messages, then returns, dropping socket and context. The
//! parent asserts how the child ends: promptly after about the linger, or —
//! with libzmq's infinite linger — not at all (then the parent kills it),
//! which proves the first test can fail.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zmqx::{Context, DEFAULT_LINGER, SendFlags, SocketType};

const CHILD_ENV: &str = "ZMQX_LINGER_EXIT_CHILD";
const QUEUED: usize = 10;

/// A TCP port on 127.0.0.1 that is bound but never listened on, so connects
/// are refused and nobody can take the port while the fd lives.
fn refused_port() -> (OwnedFd, u16) {
    // SAFETY: plain socket/bind/getsockname calls on a fresh fd with
    // correctly sized, initialised sockaddr_in buffers; the fd is owned by the
    // returned OwnedFd right after creation.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let owned = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(fd, (&raw const addr).cast(), len);
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let mut got: libc::sockaddr_in = std::mem::zeroed();
        let mut got_len = len;
        let rc = libc::getsockname(owned.as_raw_fd(), (&raw mut got).cast(), &mut got_len);
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        (owned, u16::from_be(got.sin_port))
    }
}

/// The scenario, run only in a child process (the variable is unset in a
/// normal test run, and this test then passes at once).
#[test]
fn child_scenario() -> zmqx::Result<()> {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return Ok(());
    };
    let (_reserved, port) = refused_port();
    let start;
    {
        let ctx = Context::new();
        match mode.as_str() {
            "default" => {}
            "infinite" => ctx.set_default_linger(None)?,
            "zero" => ctx.set_default_linger(Some(Duration::ZERO))?,
            other => panic!("unknown mode {other}"),
        }
        let push = ctx.socket(SocketType::Push)?;
        push.connect(&format!("tcp://127.0.0.1:{port}"))?;
        for i in 0..QUEUED {
            // Without IMMEDIATE the pipe exists at once, so these are queued
            // for the absent peer rather than refused.
            push.send_with(format!("message {i}").as_str(), SendFlags::DONTWAIT)?;
        }
        println!("queued {QUEUED}");
        start = Instant::now();
        // socket, then context, dropped here: zmq_close + zmq_ctx_term.
    }
    println!("terminated after {} ms", start.elapsed().as_millis());
    Ok(())
}

fn spawn_child(mode: &str) -> std::process::Child {
    let exe = std::env::current_exe().expect("current_exe");
    Command::new(exe)
        .args([
            "--exact",
            "child_scenario",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the test binary")
}

/// The milliseconds the child reported for dropping socket and context.
fn termination_ms(stdout: &str) -> u128 {
    assert!(
        stdout.contains(&format!("queued {QUEUED}")),
        "the child did not run the scenario: {stdout}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("terminated after "))
        .unwrap_or_else(|| panic!("no termination time in {stdout}"));
    line.trim_end_matches(" ms")
        .parse()
        .expect("a number of ms")
}

#[test]
fn exits_after_the_default_linger() {
    let out = common::wait_child(spawn_child("default"), Duration::from_secs(10))
        .expect("the child must exit within 10 s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}");
    let ms = termination_ms(&stdout);
    let linger = DEFAULT_LINGER.as_millis();
    // The pending messages got their linger (so the wait is real), then were
    // dropped: about one second, not forever.
    assert!(
        ms + 100 >= linger,
        "terminated in {ms} ms, before the {linger} ms linger"
    );
    assert!(
        ms < linger + 4000,
        "terminated in {ms} ms, far past the linger"
    );
}

#[test]
fn exits_at_once_with_zero_linger() {
    let out = common::wait_child(spawn_child("zero"), Duration::from_secs(10))
        .expect("the child must exit within 10 s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}");
    let ms = termination_ms(&stdout);
    assert!(
        ms < DEFAULT_LINGER.as_millis(),
        "linger 0 still waited {ms} ms"
    );
}

#[test]
fn hangs_with_libzmq_infinite_linger() {
    // libzmq's own default: the child waits forever for the absent peer.
    let err = common::wait_child(spawn_child("infinite"), Duration::from_secs(3))
        .expect_err("with an infinite linger the child must still be running after 3 s");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("queued {QUEUED}")),
        "the child hung before the scenario: {msg}"
    );
    assert!(!msg.contains("terminated after"), "{msg}");
}
