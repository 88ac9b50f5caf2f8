//! Majordomo, MDP/0.2 (ZeroMQ RFC 18/MDP, with 8/MMI's `mmi.service`): a
//! [`Broker`] routing requests by service name to [`Worker`]s, and the
//! [`Client`] asking it; with the `tokio` feature (on by default) also
//! [`AsyncClient`] and [`AsyncWorker`], which behave alike and interoperate
//! with the blocking types, and [`Broker::run_async`], the same broker as a
//! future on tokio.
//!
//! There is no counterpart in pyzmq or libzmq; the Python counterpart is
//! majortomo 0.2 (`majortomo.Broker`, `Client`, `Worker`), which the
//! interop tests run against these types in both directions.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::Context;
//! use zmqx::patterns::mdp::{Broker, Client, Worker};
//!
//! fn main() -> Result<(), zmqx::patterns::mdp::Error> {
//!     let ctx = Context::new();
//!     let broker = Broker::new(&ctx)?;
//!     let endpoint = broker.bind("tcp://127.0.0.1:*")?;
//!     let broker = broker.spawn()?;
//!
//!     let mut worker = Worker::connect(&ctx, &endpoint, "echo")?;
//!     let mut client = Client::connect(&ctx, &endpoint)?;
//!     let served = std::thread::spawn(move || -> Result<(), zmqx::patterns::mdp::Error> {
//!         let request = worker.recv(Some(Duration::from_secs(5)))?.expect("a request");
//!         let body = request.body().to_vec();
//!         worker.reply(&request, body)
//!     });
//!     let reply = client.request("echo", ["hello"])?;
//!     assert_eq!(reply.body()[0], "hello");
//!     served.join().unwrap()?;
//!     assert!(broker.stop(Duration::from_secs(5))?);
//!     Ok(())
//! }
//! ```
//!
//! ## The protocol in one screen
//!
//! - Clients (DEALER) send `REQUEST service body…`; the broker answers with
//!   zero or more `PARTIAL` and one `FINAL`, in the order the worker sent
//!   them. One request at a time per client, as the RFC says.
//! - Workers (DEALER) send `READY service` once, then get `REQUEST client ""
//!   body…` and answer `PARTIAL`/`FINAL client "" body…`. Both sides send
//!   `HEARTBEAT` when idle; a peer silent for `liveness × interval` is dead.
//!   `DISCONNECT` from the broker makes the worker open a new socket and
//!   register again (that is how workers come back after a broker restart).
//! - The broker (one ROUTER socket for both) queues requests per service and
//!   hands them to the least recently used idle worker. A request for a
//!   service nobody offers waits [`BrokerOptions::request_ttl`] for a worker
//!   and is then dropped. `mmi.service` answers `200` when the service has
//!   workers, `404` when not; any other `mmi.` service answers `501`.
//!
//! ## Delivery: at least once
//!
//! Nothing is acknowledged end to end, so a request may be carried out more
//! than once and MDP assumes workers are idempotent:
//!
//! - A [`Client`] that gets no `FINAL` within its timeout closes its socket,
//!   opens a new one and sends the request again, up to its attempts
//!   (`Error::Timeout` then). A reply to the abandoned socket is lost with
//!   it, so a reply is never confused with the one of another request.
//! - The broker gives the request of a worker that dies (heartbeat expiry,
//!   `DISCONNECT`, an unexpected command) to the next worker of the service.
//!
//! A worker that is killed while it holds a request therefore costs that
//! request one client timeout; nothing is lost while the client has attempts
//! left.
//!
//! ## Framing: the RFC and what peers send
//!
//! RFC 18 removed the empty frame that MDP/0.1 put before the protocol
//! header, numbers the client commands `REQUEST` 0x01, `PARTIAL` 0x02,
//! `FINAL` 0x03, and puts the service name in replies to clients.
//! Implementations differ: majortomo 0.2 (like the zguide's and libmdp's
//! code) keeps the empty frame, and its broker and client number the client
//! commands like the worker ones (0x02, 0x03, 0x04) and leave the service
//! name out of replies. So:
//!
//! - The [`Broker`] reads commands with or without the empty frame and
//!   answers every peer the way it spoke: a client whose `REQUEST` is 0x01
//!   gets RFC replies, one whose `REQUEST` is 0x02 (a command no RFC client
//!   sends) gets majortomo's.
//! - [`Client`] and [`Worker`] send what their [`Framing`] says
//!   ([`Framing::Rfc`] by default; [`Framing::Majortomo`] to talk to a
//!   majortomo broker) and accept the empty frame either way.
//!
//! ## Bad input
//!
//! A malformed message from a peer (a wrong header, an unknown command, a
//! missing frame) never panics nor ends a loop: it is dropped and counted
//! ([`BrokerStats::malformed`], [`Client::malformed`],
//! [`Worker::malformed`]); the broker also remembers the last reason
//! ([`BrokerStats::last_malformed`]) and answers a worker that sent a valid
//! but unexpected command with `DISCONNECT`, as the RFC says.
#![forbid(unsafe_code)]

#[cfg(feature = "tokio")]
mod asynchronous;
mod broker;
mod client;
mod error;
mod worker;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use asynchronous::{AsyncClient, AsyncWorker};
pub use broker::{Broker, BrokerOptions, BrokerStats, BrokerThread, Stopper};
pub use client::{Client, ClientOptions, Reply};
pub use error::{Error, Result};
pub use worker::{Request, Worker, WorkerOptions};

use crate::message::Message;

/// The client protocol header, `MDPC02`.
pub const CLIENT_HEADER: &[u8] = b"MDPC02";
/// The worker protocol header, `MDPW02`.
pub const WORKER_HEADER: &[u8] = b"MDPW02";

// Client commands (RFC 18; majortomo numbers them like the worker's:
// see `Framing`).
const C_REQUEST: u8 = 0x01;
const C_PARTIAL: u8 = 0x02;
const C_FINAL: u8 = 0x03;

// Worker commands.
const W_READY: u8 = 0x01;
const W_REQUEST: u8 = 0x02;
const W_PARTIAL: u8 = 0x03;
const W_FINAL: u8 = 0x04;
const W_HEARTBEAT: u8 = 0x05;
const W_DISCONNECT: u8 = 0x06;

/// How MDP commands look on the wire (see the
/// [module docs](self#framing-the-rfc-and-what-peers-send)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Framing {
    /// RFC 18 as written: no empty frame before the protocol header, and
    /// replies to clients carry the service name after the command.
    #[default]
    Rfc,
    /// majortomo 0.2's format: an empty frame before the protocol header of
    /// every command; client commands numbered like the worker's
    /// (`REQUEST` 0x02, `PARTIAL` 0x03, `FINAL` 0x04 instead of 0x01,
    /// 0x02, 0x03); replies to clients without the service name.
    Majortomo,
}

impl Framing {
    /// Whether commands start with an empty frame.
    pub fn delimiter(self) -> bool {
        matches!(self, Framing::Majortomo)
    }

    /// Whether `PARTIAL`/`FINAL` to a client carry the service name.
    pub fn reply_service(self) -> bool {
        matches!(self, Framing::Rfc)
    }

    /// The client commands `REQUEST`, `PARTIAL` and `FINAL` in this framing.
    fn client_codes(self) -> [u8; 3] {
        match self {
            Framing::Rfc => [C_REQUEST, C_PARTIAL, C_FINAL],
            Framing::Majortomo => [W_REQUEST, W_PARTIAL, W_FINAL],
        }
    }
}

/// One parsed command: which header, which command byte, whether it came
/// behind an empty frame, and the index of its first frame after the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Command {
    worker: bool,
    command: u8,
    delimiter: bool,
    rest: usize,
}

/// Reads the protocol header and command of `frames` (without any routing
/// id). The reason is for counters and logs.
fn parse(frames: &[Message]) -> Result<Command, String> {
    let mut i = 0;
    let delimiter = frames.first().is_some_and(|f| f.as_bytes().is_empty());
    if delimiter {
        i = 1;
    }
    let Some(header) = frames.get(i) else {
        return Err(format!("{} frames, no protocol header", frames.len()));
    };
    let worker = match header.as_bytes() {
        h if h == WORKER_HEADER => true,
        h if h == CLIENT_HEADER => false,
        h => {
            return Err(format!(
                "unknown protocol header {:?}",
                String::from_utf8_lossy(h)
            ));
        }
    };
    let Some(command) = frames.get(i + 1) else {
        return Err("no command frame".into());
    };
    let command = match command.as_bytes() {
        [c] => *c,
        c => return Err(format!("a command frame of {} bytes", c.len())),
    };
    Ok(Command {
        worker,
        command,
        delimiter,
        rest: i + 2,
    })
}

/// Counts and describes a malformed message (and logs it with the `log`
/// feature).
fn report_malformed(who: &str, reason: &str) {
    #[cfg(feature = "log")]
    ::log::warn!(target: "zmqx::mdp", "{who}: dropped a malformed message: {reason}");
    #[cfg(not(feature = "log"))]
    let _ = (who, reason);
}

/// A service name must be non-empty.
fn check_service(service: &[u8]) -> crate::Result<()> {
    if service.is_empty() {
        return Err(crate::Error::invalid(
            "service name",
            "it is empty; MDP names a service with a non-empty string",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&[u8]]) -> Vec<Message> {
        parts.iter().map(|p| Message::from(*p)).collect()
    }

    #[test]
    fn parses_both_framings() {
        let c = parse(&frames(&[b"MDPC02", &[1], b"echo", b"x"])).unwrap();
        assert_eq!(
            (c.worker, c.command, c.delimiter, c.rest),
            (false, 1, false, 2)
        );
        let c = parse(&frames(&[b"", b"MDPW02", &[5]])).unwrap();
        assert_eq!(
            (c.worker, c.command, c.delimiter, c.rest),
            (true, 5, true, 3)
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(&[]).is_err());
        assert!(parse(&frames(&[b""])).is_err());
        assert!(parse(&frames(&[b"MDPC01", &[1]])).is_err());
        assert!(parse(&frames(&[b"MDPC02"])).is_err());
        assert!(parse(&frames(&[b"MDPC02", b"\x01\x02"])).is_err());
        assert!(parse(&frames(&[b"MDPW02", b""])).is_err());
    }

    #[test]
    fn empty_service_is_invalid() {
        assert!(matches!(
            check_service(b""),
            Err(crate::Error::InvalidInput { .. })
        ));
        assert!(check_service(b"echo").is_ok());
    }
}
