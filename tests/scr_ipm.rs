//! SCR with the interior-point backend (Clarabel, feature `sdp`).
#![cfg(feature = "sdp")]

mod common;
use common::teacher_problem;

use cvxnn::net::Activation;
use cvxnn::scr::formulation::objective_at;
use cvxnn::scr::{
    self, ClarabelBackend, Iterate, Params, ScrSettings, Subproblem, SubproblemSolver,
};
use cvxnn::train::{quiet, InitScheme, Quiet, Start, Stop};
use rand::SeedableRng;

/// The solver's objective (column-split PSD blocks + SOC pairs) equals λ‖M_1‖_* + μΣ‖m_k‖_*
/// computed by SVD and the 2×2 closed form at the returned point: the split is exact (§8).
#[test]
fn solver_objective_equals_svd_objective_at_its_solution() {
    for output in [Activation::Relu, Activation::Linear] {
        let (_, p) = teacher_problem("3-3-2", output, 20, 3);
        for (seed, lambda, mu) in [(1, 1.0, 1.0), (2, 10.0, 1.1), (3, 0.5, 2.0)] {
            let params = Params::random(&p, seed);
            let sol = ClarabelBackend::default()
                .solve(&Subproblem {
                    problem: &p,
                    params: &params,
                    lambda: &[lambda],
                    mu: &[mu],
                })
                .unwrap();
            assert!(sol.status.is_usable(), "{:?}", sol.status);
            let exact = objective_at(&sol.iterate, &p, &params, &[lambda], &[mu]).unwrap();
            assert!(
                (exact - sol.objective).abs() < 1e-6 * exact,
                "{output}: solver {} vs svd {exact}",
                sol.objective
            );
            // the polyhedral constraints (5) hold at the solution
            let s1 = sol.iterate.slack(&p, 0).unwrap();
            assert!(sol.iterate.h[0].as_slice().iter().all(|&v| v >= -1e-7));
            assert!(s1.as_slice().iter().all(|&v| v >= -1e-7));
            let lower = lambda * 3.0 + mu * 3.0 * 20.0;
            assert!(sol.objective >= lower - 1e-6, "objective below its bound n");
        }
    }
}

/// Option (3) of the blog: with minus the true values as parameters, the optimum is the true point,
/// with objective λ n_h + μ n_h N and no violation.
#[test]
fn true_values_are_a_fixed_point() {
    for output in [Activation::Relu, Activation::Linear] {
        let (t, p) = teacher_problem("3-3-2", output, 30, 1);
        let params = Iterate::from_model(&t.model, &p)
            .unwrap()
            .next_params(&p)
            .unwrap();
        let sol = ClarabelBackend::default()
            .solve(&Subproblem {
                problem: &p,
                params: &params,
                lambda: &[1.0],
                mu: &[1.0],
            })
            .unwrap();
        assert!(
            (sol.objective - (3.0 + 90.0)).abs() < 1e-6,
            "{}",
            sol.objective
        );
        assert!(sol.iterate.product_violation().unwrap() < 1e-6);
        assert!(sol.iterate.complementarity_violation(&p).unwrap() < 1e-6);
    }
}

/// SCR from a perturbed teacher reaches every violation ≤ 1e-6 and an exact fit, both output variants.
#[test]
fn scr_converges_from_perturbed_start_both_outputs() {
    for (output, seed) in [(Activation::Relu, 2), (Activation::Linear, 4)] {
        let (t, run) = common::perturbed_run(output, seed, &mut ClarabelBackend::default());
        assert_eq!(
            run.summary.stop_reason,
            Stop::Converged,
            "{output}: {:?}",
            run.summary
        );
        assert!(
            run.summary.product_violation <= 1e-6 && run.summary.complementarity_violation <= 1e-6
        );
        assert!(
            run.summary.output_error < 1e-6,
            "{output}: {:e}",
            run.summary.output_error
        );
        assert_eq!(run.history.len(), run.summary.iterations);
        // the trained weights fit the data through the forward pass alone
        assert!(run.model.relative_error(&t.data.x, &t.data.y).unwrap() < 1e-6);
    }
}

/// The same seed gives the same trajectory.
#[test]
fn scr_is_deterministic() {
    let (_, p) = teacher_problem("3-3-2", Activation::Relu, 15, 6);
    let settings = ScrSettings {
        max_iter: 3,
        ..Default::default()
    };
    let go = || {
        scr::run(
            &p,
            &Start::Random {
                scheme: InitScheme::Gaussian,
                seed: 8,
            },
            &settings,
            &mut ClarabelBackend::default(),
            &mut quiet(&mut Quiet),
        )
        .unwrap()
    };
    let (a, b) = (go(), go());
    assert_eq!(a.model, b.model);
}

/// The first-order backend agrees with the interior-point one on random subproblems: objective
/// within 1e-5 relative and the same weights and activations; one and two hidden layers.
#[test]
fn admm_agrees_with_interior_point_on_random_subproblems() {
    use cvxnn::scr::AdmmBackend;
    for (spec, output, seed) in [
        ("3-3-2", Activation::Relu, 1),
        ("3-3-2", Activation::Linear, 2),
        ("3-3-2", Activation::Relu, 3),
        ("2-3-3-1", Activation::Relu, 3),
        ("2-3-3-1", Activation::Linear, 4),
    ] {
        let (t, p) = teacher_problem(spec, output, 25, seed);
        let kl = p.n_hidden_layers();
        // parameters near the teacher (as inside an SCR run) and fully random ones
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let near = Iterate::from_model(&t.model.perturbed(0.1, &mut rng), &p)
            .unwrap()
            .next_params(&p)
            .unwrap();
        let (lambda, mu): (Vec<f64>, Vec<f64>) = (0..kl).map(|k| (1.0 + k as f64, 1.0)).unzip();
        for params in [near, Params::random(&p, seed + 10)] {
            let sub = Subproblem {
                problem: &p,
                params: &params,
                lambda: &lambda,
                mu: &mu,
            };
            let ipm = ClarabelBackend::default().solve(&sub).unwrap();
            let admm = AdmmBackend::default().solve(&sub).unwrap();
            let rel = (ipm.objective - admm.objective).abs() / ipm.objective;
            assert!(
                rel < 1e-5,
                "{spec} {output}: ipm {} admm {} ({:?})",
                ipm.objective,
                admm.objective,
                admm.status
            );
            // the interior-point objective is the exact one at its point (§8 split, every layer)
            let exact = objective_at(&ipm.iterate, &p, &params, &lambda, &mu).unwrap();
            assert!((exact - ipm.objective).abs() < 1e-6 * exact);
            for k in 0..kl {
                let dh = admm.iterate.h[k]
                    .sub(&ipm.iterate.h[k])
                    .unwrap()
                    .frobenius();
                assert!(
                    dh < 1e-3 * ipm.iterate.h[k].frobenius().max(1.0),
                    "{spec} {output}: ‖ΔH_{k}‖ = {dh:e}"
                );
            }
        }
    }
}

/// Two hidden layers with the interior-point backend: SCR from a perturbed teacher converges to
/// an exact fit (seeded instance; see README for how often it does over seeds).
#[test]
fn deep_scr_converges_from_perturbed_start_ipm() {
    let (t, run) = common::perturbed_run_on(
        "3-3-3-1",
        30,
        Activation::Relu,
        3,
        &mut ClarabelBackend::default(),
    );
    assert_eq!(
        run.summary.stop_reason,
        Stop::Converged,
        "{:?}",
        run.summary
    );
    assert!(run.model.relative_error(&t.data.x, &t.data.y).unwrap() < 1e-5);
}

/// The two backends follow the same SCR trajectory from the same perturbed start (ADMM with exact
/// solves): the same iteration count to convergence and objectives that agree iteration by
/// iteration.
#[test]
fn admm_and_interior_point_trajectories_agree() {
    use cvxnn::scr::AdmmBackend;
    let mut admm = AdmmBackend::default();
    admm.adaptive = false;
    let (_, a) = common::perturbed_run(Activation::Relu, 1, &mut admm);
    let (_, b) = common::perturbed_run(Activation::Relu, 1, &mut ClarabelBackend::default());
    assert_eq!(a.summary.stop_reason, Stop::Converged);
    assert_eq!(b.summary.stop_reason, Stop::Converged);
    assert_eq!(a.history.len(), b.history.len());
    for (x, y) in a.history.iter().zip(&b.history) {
        let rel = (x.objective - y.objective).abs() / y.objective;
        assert!(
            rel < 1e-6,
            "iteration {}: {} vs {}",
            x.iteration,
            x.objective,
            y.objective
        );
    }
}
