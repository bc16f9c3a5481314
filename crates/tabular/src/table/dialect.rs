//! How a CSV file is written: its delimiter, its decimal mark and its text
//! encoding, guessed from its first lines as spreadsheet exports vary
//! (Brazilian ones often use `;` with decimal commas, and Latin-1).

/// The delimiters tried, most usual first.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// How a file's cells are separated and its numbers written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    /// Numbers are written `1,5` (thousands maybe as `1.234,5`).
    pub decimal_comma: bool,
}

impl Dialect {
    /// The dialect of a file that begins with `sample` (a few dozen KiB).
    pub fn sniff(sample: &[u8]) -> Self {
        let delimiter = DELIMITERS
            .iter()
            .copied()
            .max_by_key(|&d| consistency(sample, d))
            .unwrap_or(b',');
        let decimal_comma = delimiter != b',' && comma_decimals_dominate(sample, delimiter);
        Self {
            delimiter,
            decimal_comma,
        }
    }

    /// A cell as a number, in this dialect; `None` when it is not one.
    pub fn number(&self, cell: &str) -> Option<f64> {
        let cell = cell.trim();
        let parsed = if self.decimal_comma {
            cell.replace('.', "").replace(',', ".").parse::<f64>()
        } else {
            cell.parse::<f64>()
        };
        parsed.ok().filter(|n| n.is_finite())
    }
}

/// How well `delimiter` splits the sample: the number of fields of the
/// header when most lines have that many, else 0 (a delimiter that does not
/// split the header into at least two fields scores 0 too).
fn consistency(sample: &[u8], delimiter: u8) -> (usize, usize) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(sample);
    let lengths: Vec<usize> = reader
        .byte_records()
        // The sample may end in the middle of a line.
        .take(50)
        .filter_map(Result::ok)
        .map(|record| record.len())
        .collect();
    let Some(&header) = lengths.first() else {
        return (0, 0);
    };
    let agreeing = lengths.iter().filter(|&&n| n == header).count();
    if header < 2 || agreeing * 10 < lengths.len() * 8 {
        return (0, agreeing);
    }
    (header, agreeing)
}

/// Whether the sample's numbers are written with decimal commas: more
/// cells look like `12,5` than like `12.5`.
fn comma_decimals_dominate(sample: &[u8], delimiter: u8) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(sample);
    let (mut comma, mut dot) = (0usize, 0usize);
    for record in reader.byte_records().take(200).filter_map(Result::ok) {
        for cell in record.iter() {
            let cell = String::from_utf8_lossy(cell);
            let cell = cell.trim();
            let digits_around = |mark: char| {
                cell.split_once(mark).is_some_and(|(whole, fraction)| {
                    let whole = whole.trim_start_matches('-').replace('.', "");
                    !whole.is_empty()
                        && whole.chars().all(|c| c.is_ascii_digit())
                        && !fraction.is_empty()
                        && fraction.chars().all(|c| c.is_ascii_digit())
                })
            };
            if digits_around(',') {
                comma += 1;
            } else if digits_around('.') {
                dot += 1;
            }
        }
    }
    comma > dot
}

/// A cell's text: UTF-8 when it is valid UTF-8, else Windows-1252 (which
/// reads Latin-1 too), the usual encoding of older spreadsheet exports.
pub fn cell_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_semicolons_and_tabs_are_told_apart() {
        let comma = Dialect::sniff(b"a,b,c\n1.5,2,3\n4,5,6\n");
        assert_eq!(
            comma,
            Dialect {
                delimiter: b',',
                decimal_comma: false
            }
        );
        let brazilian = Dialect::sniff(b"a;b;c\n1,5;2;3\n4,25;5;1.234,5\n");
        assert_eq!(
            brazilian,
            Dialect {
                delimiter: b';',
                decimal_comma: true
            }
        );
        assert_eq!(brazilian.number("1.234,5"), Some(1234.5));
        let tabs = Dialect::sniff(b"a\tb\n1.5\t2\n");
        assert_eq!(
            tabs,
            Dialect {
                delimiter: b'\t',
                decimal_comma: false
            }
        );
    }

    #[test]
    fn latin1_cells_are_read() {
        assert_eq!(cell_text(b"press\xe3o"), "pressão");
        assert_eq!(cell_text("pressão".as_bytes()), "pressão");
    }
}
