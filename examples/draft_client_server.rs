//! CLIENT/SERVER (DRAFT, feature `draft`) against DEALER/ROUTER: round trips
//! over tcp on 127.0.0.1, blocking and async, and one SERVER shared by two
//! threads. Prints messages per second.
//!
//! Run it optimised: `cargo run --release --features draft --example draft_client_server`.
//! `--quick` runs fewer messages.

use std::time::{Duration, Instant};

use zmqx::draft::AsyncThreadSafeSocket;
use zmqx::{AsyncSocket, Context, Result, SocketType};

fn rate(count: usize, elapsed: Duration) -> String {
    format!(
        "{:>9.0} msg/s  ({:.1} µs per round trip)",
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / count as f64
    )
}

/// Blocking round trips on DEALER/ROUTER (two parts at the router).
fn dealer_router(ctx: &Context, count: usize) -> Result<Duration> {
    let router = ctx.socket(SocketType::Router)?;
    router.bind("tcp://127.0.0.1:*")?;
    let dealer = ctx.socket(SocketType::Dealer)?;
    dealer.connect(&router.last_endpoint()?)?;
    let echo = std::thread::spawn(move || -> Result<()> {
        for _ in 0..count {
            let parts = router.recv_multipart()?;
            router.send_multipart(parts)?;
        }
        Ok(())
    });
    let start = Instant::now();
    for _ in 0..count {
        dealer.send("ping")?;
        dealer.recv_msg()?;
    }
    let elapsed = start.elapsed();
    echo.join().expect("echo thread")?;
    Ok(elapsed)
}

/// Blocking round trips on CLIENT/SERVER (routing id on the message).
fn client_server(ctx: &Context, count: usize) -> Result<Duration> {
    let server = ctx.thread_safe_socket(SocketType::Server)?;
    server.bind("tcp://127.0.0.1:*")?;
    let client = ctx.thread_safe_socket(SocketType::Client)?;
    client.connect(&server.last_endpoint()?)?;
    std::thread::scope(|s| {
        let echo = s.spawn(|| -> Result<()> {
            for _ in 0..count {
                let mut m = server.recv_msg()?;
                server.send(&mut m)?;
            }
            Ok(())
        });
        let start = Instant::now();
        for _ in 0..count {
            client.send("ping")?;
            client.recv_msg()?;
        }
        let elapsed = start.elapsed();
        echo.join().expect("echo thread")?;
        Ok(elapsed)
    })
}

/// Async round trips on DEALER/ROUTER (`AsyncSocket`, ZMQ_FD).
async fn async_dealer_router(ctx: &Context, count: usize) -> Result<Duration> {
    let router = AsyncSocket::new(ctx.socket(SocketType::Router)?)?;
    router.bind("tcp://127.0.0.1:*")?;
    let dealer = AsyncSocket::new(ctx.socket(SocketType::Dealer)?)?;
    dealer.connect(&router.last_endpoint()?)?;
    let echo = tokio::spawn(async move {
        for _ in 0..count {
            let parts = router.recv_multipart().await?;
            router.send_multipart(parts).await?;
        }
        Ok::<_, zmqx::Error>(())
    });
    let start = Instant::now();
    for _ in 0..count {
        dealer.send("ping").await?;
        dealer.recv_msg().await?;
    }
    let elapsed = start.elapsed();
    echo.await.expect("echo task")?;
    Ok(elapsed)
}

/// Async round trips on CLIENT/SERVER (`AsyncThreadSafeSocket`, zmq_poller_fd).
async fn async_client_server(ctx: &Context, count: usize) -> Result<Duration> {
    let server = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Server)?)?;
    server.socket().bind("tcp://127.0.0.1:*")?;
    let client = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Client)?)?;
    client.socket().connect(&server.socket().last_endpoint()?)?;
    let echo = tokio::spawn(async move {
        for _ in 0..count {
            let m = server.recv_msg().await?;
            server.send(m).await?;
        }
        Ok::<_, zmqx::Error>(())
    });
    let start = Instant::now();
    for _ in 0..count {
        client.send("ping").await?;
        client.recv_msg().await?;
    }
    let elapsed = start.elapsed();
    echo.await.expect("echo task")?;
    Ok(elapsed)
}

/// One-way throughput into one SERVER read by two threads at once.
fn shared_server(ctx: &Context, count: usize) -> Result<Duration> {
    let server = ctx.thread_safe_socket(SocketType::Server)?;
    server.bind("tcp://127.0.0.1:*")?;
    let client = ctx.thread_safe_socket(SocketType::Client)?;
    client.connect(&server.last_endpoint()?)?;
    std::thread::scope(|s| {
        let start = Instant::now();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    for _ in 0..count / 2 {
                        server.recv_msg()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for _ in 0..count {
            client.send("data")?;
        }
        for r in readers {
            r.join().expect("reader")?;
        }
        Ok(start.elapsed())
    })
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let count = if quick { 2_000 } else { 20_000 };
    let ctx = Context::new();
    println!("round trips over tcp, {count} each (best of 3):");
    let best = |f: &dyn Fn() -> Result<Duration>| -> Result<Duration> {
        Ok((0..3)
            .map(|_| f())
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .min()
            .unwrap_or_default())
    };
    println!(
        "  DEALER/ROUTER blocking  {}",
        rate(count, best(&|| dealer_router(&ctx, count))?)
    );
    println!(
        "  CLIENT/SERVER blocking  {}",
        rate(count, best(&|| client_server(&ctx, count))?)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let d = best(&|| rt.block_on(async_dealer_router(&ctx, count)))?;
    println!("  DEALER/ROUTER async     {}", rate(count, d));
    let d = best(&|| rt.block_on(async_client_server(&ctx, count)))?;
    println!("  CLIENT/SERVER async     {}", rate(count, d));
    let n = count * 10;
    let d = best(&|| shared_server(&ctx, n))?;
    println!(
        "one-way into one SERVER read by two threads, {n}: {:.0} msg/s",
        n as f64 / d.as_secs_f64()
    );
    Ok(())
}
