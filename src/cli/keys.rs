//! `edgepass keys generate`, `register` and `retire`: making signing keys and changing the key group
//! CloudFront trusts.
//!
//! Exit status: 0 done, 2 for bad input and for refusals (nothing was changed), 1 when CloudFront refused
//! a call or could not be reached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::time_arg::parse_time;
use super::{UsageError, now};
use crate::cdn::api_client;
use crate::cdn_cookies::longest_signature_life;
use crate::config::{CdnKeySource, Config};
use crate::key_files;
use crate::key_group::{self, KeyGroupError, KeyGroupStore, KeyGroups, NewPublicKey};
use crate::signing::{KeyKind, KeyPairId, VerifyingKey};

/// The private key file `keys generate` writes.
pub(crate) const PRIVATE_KEY_FILE: &str = "cdn-private.pem";
/// The public key file `keys generate` writes.
pub(crate) const PUBLIC_KEY_FILE: &str = "cdn-public.pem";

/// Added to the longest signature lifetime before a key may be retired: edgepass's clocks, CloudFront's
/// and the operator's idea of when signing stopped can each be off by a little.
pub(crate) const CLOCK_MARGIN_SECS: u64 = 300;

/// Exit status when CloudFront refused a call or could not be reached.
const REMOTE_FAILURE: u8 = 1;

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
    #[arg(long)]
    public_key: PathBuf,
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

pub(crate) fn run(command: KeysCommand, env: BTreeMap<String, String>) -> Result<ExitCode, UsageError> {
    match command {
        KeysCommand::Generate(args) => generate(&args),
        KeysCommand::Register(args) => register(&args, env),
        KeysCommand::Retire(args) => retire(&args, env),
    }
}

fn generate(args: &GenerateArgs) -> Result<ExitCode, UsageError> {
    let kind = match args.algorithm {
        Algorithm::Ecdsa => KeyKind::EcdsaP256,
        Algorithm::Rsa => KeyKind::Rsa2048,
    };
    let dir = &args.out;
    create_owner_only_dir(dir)?;
    let private_path = dir.join(PRIVATE_KEY_FILE);
    let public_path = dir.join(PUBLIC_KEY_FILE);
    for path in [&private_path, &public_path] {
        if path.exists() {
            return Err(UsageError(format!(
                "{} already exists; keys are never overwritten (move it away or choose another --out)",
                path.display()
            )));
        }
    }
    let pair = key_files::generate(kind)?;
    key_files::write_private(&private_path, &pair.private_pem)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", private_path.display())))?;
    if let Err(error) = key_files::write_public(&public_path, &pair.public_pem) {
        // Nothing half-written: a private key without its public half would only be confusing.
        let _ = std::fs::remove_file(&private_path);
        return Err(UsageError(format!(
            "cannot write {}: {error}",
            public_path.display()
        )));
    }
    println!("private key: {} ({kind}, mode 0600)", private_path.display());
    println!("public key:  {}", public_path.display());
    eprintln!(
        "next: edgepass keys register --public-key {} --key-group KEY_GROUP_ID; keep the private key out of \
         the repository (see keys.example/README.md)",
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates `dir` readable by its owner only when it does not exist; an existing folder is used as it is.
fn create_owner_only_dir(dir: &Path) -> Result<(), UsageError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))
}

/// Checks a CloudFront id given on the command line (key group ids are UUIDs, key ids capitals and digits).
fn cloudfront_id<'a>(flag: &str, text: &'a str) -> Result<&'a str, UsageError> {
    let valid =
        !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(text)
    } else {
        Err(UsageError(format!(
            "{flag} {text:?} is not a CloudFront id (letters, digits and '-')"
        )))
    }
}

fn public_key_name(name: Option<&str>, now: u64) -> Result<String, UsageError> {
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
        Err(UsageError(format!(
            "--name {name:?}: use 1 to 128 letters, digits, '-' and '_'"
        )))
    }
}

/// The CloudFront API as the service's configuration (`EDGEPASS_CLOUDFRONT_ENDPOINT_URL`,
/// `EDGEPASS_AWS_*`) describes it.
async fn key_groups(config: &Config) -> KeyGroups {
    let credentials = config
        .aws_credentials
        .as_ref()
        .map(|(access_key, secret)| (access_key.as_str(), secret.expose()));
    KeyGroups::new(api_client(config.cloudfront_endpoint_url.as_deref(), credentials).await)
}

fn runtime() -> Result<tokio::runtime::Runtime, UsageError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))
}

/// Turns a key-group error into the command's outcome: refusals and unknown groups are the operator's to
/// fix (exit 2); CloudFront's own failures end with exit 1.
fn key_group_failure(error: KeyGroupError, context: &str) -> Result<ExitCode, UsageError> {
    match error {
        KeyGroupError::NoSuchGroup(_) | KeyGroupError::Refused(_) => {
            Err(UsageError(format!("{context}{error}")))
        }
        KeyGroupError::KeptChanging(_) | KeyGroupError::Api { .. } => {
            super::print_error(&format!("{context}{error}"));
            Ok(ExitCode::from(REMOTE_FAILURE))
        }
    }
}

fn register(args: &RegisterArgs, env: BTreeMap<String, String>) -> Result<ExitCode, UsageError> {
    let path = args.public_key.display();
    let pem = std::fs::read_to_string(&args.public_key)
        .map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
    // Load it as the verifier would: this refuses a private key given by mistake (it must never leave the
    // machine) and keys CloudFront would store but whose signatures edgepass cannot make.
    let placeholder = KeyPairId::parse("UNREGISTERED")?;
    let kind = VerifyingKey::from_pem(placeholder, &pem)
        .map_err(|e| UsageError(format!("--public-key {path}: {e}")))?
        .kind();
    let group_id = cloudfront_id("--key-group", &args.key_group)?;
    let started = now();
    let name = public_key_name(args.name.as_deref(), started)?;
    let config = Config::from_env(&env)?;
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix).map_err(|_| UsageError("no random source".to_owned()))?;
    let caller_reference = format!(
        "edgepass-keys-register-{started}-{}",
        suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    runtime()?.block_on(async {
        let groups = key_groups(&config).await;
        // A wrong group id or missing permission shows here, before a public key exists that nothing uses.
        if let Err(error) = groups.read(group_id).await {
            return key_group_failure(error, "");
        }
        let key_id = match groups
            .create_public_key(&NewPublicKey {
                name: &name,
                caller_reference: &caller_reference,
                pem: &pem,
                comment: &format!("edgepass signing key ({kind})"),
            })
            .await
        {
            Ok(id) => id,
            Err(error) => return key_group_failure(error, ""),
        };
        match key_group::add_key(&groups, group_id, &key_id).await {
            Ok(items) => {
                println!("{key_id}");
                eprintln!(
                    "registered public key {key_id} ({name}, {kind}) in key group {group_id}, which now \
                     trusts {}. Sign with it (EDGEPASS_CDN_KEY_PAIR_ID={key_id}) only once the distributions \
                     using the group show Deployed again.",
                    items.join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => key_group_failure(
                error,
                &format!(
                    "public key {key_id} was created but is not in key group {group_id}; add it in the \
                     console or delete it (aws cloudfront delete-public-key --id {key_id} …): "
                ),
            ),
        }
    })
}

/// What the configuration says about signing, for [`retire_refusals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SigningFacts {
    /// The key edgepass signs with (`EDGEPASS_CDN_KEY_PAIR_ID`), if configured.
    pub(crate) active: Option<String>,
    /// How long a signature stays valid at most after it was made.
    pub(crate) longest_life_secs: u64,
}

impl SigningFacts {
    fn of(config: &Config) -> Self {
        let active = match &config.cdn.key {
            CdnKeySource::Generated => None,
            CdnKeySource::Pem { key_pair_id, .. } | CdnKeySource::File { key_pair_id, .. } => {
                Some(key_pair_id.clone())
            }
        };
        Self {
            active,
            longest_life_secs: longest_signature_life(config),
        }
    }
}

fn rfc3339(epoch: u64) -> String {
    OffsetDateTime::from_unix_timestamp(i64::try_from(epoch).unwrap_or(i64::MAX))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

/// Why retiring `key` at `now` is not (yet) safe; empty when it is. `stopped_at` is when edgepass last
/// signed with it.
pub(crate) fn retire_refusals(
    facts: &SigningFacts,
    key: &KeyPairId,
    stopped_at: Option<u64>,
    now: u64,
) -> Vec<String> {
    let mut refusals = Vec::new();
    match &facts.active {
        Some(active) if active == key.as_str() => refusals.push(format!(
            "key {key} is the configured signing key (EDGEPASS_CDN_KEY_PAIR_ID); switch every instance to \
             its successor first, or every private image gets 403"
        )),
        Some(_) => {}
        None => refusals.push(
            "EDGEPASS_CDN_KEY_PAIR_ID is not set, so which key edgepass signs with is unknown; run this \
             with the service's configuration (its EDGEPASS_* variables or EDGEPASS_CONFIG)"
                .to_owned(),
        ),
    }
    match stopped_at {
        None => refusals.push(format!(
            "--stopped-signing-at is required: when the last instance stopped signing with {key} (edgepass \
             does not record it); its signatures stay valid up to {}s after that",
            facts.longest_life_secs
        )),
        Some(stopped) => {
            let safe_from = stopped
                .saturating_add(facts.longest_life_secs)
                .saturating_add(CLOCK_MARGIN_SECS);
            if now < safe_from {
                refusals.push(format!(
                    "cookies or URLs signed with {key} may be valid until {}: it stopped signing at {}, \
                     signatures live up to {}s (the longest of EDGEPASS_CDN_COOKIE_TTL_SECS, \
                     EDGEPASS_SHARED_URL_TTL_SECS and EDGEPASS_SHARE_LINK_URL_TTL_SECS, plus \
                     EDGEPASS_CDN_EXPIRY_WINDOW_SECS), and {CLOCK_MARGIN_SECS}s are allowed for clocks; \
                     retry from {}",
                    rfc3339(safe_from - CLOCK_MARGIN_SECS),
                    rfc3339(stopped),
                    facts.longest_life_secs,
                    rfc3339(safe_from)
                ));
            }
        }
    }
    refusals
}

fn retire(args: &RetireArgs, env: BTreeMap<String, String>) -> Result<ExitCode, UsageError> {
    let key = KeyPairId::parse(&args.key_pair_id).map_err(|e| UsageError(format!("--key-pair-id: {e}")))?;
    let group_id = cloudfront_id("--key-group", &args.key_group)?;
    let current = now();
    let stopped_at = match &args.stopped_signing_at {
        Some(text) => {
            let stopped = parse_time(text).map_err(|e| UsageError(format!("--stopped-signing-at: {e}")))?;
            if stopped > current {
                return Err(UsageError(format!(
                    "--stopped-signing-at {text} is in the future"
                )));
            }
            Some(stopped)
        }
        None => None,
    };
    let config = Config::from_env(&env)?;
    let refusals = retire_refusals(&SigningFacts::of(&config), &key, stopped_at, current);
    if !refusals.is_empty() {
        if !args.force {
            return Err(UsageError(format!(
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
        match key_group::remove_key(&groups, group_id, key.as_str()).await {
            Ok(items) => {
                println!(
                    "retired {key} from key group {group_id}, which now trusts {}",
                    items.join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => key_group_failure(error, ""),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const NOW: u64 = 1_893_456_000;

    fn facts(active: Option<&str>) -> SigningFacts {
        SigningFacts {
            active: active.map(str::to_owned),
            longest_life_secs: HOUR + 300,
        }
    }

    fn key(id: &str) -> KeyPairId {
        KeyPairId::parse(id).expect("id")
    }

    #[test]
    fn a_key_that_stopped_signing_longer_ago_than_any_signature_lives_may_be_retired() {
        let stopped = NOW - (HOUR + 300 + CLOCK_MARGIN_SECS);
        assert_eq!(
            retire_refusals(&facts(Some("KNEW")), &key("KOLD"), Some(stopped), NOW),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_key_whose_signatures_may_still_be_valid_is_refused_with_the_moment_it_becomes_safe() {
        let stopped = NOW - (HOUR + 300 + CLOCK_MARGIN_SECS) + 1;
        let refusals = retire_refusals(&facts(Some("KNEW")), &key("KOLD"), Some(stopped), NOW);
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert!(
            refusals[0].contains(&format!("retry from {}", rfc3339(NOW + 1))),
            "{refusals:?}"
        );
    }

    #[test]
    fn the_active_key_an_unknown_configuration_and_a_missing_stop_time_are_each_refused() {
        let old_enough = Some(NOW - 10 * HOUR);
        let active = retire_refusals(&facts(Some("KOLD")), &key("KOLD"), old_enough, NOW);
        assert!(active[0].contains("configured signing key"), "{active:?}");
        let unknown = retire_refusals(&facts(None), &key("KOLD"), old_enough, NOW);
        assert!(
            unknown[0].contains("EDGEPASS_CDN_KEY_PAIR_ID is not set"),
            "{unknown:?}"
        );
        let no_time = retire_refusals(&facts(Some("KNEW")), &key("KOLD"), None, NOW);
        assert!(
            no_time[0].contains("--stopped-signing-at is required"),
            "{no_time:?}"
        );
    }

    #[test]
    fn the_longest_lifetime_covers_cookies_shared_urls_and_share_link_urls() {
        let config = |pairs: &[(&str, &str)]| {
            let env = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            SigningFacts::of(&Config::from_env(&env).expect("config"))
        };
        assert_eq!(config(&[]).longest_life_secs, 3600 + 300);
        assert_eq!(config(&[]).active, None);
        assert_eq!(
            config(&[("EDGEPASS_SHARED_URL_TTL_SECS", "7200")]).longest_life_secs,
            7200 + 300
        );
        assert_eq!(
            config(&[
                ("EDGEPASS_SHARE_LINK_URL_TTL_SECS", "9000"),
                ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "60"),
                ("EDGEPASS_CDN_KEY_PAIR_ID", "KACTIVE"),
                ("EDGEPASS_CDN_PRIVATE_KEY_FILE", "/run/secrets/cdn.pem"),
            ]),
            SigningFacts {
                active: Some("KACTIVE".to_owned()),
                longest_life_secs: 9000 + 60
            }
        );
    }

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
