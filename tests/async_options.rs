//! Every socket option on `AsyncSocket` (pyzmq's asyncio sockets have them
//! all): the accessors generated from the option table forward to the
//! socket, with `subscribe`/`unsubscribe`, the generic `get`/`set`, options
//! by number and the hardening preset.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::time::Duration;

use common::{TIMEOUT, bind_tcp, socket};
use zmqx::options::OptionKind;
use zmqx::{AsyncSocket, Context, Hardening, OptionValue, Result, SocketOption, SocketType};

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress within {TIMEOUT:?}"),
    }
}

#[tokio::test]
async fn async_sockets_have_every_option() -> Result<()> {
    let ctx = Context::new();
    let sub = AsyncSocket::new(ctx.socket(SocketType::Sub)?)?;
    // Typed accessors of each kind.
    sub.set_rcvhwm(12)?;
    assert_eq!(sub.rcvhwm()?, 12);
    sub.set_linger(Some(Duration::ZERO))?;
    assert_eq!(sub.linger()?, Some(Duration::ZERO));
    sub.set_maxmsgsize(1 << 20)?;
    assert_eq!(sub.maxmsgsize()?, 1 << 20);
    sub.set_socks_proxy("127.0.0.1:1080")?;
    assert_eq!(sub.socks_proxy()?, "127.0.0.1:1080");
    sub.clear_socks_proxy()?;
    assert_eq!(sub.socks_proxy()?, "");
    assert_eq!(sub.socket_type()?, SocketType::Sub);
    assert_eq!(sub.mechanism()?, zmqx::Mechanism::Null);
    // Generic and raw forms.
    sub.set(SocketOption::SNDHWM, OptionValue::Int(7))?;
    assert_eq!(sub.get(SocketOption::SNDHWM)?, OptionValue::Int(7));
    assert_eq!(sub.hwm()?, 7);
    sub.set_raw_option(zmqx::sys::ZMQ_RCVHWM, OptionValue::Int(9))?;
    assert_eq!(
        sub.get_raw_option(zmqx::sys::ZMQ_RCVHWM, OptionKind::Int)?,
        OptionValue::Int(9)
    );
    sub.harden(&Hardening::default())?;
    assert_eq!(sub.heartbeat_ivl()?, Some(Duration::from_secs(10)));
    Ok(())
}

/// `subscribe`/`unsubscribe` on async sockets filter what arrives.
#[tokio::test]
async fn async_subscribe_filters() -> Result<()> {
    let ctx = Context::new();
    let publisher = AsyncSocket::new(socket(&ctx, SocketType::XPub)?)?;
    let endpoint = publisher.with_socket(bind_tcp)?;
    let sub = AsyncSocket::new(socket(&ctx, SocketType::Sub)?)?;
    sub.connect(&endpoint)?;
    sub.subscribe("keep")?;
    // The subscription reached the publisher: no slow-joiner guesswork.
    let subscription = within("subscription", publisher.recv_msg()).await?;
    assert_eq!(&subscription[..], b"\x01keep");
    publisher.send("drop this").await?;
    publisher.send("keep this").await?;
    assert_eq!(within("filtered", sub.recv_string()).await?, "keep this");
    sub.unsubscribe("keep")?;
    let unsubscription = within("unsubscription", publisher.recv_msg()).await?;
    assert_eq!(&unsubscription[..], b"\x00keep");
    Ok(())
}
