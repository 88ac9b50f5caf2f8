//! Socket options: one representative of every kind of option in the table
//! (int, bool, milliseconds, i64, u64, bytes, string, CURVE key, enum, flag
//! set), the generic `get`/`set`, access misuse, capabilities and options
//! that do not apply to a socket type.

mod common;

use std::time::Duration;

use common::{bind_tcp, inproc, socket};
use zmqx::options::{Access, OptionKind};
use zmqx::{
    Context, CurveKey, Error, Mechanism, OptionValue, PollEvents, ReconnectStop, Result,
    RouterNotify, SocketOption, SocketType, Version,
};

/// Every `SocketOption` number and C name match `zmq.h`: the table names
/// the `zmq_sys::ZMQ_*` constants, and this reads the numbers from the
/// bindings bindgen made from libzmq 4.3.5's `zmq.h` (DRAFT section
/// included), so neither side is a copy of the other.
#[test]
fn option_numbers_match_zmq_h() {
    let bindings = include_str!("../zmq-sys/src/bindings/draft.rs");
    let from_header = |name: &str| -> Option<i32> {
        let line = bindings
            .lines()
            .find(|l| l.starts_with(&format!("pub const {name}: i32 = ")))?;
        line.rsplit(' ').next()?.trim_end_matches(';').parse().ok()
    };
    for &option in SocketOption::ALL {
        let c_name = option.c_name();
        assert_eq!(c_name, format!("ZMQ_{}", option.name()));
        assert_eq!(
            from_header(c_name),
            Some(option.id()),
            "{c_name} in zmq.h vs the table"
        );
        assert_eq!(SocketOption::from_raw(option.id()), Some(option));
    }
    // The stable bindings agree for every stable option.
    let stable = include_str!("../zmq-sys/src/bindings/stable.rs");
    for &option in SocketOption::ALL.iter().filter(|o| !o.is_draft()) {
        let prefix = format!("pub const {}: i32 = {};", option.c_name(), option.id());
        assert!(stable.contains(&prefix), "{prefix} in the stable bindings");
    }
}

#[test]
fn int_bool_and_duration_options() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Dealer)?;
    // int
    s.set_sndbuf(65536)?;
    assert_eq!(s.sndbuf()?, 65536);
    s.set_backlog(17)?;
    assert_eq!(s.backlog()?, 17);
    assert_eq!(s.get(SocketOption::BACKLOG)?, OptionValue::Int(17));
    // bool
    assert!(!s.immediate()?);
    s.set_immediate(true)?;
    assert!(s.immediate()?);
    s.set(SocketOption::CONFLATE, OptionValue::Int(1))?;
    assert!(s.conflate()?);
    // milliseconds: Option<Duration>, None is -1
    assert_eq!(s.rcvtimeo()?, None);
    assert_eq!(s.get(SocketOption::RCVTIMEO)?, OptionValue::Int(-1));
    s.set_rcvtimeo(Some(Duration::from_millis(250)))?;
    assert_eq!(s.rcvtimeo()?, Some(Duration::from_millis(250)));
    s.set_rcvtimeo(Some(Duration::from_micros(10)))?;
    assert_eq!(s.rcvtimeo()?, Some(Duration::from_millis(1)), "rounded up");
    s.set_rcvtimeo(Some(Duration::ZERO))?;
    assert_eq!(s.rcvtimeo()?, Some(Duration::ZERO));
    s.set_rcvtimeo(None)?;
    assert_eq!(s.rcvtimeo()?, None);
    s.set_reconnect_ivl(None)?;
    assert_eq!(s.reconnect_ivl()?, None);
    s.set_handshake_ivl(Some(Duration::from_secs(3)))?;
    assert_eq!(s.handshake_ivl()?, Some(Duration::from_secs(3)));
    Ok(())
}

#[test]
fn wide_integer_options() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Pull)?;
    // i64
    assert_eq!(s.maxmsgsize()?, -1);
    s.set_maxmsgsize(1 << 40)?;
    assert_eq!(s.maxmsgsize()?, 1 << 40);
    assert_eq!(
        s.get(SocketOption::MAXMSGSIZE)?,
        OptionValue::Int64(1 << 40)
    );
    // u64
    assert_eq!(s.affinity()?, 0);
    s.set_affinity(0b101)?;
    assert_eq!(s.affinity()?, 0b101);
    s.set(SocketOption::AFFINITY, OptionValue::UInt64(u64::MAX))?;
    assert_eq!(
        s.get(SocketOption::AFFINITY)?,
        OptionValue::UInt64(u64::MAX)
    );
    Ok(())
}

#[test]
fn maxmsgsize_is_enforced() -> Result<()> {
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    // Not too small: the limit applies to ZMTP handshake commands as well.
    pull.set_maxmsgsize(100)?;
    let ep = bind_tcp(&pull)?;
    let mon_ep = inproc("maxmsgsize-monitor");
    pull.monitor(&mon_ep, zmqx::Event::DISCONNECTED)?;
    let mon = socket(&ctx, SocketType::Pair)?;
    mon.connect(&mon_ep)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&ep)?;
    push.send("short")?;
    assert_eq!(pull.recv_string()?, "short");
    push.send(vec![b'x'; 1000])?;
    // The oversized message makes the receiver drop the connection...
    let event = mon.recv_multipart()?;
    let id = u16::from_le_bytes([event[0][0], event[0][1]]);
    assert_eq!(u32::from(id), zmqx::Event::DISCONNECTED.bits());
    // ...and it is never delivered.
    assert_eq!(pull.try_recv_msg()?, None);
    Ok(())
}

#[test]
fn bytes_and_string_options() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Router)?;
    // bytes (binary, NULs kept)
    s.set_routing_id(b"\0id\xff")?;
    assert_eq!(s.routing_id()?, b"\0id\xff");
    s.set_connect_routing_id(b"peer")?;
    // strings (the NUL libzmq adds is not part of the value)
    assert_eq!(s.zap_domain()?, "");
    s.set_zap_domain("global")?;
    assert_eq!(s.zap_domain()?, "global");
    assert_eq!(
        s.get(SocketOption::ZAP_DOMAIN)?,
        OptionValue::Bytes(b"global".to_vec())
    );
    s.set_plain_username("admin")?;
    s.set_plain_password("secret")?;
    assert_eq!(s.plain_username()?, "admin");
    assert_eq!(s.plain_password()?, "secret");
    assert_eq!(s.mechanism()?, Mechanism::Plain);
    s.set(
        SocketOption::SOCKS_PROXY,
        OptionValue::Bytes(b"127.0.0.1:1080".to_vec()),
    )?;
    assert_eq!(s.socks_proxy()?, "127.0.0.1:1080");
    // Interior NUL in a string option is refused before libzmq sees it.
    assert!(matches!(
        s.set_zap_domain("bad\0domain"),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(s.zap_domain()?, "global");
    Ok(())
}

#[test]
fn long_string_options_read_back() -> Result<()> {
    // Longer than zmqx's first 1 KiB buffer: libzmq answers EINVAL without
    // the size it needs, and zmqx retries with more room.
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Pair)?;
    let name = inproc(&"n".repeat(5000));
    s.bind(&name)?;
    assert_eq!(s.last_endpoint()?, name);
    let proxy = format!("{}:1080", "h".repeat(70_000));
    s.set_socks_proxy(&proxy)?;
    assert_eq!(s.socks_proxy()?, proxy);
    Ok(())
}

#[test]
fn curve_key_options() -> Result<()> {
    if !zmqx::has("curve") {
        let s = Context::new().socket(SocketType::Pub)?;
        assert!(matches!(
            s.set_curve_server(true),
            Err(Error::MissingCapability {
                capability: "curve",
                ..
            })
        ));
        return Ok(());
    }
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Pub)?;
    let server = zmqx::curve_keypair()?;
    let client = zmqx::curve_keypair()?;
    // 32 raw bytes...
    s.set_curve_secretkey(server.secret.as_bytes())?;
    assert_eq!(s.curve_secretkey()?, server.secret);
    // ...or 40 Z85 characters, as &str or bytes; always read back as CurveKey.
    s.set_curve_publickey(server.public.to_z85())?;
    assert_eq!(s.curve_publickey()?, server.public);
    s.set_curve_serverkey(client.public.to_z85().as_bytes())?;
    assert_eq!(s.curve_serverkey()?, client.public);
    s.set_curve_serverkey(client.public)?;
    assert_eq!(s.curve_serverkey()?.to_z85(), client.public.to_z85());
    // The generic getter returns the 32 raw bytes.
    assert_eq!(
        s.get(SocketOption::CURVE_PUBLICKEY)?,
        OptionValue::Bytes(server.public.as_bytes().to_vec())
    );
    s.set_curve_server(true)?;
    assert!(s.curve_server()?);
    assert_eq!(s.mechanism()?, Mechanism::Curve);
    // Wrong lengths and bad Z85 are typed key errors.
    assert!(matches!(
        s.set_curve_secretkey([1u8; 31]),
        Err(Error::Key(_))
    ));
    assert!(matches!(
        s.set_curve_publickey(&server.public.to_z85()[..39]),
        Err(Error::Key(_))
    ));
    assert!(matches!(
        s.set_curve_publickey("~".repeat(40)),
        Err(Error::Key(_))
    ));
    assert_eq!(CurveKey::from_z85(&server.public.to_z85())?, server.public);
    Ok(())
}

#[test]
fn enum_and_flag_options() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Dealer)?;
    assert_eq!(s.mechanism()?, Mechanism::Null);
    assert_eq!(s.socket_type()?, SocketType::Dealer);
    assert_eq!(s.events()?, PollEvents::empty());
    // RECONNECT_STOP is in zmq.h's DRAFT section but every 4.3.5 build has it.
    assert_eq!(s.reconnect_stop()?, ReconnectStop::empty());
    s.set_reconnect_stop(ReconnectStop::CONN_REFUSED | ReconnectStop::AFTER_DISCONNECT)?;
    assert_eq!(
        s.reconnect_stop()?,
        ReconnectStop::CONN_REFUSED | ReconnectStop::AFTER_DISCONNECT
    );
    Ok(())
}

#[test]
fn draft_options_need_a_draft_build() -> Result<()> {
    let ctx = Context::new();
    let router = ctx.socket(SocketType::Router)?;
    let draft = zmqx::has("draft");
    let set = router.set_router_notify(RouterNotify::CONNECT);
    let get = router.router_notify();
    let hello = router.set_hello_msg(b"hi");
    if draft {
        set?;
        assert_eq!(get?, RouterNotify::CONNECT);
        hello?;
        // libzmq 4.3.5 reports EINVAL after reading BUSY_POLL; zmqx reads it.
        router.set_busy_poll(true)?;
        assert!(router.busy_poll()?);
        router.set_busy_poll(false)?;
        assert!(!router.busy_poll()?);
    } else {
        for r in [set.err(), get.err(), hello.err()] {
            assert!(
                matches!(
                    r,
                    Some(Error::MissingCapability {
                        capability: "draft",
                        ..
                    })
                ),
                "{r:?}"
            );
        }
    }
    // NORM options need NORM as well (never in the vendored build).
    if !zmqx::has("norm") {
        let e = router.set_norm_push(true).expect_err("no NORM");
        assert!(matches!(e, Error::MissingCapability { .. }), "{e:?}");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
    }
    // DRAFT-section options that every 4.3.5 build implements just work...
    let xpub = ctx.socket(SocketType::XPub)?;
    if zmqx::version_info() >= Version(4, 3, 5) {
        assert_eq!(xpub.topics_count()?, 0);
    } else {
        // ...once the linked libzmq has them.
        let e = xpub.topics_count().expect_err("new in 4.3.5");
        assert!(
            matches!(
                e,
                Error::Version {
                    required: Version(4, 3, 5),
                    ..
                }
            ),
            "{e:?}"
        );
    }
    xpub.set_xpub_manual_last_value(true)?;
    xpub.set_only_first_subscribe(true)?;
    router.set_socks_username("user")?;
    assert_eq!(router.socks_username()?, "user");
    router.set_metadata("X-Tag:blue")?;
    router.set_multicast_loop(false)?;
    assert!(!router.multicast_loop()?);
    router.set_zap_enforce_domain(true)?;
    assert!(router.zap_enforce_domain()?);
    Ok(())
}

#[test]
fn missing_capabilities_are_named() -> Result<()> {
    let s = Context::new().socket(SocketType::Req)?;
    if !zmqx::has("gssapi") {
        let e = s.set_gssapi_server(true).expect_err("no GSSAPI");
        assert!(
            matches!(e, Error::MissingCapability { capability: "gssapi", ref what } if what.contains("GSSAPI_SERVER")),
            "{e:?}"
        );
        assert!(e.to_string().contains("gssapi"), "{e}");
    }
    if !zmqx::has("vmci") {
        assert!(matches!(
            s.vmci_buffer_size(),
            Err(Error::MissingCapability {
                capability: "vmci",
                ..
            })
        ));
    }
    Ok(())
}

#[test]
fn generic_get_and_set() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Sub)?;
    for &option in SocketOption::ALL {
        let value = match option.kind() {
            OptionKind::Int => OptionValue::Int(1),
            OptionKind::Int64 => OptionValue::Int64(1),
            OptionKind::UInt64 => OptionValue::UInt64(1),
            OptionKind::Bytes => OptionValue::Bytes(b"x".to_vec()),
            _ => continue,
        };
        // A value of the wrong kind is refused before libzmq sees it.
        let wrong = match value {
            OptionValue::Bytes(_) => OptionValue::Int(1),
            _ => OptionValue::Bytes(b"1".to_vec()),
        };
        assert!(
            matches!(s.set(option, wrong), Err(Error::InvalidInput { .. })),
            "{option:?}"
        );
        match option.access() {
            Access::Read => assert!(
                matches!(s.set(option, value), Err(Error::InvalidInput { .. })),
                "{option:?} is read-only"
            ),
            Access::Write => assert!(
                matches!(s.get(option), Err(Error::InvalidInput { .. })),
                "{option:?} is write-only"
            ),
            Access::ReadWrite => {}
        }
    }
    s.set(
        SocketOption::SUBSCRIBE,
        OptionValue::Bytes(b"topic".to_vec()),
    )?;
    s.set(SocketOption::RCVHWM, OptionValue::Int(12))?;
    assert_eq!(s.get(SocketOption::RCVHWM)?, OptionValue::Int(12));
    assert_eq!(s.rcvhwm()?, 12);
    Ok(())
}

#[test]
fn options_that_do_not_apply_to_the_type() -> Result<()> {
    let ctx = Context::new();
    let push = ctx.socket(SocketType::Push)?;
    // pyzmq's test_bad_sockopts: EINVAL, a typed error.
    assert!(matches!(
        push.subscribe(b"hi").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.unsubscribe(b"hi").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.set_xpub_verbose(true).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.set_router_mandatory(true)
            .as_ref()
            .map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        push.set_req_relaxed(true).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    // A DRAFT-section option every build has: still "does not apply", not
    // "missing capability".
    if zmqx::version_info() >= Version(4, 3, 5) {
        assert!(matches!(
            push.topics_count().as_ref().map_err(Error::root),
            Err(Error::InvalidArgument)
        ));
    }
    assert!(matches!(
        push.set_only_first_subscribe(true)
            .as_ref()
            .map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    let pub_socket = ctx.socket(SocketType::Pub)?;
    assert!(matches!(
        pub_socket.subscribe(b"hi").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    Ok(())
}

#[test]
fn subscriptions_filter() -> Result<()> {
    let ctx = Context::new();
    let publisher = socket(&ctx, SocketType::XPub)?;
    let ep = bind_tcp(&publisher)?;
    let sub = socket(&ctx, SocketType::Sub)?;
    sub.connect(&ep)?;
    sub.subscribe("a")?;
    sub.set(SocketOption::SUBSCRIBE, OptionValue::Bytes(b"b".to_vec()))?;
    // Both subscriptions reached the publisher.
    let mut subs = vec![publisher.recv_bytes()?, publisher.recv_bytes()?];
    subs.sort();
    assert_eq!(subs, vec![b"\x01a".to_vec(), b"\x01b".to_vec()]);
    for m in ["a1", "c1", "b1"] {
        publisher.send(m)?;
    }
    assert_eq!(sub.recv_string()?, "a1");
    assert_eq!(sub.recv_string()?, "b1");
    sub.unsubscribe("a")?;
    assert_eq!(publisher.recv_bytes()?, b"\x00a");
    publisher.send("a2")?;
    publisher.send("b2")?;
    assert_eq!(sub.recv_string()?, "b2");
    assert!(
        sub.poll(PollEvents::POLLIN, Some(Duration::ZERO))?
            .is_empty()
    );
    Ok(())
}

/// The options the zmq_setsockopt manual says are cleared with `(NULL, 0)`
/// can be cleared: with a `clear_*` method, the generic `clear`, or an empty
/// value. Before, an empty value was EINVAL (libzmq got a non-null pointer)
/// and the `IPC_FILTER_*` setters could not express "clear" at all.
#[test]
fn clearable_options_can_be_cleared() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Router)?;
    let clearable: Vec<&str> = SocketOption::ALL
        .iter()
        .filter(|o| o.is_clearable())
        .map(|o| o.name())
        .collect();
    assert_eq!(
        clearable,
        [
            "TCP_ACCEPT_FILTER",
            "PLAIN_USERNAME",
            "PLAIN_PASSWORD",
            "IPC_FILTER_PID",
            "IPC_FILTER_UID",
            "IPC_FILTER_GID",
            "SOCKS_PROXY",
            "XPUB_WELCOME_MSG",
            "BINDTODEVICE",
            "SOCKS_USERNAME",
            "SOCKS_PASSWORD",
        ]
    );

    s.set_socks_proxy("127.0.0.1:1080")?;
    s.clear_socks_proxy()?;
    assert_eq!(s.socks_proxy()?, "");
    s.set_socks_proxy("127.0.0.1:1080")?;
    s.set_socks_proxy("")?;
    assert_eq!(s.socks_proxy()?, "");
    s.set_socks_proxy("127.0.0.1:1080")?;
    s.clear(SocketOption::SOCKS_PROXY)?;
    assert_eq!(s.socks_proxy()?, "");

    s.set_bindtodevice("lo")?;
    s.clear_bindtodevice()?;
    assert_eq!(s.bindtodevice()?, "");
    s.set_bindtodevice("")?;

    s.set_socks_username("user")?;
    s.set_socks_password("pass")?;
    s.clear_socks_username()?;
    s.clear_socks_password()?;
    assert_eq!(s.socks_username()?, "");
    assert_eq!(s.socks_password()?, "");

    // PLAIN: clearing the username or password goes back to NULL security.
    s.set_plain_username("admin")?;
    assert_eq!(s.mechanism()?, Mechanism::Plain);
    s.clear_plain_username()?;
    assert_eq!(s.mechanism()?, Mechanism::Null);
    s.set_plain_password("secret")?;
    s.set_plain_password("")?;
    assert_eq!(s.mechanism()?, Mechanism::Null);

    s.set_tcp_accept_filter(b"127.0.0.1")?;
    s.set_tcp_accept_filter(b"")?;
    s.clear_tcp_accept_filter()?;
    #[cfg(target_os = "linux")]
    {
        s.set_ipc_filter_pid(1)?;
        s.clear_ipc_filter_pid()?;
        s.set_ipc_filter_uid(0)?;
        s.clear_ipc_filter_uid()?;
        s.set_ipc_filter_gid(0)?;
        s.clear_ipc_filter_gid()?;
    }
    let xpub = ctx.socket(SocketType::XPub)?;
    xpub.set_xpub_welcome_msg(b"hello")?;
    xpub.clear_xpub_welcome_msg()?;

    // Options libzmq does not clear with NULL say so.
    let e = s.clear(SocketOption::LINGER).expect_err("not clearable");
    assert!(e.to_string().contains("ZMQ_LINGER"), "{e}");
    Ok(())
}

/// A cleared TCP accept filter lets every peer in again; the filter that is
/// kept refuses a peer from another address.
#[test]
fn cleared_tcp_accept_filter_accepts_peers() -> Result<()> {
    let ctx = Context::new();
    // Filtered: only 10.255.255.1 may connect, so 127.0.0.1 is refused.
    let filtered = socket(&ctx, SocketType::Pull)?;
    filtered.set_tcp_accept_filter(b"10.255.255.1")?;
    let filtered_ep = bind_tcp(&filtered)?;
    // Cleared before the bind (libzmq copies the filters into the listener).
    let cleared = socket(&ctx, SocketType::Pull)?;
    cleared.set_tcp_accept_filter(b"10.255.255.1")?;
    cleared.clear_tcp_accept_filter()?;
    let cleared_ep = bind_tcp(&cleared)?;

    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&cleared_ep)?;
    push.send("through")?;
    assert_eq!(cleared.recv_string()?, "through");

    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&filtered_ep)?;
    push.set_sndtimeo(Some(Duration::ZERO))?;
    // Never connected, so the message cannot even be queued
    // (IMMEDIATE is off, but a refused connection has no pipe).
    let _ = push.try_send("refused")?;
    filtered.set_rcvtimeo(Some(Duration::from_millis(300)))?;
    assert!(matches!(filtered.recv_msg(), Err(Error::Again)));
    Ok(())
}

/// A cleared IPC PID filter accepts this process again (the kept one, for
/// PID 1, refuses it).
#[cfg(target_os = "linux")]
#[test]
fn cleared_ipc_pid_filter_accepts_peers() -> Result<()> {
    let ctx = Context::new();
    let cleared = socket(&ctx, SocketType::Pull)?;
    cleared.set_ipc_filter_pid(1)?;
    cleared.clear_ipc_filter_pid()?;
    let ep = common::ipc("pid-filter");
    cleared.bind(&ep)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&ep)?;
    push.send("through")?;
    assert_eq!(cleared.recv_string()?, "through");

    let kept = socket(&ctx, SocketType::Pull)?;
    kept.set_ipc_filter_pid(1)?;
    let ep = common::ipc("pid-filter-kept");
    kept.bind(&ep)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&ep)?;
    let _ = push.try_send("refused")?;
    kept.set_rcvtimeo(Some(Duration::from_millis(300)))?;
    assert!(matches!(kept.recv_msg(), Err(Error::Again)));
    Ok(())
}

/// Options by number (pyzmq's `getsockopt(opt)`): known numbers are checked
/// against the table's kind, unknown ones go to libzmq, and errors name the
/// option by number.
#[test]
fn raw_options_by_number() -> Result<()> {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Dealer)?;
    let linger = zmqx::sys::ZMQ_LINGER;
    s.set_raw_option(linger, OptionValue::Int(250))?;
    assert_eq!(s.linger()?, Some(Duration::from_millis(250)));
    assert_eq!(
        s.get_raw_option(linger, OptionKind::Int)?,
        OptionValue::Int(250)
    );
    s.set_raw_option(zmqx::sys::ZMQ_MAXMSGSIZE, OptionValue::Int64(4096))?;
    assert_eq!(
        s.get_raw_option(zmqx::sys::ZMQ_MAXMSGSIZE, OptionKind::Int64)?,
        OptionValue::Int64(4096)
    );
    s.set_raw_option(
        zmqx::sys::ZMQ_ROUTING_ID,
        OptionValue::Bytes(b"me".to_vec()),
    )?;
    assert_eq!(
        s.get_raw_option(zmqx::sys::ZMQ_ROUTING_ID, OptionKind::Bytes)?,
        OptionValue::Bytes(b"me".to_vec())
    );
    // A known option with a value of the wrong type: refused before libzmq.
    let e = s
        .set_raw_option(linger, OptionValue::Int64(1))
        .expect_err("LINGER is an int");
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(
        e.to_string().contains("17") && e.to_string().contains("ZMQ_LINGER"),
        "{e}"
    );
    let e = s
        .get_raw_option(linger, OptionKind::Bytes)
        .expect_err("LINGER is an int");
    assert!(e.to_string().contains("ZMQ_LINGER"), "{e}");
    // Unknown numbers: libzmq's EINVAL, named.
    for kind in [
        OptionKind::Int,
        OptionKind::Int64,
        OptionKind::UInt64,
        OptionKind::Bytes,
    ] {
        let e = s.get_raw_option(9999, kind).expect_err("unknown option");
        assert!(matches!(e.root(), Error::InvalidArgument), "{e:?}");
        assert!(e.to_string().contains("#9999"), "{e}");
    }
    let e = s
        .set_raw_option(-3, OptionValue::Int(1))
        .expect_err("unknown option");
    assert!(e.to_string().contains("-3"), "{e}");
    // A known option the type does not accept, by number.
    let e = s
        .set_raw_option(zmqx::sys::ZMQ_SUBSCRIBE, OptionValue::Bytes(b"x".to_vec()))
        .expect_err("DEALER has no SUBSCRIBE");
    assert!(e.to_string().contains("ZMQ_SUBSCRIBE"), "{e}");
    Ok(())
}
