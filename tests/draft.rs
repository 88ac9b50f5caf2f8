//! The DRAFT API (feature `draft`): every DRAFT socket type exchanging real
//! messages, pyzmq's `test_draft` (CLIENT/SERVER, RADIO/DISH), the
//! `zmq_poller` API, version-2 monitor events, a thread-safe socket used
//! from two threads at once, and the async thread-safe socket.
#![cfg(feature = "draft")]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TIMEOUT;
use zmqx::draft::{
    AsyncThreadSafeSocket, EndpointSide, EventKindV2, MalformedEventV2, PollerTarget,
    ThreadSafeSocket, ZmqPoller, recv_monitor_message_v2,
};
use zmqx::monitor::EventKind;
use zmqx::{
    AsyncSocket, Context, Error, Event, Message, PollEvents, Result, SocketOption, SocketType,
};

/// A thread-safe socket with timeouts and no linger, like `common::socket`.
fn ts(ctx: &Context, kind: SocketType) -> Result<ThreadSafeSocket> {
    let s = ctx.thread_safe_socket(kind)?;
    s.set_rcvtimeo(Some(TIMEOUT))?;
    s.set_sndtimeo(Some(TIMEOUT))?;
    s.set_linger(Some(Duration::ZERO))?;
    Ok(s)
}

/// A bound CLIENT/SERVER pair over TCP: (client, server).
fn client_server(ctx: &Context) -> Result<(ThreadSafeSocket, ThreadSafeSocket)> {
    let server = ts(ctx, SocketType::Server)?;
    server.bind("tcp://127.0.0.1:*")?;
    let client = ts(ctx, SocketType::Client)?;
    client.connect(&server.last_endpoint()?)?;
    Ok((client, server))
}

#[test]
fn draft_is_compiled_in() {
    assert!(zmqx::has("draft"));
}

// pyzmq's test_draft.test_client_server.
#[test]
fn client_server_routing_id() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    client.send("request")?;
    let msg = server.recv_msg()?;
    assert_eq!(msg, "request");
    let id = msg.routing_id();
    assert_ne!(id, 0, "a SERVER message carries its peer's routing id");
    server.send_to("reply", id)?;
    assert_eq!(client.recv_msg()?, "reply");

    // A reply set on the Message itself, kept on failure.
    let mut reply = Message::from("again");
    reply.set_routing_id(id)?;
    server.send(&mut reply)?;
    assert_eq!(client.recv_msg()?, "again");

    // Unknown routing id: EHOSTUNREACH, not a silent drop.
    assert!(matches!(
        server.send_to("nobody", id.wrapping_add(1000)),
        Err(Error::HostUnreachable)
    ));
    // No routing id at all.
    assert!(server.send("x").is_err());
    Ok(())
}

/// `recv_many` on a thread-safe socket: waits for the first message, takes
/// up to the limit, each with its routing id.
#[test]
fn thread_safe_recv_many() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    for i in 0..3 {
        client.send(format!("r{i}").as_str())?;
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let mut batch = [Message::new(), Message::new()];
        let n = server.recv_many(&mut batch)?;
        assert!((1..=2).contains(&n), "{n} messages");
        got.extend(batch.into_iter().take(n));
    }
    for (i, m) in got.iter().enumerate() {
        assert_eq!(*m, format!("r{i}").as_str());
        assert_ne!(m.routing_id(), 0);
    }
    assert_eq!(server.recv_many(&mut [])?, 0);
    Ok(())
}

#[test]
fn multipart_is_a_typed_error() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    // libzmq refuses SNDMORE on these types; ThreadSafeSocket has no
    // multipart send at all, and the underlying socket reports it typed.
    let mut msg = Message::from("part");
    let refused = client
        .as_socket()
        .send_with(&mut msg, zmqx::SendFlags::SNDMORE);
    assert!(refused.is_err(), "SNDMORE accepted: {refused:?}");
    assert_eq!(msg, "part", "the message is handed back untouched");
    // Nothing went out.
    client.send("whole")?;
    assert_eq!(server.recv_msg()?, "whole");
    Ok(())
}

#[test]
fn non_thread_safe_kinds_are_refused() -> Result<()> {
    let ctx = Context::new();
    for kind in [SocketType::Push, SocketType::Router, SocketType::Dgram] {
        assert!(!kind.is_thread_safe());
        match ctx.thread_safe_socket(kind) {
            Err(Error::NotThreadSafe { socket_type }) => assert_eq!(socket_type, kind.to_string()),
            other => panic!("{kind:?}: expected NotThreadSafe, got {other:?}"),
        }
    }
    assert!(matches!(
        ThreadSafeSocket::new(ctx.socket(SocketType::Pair)?),
        Err(Error::NotThreadSafe { .. })
    ));
    // A SERVER made as a classic Socket can be wrapped, and unwrapped again.
    let server = ThreadSafeSocket::new(ctx.socket(SocketType::Server)?)?;
    assert_eq!(server.socket_type(), SocketType::Server);
    assert!(server.into_socket().thread_safe()?);
    Ok(())
}

#[test]
fn async_socket_still_refuses_thread_safe_types() -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let ctx = Context::new();
    assert!(matches!(
        AsyncSocket::new(ctx.socket(SocketType::Server)?),
        Err(Error::AsyncUnsupported { .. })
    ));
    Ok(())
}

/// Sends on RADIO until DISH receives: the join has reached the radio and
/// the connection is up (RADIO drops messages until then).
fn until_joined(radio: &ThreadSafeSocket, dish: &ThreadSafeSocket, group: &str) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    let mut poller = ZmqPoller::new()?;
    poller.add(dish, PollEvents::POLLIN, ())?;
    loop {
        radio.send_group("probe", group)?;
        if poller.wait(Some(Duration::from_millis(20)))?.is_some() {
            let m = dish.recv_msg()?;
            assert_eq!(m, "probe");
            // Drain any other probes already in flight.
            while dish.try_recv_msg()?.is_some() {}
            return Ok(());
        }
        assert!(Instant::now() < deadline, "the dish never got a message");
    }
}

/// pyzmq's test_draft.test_radio_dish, stricter: once joined, every message
/// arrives, in order, with its group, and only joined groups arrive.
fn radio_dish_exchange(radio: &ThreadSafeSocket, dish: &ThreadSafeSocket) -> Result<()> {
    dish.join("mygroup")?;
    until_joined(radio, dish, "mygroup")?;
    for i in 0..10 {
        radio.send_group(i.to_string(), "other")?;
        radio.send_group(i.to_string(), "mygroup")?;
    }
    for i in 0..10 {
        // Probes sent before the first one arrived may still come.
        let m = loop {
            let m = dish.recv_msg()?;
            if m != "probe" {
                break m;
            }
        };
        assert_eq!(m.group().as_deref(), Some("mygroup"));
        assert_eq!(m, i.to_string().as_str());
    }
    dish.leave("mygroup")?;
    Ok(())
}

#[test]
fn radio_dish_over_tcp() -> Result<()> {
    let ctx = Context::new();
    let dish = ts(&ctx, SocketType::Dish)?;
    dish.bind("tcp://127.0.0.1:*")?;
    let radio = ts(&ctx, SocketType::Radio)?;
    radio.connect(&dish.last_endpoint()?)?;
    radio_dish_exchange(&radio, &dish)?;
    // After leave, nothing of that group is delivered (the radio may not
    // know yet, but the dish filters too). "late" goes out before the
    // sentinel probes on the same connection, so it would be here by now.
    radio.send_group("late", "mygroup")?;
    dish.join("sentinel")?;
    until_joined(&radio, &dish, "sentinel")?;
    while let Some(m) = dish.try_recv_msg()? {
        assert_eq!(m.group().as_deref(), Some("sentinel"), "{m:?}");
    }
    Ok(())
}

// The DRAFT calls also work on classic `Socket`s of the DRAFT types.
#[test]
fn classic_socket_dish_and_message_properties() -> Result<()> {
    let ctx = Context::new();
    let ep = common::inproc("classic-dish");
    let dish = common::socket(&ctx, SocketType::Dish)?;
    dish.bind(&ep)?;
    dish.join("g")?;
    let radio = common::socket(&ctx, SocketType::Radio)?;
    radio.connect(&ep)?;
    let mut msg = Message::from("classic");
    msg.set_group("g")?;
    assert_eq!(msg.group().as_deref(), Some("g"));
    msg.set_routing_id(42)?;
    assert_eq!(msg.routing_id(), 42);
    let deadline = Instant::now() + TIMEOUT;
    let got = loop {
        radio.send(&msg)?;
        if let Some(m) = dish.try_recv_msg()? {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "the join never reached the radio"
        );
        std::thread::yield_now();
    };
    assert_eq!(
        (got.group().as_deref(), &got[..]),
        (Some("g"), &b"classic"[..])
    );
    dish.leave("g")?;
    Ok(())
}

#[test]
fn group_names_are_checked() -> Result<()> {
    let ctx = Context::new();
    let dish = ts(&ctx, SocketType::Dish)?;
    let radio = ts(&ctx, SocketType::Radio)?;
    let long = "g".repeat(256);
    assert!(matches!(dish.join(&long), Err(Error::InvalidInput { .. })));
    assert!(matches!(dish.join("a\0b"), Err(Error::InvalidInput { .. })));
    assert!(matches!(
        radio.send_group("x", &long),
        Err(Error::InvalidInput { .. })
    ));
    dish.join(&"g".repeat(255))?;
    // Leaving a group not joined is libzmq's EINVAL.
    assert!(dish.leave("never-joined").is_err());
    Ok(())
}

/// Binds `bind` to a UDP port on 127.0.0.1 that was free a moment ago
/// (libzmq's UDP transport cannot pick one itself), retrying when another
/// process took it meanwhile. Returns the port.
fn bind_udp<T>(bind: impl Fn(&str) -> Result<T>) -> Result<u16> {
    for _ in 0..20 {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free UDP port")
            .port();
        match bind(&format!("udp://127.0.0.1:{port}")) {
            Ok(_) => return Ok(port),
            Err(e) if matches!(e.root(), Error::AddressInUse) => continue,
            Err(e) => return Err(e),
        }
    }
    panic!("no free UDP port after 20 tries");
}

#[test]
fn radio_dish_over_udp() -> Result<()> {
    let ctx = Context::new();
    let dish = ts(&ctx, SocketType::Dish)?;
    let port = bind_udp(|ep| dish.bind(ep))?;
    let radio = ts(&ctx, SocketType::Radio)?;
    radio.connect(&format!("udp://127.0.0.1:{port}"))?;
    radio_dish_exchange(&radio, &dish)
}

#[test]
fn dgram_over_udp() -> Result<()> {
    let ctx = Context::new();
    let a = common::socket(&ctx, SocketType::Dgram)?;
    let b = common::socket(&ctx, SocketType::Dgram)?;
    let port_a = bind_udp(|ep| a.bind(ep))?;
    let port_b = bind_udp(|ep| b.bind(ep))?;
    // DGRAM messages are two parts: the peer's address, then the body.
    b.send_multipart([format!("127.0.0.1:{port_a}").as_str(), "datagram"])?;
    let got = a.recv_multipart()?;
    assert_eq!(got.len(), 2);
    // libzmq sends the address with its C string NUL.
    assert_eq!(got[0], format!("127.0.0.1:{port_b}\0").as_str());
    assert_eq!(got[1], "datagram");
    // Reply to the address it came from.
    a.send_multipart([&got[0][..], &b"reply"[..]])?;
    let back = b.recv_multipart()?;
    assert_eq!(back[1], "reply");
    Ok(())
}

#[test]
fn gather_scatter() -> Result<()> {
    let ctx = Context::new();
    let gather = ts(&ctx, SocketType::Gather)?;
    let ep = gather.bind("tcp://127.0.0.1:*")?;
    let scatter = ts(&ctx, SocketType::Scatter)?;
    scatter.connect(&ep)?;
    for i in 0..20 {
        scatter.send(format!("job {i}"))?;
    }
    for i in 0..20 {
        assert_eq!(gather.recv_msg()?, format!("job {i}").as_str());
    }
    Ok(())
}

#[test]
fn peer_to_peer_with_connect_peer() -> Result<()> {
    let ctx = Context::new();
    let a = ts(&ctx, SocketType::Peer)?;
    a.bind("tcp://127.0.0.1:*")?;
    let b = ts(&ctx, SocketType::Peer)?;
    let a_id = b.connect_peer(&a.last_endpoint()?)?;
    assert_ne!(a_id, 0);
    b.send_to("hello peer", a_id)?;
    let got = a.recv_msg()?;
    assert_eq!(got, "hello peer");
    let b_id = got.routing_id();
    assert_ne!(b_id, 0);
    a.send_to("hello back", b_id)?;
    let back = b.recv_msg()?;
    assert_eq!(back, "hello back");
    assert_eq!(back.routing_id(), a_id);

    // connect_peer on a non-PEER socket, and a bad endpoint, are errors.
    let client = ts(&ctx, SocketType::Client)?;
    assert!(client.connect_peer(&a.last_endpoint()?).is_err());
    assert!(matches!(
        b.connect_peer("tcp://127.0.0.1:99999"),
        Err(Error::InvalidInput { .. })
    ));
    Ok(())
}

#[test]
fn channel_pair() -> Result<()> {
    let ctx = Context::new();
    let a = ts(&ctx, SocketType::Channel)?;
    let ep = common::inproc("channel");
    a.bind(&ep)?;
    let b = ts(&ctx, SocketType::Channel)?;
    b.connect(&ep)?;
    b.send("ping")?;
    assert_eq!(a.recv_msg()?, "ping");
    a.send("pong")?;
    assert_eq!(b.recv_msg()?, "pong");
    Ok(())
}

#[test]
fn draft_options_and_context_options() -> Result<()> {
    let ctx = Context::new();
    assert!(ctx.zero_copy_recv()?);
    ctx.set_zero_copy_recv(false)?;
    assert!(!ctx.zero_copy_recv()?);
    assert_eq!(ctx.msg_t_size()?, 64);
    // An option only a DRAFT build implements works here.
    let router = common::socket(&ctx, SocketType::Router)?;
    router.set_router_notify(zmqx::RouterNotify::CONNECT)?;
    assert_eq!(router.router_notify()?, zmqx::RouterNotify::CONNECT);
    // Typed options through the thread-safe socket.
    let server = ts(&ctx, SocketType::Server)?;
    server.set_sndhwm(7)?;
    assert_eq!(server.sndhwm()?, 7);
    assert!(matches!(
        server.get(SocketOption::THREAD_SAFE)?,
        zmqx::OptionValue::Int(1)
    ));
    server
        .as_socket()
        .set_heartbeat_ivl(Some(Duration::from_millis(500)))?;
    Ok(())
}

// A thread-safe socket really used by two threads at the same time: one
// thread receives on the SERVER while another sends on it, and two threads
// send on one CLIENT.
#[test]
fn one_socket_two_threads_at_once() -> Result<()> {
    const N: usize = 300;
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    client.send("hello")?;
    let id = server.recv_msg()?.routing_id();

    let (received_by_server, received_by_client) = std::thread::scope(|s| {
        // Thread 1: receives N messages on the server.
        let server_rx = s.spawn(|| -> Result<Vec<String>> {
            (0..2 * N)
                .map(|_| Ok(server.recv_msg()?.as_str().unwrap_or("").to_string()))
                .collect()
        });
        // Thread 2: sends N messages on the same server, at the same time.
        let server_tx = s.spawn(|| -> Result<()> {
            for i in 0..N {
                server.send_to(format!("s{i}"), id)?;
            }
            Ok(())
        });
        // Threads 3 and 4: both send on the one client.
        let senders: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|tag| {
                let client = &client;
                s.spawn(move || -> Result<()> {
                    for i in 0..N {
                        client.send(format!("{tag}{i}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        // Thread 5 (this one): receives on the client meanwhile.
        let from_server: Result<Vec<String>> = (0..N)
            .map(|_| Ok(client.recv_msg()?.as_str().unwrap_or("").to_string()))
            .collect();
        for t in senders {
            t.join().expect("client sender")?;
        }
        server_tx.join().expect("server sender")?;
        Ok::<_, Error>((server_rx.join().expect("server receiver")?, from_server?))
    })?;

    let expected: Vec<String> = (0..N).map(|i| format!("s{i}")).collect();
    assert_eq!(received_by_client, expected);
    // Each client thread's messages arrive complete and in its order.
    let mut per_tag: HashMap<char, Vec<usize>> = HashMap::new();
    for m in &received_by_server {
        let tag = m.chars().next().expect("tag");
        per_tag
            .entry(tag)
            .or_default()
            .push(m[1..].parse().expect("number"));
    }
    for tag in ['a', 'b'] {
        assert_eq!(per_tag[&tag], (0..N).collect::<Vec<_>>(), "thread {tag}");
    }
    Ok(())
}

#[test]
fn zmq_poller_api() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    let pull = common::socket(&ctx, SocketType::Pull)?;
    let ep = common::inproc("poller");
    pull.bind(&ep)?;
    let push = common::socket(&ctx, SocketType::Push)?;
    push.connect(&ep)?;
    let (fd_reader, mut fd_writer) = std::os::unix::net::UnixStream::pair().expect("pair");
    use std::io::Write;
    use std::os::fd::AsRawFd;

    let mut poller: ZmqPoller<'_, &str> = ZmqPoller::new()?;
    assert!(poller.is_empty());
    // No thread-safe socket yet: no poller fd.
    assert!(matches!(poller.fd(), Err(Error::InvalidInput { .. })));
    // An empty poller cannot wait forever, but may wait a little.
    assert!(matches!(poller.wait(None), Err(Error::InvalidInput { .. })));
    assert!(poller.wait(Some(Duration::from_millis(1)))?.is_none());

    poller.add(&server, PollEvents::POLLIN, "server")?;
    poller.add(&pull, PollEvents::POLLIN, "pull")?;
    poller.add_fd(fd_reader.as_raw_fd(), PollEvents::POLLIN, "fd")?;
    assert_eq!(poller.len(), 3);
    assert!(
        poller.fd().is_ok(),
        "a thread-safe socket gives the poller an fd"
    );
    assert!(matches!(
        poller.add(&server, PollEvents::POLLIN, "again"),
        Err(Error::InvalidInput { .. })
    ));

    // Nothing ready yet.
    assert_eq!(poller.wait_all(Some(Duration::from_millis(10)))?.count(), 0);

    client.send("to server")?;
    push.send("to pull")?;
    fd_writer.write_all(b"x").expect("write");
    let mut seen = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while seen.len() < 3 && Instant::now() < deadline {
        seen = poller
            .wait_all(Some(TIMEOUT))?
            .map(|e| {
                assert_eq!(e.events, PollEvents::POLLIN);
                *e.data
            })
            .collect();
    }
    seen.sort();
    assert_eq!(seen, ["fd", "pull", "server"]);
    assert_eq!(
        poller.data(PollerTarget::of(&server)),
        Some(&"server"),
        "targets name the sockets"
    );

    // Single-event wait sees something ready and names it.
    let one = poller.wait(Some(TIMEOUT))?.expect("an event");
    assert!(["fd", "pull", "server"].contains(one.data));

    // Modify to POLLOUT: a connected CLIENT's server side can send.
    assert_eq!(server.recv_msg()?, "to server");
    poller.modify(&server, PollEvents::POLLOUT)?;
    assert_eq!(pull.recv_msg()?, "to pull");
    poller.remove_fd(fd_reader.as_raw_fd())?;
    let ready: Vec<_> = poller
        .wait_all(Some(TIMEOUT))?
        .map(|e| (*e.data, e.events))
        .collect();
    assert_eq!(ready, [("server", PollEvents::POLLOUT)]);

    assert_eq!(poller.remove(&server)?, "server");
    assert!(matches!(
        poller.remove(&server),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        poller.modify(&server, PollEvents::POLLIN),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        poller.remove_fd(12345),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(poller.len(), 1);
    Ok(())
}

#[test]
fn poller_wakes_a_blocked_thread() -> Result<()> {
    // A thread blocked in the poller on a thread-safe socket wakes when
    // another thread sends.
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| -> Result<Option<String>> {
            let mut poller = ZmqPoller::new()?;
            poller.add(&server, PollEvents::POLLIN, ())?;
            tid_tx.send(common::thread_id()).expect("main thread");
            let started = Instant::now();
            let ready = poller.wait(Some(TIMEOUT))?.is_some();
            assert!(started.elapsed() < TIMEOUT);
            Ok(ready.then(|| {
                server
                    .recv_msg()
                    .map(|m| m.as_str().unwrap_or("").to_string())
                    .unwrap_or_default()
            }))
        });
        // Sent once the waiter sleeps in the poller's wait.
        let tid = tid_rx
            .recv_timeout(TIMEOUT)
            .expect("the waiter's thread id");
        common::wait_until_blocked(tid);
        client.send("wake up")?;
        assert_eq!(waiter.join().expect("waiter")?.as_deref(), Some("wake up"));
        Ok(())
    })
}

#[test]
fn monitor_v2_events() -> Result<()> {
    let ctx = Context::new();
    let server = ts(&ctx, SocketType::Server)?;
    let mut monitor = server.monitor_events_v2(Event::ALL | Event::PIPES_STATS)?;
    let ep = server.bind("tcp://127.0.0.1:*")?;

    let listening = monitor
        .wait_for(EventKindV2::V1(EventKind::Listening), Some(TIMEOUT))?
        .expect("LISTENING");
    assert_eq!(listening.local_endpoint, ep);
    assert_eq!(listening.values.len(), 1);
    assert!(matches!(
        listening.value(),
        Some(zmqx::monitor::EventValue::Fd(_))
    ));

    let client = ts(&ctx, SocketType::Client)?;
    client.connect(&ep)?;
    let accepted = monitor
        .wait_for(EventKindV2::V1(EventKind::Accepted), Some(TIMEOUT))?
        .expect("ACCEPTED");
    assert_eq!(accepted.local_endpoint, ep);
    assert!(
        accepted.remote_endpoint.starts_with("tcp://127.0.0.1:"),
        "the remote endpoint is known: {accepted}"
    );
    monitor
        .wait_for(
            EventKindV2::V1(EventKind::HandshakeSucceeded),
            Some(TIMEOUT),
        )?
        .expect("HANDSHAKE_SUCCEEDED");

    // Two messages queued for the client, unread: PIPES_STATS shows them.
    client.send("hello")?;
    let id = server.recv_msg()?.routing_id();
    server.send_to("one", id)?;
    server.as_socket().monitor_pipes_stats()?;
    // libzmq delivers the stats when the monitored socket is next used:
    // keep using it until they come.
    let deadline = Instant::now() + TIMEOUT;
    let stats = loop {
        // ZMQ_EVENTS makes the socket process its pending commands.
        let _ = server.as_socket().events()?;
        if let Some(e) = monitor.next_event(Some(Duration::from_millis(20)))? {
            if e.kind == EventKindV2::PipesStats {
                break e;
            }
        }
        assert!(Instant::now() < deadline, "no PIPES_STATS event");
    };
    // Queue sizes are a snapshot of moving pipes: only their presence is
    // certain.
    assert!(stats.pipes_stats().is_some(), "two values: {stats}");
    assert_eq!(stats.local_endpoint, ep);
    assert!(!stats.remote_endpoint.is_empty());

    server.as_socket().disable_monitor()?;
    let rest: Vec<_> = monitor.by_ref().collect::<Result<_>>()?;
    assert_eq!(
        rest.last().map(|e| e.kind),
        Some(EventKindV2::V1(EventKind::MonitorStopped))
    );
    assert!(monitor.is_stopped());
    Ok(())
}

#[test]
fn monitor_v2_dropped_early_does_not_block() -> Result<()> {
    let ctx = Context::new();
    let server = ts(&ctx, SocketType::Server)?;
    let monitor = server.monitor_events_v2(Event::ALL)?;
    drop(monitor);
    // Many events with nobody reading: libzmq must not block.
    for _ in 0..50 {
        server.bind("tcp://127.0.0.1:*")?;
        server.unbind(&server.last_endpoint()?)?;
    }
    drop(server);
    Ok(())
}

#[test]
fn malformed_v2_frames_through_a_socket() -> Result<()> {
    let ctx = Context::new();
    let ep = common::inproc("v2-malformed");
    let rx = common::socket(&ctx, SocketType::Pair)?;
    rx.bind(&ep)?;
    let tx = common::socket(&ctx, SocketType::Pair)?;
    tx.connect(&ep)?;
    let one = 1u64.to_ne_bytes();
    tx.send_multipart([&one[..], &one[..], b"", b""])?;
    match recv_monitor_message_v2(&rx) {
        Err(Error::MonitorEventV2 { reason, frames }) => {
            assert_eq!(
                reason,
                MalformedEventV2::ValueCount {
                    declared: 1,
                    present: 0
                }
            );
            assert_eq!(frames.len(), 4, "the frames are handed back");
            assert_eq!(frames.get(0), Some(&one[..]));
        }
        other => panic!("expected MonitorEventV2, got {other:?}"),
    }
    tx.send_multipart([&one[..], &0u64.to_ne_bytes()[..], b"\xff\xfe", b""])?;
    match recv_monitor_message_v2(&rx) {
        Err(Error::MonitorEventV2 {
            reason: MalformedEventV2::EndpointNotUtf8 { side, .. },
            ..
        }) => assert_eq!(side, EndpointSide::Local),
        other => panic!("expected EndpointNotUtf8, got {other:?}"),
    }
    tx.send("just one frame")?;
    let e = recv_monitor_message_v2(&rx).expect_err("malformed");
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    Ok(())
}

// --- async -----------------------------------------------------------------

async fn async_pair(ctx: &Context) -> Result<(AsyncThreadSafeSocket, AsyncThreadSafeSocket)> {
    let (client, server) = client_server(ctx)?;
    Ok((
        AsyncThreadSafeSocket::new(client)?,
        AsyncThreadSafeSocket::new(server)?,
    ))
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, f).await.expect("timed out")
}

#[tokio::test]
async fn async_client_server() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = async_pair(&ctx).await?;
    within(client.send("ping")).await?;
    let ping = within(server.recv_msg()).await?;
    assert_eq!(ping, "ping");
    within(server.send_to("pong", ping.routing_id())).await?;
    assert_eq!(within(client.recv_msg()).await?, "pong");
    assert!(AsyncThreadSafeSocket::new(ts(&ctx, SocketType::Radio)?).is_ok());
    let back = client.into_socket().expect("last clone");
    assert_eq!(back.socket_type(), SocketType::Client);
    Ok(())
}

#[tokio::test]
async fn async_thread_safe_recv_many() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = async_pair(&ctx).await?;
    for i in 0..3 {
        within(client.send(format!("r{i}").as_str())).await?;
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let mut batch = [Message::new(), Message::new()];
        let n = within(server.recv_many(&mut batch)).await?;
        assert!((1..=2).contains(&n), "{n} messages");
        got.extend(batch.into_iter().take(n));
    }
    for (i, m) in got.iter().enumerate() {
        assert_eq!(*m, format!("r{i}").as_str());
    }
    assert_eq!(within(server.recv_many(&mut [])).await?, 0);
    Ok(())
}

#[test]
fn async_needs_a_runtime() -> Result<()> {
    let ctx = Context::new();
    assert!(matches!(
        AsyncThreadSafeSocket::new(ts(&ctx, SocketType::Server)?),
        Err(Error::Reactor(_))
    ));
    Ok(())
}

// No lost wakeup: many round trips where every receive has to wait, plus
// a flood through a tiny high-water mark where senders wait for room, with
// one socket shared by a sending and a receiving task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_no_lost_wakeup() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = async_pair(&ctx).await?;
    within(async {
        for i in 0..300 {
            let echo = {
                let server = server.clone();
                tokio::spawn(async move {
                    let m = server.recv_msg().await?;
                    server.send_to(m.to_vec(), m.routing_id()).await
                })
            };
            client.send(format!("{i}")).await?;
            assert_eq!(client.recv_msg().await?, format!("{i}").as_str());
            echo.await.expect("echo task")?;
        }
        Ok::<_, Error>(())
    })
    .await?;

    // Flood: HWM 1 on both sides, the client sends from one task while
    // another task of the same socket receives replies.
    let ctx = Context::new();
    let server = ts(&ctx, SocketType::Server)?;
    server.set_rcvhwm(1)?;
    server.set_sndhwm(1)?;
    server.bind("tcp://127.0.0.1:*")?;
    let client = ts(&ctx, SocketType::Client)?;
    client.set_sndhwm(1)?;
    client.set_rcvhwm(1)?;
    client.connect(&server.last_endpoint()?)?;
    let client = AsyncThreadSafeSocket::new(client)?;
    let server = AsyncThreadSafeSocket::new(server)?;
    const N: usize = 2000;
    within(async {
        let echo = {
            let server = server.clone();
            tokio::spawn(async move {
                for _ in 0..N {
                    let m = server.recv_msg().await?;
                    server.send_to(m.to_vec(), m.routing_id()).await?;
                }
                Ok::<_, Error>(())
            })
        };
        let sender = {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..N {
                    client.send(i.to_string()).await?;
                }
                Ok::<_, Error>(())
            })
        };
        for i in 0..N {
            assert_eq!(client.recv_msg().await?, i.to_string().as_str());
        }
        sender.await.expect("sender")?;
        echo.await.expect("echo")?;
        Ok::<_, Error>(())
    })
    .await
}

// Many tasks on each side of one pair, every queue one message deep:
// SERVER sends wait for room with POLLOUT always set (the "untrusted" path)
// while other tasks of the same socket receive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_many_tasks_share_a_socket() -> Result<()> {
    const TASKS: usize = 3;
    const M: usize = 300;
    let ctx = Context::new();
    let server = ts(&ctx, SocketType::Server)?;
    server.set_rcvhwm(1)?;
    server.set_sndhwm(1)?;
    server.bind("tcp://127.0.0.1:*")?;
    let client = ts(&ctx, SocketType::Client)?;
    client.set_sndhwm(1)?;
    client.set_rcvhwm(1)?;
    client.connect(&server.last_endpoint()?)?;
    let client = AsyncThreadSafeSocket::new(client)?;
    let server = AsyncThreadSafeSocket::new(server)?;
    within(async {
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let server = server.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..M {
                    let m = server.recv_msg().await?;
                    server.send_to(m.to_vec(), m.routing_id()).await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for t in 0..TASKS {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..M {
                    client.send(format!("{t}:{i}")).await?;
                }
                Ok::<_, Error>(())
            }));
        }
        let mut last: HashMap<String, usize> = HashMap::new();
        for _ in 0..TASKS * M {
            let m = client.recv_msg().await?;
            let (t, i) = m.as_str().and_then(|s| s.split_once(':')).expect("t:i");
            let i: usize = i.parse().expect("number");
            *last.entry(t.to_string()).or_default() += 1;
            assert!(i < M);
        }
        assert!(last.values().all(|&n| n == M), "{last:?}");
        for t in tasks {
            t.await.expect("task")?;
        }
        Ok::<_, Error>(())
    })
    .await
}

// Futures are cancel-safe: a receive timed out leaves the next message for
// the next receive.
#[tokio::test]
async fn async_cancelled_recv_loses_nothing() -> Result<()> {
    let ctx = Context::new();
    let (client, server) = async_pair(&ctx).await?;
    for _ in 0..5 {
        let r = tokio::time::timeout(Duration::from_millis(5), server.recv_msg()).await;
        assert!(r.is_err(), "nothing was sent yet");
    }
    within(client.send("kept")).await?;
    assert_eq!(within(server.recv_msg()).await?, "kept");
    Ok(())
}

// A pending receive wakes with ContextTerminated when the context shuts
// down: libzmq's stop command signals the poller's fd like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_recv_wakes_on_context_shutdown() -> Result<()> {
    let ctx = Context::new();
    let (_client, server) = async_pair(&ctx).await?;
    let mut recv = Box::pin({
        let server = server.clone();
        async move { server.recv_msg().await }
    });
    // Polled once with nothing to receive, the receive is parked.
    assert!(futures_util::poll!(&mut recv).is_pending());
    let pending = tokio::spawn(recv);
    ctx.shutdown()?;
    let r = within(pending).await.expect("task");
    assert!(
        matches!(
            r.as_ref().map_err(Error::root),
            Err(Error::ContextTerminated)
        ),
        "{r:?}"
    );
    Ok(())
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    // SAFETY: an all-zero timespec is valid for clock_gettime to overwrite.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn async_idle_uses_no_cpu() -> Result<()> {
    // A current-thread runtime: everything runs on this thread, whose CPU
    // time is not disturbed by the other tests of this binary.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ctx = Context::new();
        let (client, server) = async_pair(&ctx).await?;
        // Warm up: the connection is up and the fd has fired.
        within(client.send("warm-up")).await?;
        assert_eq!(within(server.recv_msg()).await?, "warm-up");
        let before = thread_cpu_time();
        let (a, b) = tokio::join!(
            tokio::time::timeout(Duration::from_millis(400), server.recv_msg()),
            tokio::time::timeout(Duration::from_millis(400), client.recv_msg()),
        );
        let used = thread_cpu_time() - before;
        assert!(a.is_err() && b.is_err(), "nothing was sent");
        assert!(
            used < Duration::from_millis(40),
            "idle wait used {used:?} of CPU"
        );
        Ok(())
    })
}

#[test]
fn thread_safe_socket_in_an_arc() -> Result<()> {
    // The everyday way to share it: Arc, moved into spawned threads.
    let ctx = Context::new();
    let (client, server) = client_server(&ctx)?;
    let client = Arc::new(client);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let client = Arc::clone(&client);
            std::thread::spawn(move || client.send(format!("t{t}")))
        })
        .collect();
    for t in threads {
        t.join().expect("thread")?;
    }
    let mut got: Vec<String> = (0..4)
        .map(|_| Ok(server.recv_msg()?.as_str().unwrap_or("").to_string()))
        .collect::<Result<_>>()?;
    got.sort();
    assert_eq!(got, ["t0", "t1", "t2", "t3"]);
    Ok(())
}
