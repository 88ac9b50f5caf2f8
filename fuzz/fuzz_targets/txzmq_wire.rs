//! txZMQ 1.0 framing (`zmqx::txzmq::wire`): published messages, requests
//! and replies as the txZMQ patterns receive them. The frames of the input
//! are separated by `|#|` (see `src/lib.rs`).
//!
//! Properties: nothing panics; whatever parses encodes back to the same
//! frames (published one-frame messages, requests with their routing
//! envelope, replies); errors are the documented ones for the shape given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmqx::Message;
use zmqx::txzmq::wire::{self, PublishedForm, WireError};
use zmqx_fuzz::split_frames;

fn to_vecs(messages: &[Message]) -> Vec<Vec<u8>> {
    messages.iter().map(|m| m.to_vec()).collect()
}

fuzz_target!(|data: &[u8]| {
    let frames = split_frames(data);

    match wire::split_published(&frames) {
        Ok(p) => match p.form {
            PublishedForm::OneFrame => {
                assert_eq!(frames.len(), 1);
                let frame = wire::encode_published(p.tag, p.body).expect("a split tag has no NUL");
                assert_eq!(frame, frames[0]);
            }
            PublishedForm::TwoFrames => {
                assert_eq!(frames.len(), 2);
                assert_eq!((p.tag, p.body), (frames[0], frames[1]));
            }
        },
        Err(WireError::NoFrames) => assert!(frames.is_empty()),
        Err(WireError::MissingTagSeparator) => {
            assert_eq!(frames.len(), 1);
            assert!(!frames[0].contains(&0));
        }
        Err(WireError::TooManyFrames { count }) => {
            assert_eq!(count, frames.len());
            assert!(count > 2);
        }
        Err(e) => panic!("split_published: unexpected {e:?}"),
    }
    if let Some(first) = frames.first() {
        match wire::check_tag(first) {
            Ok(()) => assert!(!first.contains(&0)),
            Err(WireError::NulInTag { offset }) => assert_eq!(first[offset], 0),
            Err(e) => panic!("check_tag: unexpected {e:?}"),
        }
    }

    match wire::parse_request(&frames) {
        Ok(r) => {
            // The routing envelope is empty for a plain REQ peer.
            assert!(!r.id.is_empty());
            let routing: Vec<Message> = r.routing.iter().map(|f| Message::from(*f)).collect();
            let parts = r.parts.iter().map(|f| Message::from(*f));
            let back = wire::encode_reply(routing, r.id, parts).expect("a parsed request encodes");
            assert_eq!(
                to_vecs(&back),
                frames,
                "request frames differ after a round trip"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    match wire::parse_reply(&frames) {
        Ok(r) => {
            let parts = r.parts.iter().map(|f| Message::from(*f));
            let back = wire::encode_request(r.id, parts).expect("a parsed reply encodes");
            assert_eq!(
                to_vecs(&back),
                frames,
                "reply frames differ after a round trip"
            );
        }
        Err(WireError::NoFrames) => assert!(frames.is_empty()),
        Err(WireError::TooFewFrames { count }) => assert_eq!((count, frames.len()), (1, 1)),
        Err(WireError::EmptyMessageId) => assert!(frames[0].is_empty()),
        Err(WireError::NonEmptyDelimiter) => assert!(!frames[1].is_empty()),
        Err(e) => panic!("parse_reply: unexpected {e:?}"),
    }

    match wire::split_sender(&frames) {
        Ok((sender, rest)) => assert_eq!((*sender, rest), (frames[0], &frames[1..])),
        Err(e) => assert_eq!((e, frames.len()), (WireError::NoFrames, 0)),
    }
});
