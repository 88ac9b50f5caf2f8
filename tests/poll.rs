//! Poller and select: the Rust equivalents of pyzmq's `test_poll.py`, plus
//! raw file descriptors (POLLIN, POLLOUT, POLLERR), modify/unregister and
//! mixed sockets and fds.
//!
//! Where pyzmq sleeps "to allow sockets to connect", these tests poll with a
//! timeout until the state they need is there (a real signal).
//!
//! pyzmq tests skipped: only the gevent variants (no green threads in Rust).

mod common;

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, socket};
use zmqx::{Context, PollEvents, PollTarget, Poller, Result, Socket, SocketType, select};

fn pair(ctx: &Context, a: SocketType, b: SocketType) -> Result<(Socket, Socket)> {
    let s1 = socket(ctx, a)?;
    let ep = bind_tcp(&s1)?;
    let s2 = socket(ctx, b)?;
    s2.connect(&ep)?;
    Ok((s1, s2))
}

/// The events `target` got in `ready`, empty when absent.
fn events_of(ready: &[(PollTarget<'_>, PollEvents)], target: PollTarget<'_>) -> PollEvents {
    ready
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, e)| *e)
        .unwrap_or_default()
}

/// Polls until `done` holds for the result, or fails after TIMEOUT.
fn poll_until<'a>(
    poller: &mut Poller<'a>,
    mut done: impl FnMut(&[(PollTarget<'a>, PollEvents)]) -> bool,
) -> Result<Vec<(PollTarget<'a>, PollEvents)>> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let ready = poller.poll(Some(Duration::from_millis(50)))?;
        if done(&ready) {
            return Ok(ready);
        }
        assert!(
            Instant::now() < deadline,
            "never reached the wanted state: {ready:?}"
        );
    }
}

const INOUT: PollEvents = PollEvents::POLLIN.union(PollEvents::POLLOUT);

#[test]
fn pair_sockets() -> Result<()> {
    // pyzmq: TestPoll.test_pair
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let mut poller = Poller::new();
    poller.register(&s1, INOUT);
    poller.register(&s2, INOUT);
    let (t1, t2) = (PollTarget::from(&s1), PollTarget::from(&s2));
    // Once connected, both are writable and nothing is readable.
    let ready = poll_until(&mut poller, |r| {
        events_of(r, t1) == PollEvents::POLLOUT && events_of(r, t2) == PollEvents::POLLOUT
    })?;
    assert_eq!(ready.len(), 2);
    s1.send("msg1")?;
    s2.send("msg2")?;
    poll_until(&mut poller, |r| {
        events_of(r, t1) == INOUT && events_of(r, t2) == INOUT
    })?;
    assert_eq!(poller.revents(&s1), Some(INOUT));
    s1.recv_msg()?;
    s2.recv_msg()?;
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t1), PollEvents::POLLOUT);
    assert_eq!(events_of(&ready, t2), PollEvents::POLLOUT);
    assert!(poller.unregister(&s1));
    assert!(poller.unregister(&s2));
    assert!(!poller.unregister(&s2));
    assert!(poller.is_empty());
    Ok(())
}

#[test]
fn req_rep_states() -> Result<()> {
    // pyzmq: TestPoll.test_reqrep
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Rep, SocketType::Req)?;
    let mut poller = Poller::new();
    poller.register(&s1, INOUT);
    poller.register(&s2, INOUT);
    let (t1, t2) = (PollTarget::from(&s1), PollTarget::from(&s2));
    // The REP can do nothing yet; the REQ can send once connected.
    let ready = poll_until(&mut poller, |r| events_of(r, t2) == PollEvents::POLLOUT)?;
    assert_eq!(events_of(&ready, t1), PollEvents::empty());
    // After sending, the REQ can do nothing until the reply.
    s2.send("msg1")?;
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t2), PollEvents::empty());
    // The request arrives: s1 is readable (the only thing that can be ready).
    let ready = poller.poll(Some(TIMEOUT))?;
    assert_eq!(events_of(&ready, t1), PollEvents::POLLIN);
    s1.recv_msg()?;
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t1), PollEvents::POLLOUT);
    s1.send("msg2")?;
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t1), PollEvents::empty());
    let ready = poller.poll(Some(TIMEOUT))?;
    assert_eq!(events_of(&ready, t2), PollEvents::POLLIN);
    s2.recv_msg()?;
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t2), PollEvents::POLLOUT);
    Ok(())
}

#[test]
fn no_events_means_unregistered() -> Result<()> {
    // pyzmq: TestPoll.test_no_events
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let mut poller = Poller::new();
    poller.register(&s1, INOUT);
    poller.register(&s2, PollEvents::empty());
    assert_eq!(poller.len(), 1);
    assert_eq!(poller.revents(&s2), None);
    poller.register(&s1, PollEvents::empty());
    assert!(poller.is_empty());
    Ok(())
}

#[test]
fn pub_sub_states() -> Result<()> {
    // pyzmq: TestPoll.test_pubsub
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Pub, SocketType::Sub)?;
    s2.subscribe(b"")?;
    let mut poller = Poller::new();
    poller.register(&s1, INOUT);
    poller.register(&s2, PollEvents::POLLIN);
    let (t1, t2) = (PollTarget::from(&s1), PollTarget::from(&s2));
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t1), PollEvents::POLLOUT);
    assert_eq!(events_of(&ready, t2), PollEvents::empty());
    // Publish until the subscription is in place and s2 becomes readable;
    // PUB stays writable throughout.
    let deadline = Instant::now() + TIMEOUT;
    // Wait on s2 alone: the poller would return at once (s1 is always
    // writable), and a tight loop could fill the HWM and drop the fence.
    loop {
        s1.send("msg1")?;
        if !s2
            .poll(PollEvents::POLLIN, Some(Duration::from_millis(20)))?
            .is_empty()
        {
            let ready = poller.poll(Some(Duration::ZERO))?;
            assert_eq!(events_of(&ready, t1), PollEvents::POLLOUT);
            assert_eq!(events_of(&ready, t2), PollEvents::POLLIN);
            break;
        }
        assert!(Instant::now() < deadline, "never readable");
    }
    // Drain up to a fence, so no message is left in flight.
    s1.send("fence")?;
    while s2.recv_msg()? != "fence" {}
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, t2), PollEvents::empty());
    Ok(())
}

#[test]
fn raw_fds() -> Result<()> {
    // pyzmq: TestPoll.test_raw, plus POLLOUT and POLLERR on fds.
    let (mut w, r) = UnixStream::pair().expect("socketpair");
    let rfd = r.as_raw_fd();
    let wfd = w.as_raw_fd();
    let mut p = Poller::new();
    p.register(rfd, PollEvents::POLLIN);
    assert!(p.poll(Some(Duration::from_millis(1)))?.is_empty());
    w.write_all(b"x").expect("write");
    let ready = p.poll(Some(TIMEOUT))?;
    assert_eq!(ready, vec![(PollTarget::Fd(rfd), PollEvents::POLLIN)]);

    // Writable fd.
    let mut p = Poller::new();
    p.register(wfd, PollEvents::POLLOUT);
    assert_eq!(
        p.poll(Some(TIMEOUT))?,
        vec![(PollTarget::Fd(wfd), PollEvents::POLLOUT)]
    );

    // A pipe whose reader is gone: the writer gets POLLERR.
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fds[0] is the pipe's read end, owned here and closed once.
    unsafe { libc::close(fds[0]) };
    let mut p = Poller::new();
    p.register(fds[1], PollEvents::POLLERR);
    let ready = p.poll(Some(TIMEOUT))?;
    assert_eq!(ready.len(), 1);
    assert!(ready[0].1.contains(PollEvents::POLLERR), "{ready:?}");
    // SAFETY: fds[1] is the pipe's write end, owned here and closed once.
    unsafe { libc::close(fds[1]) };
    Ok(())
}

#[test]
fn sockets_and_fds_together_modify_and_unregister() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let (mut w, r) = UnixStream::pair().expect("socketpair");
    let rfd = r.as_raw_fd();
    let mut poller = Poller::new();
    poller.register(&b, PollEvents::POLLIN);
    poller.register(rfd, PollEvents::POLLIN);
    assert_eq!(poller.len(), 2);
    a.send("zmq")?;
    w.write_all(b"fd").expect("write");
    let ready = poll_until(&mut poller, |r| r.len() == 2)?;
    assert_eq!(events_of(&ready, PollTarget::from(&b)), PollEvents::POLLIN);
    assert_eq!(events_of(&ready, PollTarget::Fd(rfd)), PollEvents::POLLIN);
    // modify: watch b for writing only.
    poller.modify(&b, PollEvents::POLLOUT);
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(events_of(&ready, PollTarget::from(&b)), PollEvents::POLLOUT);
    assert!(poller.unregister(rfd));
    let ready = poller.poll(Some(Duration::ZERO))?;
    assert_eq!(ready.len(), 1);
    Ok(())
}

#[test]
fn poll_timeout_units() -> Result<()> {
    // pyzmq: TestPoll.test_timeout
    let ctx = Context::new();
    let (s1, _s2) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let mut poller = Poller::new();
    poller.register(&s1, PollEvents::POLLIN);
    for ms in [5u64, 50, 200] {
        let start = Instant::now();
        assert!(poller.poll(Some(Duration::from_millis(ms)))?.is_empty());
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(ms) - Duration::from_millis(2),
            "{took:?}"
        );
        assert!(
            took < Duration::from_millis(ms) + Duration::from_secs(2),
            "{took:?}"
        );
    }
    Ok(())
}

#[test]
fn select_pair() -> Result<()> {
    // pyzmq: TestSelect.test_pair
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let both = [PollTarget::from(&s1), PollTarget::from(&s2)];
    let deadline = Instant::now() + TIMEOUT;
    let sel = loop {
        let sel = select(&both, &both, &both, Some(Duration::from_millis(50)))?;
        if sel.write.len() == 2 {
            break sel;
        }
        assert!(Instant::now() < deadline, "never both writable");
    };
    assert!(sel.read.is_empty());
    assert!(sel.error.is_empty());
    s1.send("x")?;
    let sel = select(&both, &[], &[], Some(TIMEOUT))?;
    assert_eq!(sel.read, vec![PollTarget::from(&s2)]);
    assert!(sel.write.is_empty());
    Ok(())
}

#[test]
fn select_timeout_units() -> Result<()> {
    // pyzmq: TestSelect.test_timeout
    let ctx = Context::new();
    let (s1, s2) = pair(&ctx, SocketType::Pair, SocketType::Pair)?;
    let both = [PollTarget::from(&s1), PollTarget::from(&s2)];
    for ms in [5u64, 250] {
        let start = Instant::now();
        let sel = select(&both, &[], &[], Some(Duration::from_millis(ms)))?;
        assert!(sel.read.is_empty());
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(ms) - Duration::from_millis(2),
            "{took:?}"
        );
        assert!(
            took < Duration::from_millis(ms) + Duration::from_secs(2),
            "{took:?}"
        );
    }
    Ok(())
}
