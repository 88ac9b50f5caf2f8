//! CURVE certificate files and the ZPL text they are written in
//! (`zmqx::auth::Certificate::parse_bytes`, `zmqx::auth::zpl`).
//!
//! Properties: parsing never panics; a parsed ZPL document that can be
//! written back parses to the same tree; a parsed certificate that can be
//! written back (public and secret file) parses to the same certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmqx::auth::Certificate;
use zmqx::auth::zpl::{ZplDocument, ZplNode};

/// The tree without line numbers (they change when the text is rewritten).
fn strip_lines(nodes: &mut [ZplNode]) {
    for node in nodes {
        node.line = 0;
        strip_lines(&mut node.children);
    }
}

fuzz_target!(|data: &[u8]| {
    match ZplDocument::parse_bytes(data) {
        Ok(mut doc) => {
            if let Ok(text) = doc.to_zpl() {
                let mut again = ZplDocument::parse(&text)
                    .unwrap_or_else(|e| panic!("written ZPL does not parse: {e}\n{text}"));
                strip_lines(&mut doc.roots);
                strip_lines(&mut again.roots);
                assert_eq!(doc, again, "ZPL round trip changed the tree:\n{text}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match Certificate::parse_bytes(data) {
        Ok(cert) => {
            let _ = format!("{cert:?}");
            if let Ok(text) = cert.to_public_text() {
                let back = Certificate::parse(&text)
                    .unwrap_or_else(|e| panic!("written public file does not parse: {e}\n{text}"));
                assert_eq!(back.public, cert.public);
                assert_eq!(back.secret, None);
                assert_eq!(back.metadata, cert.metadata);
            }
            if let Ok(text) = cert.to_secret_text() {
                let back = Certificate::parse(&text)
                    .unwrap_or_else(|e| panic!("written secret file does not parse: {e}\n{text}"));
                assert_eq!(back, cert);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
