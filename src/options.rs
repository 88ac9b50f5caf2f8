//! Socket options: one table generates the [`SocketOption`] enum and a typed
//! getter and setter on [`Socket`] for every option of libzmq 4.3.5
//! (`zmq_getsockopt` / `zmq_setsockopt`).
//!
//! Types: times are `Option<Duration>` (`None` is libzmq's `-1`, infinite),
//! switches are `bool`, CURVE keys accept 32 raw bytes or 40 Z85 characters
//! and read back as [`CurveKey`], enums and flag sets are typed.
//!
//! DRAFT options exist at compile time on every build (their numbers are
//! stable). Those that libzmq 4.3.5 only implements when built with the
//! DRAFT API (`ROUTER_NOTIFY`, `HELLO_MSG`, `BUSY_POLL`…) fail on other builds
//! with [`Error::MissingCapability`], and so do options of a missing
//! capability (CURVE, GSSAPI, NORM, WSS, VMCI); see
//! [`SocketOption::required_capabilities`]. The DRAFT-section options that
//! every 4.3.5 build implements (`TOPICS_COUNT`, `RECONNECT_STOP`,
//! `SOCKS_USERNAME`, `XPUB_MANUAL_LAST_VALUE`…) just work. Options newer than
//! the linked libzmq (`TOPICS_COUNT` on 4.3.4) fail with [`Error::Version`].

use std::time::Duration;

use crate::constants::{
    GssapiNameType, Mechanism, NormMode, PollEvents, ReconnectStop, RouterNotify, SocketType,
};
use crate::curve::CurveKey;
use crate::error::{Error, Result, Version};
use crate::socket::Socket;

/// A raw option value for the generic [`Socket::get`] / [`Socket::set`] and
/// context defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionValue {
    /// A C `int` option.
    Int(i32),
    /// An `int64_t` option (`ZMQ_MAXMSGSIZE`).
    Int64(i64),
    /// A `uint64_t` option (`ZMQ_AFFINITY`, VMCI sizes).
    UInt64(u64),
    /// A binary or string option (strings without their NUL).
    Bytes(Vec<u8>),
}

/// How an option's value is passed to libzmq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionKind {
    /// C `int` (also booleans, milliseconds and enums).
    Int,
    /// `int64_t`.
    Int64,
    /// `uint64_t`.
    UInt64,
    /// Bytes or a string.
    Bytes,
}

/// Who may read or write an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `zmq_getsockopt` only.
    Read,
    /// `zmq_setsockopt` only.
    Write,
    /// Both.
    ReadWrite,
}

/// Converts milliseconds-with-`-1`-for-infinite to `Option<Duration>`.
pub(crate) fn ms_to_duration(ms: i32) -> Option<Duration> {
    (ms >= 0).then(|| Duration::from_millis(ms as u64))
}

/// Converts an optional duration to libzmq milliseconds (`None` → `-1`).
/// Sub-millisecond non-zero durations round up to 1 ms so that "a little"
/// never becomes "not at all". Out of `i32` range is an error.
pub(crate) fn duration_to_ms(d: Option<Duration>, what: &str) -> Result<i32> {
    match d {
        None => Ok(-1),
        Some(d) => {
            let mut ms = d.as_millis();
            if ms == 0 && !d.is_zero() {
                ms = 1;
            }
            i32::try_from(ms).map_err(|_| {
                Error::invalid(what, format!("{d:?} is more than i32::MAX milliseconds"))
            })
        }
    }
}

/// A Rust type an option's value converts to and from.
pub(crate) trait OptionType: Sized {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self>;
    fn kind() -> OptionKind;
}

fn mismatch(what: &'static str) -> Error {
    Error::invalid(what, "libzmq returned a value of an unexpected type")
}

macro_rules! int_like {
    ($t:ty, |$v:ident| $from:expr) => {
        impl OptionType for $t {
            fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
                match v {
                    OptionValue::Int($v) => $from.ok_or_else(|| {
                        Error::invalid(what, format!("libzmq returned an unknown value {}", $v))
                    }),
                    _ => Err(mismatch(what)),
                }
            }
            fn kind() -> OptionKind {
                OptionKind::Int
            }
        }
    };
}

int_like!(i32, |v| Some(v));
int_like!(bool, |v| Some(v != 0));
int_like!(Option<Duration>, |v| Some(ms_to_duration(v)));
int_like!(Mechanism, |v| Mechanism::from_raw(v));
int_like!(SocketType, |v| SocketType::from_raw(v));
int_like!(NormMode, |v| NormMode::from_raw(v));
int_like!(GssapiNameType, |v| GssapiNameType::from_raw(v));
int_like!(PollEvents, |v| Some(PollEvents::from_bits_retain(v as i16)));
int_like!(ReconnectStop, |v| Some(ReconnectStop::from_bits_retain(v)));
int_like!(RouterNotify, |v| Some(RouterNotify::from_bits_retain(v)));

impl OptionType for i64 {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
        match v {
            OptionValue::Int64(v) => Ok(v),
            _ => Err(mismatch(what)),
        }
    }
    fn kind() -> OptionKind {
        OptionKind::Int64
    }
}

impl OptionType for u64 {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
        match v {
            OptionValue::UInt64(v) => Ok(v),
            _ => Err(mismatch(what)),
        }
    }
    fn kind() -> OptionKind {
        OptionKind::UInt64
    }
}

impl OptionType for Vec<u8> {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
        match v {
            OptionValue::Bytes(b) => Ok(b),
            _ => Err(mismatch(what)),
        }
    }
    fn kind() -> OptionKind {
        OptionKind::Bytes
    }
}

impl OptionType for String {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
        let bytes = Vec::<u8>::from_value(v, what)?;
        String::from_utf8(bytes).map_err(|e| Error::Utf8 {
            source: e.utf8_error(),
            bytes: e.into_bytes(),
        })
    }
    fn kind() -> OptionKind {
        OptionKind::Bytes
    }
}

impl OptionType for CurveKey {
    fn from_value(v: OptionValue, what: &'static str) -> Result<Self> {
        let bytes = Vec::<u8>::from_value(v, what)?;
        Ok(CurveKey::from_bytes(&bytes)?)
    }
    fn kind() -> OptionKind {
        OptionKind::Bytes
    }
}

/// Getter and setter bodies per kind of option.
macro_rules! accessor {
    (get int $get:ident $v:ident $doc:literal) => { accessor!(@get i32, $get, $v, $doc); };
    (get bool $get:ident $v:ident $doc:literal) => { accessor!(@get bool, $get, $v, $doc); };
    (get ms $get:ident $v:ident $doc:literal) => { accessor!(@get Option<Duration>, $get, $v, $doc); };
    (get i64 $get:ident $v:ident $doc:literal) => { accessor!(@get i64, $get, $v, $doc); };
    (get u64 $get:ident $v:ident $doc:literal) => { accessor!(@get u64, $get, $v, $doc); };
    (get bytes $get:ident $v:ident $doc:literal) => { accessor!(@get Vec<u8>, $get, $v, $doc); };
    (get str $get:ident $v:ident $doc:literal) => { accessor!(@get String, $get, $v, $doc); };
    (get key $get:ident $v:ident $doc:literal) => { accessor!(@get CurveKey, $get, $v, $doc); };
    (get fd $get:ident $v:ident $doc:literal) => { accessor!(@get i32, $get, $v, $doc); };
    (get $t:ident $get:ident $v:ident $doc:literal) => { accessor!(@get $t, $get, $v, $doc); };
    (@get $t:ty, $get:ident, $v:ident, $doc:literal) => {
        #[doc = concat!("Reads `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $get(&self) -> Result<$t> {
            self.get_typed::<$t>(SocketOption::$v)
        }
    };

    (set int $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: i32) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(value))
        }
    };
    (set bool $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: bool) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(value as i32))
        }
    };
    (set ms $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "` (`None` is `-1`): ", $doc)]
        pub fn $set(&self, value: Option<Duration>) -> Result<()> {
            let ms = duration_to_ms(value, SocketOption::$v.name())?;
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(ms))
        }
    };
    (set i64 $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: i64) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int64(value))
        }
    };
    (set u64 $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: u64) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::UInt64(value))
        }
    };
    (set bytes $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: impl AsRef<[u8]>) -> Result<()> {
            self.set_bytes_checked(SocketOption::$v, value.as_ref())
        }
    };
    (set str $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "` (no interior NUL allowed): ", $doc)]
        pub fn $set(&self, value: impl AsRef<str>) -> Result<()> {
            let value = value.as_ref();
            if value.contains('\0') {
                return Err(Error::invalid(SocketOption::$v.name(), "interior NUL byte"));
            }
            self.set_bytes_checked(SocketOption::$v, value.as_bytes())
        }
    };
    (set key $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "` from 32 raw bytes or 40 Z85 characters: ", $doc)]
        pub fn $set(&self, key: impl AsRef<[u8]>) -> Result<()> {
            let key = CurveKey::parse(key.as_ref())?;
            self.set_bytes_checked(SocketOption::$v, key.as_bytes())
        }
    };
    (set $t:ident $set:ident $v:ident $doc:literal) => {
        #[doc = concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)]
        pub fn $set(&self, value: $t) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(enum_bits(value)))
        }
    };
}

/// The raw int of a typed enum or flag set.
trait EnumBits {
    fn bits_i32(self) -> i32;
}
impl EnumBits for NormMode {
    fn bits_i32(self) -> i32 {
        self.raw()
    }
}
impl EnumBits for GssapiNameType {
    fn bits_i32(self) -> i32 {
        self.raw()
    }
}
impl EnumBits for ReconnectStop {
    fn bits_i32(self) -> i32 {
        self.bits()
    }
}
impl EnumBits for RouterNotify {
    fn bits_i32(self) -> i32 {
        self.bits()
    }
}
fn enum_bits<T: EnumBits>(v: T) -> i32 {
    v.bits_i32()
}

macro_rules! kind_of {
    (int) => {
        OptionKind::Int
    };
    (bool) => {
        OptionKind::Int
    };
    (ms) => {
        OptionKind::Int
    };
    (fd) => {
        OptionKind::Int
    };
    (i64) => {
        OptionKind::Int64
    };
    (u64) => {
        OptionKind::UInt64
    };
    (bytes) => {
        OptionKind::Bytes
    };
    (str) => {
        OptionKind::Bytes
    };
    (key) => {
        OptionKind::Bytes
    };
    ($other:ident) => {
        OptionKind::Int
    };
}

macro_rules! access_of {
    (rw) => {
        Access::ReadWrite
    };
    (r) => {
        Access::Read
    };
    (w) => {
        Access::Write
    };
}

/// Whether an API tag of the table is in `zmq.h`'s DRAFT section.
macro_rules! draft_of {
    (stable) => {
        false
    };
    (curve) => {
        false
    };
    (gssapi) => {
        false
    };
    (vmci) => {
        false
    };
    (draft_any) => {
        true
    };
    (draft) => {
        true
    };
    (draft_norm) => {
        true
    };
    (draft_wss) => {
        true
    };
}

/// The `zmq_has` capabilities an API tag of the table needs.
macro_rules! caps_of {
    (stable) => {
        &[]
    };
    (curve) => {
        &["curve"]
    };
    (gssapi) => {
        &["gssapi"]
    };
    (vmci) => {
        &["vmci"]
    };
    // In the DRAFT section of zmq.h, but built into every libzmq 4.3.5.
    (draft_any) => {
        &[]
    };
    (draft) => {
        &["draft"]
    };
    (draft_norm) => {
        &["draft", "norm"]
    };
    (draft_wss) => {
        &["draft", "WSS"]
    };
}

macro_rules! methods {
    (rw $kind:ident $v:ident $doc:literal $get:ident, $set:ident) => {
        accessor!(get $kind $get $v $doc);
        accessor!(set $kind $set $v $doc);
    };
    (r $kind:ident $v:ident $doc:literal $get:ident) => {
        accessor!(get $kind $get $v $doc);
    };
    (w $kind:ident $v:ident $doc:literal $set:ident) => {
        accessor!(set $kind $set $v $doc);
    };
}

macro_rules! socket_options {
    ($( $access:ident $v:ident = $id:literal : $kind:ident $api:ident, $doc:literal => $($name:ident),+ ; )*) => {
        /// Every socket option of libzmq 4.3.5 (pyzmq's `zmq.SocketOption`),
        /// for the generic [`Socket::get`] / [`Socket::set`] and context
        /// defaults. Each also has a typed accessor on [`Socket`].
        ///
        /// Variants keep libzmq's names (`SocketOption::LINGER` is `ZMQ_LINGER`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[allow(non_camel_case_types)]
        pub enum SocketOption {
            $(
                #[doc = concat!("`ZMQ_", stringify!($v), "`: ", $doc)]
                $v,
            )*
        }

        impl SocketOption {
            /// Every option, in table order.
            pub const ALL: &'static [SocketOption] = &[$(SocketOption::$v),*];

            /// The number libzmq uses for it.
            pub const fn id(self) -> i32 {
                match self { $(SocketOption::$v => $id,)* }
            }

            /// The libzmq name without `ZMQ_` (`"LINGER"`).
            pub const fn name(self) -> &'static str {
                match self { $(SocketOption::$v => stringify!($v),)* }
            }

            /// How its value is passed.
            pub const fn kind(self) -> OptionKind {
                match self { $(SocketOption::$v => kind_of!($kind),)* }
            }

            /// Whether it can be read, written or both.
            pub const fn access(self) -> Access {
                match self { $(SocketOption::$v => access_of!($access),)* }
            }

            /// Whether its value is a string (returned by libzmq with a NUL).
            pub const fn is_string(self) -> bool {
                match self { $(SocketOption::$v => matches!(stringify!($kind).as_bytes(), b"str"),)* }
            }

            /// Whether it belongs to libzmq's DRAFT API (the DRAFT section of
            /// `zmq.h`). Some of these are implemented by every libzmq 4.3.5
            /// build; [`required_capabilities`](SocketOption::required_capabilities)
            /// tells which need a DRAFT build.
            pub const fn is_draft(self) -> bool {
                match self { $(SocketOption::$v => draft_of!($api),)* }
            }

            /// The [`has`](crate::has) capabilities libzmq must be built with
            /// for this option to exist (`"draft"`, `"curve"`, `"gssapi"`,
            /// `"norm"`, `"WSS"`, `"vmci"`); empty when every build has it.
            /// Using an option whose capability is missing is an
            /// [`Error::MissingCapability`].
            pub const fn required_capabilities(self) -> &'static [&'static str] {
                match self { $(SocketOption::$v => caps_of!($api),)* }
            }

            /// The option with this number, `None` if unknown. Numbers shared
            /// by aliases map to the current name.
            pub fn from_raw(id: i32) -> Option<SocketOption> {
                SocketOption::ALL.iter().copied().find(|o| o.id() == id)
            }
        }

        impl Socket {
            $( methods!($access $kind $v $doc $($name),+); )*
        }
    };
}

socket_options! {
    rw AFFINITY = 4 : u64 stable, "I/O thread affinity bitmask for new connections." => affinity, set_affinity;
    rw ROUTING_ID = 5 : bytes stable, "the socket's routing id (formerly IDENTITY), 1 to 255 bytes." => routing_id, set_routing_id;
    w SUBSCRIBE = 6 : bytes stable, "adds a SUB/XSUB topic prefix." => subscribe;
    w UNSUBSCRIBE = 7 : bytes stable, "removes a SUB/XSUB topic prefix." => unsubscribe;
    rw RATE = 8 : int stable, "multicast data rate in kbit/s." => rate, set_rate;
    rw RECOVERY_IVL = 9 : ms stable, "multicast recovery interval." => recovery_ivl, set_recovery_ivl;
    rw SNDBUF = 11 : int stable, "kernel send buffer size in bytes (-1: OS default)." => sndbuf, set_sndbuf;
    rw RCVBUF = 12 : int stable, "kernel receive buffer size in bytes (-1: OS default)." => rcvbuf, set_rcvbuf;
    r RCVMORE = 13 : bool stable, "more parts of the current message follow." => rcvmore;
    r FD = 14 : fd stable, "the edge-triggered notification fd; read `EVENTS` after it fires." => fd;
    r EVENTS = 15 : PollEvents stable, "whether a message can be received (POLLIN) or sent (POLLOUT) now." => events;
    r TYPE = 16 : SocketType stable, "the socket type." => socket_type;
    rw LINGER = 17 : ms stable, "how long pending messages may wait after close (zmqx default: 1 s)." => linger, set_linger;
    rw RECONNECT_IVL = 18 : ms stable, "initial reconnection interval (`None`: no reconnection)." => reconnect_ivl, set_reconnect_ivl;
    rw BACKLOG = 19 : int stable, "pending connections queue length." => backlog, set_backlog;
    rw RECONNECT_IVL_MAX = 21 : ms stable, "maximum reconnection interval (0: only RECONNECT_IVL)." => reconnect_ivl_max, set_reconnect_ivl_max;
    rw MAXMSGSIZE = 22 : i64 stable, "largest inbound message in bytes (-1: no limit)." => maxmsgsize, set_maxmsgsize;
    rw SNDHWM = 23 : int stable, "high-water mark of outbound messages (0: none)." => sndhwm, set_sndhwm;
    rw RCVHWM = 24 : int stable, "high-water mark of inbound messages (0: none)." => rcvhwm, set_rcvhwm;
    rw MULTICAST_HOPS = 25 : int stable, "multicast TTL." => multicast_hops, set_multicast_hops;
    rw RCVTIMEO = 27 : ms stable, "receive timeout (`None`: block forever)." => rcvtimeo, set_rcvtimeo;
    rw SNDTIMEO = 28 : ms stable, "send timeout (`None`: block forever)." => sndtimeo, set_sndtimeo;
    rw IPV4ONLY = 31 : bool stable, "IPv4 only (deprecated: use IPV6)." => ipv4only, set_ipv4only;
    r LAST_ENDPOINT = 32 : str stable, "the endpoint last bound or connected, with the real port." => last_endpoint;
    w ROUTER_MANDATORY = 33 : bool stable, "ROUTER fails with EHOSTUNREACH on unroutable messages." => set_router_mandatory;
    rw TCP_KEEPALIVE = 34 : int stable, "SO_KEEPALIVE (-1: OS default, 0 off, 1 on)." => tcp_keepalive, set_tcp_keepalive;
    rw TCP_KEEPALIVE_CNT = 35 : int stable, "TCP_KEEPCNT (-1: OS default)." => tcp_keepalive_cnt, set_tcp_keepalive_cnt;
    rw TCP_KEEPALIVE_IDLE = 36 : int stable, "TCP_KEEPIDLE in seconds (-1: OS default)." => tcp_keepalive_idle, set_tcp_keepalive_idle;
    rw TCP_KEEPALIVE_INTVL = 37 : int stable, "TCP_KEEPINTVL in seconds (-1: OS default)." => tcp_keepalive_intvl, set_tcp_keepalive_intvl;
    w TCP_ACCEPT_FILTER = 38 : bytes stable, "accept TCP peers from this address (deprecated by ZAP)." => set_tcp_accept_filter;
    rw IMMEDIATE = 39 : bool stable, "queue messages only to completed connections." => immediate, set_immediate;
    w XPUB_VERBOSE = 40 : bool stable, "XPUB passes on duplicate subscriptions." => set_xpub_verbose;
    w ROUTER_RAW = 41 : bool stable, "ROUTER in raw mode (deprecated: use STREAM)." => set_router_raw;
    rw IPV6 = 42 : bool stable, "IPv6 on this socket." => ipv6, set_ipv6;
    r MECHANISM = 43 : Mechanism stable, "the security mechanism in use." => mechanism;
    rw PLAIN_SERVER = 44 : bool stable, "act as PLAIN server." => plain_server, set_plain_server;
    rw PLAIN_USERNAME = 45 : str stable, "PLAIN client username." => plain_username, set_plain_username;
    rw PLAIN_PASSWORD = 46 : str stable, "PLAIN client password." => plain_password, set_plain_password;
    rw CURVE_SERVER = 47 : bool curve, "act as CURVE server." => curve_server, set_curve_server;
    rw CURVE_PUBLICKEY = 48 : key curve, "this socket's long-term public key." => curve_publickey, set_curve_publickey;
    rw CURVE_SECRETKEY = 49 : key curve, "this socket's long-term secret key." => curve_secretkey, set_curve_secretkey;
    rw CURVE_SERVERKEY = 50 : key curve, "the server's public key (CURVE clients)." => curve_serverkey, set_curve_serverkey;
    w PROBE_ROUTER = 51 : bool stable, "send an empty message to ROUTER peers on connect." => set_probe_router;
    w REQ_CORRELATE = 52 : bool stable, "REQ matches replies to requests." => set_req_correlate;
    w REQ_RELAXED = 53 : bool stable, "REQ may send again without a reply." => set_req_relaxed;
    rw CONFLATE = 54 : bool stable, "keep only the last message." => conflate, set_conflate;
    rw ZAP_DOMAIN = 55 : str stable, "the ZAP authentication domain." => zap_domain, set_zap_domain;
    w ROUTER_HANDOVER = 56 : bool stable, "a new peer with a known routing id takes over." => set_router_handover;
    rw TOS = 57 : int stable, "IP type-of-service." => tos, set_tos;
    w IPC_FILTER_PID = 58 : int stable, "accept IPC peers of this process id." => set_ipc_filter_pid;
    w IPC_FILTER_UID = 59 : int stable, "accept IPC peers of this user id." => set_ipc_filter_uid;
    w IPC_FILTER_GID = 60 : int stable, "accept IPC peers of this group id." => set_ipc_filter_gid;
    w CONNECT_ROUTING_ID = 61 : bytes stable, "routing id of the next connected peer (ROUTER, STREAM)." => set_connect_routing_id;
    rw GSSAPI_SERVER = 62 : bool gssapi, "act as GSSAPI server." => gssapi_server, set_gssapi_server;
    rw GSSAPI_PRINCIPAL = 63 : str gssapi, "GSSAPI principal name." => gssapi_principal, set_gssapi_principal;
    rw GSSAPI_SERVICE_PRINCIPAL = 64 : str gssapi, "GSSAPI service principal name." => gssapi_service_principal, set_gssapi_service_principal;
    rw GSSAPI_PLAINTEXT = 65 : bool gssapi, "GSSAPI without encryption." => gssapi_plaintext, set_gssapi_plaintext;
    rw HANDSHAKE_IVL = 66 : ms stable, "maximum handshake time (0 or `Some(ZERO)`: none)." => handshake_ivl, set_handshake_ivl;
    rw SOCKS_PROXY = 68 : str stable, "SOCKS5 proxy address." => socks_proxy, set_socks_proxy;
    w XPUB_NODROP = 69 : bool stable, "XPUB fails with EAGAIN at the HWM instead of dropping." => set_xpub_nodrop;
    w XPUB_MANUAL = 71 : bool stable, "XPUB subscriptions are managed by the application." => set_xpub_manual;
    w XPUB_WELCOME_MSG = 72 : bytes stable, "message XPUB sends to new subscribers." => set_xpub_welcome_msg;
    w STREAM_NOTIFY = 73 : bool stable, "STREAM reports connects and disconnects." => set_stream_notify;
    rw INVERT_MATCHING = 74 : bool stable, "PUB/SUB deliver what does NOT match." => invert_matching, set_invert_matching;
    rw HEARTBEAT_IVL = 75 : ms stable, "interval between ZMTP PINGs." => heartbeat_ivl, set_heartbeat_ivl;
    rw HEARTBEAT_TTL = 76 : ms stable, "time-to-live the peer should apply to us." => heartbeat_ttl, set_heartbeat_ttl;
    rw HEARTBEAT_TIMEOUT = 77 : ms stable, "how long to wait for a PONG." => heartbeat_timeout, set_heartbeat_timeout;
    w XPUB_VERBOSER = 78 : bool stable, "XPUB passes on duplicate subscriptions and unsubscriptions." => set_xpub_verboser;
    rw CONNECT_TIMEOUT = 79 : ms stable, "TCP connect timeout." => connect_timeout, set_connect_timeout;
    rw TCP_MAXRT = 80 : ms stable, "TCP_USER_TIMEOUT: maximum retransmission time." => tcp_maxrt, set_tcp_maxrt;
    r THREAD_SAFE = 81 : bool stable, "the socket type is thread-safe." => thread_safe;
    rw MULTICAST_MAXTPDU = 84 : int stable, "maximum multicast transport data unit." => multicast_maxtpdu, set_multicast_maxtpdu;
    rw VMCI_BUFFER_SIZE = 85 : u64 vmci, "VMCI buffer size." => vmci_buffer_size, set_vmci_buffer_size;
    rw VMCI_BUFFER_MIN_SIZE = 86 : u64 vmci, "VMCI minimum buffer size." => vmci_buffer_min_size, set_vmci_buffer_min_size;
    rw VMCI_BUFFER_MAX_SIZE = 87 : u64 vmci, "VMCI maximum buffer size." => vmci_buffer_max_size, set_vmci_buffer_max_size;
    rw VMCI_CONNECT_TIMEOUT = 88 : ms vmci, "VMCI connect timeout." => vmci_connect_timeout, set_vmci_connect_timeout;
    rw USE_FD = 89 : int stable, "use this pre-created listening fd for the next bind." => use_fd, set_use_fd;
    rw GSSAPI_PRINCIPAL_NAMETYPE = 90 : GssapiNameType gssapi, "name type of GSSAPI_PRINCIPAL." => gssapi_principal_nametype, set_gssapi_principal_nametype;
    rw GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91 : GssapiNameType gssapi, "name type of GSSAPI_SERVICE_PRINCIPAL." => gssapi_service_principal_nametype, set_gssapi_service_principal_nametype;
    rw BINDTODEVICE = 92 : str stable, "SO_BINDTODEVICE interface name." => bindtodevice, set_bindtodevice;
    rw ZAP_ENFORCE_DOMAIN = 93 : bool draft_any, "require a ZAP domain for ZAP to apply." => zap_enforce_domain, set_zap_enforce_domain;
    rw LOOPBACK_FASTPATH = 94 : bool draft_any, "Windows loopback fast path." => loopback_fastpath, set_loopback_fastpath;
    w METADATA = 95 : str draft_any, "an application metadata property \"X-Name:value\"." => set_metadata;
    rw MULTICAST_LOOP = 96 : bool draft_any, "multicast loopback." => multicast_loop, set_multicast_loop;
    rw ROUTER_NOTIFY = 97 : RouterNotify draft, "ROUTER delivers empty messages on peer connect/disconnect." => router_notify, set_router_notify;
    w XPUB_MANUAL_LAST_VALUE = 98 : bool draft_any, "XPUB manual mode with last-value caching." => set_xpub_manual_last_value;
    rw SOCKS_USERNAME = 99 : str draft_any, "SOCKS5 username." => socks_username, set_socks_username;
    rw SOCKS_PASSWORD = 100 : str draft_any, "SOCKS5 password." => socks_password, set_socks_password;
    rw IN_BATCH_SIZE = 101 : int draft, "bytes read from the kernel per batch." => in_batch_size, set_in_batch_size;
    rw OUT_BATCH_SIZE = 102 : int draft, "bytes written to the kernel per batch." => out_batch_size, set_out_batch_size;
    w WSS_KEY_PEM = 103 : str draft_wss, "WSS private key (PEM)." => set_wss_key_pem;
    w WSS_CERT_PEM = 104 : str draft_wss, "WSS certificate (PEM)." => set_wss_cert_pem;
    w WSS_TRUST_PEM = 105 : str draft_wss, "WSS trusted certificate (PEM)." => set_wss_trust_pem;
    w WSS_HOSTNAME = 106 : str draft_wss, "WSS server hostname to verify." => set_wss_hostname;
    w WSS_TRUST_SYSTEM = 107 : bool draft_wss, "WSS trusts the system certificate store." => set_wss_trust_system;
    w ONLY_FIRST_SUBSCRIBE = 108 : bool draft_any, "only the first part of a multipart is a subscription." => set_only_first_subscribe;
    rw RECONNECT_STOP = 109 : ReconnectStop draft_any, "when to stop reconnecting." => reconnect_stop, set_reconnect_stop;
    w HELLO_MSG = 110 : bytes draft, "message sent to each new peer." => set_hello_msg;
    w DISCONNECT_MSG = 111 : bytes draft, "message received when a peer disconnects." => set_disconnect_msg;
    rw PRIORITY = 112 : int draft, "SO_PRIORITY of the socket's connections." => priority, set_priority;
    rw BUSY_POLL = 113 : bool draft, "SO_BUSY_POLL on the socket's connections." => busy_poll, set_busy_poll;
    w HICCUP_MSG = 114 : bytes draft, "message received when the connection hiccups." => set_hiccup_msg;
    w XSUB_VERBOSE_UNSUBSCRIBE = 115 : bool draft, "XSUB passes on every unsubscription." => set_xsub_verbose_unsubscribe;
    r TOPICS_COUNT = 116 : int draft_any, "number of topics subscribed (XPUB/XSUB/SUB)." => topics_count;
    rw NORM_MODE = 117 : NormMode draft_norm, "NORM congestion mode." => norm_mode, set_norm_mode;
    rw NORM_UNICAST_NACK = 118 : bool draft_norm, "NORM unicast NACKs." => norm_unicast_nack, set_norm_unicast_nack;
    rw NORM_BUFFER_SIZE = 119 : int draft_norm, "NORM buffer size in kB." => norm_buffer_size, set_norm_buffer_size;
    rw NORM_SEGMENT_SIZE = 120 : int draft_norm, "NORM segment size in bytes." => norm_segment_size, set_norm_segment_size;
    rw NORM_BLOCK_SIZE = 121 : int draft_norm, "NORM block size." => norm_block_size, set_norm_block_size;
    rw NORM_NUM_PARITY = 122 : int draft_norm, "NORM parity segments." => norm_num_parity, set_norm_num_parity;
    rw NORM_NUM_AUTOPARITY = 123 : int draft_norm, "NORM automatic parity segments." => norm_num_autoparity, set_norm_num_autoparity;
    rw NORM_PUSH = 124 : bool draft_norm, "NORM push mode." => norm_push, set_norm_push;
}

/// The libzmq release that added an option, for those newer than 4.3.2 (the
/// oldest libzmq zmqx links).
fn since(option: SocketOption) -> Option<Version> {
    use SocketOption as O;
    Some(match option {
        O::ONLY_FIRST_SUBSCRIBE | O::RECONNECT_STOP | O::HELLO_MSG | O::DISCONNECT_MSG => {
            Version(4, 3, 3)
        }
        O::PRIORITY => Version(4, 3, 4),
        O::BUSY_POLL
        | O::HICCUP_MSG
        | O::XSUB_VERBOSE_UNSUBSCRIBE
        | O::TOPICS_COUNT
        | O::NORM_MODE
        | O::NORM_UNICAST_NACK
        | O::NORM_BUFFER_SIZE
        | O::NORM_SEGMENT_SIZE
        | O::NORM_BLOCK_SIZE
        | O::NORM_NUM_PARITY
        | O::NORM_NUM_AUTOPARITY
        | O::NORM_PUSH => Version(4, 3, 5),
        _ => return None,
    })
}

impl Socket {
    /// Sets both high-water marks (pyzmq's `set_hwm`, `SNDHWM` and `RCVHWM`).
    pub fn set_hwm(&self, hwm: i32) -> Result<()> {
        self.set_sndhwm(hwm)?;
        self.set_rcvhwm(hwm)
    }

    /// The high-water mark (pyzmq's `get_hwm`): `SNDHWM`.
    pub fn hwm(&self) -> Result<i32> {
        self.sndhwm()
    }

    /// Reads any option as a raw [`OptionValue`] (`zmq_getsockopt`).
    pub fn get(&self, option: SocketOption) -> Result<OptionValue> {
        if option.access() == Access::Write {
            return Err(Error::invalid(option.name(), "the option is write-only"));
        }
        self.get_raw_value(option.id(), option.kind())
            .map_err(|e| self.explain(option, e))
    }

    /// Sets any option from a raw [`OptionValue`] (`zmq_setsockopt`). The value
    /// must be of the option's [`kind`](SocketOption::kind).
    pub fn set(&self, option: SocketOption, value: OptionValue) -> Result<()> {
        let ok = matches!(
            (option.kind(), &value),
            (OptionKind::Int, OptionValue::Int(_))
                | (OptionKind::Int64, OptionValue::Int64(_))
                | (OptionKind::UInt64, OptionValue::UInt64(_))
                | (OptionKind::Bytes, OptionValue::Bytes(_))
        );
        if !ok {
            return Err(Error::invalid(
                option.name(),
                format!("expects a {:?} value, got {value:?}", option.kind()),
            ));
        }
        self.set_raw_checked(option, &value)
    }

    fn get_typed<T: OptionType>(&self, option: SocketOption) -> Result<T> {
        let v = self
            .get_raw_value(option.id(), T::kind())
            .map_err(|e| self.explain(option, e))?;
        T::from_value(v, option.name())
    }

    fn set_raw_checked(&self, option: SocketOption, value: &OptionValue) -> Result<()> {
        if option.access() == Access::Read {
            return Err(Error::invalid(option.name(), "the option is read-only"));
        }
        self.set_raw_value(option.id(), value)
            .map_err(|e| self.explain(option, e))
    }

    fn set_bytes_checked(&self, option: SocketOption, value: &[u8]) -> Result<()> {
        self.set_raw_bytes(option.id(), value)
            .map_err(|e| self.explain(option, e))
    }

    /// Turns libzmq's bare EINVAL for options this build lacks into a
    /// [`Error::MissingCapability`] naming the missing capability.
    fn explain(&self, option: SocketOption, e: Error) -> Error {
        if !matches!(e.root(), Error::InvalidArgument) {
            return e;
        }
        if let Some(required) = since(option) {
            let linked = crate::version_info();
            if linked < required {
                return Error::Version {
                    what: format!("socket option ZMQ_{}", option.name()),
                    required,
                    linked,
                };
            }
        }
        for &capability in option.required_capabilities() {
            if !crate::has(capability) {
                return Error::MissingCapability {
                    what: format!("socket option ZMQ_{}", option.name()),
                    capability,
                };
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_zmq_h() {
        assert_eq!(SocketOption::LINGER.id(), zmq_sys::ZMQ_LINGER);
        assert_eq!(SocketOption::BINDTODEVICE.id(), zmq_sys::ZMQ_BINDTODEVICE);
        assert_eq!(
            SocketOption::CURVE_SERVERKEY.id(),
            zmq_sys::ZMQ_CURVE_SERVERKEY
        );
        assert_eq!(SocketOption::from_raw(17), Some(SocketOption::LINGER));
        assert_eq!(SocketOption::from_raw(-3), None);
        assert!(SocketOption::ROUTER_NOTIFY.is_draft());
        assert!(!SocketOption::LINGER.is_draft());
        assert_eq!(
            SocketOption::ROUTER_NOTIFY.required_capabilities(),
            ["draft"]
        );
        assert!(SocketOption::TOPICS_COUNT.is_draft());
        assert!(
            SocketOption::TOPICS_COUNT
                .required_capabilities()
                .is_empty()
        );
        assert_eq!(
            SocketOption::CURVE_SERVER.required_capabilities(),
            ["curve"]
        );
        assert_eq!(
            SocketOption::NORM_MODE.required_capabilities(),
            ["draft", "norm"]
        );
        assert!(SocketOption::LINGER.required_capabilities().is_empty());
        let mut ids: Vec<i32> = SocketOption::ALL.iter().map(|o| o.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SocketOption::ALL.len(), "duplicate option ids");
    }

    #[test]
    fn durations() -> Result<()> {
        assert_eq!(duration_to_ms(None, "x")?, -1);
        assert_eq!(duration_to_ms(Some(Duration::from_micros(10)), "x")?, 1);
        assert_eq!(duration_to_ms(Some(Duration::ZERO), "x")?, 0);
        assert!(duration_to_ms(Some(Duration::from_secs(u64::MAX)), "x").is_err());
        assert_eq!(ms_to_duration(-1), None);
        assert_eq!(ms_to_duration(250), Some(Duration::from_millis(250)));
        Ok(())
    }
}
