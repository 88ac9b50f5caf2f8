//! PAIR sockets: the Rust equivalents of pyzmq's `test_pair.py`, over
//! inproc, ipc and tcp.
//!
//! pyzmq tests skipped, and why:
//! - `test_json`, `test_pyobj`: serialization helpers belong to
//!   `zmqx::serialize` and its own tests; pickle has no Rust counterpart.
//! - The gevent variant: no green threads in Rust.

mod common;

use common::{inproc, ipc, socket};
use zmqx::{Context, Result, Socket, SocketType};

fn pairs(ctx: &Context) -> Result<Vec<(Socket, Socket)>> {
    [inproc("pair"), ipc("pair"), "tcp://127.0.0.1:*".to_string()]
        .iter()
        .map(|ep| {
            let s1 = socket(ctx, SocketType::Pair)?;
            s1.bind(ep)?;
            let s2 = socket(ctx, SocketType::Pair)?;
            s2.connect(&s1.last_endpoint()?)?;
            Ok((s1, s2))
        })
        .collect()
}

/// Sends `msg` from s1 to s2, which sends it back.
fn ping_pong(s1: &Socket, s2: &Socket, msg: &[u8]) -> Result<Vec<u8>> {
    s1.send(msg)?;
    let got = s2.recv_msg()?;
    s2.send(got)?;
    s1.recv_bytes()
}

#[test]
fn basic() -> Result<()> {
    // pyzmq: test_basic
    let ctx = Context::new();
    for (s1, s2) in pairs(&ctx)? {
        assert_eq!(ping_pong(&s1, &s2, b"message1")?, b"message1");
    }
    Ok(())
}

#[test]
fn multiple() -> Result<()> {
    // pyzmq: test_multiple
    let ctx = Context::new();
    for (s1, s2) in pairs(&ctx)? {
        for i in 0..10 {
            s1.send(" ".repeat(i))?;
        }
        for i in 0..10 {
            s2.send(" ".repeat(i))?;
        }
        for i in 0..10 {
            assert_eq!(s1.recv_string()?, " ".repeat(i));
        }
        for i in 0..10 {
            assert_eq!(s2.recv_string()?, " ".repeat(i));
        }
    }
    Ok(())
}

#[test]
fn one_peer_only() -> Result<()> {
    // PAIR is exclusive: a second peer's connection is not served.
    let ctx = Context::new();
    let ep = inproc("exclusive");
    let a = socket(&ctx, SocketType::Pair)?;
    a.bind(&ep)?;
    let b = socket(&ctx, SocketType::Pair)?;
    b.connect(&ep)?;
    let c = socket(&ctx, SocketType::Pair)?;
    c.connect(&ep)?;
    b.send("from b")?;
    assert_eq!(a.recv_string()?, "from b");
    a.send("to b")?;
    assert_eq!(b.recv_string()?, "to b");
    assert_eq!(c.try_recv_msg()?, None);
    Ok(())
}
