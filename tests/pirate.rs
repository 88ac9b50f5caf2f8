//! The Lazy Pirate client and the Paranoid Pirate queue and worker
//! (`zmqx::patterns`): retries, failover, heartbeats, backoff, and servers
//! and workers killed with SIGKILL and restarted ten times under load.
//!
//! The killed servers and workers are real processes: this test binary
//! run again with `ZMQX_PIRATE_CHILD` set, which makes its `pirate_child`
//! test the child's program (it prints `PIRATE-READY` once it is set up and
//! exits when its stdin closes, so a crashed parent leaves no orphan).
#![cfg(unix)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::TIMEOUT;
use zmqx::patterns::lazy_pirate::{self, Client, Mode};
use zmqx::patterns::paranoid_pirate::{self, HEARTBEAT, Queue, READY, Worker};
use zmqx::{Context, Message, Socket, SocketType};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CHILD_ENV: &str = "ZMQX_PIRATE_CHILD";
const ENDPOINT_ENV: &str = "ZMQX_PIRATE_ENDPOINT";
const LOG_ENV: &str = "ZMQX_PIRATE_LOG";
const READY_LINE: &str = "PIRATE-READY";
/// How long the child servers and workers work on a request.
const WORK: Duration = Duration::from_millis(5);
/// The heartbeat of the Paranoid Pirate tests.
const PP_HEARTBEAT: Duration = Duration::from_millis(100);

// ---------------------------------------------------------------------------
// The child processes.

/// The entry point of the child processes (does nothing in a normal run).
#[test]
fn pirate_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    // Die with the parent: it holds our stdin.
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        loop {
            match std::io::stdin().read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
    let endpoint = std::env::var(ENDPOINT_ENV).expect("the endpoint");
    let log = PathBuf::from(std::env::var(LOG_ENV).expect("the log path"));
    match mode.as_str() {
        "lp-server" => lp_server(&endpoint, &log),
        "pp-worker" => pp_worker(&endpoint, &log),
        other => panic!("unknown child mode {other}"),
    }
}

/// Appends a processed request id to the log (one unbuffered write per
/// request, so it is on disk before the reply leaves, even if we are
/// killed right after).
fn log_request(log: &mut std::fs::File, id: &Message) {
    let line = format!("{}\n", id.as_str().unwrap_or("?"));
    log.write_all(line.as_bytes()).expect("log write");
}

fn open_log(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("log file")
}

/// The Lazy Pirate server: a REP echo that also returns its pid.
fn lp_server(endpoint: &str, log: &Path) {
    let ctx = Context::new();
    let rep = ctx.socket(SocketType::Rep).expect("socket");
    rep.set_linger(Some(Duration::ZERO)).expect("linger");
    // The killed predecessor's port may take a moment to be free.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match rep.bind(endpoint) {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("lp-server: bind {endpoint}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("bind {endpoint}: {e}"),
        }
    }
    let mut log = open_log(log);
    let pid = std::process::id().to_string();
    println!("\n{READY_LINE} {}", rep.last_endpoint().expect("endpoint"));
    std::io::stdout().flush().expect("flush");
    loop {
        let request = rep.recv_multipart().expect("recv");
        log_request(&mut log, &request[0]);
        // A little work, so that some kills land between the work and
        // the reply: those requests are processed twice (at least once).
        std::thread::sleep(WORK);
        rep.send_multipart([&request[0][..], pid.as_bytes()])
            .expect("send");
    }
}

/// The Paranoid Pirate worker: echoes the request id and its pid.
fn pp_worker(endpoint: &str, log: &Path) {
    let worker = Worker::builder(endpoint)
        .heartbeat_interval(PP_HEARTBEAT)
        .liveness(3)
        .reconnect(Duration::from_millis(100), Duration::from_secs(1))
        .build()
        .expect("worker");
    let mut log = open_log(log);
    let pid = std::process::id().to_string();
    println!("\n{READY_LINE} {endpoint}");
    std::io::stdout().flush().expect("flush");
    worker
        .run(move |request| {
            log_request(&mut log, &request[0]);
            std::thread::sleep(WORK);
            vec![request[0].clone(), Message::from(pid.as_str())]
        })
        .expect("worker run");
}

/// A child process and the lines of its stdout.
struct ChildProc {
    child: Child,
    lines: Receiver<String>,
}

impl ChildProc {
    fn spawn(mode: &str, endpoint: &str, log: &Path) -> std::io::Result<ChildProc> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["pirate_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, mode)
            .env(ENDPOINT_ENV, endpoint)
            .env(LOG_ENV, log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(ChildProc { child, lines })
    }

    /// Waits for the ready line; returns what follows the token.
    fn ready(&self) -> Result<String, String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(pos) = line.find(READY_LINE) {
                        return Ok(line[pos + READY_LINE.len()..].trim().to_string());
                    }
                }
                Err(e) => return Err(format!("child not ready: {e}")),
            }
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    fn kill(mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The kill-and-restart runs.

/// A reply the load client got: the request id, when, and the pid of the
/// process that served it.
struct Reply {
    at: Instant,
    pid: String,
}

/// A Lazy Pirate client sending numbered requests back to back in a thread.
struct Load {
    replies: Receiver<Result<Reply, String>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, lazy_pirate::Stats)>,
}

impl Load {
    fn start(endpoint: &str, mode: Mode, timeout: Duration) -> lazy_pirate::Result<Load> {
        let mut client = Client::builder()
            .endpoint(endpoint)
            .timeout(timeout)
            .retries(60)
            .mode(mode)
            .build()?;
        let (tx, replies) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut sent = 0u64;
            while !stop_flag.load(Ordering::Relaxed) {
                let id = sent.to_string();
                let outcome = match client.request([id.as_str()]) {
                    Ok(reply) if reply.len() == 2 && reply[0] == id.as_str() => Ok(Reply {
                        at: Instant::now(),
                        pid: reply[1].as_str().unwrap_or("?").to_string(),
                    }),
                    Ok(reply) => Err(format!("request {id}: wrong reply {reply:?}")),
                    Err(e) => Err(format!("request {id}: {e}")),
                };
                let failed = outcome.is_err();
                if tx.send(outcome).is_err() || failed {
                    break;
                }
                sent += 1;
            }
            (sent, client.stats())
        });
        Ok(Load {
            replies,
            stop,
            thread,
        })
    }

    fn next(&self) -> Result<Reply, String> {
        self.replies
            .recv_timeout(TIMEOUT)
            .map_err(|e| format!("no reply within {TIMEOUT:?}: {e}"))?
    }

    /// Stops the client; returns how many requests were answered.
    fn finish(self) -> Result<(u64, lazy_pirate::Stats), String> {
        self.stop.store(true, Ordering::Relaxed);
        // Drain so that an error reported at the end is seen.
        let (answered, stats) = self.thread.join().map_err(|_| "client panicked")?;
        while let Ok(r) = self.replies.try_recv() {
            r?;
        }
        Ok((answered, stats))
    }
}

/// What a kill-and-restart run measured.
struct Figures {
    answered: u64,
    duplicates: u64,
    recoveries: Vec<Duration>,
    restarts: Vec<Duration>,
    after_ready: Vec<Duration>,
    stats: lazy_pirate::Stats,
}

impl Figures {
    fn print(&self, what: &str) {
        let mut r = self.recoveries.clone();
        r.sort();
        let mut a = self.after_ready.clone();
        a.sort();
        let mut k = self.restarts.clone();
        k.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{what}: {} requests answered, none lost; {} processed twice; {} kills; \
             kill -> first reply from the new process: min {:.0} ms, median {:.0} ms, max {:.0} ms; \
             kill -> new process ready: median {:.0} ms, max {:.0} ms; \
             new process ready -> first reply: median {:.0} ms, max {:.0} ms; \
             client retries {}, sockets {}",
            self.answered,
            self.duplicates,
            r.len(),
            ms(r[0]),
            ms(r[r.len() / 2]),
            ms(r[r.len() - 1]),
            ms(k[k.len() / 2]),
            ms(k[k.len() - 1]),
            ms(a[a.len() / 2]),
            ms(a[a.len() - 1]),
            self.stats.retries,
            self.stats.sockets,
        );
    }
}

/// Reads the processed-request log: id -> times processed.
fn processed(log: &Path) -> std::io::Result<HashMap<u64, u64>> {
    let text = std::fs::read_to_string(log)?;
    let mut counts = HashMap::new();
    // A killed process may leave a partial last line: only full lines count.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        if let Ok(id) = line.trim().parse::<u64>() {
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// Waits until the child logs one more request than now (it is then
/// working on it).
fn wait_for_next_request(log: &Path) -> Result<(), String> {
    let lines = |log: &Path| {
        std::fs::read(log)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0)
    };
    let now = lines(log);
    let deadline = Instant::now() + TIMEOUT;
    while lines(log) == now {
        if Instant::now() >= deadline {
            return Err("the child logged no new request".into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

fn temp_log(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("zmqx-pirate-{name}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

const KILLS: usize = 10;
/// Replies the client gets from each process before it is killed.
const REPLIES_PER_LIFE: usize = 20;

/// Kills the child `KILLS` times while `load` runs, restarting it on
/// `child_endpoint`; measures from each kill to the first reply served by
/// the new process.
fn kill_and_restart(
    mode: &str,
    child_endpoint: &str,
    mut child: ChildProc,
    load: Load,
    log: &Path,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let mut recoveries = Vec::new();
    let mut after_ready = Vec::new();
    let mut restarts = Vec::new();
    for cycle in 0..KILLS {
        for _ in 0..REPLIES_PER_LIFE {
            load.next()?;
        }
        if cycle % 2 == 0 {
            // Every other kill lands while the child works on a request:
            // it has logged the next request and not replied yet, so the
            // retry makes it processed twice.
            wait_for_next_request(log)?;
        }
        let killed_at = Instant::now();
        child.kill()?;
        child = ChildProc::spawn(mode, child_endpoint, log)?;
        child.ready()?;
        let ready_at = Instant::now();
        restarts.push(ready_at - killed_at);
        let pid = child.pid();
        loop {
            let reply = load.next()?;
            if reply.pid == pid {
                recoveries.push(reply.at - killed_at);
                after_ready.push(reply.at.saturating_duration_since(ready_at));
                break;
            }
        }
    }
    for _ in 0..REPLIES_PER_LIFE {
        load.next()?;
    }
    let (answered, stats) = load.finish()?;
    child.kill()?;
    let counts = processed(log)?;
    for id in 0..answered {
        assert!(
            counts.contains_key(&id),
            "request {id} was answered but never logged as processed"
        );
    }
    let duplicates = counts.values().map(|n| n - 1).sum();
    let _ = std::fs::remove_file(log);
    Ok(Figures {
        answered,
        duplicates,
        recoveries,
        restarts,
        after_ready,
        stats,
    })
}

fn lazy_pirate_kills(mode: Mode, name: &str) -> TestResult {
    let log = temp_log(name);
    let first = ChildProc::spawn("lp-server", "tcp://127.0.0.1:*", &log)?;
    let endpoint = first.ready()?;
    let load = Load::start(&endpoint, mode, Duration::from_millis(250))?;
    let figures = kill_and_restart("lp-server", &endpoint, first, load, &log)?;
    figures.print(&format!("Lazy Pirate ({mode:?})"));
    assert!(figures.answered >= ((KILLS + 1) * REPLIES_PER_LIFE) as u64);
    assert_eq!(figures.recoveries.len(), KILLS);
    assert!(
        figures.duplicates >= 1,
        "kills during the work should make some requests processed twice"
    );
    Ok(())
}

/// The Lazy Pirate server is killed with SIGKILL and restarted 10 times
/// while the client sends without pause: every request is answered.
#[test]
fn lazy_pirate_survives_ten_server_kills() -> TestResult {
    lazy_pirate_kills(Mode::Recreate, "lp-recreate")
}

/// The same with one `REQ_RELAXED` + `REQ_CORRELATE` socket.
#[test]
fn lazy_pirate_relaxed_survives_ten_server_kills() -> TestResult {
    lazy_pirate_kills(Mode::Relaxed, "lp-relaxed")
}

/// The Paranoid Pirate worker is killed with SIGKILL and restarted 10
/// times while a Lazy Pirate client sends through the queue: every request
/// is answered.
#[test]
fn paranoid_pirate_survives_ten_worker_kills() -> TestResult {
    let log = temp_log("pp");
    let mut queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .heartbeat_interval(PP_HEARTBEAT)
        .liveness(3)
        .bind()?
        .spawn()?;
    let backend = queue.backend_endpoints()[0].clone();
    let first = ChildProc::spawn("pp-worker", &backend, &log)?;
    first.ready()?;
    let load = Load::start(
        &queue.frontend_endpoints()[0],
        Mode::Recreate,
        Duration::from_millis(250),
    )?;
    let figures = kill_and_restart("pp-worker", &backend, first, load, &log)?;
    figures.print("Paranoid Pirate (worker killed)");
    assert!(figures.answered >= ((KILLS + 1) * REPLIES_PER_LIFE) as u64);
    assert!(
        figures.duplicates >= 1,
        "kills during the work should make some requests processed twice"
    );
    assert!(queue.stop(TIMEOUT)?, "the queue ends on stop");
    Ok(())
}

// ---------------------------------------------------------------------------
// Lazy Pirate, in process.

/// A ROUTER "server" that answers the requests it is given with `answer`
/// (the envelope kept), for tests that need to lose or delay replies.
fn router_server(ctx: &Context) -> zmqx::Result<(zmqx::Socket, String)> {
    let s = common::socket(ctx, SocketType::Router)?;
    let endpoint = common::bind_tcp(&s)?;
    Ok((s, endpoint))
}

/// Splits a ROUTER message into (envelope with delimiter, body).
fn split(mut msg: Vec<Message>) -> (Vec<Message>, Vec<Message>) {
    let at = msg.iter().position(|m| m.is_empty()).expect("a delimiter");
    let body = msg.split_off(at + 1);
    (msg, body)
}

#[test]
fn lazy_pirate_retries_a_lost_request_on_a_new_socket() -> TestResult {
    let ctx = Context::new();
    let (server, endpoint) = router_server(&ctx)?;
    let mut client = Client::builder()
        .endpoint(&endpoint)
        .timeout(Duration::from_millis(200))
        .retries(3)
        .context(&ctx)
        .build()?;
    let served = std::thread::spawn(move || -> zmqx::Result<Vec<Vec<u8>>> {
        // The first copy is "lost"; the retry is answered.
        let first = server.recv_multipart()?;
        let retry = server.recv_multipart()?;
        let (envelope, body) = split(retry);
        server.send_multipart(envelope.iter().chain(body.iter()))?;
        Ok(vec![first[0].to_vec(), envelope[0].to_vec()])
    });
    let reply = client.request(["ping"])?;
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0], "ping");
    let ids = served.join().expect("server thread")?;
    assert_ne!(ids[0], ids[1], "the retry came from a new socket");
    let stats = client.stats();
    assert_eq!((stats.retries, stats.sockets, stats.replies), (1, 2, 1));
    Ok(())
}

#[test]
fn lazy_pirate_relaxed_drops_the_stale_reply() -> TestResult {
    let ctx = Context::new();
    let (server, endpoint) = router_server(&ctx)?;
    let mut client = Client::builder()
        .endpoint(&endpoint)
        .timeout(Duration::from_millis(200))
        .retries(3)
        .mode(Mode::Relaxed)
        .context(&ctx)
        .build()?;
    let served = std::thread::spawn(move || -> zmqx::Result<()> {
        // Both copies arrive on one connection; the late reply to the
        // first is answered first and must be dropped by the client.
        let (first, _) = split(server.recv_multipart()?);
        let (second, _) = split(server.recv_multipart()?);
        assert_eq!(first[0], second[0], "one socket, one routing id");
        assert_ne!(first[1], second[1], "each attempt has its own request id");
        server.send_multipart(first.iter().chain([&Message::from("stale")]))?;
        server.send_multipart(second.iter().chain([&Message::from("fresh")]))?;
        Ok(())
    });
    let reply = client.request(["ping"])?;
    assert_eq!(reply[0], "fresh");
    served.join().expect("server thread")?;
    assert_eq!(client.stats().sockets, 1);
    Ok(())
}

#[test]
fn lazy_pirate_gives_up_naming_endpoint_and_attempts() -> TestResult {
    let ctx = Context::new();
    // A server that never answers.
    let (_server, endpoint) = router_server(&ctx)?;
    let mut client = Client::builder()
        .endpoint(&endpoint)
        .timeout(Duration::from_millis(50))
        .retries(2)
        .context(&ctx)
        .build()?;
    let started = Instant::now();
    let e = client.request(["ping"]).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    match &e {
        lazy_pirate::Error::Exhausted {
            endpoints,
            attempts,
            ..
        } => {
            assert_eq!(endpoints.as_slice(), [endpoint.as_str()]);
            assert_eq!(*attempts, 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(&endpoint), "{e}");
    assert!(e.to_string().contains("3 attempts"), "{e}");
    assert_eq!(client.stats().exhausted, 1);
    // An empty request is refused before anything is sent.
    let empty: [&str; 0] = [];
    assert!(matches!(
        client.request(empty),
        Err(lazy_pirate::Error::Zmq(zmqx::Error::InvalidInput { .. }))
    ));
    Ok(())
}

#[test]
fn lazy_pirate_fails_over_to_the_next_endpoint() -> TestResult {
    let ctx = Context::new();
    let (_silent, dead) = router_server(&ctx)?;
    let live = common::socket(&ctx, SocketType::Rep)?;
    let live_endpoint = common::bind_tcp(&live)?;
    let mut client = Client::builder()
        .endpoints([dead.clone(), live_endpoint.clone()])
        .timeout(Duration::from_millis(200))
        .retries(1)
        .context(&ctx)
        .build()?;
    let server = std::thread::spawn(move || -> zmqx::Result<()> {
        for _ in 0..2 {
            let request = live.recv_multipart()?;
            live.send_multipart(request)?;
        }
        Ok(())
    });
    assert_eq!(client.request(["one"])?[0], "one");
    assert_eq!(client.current_endpoint(), live_endpoint);
    // It stays with the server that answers.
    assert_eq!(client.request(["two"])?[0], "two");
    assert_eq!(client.stats().retries, 1);
    server.join().expect("server thread")?;
    Ok(())
}

#[tokio::test]
async fn async_lazy_pirate_retries_and_gives_up() -> TestResult {
    let ctx = Context::new();
    let (server, endpoint) = router_server(&ctx)?;
    let mut client = Client::builder()
        .endpoint(&endpoint)
        .timeout(Duration::from_millis(200))
        .retries(2)
        .context(&ctx)
        .build_async()?;
    let served = std::thread::spawn(move || -> zmqx::Result<zmqx::Socket> {
        let _lost = server.recv_multipart()?;
        let (envelope, body) = split(server.recv_multipart()?);
        server.send_multipart(envelope.iter().chain(body.iter()))?;
        Ok(server)
    });
    let reply = tokio::time::timeout(TIMEOUT, client.request(["ping"])).await??;
    assert_eq!(reply[0], "ping");
    assert_eq!(client.stats().retries, 1);
    let _server = served.join().expect("server thread")?;
    // Now nobody answers: three attempts, then the typed error.
    let e = tokio::time::timeout(TIMEOUT, client.request(["again"]))
        .await?
        .unwrap_err();
    assert!(
        matches!(e, lazy_pirate::Error::Exhausted { attempts: 3, .. }),
        "{e}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Paranoid Pirate, in process.

/// A fake worker that says READY to the queue at `backend`, then stays
/// silent: the queue heartbeats it for its liveness of 3 intervals, then
/// drops it (no heartbeat within 10 intervals). Returns the fake.
fn silent_worker_is_dropped(
    ctx: &Context,
    backend: &str,
    interval: Duration,
) -> Result<Socket, Box<dyn std::error::Error>> {
    let fake = common::socket(ctx, SocketType::Dealer)?;
    fake.connect(backend)?;
    fake.send(READY)?;
    // The queue heartbeats it, then stops: a gap of 10 intervals ends it.
    fake.set_rcvtimeo(Some(interval * 10))?;
    let started = Instant::now();
    let mut heartbeats = 0;
    loop {
        match fake.recv_multipart() {
            Ok(msg) => {
                assert_eq!(msg.len(), 1);
                assert_eq!(msg[0][..], *HEARTBEAT);
                heartbeats += 1;
                assert!(
                    started.elapsed() < TIMEOUT,
                    "the queue keeps heartbeating a silent worker"
                );
            }
            Err(zmqx::Error::Again) => break,
            Err(e) => return Err(e.into()),
        }
    }
    assert!(
        (1..=4).contains(&heartbeats),
        "{heartbeats} heartbeats to a worker silent for 3 intervals"
    );
    Ok(fake)
}

/// A fake worker that says READY and then stays silent: the queue must
/// stop heartbeating it after `liveness` intervals and never give it a
/// request; a real worker then serves the request.
#[test]
fn queue_drops_a_silent_worker() -> TestResult {
    let ctx = Context::new();
    let interval = Duration::from_millis(50);
    let mut queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .heartbeat_interval(interval)
        .liveness(3)
        .context(&ctx)
        .bind()?
        .spawn()?;
    let backend = queue.backend_endpoints()[0].clone();
    let fake = silent_worker_is_dropped(&ctx, &backend, interval)?;
    // A request now waits for a real worker; the fake never sees it.
    let mut client = Client::builder()
        .endpoint(&queue.frontend_endpoints()[0])
        .timeout(TIMEOUT)
        .retries(0)
        .context(&ctx)
        .build()?;
    let mut worker = Worker::builder(&backend)
        .heartbeat_interval(interval)
        .context(&ctx)
        .build()?
        .spawn(|request| request)?;
    assert_eq!(client.request(["job"])?[0], "job");
    assert!(fake.try_recv_multipart()?.is_none());
    assert!(worker.stop(TIMEOUT)?);
    assert!(queue.stop(TIMEOUT)?);
    Ok(())
}

/// The backoff test's settings.
const BO_INTERVAL: Duration = Duration::from_millis(20);
const BO_LIVENESS: u32 = 2;
const BO_INITIAL: Duration = Duration::from_millis(40);
const BO_MAX: Duration = Duration::from_millis(160);

fn backoff_worker(ctx: &Context, endpoint: &str) -> paranoid_pirate::Result<Worker> {
    Worker::builder(endpoint)
        .heartbeat_interval(BO_INTERVAL)
        .liveness(BO_LIVENESS)
        .reconnect(BO_INITIAL, BO_MAX)
        .context(ctx)
        .build()
}

/// Reads READYs from five connections of a worker to a "queue" that never
/// answers: each is a new socket, and the gap between two is at least the
/// silence (liveness intervals) plus the backoff, which doubles from the
/// initial delay up to the cap.
fn check_backoff(fake_queue: &zmqx::Socket) -> TestResult {
    let mut readies: Vec<(Vec<u8>, Instant)> = Vec::new();
    while readies.len() < 5 {
        let msg = fake_queue.recv_multipart()?;
        assert_eq!(msg.len(), 2);
        if msg[1][..] == *READY {
            readies.push((msg[0].to_vec(), Instant::now()));
        } else {
            assert_eq!(msg[1][..], *HEARTBEAT);
        }
    }
    let ids: std::collections::HashSet<_> = readies.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 5, "each reconnection is a new socket");
    let expiry = BO_INTERVAL * BO_LIVENESS;
    let mut backoff = BO_INITIAL;
    // Each READY is received after a TCP handshake, whose time varies a bit.
    let slack = Duration::from_millis(15);
    for pair in readies.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(
            gap + slack >= expiry + backoff,
            "gap {gap:?} shorter than {expiry:?} + backoff {backoff:?}"
        );
        backoff = (backoff * 2).min(BO_MAX);
    }
    Ok(())
}

/// A "queue" that never answers: the worker gives up after `liveness`
/// intervals and reconnects with a new socket, waiting longer each time
/// (exponential backoff).
#[test]
fn worker_reconnects_with_exponential_backoff() -> TestResult {
    let ctx = Context::new();
    let fake_queue = common::socket(&ctx, SocketType::Router)?;
    let endpoint = common::bind_tcp(&fake_queue)?;
    let mut worker = backoff_worker(&ctx, &endpoint)?.spawn(|request| request)?;
    check_backoff(&fake_queue)?;
    assert!(worker.stop(TIMEOUT)?);
    Ok(())
}

/// The same with the async worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_worker_reconnects_with_exponential_backoff() -> TestResult {
    let ctx = Context::new();
    let fake_queue = common::socket(&ctx, SocketType::Router)?;
    let endpoint = common::bind_tcp(&fake_queue)?;
    let worker = backoff_worker(&ctx, &endpoint)?;
    let task = tokio::spawn(worker.run_async(|request| async move { request }));
    // The blocking reads run on this thread, the worker on the runtime's.
    check_backoff(&fake_queue)?;
    task.abort();
    assert!(
        tokio::time::timeout(TIMEOUT, task)
            .await?
            .is_err_and(|e| e.is_cancelled())
    );
    Ok(())
}

/// The async worker serves through the queue with an async handler, and
/// ends with `Ok` when its context is shut down.
#[tokio::test]
async fn async_worker_serves_through_the_queue() -> TestResult {
    let ctx = Context::new();
    let mut queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .heartbeat_interval(Duration::from_millis(50))
        .bind()?
        .spawn()?;
    let worker = Worker::builder(&queue.backend_endpoints()[0])
        .heartbeat_interval(Duration::from_millis(50))
        .context(&ctx)
        .build()?;
    let task = tokio::spawn(worker.run_async(|mut request| async move {
        tokio::task::yield_now().await;
        request.push(Message::from("served"));
        request
    }));
    let mut client = Client::builder()
        .endpoint(&queue.frontend_endpoints()[0])
        .timeout(TIMEOUT)
        .retries(0)
        .build_async()?;
    for n in 0..3 {
        let id = n.to_string();
        let reply = tokio::time::timeout(TIMEOUT, client.request([id.as_str()])).await??;
        assert_eq!(reply.len(), 2);
        assert_eq!(reply[0], id.as_str());
        assert_eq!(reply[1], "served");
    }
    ctx.shutdown()?;
    tokio::time::timeout(TIMEOUT, task).await???;
    assert!(queue.stop(TIMEOUT)?);
    Ok(())
}

fn mt_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A queue's frontend and backend endpoints and its `run_async` task.
type AsyncQueue = (
    String,
    String,
    tokio::task::JoinHandle<paranoid_pirate::Result<()>>,
);

/// A `Queue` on OS-assigned tcp ports (liveness 3, the default) whose
/// `run_async` runs on `rt`: its frontend and backend endpoints, and the task.
fn spawn_async_queue(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    interval: Duration,
) -> Result<AsyncQueue, Box<dyn std::error::Error>> {
    let queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .heartbeat_interval(interval)
        .liveness(3)
        .context(ctx)
        .bind()?;
    let frontend = queue.frontend_endpoints()[0].clone();
    let backend = queue.backend_endpoints()[0].clone();
    let _guard = rt.enter();
    Ok((frontend, backend, rt.spawn(queue.run_async())))
}

/// `Queue::run_async` on a runtime of its own, with the test's blocking
/// peers on this thread: it drops a silent worker, serves a real one, and
/// ends with `Ok` when its context is shut down.
#[test]
fn async_queue_drops_a_silent_worker_serves_a_real_one_and_ends() -> TestResult {
    let ctx = Context::new();
    let rt = mt_rt();
    let interval = Duration::from_millis(50);
    let (frontend, backend, task) = spawn_async_queue(&ctx, &rt, interval)?;
    let fake = silent_worker_is_dropped(&ctx, &backend, interval)?;
    let mut client = Client::builder()
        .endpoint(&frontend)
        .timeout(TIMEOUT)
        .retries(0)
        .context(&ctx)
        .build()?;
    let mut worker = Worker::builder(&backend)
        .heartbeat_interval(interval)
        .context(&ctx)
        .build()?
        .spawn(|request| request)?;
    for n in 0..3 {
        let id = n.to_string();
        assert_eq!(client.request([id.as_str()])?[0], id.as_str());
    }
    assert!(fake.try_recv_multipart()?.is_none());
    assert!(worker.stop(TIMEOUT)?);
    ctx.shutdown()?;
    rt.block_on(async { tokio::time::timeout(TIMEOUT, task).await })
        .expect("the queue ends in time")
        .expect("queue task")?;
    Ok(())
}

/// Dropping `Queue::run_async`'s future closes both sockets: their
/// endpoints can be bound again.
#[test]
fn dropping_the_async_queue_frees_its_endpoints() -> TestResult {
    let ctx = Context::new();
    let rt = mt_rt();
    let interval = Duration::from_millis(50);
    let (frontend, backend, task) = spawn_async_queue(&ctx, &rt, interval)?;
    let mut worker = Worker::builder(&backend)
        .heartbeat_interval(interval)
        .context(&ctx)
        .build()?
        .spawn(|request| request)?;
    let mut client = Client::builder()
        .endpoint(&frontend)
        .timeout(TIMEOUT)
        .retries(0)
        .context(&ctx)
        .build()?;
    // It runs: it serves.
    assert_eq!(client.request(["before"])?[0], "before");
    task.abort();
    let ended = rt.block_on(async { tokio::time::timeout(TIMEOUT, task).await });
    assert!(
        ended
            .expect("the task ends in time")
            .expect_err("aborted")
            .is_cancelled()
    );
    // libzmq releases the ports in its I/O thread, hence the retry.
    let again = common::eventually(TIMEOUT, || {
        Queue::builder()
            .frontend(frontend.as_str())
            .backend(backend.as_str())
            .heartbeat_interval(interval)
            .context(&ctx)
            .bind()
            .ok()
    })
    .expect("both endpoints can be bound again");
    let mut again = again.spawn()?;
    // The worker, reconnected to the new queue, serves the client again.
    let mut client = Client::builder()
        .endpoint(&frontend)
        .timeout(TIMEOUT)
        .retries(0)
        .context(&ctx)
        .build()?;
    assert_eq!(client.request(["after"])?[0], "after");
    assert!(worker.stop(TIMEOUT)?);
    assert!(again.stop(TIMEOUT)?);
    Ok(())
}

/// `run` in the caller's thread ends when the context is shut down.
#[test]
fn queue_and_worker_run_in_the_callers_thread() -> TestResult {
    let ctx = Context::new();
    let queue = Queue::builder()
        .frontend("inproc://pp-run-front")
        .backend("inproc://pp-run-back")
        .heartbeat_interval(Duration::from_millis(50))
        .context(&ctx)
        .bind()?;
    let worker = Worker::builder("inproc://pp-run-back")
        .heartbeat_interval(Duration::from_millis(50))
        .context(&ctx)
        .build()?;
    let q = std::thread::spawn(move || queue.run());
    let w = std::thread::spawn(move || worker.run(|request| request));
    let client = common::socket(&ctx, SocketType::Req)?;
    client.connect("inproc://pp-run-front")?;
    client.send("hello")?;
    assert_eq!(client.recv_string()?, "hello");
    drop(client);
    ctx.shutdown()?;
    for handle in [q, w] {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(handle.join()));
        let joined = rx.recv_timeout(TIMEOUT)?;
        let result: paranoid_pirate::Result<()> = joined.expect("no panic");
        result?;
    }
    Ok(())
}

/// Dropping the handles returns at once and the threads end by themselves.
#[test]
fn dropping_the_handles_does_not_block() -> TestResult {
    let mut queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .bind()?
        .spawn()?;
    let worker = Worker::builder(&queue.backend_endpoints()[0])
        .build()?
        .spawn(|request| request)?;
    let started = Instant::now();
    drop(worker);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(queue.stop(TIMEOUT)?);
    // A second stop is fine.
    assert!(queue.stop(TIMEOUT)?);
    let queue2 = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .bind()?
        .spawn()?;
    let started = Instant::now();
    drop(queue2);
    assert!(started.elapsed() < Duration::from_secs(1));
    Ok(())
}
