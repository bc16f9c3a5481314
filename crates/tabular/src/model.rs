//! The model: gradient-boosted trees on histogram bins (forust, pure Rust
//! and on stable Rust, unlike PerpetualBooster, which needs nightly), with
//! missing values sent down their own side of each split by the trees
//! themselves, and trees added until a tenth of the training rows, held
//! apart, stops improving. A regression is one booster; a classification
//! one booster a class against the rest (one for two classes), their
//! probabilities normalised. Categories are split on their codes.

use forust_ml::gradientbooster::{ContributionsMethod, ImportanceMethod};
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::dataset::Task;

/// The most trees a booster grows.
const MAX_TREES: usize = 300;
const LEARNING_RATE: f32 = 0.2;
const MAX_DEPTH: usize = 4;
/// Trees without improvement on the held-apart rows before growing stops.
const PATIENCE: usize = 20;
/// The share of training rows held apart to decide when to stop.
const STOPPING_SHARE: f64 = 0.1;
/// Fewer training rows than this and every tree is grown (too few to hold
/// any apart).
const MIN_ROWS_TO_STOP_EARLY: usize = 200;

/// Rows × columns, column after column (the layout the booster reads).
#[derive(Debug, Clone)]
pub struct Columns {
    pub data: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
}

impl Columns {
    /// The rows `rows` of `features` (each a column of every row).
    pub fn gather(features: &[&[f64]], rows: &[usize]) -> Self {
        let mut data = Vec::with_capacity(features.len() * rows.len());
        for column in features {
            data.extend(rows.iter().map(|&row| column[row]));
        }
        Self {
            data,
            rows: rows.len(),
            cols: features.len(),
        }
    }

    pub fn column(&self, col: usize) -> &[f64] {
        &self.data[col * self.rows..(col + 1) * self.rows]
    }

    /// The rows `rows` of these columns.
    pub fn rows_of(&self, rows: &[usize]) -> Self {
        let columns: Vec<&[f64]> = (0..self.cols).map(|c| self.column(c)).collect();
        Self::gather(&columns, rows)
    }

    pub fn column_mut(&mut self, col: usize) -> &mut [f64] {
        &mut self.data[col * self.rows..(col + 1) * self.rows]
    }

    fn matrix(&self) -> Matrix<'_, f64> {
        Matrix::new(&self.data, self.rows, self.cols)
    }
}

/// How the booster is fitted.
#[derive(Debug, Clone, Copy)]
pub struct ModelSettings {
    pub task: Task,
    pub classes: usize,
    pub seed: u64,
}

/// A fitted model.
pub struct Model {
    boosters: Vec<GradientBooster>,
    task: Task,
}

/// Why a model could not be fitted.
#[derive(Debug, thiserror::Error)]
#[error("the model could not be fitted: {0}")]
pub struct ModelError(String);

impl Model {
    /// Fits a model of `x` to `y` (classes as 0, 1, …).
    pub fn fit(x: &Columns, y: &[f64], settings: ModelSettings) -> Result<Self, ModelError> {
        let targets: Vec<(ObjectiveType, Vec<f64>)> = match settings.task {
            Task::Regression => vec![(ObjectiveType::SquaredLoss, y.to_vec())],
            Task::Classification if settings.classes <= 2 => {
                vec![(ObjectiveType::LogLoss, y.to_vec())]
            }
            Task::Classification => (0..settings.classes)
                .map(|class| {
                    let one = y.iter().map(|&v| f64::from(v == class as f64)).collect();
                    (ObjectiveType::LogLoss, one)
                })
                .collect(),
        };
        let (fit_rows, stop_rows) = stopping_split(x.rows, settings.seed);
        let fit_x = x.rows_of(&fit_rows);
        let stop_x = x.rows_of(&stop_rows);
        let boosters = targets
            .into_iter()
            .map(|(objective, target)| {
                let fit_y: Vec<f64> = fit_rows.iter().map(|&r| target[r]).collect();
                let stop_y: Vec<f64> = stop_rows.iter().map(|&r| target[r]).collect();
                fit_booster(
                    objective,
                    (&fit_x, &fit_y),
                    (&stop_x, &stop_y),
                    settings.seed,
                )
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Self {
            boosters,
            task: settings.task,
        })
    }

    /// Regression: a prediction a row. Classification: each row's
    /// probabilities, row after row (two a row for two classes).
    pub fn predict(&self, x: &Columns) -> Vec<f64> {
        let matrix = x.matrix();
        let raw: Vec<Vec<f64>> = self
            .boosters
            .iter()
            .map(|booster| booster.predict(&matrix, true))
            .collect();
        match (self.task, raw.as_slice()) {
            (Task::Regression, [values]) => values.clone(),
            (_, [log_odds]) => log_odds
                .iter()
                .flat_map(|&z| {
                    let p = sigmoid(z);
                    [1.0 - p, p]
                })
                .collect(),
            _ => (0..x.rows)
                .flat_map(|row| {
                    let p: Vec<f64> = raw.iter().map(|class| sigmoid(class[row])).collect();
                    let total: f64 = p.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                    p.into_iter().map(move |p| p / total)
                })
                .collect(),
        }
    }

    /// Each row's exact TreeSHAP value of each column (in the model's raw
    /// scale), row after row. With a model a class, the sizes are summed
    /// (signed values of different classes would cancel out).
    pub fn shap(&self, x: &Columns) -> Vec<f64> {
        let matrix = x.matrix();
        let stride = x.cols + 1;
        let mut total = vec![0.0; x.rows * x.cols];
        for booster in &self.boosters {
            let contributions =
                booster.predict_contributions(&matrix, ContributionsMethod::Shapley, true);
            for row in 0..x.rows {
                for col in 0..x.cols {
                    let value = contributions[row * stride + col];
                    total[row * x.cols + col] += if self.boosters.len() > 1 {
                        value.abs()
                    } else {
                        value
                    };
                }
            }
        }
        total
    }

    /// Each column's share of the trees' total gain (0–1), averaged over
    /// the boosters.
    pub fn gain_shares(&self, cols: usize) -> Vec<f64> {
        let mut shares = vec![0.0; cols];
        for booster in &self.boosters {
            let importance =
                booster.calculate_feature_importance(ImportanceMethod::TotalGain, true);
            for (col, share) in importance {
                if col < cols {
                    shares[col] += f64::from(share) / self.boosters.len() as f64;
                }
            }
        }
        shares
    }
}

/// The rows a booster is fitted on, and those held apart to stop it (none
/// when there are too few rows).
fn stopping_split(rows: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..rows).collect();
    if rows < MIN_ROWS_TO_STOP_EARLY {
        return (order, Vec::new());
    }
    order.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5eed));
    let held = (rows as f64 * STOPPING_SHARE).round() as usize;
    let stop = order.split_off(rows - held);
    (order, stop)
}

/// One booster fitted to `fit`, stopped when `stop` (if any rows) no
/// longer improves.
fn fit_booster(
    objective: ObjectiveType,
    (x, y): (&Columns, &[f64]),
    (stop_x, stop_y): (&Columns, &[f64]),
    seed: u64,
) -> Result<GradientBooster, ModelError> {
    let metric = match objective {
        ObjectiveType::SquaredLoss => Metric::RootMeanSquaredError,
        ObjectiveType::LogLoss => Metric::LogLoss,
    };
    let early = stop_x.rows > 0;
    let mut booster = GradientBooster::default()
        .set_objective_type(objective)
        .set_iterations(MAX_TREES)
        .set_learning_rate(LEARNING_RATE)
        .set_max_depth(MAX_DEPTH)
        .set_seed(seed)
        .set_initialize_base_score(true)
        .set_evaluation_metric(early.then_some(metric))
        .set_early_stopping_rounds(early.then_some(PATIENCE));
    let weights = vec![1.0; x.rows];
    let stop_weights = vec![1.0; stop_x.rows];
    let evaluation = early.then(|| vec![(stop_x.matrix(), stop_y, stop_weights.as_slice())]);
    booster
        .fit(&x.matrix(), y, &weights, evaluation)
        .map_err(|e| ModelError(e.to_string()))?;
    // The trees grown after the best one are not used to predict; they
    // must not count in the gain either.
    if let Some(best) = booster.best_iteration {
        booster.trees.truncate(best + 1);
    }
    Ok(booster)
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}
