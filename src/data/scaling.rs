//! Standardisation: fitted on training data, applied to other data, and undone on predictions.

use super::Dataset;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// One affine map per row of a matrix (a feature or a target), `v ↦ (v − mean)/std`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    /// Population standard deviation (divisor N, as scikit-learn's `StandardScaler`); a constant
    /// row gets 1, so it maps to 0.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Mean and standard deviation of every row of `m` (rows are features, columns samples).
    pub fn fit(m: &Matrix) -> Self {
        let n = m.cols().max(1) as f64;
        let mean: Vec<f64> = (0..m.rows())
            .map(|i| (0..m.cols()).map(|j| m.get(i, j)).sum::<f64>() / n)
            .collect();
        let std = (0..m.rows())
            .map(|i| {
                let v = (0..m.cols())
                    .map(|j| (m.get(i, j) - mean[i]).powi(2))
                    .sum::<f64>()
                    / n;
                if v > 0.0 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, std }
    }

    /// Division by the standard deviation only (mean 0): keeps the sign of every value, as
    /// nonnegative targets of a ReLU output need.
    pub fn fit_scale_only(m: &Matrix) -> Self {
        let mut s = Self::fit(m);
        s.mean.iter_mut().for_each(|v| *v = 0.0);
        s
    }

    fn check(&self, m: &Matrix) -> Result<()> {
        if m.rows() != self.mean.len() {
            return Err(Error::Shape(format!(
                "the standardisation was fitted on {} rows, the data have {}",
                self.mean.len(),
                m.rows()
            )));
        }
        Ok(())
    }

    /// `(v − mean)/std` row by row.
    pub fn transform(&self, m: &Matrix) -> Result<Matrix> {
        self.check(m)?;
        Ok(Matrix::from_fn(m.rows(), m.cols(), |i, j| {
            (m.get(i, j) - self.mean[i]) / self.std[i]
        }))
    }

    /// `v·std + mean` row by row: undoes [`Standardizer::transform`].
    pub fn inverse(&self, m: &Matrix) -> Result<Matrix> {
        self.check(m)?;
        Ok(Matrix::from_fn(m.rows(), m.cols(), |i, j| {
            m.get(i, j) * self.std[i] + self.mean[i]
        }))
    }

    /// Applies the map to the inputs of `ds` (the targets are unchanged).
    pub fn apply(&self, ds: &Dataset) -> Result<Dataset> {
        if ds.n_inputs() != self.mean.len() {
            return Err(Error::Shape(format!(
                "the standardizer was fitted on {} inputs, the data have {}",
                self.mean.len(),
                ds.n_inputs()
            )));
        }
        Ok(Dataset {
            x: self.transform(&ds.x)?,
            ..ds.clone()
        })
    }
}

/// What happens to the targets when a model is trained standardised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetScaling {
    /// Left alone (class labels).
    None,
    /// Mean 0, standard deviation 1 (regression with a linear output).
    Standardize,
    /// Divided by their standard deviation, not centred, so they keep their sign (a ReLU output).
    ScaleOnly,
}

/// The standardisation a model was trained with: its inputs always, its targets for regression.
/// A model applies it to new inputs and undoes it on its outputs, so predictions are in the
/// data's own units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub inputs: Standardizer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Standardizer>,
}

impl Scaling {
    /// Fitted on `ds`.
    pub fn fit(ds: &Dataset, targets: TargetScaling) -> Self {
        Self {
            inputs: Standardizer::fit(&ds.x),
            targets: match targets {
                TargetScaling::None => None,
                TargetScaling::Standardize => Some(Standardizer::fit(&ds.y)),
                TargetScaling::ScaleOnly => Some(Standardizer::fit_scale_only(&ds.y)),
            },
        }
    }

    /// `ds` in the scaled units the model is trained in.
    pub fn apply(&self, ds: &Dataset) -> Result<Dataset> {
        let mut out = Dataset {
            x: self.inputs.transform(&ds.x)?,
            ..ds.clone()
        };
        if let Some(t) = &self.targets {
            out.y = t.transform(&ds.y)?;
        }
        Ok(out)
    }

    /// Outputs in scaled units back in the targets' own units.
    pub fn outputs(&self, y: Matrix) -> Result<Matrix> {
        match &self.targets {
            Some(t) => t.inverse(&y),
            None => Ok(y),
        }
    }

    /// Checks the widths against a network's and every value (what a loaded file must pass).
    pub fn validate(&self, n_inputs: usize, n_outputs: usize) -> Result<()> {
        let ok = |s: &Standardizer, n: usize| {
            s.mean.len() == n
                && s.std.len() == n
                && s.mean.iter().all(|v| v.is_finite())
                && s.std.iter().all(|v| v.is_finite() && *v > 0.0)
        };
        if !ok(&self.inputs, n_inputs) || self.targets.as_ref().is_some_and(|t| !ok(t, n_outputs)) {
            return Err(Error::Shape(format!(
                "the standardisation does not fit a network with {n_inputs} inputs and \
                 {n_outputs} outputs, or has a non-positive or non-finite scale"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_and_inverse_are_inverse_and_scale_only_keeps_signs() {
        let m = Matrix::from_rows(&[vec![1.0, 2.0, 6.0], vec![5.0, 5.0, 5.0]]).unwrap();
        let s = Standardizer::fit(&m);
        assert_eq!(s.mean, vec![3.0, 5.0]);
        assert_eq!(s.std[1], 1.0);
        let t = s.transform(&m).unwrap();
        assert!((t.get(0, 0) + t.get(0, 1) + t.get(0, 2)).abs() < 1e-15);
        let back = s.inverse(&t).unwrap();
        for (a, b) in back.as_slice().iter().zip(m.as_slice()) {
            assert!((a - b).abs() < 1e-14);
        }
        let k = Standardizer::fit_scale_only(&m).transform(&m).unwrap();
        assert!(k.as_slice().iter().all(|v| *v > 0.0));
        assert!(s.transform(&Matrix::zeros(3, 1)).is_err());
    }
}
