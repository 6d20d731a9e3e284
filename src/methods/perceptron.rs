//! A layer of threshold units by linear programming (seed 001) as a method of the table: one
//! node per ±1 target column (`data.classes`: one per class against the rest, or one for two
//! classes). Each node's feasibility LP `y_i(wᵀx_i + b) ≥ 1` gives a separating unit or proves,
//! with a Farkas certificate, that none exists; the robust LP of Bennett & Mangasarian (1992)
//! gives every node the unit of least mean violation per class. The network is linear, d
//! inputs to one score per node: the separator where there is one, else the robust unit.

use super::{Certificate, Line, Metrics, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::data::{Dataset, TargetScaling};
use crate::error::{Error, Result};
use crate::glm::Watch;
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp, Network};
use crate::perceptron::{accuracy, robust_lp, separate, Answer, Separation};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::Serialize;
use std::sync::Arc;

/// A Farkas certificate counts as a proof when its residual `‖Σ λ_i y_i [x_i; 1]‖_∞` is at most
/// this: a separator would need `Σ λ_i y_i (wᵀx_i + b) ≥ 1`, which a residual this small keeps far
/// out of reach for any (w, b) of reasonable size. Measured on iris versicolor against virginica:
/// 6.5e-9.
const FARKAS_TOL: f64 = 1e-6;

/// The robust LP's unit on a node.
#[derive(Clone, Debug, Serialize)]
pub struct RobustUnit {
    pub w: Vec<f64>,
    pub b: f64,
    /// The mean violation per class (0 exactly when separable).
    pub objective: f64,
    /// Its training accuracy on the node's labels.
    pub accuracy: f64,
}

/// One node: its feasibility LP's answer and its robust unit.
#[derive(Clone, Debug, Serialize)]
pub struct PerceptronNode {
    /// The target column it separates (`species=1`, …).
    pub target: String,
    /// Samples labelled +1.
    pub n_positive: usize,
    pub separation: Separation,
    pub robust_lp: RobustUnit,
}

/// What the LPs prove: for every node, a separating unit or a certificate that none exists.
#[derive(Clone, Debug, Serialize)]
pub struct PerceptronCertificate {
    pub nodes: Vec<PerceptronNode>,
    /// Every node decided: separable, or a Farkas certificate of residual ≤ 1e-6.
    pub certified: bool,
}

impl Certificate for PerceptronCertificate {
    fn kind(&self) -> &str {
        "perceptron"
    }

    fn describe(&self) -> String {
        let separable = self
            .nodes
            .iter()
            .filter(|n| matches!(n.separation, Separation::Separable { .. }))
            .count();
        let k = self.nodes.len();
        if k == 1 {
            return if separable == 1 {
                "separable (a separating unit)".into()
            } else {
                "not separable (Farkas certificate)".into()
            };
        }
        format!(
            "{separable} of {k} nodes separable, {} not (Farkas certificates)",
            k - separable
        )
    }

    fn certified(&self) -> bool {
        self.certified
    }

    fn warnings(&self, _stop: Stop) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| match n.separation {
                Separation::NotSeparable { residual, .. } if residual > FARKAS_TOL => {
                    Some(format!(
                        "node {}: the Farkas certificate's residual {residual:.1e} is above \
                     {FARKAS_TOL:.0e}: not a proof that no separator exists",
                        n.target
                    ))
                }
                _ => None,
            })
            .collect()
    }
}

/// Every LP solved, in order.
#[derive(Clone, Debug, Serialize)]
pub struct PerceptronTrace {
    pub lps: Vec<LpRecord>,
    #[serde(rename = "final")]
    pub summary: StageSummary,
}

#[derive(Clone, Debug, Serialize)]
pub struct LpRecord {
    pub node: usize,
    /// `feasibility` or `robust`.
    pub lp: &'static str,
    pub iterations: usize,
}

impl Trace for PerceptronTrace {
    fn summary(&self) -> StageSummary {
        self.summary
    }

    fn lines(&self, _offset: f64) -> Vec<Line> {
        Vec::new()
    }
}

/// The layer of threshold units.
pub struct Perceptron;

impl Perceptron {
    pub fn new(_settings: &Settings) -> Result<Self> {
        Ok(Self)
    }

    /// Node `k`'s LPs under `watch`; `Err(stop)` inside when it stopped them.
    fn node(
        x: &Matrix,
        y: &[f64],
        target: &str,
        watch: &mut Watch,
    ) -> Result<Answer<(PerceptronNode, usize, usize)>> {
        let mut iterations = [0, 0];
        let separation = match separate(x, y, &mut counted(watch, &mut iterations[0]))? {
            Ok(s) => s,
            Err(stop) => return Ok(Err(stop)),
        };
        let (w, b, objective) = match robust_lp(x, y, &mut counted(watch, &mut iterations[1]))? {
            Ok(r) => r,
            Err(stop) => return Ok(Err(stop)),
        };
        let node = PerceptronNode {
            target: target.into(),
            n_positive: y.iter().filter(|&&v| v > 0.0).count(),
            separation,
            robust_lp: RobustUnit {
                accuracy: accuracy(x, y, &w, b),
                w,
                b,
                objective,
            },
        };
        Ok(Ok((node, iterations[0], iterations[1])))
    }
}

impl PerceptronNode {
    /// The node's unit: the separator if there is one, else the robust LP's.
    pub fn plane(&self) -> (&[f64], f64) {
        match &self.separation {
            Separation::Separable { w, b } => (w, *b),
            Separation::NotSeparable { .. } => (&self.robust_lp.w, self.robust_lp.b),
        }
    }
}

impl Trainer for Perceptron {
    fn name(&self) -> &str {
        "perceptron"
    }

    fn settings(&self) -> Settings {
        Settings::new()
    }

    fn architecture(&self, data: &Dataset, output: Activation) -> Option<Architecture> {
        Architecture::new(vec![data.n_inputs(), data.n_outputs()], output).ok()
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        let arch = problem.arch;
        if arch.n_hidden_layers() > 0 || arch.output != Activation::Linear {
            return Err(Error::setting(
                "arch",
                format!(
                    "of a layer of threshold units is its inputs and nodes (here {}-{}), got {}",
                    arch.n_inputs(),
                    arch.n_outputs(),
                    arch.spec()
                ),
            ));
        }
        let y = &problem.data.y;
        if let Some(v) = y.as_slice().iter().find(|&&v| v != 1.0 && v != -1.0) {
            return Err(Error::setting(
                "data.classes",
                format!(
                    "is needed: the perceptron separates class labels, encoded as ±1 columns; \
                     the targets hold {v}"
                ),
            ));
        }
        for k in 0..y.rows() {
            let pos = (0..y.cols()).filter(|&j| y.get(k, j) > 0.0).count();
            if pos == 0 || pos == y.cols() {
                return Err(Error::InvalidArgument(format!(
                    "target {} holds one class only: nothing to separate",
                    problem.data.target_names[k]
                )));
            }
        }
        Ok(())
    }

    fn predicts_labels(&self) -> bool {
        true
    }

    fn target_scaling(&self, _output: Activation) -> TargetScaling {
        TargetScaling::None
    }

    /// The fraction of samples every node classifies right (one node: its accuracy).
    fn metrics(&self, net: &Network, data: &Dataset) -> Result<Metrics> {
        let f = net.forward(&data.x)?;
        let y = &data.y;
        let right = (0..y.cols())
            .filter(|&j| (0..y.rows()).all(|k| (f.get(k, j) > 0.0) == (y.get(k, j) > 0.0)))
            .count();
        Ok(Metrics::from([(
            "accuracy",
            right as f64 / y.cols().max(1) as f64,
        )]))
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (x, y) = (&problem.data.x, &problem.data.y);
        let mut nodes = Vec::new();
        let mut lps = Vec::new();
        let mut stop = Stop::Optimal;
        let mut total = 0;
        for k in 0..y.rows() {
            let yk = y.row(k);
            let mut watch = |_: usize, _: f64| {
                total += 1;
                monitor.iteration("perceptron", total, None, f64::NAN, &"")
            };
            match Self::node(x, &yk, &problem.data.target_names[k], &mut watch)? {
                Ok((node, feasibility, robust)) => {
                    lps.push(LpRecord {
                        node: k,
                        lp: "feasibility",
                        iterations: feasibility,
                    });
                    lps.push(LpRecord {
                        node: k,
                        lp: "robust",
                        iterations: robust,
                    });
                    nodes.push(node);
                }
                Err(s) => {
                    stop = s;
                    break;
                }
            }
        }
        let complete = nodes.len() == y.rows();
        let network = complete
            .then(|| {
                let (d, k) = (x.rows(), nodes.len());
                let arch = Architecture::new(vec![d, k], Activation::Linear)?;
                let w = Matrix::from_fn(k, d, |r, c| nodes[r].plane().0[c]);
                let b = nodes.iter().map(|n| n.plane().1).collect();
                Mlp::new(arch, vec![w], vec![b])
            })
            .transpose()?;
        let certified = complete
            && nodes.iter().all(|n| match n.separation {
                Separation::Separable { .. } => true,
                Separation::NotSeparable { residual, .. } => residual <= FARKAS_TOL,
            });
        let seconds = monitor.budget().elapsed();
        let trace = PerceptronTrace {
            summary: StageSummary {
                iterations: lps.iter().map(|l| l.iterations).sum(),
                stop_reason: stop,
                seconds,
            },
            lps,
        };
        let mut run = Run::new(
            "perceptron",
            start,
            "no start (linear programs)".into(),
            network.map(Network::Mlp),
            problem,
            vec![Stage::new("perceptron", trace)],
            seconds,
        )?;
        run.certificate = Some(Arc::new(PerceptronCertificate { nodes, certified }));
        Ok(run)
    }
}

/// `watch`, keeping the last iteration it saw in `last`.
fn counted<'a, 'w>(
    watch: &'a mut Watch<'w>,
    last: &'a mut usize,
) -> impl FnMut(usize, f64) -> Option<Stop> + use<'a, 'w> {
    move |it, v| {
        *last = it;
        watch(it, v)
    }
}
