//! Subcommands of the `cvxnn` binary that have their own module (the rest are in `main.rs`).

pub mod glm;
pub mod milp;
pub mod perceptron;

use anyhow::{bail, Result};

/// The target value that becomes the +1 class: `given` if it occurs, else the larger of exactly
/// two values; `hint` says what to do otherwise.
pub fn positive_class(targets: &[f64], given: Option<f64>, hint: &str) -> Result<f64> {
    let values = distinct(targets);
    match given {
        Some(p) if values.contains(&p) => Ok(p),
        Some(p) => bail!("--positive-class {p} does not occur in the targets"),
        None if values.len() == 2 => Ok(values[1]),
        None => bail!(
            "the model is binary but the target takes {} values: {hint}",
            values.len()
        ),
    }
}

/// The distinct target values, sorted.
pub fn distinct(targets: &[f64]) -> Vec<f64> {
    let mut values = targets.to_vec();
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
}
