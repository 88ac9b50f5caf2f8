//! pyzmq's "array with metadata" recipe in Rust: a JSON header frame
//! (dtype and shape) followed by the raw data frame, handed to libzmq
//! without copying, and rebuilt on the other side.
//!
//! `cargo run --example array_with_metadata` (inproc), or
//! `cargo run --example array_with_metadata -- tcp`.

use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zmqx::serialize::{BoxError, from_fns};
use zmqx::{Context, Error, Message, Socket, SocketType};

/// The metadata frame: what numpy's `dtype` and `shape` say in pyzmq's recipe.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    dtype: String,
    shape: [usize; 2],
}

/// A row-major matrix of f64.
#[derive(Debug, PartialEq)]
struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Sends the header with SNDMORE, then the data as little-endian bytes,
/// zero-copy: libzmq sends straight from our buffer and drops it when done.
fn send_array(socket: &Socket, m: &Matrix) -> zmqx::Result<zmqx::MessageTracker> {
    let header = Header {
        dtype: "f64".into(),
        shape: [m.rows, m.cols],
    };
    let bytes: Vec<u8> = m.data.iter().flat_map(|x| x.to_le_bytes()).collect();
    let (frame, tracker) = Message::tracked(bytes);
    socket.send_multipart([Message::from(json(&header)?), frame])?;
    Ok(tracker)
}

/// Receives both frames and rebuilds the matrix. A header that does not
/// match the data is an `Error::Deserialize` that hands both frames back.
fn recv_array(socket: &Socket) -> zmqx::Result<Matrix> {
    socket.recv_serialized(&from_fns(
        "array",
        |_: &Matrix| Err("receive only".into()),
        |frames| -> Result<Matrix, BoxError> {
            let [header, data] = frames else {
                return Err(format!("expected 2 frames, got {}", frames.len()).into());
            };
            let header: Header = serde_json::from_slice(header)?;
            if header.dtype != "f64" {
                return Err(format!("unsupported dtype {:?}", header.dtype).into());
            }
            let [rows, cols] = header.shape;
            let expected = rows
                .checked_mul(cols)
                .and_then(|n| n.checked_mul(8))
                .ok_or("shape overflows")?;
            if data.len() != expected {
                return Err(format!(
                    "shape {rows}x{cols} needs {expected} bytes, the data frame has {}",
                    data.len()
                )
                .into());
            }
            // The data frame is read in place (no copy out of libzmq's
            // buffer); the only allocation is the Vec<f64> being built.
            let values = data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
                .collect();
            Ok(Matrix {
                rows,
                cols,
                data: values,
            })
        },
    ))
}

/// The header as JSON bytes.
fn json(header: &Header) -> zmqx::Result<Vec<u8>> {
    serde_json::to_vec(header).map_err(|e| Error::Serialize {
        format: "json",
        source: Box::new(e),
    })
}

fn main() -> zmqx::Result<()> {
    let tcp = std::env::args().nth(1).as_deref() == Some("tcp");
    let ctx = Context::new();
    let receiver = ctx.socket(SocketType::Pull)?;
    receiver.set_rcvtimeo(Some(Duration::from_secs(10)))?;
    let endpoint = if tcp {
        receiver.bind("tcp://127.0.0.1:*")?;
        receiver.last_endpoint()?
    } else {
        receiver.bind("inproc://arrays")?;
        "inproc://arrays".to_string()
    };
    println!("receiver bound at {endpoint}");

    let sender_ctx = ctx.clone();
    let sender = thread::spawn(move || -> zmqx::Result<()> {
        let push = sender_ctx.socket(SocketType::Push)?;
        push.connect(&endpoint)?;

        let (rows, cols) = (300, 400);
        let m = Matrix {
            rows,
            cols,
            data: (0..rows * cols).map(|i| i as f64 * 0.5).collect(),
        };
        let tracker = send_array(&push, &m)?;
        println!(
            "sent a {rows}x{cols} f64 array: header frame + {} data bytes, zero-copy",
            rows * cols * 8
        );
        tracker.wait(Some(Duration::from_secs(10)))?;
        println!("libzmq released the data buffer (the tracker is done)");

        // A header that lies about the shape.
        let liar = Header {
            dtype: "f64".into(),
            shape: [2, 2],
        };
        push.send_multipart([json(&liar)?, vec![0u8; 24]])?;
        Ok(())
    });

    let m = recv_array(&receiver)?;
    let expected_last = (m.rows * m.cols - 1) as f64 * 0.5;
    println!(
        "received a {}x{} array; m[0][1] = {}, last = {} (expected {expected_last})",
        m.rows,
        m.cols,
        m.data[1],
        m.data[m.data.len() - 1]
    );
    assert_eq!(m.data.len(), m.rows * m.cols);
    assert_eq!(m.data[m.data.len() - 1], expected_last);

    match recv_array(&receiver) {
        Err(Error::Deserialize { frames, source, .. }) => println!(
            "rejected a bad array ({source}); got its {} frames back, header {:?}",
            frames.len(),
            String::from_utf8_lossy(&frames[0])
        ),
        other => panic!("expected the bad array to be rejected, got {other:?}"),
    }

    sender.join().expect("sender thread")?;
    Ok(())
}
