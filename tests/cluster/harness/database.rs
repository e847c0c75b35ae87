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

impl ScratchDatabase {
    /// The server's port (5432 when the URL names none).
    pub(crate) fn port(&self) -> u16 {
        let (_, port) = split_port(&self.url);
        port.unwrap_or(5432)
    }

    /// The database's URL with its port replaced by `port` (on the same host).
    pub(crate) fn url_via_port(&self, port: u16) -> String {
        let (host_end, old) = split_port(&self.url);
        let rest_start = match old {
            Some(old) => host_end + 1 + old.to_string().len(),
            None => host_end,
        };
        format!("{}:{port}{}", &self.url[..host_end], &self.url[rest_start..])
    }
}

/// Where the host of `url` ends, and the port after it, if any.
fn split_port(url: &str) -> (usize, Option<u16>) {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority_start + i);
    let host_start = url[authority_start..authority_end]
        .rfind('@')
        .map_or(authority_start, |i| authority_start + i + 1);
    match url[host_start..authority_end].rfind(':') {
        Some(colon) => (
            host_start + colon,
            url[host_start + colon + 1..authority_end].parse().ok(),
        ),
        None => (authority_end, None),
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

#[test]
fn a_database_url_can_be_sent_through_another_port() {
    let database = |url: &str| ScratchDatabase {
        url: url.to_owned(),
        admin_url: String::new(),
        name: String::new(),
    };
    let on_5432 = database("postgres://postgres@127.0.0.1:5432/edgepass_cluster_x");
    assert_eq!(on_5432.port(), 5432);
    assert_eq!(
        on_5432.url_via_port(6000),
        "postgres://postgres@127.0.0.1:6000/edgepass_cluster_x"
    );
    let no_port = database("postgres://u:p@db/x?sslmode=disable");
    assert_eq!(no_port.port(), 5432);
    assert_eq!(
        no_port.url_via_port(6000),
        "postgres://u:p@db:6000/x?sslmode=disable"
    );
    std::mem::forget(on_5432);
    std::mem::forget(no_port);
}
