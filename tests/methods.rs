//! The one training interface: every method of the table trains the same seeded teacher through
//! `methods::run`, and the run record means the same for all of them.

use cvxnn::data::planted_teacher;
use cvxnn::methods::{self, Context, Settings, METHODS};
use cvxnn::milp::MilpCertificate;
use cvxnn::net::{Activation, Architecture, Network};
use cvxnn::train::{Event, Interrupt, Limits, Problem, Quiet, Start, Stop};

/// Small budgets so that every method finishes in a fraction of a second, for `method`.
fn settings(method: &methods::Method) -> Settings {
    let mut o = Settings::new();
    for (key, value) in [
        ("scr.max_iter", serde_json::json!(5)),
        ("gradient.max_iter", 300.into()),
        ("milp.weight_bound", 5.0.into()),
        ("milp.time_limit", 30.0.into()),
        ("convex.weight_decay", 1e-2.into()),
    ] {
        if method.reads(key.split('.').next().unwrap()) {
            o.set(key, value).unwrap();
        }
    }
    o
}

fn trainer(m: &methods::Method, data: &cvxnn::data::Dataset) -> Box<dyn methods::Trainer> {
    m.trainer(&settings(m), &Context::new(1, data)).unwrap()
}

fn teacher() -> (cvxnn::data::Teacher, Architecture) {
    let arch = Architecture::parse("2-2-1", Activation::Linear).unwrap();
    (planted_teacher(&arch, 12, 3).unwrap(), arch)
}

/// What `m` trains on: the teacher's data and network, or for a method that decides its own
/// network (a linear model) that network, on ±1 labels (the sign of the teacher's output) for a
/// classifier.
fn problem_of(
    trainer: &dyn methods::Trainer,
    t: &cvxnn::data::Teacher,
    arch: &Architecture,
) -> (cvxnn::data::Dataset, Architecture) {
    let mut data = t.data.clone();
    if trainer.predicts_labels() {
        data.y = data.y.map(|v| if v > 0.0 { 1.0 } else { -1.0 });
    }
    let own = trainer.architecture(&data, Activation::Linear);
    (data, own.unwrap_or_else(|| arch.clone()))
}

#[test]
fn every_method_of_the_table_trains_the_same_teacher() {
    let (t, teacher_arch) = teacher();
    for m in METHODS {
        let trainer = trainer(m, &t.data);
        let (data, arch) = problem_of(trainer.as_ref(), &t, &teacher_arch);
        let problem = Problem::new(&data, &arch).unwrap();
        assert_eq!(trainer.name(), m.name);
        let start = Start::Random {
            scheme: m.default_scheme,
            seed: 5,
        };
        if m.name == "milp" && !cvxnn::milp::AVAILABLE {
            let e = methods::run(
                trainer.as_ref(),
                &problem,
                &start,
                &mut Quiet,
                &Limits::none(),
            )
            .unwrap_err();
            assert!(
                matches!(
                    e,
                    cvxnn::Error::Unavailable {
                        feature: "milp",
                        ..
                    }
                ),
                "{e}"
            );
            continue;
        }
        let mut events = Vec::new();
        let mut watch = |e: &Event<'_>| {
            events.push((e.method.to_string(), e.iteration));
            None
        };
        let run = methods::run(
            trainer.as_ref(),
            &problem,
            &start,
            &mut watch,
            &Limits::none(),
        )
        .unwrap();
        assert_eq!(run.method, m.name);
        // the record's figures are the saved network's, recomputed here
        let Some(Network::Mlp(net)) = &run.model else {
            panic!("{}: no network", m.name)
        };
        if m.name == "convex" {
            // its hidden width is the optimum's number of units
            assert_eq!(
                (net.arch.n_inputs(), net.arch.n_outputs()),
                (arch.n_inputs(), arch.n_outputs())
            );
        } else {
            assert_eq!(net.arch, arch, "{}", m.name);
        }
        let mse = net.mse(&data.x, &data.y).unwrap();
        let rel = net.relative_error(&data.x, &data.y).unwrap();
        assert!(
            (run.outcome.loss - mse).abs() <= 1e-12 * mse.max(1e-300) && mse.is_finite(),
            "{}: {} vs {mse}",
            m.name,
            run.outcome.loss
        );
        assert!((run.outcome.output_error - rel).abs() <= 1e-12 * rel.max(1e-300));
        assert!(
            !matches!(run.outcome.stop_reason, Stop::Diverged | Stop::SolverFailed),
            "{}: {}",
            m.name,
            run.outcome.stop_reason
        );
        // stages: their methods, the total iterations, the observer saw each stage
        let stages: Vec<&str> = run.stages.iter().map(|s| s.method.as_str()).collect();
        let want: Vec<&str> = if m.name == "scr+lbfgs" {
            vec!["scr", "lbfgs"]
        } else {
            vec![m.name]
        };
        assert_eq!(stages, want);
        assert_eq!(
            run.outcome.iterations,
            run.stages.iter().map(|s| s.iterations()).sum::<usize>()
        );
        for s in &want {
            assert!(
                events.iter().any(|(e, _)| e == s),
                "{}: no event of {s}",
                m.name
            );
        }
        // gradient methods start from the He network and never end above it
        if m.reads("gradient") && !m.reads("scr") {
            let start_net = start.network(&arch).unwrap();
            assert!(
                mse <= start_net.mse(&data.x, &data.y).unwrap(),
                "{}",
                m.name
            );
        }
        if let Some(s) = run.stages[0].trace_as::<methods::ScrTrace>() {
            assert!(!s.iterations.is_empty());
        }
        // exact training proves its answer: the loss it claims is the network's
        if m.name == "milp" {
            let Some(c) = run.certificate_as::<MilpCertificate>() else {
                panic!("milp without a certificate")
            };
            assert!(c.certified, "{c:?}");
            let l1: f64 = net
                .forward(&data.x)
                .unwrap()
                .as_slice()
                .iter()
                .zip(data.y.as_slice())
                .map(|(a, b)| (a - b).abs())
                .sum();
            assert!((c.incumbent.unwrap() - l1).abs() <= 1e-9 * (1.0 + l1));
            assert!(c.lower_bound.unwrap() <= l1 + 1e-9);
        }
        // the same seed gives the same network
        let again = methods::run(
            trainer.as_ref(),
            &problem,
            &start,
            &mut Quiet,
            &Limits::none(),
        )
        .unwrap();
        assert_eq!(again.model, run.model, "{} is not reproducible", m.name);
    }
}

/// An observer that stops the run, and an interrupt raised before the run, end every iterative
/// method at once with the reason they give, keeping a network. (The perceptron's LPs, like the
/// MILP's search, are all or nothing: cut short, a node has no unit.)
#[test]
fn observers_and_interrupts_stop_every_iterative_method() {
    let (t, teacher_arch) = teacher();
    for m in METHODS
        .iter()
        .filter(|m| !matches!(m.name, "milp" | "perceptron"))
    {
        let trainer = trainer(m, &t.data);
        let (data, arch) = problem_of(trainer.as_ref(), &t, &teacher_arch);
        let problem = Problem::new(&data, &arch).unwrap();
        let start = Start::Random {
            scheme: m.default_scheme,
            seed: 1,
        };
        // the second report (a linear model's interior point may solve at its first)
        let linear = trainer.architecture(&data, Activation::Linear).is_some();
        let at = if linear { 1 } else { 2 };
        let mut calls = 0;
        let mut stop_at = |_: &Event<'_>| {
            calls += 1;
            (calls == at).then_some(Stop::StoppedByObserver)
        };
        let run = methods::run(
            trainer.as_ref(),
            &problem,
            &start,
            &mut stop_at,
            &Limits::none(),
        )
        .unwrap();
        assert_eq!(
            run.outcome.stop_reason,
            Stop::StoppedByObserver,
            "{}",
            m.name
        );
        assert_eq!(
            run.stages.len(),
            1,
            "{}: a stopped pipeline runs no second stage",
            m.name
        );
        assert!(run.model.is_some());
        let flag = Interrupt::new();
        flag.trigger();
        let limits = Limits {
            time_limit: None,
            interrupt: Some(flag),
        };
        let run = methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &limits).unwrap();
        assert_eq!(run.outcome.stop_reason, Stop::Interrupted, "{}", m.name);
        assert!(run.outcome.iterations <= 1, "{}", m.name);
        assert!(run.model.is_some());
    }
}

/// Exact training stops on the run's time limit, on an observer, and on an interrupt, keeping
/// its best network and its (uncertified) bound.
#[cfg(feature = "milp")]
#[test]
fn exact_training_stops_on_time_limit_observer_and_interrupt() {
    let arch = Architecture::parse("2-3-1", Activation::Linear).unwrap();
    let t = planted_teacher(&arch, 20, 2).unwrap();
    let data = cvxnn::data::with_label_noise(&t.data, 0.1, 2).unwrap();
    let problem = Problem::new(&data, &arch).unwrap();
    let trainer = methods::method("milp")
        .unwrap()
        .trainer(&Settings::new(), &Context::new(1, &data))
        .unwrap();
    let start = Start::Random {
        scheme: cvxnn::train::InitScheme::He,
        seed: 1,
    };
    let clock = std::time::Instant::now();
    let limits = Limits {
        time_limit: Some(1.0),
        interrupt: None,
    };
    let run = methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &limits).unwrap();
    assert_eq!(run.outcome.stop_reason, Stop::TimeLimit);
    assert!(clock.elapsed().as_secs_f64() < 3.0);
    let Some(c) = run.certificate_as::<MilpCertificate>() else {
        panic!("no certificate")
    };
    assert!(!c.certified && c.lower_bound.unwrap() < c.incumbent.unwrap());
    assert!(run
        .warnings
        .iter()
        .any(|w| w.contains("not proven optimal")));
    // an observer that stops at the first report of the branch and bound
    let mut first_node = |e: &Event<'_>| (e.method == "milp").then_some(Stop::StoppedByObserver);
    let run = methods::run(
        trainer.as_ref(),
        &problem,
        &start,
        &mut first_node,
        &Limits::none(),
    )
    .unwrap();
    assert_eq!(run.outcome.stop_reason, Stop::StoppedByObserver);
    assert!(run.model.is_some(), "the start network is the incumbent");
    let flag = Interrupt::new();
    flag.trigger();
    let limits = Limits {
        time_limit: None,
        interrupt: Some(flag),
    };
    let run = methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &limits).unwrap();
    assert_eq!(run.outcome.stop_reason, Stop::Interrupted);
}
