//! `zmqx::proxy`: libzmq's `zmq_proxy` (also as the deprecated `zmq_device`
//! does: one socket serving both sides), zmqx's
//! steerable proxy (PAUSE / RESUME / TERMINATE / STATISTICS as documented,
//! on the vendored libzmq 4.3.5 whose own `zmq_proxy_steerable` swaps PAUSE
//! and RESUME) and `monitored_queue`. Covers what pyzmq's
//! `test_proxy_steerable.py` and `test_monqueue.py` check, against the
//! documented semantics.

mod common;

use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{TIMEOUT, inproc, socket};
use zmqx::proxy::{ProxyCommand, ProxyStats, SocketStats};
use zmqx::{Context, Error, Message, PollEvents, Result, Socket, SocketType};

/// How long "does not arrive" is watched for: the wait is the assertion.
const QUIET: Duration = Duration::from_millis(300);

/// Runs `f` in a thread; its result comes back on the receiver.
fn spawn(f: impl FnOnce() -> Result<()> + Send + 'static) -> Receiver<Result<()>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// The proxy's result, failing the test if it does not return in time.
fn returned(rx: &Receiver<Result<()>>) -> Result<()> {
    rx.recv_timeout(TIMEOUT)
        .expect("the proxy did not return in time")
}

fn still_running(rx: &Receiver<Result<()>>) -> bool {
    rx.try_recv().is_err()
}

fn recv_strings(s: &Socket) -> Result<Vec<String>> {
    Ok(s.recv_multipart()?
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect())
}

/// Asserts that nothing arrives on `s` for [`QUIET`].
fn assert_quiet(s: &Socket) -> Result<()> {
    let ready = s.poll(PollEvents::POLLIN, Some(QUIET))?;
    assert!(ready.is_empty(), "a message arrived while it should not");
    Ok(())
}

/// Sends a command on a control socket that does not answer it (PAIR,
/// DEALER…).
fn command(ctrl: &Socket, c: ProxyCommand) -> Result<()> {
    ctrl.send(c.as_bytes())
}

/// A steerable proxy between two PAIR sockets, with a PUSH capture and a
/// control socket of the given type, running in a thread.
struct Steered {
    _ctx: Context,
    /// Talks to the frontend.
    client: Socket,
    /// Talks to the backend.
    worker: Socket,
    /// Receives the capture copies.
    capture: Socket,
    /// Connected to the proxy's control socket.
    ctrl: Socket,
    ctrl_endpoint: String,
    done: Receiver<Result<()>>,
}

fn steered(ctrl_type: SocketType, peer_type: SocketType) -> Result<Steered> {
    let ctx = Context::new();
    let (fe, be, cap, ct) = (
        inproc("front"),
        inproc("back"),
        inproc("capture"),
        inproc("control"),
    );
    let frontend = socket(&ctx, SocketType::Pair)?;
    frontend.bind(&fe)?;
    let backend = socket(&ctx, SocketType::Pair)?;
    backend.bind(&be)?;
    let capture_out = socket(&ctx, SocketType::Push)?;
    capture_out.bind(&cap)?;
    let control = socket(&ctx, ctrl_type)?;
    control.bind(&ct)?;
    let done = spawn(move || {
        zmqx::proxy_steerable(&frontend, &backend, Some(&capture_out), Some(&control))
    });
    let client = socket(&ctx, SocketType::Pair)?;
    client.connect(&fe)?;
    let worker = socket(&ctx, SocketType::Pair)?;
    worker.connect(&be)?;
    let capture = socket(&ctx, SocketType::Pull)?;
    capture.connect(&cap)?;
    let ctrl = socket(&ctx, peer_type)?;
    ctrl.connect(&ct)?;
    Ok(Steered {
        _ctx: ctx,
        client,
        worker,
        capture,
        ctrl,
        ctrl_endpoint: ct,
        done,
    })
}

#[test]
fn zmq_proxy_forwards_captures_and_ends_with_the_context() -> Result<()> {
    let ctx = Context::new();
    let (fe, be, cap) = (inproc("zp-in"), inproc("zp-out"), inproc("zp-cap"));
    let frontend = socket(&ctx, SocketType::Pull)?;
    frontend.bind(&fe)?;
    let backend = socket(&ctx, SocketType::Push)?;
    backend.bind(&be)?;
    let capture = socket(&ctx, SocketType::Push)?;
    capture.bind(&cap)?;
    let done = spawn(move || zmqx::proxy(&frontend, &backend, Some(&capture)));

    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&fe)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&be)?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&cap)?;
    push.send_multipart(["hello", "proxy"])?;
    assert_eq!(recv_strings(&pull)?, ["hello", "proxy"]);
    assert_eq!(recv_strings(&mon)?, ["hello", "proxy"]);
    assert!(still_running(&done));

    // libzmq's proxy only ends with its context; zmqx reports that as Ok.
    ctx.shutdown()?;
    returned(&done)
}

#[test]
fn single_socket_proxy_echoes_like_zmq_device() -> Result<()> {
    // pyzmq's `zmq.device(zmq.QUEUE, rep, rep)`: libzmq's zmq_device is
    // zmq_proxy without capture, here with one socket on both sides.
    let ctx = Context::new();
    let ep = inproc("device-echo");
    let rep = socket(&ctx, SocketType::Rep)?;
    rep.bind(&ep)?;
    let done = spawn(move || zmqx::proxy(&rep, &rep, None));
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&ep)?;
    for text in ["hello", "hello again"] {
        req.send(text)?;
        assert_eq!(req.recv_string()?, text);
    }
    ctx.shutdown()?;
    returned(&done)
}

#[test]
fn pause_really_pauses_and_resume_really_resumes() -> Result<()> {
    let s = steered(SocketType::Pair, SocketType::Pair)?;
    s.client.send("before")?;
    assert_eq!(s.worker.recv_string()?, "before");

    command(&s.ctrl, ProxyCommand::Pause)?;
    // PAIR gets no reply to PAUSE; STATISTICS, served in order, proves the
    // PAUSE has been handled.
    let stats = ProxyStats::request(&s.ctrl)?;
    assert_eq!(stats.frontend.messages_received, 1);

    s.client.send("while paused")?;
    s.worker.send("reply while paused")?;
    assert_quiet(&s.worker)?;
    assert_quiet(&s.client)?;
    // Still paused after a STATISTICS (libzmq 4.3.5 would be forwarding by
    // now: its PAUSE resumes).
    assert_eq!(ProxyStats::request(&s.ctrl)?.frontend.messages_received, 1);

    command(&s.ctrl, ProxyCommand::Resume)?;
    assert_eq!(s.worker.recv_string()?, "while paused");
    assert_eq!(s.client.recv_string()?, "reply while paused");

    // RESUME while running changes nothing; PAUSE twice still pauses.
    command(&s.ctrl, ProxyCommand::Resume)?;
    s.client.send("running")?;
    assert_eq!(s.worker.recv_string()?, "running");
    command(&s.ctrl, ProxyCommand::Pause)?;
    command(&s.ctrl, ProxyCommand::Pause)?;
    ProxyStats::request(&s.ctrl)?;
    s.client.send("paused again")?;
    assert_quiet(&s.worker)?;
    command(&s.ctrl, ProxyCommand::Resume)?;
    assert_eq!(s.worker.recv_string()?, "paused again");

    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)
}

#[test]
fn statistics_count_whole_messages_and_payload_bytes() -> Result<()> {
    let s = steered(SocketType::Pair, SocketType::Pair)?;
    let requests: [&[&str]; 3] = [&["a"], &["bb", "ccc"], &["", "dddd", "e"]];
    let replies: [&[&str]; 2] = [&["xyz"], &["1", "22"]];
    for r in requests {
        s.client.send_multipart(r.iter().copied())?;
    }
    for r in requests {
        assert_eq!(recv_strings(&s.worker)?, r);
        // The capture gets the same parts, framing kept.
        assert_eq!(recv_strings(&s.capture)?, r);
    }
    for r in replies {
        s.worker.send_multipart(r.iter().copied())?;
    }
    for r in replies {
        assert_eq!(recv_strings(&s.client)?, r);
        assert_eq!(recv_strings(&s.capture)?, r);
    }

    command(&s.ctrl, ProxyCommand::Statistics)?;
    let frames = s.ctrl.recv_multipart()?;
    assert_eq!(frames.len(), 8);
    assert!(frames.iter().all(|f| f.len() == 8));
    let stats = ProxyStats::from_messages(frames)?;
    assert_eq!(
        stats.frontend,
        SocketStats {
            messages_received: 3,
            bytes_received: 1 + 5 + 5,
            messages_sent: 2,
            bytes_sent: 3 + 3,
        }
    );
    assert_eq!(
        stats.backend,
        SocketStats {
            messages_received: 2,
            bytes_received: 6,
            messages_sent: 3,
            bytes_sent: 11,
        }
    );
    assert_eq!(stats.to_array(), [3, 11, 2, 6, 2, 6, 3, 11]);

    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)
}

#[test]
fn rep_control_answers_every_command() -> Result<()> {
    let s = steered(SocketType::Rep, SocketType::Req)?;
    let ask = |c: &[u8]| -> Result<Vec<Message>> {
        s.ctrl.send(c)?;
        s.ctrl.recv_multipart()
    };
    let empty_reply = |r: Vec<Message>| r.len() == 1 && r[0].is_empty();

    assert!(empty_reply(ask(b"PAUSE")?));
    s.client.send("queued")?;
    assert_quiet(&s.worker)?;
    assert!(empty_reply(ask(b"RESUME")?));
    assert_eq!(s.worker.recv_string()?, "queued");
    // Unknown commands are ignored, and still answered on REP.
    assert!(empty_reply(ask(b"pause")?));
    s.client.send("still running")?;
    assert_eq!(s.worker.recv_string()?, "still running");

    let stats = ProxyStats::from_messages(ask(b"STATISTICS")?)?;
    assert_eq!(stats.frontend.messages_received, 2);
    assert_eq!(stats.backend.bytes_sent, 6 + 13);

    assert!(empty_reply(ask(b"TERMINATE")?));
    returned(&s.done)
}

#[test]
fn pair_control_answers_statistics_only() -> Result<()> {
    let s = steered(SocketType::Pair, SocketType::Pair)?;
    for c in [
        ProxyCommand::Pause,
        ProxyCommand::Resume,
        ProxyCommand::Pause,
    ] {
        command(&s.ctrl, c)?;
    }
    s.ctrl.send("bogus")?;
    // Had any of those been answered, its reply would come first.
    command(&s.ctrl, ProxyCommand::Statistics)?;
    assert_eq!(s.ctrl.recv_multipart()?.len(), 8);
    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)?;
    assert_quiet(&s.ctrl)
}

#[test]
fn router_control_routes_replies_and_answers_req_peers() -> Result<()> {
    // A REQ peer behind a ROUTER control gets an answer to every command.
    let s = steered(SocketType::Router, SocketType::Req)?;
    s.ctrl.send("PAUSE")?;
    let reply = s.ctrl.recv_multipart()?;
    assert_eq!(reply.len(), 1);
    assert!(reply[0].is_empty());
    let stats = ProxyStats::request(&s.ctrl)?;
    assert_eq!(stats, ProxyStats::default());

    // A DEALER peer (no REQ delimiter) only gets the STATISTICS answer.
    let dealer = socket(&s.ctrl.context(), SocketType::Dealer)?;
    dealer.connect(&s.ctrl_endpoint)?;
    dealer.send("RESUME")?;
    s.client.send("resumed")?;
    assert_eq!(s.worker.recv_string()?, "resumed");
    dealer.send("STATISTICS")?;
    let stats = ProxyStats::from_messages(dealer.recv_multipart()?)?;
    assert_eq!(stats.backend.messages_sent, 1);

    dealer.send("TERMINATE")?;
    returned(&s.done)?;
    assert_quiet(&dealer)
}

#[test]
fn pull_control_steers_without_replies() -> Result<()> {
    let s = steered(SocketType::Pull, SocketType::Push)?;
    command(&s.ctrl, ProxyCommand::Statistics)?; // ignored: PULL cannot answer
    command(&s.ctrl, ProxyCommand::Pause)?;
    // PULL cannot confirm; the PAUSE is queued before the message, and the
    // proxy serves its control socket first.
    s.client.send("held")?;
    assert_quiet(&s.worker)?;
    command(&s.ctrl, ProxyCommand::Resume)?;
    assert_eq!(s.worker.recv_string()?, "held");
    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)
}

/// A `PAUSE` sent just before a message to a waiting proxy always holds
/// that message, however the proxy's poll interleaves with the two arrivals
/// (`zmq_poll` looks at the sockets in turn, so the message's socket can be
/// seen ready while the control socket, looked at just before the command
/// reached it, is not). Each round first waits for a `STATISTICS` answer,
/// so that the proxy is done with the previous message (while it streams, a
/// command takes effect between bursts), wakes it with an unknown command
/// just before the `PAUSE`, then watches for the held message for 5 ms
/// only: a round can miss a wrong forward, never report a right pause as
/// wrong. The interleaving that forwarded a paused message before the proxy
/// served its control socket after every wait is rare (seen once, in a CI
/// run of `pull_control_steers_without_replies`; not reproduced by this
/// test in three runs without the fix): 200 rounds give it 200 chances, and
/// every round checks that `PAUSE` holds and that the counts are exact.
#[test]
fn a_pause_just_before_a_message_always_holds_it() -> Result<()> {
    let s = steered(SocketType::Pair, SocketType::Pair)?;
    s.ctrl.set_rcvtimeo(Some(TIMEOUT))?;
    for round in 0..200 {
        let stats = ProxyStats::request(&s.ctrl)?;
        assert_eq!(stats.backend.messages_sent, round, "before round {round}");
        // An unknown command (ignored) wakes the proxy, so that the PAUSE
        // and the message come while it serves it and polls again.
        s.ctrl.send("NOTHING")?;
        command(&s.ctrl, ProxyCommand::Pause)?;
        s.client.send(format!("held {round}"))?;
        let ready = s
            .worker
            .poll(PollEvents::POLLIN, Some(Duration::from_millis(5)))?;
        assert!(ready.is_empty(), "round {round}: forwarded while paused");
        command(&s.ctrl, ProxyCommand::Resume)?;
        assert_eq!(s.worker.recv_string()?, format!("held {round}"));
    }
    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)
}

#[test]
fn control_sockets_that_cannot_receive_are_refused() -> Result<()> {
    let ctx = Context::new();
    let front = socket(&ctx, SocketType::Pull)?;
    let back = socket(&ctx, SocketType::Push)?;
    for t in [
        SocketType::Pub,
        SocketType::Push,
        SocketType::Req,
        SocketType::XPub,
    ] {
        let ctrl = socket(&ctx, t)?;
        match zmqx::proxy_steerable(&front, &back, None, Some(&ctrl)) {
            Err(Error::InvalidInput { what, .. }) => assert!(what.contains("control")),
            other => panic!("{t}: expected InvalidInput, got {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn a_full_destination_holds_one_message_and_never_blocks_control() -> Result<()> {
    let ctx = Context::new();
    let (fe, be, ct) = (inproc("hold-in"), inproc("hold-out"), inproc("hold-ctl"));
    let frontend = socket(&ctx, SocketType::Pull)?;
    frontend.bind(&fe)?;
    // No peer yet: PUSH cannot take anything.
    let backend = socket(&ctx, SocketType::Push)?;
    backend.bind(&be)?;
    let control = socket(&ctx, SocketType::Pair)?;
    control.bind(&ct)?;
    let done = spawn(move || zmqx::proxy_steerable(&frontend, &backend, None, Some(&control)));
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&fe)?;
    let ctrl = socket(&ctx, SocketType::Pair)?;
    ctrl.connect(&ct)?;

    for i in 0..3 {
        push.send(format!("m{i}"))?;
    }
    // The proxy read one message and waits for room; the rest stay queued.
    let stats = common::eventually(TIMEOUT, || {
        let s = ProxyStats::request(&ctrl).ok()?;
        (s.frontend.messages_received == 1).then_some(s)
    })
    .expect("the proxy did not read the first message");
    assert_eq!(stats.backend.messages_sent, 0);
    assert_eq!(ProxyStats::request(&ctrl)?.frontend.messages_received, 1);

    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&be)?;
    for i in 0..3 {
        assert_eq!(pull.recv_string()?, format!("m{i}"));
    }
    let stats = ProxyStats::request(&ctrl)?;
    assert_eq!(stats.frontend.messages_received, 3);
    assert_eq!(stats.backend.messages_sent, 3);
    command(&ctrl, ProxyCommand::Terminate)?;
    returned(&done)
}

#[test]
fn a_blocked_capture_still_obeys_control() -> Result<()> {
    let ctx = Context::new();
    let (fe, be, ct) = (inproc("cap-in"), inproc("cap-out"), inproc("cap-ctl"));
    let frontend = socket(&ctx, SocketType::Pull)?;
    frontend.bind(&fe)?;
    let backend = socket(&ctx, SocketType::Push)?;
    backend.bind(&be)?;
    // A capture nobody reads from: it can never take a copy.
    let capture = socket(&ctx, SocketType::Push)?;
    capture.bind(&inproc("cap-nobody"))?;
    let control = socket(&ctx, SocketType::Rep)?;
    control.bind(&ct)?;
    let done =
        spawn(move || zmqx::proxy_steerable(&frontend, &backend, Some(&capture), Some(&control)));
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&fe)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.connect(&be)?;
    let ctrl = socket(&ctx, SocketType::Req)?;
    ctrl.connect(&ct)?;

    push.send("first")?;
    push.send("second")?;
    // The first message is forwarded; its capture copy cannot go anywhere,
    // so the proxy waits there, and forwards nothing more meanwhile.
    assert_eq!(pull.recv_string()?, "first");
    assert_quiet(&pull)?;
    let stats = ProxyStats::request(&ctrl)?;
    assert_eq!(stats.backend.messages_sent, 1);
    ctrl.send("TERMINATE")?;
    ctrl.recv_msg()?;
    returned(&done)
}

#[test]
fn steerable_without_control_is_a_rust_proxy() -> Result<()> {
    let ctx = Context::new();
    let (fe, be) = (inproc("rp-in"), inproc("rp-out"));
    let frontend = socket(&ctx, SocketType::Router)?;
    frontend.bind(&fe)?;
    let backend = socket(&ctx, SocketType::Dealer)?;
    backend.bind(&be)?;
    let done = spawn(move || zmqx::proxy_steerable(&frontend, &backend, None, None));
    let rep = socket(&ctx, SocketType::Rep)?;
    rep.connect(&be)?;
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&fe)?;
    for i in 0..100 {
        req.send(format!("q{i}"))?;
        let q = rep.recv_string()?;
        rep.send(format!("a-{q}"))?;
        assert_eq!(req.recv_string()?, format!("a-q{i}"));
    }
    ctx.shutdown()?;
    returned(&done)
}

#[test]
fn many_messages_in_bursts_keep_order_and_parts() -> Result<()> {
    let s = steered(SocketType::Pair, SocketType::Pair)?;
    // More than one burst, so the loop goes through its "hot" path.
    let n = 5 * zmqx::proxy::BURST + 7;
    let sender = {
        let client = s.client;
        std::thread::spawn(move || -> Result<Socket> {
            for i in 0..n {
                client.send_multipart([format!("{i}"), "x".repeat(i % 50)])?;
            }
            Ok(client)
        })
    };
    for i in 0..n {
        let parts = s.worker.recv_multipart()?;
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], format!("{i}").as_str());
        assert_eq!(parts[1].len(), i % 50);
        let _ = s.capture.recv_multipart()?;
    }
    let _client = sender.join().expect("sender panicked")?;
    let stats = ProxyStats::request(&s.ctrl)?;
    assert_eq!(stats.frontend.messages_received, n as u64);
    assert_eq!(stats.backend.messages_sent, n as u64);
    command(&s.ctrl, ProxyCommand::Terminate)?;
    returned(&s.done)
}

/// A monitored queue between two PAIRs, monitor on PUSH → PULL (no
/// slow-joiner), in a thread.
fn monitored(
    in_prefix: &'static [u8],
    out_prefix: &'static [u8],
) -> Result<(Context, Socket, Socket, Socket)> {
    let ctx = Context::new();
    let (a, b, m) = (inproc("mq-a"), inproc("mq-b"), inproc("mq-m"));
    let ins = socket(&ctx, SocketType::Pair)?;
    ins.bind(&a)?;
    let outs = socket(&ctx, SocketType::Pair)?;
    outs.bind(&b)?;
    let mons = socket(&ctx, SocketType::Push)?;
    mons.bind(&m)?;
    // The queue ends with the context, when the test drops it.
    spawn(move || zmqx::monitored_queue(&ins, &outs, &mons, in_prefix, out_prefix));
    let alice = socket(&ctx, SocketType::Pair)?;
    alice.connect(&a)?;
    let bob = socket(&ctx, SocketType::Pair)?;
    bob.connect(&b)?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&m)?;
    Ok((ctx, alice, bob, mon))
}

#[test]
fn monitored_queue_forwards_both_ways_with_prefixes() -> Result<()> {
    let (ctx, alice, bob, mon) = monitored(b"foo", b"bar")?;
    let sent: [&[&str]; 3] = [
        &["hello", "bob"],
        &["hello", "again"],
        &["and", "again", "!"],
    ];
    for m in sent {
        alice.send_multipart(m.iter().copied())?;
    }
    for m in sent {
        assert_eq!(recv_strings(&bob)?, m);
    }
    bob.send_multipart(["hello", "alice"])?;
    assert_eq!(recv_strings(&alice)?, ["hello", "alice"]);
    for m in sent {
        let mut expected = vec!["foo"];
        expected.extend(m);
        assert_eq!(recv_strings(&mon)?, expected);
    }
    assert_eq!(recv_strings(&mon)?, ["bar", "hello", "alice"]);
    drop((alice, bob, mon));
    ctx.shutdown()
}

#[test]
fn monitored_queue_router_to_router_swaps_routing_ids() -> Result<()> {
    let ctx = Context::new();
    let (a_ep, b_ep, m_ep) = (inproc("rr-a"), inproc("rr-b"), inproc("rr-m"));
    let ins = socket(&ctx, SocketType::Router)?;
    ins.bind(&a_ep)?;
    let outs = socket(&ctx, SocketType::Router)?;
    outs.bind(&b_ep)?;
    let mons = socket(&ctx, SocketType::Push)?;
    mons.bind(&m_ep)?;
    let done = spawn(move || zmqx::monitored_queue(&ins, &outs, &mons, b"in", b"out"));
    let a = socket(&ctx, SocketType::Dealer)?;
    a.set_routing_id(b"a")?;
    a.connect(&a_ep)?;
    let b = socket(&ctx, SocketType::Dealer)?;
    b.set_routing_id(b"b")?;
    b.connect(&b_ep)?;
    let mon = socket(&ctx, SocketType::Pull)?;
    mon.connect(&m_ep)?;

    // b announces itself: once the monitor shows its message, the out
    // ROUTER knows b. The ping is addressed to nobody and dropped.
    b.send_multipart(["nobody", "ping"])?;
    assert_eq!(recv_strings(&mon)?, ["out", "nobody", "b", "ping"]);

    a.send_multipart(["b", "hello", "there"])?;
    let got = recv_strings(&b)?;
    assert_eq!(got, ["a", "hello", "there"]);
    assert_eq!(recv_strings(&mon)?, ["in", "b", "a", "hello", "there"]);
    // b answers by sending back what it got: the id now names a.
    b.send_multipart(&got)?;
    assert_eq!(recv_strings(&a)?, ["b", "hello", "there"]);
    assert_eq!(recv_strings(&mon)?, ["out", "a", "b", "hello", "there"]);

    ctx.shutdown()?;
    returned(&done)
}
