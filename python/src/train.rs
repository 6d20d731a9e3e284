//! Training from Python: a run request (the same schema as `cvxnn train --config`, as JSON)
//! through the library's one entry ([`cvxnn::request::RunRequest`]), with the GIL released and
//! Ctrl-C turned into the run's interruption. The estimators translate their parameters into a
//! request in Python; nothing here knows a method's settings.
//!
//! The run goes on a worker thread while the calling thread, without the GIL, waits for it and
//! every [`SIGNAL_POLL`] takes the GIL back to let Python run its signal handlers. A handler that
//! raises (Ctrl-C's `KeyboardInterrupt`) triggers the run's [`Interrupt`]; the run stops at its
//! next check and keeps what it has, and the exception goes back to Python with the partial
//! result, which the caller stores before raising it.

use crate::model::PyModel;
use crate::record::PyRun;
use crate::{py_err, samples_as_columns, samples_as_rows};
use cvxnn::data::Dataset;
use cvxnn::methods;
use cvxnn::net::{Activation, Architecture};
use cvxnn::request::RunRequest;
use cvxnn::train::{Interrupt, Quiet};
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the waiting thread checks for Python signals. Ctrl-C is seen within this; a fit
/// that ends sooner returns at once (the wait ends when the result arrives).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The names of the table's network methods (`MLPRegressor(method=…)`); `linear=True`: its
/// linear models (the estimators `Ridge`, `LogisticRegression`, …).
#[pyfunction]
#[pyo3(signature = (linear = false))]
pub fn method_names(linear: bool) -> Vec<&'static str> {
    methods::names_of(if linear {
        methods::Family::Linear
    } else {
        methods::Family::Network
    })
}

/// The settings groups method `name` reads (`scr`, `gradient`, …).
#[pyfunction]
pub fn method_groups(name: &str) -> PyResult<Vec<&'static str>> {
    Ok(methods::method(name).map_err(py_err)?.groups.to_vec())
}

/// A request file (`.toml` or `.json`) as a dict.
#[pyfunction]
pub fn load_request(py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
    let value = cvxnn::request::load_table(std::path::Path::new(path)).map_err(py_err)?;
    crate::to_py(py, &value)
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
    n_samples: i64,
    seed: i64,
    output: &str,
    noise: f64,
) -> PyResult<(Samples<'py>, Samples<'py>)> {
    // Python ints, checked here so that a negative one gets a message rather than pyo3's
    // "can't convert negative int to unsigned"
    let n_samples = usize::try_from(n_samples)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            PyValueError::new_err(format!("n_samples must be a positive int, got {n_samples}"))
        })?;
    let seed = u64::try_from(seed).map_err(|_| {
        PyValueError::new_err(format!("seed must be a non-negative int, got {seed}"))
    })?;
    let output: Activation = output.parse().map_err(py_err)?;
    let arch = Architecture::parse(arch, output).map_err(py_err)?;
    let t = cvxnn::data::planted_teacher(&arch, n_samples, seed).map_err(py_err)?;
    let data = cvxnn::data::with_label_noise(&t.data, noise, seed).map_err(py_err)?;
    Ok((samples_as_rows(py, &data.x), samples_as_rows(py, &data.y)))
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

/// A request from its JSON text.
pub(crate) fn parse<T>(
    text: &str,
    read: impl Fn(serde_json::Value) -> cvxnn::Result<T>,
) -> PyResult<T> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| PyValueError::new_err(format!("the request is not JSON: {e}")))?;
    read(value).map_err(py_err)
}

/// After Ctrl-C, how long the waiting thread still waits for the run to stop at its next check
/// and hand back its partial result. The network methods check every iteration and stop within
/// it; an interior point checks between its iterations, and one factorisation of a large linear
/// model's program can take seconds (measured: 0.8 s CPU per iteration for a linear SVM on
/// N = 20 000, d = 200). A run that has not stopped by then is left to stop on its own thread,
/// and Python gets its `KeyboardInterrupt` without a result, within a second of the signal.
pub(crate) const GRACE: Duration = Duration::from_millis(500);

/// Runs `work` on a worker thread without the GIL, letting Python handle signals every
/// [`SIGNAL_POLL`]; a handler's exception triggers `interrupt` and is returned beside the
/// result. The result is `None` only when the run did not stop within `grace` of the exception
/// (`None`: wait for it): the worker then finishes its current step, stops and drops its result
/// unseen.
pub(crate) fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    interrupt: &Interrupt,
    grace: Option<Duration>,
    work: impl FnOnce() -> T + Send + 'static,
) -> (Option<T>, Option<Py<PyAny>>) {
    py.detach(|| {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            // the receiver is gone only when the caller stopped waiting after an interrupt
            let _ = done.send(work());
        });
        let mut raised: Option<(Py<PyAny>, Instant)> = None;
        loop {
            match finished.recv_timeout(SIGNAL_POLL) {
                Ok(result) => return (Some(result), raised.map(|(e, _)| e)),
                Err(mpsc::RecvTimeoutError::Timeout) => match &raised {
                    None => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            interrupt.trigger();
                            let e = Python::attach(|py| e.into_value(py).into_any());
                            raised = Some((e, Instant::now()));
                        }
                    }
                    Some((_, at)) if grace.is_some_and(|g| at.elapsed() >= g) => {
                        return (None, raised.map(|(e, _)| e))
                    }
                    Some(_) => {}
                },
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the training thread ended without a result")
                }
            }
        }
    })
}

/// What [`run`] gives Python: the model, the run's record, the exception a signal handler raised.
type RunResult = (Option<PyModel>, Option<PyRun>, Option<Py<PyAny>>);

/// Runs the request `request` (JSON text of the request schema), on `(x, y)` (N × d, N × k)
/// when its data are `{"arrays": …}`; returns the model (`None` when the method found no
/// network), the run's record with its resolved request, and the exception a signal handler
/// raised during the run (`None` if none), which the caller re-raises after keeping the partial
/// result. Model and record are both `None` when the run did not stop within [`GRACE`] of the
/// exception. `start`: the layers `(W, b)` (W outputs × inputs) of a network to start from
/// instead of the request's start (an estimator's warm start). `sample_weight`: one weight per
/// sample of the arrays (the methods that take none refuse it).
#[pyfunction]
#[pyo3(signature = (
    request, x = None, y = None, input_names = None, target_names = None, start = None,
    sample_weight = None
))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    request: &str,
    x: Option<PyReadonlyArray2<'_, f64>>,
    y: Option<PyReadonlyArray2<'_, f64>>,
    input_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
    start: Option<Vec<(PyReadonlyArray2<'_, f64>, Vec<f64>)>>,
    sample_weight: Option<Vec<f64>>,
) -> PyResult<RunResult> {
    let request = parse(request, RunRequest::from_value)?;
    let arrays = match (&x, &y) {
        (Some(x), Some(y)) => {
            let data = dataset(x, y, input_names, target_names)?;
            Some(match sample_weight {
                Some(w) => data.with_weights(w).map_err(py_err)?,
                None => data,
            })
        }
        (None, None) if sample_weight.is_some() => {
            return Err(PyValueError::new_err(
                "sample_weight needs the arrays X and y",
            ))
        }
        (None, None) => None,
        _ => return Err(PyValueError::new_err("give both X and y, or neither")),
    };
    let mut prepared = request.prepare(arrays).map_err(py_err)?;
    if let Some(layers) = start {
        let (weights, biases): (Vec<_>, Vec<_>) = layers
            .iter()
            .map(|(w, b)| (crate::certify::matrix(w), b.clone()))
            .unzip();
        let arch = Architecture::new(
            std::iter::once(weights.first().map_or(0, |w| w.cols()))
                .chain(weights.iter().map(|w| w.rows()))
                .collect(),
            prepared.arch.output,
        )
        .map_err(py_err)?;
        let net = cvxnn::net::Mlp::new(arch, weights, biases).map_err(py_err)?;
        prepared
            .start_from(net, "the estimator's network (warm start)")
            .map_err(py_err)?;
    }
    let interrupt = Interrupt::new();
    let stop = interrupt.clone();
    let (trained, raised) = interruptible(py, &interrupt, Some(GRACE), move || {
        prepared.run(&mut Quiet, Some(stop))
    });
    let Some(trained) = trained else {
        return Ok((None, None, raised));
    };
    let trained = trained.map_err(py_err)?;
    let model = trained.model.clone().map(|inner| PyModel { inner });
    Ok((model, Some(PyRun::new(trained)), raised))
}
