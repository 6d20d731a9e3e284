//! The lifted data `X̃ = [X, 1]`: one row per sample, the bias folded in as a last coordinate.

use crate::linalg::Matrix;

/// `N × d̃` (d̃ = d + 1), row-major: sample n is `rows[n d̃ .. (n + 1) d̃]`.
#[derive(Clone, Debug)]
pub struct Lifted {
    n: usize,
    dim: usize,
    rows: Vec<f64>,
    /// `‖x̃_n‖` (the scale of sample n's constraint rows).
    norms: Vec<f64>,
}

impl Lifted {
    /// From cvxnn's `d × N` inputs (samples are columns).
    pub fn new(x: &Matrix) -> Self {
        Self::scaled(x, None)
    }

    /// `s_n x̃_n` for every sample n, `scale` the positive `s` (`None`: 1 each). The rows of a
    /// weighted squared loss `Σ w_n (p_n − y_n)²`: a ReLU unit is positively homogeneous, so
    /// `(s x̃ᵀu)₊ = s (x̃ᵀu)₊`, and with `s = √w` and targets `s y` the plain loss on these rows is
    /// the weighted one, with the same activation patterns.
    pub fn scaled(x: &Matrix, scale: Option<&[f64]>) -> Self {
        let (d, n) = x.shape();
        let dim = d + 1;
        let mut rows = Vec::with_capacity(n * dim);
        for j in 0..n {
            let s = scale.map_or(1.0, |s| s[j]);
            rows.extend(x.col(j).iter().map(|v| s * v));
            rows.push(s);
        }
        let norms = rows.chunks_exact(dim).map(crate::linalg::norm).collect();
        Self {
            n,
            dim,
            rows,
            norms,
        }
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// d̃ = d + 1.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn row(&self, n: usize) -> &[f64] {
        &self.rows[n * self.dim..(n + 1) * self.dim]
    }

    /// Rows `range` as one row-major slice.
    pub fn rows(&self, range: std::ops::Range<usize>) -> &[f64] {
        &self.rows[range.start * self.dim..range.end * self.dim]
    }

    /// `‖x̃_n‖`.
    pub fn row_norm(&self, n: usize) -> f64 {
        self.norms[n]
    }
}
