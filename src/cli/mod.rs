//! The `edgepass` command line.

mod doctor;
mod explain;
mod keys;
mod serve;
mod sign;
mod time_arg;
mod verify;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::telemetry::Causes;

/// Exit status for bad flags, unreadable keys and malformed values.
const USAGE_ERROR: u8 = 2;
/// Exit status when a command was given correctly but could not be carried out.
const FAILURE: u8 = 1;

/// edgepass: private images behind CloudFront signed cookies and signed URLs.
#[derive(Debug, Parser)]
#[command(name = "edgepass", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (the default): API, and in local mode SQLite and a generated signing key.
    Serve(serve::ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(serve::ServeArgs),
    /// Sign a URL or a cookie set, as `aws cloudfront sign` / `sign-cookies` do.
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Decide a request as CloudFront would: prints `allow` (exit 0) or `deny: <reason>` (exit 1).
    Verify(verify::VerifyArgs),
    /// Explain CloudFront's decisions on a HAR file's requests (or one URL): the cookie sets sent
    /// and their Paths, the decoded policy, and why a request is denied (exit 1 if any is).
    Explain(explain::ExplainArgs),
    /// Make signing keys, register them in a CloudFront key group, and retire them.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Check the CloudFront deployment the configuration describes, through the AWS APIs: ok, warn or
    /// fail per check (exit 0, 1 or 2 by the worst).
    Doctor(doctor::DoctorArgs),
}

/// Why a command ended early, with its one-line message.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A mistake in what was asked (bad flags, unreadable keys, malformed values, a refusal): nothing
    /// was done. Exit status 2.
    Usage(String),
    /// What was asked could not be carried out (the service failed to start, a file could not be
    /// written). Exit status 1.
    Failed(String),
}

impl CliError {
    /// A usage mistake described by `error` (`context: error` with a context).
    pub(crate) fn usage(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        Self::Usage(in_context(context, error))
    }

    /// A failure described by `error` (`context: error` with a context).
    pub(crate) fn failed(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        Self::Failed(in_context(context, error))
    }
}

fn in_context(context: &str, error: &(dyn std::error::Error + 'static)) -> String {
    if context.is_empty() {
        with_causes(error)
    } else {
        format!("{context}: {}", with_causes(error))
    }
}

/// Runs the command line given by `args` (the program name first) with the process's `EDGEPASS_*`
/// variables `env`, and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>, env: BTreeMap<String, String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{} (see --help)", one_line(&error.to_string()));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let outcome = match cli.command {
        None => serve::serve(env, &serve::ServeArgs::default()),
        Some(Command::Serve(args)) => serve::serve(env, &args),
        Some(Command::Migrate(args)) => serve::migrate(env, &args),
        Some(Command::Sign(command)) => sign::run(command),
        Some(Command::Verify(args)) => verify::run(args),
        Some(Command::Explain(args)) => explain::run(args, env),
        Some(Command::Keys(command)) => keys::run(command, env),
        Some(Command::Doctor(args)) => doctor::run(&args, env),
    };
    match outcome {
        Ok(code) => code,
        Err(CliError::Usage(message)) => {
            print_error(&message);
            ExitCode::from(USAGE_ERROR)
        }
        Err(CliError::Failed(message)) => {
            print_error(&message);
            ExitCode::from(FAILURE)
        }
    }
}

/// Prints an error as the command line promises: one line on stderr, whatever the message holds.
pub(crate) fn print_error(message: &str) {
    eprintln!("error: {}", crate::telemetry::one_line(message));
}

/// Folds the first paragraph of a clap error (which lists missing flags on further lines) into one line.
fn one_line(rendered: &str) -> String {
    let words: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    if words.is_empty() {
        "invalid arguments".to_owned()
    } else {
        words.join(" ")
    }
}

/// An error and its causes on one line (see [`Causes`]).
pub(crate) fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    Causes(error).to_string()
}

/// Names a key argument in messages without ever repeating key material given inline.
pub(crate) fn key_source(argument: &str) -> &str {
    if is_inline_pem(argument) {
        "(given inline)"
    } else {
        argument
    }
}

/// Whether a key argument is PEM text rather than a file name.
fn is_inline_pem(argument: &str) -> bool {
    argument.contains("-----BEGIN ")
}

/// The current time in epoch seconds; the command line is the one place that reads the clock.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Reads a key given as `file://PATH`, a path, or PEM text itself.
pub(crate) fn read_key_text(argument: &str) -> Result<String, CliError> {
    if is_inline_pem(argument) {
        return Ok(argument.to_owned());
    }
    let path = argument.strip_prefix("file://").unwrap_or(argument);
    std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("cannot read key file {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_fold_into_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  --url <URL>\n  --key-pair-id <ID>\n\nUsage: edgepass\n";
        assert_eq!(
            one_line(rendered),
            "error: the following required arguments were not provided: --url <URL> --key-pair-id <ID>"
        );
        assert_eq!(one_line(""), "invalid arguments");
    }

    #[test]
    fn inline_keys_are_never_named_by_their_text() {
        let inline = format!("-----BEGIN {}-----\nAAAA", "PRIVATE KEY");
        assert_eq!(key_source(&inline), "(given inline)");
        assert_eq!(key_source("keys/cdn.pem"), "keys/cdn.pem");
    }
}
