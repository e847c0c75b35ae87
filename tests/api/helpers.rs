//! A running edgepass for each test: its own port, data folder, database and clock, and HTTP clients that
//! talk to it the way a browser and a script would.
//!
//! The database is SQLite in the test's data folder, or, when `EDGEPASS_TEST_DATABASE_URL` names a
//! PostgreSQL server (`postgres://postgres@127.0.0.1:5432/test`), a database of its own created through
//! that URL and dropped when the test ends, pass or fail. `TEST_LOG=1` (or a filter such as
//! `TEST_LOG=edgepass=debug`) prints edgepass's log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use edgepass::app::{AppState, Application, StartupError};
use edgepass::clock::ManualClock;
use edgepass::config::{Config, LogFormat};
use edgepass::db::entity::{audit_event, image, session, user};
use edgepass::images::ImageId;
use edgepass::images::lifecycle::Services;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The time every test starts at: a multiple of the default expiry window, so grants made at the start
/// expire exactly one lifetime later.
pub(crate) const EPOCH: u64 = 1_800_000_000;

/// The first bytes of a 1×1 PNG: what the upload check sniffs (signature and header).
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";

/// A password every account in the tests uses unless a test says otherwise.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

// The variable naming a PostgreSQL server to run against instead of SQLite, and the test's database on it.
#[allow(dead_code)]
#[path = "../common/scratch_database.rs"]
mod scratch_database;
pub(crate) use scratch_database::{POSTGRES_VARIABLE, ScratchDatabase, random_suffix, url_for_database};

/// The key-pair id the signing vectors use for their RSA-2048 test key.
pub(crate) const RSA_KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

/// The RSA-2048 test key of the signing vectors (PKCS#1 PEM); its public half lies beside it.
pub(crate) fn rsa_key_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/rsa2048_private_pkcs1.pem")
}

fn init_logging() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        let filter = match filter.trim() {
            "" | "1" | "true" => "info,edgepass=debug",
            other => other,
        };
        edgepass::telemetry::init(LogFormat::Human, filter);
    }
}

/// Row counts of every table, to show that a refused request wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rows {
    pub(crate) users: u64,
    pub(crate) sessions: u64,
    pub(crate) audit_events: u64,
}

/// An edgepass serving on 127.0.0.1 for one test.
pub(crate) struct TestApp {
    /// The port it listens on.
    pub(crate) port: u16,
    /// The port of its local edge (the CloudFront stand-in), if it runs one.
    pub(crate) edge_port: Option<u16>,
    /// The port `/metrics` is served on, if it is served.
    pub(crate) metrics_port: Option<u16>,
    /// Its shared state: configuration, database, key ring, metrics.
    pub(crate) state: AppState,
    /// Its clock, which moves only when a test says so.
    pub(crate) clock: ManualClock,
    /// A browser: keeps the cookies edgepass sets and sends them back.
    pub(crate) client: reqwest::Client,
    /// The browser's cookies.
    pub(crate) jar: Arc<Jar>,
    /// A script: no cookie store, sends only what a test puts on the request.
    pub(crate) raw: reqwest::Client,
    /// The data folder (generated key, SQLite file).
    pub(crate) data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    database: Option<ScratchDatabase>,
    _dir: tempfile::TempDir,
}

/// A browser of its own, signed up as `email` with [`PASSWORD`]: (user id, client, its cookies).
pub(crate) async fn signed_up_browser(app: &TestApp, email: &str) -> (i64, reqwest::Client, Arc<Jar>) {
    let (client, jar) = browser();
    let reply = send(
        client
            .post(app.url("/api/auth/register"))
            .json(&json!({ "email": email, "password": PASSWORD })),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "register {email}: {}",
        reply.text()
    );
    let id = reply.json()["user"]["id"].as_i64().expect("user id");
    (id, client, jar)
}

/// A browser-like client with its own cookie jar.
pub(crate) fn browser() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .no_proxy()
        .build()
        .expect("http client");
    (client, jar)
}

impl TestApp {
    /// edgepass in local mode with default settings.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// edgepass with these `EDGEPASS_*` settings on top of the test defaults (port 0, a fresh data folder
    /// and database).
    pub(crate) async fn spawn_with(settings: &[(&str, &str)]) -> Self {
        match Self::try_spawn_at(EPOCH, settings).await {
            Ok(app) => app,
            Err(error) => panic!("edgepass did not start: {error}"),
        }
    }

    /// edgepass whose clock starts at `start` (epoch seconds) instead of [`EPOCH`], with these settings.
    pub(crate) async fn spawn_at(start: u64, settings: &[(&str, &str)]) -> Self {
        match Self::try_spawn_at(start, settings).await {
            Ok(app) => app,
            Err(error) => panic!("edgepass did not start: {error}"),
        }
    }

    async fn try_spawn_at(start: u64, settings: &[(&str, &str)]) -> Result<Self, StartupError> {
        init_logging();
        let dir = tempfile::tempdir().expect("temporary data folder");
        let data_dir = dir.path().join("data");
        let mut env = BTreeMap::from([
            ("EDGEPASS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_EDGE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_METRICS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "EDGEPASS_DATA_DIR".to_owned(),
                data_dir.to_str().expect("utf-8 path").to_owned(),
            ),
            // Every test's browsers come from 127.0.0.1, and some make more accounts than the production
            // default of 10 an hour; the registration throttling tests set their own limit.
            ("EDGEPASS_REGISTRATIONS_PER_CLIENT".to_owned(), "1000".to_owned()),
            // Signing ahead works in the background on its own ticks, which would make the counts of
            // signatures that tests check depend on timing; the tests of signing ahead turn it on.
            ("EDGEPASS_CDN_SIGN_AHEAD_GRANTS".to_owned(), "0".to_owned()),
        ]);
        let database = match std::env::var(POSTGRES_VARIABLE) {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let database = ScratchDatabase::create(admin_url.trim(), "edgepass_test").await;
                env.insert("EDGEPASS_DATABASE_URL".to_owned(), database.url.clone());
                Some(database)
            }
            _ => None,
        };
        for (name, value) in settings {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        let config = Config::from_env(&env).expect("test configuration");
        let clock = ManualClock::new(start);
        let app = Application::build_with_clock(config, Arc::new(clock.clone())).await?;
        let state = app.state().clone();
        let port = app.port();
        let edge_port = app.edge_addr().map(|addr| addr.port());
        let metrics_port = app.metrics_addr().map(|addr| addr.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let (client, jar) = browser();
        let raw = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        Ok(Self {
            port,
            edge_port,
            metrics_port,
            state,
            clock,
            client,
            jar,
            raw,
            data_dir,
            stop: Some(stop),
            server: Some(server),
            database,
            _dir: dir,
        })
    }

    /// The address edgepass listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `http://127.0.0.1:{edge port}{path}`: a URL on the local edge.
    pub(crate) fn edge_url(&self, path: &str) -> String {
        let port = self.edge_port.expect("this edgepass runs a local edge");
        format!("http://127.0.0.1:{port}{path}")
    }

    /// The service's own origin as a browser on this machine sends it.
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The database edgepass uses.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// The current time on edgepass's clock.
    pub(crate) fn now(&self) -> u64 {
        self.state.now()
    }

    /// Moves edgepass's clock forward.
    pub(crate) fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }

    /// How many rows each table holds.
    pub(crate) async fn rows(&self) -> Rows {
        Rows {
            users: user::Entity::find().count(self.db()).await.expect("count users"),
            sessions: session::Entity::find()
                .count(self.db())
                .await
                .expect("count sessions"),
            audit_events: audit_event::Entity::find()
                .count(self.db())
                .await
                .expect("count audit events"),
        }
    }

    /// A request from the browser.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request from a client without cookies.
    pub(crate) fn raw_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.raw.request(method, self.url(path))
    }

    /// `GET path` from the browser.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    /// `POST path` with a JSON body from the browser.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Reply {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST /api/auth/register`.
    pub(crate) async fn register(&self, email: &str, password: &str) -> Reply {
        self.post_json(
            "/api/auth/register",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Registers `email` with [`PASSWORD`] (the browser is then signed in) and returns the user id.
    pub(crate) async fn signed_up(&self, email: &str) -> i64 {
        let reply = self.register(email, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "register {email}: {}",
            reply.text()
        );
        reply.json()["user"]["id"].as_i64().expect("user id")
    }

    /// `POST /api/auth/login`.
    pub(crate) async fn login(&self, email: &str, password: &str) -> Reply {
        self.post_json(
            "/api/auth/login",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// `POST /api/auth/logout`.
    pub(crate) async fn logout(&self) -> Reply {
        send(self.request(Method::POST, "/api/auth/logout")).await
    }

    /// `GET /api/me`.
    pub(crate) async fn me(&self) -> Reply {
        self.get("/api/me").await
    }

    /// `POST /api/cdn/cookies`.
    pub(crate) async fn mint_cookies(&self) -> Reply {
        send(self.request(Method::POST, "/api/cdn/cookies")).await
    }

    /// Every image row, whatever its status.
    pub(crate) async fn image_rows(&self) -> Vec<image::Model> {
        image::Entity::find().all(self.db()).await.expect("image rows")
    }

    /// The image row `id` (an id the API returned).
    pub(crate) async fn image_row(&self, id: &str) -> Option<image::Model> {
        let id = ImageId::parse(id).unwrap_or_else(|| panic!("{id:?} is an image id"));
        image::Entity::find_by_id(id)
            .one(self.db())
            .await
            .expect("image row")
    }

    /// `method path` with a JSON body from the browser.
    pub(crate) async fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        send(self.request(method, path).json(body)).await
    }

    /// `POST /api/images`: starts an upload.
    pub(crate) async fn start_upload(&self, content_type: &str, byte_size: u64, name: &str) -> Reply {
        self.post_json(
            "/api/images",
            &json!({ "content_type": content_type, "byte_size": byte_size, "name": name }),
        )
        .await
    }

    /// `POST /api/images/{id}/complete`.
    pub(crate) async fn complete_upload(&self, id: &str) -> Reply {
        send(self.request(Method::POST, &format!("/api/images/{id}/complete"))).await
    }

    /// `PATCH /api/images/{id}` with `{visibility}`.
    pub(crate) async fn set_visibility(&self, id: &str, visibility: &str) -> Reply {
        self.send_json(
            Method::PATCH,
            &format!("/api/images/{id}"),
            &json!({ "visibility": visibility }),
        )
        .await
    }

    /// `DELETE /api/images/{id}`.
    pub(crate) async fn delete_image(&self, id: &str) -> Reply {
        send(self.request(Method::DELETE, &format!("/api/images/{id}"))).await
    }

    /// Starts an upload of `bytes` as `content_type`, PUTs them to the presigned URL and completes it;
    /// returns the image as the completion shows it.
    pub(crate) async fn upload(&self, content_type: &str, bytes: &[u8], name: &str) -> Value {
        let ticket = self.start_upload(content_type, bytes.len() as u64, name).await;
        assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.text());
        let ticket = ticket.json();
        assert_eq!(put_upload(&ticket, content_type, bytes).await, StatusCode::OK);
        let id = ticket["id"].as_str().expect("id");
        let done = self.complete_upload(id).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        done.json()
    }

    /// The subjects of the audit events recorded for `action`, oldest first.
    pub(crate) async fn audited(&self, action: &str) -> Vec<String> {
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .all(self.db())
            .await
            .expect("audit events")
            .into_iter()
            .map(|event| event.subject)
            .collect()
    }

    /// What the lifecycle steps of this edgepass talk to.
    pub(crate) fn services(&self) -> Services<'_> {
        Services {
            db: &self.state.db,
            storage: &self.state.storage,
            cdn: &self.state.invalidations,
            lease_secs: self.state.config.images.lease_secs,
        }
    }

    /// The value of the session cookie the browser holds.
    pub(crate) fn session_cookie(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.url("/")).expect("url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .expect("ascii cookies")
            .split("; ")
            .find_map(|pair| pair.strip_prefix("edgepass_session="))
            .map(str::to_owned)
    }

    /// `http://127.0.0.1:{metrics port}{path}`: a URL on the metrics listener.
    pub(crate) fn metrics_url(&self, path: &str) -> String {
        let port = self.metrics_port.expect("this edgepass serves metrics");
        format!("http://127.0.0.1:{port}{path}")
    }

    /// `GET /metrics` on the metrics listener, as Prometheus scrapes it.
    pub(crate) async fn metrics(&self) -> String {
        let reply = send(self.raw.get(self.metrics_url("/metrics"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.text()
    }

    /// The sum of every sample of `name` (all label sets) in `/metrics`.
    pub(crate) async fn metric(&self, name: &str) -> f64 {
        sample_sum(&self.metrics().await, name)
    }

    /// Sends the stop signal; requests in flight may still finish.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits until the server has stopped and returns how it ended.
    pub(crate) async fn stopped(&mut self) -> std::io::Result<()> {
        let server = self.server.take().expect("the server is running");
        server.await.expect("the server task")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
        // The scratch database goes next (its own Drop), before the data folder.
        drop(self.database.take());
    }
}

/// The real time (epoch seconds). Tests that PUT to the embedded store start edgepass's clock near it:
/// the store checks presigned URLs against the real clock, as S3 does.
pub(crate) fn real_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// PUTs `body` to the upload URL of a `POST /api/images` answer with `content_type`, as a browser's
/// `fetch` would (it sets `Content-Length` itself); returns the store's status.
pub(crate) async fn put_upload(ticket: &Value, content_type: &str, body: &[u8]) -> StatusCode {
    put_to(
        ticket["upload_url"].as_str().expect("upload_url"),
        content_type,
        body,
    )
    .await
}

/// PUTs `body` to `url` with `content_type`; returns the store's status.
pub(crate) async fn put_to(url: &str, content_type: &str, body: &[u8]) -> StatusCode {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
        .put(url)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("the store answers")
        .status()
}

/// The sum of every sample of `name` in a Prometheus text exposition.
pub(crate) fn sample_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let metric = series.split('{').next()?;
            (metric == name).then(|| value.parse::<f64>().expect("a sample value"))
        })
        .sum()
}

/// A whole HTTP answer, read at once.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Sends a request and reads the whole answer.
pub(crate) async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("edgepass answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("response body").to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

impl Reply {
    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii header"))
    }

    /// Every `Set-Cookie`, parsed.
    pub(crate) fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| SetCookie::parse(v.to_str().expect("ascii Set-Cookie")))
            .collect()
    }

    /// The one `Set-Cookie` for `name`.
    pub(crate) fn set_cookie(&self, name: &str) -> SetCookie {
        let mut found = self.set_cookies().into_iter().filter(|c| c.name == name);
        let cookie = found
            .next()
            .unwrap_or_else(|| panic!("no Set-Cookie {name}: {:?}", self.headers));
        assert!(found.next().is_none(), "more than one Set-Cookie {name}");
        cookie
    }

    /// Asserts an error answer: this status, a JSON body `{error, message}` with this code.
    pub(crate) fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "JSON content type: {:?}",
            self.headers
        );
        let body = self.json();
        assert_eq!(body["error"], code, "body: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a message: {body}"
        );
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(2),
            "only error and message: {body}"
        );
    }
}

/// One `Set-Cookie` header: name, value (as sent, not decoded) and attributes.
#[derive(Clone, Debug)]
pub(crate) struct SetCookie {
    pub(crate) name: String,
    pub(crate) value: String,
    attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub(crate) fn parse(header: &str) -> Self {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|pair| pair.split_once('='))
            .unwrap_or_else(|| panic!("Set-Cookie without name=value: {header}"));
        let attributes = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_owned())),
                None => (p.to_ascii_lowercase(), None),
            })
            .collect();
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            attributes,
        }
    }

    /// Whether the attribute is present (`HttpOnly`, `Secure`, `Max-Age=…`); case does not matter.
    pub(crate) fn has(&self, attribute: &str) -> bool {
        let attribute = attribute.to_ascii_lowercase();
        self.attributes.iter().any(|(k, _)| *k == attribute)
    }

    /// The value of an attribute such as `Path` or `Max-Age`.
    pub(crate) fn get(&self, attribute: &str) -> Option<&str> {
        let attribute = attribute.to_ascii_lowercase();
        self.attributes
            .iter()
            .find(|(k, _)| *k == attribute)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// An HTTP/1.1 answer read from a raw connection.
#[derive(Debug)]
pub(crate) struct RawReply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawReply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Opens a plain TCP connection to edgepass, for requests reqwest will not send (chunked bodies written
/// piece by piece, requests left half-sent).
pub(crate) async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr()).await.expect("connect")
}

/// Writes bytes to a raw connection.
pub(crate) async fn write(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.expect("write");
    stream.flush().await.expect("flush");
}

/// Reads one answer from a raw connection whose request said `Connection: close`.
pub(crate) async fn read_reply(stream: &mut TcpStream) -> RawReply {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.expect("read the answer");
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&bytes)));
    let head = String::from_utf8(bytes[..split].to_vec()).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawReply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = std::str::from_utf8(&data[..line_end]).expect("chunk size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}
