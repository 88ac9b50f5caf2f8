//! The receive side of `zmqx::serialize`: JSON, postcard and the text
//! encodings decoding bytes a peer sent, into a few representative types.
//!
//! The first input byte picks the path, the rest is the payload: the
//! `Serializer` impls (`Json`, `Postcard`) on their own, the socket helpers
//! (`recv_json_limited`, `recv_postcard_limited`, `recv_serialized_limited`)
//! over a real inproc PAIR, and `Encoding::decode`.
//!
//! Properties: nothing panics; what decodes re-encodes and decodes to the
//! same value; a message that cannot be decoded, or is over the limit, is
//! handed back whole in the error.
#![no_main]

use std::collections::BTreeMap;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use zmqx::serialize::{Encoding, Json, Postcard, Serializer};
use zmqx::{Context, Error, Message, Socket, SocketType};
use zmqx_fuzz::split_frames;

/// The receive limit of the socket paths (inputs are up to 4 KiB).
const LIMIT: usize = 2048;

/// A struct with most serde shapes (no floats, so equality is exact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    blob: Vec<u8>,
    parent: Option<u32>,
    kind: Kind,
    scores: BTreeMap<String, i64>,
    flag: bool,
    pair: (i8, u16),
    letter: char,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Empty,
    Tuple(i32, bool),
    Named { x: i16, label: String },
    Wide(i128, u128),
}

/// A tuple of the remaining primitive shapes.
type Mixed = (u8, Option<u16>, [u8; 4], Vec<Option<bool>>, String, ());

/// Decoded values must survive a round trip through the same format.
fn round_trip<T, S>(format: &S, value: &T)
where
    T: PartialEq + std::fmt::Debug,
    S: Serializer<T>,
{
    let frames = format.serialize(value).expect("a decoded value encodes");
    let back = format
        .deserialize(&frames)
        .expect("an encoded value decodes");
    assert_eq!(&back, value, "{} round trip", format.format());
}

/// Socket fields before the context, so they close first.
struct Pair {
    tx: Socket,
    rx: Socket,
    _ctx: Context,
}

thread_local! {
    static PAIR: Pair = {
        let ctx = Context::new();
        let rx = ctx.socket(SocketType::Pair).expect("socket");
        rx.set_rcvtimeo(Some(Duration::from_secs(5))).expect("rcvtimeo");
        rx.bind("inproc://fuzz-serialize").expect("bind");
        let tx = ctx.socket(SocketType::Pair).expect("socket");
        tx.connect("inproc://fuzz-serialize").expect("connect");
        Pair { tx, rx, _ctx: ctx }
    };
}

/// Checks that a decode error on the socket path handed `sent` back.
fn check_handed_back<T: std::fmt::Debug>(result: zmqx::Result<T>, sent: &[&[u8]]) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::Deserialize { frames, .. }) => {
            assert_eq!(
                frames.to_vecs(),
                sent,
                "Deserialize must hand the parts back"
            );
            None
        }
        Err(Error::TooLarge {
            frames,
            size,
            limit,
        }) => {
            assert_eq!(frames.to_vecs(), sent, "TooLarge must hand the parts back");
            assert!(size > limit);
            None
        }
        Err(other) => panic!("unexpected error: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let one = [Message::from(payload)];
    match mode % 8 {
        0 => {
            if let Ok(value) = Serializer::<Record>::deserialize(&Json, &one) {
                round_trip(&Json, &value);
            }
        }
        1 => {
            let _ = Serializer::<serde_json::Value>::deserialize(&Json, &one);
            if let Ok(value) = Serializer::<Mixed>::deserialize(&Json, &one) {
                round_trip(&Json, &value);
            }
        }
        2 => {
            if let Ok(value) = Serializer::<Record>::deserialize(&Postcard, &one) {
                round_trip(&Postcard, &value);
            }
        }
        3 => {
            if let Ok(value) = Serializer::<Mixed>::deserialize(&Postcard, &one) {
                round_trip(&Postcard, &value);
            }
        }
        4 => PAIR.with(|p| {
            p.tx.send(payload).expect("inproc send");
            let got = p.rx.recv_json_limited::<Record>(LIMIT);
            if let Some(value) = check_handed_back(got, &[payload]) {
                assert!(payload.len() <= LIMIT);
                assert_eq!(serde_json::from_slice::<Record>(payload).ok(), Some(value));
            }
        }),
        5 => PAIR.with(|p| {
            p.tx.send(payload).expect("inproc send");
            let got =
                p.rx.recv_postcard_limited::<Record>(LIMIT);
            if let Some(value) = check_handed_back(got, &[payload]) {
                assert!(payload.len() <= LIMIT);
                // Trailing bytes are refused, so the value is the whole payload.
                let (expected, rest) =
                    postcard::take_from_bytes::<Record>(payload).expect("postcard decodes it too");
                assert_eq!((expected, rest), (value, &[][..]));
            }
        }),
        6 => PAIR.with(|p| {
            // Several parts: Json/Postcard take exactly one.
            let parts = split_frames(payload);
            if parts.is_empty() {
                return;
            }
            p.tx.send_multipart(parts.iter().copied())
                .expect("inproc send");
            let got = if payload.len() & 1 == 0 {
                p.rx.recv_serialized_limited::<Record, _>(&Json, LIMIT)
            } else {
                p.rx.recv_serialized_limited::<Record, _>(&Postcard, LIMIT)
            };
            if check_handed_back(got, &parts).is_some() {
                assert_eq!(parts.len(), 1);
            }
        }),
        _ => {
            for encoding in [
                Encoding::Utf8,
                Encoding::Latin1,
                Encoding::Ascii,
                Encoding::Utf16Le,
                Encoding::Utf16Be,
            ] {
                match encoding.decode(payload) {
                    Ok(text) => {
                        let bytes = encoding.encode(&text).expect("decoded text encodes");
                        assert_eq!(bytes, payload, "{encoding} round trip");
                    }
                    Err(e) => {
                        assert!(e.index < payload.len().max(1), "{encoding}: {e}");
                        assert_eq!(e.byte, payload.get(e.index).copied(), "{encoding}: {e}");
                    }
                }
            }
        }
    }
});
