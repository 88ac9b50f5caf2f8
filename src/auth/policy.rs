//! The authentication policy: which addresses, passwords and keys are
//! accepted (pyzmq's `zmq.auth.Authenticator`, without the socket).
//!
//! [`Authenticator`] is plain data with a pure [`handle`](Authenticator::handle)
//! method from [`ZapRequest`] to [`ZapReply`]; the
//! [`ThreadAuthenticator`](super::ThreadAuthenticator) runs it on a ZAP
//! socket in a background thread.
//!
//! ```
//! use zmqx::auth::Authenticator;
//! use zmqx::auth::zap::{StatusCode, ZapRequest};
//!
//! let mut auth = Authenticator::new();
//! auth.configure_plain("*", [("admin", "secret")]);
//!
//! let ask = |password: &[u8]| {
//!     let frames: [&[u8]; 8] = [b"1.0", b"1", b"", b"127.0.0.1", b"", b"PLAIN", b"admin", password];
//!     auth.handle(&ZapRequest::parse(&frames).expect("well formed"))
//! };
//! assert_eq!(ask(b"secret").status, StatusCode::Ok);
//! assert_eq!(ask(b"secret").user_id, "admin");
//! assert_eq!(ask(b"wrong").status, StatusCode::AuthenticationFailure);
//! ```
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::certs::load_certificates;
use super::error::CertificateError;
use super::zap::{Credentials, StatusCode, ZapReply, ZapRequest, parse_ip, split_envelope};
use crate::curve::CurveKey;
use crate::error::{Error, Result};

/// The `location` of [`Authenticator::configure_curve`] that accepts every
/// client key (pyzmq's `zmq.auth.CURVE_ALLOW_ANY`).
pub const CURVE_ALLOW_ANY: &str = "*";

/// The domain that stands for every domain (as in pyzmq's `configure_*`).
pub const ANY_DOMAIN: &str = "*";

/// The answer of a [`CredentialsProvider`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accept the key (ZAP status 200).
    Allow,
    /// Refuse the key (400).
    Deny,
    /// The provider cannot decide now, for example its database is down
    /// (300: libzmq drops the connection and the client may retry).
    TryLater(String),
}

impl From<bool> for Verdict {
    fn from(allow: bool) -> Verdict {
        if allow { Verdict::Allow } else { Verdict::Deny }
    }
}

/// Decides on CURVE client keys at connection time, for example by looking
/// them up in a database (the object pyzmq's `configure_curve_callback`
/// takes).
///
/// Implement [`callback`](Self::callback); override
/// [`verdict`](Self::verdict) to report temporary failures. Closures
/// `Fn(&str, &CurveKey) -> bool` implement it too.
///
/// The provider runs on the authenticator's thread, one request at a time; a
/// panic in it becomes a 500 reply, never a crash of that thread.
pub trait CredentialsProvider: Send + Sync {
    /// Whether `key` may connect in `domain` (pyzmq's
    /// `callback(domain, key)`, which receives the key as Z85; call
    /// [`CurveKey::to_z85`] for that).
    fn callback(&self, domain: &str, key: &CurveKey) -> bool;

    /// The full answer; by default [`callback`](Self::callback) as allow or
    /// deny.
    fn verdict(&self, domain: &str, key: &CurveKey) -> Verdict {
        self.callback(domain, key).into()
    }
}

impl<F> CredentialsProvider for F
where
    F: Fn(&str, &CurveKey) -> bool + Send + Sync,
{
    fn callback(&self, domain: &str, key: &CurveKey) -> bool {
        self(domain, key)
    }
}

/// The future an [`AsyncCredentialsProvider`] returns.
pub type VerdictFuture = Pin<Box<dyn Future<Output = Verdict> + Send + 'static>>;

/// Decides on CURVE client keys with a lookup that awaits, for example a
/// database query (pyzmq's `configure_curve_callback` with a callback whose
/// `callback` method is a coroutine).
///
/// Closures `Fn(String, CurveKey) -> impl Future<Output = V>` implement it,
/// where `V` is a [`Verdict`] or a `bool`:
///
/// ```
/// use zmqx::auth::{Authenticator, Verdict};
/// use zmqx::CurveKey;
///
/// let mut policy = Authenticator::new();
/// policy.configure_curve_callback_async("*", |domain: String, key: CurveKey| async move {
///     // An awaited lookup: `db.is_allowed(&domain, &key).await` and so on.
///     let _ = (domain, key);
///     Verdict::Allow
/// });
/// ```
///
/// In an `AsyncAuthenticator`
/// each lookup runs as a task of its own, so a slow lookup does not hold up
/// the other connections' handshakes. The
/// [`ThreadAuthenticator`](super::ThreadAuthenticator) (and
/// [`Authenticator::handle`]) runs the future to completion on the calling
/// thread without a tokio runtime, one request at a time: there, use futures
/// that need no runtime. A panic, in the call or in the future, becomes a
/// 500 reply.
pub trait AsyncCredentialsProvider: Send + Sync {
    /// The verdict on `key` in `domain`, as a future that owns what it
    /// needs.
    fn verdict(&self, domain: &str, key: &CurveKey) -> VerdictFuture;
}

impl<F, Fut, V> AsyncCredentialsProvider for F
where
    F: Fn(String, CurveKey) -> Fut + Send + Sync,
    Fut: Future<Output = V> + Send + 'static,
    V: Into<Verdict>,
{
    fn verdict(&self, domain: &str, key: &CurveKey) -> VerdictFuture {
        let lookup = self(domain.to_string(), *key);
        Box::pin(async move { lookup.await.into() })
    }
}

/// How CURVE clients of one domain are checked.
#[derive(Clone)]
enum CurvePolicy {
    AllowAny,
    Keys(HashSet<CurveKey>),
    Provider(Arc<dyn CredentialsProvider>),
    AsyncProvider(Arc<dyn AsyncCredentialsProvider>),
}

impl fmt::Debug for CurvePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurvePolicy::AllowAny => f.write_str("AllowAny"),
            CurvePolicy::Keys(k) => write!(f, "Keys({} keys)", k.len()),
            CurvePolicy::Provider(_) => f.write_str("Provider"),
            CurvePolicy::AsyncProvider(_) => f.write_str("AsyncProvider"),
        }
    }
}

/// The reply to a ZAP request that an [`AsyncCredentialsProvider`] is still
/// deciding on.
pub(crate) type PendingReply = Pin<Box<dyn Future<Output = ZapReply> + Send + 'static>>;

/// What the policy says about a request: a reply now, or one to await.
pub(crate) enum Answer {
    Now(ZapReply),
    Later(PendingReply),
}

/// An address rule: an IP in canonical form, and the IPv6 zone it is
/// limited to (`None`: any zone).
type AddressRule = (IpAddr, Option<String>);

/// Maps an accepted CURVE client key to the user id the server sees.
type UserIdMap = Arc<dyn Fn(&CurveKey) -> String + Send + Sync>;

/// A ZAP authentication policy (pyzmq's `Authenticator`, czmq's `zauth`
/// rules) with a pure [`handle`](Self::handle) from request to reply.
///
/// Until a policy is added, NULL connections are accepted and PLAIN and
/// CURVE ones refused (as pyzmq). Then:
///
/// - **Addresses**: [`allow`](Self::allow) accepts NULL clients from the
///   listed IPs and lets PLAIN/CURVE clients from them go on to their
///   check, refusing every other address; [`deny`](Self::deny) refuses the
///   listed IPs and treats the rest as unlisted. The two are exclusive.
/// - **PLAIN**: [`configure_plain`](Self::configure_plain) sets the
///   passwords of a domain.
/// - **CURVE**: [`configure_curve`](Self::configure_curve) (a directory of
///   public certificates, or [`CURVE_ALLOW_ANY`]) or
///   [`configure_curve_callback`](Self::configure_curve_callback).
/// - **GSSAPI**: accepted (GSSAPI authenticates through Kerberos before ZAP
///   is asked), with the principal as user id, as pyzmq does.
///
/// Domains: a socket's ZAP domain (`ZMQ_ZAP_DOMAIN`, empty when unset) picks
/// the domain's rules, and [`ANY_DOMAIN`] (`"*"`) applies to every domain
/// that has no rules of its own. (pyzmq documents `"*"` this way but only
/// applies it to sockets without a domain.) Configuring a domain again
/// replaces its rules: that is how a changed password list or certificate
/// directory is reloaded.
///
/// Replies: 200 with a user id (`"anonymous"` for NULL, the username for
/// PLAIN, [`curve_user_id`](Self::set_curve_user_id) for CURVE), 400 with a
/// reason for a refusal, 300 when a [`CredentialsProvider`] says
/// [`Verdict::TryLater`], 500 when a provider or user-id hook panics.
#[derive(Clone, Default)]
pub struct Authenticator {
    allowed: HashSet<AddressRule>,
    denied: HashSet<AddressRule>,
    passwords: HashMap<String, HashMap<String, String>>,
    curve: HashMap<String, CurvePolicy>,
    user_id: Option<UserIdMap>,
}

impl fmt::Debug for Authenticator {
    /// Lists the rules, never the passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain: HashMap<&String, usize> =
            self.passwords.iter().map(|(d, p)| (d, p.len())).collect();
        f.debug_struct("Authenticator")
            .field("allowed", &self.allowed)
            .field("denied", &self.denied)
            .field("plain_users_per_domain", &plain)
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// Parses address rules, all or none.
fn address_rules<I, S>(what: &str, addresses: I) -> Result<Vec<AddressRule>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    addresses
        .into_iter()
        .map(|a| {
            let a = a.as_ref();
            parse_ip(a)
                .map(|(ip, zone)| (ip, zone.map(str::to_string)))
                .ok_or_else(|| {
                    Error::invalid(
                        format!("{what} address {a:?}"),
                        "not an IP address (rules match the client's IP: \
                         host names, ports and networks are not supported)",
                    )
                })
        })
        .collect()
}

/// Whether a client's address is in a rule set. A rule without a zone
/// holds for the address on every interface.
fn listed(rules: &HashSet<AddressRule>, ip: IpAddr, zone: Option<&str>) -> bool {
    if rules.contains(&(ip, None)) {
        return true;
    }
    zone.is_some_and(|z| {
        rules
            .iter()
            .any(|(r, rz)| *r == ip && rz.as_deref() == Some(z))
    })
}

impl Authenticator {
    /// An empty policy: NULL accepted, PLAIN and CURVE refused.
    pub fn new() -> Authenticator {
        Authenticator::default()
    }

    /// Accepts clients from these addresses only (pyzmq's `allow`): NULL
    /// clients from them pass, PLAIN and CURVE clients from them go on to
    /// their own check; every other address is refused. Calls add up.
    ///
    /// Addresses are IPs, compared as IPs whatever their text: `::1` and
    /// `0:0::1` are the same, and an IPv4-mapped IPv6 address
    /// (`::ffff:127.0.0.1`, what a dual-stack IPv6 listener reports for an
    /// IPv4 client) is the IPv4 address, on either side. An IPv6 address
    /// may have a zone (`fe80::1%eth0`: only on that interface; without a
    /// zone, on any) and brackets (`[::1]`). IPv4-compatible addresses
    /// (`::127.0.0.1`, deprecated) stay IPv6: `::1` is one of them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an address that is not an IP (a host
    /// name, a port, a network): nothing is added then; and if
    /// [`deny`](Self::deny) was used: the two are exclusive, as in pyzmq.
    pub fn allow<I, S>(&mut self, addresses: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if !self.denied.is_empty() {
            return Err(Error::invalid(
                "Authenticator::allow",
                "use either allow or deny, not both",
            ));
        }
        self.allowed.extend(address_rules("allowed", addresses)?);
        Ok(())
    }

    /// Refuses clients from these addresses (pyzmq's `deny`); others go on
    /// to their mechanism's check. Calls add up. Addresses are compared as
    /// in [`allow`](Self::allow), so a denied IPv4 address is refused also
    /// when it arrives IPv4-mapped.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an address that is not an IP (nothing is
    /// added then), or if [`allow`](Self::allow) was used.
    pub fn deny<I, S>(&mut self, addresses: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if !self.allowed.is_empty() {
            return Err(Error::invalid(
                "Authenticator::deny",
                "use either allow or deny, not both",
            ));
        }
        self.denied.extend(address_rules("denied", addresses)?);
        Ok(())
    }

    /// Sets the PLAIN usernames and passwords of `domain` (`"*"`: every
    /// domain without its own), replacing the domain's previous ones
    /// (pyzmq's `configure_plain`).
    pub fn configure_plain<I, U, P>(&mut self, domain: &str, passwords: I)
    where
        I: IntoIterator<Item = (U, P)>,
        U: Into<String>,
        P: Into<String>,
    {
        let table = passwords
            .into_iter()
            .map(|(u, p)| (u.into(), p.into()))
            .collect();
        self.passwords.insert(domain.to_string(), table);
    }

    /// Accepts CURVE clients of `domain` whose public key is in a `*.key`
    /// certificate of the directory `location`, or every client when
    /// `location` is [`CURVE_ALLOW_ANY`] (pyzmq's `configure_curve`).
    ///
    /// The directory is read now; call again after adding or removing
    /// certificates. This replaces any CURVE rule of the domain.
    ///
    /// # Errors
    ///
    /// A [`CertificateError`] when the directory or a certificate in it
    /// cannot be read; the previous rule of the domain is then kept. (pyzmq
    /// logs the error and leaves the domain unconfigured.)
    pub fn configure_curve(
        &mut self,
        domain: &str,
        location: impl AsRef<Path>,
    ) -> std::result::Result<(), CertificateError> {
        let location = location.as_ref();
        if location.as_os_str() == CURVE_ALLOW_ANY {
            self.configure_curve_allow_any(domain);
            return Ok(());
        }
        let keys = load_certificates(location)?;
        self.curve
            .insert(domain.to_string(), CurvePolicy::Keys(keys));
        Ok(())
    }

    /// Accepts every CURVE client of `domain` (encryption without client
    /// authentication; `configure_curve(domain, CURVE_ALLOW_ANY)`).
    pub fn configure_curve_allow_any(&mut self, domain: &str) {
        self.curve.insert(domain.to_string(), CurvePolicy::AllowAny);
    }

    /// Accepts CURVE clients of `domain` whose public key is in `keys`.
    pub fn configure_curve_keys<I>(&mut self, domain: &str, keys: I)
    where
        I: IntoIterator<Item = CurveKey>,
    {
        self.curve.insert(
            domain.to_string(),
            CurvePolicy::Keys(keys.into_iter().collect()),
        );
    }

    /// Asks `provider` about each CURVE client of `domain` (pyzmq's
    /// `configure_curve_callback`).
    pub fn configure_curve_callback<P>(&mut self, domain: &str, provider: P)
    where
        P: CredentialsProvider + 'static,
    {
        self.curve.insert(
            domain.to_string(),
            CurvePolicy::Provider(Arc::new(provider)),
        );
    }

    /// Asks `provider`, which awaits its answer, about each CURVE client of
    /// `domain` (pyzmq's `configure_curve_callback` with an async
    /// callback). See [`AsyncCredentialsProvider`] for how each
    /// authenticator runs it.
    pub fn configure_curve_callback_async<P>(&mut self, domain: &str, provider: P)
    where
        P: AsyncCredentialsProvider + 'static,
    {
        self.curve.insert(
            domain.to_string(),
            CurvePolicy::AsyncProvider(Arc::new(provider)),
        );
    }

    /// GSSAPI needs no configuration: GSSAPI clients are always accepted
    /// (pyzmq's `configure_gssapi` is a no-op too). Kept for parity.
    pub fn configure_gssapi(&mut self, domain: &str) {
        let _ = domain;
    }

    /// Sets how an accepted CURVE client key becomes the user id that the
    /// server sees as the `"User-Id"` message property (pyzmq's overridable
    /// `curve_user_id`). The default is the key's Z85 text.
    pub fn set_curve_user_id<F>(&mut self, map: F)
    where
        F: Fn(&CurveKey) -> String + Send + Sync + 'static,
    {
        self.user_id = Some(Arc::new(map));
    }

    /// Goes back to the default user id (the client key's Z85 text).
    pub fn reset_curve_user_id(&mut self) {
        self.user_id = None;
    }

    /// The user id for an accepted CURVE key.
    pub fn curve_user_id(&self, key: &CurveKey) -> String {
        match &self.user_id {
            Some(map) => map(key),
            None => key.to_z85(),
        }
    }

    /// Removes every rule: back to NULL accepted, PLAIN and CURVE refused.
    pub fn clear(&mut self) {
        *self = Authenticator::new();
    }

    /// Answers a ZAP request (pyzmq's `handle_zap_message`, as a function
    /// of the request). An [`AsyncCredentialsProvider`] is run to
    /// completion on this thread.
    pub fn handle(&self, request: &ZapRequest) -> ZapReply {
        match self.answer(request) {
            Answer::Now(reply) => reply,
            Answer::Later(pending) => block_on(pending),
        }
    }

    /// Answers a request, or says what to await for the answer.
    pub(crate) fn answer(&self, request: &ZapRequest) -> Answer {
        // Address filtering first, as pyzmq and czmq do. A listed address
        // only lets a client on to its mechanism's check; NULL has none.
        // The client's address in canonical form: an IPv4 client of a
        // dual-stack listener arrives as `::ffff:a.b.c.d`. An address that
        // is no IP (IPC peers) is in no rule.
        let address = parse_ip(&request.address);
        let is_listed = |rules: &HashSet<AddressRule>| {
            address.is_some_and(|(ip, zone)| listed(rules, ip, zone))
        };
        if !self.allowed.is_empty() {
            if !is_listed(&self.allowed) {
                return Answer::Now(ZapReply::denied(request, "Address not allowed"));
            }
        } else if is_listed(&self.denied) {
            return Answer::Now(ZapReply::denied(request, "Address denied"));
        }

        Answer::Now(match &request.credentials {
            Credentials::Null => ZapReply::ok(request, "anonymous"),
            Credentials::Plain { username, password } => {
                self.check_plain(request, username, password)
            }
            Credentials::Curve { public_key } => return self.check_curve(request, public_key),
            Credentials::Gssapi { principal } => {
                ZapReply::ok(request, String::from_utf8_lossy(principal))
            }
            Credentials::Other { mechanism, .. } => {
                ZapReply::denied(request, format!("Unsupported mechanism {mechanism}"))
            }
        })
    }

    /// Answers the frames of a ZAP request as a REP socket receives them
    /// (no envelope): the six reply frames to send, or `None` for a message
    /// too malformed to answer (no request id). Malformed requests with a
    /// request id get a 500 reply.
    pub fn handle_frames<F: AsRef<[u8]>>(&self, body: &[F]) -> Option<[Vec<u8>; 6]> {
        let reply = match ZapRequest::parse(body) {
            Ok(request) => self.handle(&request),
            Err(e) => e.reply()?,
        };
        reply_frames(reply)
    }

    /// Answers a ZAP message as a ROUTER socket receives it (routing ids,
    /// an empty delimiter, then the request): the whole reply message,
    /// envelope included, or `None` when there is nothing to answer (no
    /// delimiter, or no request id).
    pub fn handle_routed<F: AsRef<[u8]>>(&self, frames: &[F]) -> Option<Vec<Vec<u8>>> {
        let (envelope, body) = split_envelope(frames)?;
        let reply = self.handle_frames(body)?;
        Some(routed(envelope, reply))
    }

    /// [`handle_routed`](Self::handle_routed) for the async authenticator:
    /// the envelope and the answer, now or to await.
    #[cfg(all(feature = "tokio", unix))]
    pub(crate) fn answer_routed<F: AsRef<[u8]>>(
        &self,
        frames: &[F],
    ) -> Option<(Vec<Vec<u8>>, Answer)> {
        let (envelope, body) = split_envelope(frames)?;
        let envelope = envelope.iter().map(|f| f.as_ref().to_vec()).collect();
        let answer = match ZapRequest::parse(body) {
            Ok(request) => self.answer(&request),
            Err(e) => Answer::Now(e.reply()?),
        };
        Some((envelope, answer))
    }

    /// The rules of a domain: its own, else those of `"*"`.
    fn rules<'a, T>(map: &'a HashMap<String, T>, domain: &str) -> Option<&'a T> {
        map.get(domain).or_else(|| map.get(ANY_DOMAIN))
    }

    fn check_plain(&self, request: &ZapRequest, username: &[u8], password: &[u8]) -> ZapReply {
        if self.passwords.is_empty() {
            return ZapReply::denied(request, "No passwords defined");
        }
        let Some(table) = Self::rules(&self.passwords, &request.domain) else {
            return ZapReply::denied(request, "Invalid domain");
        };
        let Some(expected) = std::str::from_utf8(username)
            .ok()
            .and_then(|u| table.get(u))
        else {
            return ZapReply::denied(request, "Invalid username");
        };
        if !constant_time_eq(expected.as_bytes(), password) {
            return ZapReply::denied(request, "Invalid password");
        }
        ZapReply::ok(request, String::from_utf8_lossy(username))
    }

    fn check_curve(&self, request: &ZapRequest, key: &CurveKey) -> Answer {
        let Some(policy) = Self::rules(&self.curve, &request.domain) else {
            return Answer::Now(ZapReply::denied(request, "Unknown domain"));
        };
        let verdict = match policy {
            CurvePolicy::AllowAny => Verdict::Allow,
            CurvePolicy::Keys(keys) => keys.contains(key).into(),
            CurvePolicy::Provider(provider) => {
                match catch_unwind(AssertUnwindSafe(|| provider.verdict(&request.domain, key))) {
                    Ok(v) => v,
                    Err(_) => return Answer::Now(provider_panicked(request)),
                }
            }
            CurvePolicy::AsyncProvider(provider) => {
                let lookup =
                    catch_unwind(AssertUnwindSafe(|| provider.verdict(&request.domain, key)));
                let Ok(lookup) = lookup else {
                    return Answer::Now(provider_panicked(request));
                };
                let (request, key, user_id) = (request.clone(), *key, self.user_id.clone());
                return Answer::Later(Box::pin(async move {
                    match (CatchUnwind(lookup)).await {
                        Some(verdict) => curve_reply(&request, &key, verdict, user_id.as_ref()),
                        None => provider_panicked(&request),
                    }
                }));
            }
        };
        Answer::Now(curve_reply(request, key, verdict, self.user_id.as_ref()))
    }
}

fn provider_panicked(request: &ZapRequest) -> ZapReply {
    ZapReply::refuse(
        request,
        StatusCode::InternalError,
        "the credentials provider panicked",
    )
}

/// The reply to a CURVE client once the verdict on its key is known.
fn curve_reply(
    request: &ZapRequest,
    key: &CurveKey,
    verdict: Verdict,
    user_id: Option<&UserIdMap>,
) -> ZapReply {
    match verdict {
        Verdict::Allow => {
            let user = catch_unwind(AssertUnwindSafe(|| match user_id {
                Some(map) => map(key),
                None => key.to_z85(),
            }));
            match user {
                Ok(user) => ZapReply::ok(request, user),
                Err(_) => ZapReply::refuse(
                    request,
                    StatusCode::InternalError,
                    "the curve_user_id mapping panicked",
                ),
            }
        }
        Verdict::Deny => ZapReply::denied(request, "Unknown key"),
        Verdict::TryLater(why) => ZapReply::refuse(request, StatusCode::TemporaryError, why),
    }
}

/// The six frames of a reply; a reply whose metadata cannot be encoded
/// becomes a 500 without it.
pub(crate) fn reply_frames(reply: ZapReply) -> Option<[Vec<u8>; 6]> {
    match reply.to_frames() {
        Ok(frames) => Some(frames),
        // Only metadata can fail to encode: answer 500 without it.
        Err(e) => ZapReply {
            metadata: Vec::new(),
            status: StatusCode::InternalError,
            status_text: e.reason,
            ..reply
        }
        .to_frames()
        .ok(),
    }
}

/// A whole reply message: the envelope, then the reply's frames.
pub(crate) fn routed<F: AsRef<[u8]>>(envelope: &[F], reply: [Vec<u8>; 6]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(envelope.len() + reply.len());
    out.extend(envelope.iter().map(|f| f.as_ref().to_vec()));
    out.extend(reply);
    out
}

/// A future's output, or `None` when polling it panicked.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = Pin::new(&mut self.0);
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// Wakes the thread that runs [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (no runtime: the future is
/// polled whenever its waker is called).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Compares without an early exit on the first differing byte, so the time
/// taken does not tell how much of a guessed password was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::zap::ZapRequest;

    fn req(domain: &str, address: &str, mechanism: &str, creds: &[&[u8]]) -> ZapRequest {
        let mut frames: Vec<Vec<u8>> = vec![
            b"1.0".to_vec(),
            b"42".to_vec(),
            domain.as_bytes().to_vec(),
            address.as_bytes().to_vec(),
            Vec::new(),
            mechanism.as_bytes().to_vec(),
        ];
        frames.extend(creds.iter().map(|c| c.to_vec()));
        ZapRequest::parse(&frames).expect("well formed")
    }

    fn null(address: &str) -> ZapRequest {
        req("global", address, "NULL", &[])
    }

    fn plain(domain: &str, user: &str, pass: &str) -> ZapRequest {
        req(
            domain,
            "127.0.0.1",
            "PLAIN",
            &[user.as_bytes(), pass.as_bytes()],
        )
    }

    fn curve(domain: &str, key: &CurveKey) -> ZapRequest {
        req(domain, "127.0.0.1", "CURVE", &[key.as_bytes()])
    }

    fn status(r: &ZapReply) -> u16 {
        r.status.code()
    }

    #[test]
    fn defaults() {
        let auth = Authenticator::new();
        let r = auth.handle(&null("10.0.0.1"));
        assert_eq!((status(&r), r.user_id.as_str()), (200, "anonymous"));
        assert_eq!(r.request_id, b"42");
        assert_eq!(status(&auth.handle(&plain("", "a", "b"))), 400);
        assert_eq!(
            status(&auth.handle(&curve("", &CurveKey::from([1; 32])))),
            400
        );
        let g = auth.handle(&req("", "127.0.0.1", "GSSAPI", &[b"me@REALM"]));
        assert_eq!((status(&g), g.user_id.as_str()), (200, "me@REALM"));
        assert_eq!(status(&auth.handle(&req("", "", "X-OTHER", &[]))), 400);
    }

    #[test]
    fn allow_and_deny() -> Result<()> {
        let mut auth = Authenticator::new();
        auth.allow(["127.0.0.1", "::1"])?;
        assert!(auth.deny(["127.0.0.2"]).is_err());
        assert_eq!(status(&auth.handle(&null("127.0.0.1"))), 200);
        assert_eq!(status(&auth.handle(&null("0:0::1"))), 200);
        let r = auth.handle(&null("127.0.0.2"));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (400, "Address not allowed")
        );
        // An allowed address still needs PLAIN credentials.
        assert_eq!(status(&auth.handle(&plain("", "a", "b"))), 400);

        let mut auth = Authenticator::new();
        auth.deny(["127.0.0.1"])?;
        assert!(auth.allow(["127.0.0.2"]).is_err());
        let r = auth.handle(&null("127.0.0.1"));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (400, "Address denied")
        );
        assert_eq!(status(&auth.handle(&null("127.0.0.2"))), 200);
        // IPC peers have an empty address: not denied.
        assert_eq!(status(&auth.handle(&null(""))), 200);
        Ok(())
    }

    #[test]
    fn address_forms() -> Result<()> {
        // Each rule, written in any form, holds for the client's address in
        // any form libzmq reports it.
        let v4 = [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "::FFFF:7f00:1",
            "[::ffff:127.0.0.1]",
            " 127.0.0.1 ",
        ];
        for rule in v4 {
            let mut deny = Authenticator::new();
            deny.deny([rule])?;
            let mut allow = Authenticator::new();
            allow.allow([rule])?;
            for peer in v4.iter().take(3) {
                assert_eq!(status(&deny.handle(&null(peer))), 400, "{rule} / {peer}");
                assert_eq!(status(&allow.handle(&null(peer))), 200, "{rule} / {peer}");
            }
            // Not the same host.
            for peer in ["127.0.0.2", "::1", "::127.0.0.1", "", "localhost:0:0:42"] {
                assert_eq!(status(&deny.handle(&null(peer))), 200, "{rule} / {peer}");
                assert_eq!(status(&allow.handle(&null(peer))), 400, "{rule} / {peer}");
            }
        }
        // IPv6: compressed or not, bracketed, with a zone.
        let mut deny = Authenticator::new();
        deny.deny(["[0:0::1]", "fe80::1", "fe80::2%eth0"])?;
        for peer in [
            "::1",
            "0:0:0:0:0:0:0:1",
            "fe80::1",
            "fe80::1%eth0",
            "FE80::1%2",
            "fe80::2%eth0",
        ] {
            assert_eq!(status(&deny.handle(&null(peer))), 400, "{peer}");
        }
        // A rule with a zone holds on that interface only.
        for peer in ["fe80::2", "fe80::2%eth1", "fe80::3"] {
            assert_eq!(status(&deny.handle(&null(peer))), 200, "{peer}");
        }
        // Rules that are not IPs are refused, and add nothing.
        for bad in [
            "localhost",
            "127.1",
            "127.0.0.1:5555",
            "10.0.0.0/8",
            "",
            "1.2.3.4%eth0",
            "::1%",
        ] {
            let mut auth = Authenticator::new();
            match auth.deny(["10.0.0.1", bad]) {
                Err(Error::InvalidInput { what, .. }) => assert!(what.contains(bad), "{what}"),
                other => panic!("{bad:?}: {other:?}"),
            }
            assert_eq!(status(&auth.handle(&null("10.0.0.1"))), 200, "{bad}");
        }
        Ok(())
    }

    #[test]
    fn async_provider() {
        let good = CurveKey::from([1; 32]);
        let mut auth = Authenticator::new();
        auth.configure_curve_callback_async("*", move |domain: String, key: CurveKey| async move {
            // Yields once, as a real lookup would.
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                if yielded {
                    Poll::Ready(())
                } else {
                    yielded = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
            match domain.as_str() {
                "down" => Verdict::TryLater("later".into()),
                "boom" => panic!("lookup bug"),
                _ => (key == good).into(),
            }
        });
        let r = auth.handle(&curve("", &good));
        assert_eq!((status(&r), r.user_id.clone()), (200, good.to_z85()));
        assert_eq!(
            status(&auth.handle(&curve("", &CurveKey::from([2; 32])))),
            400
        );
        assert_eq!(status(&auth.handle(&curve("down", &good))), 300);
        assert_eq!(status(&auth.handle(&curve("boom", &good))), 500);
        // The answer is a future, for the async authenticator.
        assert!(matches!(auth.answer(&curve("", &good)), Answer::Later(_)));
        auth.configure_curve_callback_async("*", |_: String, _: CurveKey| -> VerdictFuture {
            panic!("the call itself panics")
        });
        assert_eq!(status(&auth.handle(&curve("", &good))), 500);
    }

    #[test]
    fn plain_domains_and_reload() {
        let mut auth = Authenticator::new();
        auth.configure_plain("*", [("admin", "secret")]);
        auth.configure_plain("special", [("bob", "builder")]);
        let r = auth.handle(&plain("", "admin", "secret"));
        assert_eq!((status(&r), r.user_id.as_str()), (200, "admin"));
        assert_eq!(
            status(&auth.handle(&plain("other", "admin", "secret"))),
            200
        );
        let r = auth.handle(&plain("", "admin", "secreT"));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (400, "Invalid password")
        );
        let r = auth.handle(&plain("", "root", "secret"));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (400, "Invalid username")
        );
        assert!(r.user_id.is_empty());
        // "special" has its own table: "*" does not apply there.
        assert_eq!(
            status(&auth.handle(&plain("special", "admin", "secret"))),
            400
        );
        assert_eq!(
            status(&auth.handle(&plain("special", "bob", "builder"))),
            200
        );
        // Reload: configuring again replaces.
        auth.configure_plain("*", [("admin", "new")]);
        assert_eq!(status(&auth.handle(&plain("", "admin", "secret"))), 400);
        assert_eq!(status(&auth.handle(&plain("", "admin", "new"))), 200);

        let mut only = Authenticator::new();
        only.configure_plain("a", [("u", "p")]);
        let r = only.handle(&plain("b", "u", "p"));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (400, "Invalid domain")
        );
    }

    #[test]
    fn curve_rules() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let good = CurveKey::from([1; 32]);
        let bad = CurveKey::from([2; 32]);
        let mut auth = Authenticator::new();
        auth.configure_curve_keys("*", [good]);
        let r = auth.handle(&curve("", &good));
        assert_eq!((status(&r), r.user_id.clone()), (200, good.to_z85()));
        let r = auth.handle(&curve("", &bad));
        assert_eq!((status(&r), r.status_text.as_str()), (400, "Unknown key"));

        auth.set_curve_user_id(|_| "custom".to_string());
        assert_eq!(auth.handle(&curve("", &good)).user_id, "custom");
        auth.reset_curve_user_id();
        assert_eq!(auth.handle(&curve("", &good)).user_id, good.to_z85());

        auth.configure_curve("*", CURVE_ALLOW_ANY)?;
        assert_eq!(status(&auth.handle(&curve("", &bad))), 200);

        // A provider per domain, with all three verdicts.
        auth.configure_curve_callback("db", move |domain: &str, key: &CurveKey| {
            domain == "db" && *key == good
        });
        assert_eq!(status(&auth.handle(&curve("db", &good))), 200);
        assert_eq!(status(&auth.handle(&curve("db", &bad))), 400);

        struct Down;
        impl CredentialsProvider for Down {
            fn callback(&self, _: &str, _: &CurveKey) -> bool {
                false
            }
            fn verdict(&self, _: &str, _: &CurveKey) -> Verdict {
                Verdict::TryLater("database unavailable".into())
            }
        }
        auth.configure_curve_callback("down", Down);
        let r = auth.handle(&curve("down", &good));
        assert_eq!(
            (status(&r), r.status_text.as_str()),
            (300, "database unavailable")
        );

        auth.configure_curve_callback("boom", |_: &str, _: &CurveKey| -> bool {
            panic!("provider bug")
        });
        assert_eq!(status(&auth.handle(&curve("boom", &good))), 500);

        // A missing directory keeps the previous rule.
        let e = auth
            .configure_curve("*", "/nonexistent/zmqx/certs")
            .expect_err("no such directory");
        assert_eq!(e.path, Path::new("/nonexistent/zmqx/certs"));
        assert_eq!(status(&auth.handle(&curve("", &bad))), 200);
        Ok(())
    }

    #[test]
    fn debug_hides_passwords() {
        let mut auth = Authenticator::new();
        auth.configure_plain("*", [("admin", "hunter2")]);
        let text = format!("{auth:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
