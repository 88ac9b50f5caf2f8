//! The ZAP authenticator on real TCP connections: pyzmq's test_auth.py in
//! Rust (NULL, IP allow/deny, PLAIN, CURVE with certificate directories, the
//! credentials callback, user ids), plus domains, reloads, status codes, the
//! ZAP protocol on the wire and the thread's lifecycle.
//!
//! A refusal is observed twice: the server's monitor reports
//! `HANDSHAKE_FAILED_AUTH` with the ZAP status, and no message gets through.

mod auth_util;
mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_util::{Certs, Outcome, TempDir, TestResult, handshake_events, judge};
use zmqx::auth::zap::ZAP_ENDPOINT;
use zmqx::auth::{CURVE_ALLOW_ANY, CredentialsProvider, ThreadAuthenticator, Verdict};
use zmqx::monitor::EventKind;
use zmqx::{Context, CurveKey, CurveKeyPair, Error, Result, Socket, SocketType};

/// A context with a running authenticator.
fn started() -> Result<(Context, ThreadAuthenticator)> {
    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start()?;
    assert!(auth.is_alive());
    Ok((ctx, auth))
}

/// pyzmq's `push_pull`: the server PUSHes (and binds), the client PULLs.
fn push_pull(ctx: &Context) -> Result<(Socket, Socket)> {
    Ok((
        common::socket(ctx, SocketType::Push)?,
        common::socket(ctx, SocketType::Pull)?,
    ))
}

/// Binds `server` with a monitor, connects `client`, and reports the outcome.
fn connect(server: &Socket, client: &Socket) -> Result<Outcome> {
    let mut monitor = server.monitor_events(handshake_events())?;
    let endpoint = common::bind_tcp(server)?;
    judge(server, client, &mut monitor, &endpoint, common::TIMEOUT)
}

/// A CURVE PULL server and a PUSH client with the given keys; the client
/// sends, the server receives: returns the received message's User-Id, or
/// the outcome when the connection is refused.
fn curve_user_id(
    ctx: &Context,
    server_keys: &CurveKeyPair,
    client_keys: &CurveKeyPair,
) -> Result<std::result::Result<Option<String>, Outcome>> {
    let server = common::socket(ctx, SocketType::Pull)?;
    server.set_curve_server_keys(server_keys)?;
    let client = common::socket(ctx, SocketType::Push)?;
    client.set_curve_client(&server_keys.public, client_keys)?;
    let mut monitor = server.monitor_events(handshake_events())?;
    let endpoint = common::bind_tcp(&server)?;
    client.connect(&endpoint)?;
    let event = auth_util::first_handshake_event(&mut monitor, common::TIMEOUT)?;
    if event.kind != EventKind::HandshakeSucceeded {
        return Ok(Err(Outcome::Failed(event)));
    }
    client.send("test")?;
    let msg = server.recv_msg()?;
    assert_eq!(msg, "test");
    Ok(Ok(msg.gets("User-Id")?))
}

#[test]
fn null_without_authenticator() -> TestResult {
    // A NULL connection does not involve ZAP at all...
    let ctx = Context::new();
    let (server, client) = push_pull(&ctx)?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);
    // ...and a ZAP domain without a handler changes nothing (libzmq 4.3
    // without ZAP_ENFORCE_DOMAIN).
    let (server, client) = push_pull(&ctx)?;
    server.set_zap_domain("global")?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);
    Ok(())
}

#[test]
fn deny_refuses_with_400() -> TestResult {
    let (ctx, auth) = started()?;
    auth.deny(["127.0.0.1"])?;
    assert!(matches!(
        auth.allow(["127.0.0.2"]),
        Err(Error::InvalidInput { .. })
    ));
    let (server, client) = push_pull(&ctx)?;
    // The domain switches ZAP on for NULL sockets.
    server.set_zap_domain("global")?;
    assert_eq!(connect(&server, &client)?, Outcome::Refused(400));
    Ok(())
}

#[test]
fn deny_other_address_accepts() -> TestResult {
    let (ctx, auth) = started()?;
    auth.deny(["10.1.2.3"])?;
    let (server, client) = push_pull(&ctx)?;
    server.set_zap_domain("global")?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);
    Ok(())
}

#[test]
fn allow_accepts_and_refuses_the_rest() -> TestResult {
    let (ctx, auth) = started()?;
    auth.allow(["127.0.0.1"])?;
    assert!(matches!(
        auth.deny(["127.0.0.2"]),
        Err(Error::InvalidInput { .. })
    ));
    let (server, client) = push_pull(&ctx)?;
    server.set_zap_domain("global")?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);

    let (ctx, auth) = started()?;
    auth.allow(["127.0.0.2"])?;
    let (server, client) = push_pull(&ctx)?;
    server.set_zap_domain("global")?;
    assert_eq!(connect(&server, &client)?, Outcome::Refused(400));
    Ok(())
}

#[test]
fn null_without_domain_skips_zap() -> TestResult {
    // libzmq asks ZAP about NULL clients only for sockets with a domain.
    let (ctx, auth) = started()?;
    auth.deny(["127.0.0.1"])?;
    let (server, client) = push_pull(&ctx)?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);
    Ok(())
}

#[test]
fn plain() -> TestResult {
    // (configured, password, expected): pyzmq's test_plain parameters.
    let cases = [
        (true, "correct", Outcome::Connected),
        (false, "correct", Outcome::Refused(400)),
        (true, "incorrect", Outcome::Refused(400)),
    ];
    for (configured, password, expected) in cases {
        let (ctx, mut auth) = started()?;
        let (server, client) = push_pull(&ctx)?;
        server.set_plain_server(true)?;
        client.set_plain_client("admin", password)?;
        if configured {
            auth.configure_plain("*", [("admin", "correct")]);
        }
        assert_eq!(
            connect(&server, &client)?,
            expected,
            "configured {configured}, password {password}"
        );
        drop((server, client));

        // Without the authenticator, a NULL connection works.
        assert!(auth.stop());
        assert!(!auth.is_alive());
        let (server, client) = push_pull(&ctx)?;
        assert_eq!(connect(&server, &client)?, Outcome::Connected);
    }
    Ok(())
}

#[test]
fn plain_without_handler_is_refused() -> TestResult {
    // libzmq refuses PLAIN when no ZAP handler is bound.
    let ctx = Context::new();
    let (server, client) = push_pull(&ctx)?;
    server.set_plain_server(true)?;
    client.set_plain_client("admin", "x")?;
    assert!(matches!(
        connect(&server, &client)?,
        Outcome::Failed(e) if e.kind == EventKind::HandshakeFailedNoDetail
    ));
    Ok(())
}

#[test]
fn user_ids_of_plain_and_null() -> TestResult {
    let (ctx, auth) = started()?;
    auth.configure_plain("*", [("admin", "secret")]);
    let server = common::socket(&ctx, SocketType::Pull)?;
    server.set_plain_server(true)?;
    let endpoint = common::bind_tcp(&server)?;
    let client = common::socket(&ctx, SocketType::Push)?;
    client.set_plain_client("admin", "secret")?;
    client.connect(&endpoint)?;
    client.send("hi")?;
    let msg = server.recv_msg()?;
    assert_eq!(msg.gets("User-Id")?.as_deref(), Some("admin"));

    let server = common::socket(&ctx, SocketType::Pull)?;
    server.set_zap_domain("global")?;
    let endpoint = common::bind_tcp(&server)?;
    let client = common::socket(&ctx, SocketType::Push)?;
    client.connect(&endpoint)?;
    client.send("hi")?;
    let msg = server.recv_msg()?;
    assert_eq!(msg.gets("User-Id")?.as_deref(), Some("anonymous"));
    Ok(())
}

#[test]
fn plain_domains() -> TestResult {
    let (ctx, auth) = started()?;
    auth.configure_plain("*", [("admin", "a")]);
    auth.configure_plain("special", [("bob", "b")]);
    // (server domain, user, password, expected)
    let cases = [
        ("special", "bob", "b", Outcome::Connected),
        ("special", "admin", "a", Outcome::Refused(400)),
        ("other", "admin", "a", Outcome::Connected),
        ("", "admin", "a", Outcome::Connected),
        ("", "bob", "b", Outcome::Refused(400)),
    ];
    for (domain, user, password, expected) in cases {
        let (server, client) = push_pull(&ctx)?;
        server.set_plain_server(true)?;
        if !domain.is_empty() {
            // libzmq refuses an empty ZAP_DOMAIN: unset is empty.
            server.set_zap_domain(domain)?;
        }
        client.set_plain_client(user, password)?;
        assert_eq!(connect(&server, &client)?, expected, "{domain}/{user}");
    }
    Ok(())
}

#[test]
fn plain_reload() -> TestResult {
    let (ctx, auth) = started()?;
    auth.configure_plain("*", [("admin", "old")]);
    let attempt = |password: &str| -> Result<Outcome> {
        let (server, client) = push_pull(&ctx)?;
        server.set_plain_server(true)?;
        client.set_plain_client("admin", password)?;
        connect(&server, &client)
    };
    assert_eq!(attempt("old")?, Outcome::Connected);
    auth.configure_plain("*", [("admin", "new")]);
    assert_eq!(attempt("old")?, Outcome::Refused(400));
    assert_eq!(attempt("new")?, Outcome::Connected);
    Ok(())
}

/// What pyzmq's `curve_push_pull` client uses.
enum ClientKey {
    /// Its own certificate and the right server key.
    Ok,
    /// Its own certificate but a wrong server key.
    WrongServerKey,
    /// No CURVE at all.
    None,
}

fn curve_push_pull(ctx: &Context, certs: &Certs, key: ClientKey) -> Result<(Socket, Socket)> {
    let (server, client) = push_pull(ctx)?;
    server.set_curve_server_keys(&certs.server)?;
    match key {
        ClientKey::Ok => client.set_curve_client(&certs.server.public, &certs.client)?,
        ClientKey::WrongServerKey => {
            client.set_curve_client(&zmqx::curve_keypair()?.public, &certs.client)?
        }
        ClientKey::None => {}
    }
    Ok((server, client))
}

#[test]
fn curve() -> TestResult {
    let certs = Certs::new()?;
    let keys_dir = certs.public_dir.to_string_lossy().into_owned();
    let protocol = |o: &Outcome| matches!(o, Outcome::Failed(e) if e.kind == EventKind::HandshakeFailedProtocol);
    // pyzmq's test_curve parameters.
    let cases: [(ClientKey, &str, bool); 4] = [
        (ClientKey::Ok, CURVE_ALLOW_ANY, true),
        (ClientKey::Ok, &keys_dir, true),
        (ClientKey::WrongServerKey, &keys_dir, false),
        (ClientKey::None, &keys_dir, false),
    ];
    for (key, location, success) in cases {
        let (ctx, mut auth) = started()?;
        auth.allow(["127.0.0.1"])?;
        let (server, client) = curve_push_pull(&ctx, &certs, key)?;
        auth.configure_curve("*", location)?;
        let outcome = connect(&server, &client)?;
        if success {
            assert_eq!(outcome, Outcome::Connected, "{location}");
        } else {
            // These fail in the CURVE handshake itself, before ZAP.
            assert!(protocol(&outcome), "{outcome:?}");
        }
        drop((server, client));
        assert!(auth.stop());
        let (server, client) = push_pull(&ctx)?;
        assert_eq!(connect(&server, &client)?, Outcome::Connected);
    }
    Ok(())
}

#[test]
fn curve_unknown_key_is_refused() -> TestResult {
    let certs = Certs::new()?;
    let (ctx, auth) = started()?;
    auth.configure_curve("*", &certs.public_dir)?;
    let stranger = zmqx::curve_keypair()?;
    let (server, client) = push_pull(&ctx)?;
    server.set_curve_server_keys(&certs.server)?;
    client.set_curve_client(&certs.server.public, &stranger)?;
    assert_eq!(connect(&server, &client)?, Outcome::Refused(400));
    Ok(())
}

#[test]
fn curve_without_configuration_is_refused() -> TestResult {
    let certs = Certs::new()?;
    let (ctx, _auth) = started()?;
    let (server, client) = curve_push_pull(&ctx, &certs, ClientKey::Ok)?;
    assert_eq!(connect(&server, &client)?, Outcome::Refused(400));
    Ok(())
}

#[test]
fn curve_without_handler_and_enforce_domain() -> TestResult {
    let certs = Certs::new()?;
    let stranger = zmqx::curve_keypair()?;
    let ctx = Context::new();
    // No handler: libzmq accepts any client key (encryption only)...
    let (server, client) = push_pull(&ctx)?;
    server.set_curve_server_keys(&certs.server)?;
    server.set_zap_domain("global")?;
    client.set_curve_client(&certs.server.public, &stranger)?;
    assert_eq!(connect(&server, &client)?, Outcome::Connected);
    // ...unless the server enforces its domain.
    let (server, client) = push_pull(&ctx)?;
    server.set_curve_server_keys(&certs.server)?;
    server.set_zap_domain("global")?;
    server.set_zap_enforce_domain(true)?;
    client.set_curve_client(&certs.server.public, &stranger)?;
    assert!(matches!(
        connect(&server, &client)?,
        Outcome::Failed(e) if e.kind == EventKind::HandshakeFailedNoDetail
    ));
    Ok(())
}

/// pyzmq's `CredentialsProvider` of test_curve_callback.
struct Provider {
    allowed: CurveKey,
    calls: Mutex<Vec<(String, CurveKey)>>,
}

impl CredentialsProvider for Provider {
    fn callback(&self, domain: &str, key: &CurveKey) -> bool {
        self.calls
            .lock()
            .expect("not poisoned")
            .push((domain.to_string(), *key));
        *key == self.allowed
    }
}

impl CredentialsProvider for &'static Provider {
    fn callback(&self, domain: &str, key: &CurveKey) -> bool {
        (**self).callback(domain, key)
    }
}

#[test]
fn curve_callback() -> TestResult {
    let certs = Certs::new()?;
    for ok in [true, false] {
        let (ctx, auth) = started()?;
        auth.allow(["127.0.0.1"])?;
        // A leaked provider, so the test can read its calls afterwards.
        let provider: &'static Provider = Box::leak(Box::new(Provider {
            allowed: if ok {
                certs.client.public
            } else {
                certs.server.public
            },
            calls: Mutex::new(Vec::new()),
        }));
        auth.configure_curve_callback("*", provider);
        let (server, client) = curve_push_pull(&ctx, &certs, ClientKey::Ok)?;
        server.set_zap_domain("db")?;
        let expected = if ok {
            Outcome::Connected
        } else {
            Outcome::Refused(400)
        };
        assert_eq!(connect(&server, &client)?, expected);
        let calls = provider.calls.lock().expect("not poisoned");
        assert!(
            calls
                .iter()
                .any(|(d, k)| d == "db" && *k == certs.client.public),
            "{calls:?}"
        );
    }
    Ok(())
}

#[test]
fn curve_callback_closure_and_status_codes() -> TestResult {
    let certs = Certs::new()?;
    let (ctx, auth) = started()?;
    let client_key = certs.client.public;
    auth.configure_curve_callback("ok", move |_: &str, k: &CurveKey| *k == client_key);

    struct Down;
    impl CredentialsProvider for Down {
        fn callback(&self, _: &str, _: &CurveKey) -> bool {
            false
        }
        fn verdict(&self, _: &str, _: &CurveKey) -> Verdict {
            Verdict::TryLater("the database is down".into())
        }
    }
    auth.configure_curve_callback("down", Down);
    auth.configure_curve_callback("buggy", |_: &str, _: &CurveKey| -> bool {
        panic!("a provider bug (expected in this test)")
    });
    for (domain, expected) in [
        ("ok", Outcome::Connected),
        ("down", Outcome::Refused(300)),
        ("buggy", Outcome::Refused(500)),
        ("unconfigured", Outcome::Refused(400)),
    ] {
        let (server, client) = curve_push_pull(&ctx, &certs, ClientKey::Ok)?;
        server.set_zap_domain(domain)?;
        assert_eq!(connect(&server, &client)?, expected, "{domain}");
    }
    // The thread survived the panicking provider.
    assert!(auth.is_alive());
    Ok(())
}

#[test]
fn curve_domains() -> TestResult {
    let certs = Certs::new()?;
    let stranger = zmqx::curve_keypair()?;
    let (ctx, auth) = started()?;
    auth.configure_curve_keys("keys", [certs.client.public]);
    auth.configure_curve_allow_any("open");
    // (domain, client keys, expected)
    let cases = [
        ("keys", &certs.client, Outcome::Connected),
        ("keys", &stranger, Outcome::Refused(400)),
        ("open", &stranger, Outcome::Connected),
        ("", &certs.client, Outcome::Refused(400)),
    ];
    for (domain, keys, expected) in cases {
        let (server, client) = push_pull(&ctx)?;
        server.set_curve_server_keys(&certs.server)?;
        if !domain.is_empty() {
            server.set_zap_domain(domain)?;
        }
        client.set_curve_client(&certs.server.public, keys)?;
        assert_eq!(connect(&server, &client)?, expected, "{domain:?}");
    }
    Ok(())
}

#[test]
fn curve_reload_after_adding_a_certificate() -> TestResult {
    let certs = Certs::new()?;
    let accepted = TempDir::new("accepted");
    let (ctx, auth) = started()?;
    auth.configure_curve("*", accepted.path())?;
    let attempt = || -> Result<Outcome> {
        let (server, client) = curve_push_pull(&ctx, &certs, ClientKey::Ok)?;
        connect(&server, &client)
    };
    assert_eq!(attempt()?, Outcome::Refused(400));
    std::fs::copy(
        certs.public_dir.join("client.key"),
        accepted.path().join("client.key"),
    )?;
    // Not seen until configured again...
    assert_eq!(attempt()?, Outcome::Refused(400));
    // ...then accepted.
    auth.configure_curve("*", accepted.path())?;
    assert_eq!(attempt()?, Outcome::Connected);
    // A directory that cannot be read keeps the previous rule.
    let e = auth
        .configure_curve("*", accepted.path().join("missing"))
        .expect_err("no such directory");
    assert_eq!(e.path, accepted.path().join("missing"));
    assert_eq!(attempt()?, Outcome::Connected);
    Ok(())
}

#[test]
fn curve_user_ids() -> TestResult {
    let certs = Certs::new()?;
    let (ctx, auth) = started()?;
    auth.allow(["127.0.0.1"])?;
    auth.configure_curve("*", &certs.public_dir)?;
    // The default: the Z85 text of the client key.
    assert_eq!(
        curve_user_id(&ctx, &certs.server, &certs.client)?,
        Ok(Some(certs.client.public.to_z85()))
    );
    // A custom mapping, set while running.
    auth.set_curve_user_id(|key: &CurveKey| format!("user-{}", &key.to_z85()[..5]));
    let expected = format!("user-{}", &certs.client.public.to_z85()[..5]);
    assert_eq!(
        curve_user_id(&ctx, &certs.server, &certs.client)?,
        Ok(Some(expected))
    );
    Ok(())
}

#[test]
fn one_handler_per_context() -> TestResult {
    let (ctx, mut auth) = started()?;
    // Twice on the same authenticator.
    assert!(matches!(auth.start(), Err(Error::InvalidInput { .. })));
    // A second authenticator in the same context.
    let mut second = ThreadAuthenticator::new(&ctx);
    match second.start() {
        Err(Error::InvalidInput { reason, .. }) => {
            assert!(reason.contains(ZAP_ENDPOINT), "{reason}")
        }
        other => panic!("a second handler started: {other:?}"),
    }
    assert!(!second.is_alive());
    // After a stop, the endpoint is free at once.
    assert!(auth.stop());
    second.start()?;
    assert!(second.is_alive());
    // Dropping only asks the thread to stop (it does not wait): the
    // endpoint is free once the thread has ended, promptly.
    drop(second);
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    while let Err(e) = auth.start() {
        assert!(std::time::Instant::now() < deadline, "still bound: {e}");
        std::thread::yield_now();
    }
    assert!(auth.is_alive());
    // `stop` waits until the endpoint is free.
    assert!(auth.stop());

    // Something else bound at the ZAP endpoint.
    let other = common::socket(&ctx, SocketType::Rep)?;
    other.bind(ZAP_ENDPOINT)?;
    let mut auth = ThreadAuthenticator::new(&ctx);
    assert!(auth.start().is_err());
    drop(other);
    Ok(())
}

#[test]
fn stop_is_prompt() -> TestResult {
    // The wake-up message ends the thread's wait at once, well before its
    // fallback interval (500 ms).
    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        auth.start()?;
        let start = Instant::now();
        assert!(auth.stop());
        slowest = slowest.max(start.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(400),
        "slowest stop: {slowest:?}"
    );
    Ok(())
}

#[test]
fn stop_never_hangs() -> TestResult {
    let certs = Certs::new()?;
    let (ctx, mut auth) = started()?;
    auth.set_stop_timeout(Duration::from_millis(200));
    // A provider that blocks until released.
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let release_rx = Mutex::new(release_rx);
    auth.configure_curve_callback("*", move |_: &str, _: &CurveKey| {
        let _ = entered_tx.lock().map(|tx| tx.send(()));
        let _ = release_rx.lock().map(|rx| rx.recv_timeout(common::TIMEOUT));
        true
    });
    let (server, client) = curve_push_pull(&ctx, &certs, ClientKey::Ok)?;
    let endpoint = common::bind_tcp(&server)?;
    client.connect(&endpoint)?;
    entered_rx
        .recv_timeout(common::TIMEOUT)
        .expect("the provider is called");

    let start = Instant::now();
    assert!(!auth.stop(), "the thread is stuck in the provider");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
    assert!(!auth.is_alive());

    // Once released, the stuck thread ends and frees the ZAP endpoint.
    release_tx.send(()).expect("the provider waits");
    let mut next = ThreadAuthenticator::new(&ctx);
    let started = common::eventually(common::TIMEOUT, || next.start().ok());
    assert!(started.is_some(), "the old thread never unbound");
    Ok(())
}

#[test]
fn context_termination_ends_the_thread() -> TestResult {
    let (ctx, mut auth) = started()?;
    let (tx, rx) = mpsc::channel();
    let term_ctx = ctx.clone();
    std::thread::spawn(move || {
        let _ = tx.send(term_ctx.term());
    });
    // term waits for every socket, the thread's included: it returns only
    // because the thread saw ETERM and closed them.
    rx.recv_timeout(common::TIMEOUT)
        .expect("ctx.term returned")?;
    assert!(!auth.is_alive());
    assert!(auth.stop());
    // Restarting on a terminated context fails cleanly.
    assert!(matches!(
        auth.start().as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    Ok(())
}

/// Receives one message on `s` within `common::TIMEOUT` as bytes.
fn recv_frames(s: &Socket) -> Result<Vec<Vec<u8>>> {
    s.recv_multipart_bytes()
}

#[test]
fn zap_protocol_on_the_wire() -> TestResult {
    let (ctx, auth) = started()?;
    auth.configure_plain("*", [("admin", "secret")]);
    // Talk to the handler directly, as libzmq's sessions do.
    let zap = common::socket(&ctx, SocketType::Dealer)?;
    zap.connect(ZAP_ENDPOINT)?;
    let request = |id: &str, mechanism: &str, creds: &[&str]| -> Vec<Vec<u8>> {
        let mut f: Vec<Vec<u8>> = ["", "1.0", id, "", "127.0.0.1", "", mechanism]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        f.extend(creds.iter().map(|c| c.as_bytes().to_vec()));
        f
    };
    let text = |frames: &[Vec<u8>]| -> Vec<String> {
        frames
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    };

    zap.send_multipart(request("1", "NULL", &[]))?;
    assert_eq!(
        text(&recv_frames(&zap)?),
        ["", "1.0", "1", "200", "OK", "anonymous", ""]
    );
    zap.send_multipart(request("2", "PLAIN", &["admin", "secret"]))?;
    assert_eq!(
        text(&recv_frames(&zap)?),
        ["", "1.0", "2", "200", "OK", "admin", ""]
    );
    zap.send_multipart(request("3", "PLAIN", &["admin", "wrong"]))?;
    assert_eq!(
        text(&recv_frames(&zap)?),
        ["", "1.0", "3", "400", "Invalid password", "", ""]
    );

    // Malformed with a request id: 500.
    let mut bad_version = request("4", "NULL", &[]);
    bad_version[1] = b"9.9".to_vec();
    zap.send_multipart(&bad_version)?;
    let reply = recv_frames(&zap)?;
    assert_eq!(text(&reply[..4]), ["", "1.0", "4", "500"]);
    zap.send_multipart(request("5", "PLAIN", &["only-user"]))?;
    assert_eq!(text(&recv_frames(&zap)?[..4]), ["", "1.0", "5", "500"]);

    // Nothing to answer: ignored. The next real request gets the next reply.
    zap.send_multipart(["", "1.0"])?;
    zap.send_multipart(["no delimiter"])?;
    // Random garbage (deterministic), never a crash.
    let mut state = 0xDEAD_BEEF_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200 {
        let frames: Vec<Vec<u8>> = (0..1 + next() % 9)
            .map(|i| {
                if i == 0 && next() % 2 == 0 {
                    Vec::new()
                } else {
                    (0..next() % 40).map(|_| next() as u8).collect()
                }
            })
            .collect();
        zap.send_multipart(&frames)?;
        // Drain whatever the garbage earned (500 replies), without waiting.
        while zap.try_recv_multipart()?.is_some() {}
    }
    zap.send_multipart(request("6", "NULL", &[]))?;
    loop {
        // A reply ends with version, id, status, text, user id, metadata.
        let reply = recv_frames(&zap)?;
        let n = reply.len();
        assert!(n >= 7, "{reply:?}");
        if reply[n - 6] == b"1.0" && reply[n - 5] == b"6" {
            assert_eq!(text(&reply[n - 4..n - 2]), ["200", "OK"]);
            break;
        }
        // A late reply to garbage: always a 500.
        assert_eq!(reply[n - 4], b"500", "{reply:?}");
    }
    assert!(auth.is_alive());
    Ok(())
}

#[test]
fn authenticator_is_shareable() -> TestResult {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ThreadAuthenticator>();
    let (_ctx, auth) = started()?;
    let auth = Arc::new(auth);
    let other = auth.clone();
    std::thread::spawn(move || other.configure_plain("*", [("a", "b")]))
        .join()
        .expect("no panic");
    assert!(format!("{:?}", auth.policy()).contains("plain_users_per_domain"));
    Ok(())
}
