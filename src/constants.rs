//! Typed libzmq constants: pyzmq's constant enums (`zmq.SocketType`,
//! `zmq.Flag`, `zmq.PollEvent`, `zmq.Event`, …) in Rust.
//!
//! Conversions from raw integers never panic: enums have a `from_raw` that
//! returns `None` for unknown values, and flag sets keep unknown bits.
#![forbid(unsafe_code)]

/// Declares a C-like enum over `i32` with `from_raw`/`raw`, `TryFrom<i32>`
/// and a doc line per variant naming the libzmq constant.
macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[doc = $doc:expr])* $(#[cfg($cfg:meta)])? $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $doc])* $(#[cfg($cfg)])? $variant = $value, )*
        }

        impl $name {
            /// Every variant this build has, in declaration order.
            // One push per variant, since some variants only exist with a feature.
            #[allow(clippy::vec_init_then_push)]
            pub fn all() -> Vec<$name> {
                let mut all = Vec::new();
                $( $(#[cfg($cfg)])? all.push($name::$variant); )*
                all
            }

            /// The variant for a raw libzmq value, `None` when unknown.
            pub const fn from_raw(raw: i32) -> Option<$name> {
                match raw {
                    $( $(#[cfg($cfg)])? x if x == $value => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// The raw libzmq value.
            #[inline]
            pub const fn raw(self) -> i32 {
                self as i32
            }
        }

        impl TryFrom<i32> for $name {
            type Error = crate::Error;
            fn try_from(raw: i32) -> crate::Result<$name> {
                $name::from_raw(raw).ok_or_else(|| {
                    crate::Error::invalid(stringify!($name), format!("unknown value {raw}"))
                })
            }
        }

        impl From<$name> for i32 {
            fn from(v: $name) -> i32 {
                v as i32
            }
        }
    };
}

int_enum! {
    /// Socket types (`ZMQ_PAIR` … `ZMQ_STREAM`; the DRAFT types with the
    /// `draft` feature). pyzmq's `zmq.SocketType`.
    pub enum SocketType {
        /// `ZMQ_PAIR`: exclusive pair.
        Pair = 0,
        /// `ZMQ_PUB`: publisher.
        Pub = 1,
        /// `ZMQ_SUB`: subscriber.
        Sub = 2,
        /// `ZMQ_REQ`: request (strict send/recv alternation).
        Req = 3,
        /// `ZMQ_REP`: reply.
        Rep = 4,
        /// `ZMQ_DEALER`: asynchronous request (formerly `XREQ`).
        Dealer = 5,
        /// `ZMQ_ROUTER`: asynchronous reply, routing by identity (formerly `XREP`).
        ///
        /// Without `ZMQ_ROUTER_MANDATORY`
        /// ([`Socket::set_router_mandatory`](crate::Socket::set_router_mandatory),
        /// or the [`Hardening`](crate::Hardening) preset), a ROUTER *drops*
        /// a message it cannot deliver (an unknown routing id, or a peer at
        /// its high-water mark) while `send` returns `Ok`: a soak test saw 399
        /// of a million messages vanish that way. With it, the send fails
        /// with [`Error::HostUnreachable`](crate::Error::HostUnreachable)
        /// (no such peer) or blocks / fails with
        /// [`Error::Again`](crate::Error::Again) (peer full), and nothing is
        /// lost silently.
        Router = 6,
        /// `ZMQ_PULL`: pipeline downstream.
        Pull = 7,
        /// `ZMQ_PUSH`: pipeline upstream.
        Push = 8,
        /// `ZMQ_XPUB`: publisher that sees subscriptions.
        XPub = 9,
        /// `ZMQ_XSUB`: subscriber that sends subscriptions as messages.
        XSub = 10,
        /// `ZMQ_STREAM`: raw TCP.
        Stream = 11,
        /// `ZMQ_SERVER` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Server = 12,
        /// `ZMQ_CLIENT` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Client = 13,
        /// `ZMQ_RADIO` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Radio = 14,
        /// `ZMQ_DISH` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Dish = 15,
        /// `ZMQ_GATHER` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Gather = 16,
        /// `ZMQ_SCATTER` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Scatter = 17,
        /// `ZMQ_DGRAM` (DRAFT).
        #[cfg(feature = "draft")]
        Dgram = 18,
        /// `ZMQ_PEER` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Peer = 19,
        /// `ZMQ_CHANNEL` (DRAFT, thread-safe).
        #[cfg(feature = "draft")]
        Channel = 20,
    }
}

impl SocketType {
    /// The libzmq name, as in `ZMQ_<NAME>` (`"PUSH"`, `"ROUTER"`…).
    pub fn name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pull => "PULL",
            SocketType::Push => "PUSH",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Stream => "STREAM",
            #[cfg(feature = "draft")]
            SocketType::Server => "SERVER",
            #[cfg(feature = "draft")]
            SocketType::Client => "CLIENT",
            #[cfg(feature = "draft")]
            SocketType::Radio => "RADIO",
            #[cfg(feature = "draft")]
            SocketType::Dish => "DISH",
            #[cfg(feature = "draft")]
            SocketType::Gather => "GATHER",
            #[cfg(feature = "draft")]
            SocketType::Scatter => "SCATTER",
            #[cfg(feature = "draft")]
            SocketType::Dgram => "DGRAM",
            #[cfg(feature = "draft")]
            SocketType::Peer => "PEER",
            #[cfg(feature = "draft")]
            SocketType::Channel => "CHANNEL",
        }
    }
}

impl std::fmt::Display for SocketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SocketType {
    type Err = crate::Error;
    /// Parses `"push"`, `"PUSH"`, `"zmq_push"`… (case-insensitive).
    fn from_str(s: &str) -> crate::Result<SocketType> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("ZMQ_").unwrap_or(&upper);
        let name = match name {
            "XREQ" => "DEALER",
            "XREP" => "ROUTER",
            n => n,
        };
        SocketType::all()
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| crate::Error::invalid("socket type", format!("unknown type {s:?}")))
    }
}

int_enum! {
    /// Security mechanisms (`ZMQ_NULL`, `ZMQ_PLAIN`, `ZMQ_CURVE`,
    /// `ZMQ_GSSAPI`), as reported by `ZMQ_MECHANISM`. pyzmq's
    /// `zmq.SecurityMechanism`.
    pub enum Mechanism {
        /// `ZMQ_NULL`: no security.
        Null = 0,
        /// `ZMQ_PLAIN`: clear-text username and password.
        Plain = 1,
        /// `ZMQ_CURVE`: CurveZMQ encryption and authentication.
        Curve = 2,
        /// `ZMQ_GSSAPI`: Kerberos.
        Gssapi = 3,
    }
}

int_enum! {
    /// Device types for `zmq_device` (`ZMQ_STREAMER`,
    /// `ZMQ_FORWARDER`, `ZMQ_QUEUE`). pyzmq's `zmq.DeviceType`.
    pub enum DeviceType {
        /// `ZMQ_STREAMER`: PULL to PUSH.
        Streamer = 1,
        /// `ZMQ_FORWARDER`: SUB to PUB.
        Forwarder = 2,
        /// `ZMQ_QUEUE`: ROUTER to DEALER.
        Queue = 3,
    }
}

int_enum! {
    /// NORM transport modes for `ZMQ_NORM_MODE` (`ZMQ_NORM_FIXED` …).
    /// pyzmq's `zmq.NormMode`.
    pub enum NormMode {
        /// `ZMQ_NORM_FIXED`: fixed rate.
        Fixed = 0,
        /// `ZMQ_NORM_CC`: congestion control.
        Cc = 1,
        /// `ZMQ_NORM_CCL`: loss-tolerant congestion control.
        Ccl = 2,
        /// `ZMQ_NORM_CCE`: ECN congestion control.
        Cce = 3,
        /// `ZMQ_NORM_CCE_ECNONLY`: ECN-only congestion control.
        CceEcnOnly = 4,
    }
}

int_enum! {
    /// GSSAPI principal name types (`ZMQ_GSSAPI_NT_*`).
    pub enum GssapiNameType {
        /// `ZMQ_GSSAPI_NT_HOSTBASED`.
        HostBased = 0,
        /// `ZMQ_GSSAPI_NT_USER_NAME`.
        UserName = 1,
        /// `ZMQ_GSSAPI_NT_KRB5_PRINCIPAL`.
        Krb5Principal = 2,
    }
}

int_enum! {
    /// Message properties for `zmq_msg_get` (`ZMQ_MORE`, `ZMQ_SRCFD`,
    /// `ZMQ_SHARED`). pyzmq's `zmq.MessageOption`.
    pub enum MessageOption {
        /// `ZMQ_MORE`: more parts follow.
        More = 1,
        /// `ZMQ_SRCFD`: the fd the message came from (deprecated by libzmq).
        SrcFd = 2,
        /// `ZMQ_SHARED`: the buffer is shared with another message.
        Shared = 3,
    }
}

int_enum! {
    /// Context options for `zmq_ctx_get`/`zmq_ctx_set`. pyzmq's
    /// `zmq.ContextOption`.
    pub enum ContextOption {
        /// `ZMQ_IO_THREADS`: number of I/O threads (set before the first socket).
        IoThreads = 1,
        /// `ZMQ_MAX_SOCKETS`: maximum number of sockets.
        MaxSockets = 2,
        /// `ZMQ_SOCKET_LIMIT`: the largest `MAX_SOCKETS` allowed (read-only).
        SocketLimit = 3,
        /// `ZMQ_THREAD_PRIORITY`: scheduling priority of I/O threads (write-only).
        ThreadPriority = 3 + 0x10000,
        /// `ZMQ_THREAD_SCHED_POLICY`: scheduling policy of I/O threads.
        ThreadSchedPolicy = 4,
        /// `ZMQ_MAX_MSGSZ`: largest message size allowed.
        MaxMsgSz = 5,
        /// `ZMQ_MSG_T_SIZE`: `sizeof(zmq_msg_t)` (read-only).
        MsgTSize = 6,
        /// `ZMQ_THREAD_AFFINITY_CPU_ADD`: pin I/O threads to a CPU (write-only).
        ThreadAffinityCpuAdd = 7,
        /// `ZMQ_THREAD_AFFINITY_CPU_REMOVE`: unpin a CPU (write-only).
        ThreadAffinityCpuRemove = 8,
        /// `ZMQ_THREAD_NAME_PREFIX`: numeric prefix of I/O thread names.
        ThreadNamePrefix = 9,
        /// `ZMQ_ZERO_COPY_RECV` (DRAFT section of `zmq.h`, in every 4.3.5 build):
        /// decode received messages without copying them out of the read buffer.
        ZeroCopyRecv = 10,
        /// `ZMQ_IPV6`: new sockets use IPv6.
        Ipv6 = 42,
        /// `ZMQ_BLOCKY`: `zmq_ctx_term` blocks on sockets with linger (new
        /// sockets get linger 0 when false).
        Blocky = 70,
    }
}

impl ContextOption {
    /// The number libzmq uses. `ZMQ_THREAD_PRIORITY` and `ZMQ_SOCKET_LIMIT`
    /// share the value 3 in `zmq.h` (one is set-only, the other get-only), so
    /// the enum keeps them apart and this maps both back to 3.
    #[inline]
    pub const fn id(self) -> i32 {
        (self as i32) & 0xffff
    }
}

bitflags::bitflags! {
    /// Flags of [`Socket::send_with`](crate::Socket::send_with) (`ZMQ_DONTWAIT`, `ZMQ_SNDMORE`);
    /// pyzmq's `zmq.Flag`. The common calls need none: [`send`](crate::Socket::send),
    /// [`send_multipart`](crate::Socket::send_multipart) and the `try_*` calls cover them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SendFlags: i32 {
        /// `ZMQ_DONTWAIT`: fail with `EAGAIN` instead of blocking.
        const DONTWAIT = 1;
        /// `ZMQ_SNDMORE`: more parts of this message follow.
        const SNDMORE = 2;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Poll events (`ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`, `ZMQ_POLLPRI`),
    /// also what `ZMQ_EVENTS` reports. pyzmq's `zmq.PollEvent`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PollEvents: i16 {
        /// `ZMQ_POLLIN`: a message can be received.
        const POLLIN = 1;
        /// `ZMQ_POLLOUT`: a message can be sent.
        const POLLOUT = 2;
        /// `ZMQ_POLLERR`: an error condition (raw fds only).
        const POLLERR = 4;
        /// `ZMQ_POLLPRI`: urgent data (raw fds only).
        const POLLPRI = 8;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Socket monitor events (`ZMQ_EVENT_*`). pyzmq's `zmq.Event`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Event: u32 {
        /// `ZMQ_EVENT_CONNECTED`.
        const CONNECTED = 1;
        /// `ZMQ_EVENT_CONNECT_DELAYED`.
        const CONNECT_DELAYED = 2;
        /// `ZMQ_EVENT_CONNECT_RETRIED`.
        const CONNECT_RETRIED = 4;
        /// `ZMQ_EVENT_LISTENING`.
        const LISTENING = 8;
        /// `ZMQ_EVENT_BIND_FAILED`.
        const BIND_FAILED = 16;
        /// `ZMQ_EVENT_ACCEPTED`.
        const ACCEPTED = 32;
        /// `ZMQ_EVENT_ACCEPT_FAILED`.
        const ACCEPT_FAILED = 64;
        /// `ZMQ_EVENT_CLOSED`.
        const CLOSED = 128;
        /// `ZMQ_EVENT_CLOSE_FAILED`.
        const CLOSE_FAILED = 256;
        /// `ZMQ_EVENT_DISCONNECTED`.
        const DISCONNECTED = 512;
        /// `ZMQ_EVENT_MONITOR_STOPPED`.
        const MONITOR_STOPPED = 1024;
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`.
        const HANDSHAKE_FAILED_NO_DETAIL = 2048;
        /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`.
        const HANDSHAKE_SUCCEEDED = 4096;
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`.
        const HANDSHAKE_FAILED_PROTOCOL = 8192;
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`.
        const HANDSHAKE_FAILED_AUTH = 16384;
        /// `ZMQ_EVENT_PIPES_STATS` (DRAFT).
        const PIPES_STATS = 65536;
        /// `ZMQ_EVENT_ALL`: every version-1 event.
        const ALL = 0xffff;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// When to stop reconnecting (`ZMQ_RECONNECT_STOP_*`, DRAFT option
    /// `ZMQ_RECONNECT_STOP`). pyzmq's `zmq.ReconnectStop`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ReconnectStop: i32 {
        /// `ZMQ_RECONNECT_STOP_CONN_REFUSED`.
        const CONN_REFUSED = 1;
        /// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`.
        const HANDSHAKE_FAILED = 2;
        /// `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT`.
        const AFTER_DISCONNECT = 4;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// ROUTER peer notifications (`ZMQ_NOTIFY_CONNECT`, `ZMQ_NOTIFY_DISCONNECT`,
    /// DRAFT option `ZMQ_ROUTER_NOTIFY`). pyzmq's `zmq.RouterNotify`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RouterNotify: i32 {
        /// `ZMQ_NOTIFY_CONNECT`.
        const CONNECT = 1;
        /// `ZMQ_NOTIFY_DISCONNECT`.
        const DISCONNECT = 2;
        const _ = !0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_conversions_never_panic() {
        for raw in -5..200 {
            let _ = SocketType::from_raw(raw);
            let _ = Mechanism::from_raw(raw);
            let _ = ContextOption::from_raw(raw);
            let _ = PollEvents::from_bits_retain(raw as i16);
        }
        assert_eq!(SocketType::from_raw(8), Some(SocketType::Push));
        assert!(SocketType::try_from(99).is_err());
        assert_eq!(Event::from_bits_retain(1 << 20).bits(), 1 << 20);
    }

    #[test]
    fn values_match_zmq_h() {
        assert_eq!(SocketType::Stream.raw(), zmq_sys::ZMQ_STREAM);
        assert_eq!(SocketType::XSub.raw(), zmq_sys::ZMQ_XSUB);
        assert_eq!(Mechanism::Curve.raw(), zmq_sys::ZMQ_CURVE);
        assert_eq!(
            ContextOption::ThreadPriority.id(),
            zmq_sys::ZMQ_THREAD_PRIORITY
        );
        assert_eq!(ContextOption::SocketLimit.id(), zmq_sys::ZMQ_SOCKET_LIMIT);
        assert_eq!(ContextOption::Blocky.id(), zmq_sys::ZMQ_BLOCKY);
        assert_eq!(Event::ALL.bits(), zmq_sys::ZMQ_EVENT_ALL as u32);
        assert_eq!(
            Event::HANDSHAKE_FAILED_AUTH.bits(),
            zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH as u32
        );
        assert_eq!(SendFlags::SNDMORE.bits(), zmq_sys::ZMQ_SNDMORE);
        assert_eq!(PollEvents::POLLERR.bits() as i32, zmq_sys::ZMQ_POLLERR);
        assert_eq!(DeviceType::Queue.raw(), zmq_sys::ZMQ_QUEUE);
    }

    #[test]
    fn socket_type_names() -> crate::Result<()> {
        for t in SocketType::all() {
            assert_eq!(t.name().parse::<SocketType>()?, t);
        }
        assert_eq!("zmq_xrep".parse::<SocketType>()?, SocketType::Router);
        assert!("bogus".parse::<SocketType>().is_err());
        Ok(())
    }
}
