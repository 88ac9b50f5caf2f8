//! Day one, 8/8: an async ROUTER server answering 50 concurrent REQ clients
//! (tokio).
//!
//! `cargo run --example day_one_08_async`; pyzmq twin: `py/08_async.py`.

use futures_util::future::try_join_all;
use zmqx::prelude::*;

async fn serve(server: &AsyncSocket, requests: usize) -> zmqx::Result<()> {
    for _ in 0..requests {
        let mut msg = server.recv_multipart().await?; // [identity, "", request]
        msg[2] = msg[2].to_ascii_uppercase().into();
        server.send_multipart(msg).await?;
    }
    Ok(())
}

async fn client(ctx: &Context, endpoint: &str, n: usize) -> zmqx::Result<String> {
    let sock = AsyncSocket::new(ctx.socket(SocketType::Req)?)?;
    sock.set_rcvtimeo(Some(Duration::from_secs(5)))?;
    sock.connect(endpoint)?;
    sock.send(format!("hello {n}")).await?;
    sock.recv_string().await
}

#[tokio::main]
async fn main() -> zmqx::Result<()> {
    let ctx = Context::new();
    let server = AsyncSocket::new(ctx.socket(SocketType::Router)?)?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;
    let clients = try_join_all((0..50).map(|n| client(&ctx, &endpoint, n)));
    let ((), replies) = tokio::try_join!(serve(&server, 50), clients)?;
    println!("{} replies, the last: {}", replies.len(), replies[49]);
    Ok(())
}
