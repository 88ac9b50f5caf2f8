//! bincode 2 messages (`send_bincode`/`recv_bincode`, `serialize::Bincode`):
//! the bytes are bincode 2's own serde encoding (standard configuration), on
//! blocking and async sockets, with typed errors that hand the part back.
#![cfg(feature = "bincode")]

mod common;

use common::push_pull;
use serde::{Deserialize, Serialize};
use zmqx::serialize::{Bincode, Serializer};
use zmqx::{Context, Error, Message, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u64,
    name: String,
    weights: Vec<f32>,
    done: Option<bool>,
}

fn job() -> Job {
    Job {
        id: 300,
        name: "résumé".into(),
        weights: vec![0.5, -1.25],
        done: Some(false),
    }
}

fn standard() -> bincode::config::Configuration {
    bincode::config::standard()
}

#[test]
fn the_bytes_are_bincode_2_standard_both_ways() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, "bincode-wire")?;
    // zmqx encodes what bincode encodes...
    push.send_bincode(&job())?;
    let raw = pull.recv_msg()?;
    let expected = bincode::serde::encode_to_vec(job(), standard()).expect("encodes");
    assert_eq!(&raw[..], &expected[..]);
    // ...and decodes what bincode encodes.
    push.send(expected)?;
    assert_eq!(pull.recv_bincode::<Job>()?, job());
    // The Serializer form gives the same single part.
    let frames = Bincode.serialize(&job()).expect("serializes");
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0][..], &raw[..]);
    Ok(())
}

#[test]
fn bad_bytes_and_trailing_bytes_hand_the_part_back() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, "bincode-bad")?;
    push.send(&[0xffu8, 0xff, 0xff][..])?;
    match pull.recv_bincode::<Job>() {
        Err(Error::Deserialize { format, frames, .. }) => {
            assert_eq!(format, "bincode");
            assert_eq!(&frames[0], &[0xffu8, 0xff, 0xff][..]);
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    let mut bytes = bincode::serde::encode_to_vec(7u32, standard()).expect("encodes");
    bytes.push(0);
    push.send(bytes.clone())?;
    match pull.recv_bincode::<u32>() {
        Err(Error::Deserialize { frames, source, .. }) => {
            assert_eq!(&frames[0], &bytes[..]);
            assert!(source.to_string().contains("unexpected bytes"), "{source}");
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    // Over the limit: not decoded, handed back.
    push.send_bincode(&job())?;
    match pull.recv_bincode_limited::<Job>(4) {
        Err(Error::TooLarge { limit, frames, .. }) => {
            assert_eq!(limit, 4);
            assert_eq!(frames.len(), 1);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    Ok(())
}

#[cfg(all(feature = "tokio", feature = "postcard", unix))]
#[tokio::test]
async fn async_sockets_have_bincode_postcard_and_their_errors() -> Result<()> {
    use std::time::Duration;
    use zmqx::AsyncSocket;
    let ctx = Context::new();
    let (push, pull) = push_pull(&ctx, "bincode-async")?;
    let push = AsyncSocket::new(push)?;
    let pull = AsyncSocket::new(pull)?;
    let t = Duration::from_secs(10);
    push.send_bincode(&job()).await?;
    let got: Job = tokio::time::timeout(t, pull.recv_bincode())
        .await
        .expect("in time")?;
    assert_eq!(got, job());
    push.send_postcard(&job()).await?;
    let got: Job = tokio::time::timeout(t, pull.recv_postcard())
        .await
        .expect("in time")?;
    assert_eq!(got, job());
    // The sync and async encodings are the same bytes.
    push.send_postcard(&job()).await?;
    let raw = tokio::time::timeout(t, pull.recv_msg())
        .await
        .expect("in time")?;
    assert_eq!(
        &raw[..],
        &postcard::to_allocvec(&job()).expect("encodes")[..]
    );
    push.send(Message::from(&b"\xff"[..])).await?;
    match tokio::time::timeout(t, pull.recv_postcard::<Job>())
        .await
        .expect("in time")
    {
        Err(Error::Deserialize { format, frames, .. }) => {
            assert_eq!(format, "postcard");
            assert_eq!(&frames[0], &b"\xff"[..]);
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    Ok(())
}
