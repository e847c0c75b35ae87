//! argon2id password hashing, off the async runtime and bounded in concurrency.
//!
//! Each hash takes tens of milliseconds and ~19 MiB; a semaphore keeps a burst of logins from using
//! unbounded memory, and the work runs on the blocking pool so request handling never stalls.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::domain::Password;

/// Hashes and verifies passwords.
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
}

/// The hashing work could not run (the blocking pool is gone, as during shutdown).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

/// A hash to verify against when the email is unknown, so that unknown accounts and wrong passwords take
/// the same time.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now("edgepass decoy password").unwrap_or_default())
}

fn hash_now(password: &str) -> Result<String, HashingError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashingError("no randomness".to_owned()))?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashingError(e.to_string()))
}

impl PasswordHashing {
    /// At most `concurrency` hashes at a time.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashingError(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashingError(e.to_string()))
    }

    /// The argon2id PHC string for a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, HashingError> {
        let password = password.expose().to_owned();
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `stored` (an argon2 PHC string); with `None` (no such account) it spends
    /// the same effort and answers `false`.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, HashingError> {
        let password = password.to_owned();
        self.run(move || {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| decoy_hash().to_owned());
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok();
            known && matches
        })
        .await
    }

    /// Computes the decoy hash ahead of the first login, so that login does not pay for it.
    pub async fn warm_up(&self) -> Result<(), HashingError> {
        self.run(|| {
            decoy_hash();
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashing = PasswordHashing::new(2);
        let password = Password::parse("correct horse battery".to_owned()).expect("password");
        let hash = hashing.hash(&password).await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            hashing
                .verify("correct horse battery", Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hashing
                .verify("wrong horse battery", Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !hashing
                .verify("edgepass decoy password", None)
                .await
                .expect("verify"),
            "unknown accounts never match"
        );
    }
}
