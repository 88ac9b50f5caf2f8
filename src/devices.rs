//! Devices in a background thread (pyzmq's `zmq.devices`): [`ThreadDevice`],
//! [`ThreadProxy`], [`ThreadProxySteerable`] and [`ThreadMonitoredQueue`].
//!
//! You give socket types, not sockets: the device creates its sockets in its
//! own thread, and the `bind_in`, `connect_in`, `setsockopt_in`,
//! `configure_in` (and `_out`, `_mon`, `_ctrl`) methods configure them there.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::devices::ThreadProxy;
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let mut device = ThreadProxy::new(SocketType::Pull, SocketType::Push, SocketType::Pub)?;
//!     let port_in = device.bind_in_to_random_port("tcp://127.0.0.1")?;
//!     let out = device.bind_out("tcp://127.0.0.1:*")?;
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
//!     device.stop();
//!     assert!(device.join(Some(Duration::from_secs(5)))?, "the device ended");
//!     Ok(())
//! }
//! ```
//!
//! ## How configuration works
//!
//! Creating a device starts its thread, which creates the sockets and then
//! carries out each configuration call **at once**, in call order, returning
//! its result to the caller: a bad endpoint or a port in use is an error of
//! `bind_in` itself, not a surprise at `start`. That is also how
//! [`bind_in_to_random_port`](ThreadDevice::bind_in_to_random_port) returns
//! the real port before `start` without any race: the socket really is bound
//! (pyzmq reserves a port with a throwaway socket and binds it again later,
//! which another process can steal in between). Options set after a
//! `bind`/`connect` apply to later connections only, as with any socket.
//!
//! [`start`](ThreadDevice::start) runs the device loop; afterwards the
//! configuration methods fail with [`Error::InvalidInput`].
//! [`join`](ThreadDevice::join) waits (with an optional timeout) and returns
//! how the device ended: an error inside the device thread (a failing send,
//! a bad control socket type) comes back here, a panic as
//! [`Error::DevicePanicked`]. [`stop`](ThreadDevice::stop) ends the loop
//! through an internal `inproc` socket, so it works with a shared context
//! too; dropping a device stops and joins it (bounded, see [`DROP_TIMEOUT`]).
//! Ending the device's context ([`context`](ThreadDevice::context)`().shutdown()`)
//! also ends it, cleanly.
//!
//! All four run zmqx's Rust proxy loop (the one of
//! [`proxy_steerable`](crate::proxy_steerable)), which can be stopped;
//! libzmq's `zmq_proxy` can only be ended by terminating its context.
//!
//! ## Contexts
//!
//! `new` gives each device a context of its own; `with_context` uses yours,
//! which `inproc://` endpoints shared with your sockets need.
//!
//! ## Differences from pyzmq
//!
//! - pyzmq's `ProcessDevice`, `ProcessProxy`, `ProcessProxySteerable` and
//!   `ProcessMonitoredQueue` fork a Python process; Rust programs run a
//!   device in another process with the `zmqx proxy` subcommand of the
//!   command-line tool (see the logging/CLI work), or spawn their own binary.
//! - There is no `daemon` flag: dropping the device stops it.
//! - `bind_*` return the endpoint actually bound.
//! - A port range is a `Range` argument (`bind_in_to_random_port_range(addr,
//!   ports, max_tries)`) instead of `min_port`/`max_port`/`max_tries` keywords.

use std::any::Any;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::constants::{DeviceType, SocketType};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::options::{OptionValue, SocketOption};
use crate::proxy::{Relay, Tap};
use crate::socket::Socket;

/// How long dropping a running device waits for its thread to end (after
/// asking it to stop): 10 seconds. The loop reacts to a stop request at
/// once, so this only matters for a device stuck in user code.
pub const DROP_TIMEOUT: Duration = Duration::from_secs(10);

/// The port range meaning "let the OS pick" for `bind_to_random_port`.
const ANY_PORT: Range<u16> = 49152..u16::MAX;

/// A configuration closure run in the device thread.
type Setup = Box<dyn FnOnce(&Socket) -> Result<()> + Send>;

/// Which of the device's sockets a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    In,
    Out,
    Mon,
    Ctrl,
}

enum Op {
    Bind(String),
    Connect(String),
    Set(SocketOption, OptionValue),
    BindRandom {
        addr: String,
        ports: Range<u16>,
        max_tries: u32,
    },
    Configure(Setup),
}

enum Command {
    Op(Slot, Op),
    Start,
}

enum Answer {
    Done,
    Endpoint(String),
    Port(u16),
    /// The owner's end of the internal stop pair.
    Started(Socket),
}

/// What the device thread runs.
#[derive(Debug, Clone)]
enum Kind {
    Device,
    Proxy,
    Steerable,
    MonitoredQueue {
        in_prefix: Vec<u8>,
        out_prefix: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
struct Spec {
    kind: Kind,
    in_type: SocketType,
    /// `None`: the in socket serves both sides.
    out_type: Option<SocketType>,
    mon_type: Option<SocketType>,
    ctrl_type: Option<SocketType>,
}

#[derive(Debug)]
enum Phase {
    Configuring {
        commands: Sender<Command>,
        answers: Receiver<Result<Answer>>,
    },
    Running {
        stop: Socket,
    },
    Finished,
}

/// The machinery shared by the four device types.
#[derive(Debug)]
struct Background {
    ctx: Context,
    own_context: bool,
    phase: Phase,
    done: Receiver<Result<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    fn spawn(ctx: Option<&Context>, spec: Spec) -> Result<Background> {
        let own_context = ctx.is_none();
        let ctx = match ctx {
            Some(c) => c.clone(),
            None => Context::try_new()?,
        };
        let (commands, command_rx) = mpsc::channel();
        let (answer_tx, answers) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let thread_ctx = ctx.clone();
        let thread = std::thread::Builder::new()
            .name("zmqx-device".into())
            .spawn(move || worker(thread_ctx, spec, command_rx, answer_tx, done_tx))
            .map_err(|e| Error::from_errno(e.raw_os_error().unwrap_or(libc::EAGAIN)))?;
        let mut bg = Background {
            ctx,
            own_context,
            phase: Phase::Configuring { commands, answers },
            done,
            thread: Some(thread),
        };
        // The thread first reports whether it could create the sockets.
        let created = match &bg.phase {
            Phase::Configuring { answers, .. } => answers.recv(),
            _ => unreachable!("a new device is configuring"),
        };
        match created {
            Ok(Ok(_)) => Ok(bg),
            Ok(Err(e)) => {
                bg.end_configuring();
                Err(e)
            }
            Err(_) => Err(bg.thread_gone()),
        }
    }

    /// Sends one configuration command and waits for its result.
    fn request(&mut self, slot: Slot, op: Op, what: &'static str) -> Result<Answer> {
        let Phase::Configuring { commands, answers } = &self.phase else {
            return Err(self.not_configuring(what));
        };
        if commands.send(Command::Op(slot, op)).is_err() {
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
            Phase::Running { .. } => "already started",
            Phase::Finished => "stopped",
        };
        Error::invalid(what, format!("the device is {state}"))
    }

    fn bind(&mut self, slot: Slot, endpoint: &str, what: &'static str) -> Result<String> {
        match self.request(slot, Op::Bind(endpoint.to_string()), what)? {
            Answer::Endpoint(e) => Ok(e),
            _ => Ok(endpoint.to_string()),
        }
    }

    fn bind_random(
        &mut self,
        slot: Slot,
        addr: &str,
        ports: Range<u16>,
        max_tries: u32,
        what: &'static str,
    ) -> Result<u16> {
        let op = Op::BindRandom {
            addr: addr.to_string(),
            ports,
            max_tries,
        };
        match self.request(slot, op, what)? {
            Answer::Port(p) => Ok(p),
            _ => Err(Error::invalid(
                what,
                "the device thread answered out of turn",
            )),
        }
    }

    fn unit(&mut self, slot: Slot, op: Op, what: &'static str) -> Result<()> {
        self.request(slot, op, what).map(drop)
    }

    fn start(&mut self) -> Result<()> {
        let Phase::Configuring { commands, answers } = &self.phase else {
            return Err(self.not_configuring("start"));
        };
        if commands.send(Command::Start).is_err() {
            return Err(self.thread_gone());
        }
        match answers.recv() {
            Ok(Ok(Answer::Started(stop))) => {
                self.phase = Phase::Running { stop };
                Ok(())
            }
            Ok(Ok(_)) => Err(Error::invalid(
                "start",
                "the device thread answered out of turn",
            )),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(self.thread_gone()),
        }
    }

    fn join(&mut self, timeout: Option<Duration>) -> Result<bool> {
        match self.phase {
            Phase::Configuring { .. } => {
                return Err(Error::invalid("join", "the device has not been started"));
            }
            Phase::Finished => return Ok(true),
            Phase::Running { .. } => {}
        }
        let outcome = match timeout {
            Some(t) => self.done.recv_timeout(t),
            None => self.done.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match outcome {
            Ok(result) => {
                self.phase = Phase::Finished;
                if let Some(thread) = self.thread.take() {
                    // It has sent its result: it is about to return.
                    let _ = thread.join();
                }
                result.map(|()| true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => Err(self.thread_gone()),
        }
    }

    fn stop(&mut self) {
        match &self.phase {
            Phase::Running { stop } => {
                // One message on the inproc pair ends the loop. It can only
                // fail if the loop has already ended, which is fine.
                let _ = stop.try_send(&b""[..]);
            }
            Phase::Configuring { .. } => self.end_configuring(),
            Phase::Finished => {}
        }
    }

    /// Ends a device that never started: its thread sees the command channel
    /// close, closes the sockets and returns.
    fn end_configuring(&mut self) {
        self.phase = Phase::Finished;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The thread is gone without a result: it panicked. Joins it for the
    /// panic message.
    fn thread_gone(&mut self) -> Error {
        self.phase = Phase::Finished;
        let message = match self.thread.take().map(JoinHandle::join) {
            Some(Err(payload)) => panic_message(payload.as_ref()),
            _ => "the device thread ended unexpectedly".to_string(),
        };
        Error::DevicePanicked { message }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
        if matches!(self.phase, Phase::Running { .. }) {
            if let Ok(false) = self.join(Some(DROP_TIMEOUT)) {
                // Stuck (in user code?): ending our own context makes every
                // blocking call of the device fail, so it returns.
                if self.own_context {
                    let _ = self.ctx.shutdown();
                    let _ = self.join(Some(DROP_TIMEOUT));
                }
            }
        }
        // A thread still running now (a shared context, stuck for over
        // DROP_TIMEOUT) is left to finish on its own.
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The device thread's sockets.
struct Sockets {
    ins: Socket,
    outs: Option<Socket>,
    mon: Option<Socket>,
    ctrl: Option<Socket>,
}

impl Sockets {
    fn create(ctx: &Context, spec: &Spec) -> Result<Sockets> {
        let make = |t: Option<SocketType>| t.map(|t| ctx.socket(t)).transpose();
        Ok(Sockets {
            ins: ctx.socket(spec.in_type)?,
            outs: make(spec.out_type)?,
            mon: make(spec.mon_type)?,
            ctrl: make(spec.ctrl_type)?,
        })
    }

    fn get(&self, slot: Slot) -> &Socket {
        match slot {
            Slot::In => &self.ins,
            // A single-socket device: "out" is the in socket (as in pyzmq).
            Slot::Out => self.outs.as_ref().unwrap_or(&self.ins),
            // The public API only offers _mon/_ctrl on devices that have them.
            Slot::Mon => self.mon.as_ref().unwrap_or(&self.ins),
            Slot::Ctrl => self.ctrl.as_ref().unwrap_or(&self.ins),
        }
    }

    fn apply(&self, slot: Slot, op: Op) -> Result<Answer> {
        let socket = self.get(slot);
        match op {
            Op::Bind(endpoint) => {
                socket.bind(&endpoint)?;
                Ok(Answer::Endpoint(socket.last_endpoint()?))
            }
            Op::Connect(endpoint) => socket.connect(&endpoint).map(|()| Answer::Done),
            Op::Set(option, value) => socket.set(option, value).map(|()| Answer::Done),
            Op::BindRandom {
                addr,
                ports,
                max_tries,
            } => socket
                .bind_to_random_port(&addr, ports, max_tries)
                .map(Answer::Port),
            Op::Configure(setup) => {
                // A panicking closure is reported, and the device lives on.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| setup(socket)))
                    .unwrap_or_else(|payload| {
                        Err(Error::DevicePanicked {
                            message: panic_message(payload.as_ref()),
                        })
                    })
                    .map(|()| Answer::Done)
            }
        }
    }

    /// The loop's configuration.
    fn relay<'a>(&'a self, spec: &Spec, stop: Option<&'a Socket>) -> Result<Relay<'a>> {
        let front = &self.ins;
        let back = self.get(Slot::Out);
        let mut relay = match &spec.kind {
            Kind::MonitoredQueue {
                in_prefix,
                out_prefix,
            } => Relay::monitored_queue(front, back, self.get(Slot::Mon), in_prefix, out_prefix)?,
            kind => Relay {
                frontend: front,
                backend: back,
                tap: match (kind, &self.mon) {
                    (Kind::Proxy | Kind::Steerable, Some(mon)) => Tap::Copy(mon),
                    _ => Tap::None,
                },
                swap_ids: false,
                control: self.ctrl.as_ref(),
                stop: None,
            },
        };
        relay.stop = stop;
        Ok(relay)
    }
}

/// A unique inproc name for a device's stop pair.
fn stop_endpoint() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "inproc://zmqx-device-stop-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The internal stop pair: (the loop's end, the owner's end).
fn stop_pair(ctx: &Context) -> Result<(Socket, Socket)> {
    let endpoint = stop_endpoint();
    let rx = ctx.socket(SocketType::Pair)?;
    rx.set_linger(Some(Duration::ZERO))?;
    rx.bind(&endpoint)?;
    let tx = ctx.socket(SocketType::Pair)?;
    tx.set_linger(Some(Duration::ZERO))?;
    tx.connect(&endpoint)?;
    Ok((rx, tx))
}

/// The device thread: creates the sockets, serves configuration commands
/// until `Start`, runs the loop and reports how it ended.
fn worker(
    ctx: Context,
    spec: Spec,
    commands: Receiver<Command>,
    answers: Sender<Result<Answer>>,
    done: Sender<Result<()>>,
) {
    let sockets = match Sockets::create(&ctx, &spec) {
        Ok(s) => s,
        Err(e) => {
            let _ = answers.send(Err(e));
            return;
        }
    };
    if answers.send(Ok(Answer::Done)).is_err() {
        return;
    }
    let stop = loop {
        match commands.recv() {
            Ok(Command::Op(slot, op)) => {
                if answers.send(sockets.apply(slot, op)).is_err() {
                    return;
                }
            }
            Ok(Command::Start) => {
                let prepared = sockets
                    .relay(&spec, None)
                    .and_then(|relay| relay.check())
                    .and_then(|()| stop_pair(&ctx));
                match prepared {
                    Ok((rx, tx)) => {
                        if answers.send(Ok(Answer::Started(tx))).is_err() {
                            return;
                        }
                        break rx;
                    }
                    // The device stays configurable.
                    Err(e) => {
                        if answers.send(Err(e)).is_err() {
                            return;
                        }
                    }
                }
            }
            // The owner dropped the device before starting it.
            Err(_) => return,
        }
    };
    let result = sockets.relay(&spec, Some(&stop)).and_then(Relay::run);
    // Close the sockets before reporting, so the owner's context can end
    // right away.
    drop(stop);
    drop(sockets);
    let _ = done.send(result);
}

/// The `_in`/`_out`/`_mon`/`_ctrl` configuration methods of one socket.
macro_rules! slot_methods {
    (
        $slot:expr, $side:literal,
        $bind:ident, $bind_random:ident, $bind_range:ident,
        $connect:ident, $setsockopt:ident, $configure:ident
    ) => {
        #[doc = concat!(
            "Binds the ", $side, " socket (pyzmq's `", stringify!($bind), "`), at once, in ",
            "the device thread; returns the endpoint actually bound (the real port ",
            "for `tcp://host:*`)."
        )]
        pub fn $bind(&mut self, endpoint: &str) -> Result<String> {
            self.inner.bind($slot, endpoint, stringify!($bind))
        }

        #[doc = concat!(
            "Binds the ", $side, " socket to a port the OS picks on `addr` (like ",
            "`tcp://127.0.0.1`, no port) and returns it, before `start` (pyzmq's `",
            stringify!($bind_random), "`). The socket really is bound: no other ",
            "process can take the port in between."
        )]
        pub fn $bind_random(&mut self, addr: &str) -> Result<u16> {
            self.inner
                .bind_random($slot, addr, ANY_PORT, 100, stringify!($bind_random))
        }

        #[doc = concat!(
            "Binds the ", $side, " socket to a random port in `ports`, trying at most ",
            "`max_tries` ports (pyzmq's `", stringify!($bind_random), "(addr, min_port, ",
            "max_port, max_tries)`); see [`Socket::bind_to_random_port`]. Fails with ",
            "[`Error::Bind`] when every try hit a port in use."
        )]
        pub fn $bind_range(&mut self, addr: &str, ports: Range<u16>, max_tries: u32) -> Result<u16> {
            self.inner
                .bind_random($slot, addr, ports, max_tries, stringify!($bind_range))
        }

        #[doc = concat!(
            "Connects the ", $side, " socket (pyzmq's `", stringify!($connect), "`), at ",
            "once, in the device thread."
        )]
        pub fn $connect(&mut self, endpoint: &str) -> Result<()> {
            self.inner
                .unit($slot, Op::Connect(endpoint.to_string()), stringify!($connect))
        }

        #[doc = concat!(
            "Sets an option of the ", $side, " socket (pyzmq's `", stringify!($setsockopt),
            "`, [`Socket::set`]), at once, in the device thread."
        )]
        pub fn $setsockopt(&mut self, option: SocketOption, value: OptionValue) -> Result<()> {
            self.inner
                .unit($slot, Op::Set(option, value), stringify!($setsockopt))
        }

        #[doc = concat!(
            "Runs `setup` on the ", $side, " socket in the device thread and returns ",
            "its result: use the typed setters (`|s| s.subscribe(b\"\")`). A panic ",
            "in `setup` is returned as [`Error::DevicePanicked`]; the device lives on."
        )]
        pub fn $configure<F>(&mut self, setup: F) -> Result<()>
        where
            F: FnOnce(&Socket) -> Result<()> + Send + 'static,
        {
            self.inner
                .unit($slot, Op::Configure(Box::new(setup)), stringify!($configure))
        }
    };
}

/// `start`, `join`, `stop` and friends.
macro_rules! lifecycle_methods {
    () => {
        /// Runs the device loop in its thread (pyzmq's `start`). Fails if the
        /// device was already started, or its setup is invalid (a control
        /// socket type that cannot receive); it then stays configurable.
        pub fn start(&mut self) -> Result<()> {
            self.inner.start()
        }

        /// Waits for the device to end (pyzmq's `join`), at most `timeout`
        /// (`None`: for ever). `Ok(true)`: it ended cleanly (stopped,
        /// `TERMINATE`, or its context ended); `Ok(false)`: still running
        /// after `timeout`; `Err`: the error that ended it (reported once),
        /// or [`Error::DevicePanicked`]. Joining a device that was never
        /// started is an [`Error::InvalidInput`].
        pub fn join(&mut self, timeout: Option<Duration>) -> Result<bool> {
            self.inner.join(timeout)
        }

        /// Asks the device to end, without waiting; [`join`](Self::join)
        /// waits. A device not yet started ends at once (its sockets are
        /// closed). Does nothing on an ended device.
        pub fn stop(&mut self) {
            self.inner.stop()
        }

        /// Whether [`start`](Self::start) succeeded and the end has not been
        /// joined yet.
        pub fn is_running(&self) -> bool {
            matches!(self.inner.phase, Phase::Running { .. })
        }

        /// The device's context: its own (`new`) or yours (`with_context`).
        /// Shutting it down ends the device too.
        pub fn context(&self) -> &Context {
            &self.inner.ctx
        }
    };
}

/// A two-socket device in a background thread (pyzmq's
/// `zmq.devices.ThreadDevice`): forwards messages between the in and out
/// sockets in both directions, as `zmq_device` / `zmq_proxy` do.
///
/// With `out_type` `None` (pyzmq's `-1`) the in socket serves both sides,
/// and the `_out` methods configure it: a single `REP` socket then echoes
/// every request.
///
/// See the [module docs](self) for configuration, errors and stopping.
#[derive(Debug)]
pub struct ThreadDevice {
    device_type: DeviceType,
    in_type: SocketType,
    out_type: Option<SocketType>,
    inner: Background,
}

impl ThreadDevice {
    /// A device with its own context; its thread creates the sockets now.
    /// The device type is informational: since libzmq 3.2 they all forward
    /// both ways.
    pub fn new(
        device_type: DeviceType,
        in_type: SocketType,
        out_type: Option<SocketType>,
    ) -> Result<ThreadDevice> {
        ThreadDevice::build(None, device_type, in_type, out_type)
    }

    /// A device whose sockets belong to `ctx` (for `inproc://` peers).
    pub fn with_context(
        ctx: &Context,
        device_type: DeviceType,
        in_type: SocketType,
        out_type: Option<SocketType>,
    ) -> Result<ThreadDevice> {
        ThreadDevice::build(Some(ctx), device_type, in_type, out_type)
    }

    fn build(
        ctx: Option<&Context>,
        device_type: DeviceType,
        in_type: SocketType,
        out_type: Option<SocketType>,
    ) -> Result<ThreadDevice> {
        let spec = Spec {
            kind: Kind::Device,
            in_type,
            out_type,
            mon_type: None,
            ctrl_type: None,
        };
        Ok(ThreadDevice {
            device_type,
            in_type,
            out_type,
            inner: Background::spawn(ctx, spec)?,
        })
    }

    /// The device type (pyzmq's `device_type`).
    pub fn device_type(&self) -> DeviceType {
        self.device_type
    }

    /// The in socket's type (pyzmq's `in_type`).
    pub fn in_type(&self) -> SocketType {
        self.in_type
    }

    /// The out socket's type; `None` when the in socket serves both sides.
    pub fn out_type(&self) -> Option<SocketType> {
        self.out_type
    }

    slot_methods!(
        Slot::In,
        "in",
        bind_in,
        bind_in_to_random_port,
        bind_in_to_random_port_range,
        connect_in,
        setsockopt_in,
        configure_in
    );
    slot_methods!(
        Slot::Out,
        "out",
        bind_out,
        bind_out_to_random_port,
        bind_out_to_random_port_range,
        connect_out,
        setsockopt_out,
        configure_out
    );
    lifecycle_methods!();
}

/// A proxy in a background thread (pyzmq's `zmq.devices.ThreadProxy`):
/// forwards between the in and out sockets, and sends a copy of every
/// message part to the monitor socket (`zmq_proxy`'s capture; pyzmq's
/// default monitor type is `PUB`).
///
/// See the [module docs](self) for configuration, errors and stopping.
#[derive(Debug)]
pub struct ThreadProxy {
    in_type: SocketType,
    out_type: SocketType,
    mon_type: SocketType,
    inner: Background,
}

impl ThreadProxy {
    /// A proxy with its own context; its thread creates the sockets now.
    pub fn new(
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
    ) -> Result<ThreadProxy> {
        ThreadProxy::build(None, in_type, out_type, mon_type)
    }

    /// A proxy whose sockets belong to `ctx` (for `inproc://` peers).
    pub fn with_context(
        ctx: &Context,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
    ) -> Result<ThreadProxy> {
        ThreadProxy::build(Some(ctx), in_type, out_type, mon_type)
    }

    fn build(
        ctx: Option<&Context>,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
    ) -> Result<ThreadProxy> {
        let spec = Spec {
            kind: Kind::Proxy,
            in_type,
            out_type: Some(out_type),
            mon_type: Some(mon_type),
            ctrl_type: None,
        };
        Ok(ThreadProxy {
            in_type,
            out_type,
            mon_type,
            inner: Background::spawn(ctx, spec)?,
        })
    }

    /// The in socket's type.
    pub fn in_type(&self) -> SocketType {
        self.in_type
    }

    /// The out socket's type.
    pub fn out_type(&self) -> SocketType {
        self.out_type
    }

    /// The monitor socket's type.
    pub fn mon_type(&self) -> SocketType {
        self.mon_type
    }

    slot_methods!(
        Slot::In,
        "in",
        bind_in,
        bind_in_to_random_port,
        bind_in_to_random_port_range,
        connect_in,
        setsockopt_in,
        configure_in
    );
    slot_methods!(
        Slot::Out,
        "out",
        bind_out,
        bind_out_to_random_port,
        bind_out_to_random_port_range,
        connect_out,
        setsockopt_out,
        configure_out
    );
    slot_methods!(
        Slot::Mon,
        "monitor",
        bind_mon,
        bind_mon_to_random_port,
        bind_mon_to_random_port_range,
        connect_mon,
        setsockopt_mon,
        configure_mon
    );
    lifecycle_methods!();
}

/// A steerable proxy in a background thread (pyzmq's
/// `zmq.devices.ThreadProxySteerable`): a [`ThreadProxy`] with a control
/// socket that takes `PAUSE`, `RESUME`, `TERMINATE` and `STATISTICS`, with
/// the semantics of [`proxy_steerable`](crate::proxy_steerable) (replies,
/// statistics counting whole messages).
///
/// `TERMINATE` ends the device: [`join`](ThreadProxySteerable::join) then
/// returns `Ok(true)`.
#[derive(Debug)]
pub struct ThreadProxySteerable {
    in_type: SocketType,
    out_type: SocketType,
    mon_type: SocketType,
    ctrl_type: SocketType,
    inner: Background,
}

impl ThreadProxySteerable {
    /// A steerable proxy with its own context; its thread creates the
    /// sockets now. The control socket must be able to receive (`REP`,
    /// `PAIR`, `ROUTER`, `DEALER`, `PULL`, `SUB`); `start` checks it.
    pub fn new(
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        ctrl_type: SocketType,
    ) -> Result<ThreadProxySteerable> {
        ThreadProxySteerable::build(None, in_type, out_type, mon_type, ctrl_type)
    }

    /// A steerable proxy whose sockets belong to `ctx`.
    pub fn with_context(
        ctx: &Context,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        ctrl_type: SocketType,
    ) -> Result<ThreadProxySteerable> {
        ThreadProxySteerable::build(Some(ctx), in_type, out_type, mon_type, ctrl_type)
    }

    fn build(
        ctx: Option<&Context>,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        ctrl_type: SocketType,
    ) -> Result<ThreadProxySteerable> {
        let spec = Spec {
            kind: Kind::Steerable,
            in_type,
            out_type: Some(out_type),
            mon_type: Some(mon_type),
            ctrl_type: Some(ctrl_type),
        };
        Ok(ThreadProxySteerable {
            in_type,
            out_type,
            mon_type,
            ctrl_type,
            inner: Background::spawn(ctx, spec)?,
        })
    }

    /// The in socket's type.
    pub fn in_type(&self) -> SocketType {
        self.in_type
    }

    /// The out socket's type.
    pub fn out_type(&self) -> SocketType {
        self.out_type
    }

    /// The monitor socket's type.
    pub fn mon_type(&self) -> SocketType {
        self.mon_type
    }

    /// The control socket's type.
    pub fn ctrl_type(&self) -> SocketType {
        self.ctrl_type
    }

    slot_methods!(
        Slot::In,
        "in",
        bind_in,
        bind_in_to_random_port,
        bind_in_to_random_port_range,
        connect_in,
        setsockopt_in,
        configure_in
    );
    slot_methods!(
        Slot::Out,
        "out",
        bind_out,
        bind_out_to_random_port,
        bind_out_to_random_port_range,
        connect_out,
        setsockopt_out,
        configure_out
    );
    slot_methods!(
        Slot::Mon,
        "monitor",
        bind_mon,
        bind_mon_to_random_port,
        bind_mon_to_random_port_range,
        connect_mon,
        setsockopt_mon,
        configure_mon
    );
    slot_methods!(
        Slot::Ctrl,
        "control",
        bind_ctrl,
        bind_ctrl_to_random_port,
        bind_ctrl_to_random_port_range,
        connect_ctrl,
        setsockopt_ctrl,
        configure_ctrl
    );
    lifecycle_methods!();
}

/// A [`monitored_queue`](crate::monitored_queue) in a background thread
/// (pyzmq's `zmq.devices.ThreadMonitoredQueue`): forwards between the in and
/// out sockets, and sends every message to the monitor socket behind a
/// prefix frame naming its direction (pyzmq's defaults: `b"in"`, `b"out"`).
/// With `ROUTER` on both sides the routing ids are swapped.
#[derive(Debug)]
pub struct ThreadMonitoredQueue {
    in_type: SocketType,
    out_type: SocketType,
    mon_type: SocketType,
    inner: Background,
}

impl ThreadMonitoredQueue {
    /// A monitored queue with its own context; its thread creates the
    /// sockets now.
    pub fn new(
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        in_prefix: &[u8],
        out_prefix: &[u8],
    ) -> Result<ThreadMonitoredQueue> {
        ThreadMonitoredQueue::build(None, in_type, out_type, mon_type, in_prefix, out_prefix)
    }

    /// A monitored queue whose sockets belong to `ctx`.
    pub fn with_context(
        ctx: &Context,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        in_prefix: &[u8],
        out_prefix: &[u8],
    ) -> Result<ThreadMonitoredQueue> {
        ThreadMonitoredQueue::build(
            Some(ctx),
            in_type,
            out_type,
            mon_type,
            in_prefix,
            out_prefix,
        )
    }

    fn build(
        ctx: Option<&Context>,
        in_type: SocketType,
        out_type: SocketType,
        mon_type: SocketType,
        in_prefix: &[u8],
        out_prefix: &[u8],
    ) -> Result<ThreadMonitoredQueue> {
        let spec = Spec {
            kind: Kind::MonitoredQueue {
                in_prefix: in_prefix.to_vec(),
                out_prefix: out_prefix.to_vec(),
            },
            in_type,
            out_type: Some(out_type),
            mon_type: Some(mon_type),
            ctrl_type: None,
        };
        Ok(ThreadMonitoredQueue {
            in_type,
            out_type,
            mon_type,
            inner: Background::spawn(ctx, spec)?,
        })
    }

    /// The in socket's type.
    pub fn in_type(&self) -> SocketType {
        self.in_type
    }

    /// The out socket's type.
    pub fn out_type(&self) -> SocketType {
        self.out_type
    }

    /// The monitor socket's type.
    pub fn mon_type(&self) -> SocketType {
        self.mon_type
    }

    slot_methods!(
        Slot::In,
        "in",
        bind_in,
        bind_in_to_random_port,
        bind_in_to_random_port_range,
        connect_in,
        setsockopt_in,
        configure_in
    );
    slot_methods!(
        Slot::Out,
        "out",
        bind_out,
        bind_out_to_random_port,
        bind_out_to_random_port_range,
        connect_out,
        setsockopt_out,
        configure_out
    );
    slot_methods!(
        Slot::Mon,
        "monitor",
        bind_mon,
        bind_mon_to_random_port,
        bind_mon_to_random_port_range,
        connect_mon,
        setsockopt_mon,
        configure_mon
    );
    lifecycle_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn devices_are_send() {
        assert_send::<ThreadDevice>();
        assert_send::<ThreadProxy>();
        assert_send::<ThreadProxySteerable>();
        assert_send::<ThreadMonitoredQueue>();
    }

    #[test]
    fn unstarted_device_drops_cleanly() -> Result<()> {
        let mut d = ThreadDevice::new(
            DeviceType::Queue,
            SocketType::Router,
            Some(SocketType::Dealer),
        )?;
        d.bind_in("inproc://unstarted")?;
        assert!(!d.is_running());
        assert!(matches!(d.join(None), Err(Error::InvalidInput { .. })));
        drop(d);
        Ok(())
    }

    #[test]
    fn stop_before_start_closes_the_sockets() -> Result<()> {
        let ctx = Context::new();
        let mut d = ThreadDevice::with_context(&ctx, DeviceType::Queue, SocketType::Pair, None)?;
        d.bind_in("inproc://stop-before-start")?;
        d.stop();
        assert!(d.join(Some(Duration::ZERO))?);
        assert!(matches!(
            d.bind_in("inproc://after"),
            Err(Error::InvalidInput { .. })
        ));
        // The thread closed its socket: terminating the context, which waits
        // for every socket of it, returns.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(ctx.term()));
        let terminated = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(terminated, Ok(Ok(()))), "{terminated:?}");
        Ok(())
    }

    #[test]
    fn panic_message_text() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&7u8), "a panic without a message");
    }
}
