//! Faces linked frame after frame into persons: each track predicts where
//! its face moves (constant velocity), detections are assigned to tracks by
//! the Hungarian method on overlap and distance, and a track survives a few
//! frames without its face before it ends.

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;

use crate::detection::iou;

/// A detection further than this many face widths from a track's predicted
/// centre, and not overlapping it, cannot be that track's face.
const MAX_JUMP_IN_WIDTHS: f32 = 1.0;
/// Costs are fixed-point for the assignment (which loops on NaN floats).
const COST_SCALE: f32 = 1000.0;
/// The cost of leaving a track or a face unassigned, above any real pair's.
const UNASSIGNED: i64 = 10_000;
/// How much of the latest motion the velocity takes.
const VELOCITY_GAIN: f32 = 0.5;

struct Track {
    id: u32,
    /// Centre x, centre y, width, height in frame pixels.
    bbox: [f32; 4],
    /// Pixels per frame.
    velocity: (f32, f32),
    missed: u32,
}

impl Track {
    fn predicted(&self) -> [f32; 4] {
        let steps = (self.missed + 1) as f32;
        let [cx, cy, w, h] = self.bbox;
        [
            cx + self.velocity.0 * steps,
            cy + self.velocity.1 * steps,
            w,
            h,
        ]
    }

    /// The cost of this track taking the face `bbox`, or `None` when it cannot.
    fn cost(&self, bbox: &[f32; 4]) -> Option<i64> {
        let predicted = self.predicted();
        let overlap = iou(&predicted, bbox);
        let distance = (bbox[0] - predicted[0]).hypot(bbox[1] - predicted[1]);
        let widths = distance / predicted[2].max(bbox[2]).max(1.0);
        if !widths.is_finite() || (overlap <= 0.0 && widths > MAX_JUMP_IN_WIDTHS) {
            return None;
        }
        Some((((1.0 - overlap) + widths) * COST_SCALE) as i64)
    }

    fn follow(&mut self, bbox: [f32; 4]) {
        let steps = (self.missed + 1) as f32;
        let moved = (
            (bbox[0] - self.bbox[0]) / steps,
            (bbox[1] - self.bbox[1]) / steps,
        );
        self.velocity = (
            self.velocity.0 + VELOCITY_GAIN * (moved.0 - self.velocity.0),
            self.velocity.1 + VELOCITY_GAIN * (moved.1 - self.velocity.1),
        );
        self.bbox = bbox;
        self.missed = 0;
    }
}

/// Gives each face a person id (1, 2, … in order of first appearance) that
/// stays with it from frame to frame.
pub struct FaceTracker {
    tracks: Vec<Track>,
    next_id: u32,
    max_missed: u32,
}

impl FaceTracker {
    /// A track survives `max_missed` frames in a row without its face and
    /// ends at the next one.
    pub fn new(max_missed: u32) -> Self {
        Self {
            tracks: Vec::new(),
            next_id: 1,
            max_missed,
        }
    }

    /// The person id of each face (boxes as centre x, centre y, width,
    /// height) found in the next frame, in the order given.
    pub fn update(&mut self, faces: &[[f32; 4]]) -> Vec<u32> {
        let assigned = self.assign(faces);
        let mut matched = vec![false; self.tracks.len()];
        for &t in assigned.iter().flatten() {
            matched[t] = true;
        }
        for (track, matched) in self.tracks.iter_mut().zip(matched) {
            if !matched {
                track.missed = track.missed.saturating_add(1);
            }
        }
        let ids = faces
            .iter()
            .zip(assigned)
            .map(|(face, track)| match track {
                Some(t) => {
                    self.tracks[t].follow(*face);
                    self.tracks[t].id
                }
                None => self.start_track(*face),
            })
            .collect();
        let max_missed = self.max_missed;
        self.tracks.retain(|t| t.missed <= max_missed);
        ids
    }

    /// For each face, the track it continues, if any.
    fn assign(&self, faces: &[[f32; 4]]) -> Vec<Option<usize>> {
        let n = self.tracks.len().max(faces.len());
        if self.tracks.is_empty() || faces.is_empty() {
            return vec![None; faces.len()];
        }
        // Square, so that either side may have more: padding is "unassigned".
        let mut costs = Matrix::new(n, n, UNASSIGNED);
        for (t, track) in self.tracks.iter().enumerate() {
            for (f, face) in faces.iter().enumerate() {
                if let Some(cost) = track.cost(face) {
                    costs[(t, f)] = cost;
                }
            }
        }
        let (_, face_of_track) = kuhn_munkres_min(&costs);
        let mut track_of_face = vec![None; faces.len()];
        for (t, &f) in face_of_track.iter().enumerate() {
            if t < self.tracks.len() && f < faces.len() && costs[(t, f)] < UNASSIGNED {
                track_of_face[f] = Some(t);
            }
        }
        track_of_face
    }

    fn start_track(&mut self, bbox: [f32; 4]) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.tracks.push(Track {
            id,
            bbox,
            velocity: (0.0, 0.0),
            missed: 0,
        });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(cx: f32, cy: f32) -> [f32; 4] {
        [cx, cy, 40.0, 40.0]
    }

    #[test]
    fn two_faces_keep_their_ids_as_they_move() {
        let mut tracker = FaceTracker::new(3);
        assert_eq!(
            tracker.update(&[face(100.0, 100.0), face(300.0, 100.0)]),
            [1, 2]
        );
        // Listed the other way round, both moved a little.
        assert_eq!(
            tracker.update(&[face(305.0, 102.0), face(104.0, 101.0)]),
            [2, 1]
        );
    }

    #[test]
    fn a_face_missed_for_a_few_frames_keeps_its_id_and_a_far_one_is_new() {
        let mut tracker = FaceTracker::new(2);
        tracker.update(&[face(100.0, 100.0)]);
        tracker.update(&[]);
        tracker.update(&[]);
        assert_eq!(tracker.update(&[face(102.0, 100.0)]), [1]);
        assert_eq!(
            tracker.update(&[face(102.0, 100.0), face(400.0, 300.0)]),
            [1, 2]
        );
    }

    #[test]
    fn a_track_ends_after_too_many_missed_frames() {
        let mut tracker = FaceTracker::new(1);
        tracker.update(&[face(100.0, 100.0)]);
        tracker.update(&[]);
        tracker.update(&[]);
        assert_eq!(tracker.update(&[face(100.0, 100.0)]), [2]);
    }
}
