//! PUB/SUB: the Rust equivalents of pyzmq's `test_pubsub.py`, over inproc,
//! ipc and tcp, plus XPUB/XSUB.
//!
//! pyzmq's tests sleep 0.1 s for the subscription to reach the publisher;
//! here the subscriber waits for a canary message instead (a real signal),
//! then for a fence so that no canary is left in flight.
//!
//! pyzmq tests skipped: only the gevent variant (no green threads in Rust).

mod common;

use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, ipc, socket};
use zmqx::{Context, Error, PollEvents, Result, Socket, SocketType};

fn pub_sub(ctx: &Context) -> Result<Vec<(Socket, Socket)>> {
    [
        inproc("pubsub"),
        ipc("pubsub"),
        "tcp://127.0.0.1:*".to_string(),
    ]
    .iter()
    .map(|ep| {
        let publisher = socket(ctx, SocketType::Pub)?;
        publisher.bind(ep)?;
        let sub = socket(ctx, SocketType::Sub)?;
        sub.connect(&publisher.last_endpoint()?)?;
        Ok((publisher, sub))
    })
    .collect()
}

/// Waits until `sub` receives what `publisher` sends under `prefix`, and
/// leaves nothing queued.
fn wait_subscribed(publisher: &Socket, sub: &Socket, prefix: &str) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.send(format!("{prefix}canary"))?;
        if !sub
            .poll(PollEvents::POLLIN, Some(Duration::from_millis(20)))?
            .is_empty()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the subscription never arrived");
    }
    let fence = format!("{prefix}fence");
    publisher.send(&fence)?;
    while sub.recv_string()? != fence {}
    Ok(())
}

#[test]
fn basic() -> Result<()> {
    // pyzmq: test_basic
    let ctx = Context::new();
    for (publisher, sub) in pub_sub(&ctx)? {
        sub.subscribe(b"")?;
        wait_subscribed(&publisher, &sub, "")?;
        publisher.send("message")?;
        assert_eq!(sub.recv_bytes()?, b"message");
    }
    Ok(())
}

#[test]
fn topic() -> Result<()> {
    // pyzmq: test_topic
    let ctx = Context::new();
    for (publisher, sub) in pub_sub(&ctx)? {
        sub.subscribe(b"x")?;
        wait_subscribed(&publisher, &sub, "x")?;
        publisher.send("message")?;
        publisher.send("xfence")?;
        // The fence was sent after "message": if it had matched, it would
        // come first.
        assert_eq!(sub.recv_string()?, "xfence");
        assert_eq!(sub.try_recv_msg()?, None);
        publisher.send("xmessage")?;
        assert_eq!(sub.recv_bytes()?, b"xmessage");
    }
    Ok(())
}

#[test]
fn pub_cannot_receive_and_sub_cannot_send() -> Result<()> {
    let ctx = Context::new();
    let publisher = socket(&ctx, SocketType::Pub)?;
    let sub = socket(&ctx, SocketType::Sub)?;
    assert!(matches!(
        publisher.recv_msg().as_ref().map_err(Error::root),
        Err(Error::NotSupported)
    ));
    assert!(matches!(
        sub.send("x").as_ref().map_err(Error::root),
        Err(Error::NotSupported)
    ));
    // A PUB without subscribers drops messages instead of blocking.
    publisher.bind(&inproc("nobody-listens"))?;
    assert!(publisher.try_send("dropped")?, "PUB never blocks");
    Ok(())
}

#[test]
fn xpub_sees_subscriptions_and_xsub_sends_them() -> Result<()> {
    let ctx = Context::new();
    let xpub = socket(&ctx, SocketType::XPub)?;
    let ep = inproc("xpub");
    xpub.bind(&ep)?;
    let xsub = socket(&ctx, SocketType::XSub)?;
    xsub.connect(&ep)?;
    // An XSUB subscribes by sending the subscription message itself.
    xsub.send(&b"\x01news"[..])?;
    assert_eq!(xpub.recv_bytes()?, b"\x01news");
    xpub.send("sports 1")?;
    xpub.send("news 1")?;
    assert_eq!(xsub.recv_string()?, "news 1");
    xsub.send(&b"\x00news"[..])?;
    assert_eq!(xpub.recv_bytes()?, b"\x00news");
    Ok(())
}

#[test]
fn several_subscribers() -> Result<()> {
    let ctx = Context::new();
    let xpub = socket(&ctx, SocketType::XPub)?;
    xpub.set_xpub_verbose(true)?;
    let ep = common::bind_tcp(&xpub)?;
    let subs: Vec<Socket> = (0..3)
        .map(|_| -> Result<Socket> {
            let s = socket(&ctx, SocketType::Sub)?;
            s.connect(&ep)?;
            s.subscribe("t")?;
            Ok(s)
        })
        .collect::<Result<_>>()?;
    // XPUB_VERBOSE passes on every subscription, duplicates included.
    for _ in 0..3 {
        assert_eq!(xpub.recv_bytes()?, b"\x01t");
    }
    xpub.send("topic for all")?;
    for s in &subs {
        assert_eq!(s.recv_string()?, "topic for all");
    }
    Ok(())
}
