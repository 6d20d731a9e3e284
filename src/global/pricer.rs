//! The pricing problem of docs/global.md §3, solved with a proof: for weights `z` (one per
//! sample),
//!
//! ```text
//! M(z) = max_{‖u‖ ≤ 1} | Σ_i z_i (x̃_iᵀu)₊ |  =  max(M₊(z), M₋(z))
//! ```
//!
//! the largest value of a one-hidden-layer network with input `u` (d̃ numbers), N hidden ReLUs of
//! weights `x̃_i` and output weights `±z_i`. Any upper bound on it turns a residual into a global
//! lower bound on two-layer training ([`super::dual`]).
//!
//! Branch and bound over cells. `f(u) = Σ z_i (x̃_iᵀu)₊` is positively homogeneous, so every
//! `u ≠ 0` is a positive multiple of a point on one of the 2d̃ faces of the cube `‖u‖_∞ = 1`, and a
//! cell is a box on a face (one coordinate fixed to ±1) standing for the cone of its points. On a
//! box every sample's `x̃_iᵀu` lies in an interval `[l_i, h_i]`; samples whose interval holds no
//! sign change are linear (or absent), and the crossing ones get a linear upper bound of
//! `ζ_i (·)₊`: the chord over `[l_i, h_i]` for `ζ_i > 0`, and `λ_i ζ_i x̃_iᵀu` with any
//! `λ_i ∈ [0, 1]` for `ζ_i < 0`. Summed, they bound `f ≤ c₀ + g(λ)ᵀu` on the box, hence
//! `f(v) ≤ g'(λ)ᵀv` on its whole cone, with `g' = g + c₀ s e_k` for the face `u_k = s` (the
//! constant scales with the cone's coordinate `v_k s`). On the cone and the ball
//! `g'ᵀv ≤ ‖g'(λ)‖` for every λ, and the least over λ (a few sweeps of exact coordinate descent)
//! is, by minimax, the exact maximum over the ball with each negative kink as `min(0, ζ_i t)`:
//! tight where the maximiser sits on a kink, as it often does. The bound is also
//! `≤ max(0, max_box g'ᵀu) / min_box ‖u‖`; the cell's bound is the smallest. A box inside one
//! activation region has no crossing sample, so its bound is the region's exact `‖g‖` when the
//! region holds the direction of `g`: the search need not shrink boxes to the tolerance around
//! the maximiser, only separate the regions near it. (Measured on the 2-D test teacher at its
//! optimum: 289 078 cells with λ fixed at 0 or 1, 12 788 with λ chosen.)
//!
//! Best first: the open cell with the largest bound is split (the coordinate whose crossing
//! samples make the bound loosest, halved), in batches of [`BATCH`] cells whose children are
//! bounded on all cores; the batches do not depend on the thread count, so neither does the
//! answer. Every bounded cell also evaluates `f` at the point of its box nearest the direction
//! of `g'`: the best such value is the incumbent, a lower bound on `M`, and its `u` a violating
//! unit. The proven bound at any moment is the largest open cell's bound (or the incumbent):
//! a time limit or Ctrl-C keeps it.

use super::Weighted;
use crate::linalg::threads::par_map;
use crate::train::{Budget, Stop};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Cells split per round. Fixed (not the thread count) so the search, hence its answer, is the
/// same on any number of cores; 64 children per round kept both cores of the bench machine busy
/// at N = 500 (a cell costs about 4 N d̃ multiply-adds).
const BATCH: usize = 32;

/// The relative safety margin added to every interval and to the final bound, so that rounding
/// in the sums (about 1e-16 per term) cannot make a bound fall below the true maximum.
const ROUNDING: f64 = 1e-12;

/// What to prove and how long to try.
#[derive(Clone, Debug)]
pub struct PricingGoal {
    /// Stop once the bound is at most this (no cell can hold a larger value): `M ≤ target` is
    /// proved. Cells whose bound is at most it are closed.
    pub target: f64,
    /// Stop once the bound is within this relative distance of the incumbent (the maximum is then
    /// known to that accuracy).
    pub rel_tol: f64,
    /// Open cells kept at the most (memory: 2 d̃ + 4 numbers each); the search stops there with
    /// the bound it has.
    pub max_cells: usize,
}

impl Default for PricingGoal {
    fn default() -> Self {
        Self {
            target: 0.0,
            rel_tol: 1e-6,
            max_cells: 2_000_000,
        }
    }
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingStatus {
    /// Every cell is closed: the bound is proved to the goal (`target` or `rel_tol`).
    Proved,
    /// The time limit stopped the search; the bound so far is still proved, only looser.
    TimeLimit,
    /// Ctrl-C stopped the search; the bound so far is still proved.
    Interrupted,
    /// The open cells reached `max_cells`; the bound so far is still proved.
    CellLimit,
}

/// The answer: `lower ≤ M(z) ≤ upper`, with a `u` achieving `lower`.
#[derive(Clone, Debug)]
pub struct Priced {
    /// A proven upper bound on `M(z)`.
    pub upper: f64,
    /// The best value found, `|f(u_best)|` with `‖u_best‖ = 1`.
    pub lower: f64,
    /// The unit direction achieving `lower`, and the sign of `f` there.
    pub best: Vec<f64>,
    pub best_sign: f64,
    pub status: PricingStatus,
    /// Cells bounded.
    pub cells: usize,
    pub seconds: f64,
}

/// A box on a face of the cube, for the sign `sigma` (`+1`: `M₊`, `−1`: `M₋`).
#[derive(Clone, Debug)]
struct Cell {
    sigma: f64,
    /// The fixed coordinate and its value ±1.
    face: usize,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Its proven bound.
    bound: f64,
    /// The coordinate to split next.
    split: usize,
    /// Creation order: breaks ties between equal bounds, so the order does not depend on the heap.
    id: u64,
}

impl PartialEq for Cell {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Cell {}
impl PartialOrd for Cell {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cell {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound
            .total_cmp(&other.bound)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// A bounded cell with the candidate point it evaluated.
struct Bounded {
    cell: Cell,
    /// `(|f(u)|, u)` at the candidate, `u` of unit norm.
    candidate: (f64, Vec<f64>),
}

/// Proves an upper bound on `M(z)` by branch and bound, starting from `incumbent` (a value and
/// direction found by [`super::ascent`], or none), under `budget`.
pub fn price(
    w: &Weighted,
    goal: &PricingGoal,
    incumbent: Option<(f64, Vec<f64>, f64)>,
    budget: &Budget,
    threads: usize,
) -> Priced {
    let k = w.dim();
    let started = budget.elapsed();
    let (mut lower, mut best, mut best_sign) = incumbent.unwrap_or((0.0, unit(k, 0), 1.0));
    let mut next_id = 0u64;
    let mut roots = Vec::new();
    for sigma in [1.0, -1.0] {
        for face in 0..k {
            for s in [1.0, -1.0] {
                let mut lo = vec![-1.0; k];
                let mut hi = vec![1.0; k];
                lo[face] = s;
                hi[face] = s;
                roots.push(Cell {
                    sigma,
                    face,
                    lo,
                    hi,
                    bound: f64::INFINITY,
                    split: 0,
                    id: next_id,
                });
                next_id += 1;
            }
        }
    }
    let mut cells = 0usize;
    let mut open: BinaryHeap<Cell> = BinaryHeap::new();
    // the largest bound of a cell closed for lying below the floor: still part of the answer
    let mut closed = 0.0f64;
    let mut pending = roots;
    let mut status = PricingStatus::Proved;
    loop {
        cells += pending.len();
        let bounded = par_map(pending, threads, |c| bound_cell(w, c));
        for b in &bounded {
            let (value, ref u) = b.candidate;
            if value > lower {
                lower = value;
                best = u.clone();
                best_sign = b.cell.sigma;
            }
        }
        // nothing in a cell at or below the floor can beat the incumbent or the target
        let floor = lower.max(goal.target);
        for b in bounded {
            if b.cell.bound <= floor {
                closed = closed.max(b.cell.bound);
            } else {
                open.push(b.cell);
            }
        }
        let top = open.peek().map_or(0.0, |c| c.bound);
        if top <= floor || top <= lower * (1.0 + goal.rel_tol) {
            break;
        }
        if let Some(stop) = budget.exhausted() {
            status = match stop {
                Stop::Interrupted => PricingStatus::Interrupted,
                _ => PricingStatus::TimeLimit,
            };
            break;
        }
        if open.len() >= goal.max_cells {
            status = PricingStatus::CellLimit;
            break;
        }
        pending = Vec::with_capacity(2 * BATCH);
        while pending.len() < 2 * BATCH {
            let Some(c) = open.pop() else { break };
            if c.bound <= floor {
                // the largest left: every open cell is closed
                closed = closed.max(c.bound);
                open.clear();
                break;
            }
            pending.extend(split(&c, &mut next_id));
        }
        if pending.is_empty() {
            break;
        }
    }
    let open_top = open.peek().map_or(0.0, |c| c.bound);
    let upper = open_top.max(closed).max(lower);
    Priced {
        upper: upper * (1.0 + ROUNDING),
        lower,
        best,
        best_sign,
        status,
        cells,
        seconds: budget.elapsed() - started,
    }
}

/// Cells with at most this many crossing samples are also bounded by sides (2^m pieces, each
/// exact). Chords and λ are first-order loose where the maximiser sits where hyperplanes meet,
/// as the optimum's units often do: the cell holding such a unit could not close until it was
/// smaller than the tolerance.
const SIDES: usize = 4;

/// The bound by sides. Where the crossing samples `S` are on and the others off, `f` is the
/// linear piece `g_S = g_stable + Σ_{i∈S} ζ_i x̃_i`, and that part of the cell lies in the cone
/// `K_S = {v : c_iᵀv ≥ 0}` with `c_i = ±x̃_i`. Over `K_S` and the ball, `g_Sᵀv ≤ ‖g_S + Σ μ_i c_i‖`
/// for every `μ ≥ 0` (since `μᵀCv ≥ 0`), and the least over μ is the exact maximum
/// `‖Π_{K_S} g_S‖` (Moreau). The cell's bound is the largest piece's.
fn by_sides(
    w: &Weighted,
    sigma: f64,
    g_stable: &[f64],
    crossing: &[usize],
    ratio_bound: &dyn Fn(&[f64]) -> f64,
) -> f64 {
    let k = g_stable.len();
    let mut worst = 0.0f64;
    let mut sides = vec![0.0; crossing.len() * k];
    for on in 0..1usize << crossing.len() {
        let mut g = g_stable.to_vec();
        for (b, &i) in crossing.iter().enumerate() {
            let a = w.data.row(i);
            let side = if on >> b & 1 == 1 { 1.0 } else { -1.0 };
            if side > 0.0 {
                let zeta = sigma * w.z[i];
                g.iter_mut().zip(a).for_each(|(gj, aj)| *gj += zeta * aj);
            }
            sides[b * k..(b + 1) * k]
                .iter_mut()
                .zip(a)
                .for_each(|(c, aj)| *c = side * aj);
        }
        let whole = ratio_bound(&g);
        let mut mu = vec![0.0; crossing.len()];
        least_norm(&mut g, &sides, &mut mu, 0.0, f64::INFINITY);
        worst = worst.max(crate::linalg::norm(&g).min(whole));
    }
    worst
}

/// Coordinate-descent sweeps of [`least_norm`]. Every iterate gives a valid bound; on the
/// 2-D and 3-D test cases more sweeps changed the cells' bounds in the fourth digit at most.
const SWEEPS: usize = 8;

/// Lowers `‖g + Σ_i t_i d_i‖` over `t_i ∈ [lo, hi]` (`d_i` the rows of `dirs`, `t` their shares
/// already in `g`), one `t_i` at a time, each exactly; `g` and `t` are updated.
fn least_norm(g: &mut [f64], dirs: &[f64], t: &mut [f64], lo: f64, hi: f64) {
    let k = g.len();
    for _ in 0..SWEEPS {
        let mut moved = false;
        for (d, ti) in dirs.chunks_exact(k).zip(t.iter_mut()) {
            let dd = crate::linalg::dot(d, d);
            if dd == 0.0 {
                continue;
            }
            let next = (*ti - crate::linalg::dot(d, g) / dd).clamp(lo, hi);
            if next != *ti {
                let step = next - *ti;
                g.iter_mut().zip(d).for_each(|(gj, dj)| *gj += step * dj);
                *ti = next;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

/// The least `‖u‖` over the box `[lo, hi]`.
fn min_norm(lo: &[f64], hi: &[f64]) -> f64 {
    lo.iter()
        .zip(hi)
        .map(|(&l, &h)| {
            let d = if l > 0.0 {
                l
            } else if h < 0.0 {
                -h
            } else {
                0.0
            };
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// The unit vector `e_j` of length `k`.
fn unit(k: usize, j: usize) -> Vec<f64> {
    let mut e = vec![0.0; k];
    e[j] = 1.0;
    e
}

/// The two halves of `c` along its split coordinate (their bounds still to compute).
fn split(c: &Cell, next_id: &mut u64) -> [Cell; 2] {
    let j = c.split;
    let mid = 0.5 * (c.lo[j] + c.hi[j]);
    let mut left = c.clone();
    let mut right = c.clone();
    left.hi[j] = mid;
    right.lo[j] = mid;
    left.id = *next_id;
    right.id = *next_id + 1;
    *next_id += 2;
    [left, right]
}

/// The cell's bound (docs in the module header), its split coordinate, and a candidate point.
fn bound_cell(w: &Weighted, mut cell: Cell) -> Bounded {
    let k = w.dim();
    let center: Vec<f64> = (0..k).map(|j| 0.5 * (cell.lo[j] + cell.hi[j])).collect();
    let radius: Vec<f64> = (0..k).map(|j| 0.5 * (cell.hi[j] - cell.lo[j])).collect();
    let mut g = vec![0.0; k];
    let mut c0 = 0.0;
    // how much each coordinate's width loosens the bound (crossing samples only)
    let mut loose = vec![0.0; k];
    // the crossing samples of negative weight: `ζ_i x̃_i`, and the share λ_i of it in `g`
    let mut kinks: Vec<f64> = Vec::new();
    let mut lambda: Vec<f64> = Vec::new();
    // the stable samples' terms and the crossing samples, for the bound by sides
    let mut g_stable = vec![0.0; k];
    let mut crossing: Vec<usize> = Vec::new();
    for i in 0..w.n() {
        let zeta = cell.sigma * w.z[i];
        if zeta == 0.0 {
            continue;
        }
        let a = w.data.row(i);
        let mut m = 0.0;
        let mut spread = 0.0;
        for j in 0..k {
            m += a[j] * center[j];
            spread += a[j].abs() * radius[j];
        }
        // widen by the rounding of the sums, so the interval surely holds every value
        spread += ROUNDING * (m.abs() + spread + w.data.row_norm(i));
        let (l, h) = (m - spread, m + spread);
        if h <= 0.0 {
            continue;
        }
        if l >= 0.0 {
            for j in 0..k {
                g[j] += zeta * a[j];
                g_stable[j] += zeta * a[j];
            }
            continue;
        }
        crossing.push(i);
        if zeta > 0.0 {
            // the chord of ζ(t)₊ over [l, h]: ζ h (t − l)/(h − l)
            let slope = zeta * h / (h - l);
            for j in 0..k {
                g[j] += slope * a[j];
            }
            c0 -= slope * l;
        } else {
            // ζ(t)₊ ≤ λ ζ t for ζ < 0 and any λ in [0, 1]: start from the piece tighter on
            // the wider side of the interval
            let start = if h >= -l { 1.0 } else { 0.0 };
            for j in 0..k {
                g[j] += start * zeta * a[j];
            }
            kinks.extend(a.iter().map(|v| zeta * v));
            lambda.push(start);
        }
        for j in 0..k {
            loose[j] += zeta.abs() * a[j].abs() * radius[j];
        }
    }
    let s = cell.lo[cell.face];
    g[cell.face] += c0 * s;
    let ratio_bound = |g: &[f64]| -> f64 {
        let box_max: f64 = (0..k)
            .map(|j| g[j] * center[j] + g[j].abs() * radius[j])
            .sum();
        if box_max <= 0.0 {
            0.0
        } else {
            box_max / min_norm(&cell.lo, &cell.hi)
        }
    };
    let first = ratio_bound(&g);
    // by sides: every crossing sample on or off instead of its chord or λ
    let sides = (!crossing.is_empty() && crossing.len() <= SIDES)
        .then(|| by_sides(w, cell.sigma, &g_stable, &crossing, &ratio_bound));
    // every λ gives a valid bound ‖g(λ)‖; the least is the exact maximum over the ball of the
    // sum with each kink as min(0, ζ t) (minimax), tight where the maximiser sits on a kink
    least_norm(&mut g, &kinks, &mut lambda, 0.0, 1.0);
    let mut bound = crate::linalg::norm(&g).min(first).min(ratio_bound(&g));
    if let Some(b) = sides {
        bound = bound.min(b);
    }
    // a child is inside its parent, so the parent's bound holds for it too
    cell.bound = (bound * (1.0 + ROUNDING)).min(cell.bound);
    // split where crossing samples loosen the bound most; without any, the widest side
    let free = (0..k).filter(|&j| j != cell.face);
    cell.split = if loose.iter().any(|&v| v > 0.0) {
        free.max_by(|&a, &b| loose[a].total_cmp(&loose[b]))
    } else {
        free.max_by(|&a, &b| radius[a].total_cmp(&radius[b]))
    }
    .unwrap_or(cell.face);
    // the candidate: g's direction moved onto the face and into the box
    let mut u: Vec<f64> = if g[cell.face] * s > 0.0 {
        let scale = s / g[cell.face];
        (0..k)
            .map(|j| (g[j] * scale).clamp(cell.lo[j], cell.hi[j]))
            .collect()
    } else {
        (0..k)
            .map(|j| center[j] + radius[j] * g[j].signum())
            .collect()
    };
    let norm_u = crate::linalg::norm(&u);
    u.iter_mut().for_each(|v| *v /= norm_u);
    let value = cell.sigma * w.value(&u);
    Bounded {
        cell,
        candidate: (value.max(0.0), u),
    }
}
