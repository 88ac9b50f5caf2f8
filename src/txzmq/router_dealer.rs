//! Raw ROUTER and DEALER connections: [`RouterConnection`],
//! [`DealerConnection`].
#![forbid(unsafe_code)]

use super::connection::{
    ConnectionOptions, Core, Endpoint, Inbox, Receiving, connection_methods, impl_inbox_stream,
    inbox_methods,
};
use super::error::{Error, Result};
use super::factory::Factory;
use super::wire::{self, WireError};
use crate::{Frames, Message, SocketType};

/// A message as a [`RouterConnection`] receives it.
#[derive(Debug)]
pub struct RouterMessage {
    /// The sender's routing id (txZMQ's `senderId`).
    pub sender: Message,
    /// The message parts after it.
    pub parts: Vec<Message>,
}

fn collect(parts: impl IntoIterator<Item: Into<Message>>) -> Result<Vec<Message>> {
    let parts: Vec<Message> = parts.into_iter().map(Into::into).collect();
    if parts.is_empty() {
        return Err(Error::Unsendable(WireError::NoFrames));
    }
    Ok(parts)
}

/// txZMQ's `ZmqRouterConnection`: a raw ROUTER socket. Messages arrive with
/// their sender's routing id ([`RouterMessage`]) as a
/// [`Stream`](futures_core::Stream) or through a callback
/// ([`on_message`](Self::on_message)); sends name the recipient.
#[derive(Debug)]
pub struct RouterConnection {
    core: Core,
    inbox: Inbox<RouterMessage>,
}

impl RouterConnection {
    /// A ROUTER connection on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<RouterConnection> {
        RouterConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A ROUTER connection on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<RouterConnection> {
        let receiving = Receiving {
            handler: Box::new(|frames: crate::Result<Vec<Message>>| {
                Some(frames.map_err(Error::from).and_then(|mut frames| {
                    match wire::split_sender(&frames) {
                        Ok(_) => {
                            let sender = frames.remove(0);
                            Ok(RouterMessage {
                                sender,
                                parts: frames,
                            })
                        }
                        Err(reason) => Err(Error::Framing {
                            reason,
                            frames: Frames::new(frames),
                        }),
                    }
                }))
            }),
            on_exit: None,
        };
        let (core, inbox) = Core::open(
            factory,
            SocketType::Router,
            endpoints,
            options,
            Some(receiving),
        )?;
        let inbox = inbox.ok_or(crate::Error::NotSocket)?;
        Ok(RouterConnection { core, inbox })
    }

    /// Sends one part to `recipient` (txZMQ's `sendMsg(recipientId,
    /// message)`), now or [`zmqx::Error::Again`](crate::Error::Again). A recipient that is not
    /// connected is dropped silently by libzmq, as with txZMQ.
    pub fn send_msg(
        &self,
        recipient: impl Into<Message>,
        message: impl Into<Message>,
    ) -> Result<()> {
        self.core.try_send(&mut [recipient.into(), message.into()])
    }

    /// Sends parts to `recipient` (txZMQ's `sendMultipart(recipientId,
    /// parts)`), now or [`zmqx::Error::Again`](crate::Error::Again).
    pub fn send_multipart<I>(&self, recipient: impl Into<Message>, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let mut frames = vec![recipient.into()];
        frames.extend(collect(parts)?);
        self.core.try_send(&mut frames)
    }

    /// Sends parts to `recipient`, waiting while the socket cannot take
    /// them (no txZMQ counterpart). Cancel-safe: all parts or none.
    pub async fn send_async<I>(&self, recipient: impl Into<Message>, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let mut frames = vec![recipient.into()];
        frames.extend(collect(parts)?);
        self.core.send(frames).await
    }

    inbox_methods!(RouterMessage, on_message, "received message", |_| None);
    connection_methods!();
}

impl_inbox_stream!(RouterConnection, RouterMessage);

/// txZMQ's `ZmqDealerConnection`: a raw DEALER socket. Messages (all their
/// parts) arrive as a [`Stream`](futures_core::Stream) or through a
/// callback ([`on_message`](Self::on_message)).
#[derive(Debug)]
pub struct DealerConnection {
    core: Core,
    inbox: Inbox<Vec<Message>>,
}

impl DealerConnection {
    /// A DEALER connection on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<DealerConnection> {
        DealerConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A DEALER connection on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<DealerConnection> {
        let receiving = Receiving {
            handler: Box::new(|frames: crate::Result<Vec<Message>>| {
                Some(frames.map_err(Error::from))
            }),
            on_exit: None,
        };
        let (core, inbox) = Core::open(
            factory,
            SocketType::Dealer,
            endpoints,
            options,
            Some(receiving),
        )?;
        let inbox = inbox.ok_or(crate::Error::NotSocket)?;
        Ok(DealerConnection { core, inbox })
    }

    /// Sends one part (txZMQ's `sendMsg(message)`), now or [`zmqx::Error::Again`](crate::Error::Again).
    pub fn send_msg(&self, message: impl Into<Message>) -> Result<()> {
        self.core.try_send(&mut [message.into()])
    }

    /// Sends a multipart message (txZMQ's `sendMultipart(parts)`), now or
    /// [`zmqx::Error::Again`](crate::Error::Again).
    pub fn send_multipart<I>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.core.try_send(&mut collect(parts)?)
    }

    /// Sends a multipart message, waiting while no peer can take it (no
    /// txZMQ counterpart). Cancel-safe: all parts or none.
    pub async fn send_async<I>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.core.send(collect(parts)?).await
    }

    inbox_methods!(Vec<Message>, on_message, "received message", |_| None);
    connection_methods!();
}

impl_inbox_stream!(DealerConnection, Vec<Message>);
