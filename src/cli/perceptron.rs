//! `cvxnn perceptron`: a layer of threshold units by linear programming (seed 001) — a run
//! request of the `perceptron` method, one node per class against the rest (docs/requests.md),
//! printed as each node's separator or Farkas certificate and its robust unit.

use super::args::FitOutputArgs;
use super::progress::Progress;
use super::{interrupt, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::methods::{PerceptronCertificate, PerceptronNode};
use cvxnn::perceptron::Separation;
use cvxnn::request::RunRequest;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct PerceptronArgs {
    /// Data file (CSV or .npy) or a bundled set: iris, wine, breast_cancer, diabetes.
    #[arg(long)]
    data: PathBuf,
    /// Target column by header name (default: the last column).
    #[arg(long)]
    target: Option<String>,
    /// One node: this target value (+1) against every other (−1). Default: with two target
    /// values one node (the larger positive); with more, one node per value (one against the
    /// rest), a layer of as many threshold units.
    #[arg(long, allow_hyphen_values = true)]
    positive_class: Option<f64>,
    /// Keep only the samples whose target is one of these values, e.g. 1,2.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    classes: Option<Vec<f64>>,
    #[command(flatten)]
    out: FitOutputArgs,
}

/// `perceptron`'s own flags for the keys whose `train` flags differ.
fn spell(key: &str) -> Option<String> {
    match key {
        "data.keep_classes" => Some("--classes".into()),
        "data.classes" => Some("the target".into()),
        "data.targets" => Some("--target".into()),
        _ => super::args::spell(key),
    }
}

fn request(a: &PerceptronArgs) -> Result<RunRequest> {
    let mut data = json!({ "file": a.data.display().to_string(), "classes": true });
    if let Some(t) = &a.target {
        data["targets"] = json!([t]);
    }
    if let Some(p) = a.positive_class {
        data["positive_class"] = p.into();
    }
    if let Some(keep) = &a.classes {
        data["keep_classes"] = json!(keep);
    }
    let mut r = json!({ "method": "perceptron", "data": data });
    if let Some(t) = a.out.time_limit {
        r["time_limit"] = t.into();
    }
    Ok(RunRequest::from_value(r)?)
}

pub fn run(a: PerceptronArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let respelled = |e: cvxnn::Error| anyhow::anyhow!(cvxnn::error::respell(&e.to_string(), spell));
    let prepared = request(&a)?.prepare(None).map_err(respelled)?;
    let interrupt = interrupt::on_ctrl_c();
    let mut progress = Progress::new("");
    let trained = prepared.run(&mut progress, Some(interrupt.clone()));
    progress.finish();
    let trained = trained.map_err(respelled)?;
    let Some(cert) = trained
        .run
        .certificate_as::<PerceptronCertificate>()
        .cloned()
    else {
        bail!(
            "the perceptron stopped ({}) before every node was solved",
            trained.run.outcome.stop_reason
        );
    };
    if cert.nodes.len() != prepared.data.n_outputs() {
        bail!(
            "the perceptron stopped ({}) before every node was solved",
            trained.run.outcome.stop_reason
        );
    }
    a.out.save_model(&trained)?;
    let classes = prepared.classes.clone().unwrap_or_default();
    let n = prepared.data.n_samples();
    let layer = trained.metrics.train.get("accuracy").unwrap_or(f64::NAN);
    if a.out.json {
        let node_json = |(node, class): (&PerceptronNode, &f64)| {
            let r = &node.robust_lp;
            json!({
                "positive_class": class,
                "n_positive": node.n_positive,
                "separation": node.separation,
                "robust_lp": {"w": r.w, "b": r.b, "objective": r.objective, "accuracy": r.accuracy},
            })
        };
        let mut v = json!({ "data": a.data.display().to_string(), "n": n });
        if let [only] = &cert.nodes[..] {
            // one node: its fields at the top level
            if let serde_json::Value::Object(m) = node_json((only, &classes[0])) {
                m.into_iter().for_each(|(k, val)| v[k] = val);
            }
        } else {
            v["nodes"] = cert.nodes.iter().zip(&classes).map(node_json).collect();
            v["layer_accuracy"] = layer.into();
        }
        println!("{v}");
    } else {
        print(&a, &cert, &classes, n, prepared.data.n_inputs(), layer);
    }
    a.out.save_report(&prepared, trained)?;
    Ok(if interrupt.is_triggered() {
        Outcome::Interrupted
    } else {
        Outcome::Done
    })
}

fn print(
    a: &PerceptronArgs,
    cert: &PerceptronCertificate,
    classes: &[f64],
    n: usize,
    d: usize,
    layer: f64,
) {
    let k = cert.nodes.len();
    println!(
        "{}: {n} samples, {d} inputs, {}",
        a.data.display(),
        if k == 1 {
            "one output node".to_string()
        } else {
            format!("{k} output nodes (one per class against the rest)")
        }
    );
    for (node, class) in cert.nodes.iter().zip(classes) {
        println!(
            "node: target {class} (+1, {} samples) against the {} others (−1)",
            node.n_positive,
            n - node.n_positive
        );
        match &node.separation {
            Separation::Separable { w, .. } => {
                println!("  linearly separable: y_i (wᵀx_i + b) ≥ 1 for every sample");
                let (_, b) = node.plane();
                println!(
                    "  w = {:?}, b = {b:.6e}, training accuracy {:.4}",
                    w.iter().map(|v| format!("{v:.4e}")).collect::<Vec<_>>(),
                    1.0
                );
            }
            Separation::NotSeparable { lambda, residual } => {
                let support = lambda.iter().filter(|&&l| l > 1e-9).count();
                println!(
                    "  NOT linearly separable: Farkas certificate λ ≥ 0, Σλ = 1, on {support} \
                     samples, with |Σ λ_i y_i [x_i; 1]|_∞ = {residual:.2e}"
                );
                println!(
                    "  (a separator would give 0 ≈ Σ λ_i y_i (wᵀx_i + b) ≥ 1; --json prints λ)"
                );
            }
        }
        println!(
            "  robust LP (Bennett & Mangasarian 1992): mean violation per class {:.6e}, training \
             accuracy {:.4}",
            node.robust_lp.objective, node.robust_lp.accuracy
        );
    }
    if k > 1 {
        println!(
            "layer: every node right (separator, or robust-LP plane where there is none) on \
             {layer:.4} of the samples"
        );
    }
}
