//! Training from Python: any method of the table through the one training interface
//! ([`methods::run`]), with the GIL released and Ctrl-C turned into the interface's interruption.
//!
//! The run goes on a worker thread while the calling thread, without the GIL, waits for it and
//! every [`SIGNAL_POLL`] takes the GIL back to let Python run its signal handlers. A handler that
//! raises (Ctrl-C's `KeyboardInterrupt`) triggers the run's [`Interrupt`]; the run stops at its
//! next check and keeps what it has, and the exception goes back to Python with the partial
//! result, which the estimator stores before raising it.

use crate::model::PyModel;
use crate::record::PyRun;
use crate::{py_err, samples_as_columns, samples_as_rows};
use cvxnn::convex::patterns::general_position_count;
use cvxnn::convex::{Loss, PatternChoice};
use cvxnn::data::{Dataset, Scaling};
use cvxnn::methods::{self, Group, Method, Options};
use cvxnn::model::{Columns, Model};
use cvxnn::net::{Activation, Architecture};
use cvxnn::train::{Interrupt, Limits, Problem, Quiet, Start};
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyDictMethods};
use std::sync::mpsc;
use std::time::Duration;

/// How often the waiting thread checks for Python signals. Ctrl-C is seen within this; a fit
/// that ends sooner returns at once (the wait ends when the result arrives).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The names of the table's methods.
#[pyfunction]
pub fn method_names() -> Vec<&'static str> {
    methods::method_names()
}

/// An N × columns array.
type Samples<'py> = Bound<'py, PyArray2<f64>>;

/// A planted teacher's data: `(X, Y)` with X N × d, Y N × k, from N(0, 1) weights and inputs
/// (`seed`), plus Gaussian noise of standard deviation `noise` on the targets.
#[pyfunction]
#[pyo3(signature = (arch, n_samples, seed = 1, output = "linear", noise = 0.0))]
pub fn planted_teacher<'py>(
    py: Python<'py>,
    arch: &str,
    n_samples: usize,
    seed: u64,
    output: &str,
    noise: f64,
) -> PyResult<(Samples<'py>, Samples<'py>)> {
    let arch = Architecture::parse(arch, activation(output)?).map_err(py_err)?;
    let t = cvxnn::data::planted_teacher(&arch, n_samples, seed).map_err(py_err)?;
    let data = cvxnn::data::with_label_noise(&t.data, noise, seed).map_err(py_err)?;
    Ok((samples_as_rows(py, &data.x), samples_as_rows(py, &data.y)))
}

pub(crate) fn activation(name: &str) -> PyResult<Activation> {
    name.parse().map_err(py_err)
}

/// The architecture `d-h₁-…-k` of hidden widths `hidden` on data with `d` inputs and `k` targets.
pub(crate) fn architecture(
    d: usize,
    hidden: &[usize],
    k: usize,
    output: &str,
) -> PyResult<Architecture> {
    let widths = std::iter::once(d)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(k))
        .collect();
    Architecture::new(widths, activation(output)?).map_err(py_err)
}

/// The training data: N × d inputs and N × k targets, with column names.
pub(crate) fn dataset(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray2<'_, f64>,
    input_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
) -> PyResult<Dataset> {
    let mut data = Dataset::new(samples_as_columns(x), samples_as_columns(y), "numpy arrays")
        .map_err(py_err)?;
    for (given, names, what) in [
        (input_names, &mut data.input_names, "input"),
        (target_names, &mut data.target_names, "target"),
    ] {
        if let Some(given) = given {
            if given.len() != names.len() {
                return Err(PyValueError::new_err(format!(
                    "{} {what} name(s) for {} {what} column(s)",
                    given.len(),
                    names.len()
                )));
            }
            *names = given;
        }
    }
    Ok(data)
}

/// The option groups that read the keyword setting `key`.
fn groups_of(key: &str) -> PyResult<&'static [Group]> {
    Ok(match key {
        "max_iter" | "tol" => &[Group::Scr, Group::Gradient, Group::Convex],
        "output_tol" => &[Group::Scr, Group::Gradient],
        "weight_decay" => &[Group::Gradient, Group::Convex],
        "learning_rate_init" | "batch_size" | "momentum" | "beta_1" | "beta_2" | "epsilon"
        | "lbfgs_max_iter" => &[Group::Gradient],
        "scr_lambda" | "scr_mu" | "extrapolation" => &[Group::Scr],
        "loss" | "patterns" => &[Group::Convex],
        "weight_bound" => &[Group::Milp],
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown training option '{key}'"
            )))
        }
    })
}

/// Refuses a keyword setting that none of `methods` reads (it would be silently ignored) and an
/// unknown one.
pub(crate) fn refuse_unread(
    settings: Option<&Bound<'_, PyDict>>,
    methods: &[&Method],
) -> PyResult<()> {
    for key in settings.into_iter().flat_map(|s| s.keys()) {
        let key: String = key.extract()?;
        if !groups_of(&key)?
            .iter()
            .any(|&g| methods.iter().any(|m| m.reads(g)))
        {
            let names: Vec<&str> = methods.iter().map(|m| m.name).collect();
            return Err(PyValueError::new_err(format!(
                "option '{key}' is not read by method {}: it would be ignored",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// The table's [`Options`] for `method` on data of `data_shape` (N, d) from the settings a Python
/// caller passed by keyword (those `method` reads; see [`refuse_unread`] for the others).
pub(crate) fn options(
    settings: Option<&Bound<'_, PyDict>>,
    method: &Method,
    data_shape: (usize, usize),
    seed: u64,
) -> PyResult<Options> {
    let mut o = Options {
        seed,
        ..Options::default()
    };
    let Some(settings) = settings else {
        return Ok(o);
    };
    let reads = |g: Group| method.reads(g);
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        if !groups_of(&key)?.iter().any(|&g| reads(g)) {
            continue;
        }
        let positive = |v: f64, what: &str| -> PyResult<f64> {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(PyValueError::new_err(format!(
                    "{what} must be positive and finite, got {v}"
                )))
            }
        };
        match key.as_str() {
            "max_iter" => {
                let n: usize = value.extract()?;
                o.scr.max_iter = n;
                // in `scr+lbfgs` max_iter is SCR's; L-BFGS's is lbfgs_max_iter
                if !reads(Group::Scr) {
                    o.gradient.steps = Some(n);
                }
                o.convex.max_iter = n;
            }
            "lbfgs_max_iter" => {
                // outside `scr+lbfgs` both name the gradient method's one cap
                if !reads(Group::Scr) && settings.contains("max_iter")? {
                    return Err(PyValueError::new_err(format!(
                        "max_iter and lbfgs_max_iter both set {}'s iteration cap; give one \
                         (lbfgs_max_iter is L-BFGS's cap after SCR in scr+lbfgs)",
                        method.name
                    )));
                }
                o.gradient.steps = Some(value.extract()?);
            }
            "tol" => {
                let t = positive(value.extract()?, "tol")?;
                o.scr.tol = t;
                o.gradient.grad_tol = t;
                o.convex.tol = t;
            }
            "output_tol" => {
                let t = positive(value.extract()?, "output_tol")?;
                o.scr.output_tol = Some(t);
                o.gradient.output_tol = Some(t);
            }
            "weight_decay" => {
                let b: f64 = value.extract()?;
                o.gradient.weight_decay = b;
                o.convex.beta = b;
            }
            "learning_rate_init" => {
                o.gradient.lr = Some(positive(value.extract()?, "learning_rate_init")?)
            }
            "batch_size" => o.gradient.batch = Some(value.extract()?),
            "momentum" => o.gradient.momentum = value.extract()?,
            "beta_1" => o.gradient.beta1 = value.extract()?,
            "beta_2" => o.gradient.beta2 = value.extract()?,
            "epsilon" => o.gradient.eps = positive(value.extract()?, "epsilon")?,
            "scr_lambda" => o.scr.lambda = one_or_many(&value)?,
            "scr_mu" => o.scr.mu = one_or_many(&value)?,
            "extrapolation" => o.scr.extrapolation = value.extract()?,
            "loss" => {
                let name: String = value.extract()?;
                o.convex.loss = match name.as_str() {
                    "squared" => Loss::Squared,
                    "logistic" => Loss::Logistic,
                    "hinge" => Loss::Hinge,
                    _ => {
                        return Err(PyValueError::new_err(format!(
                            "loss must be 'squared', 'logistic' or 'hinge', got '{name}'"
                        )))
                    }
                };
            }
            "patterns" => o.convex.patterns = patterns(&value, data_shape, seed)?,
            "weight_bound" => o.milp.weight_bound = positive(value.extract()?, "weight_bound")?,
            _ => unreachable!("every key was matched above"),
        }
    }
    Ok(o)
}

/// `patterns="all"` is refused above this general-position count (the library's default).
const MAX_PATTERNS: usize = 20_000;

/// `patterns="auto"` enumerates up to this general-position count. The interior-point solve of the
/// complete program grows steeply with it (measured, sin targets, one output): 259 patterns
/// (N = 10, d = 3) 0.1 s, 871 (N = 30, d = 2) 0.8 s, 2 319 (N = 20, d = 3) 2.3 s, 8 179 (N = 30,
/// d = 3) 12 s; a default should not take minutes on a small table.
const AUTO_ENUMERATE: u64 = 1_000;

/// Gates `patterns="auto"` samples above [`AUTO_ENUMERATE`]. Measured (active set): 50 gates
/// 0.3 s, 100 gates 0.8–1.1 s, 200 gates 1.3–1.5 s on uniform inputs with N = 40, d = 10 and
/// N = 150, d = 4, the objective 0.5–4 % above 200 gates'; on scikit-learn's standardised
/// regression set (N = 200, d = 10) 30 gates 1.5 s (R² 0.949), 100 gates 5.5 s (R² 0.979).
const AUTO_SAMPLED: usize = 100;

/// The convex model's activation patterns: `all` (refused when there may be more than
/// [`MAX_PATTERNS`]), a count of sampled gates, or `auto`: all up to [`AUTO_ENUMERATE`], else
/// [`AUTO_SAMPLED`] sampled gates (the certificate then says `restricted`).
fn patterns(
    value: &Bound<'_, PyAny>,
    data_shape: (usize, usize),
    seed: u64,
) -> PyResult<PatternChoice> {
    let all = PatternChoice::All { max: MAX_PATTERNS };
    let Ok(name) = value.extract::<String>() else {
        return Ok(PatternChoice::Sample {
            count: value.extract()?,
            seed,
        });
    };
    let (n, d) = data_shape;
    match name.as_str() {
        "all" => Ok(all),
        "auto" if general_position_count(n, d + 1) <= AUTO_ENUMERATE => Ok(all),
        "auto" => Ok(PatternChoice::Sample {
            count: AUTO_SAMPLED,
            seed,
        }),
        _ => Err(PyValueError::new_err(format!(
            "patterns takes 'auto', 'all' or a count, got '{name}'"
        ))),
    }
}

/// One value for every layer, or one per hidden layer.
fn one_or_many(value: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    value
        .extract::<f64>()
        .map(|v| vec![v])
        .or_else(|_| value.extract::<Vec<f64>>())
}

/// Where the run starts: `random` (the method's own scheme, or `init_scheme`), or `zero`.
fn start(method: &Method, init: &str, init_scheme: Option<&str>, seed: u64) -> PyResult<Start> {
    match init {
        "random" => Ok(Start::Random {
            scheme: match init_scheme {
                Some(s) => s.parse().map_err(py_err)?,
                None => method.default_scheme,
            },
            seed,
        }),
        "zero" => Ok(Start::Zero),
        other => Err(PyValueError::new_err(format!(
            "init must be 'random' or 'zero', got '{other}'"
        ))),
    }
}

/// Runs `work` on a worker thread without the GIL, letting Python handle signals every
/// [`SIGNAL_POLL`]; a handler's exception triggers `interrupt` and is returned beside the result.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    interrupt: &Interrupt,
    work: impl FnOnce() -> T + Send,
) -> (T, Option<Py<PyAny>>) {
    py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel();
            scope.spawn(move || {
                // the receiver outlives the scope's threads, so this send cannot fail
                let _ = done.send(work());
            });
            let mut raised = None;
            loop {
                match finished.recv_timeout(SIGNAL_POLL) {
                    Ok(result) => return (result, raised),
                    Err(mpsc::RecvTimeoutError::Timeout) if raised.is_none() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            interrupt.trigger();
                            raised = Some(Python::attach(|py| e.into_value(py).into_any()));
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        panic!("the training thread ended without a result")
                    }
                }
            }
        })
    })
}

/// Trains `method` on `(x, y)` (N × d, N × k) with hidden widths `hidden`; returns the model
/// (`None` when the method found no network), the run's record, and the exception a
/// signal handler raised during the run (`None` if none), which the caller re-raises after
/// keeping the partial result.
#[pyfunction]
#[pyo3(signature = (x, y, method, hidden, output = "linear", settings = None, init = "random",
    init_scheme = None, seed = 0, standardize = false, time_limit = None, input_names = None,
    target_names = None))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    method: &str,
    hidden: Vec<usize>,
    output: &str,
    settings: Option<&Bound<'_, PyDict>>,
    init: &str,
    init_scheme: Option<&str>,
    seed: u64,
    standardize: bool,
    time_limit: Option<f64>,
    input_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
) -> PyResult<(Option<PyModel>, PyRun, Option<Py<PyAny>>)> {
    let method = methods::method(method).map_err(py_err)?;
    let data = dataset(&x, &y, input_names, target_names)?;
    let arch = architecture(data.n_inputs(), &hidden, data.n_outputs(), output)?;
    refuse_unread(settings, &[method])?;
    let trainer = method
        .trainer(&options(
            settings,
            method,
            (data.n_samples(), data.n_inputs()),
            seed,
        )?)
        .map_err(py_err)?;
    let scaling = standardize.then(|| Scaling::fit(&data, trainer.target_scaling(arch.output)));
    let trained_on = match &scaling {
        Some(s) => s.apply(&data).map_err(py_err)?,
        None => data.clone(),
    };
    let problem = Problem::new(&trained_on, &arch).map_err(py_err)?;
    let start = start(method, init, init_scheme, seed)?;
    let interrupt = Interrupt::new();
    let limits = Limits {
        time_limit,
        interrupt: Some(interrupt.clone()),
    };
    let (run, raised) = interruptible(py, &interrupt, || {
        methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &limits)
    });
    let run = run.map_err(py_err)?;
    let model = match &run.model {
        Some(net) => {
            let columns = Columns {
                inputs: data.input_names.clone(),
                targets: data.target_names.clone(),
            };
            let inner = Model::new(net.clone(), columns, scaling).map_err(py_err)?;
            Some(PyModel { inner })
        }
        None => None,
    };
    Ok((model, PyRun { inner: run }, raised))
}
