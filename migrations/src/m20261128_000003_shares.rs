//! Shares: an owner lets another user see one image, until an optional expiry.

use sea_orm_migration::prelude::*;

/// Creates `shares`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000003_shares"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shares {
    Table,
    ImageId,
    GranteeId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Shares::Table)
                    .col(ColumnDef::new(Shares::ImageId).string_len(26).not_null())
                    .col(ColumnDef::new(Shares::GranteeId).big_integer().not_null())
                    .col(ColumnDef::new(Shares::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Shares::ExpiresAt).big_integer().null())
                    // One grant per (image, grantee): granting again changes its expiry.
                    .primary_key(Index::create().col(Shares::ImageId).col(Shares::GranteeId))
                    // A grant goes with its image or its grantee.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shares_image")
                            .from(Shares::Table, Shares::ImageId)
                            .to(Images::Table, Images::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shares_grantee")
                            .from(Shares::Table, Shares::GranteeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // "Shared with me": one grantee's grants.
        manager
            .create_index(
                Index::create()
                    .name("idx_shares_grantee")
                    .table(Shares::Table)
                    .col(Shares::GranteeId)
                    .col(Shares::ImageId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Shares::Table).to_owned())
            .await
    }
}
