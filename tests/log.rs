//! `zmqx::log`: what pyzmq's test_log checks (topics, root topic, levels,
//! formatters, the handler's socket bound/connected/handed), the `::`
//! subtopic split, TopicLogger, and dropping at the HWM without blocking.
#![cfg(feature = "log")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use common::{TIMEOUT, socket};
use log::Log;
use zmqx::log::{
    DateFormat, Format, Level, LogRecord, PubHandler, TimeZone, TopicLogger, split_topic,
};
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
    handler.set_format(Some(Level::Info), Format::new("%(message)s UNITTEST\n")?);
    info(&handler, "info message");
    assert_eq!(recv2(&sub)?.1, "info message UNITTEST\n");

    handler.set_format(None, Format::new("UNITTEST %(message)s")?);
    info(&handler, "info message");
    assert_eq!(recv2(&sub)?.1, "UNITTEST info message");
    at(&handler, log::Level::Debug, "debug message");
    assert_eq!(recv2(&sub)?.1, "UNITTEST debug message");

    let handler = handler
        .with_format(None, Format::pyzmq_default(Level::Info))
        .with_format(
            Some(Level::Debug),
            Format::new("UNITTEST %(levelname)s %(message)s")?,
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
fn format_fields() -> Result<()> {
    let mut record = LogRecord::new(Level::Warning, "msg");
    record.target = "my_app::db";
    record.file = Some("src/db/pool.rs");
    record.line = Some(7);
    record.module = Some("my_app::db::pool");
    let f = Format::new(
        "%(levelno)d %(name)s %(pathname)s %(filename)s %(module)s %(funcName)s 100%%",
    )?;
    assert_eq!(
        f.format(&record),
        "30 my_app::db src/db/pool.rs pool.rs my_app::db::pool None 100%"
    );
    let mut bare = record;
    bare.file = None;
    bare.line = None;
    bare.level = Level::Critical;
    assert_eq!(
        Format::pyzmq_default(Level::Critical).format(&bare),
        "CRITICAL None:None - msg\n"
    );
    Ok(())
}

/// Issue 18: `%(levelname)-8s|%(lineno)4d|%(message).3s` gave
/// `INFO8s|12d|hello3s`; Python gives `INFO    |  12|hel`.
#[test]
fn format_width_precision_and_flags_as_python() -> Result<()> {
    let mut record = LogRecord::new(Level::Info, "hello");
    record.line = Some(12);
    let f = Format::new("%(levelname)-8s|%(lineno)4d|%(message).3s")?;
    assert_eq!(f.format(&record), "INFO    |  12|hel");
    let f = Format::new("[%(levelname)8s] %(lineno)03d %(levelno)+.1f %(lineno)#x")?;
    assert_eq!(f.format(&record), "[    INFO] 012 +20.0 0xc");
    Ok(())
}

/// What `Format` cannot do as Python does is refused when it is made, with
/// the directive named, never copied through or panicking per record.
#[test]
fn unsupported_directives_are_refused_at_construction() {
    for (template, directive) in [
        ("%(message)s %(unknown)s", "%(unknown)s"),
        ("%(levelname)8y", "%(levelname)8y"),
        ("%(message)d", "%(message)d"),
        ("100% done %(message)s", "% d"),
        ("%(message)s %", "%"),
        ("%(message", "%(message"),
        ("%(lineno)*d", "%(lineno)*"),
    ] {
        let err = Format::new(template).expect_err(template);
        assert_eq!(err.directive(), directive, "{template}");
        assert!(err.to_string().contains(directive), "{err}");
        let core: Error = err.into();
        assert!(matches!(core, Error::InvalidInput { .. }), "{core:?}");
    }
}

/// `asctime` is Python's `%Y-%m-%d %H:%M:%S,mmm` by default, a `datefmt`
/// replaces it whole; `created`, `msecs` and `relativeCreated` are floats.
#[test]
fn time_fields() -> Result<()> {
    let mut record = LogRecord::new(Level::Info, "m");
    // 2024-06-11 14:03:05.042817999 UTC
    record.created = UNIX_EPOCH + Duration::from_nanos(1_718_114_585_042_817_999);
    let utc = |t: &str| -> Result<String> {
        Ok(Format::new(t)?
            .with_time_zone(TimeZone::Utc)
            .format(&record))
    };
    assert_eq!(utc("%(asctime)s")?, "2024-06-11 14:03:05,042");
    assert_eq!(
        utc("%(created)f %(created)d %(msecs)d %(msecs)s")?,
        "1718114585.042818 1718114585 42 42.0"
    );
    assert_eq!(utc("%(msecs)03d|%(created).3f")?, "042|1718114585.043");
    let custom = Format::new("%(asctime)s %(message)s")?
        .with_datefmt(DateFormat::new("%d/%m/%Y %H.%M.%S")?)
        .with_time_zone(TimeZone::Utc);
    assert_eq!(custom.format(&record), "11/06/2024 14.03.05 m");
    // relativeCreated counts from the first use of zmqx::log in the process.
    let now = LogRecord::new(Level::Info, "m");
    let rel: f64 = Format::new("%(relativeCreated)s")?
        .format(&now)
        .parse()
        .expect("a float");
    assert!((0.0..600_000.0).contains(&rel), "{rel}");
    // Local time is the default, as Python's `time.localtime`.
    let local = Format::new("%(asctime)s")?.format(&record);
    assert_eq!(local.len(), "2024-06-11 14:03:05,042".len(), "{local}");
    assert!(local.ends_with(",042"), "{local}");
    Ok(())
}

/// `process`, `thread` and `threadName` are the logging thread's, filled by
/// the handler; `funcName` is `None` from `log`, which does not record it.
#[test]
fn process_and_thread_fields_through_the_handler() -> Result<()> {
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    let handler = Arc::new(handler.with_format(
        None,
        Format::new("%(process)d|%(thread)d|%(threadName)s|%(funcName)s|%(message)s")?,
    ));
    let h = Arc::clone(&handler);
    let tid = std::thread::Builder::new()
        .name("worker-7".into())
        .spawn(move || {
            info(&h, "from worker");
            LogRecord::new(Level::Info, "").thread
        })
        .expect("spawn")
        .join()
        .expect("join");
    let (_, body) = recv2(&sub)?;
    assert_eq!(
        body,
        format!("{}|{tid}|worker-7|None|from worker", std::process::id())
    );
    assert_ne!(
        tid,
        LogRecord::new(Level::Info, "").thread,
        "threads differ"
    );
    #[cfg(target_os = "linux")]
    {
        // The kernel's thread id: the main test thread's is in /proc.
        let me = LogRecord::new(Level::Info, "").thread;
        assert!(std::path::Path::new(&format!("/proc/self/task/{me}")).exists());
    }
    // A record made by the caller carries the function name.
    let mut record = LogRecord::new(Level::Warning, "by hand");
    record.function = Some("connect");
    handler.set_format(None, Format::new("%(funcName)s: %(message)s")?);
    handler.publish_record(&record, Some("sub"));
    assert_eq!(
        recv2(&sub)?,
        ("WARNING.sub".into(), "connect: by hand".into())
    );
    Ok(())
}

/// Issue 19 (pyzmq's `setLevel`): below the handler's level a record is
/// neither formatted nor sent; the level changes at run time.
#[test]
fn handler_level_filters_before_formatting() -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Counted<'a>(&'a AtomicUsize);
    impl std::fmt::Display for Counted<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fetch_add(1, Ordering::SeqCst);
            f.write_str("counted")
        }
    }
    let formatted = AtomicUsize::new(0);
    let log_at = |handler: &PubHandler, level: log::Level| {
        handler.log(
            &log::Record::builder()
                .args(format_args!("{}", Counted(&formatted)))
                .level(level)
                .target("app")
                .build(),
        );
    };
    let ctx = Context::new();
    let (handler, sub) = handed(&ctx, &[""])?;
    let handler = handler
        .with_level(Level::Warning)
        .with_format(None, Format::new("%(message)s")?);
    assert_eq!(handler.level(), Level::Warning);
    assert!(!log::Log::enabled(
        &handler,
        &log::Metadata::builder().level(log::Level::Info).build()
    ));
    log_at(&handler, log::Level::Info);
    log_at(&handler, log::Level::Debug);
    handler.publish(
        Level::Info,
        Some("x"),
        "published below the level",
        None,
        None,
    );
    handler.emit(Level::Debug, "x::emitted below the level", "t", None, None);
    TopicLogger::new(Arc::new(
        PubHandler::from_socket(socket(&ctx, SocketType::Pub)?)?.with_level(Level::Error),
    ))
    .warning("t", "below");
    assert_eq!(
        formatted.load(Ordering::SeqCst),
        0,
        "formatted below the level"
    );
    assert_eq!((handler.published(), handler.dropped()), (0, 0));
    log_at(&handler, log::Level::Error);
    assert_eq!(recv2(&sub)?, ("ERROR".into(), "counted".into()));
    assert_eq!(formatted.load(Ordering::SeqCst), 1);
    // Lowered at run time, from another thread.
    std::thread::scope(|s| {
        s.spawn(|| handler.set_level(Level::Debug));
    });
    log_at(&handler, log::Level::Trace);
    assert_eq!(recv2(&sub)?, ("DEBUG".into(), "counted".into()));
    assert_eq!(handler.published(), 2);
    assert_eq!("warning".parse::<Level>()?, Level::Warning);
    assert!("loud".parse::<Level>().is_err());
    Ok(())
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
            .with_format(None, Format::new("%(message)s")?),
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
    // The handler's level holds for tracing events too; the module path is
    // `%(module)s`.
    handler.set_level(Level::Warning);
    handler.set_format(None, Format::new("%(module)s:%(lineno)d %(message)s")?);
    let subscriber = tracing_subscriber::registry().with(zmqx::log::PubLayer::new(handler.clone()));
    let line = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("skipped");
        tracing::warn!("kept");
        line!() - 1
    });
    assert_eq!(
        recv2(&sub)?,
        ("svc.WARNING".into(), format!("log:{line} kept"))
    );
    assert_eq!(handler.published(), 4);
    Ok(())
}

/// `process` and `thread` are cached (getpid is a system call per record):
/// a forked child must see its own ids, not its parent's.
#[cfg(target_os = "linux")]
#[test]
fn a_forked_child_logs_its_own_process_and_thread_ids() {
    let parent = LogRecord::new(Level::Info, "fills the caches");
    assert_eq!(parent.process, std::process::id());
    let mut fds = [0i32; 2];
    // SAFETY: `pipe` writes two descriptors into a live array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child calls only async-signal-safe functions (the record
    // is built from atomics, thread-locals without destructors,
    // `clock_gettime`, `getpid` and `gettid`), then `write` and `_exit`.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let r = LogRecord::new(Level::Info, "in the child");
        // SAFETY: raw calls in the forked child, on a live array.
        unsafe {
            let ids = [
                u64::from(r.process),
                r.thread,
                libc::getpid() as u64,
                libc::gettid() as u64,
            ];
            libc::write(fds[1], ids.as_ptr().cast(), 32);
            libc::_exit(0);
        }
    }
    let mut ids = [0u64; 4];
    let mut pfd = libc::pollfd {
        fd: fds[0],
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: a live pollfd; a live buffer of 32 bytes; our own child.
    unsafe {
        assert_eq!(
            libc::poll(&mut pfd, 1, 10_000),
            1,
            "the child wrote nothing"
        );
        assert_eq!(libc::read(fds[0], ids.as_mut_ptr().cast(), 32), 32);
        let mut status = 0;
        assert_eq!(libc::waitpid(child, &mut status, 0), child);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    assert_eq!(ids[0], ids[2], "the child's record has the parent's pid");
    assert_eq!(
        ids[1], ids[3],
        "the child's record has the parent's thread id"
    );
    assert_ne!(ids[0], u64::from(parent.process));
    assert_eq!(LogRecord::new(Level::Info, "").process, parent.process);
}
