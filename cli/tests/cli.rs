//! The `zmqx` binary: every subcommand run as a child process, with good
//! and bad arguments.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TIMEOUT, socket, wait_child};
use zmqx::log::PubHandler;
use zmqx::{Context, Result, SocketType};

fn zmqx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zmqx"))
}

fn run(args: &[&str]) -> Output {
    let child = zmqx()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmqx");
    wait_child(child, TIMEOUT).expect("zmqx finishes")
}

fn spawn(args: &[&str]) -> Child {
    zmqx()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmqx")
}

/// Reads a child's stdout lines on a thread, so the test can wait for each
/// with a timeout.
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "zmqx-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

#[test]
fn help_everywhere() {
    for args in [
        &["--help"][..],
        &["logwatch", "--help"],
        &["keygen", "--help"],
        &["proxy", "--help"],
        &["monitor", "--help"],
        &["help", "proxy"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}: {text}");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["logwatch"],
        &["logwatch", "--timeout", "soon", "tcp://127.0.0.1:5555"],
        &["keygen"],
        &["keygen", "name", "--meta", "novalue"],
        &["keygen", "name", "--meta", "=v"],
        &["proxy", "--frontend", "pull@tcp://127.0.0.1:1"],
        &[
            "proxy",
            "--frontend",
            "nosuchtype@tcp://x:1",
            "--backend",
            "push@tcp://x:1",
        ],
        &["proxy", "--frontend", "pull", "--backend", "push@tcp://x:1"],
        &[
            "proxy",
            "--frontend",
            "pull@nowhere",
            "--backend",
            "push@tcp://x:1",
        ],
        &["monitor"],
        &["monitor", "rep@"],
        &["monitor", "rep@tcp://127.0.0.1:*", "--timeout=-1"],
        &["logwatch", "--timeout=NaN", "tcp://127.0.0.1:1"],
        &["monitor", "rep@tcp://127.0.0.1:*", "--count", "-3"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(!err.is_empty(), "{args:?}: no message");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn runtime_errors_exit_1_with_a_message() {
    let file = temp_dir("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let dir = file.to_str().expect("utf-8 path");
    for out in [
        run(&["keygen", "--dir", dir, "server"]),
        run(&[
            "keygen",
            "--dir",
            temp_dir("kg").to_str().expect("utf-8"),
            "bad/name",
        ]),
        run(&["monitor", "rep@tcp://no.such.host.invalid:1"]),
        run(&["monitor", "rep@bogus://x"]),
        run(&[
            "proxy",
            "--frontend",
            "pull@bogus://x",
            "--backend",
            "push@tcp://127.0.0.1:*",
        ]),
        run(&["logwatch", "bogus://x"]),
    ] {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("zmqx: error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn keygen_writes_a_loadable_pair_with_metadata()
-> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = temp_dir("keygen");
    let d = dir.to_str().expect("utf-8 path");
    let out = run(&[
        "keygen",
        "--dir",
        d,
        "server",
        "--meta",
        "name=Server",
        "-m",
        "site=eu",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (public, secret) = zmqx::auth::load_certificate(dir.join("server.key"))?;
    assert!(secret.is_none());
    let (public2, secret2) = zmqx::auth::load_certificate(dir.join("server.key_secret"))?;
    assert_eq!(public, public2);
    let secret2 = secret2.expect("the secret file has the secret key");
    assert_eq!(zmqx::curve_public(&secret2)?, public);
    let cert = zmqx::auth::Certificate::load(dir.join("server.key"))?;
    assert_eq!(cert.meta("name"), Some("Server"));
    assert_eq!(cert.meta("site"), Some("eu"));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("server.key_secret"), "{printed}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn monitor_prints_listening_and_accepted() -> Result<()> {
    let mut child = spawn(&[
        "monitor",
        "rep@tcp://127.0.0.1:*",
        "--count",
        "2",
        "--timeout",
        "20",
    ]);
    let rx = lines(&mut child);
    let first = rx.recv_timeout(TIMEOUT).expect("a LISTENING line");
    let endpoint = first
        .strip_prefix("LISTENING ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first event {first:?}"))
        .to_owned();
    let ctx = Context::new();
    let req = socket(&ctx, SocketType::Req)?;
    req.connect(&endpoint)?;
    let second = rx.recv_timeout(TIMEOUT).expect("an ACCEPTED line");
    assert!(
        second.starts_with(&format!("ACCEPTED {endpoint}")),
        "{second}"
    );
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    assert!(out.status.success(), "{}", stderr(&out));
    Ok(())
}

#[test]
fn monitor_ends_at_its_timeout() {
    let start = Instant::now();
    let out = run(&[
        "monitor",
        "sub@connect:tcp://127.0.0.1:1",
        "--timeout",
        "0.3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(start.elapsed() >= Duration::from_millis(300));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CONNECT_DELAYED tcp://127.0.0.1:1"), "{text}");
}

#[cfg(unix)]
fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn proxy_forwards_push_to_pull_and_stops_on_sigterm() -> Result<()> {
    let ctx = Context::new();
    let push = socket(&ctx, SocketType::Push)?;
    let push_end = common::bind_tcp(&push)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    let pull_end = common::bind_tcp(&pull)?;
    let capture = socket(&ctx, SocketType::Pull)?;
    let capture_end = common::bind_tcp(&capture)?;
    let child = spawn(&[
        "proxy",
        "--frontend",
        &format!("pull@connect:{push_end}"),
        "--backend",
        &format!("push@connect:{pull_end}"),
        "--capture",
        &format!("push@connect:{capture_end}"),
    ]);
    let forwarded = (|| -> Result<_> {
        push.send_multipart(["through", "the proxy"])?;
        let got = pull.recv_multipart_bytes()?;
        let copy = capture.recv_multipart_bytes()?;
        Ok((got, copy))
    })();
    terminate(&child);
    let out = wait_child(child, TIMEOUT).expect("the proxy exits on SIGTERM");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    let (got, copy) = forwarded?;
    assert_eq!(got, [&b"through"[..], b"the proxy"]);
    assert_eq!(copy, got);
    Ok(())
}

#[cfg(unix)]
#[test]
fn steerable_proxy_terminates_on_command() -> Result<()> {
    let ctx = Context::new();
    let control = socket(&ctx, SocketType::Req)?;
    let control_end = common::bind_tcp(&control)?;
    let child = spawn(&[
        "proxy",
        "--frontend",
        "router@tcp://127.0.0.1:*",
        "--backend",
        "dealer@tcp://127.0.0.1:*",
        "--control",
        &format!("rep@connect:{control_end}"),
    ]);
    let sent = control.send("TERMINATE");
    let out = wait_child(child, TIMEOUT).expect("the proxy exits on TERMINATE");
    sent?;
    assert!(out.status.success(), "{}", stderr(&out));
    Ok(())
}

#[test]
fn logwatch_prints_records_like_pyzmq() -> Result<()> {
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?.with_root_topic("app");
    let endpoint = handler.last_endpoint()?;
    let mut child = spawn(&["logwatch", "--count", "1", "--timeout", "20", &endpoint]);
    // Slow joiner: publish until the watcher prints and exits (bounded).
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            break; // wait_child below kills it and fails
        }
        handler.publish(
            zmqx::log::Level::Info,
            Some("db"),
            "  connected  ",
            None,
            None,
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "app.INFO.db | connected\n"
    );
    Ok(())
}

#[test]
fn logwatch_topic_align_and_separator() -> Result<()> {
    let ctx = Context::new();
    let handler = PubHandler::bind_in(&ctx, "tcp://127.0.0.1:*")?;
    let endpoint = handler.last_endpoint()?;
    let mut child = spawn(&[
        "logwatch",
        "-t",
        "WARNING",
        "--align",
        "--separator",
        " :: ",
        "--count",
        "2",
        "--timeout",
        "20",
        &endpoint,
    ]);
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            break; // wait_child below kills it and fails
        }
        handler.publish(zmqx::log::Level::Info, None, "not shown", None, None);
        handler.publish(zmqx::log::Level::Warning, Some("longer"), "w", None, None);
        handler.publish(zmqx::log::Level::Warning, None, "x", None, None);
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // Topics are padded to the widest part seen so far.
    let expected_pair = [
        "WARNING.longer :: WARNING None:None - w",
        "WARNING.       :: WARNING None:None - x",
    ];
    let expected_other = [
        "WARNING :: WARNING None:None - x",
        "WARNING.longer :: WARNING None:None - w",
    ];
    assert!(lines == expected_pair || lines == expected_other, "{text}");
    Ok(())
}
