//! `edgepass verify`: "why is this a 403?".

use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;

use super::time_arg::parse_time;
use super::{CliError, key_source, now, read_key_text};
use crate::signing::{KeyPairId, VerifyingKey, ViewerRequest, verify};

/// `verify` flags.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The requested URL, exactly as sent (signed-URL parameters included, if any).
    #[arg(long)]
    url: String,
    /// A cookie sent with the request, as NAME=VALUE (repeatable).
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    cookies: Vec<String>,
    /// A trusted key, as KEY_PAIR_ID=FILE: a public key (SubjectPublicKeyInfo PEM) or a private key,
    /// whose public half is taken (repeatable).
    #[arg(long = "public-key", value_name = "KEY_PAIR_ID=FILE", required = true)]
    public_keys: Vec<String>,
    /// The viewer's IP address.
    #[arg(long)]
    ip: Option<IpAddr>,
    /// The time to judge at (epoch seconds, RFC 3339 or YYYY-MM-DD); default: now.
    #[arg(long, allow_hyphen_values = true)]
    now: Option<String>,
}

pub(crate) fn run(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let mut keys = Vec::with_capacity(args.public_keys.len());
    for entry in &args.public_keys {
        let (id, file) = entry
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--public-key {entry}: expected KEY_PAIR_ID=FILE")))?;
        let id = KeyPairId::parse(id).map_err(|e| CliError::usage("", &e))?;
        let key = VerifyingKey::from_public_or_private_pem(id, &read_key_text(file)?)
            .map_err(|e| CliError::Usage(format!("public key {}: {e}", key_source(file))))?;
        keys.push(key);
    }
    let cookies = args
        .cookies
        .iter()
        .map(|c| {
            c.split_once('=')
                .ok_or_else(|| CliError::Usage(format!("--cookie {c}: expected NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = match &args.now {
        Some(text) => parse_time(text).map_err(|e| CliError::Usage(format!("--now: {e}")))?,
        None => now(),
    };
    let request = ViewerRequest {
        url: &args.url,
        cookies: &cookies,
        viewer_ip: args.ip,
        now,
    };
    match verify(keys.as_slice(), &request) {
        Ok(_) => {
            println!("allow");
            Ok(ExitCode::SUCCESS)
        }
        Err(denial) => {
            println!("deny: {denial}");
            Ok(ExitCode::from(1))
        }
    }
}
