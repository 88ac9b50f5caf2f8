//! The errors of the security add-on: [`CertificateError`] for certificate
//! files, and [`Error`] for the calls that can also fail in libzmq.
//!
//! `zmqx::Error` holds libzmq's errors and a few crate-wide kinds; the
//! certificate problems are this module's own, as openssl's `ssl::Error`
//! wraps its `ErrorStack`. Both convert into [`std::io::Error`].
#![forbid(unsafe_code)]

use std::fmt;
use std::path::{Path, PathBuf};

/// A CURVE certificate file or directory that cannot be read, parsed or
/// written: the file, the 1-based line when the problem is on one, and what
/// is wrong (pyzmq raises `OSError` or `ValueError`).
///
/// Its `Display` names the file and line:
/// `invalid certificate certs/bob.key, line 4: public-key: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateError {
    /// The file or directory (empty for text parsed from memory).
    pub path: PathBuf,
    /// The line of the problem, when it is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl CertificateError {
    pub(crate) fn new(
        path: &Path,
        line: Option<usize>,
        reason: impl Into<String>,
    ) -> CertificateError {
        CertificateError {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid certificate ")?;
        if self.path.as_os_str().is_empty() {
            f.write_str("<text>")?;
        } else {
            write!(f, "{}", self.path.display())?;
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for CertificateError {}

impl From<CertificateError> for std::io::Error {
    fn from(e: CertificateError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// What a call of the security add-on that involves both libzmq and
/// certificate files can fail with (for example
/// [`create_certificates`](super::create_certificates): making the key pair,
/// then writing the files).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libzmq, or an argument zmqx checked.
    #[error(transparent)]
    Zmq(#[from] crate::Error),
    /// A certificate file or directory.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Zmq(e) => e.into(),
            Error::Certificate(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_line() {
        let e = CertificateError::new(Path::new("certs/a.key"), Some(4), "bad key");
        assert_eq!(
            e.to_string(),
            "invalid certificate certs/a.key, line 4: bad key"
        );
        let e = CertificateError::new(Path::new(""), None, "no \"curve\" section");
        assert_eq!(
            e.to_string(),
            "invalid certificate <text>: no \"curve\" section"
        );
        let io: std::io::Error = Error::from(e).into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
        let io: std::io::Error = Error::from(crate::Error::AddressInUse).into();
        assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
    }

    #[test]
    fn errors_are_send_sync() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<CertificateError>();
        check::<Error>();
    }
}
