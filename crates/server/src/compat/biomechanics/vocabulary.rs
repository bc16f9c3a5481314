//! The biomechanics server's words for what kinoflow says in English: the
//! joints in Portuguese, as its front end sends them; its names for the
//! results; its words for a job's state.

use kinoflow_engine::store::JobState;
use kinoflow_pipelines::artifacts::biomech as artifacts;

/// What the front end sends when the user picks nothing.
pub const DEFAULT_JOINT: &str = "Joelho";
/// The archive of every result.
pub const ZIP_NAME: &str = "analise_final.zip";
/// The overlay video's name.
const OVERLAY_NAME: &str = "video_overlay.mp4";

/// Each joint as the `biomech` pipeline names it and in Portuguese.
const JOINTS: [(&str, &str); 6] = [
    ("knee", "joelho"),
    ("hip", "quadril"),
    ("ankle", "tornozelo"),
    ("elbow", "cotovelo"),
    ("shoulder", "ombro"),
    ("trunk", "tronco"),
];
/// "All", as the front end might say it.
const ALL_JOINTS: [&str; 2] = ["todas", "todos"];

/// The pipeline's `joint` for the front end's choice: a Portuguese name (in
/// any case, with or without accents) in English, "todas" as `all`; any
/// other text as it came, for the pipeline to take or refuse in its words.
pub fn joint_param(selection: &str) -> String {
    let selection = selection.trim();
    let folded: String = selection.to_lowercase().chars().map(unaccented).collect();
    if ALL_JOINTS.contains(&folded.as_str()) {
        return "all".to_owned();
    }
    JOINTS
        .iter()
        .find(|(_, portuguese)| *portuguese == folded)
        .map_or(selection, |(english, _)| *english)
        .to_owned()
}

/// The letter without its accent, for the accents Portuguese uses.
fn unaccented(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' => 'a',
        'é' | 'ê' => 'e',
        'í' => 'i',
        'ó' | 'ô' | 'õ' => 'o',
        'ú' | 'ü' => 'u',
        'ç' => 'c',
        other => other,
    }
}

/// The name the original server gave a result: charts in Portuguese
/// (`grafico_joelho.png`), the overlay as `video_overlay.mp4`; the other
/// results keep the pipeline's names.
pub fn result_name(artifact: &str) -> String {
    if artifact == artifacts::OVERLAY {
        return OVERLAY_NAME.to_owned();
    }
    let portuguese = artifacts::chart_joint(artifact)
        .and_then(|joint| JOINTS.iter().find(|(english, _)| *english == joint));
    match portuguese {
        Some((_, name)) => format!("grafico_{name}.png"),
        None => artifact.to_owned(),
    }
}

/// The original's word for a job's state.
pub fn status_word(state: JobState) -> &'static str {
    match state {
        JobState::Succeeded => "concluido",
        JobState::Failed => "erro",
        JobState::Cancelled => "cancelado",
        JobState::Queued | JobState::Running | JobState::Retrying => "processando",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portuguese_joints_become_the_pipelines_names() {
        assert_eq!(joint_param("Joelho"), "knee");
        assert_eq!(joint_param(" QUADRIL "), "hip");
        assert_eq!(joint_param("tornozelo"), "ankle");
        assert_eq!(joint_param("Cotovêlo"), "elbow");
        assert_eq!(joint_param("ombro"), "shoulder");
        assert_eq!(joint_param("Tronco"), "trunk");
        assert_eq!(joint_param("Todas"), "all");
        assert_eq!(joint_param("shoulder"), "shoulder");
        assert_eq!(joint_param("Pescoço"), "Pescoço");
    }

    #[test]
    fn results_keep_the_original_names() {
        assert_eq!(result_name("chart_knee.png"), "grafico_joelho.png");
        assert_eq!(result_name("chart_trunk.png"), "grafico_tronco.png");
        assert_eq!(result_name(artifacts::OVERLAY), "video_overlay.mp4");
        assert_eq!(result_name(artifacts::ANGLES_CSV), "angles.csv");
    }
}
