//! A PostgreSQL database that does not exist, told as a person needs it: which one, on which server, and
//! the command that creates it.
//!
//! sqlx's own message for it reads `database "edgepass" does not exist at line 948`; the line is in
//! PostgreSQL's C source, which helps nobody who runs edgepass.

use std::str::FromStr;

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{DbErr, RuntimeErr};

/// PostgreSQL's SQLSTATE for "database does not exist" (`invalid_catalog_name`).
const INVALID_CATALOG_NAME: &str = "3D000";

/// The database `EDGEPASS_DATABASE_URL` names is not on its PostgreSQL server.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "EDGEPASS_DATABASE_URL: database {name:?} does not exist on the PostgreSQL server at {host}:{port}; \
     create it (createdb -h {host} -p {port} -U {user} {quoted}) or name one that exists",
    quoted = shell_word(name)
)]
pub struct MissingDatabase {
    /// The database's name.
    pub name: String,
    /// The server's host.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// The user edgepass connects as.
    pub user: String,
}

impl MissingDatabase {
    /// What `error`, met while connecting to `url`, says, if it says the database does not exist.
    pub fn of(url: &str, error: &DbErr) -> Option<Self> {
        let DbErr::Conn(RuntimeErr::SqlxError(error)) = error else {
            return None;
        };
        let code = error.as_database_error()?.code()?;
        if code != INVALID_CATALOG_NAME {
            return None;
        }
        let options = PgConnectOptions::from_str(url).ok()?;
        let user = options.get_username().to_owned();
        Some(Self {
            // Without a database in the URL, PostgreSQL looks for the one named after the user.
            name: options.get_database().unwrap_or(user.as_str()).to_owned(),
            host: options.get_host().to_owned(),
            port: options.get_port(),
            user,
        })
    }
}

/// `word` as one shell word: as it is when that is safe, in single quotes otherwise.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_database_and_server_and_how_to_create_it() {
        let missing = MissingDatabase {
            name: "edgepass".to_owned(),
            host: "db.internal".to_owned(),
            port: 5433,
            user: "app".to_owned(),
        };
        assert_eq!(
            missing.to_string(),
            "EDGEPASS_DATABASE_URL: database \"edgepass\" does not exist on the PostgreSQL server at \
             db.internal:5433; create it (createdb -h db.internal -p 5433 -U app edgepass) or name one that \
             exists"
        );
    }

    #[test]
    fn a_name_the_shell_would_split_is_quoted() {
        assert_eq!(shell_word("edgepass_test-1.x"), "edgepass_test-1.x");
        assert_eq!(shell_word("my db"), "'my db'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn other_errors_are_not_taken_for_a_missing_database() {
        let url = "postgres://postgres@127.0.0.1:5432/edgepass";
        assert_eq!(MissingDatabase::of(url, &DbErr::Custom("boom".to_owned())), None);
        let refused = DbErr::Conn(RuntimeErr::Internal("connection refused".to_owned()));
        assert_eq!(MissingDatabase::of(url, &refused), None);
    }
}
