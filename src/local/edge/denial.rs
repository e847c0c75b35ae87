//! The edge's refusals as CloudFront (or S3 behind it) words them: a status and a small XML body.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Response};

use crate::signing::Denial;

/// Why the edge does not send the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The signature check failed (`users/*`).
    Denied(Denial),
    /// The key is outside every image behavior: the default behavior's function answers a bare 403
    /// (after the key group it also requires has accepted the signature).
    NoBehavior,
    /// No such object. With origin access control and no `s3:ListBucket`, S3 answers a missing key
    /// with 403 AccessDenied, and CloudFront passes that on; the edge does the same.
    NoSuchObject,
    /// Not GET or HEAD: the behaviors allow only those, and CloudFront refuses others with 403.
    MethodNotAllowed,
    /// The path does not decode.
    BadPath,
    /// `If-Match` / `If-Unmodified-Since` do not hold.
    PreconditionFailed,
    /// The range starts past the end of an object of this size.
    RangeNotSatisfiable {
        /// The object's size, for `Content-Range: bytes */size`.
        size: u64,
    },
    /// The store did not answer or failed (details are in the log).
    Origin,
}

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Denied(_) | Self::NoBehavior | Self::NoSuchObject | Self::MethodNotAllowed => {
                StatusCode::FORBIDDEN
            }
            Self::BadPath => StatusCode::BAD_REQUEST,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Origin => StatusCode::BAD_GATEWAY,
        }
    }

    /// The `<Code>` of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Denied(denial) => denial.cloudfront_code(),
            Self::NoBehavior | Self::NoSuchObject => "AccessDenied",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::BadPath => "InvalidURI",
            Self::PreconditionFailed => "PreconditionFailed",
            Self::RangeNotSatisfiable { .. } => "InvalidRange",
            Self::Origin => "BadGateway",
        }
    }

    /// The `<Message>` of the body: CloudFront's wording for signature failures (which never says
    /// which condition failed), S3's for origin answers.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Denied(denial) => match denial.cloudfront_code() {
                "MissingKey" => "Missing Key-Pair-Id query parameter or cookie value",
                "InvalidKey" => "Unknown Key",
                "MalformedSignature" => "Could not unencode Signature",
                "MalformedPolicy" => "Malformed Policy",
                _ => "Access denied",
            },
            Self::NoBehavior => "Access denied",
            Self::NoSuchObject => "Access Denied",
            Self::MethodNotAllowed => {
                "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests."
            }
            Self::BadPath => "Couldn't parse the specified URI.",
            Self::PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            Self::RangeNotSatisfiable { .. } => "The requested range is not satisfiable",
            Self::Origin => "The origin did not answer.",
        }
    }

    /// The outcome label for logs and metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::NoBehavior => "no_behavior",
            Self::NoSuchObject => "no_such_object",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadPath => "bad_path",
            Self::PreconditionFailed => "precondition_failed",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::Origin => "origin_error",
        }
    }

    /// The answer; a HEAD gets the headers without the body.
    pub fn into_response(self, head: bool) -> Response {
        if self == Self::NoBehavior {
            // What the distribution's deny-everything-else function returns: no body at all.
            return Response::builder()
                .status(self.status())
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::empty());
        }
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
            self.code(),
            self.message()
        );
        let mut builder = Response::builder()
            .status(self.status())
            .header(header::CONTENT_TYPE, "text/xml")
            .header(header::CONTENT_LENGTH, body.len())
            .header("x-cache", "Error from cloudfront");
        match &self {
            Self::Denied(denial) => {
                // Not something CloudFront says; it spares a trip to the log when a local page gets a 403.
                if let Ok(reason) = HeaderValue::from_str(&denial.to_string()) {
                    builder = builder.header("x-edgepass-denial", reason);
                }
            }
            Self::RangeNotSatisfiable { size } => {
                builder = builder.header(header::CONTENT_RANGE, format!("bytes */{size}"));
            }
            Self::MethodNotAllowed => builder = builder.header(header::ALLOW, "GET, HEAD"),
            _ => {}
        }
        builder.body(if head { Body::empty() } else { Body::from(body) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_failures_use_cloudfront_wording() {
        for (denial, code, message) in [
            (
                Denial::MissingKeyPairId,
                "MissingKey",
                "Missing Key-Pair-Id query parameter or cookie value",
            ),
            (Denial::UnknownKey("KX".to_owned()), "InvalidKey", "Unknown Key"),
            (
                Denial::MalformedSignature,
                "MalformedSignature",
                "Could not unencode Signature",
            ),
            (
                Denial::MalformedPolicy("not JSON".to_owned()),
                "MalformedPolicy",
                "Malformed Policy",
            ),
            (Denial::Expired { at: 5 }, "AccessDenied", "Access denied"),
            (Denial::BadSignature, "AccessDenied", "Access denied"),
        ] {
            let refusal = Refusal::Denied(denial);
            assert_eq!(refusal.status(), StatusCode::FORBIDDEN);
            assert_eq!((refusal.code(), refusal.message()), (code, message));
        }
    }
}
