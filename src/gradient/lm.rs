//! Levenberg–Marquardt: training as nonlinear least squares (the classical NLP view). Each
//! iteration solves `(JᵀJ + λI) δ = −Jᵀr` by Cholesky; λ is updated from the gain ratio as in
//! Madsen, Nielsen & Tingleff, "Methods for non-linear least squares problems" (2004), §3.2.

use super::Tracker;
use crate::error::{Error, Result};
use crate::linalg::norm;
use crate::train::Stop;
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};

/// Largest Jacobian (entries) Levenberg–Marquardt forms: 400 MB.
pub const MAX_JACOBIAN: usize = 50_000_000;
/// Largest number of parameters (the normal matrix is P × P).
pub const MAX_PARAMS: usize = 5_000;

/// Refuses a network and data set whose Jacobian (`residuals` × `params`) or normal matrix is
/// too large to form.
pub(super) fn check_size(params: usize, residuals: usize) -> Result<()> {
    let (np, m) = (params, residuals);
    if np > MAX_PARAMS || np.saturating_mul(m) > MAX_JACOBIAN {
        return Err(Error::InvalidArgument(format!(
            "Levenberg–Marquardt forms the {m} × {np} Jacobian and a {np} × {np} normal matrix; \
             this network and data set are too large for it (at most {MAX_PARAMS} parameters and \
             {MAX_JACOBIAN} Jacobian entries): use lbfgs or adam"
        )));
    }
    Ok(())
}

pub(super) fn run(theta: &mut [f64], tr: &mut Tracker) -> Result<(Stop, usize)> {
    let loss = tr.loss;
    let np = theta.len();
    let m = loss.y().rows() * loss.n_samples();
    check_size(np, m)?;
    let mut ws = loss.workspace();
    let mut jt = vec![0.0; np * m];
    let mut r = vec![0.0; m];
    let mut a = Mat::<f64>::zeros(np, np);
    let mut g = vec![0.0; np];
    // L, JᵀJ and Jᵀr at the current point
    let mut linearise = |theta: &[f64], a: &mut Mat<f64>, g: &mut [f64], tr: &mut Tracker| {
        tr.evaluations += 1;
        let f = loss.residual_jacobian(theta, &mut ws, &mut jt, &mut r);
        let jtm = MatRef::from_column_major_slice(&jt, np, m);
        matmul(
            a.as_mut(),
            Accum::Replace,
            jtm,
            jtm.transpose(),
            1.0,
            Par::Seq,
        );
        for (gi, row) in g.iter_mut().zip(0..np) {
            *gi = (0..m).map(|k| jt[row + k * np] * r[k]).sum();
        }
        f
    };
    let mut f = linearise(theta, &mut a, &mut g, tr);
    let max_diag = (0..np).map(|i| a[(i, i)]).fold(0.0_f64, f64::max);
    let mut lambda = 1e-3 * max_diag.max(1e-12);
    let mut nu = 2.0;
    let mut trial = vec![0.0; np];
    let mut eval_ws = loss.workspace();
    let mut it = 0;
    loop {
        // ∇L = 2Jᵀr
        if let Some(stop) = tr.step(it, theta, f, 2.0 * norm(&g)) {
            return Ok((stop, it));
        }
        loop {
            let mut damped = a.clone();
            for i in 0..np {
                damped[(i, i)] += lambda;
            }
            let Ok(llt) = damped.llt(Side::Lower) else {
                lambda *= nu;
                nu *= 2.0;
                if !lambda.is_finite() || lambda > 1e30 {
                    return Ok((Stop::Stalled, it));
                }
                continue;
            };
            let rhs = Mat::from_fn(np, 1, |i, _| -g[i]);
            let step = llt.solve(&rhs);
            let delta: Vec<f64> = (0..np).map(|i| step[(i, 0)]).collect();
            if norm(&delta) <= 1e-15 * (norm(theta) + 1e-15) {
                return Ok((Stop::Stalled, it));
            }
            for ((t, x), d) in trial.iter_mut().zip(theta.iter()).zip(&delta) {
                *t = x + d;
            }
            tr.evaluations += 1;
            let f_new = loss.eval(&trial, None, &mut eval_ws);
            // predicted decrease of ‖r + Jδ‖²: −2δᵀJᵀr − δᵀJᵀJδ = δᵀ(λδ − g) − δᵀg with (A + λI)δ = −g
            let dg: f64 = delta.iter().zip(&g).map(|(d, g)| d * g).sum();
            let dd: f64 = delta.iter().map(|d| d * d).sum();
            let predicted = -dg + lambda * dd;
            let gain = (f - f_new) / predicted;
            if f_new.is_finite() && predicted > 0.0 && gain > 0.0 {
                theta.copy_from_slice(&trial);
                lambda *= (1.0 - (2.0 * gain - 1.0).powi(3)).max(1.0 / 3.0);
                nu = 2.0;
                f = linearise(theta, &mut a, &mut g, tr);
                break;
            }
            lambda *= nu;
            nu *= 2.0;
            if !lambda.is_finite() || lambda > 1e30 {
                return Ok((Stop::Stalled, it));
            }
        }
        it += 1;
    }
}
