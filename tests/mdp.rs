//! Majordomo (MDP/0.2): zmqx's broker, client and worker together.
//!
//! The 100,000-request run kills a worker process with SIGKILL (a child of
//! this test binary, selected by `ZMQX_MDP_CHILD`) and restarts it; the
//! clients' retries must leave no request unanswered.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{TIMEOUT, eventually, ipc, socket};
use zmqx::patterns::mdp::{
    Broker, BrokerOptions, BrokerThread, Client, ClientOptions, Error, Worker, WorkerOptions,
};
use zmqx::{Context, Message, Socket, SocketType};

const CHILD_ENV: &str = "ZMQX_MDP_CHILD";

fn hb() -> Duration {
    Duration::from_millis(100)
}

fn broker(ctx: &Context, opts: BrokerOptions, endpoint: &str) -> (BrokerThread, String) {
    let b = Broker::with_options(ctx, opts).expect("broker");
    let ep = b.bind(endpoint).expect("bind");
    (b.spawn().expect("spawn"), ep)
}

fn fast_broker() -> BrokerOptions {
    BrokerOptions::default()
        .heartbeat_interval(hb())
        .heartbeat_liveness(3)
}

fn fast_worker() -> WorkerOptions {
    WorkerOptions::default()
        .heartbeat_interval(hb())
        .heartbeat_liveness(3)
}

/// Waits until the broker has `n` workers.
fn await_workers(b: &BrokerThread, n: usize) {
    let got = eventually(TIMEOUT, || (b.stats().workers == n).then_some(()));
    assert!(
        got.is_some(),
        "broker never had {n} workers: {:?}",
        b.stats()
    );
}

/// An echo worker in a thread until `stop`; returns its reconnect count.
fn echo_worker(
    ctx: &Context,
    endpoint: &str,
    service: &str,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<u64> {
    let mut w = Worker::with_options(ctx, endpoint, service, fast_worker()).expect("worker");
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Some(req) = w.recv(Some(Duration::from_millis(50))).expect("recv") {
                let body = req.body().to_vec();
                w.reply(&req, body).expect("reply");
            }
        }
        w.reconnects()
    })
}

// ---------------------------------------------------------------------------
// The child worker process of the kill test.

/// Not a test of its own: the worker process the kill test starts (it does
/// nothing unless `ZMQX_MDP_CHILD` names a broker).
#[test]
fn mdp_child_worker() {
    let Ok(endpoint) = std::env::var(CHILD_ENV) else {
        return;
    };
    let ctx = Context::new();
    let mut w = Worker::with_options(&ctx, &endpoint, "work", fast_worker()).expect("worker");
    let pid = std::process::id().to_string();
    // Ends when killed, or when idle for long (the parent is gone).
    while let Some(req) = w.recv(Some(Duration::from_secs(30))).expect("recv") {
        let id = req.body()[0].clone();
        w.reply(&req, [id, Message::from(pid.as_str())])
            .expect("reply");
    }
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_child(endpoint: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "mdp_child_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, endpoint)
        .stdout(Stdio::null())
        .spawn()
        .expect("start child worker")
}

#[test]
fn routes_100k_requests_while_a_worker_is_killed_and_restarted() {
    const TOTAL: u64 = 100_000;
    const CLIENTS: u64 = 32;
    let ctx = Context::new();
    let opts = BrokerOptions::default()
        .heartbeat_interval(hb())
        .heartbeat_liveness(3)
        // A killed worker holding a request is forgotten after this (its
        // request goes to another worker; the client retries meanwhile).
        .busy_timeout(Duration::from_secs(2));
    let (broker, endpoint) = broker(&ctx, opts, "tcp://127.0.0.1:*");
    let mut children = Children((0..4).map(|_| spawn_child(&endpoint)).collect());
    await_workers(&broker, 4);

    let answered = Arc::new(AtomicU64::new(0));
    let restarted_pid = Arc::new(AtomicU32::new(0));
    let first_from_restarted: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (done_tx, done_rx) = mpsc::channel();
    let (fifth_tx, fifth_rx) = mpsc::channel::<()>();
    let start = Instant::now();
    for c in 0..CLIENTS {
        let ctx = ctx.clone();
        let endpoint = endpoint.clone();
        let answered = Arc::clone(&answered);
        let restarted_pid = Arc::clone(&restarted_pid);
        let first = Arc::clone(&first_from_restarted);
        let done_tx = done_tx.clone();
        let fifth_tx = fifth_tx.clone();
        thread::spawn(move || {
            let opts = ClientOptions::default()
                .timeout(Duration::from_millis(1000))
                .attempts(10);
            let mut client = Client::with_options(&ctx, &endpoint, opts).expect("client");
            let mut max_latency = Duration::ZERO;
            let mut result = Ok(());
            for id in (c..TOTAL).step_by(CLIENTS as usize) {
                let t = Instant::now();
                let id = id.to_string();
                match client.request("work", [id.as_str()]) {
                    Ok(reply) => {
                        let body = reply.body();
                        if body.len() != 2 || body[0] != id.as_str() {
                            result = Err(format!("request {id} got {body:?}"));
                            break;
                        }
                        let pid: u32 = body[1].as_str().and_then(|p| p.parse().ok()).unwrap_or(0);
                        if pid != 0 && pid == restarted_pid.load(Ordering::Relaxed) {
                            first.lock().unwrap().get_or_insert_with(Instant::now);
                        }
                        max_latency = max_latency.max(t.elapsed());
                        if answered.fetch_add(1, Ordering::Relaxed) + 1 == TOTAL / 5 {
                            let _ = fifth_tx.send(());
                        }
                    }
                    Err(e) => {
                        result = Err(format!("request {id} failed: {e}"));
                        break;
                    }
                }
            }
            let _ = done_tx.send((result, client.retries(), max_latency));
        });
    }
    drop((done_tx, fifth_tx));

    // Kill one worker process mid-run, without DISCONNECT, then restart it.
    let got = fifth_rx.recv_timeout(Duration::from_secs(60));
    assert!(
        got.is_ok(),
        "the run stalled before the kill: {:?}",
        broker.stats()
    );
    let killed = Instant::now();
    children.0[0].kill().expect("SIGKILL");
    children.0[0].wait().expect("reaped");
    let before_restart = answered.load(Ordering::Relaxed);
    let child = spawn_child(&endpoint);
    restarted_pid.store(child.id(), Ordering::Relaxed);
    children.0.push(child);

    let mut retries = 0;
    let mut max_latency = Duration::ZERO;
    for _ in 0..CLIENTS {
        let (result, r, lat) = done_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("a client finished");
        result.expect("every request answered");
        retries += r;
        max_latency = max_latency.max(lat);
    }
    let elapsed = start.elapsed();
    assert_eq!(answered.load(Ordering::Relaxed), TOTAL);
    let recovered = first_from_restarted
        .lock()
        .unwrap()
        .map(|t| t.duration_since(killed))
        .expect("the restarted worker served requests");
    // The killed worker held a request (or got one before the broker forgot
    // it): a client had to send it again.
    assert!(retries >= 1, "no request was retried");
    let stats = broker.stats();
    eprintln!(
        "mdp 100k: {TOTAL} requests in {elapsed:.2?} ({:.0}/s) by {CLIENTS} clients over 4 workers; \
         killed at {before_restart}; restarted worker's first reply {recovered:.2?} after the kill; \
         {retries} retries; slowest request {max_latency:.2?}; broker {stats:?}",
        TOTAL as f64 / elapsed.as_secs_f64()
    );
    assert!(broker.stop(TIMEOUT).expect("broker ends"));
}

// ---------------------------------------------------------------------------

/// A raw worker that registered and then stayed silent: while registered
/// it gets heartbeats, then DISCONNECT once 3 intervals passed without a
/// word from it.
fn heartbeats_then_disconnect(raw: &Socket) -> zmqx::Result<()> {
    assert_eq!(
        raw.recv_multipart_bytes()?,
        vec![b"MDPW02".to_vec(), vec![5]]
    );
    let started = Instant::now();
    loop {
        let msg = raw.recv_multipart_bytes()?;
        if msg == vec![b"MDPW02".to_vec(), vec![6]] {
            return Ok(());
        }
        assert_eq!(msg, vec![b"MDPW02".to_vec(), vec![5]]);
        assert!(started.elapsed() < TIMEOUT);
    }
}

#[test]
fn heartbeat_expiry_forgets_a_silent_worker_and_tells_it() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    // A raw worker: READY, then silence.
    let raw = socket(&ctx, SocketType::Dealer)?;
    raw.connect(&endpoint)?;
    raw.send_multipart(["MDPW02", "\x01", "quiet"])?;
    await_workers(&broker, 1);
    heartbeats_then_disconnect(&raw)?;
    let stats = broker.stats();
    assert_eq!((stats.workers, stats.workers_expired), (0, 1));
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn worker_reconnects_when_the_broker_is_silent() -> Result<(), Error> {
    let ctx = Context::new();
    // A "broker" that never answers.
    let router = socket(&ctx, SocketType::Router)?;
    let endpoint = common::bind_tcp(&router)?;
    let mut w = Worker::with_options(&ctx, &endpoint, "svc", fast_worker())?;
    let first = router.recv_multipart_bytes()?;
    assert_eq!(&first[1..], &[b"MDPW02".to_vec(), vec![1], b"svc".to_vec()]);
    assert!(w.recv(Some(Duration::from_millis(600)))?.is_none());
    assert!(w.reconnects() >= 1, "the worker kept its socket");
    // The second READY comes from a new socket (another identity).
    let again = loop {
        let m = router.recv_multipart_bytes()?;
        if m[2] == [1] {
            break m;
        }
    };
    assert_ne!(again[0], first[0]);
    Ok(())
}

#[test]
fn mmi_service_answers_200_404_501() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    let stop = Arc::new(AtomicBool::new(false));
    let w = echo_worker(&ctx, &endpoint, "echo", Arc::clone(&stop));
    await_workers(&broker, 1);
    let mut c = Client::connect(&ctx, &endpoint)?;
    assert_eq!(c.request("mmi.service", ["echo"])?.body()[0], "200");
    assert_eq!(c.request("mmi.service", ["nobody"])?.body()[0], "404");
    assert_eq!(c.request("mmi.unknown", ["echo"])?.body()[0], "501");
    assert_eq!(c.request("echo", ["hi"])?.body()[0], "hi");
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn multi_service_routing_and_partials() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    let stop = Arc::new(AtomicBool::new(false));
    let echo = echo_worker(&ctx, &endpoint, "echo", Arc::clone(&stop));
    let mut upper = Worker::with_options(&ctx, &endpoint, "upper", fast_worker())?;
    let up = thread::spawn(move || -> Result<(), Error> {
        let req = upper.recv(Some(TIMEOUT))?.expect("a request");
        let text = req.body()[0].as_str().unwrap().to_uppercase();
        upper.partial(&req, ["working"])?;
        upper.partial(&req, ["still"])?;
        upper.reply(&req, [text])
    });
    await_workers(&broker, 2);
    let mut c = Client::connect(&ctx, &endpoint)?;
    let r = c.request("upper", ["abc"])?;
    assert_eq!(r.body()[0], "ABC");
    assert_eq!(r.partials().len(), 2);
    assert_eq!(r.partials()[1][0], "still");
    assert_eq!(
        c.request("echo", ["x", "y"])?.body(),
        &[Message::from("x"), Message::from("y")]
    );
    up.join().unwrap()?;
    stop.store(true, Ordering::Relaxed);
    echo.join().unwrap();
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn unknown_service_times_out_and_expires_or_waits_for_a_worker() -> Result<(), Error> {
    let ctx = Context::new();
    let opts = fast_broker().request_ttl(Duration::from_millis(300));
    let (broker, endpoint) = broker(&ctx, opts, "tcp://127.0.0.1:*");
    let quick = ClientOptions::default()
        .timeout(Duration::from_millis(200))
        .attempts(2);
    let mut c = Client::with_options(&ctx, &endpoint, quick)?;
    match c.request("nobody", ["x"]) {
        Err(Error::Timeout { service, attempts }) => {
            assert_eq!((service.as_str(), attempts), ("nobody", 2))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let got = eventually(TIMEOUT, || {
        (broker.stats().requests_expired == 2).then_some(())
    });
    assert!(
        got.is_some(),
        "queued requests did not expire: {:?}",
        broker.stats()
    );

    // A request queued before any worker registers is served when one does.
    let patient = ClientOptions::default().timeout(TIMEOUT).attempts(1);
    let mut c = Client::with_options(&ctx, &endpoint, patient)?;
    let asked = thread::spawn(move || c.request("late", ["early bird"]));
    eventually(TIMEOUT, || (broker.stats().requests == 3).then_some(())).expect("request queued");
    let stop = Arc::new(AtomicBool::new(false));
    let w = echo_worker(&ctx, &endpoint, "late", Arc::clone(&stop));
    assert_eq!(asked.join().unwrap()?.body()[0], "early bird");
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    // Empty service names are refused before anything is sent.
    assert!(matches!(
        Client::connect(&ctx, &endpoint)?.request("", ["x"]),
        Err(Error::Zmq(zmqx::Error::InvalidInput { .. }))
    ));
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn worker_reregisters_after_broker_restart() -> Result<(), Error> {
    let ctx = Context::new();
    let endpoint = ipc("mdp-restart");
    let (first, _) = broker(&ctx, fast_broker(), &endpoint);
    let stop = Arc::new(AtomicBool::new(false));
    let w = echo_worker(&ctx, &endpoint, "echo", Arc::clone(&stop));
    await_workers(&first, 1);
    let opts = ClientOptions::default()
        .timeout(Duration::from_millis(500))
        .attempts(10);
    let mut c = Client::with_options(&ctx, &endpoint, opts)?;
    assert_eq!(c.request("echo", ["one"])?.body()[0], "one");
    assert!(first.stop(TIMEOUT)?);

    let restarted = Instant::now();
    let (second, _) = broker(&ctx, fast_broker(), &endpoint);
    await_workers(&second, 1);
    eprintln!(
        "worker registered with the new broker {:.2?} after its start",
        restarted.elapsed()
    );
    assert_eq!(c.request("echo", ["two"])?.body()[0], "two");
    stop.store(true, Ordering::Relaxed);
    let reconnects = w.join().unwrap();
    assert!(reconnects >= 1, "the worker never re-registered");
    assert!(second.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn malformed_messages_are_counted_not_fatal() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    let raw = socket(&ctx, SocketType::Dealer)?;
    raw.connect(&endpoint)?;
    let junk: [&[&[u8]]; 6] = [
        &[b"junk"],
        &[b"MDPC02"],
        &[b"MDPC02", b"\x01\x02"],
        &[b"MDPC02", b"\x01", b""],
        &[b"MDPC02", b"\x03", b"svc"],
        &[b"MDPX02", b"\x01", b"svc"],
    ];
    for m in junk {
        raw.send_multipart(m.iter().copied())?;
    }
    let got = eventually(TIMEOUT, || (broker.stats().malformed == 6).then_some(()));
    assert!(got.is_some(), "{:?}", broker.stats());
    // A reply from a worker the broker does not know gets DISCONNECT.
    raw.send_multipart([&b"MDPW02"[..], b"\x04", b"someone", b"", b"x"])?;
    assert_eq!(
        raw.recv_multipart_bytes()?,
        vec![b"MDPW02".to_vec(), vec![6]]
    );
    assert!(broker.stats().last_malformed.is_some());
    // The broker still serves.
    let stop = Arc::new(AtomicBool::new(false));
    let w = echo_worker(&ctx, &endpoint, "echo", Arc::clone(&stop));
    let mut c = Client::connect(&ctx, &endpoint)?;
    assert_eq!(c.request("echo", ["ok"])?.body()[0], "ok");
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}

#[test]
fn dropped_worker_disconnects_and_dropped_broker_returns() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    let w = Worker::with_options(&ctx, &endpoint, "svc", fast_worker())?;
    await_workers(&broker, 1);
    drop(w);
    await_workers(&broker, 0);
    assert_eq!(
        broker.stats().workers_expired,
        0,
        "left by DISCONNECT, not expiry"
    );
    let t = Instant::now();
    drop(broker);
    assert!(t.elapsed() < Duration::from_millis(100));
    Ok(())
}

// ---------------------------------------------------------------------------
// Async client and worker.

#[cfg(feature = "tokio")]
mod asynchronous {
    use super::*;
    use zmqx::patterns::mdp::{AsyncClient, AsyncWorker};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    /// An async echo worker task until `stop` (with a receive timeout so it
    /// notices).
    async fn serve(mut w: AsyncWorker, stop: Arc<AtomicBool>) -> Result<u64, Error> {
        while !stop.load(Ordering::Relaxed) {
            if let Some(req) = w.recv(Some(Duration::from_millis(50))).await? {
                let body = req.body().to_vec();
                w.reply(&req, body).await?;
            }
        }
        Ok(w.reconnects())
    }

    #[test]
    fn async_clients_pipelined_with_a_worker_that_vanishes() -> Result<(), Error> {
        const CLIENTS: usize = 64;
        const EACH: usize = 100;
        let ctx = Context::new();
        let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
        rt().block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let mut workers = Vec::new();
            for _ in 0..2 {
                let w = AsyncWorker::with_options(&ctx, &endpoint, "echo", fast_worker())?;
                workers.push(tokio::spawn(serve(w, Arc::clone(&stop))));
            }
            // A worker that takes one request and is dropped without
            // answering (its DISCONNECT makes the broker requeue, the
            // client's retry covers it either way).
            let mut vanishing = AsyncWorker::with_options(&ctx, &endpoint, "echo", fast_worker())?;
            let vanish = tokio::spawn(async move {
                let got = vanishing.recv(Some(TIMEOUT)).await;
                drop(vanishing);
                got.map(|r| r.is_some())
            });
            let started = Instant::now();
            let mut clients = Vec::new();
            for c in 0..CLIENTS {
                let opts = ClientOptions::default().timeout(Duration::from_millis(500)).attempts(5);
                let mut client = AsyncClient::with_options(&ctx, &endpoint, opts)?;
                clients.push(tokio::spawn(async move {
                    for n in 0..EACH {
                        let id = format!("{c}/{n}");
                        let reply = client.request("echo", [id.as_str()]).await?;
                        assert_eq!(reply.body()[0], id.as_str());
                    }
                    Ok::<u64, Error>(client.retries())
                }));
            }
            let mut retries = 0;
            for c in clients {
                retries += tokio::time::timeout(Duration::from_secs(60), c)
                    .await
                    .expect("clients finish")
                    .expect("client task")?;
            }
            let elapsed = started.elapsed();
            assert!(vanish.await.expect("task")?, "the vanishing worker got a request");
            eprintln!(
                "async mdp: {} requests by {CLIENTS} async clients in {elapsed:.2?} ({:.0}/s), {retries} retries",
                CLIENTS * EACH,
                (CLIENTS * EACH) as f64 / elapsed.as_secs_f64()
            );
            stop.store(true, Ordering::Relaxed);
            for w in workers {
                w.await.expect("worker task")?;
            }
            Ok::<(), Error>(())
        })?;
        // The vanished worker's request went to another worker.
        assert!(broker.stats().requeued >= 1, "{:?}", broker.stats());
        assert!(broker.stop(TIMEOUT)?);
        Ok(())
    }

    #[test]
    fn async_request_cancelled_does_not_answer_the_next_one() -> Result<(), Error> {
        let ctx = Context::new();
        let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
        rt().block_on(async {
            let mut slow = AsyncWorker::with_options(&ctx, &endpoint, "slow", fast_worker())?;
            let mut client = AsyncClient::connect(&ctx, &endpoint)?;
            // Cancel the request once the worker has it, then answer it.
            let req = tokio::select! {
                _ = client.request("slow", ["first"]) => panic!("answered before the worker replied"),
                req = slow.recv(Some(TIMEOUT)) => req?.expect("a request"),
            };
            slow.reply(&req, ["late answer"]).await?;
            let next = client.request("slow", ["second"]);
            let serve = async {
                let req = slow.recv(Some(TIMEOUT)).await?.expect("the second request");
                let body = req.body().to_vec();
                slow.reply(&req, body).await
            };
            let (reply, served) = tokio::join!(next, serve);
            served?;
            assert_eq!(reply?.body()[0], "second");
            Ok::<(), Error>(())
        })?;
        assert!(broker.stop(TIMEOUT)?);
        Ok(())
    }

    #[test]
    fn async_worker_reconnects_when_the_broker_is_silent() -> Result<(), Error> {
        let ctx = Context::new();
        let router = socket(&ctx, SocketType::Router)?;
        let endpoint = common::bind_tcp(&router)?;
        rt().block_on(async {
            let mut w = AsyncWorker::with_options(&ctx, &endpoint, "svc", fast_worker())?;
            assert!(w.recv(Some(Duration::from_millis(600))).await?.is_none());
            assert!(w.reconnects() >= 1);
            Ok::<(), Error>(())
        })?;
        let first = router.recv_multipart_bytes()?;
        assert_eq!(&first[1..], &[b"MDPW02".to_vec(), vec![1], b"svc".to_vec()]);
        let again = loop {
            let m = router.recv_multipart_bytes()?;
            if m[2] == [1] {
                break m;
            }
        };
        assert_ne!(again[0], first[0]);
        Ok(())
    }

    fn mt_rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    /// A `run_async` broker on `rt`, bound to `endpoint`.
    fn async_broker(
        rt: &tokio::runtime::Runtime,
        ctx: &Context,
        endpoint: &str,
    ) -> (
        tokio::task::JoinHandle<Result<zmqx::patterns::mdp::BrokerStats, Error>>,
        zmqx::patterns::mdp::Stopper,
        String,
    ) {
        let b = Broker::with_options(ctx, fast_broker()).expect("broker");
        let ep = b.bind(endpoint).expect("bind");
        let stopper = b.stopper();
        // Entered so that the sockets register with this runtime's reactor.
        let _guard = rt.enter();
        (rt.spawn(b.run_async()), stopper, ep)
    }

    /// Asks `mmi.service` until `service` has a worker.
    fn await_service(c: &mut Client, service: &str) {
        let got = eventually(TIMEOUT, || {
            let reply = c.request("mmi.service", [service]).expect("mmi.service");
            (reply.body()[0] == "200").then_some(())
        });
        assert!(got.is_some(), "{service} never had a worker");
    }

    #[test]
    fn async_broker_routes_sync_and_async_peers_and_stops_with_stats() -> Result<(), Error> {
        let ctx = Context::new();
        let rt = mt_rt();
        let (task, stopper, endpoint) = async_broker(&rt, &ctx, "tcp://127.0.0.1:*");
        let stop = Arc::new(AtomicBool::new(false));
        let sync_worker = echo_worker(&ctx, &endpoint, "sync-echo", Arc::clone(&stop));
        let async_worker = {
            let _guard = rt.enter();
            let w = AsyncWorker::with_options(&ctx, &endpoint, "async-echo", fast_worker())?;
            rt.spawn(serve(w, Arc::clone(&stop)))
        };
        let mut c = Client::connect(&ctx, &endpoint)?;
        await_service(&mut c, "sync-echo");
        await_service(&mut c, "async-echo");
        assert_eq!(c.request("mmi.service", ["nobody"])?.body()[0], "404");
        assert_eq!(c.request("mmi.unknown", ["x"])?.body()[0], "501");
        for service in ["sync-echo", "async-echo"] {
            assert_eq!(c.request(service, ["from sync"])?.body()[0], "from sync");
        }
        rt.block_on(async {
            let mut ac = AsyncClient::connect(&ctx, &endpoint)?;
            for service in ["sync-echo", "async-echo"] {
                let reply = tokio::time::timeout(TIMEOUT, ac.request(service, ["from async"]))
                    .await
                    .expect("an answer in time")?;
                assert_eq!(reply.body()[0], "from async");
            }
            Ok::<(), Error>(())
        })?;
        stop.store(true, Ordering::Relaxed);
        sync_worker.join().expect("sync worker");
        rt.block_on(async_worker).expect("async worker task")?;
        stopper.stop();
        let stats = rt
            .block_on(async { tokio::time::timeout(TIMEOUT, task).await })
            .expect("the broker stops in time")
            .expect("broker task")?;
        // 4 routed requests and at least 4 mmi ones, all answered.
        assert!(stats.requests >= 8, "{stats:?}");
        assert_eq!(stats.requests, stats.replies, "{stats:?}");
        assert_eq!(stats.malformed, 0, "{stats:?}");
        Ok(())
    }

    #[test]
    fn async_broker_expires_a_silent_worker_and_tells_it() -> Result<(), Error> {
        let ctx = Context::new();
        let rt = mt_rt();
        let (task, stopper, endpoint) = async_broker(&rt, &ctx, "tcp://127.0.0.1:*");
        let raw = socket(&ctx, SocketType::Dealer)?;
        raw.connect(&endpoint)?;
        raw.send_multipart(["MDPW02", "\x01", "quiet"])?;
        heartbeats_then_disconnect(&raw)?;
        stopper.stop();
        let stats = rt
            .block_on(async { tokio::time::timeout(TIMEOUT, task).await })
            .expect("the broker stops in time")
            .expect("broker task")?;
        assert_eq!((stats.workers, stats.workers_expired), (0, 1), "{stats:?}");
        assert_eq!(stats.disconnects_sent, 1, "{stats:?}");
        Ok(())
    }

    #[test]
    fn async_broker_stopped_before_it_runs_returns_at_once() -> Result<(), Error> {
        let ctx = Context::new();
        let b = Broker::with_options(&ctx, fast_broker())?;
        b.bind("tcp://127.0.0.1:*")?;
        b.stopper().stop();
        let stats = rt().block_on(async {
            tokio::time::timeout(TIMEOUT, b.run_async())
                .await
                .expect("the stop was kept")
        })?;
        assert_eq!(stats.requests, 0);
        Ok(())
    }

    #[test]
    fn async_broker_ends_with_its_context() -> Result<(), Error> {
        let ctx = Context::new();
        let rt = mt_rt();
        let (task, _stopper, endpoint) = async_broker(&rt, &ctx, "tcp://127.0.0.1:*");
        let mut c = Client::connect(&ctx, &endpoint)?;
        assert_eq!(c.request("mmi.service", ["echo"])?.body()[0], "404");
        drop(c);
        ctx.shutdown()?;
        let stats = rt
            .block_on(async { tokio::time::timeout(TIMEOUT, task).await })
            .expect("the broker ends in time")
            .expect("broker task")?;
        assert_eq!((stats.requests, stats.replies), (1, 1), "{stats:?}");
        Ok(())
    }

    #[test]
    fn dropping_the_async_broker_closes_its_endpoint() -> Result<(), Error> {
        let ctx = Context::new();
        let rt = mt_rt();
        let (task, _stopper, endpoint) = async_broker(&rt, &ctx, "tcp://127.0.0.1:*");
        let mut c = Client::connect(&ctx, &endpoint)?;
        // It runs: it answers.
        assert_eq!(c.request("mmi.service", ["echo"])?.body()[0], "404");
        task.abort();
        let ended = rt
            .block_on(async { tokio::time::timeout(TIMEOUT, task).await })
            .expect("the task ends in time");
        assert!(ended.expect_err("aborted").is_cancelled());
        // The future is dropped: its socket is closed and the port is free
        // again (libzmq releases it in its I/O thread, hence the retry).
        let again = eventually(TIMEOUT, || {
            let b = Broker::with_options(&ctx, fast_broker()).expect("broker");
            b.bind(&endpoint).ok().map(|_| b)
        })
        .expect("the endpoint can be bound again");
        let stopper = again.stopper();
        let task = {
            let _guard = rt.enter();
            rt.spawn(again.run_async())
        };
        // The same client, on its reconnected connection, reaches the new one.
        assert_eq!(c.request("mmi.service", ["echo"])?.body()[0], "404");
        stopper.stop();
        let stats = rt
            .block_on(async { tokio::time::timeout(TIMEOUT, task).await })
            .expect("the broker stops in time")
            .expect("broker task")?;
        assert_eq!(stats.requests, 1, "{stats:?}");
        Ok(())
    }
}

#[test]
fn broker_runs_in_the_callers_thread_until_stopped() -> Result<(), Error> {
    let ctx = Context::new();
    let b = Broker::with_options(&ctx, fast_broker())?;
    let endpoint = b.bind("tcp://127.0.0.1:*")?;
    let stopper = b.stopper();
    let (ctx2, ep2) = (ctx.clone(), endpoint.clone());
    let driver = thread::spawn(move || -> Result<(), Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let w = echo_worker(&ctx2, &ep2, "echo", Arc::clone(&stop));
        let mut c = Client::connect(&ctx2, &ep2)?;
        let r = c.request("echo", ["in caller's thread"]);
        stop.store(true, Ordering::Relaxed);
        w.join().unwrap();
        stopper.stop();
        stopper.stop(); // twice is harmless
        assert_eq!(r?.body()[0], "in caller's thread");
        Ok(())
    });
    // run() blocks here until the stopper fires.
    let stats = b.run()?;
    driver.join().unwrap()?;
    assert_eq!((stats.requests, stats.replies), (1, 1));
    Ok(())
}

#[test]
fn unexpected_worker_commands_get_disconnect() -> Result<(), Error> {
    let ctx = Context::new();
    let (broker, endpoint) = broker(&ctx, fast_broker(), "tcp://127.0.0.1:*");
    let disconnect = vec![b"MDPW02".to_vec(), vec![6]];
    // A second READY: the broker forgets the worker and says so.
    let raw = socket(&ctx, SocketType::Dealer)?;
    raw.connect(&endpoint)?;
    raw.send_multipart(["MDPW02", "\x01", "svc"])?;
    await_workers(&broker, 1);
    raw.send_multipart(["MDPW02", "\x01", "svc"])?;
    let got = loop {
        let m = raw.recv_multipart_bytes()?;
        if m != vec![b"MDPW02".to_vec(), vec![5]] {
            break m;
        }
    };
    assert_eq!(got, disconnect);
    assert_eq!(broker.stats().workers, 0);
    // A heartbeat from a worker the broker does not know (say, after a
    // broker restart), with majortomo's empty frame: DISCONNECT, framed alike.
    let raw = socket(&ctx, SocketType::Dealer)?;
    raw.connect(&endpoint)?;
    raw.send_multipart(["", "MDPW02", "\x05"])?;
    assert_eq!(
        raw.recv_multipart_bytes()?,
        vec![b"".to_vec(), b"MDPW02".to_vec(), vec![6]]
    );
    // READY for an mmi. service is refused.
    raw.send_multipart(["MDPW02", "\x01", "mmi.service"])?;
    assert_eq!(raw.recv_multipart_bytes()?, disconnect);
    assert_eq!(broker.stats().workers, 0);
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}
