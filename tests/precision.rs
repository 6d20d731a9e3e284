//! float32 and float64 gradient training: the float32 passes give the float64 loss and gradient
//! to single precision; both precisions reach the same minimum on seeded teachers; a float32
//! network is stored as one (file, model, ONNX export that matches `predict` to float32
//! rounding); Levenberg–Marquardt and an impossible file are refused. (That float32 training
//! does not depend on the thread count: tests/gradient.rs.)

use cvxnn::data::planted_teacher;
use cvxnn::gradient::{self, DataLoss, Evaluator, GradSettings, Optimizer};
use cvxnn::linalg::{Matrix, Precision};
use cvxnn::model::Model;
use cvxnn::net::{Activation, Architecture, Mlp, Network};
use cvxnn::train::{quiet, Quiet};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// A seeded teacher's data with Gaussian noise of `sigma` on the targets (so the best fit has
/// a positive loss, which float32 can match), and a perturbed start.
fn noisy_teacher(spec: &str, n: usize, sigma: f64, seed: u64) -> (Matrix, Matrix, Mlp) {
    let arch = Architecture::parse(spec, Activation::Linear).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 100);
    let noise = Normal::new(0.0, sigma).unwrap();
    let (rows, cols) = t.data.y.shape();
    let y = Matrix::from_fn(rows, cols, |i, j| {
        t.data.y.get(i, j) + noise.sample(&mut rng)
    });
    let start = t.model.perturbed(0.3, &mut rng);
    (t.data.x, y, start)
}

fn settings(opt: Optimizer, max_iter: usize, precision: Precision) -> GradSettings {
    let mut s = GradSettings::new(opt);
    s.max_iter = max_iter;
    s.output_tol = 0.0;
    s.grad_tol = 0.0;
    s.precision = precision;
    s
}

fn parameters(m: &Mlp) -> Vec<f64> {
    m.weights
        .iter()
        .flat_map(|w| w.as_slice().to_vec())
        .chain(m.biases.iter().flatten().copied())
        .collect()
}

/// Over several blocks, weighted, squared loss and cross-entropy: the float32 pass's value and
/// gradient are the float64 pass's to single precision — and not to double (it really is
/// float32).
#[test]
fn float32_passes_give_the_float64_loss_and_gradient_to_single_precision() {
    let n = 2 * gradient::pass::SAMPLE_BLOCK + 31;
    let (x, y, start) = noisy_teacher("6-12-3", n, 0.1, 3);
    let weights: Vec<f64> = (0..n).map(|j| 0.25 + (j % 5) as f64 / 2.0).collect();
    let arch = start.arch.clone();
    let labels = Matrix::from_fn(3, n, |k, j| {
        let best = (0..3)
            .max_by(|&a, &b| y.get(a, j).total_cmp(&y.get(b, j)))
            .unwrap();
        f64::from(u8::from(best == k))
    });
    for (targets, loss) in [(&y, DataLoss::Squared), (&labels, DataLoss::CrossEntropy)] {
        let at = |precision| {
            let ev = Evaluator::for_loss(&arch, &x, targets, loss)
                .unwrap()
                .with_weights(Some(&weights))
                .unwrap()
                .with_threads(2)
                .with_precision(precision);
            let theta = ev.layout.pack(&start).unwrap();
            let mut g = vec![0.0; theta.len()];
            let value = ev.eval(&theta, Some(&mut g), &mut ev.workspace());
            (value, g)
        };
        let (v64, g64) = at(Precision::F64);
        let (v32, g32) = at(Precision::F32);
        let rel = (v32 - v64).abs() / v64;
        let gnorm = g64.iter().map(|g| g * g).sum::<f64>().sqrt();
        let gerr = g32
            .iter()
            .zip(&g64)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
            / gnorm;
        assert!(rel < 1e-5 && gerr < 1e-4, "{loss:?}: {rel:e} {gerr:e}");
        assert!(rel > 1e-12 || gerr > 1e-12, "{loss:?}: no float32 rounding");
    }
}

/// On seeded teachers (noise-free: the minimum is an exact fit), L-BFGS in float64 and in
/// float32 from the same start reach the same minimum, each to its precision's accuracy: the
/// relative output error of the float64 network at 1e-7, of the float32 network at float32's
/// (below 1e-5, not below 1e-9), and the two networks' outputs agree to float32's accuracy.
#[test]
fn float32_and_float64_training_reach_the_same_minimum() {
    for (spec, seed) in [("4-10-2", 1), ("4-10-2", 2), ("5-12-1", 3)] {
        let (x, y, start) = noisy_teacher(spec, 300, 0.0, seed);
        let train = |precision| {
            let s = settings(Optimizer::Lbfgs { memory: 10 }, 3_000, precision);
            gradient::train(&x, &y, &start, &s, &mut quiet(&mut Quiet)).unwrap()
        };
        let (r64, r32) = (train(Precision::F64), train(Precision::F32));
        assert_eq!(r32.summary.precision, Precision::F32);
        let error = |m: &Mlp| m.relative_error(&x, &y).unwrap();
        let (e64, e32) = (error(&r64.model), error(&r32.model));
        assert!(e64 < 1e-7, "{spec} seed {seed}: float64 {e64:e}");
        assert!(
            e32 < 1e-5 && e32 > 1e-9,
            "{spec} seed {seed}: float32 {e32:e}"
        );
        let (f64_out, f32_out) = (
            r64.model.forward(&x).unwrap(),
            r32.model.forward(&x).unwrap(),
        );
        let apart = f64_out
            .as_slice()
            .iter()
            .zip(f32_out.as_slice())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
            / y.frobenius();
        assert!(apart < 2e-5, "{spec} seed {seed}: outputs {apart:e} apart");
        // the float32 run's own figure is its network's, to float32's accuracy
        assert!(
            (r32.summary.output_error - e32).abs() <= 1e-6,
            "{spec} seed {seed}"
        );
        // a float32 network's parameters are float32 numbers; a float64 one's are not all
        assert!(parameters(&r32.model)
            .iter()
            .all(|&v| f64::from(v as f32) == v));
        assert!(parameters(&r64.model)
            .iter()
            .any(|&v| f64::from(v as f32) != v));
    }
}

/// A model's precision is kept in its file; a float32 model with a number float32 cannot hold
/// is refused, in memory and on reading; Levenberg–Marquardt refuses float32 by the setting's
/// name.
#[test]
fn a_float32_model_is_kept_as_one_and_impossible_ones_are_refused() {
    let (x, y, start) = noisy_teacher("3-5-1", 60, 0.1, 2);
    let run = gradient::train(
        &x,
        &y,
        &start,
        &settings(Optimizer::Lbfgs { memory: 5 }, 50, Precision::F32),
        &mut quiet(&mut Quiet),
    )
    .unwrap();
    let model = Model::of_network(Network::Mlp(run.model.clone()))
        .unwrap()
        .with_precision(Precision::F32)
        .unwrap();
    let text = model.to_json().unwrap();
    assert!(text.contains("\"precision\": \"f32\""), "{text}");
    let back = Model::from_json(&text, "m.json").unwrap();
    assert_eq!(
        (back.network, back.precision),
        (model.network.clone(), Precision::F32)
    );
    // a float64 file says nothing of precision, and reads back as float64
    let plain = Model::of_network(Network::Mlp(start.clone())).unwrap();
    let plain_text = plain.to_json().unwrap();
    assert!(!plain_text.contains("precision"));
    assert_eq!(
        Model::from_json(&plain_text, "p.json").unwrap().precision,
        Precision::F64
    );
    // the start's parameters are float64 numbers: not a float32 model
    let err = plain
        .clone()
        .with_precision(Precision::F32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("float32"), "{err}");
    let forged = plain_text.replacen("\"format\"", "\"precision\": \"f32\",\n  \"format\"", 1);
    let err = Model::from_json(&forged, "forged.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("forged.json") && err.contains("float32"),
        "{err}"
    );
    let lm = settings(Optimizer::Lm, 10, Precision::F32);
    let err = gradient::train(&x, &y, &start, &lm, &mut quiet(&mut Quiet))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gradient.precision"), "{err}");
}
