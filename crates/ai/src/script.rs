//! A short video's script from a topic: a title, a description and scenes
//! (what is seen, what is said, for how long). The model is asked for JSON;
//! what it answers is checked and mended where the intent is plain (keys in
//! another case, numbers as strings, scenes out of order), and refused
//! where it is not.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ProviderError;
use crate::models::TextModel;

/// The fewest and most scenes a script is asked for without a target.
const SCENES: (u32, u32) = (3, 15);
/// The most scenes kept from an answer.
const MOST_SCENES: usize = 50;

/// What the script is about and how long the video is.
#[derive(Debug, Clone)]
pub struct ScriptRequest {
    pub topic: String,
    pub style: String,
    pub language: String,
    /// Seconds.
    pub min_s: f64,
    pub max_s: f64,
    pub target_scenes: Option<u32>,
}

/// A script, in the words ShortsAI's clients read.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Script {
    pub video_title: String,
    pub video_description: String,
    pub scenes: Vec<ScriptScene>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScriptScene {
    pub scene_number: u32,
    pub visual_description: String,
    pub narration: String,
    pub duration_seconds: f64,
}

/// Asks `model` for the script of `request`, checked and mended.
pub async fn write_script(
    model: &dyn TextModel,
    request: &ScriptRequest,
) -> Result<Script, ProviderError> {
    let (system, user) = prompt(request);
    let answer = model.json(&system, &user).await?;
    mend(&answer, request).map_err(ProviderError::BadAnswer)
}

fn prompt(request: &ScriptRequest) -> (String, String) {
    let scenes = match request.target_scenes {
        Some(n) => format!("exactly {n} scenes"),
        None => format!("between {} and {} scenes", SCENES.0, SCENES.1),
    };
    let system = "You write scripts for short vertical videos. Answer with one JSON object \
                  and nothing else: {\"videoTitle\": string, \"videoDescription\": string, \
                  \"scenes\": [{\"sceneNumber\": integer, \"visualDescription\": string \
                  (what the picture shows, for an image model), \"narration\": string \
                  (what the narrator says), \"durationSeconds\": number}]}."
        .to_owned();
    let user = format!(
        "Topic: {}\nStyle: {}\nLanguage of the narration, title and description: {}\n\
         Total length: {} to {} seconds, in {scenes}.",
        request.topic, request.style, request.language, request.min_s, request.max_s
    );
    (system, user)
}

/// The script in `answer`, or why there is none.
pub(crate) fn mend(answer: &Value, request: &ScriptRequest) -> Result<Script, String> {
    let object = answer
        .as_object()
        .ok_or("the answer is not a JSON object")?;
    let object = object
        .get("script")
        .and_then(Value::as_object)
        .unwrap_or(object);
    let scenes = field(object, &["scenes", "Scenes"])
        .and_then(Value::as_array)
        .ok_or("the answer has no scenes list")?;
    let mut scenes: Vec<(f64, ScriptScene)> = scenes
        .iter()
        .filter_map(Value::as_object)
        .enumerate()
        .filter_map(|(index, scene)| mend_scene(index, scene))
        .take(MOST_SCENES)
        .collect();
    if scenes.is_empty() {
        return Err("the answer's scenes have neither narration nor a visual description".into());
    }
    scenes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let fallback = request.max_s.min(request.min_s.max(1.0) * 1.2) / scenes.len() as f64;
    let scenes = scenes
        .into_iter()
        .enumerate()
        .map(|(index, (_, mut scene))| {
            scene.scene_number = index as u32 + 1;
            if !(scene.duration_seconds.is_finite() && scene.duration_seconds > 0.0) {
                scene.duration_seconds = (fallback * 100.0).round() / 100.0;
            }
            scene
        })
        .collect();
    Ok(Script {
        video_title: text(object, &["videoTitle", "video_title", "title"])
            .unwrap_or_else(|| request.topic.clone()),
        video_description: text(
            object,
            &["videoDescription", "video_description", "description"],
        )
        .unwrap_or_default(),
        scenes,
    })
}

/// One scene, with the position it is ordered by; none when it says nothing.
fn mend_scene(index: usize, scene: &Map<String, Value>) -> Option<(f64, ScriptScene)> {
    let narration =
        text(scene, &["narration", "Narration", "text", "voiceover"]).unwrap_or_default();
    let visual = text(
        scene,
        &["visualDescription", "visual_description", "visual", "image"],
    )
    .unwrap_or_default();
    if narration.is_empty() && visual.is_empty() {
        return None;
    }
    let order =
        number(scene, &["sceneNumber", "scene_number", "number"]).unwrap_or(index as f64 + 1.0);
    let duration =
        number(scene, &["durationSeconds", "duration_seconds", "duration"]).unwrap_or(f64::NAN);
    Some((
        order,
        ScriptScene {
            scene_number: 0,
            visual_description: visual,
            narration,
            duration_seconds: duration,
        },
    ))
}

fn field<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| object.get(*name))
}

fn text(object: &Map<String, Value>, names: &[&str]) -> Option<String> {
    field(object, names)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A number, also when written as a string (`"5.5"`, `"6s"`).
fn number(object: &Map<String, Value>, names: &[&str]) -> Option<f64> {
    match field(object, names)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .trim()
            .trim_end_matches(|c: char| c.is_alphabetic())
            .trim()
            .parse()
            .ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request() -> ScriptRequest {
        ScriptRequest {
            topic: "Bees".into(),
            style: "documentary".into(),
            language: "en".into(),
            min_s: 20.0,
            max_s: 30.0,
            target_scenes: None,
        }
    }

    #[test]
    fn a_loose_answer_is_mended() {
        let answer = json!({"title": "Bees", "scenes": [
            {"scene_number": "2", "narration": "Second.", "visual": "a hive", "duration": "6s"},
            {"sceneNumber": 1, "narration": "First.", "visualDescription": "a flower"},
            {"sceneNumber": 3},
        ]});
        let script = mend(&answer, &request()).unwrap();
        assert_eq!(script.video_title, "Bees");
        assert_eq!(script.scenes.len(), 2);
        assert_eq!(script.scenes[0].narration, "First.");
        assert_eq!(script.scenes[0].scene_number, 1);
        assert!(script.scenes[0].duration_seconds > 0.0);
        assert_eq!(script.scenes[1].duration_seconds, 6.0);
    }

    #[test]
    fn an_answer_without_scenes_is_refused() {
        assert!(mend(&json!({"videoTitle": "x"}), &request()).is_err());
        assert!(mend(&json!({"scenes": [{}]}), &request()).is_err());
        assert!(mend(&json!([1, 2]), &request()).is_err());
    }
}
