//! Errors, constants and free functions: the Rust equivalents of pyzmq's
//! `test_error.py` (and its disabled `atest_ctxterm`), plus conversions from
//! raw integers, `std::io::Error`, versions, capabilities and CURVE keys.
//!
//! pyzmq's `test_z85.py` vectors are in `z85_vectors.rs`. Nothing of
//! `test_error.py` is skipped.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{TIMEOUT, socket};
use zmqx::{
    Context, ContextOption, CurveKey, DeviceType, Error, Event, GssapiNameType, Mechanism,
    MessageOption, NormMode, PollEvents, Result, SendFlags, SocketType, Version,
};

#[test]
fn strerror_gives_strings() {
    // pyzmq: test_strerror
    for errno in 0..10 {
        assert!(!zmqx::strerror(errno).is_empty());
    }
    for errno in [
        i32::MIN,
        -1,
        99_999,
        i32::MAX,
        zmqx::sys::ETERM,
        zmqx::sys::EFSM,
    ] {
        assert!(!zmqx::strerror(errno).is_empty(), "{errno}");
    }
    assert_eq!(zmqx::strerror(zmqx::sys::ETERM), "Context was terminated");
}

#[test]
fn errors_from_errno() {
    // pyzmq: test_zmqerror. Every value maps, none panics, and the errno
    // comes back; Display is zmq_strerror's text.
    for errno in (-100..200).chain([
        i32::MIN,
        i32::MAX,
        zmqx::sys::ETERM,
        zmqx::sys::EFSM,
        zmqx::sys::ENOCOMPATPROTO,
        zmqx::sys::EMTHREAD,
    ]) {
        let e = Error::from_errno(errno);
        assert_eq!(e.errno(), Some(errno));
        let text = e.to_string();
        assert!(text.starts_with(&zmqx::strerror(errno)), "{errno}: {text}");
    }
    assert!(matches!(Error::from_errno(libc::EAGAIN), Error::Again));
    assert!(matches!(
        Error::from_errno(zmqx::sys::ETERM),
        Error::ContextTerminated
    ));
    assert!(matches!(
        Error::from_errno(zmqx::sys::EFSM),
        Error::InvalidState
    ));
    assert!(matches!(Error::from_errno(libc::EINTR), Error::Interrupted));
    assert!(matches!(Error::from_errno(123_456), Error::Other(123_456)));
    assert_eq!(
        Error::ContextTerminated.to_string(),
        zmqx::strerror(zmqx::sys::ETERM)
    );
    assert_eq!(Error::Again.to_string(), zmqx::strerror(libc::EAGAIN));
    // Errors zmqx raises itself have no errno.
    assert_eq!(Error::NotDone.errno(), None);
}

#[test]
fn again_on_nonblocking_recv() -> Result<()> {
    // pyzmq: test_again
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Rep)?;
    s.set_rcvtimeo(Some(Duration::ZERO))?;
    let err = s.recv_msg().expect_err("nothing to receive");
    assert!(matches!(err, Error::Again));
    assert_eq!(err.errno(), Some(libc::EAGAIN));
    assert_eq!(s.try_recv_msg()?, None);
    Ok(())
}

#[test]
fn context_terminated_while_receiving() -> Result<()> {
    // pyzmq: atest_ctxterm (disabled there; enabled here)
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Rep)?;
    let c = ctx.clone();
    let (done_tx, done_rx) = mpsc::channel();
    let term = thread::spawn(move || done_tx.send(c.term()));
    // term waits for s to close; meanwhile s sees the termination.
    let deadline = std::time::Instant::now() + TIMEOUT;
    let err = loop {
        match s.try_recv_msg() {
            Ok(None) => {
                assert!(std::time::Instant::now() < deadline, "never terminated");
                thread::yield_now();
            }
            other => break other.expect_err("nothing to receive"),
        }
    };
    assert!(matches!(err, Error::ContextTerminated));
    assert_eq!(err.errno(), Some(zmqx::sys::ETERM));
    drop(s);
    done_rx.recv_timeout(TIMEOUT).expect("term returned")?;
    term.join().expect("thread").expect("sent");
    Ok(())
}

#[test]
fn into_io_error() {
    use std::io::ErrorKind as K;
    let cases = [
        (Error::Again, K::WouldBlock),
        (Error::Interrupted, K::Interrupted),
        (Error::InvalidArgument, K::InvalidInput),
        (Error::NotSupported, K::Unsupported),
        (Error::ProtocolNotSupported, K::Unsupported),
        (Error::AddressInUse, K::AddrInUse),
        (Error::AddressNotAvailable, K::AddrNotAvailable),
        (Error::NotFound, K::NotFound),
        (Error::HostUnreachable, K::HostUnreachable),
        (Error::NotDone, K::TimedOut),
        (Error::ContextTerminated, K::Other),
        (Error::Other(98_765), K::Other),
    ];
    for (e, kind) in cases {
        let text = e.to_string();
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), kind, "{text}");
        assert_eq!(io.to_string(), text);
        // The zmqx error is kept inside.
        assert!(io.get_ref().is_some_and(|inner| inner.is::<Error>()));
    }
    // `?` converts in functions returning io::Result.
    fn io_fn() -> std::io::Result<()> {
        Err(Error::Again)?;
        Ok(())
    }
    assert_eq!(io_fn().map_err(|e| e.kind()), Err(K::WouldBlock));
}

#[test]
fn raw_conversions_never_panic() {
    let samples: Vec<i32> = (-300..300)
        .chain([i32::MIN, i32::MAX, 0x10003, 1 << 20])
        .collect();
    for &raw in &samples {
        if let Some(t) = SocketType::from_raw(raw) {
            assert_eq!(t.raw(), raw);
            assert_eq!(SocketType::try_from(raw).ok(), Some(t));
        } else {
            assert!(matches!(
                SocketType::try_from(raw),
                Err(Error::InvalidInput { .. })
            ));
        }
        let _ = Mechanism::from_raw(raw);
        let _ = DeviceType::from_raw(raw);
        let _ = NormMode::from_raw(raw);
        let _ = GssapiNameType::from_raw(raw);
        let _ = MessageOption::from_raw(raw);
        let _ = ContextOption::from_raw(raw);
        let _ = zmqx::SocketOption::from_raw(raw);
        assert_eq!(zmqx::SendFlags::from_bits_retain(raw).bits(), raw);
        assert_eq!(zmqx::ReconnectStop::from_bits_retain(raw).bits(), raw);
        assert_eq!(zmqx::RouterNotify::from_bits_retain(raw).bits(), raw);
        assert_eq!(Event::from_bits_retain(raw as u32).bits(), raw as u32);
        assert_eq!(PollEvents::from_bits_retain(raw as i16).bits(), raw as i16);
    }
    assert_eq!(
        SocketType::from_raw(zmqx::sys::ZMQ_ROUTER),
        Some(SocketType::Router)
    );
    assert_eq!(i32::from(SocketType::Push), zmqx::sys::ZMQ_PUSH);
    assert_eq!(
        Mechanism::from_raw(zmqx::sys::ZMQ_CURVE),
        Some(Mechanism::Curve)
    );
    assert_eq!(SocketType::Dealer.to_string(), "DEALER");
    assert_eq!("xreq".parse::<SocketType>().ok(), Some(SocketType::Dealer));
    assert!(matches!(
        "nope".parse::<SocketType>(),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(SendFlags::DONTWAIT.bits(), zmqx::sys::ZMQ_DONTWAIT);
    assert_eq!(PollEvents::POLLIN.bits() as i32, zmqx::sys::ZMQ_POLLIN);
}

#[test]
fn versions() {
    let v = zmqx::version_info();
    assert!(v >= Version(4, 3, 2), "{v}");
    assert_eq!(zmqx::version(), v.to_string());
    assert_eq!(zmqx::version(), format!("{}.{}.{}", v.0, v.1, v.2));
    assert_eq!(zmqx::CRATE_VERSION, env!("CARGO_PKG_VERSION"));
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: three valid, writable ints.
    unsafe { zmqx::sys::zmq_version(&mut major, &mut minor, &mut patch) };
    assert_eq!(Version(major, minor, patch), v);
}

#[test]
fn capabilities() {
    for cap in [
        "ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft", "WS", "WSS", "vmci",
    ] {
        let c = std::ffi::CString::new(cap).expect("no NUL");
        // SAFETY: a valid C string for the call.
        let raw = unsafe { zmqx::sys::zmq_has(c.as_ptr()) } != 0;
        assert_eq!(zmqx::has(cap), raw, "{cap}");
    }
    assert!(zmqx::has("ipc"));
    assert!(!zmqx::has("no such capability"));
    assert!(!zmqx::has("ipc\0"));
    assert!(!zmqx::has(""));
}

#[test]
fn curve_keys() -> Result<()> {
    if !zmqx::has("curve") {
        assert!(matches!(
            zmqx::curve_keypair(),
            Err(Error::MissingCapability { .. })
        ));
        return Ok(());
    }
    let pair = zmqx::curve_keypair()?;
    let other = zmqx::curve_keypair()?;
    assert_ne!(pair.public, other.public);
    assert_ne!(pair.secret, pair.public);
    assert_eq!(zmqx::curve_public(&pair.secret)?, pair.public);
    assert_eq!(pair.public.to_z85().len(), 40);
    assert_eq!(CurveKey::from_z85(&pair.public.to_z85())?, pair.public);
    assert_eq!(CurveKey::from_bytes(pair.secret.as_bytes())?, pair.secret);
    // The reference vectors of the CurveZMQ spec.
    let secret: CurveKey = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6".parse()?;
    assert_eq!(
        zmqx::curve_public(&secret)?.to_z85(),
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    );
    Ok(())
}

#[test]
fn curve_encrypts_end_to_end() -> Result<()> {
    if !zmqx::has("curve") {
        return Ok(());
    }
    let ctx = Context::new();
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;
    let server = socket(&ctx, SocketType::Rep)?;
    server.set_curve_server(true)?;
    server.set_curve_secretkey(server_keys.secret)?;
    let ep = common::bind_tcp(&server)?;
    let client = socket(&ctx, SocketType::Req)?;
    client.set_curve_serverkey(server_keys.public)?;
    client.set_curve_publickey(client_keys.public)?;
    client.set_curve_secretkey(client_keys.secret)?;
    client.connect(&ep)?;
    client.send("secret")?;
    let m = server.recv_msg()?;
    assert_eq!(m, "secret");
    assert_eq!(server.mechanism()?, Mechanism::Curve);
    server.send("ok")?;
    assert_eq!(client.recv_string()?, "ok");
    Ok(())
}

#[test]
fn errors_name_the_endpoint_and_the_option() -> Result<()> {
    // pyzmq: `Address already in use (addr='tcp://127.0.0.1:5599')`.
    let ctx = Context::new();
    let a = socket(&ctx, SocketType::Pull)?;
    let ep = a.bind("tcp://127.0.0.1:*")?;
    let b = socket(&ctx, SocketType::Pull)?;
    let e = b.bind(&ep).unwrap_err();
    assert!(matches!(e.root(), Error::AddressInUse), "{e:?}");
    assert_eq!(e.errno(), Some(libc::EADDRINUSE));
    assert_eq!(
        e.to_string(),
        format!("{} (addr={ep:?})", zmqx::strerror(libc::EADDRINUSE))
    );
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
    // A missing scheme is libzmq's EINVAL, with the endpoint named.
    let e = b.connect("127.0.0.1:5599").unwrap_err();
    assert!(matches!(e.root(), Error::InvalidArgument), "{e:?}");
    assert!(e.to_string().ends_with("(addr=\"127.0.0.1:5599\")"), "{e}");
    // An option libzmq refuses names the option.
    let e = b.set_sndhwm(-1).unwrap_err();
    assert!(matches!(e.root(), Error::InvalidArgument), "{e:?}");
    assert!(e.to_string().ends_with("(option ZMQ_SNDHWM)"), "{e}");
    // Send and receive errors carry no context: they stay cheap.
    b.set_rcvtimeo(Some(Duration::ZERO))?;
    assert!(matches!(b.recv_msg(), Err(Error::Again)));
    Ok(())
}
