//! Splits the byte stream of ffmpeg's `image2pipe` muxer into whole images.
//! JPEG and PNG mark their own ends, so the stream needs no framing of its own.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::MediaError;

/// The still-image formats kinoflow writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
        }
    }
}

/// Reads whole images, one after the other, from a pipe.
pub(crate) struct ImageSplitter<R> {
    reader: R,
    format: ImageFormat,
    buffer: Vec<u8>,
}

const READ_CHUNK: usize = 256 * 1024;

impl<R: AsyncRead + Unpin> ImageSplitter<R> {
    pub fn new(reader: R, format: ImageFormat) -> Self {
        Self {
            reader,
            format,
            buffer: Vec::new(),
        }
    }

    /// The next image, or `None` at the end of the stream.
    pub async fn next_image(&mut self) -> Result<Option<Vec<u8>>, MediaError> {
        loop {
            let end = match self.format {
                ImageFormat::Jpeg => jpeg_end(&self.buffer)?,
                ImageFormat::Png => png_end(&self.buffer)?,
            };
            if let Some(end) = end {
                let rest = self.buffer.split_off(end);
                return Ok(Some(std::mem::replace(&mut self.buffer, rest)));
            }
            let start = self.buffer.len();
            self.buffer.resize(start + READ_CHUNK, 0);
            let n = self.reader.read(&mut self.buffer[start..]).await?;
            self.buffer.truncate(start + n);
            if n == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(MediaError::Ffmpeg(
                        "the image stream ended mid-image".to_owned(),
                    ))
                };
            }
        }
    }
}

fn corrupt(what: &str) -> MediaError {
    MediaError::Ffmpeg(format!("ffmpeg wrote a malformed {what} image"))
}

/// Where the JPEG at the start of `data` ends, if it is all there. Marker
/// segments are skipped by their length; entropy-coded data ends at the first
/// 0xFF that is neither a stuffed byte nor a restart marker.
fn jpeg_end(data: &[u8]) -> Result<Option<usize>, MediaError> {
    if data.len() < 2 {
        return Ok(None);
    }
    if data[0..2] != [0xFF, 0xD8] {
        return Err(corrupt("JPEG"));
    }
    let mut at = 2;
    let mut in_scan = false;
    while at + 1 < data.len() {
        if in_scan {
            let next = data[at + 1];
            if data[at] == 0xFF && next != 0x00 && !(0xD0..=0xD7).contains(&next) {
                in_scan = false;
            } else {
                at += 1;
            }
            continue;
        }
        if data[at] != 0xFF {
            return Err(corrupt("JPEG"));
        }
        let marker = data[at + 1];
        match marker {
            0xD9 => return Ok(Some(at + 2)),
            0xFF => at += 1,
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                if at + 4 > data.len() {
                    return Ok(None);
                }
                let length = u16::from_be_bytes([data[at + 2], data[at + 3]]) as usize;
                at += 2 + length;
                in_scan = marker == 0xDA;
            }
        }
    }
    Ok(None)
}

/// Where the PNG at the start of `data` ends (after its IEND chunk), if it is all there.
fn png_end(data: &[u8]) -> Result<Option<usize>, MediaError> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if data.len() < 8 {
        return Ok(None);
    }
    if data[..8] != SIGNATURE {
        return Err(corrupt("PNG"));
    }
    let mut at = 8;
    while at + 8 <= data.len() {
        let length =
            u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let end = at + 12 + length;
        if end > data.len() {
            return Ok(None);
        }
        if &data[at + 4..at + 8] == b"IEND" {
            return Ok(Some(end));
        }
        at = end;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_jpeg(scan: &[u8]) -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9];
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02]);
        jpeg.extend_from_slice(scan);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg
    }

    #[tokio::test]
    async fn splits_jpegs_even_with_end_markers_inside_segments() {
        // The APP0 payload holds FF D9, and the scan holds stuffed FF 00 and a restart marker.
        let one = tiny_jpeg(&[1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3]);
        let two = tiny_jpeg(&[9, 9]);
        let stream = [one.clone(), two.clone()].concat();
        let mut splitter = ImageSplitter::new(&stream[..], ImageFormat::Jpeg);
        assert_eq!(splitter.next_image().await.unwrap(), Some(one));
        assert_eq!(splitter.next_image().await.unwrap(), Some(two));
        assert_eq!(splitter.next_image().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_truncated_image_is_an_error() {
        let one = tiny_jpeg(&[1, 2, 3]);
        let mut splitter = ImageSplitter::new(&one[..one.len() - 1], ImageFormat::Jpeg);
        assert!(splitter.next_image().await.is_err());
    }
}
