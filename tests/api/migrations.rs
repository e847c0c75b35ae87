//! Migrations over data: a move recorded before albums knew only its location; the album migration
//! gives it the destination key the code now reads, on SQLite and (in the PostgreSQL pass) PostgreSQL.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::helpers::{POSTGRES_VARIABLE, ScratchDatabase};

/// Migrations before the album one.
const BEFORE_ALBUMS: u32 = 4;

async fn moves_get_their_destination(db: &DatabaseConnection) {
    Migrator::up(db, Some(BEFORE_ALBUMS))
        .await
        .expect("migrations before albums");
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(
        backend,
        "INSERT INTO users (id, email, password_hash, created_at) VALUES (42, 'a@example.com', 'x', 0)",
    ))
    .await
    .expect("user");
    for (id, key, location) in [
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaa",
            "users/42/aaaaaaaaaaaaaaaaaaaaaaaaaa.png",
            "copying_to_public",
        ),
        (
            "bbbbbbbbbbbbbbbbbbbbbbbbbb",
            "public/bbbbbbbbbbbbbbbbbbbbbbbbbb.jpg",
            "copying_to_private",
        ),
        (
            "cccccccccccccccccccccccccc",
            "users/42/cccccccccccccccccccccccccc.gif",
            "private",
        ),
    ] {
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO images (id, owner_id, object_key, visibility, location, status, content_type, \
                 byte_size, original_name, created_at, upload_expires_at, changes) VALUES \
                 ('{id}', 42, '{key}', 'public', '{location}', 'ready', 'image/png', 1, 'a', 0, 0, 1)"
            ),
        ))
        .await
        .expect("image");
    }
    Migrator::up(db, None).await.expect("the album migration");
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, moving_to FROM images ORDER BY id",
        ))
        .await
        .expect("read");
    let moving_to: Vec<Option<String>> = rows
        .iter()
        .map(|row| row.try_get::<Option<String>>("", "moving_to").expect("moving_to"))
        .collect();
    assert_eq!(
        moving_to,
        vec![
            Some("public/aaaaaaaaaaaaaaaaaaaaaaaaaa.png".to_owned()),
            Some("users/42/bbbbbbbbbbbbbbbbbbbbbbbbbb.jpg".to_owned()),
            None,
        ]
    );
    Migrator::down(db, Some(1))
        .await
        .expect("the album migration undone");
}

#[tokio::test]
async fn the_album_migration_gives_unfinished_moves_their_destination_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.expect("sqlite");
    moves_get_their_destination(&db).await;
}

#[tokio::test]
async fn the_album_migration_gives_unfinished_moves_their_destination_on_postgresql() {
    let Some(admin) = std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("{POSTGRES_VARIABLE} is not set: nothing to check without PostgreSQL");
        return;
    };
    let database = ScratchDatabase::create(admin.trim(), "edgepass_test").await;
    let db = Database::connect(database.url.as_str()).await.expect("postgres");
    moves_get_their_destination(&db).await;
    db.close().await.expect("close");
    drop(database);
}
