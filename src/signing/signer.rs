//! Turning a policy into a signed URL or a signed cookie set.

use std::sync::Arc;

use super::cookies::{PolicyCookie, SignedCookies};
use super::error::SignError;
use super::key::{KeyPairId, SigningKey};
use super::memo::SignatureMemo;
use super::policy::Policy;
use super::url::{append_query, check_url};
use super::{HashAlgorithm, encoding};

/// Signs policies with one key and one hash, optionally through a [`SignatureMemo`].
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    key: &'a SigningKey,
    hash: HashAlgorithm,
    memo: Option<&'a SignatureMemo>,
}

impl<'a> Signer<'a> {
    /// A signer for `key` over `hash`.
    pub fn new(key: &'a SigningKey, hash: HashAlgorithm) -> Self {
        Self {
            key,
            hash,
            memo: None,
        }
    }

    /// Serves repeated policies from `memo`.
    pub fn with_memo(mut self, memo: &'a SignatureMemo) -> Self {
        self.memo = Some(memo);
        self
    }

    /// The key in use.
    pub fn key(&self) -> &'a SigningKey {
        self.key
    }

    /// The hash in use.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The CloudFront-base64 signature of the policy JSON.
    fn signature(&self, policy_json: &str) -> Result<Arc<str>, SignError> {
        let sign = || self.sign_json(policy_json);
        match self.memo {
            Some(memo) => memo.get_or_sign(
                self.key.key_pair_id().as_str(),
                self.hash,
                policy_json.as_bytes(),
                sign,
            ),
            None => sign(),
        }
    }

    /// Stores in the memo, ahead of need, the signature that [`Signer::sign_url`] or
    /// [`Signer::sign_cookies`] will want for `policy`; returns whether it had to sign (false when it
    /// was stored already, or there is no memo).
    pub fn sign_ahead(&self, policy: &Policy) -> Result<bool, SignError> {
        let Some(memo) = self.memo else {
            return Ok(false);
        };
        let json = policy.to_json();
        memo.sign_ahead(
            self.key.key_pair_id().as_str(),
            self.hash,
            json.as_bytes(),
            || self.sign_json(&json),
        )
    }

    fn sign_json(&self, policy_json: &str) -> Result<Arc<str>, SignError> {
        self.key
            .sign(self.hash, policy_json.as_bytes())
            .map(|raw| Arc::from(encoding::encode(&raw)))
    }

    /// Signs `url` under `policy`.
    ///
    /// The policy travels canned (`Expires`) when it can and its resource is exactly `url`, and custom
    /// (`Policy`) otherwise, as `aws cloudfront sign` decides. Parameters come in botocore's order:
    /// `Expires`|`Policy`, `Signature`, `Key-Pair-Id`, then `Hash-Algorithm` for SHA-256 only.
    pub fn sign_url(&self, url: &str, policy: &Policy) -> Result<String, SignError> {
        check_url(url)?;
        let json = policy.to_json();
        let signature = self.signature(&json)?;
        Ok(self.signed_url(url, policy, &json, &signature))
    }

    /// The signed URL [`Signer::sign_url`] would return, if its signature is in the memo; `None`
    /// when it is not (or there is no memo), without signing. Lets a caller answer memoized URLs at
    /// once and send only the rest to be signed elsewhere.
    pub fn memoized_url(&self, url: &str, policy: &Policy) -> Result<Option<String>, SignError> {
        check_url(url)?;
        let Some(memo) = self.memo else {
            return Ok(None);
        };
        let json = policy.to_json();
        Ok(memo
            .get(self.key.key_pair_id().as_str(), self.hash, json.as_bytes())
            .map(|signature| self.signed_url(url, policy, &json, &signature)))
    }

    fn signed_url(&self, url: &str, policy: &Policy, json: &str, signature: &str) -> String {
        assemble_url(self.key.key_pair_id(), self.hash, url, policy, json, signature)
    }

    /// Signs a cookie set for `policy`: canned (`CloudFront-Expires`) when the policy can be canned,
    /// custom (`CloudFront-Policy`) otherwise.
    pub fn sign_cookies(&self, policy: &Policy) -> Result<SignedCookies, SignError> {
        let json = policy.to_json();
        let signature = self.signature(&json)?;
        Ok(assemble_cookies(
            self.key.key_pair_id(),
            self.hash,
            policy,
            &json,
            signature,
        ))
    }
}

/// Signed URLs and cookie sets whose signatures are made elsewhere, by a key that never enters the
/// process (one held in AWS KMS): the caller signs the policy JSON itself when
/// [`RemoteSigner::memoized`] has no signature, and hands the raw signature to
/// [`RemoteSigner::store`]. The URLs and cookies are the same as [`Signer`] gives.
#[derive(Clone, Copy, Debug)]
pub struct RemoteSigner<'a> {
    key_pair_id: &'a KeyPairId,
    hash: HashAlgorithm,
    memo: &'a SignatureMemo,
}

impl<'a> RemoteSigner<'a> {
    /// Signatures by the key `key_pair_id` over `hash`, kept in `memo`.
    pub fn new(key_pair_id: &'a KeyPairId, hash: HashAlgorithm, memo: &'a SignatureMemo) -> Self {
        Self {
            key_pair_id,
            hash,
            memo,
        }
    }

    /// The memo's signature of `policy_json` (counted as a hit), if it has one.
    pub fn memoized(&self, policy_json: &str) -> Option<Arc<str>> {
        self.memo
            .get(self.key_pair_id.as_str(), self.hash, policy_json.as_bytes())
    }

    /// Stores the raw signature `raw` of `policy_json`, made by the remote key (counted as a miss),
    /// and returns it CloudFront-base64 encoded.
    pub fn store(&self, policy_json: &str, raw: &[u8]) -> Arc<str> {
        let signature: Arc<str> = Arc::from(encoding::encode(raw));
        let stored = self.memo.get_or_sign(
            self.key_pair_id.as_str(),
            self.hash,
            policy_json.as_bytes(),
            || Ok::<_, SignError>(Arc::clone(&signature)),
        );
        stored.unwrap_or(signature)
    }

    /// `url` signed under `policy` (whose JSON is `json`) with `signature`, as [`Signer::sign_url`]
    /// gives it.
    pub fn url(&self, url: &str, policy: &Policy, json: &str, signature: &str) -> Result<String, SignError> {
        check_url(url)?;
        Ok(assemble_url(
            self.key_pair_id,
            self.hash,
            url,
            policy,
            json,
            signature,
        ))
    }

    /// The cookie set for `policy` (whose JSON is `json`) with `signature`, as
    /// [`Signer::sign_cookies`] gives it.
    pub fn cookies(&self, policy: &Policy, json: &str, signature: Arc<str>) -> SignedCookies {
        assemble_cookies(self.key_pair_id, self.hash, policy, json, signature)
    }
}

/// `url` with the signing parameters for `policy` (whose JSON is `json`) and `signature`.
fn assemble_url(
    key_pair_id: &KeyPairId,
    hash: HashAlgorithm,
    url: &str,
    policy: &Policy,
    json: &str,
    signature: &str,
) -> String {
    let expires;
    let encoded_policy;
    let first = if policy.can_be_canned() && policy.resource() == url {
        expires = policy.date_less_than().to_string();
        ("Expires", expires.as_str())
    } else {
        encoded_policy = encoding::encode(json.as_bytes());
        ("Policy", encoded_policy.as_str())
    };
    let mut params = vec![
        first,
        ("Signature", signature),
        ("Key-Pair-Id", key_pair_id.as_str()),
    ];
    if hash == HashAlgorithm::Sha256 {
        params.push(("Hash-Algorithm", hash.as_str()));
    }
    append_query(url, &params)
}

/// The cookie set for `policy` (whose JSON is `json`) with `signature`: canned (`CloudFront-Expires`)
/// when the policy can be canned, custom (`CloudFront-Policy`) otherwise.
fn assemble_cookies(
    key_pair_id: &KeyPairId,
    hash: HashAlgorithm,
    policy: &Policy,
    json: &str,
    signature: Arc<str>,
) -> SignedCookies {
    let policy_cookie = if policy.can_be_canned() {
        PolicyCookie::Expires(policy.date_less_than())
    } else {
        PolicyCookie::Policy(encoding::encode(json.as_bytes()))
    };
    SignedCookies {
        policy: policy_cookie,
        signature,
        key_pair_id: key_pair_id.as_str().to_owned(),
        hash,
    }
}
