//! `SharedSender` / `SendQueue`: many producer tasks, one socket.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, inproc, socket};
use zmqx::asynchronous::{SendQueue, SharedSender, send_queue};
use zmqx::{AsyncSocket, Context, Error, Result, SocketType};

async fn within<T>(what: &str, f: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?}"),
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send + 'static>() {}
    send_sync::<SharedSender>();
    send::<SendQueue>();
}

/// A PUSH (async) bound and a PULL (async) connected over `transport`.
fn push_pull(ctx: &Context, tcp: bool) -> Result<(AsyncSocket, AsyncSocket)> {
    let push = socket(ctx, SocketType::Push)?;
    let ep = if tcp {
        bind_tcp(&push)?
    } else {
        let ep = inproc("shared-sender");
        push.bind(&ep)?;
        ep
    };
    let pull = socket(ctx, SocketType::Pull)?;
    pull.connect(&ep)?;
    Ok((AsyncSocket::new(push)?, AsyncSocket::new(pull)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_producers_thousand_messages_each_arrive_once() -> Result<()> {
    const PRODUCERS: usize = 8;
    const EACH: usize = 1000;
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, true)?;
    let (sender, mut queue) = send_queue(16)?;
    let owner = tokio::spawn(async move { queue.forward(&push).await });
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let sender = sender.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    sender
                        .send_multipart([p.to_string(), i.to_string()])
                        .await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    drop(sender);
    // Per producer, the next index expected: each message once, in order.
    let mut next = [0usize; PRODUCERS];
    for _ in 0..PRODUCERS * EACH {
        let msg = within("receive", pull.recv_multipart()).await?;
        assert_eq!(msg.len(), 2);
        let p: usize = std::str::from_utf8(&msg[0]).unwrap().parse().unwrap();
        let i: usize = std::str::from_utf8(&msg[1]).unwrap().parse().unwrap();
        assert_eq!(i, next[p], "producer {p}: out of order or duplicated");
        next[p] += 1;
    }
    assert_eq!(next, [EACH; PRODUCERS]);
    for p in producers {
        within("producer", p).await.expect("producer task")?;
    }
    // Every sender gone and the queue empty: forward returns.
    within("owner", owner).await.expect("owner task")?;
    assert!(pull.try_recv_msg()?.is_none());
    Ok(())
}

#[tokio::test]
async fn dropped_owner_fails_pending_senders() -> Result<()> {
    use futures_util::poll;
    let (sender, queue) = send_queue(2)?;
    // A confirmed send: queued at its first poll, then waits for the owner.
    let mut confirmed = Box::pin(sender.send_confirmed("confirmed"));
    assert!(poll!(&mut confirmed).is_pending());
    assert_eq!(queue.len(), 1);
    sender.send("fills the queue").await?;
    // No room: this one waits.
    let mut blocked = Box::pin(sender.send("waits"));
    assert!(poll!(&mut blocked).is_pending());
    drop(queue);
    // Both are woken with an error, neither hangs.
    let r = within("blocked send", blocked).await;
    assert!(matches!(r, Err(Error::NotSocket)), "{r:?}");
    let r = within("confirmed send", confirmed).await;
    assert!(matches!(r, Err(Error::NotSocket)), "{r:?}");
    assert!(sender.is_closed());
    assert!(matches!(sender.send("late").await, Err(Error::NotSocket)));
    Ok(())
}

#[tokio::test]
async fn confirmed_sends_get_the_socket_error() -> Result<()> {
    let ctx = Context::new();
    let router = socket(&ctx, SocketType::Router)?;
    router.set_router_mandatory(true)?;
    let router = AsyncSocket::new(router)?;
    let (sender, mut queue) = send_queue(4)?;
    // Queued first (at its first poll), then waits for the outcome.
    let s = sender.clone();
    let mut confirmed = Box::pin(async move { s.send_multipart_confirmed(["nobody", "x"]).await });
    assert!(futures_util::poll!(&mut confirmed).is_pending());
    sender.send_multipart(["nobody", "y"]).await?;
    drop(sender);
    // The confirmed message's error goes to its sender; the other one's
    // error to the owner.
    let owner = within("forward", queue.forward(&router)).await;
    assert!(matches!(owner, Err(Error::HostUnreachable)), "{owner:?}");
    let r = within("confirmed", confirmed).await;
    assert!(matches!(r, Err(Error::HostUnreachable)), "{r:?}");
    // Nothing left: forward now ends.
    within("forward", queue.forward(&router)).await?;
    Ok(())
}

#[tokio::test]
async fn forward_is_cancel_safe() -> Result<()> {
    // A PUSH without a peer cannot send: forward waits with the message
    // taken from the queue. Cancelled, it keeps it for the next call.
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    let ep = bind_tcp(&push)?;
    let push = AsyncSocket::new(push)?;
    let (sender, mut queue) = send_queue(4)?;
    sender.send("kept").await?;
    let first = tokio::time::timeout(Duration::from_millis(50), queue.forward(&push)).await;
    assert!(first.is_err(), "forward finished without a peer");
    assert_eq!(queue.len(), 1);
    let pull = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    pull.connect(&ep)?;
    drop(sender);
    within("forward", queue.forward(&push)).await?;
    assert_eq!(within("receive", pull.recv_string()).await?, "kept");
    Ok(())
}

#[tokio::test]
async fn close_refuses_new_messages_and_forward_drains_the_rest() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, false)?;
    let (sender, mut queue) = send_queue(4)?;
    sender.send("a").await?;
    sender.send("b").await?;
    queue.close();
    assert!(queue.is_closed());
    assert!(matches!(sender.send("c").await, Err(Error::NotSocket)));
    // The senders still live, but a closed queue ends once drained.
    within("forward", queue.forward(&push)).await?;
    assert_eq!(within("a", pull.recv_string()).await?, "a");
    assert_eq!(within("b", pull.recv_string()).await?, "b");
    Ok(())
}

#[tokio::test]
async fn bad_input_is_refused() -> Result<()> {
    assert!(matches!(send_queue(0), Err(Error::InvalidInput { .. })));
    let (sender, _queue) = send_queue(1)?;
    let empty: [&str; 0] = [];
    assert!(matches!(
        sender.send_multipart(empty).await,
        Err(Error::InvalidInput { .. })
    ));
    Ok(())
}

// ---- Throughput: `cargo test --release --test async_shared_sender -- --ignored --nocapture`

const BENCH_COUNT: usize = 200_000;
const BENCH_SIZE: usize = 64;

/// Receives `count` messages on a thread of its own (blocking socket).
fn sink(ctx: &Context, ep: &str, count: usize) -> Result<std::thread::JoinHandle<Result<Instant>>> {
    let pull = ctx.socket(SocketType::Pull)?;
    pull.set_rcvhwm(1000)?;
    pull.set_rcvtimeo(Some(TIMEOUT))?;
    pull.connect(ep)?;
    Ok(std::thread::spawn(move || {
        let mut msg = zmqx::Message::new();
        for _ in 0..count {
            pull.recv_msg_into(&mut msg)?;
            assert_eq!(msg.len(), BENCH_SIZE);
        }
        Ok(Instant::now())
    }))
}

async fn bench_push(ctx: &Context, tcp: bool) -> Result<(AsyncSocket, String)> {
    let push = ctx.socket(SocketType::Push)?;
    push.set_linger(None)?;
    let ep = if tcp {
        bind_tcp(&push)?
    } else {
        let ep = inproc("shared-sender-bench");
        push.bind(&ep)?;
        ep
    };
    Ok((AsyncSocket::new(push)?, ep))
}

/// How the messages are sent in a throughput run.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The owner sends every message itself.
    OwnerAlone,
    /// `n` tasks send through a `SharedSender`; the owner forwards.
    Shared(usize),
    /// `n` tasks send through one `Arc<AsyncSocket>` (no queue).
    ArcSocket(usize),
}

/// Messages per second.
async fn run(tcp: bool, mode: Mode) -> Result<f64> {
    let ctx = Context::new();
    let (push, ep) = bench_push(&ctx, tcp).await?;
    let done = sink(&ctx, &ep, BENCH_COUNT)?;
    let payload = bytes::Bytes::from(vec![7u8; BENCH_SIZE]);
    let start = Instant::now();
    match mode {
        Mode::OwnerAlone => {
            for _ in 0..BENCH_COUNT {
                push.send(payload.clone()).await?;
            }
        }
        Mode::Shared(producers) => {
            let (sender, mut queue) = send_queue(1024)?;
            let owner = tokio::spawn(async move { queue.forward(&push).await });
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let sender = sender.clone();
                    let payload = payload.clone();
                    tokio::spawn(async move {
                        for _ in 0..BENCH_COUNT / producers {
                            sender.send(payload.clone()).await?;
                        }
                        Ok::<_, Error>(())
                    })
                })
                .collect();
            drop(sender);
            for t in tasks {
                t.await.expect("producer")?;
            }
            owner.await.expect("owner")?;
        }
        Mode::ArcSocket(producers) => {
            let push = std::sync::Arc::new(push);
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let push = push.clone();
                    let payload = payload.clone();
                    tokio::spawn(async move {
                        for _ in 0..BENCH_COUNT / producers {
                            push.send(payload.clone()).await?;
                        }
                        Ok::<_, Error>(())
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("producer")?;
            }
        }
    }
    let end = tokio::task::spawn_blocking(move || done.join().expect("sink"))
        .await
        .expect("join")?;
    Ok(BENCH_COUNT as f64 / (end - start).as_secs_f64())
}

#[test]
#[ignore = "throughput measurement; run with --release -- --ignored --nocapture"]
fn throughput_owner_alone_vs_shared_sender() -> Result<()> {
    for workers in [1, 2] {
        let rt = if workers == 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
        .enable_all()
        .build()
        .expect("runtime");
        for tcp in [false, true] {
            let transport = if tcp { "tcp" } else { "inproc" };
            for mode in [
                Mode::OwnerAlone,
                Mode::Shared(1),
                Mode::Shared(8),
                Mode::ArcSocket(8),
            ] {
                let mut rates = Vec::new();
                for _ in 0..5 {
                    rates.push(rt.block_on(run(tcp, mode))?);
                }
                rates.sort_by(f64::total_cmp);
                println!(
                    "{workers} worker(s) {transport:6} {BENCH_SIZE} B {:14}: median {:>9.0} msg/s (min {:.0}, max {:.0})",
                    format!("{mode:?}"),
                    rates[2],
                    rates[0],
                    rates[4]
                );
            }
        }
    }
    Ok(())
}
