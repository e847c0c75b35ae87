//! When an account's deletion began: the account is gone for everyone from then on, and the deletion of
//! its objects and rows, a resumable job, is finished by the request that began it or by the sweep.

use sea_orm_migration::prelude::*;

/// Adds `users.deleting_since`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000007_account_deletion"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    DeletingSince,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::DeletingSince).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DeletingSince)
                    .to_owned(),
            )
            .await
    }
}
