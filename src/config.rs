//! Typed configuration from `EDGEPASS_*` variables and an optional TOML file.
//!
//! Every setting is listed in `docs/configuration.md`. A missing or malformed value stops start-up with a
//! message naming the variable. With nothing configured, edgepass runs in local mode: SQLite and a
//! generated signing key in the data folder.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A value that must not reach logs (a database URL with a password, a private key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A setting that could not be used; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable (or the matching key in the TOML file).
    pub variable: String,
    /// What is wrong.
    pub message: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines, for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

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
}

/// CloudFront cookie settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdnConfig {
    /// The CDN origin viewers use, e.g. `https://cdn.example.com` (no trailing slash).
    pub base_url: String,
    /// Whether `base_url` was derived from the local edge's address (not configured).
    pub base_url_derived: bool,
    /// The signing key.
    pub key: CdnKeySource,
    /// The algorithm; `None` follows the key (SHA-1 for RSA, SHA-256 for ECDSA).
    pub algorithm: Option<CdnAlgorithm>,
    /// How long minted cookies are valid, before rounding up to the expiry window.
    pub cookie_ttl_secs: u64,
    /// Expiries are rounded up to multiples of this, so repeated grants reuse signatures.
    pub expiry_window_secs: u64,
    /// `Domain` of the CloudFront cookies; `None` makes them host-only.
    pub cookie_domain: Option<String>,
    /// `Max-Age` of the CloudFront cookies; `None` makes them session cookies.
    pub cookie_max_age_secs: Option<i64>,
    /// Whether cookies are bound to the viewer's IPv4 address (`IpAddress` condition).
    pub bind_viewer_ip: bool,
    /// Public keys trusted besides the signing key (`EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS`): a key being
    /// rotated out, whose cookies and URLs still verify at the local edge until it is retired.
    pub trusted_keys: Vec<TrustedKeyFile>,
}

/// A verify-only public key: its CloudFront id and the PEM file holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKeyFile {
    /// The key's CloudFront public-key id.
    pub key_pair_id: String,
    /// A `-----BEGIN PUBLIC KEY-----` PEM file.
    pub path: PathBuf,
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

/// Where images are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    /// Local mode: the embedded S3-compatible store under the data folder.
    Embedded,
    /// S3 or an S3-compatible service.
    S3 {
        /// The bucket.
        bucket: String,
        /// Its region.
        region: String,
        /// A non-AWS endpoint.
        endpoint_url: Option<String>,
        /// Path-style addressing.
        force_path_style: bool,
    },
}

/// Upload rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadConfig {
    /// How long a presigned upload URL is valid.
    pub url_ttl_secs: u64,
    /// The largest image accepted.
    pub max_image_bytes: u64,
    /// Most images a user may keep (pending uploads included).
    pub quota_images: u64,
    /// Most bytes a user may keep (pending uploads included).
    pub quota_bytes: u64,
}

/// Sharing rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharingConfig {
    /// How long a signed URL for one shared object is valid, before rounding up to the expiry window.
    pub url_ttl_secs: u64,
    /// Most image ids one `POST /api/urls` may ask for.
    pub max_batch_urls: u64,
    /// The longest `expires_in` a share link may be given.
    pub link_max_ttl_secs: u64,
    /// How long the signed URL a share link redirects to is valid, before rounding up to the window.
    pub link_url_ttl_secs: u64,
}

/// Session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle lifetime; every use pushes the expiry this far ahead.
    pub ttl_secs: u64,
    /// `Secure` on the session and CloudFront cookies; only plain-HTTP local mode turns it off.
    pub cookie_secure: bool,
}

/// Request and abuse limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Failed logins per account within the window before logins are refused.
    pub login_failures_per_account: u64,
    /// Failed logins per client address within the window before logins are refused.
    pub login_failures_per_client: u64,
    /// The throttling window.
    pub login_window_secs: u64,
    /// Registration attempts per client address within the registration window before registrations
    /// are refused.
    pub registrations_per_client: u64,
    /// The registration throttling window.
    pub registration_window_secs: u64,
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Where local state lives (SQLite file, generated key).
    pub data_dir: PathBuf,
    /// The database; SQLite in the data folder by default.
    pub database_url: Secret,
    /// The service's own origin as browsers see it, e.g. `https://app.example.com`.
    pub public_url: String,
    /// Whether `public_url` was derived from the listen address (not configured).
    pub public_url_derived: bool,
    /// Origins allowed to make state-changing requests.
    pub allowed_origins: Vec<String>,
    /// CloudFront cookies.
    pub cdn: CdnConfig,
    /// Sessions.
    pub session: SessionConfig,
    /// Limits.
    pub limits: Limits,
    /// Log format.
    pub log_format: LogFormat,
    /// Take the client address from the last `X-Forwarded-For` hop (behind a load balancer).
    pub trust_forwarded_for: bool,
    /// Where the local edge (the CloudFront stand-in) listens; `None` runs no edge.
    pub edge_listen: Option<SocketAddr>,
    /// Where `/metrics` is served, apart from the API; `None` serves no metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// Image storage.
    pub storage: StorageConfig,
    /// Upload rules.
    pub uploads: UploadConfig,
    /// Sharing rules.
    pub sharing: SharingConfig,
    /// The CloudFront distribution to invalidate; `None` in local mode.
    pub distribution_id: Option<String>,
    /// A CloudFront API endpoint instead of AWS's (an emulator in tests).
    pub cloudfront_endpoint_url: Option<String>,
    /// Static AWS credentials for S3 and CloudFront; `None` uses the AWS default chain.
    pub aws_credentials: Option<(String, Secret)>,
}

/// Settings by variable name, from the TOML file overlaid with the environment.
struct Settings(BTreeMap<String, String>);

impl Settings {
    fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn parsed<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, ConfigError> {
        self.text(name)
            .map(|v| {
                v.trim().parse().map_err(|_| ConfigError {
                    variable: name.to_owned(),
                    message: format!("{v:?} is not {what}"),
                })
            })
            .transpose()
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        self.text(name)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(ConfigError {
                    variable: name.to_owned(),
                    message: format!("{v:?} is not true or false"),
                }),
            })
            .transpose()
    }

    fn positive(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        let value = self.parsed::<u64>(name, "a whole number")?.unwrap_or(default);
        if value == 0 {
            return Err(ConfigError {
                variable: name.to_owned(),
                message: "must be greater than zero".to_owned(),
            });
        }
        Ok(value)
    }
}

fn error(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        message: message.into(),
    }
}

/// Reads a TOML file whose keys are the variable names without the `EDGEPASS_` prefix, in any case
/// (`listen = "0.0.0.0:8080"`, `[cdn]`-style tables are not used).
fn file_settings(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error("EDGEPASS_CONFIG", format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| error("EDGEPASS_CONFIG", format!("{path} is not valid TOML: {e}")))?;
    let mut settings = BTreeMap::new();
    for (key, value) in table {
        let name = format!("EDGEPASS_{}", key.to_ascii_uppercase());
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|()| error(&name, format!("{path}: {key} must be a list of strings")))?
                .join(","),
            _ => {
                return Err(error(
                    &name,
                    format!("{path}: {key} must be a string, number, boolean or list"),
                ));
            }
        };
        settings.insert(name, value);
    }
    Ok(settings)
}

/// Where the local edge listens unless told otherwise.
pub const DEFAULT_EDGE_LISTEN: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8081));

/// The local edge's address: `EDGEPASS_EDGE_LISTEN` if set (`off` runs none), else the default address
/// with the embedded store and no edge with a real bucket, where CloudFront serves the images.
fn edge_listen(s: &Settings, storage: &StorageConfig) -> Result<Option<SocketAddr>, ConfigError> {
    match s.text("EDGEPASS_EDGE_LISTEN").map(str::trim) {
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => s.parsed(
            "EDGEPASS_EDGE_LISTEN",
            "an address such as 127.0.0.1:8081, or off",
        ),
        None => Ok((*storage == StorageConfig::Embedded).then_some(DEFAULT_EDGE_LISTEN)),
    }
}

/// Where `/metrics` is served unless told otherwise: loopback, next to the API's and the edge's ports.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8082));

/// The metrics listener's address: `EDGEPASS_METRICS_LISTEN` if set (`off` serves no metrics), else the
/// default loopback address.
fn metrics_listen(s: &Settings) -> Result<Option<SocketAddr>, ConfigError> {
    match s.text("EDGEPASS_METRICS_LISTEN").map(str::trim) {
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => s.parsed(
            "EDGEPASS_METRICS_LISTEN",
            "an address such as 127.0.0.1:8082, or off",
        ),
        None => Ok(Some(DEFAULT_METRICS_LISTEN)),
    }
}

fn origin_of(url: &str, variable: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| error(variable, format!("{url:?} is not an http:// or https:// URL")))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(error(
            variable,
            format!("{url:?} must be an origin such as https://app.example.com"),
        ));
    }
    Ok(trimmed.to_owned())
}

impl Config {
    /// Builds the configuration from `EDGEPASS_*` variables (`env`), reading the TOML file named by
    /// `EDGEPASS_CONFIG` first if set; environment values win over the file.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut settings = match env.get("EDGEPASS_CONFIG").filter(|p| !p.is_empty()) {
            Some(path) => file_settings(path)?,
            None => BTreeMap::new(),
        };
        settings.extend(
            env.iter()
                .filter(|(k, _)| k.starts_with("EDGEPASS_"))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Self::from_settings(&Settings(settings))
    }

    fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let listen: SocketAddr = s
            .parsed("EDGEPASS_LISTEN", "an address such as 127.0.0.1:8080")?
            .unwrap_or(([127, 0, 0, 1], 8080).into());
        let data_dir = PathBuf::from(s.text("EDGEPASS_DATA_DIR").unwrap_or("./edgepass-data"));
        let database_url = match s.text("EDGEPASS_DATABASE_URL") {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url.to_owned()
            }
            Some(_) => {
                return Err(error(
                    "EDGEPASS_DATABASE_URL",
                    "must start with sqlite:, postgres:// or postgresql://",
                ));
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("edgepass.db").display()),
        };
        let public_url = match s.text("EDGEPASS_PUBLIC_URL") {
            Some(url) => origin_of(url, "EDGEPASS_PUBLIC_URL")?,
            None => format!("http://{listen}"),
        };
        let mut allowed_origins = vec![public_url.clone()];
        if listen.ip().is_loopback() && s.text("EDGEPASS_PUBLIC_URL").is_none() {
            // Local mode: the page may be opened as localhost or as the loopback address.
            allowed_origins.push(format!("http://localhost:{}", listen.port()));
        }
        if let Some(list) = s.text("EDGEPASS_ALLOWED_ORIGINS") {
            for origin in list.split(',').filter(|o| !o.trim().is_empty()) {
                allowed_origins.push(origin_of(origin, "EDGEPASS_ALLOWED_ORIGINS")?);
            }
        }

        let plain_http = public_url.starts_with("http://");
        let cookie_secure = s.bool("EDGEPASS_COOKIE_SECURE")?.unwrap_or(!plain_http);
        if !cookie_secure && !plain_http {
            return Err(error(
                "EDGEPASS_COOKIE_SECURE",
                "may be false only when EDGEPASS_PUBLIC_URL is plain http:// (local development)",
            ));
        }

        let key = match (
            s.text("EDGEPASS_CDN_KEY_PAIR_ID"),
            s.text("EDGEPASS_CDN_PRIVATE_KEY"),
            s.text("EDGEPASS_CDN_PRIVATE_KEY_FILE"),
        ) {
            (None, None, None) => CdnKeySource::Generated,
            (Some(id), Some(pem), None) => CdnKeySource::Pem {
                key_pair_id: id.to_owned(),
                pem: Secret::new(pem.to_owned()),
            },
            (Some(id), None, Some(path)) => CdnKeySource::File {
                key_pair_id: id.to_owned(),
                path: PathBuf::from(path),
            },
            (None, _, _) => {
                return Err(error(
                    "EDGEPASS_CDN_KEY_PAIR_ID",
                    "is required when a CloudFront private key is configured",
                ));
            }
            (Some(_), None, None) => {
                return Err(error(
                    "EDGEPASS_CDN_PRIVATE_KEY",
                    "or EDGEPASS_CDN_PRIVATE_KEY_FILE is required with EDGEPASS_CDN_KEY_PAIR_ID",
                ));
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(error(
                    "EDGEPASS_CDN_PRIVATE_KEY",
                    "give either EDGEPASS_CDN_PRIVATE_KEY or EDGEPASS_CDN_PRIVATE_KEY_FILE, not both",
                ));
            }
        };
        let algorithm = match s
            .text("EDGEPASS_CDN_ALGORITHM")
            .map(|a| a.trim().to_ascii_lowercase())
        {
            None => None,
            Some(a) if a == "rsa-sha1" => Some(CdnAlgorithm::RsaSha1),
            Some(a) if a == "rsa-sha256" => Some(CdnAlgorithm::RsaSha256),
            Some(a) if a == "ecdsa-sha256" => Some(CdnAlgorithm::EcdsaSha256),
            Some(other) => {
                return Err(error(
                    "EDGEPASS_CDN_ALGORITHM",
                    format!("{other:?} is not rsa-sha1, rsa-sha256 or ecdsa-sha256"),
                ));
            }
        };
        let storage = match s.text("EDGEPASS_S3_BUCKET") {
            None => StorageConfig::Embedded,
            Some(bucket) => StorageConfig::S3 {
                bucket: bucket.trim().to_owned(),
                region: s
                    .text("EDGEPASS_S3_REGION")
                    .unwrap_or("us-east-1")
                    .trim()
                    .to_owned(),
                endpoint_url: match s.text("EDGEPASS_S3_ENDPOINT_URL") {
                    Some(url) => Some(origin_of(url, "EDGEPASS_S3_ENDPOINT_URL")?),
                    None => None,
                },
                force_path_style: s.bool("EDGEPASS_S3_FORCE_PATH_STYLE")?.unwrap_or(false),
            },
        };
        let edge_listen = edge_listen(s, &storage)?;
        let base_url = match s.text("EDGEPASS_CDN_BASE_URL") {
            Some(url) => {
                let trimmed = url.trim().trim_end_matches('/');
                if !(trimmed.starts_with("https://") || trimmed.starts_with("http://"))
                    || trimmed.contains(['?', '#', '*'])
                {
                    return Err(error(
                        "EDGEPASS_CDN_BASE_URL",
                        format!("{url:?} is not an http(s) URL without query"),
                    ));
                }
                trimmed.to_owned()
            }
            None => format!("http://{}", edge_listen.unwrap_or(DEFAULT_EDGE_LISTEN)),
        };
        let cookie_max_age_secs = s
            .parsed::<u64>("EDGEPASS_CDN_COOKIE_MAX_AGE_SECS", "a whole number of seconds")?
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        let cdn = CdnConfig {
            base_url,
            base_url_derived: s.text("EDGEPASS_CDN_BASE_URL").is_none() && edge_listen.is_some(),
            key,
            algorithm,
            cookie_ttl_secs: s.positive("EDGEPASS_CDN_COOKIE_TTL_SECS", 3600)?,
            expiry_window_secs: s.positive("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", 300)?,
            cookie_domain: s.text("EDGEPASS_CDN_COOKIE_DOMAIN").map(|d| d.trim().to_owned()),
            cookie_max_age_secs,
            bind_viewer_ip: s.bool("EDGEPASS_CDN_BIND_VIEWER_IP")?.unwrap_or(false),
            trusted_keys: trusted_keys(s.text("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS"))?,
        };
        let limits = Limits {
            max_body_bytes: usize::try_from(s.positive("EDGEPASS_MAX_BODY_BYTES", 16 * 1024)?)
                .unwrap_or(usize::MAX),
            login_failures_per_account: s.positive("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", 5)?,
            login_failures_per_client: s.positive("EDGEPASS_LOGIN_FAILURES_PER_CLIENT", 20)?,
            login_window_secs: s.positive("EDGEPASS_LOGIN_WINDOW_SECS", 900)?,
            registrations_per_client: s.positive("EDGEPASS_REGISTRATIONS_PER_CLIENT", 10)?,
            registration_window_secs: s.positive("EDGEPASS_REGISTRATION_WINDOW_SECS", 3600)?,
        };
        let log_format = match s
            .text("EDGEPASS_LOG_FORMAT")
            .map(|f| f.trim().to_ascii_lowercase())
        {
            None => LogFormat::Human,
            Some(f) if f == "human" => LogFormat::Human,
            Some(f) if f == "json" => LogFormat::Json,
            Some(other) => {
                return Err(error(
                    "EDGEPASS_LOG_FORMAT",
                    format!("{other:?} is not human or json"),
                ));
            }
        };
        let uploads = UploadConfig {
            url_ttl_secs: s.positive("EDGEPASS_UPLOAD_URL_TTL_SECS", 300)?,
            max_image_bytes: s.positive("EDGEPASS_MAX_IMAGE_BYTES", 20 * 1024 * 1024)?,
            quota_images: s.positive("EDGEPASS_QUOTA_IMAGES", 1000)?,
            quota_bytes: s.positive("EDGEPASS_QUOTA_BYTES", 1024 * 1024 * 1024)?,
        };
        let aws_credentials = match (
            s.text("EDGEPASS_AWS_ACCESS_KEY_ID"),
            s.text("EDGEPASS_AWS_SECRET_ACCESS_KEY"),
        ) {
            (None, None) => None,
            (Some(id), Some(secret)) => Some((id.trim().to_owned(), Secret::new(secret.trim().to_owned()))),
            (Some(_), None) => {
                return Err(error(
                    "EDGEPASS_AWS_SECRET_ACCESS_KEY",
                    "is required with EDGEPASS_AWS_ACCESS_KEY_ID",
                ));
            }
            (None, Some(_)) => {
                return Err(error(
                    "EDGEPASS_AWS_ACCESS_KEY_ID",
                    "is required with EDGEPASS_AWS_SECRET_ACCESS_KEY",
                ));
            }
        };
        let cloudfront_endpoint_url = match s.text("EDGEPASS_CLOUDFRONT_ENDPOINT_URL") {
            Some(url) => Some(origin_of(url, "EDGEPASS_CLOUDFRONT_ENDPOINT_URL")?),
            None => None,
        };
        Ok(Self {
            storage,
            uploads,
            distribution_id: s
                .text("EDGEPASS_CDN_DISTRIBUTION_ID")
                .map(|d| d.trim().to_owned()),
            cloudfront_endpoint_url,
            aws_credentials,
            listen,
            data_dir,
            database_url: Secret::new(database_url),
            public_url,
            public_url_derived: s.text("EDGEPASS_PUBLIC_URL").is_none(),
            allowed_origins,
            cdn,
            sharing: SharingConfig {
                url_ttl_secs: s.positive("EDGEPASS_SHARED_URL_TTL_SECS", 300)?,
                max_batch_urls: s.positive("EDGEPASS_URL_BATCH_MAX", 500)?,
                link_max_ttl_secs: s.positive("EDGEPASS_SHARE_LINK_MAX_TTL_SECS", 7 * 24 * 3600)?,
                link_url_ttl_secs: s.positive("EDGEPASS_SHARE_LINK_URL_TTL_SECS", 300)?,
            },
            session: SessionConfig {
                ttl_secs: s.positive("EDGEPASS_SESSION_TTL_SECS", 7 * 24 * 3600)?,
                cookie_secure,
            },
            limits,
            log_format,
            trust_forwarded_for: s.bool("EDGEPASS_TRUST_FORWARDED_FOR")?.unwrap_or(false),
            edge_listen,
            metrics_listen: metrics_listen(s)?,
        })
    }

    /// Settles the origins derived from the listen address once the real port is known (port 0 binds a
    /// free one).
    pub fn with_bound_port(mut self, port: u16) -> Self {
        if self.public_url_derived && self.listen.port() != port {
            let stale = [
                self.public_url.clone(),
                format!("http://localhost:{}", self.listen.port()),
            ];
            self.listen.set_port(port);
            self.public_url = format!("http://{}", self.listen);
            let fresh = [self.public_url.clone(), format!("http://localhost:{port}")];
            for origin in &mut self.allowed_origins {
                if let Some(i) = stale.iter().position(|s| s == origin) {
                    *origin = fresh[i].clone();
                }
            }
        }
        self
    }

    /// Settles the CDN base URL derived from the edge's address once the edge's real port is known.
    pub fn with_bound_edge_port(mut self, port: u16) -> Self {
        if let Some(edge) = &mut self.edge_listen {
            edge.set_port(port);
            if self.cdn.base_url_derived {
                self.cdn.base_url = format!("http://{edge}");
            }
        }
        self
    }

    /// Whether nothing outside the data folder is configured (SQLite, generated key).
    pub fn is_local(&self) -> bool {
        self.cdn.key == CdnKeySource::Generated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn nothing_configured_is_local_mode() {
        let config = Config::from_env(&BTreeMap::new()).expect("config");
        assert!(config.is_local());
        assert_eq!(config.listen, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(
            config.database_url.expose(),
            "sqlite://./edgepass-data/edgepass.db?mode=rwc"
        );
        assert_eq!(
            config.allowed_origins,
            vec!["http://127.0.0.1:8080", "http://localhost:8080"]
        );
        assert!(!config.session.cookie_secure, "plain-HTTP local mode");
        assert_eq!(config.cdn.cookie_ttl_secs, 3600);
        assert_eq!(
            config.sharing,
            SharingConfig {
                url_ttl_secs: 300,
                max_batch_urls: 500,
                link_max_ttl_secs: 604_800,
                link_url_ttl_secs: 300,
            }
        );
    }

    #[test]
    fn derived_origins_follow_the_port_actually_bound() {
        let config = Config::from_env(&env(&[("EDGEPASS_LISTEN", "127.0.0.1:0")])).expect("config");
        let bound = config.with_bound_port(43210);
        assert_eq!(bound.public_url, "http://127.0.0.1:43210");
        assert_eq!(
            bound.allowed_origins,
            vec!["http://127.0.0.1:43210", "http://localhost:43210"]
        );
        let explicit = Config::from_env(&env(&[
            ("EDGEPASS_LISTEN", "127.0.0.1:0"),
            ("EDGEPASS_PUBLIC_URL", "https://app.example.com"),
        ]))
        .expect("config");
        assert_eq!(
            explicit.with_bound_port(43210).public_url,
            "https://app.example.com"
        );
    }

    #[test]
    fn the_local_edge_runs_with_the_embedded_store_and_the_cdn_url_follows_it() {
        let local = Config::from_env(&BTreeMap::new()).expect("config");
        assert_eq!(local.edge_listen, Some(DEFAULT_EDGE_LISTEN));
        assert_eq!(local.cdn.base_url, "http://127.0.0.1:8081");

        let bound = Config::from_env(&env(&[("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0")]))
            .expect("config")
            .with_bound_edge_port(43211);
        assert_eq!(bound.edge_listen, Some("127.0.0.1:43211".parse().expect("addr")));
        assert_eq!(bound.cdn.base_url, "http://127.0.0.1:43211");

        let explicit_cdn = Config::from_env(&env(&[
            ("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0"),
            ("EDGEPASS_CDN_BASE_URL", "https://cdn.example.com"),
        ]))
        .expect("config")
        .with_bound_edge_port(43211);
        assert_eq!(explicit_cdn.cdn.base_url, "https://cdn.example.com");

        let off = Config::from_env(&env(&[("EDGEPASS_EDGE_LISTEN", "OFF")])).expect("config");
        assert_eq!(off.edge_listen, None);
        assert_eq!(off.cdn.base_url, "http://127.0.0.1:8081");

        let s3 = Config::from_env(&env(&[("EDGEPASS_S3_BUCKET", "images")])).expect("config");
        assert_eq!(s3.edge_listen, None, "CloudFront serves a real bucket");
        let s3_with_edge = Config::from_env(&env(&[
            ("EDGEPASS_S3_BUCKET", "images"),
            ("EDGEPASS_EDGE_LISTEN", "127.0.0.1:9081"),
        ]))
        .expect("config");
        assert_eq!(
            s3_with_edge.edge_listen,
            Some("127.0.0.1:9081".parse().expect("addr"))
        );
        assert_eq!(s3_with_edge.cdn.base_url, "http://127.0.0.1:9081");
    }

    #[test]
    fn metrics_are_served_on_loopback_by_default_elsewhere_when_told_and_not_at_all_when_off() {
        let local = Config::from_env(&BTreeMap::new()).expect("config");
        assert_eq!(local.metrics_listen, Some(DEFAULT_METRICS_LISTEN));
        assert!(DEFAULT_METRICS_LISTEN.ip().is_loopback());

        let moved =
            Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", " 10.0.0.5:9464 ")])).expect("config");
        assert_eq!(moved.metrics_listen, Some("10.0.0.5:9464".parse().expect("addr")));

        let off = Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", "Off")])).expect("config");
        assert_eq!(off.metrics_listen, None);

        let bad = Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", "metrics.local")]))
            .expect_err("not an address");
        assert_eq!(bad.variable, "EDGEPASS_METRICS_LISTEN");
    }

    #[test]
    fn production_settings_are_read() {
        let config = Config::from_env(&env(&[
            ("EDGEPASS_LISTEN", "0.0.0.0:9000"),
            ("EDGEPASS_PUBLIC_URL", "https://app.example.com/"),
            (
                "EDGEPASS_ALLOWED_ORIGINS",
                "https://admin.example.com, https://www.example.com",
            ),
            ("EDGEPASS_DATABASE_URL", "postgres://edgepass@db/edgepass"),
            ("EDGEPASS_CDN_BASE_URL", "https://cdn.example.com/"),
            ("EDGEPASS_CDN_KEY_PAIR_ID", "K2JCJMDEHXQW5F"),
            ("EDGEPASS_CDN_PRIVATE_KEY_FILE", "/run/secrets/cdn.pem"),
            ("EDGEPASS_CDN_ALGORITHM", "RSA-SHA256"),
            ("EDGEPASS_CDN_COOKIE_DOMAIN", "example.com"),
            ("EDGEPASS_LOG_FORMAT", "json"),
            ("OTHER", "ignored"),
        ]))
        .expect("config");
        assert!(!config.is_local());
        assert!(config.session.cookie_secure);
        assert_eq!(config.cdn.base_url, "https://cdn.example.com");
        assert_eq!(config.cdn.algorithm, Some(CdnAlgorithm::RsaSha256));
        assert_eq!(
            config.allowed_origins,
            vec![
                "https://app.example.com",
                "https://admin.example.com",
                "https://www.example.com"
            ]
        );
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(
            !format!("{config:?}").contains("edgepass@db"),
            "the database URL is redacted"
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (variable, value) in [
            ("EDGEPASS_LISTEN", "not an address"),
            ("EDGEPASS_DATABASE_URL", "mysql://x"),
            ("EDGEPASS_PUBLIC_URL", "app.example.com"),
            ("EDGEPASS_ALLOWED_ORIGINS", "https://x.example.com/path"),
            ("EDGEPASS_CDN_BASE_URL", "ftp://cdn"),
            ("EDGEPASS_CDN_ALGORITHM", "dsa"),
            ("EDGEPASS_CDN_COOKIE_TTL_SECS", "0"),
            ("EDGEPASS_CDN_COOKIE_TTL_SECS", "an hour"),
            ("EDGEPASS_CDN_BIND_VIEWER_IP", "maybe"),
            ("EDGEPASS_LOG_FORMAT", "xml"),
            ("EDGEPASS_EDGE_LISTEN", "8081"),
            ("EDGEPASS_SHARED_URL_TTL_SECS", "0"),
            ("EDGEPASS_URL_BATCH_MAX", "many"),
            ("EDGEPASS_CDN_PRIVATE_KEY", "-----BEGIN"),
            ("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS", "/keys/old.pem"),
            ("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS", "K1=/a.pem, K1=/b.pem"),
            ("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS", "K1="),
        ] {
            let result = Config::from_env(&env(&[(variable, value)]));
            let expected = if variable == "EDGEPASS_CDN_PRIVATE_KEY" {
                "EDGEPASS_CDN_KEY_PAIR_ID"
            } else {
                variable
            };
            assert_eq!(
                result.map_err(|e| e.variable),
                Err(expected.to_owned()),
                "{variable}={value}"
            );
        }
        let insecure = Config::from_env(&env(&[
            ("EDGEPASS_PUBLIC_URL", "https://app.example.com"),
            ("EDGEPASS_COOKIE_SECURE", "false"),
        ]));
        assert_eq!(
            insecure.map_err(|e| e.variable),
            Err("EDGEPASS_COOKIE_SECURE".to_owned())
        );
    }

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

    #[test]
    fn the_toml_file_is_read_and_the_environment_wins() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("edgepass.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9999\"\ncdn_cookie_ttl_secs = 600\nallowed_origins = [\"https://a.example.com\"]\n")
            .expect("write");
        let config = Config::from_env(&env(&[
            ("EDGEPASS_CONFIG", path.to_str().expect("path")),
            ("EDGEPASS_CDN_COOKIE_TTL_SECS", "1200"),
        ]))
        .expect("config");
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.cdn.cookie_ttl_secs, 1200);
        assert!(
            config
                .allowed_origins
                .contains(&"https://a.example.com".to_owned())
        );
        std::fs::write(&path, "listen = [").expect("write");
        let broken = Config::from_env(&env(&[("EDGEPASS_CONFIG", path.to_str().expect("path"))]));
        assert_eq!(broken.map_err(|e| e.variable), Err("EDGEPASS_CONFIG".to_owned()));
    }
}
