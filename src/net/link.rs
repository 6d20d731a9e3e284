//! What a network's outputs mean: values (regression, scores), or the logits of class
//! probabilities that a network trained on the cross-entropy gives.

use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// The map from a network's outputs to a model's predictions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    /// The outputs are the predictions.
    #[default]
    Identity,
    /// One output, the logit of the positive class: `σ(f) = 1/(1 + e^{−f})` is its probability.
    Sigmoid,
    /// One output per class: `softmax(f)` are the class probabilities.
    Softmax,
}

impl Link {
    /// The link of class probabilities over `n_outputs` columns: one column is the positive class
    /// (sigmoid), several are the classes (softmax).
    pub fn probabilities(n_outputs: usize) -> Self {
        if n_outputs == 1 {
            Link::Sigmoid
        } else {
            Link::Softmax
        }
    }

    pub fn is_identity(&self) -> bool {
        *self == Link::Identity
    }

    /// The predictions of outputs `f` (one sample per column), in place.
    pub fn apply(self, f: &mut Matrix) {
        match self {
            Link::Identity => {}
            Link::Sigmoid => f.as_mut_slice().iter_mut().for_each(|v| *v = sigmoid(*v)),
            Link::Softmax => {
                let k = f.rows();
                for col in f.as_mut_slice().chunks_exact_mut(k.max(1)) {
                    softmax(col);
                }
            }
        }
    }
}

/// `1/(1 + e^{−z})`, without overflow for either sign.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `softmax(f)` in place, shifted by the largest entry so that no exponential overflows; returns
/// `log Σ e^{f_k}` of the original entries.
pub fn softmax(f: &mut [f64]) -> f64 {
    let top = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for v in f.iter_mut() {
        *v = (*v - top).exp();
        total += *v;
    }
    f.iter_mut().for_each(|v| *v /= total);
    top + total.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_and_survive_large_logits() {
        let mut f = Matrix::from_col_major(3, 2, vec![1.0, 2.0, 3.0, 800.0, -800.0, 0.0]).unwrap();
        Link::Softmax.apply(&mut f);
        for j in 0..2 {
            let s: f64 = f.col(j).iter().sum();
            assert!((s - 1.0).abs() <= 1e-15, "{s}");
        }
        // e^1 : e^2 : e^3
        let e = [1f64.exp(), 2f64.exp(), 3f64.exp()];
        let total: f64 = e.iter().sum();
        for (p, e) in f.col(0).iter().zip(e) {
            assert!((p - e / total).abs() <= 1e-15);
        }
        assert_eq!(f.col(1), &[1.0, 0.0, 0.0]);
        for z in [-800.0, -3.0, 0.0, 2.5, 800.0] {
            let s = sigmoid(z);
            assert!(
                s.is_finite() && (s + sigmoid(-z) - 1.0).abs() <= 1e-15,
                "{z}"
            );
        }
        let mut g = [0.0, (2f64).ln()];
        let lse = softmax(&mut g);
        assert!((lse - 3f64.ln()).abs() <= 1e-15 && (g[1] - 2.0 / 3.0).abs() <= 1e-15);
    }
}
