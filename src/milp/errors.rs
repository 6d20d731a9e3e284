//! How exact training measures a network's errors — the sum of their absolute values (L1), the
//! largest (L∞), or every one within a tolerance (exact fit) — and the linear rows that make each
//! of them part of a MILP.

use super::model::LinearModel;
use crate::error::{Error, Result};

/// How exact training measures the errors: linear in the MILP.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ErrorMeasure {
    /// Σ_j |f(x_j) − y_j|.
    L1,
    /// max_j |f(x_j) − y_j|.
    Linf,
    /// Feasibility: |f(x_j) − y_j| ≤ tol for every j (objective 0).
    Exact { tol: f64 },
}

impl ErrorMeasure {
    pub fn name(self) -> &'static str {
        match self {
            ErrorMeasure::L1 => "l1",
            ErrorMeasure::Linf => "linf",
            ErrorMeasure::Exact { .. } => "exact",
        }
    }

    /// Refuses a negative or non-finite exact-fit tolerance.
    pub(crate) fn validate(self) -> Result<()> {
        match self {
            ErrorMeasure::Exact { tol } if !(tol.is_finite() && tol >= 0.0) => {
                Err(Error::InvalidArgument(format!(
                    "the exact-fit tolerance must be finite and non-negative, got {tol}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The program's error columns for `residuals` residuals (cost 1 each): one per residual
    /// (L1), one shared (L∞), none (exact fit).
    pub(crate) fn error_cols(self, m: &mut LinearModel, residuals: usize) -> Vec<usize> {
        let count = match self {
            ErrorMeasure::L1 => residuals,
            ErrorMeasure::Linf => 1,
            ErrorMeasure::Exact { .. } => 0,
        };
        (0..count).map(|_| m.col(0.0, f64::INFINITY, 1.0)).collect()
    }

    /// The rows of residual `i`, prediction `Σ out` against target `y`: `e ≥ |ŷ − y|` with
    /// `e = err[i]` (L1) or `err[0]` (L∞), or `|ŷ − y| ≤ tol` (exact fit).
    pub(crate) fn add_rows(
        self,
        m: &mut LinearModel,
        err: &[usize],
        i: usize,
        mut out: Vec<(usize, f64)>,
        y: f64,
    ) {
        let inf = f64::INFINITY;
        let e = match self {
            ErrorMeasure::Exact { tol } => return m.row(y - tol, y + tol, &out),
            ErrorMeasure::L1 => err[i],
            ErrorMeasure::Linf => err[0],
        };
        // e − ŷ ≥ −y and e + ŷ ≥ y
        let mut t: Vec<(usize, f64)> = out.iter().map(|&(c, v)| (c, -v)).collect();
        t.push((e, 1.0));
        m.row(-y, inf, &t);
        out.push((e, 1.0));
        m.row(y, inf, &out);
    }

    /// The loss of predictions `yhat` against `y` (for `Exact`, the largest error, as for L∞).
    pub fn value(self, yhat: &[f64], y: &[f64]) -> f64 {
        let errs = yhat.iter().zip(y).map(|(a, b)| (a - b).abs());
        match self {
            ErrorMeasure::L1 => errs.sum(),
            ErrorMeasure::Linf | ErrorMeasure::Exact { .. } => errs.fold(0.0, f64::max),
        }
    }
}
