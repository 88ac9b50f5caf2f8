//! The zguide's reliability patterns and discovery as tested components.
//!
//! Each pattern comes as a blocking type and, with the `tokio` feature, an
//! async one, and each is tested against an implementation this project did
//! not write where one exists.
//!
//! There is no counterpart in pyzmq or libzmq: these follow the zguide
//! (chapter 4, "Reliable Request-Reply Patterns") and the ZeroMQ RFCs.

#![forbid(unsafe_code)]

// Components (one module each), and below them what their background
// threads share.
#[cfg(feature = "beacon")]
#[cfg_attr(docsrs, doc(cfg(feature = "beacon")))]
pub mod beacon;
pub mod binary_star;
pub mod lazy_pirate;
pub mod mdp;
pub mod paranoid_pirate;

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The owner's side of a background loop's thread: the one report the
/// thread sends (what ended the loop) and its handle.
#[derive(Debug)]
pub(crate) struct Report<E> {
    done: Receiver<Result<(), E>>,
    thread: Option<JoinHandle<()>>,
    finished: bool,
}

impl<E> Report<E> {
    pub(crate) fn new(done: Receiver<Result<(), E>>, thread: JoinHandle<()>) -> Report<E> {
        Report {
            done,
            thread: Some(thread),
            finished: false,
        }
    }

    /// Waits at most `timeout` for the report: `Ok(true)` when the loop
    /// ended well (or ended before), `Ok(false)` when not yet, the loop's
    /// error otherwise; `gone()` when the thread ended without a report.
    pub(crate) fn wait(&mut self, timeout: Duration, gone: impl FnOnce() -> E) -> Result<bool, E> {
        if self.finished {
            return Ok(true);
        }
        match self.done.recv_timeout(timeout) {
            Ok(result) => {
                self.finished = true;
                if let Some(thread) = self.thread.take() {
                    // It has sent its report: it is about to return.
                    let _ = thread.join();
                }
                result.map(|()| true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => {
                self.finished = true;
                Err(gone())
            }
        }
    }

    /// Whether the thread has ended (or its report was read).
    pub(crate) fn is_finished(&self) -> bool {
        self.finished || self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}
