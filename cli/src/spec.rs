//! Socket specs (`TYPE@[bind:|connect:]ENDPOINT`), the syntactic check of
//! endpoints, and which socket types can play which role. Everything here
//! runs before a socket exists, so bad arguments exit with code 2 before
//! anything is bound.

use zmqx::SocketType;

/// A socket to open: its type, and where it binds or connects.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: SocketType,
    pub bind: bool,
    pub endpoint: String,
}

/// A spec whose type may be left out (`[TYPE@][bind:|connect:]ENDPOINT`):
/// the device subcommands fill it in from the device kind.
#[derive(Clone, Debug)]
pub struct LooseSpec {
    pub kind: Option<SocketType>,
    pub bind: bool,
    pub endpoint: String,
}

impl LooseSpec {
    /// The spec with `default` as its type when none was given.
    pub fn or_type(&self, default: SocketType) -> Spec {
        Spec {
            kind: self.kind.unwrap_or(default),
            bind: self.bind,
            endpoint: self.endpoint.clone(),
        }
    }
}

/// The transports libzmq knows (`zmq_bind(3)`, `zmq_connect(3)`); whether
/// this build of libzmq supports each is found out when binding.
pub const TRANSPORTS: &[&str] = &[
    "tcp", "ipc", "inproc", "pgm", "epgm", "ws", "wss", "tipc", "vmci", "udp",
];

/// Every socket type name, for messages.
pub fn type_names() -> String {
    SocketType::all()
        .iter()
        .map(|t| t.name().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a socket type name (case-insensitive); an unknown one gets the list
/// of valid names.
pub fn parse_type(name: &str) -> Result<SocketType, String> {
    name.parse().map_err(|_: zmqx::Error| {
        format!(
            "unknown socket type {name:?} (valid types: {})",
            type_names()
        )
    })
}

/// `[TYPE@][bind:|connect:]ENDPOINT`. A type is the text before the first
/// `@` when it is a plain word, so an `@` inside an ipc path is no type.
pub fn parse_loose(s: &str) -> Result<LooseSpec, String> {
    let (kind, rest) = match s.split_once('@') {
        Some((t, rest))
            if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            (Some(parse_type(t)?), rest)
        }
        _ => (None, s),
    };
    let (bind, endpoint) = if let Some(e) = rest.strip_prefix("bind:") {
        (true, e)
    } else if let Some(e) = rest.strip_prefix("connect:") {
        (false, e)
    } else {
        (true, rest)
    };
    check_endpoint(endpoint, bind)?;
    Ok(LooseSpec {
        kind,
        bind,
        endpoint: endpoint.to_owned(),
    })
}

/// `TYPE@[bind:|connect:]ENDPOINT`, the type required.
pub fn parse_spec(s: &str) -> Result<Spec, String> {
    let loose = parse_loose(s)?;
    let kind = loose.kind.ok_or_else(|| {
        format!(
            "{s:?} has no socket type: write TYPE@ENDPOINT (valid types: {})",
            type_names()
        )
    })?;
    Ok(loose.or_type(kind))
}

/// A capture or monitor socket: it must be able to send.
pub fn parse_sending_spec(s: &str) -> Result<Spec, String> {
    let spec = parse_spec(s)?;
    if !can_send(spec.kind) {
        return Err(format!(
            "a {} socket cannot send the copies (use PUB, PUSH, PAIR, DEALER…)",
            spec.kind
        ));
    }
    Ok(spec)
}

/// A monitor socket whose type defaults to PUB (pyzmq's `mon_type`).
pub fn parse_mon_spec(s: &str) -> Result<Spec, String> {
    let spec = parse_loose(s)?.or_type(SocketType::Pub);
    if !can_send(spec.kind) {
        return Err(format!(
            "a {} socket cannot send the copies (use PUB, PUSH, PAIR, DEALER…)",
            spec.kind
        ));
    }
    Ok(spec)
}

/// The socket types a steerable proxy takes commands on (the library
/// refuses the others; checking here refuses them before binding).
pub const CONTROL_TYPES: &[SocketType] = &[
    SocketType::Rep,
    SocketType::Pair,
    SocketType::Router,
    SocketType::Dealer,
    SocketType::Pull,
    SocketType::Sub,
];

/// A control socket: a type that can receive commands.
pub fn parse_control_spec(s: &str) -> Result<Spec, String> {
    let spec = parse_spec(s)?;
    if !CONTROL_TYPES.contains(&spec.kind) {
        return Err(format!(
            "a {} socket cannot receive commands (use REP, PAIR, ROUTER, DEALER, PULL or SUB)",
            spec.kind
        ));
    }
    Ok(spec)
}

/// Whether a socket of this type can receive messages at all.
pub fn can_recv(kind: SocketType) -> bool {
    !matches!(kind.name(), "PUB" | "PUSH" | "RADIO" | "SCATTER")
}

/// Whether a socket of this type can send messages at all.
pub fn can_send(kind: SocketType) -> bool {
    !matches!(kind.name(), "SUB" | "PULL" | "DISH" | "GATHER")
}

/// Two sockets a proxy joins: messages must be able to flow at least one
/// way (frontend to backend or back).
pub fn check_pair(front: &str, a: &Spec, back: &str, b: &Spec) -> Result<(), String> {
    let forward = can_recv(a.kind) && can_send(b.kind);
    let backward = can_recv(b.kind) && can_send(a.kind);
    if forward || backward {
        Ok(())
    } else {
        Err(format!(
            "no message can flow between a {} {front} and a {} {back}",
            a.kind, b.kind
        ))
    }
}

/// Checks the form of an endpoint, not whether it can be bound or reached:
/// a known transport, a non-empty address, and `host:port` where the
/// transport needs one (a port of `*` only when binding).
pub fn check_endpoint(endpoint: &str, bind: bool) -> Result<(), String> {
    let bad = |why: String| Err(format!("{endpoint:?} is not an endpoint: {why}"));
    let Some((transport, address)) = endpoint.split_once("://") else {
        return bad("expected TRANSPORT://ADDRESS, e.g. tcp://127.0.0.1:5555".into());
    };
    if !TRANSPORTS.contains(&transport) {
        return bad(format!(
            "unknown transport {transport:?} (known: {})",
            TRANSPORTS.join(", ")
        ));
    }
    if address.is_empty() {
        return bad("the address is empty".into());
    }
    let host_port = |hp: &str, bind: bool| -> Result<(), String> {
        check_host_port(hp, bind).map_err(|why| format!("{endpoint:?} is not an endpoint: {why}"))
    };
    match transport {
        // A connect may name its source first: `tcp://SOURCE;HOST:PORT`.
        "tcp" => match address.split_once(';') {
            Some((source, target)) if !bind => {
                host_port(source, true)?;
                host_port(target, false)
            }
            _ => host_port(address, bind),
        },
        "udp" => host_port(address, bind),
        // ws://HOST:PORT[/PATH]
        "ws" | "wss" => host_port(address.split('/').next().unwrap_or(""), bind),
        // pgm://INTERFACE;MULTICAST:PORT
        "pgm" | "epgm" => match address.split_once(';') {
            Some((iface, group)) if !iface.is_empty() => host_port(group, false),
            _ => bad("expected INTERFACE;MULTICAST-ADDRESS:PORT".into()),
        },
        "ipc" if address.len() > zmqx::IPC_PATH_MAX_LEN => bad(format!(
            "the path is {} bytes long, the limit is {}",
            address.len(),
            zmqx::IPC_PATH_MAX_LEN
        )),
        _ => Ok(()),
    }
}

/// `HOST:PORT`, `[IPV6]:PORT`, `*:PORT`, with `*` or 0 for the port only
/// when binding.
fn check_host_port(hp: &str, bind: bool) -> Result<(), String> {
    let Some((host, port)) = hp.rsplit_once(':') else {
        return Err(format!("{hp:?} has no port (expected HOST:PORT)"));
    };
    if host.is_empty() {
        return Err(format!("{hp:?} has no host (expected HOST:PORT)"));
    }
    if host.starts_with('[') != host.ends_with(']') || host.contains(char::is_whitespace) {
        return Err(format!("{host:?} is not a host"));
    }
    if !bind && host == "*" {
        return Err("a connect needs a host, not *".into());
    }
    match port {
        "*" if bind => Ok(()),
        "*" => Err("a connect needs a port, not *".into()),
        p => match p.parse::<u16>() {
            Ok(0) if !bind => Err("a connect needs a port, not 0".into()),
            Ok(_) => Ok(()),
            Err(_) => Err(format!("{p:?} is not a port (0 to 65535, or * to bind)")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_endpoints() {
        for (e, bind) in [
            ("tcp://127.0.0.1:5555", false),
            ("tcp://*:*", true),
            ("tcp://eth0:0", true),
            ("tcp://[::1]:5555", false),
            ("tcp://127.0.0.1:4000;example.org:5555", false),
            ("ipc:///tmp/a@b", true),
            ("ipc://*", true),
            ("inproc://x", false),
            ("ws://127.0.0.1:8080/path", false),
            ("pgm://eth0;239.192.1.1:5555", false),
            ("udp://*:5555", true),
        ] {
            assert!(check_endpoint(e, bind).is_ok(), "{e}");
        }
    }

    #[test]
    fn bad_endpoints() {
        for (e, bind) in [
            ("nowhere", true),
            ("bogus://x", true),
            ("TCP://127.0.0.1:1", true),
            ("tcp://", true),
            ("tcp://127.0.0.1", true),
            ("tcp://:5555", true),
            ("tcp://127.0.0.1:*", false),
            ("tcp://*:5555", false),
            ("tcp://127.0.0.1:0", false),
            ("tcp://127.0.0.1:70000", true),
            ("tcp://127.0.0.1:http", true),
            ("tcp://[::1:5555", true),
            ("inproc://", true),
            ("pgm://239.192.1.1:5555", false),
            (
                &format!("ipc:///{}", "x".repeat(zmqx::IPC_PATH_MAX_LEN)),
                true,
            ),
        ] {
            assert!(check_endpoint(e, bind).is_err(), "{e}");
        }
    }

    #[test]
    fn specs() -> Result<(), String> {
        let s = parse_spec("router@tcp://*:5555")?;
        assert_eq!((s.kind, s.bind), (SocketType::Router, true));
        let s = parse_spec("DEALER@connect:tcp://127.0.0.1:1")?;
        assert_eq!((s.kind, s.bind), (SocketType::Dealer, false));
        let s = parse_loose("connect:ipc:///tmp/a@b")?;
        assert_eq!(s.kind, None);
        assert_eq!(s.endpoint, "ipc:///tmp/a@b");
        let e = parse_spec("nosuch@tcp://*:1").unwrap_err();
        assert!(e.contains("router") && e.contains("pull"), "{e}");
        assert!(parse_spec("tcp://*:1").is_err());
        assert!(parse_control_spec("push@tcp://*:1").is_err());
        assert!(parse_sending_spec("pull@tcp://*:1").is_err());
        assert_eq!(parse_mon_spec("tcp://*:1")?.kind, SocketType::Pub);
        Ok(())
    }

    #[test]
    fn pairs() -> Result<(), String> {
        let spec = |s: &str| parse_spec(s);
        check_pair("f", &spec("pull@tcp://*:1")?, "b", &spec("push@tcp://*:2")?)?;
        check_pair("f", &spec("push@tcp://*:1")?, "b", &spec("pull@tcp://*:2")?)?;
        check_pair(
            "f",
            &spec("router@tcp://*:1")?,
            "b",
            &spec("dealer@tcp://*:2")?,
        )?;
        assert!(check_pair("f", &spec("sub@tcp://*:1")?, "b", &spec("pull@tcp://*:2")?).is_err());
        assert!(check_pair("f", &spec("pub@tcp://*:1")?, "b", &spec("push@tcp://*:2")?).is_err());
        Ok(())
    }
}
