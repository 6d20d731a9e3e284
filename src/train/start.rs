//! Where a training run starts: all zero, a seeded random draw, or a given network.

use crate::error::{Error, Result};
use crate::net::{Architecture, Mlp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a random start is drawn (from a seed, ChaCha8, the same numbers on every machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitScheme {
    /// Every number N(0, 1). For a network: every weight and bias. For SCR: every parameter of
    /// its subproblem (the seed's "random" start, which is not a network).
    Gaussian,
    /// He/Kaiming normal: weights N(0, 2/n_in), biases zero; the usual choice for ReLU layers.
    He,
    /// Glorot/Xavier normal: weights N(0, 2/(n_in + n_out)), biases zero.
    Glorot,
}

impl InitScheme {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        (
            "gaussian",
            "Every number N(0, 1) (for SCR: its subproblem's parameters, the seed's random start)",
        ),
        ("he", "N(0, 2/n_in) weights, zero biases"),
        ("glorot", "N(0, 2/(n_in + n_out)) weights, zero biases"),
    ];

    pub fn name(self) -> &'static str {
        match self {
            InitScheme::Gaussian => "gaussian",
            InitScheme::He => "he",
            InitScheme::Glorot => "glorot",
        }
    }
}

impl fmt::Display for InitScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InitScheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "gaussian" => Ok(InitScheme::Gaussian),
            "he" => Ok(InitScheme::He),
            "glorot" => Ok(InitScheme::Glorot),
            _ => Err(Error::InvalidArgument(format!(
                "unknown initialisation '{s}' (expected gaussian, he or glorot)"
            ))),
        }
    }
}

/// A seeded random network of `arch` drawn with `scheme`.
pub fn random_network(arch: &Architecture, scheme: InitScheme, seed: u64) -> Mlp {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if scheme == InitScheme::Gaussian {
        return Mlp::random_gaussian(arch, 1.0, &mut rng);
    }
    let mut m = Mlp::zeros(arch);
    for (l, w) in m.weights.iter_mut().enumerate() {
        let (n_in, n_out) = (arch.widths[l] as f64, arch.widths[l + 1] as f64);
        let sd = match scheme {
            InitScheme::Glorot => (2.0 / (n_in + n_out)).sqrt(),
            _ => (2.0 / n_in).sqrt(),
        };
        for v in w.as_mut_slice() {
            *v = sd * rng.sample::<f64, _>(StandardNormal);
        }
    }
    m
}

/// Where a run starts. Each method reads it in its own terms: a gradient method starts from the
/// network; SCR starts from minus the lifted point of the network, or, for
/// `Random { scheme: Gaussian }` and `Zero`, from Gaussian or zero parameters of its subproblem.
#[derive(Clone, Debug)]
pub enum Start {
    /// Every parameter zero.
    Zero,
    /// A seeded random draw.
    Random { scheme: InitScheme, seed: u64 },
    /// A given network (a perturbed teacher, a saved model, another method's answer), with a
    /// label for reports (`perturbed`, `model`, …) and a line on where it came from.
    Model {
        model: Mlp,
        label: String,
        detail: String,
    },
}

impl Start {
    /// Label for tables and reports: `zero`, `random` or the model's label.
    pub fn label(&self) -> String {
        match self {
            Start::Zero => "zero".into(),
            Start::Random { .. } => "random".into(),
            Start::Model { label, .. } => label.clone(),
        }
    }

    /// One line on how the start was made.
    pub fn detail(&self) -> String {
        match self {
            Start::Zero => "all parameters zero".into(),
            Start::Random {
                scheme: InitScheme::Gaussian,
                seed,
            } => format!("N(0, 1) parameters, seed {seed}"),
            Start::Random { scheme, seed } => format!("{scheme} initialisation, seed {seed}"),
            Start::Model { detail, .. } => detail.clone(),
        }
    }

    /// The start as a network of `arch` (for methods that train networks directly).
    pub fn network(&self, arch: &Architecture) -> Result<Mlp> {
        match self {
            Start::Zero => Ok(Mlp::zeros(arch)),
            Start::Random { scheme, seed } => Ok(random_network(arch, *scheme, *seed)),
            Start::Model { model, label, .. } => {
                if model.arch != *arch {
                    return Err(Error::Shape(format!(
                        "the {label} start is a {} network, training a {arch}",
                        model.arch
                    )));
                }
                Ok(model.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activation;

    #[test]
    fn schemes_have_their_variances_and_seeds_repeat() {
        let arch = Architecture::parse("400-300-1", Activation::Linear).unwrap();
        let var = |m: &Mlp| {
            let w = m.weights[0].as_slice();
            w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64
        };
        let he = random_network(&arch, InitScheme::He, 1);
        let glorot = random_network(&arch, InitScheme::Glorot, 1);
        let gauss = random_network(&arch, InitScheme::Gaussian, 1);
        // 120 000 draws: the sample variance is within 2 % of the scheme's
        assert!((var(&he) / (2.0 / 400.0) - 1.0).abs() < 0.02);
        assert!((var(&glorot) / (2.0 / 700.0) - 1.0).abs() < 0.02);
        assert!((var(&gauss) - 1.0).abs() < 0.02);
        assert!(he.biases.iter().flatten().all(|&b| b == 0.0));
        assert!(gauss.biases[0].iter().any(|&b| b != 0.0));
        assert_eq!(random_network(&arch, InitScheme::He, 1), he);
        assert_ne!(random_network(&arch, InitScheme::He, 2), he);
        let other = Architecture::parse("3-3-1", Activation::Linear).unwrap();
        let start = Start::Model {
            model: he,
            label: "model".into(),
            detail: String::new(),
        };
        assert!(start.network(&other).is_err());
        assert_eq!("GLOROT".parse::<InitScheme>().unwrap(), InitScheme::Glorot);
        assert!("xavier".parse::<InitScheme>().is_err());
    }
}
