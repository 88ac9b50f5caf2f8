//! `zmqx`: the ZeroMQ command-line tool of the zmqx crate.
//!
//! - `zmqx logwatch ENDPOINT`: prints log records published by a
//!   `zmqx::log::PubHandler` or pyzmq's `PUBHandler` (pyzmq's
//!   `python -m zmq.log`, same output; timestamps year-month-day).
//! - `zmqx keygen NAME`: writes a CURVE certificate pair (czmq's
//!   `zmakecert`, pyzmq's `zmq.auth.create_certificates`).
//! - `zmqx proxy --frontend SPEC --backend SPEC`: a proxy as its own
//!   process (pyzmq's `ProcessProxy`, `ProcessProxySteerable`).
//! - `zmqx device queue|forwarder|streamer --in SPEC --out SPEC`: pyzmq's
//!   `ProcessDevice`.
//! - `zmqx monitored-queue --in SPEC --out SPEC --mon SPEC`: pyzmq's
//!   `ProcessMonitoredQueue`.
//! - `zmqx monitor SPEC`: opens a socket and prints its monitor events.
//!
//! A socket SPEC is `TYPE@ENDPOINT` (binds), `TYPE@bind:ENDPOINT` or
//! `TYPE@connect:ENDPOINT`, for example `router@tcp://*:5555` or
//! `dealer@connect:tcp://127.0.0.1:5556`.
//!
//! Bad arguments exit with code 2 before any socket exists, runtime errors
//! with code 1, both with a message on stderr. SIGINT and SIGTERM end every
//! subcommand cleanly (exit code 0). Before exiting, the context is
//! terminated, so what the sockets queued is sent (within their linger).
// Doc comments of the argument types are clap's help text, where
// `[TYPE@][bind:|connect:]ENDPOINT` is syntax, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

mod args;
mod devices;
mod keygen;
mod logwatch;
mod monitor;
mod proxy;
mod session;
mod spec;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use session::Session;

#[derive(Parser)]
#[command(name = "zmqx", version, about = "ZeroMQ command-line tools (zmqx)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print log records published over PUB (pyzmq's `python -m zmq.log`).
    Logwatch(logwatch::LogwatchArgs),
    /// Write a CURVE certificate pair NAME.key and NAME.key_secret.
    Keygen(keygen::KeygenArgs),
    /// Run a proxy between two sockets until interrupted (pyzmq's
    /// ProcessProxy, ProcessProxySteerable).
    Proxy(proxy::ProxyArgs),
    /// Run a queue, forwarder or streamer device (pyzmq's ProcessDevice).
    Device(devices::DeviceArgs),
    /// Run a queue that copies every message, prefixed, to a monitor socket
    /// (pyzmq's ProcessMonitoredQueue).
    MonitoredQueue(devices::MonitoredQueueArgs),
    /// Open a socket and print its monitor events as they happen.
    Monitor(monitor::MonitorArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Logwatch(_) => "logwatch",
            Command::Keygen(_) => "keygen",
            Command::Proxy(_) => "proxy",
            Command::Device(_) => "device",
            Command::MonitoredQueue(_) => "monitored-queue",
            Command::Monitor(_) => "monitor",
        }
    }

    /// The checks clap cannot make alone (several arguments together), run
    /// before any socket exists.
    fn validate(&self) -> Result<(), String> {
        match self {
            Command::Proxy(args) => proxy::validate(args),
            Command::Device(args) => devices::validate_device(args),
            Command::MonitoredQueue(args) => devices::validate_monitored_queue(args),
            Command::Logwatch(_) | Command::Keygen(_) | Command::Monitor(_) => Ok(()),
        }
    }
}

/// Why a subcommand failed: bad arguments (exit code 2) or a failure while
/// running (exit code 1).
pub enum Failure {
    /// Bad arguments: exit code 2.
    Usage(String),
    /// A failure while running: exit code 1.
    Runtime(String),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    let name = command.name();
    let result = command
        .validate()
        .map_err(Failure::Usage)
        .and_then(|()| run(command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("zmqx {name}: error: {e}\n\nFor more information, try 'zmqx {name} --help'.");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("zmqx: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    if let Command::Keygen(args) = command {
        return keygen::run(args);
    }
    let session = Session::start().map_err(Failure::Runtime)?;
    // Each subcommand closes its sockets when it returns; `finish` then
    // waits for what they queued to leave.
    let result = match command {
        Command::Logwatch(args) => logwatch::run(&session, args),
        Command::Proxy(args) => proxy::run(&session, args),
        Command::Device(args) => devices::run_device(&session, args),
        Command::MonitoredQueue(args) => devices::run_monitored_queue(&session, args),
        Command::Monitor(args) => monitor::run(&session, args),
        Command::Keygen(_) => Ok(()),
    };
    let finished = session.finish();
    result.and(finished).map_err(Failure::Runtime)
}
