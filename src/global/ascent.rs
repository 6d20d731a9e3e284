//! The fast pricer of docs/global.md §3: projected gradient ascent of `σ f(u)/‖u‖` on the unit
//! sphere, `f(u) = Σ_i z_i (x̃_iᵀu)₊`, from many starts at once. It finds violating units (and
//! gives branch and bound its first incumbent) but proves nothing: its value is a lower bound
//! on `M(z)`.
//!
//! With `z` of mixed signs `f` is a difference of convex functions, so the fixed-point step
//! `u ← X̃ᵀD(u)z/‖·‖` is no ascent (it drifts down from good starts); each start instead takes
//! gradient steps along the sphere and keeps one only where the value rises, the step growing
//! ×1.5 after a success and halving after a failure.

use super::Weighted;
use crate::linalg::{dot, norm, threads::par_map};
use crate::train::Budget;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Ascent steps per start. On the noisy 8-input teacher of docs/global.md (N = 2 000) the best
/// value stopped rising after about 40; 60 leaves a margin.
const STEPS: usize = 60;

/// Where to start and how many.
#[derive(Clone, Debug)]
pub struct AscentStarts {
    /// Directions to start from first (e.g. the network's units `(w_j, b_j)`), any norm.
    pub given: Vec<Vec<f64>>,
    /// Samples' directions `x̃_i` taken as starts (the ones with the largest `|z_i| ‖x̃_i‖`).
    pub samples: usize,
    /// Random directions from N(0, I).
    pub random: usize,
    pub seed: u64,
}

impl Default for AscentStarts {
    fn default() -> Self {
        Self {
            given: Vec::new(),
            samples: 256,
            random: 256,
            seed: 0,
        }
    }
}

/// Every start's climb `(|f(u)|, u, sign)` (`u` of unit norm) that ends above zero, largest first
/// (ties in start order).
pub fn climbs(
    w: &Weighted,
    starts: &AscentStarts,
    budget: &Budget,
    threads: usize,
) -> Vec<(f64, Vec<f64>, f64)> {
    let k = w.dim();
    let mut points: Vec<Vec<f64>> = starts.given.clone();
    let mut order: Vec<usize> = (0..w.n()).collect();
    order.sort_by(|&a, &b| {
        let sa = w.z[a].abs() * w.data.row_norm(a);
        let sb = w.z[b].abs() * w.data.row_norm(b);
        sb.total_cmp(&sa).then(a.cmp(&b))
    });
    points.extend(
        order
            .iter()
            .take(starts.samples)
            .map(|&i| w.data.row(i).to_vec()),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(starts.seed);
    for _ in 0..starts.random {
        points.push((0..k).map(|_| StandardNormal.sample(&mut rng)).collect());
    }
    // each start climbs for both signs: M₊ and M₋
    let jobs: Vec<(Vec<f64>, f64)> = points
        .into_iter()
        .filter(|p| p.len() == k && norm(p) > 0.0 && p.iter().all(|v| v.is_finite()))
        .flat_map(|p| [(p.clone(), 1.0), (p, -1.0)])
        .collect();
    let results = par_map(jobs, threads, |(u, sigma)| {
        if budget.exhausted().is_some() {
            return (0.0, u, sigma);
        }
        let (value, u) = climb(w, u, sigma);
        (value, u, sigma)
    });
    let mut found: Vec<_> = results.into_iter().filter(|r| r.0 > 0.0).collect();
    // stable: equal values keep their start order
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found
}

/// The best `(|f(u)|, u, sign)` found (`u` of unit norm), or none when every start is zero.
pub fn ascend(
    w: &Weighted,
    starts: &AscentStarts,
    budget: &Budget,
    threads: usize,
) -> Option<(f64, Vec<f64>, f64)> {
    climbs(w, starts, budget, threads).into_iter().next()
}

/// One start's climb: the final `σ f(u)` and `u` (unit norm).
fn climb(w: &Weighted, mut u: Vec<f64>, sigma: f64) -> (f64, Vec<f64>) {
    let k = w.dim();
    let n0 = norm(&u);
    u.iter_mut().for_each(|v| *v /= n0);
    let (mut value, mut grad) = value_and_gradient(w, &u, sigma);
    let mut step = 1.0
        / w.z
            .iter()
            .map(|v| v.abs())
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
    let mut trial = vec![0.0; k];
    for _ in 0..STEPS {
        // the gradient along the sphere
        let radial = dot(&grad, &u);
        let mut moved = false;
        for _ in 0..30 {
            for j in 0..k {
                trial[j] = u[j] + step * (grad[j] - radial * u[j]);
            }
            let nt = norm(&trial);
            if nt == 0.0 || !nt.is_finite() {
                step *= 0.5;
                continue;
            }
            trial.iter_mut().for_each(|v| *v /= nt);
            let (v, g) = value_and_gradient(w, &trial, sigma);
            if v > value {
                value = v;
                grad = g;
                u.copy_from_slice(&trial);
                step *= 1.5;
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if !moved {
            break;
        }
    }
    (value, u)
}

/// `σ f(u)` and its gradient `σ X̃ᵀ D(u) z`.
fn value_and_gradient(w: &Weighted, u: &[f64], sigma: f64) -> (f64, Vec<f64>) {
    let k = w.dim();
    let mut grad = vec![0.0; k];
    let mut value = 0.0;
    for i in 0..w.n() {
        let a = w.data.row(i);
        let t = dot(a, u);
        if t > 0.0 {
            let zi = sigma * w.z[i];
            value += zi * t;
            for j in 0..k {
                grad[j] += zi * a[j];
            }
        }
    }
    (value, grad)
}
