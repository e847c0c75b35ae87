//! The demo gallery page at `/`: served with its assets, the right types and a strict policy that
//! still lets it show CDN images and upload to the store.

use reqwest::{Method, StatusCode};

use crate::helpers::{Reply, TestApp, send};

/// The directives of a `Content-Security-Policy` value, by name.
fn directive<'a>(policy: &'a str, name: &str) -> Option<&'a str> {
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(str::trim)
}

/// The `scheme://host:port` of an absolute URL.
fn origin(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("absolute URL");
    parsed.origin().ascii_serialization()
}

/// Every local URL the page refers to in `href="…"` or `src="…"`.
fn local_references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for (start, _) in page.match_indices(attribute) {
            let rest = &page[start + attribute.len()..];
            let value = &rest[..rest.find('"').expect("closing quote")];
            if value.starts_with('/') {
                found.push(value.to_owned());
            }
        }
    }
    found
}

async fn get_page(app: &TestApp) -> Reply {
    send(app.raw_request(Method::GET, "/")).await
}

#[tokio::test]
async fn the_gallery_page_is_html_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;

    let reply = get_page(&app).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(reply.text().starts_with("<!doctype html>"));
    assert!(reply.text().contains("<title>edgepass gallery</title>"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    let policy = reply.header("content-security-policy").expect("a CSP");
    assert_eq!(directive(policy, "default-src"), Some("'none'"));
    assert_eq!(directive(policy, "script-src"), Some("'self'"));
    assert_eq!(directive(policy, "style-src"), Some("'self'"));
    assert_eq!(directive(policy, "frame-ancestors"), Some("'none'"));
    assert!(!policy.contains("unsafe-"), "{policy}");
}

#[tokio::test]
async fn the_policy_allows_images_from_the_cdn_and_uploads_to_the_presigned_urls() {
    let app = TestApp::spawn_with(&[("EDGEPASS_CDN_BASE_URL", "https://cdn.example.com/media")]).await;
    app.signed_up("alice@example.com").await;
    let ticket = app.start_upload("image/png", 100, "cat.png").await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.text());
    let upload_origin = origin(ticket.json()["upload_url"].as_str().expect("upload_url"));

    let reply = get_page(&app).await;

    let policy = reply.header("content-security-policy").expect("a CSP");
    assert_eq!(
        directive(policy, "img-src"),
        Some("'self' https://cdn.example.com"),
        "{policy}"
    );
    assert_eq!(
        directive(policy, "connect-src"),
        Some(format!("'self' {upload_origin}").as_str()),
        "{policy}"
    );
}

#[tokio::test]
async fn in_local_mode_the_policy_names_the_local_cdn_and_the_embedded_store() {
    let app = TestApp::spawn().await;
    let store = app
        .state
        .local_store
        .as_ref()
        .expect("local mode runs the embedded store")
        .endpoint()
        .to_owned();
    let cdn = origin(&app.state.cdn.object_url("/"));

    let reply = get_page(&app).await;

    let policy = reply.header("content-security-policy").expect("a CSP");
    assert_eq!(
        directive(policy, "img-src"),
        Some(format!("'self' {cdn}").as_str())
    );
    assert_eq!(
        directive(policy, "connect-src"),
        Some(format!("'self' {store}").as_str())
    );
}

#[tokio::test]
async fn every_asset_the_page_refers_to_is_served_with_its_type() {
    let app = TestApp::spawn().await;
    let page = get_page(&app).await.text();
    let references = local_references(&page);
    assert!(
        references.len() >= 3,
        "stylesheet, script and icon: {references:?}"
    );

    for path in references {
        let reply = send(app.raw_request(Method::GET, &path)).await;

        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let expected = match path.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("{path}: an asset of unexpected kind {other:?}"),
        };
        assert_eq!(reply.header("content-type"), Some(expected), "{path}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert!(!reply.body.is_empty(), "{path}");
    }
}

/// A path with every `{name}` parameter of the spec, or `${expression}` of the script, as `{}`; a
/// script expression right after a segment (`/api/images${query}`) is a query string and dropped.
fn path_shape(path: &str) -> String {
    let mut shape = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let (before, script_expression) = match rest[..open].strip_suffix('$') {
            Some(before) => (before, true),
            None => (&rest[..open], false),
        };
        shape.push_str(before);
        if !script_expression || shape.ends_with('/') {
            shape.push_str("{}");
        }
        let close = open + rest[open..].find('}').expect("closing brace");
        rest = &rest[close + 1..];
    }
    shape.push_str(rest);
    shape
}

#[tokio::test]
async fn the_script_calls_the_endpoints_the_api_serves() {
    let app = TestApp::spawn().await;
    let script = send(app.raw_request(Method::GET, "/assets/gallery.js"))
        .await
        .text();
    let spec = app.get("/openapi.json").await.json();
    let served: Vec<String> = spec["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(|p| path_shape(p))
        .collect();

    let mut called = 0;
    for (start, _) in script
        .match_indices("'/api/")
        .chain(script.match_indices("`/api/"))
    {
        let rest = &script[start + 1..];
        let end = rest.find(['\'', '`', '?']).expect("end of the path");
        let path = path_shape(&rest[..end]);
        assert!(
            served.contains(&path),
            "the script calls {path}, which the API does not serve ({served:?})"
        );
        called += 1;
    }
    assert!(called >= 15, "found only {called} API calls in the script");
}

#[tokio::test]
async fn unknown_asset_paths_are_json_404s() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/assets/missing.js")).await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"], "not_found");
}
