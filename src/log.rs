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
//! `logging.Formatter` template (`%(levelname)s`, `%(message)s`…). The
//! defaults are pyzmq's: `"%(message)s\n"` for `INFO` and
//! `"%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"` for the others
//! (with `" - %(exc_info)s"` for `ERROR`, which is always `None` in Rust).
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

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{Context, Error, Result, Socket, SocketType};

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

/// One record as a [`Format`] sees it (the fields of Python's `LogRecord`
/// that Rust has).
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// The level.
    pub level: Level,
    /// The message, after the subtopic was split off.
    pub message: &'a str,
    /// The logger's name (`log`'s target); `%(name)s`.
    pub target: &'a str,
    /// The source file; `%(pathname)s`, and its last component `%(filename)s`.
    pub file: Option<&'a str>,
    /// The source line; `%(lineno)d`.
    pub line: Option<u32>,
    /// The module path; `%(module)s`.
    pub module: Option<&'a str>,
}

/// A Python `logging.Formatter` template (`"%(levelname)s - %(message)s"`).
///
/// Known fields: `message`, `levelname`, `levelno`, `name`, `filename`,
/// `pathname`, `lineno`, `module`, and `exc_info` (always `None`: Rust has
/// no exception to attach). `%%` is a `%`; any other `%(key)X` is copied
/// as is. Fields without a value (no file) print `None`, as Python does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    template: String,
}

impl Format {
    /// A formatter with this template.
    pub fn new(template: impl Into<String>) -> Format {
        Format {
            template: template.into(),
        }
    }

    /// pyzmq's default for `level` (see the [module docs](self)).
    pub fn pyzmq_default(level: Level) -> Format {
        Format::new(match level {
            Level::Info => "%(message)s\n",
            Level::Error => "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n",
            _ => "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n",
        })
    }

    /// The template.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Formats a record.
    pub fn format(&self, record: &LogRecord<'_>) -> String {
        let mut out = String::with_capacity(self.template.len() + record.message.len());
        let mut rest = self.template.as_str();
        while let Some(pos) = rest.find('%') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
                continue;
            }
            let field = rest.strip_prefix("%(").and_then(|r| {
                let close = r.find(')')?;
                let conv = r[close + 1..].chars().next()?;
                Some((&r[..close], close + 3 + conv.len_utf8()))
            });
            let Some((key, len)) = field else {
                out.push('%');
                rest = &rest[1..];
                continue;
            };
            match field_value(key, record) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[..len]),
            }
            rest = &rest[len..];
        }
        out.push_str(rest);
        out
    }
}

fn field_value<'a>(key: &str, r: &LogRecord<'a>) -> Option<Cow<'a, str>> {
    let or_none = |v: Option<&'a str>| Cow::Borrowed(v.unwrap_or("None"));
    Some(match key {
        "message" => Cow::Borrowed(r.message),
        "levelname" => Cow::Borrowed(r.level.name()),
        "levelno" => Cow::Owned(r.level.number().to_string()),
        "name" => Cow::Borrowed(r.target),
        "pathname" => or_none(r.file),
        "filename" => or_none(r.file.map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))),
        "lineno" => r
            .line
            .map_or(Cow::Borrowed("None"), |l| Cow::Owned(l.to_string())),
        "module" => or_none(r.module),
        "exc_info" => Cow::Borrowed("None"),
        _ => return None,
    })
}

/// Splits a message at the first [`TOPIC_DELIM`] into (subtopic, message),
/// as pyzmq's `PUBHandler.emit` does.
pub fn split_topic(message: &str) -> (Option<&str>, &str) {
    match message.split_once(TOPIC_DELIM) {
        Some((topic, msg)) => (Some(topic), msg),
        None => (None, message),
    }
}

struct Inner {
    socket: Socket,
    root_topic: String,
    formats: [Format; 5],
    /// The socket is an XPUB whose subscription messages must be drained.
    drain: bool,
}

/// A `log::Log` that publishes each record on a PUB socket (pyzmq's
/// `zmq.log.handlers.PUBHandler`). See the [module docs](self) for topics,
/// formats and what happens when subscribers are slow.
///
/// Install it with [`PubHandler::install`]; keep an `Arc` to read
/// [`dropped`](PubHandler::dropped) or to publish explicit topics.
pub struct PubHandler {
    inner: Mutex<Inner>,
    dropped: AtomicU64,
    published: AtomicU64,
}

impl std::fmt::Debug for PubHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubHandler")
            .field("root_topic", &self.root_topic())
            .field("published", &self.published())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl PubHandler {
    /// A handler whose own socket binds `endpoint`, in
    /// [`Context::instance`] (pyzmq's `PUBHandler("tcp://…")`).
    pub fn bind(endpoint: &str) -> Result<PubHandler> {
        PubHandler::bind_in(&Context::instance(), endpoint)
    }

    /// [`PubHandler::bind`] in a given context.
    pub fn bind_in(ctx: &Context, endpoint: &str) -> Result<PubHandler> {
        let socket = PubHandler::own_socket(ctx)?;
        socket.bind(endpoint)?;
        Ok(PubHandler::new(socket, true))
    }

    /// A handler whose own socket connects to `endpoint` (a SUB or XSUB
    /// that binds, such as a log collector), in [`Context::instance`].
    pub fn connect(endpoint: &str) -> Result<PubHandler> {
        PubHandler::connect_in(&Context::instance(), endpoint)
    }

    /// [`PubHandler::connect`] in a given context.
    pub fn connect_in(ctx: &Context, endpoint: &str) -> Result<PubHandler> {
        let socket = PubHandler::own_socket(ctx)?;
        socket.connect(endpoint)?;
        Ok(PubHandler::new(socket, true))
    }

    /// A handler publishing on a socket made by the caller (pyzmq's
    /// `PUBHandler(socket)`): a `PUB` or `XPUB`, else
    /// [`Error::InvalidInput`]. The caller's options are kept (see the
    /// [module docs](self) on drops with a plain `PUB`).
    pub fn from_socket(socket: Socket) -> Result<PubHandler> {
        let kind = socket.socket_type()?;
        if !matches!(kind, SocketType::Pub | SocketType::XPub) {
            return Err(Error::invalid(
                format!("socket type {kind}"),
                "a log handler publishes on a PUB or XPUB socket",
            ));
        }
        Ok(PubHandler::new(socket, kind == SocketType::XPub))
    }

    fn own_socket(ctx: &Context) -> Result<Socket> {
        let socket = ctx.socket(SocketType::XPub)?;
        socket.set_xpub_nodrop(true)?;
        Ok(socket)
    }

    fn new(socket: Socket, drain: bool) -> PubHandler {
        PubHandler {
            inner: Mutex::new(Inner {
                socket,
                root_topic: String::new(),
                formats: Level::ALL.map(Format::pyzmq_default),
                drain,
            }),
            dropped: AtomicU64::new(0),
            published: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the root topic (builder form of [`set_root_topic`](Self::set_root_topic)).
    pub fn with_root_topic(self, root_topic: impl Into<String>) -> PubHandler {
        self.set_root_topic(root_topic);
        self
    }

    /// Sets the root topic that starts every topic (pyzmq's
    /// `setRootTopic`); empty by default.
    pub fn set_root_topic(&self, root_topic: impl Into<String>) {
        self.lock().root_topic = root_topic.into();
    }

    /// The root topic.
    pub fn root_topic(&self) -> String {
        self.lock().root_topic.clone()
    }

    /// Sets the formatter of one level, or of every level with `None`
    /// (pyzmq's `setFormatter(fmt, level)`).
    pub fn set_format(&self, level: Option<Level>, format: Format) {
        let mut inner = self.lock();
        match level {
            Some(level) => inner.formats[level.index()] = format,
            None => inner.formats = Level::ALL.map(|_| format.clone()),
        }
    }

    /// Builder form of [`set_format`](Self::set_format).
    pub fn with_format(self, level: Option<Level>, format: Format) -> PubHandler {
        self.set_format(level, format);
        self
    }

    /// The formatter of a level.
    pub fn format_of(&self, level: Level) -> Format {
        self.lock().formats[level.index()].clone()
    }

    /// The endpoint the socket bound or connected last (`ZMQ_LAST_ENDPOINT`).
    pub fn last_endpoint(&self) -> Result<String> {
        self.lock().socket.last_endpoint()
    }

    /// Records refused because a subscriber was at the high-water mark (or
    /// that failed to send), and so never published.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records handed to libzmq.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// The topic of a record (`root.LEVEL.subtopic`).
    fn topic(root: &str, level: Level, subtopic: Option<&str>) -> String {
        let mut topic = String::with_capacity(root.len() + 10 + subtopic.map_or(0, str::len));
        if !root.is_empty() {
            topic.push_str(root);
            topic.push('.');
        }
        topic.push_str(level.name());
        if let Some(sub) = subtopic.filter(|s| !s.is_empty()) {
            topic.push('.');
            topic.push_str(sub);
        }
        topic
    }

    /// Publishes a record with the message split at `::` as pyzmq's
    /// `PUBHandler.emit` does. Never blocks: see [`dropped`](Self::dropped).
    pub fn emit(
        &self,
        level: Level,
        message: &str,
        target: &str,
        file: Option<&str>,
        line: Option<u32>,
    ) {
        let (subtopic, message) = split_topic(message);
        self.send(
            LogRecord {
                level,
                message,
                target,
                file,
                line,
                module: None,
            },
            subtopic,
        );
    }

    /// Publishes a record with an explicit subtopic (the message is not
    /// split). Never blocks: see [`dropped`](Self::dropped).
    pub fn publish(
        &self,
        level: Level,
        subtopic: Option<&str>,
        message: &str,
        file: Option<&str>,
        line: Option<u32>,
    ) {
        self.send(
            LogRecord {
                level,
                message,
                target: "",
                file,
                line,
                module: None,
            },
            subtopic,
        );
    }

    fn send(&self, record: LogRecord<'_>, subtopic: Option<&str>) {
        let inner = self.lock();
        if inner.drain {
            // Subscriptions arrive on an XPUB as messages; nobody needs them.
            while let Ok(Some(_)) = inner.socket.try_recv_msg() {}
        }
        let topic = PubHandler::topic(&inner.root_topic, record.level, subtopic);
        let body = inner.formats[record.level.index()].format(&record);
        match inner
            .socket
            .try_send_multipart([topic.as_bytes(), body.as_bytes()])
        {
            Ok(true) => {
                self.published.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) | Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Installs this handler as `log`'s logger with a maximum level
    /// (`log::set_boxed_logger` and `log::set_max_level`); fails if a logger
    /// is already installed.
    pub fn install(self: Arc<Self>, max_level: log::LevelFilter) -> Result<()> {
        log::set_boxed_logger(Box::new(Installed(self)))
            .map_err(|e| Error::invalid("log handler", e.to_string()))?;
        log::set_max_level(max_level);
        Ok(())
    }
}

impl log::Log for PubHandler {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let text;
        let message = match record.args().as_str() {
            Some(s) => s,
            None => {
                text = record.args().to_string();
                &text
            }
        };
        let (subtopic, message) = split_topic(message);
        self.send(
            LogRecord {
                level: record.level().into(),
                message,
                target: record.target(),
                file: record.file(),
                line: record.line(),
                module: record.module_path(),
            },
            subtopic,
        );
    }

    fn flush(&self) {}
}

struct Installed(Arc<PubHandler>);

impl log::Log for Installed {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.log(record)
    }
    fn flush(&self) {}
}

/// Logs with an explicit topic (pyzmq's `zmq.log.handlers.TopicLogger`):
/// `logger.warning("db.pool", "exhausted")` publishes `WARNING.db.pool`.
///
/// It is also the way to publish `CRITICAL`, which Rust's `log` lacks.
#[derive(Debug, Clone)]
pub struct TopicLogger {
    handler: Arc<PubHandler>,
}

impl TopicLogger {
    /// A topic logger publishing through `handler`.
    pub fn new(handler: Arc<PubHandler>) -> TopicLogger {
        TopicLogger { handler }
    }

    /// The handler.
    pub fn handler(&self) -> &Arc<PubHandler> {
        &self.handler
    }

    /// Publishes `message` at `level` under `topic` (pyzmq's
    /// `TopicLogger.log(level, topic, msg)`).
    pub fn log(&self, level: Level, topic: &str, message: &str) {
        self.handler
            .publish(level, Some(topic), message, None, None);
    }

    /// [`log`](Self::log) at `DEBUG`.
    pub fn debug(&self, topic: &str, message: &str) {
        self.log(Level::Debug, topic, message);
    }

    /// [`log`](Self::log) at `INFO`.
    pub fn info(&self, topic: &str, message: &str) {
        self.log(Level::Info, topic, message);
    }

    /// [`log`](Self::log) at `WARNING`.
    pub fn warning(&self, topic: &str, message: &str) {
        self.log(Level::Warning, topic, message);
    }

    /// [`log`](Self::log) at `ERROR`.
    pub fn error(&self, topic: &str, message: &str) {
        self.log(Level::Error, topic, message);
    }

    /// [`log`](Self::log) at `CRITICAL`.
    pub fn critical(&self, topic: &str, message: &str) {
        self.log(Level::Critical, topic, message);
    }
}

/// A [`tracing_subscriber::Layer`] that publishes `tracing` events through a
/// [`PubHandler`], with the same topics and formats as the `log` handler
/// (pyzmq's `PUBHandler` for Rust's `tracing`).
///
/// Levels map as for `log`: `TRACE` and `DEBUG` to `DEBUG`, `WARN` to
/// `WARNING`. The event's `message` field is the message (split at `::` into
/// a subtopic, as pyzmq does); other fields follow it as ` name=value`.
/// Publishing never blocks: see [`PubHandler::dropped`].
///
/// ```
/// use std::sync::Arc;
/// use tracing_subscriber::layer::SubscriberExt;
/// # fn main() -> zmqx::Result<()> {
/// let handler = Arc::new(zmqx::log::PubHandler::bind("inproc://tracing-doc")?);
/// let subscriber = tracing_subscriber::registry().with(zmqx::log::PubLayer::new(handler.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(user = "ada", "net::connected");
/// });
/// assert_eq!(handler.published() + handler.dropped(), 1);
/// # Ok(()) }
/// ```
#[cfg(feature = "tracing")]
#[derive(Debug, Clone)]
pub struct PubLayer {
    handler: Arc<PubHandler>,
}

#[cfg(feature = "tracing")]
impl PubLayer {
    /// A layer publishing through `handler`.
    pub fn new(handler: Arc<PubHandler>) -> PubLayer {
        PubLayer { handler }
    }

    /// The handler it publishes through (for its counters).
    pub fn handler(&self) -> &Arc<PubHandler> {
        &self.handler
    }
}

#[cfg(feature = "tracing")]
impl From<tracing::Level> for Level {
    fn from(level: tracing::Level) -> Level {
        match level {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warning,
            tracing::Level::INFO => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// Collects an event's `message` and its other fields.
#[cfg(feature = "tracing")]
#[derive(Default)]
struct EventText {
    message: String,
    fields: String,
}

#[cfg(feature = "tracing")]
impl tracing::field::Visit for EventText {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            use std::fmt::Write;
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

#[cfg(feature = "tracing")]
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PubLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        let mut text = EventText::default();
        event.record(&mut text);
        text.message.push_str(&text.fields);
        self.handler.emit(
            Level::from(*meta.level()),
            &text.message,
            meta.target(),
            meta.file(),
            meta.line(),
        );
    }
}
