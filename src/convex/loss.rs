//! The losses of the convex model, sample by sample (docs/convex.md §6): the objective is
//! `(1/N) Σ_i ℓ(p_i, y_i) + β Σ_j ‖u_j‖` with
//!
//! ```text
//! squared   ℓ(p, y) = ½ (p − y)²
//! logistic  ℓ(p, y) = log(1 + e^{−y p})      labels y = ±1
//! hinge     ℓ(p, y) = max(0, 1 − y p)         labels y = ±1
//! ```
//!
//! The equivalence with two-layer ReLU training holds for any convex loss (Pilanci & Ergen 2020,
//! §3), so the network read off a solution has the objective `(1/N) Σ ℓ(f(x_i), y_i) + (β/2) Σ
//! (‖u_j‖² + α_j²)`. The dual of the program is `max −(1/N) Σ ℓ*(N s_i, y_i)` over the `s`
//! whose groups satisfy `‖A_jᵀ s − K_jᵀ μ_j‖ ≤ β` ([`super::certificate`]); this file holds the
//! conjugates `ℓ*` and the best dual value along a ray `s = t r`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// `½ (p − y)²`: regression, and the objective of two-layer training in docs/convex.md §2.
    #[default]
    Squared,
    /// `log(1 + e^{−y p})` with labels ±1.
    Logistic,
    /// `max(0, 1 − y p)` with labels ±1.
    Hinge,
}

/// Bisection steps of the logistic dual's line search: the step's interval halves each time, so
/// 100 steps reach the last bit of any `t` in (0, 1].
const BISECTION_STEPS: usize = 100;

impl Loss {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("squared", "Convex: (1/2N)‖f(X) − Y‖²"),
        (
            "logistic",
            "Convex: (1/N) Σ log(1 + exp(−y f(x))), labels 0/1 or ±1, one-vs-rest per column",
        ),
        (
            "hinge",
            "Convex: (1/N) Σ max(0, 1 − y f(x)), labels 0/1 or ±1, one-vs-rest per column",
        ),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Loss::Squared => "squared",
            Loss::Logistic => "logistic",
            Loss::Hinge => "hinge",
        }
    }

    /// A classification loss (labels ±1).
    pub fn classifies(self) -> bool {
        self != Loss::Squared
    }

    /// `ℓ(p, y)`.
    pub fn value(self, p: f64, y: f64) -> f64 {
        match self {
            Loss::Squared => 0.5 * (p - y) * (p - y),
            Loss::Logistic => crate::glm::softplus(-y * p),
            Loss::Hinge => (1.0 - y * p).max(0.0),
        }
    }

    /// `dℓ/dp` (for the hinge the subgradient `−y` below the margin and 0 from it on).
    pub fn derivative(self, p: f64, y: f64) -> f64 {
        match self {
            Loss::Squared => p - y,
            Loss::Logistic => -y * sigmoid(-y * p),
            Loss::Hinge => {
                if y * p < 1.0 {
                    -y
                } else {
                    0.0
                }
            }
        }
    }

    /// The program's targets from the data's: any finite values for the squared loss; for the
    /// classification losses, labels `±1`, with `0` read as `−1` (one-hot and 0/1 targets).
    pub fn targets(self, y: &[f64]) -> Result<Vec<f64>> {
        if !self.classifies() {
            return Ok(y.to_vec());
        }
        let has_zero = y.contains(&0.0);
        let has_minus = y.contains(&-1.0);
        if let Some(bad) = y.iter().find(|&&v| v != 0.0 && v != 1.0 && v != -1.0) {
            return Err(Error::InvalidArgument(format!(
                "the {} loss takes labels 0/1 or −1/1 (one column per class, one-vs-rest), got \
                 the target {bad}",
                self.name()
            )));
        }
        if has_zero && has_minus {
            return Err(Error::InvalidArgument(format!(
                "the {} loss takes labels 0/1 or −1/1, got a column with 0 and −1 both",
                self.name()
            )));
        }
        Ok(y.iter()
            .map(|&v| if v == 1.0 { 1.0 } else { -1.0 })
            .collect())
    }

    /// The scaled residual `r` moved into the domain of the conjugate (`a_i = −y_i N r_i / w_i`
    /// in [0, 1] for the classification losses, `w_i` the sample's weight, 1 without
    /// `weights`); the squared loss's domain is everything.
    pub fn into_domain(self, r: &mut [f64], y: &[f64], weights: Option<&[f64]>) {
        if !self.classifies() {
            return;
        }
        let n = r.len() as f64;
        for (i, (ri, &yi)) in r.iter_mut().zip(y).enumerate() {
            let w = weight(weights, i);
            let a = (-yi * n * *ri / w).clamp(0.0, 1.0);
            *ri = -yi * a * w / n;
        }
    }

    /// `ℓ''(p, y)`, the curvature of the quadratic model (the hinge has none).
    pub fn curvature(self, p: f64, y: f64) -> f64 {
        match self {
            Loss::Squared => 1.0,
            Loss::Logistic => {
                let s = sigmoid(y * p);
                s * (1.0 - s)
            }
            Loss::Hinge => 0.0,
        }
    }

    /// The best dual value `−(1/N) Σ w_i ℓ*(t N r_i / w_i, y_i)` over `t ∈ [0, β / worst]`, where
    /// `r` is in the conjugate's domain ([`Loss::into_domain`]) and `worst` is the largest group
    /// norm of the certificate's gradient at `r` (which scales with `t`). `weights` are the
    /// samples' `w_i` of the loss `w_i ℓ(p, y_i)` (all 1 without), whose conjugate is
    /// `w_i ℓ*(q / w_i)`: for the squared loss `q²/(2w_i) + q y_i`. `r` and `y` may hold several
    /// outputs one after the other; `samples` is N, the count the loss averages over.
    pub fn dual_along(
        self,
        r: &[f64],
        y: &[f64],
        samples: usize,
        weights: Option<&[f64]>,
        worst: f64,
        beta: f64,
    ) -> f64 {
        let t_max = if worst > 0.0 { beta / worst } else { f64::MAX };
        let t = self.best_scale(r, y, samples, weights, t_max);
        self.dual_at(r, y, samples, weights, t)
    }

    /// The dual value `−(1/N) Σ w_i ℓ*(t N r_i / w_i, y_i)` at the scale `t` (as
    /// [`Loss::dual_along`]).
    pub fn dual_at(
        self,
        r: &[f64],
        y: &[f64],
        samples: usize,
        weights: Option<&[f64]>,
        t: f64,
    ) -> f64 {
        let n = samples.max(1) as f64;
        match self {
            Loss::Squared => {
                // −t rᵀy − t² N Σ r_i²/w_i / 2
                let (a, b) = squared_ray(r, y, n, weights);
                t * a - 0.5 * t * t * b
            }
            Loss::Logistic | Loss::Hinge => {
                -r.iter()
                    .zip(y)
                    .enumerate()
                    .map(|(i, (r, y))| {
                        let w = weight(weights, i);
                        w * self.conjugate(-y * n * r * t / w)
                    })
                    .sum::<f64>()
                    / n
            }
        }
    }

    /// The `t ∈ [0, t_max]` maximising [`Loss::dual_at`] (concave in `t`); for the
    /// classification losses `t` also stays where every `a_i = −y_i N t r_i` is at most 1.
    pub fn best_scale(
        self,
        r: &[f64],
        y: &[f64],
        samples: usize,
        weights: Option<&[f64]>,
        t_max: f64,
    ) -> f64 {
        let n = samples.max(1) as f64;
        match self {
            Loss::Squared => {
                let (a, b) = squared_ray(r, y, n, weights);
                if b <= 0.0 {
                    return 0.0;
                }
                (a / b).max(0.0).min(t_max)
            }
            Loss::Logistic | Loss::Hinge => {
                // ℓ*(−y a) is a log a + (1 − a) log(1 − a) (logistic), −a (hinge), a ∈ [0, 1],
                // at a_i = −y_i N t r_i / w_i
                let a: Vec<f64> = r
                    .iter()
                    .zip(y)
                    .enumerate()
                    .map(|(i, (r, y))| -y * n * r / weight(weights, i))
                    .collect();
                let top = a.iter().copied().fold(0.0, f64::max);
                if top <= 0.0 {
                    return 0.0;
                }
                let t_max = t_max.min(1.0 / top);
                if self == Loss::Hinge {
                    return t_max;
                }
                // concave in t, slope −(1/N) Σ w_i a_i logit(t a_i): +∞ at 0
                let slope = |t: f64| {
                    -a.iter()
                        .enumerate()
                        .filter(|&(_, &ai)| ai > 0.0)
                        .map(|(i, &ai)| weight(weights, i) * ai * ((t * ai) / (1.0 - t * ai)).ln())
                        .sum::<f64>()
                };
                // still rising at the end of the ray (−∞ where t a_i reaches 1: the maximum is
                // then inside)
                if slope(t_max) >= 0.0 {
                    return t_max;
                }
                let (mut lo, mut hi) = (0.0, t_max);
                for _ in 0..BISECTION_STEPS {
                    let mid = 0.5 * (lo + hi);
                    if slope(mid) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let value = |t| self.dual_at(r, y, samples, weights, t);
                if value(lo) >= value(hi) {
                    lo
                } else {
                    hi
                }
            }
        }
    }

    /// `ℓ*(−y a)` of the classification losses, `a ∈ [0, 1]`.
    fn conjugate(self, a: f64) -> f64 {
        let a = a.clamp(0.0, 1.0);
        match self {
            Loss::Squared => unreachable!("the squared loss's dual is in closed form"),
            Loss::Logistic => entropy_term(a) + entropy_term(1.0 - a),
            Loss::Hinge => -a,
        }
    }
}

/// `(a, b)` of the squared loss's dual `t a − t² b/2` along the ray `t r`.
fn squared_ray(r: &[f64], y: &[f64], n: f64, weights: Option<&[f64]>) -> (f64, f64) {
    let a = -r.iter().zip(y).map(|(r, y)| r * y).sum::<f64>();
    let b = n * match weights {
        None => r.iter().map(|v| v * v).sum::<f64>(),
        Some(w) => r.iter().zip(w).map(|(v, w)| v * v / w).sum::<f64>(),
    };
    (a, b)
}

/// Sample `i`'s weight, 1 without weights.
fn weight(weights: Option<&[f64]>, i: usize) -> f64 {
    weights.map_or(1.0, |w| w[i])
}

/// `a log a` with `0 log 0 = 0`.
fn entropy_term(a: f64) -> f64 {
    if a > 0.0 {
        a * a.ln()
    } else {
        0.0
    }
}

fn sigmoid(m: f64) -> f64 {
    if m >= 0.0 {
        1.0 / (1.0 + (-m).exp())
    } else {
        let e = m.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fenchel–Young: `ℓ(p) + ℓ*(q) ≥ q p` for every `p` and every `q` in the domain, with
    /// equality at `q = ℓ'(p)` (the conjugate is the right one, and the derivative its
    /// maximiser).
    #[test]
    fn conjugates_satisfy_fenchel_young() {
        for loss in [Loss::Logistic, Loss::Hinge] {
            for &y in &[-1.0, 1.0] {
                for k in 0..=20 {
                    let a = k as f64 / 20.0;
                    let q = -y * a;
                    for j in -40..=40 {
                        let p = j as f64 / 8.0;
                        let lhs = loss.value(p, y) + loss.conjugate(a);
                        assert!(lhs >= q * p - 1e-12, "{loss:?} y {y} a {a} p {p}");
                    }
                }
                for j in -40..=40 {
                    let p = j as f64 / 8.0 + 1e-3;
                    let q = loss.derivative(p, y);
                    let a = -y * q;
                    let gap = loss.value(p, y) + loss.conjugate(a) - q * p;
                    assert!(gap.abs() <= 1e-12, "{loss:?} y {y} p {p}: {gap}");
                }
            }
        }
    }

    /// The line search finds the maximum of the concave dual along the ray (checked on a grid).
    #[test]
    fn the_logistic_dual_along_a_ray_is_maximised() {
        let y = [1.0, -1.0, 1.0, 1.0, -1.0];
        let p = [0.3, 0.9, -2.0, 4.0, -0.5];
        let n = y.len() as f64;
        let r: Vec<f64> = p
            .iter()
            .zip(&y)
            .map(|(&p, &y)| Loss::Logistic.derivative(p, y) / n)
            .collect();
        for worst in [0.01, 0.1, 1.0, 10.0] {
            let beta = 0.1;
            let best = Loss::Logistic.dual_along(&r, &y, r.len(), None, worst, beta);
            let t_max = (beta / worst).min(
                1.0 / r
                    .iter()
                    .zip(&y)
                    .map(|(r, y)| -y * n * r)
                    .fold(0.0, f64::max),
            );
            for k in 0..=1000 {
                let t = t_max * k as f64 / 1000.0;
                let v: f64 = -r
                    .iter()
                    .zip(&y)
                    .map(|(r, y)| Loss::Logistic.conjugate(-y * n * r * t))
                    .sum::<f64>()
                    / n;
                assert!(v <= best + 1e-12, "worst {worst}: t {t} gives {v} > {best}");
            }
        }
    }

    #[test]
    fn labels_are_read_as_plus_minus_one() {
        assert_eq!(
            Loss::Hinge.targets(&[0.0, 1.0, 1.0]).unwrap(),
            vec![-1.0, 1.0, 1.0]
        );
        assert_eq!(
            Loss::Logistic.targets(&[-1.0, 1.0]).unwrap(),
            vec![-1.0, 1.0]
        );
        assert!(Loss::Logistic.targets(&[0.0, 0.5]).is_err());
        assert!(Loss::Hinge.targets(&[0.0, -1.0, 1.0]).is_err());
        assert_eq!(Loss::Squared.targets(&[0.5]).unwrap(), vec![0.5]);
    }
}
