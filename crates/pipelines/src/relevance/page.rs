//! `report.html`: one page a plant engineer can read without the rest —
//! what the data held, how good the model is, the ranking in plain words,
//! the charts (inside the page), and what was left out and why.

use std::fmt::Write;

use base64::Engine as _;
use kinoflow_tabular::ranking::{Direction, RankedVariable};
use kinoflow_tabular::{Dataset, Relevance};
use serde_json::Value;

/// Variables in the page's table.
const LISTED: usize = 25;

/// The page; `charts` are PNGs (name, bytes) shown in it.
pub fn render(
    dataset: &Dataset,
    relevance: &Relevance,
    metrics: &Value,
    charts: &[(String, Vec<u8>)],
) -> String {
    let mut page = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>What drives the target</title><style>\
         body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}\
         table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}\
         img{max-width:100%}.note{color:#555}</style></head><body>\n",
    );
    // Writing to a String cannot fail.
    let _ = writeln!(
        page,
        "<h1>What drives {}</h1>",
        escape(&dataset.target_name)
    );
    let _ = writeln!(page, "<h2>The data</h2><p>{}</p>", data_summary(dataset));
    let _ = writeln!(
        page,
        "<h2>How good the model is</h2><p>{}</p>",
        quality(metrics)
    );
    let _ = writeln!(page, "<h2>The ranking</h2>{}", ranking_table(relevance));
    for (name, png) in charts {
        let _ = writeln!(
            page,
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"></figure>",
            escape(name),
            base64::engine::general_purpose::STANDARD.encode(png)
        );
    }
    if !dataset.notes.is_empty() || dataset.dropped_rows > 0 {
        let _ = writeln!(page, "<h2>Left out</h2><ul class=\"note\">");
        if dataset.dropped_rows > 0 {
            let _ = writeln!(
                page,
                "<li>{} rows without a value in {}</li>",
                dataset.dropped_rows,
                escape(&dataset.target_name)
            );
        }
        for note in &dataset.notes {
            let _ = writeln!(page, "<li>{}</li>", escape(note));
        }
        let _ = writeln!(page, "</ul>");
    }
    page.push_str(
        "<p class=\"note\">Every number was measured on rows the model had not seen \
         (cross-validation). Variables in one group move together; when they take turns \
         standing in for each other, their shared importance is split between them.</p>\
         </body></html>\n",
    );
    page
}

fn data_summary(dataset: &Dataset) -> String {
    format!(
        "{} rows and {} variables were analysed to explain <b>{}</b> ({}).",
        dataset.rows(),
        dataset.features.len(),
        escape(&dataset.target_name),
        dataset.task.as_str()
    )
}

fn quality(metrics: &Value) -> String {
    if let Some(r2) = metrics["r2"].as_f64() {
        format!(
            "The model explains {:.0} % of the target's variation on unseen rows \
             (R² {r2:.3}; typical error {:.4}).",
            (r2 * 100.0).max(0.0),
            metrics["mae"].as_f64().unwrap_or(f64::NAN)
        )
    } else {
        format!(
            "The model classifies {:.0} % of unseen rows correctly (macro F1 {:.3}, ROC AUC {:.3}).",
            metrics["accuracy"].as_f64().unwrap_or(f64::NAN) * 100.0,
            metrics["f1_macro"].as_f64().unwrap_or(f64::NAN),
            metrics["roc_auc"].as_f64().unwrap_or(f64::NAN)
        )
    }
}

fn ranking_table(relevance: &Relevance) -> String {
    let mut table = String::from(
        "<table><tr><th>#</th><th>Variable</th><th>Score</th><th>When it rises</th><th>Moves with</th></tr>\n",
    );
    for variable in relevance.ranking.iter().take(LISTED) {
        let _ = writeln!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
            variable.rank,
            escape(&variable.feature),
            variable.score_final,
            in_words(variable),
            escape(&companions(variable))
        );
    }
    table.push_str("</table>");
    table
}

fn in_words(variable: &RankedVariable) -> &'static str {
    match variable.direction {
        Direction::Increases => "the target tends to rise",
        Direction::Decreases => "the target tends to fall",
        Direction::NonLinear => "it depends on the range",
    }
}

fn companions(variable: &RankedVariable) -> String {
    variable
        .group_members
        .iter()
        .filter(|name| **name != variable.feature)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
