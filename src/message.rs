//! [`Message`]: the owner of a `zmq_msg_t` (pyzmq's `Frame`).

use std::ffi::{CStr, CString, c_void};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::constants::MessageOption;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::tracker::{MessageTracker, TrackerGuard};

/// Below this many bytes, owned data is copied into the message instead of
/// handed over (pyzmq's `zmq.COPY_THRESHOLD`, 64 KiB): zero-copy costs a free
/// callback from libzmq's I/O thread, which is dearer than copying small data.
pub const DEFAULT_COPY_THRESHOLD: usize = 65536;

static COPY_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_COPY_THRESHOLD);

/// The current copy threshold (see [`DEFAULT_COPY_THRESHOLD`]).
pub fn copy_threshold() -> usize {
    COPY_THRESHOLD.load(Ordering::Relaxed)
}

/// Changes the copy threshold for the whole process. `0` makes every owned
/// buffer zero-copy; `usize::MAX` copies everything.
pub fn set_copy_threshold(bytes: usize) {
    COPY_THRESHOLD.store(bytes, Ordering::Relaxed);
}

/// A [`Socket`]'s copy threshold when it has none of its own: it follows
/// the process-wide one.
const FOLLOW_PROCESS: usize = usize::MAX;

/// The copy threshold a new socket starts with: the process-wide one.
pub(crate) fn follow_process_copy_threshold() -> AtomicUsize {
    AtomicUsize::new(FOLLOW_PROCESS)
}

impl Socket {
    /// The copy threshold of sends on this socket (pyzmq's
    /// `socket.copy_threshold`): owned buffers (`Vec<u8>`, `String`,
    /// `Box<[u8]>`, `bytes::Bytes`) of at least this many bytes are handed
    /// to libzmq without copying, smaller ones are copied. This socket's own
    /// value if [`set_copy_threshold`](Socket::set_copy_threshold) gave one,
    /// the process-wide [`copy_threshold`] otherwise.
    pub fn copy_threshold(&self) -> usize {
        match self.copy_threshold.load(Ordering::Relaxed) {
            FOLLOW_PROCESS => copy_threshold(),
            own => own,
        }
    }

    /// Sets this socket's copy threshold (see
    /// [`copy_threshold`](Socket::copy_threshold)), overriding the
    /// process-wide one for sends on this socket: `Some(0)` makes every owned
    /// buffer zero-copy, `Some(usize::MAX)` copies everything, `None` follows
    /// the process-wide value again ([`set_copy_threshold`]).
    ///
    /// It applies to what [`Socket::send`] and its multipart forms convert
    /// themselves; a [`Message`] built beforehand ([`Message::from_owned`],
    /// `Message::from(vec)`) was already made with the process-wide value.
    pub fn set_copy_threshold(&self, bytes: Option<usize>) {
        // usize::MAX is the "none" marker; as a threshold it means "copy
        // everything", as does usize::MAX - 1 (no buffer is that large).
        let stored = bytes.map_or(FOLLOW_PROCESS, |b| b.min(usize::MAX - 1));
        self.copy_threshold.store(stored, Ordering::Relaxed);
    }

    /// The threshold the send path uses.
    #[inline]
    pub(crate) fn effective_copy_threshold(&self) -> usize {
        self.copy_threshold()
    }
}

/// One message part (`zmq_msg_t`), pyzmq's `Frame`.
///
/// It derefs to `[u8]`. Cloning shares the buffer (`zmq_msg_copy`), it does
/// not copy the bytes. Owned buffers of at least [`copy_threshold`] bytes are
/// handed to libzmq without copying ([`Message::from_owned`]), and dropped
/// when libzmq is done with them.
///
/// `Message` is `Send` but not `Sync`: libzmq updates a shared buffer's flags
/// when a message is cloned.
///
/// ```
/// let m = zmqx::Message::from("hello");
/// assert_eq!(&m[..], b"hello");
/// assert_eq!(m.len(), 5);
/// ```
pub struct Message {
    /// libzmq's message. It may be moved freely: libzmq keeps no pointer into
    /// it, and we take the data pointer afresh on every access because small
    /// messages store their bytes inline.
    raw: zmq_sys::zmq_msg_t,
    /// Whether libzmq allocated the bytes for this message alone
    /// (`zmq_msg_init_size`: [`Message::with_size`], [`Message::from_slice`]),
    /// so they may be written while the buffer is not shared. False for
    /// zero-copy messages (the bytes belong to a Rust owner, maybe shared on
    /// the Rust side, or static) and for anything libzmq filled
    /// (received messages: every path to `zmq_msg_recv` goes through
    /// [`Message::as_raw_mut`], which clears it).
    writable: bool,
}

// SAFETY: a zmq_msg_t is a plain value whose shared buffers use atomic
// reference counts; libzmq allows moving messages between threads.
unsafe impl Send for Message {}

impl Message {
    /// An empty message (`zmq_msg_init`).
    pub fn new() -> Message {
        let mut raw = zmq_sys::zmq_msg_t::default();
        // SAFETY: raw is writable; zmq_msg_init cannot fail.
        unsafe { zmq_sys::zmq_msg_init(&mut raw) };
        Message {
            raw,
            writable: false,
        }
    }

    /// A message of `len` zero bytes that can be filled in place with
    /// [`as_mut_slice`](Message::as_mut_slice), then sent without a copy
    /// (pyzmq's writable `Frame.buffer`). libzmq allocates the buffer
    /// (`zmq_msg_init_size`); zmqx zeroes it, so no uninitialised byte is
    /// ever exposed.
    ///
    /// ```
    /// let mut m = zmqx::Message::with_size(5);
    /// m.as_mut_slice().expect("a new message is writable").copy_from_slice(b"hello");
    /// assert_eq!(m, "hello");
    /// ```
    pub fn with_size(len: usize) -> Message {
        let mut m = Message::alloc(len);
        if len > 0 {
            // SAFETY: the message owns exactly `len` writable bytes at
            // zmq_msg_data.
            unsafe {
                std::ptr::write_bytes(zmq_sys::zmq_msg_data(&mut m.raw).cast::<u8>(), 0, len)
            };
        }
        m
    }

    /// A message of `len` bytes allocated by libzmq (`zmq_msg_init_size`),
    /// not yet initialised: every caller writes all of them at once.
    fn alloc(len: usize) -> Message {
        let mut raw = zmq_sys::zmq_msg_t::default();
        // SAFETY: raw is writable; on success it owns `len` bytes.
        let rc = unsafe { zmq_sys::zmq_msg_init_size(&mut raw, len) };
        if rc != 0 {
            // Only ENOMEM is possible; follow the standard library's policy.
            std::alloc::handle_alloc_error(
                std::alloc::Layout::array::<u8>(len).unwrap_or(std::alloc::Layout::new::<u8>()),
            );
        }
        Message {
            raw,
            writable: true,
        }
    }

    /// Whether the bytes can be written in place now
    /// ([`as_mut_slice`](Message::as_mut_slice) gives `Some`): the message
    /// was made by [`with_size`](Message::with_size) or
    /// [`from_slice`](Message::from_slice) (libzmq allocated its buffer) and
    /// the buffer is not shared with a clone. Received and zero-copy
    /// messages are not writable.
    pub fn is_writable(&self) -> bool {
        self.writable && !self.is_shared()
    }

    /// The bytes, writable, when the message is uniquely owned
    /// ([`is_writable`](Message::is_writable)); `None` otherwise. Writing
    /// here and then sending the message copies nothing.
    pub fn as_mut_slice(&mut self) -> Option<&mut [u8]> {
        if !self.is_writable() {
            return None;
        }
        let len = self.len();
        if len == 0 {
            return Some(&mut []);
        }
        // SAFETY: libzmq allocated these `len` bytes for this message alone
        // (`writable`), they are initialised (zeroed or copied in), and no
        // other message shares them (`ZMQ_SHARED` is 0: never cloned, or a
        // small message whose clones copied the bytes). `&mut self` keeps
        // every other access out while the slice lives; the data pointer is
        // taken afresh, so inline small messages are handled after a move.
        unsafe {
            Some(std::slice::from_raw_parts_mut(
                zmq_sys::zmq_msg_data(&mut self.raw).cast::<u8>(),
                len,
            ))
        }
    }

    /// A message holding a copy of `data` (`zmq_msg_init_size` + copy).
    pub fn from_slice(data: &[u8]) -> Message {
        let mut m = Message::alloc(data.len());
        if !data.is_empty() {
            // SAFETY: the message owns exactly data.len() writable bytes at
            // zmq_msg_data, which cannot overlap `data`.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    zmq_sys::zmq_msg_data(&mut m.raw).cast::<u8>(),
                    data.len(),
                )
            };
        }
        m
    }

    /// A message over `data` without copying, when `data` is at least
    /// [`copy_threshold`] bytes; a copy otherwise. `data` is dropped once
    /// libzmq no longer needs it (possibly on a libzmq I/O thread).
    ///
    /// Works for `Vec<u8>`, `Box<[u8]>`, `String`, `bytes::Bytes`,
    /// `Arc<[u8]>` or any owner of bytes.
    pub fn from_owned<T>(data: T) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        if data.as_ref().len() < copy_threshold() {
            return Message::from_slice(data.as_ref());
        }
        Message::zero_copy(data, None)
    }

    /// A message over `data` without copying, whatever its size.
    pub fn from_owned_zero_copy<T>(data: T) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        Message::zero_copy(data, None)
    }

    /// A zero-copy message over static bytes: nothing is copied or freed.
    pub fn from_static(data: &'static [u8]) -> Message {
        let mut raw = zmq_sys::zmq_msg_t::default();
        // SAFETY: data lives for the whole program, so libzmq may read it at
        // any time; a null free function means nothing is freed. libzmq never
        // writes through the pointer of a message it did not allocate unless
        // the application does, and we only hand out shared slices.
        let rc = unsafe {
            zmq_sys::zmq_msg_init_data(
                &mut raw,
                data.as_ptr() as *mut c_void,
                data.len(),
                None,
                std::ptr::null_mut(),
            )
        };
        debug_assert_eq!(rc, 0);
        Message {
            raw,
            writable: false,
        }
    }

    /// A zero-copy message whose release is reported to `tracker`
    /// (pyzmq's `Frame(data, track=True)`). Several messages may share one
    /// tracker: it is done when all of them are released.
    pub fn with_tracker<T>(data: T, tracker: &MessageTracker) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        Message::zero_copy(data, Some(tracker.guard()))
    }

    /// A zero-copy message and a new tracker for it.
    pub fn tracked<T>(data: T) -> (Message, MessageTracker)
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        let tracker = MessageTracker::new();
        let msg = Message::with_tracker(data, &tracker);
        (msg, tracker)
    }

    fn zero_copy<T>(data: T, guard: Option<TrackerGuard>) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
    {
        // Box first, then take the pointer: the bytes must not move after
        // libzmq has seen them (a T with inline storage would move otherwise).
        let owner = Box::new(Owner {
            data,
            _guard: guard,
        });
        let (ptr, len) = {
            let bytes = owner.data.as_ref();
            (bytes.as_ptr(), bytes.len())
        };
        let hint = Box::into_raw(owner);
        let mut raw = zmq_sys::zmq_msg_t::default();
        // SAFETY: ptr/len describe bytes owned by *hint, which stays alive and
        // unmoved until libzmq calls free_owner::<T>(ptr, hint) exactly once.
        let rc = unsafe {
            zmq_sys::zmq_msg_init_data(
                &mut raw,
                ptr as *mut c_void,
                len,
                Some(free_owner::<T>),
                hint.cast(),
            )
        };
        if rc != 0 {
            // SAFETY: libzmq did not take the hint (init failed), so we still own it.
            drop(unsafe { Box::from_raw(hint) });
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<zmq_sys::zmq_msg_t>());
        }
        Message {
            raw,
            writable: false,
        }
    }

    /// The number of bytes (`zmq_msg_size`).
    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: raw is an initialised message; zmq_msg_size only reads it.
        unsafe { zmq_sys::zmq_msg_size(&self.raw) }
    }

    /// Whether the message has no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether more parts follow this one (`zmq_msg_more`), for a received part.
    #[inline]
    pub fn more(&self) -> bool {
        // SAFETY: raw is an initialised message; zmq_msg_more only reads it.
        unsafe { zmq_sys::zmq_msg_more(&self.raw) != 0 }
    }

    /// A message property (`zmq_msg_get`).
    ///
    /// `ZMQ_SRCFD` is `-1` when libzmq does not know the descriptor (libzmq
    /// 4.3 no longer records it, so always): libzmq returns `-1` then, with
    /// errno left as it was or set by its failed metadata lookup, which is
    /// not an error of the call.
    pub fn get(&self, option: MessageOption) -> Result<i32> {
        // SAFETY: raw is an initialised message; zmq_msg_get only reads it.
        let call = || unsafe { zmq_sys::zmq_msg_get(&self.raw, option.raw()) };
        match crate::functions::value_or_errno(call) {
            Some(Err(_)) | None if option == MessageOption::SrcFd => Ok(-1),
            Some(result) => result,
            None => Err(Error::last()),
        }
    }

    /// Whether the buffer is shared with another message (`ZMQ_SHARED`).
    pub fn is_shared(&self) -> bool {
        self.get(MessageOption::Shared).is_ok_and(|v| v != 0)
    }

    /// A metadata property of a received message (`zmq_msg_gets`):
    /// `"Socket-Type"`, `"Routing-Id"`, `"User-Id"`, `"Peer-Address"`, or an
    /// application property. `Ok(None)` when absent (or the name has a NUL);
    /// an [`Error::Utf8`] when the value is not UTF-8.
    ///
    /// `"Routing-Id"` works as documented: libzmq 4.3.5 stores the peer's
    /// routing id only under its wire name `"Identity"` (the deprecated
    /// alias), so zmqx looks that up when `"Routing-Id"` is absent.
    pub fn gets(&self, property: &str) -> Result<Option<String>> {
        let mut ptr = self.gets_raw(property);
        if ptr.is_null() && property == "Routing-Id" {
            ptr = self.gets_raw("Identity");
        }
        if ptr.is_null() {
            return Ok(None);
        }
        // SAFETY: libzmq returns a NUL-terminated string owned by the
        // message's metadata, alive while the message is; copied out at once.
        let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes().to_vec();
        String::from_utf8(bytes).map(Some).map_err(|e| Error::Utf8 {
            source: e.utf8_error(),
            bytes: e.into_bytes(),
        })
    }

    /// `zmq_msg_gets`, null when absent or when the name has a NUL.
    fn gets_raw(&self, property: &str) -> *const std::ffi::c_char {
        let Ok(name) = CString::new(property) else {
            return std::ptr::null();
        };
        // SAFETY: raw is an initialised message and name a valid C string.
        // zmq_msg_gets takes a non-const pointer but only reads the message;
        // the result points into the message's metadata (or is null).
        unsafe { zmq_sys::zmq_msg_gets(&self.raw, name.as_ptr()) }
    }

    /// The bytes as a `&str`, if they are UTF-8 (pyzmq's `Frame.bytes.decode()`).
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self).ok()
    }

    /// The bytes as a slice.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self
    }

    /// The routing id of a message received on a SERVER socket (DRAFT,
    /// `zmq_msg_routing_id`); 0 when none.
    #[cfg(feature = "draft")]
    pub fn routing_id(&self) -> u32 {
        // SAFETY: raw is initialised; the call only reads it.
        unsafe { zmq_sys::zmq_msg_routing_id(&self.raw as *const _ as *mut _) }
    }

    /// Sets the routing id a CLIENT/SERVER message goes to (DRAFT,
    /// `zmq_msg_set_routing_id`).
    #[cfg(feature = "draft")]
    pub fn set_routing_id(&mut self, id: u32) -> Result<()> {
        // SAFETY: raw is initialised and exclusively borrowed.
        crate::error::check(unsafe { zmq_sys::zmq_msg_set_routing_id(&mut self.raw, id) }).map(drop)
    }

    /// The group of a RADIO/DISH message (DRAFT, `zmq_msg_group`).
    #[cfg(feature = "draft")]
    pub fn group(&self) -> Option<String> {
        // SAFETY: raw is initialised; returns a NUL-terminated string stored
        // in the message, copied out at once.
        let ptr = unsafe { zmq_sys::zmq_msg_group(&self.raw as *const _ as *mut _) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(ptr) };
        s.to_str().ok().map(str::to_string)
    }

    /// Sets the group of a RADIO message (DRAFT, `zmq_msg_set_group`), at most
    /// 255 bytes.
    #[cfg(feature = "draft")]
    pub fn set_group(&mut self, group: &str) -> Result<()> {
        let c = CString::new(group).map_err(|_| Error::invalid("group", "interior NUL byte"))?;
        // SAFETY: raw is initialised and exclusively borrowed; c is a C string.
        crate::error::check(unsafe { zmq_sys::zmq_msg_set_group(&mut self.raw, c.as_ptr()) })
            .map(drop)
    }

    /// The raw `zmq_msg_t`, for calls zmqx does not wrap.
    pub fn as_raw(&self) -> &zmq_sys::zmq_msg_t {
        &self.raw
    }

    /// The raw `zmq_msg_t`, mutable.
    ///
    /// # Safety
    ///
    /// The message must stay initialised: do not `zmq_msg_close` it or
    /// overwrite it without re-initialising it.
    pub unsafe fn as_raw_mut(&mut self) -> &mut zmq_sys::zmq_msg_t {
        // Whatever is done to it (a receive, a send), its bytes are no longer
        // known to be this message's own.
        self.writable = false;
        &mut self.raw
    }
}

/// Owner of zero-copy bytes, handed to libzmq as the free hint.
struct Owner<T> {
    data: T,
    /// Signals the tracker when dropped, after `data` (field order), also if
    /// dropping `data` panics.
    _guard: Option<TrackerGuard>,
}

/// libzmq's free callback for zero-copy messages. Runs on whatever thread
/// releases the last reference, often a libzmq I/O thread, so it must never
/// unwind into C.
unsafe extern "C" fn free_owner<T>(_data: *mut c_void, hint: *mut c_void) {
    let result = std::panic::catch_unwind(|| {
        // SAFETY: hint came from Box::into_raw(Box<Owner<T>>) in zero_copy and
        // libzmq calls this exactly once.
        drop(unsafe { Box::from_raw(hint.cast::<Owner<T>>()) });
    });
    if result.is_err() {
        // A panicking Drop of user data must not unwind through libzmq;
        // the data is gone either way.
        eprintln!("zmqx: a zero-copy message's buffer panicked while being dropped");
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: raw is initialised and closed exactly once here.
        unsafe { zmq_sys::zmq_msg_close(&mut self.raw) };
    }
}

impl Clone for Message {
    /// Shares the buffer (`zmq_msg_copy`); small messages are copied.
    fn clone(&self) -> Message {
        let mut copy = Message::new();
        // SAFETY: both are initialised; zmq_msg_copy only increments the
        // source's reference count (it takes a mutable pointer for that, which
        // is why Message is not Sync).
        let rc = unsafe { zmq_sys::zmq_msg_copy(&mut copy.raw, &self.raw as *const _ as *mut _) };
        debug_assert_eq!(rc, 0);
        // A small message is copied (both stay writable); a large one is
        // shared, which `is_writable` sees in ZMQ_SHARED on both.
        copy.writable = self.writable;
        copy
    }
}

impl std::ops::Deref for Message {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        let len = self.len();
        if len == 0 {
            return &[];
        }
        // SAFETY: an initialised message of `len` bytes at zmq_msg_data, alive
        // and unchanged while `self` is borrowed (the pointer is taken afresh,
        // so inline small messages are handled after a move).
        unsafe {
            std::slice::from_raw_parts(
                zmq_sys::zmq_msg_data(&self.raw as *const _ as *mut _).cast::<u8>(),
                len,
            )
        }
    }
}

impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Default for Message {
    fn default() -> Message {
        Message::new()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Message {}

impl PartialEq<[u8]> for Message {
    fn eq(&self, other: &[u8]) -> bool {
        &self[..] == other
    }
}

impl PartialEq<&[u8]> for Message {
    fn eq(&self, other: &&[u8]) -> bool {
        &self[..] == *other
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        &self[..] == other.as_bytes()
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        &self[..] == other.as_bytes()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        let bytes = &self[..];
        let head = &bytes[..bytes.len().min(SHOWN)];
        write!(f, "Message({:?}", String::from_utf8_lossy(head))?;
        if bytes.len() > SHOWN {
            write!(f, "… {} bytes", bytes.len())?;
        }
        f.write_str(")")
    }
}

/// The content as text: UTF-8, with invalid sequences shown as U+FFFD
/// (pyzmq's `frame.bytes.decode(errors="replace")`; [`Message::as_str`]
/// is the checked form). Lets a received part be printed directly.
///
/// ```
/// let m = zmqx::Message::from("hello");
/// assert_eq!(m.to_string(), "hello");
/// assert_eq!(zmqx::Message::from(&b"a\xffb"[..]).to_string(), "a\u{fffd}b");
/// ```
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self[..].utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Message {
        Message::from_slice(b)
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(b: &[u8; N]) -> Message {
        Message::from_slice(b)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Message {
        Message::from_slice(s.as_bytes())
    }
}

impl From<&String> for Message {
    fn from(s: &String) -> Message {
        Message::from_slice(s.as_bytes())
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Message {
        Message::from_owned(v)
    }
}

impl From<&Vec<u8>> for Message {
    fn from(v: &Vec<u8>) -> Message {
        Message::from_slice(v)
    }
}

impl From<Box<[u8]>> for Message {
    fn from(v: Box<[u8]>) -> Message {
        Message::from_owned(v)
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        Message::from_owned(s)
    }
}

impl From<bytes::Bytes> for Message {
    fn from(b: bytes::Bytes) -> Message {
        Message::from_owned(b)
    }
}

impl From<&Message> for Message {
    fn from(m: &Message) -> Message {
        m.clone()
    }
}

impl From<Message> for Vec<u8> {
    fn from(m: Message) -> Vec<u8> {
        m.to_vec()
    }
}

/// Received message parts handed back inside an [`Error`] (a payload that
/// did not decode, a message over a size limit…), so nothing is lost.
///
/// It holds the [`Message`]s themselves, not copies. Unlike `Message` it is
/// `Sync`, which keeps [`Error`] `Send + Sync` (and convertible to
/// [`std::io::Error`]): through a shared `&Frames` only the bytes can be
/// read; the messages come back by value with [`Frames::into_messages`].
///
/// ```
/// let frames = zmqx::Frames::from(vec![zmqx::Message::from("a"), zmqx::Message::from("bc")]);
/// assert_eq!(frames.len(), 2);
/// assert_eq!(&frames[1], b"bc");
/// assert_eq!(frames.total_len(), 3);
/// let messages: Vec<zmqx::Message> = frames.into_messages();
/// assert_eq!(messages[0], "a");
/// ```
#[derive(Default)]
pub struct Frames(Vec<Message>);

// SAFETY: Message is !Sync only because `Clone` (zmq_msg_copy) writes to the
// source message's reference count and flags. A shared `&Frames` exposes
// nothing but the bytes and sizes (zmq_msg_data / zmq_msg_size, which only
// read the message); it never hands out `&Message` (its own `Debug` only
// reads the bytes), so no clone can happen through it. The messages leave
// only by value (`into_messages`).
unsafe impl Sync for Frames {}

impl Frames {
    /// Wraps received messages.
    pub fn new(messages: Vec<Message>) -> Frames {
        Frames(messages)
    }

    /// The number of parts.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no parts.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes of part `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.0.get(index).map(|m| &m[..])
    }

    /// The bytes of every part, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.0.iter().map(|m| &m[..])
    }

    /// The size of all parts together, in bytes.
    pub fn total_len(&self) -> usize {
        self.0.iter().map(|m| m.len()).sum()
    }

    /// The messages, as received (without copying).
    pub fn into_messages(self) -> Vec<Message> {
        self.0
    }

    /// A copy of every part's bytes (pyzmq's `recv_multipart()` list).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

impl std::ops::Index<usize> for Frames {
    type Output = [u8];

    fn index(&self, index: usize) -> &[u8] {
        &self.0[index]
    }
}

impl From<Vec<Message>> for Frames {
    fn from(messages: Vec<Message>) -> Frames {
        Frames(messages)
    }
}

impl From<Message> for Frames {
    fn from(message: Message) -> Frames {
        Frames(vec![message])
    }
}

impl From<Frames> for Vec<Message> {
    fn from(frames: Frames) -> Vec<Message> {
        frames.0
    }
}

impl fmt::Debug for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn small_and_large() {
        let small = Message::from(&b"abc"[..]);
        assert_eq!(&small[..], b"abc");
        let big = vec![7u8; 100_000];
        let m = Message::from(big.clone());
        assert_eq!(&m[..], &big[..]);
        assert!(Message::new().is_empty());
        assert_eq!(Message::from_static(b"static"), "static");
    }

    #[test]
    fn moved_small_message_keeps_its_bytes() {
        // Small messages store bytes inline: the data pointer must be taken
        // afresh after every move.
        let v: Vec<Message> = (0..10)
            .map(|i| Message::from(format!("m{i}").as_str()))
            .collect();
        let moved: Vec<Message> = v.into_iter().collect();
        for (i, m) in moved.iter().enumerate() {
            assert_eq!(m.as_str(), Some(format!("m{i}").as_str()));
        }
    }

    #[test]
    fn clone_shares_large_buffers() {
        let m = Message::from_owned_zero_copy(vec![1u8; 1000]);
        let c = m.clone();
        assert_eq!(m, c);
        assert!(m.is_shared());
    }

    #[test]
    fn zero_copy_owner_dropped_and_tracked() -> crate::Result<()> {
        let (m, tracker) = Message::tracked(vec![9u8; 10]);
        assert!(!tracker.done());
        assert!(matches!(
            tracker.wait(Some(Duration::from_millis(10))),
            Err(Error::NotDone)
        ));
        let c = m.clone();
        drop(m);
        assert!(!tracker.done());
        drop(c);
        assert!(tracker.done());
        tracker.wait(Some(Duration::ZERO))?;
        Ok(())
    }

    #[test]
    fn panicking_owner_is_caught() {
        struct Bomb(Vec<u8>);
        impl AsRef<[u8]> for Bomb {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("boom");
            }
        }
        let tracker = MessageTracker::new();
        let m = Message::with_tracker(Bomb(vec![1, 2, 3]), &tracker);
        drop(m);
        assert!(
            tracker.done(),
            "tracker signalled even though the owner panicked"
        );
    }

    #[test]
    fn inline_storage_owner_is_not_moved() {
        // An owner whose bytes live inside it must be boxed before its address is taken.
        struct Inline([u8; 100]);
        impl AsRef<[u8]> for Inline {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        let m = Message::from_owned_zero_copy(Inline([5u8; 100]));
        assert!(m.iter().all(|&b| b == 5));
    }

    #[test]
    fn gets_absent_is_none() -> crate::Result<()> {
        let m = Message::from("x");
        assert_eq!(m.gets("Socket-Type")?, None);
        assert_eq!(m.gets("bad\0name")?, None);
        Ok(())
    }
}
