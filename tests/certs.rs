//! Certificate files on disk: creating, loading, directories, and errors
//! that name the file and line.

mod auth_util;

use std::collections::HashSet;

use auth_util::{TempDir, TestResult};
use zmqx::CurveKey;
use zmqx::auth::{
    Certificate, CertificateError, create_certificates, load_certificate, load_certificates,
};

#[test]
fn create_then_load() -> TestResult {
    let dir = TempDir::new("certs-create");
    let (public_file, secret_file) = create_certificates(
        dir.path(),
        "node",
        &[("name", "Node #1"), ("email", "a@b.c")],
    )?;
    assert_eq!(public_file, dir.path().join("node.key"));
    assert_eq!(secret_file, dir.path().join("node.key_secret"));

    let (public, secret) = load_certificate(&secret_file)?;
    let secret = secret.expect("the secret file has the secret key");
    assert_eq!(zmqx::curve_public(&secret)?, public);
    assert_eq!(load_certificate(&public_file)?, (public, None));

    // The text is what pyzmq and czmq write: comments, then sections, with
    // quoted Z85 keys; the public file has no secret key.
    let public_text = std::fs::read_to_string(&public_file)?;
    assert!(public_text.starts_with("#   ****  Generated on "));
    assert!(public_text.contains("ZeroMQ CURVE Public Certificate"));
    assert!(public_text.contains(&format!("curve\n    public-key = \"{public}\"\n")));
    assert!(!public_text.contains("secret-key"));
    let secret_text = std::fs::read_to_string(&secret_file)?;
    assert!(secret_text.contains("ZeroMQ CURVE **Secret** Certificate"));
    assert!(secret_text.contains(&format!("    secret-key = \"{secret}\"\n")));
    assert!(secret_text.contains("metadata\n    name = \"Node #1\"\n    email = \"a@b.c\"\n"));

    let cert = Certificate::load(&public_file)?;
    assert_eq!(cert.meta("name"), Some("Node #1"));
    assert_eq!(cert.meta("email"), Some("a@b.c"));
    assert!(cert.keypair().is_none());
    let cert = Certificate::load(&secret_file)?;
    assert_eq!(cert.keypair().map(|p| p.secret), Some(secret));
    Ok(())
}

#[cfg(unix)]
#[test]
fn secret_file_is_private() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("certs-mode");
    let (public_file, secret_file) = create_certificates(dir.path(), "x", &[])?;
    let mode = |p: &std::path::Path| -> TestResult<u32> {
        Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
    };
    assert_eq!(mode(&secret_file)?, 0o600);
    assert_ne!(mode(&public_file)?, 0o600, "the public file stays readable");
    // Overwriting a wider file narrows it.
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644))?;
    create_certificates(dir.path(), "x", &[])?;
    assert_eq!(mode(&secret_file)?, 0o600);
    Ok(())
}

#[test]
fn load_a_directory() -> TestResult {
    let dir = TempDir::new("certs-dir");
    let mut expected = HashSet::new();
    for name in ["a", "b", "c"] {
        let (public, _) = create_certificates(dir.path(), name, &[])?;
        expected.insert(load_certificate(&public)?.0);
    }
    // Skipped: other extensions, hidden files, subdirectories.
    std::fs::write(dir.path().join("notes.txt"), "not a certificate")?;
    std::fs::write(dir.path().join(".hidden.key"), "not a certificate either")?;
    std::fs::create_dir(dir.path().join("sub.key"))?;
    assert_eq!(load_certificates(dir.path())?, expected);

    // Empty directory: no keys.
    let empty = TempDir::new("certs-empty");
    assert!(load_certificates(empty.path())?.is_empty());

    // A missing directory names itself.
    let missing = dir.path().join("missing");
    let e = load_certificates(&missing).expect_err("no such directory");
    assert_eq!(e.path, missing);
    assert_eq!(e.line, None);
    Ok(())
}

#[test]
fn a_bad_file_names_its_file_and_line() -> TestResult {
    let dir = TempDir::new("certs-bad");
    create_certificates(dir.path(), "good", &[])?;
    let bad = dir.path().join("bad.key");
    std::fs::write(
        &bad,
        "# comment\r\nmetadata\r\ncurve\r\n    public-key = \"not-a-key\"\r\n",
    )?;
    let check = |e: CertificateError| {
        let CertificateError { path, line, reason } = &e;
        assert_eq!(path, &bad);
        assert_eq!(*line, Some(4));
        assert!(reason.contains("public-key"), "{reason}");
        let text = e.to_string();
        assert!(
            text.contains("bad.key") && text.contains("line 4"),
            "{text}"
        );
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    };
    check(load_certificate(&bad).expect_err("bad key"));
    // The whole directory is refused rather than half loaded.
    check(load_certificates(dir.path()).expect_err("bad file in the directory"));

    // A key line without '=' (indentation itself is free, as in pyzmq).
    std::fs::write(&bad, "curve\n   public-key x\n")?;
    let e = load_certificate(&bad).expect_err("no '='");
    assert_eq!(e.line, Some(2));
    assert!(e.reason.contains("'='"), "{e}");
    // Not found.
    let e = load_certificate(dir.path().join("nope.key")).expect_err("no file");
    assert_eq!(e.line, None);
    Ok(())
}

#[test]
fn hash_in_keys_and_crlf() -> TestResult {
    // Keys whose Z85 text holds '#', quoted (as written) or bare, with CRLF.
    let key = (0u8..=255)
        .map(|b| CurveKey::from([b; 32]))
        .find(|k| {
            let z = k.to_z85();
            !z.starts_with('#') && z.contains('#')
        })
        .expect("some key has a '#'");
    let dir = TempDir::new("certs-hash");
    let path = dir.path().join("hash.key");
    for line in [
        format!("public-key = \"{key}\""),
        format!("public-key = {key}   # note"),
    ] {
        std::fs::write(&path, format!("metadata\r\ncurve\r\n    {line}\r\n"))?;
        assert_eq!(load_certificate(&path)?, (key, None), "{line}");
    }
    Ok(())
}

#[test]
fn bad_names_and_metadata_write_nothing() {
    let dir = TempDir::new("certs-names");
    let certificate_error = |r: Result<_, zmqx::auth::Error>| match r {
        Err(zmqx::auth::Error::Certificate(e)) => e,
        other => panic!("{other:?}"),
    };
    for name in ["", "a/b", "nul\0"] {
        let e = certificate_error(create_certificates(dir.path(), name, &[]));
        assert!(e.reason.contains("name"), "{e}");
    }
    let e = certificate_error(create_certificates(dir.path(), "m", &[("bad name", "v")]));
    assert_eq!(e.path, dir.path().join("m.key"));
    assert!(e.reason.contains("bad name"), "{e}");
    certificate_error(create_certificates(
        dir.path(),
        "m",
        &[("name", "two\nlines")],
    ));
    assert!(!dir.path().join("m.key").exists());
    // A directory that does not exist.
    let e = certificate_error(create_certificates(dir.path().join("missing"), "x", &[]));
    assert_eq!(e.path, dir.path().join("missing").join("x.key"));
}
