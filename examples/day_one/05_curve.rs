//! Day one, 5/8: a CURVE server guarded by the authenticator. Certificates are
//! written to files; only clients whose public certificate is in the
//! `clients` directory get in.
//!
//! `cargo run --example day_one_05_curve`; pyzmq twin: `py/05_curve.py`.

use zmqx::auth::{Certificate, ThreadAuthenticator, create_certificates};
use zmqx::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::temp_dir().join(format!("zmqx-day-one-{}", std::process::id()));
    let clients = base.join("clients");
    std::fs::create_dir_all(&clients)?;
    let (_, server_secret_file) = create_certificates(&base, "server", &[])?;
    let (_, client_secret_file) = create_certificates(&clients, "alice", &[])?;
    let (_, stranger_secret_file) = create_certificates(&base, "stranger", &[])?;

    let ctx = Context::new();
    let mut auth = ThreadAuthenticator::new(&ctx);
    auth.start()?;
    auth.configure_curve("*", &clients)?;

    let server_keys = Certificate::load(&server_secret_file)?.keypair().ok_or("no secret key")?;
    let server = ctx.socket(SocketType::Pull)?;
    server.set_curve_server_keys(&server_keys)?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;

    for secret_file in [client_secret_file, stranger_secret_file] {
        let client_keys = Certificate::load(&secret_file)?.keypair().ok_or("no secret key")?;
        let client = ctx.socket(SocketType::Push)?;
        client.set_curve_client(&server_keys.public, &client_keys)?;
        client.connect(&endpoint)?;
        let name = &client_keys.public.to_z85()[..8];
        client.send(format!("hello from {name}"))?;
        let ready = server.poll(PollEvents::POLLIN, Some(Duration::from_secs(1)))?;
        if ready.contains(PollEvents::POLLIN) {
            let msg = server.recv_msg()?;
            println!("server got {msg:?} from user {:?}", msg.gets("User-Id")?);
        } else {
            println!("nothing from {name} (refused)");
        }
    }

    auth.stop();
    std::fs::remove_dir_all(&base)?;
    Ok(())
}
