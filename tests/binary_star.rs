//! Binary Star (zmqx::patterns::binary_star): every transition of the state
//! machine, a real pair over TCP, conflicts seen through a peer speaking the
//! zguide's wire format, and a failover measured against a primary killed
//! with SIGKILL in a child process.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::TIMEOUT;
use zmqx::patterns::binary_star::{
    BinaryStar, Client, Conflict, Error, Event, Fsm, Role, State, StateChange, Verdict,
};
use zmqx::{Context, Message, SocketType};

const BEAT: Duration = Duration::from_millis(100);

// ---------------------------------------------------------------------------
// The state machine, step by step.
// ---------------------------------------------------------------------------

/// A machine in `state`, its peer last heard (or started) at `t0`.
fn machine(state: State, t0: Instant) -> Fsm {
    let (role, via) = match state {
        State::Primary => (Role::Primary, None),
        State::Backup => (Role::Backup, None),
        State::Active => (Role::Primary, Some(State::Backup)),
        State::Passive => (Role::Backup, Some(State::Active)),
    };
    let mut fsm = Fsm::new(role, BEAT, t0);
    if let Some(peer) = via {
        fsm.handle(Event::Peer(peer), t0).expect("setup transition");
    }
    assert_eq!(fsm.state(), state);
    fsm
}

type Outcome = Result<(State, Verdict), Conflict>;

/// Every (state, event) pair of the table, client requests both with the
/// peer heard (`false`) and expired (`true`).
fn table() -> Vec<(State, Event, bool, Outcome)> {
    use State::{Active, Backup, Passive, Primary};
    use Verdict::{Drop, Serve};
    let peer = Event::Peer;
    let req = Event::ClientRequest;
    vec![
        (
            Primary,
            peer(Primary),
            false,
            Err(Conflict::SameRole(Role::Primary)),
        ),
        (Primary, peer(Backup), false, Ok((Active, Serve))),
        (Primary, peer(Active), false, Ok((Passive, Serve))),
        (Primary, peer(Passive), false, Ok((Primary, Serve))),
        (Primary, req, false, Ok((Primary, Drop))),
        (Primary, req, true, Ok((Active, Serve))),
        (Backup, peer(Primary), false, Ok((Backup, Serve))),
        (
            Backup,
            peer(Backup),
            false,
            Err(Conflict::SameRole(Role::Backup)),
        ),
        (Backup, peer(Active), false, Ok((Passive, Serve))),
        (Backup, peer(Passive), false, Ok((Backup, Serve))),
        (Backup, req, false, Ok((Backup, Drop))),
        (Backup, req, true, Ok((Backup, Drop))),
        (Active, peer(Primary), false, Ok((Active, Serve))),
        (Active, peer(Backup), false, Ok((Active, Serve))),
        (Active, peer(Active), false, Err(Conflict::DualActive)),
        (Active, peer(Passive), false, Ok((Active, Serve))),
        (Active, req, false, Ok((Active, Serve))),
        (Active, req, true, Ok((Active, Serve))),
        (Passive, peer(Primary), false, Ok((Active, Serve))),
        (Passive, peer(Backup), false, Ok((Active, Serve))),
        (Passive, peer(Active), false, Ok((Passive, Serve))),
        (Passive, peer(Passive), false, Err(Conflict::DualPassive)),
        (Passive, req, false, Ok((Passive, Drop))),
        (Passive, req, true, Ok((Active, Serve))),
    ]
}

#[test]
fn every_transition_of_the_table() {
    let rows = table();
    // 4 states x 4 peer events, plus 4 states x 2 client-request cases.
    assert_eq!(rows.len(), 24);
    for (state, event, expired, expected) in rows {
        let t0 = Instant::now();
        let mut fsm = machine(state, t0);
        let now = if expired { t0 + 2 * BEAT } else { t0 + BEAT };
        assert_eq!(fsm.peer_expired(now), expired, "{state:?} {event:?}");
        let got = fsm.handle(event, now).map(|v| (fsm.state(), v));
        assert_eq!(
            got, expected,
            "{state:?} + {event:?} (peer expired: {expired})"
        );
        if got.is_err() {
            assert_eq!(fsm.state(), state, "a conflict leaves the state alone");
        }
    }
}

#[test]
fn a_passive_backup_without_client_requests_stays_passive() {
    let t0 = Instant::now();
    let mut fsm = machine(State::Passive, t0);
    // No events for a long time: nothing changes by itself.
    let much_later = t0 + 1000 * BEAT;
    assert!(fsm.peer_expired(much_later));
    assert_eq!(fsm.state(), State::Passive);
    // A request just before the expiry (the primary may still be alive) is
    // dropped; the first one after it fails over.
    let just_before = fsm.peer_expiry() - Duration::from_millis(1);
    assert_eq!(
        fsm.handle(Event::ClientRequest, just_before),
        Ok(Verdict::Drop)
    );
    assert_eq!(fsm.state(), State::Passive);
    assert_eq!(
        fsm.handle(Event::ClientRequest, fsm.peer_expiry()),
        Ok(Verdict::Serve)
    );
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn heartbeats_postpone_the_expiry() {
    let t0 = Instant::now();
    let mut fsm = machine(State::Passive, t0);
    // The peer is heard every heartbeat: requests keep being dropped.
    for i in 1..=10 {
        let t = t0 + i * BEAT;
        fsm.handle(Event::Peer(State::Active), t).unwrap();
        assert_eq!(fsm.peer_expiry(), t + 2 * BEAT);
        assert_eq!(
            fsm.handle(Event::ClientRequest, t + BEAT),
            Ok(Verdict::Drop)
        );
    }
    assert_eq!(fsm.state(), State::Passive);
}

#[test]
fn a_lone_backup_never_serves() {
    let t0 = Instant::now();
    let mut fsm = machine(State::Backup, t0);
    for i in [0, 2, 10, 1000] {
        assert_eq!(
            fsm.handle(Event::ClientRequest, t0 + i * BEAT),
            Ok(Verdict::Drop)
        );
    }
    assert_eq!(fsm.state(), State::Backup);
}

#[test]
fn a_restarted_primary_waits_for_its_peer_before_serving() {
    let t0 = Instant::now();
    let mut fsm = machine(State::Primary, t0);
    // Within two heartbeats of its start it does not serve: the backup may
    // be active.
    assert_eq!(
        fsm.handle(Event::ClientRequest, t0 + BEAT),
        Ok(Verdict::Drop)
    );
    // It hears the active backup and becomes passive.
    fsm.handle(Event::Peer(State::Active), t0 + BEAT).unwrap();
    assert_eq!(fsm.state(), State::Passive);
}

// ---------------------------------------------------------------------------
// Real servers over TCP.
// ---------------------------------------------------------------------------

/// A handler replying with the server's name and the request's frames.
fn tagged(name: &'static str) -> impl FnMut(Vec<Message>) -> Vec<Message> + Send + 'static {
    move |mut request| {
        request.insert(0, Message::from(name));
        request
    }
}

/// A server bound to OS-assigned ports (or `endpoints`), whose state
/// changes go to the returned channel.
fn bound(
    role: Role,
    endpoints: Option<(&str, &str)>,
) -> (zmqx::patterns::binary_star::Bound, Receiver<StateChange>) {
    let (tx, rx) = mpsc::channel();
    let (front, state) = endpoints.unwrap_or(("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
    let b = BinaryStar::builder(role)
        .heartbeat(BEAT)
        .on_state_change(move |c| {
            let _ = tx.send(c);
        })
        .bind(front, state)
        .expect("bind");
    (b, rx)
}

/// A client whose timeout and settle delay add up to more than two
/// heartbeats, so the backup sees the primary as gone at the first resend.
fn client(ctx: &Context, primary: &str, backup: &str) -> Client {
    Client::new(ctx, primary, backup)
        .timeout(Duration::from_millis(250))
        .settle(Duration::from_millis(100))
        .max_attempts(8)
}

fn texts(reply: &[Message]) -> Vec<String> {
    reply
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect()
}

fn next_change(rx: &Receiver<StateChange>) -> (State, State) {
    let c = rx.recv_timeout(TIMEOUT).expect("a state change");
    (c.from, c.to)
}

#[test]
fn pair_fails_over_and_the_restarted_primary_stays_passive() -> Result<(), Error> {
    let (primary, p_changes) = bound(Role::Primary, None);
    let (backup, b_changes) = bound(Role::Backup, None);
    let (p_front, p_state) = (primary.frontend_endpoint(), primary.state_endpoint());
    let (b_front, b_state) = (backup.frontend_endpoint(), backup.state_endpoint());
    let mut primary = primary.start(&b_state, tagged("primary"))?;
    let mut backup = backup.start(&p_state, tagged("backup"))?;
    assert_eq!(next_change(&p_changes), (State::Primary, State::Active));
    assert_eq!(next_change(&b_changes), (State::Backup, State::Passive));

    let ctx = Context::new();
    let mut client = client(&ctx, &p_front, &b_front);
    assert_eq!(texts(&client.request(&["one"])?), ["primary", "one"]);

    // The primary goes away. Without client requests the backup stays
    // passive, however long the primary is silent (split-brain prevention).
    assert!(primary.stop(TIMEOUT)?);
    assert!(!backup.wait_for_state(State::Active, 5 * BEAT));
    assert_eq!(backup.state(), State::Passive);

    // A request fails over to the backup, which takes it.
    let asked = Instant::now();
    assert_eq!(texts(&client.request(&["two"])?), ["backup", "two"]);
    let failover = asked.elapsed();
    assert_eq!(next_change(&b_changes), (State::Passive, State::Active));
    assert_eq!(client.current_endpoint(), b_front);
    eprintln!("in-process failover (request to reply): {failover:?}");

    // The primary comes back on its endpoints: it hears the active backup
    // and becomes passive; the backup keeps serving.
    let (primary, p_changes) = bound(Role::Primary, Some((&p_front, &p_state)));
    let mut primary = primary.start(&b_state, tagged("primary"))?;
    assert_eq!(next_change(&p_changes), (State::Primary, State::Passive));
    assert_eq!(texts(&client.request(&["three"])?), ["backup", "three"]);
    assert_eq!(backup.state(), State::Active);
    // The pair is stable: no change within a few heartbeats.
    assert!(p_changes.recv_timeout(3 * BEAT).is_err());
    assert!(b_changes.try_recv().is_err());

    assert!(primary.stop(TIMEOUT)?);
    assert!(backup.stop(TIMEOUT)?);
    Ok(())
}

/// A peer speaking the zguide's wire format by hand: publishes `state` until
/// `server` reaches `expect`.
fn drive(peer: &zmqx::Socket, state: &[u8], server: &BinaryStar, expect: State) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        peer.send(state).expect("publish");
        if server.wait_for_state(expect, BEAT) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not react to {state:?}"
        );
    }
}

/// Publishes `state` until the server's reactor ends; returns how it ended.
fn drive_to_end(peer: &zmqx::Socket, state: &[u8], server: &mut BinaryStar) -> Result<bool, Error> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        peer.send(state).expect("publish");
        match server.join(BEAT) {
            Ok(false) => assert!(Instant::now() < deadline, "the server ignored {state:?}"),
            ended => return ended,
        }
    }
}

fn fake_peer(ctx: &Context) -> (zmqx::Socket, String) {
    let peer = common::socket(ctx, SocketType::Pub).unwrap();
    let endpoint = common::bind_tcp(&peer).unwrap();
    (peer, endpoint)
}

#[test]
fn dual_actives_stop_the_server() -> Result<(), Error> {
    let ctx = Context::new();
    let (peer, endpoint) = fake_peer(&ctx);
    let (server, _) = bound(Role::Primary, None);
    let mut server = server.start(&endpoint, tagged("primary"))?;
    // "2": a backup; the primary becomes active.
    drive(&peer, b"2", &server, State::Active);
    // "3": the peer claims to be active too.
    let e = drive_to_end(&peer, b"3", &mut server).unwrap_err();
    assert!(matches!(e, Error::Conflict(Conflict::DualActive)), "{e}");
    Ok(())
}

#[test]
fn dual_passives_stop_the_server() -> Result<(), Error> {
    let ctx = Context::new();
    let (peer, endpoint) = fake_peer(&ctx);
    let (server, _) = bound(Role::Backup, None);
    let mut server = server.start(&endpoint, tagged("backup"))?;
    drive(&peer, b"3", &server, State::Passive);
    let e = drive_to_end(&peer, b"4", &mut server).unwrap_err();
    assert!(matches!(e, Error::Conflict(Conflict::DualPassive)), "{e}");
    Ok(())
}

#[test]
fn two_primaries_are_a_conflict_and_garbage_is_ignored() -> Result<(), Error> {
    let ctx = Context::new();
    let (peer, endpoint) = fake_peer(&ctx);
    let (server, _) = bound(Role::Primary, None);
    let mut server = server.start(&endpoint, tagged("primary"))?;
    // Frames that are no state are ignored: a real state still works after.
    for junk in [&b"9"[..], b"", b"active", b"33"] {
        peer.send(junk)?;
    }
    let e = drive_to_end(&peer, b"1", &mut server).unwrap_err();
    assert!(
        matches!(e, Error::Conflict(Conflict::SameRole(Role::Primary))),
        "{e}"
    );
    Ok(())
}

#[test]
fn a_panicking_handler_stops_the_reactor() -> Result<(), Error> {
    let ctx = Context::new();
    let (peer, endpoint) = fake_peer(&ctx);
    let (server, _) = bound(Role::Primary, None);
    let front = server.frontend_endpoint();
    let mut server = server.start(&endpoint, |_| panic!("handler bug"))?;
    drive(&peer, b"2", &server, State::Active);
    let mut client = Client::new(&ctx, &front, &front)
        .timeout(Duration::from_millis(200))
        .settle(Duration::ZERO)
        .max_attempts(1);
    let e = client.request(&["x"]).unwrap_err();
    assert!(matches!(e, Error::NoReply { attempts: 1, .. }), "{e}");
    let e = server.join(TIMEOUT).unwrap_err();
    assert!(!server.is_running());
    assert!(!server.wait_for_state(State::Active, TIMEOUT), "ended");
    assert!(
        matches!(e, Error::Panicked { ref message } if message == "handler bug"),
        "{e}"
    );
    Ok(())
}

#[test]
fn client_gives_up_after_its_attempts() {
    let ctx = Context::new();
    // Two frontends that never answer.
    let silent: Vec<_> = (0..2)
        .map(|_| {
            let s = common::socket(&ctx, SocketType::Router).unwrap();
            let e = common::bind_tcp(&s).unwrap();
            (s, e)
        })
        .collect();
    let mut client = Client::new(&ctx, &silent[0].1, &silent[1].1)
        .timeout(Duration::from_millis(100))
        .settle(Duration::ZERO)
        .max_attempts(3);
    let e = client.request::<&str>(&[]).unwrap_err();
    assert!(
        matches!(e, Error::Zmq(zmqx::Error::InvalidInput { .. })),
        "{e}"
    );
    let started = Instant::now();
    let e = client.request(&["anyone?"]).unwrap_err();
    let Error::NoReply {
        attempts,
        last_endpoint,
    } = e
    else {
        panic!("expected NoReply, got {e}");
    };
    assert_eq!(attempts, 3);
    // 1st to the primary, 2nd to the backup, 3rd to the primary again.
    assert_eq!(last_endpoint, silent[0].1);
    assert!(started.elapsed() < TIMEOUT);
    // Each server really got the request (the attempts were sent).
    for (s, _) in &silent {
        assert!(s.recv_multipart().is_ok());
    }
}

#[test]
fn drop_returns_at_once_and_the_reactor_ends() -> Result<(), Error> {
    let ctx = Context::new();
    let server = BinaryStar::builder(Role::Primary)
        .heartbeat(BEAT)
        .context(&ctx)
        .bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")?;
    let server = server.start("tcp://127.0.0.1:1", tagged("primary"))?;
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The reactor closed its sockets: terminating the shared context, which
    // waits for every socket, returns.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(ctx.term()));
    assert!(matches!(rx.recv_timeout(TIMEOUT), Ok(Ok(()))));
    Ok(())
}

// ---------------------------------------------------------------------------
// Failover against a primary killed with SIGKILL (a child process).
// ---------------------------------------------------------------------------

const CHILD_ENV: &str = "ZMQX_BSTAR_CHILD";

/// Child mode: runs a primary ("<frontend> <state> <peer state>"), prints
/// `READY <frontend> <state>` and `STATE <name>` on each change, and serves
/// until its stdin closes (or it is killed).
#[test]
fn child_primary() -> Result<(), Error> {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return Ok(());
    };
    let args: Vec<&str> = spec.split(' ').collect();
    let [front, state, peer] = args[..] else {
        panic!("bad child spec {spec:?}");
    };
    let b = BinaryStar::builder(Role::Primary)
        .heartbeat(BEAT)
        .on_state_change(|c| println!("STATE {}", c.to))
        .bind(front, state)?;
    println!("READY {} {}", b.frontend_endpoint(), b.state_endpoint());
    let mut server = b.start(peer, tagged("primary"))?;
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    server.stop(TIMEOUT)?;
    Ok(())
}

struct ChildPrimary {
    child: Child,
    lines: Receiver<String>,
}

impl ChildPrimary {
    fn spawn(front: &str, state: &str, peer: &str) -> ChildPrimary {
        let mut child = Command::new(std::env::current_exe().expect("current_exe"))
            .args([
                "--exact",
                "child_primary",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{front} {state} {peer}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the test binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildPrimary { child, lines }
    }

    /// What follows `prefix` on the next line holding it.
    fn expect(&self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the child never printed {prefix:?}"));
            // libtest may print "test child_primary ... " first on the line.
            if let Some(at) = line.find(prefix) {
                return line[at + prefix.len()..].to_string();
            }
        }
    }

    /// Ends the child by closing its stdin; kills it if it overruns.
    fn finish(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let out = common::wait_child(self.child, TIMEOUT).expect("the child ends");
        assert!(out.status.success(), "the child failed: {:?}", out.status);
    }
}

/// One answered request: its number, the server that answered, when.
struct Answered {
    n: u64,
    server: String,
    at: Instant,
}

/// Sends numbered requests until `stop`, checking each reply carries its
/// request's number; every answer goes to `tx`.
fn run_client(
    mut client: Client,
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Answered>,
) -> Result<u64, String> {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let reply = client
            .request(&[n.to_string()])
            .map_err(|e| format!("request {n}: {e}"))?;
        let reply = texts(&reply);
        if reply.len() != 2 || reply[1] != n.to_string() {
            return Err(format!("request {n} got {reply:?}"));
        }
        let _ = tx.send(Answered {
            n,
            server: reply[0].clone(),
            at: Instant::now(),
        });
        n += 1;
    }
    Ok(n)
}

/// The next `count` answers, all from `server`, in order from `*next`.
fn expect_answers(rx: &Receiver<Answered>, count: usize, next: &mut u64, server: &str) {
    for _ in 0..count {
        let a = rx.recv_timeout(TIMEOUT).expect("an answer");
        assert_eq!(a.n, *next, "answers come in order, none missing");
        assert_eq!(
            a.server, server,
            "request {} answered by the wrong server",
            a.n
        );
        *next += 1;
    }
}

#[test]
fn sigkill_of_the_primary_fails_over_without_losing_requests() -> Result<(), Error> {
    if std::env::var_os(CHILD_ENV).is_some() {
        return Ok(());
    }
    // The backup in this process, the primary in a child.
    let (backup, b_changes) = bound(Role::Backup, None);
    let (b_front, b_state) = (backup.frontend_endpoint(), backup.state_endpoint());
    let primary = ChildPrimary::spawn("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", &b_state);
    let ready = primary.expect("READY ");
    let (p_front, p_state) = ready.split_once(' ').expect("two endpoints");
    let (p_front, p_state) = (p_front.to_string(), p_state.to_string());
    let mut backup = backup.start(&p_state, tagged("backup"))?;
    assert_eq!(primary.expect("STATE "), "active");
    assert_eq!(next_change(&b_changes), (State::Backup, State::Passive));

    // A client sending numbered requests back to back.
    let ctx = Context::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, answers) = mpsc::channel();
    let client_thread = {
        let client = client(&ctx, &p_front, &b_front);
        let stop = stop.clone();
        std::thread::spawn(move || run_client(client, stop, tx))
    };
    let mut next = 0;
    expect_answers(&answers, 200, &mut next, "primary");

    // SIGKILL, while requests are in flight.
    let ChildPrimary {
        child: mut killed,
        lines: _,
    } = primary;
    killed.kill().expect("SIGKILL the primary");
    let killed_at = Instant::now();
    killed.wait().expect("reap the primary");

    // Every request is answered: the ones the primary had not, by the
    // backup. Answers the primary sent before dying may still arrive first.
    let first_backup = loop {
        let a = answers
            .recv_timeout(TIMEOUT)
            .expect("an answer after the kill");
        assert_eq!(a.n, next, "answers come in order, none missing");
        next += 1;
        if a.server == "backup" {
            break a;
        }
        assert_eq!(a.server, "primary");
    };
    let client_failover = first_backup.at.saturating_duration_since(killed_at);
    let (from, to, active_at) = {
        let c = b_changes
            .recv_timeout(TIMEOUT)
            .expect("the backup's change");
        (c.from, c.to, c.at)
    };
    assert_eq!((from, to), (State::Passive, State::Active));
    let server_failover = active_at.saturating_duration_since(killed_at);
    expect_answers(&answers, 200, &mut next, "backup");

    // The primary comes back on the same endpoints and becomes passive; the
    // backup keeps serving.
    let restarted = ChildPrimary::spawn(&p_front, &p_state, &b_state);
    restarted.expect("READY ");
    assert_eq!(restarted.expect("STATE "), "passive");
    expect_answers(&answers, 200, &mut next, "backup");
    assert_eq!(backup.state(), State::Active);

    stop.store(true, Ordering::Relaxed);
    let sent = client_thread
        .join()
        .expect("the client thread")
        .unwrap_or_else(|e| panic!("client: {e}"));
    // The last answers, in order.
    while let Ok(a) = answers.try_recv() {
        assert_eq!(a.n, next);
        next += 1;
    }
    assert_eq!(next, sent, "every request was answered");
    restarted.finish();
    assert!(backup.stop(TIMEOUT)?);

    eprintln!(
        "binary star failover after SIGKILL (heartbeat {BEAT:?}, client timeout 250 ms, \
         settle 100 ms): backup active after {server_failover:?}, first reply from the \
         backup after {client_failover:?}; {sent} requests, none lost"
    );
    // Two heartbeats of silence plus one client timeout and settle, with room.
    assert!(
        client_failover < Duration::from_secs(3),
        "failover took {client_failover:?}"
    );
    assert!(server_failover <= client_failover);
    Ok(())
}

/// One async request, bounded by the test timeout.
#[cfg(all(feature = "tokio", unix))]
async fn ask(
    client: &mut zmqx::patterns::binary_star::AsyncClient,
    text: &str,
) -> Result<Vec<Message>, tokio::time::error::Elapsed> {
    tokio::time::timeout(TIMEOUT, client.request(&[text]))
        .await
        .map(|r| r.expect("the request"))
}

#[cfg(all(feature = "tokio", unix))]
#[tokio::test]
async fn async_client_fails_over() -> Result<(), Error> {
    use zmqx::patterns::binary_star::AsyncClient;
    let (primary, p_changes) = bound(Role::Primary, None);
    let (backup, b_changes) = bound(Role::Backup, None);
    let (p_front, p_state) = (primary.frontend_endpoint(), primary.state_endpoint());
    let (b_front, b_state) = (backup.frontend_endpoint(), backup.state_endpoint());
    let mut primary = primary.start(&b_state, tagged("primary"))?;
    // The backup holds the reply to "held" until the test opens the gate.
    let (seen_tx, seen) = mpsc::channel();
    let (gate, gate_rx) = mpsc::channel::<()>();
    let mut tag = tagged("backup");
    let handler = move |request: Vec<Message>| {
        if request[0] == "held" {
            let _ = seen_tx.send(());
            let _ = gate_rx.recv_timeout(TIMEOUT);
        }
        tag(request)
    };
    let mut backup = backup.start(&p_state, handler)?;
    assert_eq!(next_change(&p_changes), (State::Primary, State::Active));
    assert_eq!(next_change(&b_changes), (State::Backup, State::Passive));

    let ctx = Context::new();
    let mut client = AsyncClient::new(&ctx, &p_front, &b_front)
        .timeout(Duration::from_millis(250))
        .settle(Duration::from_millis(100))
        .max_attempts(8);
    assert_eq!(
        texts(&ask(&mut client, "one").await.expect("in time")),
        ["primary", "one"]
    );
    assert!(primary.stop(TIMEOUT)?);
    assert_eq!(
        texts(&ask(&mut client, "two").await.expect("in time")),
        ["backup", "two"]
    );
    assert_eq!(client.current_endpoint(), b_front);
    assert_eq!(next_change(&b_changes), (State::Passive, State::Active));

    // A request cancelled part-way leaves the client usable: the reply to
    // the cancelled request never shows up as the reply to the next one.
    {
        let mut fut = std::pin::pin!(client.request(&["held"]));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        seen.recv_timeout(TIMEOUT)
            .expect("the backup got the request");
    }
    gate.send(()).expect("release the held reply");
    assert_eq!(
        texts(&ask(&mut client, "three").await.expect("in time")),
        ["backup", "three"]
    );

    // No server at all: a typed error after the attempts.
    assert!(backup.stop(TIMEOUT)?);
    let mut client = client
        .timeout(Duration::from_millis(100))
        .settle(Duration::ZERO)
        .max_attempts(2);
    let e = tokio::time::timeout(TIMEOUT, client.request(&["four"]))
        .await
        .expect("in time")
        .unwrap_err();
    assert!(matches!(e, Error::NoReply { attempts: 2, .. }), "{e}");
    Ok(())
}

#[test]
fn bad_endpoints_are_typed_errors_naming_them() {
    let e = BinaryStar::builder(Role::Primary)
        .bind("tcp://nonsense", "tcp://127.0.0.1:*")
        .unwrap_err();
    assert!(e.to_string().contains("tcp://nonsense"), "{e}");
    assert!(e.zmq().is_some());
    let (b, _) = bound(Role::Backup, None);
    let e = b.start("bogus://peer", tagged("backup")).unwrap_err();
    assert!(e.to_string().contains("bogus://peer"), "{e}");
    let ctx = Context::new();
    let mut client = Client::new(&ctx, "tcp://nonsense", "tcp://nonsense");
    let e = client.request(&["x"]).unwrap_err();
    assert!(e.to_string().contains("tcp://nonsense"), "{e}");
}
