//! edgepass keeps users' images private in S3 and lets browsers load them through CloudFront with
//! signed cookies and signed URLs.

pub mod app;
pub mod auth;
pub mod aws;
pub mod cdn_signer;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod images;
pub mod keys;
pub mod local;
pub mod metrics;
pub mod signing;
pub mod telemetry;
