//! `certify` from Python: a two-layer ReLU network's weights (PyTorch's orientation, `W₁` of
//! m × d and `W₂` of K × m) and its data, through the library's [`cvxnn::global::certify`], with
//! the GIL released and Ctrl-C keeping the bound proved so far. `load_onnx` reads the same
//! networks from an ONNX file as the command line does.

use crate::model::PyModel;
use crate::train::{interruptible, GRACE};
use crate::{py_err, samples_as_columns, to_py};
use cvxnn::global::{certify as certify_network, BoundSettings};
use cvxnn::linalg::Matrix;
use cvxnn::model::Model;
use cvxnn::net::{Activation, Architecture, Mlp, Network};
use cvxnn::train::{Budget, Interrupt, Limits};
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// A setting's value from its schema name (`"squared"`, `"free"`, `"per-output"`), or a
/// `ValueError` naming the parameter.
fn named<T: serde::de::DeserializeOwned>(parameter: &str, value: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|e| PyValueError::new_err(format!("{parameter}={value:?} is not allowed ({e})")))
}

/// A weight matrix as given (rows × columns).
pub(crate) fn matrix(a: &PyReadonlyArray2<'_, f64>) -> Matrix {
    let v = a.as_array();
    Matrix::from_fn(v.nrows(), v.ncols(), |i, j| v[[i, j]])
}

/// The certificate (a dict: the objective, its terms, the bound with its scope and status, the
/// excess) of the network `(w1, b1, w2, b2)` on `(x, y)` (N × d, N × K), and the exception a
/// signal handler raised meanwhile (`None` if none).
#[pyfunction]
#[pyo3(signature = (
    w1, b1, w2, b2, x, y, weight_decay, loss = "squared", output_bias = None,
    units = "shared", time_limit = None, tol = 1e-6, seed = 0, cheap = false, improve = false
))]
#[allow(clippy::too_many_arguments)]
pub fn certify(
    py: Python<'_>,
    w1: PyReadonlyArray2<'_, f64>,
    b1: Vec<f64>,
    w2: PyReadonlyArray2<'_, f64>,
    b2: Vec<f64>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    weight_decay: f64,
    loss: &str,
    output_bias: Option<&str>,
    units: &str,
    time_limit: Option<f64>,
    tol: f64,
    seed: u64,
    cheap: bool,
    improve: bool,
) -> PyResult<(Py<PyAny>, Option<Py<PyAny>>)> {
    let (w1, w2) = (matrix(&w1), matrix(&w2));
    let arch = Architecture::new(vec![w1.cols(), w1.rows(), w2.rows()], Activation::Linear)
        .map_err(py_err)?;
    let net = Mlp::new(arch, vec![w1, w2], vec![b1, b2]).map_err(py_err)?;
    let (xm, ym) = (samples_as_columns(&x), samples_as_columns(&y));
    let mut settings = BoundSettings::new(named("loss", loss)?, weight_decay);
    let has_bias = net.biases[1].iter().any(|&b| b != 0.0);
    settings.output_bias = match output_bias {
        Some(v) => named("output_bias", v)?,
        None if has_bias => cvxnn::global::OutputBias::Free,
        None => cvxnn::global::OutputBias::None,
    };
    settings.units = named("units", units)?;
    settings.rel_tol = tol;
    settings.seed = seed;
    settings.prove = !cheap;
    settings.improve = improve;
    let interrupt = Interrupt::new();
    let limits = Limits {
        time_limit,
        interrupt: Some(interrupt.clone()),
    };
    limits.validate().map_err(py_err)?;
    let (certified, raised) = interruptible(py, &interrupt, Some(GRACE), move || {
        let budget = Budget::start(&limits);
        certify_network(&net, &xm, &ym, &settings, &budget)
    });
    let Some(certified) = certified else {
        return Ok((py.None(), raised));
    };
    let certified = certified.map_err(py_err)?;
    Ok((to_py(py, &certified)?, raised))
}

/// The two-layer ReLU network of an ONNX file (Linear–ReLU–Linear: Gemm or MatMul/Add, Relu),
/// as a model whose columns are taken by position.
#[pyfunction]
pub fn load_onnx(path: PathBuf) -> PyResult<PyModel> {
    let net = cvxnn::onnx::import::load_two_layer(&path).map_err(py_err)?;
    Ok(PyModel {
        inner: Model::of_network(Network::Mlp(net)).map_err(py_err)?,
    })
}
