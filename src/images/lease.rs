//! The lease on an image row: whoever holds it may move or delete the image, so two changes never
//! interleave on one image. A holder that dies leaves a lease that expires by itself.

use sea_orm::{ConnectionTrait, DbErr};

use crate::db;
use crate::domain::UserId;
use crate::images::ImageId;

/// A lease taken on one image until a set time.
#[derive(Debug)]
#[must_use = "a lease is given back with `release`; dropped, it blocks changes until it expires"]
pub struct Lease {
    id: ImageId,
    until: u64,
}

impl Lease {
    /// Takes the lease on image `id` (only if `owner` owns it, when given) for `secs` from `now`;
    /// `None` while someone else holds it, or when there is no such image.
    pub async fn take(
        db: &impl ConnectionTrait,
        id: &ImageId,
        owner: Option<UserId>,
        now: u64,
        secs: u64,
    ) -> Result<Option<Self>, DbErr> {
        let until = now.saturating_add(secs);
        let taken = db::images::try_lease(db, id, owner, now, until).await?;
        Ok(taken.then(|| Self {
            id: id.clone(),
            until,
        }))
    }

    /// Gives the lease back (one that expired meanwhile and was taken by another holder stays theirs).
    pub async fn release(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        db::images::release_lease(db, &self.id, self.until).await
    }

    /// Gives the lease back where a failure only delays the next change until the lease expires: it is
    /// logged, not returned.
    pub async fn release_or_let_expire(self, db: &impl ConnectionTrait) {
        let id = self.id.clone();
        if let Err(error) = self.release(db).await {
            tracing::warn!(image = %id, %error, "could not release an image lease");
        }
    }
}
