//! Micro-benchmarks of zmqx's hot path, each beside the same work done with
//! raw libzmq calls (`zmqx::sys`), so the difference is what zmqx adds.
//!
//! ```sh
//! cargo bench --bench hot_path            # about a minute and a half
//! cargo bench --bench hot_path -- send    # only the benchmarks matching "send"
//! ```
//!
//! - `send_recv_1B`: one 1-byte message over an inproc PAIR, sent and
//!   received on the same thread.
//! - `multipart_3`: a 3-part message (1, 2 and 3 bytes) the same way.
//! - `message_new`: building a `Message` by copying a buffer versus handing
//!   over a `bytes::Bytes` without copying, at 64 KiB and 1 MiB.
//! - `send_recv_large`: sending 64 KiB and 1 MiB copied versus zero-copy.
//! - `option_read`: `events()` and `rcvmore()` (`zmq_getsockopt`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::ffi::c_void;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zmqx::{Context, Message, Socket, SocketType, sys};

/// A connected inproc PAIR: (sender, receiver).
fn pair(ctx: &Context, name: &str) -> (Socket, Socket) {
    let rx = ctx.socket(SocketType::Pair).expect("socket");
    rx.bind(&format!("inproc://{name}")).expect("bind");
    let tx = ctx.socket(SocketType::Pair).expect("socket");
    tx.connect(&format!("inproc://{name}")).expect("connect");
    (tx, rx)
}

/// libzmq's `zmq_send` of `data` on a raw socket, panicking on failure.
fn raw_send(s: *mut c_void, data: &[u8], flags: i32) {
    // SAFETY: s is a live socket owned by a `Socket` the caller keeps alive;
    // data is readable for its length and libzmq copies it.
    let rc = unsafe { sys::zmq_send(s, data.as_ptr().cast(), data.len(), flags) };
    assert!(rc >= 0, "zmq_send failed");
}

/// libzmq's `zmq_msg_recv` into `msg` on a raw socket; returns `more`.
fn raw_recv(s: *mut c_void, msg: &mut Message) -> bool {
    // SAFETY: s is a live socket; msg is an initialised message we own
    // exclusively and keep initialised (zmq_msg_recv replaces its content).
    let rc = unsafe { sys::zmq_msg_recv(msg.as_raw_mut(), s, 0) };
    assert!(rc >= 0, "zmq_msg_recv failed");
    msg.more()
}

fn send_recv_1b(c: &mut Criterion) {
    let ctx = Context::new();
    let (tx, rx) = pair(&ctx, "send_recv_1b");
    let mut msg = Message::new();
    let mut g = c.benchmark_group("send_recv_1B");
    g.throughput(Throughput::Elements(1));
    g.bench_function("zmqx", |b| {
        b.iter(|| {
            tx.send(black_box(&b"x"[..])).expect("send");
            rx.recv_msg_into(&mut msg).expect("recv");
            black_box(msg.len())
        })
    });
    g.bench_function("raw", |b| {
        let (t, r) = (tx.as_raw(), rx.as_raw());
        b.iter(|| {
            raw_send(t, black_box(&b"x"[..]), 0);
            raw_recv(r, &mut msg);
            black_box(msg.len())
        })
    });
    g.finish();
}

fn multipart_3(c: &mut Criterion) {
    let ctx = Context::new();
    let (tx, rx) = pair(&ctx, "multipart_3");
    let parts: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
    let mut g = c.benchmark_group("multipart_3");
    g.throughput(Throughput::Elements(1));
    let mut received = Vec::with_capacity(3);
    g.bench_function("zmqx", |b| {
        b.iter(|| {
            tx.send_multipart(black_box(parts)).expect("send");
            received.clear();
            rx.recv_multipart_into(&mut received).expect("recv");
            black_box(received.len())
        })
    });
    let mut msgs = [Message::new(), Message::new(), Message::new()];
    g.bench_function("raw", |b| {
        let (t, r) = (tx.as_raw(), rx.as_raw());
        b.iter(|| {
            let parts = black_box(parts);
            raw_send(t, parts[0], sys::ZMQ_SNDMORE);
            raw_send(t, parts[1], sys::ZMQ_SNDMORE);
            raw_send(t, parts[2], 0);
            let mut n = 0;
            while raw_recv(r, &mut msgs[n]) {
                n += 1;
            }
            black_box(n)
        })
    });
    g.finish();
}

const LARGE: [usize; 2] = [64 * 1024, 1024 * 1024];

fn label(size: usize) -> String {
    if size >= 1 << 20 {
        format!("{}MiB", size >> 20)
    } else {
        format!("{}KiB", size >> 10)
    }
}

fn message_new(c: &mut Criterion) {
    let mut g = c.benchmark_group("message_new");
    for size in LARGE {
        let vec = vec![7u8; size];
        let bytes = Bytes::from(vec.clone());
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("copy", label(size)), |b| {
            b.iter(|| Message::from_slice(black_box(&vec[..])))
        });
        g.bench_function(BenchmarkId::new("zero_copy", label(size)), |b| {
            b.iter(|| Message::from_owned_zero_copy(black_box(&bytes).clone()))
        });
    }
    g.finish();
}

fn send_recv_large(c: &mut Criterion) {
    let ctx = Context::new();
    let (tx, rx) = pair(&ctx, "send_recv_large");
    let mut msg = Message::new();
    let mut g = c.benchmark_group("send_recv_large");
    for size in LARGE {
        let vec = vec![7u8; size];
        let bytes = Bytes::from(vec.clone());
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("copy", label(size)), |b| {
            b.iter(|| {
                tx.send(black_box(&vec[..])).expect("send");
                rx.recv_msg_into(&mut msg).expect("recv");
            })
        });
        g.bench_function(BenchmarkId::new("zero_copy", label(size)), |b| {
            b.iter(|| {
                // An owned buffer at or above the copy threshold is not copied.
                tx.send(black_box(&bytes).clone()).expect("send");
                rx.recv_msg_into(&mut msg).expect("recv");
            })
        });
    }
    g.finish();
}

fn option_read(c: &mut Criterion) {
    let ctx = Context::new();
    let (_tx, rx) = pair(&ctx, "option_read");
    let mut g = c.benchmark_group("option_read");
    g.bench_function("events/zmqx", |b| b.iter(|| rx.events().expect("events")));
    g.bench_function("events/raw", |b| {
        let r = rx.as_raw();
        b.iter(|| {
            let mut v: i32 = 0;
            let mut len = size_of::<i32>();
            // SAFETY: r is a live socket; v and len are valid for writing and
            // len tells libzmq the size of v.
            let rc =
                unsafe { sys::zmq_getsockopt(r, sys::ZMQ_EVENTS, (&raw mut v).cast(), &mut len) };
            assert_eq!(rc, 0);
            v
        })
    });
    g.bench_function("rcvmore/zmqx", |b| {
        b.iter(|| rx.rcvmore().expect("rcvmore"))
    });
    g.bench_function("rcvmore/raw", |b| {
        let r = rx.as_raw();
        b.iter(|| {
            let mut v: i32 = 0;
            let mut len = size_of::<i32>();
            // SAFETY: as above.
            let rc =
                unsafe { sys::zmq_getsockopt(r, sys::ZMQ_RCVMORE, (&raw mut v).cast(), &mut len) };
            assert_eq!(rc, 0);
            v != 0
        })
    });
    g.finish();
}

criterion_group! {
    name = hot_path;
    // Short runs: the whole file takes about a minute and a half.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(50);
    targets = send_recv_1b, multipart_3, message_new, send_recv_large, option_read
}
criterion_main!(hot_path);
