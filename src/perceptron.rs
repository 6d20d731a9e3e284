//! A single threshold unit `sign(wᵀx + b)` trained by linear programming (seed 001): find `(w, b)`
//! with `y_i (wᵀx_i + b) ≥ 1` for every sample, or prove that none exists with a Farkas
//! certificate; and the robust LP of Bennett & Mangasarian (1992) for data that are not separable.
//! Several output nodes are independent LPs, one per node.

use crate::conic::{self, Conic, Rows};
use crate::error::{Error, Result};
use crate::glm::{Watch, IPM_MAX_ITER, IPM_TOL};
use crate::linalg::Matrix;
use crate::train::Stop;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSolution, SolverStatus, SupportedConeT};
use serde::{Deserialize, Serialize};

/// The answer of the feasibility LP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Separation {
    /// A separating unit: `y_i (wᵀx_i + b) ≥ 1` for all i.
    Separable { w: Vec<f64>, b: f64 },
    /// Not linearly separable. `lambda ≥ 0`, `Σ λ_i = 1`, with `Σ λ_i y_i x_i = 0` and
    /// `Σ λ_i y_i = 0` (up to `residual`): were there a separator, `0 = Σ λ_i y_i (wᵀx_i + b) ≥ 1`.
    NotSeparable { lambda: Vec<f64>, residual: f64 },
}

fn check(x: &Matrix, y: &[f64]) -> Result<()> {
    if x.cols() != y.len() || y.is_empty() || x.rows() == 0 {
        return Err(Error::Shape(format!(
            "{} input columns for {} labels (need the same, at least one)",
            x.cols(),
            y.len()
        )));
    }
    if !x.is_finite() {
        return Err(Error::NonFinite("perceptron inputs".into()));
    }
    if let Some(v) = y.iter().find(|&&v| v != 1.0 && v != -1.0) {
        return Err(Error::InvalidArgument(format!(
            "the perceptron LP needs labels ±1, found {v}"
        )));
    }
    Ok(())
}

/// `Σ_i λ_i y_i [x_i; 1]`, the quantity a Farkas certificate makes zero; its largest entry.
pub fn certificate_residual(x: &Matrix, y: &[f64], lambda: &[f64]) -> f64 {
    let mut worst = lambda.iter().zip(y).map(|(l, y)| l * y).sum::<f64>().abs();
    for i in 0..x.rows() {
        let s: f64 = (0..y.len()).map(|j| lambda[j] * y[j] * x.get(i, j)).sum();
        worst = worst.max(s.abs());
    }
    worst
}

/// An LP's answer, or the stop that cut it short.
pub type Answer<T> = std::result::Result<T, Stop>;

/// `program` by interior point under `watch`: Clarabel's solution, or the stop `watch` asked for.
fn solve(
    program: Conic,
    watch: &mut Watch,
) -> Result<std::result::Result<DefaultSolution<f64>, Stop>> {
    let solved = conic::solve(program, IPM_TOL, IPM_MAX_ITER, &mut |it| {
        watch(it.iteration, it.objective)
    })?;
    Ok(match solved.solution.status {
        SolverStatus::CallbackTerminated => Err(solved.stop()),
        _ => Ok(solved.solution),
    })
}

/// Solves the feasibility LP `y_i (wᵀx_i + b) ≥ 1` (x is d × N, y ±1); `Err(stop)` inside when
/// `watch` stopped it.
pub fn separate(x: &Matrix, y: &[f64], watch: &mut Watch) -> Result<Answer<Separation>> {
    check(x, y)?;
    let (d, n) = (x.rows(), y.len());
    // variables (w, b); rows s_i = y_i (wᵀx_i + b) − 1 ≥ 0, i.e. A_i = −y_i [x_i, 1], b_i = −1
    let mut rows = Rows::default();
    for (j, &yj) in y.iter().enumerate() {
        rows.sample(j, x, j, -yj);
        rows.entry(j, d, -yj);
    }
    rows.b = vec![-1.0; n];
    rows.cones.push(SupportedConeT::NonnegativeConeT(n));
    let program = rows.program(CscMatrix::zeros((d + 1, d + 1)), vec![0.0; d + 1]);
    let sol = match solve(program, watch)? {
        Ok(sol) => sol,
        Err(stop) => return Ok(Err(stop)),
    };
    Ok(Ok(match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {
            let w = sol.x[..d].to_vec();
            let b = sol.x[d];
            // a separator must separate: check it by arithmetic, not by the solver's word
            let margin = (0..n)
                .map(|j| y[j] * ((0..d).map(|i| w[i] * x.get(i, j)).sum::<f64>() + b))
                .fold(f64::INFINITY, f64::min);
            if margin <= 0.0 {
                return Err(Error::Solver(format!(
                    "the LP reported a separator whose smallest margin is {margin:.3e}"
                )));
            }
            Separation::Separable { w, b }
        }
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            let total: f64 = sol.z.iter().map(|z| z.max(0.0)).sum();
            if total.is_nan() || total <= 0.0 {
                return Err(Error::Solver(
                    "infeasible, but the certificate is zero".into(),
                ));
            }
            let lambda: Vec<f64> = sol.z.iter().map(|z| z.max(0.0) / total).collect();
            let residual = certificate_residual(x, y, &lambda);
            Separation::NotSeparable { lambda, residual }
        }
        other => {
            return Err(crate::conic::failure(
                other,
                "the perceptron's feasibility LP",
            ))
        }
    }))
}

/// The robust LP of Bennett & Mangasarian (1992): minimise the average violation per class,
/// `Σ_{i: y=+1} ξ_i / n₊ + Σ_{i: y=−1} ξ_i / n₋` s.t. `y_i (wᵀx_i + b) ≥ 1 − ξ_i`, `ξ ≥ 0`.
/// Returns `(w, b, objective)`; the objective is 0 exactly when the data are separable; `Err(stop)`
/// inside when `watch` stopped it.
pub fn robust_lp(x: &Matrix, y: &[f64], watch: &mut Watch) -> Result<Answer<(Vec<f64>, f64, f64)>> {
    check(x, y)?;
    let (d, n) = (x.rows(), y.len());
    let n_pos = y.iter().filter(|&&v| v > 0.0).count();
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(Error::InvalidArgument(
            "the robust LP needs samples of both classes".into(),
        ));
    }
    // variables (w, b, ξ); rows: y_i(wᵀx_i + b) + ξ_i − 1 ≥ 0, then ξ ≥ 0
    let nv = d + 1 + n;
    let mut rows = Rows::default();
    for (j, &yj) in y.iter().enumerate() {
        rows.sample(j, x, j, -yj);
        rows.entries([j, j, n + j], [d, d + 1 + j, d + 1 + j], [-yj, -1.0, -1.0]);
    }
    let mut q = vec![0.0; nv];
    for (j, &yj) in y.iter().enumerate() {
        q[d + 1 + j] = if yj > 0.0 {
            1.0 / n_pos as f64
        } else {
            1.0 / n_neg as f64
        };
    }
    rows.b = vec![-1.0; n];
    rows.b.extend(std::iter::repeat_n(0.0, n));
    rows.cones.push(SupportedConeT::NonnegativeConeT(2 * n));
    let program = rows.program(CscMatrix::zeros((nv, nv)), q);
    let sol = match solve(program, watch)? {
        Ok(sol) => sol,
        Err(stop) => return Ok(Err(stop)),
    };
    match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {
            Ok(Ok((sol.x[..d].to_vec(), sol.x[d], sol.obj_val)))
        }
        other => Err(crate::conic::failure(other, "the robust LP")),
    }
}

/// Fraction of samples with `y_i (wᵀx_i + b) > 0`.
pub fn accuracy(x: &Matrix, y: &[f64], w: &[f64], b: f64) -> f64 {
    let ok = (0..y.len())
        .filter(|&j| y[j] * ((0..x.rows()).map(|i| w[i] * x.get(i, j)).sum::<f64>() + b) > 0.0)
        .count();
    ok as f64 / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, Targets};
    use std::path::Path;

    /// Iris restricted to the given classes, `positive` as +1.
    fn iris(classes: &[f64], positive: f64) -> (Matrix, Vec<f64>) {
        let ds = Dataset::load(Path::new("iris"), &Targets::Last(1)).unwrap();
        let keep: Vec<usize> = (0..ds.n_samples())
            .filter(|&j| classes.contains(&ds.y.get(0, j)))
            .collect();
        let x = Matrix::from_fn(4, keep.len(), |i, k| ds.x.get(i, keep[k]));
        let y = keep
            .iter()
            .map(|&j| {
                if ds.y.get(0, j) == positive {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        (x, y)
    }

    #[test]
    fn setosa_is_separable_from_the_rest() {
        let (x, y) = iris(&[0.0, 1.0, 2.0], 0.0);
        match separate(&x, &y, &mut crate::glm::unwatched)
            .unwrap()
            .unwrap()
        {
            Separation::Separable { w, b } => assert_eq!(accuracy(&x, &y, &w, b), 1.0),
            other => panic!("expected a separator, got {other:?}"),
        }
        let (_, _, obj) = robust_lp(&x, &y, &mut crate::glm::unwatched)
            .unwrap()
            .unwrap();
        assert!(
            obj.abs() < 1e-7,
            "separable data have zero robust-LP objective: {obj}"
        );
    }

    #[test]
    fn versicolor_and_virginica_are_not_separable_and_the_certificate_checks() {
        let (x, y) = iris(&[1.0, 2.0], 1.0);
        let Separation::NotSeparable { lambda, residual } =
            separate(&x, &y, &mut crate::glm::unwatched)
                .unwrap()
                .unwrap()
        else {
            panic!("versicolor and virginica are not linearly separable on four features");
        };
        // the certificate, by arithmetic: λ ≥ 0, Σλ = 1, Σ λ_i y_i [x_i; 1] ≈ 0
        assert!(lambda.iter().all(|&l| l >= 0.0));
        assert!((lambda.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let r = certificate_residual(&x, &y, &lambda);
        assert_eq!(r, residual);
        assert!(r < 1e-7, "certificate residual {r}");
        // and it is a proof: any (w, b) gives Σ λ_i y_i (wᵀx_i + b) = O(r), far below the 1 that
        // separation needs
        let (w, b, obj) = robust_lp(&x, &y, &mut crate::glm::unwatched)
            .unwrap()
            .unwrap();
        let s: f64 = (0..y.len())
            .map(|j| lambda[j] * y[j] * ((0..4).map(|i| w[i] * x.get(i, j)).sum::<f64>() + b))
            .sum();
        assert!(s < 0.5, "{s}");
        assert!(obj > 0.0);
        let acc = accuracy(&x, &y, &w, b);
        assert!(acc > 0.9 && acc < 1.0, "robust LP accuracy {acc}");
    }

    #[test]
    fn bad_labels_and_shapes_are_rejected() {
        let x = Matrix::zeros(2, 3);
        assert!(separate(&x, &[1.0, 0.0, -1.0], &mut crate::glm::unwatched).is_err());
        assert!(separate(&x, &[1.0, -1.0], &mut crate::glm::unwatched).is_err());
        assert!(robust_lp(&x, &[1.0, 1.0, 1.0], &mut crate::glm::unwatched).is_err());
    }
}
