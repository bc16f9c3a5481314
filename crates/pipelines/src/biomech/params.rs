//! The `biomech` pipeline's parameters: their schema, the rules the schema
//! cannot say, and their typed form.

use kinoflow_engine::FieldError;
use kinoflow_vision::kinematics::{Joint, Side};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sides {
    Left,
    Right,
    #[default]
    Both,
}

impl Sides {
    pub fn sides(self) -> &'static [Side] {
        match self {
            Sides::Left => &[Side::Left],
            Sides::Right => &[Side::Right],
            Sides::Both => &[Side::Left, Side::Right],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    #[default]
    Full,
    Lite,
}

impl Model {
    pub fn variant(self) -> &'static str {
        match self {
            Model::Full => "full",
            Model::Lite => "lite",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct BiomechParams {
    /// A joint's name or `all`.
    #[serde(alias = "joint_selection")]
    pub joint: Option<String>,
    #[serde(default)]
    pub side: Sides,
    #[serde(default)]
    pub model: Model,
    #[serde(default = "default_filter_hz")]
    pub filter_hz: f64,
    #[serde(default = "default_overlay")]
    pub overlay: bool,
}

/// Human movement is mostly below 6 Hz; what is above it is tracking noise.
pub const DEFAULT_FILTER_HZ: f64 = 6.0;

fn default_filter_hz() -> f64 {
    DEFAULT_FILTER_HZ
}

fn default_overlay() -> bool {
    true
}

impl BiomechParams {
    /// The joints the user asked for (knee when they did not say); `None`
    /// when the name means nothing (refused at submission).
    pub fn joints(&self) -> Option<Vec<Joint>> {
        parse_joints(self.joint.as_deref().unwrap_or("knee"))
    }
}

/// `all` or one joint.
fn parse_joints(name: &str) -> Option<Vec<Joint>> {
    if name.trim().eq_ignore_ascii_case("all") {
        return Some(Joint::ALL.to_vec());
    }
    Joint::parse(name).map(|joint| vec![joint])
}

const JOINT_HELP: &str = "knee, hip, ankle, elbow, shoulder, trunk or all";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "joint": {"type": "string", "default": "knee",
                      "description": format!("The joint to chart and draw: {JOINT_HELP}. Every joint's angles are in angles.csv whatever this says.")},
            "joint_selection": {"type": "string",
                                "description": "Another name for joint, as the original biomechanics front end sends it."},
            "side": {"enum": ["left", "right", "both"], "default": "both"},
            "model": {"enum": ["full", "lite"], "default": "full",
                      "description": "full: the more accurate landmark model; lite: about twice as fast."},
            "filter_hz": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "default": DEFAULT_FILTER_HZ,
                          "description": "Cut-off of the low-pass filter on the angles, in hertz."},
            "overlay": {"type": "boolean", "default": true,
                        "description": "Draw the skeleton and angles on the video (overlay.mp4)."}
        },
        "additionalProperties": false
    })
}

/// The joint's name must mean a joint, and only one of its two names be given.
pub fn check(params: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if params.get("joint").is_some() && params.get("joint_selection").is_some() {
        errors.push(FieldError::new(
            "params.joint_selection",
            "give joint or joint_selection, not both",
        ));
    }
    for field in ["joint", "joint_selection"] {
        if let Some(name) = params.get(field).and_then(Value::as_str) {
            if parse_joints(name).is_none() {
                errors.push(FieldError::new(
                    format!("params.{field}"),
                    format!("unknown joint {name:?}: use {JOINT_HELP}"),
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joint_names_and_all_are_joints() {
        assert_eq!(parse_joints("Knee"), Some(vec![Joint::Knee]));
        assert_eq!(parse_joints("ALL").map(|j| j.len()), Some(6));
        assert_eq!(parse_joints("neck"), None);
    }

    #[test]
    fn unknown_joints_and_both_names_are_refused() {
        assert_eq!(check(&json!({"joint": "neck"})).len(), 1);
        assert_eq!(
            check(&json!({"joint": "knee", "joint_selection": "hip"})).len(),
            1
        );
        assert!(check(&json!({"joint_selection": "elbow"})).is_empty());
    }
}
