//! Gradient trainers: the backward pass against finite differences, the Jacobian against the
//! gradient, each trainer on a seeded teacher, polishing, determinism, bad settings.

use cvxnn::data::planted_teacher;
use cvxnn::gradient::{self, Evaluator, GradSettings, Optimizer};
use cvxnn::linalg::{Matrix, Precision};
use cvxnn::net::{Activation, Architecture, Mlp};
use cvxnn::train::{quiet, random_network as init_model, InitScheme, Quiet, Stop};
use rand::SeedableRng;

fn teacher(
    spec: &str,
    out: Activation,
    n: usize,
    seed: u64,
) -> (Architecture, Matrix, Matrix, Mlp) {
    let arch = Architecture::parse(spec, out).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    (arch, t.data.x, t.data.y, t.model)
}

/// Adam with PyTorch's β₁, β₂ and ε.
fn adam(lr: f64, batch: Option<usize>) -> Optimizer {
    Optimizer::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        batch,
    }
}

fn perturbed(m: &Mlp, sigma: f64, seed: u64) -> Mlp {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    m.perturbed(sigma, &mut rng)
}

/// The largest relative error of `loss`'s gradient at `theta` against central differences.
fn worst_against_finite_differences(loss: &Evaluator, theta: &[f64]) -> f64 {
    let mut ws = loss.workspace();
    let mut g = vec![0.0; theta.len()];
    loss.eval(theta, Some(&mut g), &mut ws);
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    for i in 0..theta.len() {
        let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
        tp[i] += h;
        tm[i] -= h;
        let fd = (loss.eval(&tp, None, &mut ws) - loss.eval(&tm, None, &mut ws)) / (2.0 * h);
        worst = worst.max((fd - g[i]).abs() / g[i].abs().max(1e-3));
    }
    worst
}

#[test]
fn gradient_matches_finite_differences() {
    for (spec, out) in [
        ("3-3-2", Activation::Linear),
        ("3-3-2", Activation::Relu),
        ("4-6-5-2", Activation::Linear),
        ("2-4-3-3-1", Activation::Relu),
    ] {
        let (arch, x, y, _) = teacher(spec, out, 25, 4);
        let loss = Evaluator::new(&arch, &x, &y).unwrap();
        // Gaussian biases too: with zero biases a sample whose hidden units are all off has an
        // output pre-activation of exactly 0, a kink where finite differences are one-sided
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let start = Mlp::random_gaussian(&arch, 0.5, &mut rng);
        let theta = loss.layout.pack(&start).unwrap();
        let worst = worst_against_finite_differences(&loss, &theta);
        assert!(
            worst < 1e-5,
            "{spec} {out}: worst relative error {worst:.2e}"
        );
    }
}

/// A batch of more than `SAMPLE_BLOCK` samples is cut into blocks whose gradients are summed:
/// the loss is still the forward pass's, and the gradient still matches finite differences
/// (squared loss with weights, and the cross-entropy), on several threads.
#[test]
fn a_batch_of_several_blocks_has_the_forward_pass_loss_and_gradient() {
    let n = 2 * gradient::pass::SAMPLE_BLOCK + 77;
    let (arch, x, y, _) = teacher("3-5-2", Activation::Linear, n, 6);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let net = Mlp::random_gaussian(&arch, 0.5, &mut rng);
    let weights: Vec<f64> = (0..n).map(|j| 0.5 + (j % 7) as f64 / 3.0).collect();
    let labels = Matrix::from_fn(2, n, |k, j| {
        let first = y.get(0, j) > y.get(1, j);
        f64::from(u8::from(first == (k == 0)))
    });
    let squared = Evaluator::new(&arch, &x, &y)
        .unwrap()
        .with_weights(Some(&weights))
        .unwrap()
        .with_threads(3);
    let cross = Evaluator::for_loss(&arch, &x, &labels, gradient::DataLoss::CrossEntropy)
        .unwrap()
        .with_threads(2);
    // the squared loss's value against the network's own forward pass
    let theta = squared.layout.pack(&net).unwrap();
    let mut ws = squared.workspace();
    let f = net.forward(&x).unwrap();
    let direct: f64 = (0..n)
        .map(|j| {
            weights[j] * ((f.get(0, j) - y.get(0, j)).powi(2) + (f.get(1, j) - y.get(1, j)).powi(2))
        })
        .sum::<f64>()
        / (2.0 * weights.iter().sum::<f64>());
    let value = squared.eval(&theta, None, &mut ws);
    assert!(
        (value - direct).abs() <= 1e-13 * direct,
        "{value} vs {direct}"
    );
    for loss in [&squared, &cross] {
        let worst = worst_against_finite_differences(loss, &theta);
        assert!(
            worst < 1e-5,
            "{:?}: worst relative error {worst:.2e}",
            loss.loss
        );
    }
}

/// The trained network does not depend on the thread count: L-BFGS, full-batch Adam and
/// mini-batch Adam on batches large enough to be split over threads give the same bits on 1, 2
/// and 3 threads, in float64 and in float32.
#[test]
fn one_two_and_three_threads_train_the_same_network() {
    let (_, x, y, t) = teacher("10-50-1", Activation::Linear, 9_000, 8);
    let start = perturbed(&t, 0.3, 2);
    // the passes must be threaded
    const { assert!(9_000 * 601 >= gradient::pass::PARALLEL_WORK) };
    for precision in [Precision::F64, Precision::F32] {
        for opt in [
            Optimizer::Lbfgs { memory: 10 },
            adam(1e-3, None),
            adam(1e-3, Some(2_000)),
        ] {
            let train = |threads| {
                let mut s = settings(opt.clone(), 12);
                s.threads = Some(threads);
                s.precision = precision;
                gradient::train(&x, &y, &start, &s, &mut quiet(&mut Quiet))
                    .unwrap()
                    .model
            };
            let one = train(1);
            assert_eq!(one, train(2), "{precision:?} {opt:?}");
            assert_eq!(one, train(3), "{precision:?} {opt:?}");
            assert_ne!(one, start);
        }
    }
}

/// With weight decay the objective is `‖f(X) − Y‖²/(2N) + (β/2)‖θ‖²` over every weight and
/// hidden bias (the network's own [`Mlp::weight_decay_objective`]), its gradient matches finite
/// differences, and the output bias gets no gradient.
#[test]
fn weight_decay_objective_and_gradient() {
    for spec in ["3-3-2", "2-5-1", "4-6-5-2"] {
        let (arch, x, y, _) = teacher(spec, Activation::Linear, 25, 4);
        let beta = 0.03;
        let loss = Evaluator::new(&arch, &x, &y)
            .unwrap()
            .with_weight_decay(beta);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let net = Mlp::random_gaussian(&arch, 0.5, &mut rng);
        let theta = loss.layout.pack(&net).unwrap();
        let mut ws = loss.workspace();
        let mut g = vec![0.0; theta.len()];
        let j = loss.eval(&theta, Some(&mut g), &mut ws);
        let direct = net.weight_decay_objective(&x, &y, beta).unwrap();
        assert!(
            (j - direct).abs() <= 1e-12 * direct,
            "{spec}: {j} vs {direct}"
        );
        let h = 1e-6;
        let free = loss.undecayed();
        for i in 0..theta.len() {
            if free.contains(&i) {
                assert_eq!(g[i], 0.0, "the output bias is held");
                continue;
            }
            let (mut tp, mut tm) = (theta.clone(), theta.clone());
            tp[i] += h;
            tm[i] -= h;
            let fd = (loss.eval(&tp, None, &mut ws) - loss.eval(&tm, None, &mut ws)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() <= 1e-5 * g[i].abs().max(1e-3),
                "{spec} parameter {i}: {fd} vs {}",
                g[i]
            );
        }
    }
}

#[test]
fn jacobian_gives_the_gradient_and_the_loss() {
    for out in [Activation::Linear, Activation::Relu] {
        let (arch, x, y, t) = teacher("3-4-3-2", out, 20, 5);
        let loss = Evaluator::new(&arch, &x, &y).unwrap();
        let theta = loss.layout.pack(&perturbed(&t, 0.3, 1)).unwrap();
        let (np, m) = (theta.len(), 2 * 20);
        let mut ws = loss.workspace();
        let (mut jt, mut r) = (vec![0.0; np * m], vec![0.0; m]);
        let l = loss.residual_jacobian(&theta, &mut ws, &mut jt, &mut r);
        assert!((l - r.iter().map(|v| v * v).sum::<f64>()).abs() <= 1e-14 * l.max(1e-300));
        let mut g = vec![0.0; np];
        assert_eq!(loss.eval(&theta, Some(&mut g), &mut ws), l);
        for (i, gi) in g.iter().enumerate() {
            let jtr: f64 = (0..m).map(|k| jt[i + k * np] * r[k]).sum();
            assert!(
                (2.0 * jtr - gi).abs() <= 1e-12 * gi.abs().max(1e-6),
                "{out} parameter {i}: 2Jᵀr = {} vs ∇L = {gi}",
                2.0 * jtr
            );
        }
    }
}

fn settings(opt: Optimizer, max_iter: usize) -> GradSettings {
    GradSettings {
        max_iter,
        ..GradSettings::new(opt)
    }
}

#[test]
fn every_trainer_fits_a_perturbed_teacher() {
    let (arch, x, y, t) = teacher("3-3-2", Activation::Linear, 30, 2);
    let start = perturbed(&t, 0.05, 7);
    let l0 = start.mse(&x, &y).unwrap();
    assert!(l0 > 1e-4, "the start must be off the teacher: {l0}");
    let cases: Vec<(Optimizer, usize, f64)> = vec![
        // (optimiser, iterations, required final loss relative to the start)
        (Optimizer::Gd { lr: 0.05 }, 3_000, 1e-2),
        (
            Optimizer::Sgd {
                lr: 0.01,
                momentum: 0.9,
                batch: 8,
            },
            3_000,
            1e-2,
        ),
        (adam(1e-3, None), 3_000, 1e-2),
        (Optimizer::Lbfgs { memory: 10 }, 500, 1e-12),
        (Optimizer::Lm, 200, 1e-12),
    ];
    for (opt, iters, factor) in cases {
        let name = opt.name();
        let run = gradient::train(
            &x,
            &y,
            &start,
            &settings(opt, iters),
            &mut quiet(&mut Quiet),
        )
        .unwrap();
        let l = run.model.mse(&x, &y).unwrap();
        assert!(
            l <= factor * l0,
            "{name}: loss {l:.3e} from {l0:.3e} ({:?} after {} iterations)",
            run.summary.stop_reason,
            run.summary.iterations
        );
        assert!(
            (run.summary.loss - l).abs() <= 1e-12 * l0,
            "{name}: summary loss"
        );
        assert_eq!(run.model.arch, arch);
        // the history is in order and ends at the last iteration
        assert!(run
            .history
            .windows(2)
            .all(|w| w[0].iteration < w[1].iteration));
        assert_eq!(
            run.history.last().unwrap().iteration,
            run.summary.iterations
        );
    }
}

#[test]
fn second_order_methods_reach_an_exact_fit() {
    // L-BFGS and Levenberg–Marquardt from a close start: output error below 1e-9 (the default
    // output_tol), ReLU output included.
    for out in [Activation::Linear, Activation::Relu] {
        let (_, x, y, t) = teacher("3-3-2", out, 30, 1);
        let start = perturbed(&t, 0.01, 3);
        for opt in [Optimizer::Lbfgs { memory: 10 }, Optimizer::Lm] {
            let name = opt.name();
            let run = gradient::train(&x, &y, &start, &settings(opt, 1000), &mut quiet(&mut Quiet))
                .unwrap();
            assert_eq!(
                run.summary.stop_reason,
                Stop::OutputTolerance,
                "{out} {name}: {:?}, output error {:.2e}",
                run.summary.stop_reason,
                run.summary.output_error
            );
            assert!(run.model.relative_error(&x, &y).unwrap() <= 1e-9);
        }
    }
}

#[test]
fn polishing_an_exact_model_keeps_it_exact() {
    let (_, x, y, t) = teacher("3-3-2", Activation::Relu, 30, 1);
    for opt in [
        Optimizer::Lbfgs { memory: 10 },
        Optimizer::Lm,
        adam(1e-2, None),
    ] {
        let run = gradient::train(
            &x,
            &y,
            &t,
            &settings(opt.clone(), 100),
            &mut quiet(&mut Quiet),
        )
        .unwrap();
        assert_eq!(run.summary.stop_reason, Stop::OutputTolerance, "{opt:?}");
        assert_eq!(run.summary.iterations, 0);
        assert_eq!(run.model, t, "{opt:?} moved an exact model");
    }
}

#[test]
fn seeded_minibatches_are_reproducible() {
    let (_, x, y, t) = teacher("3-3-2", Activation::Linear, 50, 3);
    let start = perturbed(&t, 0.2, 1);
    let sgd = |seed| {
        let mut s = settings(
            Optimizer::Sgd {
                lr: 0.01,
                momentum: 0.9,
                batch: 7,
            },
            200,
        );
        s.seed = seed;
        gradient::train(&x, &y, &start, &s, &mut quiet(&mut Quiet))
            .unwrap()
            .model
    };
    assert_eq!(sgd(5), sgd(5));
    assert_ne!(sgd(5), sgd(6));
    let arch = start.arch.clone();
    assert_eq!(
        init_model(&arch, InitScheme::He, 9),
        init_model(&arch, InitScheme::He, 9)
    );
    assert_ne!(
        init_model(&arch, InitScheme::He, 9),
        init_model(&arch, InitScheme::He, 10)
    );
}

#[test]
fn divergence_and_bad_settings_are_reported() {
    let (_, x, y, t) = teacher("3-3-2", Activation::Linear, 30, 1);
    let start = perturbed(&t, 0.5, 2);
    let run = gradient::train(
        &x,
        &y,
        &start,
        &settings(Optimizer::Gd { lr: 1e6 }, 100),
        &mut quiet(&mut Quiet),
    )
    .unwrap();
    assert_eq!(run.summary.stop_reason, Stop::Diverged);
    assert!(run.model.weights.iter().all(|w| w.is_finite()));
    for bad in [
        Optimizer::Gd { lr: -1.0 },
        Optimizer::Gd { lr: f64::NAN },
        Optimizer::Sgd {
            lr: 0.1,
            momentum: 0.9,
            batch: 0,
        },
        Optimizer::Sgd {
            lr: 0.1,
            momentum: 1.5,
            batch: 4,
        },
        Optimizer::Lbfgs { memory: 0 },
    ] {
        let err = gradient::train(
            &x,
            &y,
            &start,
            &settings(bad.clone(), 10),
            &mut quiet(&mut Quiet),
        );
        assert!(err.is_err(), "{bad:?} accepted");
    }
    // shapes
    let wrong = Matrix::zeros(4, 30);
    assert!(gradient::train(
        &wrong,
        &y,
        &start,
        &settings(Optimizer::Lm, 5),
        &mut quiet(&mut Quiet)
    )
    .is_err());
    // Levenberg–Marquardt refuses a Jacobian it cannot hold
    let big = Architecture::parse("20-300-300-1", Activation::Linear).unwrap();
    let bx = Matrix::zeros(20, 5);
    let by = Matrix::zeros(1, 5);
    let m = init_model(&big, InitScheme::He, 1);
    let err = gradient::train(
        &bx,
        &by,
        &m,
        &settings(Optimizer::Lm, 5),
        &mut quiet(&mut Quiet),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("too large"), "{err}");
}

/// Early stopping holds a seeded part out, stops when its loss stops improving and keeps the
/// best network there: on a noisy teacher fitted by a wide network, that network's held-out loss
/// is the one reported and below the held-out loss of the same run trained to its step cap.
#[test]
fn early_stopping_keeps_the_best_network_on_the_held_out_part() {
    use cvxnn::gradient::early::Split;
    use cvxnn::gradient::{DataLoss, EarlyStopping};
    let (_, x, mut y, _) = teacher("3-2-1", Activation::Linear, 60, 8);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for v in y.as_mut_slice() {
        *v += 0.5 * rand::Rng::sample::<f64, _>(&mut rng, rand_distr::StandardNormal);
    }
    let wide = Architecture::parse("3-40-1", Activation::Linear).unwrap();
    let start = init_model(&wide, InitScheme::He, 2);
    let rule = EarlyStopping {
        validation_fraction: 0.3,
        patience: 30,
        tol: 1e-4,
    };
    let adam = adam(0.02, None);
    let early = GradSettings {
        max_iter: 4000,
        early_stopping: Some(rule),
        ..settings(adam.clone(), 4000)
    };
    let run = gradient::train(&x, &y, &start, &early, &mut quiet(&mut Quiet)).unwrap();
    assert_eq!(run.summary.stop_reason, Stop::EarlyStopped);
    assert!(run.summary.iterations < 4000);
    assert_eq!(run.summary.validation_samples, Some(18));
    // the held-out part, drawn again from the same seed
    let split = Split::new((&x, &y, None), 0.3, early.seed).unwrap();
    let held_out = |m: &Mlp| {
        let e = Evaluator::for_loss(&wide, &split.x_val, &split.y_val, DataLoss::Squared).unwrap();
        let theta = e.layout.pack(m).unwrap();
        e.eval(&theta, None, &mut e.workspace())
    };
    assert_eq!(Some(held_out(&run.model)), run.summary.validation_loss);
    // trained on the same part to the cap, the network fits the noise
    let full = gradient::train(
        &split.x,
        &split.y,
        &start,
        &settings(adam, 4000),
        &mut quiet(&mut Quiet),
    )
    .unwrap();
    assert!(
        held_out(&run.model) < held_out(&full.model),
        "{} vs {}",
        held_out(&run.model),
        held_out(&full.model)
    );
    // and bad settings are named
    for (bad, key) in [
        (
            EarlyStopping {
                validation_fraction: 1.0,
                ..rule
            },
            "validation_fraction",
        ),
        (
            EarlyStopping {
                patience: 0,
                ..rule
            },
            "n_iter_no_change",
        ),
    ] {
        let s = GradSettings {
            early_stopping: Some(bad),
            ..early.clone()
        };
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }
}

/// The final figures are those of the returned network: its objective and gradient norm
/// recomputed here, to the bit (for full-batch and mini-batch runs, with and without weight
/// decay, stopped by the iteration cap or the gradient test).
#[test]
fn the_final_figures_are_the_returned_networks() {
    let (arch, x, y, t) = teacher("4-6-2", Activation::Linear, 700, 5);
    let start = perturbed(&t, 0.3, 4);
    for (opt, beta, max_iter) in [
        (Optimizer::Lbfgs { memory: 10 }, 0.0, 40),
        (Optimizer::Lbfgs { memory: 10 }, 1e-3, 5_000),
        (adam(1e-2, None), 1e-3, 30),
        (adam(1e-2, Some(64)), 0.0, 31),
    ] {
        let mut s = settings(opt.clone(), max_iter);
        s.weight_decay = beta;
        let run = gradient::train(&x, &y, &start, &s, &mut quiet(&mut Quiet)).unwrap();
        let eval = Evaluator::new(&arch, &x, &y)
            .unwrap()
            .with_weight_decay(beta);
        let theta = eval.layout.pack(&run.model).unwrap();
        let mut g = vec![0.0; theta.len()];
        let l = eval.eval(&theta, Some(&mut g), &mut eval.workspace());
        let gn = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert_eq!(run.summary.loss, l, "{opt:?} β {beta}");
        assert_eq!(run.summary.grad_norm, gn, "{opt:?} β {beta}");
    }
}
