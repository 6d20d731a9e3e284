//! `cvxnn eval`: a saved model on a data file, its columns matched by name.

use super::{args::ModelDataArgs, Outcome};
use anyhow::Result;
use clap::{ArgMatches, Args};
use cvxnn::model::Evaluation;
use serde::Serialize;

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    files: ModelDataArgs,
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
    let (model, ds) = a.files.load()?;
    let fit = model.evaluate(&ds)?;
    if a.json {
        let r = EvalReport {
            model: a.files.model.display().to_string(),
            data: a.files.data.display().to_string(),
            fit,
        };
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "model        {} ({})",
            a.files.model.display(),
            model.network.describe()
        );
        println!(
            "data         {} ({} samples; targets {})",
            a.files.data.display(),
            fit.n_samples,
            ds.target_names.join(", ")
        );
        println!("mse          {:.6e}", fit.mse);
        println!(
            "output error {:.6e}  (‖Y − f(X)‖_F / ‖Y‖_F)",
            fit.output_error
        );
        println!("max |error|  {:.6e}", fit.max_abs_error);
        if let (Some(ce), Some(acc)) = (fit.cross_entropy, fit.accuracy) {
            println!("cross-entropy {ce:.6e}  (errors above: probabilities against 0/1 labels)");
            println!("accuracy     {acc:.4}");
        }
    }
    Ok(Outcome::Done)
}
