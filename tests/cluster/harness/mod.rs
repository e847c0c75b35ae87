//! A cluster: a scratch database, moto, N edgepass processes and haproxy, stopped when dropped.

mod database;
mod haproxy;
mod instance;
// Shared with tests/aws, which also starts moto with extra key-group calls; the cluster does not.
#[allow(dead_code)]
#[path = "../../aws/moto.rs"]
mod moto;
mod stall;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

pub(crate) use database::ScratchDatabase;
use haproxy::Haproxy;
pub(crate) use instance::Instance;
pub(crate) use moto::Moto;
pub(crate) use stall::{Stall, Tripwire};

/// The bucket every instance stores images in.
pub(crate) const BUCKET: &str = "edgepass-cluster";
/// The password of every account the checks make.
pub(crate) const PASSWORD: &str = "cluster password 1";
/// The key-pair id of the signing vectors' RSA-2048 key, which the instances sign with.
const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

/// One cluster at a time: each is several processes, and the machine may have two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many instances a cluster has (`EDGEPASS_CLUSTER_INSTANCES`, default 3).
pub(crate) fn instance_count() -> usize {
    std::env::var("EDGEPASS_CLUSTER_INSTANCES")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(3)
}

/// The running cluster.
pub(crate) struct Cluster {
    /// The instances, in the order haproxy lists them.
    pub(crate) instances: Vec<Instance>,
    haproxy: Haproxy,
    pub(crate) moto: Moto,
    pub(crate) distribution_id: String,
    pub(crate) database: ScratchDatabase,
    /// The settings every instance was started with.
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Cluster {
    /// Starts [`instance_count`] instances with these settings on top of the cluster's own, and waits
    /// until haproxy sees every one of them up.
    pub(crate) async fn start(settings: &[(&str, &str)]) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        let dir = tempfile::tempdir().expect("cluster folder");
        let database = ScratchDatabase::for_cluster().await;
        let moto = Moto::start().await;
        create_bucket(&moto).await;
        let distribution_id = moto
            .create_distribution(&format!("{BUCKET}.s3.us-east-1.amazonaws.com"))
            .await;
        let mut cluster = Self {
            instances: Vec::new(),
            haproxy: Haproxy::reserve(),
            moto,
            distribution_id,
            database,
            env: Vec::new(),
            _dir: dir,
            _turn: turn,
        };
        cluster.env = cluster.base_env(settings);
        for n in 0..instance_count() {
            let instance = cluster.spawn_instance(n, None, None).await;
            cluster.instances.push(instance);
        }
        let backends: Vec<u16> = cluster.instances.iter().map(|i| i.port).collect();
        cluster.haproxy.start(cluster._dir.path(), &backends).await;
        cluster.haproxy.wait_until_up(backends.len()).await;
        cluster
    }

    fn base_env(&self, settings: &[(&str, &str)]) -> Vec<(String, String)> {
        let key = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/vectors/rsa2048_private_pkcs1.pem");
        let mut env: Vec<(String, String)> = [
            ("EDGEPASS_DATABASE_URL", self.database.url.as_str()),
            ("EDGEPASS_PUBLIC_URL", &self.url("")),
            ("EDGEPASS_COOKIE_SECURE", "false"),
            ("EDGEPASS_TRUST_FORWARDED_FOR", "true"),
            ("EDGEPASS_CDN_BASE_URL", "https://cdn.cluster.example"),
            ("EDGEPASS_CDN_KEY_PAIR_ID", KEY_PAIR_ID),
            ("EDGEPASS_CDN_PRIVATE_KEY_FILE", key.to_str().expect("utf-8 path")),
            ("EDGEPASS_CDN_DISTRIBUTION_ID", &self.distribution_id),
            ("EDGEPASS_S3_BUCKET", BUCKET),
            ("EDGEPASS_S3_FORCE_PATH_STYLE", "true"),
            ("EDGEPASS_AWS_ACCESS_KEY_ID", "testing"),
            ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "testing"),
            ("EDGEPASS_REGISTRATIONS_PER_CLIENT", "100000"),
            ("EDGEPASS_LOG_FORMAT", "json"),
            ("EDGEPASS_LOG", "info"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (name, value) in settings {
            env.retain(|(k, _)| k != name);
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
        env
    }

    /// Starts instance number `n`; its AWS calls go to `aws_endpoint`, or straight to moto, and its
    /// database connections to `database_port`, or straight to PostgreSQL.
    async fn spawn_instance(
        &self,
        n: usize,
        aws_endpoint: Option<&str>,
        database_port: Option<u16>,
    ) -> Instance {
        let endpoint = aws_endpoint.unwrap_or(self.moto.endpoint());
        let mut env = self.env.clone();
        env.push(("EDGEPASS_S3_ENDPOINT_URL".to_owned(), endpoint.to_owned()));
        env.push(("EDGEPASS_CLOUDFRONT_ENDPOINT_URL".to_owned(), endpoint.to_owned()));
        if let Some(port) = database_port {
            env.retain(|(k, _)| k != "EDGEPASS_DATABASE_URL");
            env.push((
                "EDGEPASS_DATABASE_URL".to_owned(),
                self.database.url_via_port(port),
            ));
        }
        Instance::start(n, self._dir.path(), &env).await
    }

    /// Replaces instance `n` by one whose AWS calls pass through `stall`, and waits until haproxy sees
    /// it up again.
    pub(crate) async fn route_through(&mut self, n: usize, stall: &Stall) {
        self.replace(n, Some(&stall.endpoint()), None).await;
    }

    /// Replaces instance `n` by one whose database connections pass through `stall`.
    pub(crate) async fn route_database_through(&mut self, n: usize, stall: &Stall) {
        self.replace(n, None, Some(stall.port())).await;
    }

    async fn replace(&mut self, n: usize, aws_endpoint: Option<&str>, database_port: Option<u16>) {
        self.instances[n].kill();
        self.instances[n] = self.spawn_instance(n, aws_endpoint, database_port).await;
        let backends: Vec<u16> = self.instances.iter().map(|i| i.port).collect();
        self.haproxy.restart(self._dir.path(), &backends).await;
        self.haproxy.wait_until_up(backends.len()).await;
    }

    /// The PostgreSQL server's port.
    pub(crate) fn database_port(&self) -> u16 {
        self.database.port()
    }

    /// moto's port.
    pub(crate) fn moto_port(&self) -> u16 {
        self.moto
            .endpoint()
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("moto's port")
    }

    /// `http://127.0.0.1:{port}{path}` on the balancer.
    pub(crate) fn url(&self, path: &str) -> String {
        self.haproxy.url(path)
    }

    /// Waits until haproxy sees `count` instances up (after a kill: the others).
    pub(crate) async fn wait_until_up(&mut self, count: usize) {
        self.haproxy.wait_until_up(count).await;
    }

    /// A connection to the cluster's database.
    pub(crate) async fn db(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.database.url.as_str())
            .await
            .expect("connect to the cluster's database")
    }

    /// How many connections the cluster's database has now (every instance's pools and listeners).
    pub(crate) async fn connections(&self) -> u64 {
        let db = self.db().await;
        let row = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT count(*)::bigint AS n FROM pg_stat_activity WHERE datname = $1",
                [self.database.name().into()],
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row");
        let _ = db.close().await;
        // Less this check's own connection.
        u64::try_from(row.try_get::<i64>("", "n").expect("count"))
            .unwrap_or(0)
            .saturating_sub(1)
    }

    /// Where the database and the bucket disagree: a settled image whose object is missing or also in
    /// its other place, or an object that no image row accounts for. Empty when they agree.
    pub(crate) async fn inconsistencies(&self) -> Vec<String> {
        use edgepass::db::entity::image::{self, Location, Status};
        use edgepass::images::lifecycle::ImageKeys;
        use sea_orm::EntityTrait;

        let rows = image::Entity::find()
            .all(&self.db().await)
            .await
            .expect("image rows");
        let mut objects: std::collections::BTreeSet<String> = self.objects().await.into_iter().collect();
        let mut problems = Vec::new();
        for row in &rows {
            let Ok(keys) = ImageKeys::of(row) else {
                problems.push(format!("{}: keys do not parse", row.id));
                continue;
            };
            let (private, public, staging) = (
                keys.private.to_string(),
                keys.public.to_string(),
                keys.staging.to_string(),
            );
            let expected: &[&String] = match (row.status, row.location) {
                (Status::Ready, Location::Private) => &[&private],
                (Status::Ready, Location::Public) => &[&public],
                // Unsettled rows may hold either copy; they are finished by a retry or the sweeper.
                _ => {
                    for key in [&private, &public, &staging] {
                        objects.remove(key);
                    }
                    continue;
                }
            };
            for key in expected {
                if !objects.remove(*key) {
                    problems.push(format!("{}: {key} is missing", row.id));
                }
            }
            for key in [&private, &public, &staging] {
                if objects.remove(key) {
                    problems.push(format!("{}: {key} should not exist", row.id));
                }
            }
        }
        problems.extend(objects.into_iter().map(|key| format!("{key}: no image row")));
        problems
    }

    /// The object keys in the bucket.
    pub(crate) async fn objects(&self) -> Vec<String> {
        let s3 = s3_client(&self.moto);
        let mut keys = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let listed = s3
                .list_objects_v2()
                .bucket(BUCKET)
                .set_continuation_token(after.take())
                .send()
                .await
                .expect("ListObjectsV2");
            keys.extend(
                listed
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match listed.next_continuation_token() {
                Some(token) => after = Some(token.to_owned()),
                None => break,
            }
        }
        keys.sort();
        keys
    }

    /// The caller reference of every invalidation of the distribution, with its paths.
    pub(crate) async fn invalidations(&self) -> Vec<(String, Vec<String>)> {
        let cloudfront = self.moto.cloudfront();
        let listed = cloudfront
            .list_invalidations()
            .distribution_id(&self.distribution_id)
            .send()
            .await
            .expect("ListInvalidations");
        let mut found = Vec::new();
        let items = listed
            .invalidation_list()
            .map(|l| l.items().to_vec())
            .unwrap_or_default();
        for summary in items {
            let got = cloudfront
                .get_invalidation()
                .distribution_id(&self.distribution_id)
                .id(summary.id())
                .send()
                .await
                .expect("GetInvalidation");
            let batch = got
                .invalidation()
                .expect("invalidation")
                .invalidation_batch()
                .expect("batch");
            let paths = batch.paths().and_then(|p| p.items.clone()).unwrap_or_default();
            found.push((batch.caller_reference().to_owned(), paths));
        }
        found
    }
}

/// A browser: a client that keeps cookies and follows no redirects.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// `POST /api/auth/register` for `email` through `base` from `client`, checked to be 201.
async fn registered(client: &reqwest::Client, base: &str, email: &str) -> reqwest::Response {
    let reply = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("register");
    assert_eq!(reply.status(), StatusCode::CREATED, "register {email}");
    reply
}

/// Registers `email` through `base` in `client`, which then holds the session; returns the user id.
pub(crate) async fn register(client: &reqwest::Client, base: &str, email: &str) -> i64 {
    let body: Value = registered(client, base, email).await.json().await.expect("JSON");
    body["user"]["id"].as_i64().expect("user id")
}

/// Registers `email` through `base` with a client that keeps no cookies, and returns the value of the
/// session cookie it was given (to replay by hand, or hand to wrk).
pub(crate) async fn session_cookie(base: &str, email: &str) -> String {
    registered(&reqwest::Client::new(), base, email)
        .await
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("edgepass_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Uploads a PNG through `base` (start, PUT to the presigned URL, complete) and returns its id.
pub(crate) async fn upload_png(client: &reqwest::Client, base: &str) -> String {
    let png = crate::harness::PNG;
    let reply = client
        .post(format!("{base}/api/images"))
        .json(&json!({ "content_type": "image/png", "byte_size": png.len(), "name": "a.png" }))
        .send()
        .await
        .expect("start upload");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let ticket: Value = reply.json().await.expect("JSON");
    let id = ticket["id"].as_str().expect("id").to_owned();
    let put = reqwest::Client::new()
        .put(ticket["upload_url"].as_str().expect("upload URL"))
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .expect("PUT");
    assert!(put.status().is_success(), "PUT: {}", put.status());
    let done = client
        .post(format!("{base}/api/images/{id}/complete"))
        .send()
        .await
        .expect("complete");
    assert_eq!(done.status(), StatusCode::OK, "complete");
    id
}

/// `GET /api/images/{id}` through `base`, as JSON.
pub(crate) async fn image_view(client: &reqwest::Client, base: &str, id: &str) -> Value {
    client
        .get(format!("{base}/api/images/{id}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// A valid 1×1 PNG.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";

fn s3_client(moto: &Moto) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "cluster",
        ))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .http_client(edgepass::aws::http_client())
        .endpoint_url(moto.endpoint())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(moto: &Moto) {
    s3_client(moto)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
}
