//! txZMQ 1.0's framing as pure functions: no sockets, no allocation when
//! decoding, a typed [`WireError`] (never a panic) for any input.
//!
//! Decoders take the frames of one multipart message as a slice of anything
//! that is bytes (`&[Message]`, `&[Vec<u8>]`, `&[&[u8]]`) and return borrowed
//! views into them.
//!
//! ```
//! use zmqx::txzmq::wire;
//!
//! // PUB/SUB: one frame `tag \0 body` (txZMQ's `publish`)…
//! let frame = wire::encode_published(b"weather", b"sunny")?;
//! assert_eq!(frame, b"weather\0sunny");
//! let frames = [&frame[..]];
//! let p = wire::split_published(&frames)?;
//! assert_eq!((p.tag, p.body), (&b"weather"[..], &b"sunny"[..]));
//! // …or two frames [tag, body], which txZMQ's subscriber accepts too.
//! let two: [&[u8]; 2] = [b"weather", b"rain"];
//! let p = wire::split_published(&two)?;
//! assert_eq!(p.body, b"rain");
//!
//! // REQ/REP over DEALER/ROUTER: [routing…, id, empty, parts…].
//! let request: [&[u8]; 4] = [b"peer", b"id-1", b"", b"ping"];
//! let r = wire::parse_request(&request)?;
//! assert_eq!((r.routing.len(), r.id, r.parts.len()), (1, &b"id-1"[..], 1));
//! // A plain REQ socket sends no message id: its routing id serves as one,
//! // as in txZMQ, and the reply [peer, empty, parts…] routes back to it.
//! let plain: [&[u8]; 3] = [b"peer", b"", b"ping"];
//! let r = wire::parse_request(&plain)?;
//! assert_eq!((r.routing.len(), r.id), (0, &b"peer"[..]));
//! let reply: [&[u8]; 3] = [b"id-1", b"", b"pong"];
//! let r = wire::parse_reply(&reply)?;
//! assert_eq!((r.id, r.parts), (&b"id-1"[..], &reply[2..]));
//! # Ok::<(), wire::WireError>(())
//! ```
#![forbid(unsafe_code)]

use crate::Message;

/// Why a message is not valid txZMQ framing (carried by
/// [`Error::Framing`](super::Error::Framing) with the raw frames of a
/// received message, by [`Error::Unsendable`](super::Error::Unsendable) for
/// one to send).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A message with no frames at all (received, or given to a multipart
    /// send).
    #[error("the message has no frames")]
    NoFrames,
    /// A published message with more than two frames (txZMQ sends one, or
    /// accepts two: [tag, body]).
    #[error(
        "a published message has {count} frames; txZMQ uses one (tag\\0body) or two (tag, body)"
    )]
    TooManyFrames {
        /// How many frames it had.
        count: usize,
    },
    /// A one-frame published message without the `\0` that ends the tag.
    #[error("a one-frame published message has no NUL byte separating tag and body")]
    MissingTagSeparator,
    /// A tag to publish contains a NUL byte: the subscriber would split the
    /// frame at it and get a different tag.
    #[error("a txZMQ tag cannot contain a NUL byte (at offset {offset})")]
    NulInTag {
        /// Where the first NUL is.
        offset: usize,
    },
    /// A request with no empty delimiter frame after its message id.
    #[error("a txZMQ request has no empty delimiter frame")]
    MissingDelimiter,
    /// A request whose first frame is the delimiter: no message id and no
    /// routing id (a ROUTER always puts a non-empty routing id first, so
    /// only a hand-made frame list has this).
    #[error("a txZMQ request has no message id before its delimiter")]
    MissingMessageId,
    /// A reply with fewer than the two frames [id, empty].
    #[error("a txZMQ reply has {count} frames; it needs at least [id, empty]")]
    TooFewFrames {
        /// How many frames it had.
        count: usize,
    },
    /// A reply whose second frame, the delimiter, is not empty.
    #[error("the second frame of a txZMQ reply is not the empty delimiter")]
    NonEmptyDelimiter,
    /// An empty message id (on either side): it would be read as the
    /// delimiter.
    #[error("a txZMQ message id cannot be empty")]
    EmptyMessageId,
    /// A reply with no parts to a plain REQ socket, which would drop it
    /// (libzmq's REQ skips a message that ends at the delimiter): send at
    /// least one part.
    #[error("a REQ peer drops a reply with no parts; send at least one")]
    NoPartsForReq,
}

/// The two forms of a published message a txZMQ subscriber accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublishedForm {
    /// One frame `tag \0 body` (what txZMQ's `publish` sends).
    OneFrame,
    /// Two frames [tag, body] (accepted for compatibility).
    TwoFrames,
}

/// A published message split into tag and body ([`split_published`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedRef<'a> {
    /// The tag (the subscription prefix it matched).
    pub tag: &'a [u8],
    /// The message body.
    pub body: &'a [u8],
    /// Which form it came in.
    pub form: PublishedForm,
}

/// Splits a received PUB/SUB message into tag and body, as txZMQ's
/// `ZmqSubConnection.messageReceived`: two frames are [tag, body]; one frame
/// is split at its first NUL byte.
///
/// Unlike txZMQ (which fails with a `TypeError`, or ignores extra frames), a
/// frame with no NUL and a message of three or more frames are errors.
pub fn split_published<F: AsRef<[u8]>>(frames: &[F]) -> Result<PublishedRef<'_>, WireError> {
    match frames {
        [] => Err(WireError::NoFrames),
        [one] => {
            let one = one.as_ref();
            let nul = one
                .iter()
                .position(|&b| b == 0)
                .ok_or(WireError::MissingTagSeparator)?;
            Ok(PublishedRef {
                tag: &one[..nul],
                body: &one[nul + 1..],
                form: PublishedForm::OneFrame,
            })
        }
        [tag, body] => Ok(PublishedRef {
            tag: tag.as_ref(),
            body: body.as_ref(),
            form: PublishedForm::TwoFrames,
        }),
        _ => Err(WireError::TooManyFrames {
            count: frames.len(),
        }),
    }
}

/// Checks that `tag` can be published: it must not contain a NUL byte.
pub fn check_tag(tag: &[u8]) -> Result<(), WireError> {
    match tag.iter().position(|&b| b == 0) {
        Some(offset) => Err(WireError::NulInTag { offset }),
        None => Ok(()),
    }
}

/// The one frame txZMQ's `publish(message, tag)` sends: `tag \0 body`.
/// A tag containing NUL is a [`WireError::NulInTag`].
pub fn encode_published(tag: &[u8], body: &[u8]) -> Result<Vec<u8>, WireError> {
    check_tag(tag)?;
    let mut frame = Vec::with_capacity(tag.len() + 1 + body.len());
    frame.extend_from_slice(tag);
    frame.push(0);
    frame.extend_from_slice(body);
    Ok(frame)
}

/// A reply as a txZMQ request client (DEALER) receives it ([`parse_reply`]).
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyRef<'a, F> {
    /// The message id of the request it answers.
    pub id: &'a [u8],
    /// The reply's parts (may be none).
    pub parts: &'a [F],
}

/// Parses a reply on the client side: [id, empty, parts…]
/// (txZMQ's `ZmqREQConnection.messageReceived`, which takes `message[0]`
/// and `message[2:]`; here the delimiter and a non-empty id are checked).
pub fn parse_reply<F: AsRef<[u8]>>(frames: &[F]) -> Result<ReplyRef<'_, F>, WireError> {
    match frames {
        [] => Err(WireError::NoFrames),
        [_] => Err(WireError::TooFewFrames { count: 1 }),
        [id, delimiter, parts @ ..] => {
            if id.as_ref().is_empty() {
                return Err(WireError::EmptyMessageId);
            }
            if !delimiter.as_ref().is_empty() {
                return Err(WireError::NonEmptyDelimiter);
            }
            Ok(ReplyRef {
                id: id.as_ref(),
                parts,
            })
        }
    }
}

/// A request as a txZMQ reply server (ROUTER) receives it
/// ([`parse_request`]).
#[derive(Debug, PartialEq, Eq)]
pub struct RequestRef<'a, F> {
    /// The routing envelope (one id per ROUTER hop), kept to route the
    /// reply. Its length is also the index of the id frame.
    pub routing: &'a [F],
    /// The request's message id.
    pub id: &'a [u8],
    /// The request's parts (may be none).
    pub parts: &'a [F],
}

/// Parses a request on the server side: [routing…, id, empty, parts…],
/// the delimiter being the first empty frame, the id the frame before it
/// (txZMQ's `ZmqREPConnection.messageReceived`).
///
/// The routing envelope may be empty: a plain REQ socket sends
/// [empty, parts…], which the ROUTER receives as [peer, empty, parts…].
/// Its routing id is then the message id, as in txZMQ, and the reply
/// [peer, empty, parts…] ([`encode_reply`] with no routing) reaches it.
pub fn parse_request<F: AsRef<[u8]>>(frames: &[F]) -> Result<RequestRef<'_, F>, WireError> {
    if frames.is_empty() {
        return Err(WireError::NoFrames);
    }
    let delimiter = frames
        .iter()
        .position(|f| f.as_ref().is_empty())
        .ok_or(WireError::MissingDelimiter)?;
    match delimiter {
        0 => Err(WireError::MissingMessageId),
        d => Ok(RequestRef {
            routing: &frames[..d - 1],
            id: frames[d - 1].as_ref(),
            parts: &frames[d + 1..],
        }),
    }
}

/// The frames a txZMQ request client sends: [id, empty, parts…]
/// (`ZmqREQConnection.sendMsg`). An empty id is a
/// [`WireError::EmptyMessageId`].
pub fn encode_request<I>(id: &[u8], parts: I) -> Result<Vec<Message>, WireError>
where
    I: IntoIterator,
    I::Item: Into<Message>,
{
    if id.is_empty() {
        return Err(WireError::EmptyMessageId);
    }
    let parts = parts.into_iter();
    let mut frames = Vec::with_capacity(2 + parts.size_hint().0);
    frames.push(Message::from(id));
    frames.push(Message::new());
    frames.extend(parts.map(Into::into));
    Ok(frames)
}

/// The frames a txZMQ reply server sends: [routing…, id, empty, parts…]
/// (`ZmqREPConnection.reply`). An empty id is a
/// [`WireError::EmptyMessageId`]. The routing envelope is empty for a
/// plain REQ peer, whose routing id is the message id.
pub fn encode_reply<I>(
    routing: Vec<Message>,
    id: &[u8],
    parts: I,
) -> Result<Vec<Message>, WireError>
where
    I: IntoIterator,
    I::Item: Into<Message>,
{
    if id.is_empty() {
        return Err(WireError::EmptyMessageId);
    }
    let mut frames = routing;
    frames.push(Message::from(id));
    frames.push(Message::new());
    frames.extend(parts.into_iter().map(Into::into));
    Ok(frames)
}

/// Splits a message a ROUTER received into the sender's routing id and the
/// rest (txZMQ's `ZmqRouterConnection.messageReceived`).
pub fn split_sender<F: AsRef<[u8]>>(frames: &[F]) -> Result<(&F, &[F]), WireError> {
    frames.split_first().ok_or(WireError::NoFrames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_round_trip() -> Result<(), WireError> {
        for (tag, body) in [
            (&b""[..], &b""[..]),
            (b"t", b""),
            (b"", b"body"),
            (b"tag", b"with\0nul\0inside"),
        ] {
            let frame = encode_published(tag, body)?;
            let frames = [&frame[..]];
            let p = split_published(&frames)?;
            assert_eq!(
                (p.tag, p.body, p.form),
                (tag, body, PublishedForm::OneFrame)
            );
        }
        Ok(())
    }

    #[test]
    fn published_errors() {
        let none: [&[u8]; 0] = [];
        assert_eq!(split_published(&none), Err(WireError::NoFrames));
        assert_eq!(
            split_published(&[&b"no separator"[..]]),
            Err(WireError::MissingTagSeparator)
        );
        assert_eq!(
            split_published(&[&b"a"[..], b"b", b"c"]),
            Err(WireError::TooManyFrames { count: 3 })
        );
        assert_eq!(
            encode_published(b"ta\0g", b"x"),
            Err(WireError::NulInTag { offset: 2 })
        );
    }

    #[test]
    fn request_parsing() {
        let f = |v: &[&'static [u8]]| v.to_vec();
        let two_hops = f(&[b"hop1", b"hop2", b"id", b"", b"a", b"", b"b"]);
        let r = parse_request(&two_hops).unwrap();
        assert_eq!(r.routing, &two_hops[..2]);
        assert_eq!(r.id, b"id");
        assert_eq!(r.parts, &two_hops[4..]);
        let none: [&[u8]; 0] = [];
        assert_eq!(parse_request(&none), Err(WireError::NoFrames));
        assert_eq!(
            parse_request(&f(&[b"peer", b"id"])),
            Err(WireError::MissingDelimiter)
        );
        assert_eq!(
            parse_request(&f(&[b"", b"x"])),
            Err(WireError::MissingMessageId)
        );
        // A plain REQ: the routing id is the message id.
        let plain = f(&[b"peer", b"", b"a"]);
        let r = parse_request(&plain).unwrap();
        assert_eq!(
            (r.routing.len(), r.id, r.parts),
            (0, &b"peer"[..], &plain[2..])
        );
    }

    #[test]
    fn reply_parsing() {
        let f = |v: &[&'static [u8]]| v.to_vec();
        let empty_reply = f(&[b"id", b""]);
        let r = parse_reply(&empty_reply).unwrap();
        assert_eq!((r.id, r.parts.len()), (&b"id"[..], 0));
        assert_eq!(
            parse_reply(&f(&[b"id"])),
            Err(WireError::TooFewFrames { count: 1 })
        );
        assert_eq!(
            parse_reply(&f(&[b"id", b"x"])),
            Err(WireError::NonEmptyDelimiter)
        );
        assert_eq!(parse_reply(&f(&[b"", b""])), Err(WireError::EmptyMessageId));
    }

    /// Every message of up to four frames of up to two bytes from {0, 1}:
    /// no panic, and every success is consistent with its input.
    #[test]
    fn small_inputs_exhaustively() {
        let mut frames_pool: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=2 {
            for bits in 0..(1u32 << len) {
                frames_pool.push((0..len).map(|i| ((bits >> i) & 1) as u8).collect());
            }
        }
        let mut messages: Vec<Vec<Vec<u8>>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<_> = messages
                .iter()
                .filter(|m| m.len() == messages.last().map_or(0, Vec::len))
                .flat_map(|m| {
                    frames_pool.iter().map(move |f| {
                        let mut m = m.clone();
                        m.push(f.clone());
                        m
                    })
                })
                .collect();
            messages.extend(longer);
        }
        for m in &messages {
            if let Ok(p) = split_published(m) {
                match p.form {
                    PublishedForm::OneFrame => {
                        assert!(!p.tag.contains(&0));
                        assert_eq!(encode_published(p.tag, p.body).as_deref(), Ok(&m[0][..]));
                    }
                    PublishedForm::TwoFrames => assert_eq!(m.len(), 2),
                }
            }
            if let Ok(r) = parse_request(m) {
                assert!(!r.id.is_empty());
                assert_eq!(r.routing.len() + 2 + r.parts.len(), m.len());
                assert!(m[r.routing.len() + 1].is_empty());
                let routing = r.routing.iter().map(|f| Message::from(&f[..])).collect();
                let parts = r.parts.iter().map(|f| Message::from(&f[..]));
                let back = encode_reply(routing, r.id, parts).expect("a parsed request encodes");
                let back: Vec<Vec<u8>> = back.iter().map(|f| f.to_vec()).collect();
                assert_eq!(back, *m);
            }
            if let Ok(r) = parse_reply(m) {
                assert_eq!(r.parts.len() + 2, m.len());
                assert_eq!(r.id, &m[0][..]);
            }
            if let Ok((first, rest)) = split_sender(m) {
                assert_eq!(first, &m[0]);
                assert_eq!(rest.len() + 1, m.len());
            }
        }
        assert_eq!(messages.len(), 1 + 7 + 49 + 343 + 2401);
    }

    #[test]
    fn encoders() -> Result<(), WireError> {
        let req = encode_request(b"id", ["a", "b"])?;
        assert_eq!(req, [&b"id"[..], b"", b"a", b"b"]);
        let r = parse_reply(&req)?;
        assert_eq!(r.id, b"id");
        let rep = encode_reply(vec![Message::from("peer")], b"id", ["x"])?;
        let parsed = parse_request(&rep)?;
        assert_eq!((parsed.id, parsed.parts.len()), (&b"id"[..], 1));
        assert_eq!(
            encode_request(b"", ["a"]).map(|_| ()),
            Err(WireError::EmptyMessageId)
        );
        // No routing: a reply to a plain REQ, routed by its id.
        let plain = encode_reply(Vec::new(), b"peer", ["a"])?;
        assert_eq!(plain, [&b"peer"[..], b"", b"a"]);
        let parsed = parse_request(&plain)?;
        assert_eq!((parsed.routing.len(), parsed.id), (0, &b"peer"[..]));
        Ok(())
    }
}
