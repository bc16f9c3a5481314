//! The data files of a `relevance` run — `ranking.json`, `ranking.csv`,
//! `metrics.json`, `groups.json` — and, through [`super::chart`] and
//! [`super::page`], its charts and `report.html`.

use std::fmt::Write;

use kinoflow_engine::{JobContext, PipelineError};
use kinoflow_tabular::{Dataset, Relevance};
use serde_json::{json, Value};

use super::artifacts;
use super::params::RelevanceParams;
use super::{chart, page};
use crate::failure::transient;

/// Variables given a dependence chart.
const DEPENDENCE_CHARTS: usize = 3;

/// Writes every artifact of the run.
pub async fn write(
    ctx: &JobContext,
    dataset: &Dataset,
    relevance: &Relevance,
    params: &RelevanceParams,
) -> Result<(), PipelineError> {
    let json = |value: &Value| serde_json::to_vec_pretty(value).map_err(transient);
    let sink = &ctx.artifacts;
    let metrics = metrics(dataset, relevance, params);
    sink.put_bytes(artifacts::RANKING_JSON, &json(&ranking(relevance))?)
        .await?;
    sink.put_bytes(artifacts::RANKING_CSV, ranking_csv(relevance).as_bytes())
        .await?;
    sink.put_bytes(artifacts::METRICS, &json(&metrics)?).await?;
    sink.put_bytes(
        artifacts::GROUPS,
        &json(&groups(dataset, relevance, params.group_threshold))?,
    )
    .await?;
    let importance = ctx.scratch.join(artifacts::CHART_IMPORTANCE);
    chart::importance(&importance, &relevance.ranking).map_err(transient)?;
    sink.put_file(artifacts::CHART_IMPORTANCE, &importance)
        .await?;
    let mut charts = vec![(artifacts::CHART_IMPORTANCE.to_owned(), importance)];
    for variable in relevance.ranking.iter().take(DEPENDENCE_CHARTS) {
        let mut name = artifacts::chart_dependence(&variable.feature);
        // Two names that read the same once made safe keep apart by rank.
        if charts.iter().any(|(taken, _)| *taken == name) {
            name = name.replace(".png", &format!("_{}.png", variable.rank));
        }
        let path = ctx.scratch.join(&name);
        chart::dependence(&path, variable, &dataset.target_name).map_err(transient)?;
        sink.put_file(&name, &path).await?;
        charts.push((name, path));
    }
    let mut pictures = Vec::with_capacity(charts.len());
    for (name, path) in charts {
        pictures.push((name, tokio::fs::read(&path).await.map_err(transient)?));
    }
    let page = page::render(dataset, relevance, &metrics, &pictures);
    sink.put_bytes(artifacts::REPORT, page.as_bytes()).await?;
    Ok(())
}

/// `ranking.json`: the variables, most important first.
pub fn ranking(relevance: &Relevance) -> Value {
    json!(relevance.ranking)
}

/// `ranking.csv`: the same, one row a variable (group members separated
/// by `|`).
fn ranking_csv(relevance: &Relevance) -> String {
    let mut csv = String::from(
        "rank,feature,kind,score_final,permutation_mean,permutation_std,group,group_members,\
         group_permutation_mean,importance_shap_mean_abs,importance_native,shap_norm,native_norm,\
         permutation_norm,direction\n",
    );
    for v in &relevance.ranking {
        let direction = serde_json::to_value(v.direction)
            .ok()
            .and_then(|d| d.as_str().map(str::to_owned))
            .unwrap_or_default();
        // Writing to a String cannot fail.
        let _ = writeln!(
            csv,
            "{},{},{},{:.6},{:.6},{:.6},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{}",
            v.rank,
            quoted(&v.feature),
            v.kind,
            v.score_final,
            v.permutation_mean,
            v.permutation_std,
            v.group,
            quoted(&v.group_members.join("|")),
            v.group_permutation_mean
                .map(|m| format!("{m:.6}"))
                .unwrap_or_default(),
            v.importance_shap_mean_abs,
            v.importance_native,
            v.shap_norm,
            v.native_norm,
            v.permutation_norm,
            direction
        );
    }
    csv
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn quoted(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `metrics.json`: the model's quality and what was analysed.
pub fn metrics(dataset: &Dataset, relevance: &Relevance, params: &RelevanceParams) -> Value {
    let mut metrics = json!(relevance.quality);
    metrics["target"] = json!(dataset.target_name);
    metrics["n_rows"] = json!(dataset.rows());
    metrics["rows_without_target"] = json!(dataset.dropped_rows);
    if !dataset.classes.is_empty() {
        metrics["classes"] = json!(dataset.classes);
    }
    metrics["notes"] = json!(dataset.notes);
    metrics["repeats"] = json!(params.repeats);
    metrics["seed"] = json!(params.seed);
    metrics["group_threshold"] = json!(params.group_threshold);
    metrics["date"] = json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    metrics
}

/// `groups.json`: groups of two or more variables, with how tightly.
fn groups(dataset: &Dataset, relevance: &Relevance, threshold: f64) -> Value {
    let groups: Vec<Value> = relevance
        .groups
        .iter()
        .filter(|g| g.members.len() > 1)
        .map(|g| {
            let members: Vec<&str> = g
                .members
                .iter()
                .map(|&m| dataset.features[m].name.as_str())
                .collect();
            json!({"group": g.id, "members": members, "min_abs_spearman": g.min_abs_rho})
        })
        .collect();
    json!({"threshold_abs_spearman": threshold, "groups": groups})
}
