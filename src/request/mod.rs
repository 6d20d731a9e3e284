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
mod data;
mod fingerprint;
mod rerun;
mod start;

pub use compare::{CompareData, CompareRequest, Comparison};
pub use data::{distinct, Data, DataSource, MAX_CLASSES};
pub use fingerprint::{model_sha256, DataInfo};
pub use rerun::{rerun, RunCheck};
pub use start::{perturbed, Init, StartSpec};

use crate::data::{Dataset, Scaling};
use crate::error::{Error, Result};
use crate::methods::{self, read_group, Context, Method, Metrics, Run, Settings, Trainer};
use crate::model::Model;
use crate::net::{Activation, Architecture, Mlp};
use crate::train::{Interrupt, Limits, Observer, Problem, Quiet, Start};
use serde::Serialize;
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
    "threads",
];

/// One training run, as asked for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRequest {
    /// A method of the table (`scr`, `adam`, `convex`, …; default `scr`).
    pub method: String,
    pub data: Data,
    /// The network's widths `d-h₁-…-k`; `None`: a linear model's own (d-k), else the teacher's.
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
    /// Threads of every kernel of the run (`None`: every core): the gradient passes, the
    /// products, SCR's ADMM and the convex solvers, unless their own settings say otherwise. The
    /// trained model does not depend on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The method's settings groups.
    #[serde(flatten)]
    pub settings: Settings,
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
            Some(v) => Data::from_value(v)?,
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
        let threads = take("threads")
            .and_then(|v| (!v.is_null()).then_some(v))
            .map(|v| read_group("threads", v))
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
            threads,
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
    /// the teacher, or `arrays` for an `Arrays` source, then their classes encoded and the test
    /// part held out), the network, the method with its settings, the start. The prepared
    /// request has every default filled in.
    pub fn prepare(&self, arrays: Option<Dataset>) -> Result<Prepared> {
        let method = methods::method(&self.method)?;
        method.refuse_unread(&self.settings)?;
        if self.threads == Some(0) {
            return Err(Error::setting("threads", "must be at least 1"));
        }
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
        let given = self
            .arch
            .as_deref()
            .map(|spec| {
                Architecture::parse(spec, self.output)
                    .map_err(|e| Error::setting("arch", e.to_string()))
            })
            .transpose()?;
        // class labels are one column, whatever the network's outputs (one per class)
        let outputs = match &given {
            Some(arch) if !self.data.classes => arch.n_outputs(),
            _ => 1,
        };
        let (loaded, teacher) = match self.data.load(arrays, outputs, self.output, self.seed) {
            // without `arch` a file is read with one target column; say what is missing
            Err(e)
                if given.is_none() && !matches!(self.data.source, DataSource::Teacher { .. }) =>
            {
                return Err(Error::setting(
                    "arch",
                    format!(
                        "is required with data from a file (e.g. 3-3-2), or the targets named \
                         (`data.targets`); read with one target column, the data gave: {e}"
                    ),
                ))
            }
            loaded => loaded?,
        };
        let info = DataInfo::of(&loaded);
        let parts = self.data.prepare(loaded, self.seed)?;
        let data = parts.train;
        let ctx = Context::new(self.seed, &data);
        let trainer = method.trainer(&self.settings, &ctx)?;
        // the network: as asked, else the method's own (a linear model), else the teacher's
        let arch = match (given, trainer.architecture(&data, self.output), &teacher) {
            (Some(arch), _, _) | (None, Some(arch), _) => arch,
            (None, None, Some(t)) => t.model.arch.clone(),
            (None, None, None) => {
                return Err(Error::setting(
                    "arch",
                    "is required with data from a file or arrays (e.g. 3-3-2)",
                ))
            }
        };
        let scaling = self
            .standardize
            .then(|| Scaling::fit(&data, trainer.target_scaling(arch.output)));
        let scaled = |d: &Dataset| match &scaling {
            Some(s) => s.apply(d),
            None => Ok(d.clone()),
        };
        let trained_on = scaled(&data)?;
        let test = parts.test.as_ref().map(scaled).transpose()?;
        trainer.check(&Problem::new(&trained_on, &arch)?)?;
        let (start_spec, start) = self.start.resolve(
            method,
            &arch,
            teacher.as_ref(),
            (self.seed, self.standardize),
        )?;
        let request = RunRequest {
            method: self.method.clone(),
            data: self.data.resolved(self.seed),
            arch: Some(arch.spec()),
            output: self.output,
            standardize: self.standardize,
            seed: self.seed,
            start: start_spec,
            time_limit: self.time_limit,
            threads: self.threads,
            settings: trainer.settings(),
        };
        Ok(Prepared {
            request,
            method,
            trainer,
            arch,
            data,
            scaling,
            trained_on,
            test,
            classes: parts.classes,
            start,
            info,
        })
    }
}

/// A checked request with everything its run needs.
pub struct Prepared {
    /// The request with every default filled in: what the report embeds.
    pub request: RunRequest,
    pub method: &'static Method,
    pub trainer: Box<dyn Trainer>,
    pub arch: Architecture,
    /// The training data in their own units (classes encoded, the test part held out).
    pub data: Dataset,
    /// The standardisation the run trains under (`standardize`), fitted on the training part.
    pub scaling: Option<Scaling>,
    /// The data the run trains on (standardised or not).
    pub trained_on: Dataset,
    /// The held-out test part, in the units the run trains on.
    pub test: Option<Dataset>,
    /// The class of each target column, when the targets are classes (`data.classes`).
    pub classes: Option<Vec<f64>>,
    pub start: Start,
    /// The loaded data's shape, columns and content hash (before any of the above).
    pub info: DataInfo,
}

/// A finished run with what it was asked to do.
#[derive(Clone, Debug)]
pub struct Trained {
    pub request: RunRequest,
    pub data: DataInfo,
    pub run: Run,
    /// The method's figures of the network on the training data and the held-out test part.
    pub metrics: Evaluation,
    /// The trained network with its columns and standardisation (`None` when exact training found
    /// none).
    pub model: Option<Model>,
}

/// A network's figures on the training data and, with `data.test_fraction`, on the test part
/// (in the units the run trained in).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    pub train: Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestMetrics>,
}

/// The figures on the held-out samples.
#[derive(Clone, Debug, Serialize)]
pub struct TestMetrics {
    pub n: usize,
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl Trained {
    /// The content hash of the model's file (`None` without a model).
    pub fn model_sha256(&self) -> Option<String> {
        self.model.as_ref().map(model_sha256)
    }
}

impl Prepared {
    /// Starts from `network` instead of the request's start: a front end's warm start from a
    /// network it holds (`what` says which, in the resolved request's `start.model`, which a
    /// rerun then cannot load).
    pub fn start_from(&mut self, network: Mlp, what: &str) -> Result<()> {
        if network.arch.widths != self.arch.widths {
            return Err(Error::setting(
                "start.model",
                format!(
                    "{what} is {}, the run trains {}",
                    network.arch.spec(),
                    self.arch.spec()
                ),
            ));
        }
        self.request.start = StartSpec {
            init: Init::Model,
            model: Some(what.into()),
            ..Default::default()
        };
        self.start = Start::Model {
            model: network,
            label: "model".into(),
            detail: what.into(),
        };
        Ok(())
    }

    /// Trains under `observer`, within the request's time limit, until `interrupt` (if given)
    /// is triggered, every kernel on the request's threads.
    pub fn run(
        &self,
        observer: &mut dyn Observer,
        interrupt: Option<Interrupt>,
    ) -> Result<Trained> {
        crate::linalg::threads::with_budget(self.request.threads, || {
            self.run_on_budget(observer, interrupt)
        })
    }

    fn run_on_budget(
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
        let metrics = match &run.model {
            Some(net) => Evaluation {
                train: self.trainer.metrics(net, &self.trained_on)?,
                test: self
                    .test
                    .as_ref()
                    .map(|t| {
                        Ok::<_, Error>(TestMetrics {
                            n: t.n_samples(),
                            metrics: self.trainer.metrics(net, t)?,
                        })
                    })
                    .transpose()?,
            },
            None => Evaluation::default(),
        };
        let model = run
            .model
            .as_ref()
            .map(|net| {
                Model::new(net.clone(), self.data.columns(), self.scaling.clone())?
                    .with_link(self.trainer.link(net.n_outputs()))?
                    .with_precision(self.trainer.precision())
            })
            .transpose()?;
        Ok(Trained {
            request: self.request.clone(),
            data: self.info.clone(),
            run,
            metrics,
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
