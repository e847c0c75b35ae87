//! Turning a policy into a signed URL or a signed cookie set.

use std::sync::Arc;

use super::cookies::{PolicyCookie, SignedCookies};
use super::error::SignError;
use super::key::SigningKey;
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

    /// `url` with the signing parameters for `policy` (whose JSON is `json`) and `signature`.
    fn signed_url(&self, url: &str, policy: &Policy, json: &str, signature: &str) -> String {
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
            ("Key-Pair-Id", self.key.key_pair_id().as_str()),
        ];
        if self.hash == HashAlgorithm::Sha256 {
            params.push(("Hash-Algorithm", self.hash.as_str()));
        }
        append_query(url, &params)
    }

    /// Signs a cookie set for `policy`: canned (`CloudFront-Expires`) when the policy can be canned,
    /// custom (`CloudFront-Policy`) otherwise.
    pub fn sign_cookies(&self, policy: &Policy) -> Result<SignedCookies, SignError> {
        let json = policy.to_json();
        let signature = self.signature(&json)?;
        let policy_cookie = if policy.can_be_canned() {
            PolicyCookie::Expires(policy.date_less_than())
        } else {
            PolicyCookie::Policy(encoding::encode(json.as_bytes()))
        };
        Ok(SignedCookies {
            policy: policy_cookie,
            signature,
            key_pair_id: self.key.key_pair_id().as_str().to_owned(),
            hash: self.hash,
        })
    }
}
