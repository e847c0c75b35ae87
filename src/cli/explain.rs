//! `edgepass explain`: why did this request get a 403? Every request to the CDN in a HAR file, or
//! one URL with its cookies, decided and explained (see [`crate::explain`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;

use super::time_arg::parse_time;
use super::{CliError, key_source, now, read_key_text, with_causes};
use crate::app::{StartupError, signing_key, trusted_keys};
use crate::aws::kms::{KmsError, KmsTarget, public_key_of};
use crate::config::{CdnKeySource, Config};
use crate::explain::{self, CdnScope, Judge, Request, har, report};
use crate::signing::{KeyPairId, VerifyingKey};

/// `explain` flags.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["har", "url"]))]
pub(crate) struct ExplainArgs {
    /// A HAR file exported from a browser's developer tools: every request to the CDN in it.
    #[arg(long, value_name = "FILE")]
    har: Option<String>,
    /// One URL, exactly as requested (signed-URL parameters included, if any).
    #[arg(long)]
    url: Option<String>,
    /// With --url: a cookie sent, as NAME=VALUE or a whole Cookie header (repeatable).
    #[arg(long = "cookie", value_name = "NAME=VALUE", requires = "url")]
    cookies: Vec<String>,
    /// A trusted key, as KEY_PAIR_ID=FILE (public or private PEM; repeatable). Default: the service's
    /// configuration (its signing key's public half and EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS).
    #[arg(long = "public-key", value_name = "KEY_PAIR_ID=FILE")]
    public_keys: Vec<String>,
    /// The CDN's origin (e.g. https://cdn.example.com): which HAR requests to judge. Default: the
    /// configured EDGEPASS_CDN_BASE_URL (in local mode the local edge), else requests that carry
    /// CloudFront cookies or signed-URL parameters or ask for /users/.
    #[arg(long, value_name = "URL")]
    cdn: Option<String>,
    /// The viewer's IP address, for policies bound to one (a HAR does not record it).
    #[arg(long)]
    ip: Option<IpAddr>,
    /// The time to judge at (epoch seconds, RFC 3339 or YYYY-MM-DD). Default: each HAR request's own
    /// time (its response's Date, else its startedDateTime); now for --url.
    #[arg(long, allow_hyphen_values = true)]
    now: Option<String>,
    /// Print the cookie sets, the decoded policy and the decision under each request's line.
    #[arg(long, short)]
    verbose: bool,
}

pub(crate) fn run(args: ExplainArgs, env: BTreeMap<String, String>) -> Result<ExitCode, CliError> {
    let given_time = match &args.now {
        Some(text) => Some(parse_time(text).map_err(|e| CliError::Usage(format!("--now: {e}")))?),
        None => None,
    };
    // The configuration is only needed for what the flags leave out.
    let config = if args.public_keys.is_empty() || (args.har.is_some() && args.cdn.is_none()) {
        Some(Config::from_env(&env))
    } else {
        None
    };
    let keys = if args.public_keys.is_empty() {
        let config = match &config {
            Some(Ok(config)) => config,
            Some(Err(e)) => return Err(CliError::usage("no --public-key, and the configuration", e)),
            None => return Err(CliError::Usage("no keys".to_owned())),
        };
        configured_keys(config)?
    } else {
        given_keys(&args.public_keys)?
    };
    let judge = Judge {
        keys: &keys,
        viewer_ip: args.ip,
    };

    let explanations = if let Some(path) = &args.har {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("cannot read HAR file {path}: {e}")))?;
        let entries = har::parse(&text).map_err(|e| CliError::Usage(format!("{path}: {e}")))?;
        let scope = scope(&args, config.as_ref().and_then(|c| c.as_ref().ok()), &entries);
        explain::explain_har(&entries, &scope, judge, given_time, now())
    } else {
        let url = args.url.as_deref().unwrap_or_default();
        let cookies = parse_cookies(&args.cookies)?;
        let request = Request {
            url,
            cookies: &cookies,
            at: given_time.unwrap_or_else(now),
        };
        vec![explain::explain(&request, None, judge)]
    };
    if explanations.is_empty() {
        eprintln!("edgepass explain: no request to the CDN in the HAR file (see --cdn)");
    }
    print!("{}", report::render(&explanations, args.verbose));
    Ok(if explanations.iter().all(explain::Explanation::allowed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Which HAR requests are to the CDN: `--cdn`, else the configured (or local edge's) origin when the
/// HAR has requests to it, else a guess from what the requests carry.
fn scope(args: &ExplainArgs, config: Option<&Config>, entries: &[har::Entry]) -> CdnScope {
    if let Some(cdn) = &args.cdn {
        return CdnScope::Origin(cdn.clone());
    }
    let configured = config.and_then(|config| {
        config
            .cdn
            .base_url
            .clone()
            .or_else(|| config.edge_listen.map(|edge| format!("http://{edge}")))
    });
    if let Some(origin) = configured {
        let scope = CdnScope::Origin(origin.clone());
        if entries.iter().any(|entry| scope.covers(entry)) {
            return scope;
        }
        eprintln!(
            "edgepass explain: no request in the HAR goes to the configured CDN {origin}; judging those with CloudFront cookies, signed-URL parameters or a /users/ path (give --cdn to choose)"
        );
    }
    CdnScope::Guess
}

/// `--public-key ID=FILE` values.
fn given_keys(entries: &[String]) -> Result<Vec<VerifyingKey>, CliError> {
    entries
        .iter()
        .map(|entry| {
            let (id, file) = entry
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("--public-key {entry}: expected KEY_PAIR_ID=FILE")))?;
            let id = KeyPairId::parse(id).map_err(|e| CliError::usage("", &e))?;
            VerifyingKey::from_public_or_private_pem(id, &read_key_text(file)?)
                .map_err(|e| CliError::Usage(format!("public key {}: {e}", key_source(file))))
        })
        .collect()
}

/// The keys the service itself trusts: its signing key's public half (in local mode the one kept in
/// the data folder, never made here) and the verify-only keys, read as the service reads them.
fn configured_keys(config: &Config) -> Result<Vec<VerifyingKey>, CliError> {
    let startup = |e: StartupError| CliError::Usage(with_causes(&e));
    let mut keys = vec![match &config.cdn.key {
        CdnKeySource::Generated => crate::local::key::load_public(&config.data_dir)
            .map_err(|e| CliError::usage("the local signing key", &e))?
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "no --public-key, and the data folder {} holds no signing key yet",
                    config.data_dir.display()
                ))
            })?,
        CdnKeySource::Pem { .. } | CdnKeySource::File { .. } => signing_key(config)
            .map_err(startup)?
            .verifying_key()
            .map_err(|e| CliError::usage("the signing key", &e))?,
        CdnKeySource::Kms { key_pair_id, key_id } => kms_public_key(config, key_pair_id, key_id)?,
    }];
    keys.extend(trusted_keys(config).map_err(startup)?);
    Ok(keys)
}

/// The public half of the configured KMS key, fetched with `GetPublicKey` (nothing is signed).
fn kms_public_key(config: &Config, key_pair_id: &str, key_id: &str) -> Result<VerifyingKey, CliError> {
    let id = KeyPairId::parse(key_pair_id).map_err(|e| CliError::usage("EDGEPASS_CDN_KEY_PAIR_ID", &e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed("cannot start the async runtime", &e))?;
    runtime
        .block_on(public_key_of(&KmsTarget::of(config), key_id, id))
        .map_err(|error| match error {
            KmsError::Unsuitable { .. } | KmsError::Refused { .. } => {
                CliError::usage("EDGEPASS_CDN_KMS_KEY_ID", &error)
            }
            _ => CliError::failed("EDGEPASS_CDN_KMS_KEY_ID", &error),
        })
}

/// `--cookie` values: NAME=VALUE each, or whole `Cookie` headers (`a=1; b=2`).
fn parse_cookies(values: &[String]) -> Result<Vec<(String, String)>, CliError> {
    let mut cookies = Vec::new();
    for value in values {
        let header = value
            .strip_prefix("Cookie:")
            .or_else(|| value.strip_prefix("cookie:"))
            .unwrap_or(value);
        for pair in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("--cookie {pair}: expected NAME=VALUE")))?;
            cookies.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(cookies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_pairs_or_whole_headers() {
        let parsed = parse_cookies(&["CloudFront-Policy=eyJ_".to_owned(), "Cookie: a=1; b=2".to_owned()])
            .map_err(|_| "refused")
            .expect("parses");
        let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["CloudFront-Policy", "a", "b"]);
        assert!(parse_cookies(&["no-equals".to_owned()]).is_err());
    }
}
