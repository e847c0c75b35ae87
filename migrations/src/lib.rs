//! edgepass's database migrations; the same ones run on SQLite and PostgreSQL.
//!
//! Timestamps are stored as epoch seconds (`BIGINT`), which both databases compare and index the same way
//! and which match CloudFront's own epoch times.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_accounts;
mod m20261128_000002_images;
mod m20261128_000003_shares;
mod m20261128_000004_share_links;

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
        ]
    }
}
