#![allow(unsafe_code)]
//! The owner of a `zmq_msg_t`: the [`Message`] struct, its creation, `Drop`,
//! `Clone` and `Deref`, and every `zmq_msg_*` call of the crate but send and
//! receive (which belong to the socket). Calls that can fail hand back
//! libzmq's return code as is; turning it into a [`Result`](crate::Result)
//! is the job of `message/mod.rs`, so this file depends on nothing of zmqx
//! (and `error.rs` can hold [`Frames`](crate::Frames) without an import
//! cycle).

use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// One message part (`zmq_msg_t`), pyzmq's `Frame`.
///
/// It derefs to `[u8]`. Cloning shares the buffer (`zmq_msg_copy`), it does
/// not copy the bytes. Owned buffers of at least
/// [`copy_threshold`](crate::copy_threshold) bytes are handed to libzmq
/// without copying ([`Message::from_owned`]), and dropped when libzmq is
/// done with them.
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
    #[inline]
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
    #[inline]
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
    #[inline]
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

    /// A zero-copy message over `data` (`zmq_msg_init_data`); `data`, then
    /// `guard`, are dropped once libzmq no longer needs the bytes (possibly
    /// on a libzmq I/O thread). `guard` is `()`, or what reports the release
    /// to a tracker.
    #[inline]
    pub(super) fn zero_copy<T, G>(data: T, guard: G) -> Message
    where
        T: AsRef<[u8]> + Send + 'static,
        G: Send + 'static,
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
        // unmoved until libzmq calls free_owner::<T, G>(ptr, hint) exactly once.
        let rc = unsafe {
            zmq_sys::zmq_msg_init_data(
                &mut raw,
                ptr as *mut c_void,
                len,
                Some(free_owner::<T, G>),
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

    /// `zmq_msg_get`: libzmq's return code, `-1` with errno set on failure
    /// (and `-1` as a value for some properties).
    #[inline]
    pub(super) fn get_raw(&self, option: c_int) -> c_int {
        // SAFETY: raw is an initialised message; zmq_msg_get only reads it.
        unsafe { zmq_sys::zmq_msg_get(&self.raw, option) }
    }

    /// Whether the buffer is shared with another message (`ZMQ_SHARED`).
    pub fn is_shared(&self) -> bool {
        // 1 when shared, 0 when not, -1 if libzmq refused (never for a
        // valid message): only 1 says "shared".
        self.get_raw(zmq_sys::ZMQ_SHARED as c_int) > 0
    }

    /// `zmq_msg_gets`: a metadata property of a received message, as
    /// libzmq stores it; `None` when absent or when the name has a NUL.
    pub(super) fn property(&self, property: &str) -> Option<&CStr> {
        let name = CString::new(property).ok()?;
        // SAFETY: raw is an initialised message and name a valid C string.
        // zmq_msg_gets takes a non-const pointer but only reads the message;
        // the result points into the message's metadata (or is null).
        let ptr: *const c_char = unsafe { zmq_sys::zmq_msg_gets(&self.raw, name.as_ptr()) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: libzmq returns a NUL-terminated string owned by the
        // message's metadata, which lives (unchanged) as long as the message
        // does; the borrow of `self` keeps it alive and unmodified.
        Some(unsafe { CStr::from_ptr(ptr) })
    }

    /// The routing id of a message received on a SERVER socket (DRAFT,
    /// `zmq_msg_routing_id`); 0 when none.
    #[cfg(feature = "draft")]
    pub fn routing_id(&self) -> u32 {
        // SAFETY: raw is initialised; the call only reads it.
        unsafe { zmq_sys::zmq_msg_routing_id(&self.raw as *const _ as *mut _) }
    }

    /// `zmq_msg_set_routing_id`: libzmq's return code.
    #[cfg(feature = "draft")]
    pub(super) fn set_routing_id_raw(&mut self, id: u32) -> c_int {
        // SAFETY: raw is initialised and exclusively borrowed.
        unsafe { zmq_sys::zmq_msg_set_routing_id(&mut self.raw, id) }
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

    /// `zmq_msg_set_group`: libzmq's return code.
    #[cfg(feature = "draft")]
    pub(super) fn set_group_raw(&mut self, group: &CStr) -> c_int {
        // SAFETY: raw is initialised and exclusively borrowed; group is a C
        // string, which libzmq copies.
        unsafe { zmq_sys::zmq_msg_set_group(&mut self.raw, group.as_ptr()) }
    }

    /// The raw `zmq_msg_t`, for calls zmqx does not wrap.
    #[inline]
    pub fn as_raw(&self) -> &zmq_sys::zmq_msg_t {
        &self.raw
    }

    /// The raw `zmq_msg_t`, mutable.
    ///
    /// # Safety
    ///
    /// The message must stay initialised: do not `zmq_msg_close` it or
    /// overwrite it without re-initialising it.
    #[inline]
    pub unsafe fn as_raw_mut(&mut self) -> &mut zmq_sys::zmq_msg_t {
        // Whatever is done to it (a receive, a send), its bytes are no longer
        // known to be this message's own.
        self.writable = false;
        &mut self.raw
    }
}

/// Owner of zero-copy bytes, handed to libzmq as the free hint.
struct Owner<T, G> {
    data: T,
    /// Dropped after `data` (field order), also if dropping `data` panics:
    /// a tracker's guard signals the release then.
    _guard: G,
}

/// libzmq's free callback for zero-copy messages. Runs on whatever thread
/// releases the last reference, often a libzmq I/O thread, so it must never
/// unwind into C.
unsafe extern "C" fn free_owner<T, G>(_data: *mut c_void, hint: *mut c_void) {
    let result = std::panic::catch_unwind(|| {
        // SAFETY: hint came from Box::into_raw(Box<Owner<T, G>>) in zero_copy
        // and libzmq calls this exactly once.
        drop(unsafe { Box::from_raw(hint.cast::<Owner<T, G>>()) });
    });
    if result.is_err() {
        // A panicking Drop of user data must not unwind through libzmq;
        // the data is gone either way.
        eprintln!("zmqx: a zero-copy message's buffer panicked while being dropped");
    }
}

impl Drop for Message {
    #[inline]
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
