//! `Socket::harden`: the preset for sockets facing untrusted peers, and the
//! behaviour each option of it changes.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, socket};
use zmqx::{Context, Error, Hardening, Result, SocketType};

#[test]
fn preset_values() -> Result<()> {
    let ctx = Context::new();
    let router = ctx.socket(SocketType::Router)?;
    router.harden(&Hardening::default())?;
    assert_eq!(router.maxmsgsize()?, 1 << 20);
    assert_eq!(router.handshake_ivl()?, Some(Duration::from_secs(10)));
    assert_eq!(router.heartbeat_ivl()?, Some(Duration::from_secs(10)));
    assert_eq!(router.heartbeat_timeout()?, Some(Duration::from_secs(30)));
    assert_eq!(router.heartbeat_ttl()?, Some(Duration::from_secs(30)));
    assert_eq!(router.zap_domain()?, "");

    // Other types: no ROUTER_MANDATORY (PUSH would refuse it), the rest as is.
    let push = ctx.socket(SocketType::Push)?;
    let custom = Hardening::new()
        .max_msg_size(Some(4096))
        .handshake_ivl(Some(Duration::from_secs(2)))
        .heartbeat(Some(Duration::from_secs(1)), None, None)
        .zap_domain("edge");
    push.harden(&custom)?;
    assert_eq!(push.maxmsgsize()?, 4096);
    assert_eq!(push.handshake_ivl()?, Some(Duration::from_secs(2)));
    assert_eq!(push.heartbeat_ivl()?, Some(Duration::from_secs(1)));
    // `None` leaves libzmq's value.
    assert_eq!(push.heartbeat_timeout()?, None);
    assert_eq!(push.zap_domain()?, "edge");
    Ok(())
}

/// A hardened ROUTER refuses to route to an unknown peer instead of
/// dropping the message while `send` says `Ok`.
#[test]
fn hardened_router_does_not_drop_silently() -> Result<()> {
    let ctx = Context::new();
    let plain = socket(&ctx, SocketType::Router)?;
    plain.send_multipart(["nobody", "lost"])?;
    let hardened = socket(&ctx, SocketType::Router)?;
    hardened.harden(&Hardening::default())?;
    let r = hardened.send_multipart(["nobody", "kept"]);
    assert!(matches!(r, Err(Error::HostUnreachable)), "{r:?}");
    // Opting out keeps libzmq's behaviour.
    let relaxed = socket(&ctx, SocketType::Router)?;
    relaxed.harden(&Hardening::default().router_mandatory(false))?;
    relaxed.send_multipart(["nobody", "lost"])?;
    Ok(())
}

/// A peer that connects and never completes the handshake (a slowloris) is
/// dropped after `HANDSHAKE_IVL`; libzmq's default keeps it for 30 s.
#[test]
fn handshake_timeout_drops_a_silent_peer() -> Result<()> {
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Rep)?;
    server.harden(&Hardening::default().handshake_ivl(Some(Duration::from_millis(200))))?;
    let endpoint = bind_tcp(&server)?;
    let address = endpoint.trim_start_matches("tcp://");
    let mut peer = std::net::TcpStream::connect(address).expect("connect");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let start = Instant::now();
    // Read (libzmq's greeting) until the server closes the connection.
    let mut buf = [0u8; 256];
    loop {
        match peer.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the silent peer was not dropped: {e}"),
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "dropped after {:?}",
        start.elapsed()
    );
    Ok(())
}
