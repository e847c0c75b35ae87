//! Building and running the service: state, listener, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::Server;
use poem::listener::TcpAcceptor;
use sea_orm::DatabaseConnection;

use crate::auth::password::PasswordHashing;
use crate::auth::session_cache::SessionCache;
use crate::aws::cloudfront::{Invalidations, InvalidationsTarget};
use crate::aws::kms::{KmsError, KmsKey, KmsTarget};
use crate::aws::s3::{Storage, StorageError, StorageTarget};
use crate::cdn_signer::{AlgorithmMismatch, CdnSigner, KmsSigning};
use crate::clock::{Clock, SystemClock};
use crate::config::{BoundAddresses, CdnKeySource, Config, ConfigError, Delivery};
use crate::db::session_events::{Heard, SessionEvents};
use crate::images::lifecycle::{self, Swept};
use crate::images::{account_deletion, album_emptying};
use crate::local::data_dir;
use crate::local::edge::{self, Edge};
use crate::local::key::{self as local_key, LocalKeyError};
use crate::local::store::{LocalStore, LocalStoreError};
use crate::presigned_gets::PresignedGets;
use crate::services::images::lifecycle_services;
use crate::signing::{KeyError, KeyPairId, KeyRing, KeyRingError, SigningKey, VerifyingKey};
use crate::telemetry::Causes;
use crate::telemetry::metrics::Metrics;
use crate::{db, http};

mod state;

pub use state::{AppInner, AppState};

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How often the signer looks for grants to sign ahead of the next window.
const SIGN_AHEAD_EVERY: Duration = Duration::from_millis(250);
/// Signatures per blocking step of signing ahead; it rests between steps to keep to its CPU share.
const SIGN_AHEAD_STEP: usize = 16;
/// How often expired sessions are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The CloudFront key does not load.
    #[error("{variable}: {source}")]
    Key {
        /// The variable naming the key.
        variable: &'static str,
        /// The cause.
        source: KeyError,
    },
    /// The local key could not be provided.
    #[error(transparent)]
    LocalKey(#[from] LocalKeyError),
    /// The key does not fit the algorithm.
    #[error(transparent)]
    Algorithm(#[from] AlgorithmMismatch),
    /// The key ring refused the key.
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
    /// The KMS key named by `EDGEPASS_CDN_KMS_KEY_ID` cannot sign CloudFront policies, or KMS could
    /// not be reached.
    #[error("EDGEPASS_CDN_KMS_KEY_ID: {0}")]
    Kms(#[from] KmsError),
    /// The embedded object store did not start.
    #[error(transparent)]
    LocalStore(#[from] LocalStoreError),
    /// The object store refused the bucket.
    #[error("EDGEPASS_S3_BUCKET: {0}")]
    Storage(#[from] StorageError),
    /// The PostgreSQL database named does not exist.
    #[error(transparent)]
    MissingDatabase(#[from] db::MissingDatabase),
    /// The database is unreachable or the migrations failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Files or the listening socket.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl StartupError {
    /// Whether the configuration names something that cannot work as written (a malformed setting, a key
    /// that does not load or fit, a database that does not exist): the operator's to fix, unlike an
    /// outage or a port in use.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Self::Config(_)
                | Self::Key { .. }
                | Self::Algorithm(_)
                | Self::KeyRing(_)
                | Self::Kms(KmsError::Unsuitable { .. } | KmsError::Refused { .. })
                | Self::MissingDatabase(_)
        )
    }
}

/// The signer of CloudFront cookies and URLs: over a KMS key when one is configured (connected and
/// checked here, before anything listens), otherwise over the key ring of an in-process key.
pub(crate) async fn cdn_signer(config: &Config, cdn_base_url: &str) -> Result<CdnSigner, StartupError> {
    let secure = config.session.cookie_secure;
    let CdnKeySource::Kms { key_pair_id, key_id } = &config.cdn.key else {
        let ring = key_ring(config, signing_key(config)?)?;
        return Ok(CdnSigner::new(&config.cdn, cdn_base_url, ring, secure)?);
    };
    let id = KeyPairId::parse(key_pair_id).map_err(|source| StartupError::Key {
        variable: "EDGEPASS_CDN_KEY_PAIR_ID",
        source,
    })?;
    let key = KmsKey::connect(&KmsTarget::of(config), key_id, id).await?;
    let mut verifying = vec![key.verifying_key().map_err(|source| StartupError::Key {
        variable: "EDGEPASS_CDN_KMS_KEY_ID",
        source,
    })?];
    verifying.extend(trusted_keys(config)?);
    tracing::info!(
        key_pair_id = %key.public_key().key_pair_id(),
        kind = %key.public_key().kind(),
        "signing CloudFront cookies and URLs with a KMS key (checked with a test signature)"
    );
    Ok(CdnSigner::with_kms(
        &config.cdn,
        cdn_base_url,
        KmsSigning {
            key: Arc::new(key),
            verifying,
        },
        secure,
    )?)
}

/// Reads the CloudFront signing key the configuration names, generating one in local mode.
pub(crate) fn signing_key(config: &Config) -> Result<SigningKey, StartupError> {
    let key_error = |variable| move |source| StartupError::Key { variable, source };
    match &config.cdn.key {
        CdnKeySource::Generated => {
            let local = local_key::load_or_generate(&config.data_dir, config.cdn.algorithm)?;
            let verb = if local.generated { "generated" } else { "using" };
            tracing::info!(
                key_pair_id = %local.key.key_pair_id(),
                kind = %local.key.kind(),
                path = %local.path.display(),
                public_key = %local.public_path.display(),
                "local mode: {verb} the CloudFront signing key kept in the data folder"
            );
            Ok(local.key)
        }
        CdnKeySource::Pem { key_pair_id, pem } => {
            let id = KeyPairId::parse(key_pair_id).map_err(key_error("EDGEPASS_CDN_KEY_PAIR_ID"))?;
            SigningKey::from_pem(id, pem.expose()).map_err(key_error("EDGEPASS_CDN_PRIVATE_KEY"))
        }
        CdnKeySource::File { key_pair_id, path } => {
            let id = KeyPairId::parse(key_pair_id).map_err(key_error("EDGEPASS_CDN_KEY_PAIR_ID"))?;
            let pem = std::fs::read_to_string(path).map_err(|source| StartupError::Io {
                what: format!("EDGEPASS_CDN_PRIVATE_KEY_FILE {}", path.display()),
                source,
            })?;
            SigningKey::from_pem(id, &pem).map_err(key_error("EDGEPASS_CDN_PRIVATE_KEY_FILE"))
        }
        CdnKeySource::Kms { .. } => Err(StartupError::Key {
            variable: "EDGEPASS_CDN_KMS_KEY_ID",
            source: KeyError::NotInProcess,
        }),
    }
}

/// The ring of trusted keys: `active` signs; the configured verify-only public keys (a key being
/// rotated out) are trusted beside it.
fn key_ring(config: &Config, active: SigningKey) -> Result<KeyRing, StartupError> {
    let mut ring = KeyRing::new(active)?;
    for trusted in trusted_keys(config)? {
        ring.add_verifying_key(trusted)?;
    }
    Ok(ring)
}

/// The configured verify-only public keys (`EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS`).
pub(crate) fn trusted_keys(config: &Config) -> Result<Vec<VerifyingKey>, StartupError> {
    let key_error = |source| StartupError::Key {
        variable: "EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS",
        source,
    };
    let mut keys = Vec::with_capacity(config.cdn.trusted_keys.len());
    for trusted in &config.cdn.trusted_keys {
        let id = KeyPairId::parse(&trusted.key_pair_id).map_err(key_error)?;
        let pem = std::fs::read_to_string(&trusted.path).map_err(|source| StartupError::Io {
            what: format!("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS {}", trusted.path.display()),
            source,
        })?;
        keys.push(VerifyingKey::from_pem(id, &pem).map_err(key_error)?);
        tracing::info!(key_pair_id = %trusted.key_pair_id, "trusting a verify-only CloudFront key");
    }
    Ok(keys)
}

/// The configured store, or local mode's embedded one (started here, with its bucket created, answering
/// browsers from `allowed_origins`).
async fn connect_storage(
    config: &Config,
    allowed_origins: &[String],
) -> Result<(Storage, Option<Arc<LocalStore>>), StartupError> {
    match StorageTarget::configured(config) {
        None => {
            prepare_data_dir(config)?;
            let objects = config.data_dir.join("objects");
            data_dir::prepare(&objects).map_err(|source| StartupError::Io {
                what: format!("EDGEPASS_DATA_DIR {}", objects.display()),
                source,
            })?;
            let store = LocalStore::start(&objects, allowed_origins.to_vec()).await?;
            let storage = Storage::connect(&store.storage_target()).await;
            storage.ensure_bucket().await?;
            tracing::info!(
                endpoint = store.endpoint(),
                "local mode: embedded object store running"
            );
            Ok((storage, Some(Arc::new(store))))
        }
        Some(target) => {
            let storage = Storage::connect(&target).await;
            Ok((storage, None))
        }
    }
}

/// The data folder, created or narrowed to its owner (see [`data_dir`]).
fn prepare_data_dir(config: &Config) -> Result<(), StartupError> {
    data_dir::prepare(&config.data_dir).map_err(|source| StartupError::Io {
        what: format!("EDGEPASS_DATA_DIR {}", config.data_dir.display()),
        source,
    })
}

/// Connects to the database (creating the data folder and the database file, owner-only, for SQLite)
/// and applies the migrations.
pub async fn prepare_database(config: &Config) -> Result<DatabaseConnection, StartupError> {
    let url = config.database_url.expose();
    if url.starts_with("sqlite:") {
        prepare_data_dir(config)?;
        if let Some(file) = data_dir::sqlite_file(url) {
            data_dir::prepare_sqlite_file(&file).map_err(|source| StartupError::Io {
                what: format!("EDGEPASS_DATABASE_URL {}", file.display()),
                source,
            })?;
        }
    }
    let db = db::connect(url)
        .await
        .map_err(|error| match db::MissingDatabase::of(url, &error) {
            Some(missing) => StartupError::MissingDatabase(missing),
            None => error.into(),
        })?;
    db::migrate(&db).await?;
    Ok(db)
}

/// A built service, bound to its port (and the local edge's and the metrics'), not yet serving.
pub struct Application {
    state: AppState,
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    edge: Option<(TcpAcceptor, SocketAddr)>,
    metrics: Option<(TcpAcceptor, SocketAddr)>,
}

/// Binds `address` for one of the service's listeners; `variable` names the setting in the error.
async fn bind(address: SocketAddr, variable: &str) -> Result<(TcpAcceptor, SocketAddr), StartupError> {
    edge::bind(address).await.map_err(|source| StartupError::Io {
        what: format!("{variable} {address}"),
        source,
    })
}

impl Application {
    /// Builds the service with the system clock.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the service with the given clock (tests move time).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let db = prepare_database(&config).await?;
        let passwords = PasswordHashing::new(std::thread::available_parallelism().map_or(2, |n| n.get() * 2));
        if let Err(error) = passwords.warm_up().await {
            tracing::warn!(%error, "could not precompute the decoy password hash");
        }
        let (acceptor, local_addr) = bind(config.listen, "EDGEPASS_LISTEN").await?;
        let edge = match config.edge_listen {
            Some(address) => Some(bind(address, "EDGEPASS_EDGE_LISTEN").await?),
            None => None,
        };
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(bind(address, "EDGEPASS_METRICS_LISTEN").await?),
            None => None,
        };
        // The origins that follow the listeners (the CDN base URL is by default the edge's) are settled
        // only now.
        let bound = BoundAddresses::new(
            &config,
            local_addr,
            edge.as_ref().map(|(_, address)| *address),
            metrics_listener.as_ref().map(|(_, address)| *address),
        );
        let cdn = Arc::new(cdn_signer(&config, &bound.cdn_base_url).await?);
        let (storage, local_store) = connect_storage(&config, &bound.allowed_origins).await?;
        let upload_origin = storage.upload_origin().await?;
        let invalidations = match &config.distribution_id {
            Some(distribution_id) => {
                Invalidations::connect(&InvalidationsTarget {
                    distribution_id: distribution_id.clone(),
                    endpoint_url: config.cloudfront_endpoint_url.clone(),
                    credentials: config.static_aws_credentials(),
                })
                .await
            }
            None => Invalidations::local(),
        };
        let presigned_gets = match &config.delivery {
            Delivery::S3 { public } => Some(Arc::new(PresignedGets::new(
                storage.clone(),
                cdn.window(),
                public.clone(),
            ))),
            Delivery::CloudFront => None,
        };
        let metrics = Metrics::new(Arc::clone(&cdn), presigned_gets.clone());
        // On SQLite this is the only instance, so it hears every end of a session at once; on
        // PostgreSQL the cache answers once the listener hears the other instances.
        let sessions = SessionCache::new(
            usize::try_from(config.session.cache_entries).unwrap_or(usize::MAX),
            !is_postgres(&db),
        );
        let state = AppState::new(AppInner {
            config,
            bound,
            db,
            cdn,
            passwords,
            clock,
            metrics,
            storage,
            presigned_gets,
            invalidations,
            local_store,
            upload_origin,
            sessions,
            session_events: SessionEvents::default(),
        });
        Ok(Self {
            state,
            acceptor,
            local_addr,
            edge,
            metrics: metrics_listener,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the local edge is bound to; `None` when it does not run.
    pub fn edge_addr(&self) -> Option<SocketAddr> {
        self.edge.as_ref().map(|(_, addr)| *addr)
    }

    /// The address `/metrics` is served on; `None` when it is not served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr)| *addr)
    }

    /// The shared state (tests inspect the key ring and the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then lets in-flight requests finish.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        tracing::info!(address = %self.local_addr, "edgepass listening");
        let sweeper = tokio::spawn(sweep_sessions(self.state.clone()));
        let image_sweeper = tokio::spawn(sweep_images(self.state.clone()));
        let signer_ahead = (self.state.config.cdn.sign_ahead_grants > 0)
            .then(|| tokio::spawn(sign_ahead(self.state.clone())));
        let session_listener =
            is_postgres(&self.state.db).then(|| tokio::spawn(hear_sessions(self.state.clone())));
        // One stop signal for every server; it also fires if the API server ends on its own (the
        // sender is dropped), so neither the edge nor the metrics listener outlives it.
        let (stopping, stop_edge) = tokio::sync::watch::channel(());
        let metrics = self.metrics.map(|(acceptor, address)| {
            tracing::info!(%address, "metrics listening");
            let mut stopped = stop_edge.clone();
            tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                http::metrics_routes(self.state.clone()),
                async move {
                    let _ = stopped.changed().await;
                },
                Some(SHUTDOWN_GRACE),
            ))
        });
        let edge = self.edge.map(|(acceptor, address)| {
            tracing::info!(
                %address,
                cdn_base_url = %self.state.bound.cdn_base_url,
                "local edge (CloudFront stand-in) listening"
            );
            let keys: Arc<dyn edge::TrustedKeys> = self.state.cdn.clone();
            let endpoint = Edge::new(self.state.clone(), keys, address);
            let mut stop_edge = stop_edge;
            tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = stop_edge.changed().await;
                },
                Some(SHUTDOWN_GRACE),
            ))
        });
        let app = http::routes(self.state.clone());
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    stop.await;
                    let _ = stopping.send(());
                },
                Some(SHUTDOWN_GRACE),
            )
            .await;
        if let Some(edge) = edge {
            match edge.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the local edge failed"),
                Err(error) => tracing::warn!(%error, "the local edge's task failed"),
            }
        }
        if let Some(metrics) = metrics {
            match metrics.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the metrics listener failed"),
                Err(error) => tracing::warn!(%error, "the metrics listener's task failed"),
            }
        }
        sweeper.abort();
        image_sweeper.abort();
        if let Some(listener) = session_listener {
            listener.abort();
        }
        if let Some(signer) = signer_ahead {
            signer.abort();
        }
        tracing::info!("edgepass stopped");
        result
    }
}

/// Signs the next window's signatures for recently used grants before requests ask for them
/// (`CdnSigner::sign_ahead`), resting between steps so that it uses at most its share of one core.
async fn sign_ahead(state: AppState) {
    let share = (state.config.cdn.sign_ahead_cpu_percent as f64 / 100.0).clamp(0.01, 1.0);
    let mut every = tokio::time::interval(SIGN_AHEAD_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        loop {
            let (cdn, now) = (Arc::clone(&state.cdn), state.now());
            let started = std::time::Instant::now();
            let pass = match tokio::task::spawn_blocking(move || cdn.sign_ahead(now, SIGN_AHEAD_STEP)).await {
                Ok(Ok(pass)) => pass,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not sign ahead");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "the signing-ahead step failed");
                    break;
                }
            };
            tokio::time::sleep(started.elapsed().mul_f64((1.0 - share) / share)).await;
            if !pass.more {
                break;
            }
        }
    }
}

fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
}

/// Keeps the session cache in step with the other instances' news, for as long as the service runs.
async fn hear_sessions(state: AppState) {
    let url = state.config.database_url.expose().to_owned();
    state
        .session_events
        .listen(&state.db, &url, |heard| match heard {
            Heard::Session(token_hash) => state.sessions.forget(&token_hash),
            Heard::Listening => state.sessions.start_hearing(),
            Heard::Deaf => state.sessions.stop_hearing(),
        })
        .await;
}

async fn sweep_sessions(state: AppState) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        match db::sessions::delete_expired(&state.db, state.now()).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "swept expired sessions"),
            Err(error) => tracing::warn!(%error, "could not sweep expired sessions"),
        }
    }
}

async fn sweep_images(state: AppState) {
    // The first sweep comes one period after start-up: a freshly started instance (or test) sees no
    // background work racing its first requests, and with the default timing the changes a previous
    // process was making are no longer leased by then.
    let period = Duration::from_secs(state.config.images.sweep_every_secs);
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        every.tick().await;
        let outcome = lifecycle::sweep(lifecycle_services(&state), state.now()).await;
        if let Ok(swept) = &outcome {
            for (what, count) in [
                ("uploads", swept.uploads),
                ("moves", swept.moves),
                ("deletions", swept.deletions),
                ("failures", swept.failures),
            ] {
                state.metrics.images_swept(what, count);
            }
        }
        match outcome {
            Ok(swept) if swept == Swept::default() => {}
            Ok(swept) => tracing::info!(
                uploads = swept.uploads,
                moves = swept.moves,
                deletions = swept.deletions,
                failures = swept.failures,
                "swept images"
            ),
            Err(error) => tracing::warn!(error = %Causes(&error), "could not sweep images"),
        }
        match album_emptying::sweep_albums(lifecycle_services(&state), state.now()).await {
            Ok(0) => {}
            Ok(albums) => {
                state.metrics.images_swept("albums", albums);
                tracing::info!(albums, "finished deleting albums");
            }
            Err(error) => tracing::warn!(error = %Causes(&error), "could not sweep deleted albums"),
        }
        match account_deletion::sweep_accounts(lifecycle_services(&state), state.now()).await {
            Ok(0) => {}
            Ok(accounts) => {
                state.metrics.images_swept("accounts", accounts);
                tracing::info!(accounts, "finished deleting accounts");
            }
            Err(error) => tracing::warn!(error = %Causes(&error), "could not sweep deleted accounts"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
