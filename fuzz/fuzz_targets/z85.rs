//! Z85 text from anywhere (`zmqx::z85`, CURVE keys in Z85 or binary).
//!
//! Properties: decoding never panics; what decodes re-encodes to the same
//! text (Z85 is canonical); the `&str` and `&[u8]` entry points agree;
//! `CurveKey::parse` agrees with `z85::decode_bytes` on 40-byte input; any
//! byte string of a multiple of 4 bytes round-trips through encode/decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmqx::CurveKey;
use zmqx::z85::{self, Z85Error};

fuzz_target!(|data: &[u8]| {
    let decoded = z85::decode_bytes(data);
    match &decoded {
        Ok(bytes) => {
            assert_eq!(bytes.len(), data.len() / 5 * 4);
            let text = z85::encode(bytes).expect("decoded bytes are a multiple of 4");
            assert_eq!(text.as_bytes(), data, "Z85 is canonical");
        }
        Err(Z85Error::BadLength { len, multiple }) => {
            assert_eq!((*len, *multiple), (data.len(), 5));
            assert_ne!(data.len() % 5, 0);
        }
        Err(Z85Error::BadChar { pos, byte }) => assert_eq!(data.get(*pos), Some(byte)),
        Err(Z85Error::Overflow { pos }) => assert_eq!(pos % 5, 0),
        Err(_) => {}
    }
    if let Err(e) = &decoded {
        let _ = e.to_string();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(z85::decode(text), decoded);
        let key = CurveKey::from_z85(text);
        if data.len() == 40 {
            assert_eq!(
                key.as_ref().ok().map(|k| k.as_bytes().to_vec()),
                decoded.clone().ok()
            );
        } else {
            assert!(key.is_err());
        }
    }
    match CurveKey::parse(data) {
        Ok(key) if data.len() == 40 => assert_eq!(key.to_z85().as_bytes(), data),
        Ok(key) => assert_eq!(&key.as_bytes()[..], data),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // The same bytes as binary data to encode.
    match z85::encode(data) {
        Ok(text) => assert_eq!(z85::decode(&text).as_deref(), Ok(data)),
        Err(e) => assert_ne!(data.len() % 4, 0, "{e}"),
    }
});
