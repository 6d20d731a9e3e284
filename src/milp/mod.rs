//! Exact training with a proof of optimality: mixed-integer linear programs solved by HiGHS's
//! branch and bound (cargo feature `milp`). Without the feature the programs are still built (and
//! tested), but solving them returns [`Error::Unavailable`].
//!
//! - [`relu`]: a one-hidden-layer ReLU network with one linear output, loss L1, L∞ or exact fit,
//!   big-Ms from interval arithmetic, optionally tightened by LP.
//! - [`integer`]: any depth and output count with integer weights in `[−P, P]`.
//! - [`threshold`]: linear threshold units with an AND output (Blum & Rivest's 3-node network),
//!   the fewest training errors, or whether the data can be fit at all.

mod errors;
pub mod integer;
mod model;
pub mod relu;
pub mod threshold;
mod tightening;

#[cfg(feature = "milp")]
mod highs;

pub use errors::ErrorMeasure;
pub use model::{
    LinearModel, MilpCertificate, MilpOutcome, MilpProgress, MilpSettings, MilpStatus, OnProgress,
};
pub use tightening::Tightening;

use crate::error::Result;

/// Whether this build can solve MILPs.
pub const AVAILABLE: bool = cfg!(feature = "milp");

/// Solves `m` by branch and bound (HiGHS), optionally from a feasible start point; `progress`
/// sees the search move and may stop it.
pub fn solve(
    m: &LinearModel,
    settings: &MilpSettings,
    start: Option<&[f64]>,
    progress: OnProgress,
) -> Result<MilpOutcome> {
    #[cfg(feature = "milp")]
    {
        highs::solve(m, settings, start, progress)
    }
    #[cfg(not(feature = "milp"))]
    {
        let _ = (m, settings, start, progress);
        Err(unavailable())
    }
}

/// The error of a build without the feature.
pub fn unavailable() -> crate::error::Error {
    crate::error::Error::Unavailable {
        feature: "milp",
        what: "exact training (MILP; HiGHS, compiled from source: install cmake and libclang-dev \
               first)"
            .into(),
    }
}
