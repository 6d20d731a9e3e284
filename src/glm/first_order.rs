//! The first-order path: the methods machine learning uses for the same objectives, to measure
//! the interior-point against first-order trade-off of seed 000 on equal terms.
//!
//! - Ridge, lasso, elastic net: cyclic coordinate descent on centred data (as scikit-learn and
//!   glmnet do), stopped on the duality gap, so the answer carries its own optimality certificate.
//! - Logistic regression (binary and softmax) with the ℓ₂ penalty: L-BFGS ([`crate::lbfgs`]).
//! - With the ℓ₁ penalty: FISTA (Beck & Teboulle 2009) with backtracking and adaptive restart
//!   (O'Donoghue & Candès 2015); the intercepts are not penalised.
//!
//! L-BFGS and FISTA stop when the smallest subgradient of the objective (the gradient, for ℓ₂)
//! falls to `tol` times the loss gradient at the zero model, in the ∞-norm (status `converged`).
//! With many samples that can lie below the rounding floor of the summed gradient; L-BFGS then
//! stops when no step lowers the objective in floating point (status `precision_limit`).

use super::{check_data, Fitting, LeastSquares, LinearFit, Logistic, Watch};
use crate::error::{Error, Result};
use crate::linalg::{dot4 as dot, inf_norm, Matrix};
use crate::train::Stop;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Tolerance and iteration budget of the first-order path.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirstOrderSettings {
    /// Coordinate descent: relative duality gap; L-BFGS and FISTA: optimality measure relative to
    /// its value at the zero model; the SVM's dual method: relative duality gap.
    pub tol: f64,
    /// Sweeps (coordinate descent) or iterations.
    pub max_iter: usize,
}

impl Default for FirstOrderSettings {
    fn default() -> Self {
        FirstOrderSettings {
            tol: 1e-8,
            max_iter: 100_000,
        }
    }
}

impl FirstOrderSettings {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.tol.is_finite() && self.tol > 0.0 && self.tol < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "the first-order tolerance must be in (0, 1), got {}",
                self.tol
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::InvalidArgument(
                "the first-order iteration limit must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// `out = Aᵀ v` (`trans`) or `out = A v` for the d × N data matrix A (one thread, faer's GEMV);
/// `v` and `out` may hold several columns (`cols`).
pub(crate) fn data_times(x: &Matrix, trans: bool, v: &[f64], out: &mut [f64], cols: usize) {
    use faer::linalg::matmul::matmul;
    let (d, n) = x.shape();
    let a = faer::MatRef::from_column_major_slice(x.as_slice(), d, n);
    let (a, inner, rows) = if trans {
        (a.transpose(), d, n)
    } else {
        (a, n, d)
    };
    matmul(
        faer::MatMut::from_column_major_slice_mut(&mut out[..rows * cols], rows, cols),
        faer::Accum::Replace,
        a,
        faer::MatRef::from_column_major_slice(&v[..inner * cols], inner, cols),
        1.0,
        faer::Par::Seq,
    );
}

fn soft(v: f64, t: f64) -> f64 {
    v.signum() * (v.abs() - t).max(0.0)
}

/// Ridge, lasso or elastic net by cyclic coordinate descent on centred data, stopped when the
/// duality gap is at most `tol` times the objective.
///
/// With `F(w) = c‖r‖² + l1‖w‖₁ + (l2/2)‖w‖²`, `r = y_c − X_cᵀw`, Fenchel duality at the scaled
/// residual `u = s r` gives the lower bound `2c s rᵀy_c − c s²‖r‖² − Σ_i h*(2c s (X_c r)_i)`, where
/// `h*(v) = (|v| − l1)₊² / (2 l2)`; with `l2 = 0`, `s = min(1, l1/‖2c X_c r‖∞)` keeps it finite.
pub fn least_squares(
    x: &Matrix,
    y: &[f64],
    model: LeastSquares,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> Result<LinearFit> {
    model.validate()?;
    check_data(x, y)?;
    settings.validate()?;
    let t0 = Instant::now();
    let (d, n) = (x.rows(), y.len());
    let (c, l1, l2) = model.weights(n as f64);
    // features as contiguous rows of the centred data
    let (xm, ym) = super::means(x, y, Fitting::default());
    let xt = Matrix::from_fn(n, d, |j, i| x.get(i, j) - xm[i]);
    let yc: Vec<f64> = y.iter().map(|v| v - ym).collect();
    let sq: Vec<f64> = (0..d).map(|i| dot(xt.col(i), xt.col(i))).collect();
    let mut w = vec![0.0; d];
    let mut r = yc.clone();
    let objective = |w: &[f64], r: &[f64]| {
        c * dot(r, r) + l1 * w.iter().map(|v| v.abs()).sum::<f64>() + 0.5 * l2 * dot(w, w)
    };
    let gap = |w: &[f64], r: &[f64]| {
        let xr: Vec<f64> = (0..d).map(|i| 2.0 * c * dot(xt.col(i), r)).collect();
        let s = if l2 > 0.0 {
            1.0
        } else {
            let m = inf_norm(&xr);
            if m > l1 {
                l1 / m
            } else {
                1.0
            }
        };
        let mut dual = 2.0 * c * s * dot(r, &yc) - c * s * s * dot(r, r);
        if l2 > 0.0 {
            dual -= xr
                .iter()
                .map(|v| (s * v.abs() - l1).max(0.0).powi(2))
                .sum::<f64>()
                / (2.0 * l2);
        }
        let p = objective(w, r);
        (p, p - dual)
    };
    let mut status: &str = "iteration_limit";
    let mut sweeps = 0;
    while sweeps < settings.max_iter {
        sweeps += 1;
        for i in 0..d {
            let a = 2.0 * c * sq[i];
            if a + l2 <= 0.0 {
                continue; // a constant feature with no ridge term stays at 0
            }
            let col = xt.col(i);
            let rho = 2.0 * c * dot(col, &r) + a * w[i];
            let new = soft(rho, l1) / (a + l2);
            let delta = new - w[i];
            if delta != 0.0 {
                r.iter_mut().zip(col).for_each(|(r, x)| *r -= delta * x);
                w[i] = new;
            }
        }
        let (p, g) = gap(&w, &r);
        if g <= settings.tol * p.abs().max(f64::MIN_POSITIVE) {
            status = "converged";
            break;
        }
        if let Some(stop) = watch(sweeps, p) {
            status = stop.name();
            break;
        }
    }
    let intercept = ym - dot(&xm, &w);
    let objective = model.objective(x, y, Fitting::default(), &w, intercept);
    Ok(LinearFit::new(
        (w, intercept),
        objective,
        status,
        sweeps,
        t0,
    ))
}

/// A smooth loss `f(θ)` plus either `½‖θ_P‖²` (folded into `f`) or `‖θ_P‖₁` on the penalised
/// coordinates `P = 0..penalised` (the intercepts come after them).
pub(crate) trait SmoothLoss {
    fn dim(&self) -> usize;
    /// Number of leading coordinates the penalty applies to.
    fn penalised(&self) -> usize;
    /// The loss (with the ℓ₂ penalty when the model has it) and its gradient.
    fn eval(&self, theta: &[f64], g: &mut [f64]) -> f64;
}

struct Lbfgs<'a, 'w, L: SmoothLoss> {
    loss: &'a L,
    threshold: f64,
    max_iter: usize,
    watch: &'a mut Watch<'w>,
}

impl<L: SmoothLoss> crate::lbfgs::Objective for Lbfgs<'_, '_, L> {
    type Stop = &'static str;
    fn eval(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.loss.eval(x, g)
    }
    fn check(&mut self, it: usize, _x: &[f64], f: f64, g: &[f64]) -> Option<&'static str> {
        if !f.is_finite() {
            Some("diverged")
        } else if inf_norm(g) <= self.threshold {
            Some("converged")
        } else if it >= self.max_iter {
            Some("iteration_limit")
        } else {
            (self.watch)(it, f).map(Stop::name)
        }
    }
}

/// Minimises `loss` (+ `‖θ_P‖₁` when `l1`) from zero; returns θ, the status and the iterations.
pub(crate) fn minimise(
    loss: &impl SmoothLoss,
    l1: bool,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> (Vec<f64>, &'static str, usize) {
    let np = loss.dim();
    let mut theta = vec![0.0; np];
    let mut g = vec![0.0; np];
    loss.eval(&theta, &mut g);
    if !l1 {
        let mut p = Lbfgs {
            loss,
            threshold: settings.tol * inf_norm(&g).max(f64::MIN_POSITIVE),
            max_iter: settings.max_iter,
            watch,
        };
        let (end, it) = crate::lbfgs::minimize(&mut p, &mut theta, 10);
        let status = match end {
            crate::lbfgs::End::Stopped(s) => s,
            // no step along steepest descent lowers the objective in floating point: the
            // gradient is at the rounding floor of the sum, which large N can lift above tol
            crate::lbfgs::End::LineSearchFailed => "precision_limit",
        };
        return (theta, status, it);
    }
    fista(loss, theta, settings, watch)
}

/// L-BFGS on the smooth `loss` (its ℓ₂ penalty included) from `theta`, an interior point's
/// solution, until the gradient's largest entry is at most `tol` or no step lowers the objective
/// in floating point. Returns whether the gradient reached `tol`.
pub(crate) fn polish(loss: &impl SmoothLoss, theta: &mut [f64], tol: f64) -> bool {
    let mut watch = super::unwatched;
    let mut p = Lbfgs {
        loss,
        threshold: tol,
        max_iter: POLISH_MAX_ITER,
        watch: &mut watch,
    };
    matches!(
        crate::lbfgs::minimize(&mut p, theta, 10).0,
        crate::lbfgs::End::Stopped("converged")
    )
}

/// L-BFGS iterations [`polish`] may take; from an interior point's solution of the bundled sets'
/// softmax programs it took 3–40 (measured 2026-12-07).
const POLISH_MAX_ITER: usize = 500;

/// FISTA with backtracking and function-value restart for `f(θ) + ‖θ_P‖₁`.
fn fista(
    loss: &impl SmoothLoss,
    mut x: Vec<f64>,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> (Vec<f64>, &'static str, usize) {
    let np = loss.dim();
    let pen = loss.penalised();
    let l1 = |v: &[f64]| v[..pen].iter().map(|a| a.abs()).sum::<f64>();
    let prox = |v: &mut [f64], t: f64| v[..pen].iter_mut().for_each(|a| *a = soft(*a, t));
    let mut gy = vec![0.0; np];
    let mut gx = vec![0.0; np];
    let mut fx = loss.eval(&x, &mut gx) + l1(&x);
    let threshold = settings.tol * inf_norm(&gx).max(f64::MIN_POSITIVE);
    let mut y = x.clone();
    let mut momentum = Momentum::new();
    let mut lip = 1.0;
    let mut trial = vec![0.0; np];
    let mut gt = vec![0.0; np];
    for it in 0..settings.max_iter {
        let fy = loss.eval(&y, &mut gy);
        // backtracking on the local Lipschitz estimate
        let ft = loop {
            trial
                .iter_mut()
                .zip(&y)
                .zip(&gy)
                .for_each(|((p, y), g)| *p = y - g / lip);
            prox(&mut trial, 1.0 / lip);
            let ft = loss.eval(&trial, &mut gt);
            let diff: Vec<f64> = trial.iter().zip(&y).map(|(a, b)| a - b).collect();
            let model = fy + dot(&gy, &diff) + 0.5 * lip * dot(&diff, &diff);
            if ft <= model + 1e-12 * fy.abs() || !ft.is_finite() && lip > 1e300 {
                break ft;
            }
            lip *= 2.0;
        };
        if !ft.is_finite() {
            return (x, "diverged", it);
        }
        // the smallest subgradient of F at the new point, in the ∞-norm (prox steps make the
        // zeros exact, so the support is read off directly)
        let subgradient = trial
            .iter()
            .zip(&gt)
            .enumerate()
            .fold(0.0_f64, |m, (k, (&v, &g))| {
                m.max(if k >= pen {
                    g.abs()
                } else if v != 0.0 {
                    (g + v.signum()).abs()
                } else {
                    (g.abs() - 1.0).max(0.0)
                })
            });
        let f_new = ft + l1(&trial);
        if momentum.restarted(fx, f_new) {
            // not a descent: restart from x (a plain proximal step from x descends up to
            // rounding and is always accepted)
            y.copy_from_slice(&x);
            continue;
        }
        let beta = momentum.weight();
        for k in 0..np {
            let step = trial[k] - x[k];
            y[k] = trial[k] + beta * step;
        }
        x.copy_from_slice(&trial);
        fx = f_new;
        lip *= 0.9;
        if subgradient <= threshold {
            return (x, "converged", it + 1);
        }
        if let Some(stop) = watch(it + 1, fx) {
            return (x, stop.name(), it + 1);
        }
    }
    (x, "iteration_limit", settings.max_iter)
}

/// Binary logistic loss `C Σ log(1 + e^{−y(wᵀx + b)})` (+ `½‖w‖²`), θ = (w, b).
struct BinaryLoss<'a> {
    x: &'a Matrix,
    y: &'a [f64],
    model: Logistic,
}

impl SmoothLoss for BinaryLoss<'_> {
    fn dim(&self) -> usize {
        self.x.rows() + 1
    }
    fn penalised(&self) -> usize {
        self.x.rows()
    }
    fn eval(&self, theta: &[f64], g: &mut [f64]) -> f64 {
        let d = self.x.rows();
        let (w, b) = (&theta[..d], theta[d]);
        // margins m_j = −y_j (wᵀx_j + b), then r_j = ∂/∂(wᵀx_j + b) = −C y_j σ(m_j)
        let mut r = vec![0.0; self.y.len()];
        data_times(self.x, true, w, &mut r, 1);
        let mut f = 0.0;
        for (r, &yj) in r.iter_mut().zip(self.y) {
            let m = -yj * (*r + b);
            // one exponential for both softplus(m) and σ(m)
            let e = (-m.abs()).exp();
            f += m.max(0.0) + e.ln_1p();
            let sigma = if m >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            *r = -yj * self.model.c * sigma;
        }
        data_times(self.x, false, &r, &mut g[..d], 1);
        g[d] = r.iter().sum();
        f *= self.model.c;
        if !self.model.l1 {
            f += 0.5 * dot(w, w);
            g[..d].iter_mut().zip(w).for_each(|(g, w)| *g += w);
        }
        f
    }
}

/// [`Logistic`] by L-BFGS (ℓ₂) or FISTA (ℓ₁). `y` must hold ±1.
pub fn logistic(
    x: &Matrix,
    y: &[f64],
    model: Logistic,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> Result<LinearFit> {
    super::check_logistic(x, y, model)?;
    settings.validate()?;
    let t0 = Instant::now();
    let d = x.rows();
    let loss = BinaryLoss { x, y, model };
    let (theta, status, it) = minimise(&loss, model.l1, settings, watch);
    let (coef, intercept) = (theta[..d].to_vec(), theta[d]);
    let objective = model.objective(x, y, Fitting::default(), &coef, intercept);
    Ok(LinearFit::new((coef, intercept), objective, status, it, t0))
}

/// FISTA's momentum (Beck & Teboulle): `t_{k+1} = (1 + √(1 + 4t_k²))/2` and the next point
/// extrapolated by `(t_k − 1)/t_{k+1}` of the step; restarted when a step does not descend
/// (O'Donoghue & Candès).
pub(crate) struct Momentum {
    t: f64,
}

impl Momentum {
    pub fn new() -> Self {
        Self { t: 1.0 }
    }

    /// Whether the step from objective `before` to `after` must be taken again from the last
    /// point without momentum (it did not descend), restarting the momentum if so. A step
    /// without momentum is always kept.
    pub fn restarted(&mut self, before: f64, after: f64) -> bool {
        let restart = after > before && self.t > 1.0;
        if restart {
            self.t = 1.0;
        }
        restart
    }

    /// The extrapolation weight after a kept step, advancing `t`.
    pub fn weight(&mut self) -> f64 {
        let next = 0.5 * (1.0 + (1.0 + 4.0 * self.t * self.t).sqrt());
        let weight = (self.t - 1.0) / next;
        self.t = next;
        weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glm::tests::{breast_cancer, diabetes, ipm_least_squares, ipm_logistic};

    #[test]
    fn coordinate_descent_agrees_with_interior_point() {
        let s = FirstOrderSettings::default();
        for standardize in [true, false] {
            let (x, y) = diabetes(standardize);
            for model in [
                LeastSquares::Ridge { alpha: 1.0 },
                LeastSquares::Lasso { alpha: 0.5 },
                LeastSquares::ElasticNet {
                    alpha: 0.1,
                    l1_ratio: 0.3,
                },
            ] {
                let cd = least_squares(&x, &y, model, &s, &mut crate::glm::unwatched).unwrap();
                let ipm = ipm_least_squares(&x, &y, model).unwrap();
                assert_eq!(cd.status, "converged", "{model:?}");
                let rel = (cd.objective - ipm.objective).abs() / ipm.objective;
                assert!(
                    rel <= 1e-8,
                    "{model:?} standardize {standardize}: {} vs {} ({rel:e}, {} sweeps)",
                    cd.objective,
                    ipm.objective,
                    cd.iterations
                );
            }
        }
    }

    #[test]
    fn the_residual_and_gram_programs_agree() {
        // N > d takes the Gram form (tested above); 8 samples of 10 features (N < d) take the
        // residual form: both must agree with coordinate descent.
        let (x, y) = diabetes(true);
        let xs = Matrix::from_fn(10, 8, |i, j| x.get(i, j));
        let ys = &y[..8];
        for model in [
            LeastSquares::Ridge { alpha: 0.3 },
            LeastSquares::Lasso { alpha: 0.2 },
        ] {
            let ipm = ipm_least_squares(&xs, ys, model).unwrap();
            let cd = least_squares(
                &xs,
                ys,
                model,
                &FirstOrderSettings::default(),
                &mut crate::glm::unwatched,
            )
            .unwrap();
            let rel = (cd.objective - ipm.objective).abs() / ipm.objective;
            assert!(
                rel <= 1e-7,
                "{model:?}: {} vs {}",
                cd.objective,
                ipm.objective
            );
        }
    }

    #[test]
    fn logistic_first_order_agrees_with_interior_point() {
        let (x, y) = breast_cancer();
        let s = FirstOrderSettings::default();
        for model in [
            Logistic { c: 1.0, l1: false },
            Logistic { c: 0.1, l1: true },
        ] {
            let fo = logistic(&x, &y, model, &s, &mut crate::glm::unwatched).unwrap();
            let ipm = ipm_logistic(&x, &y, model).unwrap();
            let rel = (fo.objective - ipm.objective).abs() / ipm.objective;
            assert!(
                rel <= 1e-7,
                "{model:?}: {} ({}, {} its) vs {} ({rel:e})",
                fo.objective,
                fo.status,
                fo.iterations,
                ipm.objective
            );
        }
        let bad = FirstOrderSettings {
            tol: 0.0,
            max_iter: 10,
        };
        assert!(logistic(
            &x,
            &y,
            Logistic { c: 1.0, l1: false },
            &bad,
            &mut crate::glm::unwatched
        )
        .is_err());
    }
}
