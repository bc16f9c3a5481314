//! The names of the artifacts a `relevance` job writes, for those who serve
//! them under names of their own.

/// The ranking: one object a variable, most important first.
pub const RANKING_JSON: &str = "ranking.json";
/// The ranking as a table.
pub const RANKING_CSV: &str = "ranking.csv";
/// The model's quality over the held-out folds, and what the data held.
pub const METRICS: &str = "metrics.json";
/// The groups of variables that move together.
pub const GROUPS: &str = "groups.json";
/// The top variables' importance, bars with their spread, groups marked.
pub const CHART_IMPORTANCE: &str = "chart_importance.png";
/// One page a plant engineer can read.
pub const REPORT: &str = "report.html";

/// The longest variable name kept in a chart's name.
const MAX_NAME_CHARS: usize = 100;

/// The dependence chart of a variable (how the target moves with it),
/// named after it: letters, digits, `-` and `_` kept, anything else `_`.
pub fn chart_dependence(variable: &str) -> String {
    let name: String = variable
        .chars()
        .take(MAX_NAME_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("chart_dependence_{name}.png")
}
