//! Captions from the words said: a few words at a time, cut at sentence ends
//! and pauses, written as ASS (burned in by libass, the spoken word filled
//! in with the highlight colour as it is said — karaoke), SRT and WebVTT.

use std::fmt::Write as _;

use serde::Serialize;

use super::params::{CaptionPosition, Captions, WordTiming};

/// A pause between words this long starts a new caption.
const PAUSE_S: f64 = 0.7;
/// A caption stays up at least this long (unless the next one comes first).
const MIN_SHOWN_S: f64 = 0.4;

/// Words shown together.
#[derive(Debug, Clone, Serialize)]
pub struct Caption {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<WordTiming>,
}

/// Groups words (in the video's time, in order) into captions of at most
/// `most` words.
pub fn group(words: &[WordTiming], most: usize) -> Vec<Caption> {
    let mut groups: Vec<Vec<WordTiming>> = Vec::new();
    for word in words {
        let starts_new = match groups
            .last()
            .and_then(|group| group.last().map(|w| (group, w)))
        {
            None => true,
            Some((group, previous)) => {
                group.len() >= most
                    || previous.word.ends_with(['.', '!', '?', ';', ':'])
                    || word.start - previous.end > PAUSE_S
            }
        };
        if starts_new {
            groups.push(Vec::new());
        }
        if let Some(group) = groups.last_mut() {
            group.push(word.clone());
        }
    }
    let starts: Vec<f64> = groups.iter().map(|g| g[0].start).collect();
    groups
        .into_iter()
        .enumerate()
        .map(|(index, words)| {
            let start = starts[index];
            let spoken_end = words.last().map_or(start, |w| w.end);
            let next = starts.get(index + 1).copied().unwrap_or(f64::INFINITY);
            let end = spoken_end.max(start + MIN_SHOWN_S).min(next);
            let text = words
                .iter()
                .map(|w| w.word.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Caption {
                start,
                end,
                text,
                words,
            }
        })
        .collect()
}

/// The ASS document libass burns in: one style from `style`, one dialogue
/// line a caption, each word filled (`\kf`) over the time until the next.
pub fn ass(captions: &[Caption], style: &Captions, width: u32, height: u32) -> String {
    let scale = f64::from(height) / 1920.0;
    let size = (f64::from(style.size) * scale).round();
    let outline = (4.0 * scale).max(1.0).round();
    let side_margin = (f64::from(width) * 0.08).round();
    // Alignment (numpad) and distance from the edge, inside the areas that
    // short-video apps leave clear of their buttons.
    let (alignment, vertical_margin) = match style.position {
        CaptionPosition::Bottom => (2, (f64::from(height) * 0.22).round()),
        CaptionPosition::Middle => (5, 0.0),
        CaptionPosition::Top => (8, (f64::from(height) * 0.12).round()),
    };
    let mut text = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {width}\nPlayResY: {height}\n\
         WrapStyle: 0\nScaledBorderAndShadow: yes\n\n\
         [V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
         Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
         Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{font},{size},{sung},{unsung},&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,\
         {outline},0,{alignment},{side_margin},{side_margin},{vertical_margin},1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        font = style.font,
        sung = ass_colour(&style.highlight),
        unsung = ass_colour(&style.colour),
    );
    for caption in captions {
        let mut line = String::new();
        for (index, word) in caption.words.iter().enumerate() {
            let until = caption
                .words
                .get(index + 1)
                .map_or(caption.end, |next| next.start);
            let lead = if index == 0 {
                word.start - caption.start
            } else {
                0.0
            };
            if lead > 0.005 {
                let _ = write!(line, "{{\\k{}}}", centiseconds(lead));
            }
            let _ = write!(
                line,
                "{{\\kf{}}}{}{}",
                centiseconds(until - word.start),
                escape_ass(&word.word),
                if index + 1 < caption.words.len() {
                    " "
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(
            text,
            "Dialogue: 0,{},{},Default,,0,0,0,,{line}",
            ass_time(caption.start),
            ass_time(caption.end)
        );
    }
    text
}

pub fn srt(captions: &[Caption]) -> String {
    let mut text = String::new();
    for (index, caption) in captions.iter().enumerate() {
        let _ = write!(
            text,
            "{}\n{} --> {}\n{}\n\n",
            index + 1,
            clock(caption.start, ','),
            clock(caption.end, ','),
            caption.text
        );
    }
    text
}

pub fn vtt(captions: &[Caption]) -> String {
    let mut text = String::from("WEBVTT\n\n");
    for caption in captions {
        let _ = write!(
            text,
            "{} --> {}\n{}\n\n",
            clock(caption.start, '.'),
            clock(caption.end, '.'),
            caption.text.replace("-->", "->")
        );
    }
    text
}

/// `#RRGGBB` as ASS writes colours: `&H00BBGGRR` (opaque).
fn ass_colour(hex: &str) -> String {
    let hex = hex.trim_start_matches('#');
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or("FF").to_uppercase();
    format!("&H00{}{}{}", part(4..6), part(2..4), part(0..2))
}

/// Braces and backslashes would be read as override tags.
fn escape_ass(word: &str) -> String {
    word.replace('\\', "\u{29F5}")
        .replace('{', "(")
        .replace('}', ")")
}

fn centiseconds(seconds: f64) -> u64 {
    (seconds.max(0.0) * 100.0).round() as u64
}

/// `H:MM:SS.cc`.
fn ass_time(seconds: f64) -> String {
    let total = centiseconds(seconds);
    format!(
        "{}:{:02}:{:02}.{:02}",
        total / 360_000,
        total / 6000 % 60,
        total / 100 % 60,
        total % 100
    )
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn clock(seconds: f64, separator: char) -> String {
    let total = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        total / 3_600_000,
        total / 60_000 % 60,
        total / 1000 % 60,
        total % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(word: &str, start: f64, end: f64) -> WordTiming {
        WordTiming {
            word: word.to_owned(),
            start,
            end,
        }
    }

    #[test]
    fn captions_break_at_sentences_pauses_and_their_size() {
        let words = [
            word("One", 0.0, 0.3),
            word("two.", 0.3, 0.6),
            word("Three", 0.7, 1.0),
            word("four", 2.0, 2.3),
            word("five", 2.3, 2.6),
            word("six", 2.6, 2.9),
        ];
        let captions = group(&words, 2);
        let texts: Vec<&str> = captions.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["One two.", "Three", "four five", "six"]);
        assert!((captions[1].end - 1.1).abs() < 1e-9, "{captions:?}");
    }

    #[test]
    fn ass_fills_each_word_until_the_next() {
        let captions = group(&[word("Hello", 1.0, 1.4), word("{world}", 1.5, 2.0)], 4);
        let style = Captions::default();
        let document = ass(&captions, &style, 1080, 1920);
        assert!(
            document.contains(
                "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\kf50}Hello {\\kf50}(world)"
            ),
            "{document}"
        );
        assert!(document.contains("Style: Default,DejaVu Sans,72,&H0000D4FF,&H00FFFFFF"));
        assert_eq!(
            srt(&captions),
            "1\n00:00:01,000 --> 00:00:02,000\nHello {world}\n\n"
        );
        assert!(vtt(&captions).starts_with("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n"));
    }
}
