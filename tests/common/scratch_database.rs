//! A PostgreSQL database of one test's (or one cluster's) own, made on the server the tests were given
//! and dropped, with any connection still open, when the test ends. Shared by `tests/api/` and
//! `tests/cluster/`.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The variable naming a PostgreSQL server the tests may create databases on.
pub(crate) const POSTGRES_VARIABLE: &str = "EDGEPASS_TEST_DATABASE_URL";

/// A database that exists until this is dropped.
pub(crate) struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

/// 16 random hex digits, for names that must not collide.
pub(crate) fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `admin_url` with its database replaced by `name`, query kept.
pub(crate) fn url_for_database(admin_url: &str, name: &str) -> String {
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

/// `url` with its port replaced by `port` (on the same host).
pub(crate) fn url_via_port(url: &str, port: u16) -> String {
    let (host_end, old) = split_port(url);
    let rest_start = match old {
        Some(old) => host_end + 1 + old.to_string().len(),
        None => host_end,
    };
    format!("{}:{port}{}", &url[..host_end], &url[rest_start..])
}

/// The port of the server `url` names (5432 when it names none).
pub(crate) fn port_of(url: &str) -> u16 {
    split_port(url).1.unwrap_or(5432)
}

async fn admin_connection(admin_url: &str) -> DatabaseConnection {
    Database::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_VARIABLE}: cannot connect: {e}"))
}

impl ScratchDatabase {
    /// The database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Creates `{prefix}_{random}` on the server `admin_url` names.
    pub(crate) async fn create(admin_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}", random_suffix());
        let admin = admin_connection(admin_url).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_VARIABLE}: cannot create {name}: {e}"));
        let _ = admin.close().await;
        Self {
            url: url_for_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // The test's runtime may be the one being dropped, so the cleanup gets a thread and runtime of its
        // own and the test waits for it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async move {
                let admin = admin_connection(&admin_url).await;
                let result = admin.execute_unprepared(&statement).await;
                let _ = admin.close().await;
                result
            })
        })
        .join();
        match dropped {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error}", self.name),
            Err(_) => eprintln!("could not drop test database {}", self.name),
        }
    }
}

#[test]
fn the_scratch_database_url_replaces_only_the_database_name() {
    assert_eq!(
        url_for_database("postgres://postgres@127.0.0.1:5432/test", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        url_for_database("postgresql://u:p@db/test?sslmode=disable", "t1"),
        "postgresql://u:p@db/t1?sslmode=disable"
    );
    assert_eq!(
        url_for_database("postgres://db:5432", "t1"),
        "postgres://db:5432/t1"
    );
}

#[test]
fn a_database_url_can_be_sent_through_another_port() {
    let on_5432 = "postgres://postgres@127.0.0.1:5432/edgepass_cluster_x";
    assert_eq!(port_of(on_5432), 5432);
    assert_eq!(
        url_via_port(on_5432, 6000),
        "postgres://postgres@127.0.0.1:6000/edgepass_cluster_x"
    );
    let no_port = "postgres://u:p@db/x?sslmode=disable";
    assert_eq!(port_of(no_port), 5432);
    assert_eq!(
        url_via_port(no_port, 6000),
        "postgres://u:p@db:6000/x?sslmode=disable"
    );
}
