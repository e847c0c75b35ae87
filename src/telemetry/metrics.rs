//! Prometheus metrics: requests and their latency, cookies minted, signatures computed vs memo hits.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::cdn_signer::CdnSigner;
use crate::presigned_gets::PresignedGets;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// The route template the router matched, or `unmatched`.
    pub route: String,
    /// Response status.
    pub status: u16,
}

/// Labels of a latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: String,
    /// The route, as in [`RequestLabels`].
    pub route: String,
}

/// Labels of a request to the local edge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EdgeLabels {
    /// The behavior it matched: `users`, `public` or `default`.
    pub behavior: String,
    /// What became of it: `served`, `partial`, `not_modified`, `denied`, `no_such_object`, …
    pub outcome: String,
}

/// Labels of what the image sweeper did.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SweepLabels {
    /// `uploads` (abandoned uploads removed), `moves` and `deletions` (interrupted changes finished),
    /// `albums` and `accounts` (deletions finished) or `failures` (steps that failed again; the next
    /// sweep retries them).
    pub outcome: &'static str,
}

/// Labels of a session lookup.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLookupLabels {
    /// `cache` (this instance remembered it) or `database`.
    pub from: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// Reads the signature memo's counters at scrape time, and in S3 delivery the presigned-URL memo's.
#[derive(Debug)]
struct MemoCollector(Arc<CdnSigner>, Option<Arc<PresignedGets>>);

impl Collector for MemoCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.memo_stats();
        encode_counters(
            &mut encoder,
            &[
                (
                    "edgepass_signatures_computed",
                    "CloudFront signatures computed (memo misses)",
                    stats.misses,
                ),
                (
                    "edgepass_signature_memo_hits",
                    "CloudFront signatures served from the memo",
                    stats.hits,
                ),
                (
                    "edgepass_signatures_signed_ahead",
                    "CloudFront signatures made ahead of the window change that needs them",
                    stats.ahead,
                ),
                (
                    "edgepass_signatures_signed_ahead_used",
                    "Signatures made ahead that a request has used since",
                    stats.ahead_used,
                ),
            ],
        )?;
        if let Some(presigned) = &self.1 {
            let stats = presigned.stats();
            encode_counters(
                &mut encoder,
                &[
                    (
                        "edgepass_presigned_gets_computed",
                        "S3 presigned GET URLs computed (memo misses)",
                        stats.misses,
                    ),
                    (
                        "edgepass_presigned_get_memo_hits",
                        "S3 presigned GET URLs served from the memo",
                        stats.hits,
                    ),
                ],
            )?;
        }
        Ok(())
    }
}

/// Encodes (name, help, value) counters read at scrape time.
fn encode_counters(
    encoder: &mut DescriptorEncoder,
    counters: &[(&str, &str, u64)],
) -> Result<(), std::fmt::Error> {
    for &(name, help, value) in counters {
        let counter = ConstCounter::new(value);
        counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
    }
    Ok(())
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    cookies_minted: Counter,
    edge_requests: Family<EdgeLabels, Counter>,
    images_swept: Family<SweepLabels, Counter>,
    session_lookups: Family<SessionLookupLabels, Counter>,
}

impl Metrics {
    /// Registers every metric; the memo counters are read from `cdn` (and `presigned`, in S3
    /// delivery) on each scrape.
    pub fn new(cdn: Arc<CdnSigner>, presigned: Option<Arc<PresignedGets>>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let cookies_minted = Counter::default();
        registry.register(
            "edgepass_http_requests",
            "HTTP requests answered",
            requests.clone(),
        );
        registry.register(
            "edgepass_http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "edgepass_cdn_cookies_minted",
            "CloudFront cookie sets minted",
            cookies_minted.clone(),
        );
        let edge_requests = Family::<EdgeLabels, Counter>::default();
        registry.register(
            "edgepass_edge_requests",
            "Requests answered by the local edge, by behavior and outcome",
            edge_requests.clone(),
        );
        let images_swept = Family::<SweepLabels, Counter>::default();
        registry.register(
            "edgepass_images_swept",
            "What this instance's image sweeper did, by outcome",
            images_swept.clone(),
        );
        let session_lookups = Family::<SessionLookupLabels, Counter>::default();
        registry.register(
            "edgepass_session_lookups",
            "Signed-in requests, by where their session came from",
            session_lookups.clone(),
        );
        if let Some(kms) = cdn.kms_metrics() {
            registry.register(
                "edgepass_kms_sign_calls",
                "KMS Sign calls for CloudFront signatures, by outcome after retries (signed, throttled, unavailable, refused)",
                kms.calls.clone(),
            );
            registry.register(
                "edgepass_kms_sign_duration_seconds",
                "KMS Sign call latency, retries included",
                kms.latency.clone(),
            );
        }
        registry.register_collector(Box::new(MemoCollector(cdn, presigned)));
        Self {
            registry,
            requests,
            latency,
            cookies_minted,
            edge_requests,
            images_swept,
            session_lookups,
        }
    }

    /// Counts one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts one minted cookie set.
    pub fn cookies_minted(&self) {
        self.cookies_minted.inc();
    }

    /// Counts one request answered by the local edge.
    pub fn edge_request(&self, behavior: &str, outcome: &str) {
        self.edge_requests
            .get_or_create(&EdgeLabels {
                behavior: behavior.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts what one sweep did: `count` images with `outcome` (see [`SweepLabels`]).
    pub fn images_swept(&self, outcome: &'static str, count: u64) {
        self.images_swept
            .get_or_create(&SweepLabels { outcome })
            .inc_by(count);
    }

    /// Counts one session lookup answered `from` the cache or the database.
    pub fn session_lookup(&self, from: &'static str) {
        self.session_lookups
            .get_or_create(&SessionLookupLabels { from })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The route label of every request the router did not match (and of answers given before routing, such
/// as a refused body size): one series whatever the path, so paths never multiply the series.
pub const UNMATCHED: &str = "unmatched";

/// The route label of a request: the name of the route the router matched (`/api/images/{id}/shares/{user}`),
/// never the path itself, so neither ids nor the emails and tokens that paths carry become labels.
pub fn route_label(template: Option<&str>) -> &str {
    template.unwrap_or(UNMATCHED)
}

/// The method label: one of the methods edgepass answers, else `other`, since a client may send any
/// token as a method.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_the_matched_template_or_one_fixed_label() {
        assert_eq!(
            route_label(Some("/api/images/{id}/shares/{user}")),
            "/api/images/{id}/shares/{user}"
        );
        assert_eq!(route_label(None), "unmatched");
    }

    #[test]
    fn method_labels_are_the_known_methods_or_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("get"), "other", "methods are case-sensitive");
        assert_eq!(method_label("X-ALICE-AT-EXAMPLE-COM"), "other");
    }
}
