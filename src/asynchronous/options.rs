//! Every socket option on [`AsyncSocket`]: the accessors of
//! [`Socket`](crate::Socket), generated from the same table, forwarding
//! through [`AsyncSocket::with_socket`] (pyzmq's asyncio sockets have every
//! option too).
#![forbid(unsafe_code)]

use super::AsyncSocket;
use crate::error::Result;
use crate::hardening::Hardening;
use crate::options::{OptionKind, OptionValue, SocketOption};

/// One row of the option table on [`AsyncSocket`], minus the accessors it
/// already has with their own implementation.
macro_rules! async_row {
    // `AsyncSocket::events` and `last_endpoint` (in socket.rs).
    (EVENTS $($rest:tt)*) => {};
    (LAST_ENDPOINT $($rest:tt)*) => {};
    ($v:ident $($rest:tt)*) => {
        crate::options::forward_methods!(with_socket $v $($rest)*);
    };
}

macro_rules! async_options {
    ([] $( $access:ident $v:ident = $id:path, $alias:literal : $kind:ident $api:ident, $doc:literal => $($name:ident),+ ; )*) => {
        impl AsyncSocket {
            $( async_row!($v $access $kind $alias $doc $($name),+); )*
        }
    };
}

crate::options::option_table!(async_options);

impl AsyncSocket {
    /// Reads any option as a raw [`OptionValue`]; see
    /// [`Socket::get`](crate::Socket::get).
    pub fn get(&self, option: SocketOption) -> Result<OptionValue> {
        self.with_socket(|s| s.get(option))
    }

    /// Sets any option from a raw [`OptionValue`]; see
    /// [`Socket::set`](crate::Socket::set).
    pub fn set(&self, option: SocketOption, value: OptionValue) -> Result<()> {
        self.with_socket(|s| s.set(option, value))
    }

    /// Clears an option libzmq resets with `(NULL, 0)`; see
    /// [`Socket::clear`](crate::Socket::clear).
    pub fn clear(&self, option: SocketOption) -> Result<()> {
        self.with_socket(|s| s.clear(option))
    }

    /// Reads an option by number; see
    /// [`Socket::get_raw_option`](crate::Socket::get_raw_option).
    pub fn get_raw_option(&self, id: i32, kind: OptionKind) -> Result<OptionValue> {
        self.with_socket(|s| s.get_raw_option(id, kind))
    }

    /// Sets an option by number; see
    /// [`Socket::set_raw_option`](crate::Socket::set_raw_option).
    pub fn set_raw_option(&self, id: i32, value: OptionValue) -> Result<()> {
        self.with_socket(|s| s.set_raw_option(id, value))
    }

    /// Sets both high-water marks; see [`Socket::set_hwm`](crate::Socket::set_hwm).
    pub fn set_hwm(&self, hwm: i32) -> Result<()> {
        self.with_socket(|s| s.set_hwm(hwm))
    }

    /// The high-water mark (`SNDHWM`); see [`Socket::hwm`](crate::Socket::hwm).
    pub fn hwm(&self) -> Result<i32> {
        self.with_socket(|s| s.hwm())
    }

    /// Applies a [`Hardening`] preset for untrusted peers; see
    /// [`Socket::harden`](crate::Socket::harden).
    pub fn harden(&self, hardening: &Hardening) -> Result<()> {
        self.with_socket(|s| s.harden(hardening))
    }
}
