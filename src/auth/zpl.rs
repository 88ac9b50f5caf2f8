//! ZPL, the ZeroMQ Property Language (ZeroMQ RFC 4/ZPL): the text format of
//! CURVE certificate files (czmq's `zconfig`, pyzmq's `zmq.auth.certs`).
//!
//! This parser is strict RFC 4. Certificate files are not read with it:
//! pyzmq and czmq write metadata that is not valid ZPL (names with spaces,
//! line breaks and quotes in values), so [`Certificate`](super::Certificate)
//! has a lenient reader of its own (see
//! [reading certificate files](super#reading-certificate-files)). zmqx
//! writes certificates with [`ZplDocument::to_zpl`].
//!
//! ```
//! use zmqx::auth::zpl::ZplDocument;
//!
//! let doc = ZplDocument::parse(
//!     "#   A comment\r\n\
//!      curve\r\n\
//!      \x20   public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\r\n\
//!      metadata\r\n\
//!      \x20   name = 'server #1'   # a trailing comment\r\n",
//! )?;
//! assert_eq!(doc.value("curve/public-key"), Some("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"));
//! assert_eq!(doc.value("metadata/name"), Some("server #1"));
//! # Ok::<(), zmqx::auth::zpl::ZplError>(())
//! ```
//!
//! The rules, from RFC 4 and what czmq and pyzmq write:
//!
//! - Lines end with LF, CRLF or a lone CR.
//! - Hierarchy is indentation by exactly 4 spaces per level; a tab in the
//!   indentation, or an indentation that is not a multiple of 4 or skips a
//!   level, is an error.
//! - A line is blank, a comment (`#` as its first non-space character), a
//!   name alone (a section), or `name = value`. Names use the RFC 4
//!   characters: letters, digits and `$ - _ @ . & + /`.
//! - A value may be enclosed in single or double quotes, which are not part
//!   of it; nothing escapes inside quotes, so a quoted value may hold `#` (Z85
//!   keys often do). After the closing quote only whitespace and a comment
//!   may follow.
//! - In an unquoted value, `#` starts a comment only at the start of the
//!   value or after whitespace, so `key = ab#cd` keeps `ab#cd` while
//!   `verbose = 1   # trace` is `1`. Trailing whitespace is dropped.
//! - A value that opens a quote and never closes it is taken unquoted, as
//!   RFC 4 says.
//!
//! Parsing is a pure function over text (or bytes) that never panics: every
//! malformed input is a [`ZplError`] naming the line.
#![forbid(unsafe_code)]

/// The deepest nesting accepted, so that no input can build a tree deep
/// enough to overflow the stack when it is dropped or printed.
pub const MAX_DEPTH: usize = 64;

/// One property: a name, an optional value and the properties indented
/// under it (czmq's `zconfig_t`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZplNode {
    /// The property name.
    pub name: String,
    /// The value after `=`, unquoted; `None` for a bare name (a section).
    pub value: Option<String>,
    /// The 1-based line the property is on.
    pub line: usize,
    /// The properties indented one level below this one, in file order.
    pub children: Vec<ZplNode>,
}

impl ZplNode {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&ZplNode> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A parsed ZPL text: the top-level properties in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZplDocument {
    /// The properties that are not indented.
    pub roots: Vec<ZplNode>,
}

/// Why a ZPL text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ZplError {
    /// The 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl ZplError {
    fn new(line: usize, reason: impl Into<String>) -> ZplError {
        ZplError {
            line,
            reason: reason.into(),
        }
    }
}

/// Whether `c` may appear in a ZPL name (RFC 4).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '$' | '-' | '_' | '@' | '.' | '&' | '+' | '/')
}

/// Whether `name` is a valid, non-empty ZPL name.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_name_char)
}

impl ZplDocument {
    /// Parses ZPL text.
    ///
    /// # Errors
    ///
    /// A [`ZplError`] with the line of the first problem.
    pub fn parse(text: &str) -> Result<ZplDocument, ZplError> {
        // Open nodes, one per depth: stack[d] is the last node at depth d.
        let mut stack: Vec<ZplNode> = Vec::new();
        let mut roots = Vec::new();
        for (number, line) in lines(text) {
            let Some((depth, node)) = parse_line(number, line)? else {
                continue;
            };
            if depth > stack.len() {
                return Err(ZplError::new(
                    number,
                    format!(
                        "indented {} levels under a property at level {}",
                        depth,
                        stack.len().saturating_sub(1)
                    ),
                ));
            }
            if depth >= MAX_DEPTH {
                return Err(ZplError::new(
                    number,
                    format!("nested deeper than {MAX_DEPTH} levels"),
                ));
            }
            close_to(&mut stack, &mut roots, depth);
            stack.push(node);
        }
        close_to(&mut stack, &mut roots, 0);
        Ok(ZplDocument { roots })
    }

    /// Parses ZPL held as bytes; bytes that are not UTF-8 are an error
    /// naming their line.
    ///
    /// # Errors
    ///
    /// A [`ZplError`] with the line of the first problem.
    pub fn parse_bytes(bytes: &[u8]) -> Result<ZplDocument, ZplError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => ZplDocument::parse(text),
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                Err(ZplError::new(
                    line_of_offset(good),
                    format!("not UTF-8 text (byte {})", e.valid_up_to()),
                ))
            }
        }
    }

    /// The node at a `/`-separated path such as `"curve/public-key"` (the
    /// first match at each level).
    pub fn get(&self, path: &str) -> Option<&ZplNode> {
        let mut parts = path.split('/');
        let first = parts.next()?;
        let mut node = self.roots.iter().find(|n| n.name == first)?;
        for part in parts {
            node = node.child(part)?;
        }
        Some(node)
    }

    /// The value at a `/`-separated path, if the property exists and has one.
    pub fn value(&self, path: &str) -> Option<&str> {
        self.get(path)?.value.as_deref()
    }
}

impl ZplDocument {
    /// Writes the document as ZPL text (4-space indentation, LF line ends),
    /// quoting values where needed (see [`format_value`]).
    ///
    /// # Errors
    ///
    /// A [`ZplError`] naming the property's line when a value cannot be
    /// written, or a name is not a valid ZPL name.
    pub fn to_zpl(&self) -> Result<String, ZplError> {
        let mut out = String::new();
        // An explicit stack rather than recursion (depth is bounded anyway).
        let mut todo: Vec<(usize, &ZplNode)> = self.roots.iter().rev().map(|n| (0, n)).collect();
        while let Some((depth, node)) = todo.pop() {
            if !is_valid_name(&node.name) {
                return Err(ZplError::new(
                    node.line,
                    format!("{:?} is not a valid ZPL name", node.name),
                ));
            }
            out.extend(std::iter::repeat_n(' ', depth * 4));
            out.push_str(&node.name);
            if let Some(v) = &node.value {
                let v = format_value(v).map_err(|reason| ZplError::new(node.line, reason))?;
                out.push_str(" = ");
                out.push_str(&v);
            }
            out.push('\n');
            todo.extend(node.children.iter().rev().map(|c| (depth + 1, c)));
        }
        Ok(out)
    }
}

/// Formats a value for writing so that it parses back unchanged: in double
/// quotes, or in single quotes when it holds a double quote, or bare when it
/// holds both and reads back the same unquoted.
///
/// # Errors
///
/// The reason, when the value holds a line break or another control
/// character, or cannot be written at all (ZPL has no escapes).
pub fn format_value(value: &str) -> Result<String, String> {
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(format!(
            "{c:?} cannot be written in a ZPL value (ZPL has no escapes)"
        ));
    }
    if !value.contains('"') {
        return Ok(format!("\"{value}\""));
    }
    if !value.contains('\'') {
        return Ok(format!("'{value}'"));
    }
    if !value.starts_with([' ', '\t']) && parse_value(0, value).as_deref() == Ok(value) {
        return Ok(value.to_string());
    }
    Err(format!(
        "{value:?} holds both kinds of quote and cannot be written unquoted"
    ))
}

/// Pops open nodes deeper than or at `depth`, attaching each to its parent.
fn close_to(stack: &mut Vec<ZplNode>, roots: &mut Vec<ZplNode>, depth: usize) {
    while stack.len() > depth {
        let Some(node) = stack.pop() else { break };
        match stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => roots.push(node),
        }
    }
}

/// The 1-based line that the end of `text` is on.
fn line_of_offset(text: &[u8]) -> usize {
    let mut line = 1;
    let mut prev_cr = false;
    for &b in text {
        match b {
            b'\n' if prev_cr => {}
            b'\n' | b'\r' => line += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    line
}

/// The lines of `text` with their 1-based numbers; LF, CRLF and a lone CR
/// all end a line.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text;
    let mut number = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let tail = &rest[end..];
        rest = if let Some(t) = tail.strip_prefix("\r\n") {
            t
        } else if tail.is_empty() {
            tail
        } else {
            // A single '\n' or '\r' (both one byte).
            &tail[1..]
        };
        Some((number, line))
    })
}

/// Parses one line: `None` for blank and comment lines, else the depth and
/// the node.
fn parse_line(number: usize, line: &str) -> Result<Option<(usize, ZplNode)>, ZplError> {
    let body = line.trim_start_matches([' ', '\t']);
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    let indent = &line[..line.len() - body.len()];
    if indent.contains('\t') {
        return Err(ZplError::new(
            number,
            "a tab in the indentation (ZPL indents with 4 spaces per level)",
        ));
    }
    if indent.len() % 4 != 0 {
        return Err(ZplError::new(
            number,
            format!(
                "indentation of {} spaces is not a multiple of 4",
                indent.len()
            ),
        ));
    }
    let depth = indent.len() / 4;

    let name_len = body
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(body.len(), |(i, _)| i);
    let (name, rest) = body.split_at(name_len);
    if name.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        return Err(ZplError::new(
            number,
            format!("expected a property name, found {c:?}"),
        ));
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let value = if rest.is_empty() || rest.starts_with('#') {
        None
    } else if let Some(v) = rest.strip_prefix('=') {
        Some(parse_value(number, v.trim_start_matches([' ', '\t']))?)
    } else {
        let c = rest.chars().next().unwrap_or(' ');
        return Err(ZplError::new(
            number,
            format!("expected '=' after the name {name:?}, found {c:?}"),
        ));
    };
    if let Some(v) = &value {
        if let Some(c) = v.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(ZplError::new(
                number,
                format!("control character {c:?} in the value of {name:?}"),
            ));
        }
    }
    Ok(Some((
        depth,
        ZplNode {
            name: name.to_string(),
            value,
            line: number,
            children: Vec::new(),
        },
    )))
}

/// Parses the text after `=` (leading whitespace already removed).
fn parse_value(number: usize, text: &str) -> Result<String, ZplError> {
    if let Some(quote) = text.chars().next().filter(|&c| c == '"' || c == '\'') {
        let inner = &text[1..];
        if let Some(close) = inner.find(quote) {
            let value = &inner[..close];
            let after = inner[close + 1..].trim_start_matches([' ', '\t']);
            if after.is_empty() || after.starts_with('#') {
                return Ok(value.to_string());
            }
            return Err(ZplError::new(
                number,
                format!("unexpected text after the closing quote: {after:?}"),
            ));
        }
        // An unclosed quote: the value is taken unquoted (RFC 4).
    }
    // Unquoted: a '#' at the start or after whitespace begins a comment.
    let mut end = text.len();
    let mut prev_space = true;
    for (i, c) in text.char_indices() {
        if c == '#' && prev_space {
            end = i;
            break;
        }
        prev_space = c == ' ' || c == '\t';
    }
    Ok(text[..end].trim_end_matches([' ', '\t']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4_example() -> Result<(), ZplError> {
        let text = "#   ZPL configuration file example\n\
                    #\n\
                    context\n    iothreads = 1\n    verbose = 1      #   Ask for a trace\n\n\
                    main\n    type = zmq_queue\n    frontend\n        option\n            hwm = 1000\n            \
                    swap = 25000000\n            subscribe = \"#2\"\n        bind = tcp://eth0:5555\n    \
                    backend\n        bind = tcp://eth0:5556\n";
        let doc = ZplDocument::parse(text)?;
        assert_eq!(doc.roots.len(), 2);
        assert_eq!(doc.value("context/iothreads"), Some("1"));
        assert_eq!(doc.value("context/verbose"), Some("1"));
        assert_eq!(doc.value("main/type"), Some("zmq_queue"));
        assert_eq!(doc.value("main/frontend/option/hwm"), Some("1000"));
        assert_eq!(doc.value("main/frontend/option/subscribe"), Some("#2"));
        assert_eq!(doc.value("main/frontend/bind"), Some("tcp://eth0:5555"));
        assert_eq!(doc.value("main/backend/bind"), Some("tcp://eth0:5556"));
        assert_eq!(doc.get("main/frontend").map(|n| n.line), Some(9));
        assert!(doc.get("main").is_some_and(|n| n.value.is_none()));
        Ok(())
    }

    #[test]
    fn line_endings() -> Result<(), ZplError> {
        for sep in ["\n", "\r\n", "\r"] {
            let text = ["a", "    b = 1", "", "c = '2'"].join(sep);
            let doc = ZplDocument::parse(&text)?;
            assert_eq!(doc.value("a/b"), Some("1"), "{sep:?}");
            assert_eq!(doc.value("c"), Some("2"), "{sep:?}");
            assert_eq!(doc.get("c").map(|n| n.line), Some(4), "{sep:?}");
        }
        Ok(())
    }

    #[test]
    fn values() -> Result<(), ZplError> {
        let doc = ZplDocument::parse(
            "a = ab#cd\nb=  x y  \nc = \"q # not a comment\"  # comment\ne = \"open\nf =\ng = # only a comment\n",
        )?;
        assert_eq!(doc.value("a"), Some("ab#cd"));
        assert_eq!(doc.value("b"), Some("x y"));
        assert_eq!(doc.value("c"), Some("q # not a comment"));
        // The first quote closes at the second character: text follows.
        assert!(ZplDocument::parse("d = 'it''s\n").is_err());
        assert_eq!(ZplDocument::parse("d = 'it\n")?.value("d"), Some("'it"));
        assert_eq!(doc.value("e"), Some("\"open"));
        assert_eq!(doc.value("f"), Some(""));
        assert_eq!(doc.value("g"), Some(""));
        Ok(())
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("a\n   b = 1\n", 2, "multiple of 4"),
            ("a\n\tb = 1\n", 2, "tab"),
            ("a\n        b = 1\n", 2, "levels"),
            ("# c\n= 1\n", 2, "name"),
            ("a b\n", 1, "'='"),
            ("a = \"x\" y\n", 1, "closing quote"),
            ("\n\na = x\u{7}y\n", 3, "control"),
        ];
        for (text, line, what) in cases {
            let e = ZplDocument::parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.reason.contains(what), "{text:?}: {e}");
        }
        let e = ZplDocument::parse_bytes(b"a = 1\r\nb = \xff\n").expect_err("bad utf-8");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn depth_is_bounded() {
        let mut text = String::new();
        for depth in 0..=MAX_DEPTH {
            text.push_str(&" ".repeat(depth * 4));
            text.push_str("n\n");
        }
        let e = ZplDocument::parse(&text).expect_err("too deep");
        assert!(e.reason.contains("deeper"));
    }

    #[test]
    fn round_trip() -> Result<(), ZplError> {
        let text =
            "curve\n    public-key = \"a#b\"\nmetadata\n    quote = 'say \"hi\"'\n    empty\n";
        let doc = ZplDocument::parse(text)?;
        assert_eq!(doc.to_zpl()?, text);
        assert_eq!(ZplDocument::parse(&doc.to_zpl()?)?, doc);
        assert_eq!(format_value("a'b\"c").as_deref(), Ok("a'b\"c"));
        // An unclosed quote reads back unquoted, so it can be written bare.
        assert_eq!(format_value("'a\"b").as_deref(), Ok("'a\"b"));
        assert!(format_value("'a\"b'c").is_err());
        assert!(format_value(" a'\"").is_err());
        assert!(format_value("a\nb").is_err());
        Ok(())
    }

    #[test]
    fn random_bytes_never_panic() {
        // A deterministic xorshift generator: the same inputs on every run.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \t\r\n#=\"'abc-./\xff\x00";
        for _ in 0..5_000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 3 == 0 {
                        r as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            if let Ok(doc) = ZplDocument::parse_bytes(&bytes) {
                // What parses and can be written parses back the same.
                if let Ok(text) = doc.to_zpl() {
                    let again = ZplDocument::parse(&text).expect("written ZPL parses");
                    assert_eq!(strip_lines(again), strip_lines(doc));
                }
            }
        }
    }

    fn strip_lines(mut doc: ZplDocument) -> ZplDocument {
        let mut todo: Vec<&mut ZplNode> = doc.roots.iter_mut().collect();
        while let Some(n) = todo.pop() {
            n.line = 0;
            todo.extend(n.children.iter_mut());
        }
        doc
    }
}
