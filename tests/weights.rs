//! Sample weights: a weighted fit is the fit on rows repeated as often as their integer weight
//! (the linear models by interior point, to the solver's accuracy; the gradient methods step
//! for step), and the methods without a weighted loss refuse weighted data by name.

use cvxnn::data::{planted_teacher, Dataset};
use cvxnn::glm::softmax::{self, Softmax};
use cvxnn::glm::{self, svm, Fitting, LeastSquares, Logistic};
use cvxnn::gradient::{self, DataLoss, GradSettings, Optimizer};
use cvxnn::linalg::Matrix;
use cvxnn::methods::{self, Context, Settings};
use cvxnn::net::{Activation, Architecture, Mlp};
use cvxnn::train::{quiet, Limits, Problem, Quiet, Start};
use rand::{Rng, SeedableRng};

/// A noisy teacher's data, integer weights 0 … 3, and the same data with each row repeated
/// its weight's number of times.
fn weighted_and_repeated(spec: &str, n: usize, seed: u64) -> (Dataset, Vec<f64>, Dataset) {
    let arch = Architecture::parse(spec, Activation::Linear).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 7);
    let w: Vec<f64> = (0..n)
        .map(|_| f64::from(rng.random_range(0..4u8)))
        .collect();
    let rows: Vec<usize> = (0..n)
        .flat_map(|j| std::iter::repeat_n(j, w[j] as usize))
        .collect();
    let repeated = t.data.samples(&rows, "repeated".into()).unwrap();
    (t.data.clone(), w, repeated)
}

/// ±1 labels: above or below `at`.
fn signs(y: &[f64], at: f64) -> Vec<f64> {
    y.iter().map(|&v| if v > at { 1.0 } else { -1.0 }).collect()
}

/// Method `name` with settings `s` trained on `data` from `start`.
fn train(
    name: &str,
    s: &Settings,
    data: &Dataset,
    arch: &Architecture,
    start: &Start,
) -> cvxnn::error::Result<methods::Run> {
    let trainer = methods::method(name)?.trainer(s, &Context::new(1, data))?;
    let problem = Problem::new(data, arch)?;
    methods::run(
        trainer.as_ref(),
        &problem,
        start,
        &mut Quiet,
        &Limits::none(),
    )
}

/// The convex run's certificate.
fn convex_certificate(run: &methods::Run) -> methods::ConvexCertificate {
    run.certificate_as::<methods::ConvexCertificate>()
        .expect("a convex certificate")
        .clone()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

#[test]
fn weighted_linear_models_are_repeated_rows() {
    let (d, w, r) = weighted_and_repeated("6-4-1", 120, 1);
    let un = &mut glm::unwatched;
    for model in [
        LeastSquares::Ridge { alpha: 0.5 },
        LeastSquares::Lasso { alpha: 0.05 },
        LeastSquares::ElasticNet {
            alpha: 0.05,
            l1_ratio: 0.3,
        },
    ] {
        // more samples than features: the Gram form
        let a =
            glm::fit_least_squares(&d.x, &d.y.row(0), Fitting::weighted(&w), model, un).unwrap();
        let b = glm::fit_least_squares(&r.x, &r.y.row(0), Fitting::default(), model, un).unwrap();
        let rel = (a.objective - b.objective).abs() / b.objective;
        assert!(
            rel <= 1e-10,
            "{model:?}: {} vs {}",
            a.objective,
            b.objective
        );
        // no more samples than features: the residual form (samples 0 … 3 weighted 1, 2, 1, 3)
        let x = Matrix::from_fn(6, 4, |i, j| d.x.get(i, j));
        let y = d.y.row(0)[..4].to_vec();
        let rows = [0, 1, 1, 2, 3, 3, 3];
        let xr = Matrix::from_fn(6, rows.len(), |i, k| x.get(i, rows[k]));
        let yr: Vec<f64> = rows.iter().map(|&j| y[j]).collect();
        let a = glm::fit_least_squares(&x, &y, Fitting::weighted(&[1.0, 2.0, 1.0, 3.0]), model, un)
            .unwrap();
        let b = glm::fit_least_squares(&xr, &yr, Fitting::default(), model, un).unwrap();
        let rel = (a.objective - b.objective).abs() / b.objective;
        assert!(
            rel <= 1e-9,
            "{model:?}, residual form: {} vs {}",
            a.objective,
            b.objective
        );
    }
    let at = median(&d.y.row(0));
    let (y, yr) = (signs(&d.y.row(0), at), signs(&r.y.row(0), at));
    let a = glm::fit_logistic(
        &d.x,
        &y,
        Fitting::weighted(&w),
        Logistic { c: 2.0, l1: false },
        un,
    )
    .unwrap();
    let b = glm::fit_logistic(
        &r.x,
        &yr,
        Fitting::default(),
        Logistic { c: 2.0, l1: false },
        un,
    )
    .unwrap();
    assert!(
        (a.objective - b.objective).abs() <= 1e-10 * b.objective,
        "logistic: {} vs {} ({}, {})",
        a.objective,
        b.objective,
        a.status,
        b.status
    );
    let a = svm::fit(
        &d.x,
        &y,
        Fitting::weighted(&w),
        svm::LinearSvm { c: 2.0 },
        un,
    )
    .unwrap();
    let b = svm::fit(&r.x, &yr, Fitting::default(), svm::LinearSvm { c: 2.0 }, un).unwrap();
    assert!((a.objective - b.objective).abs() <= 1e-9 * b.objective);
    // three classes by the teacher's output
    let mut sorted = d.y.row(0);
    sorted.sort_by(f64::total_cmp);
    let (low, high) = (sorted[40], sorted[80]);
    let class = |v: f64| usize::from(v > low) + usize::from(v > high);
    let (c, cr): (Vec<usize>, Vec<usize>) = (
        d.y.row(0).into_iter().map(class).collect(),
        r.y.row(0).into_iter().map(class).collect(),
    );
    let m = Softmax { c: 1.0, l1: false };
    let a = softmax::fit(&d.x, (&c, Fitting::weighted(&w)), 3, m, un).unwrap();
    let b = softmax::fit(&r.x, (&cr, Fitting::default()), 3, m, un).unwrap();
    assert!((a.objective - b.objective).abs() <= 1e-10 * b.objective);
}

#[test]
fn weighted_gradient_steps_are_repeated_rows() {
    let (d, w, r) = weighted_and_repeated("4-5-2", 60, 2);
    let arch = Architecture::parse("4-6-2", Activation::Linear).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let start = Mlp::random_gaussian(&arch, 0.5, &mut rng);
    for (loss, beta) in [(DataLoss::Squared, 1e-3), (DataLoss::Squared, 0.0)] {
        let settings = GradSettings {
            max_iter: 300,
            weight_decay: beta,
            loss,
            ..GradSettings::new(Optimizer::Adam {
                lr: 0.01,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                batch: None,
            })
        };
        let a = gradient::train_weighted(
            &d.x,
            &d.y,
            Some(&w),
            &start,
            &settings,
            &mut quiet(&mut Quiet),
        )
        .unwrap();
        let b = gradient::train(&r.x, &r.y, &start, &settings, &mut quiet(&mut Quiet)).unwrap();
        let (fa, fb) = (a.summary.loss, b.summary.loss);
        assert!(
            (fa - fb).abs() <= 1e-12 * fb,
            "{loss:?} β {beta}: {fa} vs {fb}"
        );
        // and the weights matter: the unweighted run ends elsewhere
        let c = gradient::train(&d.x, &d.y, &start, &settings, &mut quiet(&mut Quiet)).unwrap();
        assert!((c.summary.loss - fb).abs() > 1e-6 * fb);
    }
}

#[test]
fn methods_without_a_weighted_loss_refuse_weights() {
    let (d, w, _) = weighted_and_repeated("3-3-1", 30, 4);
    let data = d.with_weights(w).unwrap();
    let arch = Architecture::parse("3-3-1", Activation::Linear).unwrap();
    for name in ["scr", "lm", "perceptron"] {
        let e = train(name, &Settings::new(), &data, &arch, &Start::Zero)
            .err()
            .unwrap_or_else(|| panic!("{name} took weights"))
            .to_string();
        assert!(e.contains("data.weights") && e.contains(name), "{e}");
    }
    // bad weights
    let (d, _, _) = weighted_and_repeated("3-3-1", 30, 4);
    assert!(d.clone().with_weights(vec![1.0; 29]).is_err());
    assert!(d.clone().with_weights(vec![0.0; 30]).is_err());
    for v in [f64::NAN, -1.0, f64::INFINITY] {
        let mut bad = vec![1.0; 30];
        bad[3] = v;
        assert!(d.clone().with_weights(bad).is_err(), "{v}");
    }
}

/// The convex model's weighted program (squared loss) is the repeated rows' program: the same
/// optimum, certified global on both, the weighted network's objective its weighted objective.
#[test]
fn a_weighted_convex_program_is_the_repeated_rows_program() {
    let (d, w, r) = weighted_and_repeated("2-3-1", 24, 5);
    let arch = Architecture::parse("2-3-1", Activation::Linear).unwrap();
    let mut s = Settings::new();
    s.set("convex.weight_decay", 1e-2.into()).unwrap();
    s.set("convex.patterns", "all".into()).unwrap();
    s.set("convex.gap_tol", 1e-11.into()).unwrap();
    let run = |data: &Dataset| train("convex", &s, data, &arch, &Start::Zero).unwrap();
    let weighted = run(&d.clone().with_weights(w.clone()).unwrap());
    let repeated = run(&r);
    let cert = |run: &methods::Run| {
        let c = convex_certificate(run);
        assert!(c.certified && c.scope == "global", "{c:?}");
        c
    };
    let (a, b) = (cert(&weighted), cert(&repeated));
    assert!(
        (a.objective - b.objective).abs() <= 1e-10 * b.objective,
        "{} vs {}",
        a.objective,
        b.objective
    );
    assert!(
        a.dual_bound <= b.objective * (1.0 + 1e-12) && b.dual_bound <= a.objective * (1.0 + 1e-12)
    );
    // the weighted objective, computed here from the network
    let Some(cvxnn::net::Network::Mlp(net)) = &weighted.model else {
        panic!("a network")
    };
    let f = net.forward(&d.x).unwrap();
    let total: f64 = w.iter().sum();
    let sse: f64 = (0..d.n_samples())
        .map(|j| w[j] * (f.get(0, j) - d.y.get(0, j)).powi(2))
        .sum();
    let direct = sse / (2.0 * total) + 0.5 * 1e-2 * net.decayed_squares();
    assert!((direct - a.objective).abs() <= 1e-12 * direct);
}

/// The convex classifiers' weighted programs (logistic by Newton steps, hinge by interior
/// point) are the repeated rows' programs: each one's dual bound is below the other's
/// objective (both valid bounds of one program), the objectives agree to the solvers' gap, and
/// the weighted network's objective is its weighted objective computed here.
#[test]
fn weighted_convex_classifiers_are_the_repeated_rows_programs() {
    let (d, w, r) = weighted_and_repeated("2-3-1", 24, 6);
    let to_labels = |data: &Dataset| {
        let mut out = data.clone();
        let at = median(&d.y.row(0));
        let y = signs(&data.y.row(0), at);
        out.y = Matrix::from_fn(1, y.len(), |_, j| y[j]);
        out
    };
    let (d, r) = (to_labels(&d), to_labels(&r));
    let arch = Architecture::parse("2-3-1", Activation::Linear).unwrap();
    // the hinge's network stops at gaps of a few 1e-9 above Clarabel's tolerance (measured:
    // 3.5e-9 and 6.1e-9 relative asking for 1e-10, weighted and repeated alike)
    // every pattern (interior point), or 12 sampled gates (the working sets: Newton steps for
    // the logistic loss, sample-form programs for the hinge)
    let cases = [
        ("logistic", 1e-10, "all"),
        ("hinge", 1e-8, "all"),
        ("logistic", 1e-10, "12"),
        ("hinge", 1e-8, "12"),
    ];
    for (loss, tol, patterns) in cases {
        let mut s = Settings::new();
        s.set("convex.weight_decay", 1e-2.into()).unwrap();
        let patterns: serde_json::Value = match patterns.parse::<u64>() {
            Ok(k) => k.into(),
            Err(_) => patterns.into(),
        };
        s.set("convex.patterns", patterns.clone()).unwrap();
        s.set("convex.loss", loss.into()).unwrap();
        s.set("convex.gap_tol", (tol / 100.0).into()).unwrap();
        let run = |data: &Dataset| train("convex", &s, data, &arch, &Start::Zero).unwrap();
        let weighted = run(&d.clone().with_weights(w.clone()).unwrap());
        let repeated = run(&r);
        let scope = if patterns == "all" {
            "global"
        } else {
            "restricted"
        };
        let cert = |run: &methods::Run| {
            let c = convex_certificate(run);
            assert!(c.scope == scope && c.rel_gap <= tol, "{loss}: {c:?}");
            let solver = if scope == "global" {
                "ipm"
            } else {
                "active-set"
            };
            assert_eq!(c.solver, solver, "{loss}");
            c
        };
        let (a, b) = (cert(&weighted), cert(&repeated));
        assert!(
            a.dual_bound <= b.objective * (1.0 + 1e-12)
                && b.dual_bound <= a.objective * (1.0 + 1e-12),
            "{loss}: {a:?} {b:?}"
        );
        // each objective is above the optimum, which is above the other's bound
        assert!(
            (a.objective - b.objective).abs()
                <= (a.objective - a.dual_bound).max(b.objective - b.dual_bound) * (1.0 + 1e-9)
                && (a.objective - b.objective).abs() <= tol * b.objective,
            "{loss}: {} vs {}",
            a.objective,
            b.objective
        );
        let Some(cvxnn::net::Network::Mlp(net)) = &weighted.model else {
            panic!("a network")
        };
        let f = net.forward(&d.x).unwrap();
        let value = |p: f64, y: f64| match loss {
            "logistic" => (1.0 + (-y * p).exp()).ln(),
            _ => (1.0 - y * p).max(0.0),
        };
        let total: f64 = w.iter().sum();
        let sum: f64 = (0..d.n_samples())
            .map(|j| w[j] * value(f.get(0, j), d.y.get(0, j)))
            .sum();
        let direct = sum / total + 0.5 * 1e-2 * net.decayed_squares();
        assert!(
            (direct - a.objective).abs() <= 1e-12 * direct,
            "{loss}: {direct} vs {}",
            a.objective
        );
    }
}

/// A weighted run's figures (`final.loss`, `final.output_error` and the method's metrics) are
/// the figures of its network on the rows repeated as often as their integer weight, for every
/// family that takes weights: a gradient method on the squared loss and on the cross-entropy,
/// the linear models (regression, binary and softmax classification), the convex model.
#[test]
fn a_weighted_runs_figures_are_the_repeated_rows_figures() {
    let (d, w, r) = weighted_and_repeated("3-4-1", 40, 9);
    let labelled = |data: &Dataset, classes: usize| {
        let mut out = data.clone();
        let y = data.y.row(0);
        let cuts = [median(&d.y.row(0)) - 0.3, median(&d.y.row(0)) + 0.3];
        out.y = if classes == 2 {
            let s = signs(&y, cuts[0]);
            Matrix::from_fn(1, s.len(), |_, j| s[j])
        } else {
            // ±1 one-hot rows of three classes
            Matrix::from_fn(3, y.len(), |k, j| {
                let class = cuts.iter().filter(|&&c| y[j] > c).count();
                if class == k {
                    1.0
                } else {
                    -1.0
                }
            })
        };
        out
    };
    // (method, its settings, 0 for the regression targets or the number of classes)
    type Case<'a> = (&'a str, Vec<(&'a str, serde_json::Value)>, usize);
    let cases: Vec<Case> = vec![
        ("adam", vec![("gradient.max_iter", 30.into())], 0),
        (
            "lbfgs",
            vec![
                ("gradient.loss", "cross-entropy".into()),
                ("gradient.max_iter", 30.into()),
            ],
            3,
        ),
        ("ridge", vec![], 0),
        ("logistic", vec![], 2),
        ("logistic", vec![], 3),
        (
            "convex",
            vec![
                ("convex.patterns", 20.into()),
                ("convex.weight_decay", 1e-2.into()),
            ],
            0,
        ),
    ];
    for (name, keys, classes) in cases {
        let (dw, dr) = if classes == 0 {
            (d.clone(), r.clone())
        } else {
            (labelled(&d, classes), labelled(&r, classes))
        };
        let weighted = dw.clone().with_weights(w.clone()).unwrap();
        let mut s = Settings::new();
        for (k, v) in keys {
            s.set(k, v).unwrap();
        }
        let trainer = methods::method(name)
            .unwrap()
            .trainer(&s, &Context::new(1, &weighted))
            .unwrap();
        let ny = weighted.y.rows();
        let spec = format!("3-4-{ny}");
        let arch = trainer
            .architecture(&weighted, Activation::Linear)
            .unwrap_or_else(|| Architecture::parse(&spec, Activation::Linear).unwrap());
        let problem = Problem::new(&weighted, &arch).unwrap();
        let start = Start::Random {
            seed: 3,
            scheme: cvxnn::train::InitScheme::He,
        };
        let run = methods::run(
            trainer.as_ref(),
            &problem,
            &start,
            &mut Quiet,
            &Limits::none(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let net = run.network().unwrap();
        let (a, b) = (
            trainer.metrics(net, &weighted).unwrap(),
            trainer.metrics(net, &dr).unwrap(),
        );
        let plain = trainer.metrics(net, &dw).unwrap();
        assert_eq!(a.0.len(), b.0.len());
        let mut differs = false;
        for (((k, va), (_, vb)), (_, vp)) in a.0.iter().zip(&b.0).zip(&plain.0) {
            assert!(
                (va - vb).abs() <= 1e-12 * vb.abs().max(1e-3),
                "{name} {k}: weighted {va}, repeated {vb}"
            );
            differs |= (va - vp).abs() > 1e-9 * vp.abs().max(1e-3);
        }
        assert!(
            differs,
            "{name}: the weights changed no figure: {a:?} {plain:?}"
        );
        // final.loss: the weighted mean squared error, the repeated rows' one
        let f = net.forward(&dr.x).unwrap().sub(&dr.y).unwrap();
        let mse = f.frobenius().powi(2) / (f.rows() * f.cols()) as f64;
        assert!(
            (run.outcome.loss - mse).abs() <= 1e-12 * mse,
            "{name}: final.loss {} against {mse}",
            run.outcome.loss
        );
    }
}
