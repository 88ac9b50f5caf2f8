//! `zmqx logwatch --timestamp`, `--dateformat` and `--local-time`, checked
//! against GNU `date` for the same instant.
#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{TIMEOUT, log_publisher, stderr, subscribed_handler, wait_child, zmqx};
use zmqx::{Context, Result};

/// Runs `zmqx logwatch ARGS --count 1` (with `TZ` set when given) against
/// a publisher, publishing once it has subscribed; returns the line printed.
fn watch_one(args: &[&str], tz: Option<&str>) -> Result<String> {
    let ctx = Context::new();
    let (xpub, endpoint) = log_publisher(&ctx)?;
    let mut cmd = zmqx();
    cmd.arg("logwatch")
        .args(args)
        .args(["--count", "1", "--timeout", "20", &endpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match tz {
        Some(tz) => cmd.env("TZ", tz),
        None => cmd.env_remove("TZ"),
    };
    let child = cmd.spawn().expect("spawn zmqx");
    let handler = subscribed_handler(xpub).map(|h| h.with_root_topic("app"));
    if let Ok(h) = &handler {
        h.publish(zmqx::log::Level::Info, None, "hello", None, None);
    }
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    handler?;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.strip_suffix('\n').unwrap_or(&text);
    assert!(!line.contains('\n'), "one line expected: {text:?}");
    Ok(line.to_owned())
}

/// The timestamp part of a printed line (before ` app.INFO | …`).
fn stamp(line: &str) -> &str {
    line.split_once(" app.INFO | ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .0
}

/// GNU `date` for an instant: `date [-u] -d @SECS +FMT`.
fn gnu_date(secs: &str, fmt: &str, utc: bool, tz: Option<&str>) -> String {
    let mut cmd = Command::new("date");
    cmd.env("LC_ALL", "C");
    if utc {
        cmd.arg("-u");
    }
    cmd.args(["-d", &format!("@{secs}"), &format!("+{fmt}")]);
    match tz {
        Some(tz) => cmd.env("TZ", tz),
        None => cmd.env_remove("TZ"),
    };
    let out = cmd.output().expect("run date");
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim_end()
        .to_owned()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// `--timestamp` is year-month-day hour:minute in UTC (pyzmq prints
/// year-day-month, a bug not copied).
#[test]
fn timestamp_is_year_month_day_utc() -> Result<()> {
    let before = now_secs().to_string();
    let line = watch_one(&["--timestamp"], Some("XYZ-05:30"))?;
    let after = now_secs().to_string();
    let fmt = "%Y-%m-%d %H:%M";
    let expected = [
        gnu_date(&before, fmt, true, None),
        gnu_date(&after, fmt, true, None),
    ];
    assert!(
        expected.contains(&stamp(&line).to_owned()),
        "{line:?} vs {expected:?}"
    );
    assert!(line.ends_with(" app.INFO | hello"), "{line:?}");
    Ok(())
}

const EVERY: &str = "%Y-%m-%d %H:%M:%S|%y|%C|%e|%j|%k|%I|%l|%p|%a|%A|%b|%h|%B|%w|%u|%U|%W|%z|%Z|%F|%T|%D|%R|%r|%c|%x|%X|%%";

/// Every directive against GNU date, for the instant the watcher printed
/// (`%s`); `--dateformat` alone turns timestamps on.
#[test]
fn dateformat_directives_match_gnu_date() -> Result<()> {
    let before = now_secs();
    let fmt = format!("%s|{EVERY}|%f");
    let line = watch_one(&["--dateformat", &fmt], None)?;
    let after = now_secs();
    let ts = stamp(&line);
    let (secs, rest) = ts.split_once('|').expect("%s|…");
    let (middle, micros) = rest.rsplit_once('|').expect("…|%f");
    let t: u64 = secs.parse().expect("%s is a number");
    assert!(
        (before..=after).contains(&t),
        "{t} not in {before}..={after}"
    );
    assert_eq!(middle, gnu_date(secs, EVERY, true, None), "{line:?}");
    assert!(middle.contains("+0000|UTC"), "{middle}");
    assert!(
        micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()),
        "{micros:?}"
    );
    Ok(())
}

/// `--local-time` follows TZ (here a fixed offset of +05:30 named XYZ);
/// without it, TZ changes nothing.
#[test]
fn local_time_follows_tz() -> Result<()> {
    let tz = "XYZ-05:30";
    let fmt = format!("%s|{EVERY}");
    let line = watch_one(&["--local-time", "--dateformat", &fmt], Some(tz))?;
    let (secs, local) = stamp(&line).split_once('|').expect("%s|…");
    assert_eq!(local, gnu_date(secs, EVERY, false, Some(tz)), "{line:?}");
    assert!(local.contains("+0530|XYZ"), "{local}");

    let line = watch_one(&["--dateformat", &fmt], Some(tz))?;
    let (secs, utc) = stamp(&line).split_once('|').expect("%s|…");
    assert_eq!(utc, gnu_date(secs, EVERY, true, None), "{line:?}");
    Ok(())
}
