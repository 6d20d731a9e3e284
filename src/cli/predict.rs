//! `cvxnn predict`: a saved model's predictions for a file of inputs.

use super::{wrote, Outcome};
use anyhow::{Context, Result};
use clap::{ArgMatches, Args};
use cvxnn::data::{save_predictions, Table};
use cvxnn::model::Model;
use std::path::PathBuf;

#[derive(Args)]
pub struct PredictArgs {
    /// Model written by `cvxnn train`.
    #[arg(long)]
    model: PathBuf,
    /// Inputs (CSV or .npy): the model's input columns, matched by name when the file has a
    /// header (other columns are ignored), else the first columns by position.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the predictions (CSV, one row per sample, headed by the target names);
    /// standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: PredictArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let model = Model::load(&a.model)?;
    let table = Table::load(&a.data)?;
    let x = model.inputs_of(&table)?;
    let y = model.predict(&x)?;
    let names = model.target_names();
    match &a.out {
        Some(p) => {
            save_predictions(&y, &names, p)?;
            wrote(&format!("{} predictions", y.cols()), p);
        }
        None => cvxnn::data::write_predictions(&y, &names, std::io::stdout().lock())
            .context("writing the predictions")?,
    }
    Ok(Outcome::Done)
}
