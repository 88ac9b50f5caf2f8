//! zguide "request-reply broker": REQ clients talk to a ROUTER frontend, REP
//! workers to a DEALER backend, and the broker moves whole multipart messages
//! between them with a Poller (rrclient/rrworker/rrbroker), as threads.
//!
//! `cargo run --example zguide_broker`

use std::thread;
use std::time::Duration;

use zmqx::{Context, PollEvents, Poller, SocketType};

const CLIENTS: usize = 2;
const REQUESTS: usize = 3;
const WORKERS: usize = 2;

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let frontend = ctx.socket(SocketType::Router)?;
    frontend.bind("inproc://frontend")?;
    let backend = ctx.socket(SocketType::Dealer)?;
    backend.bind("inproc://backend")?;

    for id in 0..WORKERS {
        let ctx = ctx.clone();
        thread::spawn(move || -> zmqx::Result<()> {
            let worker = ctx.socket(SocketType::Rep)?;
            worker.connect("inproc://backend")?;
            loop {
                // Ends with ContextTerminated when main returns.
                let request = worker.recv_string()?;
                worker.send(format!("{request} handled by worker {id}"))?;
            }
        });
    }

    let mut clients = Vec::new();
    for id in 0..CLIENTS {
        let ctx = ctx.clone();
        clients.push(thread::spawn(move || -> zmqx::Result<()> {
            let client = ctx.socket(SocketType::Req)?;
            client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
            client.connect("inproc://frontend")?;
            for n in 0..REQUESTS {
                client.send(format!("client {id} request {n}"))?;
                println!("{}", client.recv_string()?);
            }
            Ok(())
        }));
    }

    // The broker: forward until every reply went out.
    let mut poller = Poller::new();
    poller.register(&frontend, PollEvents::POLLIN);
    poller.register(&backend, PollEvents::POLLIN);
    let mut parts = Vec::new();
    let mut replies = 0;
    while replies < CLIENTS * REQUESTS {
        let ready = poller.poll(Some(Duration::from_secs(5)))?;
        if ready.is_empty() {
            eprintln!("broker: nothing happened for 5 s, giving up");
            break;
        }
        if poller
            .revents(&frontend)
            .is_some_and(|e| e.contains(PollEvents::POLLIN))
        {
            parts.clear();
            frontend.recv_multipart_into(&mut parts)?;
            backend.send_multipart(parts.drain(..))?;
        }
        if poller
            .revents(&backend)
            .is_some_and(|e| e.contains(PollEvents::POLLIN))
        {
            parts.clear();
            backend.recv_multipart_into(&mut parts)?;
            frontend.send_multipart(parts.drain(..))?;
            replies += 1;
        }
    }
    for c in clients {
        c.join().expect("client")?;
    }
    // Stop the workers blocked in recv: they see ContextTerminated and exit.
    drop(poller);
    ctx.shutdown()?;
    Ok(())
}
