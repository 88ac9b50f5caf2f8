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
            let text = e.to_string();
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("not found");
            tried.push(format!("pkg-config libzmq >= 4.3.2: {first}"));
            None
        }
    }
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}
