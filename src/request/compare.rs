//! The request of a comparison: several methods of the table on the same problems (K seeded
//! teachers, a data file, or arrays a program hands over) from the same seeded starts. Like a
//! [`RunRequest`](super::RunRequest), every front end translates into it and
//! [`CompareRequest::prepare`] checks it and fills in its defaults.

use crate::compare::{self, Case, Entry, Plan, ScrStart};
use crate::data::{self, Dataset, Table, Targets};
use crate::error::{Error, Result};
use crate::methods::{self, read_group, Context, Convex, Milp, Settings};
use crate::net::{Activation, Architecture};
use crate::train::{InitScheme, Interrupt, Limits, Problem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// A comparison, as asked for. Keys other than these are settings groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareRequest {
    /// Methods of the table, each at most once.
    pub methods: Vec<String>,
    pub data: CompareData,
    /// The trained networks' widths (and the teachers').
    pub arch: String,
    #[serde(default = "linear")]
    pub output: Activation,
    /// The first teacher's seed, the default base of the start seeds, and the default of every
    /// method's own seeds.
    #[serde(default = "one")]
    pub seed: u64,
    /// Base of the start seeds (`None`: `seed`).
    #[serde(default)]
    pub init_seed: Option<u64>,
    /// Every method's random start scheme (`None`: each method's own).
    #[serde(default)]
    pub init_scheme: Option<InitScheme>,
    /// SCR's start (`None`: `init_scheme`, else Gaussian parameters).
    #[serde(default)]
    pub scr_start: Option<ScrStart>,
    /// Random starts per problem (every method gets the same seeds).
    #[serde(default = "one_usize")]
    pub starts: usize,
    /// Attempts per start; a row reports the best.
    #[serde(default = "one_usize")]
    pub restarts: usize,
    /// Seconds per attempt.
    #[serde(default)]
    pub time_limit: Option<f64>,
    /// β: every row is scored on the weight-decay objective against each problem's convex
    /// optimum, and the methods that take a weight decay train with it (unless their settings
    /// give one).
    #[serde(default)]
    pub weight_decay: Option<f64>,
    /// With `weight_decay`, on problems whose convex optimum is not global: seconds for the
    /// global lower bound certified from the best run's network (0: none).
    #[serde(default = "bound_seconds")]
    pub bound_time: f64,
    /// Also train each problem exactly (MILP, `milp.weight_bound`) and set every run's L1 loss
    /// against the certified optimum.
    #[serde(default)]
    pub global_optimum: bool,
    #[serde(flatten)]
    pub settings: Settings,
}

/// The global bound's default search time per problem: on the bench's 2-D and 3-D problems it
/// proves its bound in 0.1–2 s; in more dimensions it stops here with a looser (still valid)
/// bound (docs/global.md §4).
fn bound_seconds() -> f64 {
    10.0
}
fn linear() -> Activation {
    Activation::Linear
}
fn one() -> u64 {
    1
}
fn one_usize() -> usize {
    1
}

/// The problems of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "CompareDataKeys")]
pub enum CompareData {
    /// K planted teachers of `arch` with seeds `seed`, `seed + 1`, …, each with noise of
    /// standard deviation `noise` on its targets (seeded by its own seed).
    Teachers {
        teachers: usize,
        n: usize,
        noise: f64,
    },
    /// One data file (or bundled set).
    File {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<String>>,
    },
    /// Arrays a program hands over, one problem per name.
    Arrays { arrays: Vec<String> },
}

/// The keys a comparison's `[data]` table may have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareDataKeys {
    teachers: Option<usize>,
    n: Option<usize>,
    noise: Option<f64>,
    file: Option<String>,
    targets: Option<Vec<String>>,
    arrays: Option<Vec<String>>,
}

impl TryFrom<CompareDataKeys> for CompareData {
    type Error = String;
    fn try_from(k: CompareDataKeys) -> std::result::Result<Self, String> {
        let teacher_keys = k.n.is_some() || k.noise.is_some();
        match (k.teachers, k.file, k.arrays) {
            (Some(teachers), None, None) if k.targets.is_none() => Ok(CompareData::Teachers {
                teachers,
                n: k.n.unwrap_or(30),
                noise: k.noise.unwrap_or(0.0),
            }),
            (None, Some(file), None) if !teacher_keys => Ok(CompareData::File {
                file,
                targets: k.targets,
            }),
            (None, None, Some(arrays)) if !teacher_keys && k.targets.is_none() => {
                Ok(CompareData::Arrays { arrays })
            }
            _ => Err(
                "takes `teachers` (with `n`, `noise`), `file` (with `targets`), or \
                      `arrays`, one of them"
                    .into(),
            ),
        }
    }
}

/// A checked comparison with what its runs need.
pub struct Comparison {
    /// The request with its defaults filled in (`convex.patterns = "auto"` decided by the
    /// largest problem).
    pub request: CompareRequest,
    pub arch: Architecture,
    pub cases: Vec<Case>,
    pub entries: Vec<Entry>,
    pub plan: Plan,
    /// `global_optimum`'s exact trainer.
    pub optimum: Option<Milp>,
    /// `weight_decay`'s convex model on two-layer networks.
    pub convex: Option<Convex>,
}

impl CompareRequest {
    /// A request from its table of keys; a settings group that is not a method's is refused.
    pub fn from_value(value: Value) -> Result<Self> {
        let r: CompareRequest = read_group("", value)?;
        for name in r.settings.names() {
            if !methods::methods().iter().any(|m| m.reads(name)) {
                return Err(Error::setting(
                    name,
                    "is not a key of a comparison request, nor a methods' settings group",
                ));
            }
        }
        Ok(r)
    }

    /// A request from a `.toml` or `.json` file.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_value(super::load_table(path)?)
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a request serialises")
    }

    /// Checks the request, builds its problems (`arrays` for `Arrays` data, one per name) and
    /// methods, and fills in its defaults.
    pub fn prepare(&self, arrays: Option<Vec<Dataset>>) -> Result<Comparison> {
        let mut request = self.clone();
        if request.starts == 0 || request.restarts == 0 {
            return Err(Error::setting(
                if request.starts == 0 {
                    "starts"
                } else {
                    "restarts"
                },
                "must be at least 1",
            ));
        }
        let mut chosen: Vec<&'static methods::Method> = Vec::new();
        for name in &request.methods {
            let m = methods::method(name)?;
            if chosen.iter().any(|c| c.name == m.name) {
                return Err(Error::setting("methods", format!("lists {name} twice")));
            }
            chosen.push(m);
        }
        if chosen.is_empty() {
            return Err(Error::setting("methods", "needs at least one method"));
        }
        let names: Vec<&str> = chosen.iter().map(|m| m.name).collect();
        request.settings.refuse_unread(
            // the optima read their groups too: the MILP's, and with a weight decay the convex
            |g| {
                chosen.iter().any(|m| m.reads(g))
                    || (g == "milp" && request.global_optimum)
                    || (g == "convex" && request.weight_decay.is_some())
            },
            &names.join(", "),
        )?;
        Limits {
            time_limit: request.time_limit,
            interrupt: None,
        }
        .validate()
        .map_err(|_| {
            Error::setting(
                "time_limit",
                "must be positive and finite (a time limit in seconds per attempt)",
            )
        })?;
        if !(request.bound_time.is_finite() && request.bound_time >= 0.0) {
            return Err(Error::setting(
                "bound_time",
                format!(
                    "must be a finite number of seconds, at least 0, got {}",
                    request.bound_time
                ),
            ));
        }
        let arch = Architecture::parse(&request.arch, request.output)
            .map_err(|e| Error::setting("arch", e.to_string()))?;
        let cases = request.cases(&arch, arrays)?;
        // the methods that take a weight decay train on the objective every row is scored on
        if let Some(beta) = request.weight_decay {
            for key in ["gradient.weight_decay", "convex.weight_decay"] {
                let group = key.split('.').next().unwrap_or_default();
                let read = chosen.iter().any(|m| m.reads(group));
                if read && request.settings.get(key).is_none() {
                    request.settings.set(key, beta.into())?;
                }
            }
        }
        // `auto` patterns: decided once, by the largest problem, so that every task (wherever it
        // runs) solves the same program
        let largest = Context {
            seed: request.seed,
            n_samples: cases.iter().map(|c| c.data.n_samples()).max().unwrap_or(0),
            n_inputs: arch.n_inputs(),
        };
        if chosen.iter().any(|m| m.reads("convex")) {
            let convex = Convex::new(&request.settings, &largest)?;
            let resolved = convex_only(&methods::Trainer::settings(&convex));
            request.settings = request.settings.clone().merge(resolved);
        }
        // every row is scored on the squared loss (its MSE, its weight-decay objective)
        for (group, key) in [("convex", "convex.loss"), ("gradient", "gradient.loss")] {
            let loss = request.settings.get(key).and_then(|v| v.as_str());
            if let Some(loss) = loss.filter(|l| *l != "squared") {
                if chosen.iter().any(|m| m.reads(group)) {
                    return Err(Error::setting(
                        key,
                        format!(
                            "{loss} is refused: a comparison scores every method on the squared \
                             loss"
                        ),
                    ));
                }
            }
        }
        let entries = chosen
            .iter()
            .map(|&m| {
                Ok(Entry {
                    method: m,
                    trainer: m.trainer(&request.settings, &largest)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let convex = match request.weight_decay {
            Some(beta) if arch.widths.len() == 3 && arch.output == Activation::Linear => {
                let mut s = request.settings.clone();
                s.retain(|g| g == "convex");
                s.set("convex.weight_decay", beta.into())?;
                // the optimum every row is set against: enumerated where that fits, else
                // sampled gates (with the global bound beside them), unless the request says
                if s.get("convex.patterns").is_none() && s.get("convex.gates").is_none() {
                    s.set("convex.patterns", "auto".into())?;
                }
                Some(Convex::new(&s, &largest)?)
            }
            _ => None,
        };
        let optimum = request.global_optimum.then(|| {
            let bound = request
                .settings
                .group::<methods::MilpGroup>("milp")
                .map_or(10.0, |g| g.weight_bound);
            compare::optimum_trainer(bound, request.time_limit.unwrap_or(60.0), request.seed)
        });
        for case in &cases {
            let p = Problem::new(&case.data, &arch)?;
            for e in &entries {
                e.trainer.check(&p)?;
            }
            if let Some(t) = &convex {
                methods::Trainer::check(t, &p)
                    .map_err(|e| Error::InvalidArgument(format!("the convex optimum: {e}")))?;
            }
            if let Some(t) = &optimum {
                methods::Trainer::check(t, &p)
                    .map_err(|e| Error::InvalidArgument(format!("the global optimum: {e}")))?;
            }
        }
        request.init_seed = Some(request.init_seed.unwrap_or(request.seed));
        let plan = Plan {
            starts: request.starts,
            restarts: request.restarts,
            seed: request.init_seed.unwrap_or(request.seed),
            init_scheme: request.init_scheme,
            scr_start: request.scr_start,
            time_limit: request.time_limit,
            weight_decay: request.weight_decay,
            interrupt: None,
        };
        Ok(Comparison {
            request,
            arch,
            cases,
            entries,
            plan,
            optimum,
            convex,
        })
    }

    /// The problems.
    fn cases(&self, arch: &Architecture, arrays: Option<Vec<Dataset>>) -> Result<Vec<Case>> {
        match (&self.data, arrays) {
            (CompareData::Arrays { arrays: names }, Some(data)) => {
                if names.len() != data.len() {
                    return Err(Error::setting(
                        "data.arrays",
                        format!("names {} problems, {} were given", names.len(), data.len()),
                    ));
                }
                if data.is_empty() {
                    return Err(Error::setting("data.arrays", "needs at least one problem"));
                }
                Ok(names
                    .iter()
                    .zip(data)
                    .map(|(name, data)| Case {
                        name: name.clone(),
                        teacher_seed: None,
                        data,
                    })
                    .collect())
            }
            (CompareData::Arrays { .. }, None) => Err(Error::setting(
                "data.arrays",
                "names problems a program hands over; give them with the request",
            )),
            (_, Some(_)) => Err(Error::InvalidArgument(
                "arrays were given with a comparison whose data are a file or teachers".into(),
            )),
            (CompareData::File { file, targets }, None) => {
                let which = match targets {
                    Some(names) => Targets::Names(names.clone()),
                    None => Targets::Last(arch.n_outputs()),
                };
                Ok(vec![Case {
                    name: file.clone(),
                    teacher_seed: None,
                    data: Table::load(Path::new(file))?.dataset(&which)?,
                }])
            }
            (CompareData::Teachers { teachers, n, noise }, None) => {
                if *teachers == 0 {
                    return Err(Error::setting("data.teachers", "must be at least 1"));
                }
                (0..*teachers as u64)
                    .map(|i| {
                        let seed = self.seed + i;
                        let t = data::planted_teacher(arch, *n, seed)?;
                        Ok(Case {
                            name: format!("teacher seed {seed}"),
                            teacher_seed: Some(seed),
                            data: data::with_label_noise(&t.data, *noise, seed)
                                .map_err(|e| Error::setting("data.noise", e.to_string()))?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// What is compared, in a few words: `5 teachers 3-3-2, N = 30`.
    pub fn describe(&self) -> String {
        match &self.data {
            CompareData::Teachers { teachers, n, .. } => {
                format!("{teachers} teachers {}, N = {n}", self.arch)
            }
            CompareData::File { file, .. } => format!("{} on {file}", self.arch),
            CompareData::Arrays { arrays } => {
                format!(
                    "{} on {} problem(s) given as arrays",
                    self.arch,
                    arrays.len()
                )
            }
        }
    }
}

/// Only the `convex` group of `settings`.
fn convex_only(settings: &Settings) -> Settings {
    let mut s = settings.clone();
    s.retain(|g| g == "convex");
    s
}

impl Comparison {
    /// Every method on every problem from every start, on `jobs` threads (rows in a fixed order
    /// whatever the count); `progress` sees each run finish. After `interrupt`, only the rows of
    /// runs that started.
    pub fn run_all(
        &self,
        jobs: usize,
        interrupt: Option<Interrupt>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<compare::CompareRow>> {
        let plan = Plan {
            interrupt,
            ..self.plan.clone()
        };
        compare::run_all(
            &self.arch,
            &self.entries,
            &self.cases,
            &plan,
            jobs,
            progress,
        )
    }

    /// One row: method `method` on case `case` (number `index` among the comparison's problems,
    /// which seeds its starts) from start `start`.
    pub fn row(
        &self,
        index: usize,
        case: usize,
        start: usize,
        method: usize,
    ) -> Result<compare::CompareRow> {
        let entry = self.entries.get(method).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "method index {method} out of {} method(s)",
                self.entries.len()
            ))
        })?;
        let case = self
            .cases
            .get(case)
            .ok_or_else(|| Error::InvalidArgument(format!("no problem {case}")))?;
        Ok(compare::run_task(
            &self.arch, entry, case, index, start, &self.plan,
        ))
    }
}
