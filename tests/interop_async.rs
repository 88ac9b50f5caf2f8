//! Our async sockets against a pyzmq `zmq.asyncio` peer over tcp, both
//! directions: a DEALER/ROUTER echo served by Python, and a REQ/REP server
//! of ours that Python's asyncio client calls.
#![cfg(all(feature = "tokio", unix))]

mod common;

use std::io::{BufRead, BufReader};
#[cfg(feature = "json")]
use std::time::Duration;

use common::{TIMEOUT, python, spawn_python, wait_child};
use zmqx::{AsyncSocket, Context, Result, SocketType};

/// A pyzmq asyncio ROUTER that echoes N messages with a suffix; prints its
/// endpoint first.
const PY_ROUTER: &str = r#"
import asyncio, sys
import zmq, zmq.asyncio

async def main(n):
    ctx = zmq.asyncio.Context()
    s = ctx.socket(zmq.ROUTER)
    s.linger = 0
    port = s.bind_to_random_port("tcp://127.0.0.1")
    print(f"tcp://127.0.0.1:{port}", flush=True)
    for _ in range(n):
        ident, *parts = await asyncio.wait_for(s.recv_multipart(), 20)
        await s.send_multipart([ident] + parts + [b"from python"])
    s.close()
    ctx.term()

asyncio.run(main(int(sys.argv[1])))
"#;

/// A pyzmq asyncio REQ that calls our server N times and checks replies.
#[cfg(feature = "json")]
const PY_REQ: &str = r#"
import asyncio, sys, json
import zmq, zmq.asyncio

async def main(endpoint, n):
    ctx = zmq.asyncio.Context()
    s = ctx.socket(zmq.REQ)
    s.linger = 0
    s.connect(endpoint)
    for i in range(n):
        await s.send_json({"i": i, "text": "héllo"})
        reply = await asyncio.wait_for(s.recv_json(), 20)
        assert reply == {"i": i, "TEXT": "HÉLLO"}, reply
    print("ok", flush=True)
    s.close()
    ctx.term()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dealer_against_pyzmq_asyncio_router() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    const N: usize = 200;
    let mut child = spawn_python(&py, PY_ROUTER, &[&N.to_string()]).expect("start python");
    let stdout = child.stdout.take().expect("piped stdout");
    let endpoint = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line.trim().to_string())
    });
    let endpoint = tokio::time::timeout(TIMEOUT, endpoint)
        .await
        .expect("python printed its endpoint")
        .expect("join")
        .expect("read endpoint");
    assert!(endpoint.starts_with("tcp://"), "{endpoint:?}");

    // Whatever happens, the child is waited for (and killed on timeout).
    let exchange = async {
        let ctx = Context::new();
        let dealer = AsyncSocket::new(common::socket(&ctx, SocketType::Dealer)?)?;
        dealer.connect(&endpoint)?;
        let (tx, rx) = dealer.split();
        // Send and receive from two tasks at once.
        let sender = tokio::spawn(async move {
            for i in 0..N {
                tx.send_multipart(["ping".to_string(), i.to_string()])
                    .await?;
            }
            Ok::<_, zmqx::Error>(tx)
        });
        for i in 0..N {
            let reply = tokio::time::timeout(TIMEOUT, rx.recv_multipart())
                .await
                .expect("reply in time")?;
            assert_eq!(reply, ["ping", i.to_string().as_str(), "from python"]);
        }
        sender.await.expect("join")?;
        Ok::<_, zmqx::Error>(())
    }
    .await;
    let out = tokio::task::spawn_blocking(move || wait_child(child, TIMEOUT))
        .await
        .expect("join")
        .expect("python exits");
    exchange?;
    assert!(out.status.success(), "python failed: {:?}", out.status);
    Ok(())
}

#[cfg(feature = "json")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rep_server_for_pyzmq_asyncio_client() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    const N: u64 = 100;
    let ctx = Context::new();
    let rep = AsyncSocket::new(common::socket(&ctx, SocketType::Rep)?)?;
    let endpoint = rep.with_socket(common::bind_tcp)?;
    let server = tokio::spawn(async move {
        for _ in 0..N {
            let mut v: serde_json::Value = rep.recv_json().await?;
            let text = v["text"].as_str().unwrap_or_default().to_uppercase();
            let obj = v.as_object_mut().expect("an object");
            obj.remove("text");
            obj.insert("TEXT".into(), text.into());
            rep.send_json(&v).await?;
        }
        Ok::<_, zmqx::Error>(())
    });
    let child = spawn_python(&py, PY_REQ, &[&endpoint, &N.to_string()]).expect("start python");
    let out = tokio::task::spawn_blocking(move || wait_child(child, Duration::from_secs(30)))
        .await
        .expect("join")
        .expect("python exits");
    assert!(out.status.success(), "python failed: {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("server done")
        .expect("join")?;
    Ok(())
}
