//! The cluster's own PostgreSQL database, created on the server `EDGEPASS_TEST_DATABASE_URL` names and
//! dropped afterwards.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

const VARIABLE: &str = "EDGEPASS_TEST_DATABASE_URL";

/// A database that exists until this is dropped.
pub(crate) struct ScratchDatabase {
    /// Where the instances connect.
    pub(crate) url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    pub(crate) async fn create() -> Self {
        let admin_url = std::env::var(VARIABLE)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| panic!("{VARIABLE} must name a PostgreSQL server for the cluster checks"));
        let mut suffix = [0u8; 6];
        aws_lc_rs::rand::fill(&mut suffix).expect("randomness");
        let name = format!(
            "edgepass_cluster_{}",
            suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let admin = admin(&admin_url).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("{VARIABLE}: cannot create {name}: {e}"));
        let _ = admin.close().await;
        Self {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        }
    }
}

async fn admin(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{VARIABLE}: cannot connect: {e}"))
}

/// `admin_url` with its database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // The test's runtime may be the one being dropped: the cleanup gets a runtime of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime")
                .block_on(async move {
                    let admin = admin(&admin_url).await;
                    let result = admin.execute_unprepared(&statement).await;
                    let _ = admin.close().await;
                    result
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop the cluster database {}", self.name);
        }
    }
}
