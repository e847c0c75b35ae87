//! Where state lives: `EDGEPASS_DATA_DIR` and `EDGEPASS_DATABASE_URL`.

use std::path::PathBuf;

use super::settings::{ConfigError, Secret, Settings, error};

/// The data folder and the database.
pub(super) struct Database {
    pub(super) data_dir: PathBuf,
    pub(super) url: Secret,
}

impl Database {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(s.text("EDGEPASS_DATA_DIR").unwrap_or("./edgepass-data"));
        let url = match s.text("EDGEPASS_DATABASE_URL") {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url.to_owned()
            }
            Some(_) => {
                return Err(error(
                    "EDGEPASS_DATABASE_URL",
                    "must start with sqlite:, postgres:// or postgresql://",
                ));
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("edgepass.db").display()),
        };
        Ok(Self {
            data_dir,
            url: Secret::new(url),
        })
    }
}
