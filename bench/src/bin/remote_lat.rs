//! libzmq's `remote_lat` perf tool, in C or with zmqx (`--impl c|zmqx|async`).

fn main() -> std::process::ExitCode {
    zmqx_bench::main_for(zmqx_bench::Tool::RemoteLat)
}
