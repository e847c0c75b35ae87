//! edgepass keeps users' images private in S3 and lets browsers load them through CloudFront with
//! signed cookies and signed URLs.

pub mod app;
pub mod auth;
pub mod cdn;
pub mod cdn_cookies;
pub mod cli;
pub mod clock;
pub mod config;
pub mod data_dir;
pub mod db;
pub mod domain;
pub mod edge;
pub mod error;
pub mod error_chain;
pub mod http;
pub mod images;
pub mod key_files;
pub mod key_group;
pub mod local_key;
pub mod local_store;
pub mod metrics;
pub mod signing;
pub mod storage;
pub mod telemetry;
