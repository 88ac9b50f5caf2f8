//! Runs the C and zmqx perf tools side by side and prints a markdown table of
//! medians.
//!
//! ```text
//! bench-runner [--rounds N] [--sizes 1,64,...] [--transports inproc,tcp]
//!              [--impls c,zmqx,async] [--scale F] [--raw] [--no-pin]
//! ```
//!
//! For every round, transport and size it runs the throughput tool and then
//! the latency tool of each implementation in turn (C, zmqx, async, C, zmqx,
//! async, …), so slow drifts of the machine (other jobs, frequency changes)
//! hit every implementation alike. tcp runs bind `tcp://127.0.0.1:*` and
//! start the peer on the endpoint the binding tool prints. The ratio columns
//! are medians of per-round ratios, each taken between runs made seconds
//! apart, followed by the interquartile range of those ratios in brackets:
//! a median whose range holds 1 is within the run's noise.
//!
//! On a machine with two CPUs or more, the two processes of a tcp run are
//! pinned to two different CPUs (`BENCH_CPU`): the binding one to the first
//! CPU this runner may use, the connecting one to the second; each keeps its
//! libzmq I/O thread beside it. Left to the scheduler, all four threads
//! sometimes share one CPU and sometimes not, which on a 2-core machine
//! halves or doubles a run's rate at random (1 B over tcp: about 4 or
//! about 8 million messages per second, for C, zmqx and async alike), and
//! the medians then tell more about the scheduler than the code. `--no-pin`
//! leaves the placement to the scheduler. inproc runs are not pinned (one
//! process, its threads placed by the scheduler).
//!
//! The tool binaries are looked up next to this one (`cargo build --release
//! -p zmqx-bench` builds them all).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use zmqx_bench::stats::{self, median};
use zmqx_bench::{Impl, Tool};

/// No single run may take longer than this.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Inproc,
    Tcp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc",
            Transport::Tcp => "tcp",
        }
    }
}

struct Config {
    rounds: usize,
    sizes: Vec<usize>,
    transports: Vec<Transport>,
    impls: Vec<Impl>,
    scale: f64,
    raw: bool,
    /// The CPUs of a tcp run's binding and connecting tools, if pinned.
    pin: Option<(usize, usize)>,
    dir: PathBuf,
}

/// Messages per throughput run: about 0.1–0.4 s each on a 2-core machine.
fn thr_count(t: Transport, size: usize) -> u32 {
    match (t, size) {
        (Transport::Inproc, 0..=64) => 2_000_000,
        (Transport::Inproc, 65..=1024) => 1_000_000,
        (Transport::Inproc, 1025..=65536) => 40_000,
        (Transport::Inproc, _) => 1_500,
        (Transport::Tcp, 0..=64) => 1_000_000,
        (Transport::Tcp, 65..=1024) => 400_000,
        (Transport::Tcp, 1025..=65536) => 20_000,
        (Transport::Tcp, _) => 1_000,
    }
}

/// Roundtrips per latency run.
fn lat_count(t: Transport, size: usize) -> u32 {
    match (t, size) {
        (Transport::Inproc, 0..=65536) => 20_000,
        (Transport::Inproc, _) => 2_000,
        (Transport::Tcp, 0..=1024) => 10_000,
        (Transport::Tcp, 1025..=65536) => 4_000,
        (Transport::Tcp, _) => 500,
    }
}

fn scaled(n: u32, scale: f64) -> u32 {
    ((f64::from(n) * scale) as u32).max(2)
}

fn parse_config() -> Result<Config, String> {
    let mut cfg = Config {
        rounds: 5,
        sizes: vec![1, 64, 1024, 65536, 1 << 20],
        transports: vec![Transport::Inproc, Transport::Tcp],
        impls: vec![Impl::C, Impl::Zmqx, Impl::Async],
        scale: 1.0,
        raw: false,
        pin: match zmqx_bench::allowed_cpus()[..] {
            [first, second, ..] => Some((first, second)),
            _ => None,
        },
        dir: std::env::current_exe()
            .map_err(|e| format!("cannot find this program: {e}"))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--raw" {
            cfg.raw = true;
            continue;
        }
        if flag == "--no-pin" {
            cfg.pin = None;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("bad {flag} value {value:?}: {what}");
        match flag.as_str() {
            "--rounds" => cfg.rounds = value.parse().map_err(|_| bad("a count"))?,
            "--scale" => cfg.scale = value.parse().map_err(|_| bad("a number"))?,
            "--sizes" => {
                cfg.sizes = value
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("comma-separated byte counts"))?
            }
            "--transports" => {
                cfg.transports = value
                    .split(',')
                    .map(|s| match s.trim() {
                        "inproc" => Ok(Transport::Inproc),
                        "tcp" => Ok(Transport::Tcp),
                        _ => Err(bad("inproc and/or tcp")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--impls" => {
                cfg.impls = value
                    .split(',')
                    .map(|s| match s.trim() {
                        "c" => Ok(Impl::C),
                        "zmqx" => Ok(Impl::Zmqx),
                        "async" => Ok(Impl::Async),
                        _ => Err(bad("c, zmqx and/or async")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--dir" => cfg.dir = PathBuf::from(value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if cfg.rounds == 0 || cfg.scale <= 0.0 {
        return Err("--rounds and --scale must be positive".into());
    }
    Ok(cfg)
}

/// Samples of one (transport, size, implementation): per round.
#[derive(Default, Clone)]
struct Samples {
    thr: Vec<f64>,
    lat: Vec<f64>,
}

/// The command that runs `tool`, on `cpu` if given.
fn command(cfg: &Config, tool: Tool, imp: Impl, args: &[String], cpu: Option<usize>) -> Command {
    let mut cmd = Command::new(cfg.dir.join(tool.name()));
    cmd.arg("--impl").arg(imp.name()).args(args);
    if let Some(cpu) = cpu {
        cmd.env("BENCH_CPU", cpu.to_string());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// Waits for `child` up to the deadline, killing it then; returns its stdout
/// (what is left of it) when it exited successfully.
fn finish(mut child: Child, deadline: Instant, what: &str) -> Result<String, String> {
    let mut out = String::new();
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut o) = stdout {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                out.push_str(&reader.join().unwrap_or_default());
                if status.success() {
                    return Ok(out);
                }
                return Err(format!("{what} failed ({status}): {}", out.trim()));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} timed out"));
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// Runs one measurement and returns the tool's output that carries it.
fn run_once(
    cfg: &Config,
    t: Transport,
    imp: Impl,
    latency: bool,
    size: usize,
    count: u32,
) -> Result<String, String> {
    let deadline = Instant::now() + RUN_TIMEOUT;
    let numbers = [size.to_string(), count.to_string()];
    if t == Transport::Inproc {
        let tool = if latency {
            Tool::InprocLat
        } else {
            Tool::InprocThr
        };
        let child = command(cfg, tool, imp, &numbers, None)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", tool.name()))?;
        return finish(child, deadline, tool.name());
    }
    let (local, remote) = if latency {
        (Tool::LocalLat, Tool::RemoteLat)
    } else {
        (Tool::LocalThr, Tool::RemoteThr)
    };
    let mut args = vec!["tcp://127.0.0.1:*".to_string()];
    args.extend(numbers.iter().cloned());
    let mut server = command(cfg, local, imp, &args, cfg.pin.map(|p| p.0))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", local.name()))?;
    // The first line is the endpoint the OS picked.
    let mut reader = BufReader::new(server.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    let Some(endpoint) = stats::endpoint(&line).map(str::to_string) else {
        let _ = server.kill();
        let _ = server.wait();
        return Err(format!(
            "{} printed {line:?} instead of its endpoint",
            local.name()
        ));
    };
    server.stdout = None;
    let mut args = vec![endpoint];
    args.extend(numbers.iter().cloned());
    let client = match command(cfg, remote, imp, &args, cfg.pin.map(|p| p.1)).spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = server.kill();
            let _ = server.wait();
            return Err(format!("cannot start {}: {e}", remote.name()));
        }
    };
    // Read the server's remaining output on a thread while both run.
    let server_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = reader.read_to_string(&mut s);
        s
    });
    let client_out = finish(client, deadline, remote.name());
    let server_res = finish(server, deadline, local.name());
    let server_text = server_out.join().unwrap_or_default();
    let client_text = client_out?;
    server_res?;
    Ok(if latency { client_text } else { server_text })
}

fn fmt_rate(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{:.0}", v),
        Some(v) => format!("{v:.1}"),
        None => "–".into(),
    }
}

fn fmt_f(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

fn fmt_size(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1024 && s % 1024 == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// The per-round ratios `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// A ratio cell: the median of the per-round ratios `a[i] / b[i]`, then
/// their interquartile range in brackets (half of the rounds lie in it), so
/// that a reader sees whether a median's distance from 1 is more than the
/// run's noise; `–` when a side has no result.
fn ratio_cell(a: &[f64], b: &[f64]) -> String {
    let r = ratios(a, b);
    match (median(&r), stats::quartiles(&r)) {
        (Some(m), Some((q1, q3))) => format!("{m:.3} [{q1:.2}, {q3:.2}]"),
        _ => fmt_f(None, 3),
    }
}

fn main() -> ExitCode {
    let cfg = match parse_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench-runner: {e}");
            return ExitCode::from(2);
        }
    };
    let cases: Vec<(Transport, usize)> = cfg
        .transports
        .iter()
        .flat_map(|&t| cfg.sizes.iter().map(move |&s| (t, s)))
        .collect();
    // samples[case][impl]
    let mut samples = vec![vec![Samples::default(); cfg.impls.len()]; cases.len()];
    let started = Instant::now();
    let mut failures = 0;
    for round in 0..cfg.rounds {
        eprintln!(
            "round {}/{} ({:.0} s so far)",
            round + 1,
            cfg.rounds,
            started.elapsed().as_secs_f64()
        );
        for (ci, &(t, size)) in cases.iter().enumerate() {
            for latency in [false, true] {
                let count = if latency {
                    scaled(lat_count(t, size), cfg.scale)
                } else {
                    scaled(thr_count(t, size), cfg.scale)
                };
                for (ii, &imp) in cfg.impls.iter().enumerate() {
                    let out = run_once(&cfg, t, imp, latency, size, count);
                    let value = out.as_deref().ok().and_then(if latency {
                        stats::latency
                    } else {
                        stats::throughput
                    });
                    let kind = if latency { "lat" } else { "thr" };
                    let slot = {
                        let s = &mut samples[ci][ii];
                        if latency { &mut s.lat } else { &mut s.thr }
                    };
                    // A failed run leaves NaN, keeping the rounds aligned.
                    slot.push(value.unwrap_or(f64::NAN));
                    match (value, &out) {
                        (Some(v), _) => {
                            if cfg.raw {
                                eprintln!(
                                    "  {} {} {kind} {}: {v}",
                                    t.name(),
                                    fmt_size(size),
                                    imp.name()
                                );
                            }
                        }
                        (None, Err(e)) => {
                            failures += 1;
                            eprintln!(
                                "  {} {} {kind} {}: {e}",
                                t.name(),
                                fmt_size(size),
                                imp.name()
                            );
                        }
                        (None, Ok(text)) => {
                            failures += 1;
                            eprintln!(
                                "  {} {} {kind} {}: no result in {text:?}",
                                t.name(),
                                fmt_size(size),
                                imp.name()
                            );
                        }
                    }
                }
            }
        }
    }
    print_table(&cfg, &cases, &samples);
    if cfg.transports.contains(&Transport::Tcp) {
        match cfg.pin {
            Some((bind, connect)) => println!(
                "\ntcp: the binding tool pinned to CPU {bind}, the connecting one to CPU {connect}"
            ),
            None => println!("\ntcp: not pinned (placed by the scheduler)"),
        }
    }
    eprintln!(
        "{} rounds in {:.0} s{}",
        cfg.rounds,
        started.elapsed().as_secs_f64(),
        if failures > 0 {
            format!(", {failures} failed runs")
        } else {
            String::new()
        }
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(cfg: &Config, cases: &[(Transport, usize)], samples: &[Vec<Samples>]) {
    let idx = |imp: Impl| cfg.impls.iter().position(|&i| i == imp);
    let (c, z, a) = (idx(Impl::C), idx(Impl::Zmqx), idx(Impl::Async));
    let mut header = String::from("| transport | size |");
    let mut rule = String::from("|---|---:|");
    if c.is_some() {
        header.push_str(" C msg/s |");
        rule.push_str("---:|");
    }
    if z.is_some() {
        header.push_str(" zmqx msg/s |");
        rule.push_str("---:|");
    }
    if c.is_some() && z.is_some() {
        header.push_str(" zmqx/C |");
        rule.push_str("---:|");
    }
    if z.is_some() {
        header.push_str(" zmqx MB/s |");
        rule.push_str("---:|");
    }
    if c.is_some() {
        header.push_str(" C lat µs |");
        rule.push_str("---:|");
    }
    if z.is_some() {
        header.push_str(" zmqx lat µs |");
        rule.push_str("---:|");
    }
    if c.is_some() && z.is_some() {
        header.push_str(" lat zmqx/C |");
        rule.push_str("---:|");
    }
    // ASYNC: the async columns, filled when `--impls` includes async.
    if a.is_some() {
        header.push_str(" async msg/s |");
        rule.push_str("---:|");
        if z.is_some() {
            header.push_str(" async/sync |");
            rule.push_str("---:|");
        }
        header.push_str(" async lat µs |");
        rule.push_str("---:|");
        if z.is_some() {
            header.push_str(" lat async/sync |");
            rule.push_str("---:|");
        }
    }
    println!("{header}\n{rule}");
    for (ci, &(t, size)) in cases.iter().enumerate() {
        let s = &samples[ci];
        let thr = |i: Option<usize>| i.and_then(|i| median(&s[i].thr));
        let lat = |i: Option<usize>| i.and_then(|i| median(&s[i].lat));
        let mut row = format!("| {} | {} |", t.name(), fmt_size(size));
        if c.is_some() {
            row.push_str(&format!(" {} |", fmt_rate(thr(c))));
        }
        if z.is_some() {
            row.push_str(&format!(" {} |", fmt_rate(thr(z))));
        }
        if let (Some(c), Some(z)) = (c, z) {
            row.push_str(&format!(" {} |", ratio_cell(&s[z].thr, &s[c].thr)));
        }
        if z.is_some() {
            let mbs = thr(z).map(|v| v * size as f64 / 1e6);
            row.push_str(&format!(" {} |", fmt_f(mbs, 1)));
        }
        if c.is_some() {
            row.push_str(&format!(" {} |", fmt_f(lat(c), 2)));
        }
        if z.is_some() {
            row.push_str(&format!(" {} |", fmt_f(lat(z), 2)));
        }
        if let (Some(c), Some(z)) = (c, z) {
            row.push_str(&format!(" {} |", ratio_cell(&s[z].lat, &s[c].lat)));
        }
        if let Some(ai) = a {
            row.push_str(&format!(" {} |", fmt_rate(thr(a))));
            if let Some(z) = z {
                row.push_str(&format!(" {} |", ratio_cell(&s[ai].thr, &s[z].thr)));
            }
            row.push_str(&format!(" {} |", fmt_f(lat(a), 2)));
            if let Some(z) = z {
                row.push_str(&format!(" {} |", ratio_cell(&s[ai].lat, &s[z].lat)));
            }
        }
        println!("{row}");
    }
}
