//! `cvxnn` command line: parses the arguments and hands each subcommand to its file in `cli/`.

mod cli;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cvxnn",
    version,
    about = "Train neural networks as mathematical programs and compare the methods honestly: \
             sequential convex relaxation, gradient methods, exact training by MILP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reproduce the seed experiment: SCR on a planted 3-3-2 ReLU teacher, N = 30, from the
    /// perturbed, random and zero starts; prints a table, writes a JSON report and an SVG plot.
    Demo(cli::demo::DemoArgs),
    /// Train a network with any method (scr, gd, sgd, adam, lbfgs, lm, scr+lbfgs, milp, convex) on a
    /// data file or a planted teacher; write the model, a report and a plot.
    Train(cli::train::TrainArgs),
    /// Run several methods on the same problems (K seeded teachers, or a data file) from the same
    /// random starts; print success rates and medians per method, write the rows and a plot.
    Compare(cli::compare::CompareArgs),
    /// Rerun every run of a training report from the request it embeds, and say whether the
    /// model and the figures are bit-identical (and why they may not be).
    Rerun(cli::rerun::RerunArgs),
    /// How far a saved two-layer ReLU network is from the best two-layer network of any width:
    /// its weight-decay objective against a proven global lower bound.
    Certify(cli::certify::CertifyArgs),
    /// Evaluate a saved model on a data file (columns matched by name).
    Eval(cli::eval::EvalArgs),
    /// Predict with a saved model on a file of inputs; write the predictions as CSV.
    Predict(cli::predict::PredictArgs),
    /// Export a saved model as ONNX (standard MatMul/Add/Relu nodes, its standardisation
    /// included), for onnxruntime or any other ONNX runtime.
    Export(cli::export::ExportArgs),
    /// Fit a convex model, with scikit-learn's objective scaling: ridge, lasso, elastic net,
    /// logistic regression (binary or softmax) or the linear SVM, by interior point (Clarabel,
    /// the default) or the first-order path (--solver first-order).
    Glm(cli::glm::GlmArgs),
    /// A layer of threshold units by linear programming (seed 001), one LP per output node: a
    /// separating hyperplane, or a Farkas certificate that none exists; and the robust LP of
    /// Bennett & Mangasarian (1992).
    Perceptron(cli::perceptron::PerceptronArgs),
    /// Generate data: planted teachers, Blum & Rivest's points, parity.
    #[command(subcommand)]
    Generate(cli::generate::GenerateCmd),
}

fn main() {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let empty = ArgMatches::default();
    let sub = matches.subcommand().map_or(&empty, |(_, m)| m);
    let result = match cli.command {
        Command::Demo(a) => cli::demo::run(a, sub),
        Command::Train(a) => cli::train::run(a, sub),
        Command::Compare(a) => cli::compare::run(a, sub),
        Command::Rerun(a) => cli::rerun::run(a, sub),
        Command::Certify(a) => cli::certify::run(a, sub),
        Command::Eval(a) => cli::eval::run(a, sub),
        Command::Predict(a) => cli::predict::run(a, sub),
        Command::Export(a) => cli::export::run(a, sub),
        Command::Glm(a) => cli::glm::run(a, sub),
        Command::Perceptron(a) => cli::perceptron::run(a, sub),
        Command::Generate(g) => cli::generate::run(g, sub),
    };
    std::process::exit(cli::exit_code(result));
}
