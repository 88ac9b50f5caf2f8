//! Sending and receiving typed values: JSON, a compact binary format,
//! your own serializers, and text in an explicit encoding (pyzmq's
//! `send_json`, `send_pyobj`, `send_serialized`, `send_string(encoding=…)`).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use zmqx::{Context, SocketType};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Job {
//!     id: u64,
//!     name: String,
//! }
//!
//! fn main() -> zmqx::Result<()> {
//!     let ctx = Context::new();
//!     let pull = ctx.socket(SocketType::Pull)?;
//!     pull.bind("inproc://serialize-doc")?;
//!     let push = ctx.socket(SocketType::Push)?;
//!     push.connect("inproc://serialize-doc")?;
//!
//!     let job = Job { id: 7, name: "resize".into() };
//!     push.send_json(&job)?; // {"id":7,"name":"resize"}
//!     push.send_postcard(&job)?; // 8 bytes
//!
//!     let a: Job = pull.recv_json()?;
//!     // A limit for untrusted peers: bigger messages are not decoded.
//!     let b: Job = pull.recv_postcard_limited(64 * 1024)?;
//!     assert_eq!(a, job);
//!     assert_eq!(b, job);
//!     Ok(())
//! }
//! ```
//!
//! ## Formats
//!
//! Each format is behind its cargo feature (`json`, `postcard`, `bincode`);
//! the async sockets have the same calls.
//!
//! - **JSON** ([`Socket::send_json`], [`Socket::recv_json`]): any
//!   `serde` type, with [`serde_json`]. Readable, and what pyzmq's
//!   `send_json` speaks, so Python peers understand it.
//! - **postcard** ([`Socket::send_postcard`], [`Socket::recv_postcard`]):
//!   the compact binary counterpart of pyzmq's `send_pyobj`/`recv_pyobj`.
//!   Python's pickle can rebuild any Python object, and runs code while
//!   doing so, which is why pyzmq warns never to unpickle untrusted data.
//!   Rust has no pickle: the type to rebuild is named by the receiver, and
//!   decoding only fills in that type's fields, so a hostile peer can make
//!   decoding fail but not run anything. The binary format is
//!   [postcard](https://docs.rs/postcard) rather than bincode because
//!   bincode's latest release (3.0.0) is a tombstone: the project has ceased
//!   and the crate is unmaintained. postcard is maintained, has a documented
//!   and stable wire format, and encodes integers as varints. Like bincode,
//!   it is not self-describing: both sides must use the same type.
//! - **bincode** ([`Socket::send_bincode`], [`Socket::recv_bincode`],
//!   feature `bincode`): for Rust peers that already speak bincode. zmqx
//!   depends on `bincode = "2"` (2.0.1, the last release with code: 3.0.0
//!   is an empty tombstone) and sends exactly what
//!   `bincode::serde::encode_to_vec(value, bincode::config::standard())`
//!   gives, so a peer using bincode 2's serde API with the standard
//!   configuration reads it. For new protocols prefer postcard (maintained).
//! - **Your own** ([`Socket::send_serialized`], [`Socket::recv_serialized`]
//!   with a [`Serializer`], or closures through [`from_fns`]): the value becomes one
//!   or more message parts, as pyzmq's `send_serialized`.
//! - **Text** ([`Socket::send_string_encoded`],
//!   [`Socket::recv_string_encoded`]): an explicit [`Encoding`]. Rust strings
//!   are UTF-8, so for UTF-8 use [`Socket::send_string`].
//!
//! JSON and postcard values travel in one message part. To send one as the
//! first part of a multipart message (pyzmq's "array with metadata" recipe;
//! see `examples/array_with_metadata.rs`), serialize it with
//! [`Serializer::serialize`] and append the other parts before
//! [`Socket::send_multipart`]. `recv_json` / `recv_postcard` receive one
//! part, like pyzmq's; check [`Socket::rcvmore`] for the rest.
//!
//! ## Untrusted peers: size limits
//!
//! Two limits protect a receiver:
//!
//! - **The transport**: the `MAXMSGSIZE` socket option
//!   ([`Socket::set_maxmsgsize`]) makes libzmq drop the connection of a peer
//!   that announces a bigger message, before allocating it. Set it on every
//!   socket that faces untrusted peers: nothing else stops a peer from
//!   making libzmq allocate without bound.
//! - **Decoding**: the `*_limited` receives ([`Socket::recv_json_limited`],
//!   [`Socket::recv_postcard_limited`], [`Socket::recv_serialized_limited`])
//!   refuse to decode a message larger than a limit, with [`Error::TooLarge`].
//!   What a decoder builds can be larger than its input (JSON `[0,0,0…]`
//!   decoded as `Vec<u64>` is four times its size), so bounding the input
//!   bounds what decoding allocates. Neither serde_json nor postcard trusts a
//!   length prefix for allocation: their collections grow as real elements
//!   are read.
//!
//! ## Errors lose nothing
//!
//! A message that does not decode is an [`Error::Deserialize`] and one over
//! the limit an [`Error::TooLarge`]; both hand the received [`Frames`] back.
//! A value that cannot be encoded is an [`Error::Serialize`] and nothing is
//! sent.
#![forbid(unsafe_code)]

#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use crate::error::{Error, Result};
#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
use crate::message::copy_threshold;
use crate::message::{Frames, Message};
use crate::socket::Socket;
#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
use serde::{Serialize, de::DeserializeOwned};

/// Any error a serializer may report: `?` converts every error type into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A way to turn values of type `T` into message parts and back (pyzmq's
/// `serialize` / `deserialize` functions of `send_serialized` and
/// `recv_serialized`).
///
/// Errors are plain [`BoxError`]s: zmqx wraps them in [`Error::Serialize`]
/// or [`Error::Deserialize`], the latter with the received frames.
///
/// ```
/// use zmqx::Message;
/// use zmqx::serialize::{BoxError, Serializer};
///
/// /// A routed text message: routing ids, then the text.
/// struct Routed;
///
/// impl Serializer<(Vec<Vec<u8>>, String)> for Routed {
///     fn format(&self) -> &'static str {
///         "routed text"
///     }
///     fn serialize(&self, (ids, text): &(Vec<Vec<u8>>, String)) -> Result<Vec<Message>, BoxError> {
///         let mut frames: Vec<Message> = ids.iter().map(|id| Message::from(&id[..])).collect();
///         frames.push(Message::from(text));
///         Ok(frames)
///     }
///     fn deserialize(&self, frames: &[Message]) -> Result<(Vec<Vec<u8>>, String), BoxError> {
///         let (text, ids) = frames.split_last().ok_or("no frames")?;
///         let text = std::str::from_utf8(text)?.to_string();
///         Ok((ids.iter().map(|m| m.to_vec()).collect(), text))
///     }
/// }
/// ```
pub trait Serializer<T> {
    /// A short name of the format, used in error messages.
    fn format(&self) -> &'static str {
        "custom"
    }

    /// Encodes `value` as one or more message parts.
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError>;

    /// Decodes a value from all the parts of one received message.
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError>;
}

impl<T, S: Serializer<T> + ?Sized> Serializer<T> for &S {
    fn format(&self) -> &'static str {
        (**self).format()
    }
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError> {
        (**self).serialize(value)
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError> {
        (**self).deserialize(frames)
    }
}

/// JSON in one message part, as a [`Serializer`] (for code generic over
/// serializers; [`Socket::send_json`] is the direct way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub struct Json;

#[cfg(feature = "json")]
impl<T: Serialize + DeserializeOwned> Serializer<T> for Json {
    fn format(&self) -> &'static str {
        "json"
    }
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError> {
        Ok(vec![Message::from(serde_json::to_vec(value)?)])
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError> {
        Ok(serde_json::from_slice(one_frame(frames)?)?)
    }
}

/// bincode 2's serde encoding with its standard configuration, in one
/// message part, as a [`Serializer`] ([`Socket::send_bincode`] is the
/// direct way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg(feature = "bincode")]
#[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
pub struct Bincode;

#[cfg(feature = "bincode")]
impl<T: Serialize + DeserializeOwned> Serializer<T> for Bincode {
    fn format(&self) -> &'static str {
        "bincode"
    }
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError> {
        Ok(vec![Message::from(bincode::serde::encode_to_vec(
            value,
            bincode::config::standard(),
        )?)])
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError> {
        bincode_whole(one_frame(frames)?)
    }
}

/// Decodes a whole postcard message part: trailing bytes are an error; the
/// part is handed back on failure.
#[cfg(feature = "postcard")]
pub(crate) fn from_postcard<T: DeserializeOwned>(msg: Message) -> Result<T> {
    match postcard::take_from_bytes(&msg) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => {
            let source: BoxError =
                format!("{} unexpected bytes after the value", rest.len()).into();
            Err(decode_error("postcard", msg, source))
        }
        Err(e) => Err(decode_error("postcard", msg, Box::new(e))),
    }
}

/// Encodes `value` with postcard into one message part.
#[cfg(all(feature = "postcard", feature = "tokio", unix))]
pub(crate) fn postcard_message<T: Serialize + ?Sized>(value: &T) -> Result<Message> {
    postcard::to_allocvec(value)
        .map(Message::from)
        .map_err(|e| Error::Serialize {
            format: "postcard",
            source: Box::new(e),
        })
}

/// Decodes a whole bincode message part, handing it back on failure.
#[cfg(feature = "bincode")]
pub(crate) fn from_bincode<T: DeserializeOwned>(msg: Message) -> Result<T> {
    bincode_whole(&msg).map_err(|source| decode_error("bincode", msg, source))
}

/// Encodes `value` with bincode 2 (standard configuration) into one part.
#[cfg(all(feature = "bincode", feature = "tokio", unix))]
pub(crate) fn bincode_message<T: Serialize + ?Sized>(value: &T) -> Result<Message> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map(Message::from)
        .map_err(|e| Error::Serialize {
            format: "bincode",
            source: Box::new(e),
        })
}

/// Decodes a whole bincode value: trailing bytes are an error.
#[cfg(feature = "bincode")]
fn bincode_whole<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, BoxError> {
    let (value, used): (T, usize) =
        bincode::serde::decode_from_slice(bytes, bincode::config::standard())?;
    if used != bytes.len() {
        return Err(format!("{} unexpected bytes after the value", bytes.len() - used).into());
    }
    Ok(value)
}

/// postcard in one message part, as a [`Serializer`] (for code generic over
/// serializers; [`Socket::send_postcard`] is the direct way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub struct Postcard;

#[cfg(feature = "postcard")]
impl<T: Serialize + DeserializeOwned> Serializer<T> for Postcard {
    fn format(&self) -> &'static str {
        "postcard"
    }
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError> {
        Ok(vec![Message::from(postcard::to_allocvec(value)?)])
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError> {
        Ok(postcard::from_bytes(one_frame(frames)?)?)
    }
}

/// A [`Serializer`] made of two closures (see [`from_fns`]).
pub struct FnSerializer<T, S, D> {
    serialize: S,
    deserialize: D,
    format: &'static str,
    _value: PhantomData<fn(T) -> T>,
}

impl<T, S, D> fmt::Debug for FnSerializer<T, S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSerializer")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A [`Serializer`] from a pair of closures, the closest thing to pyzmq's
/// `send_serialized(msg, serialize)` / `recv_serialized(deserialize)`.
///
/// ```
/// use zmqx::Message;
/// use zmqx::serialize::{Serializer, from_fns};
/// let csv = from_fns(
///     "csv",
///     |v: &Vec<u32>| {
///         let text: Vec<String> = v.iter().map(u32::to_string).collect();
///         Ok(vec![Message::from(text.join(","))])
///     },
///     |frames: &[Message]| {
///         let text = std::str::from_utf8(frames.first().ok_or("no frame")?)?;
///         Ok(text.split(',').map(str::parse).collect::<Result<Vec<u32>, _>>()?)
///     },
/// );
/// let frames = csv.serialize(&vec![1, 2, 3]).unwrap();
/// assert_eq!(frames[0], "1,2,3");
/// assert_eq!(csv.deserialize(&frames).unwrap(), vec![1, 2, 3]);
/// ```
pub fn from_fns<T, S, D>(
    format: &'static str,
    serialize: S,
    deserialize: D,
) -> FnSerializer<T, S, D>
where
    S: Fn(&T) -> std::result::Result<Vec<Message>, BoxError>,
    D: Fn(&[Message]) -> std::result::Result<T, BoxError>,
{
    FnSerializer {
        serialize,
        deserialize,
        format,
        _value: PhantomData,
    }
}

impl<T, S, D> Serializer<T> for FnSerializer<T, S, D>
where
    S: Fn(&T) -> std::result::Result<Vec<Message>, BoxError>,
    D: Fn(&[Message]) -> std::result::Result<T, BoxError>,
{
    fn format(&self) -> &'static str {
        self.format
    }
    fn serialize(&self, value: &T) -> std::result::Result<Vec<Message>, BoxError> {
        (self.serialize)(value)
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<T, BoxError> {
        (self.deserialize)(frames)
    }
}

/// A message had a number of parts its format does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} message part(s), got {got}")]
pub struct FrameCount {
    /// How many parts the format needs.
    pub expected: usize,
    /// How many arrived.
    pub got: usize,
}

/// The one frame of a single-part format.
#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
fn one_frame(frames: &[Message]) -> std::result::Result<&[u8], FrameCount> {
    match frames {
        [only] => Ok(only),
        _ => Err(FrameCount {
            expected: 1,
            got: frames.len(),
        }),
    }
}

/// A text encoding for [`Socket::send_string_encoded`] and
/// [`Socket::recv_string_encoded`] (pyzmq's `encoding=` argument).
///
/// Parse Python codec names with `"latin-1".parse::<Encoding>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8 (pyzmq's default). Decoding rejects invalid UTF-8.
    #[default]
    Utf8,
    /// ISO-8859-1 (Python's `latin-1`): one byte per character U+0000–U+00FF.
    /// Every byte string decodes; encoding rejects characters above U+00FF.
    Latin1,
    /// 7-bit ASCII: encoding and decoding reject anything above 0x7F.
    Ascii,
    /// UTF-16, little-endian, no byte order mark (Python's `utf-16-le`).
    Utf16Le,
    /// UTF-16, big-endian, no byte order mark (Python's `utf-16-be`).
    Utf16Be,
}

impl Encoding {
    /// The Python codec name (`"utf-8"`, `"latin-1"`, `"ascii"`,
    /// `"utf-16-le"`, `"utf-16-be"`).
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "latin-1",
            Encoding::Ascii => "ascii",
            Encoding::Utf16Le => "utf-16-le",
            Encoding::Utf16Be => "utf-16-be",
        }
    }

    /// Encodes `text`; [`Error::Serialize`] with an [`EncodeError`] source
    /// when a character has no encoding.
    pub fn encode(self, text: &str) -> Result<Vec<u8>> {
        let unencodable = |index: usize, ch: char| Error::Serialize {
            format: self.name(),
            source: Box::new(EncodeError {
                encoding: self,
                index,
                ch,
            }),
        };
        match self {
            Encoding::Utf8 => Ok(text.as_bytes().to_vec()),
            Encoding::Ascii => match text.char_indices().find(|(_, c)| !c.is_ascii()) {
                Some((i, c)) => Err(unencodable(i, c)),
                None => Ok(text.as_bytes().to_vec()),
            },
            Encoding::Latin1 => {
                let mut out = Vec::with_capacity(text.len());
                for (i, c) in text.char_indices() {
                    let byte = u8::try_from(u32::from(c)).map_err(|_| unencodable(i, c))?;
                    out.push(byte);
                }
                Ok(out)
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let mut out = Vec::with_capacity(text.len() * 2);
                for unit in text.encode_utf16() {
                    let bytes = if self == Encoding::Utf16Le {
                        unit.to_le_bytes()
                    } else {
                        unit.to_be_bytes()
                    };
                    out.extend_from_slice(&bytes);
                }
                Ok(out)
            }
        }
    }

    /// Decodes `bytes`, or tells where they are invalid.
    pub fn decode(self, bytes: &[u8]) -> std::result::Result<String, DecodeError> {
        let invalid = |index: usize| DecodeError {
            encoding: self,
            index,
            byte: bytes.get(index).copied(),
        };
        match self {
            Encoding::Utf8 => std::str::from_utf8(bytes)
                .map(str::to_string)
                .map_err(|e| invalid(e.valid_up_to())),
            Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                Some(i) => Err(invalid(i)),
                // ASCII is valid UTF-8: a plain copy.
                None => Ok(String::from_utf8_lossy(bytes).into_owned()),
            },
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                if bytes.len() % 2 != 0 {
                    return Err(DecodeError {
                        encoding: self,
                        index: bytes.len() - 1,
                        byte: bytes.last().copied(),
                    });
                }
                let units = bytes.chunks_exact(2).map(|pair| {
                    let pair = [pair[0], pair[1]];
                    if self == Encoding::Utf16Le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                });
                let mut out = String::with_capacity(bytes.len() / 2);
                let mut index = 0;
                for c in char::decode_utf16(units) {
                    match c {
                        Ok(c) => {
                            index += 2 * c.len_utf16();
                            out.push(c);
                        }
                        Err(_) => return Err(invalid(index)),
                    }
                }
                Ok(out)
            }
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = Error;

    /// Python codec names and their usual aliases, case-insensitive:
    /// `utf-8`/`utf8`, `latin-1`/`latin1`/`iso-8859-1`/`l1`, `ascii`/
    /// `us-ascii`, `utf-16-le`/`utf-16le`, `utf-16-be`/`utf-16be`.
    fn from_str(name: &str) -> Result<Encoding> {
        let normal = name.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match normal.as_str() {
            "utf-8" | "utf8" | "u8" => Encoding::Utf8,
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" => Encoding::Latin1,
            "ascii" | "us-ascii" => Encoding::Ascii,
            "utf-16-le" | "utf-16le" => Encoding::Utf16Le,
            "utf-16-be" | "utf-16be" => Encoding::Utf16Be,
            _ => {
                return Err(Error::invalid(
                    format!("encoding {name:?}"),
                    "not one of utf-8, latin-1, ascii, utf-16-le, utf-16-be",
                ));
            }
        })
    }
}

/// A character that a text [`Encoding`] cannot represent (the source of an
/// [`Error::Serialize`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{encoding} cannot encode {ch:?} at byte {index} of the string")]
pub struct EncodeError {
    /// The encoding asked for.
    pub encoding: Encoding,
    /// The byte offset of the character in the string.
    pub index: usize,
    /// The character.
    pub ch: char,
}

/// Bytes that are not valid in a text [`Encoding`] (the source of an
/// [`Error::Deserialize`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {encoding} at byte {index}{}", byte.map(|b| format!(" (0x{b:02x})")).unwrap_or_default())]
pub struct DecodeError {
    /// The encoding asked for.
    pub encoding: Encoding,
    /// The offset of the first invalid byte.
    pub index: usize,
    /// That byte, if there is one (a truncated sequence has none).
    pub byte: Option<u8>,
}

#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
thread_local! {
    /// The buffer `send_json` and `send_postcard` encode into, reused.
    static ENCODE_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The largest encode buffer kept for reuse (a bigger one is freed).
#[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
const KEPT_BUFFER: usize = 1 << 20;

/// Builds an [`Error::Deserialize`] that hands `frames` back.
fn decode_error(format: &'static str, frames: impl Into<Frames>, source: BoxError) -> Error {
    Error::Deserialize {
        format,
        frames: frames.into(),
        source,
    }
}

impl Socket {
    /// Receives one part and checks it against `limit`.
    #[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
    fn recv_one_limited(&self, limit: usize) -> Result<Message> {
        let msg = self.recv_msg()?;
        if msg.len() > limit {
            return Err(Error::TooLarge {
                size: msg.len(),
                limit,
                frames: msg.into(),
            });
        }
        Ok(msg)
    }

    /// Encodes into a reused per-thread buffer and sends it: small messages
    /// are copied by libzmq from the buffer (no allocation on our side),
    /// large ones are handed over without copying.
    #[cfg(any(feature = "json", feature = "postcard", feature = "bincode"))]
    fn send_encoded<E>(
        &self,
        format: &'static str,
        encode: impl FnOnce(Vec<u8>) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<()>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        // Taken out of the thread-local (not borrowed) while encoding, so a
        // `Serialize` impl that itself sends is fine.
        let mut buf = ENCODE_BUFFER
            .with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
            .unwrap_or_default();
        buf.clear();
        let buf = encode(buf).map_err(|e| Error::Serialize {
            format,
            source: Box::new(e),
        })?;
        if buf.len() >= copy_threshold() {
            return self.send(buf);
        }
        let sent = self.send(&buf[..]);
        if buf.capacity() <= KEPT_BUFFER {
            ENCODE_BUFFER.with(|b| {
                if let Ok(mut b) = b.try_borrow_mut() {
                    *b = buf;
                }
            });
        }
        sent
    }

    /// Sends `value` as JSON in one message part (pyzmq's `send_json`).
    ///
    /// Fails with [`Error::Serialize`] when serde_json cannot encode the
    /// value (a map with non-string keys, a failing `Serialize` impl…);
    /// nothing is sent then.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.send_encoded("json", |mut buf| {
            serde_json::to_writer(&mut buf, value).map(|()| buf)
        })
    }

    /// Receives one message part and decodes it as JSON (pyzmq's
    /// `recv_json`). Malformed JSON, or JSON of the wrong shape, is an
    /// [`Error::Deserialize`] that hands the part back. Use
    /// [`recv_json_limited`](Socket::recv_json_limited) with untrusted peers.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn recv_json<T: DeserializeOwned>(&self) -> Result<T> {
        self.recv_json_limited(usize::MAX)
    }

    /// Like [`recv_json`](Socket::recv_json), but a part larger than `limit`
    /// bytes is not decoded: [`Error::TooLarge`], with the part handed back.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn recv_json_limited<T: DeserializeOwned>(&self, limit: usize) -> Result<T> {
        let msg = self.recv_one_limited(limit)?;
        serde_json::from_slice(&msg).map_err(|e| decode_error("json", msg, Box::new(e)))
    }

    /// Sends `value` in postcard's compact binary format, in one message part:
    /// the Rust counterpart of pyzmq's `send_pyobj` (see the
    /// [module docs](crate::serialize) for why postcard and not pickle or
    /// bincode).
    #[cfg(feature = "postcard")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
    pub fn send_postcard<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.send_encoded("postcard", |buf| postcard::to_extend(value, buf))
    }

    /// Sends `value` with bincode 2's serde encoding (standard
    /// configuration) in one message part: for peers written in Rust with
    /// bincode. zmqx depends on `bincode = "2"` because the registry's
    /// newest bincode, 3.0.0, is an empty tombstone; the bytes are what
    /// `bincode::serde::encode_to_vec(value, bincode::config::standard())`
    /// gives.
    #[cfg(feature = "bincode")]
    #[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
    pub fn send_bincode<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.send_encoded("bincode", |mut buf| {
            bincode::serde::encode_into_std_write(value, &mut buf, bincode::config::standard())
                .map(|_| buf)
        })
    }

    /// Receives one message part and decodes it with bincode 2 (standard
    /// configuration). Bytes that are not a valid `T`, or trailing bytes,
    /// are an [`Error::Deserialize`] that hands the part back. Use
    /// [`recv_bincode_limited`](Socket::recv_bincode_limited) with
    /// untrusted peers.
    #[cfg(feature = "bincode")]
    #[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
    pub fn recv_bincode<T: DeserializeOwned>(&self) -> Result<T> {
        self.recv_bincode_limited(usize::MAX)
    }

    /// Like [`recv_bincode`](Socket::recv_bincode), but a part larger than
    /// `limit` bytes is not decoded: [`Error::TooLarge`], with the part
    /// handed back.
    #[cfg(feature = "bincode")]
    #[cfg_attr(docsrs, doc(cfg(feature = "bincode")))]
    pub fn recv_bincode_limited<T: DeserializeOwned>(&self, limit: usize) -> Result<T> {
        from_bincode(self.recv_one_limited(limit)?)
    }

    /// Receives one message part and decodes it from postcard (pyzmq's
    /// `recv_pyobj`). Bytes that are not a valid `T` are an
    /// [`Error::Deserialize`] that hands the part back. Trailing bytes after
    /// the value are an error too, so a peer sending another type is noticed.
    /// Use [`recv_postcard_limited`](Socket::recv_postcard_limited) with
    /// untrusted peers.
    #[cfg(feature = "postcard")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
    pub fn recv_postcard<T: DeserializeOwned>(&self) -> Result<T> {
        self.recv_postcard_limited(usize::MAX)
    }

    /// Like [`recv_postcard`](Socket::recv_postcard), but a part larger than
    /// `limit` bytes is not decoded: [`Error::TooLarge`], with the part
    /// handed back.
    #[cfg(feature = "postcard")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
    pub fn recv_postcard_limited<T: DeserializeOwned>(&self, limit: usize) -> Result<T> {
        from_postcard(self.recv_one_limited(limit)?)
    }

    /// Sends `value` as the message parts `serializer` makes of it (pyzmq's
    /// `send_serialized`).
    /// A serializer error, or no parts at all, is an [`Error::Serialize`] and
    /// nothing is sent.
    pub fn send_serialized<T, S>(&self, value: &T, serializer: &S) -> Result<()>
    where
        S: Serializer<T> + ?Sized,
    {
        let frames = serializer
            .serialize(value)
            .map_err(|source| Error::Serialize {
                format: serializer.format(),
                source,
            })?;
        self.send_frames(frames, serializer.format())
    }

    /// Receives all parts of one message and decodes them with `serializer`
    /// (pyzmq's `recv_serialized`). A decoding error is an
    /// [`Error::Deserialize`] that hands the parts back.
    pub fn recv_serialized<T, S>(&self, serializer: &S) -> Result<T>
    where
        S: Serializer<T> + ?Sized,
    {
        self.recv_serialized_limited(serializer, usize::MAX)
    }

    /// Like [`recv_serialized`](Socket::recv_serialized), but a message whose
    /// parts add up to more than `limit` bytes is not decoded:
    /// [`Error::TooLarge`], with the parts handed back.
    pub fn recv_serialized_limited<T, S>(&self, serializer: &S, limit: usize) -> Result<T>
    where
        S: Serializer<T> + ?Sized,
    {
        self.recv_frames_with(limit, serializer.format(), |frames| {
            serializer.deserialize(frames)
        })
    }

    /// Sends text in `encoding` (pyzmq's `send_string(u, encoding=…)`).
    /// A character the encoding cannot represent is an [`Error::Serialize`]
    /// with an [`EncodeError`] source, and nothing is sent.
    pub fn send_string_encoded(&self, text: &str, encoding: Encoding) -> Result<()> {
        match encoding {
            // No copy for UTF-8 (libzmq copies the slice), nor for ASCII.
            Encoding::Utf8 => self.send(text),
            Encoding::Ascii if text.is_ascii() => self.send(text),
            _ => self.send(encoding.encode(text)?),
        }
    }

    /// Receives one message part as text in `encoding` (pyzmq's
    /// `recv_string(encoding=…)`). Bytes invalid in the encoding are an
    /// [`Error::Deserialize`] with a [`DecodeError`] source that hands the
    /// part back. ([`Socket::recv_string`] is the UTF-8 shortcut; its error
    /// is [`Error::Utf8`].)
    pub fn recv_string_encoded(&self, encoding: Encoding) -> Result<String> {
        let msg = self.recv_msg()?;
        encoding
            .decode(&msg)
            .map_err(|e| decode_error(encoding.name(), msg, Box::new(e)))
    }

    /// Sends serializer output as one multipart message.
    fn send_frames(&self, frames: Vec<Message>, format: &'static str) -> Result<()> {
        if frames.is_empty() {
            return Err(Error::Serialize {
                format,
                source: "the serializer produced no message parts".into(),
            });
        }
        self.send_multipart(frames)
    }

    /// Receives a whole message, checks its size, decodes it with `decode`.
    fn recv_frames_with<T>(
        &self,
        limit: usize,
        format: &'static str,
        decode: impl FnOnce(&[Message]) -> std::result::Result<T, BoxError>,
    ) -> Result<T> {
        let frames = self.recv_multipart()?;
        let size = frames.iter().map(|m| m.len()).sum();
        if size > limit {
            return Err(Error::TooLarge {
                size,
                limit,
                frames: frames.into(),
            });
        }
        match decode(&frames) {
            Ok(value) => Ok(value),
            Err(source) => Err(decode_error(format, frames, source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() -> Result<()> {
        for (enc, text) in [
            (Encoding::Utf8, "héllo wörld ✓"),
            (Encoding::Latin1, "héllo wörld ÿ"),
            (Encoding::Ascii, "plain"),
            (Encoding::Utf16Le, "héllo 𝄞"),
            (Encoding::Utf16Be, "héllo 𝄞"),
        ] {
            let bytes = enc.encode(text)?;
            assert_eq!(
                enc.decode(&bytes).map_err(|e| e.to_string()),
                Ok(text.to_string())
            );
            assert_eq!(enc.name().parse::<Encoding>()?, enc);
        }
        assert_eq!(Encoding::Latin1.encode("é")?, vec![0xe9]);
        assert_eq!(Encoding::Utf16Le.encode("A")?, vec![0x41, 0]);
        assert_eq!(Encoding::Utf16Be.encode("A")?, vec![0, 0x41]);
        Ok(())
    }

    #[test]
    fn encoding_errors() {
        let e = Encoding::Ascii.encode("abé").unwrap_err();
        match e {
            Error::Serialize { format, source } => {
                assert_eq!(format, "ascii");
                let e = source
                    .downcast_ref::<EncodeError>()
                    .expect("an EncodeError");
                assert_eq!((e.index, e.ch), (2, 'é'));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(Encoding::Latin1.encode("€").is_err());
        assert_eq!(Encoding::Ascii.decode(b"ab\xff").unwrap_err().index, 2);
        assert_eq!(
            Encoding::Utf8.decode(b"ab\xc3").unwrap_err().byte,
            Some(0xc3)
        );
        assert_eq!(Encoding::Utf16Le.decode(b"abc").unwrap_err().index, 2);
        // A lone surrogate.
        assert_eq!(
            Encoding::Utf16Le.decode(b"a\0\x00\xd8").unwrap_err().index,
            2
        );
        // Latin-1 decodes every byte.
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(
            Encoding::Latin1.decode(&all).map(|s| s.chars().count()),
            Ok(256)
        );
        assert!("klingon".parse::<Encoding>().is_err());
        assert_eq!(
            "ISO_8859_1".parse::<Encoding>().ok(),
            Some(Encoding::Latin1)
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn single_frame_formats_reject_other_counts() {
        let two = [Message::from("1"), Message::from("2")];
        let r: std::result::Result<u8, _> = Serializer::<u8>::deserialize(&Json, &two);
        assert!(r.unwrap_err().downcast_ref::<FrameCount>().is_some());
        let r: std::result::Result<u8, _> = Serializer::<u8>::deserialize(&Postcard, &[]);
        assert!(r.unwrap_err().downcast_ref::<FrameCount>().is_some());
    }
}
