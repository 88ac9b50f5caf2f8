//! `zmqx device` and `zmqx monitored-queue`: pyzmq's `ProcessDevice` (QUEUE,
//! FORWARDER, STREAMER) and `ProcessMonitoredQueue` as processes.

use zmqx::SocketType;

use crate::args::Hardening;
use crate::session::Session;
use crate::spec::{
    LooseSpec, Spec, can_recv, can_send, check_pair, parse_loose, parse_mon_spec, parse_spec,
};

/// The device kinds of `zmq_device` (pyzmq's `zmq.DeviceType`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ZMQ_QUEUE: requests and replies both ways (default ROUTER in, DEALER out).
    Queue,
    /// ZMQ_FORWARDER: publications in, out to subscribers (default SUB in,
    /// PUB out; XSUB in / XPUB out forward subscriptions upstream).
    Forwarder,
    /// ZMQ_STREAMER: a pipeline stage (default PULL in, PUSH out).
    Streamer,
}

impl Kind {
    /// The socket types pyzmq's docs give each kind.
    fn default_types(self) -> (SocketType, SocketType) {
        match self {
            Kind::Queue => (SocketType::Router, SocketType::Dealer),
            Kind::Forwarder => (SocketType::Sub, SocketType::Pub),
            Kind::Streamer => (SocketType::Pull, SocketType::Push),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Queue => "queue",
            Kind::Forwarder => "forwarder",
            Kind::Streamer => "streamer",
        }
    }

    /// Whether the in and out socket types make this kind of device.
    fn check(self, input: SocketType, output: SocketType) -> Result<(), String> {
        let both_ways = |t: SocketType| {
            can_send(t) && can_recv(t) && !matches!(t, SocketType::XPub | SocketType::XSub)
        };
        let ok = match self {
            Kind::Queue => both_ways(input) && both_ways(output),
            Kind::Forwarder => {
                matches!(input, SocketType::Sub | SocketType::XSub)
                    && matches!(output, SocketType::Pub | SocketType::XPub)
            }
            Kind::Streamer => can_recv(input) && can_send(output),
        };
        if ok {
            Ok(())
        } else {
            let want = match self {
                Kind::Queue => "sockets that send and receive (ROUTER, DEALER, PAIR, REQ, REP…)",
                Kind::Forwarder => "SUB or XSUB in, PUB or XPUB out",
                Kind::Streamer => {
                    "an in socket that receives (PULL…) and an out socket that sends (PUSH…)"
                }
            };
            Err(format!(
                "a {} device cannot join {input} in and {output} out: it needs {want}; \
                 `zmqx proxy` joins any pair",
                self.name()
            ))
        }
    }
}

#[derive(clap::Args)]
#[command(after_help = "\
A SPEC is [TYPE@][bind:|connect:]ENDPOINT; without TYPE, the device kind's \
default type. Each socket that binds prints `ROLE ENDPOINT` on stdout. SUB \
sockets subscribe to everything. Runs until SIGINT or SIGTERM.")]
pub struct DeviceArgs {
    /// The kind of device.
    #[arg(value_enum)]
    kind: Kind,
    /// The in socket (frontend): [TYPE@][bind:|connect:]ENDPOINT.
    #[arg(long = "in", value_name = "SPEC", value_parser = parse_loose)]
    input: LooseSpec,
    /// The out socket (backend): [TYPE@][bind:|connect:]ENDPOINT.
    #[arg(long = "out", value_name = "SPEC", value_parser = parse_loose)]
    output: LooseSpec,
    #[command(flatten)]
    hardening: Hardening,
}

impl DeviceArgs {
    fn specs(&self) -> (Spec, Spec) {
        let (i, o) = self.kind.default_types();
        (self.input.or_type(i), self.output.or_type(o))
    }
}

pub fn validate_device(args: &DeviceArgs) -> Result<(), String> {
    let (input, output) = args.specs();
    args.kind.check(input.kind, output.kind)
}

/// Runs the device: libzmq's proxy without capture, which is what
/// `zmq_device` is for every kind since libzmq 3.2.
pub fn run_device(session: &Session, args: DeviceArgs) -> Result<(), String> {
    let (input, output) = args.specs();
    let h = &args.hardening;
    let in_socket = session.open("in", &input, h)?;
    let out_socket = session.open("out", &output, h)?;
    zmqx::proxy(&in_socket, &out_socket, None)
        .map_err(|e| format!("{} device failed: {e}", args.kind.name()))
}

#[derive(clap::Args)]
#[command(after_help = "\
Forwards messages between the in and out sockets both ways, and sends each \
one to the monitor socket too, after a first frame saying where it came \
from (--in-prefix, --out-prefix). With ROUTER in and out, the first two \
frames (sender and destination ids) are swapped. Each socket that binds \
prints `ROLE ENDPOINT` on stdout. Runs until SIGINT or SIGTERM.")]
pub struct MonitoredQueueArgs {
    /// The in socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long = "in", value_name = "SPEC", value_parser = parse_spec)]
    input: Spec,
    /// The out socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long = "out", value_name = "SPEC", value_parser = parse_spec)]
    output: Spec,
    /// The monitor socket: [TYPE@][bind:|connect:]ENDPOINT (PUB by default).
    #[arg(long, value_name = "SPEC", value_parser = parse_mon_spec)]
    mon: Spec,
    /// First frame of the monitor's copy of a message that came in on the
    /// in socket.
    #[arg(long, value_name = "PREFIX", default_value = "in")]
    in_prefix: String,
    /// First frame of the monitor's copy of a message that came in on the
    /// out socket.
    #[arg(long, value_name = "PREFIX", default_value = "out")]
    out_prefix: String,
    #[command(flatten)]
    hardening: Hardening,
}

pub fn validate_monitored_queue(args: &MonitoredQueueArgs) -> Result<(), String> {
    check_pair("in socket", &args.input, "out socket", &args.output)
}

pub fn run_monitored_queue(session: &Session, args: MonitoredQueueArgs) -> Result<(), String> {
    let h = &args.hardening;
    let in_socket = session.open("in", &args.input, h)?;
    let out_socket = session.open("out", &args.output, h)?;
    let mon_socket = session.open("mon", &args.mon, h)?;
    zmqx::monitored_queue(
        &in_socket,
        &out_socket,
        &mon_socket,
        args.in_prefix.as_bytes(),
        args.out_prefix.as_bytes(),
    )
    .map_err(|e| format!("monitored queue failed: {e}"))
}
