//! edgepass's database migrations; the same ones run on SQLite and PostgreSQL.
//!
//! Timestamps are stored as epoch seconds (`BIGINT`), which both databases compare and index the same way
//! and which match CloudFront's own epoch times.

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Schema, Statement};
use sea_orm_migration::seaql_migrations;

mod m20261128_000001_accounts;
mod m20261128_000002_images;
mod m20261128_000003_shares;
mod m20261128_000004_share_links;
mod m20261130_000005_albums;
mod m20261201_000006_session_clients;
mod m20261201_000007_account_deletion;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_accounts::Migration),
            Box::new(m20261128_000002_images::Migration),
            Box::new(m20261128_000003_shares::Migration),
            Box::new(m20261128_000004_share_links::Migration),
            Box::new(m20261130_000005_albums::Migration),
            Box::new(m20261201_000006_session_clients::Migration),
            Box::new(m20261201_000007_account_deletion::Migration),
        ]
    }

    /// Creates the table that records applied migrations when it is missing, and only then.
    ///
    /// The default runs `CREATE TABLE IF NOT EXISTS` each time it is called, and `up` calls it four
    /// times. PostgreSQL answers each call that finds the table with a notice ("relation
    /// \"seaql_migrations\" already exists, skipping"), which sqlx logs: three lines in the log of
    /// every start on a fresh database, four on any other. Asking the catalog first is silent.
    async fn install<C>(db: &C) -> Result<(), DbErr>
    where
        C: ConnectionTrait,
    {
        let backend = db.get_database_backend();
        let table = Self::migration_table_name().to_string();
        let probe = match backend {
            // Resolved through the search path, as the unqualified CREATE TABLE below is.
            DbBackend::Postgres => Some(Statement::from_sql_and_values(
                backend,
                "SELECT 1 WHERE to_regclass($1) IS NOT NULL",
                [table.clone().into()],
            )),
            DbBackend::Sqlite => Some(Statement::from_sql_and_values(
                backend,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                [table.clone().into()],
            )),
            _ => None,
        };
        if let Some(probe) = probe
            && db.query_one_raw(probe).await?.is_some()
        {
            return Ok(());
        }
        let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
        create.if_not_exists();
        db.execute(&create).await?;
        Ok(())
    }
}
