//! `Stream` and `Sink` on async sockets and their halves.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::{TIMEOUT, inproc};
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use zmqx::{AsyncSocket, Context, Error, Message, Result, SocketType};

async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?}"),
    }
}

fn sockets(
    ctx: &Context,
    a: SocketType,
    b: SocketType,
    hwm: i32,
) -> Result<(AsyncSocket, AsyncSocket)> {
    let x = ctx.socket(a)?;
    let y = ctx.socket(b)?;
    for s in [&x, &y] {
        s.set_sndhwm(hwm)?;
        s.set_rcvhwm(hwm)?;
        s.set_linger(Some(Duration::ZERO))?;
    }
    let ep = inproc("stream");
    x.bind(&ep)?;
    y.connect(&ep)?;
    Ok((AsyncSocket::new(x)?, AsyncSocket::new(y)?))
}

fn msg(i: u32) -> Vec<Message> {
    vec![Message::from("n"), Message::from(i.to_string())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_to_stream_through_a_small_hwm() -> Result<()> {
    const N: u32 = 5_000;
    let ctx = Context::new();
    let (mut push, pull) = sockets(&ctx, SocketType::Push, SocketType::Pull, 2)?;
    let producer = tokio::spawn(async move {
        let mut items = futures_util::stream::iter((0..N).map(|i| Ok(msg(i))));
        push.send_all(&mut items).await?;
        push.close().await?;
        Ok::<_, Error>(push)
    });
    let got: Vec<Vec<Message>> = within("stream", pull.take(N as usize).try_collect()).await?;
    for (i, m) in got.iter().enumerate() {
        assert_eq!(*m, msg(i as u32));
    }
    within("producer", producer).await.expect("join")?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_as_stream_and_sink() -> Result<()> {
    // An echo: the server's receive half streams into its send half, in
    // another task, while the client sends and receives from two tasks.
    const N: u32 = 2_000;
    let ctx = Context::new();
    let (server, client) = sockets(&ctx, SocketType::Pair, SocketType::Pair, 3)?;
    let (mut server_tx, server_rx) = server.split();
    let echo = tokio::spawn(async move {
        let mut incoming = server_rx.take(N as usize);
        server_tx.send_all(&mut incoming).await?;
        Ok::<_, Error>(())
    });
    let (tx, rx) = client.split();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            within("client send", tx.send_multipart(msg(i))).await?;
        }
        Ok::<_, Error>(tx)
    });
    let mut rx = rx;
    for i in 0..N {
        let m = within("client recv", rx.next())
            .await
            .expect("stream ended")?;
        assert_eq!(m, msg(i));
    }
    within("sender", sender).await.expect("join")?;
    within("echo", echo).await.expect("join")?;
    Ok(())
}

#[tokio::test]
async fn futures_split_of_a_whole_socket() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = sockets(&ctx, SocketType::Pair, SocketType::Pair, 10)?;
    let (mut a_sink, mut a_stream) = StreamExt::split(a);
    let (mut b_sink, mut b_stream) = StreamExt::split(b);
    a_sink.send(msg(1)).await?;
    b_sink.send(msg(2)).await?;
    assert_eq!(within("b", b_stream.next()).await.expect("item")?, msg(1));
    assert_eq!(within("a", a_stream.next()).await.expect("item")?, msg(2));
    Ok(())
}

#[tokio::test]
async fn sink_holds_the_message_until_libzmq_takes_it() -> Result<()> {
    // No peer: the sink accepts one message and keeps it, unsent.
    let ctx = Context::new();
    let mut push = AsyncSocket::new(ctx.socket(SocketType::Push)?)?;
    push.with_socket(|s| s.set_linger(Some(Duration::ZERO)))?;
    push.feed(msg(7)).await?;
    let flushed = tokio::time::timeout(Duration::from_millis(50), push.flush()).await;
    assert!(flushed.is_err(), "nowhere to send");
    // A peer appears: the held message goes out on flush.
    let pull = AsyncSocket::new(ctx.socket(SocketType::Pull)?)?;
    let ep = inproc("sink-held");
    pull.bind(&ep)?;
    push.connect(&ep)?;
    within("flush", push.flush()).await?;
    assert_eq!(within("recv", pull.recv_multipart()).await?, msg(7));
    // An empty message is refused.
    assert!(matches!(
        SinkExt::send(&mut push, vec![]).await,
        Err(Error::InvalidInput { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn stream_ends_after_context_termination() -> Result<()> {
    let ctx = Context::new();
    let mut pull = AsyncSocket::new(ctx.socket(SocketType::Pull)?)?;
    let ctx2 = ctx.clone();
    let (first, ()) = tokio::join!(within("next", pull.next()), async move {
        tokio::task::yield_now().await;
        ctx2.shutdown().expect("shutdown");
    });
    assert!(
        matches!(first, Some(Err(Error::ContextTerminated))),
        "{first:?}"
    );
    assert!(within("end", pull.next()).await.is_none());
    Ok(())
}

#[tokio::test]
async fn monitor_events_as_a_stream() -> Result<()> {
    use zmqx::Event;
    use zmqx::monitor::EventKind;
    let ctx = Context::new();
    let server = AsyncSocket::new(ctx.socket(SocketType::Rep)?)?;
    let mut events = server.monitor_events(Event::ALL)?;
    let ep = server.with_socket(common::bind_tcp)?;
    let first = within("listening", events.next())
        .await
        .expect("an event")?;
    assert_eq!(first.kind, EventKind::Listening);
    let client = ctx.socket(SocketType::Req)?;
    client.set_linger(Some(Duration::ZERO))?;
    client.connect(&ep)?;
    // Accepted, then the handshake.
    let mut kinds = Vec::new();
    while !kinds.contains(&EventKind::HandshakeSucceeded) {
        let e = within("handshake", events.next())
            .await
            .expect("an event")?;
        kinds.push(e.kind);
    }
    assert!(kinds.contains(&EventKind::Accepted), "{kinds:?}");
    // Closing the socket stops the monitor, and the stream ends.
    drop(client);
    let monitor = events.into_monitor();
    let mut events = zmqx::asynchronous::AsyncMonitor::new(monitor)?;
    drop(server);
    let mut last = None;
    while let Some(e) = within("rest", events.next()).await {
        last = Some(e?.kind);
    }
    assert_eq!(last, Some(EventKind::MonitorStopped));
    assert!(events.is_stopped());
    Ok(())
}

#[tokio::test]
async fn async_authenticator_answers_zap() -> Result<()> {
    use zmqx::asynchronous::AsyncAuthenticator;
    use zmqx::auth::Authenticator;
    let ctx = Context::new();
    let mut policy = Authenticator::new();
    policy.configure_plain("*", [("admin", "secret")]);
    let auth = AsyncAuthenticator::start(&ctx, policy)?;
    assert!(auth.is_alive());
    // A second handler in the same context is refused.
    assert!(AsyncAuthenticator::start(&ctx, Authenticator::new()).is_err());

    let server = AsyncSocket::new(common::socket(&ctx, SocketType::Pull)?)?;
    server.with_socket(|s| s.set_plain_server(true))?;
    let ep = server.with_socket(common::bind_tcp)?;
    let mut monitor = server.monitor_events(zmqx::Event::ALL)?;
    let connect = |password: &str| -> Result<AsyncSocket> {
        let c = AsyncSocket::new(common::socket(&ctx, SocketType::Push)?)?;
        c.with_socket(|s| {
            s.set_plain_username("admin")?;
            s.set_plain_password(password)
        })?;
        c.connect(&ep)?;
        Ok(c)
    };
    // The wrong password: the handshake fails with a ZAP refusal.
    let bad = connect("wrong")?;
    loop {
        let e = within("refusal", monitor.next()).await.expect("an event")?;
        if e.kind == zmqx::monitor::EventKind::HandshakeFailedAuth {
            break;
        }
    }
    drop(bad);
    // The right one gets through.
    let good = connect("secret")?;
    good.send("let me in").await?;
    assert_eq!(within("recv", server.recv_string()).await?, "let me in");
    // The policy can change while it runs.
    auth.policy().configure_plain("*", [("admin", "changed")]);
    within("stop", auth.stop()).await?;
    Ok(())
}
