//! The convex linear models (scikit-learn's objectives, solved by interior point) and the
//! perceptron LP, for the Python estimators. Each returns its fit as JSON; the GIL is released
//! while it solves.

use crate::{json, py_err, samples_as_columns, vector};
use cvxnn::glm::{self, softmax, svm, LeastSquares, Logistic};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Ridge (`‖y − Xw − b‖² + α‖w‖²`), lasso (`‖·‖²/(2N) + α‖w‖₁`) or elastic net
/// (`‖·‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2`), intercept unpenalised.
#[pyfunction]
#[pyo3(signature = (x, y, model, alpha, l1_ratio = 0.5))]
pub fn least_squares(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    model: &str,
    alpha: f64,
    l1_ratio: f64,
) -> PyResult<String> {
    let model = match model {
        "ridge" => LeastSquares::Ridge { alpha },
        "lasso" => LeastSquares::Lasso { alpha },
        "elastic_net" => LeastSquares::ElasticNet { alpha, l1_ratio },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown least-squares model '{other}'"
            )))
        }
    };
    let (x, y) = (samples_as_columns(&x), vector(&y));
    let fit = py
        .detach(|| glm::fit_least_squares(&x, &y, model))
        .map_err(py_err)?;
    json(&fit)
}

/// Binary logistic regression `C Σ log(1 + e^{−y(wᵀx + b)}) + ½‖w‖²` (or `‖w‖₁`), labels ±1.
#[pyfunction]
pub fn logistic(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    c: f64,
    l1: bool,
) -> PyResult<String> {
    let (x, y) = (samples_as_columns(&x), vector(&y));
    let fit = py
        .detach(|| glm::fit_logistic(&x, &y, Logistic { c, l1 }))
        .map_err(py_err)?;
    json(&fit)
}

/// Multinomial logistic regression over `classes` classes; `y` holds class indices.
#[pyfunction]
pub fn multinomial(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: Vec<usize>,
    classes: usize,
    c: f64,
    l1: bool,
) -> PyResult<String> {
    let x = samples_as_columns(&x);
    let fit = py
        .detach(|| softmax::fit(&x, &y, classes, softmax::Softmax { c, l1 }))
        .map_err(py_err)?;
    json(&fit)
}

/// The linear SVM `½‖w‖² + C Σ max(0, 1 − y(wᵀx + b))`, labels ±1.
#[pyfunction]
pub fn linear_svm(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    c: f64,
) -> PyResult<String> {
    let (x, y) = (samples_as_columns(&x), vector(&y));
    let fit = py
        .detach(|| svm::fit(&x, &y, svm::LinearSvm { c }))
        .map_err(py_err)?;
    json(&fit)
}

/// The perceptron feasibility LP `y_i(wᵀx_i + b) ≥ 1`: a separating unit, or a Farkas
/// certificate that none exists (with its residual recomputed here).
#[pyfunction]
pub fn perceptron_lp(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<String> {
    let (x, y) = (samples_as_columns(&x), vector(&y));
    let answer = py
        .detach(|| cvxnn::perceptron::separate(&x, &y))
        .map_err(py_err)?;
    json(&answer)
}

/// The robust LP (Bennett & Mangasarian): the unit of least average violation per class,
/// `(w, b, objective)`; the objective is 0 exactly when the data are separable.
#[pyfunction]
pub fn robust_lp(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<(Vec<f64>, f64, f64)> {
    let (x, y) = (samples_as_columns(&x), vector(&y));
    py.detach(|| cvxnn::perceptron::robust_lp(&x, &y))
        .map_err(py_err)
}
