//! Discovery on a LAN by UDP broadcast beacons, wire-compatible with czmq's
//! `zbeacon` (feature `beacon`).
//!
//! A [`Beacon`] broadcasts a payload of at most [`MAX_PAYLOAD`] (255) bytes
//! to a UDP port on the broadcast address of one network interface, at an
//! interval, from a background thread; and it receives the beacons of its
//! peers on that port, each as the sender's IP address and the payload,
//! keeping those that start with a prefix (the filter). The datagram is the
//! raw payload, nothing added, so a `Beacon` and a czmq `zbeacon` actor on
//! the same port hear each other.
//!
//! | czmq `zbeacon` | zmqx |
//! | --- | --- |
//! | `zactor_new (zbeacon, NULL)` + `"CONFIGURE", port` (returns the hostname) | [`Beacon::new`] / [`Beacon::with_interface`], [`Beacon::address`] |
//! | `"PUBLISH", data, size, interval` | [`Beacon::publish`] |
//! | `"SILENCE"` | [`Beacon::silence`] |
//! | `"SUBSCRIBE", filter, size` / `"UNSUBSCRIBE"` | [`Beacon::subscribe`] / [`Beacon::unsubscribe`] |
//! | `zmsg_recv (beacon)`: frames (peer address, payload) | [`Beacon::recv`]: [`Received`] |
//! | `zactor_destroy` | [`Beacon::stop`] (bounded wait) or drop (no wait) |
//! | `ZSYS_INTERFACE` / `zsys_set_interface` | [`Interface::from_env`] / [`Interface`] |
//!
//! # Which interface
//!
//! As czmq does, [`Beacon::new`] takes the interface from the
//! `ZSYS_INTERFACE` environment variable ([`Interface::from_env`]): unset
//! or empty means the first IPv4 interface that is up and running, can
//! broadcast, and is neither loopback nor point-to-point
//! ([`Interface::First`]); `*` means every address, sending to
//! 255.255.255.255 ([`Interface::All`]); anything else is an interface
//! name ([`Interface::Name`]). [`Beacon::with_interface`] takes one
//! explicitly, including an address and broadcast address given by hand
//! ([`Interface::Address`]), for interfaces the lookup would skip (the
//! loopback interface, say). Only IPv4 is supported (czmq's default;
//! its `ZSYS_IPV6` multicast mode is not).
//!
//! # Semantics shared with czmq
//!
//! - The first beacon leaves at once, the next ones every interval.
//! - Beacons are heard only while subscribed; an empty filter hears all.
//! - A received payload identical to the one this beacon publishes is
//!   discarded (UDP echoes a host's broadcasts to it): give each peer a
//!   payload of its own (czmq's users put a UUID in it).
//! - Several beacons may share a port on one host (`SO_REUSEADDR`,
//!   `SO_REUSEPORT`); each hears every broadcast.
//!
//! Unlike czmq, a datagram longer than 255 bytes is dropped rather than
//! cut to 255 bytes, and bad input is an [`Error`] rather than an
//! assertion: a payload or filter over 255 bytes, an interval of zero
//! (czmq silently uses one second), port 0, an unknown interface.
//!
//! ```no_run
//! use std::time::Duration;
//! use zmqx::patterns::beacon::Beacon;
//!
//! # fn main() -> Result<(), zmqx::patterns::beacon::Error> {
//! let mut beacon = Beacon::new(5670)?;
//! beacon.publish(b"NODE/1 tcp://10.0.0.1:5555", Duration::from_millis(250))?;
//! beacon.subscribe(b"NODE/")?;
//! if let Some(peer) = beacon.recv(Duration::from_secs(1))? {
//!     println!("{} says {:?}", peer.peer, peer.payload);
//! }
//! beacon.stop(Duration::from_secs(1));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The largest payload (and filter) in bytes: czmq's `UDP_FRAME_MAX`.
pub const MAX_PAYLOAD: usize = 255;

/// `Result<T, beacon::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a [`Beacon`] call can fail with. Each case names what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A payload longer than [`MAX_PAYLOAD`] bytes.
    #[error("beacon payload is {len} bytes; the limit is 255 (czmq's UDP_FRAME_MAX)")]
    PayloadTooLong {
        /// The payload's length.
        len: usize,
    },
    /// A filter longer than [`MAX_PAYLOAD`] bytes (it could match nothing).
    #[error("beacon filter is {len} bytes; the limit is 255 (czmq's UDP_FRAME_MAX)")]
    FilterTooLong {
        /// The filter's length.
        len: usize,
    },
    /// A publish interval of zero.
    #[error("beacon interval is zero; it must be positive")]
    ZeroInterval,
    /// Port 0: peers could not know where to listen.
    #[error("beacon port is 0; peers must agree on a port")]
    ZeroPort,
    /// [`Interface::Address`] with a broadcast address of 0.0.0.0.
    #[error("beacon broadcast address is 0.0.0.0 (for address {address})")]
    NoBroadcastAddress {
        /// The interface address given.
        address: Ipv4Addr,
    },
    /// No interface matched: none with that name, or that name's
    /// interface is down, loopback, point-to-point or without IPv4
    /// broadcast (`name` is `None` for [`Interface::First`]).
    #[error("{}", no_interface(.name))]
    NoInterface {
        /// The interface name asked for.
        name: Option<String>,
    },
    /// The system's interface list could not be read.
    #[error("cannot list the network interfaces: {0}")]
    Interfaces(#[source] io::Error),
    /// A socket call failed: which one, on which address.
    #[error("beacon socket: {op} {addr}: {source}")]
    Socket {
        /// The call: `"bind"`, `"send to"`, `"receive on"`, ...
        op: &'static str,
        /// The address it was made with.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// [`Beacon::recv`] without a [`subscribe`](Beacon::subscribe).
    #[error("beacon receive without a subscription (call subscribe first)")]
    NotSubscribed,
}

fn no_interface(name: &Option<String>) -> String {
    match name {
        Some(n) => format!("no network interface {n:?} that is up with an IPv4 broadcast address"),
        None => "no IPv4 interface that is up, can broadcast and is not loopback or \
                 point-to-point (set ZSYS_INTERFACE or pass an Interface)"
            .into(),
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Socket { source, .. } | Error::Interfaces(source) => source.kind(),
            Error::NotSubscribed => io::ErrorKind::NotConnected,
            Error::NoInterface { .. } => io::ErrorKind::NotFound,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

fn socket_error(op: &'static str, addr: impl Into<SocketAddr>) -> impl FnOnce(io::Error) -> Error {
    let addr = addr.into();
    move |source| Error::Socket { op, addr, source }
}

/// Which network interface a [`Beacon`] broadcasts on (czmq:
/// `ZSYS_INTERFACE` / `zsys_set_interface`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interface {
    /// The first IPv4 interface that is up and running, can broadcast,
    /// and is neither loopback nor point-to-point (czmq's default, an empty
    /// `ZSYS_INTERFACE`).
    First,
    /// The interface of this name (`"eth0"`), with the same conditions.
    Name(String),
    /// Every local address, sending to 255.255.255.255 (czmq's `"*"`).
    /// Peers bound to a subnet's broadcast address do not hear it, and the
    /// operating system picks the one interface it leaves by.
    All,
    /// An address of this host and the broadcast address to send to, given
    /// by hand: no interface lookup. `127.0.0.1` with `127.255.255.255`
    /// keeps beacons on this host.
    Address {
        /// An IPv4 address of this host; beacons leave from it.
        address: Ipv4Addr,
        /// Where beacons are sent.
        broadcast: Ipv4Addr,
    },
}

impl Interface {
    /// Reads it the way czmq does, from `ZSYS_INTERFACE` (see
    /// [`Interface::parse`]); unset is [`Interface::First`].
    pub fn from_env() -> Interface {
        Interface::parse(&std::env::var("ZSYS_INTERFACE").unwrap_or_default())
    }

    /// czmq's spelling: `""` is [`First`](Interface::First), `"*"` is
    /// [`All`](Interface::All), anything else a [`Name`](Interface::Name).
    pub fn parse(text: &str) -> Interface {
        match text {
            "" => Interface::First,
            "*" => Interface::All,
            name => Interface::Name(name.to_owned()),
        }
    }

    /// The interface's name (if looked up), address and broadcast address.
    fn resolve(&self) -> Result<(Option<String>, Ipv4Addr, Ipv4Addr)> {
        let wanted = match self {
            Interface::All => return Ok((None, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)),
            Interface::Address { address, broadcast } => {
                if broadcast.is_unspecified() {
                    return Err(Error::NoBroadcastAddress { address: *address });
                }
                return Ok((None, *address, *broadcast));
            }
            Interface::First => None,
            Interface::Name(name) => Some(name.as_str()),
        };
        let list = if_addrs::get_if_addrs().map_err(Error::Interfaces)?;
        list.into_iter()
            .filter(|i| wanted.is_none_or(|w| i.name == w))
            .filter(|i| i.is_oper_up() && !i.is_loopback() && !i.is_p2p())
            .find_map(|i| match &i.addr {
                if_addrs::IfAddr::V4(v4) => {
                    let broadcast = broadcast_of(v4.ip, v4.netmask, v4.broadcast)?;
                    Some((Some(i.name.clone()), v4.ip, broadcast))
                }
                if_addrs::IfAddr::V6(_) => None,
            })
            .ok_or_else(|| Error::NoInterface {
                name: wanted.map(str::to_owned),
            })
    }
}

impl Default for Interface {
    /// [`Interface::from_env`].
    fn default() -> Interface {
        Interface::from_env()
    }
}

/// The broadcast address of an interface: the one configured, or (when
/// none is, as after `ip addr add 10.0.0.1/24` without `brd`) the subnet's
/// last address, as czmq computes it. `None` for a /31 or /32 subnet.
fn broadcast_of(ip: Ipv4Addr, netmask: Ipv4Addr, configured: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
    match configured {
        Some(b) if !b.is_unspecified() && b != ip => Some(b),
        _ if netmask.to_bits().count_ones() >= 31 => None,
        _ => Some(Ipv4Addr::from_bits(ip.to_bits() | !netmask.to_bits())),
    }
}

/// A beacon from a peer, as [`Beacon::recv`] returns it (czmq: the two
/// frames, address and payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The sender's IP address (czmq's first frame is its text:
    /// `peer.to_string()`).
    pub peer: IpAddr,
    /// The beacon's payload, as published.
    pub payload: Vec<u8>,
}

/// What the publishing thread and the owner share.
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    /// What is published; `None` while silent.
    payload: Option<Arc<[u8]>>,
    interval: Duration,
    /// When the next beacon is due.
    next_at: Instant,
    /// The owner asked the thread to end.
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The publishing thread: sends the payload whenever it is due, holding
/// the lock while it sends, so that after [`Beacon::silence`] returns no
/// beacon leaves.
fn publish_loop(shared: &Shared, socket: &UdpSocket, to: SocketAddrV4) {
    let mut state = shared.lock();
    while !state.stop {
        let Some(payload) = state.payload.clone() else {
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let now = Instant::now();
        if now < state.next_at {
            let left = state.next_at - now;
            state = shared
                .wake
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        // A failed send (the link is down, say) is retried at the next
        // interval, as czmq does.
        let _ = socket.send_to(&payload, to);
        // Keep the rhythm, unless the thread fell behind.
        state.next_at = (state.next_at + state.interval).max(now);
    }
}

/// The publishing thread, started by the first [`Beacon::publish`].
struct Publisher {
    thread: JoinHandle<()>,
    /// Closed (and so readable) when the thread ends.
    done: mpsc::Receiver<()>,
}

/// A UDP broadcast beacon (czmq's `zbeacon` actor): publishes a payload at
/// an interval from a background thread and receives peers' beacons
/// matching a filter. See the [module docs](self).
///
/// [`publish`](Beacon::publish), [`silence`](Beacon::silence) and
/// [`recv`](Beacon::recv) take `&self`, so one thread can wait for beacons
/// while another changes what is published (share it in an `Arc`).
///
/// Drop asks the thread to end and returns at once (the thread ends within
/// microseconds: it waits on a condition variable, never on the network);
/// [`stop`](Beacon::stop) also waits for it, for a bounded time.
pub struct Beacon {
    port: u16,
    name: Option<String>,
    address: Ipv4Addr,
    broadcast: SocketAddrV4,
    sender: Arc<UdpSocket>,
    shared: Arc<Shared>,
    publisher: Mutex<Option<Publisher>>,
    /// The receiving socket and the filter, while subscribed.
    receiver: Option<(UdpSocket, Vec<u8>)>,
}

impl std::fmt::Debug for Beacon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beacon")
            .field("interface", &self.name)
            .field("address", &self.address)
            .field("broadcast", &self.broadcast)
            .field("publishing", &self.shared.lock().payload.is_some())
            .field("subscribed", &self.receiver.is_some())
            .finish()
    }
}

impl Beacon {
    /// A beacon on UDP `port` and the interface named by `ZSYS_INTERFACE`
    /// ([`Interface::from_env`]), as czmq's `CONFIGURE`. It neither sends
    /// nor hears anything until [`publish`](Beacon::publish) and
    /// [`subscribe`](Beacon::subscribe).
    pub fn new(port: u16) -> Result<Beacon> {
        Beacon::with_interface(port, &Interface::from_env())
    }

    /// A beacon on UDP `port` and the given interface.
    ///
    /// Fails with [`Error::ZeroPort`], [`Error::NoInterface`],
    /// [`Error::NoBroadcastAddress`], or [`Error::Socket`] (`bind`) when an
    /// [`Interface::Address`] is not an address of this host.
    pub fn with_interface(port: u16, interface: &Interface) -> Result<Beacon> {
        if port == 0 {
            return Err(Error::ZeroPort);
        }
        let (name, address, broadcast) = interface.resolve()?;
        // Beacons leave from the interface's address (which peers report)
        // and an ephemeral port: the beacon port itself is for receiving.
        let from = SocketAddrV4::new(address, 0);
        let sender = UdpSocket::bind(from).map_err(socket_error("bind", from))?;
        sender
            .set_broadcast(true)
            .map_err(socket_error("set SO_BROADCAST on", from))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                payload: None,
                interval: Duration::from_secs(1),
                next_at: Instant::now(),
                stop: false,
            }),
            wake: Condvar::new(),
        });
        Ok(Beacon {
            port,
            name,
            address,
            broadcast: SocketAddrV4::new(broadcast, port),
            sender: Arc::new(sender),
            shared,
            publisher: Mutex::new(None),
            receiver: None,
        })
    }

    /// The interface's address (czmq's `CONFIGURE` reply, the "hostname"
    /// peers can connect to); 0.0.0.0 for [`Interface::All`].
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Where beacons are sent: the broadcast address and the port.
    pub fn broadcast(&self) -> SocketAddrV4 {
        self.broadcast
    }

    /// The name of the interface, when it was looked up.
    pub fn interface_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts broadcasting `payload` every `interval`, replacing what was
    /// published (czmq: `PUBLISH`). The first beacon is sent before this
    /// returns, so a send error (no route, say) is returned here, and what
    /// was published before goes on; later failed sends are retried at the
    /// next interval.
    ///
    /// Fails with [`Error::PayloadTooLong`], [`Error::ZeroInterval`] or
    /// [`Error::Socket`] (`send to`).
    pub fn publish(&self, payload: impl AsRef<[u8]>, interval: Duration) -> Result<()> {
        let payload = payload.as_ref();
        if payload.len() > MAX_PAYLOAD {
            return Err(Error::PayloadTooLong { len: payload.len() });
        }
        if interval.is_zero() {
            return Err(Error::ZeroInterval);
        }
        {
            let mut publisher = self.publisher.lock().unwrap_or_else(|e| e.into_inner());
            if publisher.is_none() {
                *publisher = Some(self.spawn()?);
            }
        }
        // The lock is held while sending, so the thread cannot send the
        // old payload meanwhile; on an error what was published stays.
        let mut state = self.shared.lock();
        self.sender
            .send_to(payload, self.broadcast)
            .map_err(socket_error("send to", self.broadcast))?;
        state.payload = Some(payload.into());
        state.interval = interval;
        state.next_at = Instant::now() + interval;
        drop(state);
        self.shared.wake.notify_all();
        Ok(())
    }

    /// Stops broadcasting (czmq: `SILENCE`). No beacon leaves after this
    /// returns.
    pub fn silence(&self) {
        self.shared.lock().payload = None;
        self.shared.wake.notify_all();
    }

    /// The payload being published, if any.
    pub fn published(&self) -> Option<Vec<u8>> {
        self.shared.lock().payload.as_deref().map(<[u8]>::to_vec)
    }

    fn spawn(&self) -> Result<Publisher> {
        let (shared, socket, to) = (self.shared.clone(), self.sender.clone(), self.broadcast);
        let (tx, done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("zmqx-beacon".into())
            .spawn(move || {
                let _done = tx;
                publish_loop(&shared, &socket, to);
            })
            .map_err(|source| Error::Socket {
                op: "start the publishing thread for",
                addr: to.into(),
                source,
            })?;
        Ok(Publisher { thread, done })
    }

    /// Starts hearing peers' beacons that begin with `filter` (czmq:
    /// `SUBSCRIBE`); an empty filter hears all. Binds the beacon port on
    /// every address (with `SO_REUSEADDR` and `SO_REUSEPORT`, so other
    /// beacons on this host can too); beacons sent before this are not
    /// heard. Subscribing again replaces the filter.
    ///
    /// Fails with [`Error::FilterTooLong`] or [`Error::Socket`].
    pub fn subscribe(&mut self, filter: impl AsRef<[u8]>) -> Result<()> {
        let filter = filter.as_ref();
        if filter.len() > MAX_PAYLOAD {
            return Err(Error::FilterTooLong { len: filter.len() });
        }
        if let Some((_, f)) = &mut self.receiver {
            f.clear();
            f.extend_from_slice(filter);
            return Ok(());
        }
        self.receiver = Some((self.bind_receiver()?, filter.to_vec()));
        Ok(())
    }

    fn bind_receiver(&self) -> Result<UdpSocket> {
        use socket2::{Domain, Protocol, Socket, Type};
        let at = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.port);
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
            .map_err(socket_error("open a UDP socket for", at))?;
        socket
            .set_reuse_address(true)
            .map_err(socket_error("set SO_REUSEADDR on", at))?;
        #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
        socket
            .set_reuse_port(true)
            .map_err(socket_error("set SO_REUSEPORT on", at))?;
        socket
            .set_broadcast(true)
            .map_err(socket_error("set SO_BROADCAST on", at))?;
        socket.bind(&at.into()).map_err(socket_error("bind", at))?;
        Ok(socket.into())
    }

    /// Stops hearing beacons and closes the receiving socket (czmq:
    /// `UNSUBSCRIBE`).
    pub fn unsubscribe(&mut self) {
        self.receiver = None;
    }

    /// The next beacon from a peer that matches the filter, waiting at most
    /// `timeout` (at least a millisecond); `Ok(None)` when none came (czmq:
    /// `zmsg_recv` on the actor with a receive timeout).
    ///
    /// Fails with [`Error::NotSubscribed`] or [`Error::Socket`].
    pub fn recv(&self, timeout: Duration) -> Result<Option<Received>> {
        let Some((socket, filter)) = &self.receiver else {
            return Err(Error::NotSubscribed);
        };
        let at = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.port);
        let deadline = Instant::now() + timeout;
        // One byte more than a beacon may have, to see longer datagrams.
        let mut buf = [0u8; MAX_PAYLOAD + 1];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .map_err(socket_error("set SO_RCVTIMEO on", at))?;
            match socket.recv_from(&mut buf) {
                Ok((len, from)) => {
                    let data = &buf[..len];
                    if self.accepts(data, filter) {
                        return Ok(Some(Received {
                            peer: from.ip(),
                            payload: data.to_vec(),
                        }));
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(socket_error("receive on", at)(e)),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// czmq's rules: at most 255 bytes (longer ones are dropped here, not
    /// cut), starting with the filter, and not our own payload.
    fn accepts(&self, data: &[u8], filter: &[u8]) -> bool {
        data.len() <= MAX_PAYLOAD
            && data.starts_with(filter)
            && self.shared.lock().payload.as_deref() != Some(data)
    }

    /// Stops publishing and receiving and waits up to `timeout` for the
    /// publishing thread to end (czmq: `zactor_destroy`). Returns whether
    /// it ended in time (it always has when nothing was published).
    pub fn stop(mut self, timeout: Duration) -> bool {
        self.signal_stop();
        let publisher = self
            .publisher
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(publisher) = publisher else {
            return true;
        };
        match publisher.done.recv_timeout(timeout) {
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = publisher.thread.join();
                true
            }
            _ => false,
        }
    }

    fn signal_stop(&mut self) {
        self.receiver = None;
        let mut state = self.shared.lock();
        state.stop = true;
        state.payload = None;
        drop(state);
        self.shared.wake.notify_all();
    }
}

/// A [`Beacon`] whose beacons are received with `.await` on tokio
/// (features `beacon` and `tokio`).
///
/// Publishing is the [`Beacon`]'s ([`beacon`](AsyncBeacon::beacon)); only
/// receiving differs: [`subscribe`](AsyncBeacon::subscribe) registers the
/// receiving socket with the current tokio runtime, and
/// [`recv`](AsyncBeacon::recv) waits without blocking a thread (wrap it in
/// `tokio::time::timeout` for a deadline). Dropping the future of `recv`
/// loses no beacon.
///
/// ```no_run
/// # async fn demo() -> Result<(), zmqx::patterns::beacon::Error> {
/// use std::time::Duration;
/// use zmqx::patterns::beacon::{AsyncBeacon, Beacon};
///
/// let mut beacon = AsyncBeacon::from(Beacon::new(5670)?);
/// beacon.subscribe(b"NODE/")?;
/// beacon.beacon().publish(b"NODE/2", Duration::from_secs(1))?;
/// let peer = beacon.recv().await?;
/// println!("{} says {:?}", peer.peer, peer.payload);
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug)]
pub struct AsyncBeacon {
    beacon: Beacon,
    receiver: Option<(tokio::net::UdpSocket, Vec<u8>)>,
}

#[cfg(feature = "tokio")]
impl From<Beacon> for AsyncBeacon {
    /// Takes over a beacon; a subscription it had ends (subscribe again).
    fn from(mut beacon: Beacon) -> AsyncBeacon {
        beacon.unsubscribe();
        AsyncBeacon {
            beacon,
            receiver: None,
        }
    }
}

#[cfg(feature = "tokio")]
impl AsyncBeacon {
    /// The beacon: publish, silence, its address.
    pub fn beacon(&self) -> &Beacon {
        &self.beacon
    }

    /// As [`Beacon::subscribe`], the socket registered with the current
    /// tokio runtime (outside one: [`Error::Socket`]).
    pub fn subscribe(&mut self, filter: impl AsRef<[u8]>) -> Result<()> {
        let filter = filter.as_ref();
        if filter.len() > MAX_PAYLOAD {
            return Err(Error::FilterTooLong { len: filter.len() });
        }
        if let Some((_, f)) = &mut self.receiver {
            f.clear();
            f.extend_from_slice(filter);
            return Ok(());
        }
        let at = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.beacon.port);
        let socket = self.beacon.bind_receiver()?;
        socket
            .set_nonblocking(true)
            .map_err(socket_error("set O_NONBLOCK on", at))?;
        let socket = tokio::net::UdpSocket::from_std(socket)
            .map_err(socket_error("register with tokio", at))?;
        self.receiver = Some((socket, filter.to_vec()));
        Ok(())
    }

    /// As [`Beacon::unsubscribe`].
    pub fn unsubscribe(&mut self) {
        self.receiver = None;
    }

    /// The next beacon from a peer that matches the filter.
    ///
    /// Fails with [`Error::NotSubscribed`] or [`Error::Socket`].
    pub async fn recv(&self) -> Result<Received> {
        let Some((socket, filter)) = &self.receiver else {
            return Err(Error::NotSubscribed);
        };
        let mut buf = [0u8; MAX_PAYLOAD + 1];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((len, from)) => {
                    let data = &buf[..len];
                    if self.beacon.accepts(data, filter) {
                        return Ok(Received {
                            peer: from.ip(),
                            payload: data.to_vec(),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let at = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.beacon.port);
                    return Err(socket_error("receive on", at)(e));
                }
            }
        }
    }

    /// As [`Beacon::stop`] (the wait is for a thread that ends within
    /// microseconds once asked).
    pub fn stop(self, timeout: Duration) -> bool {
        drop(self.receiver);
        self.beacon.stop(timeout)
    }
}

impl Drop for Beacon {
    /// Asks the publishing thread to end and returns at once.
    fn drop(&mut self) {
        self.signal_stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loopback interface: nothing leaves this host.
    fn loopback() -> Interface {
        Interface::Address {
            address: Ipv4Addr::LOCALHOST,
            broadcast: Ipv4Addr::new(127, 255, 255, 255),
        }
    }

    /// A beacon on the loopback interface and a port no other test uses.
    fn local() -> Beacon {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        Beacon::with_interface(port, &loopback()).expect("loopback beacon")
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let mut b = local();
        let e = b.publish([0u8; 256], Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, Error::PayloadTooLong { len: 256 }), "{e}");
        assert!(e.to_string().contains("256 bytes"), "{e}");
        let e = b.publish(b"x", Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::ZeroInterval), "{e}");
        let e = b.subscribe([0u8; 300]).unwrap_err();
        assert!(matches!(e, Error::FilterTooLong { len: 300 }), "{e}");
        let e = b.recv(Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::NotSubscribed), "{e}");
        let e = Beacon::with_interface(0, &Interface::All).unwrap_err();
        assert!(matches!(e, Error::ZeroPort), "{e}");
        let e = Beacon::with_interface(5670, &Interface::Name("zmqx-none0".into())).unwrap_err();
        assert!(
            matches!(&e, Error::NoInterface { name: Some(n) } if n == "zmqx-none0"),
            "{e}"
        );
        assert!(e.to_string().contains("zmqx-none0"), "{e}");
        // The loopback interface is never picked by name (as czmq).
        let e = Beacon::with_interface(5670, &Interface::Name("lo".into())).unwrap_err();
        assert!(matches!(e, Error::NoInterface { .. }), "{e}");
        // An address this host does not have: the bind names it.
        let iface = Interface::Address {
            address: Ipv4Addr::new(192, 0, 2, 1),
            broadcast: Ipv4Addr::new(192, 0, 2, 255),
        };
        let e = Beacon::with_interface(5670, &iface).unwrap_err();
        assert!(matches!(e, Error::Socket { op: "bind", .. }), "{e}");
        assert!(e.to_string().contains("192.0.2.1:0"), "{e}");
        let iface = Interface::Address {
            address: Ipv4Addr::LOCALHOST,
            broadcast: Ipv4Addr::UNSPECIFIED,
        };
        let e = Beacon::with_interface(5670, &iface).unwrap_err();
        assert!(matches!(e, Error::NoBroadcastAddress { .. }), "{e}");
        // Nothing was published by the failed calls.
        assert_eq!(b.published(), None);
        assert!(b.stop(Duration::from_secs(5)));
    }

    #[test]
    fn stop_ends_the_thread_and_the_beacons() -> Result<()> {
        let t = Duration::from_secs(10);
        let a = local();
        let mut b = Beacon::with_interface(a.port(), &loopback())?;
        b.subscribe(b"")?;
        a.publish(b"A", Duration::from_millis(10))?;
        assert_eq!(b.recv(t)?.expect("a beacon").payload, b"A");
        let started = Instant::now();
        assert!(a.stop(t), "the thread ends");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        // Drain what was sent before the stop, then silence.
        while b.recv(Duration::from_millis(50))?.is_some() {}
        assert_eq!(b.recv(Duration::from_millis(100))?, None);
        // Dropping a publishing beacon returns at once, and it goes quiet.
        let c = Beacon::with_interface(b.port(), &loopback())?;
        c.publish(b"C", Duration::from_millis(10))?;
        assert_eq!(b.recv(t)?.expect("c's beacon").payload, b"C");
        let started = Instant::now();
        drop(c);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
        while b.recv(Duration::from_millis(50))?.is_some() {}
        assert_eq!(b.recv(Duration::from_millis(100))?, None);
        Ok(())
    }

    #[cfg(feature = "tokio")]
    #[tokio::test]
    async fn async_receive_with_filter() -> Result<()> {
        let a = local();
        let mut b = AsyncBeacon::from(Beacon::with_interface(a.port(), &loopback())?);
        let e = b.recv().await.unwrap_err();
        assert!(matches!(e, Error::NotSubscribed), "{e}");
        b.subscribe(b"YES")?;
        b.beacon().publish(b"YES-b", Duration::from_millis(10))?;
        a.publish(b"NO", Duration::from_millis(10))?;
        let t = Duration::from_secs(10);
        // Filtered out: "NO"; discarded as our own: "YES-b"; a switches to
        // a payload that passes, and only that one arrives.
        a.publish(b"YES-a", Duration::from_millis(10))?;
        for _ in 0..3 {
            let m = tokio::time::timeout(t, b.recv()).await.expect("in time")?;
            assert_eq!(m.payload, b"YES-a");
        }
        assert!(b.stop(t));
        assert!(a.stop(t));
        Ok(())
    }

    /// One thread can receive while another publishes (`Arc<Beacon>`).
    #[test]
    fn beacon_is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Beacon>();
        #[cfg(feature = "tokio")]
        send_sync::<AsyncBeacon>();
    }

    #[test]
    fn interface_spelling_is_czmqs() {
        assert_eq!(Interface::parse(""), Interface::First);
        assert_eq!(Interface::parse("*"), Interface::All);
        assert_eq!(Interface::parse("eth0"), Interface::Name("eth0".into()));
    }

    #[test]
    fn broadcast_address_is_computed_when_not_configured() {
        let ip = Ipv4Addr::new(10, 1, 2, 3);
        let mask = Ipv4Addr::new(255, 255, 255, 0);
        let want = Some(Ipv4Addr::new(10, 1, 2, 255));
        assert_eq!(broadcast_of(ip, mask, None), want);
        assert_eq!(broadcast_of(ip, mask, Some(Ipv4Addr::UNSPECIFIED)), want);
        assert_eq!(broadcast_of(ip, mask, Some(ip)), want);
        let b = Ipv4Addr::new(10, 1, 2, 127);
        assert_eq!(broadcast_of(ip, mask, Some(b)), Some(b));
        assert_eq!(broadcast_of(ip, Ipv4Addr::BROADCAST, None), None);
    }

    /// Two beacons on one port of the loopback interface hear each other,
    /// not themselves, through the filter.
    #[test]
    fn loopback_round_trip_with_filter_and_no_echo() -> Result<()> {
        let t = Duration::from_secs(10);
        let mut a = local();
        let mut b = Beacon::with_interface(a.port(), &loopback())?;
        a.subscribe(b"")?;
        b.subscribe(b"NODE/")?;
        a.publish(b"NODE/a", Duration::from_millis(20))?;
        b.publish(b"NODE/b", Duration::from_millis(20))?;
        let heard = b.recv(t)?.expect("b hears a");
        assert_eq!(heard.payload, b"NODE/a");
        assert_eq!(heard.peer, IpAddr::V4(Ipv4Addr::LOCALHOST));
        // a hears b's beacons only, never its own, several times over.
        for _ in 0..5 {
            assert_eq!(a.recv(t)?.expect("a hears b").payload, b"NODE/b");
        }
        // b's filter drops what does not start with NODE/.
        a.publish(b"OTHER", Duration::from_millis(20))?;
        let deadline = Instant::now() + Duration::from_millis(300);
        while let Some(m) = b.recv(deadline.saturating_duration_since(Instant::now()))? {
            assert_eq!(m.payload, b"NODE/a", "only a's old beacon may be queued");
        }
        assert!(a.stop(t));
        assert!(b.stop(t));
        Ok(())
    }
}
