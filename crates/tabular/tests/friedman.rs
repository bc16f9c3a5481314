//! The relevance analysis on Friedman #1 (y = 10 sin(π x1 x2) + 20 (x3 −
//! ½)² + 10 x4 + 5 x5 + noise), with forty variables of pure noise and a
//! noisy copy of each informative one (ρ ≈ 0.89): the five informative
//! variables come first, each grouped with its copy.

use std::fmt::Write;

use kinoflow_tabular::ranking::Direction;
use kinoflow_tabular::{analyse, Dataset, DatasetOptions, Table, ValidationSettings};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROWS: usize = 20_000;
const NOISE: usize = 40;
/// The copies' noise: ρ = σx / √(σx² + σ²) ≈ 0.89 for x uniform on [0, 1].
const COPY_NOISE: f64 = 0.148;

/// The CSV of the benchmark's table.
pub fn friedman_csv(rows: usize, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut csv = String::new();
    let mut header: Vec<String> = (1..=5).map(|i| format!("x{i}")).collect();
    header.extend((1..=NOISE).map(|i| format!("noise{i}")));
    header.extend((1..=5).map(|i| format!("x{i}_copy")));
    header.push("y".to_owned());
    csv.push_str(&header.join(","));
    csv.push('\n');
    for _ in 0..rows {
        let x: Vec<f64> = (0..5).map(|_| rng.gen::<f64>()).collect();
        let y = 10.0 * (std::f64::consts::PI * x[0] * x[1]).sin()
            + 20.0 * (x[2] - 0.5).powi(2)
            + 10.0 * x[3]
            + 5.0 * x[4]
            + normal(&mut rng);
        let mut cells: Vec<f64> = x.clone();
        cells.extend((0..NOISE).map(|_| rng.gen::<f64>()));
        cells.extend(x.iter().map(|v| v + COPY_NOISE * normal(&mut rng)));
        cells.push(y);
        for (index, value) in cells.iter().enumerate() {
            if index > 0 {
                csv.push(',');
            }
            let _ = write!(csv, "{value:.6}");
        }
        csv.push('\n');
    }
    csv
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

#[test]
fn the_informative_variables_come_first_each_grouped_with_its_copy() {
    let path = std::env::temp_dir().join(format!("friedman-{}.csv", std::process::id()));
    std::fs::write(&path, friedman_csv(ROWS, 42)).unwrap();
    let table = Table::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let dataset = Dataset::new(
        &table,
        &DatasetOptions {
            target: "y".to_owned(),
            exclude: Vec::new(),
            task: None,
        },
    )
    .unwrap();
    let settings = ValidationSettings {
        folds: 5,
        repeats: 3,
        seed: 7,
        shap_rows_per_fold: 500,
    };
    let started = std::time::Instant::now();
    let relevance = analyse(&dataset, &settings, 0.7, |_| true).unwrap();
    eprintln!(
        "analysed in {:?}, R² {:?}",
        started.elapsed(),
        relevance.quality.r2
    );
    let r2 = relevance.quality.r2.unwrap();
    assert!(r2 >= 0.94, "R² {r2}");
    let top: Vec<&str> = relevance.ranking[..5]
        .iter()
        .map(|v| v.feature.as_str())
        .collect();
    let mut sorted = top.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["x1", "x2", "x3", "x4", "x5"], "{top:?}");
    for variable in &relevance.ranking[..5] {
        let copy = format!("{}_copy", variable.feature);
        let mut members = variable.group_members.clone();
        members.sort();
        assert_eq!(members, [variable.feature.clone(), copy], "{variable:?}");
        assert!(variable.group_permutation_mean.is_some());
    }
    for variable in &relevance.ranking {
        eprintln!(
            "{:>3} {:<10} score {:.3} perm {:.3}±{:.3} shap {:.3} gain {:.3} {:?}",
            variable.rank,
            variable.feature,
            variable.score_final,
            variable.permutation_mean,
            variable.permutation_std,
            variable.importance_shap_mean_abs,
            variable.importance_native,
            variable.direction
        );
    }
    for linear in ["x4", "x5"] {
        let variable = relevance
            .ranking
            .iter()
            .find(|v| v.feature == linear)
            .unwrap();
        assert_eq!(variable.direction, Direction::Increases, "{linear}");
    }
}
