//! Step 3: the system libzmq through pkg-config.

use crate::{Found, header};

pub fn find(tried: &mut Vec<String>) -> Option<Found> {
    match pkg_config::Config::new()
        .atleast_version("4.3.2")
        .cargo_metadata(true)
        .probe("libzmq")
    {
        Ok(lib) => {
            let include_dir = lib
                .include_paths
                .iter()
                .find(|p| p.join("zmq.h").exists())
                .cloned()
                .or_else(|| {
                    ["/usr/include", "/usr/local/include"]
                        .iter()
                        .map(std::path::PathBuf::from)
                        .find(|p| p.join("zmq.h").exists())
                });
            let version = include_dir
                .as_ref()
                .and_then(|d| header::read_version(&d.join("zmq.h")))
                .or_else(|| parse_version(&lib.version))
                .unwrap_or((4, 3, 2));
            let mut link_args: Vec<String> = lib
                .link_paths
                .iter()
                .map(|p| format!("-L{}", p.display()))
                .collect();
            link_args.extend(lib.libs.iter().map(|l| format!("-l{l}")));
            Some(Found {
                source: "pkg-config",
                include_dir,
                lib_dirs: lib.link_paths.clone(),
                link_args,
                version,
                curve: None,
                draft: None,
                platform: Vec::new(),
            })
        }
        Err(e) => {
            tried.push(format!("pkg-config libzmq >= 4.3.2: {}", reason(&e)));
            None
        }
    }
}

/// Why pkg-config found nothing, in its own words: its stderr when it ran
/// (for example "Package libzmq was not found in the pkg-config search path"
/// or "Package 'libzmq' has version '4.2.5', required version is '>= 4.3.2'"),
/// not just its exit status.
fn reason(e: &pkg_config::Error) -> String {
    let output = match e {
        pkg_config::Error::Failure { output, .. }
        | pkg_config::Error::ProbeFailure { output, .. } => Some(output),
        pkg_config::Error::Command { command, cause }
            if cause.kind() == std::io::ErrorKind::NotFound =>
        {
            return format!("pkg-config is not installed (could not run `{command}`)");
        }
        _ => None,
    };
    let text = match output {
        Some(o) if !o.stderr.iter().all(u8::is_ascii_whitespace) => {
            String::from_utf8_lossy(&o.stderr).into_owned()
        }
        Some(o) => format!("pkg-config failed ({}) and printed nothing", o.status),
        None => e.to_string(),
    };
    // One reason per line, indented under the "What was tried" entry.
    // pkg-config repeats some lines (once per package argument): drop repeats.
    let mut lines: Vec<&str> = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !lines.contains(&l) {
            lines.push(l);
        }
    }
    if lines.is_empty() {
        return "not found".into();
    }
    lines.join("\n      ")
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}
