//! The device thread: it creates the sockets, carries out configuration
//! commands one at a time, runs the proxy loop, and reports how it ended.

use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use super::error::{Error, Result};
use super::{Kind, Side};
use crate::constants::SocketType;
use crate::context::Context;
use crate::error::panic_message;
use crate::options::{OptionValue, SocketOption};
use crate::proxy::{Relay, Tap};
use crate::socket::Socket;

/// A configuration closure run in the device thread.
pub(super) type Setup = Box<dyn FnOnce(&Socket) -> crate::Result<()> + Send>;

/// One configuration call.
pub(super) enum Op {
    Bind(String),
    Connect(String),
    Set(SocketOption, OptionValue),
    BindRandom {
        addr: String,
        ports: Range<u16>,
        max_tries: u32,
    },
    BindAny(String),
    Configure(Setup),
}

pub(super) enum Command {
    Op(Side, Op),
    Start,
}

pub(super) enum Answer {
    Done,
    Endpoint(String),
    Port(u16),
    /// The owner's end of the internal stop pair.
    Started(Socket),
}

/// What the thread is built from.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) kind: Kind,
    /// The socket types by [`Side::index`]; no out type: the in socket
    /// serves both sides.
    pub(super) types: [Option<SocketType>; 4],
}

/// Objects the owner leaves to the thread as it is dropped, so that the
/// thread, not the owner's drop, releases the last handle of the context
/// (and waits out the sockets' linger there). `None` once the thread is
/// ending: the owner then keeps what it has.
pub(super) type Handoff = Arc<Mutex<Option<Vec<Box<dyn Send>>>>>;

/// The channels between the owner and the thread.
pub(super) struct Channels {
    pub(super) commands: Receiver<Command>,
    pub(super) answers: Sender<Result<Answer>>,
    pub(super) done: Sender<Result<()>>,
    pub(super) handoff: Handoff,
}

/// The device thread's sockets, by [`Side::index`].
struct Sockets([Option<Socket>; 4]);

impl Sockets {
    fn create(ctx: &Context, spec: &Spec) -> crate::Result<Sockets> {
        let mut sockets = [None, None, None, None];
        for (slot, kind) in sockets.iter_mut().zip(spec.types) {
            *slot = kind.map(|k| ctx.socket(k)).transpose()?;
        }
        Ok(Sockets(sockets))
    }

    /// The socket of a side; a single-socket device's out side is its in
    /// socket (as in pyzmq). The owner checks the side exists.
    fn get(&self, side: Side) -> crate::Result<&Socket> {
        let index = match (side, &self.0[Side::Out.index()]) {
            (Side::Out, None) => Side::In.index(),
            _ => side.index(),
        };
        self.0[index]
            .as_ref()
            .ok_or_else(|| crate::Error::invalid(side.to_string(), "the device has no such socket"))
    }

    fn apply(&self, side: Side, op: Op) -> Result<Answer> {
        let socket = self.get(side)?;
        let answer = match op {
            Op::Bind(endpoint) => {
                socket.bind(&endpoint)?;
                Answer::Endpoint(socket.last_endpoint()?)
            }
            Op::Connect(endpoint) => {
                socket.connect(&endpoint)?;
                Answer::Done
            }
            Op::Set(option, value) => {
                socket.set(option, value)?;
                Answer::Done
            }
            Op::BindRandom {
                addr,
                ports,
                max_tries,
            } => Answer::Port(socket.bind_to_random_port(&addr, ports, max_tries)?),
            Op::BindAny(addr) => Answer::Port(socket.bind_to_any_port(&addr)?),
            Op::Configure(setup) => {
                // A panicking closure is reported, and the device lives on.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| setup(socket))).map_err(
                    |payload| Error::Panicked {
                        message: panic_message(payload.as_ref()),
                    },
                )??;
                Answer::Done
            }
        };
        Ok(answer)
    }

    /// The loop's configuration.
    fn relay<'a>(&'a self, kind: &Kind, stop: Option<&'a Socket>) -> crate::Result<Relay<'a>> {
        let front = self.get(Side::In)?;
        let back = self.get(Side::Out)?;
        let capture = self.0[Side::Capture.index()].as_ref();
        let control = self.0[Side::Control.index()].as_ref();
        let mut relay = match (kind, capture) {
            (
                Kind::MonitoredQueue {
                    in_prefix,
                    out_prefix,
                },
                Some(capture),
            ) => Relay::monitored_queue(front, back, capture, in_prefix, out_prefix)?,
            _ => Relay {
                frontend: front,
                backend: back,
                tap: capture.map_or(Tap::None, Tap::Copy),
                swap_ids: false,
                control: None,
                stop: None,
            },
        };
        relay.control = control;
        relay.stop = stop;
        Ok(relay)
    }
}

/// The device thread: creates the sockets, serves configuration commands
/// until `Start`, runs the loop and reports how it ended (exactly once on
/// `done`, unless it panics).
pub(super) fn run(ctx: Context, spec: Spec, channels: Channels) {
    let Channels {
        commands,
        answers,
        done,
        handoff,
    } = channels;
    let result = serve(&ctx, &spec, &commands, &answers);
    // Whatever the owner left behind as it was dropped is released here, on
    // this thread; from now on the owner keeps (and releases) its own.
    let parked = handoff.lock().unwrap_or_else(|e| e.into_inner()).take();
    let _ = done.send(result);
    drop(parked);
    // `ctx` goes last: if it is the context's last handle, terminating it
    // (which waits out the linger of the sockets just closed) happens here.
}

/// Everything but the final report; every socket is closed on return.
fn serve(
    ctx: &Context,
    spec: &Spec,
    commands: &Receiver<Command>,
    answers: &Sender<Result<Answer>>,
) -> Result<()> {
    let sockets = match Sockets::create(ctx, spec) {
        Ok(s) => s,
        Err(e) => {
            let _ = answers.send(Err(e.into()));
            return Ok(());
        }
    };
    if answers.send(Ok(Answer::Done)).is_err() {
        return Ok(());
    }
    let stop = loop {
        match commands.recv() {
            Ok(Command::Op(side, op)) => {
                if answers.send(sockets.apply(side, op)).is_err() {
                    return Ok(());
                }
            }
            Ok(Command::Start) => {
                let prepared = sockets
                    .relay(&spec.kind, None)
                    .and_then(|relay| relay.check())
                    .and_then(|()| ctx.stop_pair("device"));
                match prepared {
                    Ok((rx, tx)) => {
                        if answers.send(Ok(Answer::Started(tx))).is_err() {
                            return Ok(());
                        }
                        break rx;
                    }
                    // The device stays configurable.
                    Err(e) => {
                        if answers.send(Err(e.into())).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            // The owner stopped or dropped the device before starting it.
            Err(_) => return Ok(()),
        }
    };
    let result = sockets.relay(&spec.kind, Some(&stop)).and_then(Relay::run);
    Ok(result?)
}
