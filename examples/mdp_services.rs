//! Majordomo (MDP/0.2): a broker, two services with their workers, and a
//! client that looks services up with `mmi.service`, gets a streamed
//! (PARTIAL) reply, and survives a worker that dies mid-request.
//!
//! `cargo run --example mdp_services`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use zmqx::Context;
use zmqx::patterns::mdp::{
    Broker, BrokerOptions, Client, ClientOptions, Error, Worker, WorkerOptions,
};

fn main() -> Result<(), Error> {
    let ctx = Context::new();
    let heartbeat = Duration::from_millis(250);
    let broker = Broker::with_options(
        &ctx,
        BrokerOptions::default()
            .heartbeat_interval(heartbeat)
            .busy_timeout(Duration::from_secs(1)),
    )?;
    let endpoint = broker.bind("tcp://127.0.0.1:*")?;
    let broker = broker.spawn()?;
    println!("broker on {endpoint}");

    let stop = Arc::new(AtomicBool::new(false));
    let wopts = WorkerOptions::default().heartbeat_interval(heartbeat);

    // "echo": answers with the request.
    let mut echo = Worker::with_options(&ctx, &endpoint, "echo", wopts.clone())?;
    let s = Arc::clone(&stop);
    let echo = thread::spawn(move || -> Result<(), Error> {
        while !s.load(Ordering::Relaxed) {
            if let Some(req) = echo.recv(Some(Duration::from_millis(100)))? {
                let body = req.body().to_vec();
                echo.reply(&req, body)?;
            }
        }
        echo.disconnect()
    });

    // "count": streams 1, 2, 3 as PARTIAL replies, then FINAL "done".
    let mut count = Worker::with_options(&ctx, &endpoint, "count", wopts.clone())?;
    let s = Arc::clone(&stop);
    let count = thread::spawn(move || -> Result<(), Error> {
        while !s.load(Ordering::Relaxed) {
            if let Some(req) = count.recv(Some(Duration::from_millis(100)))? {
                for n in 1..=3 {
                    count.partial(&req, [n.to_string()])?;
                }
                count.reply(&req, ["done"])?;
            }
        }
        count.disconnect()
    });

    let mut client = Client::with_options(
        &ctx,
        &endpoint,
        ClientOptions::default().timeout(Duration::from_millis(500)),
    )?;
    // Requests wait in the broker until a worker of their service registers.
    let reply = client.request("echo", ["hello", "world"])?;
    println!("echo: {:?}", reply.body());
    let reply = client.request("count", ["go"])?;
    println!(
        "count: partials {:?}, final {:?}",
        reply.partials(),
        reply.body()
    );
    for service in ["echo", "count", "nobody"] {
        let code = client.request("mmi.service", [service])?;
        println!("mmi.service {service}: {}", code.body()[0]);
    }

    // A worker that takes a request and never answers (hung, or dead
    // without DISCONNECT): the client sends the request again after its
    // timeout and another worker answers.
    let mut hung = Worker::with_options(&ctx, &endpoint, "echo", wopts)?;
    let (release, released) = std::sync::mpsc::channel::<()>();
    let t = Instant::now();
    let hung = thread::spawn(move || -> Result<(), Error> {
        let _taken = hung.recv(Some(Duration::from_secs(1)))?;
        let _ = released.recv_timeout(Duration::from_secs(5));
        Ok(())
    });
    for n in 0..4 {
        client.request("echo", [format!("request {n}")])?;
    }
    println!(
        "4 requests answered in {:.2?} with {} retries (at-least-once)",
        t.elapsed(),
        client.retries()
    );
    let _ = release.send(());
    hung.join().expect("hung worker thread")?;

    stop.store(true, Ordering::Relaxed);
    echo.join().expect("echo thread")?;
    count.join().expect("count thread")?;
    println!("broker: {:?}", broker.stats());
    broker.stop(Duration::from_secs(5))?;
    Ok(())
}
