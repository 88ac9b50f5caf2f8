//! The Z85 vectors of pyzmq's `test_z85.py` (from the reference
//! implementation, ZeroMQ RFC 32). Nothing of that file is skipped.
//! Round trips against libzmq itself are in `z85_libzmq.rs`.

use zmqx::z85;

fn check(raw: &[u8; 32], text: &str) {
    assert_eq!(z85::encode(raw).expect("32 bytes encode"), text);
    assert_eq!(z85::decode(text).expect("40 characters decode"), raw);
    assert_eq!(z85::decode_bytes(text.as_bytes()).expect("decode"), raw);
}

#[test]
fn client_public() {
    check(
        b"\xbb\x88\x47\x1d\x65\xe2\x65\x9b\x30\xc5\x5a\x53\x21\xce\xbb\x5a\
          \xab\x2b\x70\xa3\x98\x64\x5c\x26\xdc\xa2\xb2\xfc\xb4\x3f\xc5\x18",
        "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
    );
}

#[test]
fn client_secret() {
    check(
        b"\x7b\xb8\x64\xb4\x89\xaf\xa3\x67\x1f\xbe\x69\x10\x1f\x94\xb3\x89\
          \x72\xf2\x48\x16\xdf\xb0\x1b\x51\x65\x6b\x3f\xec\x8d\xfd\x08\x88",
        "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
    );
}

#[test]
fn server_public() {
    check(
        b"\x54\xfc\xba\x24\xe9\x32\x49\x96\x93\x16\xfb\x61\x7c\x87\x2b\xb0\
          \xc1\xd1\xff\x14\x80\x04\x27\xc5\x94\xcb\xfa\xcf\x1b\xc2\xd6\x52",
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
    );
}

#[test]
fn server_secret() {
    check(
        b"\x8e\x0b\xdd\x69\x76\x28\xb9\x1d\x8f\x24\x55\x87\xee\x95\xc5\xb0\
          \x4d\x48\x96\x3f\x79\x25\x98\x77\xb4\x9c\xd9\x06\x3a\xea\xd3\xb7",
        "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
    );
}
