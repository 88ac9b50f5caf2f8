//! Cancelled async futures leave nothing behind (issue 18, "Async"): no
//! waker stays registered with the socket, the poller or the tracker, and no
//! later operation pays for the futures cancelled before it.
//!
//! Every check here failed before waiter registrations became guards whose
//! `Drop` removes them: a cancelled `poll()` stayed registered until the
//! socket became ready for its event, so 100,000 cancelled polls made each
//! later send scan 100,000 stale waiters, and registering them was
//! quadratic.
//!
//! Three ways of cancelling are used: a single poll with the task's waker,
//! then a drop (what `select!` does to the losing branches); the same with a
//! *probe* waker; and `tokio::time::timeout` (fewer of those: a timer costs
//! a millisecond or so to fire). Every probe holds a clone of one token, so
//! the token's strong count says how many probe wakers anything still
//! holds: 1 (the test's own) means none.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, inproc, within};
use zmqx::asynchronous::{AsyncPoller, ZmqStream};
use zmqx::{
    AsyncReceiver, AsyncSender, AsyncSocket, Context, Error, Message, PollEvents, Result,
    SocketType,
};

/// How many futures each test cancels.
const CANCELLED: usize = 100_000;
/// How many round trips measure the cost of later operations.
const ROUND_TRIPS: u32 = 20_000;

/// A waker that does nothing but keep a clone of the token.
struct Probe(#[allow(dead_code)] Arc<()>);

impl Wake for Probe {
    fn wake(self: Arc<Self>) {}
}

/// A new, distinct probe waker (`will_wake` never matches another one).
fn probe(token: &Arc<()>) -> Waker {
    Waker::from(Arc::new(Probe(token.clone())))
}

/// Polls `f` once with `waker`, then drops it; returns what the poll gave.
fn poll_once<F: Future>(f: F, waker: &Waker) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut TaskContext::from_waker(waker))
}

/// Polls `f` once with the task's waker, then drops it.
async fn poll_once_here<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

/// Cancels `n` futures made by `make` with `tokio::time::timeout`.
async fn time_out_many<F: Future>(n: usize, mut make: impl FnMut() -> F) {
    for i in 0..n {
        let r = tokio::time::timeout(Duration::ZERO, make()).await;
        assert!(r.is_err(), "future {i} completed: it should wait forever");
    }
}

/// How many probe wakers something still holds.
fn probes_left(token: &Arc<()>) -> usize {
    Arc::strong_count(token) - 1
}

/// Asserts that no probe waker is held by anything any more.
fn assert_no_probe_left(left: usize, what: &str) {
    assert_eq!(
        left, 0,
        "{what}: probe wakers still registered after their futures were dropped"
    );
}

/// Cancels `CANCELLED` futures made by `make`, half polled once with the
/// task's waker and half with a probe waker; each must still be pending. Returns the time taken by the first and by the last 1,000, which
/// are close when cancelling costs the same however many came before, and
/// about 100 times apart when each registration scans those left behind.
async fn cancel_many<F: Future>(
    token: &Arc<()>,
    mut make: impl FnMut() -> F,
) -> (Duration, Duration, Duration) {
    let started = Instant::now();
    let (mut first, mut last) = (Duration::ZERO, Duration::ZERO);
    let mut lap = Instant::now();
    for i in 0..CANCELLED {
        if i == CANCELLED - 1_000 {
            lap = Instant::now();
        }
        if i % 2 == 0 {
            let r = poll_once_here(make()).await;
            assert!(
                r.is_pending(),
                "future {i} completed: it should wait forever"
            );
        } else {
            let r = poll_once(make(), &probe(token));
            assert!(
                r.is_pending(),
                "future {i} completed: it should wait forever"
            );
        }
        if i + 1 == 1_000 {
            first = lap.elapsed();
        }
        if i + 1 == CANCELLED {
            last = lap.elapsed();
        }
        if i % 1024 == 1023 && (1_000..CANCELLED - 1_000).contains(&i) {
            // Let the runtime's I/O driver run now and then, and renew the
            // task's budget (outside the two timed stretches).
            tokio::task::yield_now().await;
        }
    }
    (started.elapsed(), first, last)
}

/// Asserts that cancelling did not get slower as cancelled futures piled up.
fn assert_flat(what: &str, first: Duration, last: Duration) {
    assert!(
        last < first * 10 + Duration::from_millis(250),
        "{what}: the last 1,000 cancellations took {last:?}, the first 1,000 {first:?}: \
         each one pays for those before it"
    );
}

/// `n` PUSH→PULL messages, each sent and then received.
async fn push_pull_rounds(push: &AsyncSocket, pull: &AsyncSocket, n: u32) -> Result<Duration> {
    let started = Instant::now();
    for i in 0..n {
        within("send", push.send(i.to_le_bytes().to_vec())).await?;
        let m = within("recv", pull.recv_msg()).await?;
        assert_eq!(m[..], i.to_le_bytes());
    }
    Ok(started.elapsed())
}

fn plain(ctx: &Context, kind: SocketType) -> Result<zmqx::Socket> {
    // No RCVTIMEO/SNDTIMEO: `within` bounds every step, and a timeout would
    // add a timer to every wait.
    let s = ctx.socket(kind)?;
    s.set_linger(Some(Duration::ZERO))?;
    Ok(s)
}

fn push_pull(ctx: &Context) -> Result<(AsyncSocket, AsyncSocket)> {
    let pull = AsyncSocket::new(plain(ctx, SocketType::Pull)?)?;
    let push = AsyncSocket::new(plain(ctx, SocketType::Push)?)?;
    let ep = inproc("cancel");
    pull.bind(&ep)?;
    push.connect(&ep)?;
    Ok((push, pull))
}

/// The later operations may not cost much more than on a fresh pair.
fn assert_not_slower(what: &str, baseline: Duration, after: Duration) {
    assert!(
        after < baseline * 5 + Duration::from_secs(1),
        "{what}: {ROUND_TRIPS} round trips took {after:?} after the cancellations, \
         {baseline:?} before"
    );
}

/// Issue 18's reproduction: `poll(POLLIN)` on a PUSH socket (never
/// readable) cancelled 100,000 times, then 20,000 sends and receives.
#[tokio::test(flavor = "current_thread")]
async fn cancelled_polls_leave_nothing_behind() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let baseline = push_pull_rounds(&push, &pull, ROUND_TRIPS).await?;

    // Everything is measured first and checked at the end, so that a failing
    // run still reports all its figures.
    let token = Arc::new(());
    let (total, first, last) = cancel_many(&token, || push.poll(PollEvents::POLLIN, None)).await;
    let left = probes_left(&token);
    eprintln!(
        "{CANCELLED} cancelled polls: {total:?} (first 1,000: {first:?}, last: {last:?}), \
         {left} probe wakers left"
    );
    // With a timeout of its own, the same.
    let token2 = Arc::new(());
    let (total, first2, last2) = cancel_many(&token2, || {
        push.poll(PollEvents::POLLIN, Some(Duration::from_secs(3600)))
    })
    .await;
    let left2 = probes_left(&token2);
    eprintln!("{CANCELLED} cancelled polls with a timeout: {total:?}, {left2} probe wakers left");
    time_out_many(1_000, || push.poll(PollEvents::POLLIN, None)).await;

    let after = push_pull_rounds(&push, &pull, ROUND_TRIPS).await?;
    eprintln!("{ROUND_TRIPS} round trips: {baseline:?} before, {after:?} after the cancellations");
    assert_no_probe_left(left, "poll");
    assert_no_probe_left(left2, "poll with a timeout");
    assert_flat("poll", first, last);
    assert_flat("poll with a timeout", first2, last2);
    assert_not_slower("poll", baseline, after);

    // The socket still polls and wakes.
    within("send", push.send("x")).await?;
    let ev = within("poll", pull.poll(PollEvents::POLLIN, None)).await?;
    assert_eq!(ev, PollEvents::POLLIN);
    Ok(())
}

/// `ROUND_TRIPS` echoes through a peer, from the send half to the receive
/// half.
async fn half_rounds(tx: &AsyncSender, rx: &AsyncReceiver, peer: &AsyncSocket) -> Result<Duration> {
    let started = Instant::now();
    for i in 0..ROUND_TRIPS {
        within("half send", tx.send(i.to_le_bytes().to_vec())).await?;
        let m = within("peer recv", peer.recv_msg()).await?;
        within("peer send", peer.send(m)).await?;
        let m = within("half recv", rx.recv_msg()).await?;
        assert_eq!(m[..], i.to_le_bytes());
    }
    Ok(started.elapsed())
}

/// A split DEALER: the halves' `readable()` and `writable()` cancelled
/// 100,000 times each while the socket can do neither (no peer yet).
#[tokio::test(flavor = "current_thread")]
async fn cancelled_readable_writable_leave_nothing_behind() -> Result<()> {
    let ctx = Context::new();
    let dealers = || -> Result<(AsyncSender, AsyncReceiver, AsyncSocket)> {
        let (tx, rx) = AsyncSocket::new(plain(&ctx, SocketType::Dealer)?)?.split();
        let peer = AsyncSocket::new(plain(&ctx, SocketType::Dealer)?)?;
        Ok((tx, rx, peer))
    };

    let (tx, rx, peer) = dealers()?;
    let ep = peer.with_socket(bind_tcp)?;
    tx.connect(&ep)?;
    let baseline = half_rounds(&tx, &rx, &peer).await?;

    let (tx, rx, peer) = dealers()?;
    // A DEALER without a peer can neither send nor receive.
    let token = Arc::new(());
    let (total, wfirst, wlast) = cancel_many(&token, || tx.writable(None)).await;
    let wleft = probes_left(&token);
    eprintln!(
        "{CANCELLED} cancelled writable(): {total:?} (first 1,000: {wfirst:?}, \
         last: {wlast:?}), {wleft} probe wakers left"
    );
    let token = Arc::new(());
    let (total, rfirst, rlast) = cancel_many(&token, || rx.readable(None)).await;
    let rleft = probes_left(&token);
    eprintln!(
        "{CANCELLED} cancelled readable(): {total:?} (first 1,000: {rfirst:?}, \
         last: {rlast:?}), {rleft} probe wakers left"
    );
    time_out_many(500, || tx.writable(None)).await;
    time_out_many(500, || rx.readable(None)).await;

    let ep = peer.with_socket(bind_tcp)?;
    tx.connect(&ep)?;
    assert!(within("writable", tx.writable(None)).await?);
    let after = half_rounds(&tx, &rx, &peer).await?;
    eprintln!(
        "{ROUND_TRIPS} round trips: {baseline:?} on a fresh pair, {after:?} after the cancellations"
    );
    assert_no_probe_left(wleft, "writable");
    assert_no_probe_left(rleft, "readable");
    assert_flat("writable", wfirst, wlast);
    assert_flat("readable", rfirst, rlast);
    assert_not_slower("halves", baseline, after);
    Ok(())
}

/// Receives cancelled at every point while both directions of a split
/// socket sit at a tiny high-water mark: every message still arrives, in
/// order (a cancelled receive takes none), and no wakeup is lost (every
/// step is bounded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_recvs_at_hwm_lose_nothing() -> Result<()> {
    const N: u32 = 5_000;
    let ctx = Context::new();
    let a = plain(&ctx, SocketType::Pair)?;
    let b = plain(&ctx, SocketType::Pair)?;
    for s in [&a, &b] {
        s.set_sndhwm(2)?;
        s.set_rcvhwm(2)?;
    }
    let ep = bind_tcp(&a)?;
    b.connect(&ep)?;
    let (a_tx, a_rx) = AsyncSocket::new(a)?.split();
    let b = AsyncSocket::new(b)?;

    // a sends N messages through the high-water mark; b echoes each back.
    let producer = tokio::spawn(async move {
        for i in 0..N {
            within("send at HWM", a_tx.send(i.to_le_bytes().to_vec())).await?;
        }
        Ok::<_, Error>(a_tx)
    });
    let echo = tokio::spawn(async move {
        for _ in 0..N {
            let m = within("echo recv", b.recv_msg()).await?;
            within("echo send", b.send(m)).await?;
        }
        Ok::<_, Error>(b)
    });

    // a's receive half cancels receives in every way while the echoes come.
    let token = Arc::new(());
    let mut next = 0u32;
    let mut cancelled = 0u32;
    let check = |m: Message, next: &mut u32| {
        assert_eq!(m[..], next.to_le_bytes(), "a message was lost or reordered");
        *next += 1;
    };
    let deadline = Instant::now() + TIMEOUT * 6;
    while next < N {
        assert!(Instant::now() < deadline, "stalled at message {next}");
        match next % 4 {
            0 => {
                match poll_once(a_rx.recv_msg(), &probe(&token)) {
                    Poll::Ready(m) => check(m?, &mut next),
                    Poll::Pending => cancelled += 1,
                }
                // A future polled in a loop that never yields runs out of
                // tokio's budget; yielding renews it.
                tokio::task::yield_now().await;
            }
            1 => match tokio::time::timeout(Duration::ZERO, a_rx.recv_msg()).await {
                Ok(m) => check(m?, &mut next),
                Err(_) => cancelled += 1,
            },
            2 => {
                match poll_once_here(a_rx.recv_msg()).await {
                    Poll::Ready(m) => check(m?, &mut next),
                    Poll::Pending => cancelled += 1,
                }
                tokio::task::yield_now().await;
            }
            _ => check(within("recv", a_rx.recv_msg()).await?, &mut next),
        }
    }
    assert!(
        cancelled > 0,
        "no receive was cancelled: the test proves nothing"
    );
    within("producer", producer).await.expect("join")?;
    within("echo", echo).await.expect("join")?;
    assert!(a_rx.try_recv_multipart()?.is_none(), "nothing left over");
    assert_no_probe_left(probes_left(&token), "recv");
    eprintln!("{N} messages, {cancelled} receives cancelled on the way");
    Ok(())
}

/// An `AsyncPoller::poll` cancelled before anything is ready leaves no waker
/// with the sockets it watches, and the poller still works after.
#[tokio::test(flavor = "current_thread")]
async fn cancelled_poller_poll_leaves_nothing_behind() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let mut poller = AsyncPoller::new();
    let pull_key = poller.register(&pull, PollEvents::POLLIN);
    poller.register(&push, PollEvents::POLLIN);
    let token = Arc::new(());
    for _ in 0..1_000 {
        assert!(
            tokio::time::timeout(Duration::ZERO, poller.poll(None))
                .await
                .is_err()
        );
        assert!(poll_once(poller.poll(None), &probe(&token)).is_pending());
    }
    assert_no_probe_left(probes_left(&token), "poller");
    within("send", push.send("x")).await?;
    let ready = within("poller", poller.poll(None)).await?;
    assert_eq!(ready, vec![(pull_key, PollEvents::POLLIN)]);
    Ok(())
}

/// Waits on a tracker whose message libzmq never releases, cancelled
/// 100,000 times with distinct wakers: none stays with the tracker, and a
/// waiter that stayed is still woken.
#[tokio::test(flavor = "current_thread")]
async fn cancelled_tracker_waits_leave_nothing_behind() -> Result<()> {
    let (msg, tracker) = Message::tracked(vec![7u8; 64]);
    let token = Arc::new(());
    let staying = tokio::spawn(tracker.clone().into_future());
    tokio::task::yield_now().await;
    let (total, first, last) = cancel_many(&token, || tracker.wait_async()).await;
    let left = probes_left(&token);
    eprintln!(
        "{CANCELLED} cancelled tracker waits: {total:?} (first 1,000: {first:?}, \
         last: {last:?}), {left} probe wakers left"
    );
    assert_no_probe_left(left, "tracker");
    time_out_many(1_000, || tracker.wait_async()).await;
    assert_flat("tracker", first, last);
    assert!(!tracker.done());
    drop(msg);
    within("tracker", tracker.wait_async()).await;
    within("the waiter that stayed", staying)
        .await
        .expect("join");
    Ok(())
}

/// A `ZmqStream::flush` dropped before the stream's task took it does
/// nothing: here it would have discarded the waiting message (a flush of
/// `POLLIN` without a receive callback drops what it receives).
#[tokio::test(flavor = "current_thread")]
async fn cancelled_flush_does_nothing() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    let stream = ZmqStream::new(pull)?;
    within("send", push.send("kept")).await?;
    within("arrived", stream.socket().poll(PollEvents::POLLIN, None)).await?;
    // Not polled to completion: the stream's task has not run yet (one
    // thread), so the request is still queued when its future is dropped.
    assert!(poll_once(stream.flush(PollEvents::POLLIN, None), Waker::noop()).is_pending());
    // A flush that is awaited runs after the cancelled one would have.
    assert_eq!(
        within("flush", stream.flush(PollEvents::POLLOUT, None)).await?,
        0
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    stream.on_recv(move |m| {
        let _ = tx.send(m);
    });
    let m = within("the message the cancelled flush left", rx.recv())
        .await
        .expect("stream open");
    assert_eq!(m, ["kept"]);
    stream.close();
    Ok(())
}

/// Receives polled once each, back to back, so that tokio's budget runs out
/// now and then; a poll that gives `Pending` is dropped. The budget is
/// taken before the receive, so a dropped future never holds a message.
#[tokio::test(flavor = "current_thread")]
async fn recv_dropped_when_the_budget_runs_out_loses_nothing() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx)?;
    for i in 0..N {
        within("send", push.send(i.to_le_bytes().to_vec())).await?;
    }
    let mut next = 0u32;
    let mut dropped = 0u32;
    let deadline = Instant::now() + TIMEOUT;
    while next < N {
        assert!(
            Instant::now() < deadline,
            "stalled at message {next} after {dropped} dropped receives"
        );
        match poll_once_here(pull.recv_msg()).await {
            Poll::Ready(m) => {
                assert_eq!(m?[..], next.to_le_bytes(), "a message was lost");
                next += 1;
            }
            Poll::Pending => {
                dropped += 1;
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(
        dropped > 0,
        "the budget never ran out: the test proves nothing"
    );
    assert!(pull.try_recv_multipart()?.is_none(), "nothing left over");
    Ok(())
}
