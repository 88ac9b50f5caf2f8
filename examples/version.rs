//! Prints which libzmq zmqx linked and what it can do.
//!
//! `cargo run --example version`

fn main() {
    println!("libzmq {} ({})", zmqx::version(), zmqx::sys::LINKED_SOURCE);
    println!("zmqx {}", zmqx::CRATE_VERSION);
    for cap in ["ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft"] {
        println!("  {cap:<7} {}", if zmqx::has(cap) { "yes" } else { "no" });
    }
    if !zmqx::sys::VENDORED_PLATFORM.is_empty() {
        println!(
            "vendored platform defines: {}",
            zmqx::sys::VENDORED_PLATFORM
        );
    }
}
