//! A method is one file and one table row: this file adds a toy method from outside the crate —
//! its settings group, its trace and its certificate, all its own — registers it with one call,
//! and then trains it from a request, compares it with a built-in method, reports and reruns it,
//! all through the library's ordinary front doors.
//!
//! The toy: random search over the scale of the start network. Trial t multiplies every weight
//! and bias of the start by a scale drawn log-uniformly from `[scale_min, scale_max]` (seeded),
//! and the run keeps the scaled network of lowest mean squared error.

use cvxnn::compare::CompareRow;
use cvxnn::methods::{
    self, Certificate, Context, Family, Line, Method, Run, Settings, Stage, StageSummary, Trace,
    Trainer,
};
use cvxnn::net::{Mlp, Network};
use cvxnn::report::Report;
use cvxnn::request::{CompareRequest, RunRequest};
use cvxnn::train::{InitScheme, Monitor, Problem, Start, Stop};
use cvxnn::{Error, Result};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Once;

/// The settings group `toy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ToyGroup {
    trials: usize,
    scale_min: f64,
    scale_max: f64,
    /// Seed of the scales (`None`: the run's).
    seed: Option<u64>,
}

impl Default for ToyGroup {
    fn default() -> Self {
        Self {
            trials: 20,
            scale_min: 0.1,
            scale_max: 10.0,
            seed: None,
        }
    }
}

/// Every trial's scale and loss.
#[derive(Clone, Debug, Serialize)]
struct ToyTrace {
    scales: Vec<f64>,
    losses: Vec<f64>,
    stop_reason: Stop,
    seconds: f64,
}

impl Trace for ToyTrace {
    fn summary(&self) -> StageSummary {
        StageSummary::new(self.losses.len(), self.stop_reason, self.seconds)
    }

    fn lines(&self, offset: f64) -> Vec<Line> {
        let points = (0..self.losses.len())
            .map(|t| (offset + t as f64, self.losses[t]))
            .collect();
        vec![Line::new("trial loss (toy)", "", points)]
    }
}

/// What the toy proves: its network is the best of the scales it tried, by arithmetic.
#[derive(Clone, Debug, Serialize)]
struct ToyCertificate {
    trials: usize,
    best_loss: f64,
}

impl Certificate for ToyCertificate {
    fn kind(&self) -> &str {
        "toy"
    }

    fn describe(&self) -> String {
        format!("best of {} scales", self.trials)
    }

    fn certified(&self) -> bool {
        true
    }
}

struct Toy {
    group: ToyGroup,
}

impl Trainer for Toy {
    fn name(&self) -> &str {
        "toy-scale"
    }

    fn settings(&self) -> Settings {
        Settings::of("toy", &self.group)
    }

    fn check(&self, _: &Problem) -> Result<()> {
        let g = &self.group;
        if g.trials == 0 {
            return Err(Error::setting("toy.trials", "must be at least 1"));
        }
        if !(0.0 < g.scale_min && g.scale_min <= g.scale_max && g.scale_max.is_finite()) {
            return Err(Error::setting(
                "toy.scale_min",
                "must be positive and at most `toy.scale_max`",
            ));
        }
        Ok(())
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let g = &self.group;
        let base = start.network(problem.arch)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(g.seed.unwrap_or(0));
        let (lo, hi) = (g.scale_min.ln(), g.scale_max.ln());
        let mut trace = ToyTrace {
            scales: Vec::new(),
            losses: Vec::new(),
            stop_reason: Stop::IterationLimit,
            seconds: 0.0,
        };
        let mut best: Option<(Mlp, f64)> = None;
        for t in 0..g.trials {
            let scale = (lo + (hi - lo) * rng.random::<f64>()).exp();
            let mut net = base.clone();
            for w in &mut net.weights {
                w.as_mut_slice().iter_mut().for_each(|v| *v *= scale);
            }
            net.biases.iter_mut().flatten().for_each(|v| *v *= scale);
            let loss = net.mse(&problem.data.x, &problem.data.y)?;
            trace.scales.push(scale);
            trace.losses.push(loss);
            if best.as_ref().is_none_or(|(_, b)| loss < *b) {
                best = Some((net, loss));
            }
            let err = (loss / 2.0).sqrt();
            if let Some(stop) = monitor.iteration("toy-scale", t + 1, Some(g.trials), err, &"") {
                trace.stop_reason = stop;
                break;
            }
        }
        let (net, best_loss) = best.expect("at least one trial ran");
        let trials = trace.losses.len();
        trace.seconds = monitor.budget().elapsed();
        let mut run = Run::new(
            "toy-scale",
            start,
            start.detail(),
            Some(Network::Mlp(net)),
            problem,
            vec![Stage::new("toy-scale", trace)],
            monitor.budget().elapsed(),
        )?;
        run.certificate = Some(std::sync::Arc::new(ToyCertificate { trials, best_loss }));
        Ok(run)
    }
}

/// Its one row.
fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        methods::register(Method {
            name: "toy-scale",
            family: Family::Network,
            help: "Random search over the scale of the start network (a test's toy)",
            groups: &["toy"],
            default_scheme: InitScheme::He,
            make: |s: &Settings, ctx: &Context| {
                let mut group: ToyGroup = s.group("toy")?;
                group.seed = Some(group.seed.unwrap_or(ctx.seed));
                Ok(Box::new(Toy { group }))
            },
        })
        .unwrap();
    });
}

fn request(extra: &str) -> RunRequest {
    RunRequest::from_toml(&format!(
        "method = \"toy-scale\"\nseed = 4\n[data]\nteacher = \"3-3-2\"\nn = 25\n{extra}"
    ))
    .unwrap()
}

#[test]
fn the_toy_trains_from_a_request_with_its_own_settings_trace_and_certificate() {
    register();
    let prepared = request("[toy]\ntrials = 12\n").prepare(None).unwrap();
    // every default resolved, the run's seed among them
    let toy: ToyGroup = prepared.request.settings.group("toy").unwrap();
    assert_eq!(
        toy,
        ToyGroup {
            trials: 12,
            seed: Some(4),
            ..ToyGroup::default()
        }
    );
    assert_eq!(prepared.request.start.scheme, Some(InitScheme::He));
    let trained = prepared.run_quietly().unwrap();
    let run = &trained.run;
    assert_eq!(run.method, "toy-scale");
    let trace = run.stages[0]
        .trace_as::<ToyTrace>()
        .expect("the toy's trace");
    assert_eq!(trace.losses.len(), 12);
    // the network is the best trial's, and the record's figures are its own
    let best = trace.losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(run.outcome.loss, best);
    let cert = run
        .certificate_as::<ToyCertificate>()
        .expect("the toy's certificate");
    assert_eq!((cert.trials, cert.best_loss), (12, best));
    // the record and the report show them in the toy's own words
    let report = Report::new(&prepared, vec![trained.clone()]);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["settings"]["toy"]["trials"], 12);
    assert_eq!(json["runs"][0]["stages"][0]["method"], "toy-scale");
    assert_eq!(
        json["runs"][0]["stages"][0]["losses"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(json["runs"][0]["certificate"]["kind"], "toy");
    assert_eq!(json["runs"][0]["request"]["toy"]["seed"], 4);
    assert!(report.plot().contains("trial loss (toy)"));
    // and the report reruns bit for bit
    let path = std::env::temp_dir().join(format!("cvxnn-toy-{}.json", std::process::id()));
    report.save(&path).unwrap();
    let checks =
        cvxnn::request::rerun(&path, &mut |_, _| Box::new(cvxnn::train::Quiet), None).unwrap();
    assert!(checks[0].identical(), "{:?}", checks[0].differences);
    std::fs::remove_file(path).ok();
}

#[test]
fn the_toy_takes_its_place_in_a_comparison() {
    register();
    let text = r#"
        methods = ["lbfgs", "toy-scale"]
        arch = "3-3-2"
        starts = 2
        data = { teachers = 2, n = 20 }
        toy = { trials = 5 }
        gradient = { max_iter = 50 }
    "#;
    let request = CompareRequest::from_value(cvxnn::request::parse_toml(text).unwrap()).unwrap();
    let c = request.prepare(None).unwrap();
    let rows: Vec<CompareRow> = c.run_all(2, None, &|_, _| {}).unwrap();
    assert_eq!(rows.len(), 2 * 2 * 2);
    let toy: Vec<&CompareRow> = rows.iter().filter(|r| r.method == "toy-scale").collect();
    assert_eq!(toy.len(), 4);
    for r in &toy {
        assert!(r.error.is_none() && r.loss.is_finite(), "{r:?}");
        assert_eq!(r.certificate.as_ref().unwrap().kind(), "toy");
        assert_eq!(r.iterations, 5);
    }
    // the same seeds for every method: the toy scales the same He start lbfgs starts from
    assert_eq!(
        toy.iter().map(|r| r.init_seed).collect::<Vec<_>>(),
        rows.iter()
            .filter(|r| r.method == "lbfgs")
            .map(|r| r.init_seed)
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_toy_refuses_its_own_bad_settings_by_key_and_its_name_is_taken() {
    register();
    let e = request("[toy]\ntrails = 3\n").prepare(None).err().unwrap();
    assert!(
        e.to_string().starts_with("`toy.trails` is not a setting"),
        "{e}"
    );
    let e = request("[toy]\ntrials = 0\n").prepare(None).err().unwrap();
    assert_eq!(e.to_string(), "`toy.trials` must be at least 1");
    // a group of no method is not a request's key; a built-in method does not read the toy's
    let e = RunRequest::from_toml(
        "method = \"adam\"\n[data]\nteacher = \"3-3-2\"\n[toy]\ntrials = 2\n",
    )
    .unwrap()
    .prepare(None)
    .err()
    .unwrap();
    assert!(e.to_string().contains("is not read by method adam"), "{e}");
    let again = methods::register(Method {
        name: "toy-scale",
        family: Family::Network,
        help: "",
        groups: &[],
        default_scheme: InitScheme::He,
        make: |_, _| Err(Error::InvalidArgument("never built".into())),
    });
    assert!(again.is_err());
}
