//! Awaiting a [`MessageTracker`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::tracker::MessageTracker;

/// Completes when libzmq has released every message a [`MessageTracker`]
/// tracks (pyzmq's `await tracker` in `zmq.asyncio`). Made by
/// [`MessageTracker::wait_async`] or by awaiting the tracker itself.
///
/// It is woken from libzmq's free callback, without polling. Put a limit on
/// it with `tokio::time::timeout`.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct TrackerWait {
    tracker: MessageTracker,
}

impl Future for TrackerWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.tracker.register_waker(cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl MessageTracker {
    /// A future that completes when libzmq has released every tracked
    /// message (the async form of [`wait`](MessageTracker::wait)).
    pub fn wait_async(&self) -> TrackerWait {
        TrackerWait {
            tracker: self.clone(),
        }
    }
}

impl IntoFuture for MessageTracker {
    type Output = ();
    type IntoFuture = TrackerWait;

    /// `tracker.await` waits until libzmq has released the tracked messages.
    fn into_future(self) -> TrackerWait {
        TrackerWait { tracker: self }
    }
}
