//! The training objective of an [`Mlp`] (squared loss or cross-entropy, with or without weight
//! decay) as a function of its flattened parameters, and its gradient: the [`Evaluator`], whose
//! passes over the samples ([`super::pass`]) run in float64 or float32.

use super::pass::{self, Batch, Buffers};
use crate::error::{Error, Result};
use crate::linalg::{Float, Matrix, Precision};
use crate::net::{Activation, Architecture, Mlp};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Where each layer's weights (column-major, `n_{l+1} × n_l`) and biases sit in the flat
/// parameter vector: `W_1, b_1, W_2, b_2, …` — the same order as the SCR layout's weights.
#[derive(Clone, Debug)]
pub struct ParamLayout {
    pub arch: Architecture,
    w_off: Vec<usize>,
    b_off: Vec<usize>,
    len: usize,
}

impl ParamLayout {
    pub fn new(arch: &Architecture) -> Self {
        let (mut w_off, mut b_off) = (Vec::new(), Vec::new());
        let mut next = 0;
        for w in arch.widths.windows(2) {
            w_off.push(next);
            next += w[0] * w[1];
            b_off.push(next);
            next += w[1];
        }
        Self {
            arch: arch.clone(),
            w_off,
            b_off,
            len: next,
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn n_layers(&self) -> usize {
        self.w_off.len()
    }

    pub(super) fn w_range(&self, l: usize) -> std::ops::Range<usize> {
        self.w_off[l]..self.b_off[l]
    }

    pub fn b_range(&self, l: usize) -> std::ops::Range<usize> {
        self.b_off[l]..self.b_off[l] + self.arch.widths[l + 1]
    }

    /// The parameters of `m` as one vector.
    pub fn pack(&self, m: &Mlp) -> Result<Vec<f64>> {
        if m.arch.widths != self.arch.widths {
            return Err(Error::Shape(format!(
                "model {} does not have architecture {}",
                m.arch.spec(),
                self.arch.spec()
            )));
        }
        let mut theta = vec![0.0; self.len];
        for l in 0..self.n_layers() {
            theta[self.w_range(l)].copy_from_slice(m.weights[l].as_slice());
            theta[self.b_range(l)].copy_from_slice(&m.biases[l]);
        }
        Ok(theta)
    }

    /// The model with parameters `theta` (validated: finite).
    pub fn unpack(&self, theta: &[f64]) -> Result<Mlp> {
        if theta.len() != self.len {
            return Err(Error::Shape(format!(
                "{} parameters given, the architecture {} has {}",
                theta.len(),
                self.arch.spec(),
                self.len
            )));
        }
        let widths = &self.arch.widths;
        let mut weights = Vec::with_capacity(self.n_layers());
        let mut biases = Vec::with_capacity(self.n_layers());
        for l in 0..self.n_layers() {
            weights.push(Matrix::from_col_major(
                widths[l + 1],
                widths[l],
                theta[self.w_range(l)].to_vec(),
            )?);
            biases.push(theta[self.b_range(l)].to_vec());
        }
        Mlp::new(self.arch.clone(), weights, biases)
    }
}

/// Buffers of the passes over at most `cap` samples in the evaluator's precision, the
/// gathered mini-batch, and the threads the passes may use (the result does not change).
#[derive(Clone, Debug)]
pub struct Workspace {
    passes: Passes,
    threads: usize,
}

#[derive(Clone, Debug)]
enum Passes {
    F64(Buffers<f64>, Gathered<f64>),
    F32(Buffers<f32>, Gathered<f32>),
}

/// A mini-batch's samples, copied out of the data set.
#[derive(Clone, Debug, Default)]
struct Gathered<T> {
    x: Vec<T>,
    y: Vec<T>,
    weights: Vec<f64>,
}

impl<T: Copy> Gathered<T> {
    /// The samples `idx` of `(xs, ys, weights)`, columns of `nx` inputs and `ny` targets.
    fn gather(
        &mut self,
        idx: &[usize],
        (nx, ny): (usize, usize),
        (xs, ys): (&[T], &[T]),
        weights: Option<&[f64]>,
    ) -> Batch<'_, T> {
        self.x.clear();
        self.y.clear();
        self.weights.clear();
        for &j in idx {
            self.x.extend_from_slice(&xs[j * nx..(j + 1) * nx]);
            self.y.extend_from_slice(&ys[j * ny..(j + 1) * ny]);
            if let Some(w) = weights {
                self.weights.push(w[j]);
            }
        }
        Batch {
            xs: &self.x,
            ys: &self.y,
            weights: weights.map(|_| self.weights.as_slice()),
            n: idx.len(),
        }
    }
}

/// The data term a network is trained on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataLoss {
    /// The mean squared error `‖f(X) − Y‖_F² / (n_y N)`.
    #[default]
    #[serde(rename = "squared")]
    Squared,
    /// The mean cross-entropy of class probabilities, `−(1/N) Σ_i Σ_k t_ik log p_k(x_i)`: one
    /// output is the positive class's logit (`p = σ(f)`, the logistic loss), several outputs the
    /// classes' logits (`p = softmax(f)`). Targets are class labels, 0/1 or −1/1 (`t = 1` where
    /// the target is 1); with several outputs each sample has exactly one 1.
    #[serde(rename = "cross-entropy")]
    CrossEntropy,
}

impl DataLoss {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("squared", "Gradient methods: ‖f(X) − Y‖²/(n_y N)"),
        (
            "cross-entropy",
            "Gradient methods: −(1/N) Σ log p_class(x), one output logistic, several softmax; \
             labels 0/1 or ±1",
        ),
    ];

    pub fn name(self) -> &'static str {
        match self {
            DataLoss::Squared => "squared",
            DataLoss::CrossEntropy => "cross-entropy",
        }
    }

    /// The targets as this loss reads them: the squared loss as given; the cross-entropy's
    /// class labels as 0/1 indicators, checked (labels 0/1 or ±1, one class per sample).
    fn targets<'y>(self, y: &'y Matrix) -> Result<Cow<'y, Matrix>> {
        if self == DataLoss::Squared {
            return Ok(Cow::Borrowed(y));
        }
        crate::net::class_indicators(y)
            .map(Cow::Owned)
            .map_err(|e| Error::setting("gradient.loss", format!("cross-entropy: {e}")))
    }
}

/// The training objective of a network on a data set as a function of its parameters, and its
/// gradient.
///
/// Without weight decay it is the data term: the MSE `‖f_θ(X) − Y‖_F² / (n_y N)` or the mean
/// cross-entropy. With weight decay β > 0:
/// - squared loss: `‖f_θ(X) − Y‖_F² / (2N) + (β/2) Σ (weights² and hidden biases²)`
///   (docs/convex.md §1, the convex reformulation's objective); the output bias is held where it
///   starts (its gradient is zero);
/// - cross-entropy: `CE + (β/2) Σ weights²`, every bias free and unpenalised — scikit-learn's
///   `MLPClassifier` objective with `β = alpha / N`.
pub struct Evaluator<'a> {
    pub layout: ParamLayout,
    pub loss: DataLoss,
    x: &'a Matrix,
    /// The targets as the loss reads them (0/1 indicators for the cross-entropy).
    y: Cow<'a, Matrix>,
    /// Per-sample weights of the data term (`None`: 1 each).
    weights: Option<&'a [f64]>,
    /// ‖Y‖_F (weighted: `√(N Σ w_i‖y_i‖² / Σ w_i)`), for the relative output error.
    y_norm: f64,
    weight_decay: f64,
    /// The data term of the last full-data evaluation (the output error with weight decay needs
    /// it).
    last_data: std::cell::Cell<f64>,
    /// Threads of each pass (its workspaces'); the result does not depend on them.
    threads: usize,
    /// The precision of the passes, and in float32 the inputs and targets rounded to it.
    precision: Precision,
    single: Option<(Vec<f32>, Vec<f32>)>,
}

impl<'a> Evaluator<'a> {
    /// The MSE; checks that the data fit the architecture.
    pub fn new(arch: &Architecture, x: &'a Matrix, y: &'a Matrix) -> Result<Self> {
        Self::for_loss(arch, x, y, DataLoss::Squared)
    }

    /// The data term `loss`; checks that the data fit the architecture and the loss (the
    /// cross-entropy takes class labels and a linear output: the logits).
    pub fn for_loss(
        arch: &Architecture,
        x: &'a Matrix,
        y: &'a Matrix,
        loss: DataLoss,
    ) -> Result<Self> {
        arch.check_data(x, y)?;
        if loss == DataLoss::CrossEntropy && arch.output != Activation::Linear {
            return Err(Error::setting(
                "output",
                "the cross-entropy reads the outputs as logits: the output activation must be \
                 linear",
            ));
        }
        let y = loss.targets(y)?;
        Ok(Self {
            layout: ParamLayout::new(arch),
            loss,
            x,
            y_norm: y.frobenius(),
            y,
            weights: None,
            weight_decay: 0.0,
            last_data: std::cell::Cell::new(f64::NAN),
            threads: 1,
            precision: Precision::F64,
            single: None,
        })
    }

    /// The data term weighted by `weights` (one per sample, ≥ 0, a positive sum): `Σ w_i ℓ_i /
    /// Σ w_i` in place of the mean.
    pub fn with_weights(mut self, weights: Option<&'a [f64]>) -> Result<Self> {
        if let Some(w) = weights {
            let n = self.n_samples();
            let total: f64 = w.iter().sum();
            let bad = w.iter().any(|v| !(v.is_finite() && *v >= 0.0));
            if w.len() != n || bad || total <= 0.0 {
                return Err(Error::Shape(format!(
                    "{} sample weights for {n} samples (each finite and ≥ 0, a positive sum)",
                    w.len()
                )));
            }
            let k = self.y.rows();
            let weighted: f64 = (0..n)
                .map(|j| {
                    w[j] * self.y.as_slice()[j * k..(j + 1) * k]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f64>()
                })
                .sum();
            self.y_norm = (n as f64 * weighted / total).sqrt();
        }
        self.weights = weights;
        Ok(self)
    }

    /// The samples' weights, if any.
    pub fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    /// Passes on up to `threads` threads ([`pass::data_term`]); the result does not change.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The threads of its passes.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Passes in `precision`: float32 rounds the inputs and targets once, and the parameters at
    /// each pass; the value and the gradient come back in float64.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        let single = |m: &Matrix| m.as_slice().iter().map(|&v| v as f32).collect();
        self.single = (precision == Precision::F32).then(|| (single(self.x), single(&self.y)));
        self.precision = precision;
        self
    }

    /// The precision of its passes.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The weight-decay objective with this β (0: the data term alone).
    pub fn with_weight_decay(mut self, beta: f64) -> Self {
        self.weight_decay = beta;
        self
    }

    /// The parameters held where they start: the output bias of the squared loss's weight-decay
    /// objective (its networks have none); none otherwise.
    pub fn undecayed(&self) -> std::ops::Range<usize> {
        if self.weight_decay > 0.0 && self.loss == DataLoss::Squared {
            self.layout.b_range(self.layout.n_layers() - 1)
        } else {
            0..0
        }
    }

    /// Whether weight decay penalises parameter `i`: every weight, and with the squared loss the
    /// hidden biases too.
    fn decays(&self, i: usize) -> bool {
        let lay = &self.layout;
        match self.loss {
            DataLoss::Squared => !lay.b_range(lay.n_layers() - 1).contains(&i),
            DataLoss::CrossEntropy => (0..lay.n_layers()).any(|l| lay.w_range(l).contains(&i)),
        }
    }

    /// Turns the data term `data` at `theta` (and its gradient) into the training objective.
    pub fn regularize(&self, theta: &[f64], data: f64, grad: Option<&mut [f64]>) -> f64 {
        let beta = self.weight_decay;
        if beta == 0.0 {
            return data;
        }
        // the squared loss's objective weighs the SSE by 1/(2N), the MSE by 1/(n_y N)
        let scale = match self.loss {
            DataLoss::Squared => 0.5 * self.y.rows() as f64,
            DataLoss::CrossEntropy => 1.0,
        };
        let held = self.undecayed();
        let squares: f64 = theta
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.decays(i))
            .map(|(_, v)| v * v)
            .sum();
        if let Some(g) = grad {
            for (i, (gi, &t)) in g.iter_mut().zip(theta).enumerate() {
                *gi = if held.contains(&i) {
                    0.0
                } else if self.decays(i) {
                    scale * *gi + beta * t
                } else {
                    scale * *gi
                };
            }
        }
        scale * data + 0.5 * beta * squares
    }

    pub fn n_samples(&self) -> usize {
        self.x.cols()
    }

    pub fn x(&self) -> &Matrix {
        self.x
    }

    /// The targets as the loss reads them.
    pub fn y(&self) -> &Matrix {
        &self.y
    }

    /// A workspace for the whole data set.
    pub fn workspace(&self) -> Workspace {
        self.workspace_for(self.n_samples())
    }

    /// A workspace for passes over up to `cap` samples (mini-batches of that size).
    pub fn workspace_for(&self, cap: usize) -> Workspace {
        let arch = &self.layout.arch;
        let passes = match self.precision {
            Precision::F64 => Passes::F64(Buffers::new(arch, cap), Gathered::default()),
            Precision::F32 => Passes::F32(Buffers::new(arch, cap), Gathered::default()),
        };
        Workspace {
            passes,
            threads: self.threads,
        }
    }

    /// `L(θ)` on all samples, and its gradient into `grad` if given.
    pub fn eval(&self, theta: &[f64], grad: Option<&mut [f64]>, ws: &mut Workspace) -> f64 {
        let mut grad = grad;
        let data = self.data_term(theta, None, grad.as_deref_mut(), ws);
        self.last_data.set(data);
        self.regularize(theta, data, grad)
    }

    /// The objective of a mini-batch, the samples `idx` (their data term, and the whole weight
    /// decay), and its gradient.
    pub fn eval_samples(
        &self,
        theta: &[f64],
        idx: &[usize],
        grad: &mut [f64],
        ws: &mut Workspace,
    ) -> f64 {
        // a batch of zero-weight samples has no loss: its gradient is zero
        if self
            .weights
            .is_some_and(|w| idx.iter().all(|&j| w[j] == 0.0))
        {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return self.regularize(theta, 0.0, Some(grad));
        }
        let data = self.data_term(theta, Some(idx), Some(&mut *grad), ws);
        self.regularize(theta, data, Some(grad))
    }

    /// The data term on the samples `idx` (`None`: all), in the workspace's precision.
    fn data_term(
        &self,
        theta: &[f64],
        idx: Option<&[usize]>,
        grad: Option<&mut [f64]>,
        ws: &mut Workspace,
    ) -> f64 {
        let threads = ws.threads;
        match &mut ws.passes {
            Passes::F64(buffers, gathered) => {
                let data = (self.x.as_slice(), self.y.as_slice());
                self.pass(data, theta, idx, grad, (buffers, gathered), threads)
            }
            Passes::F32(buffers, gathered) => {
                let (x, y) = self
                    .single
                    .as_ref()
                    .expect("a float32 workspace comes from a float32 evaluator");
                let data = (x.as_slice(), y.as_slice());
                self.pass(data, theta, idx, grad, (buffers, gathered), threads)
            }
        }
    }

    fn pass<T: Float>(
        &self,
        (xs, ys): (&[T], &[T]),
        theta: &[f64],
        idx: Option<&[usize]>,
        grad: Option<&mut [f64]>,
        (buffers, gathered): (&mut Buffers<T>, &mut Gathered<T>),
        threads: usize,
    ) -> f64 {
        let batch = match idx {
            Some(idx) => {
                let shape = (self.x.rows(), self.y.rows());
                gathered.gather(idx, shape, (xs, ys), self.weights)
            }
            None => Batch {
                xs,
                ys,
                weights: self.weights,
                n: self.n_samples(),
            },
        };
        pass::data_term(
            &self.layout,
            self.loss,
            theta,
            batch,
            grad,
            buffers,
            threads,
        )
    }

    /// The residuals `r = vec(f(X) − Y)/√(n_y N)` (so that `L = ‖r‖²`) into `r`, and the transposed
    /// Jacobian `∂r/∂θ` (P × n_y N, column-major: column k is the gradient of `r_k`) into `jt`.
    /// Returns `L`. One forward pass, then one backward pass per residual, O(n_y N P).
    pub fn residual_jacobian(
        &self,
        theta: &[f64],
        ws: &mut Workspace,
        jt: &mut [f64],
        r: &mut [f64],
    ) -> f64 {
        debug_assert_eq!(
            self.loss,
            DataLoss::Squared,
            "residuals of the squared loss"
        );
        let lay = &self.layout;
        let widths = &lay.arch.widths;
        let layers = lay.n_layers();
        let (n, ny, np) = (self.n_samples(), self.y.rows(), lay.len());
        let l = self.eval(theta, None, ws);
        let Passes::F64(ws, _) = &ws.passes else {
            unreachable!("Levenberg–Marquardt runs in float64 (GradSettings::validate)")
        };
        let scale = 1.0 / ((ny * n) as f64).sqrt();
        let out = &ws.a[layers - 1];
        for (k, rk) in r.iter_mut().enumerate().take(ny * n) {
            *rk = scale * (out[k] - self.y.as_slice()[k]);
        }
        let max_w = widths.iter().copied().max().unwrap_or(0);
        let (mut delta, mut prev) = (vec![0.0; max_w], vec![0.0; max_w]);
        for j in 0..n {
            for i in 0..ny {
                let k = i + j * ny;
                let col = &mut jt[k * np..(k + 1) * np];
                col.iter_mut().for_each(|v| *v = 0.0);
                delta[..ny].iter_mut().for_each(|v| *v = 0.0);
                let z_out = ws.z[layers - 1][k];
                delta[i] = match lay.arch.output {
                    Activation::Linear => scale,
                    Activation::Relu if z_out > 0.0 => scale,
                    Activation::Relu => 0.0,
                };
                for l in (0..layers).rev() {
                    let (rows, inner) = (widths[l + 1], widths[l]);
                    let input: &[f64] = if l == 0 {
                        self.x.col(j)
                    } else {
                        &ws.a[l - 1][j * inner..(j + 1) * inner]
                    };
                    let wg = &mut col[lay.w_range(l)];
                    for (c, &xc) in input.iter().enumerate() {
                        for (rr, &d) in delta[..rows].iter().enumerate() {
                            wg[rr + c * rows] = d * xc;
                        }
                    }
                    col[lay.b_range(l)].copy_from_slice(&delta[..rows]);
                    if l == 0 {
                        break;
                    }
                    let w = &theta[lay.w_range(l)];
                    let z = &ws.z[l - 1][j * inner..(j + 1) * inner];
                    for c in 0..inner {
                        prev[c] = if z[c] > 0.0 {
                            (0..rows).map(|rr| w[rr + c * rows] * delta[rr]).sum()
                        } else {
                            0.0
                        };
                    }
                    std::mem::swap(&mut delta, &mut prev);
                }
            }
        }
        l
    }

    /// Relative output error `‖f(X) − Y‖_F / ‖Y‖_F` from a loss value (absolute when Y = 0); with
    /// weight decay, from the MSE of the last full-data evaluation. With the cross-entropy, the
    /// mean cross-entropy itself (it is 0 only when every sample gets its class with probability
    /// 1).
    pub fn output_error(&self, loss: f64) -> f64 {
        let loss = if self.weight_decay > 0.0 {
            self.last_data.get()
        } else {
            loss
        };
        if self.loss == DataLoss::CrossEntropy {
            return loss;
        }
        let sse = loss * (self.y.rows() * self.y.cols()) as f64;
        if self.y_norm > 0.0 {
            sse.sqrt() / self.y_norm
        } else {
            sse.sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::planted_teacher;
    use rand::SeedableRng;

    #[test]
    fn pack_unpack_roundtrip() {
        let arch = Architecture::parse("3-4-5-2", Activation::Relu).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let m = Mlp::random_gaussian(&arch, 1.0, &mut rng);
        let lay = ParamLayout::new(&arch);
        assert_eq!(lay.len(), arch.n_parameters());
        let theta = lay.pack(&m).unwrap();
        assert_eq!(lay.unpack(&theta).unwrap(), m);
        assert!(lay.unpack(&theta[1..]).is_err());
    }

    #[test]
    fn loss_matches_the_forward_pass() {
        for out in [Activation::Linear, Activation::Relu] {
            let arch = Architecture::parse("3-5-4-2", out).unwrap();
            let t = planted_teacher(&arch, 40, 2).unwrap();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
            let m = Mlp::random_gaussian(&arch, 0.7, &mut rng);
            let loss = Evaluator::new(&arch, &t.data.x, &t.data.y).unwrap();
            let theta = loss.layout.pack(&m).unwrap();
            let mut ws = loss.workspace();
            let l = loss.eval(&theta, None, &mut ws);
            let mse = m.mse(&t.data.x, &t.data.y).unwrap();
            assert!((l - mse).abs() <= 1e-12 * mse.max(1.0), "{l} vs {mse}");
            let rel = m.relative_error(&t.data.x, &t.data.y).unwrap();
            assert!((loss.output_error(l) - rel).abs() <= 1e-12 * rel.max(1.0));
        }
    }
}
