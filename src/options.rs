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
#![forbid(unsafe_code)]

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

/// The doc line of a generated getter (shared by [`Socket`] and the types
/// that forward to it, so both read the same).
macro_rules! get_doc {
    ($v:ident, $doc:literal) => {
        concat!("Reads `ZMQ_", stringify!($v), "`: ", $doc)
    };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use get_doc;

/// The doc line of a generated setter.
macro_rules! set_doc {
    (ms, $v:ident, $doc:literal) => {
        concat!("Sets `ZMQ_", stringify!($v), "` (`None` is `-1`): ", $doc)
    };
    (str, $v:ident, $doc:literal) => {
        concat!(
            "Sets `ZMQ_",
            stringify!($v),
            "` (no interior NUL allowed): ",
            $doc
        )
    };
    (key, $v:ident, $doc:literal) => {
        concat!(
            "Sets `ZMQ_",
            stringify!($v),
            "` from 32 raw bytes or 40 Z85 characters: ",
            $doc
        )
    };
    ($kind:ident, $v:ident, $doc:literal) => {
        concat!("Sets `ZMQ_", stringify!($v), "`: ", $doc)
    };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use set_doc;

/// The doc line of a generated `clear_*` method.
macro_rules! clear_doc {
    ($v:ident) => {
        concat!(
            "Clears `ZMQ_",
            stringify!($v),
            "` (`zmq_setsockopt` with `NULL` and length 0, as the ",
            "zmq_setsockopt manual documents for this option). Setting an empty ",
            "value does the same."
        )
    };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use clear_doc;

/// The Rust type a getter returns, per kind of option.
macro_rules! get_ty {
    (int) => { i32 };
    (bool) => { bool };
    (ms) => { Option<std::time::Duration> };
    (i64) => { i64 };
    (u64) => { u64 };
    (bytes) => { Vec<u8> };
    (str) => { String };
    (key) => { crate::curve::CurveKey };
    (fd) => { i32 };
    (Mechanism) => { crate::constants::Mechanism };
    (SocketType) => { crate::constants::SocketType };
    (PollEvents) => { crate::constants::PollEvents };
    (NormMode) => { crate::constants::NormMode };
    (GssapiNameType) => { crate::constants::GssapiNameType };
    (ReconnectStop) => { crate::constants::ReconnectStop };
    (RouterNotify) => { crate::constants::RouterNotify };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use get_ty;

/// Getter and setter bodies per kind of option, on [`Socket`].
macro_rules! accessor {
    (get $kind:ident $get:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = get_doc!($v, $doc)]
        #[doc(alias = $alias)]
        pub fn $get(&self) -> Result<get_ty!($kind)> {
            self.get_typed::<get_ty!($kind)>(SocketOption::$v)
        }
    };

    (set int $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(int, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: i32) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(value))
        }
    };
    (set bool $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(bool, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: bool) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(value as i32))
        }
    };
    (set ms $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(ms, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: Option<Duration>) -> Result<()> {
            let ms = duration_to_ms(value, SocketOption::$v.name())?;
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(ms))
        }
    };
    (set i64 $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(i64, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: i64) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int64(value))
        }
    };
    (set u64 $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(u64, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: u64) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::UInt64(value))
        }
    };
    (set bytes $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(bytes, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: impl AsRef<[u8]>) -> Result<()> {
            self.set_bytes_checked(SocketOption::$v, value.as_ref())
        }
    };
    (set str $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(str, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: impl AsRef<str>) -> Result<()> {
            let value = value.as_ref();
            if value.contains('\0') {
                return Err(Error::invalid(SocketOption::$v.name(), "interior NUL byte"));
            }
            self.set_bytes_checked(SocketOption::$v, value.as_bytes())
        }
    };
    (set key $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!(key, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, key: impl AsRef<[u8]>) -> Result<()> {
            let key = CurveKey::parse(key.as_ref())?;
            self.set_bytes_checked(SocketOption::$v, key.as_bytes())
        }
    };
    (set $t:ident $set:ident $v:ident $alias:literal $doc:literal) => {
        #[doc = set_doc!($t, $v, $doc)]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: $t) -> Result<()> {
            self.set_raw_checked(SocketOption::$v, &OptionValue::Int(enum_bits(value)))
        }
    };

    (clear $clear:ident $v:ident $alias:literal) => {
        #[doc = clear_doc!($v)]
        #[doc(alias = $alias)]
        pub fn $clear(&self) -> Result<()> {
            self.clear_checked(SocketOption::$v)
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

/// The accessors of one row, on [`Socket`]: a getter and/or a setter, and a
/// `clear_*` for the options libzmq clears with `(NULL, 0)` (a third name
/// after a read-write row's two, a second after a write-only row's one).
macro_rules! methods {
    (rw $kind:ident $v:ident $alias:literal $doc:literal $get:ident, $set:ident) => {
        accessor!(get $kind $get $v $alias $doc);
        accessor!(set $kind $set $v $alias $doc);
    };
    (rw $kind:ident $v:ident $alias:literal $doc:literal $get:ident, $set:ident, $clear:ident) => {
        accessor!(get $kind $get $v $alias $doc);
        accessor!(set $kind $set $v $alias $doc);
        accessor!(clear $clear $v $alias);
    };
    (r $kind:ident $v:ident $alias:literal $doc:literal $get:ident) => {
        accessor!(get $kind $get $v $alias $doc);
    };
    (w $kind:ident $v:ident $alias:literal $doc:literal $set:ident) => {
        accessor!(set $kind $set $v $alias $doc);
    };
    (w $kind:ident $v:ident $alias:literal $doc:literal $set:ident, $clear:ident) => {
        accessor!(set $kind $set $v $alias $doc);
        accessor!(clear $clear $v $alias);
    };
}

/// Whether a row has a `clear_*` method.
macro_rules! clearable_of {
    (rw $get:ident, $set:ident, $clear:ident) => {
        true
    };
    (w $set:ident, $clear:ident) => {
        true
    };
    ($access:ident $($name:ident),+) => {
        false
    };
}

/// Whether two strings are equal, at compile time (checks that each row's
/// doc alias is its `ZMQ_` name).
const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Forwarding accessors for a type that reaches its [`Socket`] through a
/// method `$with(|s: &Socket| …)` (`AsyncSocket::with_socket`,
/// `ThreadSafeSocket`'s): the same names, docs and doc aliases as on
/// `Socket`. One row: `$with $v $access $kind $alias $doc names…`.
#[allow(unused_macros)] // used with the features tokio and draft
macro_rules! forward_methods {
    ($with:ident $v:ident rw $kind:ident $alias:literal $doc:literal $get:ident, $set:ident) => {
        crate::options::forward_methods!(@get $with $v $kind $alias $doc $get);
        crate::options::forward_methods!(@set $with $v $kind $alias $doc $set);
    };
    ($with:ident $v:ident rw $kind:ident $alias:literal $doc:literal $get:ident, $set:ident, $clear:ident) => {
        crate::options::forward_methods!(@get $with $v $kind $alias $doc $get);
        crate::options::forward_methods!(@set $with $v $kind $alias $doc $set);
        crate::options::forward_methods!(@clear $with $v $alias $clear);
    };
    ($with:ident $v:ident r $kind:ident $alias:literal $doc:literal $get:ident) => {
        crate::options::forward_methods!(@get $with $v $kind $alias $doc $get);
    };
    ($with:ident $v:ident w $kind:ident $alias:literal $doc:literal $set:ident) => {
        crate::options::forward_methods!(@set $with $v $kind $alias $doc $set);
    };
    ($with:ident $v:ident w $kind:ident $alias:literal $doc:literal $set:ident, $clear:ident) => {
        crate::options::forward_methods!(@set $with $v $kind $alias $doc $set);
        crate::options::forward_methods!(@clear $with $v $alias $clear);
    };

    (@get $with:ident $v:ident $kind:ident $alias:literal $doc:literal $get:ident) => {
        #[doc = crate::options::get_doc!($v, $doc)]
        #[doc = ""]
        #[doc = concat!("See [`Socket::", stringify!($get), "`](crate::Socket::", stringify!($get), ").")]
        #[doc(alias = $alias)]
        pub fn $get(&self) -> crate::Result<crate::options::get_ty!($kind)> {
            self.$with(|s| s.$get())
        }
    };
    (@set $with:ident $v:ident bytes $alias:literal $doc:literal $set:ident) => {
        crate::options::forward_methods!(@set_as $with $v bytes $alias $doc $set impl AsRef<[u8]>);
    };
    (@set $with:ident $v:ident key $alias:literal $doc:literal $set:ident) => {
        crate::options::forward_methods!(@set_as $with $v key $alias $doc $set impl AsRef<[u8]>);
    };
    (@set $with:ident $v:ident str $alias:literal $doc:literal $set:ident) => {
        crate::options::forward_methods!(@set_as $with $v str $alias $doc $set impl AsRef<str>);
    };
    (@set $with:ident $v:ident $kind:ident $alias:literal $doc:literal $set:ident) => {
        crate::options::forward_methods!(@set_as $with $v $kind $alias $doc $set crate::options::get_ty!($kind));
    };
    (@set_as $with:ident $v:ident $kind:ident $alias:literal $doc:literal $set:ident $($t:tt)+) => {
        #[doc = crate::options::set_doc!($kind, $v, $doc)]
        #[doc = ""]
        #[doc = concat!("See [`Socket::", stringify!($set), "`](crate::Socket::", stringify!($set), ").")]
        #[doc(alias = $alias)]
        pub fn $set(&self, value: $($t)+) -> crate::Result<()> {
            self.$with(|s| s.$set(value))
        }
    };
    (@clear $with:ident $v:ident $alias:literal $clear:ident) => {
        #[doc = crate::options::clear_doc!($v)]
        #[doc = ""]
        #[doc = concat!("See [`Socket::", stringify!($clear), "`](crate::Socket::", stringify!($clear), ").")]
        #[doc(alias = $alias)]
        pub fn $clear(&self) -> crate::Result<()> {
            self.$with(|s| s.$clear())
        }
    };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use forward_methods;

macro_rules! socket_options {
    ([] $( $access:ident $v:ident = $id:path, $alias:literal : $kind:ident $api:ident, $doc:literal => $($name:ident),+ ; )*) => {
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
                #[doc(alias = $alias)]
                $v,
            )*
        }

        // Each row's doc alias is its C name.
        $( const _: () = assert!(
            same_str($alias, concat!("ZMQ_", stringify!($v))),
            concat!("the doc alias of ", stringify!($v), " is not ZMQ_", stringify!($v))
        ); )*

        impl SocketOption {
            /// Every option, in table order.
            pub const ALL: &'static [SocketOption] = &[$(SocketOption::$v),*];

            /// The number libzmq uses for it (`zmq_sys::ZMQ_LINGER`…).
            pub const fn id(self) -> i32 {
                match self { $(SocketOption::$v => $id,)* }
            }

            /// The libzmq name without `ZMQ_` (`"LINGER"`).
            pub const fn name(self) -> &'static str {
                match self { $(SocketOption::$v => stringify!($v),)* }
            }

            /// The C name (`"ZMQ_LINGER"`).
            pub const fn c_name(self) -> &'static str {
                match self { $(SocketOption::$v => $alias,)* }
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

            /// Whether libzmq clears it when set to `NULL` with length 0, as
            /// the zmq_setsockopt manual documents (`TCP_ACCEPT_FILTER`, the
            /// `IPC_FILTER_*`s, `SOCKS_PROXY`, `BINDTODEVICE`…): it then has a
            /// `clear_*` method on [`Socket`], and setting it to an empty
            /// value clears it too.
            pub const fn is_clearable(self) -> bool {
                match self { $(SocketOption::$v => clearable_of!($access $($name),+),)* }
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
            $( methods!($access $kind $v $alias $doc $($name),+); )*
        }
    };
}

/// The table of every socket option, handed to the macro `$cb` (with
/// `[$args]` first) so it can be expanded more than once: the enum and
/// [`Socket`]'s accessors here, forwarding accessors for async and
/// thread-safe sockets elsewhere.
///
/// A row: `access NAME = id, "ZMQ_NAME" : kind api, "doc" => getter, setter, clear;`
/// where access is `rw`, `r` or `w` (with the names that apply), kind how
/// the value is typed (`int`, `bool`, `ms`, `i64`, `u64`, `bytes`, `str`,
/// `key`, `fd` or an enum), api whether it needs a capability (`stable`,
/// `curve`, `draft`…), and a `clear_*` name only for options libzmq clears
/// with `(NULL, 0)`.
macro_rules! option_table {
    ($cb:ident $(, $arg:tt)*) => {
        $cb! { [$($arg)*]
        rw AFFINITY = zmq_sys::ZMQ_AFFINITY, "ZMQ_AFFINITY" : u64 stable, "I/O thread affinity bitmask for new connections." => affinity, set_affinity;
        rw ROUTING_ID = zmq_sys::ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID" : bytes stable, "the socket's routing id (formerly IDENTITY), 1 to 255 bytes." => routing_id, set_routing_id;
        w SUBSCRIBE = zmq_sys::ZMQ_SUBSCRIBE, "ZMQ_SUBSCRIBE" : bytes stable, "adds a SUB/XSUB topic prefix." => subscribe;
        w UNSUBSCRIBE = zmq_sys::ZMQ_UNSUBSCRIBE, "ZMQ_UNSUBSCRIBE" : bytes stable, "removes a SUB/XSUB topic prefix." => unsubscribe;
        rw RATE = zmq_sys::ZMQ_RATE, "ZMQ_RATE" : int stable, "multicast data rate in kbit/s." => rate, set_rate;
        rw RECOVERY_IVL = zmq_sys::ZMQ_RECOVERY_IVL, "ZMQ_RECOVERY_IVL" : ms stable, "multicast recovery interval." => recovery_ivl, set_recovery_ivl;
        rw SNDBUF = zmq_sys::ZMQ_SNDBUF, "ZMQ_SNDBUF" : int stable, "kernel send buffer size in bytes (-1: OS default)." => sndbuf, set_sndbuf;
        rw RCVBUF = zmq_sys::ZMQ_RCVBUF, "ZMQ_RCVBUF" : int stable, "kernel receive buffer size in bytes (-1: OS default)." => rcvbuf, set_rcvbuf;
        r RCVMORE = zmq_sys::ZMQ_RCVMORE, "ZMQ_RCVMORE" : bool stable, "more parts of the current message follow." => rcvmore;
        r FD = zmq_sys::ZMQ_FD, "ZMQ_FD" : fd stable, "the edge-triggered notification fd; read `EVENTS` after it fires." => fd;
        r EVENTS = zmq_sys::ZMQ_EVENTS, "ZMQ_EVENTS" : PollEvents stable, "whether a message can be received (POLLIN) or sent (POLLOUT) now." => events;
        r TYPE = zmq_sys::ZMQ_TYPE, "ZMQ_TYPE" : SocketType stable, "the socket type." => socket_type;
        rw LINGER = zmq_sys::ZMQ_LINGER, "ZMQ_LINGER" : ms stable, "how long pending messages may wait after close (zmqx default: 1 s)." => linger, set_linger;
        rw RECONNECT_IVL = zmq_sys::ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL" : ms stable, "initial reconnection interval (`None`: no reconnection)." => reconnect_ivl, set_reconnect_ivl;
        rw BACKLOG = zmq_sys::ZMQ_BACKLOG, "ZMQ_BACKLOG" : int stable, "pending connections queue length." => backlog, set_backlog;
        rw RECONNECT_IVL_MAX = zmq_sys::ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX" : ms stable, "maximum reconnection interval (0: only RECONNECT_IVL)." => reconnect_ivl_max, set_reconnect_ivl_max;
        rw MAXMSGSIZE = zmq_sys::ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE" : i64 stable, "largest inbound message in bytes (-1: no limit)." => maxmsgsize, set_maxmsgsize;
        rw SNDHWM = zmq_sys::ZMQ_SNDHWM, "ZMQ_SNDHWM" : int stable, "high-water mark of outbound messages (0: none)." => sndhwm, set_sndhwm;
        rw RCVHWM = zmq_sys::ZMQ_RCVHWM, "ZMQ_RCVHWM" : int stable, "high-water mark of inbound messages (0: none)." => rcvhwm, set_rcvhwm;
        rw MULTICAST_HOPS = zmq_sys::ZMQ_MULTICAST_HOPS, "ZMQ_MULTICAST_HOPS" : int stable, "multicast TTL." => multicast_hops, set_multicast_hops;
        rw RCVTIMEO = zmq_sys::ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO" : ms stable, "receive timeout (`None`: block forever)." => rcvtimeo, set_rcvtimeo;
        rw SNDTIMEO = zmq_sys::ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO" : ms stable, "send timeout (`None`: block forever)." => sndtimeo, set_sndtimeo;
        rw IPV4ONLY = zmq_sys::ZMQ_IPV4ONLY, "ZMQ_IPV4ONLY" : bool stable, "IPv4 only (deprecated: use IPV6)." => ipv4only, set_ipv4only;
        r LAST_ENDPOINT = zmq_sys::ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT" : str stable, "the endpoint last bound or connected, with the real port." => last_endpoint;
        w ROUTER_MANDATORY = zmq_sys::ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY" : bool stable, "ROUTER fails with EHOSTUNREACH on unroutable messages." => set_router_mandatory;
        rw TCP_KEEPALIVE = zmq_sys::ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE" : int stable, "SO_KEEPALIVE (-1: OS default, 0 off, 1 on)." => tcp_keepalive, set_tcp_keepalive;
        rw TCP_KEEPALIVE_CNT = zmq_sys::ZMQ_TCP_KEEPALIVE_CNT, "ZMQ_TCP_KEEPALIVE_CNT" : int stable, "TCP_KEEPCNT (-1: OS default)." => tcp_keepalive_cnt, set_tcp_keepalive_cnt;
        rw TCP_KEEPALIVE_IDLE = zmq_sys::ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE" : int stable, "TCP_KEEPIDLE in seconds (-1: OS default)." => tcp_keepalive_idle, set_tcp_keepalive_idle;
        rw TCP_KEEPALIVE_INTVL = zmq_sys::ZMQ_TCP_KEEPALIVE_INTVL, "ZMQ_TCP_KEEPALIVE_INTVL" : int stable, "TCP_KEEPINTVL in seconds (-1: OS default)." => tcp_keepalive_intvl, set_tcp_keepalive_intvl;
        w TCP_ACCEPT_FILTER = zmq_sys::ZMQ_TCP_ACCEPT_FILTER, "ZMQ_TCP_ACCEPT_FILTER" : bytes stable, "accept TCP peers from this address (deprecated by ZAP)." => set_tcp_accept_filter, clear_tcp_accept_filter;
        rw IMMEDIATE = zmq_sys::ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE" : bool stable, "queue messages only to completed connections." => immediate, set_immediate;
        w XPUB_VERBOSE = zmq_sys::ZMQ_XPUB_VERBOSE, "ZMQ_XPUB_VERBOSE" : bool stable, "XPUB passes on duplicate subscriptions." => set_xpub_verbose;
        w ROUTER_RAW = zmq_sys::ZMQ_ROUTER_RAW, "ZMQ_ROUTER_RAW" : bool stable, "ROUTER in raw mode (deprecated: use STREAM)." => set_router_raw;
        rw IPV6 = zmq_sys::ZMQ_IPV6, "ZMQ_IPV6" : bool stable, "IPv6 on this socket." => ipv6, set_ipv6;
        r MECHANISM = zmq_sys::ZMQ_MECHANISM, "ZMQ_MECHANISM" : Mechanism stable, "the security mechanism in use." => mechanism;
        rw PLAIN_SERVER = zmq_sys::ZMQ_PLAIN_SERVER, "ZMQ_PLAIN_SERVER" : bool stable, "act as PLAIN server." => plain_server, set_plain_server;
        rw PLAIN_USERNAME = zmq_sys::ZMQ_PLAIN_USERNAME, "ZMQ_PLAIN_USERNAME" : str stable, "PLAIN client username." => plain_username, set_plain_username, clear_plain_username;
        rw PLAIN_PASSWORD = zmq_sys::ZMQ_PLAIN_PASSWORD, "ZMQ_PLAIN_PASSWORD" : str stable, "PLAIN client password." => plain_password, set_plain_password, clear_plain_password;
        rw CURVE_SERVER = zmq_sys::ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER" : bool curve, "act as CURVE server." => curve_server, set_curve_server;
        rw CURVE_PUBLICKEY = zmq_sys::ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY" : key curve, "this socket's long-term public key." => curve_publickey, set_curve_publickey;
        rw CURVE_SECRETKEY = zmq_sys::ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY" : key curve, "this socket's long-term secret key." => curve_secretkey, set_curve_secretkey;
        rw CURVE_SERVERKEY = zmq_sys::ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY" : key curve, "the server's public key (CURVE clients)." => curve_serverkey, set_curve_serverkey;
        w PROBE_ROUTER = zmq_sys::ZMQ_PROBE_ROUTER, "ZMQ_PROBE_ROUTER" : bool stable, "send an empty message to ROUTER peers on connect." => set_probe_router;
        w REQ_CORRELATE = zmq_sys::ZMQ_REQ_CORRELATE, "ZMQ_REQ_CORRELATE" : bool stable, "REQ matches replies to requests." => set_req_correlate;
        w REQ_RELAXED = zmq_sys::ZMQ_REQ_RELAXED, "ZMQ_REQ_RELAXED" : bool stable, "REQ may send again without a reply." => set_req_relaxed;
        rw CONFLATE = zmq_sys::ZMQ_CONFLATE, "ZMQ_CONFLATE" : bool stable, "keep only the last message." => conflate, set_conflate;
        rw ZAP_DOMAIN = zmq_sys::ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN" : str stable, "the ZAP authentication domain." => zap_domain, set_zap_domain;
        w ROUTER_HANDOVER = zmq_sys::ZMQ_ROUTER_HANDOVER, "ZMQ_ROUTER_HANDOVER" : bool stable, "a new peer with a known routing id takes over." => set_router_handover;
        rw TOS = zmq_sys::ZMQ_TOS, "ZMQ_TOS" : int stable, "IP type-of-service." => tos, set_tos;
        w IPC_FILTER_PID = zmq_sys::ZMQ_IPC_FILTER_PID, "ZMQ_IPC_FILTER_PID" : int stable, "accept IPC peers of this process id." => set_ipc_filter_pid, clear_ipc_filter_pid;
        w IPC_FILTER_UID = zmq_sys::ZMQ_IPC_FILTER_UID, "ZMQ_IPC_FILTER_UID" : int stable, "accept IPC peers of this user id." => set_ipc_filter_uid, clear_ipc_filter_uid;
        w IPC_FILTER_GID = zmq_sys::ZMQ_IPC_FILTER_GID, "ZMQ_IPC_FILTER_GID" : int stable, "accept IPC peers of this group id." => set_ipc_filter_gid, clear_ipc_filter_gid;
        w CONNECT_ROUTING_ID = zmq_sys::ZMQ_CONNECT_ROUTING_ID, "ZMQ_CONNECT_ROUTING_ID" : bytes stable, "routing id of the next connected peer (ROUTER, STREAM)." => set_connect_routing_id;
        rw GSSAPI_SERVER = zmq_sys::ZMQ_GSSAPI_SERVER, "ZMQ_GSSAPI_SERVER" : bool gssapi, "act as GSSAPI server." => gssapi_server, set_gssapi_server;
        rw GSSAPI_PRINCIPAL = zmq_sys::ZMQ_GSSAPI_PRINCIPAL, "ZMQ_GSSAPI_PRINCIPAL" : str gssapi, "GSSAPI principal name." => gssapi_principal, set_gssapi_principal;
        rw GSSAPI_SERVICE_PRINCIPAL = zmq_sys::ZMQ_GSSAPI_SERVICE_PRINCIPAL, "ZMQ_GSSAPI_SERVICE_PRINCIPAL" : str gssapi, "GSSAPI service principal name." => gssapi_service_principal, set_gssapi_service_principal;
        rw GSSAPI_PLAINTEXT = zmq_sys::ZMQ_GSSAPI_PLAINTEXT, "ZMQ_GSSAPI_PLAINTEXT" : bool gssapi, "GSSAPI without encryption." => gssapi_plaintext, set_gssapi_plaintext;
        rw HANDSHAKE_IVL = zmq_sys::ZMQ_HANDSHAKE_IVL, "ZMQ_HANDSHAKE_IVL" : ms stable, "maximum handshake time (0 or `Some(ZERO)`: none)." => handshake_ivl, set_handshake_ivl;
        rw SOCKS_PROXY = zmq_sys::ZMQ_SOCKS_PROXY, "ZMQ_SOCKS_PROXY" : str stable, "SOCKS5 proxy address." => socks_proxy, set_socks_proxy, clear_socks_proxy;
        w XPUB_NODROP = zmq_sys::ZMQ_XPUB_NODROP, "ZMQ_XPUB_NODROP" : bool stable, "XPUB fails with EAGAIN at the HWM instead of dropping." => set_xpub_nodrop;
        w XPUB_MANUAL = zmq_sys::ZMQ_XPUB_MANUAL, "ZMQ_XPUB_MANUAL" : bool stable, "XPUB subscriptions are managed by the application." => set_xpub_manual;
        w XPUB_WELCOME_MSG = zmq_sys::ZMQ_XPUB_WELCOME_MSG, "ZMQ_XPUB_WELCOME_MSG" : bytes stable, "message XPUB sends to new subscribers." => set_xpub_welcome_msg, clear_xpub_welcome_msg;
        w STREAM_NOTIFY = zmq_sys::ZMQ_STREAM_NOTIFY, "ZMQ_STREAM_NOTIFY" : bool stable, "STREAM reports connects and disconnects." => set_stream_notify;
        rw INVERT_MATCHING = zmq_sys::ZMQ_INVERT_MATCHING, "ZMQ_INVERT_MATCHING" : bool stable, "PUB/SUB deliver what does NOT match." => invert_matching, set_invert_matching;
        rw HEARTBEAT_IVL = zmq_sys::ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL" : ms stable, "interval between ZMTP PINGs." => heartbeat_ivl, set_heartbeat_ivl;
        rw HEARTBEAT_TTL = zmq_sys::ZMQ_HEARTBEAT_TTL, "ZMQ_HEARTBEAT_TTL" : ms stable, "time-to-live the peer should apply to us." => heartbeat_ttl, set_heartbeat_ttl;
        rw HEARTBEAT_TIMEOUT = zmq_sys::ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT" : ms stable, "how long to wait for a PONG." => heartbeat_timeout, set_heartbeat_timeout;
        w XPUB_VERBOSER = zmq_sys::ZMQ_XPUB_VERBOSER, "ZMQ_XPUB_VERBOSER" : bool stable, "XPUB passes on duplicate subscriptions and unsubscriptions." => set_xpub_verboser;
        rw CONNECT_TIMEOUT = zmq_sys::ZMQ_CONNECT_TIMEOUT, "ZMQ_CONNECT_TIMEOUT" : ms stable, "TCP connect timeout." => connect_timeout, set_connect_timeout;
        rw TCP_MAXRT = zmq_sys::ZMQ_TCP_MAXRT, "ZMQ_TCP_MAXRT" : ms stable, "TCP_USER_TIMEOUT: maximum retransmission time." => tcp_maxrt, set_tcp_maxrt;
        r THREAD_SAFE = zmq_sys::ZMQ_THREAD_SAFE, "ZMQ_THREAD_SAFE" : bool stable, "the socket type is thread-safe." => thread_safe;
        rw MULTICAST_MAXTPDU = zmq_sys::ZMQ_MULTICAST_MAXTPDU, "ZMQ_MULTICAST_MAXTPDU" : int stable, "maximum multicast transport data unit." => multicast_maxtpdu, set_multicast_maxtpdu;
        rw VMCI_BUFFER_SIZE = zmq_sys::ZMQ_VMCI_BUFFER_SIZE, "ZMQ_VMCI_BUFFER_SIZE" : u64 vmci, "VMCI buffer size." => vmci_buffer_size, set_vmci_buffer_size;
        rw VMCI_BUFFER_MIN_SIZE = zmq_sys::ZMQ_VMCI_BUFFER_MIN_SIZE, "ZMQ_VMCI_BUFFER_MIN_SIZE" : u64 vmci, "VMCI minimum buffer size." => vmci_buffer_min_size, set_vmci_buffer_min_size;
        rw VMCI_BUFFER_MAX_SIZE = zmq_sys::ZMQ_VMCI_BUFFER_MAX_SIZE, "ZMQ_VMCI_BUFFER_MAX_SIZE" : u64 vmci, "VMCI maximum buffer size." => vmci_buffer_max_size, set_vmci_buffer_max_size;
        rw VMCI_CONNECT_TIMEOUT = zmq_sys::ZMQ_VMCI_CONNECT_TIMEOUT, "ZMQ_VMCI_CONNECT_TIMEOUT" : ms vmci, "VMCI connect timeout." => vmci_connect_timeout, set_vmci_connect_timeout;
        rw USE_FD = zmq_sys::ZMQ_USE_FD, "ZMQ_USE_FD" : int stable, "use this pre-created listening fd for the next bind." => use_fd, set_use_fd;
        rw GSSAPI_PRINCIPAL_NAMETYPE = zmq_sys::ZMQ_GSSAPI_PRINCIPAL_NAMETYPE, "ZMQ_GSSAPI_PRINCIPAL_NAMETYPE" : GssapiNameType gssapi, "name type of GSSAPI_PRINCIPAL." => gssapi_principal_nametype, set_gssapi_principal_nametype;
        rw GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = zmq_sys::ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, "ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE" : GssapiNameType gssapi, "name type of GSSAPI_SERVICE_PRINCIPAL." => gssapi_service_principal_nametype, set_gssapi_service_principal_nametype;
        rw BINDTODEVICE = zmq_sys::ZMQ_BINDTODEVICE, "ZMQ_BINDTODEVICE" : str stable, "SO_BINDTODEVICE interface name." => bindtodevice, set_bindtodevice, clear_bindtodevice;
        rw ZAP_ENFORCE_DOMAIN = zmq_sys::ZMQ_ZAP_ENFORCE_DOMAIN, "ZMQ_ZAP_ENFORCE_DOMAIN" : bool draft_any, "require a ZAP domain for ZAP to apply." => zap_enforce_domain, set_zap_enforce_domain;
        rw LOOPBACK_FASTPATH = zmq_sys::ZMQ_LOOPBACK_FASTPATH, "ZMQ_LOOPBACK_FASTPATH" : bool draft_any, "Windows loopback fast path." => loopback_fastpath, set_loopback_fastpath;
        w METADATA = zmq_sys::ZMQ_METADATA, "ZMQ_METADATA" : str draft_any, "an application metadata property \"X-Name:value\"." => set_metadata;
        rw MULTICAST_LOOP = zmq_sys::ZMQ_MULTICAST_LOOP, "ZMQ_MULTICAST_LOOP" : bool draft_any, "multicast loopback." => multicast_loop, set_multicast_loop;
        rw ROUTER_NOTIFY = zmq_sys::ZMQ_ROUTER_NOTIFY, "ZMQ_ROUTER_NOTIFY" : RouterNotify draft, "ROUTER delivers empty messages on peer connect/disconnect." => router_notify, set_router_notify;
        w XPUB_MANUAL_LAST_VALUE = zmq_sys::ZMQ_XPUB_MANUAL_LAST_VALUE, "ZMQ_XPUB_MANUAL_LAST_VALUE" : bool draft_any, "XPUB manual mode with last-value caching." => set_xpub_manual_last_value;
        rw SOCKS_USERNAME = zmq_sys::ZMQ_SOCKS_USERNAME, "ZMQ_SOCKS_USERNAME" : str draft_any, "SOCKS5 username." => socks_username, set_socks_username, clear_socks_username;
        rw SOCKS_PASSWORD = zmq_sys::ZMQ_SOCKS_PASSWORD, "ZMQ_SOCKS_PASSWORD" : str draft_any, "SOCKS5 password." => socks_password, set_socks_password, clear_socks_password;
        rw IN_BATCH_SIZE = zmq_sys::ZMQ_IN_BATCH_SIZE, "ZMQ_IN_BATCH_SIZE" : int draft, "bytes read from the kernel per batch." => in_batch_size, set_in_batch_size;
        rw OUT_BATCH_SIZE = zmq_sys::ZMQ_OUT_BATCH_SIZE, "ZMQ_OUT_BATCH_SIZE" : int draft, "bytes written to the kernel per batch." => out_batch_size, set_out_batch_size;
        w WSS_KEY_PEM = zmq_sys::ZMQ_WSS_KEY_PEM, "ZMQ_WSS_KEY_PEM" : str draft_wss, "WSS private key (PEM)." => set_wss_key_pem;
        w WSS_CERT_PEM = zmq_sys::ZMQ_WSS_CERT_PEM, "ZMQ_WSS_CERT_PEM" : str draft_wss, "WSS certificate (PEM)." => set_wss_cert_pem;
        w WSS_TRUST_PEM = zmq_sys::ZMQ_WSS_TRUST_PEM, "ZMQ_WSS_TRUST_PEM" : str draft_wss, "WSS trusted certificate (PEM)." => set_wss_trust_pem;
        w WSS_HOSTNAME = zmq_sys::ZMQ_WSS_HOSTNAME, "ZMQ_WSS_HOSTNAME" : str draft_wss, "WSS server hostname to verify." => set_wss_hostname;
        w WSS_TRUST_SYSTEM = zmq_sys::ZMQ_WSS_TRUST_SYSTEM, "ZMQ_WSS_TRUST_SYSTEM" : bool draft_wss, "WSS trusts the system certificate store." => set_wss_trust_system;
        w ONLY_FIRST_SUBSCRIBE = zmq_sys::ZMQ_ONLY_FIRST_SUBSCRIBE, "ZMQ_ONLY_FIRST_SUBSCRIBE" : bool draft_any, "only the first part of a multipart is a subscription." => set_only_first_subscribe;
        rw RECONNECT_STOP = zmq_sys::ZMQ_RECONNECT_STOP, "ZMQ_RECONNECT_STOP" : ReconnectStop draft_any, "when to stop reconnecting." => reconnect_stop, set_reconnect_stop;
        w HELLO_MSG = zmq_sys::ZMQ_HELLO_MSG, "ZMQ_HELLO_MSG" : bytes draft, "message sent to each new peer." => set_hello_msg;
        w DISCONNECT_MSG = zmq_sys::ZMQ_DISCONNECT_MSG, "ZMQ_DISCONNECT_MSG" : bytes draft, "message received when a peer disconnects." => set_disconnect_msg;
        rw PRIORITY = zmq_sys::ZMQ_PRIORITY, "ZMQ_PRIORITY" : int draft, "SO_PRIORITY of the socket's connections." => priority, set_priority;
        rw BUSY_POLL = zmq_sys::ZMQ_BUSY_POLL, "ZMQ_BUSY_POLL" : bool draft, "SO_BUSY_POLL on the socket's connections." => busy_poll, set_busy_poll;
        w HICCUP_MSG = zmq_sys::ZMQ_HICCUP_MSG, "ZMQ_HICCUP_MSG" : bytes draft, "message received when the connection hiccups." => set_hiccup_msg;
        w XSUB_VERBOSE_UNSUBSCRIBE = zmq_sys::ZMQ_XSUB_VERBOSE_UNSUBSCRIBE, "ZMQ_XSUB_VERBOSE_UNSUBSCRIBE" : bool draft, "XSUB passes on every unsubscription." => set_xsub_verbose_unsubscribe;
        r TOPICS_COUNT = zmq_sys::ZMQ_TOPICS_COUNT, "ZMQ_TOPICS_COUNT" : int draft_any, "number of topics subscribed (XPUB/XSUB/SUB)." => topics_count;
        rw NORM_MODE = zmq_sys::ZMQ_NORM_MODE, "ZMQ_NORM_MODE" : NormMode draft_norm, "NORM congestion mode." => norm_mode, set_norm_mode;
        rw NORM_UNICAST_NACK = zmq_sys::ZMQ_NORM_UNICAST_NACK, "ZMQ_NORM_UNICAST_NACK" : bool draft_norm, "NORM unicast NACKs." => norm_unicast_nack, set_norm_unicast_nack;
        rw NORM_BUFFER_SIZE = zmq_sys::ZMQ_NORM_BUFFER_SIZE, "ZMQ_NORM_BUFFER_SIZE" : int draft_norm, "NORM buffer size in kB." => norm_buffer_size, set_norm_buffer_size;
        rw NORM_SEGMENT_SIZE = zmq_sys::ZMQ_NORM_SEGMENT_SIZE, "ZMQ_NORM_SEGMENT_SIZE" : int draft_norm, "NORM segment size in bytes." => norm_segment_size, set_norm_segment_size;
        rw NORM_BLOCK_SIZE = zmq_sys::ZMQ_NORM_BLOCK_SIZE, "ZMQ_NORM_BLOCK_SIZE" : int draft_norm, "NORM block size." => norm_block_size, set_norm_block_size;
        rw NORM_NUM_PARITY = zmq_sys::ZMQ_NORM_NUM_PARITY, "ZMQ_NORM_NUM_PARITY" : int draft_norm, "NORM parity segments." => norm_num_parity, set_norm_num_parity;
        rw NORM_NUM_AUTOPARITY = zmq_sys::ZMQ_NORM_NUM_AUTOPARITY, "ZMQ_NORM_NUM_AUTOPARITY" : int draft_norm, "NORM automatic parity segments." => norm_num_autoparity, set_norm_num_autoparity;
        rw NORM_PUSH = zmq_sys::ZMQ_NORM_PUSH, "ZMQ_NORM_PUSH" : bool draft_norm, "NORM push mode." => norm_push, set_norm_push;
        }
    };
}
#[allow(unused_imports)] // used by the forwarding accessors (features tokio, draft)
pub(crate) use option_table;

option_table!(socket_options);

/// The largest bytes value [`Socket::get_raw_option`] reads for an option
/// zmqx does not know.
const MAX_RAW_BYTES: usize = 64 << 10;

/// The error for a raw value of the wrong kind for a known option.
fn raw_kind_mismatch(option: SocketOption, kind: OptionKind) -> Error {
    Error::invalid(
        format!("socket option {} ({})", option.id(), option.c_name()),
        format!("its value is {:?}, not {kind:?}", option.kind()),
    )
}

/// Names the option in an error of the raw-number API: libzmq's errors
/// become [`Error::AtOption`] (by number when zmqx does not know it), as
/// everywhere else; an error zmqx made already names it.
fn raw_error(id: i32, e: Error) -> Error {
    e.at_option(|| match SocketOption::from_raw(id) {
        Some(option) => option.c_name().to_string(),
        None => format!("#{id}"),
    })
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
        // libzmq clears these with (NULL, 0) only: an empty slice's dangling
        // pointer would be EINVAL.
        if value.is_empty() && option.is_clearable() {
            return self.clear_checked(option);
        }
        self.set_raw_bytes(option.id(), value)
            .map_err(|e| self.explain(option, e))
    }

    /// Sets `option` to `(NULL, 0)`, libzmq's "clear" for the options whose
    /// [`is_clearable`](SocketOption::is_clearable) is true.
    fn clear_checked(&self, option: SocketOption) -> Result<()> {
        if !option.is_clearable() {
            return Err(Error::invalid(
                option.c_name(),
                "libzmq does not clear this option with NULL",
            ));
        }
        self.set_raw_null(option.id())
            .map_err(|e| self.explain(option, e))
    }

    /// Clears an option libzmq resets with `(NULL, 0)` (see
    /// [`SocketOption::is_clearable`]); each also has its own `clear_*`
    /// method. Other options are an [`Error::InvalidInput`].
    pub fn clear(&self, option: SocketOption) -> Result<()> {
        self.clear_checked(option)
    }

    /// Reads an option by its number (pyzmq's `getsockopt(option)` with a raw
    /// number), for options the typed table does not know (a newer libzmq):
    /// `kind` says how libzmq passes the value (an `int`, an `int64_t`, a
    /// `uint64_t` or bytes), and so its size.
    ///
    /// An option zmqx knows is read as [`Socket::get`] does, after checking
    /// that `kind` is its kind (an [`Error::InvalidInput`] naming the option
    /// otherwise). libzmq's errors come as an [`Error::AtOption`] naming the
    /// option, by number (`#9999`) when zmqx does not know it; its
    /// [`root`](Error::root) is [`Error::InvalidArgument`] for an option the
    /// linked libzmq does not know, one that does not apply to this socket
    /// type, or a value of another size. Bytes options are read up to 64 KiB.
    ///
    /// ```
    /// # fn main() -> zmqx::Result<()> {
    /// use zmqx::{options::OptionKind, OptionValue};
    /// let s = zmqx::Context::new().socket(zmqx::SocketType::Dealer)?;
    /// s.set_raw_option(zmqx::sys::ZMQ_SNDHWM, OptionValue::Int(7))?;
    /// assert_eq!(s.get_raw_option(zmqx::sys::ZMQ_SNDHWM, OptionKind::Int)?, OptionValue::Int(7));
    /// assert!(s.get_raw_option(9999, OptionKind::Int).is_err());
    /// # Ok(()) }
    /// ```
    pub fn get_raw_option(&self, id: i32, kind: OptionKind) -> Result<OptionValue> {
        if let Some(option) = SocketOption::from_raw(id) {
            if option.kind() != kind {
                return Err(raw_kind_mismatch(option, kind));
            }
            return self.get(option).map_err(|e| raw_error(id, e));
        }
        match kind {
            OptionKind::Bytes => {
                // The size an unknown option needs is unknown: grow on EINVAL.
                let mut cap = 256;
                loop {
                    let mut buf = vec![0u8; cap];
                    match self.getsockopt(id, buf.as_mut_ptr().cast(), buf.len()) {
                        Ok(len) => {
                            buf.truncate(len);
                            return Ok(OptionValue::Bytes(buf));
                        }
                        Err(Error::InvalidArgument) if cap < MAX_RAW_BYTES => cap *= 16,
                        Err(e) => return Err(raw_error(id, e)),
                    }
                }
            }
            _ => self.get_raw_value(id, kind).map_err(|e| raw_error(id, e)),
        }
    }

    /// Sets an option by its number (pyzmq's `setsockopt(option, value)`
    /// with a raw number), for options the typed table does not know. The
    /// value's variant gives its C type and size (`Int`: a 4-byte `int`,
    /// `Int64`/`UInt64`: 8 bytes, `Bytes`: its length).
    ///
    /// An option zmqx knows is set as [`Socket::set`] does, after checking
    /// the value is of its kind. Errors name the option, as
    /// [`get_raw_option`](Socket::get_raw_option)'s.
    pub fn set_raw_option(&self, id: i32, value: OptionValue) -> Result<()> {
        if let Some(option) = SocketOption::from_raw(id) {
            let kind = match &value {
                OptionValue::Int(_) => OptionKind::Int,
                OptionValue::Int64(_) => OptionKind::Int64,
                OptionValue::UInt64(_) => OptionKind::UInt64,
                OptionValue::Bytes(_) => OptionKind::Bytes,
            };
            if option.kind() != kind {
                return Err(raw_kind_mismatch(option, kind));
            }
            return self.set(option, value).map_err(|e| raw_error(id, e));
        }
        self.set_raw_value(id, &value).map_err(|e| raw_error(id, e))
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
        assert_eq!(
            SocketOption::from_raw(zmq_sys::ZMQ_LINGER),
            Some(SocketOption::LINGER)
        );
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
