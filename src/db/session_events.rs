//! News of sessions that ended or changed, shared by every instance on one PostgreSQL database through
//! `NOTIFY edgepass_sessions` (the payload is the session's token hash in hex, never the token).
//!
//! Each instance listens on a connection of its own. Whoever hears must be told when listening starts
//! and stops, since news sent while nobody listened is lost: [`Heard::Listening`] and [`Heard::Deaf`].
//! On SQLite there is one instance and nothing to share.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement};
use tokio::sync::broadcast;

/// The channel.
const CHANNEL: &str = "edgepass_sessions";
/// How long an announcer waits to hear its own news back (then every listener has been sent it).
const ECHO_WITHIN: Duration = Duration::from_secs(1);
/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// How often the listener checks that it still hears, by pinging itself through the channel.
const PING_EVERY: Duration = Duration::from_millis(200);
/// How long without hearing its own ping before the listener counts as deaf. This bounds how long a
/// partitioned instance may go on answering from its cache.
const DEAF_AFTER: Duration = Duration::from_millis(600);
/// What a ping's payload starts with.
const PING_PREFIX: &str = "ping:";

/// What the listener hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// The session with this token hash ended or changed.
    Session([u8; 32]),
    /// Listening: everything announced from now on will be heard.
    Listening,
    /// Not listening: announcements may be missed until [`Heard::Listening`].
    Deaf,
}

/// An announcement on its way, for [`SessionEvents::heard`]; empty on SQLite.
#[derive(Debug)]
pub struct Echo(Option<(broadcast::Receiver<[u8; 32]>, [u8; 32])>);

/// Announces session news and listens for it.
#[derive(Debug)]
pub struct SessionEvents {
    /// What this instance's listener heard, for announcers waiting for their echo.
    echoes: broadcast::Sender<[u8; 32]>,
    /// Whether this instance's listener is connected and listening.
    listening: AtomicBool,
}

impl Default for SessionEvents {
    fn default() -> Self {
        Self {
            echoes: broadcast::channel(1024).0,
            listening: AtomicBool::new(false),
        }
    }
}

impl SessionEvents {
    /// Tells every instance that the session with `token_hash` ended or changed, as part of `txn`:
    /// the news goes out when it commits, with the change, and not at all if it does not. Pass the
    /// result to [`SessionEvents::heard`] after the commit.
    pub async fn announce_in(&self, txn: &DatabaseTransaction, token_hash: &[u8; 32]) -> Result<Echo, DbErr> {
        if txn.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Echo(None));
        }
        let echoes = self.echoes.subscribe();
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), hex(token_hash).into()],
        ))
        .await?;
        Ok(Echo(Some((echoes, *token_hash))))
    }

    /// Waits (briefly) until this instance's own listener hears the committed announcement back, when
    /// one is listening: by then the database has sent it to every listener.
    pub async fn heard(&self, echo: Echo) {
        let Echo(Some((mut echoes, token_hash))) = echo else {
            return;
        };
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let heard = tokio::time::timeout(ECHO_WITHIN, async {
            loop {
                match echoes.recv().await {
                    Ok(hash) if hash == token_hash => return true,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return false,
                }
            }
        })
        .await;
        if !matches!(heard, Ok(true)) {
            tracing::warn!("a session announcement was not heard back within {ECHO_WITHIN:?}");
        }
    }

    /// Listens on `database_url` for ever, reconnecting after a lost connection, and hands what it
    /// hears to `hear`. Only for PostgreSQL.
    ///
    /// A connection can also go quiet without closing (a network partition), so the listener checks
    /// that it still hears: it announces a ping through `db` every [`PING_EVERY`] and counts as deaf
    /// when none came back within [`DEAF_AFTER`].
    pub async fn listen(
        &self,
        db: &DatabaseConnection,
        database_url: &str,
        hear: impl Fn(Heard) + Send + Sync,
    ) {
        loop {
            match self.listen_once(db, database_url, &hear).await {
                Ok(()) => tracing::warn!("the session listener's connection closed; reconnecting"),
                Err(error) => tracing::warn!(%error, "the session listener failed; reconnecting"),
            }
            self.go_deaf(&hear);
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }

    fn go_deaf(&self, hear: &impl Fn(Heard)) {
        if self.listening.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                "the session listener hears nothing; sessions are read from the database until it does"
            );
            hear(Heard::Deaf);
        }
    }

    async fn listen_once(
        &self,
        db: &DatabaseConnection,
        database_url: &str,
        hear: &(impl Fn(Heard) + Send + Sync),
    ) -> Result<(), sea_orm::sqlx::Error> {
        let mut listener = PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        let ping = ping_payload();
        let began = tokio::time::Instant::now();
        // Milliseconds after `began` at which this instance last heard its own ping; 0 for never.
        // Hearing counts from the first ping that comes back, not from LISTEN: only then is the
        // connection known to carry news.
        let last_echo = AtomicU64::new(0);
        let receive = async {
            // `try_recv` reports a lost connection as `None` instead of reconnecting unseen. It is
            // never cancelled while this connection lives (the watch below never finishes).
            while let Some(notification) = listener.try_recv().await? {
                let payload = notification.payload();
                if payload == ping {
                    last_echo.store(millis_since(began).max(1), Ordering::Release);
                    if !self.listening.swap(true, Ordering::AcqRel) {
                        tracing::info!("the session listener hears announcements");
                        hear(Heard::Listening);
                    }
                } else if let Some(hash) = parse_hex(payload) {
                    hear(Heard::Session(hash));
                    let _ = self.echoes.send(hash);
                } else if !payload.starts_with(PING_PREFIX) {
                    tracing::warn!("ignored a malformed session announcement");
                }
            }
            Ok(())
        };
        let watch = async {
            let mut every = tokio::time::interval(PING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let heard = last_echo.load(Ordering::Acquire);
                if heard > 0 && millis_since(began).saturating_sub(heard) > DEAF_AFTER.as_millis() as u64 {
                    self.go_deaf(hear);
                }
                // Sent aside, so that a database that does not answer cannot hold up the watch.
                let (db, ping) = (db.clone(), ping.clone());
                tokio::spawn(async move {
                    let sent = db.execute_raw(Statement::from_sql_and_values(
                        DatabaseBackend::Postgres,
                        "SELECT pg_notify($1, $2)",
                        [CHANNEL.into(), ping.into()],
                    ));
                    if let Ok(Err(error)) = tokio::time::timeout(DEAF_AFTER, sent).await {
                        tracing::debug!(%error, "could not ping the session channel");
                    }
                });
            }
        };
        tokio::select! {
            received = receive => received,
            _ = watch => Ok(()),
        }
    }
}

fn millis_since(began: tokio::time::Instant) -> u64 {
    u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// This instance's ping: the prefix and a random nonce, so that no other instance takes it for its own.
fn ping_payload() -> String {
    let mut nonce = [0u8; 8];
    // Uniqueness, not secrecy: a failed draw falls back to the process id and time.
    if aws_lc_rs::rand::fill(&mut nonce).is_err() {
        let fallback = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        nonce = fallback.to_le_bytes();
    }
    format!(
        "{PING_PREFIX}{}",
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_hash_survives_the_payload_and_anything_else_is_refused() {
        let hash: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(parse_hex(&hex(&hash)), Some(hash));
        assert_eq!(parse_hex(&hex(&hash)[..62]), None);
        assert_eq!(parse_hex(&"zz".repeat(32)), None);
        assert_eq!(parse_hex(&"é".repeat(32)), None);
        assert_eq!(parse_hex("+1".repeat(32).as_str()), None);
    }
}
