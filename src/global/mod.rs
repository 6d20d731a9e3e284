//! Global lower bounds on two-layer ReLU training with weight decay, without enumerating
//! activation patterns (docs/global.md).
//!
//! The convex program over *all* patterns (docs/convex.md §3) has one dual constraint per unit
//! direction `u`, `|zᵀ(X̃u)₊| ≤ β`: its dual feasible set is `M(z) ≤ β` with
//! `M(z) = max_{‖u‖≤1} |zᵀ(X̃u)₊|`. So the residual `z` of any network, scaled by `t ≤ β / M̄`
//! for any proven `M̄ ≥ M(z)`, is dual feasible, and its dual value bounds the objective of every
//! two-layer ReLU network of any width from below.
//!
//! - [`pricer`]: `M̄` by branch and bound over cells of u-space, proved, anytime.
//! - [`ascent`]: large values of `M` fast (violating units), no proof.
//! - [`dual`]: the lower bound from a residual, for one or several outputs, with or without a
//!   free output bias, and the cheap spectral `M̄`.
//! - [`certify`]: a given network's objective against that bound.
//! - [`columns`]: column generation to the global optimum, the convex model's `generate`
//!   patterns.

pub mod ascent;
pub mod certify;
pub mod columns;
pub mod dual;
pub mod pricer;

pub use certify::{certify, Certified};
pub use dual::{global_lower_bound, BoundSettings, GlobalBound, OutputBias, Units};
pub use pricer::{PricingGoal, PricingStatus};

use crate::convex::Lifted;
use crate::linalg::dot;

/// The weights `z` of a pricing problem with the lifted data they weigh.
pub struct Weighted<'a> {
    pub data: &'a Lifted,
    pub z: &'a [f64],
}

impl Weighted<'_> {
    pub fn n(&self) -> usize {
        self.data.n()
    }

    /// d̃ = d + 1.
    pub fn dim(&self) -> usize {
        self.data.dim()
    }

    /// `f(u) = Σ_i z_i (x̃_iᵀu)₊`.
    pub fn value(&self, u: &[f64]) -> f64 {
        (0..self.n())
            .map(|i| self.z[i] * dot(self.data.row(i), u).max(0.0))
            .sum()
    }
}
