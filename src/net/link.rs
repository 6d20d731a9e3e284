//! What a network's outputs mean: values (regression, scores), or the logits of class
//! probabilities that a network trained on the cross-entropy gives.

use crate::error::{Error, Result};
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

/// Class labels as 0/1 indicators: labels 0/1 or −1/1 (1 marks the class), one column for two
/// classes or one per class with exactly one class per sample.
pub fn class_indicators(y: &Matrix) -> Result<Matrix> {
    let values = y.as_slice();
    if let Some(bad) = values.iter().find(|&&v| v != 0.0 && v != 1.0 && v != -1.0) {
        return Err(Error::InvalidArgument(format!(
            "class labels are 0/1 or −1/1 (one column per class, or one column for two \
             classes), got the target {bad}"
        )));
    }
    if values.contains(&0.0) && values.contains(&-1.0) {
        return Err(Error::InvalidArgument(
            "class labels are 0/1 or −1/1, got 0 and −1 both".into(),
        ));
    }
    let t: Vec<f64> = values.iter().map(|&v| f64::from(v == 1.0)).collect();
    let k = y.rows();
    if k > 1 {
        if let Some(j) = t.chunks_exact(k).position(|c| c.iter().sum::<f64>() != 1.0) {
            return Err(Error::InvalidArgument(format!(
                "{k} class columns need exactly one class per sample; sample {} has {}",
                j + 1,
                t[j * k..(j + 1) * k].iter().sum::<f64>()
            )));
        }
    }
    Matrix::from_col_major(k, y.cols(), t)
}

/// The mean cross-entropy and the accuracy of the logits `f` (one sample per column) against
/// the 0/1 class indicators `t` ([`class_indicators`]): the classes' probabilities are the
/// sigmoid of one logit or the softmax of several, the predicted class the most probable one.
/// With sample `weights`, both are weighted means (the figures of the rows repeated as often as
/// their integer weight).
pub fn class_figures(f: &Matrix, t: &Matrix, weights: Option<&[f64]>) -> (f64, f64) {
    let (k, n) = (f.rows(), f.cols());
    let (mut cross_entropy, mut right) = (0.0, 0.0);
    let mut p = vec![0.0; k];
    for j in 0..n {
        let (f, t) = (f.col(j), t.col(j));
        let w = weights.map_or(1.0, |w| w[j]);
        if k == 1 {
            // −t log σ(f) − (1 − t) log(1 − σ(f)) = softplus(f) − t f
            cross_entropy += w * (f[0].max(0.0) + (-f[0].abs()).exp().ln_1p() - t[0] * f[0]);
            right += w * f64::from(u8::from((f[0] > 0.0) == (t[0] == 1.0)));
        } else {
            p.copy_from_slice(f);
            let lse = softmax(&mut p);
            cross_entropy += w * (lse - t.iter().zip(f).map(|(t, f)| t * f).sum::<f64>());
            let best = (0..k).fold(0, |b, i| if f[i] > f[b] { i } else { b });
            right += w * f64::from(u8::from(t[best] == 1.0));
        }
    }
    let total = weights
        .map_or(n as f64, |w| w.iter().sum())
        .max(f64::MIN_POSITIVE);
    (cross_entropy / total, right / total)
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
