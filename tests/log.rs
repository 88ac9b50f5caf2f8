//! `zmqx::log`: what pyzmq's test_log checks (topics, root topic, levels,
//! formatters, the handler's socket bound/connected/handed), the `::`
//! subtopic split, TopicLogger, and dropping at the HWM without blocking.
#![cfg(feature = "log")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TIMEOUT, socket};
use log::Log;
use zmqx::log::{Format, Level, LogRecord, PubHandler, TopicLogger, split_topic};
use zmqx::{Context, Error, PollEvents, Result, Socket, SocketType};

fn recv2(sub: &Socket) -> Result<(String, String)> {
    let frames = sub.recv_multipart()?;
    assert_eq!(frames.len(), 2, "a log record is [topic, message]");
    Ok((
        String::from_utf8(frames[0].to_vec()).expect("utf-8 topic"),
        String::from_utf8(frames[1].to_vec()).expect("utf-8 message"),
    ))
}

/// PUB/SUB slow joiner: publishes probes under `probe_topic` until `sub`
/// receives one, then drains what else arrived.
fn join(handler: &PubHandler, sub: &Socket, probe: Level) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "the subscriber never joined");
        handler.publish(probe, Some("probe"), "probe", None, None);
        if !sub
            .poll(PollEvents::POLLIN, Some(Duration::from_millis(20)))?
            .is_empty()
        {
            break;
        }
    }
    while !sub
        .poll(PollEvents::POLLIN, Some(Duration::from_millis(20)))?
        .is_empty()
    {
        sub.recv_multipart()?;
    }
    Ok(())
}

/// A handler on an XPUB handed to it, with `sub` subscribed to `topics`:
/// the subscriptions reaching the XPUB are the real signal that it joined.
fn handed(ctx: &Context, topics: &[&str]) -> Result<(PubHandler, Socket)> {
    let xpub = socket(ctx, SocketType::XPub)?;
    let endpoint = common::inproc("log");
    xpub.bind(&endpoint)?;
    let sub = socket(ctx, SocketType::Sub)?;
    for t in topics {
        sub.subscribe(t.as_bytes())?;
    }
    sub.connect(&endpoint)?;
    for _ in topics {
        let m = xpub.recv_msg()?;
        assert_eq!(m[0], 1, "a subscription");
    }
    Ok((PubHandler::from_socket(xpub)?, sub))
}

fn info(handler: &PubHandler, message: &str) {
    handler.log(
        &log::Record::builder()
            .args(format_args!("{message}"))
            .level(log::Level::Info)
            .file(Some("src/app/main.rs"))
            .line(Some(42))
            .target("app")
            .build(),
    );
}

fn at(handler: &PubHandler, level: log::Level, message: &str) {
    handler.log(
        &log::Record::builder()
            .args(format_args!("{message}"))
            .level(level)
            .file(Some("src/app/main.rs"))
            .line(Some(42))
            .target("app")
            .build(),
    );
}

#[test]
fn init_iface_binds_its_own_socket() -> Result<()> {
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?.with_root_topic("zmq");
    let sub = socket(&ctx, SocketType::Sub)?;
    sub.subscribe(b"")?;
    sub.connect(&handler.last_endpoint()?)?;
    join(&handler, &sub, Level::Debug)?;
    info(&handler, "hello there");
    assert_eq!(recv2(&sub)?, ("zmq.INFO".into(), "hello there\n".into()));
    Ok(())
}

#[test]
fn init_connect_reaches_a_bound_subscriber() -> Result<()> {
    let ctx = Context::new();
    let sub = socket(&ctx, SocketType::Sub)?;
    sub.subscribe(b"")?;
    let endpoint = common::bind_tcp(&sub)?;
    let handler = PubHandler::connect_in(&ctx, &endpoint)?;
    join(&handler, &sub, Level::Debug)?;
    info(&handler, "connected");
    assert_eq!(recv2(&sub)?, ("INFO".into(), "connected\n".into()));
    Ok(())
}

#[test]
fn init_socket_uses_the_handed_pub() -> Result<()> {
    let ctx = Context::new();
    let publisher = socket(&ctx, SocketType::Pub)?;
    let endpoint = common::bind_tcp(&publisher)?;
    let handler = PubHandler::from_socket(publisher)?.with_root_topic("zmq");
    let sub = socket(&ctx, SocketType::Sub)?;
    sub.subscribe(b"")?;
    sub.connect(&endpoint)?;
    join(&handler, &sub, Level::Debug)?;
    info(&handler, "handed");
    assert_eq!(recv2(&sub)?, ("zmq.INFO".into(), "handed\n".into()));
    assert_eq!(handler.dropped(), 0);
    Ok(())
}

#[test]
fn a_socket_that_cannot_publish_is_refused() -> Result<()> {
    let ctx = Context::new();
    for kind in [SocketType::Req, SocketType::Sub, SocketType::Push] {
        let s = socket(&ctx, kind)?;
        match PubHandler::from_socket(s) {
            Err(Error::InvalidInput { .. }) => {}
            other => panic!("{kind}: {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn root_topic_filters_and_can_change() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &["twoonly"])?;
    handler.set_root_topic("twoonly");
    assert_eq!(handler.root_topic(), "twoonly");
    info(&handler, "first");
    assert_eq!(recv2(&sub)?, ("twoonly.INFO".into(), "first\n".into()));
    // Without the root topic the subscriber does not get it: the next
    // record it receives is the one published after.
    handler.set_root_topic("");
    info(&handler, "ignored");
    handler.set_root_topic("twoonly");
    info(&handler, "second");
    assert_eq!(recv2(&sub)?, ("twoonly.INFO".into(), "second\n".into()));
    Ok(())
}

#[test]
fn blank_root_topic_starts_with_the_level() -> Result<()> {
    let ctx = Context::new();
    let (handler, everything) = handed(&ctx, &[""])?;
    at(&handler, log::Level::Debug, "debug message");
    let (topic, msg) = recv2(&everything)?;
    assert_eq!(topic, "DEBUG");
    assert_eq!(msg, "DEBUG main.rs:42 - debug message\n");
    info(&handler, "info message");
    assert_eq!(
        recv2(&everything)?,
        ("INFO".into(), "info message\n".into())
    );
    Ok(())
}

#[test]
fn subscribing_to_a_level_filters_the_others() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &["INFO"])?;
    at(&handler, log::Level::Debug, "not for INFO");
    at(&handler, log::Level::Warn, "not for INFO either");
    info(&handler, "for INFO");
    assert_eq!(recv2(&sub)?, ("INFO".into(), "for INFO\n".into()));
    Ok(())
}

#[test]
fn levels_use_python_names_and_pyzmq_default_formats() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    let cases = [
        (log::Level::Trace, "DEBUG", "DEBUG main.rs:42 - m\n"),
        (log::Level::Debug, "DEBUG", "DEBUG main.rs:42 - m\n"),
        (log::Level::Info, "INFO", "m\n"),
        (log::Level::Warn, "WARNING", "WARNING main.rs:42 - m\n"),
        (log::Level::Error, "ERROR", "ERROR main.rs:42 - m - None\n"),
    ];
    for (level, topic, body) in cases {
        at(&handler, level, "m");
        assert_eq!(recv2(&sub)?, (topic.into(), body.into()), "{level}");
    }
    Ok(())
}

#[test]
fn message_is_split_at_the_first_double_colon() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    handler.set_root_topic("root");
    info(&handler, "db.pool::exhausted::really");
    assert_eq!(
        recv2(&sub)?,
        ("root.INFO.db.pool".into(), "exhausted::really\n".into())
    );
    // An empty subtopic adds nothing; a message without `::` is kept.
    info(&handler, "::bare");
    assert_eq!(recv2(&sub)?, ("root.INFO".into(), "bare\n".into()));
    assert_eq!(split_topic("a::b"), (Some("a"), "b"));
    assert_eq!(split_topic("plain"), (None, "plain"));
    Ok(())
}

#[test]
fn unicode_messages_and_topics() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    for msg in ["hello", "héllo wörld", "ελληνικά", "日本語", "🐍 and 🦀"] {
        info(&handler, &format!("sübtopic::{msg}"));
        assert_eq!(recv2(&sub)?, ("INFO.sübtopic".into(), format!("{msg}\n")));
    }
    Ok(())
}

#[test]
fn custom_formatters_per_level_and_global() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    handler.set_format(Some(Level::Info), Format::new("%(message)s UNITTEST\n"));
    info(&handler, "info message");
    assert_eq!(recv2(&sub)?.1, "info message UNITTEST\n");

    handler.set_format(None, Format::new("UNITTEST %(message)s"));
    info(&handler, "info message");
    assert_eq!(recv2(&sub)?.1, "UNITTEST info message");
    at(&handler, log::Level::Debug, "debug message");
    assert_eq!(recv2(&sub)?.1, "UNITTEST debug message");

    let handler = handler
        .with_format(None, Format::pyzmq_default(Level::Info))
        .with_format(
            Some(Level::Debug),
            Format::new("UNITTEST %(levelname)s %(message)s"),
        );
    info(&handler, "info message");
    assert_eq!(recv2(&sub)?.1, "info message\n");
    at(&handler, log::Level::Debug, "debug message");
    assert_eq!(recv2(&sub)?.1, "UNITTEST DEBUG debug message");
    assert_eq!(
        handler.format_of(Level::Debug).template(),
        "UNITTEST %(levelname)s %(message)s"
    );
    Ok(())
}

#[test]
fn format_fields() {
    let record = LogRecord {
        level: Level::Warning,
        message: "msg",
        target: "my_app::db",
        file: Some("src/db/pool.rs"),
        line: Some(7),
        module: Some("my_app::db::pool"),
    };
    let f = Format::new(
        "%(levelno)d %(name)s %(pathname)s %(filename)s %(module)s %(unknown)s 100%% %",
    );
    assert_eq!(
        f.format(&record),
        "30 my_app::db src/db/pool.rs pool.rs my_app::db::pool %(unknown)s 100% %"
    );
    let bare = LogRecord {
        file: None,
        line: None,
        ..record
    };
    assert_eq!(
        Format::pyzmq_default(Level::Critical).format(&LogRecord {
            level: Level::Critical,
            ..bare
        }),
        "CRITICAL None:None - msg\n"
    );
}

#[test]
fn topic_logger_publishes_explicit_topics_and_critical() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    let logger = TopicLogger::new(Arc::new(handler.with_root_topic("svc")));
    logger.warning("disk.sda", "almost full");
    assert_eq!(
        recv2(&sub)?,
        (
            "svc.WARNING.disk.sda".into(),
            "WARNING None:None - almost full\n".into()
        )
    );
    logger.critical("disk", "full");
    assert_eq!(
        recv2(&sub)?,
        (
            "svc.CRITICAL.disk".into(),
            "CRITICAL None:None - full\n".into()
        )
    );
    // The message is not split again: the topic is the one given.
    logger.info("a", "b::c");
    assert_eq!(recv2(&sub)?, ("svc.INFO.a".into(), "b::c\n".into()));
    logger.debug("d", "x");
    assert_eq!(recv2(&sub)?.0, "svc.DEBUG.d");
    logger.error("e", "x");
    assert_eq!(recv2(&sub)?.0, "svc.ERROR.e");
    logger.log(Level::Info, "f", "x");
    assert_eq!(recv2(&sub)?.0, "svc.INFO.f");
    assert_eq!(logger.handler().published(), 6);
    Ok(())
}

#[test]
fn a_full_subscriber_makes_records_drop_without_blocking() -> Result<()> {
    let ctx = Context::new();
    let xpub = socket(&ctx, SocketType::XPub)?;
    xpub.set_sndhwm(1)?;
    xpub.set_xpub_nodrop(true)?;
    let endpoint = common::inproc("log-hwm");
    xpub.bind(&endpoint)?;
    let sub = socket(&ctx, SocketType::Sub)?;
    sub.set_rcvhwm(1)?;
    sub.subscribe(b"")?;
    sub.connect(&endpoint)?;
    xpub.recv_msg()?; // the subscription: it joined
    let handler = PubHandler::from_socket(xpub)?;
    let start = Instant::now();
    for i in 0..10_000 {
        info(&handler, &format!("record {i}"));
    }
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(handler.published() + handler.dropped(), 10_000);
    // inproc queues hold SNDHWM + RCVHWM messages.
    assert!(handler.dropped() >= 9_990, "dropped {}", handler.dropped());
    // What got through is the first records, in order.
    assert_eq!(recv2(&sub)?.1, "record 0\n");
    Ok(())
}

#[test]
fn no_subscriber_is_not_a_drop() -> Result<()> {
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?;
    let start = Instant::now();
    for i in 0..10_000 {
        info(&handler, &format!("record {i}"));
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(handler.published(), 10_000);
    assert_eq!(handler.dropped(), 0);
    Ok(())
}

/// The only test that installs a global logger (one per process).
#[test]
fn install_as_the_global_logger() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &["app"])?;
    let handler = Arc::new(handler.with_root_topic("app"));
    Arc::clone(&handler).install(log::LevelFilter::Info)?;
    log::debug!("filtered out by the max level");
    log::info!("net::listening on {}", 8080);
    assert_eq!(
        recv2(&sub)?,
        ("app.INFO.net".into(), "listening on 8080\n".into())
    );
    assert_eq!(handler.published(), 1);
    let other = PubHandler::bind_in(&ctx, "inproc://second-logger")?;
    assert!(Arc::new(other).install(log::LevelFilter::Info).is_err());
    Ok(())
}

/// The `tracing` layer publishes events with pyzmq's topics: level mapping,
/// the `::` subtopic split, and extra fields after the message.
#[cfg(feature = "tracing")]
#[test]
fn tracing_layer_publishes_events() -> Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &["svc."])?;
    let handler = Arc::new(
        handler
            .with_root_topic("svc")
            .with_format(None, Format::new("%(message)s")),
    );
    let subscriber = tracing_subscriber::registry().with(zmqx::log::PubLayer::new(handler.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!("db::slow query");
        tracing::trace!(peer = "10.0.0.1", attempt = 3, "net::retry");
        tracing::error!("plain");
    });
    assert_eq!(recv2(&sub)?, ("svc.WARNING.db".into(), "slow query".into()));
    assert_eq!(
        recv2(&sub)?,
        (
            "svc.DEBUG.net".into(),
            "retry peer=10.0.0.1 attempt=3".into()
        )
    );
    assert_eq!(recv2(&sub)?, ("svc.ERROR".into(), "plain".into()));
    assert_eq!(handler.published(), 3);
    assert_eq!(handler.dropped(), 0);
    Ok(())
}
