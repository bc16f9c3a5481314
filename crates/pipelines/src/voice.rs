//! Narration spoken from text, with when each word starts. A [`Voice`] is
//! one engine; [`Espeak`] is the offline default. The `render` and
//! `narration` pipelines speak through it.
//!
//! espeak-ng's command line cannot say when words are spoken (its SSML
//! marks are swallowed and `--pho` needs MBROLA), but its library reports
//! each word's sample as it synthesises. So the library is loaded at run
//! time (the `espeak-ng` Debian package; nothing is needed to build) and
//! called here, one synthesis at a time because its state is global. Its
//! audio is the same, byte for byte, as `espeak-ng -w` writes.

use std::ffi::{c_char, c_int, c_short, c_uint, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

/// When a word is said, in seconds from the scene's start.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct WordTiming {
    pub word: String,
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct VoiceSettings {
    pub engine: String,
    pub language: String,
    /// A voice of the engine's; its default for the language when absent.
    pub voice: Option<String>,
    /// Words a minute.
    pub rate: u32,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        Self {
            engine: "espeak-ng".to_owned(),
            language: "en".to_owned(),
            voice: None,
            rate: 165,
        }
    }
}

/// An engine that speaks text.
pub trait Voice: Send + Sync {
    /// Speaks `text` into a WAV file at `wav`; when each of its words (as
    /// `split_whitespace` cuts them) is said, in seconds from the start.
    fn speak(&self, text: &str, wav: &Path) -> Result<Vec<WordTiming>, String>;
}

/// The voice a spec asks for.
pub fn voice_for(settings: &VoiceSettings) -> Result<Arc<dyn Voice>, String> {
    match settings.engine.as_str() {
        "espeak-ng" => Ok(Arc::new(Espeak {
            voice: settings
                .voice
                .clone()
                .unwrap_or_else(|| settings.language.clone()),
            words_per_minute: settings.rate,
        })),
        other => Err(format!("there is no voice engine {other:?}")),
    }
}

/// Speaks `text` into `wav` off the async threads (synthesis is CPU work).
pub async fn speak(
    voice: Arc<dyn Voice>,
    text: String,
    wav: PathBuf,
) -> Result<Vec<WordTiming>, String> {
    tokio::task::spawn_blocking(move || voice.speak(&text, &wav))
        .await
        .map_err(|e| format!("the voice failed: {e}"))?
}

/// espeak-ng through its library.
pub struct Espeak {
    /// A voice name or a language (`en`, `pt-br`).
    pub voice: String,
    pub words_per_minute: u32,
}

impl Voice for Espeak {
    fn speak(&self, text: &str, wav: &Path) -> Result<Vec<WordTiming>, String> {
        let library = library()?;
        // espeak keeps one synthesis state per process.
        let _one_at_a_time = SYNTHESIS.lock().unwrap_or_else(|e| e.into_inner());
        let spoken = library.synthesise(text, &self.voice, self.words_per_minute)?;
        write_wav(wav, &spoken)?;
        Ok(word_timings(text, &spoken))
    }
}

static SYNTHESIS: Mutex<()> = Mutex::new(());

/// What one synthesis made.
struct Spoken {
    samples: Vec<i16>,
    sample_rate: u32,
    /// (character position from 1, length in characters, first sample) of
    /// each word event.
    words: Vec<(usize, usize, usize)>,
}

// The parts of espeak-ng's `speak_lib.h` used here.
const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const POS_CHARACTER: c_int = 1;
const CHARS_UTF8: c_uint = 1;
/// Keep the pause after the last clause, as the command line does.
const END_PAUSE: c_uint = 0x1000;
const EVENT_LIST_TERMINATED: c_int = 0;
const EVENT_WORD: c_int = 1;
const PARAMETER_RATE: c_int = 1;

#[repr(C)]
#[derive(Clone, Copy)]
union EventId {
    number: c_int,
    name: *const c_char,
    string: [c_char; 8],
}

#[repr(C)]
struct Event {
    kind: c_int,
    unique_identifier: c_uint,
    text_position: c_int,
    length: c_int,
    audio_position: c_int,
    sample: c_int,
    user_data: *mut c_void,
    id: EventId,
}

type SynthCallback = extern "C" fn(*mut c_short, c_int, *mut Event) -> c_int;

/// The loaded library and the functions used.
struct Library {
    set_callback: unsafe extern "C" fn(SynthCallback),
    set_voice: unsafe extern "C" fn(*const c_char) -> c_int,
    set_parameter: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int,
    synth: unsafe extern "C" fn(
        *const c_void,
        usize,
        c_uint,
        c_int,
        c_uint,
        c_uint,
        *mut c_uint,
        *mut c_void,
    ) -> c_int,
    synchronize: unsafe extern "C" fn() -> c_int,
    sample_rate: u32,
    _library: libloading::Library,
}

/// The library, loaded and initialised once per process.
fn library() -> Result<&'static Library, String> {
    static LOADED: OnceLock<Result<Library, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // SAFETY: loading espeak-ng runs no code of ours; its
            // initialisers only set up its own tables.
            unsafe { Library::load() }
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Library {
    /// # Safety
    /// The symbols must have the signatures of espeak-ng 1.5x's `speak_lib.h`.
    unsafe fn load() -> Result<Library, String> {
        let library = ["libespeak-ng.so.1", "libespeak-ng.so"]
            .iter()
            .find_map(|name| libloading::Library::new(*name).ok())
            .ok_or_else(|| {
                "espeak-ng is not installed (Debian: apt install espeak-ng)".to_owned()
            })?;
        let symbol = |name: &str| format!("espeak-ng has no {name}");
        let initialize = *library
            .get::<unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int>(
                b"espeak_Initialize\0",
            )
            .map_err(|_| symbol("espeak_Initialize"))?;
        let sample_rate = initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), 0);
        if sample_rate <= 0 {
            return Err("espeak-ng could not start (is espeak-ng-data installed?)".to_owned());
        }
        Ok(Library {
            set_callback: *library
                .get(b"espeak_SetSynthCallback\0")
                .map_err(|_| symbol("espeak_SetSynthCallback"))?,
            set_voice: *library
                .get(b"espeak_SetVoiceByName\0")
                .map_err(|_| symbol("espeak_SetVoiceByName"))?,
            set_parameter: *library
                .get(b"espeak_SetParameter\0")
                .map_err(|_| symbol("espeak_SetParameter"))?,
            synth: *library
                .get(b"espeak_Synth\0")
                .map_err(|_| symbol("espeak_Synth"))?,
            synchronize: *library
                .get(b"espeak_Synchronize\0")
                .map_err(|_| symbol("espeak_Synchronize"))?,
            sample_rate: sample_rate as u32,
            _library: library,
        })
    }

    /// Speaks `text`; the caller holds [`SYNTHESIS`].
    fn synthesise(&self, text: &str, voice: &str, words_per_minute: u32) -> Result<Spoken, String> {
        let voice_name =
            CString::new(voice).map_err(|_| "the voice name holds a NUL".to_owned())?;
        let text_c = CString::new(text).map_err(|_| "the narration holds a NUL".to_owned())?;
        let mut spoken = Spoken {
            samples: Vec::new(),
            sample_rate: self.sample_rate,
            words: Vec::new(),
        };
        // SAFETY: the callback only touches `spoken` through the user data
        // pointer, which outlives the synchronous synthesis; the strings
        // are NUL-terminated and live across the calls.
        let status = unsafe {
            (self.set_callback)(collect);
            if (self.set_voice)(voice_name.as_ptr()) != 0 {
                return Err(format!("espeak-ng has no voice {voice:?}"));
            }
            (self.set_parameter)(PARAMETER_RATE, words_per_minute as c_int, 0);
            let status = (self.synth)(
                text_c.as_ptr().cast(),
                text.len() + 1,
                0,
                POS_CHARACTER,
                0,
                CHARS_UTF8 | END_PAUSE,
                std::ptr::null_mut(),
                (&mut spoken as *mut Spoken).cast(),
            );
            (self.synchronize)();
            status
        };
        if status != 0 {
            return Err(format!(
                "espeak-ng could not speak the narration (error {status})"
            ));
        }
        Ok(spoken)
    }
}

/// espeak's callback: keeps the samples and the word events of a synthesis.
extern "C" fn collect(wav: *mut c_short, count: c_int, mut event: *mut Event) -> c_int {
    // SAFETY: espeak passes `count` samples at `wav` and a list of events
    // ended by a terminator, each carrying the user data given to
    // `espeak_Synth`: our `Spoken`, alive for the whole synthesis.
    unsafe {
        if event.is_null() {
            return 0;
        }
        let spoken = &mut *((*event).user_data as *mut Spoken);
        if !wav.is_null() && count > 0 {
            spoken
                .samples
                .extend_from_slice(std::slice::from_raw_parts(wav, count as usize));
        }
        while (*event).kind != EVENT_LIST_TERMINATED {
            let e = &*event;
            // Zero-length word events at clause ends carry no word.
            if e.kind == EVENT_WORD && e.length > 0 && e.text_position > 0 {
                spoken.words.push((
                    e.text_position as usize,
                    e.length as usize,
                    e.sample.max(0) as usize,
                ));
            }
            event = event.add(1);
        }
    }
    0
}

fn write_wav(path: &Path, spoken: &Spoken) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: spoken.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let failed = |e: hound::Error| format!("could not write the narration: {e}");
    let mut writer = hound::WavWriter::create(path, spec).map_err(failed)?;
    for &sample in &spoken.samples {
        writer.write_sample(sample).map_err(failed)?;
    }
    writer.finalize().map_err(failed)
}

/// The words of `text` (cut at whitespace) with when each is said. espeak
/// may report a word several times (a number read as several words) or at
/// a position inside it, so events are laid onto the words in order: an
/// event goes to the word whose characters hold its position, or else to
/// the next word without one; the first event of a word counts, and an
/// event within a word already passed is dropped. A word
/// that got none starts where the one before it did.
fn word_timings(text: &str, spoken: &Spoken) -> Vec<WordTiming> {
    let words = word_spans(text);
    let rate = f64::from(spoken.sample_rate);
    let mut starts: Vec<Option<f64>> = vec![None; words.len()];
    let mut next = 0;
    for &(position, _, sample) in &spoken.words {
        let at = position - 1;
        let holder = match words
            .iter()
            .position(|(_, start, end)| (*start..*end).contains(&at))
        {
            // A word already passed (said again, as numbers are) keeps its time.
            Some(index) if index < next => None,
            Some(index) => Some(index),
            None => (next < words.len()).then_some(next),
        };
        if let Some(index) = holder {
            if starts[index].is_none() {
                starts[index] = Some(sample as f64 / rate);
                next = index + 1;
            }
        }
    }
    let total = spoken.samples.len() as f64 / rate;
    let mut filled = Vec::with_capacity(words.len());
    let mut last = 0.0;
    for start in &starts {
        let start = start.unwrap_or(last).max(last);
        filled.push(start);
        last = start;
    }
    words
        .iter()
        .enumerate()
        .map(|(index, (word, _, _))| WordTiming {
            word: word.clone(),
            start: filled[index],
            end: filled
                .get(index + 1)
                .copied()
                .unwrap_or(total)
                .max(filled[index]),
        })
        .collect()
}

/// Each whitespace-separated word of `text` with its span in characters.
fn word_spans(text: &str) -> Vec<(String, usize, usize)> {
    let mut spans = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for (index, c) in text.chars().enumerate() {
        match (&mut current, c.is_whitespace()) {
            (Some((word, _)), false) => word.push(c),
            (None, false) => current = Some((c.to_string(), index)),
            (Some(_), true) => {
                if let Some((word, start)) = current.take() {
                    spans.push((word, start, index));
                }
            }
            (None, true) => {}
        }
    }
    if let Some((word, start)) = current {
        let end = start + word.chars().count();
        spans.push((word, start, end));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spoken(words: Vec<(usize, usize, usize)>) -> Spoken {
        Spoken {
            samples: vec![0; 22050 * 3],
            sample_rate: 22050,
            words,
        }
    }

    #[test]
    fn events_are_laid_onto_the_words_in_order() {
        // "In 2024 we" — the year read as several words, reported thrice.
        let text = "In 2024 we";
        let events = vec![
            (1, 2, 0),
            (4, 4, 22050),
            (4, 4, 33075),
            (5, 1, 38000),
            (9, 2, 44100),
        ];
        let timings = word_timings(text, &spoken(events));
        let starts: Vec<f64> = timings.iter().map(|t| t.start).collect();
        assert_eq!(starts, vec![0.0, 1.0, 2.0]);
        assert_eq!(timings[2].word, "we");
        assert_eq!(timings[2].end, 3.0);
    }

    #[test]
    fn a_word_without_an_event_starts_with_the_one_before() {
        let timings = word_timings("one two three", &spoken(vec![(1, 3, 0), (9, 5, 44100)]));
        let starts: Vec<f64> = timings.iter().map(|t| t.start).collect();
        assert_eq!(starts, vec![0.0, 0.0, 2.0]);
    }

    /// Each word's start against the speech onsets ffmpeg hears in the
    /// audio (the end of each silence between sentences).
    #[test]
    fn espeak_word_starts_are_within_50_ms_of_the_speech() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("said.wav");
        let voice = Espeak {
            voice: "en".to_owned(),
            words_per_minute: 165,
        };
        let timings = voice
            .speak("Apple. Orange. Lemon. Mango. Melon.", &wav)
            .unwrap();
        assert_eq!(timings.len(), 5);
        let output = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-i"])
            .arg(&wav)
            .args(["-af", "silencedetect=n=-40dB:d=0.08", "-f", "null", "-"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        let times = |key: &str| -> Vec<f64> {
            said.lines()
                .filter_map(|line| line.split(key).nth(1))
                .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
                .collect()
        };
        let mut onsets = times("silence_end: ");
        if !times("silence_start: ").iter().any(|&start| start < 0.01) {
            onsets.insert(0, 0.0);
        }
        for timing in &timings {
            let nearest = onsets
                .iter()
                .map(|onset| (onset - timing.start).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                nearest < 0.05,
                "{timing:?} is {nearest} s from an onset in {onsets:?}"
            );
        }
    }
}
