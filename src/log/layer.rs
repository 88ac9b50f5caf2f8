//! [`PubLayer`], the `tracing` counterpart of [`PubHandler`].
#![forbid(unsafe_code)]

use std::sync::Arc;

use super::{Level, LogRecord, PubHandler, split_topic};

/// A [`tracing_subscriber::Layer`] that publishes `tracing` events through a
/// [`PubHandler`], with the same topics and formats as the `log` handler
/// (pyzmq's `PUBHandler` for Rust's `tracing`).
///
/// Levels map as for `log`: `TRACE` and `DEBUG` to `DEBUG`, `WARN` to
/// `WARNING`. The event's `message` field is the message (split at `::` into
/// a subtopic, as pyzmq does); other fields follow it as ` name=value`.
/// Publishing never blocks: see [`PubHandler::dropped`]. Events below the
/// handler's [level](PubHandler::set_level) are dropped before their fields
/// are read.
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
#[derive(Debug, Clone)]
pub struct PubLayer {
    handler: Arc<PubHandler>,
}

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
#[derive(Default)]
struct EventText {
    message: String,
    fields: String,
}

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

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PubLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        let level = Level::from(*meta.level());
        if !self.handler.is_enabled(level) {
            return;
        }
        let mut text = EventText::default();
        event.record(&mut text);
        text.message.push_str(&text.fields);
        let (subtopic, message) = split_topic(&text.message);
        let mut record = LogRecord::new(level, message);
        record.target = meta.target();
        record.file = meta.file();
        record.line = meta.line();
        record.module = meta.module_path();
        self.handler.publish_record(&record, subtopic);
    }
}
