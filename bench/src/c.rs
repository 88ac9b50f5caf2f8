//! The C baseline (`c/perf.c`), compiled by the build script against the same
//! libzmq that zmqx links, called through its `argc`/`argv` entry points.

use std::ffi::{CString, c_char, c_int};

use crate::Tool;

// Keep zmq-sys (and so libzmq) on the link line of every binary that uses
// the C tools: their `zmq_*` calls are resolved against it.
use zmq_sys as _;

unsafe extern "C" {
    fn c_local_thr(argc: c_int, argv: *mut *mut c_char) -> c_int;
    fn c_remote_thr(argc: c_int, argv: *mut *mut c_char) -> c_int;
    fn c_local_lat(argc: c_int, argv: *mut *mut c_char) -> c_int;
    fn c_remote_lat(argc: c_int, argv: *mut *mut c_char) -> c_int;
    fn c_inproc_thr(argc: c_int, argv: *mut *mut c_char) -> c_int;
    fn c_inproc_lat(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

/// Runs the C version of `tool` with `args` (without the program name) and
/// returns its exit status (0 on success). An argument holding a NUL byte is
/// refused with status 1.
pub fn run(tool: Tool, args: &[String]) -> i32 {
    let mut owned = Vec::with_capacity(args.len() + 1);
    for a in std::iter::once(tool.name()).chain(args.iter().map(String::as_str)) {
        match CString::new(a) {
            Ok(c) => owned.push(c),
            Err(_) => {
                eprintln!("{}: argument {a:?} holds a NUL byte", tool.name());
                return 1;
            }
        }
    }
    let mut argv: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr().cast_mut()).collect();
    let argc = argv.len() as c_int;
    argv.push(std::ptr::null_mut());
    let f = match tool {
        Tool::LocalThr => c_local_thr,
        Tool::RemoteThr => c_remote_thr,
        Tool::LocalLat => c_local_lat,
        Tool::RemoteLat => c_remote_lat,
        Tool::InprocThr => c_inproc_thr,
        Tool::InprocLat => c_inproc_lat,
    };
    // SAFETY: argv holds argc valid NUL-terminated strings followed by a null
    // pointer, all alive (`owned`) for the whole call; the C tools only read
    // them.
    unsafe { f(argc, argv.as_mut_ptr()) }
}
