//! ZAP requests as the authenticator's socket receives them
//! (`zmqx::auth::zap`, `zmqx::auth::Authenticator`): the frames of the input
//! are separated by `|#|` (see `src/lib.rs`).
//!
//! Properties: nothing panics; a parsed request writes back to the same
//! frames, a malformed one hands them back; every reply the handler builds
//! (with two fixed policies that exercise the address lists, PLAIN, CURVE
//! keys, allow-any, a callback and GSSAPI) is a well-formed RFC 27 reply to
//! the same request id, behind the same envelope.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use zmqx::CurveKey;
use zmqx::auth::zap::{StatusCode, ZAP_VERSION, ZapReply, ZapRequest, split_envelope};
use zmqx::auth::{Authenticator, Verdict};
use zmqx_fuzz::split_frames;

/// A known client key: 32 bytes of 0x41 ('A'), easy to put in a seed.
const KNOWN_KEY: [u8; 32] = [b'A'; 32];

struct Provider;

impl zmqx::auth::CredentialsProvider for Provider {
    fn callback(&self, _domain: &str, key: &CurveKey) -> bool {
        key.as_bytes()[0] & 1 == 0
    }
    fn verdict(&self, domain: &str, key: &CurveKey) -> Verdict {
        match key.as_bytes()[1] {
            b'T' => Verdict::TryLater(format!("busy for {domain}")),
            _ => self.callback(domain, key).into(),
        }
    }
}

/// Deny-list policy: most rules, most domains.
static DENY_POLICY: LazyLock<Authenticator> = LazyLock::new(|| {
    let mut auth = Authenticator::new();
    auth.deny(["192.168.0.66", "::2"]).expect("valid addresses");
    auth.configure_plain("*", [("admin", "secret"), ("user", "")]);
    auth.configure_plain("plain", [("alice", "wonderland")]);
    auth.configure_curve_keys(
        "keys",
        [CurveKey::from_bytes(&KNOWN_KEY).expect("32 bytes")],
    );
    auth.configure_curve_allow_any("any");
    auth.configure_curve_callback("cb", Provider);
    auth.configure_gssapi("gss");
    // (No panicking provider or mapping: libFuzzer's panic hook aborts even
    // on a panic that is caught; the unit tests cover those.)
    auth.set_curve_user_id(|key: &CurveKey| key.to_z85());
    auth
});

/// Allow-list policy: every other address is refused.
static ALLOW_POLICY: LazyLock<Authenticator> = LazyLock::new(|| {
    let mut auth = Authenticator::new();
    auth.allow(["127.0.0.1", "::1"]).expect("valid addresses");
    auth.configure_curve_allow_any("*");
    auth
});

/// Checks the six frames of a reply to `body` (a request without envelope).
fn check_reply<F: AsRef<[u8]>>(body: &[F], reply: &[Vec<u8>]) {
    assert_eq!(reply.len(), 6);
    assert_eq!(reply[0], ZAP_VERSION);
    assert_eq!(Some(&reply[1][..]), body.get(1).map(|f| f.as_ref()));
    let parsed = ZapReply::parse(reply).expect("the handler's reply parses");
    if parsed.status != StatusCode::Ok {
        assert!(parsed.user_id.is_empty() && parsed.metadata.is_empty());
    }
    assert!(parsed.status_text.len() <= 255 && parsed.user_id.len() <= 255);
}

fuzz_target!(|data: &[u8]| {
    let frames = split_frames(data);
    match ZapRequest::parse(&frames) {
        Ok(request) => {
            assert_eq!(
                request.to_frames(),
                frames,
                "the request writes back differently"
            );
            let _ = format!("{request:?}");
            for policy in [&*DENY_POLICY, &*ALLOW_POLICY] {
                let reply = policy.handle(&request);
                assert_eq!(reply.request_id, request.request_id);
            }
        }
        Err(e) => {
            assert_eq!(e.frames, frames, "the frames handed back differ");
            let _ = e.to_string();
            if let Some(reply) = e.reply() {
                check_reply(
                    &frames,
                    &reply.to_frames().expect("a 500 reply has no metadata"),
                );
            }
        }
    }
    if let Ok(reply) = ZapReply::parse(&frames) {
        let _ = reply.to_frames();
    }
    for policy in [&*DENY_POLICY, &*ALLOW_POLICY] {
        if let Some(reply) = policy.handle_frames(&frames) {
            check_reply(&frames, &reply);
        }
        // The same frames as a ROUTER receives them.
        if let Some(reply) = policy.handle_routed(&frames) {
            let (envelope, body) = split_envelope(&frames).expect("answered, so it has one");
            assert_eq!(&reply[..envelope.len()], envelope);
            check_reply(body, &reply[envelope.len()..]);
        }
    }
});
