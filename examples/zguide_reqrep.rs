//! zguide "Hello World": a REP server and a REQ client (hwserver/hwclient),
//! here as two threads over TCP.
//!
//! `cargo run --example zguide_reqrep`

use std::thread;
use std::time::Duration;

use zmqx::{Context, SocketType};

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();

    let server = ctx.socket(SocketType::Rep)?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;

    let worker = thread::spawn(move || -> zmqx::Result<()> {
        for _ in 0..5 {
            let request = server.recv_string()?;
            println!("server: received {request:?}");
            server.send("World")?;
        }
        Ok(())
    });

    let client = ctx.socket(SocketType::Req)?;
    client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    client.connect(&endpoint)?;
    for n in 0..5 {
        client.send("Hello")?;
        let reply = client.recv_string()?;
        println!("client: request {n} got {reply:?}");
    }
    worker.join().expect("server thread")
}
