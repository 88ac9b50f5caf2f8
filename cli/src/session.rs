//! The context of a subcommand, how it ends, and how sockets are opened.
//!
//! A [`Session`] owns the one context of the process. SIGINT and SIGTERM
//! shut it down, so blocking calls return `ContextTerminated` and the
//! subcommand returns. [`Session::finish`] then stops the signal thread
//! (which holds the only other handle of the context) and terminates the
//! context, which waits for every socket's linger: whatever was queued
//! (a reply to `TERMINATE`, the last forwarded messages) leaves before the
//! process exits.

use std::io::Write;
use std::time::{Duration, Instant};

use zmqx::{Context, Socket, SocketType};

use crate::args::Hardening;
use crate::spec::Spec;

/// The context and the thread that shuts it down on a signal.
pub struct Session {
    ctx: Context,
    #[cfg(unix)]
    signals: Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)>,
}

impl Session {
    /// A new context, shut down by SIGINT and SIGTERM.
    pub fn start() -> Result<Session, String> {
        let ctx = Context::try_new().map_err(|e| format!("cannot create a context: {e}"))?;
        #[cfg(unix)]
        let signals = {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
                .map_err(|e| format!("cannot handle signals: {e}"))?;
            let handle = signals.handle();
            let target = ctx.clone();
            let thread = std::thread::Builder::new()
                .name("zmqx-signals".into())
                .spawn(move || {
                    // Ends when `finish` closes the handle; the context
                    // handle goes with the thread.
                    for _ in signals.forever() {
                        let _ = target.shutdown();
                    }
                })
                .map_err(|e| format!("cannot start the signal thread: {e}"))?;
            Some((handle, thread))
        };
        Ok(Session {
            ctx,
            #[cfg(unix)]
            signals,
        })
    }

    /// The context of the session.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Opens a socket for `role`: hardening options, a subscription to
    /// everything for SUB sockets, then bind or connect. A bind prints
    /// `ROLE ENDPOINT` on stdout with the endpoint bound (the port chosen
    /// for `*`).
    pub fn open(&self, role: &str, spec: &Spec, hardening: &Hardening) -> Result<Socket, String> {
        let fail = |e: zmqx::Error| format!("cannot open the {role} ({} socket): {e}", spec.kind);
        let socket = self.ctx.socket(spec.kind).map_err(fail)?;
        hardening.apply(&socket).map_err(fail)?;
        if spec.kind == SocketType::Sub {
            socket.subscribe(b"").map_err(fail)?;
        }
        if spec.bind {
            socket.bind(&spec.endpoint).map_err(|e| {
                format!(
                    "cannot bind the {role} ({}) to {}: {}",
                    spec.kind,
                    spec.endpoint,
                    e.root()
                )
            })?;
            let bound = socket.last_endpoint().map_err(fail)?;
            // A closed stdout does not stop a proxy.
            let _ = emit(&format!("{role} {bound}"));
        } else {
            socket.connect(&spec.endpoint).map_err(|e| {
                format!(
                    "cannot connect the {role} ({}) to {}: {}",
                    spec.kind,
                    spec.endpoint,
                    e.root()
                )
            })?;
        }
        Ok(socket)
    }

    /// Stops the signal thread, then terminates the context: blocks until
    /// every socket (all closed by now) has sent what it queued or its
    /// linger (one second by default) has passed.
    pub fn finish(self) -> Result<(), String> {
        #[cfg(unix)]
        if let Some((handle, thread)) = self.signals {
            handle.close();
            let _ = thread.join();
        }
        match self.ctx.term() {
            Ok(()) | Err(zmqx::Error::ContextTerminated) => Ok(()),
            Err(e) => Err(format!("cannot terminate the context: {e}")),
        }
    }
}

/// Runs `step` until it returns `Ok(false)`, the deadline passes or the
/// context is shut down. `step` gets the time left to wait.
pub fn run_loop(
    deadline: Option<Instant>,
    mut step: impl FnMut(Option<Duration>) -> zmqx::Result<bool>,
) -> Result<(), String> {
    loop {
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(()),
            },
            None => None,
        };
        match step(left) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) if matches!(e.root(), zmqx::Error::ContextTerminated) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Writes a line on stdout, flushed, so a reader sees each record or event
/// at once.
pub fn emit(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// The result of a printing loop: a reader that went away (`| head`) ends
/// it normally; another write error is a failure.
pub fn ended(result: Result<(), String>, write: Option<std::io::Error>) -> Result<(), String> {
    match write {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}"))
        }
        _ => result,
    }
}
