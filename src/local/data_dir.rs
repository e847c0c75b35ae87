//! The data folder of local mode (SQLite file, generated signing key, embedded store's objects), kept
//! readable by edgepass's own user only, whatever the umask.
//!
//! The folder is made `0700` at every start, which alone keeps everything inside it from other users:
//! files that other code creates (the embedded store's objects and their metadata sidecars, which s3s-fs
//! writes with the umask's modes) are protected by it. The files edgepass owns directly are `0600` as
//! well: the SQLite database is created with that mode before SQLite opens it, and SQLite gives its
//! `-wal`, `-shm` and `-journal` files the database file's mode.

use std::io;
use std::path::{Path, PathBuf};

/// The mode of the data folder and the folders edgepass makes inside it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of the files edgepass keeps in the data folder.
pub const FILE_MODE: u32 = 0o600;

/// The files SQLite keeps beside a database file.
const SQLITE_COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `dir` (and any missing parent) readable by its owner only, and narrows an existing folder
/// to that.
pub fn prepare(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)?;
    narrow(dir, DIR_MODE)
}

/// Makes sure the SQLite database at `file` and its companion files are readable by their owner only,
/// creating the database file empty (SQLite takes an empty file for a new database) when it is missing.
pub fn prepare_sqlite_file(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(file)?;
    narrow(file, FILE_MODE)?;
    for suffix in SQLITE_COMPANIONS {
        let mut companion = file.as_os_str().to_owned();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if companion.exists() {
            narrow(&companion, FILE_MODE)?;
        }
    }
    Ok(())
}

/// Makes an existing file readable by its owner only.
pub fn restrict_file(file: &Path) -> io::Result<()> {
    narrow(file, FILE_MODE)
}

/// The database file a `sqlite:` URL names, if it names one (not an in-memory database).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    let in_memory =
        path.is_empty() || path.starts_with(":memory:") || query.split('&').any(|pair| pair == "mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

#[cfg(unix)]
fn narrow(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::info!(
            path = %path.display(),
            from = format!("{current:o}"),
            to = format!("{mode:o}"),
            "data folder: narrowed permissions to the owner only"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_open_folder_and_database_are_narrowed_to_the_owner() {
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).expect("create");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let db = dir.join("edgepass.db");
        let wal = dir.join("edgepass.db-wal");
        for file in [&db, &wal] {
            std::fs::write(file, b"").expect("write");
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        }

        prepare(&dir).expect("prepare");
        prepare_sqlite_file(&db).expect("database");

        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);
    }

    #[test]
    fn sqlite_urls_name_their_file_and_in_memory_ones_none() {
        assert_eq!(
            sqlite_file("sqlite://./data/edgepass.db?mode=rwc"),
            Some(PathBuf::from("./data/edgepass.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/e.db"),
            Some(PathBuf::from("/var/lib/e.db"))
        );
        assert_eq!(sqlite_file("sqlite:e.db"), Some(PathBuf::from("e.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_file("postgres://db/edgepass"), None);
    }
}
