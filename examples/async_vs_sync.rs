//! Throughput of async sockets against blocking ones: PUSH → PULL, one
//! sender and one receiver, at 1 B, 1 KiB and 64 KiB, over inproc and tcp.
//! Blocking: two threads. Async: two tasks, on tokio's multi-thread runtime
//! (two workers) and on its current-thread runtime.
//!
//! Run it optimised: `cargo run --release --example async_vs_sync`.
//! `--quick` runs fewer rounds, `--only tcp/1024` runs one case. Each case
//! runs many short rounds, sync and async interleaved, and keeps the best
//! round of each: on a busy machine, the best round is the one least
//! disturbed by other processes.

use std::time::{Duration, Instant};

use zmqx::{AsyncSocket, Context, Message, Result, Socket, SocketType};

fn sockets(ctx: &Context, tcp: bool, name: &str) -> Result<(Socket, Socket)> {
    let pull = ctx.socket(SocketType::Pull)?;
    let push = ctx.socket(SocketType::Push)?;
    let ep = if tcp {
        pull.bind("tcp://127.0.0.1:*")?;
        pull.last_endpoint()?
    } else {
        let ep = format!("inproc://bench-{name}");
        pull.bind(&ep)?;
        ep
    };
    push.connect(&ep)?;
    Ok((push, pull))
}

fn sync_run(ctx: &Context, tcp: bool, size: usize, count: usize, name: &str) -> Result<Duration> {
    let (push, pull) = sockets(ctx, tcp, name)?;
    let payload = vec![0x5au8; size];
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> Result<()> {
        for _ in 0..count {
            push.send(&payload[..])?;
        }
        Ok(())
    });
    for _ in 0..count {
        let m: Message = pull.recv_msg()?;
        debug_assert_eq!(m.len(), size);
    }
    let elapsed = start.elapsed();
    sender.join().expect("sender thread")?;
    Ok(elapsed)
}

fn async_run(
    rt: &tokio::runtime::Runtime,
    ctx: &Context,
    tcp: bool,
    size: usize,
    count: usize,
    name: &str,
) -> Result<Duration> {
    rt.block_on(async {
        let (push, pull) = sockets(ctx, tcp, name)?;
        let push = AsyncSocket::new(push)?;
        let pull = AsyncSocket::new(pull)?;
        let payload = vec![0x5au8; size];
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for _ in 0..count {
                push.send(&payload[..]).await?;
            }
            Ok::<_, zmqx::Error>(())
        });
        let receiver = tokio::spawn(async move {
            for _ in 0..count {
                let m = pull.recv_msg().await?;
                debug_assert_eq!(m.len(), size);
            }
            Ok::<_, zmqx::Error>(start.elapsed())
        });
        let elapsed = receiver.await.expect("receiver task")?;
        sender.await.expect("sender task")?;
        Ok(elapsed)
    })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only tcp/1024` runs one case.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let rt1 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ctx = Context::new();
    println!(
        "{:<7} {:>6} {:>9} {:>12} {:>12} {:>7} {:>12} {:>7}",
        "", "size", "messages", "sync msg/s", "async msg/s", "ratio", "1-thread", "ratio"
    );
    for tcp in [false, true] {
        for size in [1usize, 1024, 65536] {
            let count = match (size, tcp) {
                (1, _) => 100_000,
                (1024, _) => 50_000,
                (_, false) => 5_000,
                (_, true) => 2_000,
            };
            let rounds = if quick { 3 } else { 15 };
            let transport = if tcp { "tcp" } else { "inproc" };
            if only
                .as_ref()
                .is_some_and(|o| *o != format!("{transport}/{size}"))
            {
                continue;
            }
            let (mut sync, mut asyn, mut asyn1) = (Duration::MAX, Duration::MAX, Duration::MAX);
            for i in 0..rounds {
                sync = sync.min(sync_run(&ctx, tcp, size, count, &format!("s{size}-{i}"))?);
                asyn = asyn.min(async_run(
                    &rt,
                    &ctx,
                    tcp,
                    size,
                    count,
                    &format!("a{size}-{i}"),
                )?);
                asyn1 = asyn1.min(async_run(
                    &rt1,
                    &ctx,
                    tcp,
                    size,
                    count,
                    &format!("c{size}-{i}"),
                )?);
            }
            let rate = |d: Duration| count as f64 / d.as_secs_f64();
            println!(
                "{:<7} {:>6} {:>9} {:>12.0} {:>12.0} {:>7.2} {:>12.0} {:>7.2}",
                transport,
                size,
                count,
                rate(sync),
                rate(asyn),
                sync.as_secs_f64() / asyn.as_secs_f64(),
                rate(asyn1),
                sync.as_secs_f64() / asyn1.as_secs_f64(),
            );
        }
    }
    Ok(())
}
