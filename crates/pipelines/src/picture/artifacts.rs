//! The names of what a `picture` job writes: one picture, named after its
//! format.

pub const PNG: &str = "picture.png";
pub const JPEG: &str = "picture.jpg";
pub const WEBP: &str = "picture.webp";

/// Every name a picture may have.
pub const ALL: [&str; 3] = [PNG, JPEG, WEBP];

/// The name for an encoded picture, by its first bytes; none when it is
/// not one of the formats above.
pub fn named_for(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(WEBP)
    } else {
        None
    }
}
