//! A finished analysis in DeepEmotion's terms: its frames, from the
//! `emotion` job's `emotions.csv`, and its numbers, from `summary.json`.

use std::collections::{BTreeMap, HashMap};

use kinoflow_engine::store::{JobRecord, JobState};
use kinoflow_pipelines::artifacts::emotion::{EMOTIONS_CSV, SUMMARY};
use tokio::io::AsyncReadExt;

use super::records::{Records, VideoRow};
use super::vocabulary::{emotion_word, FrameView};
use crate::error::{code, ApiError};
use crate::state::AppState;

/// The most bytes of a data file read into memory (an hour of video with
/// three faces in every frame is about 30 MB of CSV).
const MAX_DATA_BYTES: u64 = 256 * 1024 * 1024;

/// One face in one frame, as a row of `emotions.csv` has it.
#[derive(Debug, Clone)]
struct FaceRow {
    frame: i64,
    time_s: f64,
    face_id: u64,
    /// The pipeline's labels with their probabilities, in its order.
    probabilities: Vec<(String, f64)>,
}

/// The frames of a finished analysis: in each frame where a face was seen,
/// the face of the person seen longest among those in it (so a video's
/// main person is followed, and another face stands in while they are
/// away); frames without a face are left out, as the original left out
/// frames it could not read.
pub async fn frames(state: &AppState, job: &JobRecord) -> Result<Vec<FrameView>, ApiError> {
    let Some(text) = data_file(state, &job.id, EMOTIONS_CSV).await? else {
        return Ok(Vec::new());
    };
    let rows = parse_rows(&text)
        .map_err(|e| ApiError::internal(format!("{EMOTIONS_CSV} of job {}: {e}", job.id)))?;
    Ok(main_faces(rows)
        .into_iter()
        .enumerate()
        .map(|(index, row)| frame_view(index as i64 + 1, &job.id, row))
        .collect())
}

/// A video's frame count and length, read once from its finished job's
/// summary and kept; zero while it has not succeeded.
pub async fn numbers(
    state: &AppState,
    row: &VideoRow,
    job: &JobRecord,
) -> Result<(i64, f64), ApiError> {
    if let (Some(frames), Some(duration)) = (row.frame_count, row.duration_s) {
        return Ok((frames, duration));
    }
    if job.state != JobState::Succeeded {
        return Ok((0, 0.0));
    }
    let Some(text) = data_file(state, &job.id, SUMMARY).await? else {
        return Ok((0, 0.0));
    };
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ApiError::internal(format!("{SUMMARY} of job {}: {e}", job.id)))?;
    let frames = summary["frames_with_faces"].as_i64().unwrap_or(0);
    let duration = summary["duration_s"].as_f64().unwrap_or(0.0);
    Records(state.store.as_ref())
        .set_results(&row.upload_id, frames, duration)
        .await?;
    Ok((frames, duration))
}

/// A data artifact of a job as text, if the job has it.
async fn data_file(state: &AppState, job_id: &str, name: &str) -> Result<Option<String>, ApiError> {
    let Some(artifact) = state.engine.artifact(job_id, name).await? else {
        return Ok(None);
    };
    let reader = state.engine.read_artifact(&artifact, None).await?;
    if artifact.size as u64 > MAX_DATA_BYTES {
        return Err(ApiError::new(
            code::TOO_LARGE,
            format!("{name} is larger than the {MAX_DATA_BYTES} bytes this API reads; download it from /v1"),
        ));
    }
    let mut text = String::new();
    reader
        .take(MAX_DATA_BYTES)
        .read_to_string(&mut text)
        .await
        .map_err(|e| ApiError::internal(format!("reading {name} of job {job_id}: {e}")))?;
    Ok(Some(text))
}

/// The rows of `emotions.csv`. Its columns are the pipeline's own (numbers
/// and one-word labels, never quoted), so a split on commas reads them; the
/// emotions are the columns between `score` and `label`.
fn parse_rows(text: &str) -> Result<Vec<FaceRow>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("no header")?.split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|c| *c == name)
            .ok_or(format!("no column {name}"))
    };
    let (frame, time, face, score, label) = (
        column("frame")?,
        column("time_s")?,
        column("face_id")?,
        column("score")?,
        column("label")?,
    );
    let emotions = header
        .get(score + 1..label)
        .ok_or("the emotions are not between score and label")?;
    lines
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let number = |index: usize| {
                cells
                    .get(index)
                    .and_then(|cell| cell.parse::<f64>().ok())
                    .ok_or(format!("unreadable row {line:?}"))
            };
            let probabilities = emotions
                .iter()
                .enumerate()
                .map(|(k, emotion)| Ok(((*emotion).to_owned(), number(score + 1 + k)?)))
                .collect::<Result<_, String>>()?;
            Ok(FaceRow {
                frame: number(frame)? as i64,
                time_s: number(time)?,
                face_id: number(face)? as u64,
                probabilities,
            })
        })
        .collect()
}

/// In each frame, the face of the person seen in the most frames among
/// those there; frames in order.
fn main_faces(rows: Vec<FaceRow>) -> Vec<FaceRow> {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for row in &rows {
        *seen.entry(row.face_id).or_default() += 1;
    }
    // Most frames first; the earlier id among equals.
    let rank = |row: &FaceRow| (std::cmp::Reverse(seen[&row.face_id]), row.face_id);
    let mut by_frame: BTreeMap<i64, FaceRow> = BTreeMap::new();
    for row in rows {
        match by_frame.get(&row.frame) {
            Some(kept) if rank(kept) <= rank(&row) => {}
            _ => {
                by_frame.insert(row.frame, row);
            }
        }
    }
    by_frame.into_values().collect()
}

/// A frame the original's way and the current web client's.
fn frame_view(id: i64, video_id: &str, row: FaceRow) -> FrameView {
    let mut ranked: Vec<(String, f64)> = row
        .probabilities
        .into_iter()
        .map(|(emotion, p)| (emotion_word(&emotion), p))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (top, confidence) = ranked
        .first()
        .cloned()
        .unwrap_or_else(|| ("neutral".to_owned(), 0.0));
    FrameView {
        id,
        video_id: video_id.to_owned(),
        frame_number: row.frame,
        video_timestamp_sec: row.time_s,
        emotion: top.to_uppercase(),
        confidence,
        emotions: ranked.iter().map(|(emotion, _)| emotion.clone()).collect(),
        confidences: ranked.iter().map(|(_, p)| *p).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "frame,time_s,face_id,x,y,w,h,score,angry,disgust,fear,happy,sad,surprise,neutral,label
0,0.0000,1,10.0,10.0,50.0,50.0,0.9000,0.0100,0.0000,0.0100,0.9000,0.0200,0.0100,0.0500,happy
0,0.0000,2,200.0,10.0,50.0,50.0,0.9000,0.0100,0.0000,0.0100,0.0100,0.0200,0.9000,0.0500,surprise
1,0.0400,1,10.0,10.0,50.0,50.0,0.9000,0.0100,0.0000,0.0100,0.8000,0.0200,0.1100,0.0500,happy
2,0.0800,2,200.0,10.0,50.0,50.0,0.9000,0.0100,0.0000,0.0100,0.0100,0.0200,0.9000,0.0500,surprise
";

    #[test]
    fn each_frame_follows_the_person_seen_longest() {
        let frames: Vec<FrameView> = main_faces(parse_rows(CSV).unwrap())
            .into_iter()
            .enumerate()
            .map(|(i, row)| frame_view(i as i64 + 1, "v", row))
            .collect();
        let labels: Vec<(i64, &str)> = frames
            .iter()
            .map(|f| (f.frame_number, f.emotion.as_str()))
            .collect();
        // Person 1 (two frames) in frames 0 and 1; person 2 stands in at 2.
        assert_eq!(labels, [(0, "HAPPY"), (1, "HAPPY"), (2, "SURPRISED")]);
        assert_eq!(frames[2].emotions[0], "surprised");
        assert_eq!(frames[0].emotions.len(), 7);
        assert_eq!(frames[0].confidence, 0.9);
        assert!(frames[0].confidences.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(frames[1].id, 2);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_guess() {
        assert!(parse_rows("frame,time_s\n0,0\n").is_err());
        // A probability that is not a number; a row cut short.
        assert!(parse_rows(&CSV.replace(",0.9000,0.0200,", ",x,0.0200,")).is_err());
        assert!(parse_rows(&CSV.replace(",0.0500,happy", "")).is_err());
    }
}
