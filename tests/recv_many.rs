//! `recv_many`: a batch of the parts already queued, after waiting for the
//! first, into reused messages, on blocking and async sockets.

mod common;

use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, push_pull, socket};
use zmqx::{Context, Error, Message, Result, Socket, SocketType};

/// Sends five messages: "m0" .. "m3" in one part each, then "a"+"b" in two.
fn send_six_parts(push: &Socket) -> Result<()> {
    for i in 0..4 {
        push.send(format!("m{i}").as_str())?;
    }
    push.send_multipart(["a", "b"])
}

/// The texts and `more` flags of `parts`.
fn texts(parts: &[Message]) -> Vec<(String, bool)> {
    parts
        .iter()
        .map(|m| (String::from_utf8_lossy(m).into_owned(), m.more()))
        .collect()
}

/// `n` empty messages to receive into.
fn slots(n: usize) -> Vec<Message> {
    (0..n).map(|_| Message::new()).collect()
}

fn six_parts() -> Vec<(String, bool)> {
    ["m0", "m1", "m2", "m3", "a", "b"]
        .iter()
        .map(|t| (t.to_string(), *t == "a"))
        .collect()
}

#[test]
fn recv_many_takes_what_is_queued_until_the_buffer_is_full() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, "recv-many")?;
    send_six_parts(&push)?;
    let mut batch = slots(4);
    assert_eq!(
        pull.recv_many(&mut batch)?,
        4,
        "as many as the buffer holds"
    );
    let mut rest = slots(100);
    rest[2] = Message::from("old");
    assert_eq!(pull.recv_many(&mut rest)?, 2, "what was left");
    batch.extend(rest.drain(..2));
    // A multipart message keeps its `more` flags; the first slot after the
    // batch was tried, so its old content is gone.
    assert_eq!(texts(&batch), six_parts());
    assert!(rest[0].is_empty());
    Ok(())
}

#[test]
fn recv_many_waits_for_the_first_part_only() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, "recv-many-wait")?;
    pull.set_rcvtimeo(Some(Duration::from_millis(20)))?;
    let mut batch = slots(10);
    let started = Instant::now();
    assert!(matches!(pull.recv_many(&mut batch), Err(Error::Again)));
    assert!(started.elapsed() >= Duration::from_millis(20), "RCVTIMEO");
    // An empty buffer takes nothing and does not wait, even with parts there.
    push.send("x")?;
    pull.set_rcvtimeo(None)?;
    assert_eq!(pull.recv_many(&mut [])?, 0);
    // A sender on another thread: the first part is waited for.
    pull.set_rcvtimeo(Some(TIMEOUT))?;
    assert_eq!(pull.recv_many(&mut batch)?, 1);
    assert_eq!(batch[0], "x");
    let sender = std::thread::spawn(move || push.send("late").map(|()| push));
    assert_eq!(pull.recv_many(&mut batch)?, 1);
    assert_eq!(batch[0], "late");
    sender.join().expect("sender thread")?;
    Ok(())
}

/// An error after the first part ends the batch and is reported by the
/// next call; the parts received are not lost to it.
#[test]
fn an_error_after_the_first_part_is_left_for_the_next_call() -> Result<()> {
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let ep = inproc("recv-many-req");
    rep.bind(&ep)?;
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&ep)?;
    req.send("question")?;
    rep.recv_msg()?;
    rep.send("answer")?;
    let mut batch = slots(10);
    // REQ takes one reply; a second receive is EFSM.
    assert_eq!(req.recv_many(&mut batch)?, 1);
    assert_eq!(batch[0], "answer");
    assert!(matches!(
        req.recv_many(&mut batch),
        Err(Error::InvalidState)
    ));
    Ok(())
}

#[cfg(all(feature = "tokio", unix))]
mod asynchronous {
    use std::time::Duration;

    use super::common::within;
    use super::{push_pull, send_six_parts, six_parts, slots, texts};
    use zmqx::{AsyncSocket, Context, Error, Result};

    #[tokio::test]
    async fn recv_many_takes_what_is_queued_until_the_buffer_is_full() -> Result<()> {
        let ctx = Context::new();
        let (push, pull) = push_pull(&ctx, "async-recv-many")?;
        send_six_parts(&push)?;
        let pull = AsyncSocket::new(pull)?;
        let mut batch = slots(4);
        assert_eq!(within("batch", pull.recv_many(&mut batch)).await?, 4);
        let mut rest = slots(100);
        assert_eq!(within("rest", pull.recv_many(&mut rest)).await?, 2);
        batch.extend(rest.drain(..2));
        assert_eq!(texts(&batch), six_parts());
        assert_eq!(within("empty buffer", pull.recv_many(&mut [])).await?, 0);
        Ok(())
    }

    /// A `recv_many` cancelled while it waits takes nothing; the next one
    /// is woken by the first part and gets all that is queued.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_recv_many_loses_nothing() -> Result<()> {
        let ctx = Context::new();
        let (push, pull) = push_pull(&ctx, "async-recv-many-cancel")?;
        let pull = AsyncSocket::new(pull)?;
        let mut batch = slots(10);
        let waited =
            tokio::time::timeout(Duration::from_millis(20), pull.recv_many(&mut batch)).await;
        assert!(waited.is_err(), "nothing was sent: {waited:?}");
        let push = AsyncSocket::new(push)?;
        let (received, sent) = tokio::join!(
            within("woken by the first part", pull.recv_many(&mut batch)),
            async {
                tokio::task::yield_now().await;
                push.send("first").await
            }
        );
        sent?;
        assert_eq!(received?, 1);
        assert_eq!(batch[0], "first");
        Ok(())
    }

    /// A producer through a small high-water mark, a consumer taking
    /// batches: every message once, in order, over inproc and tcp.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_keep_every_message_in_order() -> Result<()> {
        const N: u32 = 20_000;
        let ctx = Context::new();
        for tcp in [false, true] {
            let pull = ctx.socket(zmqx::SocketType::Pull)?;
            let push = ctx.socket(zmqx::SocketType::Push)?;
            for s in [&push, &pull] {
                s.set_sndhwm(100)?;
                s.set_rcvhwm(100)?;
                s.set_linger(Some(Duration::ZERO))?;
            }
            let ep = if tcp {
                pull.bind("tcp://127.0.0.1:*")?;
                pull.last_endpoint()?
            } else {
                let ep = super::inproc("async-recv-many-flow");
                pull.bind(&ep)?;
                ep
            };
            push.connect(&ep)?;
            let (push, pull) = (AsyncSocket::new(push)?, AsyncSocket::new(pull)?);
            let producer = tokio::spawn(async move {
                for i in 0..N {
                    within("send", push.send(&i.to_le_bytes()[..])).await?;
                }
                Ok::<_, Error>(push)
            });
            let mut batch = slots(64);
            let mut next = 0u32;
            while next < N {
                let n = within("batch", pull.recv_many(&mut batch)).await?;
                assert!((1..=64).contains(&n), "{n} parts");
                for m in &batch[..n] {
                    assert_eq!(m[..], next.to_le_bytes(), "lost or reordered (tcp: {tcp})");
                    next += 1;
                }
            }
            within("producer", producer).await.expect("join")?;
            assert!(pull.try_recv_msg()?.is_none(), "nothing left over");
        }
        Ok(())
    }
}
