//! Message and tracker tests: the Rust equivalents of pyzmq's
//! `test_message.py`, plus zero-copy ownership, metadata, the copy threshold
//! and the tracker's waker hook.
//!
//! pyzmq tests skipped, and why:
//! - `test_bytes`' "copies only once" and `test_buffer_out`'s identity
//!   checks: Python object caching; a `Message` derefs to its bytes without
//!   copying at all (checked in `deref_reads_in_place`).
//! - `test_bad_buffer_in`, `test_buffer_in`, `test_memoryview_shape`,
//!   `test_noncopying_memoryview`: the buffer protocol; Rust's type system
//!   and `Deref<Target = [u8]>` cover them (`noncopying_recv` checks the
//!   clobbering part).
//! - `test_no_tracker`: a `Message` has no optional tracker attribute; an
//!   untracked message has no tracker to ask (a fresh `MessageTracker` is
//!   done, checked in `tracker_basics`).
//! - `test_buffer_numpy`: no numpy.
//! - `test_above_30`'s, `test_lifecycle1`'s and `test_lifecycle2`'s Python
//!   reference counts are replaced by `Arc::strong_count` on the owner.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Wake, Waker};
use std::time::Duration;

use common::{TIMEOUT, bind_tcp, inproc, socket};
use zmqx::{
    Context, DEFAULT_COPY_THRESHOLD, Error, Message, MessageOption, MessageTracker, Result, Socket,
    SocketType,
};

fn inproc_pair(ctx: &Context) -> Result<(Socket, Socket)> {
    let a = socket(ctx, SocketType::Pair)?;
    let b = socket(ctx, SocketType::Pair)?;
    let ep = inproc("message");
    a.bind(&ep)?;
    b.connect(&ep)?;
    Ok((a, b))
}

/// Owned bytes whose drop is observable.
struct Owned {
    bytes: Vec<u8>,
    dropped: Arc<AtomicBool>,
}

impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn zero_copy_holds_the_owner_until_released() {
    // pyzmq: test_above_30, with Arc counts instead of Python refcounts.
    for i in 5..16 {
        let data: Arc<[u8]> = vec![b'x'; 1 << i].into();
        assert_eq!(Arc::strong_count(&data), 1);
        let m = Message::from_owned_zero_copy(data.clone());
        assert_eq!(Arc::strong_count(&data), 2);
        assert_eq!(m.as_ptr(), data.as_ptr(), "no copy");
        drop(m);
        assert_eq!(Arc::strong_count(&data), 1);
    }
}

#[test]
fn lifecycle_with_clones() {
    // pyzmq: test_lifecycle1, test_lifecycle2. Cloning shares libzmq's
    // buffer: the owner is held once, however many clones exist.
    for i in 5..16 {
        let data: Arc<[u8]> = vec![b'x'; 1 << i].into();
        let m = Message::from_owned_zero_copy(data.clone());
        let m2 = m.clone();
        assert_eq!(Arc::strong_count(&data), 2);
        assert_eq!(&m2[..], &data[..]);
        assert_eq!(m2.as_ptr(), data.as_ptr());
        assert!(m.is_shared() && m2.is_shared());
        // Either order of release.
        if i % 2 == 0 {
            drop(m2);
            assert_eq!(Arc::strong_count(&data), 2);
            drop(m);
        } else {
            drop(m);
            assert_eq!(Arc::strong_count(&data), 2);
            drop(m2);
        }
        assert_eq!(Arc::strong_count(&data), 1);
    }
}

#[test]
fn debug_format() {
    // pyzmq: test_str
    assert_eq!(format!("{:?}", Message::from("")), "Message(\"\")");
    assert_eq!(
        format!("{:?}", Message::from("123456789")),
        "Message(\"123456789\")"
    );
    let long = format!("{:?}", Message::from(vec![b'x'; 2000]));
    assert!(long.starts_with("Message(\"xxxx"), "{long}");
    assert!(long.ends_with("… 2000 bytes)"), "{long}");
    assert!(long.len() < 100, "{long}");
}

#[test]
fn bytes_len_and_text() {
    // pyzmq: test_bytes, test_len, test_unicode
    for i in 0..16 {
        let s = vec![b'x'; 1 << i];
        let m = Message::from(&s[..]);
        assert_eq!(m.len(), s.len());
        assert_eq!(m.to_vec(), s);
        assert_eq!(Vec::from(m.clone()), s);
        let text = "§".repeat(1 << i);
        let m = Message::from(text.as_str());
        assert_eq!(m.as_str(), Some(text.as_str()));
    }
    assert!(Message::new().is_empty());
    assert_eq!(Message::from(&[0xffu8, 0xfe][..]).as_str(), None);
}

#[test]
fn deref_reads_in_place() {
    // pyzmq: test_buffer_out, test_memoryview
    let data = "§§¶•ªº˜µ¬˚…∆˙åß∂©œ∑´†≈ç√".as_bytes();
    let m = Message::from(data);
    let a: &[u8] = &m;
    let b: &[u8] = m.as_ref();
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert_eq!(m.as_bytes(), data);
    assert_eq!(m, data);
    assert_eq!(m, Message::from(data.to_vec()));
}

#[test]
fn zero_copy_sources() {
    // Every owned source is handed over without a copy.
    let v = vec![1u8; 100];
    let ptr = v.as_ptr();
    assert_eq!(Message::from_owned_zero_copy(v).as_ptr(), ptr);

    let b: Box<[u8]> = vec![2u8; 100].into_boxed_slice();
    let ptr = b.as_ptr();
    assert_eq!(Message::from_owned_zero_copy(b).as_ptr(), ptr);

    let bytes = bytes::Bytes::from(vec![3u8; 100]);
    let ptr = bytes.as_ptr();
    let m = Message::from_owned_zero_copy(bytes.clone());
    assert_eq!(m.as_ptr(), ptr);
    drop(bytes);
    assert!(
        m.iter().all(|&x| x == 3),
        "the message keeps the buffer alive"
    );

    static STATIC: &[u8] = b"static bytes, never copied nor freed";
    let m = Message::from_static(STATIC);
    assert_eq!(m.as_ptr(), STATIC.as_ptr());
    let clone = m.clone();
    drop(m);
    assert_eq!(clone, STATIC);

    let s = String::from("a string of more than thirty-three bytes");
    let ptr = s.as_ptr();
    assert_eq!(Message::from_owned_zero_copy(s).as_ptr(), ptr);
}

#[test]
fn copy_threshold() {
    // The only test here that changes the process-wide threshold; the
    // others use explicit constructors.
    assert_eq!(zmqx::copy_threshold(), DEFAULT_COPY_THRESHOLD);
    assert_eq!(DEFAULT_COPY_THRESHOLD, 64 * 1024);
    let small = vec![0u8; DEFAULT_COPY_THRESHOLD - 1];
    let ptr = small.as_ptr();
    assert_ne!(
        Message::from_owned(small).as_ptr(),
        ptr,
        "small data is copied"
    );
    let big = vec![0u8; DEFAULT_COPY_THRESHOLD];
    let ptr = big.as_ptr();
    assert_eq!(Message::from(big).as_ptr(), ptr, "large data is not");

    zmqx::set_copy_threshold(16);
    let v = vec![0u8; 64];
    let ptr = v.as_ptr();
    assert_eq!(Message::from_owned(v).as_ptr(), ptr);
    zmqx::set_copy_threshold(usize::MAX);
    let v = vec![0u8; 1 << 20];
    let ptr = v.as_ptr();
    assert_ne!(Message::from_owned(v).as_ptr(), ptr);
    zmqx::set_copy_threshold(DEFAULT_COPY_THRESHOLD);
}

#[test]
fn owner_dropped_after_inproc_delivery() -> Result<()> {
    // inproc passes the very buffer to the receiver: the owner lives until
    // the received message is dropped.
    let ctx = Context::new();
    let (a, b) = inproc_pair(&ctx)?;
    let dropped = Arc::new(AtomicBool::new(false));
    let owned = Owned {
        bytes: vec![7u8; 1000],
        dropped: dropped.clone(),
    };
    let ptr = owned.bytes.as_ptr();
    a.send(Message::from_owned_zero_copy(owned))?;
    let got = b.recv_msg()?;
    assert_eq!(got.as_ptr(), ptr, "received without a copy");
    assert!(!dropped.load(Ordering::SeqCst));
    drop(got);
    assert!(dropped.load(Ordering::SeqCst));
    Ok(())
}

#[test]
fn owner_dropped_after_tcp_send_even_if_it_panics() -> Result<()> {
    // Over TCP libzmq releases the buffer on its I/O thread once written;
    // a panicking Drop there must not unwind into C.
    struct Bomb(Vec<u8>);
    impl AsRef<[u8]> for Bomb {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("dropping this buffer panics");
        }
    }
    let ctx = Context::new();
    let a = socket(&ctx, SocketType::Push)?;
    let ep = bind_tcp(&a)?;
    let b = socket(&ctx, SocketType::Pull)?;
    b.connect(&ep)?;
    let tracker = MessageTracker::new();
    a.send(Message::with_tracker(Bomb(vec![1u8; 100_000]), &tracker))?;
    let got = b.recv_msg()?;
    assert_eq!(got.len(), 100_000);
    tracker.wait(Some(TIMEOUT))?;
    // The process and the sockets are fine.
    a.send("after")?;
    assert_eq!(b.recv_string()?, "after");

    let dropped = Arc::new(AtomicBool::new(false));
    let tracker = MessageTracker::new();
    let owned = Owned {
        bytes: vec![9u8; 100_000],
        dropped: dropped.clone(),
    };
    a.send(Message::with_tracker(owned, &tracker))?;
    tracker.wait(Some(TIMEOUT))?;
    assert!(
        dropped.load(Ordering::SeqCst),
        "dropped before the tracker fired"
    );
    assert_eq!(b.recv_msg()?.len(), 100_000);
    Ok(())
}

#[test]
fn tracker_basics() -> Result<()> {
    // pyzmq: test_tracker, test_no_tracker (a fresh tracker is done)
    assert!(MessageTracker::new().done());
    MessageTracker::new().wait(Some(Duration::ZERO))?;
    let (m, tracker) = Message::tracked(b"asdf".to_vec());
    assert!(!tracker.done());
    assert_eq!(tracker.pending(), 1);
    let clone = tracker.clone();
    drop(m);
    assert!(tracker.done() && clone.done());
    tracker.wait(None)?;
    Ok(())
}

#[test]
fn one_tracker_for_several_messages() {
    // pyzmq: test_multi_tracker
    let tracker = MessageTracker::new();
    let m = Message::with_tracker(b"asdf".to_vec(), &tracker);
    let m2 = Message::with_tracker(b"whoda".to_vec(), &tracker);
    assert!(!tracker.done());
    let short = Some(Duration::from_millis(100));
    assert!(matches!(tracker.wait(short), Err(Error::NotDone)));
    drop(m);
    assert!(matches!(tracker.wait(short), Err(Error::NotDone)));
    assert!(!tracker.done());
    drop(m2);
    assert!(tracker.wait(short).is_ok());
    assert!(tracker.done());
    let io: std::io::Error = Error::NotDone.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn tracker_wait_wakes_on_release_from_another_thread() -> Result<()> {
    let (m, tracker) = Message::tracked(vec![0u8; 10]);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let releaser = std::thread::spawn(move || {
        rx.recv().expect("go");
        drop(m);
    });
    tx.send(()).expect("go");
    tracker.wait(Some(TIMEOUT))?;
    releaser.join().expect("thread");
    Ok(())
}

#[test]
fn tracker_waker_hook() {
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let (m, tracker) = Message::tracked(vec![0u8; 10]);
    assert!(!tracker.register_waker(&waker));
    // Registering the same waker twice keeps one.
    assert!(!tracker.register_waker(&waker));
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    drop(m);
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken exactly once");
    // Already done: not kept, reported at once.
    assert!(tracker.register_waker(&waker));
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn message_survives_repeated_sends() -> Result<()> {
    // pyzmq: test_multisend
    let ctx = Context::new();
    let (a, b) = inproc_pair(&ctx)?;
    let s = b"message";
    let m = Message::from(&s[..]);
    a.send(&m)?;
    assert_eq!(m, &s[..]);
    a.send(&m)?;
    let mut copy = m.clone();
    a.send(&mut copy)?;
    assert!(copy.is_empty(), "a sent &mut Message is emptied");
    a.send(m.clone())?;
    for _ in 0..4 {
        assert_eq!(b.recv_bytes()?, s);
    }
    assert_eq!(m, &s[..]);
    Ok(())
}

#[test]
fn noncopying_recv() -> Result<()> {
    // pyzmq: test_noncopying_recv. Received messages keep their bytes while
    // later ones arrive (small ones are stored inline in zmq_msg_t).
    let ctx = Context::new();
    let (sa, sb) = inproc_pair(&ctx)?;
    let null = [0u8; 64];
    for _ in 0..32 {
        sb.send(&null[..])?;
        let m = sa.recv_msg()?;
        let mut later = Vec::new();
        for i in 0..5 {
            let ff = vec![0xffu8; 40 + i * 10];
            sb.send(&ff)?;
            let m2 = sa.recv_msg()?;
            assert_eq!(m, &null[..]);
            assert_eq!(m2, &ff[..]);
            later.push(m2);
        }
        // Moving messages around keeps their bytes.
        let moved: Vec<Message> = later.into_iter().rev().collect();
        for (i, m2) in moved.iter().rev().enumerate() {
            assert_eq!(m2.len(), 40 + i * 10);
        }
    }
    Ok(())
}

#[test]
fn more_flag() -> Result<()> {
    // pyzmq: test_frame_more
    assert!(!Message::from("hello").more());
    let ctx = Context::new();
    let (sa, sb) = inproc_pair(&ctx)?;
    sa.send_multipart(["hi", "there"])?;
    let first = sb.recv_msg()?;
    assert!(first.more());
    assert_eq!(first.get(MessageOption::More)?, 1);
    assert!(sb.rcvmore()?);
    let second = sb.recv_msg()?;
    assert!(!second.more());
    assert_eq!(second.get(MessageOption::More)?, 0);
    assert!(!sb.rcvmore()?);
    Ok(())
}

#[test]
fn metadata_of_a_tcp_message() -> Result<()> {
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::Router)?;
    let ep = bind_tcp(&server)?;
    let client = socket(&ctx, SocketType::Dealer)?;
    client.set_routing_id("client-7")?;
    client.connect(&ep)?;
    client.send("hello")?;
    let parts = server.recv_multipart()?;
    let body = &parts[1];
    assert_eq!(body, "hello");
    assert_eq!(body.gets("Socket-Type")?.as_deref(), Some("DEALER"));
    assert_eq!(body.gets("Peer-Address")?.as_deref(), Some("127.0.0.1"));
    assert_eq!(body.gets("Routing-Id")?.as_deref(), Some("client-7"));
    assert_eq!(body.gets("Identity")?.as_deref(), Some("client-7"));
    // No ZAP handler, so no user id; unknown names are absent too.
    assert_eq!(body.gets("User-Id")?, None);
    assert_eq!(body.gets("X-No-Such-Property")?, None);
    assert_eq!(body.gets("Socket-Type\0")?, None);
    // A message made locally has no metadata.
    assert_eq!(Message::from("x").gets("Socket-Type")?, None);
    Ok(())
}

/// A ZAP handler (RFC 27) bound at `inproc://zeromq.zap.01`.
fn zap_handler(ctx: &Context) -> Result<Socket> {
    let zap = socket(ctx, SocketType::Rep)?;
    zap.bind("inproc://zeromq.zap.01")?;
    Ok(zap)
}

/// Answers one ZAP request: accepts `admin`/`secret` as user `alice` with an
/// `X-Team` property.
fn serve_one_zap_request(zap: &Socket) -> Result<Vec<Vec<u8>>> {
    let request = zap.recv_multipart_bytes()?;
    let ok = request[5] == b"PLAIN" && request[6] == b"admin" && request[7] == b"secret";
    // ZMTP property list: 1-byte name length, name, 4-byte value length, value.
    let mut metadata = vec![6u8];
    metadata.extend_from_slice(b"X-Team");
    metadata.extend_from_slice(&4u32.to_be_bytes());
    metadata.extend_from_slice(b"blue");
    let status: &[u8] = if ok { b"200" } else { b"400" };
    zap.send_multipart([&b"1.0"[..], &request[1], status, b"OK", b"alice", &metadata])?;
    Ok(request)
}

#[test]
fn user_id_and_properties_from_zap() -> Result<()> {
    // Its own context: the ZAP endpoint is per context.
    let ctx = Context::new();
    let zap = zap_handler(&ctx)?;
    let server = socket(&ctx, SocketType::Pull)?;
    server.set_plain_server(true)?;
    server.set_zap_domain("test")?;
    let ep = bind_tcp(&server)?;
    let client = socket(&ctx, SocketType::Push)?;
    client.set_plain_username("admin")?;
    client.set_plain_password("secret")?;
    client.connect(&ep)?;
    client.send("authenticated")?;
    let request = serve_one_zap_request(&zap)?;
    assert_eq!(request[0], b"1.0");
    assert_eq!(request[2], b"test");
    let m = server.recv_msg()?;
    assert_eq!(m, "authenticated");
    assert_eq!(m.gets("User-Id")?.as_deref(), Some("alice"));
    assert_eq!(m.gets("X-Team")?.as_deref(), Some("blue"));
    assert_eq!(m.gets("Socket-Type")?.as_deref(), Some("PUSH"));
    Ok(())
}
