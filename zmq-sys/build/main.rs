//! Build script of zmq-sys: find or build libzmq, then describe it.
//!
//! Probe order (documented in the README's "Building" section):
//!
//! 1. `LIBZMQ_PREFIX`, or `LIBZMQ_LIB_DIR` + `LIBZMQ_INCLUDE_DIR`: link that copy
//!    (`LIBZMQ_STATIC=1` links `libzmq.a`).
//! 2. The `vendored` feature, unless `LIBZMQ_NO_VENDOR=1`: build libzmq 4.3.5
//!    from `zeromq-src` with libsodium from `libsodium-sys-stable`, statically,
//!    with the platform features probed the way libzmq's own build does.
//! 3. pkg-config `libzmq >= 4.3.2`.
//! 4. Otherwise fail with a message that says what to install or set.
//!
//! A location set in step 1 that holds no usable libzmq stops the build with
//! what was looked for where; the other steps are not tried. With `DOCS_RS`
//! set (docs.rs) nothing is built or linked: the metadata below describes
//! libzmq 4.3.5.
//!
//! Whatever was found is published as `cargo:` metadata (`DEP_ZMQ_*` for
//! dependants): `version`, `vendored`, `source`, `curve`, `draft`, `include`,
//! `platform`.

mod bindings;
mod env;
mod header;
#[cfg(feature = "vendored")]
mod platform;
mod prefix;
mod system;
mod vendored;

use std::path::PathBuf;

/// What the probe found: the library to describe to dependants.
pub struct Found {
    /// How it was found: `prefix`, `vendored`, `pkg-config`, or `docs.rs`
    /// (nothing linked).
    pub source: &'static str,
    /// Directory holding `zmq.h`, when known (pkg-config may rely on the
    /// compiler's default search path).
    pub include_dir: Option<PathBuf>,
    /// Directories to search for the library when running probe programs.
    pub lib_dirs: Vec<PathBuf>,
    /// Link arguments for probe programs (`-lzmq` and friends).
    pub link_args: Vec<String>,
    /// `(major, minor, patch)`.
    pub version: (u32, u32, u32),
    /// CURVE support, `None` when it could not be determined at build time.
    pub curve: Option<bool>,
    /// DRAFT API compiled in, `None` when unknown.
    pub draft: Option<bool>,
    /// Platform defines passed to a vendored build.
    pub platform: Vec<String>,
}

fn main() {
    env::announce_all();
    let draft_wanted = env::feature("DRAFT");

    if env::var("DOCS_RS").is_some() {
        // docs.rs documents the declarations: no C compiler runs, nothing is
        // linked (rustdoc does not link), and dependants see the defaults of
        // the libzmq these bindings describe.
        bindings::committed(draft_wanted);
        publish(&Found {
            source: "docs.rs",
            include_dir: None,
            lib_dirs: Vec::new(),
            link_args: Vec::new(),
            version: (4, 3, 5),
            curve: Some(true),
            draft: Some(draft_wanted),
            platform: Vec::new(),
        });
        return;
    }

    let mut tried = Vec::new();
    let found = match prefix::find(&mut tried) {
        prefix::Explicit::Found(found) => Some(found),
        // The user named a libzmq: linking another one instead would surprise.
        prefix::Explicit::Unusable(problems) => fail_explicit(&problems),
        prefix::Explicit::NotSet => {
            vendored::build(draft_wanted, &mut tried).or_else(|| system::find(&mut tried))
        }
    };

    let Some(mut found) = found else {
        fail(&tried);
    };

    if found.source != "vendored" {
        header::probe_capabilities(&mut found);
    }
    if draft_wanted && found.draft == Some(false) {
        // A libzmq built without the DRAFT API does not export its symbols
        // (zmq_poller_*, zmq_join…): linking would fail later with undefined
        // references, or worse at load time. Stop here and say why.
        fail_draft(&found);
    }
    if draft_wanted && found.draft.is_none() {
        println!(
            "cargo:warning=zmq-sys: the `draft` feature is on but whether the linked libzmq ({}) \
             has the DRAFT API could not be probed; zmqx checks zmq_has(\"draft\") at run time.",
            found.source
        );
    }

    bindings::generate(&found, draft_wanted);
    publish(&found);
}

/// Print the `cargo:` metadata that dependants read as `DEP_ZMQ_*`.
fn publish(found: &Found) {
    let (major, minor, patch) = found.version;
    let flag = |v: Option<bool>| match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "unknown",
    };
    println!("cargo:version={major}.{minor}.{patch}");
    println!(
        "cargo:version_number={}",
        major * 10000 + minor * 100 + patch
    );
    println!("cargo:source={}", found.source);
    println!(
        "cargo:vendored={}",
        if found.source == "vendored" { 1 } else { 0 }
    );
    println!("cargo:curve={}", flag(found.curve));
    println!("cargo:draft={}", flag(found.draft));
    if let Some(dir) = &found.include_dir {
        println!("cargo:include={}", dir.display());
    }
    println!("cargo:platform={}", found.platform.join(","));
    // The same facts for this crate's own constants.
    println!("cargo:rustc-env=ZMQ_SYS_SOURCE={}", found.source);
    println!("cargo:rustc-env=ZMQ_SYS_VERSION={major}.{minor}.{patch}");
    println!(
        "cargo:rustc-env=ZMQ_SYS_PLATFORM={}",
        found.platform.join(",")
    );
    let include = found.include_dir.as_ref().map(|d| d.display().to_string());
    println!(
        "cargo:rustc-env=ZMQ_SYS_INCLUDE={}",
        include.unwrap_or_default()
    );
}

fn fail_draft(found: &Found) -> ! {
    let (major, minor, patch) = found.version;
    eprintln!(
        "\n\nzmq-sys: the `draft` feature is on, but the libzmq {major}.{minor}.{patch} found \
         through {} was built without the DRAFT API (zmq_has(\"draft\") is false), so its DRAFT \
         symbols (zmq_poller_new, zmq_join, zmq_connect_peer…) do not exist.\n\n\
         How to fix it, any one of:\n\
         \x20 - Build the bundled copy with the DRAFT API: enable the `vendored` feature (on by\n\
         \x20   default in zmqx) and unset LIBZMQ_NO_VENDOR, LIBZMQ_PREFIX, LIBZMQ_LIB_DIR and\n\
         \x20   LIBZMQ_INCLUDE_DIR.\n\
         \x20 - Point LIBZMQ_PREFIX at a libzmq configured with --enable-drafts\n\
         \x20   (cmake: -DENABLE_DRAFTS=ON).\n\
         \x20 - Turn the `draft` feature off.\n",
        found.source
    );
    std::process::exit(1);
}

/// Whether the `vendored` feature is on, and whether LIBZMQ_NO_VENDOR vetoes it.
fn vendored_state() -> (bool, bool) {
    (env::feature("VENDORED"), env::flag("LIBZMQ_NO_VENDOR"))
}

/// LIBZMQ_PREFIX (or LIBZMQ_LIB_DIR/LIBZMQ_INCLUDE_DIR) names no usable
/// libzmq. Nothing else was tried: say what is wrong with the location.
fn fail_explicit(problems: &[String]) -> ! {
    let mut msg = String::from(
        "\n\nzmq-sys: the libzmq location given in the environment is not usable:\n\n",
    );
    for p in problems {
        msg.push_str("  ");
        msg.push_str(p);
        msg.push('\n');
    }
    msg.push_str(
        "\nAn explicit location is used alone: zmq-sys did not fall back to the vendored\n\
         build or pkg-config.\n\n\
         How to fix it, any one of:\n\
         \x20 - Point LIBZMQ_PREFIX at the --prefix libzmq was installed with: it must hold\n\
         \x20   include/zmq.h and the library in lib/, lib64/ or lib/<multiarch triple>/\n\
         \x20   (Debian/Ubuntu: LIBZMQ_PREFIX=/usr finds /usr/lib/x86_64-linux-gnu).\n\
         \x20 - Name the two directories: LIBZMQ_LIB_DIR=... LIBZMQ_INCLUDE_DIR=...\n\
         \x20   (each overrides its half of LIBZMQ_PREFIX).\n",
    );
    let unset = "\x20 - Or unset LIBZMQ_PREFIX, LIBZMQ_LIB_DIR and LIBZMQ_INCLUDE_DIR";
    msg.push_str(unset);
    msg.push_str(match vendored_state() {
        (true, false) => {
            ": the `vendored`\n\
             \x20   feature is on, so zmq-sys then builds libzmq 4.3.5 from source.\n"
        }
        (true, true) => {
            ", and\n\
             \x20   LIBZMQ_NO_VENDOR: the `vendored` feature is on, so zmq-sys then builds\n\
             \x20   libzmq 4.3.5 from source.\n"
        }
        (false, _) => {
            ", to\n\
             \x20   use a system libzmq found by pkg-config (Debian/Ubuntu: apt-get install\n\
             \x20   libzmq3-dev pkg-config), or enable the `vendored` feature to build\n\
             \x20   libzmq 4.3.5 from source.\n"
        }
    });
    eprintln!("{msg}");
    std::process::exit(1);
}

/// No source produced a libzmq: list what was tried and every way out.
fn fail(tried: &[String]) -> ! {
    let mut msg =
        String::from("\n\nzmq-sys could not find or build libzmq (>= 4.3.2).\n\nWhat was tried:\n");
    for t in tried {
        msg.push_str("  - ");
        msg.push_str(t);
        msg.push('\n');
    }
    msg.push_str("\nHow to fix it, any one of:\n");
    match vendored_state() {
        (true, true) => msg.push_str(
            "\x20 - Build the bundled copy: the `vendored` feature is on, but LIBZMQ_NO_VENDOR\n\
             \x20   forbids it; unset LIBZMQ_NO_VENDOR. It needs only a C/C++ compiler and make.\n",
        ),
        (true, false) => msg.push_str(
            "\x20 - Build the bundled copy: the `vendored` feature is on but its build did not\n\
             \x20   produce a library (see the reason above).\n",
        ),
        (false, no_vendor) => {
            msg.push_str(
                "\x20 - Build the bundled copy: enable the `vendored` feature (on by default in\n\
                 \x20   zmqx). It needs only a C/C++ compiler and make.\n",
            );
            if no_vendor {
                msg.push_str("\x20   LIBZMQ_NO_VENDOR is set: unset it too.\n");
            }
        }
    }
    msg.push_str(
        "\x20 - Install libzmq with its headers and pkg-config file:\n\
         \x20     Debian/Ubuntu: apt-get install libzmq3-dev pkg-config\n\
         \x20     Fedora:        dnf install zeromq-devel pkgconf\n\
         \x20     macOS:         brew install zeromq pkg-config\n\
         \x20 - Point at an installed copy:\n\
         \x20     LIBZMQ_PREFIX=/opt/zeromq          (searches $PREFIX/include, and $PREFIX/lib,\n\
         \x20                                        lib64 and lib/<multiarch triple>)\n\
         \x20     LIBZMQ_LIB_DIR=... LIBZMQ_INCLUDE_DIR=...\n\
         \x20     LIBZMQ_STATIC=1                    (link libzmq.a instead of the shared library)\n\
         \nEnvironment variables read: LIBZMQ_PREFIX, LIBZMQ_LIB_DIR, LIBZMQ_INCLUDE_DIR,\n\
         LIBZMQ_STATIC, LIBZMQ_NO_VENDOR, PKG_CONFIG_PATH (and pkg-config's own).\n",
    );
    eprintln!("{msg}");
    std::process::exit(1);
}
