//! What the service tells its operators: log lines through `tracing`, human-readable or JSON, and the
//! Prometheus [`metrics`].

mod error_chain;
pub mod metrics;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub use error_chain::{error_chain, one_line};

/// Installs the global subscriber; `filter` is an `EnvFilter` directive such as `info` or
/// `edgepass=debug`. Calling it twice keeps the first subscriber.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Shows an error with its causes (`error: cause: cause…`) on one line, for log lines and messages: the
/// AWS wrappers keep the SDK's error as their source instead of repeating it (see [`error_chain`]).
pub struct Causes<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&error_chain(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("repeating: {0}")]
    struct Repeating(#[source] Outer);

    #[test]
    fn causes_are_shown_once_each() {
        let io = || std::io::Error::other("connection refused");
        assert_eq!(Causes(&Outer(io())).to_string(), "outer: connection refused");
        assert_eq!(
            Causes(&Repeating(Outer(io()))).to_string(),
            "repeating: outer: connection refused"
        );
    }
}
