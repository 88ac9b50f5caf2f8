//! Day one, 4/8: a typed record as JSON over PUSH/PULL (serde derive).
//!
//! `cargo run --features json --example day_one_04_json`; pyzmq twin:
//! `py/04_json.py`.

use serde::{Deserialize, Serialize};
use zmqx::prelude::*;

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    id: usize,
    item: String,
    quantity: usize,
}

fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull)?;
    pull.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    let push = ctx.socket(SocketType::Push)?;
    push.connect(&pull.bind("tcp://127.0.0.1:*")?)?;
    for (id, item) in ["apple", "pear", "plum"].into_iter().enumerate() {
        push.send_json(&Order { id, item: item.into(), quantity: id + 1 })?;
    }
    for _ in 0..3 {
        println!("received {:?}", pull.recv_json::<Order>()?);
    }
    Ok(())
}
