//! `zmqx device queue|forwarder|streamer` and `zmqx monitored-queue`
//! (pyzmq's `ProcessDevice` and `ProcessMonitoredQueue`) with real sockets
//! on both sides.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::{TIMEOUT, endpoints, lines, socket, spawn, stop};
use zmqx::{Context, Result, Socket, SocketType};

/// Starts `zmqx ARGS` and returns it with the endpoints of its bound roles.
fn start(args: &[&str], roles: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut child = spawn(args);
    let rx = lines(&mut child);
    let found = endpoints(&rx, roles);
    (child, found)
}

/// Starts the device `args` (its endpoints for `roles`), runs `check`
/// against it, then stops the device whatever `check` returned.
fn with_device(
    args: &[&str],
    roles: &[&str],
    check: impl FnOnce(&Context, &[String]) -> Result<()>,
) -> Result<()> {
    let (child, ends) = start(args, roles);
    let ctx = Context::new();
    let result = check(&ctx, &ends);
    stop(child);
    result
}

fn connect(ctx: &Context, kind: SocketType, endpoint: &str) -> Result<Socket> {
    let s = socket(ctx, kind)?;
    s.connect(endpoint)?;
    Ok(s)
}

/// Sends with `publish` until `sub` receives something (slow joiners), at
/// most for [`TIMEOUT`]; returns what arrived first.
fn first_delivery(mut publish: impl FnMut() -> Result<()>, sub: &Socket) -> Result<Vec<Vec<u8>>> {
    let deadline = Instant::now() + TIMEOUT;
    sub.set_rcvtimeo(Some(Duration::from_millis(20)))?;
    let got = loop {
        publish()?;
        match sub.recv_multipart_bytes() {
            Ok(frames) => break frames,
            Err(e) if matches!(e.root(), zmqx::Error::Again) && Instant::now() < deadline => {}
            Err(e) => return Err(e),
        }
    };
    sub.set_rcvtimeo(Some(TIMEOUT))?;
    Ok(got)
}

#[test]
fn queue_device_carries_requests_and_replies() -> Result<()> {
    with_device(
        &[
            "device",
            "queue",
            "--in",
            "tcp://127.0.0.1:*",
            "--out",
            "tcp://127.0.0.1:*",
        ],
        &["in", "out"],
        |ctx, ends| {
            let req = connect(ctx, SocketType::Req, &ends[0])?;
            let rep = connect(ctx, SocketType::Rep, &ends[1])?;
            for i in 0..3 {
                req.send(format!("ping {i}"))?;
                assert_eq!(rep.recv_string()?, format!("ping {i}"));
                rep.send(format!("pong {i}"))?;
                assert_eq!(req.recv_string()?, format!("pong {i}"));
            }
            Ok(())
        },
    )
}

#[test]
fn forwarder_device_publishes_what_comes_in() -> Result<()> {
    with_device(
        &[
            "device",
            "forwarder",
            "--in",
            "tcp://127.0.0.1:*",
            "--out",
            "tcp://127.0.0.1:*",
        ],
        &["in", "out"],
        |ctx, ends| {
            let publisher = connect(ctx, SocketType::Pub, &ends[0])?;
            let subscriber = connect(ctx, SocketType::Sub, &ends[1])?;
            subscriber.subscribe(b"")?;
            let got = first_delivery(|| publisher.send_multipart(["news", "rain"]), &subscriber)?;
            assert_eq!(got, [&b"news"[..], b"rain"]);
            Ok(())
        },
    )
}

#[test]
fn forwarder_device_with_xsub_xpub_forwards_subscriptions() -> Result<()> {
    with_device(
        &[
            "device",
            "forwarder",
            "--in",
            "xsub@tcp://127.0.0.1:*",
            "--out",
            "xpub@tcp://127.0.0.1:*",
        ],
        &["in", "out"],
        |ctx, ends| {
            let publisher = connect(ctx, SocketType::XPub, &ends[0])?;
            let subscriber = connect(ctx, SocketType::Sub, &ends[1])?;
            subscriber.subscribe(b"weather")?;
            // The subscription travels through the device to the publisher.
            assert_eq!(publisher.recv_bytes()?, b"\x01weather");
            publisher.send("sports: 2-1")?;
            publisher.send("weather: rain")?;
            assert_eq!(subscriber.recv_string()?, "weather: rain");
            Ok(())
        },
    )
}

#[test]
fn streamer_device_passes_a_pipeline_on() -> Result<()> {
    with_device(
        &[
            "device",
            "streamer",
            "--in",
            "tcp://127.0.0.1:*",
            "--out",
            "tcp://127.0.0.1:*",
        ],
        &["in", "out"],
        |ctx, ends| {
            let push = connect(ctx, SocketType::Push, &ends[0])?;
            let pull = connect(ctx, SocketType::Pull, &ends[1])?;
            for i in 0..10 {
                push.send_multipart([format!("task {i}"), "data".into()])?;
            }
            for i in 0..10 {
                let got = pull.recv_multipart_bytes()?;
                assert_eq!(got, [format!("task {i}").into_bytes(), b"data".to_vec()]);
            }
            Ok(())
        },
    )
}

/// pyzmq's defaults: a PUB monitor, prefixes `in` and `out`.
#[test]
fn monitored_queue_copies_both_directions_with_default_prefixes() -> Result<()> {
    with_device(
        &[
            "monitored-queue",
            "--in",
            "router@tcp://127.0.0.1:*",
            "--out",
            "dealer@tcp://127.0.0.1:*",
            "--mon",
            "tcp://127.0.0.1:*",
        ],
        &["in", "out", "mon"],
        |ctx, ends| {
            let req = connect(ctx, SocketType::Req, &ends[0])?;
            let rep = connect(ctx, SocketType::Rep, &ends[1])?;
            let mon = connect(ctx, SocketType::Sub, &ends[2])?;
            mon.subscribe(b"")?;
            let round = |i: usize| -> Result<()> {
                req.send(format!("ping {i}"))?;
                assert_eq!(rep.recv_string()?, format!("ping {i}"));
                rep.send(format!("pong {i}"))?;
                assert_eq!(req.recv_string()?, format!("pong {i}"));
                Ok(())
            };
            // Requests until the monitor is subscribed (slow joiner)…
            let mut i = 0;
            let first = first_delivery(
                || {
                    i += 1;
                    round(i)
                },
                &mon,
            )?;
            assert!(first[0] == b"in" || first[0] == b"out", "{first:?}");
            // …then one round seen whole, after what is left of earlier ones.
            round(1000)?;
            let copy_in = loop {
                let copy = mon.recv_multipart_bytes()?;
                if copy.last().is_some_and(|body| body == b"ping 1000") {
                    break copy;
                }
            };
            let copy_out = mon.recv_multipart_bytes()?;
            // [prefix, routing id (ROUTER side), empty delimiter, body]
            assert_eq!(copy_in.len(), 4, "{copy_in:?}");
            assert_eq!(copy_in[0], b"in");
            assert_eq!(copy_in[2], b"");
            assert_eq!(copy_in[3], b"ping 1000");
            assert_eq!(copy_out[0], b"out");
            assert_eq!(copy_out[1], copy_in[1], "the reply carries the same id");
            assert_eq!(copy_out[3], b"pong 1000");
            Ok(())
        },
    )
}

#[test]
fn monitored_queue_custom_prefixes_and_monitor_type() -> Result<()> {
    let ctx = Context::new();
    let copies = socket(&ctx, SocketType::Pull)?;
    let copies_end = common::bind_tcp(&copies)?;
    let (child, ends) = start(
        &[
            "monitored-queue",
            "--in",
            "pull@tcp://127.0.0.1:*",
            "--out",
            "push@tcp://127.0.0.1:*",
            "--mon",
            &format!("push@connect:{copies_end}"),
            "--in-prefix",
            "IN",
            "--out-prefix",
            "",
        ],
        &["in", "out"],
    );
    let result = (|| -> Result<()> {
        let push = connect(&ctx, SocketType::Push, &ends[0])?;
        let pull = connect(&ctx, SocketType::Pull, &ends[1])?;
        push.send_multipart(["a", "b"])?;
        assert_eq!(pull.recv_multipart_bytes()?, [&b"a"[..], b"b"]);
        assert_eq!(copies.recv_multipart_bytes()?, [&b"IN"[..], b"a", b"b"]);
        Ok(())
    })();
    stop(child);
    result
}
