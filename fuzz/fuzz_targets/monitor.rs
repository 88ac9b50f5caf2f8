//! Monitor events as they arrive on a monitor socket
//! (`zmqx::monitor::parse_monitor_message`): the frames of the input are
//! separated by `|#|` (see `src/lib.rs`).
//!
//! Properties: parsing never panics; a malformed message hands back exactly
//! the frames it got; a parsed event carries the id, value and endpoint of
//! the frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmqx::Message;
use zmqx::monitor::{EventKind, parse_monitor_message};
use zmqx_fuzz::split_frames;

fuzz_target!(|data: &[u8]| {
    let frames = split_frames(data);
    let messages: Vec<Message> = frames.iter().map(|f| Message::from(*f)).collect();
    match parse_monitor_message(&messages) {
        Ok(event) => {
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[0].len(), 6);
            let id = u16::from_ne_bytes([frames[0][0], frames[0][1]]);
            let raw = u32::from_ne_bytes([frames[0][2], frames[0][3], frames[0][4], frames[0][5]]);
            assert_eq!(event.id(), id);
            assert_eq!(event.kind, EventKind::from_id(id));
            assert_eq!(event.value.raw(), raw);
            assert_eq!(event.endpoint.as_bytes(), frames[1]);
            let _ = event.value.error();
            let _ = event.to_string();
        }
        Err(zmqx::Error::MonitorEvent {
            reason,
            frames: back,
        }) => {
            assert_eq!(back.to_vecs(), frames, "the frames handed back differ");
            let _ = reason.to_string();
        }
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
});
