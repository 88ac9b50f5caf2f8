//! Helpers shared by the zmqx fuzz targets.
//!
//! Multipart inputs are written as the frames joined by [`SEPARATOR`], so a
//! seed corpus file can be written by hand (`1.0|#|1|#||#|127.0.0.1|#||#|NULL`
//! is a six-frame ZAP request). The empty input is zero frames.

/// What separates two frames in a multipart fuzz input.
pub const SEPARATOR: &[u8] = b"|#|";

/// Splits a fuzz input into frames at every [`SEPARATOR`]; the empty input
/// is no frame at all.
pub fn split_frames(data: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    if data.is_empty() {
        return frames;
    }
    let mut rest = data;
    while let Some(at) = find(rest, SEPARATOR) {
        frames.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    frames.push(rest);
    frames
}

/// Joins frames with [`SEPARATOR`] (the inverse of [`split_frames`] for
/// frames that do not contain it).
pub fn join_frames<F: AsRef<[u8]>>(frames: &[F]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEPARATOR);
        }
        out.extend_from_slice(frame.as_ref());
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
