//! SSD anchors (MediaPipe's SsdAnchorsCalculator with a fixed anchor size)
//! and the decoding of a detector's raw outputs against them.

use super::{Detection, Roi};

/// One anchor of aspect ratio 1 per layer plus one interpolated scale.
const ANCHORS_PER_LAYER: usize = 2;
/// Each detection: box (cx, cy, w, h), then the keypoints' (x, y).
const BOX_VALUES: usize = 4;

/// Anchors for a detector with a square input of `side` pixels and feature
/// layers of `strides`, and the decoding of its outputs.
pub(crate) struct SsdDecoder {
    side: usize,
    /// Anchor centres as fractions of the input side, in output order.
    anchors: Vec<(f32, f32)>,
}

impl SsdDecoder {
    pub(crate) fn new(side: usize, strides: &[usize]) -> Self {
        Self {
            side,
            anchors: anchors(side, strides),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Every anchor whose score logit passes `min_score` once squashed, as a
    /// detection in frame pixels; `raw` holds `4 + 2K` values per anchor,
    /// `letterbox` is the region the input was cropped from.
    pub(crate) fn decode<const K: usize>(
        &self,
        scores: &[f32],
        raw: &[f32],
        min_score: f32,
        letterbox: &Roi,
    ) -> Vec<Detection<K>> {
        let per_anchor = raw.len() / self.anchors.len().max(1);
        let side = self.side as f32;
        let scale = letterbox.size / side;
        (0..self.anchors.len())
            .filter_map(|i| {
                let score = crate::sigmoid(scores[i].clamp(-100.0, 100.0));
                if score < min_score || per_anchor < BOX_VALUES + 2 * K {
                    return None;
                }
                let values = &raw[i * per_anchor..(i + 1) * per_anchor];
                let (ax, ay) = self.anchors[i];
                let point = |x: f32, y: f32| letterbox.to_frame(x / side + ax, y / side + ay);
                if !values.iter().all(|v| v.is_finite()) || values[2] <= 0.0 || values[3] <= 0.0 {
                    return None;
                }
                let (cx, cy) = point(values[0], values[1]);
                let mut keypoints = [(0.0, 0.0); K];
                for (k, keypoint) in keypoints.iter_mut().enumerate() {
                    let at = BOX_VALUES + 2 * k;
                    *keypoint = point(values[at], values[at + 1]);
                }
                Some(Detection {
                    score,
                    bbox: [cx, cy, values[2] * scale, values[3] * scale],
                    keypoints,
                })
            })
            .collect()
    }
}

/// Anchor centres as fractions of the input side, in the model's output
/// order: layers of equal stride share one feature map, cell by cell.
fn anchors(side: usize, strides: &[usize]) -> Vec<(f32, f32)> {
    let mut anchors = Vec::new();
    let mut layer = 0;
    while layer < strides.len() {
        let same = strides[layer..]
            .iter()
            .take_while(|&&s| s == strides[layer])
            .count();
        let cells = side.div_ceil(strides[layer]);
        for y in 0..cells {
            for x in 0..cells {
                let centre = (
                    (x as f32 + 0.5) / cells as f32,
                    (y as f32 + 0.5) / cells as f32,
                );
                anchors.extend(std::iter::repeat_n(centre, same * ANCHORS_PER_LAYER));
            }
        }
        layer += same;
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pose_detector_has_as_many_anchors_as_outputs() {
        let anchors = anchors(224, &[8, 16, 32, 32, 32]);
        assert_eq!(anchors.len(), 2254);
        assert_eq!(anchors[0], (0.5 / 28.0, 0.5 / 28.0));
        assert_eq!(anchors[2253], (6.5 / 7.0, 6.5 / 7.0));
    }

    #[test]
    fn the_full_range_face_detector_has_as_many_anchors_as_outputs() {
        let anchors = anchors(256, &[16, 32, 32, 32]);
        assert_eq!(anchors.len(), 512 + 384);
        assert_eq!(anchors[1], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(anchors[512], (0.5 / 8.0, 0.5 / 8.0));
    }
}
