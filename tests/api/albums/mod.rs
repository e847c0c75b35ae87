//! Albums end to end: the owner's side (create, list, rename, add, remove, upload into, delete), the
//! moves of their objects, album grants, and the album cookie sets a grantee's browser gets: their
//! Path, their limit, their revocation, and that they open exactly one album at the local edge.

mod cookies;
mod moves;
mod owner;
mod scope;

use std::sync::Arc;

use edgepass::domain::UserId;
use edgepass::images::{AlbumId, ContentType, ImageId, ImageKey};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PNG, Reply, TestApp, put_upload, real_now, send, signed_up_browser};

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// A signed-in browser with its own cookie jar, which sends each cookie only where its Path allows.
pub(crate) struct Browser {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) client: reqwest::Client,
    jar: Arc<Jar>,
}

impl Browser {
    pub(crate) async fn sign_up(app: &TestApp, email: &str) -> Self {
        let (id, client, jar) = signed_up_browser(app, email).await;
        Self {
            id,
            email: email.to_owned(),
            client,
            jar,
        }
    }

    pub(crate) async fn send(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let request = self.client.request(method, app.url(path));
        send(match body {
            Some(body) => request.json(body),
            None => request,
        })
        .await
    }

    pub(crate) async fn get(&self, app: &TestApp, path: &str) -> Reply {
        self.send(app, Method::GET, path, None).await
    }

    /// Loads `url` (a CDN URL on the local edge) as this browser would.
    pub(crate) async fn load(&self, url: &str) -> StatusCode {
        send(self.client.get(url)).await.status
    }

    /// The CloudFront cookies this browser sends with a request for `url`, as a `Cookie` header
    /// (the session cookie, whose Path is `/`, left out).
    fn cookie_header(&self, url: &str) -> Option<String> {
        let url = reqwest::Url::parse(url).expect("url");
        let header = self.jar.cookies(&url)?;
        let cloudfront: Vec<&str> = header
            .to_str()
            .expect("ascii")
            .split("; ")
            .filter(|pair| pair.starts_with("CloudFront-"))
            .collect();
        (!cloudfront.is_empty()).then(|| cloudfront.join("; "))
    }

    /// Creates an album and returns its id.
    pub(crate) async fn create_album(&self, app: &TestApp, name: &str) -> String {
        let reply = self
            .send(app, Method::POST, "/api/albums", Some(&json!({ "name": name })))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        reply.json()["id"].as_str().expect("album id").to_owned()
    }

    /// Uploads a PNG (into `album`, when given) and returns the ready image.
    pub(crate) async fn upload(&self, app: &TestApp, album: Option<&str>) -> Value {
        let mut body = json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": "a.png" });
        if let Some(album) = album {
            body["album_id"] = json!(album);
        }
        let reply = self.send(app, Method::POST, "/api/images", Some(&body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let ticket = reply.json();
        assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
        let id = ticket["id"].as_str().expect("id");
        let done = self
            .send(app, Method::POST, &format!("/api/images/{id}/complete"), None)
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        done.json()
    }

    async fn add(&self, app: &TestApp, album: &str, image: &str) -> Reply {
        self.send(
            app,
            Method::PUT,
            &format!("/api/albums/{album}/images/{image}"),
            None,
        )
        .await
    }

    pub(crate) async fn share(&self, app: &TestApp, album: &str, with: &Browser) -> Reply {
        self.send(
            app,
            Method::PUT,
            &format!("/api/albums/{album}/shares/{}", with.email),
            None,
        )
        .await
    }

    pub(crate) async fn unshare(&self, app: &TestApp, album: &str, with: &Browser) -> Reply {
        self.send(
            app,
            Method::DELETE,
            &format!("/api/albums/{album}/shares/{}", with.id),
            None,
        )
        .await
    }

    pub(crate) async fn open(&self, app: &TestApp, album: &str) -> Reply {
        self.get(app, &format!("/api/albums/{album}")).await
    }
}

pub(crate) fn id_of(view: &Value) -> String {
    view["id"].as_str().expect("id").to_owned()
}

pub(crate) fn url_of(view: &Value) -> String {
    view["url"].as_str().expect("url").to_owned()
}

fn album_id(id: &str) -> AlbumId {
    AlbumId::parse(id).unwrap_or_else(|| panic!("{id} is an album id"))
}

fn image_id(id: &str) -> ImageId {
    ImageId::parse(id).unwrap_or_else(|| panic!("{id} is an image id"))
}

/// Where a private PNG of `owner` is kept in `album`, or at the root.
fn private_png(owner: i64, album: Option<&str>, id: &str) -> ImageKey {
    let album = album.map(album_id);
    ImageKey::private_in(UserId(owner), album.as_ref(), &image_id(id), ContentType::Png)
}

fn public_png(id: &str) -> ImageKey {
    ImageKey::public(&image_id(id), ContentType::Png)
}

async fn stored(app: &TestApp, key: &ImageKey) -> bool {
    app.state.storage.head(key).await.expect("HEAD").is_some()
}

/// The cookie Path of an album's set.
fn album_path(owner: i64, album: &str) -> String {
    format!("/users/{owner}/albums/{album}/")
}

/// The names and Paths of an answer's `Set-Cookie`s for CloudFront, in order.
fn cloudfront_set_cookies(reply: &Reply) -> Vec<(String, String, Option<String>)> {
    reply
        .set_cookies()
        .into_iter()
        .filter(|c| c.name.starts_with("CloudFront-"))
        .map(|c| {
            (
                c.name.clone(),
                c.get("Path").unwrap_or_default().to_owned(),
                c.get("Max-Age").map(str::to_owned),
            )
        })
        .collect()
}
