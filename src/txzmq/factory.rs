//! [`Factory`]: txZMQ's `ZmqFactory`, the owner of a context and of every
//! connection made with it.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::connection::CoreShared;
use crate::constants::ContextOption;
use crate::{Context, Error, Result};

/// What the public calls return.
type TxResult<T> = super::error::Result<T>;

/// txZMQ's default linger period: 100 ms.
pub const DEFAULT_LINGER_PERIOD: Duration = Duration::from_millis(100);

/// How long [`Factory::shutdown`] waits for connection tasks (and, beyond
/// the linger period, for the context to terminate).
const JOIN_TIMEOUT: Duration = Duration::from_secs(1);

/// What the factory knows of its connections.
#[derive(Default)]
struct Registry {
    closed: bool,
    next_id: u64,
    connections: HashMap<u64, Arc<CoreShared>>,
}

/// The state shared by a [`Factory`], its connections (weakly) and its
/// shutdown task.
pub(crate) struct FactoryShared {
    context: Context,
    linger: Duration,
    registry: Mutex<Registry>,
    /// Flips to `true` once the factory starts shutting down.
    closed: watch::Sender<bool>,
}

impl FactoryShared {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn context(&self) -> &Context {
        &self.context
    }

    pub(crate) fn linger(&self) -> Duration {
        self.linger
    }

    /// Fails with [`Error::ContextTerminated`] once the factory shuts down.
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.registry().closed {
            Err(Error::ContextTerminated)
        } else {
            Ok(())
        }
    }

    /// Registers a connection; refused (and the connection closed) when the
    /// factory is shutting down.
    pub(crate) fn register(
        &self,
        make: impl FnOnce(u64) -> Arc<CoreShared>,
    ) -> Result<Arc<CoreShared>> {
        let mut registry = self.registry();
        if registry.closed {
            return Err(Error::ContextTerminated);
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let core = make(id);
        registry.connections.insert(id, core.clone());
        Ok(core)
    }

    pub(crate) fn unregister(&self, id: u64) {
        self.registry().connections.remove(&id);
    }

    /// Marks the factory closed and closes every connection (their drivers
    /// stop, their send halves are dropped). Returns them, to be joined.
    fn close_all(&self) -> Vec<Arc<CoreShared>> {
        let connections: Vec<_> = {
            let mut registry = self.registry();
            registry.closed = true;
            registry.connections.drain().map(|(_, c)| c).collect()
        };
        self.closed.send_replace(true);
        for c in &connections {
            c.close();
        }
        connections
    }

    async fn shutdown(&self) -> Result<()> {
        let connections = self.close_all();
        // The tasks stop at once when their runtime runs; one on an idle
        // or blocked runtime must not hold us forever.
        let joined = tokio::time::timeout(JOIN_TIMEOUT, async {
            for c in connections {
                c.join().await;
            }
        })
        .await;
        if joined.is_err() {
            // Terminating now would wait for those tasks: shut the context
            // down instead; it is terminated when its last socket closes.
            let _ = self.context.shutdown();
            return Ok(());
        }
        // Every socket of ours is closed (or closing with its linger):
        // terminate on a thread of its own, which waits at most for the
        // linger, so that neither a runtime thread nor the runtime's
        // shutdown (which waits for `spawn_blocking` tasks) is held.
        let context = self.context.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("zmqx-txzmq-term".into())
            .spawn(move || {
                let _ = tx.send(context.term());
            });
        if let Err(e) = spawned {
            return Err(Error::Reactor(e));
        }
        // Bounded too: a socket kept open by a send future that is never
        // polled again would hold `zmq_ctx_term`; the thread then finishes
        // the termination whenever that future is dropped.
        match tokio::time::timeout(self.linger + JOIN_TIMEOUT, rx).await {
            Ok(result) => result.unwrap_or(Ok(())),
            Err(_) => Ok(()),
        }
    }

    fn shutdown_now(&self) {
        self.close_all();
        // Anything still using a socket of ours gets ETERM at once; the
        // context itself is terminated when its last socket is closed.
        let _ = self.context.shutdown();
    }
}

/// txZMQ's `ZmqFactory`: owns a [`Context`] (I/O threads, linger period),
/// tracks every connection made with it, and shuts them all down at once.
///
/// Create it and its connections inside a tokio runtime (with IO and time
/// enabled): each connection that receives is driven by a task of that
/// runtime.
///
/// Shutting down never hangs:
///
/// - [`shutdown`](Factory::shutdown) (`async`) closes every connection,
///   waits for their tasks, then terminates the context, waiting at most
///   the linger period for pending messages to leave. Tasks on a runtime
///   that does not run are waited for 1 s at most; the context is then
///   shut down and terminated when its last socket closes.
/// - [`shutdown_now`](Factory::shutdown_now) and dropping the factory close
///   every connection and shut the context down (`zmq_ctx_shutdown`)
///   without waiting; the context is terminated when its last socket
///   closes. This works from anywhere, inside or outside the runtime, even
///   after the runtime is gone.
/// - [`shutdown_on_ctrl_c`](Factory::shutdown_on_ctrl_c) and
///   [`shutdown_on`](Factory::shutdown_on) are txZMQ's
///   `registerForShutdown`: the factory shuts down on the signal, or when
///   the runtime itself shuts down.
///
/// After shutdown, new connections fail with
/// [`zmqx::Error::ContextTerminated`](Error::ContextTerminated), and
/// operations on existing ones with [`zmqx::Error::NotSocket`](Error::NotSocket)
/// (both wrapped in [`txzmq::Error::Zmq`](super::Error::Zmq)).
pub struct Factory {
    shared: Arc<FactoryShared>,
}

impl std::fmt::Debug for Factory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let registry = self.shared.registry();
        f.debug_struct("Factory")
            .field("linger", &self.shared.linger)
            .field("connections", &registry.connections.len())
            .field("shut_down", &registry.closed)
            .finish()
    }
}

impl Factory {
    /// A factory with txZMQ's defaults: one I/O thread and a linger period
    /// of 100 ms ([`DEFAULT_LINGER_PERIOD`]).
    pub fn new() -> TxResult<Factory> {
        Factory::with_options(1, DEFAULT_LINGER_PERIOD)
    }

    /// A factory whose context has `io_threads` I/O threads (txZMQ's
    /// `ioThreads`) and whose sockets close with `linger` (txZMQ's
    /// `lingerPeriod`): how long pending messages may still leave when a
    /// connection or the factory shuts down.
    pub fn with_options(io_threads: i32, linger: Duration) -> TxResult<Factory> {
        // Checked here so that every socket can take it later.
        crate::options::duration_to_ms(Some(linger), "linger period")?;
        let context = Context::try_new()?;
        context.set(ContextOption::IoThreads, io_threads)?;
        Ok(Factory {
            shared: Arc::new(FactoryShared {
                context,
                linger,
                registry: Mutex::new(Registry::default()),
                closed: watch::Sender::new(false),
            }),
        })
    }

    /// The context (txZMQ's `factory.context`).
    pub fn context(&self) -> &Context {
        &self.shared.context
    }

    /// The linger period given to every socket (txZMQ's `lingerPeriod`).
    pub fn linger(&self) -> Duration {
        self.shared.linger
    }

    /// How many connections are open (txZMQ's `len(factory.connections)`).
    pub fn connection_count(&self) -> usize {
        self.shared.registry().connections.len()
    }

    /// Whether the factory was shut down.
    pub fn is_shut_down(&self) -> bool {
        self.shared.registry().closed
    }

    pub(crate) fn shared(&self) -> &Arc<FactoryShared> {
        &self.shared
    }

    /// Closes every connection and terminates the context (txZMQ's
    /// `shutdown`): each connection's task ends and its socket closes with
    /// the linger period, then the context is terminated. Calling it again
    /// is not an error.
    pub async fn shutdown(&self) -> TxResult<()> {
        Ok(self.shared.shutdown().await?)
    }

    /// Closes every connection and shuts the context down without waiting,
    /// from any thread, inside or outside a runtime. The context is
    /// terminated when its last socket is closed: at once for connections
    /// whose tasks have ended, when the tasks next run otherwise.
    pub fn shutdown_now(&self) {
        self.shared.shutdown_now();
    }

    /// Shuts the factory down when `signal` completes, or when the runtime
    /// shuts down, whichever comes first (txZMQ's `registerForShutdown`,
    /// which hooks the reactor's shutdown). The task ends by itself when
    /// the factory is shut down another way.
    ///
    /// Must be called inside a tokio runtime.
    pub fn shutdown_on<F>(&self, signal: F) -> JoinHandle<()>
    where
        F: Future + Send + 'static,
    {
        /// Shuts the factory down if the task is dropped unfinished (the
        /// runtime is shutting down).
        struct Guard(Option<Weak<FactoryShared>>);
        impl Drop for Guard {
            fn drop(&mut self) {
                if let Some(shared) = self.0.take().and_then(|w| w.upgrade()) {
                    shared.shutdown_now();
                }
            }
        }

        // Made out here, so that it acts even if the task never runs.
        let mut guard = Guard(Some(Arc::downgrade(&self.shared)));
        let mut closed = self.shared.closed.subscribe();
        tokio::spawn(async move {
            let fired = tokio::select! {
                _ = signal => true,
                _ = super::connection::until_closed(&mut closed) => false,
            };
            if fired {
                if let Some(shared) = guard.0.as_ref().and_then(Weak::upgrade) {
                    let _ = shared.shutdown().await;
                }
            }
            // Done: the factory is shut down or shutting down anyway.
            guard.0.take();
        })
    }

    /// Shuts the factory down on ctrl-c (`SIGINT`) or when the runtime
    /// shuts down: [`shutdown_on`](Factory::shutdown_on) with
    /// [`tokio::signal::ctrl_c`]. While it waits, ctrl-c no longer kills the
    /// process: handle it (the task ends after shutting the factory down).
    pub fn shutdown_on_ctrl_c(&self) -> JoinHandle<()> {
        self.shutdown_on(tokio::signal::ctrl_c())
    }
}

impl Drop for Factory {
    fn drop(&mut self) {
        self.shared.shutdown_now();
    }
}
