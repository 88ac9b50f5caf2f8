//! DRAFT context calls: `zmq_ctx_set_ext` / `zmq_ctx_get_ext`.

use crate::constants::ContextOption;
use crate::context::Context;
use crate::error::{Error, Result, check};

use super::require_draft;

/// The longest I/O thread name prefix libzmq accepts, in bytes.
const PREFIX_MAX: usize = 16;

impl Context {
    /// Sets the I/O thread name prefix as text (`zmq_ctx_set_ext` with
    /// `ZMQ_THREAD_NAME_PREFIX`, DRAFT): threads are then named
    /// `<prefix>/ZMQbg/IO/0`… Only effective before the first socket. At most
    /// 16 bytes, no NUL; [`set_thread_name_prefix`](Context::set_thread_name_prefix)
    /// is the numeric form of the stable API.
    pub fn set_thread_name_prefix_str(&self, prefix: &str) -> Result<()> {
        require_draft("zmq_ctx_set_ext")?;
        if prefix.is_empty() || prefix.len() > PREFIX_MAX || prefix.contains('\0') {
            return Err(Error::invalid(
                format!("thread name prefix {prefix:?}"),
                format!("must be 1 to {PREFIX_MAX} bytes without NUL"),
            ));
        }
        // libzmq reads a value of exactly `sizeof(int)` bytes as a number:
        // give a 4-byte prefix its NUL too, which libzmq's C string use of
        // the prefix then ignores.
        let mut bytes = prefix.as_bytes().to_vec();
        if bytes.len() == size_of::<i32>() {
            bytes.push(0);
        }
        self.shared().with_raw(|ctx| {
            // SAFETY: ctx is live for the call; bytes is readable for its length.
            check(unsafe {
                zmq_sys::zmq_ctx_set_ext(
                    ctx,
                    ContextOption::ThreadNamePrefix.id(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                )
            })
            .map(drop)
        })
    }

    /// The I/O thread name prefix as text (`zmq_ctx_get_ext`, DRAFT); empty
    /// when none is set.
    pub fn thread_name_prefix_str(&self) -> Result<String> {
        require_draft("zmq_ctx_get_ext")?;
        // libzmq copies the prefix without telling its length: read into a
        // zeroed buffer larger than any prefix and stop at the first NUL.
        let mut buf = [0u8; PREFIX_MAX + 2];
        let mut len = buf.len();
        self.shared().with_raw(|ctx| {
            // SAFETY: ctx is live for the call; buf is writable for `len` bytes.
            check(unsafe {
                zmq_sys::zmq_ctx_get_ext(
                    ctx,
                    ContextOption::ThreadNamePrefix.id(),
                    buf.as_mut_ptr().cast(),
                    &mut len,
                )
            })
        })?;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trip() -> Result<()> {
        let ctx = Context::new();
        assert_eq!(ctx.thread_name_prefix_str()?, "");
        for prefix in ["a", "abc", "zmqx", "abcde", "sixteen-bytes-ok"] {
            ctx.set_thread_name_prefix_str(prefix)?;
            assert_eq!(ctx.thread_name_prefix_str()?, prefix);
        }
        for bad in ["", "seventeen-bytes!!", "a\0b"] {
            assert!(matches!(
                ctx.set_thread_name_prefix_str(bad),
                Err(Error::InvalidInput { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn io_threads_carry_the_prefix() -> Result<()> {
        let ctx = Context::new();
        ctx.set_thread_name_prefix_str("zqx9")?;
        // The first socket starts the I/O thread.
        let _socket = ctx.socket(crate::SocketType::Pair)?;
        let names = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .map(|dir| {
                    dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                        .map(|n| n.trim_end().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        if cfg!(all(target_os = "linux", zmq_vendored)) {
            // Each thread names itself once running: look until it has.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !names().iter().any(|n| n.starts_with("zqx9/ZMQbg/")) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no prefixed I/O thread among {:?}",
                    names()
                );
                std::thread::yield_now();
            }
        }
        Ok(())
    }
}
