//! Datasets: inputs `X` (n_x × N) and targets `Y` (n_y × N), one sample per column.
//!
//! Every file is read into a [`Table`] (numbers and header), which is then split into inputs
//! and targets ([`Table::dataset`]) or searched for a model's columns by name
//! ([`Table::select`]). Loaders for CSV and `.npy`, the bundled sets, the seeded planted-teacher
//! generator, and the standardisation a model is trained with ([`Scaling`]).

mod csv_io;
mod npy_io;
mod scaling;
mod teacher;

pub mod blum_rivest;
pub mod bundled;
pub use csv_io::{load_csv, save_csv, save_predictions, write_predictions};
pub use npy_io::load_npy;
pub use scaling::{Scaling, Standardizer, TargetScaling};
pub use teacher::{planted_teacher, with_label_noise, Teacher};

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The columns of a data set, or of the data a model was trained on, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    pub inputs: Vec<String>,
    pub targets: Vec<String>,
}

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
    /// Per-sample weights (finite, ≥ 0, a positive sum; [`Dataset::with_weights`]), `None`: every
    /// sample counts once. A weighted loss is `Σ_i w_i ℓ_i / Σ_i w_i` (a linear model's
    /// unnormalised sums `Σ_i w_i ℓ_i`), so integer weights are the same as repeated rows.
    pub weights: Option<Vec<f64>>,
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
            weights: None,
        })
    }

    /// The same samples weighted by `weights` (one per sample, finite, ≥ 0, not all 0).
    pub fn with_weights(mut self, weights: Vec<f64>) -> Result<Self> {
        if weights.len() != self.n_samples() {
            return Err(Error::Shape(format!(
                "{} sample weights for {} samples",
                weights.len(),
                self.n_samples()
            )));
        }
        if let Some(k) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::InvalidArgument(format!(
                "sample weights must be finite and ≥ 0; sample {} has {}",
                k + 1,
                weights[k]
            )));
        }
        if weights.iter().all(|&w| w == 0.0) {
            return Err(Error::InvalidArgument(
                "sample weights are all 0: no sample would count".into(),
            ));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// `Σ_i w_i` (N without weights).
    pub fn weight_sum(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.n_samples() as f64, |w| w.iter().sum())
    }

    /// The samples `idx` (in that order), with their names and weights; `source` names the part.
    pub fn samples(&self, idx: &[usize], source: String) -> Result<Dataset> {
        let x = Matrix::from_fn(self.n_inputs(), idx.len(), |i, k| self.x.get(i, idx[k]));
        let y = Matrix::from_fn(self.n_outputs(), idx.len(), |i, k| self.y.get(i, idx[k]));
        let mut ds = Dataset::new(x, y, source)?;
        ds.input_names.clone_from(&self.input_names);
        ds.target_names.clone_from(&self.target_names);
        if let Some(w) = &self.weights {
            ds = ds.with_weights(idx.iter().map(|&j| w[j]).collect())?;
        }
        Ok(ds)
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

    /// The input and target columns, by name.
    pub fn columns(&self) -> Columns {
        Columns {
            inputs: self.input_names.clone(),
            targets: self.target_names.clone(),
        }
    }

    /// Loads a CSV or `.npy` file (see [`Table::load`]) and splits it into inputs and targets.
    pub fn load(path: &Path, targets: &Targets) -> Result<Self> {
        Table::load(path)?.dataset(targets)
    }
}

/// A table of numbers as read from a file, one sample per row, with its header if it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Samples × columns, all finite.
    pub values: Matrix,
    pub header: Option<Vec<String>>,
    /// The file (or bundled set) it came from.
    pub source: PathBuf,
}

/// Whether `name` is one of cvxnn's own column names for inputs (`x1`, `x2`, …) or targets
/// (`y1`, …), as `generate teacher` writes them: `Some(true)` for an input, `Some(false)` for a
/// target.
fn own_column_kind(name: &str) -> Option<bool> {
    let (first, digits) = name.split_at_checked(1)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match first {
        "x" => Some(true),
        "y" => Some(false),
        _ => None,
    }
}

impl Table {
    /// Loads a CSV or `.npy` file by extension (anything but `.npy` is read as CSV), or a bundled
    /// data set by name (`iris`, `wine`, `breast_cancer`, `diabetes`; see [`bundled`]) when no
    /// file of that name exists.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            if let Some(text) = path.to_str().and_then(bundled::csv) {
                return csv_io::parse_csv(text, path);
            }
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("npy") => npy_io::read_npy(path),
            _ => csv_io::read_csv(path),
        }
    }

    pub fn n_cols(&self) -> usize {
        self.values.cols()
    }

    pub fn n_samples(&self) -> usize {
        self.values.rows()
    }

    /// Splits the table into inputs and targets: the columns `targets` names, or its last k
    /// columns. With the last k, a header in cvxnn's own naming (`x1…`, `y1…`) must agree: a
    /// split that would take a `y` column as an input or an `x` column as a target is refused.
    pub fn dataset(&self, targets: &Targets) -> Result<Dataset> {
        let source = &self.source;
        let ncols = self.n_cols();
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
                let Some(h) = &self.header else {
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
        if let (Targets::Last(k), Some(h)) = (targets, &self.header) {
            let named_targets = h
                .iter()
                .filter(|c| own_column_kind(c) == Some(false))
                .count();
            let clash = h
                .iter()
                .enumerate()
                .any(|(c, name)| own_column_kind(name) == Some(target_idx.contains(&c)));
            if clash {
                return Err(Error::Shape(format!(
                    "{}: its columns ({}) name {named_targets} target(s), but {k} were asked for \
                     (the last {k} columns): name the targets (`data.targets`) or use an \
                     architecture with {named_targets} output(s)",
                    source.display(),
                    h.join(", ")
                )));
            }
        }
        let input_idx: Vec<usize> = (0..ncols).filter(|c| !target_idx.contains(c)).collect();
        let n = self.n_samples();
        let x = Matrix::from_fn(input_idx.len(), n, |i, j| self.values.get(j, input_idx[i]));
        let y = Matrix::from_fn(target_idx.len(), n, |i, j| {
            self.values.get(j, target_idx[i])
        });
        let mut ds = Dataset::new(x, y, source.display().to_string())
            .map_err(|e| Error::parse(source, e.to_string()))?;
        if let Some(h) = &self.header {
            ds.input_names = input_idx.iter().map(|&c| h[c].clone()).collect();
            ds.target_names = target_idx.iter().map(|&c| h[c].clone()).collect();
        }
        Ok(ds)
    }

    /// The columns named `names`, in that order, with samples as columns (`names.len()` × N).
    /// Refuses a file without a header, or one that lacks a name, listing what it has.
    pub fn select(&self, names: &[String]) -> Result<Matrix> {
        let Some(h) = &self.header else {
            return Err(Error::parse(
                &self.source,
                "the file has no header row, so its columns cannot be matched by name",
            ));
        };
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !h.contains(n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::Shape(format!(
                "{} has no column named {} (its columns: {})",
                self.source.display(),
                missing.join(", "),
                h.join(", ")
            )));
        }
        let idx: Vec<usize> = names
            .iter()
            .map(|n| h.iter().position(|c| c == n).expect("checked above"))
            .collect();
        Ok(Matrix::from_fn(idx.len(), self.n_samples(), |i, j| {
            self.values.get(j, idx[i])
        }))
    }

    /// The first `k` columns, with samples as columns (a file without a header).
    pub fn leading(&self, k: usize) -> Matrix {
        Matrix::from_fn(k, self.n_samples(), |i, j| self.values.get(j, i))
    }
}

impl Dataset {
    /// The inputs scaled to mean 0 and standard deviation 1 per feature, and the map used.
    pub fn standardized(&self) -> Result<(Dataset, Standardizer)> {
        let st = Standardizer::fit(&self.x);
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
            self.samples(&sorted, format!("{} ({tag}, seed {seed})", self.source))
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
