//! Day one, 1/8: request/reply. A REP server thread answers three requests
//! from a REQ client over TCP on a port the OS picks.
//!
//! `cargo run --example day_one_01_reqrep`; pyzmq twin: `py/01_reqrep.py`.

use std::thread;

use zmqx::prelude::*;

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let server = ctx.socket(SocketType::Rep)?;
    server.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;
    let client = ctx.socket(SocketType::Req)?;
    client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    client.connect(&endpoint)?;

    let thread = thread::spawn(move || -> zmqx::Result<()> {
        for _ in 0..3 {
            let request = server.recv_string()?;
            server.send(format!("world ({request})"))?;
        }
        Ok(())
    });
    for i in 1..=3 {
        client.send(format!("hello #{i}"))?;
        println!("client got {}", client.recv_string()?);
    }
    thread.join().expect("the server thread panicked")
}
