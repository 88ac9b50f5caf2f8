//! Step 1: a libzmq the user points at with `LIBZMQ_PREFIX` or
//! `LIBZMQ_LIB_DIR` + `LIBZMQ_INCLUDE_DIR`.
//!
//! An explicit location beats every other source. When it does not hold a
//! usable libzmq the build stops and says what was looked for where
//! ([`Explicit::Unusable`]); it never falls back to another libzmq.

use std::path::{Path, PathBuf};

use crate::{Found, env, header};

/// What the explicit location variables gave.
pub enum Explicit {
    /// None of them is set: go on with the other sources.
    NotSet,
    /// A usable libzmq, already announced to cargo for linking.
    Found(Found),
    /// They are set but do not name a usable libzmq: one line per problem,
    /// each starting with the variable that is wrong.
    Unusable(Vec<String>),
}

pub fn find(tried: &mut Vec<String>) -> Explicit {
    let prefix = env::var("LIBZMQ_PREFIX").map(PathBuf::from);
    let lib_var = env::var("LIBZMQ_LIB_DIR").map(PathBuf::from);
    let inc_var = env::var("LIBZMQ_INCLUDE_DIR").map(PathBuf::from);
    let statik = env::flag("LIBZMQ_STATIC");

    let prefix = match (prefix, &lib_var, &inc_var) {
        (None, None, None) => {
            tried.push("LIBZMQ_PREFIX / LIBZMQ_LIB_DIR + LIBZMQ_INCLUDE_DIR: not set".into());
            return Explicit::NotSet;
        }
        (None, Some(lib), None) => {
            return Explicit::Unusable(vec![format!(
                "LIBZMQ_LIB_DIR={} is set but LIBZMQ_INCLUDE_DIR is not: set both, or set \
                 LIBZMQ_PREFIX",
                lib.display()
            )]);
        }
        (None, None, Some(inc)) => {
            return Explicit::Unusable(vec![format!(
                "LIBZMQ_INCLUDE_DIR={} is set but LIBZMQ_LIB_DIR is not: set both, or set \
                 LIBZMQ_PREFIX",
                inc.display()
            )]);
        }
        (prefix, _, _) => prefix,
    };

    // Where the library may be, and which variable said so.
    let (lib_label, lib_candidates) = match (&lib_var, &prefix) {
        (Some(lib), _) => (
            format!("LIBZMQ_LIB_DIR={}", lib.display()),
            vec![lib.clone()],
        ),
        (None, Some(p)) => (format!("LIBZMQ_PREFIX={}", p.display()), prefix_lib_dirs(p)),
        (None, None) => unreachable!("handled above"),
    };
    let (inc_label, include_dir) = match (&inc_var, &prefix) {
        (Some(inc), _) => (format!("LIBZMQ_INCLUDE_DIR={}", inc.display()), inc.clone()),
        (None, Some(p)) => (format!("LIBZMQ_PREFIX={}", p.display()), p.join("include")),
        (None, None) => unreachable!("handled above"),
    };

    let mut problems = Vec::new();
    if let Some(p) = prefix.as_ref().filter(|p| !p.is_dir()) {
        problems.push(format!("LIBZMQ_PREFIX={}: no such directory", p.display()));
    }
    let names = library_names(statik);
    let lib_dir = lib_candidates
        .iter()
        .find(|d| names.iter().any(|n| d.join(n).exists()))
        .cloned();
    if lib_dir.is_none() {
        let mut line = format!(
            "{lib_label}: no {} in {}",
            or_list(&names),
            lib_candidates
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if statik {
            line.push_str(" (LIBZMQ_STATIC=1 asks for the static library)");
        }
        problems.push(line);
    }

    let header = include_dir.join("zmq.h");
    let version = if !header.exists() {
        problems.push(format!(
            "{inc_label}: no zmq.h in {}",
            include_dir.display()
        ));
        None
    } else {
        match header::read_version(&header) {
            None => {
                problems.push(format!(
                    "{inc_label}: {} has no readable ZMQ_VERSION_MAJOR/MINOR/PATCH",
                    header.display()
                ));
                None
            }
            Some(v) if v < (4, 3, 2) => {
                problems.push(format!(
                    "{inc_label}: {} is libzmq {}.{}.{}, older than the 4.3.2 zmq-sys needs",
                    header.display(),
                    v.0,
                    v.1,
                    v.2
                ));
                None
            }
            Some(v) => Some(v),
        }
    };

    let (Some(lib_dir), Some(version)) = (lib_dir, version) else {
        return Explicit::Unusable(problems);
    };

    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    let mut link_args = vec![format!("-L{}", lib_dir.display()), "-lzmq".to_string()];
    if statik {
        println!("cargo:rustc-link-lib=static=zmq");
        // A static libzmq needs its own dependencies: read them from its
        // pkg-config file when it ships one, else assume the C++ runtime only.
        let private = private_libs(&lib_dir);
        for lib in &private {
            println!("cargo:rustc-link-lib={lib}");
            link_args.push(format!("-l{lib}"));
        }
        if !private.iter().any(|l| l.contains("c++")) {
            println!("cargo:rustc-link-lib=stdc++");
            link_args.push("-lstdc++".into());
        }
    } else {
        println!("cargo:rustc-link-lib=zmq");
    }

    Explicit::Found(Found {
        source: "prefix",
        include_dir: Some(include_dir),
        lib_dirs: vec![lib_dir],
        link_args,
        version,
        curve: None,
        draft: None,
        platform: Vec::new(),
    })
}

/// The library directories of an installation prefix, in search order:
/// `lib`, `lib64` (Fedora, SUSE) and `lib/<multiarch triple>` (Debian, Ubuntu).
fn prefix_lib_dirs(prefix: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![prefix.join("lib"), prefix.join("lib64")];
    if let Some(triple) = std::env::var("TARGET").ok().and_then(|t| multiarch(&t)) {
        dirs.push(prefix.join("lib").join(triple));
    }
    dirs
}

/// The Debian multiarch triple of a Rust Linux target:
/// `x86_64-unknown-linux-gnu` -> `x86_64-linux-gnu`,
/// `armv7-unknown-linux-gnueabihf` -> `arm-linux-gnueabihf`,
/// `i686-unknown-linux-gnu` -> `i386-linux-gnu`. `None` off Linux.
fn multiarch(target: &str) -> Option<String> {
    let parts: Vec<&str> = target.split('-').collect();
    let (arch, env) = match parts.as_slice() {
        [arch, _, "linux", env] => (*arch, *env),
        [arch, _, "linux"] | [arch, "linux"] => (*arch, "gnu"),
        [arch, "linux", env] => (*arch, *env),
        _ => return None,
    };
    let arch = match arch {
        "i386" | "i486" | "i586" | "i686" => "i386",
        a if a.starts_with("arm") || a.starts_with("thumb") => "arm",
        a if a.starts_with("riscv64") => "riscv64",
        a if a.starts_with("riscv32") => "riscv32",
        a => a,
    };
    Some(format!("{arch}-linux-{env}"))
}

/// File names that count as libzmq on the target, in the order a message
/// lists them.
fn library_names(statik: bool) -> Vec<&'static str> {
    let windows = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows");
    let apple = std::env::var("CARGO_CFG_TARGET_VENDOR").as_deref() == Ok("apple");
    match (windows, apple, statik) {
        (true, _, _) => vec!["zmq.lib", "libzmq.lib"],
        (false, _, true) => vec!["libzmq.a"],
        (false, true, false) => vec!["libzmq.dylib", "libzmq.a"],
        (false, false, false) => vec!["libzmq.so", "libzmq.a"],
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `Libs.private` of `<lib_dir>/pkgconfig/libzmq.pc`, as library names.
fn private_libs(lib_dir: &Path) -> Vec<String> {
    let pc = lib_dir.join("pkgconfig").join("libzmq.pc");
    let Ok(text) = std::fs::read_to_string(pc) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("Libs.private:"))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|w| w.strip_prefix("-l"))
        .map(str::to_string)
        .collect()
}
