//! A mixed-integer linear program in the row-wise form HiGHS takes, built column by column and
//! row by row, plus the solver-independent pieces of a solve: settings, status and outcome.

use crate::error::{Error, Result};
use crate::net::Mlp;
use crate::train::Interrupt;
use serde::Serialize;

/// `min cᵀx` subject to `row_lower ≤ Ax ≤ row_upper`, `col_lower ≤ x ≤ col_upper`, some `x`
/// integer. Infinite bounds are `f64::INFINITY` / `f64::NEG_INFINITY`.
#[derive(Clone, Debug, Default)]
pub struct LinearModel {
    pub cost: Vec<f64>,
    pub col_lower: Vec<f64>,
    pub col_upper: Vec<f64>,
    pub integer: Vec<bool>,
    pub row_lower: Vec<f64>,
    pub row_upper: Vec<f64>,
    /// Row-wise sparse matrix: row r is `index[start[r]..start[r+1]]`, `value[…]`.
    pub start: Vec<usize>,
    pub index: Vec<usize>,
    pub value: Vec<f64>,
}

impl LinearModel {
    pub fn new() -> Self {
        Self {
            start: vec![0],
            ..Default::default()
        }
    }

    pub fn n_cols(&self) -> usize {
        self.cost.len()
    }

    pub fn n_rows(&self) -> usize {
        self.row_lower.len()
    }

    pub fn n_integer(&self) -> usize {
        self.integer.iter().filter(|&&b| b).count()
    }

    /// A continuous column; returns its index.
    pub fn col(&mut self, lower: f64, upper: f64, cost: f64) -> usize {
        self.cost.push(cost);
        self.col_lower.push(lower);
        self.col_upper.push(upper);
        self.integer.push(false);
        self.cost.len() - 1
    }

    /// The weights (`units` rows of `inputs` columns) and biases of a layer, every one a column
    /// in `[−bound, bound]` without cost.
    pub fn layer(
        &mut self,
        units: usize,
        inputs: usize,
        bound: f64,
    ) -> (Vec<Vec<usize>>, Vec<usize>) {
        let w = (0..units)
            .map(|_| (0..inputs).map(|_| self.col(-bound, bound, 0.0)).collect())
            .collect();
        let b = (0..units).map(|_| self.col(-bound, bound, 0.0)).collect();
        (w, b)
    }

    /// A 0/1 column.
    pub fn binary(&mut self, cost: f64) -> usize {
        let c = self.col(0.0, 1.0, cost);
        self.integer[c] = true;
        c
    }

    /// `lower ≤ Σ coef·x ≤ upper`; zero coefficients are dropped, repeated columns summed.
    pub fn row(&mut self, lower: f64, upper: f64, terms: &[(usize, f64)]) {
        let begin = self.index.len();
        for &(c, v) in terms {
            if v == 0.0 {
                continue;
            }
            match self.index[begin..].iter().position(|&i| i == c) {
                Some(p) => self.value[begin + p] += v,
                None => {
                    self.index.push(c);
                    self.value.push(v);
                }
            }
        }
        self.row_lower.push(lower);
        self.row_upper.push(upper);
        self.start.push(self.index.len());
    }

    /// Row activities `Ax`.
    pub fn activities(&self, x: &[f64]) -> Vec<f64> {
        (0..self.n_rows())
            .map(|r| {
                (self.start[r]..self.start[r + 1])
                    .map(|k| self.value[k] * x[self.index[k]])
                    .sum()
            })
            .collect()
    }

    /// The largest violation of a bound, a row or integrality at `x` (0 when feasible).
    pub fn max_violation(&self, x: &[f64]) -> f64 {
        let mut worst = 0.0_f64;
        for (c, &v) in x.iter().enumerate() {
            worst = worst.max(self.col_lower[c] - v).max(v - self.col_upper[c]);
            if self.integer[c] {
                worst = worst.max((v - v.round()).abs());
            }
        }
        for (r, a) in self.activities(x).into_iter().enumerate() {
            worst = worst.max(self.row_lower[r] - a).max(a - self.row_upper[r]);
        }
        worst
    }

    pub fn objective(&self, x: &[f64]) -> f64 {
        self.cost.iter().zip(x).map(|(c, v)| c * v).sum()
    }
}

/// How to run the branch and bound.
#[derive(Clone, Debug)]
pub struct MilpSettings {
    /// Wall-clock limit in seconds; the best incumbent and bound so far are returned.
    pub time_limit: f64,
    /// Stop when (incumbent − bound) ≤ rel_gap · |incumbent| …
    pub rel_gap: f64,
    /// … or when (incumbent − bound) ≤ abs_gap.
    pub abs_gap: f64,
    /// HiGHS's random seed (its branching is deterministic for a given seed, unless the time limit
    /// cuts a run short).
    pub seed: u64,
    /// Print HiGHS's log on stdout.
    pub verbose: bool,
    /// Stops the search when triggered (polled by HiGHS between nodes); the best network and
    /// bound so far are returned with status [`MilpStatus::Interrupted`].
    pub interrupt: Option<Interrupt>,
}

impl Default for MilpSettings {
    fn default() -> Self {
        Self {
            time_limit: 60.0,
            rel_gap: 1e-6,
            abs_gap: 1e-6,
            seed: 0,
            verbose: false,
            interrupt: None,
        }
    }
}

impl MilpSettings {
    pub fn validate(&self) -> Result<()> {
        if !(self.time_limit.is_finite() && self.time_limit > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "the time limit must be positive and finite, got {}",
                self.time_limit
            )));
        }
        for (name, v) in [
            ("relative gap", self.rel_gap),
            ("absolute gap", self.abs_gap),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "the {name} must be finite and non-negative, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// How a solve ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MilpStatus {
    /// The incumbent is optimal within the gap tolerances.
    Optimal,
    /// No point satisfies the constraints (a proof, not a time-out).
    Infeasible,
    /// The time limit was reached; incumbent (if any) and bound are the best so far.
    TimeLimit,
    /// Interrupted (the interrupt flag, or the progress callback); incumbent and bound so far.
    Interrupted,
}

impl MilpStatus {
    pub fn name(self) -> &'static str {
        match self {
            MilpStatus::Optimal => "optimal",
            MilpStatus::Infeasible => "infeasible",
            MilpStatus::TimeLimit => "time_limit",
            MilpStatus::Interrupted => "interrupted",
        }
    }

    /// `optimal (certified)`, `time limit (not certified)`, …: the status and whether the gap
    /// closed, for tables.
    pub fn describe(self, certified: bool) -> &'static str {
        match (self, certified) {
            (MilpStatus::Optimal, _) => "optimal (certified)",
            (MilpStatus::Infeasible, _) => "infeasible (certified)",
            (MilpStatus::TimeLimit, true) => "time limit (gap closed)",
            (MilpStatus::TimeLimit, false) => "time limit (not certified)",
            (MilpStatus::Interrupted, true) => "interrupted (gap closed)",
            (MilpStatus::Interrupted, false) => "interrupted (not certified)",
        }
    }
}

/// The branch and bound as it runs: reported when the incumbent or the bound moves (at most
/// once a second for the bound alone).
#[derive(Clone, Debug, Serialize)]
pub struct MilpProgress {
    /// Seconds since the branch and bound started.
    pub seconds: f64,
    pub nodes: u64,
    /// The best objective found so far (`None` before the first incumbent).
    pub incumbent: Option<f64>,
    /// The proven lower bound so far.
    pub bound: f64,
}

impl std::fmt::Display for MilpProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.incumbent {
            Some(v) => write!(f, "best {v:.3e}  bound {:.3e}", self.bound),
            None => write!(f, "no incumbent  bound {:.3e}", self.bound),
        }
    }
}

/// Called with the branch and bound's progress; returning `true` stops the search.
pub type OnProgress<'a> = Option<&'a mut dyn FnMut(&MilpProgress) -> bool>;

/// What exact training proves, in one record for reports and tables: the loss of the network
/// found (a forward pass of the saved weights), a lower bound no network of the class beats, and
/// how the search ended.
#[derive(Clone, Debug, Serialize)]
pub struct MilpCertificate {
    /// `relu` (±1 output weights), `integer` or `threshold`.
    pub formulation: String,
    /// The class of networks the bound covers.
    pub class: String,
    /// The loss the bound is on: `l1`, `linf`, `exact` (the largest error, asked to stay within a
    /// tolerance) or `errors` (misclassified samples).
    pub loss: String,
    pub status: MilpStatus,
    /// The gap closed: the network is optimal over the class, or no network of it fits.
    pub certified: bool,
    /// The network's loss (`None` without a network).
    pub incumbent: Option<f64>,
    /// The proven lower bound (`None` when infeasible: no network at all).
    pub lower_bound: Option<f64>,
    pub abs_gap: Option<f64>,
    pub rel_gap: Option<f64>,
    /// Bound on every weight (P for integer weights).
    pub weight_bound: f64,
    pub nodes: u64,
    pub binaries: usize,
    /// Branch and bound.
    pub seconds: f64,
    /// ReLU class: how the big-Ms were set, their mean, the phases they fixed, the LP
    /// tightening's time and the start network's loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub big_m: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_big_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_phases: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tighten_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_loss: Option<f64>,
}

impl MilpCertificate {
    /// A certificate with the figures every formulation has; `gap_tol` decides "certified".
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        formulation: &str,
        class: String,
        loss: &str,
        status: MilpStatus,
        incumbent: f64,
        bound: f64,
        gap_tol: f64,
        weight_bound: f64,
        nodes: u64,
        binaries: usize,
        seconds: f64,
    ) -> Self {
        let abs = gap(incumbent, bound);
        let finite = |v: f64| v.is_finite().then_some(v);
        let rel = if abs == 0.0 {
            0.0
        } else {
            abs / incumbent.abs().max(1e-12)
        };
        Self {
            formulation: formulation.into(),
            class,
            loss: loss.into(),
            status,
            certified: status == MilpStatus::Infeasible || abs <= gap_tol,
            incumbent: finite(incumbent),
            lower_bound: finite(bound),
            abs_gap: finite(abs),
            rel_gap: finite(rel),
            weight_bound,
            nodes,
            binaries,
            seconds,
            big_m: None,
            mean_big_m: None,
            fixed_phases: None,
            tighten_seconds: None,
            start_loss: None,
        }
    }

    /// `optimal (certified)`, `time limit (not certified)`, ….
    pub fn describe(&self) -> &'static str {
        self.status.describe(self.certified)
    }
}

/// What the branch and bound returned.
#[derive(Clone, Debug)]
pub struct MilpOutcome {
    pub status: MilpStatus,
    /// The best point found, if any.
    pub x: Option<Vec<f64>>,
    /// Its objective (`+∞` without one).
    pub objective: f64,
    /// The proven lower bound on the optimum (`+∞` when infeasible).
    pub bound: f64,
    /// Branch-and-bound nodes.
    pub nodes: u64,
    pub seconds: f64,
}

/// A network trained by branch and bound over a class: the incumbent, its loss, how the search
/// ended and the size of the program it searched.
#[derive(Clone, Debug)]
pub struct NetworkFit {
    /// `None` when no network was found (infeasible, or the time limit).
    pub model: Option<Mlp>,
    pub status: MilpStatus,
    /// The incumbent's loss recomputed by a forward pass (`+∞` without one).
    pub loss: f64,
    /// The solver's objective for the incumbent (equals `loss` up to the solver's tolerances).
    pub objective: f64,
    /// Proven lower bound on the loss of every network in the class.
    pub bound: f64,
    pub nodes: u64,
    /// Branch and bound only.
    pub seconds: f64,
    pub n_cols: usize,
    pub n_rows: usize,
    pub n_binaries: usize,
}

impl NetworkFit {
    /// The incumbent `model` of loss `loss` found by the search `out` of the program `program`.
    pub(crate) fn new(
        model: Option<Mlp>,
        loss: f64,
        out: &MilpOutcome,
        program: &LinearModel,
    ) -> Self {
        Self {
            model,
            status: out.status,
            loss,
            objective: out.objective,
            bound: out.bound,
            nodes: out.nodes,
            seconds: out.seconds,
            n_cols: program.n_cols(),
            n_rows: program.n_rows(),
            n_binaries: program.n_integer(),
        }
    }

    /// `loss − bound` (`+∞` without an incumbent).
    pub fn abs_gap(&self) -> f64 {
        gap(self.loss, self.bound)
    }

    /// The certificate of this fit over `class` (of `formulation`, with weights bounded by
    /// `weight_bound`), certified when the gap is at most `gap_tol`.
    pub fn certificate(
        &self,
        formulation: &str,
        class: String,
        loss: &str,
        weight_bound: f64,
        gap_tol: f64,
    ) -> MilpCertificate {
        MilpCertificate::new(
            formulation,
            class,
            loss,
            self.status,
            self.loss,
            self.bound,
            gap_tol,
            weight_bound,
            self.nodes,
            self.n_binaries,
            self.seconds,
        )
    }
}

/// `loss − bound` for an incumbent of loss `loss` (`+∞` without one, which has loss `+∞`).
pub fn gap(loss: f64, bound: f64) -> f64 {
    if loss.is_finite() {
        (loss - bound).max(0.0)
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_merge_repeated_columns_and_violations_are_measured() {
        let mut m = LinearModel::new();
        let x = m.col(0.0, 2.0, 1.0);
        let y = m.binary(-1.0);
        m.row(1.0, 1.0, &[(x, 1.0), (y, 0.5), (x, 1.0), (y, 0.0)]);
        assert_eq!(m.start, vec![0, 2]);
        assert_eq!(m.index, vec![x, y]);
        assert_eq!(m.value, vec![2.0, 0.5]);
        assert_eq!(m.activities(&[0.25, 1.0]), vec![1.0]);
        assert_eq!(m.max_violation(&[0.25, 1.0]), 0.0);
        // row 2·3 + 0.5·0.5 = 6.25 (5.25 over); x 1 over its bound, y 0.5 from an integer
        assert!((m.max_violation(&[3.0, 0.5]) - 5.25).abs() < 1e-12);
        assert!((m.max_violation(&[1.5, 0.5]) - 2.0 * 1.5 - 0.25 + 1.0).abs() < 1e-12);
        assert_eq!(m.objective(&[0.25, 1.0]), -0.75);
    }
}
