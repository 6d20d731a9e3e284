//! `cvxnn export`: a saved model as an ONNX file.

use super::Outcome;
use anyhow::Result;
use clap::{ArgMatches, Args};
use cvxnn::model::Model;
use cvxnn::onnx::Precision;
use std::path::PathBuf;

#[derive(Args)]
pub struct ExportArgs {
    /// Model written by `cvxnn train`.
    #[arg(long)]
    model: PathBuf,
    /// Where to write the ONNX file: input `x` [N, inputs], output `y` [N, outputs], in the
    /// data's units (the model's standardisation is part of the graph).
    #[arg(long)]
    onnx: PathBuf,
    /// Write float32 values (the default for a float32 model).
    #[arg(long, conflicts_with = "float64")]
    float32: bool,
    /// Write float64 values (the default for a float64 model).
    #[arg(long)]
    float64: bool,
}

pub fn run(a: ExportArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let model = Model::load(&a.model)?;
    let precision = match (a.float32, a.float64) {
        (true, _) => Precision::F32,
        (_, true) => Precision::F64,
        _ => model.precision,
    };
    model.save_onnx(&a.onnx, precision)?;
    eprintln!(
        "{} ({}, {}) written to {}",
        a.model.display(),
        model.network.describe(),
        precision.long_name(),
        a.onnx.display()
    );
    Ok(Outcome::Done)
}
