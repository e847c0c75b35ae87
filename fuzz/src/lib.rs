//! The fuzz crate: the library's outside-input parsers, compiled from the library's own source files,
//! and the harnesses that drive them (`harness.rs`).
//!
//! Why not depend on the `edgepass` crate: a fuzz build compiles every dependency with sanitizers and
//! coverage instrumentation, and the service's dependency tree (AWS SDK, sea-orm, s3s, poem-openapi)
//! took over an hour on the shared build machine. The parsers are pure modules that need none of it,
//! so they are compiled here from the very same files, under the same module paths, and `edgepass` is
//! made to name this crate. Only what those files need from the rest of the library is stood in for
//! below (`db::images::Position`, a plain struct). `tests/fuzz_regressions.rs` runs the same harnesses
//! against the real crate. Should one of these files start using another part of the library, add
//! that part here the same way.

// The harnesses say `edgepass::…` in both builds.
extern crate self as edgepass;

#[path = "../../src/domain.rs"]
pub mod domain;
#[path = "../../src/signing/mod.rs"]
pub mod signing;

pub mod services;
pub mod images;
pub mod keys;
pub mod local;

/// `edgepass::db`: the one listing type the cursor names.
pub mod db {
    /// `edgepass::db::images`.
    pub mod images {
        /// Stands in for `edgepass::db::images::Position` (whose module needs the database layer); the
        /// cursor only builds and reads these two fields.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Position {
            /// Its creation time.
            pub created_at: i64,
            /// Its id.
            pub id: crate::images::ImageId,
        }
    }
}

pub mod harness;
