//! txZMQ's patterns with zmqx::txzmq, timed: tagged PUB/SUB, and a request
//! client with many requests in flight against a reply server.
//!
//! `cargo run --release --example txzmq_patterns [messages]`
//!
//! Both sides run in this process over tcp on 127.0.0.1; either side could
//! be a Python program using txZMQ 1.0 (see `tests/interop_txzmq.rs`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use zmqx::txzmq::{
    Endpoint, Factory, PubConnection, RepConnection, ReqConnection, Result, SubConnection,
};

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let factory = Factory::new()?;
    // Ctrl-c (or the end of the runtime) shuts every connection down.
    factory.shutdown_on_ctrl_c();

    // --- PUB/SUB: one frame `tag \0 message` per publish -------------------
    let publisher = PubConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let mut sub = SubConnection::new(&factory, Endpoint::connect(publisher.last_endpoint()?))?;
    sub.subscribe("weather.")?;
    // A subscription takes a moment to reach the publisher: publish a probe
    // until one arrives.
    loop {
        publisher.publish("probe", "weather.probe")?;
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(10), sub.next()).await {
            if m?.tag() == b"weather.probe" {
                break;
            }
        }
    }
    let receiver = tokio::spawn(async move {
        let mut got = 0;
        while got < n {
            let m = sub.next().await.expect("subscription open")?;
            if m.tag() == b"weather.report" {
                got += 1;
            }
        }
        Ok::<_, zmqx::txzmq::Error>(sub)
    });
    let started = Instant::now();
    let mut sent = 0;
    while sent < n {
        publisher.publish("sunny, 21 degrees", "weather.report")?;
        // Unmatched tags are filtered at the publisher.
        publisher.publish("1013 hPa", "pressure")?;
        sent += 1;
        if sent % 1000 == 0 {
            // Let the subscriber's task run: PUB drops at its high-water mark.
            tokio::task::yield_now().await;
        }
    }
    let _sub = receiver.await.expect("subscriber task")?;
    let elapsed = started.elapsed();
    println!(
        "pub/sub: {n} tagged messages in {elapsed:.2?} ({:.0} msg/s)",
        n as f64 / elapsed.as_secs_f64()
    );

    // --- Request/reply: [uuid4, empty, parts…] over DEALER/ROUTER ----------
    let mut server = RepConnection::new(&factory, Endpoint::bind("tcp://127.0.0.1:*"))?;
    let client = ReqConnection::new(&factory, Endpoint::connect(server.last_endpoint()?))?;
    client.set_default_timeout(Some(Duration::from_secs(5)));
    // Wait for the handshake with the server (a socket monitor event).
    tokio::time::timeout(Duration::from_secs(5), client.connected())
        .await
        .expect("the server is up")?;
    let replier = server.replier();
    tokio::spawn(async move {
        while let Some(Ok(request)) = server.next().await {
            let _ = replier.reply(&request.id, request.parts);
        }
    });
    const IN_FLIGHT: usize = 100;
    let requests = n / 10;
    let started = Instant::now();
    let mut done = 0;
    while done < requests {
        let batch = IN_FLIGHT.min(requests - done);
        let replies: Vec<_> = (0..batch)
            .map(|i| client.send_msg([format!("request {}", done + i)]))
            .collect::<Result<_>>()?;
        for reply in futures_util::future::join_all(replies).await {
            reply?;
        }
        done += batch;
    }
    let elapsed = started.elapsed();
    println!(
        "req/rep: {requests} requests, {IN_FLIGHT} in flight, in {elapsed:.2?} ({:.0} req/s)",
        requests as f64 / elapsed.as_secs_f64()
    );

    factory.shutdown().await
}
