//! [`AsyncMonitor`]: socket monitor events as a `Stream` (pyzmq's
//! `await monitor_socket.recv_multipart()` + `parse_monitor_message`).

#![forbid(unsafe_code)]

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::engine::Slot;
use super::socket::AsyncSocket;
use crate::constants::{Event, PollEvents};
use crate::error::{Error, Result};
use crate::monitor::{EventFormat, Monitor, V1};

/// The events of a [`Monitor`] as a [`Stream`] (of
/// [`MonitorEvent`](crate::monitor::MonitorEvent)s for a plain `Monitor`,
/// of `MonitorEventV2`s for a `draft::MonitorV2`), ending after
/// `MONITOR_STOPPED` (or a terminated context).
///
/// A malformed event message is an [`Error::MonitorEvent`] item that hands
/// the frames back; the stream goes on. Dropping it at any time is safe: the
/// [`Monitor`]'s own drop logic (which never leaves libzmq blocked on an
/// unread event) takes over.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::Result<()> {
/// use futures_util::StreamExt;
/// use zmqx::asynchronous::AsyncMonitor;
/// use zmqx::monitor::EventKind;
/// use zmqx::{Context, Event, SocketType};
/// let ctx = Context::new();
/// let server = ctx.socket(SocketType::Rep)?;
/// let mut events = AsyncMonitor::new(server.monitor_events(Event::ALL)?)?;
/// server.bind("tcp://127.0.0.1:*")?;
/// let first = events.next().await.expect("an event")?;
/// assert_eq!(first.kind, EventKind::Listening);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncMonitor<F: EventFormat = V1> {
    /// The monitor whose socket is lent to `socket`; `None` only after
    /// `into_monitor`.
    monitor: Option<Monitor<F>>,
    pub(super) socket: Option<AsyncSocket>,
    slot: Slot,
    stopped: bool,
}

impl<F: EventFormat> AsyncMonitor<F> {
    /// Drives a [`Monitor`] (from [`Socket::monitor_events`](crate::Socket::monitor_events))
    /// with the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::Reactor`] outside a tokio runtime (the `Monitor` is then
    /// dropped with its socket, which never blocks libzmq).
    pub fn new(mut monitor: Monitor<F>) -> Result<AsyncMonitor<F>> {
        // Checked before the socket leaves the monitor: a PAIR socket closed
        // while libzmq still sends to it would block libzmq's next event.
        if let Err(e) = tokio::runtime::Handle::try_current() {
            return Err(Error::Reactor(std::io::Error::other(e)));
        }
        let stopped = monitor.is_stopped();
        let Some(socket) = monitor.take_socket() else {
            return Err(Error::NotSocket);
        };
        match AsyncSocket::new(socket) {
            Ok(socket) => Ok(AsyncMonitor {
                monitor: Some(monitor),
                socket: Some(socket),
                slot: Slot::default(),
                stopped,
            }),
            Err(e) => Err(e),
        }
    }

    /// The next event; `None` once the stream has ended.
    ///
    /// Cancel-safe: an event is taken only in the poll that returns it, and
    /// dropping the future unregisters it from the monitor socket.
    pub async fn next_event(&mut self) -> Option<Result<F::Event>> {
        /// Unregisters the wait however the future ends.
        struct Waiting<'m, F: EventFormat>(&'m mut AsyncMonitor<F>);
        impl<F: EventFormat> Drop for Waiting<'_, F> {
            fn drop(&mut self) {
                self.0.slot.release();
            }
        }
        let waiting = Waiting(self);
        std::future::poll_fn(|cx| waiting.0.poll_event(cx)).await
    }

    /// Whether `MONITOR_STOPPED` was received: no event will follow.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Gives the blocking [`Monitor`] back.
    pub fn into_monitor(mut self) -> Monitor<F> {
        self.restore();
        self.monitor
            .take()
            .expect("the monitor is present until into_monitor")
    }

    /// Puts the socket back into the monitor (anything queued stays there).
    fn restore(&mut self) {
        if let (Some(socket), Some(monitor)) = (self.socket.take(), self.monitor.as_mut()) {
            self.slot.release();
            monitor.restore_socket(socket.into_socket(), self.stopped);
        }
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<F::Event>>> {
        if self.stopped {
            return Poll::Ready(None);
        }
        let Some(socket) = &self.socket else {
            return Poll::Ready(None);
        };
        let frames = std::task::ready!(socket.inner().poll_op(
            cx,
            &mut self.slot,
            PollEvents::POLLIN,
            |s| s.try_recv_multipart(),
        ));
        let event = frames.and_then(F::parse);
        match &event {
            Ok(e) if F::is_stopped(e) => self.stopped = true,
            Err(Error::ContextTerminated) => self.stopped = true,
            _ => {}
        }
        Poll::Ready(Some(event))
    }
}

impl<F: EventFormat> Drop for AsyncMonitor<F> {
    fn drop(&mut self) {
        self.restore();
    }
}

impl<F: EventFormat> Stream for AsyncMonitor<F> {
    type Item = Result<F::Event>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl AsyncSocket {
    /// Starts monitoring this socket and returns its events as a stream
    /// (pyzmq's `get_monitor_socket` on an async socket).
    pub fn monitor_events(&self, events: Event) -> Result<AsyncMonitor> {
        AsyncMonitor::new(self.with_socket(|s| s.monitor_events(events))?)
    }
}
