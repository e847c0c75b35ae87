//! The raw settings: `EDGEPASS_*` variables overlaid on the optional TOML file, read by name, and the
//! error that names the variable at fault.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A value that must not reach logs (a database URL with a password, a private key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A setting that could not be used; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable (or the matching key in the TOML file).
    pub variable: String,
    /// What is wrong.
    pub message: String,
}

/// The error for `variable`.
pub(super) fn error(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        message: message.into(),
    }
}

/// Settings by variable name, from the TOML file overlaid with the environment.
pub(super) struct Settings(BTreeMap<String, String>);

impl Settings {
    /// The `EDGEPASS_*` variables of `env`, over the TOML file named by `EDGEPASS_CONFIG` if set.
    pub(super) fn from_env(env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut settings = match env.get("EDGEPASS_CONFIG").filter(|p| !p.is_empty()) {
            Some(path) => file_settings(path)?,
            None => BTreeMap::new(),
        };
        settings.extend(
            env.iter()
                .filter(|(k, _)| k.starts_with("EDGEPASS_"))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Ok(Self(settings))
    }

    /// The value of `name`; blank counts as unset.
    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The value of `name` parsed as `what`.
    pub(super) fn parsed<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, ConfigError> {
        self.text(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| error(name, format!("{v:?} is not {what}")))
            })
            .transpose()
    }

    /// The value of `name` as a yes/no.
    pub(super) fn bool(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        self.text(name)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(error(name, format!("{v:?} is not true or false"))),
            })
            .transpose()
    }

    /// The value of `name` as a whole number above zero, `default` when unset.
    pub(super) fn positive(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        let value = self.parsed::<u64>(name, "a whole number")?.unwrap_or(default);
        if value == 0 {
            return Err(error(name, "must be greater than zero"));
        }
        Ok(value)
    }

    /// The value of `name` as an http(s) URL without query, fragment or `*`, without a trailing slash
    /// (a base URL that object keys are appended to).
    pub(super) fn base_url(&self, name: &str) -> Result<Option<String>, ConfigError> {
        self.text(name)
            .map(|url| {
                let trimmed = url.trim().trim_end_matches('/');
                if !(trimmed.starts_with("https://") || trimmed.starts_with("http://"))
                    || trimmed.contains(['?', '#', '*', ' '])
                {
                    return Err(error(
                        name,
                        format!("{url:?} is not an http(s) URL without query"),
                    ));
                }
                Ok(trimmed.to_owned())
            })
            .transpose()
    }

    /// The value of `name` as an origin (see [`origin_of`]).
    pub(super) fn origin(&self, name: &str) -> Result<Option<String>, ConfigError> {
        self.text(name).map(|url| origin_of(url, name)).transpose()
    }
}

/// `url` as an origin (`http(s)://host[:port]`, no path), without a trailing slash.
pub(super) fn origin_of(url: &str, variable: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| error(variable, format!("{url:?} is not an http:// or https:// URL")))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(error(
            variable,
            format!("{url:?} must be an origin such as https://app.example.com"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Reads a TOML file whose keys are the variable names without the `EDGEPASS_` prefix, in any case
/// (`listen = "0.0.0.0:8080"`, `[cdn]`-style tables are not used).
fn file_settings(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error("EDGEPASS_CONFIG", format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| error("EDGEPASS_CONFIG", format!("{path} is not valid TOML: {e}")))?;
    let mut settings = BTreeMap::new();
    for (key, value) in table {
        let name = format!("EDGEPASS_{}", key.to_ascii_uppercase());
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|()| error(&name, format!("{path}: {key} must be a list of strings")))?
                .join(","),
            _ => {
                return Err(error(
                    &name,
                    format!("{path}: {key} must be a string, number, boolean or list"),
                ));
            }
        };
        settings.insert(name, value);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::config::tests::env;

    #[test]
    fn the_toml_file_is_read_and_the_environment_wins() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("edgepass.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9999\"\ncdn_cookie_ttl_secs = 600\nallowed_origins = [\"https://a.example.com\"]\n")
            .expect("write");
        let config = Config::from_env(&env(&[
            ("EDGEPASS_CONFIG", path.to_str().expect("path")),
            ("EDGEPASS_CDN_COOKIE_TTL_SECS", "1200"),
        ]))
        .expect("config");
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.cdn.cookie_ttl_secs, 1200);
        assert!(config.extra_origins.contains(&"https://a.example.com".to_owned()));
        std::fs::write(&path, "listen = [").expect("write");
        let broken = Config::from_env(&env(&[("EDGEPASS_CONFIG", path.to_str().expect("path"))]));
        assert_eq!(broken.map_err(|e| e.variable), Err("EDGEPASS_CONFIG".to_owned()));
    }
}
