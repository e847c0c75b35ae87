//! The cluster's own PostgreSQL database, on the server `EDGEPASS_TEST_DATABASE_URL` names.

#[allow(dead_code)]
#[path = "../../common/scratch_database.rs"]
mod scratch_database;

pub(crate) use scratch_database::ScratchDatabase;
use scratch_database::{POSTGRES_VARIABLE, port_of, url_via_port};

impl ScratchDatabase {
    /// A database for one cluster; the cluster checks need PostgreSQL.
    pub(crate) async fn for_cluster() -> Self {
        let admin_url = std::env::var(POSTGRES_VARIABLE)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| {
                panic!("{POSTGRES_VARIABLE} must name a PostgreSQL server for the cluster checks")
            });
        Self::create(admin_url.trim(), "edgepass_cluster").await
    }

    /// The server's port.
    pub(crate) fn port(&self) -> u16 {
        port_of(&self.url)
    }

    /// The database's URL through another port on the same host.
    pub(crate) fn url_via_port(&self, port: u16) -> String {
        url_via_port(&self.url, port)
    }
}
