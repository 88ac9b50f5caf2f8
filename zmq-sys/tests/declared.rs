//! Every `zmq_*` function of libzmq 4.3.5's `zmq.h` is declared by zmq-sys
//! and links: each one's address is taken, and the list is checked against the
//! header actually used for the build.

use std::collections::BTreeSet;

macro_rules! addresses {
    ($($f:ident,)*) => {
        vec![$((stringify!($f), zmq_sys::$f as *const () as usize),)*]
    };
}

fn stable() -> Vec<(&'static str, usize)> {
    addresses!(
        zmq_errno,
        zmq_strerror,
        zmq_version,
        zmq_ctx_new,
        zmq_ctx_term,
        zmq_ctx_shutdown,
        zmq_ctx_set,
        zmq_ctx_get,
        zmq_init,
        zmq_term,
        zmq_ctx_destroy,
        zmq_msg_init,
        zmq_msg_init_size,
        zmq_msg_init_data,
        zmq_msg_send,
        zmq_msg_recv,
        zmq_msg_close,
        zmq_msg_move,
        zmq_msg_copy,
        zmq_msg_data,
        zmq_msg_size,
        zmq_msg_more,
        zmq_msg_get,
        zmq_msg_set,
        zmq_msg_gets,
        zmq_socket,
        zmq_close,
        zmq_setsockopt,
        zmq_getsockopt,
        zmq_bind,
        zmq_connect,
        zmq_unbind,
        zmq_disconnect,
        zmq_send,
        zmq_send_const,
        zmq_recv,
        zmq_socket_monitor,
        zmq_poll,
        zmq_proxy,
        zmq_proxy_steerable,
        zmq_has,
        zmq_device,
        zmq_sendmsg,
        zmq_recvmsg,
        zmq_sendiov,
        zmq_recviov,
        zmq_z85_encode,
        zmq_z85_decode,
        zmq_curve_keypair,
        zmq_curve_public,
        zmq_atomic_counter_new,
        zmq_atomic_counter_set,
        zmq_atomic_counter_inc,
        zmq_atomic_counter_dec,
        zmq_atomic_counter_value,
        zmq_atomic_counter_destroy,
        zmq_timers_new,
        zmq_timers_destroy,
        zmq_timers_add,
        zmq_timers_cancel,
        zmq_timers_set_interval,
        zmq_timers_reset,
        zmq_timers_timeout,
        zmq_timers_execute,
        zmq_stopwatch_start,
        zmq_stopwatch_intermediate,
        zmq_stopwatch_stop,
        zmq_sleep,
        zmq_threadstart,
        zmq_threadclose,
    )
}

#[cfg(feature = "draft")]
fn draft() -> Vec<(&'static str, usize)> {
    addresses!(
        zmq_ctx_set_ext,
        zmq_ctx_get_ext,
        zmq_join,
        zmq_leave,
        zmq_connect_peer,
        zmq_msg_set_routing_id,
        zmq_msg_routing_id,
        zmq_msg_set_group,
        zmq_msg_group,
        zmq_msg_init_buffer,
        zmq_poller_new,
        zmq_poller_destroy,
        zmq_poller_size,
        zmq_poller_add,
        zmq_poller_modify,
        zmq_poller_remove,
        zmq_poller_wait,
        zmq_poller_wait_all,
        zmq_poller_fd,
        zmq_poller_add_fd,
        zmq_poller_modify_fd,
        zmq_poller_remove_fd,
        zmq_socket_get_peer_state,
        zmq_socket_monitor_versioned,
        zmq_socket_monitor_pipes_stats,
        zmq_ppoll,
        zmq_ppoll,
    )
}

#[cfg(not(feature = "draft"))]
fn draft() -> Vec<(&'static str, usize)> {
    Vec::new()
}

/// `(stable, draft)` function names exported by a `zmq.h`.
fn header_functions(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut stack: Vec<bool> = Vec::new();
    let (mut stable, mut draft) = (BTreeSet::new(), BTreeSet::new());
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("#if") {
            stack.push(t.contains("ZMQ_BUILD_DRAFT_API"));
            continue;
        }
        if t.starts_with("#endif") {
            stack.pop();
            continue;
        }
        if t.starts_with('#') || !t.contains("ZMQ_EXPORT") {
            continue;
        }
        let window = lines[i..(i + 3).min(lines.len())].join(" ");
        let start = window.find("zmq_").expect("an exported zmq_ function");
        let name: String = window[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if stack.iter().any(|d| *d) {
            draft.insert(name);
        } else {
            stable.insert(name);
        }
    }
    (stable, draft)
}

#[test]
fn every_function_has_an_address() {
    for (name, addr) in stable().into_iter().chain(draft()) {
        assert_ne!(addr, 0, "{name} has no address");
    }
}

#[test]
fn declarations_cover_the_linked_header() {
    let include = env!("ZMQ_SYS_INCLUDE");
    assert!(
        !include.is_empty(),
        "the build did not report where zmq.h is"
    );
    let text = std::fs::read_to_string(format!("{include}/zmq.h")).expect("read zmq.h");
    let (h_stable, h_draft) = header_functions(&text);
    let ours: BTreeSet<String> = stable().iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = h_stable.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "zmq.h functions not declared: {missing:?}"
    );
    assert!(
        h_stable.len() >= 60,
        "suspiciously few functions parsed: {}",
        h_stable.len()
    );
    if zmq_sys::LINKED_VERSION == "4.3.5" {
        let extra: Vec<_> = ours.difference(&h_stable).collect();
        assert!(
            extra.is_empty(),
            "declared but not in 4.3.5's zmq.h: {extra:?}"
        );
    }
    if cfg!(feature = "draft") {
        let ours: BTreeSet<String> = draft().iter().map(|(n, _)| n.to_string()).collect();
        let missing: Vec<_> = h_draft.difference(&ours).collect();
        assert!(
            missing.is_empty(),
            "DRAFT functions not declared: {missing:?}"
        );
        assert!(!h_draft.is_empty());
    }
}
