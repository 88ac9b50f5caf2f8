//! UDP broadcast beacons (`zmqx::patterns::beacon`) between two hosts, and
//! with czmq's `zbeacon` both ways.
//!
//! Two network namespaces joined by a veth pair stand for two hosts on a
//! LAN (broadcast on the loopback interface is no real network; the unit
//! tests in `src/patterns/beacon.rs` cover it). Each side is this test
//! binary run again inside its namespace (`ip netns exec`, test
//! `beacon_side`) or a small C program using czmq's `zbeacon`, compiled at
//! test time against Debian's `libczmq-dev`. Sides print timestamped lines;
//! the tests wait on those lines (a "ready", a heard beacon), each wait
//! bounded.
//!
//! Needs root, iproute2 and a C compiler with czmq: without them the tests
//! print why and pass, except under CI (`CI=true`), where they fail.
//!
//! The beacon port is fixed (5670, czmq's example port): the namespaces are
//! made by each test and nothing else lives in them.

#![cfg(feature = "beacon")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zmqx::patterns::beacon::Beacon;

const PORT: u16 = 5670;
/// The publish interval of the tests.
const INTERVAL: Duration = Duration::from_millis(100);
/// The marker of a side's output lines.
const TAG: &str = "ZMQX_BEACON ";

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips with a message, or fails under CI.
fn skip(why: &str) {
    assert!(!under_ci(), "beacon tests must run under CI: {why}");
    eprintln!("skipping beacon test: {why}");
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

// ---------------------------------------------------------------------------
// The zmqx side process.

fn say(word: &str, extra: &str) {
    let mut out = std::io::stdout().lock();
    // libtest may have printed "test beacon_side ... " on this line.
    let _ = writeln!(out, "\n{TAG}{word} {} {extra}", now_us());
    let _ = out.flush();
}

/// Not a test: a zmqx beacon started by the tests below in a network
/// namespace. Environment: `ZMQX_BEACON_ROLE` (`listen` with
/// `ZMQX_BEACON_FILTER`, or `publish`), `ZMQX_BEACON_PAYLOAD` (published;
/// optional for `listen`), and
/// czmq's `ZSYS_INTERFACE`. A publisher silences on a `silence` line on
/// stdin; every side ends when stdin closes.
#[test]
#[ignore = "started by the beacon tests inside a network namespace"]
fn beacon_side() {
    let Ok(role) = std::env::var("ZMQX_BEACON_ROLE") else {
        return;
    };
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(|l| l.ok()) {
            let _ = lines_tx.send(line);
        }
        std::process::exit(0);
    });
    let mut beacon = Beacon::new(PORT).expect("beacon");
    match role.as_str() {
        "listen" => {
            let filter = std::env::var("ZMQX_BEACON_FILTER").unwrap_or_default();
            beacon.subscribe(filter).expect("subscribe");
            if let Ok(payload) = std::env::var("ZMQX_BEACON_PAYLOAD") {
                beacon.publish(payload, INTERVAL).expect("publish");
            }
            say("ready", &beacon.address().to_string());
            loop {
                if let Some(m) = beacon.recv(Duration::from_secs(1)).expect("recv") {
                    let text = String::from_utf8_lossy(&m.payload).into_owned();
                    say("heard", &format!("{} {text}", m.peer));
                }
            }
        }
        "publish" => {
            let payload = std::env::var("ZMQX_BEACON_PAYLOAD").expect("payload");
            say("ready", &beacon.address().to_string());
            beacon.publish(&payload, INTERVAL).expect("publish");
            say("published", &payload);
            for line in lines {
                if line == "silence" {
                    beacon.silence();
                    say("silenced", "");
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

// ---------------------------------------------------------------------------
// Sides and namespaces, from the tests.

/// One output line of a side: `word`, when (µs since the epoch), the rest.
#[derive(Debug, Clone)]
struct Line {
    word: String,
    at: u64,
    extra: String,
}

/// A side process; killed when dropped.
struct Side {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Line>,
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Side {
    /// Starts `command` (already prefixed with `ip netns exec`) and reads
    /// its tagged lines.
    fn start(name: &str, command: &mut Command) -> Side {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
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
        Side {
            name: name.into(),
            child,
            stdin,
            lines: rx,
        }
    }

    /// The next line of `word`; the lines before it are consumed.
    fn wait_for(&self, word: &str, timeout: Duration) -> Line {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.word == word => return l,
                Ok(_) => continue,
                Err(_) => panic!("{}: no {word:?} line within {timeout:?}", self.name),
            }
        }
    }

    /// Every line printed within `window`.
    fn collect(&self, window: Duration) -> Vec<Line> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while let Ok(l) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            out.push(l);
        }
        out
    }

    fn tell(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{command}").expect("write to side");
        stdin.flush().expect("flush");
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

impl Netns {
    /// The namespaces, or `None` (skipped with the reason printed; under
    /// CI a failure) when this machine cannot make them.
    fn create() -> Option<Netns> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let euid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or("");
        if euid != "0" {
            skip("not running as root (network namespaces need it)");
            return None;
        }
        if !Command::new("ip")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            skip("`ip` (iproute2) is not installed");
            return None;
        }
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let seed = pid.wrapping_mul(2_654_435_761) ^ (n << 20) ^ (now_us() as u32);
        let (x, y) = (16 + (seed >> 8) % 200, (seed >> 16) % 250 + 1);
        let netns = Netns {
            ns: [format!("zxb-{pid}-{n}-a"), format!("zxb-{pid}-{n}-b")],
            veth: [
                format!("zb{}{n}a", pid % 100_000),
                format!("zb{}{n}b", pid % 100_000),
            ],
            addr: [format!("10.{x}.{y}.1"), format!("10.{x}.{y}.2")],
        };
        // From here on, Drop cleans up whatever was made.
        if let Err(e) = netns.setup() {
            skip(&format!("cannot set up network namespaces: {e}"));
            return None;
        }
        Some(netns)
    }

    fn setup(&self) -> Result<(), String> {
        for ns in &self.ns {
            ip(&["netns", "add", ns])?;
        }
        let (a, b) = (&self.veth[0], &self.veth[1]);
        ip(&["link", "add", a, "type", "veth", "peer", "name", b])?;
        for i in 0..2 {
            ip(&["link", "set", &self.veth[i], "netns", &self.ns[i]])?;
            // No `brd`: the broadcast address is computed from the netmask,
            // as on many hosts.
            let cidr = format!("{}/24", self.addr[i]);
            let (ns, veth) = (&self.ns[i], &self.veth[i]);
            ip(&["-n", ns, "addr", "add", &cidr, "dev", veth])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", veth, "up"])?;
        }
        Ok(())
    }

    /// A zmqx side in namespace `which` (0 = A, 1 = B); `env` adds to the
    /// side's environment. Waits for its "ready" line and checks the
    /// address it reports.
    fn zmqx(&self, which: usize, role: &str, env: &[(&str, &str)]) -> Side {
        let exe = std::env::current_exe().expect("test binary");
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns[which]])
            .arg(exe)
            .args(["--exact", "beacon_side", "--ignored", "--nocapture"])
            .env("ZMQX_BEACON_ROLE", role)
            .env_remove("ZSYS_INTERFACE");
        for (k, v) in env {
            command.env(k, v);
        }
        let side = Side::start(&format!("zmqx {role} in {}", self.ns[which]), &mut command);
        let ready = side.wait_for("ready", common::TIMEOUT);
        assert_eq!(ready.extra, self.addr[which], "the address it reports");
        side
    }

    /// A czmq side (the C program) in namespace `which`.
    fn czmq(&self, which: usize, program: &Path, args: &[&str]) -> Side {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns[which]])
            .arg(program)
            .args(args)
            .env_remove("ZSYS_INTERFACE");
        let side = Side::start(
            &format!("czmq {args:?} in {}", self.ns[which]),
            &mut command,
        );
        let ready = side.wait_for("ready", common::TIMEOUT);
        assert_eq!(ready.extra, self.addr[which], "czmq's hostname");
        side
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

// ---------------------------------------------------------------------------
// The czmq peer.

const CZMQ_PEER: &str = r#"
#include <czmq.h>
#include <sys/time.h>
/* zbeacon on a port, as czmq's users drive it.
   peer listen PORT FILTER         prints "... heard TIME PEER PAYLOAD"
   peer publish PORT PAYLOAD MS
   Every line starts with "ZMQX_BEACON WORD MICROSECONDS". Ends after 30 s
   or when stdin closes. */
static long long now_us (void) {
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (long long) tv.tv_sec * 1000000 + tv.tv_usec;
}
int main (int argc, char **argv) {
    if (argc != 4 && argc != 5)
        return 2;
    zsys_handler_set (NULL);
    zactor_t *beacon = zactor_new (zbeacon, NULL);
    zsock_send (beacon, "si", "CONFIGURE", atoi (argv [2]));
    char *host = zstr_recv (beacon);
    if (!host || !*host)
        return 3;
    if (streq (argv [1], "listen"))
        zsock_send (beacon, "sb", "SUBSCRIBE", argv [3], strlen (argv [3]));
    else
        zsock_send (beacon, "sbi", "PUBLISH", argv [3], strlen (argv [3]), atoi (argv [4]));
    printf ("ZMQX_BEACON ready %lld %s\n", now_us (), host);
    fflush (stdout);
    zstr_free (&host);
    zsock_set_rcvtimeo (beacon, 100);
    int64_t end = zclock_mono () + 30000;
    while (zclock_mono () < end) {
        char *peer = NULL, *payload = NULL;
        if (zstr_recvx (beacon, &peer, &payload, NULL) == 2) {
            printf ("ZMQX_BEACON heard %lld %s %s\n", now_us (), peer, payload);
            fflush (stdout);
        }
        zstr_free (&peer);
        zstr_free (&payload);
        /* stdin closed: the test is done with us. */
        struct timeval tv = {0, 0};
        fd_set fds;
        FD_ZERO (&fds);
        FD_SET (0, &fds);
        if (select (1, &fds, NULL, NULL, &tv) > 0) {
            char buf [64];
            if (read (0, buf, sizeof buf) <= 0)
                break;
        }
    }
    zactor_destroy (&beacon);
    return 0;
}
"#;

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles the czmq peer, or says why it cannot (`None`: skipped).
fn czmq_peer() -> Option<(TempDir, PathBuf)> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "zmqx-beacon-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dir = TempDir(dir);
    let source = dir.0.join("peer.c");
    std::fs::write(&source, CZMQ_PEER).expect("write the C source");
    let run = |command: &mut Command| -> Result<(), String> {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let out = common::wait_child(child, Duration::from_secs(60))
            .map_err(|e| format!("{command:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{command:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    // Is czmq's header there at all? (Only that is a reason to skip.)
    if let Err(why) = run(Command::new("cc")
        .args(["-E", "-x", "c", "-o", "/dev/null"])
        .arg(&source))
    {
        skip(&format!(
            "czmq cannot be used (apt install libczmq-dev): {why}"
        ));
        return None;
    }
    let program = dir.0.join("peer");
    if let Err(why) = run(Command::new("cc")
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .args(["-lczmq", "-lzmq"]))
    {
        panic!("czmq.h is there but the peer does not build: {why}");
    }
    Some((dir, program))
}

/// The beacons a side heard, as (peer, payload), with when.
fn heard(lines: &[Line]) -> Vec<(u64, String, String)> {
    lines
        .iter()
        .filter(|l| l.word == "heard")
        .map(|l| {
            let (peer, payload) = l.extra.split_once(' ').unwrap_or((&l.extra, ""));
            (l.at, peer.to_string(), payload.to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The tests.

/// A zmqx beacon hears another across the link: the payload, the right
/// peer address, at about the interval, through a prefix filter that
/// drops a third beacon's payload; and silence stops it.
#[test]
fn zmqx_beacons_cross_the_link_with_filter_interval_and_silence() {
    let Some(netns) = Netns::create() else { return };
    let listener = netns.zmqx(1, "listen", &[("ZMQX_BEACON_FILTER", "NODE/")]);
    // Published by name (czmq's ZSYS_INTERFACE), the other by lookup.
    let mut node = netns.zmqx(
        0,
        "publish",
        &[
            ("ZMQX_BEACON_PAYLOAD", "NODE/1"),
            ("ZSYS_INTERFACE", &netns.veth[0]),
        ],
    );
    let published = node.wait_for("published", common::TIMEOUT);
    let _other = netns.zmqx(0, "publish", &[("ZMQX_BEACON_PAYLOAD", "RANDOM")]);

    let first = listener.wait_for("heard", common::TIMEOUT);
    assert_eq!(first.extra, format!("{} NODE/1", netns.addr[0]));
    let latency = Duration::from_micros(first.at.saturating_sub(published.at));
    // Ten more intervals' worth: NODE/1 only, about every 100 ms.
    let lines = listener.collect(INTERVAL * 10);
    let beacons = heard(&lines);
    for (_, peer, payload) in &beacons {
        assert_eq!(
            (peer.as_str(), payload.as_str()),
            (netns.addr[0].as_str(), "NODE/1")
        );
    }
    assert!(
        (6..=14).contains(&beacons.len()),
        "{} beacons in 10 intervals",
        beacons.len()
    );
    let gaps: Vec<u64> = beacons.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mean = Duration::from_micros(gaps.iter().sum::<u64>() / gaps.len() as u64);
    assert!(
        mean >= INTERVAL * 8 / 10 && mean <= INTERVAL * 2,
        "mean gap {mean:?} for an interval of {INTERVAL:?} ({gaps:?} µs)"
    );
    println!(
        "discovery latency {latency:?} (first beacon leaves at publish); \
         mean gap {mean:?} at an interval of {INTERVAL:?}"
    );

    // Silence: nothing from NODE/1 after the silencing returned (the one
    // beacon that may be on the wire then arrives within a millisecond).
    node.tell("silence");
    let silenced = node.wait_for("silenced", common::TIMEOUT).at;
    let after = heard(&listener.collect(INTERVAL * 5));
    let late: Vec<_> = after.iter().filter(|b| b.0 > silenced + 5_000).collect();
    assert!(late.is_empty(), "beacons after silence: {late:?}");
}

/// A beacon that publishes does not hear its own payload (UDP echoes it),
/// but hears the other beacons of its host and of the LAN.
#[test]
fn a_beacon_does_not_hear_itself_but_its_hosts_other_beacons() {
    let Some(netns) = Netns::create() else { return };
    let listener = netns.zmqx(
        1,
        "listen",
        &[
            ("ZMQX_BEACON_FILTER", ""),
            ("ZMQX_BEACON_PAYLOAD", "B-self"),
        ],
    );
    let _b = netns.zmqx(1, "publish", &[("ZMQX_BEACON_PAYLOAD", "B")]);
    let _a = netns.zmqx(0, "publish", &[("ZMQX_BEACON_PAYLOAD", "A")]);
    let beacons = heard(&listener.collect(INTERVAL * 5));
    let has = |payload: &str, addr: &str| beacons.iter().any(|b| b.2 == payload && b.1 == addr);
    assert!(has("A", &netns.addr[0]), "{beacons:?}");
    assert!(has("B", &netns.addr[1]), "{beacons:?}");
    assert!(beacons.iter().all(|b| b.2 != "B-self"), "{beacons:?}");
}

/// czmq's zbeacon publishes; zmqx hears the payload and czmq's address.
#[test]
fn czmq_publishes_zmqx_hears() {
    let Some(netns) = Netns::create() else { return };
    let Some((_dir, peer)) = czmq_peer() else {
        return;
    };
    let listener = netns.zmqx(1, "listen", &[("ZMQX_BEACON_FILTER", "CZ")]);
    let _czmq = netns.czmq(0, &peer, &["publish", "5670", "CZMQ/node-7", "100"]);
    let m = listener.wait_for("heard", common::TIMEOUT);
    assert_eq!(m.extra, format!("{} CZMQ/node-7", netns.addr[0]));
}

/// zmqx publishes; czmq's zbeacon hears the payload and zmqx's address,
/// through its filter. A zmqx listener shares the port with it on the same
/// host (SO_REUSEADDR/SO_REUSEPORT on both sides) and hears the same.
#[test]
fn zmqx_publishes_czmq_hears() {
    let Some(netns) = Netns::create() else { return };
    let Some((_dir, peer)) = czmq_peer() else {
        return;
    };
    let zmqx = netns.zmqx(1, "listen", &[("ZMQX_BEACON_FILTER", "RS/")]);
    let czmq = netns.czmq(1, &peer, &["listen", "5670", "RS/"]);
    let _other = netns.zmqx(0, "publish", &[("ZMQX_BEACON_PAYLOAD", "XX/skip")]);
    let _node = netns.zmqx(0, "publish", &[("ZMQX_BEACON_PAYLOAD", "RS/zmqx-1")]);
    let m = czmq.wait_for("heard", common::TIMEOUT);
    assert_eq!(m.extra, format!("{} RS/zmqx-1", netns.addr[0]));
    let m = zmqx.wait_for("heard", common::TIMEOUT);
    assert_eq!(m.extra, format!("{} RS/zmqx-1", netns.addr[0]));
    // Its filter kept the other beacon out (both publish every 100 ms).
    let beacons = heard(&czmq.collect(INTERVAL * 5));
    assert!(!beacons.is_empty());
    assert!(beacons.iter().all(|b| b.2 == "RS/zmqx-1"), "{beacons:?}");
}
