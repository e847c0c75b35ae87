//! Typed configuration from `EDGEPASS_*` variables and an optional TOML file.
//!
//! Every setting is listed in `docs/configuration.md`. A missing or malformed value stops start-up with a
//! message naming the variable. With nothing configured, edgepass runs in local mode: SQLite and a
//! generated signing key in the data folder.
//!
//! Each concern reads its own variables ([`settings`] holds the reader). The configuration holds only what
//! was configured; the addresses settled once the listeners are bound are a [`BoundAddresses`].

mod aws;
mod bound;
mod cdn;
mod database;
mod delivery;
mod images;
mod limits;
mod server;
mod session;
mod settings;
mod sharing;
mod storage;
mod uploads;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use bound::BoundAddresses;
pub use cdn::{CdnAlgorithm, CdnConfig, CdnKeySource, TrustedKeyFile};
pub use delivery::{Delivery, PRESIGNED_URL_MAX_SECS, PublicImages};
pub use images::ImageConfig;
pub use limits::Limits;
pub use server::{DEFAULT_EDGE_LISTEN, DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, LogFormat};
pub use session::SessionConfig;
pub use settings::{ConfigError, Secret};
pub use sharing::SharingConfig;
pub use storage::StorageConfig;
pub use uploads::UploadConfig;

use settings::Settings;

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Where local state lives (SQLite file, generated key).
    pub data_dir: PathBuf,
    /// The database; SQLite in the data folder by default.
    pub database_url: Secret,
    /// The service's own origin as browsers see it, e.g. `https://app.example.com`; `None` follows the
    /// API's bound address (see [`BoundAddresses::public_url`]).
    pub public_url: Option<String>,
    /// Origins allowed to make state-changing requests besides the public URL
    /// (`EDGEPASS_ALLOWED_ORIGINS`); the whole list is [`BoundAddresses::allowed_origins`].
    pub extra_origins: Vec<String>,
    /// How viewers load images: through CloudFront, or straight from S3.
    pub delivery: Delivery,
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
    /// Image lifecycle timing.
    pub images: ImageConfig,
    /// Sharing rules.
    pub sharing: SharingConfig,
    /// The CloudFront distribution to invalidate; `None` in local mode.
    pub distribution_id: Option<String>,
    /// A CloudFront API endpoint instead of AWS's (an emulator in tests).
    pub cloudfront_endpoint_url: Option<String>,
    /// A KMS API endpoint instead of AWS's (an emulator in tests).
    pub kms_endpoint_url: Option<String>,
    /// The KMS key's region; `None` follows the bucket's (`us-east-1` in local mode).
    pub kms_region: Option<String>,
    /// Static AWS credentials for S3 and CloudFront; `None` uses the AWS default chain.
    pub aws_credentials: Option<(String, Secret)>,
}

impl Config {
    /// Builds the configuration from `EDGEPASS_*` variables (`env`), reading the TOML file named by
    /// `EDGEPASS_CONFIG` first if set; environment values win over the file.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_settings(&Settings::from_env(env)?)
    }

    fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let server = server::Server::from_settings(s)?;
        let database = database::Database::from_settings(s)?;
        // A public URL that follows the listen address is plain http://.
        let plain_http = server
            .public_url
            .as_deref()
            .is_none_or(|url| url.starts_with("http://"));
        let session = SessionConfig::from_settings(s, plain_http)?;
        let cdn = CdnConfig::from_settings(s)?;
        let delivery = Delivery::from_settings(s)?;
        let sharing = SharingConfig::from_settings(s)?;
        delivery::check_presignable(
            &delivery,
            cdn.expiry_window_secs,
            &[
                ("EDGEPASS_CDN_COOKIE_TTL_SECS", cdn.cookie_ttl_secs),
                ("EDGEPASS_ALBUM_COOKIE_TTL_SECS", cdn.album_cookie_ttl_secs),
                ("EDGEPASS_SHARED_URL_TTL_SECS", sharing.url_ttl_secs),
                ("EDGEPASS_SHARE_LINK_URL_TTL_SECS", sharing.link_url_ttl_secs),
            ],
        )?;
        let storage = StorageConfig::from_settings(s)?;
        let edge_listen = server::edge_listen(s, storage == StorageConfig::Embedded)?;
        let aws = aws::Aws::from_settings(s)?;
        Ok(Self {
            listen: server.listen,
            data_dir: database.data_dir,
            database_url: database.url,
            public_url: server.public_url,
            extra_origins: server.extra_origins,
            delivery,
            cdn,
            session,
            limits: Limits::from_settings(s)?,
            log_format: server.log_format,
            trust_forwarded_for: server.trust_forwarded_for,
            edge_listen,
            metrics_listen: server.metrics_listen,
            storage,
            uploads: UploadConfig::from_settings(s)?,
            images: ImageConfig::from_settings(s)?,
            sharing,
            distribution_id: aws.distribution_id,
            cloudfront_endpoint_url: aws.cloudfront_endpoint_url,
            kms_endpoint_url: aws.kms_endpoint_url,
            kms_region: aws.kms_region,
            aws_credentials: aws.credentials,
        })
    }

    /// The static AWS credentials (`EDGEPASS_AWS_ACCESS_KEY_ID`, `EDGEPASS_AWS_SECRET_ACCESS_KEY`) as
    /// (access key, secret); `None` leaves the AWS default chain to find them.
    pub fn static_aws_credentials(&self) -> Option<(String, String)> {
        self.aws_credentials
            .as_ref()
            .map(|(id, secret)| (id.clone(), secret.expose().to_owned()))
    }

    /// Whether nothing outside the data folder is configured (SQLite, generated key).
    pub fn is_local(&self) -> bool {
        self.cdn.key == CdnKeySource::Generated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
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
            BoundAddresses::as_configured(&config).allowed_origins,
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
    fn image_change_timing_defaults_to_a_three_minute_lease_and_a_five_minute_sweep() {
        let defaults = Config::from_env(&BTreeMap::new()).expect("config").images;
        assert_eq!((defaults.lease_secs, defaults.sweep_every_secs), (180, 300));

        let set = Config::from_env(&env(&[
            ("EDGEPASS_IMAGE_LEASE_SECS", "5"),
            ("EDGEPASS_IMAGE_SWEEP_SECS", "2"),
        ]))
        .expect("config")
        .images;
        assert_eq!((set.lease_secs, set.sweep_every_secs), (5, 2));

        for variable in ["EDGEPASS_IMAGE_LEASE_SECS", "EDGEPASS_IMAGE_SWEEP_SECS"] {
            let refused = Config::from_env(&env(&[(variable, "0")])).expect_err(variable);
            assert!(refused.to_string().contains(variable), "{refused}");
        }
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
        let bound = BoundAddresses::as_configured(&config);
        assert_eq!(bound.cdn_base_url, "https://cdn.example.com");
        assert_eq!(config.cdn.algorithm, Some(CdnAlgorithm::RsaSha256));
        assert_eq!(
            bound.allowed_origins,
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
            ("EDGEPASS_DELIVERY", "s4"),
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
    fn delivery_defaults_to_cloudfront_and_s3_mode_reads_how_public_images_load() {
        let default = Config::from_env(&env(&[])).expect("config");
        assert_eq!(default.delivery, Delivery::CloudFront);
        let closed = Config::from_env(&env(&[("EDGEPASS_DELIVERY", "s3")])).expect("config");
        assert_eq!(
            closed.delivery,
            Delivery::S3 {
                public: PublicImages::Presigned { ttl_secs: 86_400 }
            }
        );
        let open = Config::from_env(&env(&[
            ("EDGEPASS_DELIVERY", "s3"),
            (
                "EDGEPASS_S3_PUBLIC_BASE_URL",
                "https://images.s3.eu-west-1.amazonaws.com/",
            ),
        ]))
        .expect("config");
        assert_eq!(
            open.delivery,
            Delivery::S3 {
                public: PublicImages::Anonymous {
                    base_url: "https://images.s3.eu-west-1.amazonaws.com".to_owned()
                }
            }
        );
    }

    #[test]
    fn s3_delivery_refuses_lifetimes_a_presigned_url_cannot_have() {
        for (variable, value) in [
            ("EDGEPASS_S3_PUBLIC_URL_TTL_SECS", "604800"),
            ("EDGEPASS_SHARED_URL_TTL_SECS", "604500"),
            ("EDGEPASS_CDN_COOKIE_TTL_SECS", "700000"),
            ("EDGEPASS_S3_PUBLIC_BASE_URL", "s3://bucket"),
        ] {
            let refused = Config::from_env(&env(&[("EDGEPASS_DELIVERY", "s3"), (variable, value)]));
            assert_eq!(
                refused.map_err(|e| e.variable),
                Err(variable.to_owned()),
                "{variable}={value}"
            );
        }
        // The same lifetime is fine where CloudFront signs it.
        assert!(Config::from_env(&env(&[("EDGEPASS_CDN_COOKIE_TTL_SECS", "700000")])).is_ok());
    }

    #[test]
    fn a_kms_key_replaces_the_private_key_and_refuses_sha1_with_the_reason() {
        let kms = [
            ("EDGEPASS_CDN_KMS_KEY_ID", "alias/edgepass"),
            ("EDGEPASS_CDN_KEY_PAIR_ID", "K2KMSEXAMPLE01"),
        ];
        let config = Config::from_env(&env(&kms)).expect("config");
        assert_eq!(
            config.cdn.key,
            CdnKeySource::Kms {
                key_pair_id: "K2KMSEXAMPLE01".to_owned(),
                key_id: "alias/edgepass".to_owned()
            }
        );
        assert_eq!(config.cdn.kms_concurrency, 16);
        let sha1 = Config::from_env(&env(&[kms[0], kms[1], ("EDGEPASS_CDN_ALGORITHM", "rsa-sha1")]))
            .expect_err("SHA-1 with KMS");
        assert_eq!(sha1.variable, "EDGEPASS_CDN_ALGORITHM");
        assert!(sha1.to_string().contains("KMS has no SHA-1 signing"), "{sha1}");
        assert!(Config::from_env(&env(&[kms[0], kms[1], ("EDGEPASS_CDN_ALGORITHM", "rsa-sha256")])).is_ok());
        let both = Config::from_env(&env(&[kms[0], kms[1], ("EDGEPASS_CDN_PRIVATE_KEY", "pem")]));
        assert_eq!(
            both.map_err(|e| e.variable),
            Err("EDGEPASS_CDN_KMS_KEY_ID".to_owned())
        );
        let no_id = Config::from_env(&env(&[kms[0]]));
        assert_eq!(
            no_id.map_err(|e| e.variable),
            Err("EDGEPASS_CDN_KEY_PAIR_ID".to_owned())
        );
    }
}
