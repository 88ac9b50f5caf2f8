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

/// `local_thr`, async. With `BENCH_MINIMAL_FUTURE` set (unix), the
/// receiver is the minimal future of the private `minimal` module instead
/// of an [`AsyncSocket`].
pub fn local_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    #[cfg(unix)]
    if std::env::var_os("BENCH_MINIMAL_FUTURE").is_some() {
        eprintln!("receiving through the minimal future (BENCH_MINIMAL_FUTURE)");
        let elapsed = block_on(async {
            let s = crate::sync::socket(&ctx, SocketType::Pull)?;
            s.bind(&a.endpoint)?;
            report_endpoint(&a.endpoint, || s.last_endpoint())?;
            minimal::receive_all(&s, a.size, a.count).await
        })?;
        report_thr(a.size, a.count, elapsed);
        return Ok(());
    }
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

/// `inproc_thr`, async. With `BENCH_SYNC_PEER` set, the receiver is a
/// blocking zmqx socket, and says so on stderr (the async sender alone is
/// measured: in-process, a sender of small messages is the slower side). With
/// `BENCH_MINIMAL_FUTURE` set (unix), the sender is the minimal future of
/// the private `minimal` module instead of an [`AsyncSocket`].
pub fn inproc_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let (size, count) = (a.size, a.count);
    let minimal = cfg!(unix) && std::env::var_os("BENCH_MINIMAL_FUTURE").is_some();
    if minimal {
        eprintln!("sending through the minimal future (BENCH_MINIMAL_FUTURE)");
    }
    let sender = move |ctx: Context| {
        block_on(async {
            #[cfg(unix)]
            if minimal {
                let s = crate::sync::socket(&ctx, SocketType::Push)?;
                s.connect("inproc://thr_test")?;
                return minimal::send_all(&s, size, count).await;
            }
            let s = socket(&ctx, SocketType::Push)?;
            s.connect("inproc://thr_test")?;
            send_all(&s, size, count).await
        })
    };
    let elapsed = block_on(async {
        if std::env::var_os("BENCH_SYNC_PEER").is_some() {
            eprintln!("receiving through a blocking socket (BENCH_SYNC_PEER)");
            let s = crate::sync::socket(&ctx, SocketType::Pull)?;
            s.bind("inproc://thr_test")?;
            // Blocks this thread's runtime, which has nothing else to do.
            beside(
                &ctx,
                async { crate::sync::receive_all(&s, size, count) },
                sender,
            )
            .await
        } else {
            let s = socket(&ctx, SocketType::Pull)?;
            s.bind("inproc://thr_test")?;
            beside(&ctx, receive_all(&s, size, count), sender).await
        }
    })?;
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

/// The least a future per message over libzmq can be, for comparison with
/// [`AsyncSocket`] (`BENCH_MINIMAL_FUTURE=1`, the receiver of `local_thr
/// --impl async` and the sender of `inproc_thr --impl async`): a `poll_fn`
/// around the blocking socket's non-blocking receive or send that waits on
/// `ZMQ_FD` through tokio's `AsyncFd`, with no lock, no fairness count and
/// no waiter list (so one task only, none of the others' timers or I/O
/// served while it streams, and not cancel-safe beyond what libzmq gives).
/// What [`AsyncSocket::recv_msg_into`] and [`AsyncSocket::send`] cost
/// beyond it is zmqx's; what it costs beyond a blocking call is any
/// future's.
#[cfg(unix)]
mod minimal {
    use std::future::poll_fn;
    use std::os::fd::{AsRawFd, RawFd};
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;
    use zmqx::{Message, PollEvents, Socket};

    use super::check_size;
    use crate::BenchError;

    /// The socket's `ZMQ_FD`, owned by the socket (never closed here).
    struct ZmqFd(RawFd);

    impl AsRawFd for ZmqFd {
        fn as_raw_fd(&self) -> RawFd {
            self.0
        }
    }

    /// The socket's `ZMQ_FD` registered with the current runtime, for as
    /// long as the socket is borrowed.
    struct Registered<'s> {
        socket: &'s Socket,
        fd: AsyncFd<ZmqFd>,
    }

    impl<'s> Registered<'s> {
        fn new(socket: &'s Socket) -> Result<Registered<'s>, BenchError> {
            let raw = socket.fd()?;
            // SAFETY: `raw` is the ZMQ_FD of `socket`, which libzmq keeps
            // open until the socket closes; the socket is borrowed for the
            // life of this value, so `fd` is dropped (deregistered) before
            // the socket can close. `ZmqFd` always returns that same fd.
            let fd = unsafe { AsyncFd::register_with_interest(ZmqFd(raw), Interest::READABLE) }
                .map_err(|e| BenchError::Io(e.into_parts().1))?;
            Ok(Registered { socket, fd })
        }

        /// Waits for an edge of the fd until `ZMQ_EVENTS` (which drains
        /// libzmq's mailbox) shows `want`; readiness is cleared after that
        /// look, so an edge that comes later is kept. Call after an
        /// operation for `want` would block, which drained the mailbox
        /// itself (a receive) or after a look at `ZMQ_EVENTS` (a send).
        fn poll_edge(
            &self,
            cx: &mut Context<'_>,
            want: PollEvents,
        ) -> Poll<Result<(), BenchError>> {
            loop {
                let mut guard = match self.fd.poll_read_ready(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(BenchError::Io(e))),
                };
                let events = match self.socket.events() {
                    Ok(events) => events,
                    Err(e) => return Poll::Ready(Err(e.into())),
                };
                guard.clear_ready();
                if events.intersects(want) {
                    return Poll::Ready(Ok(()));
                }
            }
        }

        /// One operation for `want`: try it, and when it would block wait
        /// for an edge. A send looks at `ZMQ_EVENTS` first (a send that
        /// would block leaves libzmq's commands unprocessed, among them the
        /// receiver's "room again"); a receive that would block has
        /// processed them itself.
        async fn op(
            &self,
            want: PollEvents,
            mut try_op: impl FnMut(&Socket) -> zmqx::Result<bool>,
        ) -> Result<(), BenchError> {
            poll_fn(|cx| {
                loop {
                    match try_op(self.socket) {
                        Ok(true) => return Poll::Ready(Ok(())),
                        Ok(false) => {}
                        Err(e) => return Poll::Ready(Err(e.into())),
                    }
                    if want == PollEvents::POLLOUT {
                        match self.socket.events() {
                            Ok(events) if events.contains(want) => continue,
                            Ok(_) => {}
                            Err(e) => return Poll::Ready(Err(e.into())),
                        }
                    }
                    match self.poll_edge(cx, want) {
                        Poll::Ready(Ok(())) => {}
                        not_ready => return not_ready,
                    }
                }
            })
            .await
        }

        /// One receive into `msg`.
        async fn recv(&self, msg: &mut Message) -> Result<(), BenchError> {
            self.op(PollEvents::POLLIN, |s| s.try_recv_msg_into(msg))
                .await
        }

        /// One send of `data`.
        async fn send(&self, data: &[u8]) -> Result<(), BenchError> {
            self.op(PollEvents::POLLOUT, |s| s.try_send(data)).await
        }
    }

    /// [`super::receive_all`] through [`Registered::recv`].
    pub(super) async fn receive_all(
        s: &Socket,
        size: usize,
        count: u32,
    ) -> Result<Duration, BenchError> {
        let s = Registered::new(s)?;
        let mut msg = Message::new();
        s.recv(&mut msg).await?;
        check_size(&msg, size)?;
        let start = Instant::now();
        for _ in 1..count {
            s.recv(&mut msg).await?;
            check_size(&msg, size)?;
        }
        Ok(start.elapsed())
    }

    /// [`super::send_all`] through [`Registered::send`].
    pub(super) async fn send_all(s: &Socket, size: usize, count: u32) -> Result<(), BenchError> {
        let s = Registered::new(s)?;
        let buf = vec![0u8; size];
        for _ in 0..count {
            s.send(&buf).await?;
        }
        Ok(())
    }
}
