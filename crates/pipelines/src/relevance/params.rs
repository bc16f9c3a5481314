//! The `relevance` pipeline's parameters: their schema and their typed form.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct RelevanceParams {
    /// The column to explain.
    pub target_column: String,
    /// Columns to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `auto` (from the target's values), `regression` or `classification`.
    #[serde(default = "default_task")]
    pub task: String,
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// Times each variable is shuffled per fold for permutation importance.
    #[serde(default = "default_repeats")]
    pub repeats: usize,
    #[serde(default)]
    pub seed: u64,
    /// |Spearman ρ| from which two variables are grouped.
    #[serde(default = "default_group_threshold")]
    pub group_threshold: f64,
}

const DEFAULT_FOLDS: usize = 5;
const DEFAULT_REPEATS: usize = 3;
const DEFAULT_GROUP_THRESHOLD: f64 = 0.7;

fn default_task() -> String {
    "auto".to_owned()
}

fn default_folds() -> usize {
    DEFAULT_FOLDS
}

fn default_repeats() -> usize {
    DEFAULT_REPEATS
}

fn default_group_threshold() -> f64 {
    DEFAULT_GROUP_THRESHOLD
}

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "target_column": {"type": "string", "minLength": 1,
                              "description": "The column to explain (the output, scrap rate, energy…)."},
            "exclude": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Columns to leave out."},
            "task": {"type": "string", "enum": ["auto", "regression", "classification"], "default": "auto",
                     "description": "auto: classification when the target holds words, regression when it holds numbers."},
            "folds": {"type": "integer", "minimum": 2, "maximum": 20, "default": DEFAULT_FOLDS,
                      "description": "Cross-validation folds; every measure is taken on held-out rows."},
            "repeats": {"type": "integer", "minimum": 1, "maximum": 20, "default": DEFAULT_REPEATS,
                        "description": "Times each variable is shuffled per fold for permutation importance."},
            "seed": {"type": "integer", "minimum": 0, "default": 0,
                     "description": "Makes the folds, the shuffles and the model reproducible."},
            "group_threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": DEFAULT_GROUP_THRESHOLD,
                                "description": "Variables whose |Spearman ρ| reaches this are grouped and also shuffled together."}
        },
        "required": ["target_column"],
        "additionalProperties": false
    })
}
