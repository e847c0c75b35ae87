//! edgepass's HTTP API end to end: each test starts the service on a free port with its own data folder,
//! database and clock, and talks to it over HTTP.
//!
//! SQLite by default; with `EDGEPASS_TEST_DATABASE_URL=postgres://…` every test gets a PostgreSQL database
//! of its own, created through that URL and dropped afterwards.

mod account;
mod account_deletion;
mod albums;
mod auth;
mod cdn;
mod csrf;
mod edge;
mod errors;
mod gallery;
mod health;
mod helpers;
mod hostile;
pub(crate) mod images;
mod links;
mod migrations;
mod postgres;
mod process;
mod rotation;
mod s3_delivery;
mod sessions;
mod shares;
mod shutdown;
mod throttle;
