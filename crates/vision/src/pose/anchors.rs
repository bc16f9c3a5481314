//! The SSD anchors of the BlazePose detector: the centres its box offsets are
//! relative to (MediaPipe's SsdAnchorsCalculator with the pose detector's
//! options: 224 × 224 input, strides 8, 16, 32, 32, 32, fixed anchor size).

/// The detector's input side in pixels.
pub const DETECTOR_INPUT: usize = 224;
const STRIDES: [usize; 5] = [8, 16, 32, 32, 32];
/// One anchor of aspect ratio 1 per layer plus one interpolated scale.
const ANCHORS_PER_LAYER: usize = 2;

/// Anchor centres as fractions of the input side, in the model's output order.
pub fn pose_anchors() -> Vec<(f32, f32)> {
    let mut anchors = Vec::new();
    let mut layer = 0;
    while layer < STRIDES.len() {
        // Layers of equal stride share one feature map.
        let same = STRIDES[layer..]
            .iter()
            .take_while(|&&s| s == STRIDES[layer])
            .count();
        let cells = DETECTOR_INPUT.div_ceil(STRIDES[layer]);
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
    fn there_are_as_many_anchors_as_detector_outputs() {
        let anchors = pose_anchors();
        assert_eq!(anchors.len(), 2254);
        assert_eq!(anchors[0], (0.5 / 28.0, 0.5 / 28.0));
        assert_eq!(anchors[2253], (6.5 / 7.0, 6.5 / 7.0));
    }
}
