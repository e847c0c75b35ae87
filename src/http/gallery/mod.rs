//! The demo gallery at `/`: one static page, its stylesheet, script and icon, compiled into the binary.
//!
//! The page talks only to the JSON API (same origin, so the session cookie and the cross-origin check
//! just work), PUTs uploads to the store's presigned URLs, and shows images with plain `<img>` links to
//! the CDN, where the CloudFront cookies or a signed URL do the work. Its Content-Security-Policy
//! allows exactly those three origins.

use poem::http::{HeaderValue, header};
use poem::web::Data;
use poem::{Request, Response, Route, get, handler};

use crate::app::AppState;
use crate::config::{Delivery, PublicImages};

/// A file the gallery serves.
struct Asset {
    /// Its URL path.
    path: &'static str,
    /// Its `Content-Type`.
    content_type: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

/// Every file of the gallery; `index.html` refers to the others by these paths.
const ASSETS: [Asset; 4] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("index.html"),
    },
    Asset {
        path: "/assets/gallery.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("gallery.css"),
    },
    Asset {
        path: "/assets/gallery.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("gallery.js"),
    },
    Asset {
        path: "/assets/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("favicon.svg"),
    },
];

/// The gallery's routes, to be merged at the root.
pub(crate) fn routes(route: Route) -> Route {
    ASSETS
        .iter()
        .fold(route, |route, asset| route.at(asset.path, get(serve)))
}

/// The page's policy: its own scripts, styles and icon; images from `image_origins`; API calls to
/// itself and uploads to the store; nothing else (no inline code, no frames, no plugins, no foreign
/// forms).
pub(crate) fn content_security_policy(image_origins: &[&str], upload_origin: &str) -> String {
    let images = image_origins.join(" ");
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' {images}; \
         connect-src 'self' {upload_origin}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Where images load from: the CDN; or in S3 delivery the store (the presigned GETs go where the
/// uploads go) and the bucket's anonymous URL for public images, if there is one.
fn image_origins(state: &AppState) -> Vec<&str> {
    match &state.config.delivery {
        Delivery::CloudFront => vec![state.cdn.origin()],
        Delivery::S3 { public } => {
            let mut origins = vec![state.upload_origin.as_str()];
            if let PublicImages::Anonymous { base_url } = public {
                origins.push(origin_of(base_url));
            }
            origins
        }
    }
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..]
        .find('/')
        .map_or(url, |end| &url[..after_scheme + end])
}

#[handler]
fn serve(state: Data<&AppState>, req: &Request) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == req.uri().path()) else {
        // Only the paths of ASSETS are routed here.
        return Response::builder()
            .status(poem::http::StatusCode::NOT_FOUND)
            .finish();
    };
    let policy = content_security_policy(&image_origins(&state), &state.upload_origin);
    let mut response = Response::builder()
        .content_type(asset.content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(asset.body);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_cdn_for_images_and_the_store_for_uploads_only() {
        let policy = content_security_policy(&["https://cdn.example.com"], "https://bucket.s3.amazonaws.com");
        let directives: Vec<&str> = policy.split("; ").collect();
        assert!(directives.contains(&"default-src 'none'"));
        assert!(directives.contains(&"script-src 'self'"));
        assert!(directives.contains(&"img-src 'self' https://cdn.example.com"));
        assert!(directives.contains(&"connect-src 'self' https://bucket.s3.amazonaws.com"));
        assert!(!policy.contains("unsafe"));
    }

    #[test]
    fn s3_delivery_allows_the_store_and_the_anonymous_origin_for_images() {
        let policy = content_security_policy(
            &[
                "https://bucket.s3.amazonaws.com",
                origin_of("https://public.example.com/images"),
            ],
            "https://bucket.s3.amazonaws.com",
        );
        assert!(
            policy.contains("img-src 'self' https://bucket.s3.amazonaws.com https://public.example.com;")
        );
        assert_eq!(origin_of("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
    }

    #[test]
    fn the_page_refers_to_every_asset_and_nothing_else_local() {
        let page = std::str::from_utf8(ASSETS[0].body).expect("utf-8 page");
        for asset in &ASSETS[1..] {
            assert!(
                page.contains(&format!("\"{}\"", asset.path)),
                "{} in the page",
                asset.path
            );
        }
        assert!(
            !page.contains("<script>"),
            "no inline script (the CSP forbids it)"
        );
        assert!(!page.contains(" style="), "no inline style (the CSP forbids it)");
        let handler = page.split_whitespace().find(|word| {
            word.strip_prefix("on")
                .and_then(|rest| rest.split_once('='))
                .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase()))
        });
        assert_eq!(handler, None, "no inline event handlers (the CSP forbids them)");
        assert!(
            !page.contains("http"),
            "no absolute URLs: everything comes from edgepass"
        );
    }
}
