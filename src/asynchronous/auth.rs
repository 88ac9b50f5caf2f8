//! [`AsyncAuthenticator`]: the ZAP handler as a tokio task (pyzmq's
//! `zmq.auth.asyncio.AsyncioAuthenticator`).

use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::socket::AsyncSocket;
use crate::auth::{Authenticator, ZAP_ENDPOINT};
use crate::constants::SocketType;
use crate::context::Context;
use crate::error::{Error, Result};

/// Answers the ZAP requests of one [`Context`] from a tokio task, with an
/// [`Authenticator`] policy (pyzmq's `AsyncioAuthenticator`; the
/// blocking-thread form is [`ThreadAuthenticator`](crate::auth::ThreadAuthenticator)).
///
/// [`start`](Self::start) binds the ZAP endpoint before it returns, so
/// sockets created afterwards are authenticated at once. The policy can be
/// changed while it runs ([`policy`](Self::policy)). The task stops on
/// [`stop`](Self::stop), on drop, or when the context terminates.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> zmqx::Result<()> {
/// use zmqx::asynchronous::AsyncAuthenticator;
/// use zmqx::auth::Authenticator;
/// use zmqx::{AsyncSocket, Context, SocketType};
/// let ctx = Context::new();
/// let mut policy = Authenticator::new();
/// policy.configure_plain("*", [("admin", "secret")]);
/// let auth = AsyncAuthenticator::start(&ctx, policy)?;
///
/// let server = AsyncSocket::new(ctx.socket(SocketType::Rep)?)?;
/// server.with_socket(|s| s.set_plain_server(true))?;
/// server.bind("tcp://127.0.0.1:*")?;
/// let client = AsyncSocket::new(ctx.socket(SocketType::Req)?)?;
/// client.with_socket(|s| {
///     s.set_plain_username("admin")?;
///     s.set_plain_password("secret")
/// })?;
/// client.connect(&server.last_endpoint()?)?;
/// client.send("let me in").await?;
/// assert_eq!(server.recv_string().await?, "let me in");
/// auth.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AsyncAuthenticator {
    policy: Arc<RwLock<Authenticator>>,
    stop: Arc<Notify>,
    task: Option<JoinHandle<Result<()>>>,
}

impl AsyncAuthenticator {
    /// Binds a ROUTER at [`ZAP_ENDPOINT`] in `ctx` and starts answering
    /// with `policy` on the current tokio runtime. Fails with
    /// [`Error::AddressInUse`] when another handler is bound in `ctx`.
    pub fn start(ctx: &Context, policy: Authenticator) -> Result<AsyncAuthenticator> {
        let zap = ctx.socket(SocketType::Router)?;
        zap.set_linger(Some(std::time::Duration::ZERO))?;
        zap.bind(ZAP_ENDPOINT)?;
        let zap = AsyncSocket::new(zap)?;
        let policy = Arc::new(RwLock::new(policy));
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(serve(zap, policy.clone(), stop.clone()));
        Ok(AsyncAuthenticator {
            policy,
            stop,
            task: Some(task),
        })
    }

    /// The policy, to change while running (pyzmq's `allow`, `deny`,
    /// `configure_*` on the authenticator). Hold the guard briefly: requests
    /// wait for it.
    pub fn policy(&self) -> RwLockWriteGuard<'_, Authenticator> {
        self.policy.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the task is still running.
    pub fn is_alive(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the task and waits for it; the ZAP endpoint is unbound (its
    /// socket closed) when this returns. Reports how the task ended.
    pub async fn stop(mut self) -> Result<()> {
        self.stop.notify_one();
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| {
                Err(Error::CallbackPanicked {
                    callback: "ZAP handler",
                    message: e.to_string(),
                })
            }),
            None => Ok(()),
        }
    }
}

impl Drop for AsyncAuthenticator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The task: one ZAP request at a time, each answered at once.
async fn serve(
    zap: AsyncSocket,
    policy: Arc<RwLock<Authenticator>>,
    stop: Arc<Notify>,
) -> Result<()> {
    loop {
        let frames = tokio::select! {
            // Both branches are cancel-safe: an unfinished receive loses
            // nothing, and the stop permit is kept until taken.
            _ = stop.notified() => return Ok(()),
            r = zap.recv_multipart() => match r {
                Ok(frames) => frames,
                Err(Error::ContextTerminated) => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        let reply = {
            let policy = policy.read().unwrap_or_else(PoisonError::into_inner);
            policy.handle_routed(&frames)
        };
        // Nothing to answer for a message too malformed to carry a request id.
        if let Some(reply) = reply {
            match zap.send_multipart(reply).await {
                Ok(()) | Err(Error::HostUnreachable) => {}
                Err(Error::ContextTerminated) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}
