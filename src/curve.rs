//! CURVE keys: 32-byte Curve25519 keys and their 40-character Z85 text form.
//!
//! A [`CurveKey`] is what libzmq's `ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SECRETKEY`
//! and `ZMQ_CURVE_SERVERKEY` socket options take: 32 raw bytes or, equivalently,
//! 40 characters of [Z85](crate::z85) (see `zmq_curve(7)`). A
//! [`CurveKeyPair`] holds a public key with its secret key, as
//! `zmq_curve_keypair` produces them.
//!
//! ```
//! # fn main() -> Result<(), zmqx::curve::KeyError> {
//! use zmqx::curve::CurveKey;
//! // The server public key used by the zmq_curve(7) test vectors.
//! let key: CurveKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7".parse()?;
//! assert_eq!(key.as_bytes()[..4], [0x54, 0xFC, 0xBA, 0x24]);
//! assert_eq!(key.to_string(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
//! assert_eq!(CurveKey::parse(key.as_bytes())?, key);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::str::FromStr;

use crate::z85::{self, Z85Error};

/// A 32-byte CURVE (Curve25519) public or secret key.
///
/// Accepted wherever libzmq takes a CURVE key (`ZMQ_CURVE_PUBLICKEY`,
/// `ZMQ_CURVE_SECRETKEY`, `ZMQ_CURVE_SERVERKEY`). Build one from raw bytes
/// ([`from_bytes`](Self::from_bytes), `From<[u8; 32]>`), from Z85 text
/// ([`from_z85`](Self::from_z85), [`str::parse`]), or from either
/// ([`parse`](Self::parse)). [`Display`](fmt::Display) and
/// [`to_z85`](Self::to_z85) give the 40-character Z85 form.
///
/// Equality is a plain byte comparison, not a constant-time one; do not use
/// `==` on secret keys where timing could leak them. `Debug` prints the key in
/// full, so prefer [`CurveKeyPair`], whose `Debug` hides the secret key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurveKey([u8; 32]);

impl CurveKey {
    /// Length of a key in bytes (libzmq's `CURVE_KEYSIZE`).
    pub const LEN: usize = 32;

    /// Length of a key in Z85 characters, without a terminating NUL
    /// (libzmq's `CURVE_KEYSIZE_Z85`; libzmq's C buffers are 41 bytes long).
    pub const Z85_LEN: usize = 40;

    /// Makes a key from exactly 32 raw bytes.
    ///
    /// Equivalent to passing a 32-byte value to `zmq_setsockopt` for a CURVE
    /// key option.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] unless `bytes` is exactly 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<CurveKey, KeyError> {
        <[u8; 32]>::try_from(bytes)
            .map(CurveKey)
            .map_err(|_| KeyError::WrongLength {
                len: bytes.len(),
                expected: KeyFormat::Binary,
            })
    }

    /// Makes a key from its 40-character Z85 text.
    ///
    /// Equivalent to `zmq_z85_decode` into a 32-byte buffer (or to passing a
    /// 40-character value to `zmq_setsockopt`), without allocating.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] unless `text` is exactly 40 bytes long;
    /// [`KeyError::BadZ85`] if it is not valid Z85 (positions in the wrapped
    /// [`Z85Error`] count from the start of `text`).
    pub fn from_z85(text: &str) -> Result<CurveKey, KeyError> {
        Self::from_z85_bytes(text.as_bytes())
    }

    /// [`from_z85`](Self::from_z85) for text held as bytes.
    fn from_z85_bytes(text: &[u8]) -> Result<CurveKey, KeyError> {
        if text.len() != Self::Z85_LEN {
            return Err(KeyError::WrongLength {
                len: text.len(),
                expected: KeyFormat::Z85,
            });
        }
        let mut key = [0u8; 32];
        for (index, (group, out)) in text
            .chunks_exact(5)
            .zip(key.chunks_exact_mut(4))
            .enumerate()
        {
            out.copy_from_slice(&z85::decode_group(group, index * 5)?);
        }
        Ok(CurveKey(key))
    }

    /// Makes a key from either encoding libzmq accepts for a CURVE key option:
    /// 32 raw bytes or 40 Z85 characters.
    ///
    /// The length decides: 32 bytes are taken as the raw key, 40 as Z85 text
    /// (like `zmq_setsockopt` does for `ZMQ_CURVE_*KEY`). A `&str`, `String`,
    /// `&[u8]`, `Vec<u8>` or `[u8; 32]` can all be passed.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] if the input is neither 32 nor 40 bytes long;
    /// [`KeyError::BadZ85`] if it is 40 bytes of invalid Z85.
    pub fn parse(key: impl AsRef<[u8]>) -> Result<CurveKey, KeyError> {
        let key = key.as_ref();
        match key.len() {
            Self::LEN => Self::from_bytes(key),
            Self::Z85_LEN => Self::from_z85_bytes(key),
            len => Err(KeyError::WrongLength {
                len,
                expected: KeyFormat::BinaryOrZ85,
            }),
        }
    }

    /// The 32 raw bytes of the key.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as 40 characters of Z85 text.
    ///
    /// Equivalent to `zmq_z85_encode` on the 32 key bytes; the same text as
    /// [`Display`](fmt::Display) prints.
    #[must_use]
    pub fn to_z85(&self) -> String {
        let mut text = String::with_capacity(Self::Z85_LEN);
        for byte in self.z85_array() {
            text.push(char::from(byte));
        }
        text
    }

    /// The Z85 encoding as 40 ASCII bytes, without allocating.
    fn z85_array(&self) -> [u8; 40] {
        let mut text = [0u8; 40];
        for (group, out) in self.0.chunks_exact(4).zip(text.chunks_exact_mut(5)) {
            out.copy_from_slice(&z85::encode_group([group[0], group[1], group[2], group[3]]));
        }
        text
    }
}

impl fmt::Display for CurveKey {
    /// Prints the 40-character Z85 form (padding and alignment flags apply).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.z85_array();
        // Z85 is ASCII, so this cannot fail; map the impossible error anyway
        // rather than panic.
        let text = core::str::from_utf8(&text).map_err(|_| fmt::Error)?;
        f.pad(text)
    }
}

impl fmt::Debug for CurveKey {
    /// Prints `CurveKey("<z85>")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.z85_array();
        let text = core::str::from_utf8(&text).map_err(|_| fmt::Error)?;
        f.debug_tuple("CurveKey").field(&text).finish()
    }
}

impl FromStr for CurveKey {
    type Err = KeyError;

    /// Parses 40 characters of Z85 text, like [`CurveKey::from_z85`].
    fn from_str(text: &str) -> Result<CurveKey, KeyError> {
        CurveKey::from_z85(text)
    }
}

impl TryFrom<&str> for CurveKey {
    type Error = KeyError;

    /// Parses 40 characters of Z85 text, like [`CurveKey::from_z85`].
    fn try_from(text: &str) -> Result<CurveKey, KeyError> {
        CurveKey::from_z85(text)
    }
}

impl TryFrom<&[u8]> for CurveKey {
    type Error = KeyError;

    /// Takes exactly 32 raw bytes, like [`CurveKey::from_bytes`] (use
    /// [`CurveKey::parse`] to also accept Z85 text given as bytes).
    fn try_from(bytes: &[u8]) -> Result<CurveKey, KeyError> {
        CurveKey::from_bytes(bytes)
    }
}

impl From<[u8; 32]> for CurveKey {
    fn from(bytes: [u8; 32]) -> CurveKey {
        CurveKey(bytes)
    }
}

impl From<CurveKey> for [u8; 32] {
    fn from(key: CurveKey) -> [u8; 32] {
        key.0
    }
}

impl AsRef<[u8]> for CurveKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A CURVE public key with its secret key, as `zmq_curve_keypair` makes them.
///
/// `Debug` shows the public key but prints the secret key as `<redacted>`, so
/// a pair can be logged safely.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurveKeyPair {
    /// The public key: given to peers (`ZMQ_CURVE_PUBLICKEY`, and
    /// `ZMQ_CURVE_SERVERKEY` on clients of a server).
    pub public: CurveKey,
    /// The secret key: kept private (`ZMQ_CURVE_SECRETKEY`).
    pub secret: CurveKey,
}

impl fmt::Debug for CurveKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveKeyPair")
            .field("public", &self.public)
            .field("secret", &format_args!("<redacted>"))
            .finish()
    }
}

/// The encodings a CURVE key input was expected in; part of
/// [`KeyError::WrongLength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// 32 raw bytes ([`CurveKey::from_bytes`]).
    Binary,
    /// 40 Z85 characters ([`CurveKey::from_z85`]).
    Z85,
    /// Either 32 raw bytes or 40 Z85 characters ([`CurveKey::parse`]).
    BinaryOrZ85,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Binary => "32 raw bytes",
            KeyFormat::Z85 => "40 Z85 characters",
            KeyFormat::BinaryOrZ85 => "32 raw bytes or 40 Z85 characters",
        })
    }
}

/// Why a [`CurveKey`] could not be made from its input.
///
/// libzmq reports these as `EINVAL` from `zmq_setsockopt` or `NULL` from
/// `zmq_z85_decode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input has the wrong length for the expected encoding.
    #[error("invalid CURVE key length {len}: expected {expected}")]
    WrongLength {
        /// The length of the input, in bytes.
        len: usize,
        /// What was expected.
        expected: KeyFormat,
    },
    /// The input has the length of a Z85 key but is not valid Z85.
    #[error("invalid Z85 CURVE key: {0}")]
    BadZ85(#[from] Z85Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The four test keys of `zmq_curve(7)` ("TEST KEY VALUES"): hex and Z85.
    const TEST_KEYS: [(&str, &str); 4] = [
        // Client public.
        (
            "BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518",
            "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
        ),
        // Client secret.
        (
            "7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888",
            "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
        ),
        // Server public.
        (
            "54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652",
            "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
        ),
        // Server secret.
        (
            "8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7",
            "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
        ),
    ];

    fn unhex(hex: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("test hex");
        }
        out
    }

    #[test]
    fn zmq_curve_test_keys_round_trip() -> Result<(), KeyError> {
        for (hex, text) in TEST_KEYS {
            let bytes = unhex(hex);
            let from_bytes = CurveKey::from_bytes(&bytes)?;
            let from_text = CurveKey::from_z85(text)?;
            assert_eq!(from_bytes, from_text);
            assert_eq!(from_text.as_bytes(), &bytes);
            assert_eq!(from_bytes.to_z85(), text);
            assert_eq!(from_bytes.to_string(), text);
            assert_eq!(CurveKey::parse(text)?, from_bytes);
            assert_eq!(CurveKey::parse(bytes)?, from_bytes);
            let owned: Vec<u8> = text.into();
            assert_eq!(CurveKey::parse(owned)?, from_bytes);
            assert_eq!(text.parse::<CurveKey>()?, from_bytes);
            assert_eq!(CurveKey::try_from(text)?, from_bytes);
            assert_eq!(CurveKey::try_from(&bytes[..])?, from_bytes);
            assert_eq!(CurveKey::from(bytes), from_bytes);
            assert_eq!(<[u8; 32]>::from(from_bytes), bytes);
            assert_eq!(from_bytes.as_ref(), &bytes[..]);
            // Same result as the generic Z85 codec.
            assert_eq!(z85::encode(&bytes)?, text);
            assert_eq!(z85::decode(text)?, bytes);
        }
        Ok(())
    }

    #[test]
    fn display_and_debug() -> Result<(), KeyError> {
        let key = CurveKey::from_z85(TEST_KEYS[2].1)?;
        assert_eq!(
            format!("{key:?}"),
            "CurveKey(\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\")"
        );
        assert_eq!(format!("{key:>42}"), format!("  {}", TEST_KEYS[2].1));
        Ok(())
    }

    #[test]
    fn key_pair_debug_redacts_secret() -> Result<(), KeyError> {
        let pair = CurveKeyPair {
            public: CurveKey::from_z85(TEST_KEYS[0].1)?,
            secret: CurveKey::from_z85(TEST_KEYS[1].1)?,
        };
        for shown in [format!("{pair:?}"), format!("{pair:#?}")] {
            assert!(shown.contains(TEST_KEYS[0].1), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(!shown.contains(TEST_KEYS[1].1), "{shown}");
        }
        assert_eq!(
            format!("{pair:?}"),
            format!(
                "CurveKeyPair {{ public: CurveKey(\"{}\"), secret: <redacted> }}",
                TEST_KEYS[0].1
            )
        );
        Ok(())
    }

    #[test]
    fn hash_and_eq() -> Result<(), KeyError> {
        let set: HashSet<CurveKey> = TEST_KEYS
            .iter()
            .map(|(_, text)| CurveKey::from_z85(text))
            .collect::<Result<_, _>>()?;
        assert_eq!(set.len(), 4);
        assert!(set.contains(&CurveKey::from(unhex(TEST_KEYS[3].0))));
        Ok(())
    }

    #[test]
    fn wrong_lengths() {
        assert_eq!(
            CurveKey::from_bytes(&[0; 31]),
            Err(KeyError::WrongLength {
                len: 31,
                expected: KeyFormat::Binary
            })
        );
        assert_eq!(
            CurveKey::try_from(&[0u8; 40][..]),
            Err(KeyError::WrongLength {
                len: 40,
                expected: KeyFormat::Binary
            })
        );
        assert_eq!(
            CurveKey::from_z85("HelloWorld"),
            Err(KeyError::WrongLength {
                len: 10,
                expected: KeyFormat::Z85
            })
        );
        assert_eq!(
            "".parse::<CurveKey>(),
            Err(KeyError::WrongLength {
                len: 0,
                expected: KeyFormat::Z85
            })
        );
        assert_eq!(
            CurveKey::parse([0u8; 41]),
            Err(KeyError::WrongLength {
                len: 41,
                expected: KeyFormat::BinaryOrZ85
            })
        );
        let msg = CurveKey::parse("short").map_err(|e| e.to_string());
        assert_eq!(
            msg,
            Err("invalid CURVE key length 5: expected 32 raw bytes or 40 Z85 characters".into())
        );
    }

    #[test]
    fn bad_z85() {
        let mut text = TEST_KEYS[0].1.to_string();
        text.replace_range(17..18, "~");
        assert_eq!(
            CurveKey::from_z85(&text),
            Err(KeyError::BadZ85(Z85Error::BadChar {
                pos: 17,
                byte: b'~'
            }))
        );
        let overflow = format!("{}%%%%%", &TEST_KEYS[0].1[..35]);
        assert_eq!(
            CurveKey::parse(&overflow),
            Err(KeyError::BadZ85(Z85Error::Overflow { pos: 35 }))
        );
        let msg = CurveKey::parse(&overflow).map_err(|e| e.to_string());
        assert!(
            matches!(&msg, Err(m) if m.starts_with("invalid Z85 CURVE key: ") && m.contains("position 35")),
            "{msg:?}"
        );
    }
}
