//! A proxy, queue or monitored queue in a background thread: [`Device`]
//! (pyzmq's `zmq.devices`: `ThreadDevice`, `ThreadProxy`,
//! `ThreadProxySteerable` and `ThreadMonitoredQueue` in one type).
//!
//! You give socket types, not sockets: the device creates its sockets in its
//! own thread, and [`bind`](Device::bind), [`connect`](Device::connect),
//! [`set`](Device::set) and [`configure`](Device::configure) configure them
//! there, the socket being named by its [`Side`].
//!
//! ```
//! use std::time::Duration;
//! use zmqx::devices::{Device, Kind, Side};
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut device = Device::builder(Kind::Proxy, SocketType::Pull, SocketType::Push)
//!         .capture(SocketType::Pub)
//!         .spawn()?;
//!     let port_in = device.bind_to_any_port(Side::In, "tcp://127.0.0.1")?;
//!     let out = device.bind(Side::Out, "tcp://127.0.0.1:*")?;
//!     device.start()?;
//!
//!     let ctx = Context::new();
//!     let push = ctx.socket(SocketType::Push)?;
//!     push.connect(&format!("tcp://127.0.0.1:{port_in}"))?;
//!     let pull = ctx.socket(SocketType::Pull)?;
//!     pull.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     pull.connect(&out)?;
//!     push.send("hello")?;
//!     assert_eq!(pull.recv_string()?, "hello");
//!
//!     assert!(device.stop(Duration::from_secs(5))?, "the device ended");
//!     Ok(())
//! }
//! ```
//!
//! ## Kinds and sides
//!
//! | [`Kind`] | the loop | pyzmq |
//! |---|---|---|
//! | [`Proxy`](Kind::Proxy) | forwards both ways; [`Side::Capture`] gets a copy of every part | `ThreadProxy` |
//! | [`Queue`](Kind::Queue), [`Forwarder`](Kind::Forwarder), [`Streamer`](Kind::Streamer) | the same (libzmq ≥ 3.2 runs every device type as a proxy) | `ThreadDevice(zmq.QUEUE…)` |
//! | [`MonitoredQueue`](Kind::MonitoredQueue) | forwards both ways; [`Side::Capture`] (required) gets each message behind a prefix frame naming its direction | `ThreadMonitoredQueue` |
//!
//! Any kind takes a [`Side::Control`] socket ([`Builder::control`]), which
//! makes it steerable (pyzmq's `ThreadProxySteerable`): `PAUSE`, `RESUME`,
//! `TERMINATE` and `STATISTICS`, with the semantics of
//! [`proxy_steerable`](crate::proxy_steerable).
//!
//! A device built without an out type (pyzmq's `out_type=-1`) has one socket
//! serving both sides: [`Side::Out`] then names the in socket, and a `REP`
//! device echoes every request.
//!
//! pyzmq's methods map to one call with a side:
//!
//! | pyzmq | zmqx |
//! |---|---|
//! | `bind_in(addr)`, `bind_out`, `bind_mon`, `bind_ctrl` | [`bind(Side::In, addr)`](Device::bind), `Side::Out`, `Side::Capture`, `Side::Control` |
//! | `connect_in(addr)`… | [`connect(Side::In, addr)`](Device::connect)… |
//! | `bind_in_to_random_port(addr)`… | [`bind_to_any_port(Side::In, addr)`](Device::bind_to_any_port) (the OS picks) or [`bind_to_random_port(Side::In, addr, ports, max_tries)`](Device::bind_to_random_port) |
//! | `setsockopt_in(opt, value)`… | [`set(Side::In, option, value)`](Device::set), or [`configure(Side::In, \|s\| s.set_sndhwm(10))`](Device::configure) with the typed setters |
//! | `start()`, `join(timeout)` | [`start()`](Device::start), [`join(timeout)`](Device::join) |
//! | `device_type`, `in_type`, `out_type`, `mon_type`, `ctrl_type` | [`kind()`](Device::kind), [`socket_type(side)`](Device::socket_type) |
//! | `ProcessDevice`… | none: run a device in another process with the `zmqx proxy` command of `zmqx-cli`, or spawn your own binary |
//!
//! ## How configuration works
//!
//! Creating a device starts its thread, which creates the sockets and then
//! carries out each configuration call **at once**, in call order, returning
//! its result to the caller: a bad endpoint or a port in use is an error of
//! `bind` itself, not a surprise at `start`. That is also how
//! [`bind_to_any_port`](Device::bind_to_any_port) returns the real port
//! before `start` without any race: the socket really is bound (pyzmq
//! reserves a port with a throwaway socket and binds it again later, which
//! another process can steal in between). Options set after a
//! `bind`/`connect` apply to later connections only, as with any socket.
//!
//! [`start`](Device::start) runs the device loop; afterwards the
//! configuration methods fail with [`zmqx::Error::InvalidInput`](crate::Error::InvalidInput).
//!
//! ## Ending a device
//!
//! - [`stop(timeout)`](Device::stop) asks the loop to end (through an
//!   internal `inproc` socket, so it works with a shared context too) and
//!   waits for the thread at most `timeout`; it reports how the device ended.
//! - [`join(timeout)`](Device::join) only waits: for `TERMINATE` on the
//!   control socket, for an error, or for the context's end
//!   ([`context`](Device::context)`().shutdown()` ends the device cleanly).
//! - Dropping the device asks the loop to end and returns at once, without
//!   waiting for the thread: the loop reacts at its next poll (it polls the
//!   stop socket wherever it waits), closes the sockets and the thread ends
//!   by itself. If the dropped device had the last handle of its context,
//!   the thread (not your drop) terminates it, which waits for messages
//!   still queued in the device's sockets at most their linger
//!   ([`DEFAULT_LINGER`](crate::DEFAULT_LINGER) unless you set one).
//!
//! An error inside the device thread (a failing send, a bad control socket
//! type at `start`) comes back from `stop`/`join`, a panic as
//! [`Error::Panicked`].
//!
//! All kinds run zmqx's Rust proxy loop (the one of
//! [`proxy_steerable`](crate::proxy_steerable)), which can be stopped;
//! libzmq's `zmq_proxy` can only be ended by terminating its context.
//!
//! ## Contexts
//!
//! A device has a context of its own unless you give it yours with
//! [`Builder::context`], which `inproc://` endpoints shared with your
//! sockets need.
//!
//! ## Differences from pyzmq
//!
//! - One type with sides instead of four types with suffixed methods (see
//!   the table above); no `ProcessDevice` family.
//! - There is no `daemon` flag: dropping the device stops it.
//! - `bind` returns the endpoint actually bound.
//! - A port range is a `Range` argument to `bind_to_random_port(side, addr,
//!   ports, max_tries)` instead of `min_port`/`max_port`/`max_tries` keywords.
#![forbid(unsafe_code)]

mod error;
mod worker;

use std::ops::Range;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use error::{Error, Result};

use crate::constants::{DeviceType, SocketType};
use crate::context::Context;
use crate::error::panic_message;
use crate::options::{OptionValue, SocketOption};
use crate::socket::Socket;
use worker::{Answer, Channels, Command, Handoff, Op, Spec};

/// One of a device's sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The in socket (the proxy's frontend; pyzmq's `_in` methods).
    In,
    /// The out socket (the backend; pyzmq's `_out`). On a device without an
    /// out type, the in socket.
    Out,
    /// The capture socket: a copy of every part forwarded
    /// (`zmq_proxy`'s capture), or each message behind its direction's
    /// prefix for a [`Kind::MonitoredQueue`] (pyzmq's `_mon` methods).
    Capture,
    /// The control socket of a steerable device (pyzmq's `_ctrl`).
    Control,
}

impl Side {
    /// Every side, in index order.
    pub const ALL: [Side; 4] = [Side::In, Side::Out, Side::Capture, Side::Control];

    fn index(self) -> usize {
        self as usize
    }

    /// The side's name: `"in"`, `"out"`, `"capture"`, `"control"`.
    pub fn name(self) -> &'static str {
        match self {
            Side::In => "in",
            Side::Out => "out",
            Side::Capture => "capture",
            Side::Control => "control",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the device's {} socket", self.name())
    }
}

/// What a device's loop does with the messages (see the
/// [module docs](self#kinds-and-sides)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `zmq_proxy`: forwards between the in and out sockets both ways; the
    /// capture socket, if any, gets a copy of every part (pyzmq's
    /// `ThreadProxy`, whose monitor socket is the capture).
    Proxy,
    /// pyzmq's `ThreadDevice(zmq.QUEUE, …)`: a [`Proxy`](Kind::Proxy) (the
    /// type only tells what the device is for).
    Queue,
    /// pyzmq's `ThreadDevice(zmq.FORWARDER, …)`: a [`Proxy`](Kind::Proxy).
    Forwarder,
    /// pyzmq's `ThreadDevice(zmq.STREAMER, …)`: a [`Proxy`](Kind::Proxy).
    Streamer,
    /// [`monitored_queue`](crate::monitored_queue) (pyzmq's
    /// `ThreadMonitoredQueue`): forwards both ways and sends every message
    /// to the capture socket (required) behind a first frame naming its
    /// direction: `in_prefix` for messages that came in on the in socket,
    /// `out_prefix` for the others (pyzmq's defaults: `b"in"`, `b"out"`).
    /// With `ROUTER` on both sides the routing ids are swapped.
    MonitoredQueue {
        /// The prefix of messages from the in socket.
        in_prefix: Vec<u8>,
        /// The prefix of messages from the out socket.
        out_prefix: Vec<u8>,
    },
}

impl Kind {
    /// [`Kind::MonitoredQueue`] with these prefixes.
    pub fn monitored_queue(in_prefix: impl Into<Vec<u8>>, out_prefix: impl Into<Vec<u8>>) -> Kind {
        Kind::MonitoredQueue {
            in_prefix: in_prefix.into(),
            out_prefix: out_prefix.into(),
        }
    }

    /// The libzmq device type of `Queue`, `Forwarder` and `Streamer`
    /// (pyzmq's `device_type`).
    pub fn device_type(&self) -> Option<DeviceType> {
        match self {
            Kind::Queue => Some(DeviceType::Queue),
            Kind::Forwarder => Some(DeviceType::Forwarder),
            Kind::Streamer => Some(DeviceType::Streamer),
            Kind::Proxy | Kind::MonitoredQueue { .. } => None,
        }
    }
}

impl From<DeviceType> for Kind {
    fn from(t: DeviceType) -> Kind {
        match t {
            DeviceType::Queue => Kind::Queue,
            DeviceType::Forwarder => Kind::Forwarder,
            DeviceType::Streamer => Kind::Streamer,
        }
    }
}

/// Describes a [`Device`] before its thread starts: its kind, socket types
/// and context. Made by [`Device::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `spawn`"]
pub struct Builder {
    spec: Spec,
    context: Option<Context>,
}

impl Builder {
    /// Adds a capture socket of type `kind` ([`Side::Capture`]; pyzmq's
    /// `mon_type`, often `PUB`). A [`Kind::MonitoredQueue`] needs one.
    pub fn capture(mut self, kind: SocketType) -> Builder {
        self.spec.types[Side::Capture.index()] = Some(kind);
        self
    }

    /// Adds a control socket of type `kind` ([`Side::Control`]; pyzmq's
    /// `ctrl_type`): the device is then steerable. It must be able to
    /// receive (`REP`, `PAIR`, `ROUTER`, `DEALER`, `PULL`, `SUB`);
    /// [`Device::start`] checks it.
    pub fn control(mut self, kind: SocketType) -> Builder {
        self.spec.types[Side::Control.index()] = Some(kind);
        self
    }

    /// Creates the sockets in `ctx` instead of a context of the device's
    /// own (for `inproc://` peers).
    pub fn context(mut self, ctx: &Context) -> Builder {
        self.context = Some(ctx.clone());
        self
    }

    /// Starts the device thread, which creates the sockets now; the device
    /// loop runs from [`Device::start`] on.
    ///
    /// # Errors
    ///
    /// A [`Kind::MonitoredQueue`] without a capture socket or without an
    /// out socket is an [`InvalidInput`](crate::Error::InvalidInput); so
    /// are the context's errors (too many sockets…) and a thread that
    /// cannot be spawned.
    pub fn spawn(self) -> Result<Device> {
        Device::spawn(self.context, self.spec)
    }
}

/// The owner's view of the thread.
#[derive(Debug)]
enum Phase {
    Configuring {
        commands: Sender<Command>,
        answers: Receiver<Result<Answer>>,
    },
    Running {
        /// The owner's end of the stop pair.
        stop: Socket,
    },
    /// Asked to end; the thread's report is not read yet.
    Ending {
        /// Whether the loop had started.
        started: bool,
    },
    Finished,
}

/// A device in a background thread (pyzmq's `ThreadDevice`, `ThreadProxy`,
/// `ThreadProxySteerable` and `ThreadMonitoredQueue`): see the
/// [module docs](self) for kinds, sides, configuration and how it ends.
///
/// A device with a control socket, steered with `TERMINATE`:
///
/// ```
/// use std::time::Duration;
/// use zmqx::devices::{Device, Kind, Side};
/// use zmqx::{Context, SocketType};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let ctx = Context::new();
///     let mut device = Device::builder(Kind::Queue, SocketType::Router, SocketType::Dealer)
///         .control(SocketType::Pair)
///         .context(&ctx)
///         .spawn()?;
///     device.bind(Side::In, "inproc://doc-frontend")?;
///     device.bind(Side::Out, "inproc://doc-backend")?;
///     device.bind(Side::Control, "inproc://doc-control")?;
///     device.start()?;
///
///     let control = ctx.socket(SocketType::Pair)?;
///     control.connect("inproc://doc-control")?;
///     control.send("TERMINATE")?;
///     assert!(device.join(Some(Duration::from_secs(5)))?);
///     Ok(())
/// }
/// ```
pub struct Device {
    kind: Kind,
    types: [Option<SocketType>; 4],
    /// `None` only while dropping.
    ctx: Option<Context>,
    phase: Phase,
    /// The thread's result, sent once as it ends.
    done: Receiver<Result<()>>,
    thread: Option<JoinHandle<()>>,
    handoff: Handoff,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("kind", &self.kind)
            .field("types", &self.types)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Describes a device of `kind` between an in socket of `in_type` and
    /// an out socket of `out_type` (`None`: the in socket serves both
    /// sides); add a capture or control socket or a context, then
    /// [`spawn`](Builder::spawn) it.
    pub fn builder(
        kind: Kind,
        in_type: SocketType,
        out_type: impl Into<Option<SocketType>>,
    ) -> Builder {
        Builder {
            spec: Spec {
                kind,
                types: [Some(in_type), out_type.into(), None, None],
            },
            context: None,
        }
    }

    /// A device with its own context and no capture or control socket:
    /// `Device::builder(kind, in_type, out_type).spawn()`.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`].
    pub fn new(
        kind: Kind,
        in_type: SocketType,
        out_type: impl Into<Option<SocketType>>,
    ) -> Result<Device> {
        Device::builder(kind, in_type, out_type).spawn()
    }

    fn spawn(ctx: Option<Context>, spec: Spec) -> Result<Device> {
        if let Kind::MonitoredQueue { .. } = spec.kind {
            for side in [Side::Out, Side::Capture] {
                if spec.types[side.index()].is_none() {
                    return Err(crate::Error::invalid(
                        "Kind::MonitoredQueue",
                        format!("a monitored queue needs {side}"),
                    )
                    .into());
                }
            }
        }
        let ctx = match ctx {
            Some(c) => c,
            None => Context::try_new()?,
        };
        let (commands, command_rx) = mpsc::channel();
        let (answer_tx, answers) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let handoff: Handoff = Arc::new(Mutex::new(Some(Vec::new())));
        let channels = Channels {
            commands: command_rx,
            answers: answer_tx,
            done: done_tx,
            handoff: handoff.clone(),
        };
        let thread_ctx = ctx.clone();
        let thread_spec = spec.clone();
        let thread = std::thread::Builder::new()
            .name("zmqx-device".into())
            .spawn(move || worker::run(thread_ctx, thread_spec, channels))
            .map_err(|e| {
                crate::Error::invalid("Device::spawn", format!("cannot spawn the thread: {e}"))
            })?;
        let mut device = Device {
            kind: spec.kind,
            types: spec.types,
            ctx: Some(ctx),
            phase: Phase::Configuring { commands, answers },
            done,
            thread: Some(thread),
            handoff,
        };
        // The thread first reports whether it could create the sockets.
        let created = match &device.phase {
            Phase::Configuring { answers, .. } => answers.recv(),
            _ => unreachable!("a new device is configuring"),
        };
        match created {
            Ok(Ok(_)) => Ok(device),
            Ok(Err(e)) => {
                // The thread has closed what it created and is ending.
                device.phase = Phase::Finished;
                Err(e)
            }
            Err(_) => Err(device.thread_gone()),
        }
    }

    /// The device's kind.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The type of the socket of `side` (pyzmq's `in_type`, `out_type`,
    /// `mon_type`, `ctrl_type`); `None` when the device has no such socket
    /// (for [`Side::Out`]: the in socket serves both sides).
    pub fn socket_type(&self, side: Side) -> Option<SocketType> {
        self.types[side.index()]
    }

    /// The device's context: its own, or the one given to
    /// [`Builder::context`]. Shutting it down ends the device too.
    pub fn context(&self) -> &Context {
        // Taken out only in `drop`.
        self.ctx
            .as_ref()
            .expect("the context is present until drop")
    }

    /// Whether [`start`](Self::start) succeeded and the end has not been
    /// seen yet by [`join`](Self::join) or [`stop`](Self::stop).
    pub fn is_running(&self) -> bool {
        matches!(
            self.phase,
            Phase::Running { .. } | Phase::Ending { started: true }
        )
    }

    /// Checks that the device has `side` before sending a command for it.
    fn check_side(&self, side: Side, what: &'static str) -> Result<()> {
        let present = match side {
            // The in socket serves a single-socket device's out side.
            Side::In | Side::Out => true,
            _ => self.types[side.index()].is_some(),
        };
        if present {
            Ok(())
        } else {
            Err(
                crate::Error::invalid(what, format!("the device has no {} socket", side.name()))
                    .into(),
            )
        }
    }

    /// Sends one configuration command and waits for its result.
    fn request(&mut self, side: Side, op: Op, what: &'static str) -> Result<Answer> {
        self.check_side(side, what)?;
        let Phase::Configuring { commands, answers } = &self.phase else {
            return Err(self.not_configuring(what));
        };
        if commands.send(Command::Op(side, op)).is_err() {
            return Err(self.thread_gone());
        }
        match answers.recv() {
            Ok(answer) => answer,
            Err(_) => Err(self.thread_gone()),
        }
    }

    fn not_configuring(&self, what: &'static str) -> Error {
        let state = match self.phase {
            Phase::Configuring { .. } => "configuring",
            Phase::Running { .. } | Phase::Ending { started: true } => "already started",
            Phase::Ending { started: false } | Phase::Finished => "stopped",
        };
        crate::Error::invalid(what, format!("the device is {state}")).into()
    }

    fn port(answer: Answer, what: &'static str) -> Result<u16> {
        match answer {
            Answer::Port(p) => Ok(p),
            _ => Err(crate::Error::invalid(what, "the device thread answered out of turn").into()),
        }
    }

    /// Binds the socket of `side` (pyzmq's `bind_in`, `bind_out`,
    /// `bind_mon`, `bind_ctrl`), at once, in the device thread; returns the
    /// endpoint actually bound (the real port for `tcp://host:*`).
    ///
    /// # Errors
    ///
    /// What [`Socket::bind`] returns; [`InvalidInput`](crate::Error::InvalidInput)
    /// after `start` or for a side the device does not have.
    pub fn bind(&mut self, side: Side, endpoint: &str) -> Result<String> {
        match self.request(side, Op::Bind(endpoint.to_string()), "Device::bind")? {
            Answer::Endpoint(e) => Ok(e),
            _ => Ok(endpoint.to_string()),
        }
    }

    /// Binds the socket of `side` to a port the OS picks on `addr` (like
    /// `tcp://127.0.0.1`, no port) and returns it, before `start` (pyzmq's
    /// `bind_in_to_random_port(addr)` and friends; see
    /// [`Socket::bind_to_any_port`]). The socket really is bound: no other
    /// process can take the port in between.
    ///
    /// # Errors
    ///
    /// As [`bind`](Self::bind).
    pub fn bind_to_any_port(&mut self, side: Side, addr: &str) -> Result<u16> {
        let what = "Device::bind_to_any_port";
        let answer = self.request(side, Op::BindAny(addr.to_string()), what)?;
        Device::port(answer, what)
    }

    /// Binds the socket of `side` to a random port in `ports`, trying at
    /// most `max_tries` ports (pyzmq's `bind_in_to_random_port(addr,
    /// min_port, max_port, max_tries)`); see [`Socket::bind_to_random_port`].
    ///
    /// # Errors
    ///
    /// [`zmqx::Error::Bind`](crate::Error::Bind) when every try hit a port in use;
    /// otherwise as [`bind`](Self::bind).
    pub fn bind_to_random_port(
        &mut self,
        side: Side,
        addr: &str,
        ports: Range<u16>,
        max_tries: u32,
    ) -> Result<u16> {
        let what = "Device::bind_to_random_port";
        let op = Op::BindRandom {
            addr: addr.to_string(),
            ports,
            max_tries,
        };
        let answer = self.request(side, op, what)?;
        Device::port(answer, what)
    }

    /// Connects the socket of `side` (pyzmq's `connect_in`…), at once, in
    /// the device thread.
    ///
    /// # Errors
    ///
    /// What [`Socket::connect`] returns; otherwise as [`bind`](Self::bind).
    pub fn connect(&mut self, side: Side, endpoint: &str) -> Result<()> {
        self.request(side, Op::Connect(endpoint.to_string()), "Device::connect")
            .map(drop)
    }

    /// Sets an option of the socket of `side` ([`Socket::set`]; pyzmq's
    /// `setsockopt_in`…), at once, in the device thread.
    ///
    /// # Errors
    ///
    /// What [`Socket::set`] returns; otherwise as [`bind`](Self::bind).
    pub fn set(&mut self, side: Side, option: SocketOption, value: OptionValue) -> Result<()> {
        self.request(side, Op::Set(option, value), "Device::set")
            .map(drop)
    }

    /// Runs `setup` on the socket of `side` in the device thread and returns
    /// its result: use the typed setters (`|s| s.subscribe(b"")`,
    /// `|s| s.set_sndhwm(10)`).
    ///
    /// # Errors
    ///
    /// The closure's own error; a panic in `setup` is returned as
    /// [`Error::Panicked`] (the device lives on); otherwise as
    /// [`bind`](Self::bind).
    pub fn configure<F>(&mut self, side: Side, setup: F) -> Result<()>
    where
        F: FnOnce(&Socket) -> crate::Result<()> + Send + 'static,
    {
        self.request(side, Op::Configure(Box::new(setup)), "Device::configure")
            .map(drop)
    }

    /// Runs the device loop in its thread (pyzmq's `start`).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::Error::InvalidInput) if the device was
    /// already started, or its setup is invalid (a control socket type that
    /// cannot receive); it then stays configurable.
    pub fn start(&mut self) -> Result<()> {
        let Phase::Configuring { commands, answers } = &self.phase else {
            return Err(self.not_configuring("Device::start"));
        };
        if commands.send(Command::Start).is_err() {
            return Err(self.thread_gone());
        }
        match answers.recv() {
            Ok(Ok(Answer::Started(stop))) => {
                self.phase = Phase::Running { stop };
                Ok(())
            }
            Ok(Ok(_)) => Err(crate::Error::invalid(
                "Device::start",
                "the device thread answered out of turn",
            )
            .into()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(self.thread_gone()),
        }
    }

    /// Waits for the device to end by itself (pyzmq's `join`), at most
    /// `timeout` (`None`: for ever): `TERMINATE` on its control socket, an
    /// error, or the end of its context. Use [`stop`](Self::stop) to end it.
    ///
    /// `Ok(true)`: it ended cleanly (also after a [`stop`](Self::stop)),
    /// `Ok(false)`: still running after `timeout`.
    ///
    /// # Errors
    ///
    /// The error that ended the device (reported once), or
    /// [`Error::Panicked`]; joining a device that was never started is an
    /// [`InvalidInput`](crate::Error::InvalidInput).
    pub fn join(&mut self, timeout: Option<Duration>) -> Result<bool> {
        match self.phase {
            Phase::Configuring { .. } => {
                return Err(crate::Error::invalid(
                    "Device::join",
                    "the device has not been started",
                )
                .into());
            }
            Phase::Finished => return Ok(true),
            Phase::Running { .. } | Phase::Ending { .. } => {}
        }
        self.wait(timeout)
    }

    /// Waits for the thread's report, at most `timeout`.
    fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        let outcome = match timeout {
            Some(t) => self.done.recv_timeout(t),
            None => self.done.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match outcome {
            Ok(result) => {
                self.phase = Phase::Finished;
                if let Some(thread) = self.thread.take() {
                    // It has sent its report: it is about to return.
                    let _ = thread.join();
                }
                result.map(|()| true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => Err(self.thread_gone()),
        }
    }

    /// Ends the device and waits for its thread at most `timeout` (pyzmq
    /// has no such call: its devices end with the process).
    ///
    /// A running device is asked to end through its internal stop socket,
    /// which its loop polls wherever it waits, so it ends at once; a device
    /// not yet started closes its sockets. `stop(Duration::ZERO)` only asks.
    /// Calling it again, or after the device ended, is fine.
    ///
    /// `Ok(true)`: the thread has ended (cleanly, or the device had ended
    /// before); `Ok(false)`: still ending after `timeout` (call `stop` or
    /// [`join`](Self::join) again to wait more).
    ///
    /// # Errors
    ///
    /// The error that ended the device before the stop (reported once), or
    /// [`Error::Panicked`].
    pub fn stop(&mut self, timeout: Duration) -> Result<bool> {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Running { stop } => {
                // One message on the inproc pair ends the loop (it reaches
                // the loop even though this end closes right away). Sending
                // can only fail if the loop has already ended, which is fine.
                let _ = stop.try_send(&b""[..]);
                self.phase = Phase::Ending { started: true };
            }
            // Dropping the command channel ends a device not yet started.
            Phase::Configuring { .. } => self.phase = Phase::Ending { started: false },
            phase @ Phase::Ending { .. } => self.phase = phase,
            Phase::Finished => return Ok(true),
        }
        self.wait(Some(timeout))
    }

    /// The thread is gone without a result: it panicked. Joins it for the
    /// panic message.
    fn thread_gone(&mut self) -> Error {
        self.phase = Phase::Finished;
        let message = match self.thread.take().map(JoinHandle::join) {
            Some(Err(payload)) => panic_message(payload.as_ref()),
            _ => "the device thread ended unexpectedly".to_string(),
        };
        Error::Panicked { message }
    }
}

impl Drop for Device {
    /// Asks the device to end and returns at once; the thread ends by
    /// itself (see the [module docs](self#ending-a-device)).
    fn drop(&mut self) {
        let phase = std::mem::replace(&mut self.phase, Phase::Finished);
        // What holds the context goes to the thread while it runs, so that
        // this drop never releases the context's last handle (terminating a
        // context waits for its sockets' linger). The lock is taken before
        // the stop request so the thread cannot end in between.
        let mut keep: Vec<Box<dyn Send>> = Vec::new();
        if let Some(ctx) = self.ctx.take() {
            keep.push(Box::new(ctx));
        }
        let mut parked = self.handoff.lock().unwrap_or_else(|e| e.into_inner());
        let rest = match phase {
            Phase::Running { stop } => {
                let _ = stop.try_send(&b""[..]);
                keep.push(Box::new(stop));
                None
            }
            other => Some(other),
        };
        if let Some(parked) = parked.as_mut() {
            parked.append(&mut keep);
        }
        drop(parked);
        // Closing the command channel (after parking the context) ends a
        // device not yet started.
        drop(rest);
        // The thread, if still there, is detached: it ends by itself. What
        // is left in `keep` (the thread had ended already) is released here.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn devices_are_send() {
        assert_send::<Device>();
        assert_send::<Builder>();
        assert_send::<Error>();
    }

    #[test]
    fn sides_index_their_slots() {
        for (i, side) in Side::ALL.into_iter().enumerate() {
            assert_eq!(side.index(), i);
        }
        assert_eq!(Side::Capture.to_string(), "the device's capture socket");
    }

    #[test]
    fn kinds_and_device_types() {
        for t in [
            DeviceType::Queue,
            DeviceType::Forwarder,
            DeviceType::Streamer,
        ] {
            assert_eq!(Kind::from(t).device_type(), Some(t));
        }
        assert_eq!(Kind::Proxy.device_type(), None);
        assert_eq!(
            Kind::monitored_queue("in", b"out".to_vec()),
            Kind::MonitoredQueue {
                in_prefix: b"in".to_vec(),
                out_prefix: b"out".to_vec()
            }
        );
    }

    #[test]
    fn unstarted_device_drops_cleanly() -> Result<()> {
        let mut d = Device::new(Kind::Queue, SocketType::Router, SocketType::Dealer)?;
        d.bind(Side::In, "inproc://unstarted")?;
        assert!(!d.is_running());
        assert!(matches!(
            d.join(None),
            Err(Error::Zmq(crate::Error::InvalidInput { .. }))
        ));
        drop(d);
        Ok(())
    }

    #[test]
    fn stop_before_start_closes_the_sockets() -> Result<()> {
        let ctx = Context::new();
        let mut d = Device::builder(Kind::Queue, SocketType::Pair, None)
            .context(&ctx)
            .spawn()?;
        d.bind(Side::In, "inproc://stop-before-start")?;
        assert!(d.stop(Duration::from_secs(10))?);
        assert!(matches!(
            d.bind(Side::In, "inproc://after"),
            Err(Error::Zmq(crate::Error::InvalidInput { .. }))
        ));
        // The thread closed its socket: terminating the context, which waits
        // for every socket of it, returns.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(ctx.term()));
        let terminated = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(terminated, Ok(Ok(()))), "{terminated:?}");
        Ok(())
    }
}
