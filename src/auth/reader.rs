//! Reading certificate files as pyzmq and czmq write them: strict about the
//! keys, lenient about the metadata.
//!
//! The files are [ZPL](super::zpl), but neither writer escapes what it
//! writes: pyzmq writes `    full name = Alice Smith` (a name with a space,
//! a value unquoted, a line break in a value as is), czmq writes
//! `    quote = "say "hi""` (quotes inside quotes, a line break inside the
//! quotes). A strict ZPL parser refuses such files although both keys in
//! them are fine, so certificates are read line by line here:
//!
//! - A line that is not indented is a section name (`metadata`, `curve`,
//!   or another section, which is skipped); lines starting with `#` are
//!   comments; the indentation of the other lines does not matter (pyzmq
//!   strips it).
//! - **Keys**: `public-key` and `secret-key` count only in the `curve`
//!   section, each at most once. Each is `name = value` where the value is
//!   exactly 40 characters of Z85, in quotes or bare, followed by nothing
//!   but a comment. Anything else about a key is an error naming its line.
//! - **Metadata**: an indented line with a `=` is an entry; its name is the
//!   text before the first `=` (spaces allowed), its value the rest of the
//!   line. A value in quotes loses them, even when it holds the same quote
//!   inside (czmq); a quote opened and closed on a later line takes the
//!   lines in between, line breaks included (czmq). An unquoted value is
//!   taken as it is, `#` included, and the lines after it that are neither
//!   entries, comments nor section names continue it (pyzmq writes a line
//!   break in a value as is). Invalid UTF-8 in metadata is replaced with
//!   U+FFFD. Nothing in the metadata section is an error.
#![forbid(unsafe_code)]

use std::borrow::Cow;

use super::zpl::is_name_char;
use crate::curve::CurveKey;

/// What a certificate file holds.
#[derive(Debug)]
pub(super) struct Contents {
    pub(super) public: CurveKey,
    pub(super) secret: Option<CurveKey>,
    /// The line of `secret-key`, when there is one.
    pub(super) secret_line: Option<usize>,
    pub(super) metadata: Vec<(String, String)>,
}

/// Why a file is refused: the line of the problem (when it is on one) and
/// what is wrong.
pub(super) type Problem = (Option<usize>, String);

/// One line of the file, with the line break that ended it.
struct Line<'a> {
    number: usize,
    text: Cow<'a, str>,
    /// `"\n"`, `"\r\n"`, `"\r"`, or `""` for a last line without one.
    end: &'static str,
}

const BLANKS: [char; 2] = [' ', '\t'];

/// The lines of `bytes` (LF, CRLF and a lone CR all end a line), without a
/// leading UTF-8 byte order mark.
fn split_lines(bytes: &[u8]) -> Vec<Line<'_>> {
    let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = Vec::new();
    while !rest.is_empty() {
        let stop = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        let (text, tail) = rest.split_at(stop);
        let (end, tail): (&'static str, &[u8]) = match tail {
            [b'\r', b'\n', tail @ ..] => ("\r\n", tail),
            [b'\n', tail @ ..] => ("\n", tail),
            [b'\r', tail @ ..] => ("\r", tail),
            _ => ("", tail),
        };
        lines.push(Line {
            number: lines.len() + 1,
            text: String::from_utf8_lossy(text),
            end,
        });
        rest = tail;
    }
    lines
}

fn is_indented(text: &str) -> bool {
    text.starts_with(BLANKS)
}

fn is_blank(text: &str) -> bool {
    text.trim_matches(BLANKS).is_empty()
}

fn is_comment(text: &str) -> bool {
    text.trim_start_matches(BLANKS).starts_with('#')
}

/// The section a line opens: the name of a line that is not indented and
/// holds a name alone (maybe with a comment).
fn section_name(text: &str) -> Option<&str> {
    if is_indented(text) {
        return None;
    }
    let len = text.find(|c| !is_name_char(c)).unwrap_or(text.len());
    let (name, rest) = text.split_at(len);
    let rest = rest.trim_start_matches(BLANKS);
    (!name.is_empty() && (rest.is_empty() || rest.starts_with('#'))).then_some(name)
}

/// Whether a line opens one of the two sections of a certificate.
fn is_known_section(text: &str) -> bool {
    matches!(section_name(text), Some("curve" | "metadata"))
}

/// An indented `name = value` line: the name and the text after `=`.
fn metadata_entry(text: &str) -> Option<(&str, &str)> {
    if !is_indented(text) || is_comment(text) {
        return None;
    }
    let (name, value) = text.split_once('=')?;
    let name = name.trim_matches(BLANKS);
    (!name.is_empty()).then(|| (name, value.trim_start_matches(BLANKS)))
}

/// Which key a line of the `curve` section sets, if any.
fn key_name(text: &str) -> Option<&'static str> {
    let body = text.trim_start_matches(BLANKS);
    ["public-key", "secret-key"].into_iter().find(|name| {
        body.strip_prefix(name)
            .is_some_and(|rest| !rest.starts_with(is_name_char))
    })
}

/// Parses the key on a line of the `curve` section (strictly).
fn key_value(line: &Line<'_>, name: &str) -> Result<CurveKey, Problem> {
    let fail = |why: String| (Some(line.number), format!("{name}: {why}"));
    let body = line.text.trim_start_matches(BLANKS);
    let rest = body[name.len()..].trim_start_matches(BLANKS);
    let Some(value) = rest.strip_prefix('=') else {
        return Err(fail("expected '=' after the name".to_string()));
    };
    let value = value.trim_start_matches(BLANKS);
    let (z85, after) = match value.chars().next() {
        Some(quote @ ('"' | '\'')) => match value[1..].find(quote) {
            Some(close) => (&value[1..1 + close], &value[2 + close..]),
            None => return Err(fail(format!("the {quote} quote is not closed"))),
        },
        _ => value.split_at(value.find(BLANKS).unwrap_or(value.len())),
    };
    let after = after.trim_start_matches(BLANKS);
    if !after.is_empty() && !after.starts_with('#') {
        return Err(fail(format!("unexpected text after the key: {after:?}")));
    }
    CurveKey::from_z85(z85).map_err(|e| fail(e.to_string()))
}

/// A metadata value read from the text after `=`, and how many of the
/// following lines (from `next`) it took.
struct Value {
    text: String,
    lines_taken: usize,
    /// Unquoted: later lines that are not entries continue it (pyzmq).
    unquoted: bool,
}

fn metadata_value(rest: &str, lines: &[Line<'_>], next: usize) -> Value {
    let single = |text: &str, unquoted| Value {
        text: text.to_string(),
        lines_taken: 0,
        unquoted,
    };
    let value = rest.trim_end_matches(BLANKS);
    let Some(quote) = value.chars().next().filter(|&c| c == '"' || c == '\'') else {
        return single(value, true);
    };
    let inner = &value[1..];
    // Quoted to the end of the line, whatever is inside (czmq).
    if let Some(text) = inner.strip_suffix(quote) {
        return single(text, false);
    }
    // Closed, then a comment (RFC 4); closed, then other text: as it is.
    if let Some(close) = inner.find(quote) {
        let after = inner[close + 1..].trim_start_matches(BLANKS);
        return if after.starts_with('#') {
            single(&inner[..close], false)
        } else {
            single(value, false)
        };
    }
    // Opened and not closed: czmq writes a line break in a value as is,
    // so the value goes on to the line that ends with the quote.
    let mut text = inner.to_string();
    let mut end = lines[next - 1].end;
    for (taken, line) in lines[next..].iter().enumerate() {
        if is_known_section(&line.text) || metadata_entry(&line.text).is_some() {
            break;
        }
        text.push_str(end);
        if let Some(last) = line.text.trim_end_matches(BLANKS).strip_suffix(quote) {
            text.push_str(last);
            return Value {
                text,
                lines_taken: taken + 1,
                unquoted: false,
            };
        }
        text.push_str(&line.text);
        end = line.end;
    }
    // Never closed: the quote is part of the value (RFC 4).
    single(value, false)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before any section, or in one a certificate does not use.
    Other,
    Metadata,
    Curve,
}

/// Reads a certificate file's contents.
pub(super) fn read(bytes: &[u8]) -> Result<Contents, Problem> {
    let lines = split_lines(bytes);
    let mut section = Section::Other;
    let mut curve_line = None;
    let mut public: Option<(usize, CurveKey)> = None;
    let mut secret: Option<(usize, CurveKey)> = None;
    let mut metadata: Vec<(String, String)> = Vec::new();
    // The unquoted metadata value that later lines may continue: its line
    // break so far, and the blank lines seen since.
    let mut open: Option<&'static str> = None;
    let mut blanks: Vec<&Line<'_>> = Vec::new();
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        index += 1;
        let text: &str = &line.text;
        match section_name(text) {
            Some("curve") => {
                section = Section::Curve;
                curve_line.get_or_insert(line.number);
                open = None;
                continue;
            }
            Some("metadata") => {
                section = Section::Metadata;
                open = None;
                continue;
            }
            _ => {}
        }
        match section {
            Section::Other | Section::Curve => {
                if is_blank(text) || is_comment(text) {
                    continue;
                }
                if !is_indented(text) {
                    // Another top-level property: what follows is its own.
                    section = Section::Other;
                    continue;
                }
                if section != Section::Curve {
                    continue;
                }
                let Some(name) = key_name(text) else {
                    continue;
                };
                let key = key_value(line, name)?;
                let slot = if name == "public-key" {
                    &mut public
                } else {
                    &mut secret
                };
                if let Some((first, _)) = slot {
                    return Err((
                        Some(line.number),
                        format!("a second {name} (the first is on line {first})"),
                    ));
                }
                *slot = Some((line.number, key));
            }
            Section::Metadata => {
                if is_blank(text) {
                    if open.is_some() {
                        blanks.push(line);
                    }
                    continue;
                }
                if is_comment(text) {
                    continue;
                }
                if let Some((name, rest)) = metadata_entry(text) {
                    let value = metadata_value(rest, &lines, index);
                    index += value.lines_taken;
                    metadata.push((name.to_string(), value.text));
                    open = value.unquoted.then(|| lines[index - 1].end);
                    blanks.clear();
                    continue;
                }
                // A line break inside an unquoted value (pyzmq).
                if let (Some(end), Some((_, value))) = (open, metadata.last_mut()) {
                    let mut end = end;
                    for blank in blanks.drain(..) {
                        value.push_str(end);
                        value.push_str(&blank.text);
                        end = blank.end;
                    }
                    value.push_str(end);
                    value.push_str(text.trim_end_matches(BLANKS));
                    open = Some(line.end);
                }
            }
        }
    }
    let Some(curve_line) = curve_line else {
        return Err((None, "no \"curve\" section".to_string()));
    };
    let Some((_, public)) = public else {
        return Err((
            Some(curve_line),
            "the \"curve\" section has no public-key".to_string(),
        ));
    };
    Ok(Contents {
        public,
        secret: secret.map(|(_, k)| k),
        secret_line: secret.map(|(line, _)| line),
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    const SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

    fn meta(text: &str) -> Vec<(String, String)> {
        match read(text.as_bytes()) {
            Ok(c) => c.metadata,
            Err(e) => panic!("{text:?}: {e:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn what_pyzmq_writes() {
        // `f"    {k} = {v}\n"` for each metadata item, unquoted.
        let text = format!(
            "#   ****  Generated on 2024-01-01 by pyzmq  ****\n\nmetadata\n    full name = Alice Smith\n    \
             note = line one\nline two\n\n  indented three\n    tag = a # b\n    empty = \ncurve\n    \
             public-key = \"{PUBLIC}\"\n    secret-key = \"{SECRET}\"\n"
        );
        let c = read(text.as_bytes()).expect("reads");
        assert_eq!(c.public.to_z85(), PUBLIC);
        assert_eq!(c.secret.map(|k| k.to_z85()).as_deref(), Some(SECRET));
        assert_eq!(
            c.metadata,
            pairs(&[
                ("full name", "Alice Smith"),
                ("note", "line one\nline two\n\n  indented three"),
                ("tag", "a # b"),
                ("empty", ""),
            ])
        );
    }

    #[test]
    fn what_czmq_writes() {
        // zconfig writes `name = "value"` with the value as it is.
        let text = format!(
            "metadata\r\n    full name = \"Alice Smith\"\r\n    quote = \"say \"hi\" it's\"\r\n    \
             multi = \"line1\r\nline2 two\"\r\n    cr = \"a\rb\"\r\n    hash = \"a # b\"\r\n    \
             empty = \"\"\r\ncurve\r\n    public-key = \"{PUBLIC}\"\r\n"
        );
        assert_eq!(
            meta(&text),
            pairs(&[
                ("full name", "Alice Smith"),
                ("quote", "say \"hi\" it's"),
                ("multi", "line1\r\nline2 two"),
                ("cr", "a\rb"),
                ("hash", "a # b"),
                ("empty", ""),
            ])
        );
    }

    #[test]
    fn quotes_in_metadata() {
        let keys = format!("curve\n    public-key = {PUBLIC}\n");
        let cases = [
            // A comment after the closing quote (RFC 4).
            ("    a = 'x y'   # note\n", "x y"),
            // Closed, then other text: kept as it is.
            ("    a = \"x\" y\n", "\"x\" y"),
            // Never closed before the next entry: the quote is kept.
            ("    a = \"open\n    b = 1\n", "\"open"),
            ("    a = \"\n", "\""),
        ];
        for (lines, value) in cases {
            let m = meta(&format!("metadata\n{lines}{keys}"));
            assert_eq!(m[0], ("a".to_string(), value.to_string()), "{lines:?}");
        }
    }

    #[test]
    fn keys_are_strict() {
        let cases = [
            (format!("curve\n    public-key \"{PUBLIC}\"\n"), 2, "'='"),
            (
                format!("curve\n    public-key = \"{PUBLIC}\n"),
                2,
                "not closed",
            ),
            (
                format!("curve\n    public-key = \"{PUBLIC}\" x\n"),
                2,
                "unexpected",
            ),
            (format!("curve\n    public-key = {PUBLIC}x\n"), 2, "length"),
            (
                format!("curve\n    public-key = \" {PUBLIC}\"\n"),
                2,
                "length",
            ),
            (
                format!("curve\n    public-key = {PUBLIC}\n    public-key = {PUBLIC}\n"),
                3,
                "second public-key",
            ),
            (
                format!("curve\n    public-key = {PUBLIC}\ncurve\n    secret-key = x\n"),
                4,
                "secret-key",
            ),
            (
                format!("curve\n    public-key = {PUBLIC}\ncurve\n    public-key = {PUBLIC}\n"),
                4,
                "line 2",
            ),
        ];
        for (text, line, what) in cases {
            match read(text.as_bytes()) {
                Err((l, reason)) => {
                    assert_eq!(l, Some(line), "{text:?}: {reason}");
                    assert!(reason.contains(what), "{text:?}: {reason}");
                }
                Ok(_) => panic!("accepted {text:?}"),
            }
        }
        // Keys outside the curve section do not count...
        let text = format!("metadata\n    public-key = {PUBLIC}\n");
        assert_eq!(
            read(text.as_bytes()).map(|_| ()),
            Err((None, "no \"curve\" section".to_string()))
        );
        // ...nor in a metadata value that tries to open its own section.
        let text = format!(
            "metadata\n    note = x\ncurvy\n    public-key = {SECRET}\ncurve\n    public-key = {PUBLIC}\n"
        );
        let c = read(text.as_bytes()).expect("reads");
        assert_eq!(c.public.to_z85(), PUBLIC);
    }

    #[test]
    fn lenient_layout() {
        // Tabs, odd indentation, a byte order mark, a comment after a section name.
        let text =
            format!("\u{feff}metadata  # m\n\tname = x\ncurve # c\n  public-key = {PUBLIC}  # k\n");
        let c = read(text.as_bytes()).expect("reads");
        assert_eq!(c.public.to_z85(), PUBLIC);
        assert_eq!(c.metadata, pairs(&[("name", "x")]));
        // Invalid UTF-8 in metadata is replaced.
        let mut bytes = b"metadata\n    n = \xff\ncurve\n".to_vec();
        bytes.extend_from_slice(format!("    public-key = {PUBLIC}\n").as_bytes());
        let c = read(&bytes).expect("reads");
        assert_eq!(c.metadata, pairs(&[("n", "\u{fffd}")]));
    }
}
