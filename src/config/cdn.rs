//! The CloudFront cookies and signed URLs: `EDGEPASS_CDN_*` (the base URL, the signing key, the
//! algorithm, lifetimes and cookie attributes, and the keys trusted beside the signing key).

use std::path::PathBuf;

use super::settings::{ConfigError, Secret, Settings, error};

/// Which algorithm signs CloudFront cookies and URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdnAlgorithm {
    /// RSA-2048 with SHA-1, CloudFront's default.
    RsaSha1,
    /// RSA-2048 with SHA-256.
    RsaSha256,
    /// ECDSA P-256 with SHA-256.
    EcdsaSha256,
}

/// Where the CloudFront signing key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CdnKeySource {
    /// Local mode: generated once and kept in the data folder.
    Generated,
    /// PEM text from `EDGEPASS_CDN_PRIVATE_KEY`.
    Pem {
        /// The key's CloudFront public-key id.
        key_pair_id: String,
        /// The PEM text.
        pem: Secret,
    },
    /// A PEM file named by `EDGEPASS_CDN_PRIVATE_KEY_FILE`.
    File {
        /// The key's CloudFront public-key id.
        key_pair_id: String,
        /// The file.
        path: PathBuf,
    },
    /// A key held in AWS KMS (`EDGEPASS_CDN_KMS_KEY_ID`): its private half never enters the process.
    Kms {
        /// The CloudFront public-key id its public half is registered under.
        key_pair_id: String,
        /// The KMS key id, ARN or alias.
        key_id: String,
    },
}

/// CloudFront cookie settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdnConfig {
    /// The configured CDN origin viewers use, e.g. `https://cdn.example.com` (no trailing slash); `None`
    /// follows the local edge's address, settled once it is bound (see
    /// [`BoundAddresses`](super::BoundAddresses)).
    pub base_url: Option<String>,
    /// The signing key.
    pub key: CdnKeySource,
    /// The algorithm; `None` follows the key (SHA-1 for RSA, SHA-256 for ECDSA).
    pub algorithm: Option<CdnAlgorithm>,
    /// How long minted cookies are valid, before rounding up to the expiry window.
    pub cookie_ttl_secs: u64,
    /// Expiries are rounded up to multiples of this, so repeated grants reuse signatures.
    pub expiry_window_secs: u64,
    /// How long an album's cookie set is valid, before rounding up to the expiry window: the bound on
    /// how long a revoked grantee's browser keeps loading the album (`EDGEPASS_ALBUM_COOKIE_TTL_SECS`).
    pub album_cookie_ttl_secs: u64,
    /// How many album cookie sets one session holds at most; past it the oldest is expired
    /// (`EDGEPASS_ALBUM_COOKIE_SETS`).
    pub album_cookie_sets: u64,
    /// `Domain` of the CloudFront cookies; `None` makes them host-only.
    pub cookie_domain: Option<String>,
    /// `Max-Age` of the CloudFront cookies; `None` makes them session cookies.
    pub cookie_max_age_secs: Option<i64>,
    /// Whether cookies are bound to the viewer's IPv4 address (`IpAddress` condition).
    pub bind_viewer_ip: bool,
    /// Public keys trusted besides the signing key (`EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS`): a key being
    /// rotated out, whose cookies and URLs still verify at the local edge until it is retired.
    pub trusted_keys: Vec<TrustedKeyFile>,
    /// How many recently used grants (cookie sets, object URLs) are signed again ahead of each
    /// window change, so requests find them signed; 0 signs nothing ahead.
    pub sign_ahead_grants: u64,
    /// The share of one core that signing ahead may use, in percent.
    pub sign_ahead_cpu_percent: u64,
    /// How many KMS Sign calls one batch of URLs makes at once (`EDGEPASS_KMS_CONCURRENCY`).
    pub kms_concurrency: u64,
}

/// A verify-only public key: its CloudFront id and the PEM file holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKeyFile {
    /// The key's CloudFront public-key id.
    pub key_pair_id: String,
    /// A `-----BEGIN PUBLIC KEY-----` PEM file.
    pub path: PathBuf,
}

impl CdnConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let key = key_source(s)?;
        let algorithm = algorithm(s)?;
        let base_url = s.base_url("EDGEPASS_CDN_BASE_URL")?;
        let cookie_max_age_secs = s
            .parsed::<u64>("EDGEPASS_CDN_COOKIE_MAX_AGE_SECS", "a whole number of seconds")?
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        Ok(Self {
            base_url,
            key,
            algorithm,
            cookie_ttl_secs: s.positive("EDGEPASS_CDN_COOKIE_TTL_SECS", 3600)?,
            expiry_window_secs: s.positive("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", 300)?,
            album_cookie_ttl_secs: s.positive("EDGEPASS_ALBUM_COOKIE_TTL_SECS", 900)?,
            album_cookie_sets: s.positive("EDGEPASS_ALBUM_COOKIE_SETS", 20)?,
            cookie_domain: s.text("EDGEPASS_CDN_COOKIE_DOMAIN").map(|d| d.trim().to_owned()),
            cookie_max_age_secs,
            bind_viewer_ip: s.bool("EDGEPASS_CDN_BIND_VIEWER_IP")?.unwrap_or(false),
            trusted_keys: trusted_keys(s.text("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS"))?,
            sign_ahead_grants: s
                .parsed::<u64>("EDGEPASS_CDN_SIGN_AHEAD_GRANTS", "a whole number")?
                .unwrap_or(10_000),
            sign_ahead_cpu_percent: cpu_percent(s)?,
            kms_concurrency: s.positive("EDGEPASS_KMS_CONCURRENCY", 16)?,
        })
    }
}

fn cpu_percent(s: &Settings) -> Result<u64, ConfigError> {
    let percent = s.positive("EDGEPASS_CDN_SIGN_AHEAD_CPU_PERCENT", 25)?;
    if percent > 100 {
        return Err(error(
            "EDGEPASS_CDN_SIGN_AHEAD_CPU_PERCENT",
            "must be a percentage of one core, 1 to 100",
        ));
    }
    Ok(percent)
}

fn key_source(s: &Settings) -> Result<CdnKeySource, ConfigError> {
    if let Some(key_id) = s.text("EDGEPASS_CDN_KMS_KEY_ID") {
        return kms_key_source(s, key_id.trim());
    }
    match (
        s.text("EDGEPASS_CDN_KEY_PAIR_ID"),
        s.text("EDGEPASS_CDN_PRIVATE_KEY"),
        s.text("EDGEPASS_CDN_PRIVATE_KEY_FILE"),
    ) {
        (None, None, None) => Ok(CdnKeySource::Generated),
        (Some(id), Some(pem), None) => Ok(CdnKeySource::Pem {
            key_pair_id: id.to_owned(),
            pem: Secret::new(pem.to_owned()),
        }),
        (Some(id), None, Some(path)) => Ok(CdnKeySource::File {
            key_pair_id: id.to_owned(),
            path: PathBuf::from(path),
        }),
        (None, _, _) => Err(error(
            "EDGEPASS_CDN_KEY_PAIR_ID",
            "is required when a CloudFront private key is configured",
        )),
        (Some(_), None, None) => Err(error(
            "EDGEPASS_CDN_PRIVATE_KEY",
            "or EDGEPASS_CDN_PRIVATE_KEY_FILE is required with EDGEPASS_CDN_KEY_PAIR_ID",
        )),
        (Some(_), Some(_), Some(_)) => Err(error(
            "EDGEPASS_CDN_PRIVATE_KEY",
            "give either EDGEPASS_CDN_PRIVATE_KEY or EDGEPASS_CDN_PRIVATE_KEY_FILE, not both",
        )),
    }
}

fn kms_key_source(s: &Settings, key_id: &str) -> Result<CdnKeySource, ConfigError> {
    if s.text("EDGEPASS_CDN_PRIVATE_KEY").is_some() || s.text("EDGEPASS_CDN_PRIVATE_KEY_FILE").is_some() {
        return Err(error(
            "EDGEPASS_CDN_KMS_KEY_ID",
            "a KMS key replaces the private key: give EDGEPASS_CDN_KMS_KEY_ID or a private key, not both",
        ));
    }
    let key_pair_id = s.text("EDGEPASS_CDN_KEY_PAIR_ID").ok_or_else(|| {
        error(
            "EDGEPASS_CDN_KEY_PAIR_ID",
            "is required with EDGEPASS_CDN_KMS_KEY_ID (the id CloudFront knows the KMS key's public half by)",
        )
    })?;
    // KMS signs with SHA-256 only (ECDSA_SHA_256, RSASSA_PKCS1_V1_5_SHA_256).
    if algorithm(s)? == Some(CdnAlgorithm::RsaSha1) {
        return Err(error(
            "EDGEPASS_CDN_ALGORITHM",
            "rsa-sha1 cannot be used with a KMS key: KMS has no SHA-1 signing; use rsa-sha256 (or leave it \
             unset, which follows the key)",
        ));
    }
    Ok(CdnKeySource::Kms {
        key_pair_id: key_pair_id.trim().to_owned(),
        key_id: key_id.to_owned(),
    })
}

fn algorithm(s: &Settings) -> Result<Option<CdnAlgorithm>, ConfigError> {
    match s
        .text("EDGEPASS_CDN_ALGORITHM")
        .map(|a| a.trim().to_ascii_lowercase())
    {
        None => Ok(None),
        Some(a) if a == "rsa-sha1" => Ok(Some(CdnAlgorithm::RsaSha1)),
        Some(a) if a == "rsa-sha256" => Ok(Some(CdnAlgorithm::RsaSha256)),
        Some(a) if a == "ecdsa-sha256" => Ok(Some(CdnAlgorithm::EcdsaSha256)),
        Some(other) => Err(error(
            "EDGEPASS_CDN_ALGORITHM",
            format!("{other:?} is not rsa-sha1, rsa-sha256 or ecdsa-sha256"),
        )),
    }
}

/// Parses `ID=PATH[,ID=PATH…]`.
fn trusted_keys(text: Option<&str>) -> Result<Vec<TrustedKeyFile>, ConfigError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<TrustedKeyFile> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let Some((id, path)) = entry.split_once('=') else {
            return Err(error(
                "EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS",
                format!("{entry:?} is not KEY_PAIR_ID=PATH"),
            ));
        };
        let (id, path) = (id.trim(), path.trim());
        if id.is_empty() || path.is_empty() {
            return Err(error(
                "EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS",
                format!("{entry:?} is not KEY_PAIR_ID=PATH"),
            ));
        }
        if keys.iter().any(|key| key.key_pair_id == id) {
            return Err(error(
                "EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS",
                format!("key {id} is listed twice"),
            ));
        }
        keys.push(TrustedKeyFile {
            key_pair_id: id.to_owned(),
            path: PathBuf::from(path),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::env;

    #[test]
    fn trusted_public_keys_are_a_list_of_ids_and_files() {
        let config = Config::from_env(&env(&[(
            "EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS",
            " KOLD1=/keys/old.pem ,KOLD2 = /keys/older.pem,",
        )]))
        .expect("config");
        assert_eq!(
            config.cdn.trusted_keys,
            vec![
                TrustedKeyFile {
                    key_pair_id: "KOLD1".to_owned(),
                    path: PathBuf::from("/keys/old.pem"),
                },
                TrustedKeyFile {
                    key_pair_id: "KOLD2".to_owned(),
                    path: PathBuf::from("/keys/older.pem"),
                },
            ]
        );
        let none = Config::from_env(&env(&[])).expect("config");
        assert!(none.cdn.trusted_keys.is_empty());
    }
}
