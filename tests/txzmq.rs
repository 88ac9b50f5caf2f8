//! zmqx::txzmq in Rust only: what txZMQ's own suite checks (test_factory,
//! test_connection, test_pubsub, test_reqrep, test_router_dealer,
//! test_reactor_shutdown), plus malformed framing, unknown ids, many
//! requests in flight, lost connections and shutdown from inside and
//! outside the runtime. Every await has a timeout.
#![cfg(all(feature = "txzmq", unix))]

mod common;

use std::future::Future;
use std::time::Duration;

use common::{TIMEOUT, inproc, ipc};
use futures_util::StreamExt;
use zmqx::monitor::EventKind;
use zmqx::txzmq::{
    ConnectionOptions, DealerConnection, Endpoint, EndpointType, Factory, ID_POOL_GEN_SIZE,
    NO_PARTS, PubConnection, Published, PublishedForm, PullConnection, PushConnection,
    RepConnection, ReqConnection, RouterConnection, SubConnection, WireError,
};
use zmqx::txzmq::{Error, Result};
use zmqx::{Error as ZmqError, Message, SocketType};

/// Awaits `f` or panics after [`TIMEOUT`]: a bug fails fast, never hangs.
async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .expect("timed out: the test would have hung")
}

/// The next item of a stream, within the timeout.
async fn next<S: futures_util::Stream + Unpin>(s: &mut S) -> S::Item {
    within(s.next()).await.expect("the stream ended")
}

/// Publishes `probe` on `tag` until `sub` (subscribed to it) receives it:
/// the subscriptions made before are then in effect at the publisher
/// (they travel in order on the same connection). Other messages received
/// meanwhile are returned.
async fn sync_sub(
    publisher: &PubConnection,
    sub: &mut SubConnection,
    tag: &[u8],
) -> Vec<Published> {
    sub.subscribe(tag).expect("subscribe probe");
    let mut others = Vec::new();
    within(async {
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        loop {
            tokio::select! {
                _ = tick.tick() => publisher.publish("probe", tag).expect("publish probe"),
                m = sub.next() => {
                    let m = m.expect("stream").expect("message");
                    if m.tag() == tag {
                        return;
                    }
                    others.push(m);
                }
            }
        }
    })
    .await;
    sub.unsubscribe(tag).expect("unsubscribe probe");
    others
}

/// Receives until a message whose tag is not `skip` comes.
async fn next_published(sub: &mut SubConnection, skip: &[u8]) -> Published {
    loop {
        let m = next(sub).await.expect("a well-formed message");
        if m.tag() != skip {
            return m;
        }
    }
}

// ---- test_factory / test_connection -------------------------------------

#[tokio::test]
async fn factory_shutdown_without_connections() -> Result<()> {
    let factory = Factory::new()?;
    assert_eq!(factory.linger(), Duration::from_millis(100));
    within(factory.shutdown()).await?;
    assert!(factory.is_shut_down());
    assert!(factory.context().is_terminated());
    // Twice is fine.
    within(factory.shutdown()).await?;
    Ok(())
}

#[tokio::test]
async fn connection_init_and_add_endpoints() -> Result<()> {
    let factory = Factory::new()?;
    let (a, b, c) = (inproc("tx-a"), inproc("tx-b"), inproc("tx-c"));
    let mut pull = PullConnection::new(&factory, Endpoint::bind(&a))?;
    pull.add_endpoints([Endpoint::bind(&b), Endpoint::bind(&c)])?;
    assert_eq!(
        pull.endpoints(),
        [Endpoint::bind(&a), Endpoint::bind(&b), Endpoint::bind(&c)]
    );
    assert_eq!(pull.endpoints()[0].kind, EndpointType::Bind);
    let push = PushConnection::new(&factory, Endpoint::connect(&c))?;
    assert_eq!(factory.connection_count(), 2);
    push.push("abcd")?;
    assert_eq!(next(&mut pull).await?, ["abcd"]);
    let debug = format!("{pull:?}");
    assert!(debug.contains("Pull") && debug.contains(&a), "{debug}");
    assert_eq!(
        Endpoint::connect("inproc://x").to_string(),
        "connect inproc://x"
    );
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_recv_tcp_in_order_and_large() -> Result<()> {
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let push = PushConnection::new(&factory, Endpoint::connect(pull.last_endpoint()?))?;
    for i in 0..100 {
        push.push(i.to_string())?;
    }
    for i in 0..100 {
        assert_eq!(next(&mut pull).await?, [i.to_string().as_str()]);
    }
    let big = [vec![b'0'; 10_000], vec![b'1'; 10_000]];
    push.push_multipart(big.clone())?;
    let got = next(&mut pull).await?;
    assert_eq!(got.len(), 2);
    assert_eq!((&got[0][..], &got[1][..]), (&big[0][..], &big[1][..]));
    within(push.push_async(["async", "parts"])).await?;
    assert_eq!(next(&mut pull).await?, ["async", "parts"]);
    within(factory.shutdown()).await
}

#[tokio::test]
async fn options_identity_and_errors() -> Result<()> {
    let factory = Factory::new()?;
    let options = ConnectionOptions::new()
        .identity("me")
        .high_water_mark(42)
        .multicast_rate(200)
        .multicast_loop(true)
        .tcp_keepalive(true)
        .tcp_keepalive_count(3)
        .tcp_keepalive_idle(30)
        .tcp_keepalive_interval(5)
        .reconnect_interval(Duration::from_millis(50))
        .reconnect_interval_max(Duration::from_millis(500));
    let dealer =
        DealerConnection::with_options(&factory, [Endpoint::bind(inproc("opts"))], &options)?;
    dealer.with_socket(|s| {
        assert_eq!(s.routing_id()?, b"me");
        assert_eq!(s.sndhwm()?, 42);
        assert_eq!(s.rcvhwm()?, 42);
        assert_eq!(s.rate()?, 200);
        assert_eq!(s.tcp_keepalive()?, 1);
        assert_eq!(s.tcp_keepalive_cnt()?, 3);
        assert_eq!(s.reconnect_ivl()?, Some(Duration::from_millis(50)));
        assert_eq!(s.reconnect_ivl_max()?, Some(Duration::from_millis(500)));
        assert_eq!(s.linger()?, Some(Duration::from_millis(100)));
        Ok(())
    })?;
    // A bad endpoint fails the connection and registers nothing.
    let bad = PushConnection::new(&factory, Endpoint::bind("nonsense://x"));
    assert!(bad.is_err());
    assert_eq!(factory.connection_count(), 1);
    // PUSH with no peer cannot send: EAGAIN, as txZMQ.
    let lonely = PushConnection::new(&factory, Endpoint::bind(inproc("lonely")))?;
    assert!(matches!(lonely.push("x"), Err(Error::Zmq(ZmqError::Again))));
    assert!(lonely.push_multipart(Vec::<Message>::new()).is_err());
    // Closing one connection leaves the others.
    lonely.shutdown();
    assert!(lonely.is_closed());
    assert!(matches!(
        lonely.push("x"),
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    assert_eq!(factory.connection_count(), 1);
    drop(dealer);
    assert_eq!(factory.connection_count(), 0);
    within(factory.shutdown()).await
}

// ---- test_pubsub -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_filters_by_tag() -> Result<()> {
    let factory = Factory::new()?;
    let endpoint = ipc("txpubsub");
    let mut sub = SubConnection::new(&factory, Endpoint::bind(&endpoint))?;
    let publisher = PubConnection::new(&factory, Endpoint::connect(&endpoint))?;
    sub.subscribe("tag")?;
    assert!(sync_sub(&publisher, &mut sub, b"sync1").await.is_empty());

    publisher.publish("xyz", "different-tag")?;
    publisher.publish("abcd", "tag1")?;
    publisher.publish("efgh", "tag2")?;
    let m1 = next_published(&mut sub, b"sync1").await;
    let m2 = next_published(&mut sub, b"sync1").await;
    assert_eq!((m1.tag(), m1.body()), (&b"tag1"[..], &b"abcd"[..]));
    assert_eq!((m2.tag(), m2.body()), (&b"tag2"[..], &b"efgh"[..]));
    assert_eq!(m1.form(), PublishedForm::OneFrame);
    assert_eq!(m1.into_frames(), [&b"tag1\0abcd"[..]]);

    // Unsubscribing stops a tag; the probe after it proves it took effect
    // ("sync1" is no prefix of "sync2": a late unsubscription cannot let
    // the second probe pass early).
    sub.subscribe("other")?;
    sub.unsubscribe("tag")?;
    sync_sub(&publisher, &mut sub, b"sync2").await;
    publisher.publish("dropped", "tag1")?;
    publisher.publish("kept", "other")?;
    let m = next_published(&mut sub, b"sync2").await;
    assert_eq!((m.tag(), m.body()), (&b"other"[..], &b"kept"[..]));

    // A tag with a NUL would be cut by the subscriber: refused.
    assert!(matches!(
        publisher.publish("x", "a\0b"),
        Err(Error::Unsendable(WireError::NulInTag { offset: 1 }))
    ));
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_multiple_endpoints() -> Result<()> {
    let factory = Factory::new()?;
    let mut sub = SubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let tcp = sub.last_endpoint()?;
    let local = inproc("txsub");
    sub.add_endpoints([Endpoint::bind(&local)])?;
    let p1 = PubConnection::new(&factory, Endpoint::connect(&tcp))?;
    let p2 = PubConnection::new(&factory, Endpoint::connect(&local))?;
    sub.subscribe("tag")?;
    sync_sub(&p1, &mut sub, b"probe1").await;
    sync_sub(&p2, &mut sub, b"probe2").await;
    p1.publish("111", "tag1")?;
    p2.publish("222", "tag2")?;
    let mut got = Vec::new();
    while got.len() < 2 {
        let m = next(&mut sub).await?;
        if m.tag().starts_with(b"tag") {
            got.push((m.tag().to_vec(), m.body().to_vec()));
        }
    }
    got.sort();
    assert_eq!(
        got,
        [
            (b"tag1".to_vec(), b"111".to_vec()),
            (b"tag2".to_vec(), b"222".to_vec())
        ]
    );
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_accepts_two_frames_and_reports_malformed() -> Result<()> {
    let factory = Factory::new()?;
    let mut sub = SubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    sub.subscribe("")?;
    // A plain PUB socket, to send what txZMQ's publish never would.
    let ctx = zmqx::Context::new();
    let raw = common::socket(&ctx, SocketType::Pub)?;
    raw.connect(&sub.last_endpoint()?)?;
    within(async {
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        loop {
            tokio::select! {
                _ = tick.tick() => raw.send("probe\0")?,
                m = sub.next() => if m.expect("stream")?.tag() == b"probe" { return Ok::<_, Error>(()) },
            }
        }
    })
    .await?;
    raw.send_multipart(["tag", "two frames"])?;
    raw.send("no separator")?;
    raw.send_multipart(["a", "b", "c"])?;
    raw.send("after\0all")?;

    let mut items = Vec::new();
    while items.len() < 4 {
        let item = next(&mut sub).await;
        if matches!(&item, Ok(m) if m.tag() == b"probe") {
            continue;
        }
        items.push(item);
    }
    let two = items.remove(0)?;
    assert_eq!((two.tag(), two.body()), (&b"tag"[..], &b"two frames"[..]));
    assert_eq!(two.form(), PublishedForm::TwoFrames);
    match items.remove(0) {
        Err(Error::Framing { reason, frames }) => {
            assert_eq!(reason, WireError::MissingTagSeparator);
            assert_eq!(frames.get(0), Some(&b"no separator"[..]));
        }
        other => panic!("expected a framing error, got {other:?}"),
    }
    match items.remove(0) {
        Err(Error::Framing { reason, frames }) => {
            assert_eq!(reason, WireError::TooManyFrames { count: 3 });
            assert_eq!(frames.len(), 3);
        }
        other => panic!("expected a framing error, got {other:?}"),
    }
    let last = items.remove(0)?;
    assert_eq!((last.tag(), last.body()), (&b"after"[..], &b"all"[..]));
    drop(raw);
    within(factory.shutdown()).await
}

// ---- push/pull callback ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_callback() -> Result<()> {
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let push = PushConnection::new(&factory, Endpoint::connect(pull.last_endpoint()?))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = pull
        .on_pull(move |m| {
            let _ = tx.send(m);
        })
        .expect("first callback");
    assert!(pull.on_pull(|_| {}).is_none(), "only one callback");
    // The stream is now empty.
    assert!(within(pull.next()).await.is_none());
    for i in 0..10 {
        push.push(format!("job {i}"))?;
    }
    for i in 0..10 {
        let m = within(rx.recv()).await.expect("callback ran")?;
        assert_eq!(m, [format!("job {i}").as_str()]);
    }
    within(factory.shutdown()).await?;
    // The callback task ends with the connection.
    within(task).await.expect("callback task");
    Ok(())
}

// ---- test_reqrep -----------------------------------------------------------

/// What the echo server saw: (message id, parts).
type Seen = tokio::sync::mpsc::UnboundedReceiver<(Vec<u8>, Vec<Vec<u8>>)>;

/// A reply server that echoes every request, recording (id, parts).
fn echo_server(factory: &Factory, endpoint: &str) -> Result<(RepConnection, Seen)> {
    let mut server = RepConnection::new(factory, Endpoint::bind(endpoint))?;
    let replier = server.replier();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    server.on_request(move |request| {
        let request = request.expect("well-formed request");
        let parts: Vec<Vec<u8>> = request.parts.iter().map(|p| p.to_vec()).collect();
        let _ = tx.send((request.id.clone(), parts));
        replier
            .reply(&request.id, request.parts)
            .expect("reply sent");
    });
    Ok((server, rx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqrep_send_recv_and_cleanup() -> Result<()> {
    let factory = Factory::new()?;
    let endpoint = ipc("txreq");
    let mut server = RepConnection::new(&factory, Endpoint::bind(&endpoint))?;
    let options = ConnectionOptions::new().identity("client");
    let client = ReqConnection::with_options(&factory, [Endpoint::connect(&endpoint)], &options)?;
    assert_eq!(client.id_pool_len(), 0);

    // The server answers once both are out: both ids are on the wire
    // (an answered id goes back to the pool and may be reused at once).
    let r1 = client.send_msg(["aaa", "aab"])?;
    let r2 = client.send_msg(["bbb"])?;
    assert_eq!(r1.id().len(), 16);
    assert_ne!(r1.id(), r2.id());
    // One batch of ids was made, two are on the wire.
    assert_eq!(client.id_pool_len(), ID_POOL_GEN_SIZE - 2);
    let (id1, id2) = (r1.id().to_vec(), r2.id().to_vec());
    let q1 = next(&mut server).await?;
    let q2 = next(&mut server).await?;
    assert_eq!((&q1.id, &q2.id), (&id1, &id2));
    assert_eq!(q1.parts, ["aaa", "aab"]);
    assert_eq!(q2.parts, ["bbb"]);
    assert_eq!(q1.envelope(), [&b"client"[..]]);
    server.reply(&q1.id, q1.parts)?;
    server.reply(&q2.id, q2.parts)?;
    assert_eq!(within(r1).await?, ["aaa", "aab"]);
    assert_eq!(within(r2).await?, ["bbb"]);
    // Answered ids go back to the pool (txZMQ's test_cleanup_requests).
    assert_eq!(client.pending_requests(), 0);
    assert_eq!(client.id_pool_len(), ID_POOL_GEN_SIZE);
    assert_eq!(server.pending_requests(), 0);
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqrep_many_in_flight_and_unique_ids() -> Result<()> {
    const N: usize = 200;
    let factory = Factory::new()?;
    let (server, mut ids) = holding_server(&factory)?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    let replies: Vec<_> = (0..N)
        .map(|i| client.send_msg([format!("request {i}")]))
        .collect::<Result<_>>()?;
    let unique: std::collections::HashSet<Vec<u8>> =
        replies.iter().map(|r| r.id().to_vec()).collect();
    assert_eq!(unique.len(), N, "ids in flight are unique");
    assert_eq!(client.pending_requests(), N);
    // Answer in reverse order: each reply finds its own request.
    let mut arrived = Vec::new();
    for _ in 0..N {
        arrived.push(within(ids.recv()).await.expect("request"));
    }
    for id in arrived.iter().rev() {
        let i = replies
            .iter()
            .position(|r| r.id() == &id[..])
            .expect("a known id");
        server.reply(id, [format!("reply {i}")])?;
    }
    let all = within(futures_util::future::join_all(replies)).await;
    for (i, reply) in all.into_iter().enumerate() {
        assert_eq!(reply?, [format!("reply {i}").as_str()]);
    }
    // Answered ids went back to the pool, trimmed to twice its batch.
    assert_eq!(client.pending_requests(), 0);
    assert!(client.id_pool_len() <= 2 * ID_POOL_GEN_SIZE);
    assert!(client.id_pool_len() > ID_POOL_GEN_SIZE);
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqrep_echo_while_sending() -> Result<()> {
    // Replies come back while requests still leave: answered ids are
    // reused at once, and every reply still reaches its own request.
    let factory = Factory::new()?;
    let (server, _seen) = echo_server(&factory, "tcp://127.0.0.1:*")?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    let replies: Vec<_> = (0..500)
        .map(|i| client.send_msg([format!("request {i}")]))
        .collect::<Result<_>>()?;
    let all = within(futures_util::future::join_all(replies)).await;
    for (i, reply) in all.into_iter().enumerate() {
        assert_eq!(reply?, [format!("request {i}").as_str()]);
    }
    within(factory.shutdown()).await
}

/// A server that holds requests until told, to test timeouts and
/// cancellation. Returns the server and a receiver of request ids.
fn holding_server(
    factory: &Factory,
) -> Result<(RepConnection, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>)> {
    let mut server = RepConnection::new(factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    server.on_request(move |r| {
        let _ = tx.send(r.expect("request").id);
    });
    Ok((server, rx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqrep_cancel_drops_late_reply() -> Result<()> {
    let factory = Factory::new()?;
    let (server, mut ids) = holding_server(&factory)?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    // With and without a timeout (txZMQ's test_cancel, test_cancel_with_timeout).
    for timeout in [None, Some(Duration::from_secs(10))] {
        let stray_before = client.stray_replies();
        let reply = match timeout {
            Some(t) => client.send_msg_with_timeout(["aaa"], t)?,
            None => client.send_msg(["aaa"])?,
        };
        let pool = client.id_pool_len();
        let id = within(ids.recv()).await.expect("request arrived");
        assert_eq!(id, reply.id());
        drop(reply); // cancel
        assert_eq!(client.pending_requests(), 0);
        // The cancelled id is not reused.
        assert_eq!(client.id_pool_len(), pool);
        server.reply(&id, ["late"])?;
        // A request after it: once its reply is in, the late one was seen.
        let next = client.send_msg(["next"])?;
        let next_id = within(ids.recv()).await.expect("request arrived");
        server.reply(&next_id, ["next reply"])?;
        assert_eq!(within(next).await?, ["next reply"]);
        assert_eq!(client.stray_replies(), stray_before + 1);
    }
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqrep_timeouts() -> Result<()> {
    let factory = Factory::new()?;
    let (server, mut ids) = holding_server(&factory)?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;

    // A reply in time (txZMQ's test_send_timeout_ok).
    let reply = client.send_msg_with_timeout(["ok"], TIMEOUT)?;
    let id = within(ids.recv()).await.expect("request");
    server.reply(&id, ["fine"])?;
    assert_eq!(within(reply).await?, ["fine"]);

    // No reply in time (test_send_timeout_fail).
    let t = Duration::from_millis(50);
    let reply = client.send_msg_with_timeout(["slow"], t)?;
    let reply_id = reply.id().to_vec();
    match within(reply).await {
        Err(Error::RequestTimeout { id, timeout }) => {
            assert_eq!(id, reply_id);
            assert_eq!(timeout, t);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(client.pending_requests(), 0);
    let id = within(ids.recv()).await.expect("request");
    server.reply(&id, ["too late"])?;

    // The default timeout applies to send_msg.
    assert_eq!(client.default_timeout(), None);
    client.set_default_timeout(Some(t));
    let reply = client.send_msg(["slow too"])?;
    assert!(matches!(
        within(reply).await,
        Err(Error::RequestTimeout { .. })
    ));
    let io: std::io::Error = Error::RequestTimeout {
        id: vec![1],
        timeout: t,
    }
    .into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rep_unknown_id_and_malformed_requests() -> Result<()> {
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    match server.reply(b"nope", ["x"]) {
        Err(Error::UnknownMessageId { id }) => assert_eq!(id, b"nope"),
        other => panic!("expected UnknownMessageId, got {other:?}"),
    }
    // A raw DEALER sends what txZMQ's client never would.
    let ctx = zmqx::Context::new();
    let raw = common::socket(&ctx, SocketType::Dealer)?;
    raw.set_routing_id("raw")?;
    raw.connect(&server.last_endpoint()?)?;
    raw.send_multipart(["no delimiter"])?;
    raw.send_multipart(["", "no id"])?;
    raw.send_multipart(["id-1", "", "ok"])?;
    match next(&mut server).await {
        Err(Error::Framing { reason, frames }) => {
            assert_eq!(reason, WireError::MissingDelimiter);
            assert_eq!(frames.get(0), Some(&b"raw"[..]));
            assert_eq!(frames.get(1), Some(&b"no delimiter"[..]));
        }
        other => panic!("expected a framing error, got {other:?}"),
    }
    // [empty, parts…] is what a plain REQ sends: as in txZMQ, the routing
    // id serves as the message id, and the reply routes back by it.
    let plain = next(&mut server).await?;
    assert_eq!(plain.id, b"raw");
    assert!(plain.envelope().is_empty());
    assert_eq!(plain.parts, ["no id"]);
    let request = next(&mut server).await?;
    assert_eq!(request.id, b"id-1");
    assert_eq!(request.envelope(), [&b"raw"[..]]);
    assert_eq!(request.parts, ["ok"]);
    server.reply(&request.id, ["answer", ""])?;
    raw.set_rcvtimeo(Some(TIMEOUT))?;
    let got = raw.recv_multipart()?;
    assert_eq!(got, [&b"id-1"[..], b"", b"answer", b""]);
    server.reply(&plain.id, ["plain answer"])?;
    let got = raw.recv_multipart()?;
    assert_eq!(got, [&b""[..], b"plain answer"]);
    // A forgotten request cannot be answered.
    raw.send_multipart(["id-2", ""])?;
    let forgotten = next(&mut server).await?;
    assert!(forgotten.parts.is_empty());
    assert_eq!(server.pending_requests(), 1);
    assert!(server.forget(&forgotten.id));
    assert!(!server.forget(&forgotten.id));
    assert!(matches!(
        server.reply(&forgotten.id, ["x"]),
        Err(Error::UnknownMessageId { .. })
    ));
    // Answered: the id is unknown now.
    assert!(matches!(
        server.reply(&request.id, ["again"]),
        Err(Error::UnknownMessageId { .. })
    ));
    drop(raw);
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_reports_malformed_reply() -> Result<()> {
    let factory = Factory::new()?;
    let ctx = zmqx::Context::new();
    let raw = common::socket(&ctx, SocketType::Router)?;
    let endpoint = common::bind_tcp(&raw)?;
    let client = ReqConnection::new(&factory, Endpoint::connect(&endpoint))?;
    let reply = client.send_msg(["q"])?;
    let raw = tokio::task::spawn_blocking(move || -> Result<zmqx::Socket> {
        let mut request = raw.recv_multipart()?;
        request.truncate(2); // [peer, id]
        request.push(Message::from("not empty"));
        request.push(Message::from("x"));
        raw.send_multipart(request)?;
        Ok(raw)
    });
    match within(reply).await {
        Err(Error::Framing { reason, frames }) => {
            assert_eq!(reason, WireError::NonEmptyDelimiter);
            assert_eq!(frames.len(), 3);
        }
        other => panic!("expected a framing error, got {other:?}"),
    }
    drop(within(raw).await.expect("join")?);
    within(factory.shutdown()).await
}

// ---- test_router_dealer (and test_reqrep's two-factory exchange) ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_dealer_two_factories() -> Result<()> {
    const N: usize = 2000;
    let f1 = Factory::new()?;
    let f2 = Factory::new()?;
    let endpoint = ipc("txrd");
    let mut router = RouterConnection::with_options(
        &f2,
        [Endpoint::bind(&endpoint)],
        &ConnectionOptions::new().identity("router"),
    )?;
    let mut dealer = DealerConnection::with_options(
        &f1,
        [Endpoint::connect(&endpoint)],
        &ConnectionOptions::new().identity("dealer"),
    )?;
    let server = tokio::spawn(async move {
        let mut count = 0;
        loop {
            let m = next(&mut router).await?;
            assert_eq!(m.sender, "dealer");
            if m.parts == ["stop"] {
                router.send_msg("dealer", "exit")?;
                return Ok::<_, Error>(count);
            }
            count += 1;
            for _ in 0..3 {
                router.send_async("dealer", ["event"]).await?;
            }
        }
    });
    for _ in 0..N {
        dealer.send_async(["req"]).await?;
    }
    dealer.send_msg("stop")?;
    let mut events = 0;
    loop {
        let m = next(&mut dealer).await?;
        match &m[0][..] {
            b"event" => events += 1,
            b"exit" => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(events, 3 * N);
    assert_eq!(within(server).await.expect("router task")?, N);
    within(f2.shutdown()).await?;
    within(f1.shutdown()).await
}

// ---- lost connections ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnects_are_reported() -> Result<()> {
    let server_factory = Factory::new()?;
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&server_factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = pull.last_endpoint()?;
    let mut push = PushConnection::with_options(
        &factory,
        [Endpoint::connect(&endpoint)],
        &ConnectionOptions::new().watch_disconnects(true),
    )?;
    let mut lost = push.disconnects().expect("watching");
    assert!(push.disconnects().is_none(), "taken once");
    push.push("hello")?;
    assert_eq!(next(&mut pull).await?, ["hello"]);
    // The peer goes away: the connection is lost.
    within(server_factory.shutdown()).await?;
    let event = within(lost.next()).await.expect("an event");
    assert_eq!(event.kind, EventKind::Disconnected);
    assert_eq!(event.endpoint, endpoint);
    // The stream ends when the connection shuts down.
    push.shutdown();
    assert!(within(lost.next()).await.is_none());
    within(factory.shutdown()).await
}

// ---- factory shutdown (test_factory, test_reactor_shutdown) ---------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_live_connections() -> Result<()> {
    let factory = Factory::new()?;
    let (server, _ids) = holding_server(&factory)?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    let mut sub = SubConnection::new(&factory, Endpoint::bind(inproc("live")))?;
    let publisher = PubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let pending = client.send_msg(["never answered"])?;
    assert_eq!(factory.connection_count(), 4);

    within(factory.shutdown()).await?;
    assert!(factory.context().is_terminated());
    assert_eq!(factory.connection_count(), 0);
    // Pending requests fail, streams end, operations report a closed socket.
    assert!(matches!(
        within(pending).await,
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    assert!(within(sub.next()).await.is_none());
    assert!(client.is_closed() && server.is_closed());
    assert!(matches!(
        publisher.publish("x", "t"),
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    assert!(matches!(
        client.send_msg(["x"]),
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    assert!(matches!(
        PushConnection::new(&factory, Endpoint::bind(inproc("late"))),
        Err(Error::Zmq(ZmqError::ContextTerminated))
    ));
    Ok(())
}

#[test]
fn shutdown_now_from_outside_the_runtime() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    let (client, reply) = runtime.block_on(async {
        let (server, ids) = holding_server(&factory)?;
        let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
        let reply = client.send_msg(["q"])?;
        std::mem::forget(ids);
        Ok::<_, Error>(((client, server), reply))
    })?;
    // The runtime is idle (not being driven): shutting down must not wait
    // for its tasks.
    let started = std::time::Instant::now();
    factory.shutdown_now();
    assert!(started.elapsed() < TIMEOUT);
    assert!(factory.is_shut_down());
    // Once the runtime runs again, the tasks end and the request fails.
    let outcome = runtime.block_on(async { within(reply).await });
    assert!(matches!(outcome, Err(Error::Zmq(ZmqError::NotSocket))));
    drop(client);
    drop(runtime);
    drop(factory);
    Ok(())
}

#[test]
fn runtime_dropped_before_factory() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    let connections = runtime.block_on(async {
        let mut pull = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
        let push = PushConnection::new(&factory, Endpoint::connect(pull.last_endpoint()?))?;
        push.push("x")?;
        assert_eq!(next(&mut pull).await?, ["x"]);
        Ok::<_, Error>((pull, push))
    })?;
    // Dropping the runtime drops the connection tasks (and their sockets).
    drop(runtime);
    // The factory and the connections then go without hanging, in a
    // thread we can time out.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(connections);
        drop(factory);
        let _ = tx.send(());
    });
    rx.recv_timeout(TIMEOUT).expect("drop did not hang");
    Ok(())
}

#[test]
fn registered_factory_shuts_down_with_the_runtime() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    let _pull = runtime.block_on(async {
        factory.shutdown_on(std::future::pending::<()>());
        PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))
    })?;
    assert!(!factory.is_shut_down());
    // txZMQ's test_reactor_shutdown: the runtime goes, the factory follows.
    runtime.shutdown_timeout(TIMEOUT);
    assert!(factory.is_shut_down());

    // The same when the registration task never ran.
    let idle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    idle.block_on(async {
        factory.shutdown_on(std::future::pending::<()>());
    });
    assert!(!factory.is_shut_down());
    drop(idle);
    assert!(factory.is_shut_down());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_on_signal_and_explicit_shutdown() -> Result<()> {
    // The signal fires: the factory shuts down.
    let factory = Factory::new()?;
    let _pull = PullConnection::new(&factory, Endpoint::bind(inproc("sig")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = factory.shutdown_on(rx);
    tx.send(()).expect("task waits");
    within(task).await.expect("shutdown task");
    assert!(factory.is_shut_down());
    assert!(factory.context().is_terminated());

    // txZMQ's test_reactor_and_factory_shutdown: registered, then shut
    // down explicitly; the registration ends by itself.
    let factory = Factory::new()?;
    let task = factory.shutdown_on_ctrl_c();
    within(factory.shutdown()).await?;
    within(task).await.expect("registration ended");
    Ok(())
}

#[test]
fn connections_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Factory>();
    send_sync::<PubConnection>();
    send_sync::<SubConnection>();
    send_sync::<PushConnection>();
    send_sync::<PullConnection>();
    send_sync::<ReqConnection>();
    send_sync::<RepConnection>();
    send_sync::<RouterConnection>();
    send_sync::<DealerConnection>();
    send_sync::<zmqx::txzmq::Replier>();
    send::<zmqx::txzmq::Reply>();
    send::<Published>();
}

#[test]
fn shutdown_does_not_wait_for_an_idle_runtime() -> Result<()> {
    // Connections on a runtime that is not running; shutdown awaited on
    // another runtime: bounded, then the context is shut down.
    let idle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    let _pull =
        idle.block_on(async { PullConnection::new(&factory, Endpoint::bind(inproc("idle"))) })?;
    let other = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    other.block_on(async { within(factory.shutdown()).await })?;
    assert!(factory.is_shut_down());
    Ok(())
}

/// Set in the child process of [`ctrl_c_shuts_the_factory_down`].
const CTRL_C_CHILD: &str = "ZMQX_TXZMQ_CTRL_C_CHILD";

/// The child of [`ctrl_c_shuts_the_factory_down`]; does nothing in a normal
/// run.
#[test]
fn ctrl_c_child() -> Result<()> {
    if std::env::var_os(CTRL_C_CHILD).is_none() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let factory = Factory::new()?;
        let mut pull = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
        let push = PushConnection::new(&factory, Endpoint::connect(pull.last_endpoint()?))?;
        push.push("before")?;
        assert_eq!(next(&mut pull).await?, ["before"]);
        let task = factory.shutdown_on_ctrl_c();
        // On this single thread, the task runs (and installs the SIGINT
        // handler) before this one resumes.
        tokio::task::yield_now().await;
        println!("TXZMQ-READY");
        within(task).await.expect("shutdown task");
        assert!(factory.is_shut_down());
        assert!(pull.is_closed() && push.is_closed());
        println!("TXZMQ-SHUT-DOWN");
        Ok(())
    })
}

#[test]
fn ctrl_c_shuts_the_factory_down() {
    use std::io::{BufRead, BufReader};
    if std::env::var_os(CTRL_C_CHILD).is_some() {
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "ctrl_c_child", "--nocapture", "--test-threads=1"])
        .env(CTRL_C_CHILD, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start child");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut lines: Vec<String> = Vec::new();
    while !lines.iter().any(|l| l.contains("TXZMQ-READY")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("child never got ready: {lines:?}");
            }
        }
    }
    // SAFETY: kill(2) with the pid of our own child and a valid signal.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);
    let output = common::wait_child(child, TIMEOUT).expect("child exits");
    lines.extend(rx.try_iter());
    assert!(
        output.status.success() && lines.iter().any(|l| l.contains("TXZMQ-SHUT-DOWN")),
        "{:?} {lines:?}",
        output.status
    );
}

#[test]
fn connection_outside_a_runtime_is_an_error() -> Result<()> {
    let factory = Factory::new()?;
    assert!(matches!(
        PullConnection::new(&factory, Endpoint::bind(inproc("no-runtime"))),
        Err(Error::Zmq(ZmqError::Reactor(_)))
    ));
    assert_eq!(factory.connection_count(), 0);
    factory.shutdown_now();
    Ok(())
}

#[test]
fn pending_reply_fails_when_its_runtime_goes() -> Result<()> {
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let factory = Factory::new()?;
    let (connections, reply) = first.block_on(async {
        let (server, ids) = holding_server(&factory)?;
        let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
        let reply = client.send_msg(["q"])?;
        Ok::<_, Error>(((server, client, ids), reply))
    })?;
    // The connection tasks are dropped with their runtime, before they
    // ever ran.
    drop(first);
    assert_eq!(connections.1.pending_requests(), 0);
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = second.block_on(async { within(reply).await });
    assert!(
        matches!(outcome, Err(Error::Zmq(ZmqError::NotSocket))),
        "{outcome:?}"
    );
    drop(connections);
    Ok(())
}

// ---- plain REQ clients (issue 18) ------------------------------------------

/// A plain libzmq REQ socket, driven by the async API.
fn plain_req(ctx: &zmqx::Context, endpoint: &str, id: &str) -> Result<zmqx::AsyncSocket> {
    let req = common::socket(ctx, SocketType::Req)?;
    req.set_routing_id(id)?;
    req.connect(endpoint)?;
    Ok(zmqx::AsyncSocket::new(req)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rep_answers_a_plain_req_socket() -> Result<()> {
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = server.last_endpoint()?;
    let ctx = zmqx::Context::new();
    let req = plain_req(&ctx, &endpoint, "plain-req")?;
    // Several rounds: the REQ's state machine needs each reply.
    for round in 0..3 {
        within(req.send_multipart(["ping".to_string(), round.to_string()])).await?;
        let request = next(&mut server).await?;
        // No message id on the wire: the routing id serves as one.
        assert_eq!(request.id, b"plain-req");
        assert!(request.envelope().is_empty());
        assert_eq!(request.parts, ["ping", round.to_string().as_str()]);
        server.reply(&request.id, ["pong".to_string(), round.to_string()])?;
        let reply = within(req.recv_multipart()).await?;
        assert_eq!(reply, ["pong", round.to_string().as_str()]);
    }
    assert_eq!(server.pending_requests(), 0);

    // A REQ drops a reply with no parts: refused, the request kept.
    within(req.send_multipart(["empty?"])).await?;
    let request = next(&mut server).await?;
    assert!(matches!(
        server.reply(&request.id, NO_PARTS),
        Err(Error::Unsendable(WireError::NoPartsForReq))
    ));
    assert_eq!(server.pending_requests(), 1);
    server.reply(&request.id, [""])?;
    assert_eq!(within(req.recv_multipart()).await?, [""]);

    // With ZMQ_REQ_CORRELATE the REQ sends a request id: it is the message
    // id, and the routing id is the envelope.
    let correlated = common::socket(&ctx, SocketType::Req)?;
    correlated.set_routing_id("correlated")?;
    correlated.set_req_correlate(true)?;
    correlated.connect(&endpoint)?;
    let correlated = zmqx::AsyncSocket::new(correlated)?;
    within(correlated.send_multipart(["hello"])).await?;
    let request = next(&mut server).await?;
    assert_eq!(request.id.len(), 4, "REQ_CORRELATE's request id");
    assert_eq!(request.envelope(), [&b"correlated"[..]]);
    server.reply(&request.id, ["world"])?;
    assert_eq!(within(correlated.recv_multipart()).await?, ["world"]);
    drop((req, correlated));
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rep_envelope_through_a_broker() -> Result<()> {
    // A txZMQ client behind a ROUTER/DEALER broker: the broker's DEALER
    // adds the client's routing id, which the envelope shows.
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let backend = server.last_endpoint()?;
    let mut front = RouterConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let back = DealerConnection::new(&factory, Endpoint::connect(&backend))?;
    let client = ReqConnection::with_options(
        &factory,
        [Endpoint::connect(front.last_endpoint()?)],
        &ConnectionOptions::new().identity("client-1"),
    )?;
    let reply = client.send_msg_with_timeout(["via broker"], TIMEOUT)?;
    let m = next(&mut front).await?;
    let mut frames = vec![m.sender];
    frames.extend(m.parts);
    within(back.send_async(frames)).await?;
    let request = next(&mut server).await?;
    assert_eq!(request.id, reply.id());
    assert_eq!(request.envelope().len(), 2);
    assert_eq!(request.envelope()[1], "client-1");
    server.reply(&request.id, ["answered"])?;
    let mut back = back;
    let answer = next(&mut back).await?;
    let (to, rest) = answer.split_first().expect("routing id");
    front.send_multipart(to.clone(), rest.iter().cloned())?;
    assert_eq!(within(reply).await?, ["answered"]);
    within(factory.shutdown()).await
}

// ---- panicking callbacks (issue 18) ----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_callback_panic_is_reported_and_receiving_goes_on() -> Result<()> {
    let factory = Factory::new()?;
    let publisher = PubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let mut sub = SubConnection::new(&factory, Endpoint::connect(publisher.last_endpoint()?))?;
    sub.subscribe("t")?;
    sync_sub(&publisher, &mut sub, b"sync").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sub.on_message(move |item| match item {
        Ok(m) if m.body() == b"boom" => panic!("the callback broke on {:?}", m.body()),
        other => {
            let _ = tx.send(other);
        }
    });
    for body in ["before", "boom", "after", "boom", "last"] {
        publisher.publish(body, "t")?;
    }
    let mut seen = Vec::new();
    while seen.len() < 5 {
        match within(rx.recv()).await.expect("callback task alive") {
            Ok(m) if m.tag() == b"t" => seen.push(String::from_utf8_lossy(m.body()).into_owned()),
            Ok(_) => {}
            Err(Error::CallbackPanicked {
                callback,
                message,
                message_id,
            }) => {
                assert_eq!(callback, "on_message");
                assert!(message.contains("the callback broke"), "{message}");
                assert_eq!(message_id, None);
                seen.push("panic".into());
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(seen, ["before", "panic", "after", "panic", "last"]);
    assert!(!sub.is_closed());
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rep_callback_panic_is_reported_with_the_request_id() -> Result<()> {
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let replier = server.replier();
    server.on_request(move |item| match item {
        Ok(request) if request.parts == ["boom"] => panic!("handler failed"),
        Ok(request) => replier.reply(&request.id, request.parts).expect("reply"),
        // The report of the panic: the request is still pending, answer it.
        Err(Error::CallbackPanicked {
            callback,
            message,
            message_id: Some(id),
        }) => {
            assert_eq!(callback, "on_request");
            replier
                .reply(&id, ["error", message.as_str()])
                .expect("reply");
        }
        Err(e) => panic!("unexpected {e:?}"),
    });
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    let first = client.send_msg_with_timeout(["boom"], TIMEOUT)?;
    let second = client.send_msg_with_timeout(["fine"], TIMEOUT)?;
    assert_eq!(within(first).await?, ["error", "handler failed"]);
    assert_eq!(within(second).await?, ["fine"]);
    // A callback that panics on the report as well: printed, and the
    // connection still serves.
    let mut server2 = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let replier2 = server2.replier();
    server2.on_request(move |item| {
        let request = item.expect("no error items, please");
        if request.parts == ["boom"] {
            panic!("handler failed");
        }
        replier2.reply(&request.id, ["ok"]).expect("reply");
    });
    let client2 = ReqConnection::new(&factory, Endpoint::connect(server2.last_endpoint()?))?;
    let lost = client2.send_msg_with_timeout(["boom"], Duration::from_millis(200))?;
    let served = client2.send_msg_with_timeout(["fine"], TIMEOUT)?;
    assert_eq!(within(served).await?, ["ok"]);
    assert!(matches!(
        within(lost).await,
        Err(Error::RequestTimeout { .. })
    ));
    assert!(!server2.is_closed());
    assert_eq!(server2.pending_requests(), 1, "the unanswered request");
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_callback_task_closes_the_connection() -> Result<()> {
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&factory, Endpoint::bind(inproc("abort")))?;
    let push = PushConnection::new(
        &factory,
        Endpoint::connect(pull.endpoints()[0].address.clone()),
    )?;
    let task = pull.on_pull(|_| {}).expect("first callback");
    task.abort();
    assert!(within(task).await.expect_err("aborted").is_cancelled());
    // The next message finds nobody to take it: the connection closes
    // instead of going deaf.
    push.push("anyone?")?;
    // It binds inproc, so it counts no peer: `connected()` waits until the
    // connection closes.
    assert!(matches!(
        within(pull.connected()).await,
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    assert!(pull.is_closed());
    assert!(matches!(
        pull.last_endpoint(),
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_context_closes_connections_visibly() -> Result<()> {
    let factory = Factory::new()?;
    let mut pull = PullConnection::new(&factory, Endpoint::bind(inproc("term")))?;
    factory.context().shutdown()?;
    assert!(matches!(
        next(&mut pull).await,
        Err(Error::Zmq(ZmqError::ContextTerminated))
    ));
    assert!(within(pull.next()).await.is_none());
    assert!(pull.is_closed());
    within(factory.shutdown()).await
}

// ---- ergonomics (issue 19) --------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_waits_for_a_peer() -> Result<()> {
    let factory = Factory::new()?;
    let mut push = PushConnection::with_options(
        &factory,
        [Endpoint::bind("tcp://127.0.0.1:*")],
        &ConnectionOptions::new().watch_disconnects(true),
    )?;
    let endpoint = push.last_endpoint()?;
    let mut lost = push.disconnects().expect("watching");
    assert_eq!(push.connected_peers(), 0);
    // Nobody yet.
    assert!(
        tokio::time::timeout(Duration::from_millis(50), push.connected())
            .await
            .is_err()
    );
    assert!(matches!(push.push("x"), Err(Error::Zmq(ZmqError::Again))));
    let other = Factory::new()?;
    let mut pull = PullConnection::new(&other, Endpoint::connect(&endpoint))?;
    within(push.connected()).await?;
    within(pull.connected()).await?;
    assert_eq!(push.connected_peers(), 1);
    push.push("now")?;
    assert_eq!(next(&mut pull).await?, ["now"]);
    // A second peer, then both leave.
    let pull2 = PullConnection::new(&other, Endpoint::connect(&endpoint))?;
    within(pull2.connected()).await?;
    within(async {
        while push.connected_peers() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    within(other.shutdown()).await?;
    for _ in 0..2 {
        let event = within(lost.next()).await.expect("a lost peer");
        assert_eq!(event.kind, EventKind::Disconnected);
    }
    assert_eq!(push.connected_peers(), 0);
    // A closed connection: connected() fails.
    push.shutdown();
    assert!(matches!(
        within(push.connected()).await,
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_on_every_kind_and_inproc() -> Result<()> {
    let factory = Factory::new()?;
    // inproc makes no monitor events: a connect counts at once.
    let name = inproc("conn");
    let sub = SubConnection::new(&factory, Endpoint::connect(&name))?;
    within(sub.connected()).await?;
    assert_eq!(sub.connected_peers(), 1);
    let publisher = PubConnection::new(&factory, Endpoint::bind(&name))?;
    assert_eq!(publisher.connected_peers(), 0, "inproc binds see no peers");
    publisher.add_endpoints([Endpoint::bind("tcp://127.0.0.1:*")])?;
    let sub2 = SubConnection::new(&factory, Endpoint::connect(publisher.last_endpoint()?))?;
    within(publisher.connected()).await?;
    within(sub2.connected()).await?;
    // The request pair and the raw pair.
    let server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    within(client.connected()).await?;
    within(server.connected()).await?;
    let router = RouterConnection::new(&factory, Endpoint::bind("ipc://@zmqx-txzmq-conn"))?;
    let dealer = DealerConnection::new(&factory, Endpoint::connect(router.last_endpoint()?))?;
    within(dealer.connected()).await?;
    within(router.connected()).await?;
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_send_msg_async_waits_for_a_peer() -> Result<()> {
    let factory = Factory::new()?;
    // The client binds: until a server connects, nothing can take a request.
    let client = ReqConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = client.last_endpoint()?;
    assert!(matches!(
        client.send_msg(["now"]),
        Err(Error::Zmq(ZmqError::Again))
    ));
    // A timeout covers the wait to leave: the request fails and its id is
    // reused.
    let pool = client.id_pool_len();
    match within(client.send_msg_async_with_timeout(["soon"], Duration::from_millis(50))).await {
        Err(Error::RequestTimeout { timeout, .. }) => {
            assert_eq!(timeout, Duration::from_millis(50))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(client.pending_requests(), 0);
    assert_eq!(client.id_pool_len(), pool);
    // Waits until a server comes.
    let sent = client.send_msg_async(["waited"]);
    tokio::pin!(sent);
    assert!(
        tokio::time::timeout(Duration::from_millis(20), &mut sent)
            .await
            .is_err(),
        "no peer yet"
    );
    assert_eq!(client.pending_requests(), 1);
    let (server, mut seen) = echo_server(&factory, "tcp://127.0.0.1:*")?;
    server.add_endpoints([Endpoint::connect(&endpoint)])?;
    let reply = within(sent).await?;
    assert_eq!(within(reply).await?, ["waited"]);
    assert_eq!(
        within(seen.recv()).await.expect("seen").1,
        [b"waited".to_vec()]
    );
    // Dropped before it could leave: nothing pending, nothing sent.
    let lonely = ReqConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let cancelled =
        tokio::time::timeout(Duration::from_millis(20), lonely.send_msg_async(["never"])).await;
    assert!(cancelled.is_err());
    assert_eq!(lonely.pending_requests(), 0);
    // Shut down while waiting.
    let pending = lonely.send_msg_async(["never either"]);
    lonely.shutdown();
    assert!(matches!(
        within(pending).await,
        Err(Error::Zmq(ZmqError::NotSocket))
    ));
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_parts_requests_and_replies() -> Result<()> {
    let factory = Factory::new()?;
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    let reply = client.send_msg(NO_PARTS)?;
    let request = next(&mut server).await?;
    assert!(request.parts.is_empty());
    server.reply(&request.id, NO_PARTS)?;
    assert!(within(reply).await?.is_empty());
    let reply = within(client.send_msg_async(NO_PARTS)).await?;
    let request = next(&mut server).await?;
    server.replier().reply(&request.id, NO_PARTS)?;
    assert!(within(reply).await?.is_empty());
    within(factory.shutdown()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_send_multipart_raw() -> Result<()> {
    let factory = Factory::new()?;
    let publisher = PubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let mut sub = SubConnection::new(&factory, Endpoint::connect(publisher.last_endpoint()?))?;
    sub.subscribe("raw")?;
    sync_sub(&publisher, &mut sub, b"sync").await;
    // txZMQ's `send([tag, msg])`: two frames, read as [tag, body].
    publisher.send_multipart(["raw.tag", "body"])?;
    let m = next_published(&mut sub, b"sync").await;
    assert_eq!((m.tag(), m.body()), (&b"raw.tag"[..], &b"body"[..]));
    assert_eq!(m.form(), PublishedForm::TwoFrames);
    assert!(matches!(
        publisher.send_multipart(NO_PARTS),
        Err(Error::Unsendable(WireError::NoFrames))
    ));
    within(factory.shutdown()).await
}

#[tokio::test]
async fn errors_name_what_failed_and_convert_to_io_errors() -> Result<()> {
    let factory = Factory::new()?;
    let first = PullConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let endpoint = first.last_endpoint()?;
    let e = PullConnection::new(&factory, Endpoint::bind(&endpoint)).unwrap_err();
    // The socket error, with the endpoint zmqx names.
    assert!(matches!(e.zmq(), Some(ZmqError::AddressInUse)), "{e:?}");
    assert!(e.to_string().contains(&endpoint), "{e}");
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
    let io: std::io::Error = Error::UnknownMessageId { id: b"x".to_vec() }.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(Error::UnknownMessageId { id: vec![] }.zmq().is_none());
    within(factory.shutdown()).await
}
