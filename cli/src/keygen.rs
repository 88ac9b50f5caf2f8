//! `zmqx keygen`: writes a CURVE certificate pair, as czmq's `zmakecert`
//! and pyzmq's `zmq.auth.create_certificates`.

use std::path::PathBuf;

use zmqx::auth::Certificate;

use crate::Failure;
use crate::args::{parse_cert_name, parse_meta};

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Directory to write the certificates in (created if missing).
    #[arg(short, long, default_value = ".")]
    dir: PathBuf,
    /// Base name of the files: NAME.key and NAME.key_secret.
    #[arg(value_parser = parse_cert_name)]
    name: String,
    /// Metadata written in the certificates, as KEY=VALUE (repeatable).
    #[arg(short, long, value_parser = parse_meta)]
    meta: Vec<(String, String)>,
    /// Replace existing NAME.key / NAME.key_secret files (without it, an
    /// existing file is an error and nothing is written).
    #[arg(long)]
    force: bool,
}

pub fn run(args: KeygenArgs) -> Result<(), Failure> {
    let pair = zmqx::curve_keypair().map_err(|e| Failure::Runtime(e.to_string()))?;
    let mut cert = Certificate::new(&pair);
    cert.metadata = args.meta.clone();
    // Both texts first: metadata a certificate cannot hold is a bad
    // argument, found before anything is written.
    cert.to_public_text()
        .and_then(|_| cert.to_secret_text())
        .map_err(|e| Failure::Usage(format!("bad --meta: {e}")))?;
    let public = args.dir.join(format!("{}.key", args.name));
    let secret = args.dir.join(format!("{}.key_secret", args.name));
    if !args.force {
        for path in [&secret, &public] {
            if path.symlink_metadata().is_ok() {
                return Err(Failure::Runtime(format!(
                    "{} exists: refusing to overwrite it (pass --force to replace the pair)",
                    path.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", args.dir.display())))?;
    let runtime = |e: zmqx::auth::CertificateError| Failure::Runtime(e.to_string());
    cert.save_public(&public).map_err(runtime)?;
    cert.save_secret(&secret).map_err(runtime)?;
    println!("{}", public.display());
    println!("{}", secret.display());
    Ok(())
}
