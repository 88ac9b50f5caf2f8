//! Logging over PUB (pyzmq's `zmq.log.handlers`): a [`log::Log`] handler,
//! [`PubHandler`], and a [`TopicLogger`] for explicit topics.
//!
//! ```
//! use std::time::Duration;
//! use zmqx::log::{Level, PubHandler};
//! use zmqx::{Context, SocketType};
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?.with_root_topic("app");
//!     let sub = ctx.socket(SocketType::Sub)?;
//!     sub.subscribe("app.")?;
//!     sub.set_rcvtimeo(Some(Duration::from_millis(100)))?;
//!     sub.connect(&handler.last_endpoint()?)?;
//!     // PUB/SUB: a subscriber only sees what is published after it joined.
//!     let frames = loop {
//!         handler.publish(Level::Info, Some("db"), "connected", None, None);
//!         if let Ok(frames) = sub.recv_multipart_bytes() {
//!             break frames;
//!         }
//!     };
//!     assert_eq!(frames[0], b"app.INFO.db");
//!     assert_eq!(frames[1], b"connected\n");
//!     Ok(())
//! }
//! ```
//!
//! # Topics and messages
//!
//! Each record is two frames, `[topic, message]`, as pyzmq's `PUBHandler`
//! sends them, so pyzmq's `python -m zmq.log` and `zmqx logwatch` read
//! either. The topic is `root_topic.LEVEL` (just `LEVEL` when the root topic
//! is empty). When the message contains `::`, it is split at the first one:
//! the left part is appended to the topic and the right part is the message
//! (`"db.pool::exhausted"` is published as `LEVEL.db.pool` /
//! `exhausted`). Beware that Rust paths (`std::io`) in a message are split
//! too, exactly as pyzmq does.
//!
//! Levels carry Python's names so that pyzmq tools subscribe to the same
//! topics: `log`'s `Trace` and `Debug` are `DEBUG`, `Info` is `INFO`, `Warn`
//! is `WARNING` and `Error` is `ERROR`. Rust's logging has no critical
//! level: publish `CRITICAL` records with [`TopicLogger::critical`] or
//! [`PubHandler::publish`] with [`Level::Critical`].
//!
//! # Formatters
//!
//! The message frame is made by a [`Format`] per level, a Python
//! `logging.Formatter` template (`%(asctime)s %(levelname)-8s %(message)s`)
//! with Python's widths, precisions and flags, parsed once when it is made:
//! a directive zmqx cannot format as Python would is refused then, with a
//! [`FormatError`] naming it. The defaults are pyzmq's: `"%(message)s\n"`
//! for `INFO` and `"%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"`
//! for the others (with `" - %(exc_info)s"` for `ERROR`, which is always
//! `None` in Rust). [`Format`] lists the fields, among them `asctime`,
//! `created`, `process`, `thread` and `threadName`; `funcName` is `None`
//! for records from `log` and `tracing`, which do not know the function.
//!
//! # Levels
//!
//! Each handler has a level (pyzmq's `setLevel`), [`Level::Debug`] at first:
//! records below it are neither formatted nor sent. It can change at any
//! time from any thread ([`PubHandler::set_level`]).
//!
//! # Dates
//!
//! [`DateFormat`] is a strftime-style date format (`%Y-%m-%d %H:%M:%S`…),
//! parsed once, shown in UTC or local time ([`TimeZone`]): `asctime` uses
//! it, and so does `zmqx logwatch --timestamp --dateformat`.
//!
//! # Never blocking the caller
//!
//! Logging never blocks or panics the caller when the network is slow.
//! Records are sent with `ZMQ_DONTWAIT`. A handler that makes its own socket
//! ([`PubHandler::bind`], [`PubHandler::connect`]) makes an `XPUB` with
//! `ZMQ_XPUB_NODROP` (subscribers see an ordinary PUB): when a subscriber's
//! queue is at the high-water mark, libzmq refuses the record instead of
//! dropping it silently, and the handler drops it and counts it in
//! [`PubHandler::dropped`]. A record that no subscriber wants is not a drop
//! (nobody missed it). With `XPUB_NODROP` one full subscriber makes the
//! record be dropped for every subscriber. A plain `PUB` socket handed to
//! [`PubHandler::from_socket`] drops silently at the high-water mark
//! (libzmq gives no signal), so `dropped()` can only count other send
//! failures there.

// Only `sys` (the C time and thread-id calls) may use `unsafe`.
#![deny(unsafe_code)]

use std::sync::OnceLock;
use std::time::SystemTime;

mod date;
mod error;
mod format;
mod handler;
#[cfg(feature = "tracing")]
mod layer;
mod printf;
mod sys;

pub use date::{
    ASCTIME_DATEFORMAT, DateFormat, LOGWATCH_DATEFORMAT, PYZMQ_LOGWATCH_DATEFORMAT, TimeZone,
};
pub use error::{FormatError, FormatErrorKind};
pub use format::Format;
pub use handler::{PubHandler, TopicLogger};
#[cfg(feature = "tracing")]
pub use layer::PubLayer;

/// The separator between a subtopic and the message (pyzmq's
/// `TOPIC_DELIM`).
pub const TOPIC_DELIM: &str = "::";

/// A log level, named as Python's `logging` names it (pyzmq's topics use
/// these names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `DEBUG` (10); `log`'s `Trace` and `Debug`.
    Debug,
    /// `INFO` (20).
    Info,
    /// `WARNING` (30); `log`'s `Warn`.
    Warning,
    /// `ERROR` (40).
    Error,
    /// `CRITICAL` (50): no `log` counterpart, see [`TopicLogger::critical`].
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// Python's level name (`"WARNING"`), used in topics.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// Python's level number (`logging.WARNING` is 30).
    pub fn number(self) -> u32 {
        match self {
            Level::Debug => 10,
            Level::Info => 20,
            Level::Warning => 30,
            Level::Error => 40,
            Level::Critical => 50,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn from_index(index: u8) -> Level {
        match index {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warning,
            3 => Level::Error,
            _ => Level::Critical,
        }
    }
}

impl std::str::FromStr for Level {
    type Err = crate::Error;

    /// A level by Python's name, any case (`"warning"`), or `WARN`/`FATAL`
    /// (Python's aliases) or `TRACE` (`DEBUG`).
    fn from_str(s: &str) -> crate::Result<Level> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "TRACE" | "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARNING" | "WARN" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" => Level::Critical,
            _ => {
                return Err(crate::Error::invalid(
                    format!("log level {s:?}"),
                    "expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
                ));
            }
        })
    }
}

impl From<log::Level> for Level {
    fn from(level: log::Level) -> Level {
        match level {
            log::Level::Trace | log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warning,
            log::Level::Error => Level::Error,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One record as a [`Format`] sees it: the fields of Python's `LogRecord`
/// that Rust has. Make one with [`LogRecord::new`], then set the fields
/// you know.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LogRecord<'a> {
    /// The level; `%(levelname)s`, `%(levelno)d`.
    pub level: Level,
    /// The message, after the subtopic was split off; `%(message)s`.
    pub message: &'a str,
    /// The logger's name (`log`'s target); `%(name)s`.
    pub target: &'a str,
    /// The source file; `%(pathname)s`, and its last component `%(filename)s`.
    pub file: Option<&'a str>,
    /// The source line; `%(lineno)d`.
    pub line: Option<u32>,
    /// The module path; `%(module)s`.
    pub module: Option<&'a str>,
    /// The function; `%(funcName)s`. `log` and `tracing` records do not
    /// carry it, so records from them have `None`.
    pub function: Option<&'a str>,
    /// When the record was made; `%(created)f`, `%(msecs)d`,
    /// `%(relativeCreated)d`, `%(asctime)s`.
    pub created: SystemTime,
    /// The process id; `%(process)d`.
    pub process: u32,
    /// The numeric id of the thread that logged; `%(thread)d`. On Linux the
    /// kernel's thread id (`gettid`, as `ps -L` shows); elsewhere a number
    /// zmqx gives each thread, from 1.
    pub thread: u64,
    /// The name of the thread that logged; `%(threadName)s`. `None` from
    /// [`LogRecord::new`]; [`PubHandler`] fills it from
    /// [`std::thread::current`] when a format uses it.
    pub thread_name: Option<&'a str>,
}

impl<'a> LogRecord<'a> {
    /// A record made now, by this process and thread, with an empty target
    /// and no source location.
    pub fn new(level: Level, message: &'a str) -> LogRecord<'a> {
        start_time();
        LogRecord {
            level,
            message,
            target: "",
            file: None,
            line: None,
            module: None,
            function: None,
            created: SystemTime::now(),
            process: sys::process_id(),
            thread: sys::thread_id(),
            thread_name: None,
        }
    }

    /// `created` in seconds since the Unix epoch (Python's `created`).
    fn created_secs(&self) -> f64 {
        let (secs, nanos) = date::epoch_parts(self.created);
        (i128::from(secs) * 1_000_000_000 + i128::from(nanos)) as f64 / 1e9
    }

    /// Milliseconds from the first use of `zmqx::log` to `created`.
    fn relative_created_ms(&self) -> f64 {
        match self.created.duration_since(start_time()) {
            Ok(d) => d.as_nanos() as f64 / 1e6,
            Err(e) => -(e.duration().as_nanos() as f64) / 1e6,
        }
    }
}

/// When `zmqx::log` was first used in this process (the first record or
/// handler made): the origin of `%(relativeCreated)d`, as Python's
/// `logging` counts from its import.
fn start_time() -> SystemTime {
    static START: OnceLock<SystemTime> = OnceLock::new();
    *START.get_or_init(SystemTime::now)
}

/// Splits a message at the first [`TOPIC_DELIM`] into (subtopic, message),
/// as pyzmq's `PUBHandler.emit` does.
pub fn split_topic(message: &str) -> (Option<&str>, &str) {
    match message.split_once(TOPIC_DELIM) {
        Some((topic, msg)) => (Some(topic), msg),
        None => (None, message),
    }
}
