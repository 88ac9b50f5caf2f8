//! zmqx::txzmq against the real txZMQ 1.0 (with Twisted) over tcp, in both
//! directions of every pattern: PUB→SUB, REQ client→REP server, PUSH→PULL
//! and ROUTER/DEALER, Rust on one side and txZMQ on the other; and a plain
//! pyzmq REQ socket against the Rust reply server.
//!
//! Python scripts print their endpoint (when they bind) and `ok` when all
//! their checks passed; each stops its reactor after 20 s at most, and is
//! killed if it overruns. Under `CI=true` a missing interpreter fails.
#![cfg(all(feature = "txzmq", unix))]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout};
use std::time::Duration;

use common::{TIMEOUT, python, spawn_python, wait_child};
use futures_util::StreamExt;
use zmqx::txzmq::{
    DealerConnection, Endpoint, Factory, PubConnection, PullConnection, PushConnection,
    RepConnection, ReqConnection, RouterConnection, SubConnection,
};
use zmqx::txzmq::{Error, Result};

/// Shared Python prelude: txZMQ imports, a 20 s watchdog, and `finish(ok)`
/// which stops the reactor (shutting the factory down) and sets the exit
/// status.
const PRELUDE: &str = r#"
import sys
import zmq
from twisted.internet import reactor, defer
from txzmq import (ZmqFactory, ZmqEndpoint, ZmqEndpointType, ZmqPubConnection,
    ZmqSubConnection, ZmqPushConnection, ZmqPullConnection, ZmqREQConnection,
    ZmqREPConnection, ZmqRouterConnection, ZmqDealerConnection)

status = {"ok": False}
factory = ZmqFactory()
factory.lingerPeriod = 5000
factory.registerForShutdown()

def finish(ok, why=""):
    if "done" in status:
        return
    status["done"] = True
    if not ok:
        print("bad", why, flush=True)
    status["ok"] = ok
    reactor.callLater(0.2, reactor.stop)

def last_endpoint(conn):
    return conn.socket.getsockopt(zmq.LAST_ENDPOINT).decode()

reactor.callLater(20, finish, False, "watchdog")
"#;

const EPILOGUE: &str = r#"
reactor.run()
if status["ok"]:
    print("ok", flush=True)
sys.exit(0 if status["ok"] else 1)
"#;

fn script(body: &str) -> String {
    format!("{PRELUDE}\n{body}\n{EPILOGUE}")
}

/// txZMQ subscriber: connects to argv[1], subscribes to b"tag", expects
/// argv[2] messages whose tag starts with it and whose body is "msg N",
/// at least one of them in each framing.
const PY_SUB: &str = r#"
endpoint, n = sys.argv[1], int(sys.argv[2])
got = []
forms = set()
class Sub(ZmqSubConnection):
    def messageReceived(self, message):
        forms.add(len(message))
        ZmqSubConnection.messageReceived(self, message)
    def gotMessage(self, message, tag):
        if not message.startswith(b"msg "):
            return finish(False, repr((tag, message)))
        if tag != b"tag%d" % (int(message[4:]) % 3):
            return finish(False, repr((tag, message)))
        got.append((tag, message))
        if len(got) >= n and forms == {1, 2}:
            finish(True)
s = Sub(factory, ZmqEndpoint(ZmqEndpointType.connect, endpoint))
s.subscribe(b"tag")
"#;

/// txZMQ publisher: binds, prints its endpoint, publishes "hello N" under
/// b"tag1" and noise under b"other" every 10 ms until killed.
const PY_PUB: &str = r#"
p = ZmqPubConnection(factory, ZmqEndpoint(ZmqEndpointType.bind, "tcp://127.0.0.1:*"))
print(last_endpoint(p), flush=True)
count = [0]
def tick():
    p.publish(b"hello %d" % count[0], b"tag1")
    p.publish(b"noise", b"other")
    count[0] += 1
    reactor.callLater(0.01, tick)
tick()
"#;

/// txZMQ reply server: binds, prints its endpoint, answers
/// [b"echo", *parts], ignores b"slow", and stops after argv[1] answers.
const PY_REP: &str = r#"
n = int(sys.argv[1])
answered = [0]
class Rep(ZmqREPConnection):
    def gotMessage(self, messageId, *parts):
        if len(messageId) != 16:
            return finish(False, "id %r" % messageId)
        if parts == (b"slow",):
            return
        self.reply(messageId, b"echo", *parts)
        answered[0] += 1
        if answered[0] == n:
            finish(True)
r = Rep(factory, ZmqEndpoint(ZmqEndpointType.bind, "tcp://127.0.0.1:*"))
print(last_endpoint(r), flush=True)
"#;

/// txZMQ request client: connects to argv[1], sends argv[2] requests at
/// once, expects [b"rep", N] for [b"req", N].
const PY_REQ: &str = r#"
endpoint, n = sys.argv[1], int(sys.argv[2])
q = ZmqREQConnection(factory, ZmqEndpoint(ZmqEndpointType.connect, endpoint))
def check(results):
    for i, (success, reply) in enumerate(results):
        if not success or reply != [b"rep", b"%d" % i]:
            return finish(False, repr((i, success, reply)))
    finish(True)
ds = [q.sendMsg(b"req", b"%d" % i, timeout=15) for i in range(n)]
defer.DeferredList(ds, consumeErrors=True).addCallback(check)
"#;

/// txZMQ puller: binds, prints its endpoint, expects argv[1] messages
/// [b"job", N] in order.
const PY_PULL: &str = r#"
n = int(sys.argv[1])
got = []
class Pull(ZmqPullConnection):
    def onPull(self, message):
        if message != [b"job", b"%d" % len(got)]:
            return finish(False, repr(message))
        got.append(message)
        if len(got) == n:
            finish(True)
p = Pull(factory, ZmqEndpoint(ZmqEndpointType.bind, "tcp://127.0.0.1:*"))
print(last_endpoint(p), flush=True)
"#;

/// txZMQ pusher: connects to argv[1] and pushes argv[2] messages "job N".
const PY_PUSH: &str = r#"
endpoint, n = sys.argv[1], int(sys.argv[2])
p = ZmqPushConnection(factory, ZmqEndpoint(ZmqEndpointType.connect, endpoint))
for i in range(n):
    p.push(b"job %d" % i)
finish(True)
"#;

/// txZMQ router: binds, prints its endpoint, echoes
/// [b"echo", sender, *parts] and answers b"stop" with b"exit".
const PY_ROUTER: &str = r#"
class Router(ZmqRouterConnection):
    def gotMessage(self, sender, *parts):
        if parts == (b"stop",):
            self.sendMsg(sender, b"exit")
            finish(True)
        else:
            self.sendMultipart(sender, [b"echo", sender] + list(parts))
r = Router(factory, ZmqEndpoint(ZmqEndpointType.bind, "tcp://127.0.0.1:*"))
print(last_endpoint(r), flush=True)
"#;

/// txZMQ dealer (identity b"py-dealer"): connects to argv[1], sends argv[2]
/// requests and b"stop"; expects [b"reply", b"req N"] for each, then
/// b"exit".
const PY_DEALER: &str = r#"
endpoint, n = sys.argv[1], int(sys.argv[2])
got = []
class Dealer(ZmqDealerConnection):
    def gotMessage(self, *parts):
        if parts == (b"exit",):
            return finish(len(got) == n, "got %d" % len(got))
        if parts != (b"reply", b"req %d" % len(got)):
            return finish(False, repr(parts))
        got.append(parts)
d = Dealer(factory, ZmqEndpoint(ZmqEndpointType.connect, endpoint), identity=b"py-dealer")
for i in range(n):
    d.sendMsg(b"req %d" % i)
d.sendMsg(b"stop")
"#;

/// A plain pyzmq REQ socket (no txZMQ): connects to argv[1], sends argv[2]
/// requests [b"req", N] one after another, expects [b"rep", N] for each,
/// within 10 s each.
const PY_PLAIN_REQ: &str = r#"
import sys
import zmq
endpoint, n = sys.argv[1], int(sys.argv[2])
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.rcvtimeo = 10000
s.sndtimeo = 10000
s.linger = 0
s.connect(endpoint)
for i in range(n):
    s.send_multipart([b"req", b"%d" % i])
    reply = s.recv_multipart()
    if reply != [b"rep", b"%d" % i]:
        print("bad", i, reply, flush=True)
        sys.exit(1)
s.close()
ctx.term()
print("ok", flush=True)
"#;

/// Starts a txZMQ script; `None` when there is no interpreter (skip).
fn start(body: &str, args: &[&str]) -> Option<Child> {
    let py = python()?;
    Some(spawn_python(&py, &script(body), args).expect("start python"))
}

/// Reads the endpoint the script prints first.
async fn endpoint_of(child: &mut Child) -> (String, ChildStdout) {
    let stdout = child.stdout.take().expect("piped stdout");
    let read = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map(|_| (line.trim().to_string(), reader.into_inner()))
    });
    let (endpoint, stdout) = tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("python printed its endpoint")
        .expect("join")
        .expect("read endpoint");
    assert!(endpoint.starts_with("tcp://"), "{endpoint:?}");
    (endpoint, stdout)
}

/// Waits for the script (killing it on overrun) and checks it said `ok`.
async fn finished_ok(child: Child, earlier_stdout: Option<ChildStdout>) {
    let output = tokio::task::spawn_blocking(move || wait_child(child, 2 * TIMEOUT))
        .await
        .expect("join")
        .expect("python finished in time");
    let mut stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if let Some(mut rest) = earlier_stdout {
        let _ = rest.read_to_string(&mut stdout);
    }
    assert!(
        output.status.success() && stdout.lines().any(|l| l == "ok"),
        "txZMQ side failed: {:?}, stdout: {stdout}",
        output.status
    );
}

async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, f).await.expect("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_pub_to_txzmq_sub() -> Result<()> {
    let factory = Factory::new()?;
    let publisher = PubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = publisher.last_endpoint()?;
    let Some(child) = start(PY_SUB, &[&endpoint, "5"]) else {
        return Ok(());
    };
    // Publish until the subscriber has what it wants (a SUB joins late).
    let done = finished_ok(child, None);
    tokio::pin!(done);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut i = 0;
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = tick.tick() => {
                publisher.publish("noise", "other")?;
                if i % 2 == 0 {
                    publisher.publish(format!("msg {i}"), format!("tag{}", i % 3))?;
                } else {
                    // txZMQ's `send([tag, msg])`, which its subscriber
                    // reads as [tag, body].
                    publisher.send_multipart([format!("tag{}", i % 3), format!("msg {i}")])?;
                }
                i += 1;
            }
        }
    }
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txzmq_pub_to_rust_sub() -> Result<()> {
    let Some(mut child) = start(PY_PUB, &[]) else {
        return Ok(());
    };
    let (endpoint, _stdout) = endpoint_of(&mut child).await;
    let factory = Factory::new()?;
    let mut sub = SubConnection::new(&factory, Endpoint::connect(&endpoint))?;
    sub.subscribe("tag")?;
    let mut last = None;
    for _ in 0..5 {
        let m = within(sub.next()).await.expect("stream")?;
        assert_eq!(m.tag(), b"tag1");
        let body = std::str::from_utf8(m.body()).expect("text");
        let n: u64 = body
            .strip_prefix("hello ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected body {body:?}"));
        assert!(last.is_none_or(|l| n > l), "in order");
        last = Some(n);
    }
    let _ = child.kill();
    let _ = tokio::task::spawn_blocking(move || wait_child(child, TIMEOUT)).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_req_to_txzmq_rep() -> Result<()> {
    const N: usize = 50;
    let Some(mut child) = start(PY_REP, &[&N.to_string()]) else {
        return Ok(());
    };
    let (endpoint, stdout) = endpoint_of(&mut child).await;
    let factory = Factory::new()?;
    let client = ReqConnection::new(&factory, Endpoint::connect(&endpoint))?;
    // One request the server ignores: it times out.
    let slow = client.send_msg_with_timeout(["slow"], Duration::from_millis(200))?;
    let replies: Vec<_> = (0..N)
        .map(|i| client.send_msg_with_timeout(["req".to_string(), i.to_string()], TIMEOUT))
        .collect::<Result<_>>()?;
    for (i, reply) in within(futures_util::future::join_all(replies))
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(reply?, ["echo", "req", i.to_string().as_str()]);
    }
    assert!(matches!(
        within(slow).await,
        Err(Error::RequestTimeout { .. })
    ));
    finished_ok(child, Some(stdout)).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txzmq_req_to_rust_rep() -> Result<()> {
    const N: usize = 50;
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = server.last_endpoint()?;
    let Some(child) = start(PY_REQ, &[&endpoint, &N.to_string()]) else {
        return Ok(());
    };
    let serve = async {
        for _ in 0..N {
            let request = within(server.next()).await.expect("stream")?;
            assert_eq!(request.id.len(), 16, "txZMQ ids are uuid4 bytes");
            assert_eq!(request.parts.len(), 2);
            assert_eq!(request.parts[0], "req");
            let n = request.parts[1].to_vec();
            server.reply(&request.id, [&b"rep"[..], &n[..]])?;
        }
        Ok::<_, Error>(())
    };
    serve.await?;
    finished_ok(child, None).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzmq_plain_req_to_rust_rep() -> Result<()> {
    // A plain REQ sends [empty, parts…]: no message id. txZMQ answers it
    // (the routing id serves as the id); so must RepConnection.
    const N: usize = 20;
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = server.last_endpoint()?;
    let Some(py) = python() else {
        return Ok(());
    };
    let child =
        spawn_python(&py, PY_PLAIN_REQ, &[&endpoint, &N.to_string()]).expect("start python");
    let serve = async {
        for _ in 0..N {
            let request = within(server.next()).await.expect("stream")?;
            assert!(request.envelope().is_empty(), "a plain REQ peer");
            assert_eq!(request.parts.len(), 2);
            assert_eq!(request.parts[0], "req");
            let n = request.parts[1].to_vec();
            server.reply(&request.id, [&b"rep"[..], &n[..]])?;
        }
        Ok::<_, Error>(())
    };
    // The script is waited for (and checked) whatever the Rust side saw;
    // it gives up after its receive timeout.
    let served = serve.await;
    finished_ok(child, None).await;
    served?;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_push_to_txzmq_pull() -> Result<()> {
    const N: usize = 100;
    let Some(mut child) = start(PY_PULL, &[&N.to_string()]) else {
        return Ok(());
    };
    let (endpoint, stdout) = endpoint_of(&mut child).await;
    let factory = Factory::new()?;
    let push = PushConnection::new(&factory, Endpoint::connect(&endpoint))?;
    for i in 0..N {
        within(push.push_async(["job".to_string(), i.to_string()])).await?;
    }
    finished_ok(child, Some(stdout)).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txzmq_push_to_rust_pull() -> Result<()> {
    const N: usize = 100;
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = pull.last_endpoint()?;
    let Some(child) = start(PY_PUSH, &[&endpoint, &N.to_string()]) else {
        return Ok(());
    };
    for i in 0..N {
        let m = within(pull.next()).await.expect("stream")?;
        assert_eq!(m, [format!("job {i}").as_str()]);
    }
    finished_ok(child, None).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_dealer_to_txzmq_router() -> Result<()> {
    const N: usize = 100;
    let Some(mut child) = start(PY_ROUTER, &[]) else {
        return Ok(());
    };
    let (endpoint, stdout) = endpoint_of(&mut child).await;
    let factory = Factory::new()?;
    let mut dealer = DealerConnection::with_options(
        &factory,
        [Endpoint::connect(&endpoint)],
        &zmqx::txzmq::ConnectionOptions::new().identity("rust-dealer"),
    )?;
    for i in 0..N {
        within(dealer.send_async(["part".to_string(), i.to_string()])).await?;
    }
    dealer.send_msg("stop")?;
    for i in 0..N {
        let m = within(dealer.next()).await.expect("stream")?;
        assert_eq!(m, ["echo", "rust-dealer", "part", i.to_string().as_str()]);
    }
    assert_eq!(within(dealer.next()).await.expect("stream")?, ["exit"]);
    finished_ok(child, Some(stdout)).await;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txzmq_dealer_to_rust_router() -> Result<()> {
    const N: usize = 100;
    let factory = Factory::new()?;
    let mut router = RouterConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = router.last_endpoint()?;
    let Some(child) = start(PY_DEALER, &[&endpoint, &N.to_string()]) else {
        return Ok(());
    };
    for i in 0..=N {
        let m = within(router.next()).await.expect("stream")?;
        assert_eq!(m.sender, "py-dealer");
        if i == N {
            assert_eq!(m.parts, ["stop"]);
            router.send_msg(m.sender, "exit")?;
        } else {
            assert_eq!(m.parts, [format!("req {i}").as_str()]);
            router.send_multipart(m.sender, [&b"reply"[..], &m.parts[0][..]])?;
        }
    }
    finished_ok(child, None).await;
    within(factory.shutdown()).await
}
