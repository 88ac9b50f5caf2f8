//! Binary Star (zguide chapter 4, "High-Availability Pair"): a primary and a
//! backup server, a client that fails over between them, and the primary
//! coming back as the passive one.
//!
//! `cargo run --example binary_star`

use std::time::{Duration, Instant};

use zmqx::Context;
use zmqx::patterns::binary_star::{BinaryStar, Client, Role, State};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let heartbeat = Duration::from_millis(100);
    let wait = Duration::from_secs(5);

    // Each server binds its frontend (for clients) and its state publisher
    // (for its peer); the OS picks the ports. Then each connects to the
    // other's state publisher as it starts.
    let any = "tcp://127.0.0.1:*";
    let bind = |role, frontend: &str, state: &str| {
        BinaryStar::builder(role)
            .heartbeat(heartbeat)
            .on_state_change(move |c| println!("{role:?}: {} -> {}", c.from, c.to))
            .bind(frontend, state)
    };
    let primary = bind(Role::Primary, any, any)?;
    let backup = bind(Role::Backup, any, any)?;
    let (p_front, p_state) = (primary.frontend_endpoint(), primary.state_endpoint());
    let (b_front, b_state) = (backup.frontend_endpoint(), backup.state_endpoint());

    // The handler gets a request's frames and returns the reply's.
    let echo = |name: &'static str| {
        move |request: Vec<zmqx::Message>| {
            let text = String::from_utf8_lossy(&request[0]).into_owned();
            vec![zmqx::Message::from(format!("{text}, served by the {name}"))]
        }
    };
    let mut primary = primary.start(&b_state, echo("primary"))?;
    let mut backup = backup.start(&p_state, echo("backup"))?;
    primary.wait_for_state(State::Active, wait);
    backup.wait_for_state(State::Passive, wait);

    // The client: a request that gets no reply within the timeout goes to
    // the other server after the settle delay (their sum must exceed two
    // heartbeats, the time the backup needs to see the primary as gone).
    let ctx = Context::new();
    let mut client = Client::new(&ctx, &p_front, &b_front)
        .timeout(Duration::from_millis(250))
        .settle(Duration::from_millis(100));
    let show = |reply: Vec<zmqx::Message>| String::from_utf8_lossy(&reply[0]).into_owned();
    println!("client: {}", show(client.request(&["request 1"])?));

    // The primary dies; the backup stays passive until a client turns up.
    primary.stop(wait)?;
    println!("primary stopped; backup is still {}", backup.state());
    let asked = Instant::now();
    println!("client: {}", show(client.request(&["request 2"])?));
    println!("failover took {:?}", asked.elapsed());

    // The primary restarts on the same endpoints: it finds the backup
    // active and becomes passive.
    let primary = bind(Role::Primary, &p_front, &p_state)?;
    let mut primary = primary.start(&b_state, echo("primary"))?;
    primary.wait_for_state(State::Passive, wait);
    println!("restarted primary is {}", primary.state());
    println!("client: {}", show(client.request(&["request 3"])?));

    primary.stop(wait)?;
    backup.stop(wait)?;
    Ok(())
}
