//! zguide "weather update": a PUB server publishing zip-code readings and a
//! SUB client averaging the temperature of one zip code (wuserver/wuclient).
//!
//! The publisher is an XPUB so it can wait for the subscription before it
//! starts: no message is lost to the "slow joiner" and no sleep is needed.
//!
//! `cargo run --example zguide_pubsub`

use std::thread;
use std::time::Duration;

use zmqx::{Context, SocketType};

const ZIP: u32 = 10001;
const UPDATES: usize = 20;

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let publisher = ctx.socket(SocketType::XPub)?;
    let endpoint = publisher.bind("tcp://127.0.0.1:*")?;

    let subscriber = ctx.socket(SocketType::Sub)?;
    subscriber.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    subscriber.connect(&endpoint)?;
    subscriber.subscribe(format!("{ZIP} "))?;

    let server = thread::spawn(move || -> zmqx::Result<()> {
        publisher.set_rcvtimeo(Some(Duration::from_secs(5)))?;
        publisher.recv_msg()?; // the subscription
        let mut seed = 12345u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut sent_for_zip = 0;
        while sent_for_zip < UPDATES {
            let zip = 10000 + next() % 4;
            let temperature = next() % 215;
            let humidity = next() % 50 + 10;
            publisher.send(format!("{zip} {temperature} {humidity}"))?;
            if zip == ZIP {
                sent_for_zip += 1;
            }
        }
        Ok(())
    });

    let mut total = 0u64;
    for _ in 0..UPDATES {
        let update = subscriber.recv_string()?;
        let temperature: u64 = update
            .split(' ')
            .nth(1)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        total += temperature;
    }
    println!(
        "average temperature for zip code {ZIP} was {}F",
        total / UPDATES as u64
    );
    server.join().expect("publisher thread")
}
