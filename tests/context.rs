//! Context tests: the Rust equivalents of pyzmq's `test_context.py`, plus the
//! core API's own requirements (options, defaults, shutdown/term/destroy).
//!
//! pyzmq tests skipped, and why:
//! - `test_dir`, `test_mockable`, `test_socket_passes_kwargs`,
//!   `test_socket_class_arg`, `test_instance_subclass_first`,
//!   `test_instance_subclass_second`: Python introspection and subclassing.
//! - `test_shadow`: ported as `tests/shadow.rs` (`Context::shadow`).
//! - `test_shadow_pyczmq`: pyczmq is a Python binding of CZMQ.
//! - `test_cyclic_destroy`: about Python's garbage collector and reference
//!   cycles; Rust ownership has no such case.
//! - `test_fork_instance`: ported as `tests/fork.rs` (a test binary of its
//!   own, so the fork happens with no other test thread running).
//! - `test_repr`'s socket counts: zmqx's `Debug` shows the raw pointer only
//!   (checked in `debug_shows_the_context`).

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{TIMEOUT, bind_tcp, inproc, socket};
use zmqx::{
    Context, ContextOption, DEFAULT_LINGER, Error, OptionValue, Result, SocketOption, SocketType,
};

/// Runs `f` on a thread and returns its result, failing the test if it takes
/// longer than `timeout` (a hang becomes a failure, not a stuck test run).
fn within<T: Send + 'static>(timeout: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(timeout)
        .unwrap_or_else(|e| panic!("did not finish within {timeout:?}: {e}"))
}

// Compile-time: a Context may be shared and sent between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Context>();
};

#[test]
fn init_and_term() -> Result<()> {
    // pyzmq: test_init, test_term
    for _ in 0..3 {
        let ctx = Context::new();
        assert!(!ctx.is_terminated());
        ctx.term()?;
        assert!(ctx.is_terminated());
        assert!(ctx.as_raw().is_null());
    }
    let ctx = Context::try_new()?;
    ctx.term()?;
    // Terminating twice is fine.
    ctx.term()?;
    Ok(())
}

#[test]
fn debug_shows_the_context() -> Result<()> {
    // pyzmq: test_repr (the parts that apply)
    let ctx = Context::new();
    let live = format!("{ctx:?}");
    assert!(live.starts_with("Context"), "{live}");
    assert!(!live.contains("0x0"), "{live}");
    ctx.term()?;
    assert!(format!("{ctx:?}").contains("0x0"));
    Ok(())
}

#[test]
fn io_threads_must_be_valid() {
    // pyzmq: test_fail_init
    assert!(matches!(
        Context::with_io_threads(-1).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    let ctx = Context::with_io_threads(3).expect("3 I/O threads");
    assert_eq!(ctx.io_threads().ok(), Some(3));
}

#[test]
fn socket_keeps_its_context_alive() -> Result<()> {
    // pyzmq: test_context_manager. In Rust the socket owns a reference to the
    // context, which is terminated when the last handle and socket are gone.
    let (a, b) = {
        let ctx = Context::new();
        (
            socket(&ctx, SocketType::Pair)?,
            socket(&ctx, SocketType::Pair)?,
        )
    };
    let ep = inproc("alive");
    a.bind(&ep)?;
    b.connect(&ep)?;
    a.send("still alive")?;
    assert_eq!(b.recv_string()?, "still alive");
    assert!(!a.context().is_terminated());
    Ok(())
}

#[test]
fn term_with_pending_zero_linger_message_does_not_hang() -> Result<()> {
    // pyzmq: test_term_hang
    let ctx = Context::new();
    let router = socket(&ctx, SocketType::Router)?;
    let ep = bind_tcp(&router)?;
    let dealer = socket(&ctx, SocketType::Dealer)?;
    dealer.connect(&ep)?;
    dealer.send("hello")?;
    drop(dealer);
    drop(router);
    within(TIMEOUT, move || ctx.term())
}

#[test]
fn instance() -> Result<()> {
    // pyzmq: test_instance, test_instance_threadsafe. Kept in one test: it
    // terminates the process-wide instance.
    let a = Context::instance();
    let b = Context::instance();
    assert_eq!(a.as_raw(), b.as_raw());
    assert!(!a.as_raw().is_null());

    let raws: Vec<usize> = (0..16)
        .map(|_| thread::spawn(|| Context::instance().as_raw() as usize))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert!(raws.iter().all(|&r| r == a.as_raw() as usize));

    // A terminated instance is replaced by a fresh one (as pyzmq does).
    a.term()?;
    let c = Context::instance();
    assert!(!c.is_terminated());
    assert_ne!(c.as_raw(), std::ptr::null_mut());
    let d = Context::instance();
    assert_eq!(c.as_raw(), d.as_raw());
    let s = c.socket(SocketType::Push)?;
    s.bind(&inproc("instance"))?;
    Ok(())
}

#[test]
fn many_sockets() -> Result<()> {
    // pyzmq: test_many_sockets
    let ctx = Context::new();
    for _ in 0..16 {
        let sockets = (0..65)
            .map(|_| ctx.socket(SocketType::Rep))
            .collect::<Result<Vec<_>>>()?;
        drop(sockets);
    }
    within(TIMEOUT, move || ctx.term())
}

#[test]
fn default_socket_options() -> Result<()> {
    // pyzmq: test_sockopts
    let ctx = Context::new();
    // zmqx's own default: a finite linger on every socket.
    assert_eq!(
        ctx.get_default(SocketOption::LINGER),
        Some(OptionValue::Int(DEFAULT_LINGER.as_millis() as i32))
    );
    assert_eq!(ctx.socket(SocketType::Req)?.linger()?, Some(DEFAULT_LINGER));

    ctx.set_default(SocketOption::LINGER, OptionValue::Int(5));
    let s = ctx.socket(SocketType::Req)?;
    assert_eq!(s.linger()?, Some(Duration::from_millis(5)));
    assert_eq!(s.get(SocketOption::LINGER)?, OptionValue::Int(5));

    ctx.set_default_linger(None)?;
    assert_eq!(ctx.socket(SocketType::Req)?.linger()?, None);
    ctx.set_default_linger(Some(Duration::ZERO))?;
    assert_eq!(ctx.socket(SocketType::Req)?.linger()?, Some(Duration::ZERO));

    // SUBSCRIBE does not apply to REQ: it is skipped there, applied on SUB.
    ctx.set_default(SocketOption::SUBSCRIBE, OptionValue::Bytes(Vec::new()));
    ctx.set_default(SocketOption::SNDHWM, OptionValue::Int(77));
    let req = ctx.socket(SocketType::Req)?;
    assert_eq!(req.sndhwm()?, 77);
    let sub = socket(&ctx, SocketType::Sub)?;
    let publisher = socket(&ctx, SocketType::XPub)?;
    let ep = inproc("default-subscribe");
    publisher.bind(&ep)?;
    sub.connect(&ep)?;
    // The XPUB sees the subscription the context default made.
    assert_eq!(publisher.recv_bytes()?, b"\x01");

    // Existing sockets are not changed; cleared defaults no longer apply.
    ctx.clear_default(SocketOption::SNDHWM);
    assert_eq!(ctx.get_default(SocketOption::SNDHWM), None);
    assert_eq!(req.sndhwm()?, 77);
    assert_eq!(ctx.socket(SocketType::Req)?.sndhwm()?, 1000);
    ctx.clear_default(SocketOption::LINGER);
    assert_eq!(ctx.socket(SocketType::Req)?.linger()?, None);
    Ok(())
}

#[test]
fn options_get_and_set() -> Result<()> {
    // pyzmq: test_ctx_opts, and every context option.
    let ctx = Context::new();
    ctx.set(ContextOption::MaxSockets, 2)?;
    assert_eq!(ctx.get(ContextOption::MaxSockets)?, 2);
    ctx.set_max_sockets(100)?;
    assert_eq!(ctx.max_sockets()?, 100);
    assert_eq!(ctx.get(ContextOption::MaxSockets)?, 100);

    assert_eq!(ctx.io_threads()?, 1);
    ctx.set_io_threads(2)?;
    assert_eq!(ctx.io_threads()?, 2);
    assert!(ctx.socket_limit()? >= 1023);
    assert!(!ctx.ipv6()?);
    ctx.set_ipv6(true)?;
    assert!(ctx.ipv6()?);
    assert!(ctx.socket(SocketType::Pair)?.ipv6()?);
    assert!(ctx.blocky()?);
    ctx.set_blocky(false)?;
    assert!(!ctx.blocky()?);
    ctx.set_max_msgsz(4096)?;
    assert_eq!(ctx.max_msgsz()?, 4096);
    assert_eq!(ctx.msg_t_size()?, 64);
    assert_eq!(ctx.thread_sched_policy()?, -1);
    ctx.set_thread_sched_policy(libc::SCHED_OTHER)?;
    assert_eq!(ctx.thread_sched_policy()?, libc::SCHED_OTHER);
    ctx.set_thread_priority(0)?;
    ctx.add_thread_affinity_cpu(0)?;
    ctx.remove_thread_affinity_cpu(0)?;
    ctx.set_thread_name_prefix(42)?;
    assert_eq!(ctx.thread_name_prefix()?, 42);
    assert!(ctx.zero_copy_recv()?);
    ctx.set_zero_copy_recv(false)?;
    assert!(!ctx.zero_copy_recv()?);

    // The context still works with all of that.
    let a = socket(&ctx, SocketType::Pair)?;
    let b = socket(&ctx, SocketType::Pair)?;
    let ep = bind_tcp(&a)?;
    b.connect(&ep)?;
    b.send("after options")?;
    assert_eq!(a.recv_string()?, "after options");
    Ok(())
}

#[test]
fn read_only_and_write_only_context_options() {
    let ctx = Context::new();
    for option in ContextOption::all() {
        let read_only = matches!(option, ContextOption::SocketLimit | ContextOption::MsgTSize);
        let write_only = matches!(
            option,
            ContextOption::ThreadPriority
                | ContextOption::ThreadAffinityCpuAdd
                | ContextOption::ThreadAffinityCpuRemove
        );
        let got = ctx.get(option);
        if write_only {
            assert!(
                matches!(got, Err(Error::InvalidInput { .. })),
                "{option:?}: {got:?}"
            );
        } else {
            assert!(got.is_ok(), "{option:?}: {got:?}");
        }
        if read_only {
            let set = ctx.set(option, 1);
            assert!(
                matches!(set, Err(Error::InvalidInput { .. })),
                "{option:?}: {set:?}"
            );
        }
    }
    // Out of range values are libzmq's EINVAL.
    assert!(matches!(
        ctx.set_max_sockets(-5).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
    assert!(matches!(
        ctx.set_io_threads(-1).as_ref().map_err(Error::root),
        Err(Error::InvalidArgument)
    ));
}

#[test]
fn sockets_from_any_thread() -> Result<()> {
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    let ep = bind_tcp(&pull)?;
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let ctx = ctx.clone();
            let ep = ep.clone();
            thread::spawn(move || -> Result<()> {
                let push = socket(&ctx, SocketType::Push)?;
                push.connect(&ep)?;
                push.send(format!("from thread {i}").as_str())?;
                // Keep the socket until the message is out.
                push.close_with_linger(None)
            })
        })
        .collect();
    let mut got: Vec<String> = (0..4).map(|_| pull.recv_string()).collect::<Result<_>>()?;
    got.sort();
    assert_eq!(
        got,
        (0..4)
            .map(|i| format!("from thread {i}"))
            .collect::<Vec<_>>()
    );
    for h in handles {
        h.join().expect("thread")?;
    }
    // A socket made on one thread can be moved to another.
    let moved = socket(&ctx, SocketType::Push)?;
    moved.connect(&ep)?;
    // It comes back too, so that its linger 0 cannot drop the message.
    let moved = thread::spawn(move || moved.send("moved").map(|()| moved))
        .join()
        .expect("thread")?;
    assert_eq!(pull.recv_string()?, "moved");
    drop(moved);
    Ok(())
}

#[test]
fn clones_share_the_context() -> Result<()> {
    // pyzmq: test_copy
    let ctx = Context::new();
    let clone = ctx.clone();
    assert_eq!(ctx.as_raw(), clone.as_raw());
    let a = socket(&clone, SocketType::Pair)?;
    let b = socket(&ctx, SocketType::Pair)?;
    // inproc only works within one context.
    let ep = inproc("clone");
    a.bind(&ep)?;
    b.connect(&ep)?;
    b.send("same context")?;
    assert_eq!(a.recv_string()?, "same context");
    assert_eq!(a.context().as_raw(), ctx.as_raw());
    Ok(())
}

#[test]
fn destroy_interrupts_sockets_of_other_threads() -> Result<()> {
    // pyzmq: test_destroy. Rust sockets belong to their threads: destroy
    // makes their blocking calls fail so the threads drop them.
    let ctx = Context::new();
    let own: Vec<_> = (0..65)
        .map(|_| ctx.socket(SocketType::Rep))
        .collect::<Result<_>>()?;
    drop(own);
    let (ready_tx, ready_rx) = mpsc::channel();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let ctx = ctx.clone();
            let ready = ready_tx.clone();
            thread::spawn(move || -> Result<Error> {
                let rep = ctx.socket(SocketType::Rep)?;
                rep.bind(&inproc("destroy"))?;
                ready.send(()).expect("ready");
                // No timeout: only the context's shutdown can end this.
                Ok(rep.recv_msg().expect_err("recv must fail"))
            })
        })
        .collect();
    for _ in 0..4 {
        ready_rx.recv_timeout(TIMEOUT).expect("threads ready");
    }
    let c = ctx.clone();
    within(TIMEOUT, move || c.destroy(Some(Duration::ZERO)))?;
    assert!(ctx.is_terminated());
    for t in threads {
        assert!(matches!(
            t.join().expect("thread")?,
            Error::ContextTerminated
        ));
    }
    Ok(())
}

#[test]
fn destroy_forces_linger_on_closing_sockets() -> Result<()> {
    // pyzmq: test_destroy_linger. The socket has an infinite linger and a
    // message for a peer that never comes: without destroy's linger 0 the
    // context could never terminate.
    let ctx = Context::new();
    ctx.set_default_linger(None)?;
    let (ready_tx, ready_rx) = mpsc::channel();
    let c = ctx.clone();
    let owner = thread::spawn(move || -> Result<Error> {
        let req = c.socket(SocketType::Req)?;
        assert_eq!(req.linger()?, None);
        req.connect("tcp://127.0.0.1:1")?;
        req.send("hi")?;
        ready_tx.send(()).expect("ready");
        Ok(req.recv_msg().expect_err("recv must fail"))
    });
    ready_rx.recv_timeout(TIMEOUT).expect("owner ready");
    let c = ctx.clone();
    within(TIMEOUT, move || c.destroy(Some(Duration::ZERO)))?;
    assert!(matches!(
        owner.join().expect("thread")?,
        Error::ContextTerminated
    ));
    Ok(())
}

#[test]
fn term_waits_for_open_sockets() -> Result<()> {
    // pyzmq: test_term_noclose
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Req)?;
    let (done_tx, done_rx) = mpsc::channel();
    let c = ctx.clone();
    thread::spawn(move || done_tx.send(c.term()));
    assert!(
        done_rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "term returned while a socket was open"
    );
    drop(s);
    done_rx.recv_timeout(TIMEOUT).expect("term after close")?;
    assert!(ctx.is_terminated());
    Ok(())
}

#[test]
fn dropping_context_and_socket_in_a_thread_does_not_hang() {
    // pyzmq: test_gc
    within(TIMEOUT, || {
        let ctx = Context::new();
        let _push = ctx.socket(SocketType::Push).expect("socket");
    });
}

#[test]
fn term_interrupts_a_blocked_recv() -> Result<()> {
    // pyzmq: test_term_thread
    let ctx = Context::new();
    let (ready_tx, ready_rx) = mpsc::channel();
    let c = ctx.clone();
    let blocked = thread::spawn(move || -> Result<Error> {
        let rep = c.socket(SocketType::Rep)?;
        rep.bind_to_random_port("tcp://127.0.0.1", 49152..65535, 100)?;
        ready_tx.send(()).expect("ready");
        Ok(rep.recv_msg().expect_err("recv must fail"))
    });
    ready_rx.recv_timeout(TIMEOUT).expect("thread ready");
    let c = ctx.clone();
    within(TIMEOUT, move || c.term())?;
    assert!(matches!(
        blocked.join().expect("thread")?,
        Error::ContextTerminated
    ));
    Ok(())
}

#[test]
fn destroy_without_sockets() -> Result<()> {
    // pyzmq: test_destroy_no_sockets
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Pub)?;
    s.bind_to_random_port("tcp://127.0.0.1", 49152..65535, 100)?;
    drop(s);
    ctx.destroy(None)?;
    assert!(ctx.is_terminated());
    ctx.destroy(None)?;
    Ok(())
}

#[test]
fn shutdown_fails_blocking_calls_and_new_sockets() -> Result<()> {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull)?;
    let ep = bind_tcp(&pull)?;
    let (ready_tx, ready_rx) = mpsc::channel();
    let c = ctx.clone();
    let blocked = thread::spawn(move || -> Result<Error> {
        let rep = c.socket(SocketType::Rep)?;
        rep.bind(&inproc("shutdown"))?;
        ready_tx.send(()).expect("ready");
        Ok(rep.recv_msg().expect_err("recv must fail"))
    });
    ready_rx.recv_timeout(TIMEOUT).expect("thread ready");
    let start = Instant::now();
    ctx.shutdown()?;
    assert!(matches!(
        blocked.join().expect("thread")?,
        Error::ContextTerminated
    ));
    assert!(start.elapsed() < TIMEOUT);
    // shutdown is not term: the context is not terminated yet...
    assert!(!ctx.is_terminated());
    // ...but nothing works on it any more.
    assert!(matches!(
        ctx.socket(SocketType::Pair).as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    assert!(matches!(
        pull.recv_msg().as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    assert!(matches!(
        pull.bind(&ep).as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    assert!(matches!(
        pull.connect(&ep).as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    assert!(matches!(
        pull.set_rcvhwm(5).as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    assert!(matches!(
        pull.rcvhwm().as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    drop(pull);
    ctx.term()?;
    assert!(matches!(
        ctx.shutdown().as_ref().map_err(Error::root),
        Err(Error::ContextTerminated)
    ));
    Ok(())
}

/// A negative thread name prefix (or scheduling policy) is a value, not an
/// error: `zmq_ctx_get` returns it as is, and only `-1` with errno set is a
/// failure. Before, `-5` was `Other(0)` (a stale errno) and `-1` after a
/// failed call was that call's error.
#[test]
fn negative_context_option_values_read_back() -> Result<()> {
    let ctx = Context::new();
    for prefix in [-5, -1, i32::MIN, 0, 7] {
        ctx.set_thread_name_prefix(prefix)?;
        // Leave a stale errno behind (EINVAL), as any failed call does.
        assert!(ctx.set_io_threads(-1).is_err());
        assert_eq!(ctx.thread_name_prefix()?, prefix, "prefix {prefix}");
    }
    // The scheduling policy's default is -1 (it cannot be set to it).
    let fresh = Context::new();
    assert!(fresh.set_io_threads(-1).is_err());
    assert_eq!(fresh.thread_sched_policy()?, -1);
    // A socket starts the threads with the negative prefix.
    ctx.set_thread_name_prefix(-5)?;
    let s = ctx.socket(SocketType::Pair)?;
    s.bind("inproc://negative-prefix")?;
    Ok(())
}

/// `Context::new` never panics and `try_new` reports libzmq's error; a
/// context made when libzmq could not create one is created on first use
/// (tested at the descriptor limit in `tests/fd_limit.rs`). Here: a live
/// context's raw pointer is the same through every handle and `Debug`.
#[test]
fn new_and_try_new_agree() -> Result<()> {
    let a = Context::new();
    let b = Context::try_new()?;
    assert!(!a.as_raw().is_null());
    assert!(!b.as_raw().is_null());
    assert_ne!(a.as_raw(), b.as_raw());
    assert_eq!(a.clone().as_raw(), a.as_raw());
    assert!(format!("{a:?}").contains(&format!("{:?}", a.as_raw())));
    Ok(())
}
