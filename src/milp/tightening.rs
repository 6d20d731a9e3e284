//! The big-M constants of the ReLU MILP: one global M, per-sample interval bounds, or those
//! tightened by LP (optimisation-based bound tightening: the LP relaxation with its objective
//! capped at a known network's loss, minimised and maximised over each pre-activation; every
//! optimal network obeys the cap, so no optimum is cut off).

#[cfg(feature = "milp")]
use super::model::{MilpSettings, MilpStatus};
use super::relu::ReluMilp;
#[cfg(feature = "milp")]
use super::relu::{build, z_terms};
#[cfg(feature = "milp")]
use crate::error::Error;
use crate::error::Result;
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture};

/// Where the big-M constants come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tightening {
    /// One M for every sample: the largest per-sample interval bound.
    Global,
    /// Per-sample interval bounds `±B(‖x_j‖₁ + 1)`.
    Interval,
    /// Interval bounds, then two LPs per unit and sample (needs a start network for the cap).
    Lp,
}

impl Tightening {
    pub fn name(self) -> &'static str {
        match self {
            Tightening::Global => "global",
            Tightening::Interval => "interval",
            Tightening::Lp => "lp",
        }
    }
}

/// Per unit k and sample j, a bound on z_kj: `[k][j]`.
pub(crate) type UnitBounds = Vec<Vec<f64>>;

/// Interval bounds per unit and sample (lower, upper; all units share them), or one global M.
pub(crate) fn interval_bounds(x: &Matrix, spec: &ReluMilp) -> Result<(UnitBounds, UnitBounds)> {
    let arch = Architecture::new(vec![x.rows(), spec.hidden, 1], Activation::Linear)?;
    let mut m = crate::bounds::training_bounds(x, &arch, spec.weight_bound)?.swap_remove(0);
    if spec.tightening == Tightening::Global {
        let g = m.iter().copied().fold(0.0, f64::max);
        m.iter_mut().for_each(|v| *v = g);
    }
    let upper = vec![m.clone(); spec.hidden];
    let lower = vec![m.iter().map(|v| -v).collect(); spec.hidden];
    Ok((lower, upper))
}

/// LP bound tightening: min and max of every z_kj over the LP relaxation with the objective
/// capped at `cap`. Returns the number of LPs solved.
#[cfg(feature = "milp")]
pub(crate) fn tighten(
    x: &Matrix,
    y: &[f64],
    spec: &ReluMilp,
    lower: &mut [Vec<f64>],
    upper: &mut [Vec<f64>],
    cap: f64,
    settings: &MilpSettings,
) -> Result<usize> {
    let (m, cols) = build(x, y, spec, lower, upper, Some(cap));
    let lp_settings = MilpSettings {
        verbose: false,
        ..settings.clone()
    };
    let highs = super::highs::Highs::new(&lp_settings)?;
    highs.pass(&m, true)?;
    let mut solved = 0;
    let mut cost = vec![0.0; m.n_cols()];
    for k in 0..spec.hidden {
        for j in 0..x.cols() {
            if upper[k][j] <= 0.0 || lower[k][j] >= 0.0 {
                continue;
            }
            let z = z_terms(&cols, x, k, j);
            for sign in [1.0, -1.0] {
                cost.iter_mut().for_each(|c| *c = 0.0);
                for &(c, v) in &z {
                    cost[c] = sign * v;
                }
                highs.set_cost(&cost)?;
                let out = highs.run(m.n_cols(), false)?;
                solved += 1;
                match out.status {
                    // the cap is at least a known network's loss, so the relaxation is feasible
                    MilpStatus::Infeasible => {
                        return Err(Error::Solver(
                            "bound tightening: the capped LP relaxation is infeasible".into(),
                        ))
                    }
                    MilpStatus::TimeLimit | MilpStatus::Interrupted => return Ok(solved),
                    MilpStatus::Optimal => {}
                }
                // a margin for the LP's tolerances, so no feasible network is cut off
                let slack = 1e-6 * (1.0 + out.objective.abs());
                if sign > 0.0 {
                    lower[k][j] = lower[k][j].max(out.objective - slack);
                } else {
                    upper[k][j] = upper[k][j].min(-out.objective + slack);
                }
            }
        }
    }
    Ok(solved)
}
