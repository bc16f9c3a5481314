//! What the video pipelines share: the input's upright size, and the two
//! passes over its frames — one that analyses them on a blocking thread while
//! ffmpeg decodes ahead, one that draws on them and encodes the result.

use std::path::Path;

use kinoflow_engine::{PipelineError, ProgressReporter};
use kinoflow_media::{FrameEncoder, FrameReader, FrameReaderOptions, Probe, RgbFrame};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::failure::transient;
use crate::font::ensure_registered;

/// The upright size of the input's frames (a phone video shot in portrait
/// is stored sideways with a rotation).
pub fn upright_size(probe: &Probe) -> (u32, u32) {
    if probe.rotation % 180 == 90 {
        (probe.height, probe.width)
    } else {
        (probe.width, probe.height)
    }
}

/// How much to multiply a point of a `from`-sized frame by to place it in
/// a `to`-sized one.
pub fn scale_between(from: (u32, u32), to: (u32, u32)) -> (f32, f32) {
    (
        to.0 as f32 / from.0.max(1) as f32,
        to.1 as f32 / from.1.max(1) as f32,
    )
}

/// The part of a job's progress a pass reports: from `start` to `end`,
/// saying `what` it does.
pub struct Span<'a> {
    pub reporter: &'a ProgressReporter,
    pub start: f64,
    pub end: f64,
    pub what: &'static str,
}

impl<'a> Span<'a> {
    /// The share `(start, end)` of `reporter`'s progress, doing `what`.
    pub fn new(
        reporter: &'a ProgressReporter,
        (start, end): (f64, f64),
        what: &'static str,
    ) -> Self {
        Self {
            reporter,
            start,
            end,
            what,
        }
    }

    fn report(&self, done: u64, expected: u64) {
        let share = (done as f64 / expected.max(1) as f64).min(1.0);
        self.reporter
            .report(self.start + (self.end - self.start) * share, self.what);
    }
}

/// The first pass: every decoded frame of `input` goes to `analyse`, which
/// runs on a blocking thread, is told the decoded frames' size and gets the
/// frames as ffmpeg decodes them (two ahead at most). Gives what `analyse`
/// gave and how many frames were decoded; a video of which no frame decodes
/// is a permanent failure.
pub async fn analyse_frames<T, A>(
    input: &Path,
    probe: &Probe,
    options: &FrameReaderOptions,
    span: Span<'_>,
    cancel: &CancellationToken,
    analyse: A,
) -> Result<(T, u64), PipelineError>
where
    T: Send + 'static,
    A: FnOnce(mpsc::Receiver<RgbFrame>, (u32, u32)) -> Result<T, PipelineError> + Send + 'static,
{
    let mut reader = FrameReader::open(input, probe, options)?;
    let decoded = (reader.width, reader.height);
    let (frames_tx, frames_rx) = mpsc::channel(2);
    let analysis = tokio::task::spawn_blocking(move || analyse(frames_rx, decoded));
    let expected = probe.frame_count.unwrap_or(0);
    let mut sent = 0u64;
    loop {
        let frame = tokio::select! {
            () = cancel.cancelled() => return Err(PipelineError::Cancelled),
            frame = reader.next() => frame?,
        };
        let Some(frame) = frame else { break };
        if frames_tx.send(frame).await.is_err() {
            break;
        }
        sent += 1;
        span.report(sent, expected);
    }
    drop(frames_tx);
    let analysed = analysis.await.map_err(transient)??;
    if sent == 0 {
        return Err(PipelineError::permanent(
            "the video has no frames that could be decoded",
        ));
    }
    Ok((analysed, sent))
}

/// Draws on one frame: takes its RGB bytes, gives them back drawn on.
pub type Painter = Box<dyn FnOnce(Vec<u8>) -> Vec<u8> + Send>;

/// The second pass, the overlay: decodes `input` again, asks `painter` for
/// each frame (by its index, told the decoded size) what to draw on it
/// (`None`: nothing), draws on a blocking thread with the built-in font and
/// encodes every frame into `output` at `fps` with the input's audio;
/// progress goes over `share` of the job's, `expected` frames making it.
#[allow(clippy::too_many_arguments)]
pub async fn redraw(
    input: &Path,
    probe: &Probe,
    options: &FrameReaderOptions,
    fps: f64,
    output: &Path,
    expected: u64,
    (reporter, share): (&ProgressReporter, (f64, f64)),
    cancel: &CancellationToken,
    mut painter: impl FnMut(u64, (u32, u32)) -> Option<Painter>,
) -> Result<(), PipelineError> {
    ensure_registered();
    let span = Span::new(reporter, share, "drawing the overlay");
    let mut reader = FrameReader::open(input, probe, options)?;
    let size = (reader.width, reader.height);
    let audio = (!probe.audio.is_empty()).then_some(input);
    let mut encoder =
        FrameEncoder::create(output, size.0, size.1, fps, audio).map_err(transient)?;
    let mut index = 0u64;
    loop {
        let frame = tokio::select! {
            () = cancel.cancelled() => return Err(PipelineError::Cancelled),
            frame = reader.next() => frame?,
        };
        let Some(mut frame) = frame else { break };
        if let Some(paint) = painter(index, size) {
            frame.data = tokio::task::spawn_blocking(move || paint(frame.data))
                .await
                .map_err(transient)?;
        }
        encoder.write_frame(&frame.data).await.map_err(transient)?;
        index += 1;
        span.report(index, expected);
    }
    encoder.finish().await.map_err(transient)
}
