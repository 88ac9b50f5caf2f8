//! Day one, 2/8: publish/subscribe with topics. The subscriber asks for two
//! topics; an XPUB publisher waits until it has seen both subscriptions (no
//! slow-joiner sleep), then publishes on three topics.
//!
//! `cargo run --example day_one_02_pubsub`; pyzmq twin: `py/02_pubsub.py`.

use zmqx::prelude::*;

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let publisher = ctx.socket(SocketType::XPub)?;
    publisher.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    let subscriber = ctx.socket(SocketType::Sub)?;
    subscriber.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    subscriber.connect(&publisher.bind("tcp://127.0.0.1:*")?)?;
    for topic in ["weather", "news"] {
        subscriber.subscribe(topic)?;
        publisher.recv_msg()?; // the subscription: b"\x01" + topic
    }
    publisher.send_multipart(["weather", "sunny"])?;
    publisher.send_multipart(["sports", "3-1"])?;
    publisher.send_multipart(["news", "zmqx 0.1 is out"])?;
    for _ in 0..2 {
        let msg = subscriber.recv_multipart()?;
        println!("{}: {}", msg[0], msg[1]);
    }
    Ok(())
}
