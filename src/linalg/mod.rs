//! The crate's linear algebra in one place: a small dense column-major matrix, the common
//! currency of the crate; the vector kernels every solver uses ([`dot`], [`dot4`], [`norm`],
//! [`inf_norm`]); Cholesky factorisations ([`cholesky`]); and the threaded loop whose results do
//! not depend on the thread count ([`threads`]).
//!
//! Samples are columns (`X: n_x × N`), as in the seeds' notation. Heavy decompositions (SVD,
//! symmetric eigen) go through `faer`; this type only does what every module needs.

pub mod cholesky;
pub mod precision;
pub mod threads;

use crate::error::{Error, Result};
pub use precision::{Float, Precision};
use serde::{Deserialize, Serialize};

/// Dense `rows × cols` matrix of `f64`, stored column by column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MatrixRepr")]
pub struct Matrix {
    rows: usize,
    cols: usize,
    /// Column-major entries: `data[i + j * rows]` is entry `(i, j)`.
    data: Vec<f64>,
}

/// Unchecked serialised form; [`Matrix`] is only built from it after a shape check.
#[derive(Deserialize)]
struct MatrixRepr {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Multiply-adds of a product below which [`Matrix::matmul`] stays on one thread: about a
/// millisecond of work, where spawning threads (tens of microseconds) no longer shows. The
/// forward passes after the N = 10⁵ convex fit (2 000 units) are 4·10⁹.
const PARALLEL_MATMUL: usize = 1 << 22;

/// Columns of a product's block in [`Matrix::matmul`]: a block is one GEMM on one thread.
const COLUMN_BLOCK: usize = 512;

/// `aᵀb`, summed in order (every caller that compares results bit for bit across backends or
/// thread counts relies on this order).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `aᵀb` with four accumulators, so that the compiler vectorises it: the linear models'
/// first-order path, where it measured faster than [`dot`] on the bundled sets (a different
/// summation order, so its last bits differ from [`dot`]'s).
pub fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a4, b4) = (a[..n].chunks_exact(4), b[..n].chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `‖a‖`, summed in order.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `max |a_i|` (0 for an empty slice).
pub fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, x| m.max(x.abs()))
}

impl TryFrom<MatrixRepr> for Matrix {
    type Error = Error;
    fn try_from(r: MatrixRepr) -> Result<Self> {
        Matrix::from_col_major(r.rows, r.cols, r.data)
    }
}

impl Matrix {
    /// All-zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Identity of side `n`.
    pub fn identity(n: usize) -> Self {
        Self::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 })
    }

    /// Matrix with entry `(i, j) = f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for j in 0..cols {
            for i in 0..rows {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// From column-major data; errors if the length does not match the shape.
    pub fn from_col_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::Shape(format!(
                "{} values cannot fill a {rows}×{cols} matrix",
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// From a list of rows; errors if the rows are ragged.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let r = rows.len();
        let c = rows.first().map_or(0, Vec::len);
        if let Some((k, row)) = rows.iter().enumerate().find(|(_, row)| row.len() != c) {
            return Err(Error::Shape(format!(
                "row {k} has {} entries, row 0 has {c}",
                row.len()
            )));
        }
        Ok(Self::from_fn(r, c, |i, j| rows[i][j]))
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Column-major entries.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Column-major entries, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        debug_assert!(i < self.rows && j < self.cols);
        self.data[i + j * self.rows]
    }

    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        debug_assert!(i < self.rows && j < self.cols);
        self.data[i + j * self.rows] = v;
    }

    /// Column `j` as a slice.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// Row `i`, copied (a row is strided in this column-major layout).
    pub fn row(&self, i: usize) -> Vec<f64> {
        (0..self.cols).map(|j| self.get(i, j)).collect()
    }

    /// Transpose.
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |i, j| self.get(j, i))
    }

    /// Matrix product `self · other`; errors on an inner-dimension mismatch. A finite `self` goes
    /// through faer's GEMM ([`Matrix::gemm`]); otherwise (an infinite or NaN entry, where the
    /// zeros of `other` must not turn into NaN) a loop that skips them. Columns of the product
    /// are split among the cores once the product is large ([`PARALLEL_MATMUL`]); each column is
    /// summed in the same order whatever the split, so the result does not depend on the thread
    /// count.
    pub fn matmul(&self, other: &Matrix) -> Result<Matrix> {
        if self.cols != other.rows {
            return Err(Error::Shape(format!(
                "cannot multiply {}×{} by {}×{}",
                self.rows, self.cols, other.rows, other.cols
            )));
        }
        let mut out = Matrix::zeros(self.rows, other.cols);
        let rows = self.rows;
        if rows == 0 || other.cols == 0 {
            return Ok(out);
        }
        // column j of the product: Σ_k self[:, k] other[k, j], in k order, zeros of `other`
        // skipped (ReLU outputs are half zeros)
        let column = |j: usize, oc: &mut [f64]| {
            for k in 0..self.cols {
                let b = other.get(k, j);
                if b == 0.0 {
                    continue;
                }
                let ac = &self.data[k * rows..(k + 1) * rows];
                for (o, a) in oc.iter_mut().zip(ac) {
                    *o += a * b;
                }
            }
        };
        // four columns at once, each summed in the same order: self's column k is read once
        // for the four. A zero of `other` among four non-zeros is then added as `a · 0`, which
        // leaves a sum unchanged when `a` is finite (the sum never is −0: it starts at +0), so
        // this is used only when `self` is finite. Measured with the column split and the
        // blocked forward pass (one run each, 2 cores): `cvxnn eval` of the N = 10⁵ convex
        // fit's 2 000-unit network, reading the data included, 8.1 s before, 2.3 s after.
        let finite = self.data.iter().all(|v| v.is_finite());
        if finite {
            return Ok(self.gemm(other, out));
        }
        let four = |j: usize, oc: &mut [f64]| {
            let (o0, rest) = oc.split_at_mut(rows);
            let (o1, rest) = rest.split_at_mut(rows);
            let (o2, o3) = rest.split_at_mut(rows);
            for k in 0..self.cols {
                let b = [
                    other.get(k, j),
                    other.get(k, j + 1),
                    other.get(k, j + 2),
                    other.get(k, j + 3),
                ];
                if b == [0.0; 4] {
                    continue;
                }
                let ac = &self.data[k * rows..(k + 1) * rows];
                let outs = o0
                    .iter_mut()
                    .zip(o1.iter_mut())
                    .zip(o2.iter_mut())
                    .zip(o3.iter_mut());
                for ((((p0, p1), p2), p3), a) in outs.zip(ac) {
                    *p0 += a * b[0];
                    *p1 += a * b[1];
                    *p2 += a * b[2];
                    *p3 += a * b[3];
                }
            }
        };
        // columns `first..` into `chunk`
        let columns = |first: usize, chunk: &mut [f64]| {
            for (q, oc) in chunk.chunks_mut(4 * rows).enumerate() {
                let j = first + 4 * q;
                if finite && oc.len() == 4 * rows {
                    four(j, oc);
                } else {
                    for (jj, c) in oc.chunks_mut(rows).enumerate() {
                        column(j + jj, c);
                    }
                }
            }
        };
        let threads = if rows * self.cols * other.cols < PARALLEL_MATMUL {
            1
        } else {
            threads::available()
        };
        let per = other.cols.div_ceil(threads);
        std::thread::scope(|scope| {
            let mut chunks = out.data.chunks_mut(per * rows).enumerate();
            // the first chunk on this thread, the others on their own
            let first = chunks.next();
            for (t, chunk) in chunks {
                scope.spawn(move || columns(t * per, chunk));
            }
            if let Some((_, chunk)) = first {
                columns(0, chunk);
            }
        });
        Ok(out)
    }

    /// `self · other` into `out` (zeros) by faer's GEMM, in fixed blocks of [`COLUMN_BLOCK`]
    /// columns of `other`, each block computed whole by one thread: the result does not depend
    /// on the thread count. Measured (one run each, 2 cores): `cvxnn train` of Adam, 6 steps
    /// with one thread, on a planted 784-512-512-10 teacher with N = 12 000 — the teacher's
    /// forward pass, the final figures, the metrics and the dead-unit check are this product —
    /// 15.7 s wall with the hand-written loop below, 8.0 s with faer (the training loop 6.0 s in
    /// both).
    fn gemm(&self, other: &Matrix, mut out: Matrix) -> Matrix {
        use faer::linalg::matmul::matmul;
        let (rows, inner, cols) = (self.rows, self.cols, other.cols);
        let bounds = threads::block_bounds(cols, COLUMN_BLOCK);
        let threads = if rows * inner * cols < PARALLEL_MATMUL {
            1
        } else {
            threads::available()
        };
        let scaled: Vec<usize> = bounds.iter().map(|b| b * rows).collect();
        let parts = threads::split_at_bounds(&mut out.data, &scaled);
        let items: Vec<(usize, &mut [f64])> = parts.into_iter().enumerate().collect();
        let a = faer::MatRef::from_column_major_slice(&self.data, rows, inner);
        threads::par_map(items, threads, |(k, part)| {
            let (lo, hi) = (bounds[k], bounds[k + 1]);
            let b = faer::MatRef::from_column_major_slice(
                &other.data[lo * inner..hi * inner],
                inner,
                hi - lo,
            );
            let c = faer::MatMut::from_column_major_slice_mut(part, rows, hi - lo);
            matmul(c, faer::Accum::Replace, a, b, 1.0, faer::Par::Seq);
        });
        out
    }

    /// Entrywise map.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Matrix {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    /// Entrywise combination of two matrices of the same shape.
    pub fn zip_map(&self, other: &Matrix, f: impl Fn(f64, f64) -> f64) -> Result<Matrix> {
        if self.shape() != other.shape() {
            return Err(Error::Shape(format!(
                "entrywise operation on {}×{} and {}×{}",
                self.rows, self.cols, other.rows, other.cols
            )));
        }
        Ok(Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        })
    }

    /// `self - other`.
    pub fn sub(&self, other: &Matrix) -> Result<Matrix> {
        self.zip_map(other, |a, b| a - b)
    }

    /// `self + other`.
    pub fn add(&self, other: &Matrix) -> Result<Matrix> {
        self.zip_map(other, |a, b| a + b)
    }

    /// Adds `v[i]` to every entry of row `i` (a bias broadcast over samples: `Z + b ⊗ 1ᵀ`).
    pub fn add_col_vector(&self, v: &[f64]) -> Result<Matrix> {
        let mut out = self.clone();
        out.add_to_columns(v)?;
        Ok(out)
    }

    /// `v` added to every column, in place.
    pub fn add_to_columns(&mut self, v: &[f64]) -> Result<()> {
        if v.len() != self.rows {
            return Err(Error::Shape(format!(
                "bias of length {} added to a matrix with {} rows",
                v.len(),
                self.rows
            )));
        }
        for column in self.data.chunks_mut(self.rows.max(1)) {
            column.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
        Ok(())
    }

    /// `-self`.
    pub fn neg(&self) -> Matrix {
        self.map(|v| -v)
    }

    /// Frobenius norm.
    pub fn frobenius(&self) -> f64 {
        norm(&self.data)
    }

    /// True when every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }

    /// Stacks blocks `[[a, b], [c, d]]`; errors when the block shapes do not fit.
    pub fn block2x2(a: &Matrix, b: &Matrix, c: &Matrix, d: &Matrix) -> Result<Matrix> {
        if a.rows != b.rows || c.rows != d.rows || a.cols != c.cols || b.cols != d.cols {
            return Err(Error::Shape(format!(
                "blocks {:?} {:?} / {:?} {:?} do not tile",
                a.shape(),
                b.shape(),
                c.shape(),
                d.shape()
            )));
        }
        Ok(Matrix::from_fn(
            a.rows + c.rows,
            a.cols + b.cols,
            |i, j| match (i < a.rows, j < a.cols) {
                (true, true) => a.get(i, j),
                (true, false) => b.get(i, j - a.cols),
                (false, true) => c.get(i - a.rows, j),
                (false, false) => d.get(i - a.rows, j - a.cols),
            },
        ))
    }

    fn to_faer(&self) -> faer::Mat<f64> {
        faer::Mat::from_fn(self.rows, self.cols, |i, j| self.get(i, j))
    }

    /// Singular values, nonincreasing.
    pub fn singular_values(&self) -> Result<Vec<f64>> {
        if self.rows == 0 || self.cols == 0 {
            return Ok(Vec::new());
        }
        if !self.is_finite() {
            return Err(Error::Numerical(
                "singular values of a matrix with NaN/Inf entries".into(),
            ));
        }
        self.to_faer()
            .singular_values()
            .map_err(|e| Error::Numerical(format!("SVD did not converge: {e:?}")))
    }

    /// Nuclear norm ‖·‖_* (sum of singular values).
    pub fn nuclear_norm(&self) -> Result<f64> {
        Ok(self.singular_values()?.iter().sum())
    }

    /// Numerical rank: the number of singular values above `rel_tol · σ_max`.
    pub fn rank(&self, rel_tol: f64) -> Result<usize> {
        let s = self.singular_values()?;
        let smax = s.first().copied().unwrap_or(0.0);
        Ok(s.iter()
            .filter(|&&v| v > rel_tol * smax.max(f64::MIN_POSITIVE))
            .count())
    }

    /// Symmetric eigen-decomposition `(eigenvalues ascending, eigenvectors as columns)`; uses the lower triangle.
    pub fn symmetric_eigen(&self) -> Result<(Vec<f64>, Matrix)> {
        if self.rows != self.cols {
            return Err(Error::Shape(format!(
                "eigen-decomposition of a non-square {}×{} matrix",
                self.rows, self.cols
            )));
        }
        let evd = self
            .to_faer()
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| Error::Numerical(format!("eigen-decomposition failed: {e:?}")))?;
        let n = self.rows;
        let vals = (0..n).map(|i| evd.S()[i]).collect();
        let u = evd.U();
        Ok((vals, Matrix::from_fn(n, n, |i, j| u[(i, j)])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_against_hand_computation() {
        let a = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]).unwrap();
        let b = Matrix::from_rows(&[vec![1.0, 0.0, -1.0], vec![2.0, 1.0, 0.0]]).unwrap();
        let c = a.matmul(&b).unwrap();
        let want = Matrix::from_rows(&[
            vec![5.0, 2.0, -1.0],
            vec![11.0, 4.0, -3.0],
            vec![17.0, 6.0, -5.0],
        ])
        .unwrap();
        assert_eq!(c, want);
        assert!(a.matmul(&a).is_err());
    }

    /// A product large enough to be split among threads equals the entries summed in order by
    /// the test's own loop to rounding, and each block of columns is the same bits as that
    /// block multiplied alone on one thread (so no column is misplaced, and the split does not
    /// change the result), with an odd column count that divides neither among the threads nor
    /// into whole blocks; a non-finite factor gives what the skipping loop gives (`NaN · 0` is
    /// not added).
    #[test]
    fn a_split_product_is_the_sequential_one() {
        let (m, inner, n) = (37, 101, 1_201);
        assert!(m * inner * n >= PARALLEL_MATMUL);
        let a = Matrix::from_fn(m, inner, |i, k| ((i * 7 + k * 13) % 17) as f64 / 7.0 - 1.0);
        // a tenth of `b` is zero, as ReLU outputs often are
        let b = Matrix::from_fn(inner, n, |k, j| ((k * 5 + j * 3) % 10) as f64 / 3.0 - 1.0);
        let c = a.matmul(&b).unwrap();
        // the sum in k order, to rounding
        for j in 0..n {
            for i in 0..m {
                let (mut want, mut scale) = (0.0, 0.0);
                for k in 0..inner {
                    want += a.get(i, k) * b.get(k, j);
                    scale += (a.get(i, k) * b.get(k, j)).abs();
                }
                assert!(
                    (c.get(i, j) - want).abs() <= 1e-14 * scale,
                    "entry ({i}, {j})"
                );
            }
        }
        // each block of columns, multiplied alone (on one thread: below the parallel size), is
        // the same bits as in the whole product, however its blocks were spread over threads
        for lo in (0..n).step_by(COLUMN_BLOCK) {
            let hi = (lo + COLUMN_BLOCK).min(n);
            let part = Matrix::from_fn(inner, hi - lo, |k, j| b.get(k, lo + j));
            assert!(m * inner * (hi - lo) < PARALLEL_MATMUL);
            let alone = a.matmul(&part).unwrap();
            for j in lo..hi {
                for i in 0..m {
                    assert_eq!(c.get(i, j).to_bits(), alone.get(i, j - lo).to_bits());
                }
            }
        }
        let mut a = a;
        a.set(3, 2, f64::NAN);
        let c = a.matmul(&b).unwrap();
        for j in 0..n {
            assert_eq!(c.get(3, j).is_nan(), b.get(2, j) != 0.0, "column {j}");
        }
    }

    #[test]
    fn ragged_rows_are_an_error() {
        assert!(Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
    }

    #[test]
    fn singular_values_of_diagonal() {
        let m = Matrix::from_rows(&[vec![3.0, 0.0], vec![0.0, -4.0]]).unwrap();
        let s = m.singular_values().unwrap();
        assert!((s[0] - 4.0).abs() < 1e-12 && (s[1] - 3.0).abs() < 1e-12);
        assert!((m.nuclear_norm().unwrap() - 7.0).abs() < 1e-12);
    }
}
