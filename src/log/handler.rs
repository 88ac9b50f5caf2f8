//! [`PubHandler`], the `log::Log` that publishes over PUB, and
//! [`TopicLogger`].
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Format, Level, LogRecord, split_topic};
use crate::{Context, Error, Result, Socket, SocketType};

struct Inner {
    socket: Socket,
    root_topic: String,
    formats: [Format; 5],
    /// The socket is an XPUB whose subscription messages must be drained.
    drain: bool,
    /// The message frame, reused from record to record.
    body: String,
}

/// A `log::Log` that publishes each record on a PUB socket (pyzmq's
/// `zmq.log.handlers.PUBHandler`). See the [module docs](super) for topics,
/// formats and what happens when subscribers are slow.
///
/// Install it with [`PubHandler::install`]; keep an `Arc` to read
/// [`dropped`](PubHandler::dropped) or to publish explicit topics.
pub struct PubHandler {
    inner: Mutex<Inner>,
    /// The lowest level published, as `Level::index`.
    level: AtomicU8,
    dropped: AtomicU64,
    published: AtomicU64,
}

impl std::fmt::Debug for PubHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubHandler")
            .field("root_topic", &self.root_topic())
            .field("level", &self.level())
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
    /// [module docs](super) on drops with a plain `PUB`).
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
        super::start_time();
        PubHandler {
            inner: Mutex::new(Inner {
                socket,
                root_topic: String::new(),
                formats: Level::ALL.map(Format::pyzmq_default),
                drain,
                body: String::new(),
            }),
            level: AtomicU8::new(Level::Debug.index() as u8),
            dropped: AtomicU64::new(0),
            published: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the lowest level this handler publishes (pyzmq's
    /// `handler.setLevel(level)`): records below it are neither formatted
    /// nor sent. [`Level::Debug`] (everything) at first. Takes effect at
    /// once for every thread; the handler is not locked.
    pub fn set_level(&self, level: Level) {
        self.level.store(level.index() as u8, Ordering::Relaxed);
    }

    /// Builder form of [`set_level`](Self::set_level).
    pub fn with_level(self, level: Level) -> PubHandler {
        self.set_level(level);
        self
    }

    /// The lowest level this handler publishes (pyzmq's `handler.level`).
    pub fn level(&self) -> Level {
        Level::from_index(self.level.load(Ordering::Relaxed))
    }

    /// Whether a record at `level` would be published (pyzmq's
    /// `isEnabledFor` on the handler's level).
    pub fn is_enabled(&self, level: Level) -> bool {
        level >= self.level()
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
    /// Nothing happens below the handler's [`level`](Self::level).
    pub fn emit(
        &self,
        level: Level,
        message: &str,
        target: &str,
        file: Option<&str>,
        line: Option<u32>,
    ) {
        if !self.is_enabled(level) {
            return;
        }
        let (subtopic, message) = split_topic(message);
        let mut record = LogRecord::new(level, message);
        record.target = target;
        record.file = file;
        record.line = line;
        self.send(record, subtopic);
    }

    /// Publishes a record with an explicit subtopic (the message is not
    /// split). Never blocks: see [`dropped`](Self::dropped). Nothing happens
    /// below the handler's [`level`](Self::level).
    pub fn publish(
        &self,
        level: Level,
        subtopic: Option<&str>,
        message: &str,
        file: Option<&str>,
        line: Option<u32>,
    ) {
        if !self.is_enabled(level) {
            return;
        }
        let mut record = LogRecord::new(level, message);
        record.file = file;
        record.line = line;
        self.send(record, subtopic);
    }

    /// Publishes a record made by the caller (for the fields `log` does not
    /// give, such as [`LogRecord::function`]) under an explicit subtopic;
    /// the message is not split. Never blocks; nothing happens below the
    /// handler's [`level`](Self::level).
    pub fn publish_record(&self, record: &LogRecord<'_>, subtopic: Option<&str>) {
        if self.is_enabled(record.level) {
            self.send(*record, subtopic);
        }
    }

    fn send(&self, record: LogRecord<'_>, subtopic: Option<&str>) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if inner.drain {
            // Subscriptions arrive on an XPUB as messages; nobody needs them.
            while let Ok(Some(_)) = inner.socket.try_recv_msg() {}
        }
        let topic = PubHandler::topic(&inner.root_topic, record.level, subtopic);
        let format = &inner.formats[record.level.index()];
        let current;
        let mut record = record;
        if record.thread_name.is_none() && format.uses_thread_name() {
            current = std::thread::current();
            record.thread_name = current.name();
        }
        inner.body.clear();
        format.format_into(&record, &mut inner.body);
        match inner
            .socket
            .try_send_multipart([topic.as_bytes(), inner.body.as_bytes()])
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
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.is_enabled(metadata.level().into())
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = Level::from(record.level());
        if !self.is_enabled(level) {
            return;
        }
        let text;
        let message = match record.args().as_str() {
            Some(s) => s,
            None => {
                text = record.args().to_string();
                &text
            }
        };
        let (subtopic, message) = split_topic(message);
        let mut out = LogRecord::new(level, message);
        out.target = record.target();
        out.file = record.file();
        out.line = record.line();
        out.module = record.module_path();
        self.send(out, subtopic);
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
