//! Image ids and the object keys built from them; nothing else formats storage paths.

use std::fmt;

use super::ContentType;
use crate::domain::UserId;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// 128 random bits in lowercase base32 (26 characters), the form of every random id.
fn random_base32() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)?;
    let value = u128::from_be_bytes(bytes);
    // 26 five-bit digits cover 130 bits; the top two are always zero.
    Ok((0..26)
        .rev()
        .map(|i| BASE32[((value >> (i * 5)) & 31) as usize] as char)
        .collect())
}

/// Whether `text` is in the form [`random_base32`] produces.
fn is_random_base32(text: &str) -> bool {
    text.len() == 26 && text.bytes().all(|b| BASE32.contains(&b)) && text.as_bytes()[0] <= b'h'
}

/// Defines a random id type `$id` in the form [`random_base32`] produces, its refusal `$not`, its
/// text forms, and its database column (`$what` names it in messages; `$as_str` is its `as_str` path, for
/// the column derive).
///
/// A value read from a row is checked like `parse` checks outside input: a query that meets anything
/// else fails as a whole with a database error, rather than handing a malformed id on to a storage
/// key. edgepass never writes such a row; one changed by hand must be repaired by hand.
// The fuzz crate compiles this file without sea-orm (see fuzz/src/lib.rs); its build script sets
// `edgepass_without_database`, which leaves the column mapping out there.
macro_rules! random_id {
    ($(#[$doc:meta])* $id:ident, $not:ident, $what:literal, $as_str:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(
            not(edgepass_without_database),
            derive(sea_orm::DeriveValueType),
            sea_orm(value_type = "String", to_str = $as_str)
        )]
        pub struct $id(String);

        #[doc = concat!("Text that is not ", $what, " (see [`", stringify!($id), "::parse`]).")]
        #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
        #[error("{0:?} is not {what}", what = $what)]
        pub struct $not(String);

        impl $id {
            /// A fresh random id.
            pub fn generate() -> Result<Self, aws_lc_rs::error::Unspecified> {
                random_base32().map(Self)
            }

            /// Accepts the form `generate` produces; anything else cannot be such an id.
            pub fn parse(text: &str) -> Option<Self> {
                is_random_base32(text).then(|| Self(text.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> Self {
                id.0
            }
        }

        /// `parse` with the refused text as the error; the database column reads through it.
        impl std::str::FromStr for $id {
            type Err = $not;

            fn from_str(text: &str) -> Result<Self, $not> {
                Self::parse(text).ok_or_else(|| $not(text.to_owned()))
            }
        }

        /// A primary key of this type is never made by the database, and a borrowed id can be
        /// compared with a column without a clone.
        #[cfg(not(edgepass_without_database))]
        impl sea_orm::TryFromU64 for $id {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($id)))
            }
        }

        #[cfg(not(edgepass_without_database))]
        impl From<&$id> for sea_orm::Value {
            fn from(id: &$id) -> Self {
                id.as_str().into()
            }
        }
    };
}

random_id!(
    /// An image id: 128 random bits in lowercase base32 (26 characters), never derived from user
    /// input; the column type of every image id in the database (`images.id` and each reference to it).
    ImageId,
    NotAnImageId,
    "an image id",
    "ImageId::as_str"
);

random_id!(
    /// An album id: the same form as an image id, so it is as safe in an object key and a cookie
    /// `Path`, and two albums' prefixes never nest.
    AlbumId,
    NotAnAlbumId,
    "an album id",
    "AlbumId::as_str"
);

/// Where an image's bytes live in the bucket; its path on the CDN is the same with a leading `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageKey(String);

impl ImageKey {
    /// A private image: `users/{owner}/{id}.{ext}`, served only with a signature.
    pub fn private(owner: UserId, id: &ImageId, content_type: ContentType) -> Self {
        Self(format!("users/{owner}/{id}.{}", content_type.extension()))
    }

    /// A private image in `album`, when it is in one (`users/{owner}/albums/{album}/{id}.{ext}`, which
    /// the album's cookie set opens), or else at the owner's root ([`ImageKey::private`]).
    pub fn private_in(
        owner: UserId,
        album: Option<&AlbumId>,
        id: &ImageId,
        content_type: ContentType,
    ) -> Self {
        let prefix = match album {
            Some(album) => ObjectPrefix::album(owner, album),
            None => ObjectPrefix::user(owner),
        };
        Self(format!("{}{id}.{}", prefix.0, content_type.extension()))
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

    /// A key read back from an image row, which only these constructors wrote.
    pub fn from_stored(key: &str) -> Self {
        Self(key.to_owned())
    }

    /// Whether it is a public image's key, which the CDN serves to anyone (and may have cached).
    pub fn is_public(&self) -> bool {
        self.0.starts_with("public/")
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

/// A folder of the bucket that one CloudFront cookie set opens: a user's own prefix
/// (`users/{owner}/`) or one album of theirs (`users/{owner}/albums/{album}/`). It always ends in `/`,
/// so the policy `{cdn}/{prefix}*` and the cookie `Path` `/{prefix}` cover exactly what is inside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectPrefix(String);

impl ObjectPrefix {
    /// Everything of `owner`'s: `users/{owner}/`.
    pub fn user(owner: UserId) -> Self {
        Self(format!("users/{owner}/"))
    }

    /// One album: `users/{owner}/albums/{album}/`.
    pub fn album(owner: UserId, album: &AlbumId) -> Self {
        Self(format!("users/{owner}/albums/{album}/"))
    }

    /// The prefix (`users/42/`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its path on the CDN (`/users/42/`), the cookie `Path` of its set.
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
        let album = AlbumId::parse("bbbbbbbbbbbbbbbbbbbbbbbbbb").expect("album id");
        assert_eq!(
            ImageKey::private_in(UserId(42), Some(&album), &id, ContentType::Png).as_str(),
            "users/42/albums/bbbbbbbbbbbbbbbbbbbbbbbbbb/abcdefghijklmnopqrstuvwxyz.png"
        );
        assert_eq!(
            ImageKey::private_in(UserId(42), None, &id, ContentType::Webp),
            private
        );
        assert_eq!(
            ObjectPrefix::album(UserId(42), &album).cdn_path(),
            "/users/42/albums/bbbbbbbbbbbbbbbbbbbbbbbbbb/"
        );
        assert_eq!(ObjectPrefix::user(UserId(42)).as_str(), "users/42/");
    }

    #[test]
    fn album_ids_take_the_form_of_image_ids_and_nothing_else() {
        let album = AlbumId::generate().expect("id");
        assert_eq!(AlbumId::parse(album.as_str()), Some(album));
        for bad in [
            "",
            "..",
            "abcdefghijklmnopqrstuvwxy/",
            "abcdefghijklmnopqrstuvwxyz0",
        ] {
            assert_eq!(AlbumId::parse(bad), None, "{bad}");
        }
    }
}
