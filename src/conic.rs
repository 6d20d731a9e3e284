//! Clarabel under a watcher: the one place a conic program is solved by interior point. The
//! solver runs on its own thread; its per-iteration callback hands each iteration to the caller's
//! thread, whose `watch` (an observer, a deadline, Ctrl-C) answers stop or go on. The convex
//! two-layer model, the convex linear models and the perceptron LPs all solve through here.

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::train::Stop;
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

/// The constraints `Ax + s = b`, `s ∈ K` of a program, built entry by entry, with their cones in
/// row order.
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

    /// Rows fixing the variables `cols` at 0 (a zero cone after every row so far): a model
    /// without an intercept keeps its program and pins the intercept.
    pub fn fix_at_zero(&mut self, cols: std::ops::Range<usize>) {
        let n = cols.len();
        for col in cols {
            let row = self.b.len();
            self.entry(row, col, 1.0);
            self.b.push(0.0);
        }
        if n > 0 {
            self.cones.push(SupportedConeT::ZeroConeT(n));
        }
    }

    /// Several entries `A[rows[k], cols[k]] = values[k]`, in order.
    pub fn entries<const K: usize>(
        &mut self,
        rows: [usize; K],
        cols: [usize; K],
        values: [f64; K],
    ) {
        self.ri.extend(rows);
        self.ci.extend(cols);
        self.vals.extend(values);
    }

    /// The entries `scale · x_ij` of sample `j` (a column of `x`) in row `row`, at the columns
    /// of the first `x.rows()` variables (the weights); zeros are left out.
    pub fn sample(&mut self, row: usize, x: &Matrix, j: usize, scale: f64) {
        for i in 0..x.rows() {
            let v = x.get(i, j);
            if v != 0.0 {
                self.entry(row, i, scale * v);
            }
        }
    }

    /// `|x_i| ≤ s_i` for the first `n` variables and their epigraph variables `s` from `os`,
    /// as the rows `x_i − s_i ≤ 0`, `−x_i − s_i ≤ 0` from row `row` (one nonnegative cone);
    /// returns the next free row.
    pub fn abs_epigraph(&mut self, row: usize, n: usize, os: usize) -> usize {
        for i in 0..n {
            let r = row + 2 * i;
            self.entries(
                [r, r, r + 1, r + 1],
                [i, os + i, i, os + i],
                [1.0, -1.0, -1.0, -1.0],
            );
            self.b.extend([0.0, 0.0]);
        }
        self.cones.push(SupportedConeT::NonnegativeConeT(2 * n));
        row + 2 * n
    }

    /// The program `min ½xᵀPx + qᵀx` over `q.len()` variables subject to these rows (one per
    /// entry of `b`).
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

/// One interior-point iteration, in Clarabel's own figures.
#[derive(Clone, Copy, Debug)]
pub struct Iteration {
    pub iteration: usize,
    /// Primal and dual objectives, relative gap, primal residual.
    pub objective: f64,
    pub dual: f64,
    pub rel_gap: f64,
    pub violation: f64,
    /// Seconds since the solve began.
    pub seconds: f64,
}

/// Clarabel's answer, and the stop the watcher asked for (if it did).
pub struct Solved {
    pub solution: DefaultSolution<f64>,
    pub told: Option<Stop>,
}

impl Solved {
    /// How the solve ended in the training interface's terms: `Optimal` when Clarabel solved it
    /// (to full or reduced accuracy), the watcher's reason when it stopped it.
    pub fn stop(&self) -> Stop {
        match self.solution.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => Stop::Optimal,
            SolverStatus::CallbackTerminated => self.told.unwrap_or(Stop::Interrupted),
            SolverStatus::MaxIterations => Stop::IterationLimit,
            _ => Stop::SolverFailed,
        }
    }
}

/// Threads of Clarabel's factorisation (faer's supernodal LDLᵀ). One: its parallel
/// factorisation spent most of its time in the scheduler on the 2-core machine, and with it
/// the factors' rounding, hence the iterates, depended on the thread count. Measured (one run
/// each, all threads → one): the working sets on the ReLU model, breast_cancer with 50 gates
/// 55.1 → 32.6 s, N = 1 000, d = 10, 100 gates 49.4 → 22.8 s; the interior point on them
/// 14.4 → 11.0 s and 33.2 → 30.6 s; the 2-D teacher with every pattern, 2.6 s either way.
const THREADS: u32 = 1;

/// Solves `program` to tolerance `tol` (absolute and relative gap, feasibility) in at most
/// `max_iter` iterations; `watch` sees every iteration and may stop the solve (its answer is
/// kept in [`Solved::told`]).
pub fn solve(
    program: Conic,
    tol: f64,
    max_iter: u32,
    watch: &mut dyn FnMut(&Iteration) -> Option<Stop>,
) -> Result<Solved> {
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
    let (tx, rx) = std::sync::mpsc::sync_channel::<Iteration>(0);
    let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel::<bool>(0);
    let reply_rx = std::sync::Mutex::new(reply_rx);
    let mut told = None;
    let solution = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let Conic { p, q, a, b, cones } = program;
            let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
                .map_err(|e| Error::Solver(format!("Clarabel rejected the program: {e}")))?;
            solver.set_termination_callback(move |info: &DefaultInfo<f64>| {
                let it = Iteration {
                    iteration: info.iterations as usize,
                    objective: info.cost_primal,
                    dual: info.cost_dual,
                    rel_gap: info.gap_rel,
                    violation: info.res_primal,
                    seconds: clock.elapsed().as_secs_f64(),
                };
                tx.send(it).is_err() || reply_rx.lock().map_or(true, |r| r.recv().unwrap_or(true))
            });
            solver.solve();
            // drops the callback, and with it the channel this thread's caller reads
            solver.unset_termination_callback();
            Ok::<_, Error>(solver.solution)
        });
        for it in rx.iter() {
            let stop = watch(&it);
            if stop.is_some() {
                told = stop;
            }
            if reply_tx.send(stop.is_some()).is_err() {
                break;
            }
        }
        worker.join().expect("the interior-point thread panicked")
    })?;
    Ok(Solved { solution, told })
}

/// The error of a program Clarabel could not solve (`what`: "the ridge program"), in words and
/// with what to try: the statuses a user meets come from badly scaled data (entries of 1e300)
/// or a regularisation too weak for the data's conditioning.
pub fn failure(status: SolverStatus, what: &str) -> Error {
    let (why, hint) = match status {
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            ("it is infeasible", "")
        }
        SolverStatus::DualInfeasible | SolverStatus::AlmostDualInfeasible => {
            ("it is unbounded", "")
        }
        SolverStatus::MaxIterations => ("it reached the interior point's iteration limit", HINT),
        SolverStatus::MaxTime => ("it reached the solver's time limit", ""),
        SolverStatus::NumericalError => ("the factorisation failed numerically", HINT),
        SolverStatus::InsufficientProgress => ("the interior point stopped progressing", HINT),
        _ => ("the solver gave up", HINT),
    };
    Error::Solver(format!("Clarabel could not solve {what}: {why}{hint}"))
}

/// What to try when the interior point fails on numbers.
const HINT: &str = "; rescale the data (standardise the inputs; values far from 1, such as \
                    1e300, defeat the factorisation) or raise the regularisation";

/// A watcher that never stops a solve.
pub fn unwatched(_: &Iteration) -> Option<Stop> {
    None
}
