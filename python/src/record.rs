//! A training run's record ([`Run`]: figures, stop reason, each stage's trace, certificate,
//! warnings) kept as Rust until Python reads it. A fit needs only a few figures from it; the
//! whole record as JSON is the estimator's `run_`, made on first read. Adam's trace on a 3-3-2,
//! N = 30 fit is 139 kB of JSON, which took 2.5 ms to write and 3.1 ms to read: more than half of
//! the 6.4 ms run (bench/README.md, "The Python package's call overhead").

use crate::json;
use cvxnn::methods::Run;
use pyo3::prelude::*;

#[pyclass(name = "Run", module = "cvxnn._core", frozen)]
pub struct PyRun {
    pub(crate) inner: Run,
}

#[pymethods]
impl PyRun {
    /// Mean squared error of the final network on the data it was trained on.
    #[getter]
    fn loss(&self) -> f64 {
        self.inner.outcome.loss
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

    /// The certificate as JSON (`None` when the method gives none).
    fn certificate_json(&self) -> PyResult<Option<String>> {
        self.inner.certificate.as_ref().map(json).transpose()
    }

    /// The whole record as JSON (the estimator's `run_`).
    fn to_json(&self) -> PyResult<String> {
        json(&self.inner)
    }
}
