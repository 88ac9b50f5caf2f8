//! `zmqx monitor`: opens a socket and prints its monitor events.

use std::time::{Duration, Instant};

use zmqx::Event;
use zmqx::monitor::EventKind;

use crate::args::{Hardening, parse_seconds};
use crate::session::{Session, emit, ended, run_loop};
use crate::spec::{Spec, parse_spec};

#[derive(clap::Args)]
pub struct MonitorArgs {
    /// The socket to open and monitor: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(value_name = "SPEC", value_parser = parse_spec)]
    socket: Spec,
    /// Exit after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Exit after this many seconds (decimals allowed).
    #[arg(long, value_parser = parse_seconds)]
    timeout: Option<Duration>,
    #[command(flatten)]
    hardening: Hardening,
}

pub fn run(session: &Session, args: MonitorArgs) -> Result<(), String> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let spec = &args.socket;
    let fail = |e: zmqx::Error| format!("cannot open the {} socket: {e}", spec.kind);
    let socket = session.context().socket(spec.kind).map_err(fail)?;
    args.hardening.apply(&socket).map_err(fail)?;
    // Monitor before binding or connecting, so LISTENING/CONNECTED show.
    let monitor = socket.monitor_events(Event::ALL).map_err(fail)?;
    let r = if spec.bind {
        socket.bind(&spec.endpoint).map(drop)
    } else {
        socket.connect(&spec.endpoint)
    };
    r.map_err(|e| {
        let verb = if spec.bind { "bind" } else { "connect" };
        format!(
            "cannot {verb} {} to {}: {}",
            spec.kind,
            spec.endpoint,
            e.root()
        )
    })?;
    let mut seen = 0u64;
    let mut broken = None;
    let result = run_loop(deadline, |left| {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(false);
        }
        match monitor.next_event(left)? {
            Some(event) => {
                if let Err(e) = emit(&event.to_string()) {
                    broken = Some(e);
                    return Ok(false);
                }
                seen += 1;
                Ok(event.kind != EventKind::MonitorStopped)
            }
            None => Ok(!monitor.is_stopped()),
        }
    });
    ended(result, broken)
}
