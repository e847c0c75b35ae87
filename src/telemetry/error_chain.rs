//! An error and its causes as one readable line, for messages a person reads: the command line's errors,
//! start-up errors and log fields.
//!
//! The AWS SDK's errors say little at the top ("dispatch failure") and the useful part in their sources.
//! Its `DisplayErrorContext` walks the sources but then appends the whole error's `Debug` form, a dump of
//! nested structs hundreds of characters long; this prints each cause's message instead, once.

use std::error::Error;

use aws_config::meta::ProviderChainError;
use aws_credential_types::provider::error::CredentialsError;

/// `error` and its sources as `outer: inner: root cause` on one line. A message the one before it already
/// ends with (errors that print their source themselves) is left out, and line breaks inside a message
/// become spaces.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let message = message(current);
        let repeated = parts.last().is_some_and(|last| last.ends_with(&message));
        if !message.is_empty() && !repeated {
            parts.push(message);
        }
        next = current.source();
    }
    parts.join(": ")
}

/// How one cause reads on one line. The AWS credential chain's error lists every provider it tried with
/// its reasons, one per line, several hundred characters in all; the providers' names say enough.
fn message(error: &(dyn Error + 'static)) -> String {
    if let Some(chain) = error.downcast_ref::<ProviderChainError<CredentialsError>>() {
        let tried: Vec<&str> = chain.attempts().iter().map(|attempt| attempt.name()).collect();
        return format!("no AWS credentials found (tried {})", tried.join(", "));
    }
    one_line(&error.to_string())
}

/// `text` with every run of whitespace, line breaks included, made one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{message}")]
    struct Layer {
        message: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn chain(messages: &[&'static str]) -> Layer {
        messages
            .iter()
            .rev()
            .fold(None, |source, message| {
                Some(Layer {
                    message,
                    source: source.map(Box::new),
                })
            })
            .expect("at least one layer")
    }

    #[test]
    fn every_cause_is_named_once_on_one_line() {
        let error = chain(&[
            "dispatch failure",
            "other",
            "no providers in chain\nprovided credentials",
        ]);
        assert_eq!(
            error_chain(&error),
            "dispatch failure: other: no providers in chain provided credentials"
        );
    }

    #[test]
    fn a_message_that_already_ends_with_its_source_is_not_repeated() {
        let error = chain(&["GetKeyGroup: connection refused", "connection refused", ""]);
        assert_eq!(error_chain(&error), "GetKeyGroup: connection refused");
    }
}
