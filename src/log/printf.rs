//! Python's printf-style `%` formatting of one value (`str % mapping`):
//! flags, width, precision and conversion, with Python's `str`, `repr`
//! and float formatting.
#![forbid(unsafe_code)]

use std::fmt::Write;

/// A conversion letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Conv {
    /// `s`: `str(value)`.
    Str,
    /// `r`: `repr(value)`.
    Repr,
    /// `a`: `ascii(value)`.
    Ascii,
    /// `d`, `i`, `u`.
    Dec,
    /// `o`.
    Oct,
    /// `x` / `X`.
    Hex,
    /// `f` / `F`.
    Fixed,
    /// `e` / `E`.
    Exp,
    /// `g` / `G`.
    General,
}

/// One `%(key)[flags][width][.precision][length]conv` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spec {
    pub(super) conv: Conv,
    pub(super) upper: bool,
    pub(super) left: bool,
    pub(super) zero: bool,
    pub(super) plus: bool,
    pub(super) space: bool,
    pub(super) alt: bool,
    pub(super) width: usize,
    pub(super) precision: Option<usize>,
}

impl Spec {
    /// No flag, width or precision.
    pub(super) fn is_plain(&self) -> bool {
        !(self.left || self.zero || self.plus || self.space || self.alt)
            && self.width == 0
            && self.precision.is_none()
    }
}

/// A field's value for one record.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Text(&'a str),
    Int(i128),
    Float(f64),
    None,
}

/// Renders one value per its directive, as Python's `%` does.
pub(super) fn render(spec: &Spec, value: Value<'_>, out: &mut String) {
    match (spec.conv, value) {
        // The common cases, without padding arithmetic.
        (Conv::Str, Value::Text(s)) if spec.width == 0 && spec.precision.is_none() => {
            out.push_str(s);
        }
        (Conv::Str | Conv::Dec, Value::Int(n)) if spec.is_plain() => {
            let _ = write!(out, "{n}");
        }
        (Conv::Str | Conv::Repr | Conv::Ascii, Value::None) => pad_text(spec, "None", true, out),
        // Python would raise; the record still goes out.
        (_, Value::None) => pad_text(spec, "None", false, out),
        (Conv::Str | Conv::Repr | Conv::Ascii, value) => {
            let text: std::borrow::Cow<'_, str> = match (spec.conv, value) {
                (Conv::Repr, Value::Text(s)) => py_repr(s, false).into(),
                (Conv::Ascii, Value::Text(s)) => py_repr(s, true).into(),
                (_, Value::Text(s)) => s.into(),
                (_, Value::Int(n)) => n.to_string().into(),
                (_, Value::Float(x)) => py_float_repr(x).into(),
                (_, Value::None) => "None".into(),
            };
            pad_text(spec, &text, true, out);
        }
        (Conv::Dec | Conv::Oct | Conv::Hex, value) => {
            let n = match value {
                Value::Int(n) => n,
                // Python's `int(x)`: towards zero.
                Value::Float(x) => x.trunc() as i128,
                // Refused at parse time.
                _ => 0,
            };
            render_int(spec, n, out);
        }
        (Conv::Fixed | Conv::Exp | Conv::General, value) => {
            let x = match value {
                Value::Int(n) => n as f64,
                Value::Float(x) => x,
                _ => 0.0,
            };
            render_float(spec, x, out);
        }
    }
}

/// Text, cut to the precision (when `cut`), padded to the width with spaces.
pub(super) fn pad_text(spec: &Spec, text: &str, cut: bool, out: &mut String) {
    let text = match spec.precision {
        Some(p) if cut => match text.char_indices().nth(p) {
            Some((at, _)) => &text[..at],
            None => text,
        },
        _ => text,
    };
    let fill = match spec.width {
        0 => 0,
        width => width.saturating_sub(text.chars().count()),
    };
    if !spec.left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(text);
    if spec.left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

fn sign(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// `sign`, `prefix`, `zeros` zeros and `body` padded to the width: spaces
/// on the left, on the right (`-`), or more zeros after the prefix (`0`).
fn pad_number(
    spec: &Spec,
    sign: &str,
    prefix: &str,
    zeros: usize,
    body: &str,
    zero_ok: bool,
    out: &mut String,
) {
    let len = sign.len() + prefix.len() + zeros + body.len();
    let fill = spec.width.saturating_sub(len);
    let (left, zeros, right) = if spec.left {
        (0, zeros, fill)
    } else if spec.zero && zero_ok {
        (0, zeros + fill, 0)
    } else {
        (fill, zeros, 0)
    };
    out.extend(std::iter::repeat_n(' ', left));
    out.push_str(sign);
    out.push_str(prefix);
    out.extend(std::iter::repeat_n('0', zeros));
    out.push_str(body);
    out.extend(std::iter::repeat_n(' ', right));
}

fn render_int(spec: &Spec, n: i128, out: &mut String) {
    let (radix, prefix, letters) = match (spec.conv, spec.upper) {
        (Conv::Oct, _) => (8, "0o", b"01234567".as_slice()),
        (Conv::Hex, false) => (16, "0x", b"0123456789abcdef".as_slice()),
        (Conv::Hex, true) => (16, "0X", b"0123456789ABCDEF".as_slice()),
        _ => (10, "", b"0123456789".as_slice()),
    };
    // Digits from the end of a buffer large enough for any u128 in octal.
    let mut buf = [0u8; 44];
    let mut at = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = letters[(m % radix) as usize];
        m /= radix;
        if m == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&buf[at..]).unwrap_or("");
    let zeros = spec.precision.unwrap_or(0).saturating_sub(digits.len());
    let prefix = if spec.alt { prefix } else { "" };
    pad_number(spec, sign(spec, n < 0), prefix, zeros, digits, true, out);
}

fn render_float(spec: &Spec, x: f64, out: &mut String) {
    let negative = x.is_sign_negative() && !x.is_nan();
    let a = x.abs();
    let body = if !a.is_finite() {
        let word = if a.is_nan() { "nan" } else { "inf" };
        if spec.upper {
            word.to_ascii_uppercase()
        } else {
            word.to_owned()
        }
    } else {
        let precision = spec.precision.unwrap_or(6);
        match spec.conv {
            Conv::Fixed => fixed(a, precision, spec.alt),
            Conv::Exp => exponent(a, precision, spec.alt, spec.upper),
            _ => general(a, precision, spec.alt, spec.upper),
        }
    };
    pad_number(spec, sign(spec, negative), "", 0, &body, a.is_finite(), out);
}

/// `%f` of a non-negative finite number.
fn fixed(a: f64, precision: usize, alt: bool) -> String {
    let mut s = format!("{a:.precision$}");
    if alt && precision == 0 {
        s.push('.');
    }
    s
}

/// Rust's `{:.Ne}` (`1.5e3`) split into mantissa and exponent.
fn sci(a: f64, precision: usize) -> (String, i32) {
    let s = format!("{a:.precision$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    (mantissa.to_owned(), exp.parse().unwrap_or(0))
}

fn exp_suffix(exp: i32, upper: bool) -> String {
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{e}{sign}{:02}", exp.unsigned_abs())
}

/// `%e` of a non-negative finite number.
fn exponent(a: f64, precision: usize, alt: bool, upper: bool) -> String {
    let (mut mantissa, exp) = sci(a, precision);
    if alt && precision == 0 {
        mantissa.push('.');
    }
    mantissa + &exp_suffix(exp, upper)
}

/// `%g` of a non-negative finite number (C's rules, as Python's).
fn general(a: f64, precision: usize, alt: bool, upper: bool) -> String {
    let p = precision.max(1);
    let exp = if a == 0.0 { 0 } else { sci(a, p - 1).1 };
    let p_i = i32::try_from(p).unwrap_or(i32::MAX);
    let (mut mantissa, suffix) = if (-4..p_i).contains(&exp) {
        let decimals = usize::try_from(p_i - 1 - exp).unwrap_or(0);
        (fixed(a, decimals, alt), String::new())
    } else {
        let (mut m, e) = sci(a, p - 1);
        if alt && p == 1 {
            m.push('.');
        }
        (m, exp_suffix(e, upper))
    };
    if !alt && mantissa.contains('.') {
        let kept = mantissa.trim_end_matches('0').trim_end_matches('.').len();
        mantissa.truncate(kept);
    }
    mantissa + &suffix
}

/// Python's `repr(float)`: the shortest digits that read back the same
/// number, positional from 1e-4 to below 1e16, else `1.5e+16`.
fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    // Rust's `{:e}` is the shortest round-trip form: `-1.2345e9`.
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(neg);
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&exp_suffix(exp, false));
    }
    out
}

/// Python's `repr(str)` (or `ascii(str)` with `ascii`): quotes chosen as
/// Python chooses them, backslash escapes for the quote, `\`, `\t` `\n`
/// `\r`, and `\x`/`\u`/`\U` for characters Python does not print.
fn py_repr(s: &str, ascii: bool) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if !ascii && (c as u32) >= 0x80 && !python_hides(c) => out.push(c),
            c => {
                let n = c as u32;
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02x}")
                } else if n <= 0xffff {
                    write!(out, "\\u{n:04x}")
                } else {
                    write!(out, "\\U{n:08x}")
                };
            }
        }
    }
    out.push(quote);
    out
}

/// Non-ASCII characters Python's `str.isprintable` rejects (categories Cc,
/// Cf, Co, Zs, Zl, Zp, and the noncharacters); unassigned code points are
/// not listed.
fn python_hides(c: char) -> bool {
    matches!(c as u32,
        0x80..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2
        | 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000 | 0xd800..=0xf8ff | 0xfdd0..=0xfdef | 0xfeff
        | 0xfff9..=0xfffb | 0xfffe..=0xffff | 0x110bd | 0x110cd | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff)
        || (c as u32) & 0xfffe == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python() {
        assert_eq!(py_float_repr(1_718_114_585.042_818), "1718114585.042818");
        assert_eq!(py_float_repr(1.0), "1.0");
        assert_eq!(py_float_repr(-0.0), "-0.0");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1.5e-5), "1.5e-05");
        assert_eq!(py_float_repr(0.0001), "0.0001");
        assert_eq!(py_float_repr(123.0), "123.0");
        assert_eq!(general(0.0001, 6, false, false), "0.0001");
        assert_eq!(general(0.00001, 6, false, false), "1e-05");
        assert_eq!(general(123456789.0, 6, false, false), "1.23457e+08");
        assert_eq!(general(3.0, 1, true, false), "3.");
        assert_eq!(exponent(3.75, 0, true, true), "4.E+00");
    }

    #[test]
    fn repr_quotes_and_escapes() {
        assert_eq!(py_repr("it's", false), "\"it's\"");
        assert_eq!(py_repr("it's \"x\"", false), "'it\\'s \"x\"'");
        assert_eq!(
            py_repr("a\tb\n\\\u{7f}\u{a0}é🦀", false),
            "'a\\tb\\n\\\\\\x7f\\xa0é🦀'"
        );
        assert_eq!(py_repr("é🦀\u{2028}", true), "'\\xe9\\U0001f980\\u2028'");
    }
}
