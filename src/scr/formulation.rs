//! The SCR subproblem of `docs/scr.md` — (8) of §4 for one hidden layer, (8_L) of §7 for several —
//! written once as affine expressions in the decision variables, so that every backend and every
//! check reads the same formulation.
//!
//! Hidden layers are numbered `k = 0 … K−1` (0-based; the docs' layer `l = k + 1`). Decision
//! variables: all weights `W_l, b_l` (l = 0 … K); the activations `H_k` of every hidden layer; the
//! pre-activations `Z_k` of hidden layers `k ≥ 1` (free variables, §7); and for a ReLU output the
//! entries of the output pre-activation where `Y = 0` (where `Y > 0`, `Y ∘ (Y − Z) = 0` pins `Z = Y`,
//! so those entries are constants; for a linear output `Z = Y`).
//!
//! - Slack of hidden layer k: `S_k = H_k − P_k` with `P_0 = W_0 X + B_0` and `P_k = Z_k` (k ≥ 1).
//! - Product term of hidden layer k (§3.2): `W_{k+1} H_k = C_k` with `C_k = P_{k+1} − B_{k+1}`
//!   (`P_K` the output pre-activation), as
//!   `M_k = [[C_k + X_k Y_k + W_{k+1} Y_k + X_k H_k, W_{k+1} + X_k], [H_k + Y_k, I]]`, weight λ_k.
//! - Complementarity terms of hidden layer k (§3.3): per entry, with `h = H_k[i, j]`,
//!   `s = S_k[i, j]` and parameters `x, y`: `m = [[x y + h y + x s, h + x], [s + y, 1]]`, weight μ_k.
//! - Polyhedral constraints (5): `H_k ≥ 0`, `S_k ≥ 0`, output `Z ≤ 0` where `Y = 0`.

use super::{LayerParams, Params};
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

/// Training data and shape of an SCR problem (one or more hidden ReLU layers), validated.
#[derive(Clone, Debug)]
pub struct ScrProblem {
    pub x: Matrix,
    pub y: Matrix,
    /// Layer widths `n_x, n_1, …, n_K, n_y`.
    pub widths: Vec<usize>,
    pub output: Activation,
}

impl ScrProblem {
    /// Checks that the architecture has at least one hidden layer, that the data fit it, and that
    /// a ReLU output is asked only of nonnegative targets.
    pub fn new(x: &Matrix, y: &Matrix, arch: &Architecture) -> Result<Self> {
        if arch.n_hidden_layers() == 0 {
            return Err(Error::InvalidArgument(format!(
                "SCR needs at least one hidden layer; architecture {} has none",
                arch.spec()
            )));
        }
        arch.check_data(x, y)?;
        if !x.is_finite() || !y.is_finite() {
            return Err(Error::NonFinite("SCR data contain NaN or Inf".into()));
        }
        if arch.output == Activation::Relu {
            if let Some(v) = y.as_slice().iter().find(|&&v| v < 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "a ReLU output cannot produce the negative target {v}: use `output` linear"
                )));
            }
        }
        Ok(Self {
            x: x.clone(),
            y: y.clone(),
            widths: arch.widths.clone(),
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

    /// Number of hidden layers K.
    pub fn n_hidden_layers(&self) -> usize {
        self.widths.len() - 2
    }

    /// Width of hidden layer `k` (0-based).
    pub fn hidden_width(&self, k: usize) -> usize {
        self.widths[k + 1]
    }

    pub fn architecture(&self) -> Architecture {
        Architecture {
            widths: self.widths.clone(),
            output: self.output,
        }
    }
}

/// The decision variables at one point: the network weights and the lifted activations.
#[derive(Clone, Debug, PartialEq)]
pub struct Iterate {
    /// `W_0 … W_K` (layer l maps width `n_l` to `n_{l+1}`).
    pub weights: Vec<Matrix>,
    pub biases: Vec<Vec<f64>>,
    /// Hidden activations `H_k` (n_{k+1} × N), k = 0 … K−1.
    pub h: Vec<Matrix>,
    /// Pre-activations of the layer after each hidden layer: `z[k]` is `Z_{k+1}` for k < K−1 and the
    /// output pre-activation for k = K−1 (`Y` itself for a linear output).
    pub z: Vec<Matrix>,
}

impl Iterate {
    /// The pre-activation `P_k` of hidden layer k: `W_0 X + B_0` for k = 0, `z[k−1]` after.
    pub fn pre_activation(&self, p: &ScrProblem, k: usize) -> Result<Matrix> {
        if k == 0 {
            self.weights[0]
                .matmul(&p.x)?
                .add_col_vector(&self.biases[0])
        } else {
            Ok(self.z[k - 1].clone())
        }
    }

    /// The slack `S_k = H_k − P_k`.
    pub fn slack(&self, p: &ScrProblem, k: usize) -> Result<Matrix> {
        self.h[k].sub(&self.pre_activation(p, k)?)
    }

    /// The right-hand side `C_k = z[k] − B_{k+1}` of the product constraint `W_{k+1} H_k = C_k`.
    pub fn product_rhs(&self, k: usize) -> Result<Matrix> {
        self.z[k].add_col_vector(&self.biases[k + 1].iter().map(|v| -v).collect::<Vec<_>>())
    }

    /// Product violation `(Σ_k ‖W_{k+1} H_k − C_k‖_F²)^{1/2}` (docs/scr.md §5).
    pub fn product_violation(&self) -> Result<f64> {
        let mut sq = 0.0;
        for k in 0..self.h.len() {
            let r = self.weights[k + 1]
                .matmul(&self.h[k])?
                .sub(&self.product_rhs(k)?)?;
            sq += r.frobenius().powi(2);
        }
        Ok(sq.sqrt())
    }

    /// Complementarity violation `(Σ_k ‖H_k ∘ S_k‖_F²)^{1/2}` (§5, `e_b`).
    pub fn complementarity_violation(&self, p: &ScrProblem) -> Result<f64> {
        let mut sq = 0.0;
        for k in 0..self.h.len() {
            let r = self.h[k].zip_map(&self.slack(p, k)?, |a, b| a * b)?;
            sq += r.frobenius().powi(2);
        }
        Ok(sq.sqrt())
    }

    /// The network given by the weights alone.
    pub fn model(&self, p: &ScrProblem) -> Result<Mlp> {
        Mlp::new(p.architecture(), self.weights.clone(), self.biases.clone())
    }

    /// `self + β (self − prev)`: the extrapolated point used to set the next parameters.
    pub fn extrapolated(&self, prev: &Iterate, beta: f64) -> Result<Iterate> {
        let ex = |a: &[Matrix], b: &[Matrix]| -> Result<Vec<Matrix>> {
            a.iter()
                .zip(b)
                .map(|(a, b)| a.zip_map(b, |x, y| x + beta * (x - y)))
                .collect()
        };
        let exv = |a: &[Vec<f64>], b: &[Vec<f64>]| -> Vec<Vec<f64>> {
            a.iter()
                .zip(b)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + beta * (x - y)).collect())
                .collect()
        };
        Ok(Iterate {
            weights: ex(&self.weights, &prev.weights)?,
            biases: exv(&self.biases, &prev.biases),
            h: ex(&self.h, &prev.h)?,
            z: ex(&self.z, &prev.z)?,
        })
    }

    /// The parameters of the next SCR step: `(X, Y) := (−A*, −B*)` for every bilinear constraint
    /// (§5, §7): `X_k = −W_{k+1}`, `Y_k = −H_k`, `x_k = −H_k`, `y_k = −S_k`.
    pub fn next_params(&self, p: &ScrProblem) -> Result<Params> {
        let layers = (0..self.h.len())
            .map(|k| {
                Ok(LayerParams {
                    xw: self.weights[k + 1].neg(),
                    yh: self.h[k].neg(),
                    xh: self.h[k].neg(),
                    ys: self.slack(p, k)?.neg(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Params { layers })
    }

    /// The lifted point of a network: `H_k = relu(P_k)` and the pre-activations of its forward pass
    /// (`Y` for a linear output).
    pub fn from_model(m: &Mlp, p: &ScrProblem) -> Result<Self> {
        if m.arch.widths != p.widths {
            return Err(Error::Shape(format!(
                "model architecture {} does not match the problem's {}",
                m.arch.spec(),
                p.architecture().spec()
            )));
        }
        let layers = m.forward_layers(&p.x)?;
        let n_hidden = p.n_hidden_layers();
        let h = (0..n_hidden).map(|k| layers[k].1.clone()).collect();
        let z = (0..n_hidden)
            .map(|k| {
                if k + 1 == n_hidden && p.output == Activation::Linear {
                    p.y.clone()
                } else {
                    layers[k + 1].0.clone()
                }
            })
            .collect();
        Ok(Self {
            weights: m.weights.clone(),
            biases: m.biases.clone(),
            h,
            z,
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

/// The product matrix `M_k` of hidden layer k at an iterate.
pub fn product_matrix(it: &Iterate, params: &Params, k: usize) -> Result<Matrix> {
    let lp = &params.layers[k];
    rank_matrix(
        &it.weights[k + 1],
        &it.h[k],
        &it.product_rhs(k)?,
        &lp.xw,
        &lp.yh,
    )
}

/// The exact value of the objective at an iterate: `Σ_k λ_k‖M_k‖_* + μ_k Σ ‖m‖_*`, computed with an
/// SVD and the 2×2 closed form (independently of any solver's reformulation). `lambda` and `mu`
/// hold one weight per hidden layer.
pub fn objective_at(
    it: &Iterate,
    p: &ScrProblem,
    params: &Params,
    lambda: &[f64],
    mu: &[f64],
) -> Result<f64> {
    let mut total = 0.0;
    for k in 0..p.n_hidden_layers() {
        let lp = &params.layers[k];
        let s = it.slack(p, k)?;
        let mut comp = 0.0;
        for e in 0..s.as_slice().len() {
            let (h, s) = (it.h[k].as_slice()[e], s.as_slice()[e]);
            let (x, y) = (lp.xh.as_slice()[e], lp.ys.as_slice()[e]);
            comp += nuclear_norm_2x2(x * y + h * y + x * s, h + x, s + y, 1.0);
        }
        total += lambda[k] * product_matrix(it, params, k)?.nuclear_norm()? + mu[k] * comp;
    }
    Ok(total)
}

/// Index map of the decision variables in a solver's vector: first every weight (`W_l`
/// column-major, then `b_l`, layer by layer), then sample by sample the variables that belong to
/// one sample — `H_k[:, j]` for every k, the free hidden `Z_k[:, j]`, the free output entries — so
/// that `sample_range(j)` is contiguous.
#[derive(Clone, Debug)]
pub struct Layout {
    pub widths: Vec<usize>,
    pub n: usize,
    /// Offsets of `W_l` and `b_l`.
    w_off: Vec<usize>,
    b_off: Vec<usize>,
    /// Number of weights (the leading block of the vector).
    pub n_weights: usize,
    /// Offsets within a sample's block of `H_k[:, j]` and (k ≥ 1) `Z_k[:, j]`.
    h_loc: Vec<usize>,
    z_loc: Vec<usize>,
    /// Start of each sample's block; length N + 1.
    sample_off: Vec<usize>,
    /// Per output entry (i, j) (column-major): its slot within sample j's block, `None` where it is
    /// the constant `Y[i, j]`.
    out_slot: Vec<Option<usize>>,
    /// Total number of variables.
    pub n_core: usize,
}

impl Layout {
    pub fn new(p: &ScrProblem) -> Self {
        let widths = p.widths.clone();
        let n_layers = widths.len() - 1;
        let n_hidden = n_layers - 1;
        let n = p.n_samples();
        let (mut w_off, mut b_off) = (Vec::new(), Vec::new());
        let mut next = 0;
        for l in 0..n_layers {
            w_off.push(next);
            next += widths[l + 1] * widths[l];
            b_off.push(next);
            next += widths[l + 1];
        }
        let n_weights = next;
        let (mut h_loc, mut z_loc) = (Vec::new(), Vec::new());
        let mut fixed = 0;
        for k in 0..n_hidden {
            h_loc.push(fixed);
            fixed += widths[k + 1];
        }
        for k in 0..n_hidden {
            z_loc.push(fixed);
            if k >= 1 {
                fixed += widths[k + 1];
            }
        }
        let n_y = p.n_outputs();
        let mut sample_off = Vec::with_capacity(n + 1);
        let mut out_slot = Vec::with_capacity(n_y * n);
        for j in 0..n {
            sample_off.push(next);
            let mut slot = fixed;
            for i in 0..n_y {
                if p.output == Activation::Relu && p.y.get(i, j) == 0.0 {
                    out_slot.push(Some(slot));
                    slot += 1;
                } else {
                    out_slot.push(None);
                }
            }
            next += slot;
        }
        sample_off.push(next);
        Self {
            widths,
            n,
            w_off,
            b_off,
            n_weights,
            h_loc,
            z_loc,
            sample_off,
            out_slot,
            n_core: next,
        }
    }

    pub fn n_hidden_layers(&self) -> usize {
        self.widths.len() - 2
    }

    /// `W_l[i, c]`.
    pub fn w(&self, l: usize, i: usize, c: usize) -> usize {
        self.w_off[l] + i + c * self.widths[l + 1]
    }
    /// `b_l[i]`.
    pub fn b(&self, l: usize, i: usize) -> usize {
        self.b_off[l] + i
    }
    /// `H_k[i, j]`.
    pub fn h(&self, k: usize, i: usize, j: usize) -> usize {
        self.sample_off[j] + self.h_loc[k] + i
    }
    /// The variables of sample j.
    pub fn sample_range(&self, j: usize) -> std::ops::Range<usize> {
        self.sample_off[j]..self.sample_off[j + 1]
    }

    /// Indices of the output entries that are variables (each must be ≤ 0).
    pub fn output_vars(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).flat_map(|j| self.output_vars_of(j))
    }

    /// The output entries of sample j that are variables.
    pub fn output_vars_of(&self, j: usize) -> impl Iterator<Item = usize> + '_ {
        let n_y = *self.widths.last().expect("validated widths");
        self.out_slot[j * n_y..(j + 1) * n_y]
            .iter()
            .filter_map(move |s| s.map(|s| self.sample_off[j] + s))
    }

    /// `z[k][i, j]` (see [`Iterate::z`]) as an affine expression.
    pub fn z_expr(&self, p: &ScrProblem, k: usize, i: usize, j: usize) -> Affine {
        if k + 1 < self.n_hidden_layers() {
            return Affine::var(self.sample_off[j] + self.z_loc[k + 1] + i, 1.0);
        }
        let n_y = p.n_outputs();
        match self.out_slot[i + j * n_y] {
            Some(s) => Affine::var(self.sample_off[j] + s, 1.0),
            None => Affine::constant(p.y.get(i, j)),
        }
    }

    /// The pre-activation `P_k[i, j]` of hidden layer k.
    pub fn pre_expr(&self, p: &ScrProblem, k: usize, i: usize, j: usize) -> Affine {
        if k >= 1 {
            return self.z_expr(p, k - 1, i, j);
        }
        let mut e = Affine::var(self.b(0, i), 1.0);
        for c in 0..self.widths[0] {
            e.add_var(self.w(0, i, c), p.x.get(c, j));
        }
        e
    }

    /// `S_k[i, j] = H_k[i, j] − P_k[i, j]`.
    pub fn slack_expr(&self, p: &ScrProblem, k: usize, i: usize, j: usize) -> Affine {
        let mut e = Affine::var(self.h(k, i, j), 1.0);
        e.add_scaled(&self.pre_expr(p, k, i, j), -1.0);
        e
    }

    /// Column `j` of `M_k` (`j < N`: data columns, `N ≤ j < N + n_{k+1}`: the `[W_{k+1} + X_k; I]`
    /// columns), `n_{k+2} + n_{k+1}` entries.
    pub fn product_column(
        &self,
        p: &ScrProblem,
        params: &Params,
        k: usize,
        j: usize,
    ) -> Vec<Affine> {
        let lp = &params.layers[k];
        let (n_in, n_out) = (self.widths[k + 1], self.widths[k + 2]);
        let mut col = Vec::with_capacity(n_in + n_out);
        if j < self.n {
            for i in 0..n_out {
                // C + X Y + W Y + X H, with C = z[k] − B_{k+1}
                let mut e = self.z_expr(p, k, i, j);
                e.add_var(self.b(k + 1, i), -1.0);
                for l in 0..n_in {
                    let (xw, yh) = (lp.xw.get(i, l), lp.yh.get(l, j));
                    e.constant += xw * yh;
                    e.add_var(self.w(k + 1, i, l), yh);
                    e.add_var(self.h(k, l, j), xw);
                }
                col.push(e);
            }
            for l in 0..n_in {
                let mut e = Affine::var(self.h(k, l, j), 1.0);
                e.constant += lp.yh.get(l, j);
                col.push(e);
            }
        } else {
            let l0 = j - self.n;
            for i in 0..n_out {
                let mut e = Affine::var(self.w(k + 1, i, l0), 1.0);
                e.constant += lp.xw.get(i, l0);
                col.push(e);
            }
            for l in 0..n_in {
                col.push(Affine::constant(if l == l0 { 1.0 } else { 0.0 }));
            }
        }
        col
    }

    /// The entries `(a, b, c)` of the complementarity block `m = [[a, b], [c, 1]]` of `H_k[i, j]`.
    pub fn complementarity_block(
        &self,
        p: &ScrProblem,
        params: &Params,
        k: usize,
        i: usize,
        j: usize,
    ) -> [Affine; 3] {
        let lp = &params.layers[k];
        let h = Affine::var(self.h(k, i, j), 1.0);
        let s = self.slack_expr(p, k, i, j);
        let (x, y) = (lp.xh.get(i, j), lp.ys.get(i, j));
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

    /// Writes an iterate into a vector (the inverse of [`Layout::unpack`] on the variables; the
    /// fixed output entries are data and are not stored).
    pub fn pack(&self, p: &ScrProblem, it: &Iterate) -> Vec<f64> {
        let mut v = vec![0.0; self.n_core];
        for (l, (w, b)) in it.weights.iter().zip(&it.biases).enumerate() {
            for c in 0..w.cols() {
                for i in 0..w.rows() {
                    v[self.w(l, i, c)] = w.get(i, c);
                }
            }
            for (i, &bi) in b.iter().enumerate() {
                v[self.b(l, i)] = bi;
            }
        }
        for k in 0..self.n_hidden_layers() {
            for j in 0..self.n {
                for i in 0..self.widths[k + 1] {
                    v[self.h(k, i, j)] = it.h[k].get(i, j);
                }
                for i in 0..self.widths[k + 2] {
                    if let [(var, _)] = self.z_expr(p, k, i, j).terms[..] {
                        v[var] = it.z[k].get(i, j);
                    }
                }
            }
        }
        v
    }

    /// Reads a solver's vector back into an iterate.
    pub fn unpack(&self, p: &ScrProblem, v: &[f64]) -> Iterate {
        let n_layers = self.widths.len() - 1;
        let weights = (0..n_layers)
            .map(|l| {
                Matrix::from_fn(self.widths[l + 1], self.widths[l], |i, c| {
                    v[self.w(l, i, c)]
                })
            })
            .collect();
        let biases = (0..n_layers)
            .map(|l| (0..self.widths[l + 1]).map(|i| v[self.b(l, i)]).collect())
            .collect();
        let h = (0..self.n_hidden_layers())
            .map(|k| Matrix::from_fn(self.widths[k + 1], self.n, |i, j| v[self.h(k, i, j)]))
            .collect();
        let z = (0..self.n_hidden_layers())
            .map(|k| {
                Matrix::from_fn(self.widths[k + 2], self.n, |i, j| {
                    self.z_expr(p, k, i, j).eval(v)
                })
            })
            .collect();
        Iterate {
            weights,
            biases,
            h,
            z,
        }
    }
}
