//! `edgepass keys generate`, `register` and `retire`: making signing keys and changing the key group
//! CloudFront trusts.
//!
//! The rules live in [`crate::keys`]; this parses the flags and prints the outcome.
//!
//! Exit status: 0 done, 2 for bad input and for refusals (nothing was changed), 1 when CloudFront refused
//! a call or could not be reached, or the key files could not be written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use time::OffsetDateTime;

use super::time_arg::parse_time;
use super::{CliError, now, with_causes};
use crate::aws::cloudfront::configured_client;
use crate::aws::cloudfront::key_groups::{self, KeyGroupError, KeyGroups, NewPublicKey};
use crate::aws::kms::{KmsError, KmsKey, KmsTarget};
use crate::config::Config;
use crate::keys::files::{self, PairError};
use crate::keys::rotation::{self, RegisterError, SigningFacts};
use crate::signing::{KeyKind, KeyPairId, VerifyingKey};

/// What to do with keys.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Write a new key pair into a folder: cdn-private.pem (mode 0600) and cdn-public.pem.
    Generate(GenerateArgs),
    /// Register a public key with CloudFront and add it to a key group; prints its key-pair id.
    Register(RegisterArgs),
    /// Remove a key from a key group once nothing it signed can still be valid.
    Retire(RetireArgs),
}

/// The key types CloudFront accepts.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Algorithm {
    /// ECDSA P-256 (signs with SHA-256).
    Ecdsa,
    /// RSA-2048 (SHA-1 by default, or SHA-256).
    Rsa,
}

/// `keys generate` flags.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The key type.
    #[arg(long, value_enum)]
    algorithm: Algorithm,
    /// The folder to write into (created, owner-only, if missing); existing key files are never replaced.
    #[arg(long)]
    out: PathBuf,
}

/// `keys register` flags.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The public key PEM file (BEGIN PUBLIC KEY), e.g. cdn-public.pem from `keys generate`.
    #[arg(long, required_unless_present = "kms_key_id", conflicts_with = "kms_key_id")]
    public_key: Option<PathBuf>,
    /// Register the public half of this KMS key (id, ARN or alias) instead, fetched with
    /// GetPublicKey after checking that the key can sign (EDGEPASS_KMS_REGION, EDGEPASS_KMS_ENDPOINT_URL).
    #[arg(long)]
    kms_key_id: Option<String>,
    /// The id of the key group to add the key to (the KeyGroupId output of infra/edgepass.yaml).
    #[arg(long)]
    key_group: String,
    /// The public key's name in CloudFront (unique in the account); default edgepass-YYYYMMDD-HHMMSS.
    #[arg(long)]
    name: Option<String>,
}

/// `keys retire` flags.
#[derive(Debug, Args)]
pub(crate) struct RetireArgs {
    /// The key to remove from the group.
    #[arg(long)]
    key_pair_id: String,
    /// The id of the key group.
    #[arg(long)]
    key_group: String,
    /// When the last edgepass instance stopped signing with the key (epoch seconds, RFC 3339 or
    /// YYYY-MM-DD): the end of the deployment that switched EDGEPASS_CDN_KEY_PAIR_ID to its successor.
    #[arg(long, allow_hyphen_values = true)]
    stopped_signing_at: Option<String>,
    /// Retire even if the key is the configured signing key or its signatures may still be valid (images
    /// signed with it then get 403 at once).
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(command: KeysCommand, env: BTreeMap<String, String>) -> Result<ExitCode, CliError> {
    match command {
        KeysCommand::Generate(args) => generate(&args),
        KeysCommand::Register(args) => register(&args, env),
        KeysCommand::Retire(args) => retire(&args, env),
    }
}

fn generate(args: &GenerateArgs) -> Result<ExitCode, CliError> {
    let kind = match args.algorithm {
        Algorithm::Ecdsa => KeyKind::EcdsaP256,
        Algorithm::Rsa => KeyKind::Rsa2048,
    };
    let written = files::write_pair(&args.out, kind).map_err(|error| match error {
        PairError::Exists(path) => CliError::Usage(format!(
            "{} already exists; keys are never overwritten (move it away or choose another --out)",
            path.display()
        )),
        error @ (PairError::Generate(_) | PairError::Io { .. }) => CliError::failed("", &error),
    })?;
    println!("private key: {} ({kind}, mode 0600)", written.private.display());
    println!("public key:  {}", written.public.display());
    eprintln!(
        "next: edgepass keys register --public-key {} --key-group KEY_GROUP_ID; keep the private key out of \
         the repository (see keys.example/README.md)",
        written.public.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks a CloudFront id given on the command line (key group ids are UUIDs, key ids capitals and digits).
fn cloudfront_id<'a>(flag: &str, text: &'a str) -> Result<&'a str, CliError> {
    let valid =
        !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(text)
    } else {
        Err(CliError::Usage(format!(
            "{flag} {text:?} is not a CloudFront id (letters, digits and '-')"
        )))
    }
}

fn public_key_name(name: Option<&str>, now: u64) -> Result<String, CliError> {
    let Some(name) = name else {
        let moment = OffsetDateTime::from_unix_timestamp(i64::try_from(now).unwrap_or_default())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        return Ok(format!(
            "edgepass-{:04}{:02}{:02}-{:02}{:02}{:02}",
            moment.year(),
            u8::from(moment.month()),
            moment.day(),
            moment.hour(),
            moment.minute(),
            moment.second()
        ));
    };
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(CliError::Usage(format!(
            "--name {name:?}: use 1 to 128 letters, digits, '-' and '_'"
        )))
    }
}

/// The service's configuration, which names the CloudFront endpoint, the credentials and the signing key.
fn config(env: &BTreeMap<String, String>) -> Result<Config, CliError> {
    Config::from_env(env).map_err(|e| CliError::usage("", &e))
}

/// The CloudFront API as the service's configuration (`EDGEPASS_CLOUDFRONT_ENDPOINT_URL`,
/// `EDGEPASS_AWS_*`) describes it.
async fn key_groups(config: &Config) -> KeyGroups {
    KeyGroups::new(configured_client(config).await)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed("cannot start the async runtime", &e))
}

/// A key-group error as the command's outcome: refusals and unknown groups are the operator's to fix
/// (exit 2); CloudFront's own failures end with exit 1. `error` is the whole message's error.
fn key_group_failure(kind: &KeyGroupError, error: &(dyn std::error::Error + 'static)) -> CliError {
    match kind {
        KeyGroupError::NoSuchGroup(_) | KeyGroupError::Refused(_) => CliError::Usage(with_causes(error)),
        KeyGroupError::KeptChanging(_) | KeyGroupError::Api { .. } => CliError::Failed(with_causes(error)),
    }
}

/// The public key to register, as PEM, and its kind: read from `--public-key`, or fetched from KMS for
/// `--kms-key-id`.
async fn public_key_to_register(args: &RegisterArgs, config: &Config) -> Result<(String, KeyKind), CliError> {
    // The id CloudFront will give it is not known yet.
    let placeholder = || KeyPairId::parse("UNREGISTERED").map_err(|e| CliError::failed("", &e));
    if let Some(key_id) = &args.kms_key_id {
        // The same checks as at start-up: a key that passes can sign what CloudFront will verify.
        let key = KmsKey::connect(&KmsTarget::of(config), key_id, placeholder()?)
            .await
            .map_err(|e| match e {
                KmsError::Unsuitable { .. } | KmsError::Refused { .. } => {
                    CliError::Usage(format!("--kms-key-id: {}", with_causes(&e)))
                }
                _ => CliError::Failed(format!("--kms-key-id: {}", with_causes(&e))),
            })?;
        return Ok((key.public_pem(), key.public_key().kind()));
    }
    let Some(public_key) = &args.public_key else {
        return Err(CliError::Usage("give --public-key or --kms-key-id".to_owned()));
    };
    let path = public_key.display();
    let pem = std::fs::read_to_string(public_key)
        .map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))?;
    // Load it as the verifier would: this refuses a private key given by mistake (it must never leave the
    // machine) and keys CloudFront would store but whose signatures edgepass cannot make.
    let kind = VerifyingKey::from_pem(placeholder()?, &pem)
        .map_err(|e| CliError::Usage(format!("--public-key {path}: {e}")))?
        .kind();
    Ok((pem, kind))
}

fn register(args: &RegisterArgs, env: BTreeMap<String, String>) -> Result<ExitCode, CliError> {
    let group_id = cloudfront_id("--key-group", &args.key_group)?;
    let started = now();
    let name = public_key_name(args.name.as_deref(), started)?;
    let config = config(&env)?;
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix).map_err(|_| CliError::Failed("no random source".to_owned()))?;
    let caller_reference = format!(
        "edgepass-keys-register-{started}-{}",
        suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    runtime()?.block_on(async {
        let (pem, kind) = public_key_to_register(args, &config).await?;
        let groups = key_groups(&config).await;
        let key = NewPublicKey {
            name: &name,
            caller_reference: &caller_reference,
            pem: &pem,
            comment: &format!("edgepass signing key ({kind})"),
        };
        let registered = rotation::register(&groups, group_id, &key)
            .await
            .map_err(|error: RegisterError| key_group_failure(error.key_group_error(), &error))?;
        let key_id = &registered.key_id;
        println!("{key_id}");
        let settings = match &args.kms_key_id {
            Some(kms_key_id) => {
                format!("EDGEPASS_CDN_KMS_KEY_ID={kms_key_id} EDGEPASS_CDN_KEY_PAIR_ID={key_id}")
            }
            None => format!("EDGEPASS_CDN_KEY_PAIR_ID={key_id}"),
        };
        eprintln!(
            "registered public key {key_id} ({name}, {kind}) in key group {group_id}, which now trusts {}. \
             Sign with it ({settings}) only once the distributions using the group show Deployed again.",
            registered.trusted.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn retire(args: &RetireArgs, env: BTreeMap<String, String>) -> Result<ExitCode, CliError> {
    let key =
        KeyPairId::parse(&args.key_pair_id).map_err(|e| CliError::Usage(format!("--key-pair-id: {e}")))?;
    let group_id = cloudfront_id("--key-group", &args.key_group)?;
    let current = now();
    let stopped_at = match &args.stopped_signing_at {
        Some(text) => {
            let stopped =
                parse_time(text).map_err(|e| CliError::Usage(format!("--stopped-signing-at: {e}")))?;
            if stopped > current {
                return Err(CliError::Usage(format!(
                    "--stopped-signing-at {text} is in the future"
                )));
            }
            Some(stopped)
        }
        None => None,
    };
    let config = config(&env)?;
    let refusals = rotation::retire_refusals(&SigningFacts::of(&config), &key, stopped_at, current);
    if !refusals.is_empty() {
        if !args.force {
            return Err(CliError::Usage(format!(
                "{}; nothing was changed (--force retires anyway)",
                refusals.join("; ")
            )));
        }
        for refusal in &refusals {
            eprintln!("warning: --force overrides: {refusal}");
        }
    }
    runtime()?.block_on(async {
        let groups = key_groups(&config).await;
        let trusted = key_groups::remove_key(&groups, group_id, key.as_str())
            .await
            .map_err(|error| key_group_failure(&error, &error))?;
        println!(
            "retired {key} from key group {group_id}, which now trusts {}",
            trusted.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_893_456_000;

    #[test]
    fn names_and_ids_are_checked_before_anything_is_sent() {
        assert_eq!(
            public_key_name(None, NOW).expect("default"),
            "edgepass-20300101-000000"
        );
        assert_eq!(
            public_key_name(Some("cdn_2030-a"), NOW).expect("given"),
            "cdn_2030-a"
        );
        assert!(public_key_name(Some("with space"), NOW).is_err());
        assert!(public_key_name(Some(""), NOW).is_err());
        assert!(cloudfront_id("--key-group", "7f3c1a2e-0000-4000-8000-000000000000").is_ok());
        assert!(cloudfront_id("--key-group", "../x").is_err());
    }
}
