//! Timestamps for `logwatch`: a strftime-style format checked when the
//! arguments are parsed, civil dates computed in Rust for UTC, and the local
//! UTC offset from the C library (`localtime_r`) for `--local-time`.
//!
//! The directives (C locale, the subset of Python's `strftime` that means
//! the same on every platform, plus a few GNU ones):
//!
//! | directive | meaning | example |
//! |---|---|---|
//! | `%Y` | year | `2024` |
//! | `%y` | year in the century, 2 digits | `24` |
//! | `%m` | month, 2 digits | `02` |
//! | `%d` | day of the month, 2 digits | `09` |
//! | `%e` | day of the month, space-padded | ` 9` |
//! | `%j` | day of the year, 3 digits | `040` |
//! | `%H` | hour (00–23) | `13` |
//! | `%I` | hour (01–12) | `01` |
//! | `%p` | `AM` or `PM` | `PM` |
//! | `%M` | minute | `05` |
//! | `%S` | second | `09` |
//! | `%f` | microseconds, 6 digits (Python) | `123456` |
//! | `%a` / `%A` | weekday, short / full | `Fri` / `Friday` |
//! | `%b` / `%B` | month name, short / full | `Feb` / `February` |
//! | `%w` / `%u` | weekday number, Sunday 0 / Monday 1 (ISO) | `5` / `5` |
//! | `%z` | UTC offset `+HHMM` | `+0000`, `+0530` |
//! | `%Z` | zone name: `UTC`, or the local zone's abbreviation | `CET` |
//! | `%s` | seconds since 1970-01-01 UTC (GNU) | `1707483909` |
//! | `%F` / `%T` | `%Y-%m-%d` / `%H:%M:%S` | |
//! | `%%` | a `%` | |
//!
//! Any other directive is refused when the arguments are parsed.

use std::time::{SystemTime, UNIX_EPOCH};

/// The directives [`DateFormat`] knows.
pub const DIRECTIVES: &str = "YymdejHIpMSfaAbBwuzZsFT%";

/// A checked strftime-style format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateFormat {
    items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Text(String),
    Directive(char),
}

impl DateFormat {
    /// Parses a format, refusing unknown directives and a lone `%` at the end.
    pub fn parse(fmt: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut text = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some(d) if DIRECTIVES.contains(d) => {
                    if !text.is_empty() {
                        items.push(Item::Text(std::mem::take(&mut text)));
                    }
                    items.push(Item::Directive(d));
                }
                Some(d) => {
                    return Err(format!(
                        "unknown date directive %{d} in {fmt:?} (known: {})",
                        known()
                    ));
                }
                None => return Err(format!("{fmt:?} ends with a lone %")),
            }
        }
        if !text.is_empty() {
            items.push(Item::Text(text));
        }
        Ok(DateFormat { items })
    }

    /// Formats `at` in UTC, or in the local time zone when `local` (falling
    /// back to UTC if the C library cannot tell the offset).
    pub fn format(&self, at: SystemTime, local: bool) -> String {
        let (secs, micros) = match at.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
            Err(e) => {
                // Before 1970: floor to the second below.
                let d = e.duration();
                let (s, us) = (d.as_secs() as i64, d.subsec_micros());
                if us == 0 {
                    (-s, 0)
                } else {
                    (-s - 1, 1_000_000 - us)
                }
            }
        };
        let (offset, zone) = if local {
            local_offset(secs).unwrap_or((0, "UTC".to_owned()))
        } else {
            (0, "UTC".to_owned())
        };
        let t = Civil::at(secs + offset);
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Text(s) => out.push_str(s),
                Item::Directive(d) => t.push(&mut out, *d, micros, secs, offset, &zone),
            }
        }
        out
    }
}

/// The known directives, for messages: `%Y %y …`.
fn known() -> String {
    DIRECTIVES
        .chars()
        .map(|d| format!("%{d}"))
        .collect::<Vec<_>>()
        .join(" ")
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

/// A wall-clock time broken down (proleptic Gregorian calendar).
#[derive(Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    /// 1–12.
    month: u32,
    /// 1–31.
    day: u32,
    /// 1–366.
    yday: u32,
    /// 0 = Sunday.
    wday: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// The civil time `secs` seconds after 1970-01-01 00:00:00.
    fn at(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rest = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            yday: (days - days_from_civil(year, 1, 1) + 1) as u32,
            // 1970-01-01 was a Thursday.
            wday: (days + 4).rem_euclid(7) as u32,
            hour: rest / 3600,
            minute: rest % 3600 / 60,
            second: rest % 60,
        }
    }

    fn push(&self, out: &mut String, d: char, micros: u32, epoch: i64, offset: i64, zone: &str) {
        use std::fmt::Write;
        let hour12 = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        let weekday = WEEKDAYS[self.wday as usize];
        let month = MONTHS[self.month as usize - 1];
        let _ = match d {
            'Y' => write!(out, "{:04}", self.year),
            'y' => write!(out, "{:02}", self.year.rem_euclid(100)),
            'm' => write!(out, "{:02}", self.month),
            'd' => write!(out, "{:02}", self.day),
            'e' => write!(out, "{:2}", self.day),
            'j' => write!(out, "{:03}", self.yday),
            'H' => write!(out, "{:02}", self.hour),
            'I' => write!(out, "{hour12:02}"),
            'p' => out.write_str(if self.hour < 12 { "AM" } else { "PM" }),
            'M' => write!(out, "{:02}", self.minute),
            'S' => write!(out, "{:02}", self.second),
            'f' => write!(out, "{micros:06}"),
            'a' => out.write_str(&weekday[..3]),
            'A' => out.write_str(weekday),
            'b' => out.write_str(&month[..3]),
            'B' => out.write_str(month),
            'w' => write!(out, "{}", self.wday),
            'u' => write!(out, "{}", if self.wday == 0 { 7 } else { self.wday }),
            'z' => {
                let sign = if offset < 0 { '-' } else { '+' };
                let m = offset.unsigned_abs() / 60;
                write!(out, "{sign}{:02}{:02}", m / 60, m % 60)
            }
            'Z' => out.write_str(zone),
            's' => write!(out, "{epoch}"),
            'F' => write!(out, "{:04}-{:02}-{:02}", self.year, self.month, self.day),
            'T' => write!(
                out,
                "{:02}:{:02}:{:02}",
                self.hour, self.minute, self.second
            ),
            _ => out.write_char('%'),
        };
    }
}

/// Year, month (1–12) and day (1–31) of a day number (days since
/// 1970-01-01), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The local time zone's offset from UTC (seconds east) and abbreviation at
/// `secs` since the epoch, from the C library's time zone database (`TZ`,
/// `/etc/localtime`).
#[cfg(unix)]
#[allow(unsafe_code)]
// time_t and tm_gmtoff are 32 bits on some targets: the conversions are
// real there.
#[allow(clippy::useless_conversion)]
fn local_offset(secs: i64) -> Option<(i64, String)> {
    let t: libc::time_t = secs.try_into().ok()?;
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: `t` and `tm` are valid for the call; localtime_r is the
    // reentrant form (it writes only into `tm`) and returns null on failure.
    let filled = unsafe { libc::localtime_r(&t, tm.as_mut_ptr()) };
    if filled.is_null() {
        return None;
    }
    // SAFETY: localtime_r succeeded, so it filled every field of `tm` (and
    // `tm` was zeroed before, a valid `struct tm` in itself).
    let tm = unsafe { tm.assume_init() };
    let zone = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null tm_zone points to a NUL-terminated string held
        // by the C library's time zone state, which nothing changes while
        // we copy it (this program never calls tzset or sets TZ).
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    Some((i64::from(tm.tm_gmtoff), zone))
}

/// Without a C library time zone database: UTC.
#[cfg(not(unix))]
fn local_offset(_secs: i64) -> Option<(i64, String)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros)
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn the_default_format_is_year_month_day() -> Result<(), String> {
        // 2024-02-09 13:05:09.123456 UTC: a day below 13, so a day/month
        // swap would still look like a date.
        let t = at(1_707_483_909, 123_456);
        assert_eq!(
            DateFormat::parse("%Y-%m-%d %H:%M")?.format(t, false),
            "2024-02-09 13:05"
        );
        Ok(())
    }

    #[test]
    fn every_directive() -> Result<(), String> {
        let t = at(1_707_483_909, 123_456);
        let f = DateFormat::parse(
            "%Y|%y|%m|%d|%e|%j|%H|%I|%p|%M|%S|%f|%a|%A|%b|%B|%w|%u|%z|%Z|%s|%F|%T|%%",
        )?;
        assert_eq!(
            f.format(t, false),
            "2024|24|02|09| 9|040|13|01|PM|05|09|123456|Fri|Friday|Feb|February|5|5|+0000|UTC|1707483909|2024-02-09|13:05:09|%"
        );
        // Midnight, a Sunday, the last day of a leap year.
        let t = at(1_735_603_200, 7);
        let f = DateFormat::parse("%F %I %p %j %w %u %a %f")?;
        assert_eq!(f.format(t, false), "2024-12-31 12 AM 366 2 2 Tue 000007");
        let sunday = at(1_735_430_400, 0);
        assert_eq!(
            DateFormat::parse("%a %w %u")?.format(sunday, false),
            "Sun 0 7"
        );
        Ok(())
    }

    #[test]
    fn bad_formats() {
        for bad in ["%Q", "%", "abc%", "%E", "%-d"] {
            assert!(DateFormat::parse(bad).is_err(), "{bad}");
        }
        let e = DateFormat::parse("%Y %Q").unwrap_err();
        assert!(e.contains("%Q") && e.contains("%Y"), "{e}");
    }

    #[test]
    fn text_passes_through() -> Result<(), String> {
        let f = DateFormat::parse("[é %% x]")?;
        assert_eq!(f.format(at(0, 0), false), "[é % x]");
        Ok(())
    }
}
