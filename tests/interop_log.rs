//! Logging against Python: zmqx's `PubHandler` read by `python -m zmq.log`,
//! and zmqx's `Format` and `DateFormat` against Python's own
//! `logging.Formatter` and `strftime` on the same templates and records (in
//! several time zones). The other direction, pyzmq's `PUBHandler` read by
//! `zmqx logwatch`, is in the zmqx-cli crate's tests.
#![cfg(feature = "log")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{TIMEOUT, python};
use serde_json::json;
use zmqx::log::{DateFormat, Format, Level, LogRecord, PubHandler, TimeZone};
use zmqx::{Context, Result};

fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn zmqx_pubhandler_to_pyzmq_logwatch() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?.with_root_topic("app");
    let endpoint = handler.last_endpoint()?;
    let mut watcher = Command::new(&py)
        .args(["-u", "-m", "zmq.log", &endpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn python -m zmq.log");
    let rx = lines(&mut watcher);
    // Slow joiner: publish until pyzmq's watcher prints (bounded).
    let deadline = Instant::now() + TIMEOUT;
    let line = loop {
        assert!(
            Instant::now() < deadline,
            "python -m zmq.log printed nothing"
        );
        handler.publish(
            Level::Warning,
            Some("net"),
            "slow peer",
            Some("src/net.rs"),
            Some(9),
        );
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
            break line;
        }
    };
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(line, "app.WARNING.net | WARNING net.rs:9 - slow peer");
    Ok(())
}

/// Runs a Python script with `input` on its stdin and returns its stdout
/// (bounded by a timeout; stdout is drained while it runs, so a large
/// answer cannot block the child).
fn run_python(py: &std::path::Path, script: &str, input: &str, tz: Option<&str>) -> String {
    let mut cmd = Command::new(py);
    cmd.arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(tz) = tz {
        cmd.env("TZ", tz);
    }
    let mut child = cmd.spawn().expect("spawn python");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = tx.send(stdout.read_to_string(&mut out).map(|_| out));
    });
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("python's stdout is UTF-8"),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("python did not answer within 60 s");
        }
    };
    writer
        .join()
        .expect("writer thread")
        .expect("write python's stdin");
    let status = child.wait().expect("wait python");
    assert!(status.success(), "python failed: {status}");
    out
}

/// Formats every template with `logging.Formatter` on records built from
/// the same values zmqx's records hold.
const PY_FORMATTER: &str = r#"
import json, logging, sys, time
req = json.load(sys.stdin)
out = []
for rec in req["records"]:
    row = []
    for t, datefmt, utc in req["cases"]:
        f = logging.Formatter(t, datefmt, validate=False)
        if utc:
            f.converter = time.gmtime
        r = logging.makeLogRecord(rec)
        try:
            row.append(f.format(r))
        except Exception as e:
            row.append("!python error: " + repr(e))
    out.append(row)
json.dump(out, sys.stdout)
"#;

/// Field names by the Python type of their value.
const TEXT_FIELDS: [&str; 9] = [
    "message",
    "levelname",
    "name",
    "pathname",
    "filename",
    "module",
    "funcName",
    "threadName",
    "asctime",
];
const INT_FIELDS: [&str; 4] = ["levelno", "lineno", "process", "thread"];
const FLOAT_FIELDS: [&str; 3] = ["created", "msecs", "relativeCreated"];

/// Every `%(field)[flags][width][.precision][length]conv` zmqx accepts for
/// the field's type, crossed with a spread of flags, widths and precisions,
/// plus whole templates people use.
fn templates() -> Vec<String> {
    let flags = [
        "", "-", "0", "+", " ", "#", "-0", "+0", " 0", "#0", "-#", "+ ", "-+#0 ",
    ];
    let widths = ["", "1", "5", "12", "25"];
    let precisions = ["", ".", ".0", ".1", ".3", ".8", ".17"];
    let mut out = Vec::new();
    let mut add = |field: &str, convs: &str| {
        for conv in convs.chars() {
            for (i, flag) in flags.iter().enumerate() {
                for width in widths {
                    for precision in precisions {
                        // The length modifier on some, as Python ignores it.
                        let length = if i % 4 == 1 { "l" } else { "" };
                        out.push(format!(
                            "[%({field}){flag}{width}{precision}{length}{conv}]"
                        ));
                    }
                }
            }
        }
    };
    for field in TEXT_FIELDS {
        add(field, "sra");
    }
    for field in INT_FIELDS {
        add(field, "sradiuoxXfFeEgG");
    }
    for field in FLOAT_FIELDS {
        add(field, "sradiufFeEgG");
    }
    for field in ["exc_info", "exc_text", "stack_info"] {
        add(field, "sra");
    }
    out.extend(
        [
            "%(levelname)-8s|%(lineno)4d|%(message).3s",
            "%(asctime)s %(levelname)-8s %(name)s:%(lineno)d %(message)s",
            "%(asctime)s.%(msecs)03d %(process)d/%(thread)x %(threadName)s %(funcName)s()",
            "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n",
            "100%% of %(message)r at %(created)f (+%(relativeCreated).1fms)",
        ]
        .map(String::from),
    );
    out
}

struct Sample {
    level: Level,
    message: &'static str,
    target: &'static str,
    file: Option<&'static str>,
    line: Option<u32>,
    thread_name: Option<&'static str>,
    nanos: i128,
}

fn samples() -> Vec<Sample> {
    vec![
        Sample {
            level: Level::Info,
            message: "hello",
            target: "app.db",
            file: Some("src/app/main.rs"),
            line: Some(12),
            thread_name: Some("main"),
            // 2024-06-11 14:03:05.042817999 UTC
            nanos: 1_718_114_585_042_817_999,
        },
        Sample {
            level: Level::Warning,
            message: "it's \"quoted\"\ttab\\ é 日本 🦀 \u{7}\u{a0}\u{200b}\u{2028}",
            target: "",
            file: Some("main.rs"),
            line: Some(0),
            thread_name: Some("wörker-7"),
            // 1970-01-01 23:59:59.999 UTC
            nanos: 86_399_999_000_000,
        },
        Sample {
            level: Level::Critical,
            message: "",
            target: "x",
            file: None,
            line: Some(4096),
            thread_name: None,
            // 1969-12-31 23:59:58.5 UTC: before the epoch, and before
            // zmqx::log's start (a negative relativeCreated).
            nanos: -1_500_000_000,
        },
    ]
}

fn at_nanos(nanos: i128) -> SystemTime {
    let d = Duration::from_nanos(nanos.unsigned_abs() as u64);
    if nanos >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// Issue 18: `Format` gives what Python's `logging.Formatter` gives, for
/// every flag, width, precision and conversion on every field, including
/// `asctime` in local time and UTC with and without a `datefmt`.
#[test]
fn format_matches_python_logging_formatter() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    // Each template in local time without a datefmt; those with `asctime`
    // also in UTC and with two datefmts.
    let dates: [(Option<&str>, bool); 4] = [
        (None, false),
        (None, true),
        (Some("%d/%m/%y %H.%M.%S %a %b %j %p %z"), false),
        (Some("%Y-%m-%dT%H:%M:%S%z"), true),
    ];
    let mut cases = Vec::new();
    for t in templates() {
        let n = if t.contains("%(asctime)") {
            dates.len()
        } else {
            1
        };
        for (datefmt, utc) in &dates[..n] {
            cases.push((t.clone(), *datefmt, *utc));
        }
    }
    let mut py_records = Vec::new();
    let mut ours = Vec::new();
    for s in samples() {
        let mut r = LogRecord::new(s.level, s.message);
        r.target = s.target;
        r.file = s.file;
        r.line = s.line;
        r.module = Some("app::main");
        r.function = Some("connect");
        r.process = 4242;
        r.thread = 140_000_123_456;
        r.thread_name = s.thread_name;
        r.created = at_nanos(s.nanos);
        // The floats exactly as zmqx computes them (repr round-trips).
        let float = |field: &str| -> f64 {
            let f = Format::new(&format!("%({field})r")).expect("repr");
            f.format(&r).parse().expect("a float")
        };
        py_records.push(json!({
            "name": s.target, "msg": s.message, "args": [], "levelname": s.level.name(),
            "levelno": s.level.number(), "pathname": s.file, "lineno": s.line,
            "filename": s.file.map(|f| f.rsplit('/').next().unwrap_or(f)),
            "module": "app::main", "funcName": "connect", "process": 4242,
            "thread": 140_000_123_456u64, "threadName": s.thread_name,
            "created": float("created"), "msecs": float("msecs"),
            "relativeCreated": float("relativeCreated"),
            "exc_info": null, "exc_text": null, "stack_info": null,
        }));
        let mut row = Vec::new();
        for (t, datefmt, utc) in &cases {
            let mut f = Format::new(t).unwrap_or_else(|e| panic!("{t:?}: {e}"));
            if let Some(d) = datefmt {
                f = f.with_datefmt(DateFormat::new(d).expect("datefmt"));
            }
            if *utc {
                f = f.with_time_zone(TimeZone::Utc);
            }
            row.push(f.format(&r));
        }
        ours.push(row);
    }
    let request = json!({ "records": py_records, "cases": cases });
    let answer = run_python(&py, PY_FORMATTER, &request.to_string(), None);
    let theirs: Vec<Vec<String>> = serde_json::from_str(&answer).expect("python's JSON");
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (i, (our_row, their_row)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(our_row.len(), their_row.len());
        for (j, (a, b)) in our_row.iter().zip(their_row).enumerate() {
            compared += 1;
            if a != b {
                let case = &cases[j];
                mismatches.push(format!("record {i} {case:?}: zmqx {a:?}, python {b:?}"));
            }
        }
    }
    assert_eq!(theirs.len(), ours.len());
    assert!(compared > 30_000, "compared only {compared}");
    assert!(
        mismatches.is_empty(),
        "{} of {compared} differ from Python; first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(40)].join("\n")
    );
    Ok(())
}

/// `strftime` of every directive on instants in Python (`time.strftime` of
/// `time.gmtime`/`time.localtime`, `datetime` for `%f`).
const PY_STRFTIME: &str = r#"
import datetime, json, sys, time
req = json.load(sys.stdin)
out = []
for secs, micros in req["instants"]:
    row = []
    for fmt, utc in req["formats"]:
        if "%f" in fmt:
            tz = datetime.timezone.utc if utc else None
            d = datetime.datetime.fromtimestamp(secs, tz).replace(microsecond=micros)
            row.append(d.strftime(fmt))
        else:
            row.append(time.strftime(fmt, time.gmtime(secs) if utc else time.localtime(secs)))
    out.append(row)
json.dump(out, sys.stdout)
"#;

/// Compares `DateFormat` with Python in this process's time zone.
fn dates_match_python(py: &std::path::Path) {
    let directives = "YyCmdejHkIlpMSaAbhBuwUWzZsFTDRrcxX%";
    let mut formats: Vec<(String, bool)> = Vec::new();
    for utc in [true, false] {
        for d in directives.chars() {
            // Python's gmtime names UTC `GMT`, and glibc's `%s` reads a
            // gmtime as local time: zmqx says `UTC` and the true epoch.
            if utc && (d == 'Z' || d == 's') {
                continue;
            }
            formats.push((format!("<%{d}>"), utc));
        }
        formats.push(("%Y-%m-%d %H:%M:%S.%f".into(), utc));
        formats.push((zmqx::log::LOGWATCH_DATEFORMAT.into(), utc));
        formats.push((zmqx::log::PYZMQ_LOGWATCH_DATEFORMAT.into(), utc));
    }
    let instants: [(i64, u32); 14] = [
        (0, 0),
        (-1, 999_999),
        (86_399, 1),
        (951_782_400, 0),          // 2000-02-29
        (1_709_164_800, 123_456),  // 2024-02-29
        (1_718_114_585, 42_817),   // 2024-06-11 14:03:05
        (1_735_689_599, 0),        // 2024-12-31 23:59:59
        (1_710_054_000, 0),        // US spring-forward day 2024
        (1_711_846_800, 0),        // EU spring-forward 2024
        (1_730_595_600, 0),        // US fall-back 2024
        (2_147_483_648, 0),        // past 2038-01-19
        (4_102_444_800, 0),        // 2100-01-01
        (-2_208_988_800, 500_000), // 1900-01-01
        (1_704_067_199, 0),        // 2023-12-31 23:59:59, week 53/0 edges
    ];
    let request = json!({ "instants": instants, "formats": formats });
    let answer = run_python(py, PY_STRFTIME, &request.to_string(), None);
    let theirs: Vec<Vec<String>> = serde_json::from_str(&answer).expect("python's JSON");
    let mut mismatches = Vec::new();
    for ((secs, micros), row) in instants.iter().zip(&theirs) {
        let t = if *secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(*secs as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        } + Duration::from_micros(u64::from(*micros));
        for ((fmt, utc), theirs) in formats.iter().zip(row) {
            let zone = if *utc { TimeZone::Utc } else { TimeZone::Local };
            let ours = DateFormat::new(fmt).expect(fmt).format(t, zone);
            if &ours != theirs {
                mismatches.push(format!(
                    "{secs}.{micros:06} {fmt:?} {zone:?}: zmqx {ours:?}, python {theirs:?}"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "TZ={:?}: {} differ from Python:\n{}",
        std::env::var("TZ").ok(),
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The time zones the child runs in: POSIX rules, so no tz database is
/// needed; half-hour offsets, both hemispheres' DST, east and west.
const ZONES: [&str; 5] = [
    "UTC0",
    "NST3:30NDT,M3.2.0,M11.1.0",
    "IST-5:30",
    "CET-1CEST,M3.5.0,M10.5.0/3",
    "AEST-10AEDT,M10.1.0,M4.1.0/3",
];

/// Issue 19 (`logwatch --dateformat`, local time) and the year-day-month
/// bug of `logwatch --timestamp`: `DateFormat` agrees with Python's
/// `strftime` for every directive, in UTC and in local time, in several
/// time zones (this test binary re-runs itself with `TZ` set, since a
/// process reads its zone once).
#[test]
fn date_format_matches_python_strftime_in_several_time_zones() {
    let Some(py) = python() else { return };
    dates_match_python(&py);
    let exe = std::env::current_exe().expect("the test binary");
    for tz in ZONES {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "date_format_child_in_time_zone",
                "--include-ignored",
                "--nocapture",
            ])
            .env("TZ", tz)
            .env("ZMQX_PYTHON", &py)
            .env("ZMQX_LOG_TZ_CHILD", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("re-run the test binary");
        let mut out = String::new();
        let mut err = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("stdout");
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("stderr");
        let status = child.wait().expect("wait");
        assert!(status.success(), "TZ={tz}: {out}\n{err}");
        assert!(
            out.contains("1 passed"),
            "TZ={tz}: the child ran nothing: {out}"
        );
    }
}

/// Run by the test above with `TZ` set.
#[test]
#[ignore = "run by date_format_matches_python_strftime_in_several_time_zones with TZ set"]
fn date_format_child_in_time_zone() {
    assert!(
        std::env::var_os("ZMQX_LOG_TZ_CHILD").is_some(),
        "only run by its parent test"
    );
    let py = python().expect("the parent passes ZMQX_PYTHON");
    dates_match_python(&py);
}
