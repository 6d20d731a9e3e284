//! The training objective of an [`Mlp`] (squared loss or cross-entropy, with or without weight
//! decay) as a function of its flattened parameters, with a hand-written
//! backward pass (dense GEMMs through `faer`, one thread, no allocation per evaluation).

use crate::error::{Error, Result};
use crate::linalg::threads::{block_bounds, par_map, split_at_bounds};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
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

    fn w_range(&self, l: usize) -> std::ops::Range<usize> {
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

/// Samples per block of a pass: a batch is cut into blocks of this many samples, each block's
/// forward and backward pass is computed whole by one thread, and the blocks' gradients are
/// summed in block order — so the result depends on the block size, never on the thread count.
/// A batch of at most this many samples is one block (the single-threaded pass of before).
/// Measured on one thread, Adam on 784-512-512-10 with N = 12 000 (4 passes, two runs each):
/// blocks of 256 took 6.0–6.3 s, 512 5.5–5.6 s, 1 024 and 2 048 5.5–5.7 s, one block of 12 000
/// 5.6–5.8 s; on 784-128-10 (N = 10 000, L-BFGS) 512 was 3 % faster than one block.
pub const SAMPLE_BLOCK: usize = 512;

/// Below this many multiply-adds per pass (samples × parameters) one thread does it all:
/// spawning threads costs more than it saves.
pub const PARALLEL_WORK: usize = 1 << 22;

/// Buffers of one forward/backward pass over at most `cap` samples, and the threads it may use.
#[derive(Clone, Debug)]
pub struct Workspace {
    cap: usize,
    /// Pre-activations and activations of every layer (`n_{l+1} × cap`, column-major).
    z: Vec<Vec<f64>>,
    a: Vec<Vec<f64>>,
    /// Back-propagated errors of the current and the previous layer.
    delta: Vec<f64>,
    delta_prev: Vec<f64>,
    /// Each block's gradient (beyond the first, which goes straight into the caller's), made on
    /// the first pass that needs them.
    block_grads: Vec<Vec<f64>>,
    threads: usize,
}

impl Workspace {
    /// Buffers for `cap` samples, one thread.
    pub fn new(arch: &Architecture, cap: usize) -> Self {
        let widths = &arch.widths;
        let z: Vec<Vec<f64>> = widths[1..].iter().map(|&w| vec![0.0; w * cap]).collect();
        let max_w = widths[1..].iter().copied().max().unwrap_or(0);
        Self {
            cap,
            a: z.clone(),
            z,
            delta: vec![0.0; max_w * cap],
            delta_prev: vec![0.0; max_w * cap],
            block_grads: Vec::new(),
            threads: 1,
        }
    }

    /// The same buffers, passes on up to `threads` threads (the result does not change).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }
}

fn mat(s: &[f64], rows: usize, cols: usize) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(&s[..rows * cols], rows, cols)
}

fn mat_mut(s: &mut [f64], rows: usize, cols: usize) -> MatMut<'_, f64> {
    MatMut::from_column_major_slice_mut(&mut s[..rows * cols], rows, cols)
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

    /// The weight-decay objective with this β (0: the data term alone).
    /// Passes on up to `threads` threads ([`eval_batch`]); the result does not change.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The threads of its passes.
    pub fn threads(&self) -> usize {
        self.threads
    }

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
        Workspace::new(&self.layout.arch, self.n_samples()).with_threads(self.threads)
    }

    /// `L(θ)` on all samples, and its gradient into `grad` if given.
    pub fn eval(&self, theta: &[f64], grad: Option<&mut [f64]>, ws: &mut Workspace) -> f64 {
        let n = self.n_samples();
        let mut grad = grad;
        let batch = Batch {
            xs: self.x.as_slice(),
            ys: self.y.as_slice(),
            weights: self.weights,
            n,
        };
        let data = eval_batch(
            &self.layout,
            self.loss,
            theta,
            &batch,
            grad.as_deref_mut(),
            ws,
        );
        self.last_data.set(data);
        self.regularize(theta, data, grad)
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

/// `n` samples: inputs `xs` (`n_0 × n`, column-major), targets `ys` (`n_y × n`; for the
/// cross-entropy, 0/1 indicators) and their weights (`None`: 1 each).
pub struct Batch<'b> {
    pub xs: &'b [f64],
    pub ys: &'b [f64],
    pub weights: Option<&'b [f64]>,
    pub n: usize,
}

/// The data term `loss` on `batch` — its mean over the samples, or with weights
/// `Σ w_i ℓ_i / Σ w_i` — and its gradient: blocks of [`SAMPLE_BLOCK`] samples, on the
/// workspace's threads where the pass is large enough, summed in block order.
pub fn eval_batch(
    layout: &ParamLayout,
    loss: DataLoss,
    theta: &[f64],
    batch: &Batch,
    grad: Option<&mut [f64]>,
    ws: &mut Workspace,
) -> f64 {
    let Batch { xs, ys, weights, n } = *batch;
    assert!(n <= ws.cap, "workspace too small");
    let widths = &layout.arch.widths;
    let layers = layout.n_layers();
    let (n_in, ny) = (widths[0], widths[layers]);
    let total = weights.map_or(n as f64, |w| w[..n].iter().sum());
    let bounds = block_bounds(n, SAMPLE_BLOCK);
    let blocks = bounds.len() - 1;
    let max_w = widths[1..].iter().copied().max().unwrap_or(0);
    let mut grad = grad;
    let want = grad.is_some();
    // one block writes its gradient into the caller's; several, each into its own
    if want && blocks > 1 && ws.block_grads.len() < blocks {
        ws.block_grads
            .resize_with(blocks, || vec![0.0; layout.len()]);
    }
    // each block's columns of every buffer, and its gradient (the first: the caller's)
    let mut z_parts: Vec<Vec<&mut [f64]>> = (0..blocks).map(|_| Vec::new()).collect();
    let mut a_parts: Vec<Vec<&mut [f64]>> = (0..blocks).map(|_| Vec::new()).collect();
    for ((l, zl), al) in ws.z.iter_mut().enumerate().zip(ws.a.iter_mut()) {
        let w = widths[l + 1];
        let scaled: Vec<usize> = bounds.iter().map(|b| b * w).collect();
        for (k, part) in split_at_bounds(&mut zl[..w * n], &scaled)
            .into_iter()
            .enumerate()
        {
            z_parts[k].push(part);
        }
        for (k, part) in split_at_bounds(&mut al[..w * n], &scaled)
            .into_iter()
            .enumerate()
        {
            a_parts[k].push(part);
        }
    }
    let scaled: Vec<usize> = bounds.iter().map(|b| b * max_w).collect();
    let deltas = split_at_bounds(&mut ws.delta[..max_w * n], &scaled);
    let prevs = split_at_bounds(&mut ws.delta_prev[..max_w * n], &scaled);
    let grads: Vec<Option<&mut [f64]>> = if !want {
        (0..blocks).map(|_| None).collect()
    } else if blocks == 1 {
        vec![grad.as_deref_mut()]
    } else {
        ws.block_grads
            .iter_mut()
            .take(blocks)
            .map(|g| Some(g.as_mut_slice()))
            .collect()
    };
    let items: Vec<_> = (0..blocks)
        .zip(z_parts)
        .zip(a_parts)
        .zip(deltas.into_iter().zip(prevs))
        .zip(grads)
        .map(|((((k, z), a), delta), grad)| (k, z, a, delta, grad))
        .collect();
    let threads = if n * layout.len() >= PARALLEL_WORK {
        ws.threads
    } else {
        1
    };
    let values = par_map(items, threads, |(k, mut z, mut a, (delta, prev), grad)| {
        let (lo, hi) = (bounds[k], bounds[k + 1]);
        let block = Batch {
            xs: &xs[lo * n_in..hi * n_in],
            ys: &ys[lo * ny..hi * ny],
            weights: weights.map(|w| &w[lo..hi]),
            n: hi - lo,
        };
        let mut buffers = Block {
            z: &mut z,
            a: &mut a,
            delta,
            delta_prev: prev,
        };
        eval_block(layout, loss, theta, &block, total, grad, &mut buffers)
    });
    // the blocks' gradients summed in block order
    if let (Some(grad), true) = (grad, blocks > 1) {
        grad.copy_from_slice(&ws.block_grads[0]);
        for g in &ws.block_grads[1..blocks] {
            grad.iter_mut().zip(g).for_each(|(a, b)| *a += b);
        }
    }
    values.into_iter().sum()
}

/// One block's columns of a [`Workspace`]'s buffers.
struct Block<'w, 'p> {
    z: &'p mut [&'w mut [f64]],
    a: &'p mut [&'w mut [f64]],
    delta: &'w mut [f64],
    delta_prev: &'w mut [f64],
}

/// The data term of one block of samples, its sum divided by the whole batch's `total` weight,
/// and its share of the gradient into `grad`.
fn eval_block(
    layout: &ParamLayout,
    loss: DataLoss,
    theta: &[f64],
    batch: &Batch,
    total: f64,
    grad: Option<&mut [f64]>,
    ws: &mut Block,
) -> f64 {
    let Batch { xs, ys, weights, n } = *batch;
    let widths = &layout.arch.widths;
    let layers = layout.n_layers();
    // forward
    for l in 0..layers {
        let (rows, inner) = (widths[l + 1], widths[l]);
        let input: &[f64] = if l == 0 { xs } else { &*ws.a[l - 1] };
        let z = &mut *ws.z[l];
        let bias = &theta[layout.b_range(l)];
        for col in z[..rows * n].chunks_exact_mut(rows) {
            col.copy_from_slice(bias);
        }
        matmul(
            mat_mut(z, rows, n),
            Accum::Add,
            mat(&theta[layout.w_range(l)], rows, inner),
            mat(input, inner, n),
            1.0,
            Par::Seq,
        );
        let act = if l + 1 == layers {
            layout.arch.output
        } else {
            Activation::Relu
        };
        let (a, z) = (&mut *ws.a[l], &*ws.z[l]);
        for (ai, &zi) in a[..rows * n].iter_mut().zip(&z[..rows * n]) {
            *ai = act.apply(zi);
        }
    }
    let ny = widths[layers];
    let out = &ws.a[layers - 1][..ny * n];
    let ys = &ys[..ny * n];
    let weight = |j: usize| weights.map_or(1.0, |w| w[j]);
    // the data term, and δ_L = ∂(data term)/∂Z_L into ws.delta when a gradient is asked for
    let want = grad.is_some();
    let value = match loss {
        DataLoss::Squared => {
            let scale = 1.0 / (ny as f64 * total);
            let mut sse = 0.0;
            for (j, (f, y)) in out.chunks_exact(ny).zip(ys.chunks_exact(ny)).enumerate() {
                let s: f64 = f.iter().zip(y).map(|(f, y)| (f - y) * (f - y)).sum();
                sse += weight(j) * s;
            }
            if want {
                // δ_L = 2 w (F − Y)/(n_y Σw) ⊙ act'(Z_L)
                // one sample's outputs at a time: its weight is read once, not per output
                let z = &ws.z[layers - 1][..ny * n];
                let relu = layout.arch.output == Activation::Relu;
                for (j, (((d, f), y), z)) in ws.delta[..ny * n]
                    .chunks_exact_mut(ny)
                    .zip(out.chunks_exact(ny))
                    .zip(ys.chunks_exact(ny))
                    .zip(z.chunks_exact(ny))
                    .enumerate()
                {
                    let c = 2.0 * scale * weight(j);
                    for (((d, f), y), z) in d.iter_mut().zip(f).zip(y).zip(z) {
                        let deriv = if relu {
                            f64::from(u8::from(*z > 0.0))
                        } else {
                            1.0
                        };
                        *d = c * (f - y) * deriv;
                    }
                }
            }
            sse * scale
        }
        DataLoss::CrossEntropy => {
            // the output is linear (checked by the evaluator): F are the logits;
            // δ_L = w (P − T)/Σw
            let inv = 1.0 / total;
            let delta = &mut ws.delta[..ny * n];
            let mut sum = 0.0;
            if ny == 1 {
                for (j, ((d, &f), &t)) in delta.iter_mut().zip(out).zip(ys).enumerate() {
                    // −t log σ(f) − (1 − t) log(1 − σ(f)) = softplus(f) − t f
                    let w = weight(j);
                    sum += w * (f.max(0.0) + (-f.abs()).exp().ln_1p() - t * f);
                    *d = w * (crate::net::sigmoid(f) - t) * inv;
                }
            } else {
                for (j, ((d, f), t)) in delta
                    .chunks_exact_mut(ny)
                    .zip(out.chunks_exact(ny))
                    .zip(ys.chunks_exact(ny))
                    .enumerate()
                {
                    // −Σ t_k log softmax(f)_k = log Σ e^{f_k} − Σ t_k f_k (Σ t_k = 1)
                    let w = weight(j);
                    d.copy_from_slice(f);
                    let lse = crate::net::softmax(d);
                    sum += w * (lse - t.iter().zip(f).map(|(t, f)| t * f).sum::<f64>());
                    for (d, t) in d.iter_mut().zip(t) {
                        *d = w * (*d - t) * inv;
                    }
                }
            }
            sum * inv
        }
    };
    let Some(grad) = grad else {
        return value;
    };
    for l in (0..layers).rev() {
        let (rows, inner) = (widths[l + 1], widths[l]);
        let input: &[f64] = if l == 0 { xs } else { &*ws.a[l - 1] };
        // ∂W_l = δ_l A_{l−1}ᵀ, ∂b_l = δ_l 1
        matmul(
            mat_mut(&mut grad[layout.w_range(l)], rows, inner),
            Accum::Replace,
            mat(ws.delta, rows, n),
            mat(input, inner, n).transpose(),
            1.0,
            Par::Seq,
        );
        let gb = &mut grad[layout.b_range(l)];
        gb.iter_mut().for_each(|g| *g = 0.0);
        for col in ws.delta[..rows * n].chunks_exact(rows) {
            for (g, d) in gb.iter_mut().zip(col) {
                *g += d;
            }
        }
        if l == 0 {
            break;
        }
        // δ_{l−1} = (W_lᵀ δ_l) ⊙ 1[Z_{l−1} > 0]
        matmul(
            mat_mut(ws.delta_prev, inner, n),
            Accum::Replace,
            mat(&theta[layout.w_range(l)], rows, inner).transpose(),
            mat(ws.delta, rows, n),
            1.0,
            Par::Seq,
        );
        for (d, &z) in ws.delta_prev[..inner * n]
            .iter_mut()
            .zip(ws.z[l - 1].iter())
        {
            if z <= 0.0 {
                *d = 0.0;
            }
        }
        std::mem::swap(&mut ws.delta, &mut ws.delta_prev);
    }
    value
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
