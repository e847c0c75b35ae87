//! Answers an allowed request from the store: preconditions and ranges decided from the object's HEAD,
//! then the bytes streamed from a GET of exactly that version.

use poem::http::{HeaderMap, StatusCode, header};
use poem::{Body, Response};

use super::behavior::Behavior;
use super::conditional::{Precondition, Span, Validators, preconditions, span};
use super::denial::Refusal;
use crate::aws::s3::{ObjectMeta, Storage, StorageError};
use crate::telemetry::Causes;

/// S3's type for objects stored without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// HEAD-then-GET attempts before giving up on an object that keeps changing in between.
const ATTEMPTS: usize = 2;

/// A successful answer and its outcome label.
pub(super) struct Served {
    /// The response (200, 206 or 304).
    pub(super) response: Response,
    /// `served`, `partial` or `not_modified`.
    pub(super) outcome: &'static str,
}

fn origin_failed(key: &str, error: &StorageError) -> Refusal {
    tracing::warn!(target: "edgepass::edge", key, error = %Causes(error), "the store failed an edge request");
    Refusal::Origin
}

/// `ETag`, `Last-Modified` and `Cache-Control`, which 200, 206 and 304 answers all carry.
fn validator_headers(meta: &ObjectMeta, behavior: Behavior) -> poem::ResponseBuilder {
    let mut builder = Response::builder().header(
        header::CACHE_CONTROL,
        meta.cache_control
            .as_deref()
            .unwrap_or(behavior.default_cache_control()),
    );
    if let Some(etag) = &meta.etag {
        builder = builder.header(header::ETAG, etag);
    }
    if let Some(modified) = meta.last_modified {
        builder = builder.header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    }
    builder
}

/// Answers a GET (or, with `head`, a HEAD) of `key` under `behavior`.
pub(super) async fn serve(
    storage: &Storage,
    key: &str,
    behavior: Behavior,
    request: &HeaderMap,
    head: bool,
) -> Result<Served, Refusal> {
    for _ in 0..ATTEMPTS {
        let meta = storage
            .describe(key)
            .await
            .map_err(|e| origin_failed(key, &e))?
            .ok_or(Refusal::NoSuchObject)?;
        let validators = Validators {
            etag: meta.etag.as_deref(),
            last_modified: meta.last_modified,
        };
        match preconditions(request, validators) {
            Precondition::Failed => return Err(Refusal::PreconditionFailed),
            Precondition::NotModified => {
                return Ok(Served {
                    response: validator_headers(&meta, behavior)
                        .status(StatusCode::NOT_MODIFIED)
                        .body(Body::empty()),
                    outcome: "not_modified",
                });
            }
            Precondition::Proceed => {}
        }
        let range = match span(request, meta.size, validators) {
            Span::Unsatisfiable => return Err(Refusal::RangeNotSatisfiable { size: meta.size }),
            Span::Whole => None,
            Span::Part { first, last } => Some((first, last)),
        };
        let mut builder = validator_headers(&meta, behavior)
            .header(
                header::CONTENT_TYPE,
                meta.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE),
            )
            .header(header::ACCEPT_RANGES, "bytes");
        // S3 answers with the stored `Content-Disposition` and CloudFront passes it on.
        if let Some(disposition) = &meta.content_disposition {
            builder = builder.header(header::CONTENT_DISPOSITION, disposition);
        }
        let (status, outcome, length) = match range {
            None => (StatusCode::OK, "served", meta.size),
            Some((first, last)) => {
                builder = builder.header(
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{last}/{}", meta.size),
                );
                (StatusCode::PARTIAL_CONTENT, "partial", last - first + 1)
            }
        };
        builder = builder.status(status);
        if head {
            return Ok(Served {
                response: builder.header(header::CONTENT_LENGTH, length).body(Body::empty()),
                outcome,
            });
        }
        let Some(body) = storage
            .read(key, range, meta.etag.as_deref())
            .await
            .map_err(|e| origin_failed(key, &e))?
        else {
            // Gone or replaced since the HEAD: look again, so the answer describes what is sent.
            continue;
        };
        return Ok(Served {
            response: builder
                .header(header::CONTENT_LENGTH, body.length)
                .body(Body::from_async_read(body.reader)),
            outcome,
        });
    }
    tracing::warn!(target: "edgepass::edge", key, "the object kept changing while it was read");
    Err(Refusal::Origin)
}
