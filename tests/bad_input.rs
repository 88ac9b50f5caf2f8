//! Bad input gets a typed error: never a panic, a hang or undefined
//! behaviour. (Use after close cannot be written at all: a `compile_fail`
//! doctest on `Socket` checks it.)

mod common;

use std::time::Duration;

use common::{TIMEOUT, inproc, socket};
use zmqx::{
    Context, CurveKey, Error, Message, OptionValue, PollEvents, Poller, Result, SendFlags,
    SocketOption, SocketType,
};

fn is_input(r: Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::InvalidInput { .. }))
}

#[test]
fn invalid_endpoints() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    // libzmq refuses these...
    for ep in ["tcp://", "tcp:*", "", "no scheme at all", "inproc://"] {
        assert!(
            matches!(
                s.bind(ep).as_ref().map_err(Error::root),
                Err(Error::InvalidArgument)
            ),
            "bind {ep:?}"
        );
    }
    for ep in ["tcp://", "tcp:*", "", "inproc://"] {
        assert!(
            matches!(
                s.connect(ep).as_ref().map_err(Error::root),
                Err(Error::InvalidArgument)
            ),
            "connect {ep:?}"
        );
    }
    // ...and zmqx refuses bad TCP ports, which libzmq would wrap or truncate
    // (`:99999` binding port 34463, `:12x` port 12).
    for ep in [
        "tcp://127.0.0.1:notaport",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:-1",
        "tcp://127.0.0.1:12x",
        "tcp://1.2.3.4.5:1234567",
    ] {
        assert!(is_input(s.bind(ep)), "bind {ep:?}");
        assert!(is_input(s.connect(ep)), "connect {ep:?}");
    }
    assert_eq!(s.last_endpoint()?, "", "nothing was bound or connected");
    for ep in ["bogus://x", "ftl://a", "noproc://no/such/file"] {
        assert!(
            matches!(
                s.bind(ep).as_ref().map_err(Error::root),
                Err(Error::ProtocolNotSupported)
            ),
            "bind {ep:?}"
        );
        assert!(
            matches!(
                s.connect(ep).as_ref().map_err(Error::root),
                Err(Error::ProtocolNotSupported)
            ),
            "connect {ep:?}"
        );
    }
    // Unknown host names fail at bind (not resolvable as an interface).
    assert!(s.bind("tcp://no-such-interface-zmqx:5555").is_err());
    // Endpoints never bound or connected.
    assert!(matches!(
        s.unbind("tcp://127.0.0.1:1").as_ref().map_err(Error::root),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.disconnect("tcp://127.0.0.1:1")
            .as_ref()
            .map_err(Error::root),
        Err(Error::NotFound)
    ));
    // A second bind of the same inproc name.
    let ep = inproc("twice");
    s.bind(&ep)?;
    let t = socket(&ctx, SocketType::Pull)?;
    assert!(matches!(
        t.bind(&ep).as_ref().map_err(Error::root),
        Err(Error::AddressInUse)
    ));
    Ok(())
}

#[test]
fn interior_nul_bytes() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Sub)?;
    let ep = "inproc://nul\0byte";
    assert!(is_input(s.bind(ep)));
    assert!(is_input(s.connect(ep)));
    assert!(is_input(s.unbind(ep)));
    assert!(is_input(s.disconnect(ep)));
    assert!(is_input(s.bind_scoped(ep)));
    assert!(is_input(s.connect_scoped(ep)));
    assert!(is_input(s.monitor(ep, zmqx::Event::ALL)));
    assert!(is_input(s.bind_to_random_port(
        "tcp://127.0.0.1\0",
        40000..40010,
        3
    )));
    // String options refuse NUL; binary ones accept it.
    assert!(is_input(s.set_zap_domain("a\0b")));
    assert!(is_input(s.set_plain_username("a\0b")));
    assert!(is_input(s.set_socks_proxy("a\0b")));
    s.subscribe(b"topic\0with nul")?;
    s.set_routing_id(b"id\0")?;
    // Names with NUL are simply absent / unknown.
    assert_eq!(Message::from("x").gets("User\0Id")?, None);
    assert!(!zmqx::has("curve\0"));
    // Strings with NUL are fine as message data.
    let (a, b) = (
        socket(&ctx, SocketType::Pair)?,
        socket(&ctx, SocketType::Pair)?,
    );
    let ep = inproc("nul-data");
    a.bind(&ep)?;
    b.connect(&ep)?;
    a.send_string("a\0b")?;
    assert_eq!(b.recv_string()?, "a\0b");
    Ok(())
}

#[test]
fn out_of_range_option_values() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Dealer)?;
    let forever = Some(Duration::from_secs(u64::MAX));
    let too_long = Some(Duration::from_millis(i32::MAX as u64 + 1));
    assert!(is_input(s.set_rcvtimeo(forever)));
    assert!(is_input(s.set_sndtimeo(too_long)));
    assert!(is_input(s.set_linger(forever)));
    assert!(is_input(s.close_with_linger(forever)));
    assert!(is_input(ctx.set_default_linger(forever)));
    assert!(is_input(ctx.destroy(forever)));
    assert!(!ctx.is_terminated(), "a refused destroy does nothing");
    let s = ctx.socket(SocketType::Dealer)?;
    s.set_rcvtimeo(Some(Duration::from_millis(i32::MAX as u64)))?;
    // The last good value is kept.
    assert_eq!(s.rcvtimeo()?, Some(Duration::from_millis(i32::MAX as u64)));
    // Values libzmq refuses.
    assert!(matches!(
        s.set_sndhwm(-1).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set_hwm(-5).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set_backlog(-2).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set_routing_id(b"").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set_routing_id([b'x'; 256]).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set_tcp_keepalive(7).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        s.set(SocketOption::LINGER, OptionValue::Int(-2))
            .as_ref()
            .map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(is_input(s.set(SocketOption::LINGER, OptionValue::Int64(5))));
    assert_eq!(s.sndhwm()?, 1000, "unchanged");
    // Keys of the wrong size or alphabet.
    assert!(matches!(
        s.set_curve_serverkey([0u8; 33]),
        Err(Error::Key(_))
    ));
    assert!(matches!(s.set_curve_serverkey("short"), Err(Error::Key(_))));
    assert!("not a key".parse::<CurveKey>().is_err());
    // Poll timeouts out of range.
    assert!(is_input(s.poll(PollEvents::POLLIN, forever)));
    let mut poller = Poller::new();
    poller.register(&s, PollEvents::POLLIN);
    assert!(is_input(poller.poll(forever)));
    assert!(is_input(zmqx::select(&[(&s).into()], &[], &[], forever)));
    // A tracker's wait takes any timeout (too large is as good as none).
    zmqx::MessageTracker::new().wait(forever)?;
    zmqx::MessageTracker::new().wait(Some(Duration::MAX))?;
    Ok(())
}

#[test]
fn options_that_do_not_apply() -> Result<()> {
    let ctx = Context::new();
    let push = ctx.socket(SocketType::Push)?;
    assert!(matches!(
        push.subscribe(b"").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.set_conflate(true)
            .and(push.set_probe_router(true))
            .as_ref()
            .map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.set_stream_notify(true).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    // Read-only and write-only options.
    assert!(is_input(
        push.set(SocketOption::RCVMORE, OptionValue::Int(1))
    ));
    assert!(is_input(push.set(
        SocketOption::LAST_ENDPOINT,
        OptionValue::Bytes(b"x".to_vec())
    )));
    assert!(is_input(push.get(SocketOption::UNSUBSCRIBE)));
    assert!(is_input(push.get(SocketOption::ROUTER_MANDATORY)));
    Ok(())
}

#[test]
fn wrong_socket_state_and_type() -> Result<()> {
    let ctx = Context::new();
    let req = ctx.socket(SocketType::Req)?;
    assert!(matches!(req.try_recv_msg(), Err(Error::InvalidState)));
    let pull = ctx.socket(SocketType::Pull)?;
    assert!(matches!(
        pull.try_send("x").as_ref().map_err(Error::root),
        Err(Error::NotSupported)
    ));
    let push = ctx.socket(SocketType::Push)?;
    assert!(matches!(
        push.try_recv_msg().as_ref().map_err(Error::root),
        Err(Error::NotSupported)
    ));
    // ROUTER_MANDATORY: an unknown peer is a typed error, not a silent drop.
    let router = ctx.socket(SocketType::Router)?;
    router.set_router_mandatory(true)?;
    assert!(matches!(
        router.try_send_multipart(["nobody", "hello"]),
        Err(Error::HostUnreachable)
    ));
    // An empty multipart message is refused.
    let none: Vec<Message> = Vec::new();
    assert!(is_input(push.send_multipart(none)));
    Ok(())
}

#[test]
fn terminated_context() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Pair)?;
    let ep = inproc("terminated");
    s.bind(&ep)?;
    ctx.shutdown()?;
    // Every operation of an existing socket is ContextTerminated.
    let term = |r: Result<()>| {
        matches!(
            r.as_ref().map_err(Error::root),
            Err(Error::ContextTerminated)
        )
    };
    assert!(term(s.send("x")));
    assert!(term(s.send_with("x", SendFlags::DONTWAIT)));
    assert!(term(s.try_send("x").map(drop)));
    assert!(term(s.recv_msg().map(drop)));
    assert!(term(s.try_recv_msg().map(drop)));
    assert!(term(s.recv_into(&mut [0u8; 4]).map(drop)));
    assert!(term(s.recv_multipart().map(drop)));
    assert!(term(s.send_multipart(["a", "b"])));
    assert!(term(s.bind("inproc://other").map(drop)));
    assert!(term(s.connect("inproc://other")));
    assert!(term(s.unbind(&ep)));
    assert!(term(s.disconnect(&ep)));
    assert!(term(s.set_linger(Some(Duration::ZERO))));
    assert!(term(s.linger().map(drop)));
    assert!(term(s.last_endpoint().map(drop)));
    assert!(term(s.poll(PollEvents::POLLIN, Some(TIMEOUT)).map(drop)));
    let mut poller = Poller::new();
    poller.register(&s, PollEvents::POLLIN);
    assert!(term(poller.poll(Some(TIMEOUT)).map(drop)));
    // New sockets and context options too.
    assert!(term(ctx.socket(SocketType::Pair).map(drop)));
    drop(poller);
    drop(s);
    ctx.term()?;
    assert!(term(ctx.socket(SocketType::Pair).map(drop)));
    assert!(term(ctx.set_io_threads(2)));
    assert!(term(ctx.io_threads().map(drop)));
    assert!(term(ctx.shutdown()));
    // Terminating and destroying again are no-ops.
    ctx.term()?;
    ctx.destroy(Some(Duration::ZERO))?;
    Ok(())
}

#[test]
fn type_names_and_numbers() {
    assert!(is_input("bogus".parse::<SocketType>()));
    assert!(is_input(SocketType::try_from(-1)));
    assert!(is_input(SocketType::try_from(1000)));
    assert!(is_input(zmqx::Mechanism::try_from(9)));
    let _: zmqx::Z85Error = zmqx::z85::decode("abc").expect_err("not a multiple of 5");
    let _: zmqx::Z85Error = zmqx::z85::encode(b"abc").expect_err("not a multiple of 4");
}

/// `IPC_PATH_MAX_LEN` is pyzmq's `zmq.IPC_PATH_MAX_LEN`: the size of
/// `sockaddr_un.sun_path` less its NUL (107 on Linux).
#[cfg(unix)]
#[test]
fn ipc_path_max_len_is_sun_path_less_its_nul() {
    // SAFETY: sockaddr_un is plain old data; all zeroes is a valid value.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    assert_eq!(zmqx::IPC_PATH_MAX_LEN, addr.sun_path.len() - 1);
    #[cfg(target_os = "linux")]
    assert_eq!(zmqx::IPC_PATH_MAX_LEN, 107);
}

/// A too-long ipc path is refused before libzmq sees it, with an error
/// naming the path and the limit and keeping pyzmq's errno (ENAMETOOLONG;
/// libzmq only said "File name too long"); a path of exactly the limit works.
#[cfg(unix)]
#[test]
fn too_long_ipc_path_names_the_limit() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let dir = std::env::temp_dir();
    let dir = dir.to_str().expect("UTF-8 temp dir");
    let fill = |len: usize| {
        let prefix = format!("{dir}/zmqx-{}-", std::process::id());
        format!("{prefix}{}", "p".repeat(len - prefix.len()))
    };
    let too_long = fill(zmqx::IPC_PATH_MAX_LEN + 1);
    for r in [
        s.bind(&format!("ipc://{too_long}")).map(drop),
        s.connect(&format!("ipc://{too_long}")),
    ] {
        let e = r.expect_err("too long");
        assert!(matches!(e, Error::IpcPathTooLong { .. }), "{e:?}");
        assert_eq!(e.errno(), Some(libc::ENAMETOOLONG));
        let text = e.to_string();
        assert!(
            text.contains("107") || text.contains(&zmqx::IPC_PATH_MAX_LEN.to_string()),
            "{text}"
        );
        assert!(text.contains("IPC_PATH_MAX_LEN"), "{text}");
        assert!(text.contains(&too_long), "names the path: {text}");
    }
    let longest = fill(zmqx::IPC_PATH_MAX_LEN);
    s.bind(&format!("ipc://{longest}"))?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&format!("ipc://{longest}"))?;
    push.send("fits")?;
    assert_eq!(s.recv_string()?, "fits");
    drop(s);
    let _ = std::fs::remove_file(&longest);
    Ok(())
}
