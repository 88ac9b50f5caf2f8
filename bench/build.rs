//! Compiles the C baseline (`c/perf.c`) against the `zmq.h` of the libzmq
//! that zmq-sys links, so the C tools and zmqx use the very same library.
//!
//! zmq-sys has `links = "zmq"` and prints `cargo:include=<dir>`; cargo hands
//! that to this script as `DEP_ZMQ_INCLUDE`. The C objects end up in a static
//! library whose `zmq_*` references the linker resolves against zmq-sys's
//! libzmq (the vendored static one by default).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=c/perf.c");
    println!("cargo::rerun-if-env-changed=DEP_ZMQ_INCLUDE");
    let mut build = cc::Build::new();
    build
        .file("c/perf.c")
        .std("c11")
        .warnings(true)
        .extra_warnings(true);
    // POSIX clock_gettime and friends under -std=c11.
    build.define("_POSIX_C_SOURCE", "200809L");
    match env::var_os("DEP_ZMQ_INCLUDE").filter(|d| !d.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            println!("cargo::rerun-if-changed={}", dir.join("zmq.h").display());
            build.include(dir);
        }
        None => println!(
            "cargo::warning=zmq-sys published no include directory; \
             compiling the C perf tools against the system <zmq.h>"
        ),
    }
    build.compile("zmqx_bench_c");
}
