//! zguide "Lazy Pirate" (lpclient/lpserver): a client that survives a
//! server that crashes and restarts, by waiting for each reply at most a
//! timeout and sending the request again on a new socket.
//!
//! The server runs in a thread here and "crashes" (closes its socket
//! without replying) on every third request, then restarts on the same
//! port. The client never notices more than a delay.
//!
//! `cargo run --example lazy_pirate`

use std::thread;
use std::time::Duration;

use zmqx::patterns::lazy_pirate::Client;
use zmqx::{Context, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::new();

    // The first server picks a port; its successors bind the same one.
    let server = ctx.socket(SocketType::Rep)?;
    server.set_linger(Some(Duration::ZERO))?;
    server.bind("tcp://127.0.0.1:*")?;
    let endpoint = server.last_endpoint()?;

    let server_ctx = ctx.clone();
    let server_endpoint = endpoint.clone();
    let server_thread = thread::spawn(move || -> zmqx::Result<()> {
        let mut server = server;
        let mut served = 0;
        loop {
            let request = match server.recv_string() {
                Ok(r) => r,
                // The context was shut down: the example is over.
                Err(zmqx::Error::ContextTerminated) => return Ok(()),
                Err(e) => return Err(e),
            };
            served += 1;
            if served % 3 == 0 {
                println!("server: crashing on request {request}");
                drop(server);
                server = restart(&server_ctx, &server_endpoint)?;
                println!("server: restarted");
                continue;
            }
            println!("server: normal request ({request})");
            server.send(request.as_str())?;
        }
    });

    // The client: 1 s per attempt, 3 retries, then a typed error.
    let mut client = Client::builder()
        .endpoint(&endpoint)
        .timeout(Duration::from_secs(1))
        .retries(3)
        .context(&ctx)
        .build()?;
    for sequence in 1..=6 {
        let reply = client.request([sequence.to_string()])?;
        println!(
            "client: server replied OK ({})",
            reply[0].as_str().unwrap_or("?")
        );
    }
    let stats = client.stats();
    println!(
        "client: {} requests, {} retries, {} sockets",
        stats.requests, stats.retries, stats.sockets
    );

    drop(client);
    ctx.shutdown()?;
    server_thread.join().expect("server thread")?;
    Ok(())
}

/// A new server on the same endpoint. libzmq closes the old listener in
/// the background, so the port may be busy for a moment.
fn restart(ctx: &Context, endpoint: &str) -> zmqx::Result<zmqx::Socket> {
    let server = ctx.socket(SocketType::Rep)?;
    server.set_linger(Some(Duration::ZERO))?;
    let mut tries = 0;
    loop {
        match server.bind(endpoint) {
            Ok(_) => return Ok(server),
            Err(e) if matches!(e.root(), zmqx::Error::AddressInUse) && tries < 100 => {
                tries += 1;
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}
