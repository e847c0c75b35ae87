//! The `edgepass` binary; everything lives in the library. This is the one place that reads the process
//! environment.

fn main() -> std::process::ExitCode {
    let env = std::env::vars()
        .filter(|(name, _)| name.starts_with("EDGEPASS_") || name == "RUST_LOG")
        .collect();
    edgepass::cli::run(std::env::args_os(), env)
}
