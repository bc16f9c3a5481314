//! A CSV file read into typed columns: numbers, categories and dates,
//! whatever the file's dialect and encoding. The file is streamed: every
//! column is kept as numbers (categories as codes), never as text, so a
//! million rows of fifty columns take about 400 MB.

mod dialect;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use dialect::cell_text;
pub use dialect::Dialect;

/// Rows looked at to decide each column's kind.
const SAMPLE_ROWS: usize = 2000;
/// Bytes looked at to guess the dialect.
const SAMPLE_BYTES: usize = 64 * 1024;
/// A text column with more distinct values than this is free text or an
/// identifier, not a category.
const MAX_CATEGORIES: usize = 1000;
/// Cells that mean "no value".
const MISSING: [&str; 7] = ["", "na", "n/a", "nan", "null", "none", "-"];

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Numeric,
    /// Text with few distinct values, kept as codes into `categories`.
    Categorical,
    /// Dates and times, kept as seconds since 1970.
    Datetime,
    /// Text with too many distinct values to be a category.
    Text,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Categorical => "categorical",
            Self::Datetime => "datetime",
            Self::Text => "text",
        }
    }
}

/// One column: a value a row (NaN where it is missing).
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    pub values: Vec<f64>,
    /// The categories' names, by code (categorical columns).
    pub categories: Vec<String>,
    /// Cells that could not be read as the column's kind (kept as missing).
    pub unreadable: usize,
}

/// A whole table.
#[derive(Debug, Clone)]
pub struct Table {
    pub dialect: Dialect,
    pub columns: Vec<Column>,
    pub rows: usize,
}

/// Why a file is not a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is not a CSV table: {0}")]
    Csv(#[from] csv::Error),
    #[error("the file has no header line")]
    NoHeader,
    #[error("the file has only one column; a table needs a target and at least one variable")]
    OneColumn,
    #[error("the header names the column {0:?} twice")]
    DuplicateColumn(String),
}

/// What a quick look at a file's target column found, before the whole
/// table is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGlance {
    /// Rows with a value in the target column.
    pub rows: usize,
    /// Distinct values seen, counted up to two.
    pub distinct: usize,
}

impl Table {
    /// The column names of a CSV file, reading no more than its header.
    pub fn names_of(path: &Path) -> Result<Vec<String>, TableError> {
        header(path, sniff(path)?)
    }

    /// Streams a file's column `target` alone: how many rows have a value,
    /// and whether there are at least two values; `None` without such a
    /// column.
    pub fn glance_at_target(path: &Path, target: &str) -> Result<Option<TargetGlance>, TableError> {
        let dialect = sniff(path)?;
        let Some(index) = header(path, dialect)?
            .iter()
            .position(|name| name == target)
        else {
            return Ok(None);
        };
        let mut glance = TargetGlance {
            rows: 0,
            distinct: 0,
        };
        let mut first: Option<String> = None;
        for record in reader(path, dialect)?.byte_records() {
            let record = record?;
            let cell = record.get(index).map(cell_text).unwrap_or_default();
            if is_missing(&cell) {
                continue;
            }
            glance.rows += 1;
            let cell = cell.trim();
            match &first {
                None => {
                    first = Some(cell.to_owned());
                    glance.distinct = 1;
                }
                Some(seen) if seen != cell => glance.distinct = 2,
                Some(_) => {}
            }
        }
        Ok(Some(glance))
    }

    /// Reads a CSV file.
    pub fn read(path: &Path) -> Result<Self, TableError> {
        let dialect = sniff(path)?;
        let names = header(path, dialect)?;
        let kinds = sample_kinds(path, dialect, names.len())?;
        let mut builders: Vec<ColumnBuilder> = names
            .into_iter()
            .zip(kinds)
            .map(|(name, kind)| ColumnBuilder::new(name, kind))
            .collect();
        let mut rows = 0;
        let mut reader = reader(path, dialect)?;
        for record in reader.byte_records() {
            let record = record?;
            for (index, builder) in builders.iter_mut().enumerate() {
                let cell = record.get(index).map(cell_text).unwrap_or_default();
                builder.push(&cell, dialect);
            }
            rows += 1;
        }
        let columns = builders.into_iter().map(ColumnBuilder::finish).collect();
        Ok(Self {
            dialect,
            columns,
            rows,
        })
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The columns' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

/// The dialect of the file at `path`, from its first bytes.
fn sniff(path: &Path) -> Result<Dialect, TableError> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    std::fs::File::open(path)?
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)?;
    Ok(Dialect::sniff(strip_bom(&sample)))
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// A reader of the file's records after its header line.
fn reader(path: &Path, dialect: Dialect) -> Result<csv::Reader<std::fs::File>, TableError> {
    Ok(csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_path(path)?)
}

/// The header's names, trimmed, without a byte-order mark; unnamed columns
/// are called `column_<n>`.
fn header(path: &Path, dialect: Dialect) -> Result<Vec<String>, TableError> {
    let mut reader = reader(path, dialect)?;
    let header = reader.byte_headers()?.clone();
    if header.is_empty() {
        return Err(TableError::NoHeader);
    }
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let name = cell_text(if index == 0 { strip_bom(name) } else { name });
            let name = name.trim();
            if name.is_empty() {
                format!("column_{}", index + 1)
            } else {
                name.to_owned()
            }
        })
        .collect();
    if names.len() < 2 {
        return Err(TableError::OneColumn);
    }
    for (index, name) in names.iter().enumerate() {
        if names[..index].contains(name) {
            return Err(TableError::DuplicateColumn(name.clone()));
        }
    }
    Ok(names)
}

/// Each column's kind, from the first rows: numbers when nearly every
/// value is one, dates when they read as dates, else categories (or text).
fn sample_kinds(
    path: &Path,
    dialect: Dialect,
    columns: usize,
) -> Result<Vec<ColumnKind>, TableError> {
    let mut counts = vec![KindCounts::default(); columns];
    let mut reader = reader(path, dialect)?;
    for record in reader.byte_records().take(SAMPLE_ROWS) {
        let record = record?;
        for (index, counts) in counts.iter_mut().enumerate() {
            let cell = record.get(index).map(cell_text).unwrap_or_default();
            counts.add(&cell, dialect);
        }
    }
    Ok(counts.iter().map(KindCounts::kind).collect())
}

/// What the sampled cells of one column looked like.
#[derive(Debug, Clone, Default)]
struct KindCounts {
    present: usize,
    numbers: usize,
    dates: usize,
    distinct: std::collections::HashSet<String>,
}

impl KindCounts {
    fn add(&mut self, cell: &str, dialect: Dialect) {
        if is_missing(cell) {
            return;
        }
        self.present += 1;
        if dialect.number(cell).is_some() {
            self.numbers += 1;
        } else if parse_datetime(cell).is_some() {
            self.dates += 1;
        }
        if self.distinct.len() <= MAX_CATEGORIES {
            self.distinct.insert(cell.trim().to_owned());
        }
    }

    fn kind(&self) -> ColumnKind {
        // A stray word in a column of numbers is a missing value, not a
        // reason to read the column as text.
        let most = |n: usize| n * 100 >= self.present * 95;
        // A column empty in the sample is read as numbers: a category's
        // codes would order its later numbers arbitrarily.
        if self.present == 0 || most(self.numbers) {
            ColumnKind::Numeric
        } else if most(self.dates) {
            ColumnKind::Datetime
        } else if self.distinct.len() <= MAX_CATEGORIES {
            ColumnKind::Categorical
        } else {
            ColumnKind::Text
        }
    }
}

/// Builds one column as the rows stream by.
struct ColumnBuilder {
    column: Column,
    codes: HashMap<String, usize>,
}

impl ColumnBuilder {
    fn new(name: String, kind: ColumnKind) -> Self {
        Self {
            column: Column {
                name,
                kind,
                values: Vec::new(),
                categories: Vec::new(),
                unreadable: 0,
            },
            codes: HashMap::new(),
        }
    }

    fn push(&mut self, cell: &str, dialect: Dialect) {
        let value = if is_missing(cell) {
            None
        } else {
            let value = match self.column.kind {
                ColumnKind::Numeric => dialect.number(cell),
                ColumnKind::Datetime => parse_datetime(cell),
                ColumnKind::Categorical => self.code(cell),
                ColumnKind::Text => None,
            };
            if value.is_none() && self.column.kind != ColumnKind::Text {
                self.column.unreadable += 1;
            }
            value
        };
        self.column.values.push(value.unwrap_or(f64::NAN));
    }

    /// The code of a category; a column that turns out to have too many
    /// becomes text.
    fn code(&mut self, cell: &str) -> Option<f64> {
        let cell = cell.trim();
        if let Some(&code) = self.codes.get(cell) {
            return Some(code as f64);
        }
        if self.codes.len() >= MAX_CATEGORIES {
            self.column.kind = ColumnKind::Text;
            return None;
        }
        let code = self.codes.len();
        self.codes.insert(cell.to_owned(), code);
        self.column.categories.push(cell.to_owned());
        Some(code as f64)
    }

    fn finish(mut self) -> Column {
        self.column.values.shrink_to_fit();
        if self.column.kind == ColumnKind::Text {
            self.column.values.iter_mut().for_each(|v| *v = f64::NAN);
            self.column.categories.clear();
            self.column.unreadable = 0;
        }
        self.column
    }
}

fn is_missing(cell: &str) -> bool {
    let cell = cell.trim();
    cell.len() <= 4 && MISSING.iter().any(|m| cell.eq_ignore_ascii_case(m))
}

/// Seconds since 1970 of `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (or with
/// `T`), `DD/MM/YYYY` and `DD/MM/YYYY HH:MM[:SS]` (the day first, as
/// Brazilian and European exports write it).
fn parse_datetime(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    let (date, time) = match cell.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time)),
        None => (cell, None),
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let number = |text: &str| text.parse::<i64>().ok();
    let (year, month, day) = if a.len() == 4 {
        (number(a)?, number(b)?, number(c)?)
    } else if c.len() == 4 {
        (number(c)?, number(b)?, number(a)?)
    } else {
        return None;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let seconds_of_day = match time {
        None => 0,
        Some(time) => {
            let parts: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
            let hours = number(parts.first()?)?;
            let minutes = number(parts.get(1)?)?;
            let seconds = parts.get(2).map_or(Some(0.0), |s| s.parse::<f64>().ok())?;
            // 60 for a leap second.
            let valid = (0..24).contains(&hours)
                && (0..60).contains(&minutes)
                && (0.0..61.0).contains(&seconds);
            if !valid {
                return None;
            }
            hours * 3600 + minutes * 60 + seconds as i64
        }
    };
    Some((days_from_civil(year, month, day) * 86_400 + seconds_of_day) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm; a date crate for this one conversion would be more weight
/// than the arithmetic).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Table {
        let dir = std::env::temp_dir().join(format!("kinoflow-table-{}", rand::random::<u64>()));
        std::fs::write(&dir, text).unwrap();
        let table = Table::read(&dir);
        let _ = std::fs::remove_file(&dir);
        table.unwrap()
    }

    #[test]
    fn kinds_missing_values_and_a_bom_are_read() {
        let table = read(
            b"\xef\xbb\xbfwhen,line,temp,note\n2024-01-02,A,1.5,x\n2024-01-03 10:00,B,NA,y\n02/01/2024,A,oops,z\n",
        );
        assert_eq!(table.names(), ["when", "line", "temp", "note"]);
        assert_eq!(table.rows, 3);
        let when = table.column("when").unwrap();
        assert_eq!(when.kind, ColumnKind::Datetime);
        assert_eq!(when.values[0], 1_704_153_600.0);
        assert_eq!(when.values[2], when.values[0]);
        let line = table.column("line").unwrap();
        assert_eq!(line.kind, ColumnKind::Categorical);
        assert_eq!(line.values, [0.0, 1.0, 0.0]);
        let temp = table.column("temp").unwrap();
        assert_eq!(
            temp.kind,
            ColumnKind::Categorical,
            "1 number of 2 is not a numeric column"
        );
    }

    #[test]
    fn impossible_times_are_not_dates() {
        assert!(parse_datetime("2024-01-01 10:00:1e300").is_none());
        assert!(parse_datetime("2024-01-01 10:00:inf").is_none());
        assert!(parse_datetime("2024-13-01").is_none());
        assert_eq!(parse_datetime("1970-01-02 00:00:30"), Some(86_430.0));
    }

    #[test]
    fn a_brazilian_export_is_read() {
        let table = read(b"press\xe3o;sa\xedda\n1,5;10\n2,25;20\n1.001,5;30\n");
        assert_eq!(table.names(), ["pressão", "saída"]);
        let pressure = table.column("pressão").unwrap();
        assert_eq!(pressure.kind, ColumnKind::Numeric);
        assert_eq!(pressure.values, [1.5, 2.25, 1001.5]);
    }

    #[test]
    fn bad_headers_are_refused() {
        let dir = std::env::temp_dir().join(format!("kinoflow-table-{}", rand::random::<u64>()));
        std::fs::write(&dir, b"a,a\n1,2\n").unwrap();
        assert!(matches!(
            Table::read(&dir),
            Err(TableError::DuplicateColumn(_))
        ));
        std::fs::write(&dir, b"only\n1\n").unwrap();
        assert!(matches!(Table::read(&dir), Err(TableError::OneColumn)));
        let _ = std::fs::remove_file(&dir);
    }
}
