//! `compare` from Python: a comparison request (the schema of `cvxnn compare --config`, as JSON)
//! on problems given as arrays, run by the library ([`cvxnn::request::CompareRequest`]).
//! [`compare_all`] runs every task here on threads; [`compare_task`] runs one, so that Python can
//! hand the tasks to any executor (a Dask or Ray cluster). A task's row depends only on its
//! problem, method, start index and the resolved request, so both give the same rows.

use crate::train::{dataset, interruptible, parse};
use crate::{py_err, to_py};
use cvxnn::compare::{convex_optimum, Finished};
use cvxnn::data::Dataset;
use cvxnn::request::{CompareRequest, Comparison};
use cvxnn::train::{Interrupt, Limits};
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;

/// One problem: inputs N × d, targets N × k.
type Problem<'py> = (PyReadonlyArray2<'py, f64>, PyReadonlyArray2<'py, f64>);

fn datasets(problems: &[Problem<'_>]) -> PyResult<Vec<Dataset>> {
    problems
        .iter()
        .map(|(x, y)| dataset(x, y, None, None))
        .collect()
}

fn prepare(request: &str, problems: &[Problem<'_>]) -> PyResult<Comparison> {
    let request = parse(request, CompareRequest::from_value)?;
    request.prepare(Some(datasets(problems)?)).map_err(py_err)
}

/// Checks a comparison without running it (before its tasks go to an executor) and returns its
/// request with every default resolved (the `auto` patterns decided by the largest problem), for
/// every task to run alike: the request text each task is sent.
#[pyfunction]
pub fn compare_check(request: &str, problems: Vec<Problem<'_>>) -> PyResult<String> {
    let c = prepare(request, &problems)?;
    serde_json::to_string(&c.request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("cannot convert: {e}")))
}

/// What [`compare_all`] gives Python: the rows, the convex optima, a signal handler's exception.
type Compared = (Py<PyAny>, Option<Py<PyAny>>, Option<Py<PyAny>>);

/// Every (problem, start, method) row, on `jobs` threads; with the request's weight decay, each
/// problem's convex optimum and, where it is not global, the global lower bound certified from
/// the best row's network within the request's `bound_time` (the command line's `compare
/// --weight-decay`; `None` otherwise, or after Ctrl-C); and the exception a signal handler
/// raised (the rows of the runs started before it are kept).
#[pyfunction]
pub fn compare_all(
    py: Python<'_>,
    request: &str,
    problems: Vec<Problem<'_>>,
    jobs: usize,
) -> PyResult<Compared> {
    let c = prepare(request, &problems)?;
    let interrupt = Interrupt::new();
    let stop = interrupt.clone();
    // waits for the runs in flight to stop: their rows are what Ctrl-C keeps
    let (done, raised) = interruptible(py, &interrupt, None, move || {
        let rows = c.run_all(jobs, Some(stop.clone()), &|_, _| {})?;
        let optimum = match &c.convex {
            Some(trainer) if !stop.is_triggered() => {
                let names: Vec<&str> = c.entries.iter().map(|e| e.name()).collect();
                let done = Finished {
                    arch: &c.arch,
                    cases: &c.cases,
                    names: &names,
                    rows: &rows,
                };
                let limits = Limits {
                    time_limit: None,
                    interrupt: Some(stop),
                };
                let bound_time = c.request.bound_time;
                Some(convex_optimum(
                    &done,
                    trainer,
                    &limits,
                    bound_time,
                    &mut |_| {},
                )?)
            }
            _ => None,
        };
        cvxnn::Result::Ok((rows, optimum))
    });
    let (rows, optimum) = done.expect("waited for").map_err(py_err)?;
    let optimum = optimum.map(|o| to_py(py, &o)).transpose()?;
    Ok((to_py(py, &rows)?, optimum, raised))
}

/// One row: method number `method` of the resolved request on `problem` (number `index` among
/// the comparison's problems) from start `start`.
#[pyfunction]
pub fn compare_task(
    py: Python<'_>,
    request: &str,
    problem: Problem<'_>,
    index: usize,
    start: usize,
    method: usize,
) -> PyResult<Py<PyAny>> {
    let mut request = parse(request, CompareRequest::from_value)?;
    // this task's problem alone, under its own name
    if let cvxnn::request::CompareData::Arrays { arrays } = &mut request.data {
        if let Some(name) = arrays.get(index).cloned() {
            *arrays = vec![name];
        }
    }
    let c = request
        .prepare(Some(datasets(std::slice::from_ref(&problem))?))
        .map_err(py_err)?;
    let row = py
        .detach(|| c.row(index, 0, start, method))
        .map_err(py_err)?;
    to_py(py, &row)
}
