//! zguide "Paranoid Pirate" (ppqueue/ppworker, with the lpclient): a
//! queue between clients and workers, with heartbeats both ways.
//!
//! Two workers serve an echo; the first one "crashes" (its handler
//! panics) on its third request. The request it took is lost with it; the
//! Lazy Pirate client sends it again, and the queue, which no longer hears
//! from the dead worker, gives it to the other one.
//!
//! `cargo run --example paranoid_pirate`

use std::time::Duration;

use zmqx::patterns::lazy_pirate::Client;
use zmqx::patterns::paranoid_pirate::{Queue, Worker};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The queue: ROUTER for clients, ROUTER for workers, 250 ms heartbeats;
    // a worker silent for 3 intervals is forgotten.
    let heartbeat = Duration::from_millis(250);
    let mut queue = Queue::builder()
        .frontend("tcp://127.0.0.1:*")
        .backend("tcp://127.0.0.1:*")
        .heartbeat_interval(heartbeat)
        .liveness(3)
        .bind()?
        .spawn()?;
    let frontend = queue.frontend_endpoints()[0].clone();
    let backend = queue.backend_endpoints()[0].clone();
    println!("queue: clients on {frontend}, workers on {backend}");

    // A worker that dies on its third request, and a steady one. (The
    // panic hook keeps the simulated crash to one line.)
    std::panic::set_hook(Box::new(|info| eprintln!("worker crashed: {info}")));
    let mut handled = 0;
    let mut fragile = Worker::builder(&backend)
        .heartbeat_interval(heartbeat)
        .build()?
        .spawn(move |request| {
            handled += 1;
            if handled == 3 {
                panic!("simulated worker crash");
            }
            println!("fragile worker: {}", request[0].as_str().unwrap_or("?"));
            request
        })?;
    let mut steady = Worker::builder(&backend)
        .heartbeat_interval(heartbeat)
        .build()?
        .spawn(|request| {
            println!("steady worker: {}", request[0].as_str().unwrap_or("?"));
            request
        })?;

    // The client retries what the crash lost.
    let mut client = Client::builder()
        .endpoint(&frontend)
        .timeout(Duration::from_secs(1))
        .retries(3)
        .build()?;
    for sequence in 1..=8 {
        let reply = client.request([format!("request {sequence}")])?;
        println!("client: got {}", reply[0].as_str().unwrap_or("?"));
    }
    println!("client: {} retries", client.stats().retries);

    // The crashed worker's panic comes back from its `stop`.
    match fragile.stop(Duration::from_secs(5)) {
        Err(e) => println!("fragile worker ended: {e}"),
        Ok(ended) => println!("fragile worker stopped: {ended}"),
    }
    steady.stop(Duration::from_secs(5))?;
    queue.stop(Duration::from_secs(5))?;
    Ok(())
}
