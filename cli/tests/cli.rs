//! The `zmqx` binary: every subcommand run as a child process, with good
//! and bad arguments.

mod common;

use std::time::{Duration, Instant};

use common::{
    TIMEOUT, lines, log_publisher, run, socket, spawn, stderr, subscribed_handler, temp_dir,
    terminate, wait_child,
};
use zmqx::{Context, Result, SocketType};

#[test]
fn help_everywhere() {
    for args in [
        &["--help"][..],
        &["logwatch", "--help"],
        &["keygen", "--help"],
        &["proxy", "--help"],
        &["monitor", "--help"],
        &["device", "--help"],
        &["monitored-queue", "--help"],
        &["help", "proxy"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}: {text}");
    }
}

/// Arguments that are wrong whatever the network: exit code 2 with a
/// message, and no panic.
fn assert_usage_error(args: &[&str]) -> String {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.is_empty(), "{args:?}: no message");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    err
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
        &["device"],
        &["device", "relay", "--in", "tcp://*:1", "--out", "tcp://*:2"],
        &["device", "queue", "--in", "tcp://*:1"],
        &[
            "monitored-queue",
            "--in",
            "router@tcp://*:1",
            "--out",
            "dealer@tcp://*:2",
        ],
    ] {
        assert_usage_error(args);
    }
}

/// Bad endpoints are refused before anything is opened, in every
/// subcommand that takes one.
#[test]
fn bad_endpoints_exit_2_in_every_subcommand() {
    for endpoint in [
        "notanendpoint".to_owned(),
        "bogus://x".into(),
        "tcp://".into(),
        "tcp://127.0.0.1".into(),
        "tcp://127.0.0.1:99999".into(),
        "tcp://127.0.0.1:port".into(),
        "inproc://".into(),
        // Longer than an ipc path can be.
        format!("ipc:///tmp/{}", "x".repeat(200)),
    ] {
        let endpoint = endpoint.as_str();
        let spec = format!("pull@{endpoint}");
        let mon = format!("pub@{endpoint}");
        for args in [
            &["logwatch", endpoint][..],
            &["monitor", &spec],
            &["proxy", "--frontend", &spec, "--backend", "push@tcp://*:*"],
            &["proxy", "--frontend", "pull@tcp://*:*", "--backend", &spec],
            &["device", "streamer", "--in", endpoint, "--out", "tcp://*:*"],
            &["device", "streamer", "--in", "tcp://*:*", "--out", endpoint],
            &[
                "monitored-queue",
                "--in",
                "router@tcp://*:*",
                "--out",
                "dealer@tcp://*:*",
                "--mon",
                &mon,
            ],
        ] {
            let err = assert_usage_error(args);
            assert!(err.contains(endpoint), "{args:?}: {err}");
        }
    }
    // A connect needs a host and a port.
    assert_usage_error(&["logwatch", "tcp://127.0.0.1:*"]);
    assert_usage_error(&["logwatch", "tcp://*:5555"]);
    assert_usage_error(&["monitor", "sub@connect:tcp://127.0.0.1:0"]);
}

#[test]
fn an_unknown_socket_type_lists_the_valid_ones() {
    for args in [
        &[
            "proxy",
            "--frontend",
            "nosuch@tcp://*:*",
            "--backend",
            "push@tcp://*:*",
        ][..],
        &["monitor", "nosuch@tcp://*:*"],
        &[
            "device",
            "queue",
            "--in",
            "nosuch@tcp://*:*",
            "--out",
            "tcp://*:*",
        ],
    ] {
        let err = assert_usage_error(args);
        assert!(err.contains("\"nosuch\""), "{args:?}: {err}");
        for valid in [
            "pair", "pub", "sub", "req", "rep", "dealer", "router", "pull", "push", "xpub", "xsub",
            "stream",
        ] {
            assert!(err.contains(valid), "{args:?}: {valid} missing from {err}");
        }
    }
}

/// Socket types that cannot play their role are refused before anything is
/// bound: every command below also binds an endpoint the test holds, so
/// binding first would fail with "address in use" and exit code 1.
#[test]
fn wrong_roles_exit_2_before_binding() -> Result<()> {
    let ctx = Context::new();
    let held = socket(&ctx, SocketType::Pull)?;
    let taken = common::bind_tcp(&held)?;
    let frontend = format!("pull@{taken}");
    let router = format!("router@{taken}");
    let sub = format!("sub@{taken}");
    for (args, says) in [
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--control",
                "push@tcp://127.0.0.1:*",
            ][..],
            "cannot receive commands",
        ),
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--capture",
                "pull@tcp://127.0.0.1:*",
            ],
            "cannot send",
        ),
        (
            &[
                "proxy",
                "--frontend",
                &sub,
                "--backend",
                "pull@tcp://127.0.0.1:*",
            ],
            "no message can flow",
        ),
        (
            &[
                "device",
                "queue",
                "--in",
                &router,
                "--out",
                "push@tcp://127.0.0.1:*",
            ],
            "queue device",
        ),
        (
            &[
                "device",
                "forwarder",
                "--in",
                &frontend,
                "--out",
                "pub@tcp://127.0.0.1:*",
            ],
            "forwarder device",
        ),
        (
            &[
                "device",
                "streamer",
                "--in",
                &frontend,
                "--out",
                "pull@tcp://127.0.0.1:*",
            ],
            "streamer device",
        ),
        (
            &[
                "monitored-queue",
                "--in",
                &router,
                "--out",
                "dealer@tcp://127.0.0.1:*",
                "--mon",
                "sub@tcp://127.0.0.1:*",
            ],
            "cannot send",
        ),
        (
            &[
                "monitored-queue",
                "--in",
                &sub,
                "--out",
                "sub@tcp://127.0.0.1:*",
                "--mon",
                "tcp://127.0.0.1:*",
            ],
            "no message can flow",
        ),
        (
            &[
                "keygen",
                "--dir",
                "/nonexistent/dir",
                "server",
                "--meta",
                "full name=Alice",
            ],
            "meta",
        ),
        (&["keygen", "server", "--meta", "note=two\nlines"], "meta"),
        (&["keygen", "bad/name"], "bad/name"),
        (&["keygen", ".."], ".."),
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--max-msg-size",
                "0",
            ],
            "max-msg-size",
        ),
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--heartbeat",
                "0",
            ],
            "heartbeat",
        ),
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--heartbeat",
                "100,x",
            ],
            "heartbeat",
        ),
        (
            &[
                "proxy",
                "--frontend",
                &frontend,
                "--backend",
                "push@tcp://127.0.0.1:*",
                "--handshake-timeout=-1",
            ],
            "handshake-timeout",
        ),
        (
            &[
                "device",
                "streamer",
                "--in",
                &frontend,
                "--out",
                "tcp://*:*",
                "--max-msg-size",
                "1T",
            ],
            "max-msg-size",
        ),
        (
            &["logwatch", "--dateformat", "%Y %Q", "tcp://127.0.0.1:1"],
            "%Q",
        ),
        (
            &["logwatch", "--dateformat", "%H:%", "tcp://127.0.0.1:1"],
            "lone",
        ),
    ] {
        let err = assert_usage_error(args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    Ok(())
}

#[test]
fn runtime_errors_exit_1_with_a_message() -> Result<()> {
    let ctx = Context::new();
    let held = socket(&ctx, SocketType::Pull)?;
    let taken = common::bind_tcp(&held)?;
    let file = temp_dir("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let dir = file.to_str().expect("utf-8 path");
    for out in [
        run(&["keygen", "--dir", dir, "server"]),
        run(&["monitor", "rep@tcp://no.such.host.invalid:1"]),
        run(&["monitor", &format!("rep@{taken}")]),
        run(&[
            "proxy",
            "--frontend",
            &format!("pull@{taken}"),
            "--backend",
            "push@tcp://127.0.0.1:*",
        ]),
        run(&[
            "device",
            "streamer",
            "--in",
            "tcp://127.0.0.1:*",
            "--out",
            &taken,
        ]),
    ] {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("zmqx: error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let _ = std::fs::remove_file(&file);
    Ok(())
}

#[test]
fn keygen_refuses_to_overwrite_without_force() -> std::result::Result<(), Box<dyn std::error::Error>>
{
    let dir = temp_dir("keygen-twice");
    let d = dir.to_str().expect("utf-8 path");
    let first = run(&["keygen", "--dir", d, "server"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let secret = std::fs::read(dir.join("server.key_secret")).expect("the secret file");
    let public = std::fs::read(dir.join("server.key")).expect("the public file");

    let again = run(&["keygen", "--dir", d, "server"]);
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert!(
        err.contains("server.key_secret") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("server.key_secret")).expect("read"),
        secret
    );
    assert_eq!(std::fs::read(dir.join("server.key")).expect("read"), public);

    // A public file alone is protected too.
    std::fs::remove_file(dir.join("server.key_secret")).expect("remove");
    let again = run(&["keygen", "--dir", d, "server"]);
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert!(err.contains("server.key"), "{err}");
    assert!(!dir.join("server.key_secret").exists(), "nothing written");
    assert_eq!(std::fs::read(dir.join("server.key")).expect("read"), public);

    let forced = run(&["keygen", "--dir", d, "server", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let (new_public, new_secret) = zmqx::auth::load_certificate(dir.join("server.key_secret"))?;
    assert_ne!(std::fs::read(dir.join("server.key")).expect("read"), public);
    assert_eq!(
        zmqx::curve_public(&new_secret.expect("secret"))?,
        new_public
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
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

/// A SUB control socket subscribes to everything, so it hears TERMINATE.
#[cfg(unix)]
#[test]
fn steerable_proxy_with_a_sub_control_socket_terminates() -> Result<()> {
    let ctx = Context::new();
    let control = socket(&ctx, SocketType::XPub)?;
    let control_end = common::bind_tcp(&control)?;
    let child = spawn(&[
        "proxy",
        "--frontend",
        "pull@tcp://127.0.0.1:*",
        "--backend",
        "push@tcp://127.0.0.1:*",
        "--control",
        &format!("sub@connect:{control_end}"),
    ]);
    // No slow joiner: the XPUB sees the proxy's subscription, then says it once.
    let sent = control.recv_msg().and_then(|_| control.send("TERMINATE"));
    let out = wait_child(child, TIMEOUT).expect("the proxy exits on TERMINATE");
    sent?;
    assert!(out.status.success(), "{}", stderr(&out));
    Ok(())
}

#[test]
fn logwatch_prints_records_like_pyzmq() -> Result<()> {
    let ctx = Context::new();
    let (xpub, endpoint) = log_publisher(&ctx)?;
    let child = spawn(&["logwatch", "--count", "1", "--timeout", "20", &endpoint]);
    let handler = subscribed_handler(xpub).map(|h| h.with_root_topic("app"));
    if let Ok(h) = &handler {
        h.publish(
            zmqx::log::Level::Info,
            Some("db"),
            "  connected  ",
            None,
            None,
        );
    }
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    handler?;
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
    let (xpub, endpoint) = log_publisher(&ctx)?;
    let child = spawn(&[
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
    let handler = subscribed_handler(xpub);
    if let Ok(h) = &handler {
        h.publish(zmqx::log::Level::Info, None, "not shown", None, None);
        h.publish(zmqx::log::Level::Warning, Some("longer"), "w", None, None);
        h.publish(zmqx::log::Level::Warning, None, "x", None, None);
    }
    let out = wait_child(child, TIMEOUT).expect("exits after --count");
    handler?;
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
