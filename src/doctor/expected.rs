//! What the service's configuration expects of its deployment: the distribution, the hosts, the key,
//! the cookie attributes and the bucket the checks compare the real deployment with.

use crate::config::{CdnKeySource, Config, Delivery, StorageConfig};
use crate::cookie_domains::UrlParts;

/// Why the configuration names no CloudFront deployment to check.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotADeployment(String);

fn missing(what: &str) -> NotADeployment {
    NotADeployment(format!(
        "{what}: edgepass doctor checks a CloudFront deployment, as the service's production configuration \
         describes it"
    ))
}

/// The deployment the configuration describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// `EDGEPASS_CDN_DISTRIBUTION_ID`.
    pub distribution_id: String,
    /// `EDGEPASS_CDN_BASE_URL`, without a trailing slash.
    pub cdn_base_url: String,
    /// Its host, lower case, without a port.
    pub cdn_host: String,
    /// Its path (empty, or `/prefix`): behaviors match the image paths below it.
    pub cdn_base_path: String,
    /// `EDGEPASS_CDN_COOKIE_DOMAIN`, lower case, without a leading dot; `None`: host-only cookies.
    pub cookie_domain: Option<String>,
    /// Whether the cookies are `Secure`.
    pub cookie_secure: bool,
    /// The host of `EDGEPASS_PUBLIC_URL`, whose responses set the cookies; `None` when not configured.
    pub app_host: Option<String>,
    /// The origins that upload from browsers: `EDGEPASS_PUBLIC_URL` and `EDGEPASS_ALLOWED_ORIGINS`.
    pub app_origins: Vec<String>,
    /// `EDGEPASS_CDN_KEY_PAIR_ID`.
    pub key_pair_id: String,
    /// `EDGEPASS_CDN_BIND_VIEWER_IP`.
    pub bind_viewer_ip: bool,
    /// `EDGEPASS_S3_BUCKET`.
    pub bucket: String,
}

impl Expected {
    /// What `config` expects, or why it names no CloudFront deployment.
    pub fn of(config: &Config) -> Result<Self, NotADeployment> {
        if matches!(config.delivery, Delivery::S3 { .. }) {
            return Err(NotADeployment(
                "EDGEPASS_DELIVERY=s3 serves images without CloudFront: edgepass doctor checks a CloudFront \
                 deployment"
                    .to_owned(),
            ));
        }
        let distribution_id = config
            .distribution_id
            .clone()
            .ok_or_else(|| missing("EDGEPASS_CDN_DISTRIBUTION_ID is not set"))?;
        let cdn_base_url = config
            .cdn
            .base_url
            .clone()
            .ok_or_else(|| missing("EDGEPASS_CDN_BASE_URL is not set"))?;
        let cdn = UrlParts::parse(&cdn_base_url)
            .ok_or_else(|| missing("EDGEPASS_CDN_BASE_URL is not an http(s) URL"))?;
        let cdn_base_path = cdn.path.trim_end_matches('/').to_owned();
        let key_pair_id = match &config.cdn.key {
            CdnKeySource::Pem { key_pair_id, .. }
            | CdnKeySource::File { key_pair_id, .. }
            | CdnKeySource::Kms { key_pair_id, .. } => key_pair_id.clone(),
            CdnKeySource::Generated => {
                return Err(missing(
                    "no CloudFront signing key is configured (EDGEPASS_CDN_KEY_PAIR_ID)",
                ));
            }
        };
        let StorageConfig::S3 { bucket, .. } = &config.storage else {
            return Err(missing("EDGEPASS_S3_BUCKET is not set"));
        };
        let app_origins = config
            .public_url
            .iter()
            .chain(&config.extra_origins)
            .cloned()
            .collect();
        Ok(Self {
            distribution_id,
            cdn_host: cdn.host,
            cdn_base_path,
            cdn_base_url,
            cookie_domain: config
                .cdn
                .cookie_domain
                .as_deref()
                .map(|domain| domain.trim_start_matches('.').to_ascii_lowercase()),
            cookie_secure: config.session.cookie_secure,
            app_host: config
                .public_url
                .as_deref()
                .and_then(UrlParts::parse)
                .map(|url| url.host),
            app_origins,
            key_pair_id,
            bind_viewer_ip: config.cdn.bind_viewer_ip,
            bucket: bucket.clone(),
        })
    }

    /// The path pattern of a behavior serving `prefix` (`users`, `public`) below the base path, as
    /// CloudFront writes it (no leading slash).
    pub fn path_pattern(&self, prefix: &str) -> String {
        let base = self.cdn_base_path.trim_matches('/');
        if base.is_empty() {
            format!("{prefix}/*")
        } else {
            format!("{base}/{prefix}/*")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(base_url: &str) -> Result<Expected, NotADeployment> {
        let env = [
            ("EDGEPASS_CDN_BASE_URL", base_url),
            ("EDGEPASS_PUBLIC_URL", "https://App.Example.com"),
            ("EDGEPASS_CDN_DISTRIBUTION_ID", "E1"),
            ("EDGEPASS_CDN_KEY_PAIR_ID", "K1"),
            ("EDGEPASS_CDN_PRIVATE_KEY_FILE", "/unused.pem"),
            ("EDGEPASS_S3_BUCKET", "images"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Expected::of(&Config::from_env(&env).map_err(|e| NotADeployment(e.to_string()))?)
    }

    #[test]
    fn hosts_lose_their_port_and_paths_their_trailing_slash() {
        let plain = expected("https://CDN.Example.com")
            .map_err(|e| e.0)
            .expect("expected");
        assert_eq!(
            (plain.cdn_host.as_str(), plain.cdn_base_path.as_str()),
            ("cdn.example.com", "")
        );
        assert_eq!(plain.app_host.as_deref(), Some("app.example.com"));
        assert_eq!(plain.path_pattern("users"), "users/*");
        let below = expected("https://cdn.example.com:8443/media/")
            .map_err(|e| e.0)
            .expect("expected");
        assert_eq!(
            (below.cdn_host.as_str(), below.cdn_base_path.as_str()),
            ("cdn.example.com", "/media")
        );
        assert_eq!(below.path_pattern("users"), "media/users/*");
    }
}
