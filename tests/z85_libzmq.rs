//! Checks `zmqx::z85` against libzmq's own `zmq_z85_encode`/`zmq_z85_decode`
//! on thousands of pseudo-random inputs, valid and invalid.

use std::ffi::{CStr, CString, c_char};

use zmqx::sys;
use zmqx::z85::{self, Z85Error};

/// The Z85 alphabet (RFC 32), to generate valid-looking text.
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// xorshift64: small, deterministic, good enough to vary test inputs.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-enough value in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// `len` random characters of the Z85 alphabet.
    fn z85_text(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }
}

/// libzmq's encoding of `data`, or `None` where it returns NULL.
fn libzmq_encode(data: &[u8]) -> Option<String> {
    // Room for size * 5 / 4 characters plus the NUL, as the manual asks (and
    // more than enough when the size is invalid, where nothing is written).
    let mut dest = vec![0u8; data.len() * 5 / 4 + 1];
    // SAFETY: `dest` is writable for `data.len() * 5 / 4 + 1` bytes, the most
    // zmq_z85_encode writes for `data.len()` input bytes (text + NUL); `data`
    // is readable for `data.len()` bytes; libzmq keeps neither pointer.
    let rc = unsafe {
        sys::zmq_z85_encode(
            dest.as_mut_ptr().cast::<c_char>(),
            data.as_ptr(),
            data.len(),
        )
    };
    if rc.is_null() {
        return None;
    }
    let text = CStr::from_bytes_until_nul(&dest).expect("libzmq wrote a NUL terminator");
    Some(text.to_str().expect("libzmq wrote ASCII").to_owned())
}

/// libzmq's decoding of `text`, or `None` where it returns NULL. `text` must
/// not contain NUL (libzmq would stop there).
fn libzmq_decode(text: &[u8]) -> Option<Vec<u8>> {
    let c_text = CString::new(text).expect("test text without NUL");
    // zmq_z85_decode writes 4 bytes per complete 5-character group, so at most
    // len * 4 / 5 bytes; keep 4 bytes of slack for a trailing partial group.
    let mut dest = vec![0u8; text.len() * 4 / 5 + 4];
    // SAFETY: `c_text` is a valid NUL-terminated string of `text.len()`
    // characters, and `dest` is writable for more than the `text.len() * 4 / 5`
    // bytes zmq_z85_decode may write for it; libzmq keeps neither pointer.
    let rc = unsafe { sys::zmq_z85_decode(dest.as_mut_ptr(), c_text.as_ptr()) };
    if rc.is_null() {
        return None;
    }
    dest.truncate(text.len() * 4 / 5);
    Some(dest)
}

#[test]
fn encode_matches_libzmq() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for _ in 0..4000 {
        let len = 4 * rng.below(65); // 0..=256 bytes, multiple of 4
        let data = rng.bytes(len);
        let ours = z85::encode(&data).expect("valid length");
        let theirs = libzmq_encode(&data).expect("libzmq accepts a multiple of 4");
        assert_eq!(ours, theirs, "encoding {data:02x?}");
        assert_eq!(z85::decode(&ours).as_deref(), Ok(&data[..]));
        if len > 0 {
            // libzmq refuses to decode the empty string; we return no bytes.
            assert_eq!(libzmq_decode(ours.as_bytes()), Some(data));
        }
    }
}

#[test]
fn encode_bad_length_rejected_by_both() {
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    for len in (1..=257).filter(|len| len % 4 != 0) {
        let data = rng.bytes(len);
        assert_eq!(libzmq_encode(&data), None, "libzmq, length {len}");
        assert_eq!(
            z85::encode(&data),
            Err(Z85Error::BadLength { len, multiple: 4 })
        );
    }
}

#[test]
fn decode_random_text_matches_libzmq() {
    // Random alphabet text: about 3% of 5-character groups exceed u32::MAX,
    // so this exercises the overflow check of both implementations.
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let (mut accepted, mut overflowed) = (0, 0);
    for _ in 0..4000 {
        let len = 5 * (1 + rng.below(64)); // 5..=320 characters
        let text = rng.z85_text(len);
        let theirs = libzmq_decode(&text);
        match z85::decode_bytes(&text) {
            Ok(ours) => {
                accepted += 1;
                assert_eq!(Some(&ours), theirs.as_ref(), "decoding {text:?}");
                let again = z85::encode(&ours).expect("multiple of 4");
                assert_eq!(again.as_bytes(), &text[..]);
            }
            Err(Z85Error::Overflow { pos }) => {
                overflowed += 1;
                assert_eq!(theirs, None, "libzmq accepted overflowing {text:?}");
                assert_eq!(pos % 5, 0);
                let group = &text[pos..pos + 5];
                assert_eq!(libzmq_decode(group), None);
                assert_eq!(z85::decode_bytes(group), Err(Z85Error::Overflow { pos: 0 }));
            }
            Err(other) => panic!("unexpected {other:?} for {text:?}"),
        }
    }
    assert!(
        accepted > 1000 && overflowed > 100,
        "{accepted} / {overflowed}"
    );
}

#[test]
fn overflow_groups_rejected_by_both() {
    for text in ["%%%%%", "#####", "%nSc1", "HelloWorld#####", "%nSd0"] {
        assert_eq!(libzmq_decode(text.as_bytes()), None, "libzmq, {text:?}");
        assert!(
            matches!(z85::decode(text), Err(Z85Error::Overflow { .. })),
            "{text:?}"
        );
    }
    // The largest valid group.
    assert_eq!(libzmq_decode(b"%nSc0"), Some(vec![0xFF; 4]));
    assert_eq!(z85::decode("%nSc0"), Ok(vec![0xFF; 4]));
}

#[test]
fn decode_bad_length_rejected_by_both() {
    let mut rng = XorShift(0x0F0F_F0F0_1234_4321);
    for len in (1..=321).filter(|len| len % 5 != 0) {
        let text = rng.z85_text(len);
        assert_eq!(libzmq_decode(&text), None, "libzmq, length {len}");
        assert_eq!(
            z85::decode_bytes(&text),
            Err(Z85Error::BadLength { len, multiple: 5 })
        );
    }
    // The one documented difference: the empty text.
    assert_eq!(libzmq_decode(b""), None);
    assert_eq!(z85::decode(""), Ok(Vec::new()));
}

#[test]
fn decode_bad_chars_rejected_by_both() {
    let valid: [bool; 256] = {
        let mut valid = [false; 256];
        for &c in ALPHABET {
            valid[usize::from(c)] = true;
        }
        valid
    };
    let mut rng = XorShift(0x5EED_5EED_5EED_5EED);
    for round in 0..3000 {
        let len = 5 * (1 + rng.below(64));
        let mut text = rng.z85_text(len);
        // Every non-alphabet byte except NUL (which ends a C string), in turn,
        // at a random position.
        let bad = (1..=255u8)
            .filter(|&b| !valid[usize::from(b)])
            .nth(round % (255 - 85))
            .expect("170 non-alphabet bytes besides NUL");
        let pos = rng.below(len);
        text[pos] = bad;
        assert_eq!(libzmq_decode(&text), None, "libzmq, {text:?}");
        match z85::decode_bytes(&text) {
            // The bad character is reported unless an overflowing group
            // comes first.
            Err(Z85Error::BadChar { pos: p, byte }) => {
                assert_eq!((p, byte), (pos, bad), "{text:?}");
            }
            Err(Z85Error::Overflow { pos: p }) => assert!(p + 5 <= pos, "{text:?}"),
            other => panic!("expected an error for {text:?}, got {other:?}"),
        }
    }
}
