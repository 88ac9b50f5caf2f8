//! The hardening flags of `zmqx proxy` and the devices against real peers:
//! `--max-msg-size`, `--handshake-timeout`, `--heartbeat`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bound, lines, socket, spawn, stop};
use zmqx::monitor::EventKind;
use zmqx::{Context, Event, Result, SocketType};

#[cfg(unix)]
#[test]
fn a_frame_over_max_msg_size_does_not_pass_the_proxy() -> Result<()> {
    frames_over_the_limit_do_not_pass(&["--max-msg-size", "1000"], 1000)
}

/// `--harden` limits messages to 1 MiB.
#[cfg(unix)]
#[test]
fn the_harden_preset_limits_message_size() -> Result<()> {
    frames_over_the_limit_do_not_pass(&["--harden"], 1 << 20)
}

/// A frame of `limit + 1` bytes gets its sender disconnected; frames of
/// `limit` bytes pass.
fn frames_over_the_limit_do_not_pass(flags: &[&str], limit: usize) -> Result<()> {
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    let pull_end = common::bind_tcp(&pull)?;
    let backend = format!("push@connect:{pull_end}");
    let mut args = vec![
        "proxy",
        "--frontend",
        "pull@tcp://127.0.0.1:*",
        "--backend",
        &backend,
    ];
    args.extend_from_slice(flags);
    let mut child = spawn(&args);
    let rx = lines(&mut child);
    let result = (|| -> Result<()> {
        let frontend = bound(&rx, "frontend");
        let push = socket(&ctx, SocketType::Push)?;
        let monitor = push.monitor_events(Event::CONNECTED | Event::DISCONNECTED)?;
        let next = || {
            let e = monitor.next_event(Some(TIMEOUT))?;
            Ok::<_, zmqx::Error>(e.map(|e| e.kind))
        };
        push.connect(&frontend)?;
        assert_eq!(next()?, Some(EventKind::Connected));
        // Too large: the proxy drops the connection instead of taking it.
        push.send(vec![b'x'; limit + 1])?;
        assert_eq!(
            next()?,
            Some(EventKind::Disconnected),
            "the proxy drops the sender of a too-large frame"
        );
        // The sender connects again; the next messages (the limit is
        // inclusive) are the first the receiver gets.
        assert_eq!(next()?, Some(EventKind::Connected));
        push.send("small")?;
        push.send(vec![b'y'; limit])?;
        assert_eq!(pull.recv_bytes()?, b"small");
        assert_eq!(pull.recv_bytes()?, vec![b'y'; limit]);
        Ok(())
    })();
    stop(child);
    result
}

/// Reads from a raw TCP peer until the other side closes; returns how long
/// that took, or `None` if it stays open for the whole `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("set_read_timeout");
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(start.elapsed()), // reset
        }
    }
}

fn tcp_peer(endpoint: &str) -> TcpStream {
    let addr = endpoint.strip_prefix("tcp://").expect("a tcp endpoint");
    TcpStream::connect(addr).expect("connect to the proxy")
}

#[cfg(unix)]
#[test]
fn a_silent_connection_is_dropped_after_the_handshake_timeout() {
    let mut child = spawn(&[
        "device",
        "streamer",
        "--in",
        "tcp://127.0.0.1:*",
        "--out",
        "tcp://127.0.0.1:*",
        "--handshake-timeout",
        "200",
    ]);
    let rx = lines(&mut child);
    let endpoint = bound(&rx, "in");
    // Connects and never says a word (libzmq's default waits 30 s).
    let mut peer = tcp_peer(&endpoint);
    let took = closed_within(&mut peer, Duration::from_secs(5));
    stop(child);
    let took = took.expect("the device drops a silent peer");
    assert!(took >= Duration::from_millis(150), "{took:?}");
}

/// A ZMTP 3.0 greeting with the NULL mechanism, as a client.
fn greeting() -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3, 0];
    let mut mechanism = b"NULL".to_vec();
    mechanism.resize(20, 0);
    g.extend_from_slice(&mechanism);
    g.push(0); // as-server
    g.resize(64, 0); // filler
    g
}

/// A READY command announcing a socket type.
fn ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    let mut frame = vec![0x04, body.len() as u8];
    frame.extend_from_slice(&body);
    frame
}

#[cfg(unix)]
#[test]
fn a_peer_that_stops_answering_is_dropped_by_heartbeats() {
    let mut child = spawn(&[
        "proxy",
        "--frontend",
        "pull@tcp://127.0.0.1:*",
        "--backend",
        "push@tcp://127.0.0.1:*",
        "--heartbeat",
        "100,300",
    ]);
    let rx = lines(&mut child);
    let endpoint = bound(&rx, "frontend");
    // A PUSH peer that completes the handshake, then never answers a PING.
    let mut peer = tcp_peer(&endpoint);
    peer.write_all(&greeting()).expect("greeting");
    peer.write_all(&ready("PUSH")).expect("READY");
    let took = closed_within(&mut peer, Duration::from_secs(5));
    stop(child);
    took.expect("the proxy drops a peer that does not answer its PINGs");
}
