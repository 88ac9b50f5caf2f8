//! Value parsers for the command line (each error becomes exit code 2), and
//! the hardening flags shared by the commands that open sockets.

use std::time::Duration;

use zmqx::Socket;

/// A number of seconds, decimals allowed (`0.5`).
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .ok_or_else(|| format!("{s:?} is not a number of seconds"))
}

/// A whole number of milliseconds that libzmq can hold (an `int`).
pub fn parse_ms(s: &str) -> Result<Duration, String> {
    match s.parse::<u32>() {
        Ok(ms) if i32::try_from(ms).is_ok() => Ok(Duration::from_millis(ms.into())),
        _ => Err(format!("{s:?} is not a number of milliseconds")),
    }
}

/// `IVL[,TIMEOUT]` in milliseconds, the interval at least 1.
pub fn parse_heartbeat(s: &str) -> Result<(Duration, Option<Duration>), String> {
    let (ivl, timeout) = match s.split_once(',') {
        Some((i, t)) => (i, Some(t)),
        None => (s, None),
    };
    let ivl = parse_ms(ivl)?;
    if ivl.is_zero() {
        return Err("the heartbeat interval must be at least 1 ms".into());
    }
    Ok((ivl, timeout.map(parse_ms).transpose()?))
}

/// A size in bytes, at least 1, with an optional `k`, `M` or `G` suffix
/// (powers of 1024).
pub fn parse_bytes(s: &str) -> Result<i64, String> {
    let (digits, unit) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1i64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    match digits.parse::<i64>().ok().and_then(|n| n.checked_mul(unit)) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{s:?} is not a size in bytes (a whole number of at least 1, optionally with k, M or G)"
        )),
    }
}

/// `KEY=VALUE`, the key not empty.
pub fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// A certificate base name: a file name, not a path.
pub fn parse_cert_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s == "." || s == ".." || s.contains(['/', '\\', '\0']) {
        Err(format!(
            "{s:?} is not a certificate name (a file name without path separators)"
        ))
    } else {
        Ok(s.to_owned())
    }
}

/// Limits for sockets facing untrusted peers, applied to every socket the
/// command opens (`zmqx::Hardening`).
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Hardening (every socket the command opens)")]
pub struct Hardening {
    /// zmqx's preset for untrusted peers: messages up to 1 MiB, handshake
    /// within 10 s, PING every 10 s and drop a peer silent for 30 s (the
    /// flags below override each). ROUTER_MANDATORY stays off: it would end
    /// a proxy at the first reply to a departed peer.
    #[arg(long)]
    pub harden: bool,
    /// Drop the connection of a peer that sends a message larger than this
    /// (ZMQ_MAXMSGSIZE); BYTES may end in k, M or G (powers of 1024).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_msg_size: Option<i64>,
    /// Send a ZMTP PING every IVL ms and drop a peer that has not answered
    /// within TIMEOUT ms (default: IVL) (ZMQ_HEARTBEAT_IVL, ZMQ_HEARTBEAT_TIMEOUT).
    #[arg(long, value_name = "IVL[,TIMEOUT]", value_parser = parse_heartbeat)]
    pub heartbeat: Option<(Duration, Option<Duration>)>,
    /// Drop a connection whose ZMTP handshake has not finished within MS
    /// milliseconds (ZMQ_HANDSHAKE_IVL; libzmq's default 30000, 0 = never).
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub handshake_timeout: Option<Duration>,
}

impl Hardening {
    /// The library preset these flags ask for: `--harden`'s defaults (or
    /// nothing), then each flag given.
    pub fn preset(&self) -> zmqx::Hardening {
        let mut h = zmqx::Hardening::new().router_mandatory(false);
        if !self.harden {
            h = h
                .max_msg_size(None)
                .handshake_ivl(None)
                .heartbeat(None, None, None);
        }
        if let Some(n) = self.max_msg_size {
            h = h.max_msg_size(Some(n));
        }
        if let Some((ivl, timeout)) = self.heartbeat {
            // Without a TIMEOUT, libzmq's rule: the interval. With
            // --harden, peers are asked to drop us after the same time.
            let timeout = timeout.unwrap_or(ivl);
            h = h.heartbeat(Some(ivl), Some(timeout), self.harden.then_some(timeout));
        }
        if let Some(t) = self.handshake_timeout {
            h = h.handshake_ivl(Some(t));
        }
        h
    }

    /// Sets the requested options on a socket before it binds or connects.
    pub fn apply(&self, socket: &Socket) -> zmqx::Result<()> {
        socket.harden(&self.preset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert_eq!(parse_bytes("4k"), Ok(4096));
        assert_eq!(parse_bytes("2M"), Ok(2 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        for bad in ["", "0", "-1", "k", "1.5M", "1T", "99999999999G"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn heartbeats() {
        let ms = Duration::from_millis;
        assert_eq!(parse_heartbeat("100"), Ok((ms(100), None)));
        assert_eq!(parse_heartbeat("100,300"), Ok((ms(100), Some(ms(300)))));
        for bad in ["", "0", "-5", "100,", "100,x", "3000000000"] {
            assert!(parse_heartbeat(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn presets() {
        let ms = Duration::from_millis;
        let none = zmqx::Hardening::new()
            .router_mandatory(false)
            .max_msg_size(None)
            .handshake_ivl(None)
            .heartbeat(None, None, None);
        assert_eq!(Hardening::default().preset(), none);
        let flags = Hardening {
            max_msg_size: Some(5),
            heartbeat: Some((ms(100), None)),
            ..Hardening::default()
        };
        assert_eq!(
            flags.preset(),
            none.clone()
                .max_msg_size(Some(5))
                .heartbeat(Some(ms(100)), Some(ms(100)), None)
        );
        let harden = Hardening {
            harden: true,
            handshake_timeout: Some(ms(200)),
            ..Hardening::default()
        };
        assert_eq!(
            harden.preset(),
            zmqx::Hardening::new()
                .router_mandatory(false)
                .handshake_ivl(Some(ms(200)))
        );
    }

    #[test]
    fn names() {
        assert!(parse_cert_name("server").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b"] {
            assert!(parse_cert_name(bad).is_err(), "{bad}");
        }
    }
}
