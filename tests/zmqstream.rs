//! `ZmqStream`: what pyzmq's `test_zmqstream.py` checks, and the rest of
//! its documented behaviour (on_send, completion callbacks, flush, close).
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::IntoFuture;
#[cfg(feature = "json")]
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TIMEOUT, bind_tcp, socket};
use tokio::sync::mpsc;
use zmqx::asynchronous::ZmqStream;
use zmqx::{AsyncSocket, Context, Error, Message, PollEvents, Result, SocketType};

async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?}"),
    }
}

/// pyzmq's fixture: a PUSH and a PULL stream over tcp.
fn push_pull(ctx: &Context) -> Result<(ZmqStream, ZmqStream)> {
    let push = ZmqStream::new(AsyncSocket::new(socket(ctx, SocketType::Push)?)?)?;
    let pull = ZmqStream::new(AsyncSocket::new(socket(ctx, SocketType::Pull)?)?)?;
    let ep = push.socket().with_socket(bind_tcp)?;
    pull.socket().connect(&ep)?;
    Ok((push, pull))
}

/// A receive callback that forwards messages to a channel.
fn collect(stream: &ZmqStream) -> mpsc::UnboundedReceiver<Vec<Message>> {
    let (tx, rx) = mpsc::unbounded_channel();
    stream.on_recv(move |msg| {
        let _ = tx.send(msg);
    });
    rx
}

#[tokio::test]
async fn on_recv_basic() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    push.send_multipart(["basic"])?;
    let mut rx = collect(&pull);
    assert_eq!(
        within("on_recv", rx.recv()).await.expect("message"),
        ["basic"]
    );
    assert!(pull.receiving());
    Ok(())
}

#[test]
fn on_recv_wake() -> Result<()> {
    // The callback is set first; the message comes once the receive loop
    // waits: once every worker of the runtime sleeps in the kernel.
    let workers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start({
            let workers = workers.clone();
            move || {
                workers
                    .lock()
                    .expect("worker list")
                    .push(common::thread_id())
            }
        })
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let ctx = Context::new();
        let (push, pull) = push_pull(&ctx)?;
        let mut rx = collect(&pull);
        let deadline = std::time::Instant::now() + TIMEOUT;
        let tids = loop {
            let tids = workers.lock().expect("worker list").clone();
            if tids.len() == 2 {
                break tids;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "workers did not start"
            );
            std::thread::yield_now();
        };
        for tid in tids {
            common::wait_until_blocked(tid);
        }
        push.send_multipart(["wake"])?;
        assert_eq!(
            within("on_recv", rx.recv()).await.expect("message"),
            ["wake"]
        );
        Ok(())
    })
}

#[tokio::test]
async fn on_recv_stream_gets_the_stream() -> Result<()> {
    // An echo server in one callback, with no handle captured.
    let ctx = Context::new();
    let rep = ZmqStream::new(AsyncSocket::new(socket(&ctx, SocketType::Rep)?)?)?;
    let ep = rep.socket().with_socket(bind_tcp)?;
    rep.on_recv_stream(|stream, msg| {
        stream.send_multipart(msg).expect("queue the echo");
    });
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    for i in 0..20 {
        req.send_multipart(["echo", &i.to_string()]).await?;
        assert_eq!(
            within("echo", req.recv_multipart()).await?,
            ["echo", &i.to_string()]
        );
    }
    Ok(())
}

#[tokio::test]
async fn panicking_callback_is_reported_and_the_stream_goes_on() -> Result<()> {
    // pyzmq's test_on_recv_async_error: the error is logged, not fatal.
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let (etx, mut erx) = mpsc::unbounded_channel();
    pull.on_error(move |e| {
        let _ = etx.send(e);
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    pull.on_recv(move |msg: Vec<Message>| {
        let _ = tx.send(msg[0].to_vec());
        if msg[0] == "boom" {
            panic!("callback failed on purpose");
        }
    });
    push.send("boom")?;
    push.send("after")?;
    assert_eq!(within("first", rx.recv()).await.expect("message"), b"boom");
    match within("error", erx.recv()).await.expect("an error") {
        Error::CallbackPanicked { callback, message } => {
            assert_eq!(callback, "on_recv");
            assert!(message.contains("on purpose"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        within("second", rx.recv()).await.expect("message"),
        b"after"
    );
    Ok(())
}

#[tokio::test]
async fn stop_on_recv_pauses_without_losing_messages() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let mut rx = collect(&pull);
    push.send("1")?;
    assert_eq!(within("1", rx.recv()).await.expect("message"), ["1"]);
    pull.stop_on_recv();
    assert!(!pull.receiving());
    push.send("2")?;
    push.send("3")?;
    // Nothing is delivered while stopped; the messages wait in the socket.
    let early = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
    // (The stopped callback was dropped, closing its channel: `Ok(None)`.)
    assert!(
        !matches!(early, Ok(Some(_))),
        "delivered while stopped: {early:?}"
    );
    let mut rx = collect(&pull);
    assert_eq!(within("2", rx.recv()).await.expect("message"), ["2"]);
    assert_eq!(within("3", rx.recv()).await.expect("message"), ["3"]);
    Ok(())
}

#[tokio::test]
async fn callback_can_stop_itself() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    pull.on_recv_stream(move |stream, msg| {
        let _ = tx.send(msg);
        stream.stop_on_recv();
    });
    push.send("only")?;
    push.send("later")?;
    assert_eq!(within("only", rx.recv()).await.expect("message"), ["only"]);
    let more = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
    assert!(
        more.is_err() || more == Ok(None),
        "callback ran after stopping itself"
    );
    assert!(!pull.receiving());
    // The second message is still in the socket.
    let got = within("direct", pull.socket().recv_multipart()).await?;
    assert_eq!(got, ["later"]);
    Ok(())
}

#[cfg(feature = "json")]
#[tokio::test]
async fn on_send_and_completion_callbacks() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let sent = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let s2 = sent.clone();
    push.on_send(move |msg| {
        s2.lock()
            .expect("lock")
            .push(msg.iter().flat_map(|m| m.to_vec()).collect());
    });
    let (dtx, mut drx) = mpsc::unbounded_channel();
    push.send_multipart_with(["a", "b"], move |r| {
        let _ = dtx.send(r);
    })?;
    within("done", drx.recv())
        .await
        .expect("completion")
        .expect("sent");
    let mut rx = collect(&pull);
    assert_eq!(
        within("recv", rx.recv()).await.expect("message"),
        ["a", "b"]
    );
    assert_eq!(*sent.lock().expect("lock"), vec![b"ab".to_vec()]);
    push.stop_on_send();
    push.send_json(&serde_json::json!({"x": 1}))?;
    assert_eq!(
        within("json", rx.recv()).await.expect("message"),
        [r#"{"x":1}"#]
    );
    assert_eq!(
        sent.lock().expect("lock").len(),
        1,
        "on_send ran after stop_on_send"
    );
    Ok(())
}

#[tokio::test]
async fn flush_with_a_limit_discards_without_a_callback() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    for i in 0..5 {
        push.send(i.to_string())?;
    }
    assert_eq!(
        within("flush 0", pull.flush(PollEvents::POLLIN, Some(0))).await?,
        0
    );
    // No receive callback: as in pyzmq, flush(POLLIN) takes and drops
    // messages, at most `limit` per call. Over tcp they may trickle in.
    let mut total = 0;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while total < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {total} flushed"
        );
        let n = within("flush", pull.flush(PollEvents::POLLIN, Some(2))).await?;
        assert!(n <= 2, "flush went over its limit: {n}");
        total += n;
        if n == 0 {
            pull.socket()
                .poll(PollEvents::POLLIN, Some(TIMEOUT))
                .await?;
        }
    }
    assert_eq!(total, 5);
    assert!(
        pull.socket().try_recv_multipart()?.is_none(),
        "all five were taken"
    );
    Ok(())
}

#[tokio::test]
async fn flush_sends_queued_messages() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let mut rx = collect(&pull);
    // Once connected, the socket can take the queued messages at once.
    push.send("hello")?;
    assert_eq!(
        within("connected", rx.recv()).await.expect("message"),
        ["hello"]
    );
    for i in 0..3 {
        push.send(i.to_string())?;
    }
    // The task may already have sent some; flush sends the rest now.
    let n = within("flush", push.flush(PollEvents::POLLOUT, None)).await?;
    assert!(n <= 3);
    assert!(!push.sending(), "flush left messages queued");
    for i in 0..3 {
        assert_eq!(
            within("recv", rx.recv()).await.expect("message"),
            [i.to_string().as_str()]
        );
    }
    Ok(())
}

#[tokio::test]
async fn close_fails_unsent_messages_and_runs_the_close_callback() -> Result<()> {
    let ctx = Context::new();
    // No peer: nothing can be sent.
    let push = ZmqStream::new(AsyncSocket::new(socket(&ctx, SocketType::Push)?)?)?;
    let (dtx, mut drx) = mpsc::unbounded_channel();
    push.send_multipart_with(["never"], move |r| {
        let _ = dtx.send(r);
    })?;
    let (ctx_tx, mut ctx_rx) = mpsc::unbounded_channel();
    push.set_close_callback(move || {
        let _ = ctx_tx.send(());
    });
    assert!(push.sending());
    push.close();
    assert!(push.closed());
    let r = within("done", drx.recv()).await.expect("completion");
    assert!(
        matches!(r.as_ref().map_err(Error::root), Err(Error::NotSocket)),
        "{r:?}"
    );
    within("close callback", ctx_rx.recv())
        .await
        .expect("closed");
    assert!(matches!(
        push.send("late").as_ref().map_err(Error::root),
        Err(Error::NotSocket)
    ));
    assert!(matches!(
        push.flush(PollEvents::POLLIN, None)
            .await
            .as_ref()
            .map_err(Error::root),
        Err(Error::NotSocket)
    ));
    Ok(())
}

#[tokio::test]
async fn dropping_every_handle_closes_the_stream() -> Result<()> {
    let ctx = Context::new();
    let stream = ZmqStream::new(AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    stream.set_close_callback(move || {
        let _ = tx.send(());
    });
    let clone = stream.clone();
    drop(stream);
    assert!(!clone.closed());
    drop(clone);
    within("closed", rx.recv()).await.expect("close callback");
    Ok(())
}
