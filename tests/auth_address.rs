//! Address rules hold whatever form the client's address arrives in. An
//! IPv4 client of a dual-stack IPv6 listener (`set_ipv6(true)`, bound to
//! `tcp://*:*` or `tcp://[::]:*`) is reported to ZAP as `::ffff:127.0.0.1`:
//! `deny(["127.0.0.1"])` must refuse it and `allow(["127.0.0.1"])` accept
//! it, and a rule written IPv4-mapped must hold for a plain IPv4 client.
//!
//! Needs an IPv6 loopback: without one the test is skipped with a message,
//! and fails under CI=true.

mod auth_util;
mod common;

use auth_util::{Outcome, TestResult, handshake_events, judge};
use zmqx::auth::ThreadAuthenticator;
use zmqx::auth::zap::{ZAP_ENDPOINT, ZapReply, ZapRequest};
use zmqx::{Context, Result, Socket, SocketType};

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (or fails under CI) with a message.
fn skip(why: &str) {
    assert!(!under_ci(), "cannot run under CI: {why}");
    eprintln!("SKIPPED: {why}");
}

/// A NULL PUSH server with a ZAP domain (so ZAP is asked), bound dual-stack
/// at `bind`; returns it and the endpoint an IPv4 client connects to.
fn dual_stack_server(ctx: &Context, bind: &str) -> Result<(Socket, String)> {
    let server = common::socket(ctx, SocketType::Push)?;
    server.set_ipv6(true)?;
    server.set_zap_domain("global")?;
    server.bind(bind)?;
    let port = server
        .last_endpoint()?
        .rsplit(':')
        .next()
        .map(str::to_string)
        .unwrap_or_default();
    Ok((server, format!("tcp://127.0.0.1:{port}")))
}

/// The address libzmq puts in the ZAP request of an IPv4 client of a
/// dual-stack listener, read with a ZAP handler of our own.
fn reported_address(bind: &str) -> Result<String> {
    let ctx = Context::new();
    let zap = common::socket(&ctx, SocketType::Router)?;
    zap.bind(ZAP_ENDPOINT)?;
    let (server, endpoint) = dual_stack_server(&ctx, bind)?;
    let client = common::socket(&ctx, SocketType::Pull)?;
    client.connect(&endpoint)?;
    // RCVTIMEO bounds the wait.
    let frames = zap.recv_multipart_bytes()?;
    let delimiter = frames.iter().position(Vec::is_empty).expect("an envelope");
    let request = ZapRequest::parse(&frames[delimiter + 1..]).expect("a ZAP request");
    let mut reply: Vec<Vec<u8>> = frames[..=delimiter].to_vec();
    reply.extend(
        ZapReply::ok(&request, "probe")
            .to_frames()
            .expect("a reply encodes"),
    );
    zap.send_multipart(reply.iter().map(Vec::as_slice))?;
    drop((client, server, zap));
    Ok(request.address)
}

/// A context with a running authenticator configured by `rules`, a
/// listener bound at `bind` (dual-stack when `dual`), and the outcome for
/// an IPv4 client.
fn outcome(
    bind: &str,
    dual: bool,
    rules: impl FnOnce(&ThreadAuthenticator) -> Result<()>,
) -> Result<Outcome> {
    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start()?;
    rules(&auth)?;
    let (server, endpoint) = if dual {
        dual_stack_server(&ctx, bind)?
    } else {
        let server = common::socket(&ctx, SocketType::Push)?;
        server.set_zap_domain("global")?;
        let endpoint = server.bind(bind)?;
        (server, endpoint)
    };
    // The monitor is attached after the bind, before any client connects.
    let mut monitor = server.monitor_events(handshake_events())?;
    let client = common::socket(&ctx, SocketType::Pull)?;
    judge(&server, &client, &mut monitor, &endpoint, common::TIMEOUT)
}

#[test]
fn address_rules_hold_for_ipv4_clients_of_a_dual_stack_listener() -> TestResult {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        skip("this host has no IPv6 loopback");
        return Ok(());
    }
    for bind in ["tcp://*:*", "tcp://[::]:*"] {
        // The form under test really is what libzmq reports.
        let address = reported_address(bind)?;
        if address != "::ffff:127.0.0.1" {
            skip(&format!(
                "{bind} is not dual-stack here (IPv4 clients arrive as {address:?})"
            ));
            return Ok(());
        }
        let deny = |rule: &'static str| move |a: &ThreadAuthenticator| a.deny([rule]);
        let allow = |rule: &'static str| move |a: &ThreadAuthenticator| a.allow([rule]);
        assert_eq!(
            outcome(bind, true, deny("127.0.0.1"))?,
            Outcome::Refused(400),
            "deny 127.0.0.1 on {bind}"
        );
        assert_eq!(
            outcome(bind, true, allow("127.0.0.1"))?,
            Outcome::Connected,
            "allow 127.0.0.1 on {bind}"
        );
        // Controls: other addresses change nothing.
        assert_eq!(
            outcome(bind, true, deny("127.0.0.2"))?,
            Outcome::Connected,
            "deny 127.0.0.2 on {bind}"
        );
        assert_eq!(
            outcome(bind, true, allow("::1"))?,
            Outcome::Refused(400),
            "allow ::1 on {bind}"
        );
    }
    Ok(())
}

#[test]
fn mapped_rules_hold_for_plain_ipv4_clients() -> TestResult {
    // The reverse: the rule written IPv4-mapped, the client's address IPv4.
    let deny = |a: &ThreadAuthenticator| a.deny(["::ffff:127.0.0.1"]);
    let allow = |a: &ThreadAuthenticator| a.allow(["::ffff:127.0.0.1"]);
    assert_eq!(
        outcome("tcp://127.0.0.1:*", false, deny)?,
        Outcome::Refused(400)
    );
    assert_eq!(
        outcome("tcp://127.0.0.1:*", false, allow)?,
        Outcome::Connected
    );
    Ok(())
}

#[test]
fn rules_that_are_not_ips_are_refused() -> TestResult {
    // A rule that can never match is an error, not a silent no-op.
    let ctx = Context::new();
    let auth = ThreadAuthenticator::new(&ctx);
    for bad in ["localhost", "127.1", "127.0.0.1:5555", "10.0.0.0/8"] {
        assert!(
            matches!(auth.deny([bad]), Err(zmqx::Error::InvalidInput { .. })),
            "{bad}"
        );
    }
    // Nothing was added: allow still works (the two are exclusive).
    auth.allow(["[::1]", "fe80::1%lo"])?;
    Ok(())
}
