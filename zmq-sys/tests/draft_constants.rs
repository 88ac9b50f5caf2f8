//! The DRAFT numbers zmq-sys exports on every build (`src/draft_constants.rs`
//! without the `draft` feature, the bindings with it) are those of `zmq.h`:
//! all of them, with the values of libzmq 4.3.5 and of the header actually
//! linked, and the same values whichever way they are defined.

use std::collections::{BTreeMap, BTreeSet};

/// `(name, value exported at the crate root, value in draft_constants)`.
macro_rules! numbers {
    ($($c:ident,)*) => {
        vec![$((
            stringify!($c),
            i64::from(zmq_sys::$c),
            i64::from(zmq_sys::draft_constants::$c),
        ),)*]
    };
}

macro_rules! strings {
    ($($c:ident,)*) => {
        vec![$((
            stringify!($c),
            &zmq_sys::$c[..],
            &zmq_sys::draft_constants::$c[..],
        ),)*]
    };
}

/// Every `#define` number of the DRAFT section of libzmq 4.3.5's `zmq.h`.
fn numbers() -> Vec<(&'static str, i64, i64)> {
    numbers!(
        ZMQ_SERVER,
        ZMQ_CLIENT,
        ZMQ_RADIO,
        ZMQ_DISH,
        ZMQ_GATHER,
        ZMQ_SCATTER,
        ZMQ_DGRAM,
        ZMQ_PEER,
        ZMQ_CHANNEL,
        ZMQ_ZAP_ENFORCE_DOMAIN,
        ZMQ_LOOPBACK_FASTPATH,
        ZMQ_METADATA,
        ZMQ_MULTICAST_LOOP,
        ZMQ_ROUTER_NOTIFY,
        ZMQ_XPUB_MANUAL_LAST_VALUE,
        ZMQ_SOCKS_USERNAME,
        ZMQ_SOCKS_PASSWORD,
        ZMQ_IN_BATCH_SIZE,
        ZMQ_OUT_BATCH_SIZE,
        ZMQ_WSS_KEY_PEM,
        ZMQ_WSS_CERT_PEM,
        ZMQ_WSS_TRUST_PEM,
        ZMQ_WSS_HOSTNAME,
        ZMQ_WSS_TRUST_SYSTEM,
        ZMQ_ONLY_FIRST_SUBSCRIBE,
        ZMQ_RECONNECT_STOP,
        ZMQ_HELLO_MSG,
        ZMQ_DISCONNECT_MSG,
        ZMQ_PRIORITY,
        ZMQ_BUSY_POLL,
        ZMQ_HICCUP_MSG,
        ZMQ_XSUB_VERBOSE_UNSUBSCRIBE,
        ZMQ_TOPICS_COUNT,
        ZMQ_NORM_MODE,
        ZMQ_NORM_UNICAST_NACK,
        ZMQ_NORM_BUFFER_SIZE,
        ZMQ_NORM_SEGMENT_SIZE,
        ZMQ_NORM_BLOCK_SIZE,
        ZMQ_NORM_NUM_PARITY,
        ZMQ_NORM_NUM_AUTOPARITY,
        ZMQ_NORM_PUSH,
        ZMQ_NORM_FIXED,
        ZMQ_NORM_CC,
        ZMQ_NORM_CCL,
        ZMQ_NORM_CCE,
        ZMQ_NORM_CCE_ECNONLY,
        ZMQ_RECONNECT_STOP_CONN_REFUSED,
        ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED,
        ZMQ_RECONNECT_STOP_AFTER_DISCONNECT,
        ZMQ_ZERO_COPY_RECV,
        ZMQ_NOTIFY_CONNECT,
        ZMQ_NOTIFY_DISCONNECT,
        ZMQ_EVENT_PIPES_STATS,
        ZMQ_CURRENT_EVENT_VERSION,
        ZMQ_CURRENT_EVENT_VERSION_DRAFT,
        ZMQ_EVENT_ALL_V1,
        ZMQ_EVENT_ALL_V2,
    )
}

/// Every `#define` string of the DRAFT section of libzmq 4.3.5's `zmq.h`.
fn strings() -> Vec<(&'static str, &'static [u8], &'static [u8])> {
    strings!(
        ZMQ_MSG_PROPERTY_ROUTING_ID,
        ZMQ_MSG_PROPERTY_SOCKET_TYPE,
        ZMQ_MSG_PROPERTY_USER_ID,
        ZMQ_MSG_PROPERTY_PEER_ADDRESS,
    )
}

/// Ours, as header text would spell them: numbers in decimal, strings with
/// their quotes and without the NUL.
fn ours() -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (name, root, _) in numbers() {
        map.insert(name.to_string(), root.to_string());
    }
    for (name, root, _) in strings() {
        let text =
            std::str::from_utf8(root.strip_suffix(b"\0").expect("NUL-terminated")).expect("ASCII");
        map.insert(name.to_string(), format!("{text:?}"));
    }
    map
}

/// Values that changed between libzmq releases: `(name, version, value then)`.
/// libzmq 4.3.4 gave `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT` as 3, which
/// overlaps the other two bits; 4.3.5 made it 4.
const CHANGED: &[(&str, &str, &str)] = &[("ZMQ_RECONNECT_STOP_AFTER_DISCONNECT", "4.3.4", "3")];

/// The `#define ZMQ_*` values of a `zmq.h`: `(all, names in the DRAFT
/// section)`. Numbers are evaluated (decimal, hex, names, `a | b`), strings
/// kept quoted; defines without a value are skipped.
fn header_defines(text: &str) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut all = BTreeMap::new();
    let mut draft = BTreeSet::new();
    let mut stack: Vec<bool> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("#if") {
            stack.push(t.contains("ZMQ_BUILD_DRAFT_API"));
            continue;
        }
        if t.starts_with("#endif") {
            stack.pop();
            continue;
        }
        let Some(rest) = t.strip_prefix("#define ") else {
            continue;
        };
        let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let value = value.trim();
        if !name.starts_with("ZMQ_") || name.contains('(') || value.is_empty() {
            continue;
        }
        let value = if value.starts_with('"') {
            value.to_string()
        } else {
            match eval(value, &all) {
                Some(v) => v.to_string(),
                None => continue,
            }
        };
        if stack.iter().any(|d| *d) {
            draft.insert(name.to_string());
        }
        all.insert(name.to_string(), value);
    }
    (all, draft)
}

/// `12`, `0x10000`, `ZMQ_EVENT_ALL`, `ZMQ_EVENT_ALL_V1 | ZMQ_EVENT_PIPES_STATS`.
fn eval(expr: &str, known: &BTreeMap<String, String>) -> Option<i64> {
    let mut value = 0;
    for term in expr.trim_matches(|c| c == '(' || c == ')').split('|') {
        let term = term.trim().trim_matches(|c| c == '(' || c == ')');
        let v = if let Some(hex) = term.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()?
        } else if let Ok(v) = term.parse::<i64>() {
            v
        } else {
            known.get(term)?.parse().ok()?
        };
        value |= v;
    }
    Some(value)
}

/// `pub const NAME: ... = VALUE;` of bindgen output, spelled as in `zmq.h`.
fn binding_consts(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("pub const "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let value = rest.split_once(" = ")?.1.strip_suffix(';')?;
            let value = match value.strip_prefix("b\"") {
                Some(s) => format!("\"{}\"", s.strip_suffix("\\0\"")?),
                None => value.to_string(),
            };
            Some((name.to_string(), value))
        })
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn root_and_module_agree() {
    // With the `draft` feature the root names come from the bindings, so this
    // compares the hand-kept module with bindgen's reading of zmq.h.
    for (name, root, module) in numbers() {
        assert_eq!(root, module, "{name}");
    }
    for (name, root, module) in strings() {
        assert_eq!(root, module, "{name}");
    }
}

#[test]
fn every_draft_number_of_4_3_5() {
    // The committed bindings are bindgen's output for 4.3.5's zmq.h with and
    // without ZMQ_BUILD_DRAFT_API (CI regenerates them and compares).
    let dir = env!("CARGO_MANIFEST_DIR");
    let stable = binding_consts(&read(&format!("{dir}/src/bindings/stable.rs")));
    let draft = binding_consts(&read(&format!("{dir}/src/bindings/draft.rs")));
    let expected: BTreeMap<String, String> = draft
        .into_iter()
        .filter(|(name, _)| !stable.contains_key(name))
        .collect();
    assert!(
        expected.len() >= 60,
        "suspiciously few DRAFT constants: {}",
        expected.len()
    );
    let ours = ours();
    let mut wrong = Vec::new();
    for (name, v) in &expected {
        match ours.get(name) {
            None => wrong.push(format!("{name} = {v}: not exported")),
            Some(o) if o != v => wrong.push(format!("{name}: ours {o}, 4.3.5's {v}")),
            Some(_) => {}
        }
    }
    for name in ours.keys().filter(|n| !expected.contains_key(*n)) {
        wrong.push(format!("{name}: not a DRAFT define of 4.3.5"));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_draft_number_of_the_linked_header() {
    let include = env!("ZMQ_SYS_INCLUDE");
    assert!(
        !include.is_empty(),
        "the build did not report where zmq.h is"
    );
    let (all, draft) = header_defines(&read(&format!("{include}/zmq.h")));
    assert!(
        draft.len() >= 40,
        "suspiciously few DRAFT defines parsed: {}",
        draft.len()
    );
    let ours = ours();
    let version = zmq_sys::LINKED_VERSION;
    let mut wrong = Vec::new();
    for name in &draft {
        let theirs = &all[name];
        match ours.get(name) {
            None => wrong.push(format!("{name} = {theirs}: not exported")),
            Some(v) if v == theirs => {}
            Some(v) => {
                let known = CHANGED
                    .iter()
                    .any(|(n, ver, old)| n == name && *ver == version && old == theirs);
                if !known {
                    wrong.push(format!("{name}: ours {v}, libzmq {version}'s {theirs}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    if version == "4.3.5" {
        let extra: Vec<_> = ours.keys().filter(|n| !draft.contains(*n)).collect();
        assert!(extra.is_empty(), "not in 4.3.5's DRAFT section: {extra:?}");
    }
}

#[test]
fn draft_only_items_are_marked_for_docs() {
    // src/lib.rs names the functions and types that exist only with the
    // `draft` feature again, under doc(cfg): the list must be complete.
    let dir = env!("CARGO_MANIFEST_DIR");
    let items = |text: &str| -> BTreeSet<String> {
        text.lines()
            .map(str::trim)
            .filter_map(|l| {
                ["pub fn ", "pub struct ", "pub type "]
                    .iter()
                    .find_map(|p| l.strip_prefix(p))
            })
            .map(|l| {
                l.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    };
    let stable = items(&read(&format!("{dir}/src/bindings/stable.rs")));
    let draft = items(&read(&format!("{dir}/src/bindings/draft.rs")));
    let expected: BTreeSet<String> = draft.difference(&stable).cloned().collect();
    let lib = read(&format!("{dir}/src/lib.rs"));
    let start = lib
        .find("pub use raw::{")
        .expect("src/lib.rs re-exports the DRAFT items");
    let list = &lib[start + "pub use raw::{".len()..];
    let list = &list[..list.find('}').expect("closing brace")];
    let marked: BTreeSet<String> = list
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(expected.len() >= 25, "{expected:?}");
    assert_eq!(marked, expected);
}
