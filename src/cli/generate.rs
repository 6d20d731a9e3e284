//! `cvxnn generate`: planted teachers, Blum & Rivest's set-splitting points, parity.

use super::{wrote, Outcome};
use anyhow::Result;
use clap::{ArgMatches, Subcommand};
use cvxnn::data::blum_rivest::{parity, InstanceFile, SetSplitting, BRUTE_FORCE_MAX};
use cvxnn::data::{self, save_csv};
use cvxnn::model::Model;
use cvxnn::net::{Activation, Architecture, Network};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum GenerateCmd {
    /// A planted teacher: Gaussian weights and inputs, targets f(X); writes a CSV.
    Teacher {
        /// Architecture, e.g. 3-3-2.
        #[arg(long)]
        arch: String,
        /// Output activation: linear or relu.
        #[arg(long, default_value = "linear")]
        output_activation: Activation,
        /// Number of samples.
        #[arg(long, default_value_t = 30)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// CSV to write (header x1…, y1…).
        #[arg(long)]
        out: PathBuf,
        /// Also write the teacher network (a model file).
        #[arg(long)]
        model_out: Option<PathBuf>,
    },
    /// Blum & Rivest's training set for a seeded set-splitting instance (seed 001): the origin
    /// and one point per set positive, the unit vectors negative. A 3-node threshold network (two
    /// units, AND) classifies it iff the sets can be split; up to 24 elements the answer is
    /// found by brute force and printed.
    BlumRivest {
        /// Number of elements (the input dimension), 2 to 64.
        #[arg(long, default_value_t = 12)]
        elements: usize,
        /// Number of sets.
        #[arg(long, default_value_t = 20)]
        sets: usize,
        /// Elements per set.
        #[arg(long, default_value_t = 3)]
        set_size: usize,
        /// Keep only sets that a hidden random colouring splits (the instance is satisfiable).
        #[arg(long)]
        planted: bool,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// CSV to write (header e0…, label).
        #[arg(long)]
        out: PathBuf,
        /// Also write the instance (elements, sets, and the brute-force answer) as JSON.
        #[arg(long)]
        instance_out: Option<PathBuf>,
    },
    /// All points of {0, 1}^bits with their parity (XOR for 2 bits); writes a CSV.
    Parity {
        #[arg(long, default_value_t = 2)]
        bits: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(g: GenerateCmd, _matches: &ArgMatches) -> Result<Outcome> {
    match g {
        GenerateCmd::Teacher {
            arch,
            output_activation,
            n,
            seed,
            out,
            model_out,
        } => {
            let arch = Architecture::parse(&arch, output_activation)?;
            let t = data::planted_teacher(&arch, n, seed)?;
            save_csv(&t.data, &out)?;
            wrote(&format!("{n} samples of {arch}"), &out);
            if let Some(p) = model_out {
                Model::new(Network::Mlp(t.model), t.data.columns(), None)?.save(&p)?;
                wrote("teacher", &p);
            }
        }
        GenerateCmd::BlumRivest {
            elements,
            sets,
            set_size,
            planted,
            seed,
            out,
            instance_out,
        } => {
            let inst = SetSplitting::random(elements, sets, set_size, planted, seed)?;
            let ds = inst.training_set()?;
            save_csv(&ds, &out)?;
            wrote(
                &format!(
                    "{} points ({elements} elements, {sets} sets of {set_size})",
                    ds.n_samples()
                ),
                &out,
            );
            let answer = if elements <= BRUTE_FORCE_MAX {
                let found = inst.brute_force()?;
                eprintln!(
                    "{}",
                    match &found {
                        Some(_) =>
                            "satisfiable (brute force): the sets can be split, so a \
                                    3-node network classifies every point",
                        None =>
                            "unsatisfiable (brute force): no split exists, so no 3-node \
                                 network classifies every point",
                    }
                );
                Some(found)
            } else {
                eprintln!(
                    "satisfiability not checked: brute force takes at most {BRUTE_FORCE_MAX} \
                     elements{}",
                    if planted {
                        " (planted: satisfiable)"
                    } else {
                        ""
                    }
                );
                None
            };
            if let Some(p) = instance_out {
                cvxnn::report::save_json(&InstanceFile::new(&inst, planted, seed, answer), &p)?;
                wrote("instance", &p);
            }
        }
        GenerateCmd::Parity { bits, out } => {
            let ds = parity(bits)?;
            save_csv(&ds, &out)?;
            wrote(&format!("{} points", ds.n_samples()), &out);
        }
    }
    Ok(Outcome::Done)
}
