//! `zmqx::devices`: devices in a background thread. Covers what pyzmq's
//! `test_device.py`, `test_monqueue.py` and `test_proxy_steerable.py` check
//! (the latter against the documented semantics), plus errors reaching the
//! owner and stops that never hang.

mod common;

use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc, socket};
use zmqx::devices::{ThreadDevice, ThreadMonitoredQueue, ThreadProxy, ThreadProxySteerable};
use zmqx::proxy::{ProxyCommand, ProxyStats};
use zmqx::{
    Context, DeviceType, Error, OptionValue, PollEvents, Result, Socket, SocketOption, SocketType,
};

const LOCAL: &str = "tcp://127.0.0.1";
/// How long "does not arrive" is watched for: the wait is the assertion.
const QUIET: Duration = Duration::from_millis(300);

fn tcp(port: u16) -> String {
    format!("{LOCAL}:{port}")
}

fn recv_strings(s: &Socket) -> Result<Vec<String>> {
    Ok(s.recv_multipart()?
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect())
}

/// A TCP port that was free a moment ago (bound by the OS, then released).
fn released_port() -> Result<u16> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pair)?;
    s.bind(&format!("{LOCAL}:*"))?;
    let ep = s.last_endpoint()?;
    Ok(ep
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port"))
}

/// `join` with the test timeout; the device must have ended cleanly.
fn joined<F: FnMut(Option<Duration>) -> Result<bool>>(mut join: F) -> Result<()> {
    assert!(join(Some(TIMEOUT))?, "the device did not end in time");
    Ok(())
}

#[test]
fn device_types_and_attributes() -> Result<()> {
    for t in [
        DeviceType::Streamer,
        DeviceType::Forwarder,
        DeviceType::Queue,
    ] {
        let d = ThreadDevice::new(t, SocketType::Pair, Some(SocketType::Pair))?;
        assert_eq!(d.device_type(), t);
    }
    let d = ThreadDevice::new(DeviceType::Queue, SocketType::Sub, Some(SocketType::Pub))?;
    assert_eq!(d.in_type(), SocketType::Sub);
    assert_eq!(d.out_type(), Some(SocketType::Pub));
    assert!(!d.is_running());
    let p = ThreadProxySteerable::new(
        SocketType::Pull,
        SocketType::Push,
        SocketType::Pub,
        SocketType::Rep,
    )?;
    assert_eq!(
        (p.in_type(), p.out_type(), p.mon_type(), p.ctrl_type()),
        (
            SocketType::Pull,
            SocketType::Push,
            SocketType::Pub,
            SocketType::Rep
        )
    );
    Ok(())
}

#[test]
fn single_socket_device_connect_in_and_out() -> Result<()> {
    let ctx = Context::new();
    for (text, use_out) in [("hello", false), ("hello again", true)] {
        let mut dev = ThreadDevice::new(DeviceType::Queue, SocketType::Rep, None)?;
        let req = socket(&ctx, SocketType::Req)?;
        let port = req.bind_to_random_port(LOCAL, 49152..65535, 100)?;
        // Without an out socket, the _out methods configure the in socket.
        if use_out {
            dev.connect_out(&tcp(port))?;
        } else {
            dev.connect_in(&tcp(port))?;
        }
        dev.start()?;
        req.send(text)?;
        assert_eq!(req.recv_string()?, text);
        dev.stop();
        joined(|t| dev.join(t))?;
    }
    Ok(())
}

#[test]
fn single_socket_device_bind_to_random_port_before_start() -> Result<()> {
    let ctx = Context::new();
    for text in ["hello", "hello again"] {
        let mut dev = ThreadDevice::new(DeviceType::Queue, SocketType::Rep, None)?;
        let port = dev.bind_in_to_random_port(LOCAL)?;
        // The port is really bound already: connecting before start works.
        let req = socket(&ctx, SocketType::Req)?;
        req.connect(&tcp(port))?;
        dev.start()?;
        req.send(text)?;
        assert_eq!(req.recv_string()?, text);
        // Dropping a running device stops and joins it.
    }
    Ok(())
}

#[test]
fn bind_to_random_port_with_a_range() -> Result<()> {
    let mut dev = ThreadDevice::new(
        DeviceType::Streamer,
        SocketType::Pull,
        Some(SocketType::Push),
    )?;
    let port = released_port()?;
    let range = port..port + 1;
    assert_eq!(
        dev.bind_in_to_random_port_range(LOCAL, range.clone(), 10)?,
        port
    );
    // The in socket holds it now: the out socket cannot get it.
    match dev.bind_out_to_random_port_range(LOCAL, range, 10) {
        Err(Error::Bind {
            min, max, tries, ..
        }) => {
            assert_eq!((min, max, tries), (port, port + 1, 10));
        }
        other => panic!("expected a Bind error, got {other:?}"),
    }
    // An explicit bind returns the endpoint actually bound.
    let ep = dev.bind_out(&format!("{LOCAL}:*"))?;
    assert!(
        ep.starts_with("tcp://127.0.0.1:") && !ep.ends_with(":*"),
        "{ep}"
    );
    Ok(())
}

#[test]
fn thread_proxy_forwards_and_monitors() -> Result<()> {
    let mut dev = ThreadProxy::new(SocketType::Pull, SocketType::Push, SocketType::Push)?;
    let port_in = dev.bind_in_to_random_port(LOCAL)?;
    let port_out = dev.bind_out_to_random_port(LOCAL)?;
    let port_mon = dev.bind_mon_to_random_port(LOCAL)?;
    assert_eq!(dev.mon_type(), SocketType::Push);
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
    dev.stop();
    joined(|t| dev.join(t))?;
    assert!(!dev.is_running());
    // Joining again reports the same clean end.
    assert!(dev.join(None)?);
    Ok(())
}

#[test]
fn thread_proxy_with_a_shared_context_and_inproc() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = (inproc("shared-in"), inproc("shared-out"));
    let mut dev =
        ThreadProxy::with_context(&ctx, SocketType::Pull, SocketType::Push, SocketType::Pub)?;
    dev.bind_in(&a)?;
    dev.bind_out(&b)?;
    dev.bind_mon(&inproc("shared-mon"))?;
    dev.start()?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&a)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&b)?;
    push.send("inproc")?;
    assert_eq!(pull.recv_string()?, "inproc");
    // stop works without touching the shared context.
    dev.stop();
    joined(|t| dev.join(t))?;
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

/// A running ThreadProxySteerable over TCP with its peers.
struct Steerable {
    dev: ThreadProxySteerable,
    _ctx: Context,
    push: Socket,
    pull: Socket,
    mon: Socket,
    ctrl: Socket,
}

fn steerable(ctrl_type: SocketType, peer: SocketType) -> Result<Steerable> {
    let mut dev = ThreadProxySteerable::new(
        SocketType::Pull,
        SocketType::Push,
        SocketType::Push,
        ctrl_type,
    )?;
    let p_in = dev.bind_in_to_random_port(LOCAL)?;
    let p_out = dev.bind_out_to_random_port(LOCAL)?;
    let p_mon = dev.bind_mon_to_random_port(LOCAL)?;
    let p_ctrl = dev.bind_ctrl_to_random_port(LOCAL)?;
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
    joined(|t| s.dev.join(t))
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
    joined(|t| s.dev.join(t))
}

#[test]
fn steerable_pause_and_resume_with_a_rep_control() -> Result<()> {
    let mut s = steerable(SocketType::Rep, SocketType::Req)?;
    let ask = |c: ProxyCommand| -> Result<()> {
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
    joined(|t| s.dev.join(t))
}

#[test]
fn steerable_bind_to_random_port_with_range() -> Result<()> {
    let mut dev = ThreadProxySteerable::new(
        SocketType::Pull,
        SocketType::Push,
        SocketType::Push,
        SocketType::Pair,
    )?;
    let ports = [
        released_port()?,
        released_port()?,
        released_port()?,
        released_port()?,
    ];
    let got = [
        dev.bind_in_to_random_port_range(LOCAL, ports[0]..ports[0] + 1, 5)?,
        dev.bind_out_to_random_port_range(LOCAL, ports[1]..ports[1] + 1, 5)?,
        dev.bind_mon_to_random_port_range(LOCAL, ports[2]..ports[2] + 1, 5)?,
        dev.bind_ctrl_to_random_port_range(LOCAL, ports[3]..ports[3] + 1, 5)?,
    ];
    assert_eq!(got, ports);
    Ok(())
}

#[test]
fn configuration_errors_come_back_at_once() -> Result<()> {
    let mut dev = ThreadProxy::new(SocketType::Pull, SocketType::Push, SocketType::Pub)?;
    assert!(matches!(
        dev.bind_in("tcp://nonsense").as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        dev.connect_out("nope://x").as_ref().map_err(Error::root),
        Err(Error::ProtocolNotSupported)
    ));
    assert!(matches!(
        dev.setsockopt_mon(SocketOption::LINGER, OptionValue::Bytes(vec![1])),
        Err(Error::InvalidInput { .. })
    ));
    // A closure's own error comes back as it is.
    assert!(matches!(
        dev.configure_mon(|_| Err(Error::NotSupported))
            .as_ref()
            .map_err(Error::root),
        Err(Error::NotSupported)
    ));
    // Typed setters through configure_*; the device is still fine.
    dev.configure_in(|s| s.set_rcvhwm(10))?;
    dev.setsockopt_out(SocketOption::SNDHWM, OptionValue::Int(20))?;
    let port = dev.bind_in_to_random_port(LOCAL)?;
    // Binding the same port again in the same device fails, typed.
    assert!(matches!(
        dev.bind_out(&tcp(port)).as_ref().map_err(Error::root),
        Err(Error::AddressInUse)
    ));
    dev.start()?;
    assert!(matches!(
        dev.bind_in(&format!("{LOCAL}:*")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(dev.start(), Err(Error::InvalidInput { .. })));
    Ok(())
}

#[test]
fn a_panicking_configure_closure_is_reported_and_the_device_lives_on() -> Result<()> {
    let mut dev = ThreadDevice::new(DeviceType::Queue, SocketType::Rep, None)?;
    match dev.configure_in(|_| panic!("configuration bug")) {
        Err(Error::DevicePanicked { message }) => assert_eq!(message, "configuration bug"),
        other => panic!("expected DevicePanicked, got {other:?}"),
    }
    let port = dev.bind_in_to_random_port(LOCAL)?;
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
    let mut dev = ThreadProxySteerable::new(
        SocketType::Pull,
        SocketType::Push,
        SocketType::Pub,
        SocketType::Pub,
    )?;
    match dev.start() {
        Err(Error::InvalidInput { what, .. }) => assert!(what.contains("control"), "{what}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!dev.is_running());
    dev.bind_in(&format!("{LOCAL}:*"))?;
    Ok(())
}

#[test]
fn an_error_in_the_running_device_reaches_join() -> Result<()> {
    // PULL in, REQ out: the second message forwarded to REQ breaks its
    // send/receive alternation (EFSM) and ends the device with that error.
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let rep_port = rep.bind_to_random_port(LOCAL, 49152..65535, 100)?;
    let mut dev = ThreadDevice::new(
        DeviceType::Streamer,
        SocketType::Pull,
        Some(SocketType::Req),
    )?;
    let port_in = dev.bind_in_to_random_port(LOCAL)?;
    dev.connect_out(&tcp(rep_port))?;
    dev.start()?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    push.send("one")?;
    assert_eq!(rep.recv_string()?, "one");
    push.send("two")?;
    match dev.join(Some(TIMEOUT)) {
        Err(Error::InvalidState) => {}
        other => panic!("expected the device's EFSM, got {other:?}"),
    }
    // Reported once; the device is over.
    assert!(!dev.is_running());
    assert!(dev.join(None)?);
    Ok(())
}

#[test]
fn stop_never_hangs() -> Result<()> {
    // A device whose monitor can never take its copy: forwarding is held up
    // there, yet stop ends it at once.
    let mut dev = ThreadProxy::new(SocketType::Pull, SocketType::Push, SocketType::Push)?;
    let port_in = dev.bind_in_to_random_port(LOCAL)?;
    let port_out = dev.bind_out_to_random_port(LOCAL)?;
    dev.bind_mon(&format!("{LOCAL}:*"))?;
    dev.start()?;
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&tcp(port_in))?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&tcp(port_out))?;
    push.send("first")?;
    assert_eq!(pull.recv_string()?, "first");
    let start = Instant::now();
    dev.stop();
    joined(|t| dev.join(t))?;
    assert!(start.elapsed() < TIMEOUT);

    // Dropping a running device returns promptly too.
    let mut dev = ThreadMonitoredQueue::new(
        SocketType::Router,
        SocketType::Dealer,
        SocketType::Pub,
        b"in",
        b"out",
    )?;
    dev.setsockopt_in(SocketOption::LINGER, OptionValue::Int(0))?;
    dev.start()?;
    let start = Instant::now();
    drop(dev);
    assert!(start.elapsed() < TIMEOUT);
    Ok(())
}

#[test]
fn shutting_down_the_device_context_ends_it_cleanly() -> Result<()> {
    let mut dev = ThreadMonitoredQueue::new(
        SocketType::Pair,
        SocketType::Pair,
        SocketType::Pub,
        b"in",
        b"out",
    )?;
    dev.bind_in(&format!("{LOCAL}:*"))?;
    dev.start()?;
    dev.context().shutdown()?;
    joined(|t| dev.join(t))
}

/// pyzmq's test_monqueue setup: PAIR alice and bob bound by the test, the
/// device connecting to them, and a SUB monitor that waits until its
/// subscription is in place.
struct Queue {
    dev: ThreadMonitoredQueue,
    _ctx: Context,
    alice: Socket,
    bob: Socket,
    mon: Socket,
}

fn queue(mon_sub: &[u8], in_prefix: &[u8], out_prefix: &[u8]) -> Result<Queue> {
    let ctx = Context::new();
    let mut dev = ThreadMonitoredQueue::new(
        SocketType::Pair,
        SocketType::Pair,
        SocketType::Pub,
        in_prefix,
        out_prefix,
    )?;
    let alice = socket(&ctx, SocketType::Pair)?;
    let a = alice.bind_to_random_port(LOCAL, 49152..65535, 100)?;
    let bob = socket(&ctx, SocketType::Pair)?;
    let b = bob.bind_to_random_port(LOCAL, 49152..65535, 100)?;
    let mon = socket(&ctx, SocketType::Sub)?;
    let m = mon.bind_to_random_port(LOCAL, 49152..65535, 100)?;
    mon.subscribe(mon_sub)?;
    dev.connect_in(&tcp(a))?;
    dev.connect_out(&tcp(b))?;
    dev.connect_mon(&tcp(m))?;
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
        self.dev.stop();
        joined(|t| self.dev.join(t))
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
    let mut dev = ThreadMonitoredQueue::new(
        SocketType::Router,
        SocketType::Router,
        SocketType::Push,
        b"in",
        b"out",
    )?;
    for set in [
        ThreadMonitoredQueue::setsockopt_in,
        ThreadMonitoredQueue::setsockopt_out,
        ThreadMonitoredQueue::setsockopt_mon,
    ] {
        set(&mut dev, SocketOption::LINGER, OptionValue::Int(0))?;
    }
    let porta = dev.bind_in_to_random_port(LOCAL)?;
    let portb = dev.bind_out_to_random_port(LOCAL)?;
    let portm = dev.bind_mon_to_random_port(LOCAL)?;
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
    dev.stop();
    joined(|t| dev.join(t))
}

#[test]
fn monqueue_default_args_start_and_stop() -> Result<()> {
    let mut dev = ThreadMonitoredQueue::new(
        SocketType::Router,
        SocketType::Dealer,
        SocketType::Pub,
        b"in",
        b"out",
    )?;
    dev.setsockopt_in(SocketOption::LINGER, OptionValue::Int(0))?;
    dev.start()?;
    dev.stop();
    joined(|t| dev.join(t))
}
