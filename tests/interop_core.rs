//! Interoperability of the core API with pyzmq peers: a pyzmq REP server
//! answering a zmqx REQ client over TCP, and a zmqx publisher feeding a
//! pyzmq SUB with a topic filter. The Python side reports on stdout; every
//! wait has a timeout and a child that overruns is killed.
//!
//! Skipped (with a message) when `ZMQX_PYTHON` is unset outside CI.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc::{self, Receiver};
use std::thread;

use common::{TIMEOUT, bind_tcp, python, socket, spawn_python, wait_child};
use zmqx::{Context, Result, SocketType};

/// A Python child whose stdout lines arrive on a channel. Killed if the
/// test fails before it exits.
struct PyChild {
    child: Option<Child>,
    lines: Receiver<String>,
}

impl Drop for PyChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl PyChild {
    fn spawn(script: &str, args: &[&str]) -> Option<PyChild> {
        let python = python()?;
        let mut child = spawn_python(&python, script, args).expect("start python");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Some(PyChild {
            child: Some(child),
            lines,
        })
    }

    /// The next stdout line; kills the child and fails after TIMEOUT.
    fn line(&mut self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(e) => panic!("no line from python within {TIMEOUT:?}: {e}"),
        }
    }

    /// Waits for a clean exit and returns the remaining lines.
    fn finish(mut self) -> Vec<String> {
        let child = self.child.take().expect("running");
        let out = wait_child(child, TIMEOUT).expect("python exits");
        assert!(out.status.success(), "python failed: {:?}", out.status);
        // The reader thread ends at EOF, closing the channel.
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(TIMEOUT) {
                Ok(line) => rest.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return rest,
                Err(e) => panic!("python's stdout did not close: {e}"),
            }
        }
    }
}

const REP_SERVER: &str = r#"
import sys, zmq
ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
rep.linger = 0
rep.rcvtimeo = 10000
port = rep.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
served = 0
while True:
    parts = rep.recv_multipart()
    if parts == [b"quit"]:
        rep.send(b"bye")
        break
    rep.send_multipart([b"echo:" + parts[0]] + parts[1:])
    served += 1
    print("replied", served, file=sys.stderr, flush=True)
print("served", served, flush=True)
rep.close()
ctx.term()
"#;

#[test]
fn zmqx_req_to_pyzmq_rep() -> Result<()> {
    let Some(mut py) = PyChild::spawn(REP_SERVER, &[]) else {
        return Ok(());
    };
    let port: u16 = py.line().parse().expect("a port");
    let ctx = Context::new();
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&format!("tcp://127.0.0.1:{port}"))?;
    req.send("hello")?;
    assert_eq!(req.recv_string()?, "echo:hello");
    req.send_multipart(["multi", "part"])?;
    let reply = req.recv_multipart_bytes()?;
    assert_eq!(reply, vec![b"echo:multi".to_vec(), b"part".to_vec()]);
    let big = vec![0xabu8; 200_000];
    req.send(big.clone())?;
    let reply = req.recv_bytes()?;
    assert_eq!(&reply[..5], b"echo:");
    assert_eq!(&reply[5..], &big[..]);
    req.send("quit")?;
    assert_eq!(req.recv_string()?, "bye");
    assert_eq!(py.finish(), vec!["served 3".to_string()]);
    Ok(())
}

const SUB_CLIENT: &str = r#"
import sys, zmq
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.linger = 0
sub.rcvtimeo = 10000
sub.setsockopt(zmq.SUBSCRIBE, b"weather")
sub.connect(sys.argv[1])
while True:
    msg = sub.recv_multipart()
    print(b"|".join(msg).decode(), flush=True)
    if msg[-1] == b"END":
        break
sub.close()
ctx.term()
"#;

#[test]
fn zmqx_pub_to_pyzmq_sub_with_topic_filter() -> Result<()> {
    let ctx = Context::new();
    // XPUB: the subscription arrives as a message, so there is no
    // slow-joiner guesswork.
    let xpub = socket(&ctx, SocketType::XPub)?;
    let ep = bind_tcp(&xpub)?;
    let Some(py) = PyChild::spawn(SUB_CLIENT, &[&ep]) else {
        return Ok(());
    };
    assert_eq!(xpub.recv_bytes()?, b"\x01weather");
    xpub.send("sports: 3-1")?;
    xpub.send("weather: sunny")?;
    xpub.send("news: none")?;
    xpub.send_multipart(["weather.rain", "10mm"])?;
    xpub.send("weatherman")?;
    xpub.send_multipart(["weather", "END"])?;
    let lines = py.finish();
    assert_eq!(
        lines,
        vec![
            "weather: sunny",
            "weather.rain|10mm",
            "weatherman",
            "weather|END"
        ]
    );
    Ok(())
}
