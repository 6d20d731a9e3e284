//! Planted teachers: a random network and data it fits exactly.

use super::Dataset;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Architecture, Mlp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A teacher network and the dataset it generated.
#[derive(Clone, Debug)]
pub struct Teacher {
    pub model: Mlp,
    pub data: Dataset,
    pub seed: u64,
}

/// Gaussian N(0, 1) weights, biases and inputs; targets `Y = f(X)` exactly. Same seed, same numbers.
pub fn planted_teacher(arch: &Architecture, n_samples: usize, seed: u64) -> Result<Teacher> {
    if n_samples == 0 {
        return Err(Error::InvalidArgument(
            "a teacher needs at least one sample".into(),
        ));
    }
    // Refuse sizes that cannot be held in memory before allocating anything.
    const MAX_CELLS: usize = 1 << 31;
    let widest = arch.widths.iter().copied().max().unwrap_or(1);
    if widest.checked_mul(n_samples).is_none_or(|c| c > MAX_CELLS)
        || arch.n_parameters() > MAX_CELLS
    {
        return Err(Error::InvalidArgument(format!(
            "a teacher {} with {n_samples} samples needs more than {MAX_CELLS} numbers in one matrix",
            arch.spec()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Mlp::random_gaussian(arch, 1.0, &mut rng);
    let x = Matrix::from_fn(arch.n_inputs(), n_samples, |_, _| {
        rng.sample::<f64, _>(StandardNormal)
    });
    let y = model.forward(&x)?;
    let data = Dataset::new(
        x,
        y,
        format!("planted teacher {} N={n_samples} seed={seed}", arch),
    )?;
    Ok(Teacher { model, data, seed })
}

/// The teacher's data with N(0, σ²) noise added to every target, seeded (σ = 0 returns a copy).
pub fn with_label_noise(data: &Dataset, sigma: f64, seed: u64) -> Result<Dataset> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "the label noise must be finite and non-negative, got {sigma}"
        )));
    }
    let mut out = data.clone();
    if sigma > 0.0 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x006e_6f69_7365);
        for v in out.y.as_mut_slice() {
            *v += sigma * rng.sample::<f64, _>(StandardNormal);
        }
        out.source = format!("{}, label noise σ={sigma}", data.source);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activation;

    #[test]
    fn same_seed_same_data_and_exact_fit() {
        let arch = Architecture::parse("3-3-2", Activation::Relu).unwrap();
        let a = planted_teacher(&arch, 30, 1).unwrap();
        let b = planted_teacher(&arch, 30, 1).unwrap();
        let c = planted_teacher(&arch, 30, 2).unwrap();
        assert_eq!(a.data.x, b.data.x);
        assert_eq!(a.model, b.model);
        assert_ne!(a.data.x, c.data.x);
        assert_eq!(a.model.relative_error(&a.data.x, &a.data.y).unwrap(), 0.0);
        assert!(a.data.y.as_slice().iter().all(|&v| v >= 0.0));
        let n1 = with_label_noise(&a.data, 0.1, 3).unwrap();
        let n2 = with_label_noise(&a.data, 0.1, 3).unwrap();
        assert_eq!(n1.y, n2.y);
        assert_eq!(n1.x, a.data.x);
        let diff = n1.y.sub(&a.data.y).unwrap();
        let rms = diff.frobenius() / (diff.as_slice().len() as f64).sqrt();
        assert!(rms > 0.05 && rms < 0.2, "rms noise {rms}");
        assert_eq!(with_label_noise(&a.data, 0.0, 3).unwrap().y, a.data.y);
        assert!(with_label_noise(&a.data, f64::NAN, 3).is_err());
    }
}
