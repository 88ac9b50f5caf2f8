//! Soak test: numbered messages between this driver and a peer process that
//! is killed and restarted while traffic flows (SIGTERM, then SIGKILL, in
//! turn). Reports losses, duplicates, reconnect times and RSS.
//!
//! ```text
//! cargo run --release --example soak -- --messages 1000000 --restarts 20
//! cargo run --release --example soak -- --mode rep --messages 100000 --kill kill
//! ```
//!
//! Options: `--mode push|pull|rep|all` (the peer's role; default `all`),
//! `--messages N` (default 1,000,000), `--restarts K` (default 20),
//! `--kill term|kill|mix` (default `mix`), `--timeout-ms T` (the Lazy
//! Pirate reply timeout, default 250), `--hwm H` (high-water marks of H
//! messages and 8 KiB kernel buffers on the data connection, to see how
//! they bound what a PULL sink's restart loses), `--resend` (the driver
//! resends what a PULL sink never acknowledged: nothing lost, duplicates
//! counted). The bounded version runs in
//! `tests/soak.rs`; the figures are in the README's "Delivery guarantees".

mod harness;

use std::process::{Command, ExitCode};
use std::time::Duration;

use harness::{Config, KillPolicy, Mode};

fn main() -> ExitCode {
    if harness::is_peer() {
        return match harness::peer_main() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("soak peer: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut modes = Mode::ALL.to_vec();
    let mut config = Config::new(Mode::Push, 1_000_000, 20);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--mode" => {
                let v = value();
                modes = match Mode::parse(&v) {
                    Some(m) => vec![m],
                    None if v == "all" => Mode::ALL.to_vec(),
                    None => return usage(&format!("unknown mode {v:?}")),
                }
            }
            "--messages" => match value().parse() {
                Ok(n) => config.messages = n,
                Err(_) => return usage("--messages needs a number"),
            },
            "--restarts" => match value().parse() {
                Ok(n) => config.restarts = n,
                Err(_) => return usage("--restarts needs a number"),
            },
            "--kill" => match KillPolicy::parse(&value()) {
                Some(p) => config.policy = p,
                None => return usage("--kill takes term, kill or mix"),
            },
            "--resend" => config.resend = true,
            "--hwm" => match value().parse() {
                Ok(h) => config.hwm = Some(h),
                Err(_) => return usage("--hwm needs a number"),
            },
            "--timeout-ms" => match value().parse() {
                Ok(ms) => config.req_timeout = Duration::from_millis(ms),
                Err(_) => return usage("--timeout-ms needs a number"),
            },
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return usage(&format!("cannot find this program: {e}")),
    };
    let command = move || Command::new(&exe);
    let mut failed = false;
    for mode in modes {
        config.mode = mode;
        match harness::run(&config, &command) {
            Ok(report) => print!("{}", report.summary()),
            Err(e) => {
                eprintln!("soak {}: {e}", mode.name());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "soak: {problem}\nusage: soak [--mode push|pull|rep|all] [--messages N] [--restarts K] [--kill term|kill|mix] [--timeout-ms T] [--hwm H] [--resend]"
    );
    ExitCode::from(2)
}
