//! `ZmqStream` with async receive handlers (pyzmq's coroutine callbacks):
//! back-pressure through libzmq's queue, concurrency limits, order, no loss,
//! panics, and close while a handler runs.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TIMEOUT, bind_tcp, inproc, socket};
use tokio::sync::{Semaphore, mpsc, oneshot};
use zmqx::asynchronous::ZmqStream;
use zmqx::{AsyncSocket, Context, Error, Message, Result, Socket, SocketType};

async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?}"),
    }
}

fn number(msg: &[Message]) -> usize {
    std::str::from_utf8(&msg[0])
        .expect("utf-8")
        .parse()
        .expect("a number")
}

/// A PULL stream bound on inproc and a blocking PUSH connected to it, both
/// with high-water mark `hwm`.
fn pull_stream(ctx: &Context, hwm: i32) -> Result<(ZmqStream, Socket)> {
    let ep = inproc("zmqstream-async");
    let pull = socket(ctx, SocketType::Pull)?;
    pull.set_rcvhwm(hwm)?;
    pull.bind(&ep)?;
    let push = socket(ctx, SocketType::Push)?;
    push.set_sndhwm(hwm)?;
    push.connect(&ep)?;
    Ok((ZmqStream::new(AsyncSocket::new(pull)?)?, push))
}

/// Counts running handlers and keeps the highest count seen.
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let n = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_that_waits_makes_the_sender_hit_hwm() -> Result<()> {
    // While the first handler waits, the stream reads nothing more: the
    // sender fills libzmq's queues and would block. A stream that read on
    // (buffering or spawning the handlers) would take all 10 000.
    let ctx = Context::new();
    let (pull, push) = pull_stream(&ctx, 10)?;
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (started_tx, started_rx) = oneshot::channel();
    let mut started_tx = Some(started_tx);
    let g = gate.clone();
    pull.on_recv_async(move |msg| {
        let gate = g.clone();
        let tx = tx.clone();
        if let Some(s) = started_tx.take() {
            let _ = s.send(());
        }
        async move {
            gate.acquire().await.expect("gate").forget();
            let _ = tx.send(number(&msg));
        }
    });
    push.send("0")?;
    within("first handler", started_rx).await.expect("started");
    // Blocking sends, each allowed 300 ms: one times out once the queues
    // are full and nobody reads them.
    push.set_sndtimeo(Some(Duration::from_millis(300)))?;
    let (_push, sent) = tokio::task::spawn_blocking(move || {
        let mut sent = 1;
        while sent < 10_000 {
            match push.send(sent.to_string()) {
                Ok(()) => sent += 1,
                Err(Error::Again) => break,
                Err(e) => panic!("send: {e}"),
            }
        }
        (push, sent)
    })
    .await
    .expect("sender");
    assert!(sent < 100, "the sender never hit its HWM: {sent} sent");
    assert_eq!(pull.handlers_running(), 1);
    // Open the gate: everything sent arrives, in order.
    gate.add_permits(sent);
    for i in 0..sent {
        assert_eq!(within("handled", rx.recv()).await, Some(i));
    }
    pull.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_is_the_most_that_run() -> Result<()> {
    let ctx = Context::new();
    let (pull, push) = pull_stream(&ctx, 2000)?;
    for i in 0..1000 {
        push.send(i.to_string())?;
    }
    let gauge = Arc::new(Gauge::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let g = gauge.clone();
    pull.on_recv_async_concurrent(4, move |msg| {
        let gauge = g.clone();
        let tx = tx.clone();
        async move {
            gauge.enter();
            tokio::time::sleep(Duration::from_micros(200)).await;
            gauge.leave();
            let _ = tx.send(number(&msg));
        }
    })?;
    let mut seen = vec![false; 1000];
    for _ in 0..1000 {
        let n = within("handled", rx.recv()).await.expect("a number");
        assert!(!seen[n], "message {n} handled twice");
        seen[n] = true;
    }
    assert_eq!(gauge.max.load(Ordering::SeqCst), 4);
    pull.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_at_a_time_keeps_order_over_tcp() -> Result<()> {
    // 1000 messages over tcp, each handler yielding: all arrive, in order,
    // and never two handlers at once.
    let ctx = Context::new();
    let pull = ZmqStream::new(AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?)?;
    let ep = pull.socket().with_socket(bind_tcp)?;
    let gauge = Arc::new(Gauge::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let g = gauge.clone();
    pull.on_recv_async(move |msg| {
        let gauge = g.clone();
        let tx = tx.clone();
        async move {
            gauge.enter();
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            gauge.leave();
            let _ = tx.send(number(&msg));
        }
    });
    let push = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    push.connect(&ep)?;
    let sender = tokio::spawn(async move {
        for i in 0..1000 {
            push.send(i.to_string()).await?;
        }
        Ok::<_, Error>(push)
    });
    for i in 0..1000 {
        assert_eq!(within("handled", rx.recv()).await, Some(i));
    }
    within("sender", sender).await.expect("sender task")?;
    assert_eq!(gauge.max.load(Ordering::SeqCst), 1);
    pull.close();
    Ok(())
}

/// Sends `()` when dropped.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_drops_the_running_handler_before_the_close_callback() -> Result<()> {
    let ctx = Context::new();
    let (pull, push) = pull_stream(&ctx, 10)?;
    let (started_tx, started_rx) = oneshot::channel();
    let (dropped_tx, mut dropped_rx) = oneshot::channel();
    let mut signals = Some((started_tx, dropped_tx));
    pull.on_recv_async(move |_msg| {
        let signals = signals.take();
        async move {
            let Some((started, dropped)) = signals else {
                return;
            };
            let _guard = DropSignal(Some(dropped));
            let _ = started.send(());
            // Never completes on its own.
            std::future::pending::<()>().await;
        }
    });
    let (closed_tx, closed_rx) = oneshot::channel();
    pull.set_close_callback(move || {
        // The handler's future is gone by now.
        let _ = closed_tx.send(dropped_rx.try_recv().is_ok());
    });
    push.send("stuck")?;
    within("handler started", started_rx)
        .await
        .expect("started");
    assert_eq!(pull.handlers_running(), 1);
    pull.close();
    assert!(
        within("close callback", closed_rx).await.expect("closed"),
        "the handler was still alive at the close callback"
    );
    assert_eq!(pull.handlers_running(), 0);
    assert!(pull.closed());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_on_recv_lets_the_running_handler_finish() -> Result<()> {
    let ctx = Context::new();
    let (pull, push) = pull_stream(&ctx, 10)?;
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let g = gate.clone();
    pull.on_recv_async(move |msg| {
        let gate = g.clone();
        let tx = tx.clone();
        let _ = started_tx.send(());
        async move {
            gate.acquire().await.expect("gate").forget();
            let _ = tx.send(number(&msg));
        }
    });
    push.send("0")?;
    push.send("1")?;
    within("handler started", started_rx.recv()).await;
    pull.stop_on_recv();
    gate.add_permits(1);
    assert_eq!(within("first handled", rx.recv()).await, Some(0));
    // Message 1 stays in the socket: no handler is set.
    assert!(!pull.receiving());
    assert_eq!(
        pull.socket().try_recv_multipart()?.map(|m| number(&m)),
        Some(1)
    );
    pull.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_panics_are_reported_and_the_stream_goes_on() -> Result<()> {
    let ctx = Context::new();
    let (pull, push) = pull_stream(&ctx, 10)?;
    let (err_tx, mut err_rx) = mpsc::unbounded_channel();
    pull.on_error(move |e| {
        let _ = err_tx.send(e);
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    pull.on_recv_async(move |msg| {
        let tx = tx.clone();
        let n = number(&msg);
        if n == 0 {
            panic!("handler call {n}");
        }
        async move {
            tokio::task::yield_now().await;
            if n == 1 {
                panic!("handler future {n}");
            }
            let _ = tx.send(n);
        }
    });
    for i in 0..3 {
        push.send(i.to_string())?;
    }
    for expected in ["handler call 0", "handler future 1"] {
        match within("error", err_rx.recv()).await {
            Some(Error::CallbackPanicked { callback, message }) => {
                assert_eq!(callback, "on_recv_async");
                assert_eq!(message, expected);
            }
            other => panic!("expected a panic report, got {other:?}"),
        }
    }
    assert_eq!(within("handled", rx.recv()).await, Some(2));
    assert!(!pull.closed());
    pull.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_handler_replies_through_the_stream() -> Result<()> {
    // With two handlers allowed, a REP stream tries a receive before the
    // reply is sent (EFSM): the stream must wait for the handler, not spin.
    let ctx = Context::new();
    let rep = ZmqStream::new(AsyncSocket::new(socket(&ctx, SocketType::Rep)?)?)?;
    rep.on_error(|e| assert!(matches!(e, Error::InvalidState), "{e}"));
    let ep = rep.socket().with_socket(bind_tcp)?;
    rep.on_recv_stream_async_concurrent(2, |stream, msg| async move {
        tokio::task::yield_now().await;
        stream.send_multipart(msg).expect("queue the echo");
    })?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    for text in ["one", "two"] {
        req.send(text).await?;
        assert_eq!(within("echo", req.recv_string()).await?, text);
    }
    rep.close();
    Ok(())
}

#[tokio::test]
async fn zero_limit_is_refused() -> Result<()> {
    let ctx = Context::new();
    let (pull, _push) = pull_stream(&ctx, 10)?;
    let err = pull
        .on_recv_async_concurrent(0, |_| async {})
        .expect_err("limit 0");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(!pull.receiving());
    pull.close();
    Ok(())
}
