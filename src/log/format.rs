//! Python `logging.Formatter` templates (`%`-style), parsed once into
//! pieces and rendered with Python's printf rules.
#![forbid(unsafe_code)]

use super::date::{Civil, DateFormat, TimeZone, epoch_parts};
use super::error::{FormatError, FormatErrorKind};
use super::printf::{Conv, Spec, Value, render};
use super::{Level, LogRecord};

/// A field of a record, by its Python `LogRecord` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Message,
    LevelName,
    LevelNo,
    Name,
    PathName,
    FileName,
    Module,
    LineNo,
    FuncName,
    ExcInfo,
    ExcText,
    StackInfo,
    Created,
    Msecs,
    RelativeCreated,
    Process,
    Thread,
    ThreadName,
    AscTime,
}

/// The Python type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `str`, possibly `None`.
    Text,
    /// `int`, possibly `None` (`lineno`).
    Int,
    /// `float`.
    Float,
}

impl Field {
    fn parse(key: &str) -> Option<Field> {
        Some(match key {
            "message" => Field::Message,
            "levelname" => Field::LevelName,
            "levelno" => Field::LevelNo,
            "name" => Field::Name,
            "pathname" => Field::PathName,
            "filename" => Field::FileName,
            "module" => Field::Module,
            "lineno" => Field::LineNo,
            "funcName" => Field::FuncName,
            "exc_info" => Field::ExcInfo,
            "exc_text" => Field::ExcText,
            "stack_info" => Field::StackInfo,
            "created" => Field::Created,
            "msecs" => Field::Msecs,
            "relativeCreated" => Field::RelativeCreated,
            "process" => Field::Process,
            "thread" => Field::Thread,
            "threadName" => Field::ThreadName,
            "asctime" => Field::AscTime,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Field::LevelNo | Field::LineNo | Field::Process | Field::Thread => Kind::Int,
            Field::Created | Field::Msecs | Field::RelativeCreated => Kind::Float,
            _ => Kind::Text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field, Spec),
}

/// A Python `logging.Formatter` template (`"%(asctime)s %(levelname)-8s
/// %(message)s"`), parsed once at construction.
///
/// # Directives
///
/// Each directive is `%(key)[flags][width][.precision][length]conversion`,
/// formatted as Python's `%` operator formats it:
///
/// - flags, in any order: `-` (left-justify), `0` (pad numbers with zeros
///   after the sign), `+` (always a sign), ` ` (a space before positive
///   numbers), `#` (alternate form: `0o`/`0x` prefixes, a kept decimal point);
/// - width: the minimum number of characters (Unicode code points, as
///   Python's `len`), at most [`Format::MAX_WIDTH`];
/// - precision: the digits after the point (`f`, `e`), the significant
///   digits (`g`), the minimum digits (`d`, `x`, `o`), or the maximum
///   characters of text (`s`, `r`, `a`: `%(message).3s` keeps three);
/// - length `h`, `l` or `L`: accepted and ignored, as Python does;
/// - conversions: `s`, `r` (Python's `repr`; text quoted and escaped), `a`
///   (`ascii`), `d` `i` `u`, `o`, `x` `X`, `f` `F`, `e` `E`, `g` `G`.
///
/// `%%` is a `%`. Refused with a [`FormatError`] naming the directive, at
/// construction rather than at each record as Python does: an unknown field,
/// a directive without a `(key)`, `*` widths, `%c`, a number conversion of a
/// text field (`%(message)d`), `x`/`o` of a float field, and a template that
/// ends inside a directive.
///
/// # Fields
///
/// | field | value |
/// |-------|-------|
/// | `message` | the message (after the `::` subtopic split) |
/// | `levelname`, `levelno` | `WARNING`, `30` |
/// | `name` | the logger name: `log`'s target |
/// | `pathname`, `filename` | the source file, and its last component |
/// | `module` | the Rust module path (`my_app::db`) |
/// | `lineno` | the source line |
/// | `funcName` | [`LogRecord::function`]: `None` from `log` and `tracing`, which do not record the function |
/// | `created` | seconds since the Unix epoch (float) |
/// | `msecs` | the millisecond part of `created` (float, `123.0`) |
/// | `relativeCreated` | milliseconds since `zmqx::log` was first used in the process (float) |
/// | `asctime` | `created` as `2024-06-11 14:03:05,042` in local time, or per [`with_datefmt`](Format::with_datefmt) and [`with_time_zone`](Format::with_time_zone) |
/// | `process` | the process id |
/// | `thread` | the thread's numeric id: the kernel's thread id (`gettid`) on Linux |
/// | `threadName` | the Rust thread's name (`main` for the main thread) |
/// | `exc_info`, `exc_text`, `stack_info` | always `None`: Rust has no exception to attach |
///
/// A field without a value (no file, an unnamed thread) prints `None` as
/// Python prints a `None` (with a number conversion: `None`, padded to the
/// width, where Python would raise). `%(message)r` quotes and escapes as
/// Python's `repr` for ASCII, control characters and the usual invisible
/// characters; a code point that is unassigned in Unicode is kept, where
/// Python would escape it.
///
/// ```
/// use zmqx::log::{Format, Level, LogRecord};
///
/// let f = Format::new("%(levelname)-8s|%(lineno)4d|%(message).3s")?;
/// let mut record = LogRecord::new(Level::Info, "hello");
/// record.line = Some(12);
/// assert_eq!(f.format(&record), "INFO    |  12|hel");
/// assert!(Format::new("%(levelname)8y").is_err());
/// # Ok::<(), zmqx::log::FormatError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    template: String,
    pieces: Vec<Piece>,
    datefmt: Option<DateFormat>,
    zone: TimeZone,
}

impl std::str::FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Format, FormatError> {
        Format::new(s)
    }
}

impl Format {
    /// The largest width or precision a directive may ask for.
    pub const MAX_WIDTH: usize = 4096;

    /// Parses a template (Python's `logging.Formatter(fmt)`); a directive
    /// zmqx cannot format as Python does is a [`FormatError`] naming it.
    pub fn new(template: &str) -> Result<Format, FormatError> {
        Ok(Format {
            template: template.to_owned(),
            pieces: parse(template)?,
            datefmt: None,
            zone: TimeZone::Local,
        })
    }

    /// pyzmq's default for `level` (see the [module docs](super)).
    pub fn pyzmq_default(level: Level) -> Format {
        let template = match level {
            Level::Info => "%(message)s\n",
            Level::Error => "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n",
            _ => "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n",
        };
        Format::new(template).expect("pyzmq's default templates are valid")
    }

    /// The date format of `%(asctime)s` (Python's `Formatter(datefmt=…)`):
    /// with one, `asctime` is exactly that (no `,mmm` is appended, as in
    /// Python); without, it is `%Y-%m-%d %H:%M:%S,mmm`.
    pub fn with_datefmt(mut self, datefmt: DateFormat) -> Format {
        self.datefmt = Some(datefmt);
        self
    }

    /// The time zone of `%(asctime)s`: [`TimeZone::Local`] by default, as
    /// Python's `time.localtime` converter; [`TimeZone::Utc`] is Python's
    /// `Formatter.converter = time.gmtime`.
    pub fn with_time_zone(mut self, zone: TimeZone) -> Format {
        self.zone = zone;
        self
    }

    /// The template.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The date format of `%(asctime)s`, if one was set.
    pub fn datefmt(&self) -> Option<&DateFormat> {
        self.datefmt.as_ref()
    }

    /// The time zone of `%(asctime)s`.
    pub fn time_zone(&self) -> TimeZone {
        self.zone
    }

    /// Whether the template has this field (Python's `usesTime` is
    /// `uses_field("asctime")`); `false` for an unknown name.
    pub fn uses_field(&self, name: &str) -> bool {
        Field::parse(name).is_some_and(|f| self.uses(f))
    }

    fn uses(&self, field: Field) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Field(f, _) if *f == field))
    }

    pub(super) fn uses_thread_name(&self) -> bool {
        self.uses(Field::ThreadName)
    }

    /// Formats a record.
    pub fn format(&self, record: &LogRecord<'_>) -> String {
        let mut out = String::with_capacity(self.template.len() + record.message.len() + 16);
        self.format_into(record, &mut out);
        out
    }

    /// Appends the formatted record to `out` (reusing its allocation).
    pub fn format_into(&self, record: &LogRecord<'_>, out: &mut String) {
        let mut scratch = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                // `%(asctime)s`, straight into `out`.
                Piece::Field(Field::AscTime, spec)
                    if spec.conv == Conv::Str && spec.width == 0 && spec.precision.is_none() =>
                {
                    self.push_asctime(record, out);
                }
                Piece::Field(field, spec) => {
                    let value = self.value(*field, record, &mut scratch);
                    render(spec, value, out);
                }
            }
        }
    }

    /// `asctime` (Python's `Formatter.formatTime`).
    fn push_asctime(&self, r: &LogRecord<'_>, out: &mut String) {
        let civil = Civil::new(r.created, self.zone);
        match &self.datefmt {
            Some(datefmt) => datefmt.format_into(&civil, out),
            None => civil.push_asctime(out),
        }
    }

    fn value<'s>(&self, field: Field, r: &LogRecord<'s>, scratch: &'s mut String) -> Value<'s> {
        let text = |v: Option<&'s str>| v.map_or(Value::None, Value::Text);
        match field {
            Field::Message => Value::Text(r.message),
            Field::LevelName => Value::Text(r.level.name()),
            Field::LevelNo => Value::Int(i128::from(r.level.number())),
            Field::Name => Value::Text(r.target),
            Field::PathName => text(r.file),
            Field::FileName => text(r.file.map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))),
            Field::Module => text(r.module),
            Field::LineNo => r.line.map_or(Value::None, |l| Value::Int(i128::from(l))),
            Field::FuncName => text(r.function),
            Field::ExcInfo | Field::ExcText | Field::StackInfo => Value::None,
            Field::Created => Value::Float(r.created_secs()),
            Field::Msecs => Value::Float(f64::from(epoch_parts(r.created).1 / 1_000_000)),
            Field::RelativeCreated => Value::Float(r.relative_created_ms()),
            Field::Process => Value::Int(i128::from(r.process)),
            Field::Thread => Value::Int(i128::from(r.thread)),
            Field::ThreadName => text(r.thread_name),
            Field::AscTime => {
                scratch.clear();
                self.push_asctime(r, scratch);
                Value::Text(scratch.as_str())
            }
        }
    }
}

fn parse(template: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(off) = template[i..].find('%') else {
            literal.push_str(&template[i..]);
            break;
        };
        literal.push_str(&template[i..i + off]);
        let start = i + off;
        if bytes.get(start + 1) == Some(&b'%') {
            literal.push('%');
            i = start + 2;
            continue;
        }
        let (field, spec, end) = parse_directive(template, start)?;
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(Piece::Field(field, spec));
        i = end;
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// Parses the directive starting at the `%` at `start`; returns it and the
/// byte offset after it.
fn parse_directive(template: &str, start: usize) -> Result<(Field, Spec, usize), FormatError> {
    use FormatErrorKind as K;
    let bytes = template.as_bytes();
    // The directive as written so far, for errors: up to `end`, or up to the
    // end of the next character when the error is about that character.
    let directive = |end: usize| {
        let end = (end..=template.len())
            .find(|&e| template.is_char_boundary(e))
            .unwrap_or(template.len());
        &template[start..end]
    };
    let err = |end: usize, kind, reason: &str| {
        FormatError::new(template, start, directive(end), kind, reason)
    };
    let incomplete = || {
        err(
            template.len(),
            K::Incomplete,
            "the template ends inside this directive",
        )
    };

    let mut i = start + 1;
    if bytes.get(i) != Some(&b'(') {
        // Name the whole positional directive (`% d`, `%-5s`).
        let mut end = i;
        while bytes
            .get(end)
            .is_some_and(|c| b"-0+ #*.123456789hlL".contains(c))
        {
            end += 1;
        }
        return Err(if end >= bytes.len() {
            incomplete()
        } else {
            err(
                end + 1,
                K::NoFieldName,
                "a log template names every field, as `%(message)s`",
            )
        });
    }
    // The key, with Python's nesting of parentheses.
    let key_start = i + 1;
    let mut depth = 1;
    i = key_start;
    while depth > 0 {
        match bytes.get(i) {
            None => return Err(incomplete()),
            Some(b'(') => depth += 1,
            Some(b')') => depth -= 1,
            Some(_) => {}
        }
        i += 1;
    }
    let key = &template[key_start..i - 1];

    let mut spec = Spec {
        conv: Conv::Str,
        upper: false,
        left: false,
        zero: false,
        plus: false,
        space: false,
        alt: false,
        width: 0,
        precision: None,
    };
    while let Some(&c) = bytes.get(i) {
        match c {
            b'-' => spec.left = true,
            b'0' => spec.zero = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.alt = true,
            _ => break,
        }
        i += 1;
    }
    let number = |i: &mut usize| -> Result<Option<usize>, FormatError> {
        let from = *i;
        if bytes.get(from) == Some(&b'*') {
            return Err(err(
                from + 1,
                K::StarWidth,
                "`*` takes the width from an argument, and a log record has none",
            ));
        }
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        if *i == from {
            return Ok(None);
        }
        match template[from..*i].parse::<usize>() {
            Ok(n) if n <= Format::MAX_WIDTH => Ok(Some(n)),
            _ => Err(err(
                *i,
                K::TooWide,
                &format!("widths and precisions go up to {}", Format::MAX_WIDTH),
            )),
        }
    };
    spec.width = number(&mut i)?.unwrap_or(0);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        // Python reads `%.s` as precision 0.
        spec.precision = Some(number(&mut i)?.unwrap_or(0));
    }
    if matches!(bytes.get(i), Some(b'h' | b'l' | b'L')) {
        i += 1;
    }
    let Some(conv) = template[i..].chars().next() else {
        return Err(incomplete());
    };
    let end = i + conv.len_utf8();
    spec.upper = conv.is_ascii_uppercase();
    spec.conv = match conv {
        's' => Conv::Str,
        'r' => Conv::Repr,
        'a' => Conv::Ascii,
        'd' | 'i' | 'u' => Conv::Dec,
        'o' => Conv::Oct,
        'x' | 'X' => Conv::Hex,
        'f' | 'F' => Conv::Fixed,
        'e' | 'E' => Conv::Exp,
        'g' | 'G' => Conv::General,
        'c' => {
            return Err(err(
                end,
                K::UnsupportedConversion,
                "`%c` (a character from a number) is not supported in log templates",
            ));
        }
        _ => {
            return Err(err(
                end,
                K::UnsupportedConversion,
                "unknown conversion: use one of s r a d i u o x X f F e E g G",
            ));
        }
    };
    let field = Field::parse(key).ok_or_else(|| {
        err(
            end,
            K::UnknownField,
            "unknown field: message, levelname, levelno, name, pathname, filename, module, \
             lineno, funcName, created, msecs, relativeCreated, asctime, process, thread, \
             threadName, exc_info, exc_text, stack_info",
        )
    })?;
    let kind = field.kind();
    let numeric = !matches!(spec.conv, Conv::Str | Conv::Repr | Conv::Ascii);
    if numeric && kind == Kind::Text {
        return Err(err(
            end,
            K::WrongType,
            &format!("`{key}` is text: format it with `s`, `r` or `a`"),
        ));
    }
    if matches!(spec.conv, Conv::Oct | Conv::Hex) && kind == Kind::Float {
        return Err(err(
            end,
            K::WrongType,
            &format!("`{key}` is a float: `o`, `x` and `X` need an integer"),
        ));
    }
    Ok((field, spec, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> LogRecord<'static> {
        let mut r = LogRecord::new(Level::Info, "hello");
        r.line = Some(12);
        r
    }

    fn fmt(template: &str, r: &LogRecord<'_>) -> String {
        Format::new(template).expect(template).format(r)
    }

    #[test]
    fn width_precision_and_flags() {
        let r = rec();
        assert_eq!(
            fmt("%(levelname)-8s|%(lineno)4d|%(message).3s", &r),
            "INFO    |  12|hel"
        );
        assert_eq!(
            fmt("%(lineno)05d|%(lineno)-5d|%(lineno)+d|%(lineno) d", &r),
            "00012|12   |+12| 12"
        );
        assert_eq!(
            fmt("%(lineno)#x|%(lineno)#X|%(lineno)#o|%(lineno)#06x", &r),
            "0xc|0XC|0o14|0x000c"
        );
        assert_eq!(
            fmt("%(lineno).3d|%(lineno)05.3d|%(lineno)ld", &r),
            "012|00012|12"
        );
        assert_eq!(
            fmt("%(lineno).2f|%(lineno)e|%(lineno)g|%(lineno)#g", &r),
            "12.00|1.200000e+01|12|12.0000"
        );
        assert_eq!(
            fmt("%(levelname)10.2s|%(levelname)05s|%(levelname)r", &r),
            "        IN| INFO|'INFO'"
        );
        assert_eq!(fmt("100%% %(message)s%%", &r), "100% hello%");
    }

    #[test]
    fn bad_directives_are_named() {
        use FormatErrorKind as K;
        let cases = [
            (
                "x %(levelname)8y",
                "%(levelname)8y",
                2,
                K::UnsupportedConversion,
            ),
            ("%(lineno)c", "%(lineno)c", 0, K::UnsupportedConversion),
            ("%(msg)s", "%(msg)s", 0, K::UnknownField),
            ("%(message)d", "%(message)d", 0, K::WrongType),
            ("%(created)x", "%(created)x", 0, K::WrongType),
            ("a %s", "%s", 2, K::NoFieldName),
            ("100%", "%", 3, K::Incomplete),
            ("%(message", "%(message", 0, K::Incomplete),
            ("%(message)-", "%(message)-", 0, K::Incomplete),
            ("%(message)*s", "%(message)*", 0, K::StarWidth),
            ("%(message).*s", "%(message).*", 0, K::StarWidth),
            ("%(message)99999s", "%(message)99999", 0, K::TooWide),
            (
                "%(message)99999999999999999999999s",
                "%(message)99999999999999999999999",
                0,
                K::TooWide,
            ),
            ("%(message)lls", "%(message)ll", 0, K::UnsupportedConversion),
            ("%(message)é", "%(message)é", 0, K::UnsupportedConversion),
            ("é%é", "%é", 2, K::NoFieldName),
        ];
        for (template, directive, at, kind) in cases {
            let e = Format::new(template).expect_err(template);
            assert_eq!(
                (e.directive(), e.position(), e.kind()),
                (directive, at, kind),
                "{template}"
            );
            assert!(e.to_string().contains(directive), "{e}");
            let core: crate::Error = e.into();
            assert!(matches!(core, crate::Error::InvalidInput { .. }));
        }
    }

    #[test]
    fn missing_values_print_none() {
        let mut r = rec();
        r.line = None;
        assert_eq!(
            fmt("%(lineno)5d|%(lineno)-5x|%(funcName)s|%(exc_info).2s", &r),
            " None|None |None|No"
        );
    }

    #[test]
    fn default_templates_parse() {
        for level in Level::ALL {
            let f = Format::pyzmq_default(level);
            assert!(f.uses_field("message") && !f.uses_field("asctime"));
        }
    }
}
