//! PUSH/PULL: [`PushConnection`], [`PullConnection`].
#![forbid(unsafe_code)]

use super::connection::{
    ConnectionOptions, Core, Endpoint, Inbox, Receiving, connection_methods, impl_inbox_stream,
    inbox_methods,
};
use super::error::{Error, Result};
use super::factory::Factory;
use super::wire::WireError;
use crate::{Message, SocketType};

/// txZMQ's `ZmqPushConnection`: pushes messages on a PUSH socket.
#[derive(Debug)]
pub struct PushConnection {
    core: Core,
}

impl PushConnection {
    /// A PUSH connection on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<PushConnection> {
        PushConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A PUSH connection on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<PushConnection> {
        let (core, _) = Core::open::<()>(factory, SocketType::Push, endpoints, options, None)?;
        Ok(PushConnection { core })
    }

    /// Pushes one single-part message now (txZMQ's `push`), or fails with
    /// [`zmqx::Error::Again`](crate::Error::Again) when no peer can take it
    /// (high-water mark, no peer), as txZMQ does.
    pub fn push(&self, message: impl Into<Message>) -> Result<()> {
        self.core.try_send(&mut [message.into()])
    }

    /// Pushes a multipart message now (txZMQ's `send` with a list), or
    /// [`zmqx::Error::Again`](crate::Error::Again). No parts is an
    /// [`Error::Unsendable`].
    pub fn push_multipart<I>(&self, parts: I) -> Result<()>
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

    /// Pushes a multipart message, waiting while no peer can take it
    /// (no txZMQ counterpart: txZMQ fails with `EAGAIN`). Cancel-safe: a
    /// dropped future sends all parts or none.
    pub async fn push_async<I>(&self, parts: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let parts: Vec<Message> = parts.into_iter().map(Into::into).collect();
        if parts.is_empty() {
            return Err(Error::Unsendable(WireError::NoFrames));
        }
        self.core.send(parts).await
    }

    connection_methods!();
}

/// txZMQ's `ZmqPullConnection`: pulled messages (all their parts) as a
/// [`Stream`](futures_core::Stream), or through a callback
/// ([`on_pull`](Self::on_pull), txZMQ's `onPull`).
#[derive(Debug)]
pub struct PullConnection {
    core: Core,
    inbox: Inbox<Vec<Message>>,
}

impl PullConnection {
    /// A PULL connection on one endpoint, with txZMQ's default options.
    pub fn new(factory: &Factory, endpoint: Endpoint) -> Result<PullConnection> {
        PullConnection::with_options(factory, [endpoint], &ConnectionOptions::default())
    }

    /// A PULL connection on any number of endpoints.
    pub fn with_options(
        factory: &Factory,
        endpoints: impl IntoIterator<Item = Endpoint>,
        options: &ConnectionOptions,
    ) -> Result<PullConnection> {
        let receiving = Receiving {
            handler: Box::new(|frames: crate::Result<Vec<Message>>| {
                Some(frames.map_err(Error::from))
            }),
            on_exit: None,
        };
        let (core, inbox) = Core::open(
            factory,
            SocketType::Pull,
            endpoints,
            options,
            Some(receiving),
        )?;
        let inbox = inbox.ok_or(crate::Error::NotSocket)?;
        Ok(PullConnection { core, inbox })
    }

    inbox_methods!(Vec<Message>, on_pull, "pulled message", |_| None);
    connection_methods!();
}

impl_inbox_stream!(PullConnection, Vec<Message>);
