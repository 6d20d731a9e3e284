//! A training run's record ([`Run`]: figures, stop reason, each stage's trace, certificate,
//! warnings, with the resolved request that reruns it) kept as Rust until Python reads it. A fit needs only a few figures from it; the
//! whole record as JSON is the estimator's `run_`, made on first read. Adam's trace on a 3-3-2,
//! N = 30 fit is 139 kB of JSON, which took 2.5 ms to write and 3.1 ms to read: more than half of
//! the 6.4 ms run (bench/README.md, "The Python package's call overhead").

use crate::to_py;
use cvxnn::methods::{GradTrace, Run};
use cvxnn::request::{DataInfo, Evaluation, RunRequest, Trained};
use pyo3::prelude::*;
use serde::Serialize;

#[pyclass(name = "Run", module = "cvxnn._core", frozen)]
pub struct PyRun {
    pub(crate) inner: Run,
    request: RunRequest,
    data: DataInfo,
    model_sha256: Option<String>,
    metrics: Evaluation,
}

/// The record as `run_` shows it: a report's run entry with the data's fingerprint.
#[derive(Serialize)]
struct Record<'a> {
    request: &'a RunRequest,
    data: &'a DataInfo,
    model_sha256: &'a Option<String>,
    metrics: &'a Evaluation,
    #[serde(flatten)]
    run: &'a Run,
}

impl PyRun {
    pub(crate) fn new(t: Trained) -> Self {
        Self {
            model_sha256: t.model_sha256(),
            inner: t.run,
            request: t.request,
            data: t.data,
            metrics: t.metrics,
        }
    }
}

#[pymethods]
impl PyRun {
    /// Mean squared error of the final network on the data it was trained on (weighted by the
    /// sample weights of a weighted fit).
    #[getter]
    fn loss(&self) -> f64 {
        self.inner.outcome.loss
    }

    /// The training objective the method minimised, at the final network: a gradient method's
    /// data term with its weight decay (the cross-entropy's, for a classifier); otherwise the
    /// mean squared error.
    #[getter]
    fn objective(&self) -> f64 {
        self.inner
            .stages
            .last()
            .and_then(|s| s.trace_as::<GradTrace>())
            .map_or(self.inner.outcome.loss, |t| t.summary.loss)
    }

    /// Iterations of all stages together (branch-and-bound nodes for the MILP).
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.outcome.iterations
    }

    /// Why the run ended (`converged`, `iteration_limit`, `interrupted`, …).
    #[getter]
    fn stop_reason(&self) -> &'static str {
        self.inner.outcome.stop_reason.name()
    }

    /// The run's own warnings: diverged, dead units, far from stationary, not certified.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }

    /// The certificate as a dict with its `kind` (`None` when the method gives none).
    fn certificate(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let Some(c) = &self.inner.certificate else {
            return Ok(None);
        };
        let mut value = serde_json::to_value(c.as_ref())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("cannot convert: {e}")))?;
        if let serde_json::Value::Object(fields) = &mut value {
            fields.insert("kind".into(), c.kind().into());
        }
        to_py(py, &value).map(Some)
    }

    /// The resolved request (every default filled in: it reruns the run), as a dict.
    fn request(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.request)
    }

    /// The method's figures on the training data (and the held-out part), as a dict.
    fn metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.metrics)
    }

    /// The whole record as a dict (the estimator's `run_`).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(
            py,
            &Record {
                request: &self.request,
                data: &self.data,
                model_sha256: &self.model_sha256,
                metrics: &self.metrics,
                run: &self.inner,
            },
        )
    }
}
