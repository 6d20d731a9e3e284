//! A request's `start`: where training begins, resolved against the method (its own random
//! scheme), the network and the teacher.

use crate::data::Teacher;
use crate::error::{Error, Result};
use crate::methods::Method;
use crate::model::Model;
use crate::net::{Architecture, Network};
use crate::train::{InitScheme, Start};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where the run starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StartSpec {
    pub init: Init,
    /// The random start's scheme (`None`: the method's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<InitScheme>,
    /// The random start's or the perturbation's seed (`None`: the request's seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The perturbation's σ (`perturbed`; default 0.05).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// The saved model to start from (`model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The kinds of start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// A seeded random draw (`start.scheme`, `start.seed`).
    #[default]
    Random,
    /// Every parameter zero.
    Zero,
    /// The teacher with N(0, σ²) noise on its weights (teacher data only).
    Perturbed,
    /// A saved model (`start.model`).
    Model,
}

impl Init {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("random", "A seeded random start (start seed, start scheme)"),
        ("zero", "All parameters zero"),
        (
            "perturbed",
            "The teacher with N(0, σ²) noise on its weights (needs a teacher)",
        ),
        ("model", "A saved model"),
    ];
}

impl StartSpec {
    /// The start as the request resolves it (scheme, seed and σ filled in) and as training
    /// takes it.
    pub(super) fn resolve(
        &self,
        method: &Method,
        arch: &Architecture,
        teacher: Option<&Teacher>,
        (seed, standardize): (u64, bool),
    ) -> Result<(StartSpec, Start)> {
        let s = self;
        let only = |given: bool, key: &str, kind: &str| {
            if given {
                Err(Error::setting(
                    key,
                    format!("applies to `start.init` {kind}"),
                ))
            } else {
                Ok(())
            }
        };
        only(
            s.sigma.is_some() && s.init != Init::Perturbed,
            "start.sigma",
            "perturbed",
        )?;
        only(
            s.model.is_some() && s.init != Init::Model,
            "start.model",
            "model",
        )?;
        only(
            s.scheme.is_some() && s.init != Init::Random,
            "start.scheme",
            "random",
        )?;
        let seed = s.seed.unwrap_or(seed);
        let mut resolved = StartSpec {
            init: s.init,
            ..Default::default()
        };
        let start = match s.init {
            Init::Zero => Start::Zero,
            Init::Random => {
                let scheme = s.scheme.unwrap_or(method.default_scheme);
                resolved.scheme = Some(scheme);
                resolved.seed = Some(seed);
                Start::Random { scheme, seed }
            }
            Init::Perturbed => {
                let Some(t) = teacher else {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed needs a known teacher: data from `data.teacher`",
                    ));
                };
                if t.model.arch.widths != arch.widths {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed needs `arch` equal to the teacher's",
                    ));
                }
                if standardize {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed starts from the teacher's weights, in the data's units: it \
                         cannot train on standardised data (`standardize`)",
                    ));
                }
                let sigma = s.sigma.unwrap_or(0.05);
                resolved.seed = Some(seed);
                resolved.sigma = Some(sigma);
                perturbed(t, sigma, seed)?
            }
            Init::Model => {
                let Some(path) = &s.model else {
                    return Err(Error::setting(
                        "start.model",
                        "is required by `start.init` model (a saved model's path)",
                    ));
                };
                resolved.model = Some(path.clone());
                let Network::Mlp(model) = Model::load(Path::new(path))?.network else {
                    return Err(Error::setting(
                        "start.model",
                        format!("{path}: a threshold network cannot start training"),
                    ));
                };
                Start::Model {
                    model,
                    label: "model".into(),
                    detail: format!("the model in {path}"),
                }
            }
        };
        Ok((resolved, start))
    }
}

/// The perturbed start: the teacher with N(0, σ²) noise on every weight (noise seed `seed + 1000`).
pub fn perturbed(teacher: &Teacher, sigma: f64, seed: u64) -> Result<Start> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(Error::setting(
            "start.sigma",
            format!("must be nonnegative and finite, got {sigma}"),
        ));
    }
    let noise_seed = seed.wrapping_add(1000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(noise_seed);
    Ok(Start::Model {
        model: teacher.model.perturbed(sigma, &mut rng),
        label: "perturbed".into(),
        detail: format!(
            "the teacher with N(0, {sigma}²) noise on its weights, noise seed {noise_seed}"
        ),
    })
}
