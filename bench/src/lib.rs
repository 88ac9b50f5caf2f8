//! zmqx's benchmarks: libzmq's six perf tools written twice, in C
//! (`c/perf.c`) and with zmqx, linked into the same binaries against the same
//! libzmq, plus the runner that compares them (`bench-runner`, `run.sh`).
//!
//! Every tool binary takes libzmq's arguments, optionally preceded by
//! `--impl c|zmqx|async` (default `zmqx`), and prints libzmq's output lines:
//!
//! ```text
//! local_thr  [--impl I] <bind-to> <message-size> <message-count>
//! remote_thr [--impl I] <connect-to> <message-size> <message-count>
//! local_lat  [--impl I] <bind-to> <message-size> <roundtrip-count>
//! remote_lat [--impl I] <connect-to> <message-size> <roundtrip-count>
//! inproc_thr [--impl I] <message-size> <message-count>
//! inproc_lat [--impl I] <message-size> <roundtrip-count>
//! ```
//!
//! A bind endpoint with a wildcard port (`tcp://127.0.0.1:*` or `:0`) makes
//! the binding tool print `endpoint: <real endpoint>` first, so the peer can
//! be started with it.
//!
//! `BENCH_MINIMAL_FUTURE=1` makes the async `local_thr` receive, and the
//! async `inproc_thr` send, through the least a future over libzmq can be
//! (see `asynchronous::minimal`), to tell what `AsyncSocket` adds from what
//! any future per message adds. `BENCH_SYNC_PEER=1` gives the async
//! `inproc_thr` a blocking receiver (the async sender alone is measured)
//! and the async `inproc_lat` a blocking echo thread.
//!
//! `BENCH_CPU=<n>` pins the tool, before it starts anything (so libzmq's I/O
//! threads and tokio's too), to CPU `n` (Linux; elsewhere it is an error).
//! `bench-runner` uses it to put the two processes of a tcp run on two
//! different CPUs (see [`allowed_cpus`]).

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

pub mod asynchronous;
pub mod c;
pub mod stats;
pub mod sync;

/// One of libzmq's perf tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `local_thr`: PULL, binds, receives and reports throughput.
    LocalThr,
    /// `remote_thr`: PUSH, connects and sends.
    RemoteThr,
    /// `local_lat`: REP, binds and echoes.
    LocalLat,
    /// `remote_lat`: REQ, connects, pings and reports latency.
    RemoteLat,
    /// `inproc_thr`: PUSH thread to PULL over inproc, reports throughput.
    InprocThr,
    /// `inproc_lat`: REQ against a REP thread over inproc, reports latency.
    InprocLat,
}

impl Tool {
    /// The program name, as in libzmq's perf/ directory.
    pub fn name(self) -> &'static str {
        match self {
            Tool::LocalThr => "local_thr",
            Tool::RemoteThr => "remote_thr",
            Tool::LocalLat => "local_lat",
            Tool::RemoteLat => "remote_lat",
            Tool::InprocThr => "inproc_thr",
            Tool::InprocLat => "inproc_lat",
        }
    }

    fn usage(self) -> String {
        let (ep, count) = match self {
            Tool::LocalThr => ("<bind-to> ", "<message-count>"),
            Tool::RemoteThr => ("<connect-to> ", "<message-count>"),
            Tool::LocalLat => ("<bind-to> ", "<roundtrip-count>"),
            Tool::RemoteLat => ("<connect-to> ", "<roundtrip-count>"),
            Tool::InprocThr => ("", "<message-count>"),
            Tool::InprocLat => ("", "<roundtrip-count>"),
        };
        format!(
            "usage: {} [--impl c|zmqx|async] {ep}<message-size> {count}",
            self.name()
        )
    }

    fn has_endpoint(self) -> bool {
        !matches!(self, Tool::InprocThr | Tool::InprocLat)
    }
}

/// Which implementation of a tool runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// The C baseline (`c/perf.c`).
    C,
    /// zmqx's blocking API.
    Zmqx,
    /// zmqx's async (tokio) API.
    Async,
}

impl Impl {
    /// The `--impl` value.
    pub fn name(self) -> &'static str {
        match self {
            Impl::C => "c",
            Impl::Zmqx => "zmqx",
            Impl::Async => "async",
        }
    }

    fn parse(s: &str) -> Option<Impl> {
        match s {
            "c" => Some(Impl::C),
            "zmqx" => Some(Impl::Zmqx),
            "async" => Some(Impl::Async),
            _ => None,
        }
    }
}

/// `BENCH_RECV_MANY`: when set to a count, the throughput receivers of
/// zmqx (blocking and async) take batches of at most that many messages
/// with `recv_many` instead of one `recv_msg_into` per message.
pub fn recv_many_limit() -> Option<usize> {
    std::env::var("BENCH_RECV_MANY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
}

/// The parsed arguments of a zmqx tool.
#[derive(Clone, Debug)]
pub struct Args {
    /// The endpoint to bind or connect (empty for the inproc tools).
    pub endpoint: String,
    /// The message size in bytes.
    pub size: usize,
    /// The message or roundtrip count (at least 1).
    pub count: u32,
}

impl Args {
    fn parse(tool: Tool, args: &[String]) -> Option<Args> {
        let (endpoint, rest) = if tool.has_endpoint() {
            let (ep, rest) = args.split_first()?;
            (ep.clone(), rest)
        } else {
            (String::new(), args)
        };
        let [size, count] = rest else { return None };
        let size = size.parse().ok()?;
        let count = count.parse().ok().filter(|&c| c >= 1)?;
        Some(Args {
            endpoint,
            size,
            count,
        })
    }
}

/// Why a zmqx tool failed.
#[derive(Debug)]
pub enum BenchError {
    /// A zmqx call failed.
    Zmq(zmqx::Error),
    /// A message of another size than announced arrived.
    WrongSize,
    /// The sending or echoing thread panicked.
    WorkerPanicked,
    /// The tokio runtime could not be built.
    Io(std::io::Error),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Zmq(e) => write!(f, "error: {e}"),
            BenchError::WrongSize => f.write_str("message of incorrect size received"),
            BenchError::WorkerPanicked => f.write_str("error: the worker thread panicked"),
            BenchError::Io(e) => write!(f, "error: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<zmqx::Error> for BenchError {
    fn from(e: zmqx::Error) -> BenchError {
        BenchError::Zmq(e)
    }
}

/// Prints `endpoint: <real endpoint>` when `bind_to` has a wildcard port.
pub(crate) fn report_endpoint(
    bind_to: &str,
    last_endpoint: impl FnOnce() -> zmqx::Result<String>,
) -> Result<(), BenchError> {
    if bind_to.ends_with(":*") || bind_to.ends_with(":0") {
        use std::io::Write;
        println!("endpoint: {}", last_endpoint()?);
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

/// Whole microseconds, at least 1, as libzmq's stopwatch reports them.
fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Prints libzmq's throughput lines.
pub(crate) fn report_thr(size: usize, count: u32, elapsed: Duration) {
    let throughput = f64::from(count) / micros(elapsed) as f64 * 1_000_000.0;
    let megabits = throughput * size as f64 * 8.0 / 1_000_000.0;
    println!("message size: {size} [B]");
    println!("message count: {count}");
    println!("mean throughput: {} [msg/s]", throughput as i64);
    println!("mean throughput: {megabits:.3} [Mb/s]");
}

/// Prints libzmq's latency lines.
pub(crate) fn report_lat(size: usize, roundtrips: u32, elapsed: Duration) {
    let latency = micros(elapsed) as f64 / (f64::from(roundtrips) * 2.0);
    println!("message size: {size} [B]");
    println!("roundtrip count: {roundtrips}");
    println!("average latency: {latency:.3} [us]");
}

/// Runs the zmqx version of `tool`.
fn run_zmqx(tool: Tool, a: &Args) -> Result<(), BenchError> {
    match tool {
        Tool::LocalThr => sync::local_thr(a),
        Tool::RemoteThr => sync::remote_thr(a),
        Tool::LocalLat => sync::local_lat(a),
        Tool::RemoteLat => sync::remote_lat(a),
        Tool::InprocThr => sync::inproc_thr(a),
        Tool::InprocLat => sync::inproc_lat(a),
    }
}

/// Runs the async (tokio) version of `tool`.
fn run_async(tool: Tool, a: &Args) -> Result<(), BenchError> {
    match tool {
        Tool::LocalThr => asynchronous::local_thr(a),
        Tool::RemoteThr => asynchronous::remote_thr(a),
        Tool::LocalLat => asynchronous::local_lat(a),
        Tool::RemoteLat => asynchronous::remote_lat(a),
        Tool::InprocThr => asynchronous::inproc_thr(a),
        Tool::InprocLat => asynchronous::inproc_lat(a),
    }
}

/// The CPUs this process may run on, in order (`sched_getaffinity(2)`);
/// empty where that is not known (not Linux, or the call failed).
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut set = empty_cpu_set();
        // SAFETY: `set` is a writable cpu_set_t of the size passed; pid 0 is
        // this thread.
        let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut set) };
        if rc != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE, within the set.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

/// A CPU set with no CPU in it.
#[cfg(target_os = "linux")]
fn empty_cpu_set() -> libc::cpu_set_t {
    // SAFETY: an all-zero cpu_set_t is a valid, empty set.
    unsafe { std::mem::zeroed() }
}

/// `BENCH_CPU`: pins this thread, and every thread it starts from now on, to
/// the CPU it names.
fn pin_from_env() -> Result<(), String> {
    let Some(value) = std::env::var_os("BENCH_CPU") else {
        return Ok(());
    };
    let cpu: usize = value
        .to_str()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("BENCH_CPU={}: not a CPU number", value.to_string_lossy()))?;
    #[cfg(target_os = "linux")]
    {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(format!("BENCH_CPU={cpu}: above the largest CPU number"));
        }
        let mut set = empty_cpu_set();
        // SAFETY: `cpu` is below CPU_SETSIZE, within the set.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is
        // this thread, which has started no other yet.
        let rc =
            unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set) };
        if rc != 0 {
            return Err(format!(
                "BENCH_CPU={cpu}: sched_setaffinity failed ({}): is it one of the CPUs \
                 this process may use ({:?})?",
                std::io::Error::last_os_error(),
                allowed_cpus()
            ));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    Err(format!("BENCH_CPU={cpu}: pinning is only done on Linux"))
}

/// The `main` of every tool binary: parses `[--impl I] <libzmq's arguments>`
/// from the command line and runs the chosen implementation.
pub fn main_for(tool: Tool) -> ExitCode {
    if let Err(e) = pin_from_env() {
        println!("{}: {e}", tool.name());
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (imp, rest) = match args.first().map(String::as_str) {
        Some("--impl") => match args.get(1).and_then(|s| Impl::parse(s)) {
            Some(imp) => (imp, &args[2..]),
            None => {
                println!("{}", tool.usage());
                return ExitCode::from(1);
            }
        },
        _ => (Impl::Zmqx, &args[..]),
    };
    if imp == Impl::C {
        // The C code validates its own arguments, with libzmq's messages.
        return match c::run(tool, rest) {
            0 => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        };
    }
    let Some(parsed) = Args::parse(tool, rest) else {
        println!("{}", tool.usage());
        return ExitCode::from(1);
    };
    let result = match imp {
        Impl::Async => run_async(tool, &parsed),
        _ => run_zmqx(tool, &parsed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_libzmq_arguments() {
        let a = Args::parse(Tool::LocalThr, &strings(&["tcp://127.0.0.1:*", "64", "10"]));
        let a = a.expect("valid arguments");
        assert_eq!(
            (a.endpoint.as_str(), a.size, a.count),
            ("tcp://127.0.0.1:*", 64, 10)
        );
        let a = Args::parse(Tool::InprocLat, &strings(&["1", "5"])).expect("valid");
        assert_eq!((a.size, a.count), (1, 5));
        assert!(Args::parse(Tool::InprocLat, &strings(&["1"])).is_none());
        assert!(Args::parse(Tool::InprocThr, &strings(&["1", "0"])).is_none());
        assert!(Args::parse(Tool::RemoteThr, &strings(&["x", "-1", "3"])).is_none());
    }
}
