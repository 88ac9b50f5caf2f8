//! Awaiting a [`MessageTracker`].
#![forbid(unsafe_code)]

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::tracker::{MessageTracker, WaitKey};

/// Completes when libzmq has released every message a [`MessageTracker`]
/// tracks (pyzmq's `await tracker` in `zmq.asyncio`). Made by
/// [`MessageTracker::wait_async`] or by awaiting the tracker itself.
///
/// It is woken from libzmq's free callback, without polling. Put a limit on
/// it with `tokio::time::timeout`.
///
/// Cancel-safe: dropping it takes its waker back from the tracker.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct TrackerWait {
    tracker: MessageTracker,
    /// Where its waker is registered, while it is.
    key: Option<WaitKey>,
}

impl Future for TrackerWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let me = self.get_mut();
        if me.tracker.poll_wait(&mut me.key, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for TrackerWait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.tracker.cancel_wait(key);
        }
    }
}

impl MessageTracker {
    /// A future that completes when libzmq has released every tracked
    /// message (the async form of [`wait`](MessageTracker::wait)).
    pub fn wait_async(&self) -> TrackerWait {
        TrackerWait {
            tracker: self.clone(),
            key: None,
        }
    }
}

impl IntoFuture for MessageTracker {
    type Output = ();
    type IntoFuture = TrackerWait;

    /// `tracker.await` waits until libzmq has released the tracked messages.
    fn into_future(self) -> TrackerWait {
        TrackerWait {
            tracker: self,
            key: None,
        }
    }
}
