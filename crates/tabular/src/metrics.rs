//! How well predictions match the truth: R², MAE and RMSE for a
//! regression; accuracy, macro F1, ROC AUC (one class against the rest,
//! averaged) and log loss for a classification.

use serde::Serialize;

/// A regression's scores.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct RegressionScores {
    pub r2: f64,
    pub mae: f64,
    pub rmse: f64,
}

/// A classification's scores.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ClassificationScores {
    pub accuracy: f64,
    pub f1_macro: f64,
    pub roc_auc: f64,
    pub log_loss: f64,
}

/// The probability below which a class is taken as this, in log loss.
const EPSILON: f64 = 1e-15;

pub fn regression(truth: &[f64], predicted: &[f64]) -> RegressionScores {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let total: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
    let residual: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let absolute: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (t - p).abs())
        .sum();
    RegressionScores {
        r2: r2_from(residual, total),
        mae: absolute / n,
        rmse: (residual / n).sqrt(),
    }
}

/// R² of a residual and a total sum of squares (0 for a constant truth).
fn r2_from(residual: f64, total: f64) -> f64 {
    if total > 0.0 {
        1.0 - residual / total
    } else {
        0.0
    }
}

/// `truth` as class indices; `probabilities` `classes` a row.
pub fn classification(
    truth: &[f64],
    probabilities: &[f64],
    classes: usize,
) -> ClassificationScores {
    let rows = truth.len();
    let predicted: Vec<usize> = (0..rows)
        .map(|row| argmax(&probabilities[row * classes..(row + 1) * classes]))
        .collect();
    let correct = (0..rows)
        .filter(|&row| predicted[row] == truth[row] as usize)
        .count();
    ClassificationScores {
        accuracy: correct as f64 / rows.max(1) as f64,
        f1_macro: f1_macro(truth, &predicted, classes),
        roc_auc: roc_auc(truth, probabilities, classes),
        log_loss: log_loss(truth, probabilities, classes),
    }
}

/// Mean negative log-likelihood of the true classes.
pub fn log_loss(truth: &[f64], probabilities: &[f64], classes: usize) -> f64 {
    let total: f64 = truth
        .iter()
        .enumerate()
        .map(|(row, &class)| {
            -probabilities[row * classes + class as usize]
                .clamp(EPSILON, 1.0 - EPSILON)
                .ln()
        })
        .sum();
    total / truth.len().max(1) as f64
}

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(index, _)| index)
}

/// Macro F1 over the classes in the truth or the predictions (a class
/// absent from both says nothing of the model).
fn f1_macro(truth: &[f64], predicted: &[usize], classes: usize) -> f64 {
    let f1s: Vec<f64> = (0..classes)
        .filter(|&class| truth.iter().any(|&t| t as usize == class) || predicted.contains(&class))
        .map(|class| {
            let is = |row: usize| truth[row] as usize == class;
            let said = |row: usize| predicted[row] == class;
            let rows = 0..truth.len();
            let tp = rows.clone().filter(|&r| is(r) && said(r)).count() as f64;
            let fp = rows.clone().filter(|&r| !is(r) && said(r)).count() as f64;
            let fn_ = rows.filter(|&r| is(r) && !said(r)).count() as f64;
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            }
        })
        .collect();
    f1s.iter().sum::<f64>() / f1s.len().max(1) as f64
}

/// ROC AUC of each class against the rest (by ranks, ties averaged),
/// averaged over the classes that occur and do not make up every row.
fn roc_auc(truth: &[f64], probabilities: &[f64], classes: usize) -> f64 {
    let aucs: Vec<f64> = (0..classes)
        .filter_map(|class| {
            let scores: Vec<f64> = (0..truth.len())
                .map(|row| probabilities[row * classes + class])
                .collect();
            let positive: Vec<bool> = truth.iter().map(|&t| t as usize == class).collect();
            binary_auc(&scores, &positive)
        })
        .collect();
    if aucs.is_empty() {
        return f64::NAN;
    }
    // Two classes: each class's AUC is the other's, so one is the answer.
    if classes == 2 {
        return aucs[0];
    }
    aucs.iter().sum::<f64>() / aucs.len() as f64
}

fn binary_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let positives = positive.iter().filter(|&&p| p).count() as f64;
    let negatives = positive.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let ranks = crate::rank::average_ranks(scores);
    let positive_ranks: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, &p)| p)
        .map(|(r, _)| r)
        .sum();
    Some((positive_ranks - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_scores_are_the_usual_ones() {
        let scores = regression(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 5.0]);
        assert!((scores.r2 - 0.8).abs() < 1e-12);
        assert!((scores.mae - 0.25).abs() < 1e-12);
        assert!((scores.rmse - 0.5).abs() < 1e-12);
    }

    #[test]
    fn classification_scores_are_the_usual_ones() {
        let truth = [0.0, 0.0, 1.0, 1.0];
        let p = [0.9, 0.1, 0.6, 0.4, 0.35, 0.65, 0.2, 0.8];
        let scores = classification(&truth, &p, 2);
        assert_eq!(scores.accuracy, 1.0);
        assert_eq!(scores.f1_macro, 1.0);
        assert_eq!(scores.roc_auc, 1.0);
        let expected = -(0.9f64.ln() + 0.6f64.ln() + 0.65f64.ln() + 0.8f64.ln()) / 4.0;
        assert!((scores.log_loss - expected).abs() < 1e-12);
        let wrong = classification(&truth, &[0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9, 0.1], 2);
        assert_eq!(wrong.roc_auc, 0.0);
        assert_eq!(wrong.f1_macro, 0.0);
    }
}
