//! `edgepass doctor`: checks the deployment the service's configuration describes, through the AWS
//! APIs, and prints each check as `ok`, `warn` or `fail` with a line on how to fix it.
//!
//! Exit status: 0 when every check passed, 1 for a warning at worst, 2 for a failure (and for a
//! configuration that names no CloudFront deployment).

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::doctor;

/// `doctor` flags.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Print the findings as one JSON document instead of lines.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &DoctorArgs, env: BTreeMap<String, String>) -> Result<ExitCode, CliError> {
    let config = Config::from_env(&env).map_err(|e| CliError::usage("", &e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed("cannot start the async runtime", &e))?;
    let report = runtime
        .block_on(doctor::examine(&config, &SystemClock))
        .map_err(|e| CliError::usage("", &e))?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!("{report}");
    }
    Ok(ExitCode::from(report.exit_code()))
}
