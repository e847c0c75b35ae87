//! Images: their ids, accepted types, names and object keys, and the steps of their life (upload
//! check, moves between private and public, deletion, sweeping).

pub mod account_deletion;
pub mod album_emptying;
mod content_type;
mod key;
pub mod lease;
pub mod lifecycle;
mod name;

pub use content_type::ContentType;
pub use key::{AlbumId, ImageId, ImageKey, NotAnAlbumId, NotAnImageId, ObjectPrefix};
pub use name::ImageName;
