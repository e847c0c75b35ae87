//! Images: their ids, accepted types, and the object keys they are stored under.

mod content_type;
mod key;

pub use content_type::ContentType;
pub use key::{ImageId, ImageKey};
