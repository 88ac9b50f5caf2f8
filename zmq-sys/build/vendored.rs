//! Step 2: build libzmq 4.3.5 from `zeromq-src` with libsodium from
//! `libsodium-sys-stable`, statically, configured for this platform.

use crate::Found;

#[cfg(not(feature = "vendored"))]
pub fn build(_draft: bool, tried: &mut Vec<String>) -> Option<Found> {
    tried.push("vendored build: the `vendored` feature is off".into());
    None
}

#[cfg(feature = "vendored")]
pub fn build(draft: bool, tried: &mut Vec<String>) -> Option<Found> {
    use crate::{env, header, platform};
    use std::path::PathBuf;

    if env::flag("LIBZMQ_NO_VENDOR") {
        tried.push("vendored build: skipped because LIBZMQ_NO_VENDOR is set".into());
        return None;
    }

    // libsodium-sys-stable (links = "sodium") built libsodium for us.
    let sodium_include = std::env::var_os("DEP_SODIUM_INCLUDE").map(PathBuf::from);
    let sodium_lib = std::env::var_os("DEP_SODIUM_LIB").map(PathBuf::from);
    let (Some(sodium_include), Some(sodium_lib)) = (sodium_include, sodium_lib) else {
        tried.push(
            "vendored build: libsodium-sys-stable did not report DEP_SODIUM_INCLUDE/LIB".into(),
        );
        return None;
    };

    // zeromq-src compiles with an empty platform.hpp; hand it the defines that
    // libzmq's own build would have detected, through the flags `cc` reads.
    let defines = platform::probe();
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let key = format!("CXXFLAGS_{}", target.replace('-', "_"));
    // cc appends every CXXFLAGS* variable it finds, so the user's own
    // CXXFLAGS still apply; ours go in the most specific one.
    let mut flags = std::env::var(&key).unwrap_or_default();
    for d in &defines {
        flags.push_str(" -D");
        flags.push_str(d);
    }
    // SAFETY: the build script is single-threaded here; no other thread reads
    // the environment while it is changed.
    unsafe { std::env::set_var(&key, flags.trim()) };

    zeromq_src::Build::new()
        .enable_draft(draft)
        .with_libsodium(Some(zeromq_src::LibLocation::new(
            sodium_lib,
            sodium_include,
        )))
        .build();

    let out = env::out_dir();
    let include_dir = out.join("source").join("include");
    let version = header::read_version(&include_dir.join("zmq.h")).unwrap_or((4, 3, 5));
    Some(Found {
        source: "vendored",
        include_dir: Some(include_dir),
        lib_dirs: vec![out.join("lib")],
        link_args: Vec::new(),
        version,
        curve: Some(true),
        draft: Some(draft),
        platform: defines,
    })
}
