//! The `relevance` pipeline on real tables: scikit-learn's diabetes data
//! (held to HistGradientBoosting's cross-validated R² in the same run), a
//! Brazilian export (`;`, decimal commas, Latin-1), a classification with
//! missing values and a category; tables it cannot analyse refused at
//! submission with what to fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{expect, read_json, run_pipeline, run_succeeds, Server};

/// `kinoflow run relevance` on `csv` with `params`; the artifacts' folder.
fn run_relevance(csv: &Path, params: &[&str], out: &Path) -> PathBuf {
    run_succeeds(run_pipeline("relevance", csv, params, out), out)
}

/// Runs Python with scikit-learn (installed by `scripts/install-test-deps`).
fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Writes the diabetes data as CSV and prints HistGradientBoosting's mean
/// R² over five shuffled folds.
const DIABETES: &str = r#"
import csv, sys
from sklearn.datasets import load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, cross_val_score
data = load_diabetes()
with open(sys.argv[1], "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(list(data.feature_names) + ["target"])
    for row, target in zip(data.data, data.target):
        writer.writerow([repr(float(v)) for v in row] + [repr(float(target))])
scores = cross_val_score(HistGradientBoostingRegressor(random_state=0), data.data, data.target,
                         cv=KFold(5, shuffle=True, random_state=0), scoring="r2")
print(scores.mean())
"#;

#[test]
fn diabetes_is_modelled_as_well_as_scikit_learn_does() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("diabetes.csv");
    let sklearn_r2: f64 = python(DIABETES, &[csv.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap();
    let out = run_relevance(&csv, &["target_column=target"], &dir.path().join("out"));
    let metrics = read_json(&out.join("metrics.json"));
    let r2 = metrics["r2"].as_f64().unwrap();
    assert!(
        r2 >= sklearn_r2 - 0.05,
        "kinoflow R² {r2}, scikit-learn {sklearn_r2}"
    );
    assert_eq!(metrics["n_features"], 10);
    assert_eq!(metrics["folds"], 5);
    for field in ["mae", "rmse", "n_train", "n_test", "date"] {
        assert!(!metrics[field].is_null(), "{field}");
    }
    // Body mass index and blood serum (s5) are the best-known drivers.
    let ranking = read_json(&out.join("ranking.json"));
    let top: Vec<&str> = ranking.as_array().unwrap()[..3]
        .iter()
        .map(|v| v["feature"].as_str().unwrap())
        .collect();
    assert!(top.contains(&"bmi") && top.contains(&"s5"), "{top:?}");
    for artifact in [
        "ranking.csv",
        "groups.json",
        "chart_importance.png",
        "chart_dependence_bmi.png",
        "report.html",
    ] {
        assert!(out.join(artifact).is_file(), "{artifact}");
    }
}

/// A Brazilian spreadsheet export: `;` between cells, decimal commas,
/// thousands dots, Latin-1 names, a date column and a line category.
fn brazilian_export(rows: usize) -> Vec<u8> {
    let mut text = String::from("data;linha;pressão;temperatura;umidade;produção\n");
    for i in 0..rows {
        let pressure = 1.0 + (i * 37 % 100) as f64 / 10.0;
        let temperature = 1000.0 + (i * 53 % 200) as f64;
        let humidity = (i * 71 % 97) as f64 / 97.0;
        let line = ["A", "B", "C"][i % 3];
        let output = 3.0 * pressure
            + 0.01 * temperature
            + if line == "B" { 4.0 } else { 0.0 }
            + ((i * 13 % 7) as f64 - 3.0) * 0.1;
        let day = i % 28 + 1;
        text.push_str(&format!(
            "{day:02}/03/2024;{line};{};{};{};{}\n",
            comma(pressure),
            thousands(temperature),
            comma(humidity),
            comma(output)
        ));
    }
    // Latin-1, as older exports write it.
    text.chars().map(|c| c as u32 as u8).collect()
}

fn comma(value: f64) -> String {
    format!("{value:.3}").replace('.', ",")
}

/// A number from 1000 to 9999 as `1.234,500`.
fn thousands(value: f64) -> String {
    let text = comma(value);
    format!("{}.{}", &text[..1], &text[1..])
}

#[test]
fn a_semicolon_decimal_comma_latin1_export_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("fabrica.csv");
    std::fs::write(&csv, brazilian_export(300)).unwrap();
    let out = run_relevance(&csv, &["target_column=produção"], &dir.path().join("out"));
    let ranking = read_json(&out.join("ranking.json"));
    let features: Vec<&str> = ranking
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["feature"].as_str().unwrap())
        .collect();
    assert_eq!(features[0], "pressão", "{features:?}");
    let kind_of = |name: &str| {
        ranking
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["feature"] == name)
            .map(|v| v["kind"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(kind_of("linha"), "categorical");
    assert_eq!(kind_of("data"), "datetime");
    assert_eq!(kind_of("temperatura"), "numeric");
    let pressure = &ranking[0];
    assert_eq!(pressure["direction"], "increases");
    let metrics = read_json(&out.join("metrics.json"));
    assert!(metrics["r2"].as_f64().unwrap() > 0.9, "{metrics}");
}

#[test]
fn a_classification_with_missing_values_and_a_category() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("scrap.csv");
    let mut text = String::from("batch,speed,supplier,temperature,outcome\n");
    for i in 0..400 {
        let speed = (i * 29 % 100) as f64;
        let supplier = ["north", "south"][i % 2];
        let temperature = if i % 10 == 0 {
            String::new()
        } else {
            format!("{}", 150 + i * 7 % 40)
        };
        let outcome = if speed > 60.0 || (supplier == "south" && speed > 40.0) {
            "scrap"
        } else {
            "good"
        };
        text.push_str(&format!("{i},{speed},{supplier},{temperature},{outcome}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let out = run_relevance(&csv, &["target_column=outcome"], &dir.path().join("out"));
    let metrics = read_json(&out.join("metrics.json"));
    assert_eq!(metrics["task"], "classification");
    assert_eq!(metrics["classes"], json!(["good", "scrap"]));
    assert!(metrics["accuracy"].as_f64().unwrap() > 0.9, "{metrics}");
    for field in ["f1_macro", "roc_auc", "log_loss"] {
        assert!(metrics[field].is_f64(), "{field}: {metrics}");
    }
    // The batch number rises row by row: an identifier, left out and said so.
    let notes = metrics["notes"].to_string();
    assert!(
        notes.contains("batch") && notes.contains("identifier"),
        "{notes}"
    );
    let ranking = read_json(&out.join("ranking.json"));
    assert_eq!(ranking[0]["feature"], "speed");
    let supplier = ranking
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["feature"] == "supplier")
        .unwrap();
    assert_eq!(supplier["kind"], "categorical");
}

#[tokio::test]
async fn tables_it_cannot_analyse_are_refused_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("carla@example.com").await;
    let mut few = String::from("a,b,y\n");
    let mut constant = String::from("a,b,y\n");
    for i in 0..50 {
        few.push_str(&format!(
            "{i},{},{}\n",
            i * 2,
            if i < 10 { "1" } else { "" }
        ));
        constant.push_str(&format!("{i},{},7\n", i * 2));
    }
    for (name, table, target, says) in [
        ("few.csv", few.as_str(), "y", "at least 20"),
        ("constant.csv", constant.as_str(), "y", "single value"),
        (
            "constant.csv",
            constant.as_str(),
            "output",
            "the columns are: a, b, y",
        ),
    ] {
        let upload = client.upload_bytes(name, table.as_bytes().to_vec()).await;
        let upload: Value = upload.json().await.unwrap();
        let response = client
            .post_json(
                "/v1/jobs",
                json!({"pipeline": "relevance", "upload_id": upload["id"],
                       "params": {"target_column": target}}),
            )
            .await;
        let body = expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(body.to_string().contains(says), "{name}/{target}: {body}");
    }
    let upload = client.upload_bytes("t.csv", constant.into_bytes()).await;
    let upload: Value = upload.json().await.unwrap();
    let response = client
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "relevance", "upload_id": upload["id"],
                   "params": {"target_column": "y", "folds": 1, "task": "guess"}}),
        )
        .await;
    let body = expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let text = body.to_string();
    assert!(text.contains("folds") && text.contains("task"), "{text}");
}
