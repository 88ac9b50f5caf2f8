//! The soak harness shared by `examples/soak` (the long run, on demand) and
//! `tests/soak.rs` (the bounded run of `cargo test`).
//!
//! A driver (this process) exchanges numbered messages with a peer process
//! that it kills and restarts while traffic flows, alternately with SIGTERM
//! (the peer closes gracefully, with linger) and SIGKILL. The peer is one of:
//!
//! - [`Mode::Push`]: a PUSH source connecting to the driver's PULL. Each
//!   message is `[seq, generation]`; the peer records in a file the next
//!   sequence number after every send libzmq accepted, so the driver knows
//!   exactly what each incarnation sent, even after SIGKILL.
//! - [`Mode::Pull`]: a PULL sink connecting to the driver's PUSH, which
//!   acknowledges every message it received over a second PUSH→PULL pair. A
//!   message counts as delivered once its acknowledgement arrived: what a
//!   sink received and could not acknowledge before it died is lost to the
//!   application too.
//! - [`Mode::Rep`]: a REP echo server; the driver is a Lazy Pirate client
//!   (a REQ socket, a reply timeout, then close, reconnect and resend).
//!
//! The report counts losses and duplicates exactly, times reconnects
//! (the peer's READY line to its first message) and outages (the kill to the
//! new incarnation's first message), and samples the driver's RSS.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zmqx::{Context, Error, PollEvents, SendFlags, Socket, SocketType};

/// Environment variables that configure a peer process.
const ENV_ROLE: &str = "ZMQX_SOAK_ROLE";
const ENV_ENDPOINT: &str = "ZMQX_SOAK_ENDPOINT";
const ENV_ACK: &str = "ZMQX_SOAK_ACK";
const ENV_GEN: &str = "ZMQX_SOAK_GEN";
const ENV_START: &str = "ZMQX_SOAK_START";
const ENV_END: &str = "ZMQX_SOAK_END";
const ENV_RECORD: &str = "ZMQX_SOAK_RECORD";
const ENV_HWM: &str = "ZMQX_SOAK_HWM";
/// The kernel buffers of the data sockets with [`Config::hwm`] (bytes).
const SMALL_BUFFER: i32 = 8192;
/// The line a peer prints once its sockets are set up.
const READY: &str = "ZMQX_SOAK_READY ";
/// How long a gracefully closing peer lets its queued messages leave.
const PEER_LINGER: Duration = Duration::from_secs(10);

/// What the peer process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The peer is a PUSH source, the driver a PULL sink.
    Push,
    /// The peer is a PULL sink (acknowledging), the driver a PUSH source.
    Pull,
    /// The peer is a REP server, the driver a Lazy Pirate REQ client.
    Rep,
}

impl Mode {
    /// All modes, in the order the example runs them.
    pub const ALL: [Mode; 3] = [Mode::Push, Mode::Pull, Mode::Rep];

    /// The mode's name on the command line and in the environment.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Push => "push",
            Mode::Pull => "pull",
            Mode::Rep => "rep",
        }
    }

    /// Parses [`Mode::name`].
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// How a peer incarnation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: the peer closed its sockets with linger.
    Term,
    /// SIGKILL: no chance to close anything.
    Kill,
    /// The last incarnation: it finished its work (PUSH) or was asked to
    /// stop with SIGTERM once the driver was done.
    End,
}

/// Which signal stops the restarted peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillPolicy {
    /// Always SIGTERM.
    Term,
    /// Always SIGKILL.
    Kill,
    /// SIGTERM, SIGKILL, SIGTERM, ...
    Mix,
}

impl KillPolicy {
    /// Parses `term`, `kill` or `mix`.
    pub fn parse(s: &str) -> Option<KillPolicy> {
        match s {
            "term" => Some(KillPolicy::Term),
            "kill" => Some(KillPolicy::Kill),
            "mix" => Some(KillPolicy::Mix),
            _ => None,
        }
    }

    fn pick(self, generation: u64) -> Stop {
        match self {
            KillPolicy::Term => Stop::Term,
            KillPolicy::Kill => Stop::Kill,
            KillPolicy::Mix if generation % 2 == 0 => Stop::Term,
            KillPolicy::Mix => Stop::Kill,
        }
    }
}

/// One soak run.
#[derive(Clone, Debug)]
pub struct Config {
    /// What the peer is.
    pub mode: Mode,
    /// Messages (or requests) in all.
    pub messages: u64,
    /// How many times the peer is stopped and restarted.
    pub restarts: u64,
    /// Which signal stops it.
    pub policy: KillPolicy,
    /// The Lazy Pirate reply timeout ([`Mode::Rep`]).
    pub req_timeout: Duration,
    /// The whole run fails after this long.
    pub deadline: Duration,
    /// High-water marks for both ends of the data connection, with small
    /// kernel buffers ([`SMALL_BUFFER`]); `None` keeps the defaults (1000
    /// messages, the OS's buffers).
    pub hwm: Option<i32>,
    /// [`Mode::Pull`]: the driver resends what a sink never acknowledged,
    /// to a restarted sink and once more at the end (at-least-once
    /// delivery; the receiver must drop duplicates by sequence number).
    pub resend: bool,
}

impl Config {
    /// A run of `messages` with `restarts`, mixed signals.
    pub fn new(mode: Mode, messages: u64, restarts: u64) -> Config {
        Config {
            mode,
            messages,
            restarts,
            policy: KillPolicy::Mix,
            req_timeout: Duration::from_millis(250),
            deadline: Duration::from_secs(600),
            hwm: None,
            resend: false,
        }
    }
}

/// What one peer process did.
#[derive(Clone, Debug)]
pub struct Incarnation {
    /// How it ended.
    pub stop: Stop,
    /// Messages it was responsible for (sent by it, or sent to it).
    pub messages: u64,
    /// Of those, never delivered.
    pub lost: u64,
    /// From its READY line to its first message.
    pub reconnect: Option<Duration>,
    /// From the previous incarnation's kill to this one's first message.
    pub outage: Option<Duration>,
    /// The peer's own peak RSS (`VmHWM`) in KiB, read before it was stopped.
    pub peer_hwm_kib: Option<u64>,
    /// From the signal to the process's exit (with SIGTERM: its graceful
    /// close, linger included).
    pub exit: Duration,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The run's configuration.
    pub config: Config,
    /// Messages the peers sent (PUSH) or the driver sent (PULL, REP).
    pub sent: u64,
    /// Distinct messages delivered (received, acknowledged, answered).
    pub delivered: u64,
    /// Sent and never delivered.
    pub lost: u64,
    /// Delivered more than once.
    pub duplicates: u64,
    /// Resends: Lazy Pirate ([`Mode::Rep`]) or of unacknowledged messages
    /// ([`Config::resend`]).
    pub retries: u64,
    /// Every peer process, in order.
    pub incarnations: Vec<Incarnation>,
    /// The driver's RSS in KiB with the progress at that time, sampled
    /// every 100 ms.
    pub rss_kib: Vec<(u64, u64)>,
    /// The run's duration.
    pub elapsed: Duration,
}

impl Report {
    /// Messages lost by incarnations that ended with `stop`.
    pub fn lost_by(&self, stop: Stop) -> u64 {
        self.incarnations
            .iter()
            .filter(|i| i.stop == stop)
            .map(|i| i.lost)
            .sum()
    }

    /// Incarnations that ended with `stop`.
    pub fn count(&self, stop: Stop) -> usize {
        self.incarnations.iter().filter(|i| i.stop == stop).count()
    }

    /// The reconnect times, sorted.
    pub fn reconnects(&self) -> Vec<Duration> {
        let mut v: Vec<_> = self
            .incarnations
            .iter()
            .filter_map(|i| i.reconnect)
            .collect();
        v.sort();
        v
    }

    /// The outages, sorted.
    pub fn outages(&self) -> Vec<Duration> {
        let mut v: Vec<_> = self.incarnations.iter().filter_map(|i| i.outage).collect();
        v.sort();
        v
    }

    /// The exit times after a signal, sorted.
    pub fn exits(&self) -> Vec<Duration> {
        let mut v: Vec<_> = self
            .incarnations
            .iter()
            .filter(|i| i.stop != Stop::End)
            .map(|i| i.exit)
            .collect();
        v.sort();
        v
    }

    /// RSS at the first sample, once a tenth of the traffic has passed
    /// (warmed up: buffers and tallies allocated), at the last sample, and
    /// the largest, in KiB.
    pub fn rss(&self) -> (u64, u64, u64, u64) {
        let first = self.rss_kib.first().map_or(0, |s| s.1);
        let warm = self
            .rss_kib
            .iter()
            .find(|s| s.0 >= self.config.messages / 10)
            .map_or(first, |s| s.1);
        let last = self.rss_kib.last().map_or(0, |s| s.1);
        let max = self.rss_kib.iter().map(|s| s.1).max().unwrap_or(0);
        (first, warm, last, max)
    }

    /// A few lines for humans.
    pub fn summary(&self) -> String {
        let c = &self.config;
        let (rss0, warm, rss1, rssmax) = self.rss();
        let mut s = format!(
            "mode {} (peer role){}{}: {} messages, {} restarts ({} SIGTERM, {} SIGKILL) in {:.1?}\n",
            c.mode.name(),
            if c.resend && c.mode == Mode::Pull {
                ", acknowledged and resent"
            } else {
                ""
            },
            c.hwm.map_or(String::new(), |h| format!(
                ", HWM {h} and {SMALL_BUFFER}-byte buffers"
            )),
            c.messages,
            c.restarts,
            self.count(Stop::Term),
            self.count(Stop::Kill),
            self.elapsed,
        );
        s += &format!(
            "  sent {}, delivered {}, lost {} (SIGTERM {}, SIGKILL {}, end {}), duplicates {}, retries {}\n",
            self.sent,
            self.delivered,
            self.lost,
            self.lost_by(Stop::Term),
            self.lost_by(Stop::Kill),
            self.lost_by(Stop::End),
            self.duplicates,
            self.retries,
        );
        s += &format!(
            "  reconnect (READY to first message): {}\n",
            dist(&self.reconnects())
        );
        s += &format!(
            "  outage (kill to first message):    {}\n",
            dist(&self.outages())
        );
        s += &format!(
            "  exit (signal to process exit):     {}\n",
            dist(&self.exits())
        );
        let peer_hwm = self
            .incarnations
            .iter()
            .filter_map(|i| i.peer_hwm_kib)
            .max();
        s += &format!(
            "  driver RSS: start {rss0} KiB, at 10% {warm} KiB, end {rss1} KiB, max {rssmax} KiB, \
             growth after 10% {} KiB; peer peak RSS {} KiB\n",
            rss1 as i64 - warm as i64,
            peer_hwm.map_or("?".to_string(), |k| k.to_string()),
        );
        for (n, i) in self.incarnations.iter().enumerate() {
            s += &format!(
                "    #{n}: {:?}, {} messages, {} lost, reconnect {:?}, outage {:?}, exit {:?}\n",
                i.stop, i.messages, i.lost, i.reconnect, i.outage, i.exit
            );
        }
        s
    }
}

/// `min/median/p99/max` of sorted durations.
pub fn dist(sorted: &[Duration]) -> String {
    if sorted.is_empty() {
        return "n/a".into();
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!(
        "n={} min {:.1?} median {:.1?} p99 {:.1?} max {:.1?}",
        sorted.len(),
        sorted[0],
        at(0.5),
        at(0.99),
        sorted[sorted.len() - 1]
    )
}

/// A resident set figure of this process from `/proc/self/status`, in KiB.
pub fn status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Microseconds since the epoch: a clock both processes read.
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn err(context: &str, e: impl std::fmt::Display) -> String {
    format!("{context}: {e}")
}

fn seq_of(frame: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_le_bytes(frame.get(..8)?.try_into().ok()?);
    let generation = frame
        .get(8..16)
        .map_or(0, |g| u64::from_le_bytes(g.try_into().unwrap_or([0; 8])));
    Some((seq, generation))
}

fn frame(seq: u64, generation: u64) -> [u8; 16] {
    let mut f = [0u8; 16];
    f[..8].copy_from_slice(&seq.to_le_bytes());
    f[8..].copy_from_slice(&generation.to_le_bytes());
    f
}

// ---------------------------------------------------------------------------
// The peer process.

/// The peer's errors: zmqx's and its own.
pub type PeerResult<T> = Result<T, Box<dyn std::error::Error>>;

fn env(name: &str) -> PeerResult<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

fn env_u64(name: &str) -> PeerResult<u64> {
    Ok(env(name)?.parse()?)
}

/// Whether this process was started as a soak peer.
pub fn is_peer() -> bool {
    std::env::var_os(ENV_ROLE).is_some()
}

/// Runs the peer described by the environment until SIGTERM (or, for a PUSH
/// source, until it sent everything).
pub fn peer_main() -> PeerResult<()> {
    let term = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))?;
    let role = env(ENV_ROLE)?;
    let mode = Mode::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
    let generation = env_u64(ENV_GEN)?;
    let endpoint = env(ENV_ENDPOINT)?;
    let ctx = Context::new();
    let hwm: Option<i32> = std::env::var(ENV_HWM).ok().and_then(|h| h.parse().ok());
    let limit = |s: &Socket| -> zmqx::Result<()> {
        if let Some(h) = hwm {
            s.set_sndhwm(h)?;
            s.set_rcvhwm(h)?;
            s.set_sndbuf(SMALL_BUFFER)?;
            s.set_rcvbuf(SMALL_BUFFER)?;
        }
        Ok(())
    };
    let ready = |endpoint: &str| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // The time is the peer's own: the driver may read this line after
        // the first messages.
        let _ = writeln!(out, "\n{READY}{} {endpoint}", now_us());
        let _ = out.flush();
    };
    match mode {
        Mode::Push => {
            let start = env_u64(ENV_START)?;
            let end = env_u64(ENV_END)?;
            let record = std::fs::OpenOptions::new()
                .write(true)
                .open(env(ENV_RECORD)?)?;
            let push = ctx.socket(SocketType::Push)?;
            push.set_linger(Some(PEER_LINGER))?;
            push.set_sndtimeo(Some(Duration::from_millis(50)))?;
            limit(&push)?;
            push.connect(&endpoint)?;
            ready(&endpoint);
            'all: for seq in start..end {
                loop {
                    if term.load(Ordering::Relaxed) {
                        break 'all;
                    }
                    match push.send(&frame(seq, generation)) {
                        Ok(()) => break,
                        Err(Error::Again) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                // After the send: a SIGKILL in between makes one message
                // delivered but unrecorded, which the driver tolerates.
                let _ = record.write_at(&(seq + 1).to_le_bytes(), 0);
            }
            // Dropping the socket closes it with PEER_LINGER: what libzmq
            // accepted leaves before the process exits.
            drop(push);
        }
        Mode::Pull => {
            let pull = ctx.socket(SocketType::Pull)?;
            pull.set_rcvtimeo(Some(Duration::from_millis(50)))?;
            limit(&pull)?;
            pull.connect(&endpoint)?;
            let ack = ctx.socket(SocketType::Push)?;
            ack.set_linger(Some(PEER_LINGER))?;
            ack.connect(&env(ENV_ACK)?)?;
            ready(&endpoint);
            let acknowledge = |m: &zmqx::Message| -> PeerResult<()> {
                let (seq, _) = seq_of(m).ok_or("short message")?;
                Ok(ack.send(&frame(seq, generation))?)
            };
            while !term.load(Ordering::Relaxed) {
                match pull.recv_msg() {
                    Ok(m) => acknowledge(&m)?,
                    Err(Error::Again) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            // Graceful: take no more, then acknowledge what already arrived.
            pull.disconnect(&endpoint)?;
            pull.set_rcvtimeo(Some(Duration::from_millis(100)))?;
            loop {
                match pull.recv_msg() {
                    Ok(m) => acknowledge(&m)?,
                    Err(Error::Again) => break,
                    Err(e) => return Err(e.into()),
                }
            }
            drop(pull);
            drop(ack);
        }
        Mode::Rep => {
            let rep = ctx.socket(SocketType::Rep)?;
            rep.set_linger(Some(PEER_LINGER))?;
            rep.set_rcvtimeo(Some(Duration::from_millis(50)))?;
            limit(&rep)?;
            // A restarted server binds its predecessor's port; the port can
            // take a moment to become free again.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match rep.bind(&endpoint) {
                    Ok(_) => break,
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            ready(&rep.last_endpoint()?);
            while !term.load(Ordering::Relaxed) {
                match rep.recv_msg() {
                    Ok(m) => {
                        let (seq, _) = seq_of(&m).ok_or("short request")?;
                        rep.send(&frame(seq, generation))?;
                    }
                    Err(Error::Again) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            drop(rep);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The driver.

/// State shared by the traffic thread, the chaos thread and the sampler.
struct Shared {
    /// Messages delivered so far (received, sent, answered).
    progress: AtomicU64,
    /// Set when the traffic side finished (PULL and REP modes).
    traffic_done: AtomicBool,
    /// Set when the last peer exited.
    peers_done: AtomicBool,
    /// Set to make everything give up.
    abort: AtomicBool,
    /// Per generation: READY time, first message time, progress at READY.
    ready: Mutex<Vec<(SystemTime, u64)>>,
    first: Mutex<Vec<Option<SystemTime>>>,
    /// The REP server's endpoint once known.
    endpoint: Mutex<Option<String>>,
}

impl Shared {
    /// Notes a message from `generation`; cheap unless it is a new one.
    fn seen(&self, generation: u64, last: &mut u64) {
        if generation == *last {
            return;
        }
        *last = generation;
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        let g = generation as usize;
        if first.len() <= g {
            first.resize(g + 1, None);
        }
        first[g].get_or_insert_with(SystemTime::now);
    }

    /// Whether a message from `generation` was seen.
    fn reached(&self, generation: u64) -> bool {
        let first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        first.get(generation as usize).is_some_and(|f| f.is_some())
    }

    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }
}

/// A peer process, killed if dropped while running.
struct Peer {
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Peer {
    fn signal_term(&self) -> Result<(), String> {
        let pid = libc::pid_t::try_from(self.child.id()).map_err(|e| err("pid", e))?;
        // SAFETY: kill(2) only sends a signal. The pid is our own child's,
        // not reaped yet (we hold its `Child`), so it names no other process.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        if rc == 0 {
            Ok(())
        } else {
            Err(err("kill(SIGTERM)", std::io::Error::last_os_error()))
        }
    }

    fn wait(&mut self, timeout: Duration, shared: &Shared) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline && !shared.aborted() => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(None) => return Err(format!("peer {} did not exit", self.child.id())),
                Err(e) => return Err(err("wait for peer", e)),
            }
        }
    }
}

/// Per-run files and endpoints the chaos thread hands to peers.
struct PeerSpec<'a> {
    mode: Mode,
    messages: u64,
    hwm: Option<i32>,
    /// The driver's endpoint (PUSH, PULL modes).
    endpoint: String,
    ack: String,
    record: PathBuf,
    command: &'a (dyn Fn() -> Command + Sync),
}

fn spawn_peer(
    spec: &PeerSpec<'_>,
    generation: u64,
    start: u64,
    endpoint: &str,
) -> Result<(Peer, String, SystemTime), String> {
    if spec.mode == Mode::Push {
        std::fs::write(&spec.record, start.to_le_bytes()).map_err(|e| err("record file", e))?;
    }
    let mut cmd = (spec.command)();
    cmd.env(ENV_ROLE, spec.mode.name())
        .env(ENV_ENDPOINT, endpoint)
        .env(ENV_ACK, &spec.ack)
        .env(ENV_GEN, generation.to_string())
        .env(ENV_START, start.to_string())
        .env(ENV_END, spec.messages.to_string())
        .env(ENV_RECORD, &spec.record)
        .env(ENV_HWM, spec.hwm.map_or(String::new(), |h| h.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| err("spawn peer", e))?;
    let stdout = child.stdout.take().ok_or("no peer stdout")?;
    let peer = Peer { child };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        // Read to the end so the peer never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if let Some((_, ep)) = line.split_once(READY) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(ep.trim().to_string());
                }
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the peer did not get ready in 30 s".to_string())?;
    let (micros, endpoint) = line.split_once(' ').ok_or("bad READY line")?;
    let micros: u64 = micros.parse().map_err(|e| err("READY time", e))?;
    Ok((
        peer,
        endpoint.to_string(),
        UNIX_EPOCH + Duration::from_micros(micros),
    ))
}

/// An incarnation as the chaos thread saw it: the incarnation, its
/// `[start, end)` sequence range (PUSH mode), and when its predecessor was
/// stopped.
type Ran = (Incarnation, u64, u64, Option<SystemTime>);

/// Starts, stops and restarts peers; returns the incarnations with their
/// `[start, end)` sequence ranges (PUSH mode) or progress ranges.
fn chaos(config: &Config, spec: &PeerSpec<'_>, shared: &Shared) -> Result<Vec<Ran>, String> {
    let mut out = Vec::new();
    let mut start = 0u64;
    let mut killed_at: Option<SystemTime> = None;
    for generation in 0..=config.restarts {
        let endpoint = match spec.mode {
            Mode::Rep => shared
                .endpoint
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| "tcp://127.0.0.1:*".to_string()),
            _ => spec.endpoint.clone(),
        };
        let (mut peer, bound, ready_at) = spawn_peer(spec, generation, start, &endpoint)?;
        {
            let mut ready = shared.ready.lock().unwrap_or_else(|e| e.into_inner());
            ready.push((ready_at, shared.progress.load(Ordering::Relaxed)));
        }
        if spec.mode == Mode::Rep {
            *shared.endpoint.lock().unwrap_or_else(|e| e.into_inner()) = Some(bound);
        }
        let last = generation == config.restarts;
        let stop = if last {
            Stop::End
        } else {
            config.policy.pick(generation)
        };
        let threshold = config.messages * (generation + 1) / (config.restarts + 1);
        let pid = peer.child.id();
        let mut hwm = None;
        // Wait for this incarnation's share of the traffic (or the end).
        loop {
            if shared.aborted() {
                return Err("aborted".into());
            }
            if let Ok(Some(status)) = peer.child.try_wait() {
                if spec.mode == Mode::Push && last && status.success() {
                    break;
                }
                return Err(format!("peer exited early: {status}"));
            }
            let done = if last {
                spec.mode != Mode::Push && shared.traffic_done.load(Ordering::Relaxed)
            } else {
                // Its share, and at least one message: traffic may have run
                // ahead into queues while it started.
                (shared.progress.load(Ordering::Relaxed) >= threshold && shared.reached(generation))
                    || shared.traffic_done.load(Ordering::Relaxed)
            };
            if done {
                break;
            }
            hwm = status_kib(Some(pid), "VmHWM:").or(hwm);
            std::thread::sleep(Duration::from_millis(1));
        }
        let stopped_at = SystemTime::now();
        match stop {
            Stop::Kill => {
                let _ = peer.child.kill();
            }
            Stop::Term => peer.signal_term()?,
            Stop::End if spec.mode == Mode::Push => {}
            Stop::End => peer.signal_term()?,
        }
        peer.wait(Duration::from_secs(30), shared)?;
        let exit = SystemTime::now()
            .duration_since(stopped_at)
            .unwrap_or_default();
        let end = if spec.mode == Mode::Push {
            let mut buf = [0u8; 8];
            File::open(&spec.record)
                .and_then(|f| f.read_exact_at(&mut buf, 0))
                .map_err(|e| err("read record", e))?;
            u64::from_le_bytes(buf)
        } else {
            0
        };
        let incarnation = Incarnation {
            stop,
            messages: end.saturating_sub(start),
            lost: 0,
            reconnect: None,
            outage: None,
            peer_hwm_kib: hwm,
            exit,
        };
        out.push((incarnation, start, end, killed_at));
        // A SIGKILL between a send and its record leaves one message of
        // unknown fate: the next incarnation starts after it.
        start = end + 1;
        killed_at = (stop != Stop::End).then_some(stopped_at);
    }
    shared.peers_done.store(true, Ordering::Relaxed);
    Ok(out)
}

/// Counts deliveries per sequence number.
struct Tally {
    counts: Vec<u8>,
    distinct: u64,
    duplicates: u64,
}

impl Tally {
    fn new(n: u64) -> Tally {
        // Touch every page now (`vec![0; n]` maps them lazily), so that the
        // RSS samples show the messaging, not this table filling in.
        let mut counts = vec![1u8; n as usize];
        counts.fill(0);
        Tally {
            counts,
            distinct: 0,
            duplicates: 0,
        }
    }

    fn add(&mut self, seq: u64) {
        let Some(c) = self.counts.get_mut(seq as usize) else {
            return;
        };
        if *c == 0 {
            self.distinct += 1;
        } else {
            self.duplicates += 1;
        }
        *c = c.saturating_add(1);
    }

    fn missing(&self, range: std::ops::Range<u64>) -> u64 {
        let end = (range.end as usize).min(self.counts.len());
        let start = (range.start as usize).min(end);
        self.counts[start..end].iter().filter(|&&c| c == 0).count() as u64
    }
}

/// Runs one soak. `command` makes a fresh command that starts this program
/// as a peer (the harness adds the environment).
pub fn run(config: &Config, command: &(dyn Fn() -> Command + Sync)) -> Result<Report, String> {
    let began = Instant::now();
    let ctx = Context::new();
    let shared = Shared {
        progress: AtomicU64::new(0),
        traffic_done: AtomicBool::new(false),
        peers_done: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        ready: Mutex::new(Vec::new()),
        first: Mutex::new(Vec::new()),
        endpoint: Mutex::new(None),
    };
    let record = std::env::temp_dir().join(format!(
        "zmqx-soak-{}-{}",
        std::process::id(),
        config.mode.name()
    ));
    let sock = |kind| -> Result<Socket, String> {
        let s = ctx.socket(kind).map_err(|e| err("socket", e))?;
        s.set_linger(Some(Duration::ZERO))
            .map_err(|e| err("linger", e))?;
        Ok(s)
    };
    // The driver's sockets, bound before any peer starts.
    let main = match config.mode {
        Mode::Push => Some(sock(SocketType::Pull)?),
        Mode::Pull => Some(sock(SocketType::Push)?),
        Mode::Rep => None,
    };
    let ack = (config.mode == Mode::Pull)
        .then(|| sock(SocketType::Pull))
        .transpose()?;
    let mut endpoint = String::new();
    if let Some(s) = &main {
        if let Some(h) = config.hwm {
            let limit = || -> zmqx::Result<()> {
                s.set_sndhwm(h)?;
                s.set_rcvhwm(h)?;
                s.set_sndbuf(SMALL_BUFFER)?;
                s.set_rcvbuf(SMALL_BUFFER)
            };
            limit().map_err(|e| err("high-water marks", e))?;
        }
        s.bind("tcp://127.0.0.1:*").map_err(|e| err("bind", e))?;
        endpoint = s.last_endpoint().map_err(|e| err("endpoint", e))?;
    }
    let mut ack_endpoint = String::new();
    if let Some(s) = &ack {
        s.bind("tcp://127.0.0.1:*").map_err(|e| err("bind", e))?;
        ack_endpoint = s.last_endpoint().map_err(|e| err("endpoint", e))?;
    }
    let spec = PeerSpec {
        mode: config.mode,
        messages: config.messages,
        hwm: config.hwm,
        endpoint,
        ack: ack_endpoint,
        record: record.clone(),
        command,
    };
    let rss = Mutex::new(Vec::new());
    let result = std::thread::scope(|scope| {
        let shared = &shared;
        let rss = &rss;
        let sampler = scope.spawn(move || {
            while !shared.peers_done.load(Ordering::Relaxed) && !shared.aborted() {
                if let Some(k) = status_kib(None, "VmRSS:") {
                    let progress = shared.progress.load(Ordering::Relaxed);
                    rss.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((progress, k));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let watchdog = {
            let deadline = began + config.deadline;
            scope.spawn(move || {
                while !shared.peers_done.load(Ordering::Relaxed) && !shared.aborted() {
                    if Instant::now() >= deadline {
                        shared.abort.store(true, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let chaos = scope.spawn(|| {
            let r = chaos(config, &spec, shared);
            if r.is_err() {
                shared.abort.store(true, Ordering::Relaxed);
            }
            r
        });
        let traffic = match config.mode {
            Mode::Push => drive_pull(config, main.as_ref(), shared),
            Mode::Pull => drive_push(config, main.as_ref(), ack, shared, scope),
            Mode::Rep => drive_req(config, &ctx, shared),
        };
        if traffic.is_err() {
            shared.abort.store(true, Ordering::Relaxed);
        }
        let chaos = chaos
            .join()
            .map_err(|_| "chaos thread panicked".to_string());
        shared.peers_done.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let _ = watchdog.join();
        let incarnations = chaos??;
        Ok::<_, String>((traffic?, incarnations))
    });
    let _ = std::fs::remove_file(&record);
    let ((tally, retries), mut raw) = result?;
    let ready = shared.ready.into_inner().unwrap_or_else(|e| e.into_inner());
    let first = shared.first.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut incarnations = Vec::new();
    let mut sent = 0;
    let n = raw.len();
    for (g, (inc, start, end, killed_at)) in raw.iter_mut().enumerate() {
        let first_at = first.get(g).copied().flatten();
        let ready_at = ready.get(g).map(|r| r.0);
        let since = |(f, r): (SystemTime, SystemTime)| f.duration_since(r).unwrap_or_default();
        inc.reconnect = first_at.zip(ready_at).map(since);
        inc.outage = first_at.zip(*killed_at).map(since);
        let range = match config.mode {
            Mode::Push => *start..*end,
            // The messages sent while this incarnation was the peer.
            _ => {
                let from = if g == 0 {
                    0
                } else {
                    ready.get(g).map_or(0, |r| r.1)
                };
                let to = if g + 1 < n {
                    ready.get(g + 1).map_or(config.messages, |r| r.1)
                } else {
                    config.messages
                };
                from..to
            }
        };
        inc.messages = range.end - range.start;
        inc.lost = tally.missing(range);
        sent += inc.messages;
        incarnations.push(inc.clone());
    }
    let lost = incarnations.iter().map(|i| i.lost).sum();
    Ok(Report {
        config: config.clone(),
        sent,
        delivered: tally.distinct,
        lost,
        duplicates: tally.duplicates,
        retries,
        incarnations,
        rss_kib: rss.into_inner().unwrap_or_else(|e| e.into_inner()),
        elapsed: began.elapsed(),
    })
}

/// PUSH mode: the driver's PULL receives until the last peer is gone and
/// the line is quiet.
fn drive_pull(
    config: &Config,
    pull: Option<&Socket>,
    shared: &Shared,
) -> Result<(Tally, u64), String> {
    let pull = pull.ok_or("no PULL socket")?;
    let mut tally = Tally::new(config.messages);
    let mut last_gen = u64::MAX;
    let mut quiet_since = None;
    loop {
        if shared.aborted() {
            return Err("aborted".into());
        }
        match pull.try_recv_msg() {
            Ok(Some(m)) => {
                quiet_since = None;
                let (seq, generation) = seq_of(&m).ok_or("short message")?;
                tally.add(seq);
                shared.seen(generation, &mut last_gen);
                shared.progress.fetch_add(1, Ordering::Relaxed);
            }
            Ok(None) => {
                if shared.peers_done.load(Ordering::Relaxed) {
                    let since = *quiet_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_millis(500) {
                        return Ok((tally, 0));
                    }
                }
                pull.poll(PollEvents::POLLIN, Some(Duration::from_millis(50)))
                    .map_err(|e| err("poll", e))?;
            }
            Err(e) => return Err(err("recv", e)),
        }
    }
}

/// PULL mode: the driver's PUSH sends everything; a thread counts the
/// acknowledgements.
fn drive_push<'scope>(
    config: &'scope Config,
    push: Option<&Socket>,
    ack: Option<Socket>,
    shared: &'scope Shared,
    scope: &'scope std::thread::Scope<'scope, '_>,
) -> Result<(Tally, u64), String> {
    let push = push.ok_or("no PUSH socket")?;
    let ack = ack.ok_or("no ack socket")?;
    let acked = Arc::new(AtomicU64::new(0));
    // Which messages were acknowledged, for resending the others.
    let acked_set: Arc<Vec<AtomicBool>> = Arc::new(
        (0..config.messages)
            .map(|_| AtomicBool::new(false))
            .collect(),
    );
    let acks = {
        let acked = Arc::clone(&acked);
        let acked_set = Arc::clone(&acked_set);
        scope.spawn(move || -> Result<Tally, String> {
            let mut tally = Tally::new(config.messages);
            let mut last_gen = u64::MAX;
            let mut quiet_since = None;
            loop {
                if shared.aborted() {
                    return Err("aborted".into());
                }
                match ack.try_recv_msg() {
                    Ok(Some(m)) => {
                        quiet_since = None;
                        let (seq, generation) = seq_of(&m).ok_or("short ack")?;
                        if let Some(a) = acked_set.get(seq as usize) {
                            a.store(true, Ordering::Relaxed);
                        }
                        tally.add(seq);
                        shared.seen(generation, &mut last_gen);
                        acked.store(tally.distinct, Ordering::Relaxed);
                    }
                    Ok(None) => {
                        if shared.peers_done.load(Ordering::Relaxed) {
                            let since = *quiet_since.get_or_insert_with(Instant::now);
                            if since.elapsed() > Duration::from_millis(500) {
                                return Ok(tally);
                            }
                        }
                        ack.poll(PollEvents::POLLIN, Some(Duration::from_millis(50)))
                            .map_err(|e| err("poll", e))?;
                    }
                    Err(e) => return Err(err("recv ack", e)),
                }
            }
        })
    };
    push.set_sndtimeo(Some(Duration::from_millis(50)))
        .map_err(|e| err("sndtimeo", e))?;
    let send = |seq: u64| -> Result<(), String> {
        loop {
            if shared.aborted() {
                return Err("aborted".to_string());
            }
            match push.send(&seq.to_le_bytes()) {
                Ok(()) => return Ok(()),
                Err(Error::Again) => continue,
                Err(e) => return Err(err("send", e)),
            }
        }
    };
    // Resends what was sent before `below` and never acknowledged.
    let mut resent = 0u64;
    let resend = |below: u64, resent: &mut u64| -> Result<(), String> {
        for seq in 0..below.min(config.messages) {
            if !acked_set[seq as usize].load(Ordering::Relaxed) {
                send(seq)?;
                *resent += 1;
            }
        }
        Ok(())
    };
    // Waits until the acknowledgements stop coming for a second.
    let settle = || {
        let mut last = (acked.load(Ordering::Relaxed), Instant::now());
        while last.0 < config.messages && last.1.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(10));
            let now = acked.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
    };
    let sent = (|| -> Result<(), String> {
        let generations = || shared.ready.lock().unwrap_or_else(|e| e.into_inner()).len();
        let mut seen = generations();
        // After a restart: when to resend, and below which sequence number
        // (what the new sink gets from now on is not in doubt yet).
        let mut due: Option<(Instant, u64)> = None;
        for seq in 0..config.messages {
            send(seq)?;
            shared.progress.store(seq + 1, Ordering::Relaxed);
            if config.resend {
                let now = generations();
                if now != seen {
                    seen = now;
                    // Give the old sink's last acknowledgements a moment.
                    due = Some((Instant::now() + Duration::from_millis(100), seq));
                }
                if let Some((at, below)) = due {
                    if Instant::now() >= at {
                        due = None;
                        resend(below, &mut resent)?;
                    }
                }
            }
        }
        settle();
        if config.resend {
            for _ in 0..10 {
                if acked.load(Ordering::Relaxed) >= config.messages {
                    break;
                }
                resend(config.messages, &mut resent)?;
                settle();
            }
        }
        Ok(())
    })();
    shared.traffic_done.store(true, Ordering::Relaxed);
    if sent.is_err() {
        shared.abort.store(true, Ordering::Relaxed);
    }
    let tally = acks.join().map_err(|_| "ack thread panicked".to_string())?;
    sent?;
    Ok((tally?, resent))
}

/// REP mode: a Lazy Pirate client; every request is answered or the run
/// fails.
fn drive_req(config: &Config, ctx: &Context, shared: &Shared) -> Result<(Tally, u64), String> {
    let new_req = |endpoint: &str| -> Result<Socket, String> {
        let s = ctx.socket(SocketType::Req).map_err(|e| err("socket", e))?;
        s.set_linger(Some(Duration::ZERO))
            .map_err(|e| err("linger", e))?;
        s.connect(endpoint).map_err(|e| err("connect", e))?;
        Ok(s)
    };
    let endpoint = loop {
        if shared.aborted() {
            return Err("aborted".into());
        }
        if let Some(ep) = shared
            .endpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            break ep;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut tally = Tally::new(config.messages);
    let mut retries = 0;
    let mut last_gen = u64::MAX;
    let mut req = new_req(&endpoint)?;
    for seq in 0..config.messages {
        loop {
            if shared.aborted() {
                return Err("aborted".into());
            }
            req.send_with(&seq.to_le_bytes(), SendFlags::DONTWAIT)
                .map_err(|e| err("send request", e))?;
            let ready = req
                .poll(PollEvents::POLLIN, Some(config.req_timeout))
                .map_err(|e| err("poll", e))?;
            if ready.contains(PollEvents::POLLIN) {
                let m = req
                    .try_recv_msg()
                    .map_err(|e| err("recv reply", e))?
                    .ok_or("no reply after POLLIN")?;
                let (got, generation) = seq_of(&m).ok_or("short reply")?;
                if got != seq {
                    return Err(format!("reply {got} to request {seq}"));
                }
                tally.add(seq);
                shared.seen(generation, &mut last_gen);
                break;
            }
            // Lazy Pirate: no reply in time, so abandon this socket (its
            // request may be lost) and resend on a fresh one.
            retries += 1;
            req = new_req(&endpoint)?;
        }
        shared.progress.store(seq + 1, Ordering::Relaxed);
    }
    shared.traffic_done.store(true, Ordering::Relaxed);
    Ok((tally, retries))
}
