//! `relevance`: which production variables drive a target, from a CSV.
//! The table is read whatever its dialect, a gradient-boosted model is
//! validated fold by fold, and the variables are ranked by SHAP, gain and
//! permutation importance measured on held-out rows, correlated variables
//! grouped so that a twin does not hide the other (`kinoflow-tabular` does
//! the analysis; this module is the job around it and its artifacts).

pub mod artifacts;
mod chart;
mod page;
mod params;
mod report;

use std::path::Path;

use async_trait::async_trait;
use kinoflow_engine::{InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use kinoflow_tabular::dataset::MIN_ROWS;
use kinoflow_tabular::{
    analyse, AnalysisError, Dataset, DatasetOptions, Relevance, Table, Task, ValidationSettings,
};
use serde_json::Value;

use crate::failure::{permanent, transient};
use params::RelevanceParams;

/// The most columns a table may have (each pair is correlated for the groups).
const MAX_COLUMNS: usize = 2000;
/// Held-out rows explained with SHAP per fold.
const SHAP_ROWS_PER_FOLD: usize = 500;
/// Progress when the table is read, and when the folds are done.
const READ_SHARE: f64 = 0.1;
const FOLDS_SHARE: f64 = 0.85;

/// Ranks the variables of a CSV by how much they drive its target.
pub struct RelevancePipeline;

#[async_trait]
impl Pipeline for RelevancePipeline {
    fn name(&self) -> &'static str {
        "relevance"
    }

    fn description(&self) -> &'static str {
        "Ranks the variables of a CSV by how much they drive a target column (gradient-boosted trees validated by folds; SHAP, gain and permutation importance; correlated variables grouped): ranking.json, ranking.csv, metrics.json, groups.json, chart_importance.png, chart_dependence_<variable>.png, report.html."
    }

    fn input(&self) -> InputKind {
        InputKind::Csv
    }

    fn params_schema(&self) -> Value {
        params::schema()
    }

    fn uses_scratch(&self) -> bool {
        true
    }

    async fn check_input(&self, input: &InputFile, params: &Value) -> Result<(), String> {
        let params: RelevanceParams =
            serde_json::from_value(params.clone()).map_err(|e| e.to_string())?;
        let path = input.path().to_owned();
        tokio::task::spawn_blocking(move || check_table(&path, &params))
            .await
            .map_err(|e| e.to_string())?
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: RelevanceParams = ctx.params()?;
        let path = ctx.input()?.to_owned();
        ctx.progress.report(0.0, "reading the table");
        let progress = ctx.progress.clone();
        let cancel = ctx.cancel.clone();
        let blocking_params = params.clone();
        let (dataset, relevance) = tokio::task::spawn_blocking(move || {
            let table = Table::read(&path).map_err(permanent)?;
            let dataset =
                Dataset::new(&table, &dataset_options(&blocking_params)).map_err(permanent)?;
            drop(table);
            progress.report(READ_SHARE, "validating the model fold by fold");
            let after_fold = |done: f64| {
                progress.report(
                    READ_SHARE + (FOLDS_SHARE - READ_SHARE) * done,
                    "validating the model fold by fold",
                );
                !cancel.is_cancelled()
            };
            let relevance = analyse(
                &dataset,
                &validation_settings(&blocking_params),
                blocking_params.group_threshold,
                after_fold,
            )
            .map_err(|e| match e {
                AnalysisError::Stopped => transient("the analysis was stopped"),
                AnalysisError::Model(e) => permanent(e),
            })?;
            Ok::<_, PipelineError>((dataset, relevance))
        })
        .await
        // A panic in the analysis would panic again on the same table.
        .map_err(permanent)??;
        ctx.progress
            .report(FOLDS_SHARE, "writing the ranking and charts");
        report::write(&ctx, &dataset, &relevance, &params).await?;
        Ok(RunSummary {
            warnings: warnings(&dataset, &relevance),
        })
    }
}

/// What can be told of a table before the job runs: its target column
/// exists, has enough rows and more than one value; excluded columns exist.
fn check_table(path: &Path, params: &RelevanceParams) -> Result<(), String> {
    let names = Table::names_of(path).map_err(|e| e.to_string())?;
    if names.len() > MAX_COLUMNS {
        return Err(format!(
            "the table has {} columns; at most {MAX_COLUMNS} are analysed",
            names.len()
        ));
    }
    if !names.contains(&params.target_column) {
        return Err(format!(
            "target_column: there is no column {:?}; the columns are: {}",
            params.target_column,
            names.join(", ")
        ));
    }
    if let Some(unknown) = params.exclude.iter().find(|name| !names.contains(name)) {
        return Err(format!("exclude: there is no column {unknown:?}"));
    }
    let glance = Table::glance_at_target(path, &params.target_column)
        .map_err(|e| e.to_string())?
        .ok_or("the target column vanished while the file was read")?;
    if glance.rows < MIN_ROWS {
        return Err(format!(
            "only {} rows have a value in {:?}; at least {MIN_ROWS} are needed",
            glance.rows, params.target_column
        ));
    }
    if glance.distinct < 2 {
        return Err(format!(
            "the target column {:?} has a single value; there is nothing to explain",
            params.target_column
        ));
    }
    Ok(())
}

fn dataset_options(params: &RelevanceParams) -> DatasetOptions {
    DatasetOptions {
        target: params.target_column.clone(),
        exclude: params.exclude.clone(),
        task: match params.task.as_str() {
            "regression" => Some(Task::Regression),
            "classification" => Some(Task::Classification),
            _ => None,
        },
    }
}

fn validation_settings(params: &RelevanceParams) -> ValidationSettings {
    ValidationSettings {
        folds: params.folds,
        repeats: params.repeats,
        seed: params.seed,
        shap_rows_per_fold: SHAP_ROWS_PER_FOLD,
    }
}

/// What the user should know: columns set aside, rows dropped, a weak model.
fn warnings(dataset: &Dataset, relevance: &Relevance) -> Vec<String> {
    let mut warnings = dataset.notes.clone();
    if dataset.dropped_rows > 0 {
        warnings.push(format!(
            "{} rows without a value in {:?} were left out",
            dataset.dropped_rows, dataset.target_name
        ));
    }
    if relevance.quality.r2.is_some_and(|r2| r2 < 0.3) {
        warnings.push(
            "the model explains little of the target (R² under 0.3): the ranking says which variables help most, not that they explain it".to_owned(),
        );
    }
    warnings
}
