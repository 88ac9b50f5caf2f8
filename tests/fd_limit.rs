//! At the file descriptor limit, the safe API returns errors: no panic
//! (`Context::instance`, `PubHandler::bind`) and no libzmq assertion
//! aborting the process (a context's first socket with a few free
//! descriptors, `epoll.cpp:38`; a TCP bind with none, `ip_resolver.cpp:542`).
//!
//! Each test re-runs itself in a child process (this test binary, with
//! `ZMQX_FD_LIMIT_CHILD` naming the test) that lowers `RLIMIT_NOFILE` and
//! fills the descriptor table, so an abort kills the child, not the suite,
//! and shows as a failure here.
#![cfg(unix)]

mod common;

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::Duration;

use zmqx::{Context, Error, SocketType};

const CHILD: &str = "ZMQX_FD_LIMIT_CHILD";

/// Runs `body` in a child process with a low descriptor limit, and checks
/// that the child passed (no panic, no abort).
fn in_child(test: &str, body: impl FnOnce()) {
    if std::env::var(CHILD).as_deref() == Ok(test) {
        lower_limit();
        body();
        return;
    }
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("re-run the test binary");
    let status = match common::wait_child(child, Duration::from_secs(60)) {
        Ok(output) => output.status,
        Err(e) => panic!("the child of {test} hung: {e}"),
    };
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        panic!(
            "the child of {test} died of signal {signal} (SIGABRT is {})",
            libc::SIGABRT
        );
    }
    assert!(status.success(), "the child of {test} failed: {status}");
}

/// A soft limit of 128 descriptors: enough for the test harness, small
/// enough to fill quickly.
fn lower_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit.rlim_cur = limit.rlim_cur.min(128);
    // SAFETY: valid pointer to an rlimit no higher than the current one.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// Opens files until the process is out of descriptors, then closes `free`
/// of them. Dropping the result frees the rest.
fn hog(free: usize) -> Vec<File> {
    let mut files = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => files.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("unexpected error filling the descriptor table: {e}"),
        }
    }
    assert!(files.len() > free, "too few descriptors to fill");
    files.truncate(files.len() - free);
    files
}

/// An error of the "too many open files" kind.
fn is_emfile(r: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(r, Err(e) if e.errno() == Some(libc::EMFILE))
}

#[test]
fn instance_and_pub_handler_at_the_fd_limit_are_errors() {
    in_child(
        "instance_and_pub_handler_at_the_fd_limit_are_errors",
        || {
            let full = hog(0);
            // Before: `zmq_ctx_new failed` panic.
            let ctx = Context::instance();
            let r = ctx.socket(SocketType::Pair);
            assert!(is_emfile(&r), "{r:?}");
            assert!(is_emfile(&Context::try_new()), "try_new at the limit");
            #[cfg(feature = "log")]
            {
                let r = zmqx::log::PubHandler::bind("inproc://fd-limit-log");
                assert!(r.is_err(), "PubHandler::bind at the limit");
            }
            drop(full);
            // The context is created on the first call that needs it.
            let a = ctx
                .socket(SocketType::Pair)
                .expect("socket once fds are free");
            a.bind("inproc://fd-limit-after").expect("bind");
        },
    );
}

#[test]
fn first_socket_of_a_context_with_few_free_fds_is_an_error() {
    in_child(
        "first_socket_of_a_context_with_few_free_fds_is_an_error",
        || {
            for free in (0..=4).rev() {
                let ctx = Context::try_new().expect("context with room");
                let full = hog(free);
                // Before: SIGABRT in epoll.cpp when 1 to 3 were free.
                let r = ctx.socket(SocketType::Pair);
                assert!(is_emfile(&r), "{free} free: {r:?}");
                drop(full);
                let s = ctx
                    .socket(SocketType::Pair)
                    .expect("socket once fds are free");
                drop(s);
            }
            // The error says what was needed and names the limit.
            let ctx = Context::try_new().expect("context with room");
            let full = hog(2);
            let e = ctx.socket(SocketType::Pair).expect_err("2 free");
            assert!(matches!(e, Error::FdLimit { needed: 5, .. }), "{e:?}");
            assert!(e.to_string().contains("RLIMIT_NOFILE"), "{e}");
            drop(full);
        },
    );
}

#[test]
fn tcp_bind_at_the_fd_limit_is_an_error() {
    in_child("tcp_bind_at_the_fd_limit_is_an_error", || {
        let ctx = Context::new();
        let s = ctx.socket(SocketType::Rep).expect("socket with room");
        let c = ctx.socket(SocketType::Req).expect("socket with room");
        for free in 0..=1 {
            let full = hog(free);
            // Before: SIGABRT in ip_resolver.cpp (getifaddrs) with 0 free.
            let r = s.bind("tcp://127.0.0.1:*");
            assert!(is_emfile(&r), "{free} free: {r:?}");
            let text = r.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                text.contains("tcp://127.0.0.1:*"),
                "names the endpoint: {text}"
            );
            // A connect with a source address resolves it the same way.
            let r = c.connect("tcp://127.0.0.1:0;127.0.0.1:9");
            assert!(is_emfile(&r), "{free} free: {r:?}");
            drop(full);
        }
        s.bind("tcp://127.0.0.1:*").expect("bind once fds are free");
    });
}
