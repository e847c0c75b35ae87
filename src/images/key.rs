//! Image ids and the object keys built from them; nothing else formats storage paths.

use std::fmt;

use super::ContentType;
use crate::domain::UserId;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// An image id: 128 random bits in lowercase base32 (26 characters), never derived from user input.
///
/// It is the column type of every image id in the database (`images.id` and each reference to it).
/// A value read from a row is checked like [`ImageId::parse`] checks outside input: a query that meets
/// anything else fails as a whole with a database error, rather than handing a malformed id on to a
/// storage key. edgepass never writes such a row; one changed by hand must be repaired by hand.
// The fuzz crate compiles this file without sea-orm (see fuzz/src/lib.rs); its build script sets
// `edgepass_without_database`, which leaves the column mapping out there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    not(edgepass_without_database),
    derive(sea_orm::DeriveValueType),
    sea_orm(value_type = "String", to_str = "ImageId::as_str")
)]
pub struct ImageId(String);

/// Text that is not an image id (see [`ImageId::parse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an image id")]
pub struct NotAnImageId(String);

impl ImageId {
    /// A fresh random id.
    pub fn generate() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes)?;
        let value = u128::from_be_bytes(bytes);
        // 26 five-bit digits cover 130 bits; the top two are always zero.
        let text = (0..26)
            .rev()
            .map(|i| BASE32[((value >> (i * 5)) & 31) as usize] as char)
            .collect();
        Ok(Self(text))
    }

    /// Accepts the form [`ImageId::generate`] produces; anything else cannot be an image id.
    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            text.len() == 26 && text.bytes().all(|b| BASE32.contains(&b)) && text.as_bytes()[0] <= b'h';
        valid.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ImageId> for String {
    fn from(id: ImageId) -> Self {
        id.0
    }
}

/// [`ImageId::parse`] with the refused text as the error; the database column reads through it.
impl std::str::FromStr for ImageId {
    type Err = NotAnImageId;

    fn from_str(text: &str) -> Result<Self, NotAnImageId> {
        Self::parse(text).ok_or_else(|| NotAnImageId(text.to_owned()))
    }
}

/// What the column needs besides the derive: a primary key of this type (`images.id`) is never made
/// by the database, and a borrowed id can be compared with a column without a clone.
#[cfg(not(edgepass_without_database))]
mod column {
    use super::ImageId;

    impl sea_orm::TryFromU64 for ImageId {
        fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
            Err(sea_orm::DbErr::ConvertFromU64("ImageId"))
        }
    }

    impl From<&ImageId> for sea_orm::Value {
        fn from(id: &ImageId) -> Self {
            id.as_str().into()
        }
    }
}

/// Where an image's bytes live in the bucket; its path on the CDN is the same with a leading `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageKey(String);

impl ImageKey {
    /// A private image: `users/{owner}/{id}.{ext}`, served only with a signature.
    pub fn private(owner: UserId, id: &ImageId, content_type: ContentType) -> Self {
        Self(format!("users/{owner}/{id}.{}", content_type.extension()))
    }

    /// A public image: `public/{id}.{ext}`, served without a signature.
    pub fn public(id: &ImageId, content_type: ContentType) -> Self {
        Self(format!("public/{id}.{}", content_type.extension()))
    }

    /// An upload in progress: `staging/{owner}/{id}`, the only key a presigned URL ever names. No
    /// behavior serves it (the default one denies) and a lifecycle rule expires it; the upload check
    /// copies its bytes to the image's own key.
    pub fn staging(owner: UserId, id: &ImageId) -> Self {
        Self(format!("staging/{owner}/{id}"))
    }

    /// The object key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path of the object on the CDN (`/users/42/….jpg`), as invalidations name it.
    pub fn cdn_path(&self) -> String {
        format!("/{}", self.0)
    }
}

impl fmt::Display for ImageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_26_base32_characters_and_parse_back() {
        let a = ImageId::generate().expect("id");
        let b = ImageId::generate().expect("id");
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 26);
        assert_eq!(ImageId::parse(a.as_str()), Some(a));
        for bad in [
            "",
            "short",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "zzzzzzzzzzzzzzzzzzzzzzzzzz",
            "../../etc/passwd0000000000",
        ] {
            assert_eq!(ImageId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_id_reads_from_text_only_in_the_form_parse_accepts() {
        let id: ImageId = "abcdefghijklmnopqrstuvwxyz".parse().expect("id");
        assert_eq!(String::from(id), "abcdefghijklmnopqrstuvwxyz");
        let refused = "../../etc/passwd".parse::<ImageId>().expect_err("not an id");
        assert_eq!(refused.to_string(), "\"../../etc/passwd\" is not an image id");
    }

    #[test]
    fn keys_are_built_in_one_place() {
        let id = ImageId::parse("abcdefghijklmnopqrstuvwxyz").expect("id");
        let private = ImageKey::private(UserId(42), &id, ContentType::Webp);
        assert_eq!(private.as_str(), "users/42/abcdefghijklmnopqrstuvwxyz.webp");
        assert_eq!(private.cdn_path(), "/users/42/abcdefghijklmnopqrstuvwxyz.webp");
        assert_eq!(
            ImageKey::public(&id, ContentType::Jpeg).as_str(),
            "public/abcdefghijklmnopqrstuvwxyz.jpg"
        );
        assert_eq!(
            ImageKey::staging(UserId(42), &id).as_str(),
            "staging/42/abcdefghijklmnopqrstuvwxyz"
        );
    }
}
