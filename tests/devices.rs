//! `zmqx::devices`: a device in a background thread. Covers what pyzmq's
//! `test_device.py`, `test_monqueue.py` and `test_proxy_steerable.py` check
//! (the latter against the documented semantics), plus errors reaching the
//! owner, stops that never hang and drops that never wait.

mod common;

use std::cell::RefCell;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, socket};
use zmqx::devices::{Device, Error, Kind, Result, Side};
use zmqx::proxy::{ProxyCommand, ProxyStats};
use zmqx::{Context, DeviceType, OptionValue, PollEvents, Socket, SocketOption, SocketType};

const LOCAL: &str = "tcp://127.0.0.1";
/// How long "does not arrive" is watched for: the wait is the assertion.
const QUIET: Duration = Duration::from_millis(300);

fn tcp(port: u16) -> String {
    format!("{LOCAL}:{port}")
}

fn recv_strings(s: &Socket) -> zmqx::Result<Vec<String>> {
    Ok(s.recv_multipart()?
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect())
}

/// A TCP port that was free a moment ago (bound by the OS, then released).
fn released_port() -> Result<u16> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pair)?;
    let ep = s.bind(&format!("{LOCAL}:*"))?;
    Ok(ep
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port"))
}

/// `join` with the test timeout; the device must have ended cleanly.
fn joined(dev: &mut Device) -> Result<()> {
    assert!(dev.join(Some(TIMEOUT))?, "the device did not end in time");
    Ok(())
}

/// `stop` with the test timeout; the device must have ended cleanly.
fn stopped(dev: &mut Device) -> Result<()> {
    assert!(dev.stop(TIMEOUT)?, "the device did not end in time");
    Ok(())
}

/// The libzmq error inside a device error.
fn root<T: std::fmt::Debug>(r: &Result<T>) -> Option<&zmqx::Error> {
    match r {
        Err(Error::Zmq(e)) => Some(e.root()),
        _ => None,
    }
}

/// Whether a call failed as a misuse (zmqx's InvalidInput).
fn invalid<T>(r: &Result<T>) -> bool {
    matches!(r, Err(Error::Zmq(zmqx::Error::InvalidInput { .. })))
}

#[test]
fn kinds_and_socket_types() -> Result<()> {
    for t in [
        DeviceType::Streamer,
        DeviceType::Forwarder,
        DeviceType::Queue,
    ] {
        let d = Device::new(t.into(), SocketType::Pair, SocketType::Pair)?;
        assert_eq!(d.kind().device_type(), Some(t));
    }
    let d = Device::new(Kind::Queue, SocketType::Sub, SocketType::Pub)?;
    assert_eq!(d.socket_type(Side::In), Some(SocketType::Sub));
    assert_eq!(d.socket_type(Side::Out), Some(SocketType::Pub));
    assert_eq!(d.socket_type(Side::Capture), None);
    assert!(!d.is_running());
    let single = Device::new(Kind::Queue, SocketType::Rep, None)?;
    assert_eq!(single.socket_type(Side::Out), None);
    let p = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Pub)
        .control(SocketType::Rep)
        .spawn()?;
    assert_eq!(
        Side::ALL.map(|side| p.socket_type(side)),
        [
            Some(SocketType::Pull),
            Some(SocketType::Push),
            Some(SocketType::Pub),
            Some(SocketType::Rep)
        ]
    );
    assert_eq!(p.kind(), &Kind::Proxy);
    Ok(())
}

#[test]
fn single_socket_device_connect_in_and_out() -> Result<()> {
    let ctx = Context::new();
    for (text, side) in [("hello", Side::In), ("hello again", Side::Out)] {
        let mut dev = Device::new(Kind::Queue, SocketType::Rep, None)?;
        let req = socket(&ctx, SocketType::Req)?;
        let port = req.bind_to_any_port(LOCAL)?;
        // Without an out socket, Side::Out names the in socket.
        dev.connect(side, &tcp(port))?;
        dev.start()?;
        req.send(text)?;
        assert_eq!(req.recv_string()?, text);
        stopped(&mut dev)?;
    }
    Ok(())
}

#[test]
fn single_socket_device_bind_to_any_port_before_start() -> Result<()> {
    let ctx = Context::new();
    for text in ["hello", "hello again"] {
        let mut dev = Device::new(Kind::Queue, SocketType::Rep, None)?;
        let port = dev.bind_to_any_port(Side::In, LOCAL)?;
        // The port is really bound already: connecting before start works.
        let req = socket(&ctx, SocketType::Req)?;
        req.connect(&tcp(port))?;
        dev.start()?;
        req.send(text)?;
        assert_eq!(req.recv_string()?, text);
        // Dropping a running device stops it.
    }
    Ok(())
}

#[test]
fn bind_to_random_port_with_a_range() -> Result<()> {
    let mut dev = Device::new(Kind::Streamer, SocketType::Pull, SocketType::Push)?;
    let port = released_port()?;
    let range = port..port + 1;
    assert_eq!(
        dev.bind_to_random_port(Side::In, LOCAL, range.clone(), 10)?,
        port
    );
    // The in socket holds it now: the out socket cannot get it.
    match dev.bind_to_random_port(Side::Out, LOCAL, range, 10) {
        Err(Error::Zmq(zmqx::Error::Bind {
            min, max, tries, ..
        })) => {
            assert_eq!((min, max, tries), (port, port + 1, 10));
        }
        other => panic!("expected a Bind error, got {other:?}"),
    }
    // An explicit bind returns the endpoint actually bound.
    let ep = dev.bind(Side::Out, &format!("{LOCAL}:*"))?;
    assert!(
        ep.starts_with("tcp://127.0.0.1:") && !ep.ends_with(":*"),
        "{ep}"
    );
    Ok(())
}

#[test]
fn proxy_forwards_and_captures() -> Result<()> {
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Push)
        .spawn()?;
    let port_in = dev.bind_to_any_port(Side::In, LOCAL)?;
    let port_out = dev.bind_to_any_port(Side::Out, LOCAL)?;
    let port_mon = dev.bind_to_any_port(Side::Capture, LOCAL)?;
    assert_eq!(dev.socket_type(Side::Capture), Some(SocketType::Push));
    dev.start()?;
    assert!(dev.is_running());

    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&tcp(port_out))?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&tcp(port_mon))?;
    push.send_multipart(["hello", "world"])?;
    assert_eq!(recv_strings(&pull)?, ["hello", "world"]);
    assert_eq!(recv_strings(&mon)?, ["hello", "world"]);

    assert!(!dev.join(Some(Duration::ZERO))?, "still running");
    stopped(&mut dev)?;
    assert!(!dev.is_running());
    // Joining and stopping again report the same clean end.
    assert!(dev.join(None)?);
    assert!(dev.stop(Duration::ZERO)?);
    Ok(())
}

#[test]
fn proxy_with_a_shared_context_and_inproc() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = (inproc("shared-in"), inproc("shared-out"));
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Pub)
        .context(&ctx)
        .spawn()?;
    dev.bind(Side::In, &a)?;
    dev.bind(Side::Out, &b)?;
    dev.bind(Side::Capture, &inproc("shared-mon"))?;
    dev.start()?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&a)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&b)?;
    push.send("inproc")?;
    assert_eq!(pull.recv_string()?, "inproc");
    // stop works without touching the shared context.
    stopped(&mut dev)?;
    // The shared context is still alive and usable.
    assert!(!ctx.is_terminated());
    let (x, y) = (
        socket(&ctx, SocketType::Pair)?,
        socket(&ctx, SocketType::Pair)?,
    );
    let ep = inproc("after-stop");
    x.bind(&ep)?;
    y.connect(&ep)?;
    x.send("still usable")?;
    assert_eq!(y.recv_string()?, "still usable");
    Ok(())
}

/// A running steerable proxy over TCP with its peers.
struct Steerable {
    dev: Device,
    _ctx: Context,
    push: Socket,
    pull: Socket,
    mon: Socket,
    ctrl: Socket,
}

fn steerable(ctrl_type: SocketType, peer: SocketType) -> Result<Steerable> {
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Push)
        .control(ctrl_type)
        .spawn()?;
    let p_in = dev.bind_to_any_port(Side::In, LOCAL)?;
    let p_out = dev.bind_to_any_port(Side::Out, LOCAL)?;
    let p_mon = dev.bind_to_any_port(Side::Capture, LOCAL)?;
    let p_ctrl = dev.bind_to_any_port(Side::Control, LOCAL)?;
    dev.start()?;
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(p_in))?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&tcp(p_out))?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&tcp(p_mon))?;
    let ctrl = socket(&ctx, peer)?;
    ctrl.connect(&tcp(p_ctrl))?;
    Ok(Steerable {
        dev,
        _ctx: ctx,
        push,
        pull,
        mon,
        ctrl,
    })
}

#[test]
fn steerable_terminate_ends_the_device() -> Result<()> {
    let mut s = steerable(SocketType::Pair, SocketType::Pair)?;
    s.push.send("hello")?;
    assert_eq!(s.pull.recv_string()?, "hello");
    assert_eq!(s.mon.recv_string()?, "hello");
    s.ctrl.send(ProxyCommand::Terminate.as_bytes())?;
    joined(&mut s.dev)
}

#[test]
fn steerable_statistics() -> Result<()> {
    let mut s = steerable(SocketType::Pair, SocketType::Pair)?;
    s.push.send("hello")?;
    s.push.send_multipart(["multi", "part"])?;
    assert_eq!(s.pull.recv_string()?, "hello");
    assert_eq!(recv_strings(&s.pull)?, ["multi", "part"]);
    s.ctrl.send("STATISTICS")?;
    let frames = s.ctrl.recv_multipart()?;
    let values: Vec<u64> = frames
        .iter()
        .map(|f| u64::from_ne_bytes(f[..].try_into().expect("8 bytes")))
        .collect();
    // Whole messages: 2 in, 2 out; bytes: 5 + 9.
    assert_eq!(values, [2, 14, 0, 0, 0, 0, 2, 14]);
    s.ctrl.send("TERMINATE")?;
    joined(&mut s.dev)
}

#[test]
fn steerable_pause_and_resume_with_a_rep_control() -> Result<()> {
    let mut s = steerable(SocketType::Rep, SocketType::Req)?;
    let ask = |c: ProxyCommand| -> zmqx::Result<()> {
        s.ctrl.send(c.as_bytes())?;
        let reply = s.ctrl.recv_multipart()?;
        assert!(reply.len() == 1 && reply[0].is_empty(), "{c:?}: {reply:?}");
        Ok(())
    };
    ask(ProxyCommand::Pause)?;
    s.push.send("held")?;
    let ready = s.pull.poll(PollEvents::POLLIN, Some(QUIET))?;
    assert!(ready.is_empty(), "PAUSE did not pause");
    ask(ProxyCommand::Resume)?;
    assert_eq!(s.pull.recv_string()?, "held");
    let stats = ProxyStats::request(&s.ctrl)?;
    assert_eq!(stats.frontend.messages_received, 1);
    ask(ProxyCommand::Terminate)?;
    joined(&mut s.dev)
}

#[test]
fn every_side_binds_to_a_random_port_in_a_range() -> Result<()> {
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Push)
        .control(SocketType::Pair)
        .spawn()?;
    let ports = [
        released_port()?,
        released_port()?,
        released_port()?,
        released_port()?,
    ];
    let mut got = [0; 4];
    for (i, side) in Side::ALL.into_iter().enumerate() {
        got[i] = dev.bind_to_random_port(side, LOCAL, ports[i]..ports[i] + 1, 5)?;
    }
    assert_eq!(got, ports);
    Ok(())
}

#[test]
fn a_monitored_queue_can_be_steered_too() -> Result<()> {
    // A control socket on any kind: here TERMINATE ends a monitored queue.
    let ctx = Context::new();
    let mut dev = Device::builder(
        Kind::monitored_queue("in", "out"),
        SocketType::Pull,
        SocketType::Push,
    )
    .capture(SocketType::Pub)
    .control(SocketType::Pair)
    .context(&ctx)
    .spawn()?;
    let control = inproc("mq-control");
    dev.bind(Side::Control, &control)?;
    dev.start()?;
    let ctrl = socket(&ctx, SocketType::Pair)?;
    ctrl.connect(&control)?;
    ctrl.send(ProxyCommand::Terminate.as_bytes())?;
    joined(&mut dev)
}

#[test]
fn configuration_errors_come_back_at_once() -> Result<()> {
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Pub)
        .spawn()?;
    assert!(matches!(
        root(&dev.bind(Side::In, "tcp://nonsense")),
        Some(zmqx::Error::InvalidArgument)
    ));
    assert!(matches!(
        root(&dev.connect(Side::Out, "nope://x")),
        Some(zmqx::Error::ProtocolNotSupported)
    ));
    assert!(invalid(&dev.set(
        Side::Capture,
        SocketOption::LINGER,
        OptionValue::Bytes(vec![1])
    )));
    // A side the device does not have.
    let r = dev.bind(Side::Control, "inproc://no-control");
    match &r {
        Err(Error::Zmq(zmqx::Error::InvalidInput { reason, .. })) => {
            assert!(reason.contains("control"), "{reason}")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // A closure's own error comes back as it is.
    assert!(matches!(
        root(&dev.configure(Side::Capture, |_| Err(zmqx::Error::NotSupported))),
        Some(zmqx::Error::NotSupported)
    ));
    // Typed setters through configure; the device is still fine.
    dev.configure(Side::In, |s| s.set_rcvhwm(10))?;
    dev.set(Side::Out, SocketOption::SNDHWM, OptionValue::Int(20))?;
    let port = dev.bind_to_any_port(Side::In, LOCAL)?;
    // Binding the same port again in the same device fails, typed.
    assert!(matches!(
        root(&dev.bind(Side::Out, &tcp(port))),
        Some(zmqx::Error::AddressInUse)
    ));
    dev.start()?;
    assert!(invalid(&dev.bind(Side::In, &format!("{LOCAL}:*"))));
    assert!(invalid(&dev.start()));
    Ok(())
}

#[test]
fn a_monitored_queue_needs_a_capture_and_an_out_socket() {
    let no_capture = Device::new(
        Kind::monitored_queue("in", "out"),
        SocketType::Pair,
        SocketType::Pair,
    );
    assert!(invalid(&no_capture));
    let single = Device::builder(Kind::monitored_queue("in", "out"), SocketType::Pair, None)
        .capture(SocketType::Pub)
        .spawn();
    assert!(invalid(&single));
}

#[test]
fn a_panicking_configure_closure_is_reported_and_the_device_lives_on() -> Result<()> {
    let mut dev = Device::new(Kind::Queue, SocketType::Rep, None)?;
    match dev.configure(Side::In, |_| panic!("configuration bug")) {
        Err(Error::Panicked { message }) => assert_eq!(message, "configuration bug"),
        other => panic!("expected Panicked, got {other:?}"),
    }
    let port = dev.bind_to_any_port(Side::In, LOCAL)?;
    dev.start()?;
    let ctx = Context::new();
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&tcp(port))?;
    req.send("alive")?;
    assert_eq!(req.recv_string()?, "alive");
    Ok(())
}

#[test]
fn a_bad_control_type_fails_start_and_the_device_stays_configurable() -> Result<()> {
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Pub)
        .control(SocketType::Pub)
        .spawn()?;
    match dev.start() {
        Err(Error::Zmq(zmqx::Error::InvalidInput { what, .. })) => {
            assert!(what.contains("control"), "{what}")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!dev.is_running());
    dev.bind(Side::In, &format!("{LOCAL}:*"))?;
    Ok(())
}

#[test]
fn an_error_in_the_running_device_reaches_join() -> Result<()> {
    // PULL in, REQ out: the second message forwarded to REQ breaks its
    // send/receive alternation (EFSM) and ends the device with that error.
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let rep_port = rep.bind_to_any_port(LOCAL)?;
    let mut dev = Device::new(Kind::Streamer, SocketType::Pull, SocketType::Req)?;
    let port_in = dev.bind_to_any_port(Side::In, LOCAL)?;
    dev.connect(Side::Out, &tcp(rep_port))?;
    dev.start()?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    push.send("one")?;
    assert_eq!(rep.recv_string()?, "one");
    push.send("two")?;
    match dev.join(Some(TIMEOUT)) {
        Err(Error::Zmq(zmqx::Error::InvalidState)) => {}
        other => panic!("expected the device's EFSM, got {other:?}"),
    }
    // Reported once; the device is over.
    assert!(!dev.is_running());
    assert!(dev.join(None)?);
    assert!(dev.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn stop_never_hangs() -> Result<()> {
    // A device whose capture can never take its copy: forwarding is held
    // up there, yet stop ends it at once.
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Push)
        .spawn()?;
    let port_in = dev.bind_to_any_port(Side::In, LOCAL)?;
    let port_out = dev.bind_to_any_port(Side::Out, LOCAL)?;
    dev.bind(Side::Capture, &format!("{LOCAL}:*"))?;
    dev.start()?;
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&tcp(port_out))?;
    push.send("first")?;
    assert_eq!(pull.recv_string()?, "first");
    push.send("second")?;
    let start = Instant::now();
    stopped(&mut dev)?;
    assert!(start.elapsed() < TIMEOUT);
    Ok(())
}

#[test]
fn stop_with_a_zero_timeout_only_asks() -> Result<()> {
    let mut dev = Device::new(Kind::Queue, SocketType::Pair, SocketType::Pair)?;
    dev.start()?;
    // The request is sent; the thread may or may not have ended already.
    let _ = dev.stop(Duration::ZERO)?;
    stopped(&mut dev)?;
    // A device never started ends by stop too.
    let mut idle = Device::new(Kind::Queue, SocketType::Pair, SocketType::Pair)?;
    stopped(&mut idle)?;
    assert!(invalid(&idle.start()));
    Ok(())
}

thread_local! {
    /// Set in a device thread by `configure`: dropped when that thread ends.
    static THREAD_END: RefCell<Option<mpsc::Sender<()>>> = const { RefCell::new(None) };
}

/// A receiver that disconnects when the device's thread has ended (its
/// thread-locals are destroyed then).
fn watch_thread(dev: &mut Device) -> Result<mpsc::Receiver<()>> {
    let (tx, rx) = mpsc::channel();
    dev.configure(Side::In, move |_| {
        THREAD_END.with(|t| *t.borrow_mut() = Some(tx));
        Ok(())
    })?;
    Ok(rx)
}

/// Waits (bounded) for the thread watched by `watch_thread` to end.
fn thread_ended(rx: &mpsc::Receiver<()>, within: Duration) -> bool {
    matches!(
        rx.recv_timeout(within),
        Err(mpsc::RecvTimeoutError::Disconnected)
    )
}

#[test]
fn drop_returns_at_once_and_the_thread_ends_by_itself() -> Result<()> {
    // The out socket holds a message for a peer that never comes, with a
    // linger of 1.5 s: terminating the device's own context waits for it.
    // Dropping the device must not: the thread ends the context, then
    // itself.
    let nobody = released_port()?;
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Push)
        .spawn()?;
    let ended = watch_thread(&mut dev)?;
    dev.set(Side::Out, SocketOption::LINGER, OptionValue::Int(1500))?;
    dev.connect(Side::Out, &tcp(nobody))?;
    let port_in = dev.bind_to_any_port(Side::In, LOCAL)?;
    let port_capture = dev.bind_to_any_port(Side::Capture, LOCAL)?;
    dev.start()?;
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    let capture = socket(&ctx, SocketType::Pull)?;
    capture.connect(&tcp(port_capture))?;
    push.send("queued for nobody")?;
    // The copy comes once the out socket has taken the message.
    assert_eq!(capture.recv_string()?, "queued for nobody");

    let start = Instant::now();
    drop(dev);
    let took = start.elapsed();
    assert!(took < Duration::from_millis(200), "drop took {took:?}");
    assert!(
        thread_ended(&ended, TIMEOUT),
        "the device thread did not end after the drop"
    );
    Ok(())
}

#[test]
fn dropping_a_device_ends_its_thread_in_every_state() -> Result<()> {
    // Not started.
    let mut dev = Device::new(Kind::Queue, SocketType::Router, SocketType::Dealer)?;
    let ended = watch_thread(&mut dev)?;
    drop(dev);
    assert!(thread_ended(&ended, TIMEOUT), "unstarted");
    // Running, with a shared context that stays alive.
    let ctx = Context::new();
    let mut dev = Device::builder(Kind::Queue, SocketType::Router, SocketType::Dealer)
        .context(&ctx)
        .spawn()?;
    let ended = watch_thread(&mut dev)?;
    dev.start()?;
    let start = Instant::now();
    drop(dev);
    assert!(start.elapsed() < Duration::from_millis(200));
    assert!(thread_ended(&ended, TIMEOUT), "running");
    assert!(!ctx.is_terminated());
    // Already ended by TERMINATE, not joined.
    let mut dev = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .control(SocketType::Pair)
        .context(&ctx)
        .spawn()?;
    let ended = watch_thread(&mut dev)?;
    let control = inproc("drop-control");
    dev.bind(Side::Control, &control)?;
    dev.start()?;
    let ctrl = socket(&ctx, SocketType::Pair)?;
    ctrl.connect(&control)?;
    ctrl.send("TERMINATE")?;
    assert!(thread_ended(&ended, TIMEOUT), "terminated");
    drop(dev);
    Ok(())
}

#[test]
fn shutting_down_the_device_context_ends_it_cleanly() -> Result<()> {
    let mut dev = Device::builder(
        Kind::monitored_queue("in", "out"),
        SocketType::Pair,
        SocketType::Pair,
    )
    .capture(SocketType::Pub)
    .spawn()?;
    dev.bind(Side::In, &format!("{LOCAL}:*"))?;
    dev.start()?;
    dev.context().shutdown()?;
    joined(&mut dev)
}

/// pyzmq's test_monqueue setup: PAIR alice and bob bound by the test, the
/// device connecting to them, and a SUB monitor that waits until its
/// subscription is in place.
struct Queue {
    dev: Device,
    _ctx: Context,
    alice: Socket,
    bob: Socket,
    mon: Socket,
}

fn queue(mon_sub: &[u8], in_prefix: &[u8], out_prefix: &[u8]) -> Result<Queue> {
    let ctx = Context::new();
    let mut dev = Device::builder(
        Kind::monitored_queue(in_prefix, out_prefix),
        SocketType::Pair,
        SocketType::Pair,
    )
    .capture(SocketType::Pub)
    .spawn()?;
    let alice = socket(&ctx, SocketType::Pair)?;
    let a = alice.bind_to_any_port(LOCAL)?;
    let bob = socket(&ctx, SocketType::Pair)?;
    let b = bob.bind_to_any_port(LOCAL)?;
    let mon = socket(&ctx, SocketType::Sub)?;
    let m = mon.bind_to_any_port(LOCAL)?;
    mon.subscribe(mon_sub)?;
    dev.connect(Side::In, &tcp(a))?;
    dev.connect(Side::Out, &tcp(b))?;
    dev.connect(Side::Capture, &tcp(m))?;
    dev.start()?;
    let q = Queue {
        dev,
        _ctx: ctx,
        alice,
        bob,
        mon,
    };
    q.wait_for_monitor(mon_sub)?;
    Ok(q)
}

impl Queue {
    /// Sends probes through the queue (from the side whose prefix the
    /// subscription matches) until the monitor sees one, so no later
    /// monitor message is lost to the PUB/SUB handshake; then drains them.
    fn wait_for_monitor(&self, mon_sub: &[u8]) -> Result<()> {
        let from_out = !mon_sub.is_empty() && mon_sub.starts_with(b"out");
        let (sender, receiver) = if from_out {
            (&self.bob, &self.alice)
        } else {
            (&self.alice, &self.bob)
        };
        let mut probes = 0;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            sender.send_multipart(["probe"])?;
            probes += 1;
            if !self
                .mon
                .poll(PollEvents::POLLIN, Some(Duration::from_millis(50)))?
                .is_empty()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the monitor never got a message");
        }
        for _ in 0..probes {
            assert_eq!(recv_strings(receiver)?, ["probe"]);
        }
        // Copies of the last probes may still be on their way: a final
        // "sync" message, now surely seen by the monitor, comes after them.
        sender.send("sync")?;
        assert_eq!(recv_strings(receiver)?, ["sync"]);
        loop {
            let m = recv_strings(&self.mon)?;
            match m.last().map(String::as_str) {
                Some("sync") => return Ok(()),
                Some("probe") => {}
                _ => panic!("unexpected monitor message {m:?}"),
            }
        }
    }

    fn finish(mut self) -> Result<()> {
        stopped(&mut self.dev)
    }
}

fn split(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

fn with_prefix(prefix: &str, parts: &[String]) -> Vec<String> {
    let mut v = vec![prefix.to_string()];
    v.extend_from_slice(parts);
    v
}

#[test]
fn monqueue_reply_and_queue() -> Result<()> {
    let q = queue(b"", b"in", b"out")?;
    let sent = [
        split("hello bob"),
        split("hello again"),
        split("hello again and again"),
    ];
    for m in &sent {
        q.alice.send_multipart(m)?;
    }
    for m in &sent {
        assert_eq!(&recv_strings(&q.bob)?, m);
    }
    let reply = split("hello alice");
    q.bob.send_multipart(&reply)?;
    assert_eq!(recv_strings(&q.alice)?, reply);
    q.finish()
}

#[test]
fn monqueue_monitor_and_prefixes() -> Result<()> {
    for (in_prefix, out_prefix) in [("in", "out"), ("foo", "bar")] {
        let q = queue(b"", in_prefix.as_bytes(), out_prefix.as_bytes())?;
        let sent = [
            split("hello bob"),
            split("hello again"),
            split("hello again and again"),
        ];
        for m in &sent {
            q.alice.send_multipart(m)?;
        }
        for m in &sent {
            assert_eq!(&recv_strings(&q.bob)?, m);
        }
        let reply = split("hello alice");
        q.bob.send_multipart(&reply)?;
        assert_eq!(recv_strings(&q.alice)?, reply);
        for m in &sent {
            assert_eq!(recv_strings(&q.mon)?, with_prefix(in_prefix, m));
        }
        assert_eq!(recv_strings(&q.mon)?, with_prefix(out_prefix, &reply));
        q.finish()?;
    }
    Ok(())
}

#[test]
fn monqueue_monitor_subscribe_filters_by_prefix() -> Result<()> {
    let q = queue(b"out", b"in", b"out")?;
    for m in [split("hello bob"), split("hello again")] {
        q.alice.send_multipart(&m)?;
        assert_eq!(recv_strings(&q.bob)?, m);
    }
    let reply = split("hello alice");
    q.bob.send_multipart(&reply)?;
    assert_eq!(recv_strings(&q.alice)?, reply);
    // Only the "out" message reaches this subscriber.
    assert_eq!(recv_strings(&q.mon)?, with_prefix("out", &reply));
    q.finish()
}

#[test]
fn monqueue_router_to_router() -> Result<()> {
    let mut dev = Device::builder(
        Kind::monitored_queue("in", "out"),
        SocketType::Router,
        SocketType::Router,
    )
    .capture(SocketType::Push)
    .spawn()?;
    for side in [Side::In, Side::Out, Side::Capture] {
        dev.set(side, SocketOption::LINGER, OptionValue::Int(0))?;
    }
    let porta = dev.bind_to_any_port(Side::In, LOCAL)?;
    let portb = dev.bind_to_any_port(Side::Out, LOCAL)?;
    let portm = dev.bind_to_any_port(Side::Capture, LOCAL)?;
    dev.start()?;
    let ctx = Context::new();
    let a = socket(&ctx, SocketType::Dealer)?;
    a.set_routing_id(b"a")?;
    a.connect(&tcp(porta))?;
    let b = socket(&ctx, SocketType::Dealer)?;
    b.set_routing_id(b"b")?;
    b.connect(&tcp(portb))?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&tcp(portm))?;

    // Once the monitor shows b's ping, the out ROUTER knows b.
    b.send_multipart(["nobody", "ping"])?;
    assert_eq!(recv_strings(&mon)?, ["out", "nobody", "b", "ping"]);

    a.send_multipart(["b", "hello", "there"])?;
    let bmsg = recv_strings(&b)?;
    assert_eq!(bmsg, ["a", "hello", "there"]);
    b.send_multipart(&bmsg)?;
    assert_eq!(recv_strings(&a)?, ["b", "hello", "there"]);
    assert_eq!(recv_strings(&mon)?, ["in", "b", "a", "hello", "there"]);
    assert_eq!(recv_strings(&mon)?, ["out", "a", "b", "hello", "there"]);
    stopped(&mut dev)
}

#[test]
fn monqueue_default_args_start_and_stop() -> Result<()> {
    let mut dev = Device::builder(
        Kind::monitored_queue("in", "out"),
        SocketType::Router,
        SocketType::Dealer,
    )
    .capture(SocketType::Pub)
    .spawn()?;
    dev.set(Side::In, SocketOption::LINGER, OptionValue::Int(0))?;
    dev.start()?;
    stopped(&mut dev)
}
