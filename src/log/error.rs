//! [`FormatError`], the error of [`Format`](super::Format) and
//! [`DateFormat`](super::DateFormat) templates.
#![forbid(unsafe_code)]

/// Why a [`Format`](super::Format) or [`DateFormat`](super::DateFormat)
/// template was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// `%(key)…` names a field zmqx's records do not have.
    UnknownField,
    /// The conversion letter is not one Python's `%` knows, or one zmqx
    /// does not support (`%c`).
    UnsupportedConversion,
    /// The conversion does not apply to the field's type (`%(message)d`,
    /// `%(created)x`), which Python would only report at the first record.
    WrongType,
    /// The template ends inside a directive (`"%"`, `"%(message"`,
    /// `"%(message)-"`).
    Incomplete,
    /// A directive without a `(key)` (`%s`): log templates take every value
    /// from the record by name.
    NoFieldName,
    /// `*` as width or precision (it takes a positional argument, which a
    /// log template never has).
    StarWidth,
    /// A width or precision above [`Format::MAX_WIDTH`](super::Format::MAX_WIDTH).
    TooWide,
    /// A [`DateFormat`](super::DateFormat) directive that is not in its table.
    UnknownDateDirective,
}

/// A template refused at construction, naming the offending directive
/// (a `zmqx::log` error; it converts into [`crate::Error::InvalidInput`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid directive `{directive}` at byte {position} of the template {template:?}: {reason}"
)]
pub struct FormatError {
    template: String,
    directive: String,
    position: usize,
    kind: FormatErrorKind,
    reason: String,
}

impl FormatError {
    pub(super) fn new(
        template: &str,
        position: usize,
        directive: &str,
        kind: FormatErrorKind,
        reason: impl Into<String>,
    ) -> FormatError {
        FormatError {
            template: template.to_owned(),
            directive: directive.to_owned(),
            position,
            kind,
            reason: reason.into(),
        }
    }

    pub(super) fn date(
        template: &str,
        position: usize,
        directive: &str,
        reason: &str,
    ) -> FormatError {
        let kind = if directive == "%" {
            FormatErrorKind::Incomplete
        } else {
            FormatErrorKind::UnknownDateDirective
        };
        FormatError::new(template, position, directive, kind, reason)
    }

    /// The offending directive as written (`"%(lineno)4y"`, `"%Q"`).
    pub fn directive(&self) -> &str {
        &self.directive
    }

    /// Its byte offset in the template.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong with it.
    pub fn kind(&self) -> FormatErrorKind {
        self.kind
    }

    /// The whole template.
    pub fn template(&self) -> &str {
        &self.template
    }
}

impl From<FormatError> for crate::Error {
    fn from(e: FormatError) -> crate::Error {
        crate::Error::invalid(
            format!("log format directive `{}`", e.directive),
            e.to_string(),
        )
    }
}
