//! Certificate files written by pyzmq and by czmq load in zmqx with the keys
//! those libraries report and the metadata they were given, including what
//! is not strict ZPL: a name with a space (`    full name = Alice Smith`,
//! as pyzmq writes it), a line break in a value (both), quotes inside a
//! quoted value (czmq). And czmq reads the files zmqx writes.
//!
//! The pyzmq half needs ZMQX_PYTHON; the czmq half compiles a small C
//! program against libczmq (Debian's `libczmq-dev`). Without them a test is
//! skipped with a message, and fails under CI=true.

mod auth_util;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use auth_util::{TempDir, TestResult};
use zmqx::CurveKey;
use zmqx::auth::{Certificate, create_certificates, load_certificate, load_certificates};

/// How long a child process (python, the C compiler, the C program) may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Runs a command to its end with a deadline; returns its stdout, or its
/// failure as text.
fn run(command: &mut Command) -> std::result::Result<String, String> {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let out = common::wait_child(child, CHILD_TIMEOUT).map_err(|e| format!("{command:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

/// The words after `tag` on the line of `out` that starts with it.
fn line<'a>(out: &'a str, tag: &str) -> Vec<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(tag))
        .unwrap_or_else(|| panic!("no {tag:?} line in {out:?}"))
        .split(' ')
        .collect()
}

const PYZMQ_SCRIPT: &str = r#"
import sys
import zmq.auth
directory = sys.argv[1]
metadata = {
    "full name": "Alice Smith",
    "note": "line one\nline two",
    "tag": "a # b",
    "quote": 'say "hi"',
}
public_file, secret_file = zmq.auth.create_certificates(directory, "spaced", metadata=metadata)
pub, sec = zmq.auth.load_certificate(secret_file)
print("KEYS", pub.decode(), sec.decode())
print("DIR", " ".join(sorted(k.decode() for k in zmq.auth.load_certificates(directory))))
"#;

#[test]
fn pyzmq_certificates_with_any_metadata_load() -> TestResult {
    let Some(python) = common::python() else {
        return Ok(());
    };
    let dir = TempDir::new("certs-pyzmq");
    let out = run(Command::new(&python)
        .arg("-c")
        .arg(PYZMQ_SCRIPT)
        .arg(dir.path()))?;
    let keys = line(&out, "KEYS ");
    let secret_file = dir.path().join("spaced.key_secret");
    // What pyzmq wrote is not strict ZPL...
    let text = std::fs::read_to_string(&secret_file)?;
    assert!(text.contains("\n    full name = Alice Smith\n"), "{text}");
    assert!(text.contains("\n    note = line one\nline two\n"), "{text}");

    // ...and loads, with pyzmq's keys.
    let (public, secret) = load_certificate(&secret_file)?;
    assert_eq!(public.to_z85(), keys[0]);
    assert_eq!(secret.map(|k| k.to_z85()).as_deref(), Some(keys[1]));
    assert_eq!(
        load_certificate(dir.path().join("spaced.key"))?,
        (public, None)
    );
    let cert = Certificate::load(&secret_file)?;
    assert_eq!(cert.meta("full name"), Some("Alice Smith"));
    assert_eq!(cert.meta("note"), Some("line one\nline two"));
    assert_eq!(cert.meta("tag"), Some("a # b"));
    assert_eq!(cert.meta("quote"), Some("say \"hi\""));
    assert_eq!(cert.metadata.len(), 4, "{:?}", cert.metadata);
    // The directory loaders agree.
    let mut ours: Vec<String> = load_certificates(dir.path())?
        .iter()
        .map(CurveKey::to_z85)
        .collect();
    ours.sort();
    assert_eq!(line(&out, "DIR "), ours);
    Ok(())
}

const CZMQ_PROGRAM: &str = r#"
#include <czmq.h>
/* argv[1]: where to save a certificate; argv[2]: a certificate to load. */
int main (int argc, char **argv) {
    if (argc != 3)
        return 2;
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "full name", "%s", "Alice Smith");
    zcert_set_meta (cert, "quote", "%s", "say \"hi\" it's");
    zcert_set_meta (cert, "multi", "%s", "line1\nline2 two");
    zcert_set_meta (cert, "hash", "%s", "a # b");
    zcert_set_meta (cert, "empty", "%s", "");
    if (zcert_save (cert, argv [1]) != 0)
        return 3;
    printf ("KEYS %s %s\n", zcert_public_txt (cert), zcert_secret_txt (cert));
    zcert_destroy (&cert);
    zcert_t *theirs = zcert_load (argv [2]);
    if (!theirs)
        return 4;
    const char *name = zcert_meta (theirs, "name");
    printf ("LOADED %s %s\n", zcert_public_txt (theirs), name ? name : "-");
    zcert_destroy (&theirs);
    return 0;
}
"#;

/// Compiles the C program against libczmq, or says why it cannot.
fn czmq_program(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("certs.c");
    std::fs::write(&source, CZMQ_PROGRAM).expect("write the C source");
    // Is czmq's header there at all? (Only that is a reason to skip.)
    let probe = run(Command::new("cc")
        .args(["-E", "-x", "c", "-o", "/dev/null"])
        .arg(&source));
    if let Err(why) = probe {
        assert!(
            !under_ci(),
            "czmq is required under CI (apt install libczmq-dev): {why}"
        );
        eprintln!("SKIPPED: czmq's header cannot be used (install libczmq-dev): {why}");
        return None;
    }
    let program = dir.join("certs");
    if let Err(why) = run(Command::new("cc")
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .args(["-lczmq", "-lzmq"]))
    {
        panic!("czmq.h is there but the program does not build: {why}");
    }
    Some(program)
}

#[test]
fn czmq_certificates_load_and_czmq_reads_ours() -> TestResult {
    let dir = TempDir::new("certs-czmq");
    let Some(program) = czmq_program(dir.path()) else {
        return Ok(());
    };
    let ours = TempDir::new("certs-czmq-ours");
    let (our_public, _) = create_certificates(ours.path(), "rs", &[("name", "from zmqx #1")])?;
    let czmq_file = dir.path().join("czmq.key");
    let out = run(Command::new(&program).arg(&czmq_file).arg(&our_public))?;

    // czmq's files load, with czmq's keys and metadata.
    let keys = line(&out, "KEYS ");
    let secret_file = dir.path().join("czmq.key_secret");
    let (public, secret) = load_certificate(&secret_file)?;
    assert_eq!(public.to_z85(), keys[0]);
    assert_eq!(secret.map(|k| k.to_z85()).as_deref(), Some(keys[1]));
    for file in [&czmq_file, &secret_file] {
        let cert = Certificate::load(file)?;
        assert_eq!(cert.public, public);
        assert_eq!(cert.meta("full name"), Some("Alice Smith"), "{file:?}");
        assert_eq!(cert.meta("quote"), Some("say \"hi\" it's"), "{file:?}");
        assert_eq!(cert.meta("multi"), Some("line1\nline2 two"), "{file:?}");
        assert_eq!(cert.meta("hash"), Some("a # b"), "{file:?}");
        assert_eq!(cert.meta("empty"), Some(""), "{file:?}");
        assert_eq!(cert.metadata.len(), 5, "{:?}", cert.metadata);
    }

    // czmq reads what zmqx writes, metadata included.
    let loaded = line(&out, "LOADED ");
    assert_eq!(loaded[0], load_certificate(&our_public)?.0.to_z85());
    assert_eq!(loaded[1..].join(" "), "from zmqx #1");
    Ok(())
}
