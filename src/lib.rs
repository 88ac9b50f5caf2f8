//! zmqx placeholder
pub use zmq_sys as sys;
