//! Throughput of zmqx's proxy loop written in Rust ([`zmqx::proxy_steerable`],
//! which the background devices also run) against libzmq's own `zmq_proxy`
//! ([`zmqx::proxy`]): PUSH → [PULL proxy PUSH] → PULL, over inproc and tcp,
//! with 1-byte and 1-KiB messages. Prints messages per second (the median
//! and the best of the rounds, the two proxies taking turns), the ratio
//! Rust / libzmq, and the CPU time the proxy thread spent per message (read
//! from Linux's `/proc/thread-self/schedstat`; it does not depend on how busy
//! the machine is, unlike throughput).
//!
//! `cargo run --release --example proxy_bench [messages] [rounds]`
//! (defaults: 300000 messages, 5 rounds).

use std::thread;
use std::time::{Duration, Instant};

use zmqx::{Context, Message, Result, SocketType};

#[derive(Clone, Copy, PartialEq)]
enum Loop {
    Libzmq,
    Rust,
}

fn endpoint(transport: &str, name: &str, round: usize) -> String {
    match transport {
        "inproc" => format!("inproc://bench-{name}-{round}"),
        _ => "tcp://127.0.0.1:*".to_string(),
    }
}

/// CPU time of the calling thread in nanoseconds (Linux), if known.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// One measurement: messages per second, and the proxy thread's CPU
/// nanoseconds per message.
struct Sample {
    rate: f64,
    cpu_ns: Option<f64>,
}

/// Pushes `n` messages through one proxy.
fn run(kind: Loop, transport: &str, size: usize, n: usize, round: usize) -> Result<Sample> {
    let ctx = Context::new();
    let frontend = ctx.socket(SocketType::Pull)?;
    let front_ep = frontend.bind(&endpoint(transport, "in", round))?;
    let backend = ctx.socket(SocketType::Push)?;
    let back_ep = backend.bind(&endpoint(transport, "out", round))?;
    let proxy = thread::spawn(move || {
        let before = thread_cpu_ns();
        let r = match kind {
            Loop::Libzmq => zmqx::proxy(&frontend, &backend, None),
            Loop::Rust => zmqx::proxy_steerable(&frontend, &backend, None, None),
        };
        let cpu = before
            .zip(thread_cpu_ns())
            .map(|(a, b)| b.saturating_sub(a));
        r.map(|()| cpu)
    });

    let pull = ctx.socket(SocketType::Pull)?;
    pull.set_rcvtimeo(Some(Duration::from_secs(30)))?;
    pull.connect(&back_ep)?;
    let push = ctx.socket(SocketType::Push)?;
    push.set_sndtimeo(Some(Duration::from_secs(30)))?;
    push.connect(&front_ep)?;
    // One message through first: every connection is up before timing.
    push.send("warm-up")?;
    pull.recv_msg()?;

    let sender = thread::spawn(move || -> Result<zmqx::Socket> {
        let payload = vec![7u8; size];
        for _ in 0..n {
            push.send(&payload[..])?;
        }
        Ok(push)
    });
    let start = Instant::now();
    let mut msg = Message::new();
    for _ in 0..n {
        pull.recv_msg_into(&mut msg)?;
    }
    let elapsed = start.elapsed();
    let push = sender.join().expect("the sender panicked")?;
    drop((push, pull));
    ctx.shutdown()?;
    let cpu = proxy.join().expect("the proxy panicked")?;
    Ok(Sample {
        rate: n as f64 / elapsed.as_secs_f64(),
        cpu_ns: cpu.map(|ns| ns as f64 / n as f64),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Median rate, best rate and median CPU per message of some samples.
fn summary(samples: &[Sample]) -> (f64, f64, Option<f64>) {
    let rates: Vec<f64> = samples.iter().map(|s| s.rate).collect();
    let cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_ns).collect();
    (median(rates.clone()), best(&rates), cpu.map(median))
}

fn ns(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{v:.0}"))
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    println!(
        "libzmq {}, {n} messages, median of {rounds} rounds",
        zmqx::version()
    );
    println!(
        "{:<7} {:>5} | {:>10} {:>10} {:>7} | {:>10} {:>10} {:>7} | {:>9} {:>9}",
        "", "size", "zmq_proxy", "zmqx", "ratio", "zmq_proxy", "zmqx", "ratio", "zmq_proxy", "zmqx"
    );
    println!(
        "{:<7} {:>5} | {:^29} | {:^29} | {:^19}",
        "", "", "median msg/s", "best msg/s", "proxy CPU ns/msg"
    );
    for transport in ["inproc", "tcp"] {
        for size in [1usize, 1024] {
            let (mut c, mut r) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Take turns, so drifting machine load hits both alike.
                let order = if round % 2 == 0 {
                    [Loop::Libzmq, Loop::Rust]
                } else {
                    [Loop::Rust, Loop::Libzmq]
                };
                for kind in order {
                    let id = round * 2 + (kind == Loop::Rust) as usize;
                    let sample = run(kind, transport, size, n, id)?;
                    match kind {
                        Loop::Libzmq => c.push(sample),
                        Loop::Rust => r.push(sample),
                    }
                }
            }
            let (c_med, c_best, c_cpu) = summary(&c);
            let (r_med, r_best, r_cpu) = summary(&r);
            println!(
                "{transport:<7} {size:>5} | {c_med:>10.0} {r_med:>10.0} {:>7.3} | {c_best:>10.0} {r_best:>10.0} {:>7.3} | {:>9} {:>9}",
                r_med / c_med,
                r_best / c_best,
                ns(c_cpu),
                ns(r_cpu)
            );
        }
    }
    Ok(())
}
