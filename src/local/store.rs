//! Local mode's S3: an S3-compatible server over a folder (s3s + s3s-fs) on a loopback port.
//!
//! It checks SigV4 signatures and presigned URLs (pinned content type and length, expiry) like S3, so the
//! same aws-sdk-s3 code path is exercised locally as in production. It also answers the CORS preflight a
//! browser sends before a cross-origin PUT, which S3 does from the bucket's CORS rules.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::aws::s3::StorageTarget;

/// Why the local store could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalStoreError {
    /// The folder or the socket.
    #[error("local object store: {0}")]
    Io(#[from] std::io::Error),
    /// s3s-fs refused the folder.
    #[error("local object store: {0}")]
    Store(String),
    /// No randomness for the credentials.
    #[error("local object store: cannot generate credentials")]
    Credentials,
}

/// A running local store; stops when dropped.
#[derive(Debug)]
pub struct LocalStore {
    endpoint: String,
    access_key: String,
    secret_key: String,
    server: JoinHandle<()>,
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn random_hex(bytes: usize) -> Result<String, LocalStoreError> {
    let mut raw = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| LocalStoreError::Credentials)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// Adds the CORS answer for `origin` when it is allowed.
fn allow_origin(headers: &mut hyper::HeaderMap, origin: Option<&HeaderValue>, allowed: &[String]) {
    if let Some(origin) = origin.filter(|o| allowed.iter().any(|a| a.as_bytes() == o.as_bytes())) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag"),
        );
    }
}

/// The first `x-amz-*` header of a presigned (query-signed) request that its signature does not
/// cover, if any. S3 refuses such a request ("There were headers present in the request which were not
/// signed"); s3s does not, which let an upload URL carry `x-amz-copy-source` and turn into a copy of any
/// object in the bucket into the uploader's staging key.
fn unsigned_amz_header<B>(req: &Request<B>) -> Option<String> {
    let query = req.uri().query()?;
    let params = || query.split('&').filter_map(|pair| pair.split_once('='));
    params().find(|(name, _)| *name == "X-Amz-Signature")?;
    let signed = params()
        .find(|(name, _)| *name == "X-Amz-SignedHeaders")
        .map(|(_, value)| value.replace("%3B", ";").replace("%3b", ";").to_ascii_lowercase())
        .unwrap_or_default();
    req.headers()
        .keys()
        .map(|name| name.as_str())
        .find(|name| name.starts_with("x-amz-") && !signed.split(';').any(|s| s == *name))
        .map(str::to_owned)
}

/// S3's answer to a presigned request with a header its signature does not cover.
fn unsigned_header_refusal(name: &str) -> Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>There were \
         headers present in the request which were not signed</Message><HeadersNotSigned>{name}\
         </HeadersNotSigned></Error>"
    );
    let mut response = Response::new(s3s::Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

async fn handle(
    service: S3Service,
    allowed: Arc<Vec<String>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<s3s::Body>, Infallible> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    if req.method() == Method::OPTIONS {
        let mut response = Response::new(s3s::Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        allow_origin(headers, origin.as_ref(), &allowed);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, PUT"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return Ok(response);
    }
    if let Some(name) = unsigned_amz_header(&req) {
        let (mut parts, body) = unsigned_header_refusal(&name).into_parts();
        allow_origin(&mut parts.headers, origin.as_ref(), &allowed);
        return Ok(Response::from_parts(parts, body));
    }
    let response = match service.call(req.map(s3s::Body::from)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(?error, "local object store failed a request");
            let mut response = Response::new(s3s::Body::empty());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    };
    let (mut parts, body) = response.into_parts();
    allow_origin(&mut parts.headers, origin.as_ref(), &allowed);
    Ok(Response::from_parts(parts, body))
}

impl LocalStore {
    /// Serves the folder `root` on a loopback port with fresh random credentials; `allowed_origins` may
    /// send browser PUTs.
    pub async fn start(root: &Path, allowed_origins: Vec<String>) -> Result<Self, LocalStoreError> {
        std::fs::create_dir_all(root)?;
        let fs = s3s_fs::FileSystem::new(root).map_err(|e| LocalStoreError::Store(format!("{e:?}")))?;
        let access_key = random_hex(10)?;
        let secret_key = random_hex(20)?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key.clone(), secret_key.clone()));
        let service = builder.build();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let allowed = Arc::new(allowed_origins);
        let server = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                let allowed = Arc::clone(&allowed);
                tokio::spawn(async move {
                    let handler = service_fn(move |req| handle(service.clone(), Arc::clone(&allowed), req));
                    if let Err(error) = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), handler)
                        .await
                    {
                        tracing::debug!(%error, "local object store connection ended");
                    }
                });
            }
        });
        Ok(Self {
            endpoint,
            access_key,
            secret_key,
            server,
        })
    }

    /// The store's URL, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The access key id it accepts.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key it accepts.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// Where a [`Storage`](crate::aws::s3::Storage) finds this store's bucket, with its credentials.
    pub fn storage_target(&self) -> StorageTarget {
        StorageTarget {
            bucket: "edgepass".to_owned(),
            region: "us-east-1".to_owned(),
            endpoint_url: Some(self.endpoint.clone()),
            force_path_style: true,
            credentials: Some((self.access_key.clone(), self.secret_key.clone())),
        }
    }
}
