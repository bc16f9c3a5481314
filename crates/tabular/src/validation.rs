//! K-fold cross-validation: the rows shuffled once (by the seed) and cut
//! into folds; each fold is held out in turn while a model is fitted on
//! the others, and everything measured — scores, permutation importance,
//! SHAP values — is measured on the held-out rows only.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::dataset::{Dataset, Task};
use crate::metrics::{self, ClassificationScores, RegressionScores};
use crate::model::{Columns, Model, ModelError, ModelSettings};

/// How the analysis is run.
#[derive(Debug, Clone, Copy)]
pub struct ValidationSettings {
    pub folds: usize,
    /// Times each variable (and group) is shuffled per fold.
    pub repeats: usize,
    pub seed: u64,
    /// Held-out rows explained with SHAP per fold (exact TreeSHAP costs more
    /// than a prediction; a sample of rows gives the same means).
    pub shap_rows_per_fold: usize,
}

/// What one held-out fold showed.
#[derive(Debug, Clone)]
pub struct FoldResult {
    pub train_rows: usize,
    pub test_rows: usize,
    pub regression: Option<RegressionScores>,
    pub classification: Option<ClassificationScores>,
    /// Per variable, the score lost each time it was shuffled.
    pub variable_drops: Vec<Vec<f64>>,
    /// Per group of two or more, the score lost when its members were
    /// shuffled together.
    pub group_drops: Vec<Vec<f64>>,
    pub gain_shares: Vec<f64>,
    /// Explained rows: their values and SHAP values, per variable.
    pub explained: Vec<Vec<(f64, f64)>>,
}

/// The rows of each fold, shuffled by `seed`.
pub fn fold_rows(rows: usize, folds: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    (0..folds)
        .map(|fold| order.iter().skip(fold).step_by(folds).copied().collect())
        .collect()
}

/// Fits and measures the model with fold `fold` held out; `groups` are the
/// groups of two or more variables.
pub fn evaluate_fold(
    dataset: &Dataset,
    folds: &[Vec<usize>],
    fold: usize,
    groups: &[Vec<usize>],
    settings: &ValidationSettings,
) -> Result<FoldResult, ModelError> {
    let test_rows = &folds[fold];
    let train_rows: Vec<usize> = folds
        .iter()
        .enumerate()
        .filter(|(other, _)| *other != fold)
        .flat_map(|(_, rows)| rows.iter().copied())
        .collect();
    let columns: Vec<&[f64]> = dataset
        .features
        .iter()
        .map(|f| f.values.as_slice())
        .collect();
    let train = Columns::gather(&columns, &train_rows);
    let y_train: Vec<f64> = train_rows.iter().map(|&r| dataset.target[r]).collect();
    let model_settings = ModelSettings {
        task: dataset.task,
        classes: dataset.classes.len(),
        seed: settings.seed,
    };
    let model = Model::fit(&train, &y_train, model_settings)?;
    let mut test = Columns::gather(&columns, test_rows);
    let truth: Vec<f64> = test_rows.iter().map(|&r| dataset.target[r]).collect();
    let scorer = Scorer {
        model: &model,
        truth: &truth,
        task: dataset.task,
        classes: dataset.classes.len().max(2),
    };
    let predicted = model.predict(&test);
    let (regression, classification) = match dataset.task {
        Task::Regression => (Some(metrics::regression(&truth, &predicted)), None),
        Task::Classification => (
            None,
            Some(metrics::classification(&truth, &predicted, scorer.classes)),
        ),
    };
    let baseline = scorer.score_of(&predicted);
    let mut rng = StdRng::seed_from_u64(settings.seed.wrapping_add(fold as u64 + 1));
    let variable_drops = (0..test.cols)
        .map(|col| scorer.drops(&mut test, &[col], baseline, settings.repeats, &mut rng))
        .collect();
    let group_drops = groups
        .iter()
        .map(|members| scorer.drops(&mut test, members, baseline, settings.repeats, &mut rng))
        .collect();
    let explained = explain(&model, &test, settings.shap_rows_per_fold);
    Ok(FoldResult {
        train_rows: train_rows.len(),
        test_rows: test_rows.len(),
        regression,
        classification,
        variable_drops,
        group_drops,
        gain_shares: model.gain_shares(test.cols),
        explained,
    })
}

/// Scores a model's predictions of held-out rows: R² for a regression,
/// minus the log loss for a classification (higher is better for both).
struct Scorer<'a> {
    model: &'a Model,
    truth: &'a [f64],
    task: Task,
    classes: usize,
}

impl Scorer<'_> {
    fn score_of(&self, predicted: &[f64]) -> f64 {
        match self.task {
            Task::Regression => metrics::regression(self.truth, predicted).r2,
            Task::Classification => -metrics::log_loss(self.truth, predicted, self.classes),
        }
    }

    /// The score lost each of `repeats` times the columns `cols` are
    /// shuffled together (the same new order for each, so a group keeps
    /// its inner relations and loses only its link to the target).
    fn drops(
        &self,
        test: &mut Columns,
        cols: &[usize],
        baseline: f64,
        repeats: usize,
        rng: &mut StdRng,
    ) -> Vec<f64> {
        let originals: Vec<Vec<f64>> = cols.iter().map(|&c| test.column(c).to_vec()).collect();
        let mut order: Vec<usize> = (0..test.rows).collect();
        let drops = (0..repeats)
            .map(|_| {
                order.shuffle(rng);
                for (&col, original) in cols.iter().zip(&originals) {
                    let column = test.column_mut(col);
                    for (value, &from) in column.iter_mut().zip(&order) {
                        *value = original[from];
                    }
                }
                baseline - self.score_of(&self.model.predict(test))
            })
            .collect();
        for (&col, original) in cols.iter().zip(originals) {
            test.column_mut(col).copy_from_slice(&original);
        }
        drops
    }
}

/// SHAP values of the first `limit` held-out rows (the rows are already
/// in a random order), with each variable's value.
fn explain(model: &Model, test: &Columns, limit: usize) -> Vec<Vec<(f64, f64)>> {
    let rows: Vec<usize> = (0..test.rows.min(limit)).collect();
    let columns: Vec<&[f64]> = (0..test.cols).map(|c| test.column(c)).collect();
    let sample = Columns::gather(&columns, &rows);
    let shap = model.shap(&sample);
    (0..sample.cols)
        .map(|col| {
            (0..sample.rows)
                .map(|row| (sample.column(col)[row], shap[row * sample.cols + col]))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_cover_every_row_once_and_follow_the_seed() {
        let folds = fold_rows(23, 5, 7);
        let mut all: Vec<usize> = folds.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
        assert!(folds.iter().all(|f| f.len() == 4 || f.len() == 5));
        assert_eq!(folds, fold_rows(23, 5, 7));
        assert_ne!(folds, fold_rows(23, 5, 8));
    }
}
