//! The edge's listener and its one endpoint: method, behavior, signature, then the object.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method, header};
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, Request, Response};

use super::TrustedKeys;
use super::behavior::{Behavior, is_servable};
use super::denial::Refusal;
use super::object::{self, Served};
use super::redact::redacted;
use super::target::{Target, resolve};
use crate::app::AppState;
use crate::signing::ViewerRequest;

/// Binds a listener (the edge's, and the service's others); the bound address is known before serving
/// (port 0 picks a free one).
pub async fn bind(address: SocketAddr) -> std::io::Result<(TcpAcceptor, SocketAddr)> {
    let acceptor = TcpListener::bind(address.to_string()).into_acceptor().await?;
    let bound = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .unwrap_or(address);
    Ok((acceptor, bound))
}

/// The edge as a poem endpoint: every path goes through the same steps.
pub struct Edge {
    state: AppState,
    keys: Arc<dyn TrustedKeys>,
    /// The CDN base URL the edge's objects are signed under: the configured one, or `http://{bound}` when
    /// it follows the edge's address. Signatures are checked against it, never against what the viewer
    /// says the host is.
    cdn_base: String,
}

impl Edge {
    /// An edge reading objects through `state`'s store and checking signatures against `keys`; `bound`
    /// is its own address.
    pub fn new(state: AppState, keys: Arc<dyn TrustedKeys>, bound: SocketAddr) -> Self {
        let cdn_base = state
            .config
            .cdn
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"));
        Self {
            state,
            keys,
            cdn_base,
        }
    }

    /// Checks a `users/*` request as CloudFront does with a trusted key group, against `url`.
    fn check_signature(&self, req: &Request, url: &str) -> Result<(), Refusal> {
        let cookie_headers: Vec<&str> = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let cookies: Vec<(&str, &str)> = cookie_headers
            .iter()
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .collect();
        let viewer_ip: Option<IpAddr> = req.remote_addr().as_socket_addr().map(SocketAddr::ip);
        let request = ViewerRequest {
            url,
            cookies: &cookies,
            viewer_ip,
            now: self.state.now(),
        };
        self.keys.decide(&request).map(|_| ()).map_err(Refusal::Denied)
    }

    async fn answer(&self, req: &Request, target: &str) -> (Behavior, Result<Served, Refusal>) {
        // One function names both the URL that is checked and the object that is served.
        let Ok(Target { checked_url, key }) = resolve(&self.cdn_base, target) else {
            return (Behavior::Default, Err(Refusal::BadPath));
        };
        let behavior = Behavior::of(&key);
        let head = req.method() == Method::HEAD;
        if !head && req.method() != Method::GET {
            return (behavior, Err(Refusal::MethodNotAllowed));
        }
        // The default behavior requires the key group too (so the bucket stays closed should its
        // function be detached); CloudFront checks the signature before running the function.
        let allowed = match behavior {
            Behavior::Public => Ok(()),
            Behavior::Users => self.check_signature(req, &checked_url),
            Behavior::Default => self
                .check_signature(req, &checked_url)
                .and(Err(Refusal::NoBehavior)),
        };
        if let Err(refusal) = allowed {
            return (behavior, Err(refusal));
        }
        if !is_servable(&key) {
            return (behavior, Err(Refusal::NoSuchObject));
        }
        let served = object::serve(&self.state.storage, &key, behavior, req.headers(), head).await;
        (behavior, served)
    }
}

impl Endpoint for Edge {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        // The target as the request line carried it (origin or absolute form; hyper has already dropped
        // any fragment).
        let target = req.uri().to_string();
        let (behavior, answer) = self.answer(&req, &target).await;
        let head = req.method() == Method::HEAD;
        let (mut response, outcome, reason) = match answer {
            Ok(Served { response, outcome }) => (response, outcome, None),
            Err(refusal) => {
                let reason = match &refusal {
                    Refusal::Denied(denial) => Some(denial.to_string()),
                    _ => None,
                };
                let outcome = refusal.outcome();
                (refusal.into_response(head), outcome, reason)
            }
        };
        for (name, value) in behavior.response_headers() {
            response
                .headers_mut()
                .insert(*name, HeaderValue::from_static(value));
        }
        self.state.metrics.edge_request(behavior.label(), outcome);
        // The target and `Host` as received, so a refusal can be traced to what was sent; signature and
        // policy values are replaced by their length, and cookies are never logged.
        let host = req
            .headers()
            .get(header::HOST)
            .map(|host| String::from_utf8_lossy(host.as_bytes()));
        tracing::info!(
            target: "edgepass::edge",
            method = %req.method(),
            request_target = ?redacted(&target),
            host = ?host.as_deref().map_or_else(|| "-".to_owned(), redacted),
            behavior = behavior.label(),
            status = response.status().as_u16(),
            outcome,
            reason = reason.as_deref().unwrap_or("-"),
            micros = started.elapsed().as_micros() as u64,
        );
        Ok(response)
    }
}
