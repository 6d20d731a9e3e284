//! Exact training of a one-hidden-layer ReLU network with one linear output, as a MILP.
//!
//! **The class.** `f(x) = Σ_k s_k·max(0, w_kᵀx + b_k) + c` with `s_k ∈ {−1, +1}`, every entry of
//! `w_k` and `b_k` in `[−B, B]`, and `c` free. ReLU is positively homogeneous, so a network with
//! output weights `v_k` equals the one with `s_k = sign v_k` and first layer `|v_k|·(w_k, b_k)`:
//! the class is exactly the set of d-K-1 ReLU networks with `|v_k|·max(‖w_k‖_∞, |b_k|) ≤ B` for
//! every hidden unit ([`class_bound`] gives a network's smallest such B). The optimum is global
//! over that class, not over all networks; a larger B enlarges the class and loosens the big-Ms.
//!
//! **The program** (Fischetti & Jo's big-M ReLU, with the weights as variables). Per unit k and
//! sample j, `z = w_kᵀx_j + b_k ∈ [L, U]`, an activation `h ≥ 0` and an indicator `δ`:
//! `h ≥ z`, `h ≤ z − L(1 − δ)`, `h ≤ Uδ` (so `h = max(0, z)` exactly when `L ≤ z ≤ U`).
//! The sign is a binary `σ_k` (`s_k = 2σ_k − 1`) and the product `p = σ_k h` is linearised exactly
//! (`p ≤ Uσ`, `p ≤ h`, `p ≥ h − U(1 − σ)`, `p ≥ 0`), so `ŷ_j = Σ_k (2p − h) + c`. The loss is
//! linear: the sum of absolute errors (L1), the largest absolute error (L∞), or exact fit to a
//! tolerance as a feasibility problem. Units are interchangeable, so they are ordered: positive
//! units first, and within one sign by decreasing bias.
//!
//! **The bounds** L, U come from [`crate::bounds::training_bounds`] (`±B(‖x_j‖₁ + 1)`, attained
//! by some network of the box), or one global M for all samples, or are tightened by LP: the
//! LP relaxation, with the objective capped at a known network's loss, is minimised and
//! maximised over each `z` (optimisation-based bound tightening). Every optimal network obeys
//! the cap, so no optimum is cut off; where `U ≤ 0` or `L ≥ 0` the unit's phase is fixed.

use super::errors::ErrorMeasure;
use super::model::{
    LinearModel, MilpCertificate, MilpOutcome, MilpSettings, MilpStatus, NetworkFit, OnProgress,
};
#[cfg(feature = "milp")]
use super::tightening::tighten;
use super::tightening::{interval_bounds, Tightening};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp};
use std::time::Instant;

/// What to train.
#[derive(Clone, Debug, PartialEq)]
pub struct ReluMilp {
    pub hidden: usize,
    pub weight_bound: f64,
    pub loss: ErrorMeasure,
    pub tightening: Tightening,
}

/// An exactly trained network (a d-K-1 network with output weights ±1), its certificate, and
/// how the big-Ms were set.
#[derive(Clone, Debug)]
pub struct ExactFit {
    pub network: NetworkFit,
    /// Bound tightening (LP) only.
    pub tighten_seconds: f64,
    /// Mean width `U − L` of the big-M intervals, over units and samples.
    pub mean_interval: f64,
    /// Units × samples whose phase the bounds fixed.
    pub fixed_phases: usize,
}

impl ExactFit {
    /// The certificate of this fit for `spec` (certified when the gap is at most `gap_tol`).
    pub fn certificate(&self, spec: &ReluMilp, inputs: usize, gap_tol: f64) -> MilpCertificate {
        let mut c = self.network.certificate(
            "relu",
            format!(
                "{inputs}-{}-1 ReLU networks with output weights ±1 and every first-layer weight \
                 and bias in [−{b}, {b}] (equivalently |v_k|·max(‖w_k‖_∞, |b_k|) ≤ {b})",
                spec.hidden,
                b = spec.weight_bound
            ),
            spec.loss.name(),
            spec.weight_bound,
            gap_tol,
        );
        c.big_m = Some(spec.tightening.name().into());
        c.mean_big_m = Some(self.mean_interval / 2.0);
        c.fixed_phases = Some(self.fixed_phases);
        c.tighten_seconds = Some(self.tighten_seconds);
        c
    }
}

/// The smallest B for which `model` (d-K-1, ReLU hidden, linear output) is in the MILP's class:
/// `max_k |v_k|·max(‖w_k‖_∞, |b_k|)`.
pub fn class_bound(model: &Mlp) -> Result<f64> {
    check_arch(&model.arch)?;
    let (w1, b1, w2) = (&model.weights[0], &model.biases[0], &model.weights[1]);
    Ok((0..w1.rows())
        .map(|k| {
            let m = (0..w1.cols())
                .map(|i| w1.get(k, i).abs())
                .fold(b1[k].abs(), f64::max);
            w2.get(0, k).abs() * m
        })
        .fold(0.0, f64::max))
}

fn check_arch(arch: &Architecture) -> Result<()> {
    if arch.widths.len() != 3 || arch.n_outputs() != 1 || arch.output != Activation::Linear {
        return Err(Error::InvalidArgument(format!(
            "exact training covers one hidden ReLU layer and one linear output (d-K-1), got {} with {} output",
            arch.spec(),
            arch.output
        )));
    }
    Ok(())
}

/// Column indices of the program.
pub(crate) struct Cols {
    /// w[k][i], b[k], σ[k]
    w: Vec<Vec<usize>>,
    b: Vec<usize>,
    sigma: Vec<usize>,
    c: usize,
    /// per unit k and sample j: the activation h (None when fixed at 0), δ, p
    h: Vec<Vec<Option<usize>>>,
    delta: Vec<Vec<Option<usize>>>,
    p: Vec<Vec<Option<usize>>>,
    /// per-sample error (L1) or the single max error (L∞)
    err: Vec<usize>,
}

/// Largest accepted problem: units × samples (each brings two binaries' worth of rows).
const MAX_UNIT_SAMPLES: usize = 200_000;

fn validate(x: &Matrix, y: &[f64], spec: &ReluMilp) -> Result<()> {
    if x.cols() != y.len() {
        return Err(Error::Shape(format!(
            "{} samples of inputs, {} targets",
            x.cols(),
            y.len()
        )));
    }
    if x.cols() == 0 || x.rows() == 0 {
        return Err(Error::InvalidArgument(
            "exact training needs at least one sample and one input".into(),
        ));
    }
    if !x.is_finite() || y.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite("training data".into()));
    }
    if spec.hidden == 0 {
        return Err(Error::InvalidArgument(
            "exact training needs at least one hidden unit".into(),
        ));
    }
    if spec.hidden.saturating_mul(x.cols()) > MAX_UNIT_SAMPLES {
        return Err(Error::InvalidArgument(format!(
            "{} hidden units × {} samples is beyond what a MILP can certify (at most {MAX_UNIT_SAMPLES})",
            spec.hidden,
            x.cols()
        )));
    }
    crate::bounds::check_weight_bound(spec.weight_bound)?;
    spec.loss.validate()
}

/// The z_kj = w_kᵀx_j + b_k terms.
pub(crate) fn z_terms(cols: &Cols, x: &Matrix, k: usize, j: usize) -> Vec<(usize, f64)> {
    let mut t: Vec<(usize, f64)> = cols.w[k]
        .iter()
        .zip(x.col(j))
        .map(|(&c, &v)| (c, v))
        .collect();
    t.push((cols.b[k], 1.0));
    t
}

/// Builds the program for bounds `lower[k][j] ≤ z_kj ≤ upper[k][j]`; with `cap`, the objective
/// is constrained to at most it.
pub(crate) fn build(
    x: &Matrix,
    y: &[f64],
    spec: &ReluMilp,
    lower: &[Vec<f64>],
    upper: &[Vec<f64>],
    cap: Option<f64>,
) -> (LinearModel, Cols) {
    let (d, n, kk, bw) = (x.rows(), x.cols(), spec.hidden, spec.weight_bound);
    let inf = f64::INFINITY;
    let mut m = LinearModel::new();
    let (w, b) = m.layer(kk, d, bw);
    let sigma: Vec<usize> = (0..kk).map(|_| m.binary(0.0)).collect();
    let c = m.col(-inf, inf, 0.0);
    let err = spec.loss.error_cols(&mut m, n);
    let mut cols = Cols {
        w,
        b,
        sigma,
        c,
        h: vec![vec![None; n]; kk],
        delta: vec![vec![None; n]; kk],
        p: vec![vec![None; n]; kk],
        err,
    };
    // symmetry: σ non-increasing; equal signs ordered by decreasing bias
    for k in 1..kk {
        let (s0, s1) = (cols.sigma[k - 1], cols.sigma[k]);
        m.row(0.0, inf, &[(s0, 1.0), (s1, -1.0)]);
        m.row(
            0.0,
            inf,
            &[
                (cols.b[k - 1], 1.0),
                (cols.b[k], -1.0),
                (s0, 2.0 * bw),
                (s1, -2.0 * bw),
            ],
        );
    }
    for k in 0..kk {
        for j in 0..n {
            let (l, u) = (lower[k][j], upper[k][j]);
            let z = z_terms(&cols, x, k, j);
            let neg = |t: &[(usize, f64)]| t.iter().map(|&(c, v)| (c, -v)).collect::<Vec<_>>();
            if u <= 0.0 {
                // inactive: h = 0, and z must stay at most U
                m.row(-inf, u, &z);
                continue;
            }
            let h = m.col(0.0, u, 0.0);
            cols.h[k][j] = Some(h);
            if l >= 0.0 {
                // active: h = z
                let mut t = neg(&z);
                t.push((h, 1.0));
                m.row(0.0, 0.0, &t);
            } else {
                let dl = m.binary(0.0);
                cols.delta[k][j] = Some(dl);
                // h − z ≥ 0
                let mut t = neg(&z);
                t.push((h, 1.0));
                m.row(0.0, inf, &t);
                // h − z − Lδ ≤ −L
                t.push((dl, -l));
                m.row(-inf, -l, &t);
                // h − Uδ ≤ 0
                m.row(-inf, 0.0, &[(h, 1.0), (dl, -u)]);
            }
            // p = σ h
            let p = m.col(0.0, u, 0.0);
            cols.p[k][j] = Some(p);
            let s = cols.sigma[k];
            m.row(-inf, 0.0, &[(p, 1.0), (s, -u)]);
            m.row(-inf, 0.0, &[(p, 1.0), (h, -1.0)]);
            m.row(-u, inf, &[(p, 1.0), (h, -1.0), (s, -u)]);
        }
    }
    // ŷ_j = Σ_k (2p − h) + c
    for (j, &yj) in y.iter().enumerate() {
        let mut out: Vec<(usize, f64)> = vec![(cols.c, 1.0)];
        for k in 0..kk {
            if let (Some(h), Some(p)) = (cols.h[k][j], cols.p[k][j]) {
                out.push((p, 2.0));
                out.push((h, -1.0));
            }
        }
        spec.loss.add_rows(&mut m, &cols.err, j, out, yj);
    }
    if let Some(cap) = cap {
        let t: Vec<(usize, f64)> = cols.err.iter().map(|&e| (e, 1.0)).collect();
        if !t.is_empty() {
            m.row(-inf, cap, &t);
        }
    }
    (m, cols)
}

/// `model` as a point of the program: units rescaled to output weight ±1 and sorted as the
/// symmetry rows require. `None` when it is outside the class (B too small) or breaks a bound.
fn start_point(
    model: &Mlp,
    x: &Matrix,
    y: &[f64],
    spec: &ReluMilp,
    m: &LinearModel,
    cols: &Cols,
) -> Option<Vec<f64>> {
    let (w1, b1, w2, c) = (
        &model.weights[0],
        &model.biases[0],
        &model.weights[1],
        model.biases[1][0],
    );
    let (d, n) = (x.rows(), x.cols());
    // (σ, w, b) per unit, rescaled
    let mut units: Vec<(f64, Vec<f64>, f64)> = (0..spec.hidden)
        .map(|k| {
            let v = w2.get(0, k);
            let a = v.abs();
            let w: Vec<f64> = (0..d).map(|i| a * w1.get(k, i)).collect();
            (if v > 0.0 { 1.0 } else { 0.0 }, w, a * b1[k])
        })
        .collect();
    units.sort_by(|p, q| q.0.total_cmp(&p.0).then(q.2.total_cmp(&p.2)));
    let mut v = vec![0.0; m.n_cols()];
    v[cols.c] = c;
    let mut yhat = vec![c; n];
    for (k, (s, w, b)) in units.iter().enumerate() {
        v[cols.sigma[k]] = *s;
        v[cols.b[k]] = *b;
        for i in 0..d {
            v[cols.w[k][i]] = w[i];
        }
        for (j, yh) in yhat.iter_mut().enumerate() {
            let z: f64 = w.iter().zip(x.col(j)).map(|(a, b)| a * b).sum::<f64>() + b;
            let hv = z.max(0.0);
            if let Some(h) = cols.h[k][j] {
                v[h] = hv;
            }
            if let Some(dl) = cols.delta[k][j] {
                v[dl] = if z > 0.0 { 1.0 } else { 0.0 };
            }
            if let Some(p) = cols.p[k][j] {
                v[p] = s * hv;
            }
            *yh += (2.0 * s - 1.0) * hv;
        }
    }
    match spec.loss {
        ErrorMeasure::L1 => {
            for j in 0..n {
                v[cols.err[j]] = (yhat[j] - y[j]).abs();
            }
        }
        ErrorMeasure::Linf => v[cols.err[0]] = ErrorMeasure::Linf.value(&yhat, y),
        ErrorMeasure::Exact { .. } => {}
    }
    // the solver gets the point only if it is feasible (to a relative 1e-9)
    let scale = 1.0 + v.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
    (m.max_violation(&v) <= 1e-9 * scale).then_some(v)
}

/// The network a point of the program encodes (output weights ±1).
fn decode(v: &[f64], cols: &Cols, d: usize) -> Result<Mlp> {
    let kk = cols.b.len();
    let arch = Architecture::new(vec![d, kk, 1], Activation::Linear)?;
    let w1 = Matrix::from_fn(kk, d, |k, i| v[cols.w[k][i]]);
    let b1 = cols.b.iter().map(|&c| v[c]).collect();
    let w2 = Matrix::from_fn(
        1,
        kk,
        |_, k| {
            if v[cols.sigma[k]] > 0.5 {
                1.0
            } else {
                -1.0
            }
        },
    );
    Mlp::new(arch, vec![w1, w2], vec![b1, vec![v[cols.c]]])
}

/// The best network of the class with `net`'s output signs and activation pattern: with the
/// pattern fixed (`z ≥ 0` where a unit is active, `z ≤ 0` where not) the output is linear in the
/// weights, so this is an LP without big-Ms. It removes what HiGHS's integrality tolerance lets
/// through a big-M row (a binary at 1e-6 leaks 1e-6·M into an activation). `None` when the LP
/// has no solution (an exact fit that the pattern cannot reach).
fn polish(
    x: &Matrix,
    y: &[f64],
    spec: &ReluMilp,
    net: &Mlp,
    settings: &MilpSettings,
) -> Result<Option<Mlp>> {
    let (d, n, kk, bw) = (x.rows(), x.cols(), spec.hidden, spec.weight_bound);
    let inf = f64::INFINITY;
    let z0 = net.forward_layers(x)?.swap_remove(0).0;
    let signs: Vec<f64> = (0..kk).map(|k| net.weights[1].get(0, k)).collect();
    let mut m = LinearModel::new();
    let (w, b) = m.layer(kk, d, bw);
    let c = m.col(-inf, inf, 0.0);
    let err = spec.loss.error_cols(&mut m, n);
    for (j, &yj) in y.iter().enumerate() {
        let mut out: Vec<(usize, f64)> = vec![(c, 1.0)];
        for k in 0..kk {
            let mut z: Vec<(usize, f64)> =
                w[k].iter().zip(x.col(j)).map(|(&c, &v)| (c, v)).collect();
            z.push((b[k], 1.0));
            if z0.get(k, j) > 0.0 {
                m.row(0.0, inf, &z);
                out.extend(z.iter().map(|&(c, v)| (c, signs[k] * v)));
            } else {
                m.row(-inf, 0.0, &z);
            }
        }
        spec.loss.add_rows(&mut m, &err, j, out, yj);
    }
    let out = super::solve(&m, settings, None, None)?;
    let Some(v) = out.x.filter(|_| out.status == MilpStatus::Optimal) else {
        return Ok(None);
    };
    let w1 = Matrix::from_fn(kk, d, |k, i| v[w[k][i]].clamp(-bw, bw));
    let b1 = b.iter().map(|&i| v[i].clamp(-bw, bw)).collect();
    Ok(Some(Mlp::new(
        net.arch.clone(),
        vec![w1, net.weights[1].clone()],
        vec![b1, vec![v[c]]],
    )?))
}

/// Predictions of a d-K-1 network on the samples (columns of x).
pub fn predict(model: &Mlp, x: &Matrix) -> Result<Vec<f64>> {
    Ok(model.forward(x)?.as_slice().to_vec())
}

/// Trains `spec` on (x, y) to a certified optimum (or the time limit, or an interrupt).
/// `start`, a d-K-1 network, is offered as the first incumbent when it lies in the class, and caps
/// the LP relaxation in [`Tightening::Lp`] (required there). `progress` sees the branch and bound
/// move and may stop it.
pub fn train(
    x: &Matrix,
    y: &[f64],
    spec: &ReluMilp,
    settings: &MilpSettings,
    start: Option<&Mlp>,
    progress: OnProgress,
) -> Result<ExactFit> {
    validate(x, y, spec)?;
    settings.validate()?;
    if let Some(s) = start {
        check_arch(&s.arch)?;
        if s.arch.widths != [x.rows(), spec.hidden, 1] {
            return Err(Error::Shape(format!(
                "the start network is {}, training a {}-{}-1",
                s.arch.spec(),
                x.rows(),
                spec.hidden
            )));
        }
    }
    let (mut lower, mut upper) = interval_bounds(x, spec)?;
    let mut tighten_seconds = 0.0;
    // the start's loss, when it is in the class (the cap of LP tightening)
    let start_in_class = match start {
        Some(s) if class_bound(s)? <= spec.weight_bound => Some(s),
        _ => None,
    };
    if spec.tightening == Tightening::Lp {
        let Some(s) = start_in_class else {
            return Err(Error::InvalidArgument(format!(
                "LP bound tightening needs a start network with weights within the bound {} (its loss caps the relaxation)",
                spec.weight_bound
            )));
        };
        if let ErrorMeasure::Exact { .. } = spec.loss {
            return Err(Error::InvalidArgument(
                "LP bound tightening needs an L1 or L∞ loss (exact fit has no objective to cap)"
                    .into(),
            ));
        }
        let cap = spec.loss.value(&predict(s, x)?, y);
        let cap = cap + 1e-7 * (1.0 + cap);
        let t0 = Instant::now();
        #[cfg(feature = "milp")]
        tighten(x, y, spec, &mut lower, &mut upper, cap, settings)?;
        #[cfg(not(feature = "milp"))]
        let _ = (cap, &mut lower, &mut upper);
        tighten_seconds = t0.elapsed().as_secs_f64();
    }
    let (m, cols) = build(x, y, spec, &lower, &upper, None);
    let start_x = start_in_class.and_then(|s| start_point(s, x, y, spec, &m, &cols));
    let remaining = MilpSettings {
        time_limit: (settings.time_limit - tighten_seconds).max(1e-3),
        ..settings.clone()
    };
    let out: MilpOutcome = super::solve(&m, &remaining, start_x.as_deref(), progress)?;
    let mut model = match &out.x {
        Some(v) => Some(decode(v, &cols, x.rows())?),
        None => None,
    };
    let mut loss = match &model {
        Some(net) => spec.loss.value(&predict(net, x)?, y),
        None => f64::INFINITY,
    };
    // the LP on the incumbent's activation pattern: never worse, and exact where the big-Ms leak
    if let Some(net) = &model {
        if let Some(p) = polish(x, y, spec, net, settings)? {
            let l = spec.loss.value(&predict(&p, x)?, y);
            if l <= loss {
                loss = l;
                model = Some(p);
            }
        }
    }
    let widths: Vec<f64> = upper
        .iter()
        .zip(&lower)
        .flat_map(|(u, l)| u.iter().zip(l).map(|(u, l)| u - l))
        .collect();
    let fixed_phases = upper
        .iter()
        .zip(&lower)
        .flat_map(|(u, l)| u.iter().zip(l).filter(|(u, l)| **u <= 0.0 || **l >= 0.0))
        .count();
    let mut network = NetworkFit::new(model, loss, &out, &m);
    if matches!(spec.loss, ErrorMeasure::Exact { .. }) && out.status == MilpStatus::Optimal {
        // a feasible exact fit has loss zero, whatever the solver's bound says
        network.bound = 0.0;
    }
    Ok(ExactFit {
        network,
        tighten_seconds,
        mean_interval: widths.iter().sum::<f64>() / widths.len() as f64,
        fixed_phases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{planted_teacher, with_label_noise};
    use rand::{Rng, SeedableRng};

    fn teacher(hidden: usize, n: usize, noise: f64, seed: u64) -> (Matrix, Vec<f64>, Mlp) {
        let arch = Architecture::new(vec![2, hidden, 1], Activation::Linear).unwrap();
        let t = planted_teacher(&arch, n, seed).unwrap();
        let ds = with_label_noise(&t.data, noise, seed).unwrap();
        (ds.x, ds.y.as_slice().to_vec(), t.model)
    }

    fn spec(hidden: usize, b: f64, loss: ErrorMeasure, tightening: Tightening) -> ReluMilp {
        ReluMilp {
            hidden,
            weight_bound: b,
            loss,
            tightening,
        }
    }

    /// No network of the class is cut off by the big-Ms: every sampled network (box corners and
    /// interior points) is a feasible point of the program whose objective is its loss, and it
    /// decodes back to a network with the same predictions.
    #[test]
    fn every_network_in_the_box_is_feasible_with_its_own_loss() {
        let (x, y, _) = teacher(3, 15, 0.1, 4);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for loss in [ErrorMeasure::L1, ErrorMeasure::Linf] {
            for tightening in [Tightening::Global, Tightening::Interval] {
                let sp = spec(3, 1.5, loss, tightening);
                let (lo, up) = interval_bounds(&x, &sp).unwrap();
                let (m, cols) = build(&x, &y, &sp, &lo, &up, None);
                for trial in 0..100 {
                    let arch = Architecture::new(vec![2, 3, 1], Activation::Linear).unwrap();
                    let mut net = Mlp::zeros(&arch);
                    let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
                        if trial % 2 == 0 {
                            if rng.random_bool(0.5) {
                                1.5
                            } else {
                                -1.5
                            }
                        } else {
                            rng.random_range(-1.5..=1.5)
                        }
                    };
                    for v in net.weights[0].as_mut_slice() {
                        *v = draw(&mut rng);
                    }
                    for v in net.biases[0].iter_mut() {
                        *v = draw(&mut rng);
                    }
                    for v in net.weights[1].as_mut_slice() {
                        *v = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                    }
                    net.biases[1][0] = rng.random_range(-3.0..3.0);
                    assert!(class_bound(&net).unwrap() <= 1.5);
                    let v = start_point(&net, &x, &y, &sp, &m, &cols).unwrap_or_else(|| {
                        panic!("trial {trial}: a network of the box is cut off")
                    });
                    let want = loss.value(&predict(&net, &x).unwrap(), &y);
                    assert!((m.objective(&v) - want).abs() <= 1e-9 * (1.0 + want));
                    let back = decode(&v, &cols, 2).unwrap();
                    let (p, q) = (predict(&back, &x).unwrap(), predict(&net, &x).unwrap());
                    for (a, b) in p.iter().zip(&q) {
                        assert!((a - b).abs() < 1e-9);
                    }
                }
            }
        }
    }

    #[test]
    fn rescaling_to_unit_output_weights_keeps_the_function_and_finds_the_class_bound() {
        let (x, y, t) = teacher(2, 10, 0.0, 2);
        let b = class_bound(&t).unwrap();
        let sp = spec(2, b, ErrorMeasure::L1, Tightening::Interval);
        let (lo, up) = interval_bounds(&x, &sp).unwrap();
        let (m, cols) = build(&x, &y, &sp, &lo, &up, None);
        let v = start_point(&t, &x, &y, &sp, &m, &cols).expect("the teacher is in its class");
        assert!(m.objective(&v) < 1e-9, "the teacher fits its own data");
        // just below its class bound the teacher is outside the box
        let tight = spec(2, b * 0.999, ErrorMeasure::L1, Tightening::Interval);
        let (lo, up) = interval_bounds(&x, &tight).unwrap();
        let (m, cols) = build(&x, &y, &tight, &lo, &up, None);
        assert!(start_point(&t, &x, &y, &tight, &m, &cols).is_none());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let (x, y, _) = teacher(2, 10, 0.0, 2);
        let st = MilpSettings::default();
        let bad = |sp: ReluMilp, y: &[f64]| train(&x, y, &sp, &st, None, None).is_err();
        assert!(bad(
            spec(0, 1.0, ErrorMeasure::L1, Tightening::Interval),
            &y
        ));
        assert!(bad(
            spec(2, 0.0, ErrorMeasure::L1, Tightening::Interval),
            &y
        ));
        assert!(bad(
            spec(2, f64::INFINITY, ErrorMeasure::L1, Tightening::Interval),
            &y
        ));
        assert!(bad(
            spec(
                2,
                1.0,
                ErrorMeasure::Exact { tol: -1.0 },
                Tightening::Interval
            ),
            &y
        ));
        assert!(bad(
            spec(2, 1.0, ErrorMeasure::L1, Tightening::Interval),
            &y[1..]
        ));
        let mut nan = y.clone();
        nan[3] = f64::NAN;
        assert!(bad(
            spec(2, 1.0, ErrorMeasure::L1, Tightening::Interval),
            &nan
        ));
        // LP tightening without a start network to cap the relaxation
        assert!(bad(spec(2, 1.0, ErrorMeasure::L1, Tightening::Lp), &y));
        let slow = MilpSettings {
            time_limit: 0.0,
            ..Default::default()
        };
        let sp = spec(2, 1.0, ErrorMeasure::L1, Tightening::Interval);
        assert!(train(&x, &y, &sp, &slow, None, None).is_err());
    }

    #[cfg(not(feature = "milp"))]
    #[test]
    fn without_the_feature_solving_says_so() {
        let (x, y, _) = teacher(2, 10, 0.0, 2);
        let sp = spec(2, 1.0, ErrorMeasure::L1, Tightening::Interval);
        let e = train(&x, &y, &sp, &MilpSettings::default(), None, None).unwrap_err();
        assert!(
            matches!(
                e,
                crate::Error::Unavailable {
                    feature: "milp",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[cfg(feature = "milp")]
    mod solved {
        use super::*;
        use crate::gradient::{self, GradSettings, Optimizer};
        use crate::train::{quiet, random_network, InitScheme, Quiet};

        fn gradient_nets(x: &Matrix, y: &[f64], hidden: usize) -> Vec<Mlp> {
            let arch = Architecture::new(vec![2, hidden, 1], Activation::Linear).unwrap();
            let ym = Matrix::from_col_major(1, y.len(), y.to_vec()).unwrap();
            let mut out = Vec::new();
            for seed in 0..4 {
                for opt in [
                    Optimizer::Lbfgs { memory: 10 },
                    Optimizer::Adam {
                        lr: 0.01,
                        beta1: 0.9,
                        beta2: 0.999,
                        eps: 1e-8,
                        batch: None,
                    },
                ] {
                    let start = random_network(&arch, InitScheme::He, seed);
                    let mut st = GradSettings::new(opt);
                    st.max_iter = 2000;
                    let run = gradient::train(x, &ym, &start, &st, &mut quiet(&mut Quiet)).unwrap();
                    out.push(run.model);
                }
            }
            out
        }

        /// The certified L1 optimum is at most the L1 loss of every gradient-trained network of
        /// the class, the returned weights reproduce the claimed loss, and the three ways of
        /// setting the big-Ms agree on the optimum.
        #[test]
        fn the_certified_optimum_beats_gradient_training_and_is_reproduced() {
            let (x, y, _) = teacher(2, 14, 0.1, 11);
            let nets = gradient_nets(&x, &y, 2);
            let b = nets
                .iter()
                .map(|n| class_bound(n).unwrap())
                .fold(2.0, f64::max)
                .ceil();
            let st = MilpSettings {
                time_limit: 120.0,
                ..Default::default()
            };
            let best_gradient = nets
                .iter()
                .map(|n| ErrorMeasure::L1.value(&predict(n, &x).unwrap(), &y))
                .fold(f64::INFINITY, f64::min);
            let mut optima = Vec::new();
            for tightening in [Tightening::Global, Tightening::Interval, Tightening::Lp] {
                let fit = train(
                    &x,
                    &y,
                    &spec(2, b, ErrorMeasure::L1, tightening),
                    &st,
                    Some(&nets[0]),
                    None,
                )
                .unwrap()
                .network;
                assert_eq!(fit.status, MilpStatus::Optimal, "{tightening:?}");
                let model = fit.model.as_ref().unwrap();
                assert!(class_bound(model).unwrap() <= b * (1.0 + 1e-9));
                // the forward pass reproduces the solver's objective
                assert!(
                    (fit.loss - fit.objective).abs() <= 1e-6 * (1.0 + fit.loss),
                    "{tightening:?}: forward {} vs solver {}",
                    fit.loss,
                    fit.objective
                );
                assert!(fit.bound <= fit.loss + 1e-9);
                assert!(fit.abs_gap() <= 1e-5 * (1.0 + fit.loss));
                for n in &nets {
                    let l = ErrorMeasure::L1.value(&predict(n, &x).unwrap(), &y);
                    assert!(fit.loss <= l + 1e-6, "MILP {} > gradient {l}", fit.loss);
                }
                optima.push(fit.loss);
            }
            assert!(optima[0] < best_gradient + 1e-6);
            for o in &optima[1..] {
                assert!(
                    (o - optima[0]).abs() <= 1e-5 * (1.0 + optima[0]),
                    "{optima:?}"
                );
            }
        }

        #[test]
        fn exact_fit_is_found_for_the_teacher_and_refuted_for_a_too_small_box() {
            let (x, y, t) = teacher(2, 12, 0.0, 5);
            let fit = |hidden, b, loss| {
                let spec = spec(hidden, b, loss, Tightening::Interval);
                let settings = MilpSettings::default();
                train(&x, &y, &spec, &settings, None, None).unwrap().network
            };
            let exact = ErrorMeasure::Exact { tol: 1e-6 };
            let found = fit(2, class_bound(&t).unwrap() * 1.01, exact);
            assert_eq!(found.status, MilpStatus::Optimal);
            assert!(
                found.loss <= 1e-6 * (1.0 + 1e-6),
                "largest error {}",
                found.loss
            );
            // with one unit of weight 1e-3 the outputs cannot span the targets' range
            let refuted = fit(1, 1e-3, exact);
            assert_eq!(refuted.status, MilpStatus::Infeasible);
            assert!(refuted.model.is_none());
            // L∞ on the same data: the optimum is reproduced and bounded
            let linf = fit(1, 1.0, ErrorMeasure::Linf);
            assert_eq!(linf.status, MilpStatus::Optimal);
            assert!((linf.loss - linf.objective).abs() <= 1e-6 * (1.0 + linf.loss));
            assert!(linf.loss > 0.0 && linf.bound <= linf.loss + 1e-9);
        }
    }
}
