//! Signed-in sessions remembered by this instance, so that a request need not read its session from
//! the database.
//!
//! A remembered session is only as good as the news of its end. Every change to a session row (a
//! logout, new CloudFront cookies) is announced to every instance (PostgreSQL `NOTIFY`, see
//! [`crate::db::session_events`]) and forgets it there. The cache answers only while this instance is
//! sure to hear those announcements: with one database connection listening, or with nobody else to
//! hear from (SQLite serves one instance). While the listener is down the cache is empty and off, so a
//! lost announcement can never keep an ended session alive.
//!
//! A lookup that raced an announcement must not put back what it announced gone: every forgetting
//! moves the cache to a new generation, and a session read from the database under an older
//! generation is not kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::AuthUser;

/// How long a remembered session is trusted before it is read from the database again. The
/// announcements make this unnecessary when everything works; it bounds what a lost one can cost.
pub const REVALIDATE_AFTER_SECS: u64 = 30;

/// A session as this instance remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    /// The session row's id (for renewal).
    pub session_id: i64,
    /// The user and the session's state when it was read.
    pub user: AuthUser,
    /// When the session was last renewed (epoch seconds).
    pub last_seen_at: u64,
}

/// The cache; one per instance.
#[derive(Debug)]
pub struct SessionCache {
    /// Each session with when it was read from the database.
    entries: Mutex<HashMap<[u8; 32], (Remembered, u64)>>,
    capacity: usize,
    /// Whether this instance hears every announcement now.
    hearing: AtomicBool,
    /// Moved on by every forgetting.
    generation: AtomicU64,
}

/// The generation a database read started in, to hand back to [`SessionCache::keep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(u64);

impl SessionCache {
    /// A cache of at most `capacity` sessions (0 keeps none), answering from the start when `hearing`
    /// (nobody else can end a session) or once [`SessionCache::start_hearing`] is called.
    pub fn new(capacity: usize, hearing: bool) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
            hearing: AtomicBool::new(hearing && capacity > 0),
            generation: AtomicU64::new(0),
        }
    }

    /// The remembered session with this token hash, unless it has expired at `now` or was read more
    /// than [`REVALIDATE_AFTER_SECS`] ago (then it is forgotten), or the cache is off.
    pub fn get(&self, token_hash: &[u8; 32], now: u64) -> Option<Remembered> {
        if !self.hearing.load(Ordering::Acquire) {
            return None;
        }
        let mut entries = self.lock();
        match entries.get(token_hash) {
            Some((found, read_at))
                if found.user.session_expires_at > now
                    && now.saturating_sub(*read_at) < REVALIDATE_AFTER_SECS =>
            {
                Some(found.clone())
            }
            Some(_) => {
                entries.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Whether the cache answers: it hears every end of a session (on PostgreSQL, once this instance's
    /// listener is connected).
    pub fn is_hearing(&self) -> bool {
        self.hearing.load(Ordering::Acquire)
    }

    /// The generation to pass to [`SessionCache::keep`]; take it before reading the session.
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    /// Remembers a session read from the database at `now` in generation `read_in`, unless something
    /// was forgotten since (the read may predate the end of this very session) or the cache is off.
    pub fn keep(&self, token_hash: [u8; 32], session: Remembered, read_in: Generation, now: u64) {
        if !self.hearing.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.lock();
        // Checked under the lock that `forget` takes to move the generation on.
        if self.generation.load(Ordering::Acquire) != read_in.0 {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&token_hash) {
            // Full: start over rather than track recency; the next requests read the database.
            entries.clear();
        }
        entries.insert(token_hash, (session, now));
    }

    /// Replaces a remembered session this instance itself changed (renewed, new CloudFront cookies).
    pub fn update(&self, token_hash: &[u8; 32], change: impl FnOnce(&mut Remembered)) {
        if let Some((found, _)) = self.lock().get_mut(token_hash) {
            change(found);
        }
    }

    /// Forgets one session (it ended or changed somewhere).
    pub fn forget(&self, token_hash: &[u8; 32]) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(token_hash);
    }

    /// Forgets everything and answers nothing until [`SessionCache::start_hearing`]: announcements
    /// may be lost from now on.
    pub fn stop_hearing(&self) {
        let mut entries = self.lock();
        self.hearing.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Answers again: every announcement from now on will be heard. Whatever was read before is
    /// forgotten, since announcements made meanwhile were not.
    pub fn start_hearing(&self) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.hearing.store(true, Ordering::Release);
    }

    /// How many sessions are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (Remembered, u64)>> {
        // A panic while holding the lock leaves the map as consistent as any single insert or remove.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, UserId};

    fn session(expires_at: u64) -> Remembered {
        Remembered {
            session_id: 7,
            user: AuthUser {
                id: UserId(42),
                email: Email::from_stored("a@example.com".to_owned()),
                session_id: 7,
                session_hash: [1; 32],
                session_expires_at: expires_at,
                cdn_expires_at: None,
                album_sets: false,
            },
            last_seen_at: 100,
        }
    }

    #[test]
    fn a_kept_session_is_found_until_it_expires() {
        let cache = SessionCache::new(10, true);
        let read_in = cache.generation();
        cache.keep([1; 32], session(200), read_in, 180);

        assert_eq!(cache.get(&[1; 32], 199), Some(session(200)));
        assert_eq!(cache.get(&[1; 32], 200), None);
        assert!(cache.is_empty(), "an expired session is dropped");
    }

    #[test]
    fn a_remembered_session_is_read_again_after_a_while() {
        let cache = SessionCache::new(10, true);
        cache.keep([1; 32], session(10_000), cache.generation(), 100);

        assert!(cache.get(&[1; 32], 100 + REVALIDATE_AFTER_SECS - 1).is_some());
        assert_eq!(cache.get(&[1; 32], 100 + REVALIDATE_AFTER_SECS), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_session_read_before_any_forgetting_is_not_kept() {
        let cache = SessionCache::new(10, true);
        let read_in = cache.generation();
        cache.forget(&[1; 32]);

        cache.keep([1; 32], session(200), read_in, 100);

        assert_eq!(cache.get(&[1; 32], 100), None);
    }

    #[test]
    fn a_forgotten_session_is_not_found() {
        let cache = SessionCache::new(10, true);
        cache.keep([1; 32], session(200), cache.generation(), 100);
        cache.keep([2; 32], session(200), cache.generation(), 100);

        cache.forget(&[1; 32]);

        assert_eq!(cache.get(&[1; 32], 100), None);
        assert!(cache.get(&[2; 32], 100).is_some());
    }

    #[test]
    fn nothing_is_answered_or_kept_while_not_hearing() {
        let cache = SessionCache::new(10, false);
        cache.keep([1; 32], session(200), cache.generation(), 100);
        assert_eq!(cache.get(&[1; 32], 100), None);

        cache.start_hearing();
        cache.keep([1; 32], session(200), cache.generation(), 100);
        assert!(cache.get(&[1; 32], 100).is_some());

        cache.stop_hearing();
        assert_eq!(cache.get(&[1; 32], 100), None);
        cache.start_hearing();
        assert_eq!(cache.get(&[1; 32], 100), None, "forgotten when hearing stopped");
    }

    #[test]
    fn a_read_that_spans_a_lapse_in_hearing_is_not_kept() {
        let cache = SessionCache::new(10, true);
        let read_in = cache.generation();
        cache.stop_hearing();
        cache.start_hearing();

        cache.keep([1; 32], session(200), read_in, 100);

        assert_eq!(cache.get(&[1; 32], 100), None);
    }

    #[test]
    fn a_full_cache_starts_over_and_a_zero_capacity_keeps_nothing() {
        let cache = SessionCache::new(2, true);
        for n in 1..=3u8 {
            cache.keep([n; 32], session(200), cache.generation(), 100);
        }
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&[3; 32], 100).is_some());

        let none = SessionCache::new(0, true);
        none.keep([1; 32], session(200), none.generation(), 100);
        assert_eq!(none.get(&[1; 32], 100), None);
    }

    #[test]
    fn update_changes_only_a_remembered_session() {
        let cache = SessionCache::new(10, true);
        cache.keep([1; 32], session(200), cache.generation(), 100);

        cache.update(&[1; 32], |s| s.user.cdn_expires_at = Some(300));
        cache.update(&[2; 32], |s| s.user.cdn_expires_at = Some(300));

        let found = cache.get(&[1; 32], 100).expect("kept");
        assert_eq!(found.user.cdn_expires_at, Some(300));
        assert_eq!(cache.get(&[2; 32], 100), None);
    }
}
