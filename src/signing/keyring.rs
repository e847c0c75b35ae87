//! Several keys by key-pair id: one signs, all verify.
//!
//! Rotation: add the new key, make it active, and retire the old one once everything it signed has
//! expired (the longest lifetime issued plus clock margin).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::KeyError;
use super::key::{KeyPairId, SigningKey, VerifyingKey};

/// Finds the public key for a `Key-Pair-Id`.
pub trait KeyLookup {
    /// The trusted key with this id, if any.
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey>;
}

/// Why a key-ring operation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    /// No key with that id is in the ring.
    #[error("no key {0} in the key ring")]
    UnknownKey(KeyPairId),
    /// Retiring the key that signs would leave nothing to sign with.
    #[error("key {0} is the active signing key; activate another key before retiring it")]
    RetiringActiveKey(KeyPairId),
    /// Two keys may not share an id.
    #[error("key {0} is already in the key ring")]
    DuplicateKey(KeyPairId),
    /// The key's public half could not be derived.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The signing keys (one of them active) and any further public keys trusted for verification.
#[derive(Debug)]
pub struct KeyRing {
    active: Arc<SigningKey>,
    signing: BTreeMap<KeyPairId, Arc<SigningKey>>,
    verifying: BTreeMap<KeyPairId, VerifyingKey>,
}

impl KeyRing {
    /// A ring whose only key is `active`.
    pub fn new(active: SigningKey) -> Result<Self, KeyRingError> {
        let id = active.key_pair_id().clone();
        let verifying = active.verifying_key()?;
        let active = Arc::new(active);
        Ok(Self {
            signing: BTreeMap::from([(id.clone(), Arc::clone(&active))]),
            verifying: BTreeMap::from([(id, verifying)]),
            active,
        })
    }

    /// Adds a private key (it verifies at once and can be activated later).
    pub fn add_signing_key(&mut self, key: SigningKey) -> Result<(), KeyRingError> {
        let id = key.key_pair_id().clone();
        if self.verifying.contains_key(&id) {
            return Err(KeyRingError::DuplicateKey(id));
        }
        self.verifying.insert(id.clone(), key.verifying_key()?);
        self.signing.insert(id, Arc::new(key));
        Ok(())
    }

    /// Trusts a public key whose private half lives elsewhere (for example another deployment).
    pub fn add_verifying_key(&mut self, key: VerifyingKey) -> Result<(), KeyRingError> {
        let id = key.key_pair_id().clone();
        if self.verifying.contains_key(&id) {
            return Err(KeyRingError::DuplicateKey(id));
        }
        self.verifying.insert(id, key);
        Ok(())
    }

    /// Makes the private key with this id the one that signs.
    pub fn activate(&mut self, key_pair_id: &KeyPairId) -> Result<(), KeyRingError> {
        let key = self
            .signing
            .get(key_pair_id)
            .ok_or_else(|| KeyRingError::UnknownKey(key_pair_id.clone()))?;
        self.active = Arc::clone(key);
        Ok(())
    }

    /// Stops trusting a key; its signatures are denied from now on.
    pub fn retire(&mut self, key_pair_id: &KeyPairId) -> Result<(), KeyRingError> {
        if self.active.key_pair_id() == key_pair_id {
            return Err(KeyRingError::RetiringActiveKey(key_pair_id.clone()));
        }
        if self.verifying.remove(key_pair_id).is_none() {
            return Err(KeyRingError::UnknownKey(key_pair_id.clone()));
        }
        self.signing.remove(key_pair_id);
        Ok(())
    }

    /// The key that signs.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The ids of every trusted key.
    pub fn key_pair_ids(&self) -> impl Iterator<Item = &KeyPairId> {
        self.verifying.keys()
    }
}

impl KeyLookup for KeyRing {
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey> {
        let id = KeyPairId::parse(key_pair_id).ok()?;
        self.verifying.get(&id)
    }
}

/// A plain set of trusted public keys, e.g. for `edgepass verify`.
impl KeyLookup for [VerifyingKey] {
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey> {
        self.iter().find(|key| key.key_pair_id().as_str() == key_pair_id)
    }
}

/// One trusted key, such as the public half of a key held in KMS.
impl KeyLookup for VerifyingKey {
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey> {
        (self.key_pair_id().as_str() == key_pair_id).then_some(self)
    }
}

impl KeyLookup for Vec<VerifyingKey> {
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey> {
        self.as_slice().verifying_key(key_pair_id)
    }
}
