//! Dates for log records and the log watcher: a strftime-style
//! [`DateFormat`] parsed once, shown in UTC (pure arithmetic) or local time
//! (`localtime_r`).
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use super::error::FormatError;
use super::sys;

/// The date format of `zmqx logwatch --timestamp`: year, month, day, hour,
/// minute (`2024-06-11 14:03`).
///
/// pyzmq's log watcher (`python -m zmq.log`) defaults to `"%Y-%d-%m %H:%M"`,
/// day before month, which reads as a wrong date for 12 days of each month;
/// zmqx does not copy that. [`PYZMQ_LOGWATCH_DATEFORMAT`] is pyzmq's string,
/// for who wants the same output.
pub const LOGWATCH_DATEFORMAT: &str = "%Y-%m-%d %H:%M";

/// pyzmq's `python -m zmq.log --dateformat` default, `"%Y-%d-%m %H:%M"`
/// (year, **day**, month): see [`LOGWATCH_DATEFORMAT`].
pub const PYZMQ_LOGWATCH_DATEFORMAT: &str = "%Y-%d-%m %H:%M";

/// The date part of Python's default `%(asctime)s`
/// (`logging.Formatter.default_time_format`); the milliseconds follow it as
/// `,mmm`.
pub const ASCTIME_DATEFORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Which clock a date is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeZone {
    /// Local time per the process's time zone (`TZ`, else
    /// `/etc/localtime`), through the C library's `localtime_r`, as
    /// Python's `time.localtime` (the default converter of
    /// `logging.Formatter`). An instant the C library cannot convert, and
    /// every instant on a non-Unix target, is shown in UTC.
    #[default]
    Local,
    /// Coordinated Universal Time (Python's `logging.Formatter.converter =
    /// time.gmtime`); `%z` is `+0000` and `%Z` is `UTC`.
    Utc,
}

/// One item of a parsed date format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    /// A conversion letter, already checked.
    Conv(char),
}

/// A strftime-style date format (Python's `time.strftime` /
/// `datetime.strftime`, as used by `logging.Formatter(datefmt=…)` and
/// `python -m zmq.log --dateformat`), parsed once.
///
/// Names are the C/POSIX locale's (English), whatever the process locale.
/// Supported directives:
///
/// | directive | meaning | example |
/// |-----------|---------|---------|
/// | `%Y` | year | `2024` |
/// | `%y` | year in the century, 2 digits | `24` |
/// | `%C` | century, 2 digits | `20` |
/// | `%m` | month, 2 digits | `06` |
/// | `%d` | day of the month, 2 digits | `09` |
/// | `%e` | day of the month, space-padded | ` 9` |
/// | `%j` | day of the year, 3 digits | `161` |
/// | `%H` | hour (00–23) | `14` |
/// | `%k` | hour (0–23), space-padded | `14` |
/// | `%I` | hour (01–12) | `02` |
/// | `%l` | hour (1–12), space-padded | ` 2` |
/// | `%p` | `AM` or `PM` | `PM` |
/// | `%M` | minute | `03` |
/// | `%S` | second | `05` |
/// | `%f` | microseconds, 6 digits (`datetime.strftime`'s) | `042817` |
/// | `%a` / `%A` | weekday, short / full | `Tue` / `Tuesday` |
/// | `%b` / `%h` / `%B` | month name, short / short / full | `Jun` / `Jun` / `June` |
/// | `%u` / `%w` | weekday number, Monday=1…7 / Sunday=0…6 | `2` / `2` |
/// | `%U` / `%W` | week of the year, weeks from Sunday / Monday | `23` / `24` |
/// | `%z` | UTC offset, `±hhmm` | `+0200` |
/// | `%Z` | zone abbreviation (`UTC` in UTC) | `CEST` |
/// | `%s` | seconds since the Unix epoch | `1718107385` |
/// | `%F` `%T` `%D` `%R` `%r` | `%Y-%m-%d`, `%H:%M:%S`, `%m/%d/%y`, `%H:%M`, `%I:%M:%S %p` | |
/// | `%c` `%x` `%X` | C locale: `%a %b %e %H:%M:%S %Y`, `%m/%d/%y`, `%H:%M:%S` | |
/// | `%n` `%t` `%%` | newline, tab, `%` | |
///
/// Anything else after `%` (an unknown letter, glibc's `%-d` flags, a
/// trailing `%`) is refused by [`DateFormat::new`] with a [`FormatError`]
/// naming the directive. Differences from Python: `%f` also works where
/// Python's `time.strftime` leaves it as is (in `logging`'s `datefmt`), and
/// `%z`/`%Z` give the zone where pyzmq's log watcher (naive
/// `datetime.now()`) prints nothing.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use zmqx::log::{DateFormat, TimeZone};
///
/// let f = DateFormat::new("%Y-%m-%d %H:%M:%S.%f %z")?;
/// let t = UNIX_EPOCH + Duration::from_micros(1_718_107_385_042_817);
/// assert_eq!(f.format(t, TimeZone::Utc), "2024-06-11 12:03:05.042817 +0000");
/// assert!(DateFormat::new("%Y-%Q").is_err());
/// # Ok::<(), zmqx::log::FormatError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    template: String,
    items: Vec<Item>,
}

/// Every directive [`DateFormat`] knows.
const DIRECTIVES: &str = "YyCmdejHkIlpMSfaAbhBuwUWzZsFTDRrcxXnt%";

impl DateFormat {
    /// Parses a strftime-style format; an unknown directive is a
    /// [`FormatError`] naming it.
    pub fn new(template: &str) -> Result<DateFormat, FormatError> {
        let mut items = Vec::new();
        let mut literal = String::new();
        let mut chars = template.char_indices();
        while let Some((at, c)) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let Some((_, conv)) = chars.next() else {
                return Err(FormatError::date(
                    template,
                    at,
                    "%",
                    "a lone `%` ends the format",
                ));
            };
            match conv {
                '%' => literal.push('%'),
                'n' => literal.push('\n'),
                't' => literal.push('\t'),
                c if DIRECTIVES.contains(c) => {
                    if !literal.is_empty() {
                        items.push(Item::Literal(std::mem::take(&mut literal)));
                    }
                    items.push(Item::Conv(c));
                }
                other => {
                    return Err(FormatError::date(
                        template,
                        at,
                        &format!("%{other}"),
                        "unknown date directive (see zmqx::log::DateFormat for the supported ones)",
                    ));
                }
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(DateFormat {
            template: template.to_owned(),
            items,
        })
    }

    /// The format as given.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Formats an instant in the given time zone.
    pub fn format(&self, time: SystemTime, zone: TimeZone) -> String {
        let mut out = String::with_capacity(self.template.len() + 16);
        self.format_into(&Civil::new(time, zone), &mut out);
        out
    }

    /// Appends the formatted date to `out`.
    pub(super) fn format_into(&self, t: &Civil, out: &mut String) {
        use std::fmt::Write;
        for item in &self.items {
            let c = match item {
                Item::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Item::Conv(c) => *c,
            };
            // Writing into a String cannot fail.
            let _ = match c {
                'Y' => write!(out, "{}", t.year),
                'y' => write!(out, "{:02}", t.year.rem_euclid(100)),
                'C' => write!(out, "{:02}", t.year.div_euclid(100)),
                'm' => write!(out, "{:02}", t.month),
                'd' => write!(out, "{:02}", t.day),
                'e' => write!(out, "{:2}", t.day),
                'j' => write!(out, "{:03}", t.yday),
                'H' => write!(out, "{:02}", t.hour),
                'k' => write!(out, "{:2}", t.hour),
                'I' => write!(out, "{:02}", t.hour12()),
                'l' => write!(out, "{:2}", t.hour12()),
                'p' => write!(out, "{}", if t.hour < 12 { "AM" } else { "PM" }),
                'M' => write!(out, "{:02}", t.minute),
                'S' => write!(out, "{:02}", t.second),
                'f' => write!(out, "{:06}", t.nanos / 1000),
                'a' => write!(out, "{}", &WEEKDAYS[usize::from(t.weekday)][..3]),
                'A' => write!(out, "{}", WEEKDAYS[usize::from(t.weekday)]),
                'b' | 'h' => write!(out, "{}", &MONTHS[usize::from(t.month - 1)][..3]),
                'B' => write!(out, "{}", MONTHS[usize::from(t.month - 1)]),
                'u' => write!(out, "{}", if t.weekday == 0 { 7 } else { t.weekday }),
                'w' => write!(out, "{}", t.weekday),
                'U' => write!(out, "{:02}", (t.yday + 6 - u16::from(t.weekday)) / 7),
                'W' => write!(
                    out,
                    "{:02}",
                    (t.yday + 6 - (u16::from(t.weekday) + 6) % 7) / 7
                ),
                'z' => {
                    let sign = if t.offset < 0 { '-' } else { '+' };
                    let off = t.offset.unsigned_abs() / 60;
                    write!(out, "{sign}{:02}{:02}", off / 60, off % 60)
                }
                'Z' => write!(out, "{}", t.zone_name()),
                's' => write!(out, "{}", t.epoch_secs),
                'F' => write!(out, "{}-{:02}-{:02}", t.year, t.month, t.day),
                'T' | 'X' => write!(out, "{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
                'D' | 'x' => write!(
                    out,
                    "{:02}/{:02}/{:02}",
                    t.month,
                    t.day,
                    t.year.rem_euclid(100)
                ),
                'R' => write!(out, "{:02}:{:02}", t.hour, t.minute),
                'r' => write!(
                    out,
                    "{:02}:{:02}:{:02} {}",
                    t.hour12(),
                    t.minute,
                    t.second,
                    if t.hour < 12 { "AM" } else { "PM" }
                ),
                'c' => write!(
                    out,
                    "{} {} {:2} {:02}:{:02}:{:02} {}",
                    &WEEKDAYS[usize::from(t.weekday)][..3],
                    &MONTHS[usize::from(t.month - 1)][..3],
                    t.day,
                    t.hour,
                    t.minute,
                    t.second,
                    t.year
                ),
                // `DateFormat::new` admits only the letters above.
                _ => Ok(()),
            };
        }
    }
}

impl std::str::FromStr for DateFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<DateFormat, FormatError> {
        DateFormat::new(s)
    }
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// An instant broken down in a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: u8,
    pub(super) day: u8,
    pub(super) hour: u8,
    pub(super) minute: u8,
    pub(super) second: u8,
    pub(super) nanos: u32,
    /// 0 = Sunday.
    pub(super) weekday: u8,
    /// 1–366.
    pub(super) yday: u16,
    /// Seconds east of UTC.
    pub(super) offset: i32,
    zone: [u8; 15],
    zone_len: u8,
    epoch_secs: i64,
}

/// The last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(i) % 10) as u8));
    }
}

/// `sys::local_parts`, remembered per thread for the last second asked:
/// records come many per second, and `localtime_r` takes a lock. (Like
/// glibc's `localtime_r`, this does not notice a change of `TZ` while the
/// process runs.)
fn local_parts_cached(secs: i64) -> Option<sys::LocalParts> {
    thread_local! {
        static LAST: std::cell::Cell<Option<(i64, sys::LocalParts)>> =
            const { std::cell::Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some((at, parts)) if at == secs => Some(parts),
        _ => {
            let parts = sys::local_parts(secs)?;
            last.set(Some((secs, parts)));
            Some(parts)
        }
    })
}

/// Seconds and nanoseconds since the Unix epoch, the seconds rounded down
/// (so an instant before 1970 has a positive nanosecond part).
pub(super) fn epoch_parts(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

impl Civil {
    pub(super) fn new(time: SystemTime, zone: TimeZone) -> Civil {
        let (secs, nanos) = epoch_parts(time);
        if zone == TimeZone::Local {
            if let Some(p) = local_parts_cached(secs) {
                return Civil {
                    year: p.year,
                    month: p.month,
                    day: p.day,
                    hour: p.hour,
                    minute: p.minute,
                    second: p.second,
                    nanos,
                    weekday: p.weekday,
                    yday: p.yday,
                    offset: p.offset,
                    zone: p.zone,
                    zone_len: p.zone_len,
                    epoch_secs: secs,
                };
            }
        }
        Civil::utc(secs, nanos)
    }

    /// UTC by civil-date arithmetic (days to year/month/day as in Howard
    /// Hinnant's `civil_from_days`), valid for every `i64` of seconds.
    fn utc(secs: i64, nanos: u32) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1
        let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        // Day of the year from the March-based day: March 1 is day 60 (61 in
        // a leap year) of its year.
        let yday = if month <= 2 {
            doy - 306
        } else {
            doy + 59 + i64::from(leap)
        } + 1;
        Civil {
            year,
            month: month as u8,
            day: day as u8,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            nanos,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u8,
            yday: yday as u16,
            offset: 0,
            zone: *b"UTC\0\0\0\0\0\0\0\0\0\0\0\0",
            zone_len: 3,
            epoch_secs: secs,
        }
    }

    /// Python's default `asctime`: `2024-06-11 14:03:05,042`.
    pub(super) fn push_asctime(&self, out: &mut String) {
        if (1000..10_000).contains(&self.year) {
            push_digits(out, self.year as u32, 4);
        } else {
            let _ = std::fmt::Write::write_fmt(out, format_args!("{}", self.year));
        }
        out.push('-');
        push_digits(out, u32::from(self.month), 2);
        out.push('-');
        push_digits(out, u32::from(self.day), 2);
        out.push(' ');
        push_digits(out, u32::from(self.hour), 2);
        out.push(':');
        push_digits(out, u32::from(self.minute), 2);
        out.push(':');
        push_digits(out, u32::from(self.second), 2);
        out.push(',');
        push_digits(out, self.nanos / 1_000_000, 3);
    }

    fn hour12(&self) -> u8 {
        match self.hour % 12 {
            0 => 12,
            h => h,
        }
    }

    fn zone_name(&self) -> &str {
        std::str::from_utf8(&self.zone[..usize::from(self.zone_len)]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> SystemTime {
        if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        }
    }

    fn utc(fmt: &str, secs: i64) -> String {
        DateFormat::new(fmt)
            .expect(fmt)
            .format(at(secs), TimeZone::Utc)
    }

    #[test]
    fn year_month_day_in_that_order() {
        // 2024-06-11 14:03:05 UTC, a day number that is not a month number.
        assert_eq!(utc(LOGWATCH_DATEFORMAT, 1_718_114_585), "2024-06-11 14:03");
        assert_eq!(
            utc(PYZMQ_LOGWATCH_DATEFORMAT, 1_718_114_585),
            "2024-11-06 14:03"
        );
    }

    #[test]
    fn civil_dates_around_edges() {
        let cases = [
            (0, "1970-01-01 00:00:00 Thu 001"),
            (-1, "1969-12-31 23:59:59 Wed 365"),
            (951_782_400, "2000-02-29 00:00:00 Tue 060"),
            (951_868_800, "2000-03-01 00:00:00 Wed 061"),
            (1_709_164_800, "2024-02-29 00:00:00 Thu 060"),
            (1_735_689_599, "2024-12-31 23:59:59 Tue 366"),
            (4_107_542_400, "2100-03-01 00:00:00 Mon 060"),
            (-62_135_596_800, "1-01-01 00:00:00 Mon 001"),
        ];
        for (secs, want) in cases {
            assert_eq!(utc("%Y-%m-%d %H:%M:%S %a %j", secs), want, "{secs}");
        }
    }

    #[test]
    fn every_directive() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_718_114_585_042_817_999);
        let f = |fmt: &str| DateFormat::new(fmt).expect(fmt).format(t, TimeZone::Utc);
        assert_eq!(f("%y %C %e %k %I %l %p %f"), "24 20 11 14 02  2 PM 042817");
        assert_eq!(f("%A %B %h %u %w %U %W"), "Tuesday June Jun 2 2 23 24");
        assert_eq!(f("%z %Z %s"), "+0000 UTC 1718114585");
        assert_eq!(
            f("%F %T %D %R %r"),
            "2024-06-11 14:03:05 06/11/24 14:03 02:03:05 PM"
        );
        assert_eq!(f("%c|%x|%X"), "Tue Jun 11 14:03:05 2024|06/11/24|14:03:05");
        assert_eq!(f("a%nb%tc%%d"), "a\nb\tc%d");
        assert_eq!(f("héllo"), "héllo");
        assert_eq!(f(""), "");
    }

    #[test]
    fn unknown_directives_are_refused_by_name() {
        for (fmt, directive, at) in [
            ("%Y-%Q", "%Q", 3),
            ("%-d", "%-", 0),
            ("x%", "%", 1),
            ("%é", "%é", 0),
        ] {
            let e = DateFormat::new(fmt).expect_err(fmt);
            assert_eq!(e.directive(), directive, "{fmt}");
            assert_eq!(e.position(), at, "{fmt}");
            assert!(e.to_string().contains(directive), "{e}");
        }
    }

    #[test]
    fn local_time_agrees_with_utc_plus_offset() {
        let t = at(1_718_114_585);
        let local = Civil::new(t, TimeZone::Local);
        let shifted = Civil::utc(1_718_114_585 + i64::from(local.offset), 0);
        assert_eq!(
            (
                local.year,
                local.month,
                local.day,
                local.hour,
                local.minute,
                local.second
            ),
            (
                shifted.year,
                shifted.month,
                shifted.day,
                shifted.hour,
                shifted.minute,
                shifted.second
            )
        );
        assert_eq!((local.weekday, local.yday), (shifted.weekday, shifted.yday));
    }
}
