//! Async request/reply on tokio: a server task answering several client
//! tasks through a ROUTER/DEALER pair, all on the multi-thread runtime.
//!
//! `cargo run --example async_reqrep`

use std::time::Duration;

use zmqx::{AsyncSocket, Context, Message, Result, SocketType};

#[tokio::main]
async fn main() -> Result<()> {
    let ctx = Context::new();

    // The server: a ROUTER that answers every request with its upper case.
    let server = AsyncSocket::new(ctx.socket(SocketType::Router)?)?;
    let endpoint = server.bind("tcp://127.0.0.1:*")?;
    let server_task = tokio::spawn(async move {
        loop {
            // [client id, request]
            let mut msg = server.recv_multipart().await?;
            let request = msg.pop().expect("a request part");
            let text = request.as_str().unwrap_or("").to_uppercase();
            if text == "STOP" {
                return Ok::<_, zmqx::Error>(());
            }
            msg.push(Message::from(text));
            server.send_multipart(msg).await?;
        }
    });

    // Three clients, each a DEALER in its own task.
    let mut clients = Vec::new();
    for name in ["ada", "grace", "linus"] {
        let ctx = ctx.clone();
        let endpoint = endpoint.clone();
        clients.push(tokio::spawn(async move {
            let client = AsyncSocket::new(ctx.socket(SocketType::Dealer)?)?;
            client.connect(&endpoint)?;
            for i in 0..3 {
                client.send(format!("hello {i} from {name}")).await?;
                // Every await can be bounded: a dropped receive loses nothing.
                let reply = tokio::time::timeout(Duration::from_secs(5), client.recv_string())
                    .await
                    .expect("the server answers")?;
                println!("{name} got {reply:?}");
            }
            Ok::<_, zmqx::Error>(())
        }));
    }
    for c in clients {
        c.await.expect("client task")?;
    }

    let stopper = AsyncSocket::new(ctx.socket(SocketType::Dealer)?)?;
    stopper.connect(&endpoint)?;
    stopper.send("stop").await?;
    server_task.await.expect("server task")?;
    Ok(())
}
