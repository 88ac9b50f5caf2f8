//! The short wait on the thread before parking in the runtime (issue 21,
//! `AsyncSocket::set_blocking_wait`): a reply that comes within the limit is
//! taken without parking, a reply that comes later is still heard (and one
//! such miss does not turn the wait off), a peer in
//! the same task costs only a few missed waits, the halves of a split socket
//! on two threads lose no wakeup, `RCVTIMEO` bounds the wait, and an
//! in-process wait looks at the socket before it sleeps.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::mpsc;
#[cfg(target_os = "linux")]
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, socket, within};
use zmqx::{AsyncSocket, Context, Error, Result, SocketType};

/// Awaits `f` and counts how often it was polled.
async fn counting_polls<F: Future>(f: F) -> (F::Output, u32) {
    let mut f = pin!(f);
    let mut polls = 0;
    let out = poll_fn(|cx| {
        polls += 1;
        f.as_mut().poll(cx)
    })
    .await;
    (out, polls)
}

/// How many of `n` replies from a thread were taken in the receive's first
/// poll (that is, without parking in the runtime).
async fn replies_without_parking(req: &AsyncSocket, n: u32) -> Result<u32> {
    let mut first_poll = 0;
    for i in 0..n {
        req.send(&i.to_le_bytes()).await?;
        let (reply, polls) = within("reply", counting_polls(req.recv_msg())).await;
        assert_eq!(reply?[..], i.to_le_bytes());
        if polls == 1 {
            first_poll += 1;
        }
    }
    Ok(first_poll)
}

/// With the wait on (a generous limit, for a loaded machine), most replies
/// of a peer thread arrive while the receive waits on its thread; with it
/// off, a receive that has to wait always parks (which shows the replies
/// are not simply there before the receive looks).
#[tokio::test(flavor = "current_thread")]
async fn a_reply_within_the_limit_is_taken_without_parking() -> Result<()> {
    const N: u32 = 100;
    let ctx = Context::new();
    let ep = inproc("wait-here-reply");
    let (_go, peer) = echo_thread(&ctx, &ep, 0, 2 * N)?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;

    req.set_blocking_wait(Duration::ZERO)?;
    let parked_off = N - replies_without_parking(&req, N).await?;
    req.set_blocking_wait(Duration::from_millis(10))?;
    assert_eq!(req.blocking_wait(), Duration::from_millis(10));
    let taken_on = replies_without_parking(&req, N).await?;

    peer.join().expect("peer thread")?;
    assert!(
        parked_off >= N / 2,
        "without the wait only {parked_off} of {N} receives parked: the test proves nothing"
    );
    assert!(
        taken_on >= N / 2,
        "with a 10 ms wait only {taken_on} of {N} replies were taken without parking"
    );
    Ok(())
}

/// A blocking REP bound at `ep` on its own thread: answers its first `late`
/// requests only when told to (one `()` on the returned sender each), then
/// echoes `quick` more, each after 200 µs of work (spent on the CPU, so
/// that the reply can never be there when the receive first looks, yet
/// comes well within a 10 ms wait).
fn echo_thread(
    ctx: &Context,
    ep: &str,
    late: u32,
    quick: u32,
) -> Result<(mpsc::Sender<()>, thread::JoinHandle<Result<()>>)> {
    let rep = socket(ctx, SocketType::Rep)?;
    rep.set_rcvtimeo(Some(TIMEOUT))?;
    rep.bind(ep)?;
    let (go, wait_go) = mpsc::channel::<()>();
    let peer = thread::spawn(move || -> Result<()> {
        for i in 0..late + quick {
            let m = rep.recv_msg()?;
            if i < late {
                wait_go
                    .recv_timeout(TIMEOUT)
                    .expect("the test tells the peer to answer");
            } else {
                let work = Instant::now();
                while work.elapsed() < Duration::from_micros(200) {
                    std::hint::spin_loop();
                }
            }
            rep.send(m)?;
        }
        Ok(())
    });
    Ok((go, peer))
}

/// Sends `request` and receives its late reply: the receive's first poll
/// waits on the thread in vain (asserted), then `go` tells the peer to
/// answer.
async fn late_reply(req: &AsyncSocket, go: &mpsc::Sender<()>, request: &[u8]) -> Result<()> {
    req.send(request).await?;
    let mut recv = pin!(req.recv_msg());
    let first = poll_fn(|cx| Poll::Ready(recv.as_mut().poll(cx))).await;
    assert!(
        first.is_pending(),
        "the reply to {request:?} came before the peer was told"
    );
    go.send(()).expect("peer alive");
    assert_eq!(within("late reply", recv).await?[..], request[..]);
    Ok(())
}

/// A reply that comes after the wait has given up (the peer answers only
/// when told to, after the receive's first poll) is still delivered: the
/// receive registers, looks again and parks.
#[tokio::test(flavor = "current_thread")]
async fn a_reply_after_the_limit_is_still_heard() -> Result<()> {
    let ctx = Context::new();
    let ep = inproc("wait-here-late");
    let (go, peer) = echo_thread(&ctx, &ep, 3, 0)?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    assert_eq!(req.blocking_wait(), Duration::from_micros(100));
    for i in 0u32..3 {
        // The first poll waits its 100 µs on the thread, in vain.
        late_reply(&req, &go, &i.to_le_bytes()).await?;
    }
    peer.join().expect("peer thread")?;
    Ok(())
}

/// One late reply (the peer answers only when told to, after the wait has
/// given up) does not turn the wait off: the replies after it, each 200 µs
/// of work away, are still taken without parking. Two misses since the last
/// wait that succeeded are tolerated; with none tolerated, the next 16
/// receives parked.
#[tokio::test(flavor = "current_thread")]
async fn one_late_reply_does_not_turn_the_wait_off() -> Result<()> {
    const N: u32 = 20;
    let ctx = Context::new();
    let ep = inproc("wait-here-one-late");
    let (go, peer) = echo_thread(&ctx, &ep, 1, N)?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    req.set_blocking_wait(Duration::from_millis(10))?;
    late_reply(&req, &go, b"late").await?;
    let taken = replies_without_parking(&req, N).await?;
    peer.join().expect("peer thread")?;
    assert!(
        taken >= N / 2,
        "after one late reply only {taken} of {N} replies were taken without parking: \
         one miss turned the wait off"
    );
    Ok(())
}

/// REQ and REP in the same task (`join!`): each wait on the thread is a
/// miss (the peer cannot run while it lasts), and the backoff keeps the
/// misses few. With 5 ms per miss, 100 round trips would take at least a
/// second without the backoff.
#[tokio::test(flavor = "current_thread")]
async fn a_peer_in_the_same_task_costs_few_misses() -> Result<()> {
    const N: u32 = 100;
    let ctx = Context::new();
    let ep = inproc("wait-here-same-task");
    let rep = AsyncSocket::new(socket(&ctx, SocketType::Rep)?)?;
    rep.bind(&ep)?;
    let req = AsyncSocket::new(socket(&ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    for s in [&rep, &req] {
        s.set_blocking_wait(Duration::from_millis(5))?;
    }
    let start = Instant::now();
    let server = async {
        for _ in 0..N {
            let m = rep.recv_msg().await?;
            rep.send(m).await?;
        }
        Ok::<(), Error>(())
    };
    let client = async {
        for i in 0..N {
            req.send(&i.to_le_bytes()).await?;
            assert_eq!(req.recv_msg().await?[..], i.to_le_bytes());
        }
        Ok::<(), Error>(())
    };
    let (a, b) = within("same-task round trips", async {
        tokio::join!(server, client)
    })
    .await;
    a?;
    b?;
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(400),
        "{N} round trips in one task took {took:?}: the misses are not backed off"
    );
    Ok(())
}

/// The halves of a split DEALER used from two threads (`Handle::block_on`
/// on each, no spawned task, so both wait on their threads): the sender's
/// calls may process the command meant for the receiver while it waits
/// unregistered. Every echo still arrives.
#[test]
fn split_halves_on_two_threads_lose_no_wakeup() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    let ep = inproc("wait-here-split");
    let router = socket(&ctx, SocketType::Router)?;
    router.set_rcvtimeo(Some(TIMEOUT))?;
    router.bind(&ep)?;
    let echo = thread::spawn(move || -> Result<()> {
        for _ in 0..N {
            let parts = router.recv_multipart()?;
            router.send_multipart(parts)?;
        }
        Ok(())
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, rx) = rt.block_on(async {
        let dealer = AsyncSocket::new(socket(&ctx, SocketType::Dealer)?)?;
        dealer.connect(&ep)?;
        Ok::<_, Error>(dealer.split())
    })?;
    let handle = rt.handle().clone();
    let receiver = thread::spawn(move || -> Result<()> {
        handle.block_on(async {
            for i in 0..N {
                let m = within("echo", rx.recv_msg()).await?;
                assert_eq!(m[..], i.to_le_bytes());
            }
            Ok(())
        })
    });
    rt.block_on(async {
        for i in 0..N {
            within("send", tx.send(&i.to_le_bytes())).await?;
        }
        Ok::<(), Error>(())
    })?;
    receiver.join().expect("receiver thread")?;
    echo.join().expect("echo thread")?;
    Ok(())
}

/// A zero `RCVTIMEO` fails at once, and a short one bounds the wait on the
/// thread: neither waits out the 10 ms limit.
#[tokio::test(flavor = "current_thread")]
async fn the_receive_timeout_bounds_the_wait() -> Result<()> {
    let ctx = Context::new();
    let pull = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    pull.bind(&inproc("wait-here-timeout"))?;
    for (rcvtimeo, below) in [(0, Duration::from_millis(5)), (2, Duration::from_millis(9))] {
        pull.set_rcvtimeo(Some(Duration::from_millis(rcvtimeo)))?;
        let mut fastest = Duration::MAX;
        for _ in 0..10 {
            // Setting the limit again also ends any backoff of a miss.
            pull.set_blocking_wait(Duration::from_millis(10))?;
            let start = Instant::now();
            let r = within("recv with a timeout", pull.recv_msg()).await;
            assert!(
                matches!(r, Err(Error::Again)),
                "RCVTIMEO {rcvtimeo} ms: {r:?}"
            );
            fastest = fastest.min(start.elapsed());
        }
        assert!(
            fastest < below,
            "RCVTIMEO {rcvtimeo} ms: the fastest of 10 receives took {fastest:?}"
        );
    }
    Ok(())
}

/// `set` (a limit of 11 ms) was refused as invalid input naming `setter`
/// and the 10 ms limit.
fn refused_over_ten_milliseconds(set: Result<()>, setter: &str) {
    let err = set.expect_err("11 ms accepted");
    let text = err.to_string();
    assert!(
        matches!(err, Error::InvalidInput { .. }) && text.contains(setter) && text.contains("10ms"),
        "{text}"
    );
}

/// Longer than 10 ms is refused, naming the setter and the limit.
#[tokio::test(flavor = "current_thread")]
async fn a_limit_above_ten_milliseconds_is_refused() -> Result<()> {
    let ctx = Context::new();
    let s = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    refused_over_ten_milliseconds(
        s.set_blocking_wait(Duration::from_millis(11)),
        "set_blocking_wait",
    );
    assert_eq!(s.blocking_wait(), Duration::from_micros(100));
    Ok(())
}

/// The default is for in-process sockets: a tcp or ipc endpoint, bound or
/// connected through the async socket or the last one before it was made,
/// turns it off; a limit that was set stays.
#[tokio::test(flavor = "current_thread")]
async fn the_default_wait_is_for_in_process_sockets() -> Result<()> {
    let ctx = Context::new();
    let on = Duration::from_micros(100);

    let s = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    s.bind(&inproc("wait-here-default"))?;
    assert_eq!(s.blocking_wait(), on, "inproc only");
    s.bind("tcp://127.0.0.1:*")?;
    assert_eq!(s.blocking_wait(), Duration::ZERO, "after a tcp bind");

    let s = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    s.connect(&common::ipc("wait-here-default"))?;
    assert_eq!(s.blocking_wait(), Duration::ZERO, "after an ipc connect");

    let listener = socket(&ctx, SocketType::Pull)?;
    let tcp = listener.bind("tcp://127.0.0.1:*")?;
    let plain = socket(&ctx, SocketType::Push)?;
    plain.connect(&tcp)?;
    let s = AsyncSocket::new(plain)?;
    assert_eq!(
        s.blocking_wait(),
        Duration::ZERO,
        "tcp before AsyncSocket::new"
    );

    let s = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    s.set_blocking_wait(Duration::from_micros(300))?;
    s.connect(&tcp)?;
    assert_eq!(
        s.blocking_wait(),
        Duration::from_micros(300),
        "a set limit stays"
    );
    Ok(())
}

/// The looks before sleeping follow the same default: 20 µs in-process,
/// zero once there is a tcp or ipc endpoint (bound, connected, or before
/// `AsyncSocket::new`); a set limit stays; over 10 ms is refused.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn the_default_busy_wait_is_for_in_process_sockets() -> Result<()> {
    let ctx = Context::new();
    let on = Duration::from_micros(20);

    let s = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    assert_eq!(s.busy_wait(), on, "no endpoint yet");
    s.bind(&inproc("busy-wait-default"))?;
    assert_eq!(s.busy_wait(), on, "inproc only");
    let tcp = s.bind("tcp://127.0.0.1:*")?;
    assert_eq!(s.busy_wait(), Duration::ZERO, "after a tcp bind");

    let s = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    s.connect(&common::ipc("busy-wait-default"))?;
    assert_eq!(s.busy_wait(), Duration::ZERO, "after an ipc connect");

    let plain = socket(&ctx, SocketType::Push)?;
    plain.connect(&tcp)?;
    let s = AsyncSocket::new(plain)?;
    assert_eq!(s.busy_wait(), Duration::ZERO, "tcp before AsyncSocket::new");

    let s = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    s.set_busy_wait(Duration::from_micros(50))?;
    s.connect(&tcp)?;
    assert_eq!(
        s.busy_wait(),
        Duration::from_micros(50),
        "a set limit stays"
    );

    refused_over_ten_milliseconds(s.set_busy_wait(Duration::from_millis(11)), "set_busy_wait");
    assert_eq!(s.busy_wait(), Duration::from_micros(50));
    Ok(())
}

/// How often the calling thread has gone to sleep in the kernel so far
/// (`voluntary_ctxt_switches` of `/proc/thread-self/status`).
#[cfg(target_os = "linux")]
fn sleeps_of_this_thread() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").expect("/proc/thread-self");
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("voluntary_ctxt_switches in /proc/thread-self/status")
}

/// `n` round trips of `req` with a peer that answers at once; how many of
/// them put this thread to sleep.
#[cfg(target_os = "linux")]
async fn sleeps_per_round_trips(req: &AsyncSocket, n: u32) -> Result<u64> {
    let before = sleeps_of_this_thread();
    for i in 0..n {
        req.send(&i.to_le_bytes()).await?;
        assert_eq!(within("reply", req.recv_msg()).await?[..], i.to_le_bytes());
    }
    Ok(sleeps_of_this_thread() - before)
}

/// A REP on its own thread, bound to `ep`, that looks for requests without
/// ever sleeping and echoes each after `work` spent on the CPU, until the
/// returned flag is set or `TIMEOUT` passes.
#[cfg(target_os = "linux")]
fn eager_echo(ctx: &Context, ep: &str, work: Duration) -> Result<EagerEcho> {
    let rep = socket(ctx, SocketType::Rep)?;
    rep.bind(ep)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = thread::spawn(move || -> Result<()> {
        let deadline = Instant::now() + TIMEOUT;
        while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
            match rep.try_recv_msg()? {
                Some(m) => {
                    let started = Instant::now();
                    while started.elapsed() < work {
                        std::hint::spin_loop();
                    }
                    rep.send(m)?;
                }
                None => thread::yield_now(),
            }
        }
        Ok(())
    });
    Ok(EagerEcho { stop, thread })
}

/// An async REQ connected to an [`eager_echo`] named `name` that works
/// `work` per request, its wait on the thread and its looks set to `wait`
/// and `looks`.
#[cfg(target_os = "linux")]
fn req_to_eager_echo(
    ctx: &Context,
    name: &str,
    work: Duration,
    wait: Duration,
    looks: Duration,
) -> Result<(AsyncSocket, EagerEcho)> {
    let ep = inproc(name);
    let peer = eager_echo(ctx, &ep, work)?;
    let req = AsyncSocket::new(socket(ctx, SocketType::Req)?)?;
    req.connect(&ep)?;
    req.set_blocking_wait(wait)?;
    req.set_busy_wait(looks)?;
    Ok((req, peer))
}

/// See [`eager_echo`].
#[cfg(target_os = "linux")]
struct EagerEcho {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Result<()>>,
}

#[cfg(target_os = "linux")]
impl EagerEcho {
    fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("echo thread")
    }
}

/// The wait on the thread first looks at the fd without sleeping: the
/// replies of a peer that answers within the looks' limit are taken without
/// this thread going to sleep in the kernel (each sleep is a wake-up
/// through the scheduler, about 30 µs on a virtual machine). The peer works
/// 200 µs per request, so that even a debug build's wait has begun when the
/// reply comes, and the looks and the wait are set to 1 and 2 ms to cover
/// it on a loaded machine (the default looks, 20 µs, are for peers that
/// answer within microseconds). With the looks off (`set_busy_wait(ZERO)`)
/// the same wait sleeps, which shows that the count sees the sleeps. The
/// best of three batches counts.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_wait_looks_before_it_sleeps() -> Result<()> {
    const N: u32 = 100;
    let ctx = Context::new();
    let (req, peer) = req_to_eager_echo(
        &ctx,
        "wait-here-spin",
        Duration::from_micros(200),
        Duration::from_millis(2),
        Duration::from_millis(1),
    )?;
    let best_of_three = async |req: &AsyncSocket| -> Result<u64> {
        let mut best = u64::MAX;
        for _ in 0..3 {
            best = best.min(sleeps_per_round_trips(req, N).await?);
        }
        Ok(best)
    };
    let looking = best_of_three(&req).await?;
    req.set_busy_wait(Duration::ZERO)?;
    let not_looking = best_of_three(&req).await?;
    peer.stop()?;

    assert!(
        not_looking >= u64::from(N) / 2,
        "without looks only {not_looking} of {N} round trips slept: the count proves nothing"
    );
    assert!(
        looking < u64::from(N) / 8,
        "looking first, {looking} of {N} round trips slept (best of three batches)"
    );
    Ok(())
}

/// The CPU time the calling thread has used so far.
#[cfg(target_os = "linux")]
fn cpu_time_of_this_thread() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec, and the clock is one every
    // Linux kernel has.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(
        u64::try_from(t.tv_sec).expect("seconds"),
        u32::try_from(t.tv_nsec).expect("nanoseconds"),
    )
}

/// Looks that do not pay off back off: with a peer that answers each
/// request after 2 ms of work and 0.5 ms of looks, after four misses a wait
/// whose looks missed makes the next one, then two, four… (up to 64) waits
/// sleep at once. Sixty round trips then look in about ten waits: 7.5–8.6 ms
/// of CPU time measured (debug build), where looking every time spent 32 ms.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn looks_that_miss_back_off() -> Result<()> {
    const N: u32 = 60;
    let ctx = Context::new();
    let (req, peer) = req_to_eager_echo(
        &ctx,
        "wait-here-slow-peer",
        Duration::from_millis(2),
        Duration::from_millis(5),
        Duration::from_micros(500),
    )?;
    let (started, cpu_before) = (Instant::now(), cpu_time_of_this_thread());
    sleeps_per_round_trips(&req, N).await?;
    let (took, cpu) = (started.elapsed(), cpu_time_of_this_thread() - cpu_before);
    peer.stop()?;

    assert!(
        took >= Duration::from_millis(2) * N,
        "{N} round trips in {took:?}: the peer did not work 2 ms per request"
    );
    assert!(
        cpu < Duration::from_millis(15),
        "{cpu:?} of CPU time for {N} round trips with a peer that answers after 2 ms and \
         0.5 ms of looks: the looks did not back off"
    );
    Ok(())
}
