//! The async authenticator: `stop` (and drop) free the ZAP endpoint before
//! they return, so a new handler starts at once; an async CURVE lookup that
//! awaits does not hold up the other connections' handshakes; the
//! authenticator never keeps `Context::term` waiting.

mod auth_util;
mod common;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use zmqx::asynchronous::AsyncAuthenticator;
use zmqx::auth::{Authenticator, Verdict};
use zmqx::{AsyncSocket, Context, CurveKey, CurveKeyPair, Result, SocketType};

async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(common::TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {:?}", common::TIMEOUT),
    }
}

/// A PLAIN handshake through the context's handler: the right password gets
/// a message through.
async fn plain_works(ctx: &Context) -> Result<()> {
    let server = AsyncSocket::new(common::socket(ctx, SocketType::Pull)?)?;
    server.with_socket(|s| s.set_plain_server(true))?;
    let endpoint = server.with_socket(common::bind_tcp)?;
    let client = AsyncSocket::new(common::socket(ctx, SocketType::Push)?)?;
    client.with_socket(|s| s.set_plain_client("admin", "secret"))?;
    client.connect(&endpoint)?;
    client.send("hello").await?;
    assert_eq!(
        within("a PLAIN message", server.recv_string()).await?,
        "hello"
    );
    Ok(())
}

fn plain_policy() -> Authenticator {
    let mut policy = Authenticator::new();
    policy.configure_plain("*", [("admin", "secret")]);
    policy
}

#[tokio::test]
async fn stop_frees_the_zap_endpoint_before_it_returns() -> Result<()> {
    stop_start_rounds().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_frees_the_zap_endpoint_on_a_multi_thread_runtime() -> Result<()> {
    stop_start_rounds().await
}

async fn stop_start_rounds() -> Result<()> {
    let ctx = Context::new();
    // Back to back: each start right after the previous stop. Before the
    // fix, stop only dropped the socket, whose endpoint libzmq frees later,
    // and a start within ~5 ms failed with AddressInUse.
    for round in 0..200 {
        let auth = AsyncAuthenticator::start(&ctx, plain_policy())
            .unwrap_or_else(|e| panic!("start in round {round}: {e}"));
        within("stop", auth.stop()).await?;
    }
    // The same after a drop, which does not wait.
    for round in 0..200 {
        let auth = AsyncAuthenticator::start(&ctx, plain_policy())
            .unwrap_or_else(|e| panic!("start after drop in round {round}: {e}"));
        drop(auth);
    }
    // The last one is a working handler, and the only one.
    let auth = AsyncAuthenticator::start(&ctx, plain_policy())?;
    assert!(AsyncAuthenticator::start(&ctx, Authenticator::new()).is_err());
    plain_works(&ctx).await?;
    within("stop", auth.stop()).await?;
    Ok(())
}

#[tokio::test]
async fn context_termination_is_not_held_up() -> Result<()> {
    let ctx = Context::new();
    let auth = AsyncAuthenticator::start(&ctx, plain_policy())?;
    plain_works(&ctx).await?;
    // The handle holds no socket: term returns while it is alive.
    let term = tokio::task::spawn_blocking(move || ctx.term());
    within("ctx.term", term)
        .await
        .expect("term did not panic")?;
    within("the task ends", async {
        while auth.is_alive() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    within("stop", auth.stop()).await?;
    Ok(())
}

/// A CURVE PUSH client of `server` with its own keys.
fn curve_client(
    ctx: &Context,
    server: &CurveKeyPair,
    keys: &CurveKeyPair,
    endpoint: &str,
) -> Result<AsyncSocket> {
    let client = AsyncSocket::new(common::socket(ctx, SocketType::Push)?)?;
    client.with_socket(|s| s.set_curve_client(&server.public, keys))?;
    client.connect(endpoint)?;
    Ok(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_async_lookup_does_not_delay_other_handshakes() -> Result<()> {
    let ctx = Context::new();
    let server_keys = zmqx::curve_keypair()?;
    let slow = zmqx::curve_keypair()?;
    let fast = zmqx::curve_keypair()?;

    // The lookup of `slow` awaits until the test releases it (a database
    // that takes its time); `fast` is answered at once.
    let (entered_tx, mut entered_rx) = mpsc::unbounded_channel::<CurveKey>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = Arc::new(Mutex::new(Some(release_rx)));
    let slow_key = slow.public;
    let mut policy = Authenticator::new();
    policy.configure_curve_callback_async("*", move |_domain: String, key: CurveKey| {
        let entered = entered_tx.clone();
        let release = match key == slow_key {
            true => release_rx.lock().ok().and_then(|mut r| r.take()),
            false => None,
        };
        async move {
            let _ = entered.send(key);
            if let Some(release) = release {
                let _ = release.await;
            }
            Verdict::Allow
        }
    });
    let auth = AsyncAuthenticator::start(&ctx, policy)?;

    let server = AsyncSocket::new(common::socket(&ctx, SocketType::Pull)?)?;
    server.with_socket(|s| s.set_curve_server_keys(&server_keys))?;
    let endpoint = server.with_socket(common::bind_tcp)?;

    // The slow client first: its lookup starts and waits.
    let slow_client = curve_client(&ctx, &server_keys, &slow, &endpoint)?;
    slow_client.send("slow").await?;
    assert_eq!(
        within("the slow lookup starts", entered_rx.recv()).await,
        Some(slow.public)
    );
    // The fast client gets through while the slow lookup still waits.
    let fast_client = curve_client(&ctx, &server_keys, &fast, &endpoint)?;
    fast_client.send("fast").await?;
    let msg = within("the fast client's message", server.recv_multipart()).await?;
    assert_eq!(msg, ["fast"]);
    assert_eq!(msg[0].gets("User-Id")?, Some(fast.public.to_z85()));
    assert_eq!(
        server.try_recv_multipart()?,
        None,
        "the slow client got in before its lookup ended"
    );

    // Released, the slow client gets in too, with its own user id.
    release_tx.send(()).expect("the slow lookup waits");
    let msg = within("the slow client's message", server.recv_multipart()).await?;
    assert_eq!(msg, ["slow"]);
    assert_eq!(msg[0].gets("User-Id")?, Some(slow.public.to_z85()));
    within("stop", auth.stop()).await?;
    Ok(())
}

#[tokio::test]
async fn async_lookup_verdicts_reach_the_client() -> Result<()> {
    // Deny and try-later from an async lookup refuse the client with their
    // ZAP status, seen on the server's monitor.
    let ctx = Context::new();
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;
    for (verdict, status) in [
        (Verdict::Deny, 400),
        (Verdict::TryLater("database down".into()), 300),
    ] {
        let mut policy = Authenticator::new();
        policy.configure_curve_callback_async("*", move |_: String, _: CurveKey| {
            let verdict = verdict.clone();
            async move {
                tokio::task::yield_now().await;
                verdict
            }
        });
        let auth = AsyncAuthenticator::start(&ctx, policy)?;
        let server = AsyncSocket::new(common::socket(&ctx, SocketType::Pull)?)?;
        server.with_socket(|s| s.set_curve_server_keys(&server_keys))?;
        let mut monitor = server.monitor_events(auth_util::handshake_events())?;
        let endpoint = server.with_socket(common::bind_tcp)?;
        let _client = curve_client(&ctx, &server_keys, &client_keys, &endpoint)?;
        use futures_util::StreamExt;
        let event = within("a handshake event", monitor.next())
            .await
            .expect("an event")?;
        assert_eq!(event.kind, zmqx::monitor::EventKind::HandshakeFailedAuth);
        assert_eq!(event.value, zmqx::monitor::EventValue::AuthStatus(status));
        within("stop", auth.stop()).await?;
    }
    Ok(())
}

#[test]
fn the_thread_authenticator_runs_async_lookups_too() -> auth_util::TestResult {
    // Without a runtime: the future is driven on the authenticator's thread.
    let ctx = Context::new();
    let mut auth = zmqx::auth::ThreadAuthenticator::new(&ctx);
    auth.start()?;
    let server_keys = zmqx::curve_keypair()?;
    let good = zmqx::curve_keypair()?;
    let bad = zmqx::curve_keypair()?;
    let good_key = good.public;
    auth.configure_curve_callback_async("*", move |_: String, key: CurveKey| async move {
        std::future::ready(()).await;
        key == good_key
    });
    for (keys, expected) in [(&good, true), (&bad, false)] {
        let server = common::socket(&ctx, SocketType::Push)?;
        server.set_curve_server_keys(&server_keys)?;
        let client = common::socket(&ctx, SocketType::Pull)?;
        client.set_curve_client(&server_keys.public, keys)?;
        let mut monitor = server.monitor_events(auth_util::handshake_events())?;
        let endpoint = common::bind_tcp(&server)?;
        let outcome = auth_util::judge(&server, &client, &mut monitor, &endpoint, common::TIMEOUT)?;
        let connected = outcome == auth_util::Outcome::Connected;
        assert_eq!(connected, expected, "{outcome:?}");
    }
    assert!(auth.stop());
    Ok(())
}

#[test]
fn a_failed_start_leaves_the_endpoint_free() -> auth_util::TestResult {
    // Outside a tokio runtime the async authenticator cannot start; it must
    // not leave the ZAP endpoint bound behind it.
    let ctx = Context::new();
    for _ in 0..20 {
        assert!(matches!(
            AsyncAuthenticator::start(&ctx, Authenticator::new()),
            Err(zmqx::Error::Reactor(_))
        ));
        let mut auth = zmqx::auth::ThreadAuthenticator::new(&ctx);
        auth.start()?;
        assert!(auth.stop());
    }
    Ok(())
}
