//! `cvxnn._core`, the Rust half of cvxnn's Python package: thin functions over the library that
//! take numpy arrays and plain values and give back arrays, [`PyModel`]s, run records and JSON
//! text. The scikit-learn estimators, input validation and `compare`'s executors are Python
//! (`python/cvxnn`); all the work is the library's.
//!
//! Arrays cross as scikit-learn holds them, one sample per row (N × d); the library holds samples
//! as columns (d × N), the same numbers in the same memory order, so the conversion is one copy.

mod compare;
mod linear;
mod model;
mod record;
mod train;

use cvxnn::linalg::Matrix;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;

/// A library error as the Python exception a user expects: bad input is a `ValueError`, a file
/// that cannot be read or written an `OSError`, a solver that gave no answer a `RuntimeError`.
pub(crate) fn py_err(e: cvxnn::Error) -> PyErr {
    use cvxnn::Error as E;
    match e {
        E::Io { .. } => PyOSError::new_err(e.to_string()),
        E::Numerical(_) | E::Solver(_) => PyRuntimeError::new_err(e.to_string()),
        // a Python user builds the wheel with the feature
        E::Unavailable { feature, .. } => PyRuntimeError::new_err(format!(
            "{e}: build the package with it, \
             MATURIN_PEP517_ARGS=\"--features {feature}\" pip install ./python \
             (MATURIN_PEP517_ARGS=\"--features <name>\" for any feature)"
        )),
        E::Parse { .. }
        | E::NonFinite(_)
        | E::Shape(_)
        | E::InvalidArgument(_)
        | E::Setting { .. } => PyValueError::new_err(e.to_string()),
    }
}

/// `value` as JSON text (Python reads it with `json.loads`).
pub(crate) fn json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| PyValueError::new_err(format!("cannot serialise: {e}")))
}

/// An N × d array as the library's d × N matrix.
pub(crate) fn samples_as_columns(a: &PyReadonlyArray2<'_, f64>) -> Matrix {
    let v = a.as_array();
    Matrix::from_fn(v.ncols(), v.nrows(), |i, j| v[[j, i]])
}

/// A vector of N values.
pub(crate) fn vector(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
}

/// The library's k × N matrix as an N × k array.
pub(crate) fn samples_as_rows<'py>(py: Python<'py>, m: &Matrix) -> Bound<'py, PyArray2<f64>> {
    let (k, n) = m.shape();
    Array2::from_shape_vec((n, k), m.as_slice().to_vec())
        .expect("a column-major k × N matrix is a row-major N × k array")
        .into_pyarray(py)
}

/// The optional solvers this build has (`milp`, `sdp`).
#[pyfunction]
fn features() -> Vec<&'static str> {
    [
        ("milp", cfg!(feature = "milp")),
        ("sdp", cfg!(feature = "sdp")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<model::PyModel>()?;
    m.add_class::<record::PyRun>()?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(train::run, m)?)?;
    m.add_function(wrap_pyfunction!(train::method_names, m)?)?;
    m.add_function(wrap_pyfunction!(train::method_groups, m)?)?;
    m.add_function(wrap_pyfunction!(train::load_request, m)?)?;
    m.add_function(wrap_pyfunction!(train::planted_teacher, m)?)?;
    m.add_function(wrap_pyfunction!(linear::least_squares, m)?)?;
    m.add_function(wrap_pyfunction!(linear::logistic, m)?)?;
    m.add_function(wrap_pyfunction!(linear::multinomial, m)?)?;
    m.add_function(wrap_pyfunction!(linear::linear_svm, m)?)?;
    m.add_function(wrap_pyfunction!(linear::perceptron_lp, m)?)?;
    m.add_function(wrap_pyfunction!(linear::robust_lp, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_task, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_all, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_check, m)?)?;
    Ok(())
}
