//! `cvxnn eval`: a saved model on a data file, its columns matched by name.

use super::Outcome;
use anyhow::Result;
use clap::{ArgMatches, Args};
use cvxnn::data::Table;
use cvxnn::model::{Evaluation, Model};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args)]
pub struct EvalArgs {
    /// Model written by `cvxnn train`.
    #[arg(long)]
    model: PathBuf,
    /// Data file (CSV or .npy) with the model's input and target columns: matched by name when
    /// the file has a header, else inputs then targets by position.
    #[arg(long)]
    data: PathBuf,
    /// Target columns by header name (must be the model's).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

/// `eval --json`.
#[derive(Serialize)]
struct EvalReport {
    model: String,
    data: String,
    #[serde(flatten)]
    fit: Evaluation,
}

pub fn run(a: EvalArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let model = Model::load(&a.model)?;
    let table = Table::load(&a.data)?;
    let ds = model.data_of(&table, a.targets.as_deref())?;
    let fit = model.evaluate(&ds)?;
    if a.json {
        let r = EvalReport {
            model: a.model.display().to_string(),
            data: a.data.display().to_string(),
            fit,
        };
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "model        {} ({})",
            a.model.display(),
            model.network.describe()
        );
        println!(
            "data         {} ({} samples; targets {})",
            a.data.display(),
            fit.n_samples,
            ds.target_names.join(", ")
        );
        println!("mse          {:.6e}", fit.mse);
        println!(
            "output error {:.6e}  (‖Y − f(X)‖_F / ‖Y‖_F)",
            fit.output_error
        );
        println!("max |error|  {:.6e}", fit.max_abs_error);
    }
    Ok(Outcome::Done)
}
