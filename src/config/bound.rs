//! The addresses settled at start-up: the listeners' real ports (port 0 binds a free one), and the
//! origins that follow them when they are not configured.

use std::net::SocketAddr;

use super::Config;
use super::server::DEFAULT_EDGE_LISTEN;

/// Where the service is reachable once its listeners are bound. Made by
/// [`Application::build`](crate::app::Application::build) and kept beside the configuration, which
/// holds only what was configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundAddresses {
    /// The API's address.
    pub api: SocketAddr,
    /// The local edge's address; `None` when it does not run.
    pub edge: Option<SocketAddr>,
    /// The metrics listener's address; `None` when metrics are not served.
    pub metrics: Option<SocketAddr>,
    /// The service's own origin as browsers see it: `EDGEPASS_PUBLIC_URL`, else `http://{API address}`.
    pub public_url: String,
    /// Origins allowed to make state-changing requests: the public URL, in local mode
    /// `http://localhost:{port}` too, and `EDGEPASS_ALLOWED_ORIGINS`.
    pub allowed_origins: Vec<String>,
    /// The CDN origin viewers use: `EDGEPASS_CDN_BASE_URL`, else the local edge's address, else the
    /// default edge address.
    pub cdn_base_url: String,
}

impl BoundAddresses {
    /// The addresses of `config` with its listeners bound at `api`, `edge` and `metrics`.
    pub fn new(
        config: &Config,
        api: SocketAddr,
        edge: Option<SocketAddr>,
        metrics: Option<SocketAddr>,
    ) -> Self {
        // The configured host, with the port actually bound.
        let api_origin = SocketAddr::new(config.listen.ip(), api.port());
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{api_origin}"));
        let mut allowed_origins = vec![public_url.clone()];
        if config.public_url.is_none() && config.listen.ip().is_loopback() {
            // Local mode: the page may be opened as localhost or as the loopback address.
            allowed_origins.push(format!("http://localhost:{}", api.port()));
        }
        allowed_origins.extend(config.extra_origins.iter().cloned());
        let cdn_base_url = config.cdn.base_url.clone().unwrap_or_else(|| {
            let edge_origin = match (config.edge_listen, edge) {
                (Some(listen), Some(bound)) => SocketAddr::new(listen.ip(), bound.port()),
                _ => DEFAULT_EDGE_LISTEN,
            };
            format!("http://{edge_origin}")
        });
        Self {
            api,
            edge,
            metrics,
            public_url,
            allowed_origins,
            cdn_base_url,
        }
    }

    /// The addresses `config` names, as if each listener got the port it asked for (tools that bind
    /// nothing, and tests).
    pub fn as_configured(config: &Config) -> Self {
        Self::new(config, config.listen, config.edge_listen, config.metrics_listen)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::tests::env;

    #[test]
    fn derived_origins_follow_the_port_actually_bound() {
        let config = Config::from_env(&env(&[("EDGEPASS_LISTEN", "127.0.0.1:0")])).expect("config");
        let bound = BoundAddresses::new(&config, "127.0.0.1:43210".parse().expect("addr"), None, None);
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
        let bound = BoundAddresses::new(&explicit, "127.0.0.1:43210".parse().expect("addr"), None, None);
        assert_eq!(bound.public_url, "https://app.example.com");
        assert_eq!(bound.allowed_origins, vec!["https://app.example.com"]);
    }

    #[test]
    fn the_local_edge_runs_with_the_embedded_store_and_the_cdn_url_follows_it() {
        let local = Config::from_env(&BTreeMap::new()).expect("config");
        assert_eq!(local.edge_listen, Some(DEFAULT_EDGE_LISTEN));
        assert_eq!(
            BoundAddresses::as_configured(&local).cdn_base_url,
            "http://127.0.0.1:8081"
        );

        let edge_on_any_port =
            Config::from_env(&env(&[("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0")])).expect("config");
        let edge: SocketAddr = "127.0.0.1:43211".parse().expect("addr");
        let bound = BoundAddresses::new(&edge_on_any_port, edge_on_any_port.listen, Some(edge), None);
        assert_eq!(bound.edge, Some(edge));
        assert_eq!(bound.cdn_base_url, "http://127.0.0.1:43211");

        let explicit_cdn = Config::from_env(&env(&[
            ("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0"),
            ("EDGEPASS_CDN_BASE_URL", "https://cdn.example.com"),
        ]))
        .expect("config");
        let bound = BoundAddresses::new(&explicit_cdn, explicit_cdn.listen, Some(edge), None);
        assert_eq!(bound.cdn_base_url, "https://cdn.example.com");

        let off = Config::from_env(&env(&[("EDGEPASS_EDGE_LISTEN", "OFF")])).expect("config");
        assert_eq!(off.edge_listen, None);
        assert_eq!(
            BoundAddresses::as_configured(&off).cdn_base_url,
            "http://127.0.0.1:8081"
        );

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
        assert_eq!(
            BoundAddresses::as_configured(&s3_with_edge).cdn_base_url,
            "http://127.0.0.1:9081"
        );
    }
}
