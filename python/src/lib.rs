//! `cvxnn._core`, the Rust half of cvxnn's Python package: thin functions over the library that
//! take numpy arrays and plain values and give back arrays, [`PyModel`]s, run records and JSON
//! text. The scikit-learn estimators, input validation and `compare`'s executors are Python
//! (`python/cvxnn`); all the work is the library's.
//!
//! Arrays cross as scikit-learn holds them, one sample per row (N × d); the library holds samples
//! as columns (d × N), the same numbers in the same memory order, so the conversion is one copy.

mod certify;
mod compare;
mod model;
mod record;
mod train;

use cvxnn::linalg::Matrix;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
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

/// `value` as the Python objects its serialisation maps to (dicts, lists, floats, ints,
/// strings, booleans, None; a non-finite number as None): records, certificates and rows reach
/// Python as objects, not as text to parse.
pub(crate) fn to_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(value)
        .map_err(|e| PyValueError::new_err(format!("cannot convert: {e}")))?;
    value_to_py(py, &v)
}

fn value_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use pyo3::types::{PyDict, PyList};
    use pyo3::IntoPyObjectExt;
    use serde_json::Value;
    match v {
        Value::Null => Ok(py.None()),
        Value::Bool(b) => b.into_py_any(py),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_py_any(py),
            (None, Some(u)) => u.into_py_any(py),
            _ => n.as_f64().unwrap_or(f64::NAN).into_py_any(py),
        },
        Value::String(s) => s.into_py_any(py),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|x| value_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_py_any(py)
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, x) in map {
                d.set_item(k, value_to_py(py, x)?)?;
            }
            d.into_py_any(py)
        }
    }
}

/// An N × d array as the library's d × N matrix.
pub(crate) fn samples_as_columns(a: &PyReadonlyArray2<'_, f64>) -> Matrix {
    let v = a.as_array();
    Matrix::from_fn(v.ncols(), v.nrows(), |i, j| v[[j, i]])
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
    m.add_function(wrap_pyfunction!(certify::certify, m)?)?;
    m.add_function(wrap_pyfunction!(certify::load_onnx, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_task, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_all, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare_check, m)?)?;
    Ok(())
}
