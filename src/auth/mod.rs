//! Security: ZAP authentication, CURVE certificates, and the PLAIN/CURVE
//! socket options (pyzmq's `zmq.auth`, czmq's `zauth` and `zcert`).
//!
//! ```
//! use std::time::Duration;
//! use zmqx::auth::{ThreadAuthenticator, create_certificates, load_certificate};
//! use zmqx::{Context, CurveKeyPair, SocketType};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Certificates: the server's pair, and a client whose public
//!     // certificate is in the directory of accepted clients.
//!     let dir = std::env::temp_dir().join(format!("zmqx-auth-doc-{}", std::process::id()));
//!     let clients = dir.join("clients");
//!     std::fs::create_dir_all(&clients)?;
//!     let (_, server_secret) = create_certificates(&dir, "server", &[])?;
//!     let (_, client_secret) = create_certificates(&clients, "client", &[("name", "Alice")])?;
//!     let load = |path| -> Result<CurveKeyPair, zmqx::auth::CertificateError> {
//!         let (public, secret) = load_certificate(path)?;
//!         Ok(CurveKeyPair { public, secret: secret.expect("a secret certificate") })
//!     };
//!     let (server_keys, client_keys) = (load(&server_secret)?, load(&client_secret)?);
//!
//!     // The ZAP handler of this context: CURVE clients must be in `clients`.
//!     let ctx = Context::new();
//!     let mut auth = ThreadAuthenticator::new(&ctx);
//!     auth.start()?;
//!     auth.configure_curve("*", &clients)?;
//!
//!     let server = ctx.socket(SocketType::Pull)?;
//!     server.set_curve_server_keys(&server_keys)?;
//!     server.set_rcvtimeo(Some(Duration::from_secs(5)))?;
//!     server.bind("tcp://127.0.0.1:*")?;
//!
//!     let client = ctx.socket(SocketType::Push)?;
//!     client.set_curve_client(&server_keys.public, &client_keys)?;
//!     client.connect(&server.last_endpoint()?)?;
//!     client.send("hello")?;
//!
//!     let msg = server.recv_msg()?;
//!     assert_eq!(msg, "hello");
//!     // The user id is the client key's Z85 text unless mapped otherwise.
//!     assert_eq!(msg.gets("User-Id")?, Some(client_keys.public.to_z85()));
//!     # drop((client, server));
//!     # auth.stop();
//!     # std::fs::remove_dir_all(&dir)?;
//!     Ok(())
//! }
//! ```
//!
//! ## The pieces
//!
//! - Socket options, typed: [`Socket::set_plain_server`],
//!   [`Socket::set_plain_username`], [`Socket::set_curve_server`],
//!   [`Socket::set_curve_publickey`] (32 bytes or 40 Z85 characters),
//!   [`Socket::curve_serverkey`] (a [`CurveKey`]),
//!   [`Socket::set_zap_domain`], `set_gssapi_*`, and [`Socket::mechanism`]
//!   to see what a socket uses; plus the shortcuts
//!   [`Socket::set_curve_server_keys`], [`Socket::set_curve_client`] and
//!   [`Socket::set_plain_client`] defined here.
//! - [`Authenticator`]: the policy (IP allow/deny lists, PLAIN passwords,
//!   CURVE keys from certificate directories or a [`CredentialsProvider`],
//!   user ids), a pure function from [`ZapRequest`](zap::ZapRequest) to
//!   [`ZapReply`](zap::ZapReply).
//! - [`ThreadAuthenticator`]: that policy served on a background thread at
//!   [`ZAP_ENDPOINT`].
//! - [`zap`]: the ZAP protocol (RFC 27) as types; [`zpl`]: the certificate
//!   file format (RFC 4).
//! - [`create_certificates`], [`load_certificate`], [`load_certificates`],
//!   [`Certificate`]: certificate files compatible with pyzmq and czmq.
//! - Errors: [`CertificateError`] for certificate files, [`Error`] where
//!   libzmq can fail too; `zmqx::Error` for everything else.
//!
//! ## Address rules
//!
//! [`Authenticator::allow`] and [`Authenticator::deny`] take IPs and compare
//! them as IPs, whatever form the client's address arrives in: an IPv4
//! client of a dual-stack IPv6 listener (`set_ipv6(true)`, bound to
//! `tcp://*:…`) is reported as `::ffff:127.0.0.1` and still matches the rule
//! `127.0.0.1`, and the reverse. Rules that are not IPs are refused with an
//! error rather than kept as rules that never match.
//!
//! ## Reading certificate files
//!
//! pyzmq and czmq write ZPL without escaping: pyzmq writes
//! `    full name = Alice Smith` (a space in the name, the value unquoted, a
//! line break in a value as is), czmq writes `    quote = "say "hi""` and
//! keeps line breaks inside the quotes. zmqx reads all of it:
//!
//! - **Keys, strictly**: `public-key` and `secret-key` count only in the
//!   `curve` section, at most once each, and must be exactly 40 characters
//!   of Z85 (quoted or bare, then nothing but a comment). Anything else
//!   about a key is a [`CertificateError`] naming the file and line.
//! - **Metadata, leniently**: an indented line with `=` is an entry (the
//!   name is what comes before the first `=`, spaces included); quotes
//!   around the value are removed even when the value holds the same quote;
//!   a quote closed on a later line takes the lines between; an unquoted
//!   value is taken as is (`#` included) and continued by the following
//!   lines that are neither entries, comments nor section names (pyzmq's
//!   line breaks). Nothing in the metadata makes a file fail to load.
//! - Indentation is free (pyzmq strips it), lines end with LF, CRLF or CR,
//!   a UTF-8 byte order mark is skipped, other sections are skipped.
//!
//! zmqx itself writes strict ZPL that czmq reads back: a metadata name
//! must be made of ZPL characters and a value cannot hold a line break
//! ([`create_certificates`] refuses them and writes nothing).
//!
//! ## When is ZAP asked?
//!
//! libzmq asks the ZAP handler of the server socket's context about every
//! PLAIN, CURVE and GSSAPI connection, and about NULL connections only when
//! the server socket has a ZAP domain ([`Socket::set_zap_domain`]). The
//! handler only exists while an authenticator runs: **with no handler bound,
//! libzmq 4.3 refuses PLAIN clients but accepts NULL clients and CURVE
//! clients with any key** (encryption without authentication). Start the
//! authenticator before binding the sockets it guards.
//!
//! [`Socket::set_zap_enforce_domain`] (`ZMQ_ZAP_ENFORCE_DOMAIN`, declared in
//! `zmq.h`'s DRAFT section but built into every libzmq 4.3.5) makes libzmq
//! follow RFC 27 strictly for sockets that have a ZAP domain: a CURVE (or
//! NULL) client is then refused when no handler answers. Without a domain,
//! CURVE skips ZAP altogether in that mode. So a CURVE server that must never
//! accept unknown keys sets both a domain and `zap_enforce_domain`.
//!
//! GSSAPI needs a libzmq built with it (`zmqx::has("gssapi")`); the
//! vendored build has none, and its `set_gssapi_*` options then fail.
//!
//! A refused client sees no error: libzmq closes the connection and the
//! client retries. The server side reports it on its socket monitor as
//! `HANDSHAKE_FAILED_AUTH` with the ZAP status code
//! ([`monitor::EventValue::AuthStatus`](crate::monitor::EventValue::AuthStatus)).
//!
//! ## Differences from pyzmq
//!
//! - CURVE rules are per domain: `configure_curve(domain, CURVE_ALLOW_ANY)`
//!   allows any key in that domain only (pyzmq's flag is global).
//! - `"*"` rules apply to every domain without rules of its own, as pyzmq's
//!   docs say (pyzmq applies them only to sockets without a ZAP domain).
//! - A certificate directory that cannot be loaded is an error returned by
//!   `configure_curve`, not a log line.
//! - Malformed ZAP requests get a 500 reply (pyzmq answers 400).
//! - The curve user-id mapping is a closure
//!   ([`Authenticator::set_curve_user_id`]) rather than an overridden method;
//!   providers are traits, [`CredentialsProvider`] and
//!   [`AsyncCredentialsProvider`] (pyzmq's callback with a coroutine),
//!   configured with [`Authenticator::configure_curve_callback_async`].
//! - Address rules must be IPs (pyzmq keeps any string, compared as text),
//!   and compare as IPs (see above).
#![forbid(unsafe_code)]

mod certs;
mod error;
mod policy;
mod reader;
mod thread;
pub mod zap;
pub mod zpl;

pub use certs::{
    Certificate, PUBLIC_EXTENSION, SECRET_EXTENSION, create_certificates, load_certificate,
    load_certificates,
};
pub use error::{CertificateError, Error};
pub use policy::{
    ANY_DOMAIN, AsyncCredentialsProvider, Authenticator, CURVE_ALLOW_ANY, CredentialsProvider,
    Verdict, VerdictFuture,
};
#[cfg(all(feature = "tokio", unix))]
pub(crate) use policy::{Answer, reply_frames, routed};
pub use thread::{DEFAULT_STOP_TIMEOUT, ThreadAuthenticator};
pub use zap::ZAP_ENDPOINT;

use crate::curve::{CurveKey, CurveKeyPair};
use crate::socket::Socket;

impl Socket {
    /// Makes this socket a CURVE server with `keys`: sets
    /// `ZMQ_CURVE_SECRETKEY`, `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SERVER`
    /// (pyzmq: `curve_secretkey`, `curve_publickey`, `curve_server = True`).
    ///
    /// # Errors
    ///
    /// As the setters (for example [`Error::InvalidArgument`](crate::Error::InvalidArgument)
    /// on a libzmq without CURVE).
    pub fn set_curve_server_keys(&self, keys: &CurveKeyPair) -> crate::Result<()> {
        self.set_curve_secretkey(keys.secret.as_bytes())?;
        self.set_curve_publickey(keys.public.as_bytes())?;
        self.set_curve_server(true)
    }

    /// Makes this socket a CURVE client of the server whose public key is
    /// `server`, with its own key pair `keys`: sets `ZMQ_CURVE_SERVERKEY`,
    /// `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SECRETKEY`.
    ///
    /// # Errors
    ///
    /// As the setters.
    pub fn set_curve_client(&self, server: &CurveKey, keys: &CurveKeyPair) -> crate::Result<()> {
        self.set_curve_serverkey(server.as_bytes())?;
        self.set_curve_publickey(keys.public.as_bytes())?;
        self.set_curve_secretkey(keys.secret.as_bytes())
    }

    /// Makes this socket a PLAIN client: sets `ZMQ_PLAIN_USERNAME` and
    /// `ZMQ_PLAIN_PASSWORD`. PLAIN sends both in clear text.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for an interior
    /// NUL; as the setters otherwise.
    pub fn set_plain_client(&self, username: &str, password: &str) -> crate::Result<()> {
        self.set_plain_username(username)?;
        self.set_plain_password(password)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Context, Error, Mechanism, Result, SocketType};

    #[test]
    fn shortcuts_set_the_options() -> Result<()> {
        let ctx = Context::new();
        let server_keys = crate::curve_keypair()?;
        let client_keys = crate::curve_keypair()?;
        let s = ctx.socket(SocketType::Dealer)?;
        assert_eq!(s.mechanism()?, Mechanism::Null);
        s.set_curve_server_keys(&server_keys)?;
        assert_eq!(s.mechanism()?, Mechanism::Curve);
        assert!(s.curve_server()?);
        assert_eq!(s.curve_publickey()?, server_keys.public);
        assert_eq!(s.curve_secretkey()?, server_keys.secret);

        let c = ctx.socket(SocketType::Dealer)?;
        c.set_curve_client(&server_keys.public, &client_keys)?;
        assert_eq!(c.mechanism()?, Mechanism::Curve);
        assert!(!c.curve_server()?);
        assert_eq!(c.curve_serverkey()?, server_keys.public);
        assert_eq!(c.curve_publickey()?, client_keys.public);

        let p = ctx.socket(SocketType::Dealer)?;
        p.set_plain_client("admin", "secret")?;
        assert_eq!(p.mechanism()?, Mechanism::Plain);
        assert_eq!(p.plain_username()?, "admin");
        assert_eq!(p.plain_password()?, "secret");
        assert!(!p.plain_server()?);
        assert!(matches!(
            p.set_plain_client("a\0b", "x"),
            Err(Error::InvalidInput { .. })
        ));
        Ok(())
    }

    #[test]
    fn zap_enforce_domain_is_available() -> Result<()> {
        let ctx = Context::new();
        let s = ctx.socket(SocketType::Rep)?;
        s.set_zap_domain("global")?;
        assert_eq!(s.zap_domain()?, "global");
        assert!(!s.zap_enforce_domain()?);
        s.set_zap_enforce_domain(true)?;
        assert!(s.zap_enforce_domain()?);
        // libzmq refuses an empty domain: "no domain" is the default.
        assert!(matches!(
            s.set_zap_domain("").map_err(|e| e.root().errno()),
            Err(Some(libc::EINVAL))
        ));
        Ok(())
    }
}
