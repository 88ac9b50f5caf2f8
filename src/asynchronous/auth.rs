//! [`AsyncAuthenticator`]: the ZAP handler as a tokio task (pyzmq's
//! `zmq.auth.asyncio.AsyncioAuthenticator`).
#![forbid(unsafe_code)]

use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard, Weak};

use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use super::socket::AsyncSocket;
use crate::auth::{Answer, Authenticator, ZAP_ENDPOINT, reply_frames, routed};
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
/// [`stop`](Self::stop), on drop, or when the context terminates; the
/// authenticator holds no socket itself, so it never keeps
/// [`Context::term`] waiting.
///
/// Requests are answered in the order they arrive, except those that wait
/// for an [`AsyncCredentialsProvider`](crate::auth::AsyncCredentialsProvider):
/// each of those lookups runs as a task of its own, and its reply is sent
/// when it is known, so a slow lookup holds up no other handshake (replies
/// carry their request id and envelope: libzmq matches them whatever their
/// order). At most [`MAX_PENDING_LOOKUPS`](Self::MAX_PENDING_LOOKUPS)
/// lookups run at once.
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
    /// The ZAP socket, owned by the task; held weakly (so the authenticator
    /// never keeps `Context::term` waiting) to unbind it on stop and drop.
    zap: Weak<AsyncSocket>,
    task: Option<JoinHandle<Result<()>>>,
}

impl AsyncAuthenticator {
    /// How many CURVE lookups of an
    /// [`AsyncCredentialsProvider`](crate::auth::AsyncCredentialsProvider)
    /// the authenticator awaits at once. Past it, new ZAP requests wait in
    /// the ZAP socket's queue until a lookup ends (libzmq gives up on a
    /// handshake after `ZMQ_HANDSHAKE_IVL`, 30 s by default): a provider
    /// should bound the time of its lookups.
    pub const MAX_PENDING_LOOKUPS: usize = 1024;

    /// Binds a ROUTER at [`ZAP_ENDPOINT`] in `ctx` and starts answering
    /// with `policy` on the current tokio runtime. Fails with
    /// [`Error::AddressInUse`] when another handler is bound in `ctx`.
    pub fn start(ctx: &Context, policy: Authenticator) -> Result<AsyncAuthenticator> {
        let zap = ctx.socket(SocketType::Router)?;
        zap.set_linger(Some(std::time::Duration::ZERO))?;
        // Registered with the reactor before binding: nothing fails after
        // the bind, so a failed start leaves the endpoint free.
        let zap = Arc::new(AsyncSocket::new(zap)?);
        zap.bind(ZAP_ENDPOINT)?;
        let policy = Arc::new(RwLock::new(policy));
        let stop = Arc::new(Notify::new());
        let weak = Arc::downgrade(&zap);
        let task = tokio::spawn(serve(Zap(zap), policy.clone(), stop.clone()));
        Ok(AsyncAuthenticator {
            policy,
            stop,
            zap: weak,
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

    /// Stops the task and waits for it. The ZAP endpoint is unbound first,
    /// so another handler can start in the context as soon as this returns
    /// (pyzmq's `stop`). Lookups still running are cancelled. Reports how
    /// the task ended.
    pub async fn stop(mut self) -> Result<()> {
        self.unbind();
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

    /// Unbinds the ZAP endpoint now, if the socket still exists. Unbinding
    /// an inproc endpoint takes effect at once, while closing the socket
    /// frees it only when libzmq's reaper gets to it.
    fn unbind(&self) {
        if let Some(zap) = self.zap.upgrade() {
            zap.with_socket(|s| {
                let _ = s.unbind(ZAP_ENDPOINT);
            });
        }
    }
}

impl Drop for AsyncAuthenticator {
    /// Unbinds the ZAP endpoint at once and cancels the task, without
    /// waiting for it.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            self.unbind();
            task.abort();
        }
    }
}

/// The task's ZAP socket: unbound when the task ends or is cancelled, so
/// the endpoint is free even before libzmq closes the socket.
struct Zap(Arc<AsyncSocket>);

impl Drop for Zap {
    fn drop(&mut self) {
        self.0.with_socket(|s| {
            let _ = s.unbind(ZAP_ENDPOINT);
        });
    }
}

/// The task: answers each request at once, or spawns its lookup and sends
/// the reply when the lookup ends.
async fn serve(zap: Zap, policy: Arc<RwLock<Authenticator>>, stop: Arc<Notify>) -> Result<()> {
    // Dropped (lookups cancelled) when the task ends or is cancelled.
    let mut lookups: JoinSet<Option<Vec<Vec<u8>>>> = JoinSet::new();
    loop {
        let reply = tokio::select! {
            // Every branch is cancel-safe: an unfinished receive loses
            // nothing, the stop permit is kept until taken, and a finished
            // lookup stays in the set until joined.
            _ = stop.notified() => return Ok(()),
            Some(done) = lookups.join_next(), if !lookups.is_empty() => {
                // A lookup catches its own panics; an error here is a
                // cancelled task, with nothing to answer.
                done.ok().flatten()
            }
            r = zap.0.recv_multipart(), if lookups.len() < AsyncAuthenticator::MAX_PENDING_LOOKUPS => {
                let frames = match r {
                    Ok(frames) => frames,
                    Err(Error::ContextTerminated) => return Ok(()),
                    Err(e) => return Err(e),
                };
                let answer = policy
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .answer_routed(&frames);
                // Nothing to answer for a message too malformed to carry a
                // request id.
                match answer {
                    None => None,
                    Some((envelope, Answer::Now(reply))) => {
                        reply_frames(reply).map(|r| routed(&envelope, r))
                    }
                    Some((envelope, Answer::Later(pending))) => {
                        lookups.spawn(async move {
                            reply_frames(pending.await).map(|r| routed(&envelope, r))
                        });
                        None
                    }
                }
            }
        };
        if let Some(reply) = reply {
            match zap.0.send_multipart(reply).await {
                Ok(()) | Err(Error::HostUnreachable) => {}
                Err(Error::ContextTerminated) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}
