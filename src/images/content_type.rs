//! The image types edgepass accepts, recognised by declared type and by their first bytes.
//!
//! Only raster formats browsers display safely are accepted: no SVG (it can carry script) and nothing
//! a browser might render as a page.

use std::fmt;

use crate::domain::InvalidInput;

/// An accepted image type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/webp`
    Webp,
    /// `image/gif`
    Gif,
    /// `image/avif`
    Avif,
}

impl ContentType {
    /// Every accepted type.
    pub const ALL: [Self; 5] = [Self::Jpeg, Self::Png, Self::Webp, Self::Gif, Self::Avif];

    /// How many leading bytes [`ContentType::sniff`] needs to decide.
    pub const SNIFF_LEN: usize = 64;

    /// The MIME type, exactly as stored and as pinned in upload URLs.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Avif => "image/avif",
        }
    }

    /// The file extension used in object keys.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Avif => "avif",
        }
    }

    /// Accepts exactly one of the five MIME types (case-insensitive, no parameters).
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let lowered = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.mime() == lowered)
            .ok_or_else(|| InvalidInput {
                field: "content_type",
                reason: format!(
                    "{text:?} is not accepted; use one of {}",
                    Self::ALL.map(Self::mime).join(", ")
                ),
            })
    }

    /// The type whose signature `head` (the first bytes of a file) starts with, if any.
    ///
    /// Only the first [`ContentType::SNIFF_LEN`] bytes count, so the verdict on a whole file is the one
    /// the upload check reaches on the prefix it reads.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        let head = &head[..head.len().min(Self::SNIFF_LEN)];
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            return Some(Self::Gif);
        }
        if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Some(Self::Webp);
        }
        if is_avif(head) {
            return Some(Self::Avif);
        }
        None
    }
}

/// An ISO-BMFF `ftyp` box whose major or a compatible brand is `avif` or `avis`.
fn is_avif(head: &[u8]) -> bool {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return false;
    }
    let box_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = box_len.min(head.len());
    let is_brand = |b: &[u8]| b == b"avif" || b == b"avis";
    if is_brand(&head[8..12]) {
        return true;
    }
    // After the major brand (8..12) and minor version (12..16) come the compatible brands.
    head.get(16..end)
        .is_some_and(|brands| brands.chunks_exact(4).any(is_brand))
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_types_parse_and_others_are_refused() {
        for t in ContentType::ALL {
            assert_eq!(ContentType::parse(t.mime()), Ok(t));
        }
        assert_eq!(ContentType::parse(" Image/PNG "), Ok(ContentType::Png));
        for bad in [
            "image/svg+xml",
            "text/html",
            "image/png; charset=x",
            "application/octet-stream",
            "",
        ] {
            let error = ContentType::parse(bad).expect_err(bad);
            assert_eq!(error.field, "content_type");
        }
    }

    #[test]
    fn magic_numbers_identify_each_type() {
        let cases: [(&[u8], Option<ContentType>); 9] = [
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some(ContentType::Jpeg)),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Some(ContentType::Png)),
            (b"GIF89a\x01\x00", Some(ContentType::Gif)),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", Some(ContentType::Webp)),
            (
                b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",
                Some(ContentType::Avif),
            ),
            (
                b"\x00\x00\x00\x20ftypmif1\x00\x00\x00\x00mif1avifmiaf",
                Some(ContentType::Avif),
            ),
            (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", None),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\">", None),
            (b"<!DOCTYPE html><html>", None),
        ];
        for (head, expected) in cases {
            assert_eq!(ContentType::sniff(head), expected, "{head:?}");
        }
        assert_eq!(ContentType::sniff(b""), None);
        assert_eq!(ContentType::sniff(b"RIFF"), None);
    }

    #[test]
    fn bytes_past_sniff_len_never_change_the_verdict() {
        // An ftyp box longer than SNIFF_LEN whose only AVIF brand lies past it (caught by the sniff fuzz
        // harness; fuzz/regressions/sniff/): the upload check reads SNIFF_LEN bytes and refuses it, so the
        // whole file is refused too.
        let mut file = b"\x00\x00\x00\x50ftypmif1\x00\x00\x00\x00".to_vec();
        while file.len() < ContentType::SNIFF_LEN {
            file.extend_from_slice(b"mif1");
        }
        file.extend_from_slice(b"avif\x00\x00\x00\x00");
        assert_eq!(ContentType::sniff(&file[..ContentType::SNIFF_LEN]), None);
        assert_eq!(ContentType::sniff(&file), None);
    }
}
