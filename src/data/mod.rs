//! Datasets: inputs `X` (n_x × N) and targets `Y` (n_y × N), one sample per column.
//!
//! Loaders for CSV and `.npy`, and the seeded planted-teacher generator.

mod csv_io;
mod npy_io;
mod teacher;

pub use csv_io::{load_csv, save_csv};
pub use npy_io::load_npy;
pub use teacher::{planted_teacher, Teacher};

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use std::path::Path;

/// Inputs and targets, samples as columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `n_x × N` inputs.
    pub x: Matrix,
    /// `n_y × N` targets.
    pub y: Matrix,
    /// Names of the input features (`x1, x2, …` when the file had none).
    pub input_names: Vec<String>,
    /// Names of the targets.
    pub target_names: Vec<String>,
    /// Where the data came from (file path or generator description).
    pub source: String,
}

/// Which columns of a table are targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// The last `k` columns.
    Last(usize),
    /// Columns with these header names (the file must have a header).
    Names(Vec<String>),
}

impl Dataset {
    /// Validated dataset: same number of samples in X and Y, at least one sample, all values finite.
    pub fn new(x: Matrix, y: Matrix, source: impl Into<String>) -> Result<Self> {
        if x.cols() != y.cols() {
            return Err(Error::Shape(format!(
                "X has {} samples, Y has {}",
                x.cols(),
                y.cols()
            )));
        }
        if x.cols() == 0 {
            return Err(Error::InvalidArgument("the dataset has no samples".into()));
        }
        if x.rows() == 0 || y.rows() == 0 {
            return Err(Error::InvalidArgument(format!(
                "the dataset needs at least one input and one target (got {} and {})",
                x.rows(),
                y.rows()
            )));
        }
        for (name, m) in [("input", &x), ("target", &y)] {
            if let Some(k) = m.as_slice().iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite(format!(
                    "{name} {} of sample {} is {}",
                    k % m.rows() + 1,
                    k / m.rows() + 1,
                    m.as_slice()[k]
                )));
            }
        }
        let input_names = (1..=x.rows()).map(|i| format!("x{i}")).collect();
        let target_names = (1..=y.rows()).map(|i| format!("y{i}")).collect();
        Ok(Self {
            x,
            y,
            input_names,
            target_names,
            source: source.into(),
        })
    }

    /// Number of samples N.
    pub fn n_samples(&self) -> usize {
        self.x.cols()
    }

    pub fn n_inputs(&self) -> usize {
        self.x.rows()
    }

    pub fn n_outputs(&self) -> usize {
        self.y.rows()
    }

    /// Splits a table (one sample per row) into inputs and targets.
    pub(crate) fn from_table(
        table: &Matrix,
        header: Option<Vec<String>>,
        targets: &Targets,
        source: &Path,
    ) -> Result<Self> {
        let ncols = table.cols();
        let target_idx: Vec<usize> = match targets {
            Targets::Last(k) => {
                if *k == 0 || *k >= ncols {
                    return Err(Error::parse(
                        source,
                        format!(
                            "cannot take the last {k} of {ncols} columns as targets \
                             (need at least one input and one target column)"
                        ),
                    ));
                }
                (ncols - k..ncols).collect()
            }
            Targets::Names(names) => {
                let Some(h) = &header else {
                    return Err(Error::parse(
                        source,
                        "targets given by name, but the file has no header row",
                    ));
                };
                let idx = names
                    .iter()
                    .map(|n| {
                        h.iter().position(|c| c == n).ok_or_else(|| {
                            Error::parse(
                                source,
                                format!("no column named '{n}' (columns: {})", h.join(", ")),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if idx.is_empty() || idx.len() >= ncols {
                    return Err(Error::parse(
                        source,
                        "need at least one input and one target column",
                    ));
                }
                idx
            }
        };
        let input_idx: Vec<usize> = (0..ncols).filter(|c| !target_idx.contains(c)).collect();
        let n = table.rows();
        let x = Matrix::from_fn(input_idx.len(), n, |i, j| table.get(j, input_idx[i]));
        let y = Matrix::from_fn(target_idx.len(), n, |i, j| table.get(j, target_idx[i]));
        let mut ds = Dataset::new(x, y, source.display().to_string())
            .map_err(|e| Error::parse(source, e.to_string()))?;
        if let Some(h) = header {
            ds.input_names = input_idx.iter().map(|&c| h[c].clone()).collect();
            ds.target_names = target_idx.iter().map(|&c| h[c].clone()).collect();
        }
        Ok(ds)
    }

    /// Loads a CSV or `.npy` file by extension (anything but `.npy` is read as CSV).
    pub fn load(path: &Path, targets: &Targets) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("npy") => load_npy(path, targets),
            _ => load_csv(path, targets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatched_or_empty_or_nonfinite_is_an_error() {
        let x = Matrix::zeros(2, 3);
        assert!(matches!(
            Dataset::new(x.clone(), Matrix::zeros(1, 4), "t"),
            Err(Error::Shape(_))
        ));
        assert!(Dataset::new(Matrix::zeros(2, 0), Matrix::zeros(1, 0), "t").is_err());
        let mut y = Matrix::zeros(1, 3);
        y.set(0, 1, f64::NAN);
        assert!(matches!(Dataset::new(x, y, "t"), Err(Error::NonFinite(_))));
    }
}
