//! An [`AsyncPoller`] watching plain, blocking sockets (pyzmq's
//! `zmq.asyncio.Poller().register(sync_socket)`), alone and beside async
//! sockets: readiness comes from `ZMQ_EVENTS`, the edge-triggered `ZMQ_FD`
//! only says "look again", and a cancelled poll leaves nothing registered.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::future::Future;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use common::{TIMEOUT, inproc, socket, within};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use zmqx::asynchronous::AsyncPoller;
use zmqx::{AsyncSocket, Context, PollEvents, Result, Socket, SocketType};

/// A connected PUSH → PULL pair of plain sockets over inproc.
fn plain_pair(ctx: &Context) -> Result<(Socket, Socket)> {
    let endpoint = inproc("apoller-sync");
    let pull = socket(ctx, SocketType::Pull)?;
    pull.bind(&endpoint)?;
    let push = socket(ctx, SocketType::Push)?;
    push.connect(&endpoint)?;
    Ok((push, pull))
}

/// A thread that sends one message through `push` each time it is told to.
fn sender(push: Socket) -> (mpsc::Sender<String>, std::thread::JoinHandle<Result<()>>) {
    let (tx, rx) = mpsc::channel::<String>();
    let thread = std::thread::spawn(move || {
        while let Ok(m) = rx.recv() {
            push.send(m)?;
        }
        Ok(())
    });
    (tx, thread)
}

/// A plain PULL socket registered for `POLLIN` becomes ready when another
/// thread sends to it while the poll waits, poll after poll.
#[tokio::test(flavor = "current_thread")]
async fn plain_pull_wakes_on_a_message_from_another_thread() -> Result<()> {
    let ctx = Context::new();
    let (push, mut pull) = plain_pair(&ctx)?;
    let (go, thread) = sender(push);
    let mut poller = AsyncPoller::new();
    let key = poller.register_socket(&mut pull, PollEvents::POLLIN)?;
    assert!(poller.poll(Some(Duration::ZERO)).await?.is_empty());
    for i in 0..100 {
        // The poll is polled (and parked on the fd) before the send.
        let (ready, ()) = tokio::join!(within("poll", poller.poll(None)), async {
            tokio::task::yield_now().await;
            go.send(format!("m{i}")).expect("sender thread");
        });
        assert_eq!(ready?, vec![(key, PollEvents::POLLIN)], "round {i}");
        let pull = poller.socket(key).expect("plain socket");
        assert_eq!(pull.try_recv_string()?, Some(format!("m{i}")));
    }
    drop(go);
    thread.join().expect("sender thread")?;
    Ok(())
}

/// Async and plain sockets in one poller: each is reported when, and only
/// when, it is ready.
#[tokio::test(flavor = "current_thread")]
async fn async_and_plain_sockets_in_one_poller() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("apoller-mixed-async");
    let a = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    a.bind(&endpoint)?;
    let a_push = AsyncSocket::new(socket(&ctx, SocketType::Push)?)?;
    a_push.connect(&endpoint)?;
    let (b_push, mut b) = plain_pair(&ctx)?;
    let (go, thread) = sender(b_push);

    let mut poller = AsyncPoller::new();
    let ka = poller.register(&a, PollEvents::POLLIN);
    let kb = poller.register_socket(&mut b, PollEvents::POLLIN)?;
    assert_ne!(ka, kb);
    assert_eq!(poller.len(), 2);
    assert!(poller.socket(ka).is_none(), "an async socket is not plain");

    // The plain one, from another thread, while the poll waits.
    let (ready, ()) = tokio::join!(within("poll b", poller.poll(None)), async {
        tokio::task::yield_now().await;
        go.send("to b".into()).expect("sender thread");
    });
    assert_eq!(ready?, vec![(kb, PollEvents::POLLIN)]);
    assert_eq!(
        poller.socket(kb).expect("b").try_recv_string()?.as_deref(),
        Some("to b")
    );

    // The async one, while the poll waits.
    let (ready, sent) = tokio::join!(within("poll a", poller.poll(None)), async {
        tokio::task::yield_now().await;
        a_push.send("to a").await
    });
    sent?;
    assert_eq!(ready?, vec![(ka, PollEvents::POLLIN)]);
    assert_eq!(a.recv_string().await?, "to a");

    // Both.
    within("send a", a_push.send("a again")).await?;
    go.send("b again".into()).expect("sender thread");
    drop(go);
    thread.join().expect("sender thread")?;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        for (key, ev) in within("poll both", poller.poll(None)).await? {
            assert_eq!(ev, PollEvents::POLLIN);
            if key == ka {
                assert_eq!(within("recv a", a.recv_string()).await?, "a again");
            } else {
                assert_eq!(key, kb);
                let b = poller.socket(kb).expect("b");
                assert_eq!(b.try_recv_string()?.as_deref(), Some("b again"));
            }
            seen.push(key);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![ka, kb]);
    assert!(poller.poll(Some(Duration::ZERO)).await?.is_empty());
    Ok(())
}

/// A plain PUSH at its send high-water mark, registered for `POLLOUT`,
/// wakes when its peer drains the queue (the wakeup an fd-only poller
/// loses: the edge is consumed by the peer's `activate_write` command).
#[tokio::test(flavor = "current_thread")]
async fn plain_push_at_hwm_wakes_when_the_peer_drains() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("apoller-hwm");
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.set_rcvhwm(1)?;
    pull.bind(&endpoint)?;
    let mut push = socket(&ctx, SocketType::Push)?;
    push.set_sndhwm(1)?;
    push.connect(&endpoint)?;

    for round in 0..20 {
        // Fill until full; a credit from the last round's receives may
        // still be on its way (reading EVENTS takes it in).
        let mut queued = 0;
        loop {
            while push.try_send("x")? {
                queued += 1;
                assert!(queued < 10_000, "the high-water mark never applied");
            }
            if !push.events()?.contains(PollEvents::POLLOUT) {
                break;
            }
        }
        assert!(queued > 0, "round {round}: nothing could be sent");
        let mut poller = AsyncPoller::new();
        let key = poller.register_socket(&mut push, PollEvents::POLLOUT)?;
        assert!(
            poller.poll(Some(Duration::ZERO)).await?.is_empty(),
            "round {round}: full, yet POLLOUT"
        );
        let (ready, drained) = tokio::join!(within("poll", poller.poll(None)), async {
            tokio::task::yield_now().await;
            // The peer drains while the poll waits.
            for _ in 0..queued {
                pull.recv_msg()?;
            }
            Ok::<_, zmqx::Error>(queued)
        });
        assert_eq!(drained?, queued);
        assert_eq!(ready?, vec![(key, PollEvents::POLLOUT)], "round {round}");
        assert!(poller.socket(key).expect("push").try_send("after")?);
        drop(poller);
        assert_eq!(pull.recv_string()?, "after");
    }
    Ok(())
}

/// A message queued (and its fd edge consumed) before the socket is
/// registered, or left after a receive consumed the edge, is still
/// reported: readiness is `ZMQ_EVENTS`, not "the fd fired".
#[tokio::test(flavor = "current_thread")]
async fn message_queued_before_registering_is_ready() -> Result<()> {
    let ctx = Context::new();
    let (push, mut pull) = plain_pair(&ctx)?;
    push.send("early")?;
    // Reading EVENTS processes libzmq's commands and drains the fd: no edge
    // is left for a poller that would trust the fd.
    let seen = common::eventually(TIMEOUT, || {
        pull.events()
            .ok()
            .filter(|e| e.contains(PollEvents::POLLIN))
    });
    assert!(seen.is_some(), "the message never arrived");

    let mut poller = AsyncPoller::new();
    let key = poller.register_socket(&mut pull, PollEvents::POLLIN)?;
    let ready = within("poll", poller.poll(None)).await?;
    assert_eq!(ready, vec![(key, PollEvents::POLLIN)]);

    // Two more queued; receiving the first consumes whatever edge there
    // was, the second must still be reported.
    push.send("second")?;
    push.send("third")?;
    let pull = poller.socket(key).expect("pull");
    assert_eq!(pull.try_recv_string()?.as_deref(), Some("early"));
    let second = common::eventually(TIMEOUT, || pull.try_recv_string().ok().flatten());
    assert_eq!(second.as_deref(), Some("second"));
    let ready = within("poll after a receive", poller.poll(None)).await?;
    assert_eq!(ready, vec![(key, PollEvents::POLLIN)]);
    let pull = poller.socket(key).expect("pull");
    assert_eq!(pull.try_recv_string()?.as_deref(), Some("third"));
    assert!(poller.poll(Some(Duration::ZERO)).await?.is_empty());
    Ok(())
}

/// A waker that holds a token, to count the wakers something still holds.
struct Probe(#[allow(dead_code)] Arc<()>);

impl Wake for Probe {
    fn wake(self: Arc<Self>) {}
}

/// The `ZMQ_FD` of a plain socket, to try to register it with tokio.
struct RawProbe(RawFd);

impl AsRawFd for RawProbe {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Whether the fd is free to be registered with this runtime's reactor (it
/// is not when a poll left it registered: epoll refuses it twice).
fn fd_is_unregistered(fd: RawFd) -> bool {
    // SAFETY: `fd` is the ZMQ_FD of a socket that outlives this call; the
    // registration is dropped before returning.
    match unsafe { AsyncFd::register_with_interest(RawProbe(fd), Interest::READABLE) } {
        Ok(afd) => {
            drop(afd);
            true
        }
        Err(e) => {
            let err = e.into_parts().1;
            assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
            false
        }
    }
}

/// Polls `f` once with `waker`, then drops it.
fn poll_once<F: Future>(f: F, waker: &Waker) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut TaskContext::from_waker(waker))
}

/// A cancelled poll leaves nothing registered: no waker with the async
/// socket, the plain socket's `ZMQ_FD` out of tokio's reactor (and no waker
/// there), and the poller still works after.
#[tokio::test(flavor = "current_thread")]
async fn cancelled_poll_leaves_nothing_registered() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("apoller-cancel-async");
    let a = AsyncSocket::new(socket(&ctx, SocketType::Pull)?)?;
    a.bind(&endpoint)?;
    let (push, mut b) = plain_pair(&ctx)?;
    let b_fd = b.fd()?;

    let mut poller = AsyncPoller::new();
    poller.register(&a, PollEvents::POLLIN);
    let kb = poller.register_socket(&mut b, PollEvents::POLLIN)?;
    assert!(fd_is_unregistered(b_fd), "registered before any poll");

    // While a poll waits, the fd is registered: the probe can tell.
    let token = Arc::new(());
    {
        let waker = Waker::from(Arc::new(Probe(token.clone())));
        let mut f = pin!(poller.poll(None));
        assert!(
            f.as_mut()
                .poll(&mut TaskContext::from_waker(&waker))
                .is_pending()
        );
        assert!(!fd_is_unregistered(b_fd), "a waiting poll is registered");
    }
    assert!(fd_is_unregistered(b_fd), "a dropped poll stayed registered");
    assert_eq!(Arc::strong_count(&token), 1, "a probe waker stayed");

    for i in 0..1_000 {
        let r = tokio::time::timeout(Duration::ZERO, poller.poll(None)).await;
        assert!(r.is_err(), "poll {i} completed: nothing is ready");
        let waker = Waker::from(Arc::new(Probe(token.clone())));
        assert!(poll_once(poller.poll(None), &waker).is_pending());
    }
    assert_eq!(Arc::strong_count(&token), 1, "probe wakers stayed");
    assert!(
        fd_is_unregistered(b_fd),
        "a cancelled poll stayed registered"
    );

    push.send("now")?;
    let ready = within("poll after cancels", poller.poll(None)).await?;
    assert_eq!(ready, vec![(kb, PollEvents::POLLIN)]);
    assert!(
        fd_is_unregistered(b_fd),
        "a completed poll stayed registered"
    );
    Ok(())
}

/// The poller stays `Send` and `Sync` with a plain socket in it (the
/// socket is borrowed exclusively), so a task polling it can be spawned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poller_with_a_plain_socket_is_send() -> Result<()> {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let ctx = Context::new();
    let (push, mut pull) = plain_pair(&ctx)?;
    let task = tokio::spawn(async move {
        let mut poller = AsyncPoller::new();
        send_sync(&poller);
        let key = poller.register_socket(&mut pull, PollEvents::POLLIN)?;
        let ready = within("poll", poller.poll(None)).await?;
        assert_eq!(ready, vec![(key, PollEvents::POLLIN)]);
        let got = poller.socket(key).expect("pull").try_recv_string()?;
        Ok::<_, zmqx::Error>(got)
    });
    push.send("spawned")?;
    let got = within("task", task).await.expect("join")?;
    assert_eq!(got.as_deref(), Some("spawned"));
    Ok(())
}
