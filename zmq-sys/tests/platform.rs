//! The vendored libzmq is configured like libzmq's own CMake build on Linux.
//!
//! zeromq-src compiles libzmq with an empty `platform.hpp`, so features that
//! depend on platform defines are silently compiled out unless our build script
//! probes for them. These tests check the result at the OS level: the options
//! must really reach the kernel's sockets (`getsockopt`), libzmq must really
//! create eventfds and close-on-exec descriptors (`/proc/self/fd`, `fcntl`),
//! and interface names and IPC peer filters must really work. Each one fails
//! if its feature is compiled out.
//!
//! The tests count and inspect the process's descriptors, so they run one at a
//! time (`serial`).
#![cfg(all(feature = "vendored", target_os = "linux"))]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString, c_int, c_long, c_short, c_void};
use std::io;
use std::mem::size_of;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Bound on every blocking step, in milliseconds.
const TIMEOUT_MS: c_int = 5000;
/// How long a message that must not arrive is waited for, in milliseconds.
const ABSENT_MS: c_int = 500;

static SERIAL: Mutex<()> = Mutex::new(());
static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// Run one test at a time; `None` (with a note) when libzmq was not vendored.
fn serial() -> Option<MutexGuard<'static, ()>> {
    let guard = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if zmq_sys::LINKED_SOURCE != "vendored" {
        eprintln!(
            "skipped: libzmq was linked from {:?}, not vendored",
            zmq_sys::LINKED_SOURCE
        );
        return None;
    }
    Some(guard)
}

fn unique() -> usize {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// The last libzmq error, as `errno (message)`.
fn zmq_error() -> String {
    // SAFETY: zmq_errno only reads the calling thread's errno.
    let errno = unsafe { zmq_sys::zmq_errno() };
    // SAFETY: zmq_strerror returns a pointer to a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(zmq_sys::zmq_strerror(errno)) };
    format!("{errno} ({})", text.to_string_lossy())
}

/// A libzmq context, terminated on drop.
struct Ctx(*mut c_void);

impl Ctx {
    fn new() -> Ctx {
        // SAFETY: zmq_ctx_new has no preconditions.
        let raw = unsafe { zmq_sys::zmq_ctx_new() };
        assert!(!raw.is_null(), "zmq_ctx_new: {}", zmq_error());
        Ctx(raw)
    }

    /// A socket with linger 0 and bounded send and receive.
    fn socket(&self, kind: i32) -> Sock<'_> {
        // SAFETY: self.0 is a live context (it is only terminated on drop).
        let raw = unsafe { zmq_sys::zmq_socket(self.0, kind) };
        assert!(!raw.is_null(), "zmq_socket({kind}): {}", zmq_error());
        let sock = Sock { raw, ctx: self };
        sock.set(zmq_sys::ZMQ_LINGER, 0);
        sock.set(zmq_sys::ZMQ_RCVTIMEO, TIMEOUT_MS);
        sock.set(zmq_sys::ZMQ_SNDTIMEO, TIMEOUT_MS);
        sock
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // Every socket borrows the context, so all are closed by now.
        loop {
            // SAFETY: self.0 is a live context with no open sockets; it is
            // terminated once (retried only when interrupted).
            let rc = unsafe { zmq_sys::zmq_ctx_term(self.0) };
            // SAFETY: zmq_errno only reads the calling thread's errno.
            if rc == 0 || unsafe { zmq_sys::zmq_errno() } != libc::EINTR {
                assert!(
                    rc == 0 || std::thread::panicking(),
                    "zmq_ctx_term: {}",
                    zmq_error()
                );
                return;
            }
        }
    }
}

/// A libzmq socket, closed on drop (before its context, which it borrows).
struct Sock<'c> {
    raw: *mut c_void,
    ctx: &'c Ctx,
}

impl<'c> Sock<'c> {
    fn try_set(&self, option: i32, value: c_int) -> Result<(), String> {
        // SAFETY: self.raw is a live socket; value is a c_int of the given size.
        let rc = unsafe {
            zmq_sys::zmq_setsockopt(
                self.raw,
                option,
                (&raw const value).cast(),
                size_of::<c_int>(),
            )
        };
        if rc == 0 { Ok(()) } else { Err(zmq_error()) }
    }

    fn set(&self, option: i32, value: c_int) {
        if let Err(e) = self.try_set(option, value) {
            panic!("zmq_setsockopt({option}, {value}): {e}");
        }
    }

    fn bind(&self, endpoint: &str) {
        let c = CString::new(endpoint).unwrap();
        // SAFETY: self.raw is a live socket; c is NUL-terminated.
        let rc = unsafe { zmq_sys::zmq_bind(self.raw, c.as_ptr()) };
        assert_eq!(rc, 0, "zmq_bind({endpoint}): {}", zmq_error());
    }

    fn connect(&self, endpoint: &str) {
        let c = CString::new(endpoint).unwrap();
        // SAFETY: self.raw is a live socket; c is NUL-terminated.
        let rc = unsafe { zmq_sys::zmq_connect(self.raw, c.as_ptr()) };
        assert_eq!(rc, 0, "zmq_connect({endpoint}): {}", zmq_error());
    }

    fn last_endpoint(&self) -> String {
        let mut buf = [0u8; 256];
        let mut len = buf.len();
        // SAFETY: self.raw is a live socket; buf is writable for len bytes.
        let rc = unsafe {
            zmq_sys::zmq_getsockopt(
                self.raw,
                zmq_sys::ZMQ_LAST_ENDPOINT,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "ZMQ_LAST_ENDPOINT: {}", zmq_error());
        CStr::from_bytes_until_nul(&buf[..len])
            .expect("NUL-terminated endpoint")
            .to_str()
            .expect("UTF-8 endpoint")
            .to_owned()
    }

    fn send(&self, data: &[u8]) {
        // SAFETY: self.raw is a live socket; data is readable for its length.
        let rc = unsafe { zmq_sys::zmq_send(self.raw, data.as_ptr().cast(), data.len(), 0) };
        assert_eq!(rc, data.len() as c_int, "zmq_send: {}", zmq_error());
    }

    /// Whether a message can be received within `ms` milliseconds.
    fn poll_in(&self, ms: c_int) -> bool {
        let mut item = zmq_sys::zmq_pollitem_t {
            socket: self.raw,
            fd: 0,
            events: zmq_sys::ZMQ_POLLIN as c_short,
            revents: 0,
        };
        // SAFETY: item is one valid poll item for a live socket; the timeout
        // is bounded.
        let rc = unsafe { zmq_sys::zmq_poll(&mut item, 1, c_long::from(ms)) };
        assert!(rc >= 0, "zmq_poll: {}", zmq_error());
        rc == 1 && item.revents & zmq_sys::ZMQ_POLLIN as c_short != 0
    }

    /// One frame, waiting at most `TIMEOUT_MS` (the socket's ZMQ_RCVTIMEO).
    fn recv(&self) -> Vec<u8> {
        let mut buf = [0u8; 256];
        // SAFETY: self.raw is a live socket; buf is writable for its length.
        let rc = unsafe { zmq_sys::zmq_recv(self.raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert!(rc >= 0, "zmq_recv: {}", zmq_error());
        buf[..(rc as usize).min(buf.len())].to_vec()
    }

    /// A PAIR socket receiving this socket's `events`.
    fn monitor(&self, events: i32) -> Sock<'c> {
        let endpoint = format!("inproc://platform-monitor-{}", unique());
        let c = CString::new(endpoint.as_str()).unwrap();
        // SAFETY: self.raw is a live socket; c is NUL-terminated.
        let rc = unsafe { zmq_sys::zmq_socket_monitor(self.raw, c.as_ptr(), events) };
        assert_eq!(rc, 0, "zmq_socket_monitor: {}", zmq_error());
        let pair = self.ctx.socket(zmq_sys::ZMQ_PAIR);
        pair.connect(&endpoint);
        pair
    }

    /// The next monitor event's number, if one comes within `TIMEOUT_MS`.
    fn next_event(&self) -> Option<i32> {
        if !self.poll_in(TIMEOUT_MS) {
            return None;
        }
        let head = self.recv(); // u16 event, u32 value
        let _endpoint = self.recv();
        Some(i32::from(u16::from_ne_bytes([head[0], head[1]])))
    }
}

impl Drop for Sock<'_> {
    fn drop(&mut self) {
        // SAFETY: self.raw is a live socket, closed exactly once here.
        let rc = unsafe { zmq_sys::zmq_close(self.raw) };
        assert!(
            rc == 0 || std::thread::panicking(),
            "zmq_close: {}",
            zmq_error()
        );
    }
}

/// Send `payload` on `tx` and receive it on `rx`, both within `TIMEOUT_MS`.
fn exchange(tx: &Sock, rx: &Sock, payload: &[u8]) {
    tx.send(payload);
    assert!(
        rx.poll_in(TIMEOUT_MS),
        "{payload:?} did not arrive within {TIMEOUT_MS} ms"
    );
    assert_eq!(rx.recv(), payload);
}

fn port_of(endpoint: &str) -> u16 {
    let (_, port) = endpoint.rsplit_once(':').expect("endpoint has a port");
    port.parse().expect("numeric port")
}

/// A unique `ipc://` path in the temp dir, removed on drop.
struct IpcPath(PathBuf);

impl IpcPath {
    fn new() -> IpcPath {
        let name = format!("zmqx-platform-{}-{}.ipc", std::process::id(), unique());
        IpcPath(std::env::temp_dir().join(name))
    }

    fn endpoint(&self) -> String {
        format!("ipc://{}", self.0.display())
    }
}

impl Drop for IpcPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The process's open descriptors and what they link to.
fn open_fds() -> BTreeMap<c_int, String> {
    let fds: Vec<c_int> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The directory's own descriptor is closed now: read_link skips it.
    fds.into_iter()
        .filter_map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

fn count_links(target: &str) -> usize {
    open_fds().values().filter(|t| *t == target).count()
}

/// An integer socket option of a kernel socket.
fn sockopt(fd: c_int, level: c_int, name: c_int) -> c_int {
    let mut value: c_int = -1;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: value is a writable c_int and len holds its size.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&raw mut value).cast(), &mut len) };
    assert_eq!(
        rc,
        0,
        "getsockopt({fd}, {level}, {name}): {}",
        io::Error::last_os_error()
    );
    value
}

/// The IPv4 port of a socket's local (or, with `peer`, remote) address.
fn inet_port(fd: c_int, peer: bool) -> Option<u16> {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let query = if peer {
        libc::getpeername
    } else {
        libc::getsockname
    };
    // SAFETY: addr is writable for len bytes; the call only fills it in.
    let rc = unsafe { query(fd, (&raw mut addr).cast(), &mut len) };
    if rc != 0 || c_int::from(addr.ss_family) != libc::AF_INET {
        return None;
    }
    // SAFETY: the kernel wrote an AF_INET address, i.e. a sockaddr_in.
    let sin = unsafe { &*(&raw const addr).cast::<libc::sockaddr_in>() };
    Some(u16::from_be(sin.sin_port))
}

/// The connected (remote port `port`) and accepted (local port `port`) TCP
/// descriptors of a connection to the listener on `port`.
fn tcp_connection_fds(port: u16) -> (c_int, c_int) {
    let sockets: Vec<c_int> = open_fds()
        .into_iter()
        .filter(|(_, target)| target.starts_with("socket:"))
        .map(|(fd, _)| fd)
        .collect();
    let find = |pred: &dyn Fn(c_int) -> bool| {
        let found: Vec<c_int> = sockets.iter().copied().filter(|&fd| pred(fd)).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one such TCP socket for port {port}: {found:?}"
        );
        found[0]
    };
    let connected = find(&|fd| inet_port(fd, true) == Some(port));
    let accepted = find(&|fd| inet_port(fd, false) == Some(port) && inet_port(fd, true).is_some());
    (connected, accepted)
}

/// Connect a PUSH (with `connect_opts`) to a PULL bound on loopback (with
/// `bind_opts`), exchange a message, and hand the connected and accepted
/// TCP descriptors to `check` while the connection is up.
fn with_tcp_connection(
    connect_opts: &[(i32, c_int)],
    bind_opts: &[(i32, c_int)],
    check: impl FnOnce(c_int, c_int),
) {
    let ctx = Ctx::new();
    let pull = ctx.socket(zmq_sys::ZMQ_PULL);
    let push = ctx.socket(zmq_sys::ZMQ_PUSH);
    for &(option, value) in bind_opts {
        pull.set(option, value);
    }
    for &(option, value) in connect_opts {
        push.set(option, value);
    }
    pull.bind("tcp://127.0.0.1:*");
    let endpoint = pull.last_endpoint();
    push.connect(&endpoint);
    // Once a message got through, both ends are connected and tuned.
    exchange(&push, &pull, b"tuned");
    let (connected, accepted) = tcp_connection_fds(port_of(&endpoint));
    check(connected, accepted);
}

fn assert_keepalive(fd: c_int, cnt: c_int, idle: c_int, intvl: c_int) {
    assert_eq!(
        sockopt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        1,
        "SO_KEEPALIVE"
    );
    assert_eq!(
        sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT),
        cnt,
        "TCP_KEEPCNT"
    );
    assert_eq!(
        sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        idle,
        "TCP_KEEPIDLE"
    );
    assert_eq!(
        sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
        intvl,
        "TCP_KEEPINTVL"
    );
}

#[test]
fn platform_defines_were_passed() {
    let Some(_serial) = serial() else { return };
    let passed: BTreeSet<&str> = zmq_sys::VENDORED_PLATFORM
        .split(',')
        .map(|d| d.split('=').next().unwrap_or(d).trim())
        .collect();
    let expected = [
        "ZMQ_HAVE_EVENTFD",
        "ZMQ_HAVE_SO_KEEPALIVE",
        "ZMQ_HAVE_TCP_KEEPCNT",
        "ZMQ_HAVE_TCP_KEEPIDLE",
        "ZMQ_HAVE_TCP_KEEPINTVL",
        "ZMQ_IOTHREAD_POLLER_USE_EPOLL_CLOEXEC",
        "ZMQ_HAVE_SOCK_CLOEXEC",
        "HAVE_ACCEPT4",
        "ZMQ_HAVE_IFADDRS",
        "ZMQ_HAVE_SO_PEERCRED",
    ];
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|d| !passed.contains(d))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from VENDORED_PLATFORM {:?}: {missing:?}",
        zmq_sys::VENDORED_PLATFORM
    );
}

#[test]
fn tcp_keepalive_reaches_the_kernel() {
    let Some(_serial) = serial() else { return };
    let keepalive = |cnt, idle, intvl| {
        [
            (zmq_sys::ZMQ_TCP_KEEPALIVE, 1),
            (zmq_sys::ZMQ_TCP_KEEPALIVE_CNT, cnt),
            (zmq_sys::ZMQ_TCP_KEEPALIVE_IDLE, idle),
            (zmq_sys::ZMQ_TCP_KEEPALIVE_INTVL, intvl),
        ]
    };
    with_tcp_connection(
        &keepalive(7, 33, 11),
        &keepalive(5, 44, 13),
        |connected, accepted| {
            assert_keepalive(connected, 7, 33, 11);
            assert_keepalive(accepted, 5, 44, 13);
        },
    );
}

#[test]
fn tcp_maxrt_sets_tcp_user_timeout() {
    let Some(_serial) = serial() else { return };
    let connect_opts = [(zmq_sys::ZMQ_TCP_MAXRT, 4321)];
    let bind_opts = [(zmq_sys::ZMQ_TCP_MAXRT, 1234)];
    with_tcp_connection(&connect_opts, &bind_opts, |connected, accepted| {
        let user_timeout = |fd| sockopt(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT);
        assert_eq!(
            user_timeout(connected),
            4321,
            "TCP_USER_TIMEOUT of the connected socket"
        );
        assert_eq!(
            user_timeout(accepted),
            1234,
            "TCP_USER_TIMEOUT of the accepted socket"
        );
    });
}

#[test]
fn signaler_uses_eventfd() {
    let Some(_serial) = serial() else { return };
    let eventfd = "anon_inode:[eventfd]";
    let before = count_links(eventfd);
    let ctx = Ctx::new();
    let _sock = ctx.socket(zmq_sys::ZMQ_PUSH);
    let after = count_links(eventfd);
    assert!(
        after > before,
        "no eventfd created by libzmq ({before} before, {after} after)"
    );
}

#[test]
fn descriptors_are_close_on_exec() {
    let Some(_serial) = serial() else { return };
    let before = open_fds();
    let ipc = IpcPath::new();
    let ctx = Ctx::new();
    let pull = ctx.socket(zmq_sys::ZMQ_PULL);
    let push_tcp = ctx.socket(zmq_sys::ZMQ_PUSH);
    let push_ipc = ctx.socket(zmq_sys::ZMQ_PUSH);
    pull.bind("tcp://127.0.0.1:*");
    push_tcp.connect(&pull.last_endpoint());
    pull.bind(&ipc.endpoint());
    push_ipc.connect(&ipc.endpoint());
    exchange(&push_tcp, &pull, b"over tcp");
    exchange(&push_ipc, &pull, b"over ipc");

    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut inheritable = Vec::new();
    for (fd, target) in open_fds() {
        if before.get(&fd) == Some(&target) {
            continue;
        }
        let kind = match target.strip_prefix("anon_inode:") {
            Some(anon) => anon.to_owned(),
            None if target.starts_with("socket:") => {
                let domain = match sockopt(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) {
                    libc::AF_INET => "tcp",
                    libc::AF_UNIX => "ipc",
                    _ => "other",
                };
                let listening = sockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) != 0;
                format!("{domain} {}", if listening { "listener" } else { "stream" })
            }
            None => target.clone(),
        };
        // SAFETY: F_GETFD only reads the descriptor's flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(
            flags >= 0,
            "fcntl({fd}, F_GETFD): {}",
            io::Error::last_os_error()
        );
        if flags & libc::FD_CLOEXEC == 0 {
            inheritable.push(format!("{fd} -> {target} ({kind})"));
        }
        *kinds.entry(kind).or_default() += 1;
    }
    assert!(
        inheritable.is_empty(),
        "descriptors without FD_CLOEXEC: {inheritable:?}"
    );
    let expected = [
        ("[eventpoll]", 1),
        ("[eventfd]", 1),
        ("tcp listener", 1),
        ("tcp stream", 2),
        ("ipc listener", 1),
        ("ipc stream", 2),
    ];
    for (kind, at_least) in expected {
        let seen = kinds.get(kind).copied().unwrap_or(0);
        assert!(
            seen >= at_least,
            "expected {at_least}+ new {kind} descriptors: {kinds:?}"
        );
    }
}

#[test]
fn bind_to_interface_name() {
    let Some(_serial) = serial() else { return };
    let ctx = Ctx::new();
    let pull = ctx.socket(zmq_sys::ZMQ_PULL);
    let push = ctx.socket(zmq_sys::ZMQ_PUSH);
    pull.bind("tcp://lo:*");
    let endpoint = pull.last_endpoint();
    assert!(
        endpoint.starts_with("tcp://127.0.0.1:"),
        "lo resolved to {endpoint}"
    );
    push.connect(&endpoint);
    exchange(&push, &pull, b"via lo");
}

#[test]
fn ipc_uid_filter() {
    let Some(_serial) = serial() else { return };
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() };
    let ctx = Ctx::new();

    // A uid that is not ours: the listener drops our connection at accept.
    let other = uid.wrapping_add(12345) as c_int;
    let denied = IpcPath::new();
    let pull = ctx.socket(zmq_sys::ZMQ_PULL);
    let result = pull.try_set(zmq_sys::ZMQ_IPC_FILTER_UID, other);
    assert_eq!(
        result,
        Ok(()),
        "ZMQ_IPC_FILTER_UID (needs ZMQ_HAVE_SO_PEERCRED)"
    );
    let monitor = pull.monitor(zmq_sys::ZMQ_EVENT_ACCEPT_FAILED);
    pull.bind(&denied.endpoint());
    let push = ctx.socket(zmq_sys::ZMQ_PUSH);
    push.connect(&denied.endpoint());
    push.send(b"denied");
    assert_eq!(
        monitor.next_event(),
        Some(zmq_sys::ZMQ_EVENT_ACCEPT_FAILED),
        "the filter did not reject the connection"
    );
    assert!(
        !pull.poll_in(ABSENT_MS),
        "a message passed a uid filter without our uid"
    );

    // Our own uid: the message passes.
    let allowed = IpcPath::new();
    let pull = ctx.socket(zmq_sys::ZMQ_PULL);
    pull.set(zmq_sys::ZMQ_IPC_FILTER_UID, uid as c_int);
    pull.bind(&allowed.endpoint());
    let push = ctx.socket(zmq_sys::ZMQ_PUSH);
    push.connect(&allowed.endpoint());
    exchange(&push, &pull, b"allowed");
}
