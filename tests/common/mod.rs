//! Shared helpers of the integration tests.
#![allow(dead_code)]

use cvxnn::data::{planted_teacher, Teacher};
use cvxnn::net::{Activation, Architecture};
use cvxnn::scr::{self, ScrProblem, ScrRun, ScrSettings, SubproblemSolver};
use cvxnn::train::{quiet, Quiet, Start};
use rand::SeedableRng;

/// A planted teacher of `spec` with `n` samples and its SCR problem.
pub fn teacher_problem(
    spec: &str,
    output: Activation,
    n: usize,
    seed: u64,
) -> (Teacher, ScrProblem) {
    let arch = Architecture::parse(spec, output).unwrap();
    let t = planted_teacher(&arch, n, seed).unwrap();
    let p = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
    (t, p)
}

/// SCR (at most 40 iterations) on a 3-3-2 teacher with N = 30 from the teacher perturbed by
/// N(0, 0.05²) noise, with the given backend.
pub fn perturbed_run(
    output: Activation,
    seed: u64,
    backend: &mut dyn SubproblemSolver,
) -> (Teacher, ScrRun) {
    perturbed_run_on("3-3-2", 30, output, seed, backend)
}

/// SCR (at most 40 iterations) on a teacher of `spec` with `n` samples from the teacher perturbed
/// by N(0, 0.05²) noise (noise seed `seed + 1000`, as `cvxnn train --init perturbed`).
pub fn perturbed_run_on(
    spec: &str,
    n: usize,
    output: Activation,
    seed: u64,
    backend: &mut dyn SubproblemSolver,
) -> (Teacher, ScrRun) {
    let (t, p) = teacher_problem(spec, output, n, seed);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 1000);
    let init = Start::Model {
        model: t.model.perturbed(0.05, &mut rng),
        label: "perturbed".into(),
        detail: "the teacher with N(0, 0.05²) noise".into(),
    };
    let settings = ScrSettings {
        max_iter: 40,
        ..Default::default()
    };
    let run = scr::run(&p, &init, &settings, backend, &mut quiet(&mut Quiet)).unwrap();
    (t, run)
}

/// Every run of the gradient `methods` with weight decay `beta` on `data`, architecture `spec`,
/// from He starts seeded `0..seeds`: (method, seed, run), in that order.
pub fn weight_decay_runs(
    data: &cvxnn::data::Dataset,
    beta: f64,
    spec: &str,
    methods: &[&str],
    seeds: u64,
) -> Vec<(String, u64, cvxnn::methods::Run)> {
    let arch = Architecture::parse(spec, Activation::Linear).unwrap();
    let problem = cvxnn::train::Problem::new(data, &arch).unwrap();
    let mut out = Vec::new();
    for &name in methods {
        let mut o = cvxnn::methods::Settings::new();
        o.set("gradient.weight_decay", beta.into()).unwrap();
        let trainer = cvxnn::methods::method(name)
            .unwrap()
            .trainer(&o, &cvxnn::methods::Context::new(1, data))
            .unwrap();
        for seed in 0..seeds {
            let start = Start::Random {
                scheme: cvxnn::train::InitScheme::He,
                seed,
            };
            let run = cvxnn::methods::run(
                trainer.as_ref(),
                &problem,
                &start,
                &mut Quiet,
                &cvxnn::train::Limits::none(),
            )
            .unwrap();
            out.push((name.to_string(), seed, run));
        }
    }
    out
}
