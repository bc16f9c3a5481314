//! MediaPipe's weighted non-maximum suppression: each detection that no
//! better one overlaps becomes the score-weighted mean of those overlapping
//! it, which steadies boxes from frame to frame better than keeping one.

use super::{iou, Detection};

/// The distinct objects among `candidates`, best first: candidates
/// overlapping a better one by more than `min_iou` are merged into it.
pub fn weighted_nms<const K: usize>(
    mut candidates: Vec<Detection<K>>,
    min_iou: f32,
) -> Vec<Detection<K>> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = Vec::new();
    let mut rest = candidates.into_iter();
    while let Some(best) = rest.next() {
        // The best is taken out first: a degenerate box overlaps nothing,
        // not even itself, and must still leave the queue.
        let (mut same, others): (Vec<_>, Vec<_>) =
            rest.partition(|c| iou(&c.bbox, &best.bbox) > min_iou);
        same.insert(0, best);
        kept.push(merge(same[0].score, &same));
        rest = others.into_iter();
    }
    kept
}

/// The score-weighted mean of `same`'s boxes and keypoints, keeping `score`.
fn merge<const K: usize>(score: f32, same: &[Detection<K>]) -> Detection<K> {
    let total: f32 = same.iter().map(|c| c.score).sum();
    let mut merged = Detection {
        score,
        bbox: [0.0; 4],
        keypoints: [(0.0, 0.0); K],
    };
    for c in same {
        let w = c.score / total;
        for (m, v) in merged.bbox.iter_mut().zip(c.bbox) {
            *m += w * v;
        }
        for (m, v) in merged.keypoints.iter_mut().zip(c.keypoints) {
            m.0 += w * v.0;
            m.1 += w * v.1;
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, score: f32) -> Detection<1> {
        Detection {
            score,
            bbox: [x, 0.0, 10.0, 10.0],
            keypoints: [(x, 0.0)],
        }
    }

    #[test]
    fn a_degenerate_box_is_kept_once() {
        let mut flat = at(0.0, 0.9);
        flat.bbox[2] = 0.0;
        assert_eq!(weighted_nms(vec![flat, at(50.0, 0.5)], 0.3).len(), 2);
    }

    #[test]
    fn overlapping_detections_merge_and_apart_ones_stay() {
        let kept = weighted_nms(vec![at(0.0, 0.6), at(100.0, 0.7), at(2.0, 0.9)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        let merged_x = (2.0 * 0.9 + 0.0 * 0.6) / 1.5;
        assert!((kept[0].bbox[0] - merged_x).abs() < 1e-5);
        assert_eq!(kept[1].bbox[0], 100.0);
    }
}
