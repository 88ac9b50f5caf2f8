//! `zmqx`: the ZeroMQ command-line tool of the zmqx crate.
//!
//! - `zmqx logwatch ENDPOINT`: prints log records published by a
//!   `zmqx::log::PubHandler` or pyzmq's `PUBHandler` (pyzmq's
//!   `python -m zmq.log`, same output).
//! - `zmqx keygen NAME`: writes a CURVE certificate pair (czmq's
//!   `zmakecert`, pyzmq's `zmq.auth.create_certificates`).
//! - `zmqx proxy --frontend SPEC --backend SPEC`: a proxy as its own
//!   process (pyzmq's `ProcessProxy`, `ProcessProxySteerable`).
//! - `zmqx monitor SPEC`: opens a socket and prints its monitor events.
//!
//! A socket SPEC is `TYPE@ENDPOINT` (binds), `TYPE@bind:ENDPOINT` or
//! `TYPE@connect:ENDPOINT`, for example `router@tcp://*:5555` or
//! `dealer@connect:tcp://127.0.0.1:5556`.
//!
//! Bad arguments exit with code 2, runtime errors with code 1, both with a
//! message on stderr. SIGINT and SIGTERM end every subcommand cleanly
//! (exit code 0).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use zmqx::monitor::EventKind;
use zmqx::{Context, Event, PollEvents, Socket, SocketType};

#[derive(Parser)]
#[command(name = "zmqx", version, about = "ZeroMQ command-line tools (zmqx)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print log records published over PUB (pyzmq's `python -m zmq.log`).
    Logwatch(LogwatchArgs),
    /// Write a CURVE certificate pair NAME.key and NAME.key_secret.
    Keygen(KeygenArgs),
    /// Run a proxy between two sockets until interrupted.
    Proxy(ProxyArgs),
    /// Open a socket and print its monitor events as they happen.
    Monitor(MonitorArgs),
}

#[derive(clap::Args)]
struct LogwatchArgs {
    /// Endpoint of the log publisher (the watcher connects to it).
    endpoint: String,
    /// Only receive records whose topic starts with this.
    #[arg(short, long, default_value = "")]
    topic: String,
    /// Print the time (UTC, `YYYY-DD-MM HH:MM` like pyzmq) before each record.
    #[arg(long)]
    timestamp: bool,
    /// String printed between the topic and the message.
    #[arg(long, default_value = " | ")]
    separator: String,
    /// Align messages by the width of their topics.
    #[arg(long)]
    align: bool,
    /// Color the output by level (ANSI colors).
    #[arg(long)]
    color: bool,
    /// Exit after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Exit after this many seconds (decimals allowed).
    #[arg(long, value_parser = parse_seconds)]
    timeout: Option<Duration>,
}

#[derive(clap::Args)]
struct KeygenArgs {
    /// Directory to write the certificates in (created if missing).
    #[arg(short, long, default_value = ".")]
    dir: PathBuf,
    /// Base name of the files: NAME.key and NAME.key_secret.
    name: String,
    /// Metadata written in the certificates, as KEY=VALUE (repeatable).
    #[arg(short, long, value_parser = parse_meta)]
    meta: Vec<(String, String)>,
}

#[derive(clap::Args)]
struct ProxyArgs {
    /// Frontend socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long, value_parser = parse_spec)]
    frontend: Spec,
    /// Backend socket: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(long, value_parser = parse_spec)]
    backend: Spec,
    /// Capture socket receiving a copy of every message (PUB, PUSH…).
    #[arg(long, value_parser = parse_spec)]
    capture: Option<Spec>,
    /// Control socket (REP, PAIR, SUB…) taking PAUSE, RESUME, TERMINATE
    /// and STATISTICS.
    #[arg(long, value_parser = parse_spec)]
    control: Option<Spec>,
}

#[derive(clap::Args)]
struct MonitorArgs {
    /// The socket to open and monitor: TYPE@[bind:|connect:]ENDPOINT.
    #[arg(value_parser = parse_spec)]
    socket: Spec,
    /// Exit after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Exit after this many seconds (decimals allowed).
    #[arg(long, value_parser = parse_seconds)]
    timeout: Option<Duration>,
}

/// A socket to open: its type, and where it binds or connects.
#[derive(Clone, Debug)]
struct Spec {
    kind: SocketType,
    bind: bool,
    endpoint: String,
}

fn parse_spec(s: &str) -> Result<Spec, String> {
    let (kind, rest) = s
        .split_once('@')
        .ok_or_else(|| format!("{s:?} is not TYPE@ENDPOINT"))?;
    let kind: SocketType = kind.parse().map_err(|e: zmqx::Error| e.to_string())?;
    let (bind, endpoint) = if let Some(e) = rest.strip_prefix("bind:") {
        (true, e)
    } else if let Some(e) = rest.strip_prefix("connect:") {
        (false, e)
    } else {
        (true, rest)
    };
    if !endpoint.contains("://") {
        return Err(format!(
            "{endpoint:?} is not an endpoint (transport://address)"
        ));
    }
    Ok(Spec {
        kind,
        bind,
        endpoint: endpoint.to_owned(),
    })
}

fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .ok_or_else(|| format!("{s:?} is not a number of seconds"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Logwatch(args) => logwatch(args),
        Command::Keygen(args) => keygen(args),
        Command::Proxy(args) => proxy(args),
        Command::Monitor(args) => monitor(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zmqx: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Shuts the context down on SIGINT or SIGTERM, so blocking calls return
/// `ContextTerminated` and the subcommand ends cleanly.
fn stop_on_signals(ctx: &Context) -> Result<(), String> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
            .map_err(|e| format!("cannot handle signals: {e}"))?;
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = ctx.shutdown();
            }
        });
    }
    #[cfg(not(unix))]
    let _ = ctx;
    Ok(())
}

fn open(ctx: &Context, spec: &Spec) -> Result<Socket, String> {
    let socket = ctx.socket(spec.kind).map_err(|e| e.to_string())?;
    let r = if spec.bind {
        socket.bind(&spec.endpoint)
    } else {
        socket.connect(&spec.endpoint)
    };
    r.map_err(|e| {
        let verb = if spec.bind { "bind" } else { "connect" };
        format!("cannot {verb} {} to {}: {e}", spec.kind, spec.endpoint)
    })?;
    Ok(socket)
}

/// Runs `step` until it returns `Ok(false)`, the deadline passes or the
/// context is shut down. `step` gets the time left to wait.
fn run_loop(
    deadline: Option<Instant>,
    mut step: impl FnMut(Option<Duration>) -> zmqx::Result<bool>,
) -> Result<(), String> {
    loop {
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(()),
            },
            None => None,
        };
        match step(left) {
            Ok(true) => {}
            Ok(false) | Err(zmqx::Error::ContextTerminated) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

const RESET: &str = "\x1b[39m";

fn level_color(level: &str) -> &'static str {
    match level {
        "DEBUG" => "\x1b[96m",
        "INFO" => "\x1b[97m",
        "WARNING" => "\x1b[33m",
        "ERROR" | "CRITICAL" => "\x1b[91m",
        _ => "",
    }
}

/// `YYYY-DD-MM HH:MM ` in UTC (pyzmq's default `--dateformat`, local time
/// there).
fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{d:02}-{mo:02} {h:02}:{m:02} ")
}

/// The line pyzmq's log watcher prints for one record.
fn watch_line(args: &LogwatchArgs, widths: &mut Vec<usize>, topic: &str, message: &str) -> String {
    let topic = topic.trim();
    let mut parts: Vec<&str> = topic.split('.').collect();
    let level = if parts.len() == 1 { parts[0] } else { parts[1] };
    let shown = if args.align {
        while parts.len() < widths.len() {
            parts.push(" ");
        }
        let mut aligned = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let width = part.chars().count();
            if i == widths.len() {
                widths.push(width);
            }
            widths[i] = widths[i].max(width);
            aligned.push(format!("{part:<w$}", w = widths[i]));
        }
        aligned.join(".")
    } else {
        topic.to_owned()
    };
    let (color, reset) = if args.color {
        (level_color(level), RESET)
    } else {
        ("", "")
    };
    let ts = if args.timestamp {
        timestamp()
    } else {
        String::new()
    };
    format!(
        "{ts}{color}{shown}{sep}{msg}{reset}",
        sep = args.separator,
        msg = message.trim()
    )
}

fn logwatch(args: LogwatchArgs) -> Result<(), String> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let ctx = Context::new();
    stop_on_signals(&ctx)?;
    let sub = ctx.socket(SocketType::Sub).map_err(|e| e.to_string())?;
    sub.subscribe(args.topic.as_bytes())
        .map_err(|e| e.to_string())?;
    sub.connect(&args.endpoint)
        .map_err(|e| format!("cannot connect to {}: {e}", args.endpoint))?;
    let mut widths = Vec::new();
    let mut seen = 0u64;
    let result = run_loop(deadline, |left| {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(false);
        }
        if sub.poll(PollEvents::POLLIN, left)?.is_empty() {
            return Ok(true);
        }
        let frames = sub.recv_multipart()?;
        let [topic, message] = &frames[..] else {
            eprintln!("zmqx: skipped a message of {} frames", frames.len());
            return Ok(true);
        };
        let topic = String::from_utf8_lossy(topic);
        let message = String::from_utf8_lossy(message);
        println!("{}", watch_line(&args, &mut widths, &topic, &message));
        seen += 1;
        Ok(true)
    });
    if args.color {
        println!("{RESET}");
    }
    result
}

fn keygen(args: KeygenArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let meta: Vec<(&str, &str)> = args
        .meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (public, secret) =
        zmqx::auth::create_certificates(&args.dir, &args.name, &meta).map_err(|e| e.to_string())?;
    println!("{}", public.display());
    println!("{}", secret.display());
    Ok(())
}

fn proxy(args: ProxyArgs) -> Result<(), String> {
    let ctx = Context::new();
    stop_on_signals(&ctx)?;
    let frontend = open(&ctx, &args.frontend)?;
    let backend = open(&ctx, &args.backend)?;
    let capture = args.capture.as_ref().map(|s| open(&ctx, s)).transpose()?;
    let control = args.control.as_ref().map(|s| open(&ctx, s)).transpose()?;
    let r = match &control {
        Some(control) => {
            zmqx::proxy_steerable(&frontend, &backend, capture.as_ref(), Some(control))
        }
        None => zmqx::proxy(&frontend, &backend, capture.as_ref()),
    };
    r.map_err(|e| format!("proxy failed: {e}"))
}

fn monitor(args: MonitorArgs) -> Result<(), String> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let ctx = Context::new();
    stop_on_signals(&ctx)?;
    let socket = ctx.socket(args.socket.kind).map_err(|e| e.to_string())?;
    // Monitor before binding or connecting, so LISTENING/CONNECTED show.
    let monitor = socket
        .monitor_events(Event::ALL)
        .map_err(|e| e.to_string())?;
    let spec = &args.socket;
    let r = if spec.bind {
        socket.bind(&spec.endpoint)
    } else {
        socket.connect(&spec.endpoint)
    };
    r.map_err(|e| format!("cannot open {}@{}: {e}", spec.kind, spec.endpoint))?;
    let mut seen = 0u64;
    run_loop(deadline, |left| {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(false);
        }
        match monitor.next_event(left)? {
            Some(event) => {
                println!("{event}");
                seen += 1;
                Ok(event.kind != EventKind::MonitorStopped)
            }
            None => Ok(!monitor.is_stopped()),
        }
    })
}
