//! Clarabel under the training interface's budget: the solver runs on its own thread and its
//! per-iteration callback hands each iteration to the caller's thread (which tells the observer
//! and checks the deadline and interrupt) and waits for the answer, stop or go on. Both conic
//! solvers of the convex model ([`super::ipm`], [`super::active_set`]) run through here.

use super::certificate::Progress;
use super::patterns::Mask;
use super::program::Program;
use crate::error::{Error, Result};
use crate::train::{Budget, Stop};
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultInfo, DefaultSettingsBuilder, DefaultSolution, DefaultSolver, IPSolver, SolverStatus,
    SupportedConeT,
};

/// A conic program in Clarabel's form: minimise `½xᵀPx + qᵀx` subject to `Ax + s = b`, `s ∈ K`
/// (`P` upper triangular).
pub struct Conic {
    pub p: CscMatrix<f64>,
    pub q: Vec<f64>,
    pub a: CscMatrix<f64>,
    pub b: Vec<f64>,
    pub cones: Vec<SupportedConeT<f64>>,
}

/// The constraint rows `Ax + s = b` of a convex-model program, built row by row, with their
/// cones in row order.
#[derive(Default)]
pub struct Rows {
    ri: Vec<usize>,
    ci: Vec<usize>,
    vals: Vec<f64>,
    pub b: Vec<f64>,
    pub cones: Vec<SupportedConeT<f64>>,
}

impl Rows {
    /// An entry `A[row, col] = value`.
    pub fn entry(&mut self, row: usize, col: usize, value: f64) {
        self.ri.push(row);
        self.ci.push(col);
        self.vals.push(value);
    }

    /// The ReLU cone row `(2D − I)_ii x̃_iᵀ u ≥ 0` of the pattern `mask` and sample `i`, for the
    /// group whose variables start at `col`, as `−s x̃_iᵀ u + slack = 0` with `slack ≥ 0` (the
    /// caller adds the nonnegative cone once all such rows are in).
    pub fn cone_row(&mut self, prog: &Program, mask: &Mask, i: usize, col: usize) {
        let s = if mask.on(i) { 1.0 } else { -1.0 };
        let r = self.b.len();
        for (c, &x) in prog.data.row(i).iter().enumerate() {
            self.entry(r, col + c, -s * x);
        }
        self.b.push(0.0);
    }

    /// `t_w ≥ ‖u_w‖` for `count` groups, `t_w` at `t0 + w` and `u_w` at `u0 + w d̃`: one
    /// second-order cone of dimension d̃ + 1 each.
    pub fn epigraphs(&mut self, count: usize, t0: usize, u0: usize, dim: usize) {
        for w in 0..count {
            let r = self.b.len();
            self.entry(r, t0 + w, -1.0);
            for c in 0..dim {
                self.entry(r + 1 + c, u0 + w * dim + c, -1.0);
            }
            self.b.extend(std::iter::repeat_n(0.0, dim + 1));
            self.cones.push(SupportedConeT::SecondOrderConeT(dim + 1));
        }
    }

    /// The program `min ½xᵀPx + qᵀx` over `q.len()` variables subject to these rows.
    pub fn program(self, p: CscMatrix<f64>, q: Vec<f64>) -> Conic {
        let a = CscMatrix::new_from_triplets(self.b.len(), q.len(), self.ri, self.ci, self.vals);
        Conic {
            p,
            q,
            a,
            b: self.b,
            cones: self.cones,
        }
    }
}

/// What a run gives: Clarabel's solution and how it ended in the interface's terms (`Optimal`
/// when Clarabel solved it, the budget's or observer's reason when they stopped it).
pub struct Run {
    pub solution: DefaultSolution<f64>,
    pub stop: Stop,
}

/// Threads of Clarabel's factorisation (faer's supernodal LDLᵀ). One: its parallel
/// factorisation spent most of its time in the scheduler on the 2-core machine, and with it
/// the factors' rounding, hence the iterates, depended on the thread count. Measured (one run
/// each, all threads → one): the working sets on the ReLU model, breast_cancer with 50 gates
/// 55.1 → 32.6 s, N = 1 000, d = 10, 100 gates 49.4 → 22.8 s; the interior point on them
/// 14.4 → 11.0 s and 33.2 → 30.6 s; the 2-D teacher with every pattern, 2.6 s either way.
const THREADS: u32 = 1;

/// Solves `program` to tolerance `tol` (absolute and relative gap, feasibility) in at most
/// `max_iter` iterations; `on_iteration` sees every iteration (Clarabel's own objective, dual
/// objective, relative gap and primal residual) and may stop it, as may `budget`.
pub fn solve(
    program: Conic,
    tol: f64,
    max_iter: u32,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<Run> {
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_threads(THREADS)
        .max_iter(max_iter)
        .tol_gap_abs(tol)
        .tol_gap_rel(tol)
        .tol_feas(tol)
        .build()
        .map_err(|e| Error::Solver(format!("invalid Clarabel settings: {e}")))?;
    let clock = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Progress>(0);
    let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel::<bool>(0);
    let reply_rx = std::sync::Mutex::new(reply_rx);
    let mut told = None;
    let solution = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let Conic { p, q, a, b, cones } = program;
            let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
                .map_err(|e| Error::Solver(format!("Clarabel rejected the program: {e}")))?;
            solver.set_termination_callback(move |info: &DefaultInfo<f64>| {
                let p = Progress {
                    iteration: info.iterations as usize,
                    objective: info.cost_primal,
                    dual: info.cost_dual,
                    rel_gap: info.gap_rel,
                    violation: info.res_primal,
                    active_groups: 0,
                    seconds: clock.elapsed().as_secs_f64(),
                };
                tx.send(p).is_err() || reply_rx.lock().map_or(true, |r| r.recv().unwrap_or(true))
            });
            solver.solve();
            // drops the callback, and with it the channel this thread's caller reads
            solver.unset_termination_callback();
            Ok::<_, Error>(solver.solution)
        });
        for p in rx.iter() {
            let stop = on_iteration(&p).or_else(|| budget.exhausted());
            if stop.is_some() {
                told = stop;
            }
            if reply_tx.send(stop.is_some()).is_err() {
                break;
            }
        }
        worker.join().expect("the interior-point thread panicked")
    })?;
    let stop = match solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => Stop::Optimal,
        SolverStatus::CallbackTerminated => told.unwrap_or(Stop::Interrupted),
        SolverStatus::MaxIterations => Stop::IterationLimit,
        _ => Stop::SolverFailed,
    };
    if solution.x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver(format!(
            "Clarabel returned non-finite values (status {:?})",
            solution.status
        )));
    }
    Ok(Run { solution, stop })
}
