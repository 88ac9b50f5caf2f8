//! zguide "divide and conquer": a ventilator PUSHes tasks to workers, which
//! PUSH results to a sink (taskvent/taskwork/tasksink), as threads.
//!
//! `cargo run --example zguide_pipeline`

use std::thread;
use std::time::{Duration, Instant};

use zmqx::{Context, SocketType};

const WORKERS: usize = 3;
const TASKS: u32 = 30;

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();

    // The sink binds first, so workers can connect to it.
    let sink = ctx.socket(SocketType::Pull)?;
    sink.set_rcvtimeo(Some(Duration::from_secs(10)))?;
    sink.bind("inproc://sink")?;

    let ventilator = ctx.socket(SocketType::Push)?;
    ventilator.bind("inproc://tasks")?;

    let mut workers = Vec::new();
    for id in 0..WORKERS {
        let ctx = ctx.clone();
        workers.push(thread::spawn(move || -> zmqx::Result<u32> {
            let receiver = ctx.socket(SocketType::Pull)?;
            receiver.connect("inproc://tasks")?;
            let sender = ctx.socket(SocketType::Push)?;
            sender.connect("inproc://sink")?;
            // Tell the sink we are connected, so the ventilator does not
            // hand every task to the first worker that shows up.
            sender.send("ready")?;
            let mut done = 0;
            loop {
                let task = receiver.recv_string()?;
                if task == "stop" {
                    return Ok(done);
                }
                let millis: u64 = task.parse().unwrap_or(0);
                thread::sleep(Duration::from_millis(millis)); // the "work"
                sender.send(format!("{id}"))?;
                done += 1;
            }
        }));
    }

    for _ in 0..WORKERS {
        sink.recv_msg()?; // "ready"
    }

    let start = Instant::now();
    let mut expected_ms = 0;
    for n in 0..TASKS {
        let workload = 1 + n % 5;
        expected_ms += workload;
        ventilator.send(workload.to_string())?;
    }
    println!("ventilator: sent {TASKS} tasks, {expected_ms} ms of work in total");

    for _ in 0..TASKS {
        sink.recv_msg()?;
    }
    println!(
        "sink: all results in after {} ms with {WORKERS} workers",
        start.elapsed().as_millis()
    );

    for _ in 0..WORKERS {
        ventilator.send("stop")?;
    }
    for (id, w) in workers.into_iter().enumerate() {
        println!("worker {id} did {} tasks", w.join().expect("worker")?);
    }
    Ok(())
}
