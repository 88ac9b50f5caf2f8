//! Every socket option on [`ThreadSafeSocket`]: the accessors of
//! [`Socket`], generated from the same table, forwarding to the wrapped
//! socket (libzmq locks thread-safe sockets in every call).
#![forbid(unsafe_code)]

use super::ThreadSafeSocket;
use crate::error::Result;
use crate::hardening::Hardening;
use crate::options::{OptionKind, OptionValue, SocketOption};
use crate::socket::Socket;

/// One row of the option table on [`ThreadSafeSocket`], minus the accessors
/// it already has with their own implementation.
macro_rules! thread_safe_row {
    // `ThreadSafeSocket::socket_type` returns the type it checked at creation.
    (TYPE $($rest:tt)*) => {};
    ($v:ident $($rest:tt)*) => {
        crate::options::forward_methods!(with_socket $v $($rest)*);
    };
}

macro_rules! thread_safe_options {
    ([] $( $access:ident $v:ident = $id:path, $alias:literal : $kind:ident $api:ident, $doc:literal => $($name:ident),+ ; )*) => {
        impl ThreadSafeSocket {
            $( thread_safe_row!($v $access $kind $alias $doc $($name),+); )*
        }
    };
}

crate::options::option_table!(thread_safe_options);

impl ThreadSafeSocket {
    /// Runs `f` with the wrapped socket (the forwarding accessors' way in).
    fn with_socket<R>(&self, f: impl FnOnce(&Socket) -> R) -> R {
        f(self.as_socket())
    }

    /// Reads any option (`zmq_getsockopt`); see [`Socket::get`].
    pub fn get(&self, option: SocketOption) -> Result<OptionValue> {
        self.as_socket().get(option)
    }

    /// Sets any option (`zmq_setsockopt`); see [`Socket::set`].
    pub fn set(&self, option: SocketOption, value: OptionValue) -> Result<()> {
        self.as_socket().set(option, value)
    }

    /// Clears an option libzmq resets with `(NULL, 0)`; see [`Socket::clear`].
    pub fn clear(&self, option: SocketOption) -> Result<()> {
        self.as_socket().clear(option)
    }

    /// Reads an option by number; see [`Socket::get_raw_option`].
    pub fn get_raw_option(&self, id: i32, kind: OptionKind) -> Result<OptionValue> {
        self.as_socket().get_raw_option(id, kind)
    }

    /// Sets an option by number; see [`Socket::set_raw_option`].
    pub fn set_raw_option(&self, id: i32, value: OptionValue) -> Result<()> {
        self.as_socket().set_raw_option(id, value)
    }

    /// Sets both high-water marks; see [`Socket::set_hwm`].
    pub fn set_hwm(&self, hwm: i32) -> Result<()> {
        self.as_socket().set_hwm(hwm)
    }

    /// The high-water mark (`SNDHWM`); see [`Socket::hwm`].
    pub fn hwm(&self) -> Result<i32> {
        self.as_socket().hwm()
    }

    /// Applies a [`Hardening`] preset for untrusted peers; see
    /// [`Socket::harden`].
    pub fn harden(&self, hardening: &Hardening) -> Result<()> {
        self.as_socket().harden(hardening)
    }
}
