//! Multi-class (softmax, multinomial) logistic regression, scikit-learn's
//! `LogisticRegression(C)` on K > 2 classes:
//!
//! `C Σ_i [log Σ_k e^{z_ik} − z_{i,y_i}] + r(W)`, `z_ik = w_kᵀx_i + b_k`,
//!
//! with `r = ½‖W‖²_F` or `‖W‖₁` and unpenalised intercepts. By interior point, sample i's loss
//! `t_i ≥ log Σ_k e^{z_ik − z_{i,y_i}}` is `Σ_k u_ik ≤ 1` with `(z_ik − z_{i,y_i} − t_i, 1, u_ik) ∈
//! K_exp` for every class k (K exponential cones per sample); the first-order path is L-BFGS (ℓ₂)
//! or FISTA (ℓ₁), as for the binary model.

use super::first_order::{data_times, minimise, FirstOrderSettings, SmoothLoss};
use super::{
    check_c, check_inputs, check_weights, likelihood_objective, solve_conic, Fitting, Watch,
};
use crate::conic::Rows;
use crate::error::{Error, Result};
use crate::linalg::{dot4 as dot, Matrix};
use clarabel::solver::SupportedConeT;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The model: C and the penalty.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    pub c: f64,
    pub l1: bool,
}

/// A fitted softmax model: one weight vector and intercept per class.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SoftmaxFit {
    /// `coef[k]` is class k's weight vector (d entries).
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    /// The objective at the solution, recomputed from the coefficients.
    pub objective: f64,
    pub status: String,
    pub iterations: u32,
    pub seconds: f64,
}

/// `log Σ_k e^{z_k}` without overflow.
fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

impl SoftmaxFit {
    /// The K scores `w_kᵀx_j + b_k` of every sample (column) of `x`.
    pub fn scores(&self, x: &Matrix) -> Vec<Vec<f64>> {
        (0..x.cols())
            .map(|j| {
                self.coef
                    .iter()
                    .zip(&self.intercept)
                    .map(|(w, b)| dot(w, x.col(j)) + b)
                    .collect()
            })
            .collect()
    }

    /// (accuracy, mean cross-entropy) on `x` with class indices `y`.
    pub fn metrics(&self, x: &Matrix, y: &[usize], sw: Fitting) -> (f64, f64) {
        let n = sw.total(y.len());
        let (mut right, mut ce) = (0.0, 0.0);
        for (j, (z, &k)) in self.scores(x).iter().zip(y).enumerate() {
            let best = (0..z.len()).fold(0, |b, i| if z[i] > z[b] { i } else { b });
            right += sw.weight(j) * f64::from(u8::from(best == k));
            ce += sw.weight(j) * (log_sum_exp(z) - z[k]);
        }
        (right / n, ce / n)
    }
}

impl Softmax {
    /// The objective at `(W, b)` on `x` (d × N) with class indices `y` and sample weights `sw`.
    pub fn objective(
        self,
        (x, y, sw): (&Matrix, &[usize], Fitting),
        coef: &[Vec<f64>],
        intercept: &[f64],
    ) -> f64 {
        let mut loss = 0.0;
        let mut z = vec![0.0; coef.len()];
        for (j, &k) in y.iter().enumerate() {
            for (zk, (w, b)) in z.iter_mut().zip(coef.iter().zip(intercept)) {
                *zk = dot(w, x.col(j)) + b;
            }
            loss += sw.weight(j) * (log_sum_exp(&z) - z[k]);
        }
        let r: f64 = coef
            .iter()
            .flatten()
            .map(|v| if self.l1 { v.abs() } else { 0.5 * v * v })
            .sum();
        self.c * loss + r
    }

    fn check(self, x: &Matrix, y: &[usize], classes: usize) -> Result<()> {
        check_inputs(x, y.len())?;
        check_c(self.c)?;
        if classes < 2 {
            return Err(Error::InvalidArgument(format!(
                "softmax regression needs at least two classes, got {classes}"
            )));
        }
        if let Some(k) = y.iter().find(|&&k| k >= classes) {
            return Err(Error::InvalidArgument(format!(
                "class index {k} for {classes} classes"
            )));
        }
        Ok(())
    }

    /// The fit at θ = (W by class, b), with the run's status, iterations and start time.
    fn fit_from(
        self,
        (x, y, sw, classes): (&Matrix, &[usize], Fitting, usize),
        theta: &[f64],
        (status, iterations, t0): (&str, usize, Instant),
    ) -> SoftmaxFit {
        let d = x.rows();
        let coef: Vec<Vec<f64>> = theta[..d * classes]
            .chunks_exact(d)
            .map(<[f64]>::to_vec)
            .collect();
        // the probabilities do not change when every class's intercept moves by the same
        // amount, and nothing penalises the intercepts: the fit's are the ones summing to zero,
        // so that the scores, not only the probabilities, are the same for every solver
        let mut intercept = theta[d * classes..d * classes + classes].to_vec();
        let mean = intercept.iter().sum::<f64>() / classes.max(1) as f64;
        intercept.iter_mut().for_each(|b| *b -= mean);
        SoftmaxFit {
            objective: self.objective((x, y, sw), &coef, &intercept),
            coef,
            intercept,
            status: status.into(),
            iterations: iterations as u32,
            seconds: t0.elapsed().as_secs_f64(),
        }
    }
}

/// Fits [`Softmax`] by interior point. `y[j]` is sample j's class index in `0..classes`.
pub fn fit(
    x: &Matrix,
    (y, sw): (&[usize], Fitting),
    classes: usize,
    model: Softmax,
    watch: &mut Watch,
) -> Result<SoftmaxFit> {
    model.check(x, y, classes)?;
    check_weights(sw, y.len())?;
    let t0 = Instant::now();
    let (d, n, k) = (x.rows(), y.len(), classes);
    // variables: W (k blocks of d), b (k), t (N), u (N × k), s (d k, the ℓ₁ epigraph)
    let ow = |c: usize| c * d;
    let ob = d * k;
    let ot = ob + k;
    let ou = ot + n;
    let os = ou + n * k;
    let nvar = os + if model.l1 { d * k } else { 0 };
    let (p, q) = likelihood_objective(nvar, d * k, ot..ou, (model.c, sw), model.l1);
    let mut rows = Rows::default();
    let mut row = 0;
    // Σ_k u_jk ≤ 1
    for j in 0..n {
        for c in 0..k {
            rows.entry(row, ou + j * k + c, 1.0);
        }
        rows.b.push(1.0);
        row += 1;
    }
    rows.cones.push(SupportedConeT::NonnegativeConeT(n));
    if model.l1 {
        row = rows.abs_epigraph(row, d * k, os);
    }
    for (j, &yj) in y.iter().enumerate() {
        let xj = x.col(j);
        for c in 0..k {
            // s₁ = z_jc − z_jy − t_j = −(A v) with A = −(x on w_c, 1 on b_c) + (x on w_y, 1 on b_y) + e_t
            if c != yj {
                for (i, &v) in xj.iter().enumerate() {
                    if v != 0.0 {
                        rows.entries([row, row], [ow(c) + i, ow(yj) + i], [-v, v]);
                    }
                }
                rows.entries([row, row], [ob + c, ob + yj], [-1.0, 1.0]);
            }
            rows.entries([row, row + 2], [ot + j, ou + j * k + c], [1.0, -1.0]);
            rows.b.extend([0.0, 1.0, 0.0]);
            rows.cones.push(SupportedConeT::ExponentialConeT());
            row += 3;
        }
    }
    if !sw.intercept {
        rows.fix_at_zero(ob..ob + k);
    }
    let program = rows.program(p, q);
    let ipm = solve_conic(program, "softmax regression", sw.ipm, watch)?;
    let mut theta = ipm.x[..(d + 1) * k].to_vec();
    if !sw.intercept {
        // pinned at 0 by a zero cone: exactly 0
        theta[ob..].iter_mut().for_each(|b| *b = 0.0);
    }
    let mut status = ipm.status.clone();
    if !model.l1 && matches!(status.as_str(), "solved" | "almost_solved") {
        // The exponential cones end at a duality gap of 1e-10 (or Clarabel's reduced 5e-5),
        // which leaves the coefficients accurate to about its square root: on iris with
        // integer weights, probabilities 1e-6 from the repeated rows' fit (scikit-learn's
        // sample-weight check asks 1e-7). The smooth objective's own gradient takes them to
        // rounding: stop at a gradient entry of 1e-12 of the loss's scale C Σ w.
        let loss = Loss {
            x,
            y,
            sw,
            classes: k,
            model,
        };
        let scale = model.c * sw.total(n);
        let before = theta.clone();
        let converged = super::first_order::polish(&loss, &mut theta, 1e-12 * scale);
        let objective = |t: &[f64]| model.fit_from((x, y, sw, k), t, ("", 0, t0)).objective;
        if objective(&theta) > objective(&before) {
            theta = before;
        } else if converged {
            // stationary to rounding: optimal whatever the cones' last gap
            status = "solved".into();
        }
    }
    Ok(model.fit_from(
        (x, y, sw, k),
        &theta,
        (&status, ipm.iterations as usize, t0),
    ))
}

/// The softmax loss for the first-order path and the interior point's polish; θ = (W by class,
/// b).
struct Loss<'a> {
    x: &'a Matrix,
    y: &'a [usize],
    sw: Fitting<'a>,
    classes: usize,
    model: Softmax,
}

impl SmoothLoss for Loss<'_> {
    fn dim(&self) -> usize {
        (self.x.rows() + 1) * self.classes
    }
    fn penalised(&self) -> usize {
        self.x.rows() * self.classes
    }
    fn eval(&self, theta: &[f64], g: &mut [f64]) -> f64 {
        let (d, k, n) = (self.x.rows(), self.classes, self.y.len());
        let (w, b) = theta.split_at(d * k);
        // scores Z = Xᵀ W (N × k, column c is class c), then R = C (P − Y) in place
        let mut z = vec![0.0; n * k];
        data_times(self.x, true, w, &mut z, k);
        let mut f = 0.0;
        let mut row = vec![0.0; k];
        for (j, &yj) in self.y.iter().enumerate() {
            for c in 0..k {
                row[c] = z[c * n + j] + b[c];
            }
            let lse = log_sum_exp(&row);
            let w = self.sw.weight(j);
            f += w * (lse - row[yj]);
            for c in 0..k {
                z[c * n + j] =
                    self.model.c * w * ((row[c] - lse).exp() - f64::from(u8::from(c == yj)));
            }
        }
        // G_W = X R (d × k), G_b = column sums of R
        data_times(self.x, false, &z, &mut g[..d * k], k);
        for c in 0..k {
            // without an intercept b stays at 0
            g[d * k + c] = if self.sw.intercept {
                z[c * n..(c + 1) * n].iter().sum()
            } else {
                0.0
            };
        }
        f *= self.model.c;
        if !self.model.l1 {
            f += 0.5 * dot(w, w);
            g[..d * k].iter_mut().zip(w).for_each(|(g, w)| *g += w);
        }
        f
    }
}

/// Fits [`Softmax`] by L-BFGS (ℓ₂) or FISTA (ℓ₁).
pub fn fit_first_order(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    model: Softmax,
    settings: &FirstOrderSettings,
    watch: &mut Watch,
) -> Result<SoftmaxFit> {
    model.check(x, y, classes)?;
    settings.validate()?;
    let t0 = Instant::now();
    let loss = Loss {
        x,
        y,
        sw: Fitting::default(),
        classes,
        model,
    };
    let (theta, status, it) = minimise(&loss, model.l1, settings, watch);
    Ok(model.fit_from(
        (x, y, Fitting::default(), classes),
        &theta,
        (status, it, t0),
    ))
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // the KKT conditions read best with explicit indices
mod tests {
    use super::*;
    use crate::data::{Dataset, Targets};
    use crate::glm::tests::ipm_logistic;
    use crate::glm::{first_order, Logistic};
    use std::path::Path;

    fn load(name: &str) -> (Matrix, Vec<usize>) {
        let ds = Dataset::load(Path::new(name), &Targets::Last(1)).unwrap();
        let ds = ds.standardized().unwrap().0;
        let y = ds.y.as_slice().iter().map(|&v| v as usize).collect();
        (ds.x, y)
    }

    #[test]
    fn softmax_satisfies_its_optimality_conditions() {
        // KKT: with R_jc = p_jc − [c = y_j], the loss gradient is G_c = C Σ_j R_jc x_j;
        // ℓ₂: G_c + w_c = 0; ℓ₁: G_c = −sign(w_c) on the support, |G_c| ≤ 1 off it;
        // intercepts: Σ_j R_jc = 0.
        for name in ["iris", "wine"] {
            let (x, y) = load(name);
            let (d, k) = (x.rows(), 3);
            for model in [Softmax { c: 1.0, l1: false }, Softmax { c: 0.1, l1: true }] {
                let fit = fit(
                    &x,
                    (&y, Fitting::default()),
                    k,
                    model,
                    &mut crate::glm::unwatched,
                )
                .unwrap();
                let mut g = vec![vec![0.0; d + 1]; k];
                for (j, z) in fit.scores(&x).iter().enumerate() {
                    let lse = log_sum_exp(z);
                    for c in 0..k {
                        let r = model.c * ((z[c] - lse).exp() - f64::from(u8::from(c == y[j])));
                        for i in 0..d {
                            g[c][i] += r * x.get(i, j);
                        }
                        g[c][d] += r;
                    }
                }
                let mut support = 0;
                for c in 0..k {
                    assert!(g[c][d].abs() <= 1e-6, "{name} {model:?}: intercept {c}");
                    for i in 0..d {
                        let w = fit.coef[c][i];
                        if !model.l1 {
                            assert!((g[c][i] + w).abs() <= 1e-6, "{name} {c} {i}");
                        } else if w.abs() > 1e-7 {
                            support += 1;
                            assert!((g[c][i] + w.signum()).abs() <= 1e-6, "{name} {c} {i}");
                        } else {
                            assert!(g[c][i].abs() <= 1.0 + 1e-6, "{name} {c} {i}");
                        }
                    }
                }
                if model.l1 {
                    assert!(support > 0 && support < d * k, "{name}: support {support}");
                }
                let fo = fit_first_order(
                    &x,
                    &y,
                    k,
                    model,
                    &Default::default(),
                    &mut crate::glm::unwatched,
                )
                .unwrap();
                let rel = (fo.objective - fit.objective).abs() / fit.objective;
                assert!(rel <= 1e-7, "{name} {model:?}: first-order {rel:e}");
            }
        }
    }

    #[test]
    fn two_class_softmax_is_binary_logistic_regression() {
        // With two classes and ℓ₂, symmetry gives w₀ = −w₁ and w = w₁ − w₀ = 2w₁, so the
        // objective at C is half the binary objective at 2C; with ℓ₁ the split costs nothing
        // and the objectives at the same C are equal.
        let ds = Dataset::load(Path::new("breast_cancer"), &Targets::Last(1)).unwrap();
        let x = ds.standardized().unwrap().0.x;
        let y: Vec<usize> = ds.y.as_slice().iter().map(|&v| v as usize).collect();
        let pm: Vec<f64> = y.iter().map(|&k| if k == 1 { 1.0 } else { -1.0 }).collect();
        let softmax = |l1| {
            let model = Softmax { c: 0.5, l1 };
            fit(
                &x,
                (&y, Fitting::default()),
                2,
                model,
                &mut crate::glm::unwatched,
            )
            .unwrap()
        };
        let two = softmax(false);
        let model = Logistic { c: 1.0, l1: false };
        let bin = ipm_logistic(&x, &pm, model).unwrap();
        assert!((two.objective - 0.5 * bin.objective).abs() <= 1e-7 * bin.objective);
        let two = softmax(true);
        let bin = first_order::logistic(
            &x,
            &pm,
            Logistic { c: 0.5, l1: true },
            &Default::default(),
            &mut crate::glm::unwatched,
        )
        .unwrap();
        assert!((two.objective - bin.objective).abs() <= 1e-7 * bin.objective);
    }

    #[test]
    fn bad_classes_are_rejected() {
        let (x, y) = load("iris");
        let m = Softmax { c: 1.0, l1: false };
        assert!(
            fit(
                &x,
                (&y, Fitting::default()),
                2,
                m,
                &mut crate::glm::unwatched
            )
            .is_err(),
            "class index 2 of 2"
        );
        assert!(fit(
            &x,
            (&y, Fitting::default()),
            1,
            m,
            &mut crate::glm::unwatched
        )
        .is_err());
        assert!(fit(
            &x,
            (&y[1..], Fitting::default()),
            3,
            m,
            &mut crate::glm::unwatched
        )
        .is_err());
        assert!(fit(
            &x,
            (&y, Fitting::default()),
            3,
            Softmax { c: -1.0, l1: false },
            &mut crate::glm::unwatched
        )
        .is_err());
    }
}
