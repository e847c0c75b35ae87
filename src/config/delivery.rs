//! How viewers load images: through CloudFront with signed cookies and URLs, or straight from the
//! bucket with S3 presigned GET URLs (`EDGEPASS_DELIVERY`, `EDGEPASS_S3_PUBLIC_*`).

use super::settings::{ConfigError, Settings, error};

/// The longest a SigV4 presigned URL may live: S3 refuses any `X-Amz-Expires` above 7 days.
pub const PRESIGNED_URL_MAX_SECS: u64 = 7 * 24 * 3600;

/// How viewers load images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Through CloudFront (or the local edge): the owner's signed cookies open their prefix, everyone
    /// else gets CloudFront signed URLs.
    CloudFront,
    /// Straight from the bucket: every image URL is an S3 presigned GET for that one object, and no
    /// CloudFront cookies are set.
    S3 {
        /// Where public images are loaded from.
        public: PublicImages,
    },
}

/// Where public images are loaded from in [`Delivery::S3`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicImages {
    /// The bucket lets anyone read `public/*`: `{base_url}/{key}`, unsigned
    /// (`EDGEPASS_S3_PUBLIC_BASE_URL`).
    Anonymous {
        /// The bucket's URL for anonymous reads, without a trailing slash.
        base_url: String,
    },
    /// The bucket is closed: a presigned GET this long (`EDGEPASS_S3_PUBLIC_URL_TTL_SECS`).
    Presigned {
        /// The URL lifetime, before rounding up to the expiry window.
        ttl_secs: u64,
    },
}

impl Delivery {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        match s.text("EDGEPASS_DELIVERY").map(str::trim) {
            None | Some("cloudfront") => Ok(Self::CloudFront),
            Some("s3") => Ok(Self::S3 {
                public: PublicImages::from_settings(s)?,
            }),
            Some(other) => Err(error(
                "EDGEPASS_DELIVERY",
                format!("{other:?} is neither \"cloudfront\" nor \"s3\""),
            )),
        }
    }

    /// Whether images are loaded straight from the bucket.
    pub fn is_s3(&self) -> bool {
        matches!(self, Self::S3 { .. })
    }
}

impl PublicImages {
    fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        if let Some(base_url) = s.base_url("EDGEPASS_S3_PUBLIC_BASE_URL")? {
            return Ok(Self::Anonymous { base_url });
        }
        Ok(Self::Presigned {
            ttl_secs: s.positive("EDGEPASS_S3_PUBLIC_URL_TTL_SECS", 24 * 3600)?,
        })
    }
}

/// Refuses, in S3 delivery, a URL lifetime that S3 would refuse once rounded up to the window:
/// `lifetimes` are the settings' names and values.
pub(super) fn check_presignable(
    delivery: &Delivery,
    window_secs: u64,
    lifetimes: &[(&str, u64)],
) -> Result<(), ConfigError> {
    let Delivery::S3 { public } = delivery else {
        return Ok(());
    };
    let public_ttl = match public {
        PublicImages::Presigned { ttl_secs } => Some(("EDGEPASS_S3_PUBLIC_URL_TTL_SECS", *ttl_secs)),
        PublicImages::Anonymous { .. } => None,
    };
    for &(name, ttl_secs) in lifetimes.iter().chain(public_ttl.as_ref()) {
        // Signed at the start of a window and ending at a window boundary: up to two windows more.
        if ttl_secs.saturating_add(window_secs.saturating_mul(2)) > PRESIGNED_URL_MAX_SECS {
            return Err(error(
                name,
                format!(
                    "{ttl_secs} s plus two expiry windows of {window_secs} s exceeds the 7 days an S3 \
                     presigned URL may live (EDGEPASS_DELIVERY=s3)"
                ),
            ));
        }
    }
    Ok(())
}
