//! The SCR subproblem (8) of `docs/scr-method.md` for one hidden ReLU layer, written once as affine
//! expressions in the decision variables, so that every backend and every check reads the same
//! formulation.
//!
//! Decision variables (§2): `W_1, b_1, W_2, b_2, H` and, for a ReLU output, the entries of `Z_2`
//! where `Y = 0` (where `Y > 0` the constraint `Y ∘ (Y − Z_2) = 0` pins `Z_2 = Y`, so those entries
//! are constants).
//!
//! - Product term (6a), §3.2: `M_1 = [[C + X_W Y_H + W_2 Y_H + X_W H, W_2 + X_W], [H + Y_H, I]]`
//!   with `C = Z_2 − B_2` (ReLU output) or `Y − B_2` (linear output).
//! - Complementarity (6b), §3.3: per entry `k = (i, j)` of `H`, with `h = H_ij`,
//!   `s = (H − W_1 X − B_1)_ij` and parameters `x, y`:
//!   `m_k = [[x y + h y + x s, h + x], [s + y, 1]]`.
//! - Polyhedral constraints (5): `H ≥ 0`, `H − W_1 X − B_1 ≥ 0`, `Z_2 ≤ 0` where `Y = 0`.

use super::Params;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp};

/// An affine function `Σ coef·v[var] + constant` of the decision vector.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Affine {
    pub terms: Vec<(usize, f64)>,
    pub constant: f64,
}

impl Affine {
    pub fn constant(c: f64) -> Self {
        Self {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// `coef · v[var]`.
    pub fn var(var: usize, coef: f64) -> Self {
        Self {
            terms: vec![(var, coef)],
            constant: 0.0,
        }
    }

    /// `self += scale · other`.
    pub fn add_scaled(&mut self, other: &Affine, scale: f64) {
        self.terms
            .extend(other.terms.iter().map(|&(i, c)| (i, c * scale)));
        self.constant += scale * other.constant;
    }

    /// `self += coef · v[var]` (zero coefficients are dropped).
    pub fn add_var(&mut self, var: usize, coef: f64) {
        if coef != 0.0 {
            self.terms.push((var, coef));
        }
    }

    /// `a + scale · b`.
    pub fn combine(a: &Affine, b: &Affine, scale: f64) -> Affine {
        let mut out = a.clone();
        out.add_scaled(b, scale);
        out
    }

    /// Value at `v`.
    pub fn eval(&self, v: &[f64]) -> f64 {
        self.constant + self.terms.iter().map(|&(i, c)| c * v[i]).sum::<f64>()
    }
}

/// Training data and shape of a one-hidden-layer SCR problem, validated.
#[derive(Clone, Debug)]
pub struct ScrProblem {
    pub x: Matrix,
    pub y: Matrix,
    pub n_hidden: usize,
    pub output: Activation,
}

impl ScrProblem {
    /// Checks that the architecture has one hidden layer, that the data fit it, and that a ReLU
    /// output is asked only of nonnegative targets.
    pub fn new(x: &Matrix, y: &Matrix, arch: &Architecture) -> Result<Self> {
        if arch.n_hidden_layers() != 1 {
            return Err(Error::Unavailable(format!(
                "SCR is implemented for exactly one hidden layer; architecture {} has {}",
                arch.spec(),
                arch.n_hidden_layers()
            )));
        }
        if x.rows() != arch.n_inputs() || y.rows() != arch.n_outputs() {
            return Err(Error::Shape(format!(
                "architecture {} needs {} inputs and {} outputs, the data have {} and {}",
                arch.spec(),
                arch.n_inputs(),
                arch.n_outputs(),
                x.rows(),
                y.rows()
            )));
        }
        if x.cols() != y.cols() || x.cols() == 0 {
            return Err(Error::Shape(format!(
                "X has {} samples, Y has {}",
                x.cols(),
                y.cols()
            )));
        }
        if !x.is_finite() || !y.is_finite() {
            return Err(Error::NonFinite("SCR data contain NaN or Inf".into()));
        }
        if arch.output == Activation::Relu {
            if let Some(v) = y.as_slice().iter().find(|&&v| v < 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "a ReLU output cannot produce the negative target {v}: use --output-activation linear"
                )));
            }
        }
        Ok(Self {
            x: x.clone(),
            y: y.clone(),
            n_hidden: arch.widths[1],
            output: arch.output,
        })
    }

    pub fn n_inputs(&self) -> usize {
        self.x.rows()
    }

    pub fn n_outputs(&self) -> usize {
        self.y.rows()
    }

    pub fn n_samples(&self) -> usize {
        self.x.cols()
    }

    pub fn architecture(&self) -> Architecture {
        Architecture {
            widths: vec![self.n_inputs(), self.n_hidden, self.n_outputs()],
            output: self.output,
        }
    }
}

/// The decision variables of (8) at one point: the network weights and the lifted activations.
#[derive(Clone, Debug, PartialEq)]
pub struct Iterate {
    pub w1: Matrix,
    pub b1: Vec<f64>,
    pub w2: Matrix,
    pub b2: Vec<f64>,
    /// Hidden activations `H` (n_h × N).
    pub h: Matrix,
    /// Output pre-activations `Z_2` (ReLU output) or `Y` itself (linear output), n_y × N.
    pub z2: Matrix,
}

impl Iterate {
    /// The slack `S_1 = H − W_1 X − B_1`.
    pub fn s1(&self, p: &ScrProblem) -> Result<Matrix> {
        self.h.sub(&self.w1.matmul(&p.x)?.add_col_vector(&self.b1)?)
    }

    /// The right-hand side `C = Z_2 − B_2` of the product constraint `W_2 H = C`.
    pub fn product_rhs(&self) -> Result<Matrix> {
        self.z2
            .add_col_vector(&self.b2.iter().map(|v| -v).collect::<Vec<_>>())
    }

    /// Product violation `‖W_2 H − (Z_2 − B_2)‖_F` (scr-method.md §5, `e_a`).
    pub fn product_violation(&self) -> Result<f64> {
        Ok(self
            .w2
            .matmul(&self.h)?
            .sub(&self.product_rhs()?)?
            .frobenius())
    }

    /// Complementarity violation `‖H ∘ S_1‖_F` (§5, `e_b`).
    pub fn complementarity_violation(&self, p: &ScrProblem) -> Result<f64> {
        Ok(self.h.zip_map(&self.s1(p)?, |a, b| a * b)?.frobenius())
    }

    /// The network given by the weights alone.
    pub fn model(&self, p: &ScrProblem) -> Result<Mlp> {
        Mlp::new(
            p.architecture(),
            vec![self.w1.clone(), self.w2.clone()],
            vec![self.b1.clone(), self.b2.clone()],
        )
    }

    /// `self + β (self − prev)`: the extrapolated point used to set the next parameters.
    pub fn extrapolated(&self, prev: &Iterate, beta: f64) -> Result<Iterate> {
        let ex = |a: &Matrix, b: &Matrix| a.zip_map(b, |x, y| x + beta * (x - y));
        let exv = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x + beta * (x - y)).collect();
        Ok(Iterate {
            w1: ex(&self.w1, &prev.w1)?,
            b1: exv(&self.b1, &prev.b1),
            w2: ex(&self.w2, &prev.w2)?,
            b2: exv(&self.b2, &prev.b2),
            h: ex(&self.h, &prev.h)?,
            z2: ex(&self.z2, &prev.z2)?,
        })
    }

    /// The parameters of the next SCR step: `(X, Y) := (−A*, −B*)` for every bilinear constraint (§5).
    pub fn next_params(&self, p: &ScrProblem) -> Result<Params> {
        Ok(Params {
            xw: self.w2.neg(),
            yh: self.h.neg(),
            xh: self.h.neg(),
            ys: self.s1(p)?.neg(),
        })
    }

    /// The lifted point of a network: `H = relu(W_1X + B_1)`, `Z_2 = W_2 H + B_2`.
    pub fn from_model(m: &Mlp, p: &ScrProblem) -> Result<Self> {
        if m.arch.widths != p.architecture().widths {
            return Err(Error::Shape(format!(
                "model architecture {} does not match the problem's {}",
                m.arch.spec(),
                p.architecture().spec()
            )));
        }
        let layers = m.forward_layers(&p.x)?;
        let z2 = match p.output {
            Activation::Relu => layers[1].0.clone(),
            Activation::Linear => p.y.clone(),
        };
        Ok(Self {
            w1: m.weights[0].clone(),
            b1: m.biases[0].clone(),
            w2: m.weights[1].clone(),
            b2: m.biases[1].clone(),
            h: layers[0].1.clone(),
            z2,
        })
    }
}

/// `M(A, B, C; X_0, Y_0) = [[C + X_0Y_0 + AY_0 + X_0B, A + X_0], [B + Y_0, I]]` (§3.1), whose rank
/// is `n + rank(C − AB)`.
pub fn rank_matrix(a: &Matrix, b: &Matrix, c: &Matrix, x0: &Matrix, y0: &Matrix) -> Result<Matrix> {
    let n = a.cols();
    let top_left = c
        .add(&x0.matmul(y0)?)?
        .add(&a.matmul(y0)?)?
        .add(&x0.matmul(b)?)?;
    Matrix::block2x2(&top_left, &a.add(x0)?, &b.add(y0)?, &Matrix::identity(n))
}

/// Nuclear norm of `[[a, b], [c, d]]` in closed form (§3.3):
/// `max(‖(a+d, c−b)‖₂, ‖(a−d, b+c)‖₂)`.
pub fn nuclear_norm_2x2(a: f64, b: f64, c: f64, d: f64) -> f64 {
    (a + d).hypot(c - b).max((a - d).hypot(b + c))
}

/// The exact value of the objective of (8) at an iterate: `λ‖M_1‖_* + μ Σ_k ‖m_k‖_*`, computed with
/// an SVD and the 2×2 closed form (independently of any solver's reformulation).
pub fn objective_at(
    it: &Iterate,
    p: &ScrProblem,
    params: &Params,
    lambda: f64,
    mu: f64,
) -> Result<f64> {
    let m1 = rank_matrix(&it.w2, &it.h, &it.product_rhs()?, &params.xw, &params.yh)?;
    let s1 = it.s1(p)?;
    let mut comp = 0.0;
    for k in 0..s1.as_slice().len() {
        let (h, s) = (it.h.as_slice()[k], s1.as_slice()[k]);
        let (x, y) = (params.xh.as_slice()[k], params.ys.as_slice()[k]);
        comp += nuclear_norm_2x2(x * y + h * y + x * s, h + x, s + y, 1.0);
    }
    Ok(lambda * m1.nuclear_norm()? + mu * comp)
}

/// Index map of the core decision variables in a solver's vector.
#[derive(Clone, Debug)]
pub struct Layout {
    pub n_x: usize,
    pub n_h: usize,
    pub n_y: usize,
    pub n: usize,
    w1: usize,
    b1: usize,
    w2: usize,
    b2: usize,
    h: usize,
    /// Variable index of `Z_2[i, j]` (column-major), `None` where it is the constant `Y[i, j]`.
    z2: Vec<Option<usize>>,
    /// Number of core variables.
    pub n_core: usize,
}

impl Layout {
    pub fn new(p: &ScrProblem) -> Self {
        let (n_x, n_h, n_y, n) = (p.n_inputs(), p.n_hidden, p.n_outputs(), p.n_samples());
        let w1 = 0;
        let b1 = w1 + n_h * n_x;
        let w2 = b1 + n_h;
        let b2 = w2 + n_y * n_h;
        let h = b2 + n_y;
        let mut next = h + n_h * n;
        let z2 =
            p.y.as_slice()
                .iter()
                .map(|&v| {
                    (p.output == Activation::Relu && v == 0.0).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect();
        Self {
            n_x,
            n_h,
            n_y,
            n,
            w1,
            b1,
            w2,
            b2,
            h,
            z2,
            n_core: next,
        }
    }

    pub fn w1(&self, i: usize, j: usize) -> usize {
        self.w1 + i + j * self.n_h
    }
    pub fn b1(&self, i: usize) -> usize {
        self.b1 + i
    }
    pub fn w2(&self, i: usize, j: usize) -> usize {
        self.w2 + i + j * self.n_y
    }
    pub fn b2(&self, i: usize) -> usize {
        self.b2 + i
    }
    pub fn h(&self, i: usize, j: usize) -> usize {
        self.h + i + j * self.n_h
    }

    /// Indices of the `Z_2` entries that are variables (each must be ≤ 0).
    pub fn z2_vars(&self) -> impl Iterator<Item = usize> + '_ {
        self.z2.iter().flatten().copied()
    }

    /// `Z_2[i, j]` as an affine expression.
    pub fn z2_expr(&self, p: &ScrProblem, i: usize, j: usize) -> Affine {
        match self.z2[i + j * self.n_y] {
            Some(v) => Affine::var(v, 1.0),
            None => Affine::constant(p.y.get(i, j)),
        }
    }

    /// `S_1[i, j] = H_ij − Σ_c W_1[i, c] X[c, j] − b_1[i]`.
    pub fn s1_expr(&self, p: &ScrProblem, i: usize, j: usize) -> Affine {
        let mut e = Affine::var(self.h(i, j), 1.0);
        for c in 0..self.n_x {
            e.add_var(self.w1(i, c), -p.x.get(c, j));
        }
        e.add_var(self.b1(i), -1.0);
        e
    }

    /// Column `j` of `M_1` (`j < N`: data columns, `N ≤ j < N + n_h`: the `[W_2 + X_W; I]` columns),
    /// `n_y + n_h` entries.
    pub fn product_column(&self, p: &ScrProblem, params: &Params, j: usize) -> Vec<Affine> {
        let mut col = Vec::with_capacity(self.n_y + self.n_h);
        if j < self.n {
            for i in 0..self.n_y {
                // C + X_W Y_H + W_2 Y_H + X_W H, with C = Z_2 − B_2
                let mut e = self.z2_expr(p, i, j);
                e.add_var(self.b2(i), -1.0);
                for l in 0..self.n_h {
                    let xw = params.xw.get(i, l);
                    let yh = params.yh.get(l, j);
                    e.constant += xw * yh;
                    e.add_var(self.w2(i, l), yh);
                    e.add_var(self.h(l, j), xw);
                }
                col.push(e);
            }
            for l in 0..self.n_h {
                let mut e = Affine::var(self.h(l, j), 1.0);
                e.constant += params.yh.get(l, j);
                col.push(e);
            }
        } else {
            let l0 = j - self.n;
            for i in 0..self.n_y {
                let mut e = Affine::var(self.w2(i, l0), 1.0);
                e.constant += params.xw.get(i, l0);
                col.push(e);
            }
            for l in 0..self.n_h {
                col.push(Affine::constant(if l == l0 { 1.0 } else { 0.0 }));
            }
        }
        col
    }

    /// The entries `(a, b, c)` of the complementarity block `m_k = [[a, b], [c, 1]]` for `H[i, j]`.
    pub fn complementarity_block(
        &self,
        p: &ScrProblem,
        params: &Params,
        i: usize,
        j: usize,
    ) -> [Affine; 3] {
        let h = Affine::var(self.h(i, j), 1.0);
        let s = self.s1_expr(p, i, j);
        let (x, y) = (params.xh.get(i, j), params.ys.get(i, j));
        // a = x y + h y + x s
        let mut a = Affine::constant(x * y);
        a.add_scaled(&h, y);
        a.add_scaled(&s, x);
        let mut b = h;
        b.constant += x;
        let mut c = s;
        c.constant += y;
        [a, b, c]
    }

    /// Writes an iterate into a vector of the core variables (the inverse of [`Layout::unpack`] on
    /// the free entries; the fixed entries of `Z_2` are data and are not stored).
    pub fn pack(&self, it: &Iterate) -> Vec<f64> {
        let mut v = vec![0.0; self.n_core];
        for j in 0..self.n_x {
            for i in 0..self.n_h {
                v[self.w1(i, j)] = it.w1.get(i, j);
            }
        }
        for i in 0..self.n_h {
            v[self.b1(i)] = it.b1[i];
            for j in 0..self.n {
                v[self.h(i, j)] = it.h.get(i, j);
            }
        }
        for i in 0..self.n_y {
            v[self.b2(i)] = it.b2[i];
            for l in 0..self.n_h {
                v[self.w2(i, l)] = it.w2.get(i, l);
            }
        }
        for (k, slot) in self.z2.iter().enumerate() {
            if let Some(var) = slot {
                v[*var] = it.z2.as_slice()[k];
            }
        }
        v
    }

    /// Reads the core variables of a solver's vector back into an iterate.
    pub fn unpack(&self, p: &ScrProblem, v: &[f64]) -> Iterate {
        let w1 = Matrix::from_fn(self.n_h, self.n_x, |i, j| v[self.w1(i, j)]);
        let b1 = (0..self.n_h).map(|i| v[self.b1(i)]).collect();
        let w2 = Matrix::from_fn(self.n_y, self.n_h, |i, j| v[self.w2(i, j)]);
        let b2 = (0..self.n_y).map(|i| v[self.b2(i)]).collect();
        let h = Matrix::from_fn(self.n_h, self.n, |i, j| v[self.h(i, j)]);
        let z2 = Matrix::from_fn(self.n_y, self.n, |i, j| self.z2_expr(p, i, j).eval(v));
        Iterate {
            w1,
            b1,
            w2,
            b2,
            h,
            z2,
        }
    }
}
