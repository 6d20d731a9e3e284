//! One forward and backward pass of an [`Mlp`](crate::net::Mlp) over a batch of samples, in
//! float64 or float32 ([`Float`]): the data term and its gradient.
//!
//! A batch is cut into blocks of [`SAMPLE_BLOCK`] samples; each block's pass — three GEMMs per
//! layer through `faer`, the bias, the ReLU and its mask applied in place — is computed whole
//! by one thread, and the blocks' gradients are summed in block order, in float64. The result
//! depends on the block size, never on the thread count. The buffers live in a [`Workspace`]
//! made once per run: a pass allocates only its per-block bookkeeping.

use super::model::{DataLoss, ParamLayout};
use crate::linalg::threads::{block_bounds, par_map, split_at_bounds};
use crate::linalg::Float;
use crate::net::{Activation, Architecture};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

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

/// Buffers of one forward/backward pass over at most `cap` samples in precision `T`.
#[derive(Clone, Debug)]
pub struct Buffers<T> {
    pub(super) cap: usize,
    /// Pre-activations and activations of every layer (`n_{l+1} × cap`, column-major).
    pub(super) z: Vec<Vec<T>>,
    pub(super) a: Vec<Vec<T>>,
    /// Back-propagated errors of the current and the previous layer.
    delta: Vec<T>,
    delta_prev: Vec<T>,
    /// Each block's gradient, made on the first pass that needs them.
    block_grads: Vec<Vec<T>>,
    /// The parameters in precision `T` (float32 only; float64 reads the caller's).
    theta: Vec<T>,
}

impl<T: Float> Buffers<T> {
    pub fn new(arch: &Architecture, cap: usize) -> Self {
        let widths = &arch.widths;
        let z: Vec<Vec<T>> = widths[1..]
            .iter()
            .map(|&w| vec![T::ZERO; w * cap])
            .collect();
        let max_w = widths[1..].iter().copied().max().unwrap_or(0);
        Self {
            cap,
            a: z.clone(),
            z,
            delta: vec![T::ZERO; max_w * cap],
            delta_prev: vec![T::ZERO; max_w * cap],
            block_grads: Vec::new(),
            theta: Vec::new(),
        }
    }
}

/// `n` samples: inputs `xs` (`n_0 × n`, column-major), targets `ys` (`n_y × n`; for the
/// cross-entropy, 0/1 indicators) and their weights (`None`: 1 each).
pub struct Batch<'b, T> {
    pub xs: &'b [T],
    pub ys: &'b [T],
    pub weights: Option<&'b [f64]>,
    pub n: usize,
}

impl<T> Clone for Batch<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Batch<'_, T> {}

/// The data term `loss` on `batch` — its mean over the samples, or with weights
/// `Σ w_i ℓ_i / Σ w_i` — and its gradient (float64, whatever `T`): blocks of [`SAMPLE_BLOCK`]
/// samples, on up to `threads` threads where the pass is large enough, summed in block order.
pub fn data_term<T: Float>(
    layout: &ParamLayout,
    loss: DataLoss,
    theta: &[f64],
    batch: Batch<T>,
    grad: Option<&mut [f64]>,
    ws: &mut Buffers<T>,
    threads: usize,
) -> f64 {
    let Batch { xs, ys, weights, n } = batch;
    assert!(n <= ws.cap, "workspace too small");
    let widths = &layout.arch.widths;
    let layers = layout.n_layers();
    let (n_in, ny) = (widths[0], widths[layers]);
    let total = weights.map_or(n as f64, |w| w[..n].iter().sum());
    let bounds = block_bounds(n, SAMPLE_BLOCK);
    let blocks = bounds.len() - 1;
    let max_w = widths[1..].iter().copied().max().unwrap_or(0);
    let want = grad.is_some();
    if want && ws.block_grads.len() < blocks {
        ws.block_grads
            .resize_with(blocks, || vec![T::ZERO; layout.len()]);
    }
    let theta_t = T::view(theta, &mut ws.theta);
    // each block's columns of every buffer, and its gradient
    let mut z_parts: Vec<Vec<&mut [T]>> = (0..blocks).map(|_| Vec::new()).collect();
    let mut a_parts: Vec<Vec<&mut [T]>> = (0..blocks).map(|_| Vec::new()).collect();
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
    let grads: Vec<Option<&mut [T]>> = if want {
        ws.block_grads
            .iter_mut()
            .take(blocks)
            .map(|g| Some(g.as_mut_slice()))
            .collect()
    } else {
        (0..blocks).map(|_| None).collect()
    };
    let items: Vec<_> = (0..blocks)
        .zip(z_parts)
        .zip(a_parts)
        .zip(deltas.into_iter().zip(prevs))
        .zip(grads)
        .map(|((((k, z), a), delta), grad)| (k, z, a, delta, grad))
        .collect();
    let threads = if n * layout.len() >= PARALLEL_WORK {
        threads
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
        block_pass(layout, loss, theta_t, block, total, grad, &mut buffers)
    });
    // the blocks' gradients summed in block order, in float64
    if let Some(grad) = grad {
        for (g, &b) in grad.iter_mut().zip(&ws.block_grads[0]) {
            *g = b.get();
        }
        for block in &ws.block_grads[1..blocks] {
            grad.iter_mut().zip(block).for_each(|(g, b)| *g += b.get());
        }
    }
    values.into_iter().sum()
}

/// One block's columns of a [`Buffers`]' buffers.
struct Block<'w, 'p, T> {
    z: &'p mut [&'w mut [T]],
    a: &'p mut [&'w mut [T]],
    delta: &'w mut [T],
    delta_prev: &'w mut [T],
}

fn mat<T: Float>(s: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice(&s[..rows * cols], rows, cols)
}

fn mat_mut<T: Float>(s: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::from_column_major_slice_mut(&mut s[..rows * cols], rows, cols)
}

/// The data term of one block of samples, its sum divided by the whole batch's `total` weight
/// (accumulated in float64), and its share of the gradient into `grad`.
fn block_pass<T: Float>(
    layout: &ParamLayout,
    loss: DataLoss,
    theta: &[T],
    batch: Batch<T>,
    total: f64,
    grad: Option<&mut [T]>,
    ws: &mut Block<T>,
) -> f64 {
    let Batch { xs, ys, weights, n } = batch;
    let widths = &layout.arch.widths;
    let layers = layout.n_layers();
    // forward: Z_l = W_l A_{l−1} + b_l, A_l = act(Z_l)
    for l in 0..layers {
        let (rows, inner) = (widths[l + 1], widths[l]);
        let input: &[T] = if l == 0 { xs } else { &*ws.a[l - 1] };
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
            T::ONE,
            Par::Seq,
        );
        let relu = l + 1 < layers || layout.arch.output == Activation::Relu;
        let (a, z) = (&mut *ws.a[l], &*ws.z[l]);
        for (ai, &zi) in a[..rows * n].iter_mut().zip(&z[..rows * n]) {
            *ai = if !relu || zi > T::ZERO { zi } else { T::ZERO };
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
                let s: f64 = f
                    .iter()
                    .zip(y)
                    .map(|(&f, &y)| (f.get() - y.get()).powi(2))
                    .sum();
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
                    for (((d, &f), &y), &z) in d.iter_mut().zip(f).zip(y).zip(z) {
                        *d = if !relu || z > T::ZERO {
                            T::of(c * (f.get() - y.get()))
                        } else {
                            T::ZERO
                        };
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
                    let (w, f, t) = (weight(j), f.get(), t.get());
                    sum += w * (f.max(0.0) + (-f.abs()).exp().ln_1p() - t * f);
                    *d = T::of(w * (crate::net::sigmoid(f) - t) * inv);
                }
            } else {
                // the softmax in float64, one sample at a time
                let mut p = vec![0.0; ny];
                for (j, ((d, f), t)) in delta
                    .chunks_exact_mut(ny)
                    .zip(out.chunks_exact(ny))
                    .zip(ys.chunks_exact(ny))
                    .enumerate()
                {
                    // −Σ t_k log softmax(f)_k = log Σ e^{f_k} − Σ t_k f_k (Σ t_k = 1)
                    let w = weight(j);
                    p.iter_mut().zip(f).for_each(|(p, f)| *p = f.get());
                    let tf: f64 = t.iter().zip(f).map(|(t, f)| t.get() * f.get()).sum();
                    let lse = crate::net::softmax(&mut p);
                    sum += w * (lse - tf);
                    for ((d, p), t) in d.iter_mut().zip(&p).zip(t) {
                        *d = T::of(w * (p - t.get()) * inv);
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
        let input: &[T] = if l == 0 { xs } else { &*ws.a[l - 1] };
        // ∂W_l = δ_l A_{l−1}ᵀ, ∂b_l = δ_l 1
        matmul(
            mat_mut(&mut grad[layout.w_range(l)], rows, inner),
            Accum::Replace,
            mat(ws.delta, rows, n),
            mat(input, inner, n).transpose(),
            T::ONE,
            Par::Seq,
        );
        let gb = &mut grad[layout.b_range(l)];
        gb.iter_mut().for_each(|g| *g = T::ZERO);
        for col in ws.delta[..rows * n].chunks_exact(rows) {
            for (g, &d) in gb.iter_mut().zip(col) {
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
            T::ONE,
            Par::Seq,
        );
        for (d, &z) in ws.delta_prev[..inner * n]
            .iter_mut()
            .zip(ws.z[l - 1].iter())
        {
            if z <= T::ZERO {
                *d = T::ZERO;
            }
        }
        std::mem::swap(&mut ws.delta, &mut ws.delta_prev);
    }
    value
}
