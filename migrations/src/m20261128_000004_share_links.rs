//! Share links: expiring, revocable links to one image for anyone who holds them.

use sea_orm_migration::prelude::*;

/// Creates `share_links`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000004_share_links"
    }
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ShareLinks {
    Table,
    Id,
    ImageId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShareLinks::Table)
                    .col(
                        ColumnDef::new(ShareLinks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ShareLinks::ImageId).string_len(26).not_null())
                    // SHA-256 of the token; the token itself is only ever in the link.
                    .col(
                        ColumnDef::new(ShareLinks::TokenHash)
                            .binary_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ShareLinks::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ShareLinks::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(ShareLinks::RevokedAt).big_integer().null())
                    // A link goes with its image.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_share_links_image")
                            .from(ShareLinks::Table, ShareLinks::ImageId)
                            .to(Images::Table, Images::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_share_links_image")
                    .table(ShareLinks::Table)
                    .col(ShareLinks::ImageId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ShareLinks::Table).to_owned())
            .await
    }
}
