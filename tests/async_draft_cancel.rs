//! The async thread-safe DRAFT socket stays cancel-safe (feature `draft`):
//! a receive whose future is dropped never takes a message, also when
//! tokio's cooperative budget runs out in the poll that would complete it.
#![cfg(all(feature = "draft", feature = "tokio", unix))]

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::TIMEOUT;
use zmqx::draft::AsyncThreadSafeSocket;
use zmqx::{Context, Result, SocketType};

/// Polls `f` once with the task's waker, then drops it.
async fn poll_once_here<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

/// Receives polled once each, back to back, so that tokio's budget (128
/// operations per task turn) runs out now and then in the middle of the
/// run; a poll that gives `Pending` is dropped. Before the fix, the budget
/// was taken *after* the receive, and a future dropped there lost the
/// message it had just taken: one in every ~128.
#[tokio::test(flavor = "current_thread")]
async fn recv_dropped_when_the_budget_runs_out_loses_nothing() -> Result<()> {
    const N: u32 = 2_000;
    let ctx = Context::new();
    if !zmqx::has("draft") {
        eprintln!("skipping: libzmq has no DRAFT API");
        return Ok(());
    }
    let server = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Server)?)?;
    server.socket().bind("tcp://127.0.0.1:*")?;
    let client = AsyncThreadSafeSocket::new(ctx.thread_safe_socket(SocketType::Client)?)?;
    client.socket().connect(&server.socket().last_endpoint()?)?;
    for i in 0..N {
        tokio::time::timeout(TIMEOUT, client.send(i.to_le_bytes().to_vec()))
            .await
            .expect("send within the timeout")?;
    }

    let mut next = 0u32;
    let mut dropped = 0u32;
    let deadline = Instant::now() + TIMEOUT;
    while next < N {
        assert!(
            Instant::now() < deadline,
            "stalled at message {next} of {N} after {dropped} dropped receives: \
             a dropped receive took a message"
        );
        match poll_once_here(server.recv_msg()).await {
            Poll::Ready(m) => {
                assert_eq!(m?[..], next.to_le_bytes(), "a message was lost");
                next += 1;
            }
            Poll::Pending => {
                dropped += 1;
                // Renews the budget (and lets more messages arrive).
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(
        dropped > 0,
        "no receive was dropped: the test proves nothing"
    );
    let extra = tokio::time::timeout(Duration::from_millis(50), server.recv_msg()).await;
    assert!(extra.is_err(), "more messages than were sent");
    Ok(())
}
