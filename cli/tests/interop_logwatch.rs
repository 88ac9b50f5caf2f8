//! Logging over PUB against pyzmq: pyzmq's `PUBHandler` read by
//! `zmqx logwatch`.

mod common;

use std::process::{Command, Stdio};

use common::{TIMEOUT, lines, python, wait_child};
use zmqx::Result;

/// Publishes with pyzmq's PUBHandler until stdin closes (at most 30 s).
const PY_PUBLISHER: &str = r#"
import logging, sys, threading, time
from zmq.log.handlers import PUBHandler
handler = PUBHandler("tcp://127.0.0.1:*")
handler.root_topic = "py"
logger = logging.getLogger("interop")
logger.setLevel(logging.DEBUG)
logger.addHandler(handler)
print(handler.socket.last_endpoint.decode(), flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
deadline = time.time() + 30
while not done.is_set() and time.time() < deadline:
    logger.info("net.tcp::hello from pyzmq")
    time.sleep(0.02)
"#;

#[test]
fn pyzmq_pubhandler_to_zmqx_logwatch() -> Result<()> {
    let Some(py) = python() else { return Ok(()) };
    let mut publisher = Command::new(&py)
        .arg("-c")
        .arg(PY_PUBLISHER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn python");
    let endpoint = lines(&mut publisher)
        .recv_timeout(TIMEOUT)
        .expect("pyzmq prints its endpoint");
    let watcher = Command::new(env!("CARGO_BIN_EXE_zmqx"))
        .args(["logwatch", "--count", "1", "--timeout", "20", &endpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmqx");
    let out = wait_child(watcher, TIMEOUT).expect("logwatch prints a record");
    drop(publisher.stdin.take()); // ends the publisher
    wait_child(publisher, TIMEOUT).expect("the publisher exits");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "py.INFO.net.tcp | hello from pyzmq\n"
    );
    Ok(())
}
