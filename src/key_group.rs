//! CloudFront key groups: registering a public key and changing which keys a group trusts.
//!
//! CloudFront replaces a key group's whole list on update and guards it with the ETag of the version read
//! (`If-Match`). Every change here is therefore read → change the list → write with that ETag, and a write
//! refused because someone else changed the group in between (`PreconditionFailed`) starts over from a
//! fresh read, so a concurrent change is never overwritten.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::operation::get_key_group::GetKeyGroupError;
use aws_sdk_cloudfront::operation::update_key_group::UpdateKeyGroupError;
use aws_sdk_cloudfront::types::{KeyGroupConfig, PublicKeyConfig};

/// How many times a change is tried when the group keeps changing under it.
pub const ATTEMPTS: usize = 5;

/// Why a key-group change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum KeyGroupError {
    /// There is no key group with that id.
    #[error("there is no key group {0}")]
    NoSuchGroup(String),
    /// The change makes no sense for the group as it is (the key is not in it, it is already in it, or it
    /// is the last one); nothing was written.
    #[error("{0}")]
    Refused(String),
    /// The group changed under every attempt.
    #[error("key group {0} changed during each of {ATTEMPTS} attempts; try again")]
    KeptChanging(String),
    /// CloudFront refused the call or could not be reached.
    #[error("CloudFront {operation}: {message}")]
    Api {
        /// The API call.
        operation: &'static str,
        /// CloudFront's error, or the transport's.
        message: String,
    },
}

/// One read of a key group: its settings and the ETag that guards them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGroupSnapshot {
    /// The group's name (an update must repeat it).
    pub name: String,
    /// The group's comment (an update must repeat it, or it is cleared).
    pub comment: Option<String>,
    /// The public-key ids the group trusts.
    pub items: Vec<String>,
    /// The version read.
    pub etag: String,
}

/// How a conditional write ended.
#[derive(Debug)]
pub enum WriteOutcome {
    /// Written.
    Written,
    /// The group changed since it was read (`PreconditionFailed`): read it again.
    Stale,
}

/// Reading and conditionally writing key groups; CloudFront's API, or a fake in tests.
pub trait KeyGroupStore {
    /// Reads the group.
    fn read(&self, group_id: &str) -> impl Future<Output = Result<KeyGroupSnapshot, KeyGroupError>>;
    /// Replaces the group's items, if it is still at `read.etag`.
    fn write(
        &self,
        group_id: &str,
        read: &KeyGroupSnapshot,
        items: Vec<String>,
    ) -> impl Future<Output = Result<WriteOutcome, KeyGroupError>>;
}

/// Applies `change` to the group's items and writes the result, starting over from a fresh read when the
/// group changed in between (at most [`ATTEMPTS`] times). `change` refuses by returning an error, and
/// returning the items unchanged writes nothing. Returns the items written.
pub async fn update_items<S: KeyGroupStore>(
    store: &S,
    group_id: &str,
    change: impl Fn(&[String]) -> Result<Vec<String>, KeyGroupError>,
) -> Result<Vec<String>, KeyGroupError> {
    for _ in 0..ATTEMPTS {
        let read = store.read(group_id).await?;
        let items = change(&read.items)?;
        if items == read.items {
            return Ok(items);
        }
        match store.write(group_id, &read, items.clone()).await? {
            WriteOutcome::Written => return Ok(items),
            WriteOutcome::Stale => continue,
        }
    }
    Err(KeyGroupError::KeptChanging(group_id.to_owned()))
}

/// Adds `key_id` to the group (refused when it is already there).
pub async fn add_key<S: KeyGroupStore>(
    store: &S,
    group_id: &str,
    key_id: &str,
) -> Result<Vec<String>, KeyGroupError> {
    update_items(store, group_id, |items| {
        if items.iter().any(|item| item == key_id) {
            return Err(KeyGroupError::Refused(format!(
                "key {key_id} is already in key group {group_id}"
            )));
        }
        Ok(items.iter().cloned().chain([key_id.to_owned()]).collect())
    })
    .await
}

/// Removes `key_id` from the group (refused when it is not there, or is the group's only key: CloudFront
/// keeps at least one key in a group).
pub async fn remove_key<S: KeyGroupStore>(
    store: &S,
    group_id: &str,
    key_id: &str,
) -> Result<Vec<String>, KeyGroupError> {
    update_items(store, group_id, |items| {
        if !items.iter().any(|item| item == key_id) {
            return Err(KeyGroupError::Refused(format!(
                "key {key_id} is not in key group {group_id} (it holds {})",
                items.join(", ")
            )));
        }
        if items.len() == 1 {
            return Err(KeyGroupError::Refused(format!(
                "key {key_id} is the only key in key group {group_id}; a key group needs at least one key, \
                 so register its successor first"
            )));
        }
        Ok(items.iter().filter(|item| *item != key_id).cloned().collect())
    })
    .await
}

/// What [`KeyGroups::create_public_key`] registers.
#[derive(Clone, Debug)]
pub struct NewPublicKey<'a> {
    /// A name unique in the account (letters, digits, `-` and `_`, at most 128).
    pub name: &'a str,
    /// Unique per request; CloudFront answers a repeated reference with the key it already made.
    pub caller_reference: &'a str,
    /// The public key PEM (`BEGIN PUBLIC KEY`).
    pub pem: &'a str,
    /// A note shown in the console.
    pub comment: &'a str,
}

/// CloudFront's key groups and public keys.
#[derive(Clone, Debug)]
pub struct KeyGroups {
    client: Client,
}

fn api_error<E>(operation: &'static str, error: &aws_sdk_cloudfront::error::SdkError<E>) -> KeyGroupError
where
    E: std::error::Error + 'static,
{
    KeyGroupError::Api {
        operation,
        message: crate::error_chain::error_chain(error),
    }
}

impl KeyGroups {
    /// Works through `client` (see [`crate::cdn::api_client`]).
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Registers a public key and returns its id (the key-pair id signatures name).
    pub async fn create_public_key(&self, key: &NewPublicKey<'_>) -> Result<String, KeyGroupError> {
        let config = PublicKeyConfig::builder()
            .name(key.name)
            .caller_reference(key.caller_reference)
            .encoded_key(key.pem)
            .comment(key.comment)
            .build()
            .map_err(|e| KeyGroupError::Api {
                operation: "CreatePublicKey",
                message: e.to_string(),
            })?;
        let output = self
            .client
            .create_public_key()
            .public_key_config(config)
            .send()
            .await
            .map_err(|e| api_error("CreatePublicKey", &e))?;
        output
            .public_key()
            .map(|key| key.id().to_owned())
            .ok_or_else(|| KeyGroupError::Api {
                operation: "CreatePublicKey",
                message: "the answer names no public key".to_owned(),
            })
    }
}

impl KeyGroupStore for KeyGroups {
    async fn read(&self, group_id: &str) -> Result<KeyGroupSnapshot, KeyGroupError> {
        let output = match self.client.get_key_group().id(group_id).send().await {
            Ok(output) => output,
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(GetKeyGroupError::NoSuchResource(_))
                ) =>
            {
                return Err(KeyGroupError::NoSuchGroup(group_id.to_owned()));
            }
            Err(error) => return Err(api_error("GetKeyGroup", &error)),
        };
        let missing = |what: &str| KeyGroupError::Api {
            operation: "GetKeyGroup",
            message: format!("the answer has no {what}"),
        };
        let config = output
            .key_group()
            .and_then(|group| group.key_group_config())
            .ok_or_else(|| missing("key group configuration"))?;
        Ok(KeyGroupSnapshot {
            name: config.name().to_owned(),
            comment: config.comment().map(str::to_owned),
            items: config.items().to_vec(),
            etag: output.e_tag().ok_or_else(|| missing("ETag"))?.to_owned(),
        })
    }

    async fn write(
        &self,
        group_id: &str,
        read: &KeyGroupSnapshot,
        items: Vec<String>,
    ) -> Result<WriteOutcome, KeyGroupError> {
        let config = KeyGroupConfig::builder()
            .name(&read.name)
            .set_comment(read.comment.clone())
            .set_items(Some(items))
            .build()
            .map_err(|e| KeyGroupError::Api {
                operation: "UpdateKeyGroup",
                message: e.to_string(),
            })?;
        let sent = self
            .client
            .update_key_group()
            .id(group_id)
            .if_match(&read.etag)
            .key_group_config(config)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateKeyGroupError::PreconditionFailed(_))
                ) =>
            {
                Ok(WriteOutcome::Stale)
            }
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateKeyGroupError::NoSuchResource(_))
                ) =>
            {
                Err(KeyGroupError::NoSuchGroup(group_id.to_owned()))
            }
            Err(error) => Err(api_error("UpdateKeyGroup", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A key group in memory that, like CloudFront, refuses a write based on an old version; `interfere`
    /// runs after each read, standing in for another operator's change landing in between.
    struct FakeGroup {
        state: Mutex<(Vec<String>, u32)>,
        interfere: Mutex<Vec<String>>,
        writes: Mutex<u32>,
    }

    impl FakeGroup {
        fn new(items: &[&str], interfere: &[&str]) -> Self {
            Self {
                state: Mutex::new((items.iter().map(|s| (*s).to_owned()).collect(), 1)),
                interfere: Mutex::new(interfere.iter().map(|s| (*s).to_owned()).collect()),
                writes: Mutex::new(0),
            }
        }

        fn items(&self) -> Vec<String> {
            self.state.lock().expect("lock").0.clone()
        }
    }

    impl KeyGroupStore for FakeGroup {
        async fn read(&self, group_id: &str) -> Result<KeyGroupSnapshot, KeyGroupError> {
            if group_id != "G1" {
                return Err(KeyGroupError::NoSuchGroup(group_id.to_owned()));
            }
            let mut state = self.state.lock().expect("lock");
            let snapshot = KeyGroupSnapshot {
                name: "signers".to_owned(),
                comment: None,
                items: state.0.clone(),
                etag: format!("E{}", state.1),
            };
            if let Some(other) = self.interfere.lock().expect("lock").pop() {
                state.0.push(other);
                state.1 += 1;
            }
            Ok(snapshot)
        }

        async fn write(
            &self,
            _group_id: &str,
            read: &KeyGroupSnapshot,
            items: Vec<String>,
        ) -> Result<WriteOutcome, KeyGroupError> {
            *self.writes.lock().expect("lock") += 1;
            let mut state = self.state.lock().expect("lock");
            if read.etag != format!("E{}", state.1) {
                return Ok(WriteOutcome::Stale);
            }
            *state = (items, state.1 + 1);
            Ok(WriteOutcome::Written)
        }
    }

    #[tokio::test]
    async fn a_change_that_lands_in_between_is_kept_and_ours_applied_on_a_fresh_read() {
        let group = FakeGroup::new(&["KOLD"], &["KOTHER"]);
        let items = add_key(&group, "G1", "KNEW").await.expect("added");
        assert_eq!(items, ["KOLD", "KOTHER", "KNEW"]);
        assert_eq!(group.items(), ["KOLD", "KOTHER", "KNEW"]);
        assert_eq!(
            *group.writes.lock().expect("lock"),
            2,
            "one stale write, one good"
        );
    }

    #[tokio::test]
    async fn a_group_that_changes_under_every_attempt_is_given_up_on_without_overwriting_it() {
        let others: Vec<String> = (0..ATTEMPTS).map(|i| format!("KOTHER{i}")).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let group = FakeGroup::new(&["KOLD", "KKEEP"], &others);
        let error = remove_key(&group, "G1", "KOLD").await.expect_err("kept changing");
        assert!(matches!(error, KeyGroupError::KeptChanging(_)), "{error}");
        assert!(group.items().contains(&"KOLD".to_owned()));
        assert_eq!(group.items().len(), ATTEMPTS + 2);
        assert_eq!(*group.writes.lock().expect("lock"), ATTEMPTS as u32);
    }

    #[tokio::test]
    async fn removing_refuses_unknown_keys_and_the_last_key_without_writing() {
        let group = FakeGroup::new(&["KONLY"], &[]);
        let unknown = remove_key(&group, "G1", "KNOPE").await.expect_err("unknown");
        assert!(unknown.to_string().contains("not in key group G1"), "{unknown}");
        let last = remove_key(&group, "G1", "KONLY").await.expect_err("last");
        assert!(last.to_string().contains("only key"), "{last}");
        let twice = add_key(&group, "G1", "KONLY").await.expect_err("already there");
        assert!(twice.to_string().contains("already in"), "{twice}");
        assert_eq!(*group.writes.lock().expect("lock"), 0);
        assert!(matches!(
            remove_key(&group, "G2", "KONLY").await,
            Err(KeyGroupError::NoSuchGroup(_))
        ));
    }

    #[tokio::test]
    async fn removing_keeps_the_other_keys_in_order() {
        let group = FakeGroup::new(&["KA", "KB", "KC"], &[]);
        assert_eq!(
            remove_key(&group, "G1", "KB").await.expect("removed"),
            ["KA", "KC"]
        );
        assert_eq!(group.items(), ["KA", "KC"]);
    }
}
