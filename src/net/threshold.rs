//! Linear threshold units under an AND output: Blum & Rivest's 3-node network (two units) and its
//! K-unit form, the networks the threshold MILP trains.

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// A linear threshold unit `[wᵀx + b > 0]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdUnit {
    pub w: Vec<f64>,
    pub b: f64,
}

impl ThresholdUnit {
    pub fn fires(&self, x: &[f64]) -> bool {
        self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b > 0.0
    }
}

/// Threshold units whose output is 1 when every unit fires (an AND), else 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdNetwork {
    pub units: Vec<ThresholdUnit>,
}

impl ThresholdNetwork {
    pub fn n_inputs(&self) -> usize {
        self.units.first().map_or(0, |u| u.w.len())
    }

    /// At least one unit, all of the same width, every value finite.
    pub fn validate(&self) -> Result<()> {
        let d = self.n_inputs();
        if self.units.is_empty() || d == 0 {
            return Err(Error::Shape(
                "a threshold network needs at least one unit with at least one input".into(),
            ));
        }
        for (k, u) in self.units.iter().enumerate() {
            if u.w.len() != d {
                return Err(Error::Shape(format!(
                    "threshold unit {} has {} weights, unit 1 has {d}",
                    k + 1,
                    u.w.len()
                )));
            }
            if !u.b.is_finite() || u.w.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite(format!("threshold unit {}", k + 1)));
            }
        }
        Ok(())
    }

    /// 1 where every unit fires, else 0 (one output row; samples as columns).
    pub fn forward(&self, x: &Matrix) -> Result<Matrix> {
        if x.rows() != self.n_inputs() {
            return Err(Error::Shape(format!(
                "the network takes {} inputs, the data have {}",
                self.n_inputs(),
                x.rows()
            )));
        }
        Ok(Matrix::from_fn(1, x.cols(), |_, j| {
            let col = x.col(j);
            f64::from(u8::from(self.units.iter().all(|u| u.fires(col))))
        }))
    }
}
