//! SSH servers (`[user@]host[:port]`) and tunnel targets
//! (`tcp://host:port`), parsed strictly: nothing that `ssh` could read as an
//! option gets through.

#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

use super::{Error, Result};

/// An SSH server as `[user@]host[:port]` (pyzmq's `server` argument).
///
/// `host` may be a name, an IPv4 address or an IPv6 address in brackets
/// (`[::1]:2222`; a bare IPv6 address without port is accepted too). Without
/// a user, OpenSSH takes the one from `~/.ssh/config`, and the library
/// backend the local user name; without a port, OpenSSH's configuration or
/// 22 applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshServer {
    /// The login name, if given.
    pub user: Option<String>,
    /// The host name or address (IPv6 without brackets).
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
}

impl SshServer {
    /// Parses `[user@]host[:port]`.
    pub fn parse(server: &str) -> Result<SshServer> {
        let bad = |reason: &str| Error::invalid("ssh server", server, reason);
        let (user, rest) = match server.rsplit_once('@') {
            Some((user, rest)) => {
                if user.is_empty() {
                    return Err(bad("empty user name before '@'"));
                }
                (Some(user.to_string()), rest)
            }
            None => (None, server),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("'[' without a closing ']'"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(bad("expected ':port' after ']'")),
                },
            }
        } else {
            match rest.matches(':').count() {
                0 => (rest, None),
                // A bare IPv6 address: no port can be told apart.
                n if n > 1 => (rest, None),
                _ => {
                    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
                    (host, Some(port))
                }
            }
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        // A leading '-' would be read as an option by ssh; whitespace and
        // control characters have no place in a host or user name.
        let suspicious =
            |s: &str| s.starts_with('-') || s.chars().any(|c| c.is_whitespace() || c.is_control());
        if suspicious(host) {
            return Err(bad("the host starts with '-' or contains whitespace"));
        }
        if user.as_deref().is_some_and(suspicious) {
            return Err(bad("the user starts with '-' or contains whitespace"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port must be a number in 1..=65535")),
                Ok(p) => Some(p),
            },
        };
        Ok(SshServer {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// The port to connect to: the one given, or 22.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(22)
    }
}

impl FromStr for SshServer {
    type Err = Error;

    fn from_str(s: &str) -> Result<SshServer> {
        SshServer::parse(s)
    }
}

impl fmt::Display for SshServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(port)) => write!(f, "[{}]:{port}", self.host),
            (false, Some(port)) => write!(f, "{}:{port}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// The remote end of a tunnel: `tcp://host:port`, as seen from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Host name or address, IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

impl Target {
    pub(crate) fn parse(addr: &str) -> Result<Target> {
        let bad = |reason: &str| Error::invalid("tunnel address", addr, reason);
        let rest = addr
            .strip_prefix("tcp://")
            .ok_or_else(|| bad("only tcp:// endpoints can be tunneled"))?;
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("'[' without a closing ']'"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("expected ':port' after ']'"))?;
            (host, port)
        } else {
            rest.rsplit_once(':').ok_or_else(|| bad("no port"))?
        };
        // libzmq's "source;destination" form has no meaning through a tunnel.
        if host.is_empty() || host == "*" || host.contains(';') {
            return Err(bad("the host must be a name or address"));
        }
        if host.starts_with('-') || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the host starts with '-' or contains whitespace"));
        }
        let port = match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err(bad("the port must be a number in 1..=65535")),
            Ok(p) => p,
        };
        Ok(Target {
            host: host.to_string(),
            port,
        })
    }

    /// The host as OpenSSH's `-L` wants it: IPv6 in brackets.
    pub(crate) fn host_for_forward(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// `host:port` for messages (IPv6 in brackets).
    pub(crate) fn display(&self) -> String {
        format!("{}:{}", self.host_for_forward(), self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::ErrorKind;

    #[test]
    fn parses_servers() -> Result<()> {
        let s = SshServer::parse("alice@gateway:2222")?;
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.host, "gateway");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.to_string(), "alice@gateway:2222");

        let s = SshServer::parse("gateway")?;
        assert_eq!((s.user, s.host.as_str(), s.port), (None, "gateway", None));

        let s = SshServer::parse("bob@10.0.0.1")?;
        assert_eq!(
            (s.user.as_deref(), s.host.as_str(), s.port),
            (Some("bob"), "10.0.0.1", None)
        );

        let s = SshServer::parse("[::1]:22")?;
        assert_eq!((s.host.as_str(), s.port), ("::1", Some(22)));
        assert_eq!(s.to_string(), "[::1]:22");

        let s = SshServer::parse("carol@fe80::1")?;
        assert_eq!((s.host.as_str(), s.port), ("fe80::1", None));
        assert_eq!(s.port_or_default(), 22);
        Ok(())
    }

    #[test]
    fn rejects_bad_servers() {
        for bad in [
            "",
            "@host",
            "user@",
            "host:",
            "host:0",
            "host:65536",
            "host:ssh",
            "[::1",
            "[::1]2222",
            "-oProxyCommand=evil",
            "-l@host",
            "user@-host",
            "us er@host",
            "host name",
        ] {
            let err = SshServer::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err:?}");
        }
    }

    #[test]
    fn parses_targets() -> Result<()> {
        let t = Target::parse("tcp://10.0.1.2:5555")?;
        assert_eq!((t.host.as_str(), t.port), ("10.0.1.2", 5555));
        assert_eq!(t.host_for_forward(), "10.0.1.2");
        let t = Target::parse("tcp://[::1]:5555")?;
        assert_eq!((t.host.as_str(), t.port), ("::1", 5555));
        assert_eq!(t.host_for_forward(), "[::1]");
        for bad in [
            "ipc:///tmp/x",
            "tcp://host",
            "tcp://*:5555",
            "tcp://:5555",
            "tcp://host:*",
            "tcp://host:0",
            "tcp://a;b:5555",
            "tcp://-x:5555",
            "tcp://[::1:5555",
        ] {
            let err = Target::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err:?}");
        }
        Ok(())
    }
}
