//! Albums: an owner's named groups of images, each shared as a whole with other users, and the album
//! cookie sets each session was given. Images gain their album and the destination of a move.

use sea_orm_migration::prelude::*;

/// Creates `albums`, `album_shares` and `album_cookie_sets`; adds `images.album_id`,
/// `images.moving_to` and `sessions.album_sets`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000005_albums"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AlbumSets,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    AlbumId,
    MovingTo,
}

#[derive(DeriveIden)]
enum Albums {
    Table,
    Id,
    OwnerId,
    Name,
    CreatedAt,
    DeletingSince,
    DeleteImages,
}

#[derive(DeriveIden)]
enum AlbumShares {
    Table,
    AlbumId,
    GranteeId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AlbumCookieSets {
    Table,
    SessionId,
    AlbumId,
    OwnerId,
    Seq,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Albums::Table)
                    .col(ColumnDef::new(Albums::Id).string_len(26).not_null().primary_key())
                    .col(ColumnDef::new(Albums::OwnerId).big_integer().not_null())
                    .col(ColumnDef::new(Albums::Name).string_len(255).not_null())
                    .col(ColumnDef::new(Albums::CreatedAt).big_integer().not_null())
                    // Set when the owner deleted it: the album is gone for everyone, and the job that
                    // empties it (moving or deleting its images) finishes on retry or in the sweep.
                    .col(ColumnDef::new(Albums::DeletingSince).big_integer().null())
                    .col(
                        ColumnDef::new(Albums::DeleteImages)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_albums_owner")
                            .from(Albums::Table, Albums::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_albums_owner")
                    .table(Albums::Table)
                    .col(Albums::OwnerId)
                    .col(Albums::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlbumShares::Table)
                    .col(ColumnDef::new(AlbumShares::AlbumId).string_len(26).not_null())
                    .col(ColumnDef::new(AlbumShares::GranteeId).big_integer().not_null())
                    .col(ColumnDef::new(AlbumShares::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(AlbumShares::ExpiresAt).big_integer().null())
                    .primary_key(
                        Index::create()
                            .col(AlbumShares::AlbumId)
                            .col(AlbumShares::GranteeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_album_shares_album")
                            .from(AlbumShares::Table, AlbumShares::AlbumId)
                            .to(Albums::Table, Albums::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_album_shares_grantee")
                            .from(AlbumShares::Table, AlbumShares::GranteeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_album_shares_grantee")
                    .table(AlbumShares::Table)
                    .col(AlbumShares::GranteeId)
                    .col(AlbumShares::AlbumId)
                    .to_owned(),
            )
            .await?;
        // No foreign key to albums: a set minted for an album outlives the album in the browser, and
        // its row is what lets a later response expire it at the right Path.
        manager
            .create_table(
                Table::create()
                    .table(AlbumCookieSets::Table)
                    .col(
                        ColumnDef::new(AlbumCookieSets::SessionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AlbumCookieSets::AlbumId).string_len(26).not_null())
                    .col(ColumnDef::new(AlbumCookieSets::OwnerId).big_integer().not_null())
                    // The order of mints within the session, finer than a second.
                    .col(ColumnDef::new(AlbumCookieSets::Seq).big_integer().not_null())
                    .col(
                        ColumnDef::new(AlbumCookieSets::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(AlbumCookieSets::SessionId)
                            .col(AlbumCookieSets::AlbumId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_album_cookie_sets_session")
                            .from(AlbumCookieSets::Table, AlbumCookieSets::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Images::Table)
                    .add_column(ColumnDef::new(Images::AlbumId).string_len(26).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Images::Table)
                    .add_column(ColumnDef::new(Images::MovingTo).string_len(200).null())
                    .to_owned(),
            )
            .await?;
        // Whether the session was ever given an album set: a refresh of the session's own set looks
        // for album sets to expire only then.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(
                        ColumnDef::new(Sessions::AlbumSets)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_images_album")
                    .table(Images::Table)
                    .col(Images::AlbumId)
                    .to_owned(),
            )
            .await?;
        // A move begun before this migration knows its destination by its location alone; both
        // databases build the same key the code would (`public/{file}` / `users/{owner}/{file}`).
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE images SET moving_to = 'public/' || substr(object_key, length('users/' || owner_id || '/') + 1) \
             WHERE location = 'copying_to_public'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE images SET moving_to = 'users/' || owner_id || '/' || substr(object_key, 8) \
             WHERE location = 'copying_to_private'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_images_album")
                    .table(Images::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AlbumSets)
                    .to_owned(),
            )
            .await?;
        for column in [Images::MovingTo, Images::AlbumId] {
            manager
                .alter_table(Table::alter().table(Images::Table).drop_column(column).to_owned())
                .await?;
        }
        for table in [
            AlbumCookieSets::Table.into_iden(),
            AlbumShares::Table.into_iden(),
            Albums::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
