//! pyzmq parity of the core (issue 19): writable message buffers sent
//! without a copy, per-socket copy threshold, what a `Poller` holds, and
//! message properties whose value may be `-1`.

mod common;

use common::{inproc, socket};
use zmqx::{Context, Message, MessageOption, PollEvents, PollTarget, Poller, Result, SocketType};

/// A pair of connected PAIR sockets over inproc.
fn pair(ctx: &Context) -> Result<(zmqx::Socket, zmqx::Socket)> {
    let a = socket(ctx, SocketType::Pair)?;
    let b = socket(ctx, SocketType::Pair)?;
    let ep = inproc("parity");
    a.bind(&ep)?;
    b.connect(&ep)?;
    Ok((a, b))
}

/// pyzmq's writable `Frame.buffer`: a message filled in place is sent
/// without a copy (over inproc the receiver gets the very same buffer).
#[test]
fn writable_message_is_sent_without_a_copy() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair(&ctx)?;
    let mut m = Message::with_size(100_000);
    assert!(m.iter().all(|&x| x == 0), "zeroed, never uninitialised");
    let buf = m.as_mut_slice().expect("a new message is writable");
    for (i, x) in buf.iter_mut().enumerate() {
        *x = i as u8;
    }
    let ptr = buf.as_ptr();
    a.send(m)?;
    let mut got = b.recv_msg()?;
    assert_eq!(got.len(), 100_000);
    assert!(got.iter().enumerate().all(|(i, &x)| x == i as u8));
    assert_eq!(got.as_ptr(), ptr, "the buffer travelled, it was not copied");
    // A received message is not writable (its bytes are libzmq's).
    assert!(!got.is_writable());
    assert!(got.as_mut_slice().is_none());
    Ok(())
}

#[test]
fn only_unshared_libzmq_buffers_are_writable() {
    // Large: a clone shares the buffer, so neither may be written.
    let mut big = Message::with_size(1000);
    assert!(big.is_writable());
    let clone = big.clone();
    assert!(big.as_mut_slice().is_none());
    assert!(!clone.is_writable());
    // Small: a clone copies the bytes, so both stay writable and separate.
    let mut small = Message::from_slice(b"abc");
    let mut small_clone = small.clone();
    small.as_mut_slice().expect("writable")[0] = b'x';
    small_clone.as_mut_slice().expect("writable")[0] = b'y';
    assert_eq!(small, "xbc");
    assert_eq!(small_clone, "ybc");
    // Zero-copy and static buffers belong to someone else.
    let shared = bytes::Bytes::from(vec![1u8; 100_000]);
    let mut zero_copy = Message::from_owned_zero_copy(shared.clone());
    assert!(zero_copy.as_mut_slice().is_none());
    assert!(Message::from_static(b"static").as_mut_slice().is_none());
    assert!(shared.iter().all(|&x| x == 1));
    // Empty is writable (and empty).
    assert_eq!(Message::with_size(0).as_mut_slice(), Some(&mut [][..]));
}

/// pyzmq's `socket.copy_threshold`: the socket's value overrides the
/// process-wide one for its sends. Over inproc, a zero-copy send hands the
/// receiver the sender's own buffer; a copy does not.
#[test]
fn per_socket_copy_threshold() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair(&ctx)?;
    let send = |v: Vec<u8>| -> Result<bool> {
        let ptr = v.as_ptr();
        a.send(v)?;
        Ok(b.recv_msg()?.as_ptr() == ptr)
    };
    assert_eq!(a.copy_threshold(), zmqx::copy_threshold());
    // 1000 bytes is below the process-wide 64 KiB: copied...
    assert!(!send(vec![1; 1000])?);
    // ...unless this socket says otherwise.
    a.set_copy_threshold(Some(0));
    assert_eq!(a.copy_threshold(), 0);
    assert!(
        send(vec![2; 1000])?,
        "zero-copy with the socket's threshold 0"
    );
    // And the other way: 100 000 bytes is above 64 KiB but copied here.
    a.set_copy_threshold(Some(usize::MAX));
    assert!(!send(vec![3; 100_000])?);
    // `None` follows the process-wide value again.
    a.set_copy_threshold(None);
    assert_eq!(a.copy_threshold(), zmqx::copy_threshold());
    assert!(send(vec![4; 100_000])?);
    // Another socket was never affected.
    let (c, _d) = pair(&ctx)?;
    assert_eq!(c.copy_threshold(), zmqx::copy_threshold());
    Ok(())
}

/// pyzmq's `Poller.sockets`: what is registered, with its events.
#[test]
fn poller_lists_what_it_holds() -> Result<()> {
    let ctx = Context::new();
    let (a, b) = pair(&ctx)?;
    let mut poller = Poller::new();
    assert_eq!(poller.sockets().len(), 0);
    poller.register(&a, PollEvents::POLLIN);
    poller.register(&b, PollEvents::POLLIN | PollEvents::POLLOUT);
    poller.register(0, PollEvents::POLLIN);
    let held: Vec<(PollTarget<'_>, PollEvents)> = poller.sockets().collect();
    assert_eq!(
        held,
        [
            (PollTarget::Socket(&a), PollEvents::POLLIN),
            (
                PollTarget::Socket(&b),
                PollEvents::POLLIN | PollEvents::POLLOUT
            ),
            (PollTarget::Fd(0), PollEvents::POLLIN),
        ]
    );
    poller.modify(&b, PollEvents::POLLOUT);
    assert_eq!(poller.events(&b), Some(PollEvents::POLLOUT));
    poller.unregister(&a);
    assert_eq!(poller.events(&a), None);
    assert_eq!(poller.sockets().len(), 2);
    // The poller still works with what it holds.
    let ready = poller.poll(Some(common::TIMEOUT))?;
    assert!(ready.contains(&(PollTarget::Socket(&b), PollEvents::POLLOUT)));
    Ok(())
}

/// `ZMQ_SRCFD` is `-1` when unknown, which libzmq returns without setting
/// errno: a value, not an error with a stale errno.
#[test]
fn srcfd_minus_one_is_a_value() -> Result<()> {
    let ctx = Context::new();
    // Leave a stale errno (EINVAL) behind.
    assert!(ctx.set_io_threads(-1).is_err());
    let m = Message::from("x");
    assert_eq!(m.get(MessageOption::SrcFd)?, -1);
    assert_eq!(m.get(MessageOption::More)?, 0);
    Ok(())
}
