//! Binary Star: a primary/backup server pair with automatic failover (the
//! zguide, chapter 4, "High-Availability Pair"), and the client that fails
//! over with it.
//!
//! Two servers, a **primary** and a **backup**, each run a [`BinaryStar`]
//! reactor. They tell each other their [`State`] every heartbeat over
//! `PUB`/`SUB` (the "state" sockets) and decide with a finite state machine
//! ([`Fsm`]) which of them is **active** and serves clients on its frontend
//! (a `ROUTER`); the other is **passive** and drops client requests, so the
//! clients, which time out, switch to it only when it has really taken over.
//!
//! The passive server takes over (fails over) when **both** hold:
//! - it has not heard its peer for two heartbeats, and
//! - a client request arrives at it.
//!
//! The second condition prevents "split brain": a backup cut off from the
//! primary by a network fault, but which clients still do not reach either,
//! stays passive. A server that sees its peer active while active itself
//! (dual actives), or passive while passive itself, stops with
//! [`Error::Conflict`]: the pair needs an operator (the zguide aborts).
//!
//! ```
//! use std::time::Duration;
//! use zmqx::patterns::binary_star::{BinaryStar, Client, Role, State};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let beat = Duration::from_millis(50);
//!     // Bind both servers first (the OS picks the ports), then connect each
//!     // to the other's state endpoint.
//!     let primary = BinaryStar::builder(Role::Primary)
//!         .heartbeat(beat)
//!         .bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")?;
//!     let backup = BinaryStar::builder(Role::Backup)
//!         .heartbeat(beat)
//!         .bind("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")?;
//!     let (p_front, p_state) = (primary.frontend_endpoint(), primary.state_endpoint());
//!     let (b_front, b_state) = (backup.frontend_endpoint(), backup.state_endpoint());
//!     let mut primary = primary.start(&b_state, |request| request)?;
//!     let mut backup = backup.start(&p_state, |request| request)?;
//!     assert!(primary.wait_for_state(State::Active, Duration::from_secs(5)));
//!     assert!(backup.wait_for_state(State::Passive, Duration::from_secs(5)));
//!
//!     let ctx = zmqx::Context::new();
//!     let mut client = Client::new(&ctx, &p_front, &b_front)
//!         .timeout(Duration::from_millis(250))
//!         .settle(Duration::from_millis(150));
//!     assert_eq!(client.request(&["hello"])?[0], "hello");
//!
//!     // The primary dies: the client's next request fails over to the backup.
//!     primary.stop(Duration::from_secs(5))?;
//!     assert_eq!(client.request(&["again"])?[0], "again");
//!     assert_eq!(backup.state(), State::Active);
//!     backup.stop(Duration::from_secs(5))?;
//!     Ok(())
//! }
//! ```
//!
//! ## The state machine
//!
//! Events are the peer's state as heard on the state socket
//! ([`Event::Peer`]) and a client request ([`Event::ClientRequest`]).
//! "Expired" means the peer has not been heard for two heartbeats (a server
//! that has just started counts from its start).
//!
//! | state | event | next state | request |
//! |---|---|---|---|
//! | `Primary` | peer `Backup` | `Active` | |
//! | `Primary` | peer `Active` | `Passive` | |
//! | `Primary` | peer `Passive` | `Primary` | |
//! | `Primary` | peer `Primary` | conflict: both primary | |
//! | `Primary` | client request, peer expired | `Active` | served |
//! | `Primary` | client request, peer heard | `Primary` | dropped |
//! | `Backup` | peer `Active` | `Passive` | |
//! | `Backup` | peer `Primary` or `Passive` | `Backup` | |
//! | `Backup` | peer `Backup` | conflict: both backup | |
//! | `Backup` | client request | `Backup` | dropped |
//! | `Active` | peer `Primary`, `Backup` or `Passive` | `Active` | |
//! | `Active` | peer `Active` | conflict: dual actives | |
//! | `Active` | client request | `Active` | served |
//! | `Passive` | peer `Primary` or `Backup` (the peer restarted) | `Active` | |
//! | `Passive` | peer `Active` | `Passive` | |
//! | `Passive` | peer `Passive` | conflict: dual passives | |
//! | `Passive` | client request, peer expired | `Active` (failover) | served |
//! | `Passive` | client request, peer heard | `Passive` | dropped |
//!
//! This is the zguide's reactor (`bstar`) table, with two additions: two
//! servers configured with the same role are a conflict (the zguide lets
//! them wait for ever), and a server that has just started treats its peer
//! as heard (so a primary restarted while the backup is active does not
//! serve a client before it has heard the backup).
//!
//! ## Wire format
//!
//! Each server publishes its state every heartbeat, and at once when it
//! changes, as one frame holding the state's number in ASCII (`"1"`
//! primary, `"2"` backup, `"3"` active, `"4"` passive), as the zguide's
//! `bstarsrv` and `bstar` do. Other frames on the state socket are ignored.
//! The frontend is a `ROUTER`: a request is the frames after the routing
//! envelope (up to the first empty frame, as a `REQ` client sends), and the
//! reply goes back behind the same envelope.
//!
//! ## Delivery
//!
//! The [`Client`] resends a request that got no reply within its timeout to
//! the other server: a request the dead server had handled, but whose reply
//! was lost, is handled again by the new active server. Delivery is **at
//! least once**; make requests idempotent or deduplicate them.
//!
//! There is no counterpart in pyzmq or libzmq; czmq's old `bstar` class and
//! the zguide's `bstarsrv`/`bstarcli` are the models.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::constants::{PollEvents, SocketType};
use crate::context::Context;
use crate::error::panic_message;
use crate::message::Message;
use crate::patterns::Report;
use crate::poll::Poller;
use crate::socket::Socket;

/// The zguide's heartbeat: each server publishes its state this often, and
/// its peer counts as gone after two heartbeats of silence.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// `Result<T, binary_star::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the Binary Star server and client can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libzmq, or an argument zmqx checked (a bad endpoint, a zero
    /// heartbeat: [`zmqx::Error::InvalidInput`](crate::Error::InvalidInput)).
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// The pair is in a state the protocol cannot resolve; the server that
    /// saw it stopped.
    #[error("binary star conflict: {0}")]
    Conflict(Conflict),
    /// The request handler or the state-change callback panicked in the
    /// reactor thread, which then stopped.
    #[error("the binary star reactor panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The client got no reply from either server within its attempts.
    #[error("no reply after {attempts} attempts (last server tried: {last_endpoint})")]
    NoReply {
        /// How many times the request was sent.
        attempts: u32,
        /// The server the last attempt went to.
        last_endpoint: String,
    },
}

impl Error {
    /// The libzmq (or argument) error, if this is one.
    pub fn zmq(&self) -> Option<&crate::Error> {
        match self {
            Error::Zmq(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            e @ Error::NoReply { .. } => std::io::Error::new(std::io::ErrorKind::TimedOut, e),
            e => std::io::Error::other(e),
        }
    }
}

/// A state the protocol cannot resolve (see the
/// [state machine](self#the-state-machine)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// Both servers are active ("split brain").
    #[error("both servers are active")]
    DualActive,
    /// Both servers are passive: nobody serves.
    #[error("both servers are passive")]
    DualPassive,
    /// Both servers were configured with this role.
    #[error("both servers are configured as {0:?}")]
    SameRole(Role),
}

/// A server's configured role: which one becomes active when both start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Becomes active when it finds its peer waiting as backup.
    Primary,
    /// Becomes passive when it finds its peer active; never serves before
    /// it has seen the primary.
    Backup,
}

impl Role {
    /// The state a server of this role starts in.
    pub fn initial_state(self) -> State {
        match self {
            Role::Primary => State::Primary,
            Role::Backup => State::Backup,
        }
    }
}

/// A server's state (the zguide's `STATE_*`, numbered as there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// A primary that has not decided yet (`STATE_PRIMARY`, 1).
    Primary = 1,
    /// A backup that has not decided yet (`STATE_BACKUP`, 2).
    Backup = 2,
    /// Serving clients (`STATE_ACTIVE`, 3).
    Active = 3,
    /// Standing by, dropping client requests (`STATE_PASSIVE`, 4).
    Passive = 4,
}

impl State {
    /// The state's number on the wire (1 to 4).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The state numbered `code`, if any.
    pub fn from_code(code: u8) -> Option<State> {
        match code {
            1 => Some(State::Primary),
            2 => Some(State::Backup),
            3 => Some(State::Active),
            4 => Some(State::Passive),
            _ => None,
        }
    }

    /// The state as published: its number in ASCII.
    pub fn to_wire(self) -> [u8; 1] {
        [b'0' + self.code()]
    }

    /// Parses a published state (its number in ASCII); `None` for anything
    /// else.
    pub fn from_wire(frame: &[u8]) -> Option<State> {
        match frame {
            [digit @ b'1'..=b'4'] => State::from_code(digit - b'0'),
            _ => None,
        }
    }

    /// The state's name in lower case: `"primary"`, `"backup"`, `"active"`,
    /// `"passive"`.
    pub fn name(self) -> &'static str {
        match self {
            State::Primary => "primary",
            State::Backup => "backup",
            State::Active => "active",
            State::Passive => "passive",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What drives the state machine (the zguide's `PEER_*` and
/// `CLIENT_REQUEST` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The peer published this state (`PEER_PRIMARY`… `PEER_PASSIVE`).
    Peer(State),
    /// A client request arrived on the frontend (`CLIENT_REQUEST`).
    ClientRequest,
}

/// What the state machine decided about a client request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Serve it (always the answer to a peer event).
    Serve,
    /// Drop it: the client will time out and try the other server.
    Drop,
}

/// The Binary Star finite state machine, without sockets or clocks: the
/// caller passes the time of each event, so it is testable step by step.
/// [`BinaryStar`] runs one.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zmqx::patterns::binary_star::{Event, Fsm, Role, State, Verdict};
///
/// let beat = Duration::from_millis(100);
/// let t0 = Instant::now();
/// let mut backup = Fsm::new(Role::Backup, beat, t0);
/// backup.handle(Event::Peer(State::Active), t0).unwrap();
/// assert_eq!(backup.state(), State::Passive);
/// // The primary goes silent: still passive until a client shows up.
/// let later = t0 + 3 * beat;
/// assert_eq!(backup.state(), State::Passive);
/// assert_eq!(backup.handle(Event::ClientRequest, later), Ok(Verdict::Serve));
/// assert_eq!(backup.state(), State::Active);
/// ```
#[derive(Debug, Clone)]
pub struct Fsm {
    state: State,
    heartbeat: Duration,
    peer_expiry: Instant,
}

impl Fsm {
    /// A machine for a server of `role` started at `now`, whose peer
    /// publishes every `heartbeat`.
    pub fn new(role: Role, heartbeat: Duration, now: Instant) -> Fsm {
        Fsm {
            state: role.initial_state(),
            heartbeat,
            peer_expiry: now + 2 * heartbeat,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// When the peer counts as gone unless heard before: two heartbeats
    /// after it was last heard (or after the start).
    pub fn peer_expiry(&self) -> Instant {
        self.peer_expiry
    }

    /// Whether the peer counts as gone at `now`.
    pub fn peer_expired(&self, now: Instant) -> bool {
        now >= self.peer_expiry
    }

    /// Applies `event`, which happened at `now`: moves to the next state
    /// and says whether a client request is served (see the
    /// [table](self#the-state-machine)). A peer event also records that
    /// the peer was heard at `now`.
    ///
    /// # Errors
    ///
    /// The [`Conflict`] the event reveals; the state does not change.
    pub fn handle(&mut self, event: Event, now: Instant) -> Result<Verdict, Conflict> {
        use State::{Active, Backup, Passive, Primary};
        if let Event::Peer(_) = event {
            self.peer_expiry = now + 2 * self.heartbeat;
        }
        let expired = self.peer_expired(now);
        let (next, verdict) = match (self.state, event) {
            (Primary, Event::Peer(Backup)) => (Active, Verdict::Serve),
            (Primary, Event::Peer(Active)) => (Passive, Verdict::Serve),
            (Primary, Event::Peer(Primary)) => return Err(Conflict::SameRole(Role::Primary)),
            (Primary, Event::Peer(Passive)) => (Primary, Verdict::Serve),
            (Primary | Passive, Event::ClientRequest) if expired => (Active, Verdict::Serve),
            (Primary | Passive, Event::ClientRequest) => (self.state, Verdict::Drop),
            (Backup, Event::Peer(Active)) => (Passive, Verdict::Serve),
            (Backup, Event::Peer(Backup)) => return Err(Conflict::SameRole(Role::Backup)),
            (Backup, Event::Peer(Primary | Passive)) => (Backup, Verdict::Serve),
            (Backup, Event::ClientRequest) => (Backup, Verdict::Drop),
            (Active, Event::Peer(Active)) => return Err(Conflict::DualActive),
            (Active, _) => (Active, Verdict::Serve),
            (Passive, Event::Peer(Primary | Backup)) => (Active, Verdict::Serve),
            (Passive, Event::Peer(Active)) => (Passive, Verdict::Serve),
            (Passive, Event::Peer(Passive)) => return Err(Conflict::DualPassive),
        };
        self.state = next;
        Ok(verdict)
    }
}

/// A state change of a [`BinaryStar`] server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// When the reactor made the change.
    pub at: Instant,
}

/// The request handler: gets a request's frames, returns the reply's
/// (none: no reply, the client times out).
type Handler = Box<dyn FnMut(Vec<Message>) -> Vec<Message> + Send>;
/// The state-change callback.
type OnChange = Box<dyn FnMut(StateChange) + Send>;

/// Configures a [`BinaryStar`] server before it binds.
pub struct Builder {
    role: Role,
    heartbeat: Duration,
    ctx: Option<Context>,
    on_change: Option<OnChange>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("role", &self.role)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// How often the server publishes its state (default
    /// [`DEFAULT_HEARTBEAT`]); both servers of a pair must use the same.
    /// Failover takes at least two heartbeats.
    pub fn heartbeat(mut self, heartbeat: Duration) -> Builder {
        self.heartbeat = heartbeat;
        self
    }

    /// Creates the sockets in `ctx` instead of a context of the server's
    /// own (for `inproc://` endpoints).
    pub fn context(mut self, ctx: &Context) -> Builder {
        self.ctx = Some(ctx.clone());
        self
    }

    /// Calls `callback` in the reactor thread on every state change (the
    /// zguide's `bstar_new_active`/`bstar_new_passive`). It should return
    /// quickly: the reactor waits for it. A panic in it stops the reactor
    /// with [`Error::Panicked`].
    pub fn on_state_change(
        mut self,
        callback: impl FnMut(StateChange) + Send + 'static,
    ) -> Builder {
        self.on_change = Some(Box::new(callback));
        self
    }

    /// Binds the frontend (a `ROUTER`, where clients connect) and the state
    /// publisher (where the peer subscribes), now; `tcp://host:*` lets the
    /// OS pick the port ([`Bound::frontend_endpoint`] tells which). Then
    /// give the peer's state endpoint to [`Bound::start`].
    ///
    /// # Errors
    ///
    /// What [`Socket::bind`] returns; a zero heartbeat is an
    /// [`InvalidInput`](crate::Error::InvalidInput).
    pub fn bind(self, frontend: &str, state: &str) -> Result<Bound> {
        if self.heartbeat.is_zero() {
            return Err(crate::Error::invalid(
                "Builder::heartbeat",
                "the heartbeat must not be zero",
            )
            .into());
        }
        // Refuses a heartbeat poll timeouts cannot express.
        crate::options::duration_to_ms(Some(self.heartbeat), "Builder::heartbeat")?;
        let ctx = match self.ctx {
            Some(c) => c,
            None => Context::try_new()?,
        };
        let frontend_socket = quiet_socket(&ctx, SocketType::Router)?;
        frontend_socket.bind(frontend)?;
        let statepub = quiet_socket(&ctx, SocketType::Pub)?;
        statepub.bind(state)?;
        let statesub = quiet_socket(&ctx, SocketType::Sub)?;
        statesub.subscribe(b"")?;
        Ok(Bound {
            role: self.role,
            heartbeat: self.heartbeat,
            on_change: self.on_change,
            frontend_endpoint: frontend_socket.last_endpoint()?,
            state_endpoint: statepub.last_endpoint()?,
            frontend: frontend_socket,
            statepub,
            statesub,
            ctx,
        })
    }
}

/// A socket that closes at once (nothing of Binary Star is worth waiting
/// for at close: the client retries).
fn quiet_socket(ctx: &Context, kind: SocketType) -> crate::Result<Socket> {
    let s = ctx.socket(kind)?;
    s.set_linger(Some(Duration::ZERO))?;
    Ok(s)
}

/// A server whose sockets are bound, not started yet: read its endpoints,
/// then [`start`](Bound::start) it with its peer's state endpoint.
pub struct Bound {
    role: Role,
    heartbeat: Duration,
    on_change: Option<OnChange>,
    frontend_endpoint: String,
    state_endpoint: String,
    frontend: Socket,
    statepub: Socket,
    statesub: Socket,
    // Last: dropped after the sockets.
    ctx: Context,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound")
            .field("role", &self.role)
            .field("frontend", &self.frontend_endpoint)
            .field("state", &self.state_endpoint)
            .finish_non_exhaustive()
    }
}

impl Bound {
    /// The frontend's endpoint, with the real port.
    pub fn frontend_endpoint(&self) -> String {
        self.frontend_endpoint.clone()
    }

    /// The state publisher's endpoint, with the real port: the peer's
    /// [`start`](Bound::start) argument.
    pub fn state_endpoint(&self) -> String {
        self.state_endpoint.clone()
    }

    /// Connects to the peer's state publisher at `peer_state` and runs the
    /// reactor in a background thread, serving client requests with
    /// `handler` while active: it gets the request's frames (without the
    /// routing envelope) and returns the reply's; returning no frames sends
    /// no reply. A panic in `handler` stops the reactor with
    /// [`Error::Panicked`].
    ///
    /// # Errors
    ///
    /// What [`Socket::connect`] returns for `peer_state`; a thread that
    /// cannot be spawned is an [`InvalidInput`](crate::Error::InvalidInput).
    pub fn start<F>(self, peer_state: &str, handler: F) -> Result<BinaryStar>
    where
        F: FnMut(Vec<Message>) -> Vec<Message> + Send + 'static,
    {
        self.statesub.connect(peer_state)?;
        let (stop_rx, stop_tx) = self.ctx.stop_pair("binary-star")?;
        let started = Instant::now();
        let fsm = Fsm::new(self.role, self.heartbeat, started);
        let watch = Arc::new(Watch {
            status: Mutex::new(Status {
                state: fsm.state(),
                ended: false,
            }),
            changed: Condvar::new(),
        });
        let (done_tx, done) = mpsc::channel();
        let reactor = Reactor {
            fsm,
            heartbeat: self.heartbeat,
            handler: Box::new(handler),
            on_change: self.on_change,
            watch: watch.clone(),
        };
        let sockets = Sockets {
            frontend: self.frontend,
            statepub: self.statepub,
            statesub: self.statesub,
            stop: stop_rx,
        };
        let thread_ctx = self.ctx.clone();
        let thread_watch = watch.clone();
        let thread = std::thread::Builder::new()
            .name("zmqx-binary-star".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    reactor.run(&sockets)
                }))
                .unwrap_or_else(|payload| {
                    Err(Error::Panicked {
                        message: panic_message(payload.as_ref()),
                    })
                });
                drop(sockets);
                thread_watch.update(|st| st.ended = true);
                let _ = done_tx.send(result);
                // The context goes last: if this is its last handle, the
                // sockets above are closed (linger 0), so it ends at once.
                drop(thread_ctx);
            })
            .map_err(|e| {
                crate::Error::invalid("Bound::start", format!("cannot spawn the thread: {e}"))
            })?;
        Ok(BinaryStar {
            role: self.role,
            frontend_endpoint: self.frontend_endpoint,
            state_endpoint: self.state_endpoint,
            watch,
            report: Report::new(done, thread),
            stop: Some(stop_tx),
            ctx: self.ctx,
        })
    }
}

/// The state shared between the reactor and its owner.
struct Watch {
    status: Mutex<Status>,
    changed: Condvar,
}

struct Status {
    state: State,
    ended: bool,
}

impl Watch {
    fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut status);
        drop(status);
        self.changed.notify_all();
    }
}

/// The reactor thread's sockets.
struct Sockets {
    frontend: Socket,
    statepub: Socket,
    statesub: Socket,
    stop: Socket,
}

/// The reactor thread's state.
struct Reactor {
    fsm: Fsm,
    heartbeat: Duration,
    handler: Handler,
    on_change: Option<OnChange>,
    watch: Arc<Watch>,
}

impl Reactor {
    /// Runs until stopped, a conflict, an error or the context's end.
    fn run(mut self, s: &Sockets) -> Result<()> {
        match self.serve(s) {
            Err(Error::Zmq(crate::Error::ContextTerminated)) => Ok(()),
            other => other,
        }
    }

    fn serve(&mut self, s: &Sockets) -> Result<()> {
        let mut poller = Poller::new();
        poller.register(&s.stop, PollEvents::POLLIN);
        poller.register(&s.statesub, PollEvents::POLLIN);
        poller.register(&s.frontend, PollEvents::POLLIN);
        let mut next_beat = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_beat {
                publish(s, self.fsm.state())?;
                next_beat = now + self.heartbeat;
            }
            poller.wait(Some(next_beat.saturating_duration_since(now)))?;
            if has_input(&poller, &s.stop) {
                return Ok(());
            }
            // Batches keep the heartbeat and the stop request on time under
            // a flood of requests.
            if has_input(&poller, &s.statesub) {
                for _ in 0..BATCH {
                    let Some(parts) = s.statesub.try_recv_multipart()? else {
                        break;
                    };
                    let peer = match parts.as_slice() {
                        [frame] => State::from_wire(frame),
                        _ => None,
                    };
                    if let Some(peer) = peer {
                        self.apply(s, Event::Peer(peer))?;
                    }
                }
            }
            if has_input(&poller, &s.frontend) {
                for _ in 0..BATCH {
                    let Some(parts) = s.frontend.try_recv_multipart()? else {
                        break;
                    };
                    if self.apply(s, Event::ClientRequest)? == Verdict::Serve {
                        self.serve_request(s, parts)?;
                    }
                }
            }
        }
    }

    /// Runs the state machine; on a change, tells the owner and the peer.
    fn apply(&mut self, s: &Sockets, event: Event) -> Result<Verdict> {
        let from = self.fsm.state();
        let at = Instant::now();
        let verdict = self.fsm.handle(event, at).map_err(Error::Conflict)?;
        let to = self.fsm.state();
        if from != to {
            self.watch.update(|st| st.state = to);
            if let Some(callback) = self.on_change.as_mut() {
                callback(StateChange { from, to, at });
            }
            publish(s, to)?;
        }
        Ok(verdict)
    }

    /// Calls the handler and sends its reply behind the request's envelope.
    fn serve_request(&mut self, s: &Sockets, mut parts: Vec<Message>) -> Result<()> {
        // The envelope: up to the first empty frame (a REQ client's
        // delimiter), or the routing id alone.
        let split = match parts.iter().position(|p| p.is_empty()) {
            Some(i) => i + 1,
            None => 1.min(parts.len()),
        };
        let body = parts.split_off(split);
        let reply = (self.handler)(body);
        if reply.is_empty() {
            return Ok(());
        }
        // ROUTER drops a reply to a client that is gone; it never blocks.
        s.frontend.send_multipart(parts.into_iter().chain(reply))?;
        Ok(())
    }
}

/// How many messages of one socket the reactor takes in a row.
const BATCH: usize = 100;

fn has_input(poller: &Poller<'_>, socket: &Socket) -> bool {
    poller
        .revents(socket)
        .is_some_and(|e| e.contains(PollEvents::POLLIN))
}

fn publish(s: &Sockets, state: State) -> crate::Result<()> {
    // PUB never blocks: with no subscriber the heartbeat is dropped.
    s.statepub.try_send(&state.to_wire()).map(drop)
}

/// One server of a Binary Star pair, its reactor running in a background
/// thread: see the [module docs](self).
///
/// Made by [`BinaryStar::builder`], [`Builder::bind`] and [`Bound::start`].
/// [`stop`](BinaryStar::stop) ends it and waits; dropping it only asks the
/// reactor to end and returns at once (the thread ends by itself at its
/// next poll, closing the sockets).
pub struct BinaryStar {
    role: Role,
    frontend_endpoint: String,
    state_endpoint: String,
    watch: Arc<Watch>,
    report: Report<Error>,
    /// The owner's end of the stop pair; `None` once used.
    stop: Option<Socket>,
    // Last: dropped after the stop socket.
    ctx: Context,
}

impl std::fmt::Debug for BinaryStar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryStar")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("frontend", &self.frontend_endpoint)
            .field("state_endpoint", &self.state_endpoint)
            .finish_non_exhaustive()
    }
}

impl BinaryStar {
    /// Describes a server of `role`; [`bind`](Builder::bind) it next.
    pub fn builder(role: Role) -> Builder {
        Builder {
            role,
            heartbeat: DEFAULT_HEARTBEAT,
            ctx: None,
            on_change: None,
        }
    }

    /// The configured role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state (the last one, once the reactor has ended).
    pub fn state(&self) -> State {
        self.watch
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .state
    }

    /// Waits until the server is in `state`, at most `timeout`; `false`
    /// if it is not by then, or if the reactor ended.
    pub fn wait_for_state(&self, state: State, timeout: Duration) -> bool {
        let status = self.watch.status.lock().unwrap_or_else(|e| e.into_inner());
        let (status, _) = self
            .watch
            .changed
            .wait_timeout_while(status, timeout, |st| st.state != state && !st.ended)
            .unwrap_or_else(|e| e.into_inner());
        status.state == state && !status.ended
    }

    /// Whether the reactor is still running.
    pub fn is_running(&self) -> bool {
        !self
            .watch
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ended
    }

    /// The frontend's endpoint.
    pub fn frontend_endpoint(&self) -> &str {
        &self.frontend_endpoint
    }

    /// The state publisher's endpoint.
    pub fn state_endpoint(&self) -> &str {
        &self.state_endpoint
    }

    /// The server's context: its own, or the one given to
    /// [`Builder::context`]. Shutting it down ends the reactor too.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Waits for the reactor to end by itself (a conflict, an error, the
    /// context's end) at most `timeout`: `Ok(true)` ended cleanly (also
    /// after a [`stop`](Self::stop)), `Ok(false)` still running.
    ///
    /// # Errors
    ///
    /// What ended the reactor ([`Error::Conflict`], [`Error::Panicked`], a
    /// socket error), reported once.
    pub fn join(&mut self, timeout: Duration) -> Result<bool> {
        self.report.wait(timeout, || Error::Panicked {
            message: "the reactor thread ended without a report".into(),
        })
    }

    /// Ends the reactor (its sockets close; replies not sent yet are
    /// dropped) and waits for its thread at most `timeout`. `Ok(true)`: it
    /// has ended; `Ok(false)`: still ending (call [`join`](Self::join)).
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join): an error that ended the reactor before.
    pub fn stop(&mut self, timeout: Duration) -> Result<bool> {
        if let Some(stop) = self.stop.take() {
            // Fails only if the reactor has ended already, which is fine.
            let _ = stop.try_send(&b""[..]);
        }
        self.join(timeout)
    }
}

impl Drop for BinaryStar {
    /// Asks the reactor to end and returns at once.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.try_send(&b""[..]);
        }
        // The thread, if still there, is detached: it holds a context
        // handle of its own, so dropping ours here never waits for it.
    }
}

/// A failover client for a Binary Star pair (the zguide's `bstarcli`): a
/// `REQ` socket to one server at a time. A request that gets no reply
/// within the [timeout](Client::timeout) is resent to the other server
/// after the [settle](Client::settle) delay, on a new socket (the old
/// one is closed, dropping any late reply), up to
/// [`max_attempts`](Client::max_attempts) sends. The client stays with the
/// server that answered. Delivery is at least once.
#[derive(Debug)]
pub struct Client {
    ctx: Context,
    endpoints: [String; 2],
    current: usize,
    socket: Option<Socket>,
    timeout: Duration,
    settle: Duration,
    max_attempts: u32,
}

impl Client {
    /// A client of the pair whose frontends are `primary` and `backup`;
    /// it connects to `primary` at the first request. Defaults (the
    /// zguide's): 1 s timeout, 2 s settle, 6 attempts.
    pub fn new(ctx: &Context, primary: &str, backup: &str) -> Client {
        Client {
            ctx: ctx.clone(),
            endpoints: [primary.to_string(), backup.to_string()],
            current: 0,
            socket: None,
            timeout: Duration::from_secs(1),
            settle: Duration::from_secs(2),
            max_attempts: 6,
        }
    }

    /// How long each attempt waits for the reply.
    pub fn timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// How long to wait before resending to the other server: give it at
    /// least two heartbeats minus the timeout, so that the backup sees the
    /// primary as gone by the time the request arrives.
    pub fn settle(mut self, settle: Duration) -> Client {
        self.settle = settle;
        self
    }

    /// How many sends a request gets in all (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Client {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The frontend the next request goes to.
    pub fn current_endpoint(&self) -> &str {
        &self.endpoints[self.current]
    }

    /// Sends a request of `parts` and returns the reply's frames, failing
    /// over between the servers as needed.
    ///
    /// # Errors
    ///
    /// [`Error::NoReply`] when no attempt got a reply; no frames at all, or
    /// socket errors (a bad endpoint), as [`Error::Zmq`].
    pub fn request<P: AsRef<[u8]>>(&mut self, parts: &[P]) -> Result<Vec<Message>> {
        if parts.is_empty() {
            return Err(crate::Error::invalid(
                "Client::request",
                "a request needs at least one (possibly empty) frame",
            )
            .into());
        }
        // Refuses a timeout poll cannot express before sending anything.
        crate::options::duration_to_ms(Some(self.timeout), "Client::timeout")?;
        for attempt in 1..=self.max_attempts {
            if attempt > 1 {
                self.current ^= 1;
                if !self.settle.is_zero() {
                    std::thread::sleep(self.settle);
                }
            }
            let socket = match self.socket.take() {
                Some(s) => s,
                None => self.connect()?,
            };
            match socket.send_multipart(parts.iter().map(AsRef::as_ref)) {
                Ok(()) => {}
                // No room to queue (should not happen on a fresh REQ):
                // count it as a lost attempt.
                Err(crate::Error::Again) => continue,
                Err(e) => return Err(e.into()),
            }
            if socket
                .poll(PollEvents::POLLIN, Some(self.timeout))?
                .contains(PollEvents::POLLIN)
            {
                let reply = socket.recv_multipart()?;
                self.socket = Some(socket);
                return Ok(reply);
            }
            // No reply: this socket is dropped (closed) here.
        }
        Err(Error::NoReply {
            attempts: self.max_attempts,
            last_endpoint: self.endpoints[self.current].clone(),
        })
    }

    fn connect(&self) -> Result<Socket> {
        let s = quiet_socket(&self.ctx, SocketType::Req)?;
        s.set_sndtimeo(Some(self.timeout))?;
        s.connect(&self.endpoints[self.current])?;
        Ok(s)
    }
}

/// The async [`Client`] (feature `tokio`, Unix): the same failover on an
/// [`AsyncSocket`](crate::asynchronous::AsyncSocket), waiting with tokio's
/// timers instead of blocking the thread.
///
/// Dropping a [`request`](AsyncClient::request) future part-way is safe:
/// the socket of that attempt is closed and the next request starts on a
/// new one (the dropped request may still have been handled: at least
/// once, as always).
#[cfg(all(feature = "tokio", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
#[derive(Debug)]
pub struct AsyncClient {
    ctx: Context,
    endpoints: [String; 2],
    current: usize,
    socket: Option<crate::asynchronous::AsyncSocket>,
    timeout: Duration,
    settle: Duration,
    max_attempts: u32,
}

#[cfg(all(feature = "tokio", unix))]
impl AsyncClient {
    /// As [`Client::new`]; the sockets are made at the first request, in
    /// the tokio runtime running it.
    pub fn new(ctx: &Context, primary: &str, backup: &str) -> AsyncClient {
        let sync = Client::new(ctx, primary, backup);
        AsyncClient {
            ctx: sync.ctx,
            endpoints: sync.endpoints,
            current: 0,
            socket: None,
            timeout: sync.timeout,
            settle: sync.settle,
            max_attempts: sync.max_attempts,
        }
    }

    /// As [`Client::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> AsyncClient {
        self.timeout = timeout;
        self
    }

    /// As [`Client::settle`].
    pub fn settle(mut self, settle: Duration) -> AsyncClient {
        self.settle = settle;
        self
    }

    /// As [`Client::max_attempts`].
    pub fn max_attempts(mut self, attempts: u32) -> AsyncClient {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The frontend the next request goes to.
    pub fn current_endpoint(&self) -> &str {
        &self.endpoints[self.current]
    }

    /// As [`Client::request`], awaiting instead of blocking.
    ///
    /// # Errors
    ///
    /// As [`Client::request`]; outside a tokio runtime,
    /// [`zmqx::Error::Reactor`](crate::Error::Reactor).
    pub async fn request<P: AsRef<[u8]>>(&mut self, parts: &[P]) -> Result<Vec<Message>> {
        if parts.is_empty() {
            return Err(crate::Error::invalid(
                "AsyncClient::request",
                "a request needs at least one (possibly empty) frame",
            )
            .into());
        }
        for attempt in 1..=self.max_attempts {
            if attempt > 1 {
                self.current ^= 1;
                if !self.settle.is_zero() {
                    tokio::time::sleep(self.settle).await;
                }
            }
            let socket = match self.socket.take() {
                Some(s) => s,
                None => {
                    let s = quiet_socket(&self.ctx, SocketType::Req)?;
                    s.connect(&self.endpoints[self.current])?;
                    crate::asynchronous::AsyncSocket::new(s)?
                }
            };
            let exchange = async {
                socket
                    .send_multipart(parts.iter().map(|p| Message::from(p.as_ref())))
                    .await?;
                socket.recv_multipart().await
            };
            match tokio::time::timeout(self.timeout, exchange).await {
                Ok(Ok(reply)) => {
                    self.socket = Some(socket);
                    return Ok(reply);
                }
                Ok(Err(e)) => return Err(e.into()),
                // No reply: this socket is dropped (closed) here.
                Err(_elapsed) => {}
            }
        }
        Err(Error::NoReply {
            attempts: self.max_attempts,
            last_endpoint: self.endpoints[self.current].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn types_are_send() {
        assert_send::<BinaryStar>();
        assert_send::<Bound>();
        assert_send::<Builder>();
        assert_send::<Client>();
        #[cfg(all(feature = "tokio", unix))]
        assert_send::<AsyncClient>();
        assert_send::<Error>();
    }

    #[test]
    fn wire_states_round_trip() {
        for s in [State::Primary, State::Backup, State::Active, State::Passive] {
            assert_eq!(State::from_wire(&s.to_wire()), Some(s));
            assert_eq!(State::from_code(s.code()), Some(s));
        }
        assert_eq!(State::from_wire(b"0"), None);
        assert_eq!(State::from_wire(b"5"), None);
        assert_eq!(State::from_wire(b"33"), None);
        assert_eq!(State::from_wire(b""), None);
    }

    #[test]
    fn zero_heartbeat_is_refused() {
        let e = BinaryStar::builder(Role::Primary)
            .heartbeat(Duration::ZERO)
            .bind("inproc://a", "inproc://b")
            .unwrap_err();
        assert!(matches!(e, Error::Zmq(crate::Error::InvalidInput { .. })));
    }

    #[test]
    fn io_error_kinds() {
        let e: std::io::Error = Error::NoReply {
            attempts: 3,
            last_endpoint: "tcp://x:1".into(),
        }
        .into();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        let e: std::io::Error = Error::Conflict(Conflict::DualActive).into();
        assert_eq!(
            e.to_string(),
            "binary star conflict: both servers are active"
        );
    }
}
