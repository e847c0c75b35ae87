//! The account export as the API shows it: the rows of `services::account::export`, with the other
//! accounts named by address and no token or password hash.

use sea_orm::ActiveEnum;

use super::account::session_view;
use super::dto::{
    AccountExport, ExportedAccount, ExportedAlbum, ExportedGrant, ExportedImage, ExportedLink, VisibilityName,
};
use crate::db::entity::image::Visibility;
use crate::domain::UserId;
use crate::services::account::{Export, SessionEntry};

/// Epoch seconds as stored, as the API shows them.
pub(super) fn secs(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

pub(super) fn export_view(export: &Export, now: u64) -> AccountExport {
    let data = &export.data;
    let email_of = |id: &UserId| export.emails.get(id).cloned().unwrap_or_default();
    let owner_of = |id: &str| {
        data.owners
            .iter()
            .find(|(owned, _)| owned == id)
            .map(|(_, owner)| email_of(owner))
            .unwrap_or_default()
    };
    let grant =
        |image: Option<String>, album: Option<String>, other: String, created: i64, ends: Option<i64>| {
            ExportedGrant {
                image_id: image,
                album_id: album,
                other_email: other,
                created_at: secs(created),
                expires_at: ends.map(secs),
            }
        };
    AccountExport {
        exported_at: now,
        account: ExportedAccount {
            id: data.user.id.0,
            email: data.user.email.clone(),
            created_at: secs(data.user.created_at),
        },
        images: data
            .images
            .iter()
            .map(|image| ExportedImage {
                id: image.id.as_str().to_owned(),
                name: image.original_name.clone(),
                content_type: image.content_type.clone(),
                byte_size: secs(image.byte_size),
                visibility: match image.visibility {
                    Visibility::Private => VisibilityName::Private,
                    Visibility::Public => VisibilityName::Public,
                },
                status: image.status.to_value(),
                object_key: image.object_key.clone(),
                album_id: image.album_id.as_ref().map(|a| a.as_str().to_owned()),
                created_at: secs(image.created_at),
            })
            .collect(),
        albums: data
            .albums
            .iter()
            .map(|album| ExportedAlbum {
                id: album.id.as_str().to_owned(),
                name: album.name.clone(),
                created_at: secs(album.created_at),
            })
            .collect(),
        grants_given: data
            .shares_given
            .iter()
            .map(|s| {
                grant(
                    Some(s.image_id.as_str().to_owned()),
                    None,
                    email_of(&s.grantee_id),
                    s.created_at,
                    s.expires_at,
                )
            })
            .chain(data.album_shares_given.iter().map(|s| {
                grant(
                    None,
                    Some(s.album_id.as_str().to_owned()),
                    email_of(&s.grantee_id),
                    s.created_at,
                    s.expires_at,
                )
            }))
            .collect(),
        grants_received: data
            .shares_received
            .iter()
            .map(|s| {
                grant(
                    Some(s.image_id.as_str().to_owned()),
                    None,
                    owner_of(s.image_id.as_str()),
                    s.created_at,
                    s.expires_at,
                )
            })
            .chain(data.album_shares_received.iter().map(|s| {
                grant(
                    None,
                    Some(s.album_id.as_str().to_owned()),
                    owner_of(s.album_id.as_str()),
                    s.created_at,
                    s.expires_at,
                )
            }))
            .collect(),
        links: data
            .links
            .iter()
            .map(|link| ExportedLink {
                id: link.id,
                image_id: link.image_id.as_str().to_owned(),
                created_at: secs(link.created_at),
                expires_at: secs(link.expires_at),
                revoked_at: link.revoked_at.map(secs),
            })
            .collect(),
        sessions: data
            .sessions
            .iter()
            .map(|session| {
                session_view(SessionEntry {
                    current: session.id == export.current_session,
                    session: session.clone(),
                })
            })
            .collect(),
    }
}
