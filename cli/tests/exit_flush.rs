//! Whatever a subcommand queued before it exits leaves the process: the
//! context is terminated (with the sockets' linger) before `main` returns.

mod common;

use common::{TIMEOUT, socket, spawn, stderr, wait_child};
use zmqx::{Context, Result, SocketType};

/// The reply a `REP` control socket sends to `TERMINATE` is the last thing
/// the proxy does before exiting: it must reach the `REQ` every time.
#[test]
fn terminate_reply_reaches_the_requester_every_time() -> Result<()> {
    let ctx = Context::new();
    for round in 0..20 {
        let req = socket(&ctx, SocketType::Req)?;
        let req_end = common::bind_tcp(&req)?;
        let child = spawn(&[
            "proxy",
            "--frontend",
            "pull@tcp://127.0.0.1:*",
            "--backend",
            "push@tcp://127.0.0.1:*",
            "--control",
            &format!("rep@connect:{req_end}"),
        ]);
        let reply = req.send("TERMINATE").and_then(|()| req.recv_bytes());
        let out = wait_child(child, TIMEOUT).expect("the proxy exits on TERMINATE");
        assert!(
            out.status.success(),
            "round {round}: {:?}: {}",
            out.status,
            stderr(&out)
        );
        let reply = reply.unwrap_or_else(|e| panic!("round {round}: no reply: {e}"));
        assert!(reply.is_empty(), "round {round}: {reply:?}");
    }
    Ok(())
}
