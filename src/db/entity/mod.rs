//! sea-orm entities, one per table.

pub mod audit_event;
pub mod image;
pub mod session;
pub mod share;
pub mod share_link;
pub mod user;
