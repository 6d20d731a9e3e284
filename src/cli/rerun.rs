//! `cvxnn rerun`: every run of a training report again, from the request it embeds, and whether
//! the model and the figures came out bit for bit the same (and if not, why they may not).

use super::progress::Progress;
use super::{interrupt, wrote, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::request::{self, RunRequest};
use std::path::PathBuf;

#[derive(Args)]
pub struct RerunArgs {
    /// A report written by `train --report` or `demo`.
    report: PathBuf,
    /// Where to write the rerun's model (its last run's), if it has one.
    #[arg(long)]
    model_out: Option<PathBuf>,
}

pub fn run(a: RerunArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let interrupt = interrupt::on_ctrl_c();
    let mut observe = |i: usize, r: &RunRequest| -> Box<dyn cvxnn::train::Observer> {
        eprintln!(
            "run {}: {} on {}, start {}",
            i + 1,
            r.method,
            r.arch.as_deref().unwrap_or("?"),
            serde_json::to_string(&r.start).unwrap_or_default()
        );
        Box::new(Progress::new(""))
    };
    let checks = request::rerun(&a.report, &mut observe, Some(interrupt.clone()))?;
    let mut all = true;
    for c in &checks {
        let same = c.identical();
        all &= same;
        println!(
            "run {} ({}, {} start): {}",
            c.index + 1,
            c.method,
            c.init,
            match (c.same_model, c.same_figures) {
                (true, true) => "model and figures bit-identical".to_string(),
                (true, false) => "model bit-identical, figures differ".to_string(),
                (false, true) => "model differs, figures bit-identical".to_string(),
                (false, false) => "model and figures differ".to_string(),
            }
        );
        if let Some(sha) = &c.trained_sha256 {
            println!("  model sha256 {sha}");
        }
        for d in &c.differences {
            println!("  differs: {d}");
        }
        for r in &c.reasons {
            println!("  {}: {r}", if same { "note" } else { "why" });
        }
    }
    if let (Some(path), Some(model)) = (
        &a.model_out,
        checks.last().and_then(|c| c.rerun.model.as_ref()),
    ) {
        model.save(path)?;
        wrote("model", path);
    }
    if interrupt.is_triggered() {
        return Ok(Outcome::Interrupted);
    }
    if !all {
        bail!("the rerun differs from {} (see above)", a.report.display());
    }
    Ok(Outcome::Done)
}
