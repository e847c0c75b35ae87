//! The `edgepass` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    edgepass::cli::run(std::env::args_os())
}
