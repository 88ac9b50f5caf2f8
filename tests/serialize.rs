//! Serialization helpers over real sockets: JSON and postcard round trips,
//! typed errors that hand the frames back, size limits, custom serializers
//! (trait, closures, multipart), text encodings.
#![cfg(all(feature = "json", feature = "postcard"))]

mod common;

use std::collections::BTreeMap;

use common::{inproc, socket};
use serde::{Deserialize, Serialize};
use zmqx::monitor::EventKind;
use zmqx::serialize::{
    BoxError, DecodeError, EncodeError, Encoding, FrameCount, Json, Postcard, Serializer, from_fns,
};
use zmqx::{Context, Error, Message, Result, Socket, SocketType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Circle { radius: f64 },
    Rect(u32, u32),
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Drawing {
    id: u64,
    title: String,
    shapes: Vec<Shape>,
    tags: BTreeMap<String, i32>,
    parent: Option<Box<Drawing>>,
}

fn drawing() -> Drawing {
    Drawing {
        id: 42,
        title: "héllo ✓".into(),
        shapes: vec![
            Shape::Circle { radius: 1.5 },
            Shape::Rect(3, 4),
            Shape::Empty,
        ],
        tags: [("a".to_string(), -1), ("b".to_string(), 7)].into(),
        parent: Some(Box::new(Drawing {
            id: 1,
            title: String::new(),
            shapes: vec![],
            tags: BTreeMap::new(),
            parent: None,
        })),
    }
}

/// A connected PUSH → PULL pair over inproc.
fn pipe(ctx: &Context) -> Result<(Socket, Socket)> {
    let endpoint = inproc("serialize");
    let pull = socket(ctx, SocketType::Pull)?;
    pull.bind(&endpoint)?;
    let push = socket(ctx, SocketType::Push)?;
    push.connect(&endpoint)?;
    Ok((push, pull))
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn error_stays_send_and_sync() {
    assert_send_sync::<Error>();
    assert_send_sync::<zmqx::Frames>();
    // `?` into std::io::Error still works with the new variants.
    let io: std::io::Error = Error::TooLarge {
        size: 2,
        limit: 1,
        frames: Message::from("ab").into(),
    }
    .into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn json_round_trip() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    let d = drawing();
    push.send_json(&d)?;
    assert_eq!(pull.recv_json::<Drawing>()?, d);

    // Enums, plain values, and borrowed unsized values.
    push.send_json(&Shape::Rect(1, 2))?;
    assert_eq!(pull.recv_json::<Shape>()?, Shape::Rect(1, 2));
    push.send_json("just a string")?;
    assert_eq!(pull.recv_json::<String>()?, "just a string");
    push.send_json(&[1u8, 2, 3][..])?;
    assert_eq!(pull.recv_json::<Vec<u8>>()?, vec![1, 2, 3]);

    // The wire format is plain JSON, what pyzmq's recv_json reads.
    push.send_json(&Shape::Rect(5, 6))?;
    assert_eq!(pull.recv_string()?, r#"{"Rect":[5,6]}"#);
    push.send(r#"{"Circle":{"radius":2.0}}"#)?;
    assert_eq!(pull.recv_json::<Shape>()?, Shape::Circle { radius: 2.0 });
    Ok(())
}

#[test]
fn postcard_round_trip() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    let d = drawing();
    push.send_postcard(&d)?;
    let m = pull.recv_msg()?;
    // Compact: far smaller than the JSON.
    let json_len = serde_json::to_vec(&d).map_err(|_| Error::Fault)?.len();
    assert!(
        m.len() * 2 < json_len,
        "postcard {} vs json {json_len}",
        m.len()
    );
    push.send(m)?;
    assert_eq!(pull.recv_postcard::<Drawing>()?, d);

    for shape in drawing().shapes {
        push.send_postcard(&shape)?;
        assert_eq!(pull.recv_postcard::<Shape>()?, shape);
    }
    // Large values go out zero-copy and come back intact.
    let big: Vec<u64> = (0..100_000).collect();
    push.send_postcard(&big)?;
    assert_eq!(pull.recv_postcard::<Vec<u64>>()?, big);
    Ok(())
}

#[test]
fn json_header_then_more_parts() -> Result<()> {
    // pyzmq's recipe: send_json(md, SNDMORE), then a raw part; here the
    // header's parts come from the serializer.
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    let mut parts = Json.serialize(&vec![2, 3]).map_err(|e| Error::Serialize {
        format: "json",
        source: e,
    })?;
    parts.push(Message::from(&b"payload"[..]));
    push.send_multipart(parts)?;
    let shape: Vec<usize> = pull.recv_json()?;
    assert_eq!(shape, vec![2, 3]);
    assert!(pull.rcvmore()?);
    assert_eq!(pull.recv_msg()?, "payload");
    Ok(())
}

#[test]
fn malformed_json_hands_the_frame_back() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    push.send(r#"{"id": 1, "title": "#)?;
    match pull.recv_json::<Drawing>() {
        Err(Error::Deserialize {
            format,
            frames,
            source,
        }) => {
            assert_eq!(format, "json");
            assert_eq!(frames.len(), 1);
            assert_eq!(&frames[0], br#"{"id": 1, "title": "#);
            assert!(source.downcast_ref::<serde_json::Error>().is_some());
            // The messages themselves come back too.
            assert_eq!(frames.into_messages()[0], r#"{"id": 1, "title": "#);
        }
        other => panic!("expected a Deserialize error, got {other:?}"),
    }

    // Valid JSON of the wrong shape is the same typed error.
    push.send(r#"{"Triangle":[]}"#)?;
    let err = pull.recv_json::<Shape>().unwrap_err();
    assert!(
        matches!(err, Error::Deserialize { format: "json", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("json"), "{err}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);

    // The socket goes on working.
    push.send_json(&Shape::Empty)?;
    assert_eq!(pull.recv_json::<Shape>()?, Shape::Empty);
    Ok(())
}

#[test]
fn malformed_postcard_hands_the_frame_back() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    // Variant 9 of a three-variant enum.
    push.send(&[9u8, 1, 2][..])?;
    match pull.recv_postcard::<Shape>() {
        Err(Error::Deserialize { format, frames, .. }) => {
            assert_eq!(format, "postcard");
            assert_eq!(frames.to_vecs(), vec![vec![9u8, 1, 2]]);
        }
        other => panic!("expected a Deserialize error, got {other:?}"),
    }
    // Truncated: a string announcing 200 bytes but carrying 3.
    push.send(&[200u8, 1, b'a', b'b', b'c'][..])?;
    let err = pull.recv_postcard::<String>().unwrap_err();
    assert!(matches!(err, Error::Deserialize { ref frames, .. } if frames[0].len() == 5));
    // A valid value followed by junk: another type was sent.
    push.send_postcard(&(7u8, 8u8))?;
    let err = pull.recv_postcard::<u8>().unwrap_err();
    assert!(matches!(err, Error::Deserialize { .. }), "{err}");
    Ok(())
}

#[test]
fn hostile_length_prefix_does_not_allocate() -> Result<()> {
    // A postcard Vec<u64> claiming u32::MAX elements in a 6-byte message: the
    // decoder must fail on the missing data, not try to reserve 32 GiB.
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    push.send(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x01][..])?;
    let err = pull.recv_postcard::<Vec<u64>>().unwrap_err();
    assert!(matches!(err, Error::Deserialize { .. }), "{err}");
    Ok(())
}

#[test]
fn size_limit_rejects_big_messages() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    let big = vec![7u32; 10_000];
    push.send_json(&big)?;
    match pull.recv_json_limited::<Vec<u32>>(1024) {
        Err(Error::TooLarge {
            size,
            limit,
            frames,
        }) => {
            assert_eq!(limit, 1024);
            assert!(size > 1024);
            assert_eq!(frames.total_len(), size);
            // Nothing lost: the caller can still decode it if it wants.
            let v: Vec<u32> = serde_json::from_slice(&frames[0]).map_err(|_| Error::Fault)?;
            assert_eq!(v, big);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }

    // At the limit is fine.
    push.send_postcard(&[1u8; 10])?;
    assert_eq!(pull.recv_postcard_limited::<[u8; 10]>(10)?, [1u8; 10]);
    push.send_postcard(&[1u8; 11])?;
    assert!(matches!(
        pull.recv_postcard_limited::<[u8; 11]>(10),
        Err(Error::TooLarge {
            size: 11,
            limit: 10,
            ..
        })
    ));

    // Multipart: the parts add up.
    push.send_multipart([&b"12345"[..], b"67890"])?;
    let err = pull.recv_serialized_limited(&Lines, 9).unwrap_err();
    match err {
        Error::TooLarge { size, frames, .. } => {
            assert_eq!(size, 10);
            assert_eq!(frames.len(), 2);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    Ok(())
}

#[test]
fn maxmsgsize_protects_the_transport() -> Result<()> {
    // The transport limit: libzmq drops the connection of a peer that sends
    // more than MAXMSGSIZE, before allocating the message (tcp).
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::Pull)?;
    pull.set_maxmsgsize(100)?;
    let events = pull.monitor_events(zmqx::Event::ALL)?;
    let endpoint = common::bind_tcp(&pull)?;
    let push = socket(&ctx, SocketType::Push)?;
    push.connect(&endpoint)?;
    push.send_json(&vec![0u8; 1000])?;
    let dropped = events.wait_for(EventKind::Disconnected, Some(common::TIMEOUT))?;
    assert!(dropped.is_some(), "the over-size peer was not disconnected");
    assert!(pull.try_recv_msg()?.is_none());
    Ok(())
}

/// One line of text per part.
struct Lines;

impl Serializer<Vec<String>> for Lines {
    fn format(&self) -> &'static str {
        "lines"
    }
    fn serialize(&self, value: &Vec<String>) -> std::result::Result<Vec<Message>, BoxError> {
        Ok(value.iter().map(Message::from).collect())
    }
    fn deserialize(&self, frames: &[Message]) -> std::result::Result<Vec<String>, BoxError> {
        frames
            .iter()
            .map(|f| Ok(std::str::from_utf8(f)?.to_string()))
            .collect()
    }
}

#[test]
fn custom_serializer_multipart() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    let lines = vec!["one".to_string(), String::new(), "three ✓".to_string()];
    push.send_serialized(&lines, &Lines)?;
    assert_eq!(pull.recv_serialized(&Lines)?, lines);

    // Invalid UTF-8 in the middle part: the whole message comes back.
    push.send_multipart([&b"ok"[..], b"\xff", b"ok"])?;
    match pull.recv_serialized(&Lines) {
        Err(Error::Deserialize {
            format,
            frames,
            source,
        }) => {
            assert_eq!(format, "lines");
            assert_eq!(
                frames.to_vecs(),
                vec![b"ok".to_vec(), vec![0xff], b"ok".to_vec()]
            );
            assert!(source.downcast_ref::<std::str::Utf8Error>().is_some());
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }

    // A serializer that makes no parts sends nothing.
    let err = push.send_serialized(&Vec::new(), &Lines).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Serialize {
                format: "lines",
                ..
            }
        ),
        "{err}"
    );
    assert!(pull.try_recv_msg()?.is_none());
    Ok(())
}

#[test]
fn json_and_postcard_as_serializers() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    fn roundtrip<S: Serializer<Drawing>>(push: &Socket, pull: &Socket, s: S) -> Result<()> {
        push.send_serialized(&drawing(), &s)?;
        assert_eq!(pull.recv_serialized(&s)?, drawing());
        Ok(())
    }
    roundtrip(&push, &pull, Json)?;
    roundtrip(&push, &pull, Postcard)?;
    // Serializers are usable as trait objects.
    let dynamic: &dyn Serializer<Drawing> = &Postcard;
    push.send_serialized(&drawing(), dynamic)?;
    assert_eq!(pull.recv_serialized(dynamic)?, drawing());

    // Two parts where one is expected.
    push.send_multipart(["{}", "{}"])?;
    match pull.recv_serialized::<Drawing, _>(&Json) {
        Err(Error::Deserialize { frames, source, .. }) => {
            assert_eq!(frames.len(), 2);
            assert_eq!(
                source.downcast_ref::<FrameCount>(),
                Some(&FrameCount {
                    expected: 1,
                    got: 2
                })
            );
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    Ok(())
}

#[test]
fn closures_and_routing_ids() -> Result<()> {
    // pyzmq's test_custom_serialize: DEALER → ROUTER and back, the routing
    // ids travelling in front of a JSON body.
    let ctx = Context::new();
    let endpoint = inproc("serialize-router");
    let router = socket(&ctx, SocketType::Router)?;
    router.bind(&endpoint)?;
    let dealer = socket(&ctx, SocketType::Dealer)?;
    dealer.connect(&endpoint)?;

    #[derive(Debug, PartialEq)]
    struct Msg {
        ids: Vec<Vec<u8>>,
        content: serde_json::Value,
    }
    let codec = from_fns(
        "routed json",
        |m: &Msg| {
            let mut frames: Vec<Message> = m.ids.iter().map(|id| Message::from(&id[..])).collect();
            frames.push(Message::from(serde_json::to_vec(&m.content)?));
            Ok(frames)
        },
        |frames: &[Message]| {
            let (body, ids) = frames.split_last().ok_or("no parts")?;
            Ok(Msg {
                ids: ids.iter().map(|m| m.to_vec()).collect(),
                content: serde_json::from_slice(body)?,
            })
        },
    );
    let msg = Msg {
        ids: vec![],
        content: serde_json::json!({"a": 5, "b": "bee"}),
    };
    dealer.send_serialized(&msg, &codec)?;
    let got = router.recv_serialized(&codec)?;
    assert_eq!(got.content, msg.content);
    assert_eq!(got.ids.len(), 1, "the router adds the dealer's routing id");
    router.send_serialized(&got, &codec)?;
    let back = dealer.recv_serialized(&codec)?;
    assert_eq!(back, msg);

    // The same with one-off closures.
    let sent = from_fns(
        "custom",
        |(n, s): &(u16, &str)| Ok(vec![Message::from(&n.to_le_bytes()), Message::from(*s)]),
        |_| Err("send only".into()),
    );
    dealer.send_serialized(&(1u16, "x"), &sent)?;
    let received = from_fns(
        "custom",
        |_: &(Vec<u8>, u16, String)| Err("receive only".into()),
        |frames| match frames {
            [id, n, s] => Ok((
                id.to_vec(),
                u16::from_le_bytes(n[..].try_into()?),
                std::str::from_utf8(s)?.to_string(),
            )),
            _ => Err("three parts expected".into()),
        },
    );
    let (id, n, s) = router.recv_serialized(&received)?;
    assert_eq!((n, s.as_str()), (1, "x"));
    assert_eq!(id, got.ids[0]);

    // A closure's error is a Deserialize error with the parts.
    dealer.send("only one")?;
    let refuse = from_fns(
        "custom",
        |_: &()| Err("cannot".into()),
        |_| -> std::result::Result<(), BoxError> { Err("nope".into()) },
    );
    let err = router.recv_serialized(&refuse).unwrap_err();
    match err {
        Error::Deserialize {
            format,
            frames,
            source,
        } => {
            assert_eq!(format, "custom");
            assert_eq!(frames.len(), 2);
            assert_eq!(&frames[1], b"only one");
            assert_eq!(source.to_string(), "nope");
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    // A closure's serialize error sends nothing.
    let err = dealer.send_serialized(&(), &refuse).unwrap_err();
    assert!(matches!(
        err,
        Error::Serialize {
            format: "custom",
            ..
        }
    ));
    Ok(())
}

#[test]
fn unserializable_value_sends_nothing() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;
    // JSON maps need string keys.
    let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
    let err = push.send_json(&map).unwrap_err();
    assert!(
        matches!(err, Error::Serialize { format: "json", .. }),
        "{err}"
    );
    assert!(pull.try_recv_msg()?.is_none());
    // postcard handles it.
    push.send_postcard(&map)?;
    assert_eq!(pull.recv_postcard::<BTreeMap<(u8, u8), u8>>()?, map);
    Ok(())
}

#[test]
fn string_encodings() -> Result<()> {
    let ctx = Context::new();
    let (push, pull) = pipe(&ctx)?;

    push.send_string_encoded("café", Encoding::Latin1)?;
    assert_eq!(pull.recv_msg()?, &b"caf\xe9"[..]);
    push.send(&b"caf\xe9"[..])?;
    assert_eq!(pull.recv_string_encoded(Encoding::Latin1)?, "café");

    push.send_string_encoded("café ✓", Encoding::Utf8)?;
    assert_eq!(pull.recv_string_encoded(Encoding::Utf8)?, "café ✓");

    push.send_string_encoded("hi", Encoding::Utf16Le)?;
    assert_eq!(pull.recv_msg()?, &b"h\0i\0"[..]);
    push.send_string_encoded("𝄞", Encoding::Utf16Be)?;
    assert_eq!(pull.recv_string_encoded(Encoding::Utf16Be)?, "𝄞");

    push.send_string_encoded("plain", "us-ascii".parse()?)?;
    assert_eq!(pull.recv_string_encoded(Encoding::Ascii)?, "plain");

    // Characters the encoding lacks: a typed error, nothing sent.
    let err = push
        .send_string_encoded("naïve", Encoding::Ascii)
        .unwrap_err();
    match err {
        Error::Serialize { format, source } => {
            assert_eq!(format, "ascii");
            let e = source.downcast_ref::<EncodeError>().expect("EncodeError");
            assert_eq!((e.index, e.ch), (2, 'ï'));
        }
        other => panic!("expected Serialize, got {other:?}"),
    }
    let err = push.send_string_encoded("€", Encoding::Latin1).unwrap_err();
    assert!(matches!(
        err,
        Error::Serialize {
            format: "latin-1",
            ..
        }
    ));
    assert!(pull.try_recv_msg()?.is_none());

    // Bytes invalid in the encoding: the part comes back.
    push.send(&b"ab\x80"[..])?;
    match pull.recv_string_encoded(Encoding::Ascii) {
        Err(Error::Deserialize {
            format,
            frames,
            source,
        }) => {
            assert_eq!(format, "ascii");
            assert_eq!(&frames[0], b"ab\x80");
            let e = source.downcast_ref::<DecodeError>().expect("DecodeError");
            assert_eq!((e.index, e.byte), (2, Some(0x80)));
        }
        other => panic!("expected Deserialize, got {other:?}"),
    }
    push.send(&b"\xc3("[..])?;
    assert!(matches!(
        pull.recv_string_encoded(Encoding::Utf8),
        Err(Error::Deserialize {
            format: "utf-8",
            ..
        })
    ));
    push.send(&b"odd"[..])?;
    assert!(matches!(
        pull.recv_string_encoded(Encoding::Utf16Le),
        Err(Error::Deserialize {
            format: "utf-16-le",
            ..
        })
    ));
    // Unknown encoding names are an error, not a guess.
    assert!(matches!(
        "ebcdic".parse::<Encoding>(),
        Err(Error::InvalidInput { .. })
    ));
    Ok(())
}

#[test]
fn nonblocking_receive_reports_again() -> Result<()> {
    let ctx = Context::new();
    let (_push, pull) = pipe(&ctx)?;
    pull.set_rcvtimeo(Some(std::time::Duration::ZERO))?;
    assert!(matches!(pull.recv_json::<u8>(), Err(Error::Again)));
    assert!(matches!(pull.recv_serialized(&Lines), Err(Error::Again)));
    Ok(())
}

#[test]
fn interop_with_pyzmq() -> Result<()> {
    // pyzmq's send_json / recv_json understand ours, and back.
    let Some(python) = common::python() else {
        return Ok(());
    };
    let ctx = Context::new();
    let rep = socket(&ctx, SocketType::Rep)?;
    let endpoint = common::bind_tcp(&rep)?;
    let script = r#"
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.rcvtimeo = s.sndtimeo = 10000
s.linger = 0
s.connect(sys.argv[1])
s.send_json({"id": 1, "name": "py", "values": [1.5, 2]})
reply = s.recv_json()
s.send_string("caf\u00e9", encoding="latin-1")
text = s.recv_string(encoding="utf-16-le")
print(reply["name"], reply["values"], text)
"#;
    let child = common::spawn_python(&python, script, &[&endpoint]).map_err(|_| Error::Fault)?;

    #[derive(Debug, Serialize, Deserialize)]
    struct Req {
        id: u32,
        name: String,
        values: Vec<f64>,
    }
    let mut req: Req = rep.recv_json()?;
    assert_eq!(req.id, 1);
    assert_eq!(req.values, vec![1.5, 2.0]);
    req.name = "rust".into();
    rep.send_json(&req)?;
    let text = rep.recv_string_encoded(Encoding::Latin1)?;
    assert_eq!(text, "café");
    rep.send_string_encoded("ünï", Encoding::Utf16Le)?;

    let out = common::wait_child(child, common::TIMEOUT).map_err(|_| Error::Fault)?;
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "rust [1.5, 2.0] ünï"
    );
    Ok(())
}
