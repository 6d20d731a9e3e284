//! Rerunning a report: each run's embedded request is prepared again, its data checked against
//! the report's content hash (changed data are refused, by name), trained, and its model and
//! figures set against the report's, bit for bit, with the reasons a difference may have (another
//! cvxnn version, a run that a time limit or Ctrl-C cut short).

use super::{RunRequest, Trained};
use crate::error::{Error, Result};
use crate::report::{REPORT_FORMAT, REPORT_VERSION};
use crate::train::{Interrupt, Observer};
use serde_json::Value;
use std::path::Path;

/// One rerun and how it compares with the report's run.
#[derive(Clone, Debug)]
pub struct RunCheck {
    /// The run's place in the report (0-based), its method and start.
    pub index: usize,
    pub method: String,
    pub init: String,
    /// The rerun's model hash.
    pub trained_sha256: Option<String>,
    /// The model's file is the same, bit for bit (`None`: neither run has a model, equal).
    pub same_model: bool,
    /// The figures are the same, bit for bit: the final loss, output error, iterations and stop
    /// reason, the certificate and the warnings (every time in seconds left out).
    pub same_figures: bool,
    /// What differs, in words (empty when both are the same).
    pub differences: Vec<String>,
    /// Why they may differ: another cvxnn version, a run cut short by the clock or Ctrl-C.
    pub reasons: Vec<String>,
    /// The rerun itself.
    pub rerun: Trained,
}

impl RunCheck {
    pub fn identical(&self) -> bool {
        self.same_model && self.same_figures
    }
}

/// Reruns every run of the report at `path`; `observe` gives each run its observer (progress),
/// `interrupt` stops them. A report of another format or version, or whose data changed, is
/// refused before anything runs.
pub fn rerun(
    path: &Path,
    observe: &mut dyn FnMut(usize, &RunRequest) -> Box<dyn Observer>,
    interrupt: Option<Interrupt>,
) -> Result<Vec<RunCheck>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| Error::parse(path, format!("not JSON: {e}")))?;
    let format = report.get("format").and_then(Value::as_str);
    if format != Some(REPORT_FORMAT) {
        return Err(Error::parse(
            path,
            format!(
                "not a cvxnn training report (format {}); `compare` files are not rerun",
                format.unwrap_or("missing")
            ),
        ));
    }
    let version = report.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version != u64::from(REPORT_VERSION) {
        return Err(Error::parse(
            path,
            format!(
                "a report of version {version} records no request to rerun (version \
                 {REPORT_VERSION} reports do: train again with this cvxnn)"
            ),
        ));
    }
    let their_version = report
        .get("cvxnn_version")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let data_hash = report
        .pointer("/data/sha256")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let runs = report
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::parse(path, "the report has no runs"))?;
    // every request is prepared, and its data checked, before anything trains
    let mut prepared = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let request = RunRequest::from_value(run.get("request").cloned().unwrap_or_default())
            .map_err(|e| Error::parse(path, format!("run {}: {e}", i + 1)))?;
        let p = request.prepare(None)?;
        if p.info.sha256 != data_hash {
            return Err(Error::InvalidArgument(format!(
                "the data changed since the report: {} now has content hash {}…, the report's \
                 was {}…; refusing to rerun on other data",
                p.info.source,
                short(&p.info.sha256),
                short(&data_hash)
            )));
        }
        prepared.push((p, run));
    }
    let mut checks = Vec::new();
    for (index, (p, old)) in prepared.into_iter().enumerate() {
        let mut observer = observe(index, &p.request);
        let rerun = p.run(observer.as_mut(), interrupt.clone())?;
        checks.push(compare(index, old, rerun, &their_version));
        if interrupt.as_ref().is_some_and(Interrupt::is_triggered) {
            break;
        }
    }
    Ok(checks)
}

/// The first 12 hex digits of a hash.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Sets the rerun against the report's run `old`.
fn compare(index: usize, old: &Value, rerun: Trained, their_version: &str) -> RunCheck {
    let new = serde_json::to_value(&rerun.run).unwrap_or_default();
    let new_sha = rerun.model_sha256();
    let old_sha = old
        .get("model_sha256")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut differences = Vec::new();
    let same_model = old_sha == new_sha;
    if !same_model {
        differences.push(format!(
            "model: sha256 {} in the report, {} now",
            old_sha.as_deref().map_or("none", short),
            new_sha.as_deref().map_or("none", short)
        ));
    }
    let mut same_figures = true;
    for part in ["final", "certificate", "warnings"] {
        let a = old.get(part).cloned().map(untimed);
        let b = new.get(part).cloned().map(untimed);
        if a != b {
            same_figures = false;
            differences.push(format!(
                "{part}: {} in the report, {} now",
                brief(a.as_ref()),
                brief(b.as_ref())
            ));
        }
    }
    let stages = |v: &Value| v.get("stages").cloned().map(untimed);
    if same_figures && stages(old) != stages(&new) {
        differences.push(
            "the per-iteration traces differ (the figures above do not; a trace may record by \
             the clock, as the branch and bound's progress does)"
                .into(),
        );
    }
    let mut reasons = Vec::new();
    let current = env!("CARGO_PKG_VERSION");
    if their_version != current {
        reasons.push(format!(
            "the report was made by cvxnn {their_version}, this is {current}"
        ));
    }
    let stop = old.pointer("/final/stop_reason").and_then(Value::as_str);
    if let Some(stop @ ("time_limit" | "interrupted" | "stopped_by_observer")) = stop {
        reasons.push(format!(
            "the reported run stopped by {stop}: where a clock or a user stops a run depends on \
             the machine and the moment"
        ));
    }
    RunCheck {
        index,
        method: rerun.run.method.clone(),
        init: rerun.run.init.clone(),
        trained_sha256: new_sha,
        same_model,
        same_figures,
        differences,
        reasons,
        rerun,
    }
}

/// `value` without its times: every key `seconds` or ending in `_seconds`, at any depth.
fn untimed(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "seconds" && !k.ends_with("_seconds"))
                .map(|(k, v)| (k, untimed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(untimed).collect()),
        other => other,
    }
}

/// A value in at most 120 characters.
fn brief(value: Option<&Value>) -> String {
    let text = value.map_or("nothing".to_string(), Value::to_string);
    if text.chars().count() <= 120 {
        text
    } else {
        text.chars().take(117).collect::<String>() + "..."
    }
}
