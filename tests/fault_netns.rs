//! Faults across hosts (issue #12): two network namespaces joined by a veth
//! pair stand for two hosts. Each side is this test binary run again inside
//! its namespace (`ip netns exec`, test `netns_side`), printing its monitor
//! events and messages with timestamps. The link is taken down and up and
//! peers are killed; with heartbeats (`HEARTBEAT_IVL` 100 ms, `TIMEOUT` and
//! `TTL` 300 ms) the loss must be detected and the pair must recover, and
//! the times are printed. Without heartbeats the same outage goes unnoticed.
//!
//! Needs root and iproute2: the tests print why and pass otherwise (also
//! under CI, which runs as root and so runs them).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zmqx::{Context, Event, SocketType};

/// Heartbeat interval of the heartbeat tests; timeout and TTL are 3x.
const HB: Duration = Duration::from_millis(100);
/// Detection must happen within this on a loaded two-core machine.
const DETECT_BOUND: Duration = Duration::from_secs(3);
/// Recovery after the link comes back (or the peer restarts).
const RECOVER_BOUND: Duration = Duration::from_secs(5);
/// The marker of a side's output lines.
const TAG: &str = "ZMQX_NETNS ";

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn ms(us: u64) -> Duration {
    Duration::from_micros(us)
}

// ---------------------------------------------------------------------------
// The side process.

fn say(word: &str, extra: &str) {
    let mut out = std::io::stdout().lock();
    // libtest may have printed "test netns_side ... " on this line.
    let _ = writeln!(out, "\n{TAG}{word} {} {extra}", now_us());
    let _ = out.flush();
}

/// Not a test: one side of a scenario, started by the tests below in a
/// network namespace.
#[test]
#[ignore = "started by the fault tests inside a network namespace"]
fn netns_side() {
    let Ok(role) = std::env::var("ZMQX_NETNS_ROLE") else {
        return;
    };
    // The parent holds our stdin: when it goes away, so do we.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        std::process::exit(0);
    });
    let endpoint = std::env::var("ZMQX_NETNS_ENDPOINT").expect("endpoint");
    let hb: u64 = std::env::var("ZMQX_NETNS_HB_MS")
        .expect("heartbeat")
        .parse()
        .expect("heartbeat ms");
    let ctx = Context::new();
    let kind = match role.as_str() {
        "rep" => SocketType::Rep,
        "req" => SocketType::Req,
        "pub" => SocketType::Pub,
        "sub" => SocketType::Sub,
        other => panic!("unknown role {other}"),
    };
    let s = ctx.socket(kind).expect("socket");
    s.set_linger(Some(Duration::ZERO)).expect("linger");
    if hb > 0 {
        let ivl = Duration::from_millis(hb);
        s.set_heartbeat_ivl(Some(ivl)).expect("ivl");
        s.set_heartbeat_timeout(Some(ivl * 3)).expect("timeout");
        s.set_heartbeat_ttl(Some(ivl * 3)).expect("ttl");
    }
    s.set_reconnect_ivl(Some(Duration::from_millis(100)))
        .expect("reconnect");
    // A connect attempt whose SYN went into a dead link would otherwise
    // wait out the kernel's SYN retries (seconds) after the link is back.
    s.set_connect_timeout(Some(Duration::from_millis(250)))
        .expect("connect timeout");
    let monitor = s.monitor_events(Event::ALL).expect("monitor");
    std::thread::spawn(move || {
        for event in monitor.flatten() {
            say("EV", event.kind.name());
        }
    });
    let binds = matches!(kind, SocketType::Rep | SocketType::Pub);
    if binds {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(e) = s.bind(&endpoint) {
            assert!(Instant::now() < deadline, "bind {endpoint}: {e}");
            std::thread::sleep(Duration::from_millis(20));
        }
        say("READY", &s.last_endpoint().expect("endpoint"));
    } else {
        s.connect(&endpoint).expect("connect");
        say("READY", &endpoint);
    }
    match kind {
        SocketType::Rep => {
            s.set_rcvtimeo(Some(Duration::from_millis(100))).unwrap();
            loop {
                match s.recv_msg() {
                    Ok(m) => s.send(&m).expect("reply"),
                    Err(zmqx::Error::Again) => {}
                    Err(e) => panic!("rep: {e}"),
                }
            }
        }
        SocketType::Pub => {
            for seq in 0u64.. {
                s.send(seq.to_string()).expect("pub");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        SocketType::Sub => {
            s.subscribe(b"").expect("subscribe");
            loop {
                let m = s.recv_string().expect("sub recv");
                say("OK", &m);
            }
        }
        _ => {
            // REQ as a Lazy Pirate without new sockets: RELAXED lets it
            // resend, CORRELATE drops stale replies.
            s.set_req_relaxed(true).unwrap();
            s.set_req_correlate(true).unwrap();
            s.set_rcvtimeo(Some(Duration::from_millis(250))).unwrap();
            for seq in 0u64.. {
                s.send(seq.to_string()).expect("req");
                match s.recv_string() {
                    Ok(reply) => {
                        assert_eq!(reply, seq.to_string());
                        say("OK", &reply);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(zmqx::Error::Again) => say("RETRY", &seq.to_string()),
                    Err(e) => panic!("req: {e}"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The namespaces and the sides, from the test.

/// One output line of a side.
#[derive(Debug, Clone)]
struct Line {
    word: String,
    at: u64,
    extra: String,
}

/// A side process; killed when dropped.
struct Side {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<Line>,
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Side {
    /// The first line of `word` (and `extra`, if given) at or after `after`
    /// (µs since the epoch); the lines before it are consumed.
    fn wait_for(&self, word: &str, extra: Option<&str>, after: u64, timeout: Duration) -> Line {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.word == word && extra.is_none_or(|e| l.extra == e) && l.at >= after => {
                    return l;
                }
                Ok(_) => continue,
                Err(_) => panic!("{}: no {word} {extra:?} within {timeout:?}", self.name),
            }
        }
    }

    /// The lines already printed, without waiting.
    fn drain(&self) -> Vec<Line> {
        self.lines.try_iter().collect()
    }
}

/// Two namespaces joined by a veth pair with addresses; deleted on drop.
struct Netns {
    ns: [String; 2],
    veth: [String; 2],
    addr: [String; 2],
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("");
    if euid != "0" {
        return Some("not running as root (network namespaces need it)".into());
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("`ip` (iproute2) is not installed".into()),
    }
}

impl Netns {
    /// The namespaces, or `None` (with the reason printed) when this
    /// machine cannot make them.
    fn create() -> Option<Netns> {
        if let Some(reason) = unavailable() {
            eprintln!("skipping network namespace test: {reason}");
            return None;
        }
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seed = pid.wrapping_mul(2_654_435_761) ^ nanos ^ (n << 20);
        let (x, y) = (16 + (seed >> 8) % 200, (seed >> 16) % 250 + 1);
        let netns = Netns {
            ns: [format!("zmqx-{pid}-{n}-a"), format!("zmqx-{pid}-{n}-b")],
            veth: [
                format!("zx{}{n}a", pid % 100_000),
                format!("zx{}{n}b", pid % 100_000),
            ],
            addr: [format!("10.{x}.{y}.1"), format!("10.{x}.{y}.2")],
        };
        // From here on, Drop cleans up whatever was made.
        if let Err(e) = netns.setup() {
            // CI runs as root with iproute2: there this must work.
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("cannot set up network namespaces under CI: {e}");
            }
            eprintln!("skipping network namespace test: {e}");
            return None;
        }
        Some(netns)
    }

    fn setup(&self) -> Result<(), String> {
        for ns in &self.ns {
            ip(&["netns", "add", ns])?;
        }
        ip(&[
            "link",
            "add",
            &self.veth[0],
            "type",
            "veth",
            "peer",
            "name",
            &self.veth[1],
        ])?;
        for i in 0..2 {
            ip(&["link", "set", &self.veth[i], "netns", &self.ns[i]])?;
            let cidr = format!("{}/24", self.addr[i]);
            ip(&[
                "-n",
                &self.ns[i],
                "addr",
                "add",
                &cidr,
                "dev",
                &self.veth[i],
            ])?;
            ip(&["-n", &self.ns[i], "link", "set", "lo", "up"])?;
            ip(&["-n", &self.ns[i], "link", "set", &self.veth[i], "up"])?;
        }
        Ok(())
    }

    /// Takes side A's end of the link down or up.
    fn link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.ns[0], "link", "set", &self.veth[0], state]).expect("link state");
    }

    /// Starts a side in namespace `which` (0 = A, 1 = B) and waits for its
    /// READY line; returns it with the endpoint it printed.
    fn spawn(&self, which: usize, role: &str, endpoint: &str, hb: Duration) -> (Side, String) {
        let exe = std::env::current_exe().expect("test binary");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns[which]])
            .arg(exe)
            .args(["--exact", "netns_side", "--ignored", "--nocapture"])
            .env("ZMQX_NETNS_ROLE", role)
            .env("ZMQX_NETNS_ENDPOINT", endpoint)
            .env("ZMQX_NETNS_HB_MS", hb.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a side");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                let Some((_, rest)) = line.split_once(TAG) else {
                    continue;
                };
                let mut parts = rest.splitn(3, ' ');
                let word = parts.next().unwrap_or("").to_string();
                let at = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                let extra = parts.next().unwrap_or("").trim().to_string();
                if tx.send(Line { word, at, extra }).is_err() {
                    return;
                }
            }
        });
        let name = if which == 0 { "side A" } else { "side B" };
        let side = Side {
            name,
            child,
            lines: rx,
        };
        let ready = side.wait_for("READY", None, 0, common::TIMEOUT);
        (side, ready.extra)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and so both.
        for ns in &self.ns {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// Takes the link down, waits for `DISCONNECTED` on each of `sides`, brings
/// it up and waits for traffic on `client` again. Returns the detection
/// times, the recovery time and the first line of traffic after it.
fn outage(netns: &Netns, sides: &[&Side], client: &Side) -> (Vec<Duration>, Duration, Line) {
    let down = now_us();
    netns.link(false);
    let detected: Vec<Duration> = sides
        .iter()
        .map(|s| {
            ms(
                s.wait_for("EV", Some("DISCONNECTED"), down, common::TIMEOUT)
                    .at
                    - down,
            )
        })
        .collect();
    let up = now_us();
    netns.link(true);
    let back = client.wait_for("OK", None, up, common::TIMEOUT);
    (detected, ms(back.at - up), back)
}

#[test]
fn heartbeats_detect_link_loss_and_recover_req_rep() {
    let Some(netns) = Netns::create() else { return };
    let bind = format!("tcp://{}:*", netns.addr[1]);
    let (server, endpoint) = netns.spawn(1, "rep", &bind, HB);
    let (client, _) = netns.spawn(0, "req", &endpoint, HB);
    client.wait_for("OK", None, 0, common::TIMEOUT);

    let (detected, recovered, _) = outage(&netns, &[&client, &server], &client);
    println!(
        "REQ/REP, heartbeat {HB:?}/timeout {:?}: link down detected by the client in {:.0?}, \
         by the server in {:.0?}; link up to the next reply {:.0?}",
        HB * 3,
        detected[0],
        detected[1],
        recovered
    );
    for d in &detected {
        // Not before the heartbeat timeout could have fired (no other
        // signal exists on a silent link), and well within the bound.
        assert!(*d >= HB * 2, "detected in {d:?}: too early for heartbeats");
        assert!(*d < DETECT_BOUND, "detected in {d:?}");
    }
    assert!(recovered < RECOVER_BOUND, "recovered in {recovered:?}");

    // Kill the server: the kernel closes its connection at once.
    let killed = now_us();
    drop(server);
    let gone = client.wait_for("EV", Some("DISCONNECTED"), killed, common::TIMEOUT);
    let (_server, _) = netns.spawn(1, "rep", &endpoint, HB);
    let restarted = now_us();
    let back = client.wait_for("OK", None, restarted, common::TIMEOUT);
    println!(
        "REQ/REP: server killed, detected by the client in {:.0?}; restarted server answers \
         {:.0?} after its READY",
        ms(gone.at - killed),
        ms(back.at - restarted)
    );
    assert!(ms(gone.at - killed) < DETECT_BOUND);
    assert!(ms(back.at - restarted) < RECOVER_BOUND);
}

#[test]
fn heartbeats_detect_link_loss_and_recover_pub_sub() {
    let Some(netns) = Netns::create() else { return };
    let bind = format!("tcp://{}:*", netns.addr[1]);
    let (publisher, endpoint) = netns.spawn(1, "pub", &bind, HB);
    let (subscriber, _) = netns.spawn(0, "sub", &endpoint, HB);
    let first = subscriber.wait_for("OK", None, 0, common::TIMEOUT);
    let last_before = subscriber
        .drain()
        .into_iter()
        .filter(|l| l.word == "OK")
        .chain([first])
        .filter_map(|l| l.extra.parse::<u64>().ok())
        .max()
        .expect("a message");
    let (detected, recovered, back) = outage(&netns, &[&subscriber, &publisher], &subscriber);
    let after: u64 = back.extra.parse().expect("seq");
    println!(
        "PUB/SUB, heartbeat {HB:?}/timeout {:?}: link down detected by SUB in {:.0?}, by PUB \
         in {:.0?}; link up to the next message {:.0?}; messages published during the \
         outage and dropped by PUB: about {} (one every 10 ms)",
        HB * 3,
        detected[0],
        detected[1],
        recovered,
        after.saturating_sub(last_before + 1),
    );
    for d in &detected {
        assert!(*d >= HB * 2, "detected in {d:?}: too early for heartbeats");
        assert!(*d < DETECT_BOUND, "detected in {d:?}");
    }
    assert!(recovered < RECOVER_BOUND, "recovered in {recovered:?}");
}

#[test]
fn without_heartbeats_a_link_loss_goes_unnoticed() {
    let Some(netns) = Netns::create() else { return };
    let bind = format!("tcp://{}:*", netns.addr[1]);
    let no_hb = Duration::ZERO;
    let (publisher, endpoint) = netns.spawn(1, "pub", &bind, no_hb);
    let (subscriber, _) = netns.spawn(0, "sub", &endpoint, no_hb);
    let mut seen = vec![subscriber.wait_for("OK", None, 0, common::TIMEOUT)];
    seen.extend(subscriber.drain());
    let down = now_us();
    netns.link(false);
    // Absence is the point: five times the heartbeat tests' timeout.
    let window = HB * 3 * 5;
    std::thread::sleep(window);
    let during: Vec<Line> = subscriber.drain();
    seen.extend(during.iter().cloned());
    let during: Vec<Line> = during.into_iter().chain(publisher.drain()).collect();
    let up = now_us();
    let last_before = seen
        .iter()
        .filter(|l| l.word == "OK" && l.at < up)
        .filter_map(|l| l.extra.parse::<u64>().ok())
        .max();
    assert!(
        !during
            .iter()
            .any(|l| l.word == "EV" && l.extra == "DISCONNECTED"),
        "a silent link was detected without heartbeats: {during:?}"
    );
    netns.link(true);
    // TCP retransmits: the same connection resumes, and what PUB queued
    // meanwhile (under its high-water mark) arrives.
    let back = subscriber.wait_for("OK", None, up, common::TIMEOUT);
    let first_after: u64 = back.extra.parse().expect("seq");
    println!(
        "PUB/SUB without heartbeats: no DISCONNECTED in {window:?} of link loss (down at \
         {down}); link up to the next message {:.0?}; first message after: {first_after} \
         (last before: {last_before:?})",
        ms(back.at - up)
    );
    // Nothing lost: the next message is the one after the last seen, queued
    // (under PUB's high-water mark) across the outage.
    let last = last_before.expect("messages before the outage");
    assert_eq!(first_after, last + 1, "a gap: {last} then {first_after}");
    // And what was published during the outage follows, in order.
    let mut expected = first_after + 1;
    while expected < first_after + 100 {
        let l = subscriber.wait_for("OK", None, 0, common::TIMEOUT);
        let seq: u64 = l.extra.parse().expect("seq");
        assert_eq!(seq, expected, "a gap after the outage");
        expected += 1;
    }
    assert!(
        !subscriber
            .drain()
            .iter()
            .chain(publisher.drain().iter())
            .any(|l| l.word == "EV" && l.extra == "DISCONNECTED"),
        "the connection did not survive the outage"
    );
}
