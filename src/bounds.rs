//! Pre-activation bounds for exact training (issue 6's big-M constants), by interval arithmetic.
//!
//! In training the weights are the unknowns and the inputs are data, so the box is on the weights:
//! every weight and bias in `[−B, B]`. For sample x the first layer's pre-activation obeys
//! `|wᵀx + b| ≤ B(‖x‖₁ + 1)`, and this is attained (`w = B sign(x)`, `b = B`). A hidden activation
//! then lies in `[0, U_l]`, and the next layer's pre-activation in `±B(Σ U_l + 1)`. Every neuron of
//! a layer shares the bound of its sample, since all weights share one box. A big-M taken smaller
//! than these bounds could cut off a feasible network; the test below checks that no sampled
//! network in the box leaves them.

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::Architecture;

/// Refuses a weight bound that is not positive and finite.
pub fn check_weight_bound(weight_bound: f64) -> Result<()> {
    if weight_bound.is_finite() && weight_bound > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "the weight bound must be positive and finite, got {weight_bound}"
        )))
    }
}

/// `bound[l][j]`: the largest |pre-activation| of any neuron of layer `l + 1` on sample j, over
/// all networks of `arch` whose weights and biases lie in `[−weight_bound, weight_bound]`.
pub fn training_bounds(
    x: &Matrix,
    arch: &Architecture,
    weight_bound: f64,
) -> Result<Vec<Vec<f64>>> {
    check_weight_bound(weight_bound)?;
    if x.rows() != arch.n_inputs() {
        return Err(Error::Shape(format!(
            "the architecture takes {} inputs, the data have {}",
            arch.n_inputs(),
            x.rows()
        )));
    }
    if !x.is_finite() {
        return Err(Error::NonFinite("inputs".into()));
    }
    let widths = &arch.widths;
    let layers = widths.len() - 1;
    let mut out = Vec::with_capacity(layers);
    // the ℓ₁ norm of each sample's input to the current layer (an upper bound on it)
    let mut input_l1: Vec<f64> = (0..x.cols())
        .map(|j| x.col(j).iter().map(|v| v.abs()).sum())
        .collect();
    for l in 0..layers {
        let bound: Vec<f64> = input_l1.iter().map(|s| weight_bound * (s + 1.0)).collect();
        // the next layer sees widths[l + 1] activations in [0, bound] (ReLU)
        input_l1 = bound.iter().map(|u| u * widths[l + 1] as f64).collect();
        out.push(bound);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Mlp};
    use rand::{Rng, SeedableRng};

    #[test]
    fn no_network_in_the_box_leaves_the_bounds_and_the_first_layer_bound_is_attained() {
        let arch = Architecture::parse("3-4-2-1", Activation::Linear).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let x = Matrix::from_fn(3, 20, |_, _| rng.random_range(-2.0..2.0));
        let b = 1.5;
        let bounds = training_bounds(&x, &arch, b).unwrap();
        assert_eq!(bounds.len(), 3);
        for trial in 0..200 {
            // corners of the box are where interval bounds are tight; mix them with interior points
            let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
                if trial % 2 == 0 {
                    if rng.random_bool(0.5) {
                        b
                    } else {
                        -b
                    }
                } else {
                    rng.random_range(-b..=b)
                }
            };
            let weights: Vec<Matrix> = (0..3)
                .map(|l| Matrix::from_fn(arch.widths[l + 1], arch.widths[l], |_, _| draw(&mut rng)))
                .collect();
            let biases: Vec<Vec<f64>> = (0..3)
                .map(|l| (0..arch.widths[l + 1]).map(|_| draw(&mut rng)).collect())
                .collect();
            let net = Mlp::new(arch.clone(), weights, biases).unwrap();
            for (l, (z, _)) in net.forward_layers(&x).unwrap().iter().enumerate() {
                for (j, &bound) in bounds[l].iter().enumerate() {
                    for i in 0..z.rows() {
                        assert!(
                            z.get(i, j).abs() <= bound * (1.0 + 1e-12),
                            "layer {l} sample {j}: {} > {bound}",
                            z.get(i, j)
                        );
                    }
                }
            }
        }
        // w = B sign(x), b = B attains the first layer's bound
        for (j, &bound) in bounds[0].iter().enumerate() {
            let z: f64 = x.col(j).iter().map(|v| b * v.signum() * v).sum::<f64>() + b;
            assert!((z - bound).abs() <= 1e-12 * z);
        }
        assert!(training_bounds(&x, &arch, 0.0).is_err());
        assert!(training_bounds(&Matrix::zeros(2, 3), &arch, 1.0).is_err());
    }
}
