//! Shutdown matrix (issue #12): a context with traffic in flight, a
//! zero-copy message with a drop callback, its tracker, a monitor, a
//! background proxy and a ZAP authenticator, dropped in every order of the
//! key objects (the others rotated through every position), from the owning
//! thread, from other threads, and all at once. Each case runs under a
//! watchdog: a hang fails with the case's name, and so does a panic. After
//! the last drop the zero-copy buffer must be freed exactly once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use common::{TIMEOUT, inproc};
use zmqx::auth::ThreadAuthenticator;
use zmqx::devices::{Device, Kind, Side};
use zmqx::{Context, Event, Message, MessageTracker, SocketType};

/// How long one case may take before it counts as a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obj {
    Context,
    Socket,
    Message,
    Tracker,
    Monitor,
    Device,
    Authenticator,
    PeerSocket,
}

/// The objects whose drop orders are all tried.
const KEY: [Obj; 6] = [
    Obj::Context,
    Obj::Socket,
    Obj::Message,
    Obj::Tracker,
    Obj::Monitor,
    Obj::Device,
];
/// The objects rotated through every position of those orders.
const REST: [Obj; 2] = [Obj::Authenticator, Obj::PeerSocket];

/// Where the drops happen.
#[derive(Clone, Copy, Debug)]
enum Threads {
    /// All on the thread that built the scene.
    Owner,
    /// Each on a new thread, one after the other.
    EachOnNewThread,
    /// Alternately on the owner and on one helper thread.
    Alternating,
    /// On the owner, with `Context::shutdown` instead of the context's drop.
    OwnerWithShutdown,
    /// On the owner, while another thread runs `Context::destroy` (started
    /// at the context's turn; it returns once everything is dropped).
    DestroyFromAnotherThread,
}

/// A payload whose drop is counted: the zero-copy message's free callback.
struct Payload {
    bytes: Vec<u8>,
    freed: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.freed.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every object of a scene, each in its own box so it can travel to any
/// thread.
struct Scene {
    objects: Vec<(Obj, Box<dyn Send>)>,
    ctx: Context,
    tracker: MessageTracker,
    freed: Arc<AtomicUsize>,
}

/// A context in use: a proxy between a PUSH and a PULL over inproc, a
/// monitor on the PUSH, an authenticator, and a tracked zero-copy message
/// of which two copies are queued (sent, not received).
fn scene() -> Result<Scene, Box<dyn std::error::Error>> {
    let ctx = Context::new();
    ctx.set_default_linger(Some(Duration::from_millis(50)))?;
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start()?;
    let mut proxy = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
        .capture(SocketType::Pub)
        .context(&ctx)
        .spawn()?;
    let front = inproc("matrix-front");
    let back = inproc("matrix-back");
    proxy.bind(Side::In, &front)?;
    proxy.bind(Side::Out, &back)?;
    proxy.start()?;
    let push = ctx.socket(SocketType::Push)?;
    push.set_sndtimeo(Some(TIMEOUT))?;
    let monitor = push.monitor_events(Event::ALL)?;
    push.connect(&front)?;
    let pull = ctx.socket(SocketType::Pull)?;
    pull.set_rcvtimeo(Some(TIMEOUT))?;
    pull.connect(&back)?;
    // The whole chain works before anything is dropped.
    push.send("warm-up")?;
    assert_eq!(pull.recv_string()?, "warm-up");
    let freed = Arc::new(AtomicUsize::new(0));
    let payload = Payload {
        bytes: vec![7; 4096],
        freed: freed.clone(),
    };
    let (msg, tracker) = Message::tracked(payload);
    push.send(&msg)?;
    push.send(&msg)?;
    assert!(!tracker.done());
    let objects: Vec<(Obj, Box<dyn Send>)> = vec![
        (Obj::Context, Box::new(ctx.clone())),
        (Obj::Socket, Box::new(push)),
        (Obj::Message, Box::new(msg)),
        (Obj::Tracker, Box::new(tracker.clone())),
        (Obj::Monitor, Box::new(monitor)),
        (Obj::Device, Box::new(proxy)),
        (Obj::Authenticator, Box::new(auth)),
        (Obj::PeerSocket, Box::new(pull)),
    ];
    Ok(Scene {
        objects,
        ctx,
        tracker,
        freed,
    })
}

/// All orders of `items` (Heap's algorithm).
fn permutations<T: Copy>(items: &[T]) -> Vec<Vec<T>> {
    fn heap<T: Copy>(k: usize, a: &mut Vec<T>, out: &mut Vec<Vec<T>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, a, out);
            let j = if k % 2 == 0 { i } else { 0 };
            a.swap(j, k - 1);
        }
    }
    let mut a = items.to_vec();
    let mut out = Vec::new();
    heap(a.len(), &mut a, &mut out);
    out
}

/// The drop orders: every order of [`KEY`] (720), with the [`REST`] inserted at
/// positions that rotate with the case number so each takes every place.
fn orders() -> Vec<Vec<Obj>> {
    permutations(&KEY)
        .into_iter()
        .enumerate()
        .map(|(n, mut order)| {
            for (k, obj) in REST.into_iter().enumerate() {
                let at = (n / (k + 1) + k) % (order.len() + 1);
                order.insert(at, obj);
            }
            order
        })
        .collect()
}

/// Drops the scene's objects in `order` on the chosen threads, then checks
/// that the payload is freed exactly once.
fn run_case(order: &[Obj], threads: Threads) {
    let Scene {
        mut objects,
        ctx,
        tracker,
        freed,
    } = scene().expect("scene");
    let take = |objects: &mut Vec<(Obj, Box<dyn Send>)>, obj: Obj| {
        let at = objects.iter().position(|(o, _)| *o == obj).expect("object");
        objects.remove(at).1
    };
    let helper = matches!(threads, Threads::Alternating).then(|| {
        let (tx, rx) = mpsc::channel::<(Box<dyn Send>, mpsc::Sender<()>)>();
        let handle = std::thread::spawn(move || {
            for (object, done) in rx {
                drop(object);
                let _ = done.send(());
            }
        });
        (tx, handle)
    });
    let mut destroyer = None;
    for (n, &obj) in order.iter().enumerate() {
        let object = take(&mut objects, obj);
        if obj == Obj::Tracker {
            // Waiting with a timeout returns, done or not.
            match tracker.wait(Some(Duration::from_millis(1))) {
                Ok(()) | Err(zmqx::Error::NotDone) => {}
                Err(e) => panic!("tracker wait: {e}"),
            }
        }
        match threads {
            Threads::Owner => drop(object),
            Threads::OwnerWithShutdown => {
                if obj == Obj::Context {
                    match ctx.shutdown() {
                        Ok(()) | Err(zmqx::Error::ContextTerminated) => {}
                        Err(e) => panic!("shutdown: {e}"),
                    }
                }
                drop(object);
            }
            Threads::DestroyFromAnotherThread => {
                if obj == Obj::Context {
                    let ctx = ctx.clone();
                    destroyer = Some(std::thread::spawn(move || {
                        match ctx.destroy(Some(Duration::ZERO)) {
                            Ok(()) | Err(zmqx::Error::ContextTerminated) => {}
                            Err(e) => panic!("destroy: {e}"),
                        }
                    }));
                }
                drop(object);
            }
            Threads::EachOnNewThread => {
                std::thread::spawn(move || drop(object))
                    .join()
                    .expect("drop on another thread");
            }
            Threads::Alternating => {
                if n % 2 == 0 {
                    drop(object);
                } else {
                    let (tx, _) = helper.as_ref().expect("helper");
                    let (done_tx, done_rx) = mpsc::channel();
                    tx.send((object, done_tx)).expect("helper alive");
                    done_rx.recv().expect("helper dropped it");
                }
            }
        }
    }
    if let Some((tx, handle)) = helper {
        drop(tx);
        handle.join().expect("helper thread");
    }
    assert!(objects.is_empty());
    if let Some(destroyer) = destroyer {
        destroyer.join().expect("destroy thread");
    }
    drop(ctx);
    // Freed once the last copy is gone: when the context has terminated, on
    // one of libzmq's threads.
    let deadline = Instant::now() + TIMEOUT;
    while freed.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(freed.load(Ordering::SeqCst), 1, "payload freed once");
    // The tracker is released just after the payload (the buffer's owner
    // drops the data, then its tracker guard), maybe on a libzmq thread.
    tracker.wait(Some(TIMEOUT)).expect("tracker done");
}

/// Runs every order with `threads`, each under the watchdog.
fn matrix(threads: Threads) {
    let started = Instant::now();
    let orders = orders();
    for order in &orders {
        let name = format!("{threads:?} {order:?}");
        let (tx, rx) = mpsc::channel();
        let case = order.clone();
        let handle = std::thread::spawn(move || {
            run_case(&case, threads);
            let _ = tx.send(());
        });
        match rx.recv_timeout(CASE_TIMEOUT) {
            Ok(()) => handle.join().expect("case thread"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let panic = handle.join().err().map(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                panic!("case {name} failed: {panic:?}");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("case {name} hung for over {CASE_TIMEOUT:?}")
            }
        }
    }
    println!(
        "{threads:?}: {} drop orders in {:.1?}",
        orders.len(),
        started.elapsed()
    );
}

#[test]
fn orders_cover_every_position() {
    let orders = orders();
    assert_eq!(orders.len(), 720);
    for order in &orders {
        assert_eq!(order.len(), KEY.len() + REST.len());
    }
    for obj in KEY.into_iter().chain(REST) {
        for place in 0..KEY.len() + REST.len() {
            assert!(
                orders.iter().any(|o| o[place] == obj),
                "{obj:?} is never at position {place}"
            );
        }
    }
}

#[test]
fn drop_in_every_order_on_the_owner_thread() {
    matrix(Threads::Owner);
}

#[test]
fn drop_in_every_order_each_on_a_new_thread() {
    matrix(Threads::EachOnNewThread);
}

#[test]
fn drop_in_every_order_alternating_threads() {
    matrix(Threads::Alternating);
}

#[test]
fn drop_in_every_order_after_context_shutdown() {
    matrix(Threads::OwnerWithShutdown);
}

#[test]
fn drop_in_every_order_while_another_thread_destroys_the_context() {
    matrix(Threads::DestroyFromAnotherThread);
}

#[test]
fn drop_everything_at_once_from_many_threads() {
    for round in 0..20 {
        let name = format!("all at once, round {round}");
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let Scene {
                objects,
                ctx,
                tracker,
                freed,
            } = scene().expect("scene");
            drop(tracker);
            drop(ctx);
            let barrier = Arc::new(Barrier::new(objects.len()));
            let threads: Vec<_> = objects
                .into_iter()
                .map(|(_, object)| {
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        drop(object);
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("dropping thread");
            }
            let deadline = Instant::now() + TIMEOUT;
            while freed.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(freed.load(Ordering::SeqCst), 1, "payload freed once");
            let _ = tx.send(());
        });
        match rx.recv_timeout(CASE_TIMEOUT) {
            Ok(()) => handle.join().expect("case thread"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{name} failed: {:?}", handle.join().is_err())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name} hung"),
        }
    }
}

thread_local! {
    /// Set on a background thread by code it runs: dropped when it ends.
    static THREAD_END: std::cell::RefCell<Option<mpsc::Sender<()>>> =
        const { std::cell::RefCell::new(None) };
}

#[test]
fn dropping_the_authenticator_returns_while_a_lookup_is_stuck() {
    // The thread authenticator's drop used to wait up to 5 s for its thread;
    // it now only signals. Here the thread is inside a credentials lookup
    // that does not return until released.
    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start().expect("start");
    let (entered_tx, entered_rx) = mpsc::channel::<mpsc::Sender<()>>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (ended_tx, ended_rx) = mpsc::channel::<()>();
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let release_rx = std::sync::Mutex::new(release_rx);
    let ended_tx = std::sync::Mutex::new(Some(ended_tx));
    auth.configure_curve_callback("*", move |_: &str, _: &zmqx::CurveKey| {
        // Runs on the authenticator's thread: watch its end from here.
        if let Some(tx) = ended_tx.lock().expect("lock").take() {
            THREAD_END.with(|t| *t.borrow_mut() = Some(tx));
        }
        let (tx, _rx) = mpsc::channel();
        let _ = entered_tx.lock().expect("lock").send(tx);
        let _ = release_rx.lock().expect("lock").recv_timeout(TIMEOUT);
        true
    });
    let server_keys = zmqx::curve_keypair().expect("keys");
    let client_keys = zmqx::curve_keypair().expect("keys");
    let server = ctx.socket(SocketType::Pull).expect("socket");
    server.set_linger(Some(Duration::ZERO)).expect("linger");
    server.set_curve_server_keys(&server_keys).expect("curve");
    server.bind("tcp://127.0.0.1:*").expect("bind");
    let client = ctx.socket(SocketType::Push).expect("socket");
    client.set_linger(Some(Duration::ZERO)).expect("linger");
    client
        .set_curve_client(&server_keys.public, &client_keys)
        .expect("curve");
    client
        .connect(&server.last_endpoint().expect("endpoint"))
        .expect("connect");
    entered_rx
        .recv_timeout(TIMEOUT)
        .expect("the lookup never started");

    let start = Instant::now();
    drop(auth);
    let took = start.elapsed();
    assert!(took < Duration::from_millis(200), "drop took {took:?}");

    // Released, the thread answers, sees the stop request and ends.
    release_tx.send(()).expect("release");
    assert!(
        matches!(
            ended_rx.recv_timeout(TIMEOUT),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ),
        "the authenticator thread did not end"
    );
    drop((server, client));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(ctx.term()));
    assert!(
        matches!(rx.recv_timeout(TIMEOUT), Ok(Ok(()))),
        "the context did not terminate: a socket is still open"
    );
}

/// The async objects: a tokio runtime, async sockets (one inside a spawned
/// task, one inside a pending receive future), an async monitor and a
/// pending tracker future.
mod asynchronous {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;
    use zmqx::AsyncSocket;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum AObj {
        Runtime,
        Context,
        AsyncSocket,
        PendingRecv,
        TrackerWait,
        AsyncMonitor,
        Task,
    }

    const KEY: [AObj; 6] = [
        AObj::Runtime,
        AObj::Context,
        AObj::AsyncSocket,
        AObj::PendingRecv,
        AObj::TrackerWait,
        AObj::AsyncMonitor,
    ];
    const REST: [AObj; 1] = [AObj::Task];

    type Boxed = Pin<Box<dyn Future<Output = ()> + Send>>;

    /// Polls `fut` once inside the runtime, so it registers its waker.
    fn poll_once(rt: &tokio::runtime::Runtime, fut: &mut Boxed) {
        rt.block_on(std::future::poll_fn(|cx| {
            let _ = fut.as_mut().poll(cx);
            Poll::Ready(())
        }));
    }

    /// The objects, each boxed to travel to any thread.
    type Objects = Vec<(AObj, Box<dyn Send>)>;

    fn scene() -> zmqx::Result<(Objects, Arc<AtomicUsize>)> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let ctx = Context::new();
        ctx.set_default_linger(Some(Duration::from_millis(50)))?;
        let endpoint = inproc("matrix-async");
        let _guard = rt.enter();
        let pull = AsyncSocket::new(ctx.socket(SocketType::Pull)?)?;
        pull.with_socket(|s| s.bind(&endpoint))?;
        let task = rt.spawn(async move { while pull.recv_msg().await.is_ok() {} });
        let push = AsyncSocket::new(ctx.socket(SocketType::Push)?)?;
        push.with_socket(|s| s.connect(&endpoint))?;
        let monitor = push.monitor_events(Event::ALL)?;
        let freed = Arc::new(AtomicUsize::new(0));
        let (msg, tracker) = Message::tracked(Payload {
            bytes: vec![1; 4096],
            freed: freed.clone(),
        });
        rt.block_on(async {
            push.send("warm-up").await?;
            push.send(&msg).await
        })?;
        drop(msg);
        let sub = AsyncSocket::new(ctx.socket(SocketType::Sub)?)?;
        sub.with_socket(|s| s.subscribe(b""))?;
        let mut pending: Boxed = Box::pin(async move {
            let _ = sub.recv_msg().await;
        });
        poll_once(&rt, &mut pending);
        let mut tracker_wait: Boxed = Box::pin(tracker.wait_async());
        poll_once(&rt, &mut tracker_wait);
        drop(_guard);
        let objects: Objects = vec![
            (AObj::Runtime, Box::new(rt)),
            (AObj::Context, Box::new(ctx)),
            (AObj::AsyncSocket, Box::new(push)),
            (AObj::PendingRecv, Box::new(pending)),
            (AObj::TrackerWait, Box::new(tracker_wait)),
            (AObj::AsyncMonitor, Box::new(monitor)),
            (AObj::Task, Box::new(task)),
        ];
        Ok((objects, freed))
    }

    fn orders() -> Vec<Vec<AObj>> {
        permutations(&KEY)
            .into_iter()
            .enumerate()
            .map(|(n, mut order)| {
                for (k, obj) in REST.into_iter().enumerate() {
                    order.insert((n / (k + 1) + k) % (order.len() + 1), obj);
                }
                order
            })
            .collect()
    }

    fn run_case(order: &[AObj], on_new_threads: bool) {
        let (mut objects, freed) = scene().expect("async scene");
        for &obj in order {
            let at = objects.iter().position(|(o, _)| *o == obj).expect("object");
            let object = objects.remove(at).1;
            if on_new_threads {
                std::thread::spawn(move || drop(object))
                    .join()
                    .expect("drop on another thread");
            } else {
                drop(object);
            }
        }
        let deadline = Instant::now() + TIMEOUT;
        while freed.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(freed.load(Ordering::SeqCst), 1, "payload freed once");
    }

    fn matrix(on_new_threads: bool) {
        let started = Instant::now();
        let orders = orders();
        for order in &orders {
            let name = format!("async, new threads: {on_new_threads}, {order:?}");
            let (tx, rx) = mpsc::channel();
            let case = order.clone();
            let handle = std::thread::spawn(move || {
                run_case(&case, on_new_threads);
                let _ = tx.send(());
            });
            match rx.recv_timeout(CASE_TIMEOUT) {
                Ok(()) => handle.join().expect("case thread"),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("case {name} failed: {:?}", handle.join().is_err())
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("case {name} hung for over {CASE_TIMEOUT:?}")
                }
            }
        }
        println!(
            "async (new threads: {on_new_threads}): {} drop orders in {:.1?}",
            orders.len(),
            started.elapsed()
        );
    }

    #[test]
    fn async_objects_drop_in_every_order_on_the_owner_thread() {
        matrix(false);
    }

    #[test]
    fn async_objects_drop_in_every_order_each_on_a_new_thread() {
        matrix(true);
    }
}

/// Regression: `ThreadAuthenticator::stop` used to connect a fresh PAIR to
/// the thread's control endpoint to wake it. When the thread had just
/// closed that endpoint (the context being shut down, or its own stop
/// check), libzmq left the late connection unfinished and `zmq_ctx_term`
/// hung for good (1 case in ~10,000 of the matrix above, under load).
#[test]
fn authenticator_stop_racing_context_shutdown_never_hangs() {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        for round in 0..200 {
            let ctx = Context::new();
            let mut auth = ThreadAuthenticator::new(&ctx);
            auth.start().expect("start");
            let destroyer = {
                let ctx = ctx.clone();
                std::thread::spawn(move || ctx.destroy(Some(Duration::ZERO)))
            };
            // Let the thread see ETERM and close its sockets on some rounds.
            if round % 2 == 0 {
                while auth.is_alive() {
                    std::thread::yield_now();
                }
            }
            drop(auth);
            drop(ctx);
            match destroyer.join().expect("destroy thread") {
                Ok(()) | Err(zmqx::Error::ContextTerminated) => {}
                Err(e) => panic!("destroy: {e}"),
            }
        }
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().expect("rounds"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{:?}", handle.join().is_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("context termination hung"),
    }
}
