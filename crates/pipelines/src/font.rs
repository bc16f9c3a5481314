//! The font charts and overlays are labelled with: DejaVu Sans, built into
//! the binary, so that drawing text needs no system fonts.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The family name to ask plotters for.
pub const FAMILY: &str = "sans-serif";

/// Registers the font once per process.
pub fn ensure_registered() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // The bytes are a well-formed TrueType font shipped by the crate, so
        // this cannot fail; if it did, text would only be missing.
        if register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_err() {
            tracing::warn!("the built-in font could not be registered; labels will be missing");
        }
    });
}
