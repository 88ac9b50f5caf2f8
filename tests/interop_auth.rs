//! Security interop with pyzmq (ZMQX_PYTHON): certificate files both ways,
//! pyzmq CURVE clients against a zmqx server guarded by the
//! ThreadAuthenticator, and a zmqx CURVE client against a pyzmq server
//! guarded by pyzmq's ThreadAuthenticator. Every Python peer runs with
//! timeouts and reports on stdout.

mod auth_util;
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use auth_util::{QUIET, TempDir, TestResult};
use zmqx::auth::{
    CertificateError, ThreadAuthenticator, create_certificates, load_certificate, load_certificates,
};
use zmqx::monitor::{EventKind, EventValue};
use zmqx::{Context, CurveKey, CurveKeyPair, Event, PollEvents, SocketType};

/// How long a Python peer may run in all.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a script to its end and returns its stdout; fails on a non-zero
/// exit or an overrun.
fn run_python(python: &PathBuf, script: &str, args: &[&str]) -> String {
    let child = common::spawn_python(python, script, args).expect("start python");
    let out = common::wait_child(child, CHILD_TIMEOUT).expect("python finished in time");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "python failed: {stdout}");
    stdout
}

/// Reads a child's stdout lines on a thread, so every read has a timeout.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn keypair_of(path: &std::path::Path) -> std::result::Result<CurveKeyPair, CertificateError> {
    let (public, secret) = load_certificate(path)?;
    Ok(CurveKeyPair {
        public,
        secret: secret.expect("a secret certificate"),
    })
}

const CERTS_SCRIPT: &str = r#"
import os, sys
import zmq.auth
directory, theirs = sys.argv[1], sys.argv[2]
public_file, secret_file = zmq.auth.create_certificates(directory, "py", metadata={"name": "from pyzmq"})
pub, sec = zmq.auth.load_certificate(secret_file)
print("PY", pub.decode(), sec.decode())
pub, sec = zmq.auth.load_certificate(theirs)
print("RS", pub.decode(), sec.decode() if sec else "-")
keys = sorted(k.decode() for k in zmq.auth.load_certificates(directory))
print("DIR", " ".join(keys))
"#;

#[test]
fn certificates_both_ways() -> TestResult {
    let Some(python) = common::python() else {
        return Ok(());
    };
    let dir = TempDir::new("interop-certs");
    let (rs_public_file, rs_secret_file) =
        create_certificates(dir.path(), "rs", &[("name", "from zmqx #1")])?;
    let rs = keypair_of(&rs_secret_file)?;
    let out = run_python(
        &python,
        CERTS_SCRIPT,
        &[
            &dir.path().to_string_lossy(),
            &rs_secret_file.to_string_lossy(),
        ],
    );
    let line = |tag: &str| -> Vec<String> {
        out.lines()
            .find_map(|l| l.strip_prefix(tag))
            .unwrap_or_else(|| panic!("no {tag} line in {out:?}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    // pyzmq's certificate, read by zmqx: the keys Python reports.
    let py = line("PY ");
    let (public, secret) = load_certificate(dir.path().join("py.key_secret"))?;
    assert_eq!(public.to_z85(), py[0]);
    assert_eq!(secret.map(|k| k.to_z85()).as_deref(), Some(py[1].as_str()));
    assert_eq!(load_certificate(dir.path().join("py.key"))?, (public, None));
    assert_eq!(CurveKey::from_z85(&py[0])?, public);
    // zmqx's certificate, read by pyzmq.
    assert_eq!(line("RS "), [rs.public.to_z85(), rs.secret.to_z85()]);
    // Both directory loaders see the same two public keys.
    let mut ours: Vec<String> = load_certificates(dir.path())?
        .iter()
        .map(CurveKey::to_z85)
        .collect();
    ours.sort();
    assert_eq!(line("DIR "), ours);
    assert_eq!(ours.len(), 2);
    assert!(rs_public_file.exists());
    Ok(())
}

const CLIENT_SCRIPT: &str = r#"
import sys
import zmq, zmq.auth
endpoint, server_key, cert, timeout_ms = sys.argv[1:5]
pub, sec = zmq.auth.load_certificate(cert)
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.linger = 0
s.curve_publickey = pub
s.curve_secretkey = sec
s.curve_serverkey = server_key.encode()
s.connect(endpoint)
s.send(b"hello")
if s.poll(int(timeout_ms)):
    print("REPLY", s.recv().decode(), flush=True)
else:
    print("TIMEOUT", flush=True)
s.close()
ctx.term()
"#;

#[test]
fn pyzmq_clients_of_a_zmqx_curve_server() -> TestResult {
    let Some(python) = common::python() else {
        return Ok(());
    };
    let dir = TempDir::new("interop-server");
    let accepted = dir.sub("accepted");
    let others = dir.sub("others");
    let (_, good_cert) = create_certificates(&accepted, "good", &[])?;
    let (_, bad_cert) = create_certificates(&others, "bad", &[])?;
    let good = keypair_of(&good_cert)?;
    let server_keys = zmqx::curve_keypair()?;

    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start()?;
    auth.allow(["127.0.0.1"])?;
    auth.configure_curve("*", &accepted)?;

    let server = common::socket(&ctx, SocketType::Rep)?;
    server.set_curve_server_keys(&server_keys)?;
    let monitor = server.monitor_events(Event::HANDSHAKE_FAILED_AUTH)?;
    let endpoint = common::bind_tcp(&server)?;
    let server_public = server_keys.public.to_z85();

    // The accepted client: its request arrives with its key as User-Id.
    let child = common::spawn_python(
        &python,
        CLIENT_SCRIPT,
        &[
            &endpoint,
            &server_public,
            &good_cert.to_string_lossy(),
            "10000",
        ],
    )?;
    let request = server.recv_msg()?;
    assert_eq!(request, "hello");
    assert_eq!(request.gets("User-Id")?, Some(good.public.to_z85()));
    server.send("world")?;
    let out = common::wait_child(child, CHILD_TIMEOUT)?;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "REPLY world");

    // The unknown client: refused with 400, its request never arrives.
    let child = common::spawn_python(
        &python,
        CLIENT_SCRIPT,
        &[
            &endpoint,
            &server_public,
            &bad_cert.to_string_lossy(),
            "1000",
        ],
    )?;
    let event = monitor
        .wait_for(EventKind::HandshakeFailedAuth, Some(common::TIMEOUT))?
        .expect("the unknown client is refused");
    assert_eq!(event.value, EventValue::AuthStatus(400));
    assert!(server.poll(PollEvents::POLLIN, Some(QUIET))?.is_empty());
    let out = common::wait_child(child, CHILD_TIMEOUT)?;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "TIMEOUT");
    assert!(
        server
            .poll(PollEvents::POLLIN, Some(Duration::ZERO))?
            .is_empty()
    );
    Ok(())
}

const SERVER_SCRIPT: &str = r#"
import sys, time
import zmq, zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message
clients_dir = sys.argv[1]
ctx = zmq.Context()
auth = ThreadAuthenticator(ctx)
auth.start()
auth.allow("127.0.0.1")
auth.configure_curve(domain="*", location=clients_dir)
public, secret = zmq.curve_keypair()
server = ctx.socket(zmq.REP)
server.linger = 0
server.curve_secretkey = secret
server.curve_publickey = public
server.curve_server = True
monitor = server.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
port = server.bind_to_random_port("tcp://127.0.0.1")
print("READY", "tcp://127.0.0.1:%d" % port, public.decode(), flush=True)
poller = zmq.Poller()
poller.register(server, zmq.POLLIN)
poller.register(monitor, zmq.POLLIN)
served = failed = False
deadline = time.monotonic() + 20
while not (served and failed) and time.monotonic() < deadline:
    events = dict(poller.poll(500))
    if monitor in events:
        event = recv_monitor_message(monitor)
        if not failed:
            print("FAILED_AUTH", event["value"], flush=True)
            failed = True
    if server in events:
        msg = server.recv(copy=False)
        user = msg.get("User-Id")
        server.send(b"pong:" + msg.bytes + b":" + user.encode())
        print("SERVED", user, flush=True)
        served = True
server.disable_monitor()
monitor.close()
server.close()
auth.stop()
ctx.term()
print("DONE", flush=True)
"#;

#[test]
fn zmqx_client_of_a_pyzmq_curve_server() -> TestResult {
    let Some(python) = common::python() else {
        return Ok(());
    };
    let dir = TempDir::new("interop-client");
    let accepted = dir.sub("accepted");
    let (_, secret_file) = create_certificates(&accepted, "client", &[("name", "zmqx")])?;
    // pyzmq's directory must hold public certificates only.
    std::fs::rename(&secret_file, dir.path().join("client.key_secret"))?;
    let client_keys = keypair_of(&dir.path().join("client.key_secret"))?;

    let mut child = common::spawn_python(&python, SERVER_SCRIPT, &[&accepted.to_string_lossy()])?;
    let lines = lines_of(&mut child);
    let next_line = || {
        lines
            .recv_timeout(common::TIMEOUT)
            .expect("the pyzmq server reports in time")
    };
    let ready = next_line();
    let parts: Vec<&str> = ready.split_whitespace().collect();
    assert_eq!(parts.first(), Some(&"READY"), "{ready}");
    let (endpoint, server_key) = (parts[1], CurveKey::from_z85(parts[2])?);

    let ctx = Context::new();
    // A stranger is refused: no reply.
    let stranger = common::socket(&ctx, SocketType::Req)?;
    stranger.set_curve_client(&server_key, &zmqx::curve_keypair()?)?;
    stranger.connect(endpoint)?;
    stranger.send("ping")?;
    // The accepted client gets its reply, with its key as User-Id.
    let client = common::socket(&ctx, SocketType::Req)?;
    client.set_curve_client(&server_key, &client_keys)?;
    client.connect(endpoint)?;
    client.send("ping")?;
    let reply = client.recv_string()?;
    assert_eq!(reply, format!("pong:ping:{}", client_keys.public.to_z85()));

    let mut reported: Vec<String> = Vec::new();
    while !reported.iter().any(|l| l == "DONE") {
        reported.push(next_line());
    }
    assert!(
        reported.iter().any(|l| l == "FAILED_AUTH 400"),
        "{reported:?}"
    );
    assert!(
        reported
            .iter()
            .any(|l| *l == format!("SERVED {}", client_keys.public.to_z85())),
        "{reported:?}"
    );
    assert!(
        stranger
            .poll(PollEvents::POLLIN, Some(Duration::ZERO))?
            .is_empty()
    );
    let out = common::wait_child(child, CHILD_TIMEOUT)?;
    assert!(out.status.success());
    Ok(())
}
