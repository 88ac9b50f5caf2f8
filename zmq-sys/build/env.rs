//! Every environment variable the build script reads, announced to cargo.

/// Variables that change what gets linked.
pub const VARS: &[&str] = &[
    "LIBZMQ_PREFIX",
    "LIBZMQ_LIB_DIR",
    "LIBZMQ_INCLUDE_DIR",
    "LIBZMQ_STATIC",
    "LIBZMQ_NO_VENDOR",
    "ZMQ_SYS_BINDINGS_OUT",
    // Set by docs.rs: document only, build and link nothing.
    "DOCS_RS",
];

/// Print `rerun-if-env-changed` for every variable we read.
pub fn announce_all() {
    for v in VARS {
        println!("cargo:rerun-if-env-changed={v}");
    }
    println!("cargo:rerun-if-changed=build");
}

/// A variable's value, `None` when unset or empty.
pub fn var(name: &str) -> Option<String> {
    debug_assert!(VARS.contains(&name), "{name} must be announced");
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A boolean variable: set to anything but `0`, `false`, `no` or empty.
pub fn flag(name: &str) -> bool {
    var(name).is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no"))
}

/// Whether a cargo feature of this crate is on (`name` in SCREAMING_CASE).
pub fn feature(name: &str) -> bool {
    std::env::var_os(format!("CARGO_FEATURE_{name}")).is_some()
}

/// `OUT_DIR`, which cargo always sets for build scripts.
pub fn out_dir() -> std::path::PathBuf {
    std::env::var_os("OUT_DIR")
        .map(Into::into)
        .expect("cargo sets OUT_DIR for build scripts")
}
