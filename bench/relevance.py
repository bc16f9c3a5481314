#!/usr/bin/env python3
"""Relevance benchmark: kinoflow `relevance` against scikit-learn 1.7.2 in
the same run, on Friedman #1 with 20 000 rows and 55 columns: x1-x5
informative (y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1)),
40 columns of noise and a noisy copy of each of x1-x5 (rho ~ 0.89).

scikit-learn: HistGradientBoostingRegressor scored by 5-fold
cross-validation, then fitted on 80 % of the rows and its permutation
importance (5 repeats) measured on the other 20 %: the usual recipe, timed
from the CSV on disk to the ranking. kinoflow: `kinoflow run relevance`
(5 folds, every measure on held-out rows, groups), the whole process timed.

Then a CSV of 1 000 000 rows and 50 columns (the same recipe with 39
columns of noise): kinoflow's time and peak memory.

Run through bench/relevance (it installs what is missing and builds kinoflow)."""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.model_selection import KFold, cross_val_score, train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")
INFORMATIVE = ["x1", "x2", "x3", "x4", "x5"]


def friedman(rows, noise_columns, seed):
    """The table as a header and a float matrix (last column y)."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 5))
    y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
         + 10 * x[:, 3] + 5 * x[:, 4] + rng.normal(0, 1, rows))
    noise = rng.random((rows, noise_columns))
    copies = x + rng.normal(0, 0.148, (rows, 5))
    header = INFORMATIVE + [f"noise{i + 1}" for i in range(noise_columns)] \
        + [f"{name}_copy" for name in INFORMATIVE] + ["y"]
    return header, np.column_stack([x, noise, copies, y])


def write_csv(path, rows, noise_columns, seed):
    if os.path.exists(path):
        return
    header, data = friedman(rows, noise_columns, seed)
    with open(path + ".part", "w") as out:
        out.write(",".join(header) + "\n")
        np.savetxt(out, data, delimiter=",", fmt="%.6f")
    os.replace(path + ".part", path)


def sklearn_run(path):
    started = time.monotonic()
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    with open(path) as f:
        header = f.readline().strip().split(",")
    x, y = data[:, :-1], data[:, -1]
    model = HistGradientBoostingRegressor(random_state=0)
    r2 = cross_val_score(model, x, y, cv=KFold(5, shuffle=True, random_state=0), scoring="r2").mean()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    model.fit(x_train, y_train)
    result = permutation_importance(model, x_test, y_test, n_repeats=5, random_state=0)
    elapsed = time.monotonic() - started
    order = np.argsort(-result.importances_mean)
    return elapsed, r2, [header[i] for i in order[:5]]


def kinoflow_run(binary, path, params):
    out = tempfile.mkdtemp(prefix="relevance-")
    command = [binary, "run", "relevance", path, "--out", out]
    for param in params:
        command += ["--param", param]
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # This child's own peak (RUSAGE_CHILDREN would also count the build
    # that ran before this script was exec'd).
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    if status != 0:
        sys.exit(f"kinoflow failed on {path}")
    peak_mib = usage.ru_maxrss / 1024
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(out, "ranking.json")) as f:
        ranking = json.load(f)
    return elapsed, metrics, ranking, peak_mib


def main():
    binary = sys.argv[1]
    large = "--skip-large" not in sys.argv
    os.makedirs(CACHE, exist_ok=True)
    friedman_csv = os.path.join(CACHE, "friedman-20000x55.csv")
    write_csv(friedman_csv, 20_000, 40, 42)

    sk_time, sk_r2, sk_top = sklearn_run(friedman_csv)
    kf_time, metrics, ranking, kf_peak = kinoflow_run(binary, friedman_csv, ["target_column=y"])
    top = ranking[:5]
    top_names = [v["feature"] for v in top]
    grouped = all(sorted(v["group_members"]) == sorted([v["feature"], v["feature"] + "_copy"]) for v in top)
    print("| tool | time (s) | vs scikit-learn | R² (5-fold) | top 5 | top 5 = x1–x5 | each with its copy |")
    print("|---|---|---|---|---|---|---|")
    print(f"| scikit-learn 1.7.2 HistGradientBoosting + permutation | {sk_time:.1f} | 1.00 × | {sk_r2:.3f} | "
          f"{', '.join(sk_top)} | {sorted(sk_top) == INFORMATIVE} | (no groups) |")
    print(f"| kinoflow `relevance` | {kf_time:.1f} | {sk_time / kf_time:.2f} × | {metrics['r2']:.3f} | "
          f"{', '.join(top_names)} | {sorted(top_names) == INFORMATIVE} | {grouped} |")
    print(f"\nkinoflow peak memory on the 20 000-row table: {kf_peak:.0f} MiB")

    if large:
        big_csv = os.path.join(CACHE, "friedman-1000000x50.csv")
        write_csv(big_csv, 1_000_000, 39, 43)
        size_mib = os.path.getsize(big_csv) / 2**20
        big_time, big_metrics, big_ranking, big_peak = kinoflow_run(binary, big_csv, ["target_column=y"])
        print("\n| table | CSV size | kinoflow time (s) | peak memory (MiB) | R² |")
        print("|---|---|---|---|---|")
        print(f"| 1 000 000 × 50 | {size_mib:.0f} MiB | {big_time:.0f} | {big_peak:.0f} | {big_metrics['r2']:.3f} |")


if __name__ == "__main__":
    main()
