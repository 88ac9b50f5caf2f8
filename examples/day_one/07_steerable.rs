//! Day one, 7/8: a steerable proxy in a thread, driven with PAUSE, RESUME and
//! TERMINATE over a REQ/REP control pair.
//!
//! `cargo run --example day_one_07_steerable`; pyzmq twin: `py/07_steerable.py`.

use std::thread;

use zmqx::prelude::*;

fn command(steer: &Socket, name: &str) -> zmqx::Result<()> {
    steer.send(name)?;
    steer.recv_msg()?; // the proxy's (empty) reply
    Ok(())
}

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let frontend = ctx.socket(SocketType::Pull)?;
    frontend.bind("inproc://frontend")?;
    let backend = ctx.socket(SocketType::Push)?;
    backend.bind("inproc://backend")?;
    let control = ctx.socket(SocketType::Rep)?;
    control.bind("inproc://control")?;
    let proxy =
        thread::spawn(move || zmqx::proxy_steerable(&frontend, &backend, None, Some(&control)));

    let producer = ctx.socket(SocketType::Push)?;
    producer.connect("inproc://frontend")?;
    let consumer = ctx.socket(SocketType::Pull)?;
    consumer.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    consumer.connect("inproc://backend")?;
    let steer = ctx.socket(SocketType::Req)?;
    steer.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    steer.connect("inproc://control")?;

    producer.send("one")?;
    println!("running: {}", consumer.recv_string()?);
    command(&steer, "PAUSE")?;
    producer.send("two")?;
    let through = consumer.poll(PollEvents::POLLIN, Some(Duration::from_millis(200)))?;
    println!("paused, anything through? {}", !through.is_empty());
    command(&steer, "RESUME")?;
    println!("resumed: {}", consumer.recv_string()?);
    command(&steer, "TERMINATE")?;
    proxy.join().expect("the proxy thread panicked")?;
    println!("proxy ended");
    Ok(())
}
