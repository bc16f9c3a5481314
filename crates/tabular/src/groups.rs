//! Variables that move together, grouped: industrial variables are rarely
//! independent (a temperature and the pressure it drives), and a model
//! credits one twin and starves the other. Variables are clustered by
//! |Spearman ρ| with complete linkage: every pair in a group is at least
//! `threshold` correlated, so a group is never a chain of loose neighbours.

use crate::rank::{average_ranks, spearman};

/// Rows used to measure correlations (more change nothing but the time).
const SAMPLE_ROWS: usize = 5000;

/// A set of variables that move together.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// 1, 2, … in the order of their first variable.
    pub id: usize,
    /// Indices of the variables, in order.
    pub members: Vec<usize>,
    /// The weakest |ρ| between two members (1 for a single variable).
    pub min_abs_rho: f64,
}

/// The groups of `columns` (numeric columns; `None` for a column that is
/// never grouped, such as categories, whose codes have no order). Every
/// column is in exactly one group, single ones included.
pub fn correlated_groups(columns: &[Option<&[f64]>], threshold: f64) -> Vec<Group> {
    let rho = correlations(columns);
    let mut clusters: Vec<Vec<usize>> = (0..columns.len()).map(|c| vec![c]).collect();
    loop {
        // The two clusters whose weakest link is the strongest.
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..clusters.len() {
            for b in a + 1..clusters.len() {
                let weakest = clusters[a]
                    .iter()
                    .flat_map(|&i| clusters[b].iter().map(move |&j| (i, j)))
                    .map(|(i, j)| rho[i][j])
                    .fold(f64::INFINITY, f64::min);
                if weakest >= threshold && best.is_none_or(|(w, _, _)| weakest > w) {
                    best = Some((weakest, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let merged = clusters.remove(b);
        clusters[a].extend(merged);
    }
    for cluster in &mut clusters {
        cluster.sort_unstable();
    }
    clusters.sort_by_key(|cluster| cluster[0]);
    clusters
        .into_iter()
        .enumerate()
        .map(|(index, members)| {
            let min_abs_rho = members
                .iter()
                .flat_map(|&i| {
                    members
                        .iter()
                        .filter(move |&&j| j > i)
                        .map(move |&j| (i, j))
                })
                .map(|(i, j)| rho[i][j])
                .fold(1.0, f64::min);
            Group {
                id: index + 1,
                members,
                min_abs_rho,
            }
        })
        .collect()
}

/// |ρ| between every two columns (0 with a column never grouped).
fn correlations(columns: &[Option<&[f64]>]) -> Vec<Vec<f64>> {
    let rows = columns.iter().flatten().map(|c| c.len()).max().unwrap_or(0);
    // An even spread of rows, the same for every column.
    let step = rows.div_ceil(SAMPLE_ROWS).max(1);
    let sampled: Vec<Option<Vec<f64>>> = columns
        .iter()
        .map(|column| column.map(|values| values.iter().step_by(step).copied().collect()))
        .collect();
    // Ranks once per complete column; pairs with missing values are ranked
    // over the rows both have.
    let ranks: Vec<Option<Vec<f64>>> = sampled
        .iter()
        .map(|column| {
            column
                .as_ref()
                .filter(|values| values.iter().all(|v| !v.is_nan()))
                .map(|values| average_ranks(values))
        })
        .collect();
    let n = columns.len();
    let mut rho = vec![vec![0.0; n]; n];
    for i in 0..n {
        rho[i][i] = 1.0;
        for j in i + 1..n {
            let value = match (&sampled[i], &sampled[j], &ranks[i], &ranks[j]) {
                (_, _, Some(a), Some(b)) => crate::rank::pearson(a, b),
                (Some(a), Some(b), _, _) => spearman(a, b),
                _ => 0.0,
            };
            rho[i][j] = value.abs();
            rho[j][i] = value.abs();
        }
    }
    rho
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_are_grouped_and_strangers_are_not() {
        let x: Vec<f64> = (0..200)
            .map(|i| f64::from(i % 37) * 1.3 + f64::from(i % 7))
            .collect();
        let twin: Vec<f64> = x.iter().map(|v| v * 2.0 + 1.0).collect();
        let other: Vec<f64> = (0..200).map(|i| f64::from((i * 7919) % 101)).collect();
        let groups = correlated_groups(&[Some(&x), Some(&other), Some(&twin), None], 0.7);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].members, [0, 2]);
        assert!(groups[0].min_abs_rho > 0.99);
        assert_eq!(groups[1].members, [1]);
        assert_eq!(groups[2].members, [3]);
    }
}
