//! Proxies in the calling thread: [`proxy`] (`zmq_proxy`, which also stands
//! for libzmq's deprecated `zmq_device`), [`proxy_steerable`]
//! (`zmq_proxy_steerable`, implemented in Rust) and pyzmq's
//! [`monitored_queue`].
//!
//! Each call blocks until the proxy ends, so it usually runs in a thread of
//! its own; [`zmqx::devices`](crate::devices) does that for you, creating
//! the sockets in the device thread.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::proxy::{ProxyCommand, ProxyStats};
//! use zmqx::{Context, SendFlags, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let control = ctx.socket(SocketType::Pair)?;
//!     control.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     control.bind("inproc://doc-proxy-control")?;
//!
//!     // The proxy owns its sockets in its own thread.
//!     let proxy_ctx = ctx.clone();
//!     let worker = std::thread::spawn(move || -> zmqx::Result<()> {
//!         let frontend = proxy_ctx.socket(SocketType::Pull)?;
//!         frontend.bind("inproc://doc-proxy-in")?;
//!         let backend = proxy_ctx.socket(SocketType::Push)?;
//!         backend.bind("inproc://doc-proxy-out")?;
//!         let ctrl = proxy_ctx.socket(SocketType::Pair)?;
//!         ctrl.connect("inproc://doc-proxy-control")?;
//!         zmqx::proxy_steerable(&frontend, &backend, None, Some(&ctrl))
//!     });
//!
//!     let push = ctx.socket(SocketType::Push)?;
//!     push.connect("inproc://doc-proxy-in")?;
//!     let pull = ctx.socket(SocketType::Pull)?;
//!     pull.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     pull.connect("inproc://doc-proxy-out")?;
//!     push.send_multipart(["two", "parts"])?;
//!     assert_eq!(pull.recv_multipart()?.len(), 2);
//!
//!     // One message of two parts and 8 bytes went through.
//!     let stats = ProxyStats::request(&control)?;
//!     assert_eq!(stats.frontend.messages_received, 1);
//!     assert_eq!(stats.frontend.bytes_received, 8);
//!     assert_eq!(stats.backend.messages_sent, 1);
//!
//!     control.send(ProxyCommand::Terminate.as_bytes())?;
//!     worker.join().expect("the proxy thread panicked")?;
//!     Ok(())
//! }
//! ```
//!
//! ## The steerable proxy: documented semantics, whatever libzmq is linked
//!
//! libzmq 4.3.5's own `zmq_proxy_steerable` swaps PAUSE and RESUME and
//! answers every command on any control socket. zmqx therefore runs its own
//! loop (written in Rust over `zmq_poll`), which follows the manual page
//! (`zmq_proxy_steerable(3)`):
//!
//! | command      | effect                                                        |
//! |--------------|---------------------------------------------------------------|
//! | `PAUSE`      | stop forwarding; messages wait in the sockets' queues          |
//! | `RESUME`     | forward again                                                 |
//! | `TERMINATE`  | the call returns `Ok(())`                                     |
//! | `STATISTICS` | reply with 8 `u64` frames (see [`ProxyStats`])                 |
//!
//! Who gets a reply:
//!
//! - A `REP` control socket answers every command, as its state machine
//!   requires: `STATISTICS` with the 8 frames, the others with one empty
//!   frame (the manual's own example reads a reply after each command).
//! - Any control message that arrives with an envelope ending in an empty
//!   delimiter (a `REQ` peer, seen through a `ROUTER` or `DEALER`) is also
//!   answered for every command, with the envelope in front of the reply, since
//!   `REQ` must receive before it can send again.
//! - Otherwise (`PAIR`, `DEALER`, `ROUTER` from non-`REQ` peers) only
//!   `STATISTICS` is answered, as the manual says.
//! - `PULL` and `SUB` control sockets cannot reply: they steer with `PAUSE`,
//!   `RESUME` and `TERMINATE`; `STATISTICS` is ignored on them.
//! - Other control socket types are refused with [`Error::InvalidInput`].
//!
//! Unknown commands are ignored (answered with an empty frame where a reply
//! is due), as libzmq does. The command is the last frame of the control
//! message; earlier frames are the envelope.
//!
//! Commands are served before forwarding: when the proxy is waiting, a
//! command queued before a message (say `PAUSE`, then a message, sent from
//! one thread) takes effect before the proxy forwards that message. While
//! messages stream, the control socket is served between bursts of at most
//! [`BURST`] messages per direction.
//!
//! ### How statistics count
//!
//! zmqx counts **whole messages**: a multipart message is one message, its
//! byte count is the sum of its parts' payload sizes (routing ids included).
//! libzmq's C loop counts every *part* as a message instead. "Received by the
//! frontend" counts messages read from the frontend, "sent by the backend"
//! those the backend accepted; a capture copy is not counted.
//!
//! ### Flow control
//!
//! Like libzmq's, the loop does not read from a socket whose destination
//! cannot take a message, so nothing piles up in the proxy: at most one
//! message per direction, read just as the destination hit its high-water
//! mark, waits in the proxy until the destination has room. A capture or
//! monitor socket that cannot take its copy holds up forwarding until it can
//! (a `PUB` never does); control commands are still served meanwhile, so
//! `TERMINATE` always works.
//!
//! ### Performance
//!
//! The loop moves whole messages without copying (the capture copy shares
//! the buffer), reuses its buffers (no allocation per message), drains up
//! to [`BURST`] messages per direction between polls, and skips the blocking
//! poll while a direction still has data. `examples/proxy_bench.rs`
//! compares it with libzmq's `zmq_proxy`.

#![forbid(unsafe_code)]

use std::ops::ControlFlow;
use std::time::Duration;

use crate::constants::{PollEvents, SocketType};
use crate::error::{Error, Result};
use crate::message::{Frames, Message};
use crate::poll::Poller;
use crate::socket::Socket;

/// How many messages one direction forwards before the loop polls again.
pub const BURST: usize = 1000;

/// Runs libzmq's built-in proxy (`zmq_proxy`, pyzmq's `zmq.proxy`):
/// messages go from `frontend` to `backend` and back, and a copy of every
/// part goes to `capture` if given.
///
/// Blocks until the context of the sockets is shut down or terminated
/// ([`Context::shutdown`](crate::Context::shutdown) from another thread),
/// which is libzmq's only way to end a proxy, and then returns `Ok(())`;
/// pyzmq raises `ContextTerminated` there instead, but for a proxy that is
/// the normal end, not a failure. Other failures are errors. To stop a proxy
/// without ending its context, use [`proxy_steerable`] with a control
/// socket, or a background [`Device`](crate::devices::Device).
///
/// `frontend` and `backend` may be the same socket (a single-socket device,
/// like an echo `REP`). libzmq's deprecated `zmq_device(type, frontend,
/// backend)` (pyzmq's `zmq.device`) is this call without capture: since
/// libzmq 3.2 it ignores the device type.
pub fn proxy(frontend: &Socket, backend: &Socket, capture: Option<&Socket>) -> Result<()> {
    ended_by_context(crate::socket::libzmq_proxy(frontend, backend, capture))
}

/// A terminated context is the normal end of a proxy.
fn ended_by_context(r: Result<()>) -> Result<()> {
    match r {
        Ok(()) | Err(Error::ContextTerminated) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A proxy with a control socket (`zmq_proxy_steerable`, pyzmq's
/// `zmq.proxy_steerable`), implemented in Rust so that it behaves as
/// documented with any libzmq (see the [module docs](self) for the commands,
/// the replies and how statistics count).
///
/// Returns `Ok(())` on `TERMINATE`, or when the sockets' context is shut
/// down or terminated (as [`proxy`]). Without a control socket it is a
/// [`proxy`] written in Rust. A control socket of a type that cannot receive
/// commands is an [`Error::InvalidInput`].
pub fn proxy_steerable(
    frontend: &Socket,
    backend: &Socket,
    capture: Option<&Socket>,
    control: Option<&Socket>,
) -> Result<()> {
    Relay {
        frontend,
        backend,
        tap: match capture {
            Some(s) => Tap::Copy(s),
            None => Tap::None,
        },
        swap_ids: false,
        control,
        stop: None,
    }
    .run()
}

/// pyzmq's `zmq.devices.monitored_queue`: forwards messages between
/// `in_socket` and `out_socket` in both directions, and sends each one to
/// `mon_socket` too, with `in_prefix` (messages that came in on `in_socket`)
/// or `out_prefix` (from `out_socket`) as an extra first frame. pyzmq's
/// defaults are `b"in"` and `b"out"`.
///
/// When both `in_socket` and `out_socket` are `ROUTER`s, the first two frames
/// (the sender's routing id and the destination's) are swapped, so a peer
/// addresses another by sending `[destination id, body…]` and the receiver
/// gets `[sender id, body…]` (the monitor sees the swapped message).
///
/// Runs until the context is shut down or terminated, then returns `Ok(())`
/// (see [`proxy`]); a [`Device`](crate::devices::Device) of kind
/// [`Kind::MonitoredQueue`](crate::devices::Kind::MonitoredQueue) runs one in
/// the background and can stop it.
pub fn monitored_queue(
    in_socket: &Socket,
    out_socket: &Socket,
    mon_socket: &Socket,
    in_prefix: &[u8],
    out_prefix: &[u8],
) -> Result<()> {
    Relay::monitored_queue(in_socket, out_socket, mon_socket, in_prefix, out_prefix)?.run()
}

/// A command for a steerable proxy's control socket
/// (`zmq_proxy_steerable(3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyCommand {
    /// `PAUSE`: stop forwarding; messages wait in the sockets' queues.
    Pause,
    /// `RESUME`: forward again.
    Resume,
    /// `TERMINATE`: end the proxy; the proxy call returns `Ok(())`.
    Terminate,
    /// `STATISTICS`: reply with the 8 counters of [`ProxyStats`].
    Statistics,
}

impl ProxyCommand {
    /// The command as sent on the wire (`b"PAUSE"`…).
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            ProxyCommand::Pause => b"PAUSE",
            ProxyCommand::Resume => b"RESUME",
            ProxyCommand::Terminate => b"TERMINATE",
            ProxyCommand::Statistics => b"STATISTICS",
        }
    }

    /// The command these bytes spell exactly, if any (commands are
    /// case-sensitive, as in libzmq).
    pub fn from_bytes(bytes: &[u8]) -> Option<ProxyCommand> {
        [
            ProxyCommand::Pause,
            ProxyCommand::Resume,
            ProxyCommand::Terminate,
            ProxyCommand::Statistics,
        ]
        .into_iter()
        .find(|c| c.as_bytes() == bytes)
    }
}

/// The counters of one side of a proxy (part of [`ProxyStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SocketStats {
    /// Messages received by this socket (a multipart message counts once).
    pub messages_received: u64,
    /// Payload bytes of those messages, all parts together.
    pub bytes_received: u64,
    /// Messages this socket sent on.
    pub messages_sent: u64,
    /// Payload bytes of those messages.
    pub bytes_sent: u64,
}

/// A steerable proxy's answer to `STATISTICS`: 8 frames of one native-endian
/// `u64` each (as libzmq sends them), in this order: frontend messages
/// received, frontend bytes received, frontend messages sent, frontend bytes
/// sent, then the same four for the backend.
///
/// zmqx counts whole messages, not parts (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProxyStats {
    /// The frontend's counters.
    pub frontend: SocketStats,
    /// The backend's counters.
    pub backend: SocketStats,
}

impl ProxyStats {
    /// The 8 counters in wire order.
    pub fn to_array(&self) -> [u64; 8] {
        let (f, b) = (&self.frontend, &self.backend);
        [
            f.messages_received,
            f.bytes_received,
            f.messages_sent,
            f.bytes_sent,
            b.messages_received,
            b.bytes_received,
            b.messages_sent,
            b.bytes_sent,
        ]
    }

    /// The counters from wire order.
    pub fn from_array(v: [u64; 8]) -> ProxyStats {
        ProxyStats {
            frontend: SocketStats {
                messages_received: v[0],
                bytes_received: v[1],
                messages_sent: v[2],
                bytes_sent: v[3],
            },
            backend: SocketStats {
                messages_received: v[4],
                bytes_received: v[5],
                messages_sent: v[6],
                bytes_sent: v[7],
            },
        }
    }

    /// The reply frames, as a steerable proxy sends them.
    pub fn to_messages(&self) -> Vec<Message> {
        self.to_array()
            .iter()
            .map(|v| Message::from_slice(&v.to_ne_bytes()))
            .collect()
    }

    /// Parses a `STATISTICS` reply: exactly 8 frames of 8 bytes. Anything
    /// else is an [`Error::Deserialize`] that hands the frames back.
    pub fn from_messages(frames: Vec<Message>) -> Result<ProxyStats> {
        if frames.len() != 8 || frames.iter().any(|f| f.len() != 8) {
            return Err(Error::Deserialize {
                format: "proxy statistics",
                source: format!(
                    "expected 8 frames of 8 bytes, got {} frames of {:?} bytes",
                    frames.len(),
                    frames.iter().map(|f| f.len()).collect::<Vec<_>>()
                )
                .into(),
                frames: Frames::new(frames),
            });
        }
        let mut v = [0u64; 8];
        for (slot, frame) in v.iter_mut().zip(&frames) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(frame);
            *slot = u64::from_ne_bytes(bytes);
        }
        Ok(ProxyStats::from_array(v))
    }

    /// Sends `STATISTICS` on a control socket (`PAIR`, `REQ`, `DEALER`
    /// connected to the proxy's control socket) and reads the reply. Honours
    /// the socket's receive timeout. A `DEALER` talking to a `REP` control
    /// needs the empty delimiter: use a `REQ` or `PAIR` here instead.
    pub fn request(control: &Socket) -> Result<ProxyStats> {
        control.send(ProxyCommand::Statistics.as_bytes())?;
        ProxyStats::from_messages(control.recv_multipart()?)
    }
}

/// What a relay does with a copy of each forwarded message.
pub(crate) enum Tap<'a> {
    /// Nothing.
    None,
    /// A copy of every part, framing kept (`zmq_proxy`'s capture).
    Copy(&'a Socket),
    /// The direction's prefix frame, then a copy of every part
    /// (`monitored_queue`).
    Prefixed {
        socket: &'a Socket,
        in_prefix: Message,
        out_prefix: Message,
    },
}

/// The proxy loop shared by [`proxy_steerable`], [`monitored_queue`] and the
/// background devices.
pub(crate) struct Relay<'a> {
    pub(crate) frontend: &'a Socket,
    /// May be the frontend itself (a single-socket device).
    pub(crate) backend: &'a Socket,
    pub(crate) tap: Tap<'a>,
    /// Swap the first two frames (ROUTER to ROUTER monitored queue).
    pub(crate) swap_ids: bool,
    pub(crate) control: Option<&'a Socket>,
    /// Any message here ends the loop with `Ok(())` (devices' `stop`).
    pub(crate) stop: Option<&'a Socket>,
}

impl<'a> Relay<'a> {
    /// The relay of [`monitored_queue`]; reads the socket types to decide
    /// whether to swap routing ids.
    pub(crate) fn monitored_queue(
        in_socket: &'a Socket,
        out_socket: &'a Socket,
        mon_socket: &'a Socket,
        in_prefix: &[u8],
        out_prefix: &[u8],
    ) -> Result<Relay<'a>> {
        let swap_ids = in_socket.socket_type()? == SocketType::Router
            && out_socket.socket_type()? == SocketType::Router;
        Ok(Relay {
            frontend: in_socket,
            backend: out_socket,
            tap: Tap::Prefixed {
                socket: mon_socket,
                in_prefix: Message::from_slice(in_prefix),
                out_prefix: Message::from_slice(out_prefix),
            },
            swap_ids,
            control: None,
            stop: None,
        })
    }

    /// Checks the configuration without running: the control socket type.
    pub(crate) fn check(&self) -> Result<()> {
        match self.control {
            Some(c) => ControlKind::of(c).map(drop),
            None => Ok(()),
        }
    }

    /// Runs until `TERMINATE`, a stop request or the context's end
    /// (`Ok(())`), or a failure.
    pub(crate) fn run(self) -> Result<()> {
        let control_kind = match self.control {
            Some(c) => Some(ControlKind::of(c)?),
            None => None,
        };
        let mut engine = Engine {
            single: self.frontend.as_raw() == self.backend.as_raw(),
            relay: self,
            control_kind,
            paused: false,
            stats: ProxyStats::default(),
            flows: [Flow::default(), Flow::default()],
            control_buf: Vec::new(),
        };
        ended_by_context(engine.run())
    }
}

/// How a control socket answers.
#[derive(Clone, Copy)]
struct ControlKind {
    /// It can send replies at all.
    can_send: bool,
    /// It must answer every command (REP).
    always_reply: bool,
}

impl ControlKind {
    fn of(control: &Socket) -> Result<ControlKind> {
        let kind = control.socket_type()?;
        let (can_send, always_reply) = match kind {
            SocketType::Rep => (true, true),
            SocketType::Pair | SocketType::Router | SocketType::Dealer => (true, false),
            SocketType::Pull | SocketType::Sub => (false, false),
            other => {
                return Err(Error::invalid(
                    "proxy control socket",
                    format!(
                        "a {other} socket cannot receive commands (use REP, PAIR, ROUTER, DEALER, PULL or SUB)"
                    ),
                ));
            }
        };
        Ok(ControlKind {
            can_send,
            always_reply,
        })
    }
}

/// One direction of the proxy.
#[derive(Default)]
struct Flow {
    /// Message slots, reused from one message to the next: receiving into a
    /// slot replaces its content and sending leaves it empty, so forwarding
    /// allocates and frees nothing. The first `parts` slots hold the message
    /// read from the source and not yet taken by the destination.
    slots: Vec<Message>,
    /// How many parts the pending message has (0: none).
    parts: usize,
    /// Its tap copy, sent once the destination took the message.
    tap: Vec<Message>,
    /// Payload bytes of the pending message.
    bytes: u64,
    /// The last burst stopped at [`BURST`]: the source may have more.
    hot: bool,
}

/// How a delivery went.
enum Delivery {
    Sent,
    /// The destination is full; the message stays pending.
    Blocked,
    /// Stop or TERMINATE arrived while waiting on the tap.
    Stop,
}

struct Engine<'a> {
    relay: Relay<'a>,
    single: bool,
    control_kind: Option<ControlKind>,
    paused: bool,
    stats: ProxyStats,
    /// `[frontend → backend, backend → frontend]`.
    flows: [Flow; 2],
    control_buf: Vec<Message>,
}

const FORWARD: usize = 0;
const REPLY: usize = 1;

impl<'a> Engine<'a> {
    fn run(&mut self) -> Result<()> {
        let front = self.relay.frontend;
        let back = self.relay.backend;
        let mut poller = Poller::new();
        if let Some(c) = self.relay.control {
            poller.register(c, PollEvents::POLLIN);
        }
        if let Some(s) = self.relay.stop {
            poller.register(s, PollEvents::POLLIN);
        }
        loop {
            // What to wait for: the source of an idle direction, the
            // destination of a blocked one.
            let mut front_events = PollEvents::empty();
            let mut back_events = PollEvents::empty();
            let mut hot = false;
            if !self.paused {
                let f = &self.flows[FORWARD];
                if f.parts == 0 {
                    front_events |= PollEvents::POLLIN;
                } else {
                    back_events |= PollEvents::POLLOUT;
                }
                hot |= f.hot;
                if !self.single {
                    let r = &self.flows[REPLY];
                    if r.parts == 0 {
                        back_events |= PollEvents::POLLIN;
                    } else {
                        front_events |= PollEvents::POLLOUT;
                    }
                    hot |= r.hot;
                }
            }
            if self.single {
                poller.register(front, front_events | back_events);
            } else {
                poller.register(front, front_events);
                poller.register(back, back_events);
            }
            // A direction that stopped at the burst limit has data: only
            // look, don't wait.
            poller.wait(if hot { Some(Duration::ZERO) } else { None })?;

            if let Some(s) = self.relay.stop {
                if ready(&poller, s, PollEvents::POLLIN) {
                    return Ok(());
                }
            }
            // The control socket is looked at after every wait, whether the
            // poll saw it ready or not: `zmq_poll` looks at the sockets one
            // after the other, so a command queued just before a message may
            // reach its socket after that socket was looked at, and the
            // message's socket be seen ready alone. A receive processes the
            // socket's pending commands, so it finds the command, and it is
            // served before the message. (One non-blocking receive per wait,
            // not per message: a burst forwards up to `BURST`.)
            if self.relay.control.is_some() && self.handle_control()?.is_break() {
                return Ok(());
            }
            if self.paused {
                continue;
            }
            let front_ready = poller.revents(front).unwrap_or_default();
            let back_ready = if self.single {
                front_ready
            } else {
                poller.revents(back).unwrap_or_default()
            };
            if self.wants(FORWARD, front_ready, back_ready)
                && self.pump(FORWARD, front, back)?.is_break()
            {
                return Ok(());
            }
            if !self.single
                && !self.paused
                && self.wants(REPLY, back_ready, front_ready)
                && self.pump(REPLY, back, front)?.is_break()
            {
                return Ok(());
            }
        }
    }

    /// Whether a direction has work after a poll.
    fn wants(&self, dir: usize, src_ready: PollEvents, dst_ready: PollEvents) -> bool {
        let flow = &self.flows[dir];
        flow.hot
            || if flow.parts == 0 {
                src_ready.contains(PollEvents::POLLIN)
            } else {
                dst_ready.contains(PollEvents::POLLOUT)
            }
    }

    /// Forwards up to [`BURST`] messages from `src` to `dst`.
    fn pump(&mut self, dir: usize, src: &Socket, dst: &Socket) -> Result<ControlFlow<()>> {
        // Moving the flow out moves its vectors, it allocates nothing.
        let mut flow = std::mem::take(&mut self.flows[dir]);
        let r = self.pump_flow(dir, &mut flow, src, dst);
        self.flows[dir] = flow;
        r
    }

    fn pump_flow(
        &mut self,
        dir: usize,
        flow: &mut Flow,
        src: &Socket,
        dst: &Socket,
    ) -> Result<ControlFlow<()>> {
        flow.hot = false;
        if flow.parts != 0 {
            match self.deliver(dir, flow, dst)? {
                Delivery::Sent => {}
                Delivery::Blocked => return Ok(ControlFlow::Continue(())),
                Delivery::Stop => return Ok(ControlFlow::Break(())),
            }
        }
        for _ in 0..BURST {
            // A PAUSE may have come while a tap send waited.
            if self.paused {
                return Ok(ControlFlow::Continue(()));
            }
            if !recv_message(src, flow)? {
                return Ok(ControlFlow::Continue(()));
            }
            let bytes = flow.bytes;
            let side = if dir == FORWARD {
                &mut self.stats.frontend
            } else {
                &mut self.stats.backend
            };
            side.messages_received += 1;
            side.bytes_received += bytes;
            if self.relay.swap_ids && flow.parts >= 2 {
                flow.slots.swap(0, 1);
            }
            let message = &flow.slots[..flow.parts];
            match &self.relay.tap {
                Tap::None => {}
                Tap::Copy(_) => flow.tap.extend(message.iter().cloned()),
                Tap::Prefixed {
                    in_prefix,
                    out_prefix,
                    ..
                } => {
                    let prefix = if dir == FORWARD {
                        in_prefix
                    } else {
                        out_prefix
                    };
                    flow.tap.push(prefix.clone());
                    flow.tap.extend(message.iter().cloned());
                }
            }
            match self.deliver(dir, flow, dst)? {
                Delivery::Sent => {}
                Delivery::Blocked => return Ok(ControlFlow::Continue(())),
                Delivery::Stop => return Ok(ControlFlow::Break(())),
            }
        }
        flow.hot = true;
        Ok(ControlFlow::Continue(()))
    }

    /// Hands the pending message to `dst` without blocking, then its tap copy
    /// to the tap socket.
    fn deliver(&mut self, dir: usize, flow: &mut Flow, dst: &Socket) -> Result<Delivery> {
        // Only the first part can be refused: once it is queued, libzmq
        // takes the rest.
        if !dst.try_send_multipart(flow.slots[..flow.parts].iter_mut())? {
            return Ok(Delivery::Blocked);
        }
        flow.parts = 0;
        let side = if dir == FORWARD {
            &mut self.stats.backend
        } else {
            &mut self.stats.frontend
        };
        side.messages_sent += 1;
        side.bytes_sent += flow.bytes;
        let tap = match &self.relay.tap {
            Tap::None => return Ok(Delivery::Sent),
            Tap::Copy(s) => *s,
            Tap::Prefixed { socket, .. } => *socket,
        };
        let r = self.send_waiting(tap, &mut flow.tap, true);
        flow.tap.clear();
        Ok(if r?.is_break() {
            Delivery::Stop
        } else {
            Delivery::Sent
        })
    }

    /// Sends a whole message, waiting for room while still answering stop
    /// requests and (if `serve_control`) control commands.
    fn send_waiting(
        &mut self,
        socket: &Socket,
        parts: &mut [Message],
        serve_control: bool,
    ) -> Result<ControlFlow<()>> {
        loop {
            if socket.try_send_multipart(parts.iter_mut())? {
                return Ok(ControlFlow::Continue(()));
            }
            // Rare path (a full capture or control socket): a fresh poller.
            let mut poller = Poller::new();
            poller.register(socket, PollEvents::POLLOUT);
            if let Some(s) = self.relay.stop {
                poller.register(s, PollEvents::POLLIN);
            }
            let control = self.relay.control.filter(|_| serve_control);
            if let Some(c) = control {
                if c.as_raw() != socket.as_raw() {
                    poller.register(c, PollEvents::POLLIN);
                }
            }
            poller.wait(None)?;
            if let Some(s) = self.relay.stop {
                if ready(&poller, s, PollEvents::POLLIN) {
                    return Ok(ControlFlow::Break(()));
                }
            }
            if let Some(c) = control {
                if ready(&poller, c, PollEvents::POLLIN) && self.handle_control()?.is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
        }
    }

    /// Serves every command waiting on the control socket.
    fn handle_control(&mut self) -> Result<ControlFlow<()>> {
        let (Some(control), Some(kind)) = (self.relay.control, self.control_kind) else {
            return Ok(ControlFlow::Continue(()));
        };
        let mut buf = std::mem::take(&mut self.control_buf);
        let r = self.serve_commands(control, kind, &mut buf);
        buf.clear();
        self.control_buf = buf;
        r
    }

    fn serve_commands(
        &mut self,
        control: &Socket,
        kind: ControlKind,
        buf: &mut Vec<Message>,
    ) -> Result<ControlFlow<()>> {
        loop {
            buf.clear();
            if !control.try_recv_multipart_into(buf)? {
                return Ok(ControlFlow::Continue(()));
            }
            // The command is the last frame; what comes before is the
            // envelope the reply must carry back.
            let Some(command) = buf.pop() else {
                continue;
            };
            let command = ProxyCommand::from_bytes(&command);
            match command {
                Some(ProxyCommand::Pause) => self.paused = true,
                Some(ProxyCommand::Resume) => self.paused = false,
                _ => {}
            }
            let from_req = buf.last().is_some_and(|m| m.is_empty());
            let statistics = command == Some(ProxyCommand::Statistics);
            if kind.can_send && (statistics || kind.always_reply || from_req) {
                if statistics {
                    buf.extend(self.stats.to_messages());
                } else {
                    buf.push(Message::new());
                }
                if self.send_waiting(control, buf, false)?.is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            if command == Some(ProxyCommand::Terminate) {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
}

/// Receives one whole message into the flow's slots without blocking;
/// `false` when there is none.
#[inline]
fn recv_message(src: &Socket, flow: &mut Flow) -> Result<bool> {
    if flow.slots.is_empty() {
        flow.slots.push(Message::new());
    }
    if !src.try_recv_msg_into(&mut flow.slots[0])? {
        return Ok(false);
    }
    let mut bytes = flow.slots[0].len() as u64;
    let mut n = 1;
    // The other parts are there once the first is: no DONTWAIT needed.
    while flow.slots[n - 1].more() {
        if flow.slots.len() == n {
            flow.slots.push(Message::new());
        }
        src.recv_msg_into(&mut flow.slots[n])?;
        bytes += flow.slots[n].len() as u64;
        n += 1;
    }
    flow.parts = n;
    flow.bytes = bytes;
    Ok(true)
}

/// Whether the last poll found `socket` ready for `events`.
fn ready(poller: &Poller<'_>, socket: &Socket, events: PollEvents) -> bool {
    poller.revents(socket).is_some_and(|e| e.intersects(events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;

    #[test]
    fn commands_round_trip() {
        for c in [
            ProxyCommand::Pause,
            ProxyCommand::Resume,
            ProxyCommand::Terminate,
            ProxyCommand::Statistics,
        ] {
            assert_eq!(ProxyCommand::from_bytes(c.as_bytes()), Some(c));
        }
        assert_eq!(ProxyCommand::from_bytes(b"pause"), None);
        assert_eq!(ProxyCommand::from_bytes(b"\x05PAUSE"), None);
    }

    #[test]
    fn stats_round_trip() -> Result<()> {
        let stats = ProxyStats::from_array([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(stats.backend.messages_sent, 7);
        assert_eq!(ProxyStats::from_messages(stats.to_messages())?, stats);
        Ok(())
    }

    #[test]
    fn malformed_stats_hand_the_frames_back() {
        let frames = vec![Message::from("not"), Message::from("stats")];
        match ProxyStats::from_messages(frames) {
            Err(Error::Deserialize { frames, .. }) => {
                assert_eq!(frames.to_vecs(), vec![b"not".to_vec(), b"stats".to_vec()]);
            }
            other => panic!("expected Deserialize, got {other:?}"),
        }
    }

    #[test]
    fn bad_control_type_is_refused() -> Result<()> {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pull)?;
        let b = ctx.socket(SocketType::Push)?;
        let ctrl = ctx.socket(SocketType::Pub)?;
        assert!(matches!(
            proxy_steerable(&a, &b, None, Some(&ctrl)),
            Err(Error::InvalidInput { .. })
        ));
        Ok(())
    }

    #[test]
    fn terminated_context_ends_the_proxy() -> Result<()> {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pull)?;
        let b = ctx.socket(SocketType::Push)?;
        ctx.shutdown()?;
        proxy(&a, &b, None)?;
        proxy_steerable(&a, &b, None, None)?;
        Ok(())
    }
}
