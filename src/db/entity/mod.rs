//! sea-orm entities, one per table.

pub mod album;
pub mod album_cookie_set;
pub mod album_share;
pub mod audit_event;
pub mod image;
pub mod session;
pub mod share;
pub mod share_link;
pub mod user;
