//! Interior-point backend: (8) / (8_L) as one conic program for Clarabel.
//!
//! - Each `‖M_k‖_*` through the column split of docs/scr.md §8: one shared symmetric `W_k`
//!   (m × m, m = n_{k+2} + n_{k+1}) and one PSD block `[[W_k, m_j], [m_jᵀ, z_j]]` of side m + 1 per
//!   column of `M_k` (N + n_{k+1} blocks); the term is `½ tr W_k + ½ Σ_j z_j`. No block grows with N.
//! - Each complementarity term `‖m_k‖_*` as the epigraph `t_k ≥ max(‖(a+1, c−b)‖, ‖(a−1, b+c)‖)`:
//!   two 3-dimensional second-order cones (§3.3).
//! - The polyhedral constraints (5) as a nonnegative cone.

use super::backend::{ClarabelBackend, SolveStatus, SubSolution, Subproblem, SubproblemSolver};
use super::formulation::{Affine, Layout};
use crate::error::{Error, Result};
use crate::train::Budget;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

/// Rows of `A x + s = b`, `s ∈ K`, built cone by cone.
struct ConeRows {
    rows: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
    b: Vec<f64>,
    cones: Vec<SupportedConeT<f64>>,
}

impl ConeRows {
    /// Appends one slack row `s = scale · e(v)`, i.e. `A_row = −scale·coef`, `b = scale·const`.
    fn push(&mut self, e: &Affine, scale: f64) {
        let r = self.b.len();
        for &(c, v) in &e.terms {
            self.rows.push(r);
            self.cols.push(c);
            self.vals.push(-scale * v);
        }
        self.b.push(scale * e.constant);
    }
}

extern "C" {
    /// From the system OpenBLAS that build.rs links.
    fn openblas_set_num_threads(n: std::os::raw::c_int);
}

/// The PSD blocks are tiny (side n_y + n_h + 1): OpenBLAS threads only burn a second core. One
/// thread unless the user set `OPENBLAS_NUM_THREADS`.
fn single_threaded_blas() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("OPENBLAS_NUM_THREADS").is_none() {
            // SAFETY: a plain setter of OpenBLAS's global thread count, called before any BLAS work
            // of this process and only once.
            unsafe { openblas_set_num_threads(1) }
        }
    });
}

impl SubproblemSolver for ClarabelBackend {
    fn name(&self) -> &str {
        "clarabel"
    }

    fn begin_run(&mut self, budget: &Budget) {
        self.budget = Some(budget.clone());
    }

    fn solve(&mut self, sub: &Subproblem<'_>) -> Result<SubSolution> {
        single_threaded_blas();
        let p = sub.problem;
        let lay = Layout::new(p);
        let mut k = ConeRows {
            rows: Vec::new(),
            cols: Vec::new(),
            vals: Vec::new(),
            b: Vec::new(),
            cones: Vec::new(),
        };
        let mut q = vec![0.0; lay.n_core];
        // (5): H_k ≥ 0, S_k ≥ 0, −Z ≥ 0 at the free output entries.
        let before = k.b.len();
        for layer in 0..lay.n_hidden_layers() {
            for j in 0..lay.n {
                for i in 0..p.hidden_width(layer) {
                    k.push(&Affine::var(lay.h(layer, i, j), 1.0), 1.0);
                    k.push(&lay.slack_expr(p, layer, i, j), 1.0);
                }
            }
        }
        for v in lay.output_vars().collect::<Vec<_>>() {
            k.push(&Affine::var(v, -1.0), 1.0);
        }
        k.cones
            .push(SupportedConeT::NonnegativeConeT(k.b.len() - before));

        let sqrt2 = std::f64::consts::SQRT_2;
        for layer in 0..lay.n_hidden_layers() {
            let (lambda, mu) = (sub.lambda[layer], sub.mu[layer]);
            let n_h = p.hidden_width(layer);
            let m = p.widths[layer + 2] + n_h;
            // New variables: svec(W_k) (upper triangle, column by column), z_j, t.
            let w_base = q.len();
            let w_idx = |r: usize, c: usize| {
                let (r, c) = if r <= c { (r, c) } else { (c, r) };
                w_base + c * (c + 1) / 2 + r
            };
            q.resize(w_base + m * (m + 1) / 2, 0.0);
            for i in 0..m {
                q[w_idx(i, i)] = 0.5 * lambda;
            }
            // §8: one PSD block of side m + 1 per column of M_k, sharing W_k.
            for j in 0..lay.n + n_h {
                let z = q.len();
                q.push(0.5 * lambda);
                // svec order: upper triangle column by column, off-diagonal entries scaled by √2.
                for c in 0..m {
                    for r in 0..=c {
                        let scale = if r == c { 1.0 } else { sqrt2 };
                        k.push(&Affine::var(w_idx(r, c), 1.0), scale);
                    }
                }
                for e in &lay.product_column(p, sub.params, layer, j) {
                    k.push(e, sqrt2);
                }
                k.push(&Affine::var(z, 1.0), 1.0);
                k.cones.push(SupportedConeT::PSDTriangleConeT(m + 1));
            }
            // §3.3: t ≥ ‖(a+1, c−b)‖ and t ≥ ‖(a−1, b+c)‖.
            for j in 0..lay.n {
                for i in 0..n_h {
                    let t = Affine::var(q.len(), 1.0);
                    q.push(mu);
                    let [a, b, c] = lay.complementarity_block(p, sub.params, layer, i, j);
                    let mut a_plus = a.clone();
                    a_plus.constant += 1.0;
                    let mut a_minus = a;
                    a_minus.constant -= 1.0;
                    for (first, second) in [
                        (a_plus, Affine::combine(&c, &b, -1.0)),
                        (a_minus, Affine::combine(&b, &c, 1.0)),
                    ] {
                        k.push(&t, 1.0);
                        k.push(&first, 1.0);
                        k.push(&second, 1.0);
                        k.cones.push(SupportedConeT::SecondOrderConeT(3));
                    }
                }
            }
        }
        let nvar = q.len();

        let nrows = k.b.len();
        let a = CscMatrix::new_from_triplets(nrows, nvar, k.rows, k.cols, k.vals);
        let pm = CscMatrix::zeros((nvar, nvar));
        let settings = DefaultSettingsBuilder::default()
            .verbose(self.verbose)
            .max_iter(self.max_iter)
            .tol_gap_abs(self.tol)
            .tol_gap_rel(self.tol)
            .tol_feas(self.tol)
            .build()
            .map_err(|e| Error::Solver(format!("invalid Clarabel settings: {e}")))?;
        let mut solver = DefaultSolver::new(&pm, &q, &a, &k.b, &k.cones, settings)
            .map_err(|e| Error::Solver(format!("Clarabel rejected the problem: {e}")))?;
        if let Some(budget) = self.budget.clone() {
            // polled once per interior-point iteration
            solver.set_termination_callback(move |_| budget.exhausted().is_some());
        }
        solver.solve();
        let sol = &solver.solution;
        let status = match sol.status {
            SolverStatus::Solved => SolveStatus::Solved,
            SolverStatus::AlmostSolved => SolveStatus::AlmostSolved,
            SolverStatus::CallbackTerminated => SolveStatus::Stopped(
                self.budget
                    .as_ref()
                    .and_then(Budget::exhausted)
                    .unwrap_or(crate::train::Stop::Interrupted),
            ),
            other => SolveStatus::Failed(format!("Clarabel status {other:?}")),
        };
        let status = if status.is_usable() && sol.x.iter().any(|v| !v.is_finite()) {
            SolveStatus::Failed("Clarabel returned non-finite values".into())
        } else {
            status
        };
        Ok(SubSolution {
            iterate: lay.unpack(p, &sol.x),
            objective: sol.obj_val,
            status,
            solver_iterations: sol.iterations,
            residuals: Some((sol.r_prim, sol.r_dual)),
            tolerance: None,
        })
    }
}
