//! The cross-entropy of class probabilities as the gradient methods' data term: its value
//! against a direct computation, its gradient against finite differences, a linear network on
//! it against the linear models' logistic and softmax regression (an independent interior-point
//! solver on the same convex objective), a run request end to end, and the inputs it refuses.

use cvxnn::data::planted_teacher;
use cvxnn::glm::{self, Fitting, Logistic};
use cvxnn::gradient::{self, DataLoss, Evaluator, GradSettings, Optimizer};
use cvxnn::linalg::Matrix;
use cvxnn::model::Model;
use cvxnn::net::{Activation, Architecture, Link, Mlp};
use cvxnn::request::{self, RunRequest};
use cvxnn::train::{quiet, Quiet};
use rand::SeedableRng;

/// Inputs of a seeded teacher and its most active output as class labels: ±1 columns (one
/// column for two classes: the sign of the teacher's output), with some labels flipped so that
/// no class is separable.
fn labelled(d: usize, k: usize, n: usize, seed: u64) -> (Matrix, Matrix) {
    let outputs = k.max(1);
    let arch = Architecture::new(vec![d, 6, outputs], Activation::Linear).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    let mut y = Matrix::zeros(outputs, n);
    for j in 0..n {
        let f = t.data.y.col(j);
        let mut class = (0..outputs).fold(0, |b, i| if f[i] > f[b] { i } else { b });
        if j % 7 == 3 {
            class = (class + 1) % outputs.max(2);
        }
        if outputs == 1 {
            let positive = (f[0] > 0.0) != (j % 7 == 3);
            y.set(0, j, if positive { 1.0 } else { -1.0 });
        } else {
            for i in 0..outputs {
                y.set(i, j, if i == class { 1.0 } else { -1.0 });
            }
        }
    }
    (t.data.x, y)
}

/// `−(1/N) Σ log p_class + (β/2) Σ weights²`, computed directly from the network's outputs.
fn direct_objective(m: &Mlp, x: &Matrix, y: &Matrix, beta: f64) -> f64 {
    let f = m.forward(x).unwrap();
    let n = x.cols();
    let mut total = 0.0;
    for j in 0..n {
        let (f, t) = (f.col(j), y.col(j));
        if f.len() == 1 {
            let p = 1.0 / (1.0 + (-f[0]).exp());
            total -= if t[0] == 1.0 { p.ln() } else { (1.0 - p).ln() };
        } else {
            let z: f64 = f.iter().map(|v| v.exp()).sum();
            let k = t.iter().position(|&v| v == 1.0).unwrap();
            total -= (f[k].exp() / z).ln();
        }
    }
    let squares: f64 = m
        .weights
        .iter()
        .flat_map(|w| w.as_slice())
        .map(|v| v * v)
        .sum();
    total / n as f64 + 0.5 * beta * squares
}

#[test]
fn value_and_gradient_against_a_direct_computation_and_finite_differences() {
    for (spec, k) in [("3-5-1", 1), ("4-6-3", 3), ("3-4-4-2", 2)] {
        let arch = Architecture::parse(spec, Activation::Linear).unwrap();
        let (x, y) = labelled(arch.n_inputs(), k, 30, 4);
        for beta in [0.0, 0.02] {
            let loss = Evaluator::for_loss(&arch, &x, &y, DataLoss::CrossEntropy)
                .unwrap()
                .with_weight_decay(beta);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            let net = Mlp::random_gaussian(&arch, 0.6, &mut rng);
            let theta = loss.layout.pack(&net).unwrap();
            let mut ws = loss.workspace();
            let mut g = vec![0.0; theta.len()];
            let value = loss.eval(&theta, Some(&mut g), &mut ws);
            let direct = direct_objective(&net, &x, &y, beta);
            if beta == 0.0 {
                // the figures a model reports: the same cross-entropy from its logits
                let t = cvxnn::net::class_indicators(&y).unwrap();
                let (ce, _) = cvxnn::net::class_figures(&net.forward(&x).unwrap(), &t, None);
                assert!(
                    (ce - direct).abs() <= 1e-13 * direct,
                    "{spec}: {ce} vs {direct}"
                );
            }
            assert!(
                (value - direct).abs() <= 1e-13 * direct,
                "{spec} β {beta}: {value} vs {direct}"
            );
            // the same labels as 0/1 give the same loss
            let zero_one = y.map(|v| if v == 1.0 { 1.0 } else { 0.0 });
            let other = Evaluator::for_loss(&arch, &x, &zero_one, DataLoss::CrossEntropy)
                .unwrap()
                .with_weight_decay(beta);
            assert_eq!(other.eval(&theta, None, &mut other.workspace()), value);
            let h = 1e-6;
            for i in 0..theta.len() {
                let (mut tp, mut tm) = (theta.clone(), theta.clone());
                tp[i] += h;
                tm[i] -= h;
                let fd =
                    (loss.eval(&tp, None, &mut ws) - loss.eval(&tm, None, &mut ws)) / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() <= 1e-6 * g[i].abs().max(1e-3),
                    "{spec} β {beta} parameter {i}: {fd} vs {}",
                    g[i]
                );
            }
        }
    }
}

fn lbfgs_to_the_minimum(arch: &Architecture, x: &Matrix, y: &Matrix, beta: f64) -> f64 {
    let settings = GradSettings {
        max_iter: 5_000,
        grad_tol: 1e-11,
        output_tol: 0.0,
        weight_decay: beta,
        loss: DataLoss::CrossEntropy,
        ..GradSettings::new(Optimizer::Lbfgs { memory: 10 })
    };
    let start = Mlp::zeros(arch);
    let run = gradient::train(x, y, &start, &settings, &mut quiet(&mut Quiet)).unwrap();
    run.summary.loss
}

/// With no hidden layer the cross-entropy with weight decay β is logistic regression (one
/// output) or softmax regression (several) with `C = 1/(βN)`, a strictly convex program that the
/// linear models solve by interior point: L-BFGS from zero reaches its optimum.
#[test]
fn a_linear_network_is_logistic_and_softmax_regression() {
    let n = 80;
    let c = 0.5;
    let beta = 1.0 / (c * n as f64);
    // two classes: one logit
    let (x, y) = labelled(4, 1, n, 6);
    let ours = lbfgs_to_the_minimum(
        &Architecture::new(vec![4, 1], Activation::Linear).unwrap(),
        &x,
        &y,
        beta,
    );
    let fit = glm::fit_logistic(
        &x,
        &y.row(0),
        Fitting::default(),
        Logistic { c, l1: false },
        &mut glm::unwatched,
    )
    .unwrap();
    let theirs = fit.objective / (c * n as f64);
    assert!(
        (ours - theirs).abs() <= 1e-7 * theirs && ours <= theirs * (1.0 + 1e-9),
        "logistic: {ours} vs {theirs}"
    );
    // three classes: softmax
    let (x, y) = labelled(4, 3, n, 7);
    let ours = lbfgs_to_the_minimum(
        &Architecture::new(vec![4, 3], Activation::Linear).unwrap(),
        &x,
        &y,
        beta,
    );
    let classes: Vec<usize> = (0..n)
        .map(|j| y.col(j).iter().position(|&v| v == 1.0).unwrap())
        .collect();
    let fit = glm::softmax::fit(
        &x,
        (&classes, Fitting::default()),
        3,
        glm::softmax::Softmax { c, l1: false },
        &mut glm::unwatched,
    )
    .unwrap();
    let theirs = fit.objective / (c * n as f64);
    assert!(
        (ours - theirs).abs() <= 1e-7 * theirs && ours <= theirs * (1.0 + 1e-9),
        "softmax: {ours} vs {theirs}"
    );
}

/// A run request on iris's class labels: the model predicts class probabilities, which the
/// model file keeps, and its figures are the cross-entropy and the accuracy.
#[test]
fn a_request_trains_class_probabilities_end_to_end() {
    let req = RunRequest::from_value(serde_json::json!({
        "method": "lbfgs",
        "arch": "4-6-3",
        "standardize": true,
        "data": { "file": "iris", "classes": true },
        "gradient": { "loss": "cross-entropy", "weight_decay": 1e-3 },
    }))
    .unwrap();
    let trained = request::run(&req, None, &mut Quiet, None).unwrap();
    let metric = |name: &str| {
        trained
            .metrics
            .train
            .0
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", trained.metrics.train))
            .1
    };
    assert!(metric("accuracy") >= 0.95, "{}", metric("accuracy"));
    assert!(metric("cross_entropy") < 0.2, "{}", metric("cross_entropy"));
    let model = trained.model.unwrap();
    assert_eq!(model.link, Link::Softmax);
    let data = cvxnn::data::Table::load(std::path::Path::new("iris")).unwrap();
    let x = model.inputs_of(&data).unwrap();
    let p = model.predict(&x).unwrap();
    for j in 0..p.cols() {
        assert!((p.col(j).iter().sum::<f64>() - 1.0).abs() < 1e-14);
    }
    // the file keeps the link; a version-2 file cannot carry one
    let text = model.to_json().unwrap();
    let back = Model::from_json(&text, "m.json").unwrap();
    assert_eq!(back, model);
    let v2 = text.replace("\"version\": 3", "\"version\": 2");
    assert!(Model::from_json(&v2, "m.json").is_err());
    let plain = v2.replace("\"link\": \"softmax\"", "\"link\": \"identity\"");
    assert_eq!(
        Model::from_json(&plain, "m.json").unwrap().link,
        Link::Identity
    );
}

#[test]
fn inputs_the_cross_entropy_cannot_read_are_refused() {
    let arch = Architecture::parse("3-4-3", Activation::Linear).unwrap();
    let (x, y) = labelled(3, 3, 20, 2);
    let ce = DataLoss::CrossEntropy;
    // a value that is not a label, two classes for one sample, 0 and −1 both
    let mut half = y.clone();
    half.set(1, 4, 0.5);
    let mut two = y.clone();
    two.set(0, 5, 1.0);
    two.set(1, 5, 1.0);
    two.set(2, 5, 1.0);
    let mut mixed = y.clone();
    mixed.set(0, 6, 0.0);
    for (bad, says) in [
        (&half, "0.5"),
        (&two, "one class per sample"),
        (&mixed, "0 and −1"),
    ] {
        let e = Evaluator::for_loss(&arch, &x, bad, ce).err().unwrap();
        assert!(
            e.to_string().contains(says) && e.to_string().contains("gradient.loss"),
            "{e}"
        );
    }
    let relu = Architecture::parse("3-4-3", Activation::Relu).unwrap();
    let e = Evaluator::for_loss(&relu, &x, &y, ce).err().unwrap();
    assert!(e.to_string().contains("linear"), "{e}");
    let lm = GradSettings {
        loss: ce,
        ..GradSettings::new(Optimizer::Lm)
    };
    let e = lm.validate().unwrap_err().to_string();
    assert!(
        e.contains("gradient.loss") && e.contains("least squares"),
        "{e}"
    );
    // from a request: the method's group names the unknown loss
    let e = RunRequest::from_value(serde_json::json!({
        "method": "adam", "arch": "4-3-3", "data": { "file": "iris", "classes": true },
        "gradient": { "loss": "hinge" },
    }))
    .and_then(|r| r.prepare(None).map(|_| ()))
    .unwrap_err()
    .to_string();
    assert!(e.contains("gradient.loss"), "{e}");
}
