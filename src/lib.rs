//! edgepass keeps users' images private in S3 and lets browsers load them through CloudFront with
//! signed cookies and signed URLs.

/// Building and running the service: configuration in, bound listeners, shared state, shutdown.
pub mod app;
/// Accounts and sessions: password hashing, session tokens, login throttling.
pub mod auth;
/// AWS: one client builder, the S3 object store and CloudFront's API (invalidations, key groups).
pub mod aws;
/// Signing CloudFront cookies and object URLs with the service's key ring.
pub mod cdn_signer;
/// The `edgepass` command line: parses arguments and prints.
pub mod cli;
/// The time, behind a trait so tests can move it.
pub mod clock;
/// Typed configuration from `EDGEPASS_*` variables, one part per concern, and the addresses bound at start-up.
pub mod config;
/// The browser's rules for a cookie's `Domain`: domain-matching and the public-suffix list.
pub mod cookie_domains;
/// The database: connection, migrations, entities and queries.
pub mod db;
/// `edgepass doctor`: the deployment the configuration describes, checked through the AWS APIs.
pub mod doctor;
/// Validated values that enter through the API (user ids, email addresses, passwords).
pub mod domain;
/// Explaining CloudFront's decisions on a browser's requests (`edgepass explain`): HAR files, the
/// browser's cookie jar, and the reasons for a denial.
pub mod explain;
/// The HTTP API: routes, handlers, their error answers, middleware and the demo gallery.
pub mod http;
/// Images: ids, object keys, content types, names, and the lifecycle of the stored objects.
pub mod images;
/// Signing keys outside the service: key files and the rules of a rotation.
pub mod keys;
/// Local mode: the embedded store, the generated key, the data folder and the local edge.
pub mod local;
/// The image URLs of S3 delivery: presigned GETs, memoized per expiry window.
pub mod presigned_gets;
/// The use cases (accounts, uploads, images, sharing, links) between the HTTP layer and the rest.
pub mod services;
/// The CloudFront signing core: policies, keys, signatures and the verifier (pure, no I/O).
pub mod signing;
/// Logs and metrics.
pub mod telemetry;
