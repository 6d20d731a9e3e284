//! Datasets: inputs `X` (n_x × N) and targets `Y` (n_y × N), one sample per column.
//!
//! Loaders for CSV and `.npy`, and the seeded planted-teacher generator.

mod csv_io;
mod npy_io;
mod teacher;

pub mod blum_rivest;
pub mod bundled;
pub use csv_io::{load_csv, save_csv};
pub use npy_io::load_npy;
pub use teacher::{planted_teacher, with_label_noise, Teacher};

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

    /// Loads a CSV or `.npy` file by extension (anything but `.npy` is read as CSV), or a bundled
    /// data set by name (`iris`, `wine`, `breast_cancer`, `diabetes`; see [`bundled`]) when no
    /// file of that name exists.
    pub fn load(path: &Path, targets: &Targets) -> Result<Self> {
        if !path.exists() {
            if let Some(text) = path.to_str().and_then(bundled::csv) {
                return csv_io::parse_csv(text, path, targets);
            }
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("npy") => load_npy(path, targets),
            _ => load_csv(path, targets),
        }
    }
}

/// Per-feature mean and standard deviation, as fitted by [`Dataset::standardized`] on training
/// data, to apply the same map to test data.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    /// Population standard deviation (divisor N, as scikit-learn's `StandardScaler`); a constant
    /// feature gets 1, so it maps to 0.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Applies `(x − mean)/std` to the inputs of `ds` (the targets are unchanged).
    pub fn apply(&self, ds: &Dataset) -> Result<Dataset> {
        if ds.n_inputs() != self.mean.len() {
            return Err(Error::Shape(format!(
                "the standardizer was fitted on {} inputs, the data have {}",
                self.mean.len(),
                ds.n_inputs()
            )));
        }
        let x = Matrix::from_fn(ds.n_inputs(), ds.n_samples(), |i, j| {
            (ds.x.get(i, j) - self.mean[i]) / self.std[i]
        });
        Ok(Dataset { x, ..ds.clone() })
    }
}

impl Dataset {
    /// The inputs scaled to mean 0 and standard deviation 1 per feature, and the map used.
    pub fn standardized(&self) -> Result<(Dataset, Standardizer)> {
        let n = self.n_samples() as f64;
        let d = self.n_inputs();
        let mean: Vec<f64> = (0..d)
            .map(|i| (0..self.n_samples()).map(|j| self.x.get(i, j)).sum::<f64>() / n)
            .collect();
        let std: Vec<f64> = (0..d)
            .map(|i| {
                let v = (0..self.n_samples())
                    .map(|j| (self.x.get(i, j) - mean[i]).powi(2))
                    .sum::<f64>()
                    / n;
                if v > 0.0 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        let st = Standardizer { mean, std };
        Ok((st.apply(self)?, st))
    }

    /// A seeded random split into training and test sets, `test_fraction` of the samples (rounded,
    /// at least one in each part) in the test set. The same seed gives the same split.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let n = self.n_samples();
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "the test fraction must be in (0, 1), got {test_fraction}"
            )));
        }
        let n_test = ((test_fraction * n as f64).round() as usize).clamp(1, n.max(2) - 1);
        if n < 2 {
            return Err(Error::InvalidArgument(format!(
                "cannot split {n} sample(s) into a training and a test set"
            )));
        }
        let mut idx: Vec<usize> = (0..n).collect();
        idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let (test, train) = idx.split_at(n_test);
        let pick = |cols: &[usize], tag: &str| -> Result<Dataset> {
            let mut sorted = cols.to_vec();
            sorted.sort_unstable();
            let x = Matrix::from_fn(self.n_inputs(), sorted.len(), |i, k| {
                self.x.get(i, sorted[k])
            });
            let y = Matrix::from_fn(self.n_outputs(), sorted.len(), |i, k| {
                self.y.get(i, sorted[k])
            });
            let mut ds = Dataset::new(x, y, format!("{} ({tag}, seed {seed})", self.source))?;
            ds.input_names.clone_from(&self.input_names);
            ds.target_names.clone_from(&self.target_names);
            Ok(ds)
        };
        Ok((pick(train, "training part")?, pick(test, "test part")?))
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

    #[test]
    fn standardize_and_split() {
        let ds = Dataset::load(Path::new("diabetes"), &Targets::Last(1)).unwrap();
        let (z, st) = ds.standardized().unwrap();
        for i in 0..z.n_inputs() {
            let col: Vec<f64> = (0..z.n_samples()).map(|j| z.x.get(i, j)).collect();
            let m = col.iter().sum::<f64>() / col.len() as f64;
            let v = col.iter().map(|c| (c - m) * (c - m)).sum::<f64>() / col.len() as f64;
            assert!(
                m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12,
                "feature {i}: {m} {v}"
            );
        }
        assert_eq!(st.apply(&ds).unwrap(), z);
        assert_eq!(z.y, ds.y);
        let (tr, te) = ds.split(0.25, 7).unwrap();
        assert_eq!((tr.n_samples(), te.n_samples()), (331, 111));
        assert_eq!(ds.split(0.25, 7).unwrap(), (tr.clone(), te.clone()));
        assert_ne!(ds.split(0.25, 8).unwrap().1, te);
        // every sample lands in exactly one part: the target sums add up
        let sum = |d: &Dataset| d.y.as_slice().iter().sum::<f64>();
        assert!((sum(&tr) + sum(&te) - sum(&ds)).abs() < 1e-9);
        for bad in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(ds.split(bad, 1).is_err());
        }
    }
}
