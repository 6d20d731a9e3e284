//! Exact training of linear threshold units under an AND output: Blum & Rivest's 3-node network
//! (two units) and its K-unit generalisation, as a MILP.
//!
//! A unit fires on x when `wᵀx + b > 0`; the output is 1 when every unit fires. The program asks
//! for margin 1 (`wᵀx + b ≥ 1` to fire, `≤ −1` not to) with every weight and bias in `[−B, B]`.
//! A threshold network that classifies a finite set correctly can be shifted and rescaled to
//! margin 1, so "infeasible" proves that no such network with weights in the box exists; for
//! Blum & Rivest's training set, B = 2n (n elements) holds the network built from any splitting
//! ([`crate::data::blum_rivest::network_from_split`] doubled), so the answer is exact there.
//!
//! Variables: the weights, per negative sample j and unit k a binary `off_kj` (`z ≤ −1` when set),
//! with `Σ_k off_kj ≥ 1 − e_j`; per positive sample `z_kj ≥ 1 − M e_j`. The error indicators `e_j`
//! are binaries minimised (the fewest training errors) or fixed at 0 (can the data be fit?).
//! Units are interchangeable, so their biases are ordered.

use super::model::{LinearModel, MilpCertificate, MilpSettings, MilpStatus, OnProgress};
use crate::data::blum_rivest::{and_network_errors, ThresholdUnit};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// What to train.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdMilp {
    pub units: usize,
    pub weight_bound: f64,
    /// Minimise the training errors (true) or require none (false: a feasibility problem).
    pub minimise_errors: bool,
}

/// The trained units and the certificate.
#[derive(Clone, Debug)]
pub struct ThresholdFit {
    /// `None` when no network was found (infeasible, or the time limit).
    pub units: Option<Vec<ThresholdUnit>>,
    pub status: MilpStatus,
    /// The incumbent's training errors, recomputed by evaluating the units.
    pub errors: Option<usize>,
    /// Proven lower bound on the errors of every margin-1 network in the box (`+∞` if infeasible).
    pub bound: f64,
    pub nodes: u64,
    pub seconds: f64,
    pub n_binaries: usize,
}

impl ThresholdFit {
    /// The certificate of this fit for `spec` on `inputs` inputs (the error count is an integer,
    /// so the gap closes when the errors equal the bound).
    pub fn certificate(&self, spec: &ThresholdMilp, inputs: usize) -> MilpCertificate {
        let b = spec.weight_bound;
        MilpCertificate::new(
            "threshold",
            format!(
                "{inputs}-{}-1 threshold units under AND with margin 1 and every weight and bias \
                 in [−{b}, {b}]",
                spec.units
            ),
            if spec.minimise_errors {
                "errors"
            } else {
                "exact"
            },
            self.status,
            self.errors.map_or(f64::INFINITY, |e| e as f64),
            self.bound,
            0.5,
            b,
            self.nodes,
            self.n_binaries,
            self.seconds,
        )
    }
}

fn labels(ds: &Dataset) -> Result<Vec<bool>> {
    if ds.n_outputs() != 1 {
        return Err(Error::Shape(format!(
            "a threshold network has one output, the data have {} targets",
            ds.n_outputs()
        )));
    }
    (0..ds.n_samples())
        .map(|j| match ds.y.get(0, j) {
            1.0 => Ok(true),
            0.0 => Ok(false),
            v => Err(Error::InvalidArgument(format!(
                "threshold networks need 0/1 targets, sample {} has {v}",
                j + 1
            ))),
        })
        .collect()
}

/// Trains `spec` on `ds` (0/1 targets) to a certified optimum, or proves there is no network;
/// `progress` sees the search move and may stop it.
pub fn train(
    ds: &Dataset,
    spec: &ThresholdMilp,
    settings: &MilpSettings,
    progress: OnProgress,
) -> Result<ThresholdFit> {
    settings.validate()?;
    let pos = labels(ds)?;
    if spec.units == 0 {
        return Err(Error::InvalidArgument(
            "a threshold network needs at least one unit".into(),
        ));
    }
    if spec.units.saturating_mul(ds.n_samples()) > 200_000 {
        return Err(Error::InvalidArgument(format!(
            "{} units × {} samples is beyond what a MILP can certify",
            spec.units,
            ds.n_samples()
        )));
    }
    let bw = spec.weight_bound;
    crate::bounds::check_weight_bound(bw)?;
    let (d, kk) = (ds.n_inputs(), spec.units);
    let inf = f64::INFINITY;
    let mut m = LinearModel::new();
    let (w, b) = m.layer(kk, d, bw);
    for k in 1..kk {
        m.row(0.0, inf, &[(b[k - 1], 1.0), (b[k], -1.0)]);
    }
    for (j, &positive) in pos.iter().enumerate() {
        let x = ds.x.col(j);
        // |z| ≤ B(‖x‖₁ + 1), so z ≥ 1 − M and z ≤ −1 + M hold for every network of the box
        let big = bw * (x.iter().map(|v| v.abs()).sum::<f64>() + 1.0) + 1.0;
        let e = if spec.minimise_errors {
            Some(m.binary(1.0))
        } else {
            None
        };
        let z = |k: usize| -> Vec<(usize, f64)> {
            let mut t: Vec<(usize, f64)> = w[k].iter().zip(x).map(|(&c, &v)| (c, v)).collect();
            t.push((b[k], 1.0));
            t
        };
        if positive {
            for k in 0..kk {
                // z ≥ 1 − M e
                let mut t = z(k);
                if let Some(e) = e {
                    t.push((e, big));
                }
                m.row(1.0, inf, &t);
            }
        } else {
            let mut any_off: Vec<(usize, f64)> = Vec::with_capacity(kk + 1);
            for k in 0..kk {
                let off = m.binary(0.0);
                // z ≤ −1 + M(1 − off)
                let mut t = z(k);
                t.push((off, big));
                m.row(-inf, big - 1.0, &t);
                any_off.push((off, 1.0));
            }
            // Σ off ≥ 1 − e
            if let Some(e) = e {
                any_off.push((e, 1.0));
            }
            m.row(1.0, inf, &any_off);
        }
    }
    let out = super::solve(&m, settings, None, progress)?;
    let units = out.x.as_ref().map(|v| {
        (0..kk)
            .map(|k| ThresholdUnit {
                w: w[k].iter().map(|&c| v[c]).collect(),
                b: v[b[k]],
            })
            .collect::<Vec<_>>()
    });
    let errors = units.as_ref().map(|u| and_network_errors(u, ds));
    let bound = match out.status {
        MilpStatus::Infeasible => inf,
        _ if !spec.minimise_errors => 0.0,
        // the error count is an integer
        _ => (out.bound - 1e-6).ceil().max(0.0),
    };
    Ok(ThresholdFit {
        units,
        status: out.status,
        errors,
        bound,
        nodes: out.nodes,
        seconds: out.seconds,
        n_binaries: m.n_integer(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::blum_rivest::parity;
    #[cfg(feature = "milp")]
    use crate::data::blum_rivest::SetSplitting;

    fn spec(units: usize, b: f64, minimise_errors: bool) -> ThresholdMilp {
        ThresholdMilp {
            units,
            weight_bound: b,
            minimise_errors,
        }
    }

    #[test]
    fn bad_targets_and_sizes_are_refused() {
        let ds = parity(2).unwrap();
        let st = MilpSettings::default();
        let mut twos = ds.clone();
        twos.y.set(0, 1, 2.0);
        assert!(train(&twos, &spec(2, 1.0, true), &st, None).is_err());
        assert!(train(&ds, &spec(0, 1.0, true), &st, None).is_err());
        assert!(train(&ds, &spec(2, f64::NAN, true), &st, None).is_err());
    }

    #[cfg(feature = "milp")]
    #[test]
    fn the_milp_decides_blum_rivest_instances_as_brute_force_does() {
        let st = MilpSettings::default();
        let (mut sat, mut unsat) = (0, 0);
        for seed in 0..30 {
            // 5 or 6 elements, 4 to 33 random triples: a mix of satisfiable and unsatisfiable
            let elements = 5 + seed as usize % 2;
            let sets = 4 + seed as usize;
            let inst = SetSplitting::random(elements, sets, 3, false, seed).unwrap();
            let ds = inst.training_set().unwrap();
            let truth = inst.brute_force().unwrap().is_some();
            let b = 2.0 * inst.elements as f64;
            let fit = train(&ds, &spec(2, b, false), &st, None).unwrap();
            match fit.status {
                MilpStatus::Optimal => {
                    assert!(truth, "seed {seed}: MILP fits an unsatisfiable instance");
                    let units = fit.units.as_ref().unwrap();
                    assert_eq!(and_network_errors(units, &ds), 0, "seed {seed}");
                    sat += 1;
                }
                MilpStatus::Infeasible => {
                    assert!(!truth, "seed {seed}: MILP misses a splitting");
                    unsat += 1;
                    // the fewest errors is then at least one, and certified
                    let fit = train(&ds, &spec(2, b, true), &st, None).unwrap();
                    assert_eq!(fit.status, MilpStatus::Optimal);
                    let e = fit.errors.unwrap();
                    assert!(
                        e >= 1 && fit.bound == e as f64,
                        "seed {seed}: {e} vs {}",
                        fit.bound
                    );
                }
                MilpStatus::TimeLimit | MilpStatus::Interrupted => {
                    panic!("seed {seed}: stopped early on a tiny instance")
                }
            }
        }
        assert!(sat >= 3 && unsat >= 3, "{sat} satisfiable, {unsat} not");
    }

    #[cfg(feature = "milp")]
    #[test]
    fn xor_needs_two_units_and_one_unit_errs_once() {
        let ds = parity(2).unwrap();
        let st = MilpSettings::default();
        // XOR is 1 on (0,1), (1,0): the AND of x1 + x2 > 0.5 and x1 + x2 < 1.5
        let two = train(&ds, &spec(2, 4.0, false), &st, None).unwrap();
        assert_eq!(two.status, MilpStatus::Optimal);
        assert_eq!(two.errors, Some(0));
        // a single threshold unit gets at best 3 of the 4 points right
        let one = train(&ds, &spec(1, 4.0, true), &st, None).unwrap();
        assert_eq!(one.status, MilpStatus::Optimal);
        assert_eq!(one.errors, Some(1));
        assert_eq!(one.bound, 1.0);
        let infeasible = train(&ds, &spec(1, 4.0, false), &st, None).unwrap();
        assert_eq!(infeasible.status, MilpStatus::Infeasible);
        assert!(infeasible.units.is_none());
    }
}
