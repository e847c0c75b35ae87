//! `edgepass::images`: image ids and content sniffing.

#[path = "../../src/images/content_type.rs"]
mod content_type;
#[path = "../../src/images/key.rs"]
mod key;

pub use content_type::ContentType;
pub use key::{AlbumId, ImageId, ImageKey, NotAnAlbumId, NotAnImageId, ObjectPrefix};
