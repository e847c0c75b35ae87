//! `edgepass sign url` and `edgepass sign cookies`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::time_arg::parse_time;
use super::{CliError, key_source, now, read_key_text};
use crate::signing::{HashAlgorithm, KeyKind, KeyPairId, Policy, SignError, Signer, SigningKey, SourceIp};

/// What to sign.
#[derive(Debug, Subcommand)]
pub(crate) enum SignCommand {
    /// Print a signed URL (canned policy unless a start time, IP block or policy resource asks for custom).
    Url(SignUrlArgs),
    /// Print a JSON object of cookie name → value (canned unless the resource has `*` or a condition is added).
    Cookies(SignCookiesArgs),
}

/// Flags shared by both kinds of signing, named as in `aws cloudfront sign`.
#[derive(Debug, Args)]
pub(crate) struct CommonSignArgs {
    /// The CloudFront public-key id.
    #[arg(long)]
    key_pair_id: String,
    /// The private key: a PEM file (optionally as file://PATH) or the PEM text itself.
    #[arg(long, allow_hyphen_values = true)]
    private_key: String,
    /// Expiry: epoch seconds, RFC 3339 or YYYY-MM-DD; must be in the future.
    #[arg(long, allow_hyphen_values = true)]
    date_less_than: String,
    /// Not-before time (makes the policy custom).
    #[arg(long, allow_hyphen_values = true)]
    date_greater_than: Option<String>,
    /// An IPv4 address or CIDR block the viewer must come from (makes the policy custom).
    #[arg(long, allow_hyphen_values = true)]
    ip_address: Option<String>,
    /// SHA1 or SHA256; default SHA1 (CloudFront's default) for RSA keys and SHA256 for ECDSA keys,
    /// as `aws cloudfront sign` (CLI v2) does.
    #[arg(long)]
    hash_algorithm: Option<String>,
}

/// `sign url` flags.
#[derive(Debug, Args)]
pub(crate) struct SignUrlArgs {
    /// The URL to sign, exactly as viewers will request it.
    #[arg(long)]
    url: String,
    /// A custom policy resource (may contain `*`); the URL must fall under it.
    #[arg(long)]
    policy_resource: Option<String>,
    #[command(flatten)]
    common: CommonSignArgs,
}

/// `sign cookies` flags.
#[derive(Debug, Args)]
pub(crate) struct SignCookiesArgs {
    /// The resource the cookies grant: one URL, or a pattern such as https://cdn.example.com/users/42/*.
    #[arg(long)]
    resource: String,
    #[command(flatten)]
    common: CommonSignArgs,
}

struct Prepared {
    key: SigningKey,
    hash: HashAlgorithm,
}

impl CommonSignArgs {
    fn prepare(&self) -> Result<Prepared, CliError> {
        let key_pair_id = KeyPairId::parse(&self.key_pair_id).map_err(|e| CliError::usage("", &e))?;
        let source = key_source(&self.private_key);
        let key = SigningKey::from_pem(key_pair_id, &read_key_text(&self.private_key)?)
            .map_err(|e| CliError::Usage(format!("private key {source}: {e}")))?;
        let hash = match &self.hash_algorithm {
            Some(text) => text.parse().map_err(|e| CliError::usage("", &e))?,
            None if key.kind() == KeyKind::EcdsaP256 => HashAlgorithm::Sha256,
            None => HashAlgorithm::Sha1,
        };
        Ok(Prepared { key, hash })
    }

    fn policy(&self, resource: &str) -> Result<Policy, CliError> {
        let expiry = parse_time(&self.date_less_than)
            .map_err(|e| CliError::Usage(format!("--date-less-than: {e}")))?;
        if expiry <= now() {
            return Err(CliError::Usage(format!(
                "--date-less-than {} is not in the future; the signature would never be accepted",
                self.date_less_than
            )));
        }
        let mut policy = Policy::new(resource, expiry).map_err(sign_error)?;
        if let Some(start) = &self.date_greater_than {
            let start =
                parse_time(start).map_err(|e| CliError::Usage(format!("--date-greater-than: {e}")))?;
            policy = policy.not_before(start).map_err(sign_error)?;
        }
        if let Some(ip) = &self.ip_address {
            policy = policy.source_ip(SourceIp::parse(ip).map_err(sign_error)?);
        }
        Ok(policy)
    }
}

/// What was asked cannot be signed (a malformed URL, resource, time or address), except for the one
/// failure that is not the caller's: the cryptographic backend's.
fn sign_error(error: SignError) -> CliError {
    match error {
        SignError::Backend => CliError::failed("", &error),
        _ => CliError::usage("", &error),
    }
}

pub(crate) fn run(command: SignCommand) -> Result<ExitCode, CliError> {
    match command {
        SignCommand::Url(args) => {
            let prepared = args.common.prepare()?;
            let resource = args.policy_resource.as_deref().unwrap_or(&args.url);
            let policy = args.common.policy(resource)?;
            if !crate::signing::resource_matches(policy.resource(), &args.url) {
                return Err(CliError::Usage(format!(
                    "--url {} is not covered by --policy-resource {}",
                    args.url,
                    policy.resource()
                )));
            }
            let url = Signer::new(&prepared.key, prepared.hash)
                .sign_url(&args.url, &policy)
                .map_err(sign_error)?;
            println!("{url}");
        }
        SignCommand::Cookies(args) => {
            let prepared = args.common.prepare()?;
            let policy = args.common.policy(&args.resource)?;
            let cookies = Signer::new(&prepared.key, prepared.hash)
                .sign_cookies(&policy)
                .map_err(sign_error)?;
            let map: BTreeMap<&str, String> = cookies.pairs().into_iter().collect();
            let json = serde_json::to_string_pretty(&map).map_err(|e| CliError::failed("", &e))?;
            println!("{json}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
