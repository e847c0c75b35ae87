//! Listing a user's images a page at a time, and who may see or touch an image at all.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{alice, id_of, image, spawn, started_png};
use crate::helpers::{PNG, send, signed_up_browser};

#[tokio::test]
async fn listing_shows_ready_images_newest_first_a_page_at_a_time() {
    let (app, _) = alice().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(id_of(&app.upload("image/png", PNG, &format!("{n}.png")).await));
        app.advance(1);
    }
    // Two in the same second: the id breaks the tie, and neither is lost between pages.
    let mut tied = vec![
        id_of(&app.upload("image/png", PNG, "5.png").await),
        id_of(&app.upload("image/png", PNG, "6.png").await),
    ];
    tied.sort();
    ids.extend(tied);
    started_png(&app, 10, "pending.png").await;
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/images?limit=2&cursor={c}"),
            None => "/api/images?limit=2".to_owned(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        let images = page["images"].as_array().expect("images");
        assert!(images.len() <= 2);
        assert!(images.iter().all(|i| i["status"] == "ready"));
        seen.extend(images.iter().map(id_of));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    assert_eq!(seen, ids);
    assert_eq!(pages, 4);
    let all = app.get("/api/images").await.json();
    assert_eq!(all["images"].as_array().map(Vec::len), Some(7));
    assert_eq!(all["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_malformed_cursor_or_an_out_of_range_limit_returns_422() {
    let (app, _) = alice().await;

    for query in [
        "limit=0",
        "limit=101",
        "cursor=not-a-cursor",
        "cursor=MTIzLmFiYw",
        "cursor=%00",
    ] {
        let reply = app.get(&format!("/api/images?{query}")).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert_eq!(app.get("/api/images?limit=100").await.status, StatusCode::OK);
}

// Ownership.

#[tokio::test]
async fn another_users_image_is_404_on_every_endpoint() {
    let (app, _) = alice().await;
    let view = app.upload("image/png", PNG, "mine.png").await;
    let id = id_of(&view);
    let (_, pending) = started_png(&app, 10, "p.png").await;
    let (_, bob, _) = signed_up_browser(&app, "bob@example.com").await;

    for target in [
        id.as_str(),
        pending.as_str(),
        "not-an-id",
        "abcdefghijklmnopqrstuvwxyz",
    ] {
        let path = format!("/api/images/{target}");
        for request in [
            bob.get(app.url(&path)),
            bob.post(app.url(&format!("{path}/complete"))),
            bob.patch(app.url(&path)).json(&json!({ "visibility": "public" })),
            bob.delete(app.url(&path)),
        ] {
            send(request)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
    let listed = send(bob.get(app.url("/api/images"))).await.json();
    assert_eq!(listed["images"], json!([]));
    assert_eq!(image(&app, &id).await.json(), view);
    assert_eq!(app.image_rows().await.len(), 2);
}

#[tokio::test]
async fn image_endpoints_without_a_session_return_401() {
    let app = spawn().await;
    let id = "abcdefghijklmnopqrstuvwxyz";
    for (method, path) in [
        (Method::POST, "/api/images".to_owned()),
        (Method::GET, "/api/images".to_owned()),
        (Method::GET, format!("/api/images/{id}")),
        (Method::POST, format!("/api/images/{id}/complete")),
        (Method::PATCH, format!("/api/images/{id}")),
        (Method::DELETE, format!("/api/images/{id}")),
    ] {
        let reply = send(app.raw_request(method.clone(), &path).json(&json!({}))).await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn the_api_description_lists_the_image_routes() {
    let app = spawn().await;

    let spec = send(app.raw_request(Method::GET, "/openapi.json")).await.json();

    let paths = &spec["paths"];
    for (path, methods) in [
        ("/api/images", &["get", "post"][..]),
        ("/api/images/{id}", &["get", "patch", "delete"][..]),
        ("/api/images/{id}/complete", &["post"][..]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
    }
}
