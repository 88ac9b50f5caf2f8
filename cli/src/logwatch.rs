//! `zmqx logwatch`: prints the records a `zmqx::log::PubHandler` or pyzmq's
//! `PUBHandler` publishes, as pyzmq's `python -m zmq.log` does.

use std::time::{Duration, Instant, SystemTime};

use zmqx::log::{DateFormat, LOGWATCH_DATEFORMAT, TimeZone};
use zmqx::{PollEvents, SocketType};

use crate::args::parse_seconds;
use crate::session::{Session, emit, ended, run_loop};
use crate::spec::check_endpoint;

#[derive(clap::Args)]
#[command(after_help = "\
Timestamps: pyzmq's log watcher prints `--timestamp` in local time with the \
default format %Y-%d-%m %H:%M, which is year-DAY-MONTH (a bug). zmqx does not \
copy it: the default is %Y-%m-%d %H:%M (year-month-day) in UTC. For pyzmq's \
exact output, pass --local-time --dateformat '%Y-%d-%m %H:%M'.

Date directives (C locale names; zmqx::log::DateFormat): %Y year, %y year \
in century, %C century, %m month, %d day, %e space-padded day, %j day of \
year, %H hour (00-23), %k hour (space-padded), %I hour (01-12), %l hour \
(1-12, space-padded), %p AM/PM, %M minute, %S second, %f microseconds, \
%a/%A weekday, %b/%h/%B month name, %u weekday (Monday 1), %w weekday \
(Sunday 0), %U/%W week of the year (from Sunday/Monday), %z UTC offset \
+HHMM, %Z zone name, %s seconds since the epoch, %F = %Y-%m-%d, %T = \
%H:%M:%S, %D = %m/%d/%y, %R = %H:%M, %r = %I:%M:%S %p, %c, %x, %X (C \
locale), %n newline, %t tab, %% a percent sign. Any other directive is an error.")]
pub struct LogwatchArgs {
    /// Endpoint of the log publisher (the watcher connects to it).
    #[arg(value_parser = parse_connect_endpoint)]
    endpoint: String,
    /// Only receive records whose topic starts with this.
    #[arg(short, long, default_value = "")]
    topic: String,
    /// Print the time each record arrived before it (UTC unless
    /// --local-time; format: --dateformat).
    #[arg(long)]
    timestamp: bool,
    /// strftime-style format of --timestamp (implies it); see below for the
    /// directives.
    #[arg(long, value_name = "FMT", value_parser = DateFormat::new)]
    dateformat: Option<DateFormat>,
    /// Print timestamps in the local time zone (TZ, /etc/localtime) instead
    /// of UTC (implies --timestamp).
    #[arg(long)]
    local_time: bool,
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

fn parse_connect_endpoint(s: &str) -> Result<String, String> {
    check_endpoint(s, false).map(|()| s.to_owned())
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

/// How records are printed.
struct Printer<'a> {
    args: &'a LogwatchArgs,
    /// The timestamp format, when timestamps are printed.
    dates: Option<DateFormat>,
    /// The widest part seen at each topic level (`--align`).
    widths: Vec<usize>,
}

impl Printer<'_> {
    /// The line pyzmq's log watcher prints for one record.
    fn line(&mut self, topic: &str, message: &str, at: SystemTime) -> String {
        let args = self.args;
        let topic = topic.trim();
        let mut parts: Vec<&str> = topic.split('.').collect();
        let level = if parts.len() == 1 { parts[0] } else { parts[1] };
        let shown = if args.align {
            while parts.len() < self.widths.len() {
                parts.push(" ");
            }
            let mut aligned = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                let width = part.chars().count();
                if i == self.widths.len() {
                    self.widths.push(width);
                }
                self.widths[i] = self.widths[i].max(width);
                aligned.push(format!("{part:<w$}", w = self.widths[i]));
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
        let ts = match &self.dates {
            Some(f) => {
                let zone = if args.local_time {
                    TimeZone::Local
                } else {
                    TimeZone::Utc
                };
                f.format(at, zone) + " "
            }
            None => String::new(),
        };
        format!(
            "{ts}{color}{shown}{sep}{msg}{reset}",
            sep = args.separator,
            msg = message.trim()
        )
    }
}

pub fn run(session: &Session, args: LogwatchArgs) -> Result<(), String> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let dates = (args.timestamp || args.dateformat.is_some() || args.local_time).then(|| {
        args.dateformat
            .clone()
            .unwrap_or_else(|| DateFormat::new(LOGWATCH_DATEFORMAT).expect("a valid format"))
    });
    let fail = |e: zmqx::Error| format!("cannot open the SUB socket: {e}");
    let sub = session.context().socket(SocketType::Sub).map_err(fail)?;
    sub.subscribe(args.topic.as_bytes()).map_err(fail)?;
    sub.connect(&args.endpoint)
        .map_err(|e| format!("cannot connect to {}: {}", args.endpoint, e.root()))?;
    let mut printer = Printer {
        args: &args,
        dates,
        widths: Vec::new(),
    };
    let mut seen = 0u64;
    let mut broken: Option<std::io::Error> = None;
    let result = run_loop(deadline, |left| {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(false);
        }
        if sub.poll(PollEvents::POLLIN, left)?.is_empty() {
            return Ok(true);
        }
        let frames = sub.recv_multipart()?;
        let at = SystemTime::now();
        let [topic, message] = &frames[..] else {
            eprintln!("zmqx: skipped a message of {} frames", frames.len());
            return Ok(true);
        };
        let topic = String::from_utf8_lossy(topic);
        let message = String::from_utf8_lossy(message);
        if let Err(e) = emit(&printer.line(&topic, &message, at)) {
            broken = Some(e);
            return Ok(false);
        }
        seen += 1;
        Ok(true)
    });
    if args.color && broken.is_none() {
        let _ = emit(RESET);
    }
    ended(result, broken)
}
