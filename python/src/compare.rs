//! `compare` from Python: several methods on the same problems from the same seeded starts, as
//! the library's [`cvxnn::compare`] runs them. [`compare_all`] runs every task here on threads;
//! [`compare_task`] runs one, so that Python can hand the tasks to any executor (a Dask or Ray
//! cluster). A task's row depends only on its problem, method, start index and the plan, so both
//! give the same rows.

use crate::train::{architecture, dataset, interruptible, options, refuse_unread};
use crate::{json, py_err};
use cvxnn::compare::{self, Case, Entry, Plan};
use cvxnn::methods::{self, Method};
use cvxnn::net::Architecture;
use cvxnn::train::{Interrupt, Limits};
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// How every row is made (the Python keyword arguments of `compare`).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct PlanArgs {
    starts: usize,
    restarts: usize,
    seed: u64,
    init_scheme: Option<String>,
    time_limit: Option<f64>,
    weight_decay: Option<f64>,
    /// The most samples of any problem: `patterns="auto"` decides by it (with the problems'
    /// common input count), so that every task, wherever it runs, decides alike.
    samples: usize,
}

impl PlanArgs {
    fn plan(&self, interrupt: Option<Interrupt>) -> PyResult<Plan> {
        Ok(Plan {
            starts: self.starts,
            restarts: self.restarts,
            seed: self.seed,
            init_scheme: self
                .init_scheme
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(py_err)?,
            scr_start: None,
            time_limit: self.time_limit,
            weight_decay: self.weight_decay,
            interrupt,
        })
    }
}

/// The methods named `names` with their settings, for problems of `n_inputs` inputs and at most
/// `plan.samples` samples. The plan's weight decay is also the training weight decay of the
/// methods that take one (as `cvxnn compare --weight-decay`).
fn entries(
    names: &[String],
    settings: Option<&Bound<'_, PyDict>>,
    n_inputs: usize,
    plan: &PlanArgs,
) -> PyResult<Vec<Entry>> {
    let data_shape = (plan.samples, n_inputs);
    let table: Vec<&'static Method> = names
        .iter()
        .map(|n| methods::method(n).map_err(py_err))
        .collect::<PyResult<_>>()?;
    refuse_unread(settings, &table)?;
    table
        .into_iter()
        .map(|method| {
            let mut o = options(settings, method, data_shape, plan.seed)?;
            if let Some(beta) = plan.weight_decay {
                o.gradient.weight_decay = beta;
                o.convex.beta = beta;
            }
            let trainer = method.trainer(&o).map_err(py_err)?;
            Ok(Entry { method, trainer })
        })
        .collect()
}

type Problem<'py> = (
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    String,
);

fn case(p: &Problem<'_>) -> PyResult<Case> {
    Ok(Case {
        name: p.2.clone(),
        teacher_seed: None,
        data: dataset(&p.0, &p.1, None, None)?,
    })
}

/// The problems, methods and plan of a comparison, checked as [`compare_all`] checks them before
/// it starts: the methods, their settings, and every method on every problem.
struct Comparison {
    arch: Architecture,
    cases: Vec<Case>,
    entries: Vec<Entry>,
}

impl Comparison {
    fn new(
        problems: &[Problem<'_>],
        hidden: &[usize],
        output: &str,
        method_names: &[String],
        settings: Option<&Bound<'_, PyDict>>,
        plan: &PlanArgs,
    ) -> PyResult<Self> {
        let cases: Vec<Case> = problems.iter().map(case).collect::<PyResult<_>>()?;
        let first = &cases
            .first()
            .ok_or_else(|| PyValueError::new_err("compare needs at least one problem"))?
            .data;
        let arch = architecture(first.n_inputs(), hidden, first.n_outputs(), output)?;
        let entries = entries(method_names, settings, first.n_inputs(), plan)?;
        for case in &cases {
            if case.data.n_samples() > plan.samples {
                return Err(PyValueError::new_err(format!(
                    "problem '{}' has {} samples, more than the plan's {}",
                    case.name,
                    case.data.n_samples(),
                    plan.samples
                )));
            }
            let p = cvxnn::train::Problem::new(&case.data, &arch).map_err(py_err)?;
            for e in &entries {
                e.trainer.check(&p).map_err(py_err)?;
            }
        }
        Limits {
            time_limit: plan.time_limit,
            interrupt: None,
        }
        .validate()
        .map_err(py_err)?;
        plan.plan(None)?;
        Ok(Self {
            arch,
            cases,
            entries,
        })
    }
}

/// Checks a comparison without running it (before its tasks go to an executor).
#[pyfunction]
pub fn compare_check(
    problems: Vec<Problem<'_>>,
    hidden: Vec<usize>,
    output: &str,
    method_names: Vec<String>,
    settings: Option<&Bound<'_, PyDict>>,
    plan: PlanArgs,
) -> PyResult<()> {
    Comparison::new(&problems, &hidden, output, &method_names, settings, &plan).map(|_| ())
}

/// Every (problem, start, method) row, on `jobs` threads; with the exception a signal handler
/// raised (the rows of the runs started before it are kept).
#[pyfunction]
#[pyo3(signature = (problems, hidden, output, method_names, settings, plan, jobs))]
#[allow(clippy::too_many_arguments)]
pub fn compare_all(
    py: Python<'_>,
    problems: Vec<Problem<'_>>,
    hidden: Vec<usize>,
    output: &str,
    method_names: Vec<String>,
    settings: Option<&Bound<'_, PyDict>>,
    plan: PlanArgs,
    jobs: usize,
) -> PyResult<(String, Option<Py<PyAny>>)> {
    let c = Comparison::new(&problems, &hidden, output, &method_names, settings, &plan)?;
    let interrupt = Interrupt::new();
    let plan = plan.plan(Some(interrupt.clone()))?;
    let (rows, raised) = interruptible(py, &interrupt, || {
        compare::run_all(&c.arch, &c.entries, &c.cases, &plan, jobs, &|_, _| {})
    });
    Ok((json(&rows.map_err(py_err)?)?, raised))
}

/// One row: method `method_names[method]` on `problem` (number `index` among the comparison's
/// problems) from start `start`. The settings are checked against all of `method_names`, as
/// [`compare_all`] checks them.
#[pyfunction]
#[pyo3(signature = (problem, index, start, hidden, output, method_names, method, settings, plan))]
#[allow(clippy::too_many_arguments)]
pub fn compare_task(
    py: Python<'_>,
    problem: Problem<'_>,
    index: usize,
    start: usize,
    hidden: Vec<usize>,
    output: &str,
    method_names: Vec<String>,
    method: usize,
    settings: Option<&Bound<'_, PyDict>>,
    plan: PlanArgs,
) -> PyResult<String> {
    let case = case(&problem)?;
    let arch = architecture(case.data.n_inputs(), &hidden, case.data.n_outputs(), output)?;
    let mut entries = entries(&method_names, settings, case.data.n_inputs(), &plan)?;
    if method >= entries.len() {
        return Err(PyValueError::new_err(format!(
            "method index {method} out of {} method(s)",
            entries.len()
        )));
    }
    let entry = entries.swap_remove(method);
    let plan = plan.plan(None)?;
    let problem = cvxnn::train::Problem::new(&case.data, &arch).map_err(py_err)?;
    entry.trainer.check(&problem).map_err(py_err)?;
    let row = py.detach(|| compare::run_task(&arch, &entry, &case, index, start, &plan));
    json(&row)
}
