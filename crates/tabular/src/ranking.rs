//! Which variables matter, from what the held-out folds showed, combined
//! into one ranking.
//!
//! Three measures, each scaled to 0–1 by its largest value: mean |SHAP|
//! (`shap_norm`), the trees' gain share (`native_norm`) and permutation
//! importance (`permutation_norm`). A variable's permutation importance is
//! its own, plus its share of what its group loses beyond the sum of its
//! members' own losses: twins that stand in for each other each look
//! harmless alone, and together they are not, so that shared part is split
//! between them. `score_final` is the mean of the three, and the ranking's
//! order.

use serde::Serialize;

use crate::dataset::Dataset;
use crate::groups::Group;
use crate::rank::spearman;
use crate::table::ColumnKind;
use crate::validation::FoldResult;

/// |ρ| between a variable's values and its SHAP values above which the
/// relation is called monotone.
const MONOTONE: f64 = 0.3;

/// How the target moves as a variable rises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Increases,
    Decreases,
    NonLinear,
}

/// One variable's place in the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct RankedVariable {
    pub rank: usize,
    pub feature: String,
    pub kind: &'static str,
    pub score_final: f64,
    /// Score lost when the variable is shuffled (R², or log loss for a
    /// classification), mean and standard deviation over folds and repeats.
    pub permutation_mean: f64,
    pub permutation_std: f64,
    /// The group's id; its other members share its credit.
    pub group: usize,
    pub group_members: Vec<String>,
    /// Score lost when the whole group is shuffled (groups of two or more).
    pub group_permutation_mean: Option<f64>,
    pub importance_shap_mean_abs: f64,
    /// The trees' gain share, 0–1.
    pub importance_native: f64,
    pub shap_norm: f64,
    pub native_norm: f64,
    pub permutation_norm: f64,
    pub direction: Direction,
    /// Values and SHAP values of explained rows, for dependence charts.
    #[serde(skip)]
    pub dependence: Vec<(f64, f64)>,
}

/// The ranking of `dataset`'s variables, most important first.
pub fn rank(dataset: &Dataset, groups: &[Group], folds: &[FoldResult]) -> Vec<RankedVariable> {
    let n = dataset.features.len();
    let own: Vec<(f64, f64)> = (0..n)
        .map(|v| {
            mean_std(
                folds
                    .iter()
                    .flat_map(|f| f.variable_drops[v].iter().copied()),
            )
        })
        .collect();
    let multi: Vec<&Group> = groups.iter().filter(|g| g.members.len() > 1).collect();
    let group_drop: Vec<f64> = (0..multi.len())
        .map(|g| mean_std(folds.iter().flat_map(|f| f.group_drops[g].iter().copied())).0)
        .collect();
    let mut effective: Vec<f64> = own.iter().map(|(mean, _)| mean.max(0.0)).collect();
    for (group, drop) in multi.iter().zip(&group_drop) {
        let alone: f64 = group.members.iter().map(|&v| own[v].0.max(0.0)).sum();
        let shared = (drop - alone).max(0.0) / group.members.len() as f64;
        for &v in &group.members {
            effective[v] += shared;
        }
    }
    let dependence: Vec<Vec<(f64, f64)>> = (0..n)
        .map(|v| {
            folds
                .iter()
                .flat_map(|f| f.explained[v].iter().copied())
                .collect()
        })
        .collect();
    let shap: Vec<f64> = dependence
        .iter()
        .map(|pairs| pairs.iter().map(|(_, s)| s.abs()).sum::<f64>() / pairs.len().max(1) as f64)
        .collect();
    let native: Vec<f64> = (0..n)
        .map(|v| folds.iter().map(|f| f.gain_shares[v]).sum::<f64>() / folds.len().max(1) as f64)
        .collect();
    let (shap_norm, native_norm, permutation_norm) =
        (scaled(&shap), scaled(&native), scaled(&effective));
    let group_of = |v: usize| groups.iter().find(|g| g.members.contains(&v));
    let mut variables: Vec<RankedVariable> = (0..n)
        .map(|v| {
            let feature = &dataset.features[v];
            let group = group_of(v);
            let multi_index = multi.iter().position(|g| g.members.contains(&v));
            RankedVariable {
                rank: 0,
                feature: feature.name.clone(),
                kind: feature.kind.as_str(),
                score_final: (shap_norm[v] + native_norm[v] + permutation_norm[v]) / 3.0,
                permutation_mean: own[v].0,
                permutation_std: own[v].1,
                group: group.map_or(0, |g| g.id),
                group_members: group
                    .map(|g| {
                        g.members
                            .iter()
                            .map(|&m| dataset.features[m].name.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                group_permutation_mean: multi_index.map(|g| group_drop[g]),
                importance_shap_mean_abs: shap[v],
                importance_native: native[v],
                shap_norm: shap_norm[v],
                native_norm: native_norm[v],
                permutation_norm: permutation_norm[v],
                direction: direction(feature.kind, &dependence[v]),
                dependence: dependence[v].clone(),
            }
        })
        .collect();
    variables.sort_by(|a, b| b.score_final.total_cmp(&a.score_final));
    for (index, variable) in variables.iter_mut().enumerate() {
        variable.rank = index + 1;
    }
    variables
}

fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let values: Vec<f64> = values.collect();
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

/// Each value over the largest (negatives as 0); all 0 when none is above 0.
fn scaled(values: &[f64]) -> Vec<f64> {
    let top = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|&v| if top > 0.0 { v.max(0.0) / top } else { 0.0 })
        .collect()
}

/// Rising values push the prediction up, down, or neither consistently.
fn direction(kind: ColumnKind, pairs: &[(f64, f64)]) -> Direction {
    if kind == ColumnKind::Categorical {
        return Direction::NonLinear;
    }
    let (values, shap): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let rho = spearman(&values, &shap);
    if rho >= MONOTONE {
        Direction::Increases
    } else if rho <= -MONOTONE {
        Direction::Decreases
    } else {
        Direction::NonLinear
    }
}
