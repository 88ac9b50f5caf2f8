//! Sending and receiving: the Rust equivalents of pyzmq's
//! `test_multipart.py`, plus the send/receive API (multipart from any
//! iterator, typed flags, `try_*`, `recv_into`, strings, zero-copy receive).
//!
//! pyzmq tests skipped: only the gevent variant (no green threads in Rust).

mod common;

use std::time::Duration;

use common::{TIMEOUT, bind_tcp, inproc, ipc, socket};
use zmqx::{Context, Error, Message, Result, SendFlags, Socket, SocketType};

fn pair_on(ctx: &Context, a: SocketType, b: SocketType, ep: &str) -> Result<(Socket, Socket)> {
    let s1 = socket(ctx, a)?;
    s1.bind(ep)?;
    let s2 = socket(ctx, b)?;
    s2.connect(&s1.last_endpoint()?)?;
    Ok((s1, s2))
}

fn endpoints() -> [String; 3] {
    [
        inproc("multipart"),
        ipc("multipart"),
        "tcp://127.0.0.1:*".to_string(),
    ]
}

#[test]
fn router_dealer() -> Result<()> {
    // pyzmq: test_router_dealer
    let ctx = Context::new();
    for ep in endpoints() {
        let (router, dealer) = pair_on(&ctx, SocketType::Router, SocketType::Dealer, &ep)?;
        dealer.send("message1")?;
        let id = router.recv_msg()?;
        assert!(!id.is_empty());
        assert!(router.rcvmore()?);
        assert_eq!(router.recv_bytes()?, b"message1");
        assert!(!router.rcvmore()?);
        // Route a reply back by id.
        router.send_multipart([&id[..], b"reply"])?;
        assert_eq!(dealer.recv_string()?, "reply");
    }
    Ok(())
}

#[test]
fn basic_multipart() -> Result<()> {
    // pyzmq: test_basic_multipart
    let ctx = Context::new();
    for ep in endpoints() {
        let (a, b) = pair_on(&ctx, SocketType::Pair, SocketType::Pair, &ep)?;
        let msg = [&b"hi"[..], b"there", b"b"];
        a.send_multipart(msg)?;
        let got = b.recv_multipart_bytes()?;
        assert_eq!(got, msg.map(<[u8]>::to_vec));
    }
    Ok(())
}

#[test]
fn multipart_from_any_iterator() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair_on(&ctx, SocketType::Pair, SocketType::Pair, &inproc("iter"))?;
    a.send_multipart(vec!["a", "b"])?;
    a.send_multipart([b"c".to_vec(), b"d".to_vec()])?;
    a.send_multipart((0..3).map(|i| format!("part {i}")))?;
    a.send_multipart(vec![
        Message::from("m1"),
        Message::from(vec![b'x'; 100_000]),
    ])?;
    let owned = [String::from("s1"), String::from("s2")];
    a.send_multipart(&owned)?;
    a.send_multipart(std::iter::once(&b"only"[..]))?;
    a.send_multipart([bytes::Bytes::from_static(b"b1")])?;
    let expect: [&[&str]; 3] = [&["a", "b"], &["c", "d"], &["part 0", "part 1", "part 2"]];
    for want in expect {
        let got = b.recv_multipart()?;
        assert_eq!(got.len(), want.len());
        for (m, w) in got.iter().zip(want.iter()) {
            assert_eq!(m, w);
        }
    }
    let got = b.recv_multipart()?;
    assert_eq!(got[0], "m1");
    assert_eq!(got[1].len(), 100_000);
    assert_eq!(
        b.recv_multipart_bytes()?,
        vec![b"s1".to_vec(), b"s2".to_vec()]
    );
    assert_eq!(b.recv_multipart_bytes()?, vec![b"only".to_vec()]);
    assert_eq!(b.recv_multipart_bytes()?, vec![b"b1".to_vec()]);
    // A message has at least one part.
    let none: [&[u8]; 0] = [];
    assert!(matches!(
        a.send_multipart(none),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(b.try_recv_msg()?, None);
    Ok(())
}

#[test]
fn manual_sndmore_and_rcvmore() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair_on(&ctx, SocketType::Pair, SocketType::Pair, &inproc("sndmore"))?;
    a.send_with("head", SendFlags::SNDMORE)?;
    a.send_with(Message::from("middle"), SendFlags::SNDMORE)?;
    a.send_string("tail")?;
    let parts = b.recv_multipart()?;
    assert_eq!(
        parts,
        vec![
            Message::from("head"),
            Message::from("middle"),
            Message::from("tail")
        ]
    );
    assert!(parts[0].more() && parts[1].more() && !parts[2].more());
    Ok(())
}

#[test]
fn multipart_receive_does_not_copy() -> Result<()> {
    // inproc hands over the sender's buffers: received parts point at them.
    let ctx = Context::new();
    let (a, b) = pair_on(&ctx, SocketType::Pair, SocketType::Pair, &inproc("nocopy"))?;
    let big1 = vec![1u8; 200_000];
    let big2 = vec![2u8; 200_000];
    let (p1, p2) = (big1.as_ptr(), big2.as_ptr());
    a.send_multipart([big1, big2])?;
    let mut parts = Vec::with_capacity(4);
    b.recv_multipart_into(&mut parts)?;
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].as_ptr(), p1);
    assert_eq!(parts[1].as_ptr(), p2);
    // recv_multipart_into appends (reuse the vector by clearing it).
    a.send("again")?;
    b.recv_multipart_into(&mut parts)?;
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2], "again");
    Ok(())
}

#[test]
fn try_calls_report_would_block_as_none_or_false() -> Result<()> {
    let ctx = Context::new();
    // A PUSH with no peer cannot send; a PULL with nothing queued cannot receive.
    let push = socket(&ctx, SocketType::Push)?;
    push.bind(&inproc("nobody"))?;
    assert!(!push.try_send("x")?);
    let mut keep = Message::from("kept");
    assert!(!push.try_send(&mut keep)?);
    assert_eq!(
        keep, "kept",
        "a message that could not be sent is untouched"
    );
    assert!(!push.try_send_multipart(["a", "b"])?);
    assert!(matches!(
        push.send_with("x", SendFlags::DONTWAIT),
        Err(Error::Again)
    ));

    let pull = socket(&ctx, SocketType::Pull)?;
    let ep = bind_tcp(&pull)?;
    assert_eq!(pull.try_recv_msg()?, None);
    assert_eq!(pull.try_recv_bytes()?, None);
    assert_eq!(pull.try_recv_string()?, None);
    assert_eq!(pull.try_recv_multipart()?, None);
    let mut into = Message::from("old content");
    assert!(!pull.try_recv_msg_into(&mut into)?);
    let mut parts = Vec::new();
    assert!(!pull.try_recv_multipart_into(&mut parts)?);
    assert!(parts.is_empty());
    assert_eq!(pull.try_recv_into(&mut [0u8; 4])?, None);
    // A receive timeout is Again as well.
    pull.set_rcvtimeo(Some(Duration::from_millis(20)))?;
    assert!(matches!(pull.recv_bytes(), Err(Error::Again)));

    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&ep)?;
    push.send_multipart(["one", "two"])?;
    pull.set_rcvtimeo(Some(TIMEOUT))?;
    assert!(
        pull.poll(zmqx::PollEvents::POLLIN, Some(TIMEOUT))?
            .contains(zmqx::PollEvents::POLLIN)
    );
    let got = pull.try_recv_multipart()?.expect("ready");
    assert_eq!(got, vec![Message::from("one"), Message::from("two")]);
    push.send("s")?;
    assert!(
        pull.poll(zmqx::PollEvents::POLLIN, Some(TIMEOUT))?
            .contains(zmqx::PollEvents::POLLIN)
    );
    assert_eq!(pull.try_recv_string()?.as_deref(), Some("s"));
    Ok(())
}

#[test]
fn recv_into_reports_the_real_size() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair_on(
        &ctx,
        SocketType::Pair,
        SocketType::Pair,
        &inproc("recv-into"),
    )?;
    a.send("0123456789")?;
    let mut buf = [0u8; 4];
    let n = b.recv_into(&mut buf)?;
    assert_eq!(n, 10, "the message's real size, though truncated");
    assert_eq!(&buf, b"0123");
    a.send("ab")?;
    let mut buf = [0u8; 4];
    assert_eq!(b.recv_into(&mut buf)?, 2);
    assert_eq!(&buf[..2], b"ab");
    a.send("")?;
    assert_eq!(b.recv_into(&mut [])?, 0);
    assert_eq!(b.try_recv_into(&mut buf)?, None);
    Ok(())
}

#[test]
fn strings_and_invalid_utf8() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair_on(&ctx, SocketType::Pair, SocketType::Pair, &inproc("strings"))?;
    a.send_string("héllo")?;
    assert_eq!(b.recv_string()?, "héllo");
    let bad = vec![b'o', b'k', 0xff, 0xfe];
    a.send(&bad)?;
    match b.recv_string() {
        Err(Error::Utf8 { bytes, source }) => {
            assert_eq!(bytes, bad, "the bytes are handed back");
            assert_eq!(source.valid_up_to(), 2);
        }
        other => panic!("expected Error::Utf8, got {other:?}"),
    }
    a.send(&bad)?;
    let err = b.recv_string().expect_err("not UTF-8");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    Ok(())
}
