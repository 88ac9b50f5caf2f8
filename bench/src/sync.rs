//! The perf tools written with zmqx's blocking API, the way an application
//! would write them: one reused [`Message`] for receives
//! ([`Socket::recv_msg_into`]), borrowed slices for sends, the received
//! message sent back as is by the echo side.

use std::thread;
use std::time::{Duration, Instant};

use zmqx::{Context, Message, Socket, SocketType};

use crate::{Args, BenchError, report_endpoint, report_lat, report_thr};

/// Receives `count` messages of `size` bytes; the clock starts after the
/// first one, as in libzmq's tools.
pub(crate) fn receive_all(s: &Socket, size: usize, count: u32) -> Result<Duration, BenchError> {
    let mut msg = Message::new();
    s.recv_msg_into(&mut msg)?;
    check_size(&msg, size)?;
    let start = Instant::now();
    if let Some(limit) = crate::recv_many_limit() {
        // The rest in batches (`BENCH_RECV_MANY`).
        let mut batch: Vec<Message> = (0..limit).map(|_| Message::new()).collect();
        let mut left = count as usize - 1;
        while left > 0 {
            let n = s.recv_many(&mut batch[..limit.min(left)])?;
            batch[..n].iter().try_for_each(|m| check_size(m, size))?;
            left -= n;
        }
        return Ok(start.elapsed());
    }
    for _ in 1..count {
        s.recv_msg_into(&mut msg)?;
        check_size(&msg, size)?;
    }
    Ok(start.elapsed())
}

/// Sends `count` messages of `size` bytes from one buffer (libzmq copies it).
fn send_all(s: &Socket, size: usize, count: u32) -> Result<(), BenchError> {
    let buf = vec![0u8; size];
    for _ in 0..count {
        s.send(&buf[..])?;
    }
    Ok(())
}

/// Echoes `roundtrips` messages back: the REP side.
pub(crate) fn echo_all(s: &Socket, size: usize, roundtrips: u32) -> Result<(), BenchError> {
    let mut msg = Message::new();
    for _ in 0..roundtrips {
        s.recv_msg_into(&mut msg)?;
        check_size(&msg, size)?;
        s.send(&mut msg)?;
    }
    Ok(())
}

/// Sends and receives back `roundtrips` messages: the REQ side.
fn ping_all(s: &Socket, size: usize, roundtrips: u32) -> Result<Duration, BenchError> {
    let mut msg = Message::from_slice(&vec![0u8; size]);
    let start = Instant::now();
    for _ in 0..roundtrips {
        s.send(&mut msg)?;
        s.recv_msg_into(&mut msg)?;
        check_size(&msg, size)?;
    }
    Ok(start.elapsed())
}

#[inline]
fn check_size(msg: &Message, size: usize) -> Result<(), BenchError> {
    if msg.len() == size {
        Ok(())
    } else {
        Err(BenchError::WrongSize)
    }
}

/// A socket whose close waits for every queued message, as libzmq's default
/// does (zmqx's default linger is one second, too short for a slow peer).
pub(crate) fn socket(ctx: &Context, kind: SocketType) -> Result<Socket, BenchError> {
    let s = ctx.socket(kind)?;
    s.set_linger(None)?;
    Ok(s)
}

/// `local_thr <bind-to> <message-size> <message-count>`
pub fn local_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    s.bind(&a.endpoint)?;
    report_endpoint(&a.endpoint, || s.last_endpoint())?;
    let elapsed = receive_all(&s, a.size, a.count)?;
    report_thr(a.size, a.count, elapsed);
    Ok(())
}

/// `remote_thr <connect-to> <message-size> <message-count>`
pub fn remote_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Push)?;
    s.connect(&a.endpoint)?;
    send_all(&s, a.size, a.count)
}

/// `local_lat <bind-to> <message-size> <roundtrip-count>`
pub fn local_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Rep)?;
    s.bind(&a.endpoint)?;
    report_endpoint(&a.endpoint, || s.last_endpoint())?;
    echo_all(&s, a.size, a.count)
}

/// `remote_lat <connect-to> <message-size> <roundtrip-count>`
pub fn remote_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Req)?;
    s.connect(&a.endpoint)?;
    let elapsed = ping_all(&s, a.size, a.count)?;
    report_lat(a.size, a.count, elapsed);
    Ok(())
}

/// `inproc_thr <message-size> <message-count>`: a PUSH thread feeding this
/// thread's PULL socket.
pub fn inproc_thr(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Pull)?;
    s.bind("inproc://thr_test")?;
    let (size, count) = (a.size, a.count);
    let worker = {
        let ctx = ctx.clone();
        thread::spawn(move || -> Result<(), BenchError> {
            let s = socket(&ctx, SocketType::Push)?;
            s.connect("inproc://thr_test")?;
            send_all(&s, size, count)
        })
    };
    let elapsed = receive_all(&s, size, count);
    if elapsed.is_err() {
        // Unblock the worker so the join below cannot hang.
        ctx.shutdown()?;
    }
    let worked = worker.join().map_err(|_| BenchError::WorkerPanicked)?;
    let elapsed = elapsed?;
    worked?;
    report_thr(size, count, elapsed);
    Ok(())
}

/// `inproc_lat <message-size> <roundtrip-count>`: this thread's REQ socket
/// against a REP thread.
pub fn inproc_lat(a: &Args) -> Result<(), BenchError> {
    let ctx = Context::new();
    let s = socket(&ctx, SocketType::Req)?;
    s.bind("inproc://lat_test")?;
    let (size, count) = (a.size, a.count);
    let worker = {
        let ctx = ctx.clone();
        thread::spawn(move || -> Result<(), BenchError> {
            let s = socket(&ctx, SocketType::Rep)?;
            s.connect("inproc://lat_test")?;
            echo_all(&s, size, count)
        })
    };
    let elapsed = ping_all(&s, size, count);
    if elapsed.is_err() {
        ctx.shutdown()?;
    }
    let worked = worker.join().map_err(|_| BenchError::WorkerPanicked)?;
    let elapsed = elapsed?;
    worked?;
    report_lat(size, count, elapsed);
    Ok(())
}
