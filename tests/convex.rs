//! The convex reformulation of two-layer ReLU training (docs/convex.md): its optimum is a bound
//! no gradient method goes below, its network has the convex objective, its two solvers agree,
//! and its certificates are consistent with each other.

mod common;

use cvxnn::convex::{
    self, ConvexSettings, Formulation, Lifted, PatternChoice, Program, SolverKind,
};
use cvxnn::data::{planted_teacher, with_label_noise, Dataset};
use cvxnn::methods::{self, ConvexCertificate, GradTrace};
use cvxnn::net::{Activation, Architecture, Mlp};
use cvxnn::train::{Budget, Limits, Problem, Quiet, Start};

/// The case: a noisy 2-D teacher, N = 40, every pattern enumerated.
fn noisy_2d(n: usize, seed: u64) -> Dataset {
    let arch = Architecture::parse("2-4-1", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    with_label_noise(&t.data, 0.1, seed).unwrap()
}

fn y_row(data: &Dataset) -> Vec<f64> {
    data.y.as_slice().to_vec()
}

fn settings(form: Formulation, solver: SolverKind, patterns: PatternChoice) -> ConvexSettings {
    ConvexSettings {
        formulation: form,
        beta: 1e-2,
        patterns,
        solver,
        ..Default::default()
    }
}

fn budget() -> Budget {
    Budget::start(&Limits::none())
}

const ALL: PatternChoice = PatternChoice::All { max: 100_000 };

/// `--method convex` with `settings` through the training interface.
fn train_convex(
    data: &Dataset,
    arch: &Architecture,
    settings: &ConvexSettings,
) -> cvxnn::Result<methods::Run> {
    let trainer = methods::Convex::with_settings(settings.clone());
    let problem = Problem::new(data, arch)?;
    methods::run(
        &trainer,
        &problem,
        &Start::Zero,
        &mut Quiet,
        &Limits::none(),
    )
}

#[test]
fn the_network_of_the_relu_model_has_its_convex_objective() {
    let data = noisy_2d(40, 1);
    let y = y_row(&data);
    let s = settings(Formulation::Relu, SolverKind::Ipm, ALL);
    let fit = convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap();
    assert!(fit.complete && fit.feasible);
    assert_eq!(
        fit.n_patterns,
        40 * 40 - 40 + 2 - 1,
        "every pattern but all-off"
    );
    assert!(fit.bound.rel_gap.abs() <= 1e-6, "gap {}", fit.bound.rel_gap);
    // the convex objective of the solution, with the masks D_i X̃ (not the ReLU)
    let lifted = Lifted::new(&data.x);
    let pats = convex::patterns::enumerate(&lifted, 100_000).unwrap();
    let prog = Program::new(&lifted, &y, convex::Loss::Squared, &pats, true, s.beta);
    let mut grad = vec![0.0; prog.n_vars()];
    let e = prog.eval(&fit.u, None, &mut grad, None);
    let convex_objective = e.loss + prog.penalty(&fit.u);
    // the non-convex objective of the network read off it
    let arch = Architecture::parse("2-8-1", Activation::Linear).unwrap();
    let run = train_convex(&data, &arch, &s).unwrap();
    let net = run.mlp().unwrap();
    let nonconvex = net
        .weight_decay_objective(&data.x, &data.y, s.beta)
        .unwrap();
    assert!(
        (nonconvex - convex_objective).abs() <= 1e-8 * convex_objective,
        "network {nonconvex} vs convex {convex_objective}"
    );
    let Some(c) = run.certificate_as::<ConvexCertificate>() else {
        panic!("no convex certificate")
    };
    assert!(c.global() && c.certified, "{}", c.describe());
    assert!((c.objective - nonconvex).abs() <= 1e-12 * nonconvex);
    assert!(c.dual_bound <= nonconvex && c.max_violation <= 1e-9);
    // balanced units: ‖(w, b)‖ = |α| for each
    for u in 0..net.arch.widths[1] {
        let w: f64 = (0..2)
            .map(|c| net.weights[0].get(u, c).powi(2))
            .sum::<f64>()
            + net.biases[0][u].powi(2);
        assert!((w.sqrt() - net.weights[1].get(0, u).abs()).abs() <= 1e-9 * w.sqrt().max(1.0));
    }
}

/// L-BFGS and Adam on the same weight-decay objective, from 20 seeded starts and widths 2, 8
/// and 20, never end below the certified global bound; L-BFGS reports the objective the convex
/// model states.
#[test]
fn gradient_methods_never_go_below_the_global_bound() {
    let data = noisy_2d(40, 2);
    let y = y_row(&data);
    let beta = 1e-2;
    let s = settings(Formulation::Relu, SolverKind::Ipm, ALL);
    let fit = convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap();
    assert!(fit.complete && fit.bound.rel_gap.abs() <= 1e-6);
    let bound = fit.bound.dual;
    let mut best = f64::INFINITY;
    for width in [2, 8, 20] {
        let spec = format!("2-{width}-1");
        for (name, seed, run) in
            common::weight_decay_runs(&data, beta, &spec, &["lbfgs", "adam"], 20)
        {
            let net: &Mlp = run.mlp().unwrap();
            assert_eq!(net.biases[1][0], 0.0, "the output bias stays at zero");
            let objective = net.weight_decay_objective(&data.x, &data.y, beta).unwrap();
            assert!(
                objective >= bound * (1.0 - 1e-9),
                "{name} width {width} seed {seed}: {objective} below the bound {bound}"
            );
            if name == "lbfgs" {
                let Some(t) = run.stages[0].trace_as::<GradTrace>() else {
                    panic!("a gradient trace")
                };
                assert!((t.summary.loss - objective).abs() <= 1e-12 * objective);
            }
            best = best.min(objective);
        }
    }
    // and the bound is not vacuous: the best run comes within 5 % of it
    assert!(best <= 1.05 * bound, "best {best}, bound {bound}");
}

/// On sampled patterns of a well-conditioned problem (N ≫ patterns × d̃), the first-order
/// solver's gated optimum equals the interior point's to 1e-6; for the ReLU model the two
/// solvers' certificates are consistent (each one's primal is above the other's dual).
#[test]
fn the_two_solvers_agree() {
    let arch = Architecture::parse("3-4-1", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, 200, 3).unwrap();
    let data = with_label_noise(&t.data, 0.1, 3).unwrap();
    let y = y_row(&data);
    let sampled = PatternChoice::Sample { count: 20, seed: 1 };
    let ipm = |f| {
        convex::fit(
            &data.x,
            &y,
            &settings(f, SolverKind::Ipm, sampled.clone()),
            &budget(),
            &mut |_| None,
        )
        .unwrap()
    };
    let fo = |f| {
        let mut s = settings(f, SolverKind::FirstOrder, sampled.clone());
        s.max_iter = 5_000;
        convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap()
    };
    let (a, b) = (ipm(Formulation::Gated), fo(Formulation::Gated));
    assert!(a.bound.rel_gap.abs() <= 1e-6 && b.bound.rel_gap.abs() <= 1e-6);
    assert!(
        (a.bound.primal - b.bound.primal).abs() <= 1e-6 * a.bound.primal,
        "ipm {} first-order {}",
        a.bound.primal,
        b.bound.primal
    );
    let (a, b) = (ipm(Formulation::Relu), fo(Formulation::Relu));
    assert!(a.feasible && a.bound.rel_gap.abs() <= 1e-6);
    assert!(b.feasible, "the first-order point satisfies the cones");
    assert!(b.bound.primal >= a.bound.dual * (1.0 - 1e-9));
    assert!(b.bound.dual <= a.bound.primal * (1.0 + 1e-9));
    // and the same seed gives the same patterns, hence the same optimum
    let c = ipm(Formulation::Relu);
    assert_eq!(a.u, c.u);
}

/// The working-set solver (restricted programs in Gram form, cone rows added as they are
/// violated) reaches the interior point's optimum to 1e-6 relative on both models, certified, and
/// its ReLU point satisfies every cone constraint to 1e-9. N = 1 500 is above the Gram matrix's
/// chunk of samples, so the chunked sums are exercised too; N = 60 with 40 patterns has more
/// than twice as many columns as samples, where the ReLU model's restricted programs take the
/// loss as sample rows.
#[test]
fn the_working_set_solver_reaches_the_interior_points_optimum() {
    let arch = Architecture::parse("4-4-1", Activation::Linear).unwrap();
    for (n, count) in [(1500, 30), (60, 40)] {
        the_working_set_solver_agrees(&arch, n, count);
    }
}

fn the_working_set_solver_agrees(arch: &Architecture, n: usize, count: usize) {
    let t = planted_teacher(arch, n, 5).unwrap();
    let data = with_label_noise(&t.data, 0.1, 5).unwrap();
    let y = y_row(&data);
    let sampled = PatternChoice::Sample { count, seed: 2 };
    for f in [Formulation::Gated, Formulation::Relu] {
        let solve = |solver| {
            let mut s = settings(f, solver, sampled.clone());
            s.beta = 1e-3;
            convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap()
        };
        let (a, b) = (solve(SolverKind::Ipm), solve(SolverKind::ActiveSet));
        assert!(
            a.feasible && a.bound.rel_gap.abs() <= 1e-6,
            "{f:?} N = {n} ipm"
        );
        assert!(
            b.feasible && b.bound.rel_gap.abs() <= 1e-6,
            "{f:?} N = {n} working set"
        );
        assert!(
            b.violation <= 1e-9,
            "{f:?} N = {n}: violation {}",
            b.violation
        );
        assert!(
            (a.bound.primal - b.bound.primal).abs() <= 1e-6 * a.bound.primal,
            "{f:?} N = {n}: ipm {} working set {}",
            a.bound.primal,
            b.bound.primal
        );
        // each certificate bounds the other's point
        assert!(b.bound.primal >= a.bound.dual * (1.0 - 1e-12));
        assert!(a.bound.primal >= b.bound.dual * (1.0 - 1e-12));
    }
}

/// A warm-started path over β reaches each β's optimum: every point certified, each equal (to
/// 1e-6, and within the other's certificate) to the same β solved from zero, and the optima rise
/// with β (the objective rises with β at every point, so its minimum does too).
#[test]
fn a_warm_started_path_reaches_each_betas_optimum() {
    let arch = Architecture::parse("4-4-1", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, 300, 7).unwrap();
    let data = with_label_noise(&t.data, 0.1, 7).unwrap();
    let y = y_row(&data);
    let sampled = PatternChoice::Sample { count: 30, seed: 3 };
    let path = [1e-1, 1e-2];
    for (f, solver) in [
        (Formulation::Gated, SolverKind::ActiveSet),
        (Formulation::Relu, SolverKind::ActiveSet),
        (Formulation::Gated, SolverKind::FirstOrder),
    ] {
        let fit = |beta: f64, path: &[f64]| {
            let mut s = settings(f, solver, sampled.clone());
            s.beta = beta;
            s.path = path.to_vec();
            convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap()
        };
        let warm = fit(1e-3, &path);
        assert_eq!(warm.path.len(), 2, "{f:?} {solver:?}");
        let mut optima: Vec<(f64, f64, f64)> = warm
            .path
            .iter()
            .map(|p| {
                assert!(
                    p.rel_gap.abs() <= 1e-6,
                    "{f:?} {solver:?} β {}: {p:?}",
                    p.beta
                );
                (p.beta, p.objective, p.dual_bound)
            })
            .collect();
        assert!(warm.feasible && warm.bound.rel_gap.abs() <= 1e-6);
        optima.push((1e-3, warm.bound.primal, warm.bound.dual));
        for &(beta, primal, dual) in &optima {
            let cold = fit(beta, &[]);
            assert!(
                (primal - cold.bound.primal).abs() <= 1e-6 * cold.bound.primal,
                "{f:?} {solver:?} β {beta}: path {primal}, from zero {}",
                cold.bound.primal
            );
            assert!(primal >= cold.bound.dual * (1.0 - 1e-12));
            assert!(cold.bound.primal >= dual * (1.0 - 1e-12));
        }
        for w in optima.windows(2) {
            assert!(w[0].1 > w[1].1, "{f:?} {solver:?}: {optima:?}");
        }
    }
}

/// A sampled-pattern optimum is restricted: its certificate says so. `auto` solves the ReLU
/// model's sampled gates by working sets where there are at least 30 samples per dimension
/// (N = 120, d̃ = 3), by interior point below that (N = 40) and on enumerated patterns (of
/// this size).
#[test]
fn sampled_patterns_give_a_restricted_certificate() {
    let arch = Architecture::parse("2-8-1", Activation::Linear).unwrap();
    let sampled = PatternChoice::Sample { count: 30, seed: 2 };
    for (n, patterns, global, solver) in [
        (120, sampled.clone(), false, "active-set"),
        (40, sampled, false, "ipm"),
        (40, ALL, true, "ipm"),
    ] {
        let data = noisy_2d(n, 4);
        let s = settings(Formulation::Relu, SolverKind::Auto, patterns);
        let run = train_convex(&data, &arch, &s).unwrap();
        let Some(c) = run.certificate_as::<ConvexCertificate>() else {
            panic!("no certificate")
        };
        assert_eq!(c.global(), global, "{}", c.describe());
        assert!(c.certified, "{}", c.describe());
        assert_eq!(c.solver, solver);
    }
}

/// One scalar model per output (one-vs-rest), assembled into one d-m-n_y network whose objective
/// is the sum of the outputs' objectives.
#[test]
fn several_outputs_are_one_model_each() {
    let arch = Architecture::parse("2-3-2", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, 25, 5).unwrap();
    let s = settings(Formulation::Relu, SolverKind::Ipm, ALL);
    let run = train_convex(&t.data, &arch, &s).unwrap();
    let net = run.mlp().unwrap();
    assert_eq!(net.arch.n_outputs(), 2);
    let Some(c) = run.certificate_as::<ConvexCertificate>() else {
        panic!("no certificate")
    };
    assert_eq!(c.outputs, 2);
    let mut total = 0.0;
    for k in 0..2 {
        let yk: Vec<f64> = (0..25).map(|j| t.data.y.get(k, j)).collect();
        let f = convex::fit(&t.data.x, &yk, &s, &budget(), &mut |_| None).unwrap();
        total += f.bound.dual;
    }
    assert!((c.dual_bound - total).abs() <= 1e-9 * total);
    let whole = net
        .weight_decay_objective(&t.data.x, &t.data.y, s.beta)
        .unwrap();
    assert!(whole >= total * (1.0 - 1e-9) && whole <= total * (1.0 + 1e-6));
}

#[test]
fn bad_settings_are_refused() {
    let data = noisy_2d(10, 1);
    let y = y_row(&data);
    let mut s = settings(Formulation::Relu, SolverKind::Ipm, ALL);
    s.beta = 0.0;
    let e = convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap_err();
    assert!(e.to_string().contains("`convex.weight_decay`"), "{e}");
    let s = settings(
        Formulation::Relu,
        SolverKind::Ipm,
        PatternChoice::All { max: 10 },
    );
    let e = convex::fit(&data.x, &y, &s, &budget(), &mut |_| None).unwrap_err();
    assert!(e.to_string().contains("up to 92 patterns"), "{e}");
    let mut bad = y.clone();
    bad[3] = f64::NAN;
    let s = settings(Formulation::Relu, SolverKind::Ipm, ALL);
    assert!(convex::fit(&data.x, &bad, &s, &budget(), &mut |_| None).is_err());
    // a deeper network is not this method's
    let arch = Architecture::parse("2-3-3-1", Activation::Linear).unwrap();
    let e = train_convex(&data, &arch, &s).unwrap_err();
    assert!(e.to_string().contains("two-layer"), "{e}");
}

/// Labels 0/1 of a noisy 2-D teacher: its output against the median, every 7th label flipped.
fn labels_2d(n: usize, seed: u64) -> Dataset {
    let t = noisy_2d(n, seed);
    let mut sorted = t.y.as_slice().to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[n / 2];
    let y = cvxnn::linalg::Matrix::from_fn(1, n, |_, i| {
        let above = t.y.get(0, i) > median;
        f64::from(u8::from(above != (i % 7 == 3)))
    });
    Dataset::new(t.x.clone(), y, "labels of a noisy 2-D teacher").unwrap()
}

/// The KKT conditions of the gated model with the logistic and the hinge loss, checked by
/// arithmetic written here, not by the solvers' certificates. With `p` the gated prediction and
/// `s_i = ℓ'(p_i, y_i)/N`, every group's gradient `∇_j = X̃ᵀ D_j s` must equal `−β u_j/‖u_j‖` on
/// the support and have norm at most β off it. The hinge has no derivative on the margin
/// (`y_i p_i = 1`): there `ℓ'` is `−y_i a_i` for some `a_i ∈ [0, 1]`, found here by least
/// squares on the support's equations and checked to lie in [0, 1]. Both conic solvers, on
/// sampled gates.
#[test]
fn classification_losses_satisfy_the_kkt_conditions() {
    // a certified gap ε bounds the KKT residuals by about √ε (the objective is flat to first
    // order at the optimum): 1e-4 for the solvers' gaps of 1e-9–1e-8
    const KKT_TOL: f64 = 1e-4;
    use faer::linalg::solvers::SolveLstsq;
    let n = 120;
    let data = labels_2d(n, 6);
    let labels: Vec<f64> = data.y.as_slice().iter().map(|&v| 2.0 * v - 1.0).collect();
    let lifted = Lifted::new(&data.x);
    let pats = convex::patterns::sample(&lifted, 16, 4).unwrap();
    let dim = lifted.dim();
    let beta = 1e-2;
    let nf = n as f64;
    for loss in [convex::Loss::Logistic, convex::Loss::Hinge] {
        for solver in [SolverKind::Ipm, SolverKind::ActiveSet] {
            let mut s = settings(
                Formulation::Gated,
                solver,
                PatternChoice::Sample { count: 16, seed: 4 },
            );
            s.loss = loss;
            s.beta = beta;
            let fit =
                convex::fit(&data.x, data.y.as_slice(), &s, &budget(), &mut |_| None).unwrap();
            let what = format!("{loss:?} {solver:?}");
            assert!(
                fit.bound.rel_gap.abs() <= 1e-6,
                "{what}: gap {}",
                fit.bound.rel_gap
            );
            assert_eq!(fit.u.len(), dim * pats.len());
            let group = |j: usize| &fit.u[j * dim..(j + 1) * dim];
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let p: Vec<f64> = (0..n)
                .map(|i| {
                    (0..pats.len())
                        .filter(|&j| pats.masks[j].on(i))
                        .map(|j| dot(lifted.row(i), group(j)))
                        .sum()
                })
                .collect();
            // s_i = −y_i a_i / N with a_i the loss's derivative weight, free on the margin
            let mut a = vec![0.0; n];
            let mut margin = Vec::new();
            for i in 0..n {
                let m = labels[i] * p[i];
                a[i] = match loss {
                    convex::Loss::Logistic => 1.0 / (1.0 + m.exp()),
                    _ if (m - 1.0).abs() <= 1e-6 => {
                        margin.push(i);
                        0.0
                    }
                    _ => f64::from(u8::from(m < 1.0)),
                };
            }
            let norm = |v: &[f64]| dot(v, v).sqrt();
            let support: Vec<usize> = (0..pats.len()).filter(|&j| norm(group(j)) > 0.0).collect();
            assert!(!support.is_empty(), "{what}: an empty model");
            // ∇_j = Σ_i 1[i ∈ D_j] (−y_i a_i / N) x̃_i
            let gradient = |j: usize, a: &[f64]| {
                let mut g = vec![0.0; dim];
                for i in (0..n).filter(|&i| pats.masks[j].on(i)) {
                    for (gc, xc) in g.iter_mut().zip(lifted.row(i)) {
                        *gc -= labels[i] * a[i] / nf * xc;
                    }
                }
                g
            };
            if !margin.is_empty() {
                // the margin's a_i: least squares on ∇_j = −β u_j/‖u_j‖ over the support
                let rows = support.len() * dim;
                assert!(
                    rows >= margin.len(),
                    "{what}: {} margin samples",
                    margin.len()
                );
                let fixed: Vec<Vec<f64>> = support.iter().map(|&j| gradient(j, &a)).collect();
                let b = faer::Mat::from_fn(rows, 1, |r, _| {
                    let (w, c) = (r / dim, r % dim);
                    let uj = group(support[w]);
                    -beta * uj[c] / norm(uj) - fixed[w][c]
                });
                let m = faer::Mat::from_fn(rows, margin.len(), |r, k| {
                    let (j, c, i) = (support[r / dim], r % dim, margin[k]);
                    if pats.masks[j].on(i) {
                        -labels[i] / nf * lifted.row(i)[c]
                    } else {
                        0.0
                    }
                });
                let sol = m.qr().solve_lstsq(&b);
                for (k, &i) in margin.iter().enumerate() {
                    a[i] = sol[(k, 0)];
                    assert!(
                        (-1e-6..=1.0 + 1e-6).contains(&a[i]),
                        "{what}: margin weight {} outside [0, 1]",
                        a[i]
                    );
                }
            }
            // dual feasibility ‖∇_j‖ ≤ β on every group, and complementarity: each term of
            // Σ_j (β‖u_j‖ + ∇_jᵀu_j) is ≥ 0 under dual feasibility, and all vanish exactly when
            // ∇_j = −β u_j/‖u_j‖ on the support (a form that tiny groups, whose directions an
            // interior point leaves loose, cannot upset)
            let (mut slack, mut scale, mut worst) = (0.0, 0.0, f64::NEG_INFINITY);
            for j in 0..pats.len() {
                let g = gradient(j, &a);
                let uj = group(j);
                worst = worst.max(norm(&g) / beta - 1.0);
                slack += beta * norm(uj) + dot(&g, uj);
                scale += beta * norm(uj);
            }
            assert!(
                worst <= KKT_TOL,
                "{what}: a group has ‖∇‖ = β(1 + {worst:e})"
            );
            assert!(
                slack.abs() <= KKT_TOL * scale,
                "{what}: complementarity {slack:e} of {scale:e}"
            );
        }
    }
}

/// The ReLU model with a classification loss: on sampled gates the interior point and the
/// working sets reach the same certified optimum; with every pattern enumerated the interior
/// point certifies a global optimum, below the sampled one; and each network read off has the
/// certified objective under the same loss (`(1/N) Σ ℓ(f(x_i), y_i)` plus weight decay),
/// computed here from its outputs.
#[test]
fn classification_losses_on_the_relu_model() {
    let n = 30;
    let data = labels_2d(n, 8);
    let arch = Architecture::parse("2-8-1", Activation::Linear).unwrap();
    for loss in [convex::Loss::Logistic, convex::Loss::Hinge] {
        let mut objectives = Vec::new();
        for (solver, patterns) in [
            (SolverKind::Ipm, ALL),
            (
                SolverKind::Ipm,
                PatternChoice::Sample { count: 20, seed: 3 },
            ),
            (
                SolverKind::ActiveSet,
                PatternChoice::Sample { count: 20, seed: 3 },
            ),
        ] {
            let global = matches!(patterns, PatternChoice::All { .. });
            let mut s = settings(Formulation::Relu, solver, patterns);
            s.loss = loss;
            let run = train_convex(&data, &arch, &s).unwrap();
            let Some(c) = run.certificate_as::<ConvexCertificate>() else {
                panic!("no certificate")
            };
            let what = format!("{loss:?} {solver:?} global {global}");
            assert!(c.certified, "{what}: {}", c.describe());
            assert_eq!(c.global(), global, "{what}");
            assert!(c.max_violation <= 1e-9, "{what}: {}", c.max_violation);
            // the network's objective, computed here from its outputs
            let net = run.mlp().unwrap();
            let f = net.forward(&data.x).unwrap();
            let mut objective = 0.5 * s.beta * net.decayed_squares();
            for i in 0..n {
                let (p, y) = (f.get(0, i), 2.0 * data.y.get(0, i) - 1.0);
                objective += match loss {
                    convex::Loss::Logistic => (-y * p).exp().ln_1p(),
                    _ => (1.0 - y * p).max(0.0),
                } / n as f64;
            }
            assert!(
                (objective - c.objective).abs() <= 1e-9 * objective,
                "{what}: network {objective} vs certificate {}",
                c.objective
            );
            assert!(c.dual_bound <= objective * (1.0 + 1e-12));
            objectives.push(objective);
        }
        // same program, same optimum
        assert!(
            (objectives[1] - objectives[2]).abs() <= 1e-6 * objectives[1],
            "{loss:?}: {objectives:?}"
        );
        // the enumerated optimum is below the sampled one (a bound on every network)
        assert!(
            objectives[0] <= objectives[1] * (1.0 + 1e-6),
            "{loss:?}: {objectives:?}"
        );
    }
}

/// The ReLU model's working sets grow past the Gram matrix's column cap once their restricted
/// programs take the loss as sample rows: a noisy 60-D teacher with N = 40 and 150 sampled gates
/// (9 150 columns against a cap of 98 patterns) certifies, where the cap stopped the sets with
/// violated groups outside them and the run ended "stalled" (gap 2.5e-2 on this instance).
#[test]
fn the_working_sets_grow_past_the_gram_cap_in_sample_rows() {
    let arch = Architecture::parse("60-4-1", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, 40, 9).unwrap();
    let data = with_label_noise(&t.data, 0.1, 9).unwrap();
    let s = ConvexSettings {
        beta: 1e-3,
        ..settings(
            Formulation::Relu,
            SolverKind::ActiveSet,
            PatternChoice::Sample {
                count: 150,
                seed: 9,
            },
        )
    };
    let run = train_convex(&data, &arch, &s).unwrap();
    let Some(c) = run.certificate_as::<ConvexCertificate>() else {
        panic!("no certificate")
    };
    assert!(c.certified, "{}", c.describe());
}
