//! The whole analysis of which variables matter: groups of correlated
//! variables, a model validated fold by fold, and the ranking.

use serde::Serialize;

use crate::dataset::Dataset;
use crate::groups::{correlated_groups, Group};
use crate::model::ModelError;
use crate::ranking::{rank, RankedVariable};
use crate::table::ColumnKind;
use crate::validation::{evaluate_fold, fold_rows, FoldResult, ValidationSettings};

/// The model's quality, averaged over the held-out folds.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub task: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1_macro: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc_auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_loss: Option<f64>,
    /// Rows a model was fitted on, and held out, in one fold (mean).
    pub n_train: usize,
    pub n_test: usize,
    pub n_features: usize,
    pub folds: usize,
}

/// What the analysis found.
#[derive(Debug, Clone)]
pub struct Relevance {
    pub quality: Quality,
    pub ranking: Vec<RankedVariable>,
    pub groups: Vec<Group>,
}

/// Why an analysis did not finish.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the analysis was stopped")]
    Stopped,
}

/// Analyses `dataset`, calling `after_fold` with the fraction done after
/// each fold; it answers whether to go on.
pub fn analyse(
    dataset: &Dataset,
    settings: &ValidationSettings,
    group_threshold: f64,
    mut after_fold: impl FnMut(f64) -> bool,
) -> Result<Relevance, AnalysisError> {
    let orderable: Vec<Option<&[f64]>> = dataset
        .features
        .iter()
        .map(|f| (f.kind != ColumnKind::Categorical).then_some(f.values.as_slice()))
        .collect();
    let groups = correlated_groups(&orderable, group_threshold);
    let together: Vec<Vec<usize>> = groups
        .iter()
        .filter(|g| g.members.len() > 1)
        .map(|g| g.members.clone())
        .collect();
    // Folds of at least two rows each.
    let folds = settings.folds.clamp(2, (dataset.rows() / 2).max(2));
    let rows = fold_rows(dataset.rows(), folds, settings.seed);
    let mut results = Vec::with_capacity(folds);
    for fold in 0..folds {
        results.push(evaluate_fold(dataset, &rows, fold, &together, settings)?);
        if !after_fold((fold + 1) as f64 / folds as f64) {
            return Err(AnalysisError::Stopped);
        }
    }
    Ok(Relevance {
        quality: quality(dataset, &results),
        ranking: rank(dataset, &groups, &results),
        groups,
    })
}

fn quality(dataset: &Dataset, folds: &[FoldResult]) -> Quality {
    let n = folds.len().max(1);
    let mean = |value: &dyn Fn(&FoldResult) -> Option<f64>| {
        let values: Vec<f64> = folds.iter().filter_map(value).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    Quality {
        task: dataset.task.as_str(),
        r2: mean(&|f| f.regression.map(|s| s.r2)),
        mae: mean(&|f| f.regression.map(|s| s.mae)),
        rmse: mean(&|f| f.regression.map(|s| s.rmse)),
        accuracy: mean(&|f| f.classification.map(|s| s.accuracy)),
        f1_macro: mean(&|f| f.classification.map(|s| s.f1_macro)),
        roc_auc: mean(&|f| f.classification.map(|s| s.roc_auc).filter(|v| !v.is_nan())),
        log_loss: mean(&|f| f.classification.map(|s| s.log_loss)),
        n_train: folds.iter().map(|f| f.train_rows).sum::<usize>() / n,
        n_test: folds.iter().map(|f| f.test_rows).sum::<usize>() / n,
        n_features: dataset.features.len(),
        folds: folds.len(),
    }
}
