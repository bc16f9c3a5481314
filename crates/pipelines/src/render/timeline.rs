//! When each scene plays, counted in frames so that the video has exactly
//! the frames its timeline says: a scene lasts its narration (plus a pause
//! and the transition), else the duration the spec gives, else 5 s; a
//! crossfade overlaps a scene's end with the next one's start.

use std::path::PathBuf;

use serde::Serialize;

use super::params::{Motion, WordTiming};

/// A scene without narration or duration lasts this long.
pub const DEFAULT_SCENE_S: f64 = 5.0;
/// Silence kept after a scene's narration before the next one starts.
pub const NARRATION_PAD_S: f64 = 0.4;

/// What a scene shows.
#[derive(Debug, Clone)]
pub enum Visual {
    Image(PathBuf),
    /// A clip.
    Video(PathBuf),
    Black,
}

impl Visual {
    fn name(&self) -> &'static str {
        match self {
            Visual::Image(_) => "image",
            Visual::Video(_) => "video",
            Visual::Black => "black",
        }
    }
}

/// A scene as it will be rendered: its media on disk and its narration.
#[derive(Debug, Clone)]
pub struct PreparedScene {
    /// Its place in the spec's list.
    pub index: usize,
    pub visual: Visual,
    pub motion: Motion,
    /// The narration's sound, and how long it runs.
    pub narration: Option<(PathBuf, f64)>,
    /// When each word is said, from the scene's start.
    pub words: Vec<WordTiming>,
    /// The duration the spec gives, used when there is no narration.
    pub duration_s: Option<f64>,
}

/// A scene placed on the timeline.
#[derive(Debug, Clone)]
pub struct Placed {
    pub scene: PreparedScene,
    /// Its first frame in the video.
    pub start_frame: u64,
    pub frames: u64,
}

/// The whole video.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub fps: u32,
    /// Frames each crossfade lasts (0: cuts).
    pub transition_frames: u64,
    pub scenes: Vec<Placed>,
    pub total_frames: u64,
}

impl Timeline {
    /// Lays `scenes` out at `fps` with crossfades of `transition_s` (0 for
    /// cuts). A crossfade is shortened to half the shortest scene.
    pub fn plan(scenes: Vec<PreparedScene>, fps: u32, transition_s: f64) -> Timeline {
        let rate = f64::from(fps);
        let wanted = (transition_s * rate).round() as u64;
        let lengths: Vec<u64> = scenes
            .iter()
            .map(|scene| scene_frames(scene, wanted as f64 / rate, rate))
            .collect();
        let shortest = lengths.iter().copied().min().unwrap_or(1);
        let transition_frames = if scenes.len() > 1 {
            wanted.min(shortest.saturating_sub(1) / 2)
        } else {
            0
        };
        let mut placed = Vec::with_capacity(scenes.len());
        let mut start = 0;
        for (scene, frames) in scenes.into_iter().zip(lengths) {
            placed.push(Placed {
                scene,
                start_frame: start,
                frames,
            });
            start += frames - transition_frames;
        }
        let total_frames = placed
            .last()
            .map(|last| last.start_frame + last.frames)
            .unwrap_or(0);
        Timeline {
            fps,
            transition_frames,
            scenes: placed,
            total_frames,
        }
    }

    pub fn seconds(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.fps)
    }

    pub fn duration_s(&self) -> f64 {
        self.seconds(self.total_frames)
    }

    /// Every word said, in the video's time.
    pub fn words(&self) -> Vec<WordTiming> {
        let mut words = Vec::new();
        for placed in &self.scenes {
            let offset = self.seconds(placed.start_frame);
            let end = self.seconds(placed.start_frame + placed.frames);
            for word in &placed.scene.words {
                let start = offset + word.start;
                if start >= end {
                    continue;
                }
                words.push(WordTiming {
                    word: word.word.clone(),
                    start,
                    end: (offset + word.end).min(end),
                });
            }
        }
        words
    }

    /// What `timeline.json` says of the scenes.
    pub fn scene_entries(&self) -> Vec<SceneEntry> {
        self.scenes
            .iter()
            .map(|placed| SceneEntry {
                index: placed.scene.index,
                start_s: self.seconds(placed.start_frame),
                end_s: self.seconds(placed.start_frame + placed.frames),
                start_frame: placed.start_frame,
                frames: placed.frames,
                visual: placed.scene.visual.name(),
                narration_s: placed.scene.narration.as_ref().map(|(_, length)| *length),
            })
            .collect()
    }
}

/// A scene in `timeline.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SceneEntry {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub start_frame: u64,
    pub frames: u64,
    pub visual: &'static str,
    pub narration_s: Option<f64>,
}

/// How many frames a scene lasts: its narration with a pause and room for
/// the crossfade, else its duration, else the default; at least one.
fn scene_frames(scene: &PreparedScene, transition_s: f64, rate: f64) -> u64 {
    let seconds = match (&scene.narration, scene.duration_s) {
        (Some((_, narration)), _) => narration + NARRATION_PAD_S + transition_s,
        (None, Some(duration)) => duration,
        (None, None) => DEFAULT_SCENE_S,
    };
    ((seconds * rate).round() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(index: usize, narration: Option<f64>, duration_s: Option<f64>) -> PreparedScene {
        PreparedScene {
            index,
            visual: Visual::Black,
            motion: Motion::None,
            narration: narration.map(|length| (PathBuf::from("n.wav"), length)),
            words: vec![WordTiming {
                word: "hi".to_owned(),
                start: 0.5,
                end: 0.9,
            }],
            duration_s,
        }
    }

    #[test]
    fn crossfades_overlap_the_scenes() {
        let timeline = Timeline::plan(
            vec![
                scene(0, Some(2.3), None),
                scene(1, None, Some(3.0)),
                scene(2, None, None),
            ],
            30,
            0.3,
        );
        let frames: Vec<(u64, u64)> = timeline
            .scenes
            .iter()
            .map(|p| (p.start_frame, p.frames))
            .collect();
        // 2.3 + 0.4 + 0.3 s = 90 frames; the next starts 9 frames before its end.
        assert_eq!(frames, vec![(0, 90), (81, 90), (162, 150)]);
        assert_eq!(timeline.total_frames, 312);
        let starts: Vec<f64> = timeline.words().iter().map(|w| w.start).collect();
        for (start, expected) in starts.iter().zip([0.5, 3.2, 5.9]) {
            assert!((start - expected).abs() < 1e-9, "{starts:?}");
        }
        assert_eq!(starts.len(), 3);
    }

    #[test]
    fn a_crossfade_never_outlasts_half_a_scene() {
        let timeline = Timeline::plan(
            vec![scene(0, None, Some(0.2)), scene(1, None, Some(4.0))],
            10,
            1.0,
        );
        assert_eq!(timeline.transition_frames, 0);
        assert_eq!(timeline.total_frames, 42);
    }
}
