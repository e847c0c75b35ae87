//! `images`: one row per upload, from the presigned URL to deletion.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;
use crate::images::{AlbumId, ImageId};

/// Where an image is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    /// A presigned URL was handed out; the upload has not been checked yet.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The upload was checked and the image is served.
    #[sea_orm(string_value = "ready")]
    Ready,
    /// Gone for the owner (a failed check, or a pending upload deleted); the row stays until its
    /// upload URL has expired so the sweeper also removes anything uploaded with it afterwards.
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Being deleted; repeating the deletion (or the sweeper) finishes it.
    #[sea_orm(string_value = "deleting")]
    Deleting,
}

/// Who may load an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Visibility {
    /// Only the owner, with signed cookies, at `users/{owner}/{id}.{ext}`.
    #[sea_orm(string_value = "private")]
    Private,
    /// Anyone, without a signature, at `public/{id}.{ext}`.
    #[sea_orm(string_value = "public")]
    Public,
}

impl Visibility {
    /// The other one.
    pub fn other(self) -> Self {
        match self {
            Self::Private => Self::Public,
            Self::Public => Self::Private,
        }
    }

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// Which side of the public/private line the object is on, or crossing it.
///
/// The keys themselves are `object_key` (where the object was last complete) and, during a move,
/// `moving_to`; a move between two private keys (into or out of an album) stays `Private`. While a
/// move is unfinished the bytes are at the source key, the destination key, or both (the same bytes);
/// each step of the move is idempotent, so repeating the move from any of these states finishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum Location {
    /// At the private key only.
    #[sea_orm(string_value = "private")]
    Private,
    /// Moving from the private key to the public one.
    #[sea_orm(string_value = "copying_to_public")]
    CopyingToPublic,
    /// At the public key only.
    #[sea_orm(string_value = "public")]
    Public,
    /// Moving from the public key to the private one.
    #[sea_orm(string_value = "copying_to_private")]
    CopyingToPrivate,
}

impl Location {
    /// Settled at the key of `visibility`.
    pub fn at(visibility: Visibility) -> Self {
        match visibility {
            Visibility::Private => Self::Private,
            Visibility::Public => Self::Public,
        }
    }

    /// On the way to the key of `visibility`.
    pub fn moving_to(visibility: Visibility) -> Self {
        match visibility {
            Visibility::Private => Self::CopyingToPrivate,
            Visibility::Public => Self::CopyingToPublic,
        }
    }

    /// Where a move is heading, if one is unfinished.
    pub fn destination(self) -> Option<Visibility> {
        match self {
            Self::CopyingToPublic => Some(Visibility::Public),
            Self::CopyingToPrivate => Some(Visibility::Private),
            Self::Private | Self::Public => None,
        }
    }

    /// The key the object was last known to be complete at: the settled one, or a move's source.
    pub fn source(self) -> Visibility {
        match self {
            Self::Private | Self::CopyingToPublic => Visibility::Private,
            Self::Public | Self::CopyingToPrivate => Visibility::Public,
        }
    }
}

/// An image.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    /// The random image id (26 base32 characters).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ImageId,
    /// The owner.
    pub owner_id: UserId,
    /// While pending, the staging key its upload URL names (rows from before uploads were staged name
    /// the private key: they are never completed, and swept); then the key the object was last known
    /// to be complete at (see [`Location::source`]).
    pub object_key: String,
    /// The visibility the owner asked for last; equals the location once a move is finished.
    pub visibility: Visibility,
    /// Where the object is.
    pub location: Location,
    /// Where the image is in its life.
    pub status: Status,
    /// The declared (and, once ready, verified) MIME type.
    pub content_type: String,
    /// The declared (and, once ready, verified) size.
    pub byte_size: i64,
    /// The file name the browser gave, for display only.
    pub original_name: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the presigned upload URL stops working (epoch seconds).
    pub upload_expires_at: i64,
    /// How many visibility changes and deletions were started (CloudFront caller references).
    pub changes: i64,
    /// Until when one request or the sweeper has the image to itself (epoch seconds), if any.
    pub lease_until: Option<i64>,
    /// The album it belongs to, if any (a private image's key is then inside the album's prefix).
    pub album_id: Option<AlbumId>,
    /// While a move is unfinished, the key it copies to (`object_key` is the key it copies from).
    pub moving_to: Option<String>,
}

/// Relations of `images`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The image's owner.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Owner,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
