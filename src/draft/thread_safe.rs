//! [`ThreadSafeSocket`]: libzmq's thread-safe DRAFT socket types, `Sync`.

use std::ffi::{CString, c_void};

use crate::constants::{Event, SocketType};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::socket::{Sendable, Socket};

use super::MonitorV2;
use super::require_draft;

/// The longest group name libzmq accepts (`ZMQ_GROUP_MAX_LENGTH`).
const GROUP_MAX_LENGTH: usize = 255;

impl SocketType {
    /// Whether libzmq makes sockets of this type thread-safe
    /// (`ZMQ_THREAD_SAFE`): SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER,
    /// PEER and CHANNEL (DRAFT). They are made as
    /// [`ThreadSafeSocket`]s by [`Context::thread_safe_socket`].
    pub const fn is_thread_safe(self) -> bool {
        matches!(
            self,
            SocketType::Server
                | SocketType::Client
                | SocketType::Radio
                | SocketType::Dish
                | SocketType::Gather
                | SocketType::Scatter
                | SocketType::Peer
                | SocketType::Channel
        )
    }
}

impl Context {
    /// A new socket of a thread-safe DRAFT type (`zmq_socket` with
    /// `ZMQ_SERVER`, `ZMQ_CLIENT`, `ZMQ_RADIO`, `ZMQ_DISH`, `ZMQ_GATHER`,
    /// `ZMQ_SCATTER`, `ZMQ_PEER` or `ZMQ_CHANNEL`), with this context's
    /// default socket options applied. pyzmq's `ctx.socket(zmq.SERVER)`.
    ///
    /// Other types are an [`Error::NotThreadSafe`]; a libzmq built without
    /// the DRAFT API is an [`Error::MissingCapability`].
    pub fn thread_safe_socket(&self, kind: SocketType) -> Result<ThreadSafeSocket> {
        if !kind.is_thread_safe() {
            return Err(Error::NotThreadSafe {
                socket_type: kind.to_string(),
            });
        }
        require_draft(&format!("ZMQ_{} sockets", kind.name()))?;
        ThreadSafeSocket::new(self.socket(kind)?)
    }
}

/// A socket of a thread-safe DRAFT type (SERVER, CLIENT, RADIO, DISH,
/// GATHER, SCATTER, PEER, CHANNEL), made by
/// [`Context::thread_safe_socket`].
///
/// libzmq serialises every call on these sockets with a mutex, so unlike
/// [`Socket`] a `ThreadSafeSocket` is `Sync`: share it between threads
/// (`&ThreadSafeSocket`, `Arc<ThreadSafeSocket>`) and send or receive from
/// all of them at once. These types carry single-part messages only (there
/// is no multipart send on them). Routing ids (SERVER, PEER) and
/// groups (RADIO, DISH) travel on the [`Message`].
///
/// ```
/// fn shared<T: Send + Sync>() {}
/// shared::<zmqx::draft::ThreadSafeSocket>();
/// ```
///
/// The classic [`Socket`] stays `!Sync`:
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<zmqx::Socket>();
/// ```
///
/// Like a [`Socket`], it keeps its context alive and is closed when dropped,
/// with its linger.
pub struct ThreadSafeSocket {
    socket: Socket,
    kind: SocketType,
}

// SAFETY: the wrapped socket is of a type libzmq makes thread-safe (checked
// with ZMQ_THREAD_SAFE when it is wrapped): libzmq takes the socket's own
// mutex in every call on it (options, bind/connect, send/recv, monitor,
// close) and its mailbox is the thread-safe kind. On the Rust side `Socket`
// holds only the raw pointer, an `Arc` of the (Sync) context state, an
// atomic copy threshold and a `OnceLock` of its (Sync) monitor link: its
// `!Sync` marker stands for libzmq's rule, which these types lift.
unsafe impl Sync for ThreadSafeSocket {}

impl std::fmt::Debug for ThreadSafeSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSafeSocket")
            .field("raw", &self.socket.as_raw())
            .field("type", &self.kind)
            .finish()
    }
}

impl ThreadSafeSocket {
    /// Wraps a [`Socket`] of a thread-safe type (one made by
    /// [`Context::socket`] with `SocketType::Server`…). Fails with
    /// [`Error::NotThreadSafe`] for other types, dropping the socket.
    pub fn new(socket: Socket) -> Result<ThreadSafeSocket> {
        let kind = socket.socket_type()?;
        if !kind.is_thread_safe() || !socket.thread_safe()? {
            return Err(Error::NotThreadSafe {
                socket_type: kind.to_string(),
            });
        }
        require_draft(&format!("ZMQ_{} sockets", kind.name()))?;
        Ok(ThreadSafeSocket { socket, kind })
    }

    /// The socket type.
    pub fn socket_type(&self) -> SocketType {
        self.kind
    }

    /// The wrapped [`Socket`], for everything it has that `self` does not
    /// (every option accessor is on `self` too). Calls on it are as
    /// thread-safe as on `self`; multipart calls fail with libzmq's `EINVAL`
    /// on these types.
    pub fn as_socket(&self) -> &Socket {
        &self.socket
    }

    /// Gives back the wrapped [`Socket`] (which is `!Sync`).
    pub fn into_socket(self) -> Socket {
        self.socket
    }

    /// The raw `void *` socket, valid while `self` is alive.
    pub fn as_raw(&self) -> *mut c_void {
        self.socket.as_raw()
    }

    /// The context this socket belongs to.
    pub fn context(&self) -> Context {
        self.socket.context()
    }

    /// Accepts connections on an endpoint (`zmq_bind`); see [`Socket::bind`].
    /// Returns the endpoint actually bound (with the port the OS picked for
    /// `:*`), read from `ZMQ_LAST_ENDPOINT` right after the bind: if another
    /// thread binds this socket at the same moment, bind from one thread or
    /// use explicit ports to know which endpoint is whose.
    pub fn bind(&self, endpoint: &str) -> Result<String> {
        self.socket.bind(endpoint)
    }

    /// Connects to an endpoint (`zmq_connect`); see [`Socket::connect`].
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        self.socket.connect(endpoint)
    }

    /// Stops accepting on an endpoint (`zmq_unbind`).
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.socket.unbind(endpoint)
    }

    /// Disconnects from an endpoint (`zmq_disconnect`).
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.socket.disconnect(endpoint)
    }

    /// Connects a PEER socket to an endpoint and returns the routing id of
    /// that peer, to address it with [`send_to`](Self::send_to)
    /// (`zmq_connect_peer`).
    pub fn connect_peer(&self, endpoint: &str) -> Result<u32> {
        self.socket.connect_peer(endpoint)
    }

    /// Joins a group on a DISH socket (`zmq_join`; pyzmq's `dish.join`).
    pub fn join(&self, group: &str) -> Result<()> {
        self.socket.join(group)
    }

    /// Leaves a group on a DISH socket (`zmq_leave`; pyzmq's `dish.leave`).
    pub fn leave(&self, group: &str) -> Result<()> {
        self.socket.leave(group)
    }

    /// Sends one message (`zmq_msg_send`). On SERVER and PEER the message
    /// must carry a routing id ([`send_to`](Self::send_to),
    /// [`Message::set_routing_id`]); on RADIO a group
    /// ([`send_group`](Self::send_group), [`Message::set_group`]). These
    /// types carry single-part messages only, so there is no multipart send.
    ///
    /// Sending `&mut Message` leaves it untouched when the send fails.
    pub fn send<D: Sendable>(&self, data: D) -> Result<()> {
        data.send_on(&self.socket, 0)
    }

    /// Sends one message without blocking: `Ok(false)` when it would block,
    /// as [`Socket::try_send`].
    pub fn try_send<D: Sendable>(&self, data: D) -> Result<bool> {
        match data.send_on(&self.socket, zmq_sys::ZMQ_DONTWAIT) {
            Ok(()) => Ok(true),
            Err(Error::Again) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sends `data` to the peer with this routing id (SERVER, PEER; pyzmq's
    /// `send(data, routing_id=id)`). An unknown peer is
    /// [`Error::HostUnreachable`].
    pub fn send_to<D: Into<Message>>(&self, data: D, routing_id: u32) -> Result<()> {
        let mut msg = data.into();
        msg.set_routing_id(routing_id)?;
        self.send(&mut msg)
    }

    /// Sends `data` to a group (RADIO; pyzmq's `send(data, group=…)`).
    pub fn send_group<D: Into<Message>>(&self, data: D, group: &str) -> Result<()> {
        check_group(group)?;
        let mut msg = data.into();
        msg.set_group(group)?;
        self.send(&mut msg)
    }

    /// Receives one message (`zmq_msg_recv`), with its routing id (SERVER,
    /// PEER) or group (DISH) on it; as [`Socket::recv_msg`].
    pub fn recv_msg(&self) -> Result<Message> {
        self.socket.recv_msg()
    }

    /// Receives one message into `msg`, reusing it; as
    /// [`Socket::recv_msg_into`].
    pub fn recv_msg_into(&self, msg: &mut Message) -> Result<()> {
        self.socket.recv_msg_into(msg)
    }

    /// Receives one message without blocking: `Ok(None)` when none is there.
    pub fn try_recv_msg(&self) -> Result<Option<Message>> {
        self.socket.try_recv_msg()
    }

    /// Receives a batch of messages into `buffer`, reusing its messages,
    /// waiting for the first only; as [`Socket::recv_many`].
    pub fn recv_many(&self, buffer: &mut [Message]) -> Result<usize> {
        self.socket.recv_many(buffer)
    }

    /// [`recv_many`](Self::recv_many) without waiting: `Ok(None)` when no
    /// message is there.
    pub(crate) fn try_recv_many(&self, buffer: &mut [Message]) -> Result<Option<usize>> {
        self.socket.try_recv_many(buffer)
    }

    /// Starts monitoring with version-2 events; see
    /// [`Socket::monitor_events_v2`].
    pub fn monitor_events_v2(&self, events: Event) -> Result<MonitorV2> {
        self.socket.monitor_events_v2(events)
    }
}

/// A group name as a C string: no NUL, at most 255 bytes.
pub(crate) fn check_group(group: &str) -> Result<CString> {
    if group.len() > GROUP_MAX_LENGTH {
        return Err(Error::invalid(
            format!("group {group:?}"),
            format!("longer than {GROUP_MAX_LENGTH} bytes"),
        ));
    }
    CString::new(group).map_err(|_| Error::invalid(format!("group {group:?}"), "interior NUL byte"))
}
