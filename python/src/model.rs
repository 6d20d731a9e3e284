//! A trained model in Python: cvxnn's [`Model`] (a network with its columns and standardisation),
//! its predictions, its model file and its ONNX export. It pickles as its model-file JSON.

use crate::{py_err, samples_as_columns, samples_as_rows};
use cvxnn::model::Model;
use cvxnn::net::{Activation, Architecture, Mlp, Network};
use cvxnn::onnx::Precision;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;
use std::path::PathBuf;

/// A two-layer network's `(W₁, b₁, W₂, b₂)`.
type Weights<'py> = (
    Bound<'py, PyArray2<f64>>,
    Vec<f64>,
    Bound<'py, PyArray2<f64>>,
    Vec<f64>,
);

#[pyclass(name = "Model", module = "cvxnn._core", frozen)]
pub struct PyModel {
    pub(crate) inner: Model,
}

impl PyModel {
    fn checked_inputs(&self, x: &PyReadonlyArray2<'_, f64>) -> PyResult<cvxnn::linalg::Matrix> {
        let d = x.as_array().ncols();
        if d != self.inner.n_inputs() {
            return Err(PyValueError::new_err(format!(
                "X has {d} features, but the model takes {} input(s)",
                self.inner.n_inputs()
            )));
        }
        Ok(samples_as_columns(x))
    }
}

#[pymethods]
impl PyModel {
    /// The linear model `y = W x + b` (`w`: outputs × inputs), the layer the linear estimators
    /// fit, as a model (to write as ONNX); its columns are taken by position.
    #[staticmethod]
    fn linear(w: PyReadonlyArray2<'_, f64>, b: Vec<f64>) -> PyResult<Self> {
        let w = crate::certify::matrix(&w);
        let arch =
            Architecture::new(vec![w.cols(), w.rows()], Activation::Linear).map_err(py_err)?;
        let net = Mlp::new(arch, vec![w], vec![b]).map_err(py_err)?;
        Ok(Self {
            inner: Model::of_network(Network::Mlp(net)).map_err(py_err)?,
        })
    }

    /// The model written as a cvxnn model file (JSON), as `cvxnn train` writes it.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(py_err)
    }

    /// A model from the text of a cvxnn model file.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Model::from_json(text, "<model JSON>")
            .map(|inner| Self { inner })
            .map_err(py_err)
    }

    /// Pickling: the model file's JSON.
    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(Py<PyAny>, (String,))> {
        let py = slf.py();
        let from_json = py.get_type::<Self>().getattr("from_json")?.unbind();
        Ok((from_json, (slf.get().inner.to_json().map_err(py_err)?,)))
    }

    /// The outputs for each row of `x` (N × inputs), in the data's units: N × outputs.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = as_samples(py, x)?;
        let x = self.checked_inputs(&x)?;
        let y = py.detach(|| self.inner.predict(&x)).map_err(py_err)?;
        Ok(samples_as_rows(py, &y))
    }

    /// The weight-decay objective `(1/2N)‖f(X) − Y‖² + (β/2)·(every weight² and hidden bias²)`
    /// of the network on `(x, y)` — the objective the convex model certifies. Only for a model
    /// without standardisation: a standardised model's network was trained on other numbers.
    fn weight_decay_objective(
        &self,
        x: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray2<'_, f64>,
        beta: f64,
    ) -> PyResult<f64> {
        if self.inner.scaling.is_some() {
            return Err(PyValueError::new_err(
                "the weight-decay objective is defined on the data the network was trained on; \
                 this model was trained on standardised data (fit with standardize=False)",
            ));
        }
        let Network::Mlp(net) = &self.inner.network else {
            return Err(PyValueError::new_err(
                "a threshold network has no weight-decay objective",
            ));
        };
        let xm = self.checked_inputs(&x)?;
        let ym = samples_as_columns(&y);
        net.weight_decay_objective(&xm, &ym, beta).map_err(py_err)
    }

    /// The weights of a two-layer network, `(W₁, b₁, W₂, b₂)` in PyTorch's orientation (`W₁` is
    /// hidden × inputs), as `certify` takes them; refused for a standardised model (its network
    /// works on other numbers than the data's) and for other networks.
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Weights<'py>> {
        if self.inner.scaling.is_some() {
            return Err(PyValueError::new_err(
                "this model was trained on standardised data, so its weights act on other \
                 numbers than the data's (fit with standardize=False to certify it)",
            ));
        }
        let Network::Mlp(net) = &self.inner.network else {
            return Err(PyValueError::new_err(
                "a threshold network has no ReLU weights",
            ));
        };
        if net.weights.len() != 2 {
            return Err(PyValueError::new_err(format!(
                "the network is {}, not a two-layer network",
                net.arch.spec()
            )));
        }
        // a k × n matrix as a k × n array
        let array = |m: &cvxnn::linalg::Matrix| {
            let (k, n) = m.shape();
            numpy::ndarray::Array2::from_shape_fn((k, n), |(i, j)| m.get(i, j)).into_pyarray(py)
        };
        Ok((
            array(&net.weights[0]),
            net.biases[0].clone(),
            array(&net.weights[1]),
            net.biases[1].clone(),
        ))
    }

    /// Writes the model as ONNX (opset 13; input `x`, output `y`, standardisation included),
    /// float32 if `float32` is true, float64 if false, and the model's own precision if None.
    #[pyo3(signature = (path, float32 = None))]
    fn save_onnx(&self, py: Python<'_>, path: PathBuf, float32: Option<bool>) -> PyResult<()> {
        let precision = match float32 {
            Some(true) => Precision::F32,
            Some(false) => Precision::F64,
            None => self.inner.precision,
        };
        py.detach(|| self.inner.save_onnx(&path, precision))
            .map_err(py_err)
    }

    /// ``"f64"`` or ``"f32"``: the precision the network was trained in.
    #[getter]
    fn precision(&self) -> &'static str {
        self.inner.precision.name()
    }

    #[getter]
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }

    #[getter]
    fn n_outputs(&self) -> usize {
        self.inner.n_outputs()
    }

    /// `3-8-1 ReLU network (linear output)`, ….
    #[getter]
    fn description(&self) -> String {
        self.inner.network.describe()
    }

    /// Per layer, the weights (out × in) and biases, as nested lists.
    #[getter]
    fn layers(&self) -> Vec<(Vec<Vec<f64>>, Vec<f64>)> {
        match &self.inner.network {
            Network::Mlp(m) => m
                .weights
                .iter()
                .zip(&m.biases)
                .map(|(w, b)| {
                    let rows = (0..w.rows())
                        .map(|i| (0..w.cols()).map(|j| w.get(i, j)).collect())
                        .collect();
                    (rows, b.clone())
                })
                .collect(),
            Network::Threshold(_) => Vec::new(),
        }
    }

    fn __repr__(&self) -> String {
        format!("<cvxnn Model: {}>", self.inner.network.describe())
    }
}

/// `x` (an array, a list, ints or float32) as an N × d float64 array, converted as numpy
/// converts it; any other number of dimensions is refused with scikit-learn's advice.
fn as_samples<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, f64>> {
    let kwargs = [("dtype", "float64")].into_py_dict(py)?;
    let a = py
        .import("numpy")?
        .getattr("ascontiguousarray")?
        .call((x,), Some(&kwargs))?;
    let ndim: usize = a.getattr("ndim")?.extract()?;
    if ndim != 2 {
        return Err(PyValueError::new_err(format!(
            "X must be a 2-D array (samples × features), got {ndim}-D: reshape one sample with \
             X.reshape(1, -1), one feature with X.reshape(-1, 1)"
        )));
    }
    a.extract()
}
