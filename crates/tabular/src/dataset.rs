//! A table made ready for a model: the target chosen and checked, rows
//! without a target dropped, and the columns that cannot inform (constant,
//! identifiers, free text, excluded) set aside with a note saying why.

use std::collections::HashSet;

use crate::table::{ColumnKind, Table};

/// The fewest rows with a target that a model is fitted on.
pub const MIN_ROWS: usize = 20;
/// The most classes a classification has (a model a class).
pub const MAX_CLASSES: usize = 50;

/// What the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Regression,
    Classification,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Classification => "classification",
        }
    }
}

/// A variable the model may use.
#[derive(Debug, Clone)]
pub struct Feature {
    pub name: String,
    pub kind: ColumnKind,
    /// A value per kept row; NaN where missing; categories as codes.
    pub values: Vec<f64>,
}

/// The rows with a target, the variables and the target.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub features: Vec<Feature>,
    /// Regression: the value; classification: the class's index in `classes`.
    pub target: Vec<f64>,
    pub task: Task,
    pub classes: Vec<String>,
    pub target_name: String,
    /// Rows dropped because their target was missing.
    pub dropped_rows: usize,
    /// What was set aside, and why, in words.
    pub notes: Vec<String>,
}

/// What the caller asks of the dataset.
#[derive(Debug, Clone)]
pub struct DatasetOptions {
    pub target: String,
    /// Columns to leave out.
    pub exclude: Vec<String>,
    /// Forced; chosen from the target's kind when `None`.
    pub task: Option<Task>,
}

/// Why a table cannot be analysed, in words its user can act on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DatasetError {
    #[error("there is no column {target:?}; the columns are: {columns}")]
    NoTarget { target: String, columns: String },
    #[error("exclude names no column {0:?}")]
    UnknownExclude(String),
    #[error(
        "the target column {0:?} holds text that is not a category (too many distinct values)"
    )]
    TextTarget(String),
    #[error("only {rows} rows have a value in {target:?}; at least {MIN_ROWS} are needed")]
    TooFewRows { target: String, rows: usize },
    #[error("the target column {0:?} has a single value; there is nothing to explain")]
    OneValue(String),
    #[error("the target column {target:?} has {classes} classes; a classification takes at most {MAX_CLASSES}")]
    TooManyClasses { target: String, classes: usize },
    #[error("no column is left to explain {0:?} with (every other one is constant, an identifier, text or excluded)")]
    NoFeatures(String),
}

impl Dataset {
    /// The dataset of `table` for `options`.
    pub fn new(table: &Table, options: &DatasetOptions) -> Result<Self, DatasetError> {
        let target = table
            .column(&options.target)
            .ok_or_else(|| DatasetError::NoTarget {
                target: options.target.clone(),
                columns: table.names().join(", "),
            })?;
        for name in &options.exclude {
            if table.column(name).is_none() {
                return Err(DatasetError::UnknownExclude(name.clone()));
            }
        }
        if target.kind == ColumnKind::Text {
            return Err(DatasetError::TextTarget(target.name.clone()));
        }
        let kept: Vec<usize> = (0..table.rows)
            .filter(|&row| !target.values[row].is_nan())
            .collect();
        if kept.len() < MIN_ROWS {
            return Err(DatasetError::TooFewRows {
                target: target.name.clone(),
                rows: kept.len(),
            });
        }
        let task = options.task.unwrap_or(match target.kind {
            ColumnKind::Categorical => Task::Classification,
            _ => Task::Regression,
        });
        let raw: Vec<f64> = kept.iter().map(|&row| target.values[row]).collect();
        let (target_values, classes) = match task {
            Task::Regression => (raw, Vec::new()),
            Task::Classification => classes_of(&raw, &target.categories),
        };
        if classes.len() > MAX_CLASSES {
            return Err(DatasetError::TooManyClasses {
                target: target.name.clone(),
                classes: classes.len(),
            });
        }
        if distinct(&target_values) < 2 {
            return Err(DatasetError::OneValue(target.name.clone()));
        }
        let mut notes = Vec::new();
        let mut features = Vec::new();
        for column in &table.columns {
            if column.name == target.name {
                continue;
            }
            if options.exclude.contains(&column.name) {
                notes.push(format!("{}: excluded", column.name));
                continue;
            }
            let values: Vec<f64> = kept.iter().map(|&row| column.values[row]).collect();
            if let Some(reason) = uninformative(column.kind, &values) {
                notes.push(format!("{}: left out, {reason}", column.name));
                continue;
            }
            if column.unreadable > 0 {
                notes.push(format!(
                    "{}: {} cells that are not {} were read as missing",
                    column.name,
                    column.unreadable,
                    column.kind.as_str()
                ));
            }
            features.push(Feature {
                name: column.name.clone(),
                kind: column.kind,
                values,
            });
        }
        if features.is_empty() {
            return Err(DatasetError::NoFeatures(target.name.clone()));
        }
        Ok(Self {
            features,
            target: target_values,
            task,
            classes,
            target_name: target.name.clone(),
            dropped_rows: table.rows - kept.len(),
            notes,
        })
    }

    pub fn rows(&self) -> usize {
        self.target.len()
    }
}

/// The target's classes, numbered 0, 1, … in order of their names (numbers
/// in numeric order), and each row's class.
fn classes_of(raw: &[f64], categories: &[String]) -> (Vec<f64>, Vec<String>) {
    let mut values: Vec<f64> = raw.to_vec();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let name = |value: f64| match categories.get(value as usize) {
        Some(category) if !categories.is_empty() => category.clone(),
        _ => format!("{value}"),
    };
    let mut named: Vec<(String, f64)> = values.iter().map(|&v| (name(v), v)).collect();
    if !categories.is_empty() {
        named.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let index = |value: f64| {
        named
            .iter()
            .position(|(_, v)| *v == value)
            .unwrap_or_default() as f64
    };
    let rows = raw.iter().map(|&v| index(v)).collect();
    (rows, named.into_iter().map(|(name, _)| name).collect())
}

fn distinct(values: &[f64]) -> usize {
    values
        .iter()
        .filter(|v| !v.is_nan())
        .map(|v| v.to_bits())
        .collect::<HashSet<_>>()
        .len()
}

/// Why a column cannot inform a model, if it cannot.
fn uninformative(kind: ColumnKind, values: &[f64]) -> Option<&'static str> {
    if kind == ColumnKind::Text {
        return Some("free text (too many distinct values to be a category)");
    }
    let present = values.iter().filter(|v| !v.is_nan()).count();
    let distinct = distinct(values);
    if distinct <= 1 {
        return Some("constant");
    }
    let all_distinct = distinct == present && present == values.len();
    let counts_rows = all_distinct
        && values.windows(2).all(|w| w[1] > w[0])
        && values.iter().all(|v| v.fract() == 0.0);
    if kind == ColumnKind::Categorical && all_distinct {
        return Some("an identifier (a different value in every row)");
    }
    if kind == ColumnKind::Numeric && counts_rows {
        return Some("an identifier (whole numbers rising row by row)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Column, Dialect};

    fn table(target: Vec<f64>, kind: ColumnKind, categories: Vec<String>) -> Table {
        let rows = target.len();
        let feature = Column {
            name: "x".to_owned(),
            kind: ColumnKind::Numeric,
            values: (0..rows).map(|i| (i % 7) as f64).collect(),
            categories: Vec::new(),
            unreadable: 0,
        };
        let target = Column {
            name: "y".to_owned(),
            kind,
            values: target,
            categories,
            unreadable: 0,
        };
        Table {
            dialect: Dialect {
                delimiter: b',',
                decimal_comma: false,
            },
            columns: vec![feature, target],
            rows,
        }
    }

    fn options(task: Option<Task>) -> DatasetOptions {
        DatasetOptions {
            target: "y".to_owned(),
            exclude: Vec::new(),
            task,
        }
    }

    #[test]
    fn a_target_with_too_many_classes_is_refused() {
        let values: Vec<f64> = (0..200).map(f64::from).collect();
        let refused = Dataset::new(
            &table(values, ColumnKind::Numeric, Vec::new()),
            &options(Some(Task::Classification)),
        );
        assert!(matches!(
            refused,
            Err(DatasetError::TooManyClasses { classes: 200, .. })
        ));
    }

    #[test]
    fn classes_are_numbered_by_name_and_missing_targets_dropped() {
        let mut values: Vec<f64> = (0..30).map(|i| f64::from(i % 2)).collect();
        values[3] = f64::NAN;
        let categories = vec!["scrap".to_owned(), "good".to_owned()];
        let dataset = Dataset::new(
            &table(values, ColumnKind::Categorical, categories),
            &options(None),
        )
        .unwrap();
        assert_eq!(dataset.task, Task::Classification);
        assert_eq!(dataset.classes, ["good", "scrap"]);
        assert_eq!(dataset.dropped_rows, 1);
        // Code 0 ("scrap") is class 1 once sorted by name.
        assert_eq!(dataset.target[0], 1.0);
    }
}
