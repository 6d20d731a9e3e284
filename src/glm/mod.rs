//! Generalised linear models as conic programs, solved by interior point (Clarabel, pure-Rust
//! cones: no PSD cone, so no system library). Objectives are written exactly as scikit-learn writes
//! them, so that results compare one to one.
//!
//! - Ridge, lasso, elastic net: one quadratic program. With more samples than features it is
//!   written on the d × d Gram matrix of the centred data; otherwise with the residuals as
//!   variables (`Xw + b + r = y`), so that no N × N product is formed.
//! - Binary logistic regression ([`Logistic`], exponential cones), softmax regression
//!   ([`softmax`]) and the linear SVM ([`svm`], a QP).
//! - [`first_order`]: coordinate descent, L-BFGS and FISTA for the same objectives.

pub mod first_order;
pub mod softmax;
pub mod svm;

pub use first_order::FirstOrderSettings;

use crate::conic::{self, Conic, Rows};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::train::Stop;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{SolverStatus, SupportedConeT};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the samples enter a fit: their weights (`None`: once each) and whether the model has an
/// intercept. Sample i's loss counts `w_i` times, as scikit-learn's `sample_weight`: integer
/// weights are the same as repeated rows, and the lasso's and elastic net's mean becomes
/// `Σ w_i r_i² / Σ w_i`. The intercept, when there is one, is unpenalised; without one (scikit-
/// learn's `fit_intercept=False`) it is 0.
/// `ipm` is the interior point's own stopping rule.
#[derive(Clone, Copy, Debug)]
pub struct Fitting<'a> {
    pub weights: Option<&'a [f64]>,
    pub intercept: bool,
    pub ipm: IpmLimits,
}

impl Default for Fitting<'_> {
    fn default() -> Self {
        Self {
            weights: None,
            intercept: true,
            ipm: IpmLimits::default(),
        }
    }
}

/// The interior point's relative tolerance (gap and feasibility) and iteration cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IpmLimits {
    pub tol: f64,
    pub max_iter: u32,
}

impl Default for IpmLimits {
    fn default() -> Self {
        Self {
            tol: IPM_TOL,
            max_iter: IPM_MAX_ITER,
        }
    }
}

impl<'a> Fitting<'a> {
    /// The samples weighted by `weights`, with an intercept.
    pub fn weighted(weights: &'a [f64]) -> Self {
        Self {
            weights: Some(weights),
            ..Self::default()
        }
    }

    /// `w_j` (1 without weights).
    pub(crate) fn weight(self, j: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[j])
    }

    /// `Σ w_j` over `n` samples (n without weights).
    pub(crate) fn total(self, n: usize) -> f64 {
        self.weights.map_or(n as f64, |w| w.iter().sum())
    }
}

/// The weights fit `n` samples: one each, finite, ≥ 0, a positive sum.
fn check_weights(sw: Fitting, n: usize) -> Result<()> {
    let Some(w) = sw.weights else { return Ok(()) };
    if w.len() != n {
        return Err(Error::Shape(format!(
            "{} sample weights for {n} samples",
            w.len()
        )));
    }
    if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || sw.total(n) <= 0.0 {
        return Err(Error::InvalidArgument(
            "sample weights must be finite and ≥ 0, with a positive sum".into(),
        ));
    }
    Ok(())
}

/// A penalised least-squares model, with scikit-learn's scaling of the objective.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum LeastSquares {
    /// `Ridge(alpha)`: `‖y − Xw − b‖² + α‖w‖²`.
    Ridge { alpha: f64 },
    /// `Lasso(alpha)`: `‖y − Xw − b‖²/(2N) + α‖w‖₁`.
    Lasso { alpha: f64 },
    /// `ElasticNet(alpha, l1_ratio)`: `‖y − Xw − b‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2`.
    ElasticNet { alpha: f64, l1_ratio: f64 },
}

impl LeastSquares {
    /// The model's name, as the methods table spells it.
    pub fn name(self) -> &'static str {
        match self {
            LeastSquares::Ridge { .. } => "ridge",
            LeastSquares::Lasso { .. } => "lasso",
            LeastSquares::ElasticNet { .. } => "elastic-net",
        }
    }

    /// `(c, l1, l2)` of the objective `c Σ w_j r_j² + l1‖w‖₁ + (l2/2)‖w‖²` for samples of
    /// total weight `total` (N without weights).
    fn weights(self, total: f64) -> (f64, f64, f64) {
        let half_mean = 1.0 / (2.0 * total);
        match self {
            LeastSquares::Ridge { alpha } => (1.0, 0.0, 2.0 * alpha),
            LeastSquares::Lasso { alpha } => (half_mean, alpha, 0.0),
            LeastSquares::ElasticNet { alpha, l1_ratio } => {
                (half_mean, alpha * l1_ratio, alpha * (1.0 - l1_ratio))
            }
        }
    }

    fn validate(self) -> Result<()> {
        let (alpha, ratio) = match self {
            LeastSquares::Ridge { alpha } | LeastSquares::Lasso { alpha } => (alpha, 0.5),
            LeastSquares::ElasticNet { alpha, l1_ratio } => (alpha, l1_ratio),
        };
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "alpha must be finite and ≥ 0, got {alpha}"
            )));
        }
        if !(0.0..=1.0).contains(&ratio) {
            return Err(Error::InvalidArgument(format!(
                "l1_ratio must be in [0, 1], got {ratio}"
            )));
        }
        Ok(())
    }

    /// The objective at `(w, b)` on inputs `x` (d × N), targets `y` and sample weights `sw`.
    pub fn objective(self, x: &Matrix, y: &[f64], sw: Fitting, w: &[f64], b: f64) -> f64 {
        let (c, l1, l2) = self.weights(sw.total(y.len()));
        let rss: f64 = (0..y.len())
            .map(|j| {
                let f: f64 = (0..x.rows()).map(|i| x.get(i, j) * w[i]).sum::<f64>() + b;
                sw.weight(j) * (y[j] - f).powi(2)
            })
            .sum();
        c * rss
            + l1 * w.iter().map(|v| v.abs()).sum::<f64>()
            + 0.5 * l2 * w.iter().map(|v| v * v).sum::<f64>()
    }
}

/// A fitted linear model `f(x) = wᵀx + b` and how the solver got there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinearFit {
    pub coef: Vec<f64>,
    pub intercept: f64,
    /// The objective at the solution, recomputed from `coef` and `intercept`.
    pub objective: f64,
    /// `solved`, `almost_solved`.
    pub status: String,
    pub iterations: u32,
    pub seconds: f64,
}

impl LinearFit {
    /// The fit `(coef, intercept)` with its objective, how its solver ended and its time since
    /// `t0`.
    pub(crate) fn new(
        (coef, intercept): (Vec<f64>, f64),
        objective: f64,
        status: &str,
        iterations: usize,
        t0: Instant,
    ) -> Self {
        Self {
            coef,
            intercept,
            objective,
            status: status.into(),
            iterations: iterations as u32,
            seconds: t0.elapsed().as_secs_f64(),
        }
    }

    /// `wᵀx_j + b` for every column of `x` (d × N).
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.cols())
            .map(|j| {
                self.intercept
                    + (0..x.rows())
                        .map(|i| x.get(i, j) * self.coef[i])
                        .sum::<f64>()
            })
            .collect()
    }
}

/// `log(1 + e^m)` without overflow.
pub fn softplus(m: f64) -> f64 {
    m.max(0.0) + (-m.abs()).exp().ln_1p()
}

/// The feature means x̄ (one per row of `x`, d × N) and the target mean ȳ, weighted by `sw`: the
/// centring that leaves the intercept out of the least-squares programs.
fn means(x: &Matrix, y: &[f64], sw: Fitting) -> (Vec<f64>, f64) {
    let total = sw.total(y.len());
    let mut xm = vec![0.0; x.rows()];
    let mut ym = 0.0;
    for (j, yj) in y.iter().enumerate() {
        let w = sw.weight(j);
        xm.iter_mut().zip(x.col(j)).for_each(|(m, v)| *m += w * v);
        ym += w * yj;
    }
    xm.iter_mut().for_each(|m| *m /= total);
    (xm, ym / total)
}

/// The inputs `x` (d × N) for `n` samples: shapes agree, at least one of each, all finite.
fn check_inputs(x: &Matrix, n: usize) -> Result<()> {
    if x.cols() != n || n == 0 || x.rows() == 0 {
        return Err(Error::Shape(format!(
            "{} input columns for {n} targets (need the same, at least one sample and one feature)",
            x.cols()
        )));
    }
    if !x.is_finite() {
        return Err(Error::NonFinite("GLM data".into()));
    }
    Ok(())
}

fn check_data(x: &Matrix, y: &[f64]) -> Result<()> {
    check_inputs(x, y.len())?;
    if y.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite("GLM data".into()));
    }
    Ok(())
}

/// What a fit tells its caller each iteration: the iteration and its objective (the interior
/// point's primal objective, coordinate descent's objective after a sweep, L-BFGS's and FISTA's
/// objective, the SVM dual method's dual objective). An answer stops the fit, which keeps the
/// point it has and says why in its status.
pub type Watch<'a> = dyn FnMut(usize, f64) -> Option<Stop> + 'a;

/// A watcher that never stops a fit.
pub fn unwatched(_: usize, _: f64) -> Option<Stop> {
    None
}

/// Default tolerance and iteration cap of the interior point on the small convex programs of
/// `glm` (`glm.ipm_tol`, `glm.ipm_max_iter`) and `perceptron`: gap and feasibility 1e-10, at
/// most 500 iterations, Clarabel's factorisation on
/// one thread ([`crate::conic`]). Where Clarabel picks faer's supernodal LDLᵀ (large dense
/// programs) its parallel factorisation rounds differently on different thread counts, as
/// measured on the convex model's programs, and `bench/glm_scale.py`'s figures are measured on
/// one thread; the bundled sets' programs take QDLDL, which has one.
pub(crate) const IPM_TOL: f64 = 1e-10;
pub(crate) const IPM_MAX_ITER: u32 = 500;

/// What the interior point returned: the solution (the last iterate when `watch` stopped it),
/// `solved`, `almost_solved` or the stop's name, and the iteration count.
pub(crate) struct IpmAnswer {
    pub x: Vec<f64>,
    pub status: String,
    pub iterations: u32,
}

impl IpmAnswer {
    /// The fit whose `d` coefficients lead the solution and whose intercept is at `ob` (pinned at
    /// 0 by a zero cone without an intercept: then exactly 0), scored by `objective`.
    pub fn read_fit(
        &self,
        (d, ob, sw): (usize, usize, Fitting),
        objective: impl FnOnce(&[f64], f64) -> f64,
        t0: Instant,
    ) -> LinearFit {
        let intercept = if sw.intercept { self.x[ob] } else { 0.0 };
        self.fit((self.x[..d].to_vec(), intercept), objective, t0)
    }

    /// The fit `(coef, intercept)` read from this answer, scored by `objective`, timed from `t0`.
    pub fn fit(
        &self,
        (coef, intercept): (Vec<f64>, f64),
        objective: impl FnOnce(&[f64], f64) -> f64,
        t0: Instant,
    ) -> LinearFit {
        let objective = objective(&coef, intercept);
        LinearFit::new(
            (coef, intercept),
            objective,
            &self.status,
            self.iterations as usize,
            t0,
        )
    }
}

/// Solves `min ½xᵀPx + qᵀx` s.t. `b − Ax ∈ cones` with Clarabel to `limits` under `watch`; an
/// error names `what` when Clarabel cannot solve it.
pub(crate) fn solve_conic(
    program: Conic,
    what: &str,
    limits: IpmLimits,
    watch: &mut Watch,
) -> Result<IpmAnswer> {
    let solved = conic::solve(program, limits.tol, limits.max_iter, &mut |it| {
        watch(it.iteration, it.objective)
    })?;
    let sol = &solved.solution;
    let status = match sol.status {
        SolverStatus::Solved => "solved".to_string(),
        SolverStatus::AlmostSolved => "almost_solved".to_string(),
        SolverStatus::CallbackTerminated => solved.stop().name().to_string(),
        // the cap the user set: the last iterate, with a warning (as scikit-learn's
        // ConvergenceWarning)
        SolverStatus::MaxIterations => "iteration_limit".to_string(),
        other => return Err(conic::failure(other, &format!("the {what} program"))),
    };
    if sol.x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver("Clarabel returned non-finite values".into()));
    }
    Ok(IpmAnswer {
        x: sol.x.clone(),
        status,
        iterations: sol.iterations,
    })
}

/// Fits a ridge, lasso or elastic-net model (with an unpenalised intercept) by interior point.
/// `x` is d × N (samples as columns).
pub fn fit_least_squares(
    x: &Matrix,
    y: &[f64],
    sw: Fitting,
    model: LeastSquares,
    watch: &mut Watch,
) -> Result<LinearFit> {
    model.validate()?;
    check_data(x, y)?;
    check_weights(sw, y.len())?;
    if y.len() > x.rows() {
        return least_squares_gram(x, y, sw, model, watch);
    }
    let t0 = Instant::now();
    let (d, n) = (x.rows(), y.len());
    let (c, l1, l2) = model.weights(sw.total(n));
    // variables: w (d), b, r (N), t (d, only with an l1 term)
    let with_t = l1 > 0.0;
    let (ob, or) = (d, d + 1);
    let ot = d + 1 + n;
    let nvar = ot + if with_t { d } else { 0 };
    // ½ vᵀPv: 2c on r, l2 on w (upper triangle; diagonal here)
    let (mut pr, mut pc, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..d {
        if l2 > 0.0 {
            pr.push(i);
            pc.push(i);
            pv.push(l2);
        }
    }
    for j in 0..n {
        pr.push(or + j);
        pc.push(or + j);
        pv.push(2.0 * c * sw.weight(j));
    }
    let p = CscMatrix::new_from_triplets(nvar, nvar, pr, pc, pv);
    let mut q = vec![0.0; nvar];
    if with_t {
        q[ot..].iter_mut().for_each(|v| *v = l1);
    }
    // Xw + b + r = y (zero cone); then t − w ≥ 0, t + w ≥ 0
    let mut rows = Rows::default();
    for (j, &yj) in y.iter().enumerate() {
        rows.sample(j, x, j, 1.0);
        rows.entry(j, ob, 1.0);
        rows.entry(j, or + j, 1.0);
        rows.b.push(yj);
    }
    rows.cones.push(SupportedConeT::ZeroConeT(n));
    if with_t {
        for i in 0..d {
            // s = t − w: row (w: +1, t: −1)
            rows.entries([n + i, n + i], [i, ot + i], [1.0, -1.0]);
            // s = t + w: row (w: −1, t: −1)
            rows.entries([n + d + i, n + d + i], [i, ot + i], [-1.0, -1.0]);
        }
        rows.b.extend(std::iter::repeat_n(0.0, 2 * d));
        rows.cones.push(SupportedConeT::NonnegativeConeT(2 * d));
    }
    if !sw.intercept {
        rows.fix_at_zero(ob..ob + 1);
    }
    let ipm = solve_conic(rows.program(p, q), model.name(), sw.ipm, watch)?;
    Ok(ipm.read_fit((d, ob, sw), |w, b| model.objective(x, y, sw, w, b), t0))
}

/// The Gram form for more samples than features: on centred data the problem is
/// `min wᵀ(cG + (l2/2)I)w − 2c(X_c W y_c)ᵀw + l1‖w‖₁` with the d × d Gram matrix
/// `G = X_c W X_cᵀ` (one GEMM; W the sample weights, centring by weighted means), and the
/// intercept is `ȳ − x̄ᵀw`.
fn least_squares_gram(
    x: &Matrix,
    y: &[f64],
    sw: Fitting,
    model: LeastSquares,
    watch: &mut Watch,
) -> Result<LinearFit> {
    use faer::linalg::matmul::matmul;
    let t0 = Instant::now();
    let (d, n) = (x.rows(), y.len());
    let (c, l1, l2) = model.weights(sw.total(n));
    // without an intercept nothing is centred
    let (xm, ym) = if sw.intercept {
        means(x, y, sw)
    } else {
        (vec![0.0; d], 0.0)
    };
    // the centred columns times √w_j, so that one product gives Σ w_j x_j x_jᵀ
    let xc: Vec<f64> = x
        .as_slice()
        .chunks_exact(d)
        .enumerate()
        .flat_map(|(j, col)| {
            let root = sw.weight(j).sqrt();
            col.iter().zip(&xm).map(move |(v, m)| root * (v - m))
        })
        .collect();
    let xc = faer::MatRef::from_column_major_slice(&xc, d, n);
    let mut g = faer::Mat::<f64>::zeros(d, d);
    matmul(
        g.as_mut(),
        faer::Accum::Replace,
        xc,
        xc.transpose(),
        1.0,
        faer::Par::Seq,
    );
    let with_t = l1 > 0.0;
    let nvar = if with_t { 2 * d } else { d };
    // P = 2cG + l2 I (upper triangle), q = −2c X_c y_c
    let (mut pr, mut pc, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for col in 0..d {
        for row in 0..=col {
            let v = 2.0 * c * g[(row, col)] + if row == col { l2 } else { 0.0 };
            if v != 0.0 {
                pr.push(row);
                pc.push(col);
                pv.push(v);
            }
        }
    }
    let p = CscMatrix::new_from_triplets(nvar, nvar, pr, pc, pv);
    let mut q = vec![0.0; nvar];
    for (j, &yj) in y.iter().enumerate() {
        // √w_j (y_j − ȳ) times the √w_j-scaled column: w_j (y_j − ȳ)(x_j − x̄)
        let r = sw.weight(j).sqrt() * (yj - ym);
        for (q, v) in q[..d].iter_mut().zip(xc.col(j).iter()) {
            *q -= 2.0 * c * r * v;
        }
    }
    let mut rows = Rows::default();
    if with_t {
        q[d..].iter_mut().for_each(|v| *v = l1);
        rows.abs_epigraph(0, d, d);
    }
    let ipm = solve_conic(rows.program(p, q), model.name(), sw.ipm, watch)?;
    let coef = ipm.x[..d].to_vec();
    let intercept = ym - xm.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>();
    Ok(ipm.fit(
        (coef, intercept),
        |w, b| model.objective(x, y, sw, w, b),
        t0,
    ))
}

/// ℓ₂- or ℓ₁-penalised binary logistic regression, scikit-learn's `LogisticRegression(C)`:
/// `C Σ_i log(1 + exp(−y_i (wᵀx_i + b))) + r(w)` with `r = ½‖w‖²` (`l1 = false`) or `‖w‖₁`, labels
/// `y_i ∈ {−1, +1}`, intercept unpenalised.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub c: f64,
    pub l1: bool,
}

impl Logistic {
    /// The objective at `(w, b)`; `y` holds ±1, `sw` weighs the samples.
    pub fn objective(self, x: &Matrix, y: &[f64], sw: Fitting, w: &[f64], b: f64) -> f64 {
        let loss: f64 = (0..y.len())
            .map(|j| {
                let f = (0..x.rows()).map(|i| x.get(i, j) * w[i]).sum::<f64>() + b;
                sw.weight(j) * softplus(-y[j] * f)
            })
            .sum();
        let r = if self.l1 {
            w.iter().map(|v| v.abs()).sum::<f64>()
        } else {
            0.5 * w.iter().map(|v| v * v).sum::<f64>()
        };
        self.c * loss + r
    }
}

/// The objective `½xᵀPx + qᵀx` of a penalised likelihood over `nvar` variables, the weights
/// first: `C Σ_j w_j t_j + ½‖w‖²` with `t` the loss epigraphs at `losses` (one per sample,
/// weighted by `sw`), or with `l1` `C Σ_j w_j t_j + Σ s`, `s` the ℓ₁ epigraph of the `weights`
/// weights in the last variables.
pub(crate) fn likelihood_objective(
    nvar: usize,
    weights: usize,
    losses: std::ops::Range<usize>,
    (c, sw): (f64, Fitting),
    l1: bool,
) -> (CscMatrix<f64>, Vec<f64>) {
    let p = if l1 {
        CscMatrix::zeros((nvar, nvar))
    } else {
        let diagonal = (0..weights).collect::<Vec<_>>();
        CscMatrix::new_from_triplets(nvar, nvar, diagonal.clone(), diagonal, vec![1.0; weights])
    };
    let mut q = vec![0.0; nvar];
    q[losses]
        .iter_mut()
        .enumerate()
        .for_each(|(j, v)| *v = c * sw.weight(j));
    if l1 {
        q[nvar - weights..].iter_mut().for_each(|v| *v = 1.0);
    }
    (p, q)
}

/// Fits [`Logistic`] by interior point with exponential cones: per sample `t_i ≥ log(1 + e^{z_i})`
/// as `u + v ≤ 1`, `(−t_i, 1, u) ∈ K_exp`, `(z_i − t_i, 1, v) ∈ K_exp`. `y` must hold ±1.
pub fn fit_logistic(
    x: &Matrix,
    y: &[f64],
    sw: Fitting,
    model: Logistic,
    watch: &mut Watch,
) -> Result<LinearFit> {
    check_logistic(x, y, model)?;
    check_weights(sw, y.len())?;
    let t0 = Instant::now();
    let (d, n) = (x.rows(), y.len());
    // variables: w (d), b, t (N), u (N), v (N), s (d, the ℓ₁ epigraph)
    let (ob, ot, ou, ov) = (d, d + 1, d + 1 + n, d + 1 + 2 * n);
    let os = d + 1 + 3 * n;
    let nvar = os + if model.l1 { d } else { 0 };
    let (p, q) = likelihood_objective(nvar, d, ot..ou, (model.c, sw), model.l1);
    let mut rows = Rows::default();
    let mut row = 0;
    // u_i + v_i ≤ 1
    for j in 0..n {
        rows.entries([row, row], [ou + j, ov + j], [1.0, 1.0]);
        rows.b.push(1.0);
        row += 1;
    }
    rows.cones.push(SupportedConeT::NonnegativeConeT(n));
    if model.l1 {
        row = rows.abs_epigraph(row, d, os);
    }
    for (j, &yj) in y.iter().enumerate() {
        // (−t, 1, u) ∈ K_exp
        rows.entries([row, row + 2], [ot + j, ou + j], [1.0, -1.0]);
        rows.b.extend([0.0, 1.0, 0.0]);
        rows.cones.push(SupportedConeT::ExponentialConeT());
        row += 3;
        // (z − t, 1, v) ∈ K_exp with z = −y (wᵀx + b): s₁ = −(y xᵀw + y b + t)
        rows.sample(row, x, j, yj);
        rows.entries([row, row, row + 2], [ob, ot + j, ov + j], [yj, 1.0, -1.0]);
        rows.b.extend([0.0, 1.0, 0.0]);
        rows.cones.push(SupportedConeT::ExponentialConeT());
        row += 3;
    }
    if !sw.intercept {
        rows.fix_at_zero(ob..ob + 1);
    }
    let ipm = solve_conic(rows.program(p, q), "logistic regression", sw.ipm, watch)?;
    Ok(ipm.read_fit((d, ob, sw), |w, b| model.objective(x, y, sw, w, b), t0))
}

/// The data and C of a binary model with labels ±1 (logistic regression, the SVM).
fn check_binary(x: &Matrix, y: &[f64], c: f64, what: &str) -> Result<()> {
    check_data(x, y)?;
    check_c(c)?;
    if let Some(v) = y.iter().find(|&&v| v != 1.0 && v != -1.0) {
        return Err(Error::InvalidArgument(format!(
            "{what} needs labels ±1, found {v}"
        )));
    }
    Ok(())
}

fn check_c(c: f64) -> Result<()> {
    if !(c.is_finite() && c > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "C must be positive and finite, got {c}"
        )));
    }
    Ok(())
}

fn check_logistic(x: &Matrix, y: &[f64], model: Logistic) -> Result<()> {
    check_binary(x, y, model.c, "logistic regression")
}

/// Ridge in closed form: centre X and y, `w = (XcXcᵀ + αI)⁻¹ Xc yc`, `b = ȳ − x̄ᵀw` (a
/// Cholesky of the d × d normal matrix; for checking and small d).
pub fn ridge_closed_form(x: &Matrix, y: &[f64], alpha: f64) -> Result<(Vec<f64>, f64)> {
    check_data(x, y)?;
    let d = x.rows();
    let (xm, ym) = means(x, y, Fitting::default());
    let mut g = faer::Mat::<f64>::zeros(d, d);
    let mut rhs = faer::Mat::<f64>::zeros(d, 1);
    for (j, &yj) in y.iter().enumerate() {
        for a in 0..d {
            let xa = x.get(a, j) - xm[a];
            rhs[(a, 0)] += xa * (yj - ym);
            for b in 0..d {
                g[(a, b)] += xa * (x.get(b, j) - xm[b]);
            }
        }
    }
    for a in 0..d {
        g[(a, a)] += alpha;
    }
    let llt = g
        .llt(faer::Side::Lower)
        .map_err(|_| Error::Numerical("the ridge normal matrix is not positive definite".into()))?;
    use faer::linalg::solvers::Solve;
    let w = llt.solve(&rhs);
    let coef: Vec<f64> = (0..d).map(|i| w[(i, 0)]).collect();
    let intercept = ym - xm.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>();
    Ok((coef, intercept))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{Dataset, Targets};
    use std::path::Path;

    /// `model` fitted by interior point, unweighted, with an intercept.
    pub(crate) fn ipm_least_squares(
        x: &Matrix,
        y: &[f64],
        model: LeastSquares,
    ) -> Result<LinearFit> {
        fit_least_squares(x, y, Fitting::default(), model, &mut unwatched)
    }

    /// `model` fitted by interior point, unweighted, with an intercept.
    pub(crate) fn ipm_logistic(x: &Matrix, y: &[f64], model: Logistic) -> Result<LinearFit> {
        fit_logistic(x, y, Fitting::default(), model, &mut unwatched)
    }

    pub(crate) fn diabetes(standardize: bool) -> (Matrix, Vec<f64>) {
        let ds = Dataset::load(Path::new("diabetes"), &Targets::Last(1)).unwrap();
        let ds = if standardize {
            ds.standardized().unwrap().0
        } else {
            ds
        };
        (ds.x.clone(), ds.y.as_slice().to_vec())
    }

    #[test]
    fn ridge_matches_its_closed_form() {
        for (standardize, alpha) in [(true, 1.0), (true, 100.0), (false, 0.1)] {
            let (x, y) = diabetes(standardize);
            let fit = ipm_least_squares(&x, &y, LeastSquares::Ridge { alpha }).unwrap();
            let (w, b) = ridge_closed_form(&x, &y, alpha).unwrap();
            let model = LeastSquares::Ridge { alpha };
            let exact = model.objective(&x, &y, Fitting::default(), &w, b);
            assert!(
                (fit.objective - exact).abs() <= 1e-8 * exact,
                "α = {alpha}: {} vs {exact}",
                fit.objective
            );
            let scale = w.iter().map(|v| v.abs()).fold(0.0, f64::max);
            for (a, e) in fit.coef.iter().zip(&w) {
                assert!(
                    (a - e).abs() <= 1e-5 * scale,
                    "α = {alpha}: coefficient {a} vs {e}"
                );
            }
        }
    }

    #[test]
    fn lasso_and_elastic_net_satisfy_their_optimality_conditions() {
        // KKT of c‖r‖² + l1‖w‖₁ + l2/2‖w‖²: g = −2c Xr + l2 w must be −l1 sign(w) where w ≠ 0,
        // and |g| ≤ l1 where w = 0; the intercept's gradient Σ r is 0.
        let (x, y) = diabetes(true);
        let n = y.len();
        for model in [
            LeastSquares::Lasso { alpha: 0.5 },
            LeastSquares::Lasso { alpha: 5.0 },
            LeastSquares::ElasticNet {
                alpha: 1.0,
                l1_ratio: 0.7,
            },
        ] {
            let fit = ipm_least_squares(&x, &y, model).unwrap();
            let (c, l1, l2) = model.weights(n as f64);
            let r: Vec<f64> = (0..n)
                .map(|j| {
                    y[j] - fit.intercept
                        - (0..x.rows())
                            .map(|i| x.get(i, j) * fit.coef[i])
                            .sum::<f64>()
                })
                .collect();
            assert!(
                r.iter().sum::<f64>().abs() <= 1e-6 * n as f64,
                "{model:?}: intercept"
            );
            let mut zeros = 0;
            for i in 0..x.rows() {
                let g =
                    -2.0 * c * (0..n).map(|j| x.get(i, j) * r[j]).sum::<f64>() + l2 * fit.coef[i];
                if fit.coef[i].abs() > 1e-6 {
                    assert!(
                        (g + l1 * fit.coef[i].signum()).abs() <= 1e-5 * l1.max(1.0),
                        "{model:?} feature {i}: gradient {g}, coefficient {}",
                        fit.coef[i]
                    );
                } else {
                    zeros += 1;
                    assert!(
                        g.abs() <= l1 * (1.0 + 1e-5),
                        "{model:?} feature {i}: |{g}| > {l1}"
                    );
                }
            }
            if model == (LeastSquares::Lasso { alpha: 5.0 }) {
                assert!(zeros > 0, "a large α must zero some coefficients");
            }
        }
    }

    pub(crate) fn breast_cancer() -> (Matrix, Vec<f64>) {
        let ds = Dataset::load(Path::new("breast_cancer"), &Targets::Last(1)).unwrap();
        let ds = ds.standardized().unwrap().0;
        let y = ds.y.as_slice().iter().map(|&v| 2.0 * v - 1.0).collect();
        (ds.x, y)
    }

    #[test]
    fn logistic_regression_satisfies_its_optimality_conditions() {
        // KKT: with σ_i = 1/(1 + e^{−z_i}), z_i = −y_i(wᵀx_i + b), the loss gradient is
        // g = −C Σ_i σ_i y_i x_i; ℓ₂: g + w = 0; ℓ₁: g = −sign(w) on the support, |g| ≤ 1 off it;
        // and Σ_i σ_i y_i = 0 (intercept).
        let (x, y) = breast_cancer();
        let n = y.len();
        for model in [
            Logistic { c: 1.0, l1: false },
            Logistic { c: 0.05, l1: false },
            Logistic { c: 0.1, l1: true },
        ] {
            let fit = ipm_logistic(&x, &y, model).unwrap();
            let sig: Vec<f64> = (0..n)
                .map(|j| {
                    let z = -y[j]
                        * ((0..x.rows())
                            .map(|i| x.get(i, j) * fit.coef[i])
                            .sum::<f64>()
                            + fit.intercept);
                    1.0 / (1.0 + (-z).exp())
                })
                .collect();
            let gb: f64 = (0..n).map(|j| sig[j] * y[j]).sum::<f64>() * model.c;
            assert!(gb.abs() <= 1e-5, "{model:?}: intercept gradient {gb}");
            let mut support = 0;
            for i in 0..x.rows() {
                let g = -model.c * (0..n).map(|j| sig[j] * y[j] * x.get(i, j)).sum::<f64>();
                let w = fit.coef[i];
                if !model.l1 {
                    assert!(
                        (g + w).abs() <= 1e-5 * w.abs().max(1.0),
                        "{model:?} {i}: {g} + {w}"
                    );
                } else if w.abs() > 1e-6 {
                    support += 1;
                    assert!(
                        (g + w.signum()).abs() <= 1e-5,
                        "{model:?} {i}: {g}, w = {w}"
                    );
                } else {
                    assert!(g.abs() <= 1.0 + 1e-5, "{model:?} {i}: |{g}| > 1");
                }
            }
            if model.l1 {
                assert!(
                    support > 0 && support < x.rows(),
                    "ℓ₁ gives a sparse model: {support}"
                );
            }
        }
        let logistic = |y: &[f64], c| ipm_logistic(&x, y, Logistic { c, l1: false });
        assert!(logistic(&vec![0.0; n], 1.0).is_err());
        assert!(logistic(&y, 0.0).is_err());
    }

    #[test]
    fn bad_hyper_parameters_and_data_are_rejected() {
        let (x, y) = diabetes(true);
        for m in [
            LeastSquares::Ridge { alpha: -1.0 },
            LeastSquares::Lasso { alpha: f64::NAN },
            LeastSquares::ElasticNet {
                alpha: 1.0,
                l1_ratio: 1.5,
            },
        ] {
            assert!(ipm_least_squares(&x, &y, m).is_err(), "{m:?}");
        }
        assert!(ipm_least_squares(&x, &y[1..], LeastSquares::Ridge { alpha: 1.0 }).is_err());
        assert!(fit_least_squares(
            &Matrix::zeros(3, 0),
            &[],
            Fitting::default(),
            LeastSquares::Ridge { alpha: 1.0 },
            &mut crate::glm::unwatched
        )
        .is_err());
    }
}
