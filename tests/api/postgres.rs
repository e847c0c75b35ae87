//! Starting on PostgreSQL: what the log and the error say when the database is fresh or missing.
//!
//! These need a server, so they run in the PostgreSQL pass only (`EDGEPASS_TEST_DATABASE_URL`, which
//! `.ci/run` sets); in the SQLite pass they say so and return.

use std::process::Command;

use crate::helpers::{POSTGRES_VARIABLE, ScratchDatabase, random_suffix, url_for_database};
use crate::process::ServiceProcess;

/// The PostgreSQL server's admin URL, when this run has one.
fn admin_url() -> Option<String> {
    let url = std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty());
    if url.is_none() {
        eprintln!("{POSTGRES_VARIABLE} is not set: nothing to check without PostgreSQL");
    }
    url.map(|url| url.trim().to_owned())
}

#[tokio::test]
async fn a_start_on_a_fresh_postgresql_database_logs_no_notices() {
    let Some(admin) = admin_url() else { return };
    let database = ScratchDatabase::create(&admin, "edgepass_test").await;

    let service = ServiceProcess::start(&[
        ("EDGEPASS_DATABASE_URL", database.url.as_str()),
        ("EDGEPASS_METRICS_LISTEN", "off"),
    ])
    .await;
    let first = service.stop().await;
    // A second start finds every table there already.
    let service = ServiceProcess::start(&[
        ("EDGEPASS_DATABASE_URL", database.url.as_str()),
        ("EDGEPASS_METRICS_LISTEN", "off"),
    ])
    .await;
    let second = service.stop().await;

    for (start, log) in [("first", &first), ("second", &second)] {
        assert!(log.contains("edgepass listening"), "{start} start:\n{log}");
        for notice in ["already exists", "sqlx::postgres::notice"] {
            assert!(!log.contains(notice), "{start} start logged {notice:?}:\n{log}");
        }
    }
}

#[test]
fn a_missing_postgresql_database_is_named_with_how_to_create_it() {
    let Some(admin) = admin_url() else { return };
    let name = format!("edgepass_missing_{}", random_suffix());
    let data = tempfile::tempdir().expect("a data folder");
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgepass"));
    command.arg("migrate");
    for (variable, _) in std::env::vars_os() {
        if variable.to_string_lossy().starts_with("EDGEPASS_") {
            command.env_remove(variable);
        }
    }
    let output = command
        .env("EDGEPASS_DATABASE_URL", url_for_database(&admin, &name))
        .env("EDGEPASS_DATA_DIR", data.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("the edgepass binary runs");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"));
    for part in [
        format!("database \"{name}\" does not exist"),
        "createdb -h ".to_owned(),
        format!(" {name})"),
        "EDGEPASS_DATABASE_URL".to_owned(),
    ] {
        assert!(line.contains(&part), "{part:?} in {line}");
    }
    // sqlx's rendering ended with the line of PostgreSQL's C source that raised the error.
    assert!(!line.contains(" at line "), "{line}");
}
