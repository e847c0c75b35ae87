//! The `edgepass` command line.

mod sign;
mod time_arg;
mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for bad flags, unreadable keys and malformed values.
const USAGE_ERROR: u8 = 2;

/// edgepass: private images behind CloudFront signed cookies and signed URLs.
#[derive(Debug, Parser)]
#[command(name = "edgepass", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a URL or a cookie set, as `aws cloudfront sign` / `sign-cookies` do.
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Decide a request as CloudFront would: prints `allow` (exit 0) or `deny: <reason>` (exit 1).
    Verify(verify::VerifyArgs),
}

/// An error that ends the command with a one-line message and exit status 2.
#[derive(Debug)]
pub(crate) struct UsageError(String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

/// Runs the command line given by `args` (the program name first) and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            let rendered = error.to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see --help)");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let outcome = match cli.command {
        Command::Sign(command) => sign::run(command),
        Command::Verify(args) => verify::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// Reads a key given as `file://PATH`, a path, or PEM text itself.
pub(crate) fn read_key_text(argument: &str) -> Result<String, UsageError> {
    if argument.contains("-----BEGIN ") {
        return Ok(argument.to_owned());
    }
    let path = argument.strip_prefix("file://").unwrap_or(argument);
    std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read key file {path}: {e}")))
}
