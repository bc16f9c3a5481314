//! The fonts captions may use: DejaVu faces built into the binary (the
//! `dejavu` crate), written out for libass when a render needs them, so
//! that a caption never depends on what fonts a machine has installed.

use std::path::Path;

/// The family captions use unless the spec names another.
pub const DEFAULT: &str = "DejaVu Sans";
/// Every family a spec may name.
pub const NAMES: [&str; 4] = [
    "DejaVu Sans",
    "DejaVu Sans Condensed",
    "DejaVu Sans Mono",
    "DejaVu Serif",
];

/// Writes the regular and bold faces of every family into `dir`.
pub async fn write_all(dir: &Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let faces: [(&str, &[u8]); 8] = [
        ("DejaVuSans.ttf", dejavu::sans::regular()),
        ("DejaVuSans-Bold.ttf", dejavu::sans::bold()),
        ("DejaVuSansCondensed.ttf", dejavu::sans_condensed::regular()),
        (
            "DejaVuSansCondensed-Bold.ttf",
            dejavu::sans_condensed::bold(),
        ),
        ("DejaVuSansMono.ttf", dejavu::sans_mono::regular()),
        ("DejaVuSansMono-Bold.ttf", dejavu::sans_mono::bold()),
        ("DejaVuSerif.ttf", dejavu::serif::regular()),
        ("DejaVuSerif-Bold.ttf", dejavu::serif::bold()),
    ];
    for (name, bytes) in faces {
        tokio::fs::write(dir.join(name), bytes).await?;
    }
    Ok(())
}
