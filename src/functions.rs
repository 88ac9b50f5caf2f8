//! Free functions of libzmq: version, capabilities, errors, CURVE keys.

use std::ffi::{CString, c_char};

use crate::curve::{CurveKey, CurveKeyPair};
use crate::error::{Error, Result, Version, errno};

/// The version of this crate (pyzmq's `zmq.pyzmq_version()`).
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Sets the calling thread's errno to 0, so that a call that may return -1
/// as a value (`zmq_ctx_get`, `zmq_msg_get`) can be told apart from one that
/// failed. `false` where zmqx does not know how to reach errno.
pub(crate) fn clear_errno() -> bool {
    #[cfg(any(target_os = "linux", target_os = "emscripten", target_os = "hurd"))]
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    unsafe {
        *libc::__errno_location() = 0;
    }
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    ))]
    // SAFETY: __error returns a valid pointer to this thread's errno.
    unsafe {
        *libc::__error() = 0;
    }
    #[cfg(any(target_os = "android", target_os = "openbsd", target_os = "netbsd"))]
    // SAFETY: __errno returns a valid pointer to this thread's errno.
    unsafe {
        *libc::__errno() = 0;
    }
    cfg!(any(
        target_os = "linux",
        target_os = "emscripten",
        target_os = "hurd",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "android",
        target_os = "openbsd",
        target_os = "netbsd"
    ))
}

/// Runs a libzmq call whose result may legitimately be `-1` (or any negative
/// number) and tells that value from a failure by errno, cleared before the
/// call: libzmq sets errno whenever it fails. `None` when errno cannot be
/// cleared on this platform (the caller then decides what `-1` means).
pub(crate) fn value_or_errno(call: impl FnOnce() -> i32) -> Option<Result<i32>> {
    if !clear_errno() {
        let rc = call();
        return (rc != -1).then_some(Ok(rc));
    }
    let rc = call();
    if rc != -1 {
        return Some(Ok(rc));
    }
    Some(match errno() {
        0 => Ok(-1),
        e => Err(Error::from_errno(e)),
    })
}

/// The version of the linked libzmq (`zmq_version`), as `(major, minor, patch)`.
pub fn version_info() -> Version {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: the three pointers are valid, writable i32s.
    unsafe { zmq_sys::zmq_version(&mut major, &mut minor, &mut patch) };
    Version(major, minor, patch)
}

/// The version of the linked libzmq as `"major.minor.patch"` (pyzmq's
/// `zmq.zmq_version()`).
pub fn version() -> String {
    version_info().to_string()
}

/// Whether the linked libzmq has a capability (`zmq_has`): `"ipc"`, `"pgm"`,
/// `"tipc"`, `"norm"`, `"curve"`, `"gssapi"`, `"draft"`. Unknown names and
/// names with an interior NUL are `false`.
pub fn has(capability: &str) -> bool {
    let Ok(c) = CString::new(capability) else {
        return false;
    };
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    unsafe { zmq_sys::zmq_has(c.as_ptr()) != 0 }
}

fn require_curve(what: &str) -> Result<()> {
    if has("curve") {
        Ok(())
    } else {
        Err(Error::MissingCapability {
            what: what.to_string(),
            capability: "curve",
        })
    }
}

/// A new CURVE key pair (`zmq_curve_keypair`).
///
/// Fails with [`Error::MissingCapability`] when libzmq has no CURVE (the
/// vendored build always has it).
pub fn curve_keypair() -> Result<CurveKeyPair> {
    require_curve("curve_keypair")?;
    let mut public = [0 as c_char; 41];
    let mut secret = [0 as c_char; 41];
    // SAFETY: both buffers hold the 41 bytes (40 Z85 characters + NUL) that
    // zmq_curve_keypair writes.
    let rc = unsafe { zmq_sys::zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()) };
    crate::error::check(rc)?;
    let public = z85_buf_to_key(&public)?;
    let secret = z85_buf_to_key(&secret)?;
    Ok(CurveKeyPair { public, secret })
}

/// The public key that belongs to a secret key (`zmq_curve_public`).
pub fn curve_public(secret: &CurveKey) -> Result<CurveKey> {
    require_curve("curve_public")?;
    let secret_z85 = CString::new(secret.to_z85()).map_err(|_| Error::invalid("key", "NUL"))?;
    let mut public = [0 as c_char; 41];
    // SAFETY: public has room for 40 characters + NUL; secret_z85 is a valid
    // NUL-terminated 40-character Z85 string.
    let rc = unsafe { zmq_sys::zmq_curve_public(public.as_mut_ptr(), secret_z85.as_ptr()) };
    crate::error::check(rc)?;
    z85_buf_to_key(&public)
}

fn z85_buf_to_key(buf: &[c_char; 41]) -> Result<CurveKey> {
    let bytes: Vec<u8> = buf[..40].iter().map(|&c| c as u8).collect();
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::invalid("key", "not Z85"))?;
    Ok(CurveKey::from_z85(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_build() {
        let v = version();
        assert_eq!(v, env!("ZMQX_LINKED_VERSION"));
        assert!(version_info() >= Version(4, 3, 2));
    }

    #[test]
    fn has_agrees_with_cfgs() {
        assert_eq!(has("curve"), cfg!(zmq_curve));
        assert_eq!(has("draft"), cfg!(zmq_draft));
        assert!(!has("no-such-capability"));
        assert!(!has("cu\0rve"));
    }

    #[cfg(zmq_vendored)]
    #[test]
    fn vendored_is_4_3_5_with_curve() {
        assert_eq!(version(), "4.3.5");
        assert!(has("curve"));
        assert!(has("ipc"));
    }

    #[test]
    fn strerror_of_unknown() {
        use crate::error::strerror;
        assert!(!strerror(99999).is_empty());
        assert!(!strerror(-1).is_empty());
    }

    #[test]
    fn keypair_and_public() -> Result<()> {
        if !has("curve") {
            assert!(matches!(
                curve_keypair(),
                Err(Error::MissingCapability { .. })
            ));
            return Ok(());
        }
        let pair = curve_keypair()?;
        assert_ne!(pair.public, pair.secret);
        assert_eq!(curve_public(&pair.secret)?, pair.public);
        Ok(())
    }
}
