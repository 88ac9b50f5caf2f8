//! Logging over PUB against pyzmq: zmqx's `PubHandler` read by
//! `python -m zmq.log` (the other direction, pyzmq's `PUBHandler` read by
//! `zmqx logwatch`, is in the zmqx-cli crate's tests).
#![cfg(feature = "log")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TIMEOUT, python};
use zmqx::log::{Level, PubHandler};
use zmqx::{Context, Result};

fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn zmqx_pubhandler_to_pyzmq_logwatch() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?.with_root_topic("app");
    let endpoint = handler.last_endpoint()?;
    let mut watcher = Command::new(&py)
        .args(["-u", "-m", "zmq.log", &endpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn python -m zmq.log");
    let rx = lines(&mut watcher);
    // Slow joiner: publish until pyzmq's watcher prints (bounded).
    let deadline = Instant::now() + TIMEOUT;
    let line = loop {
        assert!(
            Instant::now() < deadline,
            "python -m zmq.log printed nothing"
        );
        handler.publish(
            Level::Warning,
            Some("net"),
            "slow peer",
            Some("src/net.rs"),
            Some(9),
        );
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
            break line;
        }
    };
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(line, "app.WARNING.net | WARNING net.rs:9 - slow peer");
    Ok(())
}
