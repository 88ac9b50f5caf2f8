//! Day one, 6/8: a socket monitor. Prints the events of a PULL server while a
//! PUSH client connects, sends one message and leaves.
//!
//! `cargo run --example day_one_06_monitor`; pyzmq twin: `py/06_monitor.py`.

use zmqx::monitor::EventKind;
use zmqx::{Event, prelude::*};

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let server = ctx.socket(SocketType::Pull)?;
    server.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    let monitor = server.monitor_events(Event::ALL)?;
    let client = ctx.socket(SocketType::Push)?;
    client.connect(&server.bind("tcp://127.0.0.1:*")?)?;
    client.send("hello")?;
    println!("server got {:?}", server.recv_msg()?);
    drop(client);
    while let Some(event) = monitor.next_event(Some(Duration::from_secs(5)))? {
        println!("{event}");
        if event.kind == EventKind::Disconnected {
            break;
        }
    }
    Ok(())
}
