//! Z85, the printable binary encoding of ZeroMQ ([RFC 32]).
//!
//! Z85 turns every 4 bytes into 5 printable ASCII characters, using an
//! 85-character alphabet chosen so that the text can be pasted into source
//! code, configuration files and command lines without quoting. It is the
//! standard text form of CURVE keys (32 bytes ⇄ 40 characters, see
//! [`crate::curve`]).
//!
//! This module is a pure-Rust equivalent of libzmq's `zmq_z85_encode` and
//! `zmq_z85_decode`: same alphabet, same byte order, same output. It differs in
//! what it reports and accepts:
//!
//! * errors say *what* is wrong ([`Z85Error`]: the length, the offending
//!   character and its position, or an overflowing group) instead of a bare
//!   `NULL`/`EINVAL`;
//! * the empty input is valid both ways (`encode(&[]) == ""` and
//!   `decode("")` is an empty vector), whereas `zmq_z85_decode` rejects an
//!   empty string;
//! * input is a slice, not a NUL-terminated C string, so a NUL byte is simply
//!   an invalid character rather than the end of the text.
//!
//! A group of 5 characters can spell values up to 85⁵ − 1, which is more than
//! `u32::MAX`. Such a group (for example `"%%%%%"`) is rejected with
//! [`Z85Error::Overflow`]; it never wraps around and never panics. libzmq 4.3.5
//! rejects these groups as well, but older libzmq releases silently wrapped
//! them, so text that an old peer accepted may be refused here.
//!
//! ```
//! # fn main() -> Result<(), zmqx::z85::Z85Error> {
//! let text = zmqx::z85::encode(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])?;
//! assert_eq!(text, "HelloWorld");
//! assert_eq!(zmqx::z85::decode(&text)?, [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
//! # Ok(())
//! # }
//! ```
//!
//! [RFC 32]: https://rfc.zeromq.org/spec/32/
#![forbid(unsafe_code)]

use core::fmt;

/// The 85 characters of Z85, in digit order (RFC 32).
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Marks a byte that is not a Z85 character in [`DECODE`].
const INVALID: u8 = 0xFF;

/// Byte → digit value (0..85), or [`INVALID`]. Built at compile time from
/// [`ALPHABET`], so the two can never disagree.
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut digit = 0;
    while digit < ALPHABET.len() {
        table[ALPHABET[digit] as usize] = digit as u8;
        digit += 1;
    }
    table
};

/// Bytes per binary group.
const BYTES_PER_GROUP: usize = 4;
/// Characters per encoded group.
const CHARS_PER_GROUP: usize = 5;

/// Why a Z85 encoding or decoding failed.
///
/// libzmq's `zmq_z85_encode`/`zmq_z85_decode` report every one of these as
/// `NULL` with `errno` set to `EINVAL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Z85Error {
    /// The input length is not a multiple of `multiple`: binary data to encode
    /// must be a multiple of 4 bytes, text to decode a multiple of 5
    /// characters.
    #[error(
        "invalid length {len} for Z85: must be a multiple of {multiple} \
         (every 4 bytes are encoded as 5 characters)"
    )]
    BadLength {
        /// The length of the input, in bytes.
        len: usize,
        /// The length must be a multiple of this (4 to encode, 5 to decode).
        multiple: usize,
    },
    /// The text to decode contains a byte that is not one of the 85 Z85
    /// characters.
    #[error("invalid Z85 character {} at position {pos}", ByteRepr(*.byte))]
    BadChar {
        /// Byte offset of the offending character in the text (0-based).
        pos: usize,
        /// The offending byte (for non-ASCII text, the first byte of the UTF-8
        /// sequence).
        byte: u8,
    },
    /// A 5-character group encodes a value larger than `u32::MAX`
    /// (`0xFFFFFFFF`, spelled `%nSc0`), so it cannot stand for 4 bytes.
    #[error(
        "invalid Z85 group at position {pos}: its value exceeds 0xFFFFFFFF \
         (the largest valid group is \"%nSc0\")"
    )]
    Overflow {
        /// Byte offset of the first character of the group (a multiple of 5).
        pos: usize,
    },
}

/// Shows a byte as `'c' (0x63)` when printable ASCII, else as `0x00`.
struct ByteRepr(u8);

impl fmt::Display for ByteRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b.is_ascii_graphic() {
            write!(f, "'{}' ({b:#04x})", char::from(b))
        } else if b == b' ' {
            write!(f, "space ({b:#04x})")
        } else {
            write!(f, "{b:#04x}")
        }
    }
}

/// Encodes one big-endian 32-bit group as 5 Z85 characters.
#[inline]
pub(crate) fn encode_group(group: [u8; 4]) -> [u8; 5] {
    let mut value = u32::from_be_bytes(group);
    let mut out = [0u8; CHARS_PER_GROUP];
    for slot in out.iter_mut().rev() {
        // `value % 85 < 85`, so the index is always in bounds.
        *slot = ALPHABET[(value % 85) as usize];
        value /= 85;
    }
    out
}

/// Decodes one group of 5 Z85 characters (`group.len()` must be 5) starting
/// at byte offset `pos` of the whole text, for error reporting.
#[inline]
pub(crate) fn decode_group(group: &[u8], pos: usize) -> Result<[u8; 4], Z85Error> {
    // 85^5 - 1 < 2^33, so a u64 accumulator cannot overflow; the range check
    // against u32 happens once at the end.
    let mut value: u64 = 0;
    for (offset, &byte) in group.iter().enumerate() {
        let digit = DECODE[usize::from(byte)];
        if digit == INVALID {
            return Err(Z85Error::BadChar {
                pos: pos + offset,
                byte,
            });
        }
        value = value * 85 + u64::from(digit);
    }
    u32::try_from(value)
        .map(u32::to_be_bytes)
        .map_err(|_| Z85Error::Overflow { pos })
}

/// Encodes binary data as Z85 text.
///
/// Pure-Rust equivalent of libzmq's `zmq_z85_encode`. The length of `data`
/// must be a multiple of 4 ([`Z85Error::BadLength`] otherwise); the text is
/// 5/4 as long. An empty input gives an empty string.
///
/// # Errors
///
/// [`Z85Error::BadLength`] if `data.len()` is not a multiple of 4.
///
/// ```
/// # fn main() -> Result<(), zmqx::z85::Z85Error> {
/// assert_eq!(zmqx::z85::encode(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])?, "HelloWorld");
/// assert!(zmqx::z85::encode(b"abc").is_err());
/// # Ok(())
/// # }
/// ```
pub fn encode(data: &[u8]) -> Result<String, Z85Error> {
    if data.len() % BYTES_PER_GROUP != 0 {
        return Err(Z85Error::BadLength {
            len: data.len(),
            multiple: BYTES_PER_GROUP,
        });
    }
    let mut out = String::with_capacity(data.len() / BYTES_PER_GROUP * CHARS_PER_GROUP);
    for chunk in data.chunks_exact(BYTES_PER_GROUP) {
        let group = [chunk[0], chunk[1], chunk[2], chunk[3]];
        for byte in encode_group(group) {
            // Every Z85 character is ASCII, so each is one UTF-8 byte.
            out.push(char::from(byte));
        }
    }
    Ok(out)
}

/// Decodes Z85 text into binary data.
///
/// Pure-Rust equivalent of libzmq's `zmq_z85_decode`. The length of `text`
/// (in bytes) must be a multiple of 5 ([`Z85Error::BadLength`] otherwise);
/// the result is 4/5 as long. Every character must belong to the Z85 alphabet
/// ([`Z85Error::BadChar`], with its byte offset), and every 5-character group
/// must encode a value that fits in 32 bits ([`Z85Error::Overflow`]; see the
/// [module documentation](self) on why such groups are rejected). An empty
/// text gives an empty vector (libzmq rejects it).
///
/// # Errors
///
/// [`Z85Error::BadLength`], [`Z85Error::BadChar`] or [`Z85Error::Overflow`],
/// for the first problem found from the start of the text.
///
/// ```
/// # fn main() -> Result<(), zmqx::z85::Z85Error> {
/// use zmqx::z85::{decode, Z85Error};
/// assert_eq!(decode("HelloWorld")?, [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
/// assert_eq!(decode("Hello~orld"), Err(Z85Error::BadChar { pos: 5, byte: b'~' }));
/// assert_eq!(decode("%%%%%"), Err(Z85Error::Overflow { pos: 0 }));
/// # Ok(())
/// # }
/// ```
pub fn decode(text: &str) -> Result<Vec<u8>, Z85Error> {
    decode_bytes(text.as_bytes())
}

/// Decodes Z85 text given as bytes (for example read from a file or a
/// socket) into binary data.
///
/// Same as [`decode`], for text that is not (known to be) a `&str`; any byte
/// outside the Z85 alphabet, including non-ASCII bytes and NUL, is a
/// [`Z85Error::BadChar`]. Pure-Rust equivalent of libzmq's `zmq_z85_decode`.
///
/// # Errors
///
/// As [`decode`].
pub fn decode_bytes(text: &[u8]) -> Result<Vec<u8>, Z85Error> {
    if text.len() % CHARS_PER_GROUP != 0 {
        return Err(Z85Error::BadLength {
            len: text.len(),
            multiple: CHARS_PER_GROUP,
        });
    }
    let mut out = Vec::with_capacity(text.len() / CHARS_PER_GROUP * BYTES_PER_GROUP);
    for (index, group) in text.chunks_exact(CHARS_PER_GROUP).enumerate() {
        out.extend_from_slice(&decode_group(group, index * CHARS_PER_GROUP)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_BYTES: [u8; 8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];

    #[test]
    fn rfc32_test_vector() -> Result<(), Z85Error> {
        assert_eq!(encode(&HELLO_BYTES)?, "HelloWorld");
        assert_eq!(decode("HelloWorld")?, HELLO_BYTES);
        assert_eq!(decode_bytes(b"HelloWorld")?, HELLO_BYTES);
        Ok(())
    }

    #[test]
    fn decode_table_matches_alphabet() {
        let valid = DECODE.iter().filter(|&&d| d != INVALID).count();
        assert_eq!(valid, 85);
        for (digit, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(usize::from(DECODE[usize::from(c)]), digit);
            assert!(c.is_ascii_graphic());
        }
        // The characters RFC 32 leaves out of the printable range.
        for c in *b" \"',;\\_`|~" {
            assert_eq!(DECODE[usize::from(c)], INVALID, "{c:#04x}");
        }
    }

    #[test]
    fn empty_input() -> Result<(), Z85Error> {
        assert_eq!(encode(&[])?, "");
        assert_eq!(decode("")?, Vec::<u8>::new());
        Ok(())
    }

    #[test]
    fn boundary_groups() -> Result<(), Z85Error> {
        assert_eq!(encode(&[0, 0, 0, 0])?, "00000");
        assert_eq!(encode(&[0xFF; 4])?, "%nSc0");
        assert_eq!(decode("%nSc0")?, [0xFF; 4]);
        assert_eq!(decode("00000")?, [0; 4]);
        // One above u32::MAX.
        assert_eq!(decode("%nSc1"), Err(Z85Error::Overflow { pos: 0 }));
        Ok(())
    }

    #[test]
    fn round_trips() -> Result<(), Z85Error> {
        // Deterministic pseudo-random data of every length up to 64 groups.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut data = Vec::new();
        for _ in 0..256 {
            let text = encode(&data)?;
            assert_eq!(text.len(), data.len() / 4 * 5);
            assert_eq!(decode(&text)?, data);
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            data.extend_from_slice(&state.to_le_bytes()[..4]);
        }
        // And every alphabet character in every position decodes and re-encodes.
        for &c in ALPHABET {
            let text = [b'0', b'0', b'0', b'0', c];
            let bytes = decode_bytes(&text)?;
            assert_eq!(encode(&bytes)?.as_bytes(), text);
        }
        Ok(())
    }

    #[test]
    fn encode_bad_length() {
        for len in [1, 2, 3, 5, 7, 31, 33] {
            let data = vec![0u8; len];
            assert_eq!(encode(&data), Err(Z85Error::BadLength { len, multiple: 4 }));
        }
    }

    #[test]
    fn decode_bad_length() {
        for text in ["H", "Hell", "HelloW", "HelloWorl", "HelloWorld!"] {
            assert_eq!(
                decode(text),
                Err(Z85Error::BadLength {
                    len: text.len(),
                    multiple: 5
                })
            );
        }
    }

    #[test]
    fn decode_bad_char() {
        assert_eq!(
            decode("Hello Worl"),
            Err(Z85Error::BadChar { pos: 5, byte: b' ' })
        );
        assert_eq!(
            decode_bytes(b"HelloWorl\0"),
            Err(Z85Error::BadChar { pos: 9, byte: 0 })
        );
        assert_eq!(
            decode_bytes(b"\xffelloWorld"),
            Err(Z85Error::BadChar { pos: 0, byte: 0xFF })
        );
        // Non-ASCII text: the position is a byte offset, the byte is the lead
        // byte of the UTF-8 sequence ("é" is 0xC3 0xA9).
        assert_eq!(
            decode("Hellé0000"),
            Err(Z85Error::BadChar { pos: 4, byte: 0xC3 })
        );
        // The first bad character wins, even after a valid group.
        assert_eq!(
            decode("HelloW\"r|d"),
            Err(Z85Error::BadChar { pos: 6, byte: b'"' })
        );
    }

    #[test]
    fn decode_overflow() {
        assert_eq!(decode("%%%%%"), Err(Z85Error::Overflow { pos: 0 }));
        assert_eq!(decode("#####"), Err(Z85Error::Overflow { pos: 0 }));
        assert_eq!(
            decode("HelloWorld#####"),
            Err(Z85Error::Overflow { pos: 10 })
        );
        assert_eq!(
            decode("Hello%%%%%World"),
            Err(Z85Error::Overflow { pos: 5 })
        );
    }

    #[test]
    fn error_messages() {
        let msg = Z85Error::BadLength {
            len: 7,
            multiple: 4,
        }
        .to_string();
        assert!(
            msg.contains("length 7") && msg.contains("multiple of 4"),
            "{msg}"
        );
        let msg = Z85Error::BadChar { pos: 3, byte: b'~' }.to_string();
        assert_eq!(msg, "invalid Z85 character '~' (0x7e) at position 3");
        let msg = Z85Error::BadChar { pos: 0, byte: 0 }.to_string();
        assert_eq!(msg, "invalid Z85 character 0x00 at position 0");
        let msg = Z85Error::BadChar { pos: 1, byte: b' ' }.to_string();
        assert_eq!(msg, "invalid Z85 character space (0x20) at position 1");
        let msg = Z85Error::Overflow { pos: 10 }.to_string();
        assert!(
            msg.contains("position 10") && msg.contains("0xFFFFFFFF"),
            "{msg}"
        );
    }
}
