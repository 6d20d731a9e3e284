//! The linear support vector machine, scikit-learn's `SVC(kernel="linear", C)`:
//!
//! `½‖w‖² + C Σ_i max(0, 1 − y_i(wᵀx_i + b))`, labels ±1, intercept unpenalised.
//!
//! By interior point it is the QP with slacks `ξ ≥ 0`, `y_i(wᵀx_i + b) + ξ_i ≥ 1`. The first-order
//! path solves the dual `min ½‖X(y∘α)‖² − 1ᵀα` over `0 ≤ α ≤ C, yᵀα = 0` by accelerated projected
//! gradient (FISTA with constant step `1/σ_max(X)²` and function-value restart), recovers
//! `w = X(y∘α)` and the best intercept for that `w` exactly, and stops when the duality gap is at
//! most `tol` times the primal objective: the answer carries its certificate.

use super::first_order::{data_times, FirstOrderSettings, Momentum};
use super::{check_binary, check_weights, solve_conic, Fitting, LinearFit, Watch};
use crate::conic::Rows;
use crate::error::Result;
use crate::linalg::{dot4 as dot, Matrix};
use clarabel::algebra::CscMatrix;
use clarabel::solver::SupportedConeT;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The model: C.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearSvm {
    pub c: f64,
}

impl LinearSvm {
    /// The primal objective at `(w, b)`; `y` holds ±1.
    pub fn objective(self, x: &Matrix, y: &[f64], sw: Fitting, w: &[f64], b: f64) -> f64 {
        let hinge: f64 = y
            .iter()
            .enumerate()
            .map(|(j, &yj)| sw.weight(j) * (1.0 - yj * (dot(w, x.col(j)) + b)).max(0.0))
            .sum();
        0.5 * dot(w, w) + self.c * hinge
    }
}

/// Fits [`LinearSvm`] by interior point (a QP in w, b and the N slacks).
pub fn fit(
    x: &Matrix,
    y: &[f64],
    sw: Fitting,
    model: LinearSvm,
    watch: &mut Watch,
) -> Result<LinearFit> {
    check_binary(x, y, model.c, "the SVM")?;
    check_weights(sw, y.len())?;
    let t0 = Instant::now();
    let (d, n) = (x.rows(), y.len());
    let (ob, ox) = (d, d + 1);
    let nvar = ox + n;
    let p =
        CscMatrix::new_from_triplets(nvar, nvar, (0..d).collect(), (0..d).collect(), vec![1.0; d]);
    let mut q = vec![0.0; nvar];
    q[ox..]
        .iter_mut()
        .enumerate()
        .for_each(|(j, v)| *v = model.c * sw.weight(j));
    let mut rows = Rows::default();
    // s = y(wᵀx + b) + ξ − 1 ≥ 0, i.e. b = −1, A = −(y x, y, e_j)
    for (j, &yj) in y.iter().enumerate() {
        rows.sample(j, x, j, -yj);
        rows.entries([j, j], [ob, ox + j], [-yj, -1.0]);
        rows.b.push(-1.0);
    }
    // ξ ≥ 0
    for j in 0..n {
        rows.entry(n + j, ox + j, -1.0);
        rows.b.push(0.0);
    }
    rows.cones.push(SupportedConeT::NonnegativeConeT(2 * n));
    if !sw.intercept {
        rows.fix_at_zero(ob..ob + 1);
    }
    let ipm = solve_conic(rows.program(p, q), "linear SVM", sw.ipm, watch)?;
    let coef = ipm.x[..d].to_vec();
    let intercept = if sw.intercept {
        best_intercept(x, y, sw, &coef)
    } else {
        0.0
    };
    Ok(ipm.fit(
        (coef, intercept),
        |w, b| model.objective(x, y, sw, w, b),
        t0,
    ))
}

/// The intercept minimising `Σ_i w_i max(0, 1 − y_i(f_i + b))` for fixed `w` (`f_i = wᵀx_i`):
/// the hinge sum is convex piecewise linear in b with breakpoints `y_i − f_i`; its slope is
/// `Σ{w_i : y = −1, breakpoint < b} − Σ{w_i : y = +1, breakpoint > b}`, so the minimum is where
/// it turns non-negative.
pub fn best_intercept(x: &Matrix, y: &[f64], sw: Fitting, w: &[f64]) -> f64 {
    let mut points: Vec<(f64, f64)> = y
        .iter()
        .enumerate()
        .map(|(j, &yj)| (yj - dot(w, x.col(j)), sw.weight(j)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    // left of every breakpoint the slope is −(the positives' weight); passing any breakpoint
    // adds its weight (a positive stops counting, a negative starts)
    let mut slope = -(0..y.len())
        .filter(|&j| y[j] > 0.0)
        .map(|j| sw.weight(j))
        .sum::<f64>();
    for &(at, wj) in &points {
        slope += wj;
        if slope >= 0.0 {
            return at;
        }
    }
    points.last().map_or(0.0, |p| p.0)
}

/// Projects `a` onto `{0 ≤ α ≤ C, yᵀα = 0}`: `α_i = clip(a_i − ν y_i, 0, C)` with ν the root of
/// the non-increasing `φ(ν) = Σ y_i α_i(ν)`, bracketed by bisection and then solved exactly on
/// the final set of free coordinates.
fn project(a: &mut [f64], y: &[f64], c: f64) {
    let phi = |nu: f64| -> f64 {
        a.iter()
            .zip(y)
            .map(|(&ai, &yi)| yi * (ai - nu * yi).clamp(0.0, c))
            .sum()
    };
    let span = a.iter().fold(0.0_f64, |m, v| m.max(v.abs())) + c;
    let (mut lo, mut hi) = (-span, span);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let v = phi(mid);
        if v == 0.0 {
            lo = mid;
            hi = mid;
            break;
        }
        if v > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * span {
            break;
        }
    }
    // exact root on the free set of the midpoint: φ(ν) = fixed + Σ_free y_i a_i − ν |free|
    let mid = 0.5 * (lo + hi);
    let (mut fixed, mut free_sum, mut free) = (0.0, 0.0, 0.0);
    for (&ai, &yi) in a.iter().zip(y) {
        let v = ai - mid * yi;
        if v <= 0.0 {
        } else if v >= c {
            fixed += yi * c;
        } else {
            free_sum += yi * ai;
            free += 1.0;
        }
    }
    let nu = if free > 0.0 {
        let exact = (fixed + free_sum) / free;
        if (lo..=hi).contains(&exact) {
            exact
        } else {
            mid
        }
    } else {
        mid
    };
    a.iter_mut()
        .zip(y)
        .for_each(|(ai, &yi)| *ai = (*ai - nu * yi).clamp(0.0, c));
}

/// `v = X(y∘α)` (d entries).
fn weights(x: &Matrix, y: &[f64], alpha: &[f64]) -> Vec<f64> {
    let ya: Vec<f64> = y.iter().zip(alpha).map(|(y, a)| y * a).collect();
    let mut v = vec![0.0; x.rows()];
    data_times(x, false, &ya, &mut v, 1);
    v
}

/// `σ_max(X)²` by power iteration on `XXᵀ` (an upper estimate after a 1 % margin).
fn lipschitz(x: &Matrix) -> f64 {
    let d = x.rows();
    let mut v = vec![1.0 / (d as f64).sqrt(); d];
    let mut lambda = 0.0;
    for _ in 0..100 {
        let mut u = vec![0.0; d];
        for j in 0..x.cols() {
            let s = dot(x.col(j), &v);
            u.iter_mut().zip(x.col(j)).for_each(|(u, x)| *u += s * x);
        }
        let norm = dot(&u, &u).sqrt();
        if norm == 0.0 {
            return 1.0;
        }
        let next = dot(&u, &v);
        v = u.iter().map(|u| u / norm).collect();
        if (next - lambda).abs() <= 1e-6 * next {
            lambda = next;
            break;
        }
        lambda = next;
    }
    lambda * 1.01
}

/// Fits [`LinearSvm`] by the dual accelerated projected gradient.
pub fn fit_first_order(
    x: &Matrix,
    y: &[f64],
    model: LinearSvm,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> Result<LinearFit> {
    check_binary(x, y, model.c, "the SVM")?;
    settings.validate()?;
    let t0 = Instant::now();
    let n = y.len();
    let step = 1.0 / lipschitz(x);
    // dual objective (minimised) and its gradient y∘(Xᵀv) − 1 with v = X(y∘α)
    let dual = |alpha: &[f64]| -> (f64, Vec<f64>, Vec<f64>) {
        let v = weights(x, y, alpha);
        let f = 0.5 * dot(&v, &v) - alpha.iter().sum::<f64>();
        let mut g = vec![0.0; n];
        data_times(x, true, &v, &mut g, 1);
        g.iter_mut().zip(y).for_each(|(g, y)| *g = y * *g - 1.0);
        (f, g, v)
    };
    let mut alpha = vec![0.0; n];
    let mut beta = alpha.clone();
    let mut momentum = Momentum::new();
    let mut f_alpha = 0.0;
    let mut status: &str = "iteration_limit";
    let mut best = (f64::INFINITY, vec![0.0; x.rows()], 0.0);
    let mut iterations = settings.max_iter;
    for it in 0..settings.max_iter {
        let (_, g, _) = dual(&beta);
        let mut next: Vec<f64> = beta.iter().zip(&g).map(|(b, g)| b - step * g).collect();
        project(&mut next, y, model.c);
        let (f_next, _, w) = dual(&next);
        if momentum.restarted(f_alpha, f_next) {
            beta.copy_from_slice(&alpha);
            continue;
        }
        let mom = momentum.weight();
        for j in 0..n {
            beta[j] = next[j] + mom * (next[j] - alpha[j]);
        }
        alpha = next;
        f_alpha = f_next;
        if let Some(stop) = watch(it + 1, -f_alpha) {
            status = stop.name();
            iterations = it + 1;
            break;
        }
        if it % 10 == 0 || it + 1 == settings.max_iter {
            let b = best_intercept(x, y, Fitting::default(), &w);
            let primal = model.objective(x, y, Fitting::default(), &w, b);
            if primal < best.0 {
                best = (primal, w, b);
            }
            // the dual objective is −f_alpha; the gap is primal − (−f_alpha)
            if best.0 + f_alpha <= settings.tol * best.0.abs() {
                status = "converged";
                iterations = it + 1;
                break;
            }
        }
    }
    let (objective, coef, intercept) = best;
    Ok(LinearFit::new(
        (coef, intercept),
        objective,
        status,
        iterations,
        t0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glm::tests::breast_cancer;

    #[test]
    fn the_intercept_is_the_exact_minimiser() {
        let (x, y) = breast_cancer();
        let w: Vec<f64> = (0..x.rows()).map(|i| 0.1 * (i as f64 - 10.0)).collect();
        let b = best_intercept(&x, &y, Fitting::default(), &w);
        let m = LinearSvm { c: 1.0 };
        let at = m.objective(&x, &y, Fitting::default(), &w, b);
        for step in [1e-3, 1e-2, 0.1, 1.0] {
            for s in [-step, step] {
                assert!(
                    m.objective(&x, &y, Fitting::default(), &w, b + s) >= at - 1e-12 * at,
                    "b + {s}"
                );
            }
        }
    }

    #[test]
    fn primal_and_dual_paths_agree_and_the_gap_certifies_them() {
        let (x, y) = breast_cancer();
        for c in [0.05, 0.5] {
            let m = LinearSvm { c };
            let ipm = fit(&x, &y, Fitting::default(), m, &mut crate::glm::unwatched).unwrap();
            let fo = fit_first_order(&x, &y, m, &Default::default(), &mut crate::glm::unwatched)
                .unwrap();
            assert_eq!(fo.status, "converged", "C = {c}");
            // the dual method stopped at a relative gap ≤ 1e-8: the interior-point objective may
            // not be lower than that bound, nor the first-order one far above it
            let rel = (fo.objective - ipm.objective) / ipm.objective;
            assert!((-1e-8..=1e-7).contains(&rel), "C = {c}: {rel:e}");
        }
    }

    #[test]
    fn a_separable_problem_is_separated_with_margin_one() {
        use crate::data::{Dataset, Targets};
        let ds = Dataset::load(std::path::Path::new("iris"), &Targets::Last(1)).unwrap();
        let y: Vec<f64> =
            ds.y.as_slice()
                .iter()
                .map(|&v| if v == 0.0 { 1.0 } else { -1.0 })
                .collect();
        let fit = fit(
            &ds.x,
            &y,
            Fitting::default(),
            LinearSvm { c: 1e4 },
            &mut crate::glm::unwatched,
        )
        .unwrap();
        let least = (0..y.len())
            .map(|j| y[j] * (dot(&fit.coef, ds.x.col(j)) + fit.intercept))
            .fold(f64::INFINITY, f64::min);
        assert!(least >= 1.0 - 1e-6, "smallest margin {least}");
        assert!(fit_first_order(
            &ds.x,
            &y[1..],
            LinearSvm { c: 1.0 },
            &Default::default(),
            &mut crate::glm::unwatched
        )
        .is_err());
    }
}
