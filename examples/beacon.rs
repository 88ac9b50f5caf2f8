//! Service discovery with UDP broadcast beacons (czmq's `zbeacon` on the
//! wire): a service announces its endpoint, a client hears it and
//! connects.
//!
//!     cargo run --example beacon --features beacon            # loopback only
//!     cargo run --example beacon --features beacon -- eth0    # a real LAN
//!
//! Without an argument the beacons stay on this host (127.0.0.1, broadcast
//! to 127.255.255.255). With an interface name (or `*`, czmq's
//! `ZSYS_INTERFACE` spelling) they go to that interface's broadcast
//! address, where czmq programs on port 5670 hear them too.

use std::time::{Duration, Instant};

use zmqx::patterns::beacon::{Beacon, Interface};
use zmqx::{Context, SocketType};

const PORT: u16 = 5670;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let interface = match std::env::args().nth(1) {
        Some(name) => Interface::parse(&name),
        None => Interface::Address {
            address: "127.0.0.1".parse()?,
            broadcast: "127.255.255.255".parse()?,
        },
    };

    // The service: a REP socket on the interface's address, announced as
    // "zmqx-echo <endpoint>" twice a second.
    let ctx = Context::new();
    let service_beacon = Beacon::with_interface(PORT, &interface)?;
    let rep = ctx.socket(SocketType::Rep)?;
    let host = match service_beacon.address() {
        a if a.is_unspecified() => "127.0.0.1".to_string(),
        a => a.to_string(),
    };
    rep.bind(&format!("tcp://{host}:*"))?;
    let endpoint = rep.last_endpoint()?;

    // The client listens for "zmqx-echo " beacons before the service speaks.
    let mut client_beacon = Beacon::with_interface(PORT, &interface)?;
    client_beacon.subscribe(b"zmqx-echo ")?;
    let started = Instant::now();
    service_beacon.publish(format!("zmqx-echo {endpoint}"), Duration::from_millis(500))?;

    let heard = client_beacon
        .recv(Duration::from_secs(5))?
        .ok_or("no beacon within 5 s")?;
    let found = String::from_utf8(heard.payload)?;
    let found = found.trim_start_matches("zmqx-echo ");
    println!(
        "heard {found} from {} after {:?}",
        heard.peer,
        started.elapsed()
    );

    // Use what was discovered.
    let req = ctx.socket(SocketType::Req)?;
    req.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    req.connect(found)?;
    req.send("ping")?;
    let request = rep.recv_string()?;
    rep.send(format!("{request} -> pong"))?;
    println!("reply: {}", req.recv_string()?);

    // Stop the beacons' threads (a drop would not wait for them).
    service_beacon.stop(Duration::from_secs(1));
    client_beacon.stop(Duration::from_secs(1));
    Ok(())
}
