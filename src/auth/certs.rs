//! CURVE certificate files: the `name.key` / `name.key_secret` pairs that
//! pyzmq's `zmq.auth.create_certificates` and czmq's `zcert` write, in
//! [ZPL](super::zpl) text.
//!
//! ```
//! use zmqx::auth::{create_certificates, load_certificate, load_certificates};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("zmqx-certs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let (public_file, secret_file) = create_certificates(&dir, "server", &[("name", "A server")])?;
//!
//! let (public, secret) = load_certificate(&secret_file)?;
//! assert!(secret.is_some());
//! assert_eq!(load_certificate(&public_file)?, (public, None));
//! assert!(load_certificates(&dir)?.contains(&public));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! A certificate file looks like this (comments, then two sections):
//!
//! ```text
//! #   ****  Generated on 2025-01-31 09:15:02 UTC by zmqx  ****
//! #   ZeroMQ CURVE **Secret** Certificate
//! #   Keep this file private: it holds the secret key.
//!
//! metadata
//!     name = "A server"
//! curve
//!     public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
//!     secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//! ```
//!
//! The public file (`.key`) is the same without `secret-key`. Keys are
//! 40-character Z85 text in quotes (Z85 may contain `#`, which is why the
//! quotes matter). Unlike pyzmq, zmqx also writes the metadata into the
//! public file, as czmq does, and creates the secret file readable by its
//! owner only (mode `0600` on Unix).
//!
//! zmqx writes strict ZPL (metadata names of ZPL characters, values without
//! line breaks) and reads what pyzmq and czmq write, which is not always
//! ZPL (see `reader.rs`).
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::CertificateError;
use super::reader;
use super::zpl::{ZplDocument, ZplNode};
use crate::curve::{CurveKey, CurveKeyPair};

/// The extension of public certificate files (`name.key`).
pub const PUBLIC_EXTENSION: &str = "key";
/// The extension of secret certificate files (`name.key_secret`).
pub const SECRET_EXTENSION: &str = "key_secret";

/// A CURVE certificate: a public key, maybe its secret key, and metadata
/// (czmq's `zcert_t`; pyzmq returns only the keys).
///
/// `Debug` hides the secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The public key (`curve/public-key`).
    pub public: CurveKey,
    /// The secret key (`curve/secret-key`), present in `.key_secret` files.
    pub secret: Option<CurveKey>,
    /// The `metadata` section, in file order.
    pub metadata: Vec<(String, String)>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("public", &self.public)
            .field(
                "secret",
                &self.secret.as_ref().map(|_| format_args!("<redacted>")),
            )
            .field("metadata", &self.metadata)
            .finish()
    }
}

impl Certificate {
    /// A certificate for a key pair, without metadata.
    pub fn new(pair: &CurveKeyPair) -> Certificate {
        Certificate {
            public: pair.public,
            secret: Some(pair.secret),
            metadata: Vec::new(),
        }
    }

    /// A certificate with a public key only.
    pub fn public_only(public: CurveKey) -> Certificate {
        Certificate {
            public,
            secret: None,
            metadata: Vec::new(),
        }
    }

    /// The key pair, when the secret key is known.
    pub fn keypair(&self) -> Option<CurveKeyPair> {
        self.secret.map(|secret| CurveKeyPair {
            public: self.public,
            secret,
        })
    }

    /// The value of a metadata property.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses certificate text, strictly about the keys and leniently
    /// about the metadata, so that every file pyzmq and czmq write loads
    /// (the rules are in the [module docs](crate::auth#reading-certificate-files)).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] with an empty path ([`Certificate::load`]
    /// fills in the file) for a missing `curve` section or `public-key`, a
    /// key given twice, or a key that is not exactly 40 characters of Z85.
    pub fn parse(text: &str) -> Result<Certificate, CertificateError> {
        Certificate::parse_bytes(text.as_bytes())
    }

    /// [`Certificate::parse`] for bytes: invalid UTF-8 in the metadata is
    /// replaced with U+FFFD, in a key it is an error. A pure function that
    /// never panics, whatever the input.
    ///
    /// # Errors
    ///
    /// As [`Certificate::parse`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<Certificate, CertificateError> {
        parse_in(Path::new(""), bytes)
    }

    /// Reads and parses a certificate file (czmq's `zcert_load`).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] naming the file (and the line, for a bad
    /// key) when it cannot be read or parsed.
    pub fn load(path: impl AsRef<Path>) -> Result<Certificate, CertificateError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| cert_error(path, None, format!("cannot read the file: {e}")))?;
        parse_in(path, &bytes)
    }

    /// The text of the public certificate file (no secret key).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] (with an empty path) when a metadata name is
    /// not a ZPL name or a value cannot be written in ZPL (a line break,
    /// both quote kinds…): zmqx writes only what czmq can read back.
    pub fn to_public_text(&self) -> Result<String, CertificateError> {
        self.to_text(false)
    }

    /// The text of the secret certificate file (with the secret key).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] as [`to_public_text`](Self::to_public_text),
    /// or when there is no secret key.
    pub fn to_secret_text(&self) -> Result<String, CertificateError> {
        if self.secret.is_none() {
            return Err(cert_error(
                Path::new(""),
                None,
                "it has no secret key to write",
            ));
        }
        self.to_text(true)
    }

    /// Writes the public certificate file (czmq's `zcert_save_public`).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] naming the file, as
    /// [`to_public_text`](Self::to_public_text) or when the file cannot be
    /// written.
    pub fn save_public(&self, path: impl AsRef<Path>) -> Result<(), CertificateError> {
        let path = path.as_ref();
        let text = self.to_public_text().map_err(|e| in_file(path, e))?;
        write_file(path, &text, false)
    }

    /// Writes the secret certificate file, readable by its owner only on
    /// Unix (czmq's `zcert_save_secret`).
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] naming the file, as
    /// [`to_secret_text`](Self::to_secret_text) or when the file cannot be
    /// written.
    pub fn save_secret(&self, path: impl AsRef<Path>) -> Result<(), CertificateError> {
        let path = path.as_ref();
        let text = self.to_secret_text().map_err(|e| in_file(path, e))?;
        write_file(path, &text, true)
    }

    fn to_text(&self, secret: bool) -> Result<String, CertificateError> {
        let node = |name: &str, value: Option<String>, children| ZplNode {
            name: name.to_string(),
            value,
            line: 0,
            children,
        };
        let metadata = self
            .metadata
            .iter()
            .map(|(n, v)| node(n, Some(v.clone()), Vec::new()))
            .collect();
        let mut curve = vec![node("public-key", Some(self.public.to_z85()), Vec::new())];
        if let (true, Some(s)) = (secret, self.secret) {
            curve.push(node("secret-key", Some(s.to_z85()), Vec::new()));
        }
        let doc = ZplDocument {
            roots: vec![node("metadata", None, metadata), node("curve", None, curve)],
        };
        let body = doc
            .to_zpl()
            .map_err(|e| cert_error(Path::new(""), None, format!("metadata: {}", e.reason)))?;
        let banner = if secret {
            "#   ZeroMQ CURVE **Secret** Certificate\n\
             #   Keep this file private: it holds the secret key.\n"
        } else {
            "#   ZeroMQ CURVE Public Certificate\n\
             #   Give this file to the peers that must accept this key, and check\n\
             #   its contents after the exchange.\n"
        };
        Ok(format!(
            "#   ****  Generated on {} by zmqx  ****\n{banner}\n{body}",
            utc_now()
        ))
    }
}

/// Creates a new CURVE key pair and writes it as `dir/name.key` (public) and
/// `dir/name.key_secret` (secret) with `metadata`; returns both paths, public
/// first (pyzmq's `zmq.auth.create_certificates`).
///
/// # Errors
///
/// [`Error::Certificate`](super::Error::Certificate) for an empty name, a
/// name with a path separator, metadata that ZPL cannot hold (naming the
/// secret file; nothing is written then), or a file that cannot be written;
/// [`Error::Zmq`](super::Error::Zmq) with
/// [`MissingCapability`](crate::Error::MissingCapability) without CURVE.
pub fn create_certificates(
    dir: impl AsRef<Path>,
    name: &str,
    metadata: &[(&str, &str)],
) -> Result<(PathBuf, PathBuf), super::Error> {
    let dir = dir.as_ref();
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return Err(cert_error(
            &dir.join(name),
            None,
            format!("the name {name:?} must be a non-empty file name without path separators"),
        )
        .into());
    }
    let mut cert = Certificate::new(&crate::curve_keypair()?);
    cert.metadata = metadata
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let public_file = dir.join(format!("{name}.{PUBLIC_EXTENSION}"));
    let secret_file = dir.join(format!("{name}.{SECRET_EXTENSION}"));
    // Both texts first, so bad metadata writes nothing.
    let public_text = cert
        .to_public_text()
        .map_err(|e| in_file(&public_file, e))?;
    let secret_text = cert
        .to_secret_text()
        .map_err(|e| in_file(&secret_file, e))?;
    write_file(&public_file, &public_text, false)?;
    write_file(&secret_file, &secret_text, true)?;
    Ok((public_file, secret_file))
}

/// Loads the public key and, if present, the secret key of a certificate
/// file (pyzmq's `zmq.auth.load_certificate`, which returns them as Z85).
///
/// # Errors
///
/// A [`CertificateError`] naming the file and line.
pub fn load_certificate(
    path: impl AsRef<Path>,
) -> Result<(CurveKey, Option<CurveKey>), CertificateError> {
    let cert = Certificate::load(path)?;
    Ok((cert.public, cert.secret))
}

/// Loads the public keys of every `*.key` file in a directory (pyzmq's
/// `zmq.auth.load_certificates`). Hidden files and other extensions
/// (including `.key_secret`) are skipped.
///
/// # Errors
///
/// A [`CertificateError`] when the directory cannot be read or a `.key`
/// file is malformed (naming that file and line): a directory with one bad
/// file is refused as a whole rather than half loaded.
pub fn load_certificates(dir: impl AsRef<Path>) -> Result<HashSet<CurveKey>, CertificateError> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| cert_error(dir, None, format!("cannot read the directory: {e}")))?;
    let mut keys = HashSet::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| cert_error(dir, None, format!("cannot read the directory: {e}")))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let is_key = path.extension().is_some_and(|e| e == PUBLIC_EXTENSION);
        if hidden || !is_key || !path.is_file() {
            continue;
        }
        keys.insert(Certificate::load(&path)?.public);
    }
    Ok(keys)
}

fn cert_error(path: &Path, line: Option<usize>, reason: impl Into<String>) -> CertificateError {
    CertificateError::new(path, line, reason)
}

/// A problem found in text, reported for the file it belongs to.
fn in_file(path: &Path, e: CertificateError) -> CertificateError {
    CertificateError {
        path: path.to_path_buf(),
        ..e
    }
}

fn parse_in(path: &Path, bytes: &[u8]) -> Result<Certificate, CertificateError> {
    let contents = reader::read(bytes).map_err(|(line, reason)| cert_error(path, line, reason))?;
    // A secret key that is not the public key's would make every handshake
    // fail far from here. (Without CURVE in libzmq this cannot be checked,
    // nor used.)
    if let Some(secret) = &contents.secret {
        if crate::curve_public(secret).is_ok_and(|public| public != contents.public) {
            return Err(cert_error(
                path,
                contents.secret_line,
                "secret-key is not the secret key of public-key",
            ));
        }
    }
    Ok(Certificate {
        public: contents.public,
        secret: contents.secret,
        metadata: contents.metadata,
    })
}

fn write_file(path: &Path, text: &str, private: bool) -> Result<(), CertificateError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let fail = |e: std::io::Error| cert_error(path, None, format!("cannot write the file: {e}"));
    let mut file = options.open(path).map_err(fail)?;
    #[cfg(unix)]
    if private {
        // An existing file keeps its mode on open: narrow it explicitly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// The current UTC time as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01
/// (Howard Hinnant's public-domain `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client keys of the `zmq_curve(7)` test vectors.
    const PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    const SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_704_067_199), "2023-12-31 23:59:59 UTC");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29 12:34:56 UTC");
    }

    #[test]
    fn parses_what_pyzmq_and_czmq_write() -> Result<(), CertificateError> {
        // pyzmq: banner, empty metadata section, quoted keys.
        let pyzmq = format!(
            "#   ****  Generated on 2024-01-01 by pyzmq  ****\n#   ZeroMQ CURVE **Secret** Certificate\n\n\
             metadata\ncurve\n    public-key = \"{PUBLIC}\"\n    secret-key = \"{SECRET}\"\n"
        );
        let cert = Certificate::parse(&pyzmq)?;
        assert_eq!(cert.public.to_z85(), PUBLIC);
        assert_eq!(cert.secret.map(|k| k.to_z85()).as_deref(), Some(SECRET));
        assert!(cert.metadata.is_empty());
        // czmq style with CRLF and quoted metadata.
        let czmq = format!(
            "#   ZeroMQ CURVE Public Certificate\r\n\r\nmetadata\r\n    name = \"x # y\"\r\n    email = a@b\r\n\
             curve\r\n    public-key = \"{PUBLIC}\"\r\n"
        );
        let cert = Certificate::parse(&czmq)?;
        assert_eq!(cert.secret, None);
        assert_eq!(cert.meta("name"), Some("x # y"));
        assert_eq!(cert.meta("email"), Some("a@b"));
        // pyzmq's metadata as it writes it: a name with a space, unquoted.
        let spaced = format!(
            "metadata\n    full name = Alice Smith\ncurve\n    public-key = \"{PUBLIC}\"\n"
        );
        let cert = Certificate::parse(&spaced)?;
        assert_eq!(cert.meta("full name"), Some("Alice Smith"));
        assert_eq!(cert.public.to_z85(), PUBLIC);
        Ok(())
    }

    #[test]
    fn a_secret_key_must_match_the_public_key() {
        let other = crate::curve_keypair().expect("CURVE is available");
        let text = format!(
            "curve\n    public-key = \"{}\"\n    secret-key = \"{SECRET}\"\n",
            other.public
        );
        let e = Certificate::parse(&text).expect_err("a mismatched pair");
        assert_eq!(e.line, Some(3));
        assert!(e.reason.contains("not the secret key"), "{e}");
    }

    #[test]
    fn keys_with_hash_survive() -> Result<(), CertificateError> {
        // Find a key whose Z85 text holds '#'.
        let key = (0u8..=255)
            .map(|b| CurveKey::from([b; 32]))
            .find(|k| {
                let z = k.to_z85();
                !z.starts_with('#') && z.contains('#')
            })
            .expect("some key has a '#'");
        let cert = Certificate::public_only(key);
        let text = cert.to_public_text()?;
        assert_eq!(Certificate::parse(&text)?, cert);
        // Unquoted, the '#' is kept too (it follows no whitespace).
        let bare = format!("curve\n    public-key = {key}\n");
        assert_eq!(Certificate::parse(&bare)?.public, key);
        Ok(())
    }

    #[test]
    fn errors_name_the_line() {
        let cases: [(&str, Option<usize>, &str); 5] = [
            ("metadata\n", None, "curve"),
            ("curve\n    secret-key = \"x\"\n", Some(2), "secret-key"),
            ("curve\n", Some(1), "no public-key"),
            (
                "#\ncurve\n    public-key = \"tooshort\"\n",
                Some(3),
                "public-key",
            ),
            ("curve\n  public-key = 1\n", Some(2), "length"),
        ];
        for (text, line, what) in cases {
            match Certificate::parse(text) {
                Err(CertificateError {
                    line: l, reason, ..
                }) => {
                    assert_eq!(l, line, "{text:?}: {reason}");
                    assert!(reason.contains(what), "{text:?}: {reason}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn metadata_that_cannot_be_written() {
        let mut cert = Certificate::public_only(CurveKey::from([1; 32]));
        cert.metadata.push(("bad name".into(), "v".into()));
        let e = cert.to_public_text().expect_err("a name with a space");
        assert!(e.reason.contains("bad name"), "{e}");
        cert.metadata[0] = ("name".into(), "two\nlines".into());
        let e = cert.to_public_text().expect_err("a line break");
        assert!(e.reason.contains("escapes"), "{e}");
        let e = cert
            .save_public("/nonexistent/zmqx/x.key")
            .expect_err("bad metadata");
        assert_eq!(e.path, Path::new("/nonexistent/zmqx/x.key"));
        assert!(
            Certificate::public_only(CurveKey::from([1; 32]))
                .to_secret_text()
                .is_err()
        );
    }

    #[test]
    fn debug_hides_the_secret() -> Result<(), crate::curve::KeyError> {
        let secret = CurveKey::from_z85(SECRET)?;
        let cert = Certificate {
            public: CurveKey::from_z85(PUBLIC)?,
            secret: Some(secret),
            metadata: Vec::new(),
        };
        let text = format!("{cert:?}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains(PUBLIC), "{text}");
        Ok(())
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let good = format!("metadata\n    a = b\ncurve\n    public-key = \"{PUBLIC}\"\n");
        for round in 0..3_000 {
            let mut bytes = good.clone().into_bytes();
            // Mutate a few bytes, or write random ones.
            if round % 4 == 0 {
                bytes = (0..(next() % 96)).map(|_| next() as u8).collect();
            } else {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % bytes.len();
                    bytes[i] = next() as u8;
                }
            }
            if let Ok(cert) = Certificate::parse_bytes(&bytes) {
                assert_eq!(cert.secret, None);
            }
        }
    }
}
