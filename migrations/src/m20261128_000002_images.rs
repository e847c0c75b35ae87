//! Images: one row per upload, from the presigned URL to deletion.

use sea_orm_migration::prelude::*;

/// Creates `images`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000002_images"
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
    OwnerId,
    ObjectKey,
    Visibility,
    Location,
    Status,
    ContentType,
    ByteSize,
    OriginalName,
    CreatedAt,
    UploadExpiresAt,
    Changes,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Images::Table)
                    .col(ColumnDef::new(Images::Id).string_len(26).not_null().primary_key())
                    .col(ColumnDef::new(Images::OwnerId).big_integer().not_null())
                    .col(ColumnDef::new(Images::ObjectKey).string_len(128).not_null())
                    .col(ColumnDef::new(Images::Visibility).string_len(16).not_null())
                    .col(ColumnDef::new(Images::Location).string_len(24).not_null())
                    .col(ColumnDef::new(Images::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Images::ContentType).string_len(32).not_null())
                    .col(ColumnDef::new(Images::ByteSize).big_integer().not_null())
                    .col(ColumnDef::new(Images::OriginalName).string_len(255).not_null())
                    .col(ColumnDef::new(Images::CreatedAt).big_integer().not_null())
                    // Every row has one, so the sweeper can always tell when an unfinished upload is
                    // abandoned.
                    .col(ColumnDef::new(Images::UploadExpiresAt).big_integer().not_null())
                    // Numbers each visibility change and deletion; CloudFront caller references are built
                    // from it, so a retried step repeats the same invalidation.
                    .col(
                        ColumnDef::new(Images::Changes)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Images::LeaseUntil).big_integer().null())
                    // Restrict, not cascade: removing an account must remove its objects first.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_images_owner")
                            .from(Images::Table, Images::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The gallery: one owner's ready images, newest first, by (created_at, id) cursor.
        manager
            .create_index(
                Index::create()
                    .name("idx_images_owner_status_created")
                    .table(Images::Table)
                    .col(Images::OwnerId)
                    .col(Images::Status)
                    .col(Images::CreatedAt)
                    .col(Images::Id)
                    .to_owned(),
            )
            .await?;
        // The sweeper: abandoned uploads by expiry, unfinished moves by location.
        manager
            .create_index(
                Index::create()
                    .name("idx_images_status_upload_expires")
                    .table(Images::Table)
                    .col(Images::Status)
                    .col(Images::UploadExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_images_location")
                    .table(Images::Table)
                    .col(Images::Location)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Images::Table).to_owned())
            .await
    }
}
