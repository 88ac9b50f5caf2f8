//! Socket monitor: pyzmq's test_monitor in Rust, the event sequences over
//! tcp (connect, accept, handshake, disconnect, close, stop), failed CURVE
//! and ZAP handshakes, and malformed monitor messages.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{TIMEOUT, bind_tcp, inproc, socket};
use zmqx::monitor::{
    EventKind, EventValue, MalformedEvent, Monitor, MonitorEvent, ProtocolError,
    parse_monitor_message, recv_monitor_message,
};
use zmqx::{Context, Error, Event, Message, PollEvents, Poller, Result, Socket, SocketType};

const WAIT: Option<Duration> = Some(TIMEOUT);

/// The next event, failing the test if none comes in time.
fn next(m: &Monitor) -> Result<MonitorEvent> {
    match m.next_event(WAIT)? {
        Some(e) => Ok(e),
        None => panic!("no monitor event within {TIMEOUT:?}"),
    }
}

/// Waits for an event of `kind`, returning it and the events before it.
fn until(m: &Monitor, kind: EventKind) -> Result<(MonitorEvent, Vec<MonitorEvent>)> {
    let mut before = Vec::new();
    loop {
        let e = next(m)?;
        if e.kind == kind {
            return Ok((e, before));
        }
        before.push(e);
    }
}

/// The kinds of a list of events.
fn kinds(events: &[MonitorEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

/// Runs `f` on a thread and fails the test if it does not finish in time
/// (for steps that would hang forever if the code under test were wrong).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {TIMEOUT:?}"),
    }
}

// ---- pyzmq's test_monitor.py ----

#[test]
fn monitor_by_hand_then_disable() -> Result<()> {
    // test_monitor: zmq_socket_monitor + our own PAIR + recv_monitor_message.
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let req = socket(&ctx, SocketType::Req)?;
    let endpoint = bind_tcp(&req)?;
    let monitor_endpoint = inproc("monitor.rep");
    rep.monitor(
        &monitor_endpoint,
        Event::CONNECT_DELAYED | Event::CONNECTED | Event::MONITOR_STOPPED,
    )?;
    let events = socket(&ctx, SocketType::Pair)?;
    events.connect(&monitor_endpoint)?;

    rep.connect(&endpoint)?;
    let mut m = recv_monitor_message(&events)?;
    if m.kind == EventKind::ConnectDelayed {
        assert_eq!(m.endpoint, endpoint);
        m = recv_monitor_message(&events)?;
    }
    assert_eq!(m.kind, EventKind::Connected);
    assert_eq!(m.endpoint, endpoint);
    assert!(matches!(m.value, EventValue::Fd(fd) if fd >= 0));

    // The monitor can be disabled.
    rep.disable_monitor()?;
    let m = recv_monitor_message(&events)?;
    assert_eq!(m.kind, EventKind::MonitorStopped);
    assert_eq!(m.endpoint, "");
    Ok(())
}

#[test]
fn monitor_repeat_replaces_the_previous_one() -> Result<()> {
    // test_monitor_repeat. pyzmq hands back the same PAIR socket on a second
    // get_monitor_socket(); zmqx cannot (the first Monitor is owned by the
    // caller), so the second call replaces the first, which is told so.
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let mut first = s.monitor_events(Event::ALL)?;
    let second = s.monitor_events(Event::ALL)?;
    assert_ne!(first.endpoint(), second.endpoint());
    assert_eq!(next(&first)?.kind, EventKind::MonitorStopped);
    assert!(first.is_stopped());
    assert!(first.next().is_none(), "the first stream has ended");

    // The second one works, and stops on disable_monitor.
    let endpoint = bind_tcp(&s)?;
    let e = next(&second)?;
    assert_eq!(
        (e.kind, e.endpoint.as_str()),
        (EventKind::Listening, &*endpoint)
    );
    s.disable_monitor()?;
    assert_eq!(next(&second)?.kind, EventKind::MonitorStopped);
    assert_eq!(
        second.next_event(WAIT)?,
        None,
        "nothing after MONITOR_STOPPED"
    );
    Ok(())
}

#[test]
fn monitor_connected() -> Result<()> {
    // test_monitor_connected: get_monitor_socket, then connect.
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let req = socket(&ctx, SocketType::Req)?;
    let endpoint = bind_tcp(&req)?;
    let events = rep.monitor_events(Event::ALL)?;
    rep.connect(&endpoint)?;
    let mut m = next(&events)?;
    if m.kind == EventKind::ConnectDelayed {
        assert_eq!(m.endpoint, endpoint);
        m = next(&events)?;
    }
    assert_eq!(m.kind, EventKind::Connected);
    assert_eq!(m.endpoint, endpoint);
    Ok(())
}

// ---- event sequences over tcp ----

#[test]
fn tcp_lifecycle_sequences() -> Result<()> {
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Rep)?;
    let mut server_events = server.monitor_events(Event::ALL)?;
    let endpoint = bind_tcp(&server)?;

    let client = socket(&ctx, SocketType::Req)?;
    let mut client_events = client.monitor_events(Event::ALL)?;
    client.connect(&endpoint)?;
    client.send("ping")?;
    assert_eq!(server.recv_msg()?, "ping");
    server.send("pong")?;
    assert_eq!(client.recv_msg()?, "pong");

    // Server: LISTENING on bind, ACCEPTED, HANDSHAKE_SUCCEEDED.
    let listening = next(&server_events)?;
    assert_eq!(listening.kind, EventKind::Listening);
    assert_eq!(listening.endpoint, endpoint);
    let EventValue::Fd(listener_fd) = listening.value else {
        panic!("LISTENING carries the listener's fd: {listening:?}");
    };
    let accepted = next(&server_events)?;
    assert_eq!(accepted.kind, EventKind::Accepted);
    let EventValue::Fd(connection_fd) = accepted.value else {
        panic!("ACCEPTED carries the connection's fd: {accepted:?}");
    };
    assert_ne!(connection_fd, listener_fd);
    assert_eq!(next(&server_events)?.kind, EventKind::HandshakeSucceeded);

    // Client: [CONNECT_DELAYED], CONNECTED, HANDSHAKE_SUCCEEDED, all on the
    // endpoint it connected to.
    let (handshake, before) = until(&client_events, EventKind::HandshakeSucceeded)?;
    let before = kinds(&before);
    assert!(
        before == [EventKind::ConnectDelayed, EventKind::Connected]
            || before == [EventKind::Connected],
        "client events before the handshake: {before:?}"
    );
    assert_eq!(handshake.endpoint, endpoint);

    // The client goes away: DISCONNECTED on the server, for that connection;
    // the client's own monitor stops with its socket.
    drop(client);
    let stopped: Vec<MonitorEvent> = client_events.by_ref().collect::<Result<_>>()?;
    assert_eq!(
        stopped.last().map(|e| e.kind),
        Some(EventKind::MonitorStopped)
    );
    assert!(client_events.is_stopped());
    let disconnected = next(&server_events)?;
    assert_eq!(disconnected.kind, EventKind::Disconnected);
    assert_eq!(disconnected.value, EventValue::Fd(connection_fd));

    // Unbinding closes the listener: CLOSED, with the listener's fd.
    server.unbind(&endpoint)?;
    let closed = next(&server_events)?;
    assert_eq!(closed.kind, EventKind::Closed);
    assert_eq!(closed.value, EventValue::Fd(listener_fd));
    assert_eq!(closed.endpoint, endpoint);

    // Disabling ends the stream with MONITOR_STOPPED.
    server.disable_monitor()?;
    let rest: Vec<MonitorEvent> = server_events.by_ref().collect::<Result<_>>()?;
    assert_eq!(kinds(&rest), [EventKind::MonitorStopped]);
    Ok(())
}

#[test]
fn closing_the_socket_stops_the_monitor() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Router)?;
    let events = s.monitor_events(Event::ALL)?;
    let endpoint = bind_tcp(&s)?;
    drop(s);
    // The blocking iterator ends by itself: no timeout needed, but guard anyway.
    let got = within("iterating a closed socket's monitor", move || {
        events.collect::<Result<Vec<_>>>()
    })?;
    let got: Vec<(EventKind, String)> = got.into_iter().map(|e| (e.kind, e.endpoint)).collect();
    assert_eq!(got.first(), Some(&(EventKind::Listening, endpoint)));
    assert_eq!(got.last().map(|e| e.0), Some(EventKind::MonitorStopped));
    Ok(())
}

#[test]
fn bind_failed_and_connect_retried() -> Result<()> {
    let ctx = Context::new();
    let first = socket(&ctx, SocketType::Pull)?;
    let endpoint = bind_tcp(&first)?;

    // BIND_FAILED carries the errno of the failed bind.
    let second = socket(&ctx, SocketType::Pull)?;
    let events = second.monitor_events(Event::ALL)?;
    assert!(matches!(
        second.bind(&endpoint).as_ref().map_err(Error::root),
        Err(Error::AddressInUse)
    ));
    // (libzmq reports closing the half-made listener first.)
    let (failed, before) = until(&events, EventKind::BindFailed)?;
    assert!(
        before.iter().all(|e| e.kind == EventKind::Closed),
        "{before:?}"
    );
    assert_eq!(failed.value, EventValue::Errno(libc::EADDRINUSE));
    assert!(matches!(failed.value.error(), Some(Error::AddressInUse)));
    // libzmq 4.3.5 names the address without its `tcp://` here.
    assert_eq!(failed.endpoint, endpoint.trim_start_matches("tcp://"));

    // CONNECT_RETRIED carries the reconnect interval: connect to a port
    // nobody listens on any more.
    drop(first);
    let push = socket(&ctx, SocketType::Push)?;
    push.set_reconnect_ivl(Some(Duration::from_millis(50)))?;
    push.set_reconnect_ivl_max(Some(Duration::from_millis(50)))?;
    let push_events = push.monitor_events(Event::CONNECT_RETRIED)?;
    push.connect(&endpoint)?;
    let retried = next(&push_events)?;
    assert_eq!(retried.kind, EventKind::ConnectRetried);
    assert_eq!(retried.endpoint, endpoint);
    match retried.value {
        EventValue::ReconnectInterval(d) => assert!(d <= Duration::from_millis(100), "{d:?}"),
        other => panic!("CONNECT_RETRIED carries an interval: {other:?}"),
    }
    Ok(())
}

#[test]
fn only_the_events_asked_for() -> Result<()> {
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Pull)?;
    let events = server.monitor_events(Event::HANDSHAKE_SUCCEEDED)?;
    let endpoint = bind_tcp(&server)?;
    let client = socket(&ctx, SocketType::Push)?;
    client.connect(&endpoint)?;
    // LISTENING and ACCEPTED were not asked for: the first event is the handshake.
    assert_eq!(next(&events)?.kind, EventKind::HandshakeSucceeded);
    // MONITOR_STOPPED always comes, so the stream can end.
    server.disable_monitor()?;
    assert_eq!(next(&events)?.kind, EventKind::MonitorStopped);
    Ok(())
}

// ---- failed handshakes ----

/// A CURVE server and a client that knows the server by its real key, or
/// by `wrong_key`.
fn curve_pair(
    ctx: &Context,
    wrong_key: Option<&zmqx::CurveKey>,
) -> Result<(Socket, Socket, Monitor, Monitor)> {
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;
    let server = socket(ctx, SocketType::Rep)?;
    server.set_curve_server(true)?;
    server.set_curve_secretkey(server_keys.secret.as_bytes())?;
    let server_events = server.monitor_events(Event::ALL)?;
    let endpoint = bind_tcp(&server)?;
    let client = socket(ctx, SocketType::Req)?;
    client.set_curve_serverkey(wrong_key.unwrap_or(&server_keys.public).as_bytes())?;
    client.set_curve_publickey(client_keys.public.as_bytes())?;
    client.set_curve_secretkey(client_keys.secret.as_bytes())?;
    let client_events = client.monitor_events(Event::ALL)?;
    client.connect(&endpoint)?;
    Ok((server, client, server_events, client_events))
}

#[test]
fn curve_handshake_succeeds_with_the_right_key() -> Result<()> {
    let ctx = Context::new();
    let (server, client, server_events, client_events) = curve_pair(&ctx, None)?;
    until(&server_events, EventKind::HandshakeSucceeded)?;
    until(&client_events, EventKind::HandshakeSucceeded)?;
    client.send("secret")?;
    assert_eq!(server.recv_msg()?, "secret");
    Ok(())
}

#[test]
fn curve_handshake_with_a_wrong_server_key_fails() -> Result<()> {
    let ctx = Context::new();
    let wrong = zmqx::curve_keypair()?.public;
    let (_server, _client, server_events, client_events) = curve_pair(&ctx, Some(&wrong))?;

    // The server cannot open the client's HELLO box.
    let (failed, before) = until(&server_events, EventKind::HandshakeFailedProtocol)?;
    assert_eq!(kinds(&before), [EventKind::Listening, EventKind::Accepted]);
    assert_eq!(
        failed.value,
        EventValue::Protocol(ProtocolError::ZmtpCryptographic)
    );
    assert!(failed.to_string().contains("ZmtpCryptographic"), "{failed}");
    // The server drops the connection.
    assert_eq!(next(&server_events)?.kind, EventKind::Disconnected);

    // The client sees its connection fail and never a successful handshake.
    let (_, before) = until(&client_events, EventKind::Disconnected)?;
    let before = kinds(&before);
    assert!(before.contains(&EventKind::Connected), "{before:?}");
    assert!(
        !before.contains(&EventKind::HandshakeSucceeded),
        "{before:?}"
    );
    Ok(())
}

/// A ZAP handler (`inproc://zeromq.zap.01`) that answers every request with
/// `status` and `version`, on its own thread until dropped.
struct ZapHandler {
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<thread::JoinHandle<Result<()>>>,
}

impl ZapHandler {
    fn start(ctx: &Context, version: &'static str, status: &'static str) -> Result<ZapHandler> {
        let zap = ctx.socket(SocketType::Rep)?;
        zap.set_linger(Some(Duration::ZERO))?;
        zap.set_rcvtimeo(Some(Duration::from_millis(20)))?;
        zap.set_sndtimeo(Some(TIMEOUT))?;
        zap.bind("inproc://zeromq.zap.01")?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let thread = thread::spawn(move || -> Result<()> {
            while !stop2.load(Ordering::Acquire) {
                let request = match zap.recv_multipart() {
                    Ok(r) => r,
                    Err(Error::Again) => continue,
                    Err(Error::ContextTerminated) => return Ok(()),
                    Err(e) => return Err(e),
                };
                // version, request id, domain, address, routing id,
                // mechanism, credentials…
                assert_eq!(request[0], "1.0");
                assert_eq!(request[5], "CURVE");
                requests2.fetch_add(1, Ordering::AcqRel);
                let id = request[1].clone();
                zap.send_multipart([
                    Message::from(version),
                    id,
                    Message::from(status),
                    Message::from("denied by test"),
                    Message::new(),
                    Message::new(),
                ])?;
            }
            Ok(())
        });
        Ok(ZapHandler {
            stop,
            requests,
            thread: Some(thread),
        })
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let result = t.join().expect("the ZAP handler panicked");
            if !thread::panicking() {
                result.expect("the ZAP handler failed");
            }
        }
    }
}

#[test]
fn zap_denial_gives_handshake_failed_auth_400() -> Result<()> {
    let ctx = Context::new();
    let zap = ZapHandler::start(&ctx, "1.0", "400")?;
    let (_server, _client, server_events, client_events) = curve_pair(&ctx, None)?;

    let (failed, before) = until(&server_events, EventKind::HandshakeFailedAuth)?;
    assert_eq!(failed.value, EventValue::AuthStatus(400));
    assert!(!kinds(&before).contains(&EventKind::HandshakeSucceeded));
    assert!(zap.requests.load(Ordering::Acquire) >= 1);

    // The client is told too (the ERROR command carries the status code).
    let (failed, before) = until(&client_events, EventKind::HandshakeFailedAuth)?;
    assert_eq!(failed.value, EventValue::AuthStatus(400));
    assert!(!kinds(&before).contains(&EventKind::HandshakeSucceeded));
    drop(zap);
    Ok(())
}

#[test]
fn bad_zap_reply_gives_a_zap_protocol_error() -> Result<()> {
    let ctx = Context::new();
    let _zap = ZapHandler::start(&ctx, "9.9", "200")?;
    let (_server, _client, server_events, _client_events) = curve_pair(&ctx, None)?;
    let (failed, _) = until(&server_events, EventKind::HandshakeFailedProtocol)?;
    assert_eq!(
        failed.value,
        EventValue::Protocol(ProtocolError::ZapBadVersion)
    );
    assert!(ProtocolError::ZapBadVersion.is_zap());
    Ok(())
}

// ---- the Monitor value ----

#[test]
fn next_event_times_out_with_none() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let events = s.monitor_events(Event::ALL)?;
    assert_eq!(events.try_next_event()?, None);
    assert_eq!(events.next_event(Some(Duration::from_millis(20)))?, None);
    assert_eq!(events.next_event(Some(Duration::ZERO))?, None);
    assert!(!events.is_stopped());
    Ok(())
}

#[test]
fn stop_works_from_another_thread_without_the_socket() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let events = s.monitor_events(Event::ALL)?;
    let endpoint = bind_tcp(&s)?;
    // The Monitor goes to another thread; the socket stays (and works) here.
    let reader = thread::spawn(move || -> Result<Vec<MonitorEvent>> {
        events.stop()?;
        // What was sent before the stop is still there, then MONITOR_STOPPED.
        let rest = (&events).collect::<Result<Vec<_>>>()?;
        events.stop()?; // again: nothing to do
        Ok(rest)
    });
    let rest =
        within("reading a stopped monitor", move || reader.join()).expect("reader thread")?;
    assert_eq!(
        kinds(&rest),
        [EventKind::Listening, EventKind::MonitorStopped]
    );
    assert_eq!(rest[0].endpoint, endpoint);
    s.unbind(&endpoint)?;
    Ok(())
}

#[test]
fn stopping_or_dropping_a_replaced_monitor_leaves_the_new_one_running() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let first = s.monitor_events(Event::ALL)?;
    let second = s.monitor_events(Event::ALL)?;
    first.stop()?;
    drop(first);
    let endpoint = bind_tcp(&s)?;
    let e = next(&second)?;
    assert_eq!(
        (e.kind, e.endpoint.as_str()),
        (EventKind::Listening, &*endpoint)
    );
    assert!(!second.is_stopped());
    Ok(())
}

#[test]
fn a_poller_keeps_the_monitor_registered_while_reading() -> Result<()> {
    // The monitor's reading methods take `&self`: its socket stays
    // registered in the poller for the whole loop.
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Rep)?;
    let monitor = server.monitor_events(Event::ALL)?;
    let endpoint = bind_tcp(&server)?;
    let client = socket(&ctx, SocketType::Req)?;
    client.connect(&endpoint)?;
    client.send("ping")?;

    let mut poller = Poller::new();
    poller.register(&monitor, PollEvents::POLLIN);
    poller.register(&server, PollEvents::POLLIN);
    let mut seen = Vec::new();
    let mut answered = false;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !(answered && seen.contains(&EventKind::HandshakeSucceeded)) {
        assert!(std::time::Instant::now() < deadline, "seen {seen:?}");
        poller.wait(WAIT)?;
        while let Some(event) = monitor.try_next_event()? {
            seen.push(event.kind);
        }
        if poller
            .revents(&server)
            .is_some_and(|e| e.contains(PollEvents::POLLIN))
        {
            assert_eq!(server.recv_string()?, "ping");
            server.send("pong")?;
            answered = true;
        }
    }
    assert_eq!(seen[0], EventKind::Listening);
    assert_eq!(client.recv_string()?, "pong");
    // The blocking iterator works through `&Monitor` too.
    server.disable_monitor()?;
    let rest: Vec<EventKind> = (&monitor)
        .map(|e| e.map(|e| e.kind))
        .collect::<Result<_>>()?;
    assert_eq!(rest.last(), Some(&EventKind::MonitorStopped));
    poller.wait(Some(Duration::ZERO))?;
    Ok(())
}

/// The names of this process's threads (Linux).
#[cfg(target_os = "linux")]
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim_end().to_string())
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_a_live_monitor_starts_no_thread() -> Result<()> {
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Rep)?;
    let endpoint = bind_tcp(&server)?;
    for _ in 0..3 {
        let events = server.monitor_events(Event::ALL)?;
        let client = socket(&ctx, SocketType::Req)?;
        client.connect(&endpoint)?;
        client.send("x")?;
        assert_eq!(server.recv_msg()?, "x");
        server.send("y")?;
        client.recv_msg()?;
        assert!(!events.is_stopped());
        drop(events);
        // The monitored socket lives on: nothing was left running for it.
        // (A thread names itself once started: watch for a while.)
        let until = std::time::Instant::now() + Duration::from_millis(100);
        while std::time::Instant::now() < until {
            let names = thread_names();
            assert!(
                !names.iter().any(|n| n.starts_with("zmqx-monitor")),
                "threads after dropping a monitor: {names:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn dropping_a_monitor_on_another_thread_while_the_socket_works() -> Result<()> {
    let ctx = Context::new();
    let ctx2 = ctx.clone();
    within(
        "using the socket while its monitor is dropped elsewhere",
        move || -> Result<()> {
            let server = socket(&ctx2, SocketType::Rep)?;
            let endpoint = bind_tcp(&server)?;
            for _ in 0..20 {
                let events = server.monitor_events(Event::ALL)?;
                let dropper = thread::spawn(move || drop(events));
                // Connections make libzmq's I/O thread send events meanwhile.
                let client = socket(&ctx2, SocketType::Req)?;
                client.connect(&endpoint)?;
                client.send("x")?;
                assert_eq!(server.recv_msg()?, "x");
                server.send("y")?;
                client.recv_msg()?;
                dropper.join().expect("dropping thread");
            }
            Ok(())
        },
    )?;
    within("terminating the context", move || ctx.term())?;
    Ok(())
}

#[test]
fn closing_the_socket_then_dropping_the_monitor_never_blocks() -> Result<()> {
    let ctx = Context::new();
    let ctx2 = ctx.clone();
    within("closing then dropping", move || -> Result<()> {
        for _ in 0..20 {
            let server = socket(&ctx2, SocketType::Router)?;
            let events = server.monitor_events(Event::ALL)?;
            let endpoint = bind_tcp(&server)?;
            let client = socket(&ctx2, SocketType::Dealer)?;
            client.connect(&endpoint)?;
            // The server closes with a connection and a listener open: their
            // teardown events come after zmq_close returns.
            drop(server);
            drop(events);
            drop(client);
        }
        Ok(())
    })?;
    within("terminating the context", move || ctx.term())?;
    Ok(())
}

#[cfg(all(feature = "tokio", unix))]
#[test]
fn an_async_monitor_outside_a_runtime_fails_without_blocking_libzmq() -> Result<()> {
    // The PAIR socket used to be lost (closed) with the monitor still on:
    // the LISTENING event of the bind below then blocked for good.
    let ctx = Context::new();
    let ctx2 = ctx.clone();
    within("bind after a failed AsyncMonitor", move || -> Result<()> {
        let server = socket(&ctx2, SocketType::Pull)?;
        let events = server.monitor_events(Event::ALL)?;
        assert!(matches!(
            zmqx::asynchronous::AsyncMonitor::new(events),
            Err(Error::Reactor(_))
        ));
        let endpoint = bind_tcp(&server)?;
        // Connections make the I/O thread send events too, after libzmq
        // has noticed the PAIR socket is gone.
        for _ in 0..3 {
            let client = socket(&ctx2, SocketType::Push)?;
            let handshake = client.monitor_events(Event::HANDSHAKE_SUCCEEDED)?;
            client.connect(&endpoint)?;
            next(&handshake)?;
            client.send("x")?;
            assert_eq!(server.recv_msg()?, "x");
        }
        Ok(())
    })?;
    within("terminating the context", move || ctx.term())?;
    Ok(())
}

#[test]
fn a_given_away_socket_keeps_its_monitor_readable() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let events = s.monitor_events(Event::ALL)?;
    bind_tcp(&s)?;
    let raw = s.into_raw();
    // The Monitor cannot stop a socket it no longer knows to be open.
    assert!(matches!(events.stop(), Err(Error::InvalidInput { .. })));
    // SAFETY: `raw` is a live socket given away above, closed once.
    unsafe { zmqx::sys::zmq_close(raw) };
    // Its new owner closed it: the stream ends with MONITOR_STOPPED.
    let got = within("reading a given-away socket's monitor", move || {
        events
            .map(|e| e.map(|e| e.kind))
            .collect::<Result<Vec<_>>>()
    })?;
    assert_eq!(got.last(), Some(&EventKind::MonitorStopped));
    Ok(())
}

#[test]
fn dropping_a_live_monitor_never_blocks_libzmq() -> Result<()> {
    // libzmq sends events with a blocking send: had the dropped Monitor's
    // PAIR socket simply been closed, the LISTENING event of the bind below
    // would block this thread forever.
    let ctx = Context::new();
    let ctx2 = ctx.clone();
    within("bind after dropping the monitor", move || -> Result<()> {
        let server = socket(&ctx2, SocketType::Rep)?;
        let events = server.monitor_events(Event::ALL)?;
        drop(events);
        let endpoint = bind_tcp(&server)?;
        // Connections make the I/O thread send events too.
        for _ in 0..3 {
            let client = socket(&ctx2, SocketType::Req)?;
            let client_events = client.monitor_events(Event::HANDSHAKE_SUCCEEDED)?;
            client.connect(&endpoint)?;
            next(&client_events)?;
            client.send("x")?;
            assert_eq!(server.recv_msg()?, "x");
            server.send("y")?;
            client.recv_msg()?;
        }
        Ok(())
    })?;
    // Every socket is closed, and so is the drained PAIR once libzmq sent
    // MONITOR_STOPPED: the context terminates.
    within("terminating the context", move || ctx.term())?;
    Ok(())
}

#[test]
fn iteration_ends_when_the_context_shuts_down() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let events = s.monitor_events(Event::ALL)?;
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut n = 0;
        for e in events {
            if e.is_ok() {
                n += 1;
            }
        }
        let _ = tx.send(n);
    });
    ctx.shutdown()?;
    let got = rx.recv_timeout(TIMEOUT);
    assert!(got.is_ok(), "the iterator did not end on context shutdown");
    reader.join().expect("reader thread");
    Ok(())
}

#[test]
fn monitor_socket_is_exposed_for_polling() -> Result<()> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    let events = s.monitor_events(Event::ALL)?;
    assert!(events.endpoint().starts_with("inproc://"));
    bind_tcp(&s)?;
    let ready = events.socket().poll(zmqx::PollEvents::POLLIN, WAIT)?;
    assert!(ready.contains(zmqx::PollEvents::POLLIN));
    assert_eq!(
        events.try_next_event()?.map(|e| e.kind),
        Some(EventKind::Listening)
    );
    Ok(())
}

// ---- malformed monitor messages ----

#[test]
fn malformed_messages_on_a_socket() -> Result<()> {
    let ctx = Context::new();
    let endpoint = inproc("fake-monitor");
    let sender = socket(&ctx, SocketType::Pair)?;
    sender.bind(&endpoint)?;
    let receiver = socket(&ctx, SocketType::Pair)?;
    receiver.connect(&endpoint)?;

    let mut head = 32u16.to_ne_bytes().to_vec();
    head.extend_from_slice(&17u32.to_ne_bytes());
    let cases: Vec<(Vec<Vec<u8>>, MalformedEvent)> = vec![
        (vec![b"only one".to_vec()], MalformedEvent::FrameCount(1)),
        (
            vec![head.clone(), b"tcp://x".to_vec(), b"extra".to_vec()],
            MalformedEvent::FrameCount(3),
        ),
        (
            vec![vec![1, 0, 0], b"x".to_vec()],
            MalformedEvent::EventFrameSize(3),
        ),
        (
            vec![vec![0; 8], b"x".to_vec()],
            MalformedEvent::EventFrameSize(8),
        ),
    ];
    for (frames, expected) in cases {
        sender.send_multipart(&frames)?;
        match recv_monitor_message(&receiver) {
            Err(Error::MonitorEvent {
                reason,
                frames: back,
            }) => {
                assert_eq!(reason, expected);
                assert_eq!(back.to_vecs(), frames, "the frames come back");
            }
            other => panic!("expected a MonitorEvent error, got {other:?}"),
        }
    }
    // Non-UTF-8 endpoint.
    sender.send_multipart([&head[..], b"tcp://\xff"])?;
    let err = recv_monitor_message(&receiver).unwrap_err();
    assert!(matches!(
        err,
        Error::MonitorEvent {
            reason: MalformedEvent::EndpointNotUtf8(_),
            ..
        }
    ));
    assert_eq!(
        std::io::Error::from(err).kind(),
        std::io::ErrorKind::InvalidData
    );
    // And a good one after all that.
    sender.send_multipart([&head[..], b"tcp://127.0.0.1:1"])?;
    let e = recv_monitor_message(&receiver)?;
    assert_eq!(e.kind, EventKind::Accepted);
    assert_eq!(e.value, EventValue::Fd(17));
    Ok(())
}

/// xorshift64*: a deterministic PRNG, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_frames_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut ok, mut bad) = (0, 0);
    for round in 0..20_000 {
        let count = [0, 1, 2, 2, 2, 3, 4][rng.below(7)];
        let frames: Vec<Vec<u8>> = (0..count)
            .map(|i| {
                // Bias toward the valid shape so both paths are exercised.
                let len = if i == 0 && rng.below(2) == 0 {
                    6
                } else {
                    rng.below(12)
                };
                let mut f = rng.bytes(len);
                if i == 1 && rng.below(2) == 0 {
                    f.iter_mut().for_each(|b| *b &= 0x7f); // ASCII
                }
                f
            })
            .collect();
        let messages: Vec<Message> = frames.iter().map(|f| Message::from(&f[..])).collect();
        let valid = count == 2 && frames[0].len() == 6 && std::str::from_utf8(&frames[1]).is_ok();
        match parse_monitor_message(&messages) {
            Ok(e) => {
                assert!(valid, "round {round}: accepted {frames:?}");
                let id = u16::from_ne_bytes([frames[0][0], frames[0][1]]);
                let raw = u32::from_ne_bytes(frames[0][2..6].try_into().expect("4 bytes"));
                assert_eq!(e.id(), id);
                assert_eq!(e.value.raw(), raw);
                assert_eq!(e.endpoint.as_bytes(), &frames[1][..]);
                let _ = e.to_string();
                ok += 1;
            }
            Err(Error::MonitorEvent { frames: back, .. }) => {
                assert!(!valid, "round {round}: rejected {frames:?}");
                assert_eq!(back.to_vecs(), frames);
                bad += 1;
            }
            Err(other) => panic!("round {round}: unexpected error {other:?}"),
        }
    }
    assert!(ok > 1000 && bad > 1000, "ok {ok}, bad {bad}");
}

#[test]
fn every_kind_and_unknown_ids_parse() -> Result<()> {
    for id in 0..=u16::MAX {
        let mut head = id.to_ne_bytes().to_vec();
        head.extend_from_slice(&400u32.to_ne_bytes());
        let e = parse_monitor_message(&[Message::from(head), Message::from("e")])?;
        assert_eq!(e.id(), id);
        let known = EventKind::all().any(|k| k.id() == id);
        assert_eq!(!matches!(e.kind, EventKind::Unknown(_)), known, "id {id}");
    }
    assert_eq!(EventKind::all().count(), 15);
    Ok(())
}
