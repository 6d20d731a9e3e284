//! The one way to ask for a training run, whatever the front end: a [`RunRequest`] names the
//! data, the network, the method with its settings groups, the start and the limits, and
//! [`RunRequest::prepare`] checks it, fills in every default and builds what the run needs;
//! [`Prepared::run`] trains. The command line (flags or a TOML/JSON file), the Python package and
//! a report's embedded request all become one of these, so the same request gives the same
//! network from any of them (docs/requests.md).
//!
//! ```
//! use cvxnn::request::RunRequest;
//! let request = RunRequest::from_toml(r#"
//!     method = "lbfgs"
//!     seed = 3
//!     [data]
//!     teacher = "3-3-2"
//!     n = 30
//!     [gradient]
//!     max_iter = 300
//! "#).unwrap();
//! let trained = request.prepare(None).unwrap().run_quietly().unwrap();
//! // the resolved request says what ran: every default filled in
//! assert_eq!(trained.request.arch.as_deref(), Some("3-3-2"));
//! assert_eq!(trained.request.start.scheme, Some(cvxnn::train::InitScheme::He));
//! assert!(trained.run.outcome.loss.is_finite());
//! ```
//!
//! Settings are named by their key (`scr.lambda`, `convex.patterns`); every error about one
//! names it in backticks for the front end to respell ([`crate::error::respell`]).

mod compare;
mod fingerprint;
mod rerun;

pub use compare::{CompareData, CompareRequest, Comparison};
pub use fingerprint::{model_sha256, DataInfo};
pub use rerun::{rerun, RunCheck};

use crate::data::{self, Dataset, Scaling, Table, Targets, Teacher};
use crate::error::{Error, Result};
use crate::methods::{self, read_group, Context, Method, Run, Settings, Trainer};
use crate::model::{Columns, Model};
use crate::net::{Activation, Architecture, Network};
use crate::train::{InitScheme, Interrupt, Limits, Observer, Problem, Quiet, Start};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// The request's own keys; every other top-level key is a settings group.
const TOP_KEYS: &[&str] = &[
    "method",
    "data",
    "arch",
    "output",
    "standardize",
    "seed",
    "start",
    "time_limit",
];

/// One training run, as asked for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRequest {
    /// A method of the table (`scr`, `adam`, `convex`, …; default `scr`).
    pub method: String,
    pub data: DataSource,
    /// The network's widths `d-h₁-…-k`; `None`: the teacher's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The output layer's activation (also the teacher's): `linear` (default) or `relu`.
    pub output: Activation,
    /// Train on standardised data (the model keeps the map and predicts in the data's units).
    pub standardize: bool,
    /// The run's seed: the teacher's, and the default of every other seed (start, mini-batches,
    /// sampled gates, HiGHS). Default 1.
    pub seed: u64,
    pub start: StartSpec,
    /// Seconds for the whole run (every stage), keeping the best so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<f64>,
    /// The method's settings groups.
    #[serde(flatten)]
    pub settings: Settings,
}

/// Where the data come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DataSource {
    /// A CSV or `.npy` file, or a bundled set (iris, wine, breast_cancer, diabetes); the targets
    /// are the named columns, or the last k (k from `arch`).
    File {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<String>>,
    },
    /// A planted teacher of architecture `teacher` (seeded by the request's seed), `n` samples,
    /// Gaussian noise of standard deviation `noise` on its targets.
    Teacher {
        teacher: String,
        n: usize,
        noise: f64,
    },
    /// Arrays handed over with the request by a program (the Python package); `arrays` says
    /// what they were. A report records their fingerprint, not the numbers.
    Arrays { arrays: String },
}

/// The keys a `[data]` table may have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataKeys {
    file: Option<String>,
    targets: Option<Vec<String>>,
    teacher: Option<String>,
    n: Option<usize>,
    noise: Option<f64>,
    arrays: Option<String>,
}

impl DataSource {
    fn from_value(value: Value) -> Result<Self> {
        let k: DataKeys = read_group("data", value)?;
        let teacher_keys = [("data.n", k.n.is_some()), ("data.noise", k.noise.is_some())];
        match (k.file, k.teacher, k.arrays) {
            (Some(file), None, None) => {
                if let Some((key, _)) = teacher_keys.iter().find(|(_, given)| *given) {
                    return Err(Error::setting(*key, "applies to `data.teacher` only"));
                }
                Ok(DataSource::File {
                    file,
                    targets: k.targets,
                })
            }
            (None, Some(teacher), None) => {
                if k.targets.is_some() {
                    return Err(Error::setting(
                        "data.targets",
                        "applies to `data.file` only",
                    ));
                }
                Ok(DataSource::Teacher {
                    teacher,
                    n: k.n.unwrap_or(30),
                    noise: k.noise.unwrap_or(0.0),
                })
            }
            (None, None, Some(arrays)) => Ok(DataSource::Arrays { arrays }),
            _ => Err(Error::setting(
                "data",
                "needs exactly one of `data.file` (a data file or bundled set) and \
                 `data.teacher` (a planted teacher's architecture)",
            )),
        }
    }
}

/// Where the run starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StartSpec {
    pub init: Init,
    /// The random start's scheme (`None`: the method's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<InitScheme>,
    /// The random start's or the perturbation's seed (`None`: the request's seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The perturbation's σ (`perturbed`; default 0.05).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// The saved model to start from (`model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The kinds of start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// A seeded random draw (`start.scheme`, `start.seed`).
    #[default]
    Random,
    /// Every parameter zero.
    Zero,
    /// The teacher with N(0, σ²) noise on its weights (teacher data only).
    Perturbed,
    /// A saved model (`start.model`).
    Model,
}

impl Init {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("random", "A seeded random start (start seed, start scheme)"),
        ("zero", "All parameters zero"),
        (
            "perturbed",
            "The teacher with N(0, σ²) noise on its weights (needs a teacher)",
        ),
        ("model", "A saved model"),
    ];
}

impl RunRequest {
    /// A request from its table of keys (a parsed TOML or JSON file, or what a front end built).
    pub fn from_value(value: Value) -> Result<Self> {
        let Value::Object(mut map) = value else {
            return Err(Error::InvalidArgument(format!(
                "a run request is a table of keys, got {}",
                methods::kind(&value)
            )));
        };
        let mut take = |key: &str| map.remove(key);
        let method = match take("method") {
            Some(v) => read_group::<String>("method", v)?,
            None => "scr".to_string(),
        };
        let data = match take("data") {
            Some(v) => DataSource::from_value(v)?,
            None => {
                return Err(Error::setting(
                    "data",
                    "is required: `data.file` (a data file or bundled set) or `data.teacher`",
                ))
            }
        };
        let arch = take("arch").map(|v| read_group("arch", v)).transpose()?;
        let output = take("output")
            .map(|v| read_group("output", v))
            .transpose()?
            .unwrap_or(Activation::Linear);
        let standardize = take("standardize")
            .map(|v| read_group("standardize", v))
            .transpose()?
            .unwrap_or(false);
        let seed = take("seed")
            .map(|v| read_group("seed", v))
            .transpose()?
            .unwrap_or(1);
        let start = take("start")
            .map(|v| read_group("start", v))
            .transpose()?
            .unwrap_or_default();
        let time_limit = take("time_limit")
            .and_then(|v| (!v.is_null()).then_some(v))
            .map(|v| read_group("time_limit", v))
            .transpose()?;
        let mut settings = Settings::new();
        for (name, table) in map {
            if TOP_KEYS.contains(&name.as_str()) {
                continue;
            }
            if !methods::methods().iter().any(|m| m.reads(&name)) {
                return Err(Error::setting(
                    name,
                    format!(
                        "is not a key of a run request (its keys: {}; and the settings groups \
                         of the methods)",
                        TOP_KEYS.join(", ")
                    ),
                ));
            }
            settings.insert_table(&name, table)?;
        }
        Ok(Self {
            method,
            data,
            arch,
            output,
            standardize,
            seed,
            start,
            time_limit,
            settings,
        })
    }

    /// A request from TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::from_value(parse_toml(text)?)
    }

    /// A request from a `.toml` or `.json` file.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_value(load_table(path)?)
    }

    /// The request as a table of keys (what [`from_value`](Self::from_value) reads back).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a request serialises")
    }

    /// Checks the request and builds what the run needs: the data (read from the file, made by
    /// the teacher, or `arrays` for an `Arrays` source), the network, the method with its
    /// settings, the start. The prepared request has every default filled in.
    pub fn prepare(&self, arrays: Option<Dataset>) -> Result<Prepared> {
        let method = methods::method(&self.method)?;
        method.refuse_unread(&self.settings)?;
        if let Some(t) = self.time_limit {
            Limits {
                time_limit: Some(t),
                interrupt: None,
            }
            .validate()
            .map_err(|_| {
                Error::setting(
                    "time_limit",
                    format!("must be positive and finite (a time limit in seconds), got {t}"),
                )
            })?;
        }
        let (arch, data, teacher) = self.problem_data(arrays)?;
        let ctx = Context::new(self.seed, &data);
        let trainer = method.trainer(&self.settings, &ctx)?;
        let scaling = self
            .standardize
            .then(|| Scaling::fit(&data, trainer.target_scaling(arch.output)));
        let trained_on = match &scaling {
            Some(s) => s.apply(&data)?,
            None => data.clone(),
        };
        trainer.check(&Problem::new(&trained_on, &arch)?)?;
        let (start_spec, start) = self.start(method, &arch, teacher.as_ref())?;
        let request = RunRequest {
            method: self.method.clone(),
            data: self.data.clone(),
            arch: Some(arch.spec()),
            output: self.output,
            standardize: self.standardize,
            seed: self.seed,
            start: start_spec,
            time_limit: self.time_limit,
            settings: trainer.settings(),
        };
        let info = DataInfo::of(&data);
        Ok(Prepared {
            request,
            method,
            trainer,
            arch,
            data,
            scaling,
            trained_on,
            start,
            info,
        })
    }

    /// The network, the data in their own units, and the teacher if there is one.
    fn problem_data(
        &self,
        arrays: Option<Dataset>,
    ) -> Result<(Architecture, Dataset, Option<Teacher>)> {
        let parse = |spec: &str, key: &str| {
            Architecture::parse(spec, self.output).map_err(|e| Error::setting(key, e.to_string()))
        };
        match (&self.data, arrays) {
            (DataSource::Arrays { arrays }, None) => Err(Error::setting(
                "data.arrays",
                format!(
                    "names data a program handed over ({arrays}); give the same arrays again \
                     with the request"
                ),
            )),
            (DataSource::Arrays { .. }, Some(data)) => {
                let arch = self.arch_or_required(&parse)?;
                Ok((arch, data, None))
            }
            (_, Some(_)) => Err(Error::InvalidArgument(
                "arrays were given with a request whose data are a file or a teacher".into(),
            )),
            (DataSource::File { file, targets }, None) => {
                let arch = self.arch_or_required(&parse)?;
                let table = Table::load(Path::new(file))?;
                let which = match targets {
                    Some(names) => Targets::Names(names.clone()),
                    None => Targets::Last(arch.n_outputs()),
                };
                Ok((arch, table.dataset(&which)?, None))
            }
            (DataSource::Teacher { teacher, n, noise }, None) => {
                let tarch = parse(teacher, "data.teacher")?;
                let arch = match &self.arch {
                    Some(spec) => parse(spec, "arch")?,
                    None => tarch.clone(),
                };
                let mut t = data::planted_teacher(&tarch, *n, self.seed)?;
                t.data = data::with_label_noise(&t.data, *noise, self.seed)
                    .map_err(|e| Error::setting("data.noise", e.to_string()))?;
                Ok((arch, t.data.clone(), Some(t)))
            }
        }
    }

    fn arch_or_required(
        &self,
        parse: &impl Fn(&str, &str) -> Result<Architecture>,
    ) -> Result<Architecture> {
        match &self.arch {
            Some(spec) => parse(spec, "arch"),
            None => Err(Error::setting(
                "arch",
                "is required with data from a file (e.g. 3-3-2)",
            )),
        }
    }

    /// The start as the request resolves it (scheme, seed and σ filled in) and as training
    /// takes it.
    fn start(
        &self,
        method: &Method,
        arch: &Architecture,
        teacher: Option<&Teacher>,
    ) -> Result<(StartSpec, Start)> {
        let s = &self.start;
        let only = |given: bool, key: &str, kind: &str| {
            if given {
                Err(Error::setting(
                    key,
                    format!("applies to `start.init` {kind}"),
                ))
            } else {
                Ok(())
            }
        };
        only(
            s.sigma.is_some() && s.init != Init::Perturbed,
            "start.sigma",
            "perturbed",
        )?;
        only(
            s.model.is_some() && s.init != Init::Model,
            "start.model",
            "model",
        )?;
        only(
            s.scheme.is_some() && s.init != Init::Random,
            "start.scheme",
            "random",
        )?;
        let seed = s.seed.unwrap_or(self.seed);
        let mut resolved = StartSpec {
            init: s.init,
            ..Default::default()
        };
        let start = match s.init {
            Init::Zero => Start::Zero,
            Init::Random => {
                let scheme = s.scheme.unwrap_or(method.default_scheme);
                resolved.scheme = Some(scheme);
                resolved.seed = Some(seed);
                Start::Random { scheme, seed }
            }
            Init::Perturbed => {
                let Some(t) = teacher else {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed needs a known teacher: data from `data.teacher`",
                    ));
                };
                if t.model.arch.widths != arch.widths {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed needs `arch` equal to the teacher's",
                    ));
                }
                if self.standardize {
                    return Err(Error::setting(
                        "start.init",
                        "perturbed starts from the teacher's weights, in the data's units: it \
                         cannot train on standardised data (`standardize`)",
                    ));
                }
                let sigma = s.sigma.unwrap_or(0.05);
                resolved.seed = Some(seed);
                resolved.sigma = Some(sigma);
                perturbed(t, sigma, seed)?
            }
            Init::Model => {
                let Some(path) = &s.model else {
                    return Err(Error::setting(
                        "start.model",
                        "is required by `start.init` model (a saved model's path)",
                    ));
                };
                resolved.model = Some(path.clone());
                let Network::Mlp(model) = Model::load(Path::new(path))?.network else {
                    return Err(Error::setting(
                        "start.model",
                        format!("{path}: a threshold network cannot start training"),
                    ));
                };
                Start::Model {
                    model,
                    label: "model".into(),
                    detail: format!("the model in {path}"),
                }
            }
        };
        Ok((resolved, start))
    }
}

/// The perturbed start: the teacher with N(0, σ²) noise on every weight (noise seed `seed + 1000`).
pub fn perturbed(teacher: &Teacher, sigma: f64, seed: u64) -> Result<Start> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(Error::setting(
            "start.sigma",
            format!("must be nonnegative and finite, got {sigma}"),
        ));
    }
    let noise_seed = seed.wrapping_add(1000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(noise_seed);
    Ok(Start::Model {
        model: teacher.model.perturbed(sigma, &mut rng),
        label: "perturbed".into(),
        detail: format!(
            "the teacher with N(0, {sigma}²) noise on its weights, noise seed {noise_seed}"
        ),
    })
}

/// A checked request with everything its run needs.
pub struct Prepared {
    /// The request with every default filled in: what the report embeds.
    pub request: RunRequest,
    pub method: &'static Method,
    pub trainer: Box<dyn Trainer>,
    pub arch: Architecture,
    /// The data in their own units.
    pub data: Dataset,
    /// The standardisation the run trains under (`standardize`).
    pub scaling: Option<Scaling>,
    /// The data the run trains on (standardised or not).
    pub trained_on: Dataset,
    pub start: Start,
    /// The data's shape, columns and content hash.
    pub info: DataInfo,
}

/// A finished run with what it was asked to do.
#[derive(Clone, Debug)]
pub struct Trained {
    pub request: RunRequest,
    pub data: DataInfo,
    pub run: Run,
    /// The trained network with its columns and standardisation (`None` when exact training found
    /// none).
    pub model: Option<Model>,
}

impl Trained {
    /// The content hash of the model's file (`None` without a model).
    pub fn model_sha256(&self) -> Option<String> {
        self.model.as_ref().map(model_sha256)
    }
}

impl Prepared {
    /// Trains under `observer`, within the request's time limit, until `interrupt` (if given)
    /// is triggered.
    pub fn run(
        &self,
        observer: &mut dyn Observer,
        interrupt: Option<Interrupt>,
    ) -> Result<Trained> {
        let limits = Limits {
            time_limit: self.request.time_limit,
            interrupt,
        };
        let problem = Problem::new(&self.trained_on, &self.arch)?;
        let run = methods::run(
            self.trainer.as_ref(),
            &problem,
            &self.start,
            observer,
            &limits,
        )?;
        let model = run
            .model
            .as_ref()
            .map(|net| {
                let columns = Columns {
                    inputs: self.data.input_names.clone(),
                    targets: self.data.target_names.clone(),
                };
                Model::new(net.clone(), columns, self.scaling.clone())
            })
            .transpose()?;
        Ok(Trained {
            request: self.request.clone(),
            data: self.info.clone(),
            run,
            model,
        })
    }

    /// [`run`](Self::run) with no observer and no interrupt.
    pub fn run_quietly(&self) -> Result<Trained> {
        self.run(&mut Quiet, None)
    }
}

/// Runs `request` (on `arrays` for an `Arrays` source): prepare, then train.
pub fn run(
    request: &RunRequest,
    arrays: Option<Dataset>,
    observer: &mut dyn Observer,
    interrupt: Option<Interrupt>,
) -> Result<Trained> {
    request.prepare(arrays)?.run(observer, interrupt)
}

/// TOML text as a table of keys.
pub fn parse_toml(text: &str) -> Result<Value> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| Error::InvalidArgument(format!("not a TOML request: {e}")))?;
    serde_json::to_value(table)
        .map_err(|e| Error::InvalidArgument(format!("not a TOML request: {e}")))
}

/// A `.toml` or `.json` file as a table of keys (by its extension; JSON otherwise).
pub fn load_table(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if toml {
        parse_toml(&text).map_err(|e| Error::parse(path, e.to_string()))
    } else {
        serde_json::from_str(&text).map_err(|e| Error::parse(path, format!("not JSON: {e}")))
    }
}

/// `over`'s keys written over `base`'s, tables merged key by key (a flag over a request file).
pub fn overlay(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => overlay(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Sets `key` (`a.b` for key b of table a) in a table of keys.
pub fn set_key(table: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        Some((group, rest)) => {
            let slot = table
                .entry(group.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                set_key(inner, rest, value);
            }
        }
        None => {
            table.insert(key.to_string(), value);
        }
    }
}
