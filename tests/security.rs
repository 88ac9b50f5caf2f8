//! libzmq's security mechanisms through zmqx's typed options, with a
//! hand-written ZAP handler built on `zmqx::auth::zap`: pyzmq's
//! test_security.py in Rust (NULL, PLAIN, failed PLAIN, keypairs, CURVE,
//! and the metadata a ZAP reply attaches to messages).

mod auth_util;
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use auth_util::{Outcome, QUIET, TestResult, handshake_events, judge};
use zmqx::auth::zap::{Credentials, StatusCode, ZAP_ENDPOINT, ZapReply, ZapRequest};
use zmqx::{Context, CurveKey, Mechanism, PollEvents, Result, Socket, SocketType};

const USER: &str = "admin";
const PASS: &str = "password";

/// pyzmq's `zap_handler`: a REP socket at the ZAP endpoint that answers one
/// request (200 with metadata for NULL, CURVE and the right PLAIN password;
/// 400 otherwise) and returns it. Bound before the thread starts, so no
/// sleep is needed.
fn zap_handler(ctx: &Context) -> Result<JoinHandle<Result<ZapRequest>>> {
    let socket = common::socket(ctx, SocketType::Rep)?;
    socket.bind(ZAP_ENDPOINT)?;
    Ok(std::thread::spawn(move || {
        let frames = socket.recv_multipart_bytes()?;
        let request = ZapRequest::parse(&frames).expect("libzmq sends well-formed requests");
        let ok = match &request.credentials {
            Credentials::Null | Credentials::Curve { .. } => true,
            Credentials::Plain { username, password } => {
                username == USER.as_bytes() && password == PASS.as_bytes()
            }
            _ => false,
        };
        let reply = if ok {
            let mut reply = ZapReply::ok(&request, "anonymous");
            reply.metadata.push(("Hello".into(), b"World".to_vec()));
            reply
        } else {
            ZapReply::denied(&request, "Invalid username or password")
        };
        socket.send_multipart(reply.to_frames().expect("encodable"))?;
        Ok(request)
    }))
}

/// pyzmq's `bounce`: two random parts from client to server (checking the
/// metadata when asked) and back.
fn bounce(server: &Socket, client: &Socket, check_metadata: bool) -> Result<()> {
    let msg: Vec<Vec<u8>> = (0..2)
        .map(|i| (0..64).map(|j| (i * 64 + j) as u8 ^ 0x5a).collect())
        .collect();
    client.send_multipart(&msg)?;
    let frames = server.recv_multipart()?;
    if check_metadata {
        for frame in &frames {
            assert_eq!(frame.gets("User-Id")?.as_deref(), Some("anonymous"));
            assert_eq!(frame.gets("Hello")?.as_deref(), Some("World"));
            assert_eq!(frame.gets("Socket-Type")?.as_deref(), Some("DEALER"));
        }
    }
    let received: Vec<Vec<u8>> = frames.iter().map(|f| f.to_vec()).collect();
    assert_eq!(received, msg);
    server.send_multipart(&received)?;
    assert_eq!(client.recv_multipart_bytes()?, msg);
    Ok(())
}

#[test]
fn null() -> TestResult {
    let ctx = Context::new();
    let server = common::socket(&ctx, SocketType::Dealer)?;
    let client = common::socket(&ctx, SocketType::Dealer)?;
    assert_eq!(client.mechanism()?, Mechanism::Null);
    assert_eq!(server.mechanism()?, Mechanism::Null);
    assert!(!client.plain_server()?);
    assert!(!server.plain_server()?);
    client.connect(&common::bind_tcp(&server)?)?;
    Ok(bounce(&server, &client, false)?)
}

#[test]
fn null_with_domain_asks_zap() -> TestResult {
    let ctx = Context::new();
    let server = common::socket(&ctx, SocketType::Dealer)?;
    server.set_routing_id("IDENT")?;
    server.set_zap_domain("global")?;
    let client = common::socket(&ctx, SocketType::Dealer)?;
    let handler = zap_handler(&ctx)?;
    client.connect(&common::bind_tcp(&server)?)?;
    bounce(&server, &client, true)?;
    let request = handler.join().expect("no panic")?;
    assert_eq!(request.mechanism(), "NULL");
    assert_eq!(request.domain, "global");
    assert_eq!(request.address, "127.0.0.1");
    assert_eq!(request.identity, b"IDENT");
    Ok(())
}

#[test]
fn plain() -> TestResult {
    let ctx = Context::new();
    let server = common::socket(&ctx, SocketType::Dealer)?;
    server.set_routing_id("IDENT")?;
    let client = common::socket(&ctx, SocketType::Dealer)?;
    assert_eq!(client.plain_username()?, "");
    assert_eq!(client.plain_password()?, "");
    client.set_plain_username(USER)?;
    client.set_plain_password(PASS)?;
    assert_eq!(client.plain_username()?, USER);
    assert_eq!(client.plain_password()?, PASS);
    assert!(!client.plain_server()?);
    assert!(!server.plain_server()?);
    server.set_plain_server(true)?;
    assert_eq!(server.mechanism()?, Mechanism::Plain);
    assert_eq!(client.mechanism()?, Mechanism::Plain);
    assert!(!client.plain_server()?);
    assert!(server.plain_server()?);

    let handler = zap_handler(&ctx)?;
    client.connect(&common::bind_tcp(&server)?)?;
    bounce(&server, &client, true)?;
    let request = handler.join().expect("no panic")?;
    assert_eq!(request.identity, b"IDENT");
    assert_eq!(request.domain, "");
    assert!(matches!(
        &request.credentials,
        Credentials::Plain { username, password } if username == USER.as_bytes() && password == PASS.as_bytes()
    ));
    Ok(())
}

#[test]
fn plain_wrong_password() -> TestResult {
    // pyzmq skips this one ("skip_plain_inauth"); with the monitor it can
    // be observed for sure.
    let ctx = Context::new();
    let server = common::socket(&ctx, SocketType::Dealer)?;
    server.set_routing_id("IDENT")?;
    server.set_plain_server(true)?;
    let client = common::socket(&ctx, SocketType::Dealer)?;
    client.set_plain_client(USER, "incorrect")?;
    let handler = zap_handler(&ctx)?;
    let mut monitor = server.monitor_events(handshake_events())?;
    let endpoint = common::bind_tcp(&server)?;
    let outcome = judge(&server, &client, &mut monitor, &endpoint, common::TIMEOUT)?;
    assert_eq!(outcome, Outcome::Refused(400));
    // A message the client queues never reaches the server.
    let _ = client.try_send("ping")?;
    assert!(server.poll(PollEvents::POLLIN, Some(QUIET))?.is_empty());
    let request = handler.join().expect("no panic")?;
    assert!(matches!(
        &request.credentials,
        Credentials::Plain { password, .. } if password == b"incorrect"
    ));
    Ok(())
}

#[test]
fn keypair_and_public() -> TestResult {
    let pair = zmqx::curve_keypair()?;
    assert_eq!(pair.public.to_z85().len(), 40);
    assert_eq!(pair.secret.to_z85().len(), 40);
    assert_eq!(CurveKey::from_z85(&pair.public.to_z85())?, pair.public);
    assert_eq!(zmqx::curve_public(&pair.secret)?, pair.public);
    Ok(())
}

#[test]
fn curve() -> TestResult {
    let ctx = Context::new();
    let server = common::socket(&ctx, SocketType::Dealer)?;
    server.set_routing_id("IDENT")?;
    let client = common::socket(&ctx, SocketType::Dealer)?;
    server.set_curve_server(true)?;
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;
    // Z85 text and raw bytes are both accepted.
    server.set_curve_secretkey(server_keys.secret.to_z85())?;
    server.set_curve_publickey(server_keys.public.as_bytes())?;
    client.set_curve_serverkey(server_keys.public.to_z85())?;
    client.set_curve_publickey(client_keys.public.to_z85())?;
    client.set_curve_secretkey(client_keys.secret.as_bytes())?;
    assert_eq!(server.mechanism()?, Mechanism::Curve);
    assert_eq!(client.mechanism()?, Mechanism::Curve);
    assert!(server.curve_server()?);
    assert!(!client.curve_server()?);
    assert_eq!(client.curve_serverkey()?, server_keys.public);

    let handler = zap_handler(&ctx)?;
    client.connect(&common::bind_tcp(&server)?)?;
    bounce(&server, &client, true)?;
    let request = handler.join().expect("no panic")?;
    assert_eq!(
        request.credentials,
        Credentials::Curve {
            public_key: client_keys.public
        }
    );
    Ok(())
}

#[test]
fn refusal_status_reaches_the_monitor() -> TestResult {
    // A hand-written handler refuses with each status; the server's monitor
    // reports it and the client gets nothing.
    for status in [
        StatusCode::TemporaryError,
        StatusCode::AuthenticationFailure,
        StatusCode::InternalError,
    ] {
        let ctx = Context::new();
        let zap = common::socket(&ctx, SocketType::Rep)?;
        zap.bind(ZAP_ENDPOINT)?;
        // The handler answers every request (the client retries after each
        // refusal, and without a handler libzmq would let NULL through).
        let stop = Arc::new(AtomicBool::new(false));
        let handler_stop = stop.clone();
        let handler = std::thread::spawn(move || -> Result<usize> {
            let mut answered = 0;
            while !handler_stop.load(Ordering::Acquire) {
                if zap.poll(PollEvents::POLLIN, Some(QUIET))?.is_empty() {
                    continue;
                }
                let frames = zap.recv_multipart_bytes()?;
                let request = ZapRequest::parse(&frames).expect("well formed");
                let reply = ZapReply::refuse(&request, status, "no");
                zap.send_multipart(reply.to_frames().expect("encodable"))?;
                answered += 1;
            }
            Ok(answered)
        });
        let server = common::socket(&ctx, SocketType::Push)?;
        server.set_zap_domain("global")?;
        let client = common::socket(&ctx, SocketType::Pull)?;
        let mut monitor = server.monitor_events(handshake_events())?;
        let endpoint = common::bind_tcp(&server)?;
        let outcome = judge(&server, &client, &mut monitor, &endpoint, common::TIMEOUT)?;
        assert_eq!(outcome, Outcome::Refused(u32::from(status.code())));
        stop.store(true, Ordering::Release);
        assert!(handler.join().expect("no panic")? >= 1);
    }
    Ok(())
}
