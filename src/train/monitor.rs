//! How a run is watched and stopped: an [`Observer`] sees every iteration and may stop the run;
//! [`Limits`] (a time limit, an [`Interrupt`] flag) stop it from outside. Methods report each
//! iteration to their [`Monitor`] and stop when it says so; solvers with long inner loops (an
//! ADMM subproblem, a branch and bound) also poll its [`Budget`].

use super::Stop;
use crate::error::{Error, Result};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A flag that asks running methods to stop at their next check (set by a Ctrl-C handler, a
/// Python `KeyboardInterrupt`, another thread). Clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run that holds this flag to stop.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What stops a run from outside: a wall-clock limit from its start, and an interrupt flag.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Seconds from the start of the run (all its stages together).
    pub time_limit: Option<f64>,
    pub interrupt: Option<Interrupt>,
}

impl Limits {
    /// No limits.
    pub fn none() -> Self {
        Self::default()
    }

    /// Refuses a time limit that is not positive and finite.
    pub fn validate(&self) -> Result<()> {
        match self.time_limit {
            Some(t) if !(t.is_finite() && t > 0.0) => Err(Error::InvalidArgument(format!(
                "the time limit must be positive and finite, got {t}"
            ))),
            _ => Ok(()),
        }
    }
}

/// The limits of one run once it has started: a deadline and the interrupt flag. Cheap to clone
/// and to poll, so solvers can check it inside their loops.
#[derive(Clone, Debug)]
pub struct Budget {
    started: Instant,
    deadline: Option<Instant>,
    interrupt: Option<Interrupt>,
}

impl Budget {
    /// Starts the clock now.
    pub fn start(limits: &Limits) -> Self {
        let started = Instant::now();
        Self {
            started,
            deadline: limits
                .time_limit
                .map(|t| started + std::time::Duration::from_secs_f64(t.clamp(0.0, 1e9))),
            interrupt: limits.interrupt.clone(),
        }
    }

    /// Why the run must stop now, if it must: an interrupt first, then the deadline.
    pub fn exhausted(&self) -> Option<Stop> {
        if self.interrupt.as_ref().is_some_and(Interrupt::is_triggered) {
            return Some(Stop::Interrupted);
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Some(Stop::TimeLimit),
            _ => None,
        }
    }

    /// Seconds left before the deadline (`None` without one).
    pub fn remaining(&self) -> Option<f64> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64())
    }

    /// Seconds since the run started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn interrupt(&self) -> Option<&Interrupt> {
        self.interrupt.as_ref()
    }
}

/// One finished iteration, as an observer sees it.
pub struct Event<'a> {
    /// The method of the running stage (`scr`, `lbfgs`, `milp`, …).
    pub method: &'a str,
    /// Its iteration count (branch-and-bound nodes for the MILP).
    pub iteration: usize,
    /// The stage's iteration cap, if it has one.
    pub max_iter: Option<usize>,
    /// Seconds since the start of the run.
    pub seconds: f64,
    /// The relative output error `‖f(X) − Y‖_F / ‖Y‖_F` of the current network (NaN when the
    /// method has no network yet).
    pub output_error: f64,
    /// The method's own figures, in a few words (violations, loss and gradient, bound and gap).
    pub detail: &'a dyn fmt::Display,
}

/// Sees every iteration of a run; returning `Some(stop)` ends the run there, with that reason.
/// Full-batch methods report every iteration; mini-batch methods every recorded one (their
/// full-data loss is only computed then); the MILP each time its incumbent or bound moves.
pub trait Observer {
    fn observe(&mut self, event: &Event<'_>) -> Option<Stop>;
}

impl<F: FnMut(&Event<'_>) -> Option<Stop>> Observer for F {
    fn observe(&mut self, event: &Event<'_>) -> Option<Stop> {
        self(event)
    }
}

/// The observer that watches nothing.
pub struct Quiet;

impl Observer for Quiet {
    fn observe(&mut self, _: &Event<'_>) -> Option<Stop> {
        None
    }
}

/// What a running method reports to: the observer and the budget.
pub struct Monitor<'a> {
    observer: &'a mut dyn Observer,
    budget: Budget,
}

impl<'a> Monitor<'a> {
    /// Starts the clock of a run watched by `observer` within `limits`.
    pub fn new(observer: &'a mut dyn Observer, limits: &Limits) -> Self {
        Self {
            observer,
            budget: Budget::start(limits),
        }
    }

    /// An iteration finished: the observer sees it, then the limits are checked. `Some(stop)`
    /// means the method must stop here and keep what it has.
    pub fn iteration(
        &mut self,
        method: &str,
        iteration: usize,
        max_iter: Option<usize>,
        output_error: f64,
        detail: &dyn fmt::Display,
    ) -> Option<Stop> {
        let event = Event {
            method,
            iteration,
            max_iter,
            seconds: self.budget.elapsed(),
            output_error,
            detail,
        };
        let asked = self.observer.observe(&event);
        asked.or_else(|| self.budget.exhausted())
    }

    /// The limits alone, for a solver's inner loop.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }
}

/// A monitor that watches nothing and never stops a run: `let mut q = Quiet; quiet(&mut q)`.
pub fn quiet(observer: &mut Quiet) -> Monitor<'_> {
    Monitor::new(observer, &Limits::none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_then_deadline_then_observer() {
        let flag = Interrupt::new();
        let limits = Limits {
            time_limit: Some(1e-9),
            interrupt: Some(flag.clone()),
        };
        let budget = Budget::start(&limits);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(budget.exhausted(), Some(Stop::TimeLimit));
        assert_eq!(budget.remaining(), Some(0.0));
        flag.trigger();
        assert_eq!(budget.exhausted(), Some(Stop::Interrupted));
        assert_eq!(Budget::start(&Limits::none()).exhausted(), None);
        assert!(Limits {
            time_limit: Some(-1.0),
            interrupt: None
        }
        .validate()
        .is_err());
        // an observer's answer comes first, and it sees what the method reported
        let mut seen = Vec::new();
        let mut obs = |e: &Event<'_>| {
            seen.push((e.method.to_string(), e.iteration, e.detail.to_string()));
            (e.iteration == 2).then_some(Stop::StoppedByObserver)
        };
        let mut m = Monitor::new(&mut obs, &Limits::none());
        assert_eq!(m.iteration("gd", 1, Some(9), 0.5, &"a"), None);
        assert_eq!(
            m.iteration("gd", 2, Some(9), 0.4, &"b"),
            Some(Stop::StoppedByObserver)
        );
        drop(m);
        assert_eq!(seen[1], ("gd".to_string(), 2, "b".to_string()));
    }
}
