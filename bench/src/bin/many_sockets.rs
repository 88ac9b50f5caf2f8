//! Cost per message with many sockets on one thread (issue 21: no cost that
//! grows with the number of sockets).
//!
//! ```text
//! many_sockets [--impl zmqx|async|tasks] <pairs> <message-size> <rounds>
//! ```
//!
//! `pairs` inproc PUSH→PULL pairs live on one thread. Each round sends one
//! message through every pair, in turn, and receives it:
//!
//! - `zmqx`: blocking sockets, send then receive (never waits);
//! - `async`: the same loop with [`AsyncSocket`]s on one current-thread
//!   runtime, one task (every operation completes in its first poll: the
//!   async layer's own cost per operation, without thread interleaving, so
//!   callgrind counts are exact);
//! - `tasks`: one receiving task per PULL socket, all parked on one
//!   current-thread runtime, and one task sending round-robin: each message
//!   wakes one of `pairs` parked tasks through tokio's reactor.
//!
//! Prints libzmq-style lines; `mean time per message` is the wall-clock time
//! of the rounds divided by the messages.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use zmqx::{AsyncSocket, Context, Message, Socket, SocketType};
use zmqx_bench::BenchError;
use zmqx_bench::asynchronous::block_on;

const USAGE: &str = "usage: many_sockets [--impl zmqx|async|tasks] <pairs> <message-size> <rounds>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (imp, rest) = match args.first().map(String::as_str) {
        Some("--impl") => (args.get(1).map(String::as_str), &args[2.min(args.len())..]),
        _ => (Some("zmqx"), &args[..]),
    };
    let numbers: Option<Vec<usize>> = rest.iter().map(|a| a.parse().ok()).collect();
    let (Some(imp), Some([pairs, size, rounds])) = (imp, numbers.as_deref()) else {
        println!("{USAGE}");
        return ExitCode::from(1);
    };
    let (pairs, size, rounds) = (*pairs, *size, *rounds);
    if pairs == 0 || rounds == 0 {
        println!("{USAGE}");
        return ExitCode::from(1);
    }
    let result = match imp {
        "zmqx" => sync(pairs, size, rounds),
        "async" => block_on(direct(pairs, size, rounds)),
        "tasks" => block_on(tasks(pairs, size, rounds)),
        _ => {
            println!("{USAGE}");
            return ExitCode::from(1);
        }
    };
    match result {
        Ok(elapsed) => {
            let messages = pairs * rounds;
            println!("sockets: {}", pairs * 2);
            println!("message size: {size} [B]");
            println!("message count: {messages}");
            println!(
                "mean time per message: {:.1} [ns]",
                elapsed.as_nanos() as f64 / messages as f64
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn socket(ctx: &Context, kind: SocketType) -> Result<Socket, BenchError> {
    let s = ctx.socket(kind)?;
    s.set_linger(Some(Duration::ZERO))?;
    Ok(s)
}

/// `pairs` connected PUSH→PULL pairs, as blocking sockets.
fn make_pairs(ctx: &Context, pairs: usize) -> Result<Vec<(Socket, Socket)>, BenchError> {
    // libzmq's default limit is 1,023 sockets per context.
    let wanted = i32::try_from(pairs * 2 + 16).unwrap_or(i32::MAX);
    if wanted > ctx.max_sockets()? {
        ctx.set_max_sockets(wanted)?;
    }
    (0..pairs)
        .map(|i| {
            let pull = socket(ctx, SocketType::Pull)?;
            let endpoint = format!("inproc://many-{i}");
            pull.bind(&endpoint)?;
            let push = socket(ctx, SocketType::Push)?;
            push.connect(&endpoint)?;
            Ok((push, pull))
        })
        .collect()
}

fn check(msg: &Message, size: usize) -> Result<(), BenchError> {
    if msg.len() == size {
        Ok(())
    } else {
        Err(BenchError::WrongSize)
    }
}

fn sync(pairs: usize, size: usize, rounds: usize) -> Result<Duration, BenchError> {
    let ctx = Context::new();
    let all = make_pairs(&ctx, pairs)?;
    let buf = vec![0u8; size];
    let mut msg = Message::new();
    let start = Instant::now();
    for _ in 0..rounds {
        for (push, pull) in &all {
            push.send(&buf[..])?;
            pull.recv_msg_into(&mut msg)?;
            check(&msg, size)?;
        }
    }
    Ok(start.elapsed())
}

fn async_pairs(ctx: &Context, pairs: usize) -> Result<Vec<(AsyncSocket, AsyncSocket)>, BenchError> {
    make_pairs(ctx, pairs)?
        .into_iter()
        .map(|(push, pull)| Ok((AsyncSocket::new(push)?, AsyncSocket::new(pull)?)))
        .collect()
}

async fn direct(pairs: usize, size: usize, rounds: usize) -> Result<Duration, BenchError> {
    let ctx = Context::new();
    let all = async_pairs(&ctx, pairs)?;
    let buf = vec![0u8; size];
    let mut msg = Message::new();
    let start = Instant::now();
    for _ in 0..rounds {
        for (push, pull) in &all {
            push.send(&buf[..]).await?;
            pull.recv_msg_into(&mut msg).await?;
            check(&msg, size)?;
        }
    }
    Ok(start.elapsed())
}

async fn tasks(pairs: usize, size: usize, rounds: usize) -> Result<Duration, BenchError> {
    let ctx = Context::new();
    let all = async_pairs(&ctx, pairs)?;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let mut pushes = Vec::with_capacity(pairs);
            let mut receivers = Vec::with_capacity(pairs);
            // Every receiver counts down its messages; the sender waits for
            // the last one through `done`.
            let done = Rc::new(tokio::sync::Notify::new());
            let left = Rc::new(std::cell::Cell::new(pairs));
            for (push, pull) in all {
                pushes.push(push);
                let (done, left) = (done.clone(), left.clone());
                receivers.push(tokio::task::spawn_local(async move {
                    let mut msg = Message::new();
                    for _ in 0..rounds {
                        pull.recv_msg_into(&mut msg).await?;
                        check(&msg, size)?;
                    }
                    left.set(left.get() - 1);
                    if left.get() == 0 {
                        done.notify_one();
                    }
                    Ok::<(), BenchError>(())
                }));
            }
            // Let every receiver park on its empty socket first.
            tokio::task::yield_now().await;
            let buf = vec![0u8; size];
            let start = Instant::now();
            for _ in 0..rounds {
                for push in &pushes {
                    push.send(&buf[..]).await?;
                }
                // Let the woken receivers run, as a busy server would.
                tokio::task::yield_now().await;
            }
            done.notified().await;
            let elapsed = start.elapsed();
            for r in receivers {
                r.await.map_err(|_| BenchError::WorkerPanicked)??;
            }
            Ok(elapsed)
        })
        .await
}
