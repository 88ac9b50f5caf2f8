//! REQ/REP: the Rust equivalents of pyzmq's `test_reqrep.py`, over inproc,
//! ipc and tcp.
//!
//! pyzmq tests skipped, and why:
//! - `test_json`, `test_pyobj`: serialization helpers belong to
//!   `zmqx::serialize` and its own tests; pickle has no Rust counterpart.
//! - The gevent variant: no green threads in Rust.

mod common;

use common::{inproc, ipc, socket};
use zmqx::{Context, Error, Result, Socket, SocketType};

fn req_rep(ctx: &Context) -> Result<Vec<(Socket, Socket)>> {
    [
        inproc("reqrep"),
        ipc("reqrep"),
        "tcp://127.0.0.1:*".to_string(),
    ]
    .iter()
    .map(|ep| {
        let rep = socket(ctx, SocketType::Rep)?;
        rep.bind(ep)?;
        let req = socket(ctx, SocketType::Req)?;
        req.connect(&rep.last_endpoint()?)?;
        Ok((req, rep))
    })
    .collect()
}

fn ping_pong(req: &Socket, rep: &Socket, msg: &[u8]) -> Result<Vec<u8>> {
    req.send(msg)?;
    let got = rep.recv_msg()?;
    rep.send(got)?;
    req.recv_bytes()
}

#[test]
fn basic() -> Result<()> {
    // pyzmq: test_basic
    let ctx = Context::new();
    for (req, rep) in req_rep(&ctx)? {
        assert_eq!(ping_pong(&req, &rep, b"message 1")?, b"message 1");
    }
    Ok(())
}

#[test]
fn multiple() -> Result<()> {
    // pyzmq: test_multiple
    let ctx = Context::new();
    for (req, rep) in req_rep(&ctx)? {
        for i in 0..10 {
            let msg = vec![b' '; i];
            assert_eq!(ping_pong(&req, &rep, &msg)?, msg);
        }
    }
    Ok(())
}

#[test]
fn bad_send_recv() -> Result<()> {
    // pyzmq: test_bad_send_recv
    let ctx = Context::new();
    for (req, rep) in req_rep(&ctx)? {
        assert!(matches!(req.recv_msg(), Err(Error::InvalidState)));
        assert!(matches!(req.recv_bytes(), Err(Error::InvalidState)));
        assert!(matches!(rep.send("asdf"), Err(Error::InvalidState)));
        assert!(matches!(
            rep.send(zmqx::Message::from("asdf")),
            Err(Error::InvalidState)
        ));
        // Two requests in a row are refused too.
        req.send("first")?;
        assert!(matches!(req.send("second"), Err(Error::InvalidState)));
        assert_eq!(rep.recv_string()?, "first");
        rep.send("answer")?;
        assert_eq!(req.recv_string()?, "answer");
        assert_eq!(ping_pong(&req, &rep, b"asdf")?, b"asdf");
    }
    Ok(())
}

#[test]
fn large_messages() -> Result<()> {
    // pyzmq: test_large_msg
    let ctx = Context::new();
    for (req, rep) in req_rep(&ctx)? {
        let msg = vec![b'X'; 10_000];
        for _ in 0..10 {
            assert_eq!(ping_pong(&req, &rep, &msg)?, msg);
        }
    }
    Ok(())
}

#[test]
fn multipart_envelopes() -> Result<()> {
    let ctx = Context::new();
    for (req, rep) in req_rep(&ctx)? {
        req.send_multipart(["a", "b"])?;
        let got = rep.recv_multipart_bytes()?;
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec()]);
        rep.send_multipart(["c", "d", "e"])?;
        let got = req.recv_multipart_bytes()?;
        assert_eq!(got, vec![b"c".to_vec(), b"d".to_vec(), b"e".to_vec()]);
    }
    Ok(())
}

#[test]
fn relaxed_req_may_resend() -> Result<()> {
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let ep = inproc("relaxed");
    rep.bind(&ep)?;
    let req = socket(&ctx, SocketType::Req)?;
    req.set_req_relaxed(true)?;
    req.set_req_correlate(true)?;
    req.connect(&ep)?;
    req.send("lost")?;
    req.send("retry")?;
    assert_eq!(rep.recv_string()?, "lost");
    rep.send("stale")?;
    assert_eq!(rep.recv_string()?, "retry");
    rep.send("fresh")?;
    // With correlation, the stale reply to the first request is dropped.
    assert_eq!(req.recv_string()?, "fresh");
    Ok(())
}
