//! Majordomo interop with majortomo 0.2 (a Python MDP/0.2 implementation
//! from PyPI, installed by `.ci/python-env.sh`): majortomo's broker with
//! zmqx's client and worker, and zmqx's broker with majortomo's client and
//! worker. Both use majortomo's framing ([`Framing::Majortomo`]).
//!
//! Skipped (with a message) when `ZMQX_PYTHON` is unset outside CI.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use common::{TIMEOUT, eventually, python, wait_child};
use zmqx::patterns::mdp::{
    Broker, BrokerOptions, Client, ClientOptions, Error, Framing, Worker, WorkerOptions,
};
use zmqx::{Context, Message};

/// Heartbeats on both sides: 200 ms, dead after 2 s (majortomo wants the
/// timeout to be a multiple of the interval). Generous: a Python peer on a
/// loaded 2-core machine can stall for a second (a 1 s expiry failed 1 run
/// in 4 with four runs at once).
const HB: Duration = Duration::from_millis(200);
const LIVENESS: u32 = 10;

/// A Python child with piped stdin and stdout lines on a channel; killed if
/// the test fails first.
struct Py {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Drop for Py {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Py {
    fn spawn(script: &str, args: &[&str]) -> Option<Py> {
        let python = python()?;
        let mut child = Command::new(python)
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python");
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Some(Py {
            child: Some(child),
            stdin,
            lines,
        })
    }

    fn line(&mut self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(e) => panic!("no line from python within {TIMEOUT:?}: {e}"),
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write to python");
        stdin.flush().expect("flush");
    }

    fn finish(mut self) {
        self.stdin = None;
        let child = self.child.take().expect("running");
        let out = wait_child(child, TIMEOUT).expect("python exits");
        assert!(out.status.success(), "python failed: {:?}", out.status);
    }
}

/// majortomo's broker on an OS-assigned port; prints the endpoint, stops on
/// a line on stdin.
const MAJORTOMO_BROKER: &str = r#"
import sys, threading, zmq
from majortomo.broker import Broker
b = Broker(bind="tcp://127.0.0.1:*", heartbeat_interval=0.2, heartbeat_timeout=2.0)
b.bind()
print(b._socket.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)
def wait_quit():
    sys.stdin.readline()
    b.stop()
threading.Thread(target=wait_quit, daemon=True).start()
while not b._stop:
    m = b.receive()
    if m:
        b.handle_message(m)
b._socket.close(0)
print("bye", flush=True)
"#;

#[test]
fn zmqx_client_and_worker_through_majortomo_broker() -> Result<(), Error> {
    let Some(mut py) = Py::spawn(MAJORTOMO_BROKER, &[]) else {
        return Ok(());
    };
    let endpoint = py.line();
    let ctx = Context::new();
    let wopts = WorkerOptions::default()
        .heartbeat_interval(HB)
        .heartbeat_liveness(LIVENESS)
        .framing(Framing::Majortomo);
    let mut worker = Worker::with_options(&ctx, &endpoint, "upper", wopts)?;
    let (idle_tx, idle_rx) = mpsc::channel();
    let served = thread::spawn(move || -> Result<u64, Error> {
        // Idle for longer than both sides' expiry: heartbeats must keep
        // the registration alive (no reconnect, the broker keeps it).
        assert!(worker.recv(Some(HB * (LIVENESS + 3)))?.is_none());
        assert_eq!(
            worker.reconnects(),
            0,
            "majortomo's broker dropped the idle worker"
        );
        idle_tx.send(()).unwrap();
        for _ in 0..2 {
            let req = worker.recv(Some(TIMEOUT))?.expect("a request");
            let parts: Vec<String> = req
                .body()
                .iter()
                .map(|m| m.as_str().unwrap().to_uppercase())
                .collect();
            worker.partial(&req, ["partial"])?;
            worker.reply(&req, parts)?;
        }
        Ok(worker.reconnects())
    });
    let copts = ClientOptions::default()
        .timeout(TIMEOUT)
        .attempts(1)
        .framing(Framing::Majortomo);
    let mut client = Client::with_options(&ctx, &endpoint, copts)?;
    idle_rx
        .recv_timeout(TIMEOUT)
        .expect("the worker's idle phase ended");
    let reply = client.request("upper", ["hello", "world"])?;
    assert_eq!(
        reply.body(),
        &[Message::from("HELLO"), Message::from("WORLD")]
    );
    assert_eq!(reply.partials(), &[vec![Message::from("partial")]]);
    let reply = client.request("upper", ["again"])?;
    assert_eq!(reply.body()[0], "AGAIN");
    assert_eq!(served.join().unwrap()?, 0);
    assert_eq!(client.malformed(), 0);
    py.say("quit");
    assert_eq!(py.line(), "bye");
    py.finish();
    Ok(())
}

/// majortomo's worker (a thread, service "echo": one PARTIAL then FINAL)
/// and client, against the broker given as argv[1]. Waits for "go" on
/// stdin between registering and asking.
const MAJORTOMO_PEERS: &str = r#"
import os, sys, json, threading
from majortomo.worker import Worker
from majortomo.client import Client
endpoint = sys.argv[1]
w = Worker(endpoint, b"echo", heartbeat_interval=0.2, heartbeat_timeout=2.0)
w.connect()
def serve():
    while True:
        client, frames = w.wait_for_request()
        w.send_reply_partial(client, [b"partial"])
        w.send_reply_final(client, [b"echo:" + f for f in frames])
threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
sys.stdin.readline()
c = Client(endpoint)
c.connect()
def ask(service, *frames):
    c.send(service, *frames)
    parts = [[f.decode() for f in p] for p in c.recv_all(timeout=10)]
    print(json.dumps(parts), flush=True)
ask(b"echo", b"hello", b"world")
ask(b"mmi.service", b"echo")
ask(b"mmi.service", b"nobody")
ask(b"mmi.whatever", b"echo")
c.close()
print("done", flush=True)
sys.stdout.flush()
os._exit(0)
"#;

#[test]
fn majortomo_client_and_worker_through_zmqx_broker() -> Result<(), Error> {
    if python().is_none() {
        return Ok(());
    }
    let ctx = Context::new();
    let opts = BrokerOptions::default()
        .heartbeat_interval(HB)
        .heartbeat_liveness(LIVENESS);
    let broker = Broker::with_options(&ctx, opts)?;
    let endpoint = broker.bind("tcp://127.0.0.1:*")?;
    let broker = broker.spawn()?;
    let mut py = Py::spawn(MAJORTOMO_PEERS, &[&endpoint]).expect("python");
    assert_eq!(py.line(), "ready");
    eventually(TIMEOUT, || (broker.stats().workers == 1).then_some(()))
        .expect("majortomo's worker registered");
    // Heartbeats both ways for longer than the expiry: the worker stays.
    let beats = u64::from(LIVENESS + 3);
    eventually(TIMEOUT, || {
        (broker.stats().heartbeats >= beats).then_some(())
    })
    .expect("heartbeats from majortomo's worker");
    let stats = broker.stats();
    assert_eq!((stats.workers, stats.workers_expired), (1, 0), "{stats:?}");

    py.say("go");
    assert_eq!(py.line(), r#"[["partial"], ["echo:hello", "echo:world"]]"#);
    assert_eq!(py.line(), r#"[["200"]]"#);
    assert_eq!(py.line(), r#"[["404"]]"#);
    assert_eq!(py.line(), r#"[["501"]]"#);
    assert_eq!(py.line(), "done");
    py.finish();

    // zmqx's own client with majortomo's framing on the same broker.
    let copts = ClientOptions::default()
        .timeout(Duration::from_millis(500))
        .attempts(1)
        .framing(Framing::Majortomo);
    let mut c = Client::with_options(&ctx, &endpoint, copts)?;
    assert_eq!(c.request("mmi.service", ["nobody"])?.body()[0], "404");
    let stats = broker.stats();
    assert_eq!(stats.malformed, 0, "{stats:?}");
    assert!(broker.stop(TIMEOUT)?);
    Ok(())
}
