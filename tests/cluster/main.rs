//! Many instances on one database and one bucket: edgepass processes (the binary cargo built) on a
//! PostgreSQL database of their own, with moto's server as S3 and CloudFront, behind haproxy,
//! round-robin and health-checked on `/readyz` — the production shape, on one machine.
//!
//! Each check starts its own cluster and proves one promise of the stateless design: sessions and
//! logout, throttles and quotas under concurrency, sweepers racing each other, a move whose instance
//! dies, invalidations retried by another instance.
//!
//! The checks need PostgreSQL (`EDGEPASS_TEST_DATABASE_URL`, a server on which they may create
//! databases) and haproxy (`scripts/setup` installs it), so they are ignored by a plain `cargo test`;
//! `scripts/test` runs them when PostgreSQL is configured, and `scripts/cluster` runs them with more
//! instances and more load. `EDGEPASS_CLUSTER_INSTANCES` sets the number of instances (default 3).

mod harness;

mod invalidations;
mod limits;
mod load;
mod moves;
mod outages;
mod sessions;
mod soak;
mod sweeper;
