//! `zmqx proxy`: a proxy as its own process (pyzmq's `ProcessProxy` and
//! `ProcessProxySteerable`).

use crate::args::Hardening;
use crate::session::Session;
use crate::spec::{Spec, check_pair, parse_control_spec, parse_sending_spec, parse_spec};

#[derive(clap::Args)]
#[command(after_help = "\
A socket SPEC is TYPE@ENDPOINT (binds), TYPE@bind:ENDPOINT or \
TYPE@connect:ENDPOINT. Each socket that binds prints `ROLE ENDPOINT` on \
stdout (the port chosen for `*`). SUB sockets subscribe to everything. \
The proxy runs until TERMINATE on the control socket, SIGINT or SIGTERM; \
what it queued is sent before it exits (each socket's linger: 1 s).")]
pub struct ProxyArgs {
    /// Frontend socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long, value_name = "SPEC", value_parser = parse_spec)]
    frontend: Spec,
    /// Backend socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long, value_name = "SPEC", value_parser = parse_spec)]
    backend: Spec,
    /// Capture socket receiving a copy of every message (PUB, PUSH…).
    #[arg(long, value_name = "SPEC", value_parser = parse_sending_spec)]
    capture: Option<Spec>,
    /// Control socket (REP, PAIR, ROUTER, DEALER, PULL or SUB) taking PAUSE,
    /// RESUME, TERMINATE and STATISTICS.
    #[arg(long, value_name = "SPEC", value_parser = parse_control_spec)]
    control: Option<Spec>,
    #[command(flatten)]
    hardening: Hardening,
}

/// The checks that need more than one argument.
pub fn validate(args: &ProxyArgs) -> Result<(), String> {
    check_pair("frontend", &args.frontend, "backend", &args.backend)
}

pub fn run(session: &Session, args: ProxyArgs) -> Result<(), String> {
    let h = &args.hardening;
    let frontend = session.open("frontend", &args.frontend, h)?;
    let backend = session.open("backend", &args.backend, h)?;
    let capture = args
        .capture
        .as_ref()
        .map(|s| session.open("capture", s, h))
        .transpose()?;
    let control = args
        .control
        .as_ref()
        .map(|s| session.open("control", s, h))
        .transpose()?;
    let r = match &control {
        Some(control) => {
            zmqx::proxy_steerable(&frontend, &backend, capture.as_ref(), Some(control))
        }
        None => zmqx::proxy(&frontend, &backend, capture.as_ref()),
    };
    r.map_err(|e| format!("proxy failed: {e}"))
}
