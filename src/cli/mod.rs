//! The subcommands of the `cvxnn` binary, one file each, and what they share: the argument
//! groups ([`args`]), the tables they print ([`tables`]), progress ([`progress`]) and Ctrl-C
//! ([`interrupt`]). They parse, call the library, and print; the work is in the library.

pub mod args;
pub mod certify;
pub mod compare;
pub mod demo;
pub mod eval;
pub mod export;
pub mod generate;
pub mod glm;
pub mod interrupt;
pub mod perceptron;
pub mod predict;
pub mod progress;
pub mod rerun;
pub mod tables;
pub mod train;

use anyhow::Result;

/// How a command ended when it did not fail.
pub enum Outcome {
    Done,
    /// Stopped by Ctrl-C after writing what it had: exit code 130.
    Interrupted,
}

/// The process's exit code: 0, 130 after an interrupt, 1 after an error (printed).
pub fn exit_code(result: Result<Outcome>) -> i32 {
    match result {
        Ok(Outcome::Done) => 0,
        Ok(Outcome::Interrupted) => 130,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            1
        }
    }
}

/// An error as the command line says it: request keys spelled as their flags, and how to build
/// with a missing feature.
fn message(e: &anyhow::Error) -> String {
    let text = cvxnn::error::respell(&format!("{e:#}"), args::spell);
    match e.downcast_ref::<cvxnn::Error>() {
        Some(cvxnn::Error::Unavailable { feature, .. }) => format!(
            "{text} (cargo build --release --features {feature}; docs: README.md, \"Exact \
             training\" and the interior-point backend)"
        ),
        _ => text,
    }
}

/// Says on stderr that a file was written.
pub fn wrote(what: &str, path: &std::path::Path) {
    eprintln!("{what} written to {}", path.display());
}
