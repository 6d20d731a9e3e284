//! The tables the training commands print: one per kind of stage (SCR, gradient, MILP), one row
//! per run, and each run's warnings.

use cvxnn::methods::{ConvexCertificate, ConvexTrace, GradTrace, MilpTrace, Run, ScrTrace};
use cvxnn::milp::MilpCertificate;

/// Every run's stages as tables on stdout, then their warnings on stderr.
pub fn print_runs(runs: &[&Run]) {
    // (run, stage method, trace) of every stage, in order
    let stages = || {
        runs.iter()
            .flat_map(|r| r.stages.iter().map(move |s| (*r, s.method.as_str(), s)))
    };
    let scr: Vec<(&Run, &ScrTrace)> = stages()
        .filter_map(|(r, _, s)| Some((r, s.trace_as::<ScrTrace>()?)))
        .collect();
    if !scr.is_empty() {
        println!(
            "{:<10} {:>5} {:>16} {:>12} {:>12} {:>12} {:>10} {:>9}",
            "init", "iters", "stop", "product", "complement", "output err", "mse", "s/iter"
        );
        for (run, t) in scr {
            let s = &t.summary;
            println!(
                "{:<10} {:>5} {:>16} {:>12.3e} {:>12.3e} {:>12.3e} {:>10.3e} {:>9.3}",
                run.init,
                s.iterations,
                s.stop_reason.name(),
                s.product_violation,
                s.complementarity_violation,
                s.output_error,
                s.mse,
                s.seconds / s.iterations.max(1) as f64
            );
        }
    }
    let grad: Vec<(&Run, &str, &GradTrace)> = stages()
        .filter_map(|(r, m, s)| Some((r, m, s.trace_as::<GradTrace>()?)))
        .collect();
    if !grad.is_empty() {
        println!(
            "{:<10} {:<7} {:>7} {:>7} {:>20} {:>12} {:>12} {:>10} {:>9}",
            "init",
            "method",
            "iters",
            "evals",
            "stop",
            if grad.iter().any(|(_, _, t)| t.summary.weight_decay > 0.0) {
                "objective"
            } else {
                "loss (mse)"
            },
            "output err",
            "|grad|",
            "seconds"
        );
        for (run, method, t) in grad {
            let s = &t.summary;
            println!(
                "{:<10} {:<7} {:>7} {:>7} {:>20} {:>12.3e} {:>12.3e} {:>10.2e} {:>9.3}",
                run.init,
                method,
                s.iterations,
                s.evaluations,
                s.stop_reason.name(),
                s.loss,
                s.output_error,
                s.grad_norm,
                s.seconds
            );
        }
    }
    for (_, _, s) in stages() {
        if let Some(t) = s.trace_as::<ConvexTrace>() {
            print_path(&t.path);
        }
    }
    // a method without a table of its own (one registered from outside): its stages' figures
    let known = |s: &cvxnn::methods::Stage| {
        s.trace_as::<ScrTrace>().is_some()
            || s.trace_as::<GradTrace>().is_some()
            || s.trace_as::<ConvexTrace>().is_some()
            || s.trace_as::<MilpTrace>().is_some()
    };
    let other: Vec<_> = stages().filter(|(_, _, s)| !known(s)).collect();
    if !other.is_empty() {
        println!(
            "{:<10} {:<10} {:>7} {:>20}",
            "init", "method", "iters", "stop"
        );
        for (run, method, s) in other {
            println!(
                "{:<10} {:<10} {:>7} {:>20}",
                run.init,
                method,
                s.iterations(),
                s.stop().name()
            );
        }
    }
    for run in runs {
        if let Some(c) = run.certificate_as::<MilpCertificate>() {
            print_milp(c);
        } else if let Some(c) = run.certificate_as::<ConvexCertificate>() {
            print_convex(c);
        } else if let Some(c) = &run.certificate {
            println!("{}: {}", c.kind(), c.describe());
        }
    }
    for run in runs {
        for w in &run.warnings {
            let w = cvxnn::error::respell(w, super::args::spell);
            eprintln!("warning ({} {}): {w}", run.method, run.init);
        }
    }
}

/// The optima of a warm-started path over β (before the run's own β).
fn print_path(path: &[cvxnn::methods::PathRow]) {
    if path.is_empty() {
        return;
    }
    println!(
        "{:<6} {:>9} {:>15} {:>15} {:>9} {:>6} {:>6} {:>16} {:>9}",
        "output", "β", "objective", "dual bound", "rel gap", "groups", "iters", "stop", "seconds"
    );
    for r in path {
        let p = &r.point;
        println!(
            "{:<6} {:>9.2e} {:>15.9e} {:>15.9e} {:>9.1e} {:>6} {:>6} {:>16} {:>9.2}",
            r.output,
            p.beta,
            p.objective,
            p.dual_bound,
            p.rel_gap,
            p.groups,
            p.iterations,
            p.stop.name(),
            p.seconds
        );
    }
}

/// The convex model: what its optimum is, the network's objective, the bound and the gap.
fn print_convex(c: &ConvexCertificate) {
    println!(
        "{:<58} {:>13} {:>13} {:>9} {:>6} {:>9}",
        "convex model", "objective", "dual bound", "rel gap", "units", "patterns"
    );
    println!(
        "{:<58} {:>13.9e} {:>13.9e} {:>9.1e} {:>6} {:>9}",
        c.describe(),
        c.objective,
        c.dual_bound,
        c.rel_gap,
        c.units,
        c.patterns
    );
    if let Some(a) = c.sign_accuracy {
        println!(
            "training accuracy {:.2} % (score's sign against the label, 0 read as −1)",
            100.0 * a
        );
    }
    if let Some(g) = c.gated_objective {
        println!(
            "the gated model's objective is {g:.9e}; its ReLU network (a cone decomposition of \
             each unit) has {:.9e}",
            c.objective
        );
    }
    let loss = match c.loss {
        cvxnn::convex::Loss::Squared => "‖f(X) − Y‖²/(2N)",
        cvxnn::convex::Loss::Logistic => "(1/N) Σ log(1 + exp(−y f(x)))",
        cvxnn::convex::Loss::Hinge => "(1/N) Σ max(0, 1 − y f(x))",
    };
    println!(
        "objective = {loss} + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²), β = {:e}; solver {}{}",
        c.beta,
        c.solver,
        if c.formulation == cvxnn::convex::Formulation::Relu {
            format!(", largest cone violation {:.1e}", c.max_violation)
        } else {
            String::new()
        }
    );
    if let Some(b) = c.shared_bound {
        println!(
            "per-output bound: with {} outputs each has its own units, so the dual bound covers \
             only networks whose hidden units each feed one output; every two-layer network \
             (shared units) is above {b:.6e}",
            c.outputs
        );
    } else if !c.global() {
        println!(
            "not a global bound: {}",
            if c.formulation == cvxnn::convex::Formulation::Relu {
                "the patterns were sampled, and networks using other patterns can do better"
            } else {
                "the gated model is a different model from ReLU networks"
            }
        );
    }
}

fn num(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::INFINITY)
}

/// Exact training: status, loss, bound, gap and the search's size.
fn print_milp(c: &MilpCertificate) {
    match c.formulation.as_str() {
        "threshold" => {
            println!(
                "{:<27} {:>8} {:>12} {:>9} {:>9} {:>9}",
                "status", "errors", "lower bound", "nodes", "binaries", "seconds"
            );
            let errors = c.incumbent.map_or("-".to_string(), |e| format!("{e}"));
            println!(
                "{:<27} {:>8} {:>12} {:>9} {:>9} {:>9.2}",
                c.describe(),
                errors,
                num(c.lower_bound),
                c.nodes,
                c.binaries,
                c.seconds
            );
        }
        _ => {
            // the ReLU class also shows its big-Ms and the LP tightening's time
            let mut header = format!(
                "{:<27} {:>13} {:>13} {:>10} {:>9} {:>9}",
                "status",
                format!("{} loss", c.loss),
                "lower bound",
                "gap",
                "nodes",
                "binaries"
            );
            let mut line = format!(
                "{:<27} {:>13.6e} {:>13.6e} {:>10.2e} {:>9} {:>9}",
                c.describe(),
                num(c.incumbent),
                num(c.lower_bound),
                num(c.abs_gap),
                c.nodes,
                c.binaries
            );
            if c.formulation == "relu" {
                let (mean_m, fixed) = (
                    c.mean_big_m.unwrap_or(f64::NAN),
                    c.fixed_phases.unwrap_or(0),
                );
                let lp = c.tighten_seconds.unwrap_or(0.0);
                header += &format!(
                    " {:>9} {:>7} {:>8} {:>9}",
                    "mean M", "fixed", "LP (s)", "MILP (s)"
                );
                line += &format!(" {mean_m:>9.3} {fixed:>7} {lp:>8.2} {:>9.2}", c.seconds);
            } else {
                header += &format!(" {:>9}", "seconds");
                line += &format!(" {:>9.2}", c.seconds);
            }
            println!("{header}");
            println!("{line}");
        }
    }
    if let Some(l) = c.start_loss {
        eprintln!("start: the first incumbent had {} loss {l:.6e}", c.loss);
    }
}
