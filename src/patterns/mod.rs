//! The zguide's reliability patterns and discovery as tested components.
//!
//! Each pattern comes as a blocking type and, with the `tokio` feature, an
//! async one, and each is tested against an implementation this project did
//! not write where one exists.
//!
//! There is no counterpart in pyzmq or libzmq: these follow the zguide
//! (chapter 4, "Reliable Request-Reply Patterns") and the ZeroMQ RFCs.

#![forbid(unsafe_code)]

// Components (one module each).
#[cfg(feature = "beacon")]
#[cfg_attr(docsrs, doc(cfg(feature = "beacon")))]
pub mod beacon;
pub mod binary_star;
pub mod lazy_pirate;
pub mod paranoid_pirate;
