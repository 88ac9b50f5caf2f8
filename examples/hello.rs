//! The tour: request/reply, publish/subscribe with topics, and a
//! CURVE-encrypted pipeline, all in one process.
//!
//! Run it with `cargo run --example hello`.

use std::thread;
use std::time::Duration;

use zmqx::{Context, SocketType};

fn main() -> zmqx::Result<()> {
    println!(
        "zmqx {} on libzmq {} (CURVE: {})",
        zmqx::CRATE_VERSION,
        zmqx::version(),
        zmqx::has("curve")
    );
    let ctx = Context::new();
    request_reply(&ctx)?;
    publish_subscribe(&ctx)?;
    encrypted_pipeline(&ctx)?;
    println!("done");
    Ok(())
}

/// A REP server in a thread answers three requests from a REQ client over TCP.
fn request_reply(ctx: &Context) -> zmqx::Result<()> {
    println!("\n== request/reply over tcp");
    let server = ctx.socket(SocketType::Rep)?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;
    println!("server bound to {endpoint}");

    let handle = thread::spawn(move || -> zmqx::Result<()> {
        for _ in 0..3 {
            let request = server.recv_string()?;
            server.send(format!("world ({request})"))?;
        }
        Ok(())
    });

    let client = ctx.socket(SocketType::Req)?;
    client.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    client.connect(&endpoint)?;
    for i in 1..=3 {
        let request = format!("hello #{i}");
        client.send(request.as_str())?;
        let reply = client.recv_string()?;
        println!("sent {request:?}, got {reply:?}");
    }
    handle.join().expect("server thread")?;
    Ok(())
}

/// An XPUB publisher waits for its subscriber's subscription (no slow-joiner
/// sleep), then publishes on two topics; the subscriber only asked for one.
fn publish_subscribe(ctx: &Context) -> zmqx::Result<()> {
    println!("\n== publish/subscribe with topics over inproc");
    let publisher = ctx.socket(SocketType::XPub)?;
    publisher.bind("inproc://weather")?;
    let subscriber = ctx.socket(SocketType::Sub)?;
    subscriber.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    subscriber.connect("inproc://weather")?;
    subscriber.subscribe("weather.paris")?;

    // The subscription arrives at the XPUB as a message: \x01 + topic.
    publisher.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    let subscription = publisher.recv_msg()?;
    println!(
        "publisher saw subscription to {:?}",
        String::from_utf8_lossy(&subscription[1..])
    );

    for (topic, reading) in [
        ("weather.london", "12°C"),
        ("weather.paris", "17°C"),
        ("weather.paris", "18°C"),
    ] {
        publisher.send_multipart([topic, reading])?;
    }
    for _ in 0..2 {
        let parts = subscriber.recv_multipart()?;
        println!(
            "subscriber got {:?}: {:?}",
            parts[0].as_str().unwrap_or("?"),
            parts[1].as_str().unwrap_or("?")
        );
    }
    Ok(())
}

/// PUSH/PULL over TCP with CURVE: the sink is a CURVE server, the producer a
/// CURVE client that knows the server's public key.
fn encrypted_pipeline(ctx: &Context) -> zmqx::Result<()> {
    println!("\n== CURVE-encrypted push/pull over tcp");
    let server_keys = zmqx::curve_keypair()?;
    let client_keys = zmqx::curve_keypair()?;
    println!("server public key {}", server_keys.public);

    let sink = ctx.socket(SocketType::Pull)?;
    sink.set_curve_server(true)?;
    sink.set_curve_secretkey(server_keys.secret.as_bytes())?;
    sink.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    sink.bind("tcp://127.0.0.1:*")?;

    let producer = ctx.socket(SocketType::Push)?;
    producer.set_curve_serverkey(server_keys.public.to_z85())?;
    producer.set_curve_publickey(client_keys.public.as_bytes())?;
    producer.set_curve_secretkey(client_keys.secret.as_bytes())?;
    producer.connect(&sink.last_endpoint()?)?;

    for i in 1..=3 {
        producer.send(format!("secret #{i}"))?;
    }
    for _ in 1..=3 {
        let msg = sink.recv_msg()?;
        println!(
            "sink got {:?} over {:?}",
            msg.as_str().unwrap_or("?"),
            sink.mechanism()?
        );
    }
    Ok(())
}
