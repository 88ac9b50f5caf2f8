//! PUB/SUB with txZMQ's tag framing: [`PubConnection`], [`SubConnection`],
//! [`Published`].
#![forbid(unsafe_code)]

use super::connection::{
    ConnectionOptions, Core, Endpoint, Inbox, Receiving, connection_methods, impl_inbox_stream,
    inbox_methods,
};
use super::error::{Error, Result};
use super::factory::Factory;
use super::wire::{self, PublishedForm, WireError};
use crate::{Frames, Message, SocketType};

/// A published message as a subscriber receives it: tag and body, without
/// copying them out of the received frame(s).
pub struct Published {
    repr: Repr,
}

enum Repr {
    /// `tag \0 body`; the tag is the first `tag_len` bytes.
    One { frame: Message, tag_len: usize },
    /// [tag, body].
    Two { tag: Message, body: Message },
}

impl Published {
    /// Splits received frames as txZMQ's subscriber does
    /// ([`wire::split_published`]); a malformed message is an
    /// [`Error::Framing`] that hands the frames back.
    pub fn from_frames(mut frames: Vec<Message>) -> Result<Published> {
        let split = wire::split_published(&frames).map(|p| (p.form, p.tag.len()));
        match split {
            Ok((PublishedForm::OneFrame, tag_len)) => Ok(Published {
                repr: Repr::One {
                    frame: frames.remove(0),
                    tag_len,
                },
            }),
            Ok((PublishedForm::TwoFrames, _)) => {
                let body = frames.remove(1);
                let tag = frames.remove(0);
                Ok(Published {
                    repr: Repr::Two { tag, body },
                })
            }
            Err(reason) => Err(Error::Framing {
                reason,
                frames: Frames::new(frames),
            }),
        }
    }

    /// The tag (txZMQ's `gotMessage(message, tag)`'s `tag`).
    pub fn tag(&self) -> &[u8] {
        match &self.repr {
            Repr::One { frame, tag_len } => &frame[..*tag_len],
            Repr::Two { tag, .. } => tag,
        }
    }

    /// The message body (txZMQ's `message`).
    pub fn body(&self) -> &[u8] {
        match &self.repr {
            Repr::One { frame, tag_len } => &frame[*tag_len + 1..],
            Repr::Two { body, .. } => body,
        }
    }

    /// Which framing it arrived in.
    pub fn form(&self) -> PublishedForm {
        match self.repr {
            Repr::One { .. } => PublishedForm::OneFrame,
            Repr::Two { .. } => PublishedForm::TwoFrames,
        }
    }

    /// The frames as received.
    pub fn into_frames(self) -> Vec<Message> {
        match self.repr {
            Repr::One { frame, .. } => vec![frame],
            Repr::Two { tag, body } => vec![tag, body],
        }
    }
}

impl std::fmt::Debug for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Published")
            .field("tag", &String::from_utf8_lossy(self.tag()))
            .field("body", &String::from_utf8_lossy(self.body()))
            .field("form", &self.form())
            .finish()
    }
}

/// txZMQ's `ZmqPubConnection`: publishes tagged messages on a PUB socket.
///
/// Each message goes out as one frame `tag \0 body`, txZMQ's framing: with
/// multicast (PGM), frames of several publishers' multipart messages could
/// interleave, single frames cannot.
#[derive(Debug)]
pub struct PubConnection {
    core: Core,
}

impl PubConnection {
    /// A PUB connection on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<PubConnection> {
        PubConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A PUB connection on any number of endpoints (more can be added with
    /// [`add_endpoints`](Self::add_endpoints)).
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<PubConnection> {
        let (core, _) = Core::open::<()>(factory, SocketType::Pub, endpoints, options, None)?;
        Ok(PubConnection { core })
    }

    /// Publishes `message` under `tag` (txZMQ's `publish(message, tag)`):
    /// one frame `tag \0 message`. Subscribers match `tag` by prefix, so
    /// `b""` reaches every subscriber that subscribed to `b""`.
    ///
    /// A tag containing a NUL byte is an [`Error::Unsendable`] (the
    /// subscriber would cut the tag at it). PUB never blocks: at the
    /// high-water mark libzmq drops the message, as with txZMQ.
    pub fn publish(&self, message: impl AsRef<[u8]>, tag: impl AsRef<[u8]>) -> Result<()> {
        let frame =
            wire::encode_published(tag.as_ref(), message.as_ref()).map_err(Error::Unsendable)?;
        self.core.try_send(&mut [Message::from(frame)])
    }

    /// Sends a raw multipart message (txZMQ's `send([tag, message])` on a
    /// publisher): the frames as given, without the `tag \0` framing of
    /// [`publish`](Self::publish). A txZMQ subscriber reads two frames as
    /// [tag, body]; libzmq's subscription filter looks at the first frame.
    ///
    /// No parts is an [`Error::Unsendable`]. PUB never blocks: at the
    /// high-water mark libzmq drops the message.
    ///
    /// ```
    /// # use zmqx::txzmq::{Endpoint, Factory, PubConnection};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> zmqx::txzmq::Result<()> {
    /// # let factory = Factory::new()?;
    /// let publisher = PubConnection::new(&factory, Endpoint::bind("inproc://raw-pub"))?;
    /// publisher.send_multipart(["weather", "sunny"])?;
    /// # factory.shutdown().await
    /// # }
    /// ```
    pub fn send_multipart<I>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let mut parts: Vec<Message> = parts.into_iter().map(Into::into).collect();
        if parts.is_empty() {
            return Err(Error::Unsendable(WireError::NoFrames));
        }
        self.core.try_send(&mut parts)
    }

    connection_methods!();
}

/// txZMQ's `ZmqSubConnection`: receives tagged messages on a SUB socket,
/// as a [`Stream`](futures_core::Stream) of [`Published`] or through a
/// callback ([`on_message`](Self::on_message), txZMQ's `gotMessage`).
///
/// Both framings txZMQ accepts arrive: one frame `tag \0 body` and two
/// frames [tag, body]. Anything else is an [`Error::Framing`] item
/// holding the frames; the stream goes on.
#[derive(Debug)]
pub struct SubConnection {
    core: Core,
    inbox: Inbox<Published>,
}

impl SubConnection {
    /// A SUB connection on one endpoint, with txZMQ's default options. It
    /// receives nothing until it [`subscribe`](Self::subscribe)s.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<SubConnection> {
        SubConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A SUB connection on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<SubConnection> {
        let receiving = Receiving {
            handler: Box::new(|frames: crate::Result<Vec<Message>>| {
                Some(frames.map_err(Error::from).and_then(Published::from_frames))
            }),
            on_exit: None,
        };
        let (core, inbox) = Core::open(
            factory,
            SocketType::Sub,
            endpoints,
            options,
            Some(receiving),
        )?;
        let inbox = inbox.ok_or(crate::Error::NotSocket)?;
        Ok(SubConnection { core, inbox })
    }

    /// Receives messages whose tag starts with `tag` (txZMQ's `subscribe`;
    /// `ZMQ_SUBSCRIBE`). May be called several times; `b""` is everything.
    ///
    /// The subscription travels to the publishers (libzmq ≥ 3 filters on
    /// the publishing side), so messages published right after may still
    /// be missed.
    pub fn subscribe(&self, tag: impl AsRef<[u8]>) -> Result<()> {
        self.core.with_socket(|s| s.subscribe(tag.as_ref()))
    }

    /// Stops receiving messages under `tag` (txZMQ's `unsubscribe`;
    /// `ZMQ_UNSUBSCRIBE`).
    pub fn unsubscribe(&self, tag: impl AsRef<[u8]>) -> Result<()> {
        self.core.with_socket(|s| s.unsubscribe(tag.as_ref()))
    }

    inbox_methods!(Published, on_message, "received message", |_| None);
    connection_methods!();
}

impl_inbox_stream!(SubConnection, Published);
