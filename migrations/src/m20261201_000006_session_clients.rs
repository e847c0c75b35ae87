//! The client each session signed in from (the browser's `User-Agent`, cut short), so that the account
//! holder can tell their sessions apart when they list and end them.

use sea_orm_migration::prelude::*;

/// Adds `sessions.client`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_session_clients"
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Client,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::Client).string_len(200).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::Client)
                    .to_owned(),
            )
            .await
    }
}
