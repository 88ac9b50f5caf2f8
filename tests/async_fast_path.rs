//! What the async fast path (issue 21) must keep: an always-ready socket
//! still yields to the other tasks of its thread (the per-socket budget that
//! replaced tokio's), waits with `RCVTIMEO` set lose no wakeup and time out
//! when they should, and a round trip between two tasks on two threads never
//! stalls.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, socket, within};
use zmqx::{AsyncSocket, Context, Error, Message, Result, SocketType};

/// A receive loop on a socket that always has a message never awaits
/// anything else: only the socket's own time slice (100 µs of operations in
/// a row) lets the other task run before the loop ends. 20,000 receives
/// take milliseconds even in a release build.
#[tokio::test(flavor = "current_thread")]
async fn always_ready_socket_yields_to_other_tasks() -> Result<()> {
    const N: u32 = 20_000;
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    let push = socket(&ctx, SocketType::Push)?;
    for s in [&pull, &push] {
        s.set_sndhwm(0)?;
        s.set_rcvhwm(0)?;
    }
    let ep = inproc("fast-yield");
    pull.bind(&ep)?;
    push.connect(&ep)?;
    for i in 0..N {
        push.send(&i.to_le_bytes())?;
    }
    let pull = AsyncSocket::new(pull)?;
    let ran = Arc::new(AtomicBool::new(false));
    let other = tokio::spawn({
        let ran = ran.clone();
        async move { ran.store(true, Ordering::SeqCst) }
    });
    let mut msg = Message::new();
    let mut ran_at = None;
    for i in 0..N {
        within("recv", pull.recv_msg_into(&mut msg)).await?;
        assert_eq!(msg[..], i.to_le_bytes(), "message {i}");
        if ran_at.is_none() && ran.load(Ordering::SeqCst) {
            ran_at = Some(i);
        }
    }
    let ran_at = ran_at.expect("the other task never ran while messages were ready");
    assert!(
        ran_at < N / 2,
        "the other task waited for {ran_at} receives"
    );
    other.await.expect("join");
    Ok(())
}

/// REQ and REP in two tasks of a two-thread runtime, both with timeouts set
/// (each wait arms a timer): 300 round trips, none stalled, none timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_rep_round_trips_with_timeouts_across_threads() -> Result<()> {
    const N: u32 = 300;
    let ctx = Context::new();
    let rep = AsyncSocket::new(socket(&ctx, SocketType::Rep)?)?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    for s in [&rep, &req] {
        s.set_rcvtimeo(Some(TIMEOUT))?;
        s.set_sndtimeo(Some(TIMEOUT))?;
    }
    let ep = inproc("fast-reqrep");
    rep.bind(&ep)?;
    req.connect(&ep)?;
    let server = tokio::spawn(async move {
        let mut msg = Message::new();
        for _ in 0..N {
            rep.recv_msg_into(&mut msg).await?;
            rep.send(std::mem::take(&mut msg)).await?;
        }
        Ok::<_, Error>(())
    });
    for i in 0..N {
        within("request", req.send(i.to_le_bytes().to_vec())).await?;
        let reply = within("reply", req.recv_msg()).await?;
        assert_eq!(reply[..], i.to_le_bytes(), "round trip {i}");
    }
    server.await.expect("join")?;
    Ok(())
}

/// A timeout set through the async options API is the one the next wait
/// uses, also after an earlier wait remembered the previous one.
#[tokio::test(flavor = "current_thread")]
async fn changed_rcvtimeo_applies_to_the_next_wait() -> Result<()> {
    let ctx = Context::new();
    let pull = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    pull.bind(&inproc("fast-rcvtimeo"))?;
    pull.set_rcvtimeo(Some(Duration::from_millis(30)))?;
    let started = Instant::now();
    let r = within("first timeout", pull.recv_msg()).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(25));

    pull.set_rcvtimeo(Some(Duration::ZERO))?;
    let started = Instant::now();
    let r = within("zero timeout", pull.recv_msg()).await;
    assert!(matches!(r, Err(Error::Again)), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(1));

    pull.set_rcvtimeo(None)?;
    let r = tokio::time::timeout(Duration::from_millis(100), pull.recv_msg()).await;
    assert!(r.is_err(), "no timeout: the receive waits on ({r:?})");
    Ok(())
}

/// Two tasks receive on one shared socket: one of them holds the socket's
/// lock-free solo registration, the other arrives while it is held and
/// waits in the table. Neither may lose a wakeup: every message is
/// received exactly once, and at the end each receiver, parked, still gets
/// the stop message meant for it (a receiver that missed its wakeup would
/// leave its stop message in the socket and the join would time out).
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn two_receivers_on_one_socket_lose_no_wakeup() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    // No receive timeout: its timer would poll a receiver that missed its
    // wakeup and hide the loss. `within` bounds every wait instead.
    pull.set_rcvtimeo(None)?;
    let pull = Arc::new(AsyncSocket::new(pull)?);
    let push = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    let ep = inproc("two-receivers");
    pull.bind(&ep)?;
    push.connect(&ep)?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u32)>();
    let receivers: Vec<_> = (0..2)
        .map(|who| {
            let pull = pull.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                loop {
                    let msg = pull.recv_msg().await?;
                    if msg[..] == *b"stop" {
                        return Ok::<_, Error>(());
                    }
                    let bytes: [u8; 4] = msg[..].try_into().expect("a 4-byte message");
                    tx.send((who, u32::from_le_bytes(bytes)))
                        .expect("the test is listening");
                }
            })
        })
        .collect();
    drop(tx);

    let mut seen = vec![false; N as usize];
    let mut by = [0u32; 2];
    let mut received = 0;
    for i in 0..N {
        within("send", push.send(&i.to_le_bytes())).await?;
        // Every fourth message, wait until all sent so far arrived: both
        // receivers are then parked again before the next send.
        if i % 4 == 3 {
            while received <= i {
                let (who, v) = within("recv", rx.recv()).await.expect("receivers alive");
                assert!(!seen[v as usize], "message {v} received twice");
                seen[v as usize] = true;
                by[who] += 1;
                received += 1;
            }
        }
    }
    assert!(seen.iter().all(|&s| s), "every message received");
    // One stop each: a receiver leaves after its first.
    within("stop", push.send("stop")).await?;
    within("stop", push.send("stop")).await?;
    for r in receivers {
        within("receiver ends", r).await.expect("no panic")?;
    }
    assert!(rx.recv().await.is_none(), "nothing received twice");
    assert_eq!(by[0] + by[1], N);
    Ok(())
}
