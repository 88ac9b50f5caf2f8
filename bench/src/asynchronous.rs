//! The perf tools written with zmqx's async API ([`AsyncSocket`] on tokio).
//!
//! Each side runs on its own thread with a current-thread runtime, so the
//! thread layout is the same as the blocking tools' and the C tools': the
//! comparison measures what the async layer adds per message (readiness
//! bookkeeping, the socket's mutex, tokio's task budget). Written as an
//! application would, like the blocking tools: one reused [`Message`] for
//! receives ([`AsyncSocket::recv_msg_into`]), the received message sent back
//! as is by the echo side.

use std::future::Future;
use std::thread;
use std::time::{Duration, Instant};

use zmqx::{AsyncSocket, Context, Message, SocketType};

use crate::{Args, BenchError, report_endpoint, report_lat, report_thr};

/// Runs `f` to completion on a fresh current-thread runtime.
pub fn block_on<T>(f: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Io)?
        .block_on(f)
}

/// An async socket whose close waits for every queued message (libzmq's
/// default, not zmqx's one-second linger). Must run inside the runtime.
///
/// `BENCH_BLOCKING_WAIT_US` sets [`AsyncSocket::set_blocking_wait`] and
/// `BENCH_BUSY_WAIT_US` [`AsyncSocket::set_busy_wait`] (in microseconds;
/// unset: zmqx's defaults).
fn socket(ctx: &Context, kind: SocketType) -> Result<AsyncSocket, BenchError> {
    let s = ctx.socket(kind)?;
    s.set_linger(None)?;
    let s = AsyncSocket::new(s)?;
    if let Some(us) = env_micros("BENCH_BLOCKING_WAIT_US") {
        s.set_blocking_wait(us)?;
    }
    if let Some(us) = env_micros("BENCH_BUSY_WAIT_US") {
        s.set_busy_wait(us)?;
    }
    Ok(s)
}

/// The environment variable `name` as a number of microseconds.
fn env_micros(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_micros)
}

#[inline]
fn check_size(msg: &Message, size: usize) -> Result<(), BenchError> {
    if msg.len() == size {
        Ok(())
    } else {
        Err(BenchError::WrongSize)
    }
}

async fn receive_all(s: &AsyncSocket, size: usize, count: u32) -> Result<Duration, BenchError> {
    let mut msg = Message::new();
    s.recv_msg_into(&mut msg).await?;
    check_size(&msg, size)?;
    let start = Instant::now();
    if let Some(limit) = crate::recv_many_limit() {
        // The rest in batches (`BENCH_RECV_MANY`).
        let mut batch: Vec<Message> = (0..limit).map(|_| Message::new()).collect();
        let mut left = count as usize - 1;
        while left > 0 {
            let n = s.recv_many(&mut batch[..limit.min(left)]).await?;
            batch[..n].iter().try_for_each(|m| check_size(m, size))?;
            left -= n;
        }
        return Ok(start.elapsed());
    }
    for _ in 1..count {
        s.recv_msg_into(&mut msg).await?;
        check_size(&msg, size)?;
    }
    Ok(start.elapsed())
}

async fn send_all(s: &AsyncSocket, size: usize, count: u32) -> Result<(), BenchError> {
    let buf = vec![0u8; size];
    for _ in 0..count {
        s.send(&buf[..]).await?;
    }
    Ok(())
}

async fn echo_all(s: &AsyncSocket, size: usize, roundtrips: u32) -> Result<(), BenchError> {
    let mut msg = Message::new();
    for _ in 0..roundtrips {
        s.recv_msg_into(&mut msg).await?;
        check_size(&msg, size)?;
        s.send(std::mem::take(&mut msg)).await?;
    }
    Ok(())
}

async fn ping_all(s: &AsyncSocket, size: usize, roundtrips: u32) -> Result<Duration, BenchError> {
    let mut msg = Message::from_slice(&vec![0u8; size]);
    let start = Instant::now();
    for _ in 0..roundtrips {
        s.send(std::mem::take(&mut msg)).await?;
        s.recv_msg_into(&mut msg).await?;
        check_size(&msg, size)?;
    }
    Ok(start.elapsed())
}

/// `local_thr`, async.
pub fn local_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let elapsed = block_on(async {
        let s = socket(&ctx, SocketType::Pull)?;
        s.bind(&a.endpoint)?;
        report_endpoint(&a.endpoint, || s.last_endpoint())?;
        receive_all(&s, a.size, a.count).await
    })?;
    report_thr(a.size, a.count, elapsed);
    Ok(())
}

/// `remote_thr`, async.
pub fn remote_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    block_on(async {
        let s = socket(&ctx, SocketType::Push)?;
        s.connect(&a.endpoint)?;
        send_all(&s, a.size, a.count).await
    })
}

/// `local_lat`, async.
pub fn local_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    block_on(async {
        let s = socket(&ctx, SocketType::Rep)?;
        s.bind(&a.endpoint)?;
        report_endpoint(&a.endpoint, || s.last_endpoint())?;
        echo_all(&s, a.size, a.count).await
    })
}

/// `remote_lat`, async.
pub fn remote_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let elapsed = block_on(async {
        let s = socket(&ctx, SocketType::Req)?;
        s.connect(&a.endpoint)?;
        ping_all(&s, a.size, a.count).await
    })?;
    report_lat(a.size, a.count, elapsed);
    Ok(())
}

/// Runs `main` here and `worker` on another thread, each on its own runtime;
/// `main` binds `endpoint` before the worker starts.
fn two_threads<T: Send + 'static>(
    ctx: &Context,
    bind: SocketType,
    connect: SocketType,
    endpoint: &'static str,
    main: impl AsyncFnOnce(AsyncSocket) -> Result<T, BenchError>,
    worker: impl AsyncFnOnce(AsyncSocket) -> Result<(), BenchError> + Send + 'static,
) -> Result<T, BenchError> {
    block_on(async {
        let s = socket(ctx, bind)?;
        s.bind(endpoint)?;
        beside(ctx, main(s), move |ctx| {
            block_on(async {
                let s = socket(&ctx, connect)?;
                s.connect(endpoint)?;
                worker(s).await
            })
        })
        .await
    })
}

/// Awaits `main` here while `worker` runs on another thread with a clone of
/// `ctx`; when `main` fails, shuts `ctx` down so that the worker cannot hang
/// the join. `main`'s error comes first, then the worker's.
async fn beside<T>(
    ctx: &Context,
    main: impl Future<Output = Result<T, BenchError>>,
    worker: impl FnOnce(Context) -> Result<(), BenchError> + Send + 'static,
) -> Result<T, BenchError> {
    let worker = {
        let ctx = ctx.clone();
        thread::spawn(move || worker(ctx))
    };
    let result = main.await;
    if result.is_err() {
        // Unblock the worker so the join below cannot hang.
        ctx.shutdown()?;
    }
    let worked = worker.join().map_err(|_| BenchError::WorkerPanicked)?;
    let value = result?;
    worked?;
    Ok(value)
}

/// `inproc_thr`, async.
pub fn inproc_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let (size, count) = (a.size, a.count);
    let elapsed = two_threads(
        &ctx,
        SocketType::Pull,
        SocketType::Push,
        "inproc://thr_test",
        async move |s| receive_all(&s, size, count).await,
        async move |s| send_all(&s, size, count).await,
    )?;
    report_thr(size, count, elapsed);
    Ok(())
}

/// `inproc_lat`, async. With `BENCH_SYNC_PEER` set, the echo side is a
/// blocking zmqx socket (an async client of a blocking worker thread).
pub fn inproc_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let (size, count) = (a.size, a.count);
    if std::env::var_os("BENCH_SYNC_PEER").is_some() {
        let elapsed = block_on(async {
            let s = socket(&ctx, SocketType::Req)?;
            s.bind("inproc://lat_test")?;
            beside(&ctx, ping_all(&s, size, count), move |ctx| {
                let s = crate::sync::socket(&ctx, SocketType::Rep)?;
                s.connect("inproc://lat_test")?;
                crate::sync::echo_all(&s, size, count)
            })
            .await
        })?;
        report_lat(size, count, elapsed);
        return Ok(());
    }
    let elapsed = two_threads(
        &ctx,
        SocketType::Req,
        SocketType::Rep,
        "inproc://lat_test",
        async move |s| ping_all(&s, size, count).await,
        async move |s| echo_all(&s, size, count).await,
    )?;
    report_lat(size, count, elapsed);
    Ok(())
}
