//! The async socket (`zmqx::asynchronous`): what pyzmq's `test_asyncio.py`
//! and `test_future.py` check, plus the hard parts of readiness: no lost
//! wakeup at the high-water mark, cancellation safety, no busy loop.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, inproc, socket, within};
#[cfg(feature = "json")]
use serde::{Deserialize, Serialize};
use zmqx::asynchronous::AsyncPoller;
use zmqx::serialize::from_fns;
use zmqx::{AsyncSocket, Context, Error, Message, PollEvents, Result, SocketType};

fn asock(ctx: &Context, kind: SocketType) -> Result<AsyncSocket> {
    AsyncSocket::new(socket(ctx, kind)?)
}

/// A bound/connected pair over inproc.
fn pair(ctx: &Context, a: SocketType, b: SocketType) -> Result<(AsyncSocket, AsyncSocket)> {
    let x = asock(ctx, a)?;
    let y = asock(ctx, b)?;
    let ep = inproc("async-pair");
    x.bind(&ep)?;
    y.connect(&ep)?;
    Ok((x, y))
}

/// A bound/connected pair over tcp.
fn tcp_pair(ctx: &Context, a: SocketType, b: SocketType) -> Result<(AsyncSocket, AsyncSocket)> {
    let x = asock(ctx, a)?;
    let y = asock(ctx, b)?;
    let ep = x.with_socket(bind_tcp)?;
    y.connect(&ep)?;
    Ok((x, y))
}

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[tokio::test]
async fn futures_are_send() -> Result<()> {
    assert_send_sync::<AsyncSocket>();
    assert_send_sync::<zmqx::AsyncSender>();
    assert_send_sync::<zmqx::AsyncReceiver>();
    let ctx = Context::new();
    let s = asock(&ctx, SocketType::Dealer)?;
    assert_send(&s.recv_msg());
    assert_send(&s.recv_multipart());
    assert_send(&s.recv_string());
    #[cfg(feature = "json")]
    assert_send(&s.recv_json::<serde_json::Value>());
    assert_send(&s.send("x"));
    assert_send(&s.send_multipart(["a", "b"]));
    #[cfg(feature = "json")]
    assert_send(&s.send_json(&1));
    assert_send(&s.poll(PollEvents::POLLIN, None));
    let mut p = AsyncPoller::new();
    p.register(&s, PollEvents::POLLIN);
    assert_send(&p.poll(None));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_under_spawn_on_multi_thread_runtime() -> Result<()> {
    let ctx = Context::new();
    let (rep, req) = tcp_pair(&ctx, SocketType::Rep, SocketType::Req)?;
    let server = tokio::spawn(async move {
        for _ in 0..100 {
            let m = rep.recv_multipart().await?;
            rep.send_multipart(m).await?;
        }
        Ok::<_, Error>(())
    });
    let client = tokio::spawn(async move {
        for i in 0..100u32 {
            req.send(i.to_string()).await?;
            assert_eq!(req.recv_string().await?, i.to_string());
        }
        Ok::<_, Error>(())
    });
    within("client", client).await.expect("join")?;
    within("server", server).await.expect("join")?;
    Ok(())
}

#[tokio::test]
async fn recv_multipart_waits_for_send() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    let (recvd, ()) = tokio::join!(within("recv", pull.recv_multipart()), async {
        tokio::task::yield_now().await;
        push.send("hi").await.expect("send");
    });
    assert_eq!(recvd?, ["hi"]);
    Ok(())
}

#[tokio::test]
async fn recv_parts_in_order() -> Result<()> {
    // pyzmq's test_recv: two single-part receives get the two parts.
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    push.send_multipart(["hi", "there"]).await?;
    let a = within("recv 1", pull.recv_msg()).await?;
    assert!(a.more());
    let b = within("recv 2", pull.recv_msg()).await?;
    assert_eq!((a, b), (Message::from("hi"), Message::from("there")));
    Ok(())
}

#[tokio::test]
async fn recv_timeout_honours_rcvtimeo() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::from_millis(100))))?;
    let start = Instant::now();
    let r = within("recv", pull.recv_msg()).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    assert!(start.elapsed() >= Duration::from_millis(90));
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::from_millis(1000))))?;
    let (r, sent) = tokio::join!(pull.recv_multipart(), push.send_multipart(["hi", "there"]));
    sent?;
    assert_eq!(r?, ["hi", "there"]);
    // RCVTIMEO 0 is "don't wait".
    pull.with_socket(|s| s.set_rcvtimeo(Some(Duration::ZERO)))?;
    assert!(matches!(pull.recv_msg().await, Err(Error::Again)));
    Ok(())
}

#[tokio::test]
async fn send_timeout_honours_sndtimeo() -> Result<()> {
    let ctx = Context::new();
    let push = asock(&ctx, SocketType::Push)?;
    push.with_socket(|s| s.set_sndtimeo(Some(Duration::from_millis(100))))?;
    let r = within("send", push.send("not going anywhere")).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    Ok(())
}

#[tokio::test]
async fn send_noblock() -> Result<()> {
    let ctx = Context::new();
    let push = asock(&ctx, SocketType::Push)?;
    let mut parts = vec![Message::from("not going anywhere")];
    assert!(!push.try_send_multipart(&mut parts)?);
    // Nothing was taken: the message is still there.
    assert_eq!(parts[0], "not going anywhere");
    assert!(matches!(
        push.try_send_multipart(&mut []),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        push.send_multipart(Vec::<Message>::new()).await,
        Err(Error::InvalidInput { .. })
    ));
    Ok(())
}

#[cfg(feature = "json")]
#[tokio::test]
async fn recv_string_and_json() -> Result<()> {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Obj {
        a: i32,
    }
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    push.send("πøøπ").await?;
    assert_eq!(within("string", pull.recv_string()).await?, "πøøπ");
    push.send_json(&Obj { a: 5 }).await?;
    assert_eq!(within("json", pull.recv_json::<Obj>()).await?, Obj { a: 5 });
    // Bad UTF-8 and bad JSON hand the bytes back.
    push.send(&b"\xff\xfe"[..]).await?;
    match pull.recv_string().await {
        Err(Error::Utf8 { bytes, .. }) => assert_eq!(bytes, b"\xff\xfe"),
        other => panic!("{other:?}"),
    }
    push.send("not json").await?;
    match pull.recv_json::<Obj>().await {
        Err(Error::Deserialize { format, frames, .. }) => {
            assert_eq!(format, "json");
            assert_eq!(&frames[0][..], b"not json");
        }
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[cfg(feature = "json")]
#[tokio::test]
async fn cancelled_recv_json_does_not_eat_the_message() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    // Start a receive, let it park, then cancel it.
    let r = tokio::time::timeout(
        Duration::from_millis(20),
        pull.recv_json::<serde_json::Value>(),
    )
    .await;
    assert!(r.is_err(), "nothing was sent yet");
    push.send_json(&serde_json::json!({"a": 5})).await?;
    let ev = within(
        "poll",
        pull.poll(PollEvents::POLLIN, Some(Duration::from_secs(5))),
    )
    .await?;
    assert_eq!(ev, PollEvents::POLLIN);
    let v: serde_json::Value = within("recv", pull.recv_json()).await?;
    assert_eq!(v, serde_json::json!({"a": 5}));
    Ok(())
}

#[tokio::test]
async fn custom_serialize_with_routing_ids() -> Result<()> {
    // pyzmq's test_custom_serialize: identities + JSON content.
    type Msg = (Vec<Vec<u8>>, serde_json::Value);
    let ser = from_fns(
        "ids+json",
        |(ids, content): &Msg| {
            let mut frames: Vec<Message> = ids.iter().map(|i| Message::from(&i[..])).collect();
            frames.push(Message::from(serde_json::to_vec(content)?));
            Ok(frames)
        },
        |frames: &[Message]| {
            let (last, ids) = frames.split_last().ok_or("no frames")?;
            Ok((
                ids.iter().map(|m| m.to_vec()).collect(),
                serde_json::from_slice(last)?,
            ))
        },
    );
    let ctx = Context::new();
    let (router, dealer) = pair(&ctx, SocketType::Router, SocketType::Dealer)?;
    let content = serde_json::json!({"a": 5, "b": "bee"});
    dealer
        .send_serialized(&(vec![], content.clone()), &ser)
        .await?;
    let got: Msg = within("router recv", router.recv_serialized(&ser)).await?;
    assert_eq!(got.1, content);
    assert_eq!(got.0.len(), 1, "the routing id");
    router.send_serialized(&got, &ser).await?;
    let back: Msg = within("dealer recv", dealer.recv_serialized(&ser)).await?;
    assert_eq!(back.1, content);
    assert!(back.0.is_empty());

    // A deserializer error hands the frames back.
    dealer.send("not json").await?;
    match router.recv_serialized(&ser).await {
        Err(Error::Deserialize { frames, .. }) => assert_eq!(&frames[1][..], b"not json"),
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn recv_dontwait() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    assert!(pull.try_recv_multipart()?.is_none());
    push.send("ping").await?;
    within("poll", pull.poll(PollEvents::POLLIN, None)).await?;
    assert_eq!(pull.try_recv_multipart()?.expect("a message"), ["ping"]);
    Ok(())
}

#[tokio::test]
async fn poll_with_timeouts() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    assert!(
        pull.poll(PollEvents::POLLIN, Some(Duration::ZERO))
            .await?
            .is_empty()
    );
    assert!(
        pull.poll(PollEvents::POLLIN, Some(Duration::from_millis(1)))
            .await?
            .is_empty()
    );
    // biased: the poll is polled (and parks) before the send starts.
    let (ev, sent) = tokio::join!(
        biased;
        pull.poll(PollEvents::POLLIN, Some(Duration::from_secs(5))),
        push.send_multipart(["hi", "there"])
    );
    sent?;
    assert_eq!(ev?, PollEvents::POLLIN);
    assert_eq!(pull.recv_multipart().await?, ["hi", "there"]);
    // POLLOUT on a connected PUSH.
    assert_eq!(
        push.poll(PollEvents::POLLIN | PollEvents::POLLOUT, Some(TIMEOUT))
            .await?,
        PollEvents::POLLOUT
    );
    Ok(())
}

#[tokio::test]
async fn async_poller_over_sockets_and_fds() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    let (push2, pull2) = tcp_pair(&ctx, SocketType::Push, SocketType::Pull)?;
    let mut poller = AsyncPoller::new();
    let k1 = poller.register(&pull, PollEvents::POLLIN);
    let k2 = poller.register(&pull2, PollEvents::POLLIN);
    assert_eq!(poller.len(), 2);
    assert!(poller.poll(Some(Duration::ZERO)).await?.is_empty());

    // biased: the poller is polled (and parks) before the send starts.
    let (ready, sent) = tokio::join!(
        biased;
        poller.poll(Some(TIMEOUT)),
        push2.send_multipart(["hi", "there"])
    );
    sent?;
    assert_eq!(ready?, vec![(k2, PollEvents::POLLIN)]);
    push.send("x").await?;
    // Both ready now (level-triggered: pull2's message is still there).
    let mut both = Vec::new();
    for _ in 0..100 {
        both = within("poll", poller.poll(Some(TIMEOUT))).await?;
        if both.len() == 2 {
            break;
        }
    }
    assert_eq!(
        both,
        vec![(k1, PollEvents::POLLIN), (k2, PollEvents::POLLIN)]
    );
    assert!(poller.unregister(k2));
    assert!(!poller.unregister(k2));
    assert_eq!(pull2.recv_multipart().await?, ["hi", "there"]);
    assert_eq!(pull.recv_msg().await?, "x");

    // A pipe (pyzmq's test_poll_raw).
    let (r, w) = pipe();
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    let mut poller = AsyncPoller::new();
    let kr = poller.register_fd(r.as_fd(), PollEvents::POLLIN)?;
    let kw = poller.register_fd(w.as_fd(), PollEvents::POLLOUT)?;
    assert_eq!(
        poller.poll(Some(Duration::from_millis(1))).await?,
        vec![(kw, PollEvents::POLLOUT)]
    );
    poller.unregister(kw);
    (&w).write_all(b"x").expect("write");
    assert_eq!(
        within("pipe", poller.poll(Some(TIMEOUT))).await?,
        vec![(kr, PollEvents::POLLIN)]
    );
    let mut buf = [0u8; 1];
    (&r).read_exact(&mut buf).expect("read");
    assert_eq!(&buf, b"x");
    assert!(
        poller
            .poll(Some(Duration::from_millis(1)))
            .await?
            .is_empty()
    );
    Ok(())
}

/// A pipe as two files.
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both fds were just created and are owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

#[tokio::test]
async fn awaited_tracker() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pair(&ctx, SocketType::Push, SocketType::Pull)?;
    let big = vec![7u8; 200_000];
    let tracker = push.send_tracked(big).await?;
    let msg = within("recv", pull.recv_msg()).await?;
    assert_eq!(msg.len(), 200_000);
    // inproc shares the buffer: the tracker is done only once we drop it.
    let waiting = tracker.wait_async();
    drop(msg);
    within("tracker", waiting).await;
    assert!(tracker.done());
    within("tracker again", tracker).await;
    Ok(())
}

#[cfg(feature = "draft")]
#[tokio::test]
async fn thread_safe_socket_types_are_refused() -> Result<()> {
    let ctx = Context::new();
    for kind in [SocketType::Server, SocketType::Client, SocketType::Dish] {
        match ctx.socket(kind) {
            Ok(s) => {
                let r = AsyncSocket::new(s);
                assert!(matches!(r, Err(Error::AsyncUnsupported { .. })), "{r:?}");
            }
            // A libzmq built without DRAFT sockets.
            Err(e) => assert!(!zmqx::has("draft"), "{e}"),
        }
    }
    Ok(())
}

#[test]
fn needs_a_runtime() -> Result<()> {
    let ctx = Context::new();
    let r = AsyncSocket::new(ctx.socket(SocketType::Pair)?);
    assert!(matches!(r, Err(Error::Reactor(_))), "{r:?}");
    Ok(())
}

#[tokio::test]
async fn split_reunite_into_socket() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let (tx, rx) = a.split();
    let (tx2, rx2) = b.split();
    tx.send("to b").await?;
    tx2.send("to a").await?;
    assert_eq!(rx2.recv_string().await?, "to b");
    assert_eq!(rx.recv_string().await?, "to a");
    let Err(zmqx::asynchronous::ReuniteError(tx, rx2)) = tx.reunite(rx2) else {
        panic!("halves of different sockets were reunited");
    };
    let a = tx.reunite(rx).expect("same socket");
    let b = tx2.reunite(rx2).expect("same socket");
    let a = a.into_socket();
    a.send("sync")?;
    assert_eq!(b.recv_string().await?, "sync");
    Ok(())
}

/// Producer and consumer tasks through a tiny high-water mark: every send
/// and every receive has to wait for the other side, 100,000 times. A lost
/// wakeup stalls it, and `within` turns a stall into a failure.
async fn hwm_rounds(push: AsyncSocket, pull: AsyncSocket, rounds: u32) -> Result<()> {
    let producer = tokio::spawn(async move {
        for i in 0..rounds {
            within("send at HWM", push.send(i.to_le_bytes().to_vec())).await?;
        }
        Ok::<_, Error>(push)
    });
    let consumer = tokio::spawn(async move {
        for i in 0..rounds {
            let m = within("recv at HWM", pull.recv_msg()).await?;
            assert_eq!(m[..], i.to_le_bytes(), "message {i}");
        }
        Ok::<_, Error>(())
    });
    // Each step has its own deadline; the whole run may take longer.
    let started = Instant::now();
    consumer.await.expect("join")?;
    producer.await.expect("join")?;
    eprintln!("{rounds} rounds in {:?}", started.elapsed());
    Ok(())
}

fn hwm_sockets(ctx: &Context, tcp: bool, hwm: i32) -> Result<(AsyncSocket, AsyncSocket)> {
    // No timeouts on these: `within` bounds every step, and RCVTIMEO would
    // add a timer to every wait.
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
        let ep = inproc("hwm");
        pull.bind(&ep)?;
        ep
    };
    push.connect(&ep)?;
    Ok((AsyncSocket::new(push)?, AsyncSocket::new(pull)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hwm_100k_rounds_inproc() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = hwm_sockets(&ctx, false, 1)?;
    hwm_rounds(push, pull, 100_000).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hwm_100k_rounds_tcp() -> Result<()> {
    // Over tcp the kernel buffers hold messages too, so the HWM fills and
    // drains in bursts; 10 keeps it hitting the mark without a round trip
    // per message.
    let ctx = Context::new();
    let (push, pull) = hwm_sockets(&ctx, true, 10)?;
    hwm_rounds(push, pull, 100_000).await
}

#[tokio::test(flavor = "current_thread")]
async fn hwm_rounds_single_thread() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = hwm_sockets(&ctx, true, 2)?;
    hwm_rounds(push, pull, 20_000).await
}

/// Borrowed bytes stay borrowed by the send future until libzmq takes them:
/// a send that has to wait sends exactly those bytes once the pipe drains,
/// and a send dropped while it waits sends nothing.
#[tokio::test(flavor = "current_thread")]
async fn borrowed_bytes_wait_for_room_and_a_dropped_send_sends_nothing() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = hwm_sockets(&ctx, false, 1)?;
    let mut queued = 0;
    while push.try_send(&mut Message::from(format!("queued {queued}")))? {
        queued += 1;
        assert!(queued < 100, "the pipe never filled");
    }
    assert!(queued > 0, "nothing could be queued");

    let cancelled = b"cancelled".to_vec();
    {
        let mut send = std::pin::pin!(push.send(&cancelled[..]));
        let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "a send into a full pipe must wait");
    }

    let payload: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
    let mut send = std::pin::pin!(push.send(&payload[..]));
    let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "a send into a full pipe must wait");
    for i in 0..queued {
        let m = within("drain", pull.recv_string()).await?;
        assert_eq!(m, format!("queued {i}"));
    }
    within("send after waiting", send).await?;
    let m = within("recv the waiting send", pull.recv_msg()).await?;
    assert_eq!(&m[..], &payload[..], "the borrowed bytes, as they were");
    // The dropped send never reached libzmq: nothing else is queued.
    push.send("last").await?;
    assert_eq!(within("recv last", pull.recv_string()).await?, "last");
    assert!(pull.try_recv_msg()?.is_none());
    Ok(())
}

/// Both directions of one socket at once, from two tasks each side, through
/// tiny high-water marks: the halves share one fd, and a receive on one half
/// can consume the edge the other half waits for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_both_directions_at_hwm() -> Result<()> {
    const N: u32 = 20_000;
    let ctx = Context::new();
    let a = ctx.socket(SocketType::Pair)?;
    let b = ctx.socket(SocketType::Pair)?;
    for s in [&a, &b] {
        s.set_sndhwm(2)?;
        s.set_rcvhwm(2)?;
        s.set_linger(Some(Duration::ZERO))?;
    }
    let ep = bind_tcp(&a)?;
    b.connect(&ep)?;
    let (a_tx, a_rx) = AsyncSocket::new(a)?.split();
    let (b_tx, b_rx) = AsyncSocket::new(b)?.split();
    let send = |tx: zmqx::AsyncSender| {
        tokio::spawn(async move {
            for i in 0..N {
                within("half send", tx.send(i.to_le_bytes().to_vec())).await?;
            }
            Ok::<_, Error>(tx)
        })
    };
    let recv = |rx: zmqx::AsyncReceiver| {
        tokio::spawn(async move {
            for i in 0..N {
                let m = within("half recv", rx.recv_msg()).await?;
                assert_eq!(m[..], i.to_le_bytes());
            }
            Ok::<_, Error>(rx)
        })
    };
    let tasks = [send(a_tx), send(b_tx)];
    let rtasks = [recv(a_rx), recv(b_rx)];
    // Every step has its own deadline (`within` above), so a stall fails
    // fast; the whole run may take longer than one step's deadline (under
    // valgrind it takes well over a minute).
    for t in rtasks {
        t.await.expect("join")?;
    }
    for t in tasks {
        t.await.expect("join")?;
    }
    Ok(())
}

/// `tokio::time::timeout` around every receive, with timeouts short enough
/// that many fire while the producer is between messages: all N messages
/// arrive, in order, none lost to a cancelled receive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_around_recv_loses_nothing() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    for tcp in [false, true] {
        let (push, pull) = hwm_sockets(&ctx, tcp, 5)?;
        let producer = tokio::spawn(async move {
            for i in 0..N {
                push.send(i.to_le_bytes().to_vec()).await?;
                if i % 50 == 0 {
                    // Well above tokio's 1 ms timer resolution, so the
                    // receiver's 200 µs timeouts fire in these pauses even
                    // on a loaded machine (1 ms pauses let a slow receiver
                    // find a message every time).
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            Ok::<_, Error>(push)
        });
        let mut next = 0u32;
        let mut timeouts = 0u32;
        let deadline = Instant::now() + TIMEOUT;
        while next < N {
            assert!(Instant::now() < deadline, "stalled at message {next}");
            match tokio::time::timeout(Duration::from_micros(200), pull.recv_msg()).await {
                Ok(m) => {
                    assert_eq!(m?[..], next.to_le_bytes(), "lost or reordered");
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

/// Multipart sends cancelled while the high-water mark is full never leave
/// half a message: the receiver gets whole messages only, exactly those
/// whose send completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_multipart_send_is_all_or_nothing() -> Result<()> {
    let ctx = Context::new();
    // Over tcp, big middle parts fill the kernel buffers too.
    for (tcp, pad) in [(false, 16usize), (true, 32 * 1024)] {
        let (push, pull) = hwm_sockets(&ctx, tcp, 1)?;
        let consumer = tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let m = within("recv", pull.recv_multipart()).await?;
                if m.len() == 1 && m[0] == "end" {
                    return Ok::<_, Error>(got);
                }
                assert_eq!(m.len(), 3, "a partial multipart message");
                assert_eq!(m[0], m[2], "parts of different messages");
                assert_eq!(m[1].len(), pad);
                got.push(u32::from_le_bytes(m[0][..].try_into().expect("4 bytes")));
                if got.len() % 7 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        let (mut sent, mut cancelled) = (0u32, 0u32);
        let padding = vec![0u8; pad];
        for i in 0..2_000u32 {
            let seq = i.to_le_bytes();
            let parts = [&seq[..], &padding[..], &seq[..]];
            match tokio::time::timeout(Duration::from_micros(100), push.send_multipart(parts)).await
            {
                Ok(r) => {
                    r?;
                    sent += 1;
                }
                Err(_) => cancelled += 1,
            }
        }
        within("end", push.send("end")).await?;
        let got = within("consumer", consumer).await.expect("join")?;
        assert!(
            cancelled > 0,
            "no send was cancelled (tcp: {tcp}): the test proves nothing"
        );
        assert_eq!(
            got.len() as u32,
            sent,
            "every completed send arrived, no cancelled one did"
        );
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }
    Ok(())
}

#[tokio::test]
async fn context_termination_ends_waits() -> Result<()> {
    let ctx = Context::new();
    let pull = asock(&ctx, SocketType::Pull)?;
    let ctx2 = ctx.clone();
    let (r, ()) = tokio::join!(within("recv", pull.recv_msg()), async move {
        tokio::task::yield_now().await;
        ctx2.shutdown().expect("shutdown");
    });
    assert!(
        matches!(
            r.as_ref().map_err(Error::root),
            Err(Error::ContextTerminated)
        ),
        "{r:?}"
    );
    Ok(())
}
