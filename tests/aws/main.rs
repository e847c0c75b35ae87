//! edgepass's S3 and CloudFront wrappers, and the `edgepass keys` commands, against moto, an emulator of
//! the AWS APIs: the same calls the service and its operators make in production, over HTTP, without an
//! AWS account.
//!
//! Each test starts its own `moto_server` (installed by `scripts/setup`, which `scripts/test` runs) and
//! stops it when the test ends, passed or panicked. moto does not check presigned signatures, so these
//! tests show that the calls work, not that a store enforces what a presigned URL pins; `tests/storage/`
//! checks that against the embedded store of local mode, which does.

mod cdn;
mod doctor;
mod keys;
mod kms;
mod kms_service;
mod moto;
mod storage;
