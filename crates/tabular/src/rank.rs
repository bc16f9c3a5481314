//! Ranks with ties averaged, and Spearman's rank correlation built on them.

/// The 1-based rank of each value, tied values sharing their mean rank;
/// NaN ranks last.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's ρ of two series over the rows where both have a value; 0
/// when either is constant there.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (*x, *y))
        .unzip();
    pearson(&average_ranks(&a), &average_ranks(&b))
}

/// Pearson's r of two complete series; 0 when either is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - mean_a) * (y - mean_b);
        var_a += (x - mean_a).powi(2);
        var_b += (y - mean_b).powi(2);
    }
    if var_a == 0.0 || var_b == 0.0 {
        0.0
    } else {
        cov / (var_a * var_b).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_rank() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 30.0]),
            [1.5, 3.0, 1.5, 4.0]
        );
    }

    #[test]
    fn spearman_sees_monotone_relations() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.0, 8.0, 27.0, 64.0, 125.0];
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
        let down: Vec<f64> = y.iter().map(|v| -v).collect();
        assert!((spearman(&x, &down) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&x, &[2.0; 5]), 0.0);
    }
}
