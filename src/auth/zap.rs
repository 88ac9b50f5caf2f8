//! The ZAP protocol (ZeroMQ RFC 27/ZAP): typed requests and replies.
//!
//! libzmq asks the handler bound at [`ZAP_ENDPOINT`] whether to accept each
//! connection of a socket that uses PLAIN, CURVE, GSSAPI, or NULL with a ZAP
//! domain. The request and reply are multipart messages; this module turns
//! them into [`ZapRequest`] and [`ZapReply`] and back. Parsing is a pure
//! function over frames that never panics.
//!
//! ```
//! use zmqx::auth::zap::{Credentials, StatusCode, ZapReply, ZapRequest};
//!
//! let frames: [&[u8]; 8] = [b"1.0", b"7", b"global", b"127.0.0.1", b"", b"PLAIN", b"admin", b"secret"];
//! let request = ZapRequest::parse(&frames)?;
//! assert_eq!(request.domain, "global");
//! assert!(matches!(&request.credentials, Credentials::Plain { username, .. } if username == b"admin"));
//!
//! let reply = ZapReply::ok(&request, "admin");
//! assert_eq!(reply.status, StatusCode::Ok);
//! let wire = reply.to_frames()?;
//! assert_eq!(wire[2], b"200");
//! assert_eq!(ZapReply::parse(&wire)?, reply);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Malformed requests
//!
//! A request that cannot be understood is a [`ZapError`] holding the raw
//! frames. When it has a request id, [`ZapError::reply`] is the `500`
//! (internal error) reply to send, so the waiting connection fails at once;
//! without a request id there is nothing to answer and the request is
//! dropped. libzmq itself never sends such requests.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::IpAddr;

use crate::curve::CurveKey;

/// The endpoint a ZAP handler binds (`inproc://zeromq.zap.01`, RFC 27). One
/// handler per context.
pub const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// The ZAP version, the first frame of every request and reply.
pub const ZAP_VERSION: &[u8] = b"1.0";

/// A ZAP status code (RFC 27), reported on the server socket's monitor as
/// the value of `HANDSHAKE_FAILED_AUTH` when it is not 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `200`: accepted.
    Ok,
    /// `300`: a temporary error; libzmq closes the connection without
    /// telling the client why, and the client may retry.
    TemporaryError,
    /// `400`: authentication failed.
    AuthenticationFailure,
    /// `500`: an internal error of the handler (a malformed request, a
    /// failing credentials provider).
    InternalError,
}

impl StatusCode {
    /// The code as a number (200, 300, 400 or 500).
    pub fn code(self) -> u16 {
        match self {
            StatusCode::Ok => 200,
            StatusCode::TemporaryError => 300,
            StatusCode::AuthenticationFailure => 400,
            StatusCode::InternalError => 500,
        }
    }

    /// The code as it travels: three ASCII digits.
    pub fn as_bytes(self) -> &'static [u8; 3] {
        match self {
            StatusCode::Ok => b"200",
            StatusCode::TemporaryError => b"300",
            StatusCode::AuthenticationFailure => b"400",
            StatusCode::InternalError => b"500",
        }
    }

    /// The status of a number, if it is one of the four.
    pub fn from_code(code: u16) -> Option<StatusCode> {
        Some(match code {
            200 => StatusCode::Ok,
            300 => StatusCode::TemporaryError,
            400 => StatusCode::AuthenticationFailure,
            500 => StatusCode::InternalError,
            _ => return None,
        })
    }

    /// Parses the three-digit frame the way libzmq does: `2`, `3`, `4` or
    /// `5` followed by `00`.
    pub fn from_bytes(bytes: &[u8]) -> Option<StatusCode> {
        match bytes {
            b"200" => Some(StatusCode::Ok),
            b"300" => Some(StatusCode::TemporaryError),
            b"400" => Some(StatusCode::AuthenticationFailure),
            b"500" => Some(StatusCode::InternalError),
            _ => None,
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// The credentials of a ZAP request, by mechanism.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// `NULL`: none (address filtering only).
    Null,
    /// `PLAIN`: a username and a password, as sent (bytes; usually UTF-8).
    Plain {
        /// The username.
        username: Vec<u8>,
        /// The password.
        password: Vec<u8>,
    },
    /// `CURVE`: the client's long-term public key.
    Curve {
        /// The client's public key.
        public_key: CurveKey,
    },
    /// `GSSAPI`: the client's principal.
    Gssapi {
        /// The principal name, as sent.
        principal: Vec<u8>,
    },
    /// Another mechanism, with its credential frames as sent.
    Other {
        /// The mechanism name.
        mechanism: String,
        /// The credential frames.
        frames: Vec<Vec<u8>>,
    },
}

impl fmt::Debug for Credentials {
    /// Prints the PLAIN password as `<redacted>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Null => f.write_str("Null"),
            Credentials::Plain { username, .. } => f
                .debug_struct("Plain")
                .field("username", &String::from_utf8_lossy(username))
                .field("password", &format_args!("<redacted>"))
                .finish(),
            Credentials::Curve { public_key } => f
                .debug_struct("Curve")
                .field("public_key", public_key)
                .finish(),
            Credentials::Gssapi { principal } => f
                .debug_struct("Gssapi")
                .field("principal", &String::from_utf8_lossy(principal))
                .finish(),
            Credentials::Other { mechanism, frames } => f
                .debug_struct("Other")
                .field("mechanism", mechanism)
                .field("frames", &frames.len())
                .finish(),
        }
    }
}

impl Credentials {
    /// The mechanism name as it travels (`"NULL"`, `"PLAIN"`, `"CURVE"`,
    /// `"GSSAPI"`, or the other name).
    pub fn mechanism(&self) -> &str {
        match self {
            Credentials::Null => "NULL",
            Credentials::Plain { .. } => "PLAIN",
            Credentials::Curve { .. } => "CURVE",
            Credentials::Gssapi { .. } => "GSSAPI",
            Credentials::Other { mechanism, .. } => mechanism,
        }
    }
}

/// A parsed ZAP request (RFC 27), without its address envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapRequest {
    /// The request id, echoed in the reply.
    pub request_id: Vec<u8>,
    /// The socket's ZAP domain (`ZMQ_ZAP_DOMAIN`); empty when not set.
    pub domain: String,
    /// The client's address as libzmq reports it: an IP in text
    /// (`127.0.0.1`, `::1`, `fe80::1%eth0`; an IPv4 client of a dual-stack
    /// IPv6 listener is `::ffff:127.0.0.1`), or for IPC connections text
    /// that is no IP (empty, or `host:uid:gid:pid` where libzmq reads the
    /// peer's credentials). Compare IPs with [`peer_ip`](Self::peer_ip).
    pub address: String,
    /// The routing id of the server socket (`ZMQ_ROUTING_ID`), if any.
    pub identity: Vec<u8>,
    /// The mechanism and its credentials.
    pub credentials: Credentials,
}

/// A ZAP request that could not be parsed; the frames are handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed ZAP message: {reason}")]
pub struct ZapError {
    /// What is wrong.
    pub reason: String,
    /// The request id, when the message got that far (then it can be
    /// answered: see [`ZapError::reply`]).
    pub request_id: Option<Vec<u8>>,
    /// The frames as received (without the envelope).
    pub frames: Vec<Vec<u8>>,
}

impl ZapError {
    fn new<F: AsRef<[u8]>>(frames: &[F], reason: impl Into<String>) -> ZapError {
        ZapError {
            reason: reason.into(),
            request_id: frames.get(1).map(|f| f.as_ref().to_vec()),
            frames: frames.iter().map(|f| f.as_ref().to_vec()).collect(),
        }
    }

    /// The `500` reply for this malformed request, if it has a request id.
    pub fn reply(&self) -> Option<ZapReply> {
        self.request_id.as_ref().map(|id| ZapReply {
            request_id: id.clone(),
            status: StatusCode::InternalError,
            status_text: truncate_text(&format!("malformed request: {}", self.reason)),
            user_id: String::new(),
            metadata: Vec::new(),
        })
    }
}

/// ZAP text fields are at most 255 characters (RFC 27).
fn truncate_text(text: &str) -> String {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn utf8_field<F: AsRef<[u8]>>(frames: &[F], index: usize, what: &str) -> Result<String, ZapError> {
    let bytes = frames[index].as_ref();
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| ZapError::new(frames, format!("the {what} is not UTF-8")))
}

impl ZapRequest {
    /// Parses the frames of a request after the envelope: version, request
    /// id, domain, address, identity, mechanism, credentials…
    ///
    /// # Errors
    ///
    /// A [`ZapError`] (with the frames) for fewer than 6 frames, a version
    /// other than `1.0`, text fields that are not UTF-8, an empty mechanism,
    /// or credentials that do not fit the mechanism (PLAIN: 2 frames, CURVE:
    /// one 32-byte key, GSSAPI: 1 frame, NULL: none).
    pub fn parse<F: AsRef<[u8]>>(frames: &[F]) -> Result<ZapRequest, ZapError> {
        if frames.len() < 6 {
            return Err(ZapError::new(
                frames,
                format!("{} frames, a request has at least 6", frames.len()),
            ));
        }
        if frames[0].as_ref() != ZAP_VERSION {
            return Err(ZapError::new(
                frames,
                format!(
                    "unsupported version {:?} (expected \"1.0\")",
                    String::from_utf8_lossy(frames[0].as_ref())
                ),
            ));
        }
        let request_id = frames[1].as_ref().to_vec();
        let domain = utf8_field(frames, 2, "domain")?;
        let address = utf8_field(frames, 3, "address")?;
        let identity = frames[4].as_ref().to_vec();
        let mechanism = utf8_field(frames, 5, "mechanism")?;
        let creds = &frames[6..];
        let count = |n: usize| {
            if creds.len() == n {
                Ok(())
            } else {
                Err(ZapError::new(
                    frames,
                    format!(
                        "{mechanism} takes {n} credential frame(s), got {}",
                        creds.len()
                    ),
                ))
            }
        };
        let credentials = match mechanism.as_str() {
            "" => return Err(ZapError::new(frames, "the mechanism is empty")),
            "NULL" => {
                count(0)?;
                Credentials::Null
            }
            "PLAIN" => {
                count(2)?;
                Credentials::Plain {
                    username: creds[0].as_ref().to_vec(),
                    password: creds[1].as_ref().to_vec(),
                }
            }
            "CURVE" => {
                count(1)?;
                let public_key = CurveKey::from_bytes(creds[0].as_ref())
                    .map_err(|e| ZapError::new(frames, format!("the CURVE key is invalid: {e}")))?;
                Credentials::Curve { public_key }
            }
            "GSSAPI" => {
                count(1)?;
                Credentials::Gssapi {
                    principal: creds[0].as_ref().to_vec(),
                }
            }
            _ => Credentials::Other {
                mechanism: mechanism.clone(),
                frames: creds.iter().map(|f| f.as_ref().to_vec()).collect(),
            },
        };
        Ok(ZapRequest {
            request_id,
            domain,
            address,
            identity,
            credentials,
        })
    }

    /// The mechanism name (`"NULL"`, `"PLAIN"`, `"CURVE"`, `"GSSAPI"`…).
    pub fn mechanism(&self) -> &str {
        self.credentials.mechanism()
    }

    /// The client's IP in canonical form, `None` when the
    /// [`address`](Self::address) is no IP (IPC). An IPv4-mapped IPv6
    /// address (`::ffff:127.0.0.1`) is the IPv4 address, and an IPv6 zone
    /// (`%eth0`) is dropped: compare this, not the text, with an IP.
    pub fn peer_ip(&self) -> Option<IpAddr> {
        parse_ip(&self.address).map(|(ip, _)| ip)
    }

    /// The request as frames (without envelope), as libzmq sends it: for
    /// tests and for handlers that forward requests.
    pub fn to_frames(&self) -> Vec<Vec<u8>> {
        let mut frames = vec![
            ZAP_VERSION.to_vec(),
            self.request_id.clone(),
            self.domain.as_bytes().to_vec(),
            self.address.as_bytes().to_vec(),
            self.identity.clone(),
            self.mechanism().as_bytes().to_vec(),
        ];
        match &self.credentials {
            Credentials::Null => {}
            Credentials::Plain { username, password } => {
                frames.push(username.clone());
                frames.push(password.clone());
            }
            Credentials::Curve { public_key } => frames.push(public_key.as_bytes().to_vec()),
            Credentials::Gssapi { principal } => frames.push(principal.clone()),
            Credentials::Other { frames: f, .. } => frames.extend(f.iter().cloned()),
        }
        frames
    }
}

/// A ZAP reply (RFC 27), without its address envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapReply {
    /// The request id, echoed from the request.
    pub request_id: Vec<u8>,
    /// The verdict.
    pub status: StatusCode,
    /// Why (`"OK"`, `"Invalid password"`…); at most 255 bytes are sent.
    pub status_text: String,
    /// The user id for a 200 reply; libzmq shows it as the `"User-Id"`
    /// property of every message received from the connection
    /// ([`Message::gets`](crate::Message::gets)). Empty otherwise.
    pub user_id: String,
    /// Properties for a 200 reply, in ZMTP metadata format on the wire;
    /// libzmq shows them as message properties too.
    pub metadata: Vec<(String, Vec<u8>)>,
}

impl ZapReply {
    /// A `200 OK` reply with a user id.
    pub fn ok(request: &ZapRequest, user_id: impl Into<String>) -> ZapReply {
        ZapReply {
            request_id: request.request_id.clone(),
            status: StatusCode::Ok,
            status_text: "OK".to_string(),
            user_id: user_id.into(),
            metadata: Vec::new(),
        }
    }

    /// A refusal with a status (300, 400 or 500) and a reason.
    pub fn refuse(request: &ZapRequest, status: StatusCode, text: impl Into<String>) -> ZapReply {
        ZapReply {
            request_id: request.request_id.clone(),
            status,
            status_text: text.into(),
            user_id: String::new(),
            metadata: Vec::new(),
        }
    }

    /// A `400` reply (authentication failure).
    pub fn denied(request: &ZapRequest, text: impl Into<String>) -> ZapReply {
        ZapReply::refuse(request, StatusCode::AuthenticationFailure, text)
    }

    /// The six frames of the reply (version, request id, status code, status
    /// text, user id, metadata), without the envelope.
    ///
    /// A non-200 reply is sent with an empty user id and no metadata, as RFC
    /// 27 requires; text longer than 255 bytes is cut.
    ///
    /// # Errors
    ///
    /// A [`ZapError`] for metadata that ZMTP cannot carry (a name that is
    /// empty, longer than 255 bytes or not made of letters, digits and
    /// `-_.+`; a value over 4 GiB).
    pub fn to_frames(&self) -> Result<[Vec<u8>; 6], ZapError> {
        let ok = self.status == StatusCode::Ok;
        let mut metadata = Vec::new();
        if ok {
            for (name, value) in &self.metadata {
                let valid = !name.is_empty()
                    && name.len() <= 255
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b));
                let len = u32::try_from(value.len()).ok();
                match (valid, len) {
                    (true, Some(len)) => {
                        metadata.push(name.len() as u8);
                        metadata.extend_from_slice(name.as_bytes());
                        metadata.extend_from_slice(&len.to_be_bytes());
                        metadata.extend_from_slice(value);
                    }
                    _ => {
                        return Err(ZapError {
                            reason: format!("metadata property {name:?} cannot be sent"),
                            request_id: Some(self.request_id.clone()),
                            frames: Vec::new(),
                        });
                    }
                }
            }
        }
        Ok([
            ZAP_VERSION.to_vec(),
            self.request_id.clone(),
            self.status.as_bytes().to_vec(),
            truncate_text(&self.status_text).into_bytes(),
            if ok {
                truncate_text(&self.user_id).into_bytes()
            } else {
                Vec::new()
            },
            metadata,
        ])
    }

    /// Parses the six frames of a reply (for handlers' tests and proxies).
    ///
    /// # Errors
    ///
    /// A [`ZapError`] for anything but 6 frames, a bad version or status
    /// code, text that is not UTF-8, or malformed metadata.
    pub fn parse<F: AsRef<[u8]>>(frames: &[F]) -> Result<ZapReply, ZapError> {
        if frames.len() != 6 {
            return Err(ZapError::new(
                frames,
                format!("{} frames, a reply has 6", frames.len()),
            ));
        }
        if frames[0].as_ref() != ZAP_VERSION {
            return Err(ZapError::new(frames, "unsupported version"));
        }
        let status = StatusCode::from_bytes(frames[2].as_ref())
            .ok_or_else(|| ZapError::new(frames, "invalid status code"))?;
        let status_text = utf8_field(frames, 3, "status text")?;
        let user_id = utf8_field(frames, 4, "user id")?;
        let mut metadata = Vec::new();
        let mut rest = frames[5].as_ref();
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len);
            let (Some(name), Some(size)) = (tail.get(..len), tail.get(len..len + 4)) else {
                return Err(ZapError::new(frames, "truncated metadata"));
            };
            let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
            let start = len + 4;
            let Some(value) = start.checked_add(size).and_then(|end| tail.get(start..end)) else {
                return Err(ZapError::new(frames, "truncated metadata"));
            };
            let name = std::str::from_utf8(name)
                .map_err(|_| ZapError::new(frames, "a metadata name is not UTF-8"))?;
            metadata.push((name.to_string(), value.to_vec()));
            rest = &tail[start + size..];
        }
        Ok(ZapReply {
            request_id: frames[1].as_ref().to_vec(),
            status,
            status_text,
            user_id,
            metadata,
        })
    }
}

/// Parses an IP address in the text forms a ZAP request or an address rule
/// may use: plain, in brackets (`[::1]`), with an IPv6 zone
/// (`fe80::1%eth0`), surrounded by spaces. Returns the IP in canonical form
/// (an IPv4-mapped IPv6 address becomes IPv4, as a dual-stack listener
/// reports IPv4 clients that way) and the zone, kept for IPv6 only.
/// `None` for anything else, including a zone on an IPv4 address.
pub(crate) fn parse_ip(text: &str) -> Option<(IpAddr, Option<&str>)> {
    let text = text.trim();
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let (ip, zone) = match text.split_once('%') {
        Some((ip, zone)) => (ip, Some(zone)),
        None => (text, None),
    };
    let ip: IpAddr = ip.parse().ok()?;
    if let Some(zone) = zone {
        let bad = |c: char| c.is_whitespace() || c.is_control() || c == '%';
        if !ip.is_ipv6() || zone.is_empty() || zone.contains(bad) {
            return None;
        }
    }
    let ip = ip.to_canonical();
    Some((ip, zone.filter(|_| ip.is_ipv6())))
}

/// Splits a message received on a ROUTER (or from a proxy) into its address
/// envelope — every frame up to and including the first empty one — and the
/// ZAP body after it. `None` when there is no empty delimiter frame.
pub fn split_envelope<F: AsRef<[u8]>>(frames: &[F]) -> Option<(&[F], &[F])> {
    let delimiter = frames.iter().position(|f| f.as_ref().is_empty())?;
    Some(frames.split_at(delimiter + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(mechanism: &[u8], creds: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut f: Vec<Vec<u8>> = vec![
            b"1.0".to_vec(),
            b"id".to_vec(),
            b"dom".to_vec(),
            b"127.0.0.1".to_vec(),
            b"IDENT".to_vec(),
            mechanism.to_vec(),
        ];
        f.extend(creds.iter().map(|c| c.to_vec()));
        f
    }

    #[test]
    fn parses_each_mechanism() -> Result<(), ZapError> {
        let r = ZapRequest::parse(&request(b"NULL", &[]))?;
        assert_eq!(r.credentials, Credentials::Null);
        assert_eq!(r.identity, b"IDENT");
        assert_eq!(r.address, "127.0.0.1");
        let r = ZapRequest::parse(&request(b"PLAIN", &[b"u", b"p"]))?;
        assert_eq!(r.mechanism(), "PLAIN");
        assert!(!format!("{r:?}").contains("\"p\""), "password leaked");
        let key = [7u8; 32];
        let r = ZapRequest::parse(&request(b"CURVE", &[&key]))?;
        assert_eq!(
            r.credentials,
            Credentials::Curve {
                public_key: CurveKey::from(key)
            }
        );
        let r = ZapRequest::parse(&request(b"GSSAPI", &[b"me@REALM"]))?;
        assert_eq!(r.mechanism(), "GSSAPI");
        let r = ZapRequest::parse(&request(b"X-NEW", &[b"a", b"b", b"c"]))?;
        assert_eq!(r.mechanism(), "X-NEW");
        // Round trip through frames.
        for m in [&b"NULL"[..], b"PLAIN", b"CURVE", b"GSSAPI"] {
            let creds: Vec<&[u8]> = match m {
                b"PLAIN" => vec![b"u", b"p"],
                b"CURVE" => vec![&key],
                b"GSSAPI" => vec![b"x"],
                _ => vec![],
            };
            let frames = request(m, &creds);
            assert_eq!(ZapRequest::parse(&frames)?.to_frames(), frames);
        }
        Ok(())
    }

    #[test]
    fn malformed_requests() {
        let cases: Vec<(Vec<Vec<u8>>, bool)> = vec![
            (vec![], false),
            (vec![b"1.0".to_vec()], false),
            (request(b"NULL", &[])[..5].to_vec(), true),
            (
                {
                    let mut r = request(b"NULL", &[]);
                    r[0] = b"2.0".to_vec();
                    r
                },
                true,
            ),
            (request(b"PLAIN", &[b"u"]), true),
            (request(b"CURVE", &[b"short"]), true),
            (request(b"NULL", &[b"extra"]), true),
            (request(b"", &[]), true),
            (request(b"\xff", &[]), true),
        ];
        for (frames, answerable) in cases {
            let e = ZapRequest::parse(&frames).expect_err("malformed");
            assert_eq!(e.frames, frames);
            match e.reply() {
                Some(reply) => {
                    assert!(answerable, "{e}");
                    assert_eq!(reply.status, StatusCode::InternalError);
                    assert_eq!(reply.request_id, frames[1]);
                    let wire = reply.to_frames().expect("a 500 reply encodes");
                    assert_eq!(wire[2], b"500");
                    assert!(wire[4].is_empty());
                }
                None => assert!(!answerable, "{e}"),
            }
        }
    }

    #[test]
    fn reply_frames() -> Result<(), ZapError> {
        let req = ZapRequest::parse(&request(b"NULL", &[]))?;
        let mut ok = ZapReply::ok(&req, "anonymous");
        ok.metadata.push(("Hello".into(), b"World".to_vec()));
        let wire = ok.to_frames()?;
        assert_eq!(wire[0], b"1.0");
        assert_eq!(wire[1], b"id");
        assert_eq!(wire[3], b"OK");
        assert_eq!(wire[4], b"anonymous");
        assert_eq!(wire[5], b"\x05Hello\0\0\0\x05World");
        assert_eq!(ZapReply::parse(&wire)?, ok);

        // Refusals carry no user id or metadata.
        let mut no = ZapReply::denied(&req, "x".repeat(300));
        no.user_id = "ignored".into();
        no.metadata.push(("A".into(), b"b".to_vec()));
        let wire = no.to_frames()?;
        assert_eq!(wire[2], b"400");
        assert_eq!(wire[3].len(), 255);
        assert!(wire[4].is_empty() && wire[5].is_empty());

        ok.metadata = vec![("bad name".into(), Vec::new())];
        assert!(ok.to_frames().is_err());
        assert_eq!(StatusCode::from_code(300), Some(StatusCode::TemporaryError));
        assert_eq!(StatusCode::from_code(201), None);
        assert_eq!(StatusCode::InternalError.to_string(), "500");
        Ok(())
    }

    #[test]
    fn peer_ips() {
        let ip = |address: &str| {
            let mut frames = request(b"NULL", &[]);
            frames[3] = address.as_bytes().to_vec();
            ZapRequest::parse(&frames).expect("well formed").peer_ip()
        };
        let v4: IpAddr = [127, 0, 0, 1].into();
        assert_eq!(ip("127.0.0.1"), Some(v4));
        assert_eq!(ip("::ffff:127.0.0.1"), Some(v4));
        assert_eq!(ip("::1"), Some(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
        assert_eq!(ip("fe80::1%eth0"), "fe80::1".parse().ok());
        assert_eq!(ip(""), None);
        assert_eq!(ip("localhost:1000:1000:42"), None);
        assert_eq!(
            parse_ip("fe80::1%eth0"),
            Some(("fe80::1".parse().expect("ip"), Some("eth0")))
        );
        assert_eq!(
            parse_ip("::ffff:10.0.0.1%eth0"),
            Some(([10, 0, 0, 1].into(), None))
        );
        assert_eq!(parse_ip("10.0.0.1%eth0"), None);
    }

    #[test]
    fn envelopes() {
        let frames: [&[u8]; 4] = [b"\0\x01", b"", b"1.0", b"x"];
        let (env, body) = split_envelope(&frames).expect("has a delimiter");
        assert_eq!(env.len(), 2);
        assert_eq!(body, &frames[2..]);
        assert!(split_envelope(&[b"a"]).is_none());
    }

    #[test]
    fn random_frames_never_panic() {
        let mut state = 0x1234_5678_9ABC_DEF1_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let words: [&[u8]; 9] = [
            b"1.0",
            b"NULL",
            b"PLAIN",
            b"CURVE",
            b"GSSAPI",
            b"",
            b"127.0.0.1",
            &[0xff],
            &[9; 32],
        ];
        for _ in 0..20_000 {
            let n = (next() % 10) as usize;
            let frames: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let r = next();
                    if r % 2 == 0 {
                        words[(r >> 8) as usize % words.len()].to_vec()
                    } else {
                        (0..(r >> 8) % 40).map(|_| next() as u8).collect()
                    }
                })
                .collect();
            match ZapRequest::parse(&frames) {
                Ok(r) => assert_eq!(r.to_frames(), frames),
                Err(e) => {
                    assert_eq!(e.frames, frames);
                    if let Some(reply) = e.reply() {
                        assert!(reply.to_frames().is_ok());
                    }
                }
            }
            let _ = ZapReply::parse(&frames);
            let _ = split_envelope(&frames);
        }
    }
}
