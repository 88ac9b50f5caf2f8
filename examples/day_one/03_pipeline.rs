//! Day one, 3/8: a pipeline. A ventilator pushes ten tasks to three worker
//! threads, which push results to a sink; each worker polls its task socket
//! and a control socket, on which the main thread broadcasts KILL at the end.
//!
//! `cargo run --example day_one_03_pipeline`; pyzmq twin: `py/03_pipeline.py`.

use std::thread;

use zmqx::prelude::*;

fn worker(n: usize) -> zmqx::Result<()> {
    let ctx = Context::instance();
    let tasks = ctx.socket(SocketType::Pull)?;
    tasks.connect("inproc://tasks")?;
    let results = ctx.socket(SocketType::Push)?;
    results.connect("inproc://results")?;
    let control = ctx.socket(SocketType::Sub)?;
    control.connect("inproc://control")?;
    control.subscribe("")?;
    results.send("ready")?;
    let mut poller = Poller::new();
    poller.register(&tasks, PollEvents::POLLIN);
    poller.register(&control, PollEvents::POLLIN);
    loop {
        let ready = poller.poll(Some(Duration::from_secs(5)))?;
        if poller.revents(&tasks) == Some(PollEvents::POLLIN) {
            let ms = tasks.recv_string()?.parse().unwrap_or(0);
            thread::sleep(Duration::from_millis(ms));
            results.send(format!("worker {n} slept {ms} ms"))?;
        }
        if poller.revents(&control) == Some(PollEvents::POLLIN) || ready.is_empty() {
            return Ok(());
        }
    }
}

fn main() -> zmqx::Result<()> {
    let ctx = Context::instance();
    let ventilator = ctx.socket(SocketType::Push)?;
    ventilator.bind("inproc://tasks")?;
    let sink = ctx.socket(SocketType::Pull)?;
    sink.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    sink.bind("inproc://results")?;
    let controller = ctx.socket(SocketType::Pub)?;
    controller.bind("inproc://control")?;

    let workers: Vec<_> = (0..3).map(|n| thread::spawn(move || worker(n))).collect();
    for _ in &workers {
        sink.recv_msg()?; // "ready": every worker is connected
    }
    for ms in 1..=10 {
        ventilator.send(ms.to_string())?;
    }
    for _ in 0..10 {
        println!("{}", sink.recv_string()?);
    }
    controller.send("KILL")?;
    for w in workers {
        w.join().expect("a worker panicked")?;
    }
    Ok(())
}
