//! Step 1: a libzmq the user points at with `LIBZMQ_PREFIX` or
//! `LIBZMQ_LIB_DIR` + `LIBZMQ_INCLUDE_DIR`.

use std::path::PathBuf;

use crate::{Found, env, header};

pub fn find(tried: &mut Vec<String>) -> Option<Found> {
    let (lib_dir, include_dir) = match (
        env::var("LIBZMQ_PREFIX"),
        env::var("LIBZMQ_LIB_DIR"),
        env::var("LIBZMQ_INCLUDE_DIR"),
    ) {
        (_, Some(lib), Some(inc)) => (PathBuf::from(lib), PathBuf::from(inc)),
        (Some(prefix), lib, inc) => {
            let prefix = PathBuf::from(prefix);
            let lib = lib.map(PathBuf::from).unwrap_or_else(|| {
                // Debian-style multiarch or lib64 layouts, else plain lib.
                ["lib", "lib64"]
                    .iter()
                    .map(|d| prefix.join(d))
                    .find(|d| has_libzmq(d))
                    .unwrap_or_else(|| prefix.join("lib"))
            });
            let inc = inc
                .map(PathBuf::from)
                .unwrap_or_else(|| prefix.join("include"));
            (lib, inc)
        }
        (None, Some(_), None) | (None, None, Some(_)) => {
            tried.push(
                "LIBZMQ_LIB_DIR and LIBZMQ_INCLUDE_DIR must be set together (or set LIBZMQ_PREFIX)"
                    .into(),
            );
            return None;
        }
        (None, None, None) => {
            tried.push("LIBZMQ_PREFIX / LIBZMQ_LIB_DIR + LIBZMQ_INCLUDE_DIR: not set".into());
            return None;
        }
    };

    let header = include_dir.join("zmq.h");
    let Some(version) = header::read_version(&header) else {
        tried.push(format!(
            "explicit location: no readable zmq.h at {}",
            header.display()
        ));
        return None;
    };
    if !has_libzmq(&lib_dir) {
        tried.push(format!(
            "explicit location: no libzmq library in {}",
            lib_dir.display()
        ));
        return None;
    }
    if version < (4, 3, 2) {
        tried.push(format!(
            "explicit location {}: libzmq {}.{}.{} is older than 4.3.2",
            include_dir.display(),
            version.0,
            version.1,
            version.2
        ));
        return None;
    }

    let statik = env::flag("LIBZMQ_STATIC");
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

    Some(Found {
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

fn has_libzmq(dir: &std::path::Path) -> bool {
    [
        "libzmq.so",
        "libzmq.a",
        "libzmq.dylib",
        "zmq.lib",
        "libzmq.lib",
    ]
    .iter()
    .any(|f| dir.join(f).exists())
}

/// `Libs.private` of `<lib_dir>/pkgconfig/libzmq.pc`, as library names.
fn private_libs(lib_dir: &std::path::Path) -> Vec<String> {
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
