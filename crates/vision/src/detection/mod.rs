//! What MediaPipe's single-shot detectors (BlazePose, BlazeFace) share: the
//! anchors their outputs are offsets from, decoding those offsets into boxes
//! and keypoints in frame pixels, weighted non-maximum suppression, and the
//! rotated square region a model looks at.

mod nms;
mod roi;
mod ssd;

pub use nms::weighted_nms;
pub use roi::Roi;
pub(crate) use ssd::SsdDecoder;

/// Something a detector found, in frame pixels: its score (0..1), its box
/// (centre x, centre y, width, height) and `K` keypoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection<const K: usize> {
    pub score: f32,
    pub bbox: [f32; 4],
    pub keypoints: [(f32, f32); K],
}

/// Intersection over union of two centre-size boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let span = |c: f32, s: f32| (c - s / 2.0, c + s / 2.0);
    let overlap = |(a0, a1): (f32, f32), (b0, b1): (f32, f32)| (a1.min(b1) - a0.max(b0)).max(0.0);
    let inter =
        overlap(span(a[0], a[2]), span(b[0], b[2])) * overlap(span(a[1], a[3]), span(b[1], b[3]));
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}
