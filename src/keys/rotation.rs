//! The rules of a key rotation: registering a public key in the key group CloudFront trusts, and when a
//! key may leave it.
//!
//! A key may be retired only once it no longer signs and nothing it signed can still be valid: the last
//! signature lives at most the longest lifetime the configuration gives one, and a margin covers the
//! clocks involved.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aws::cloudfront::key_groups::{self, KeyGroupError, KeyGroupStore, KeyGroups, NewPublicKey};
use crate::cdn_signer::longest_signature_life;
use crate::config::{CdnKeySource, Config};
use crate::signing::KeyPairId;

/// Added to the longest signature lifetime before a key may be retired: edgepass's clocks, CloudFront's
/// and the operator's idea of when signing stopped can each be off by a little.
pub const CLOCK_MARGIN_SECS: u64 = 300;

/// What the configuration says about signing, for [`retire_refusals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningFacts {
    /// The key edgepass signs with (`EDGEPASS_CDN_KEY_PAIR_ID`), if configured.
    pub active: Option<String>,
    /// How long a signature stays valid at most after it was made.
    pub longest_life_secs: u64,
}

impl SigningFacts {
    /// The facts of the service's configuration.
    pub fn of(config: &Config) -> Self {
        let active = match &config.cdn.key {
            CdnKeySource::Generated => None,
            CdnKeySource::Pem { key_pair_id, .. }
            | CdnKeySource::File { key_pair_id, .. }
            | CdnKeySource::Kms { key_pair_id, .. } => Some(key_pair_id.clone()),
        };
        Self {
            active,
            longest_life_secs: longest_signature_life(config),
        }
    }
}

/// An epoch time as RFC 3339, for messages.
pub fn rfc3339(epoch: u64) -> String {
    OffsetDateTime::from_unix_timestamp(i64::try_from(epoch).unwrap_or(i64::MAX))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

/// Why retiring `key` at `now` is not (yet) safe; empty when it is. `stopped_at` is when edgepass last
/// signed with it.
pub fn retire_refusals(
    facts: &SigningFacts,
    key: &KeyPairId,
    stopped_at: Option<u64>,
    now: u64,
) -> Vec<String> {
    let mut refusals = Vec::new();
    match &facts.active {
        Some(active) if active == key.as_str() => refusals.push(format!(
            "key {key} is the configured signing key (EDGEPASS_CDN_KEY_PAIR_ID); switch every instance to \
             its successor first, or every private image gets 403"
        )),
        Some(_) => {}
        None => refusals.push(
            "EDGEPASS_CDN_KEY_PAIR_ID is not set, so which key edgepass signs with is unknown; run this \
             with the service's configuration (its EDGEPASS_* variables or EDGEPASS_CONFIG)"
                .to_owned(),
        ),
    }
    match stopped_at {
        None => refusals.push(format!(
            "--stopped-signing-at is required: when the last instance stopped signing with {key} (edgepass \
             does not record it); its signatures stay valid up to {}s after that",
            facts.longest_life_secs
        )),
        Some(stopped) => {
            let safe_from = stopped
                .saturating_add(facts.longest_life_secs)
                .saturating_add(CLOCK_MARGIN_SECS);
            if now < safe_from {
                refusals.push(format!(
                    "cookies or URLs signed with {key} may be valid until {}: it stopped signing at {}, \
                     signatures live up to {}s (the longest of EDGEPASS_CDN_COOKIE_TTL_SECS, \
                     EDGEPASS_SHARED_URL_TTL_SECS and EDGEPASS_SHARE_LINK_URL_TTL_SECS, plus \
                     EDGEPASS_CDN_EXPIRY_WINDOW_SECS), and {CLOCK_MARGIN_SECS}s are allowed for clocks; \
                     retry from {}",
                    rfc3339(safe_from - CLOCK_MARGIN_SECS),
                    rfc3339(stopped),
                    facts.longest_life_secs,
                    rfc3339(safe_from)
                ));
            }
        }
    }
    refusals
}

/// A public key registered and trusted by the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The new key's id (the key-pair id signatures name).
    pub key_id: String,
    /// Every key the group trusts now.
    pub trusted: Vec<String>,
}

/// Why registering did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Nothing was created: the group could not be read, or the key not created.
    #[error(transparent)]
    NotCreated(KeyGroupError),
    /// The public key exists in CloudFront but is not in the group.
    #[error(
        "public key {key_id} was created but is not in key group {group_id}; add it in the console or \
         delete it (aws cloudfront delete-public-key --id {key_id} …)"
    )]
    NotAdded {
        /// The key created.
        key_id: String,
        /// The group it should be in.
        group_id: String,
        /// Why it is not.
        source: KeyGroupError,
    },
}

impl RegisterError {
    /// The key-group error underneath.
    pub fn key_group_error(&self) -> &KeyGroupError {
        match self {
            Self::NotCreated(error) | Self::NotAdded { source: error, .. } => error,
        }
    }
}

/// Creates the public key `key` and adds it to the group `group_id`. The group is read first, so a wrong
/// id or a missing permission shows before a public key exists that nothing uses.
pub async fn register(
    groups: &KeyGroups,
    group_id: &str,
    key: &NewPublicKey<'_>,
) -> Result<Registered, RegisterError> {
    groups.read(group_id).await.map_err(RegisterError::NotCreated)?;
    let key_id = groups
        .create_public_key(key)
        .await
        .map_err(RegisterError::NotCreated)?;
    match key_groups::add_key(groups, group_id, &key_id).await {
        Ok(trusted) => Ok(Registered { key_id, trusted }),
        Err(source) => Err(RegisterError::NotAdded {
            key_id,
            group_id: group_id.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const HOUR: u64 = 3600;
    const NOW: u64 = 1_893_456_000;

    fn facts(active: Option<&str>) -> SigningFacts {
        SigningFacts {
            active: active.map(str::to_owned),
            longest_life_secs: HOUR + 300,
        }
    }

    fn key(id: &str) -> KeyPairId {
        KeyPairId::parse(id).expect("id")
    }

    #[test]
    fn a_key_that_stopped_signing_longer_ago_than_any_signature_lives_may_be_retired() {
        let stopped = NOW - (HOUR + 300 + CLOCK_MARGIN_SECS);
        assert_eq!(
            retire_refusals(&facts(Some("KNEW")), &key("KOLD"), Some(stopped), NOW),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_key_whose_signatures_may_still_be_valid_is_refused_with_the_moment_it_becomes_safe() {
        let stopped = NOW - (HOUR + 300 + CLOCK_MARGIN_SECS) + 1;
        let refusals = retire_refusals(&facts(Some("KNEW")), &key("KOLD"), Some(stopped), NOW);
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert!(
            refusals[0].contains(&format!("retry from {}", rfc3339(NOW + 1))),
            "{refusals:?}"
        );
    }

    #[test]
    fn the_active_key_an_unknown_configuration_and_a_missing_stop_time_are_each_refused() {
        let old_enough = Some(NOW - 10 * HOUR);
        let active = retire_refusals(&facts(Some("KOLD")), &key("KOLD"), old_enough, NOW);
        assert!(active[0].contains("configured signing key"), "{active:?}");
        let unknown = retire_refusals(&facts(None), &key("KOLD"), old_enough, NOW);
        assert!(
            unknown[0].contains("EDGEPASS_CDN_KEY_PAIR_ID is not set"),
            "{unknown:?}"
        );
        let no_time = retire_refusals(&facts(Some("KNEW")), &key("KOLD"), None, NOW);
        assert!(
            no_time[0].contains("--stopped-signing-at is required"),
            "{no_time:?}"
        );
    }

    #[test]
    fn the_longest_lifetime_covers_cookies_shared_urls_and_share_link_urls() {
        let config = |pairs: &[(&str, &str)]| {
            let env: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            SigningFacts::of(&Config::from_env(&env).expect("config"))
        };
        assert_eq!(config(&[]).longest_life_secs, 3600 + 300);
        assert_eq!(config(&[]).active, None);
        assert_eq!(
            config(&[("EDGEPASS_SHARED_URL_TTL_SECS", "7200")]).longest_life_secs,
            7200 + 300
        );
        assert_eq!(
            config(&[
                ("EDGEPASS_SHARE_LINK_URL_TTL_SECS", "9000"),
                ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "60"),
                ("EDGEPASS_CDN_KEY_PAIR_ID", "KACTIVE"),
                ("EDGEPASS_CDN_PRIVATE_KEY_FILE", "/run/secrets/cdn.pem"),
            ]),
            SigningFacts {
                active: Some("KACTIVE".to_owned()),
                longest_life_secs: 9000 + 60
            }
        );
    }
}
