//! CSV tables: one sample per row, optional header row, targets by name or as the last k columns.

use super::{Dataset, Table, Targets};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use std::path::Path;

/// Loads a CSV file and splits it into inputs and targets.
pub fn load_csv(path: &Path, targets: &Targets) -> Result<Dataset> {
    read_csv(path)?.dataset(targets)
}

/// Reads a CSV table. The first row is a header when any of its fields is not a number.
pub(super) fn read_csv(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_csv(&text, path)
}

/// Parses CSV text as [`read_csv`] does; `path` names the source in messages.
pub(super) fn parse_csv(text: &str, path: &Path) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (k, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::parse(path, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(k as u64 + 1, |p| p.line());
        if rec.len() == 1 && rec[0].is_empty() {
            continue; // blank line
        }
        let parsed: Vec<Option<f64>> = rec.iter().map(|f| f.parse::<f64>().ok()).collect();
        if header.is_none() && rows.is_empty() && parsed.iter().any(Option::is_none) {
            header = Some(rec.iter().map(str::to_string).collect());
            continue;
        }
        let width = header
            .as_ref()
            .map_or_else(|| rows.first().map(Vec::len), |h| Some(h.len()));
        if let Some(w) = width {
            if rec.len() != w {
                return Err(Error::parse(
                    path,
                    format!("line {line}: {} fields, expected {w}", rec.len()),
                ));
            }
        }
        let mut row = Vec::with_capacity(rec.len());
        for (c, (field, v)) in rec.iter().zip(parsed).enumerate() {
            match v {
                Some(v) if v.is_finite() => row.push(v),
                Some(v) => {
                    return Err(Error::parse(
                        path,
                        format!("line {line}, column {}: non-finite value {v}", c + 1),
                    ))
                }
                None => {
                    return Err(Error::parse(
                        path,
                        format!("line {line}, column {}: '{field}' is not a number", c + 1),
                    ))
                }
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::parse(path, "no data rows"));
    }
    let values = Matrix::from_rows(&rows).map_err(|e| Error::parse(path, e.to_string()))?;
    Ok(Table {
        values,
        header,
        source: path.to_path_buf(),
    })
}

/// Writes a dataset as CSV with a header (`x1,…,y1,…` or the dataset's own names), one sample per row.
pub fn save_csv(ds: &Dataset, path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::parse(path, e.to_string()))?;
    let header: Vec<&str> = ds
        .input_names
        .iter()
        .chain(&ds.target_names)
        .map(String::as_str)
        .collect();
    let io = |e: csv::Error| Error::parse(path, e.to_string());
    w.write_record(&header).map_err(io)?;
    for j in 0..ds.n_samples() {
        let rec: Vec<String> =
            ds.x.col(j)
                .iter()
                .chain(ds.y.col(j))
                .map(|v| format!("{v:?}"))
                .collect();
        w.write_record(&rec).map_err(io)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// Writes predictions (outputs × samples) as CSV, one sample per row, under a header of the
/// target names.
pub fn save_predictions(y: &Matrix, names: &[String], path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    write_predictions(y, names, file).map_err(|e| Error::parse(path, e.to_string()))
}

/// [`save_predictions`] to any writer (standard output).
pub fn write_predictions(
    y: &Matrix,
    names: &[String],
    out: impl std::io::Write,
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(names)?;
    for j in 0..y.cols() {
        w.write_record(y.col(j).iter().map(|v| format!("{v:?}")))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cvxnn-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn header_optional_targets_by_name_or_last_k() {
        let p = write("h.csv", "a,b,t\n1,2,3\n4,5,6\n");
        let d = load_csv(&p, &Targets::Names(vec!["a".into()])).unwrap();
        assert_eq!(d.y.shape(), (1, 2));
        assert_eq!(d.y.get(0, 1), 4.0);
        assert_eq!(d.input_names, vec!["b", "t"]);
        let p = write("n.csv", "1,2,3\n4,5,6\n");
        let d = load_csv(&p, &Targets::Last(2)).unwrap();
        assert_eq!(d.x.shape(), (1, 2));
        assert_eq!(d.y.get(1, 1), 6.0);
        assert!(load_csv(&p, &Targets::Names(vec!["a".into()])).is_err());
        assert!(load_csv(&p, &Targets::Last(3)).is_err());
    }

    #[test]
    fn malformed_files_are_errors_with_line_numbers() {
        let cases = [
            ("ragged.csv", "1,2,3\n4,5\n", "line 2"),
            ("word.csv", "a,b\n1,2\n3,x\n", "'x' is not a number"),
            ("nan.csv", "1,2\nNaN,3\n", "non-finite"),
            ("inf.csv", "1,inf\n", "non-finite"),
            ("empty.csv", "a,b\n", "no data rows"),
        ];
        for (name, text, want) in cases {
            let err = load_csv(&write(name, text), &Targets::Last(1)).unwrap_err();
            assert!(err.to_string().contains(want), "{name}: {err}");
        }
    }
}
