//! The application state every service reads: configuration, bound addresses, the database, the AWS
//! clients, the signer, the clock and the metrics. It knows nothing of HTTP, so the services below the
//! handlers can take it.

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::password::PasswordHashing;
use crate::auth::session_cache::SessionCache;
use crate::aws::cloudfront::Invalidations;
use crate::aws::s3::Storage;
use crate::cdn_signer::CdnSigner;
use crate::clock::Clock;
use crate::config::{BoundAddresses, Config};
use crate::db::session_events::SessionEvents;
use crate::local::store::LocalStore;
use crate::presigned_gets::PresignedGets;
use crate::telemetry::metrics::Metrics;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

/// The contents of [`AppState`].
pub struct AppInner {
    /// The configuration.
    pub config: Config,
    /// The listeners' addresses and the origins that follow them, settled at start-up.
    pub bound: BoundAddresses,
    /// The database.
    pub db: DatabaseConnection,
    /// Signs the CloudFront cookies and object URLs.
    pub cdn: Arc<CdnSigner>,
    /// Password hashing.
    pub passwords: PasswordHashing,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
    /// The image store.
    pub storage: Storage,
    /// The image URLs of S3 delivery; `None` when CloudFront delivers.
    pub presigned_gets: Option<Arc<PresignedGets>>,
    /// CloudFront invalidations.
    pub invalidations: Invalidations,
    /// Local mode's embedded store, kept running as long as the state lives.
    pub local_store: Option<Arc<LocalStore>>,
    /// The origin browsers upload to (the presigned PUT URLs'), allowed by the gallery page's CSP.
    pub upload_origin: String,
    /// The signed-in sessions this instance remembers.
    pub sessions: SessionCache,
    /// News of ended and changed sessions, to and from the other instances.
    pub session_events: SessionEvents,
}

impl Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    /// Wraps the parts.
    pub(crate) fn new(inner: AppInner) -> Self {
        Self(Arc::new(inner))
    }

    /// The current time, epoch seconds.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }
}
