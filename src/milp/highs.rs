//! The HiGHS branch and bound through its C API (`highs-sys`, feature `milp`).

use super::model::{LinearModel, MilpOutcome, MilpProgress, MilpSettings, MilpStatus, OnProgress};
use crate::error::{Error, Result};
use crate::train::Interrupt;
use highs_sys as h;
use std::ffi::{c_char, c_int, c_void, CString};
use std::time::Instant;

/// One HiGHS instance, destroyed on drop.
pub(crate) struct Highs {
    ptr: *mut c_void,
}

impl Drop for Highs {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from Highs_create and is destroyed once.
        unsafe { h::Highs_destroy(self.ptr) }
    }
}

fn ok(status: h::HighsInt, what: &str) -> Result<()> {
    if status == h::STATUS_ERROR {
        Err(Error::Solver(format!("HiGHS rejected {what}")))
    } else {
        Ok(())
    }
}

fn index(v: usize, what: &str) -> Result<h::HighsInt> {
    h::HighsInt::try_from(v)
        .map_err(|_| Error::InvalidArgument(format!("{what} ({v}) is too large for HiGHS")))
}

impl Highs {
    pub(crate) fn new(settings: &MilpSettings) -> Result<Self> {
        // SAFETY: plain constructor; a null pointer is checked below.
        let ptr = unsafe { h::Highs_create() };
        if ptr.is_null() {
            return Err(Error::Solver("HiGHS could not be created".into()));
        }
        let me = Self { ptr };
        me.set_bool("output_flag", settings.verbose)?;
        me.set_double("time_limit", settings.time_limit)?;
        me.set_double("mip_rel_gap", settings.rel_gap)?;
        me.set_double("mip_abs_gap", settings.abs_gap)?;
        // HiGHS's seed is a non-negative int
        me.set_int(
            "random_seed",
            (settings.seed % (i32::MAX as u64)) as h::HighsInt,
        )?;
        Ok(me)
    }

    fn set_bool(&self, name: &str, v: bool) -> Result<()> {
        let c = CString::new(name).expect("option names have no NUL");
        // SAFETY: valid instance and NUL-terminated name.
        ok(
            unsafe { h::Highs_setBoolOptionValue(self.ptr, c.as_ptr(), v as h::HighsInt) },
            name,
        )
    }

    fn set_int(&self, name: &str, v: h::HighsInt) -> Result<()> {
        let c = CString::new(name).expect("option names have no NUL");
        // SAFETY: as above.
        ok(
            unsafe { h::Highs_setIntOptionValue(self.ptr, c.as_ptr(), v) },
            name,
        )
    }

    fn set_double(&self, name: &str, v: f64) -> Result<()> {
        let c = CString::new(name).expect("option names have no NUL");
        // SAFETY: as above.
        ok(
            unsafe { h::Highs_setDoubleOptionValue(self.ptr, c.as_ptr(), v) },
            name,
        )
    }

    fn info_double(&self, name: &str) -> Option<f64> {
        let c = CString::new(name).expect("info names have no NUL");
        let mut v = 0.0;
        // SAFETY: valid instance, name and out-pointer.
        let s = unsafe { h::Highs_getDoubleInfoValue(self.ptr, c.as_ptr(), &mut v) };
        (s == h::STATUS_OK).then_some(v)
    }

    fn info_i64(&self, name: &str) -> Option<i64> {
        let c = CString::new(name).expect("info names have no NUL");
        let mut v: i64 = 0;
        // SAFETY: as above.
        let s = unsafe { h::Highs_getInt64InfoValue(self.ptr, c.as_ptr(), &mut v) };
        (s == h::STATUS_OK).then_some(v)
    }

    fn info_int(&self, name: &str) -> Option<h::HighsInt> {
        let c = CString::new(name).expect("info names have no NUL");
        let mut v: h::HighsInt = 0;
        // SAFETY: as above.
        let s = unsafe { h::Highs_getIntInfoValue(self.ptr, c.as_ptr(), &mut v) };
        (s == h::STATUS_OK).then_some(v)
    }

    /// Loads the model (as an LP when `relax`, ignoring integrality).
    pub(crate) fn pass(&self, m: &LinearModel, relax: bool) -> Result<()> {
        let n = index(m.n_cols(), "the number of columns")?;
        let rows = index(m.n_rows(), "the number of rows")?;
        let nnz = index(m.index.len(), "the number of nonzeros")?;
        let start: Vec<h::HighsInt> = m.start[..m.n_rows()]
            .iter()
            .map(|&s| s as h::HighsInt)
            .collect();
        let idx: Vec<h::HighsInt> = m.index.iter().map(|&i| i as h::HighsInt).collect();
        // HiGHS's infinity is 1e30 (anything at least that large is infinite)
        let inf = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.clamp(-1e30, 1e30)).collect() };
        let (cl, cu, rl, ru) = (
            inf(&m.col_lower),
            inf(&m.col_upper),
            inf(&m.row_lower),
            inf(&m.row_upper),
        );
        let integrality: Vec<h::HighsInt> = m
            .integer
            .iter()
            .map(|&b| {
                if b && !relax {
                    h::kHighsVarTypeInteger
                } else {
                    h::kHighsVarTypeContinuous
                }
            })
            .collect();
        // SAFETY: every array has the length HiGHS reads (n, rows or nnz); pointers live across
        // the call, which copies them.
        let s = unsafe {
            h::Highs_passMip(
                self.ptr,
                n,
                rows,
                nnz,
                h::kHighsMatrixFormatRowwise,
                h::kHighsObjSenseMinimize,
                0.0,
                m.cost.as_ptr(),
                cl.as_ptr(),
                cu.as_ptr(),
                rl.as_ptr(),
                ru.as_ptr(),
                start.as_ptr(),
                idx.as_ptr(),
                m.value.as_ptr(),
                integrality.as_ptr(),
            )
        };
        ok(s, "the model")
    }

    /// Offers a feasible point as the first incumbent.
    pub(crate) fn set_start(&self, x: &[f64]) -> Result<()> {
        // SAFETY: x has one value per column; null for the optional arrays is allowed.
        let s = unsafe {
            h::Highs_setSolution(
                self.ptr,
                x.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        ok(s, "the start point")
    }

    /// Replaces the objective's costs (one per column), for bound tightening.
    pub(crate) fn set_cost(&self, cost: &[f64]) -> Result<()> {
        let last = index(cost.len(), "the number of columns")? - 1;
        // SAFETY: cost has one entry per column of the loaded model.
        let s = unsafe { h::Highs_changeColsCostByRange(self.ptr, 0, last, cost.as_ptr()) };
        ok(s, "the objective")
    }

    /// Runs the solver; `n_cols` is the loaded model's column count.
    pub(crate) fn run(&self, n_cols: usize, integer: bool) -> Result<MilpOutcome> {
        self.run_watched(n_cols, integer, None)
    }

    /// Runs the solver with `watch` polled between branch-and-bound nodes.
    fn run_watched(
        &self,
        n_cols: usize,
        integer: bool,
        watch: Option<&mut Watch<'_, '_>>,
    ) -> Result<MilpOutcome> {
        let t0 = Instant::now();
        let watched = watch.is_some();
        if let Some(w) = watch {
            // SAFETY: `w` outlives Highs_run below, which calls `on_node` on this thread only;
            // the callback is removed again before `w` can go away.
            let s = unsafe {
                h::Highs_setCallback(
                    self.ptr,
                    Some(on_node),
                    w as *mut Watch<'_, '_> as *mut c_void,
                )
            };
            ok(s, "the progress callback")?;
            // SAFETY: valid instance.
            ok(
                unsafe { h::Highs_startCallback(self.ptr, h::kHighsCallbackMipInterrupt) },
                "the progress callback",
            )?;
        }
        // SAFETY: valid instance with a model.
        let run = unsafe { h::Highs_run(self.ptr) };
        if watched {
            // SAFETY: valid instance; a null callback clears it.
            unsafe {
                h::Highs_setCallback(self.ptr, None, std::ptr::null_mut());
            }
        }
        let seconds = t0.elapsed().as_secs_f64();
        if run == h::STATUS_ERROR {
            return Err(Error::Solver(
                "HiGHS failed (set `milp.verbose` for its log)".into(),
            ));
        }
        // SAFETY: valid instance.
        let model_status = unsafe { h::Highs_getModelStatus(self.ptr) };
        let status = match model_status {
            h::MODEL_STATUS_OPTIMAL => MilpStatus::Optimal,
            h::MODEL_STATUS_INFEASIBLE => MilpStatus::Infeasible,
            h::MODEL_STATUS_REACHED_TIME_LIMIT => MilpStatus::TimeLimit,
            h::MODEL_STATUS_REACHED_INTERRUPT => MilpStatus::Interrupted,
            h::MODEL_STATUS_UNBOUNDED | h::MODEL_STATUS_UNBOUNDED_OR_INFEASIBLE => {
                return Err(Error::Solver(
                    "HiGHS reports the program unbounded or infeasible (a bound is missing)".into(),
                ))
            }
            other => {
                return Err(Error::Solver(format!(
                    "HiGHS stopped with model status {other}"
                )))
            }
        };
        let has_point = self.info_int("primal_solution_status") == Some(2);
        let x = if has_point {
            let mut x = vec![0.0; n_cols];
            // SAFETY: x has n_cols entries; the other outputs may be null.
            let s = unsafe {
                h::Highs_getSolution(
                    self.ptr,
                    x.as_mut_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            ok(s, "the solution query")?;
            Some(x)
        } else {
            None
        };
        let objective = if x.is_some() {
            // SAFETY: valid instance.
            unsafe { h::Highs_getObjectiveValue(self.ptr) }
        } else {
            f64::INFINITY
        };
        let bound = match status {
            MilpStatus::Infeasible => f64::INFINITY,
            _ if !integer => objective,
            _ => self
                .info_double("mip_dual_bound")
                .unwrap_or(f64::NEG_INFINITY),
        };
        let nodes = if integer {
            self.info_i64("mip_node_count").unwrap_or(0).max(0) as u64
        } else {
            0
        };
        Ok(MilpOutcome {
            status,
            x,
            objective,
            bound,
            nodes,
            seconds,
        })
    }
}

/// What the node callback reads and writes: the interrupt flag, the progress callback, and what
/// it last reported.
struct Watch<'a, 'p> {
    interrupt: Option<&'a Interrupt>,
    progress: OnProgress<'p>,
    /// (incumbent, bound, seconds) of the last report.
    reported: Option<(Option<f64>, f64, f64)>,
}

impl Watch<'_, '_> {
    /// Whether to stop the search, reporting progress when the incumbent moved, or the bound
    /// moved and a second has passed since the last report.
    fn stop(&mut self, out: &h::HighsCallbackDataOut) -> bool {
        if self.interrupt.is_some_and(Interrupt::is_triggered) {
            return true;
        }
        let Some(progress) = self.progress.as_deref_mut() else {
            return false;
        };
        // HiGHS reports +∞ (or its 1e30 stand-in) before the first incumbent
        let incumbent = (out.mip_primal_bound.abs() < 1e29).then_some(out.mip_primal_bound);
        let p = MilpProgress {
            seconds: out.running_time,
            nodes: out.mip_node_count.max(0) as u64,
            incumbent,
            bound: out.mip_dual_bound,
        };
        let due = match self.reported {
            None => true,
            Some((inc, bound, at)) => {
                inc != incumbent || (bound != p.bound && p.seconds - at >= 1.0)
            }
        };
        if !due {
            return false;
        }
        self.reported = Some((incumbent, p.bound, p.seconds));
        progress(&p)
    }
}

/// HiGHS's callback between nodes: sets `user_interrupt` when the watch says stop.
unsafe extern "C" fn on_node(
    kind: c_int,
    _message: *const c_char,
    out: *const h::HighsCallbackDataOut,
    data_in: *mut h::HighsCallbackDataIn,
    user: *mut c_void,
) {
    if kind != h::kHighsCallbackMipInterrupt as c_int
        || out.is_null()
        || data_in.is_null()
        || user.is_null()
    {
        return;
    }
    // SAFETY: `user` is the `Watch` given to Highs_setCallback in `run_watched`, alive and not
    // otherwise borrowed while Highs_run runs; `out` and `data_in` are HiGHS's, valid for this
    // call.
    let (watch, out) = unsafe { (&mut *(user as *mut Watch<'_, '_>), &*out) };
    // a panic must not unwind into C: treat it as a request to stop
    let stop =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| watch.stop(out))).unwrap_or(true);
    if stop {
        // SAFETY: as above.
        unsafe { (*data_in).user_interrupt = 1 };
    }
}

/// Solves `m` by branch and bound, optionally from a feasible start point; `progress` sees the
/// search move and may stop it.
pub fn solve(
    m: &LinearModel,
    settings: &MilpSettings,
    start: Option<&[f64]>,
    progress: OnProgress,
) -> Result<MilpOutcome> {
    settings.validate()?;
    let highs = Highs::new(settings)?;
    if m.n_integer() == 0 {
        // an LP (a polish of an incumbent): cheap, so solve it to 1e-9 rather than 1e-7
        highs.set_double("primal_feasibility_tolerance", 1e-9)?;
    }
    highs.pass(m, false)?;
    if let Some(x) = start {
        highs.set_start(x)?;
    }
    let integer = m.n_integer() > 0;
    if integer && (settings.interrupt.is_some() || progress.is_some()) {
        let mut watch = Watch {
            interrupt: settings.interrupt.as_ref(),
            progress,
            reported: None,
        };
        highs.run_watched(m.n_cols(), integer, Some(&mut watch))
    } else {
        highs.run(m.n_cols(), integer)
    }
}
