//! The allocation-free async receive (`AsyncSocket::recv_msg_into`) and the
//! waiting paths it shares with every receive: a receive that would block
//! parks without a look at `ZMQ_EVENTS` when it waits alone, so these tests
//! check that no wakeup is lost that way, alone or with other waiters.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, inproc, socket, within};
use zmqx::{AsyncSocket, Context, Error, Message, Result, SocketType};

/// PUSH and PULL with the given high-water marks, over tcp or inproc, with
/// no RCVTIMEO/SNDTIMEO (`within` bounds every step).
fn push_pull(ctx: &Context, tcp: bool, hwm: i32) -> Result<(AsyncSocket, AsyncSocket)> {
    let push = ctx.socket(SocketType::Push)?;
    let pull = ctx.socket(SocketType::Pull)?;
    for s in [&push, &pull] {
        s.set_sndhwm(hwm)?;
        s.set_rcvhwm(hwm)?;
        s.set_linger(Some(Duration::ZERO))?;
    }
    let ep = if tcp {
        bind_tcp(&pull)?
    } else {
        let ep = inproc("recv-into");
        pull.bind(&ep)?;
        ep
    };
    push.connect(&ep)?;
    Ok((AsyncSocket::new(push)?, AsyncSocket::new(pull)?))
}

fn payload(i: u32) -> Vec<u8> {
    // Small (inline in libzmq's message) and large (allocated) parts.
    let len = if i % 7 == 0 {
        70_000
    } else {
        (i % 50) as usize
    };
    let mut v = vec![(i % 251) as u8; len];
    if len >= 4 {
        v[..4].copy_from_slice(&i.to_le_bytes());
    }
    v
}

#[tokio::test]
async fn recv_msg_into_reuses_one_message() -> Result<()> {
    let ctx = Context::new();
    for tcp in [false, true] {
        let (push, pull) = push_pull(&ctx, tcp, 1000)?;
        let mut msg = Message::new();
        for i in 0..300u32 {
            push.send_multipart([payload(i), b"tail".to_vec()]).await?;
            within("first part", pull.recv_msg_into(&mut msg)).await?;
            assert_eq!(msg[..], payload(i)[..], "part 1 of message {i}");
            assert!(msg.more(), "more parts follow");
            within("second part", pull.recv_msg_into(&mut msg)).await?;
            assert_eq!(msg, "tail");
            assert!(!msg.more());
        }
    }
    Ok(())
}

#[tokio::test]
async fn recv_msg_into_honours_rcvtimeo() -> Result<()> {
    let ctx = Context::new();
    let pull = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::from_millis(20))))?;
    pull.bind(&inproc("recv-into-timeout"))?;
    let mut msg = Message::from("old content");
    let started = Instant::now();
    let r = within("timed out receive", pull.recv_msg_into(&mut msg)).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(20));
    // libzmq released the old content when it tried; the message is valid.
    assert!(msg.is_empty());
    Ok(())
}

/// The timeouts are remembered between operations; changing them with
/// `with_socket` takes effect on the next operation.
#[tokio::test]
async fn changed_rcvtimeo_takes_effect() -> Result<()> {
    let ctx = Context::new();
    let pull = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    pull.bind(&inproc("timeo-change"))?;
    let mut msg = Message::new();
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::from_millis(10))))?;
    let r = within("short timeout", pull.recv_msg_into(&mut msg)).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    // No limit now: only tokio's timeout ends the wait.
    pull.with_socket(|s| s.set_rcvtimeo(None))?;
    let waited = tokio::time::timeout(Duration::from_millis(100), pull.recv_msg()).await;
    assert!(waited.is_err(), "RCVTIMEO None must wait: {waited:?}");
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::ZERO)))?;
    let r = within("zero timeout", pull.recv_msg()).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    Ok(())
}

/// A receive that waits alone, through a high-water mark of 1: every
/// receive parks and is woken by the producer, 20,000 times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_msg_into_at_hwm_never_stalls() -> Result<()> {
    const N: u32 = 20_000;
    let ctx = Context::new();
    for tcp in [false, true] {
        let (push, pull) = push_pull(&ctx, tcp, 1)?;
        let producer = tokio::spawn(async move {
            for i in 0..N {
                within("send at HWM", push.send(i.to_le_bytes().to_vec())).await?;
            }
            Ok::<_, Error>(push)
        });
        let mut msg = Message::new();
        for i in 0..N {
            within("recv at HWM", pull.recv_msg_into(&mut msg)).await?;
            assert_eq!(msg[..], i.to_le_bytes(), "message {i}");
        }
        within("producer", producer).await.expect("join")?;
    }
    Ok(())
}

/// `tokio::time::timeout` around `recv_msg_into`, often firing: nothing is
/// lost or reordered, and the reused message stays valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_recv_msg_into_loses_nothing() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    for tcp in [false, true] {
        let (push, pull) = push_pull(&ctx, tcp, 5)?;
        let producer = tokio::spawn(async move {
            for i in 0..N {
                push.send(i.to_le_bytes().to_vec()).await?;
                if i % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            Ok::<_, Error>(push)
        });
        let mut msg = Message::new();
        let mut next = 0u32;
        let mut timeouts = 0u32;
        let deadline = Instant::now() + TIMEOUT;
        while next < N {
            assert!(Instant::now() < deadline, "stalled at message {next}");
            let recv = pull.recv_msg_into(&mut msg);
            match tokio::time::timeout(Duration::from_micros(200), recv).await {
                Ok(r) => {
                    r?;
                    assert_eq!(msg[..], next.to_le_bytes(), "lost or reordered");
                    next += 1;
                }
                Err(_) => timeouts += 1,
            }
        }
        assert!(
            timeouts > 0,
            "no receive was ever cancelled: the test proves nothing"
        );
        within("producer", producer).await.expect("join")?;
        assert!(pull.try_recv_multipart()?.is_none(), "nothing left over");
    }
    Ok(())
}

/// Two tasks receive from one shared socket while a third sends through a
/// small high-water mark: receivers wait together (so they look at
/// `ZMQ_EVENTS` for each other), and every message arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_on_one_socket_get_everything_once() -> Result<()> {
    const N: u32 = 20_000;
    let ctx = Context::new();
    for tcp in [false, true] {
        let (push, pull) = push_pull(&ctx, tcp, 2)?;
        let pull = Arc::new(pull);
        let producer = tokio::spawn(async move {
            for i in 0..N {
                within("send", push.send(i.to_le_bytes().to_vec())).await?;
            }
            // The end marks, one per receiver.
            for _ in 0..2 {
                within("send end", push.send(Vec::new())).await?;
            }
            Ok::<_, Error>(push)
        });
        let receiver = |pull: Arc<AsyncSocket>| {
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut msg = Message::new();
                loop {
                    within("shared recv", pull.recv_msg_into(&mut msg)).await?;
                    if msg.is_empty() {
                        return Ok::<_, Error>(got);
                    }
                    got.push(u32::from_le_bytes(msg[..].try_into().expect("4 bytes")));
                }
            })
        };
        let a = receiver(pull.clone());
        let b = receiver(pull.clone());
        let mut all = within("receiver a", a).await.expect("join")?;
        all.extend(within("receiver b", b).await.expect("join")?);
        within("producer", producer).await.expect("join")?;
        all.sort_unstable();
        assert_eq!(all, (0..N).collect::<Vec<_>>(), "lost or duplicated");
    }
    Ok(())
}

/// Polls `f` once, with this task's waker.
async fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx))).await
}

/// A receive that would block processes libzmq's pending commands, which
/// may be the one (and consume the fd's edge) that a send on the other half
/// waits for: the receive must wake that send. The peer stops after one
/// message, so no later traffic would rescue a lost wakeup.
#[tokio::test(flavor = "current_thread")]
async fn blocked_receive_wakes_the_send_half_it_unblocked() -> Result<()> {
    let ctx = Context::new();
    let a = ctx.socket(SocketType::Pair)?;
    a.set_sndhwm(1)?;
    a.set_linger(Some(Duration::ZERO))?;
    let b = socket(&ctx, SocketType::Pair)?;
    b.set_rcvhwm(1)?;
    let ep = inproc("edge-consumed");
    a.bind(&ep)?;
    b.connect(&ep)?;
    let (tx, rx) = AsyncSocket::new(a)?.split();
    // Fill the pipe until a send would block.
    let mut queued = 0;
    while tx.try_send_multipart(&mut [Message::from("fill")])? {
        queued += 1;
        assert!(queued < 100, "the high-water mark never filled");
    }
    // A task waits to send (POLLOUT); let it park.
    let sender = tokio::spawn(async move { tx.send("last").await });
    tokio::task::yield_now().await;
    assert!(
        !sender.is_finished(),
        "the send should wait at the high-water mark"
    );
    // The peer takes a message: libzmq tells A it may send again.
    let first = b.recv_msg()?;
    assert_eq!(first, "fill");
    // A receive on the other half processes that command and waits.
    let mut recv = Box::pin(rx.recv_msg());
    assert!(poll_once(&mut recv).await.is_pending());
    // The sender must have been woken.
    within("send unblocked by the peer", sender)
        .await
        .expect("join")?;
    Ok(())
}
