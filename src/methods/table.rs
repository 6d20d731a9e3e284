//! The one table of training methods: names, help, the settings groups each reads, the scheme of
//! its random start, and how to build it from its settings. The built-in rows are [`METHODS`];
//! [`register`] adds a method from outside the crate (a plug-in, a test's toy method), which
//! every front end of the library then reaches by name.

use super::{Convex, Glm, GlmKind, Gradient, Milp, Perceptron, Pipeline, Scr, Settings, Trainer};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gradient::OptimizerKind;
use crate::train::InitScheme;
use std::sync::RwLock;

/// What building a method from its settings may need of the run: its seed (the default of a
/// method's own seeds: mini-batch order, sampled gates, HiGHS) and the data's shape (the convex
/// model's `auto` patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    pub seed: u64,
    pub n_samples: usize,
    pub n_inputs: usize,
}

impl Context {
    pub fn new(seed: u64, data: &Dataset) -> Self {
        Self {
            seed,
            n_samples: data.n_samples(),
            n_inputs: data.n_inputs(),
        }
    }
}

/// What a method trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A network of the request's architecture (`arch`).
    Network,
    /// A linear model, inputs to outputs, whose network is its own (no hidden layer).
    Linear,
}

/// One row of the table.
pub struct Method {
    pub name: &'static str,
    pub help: &'static str,
    pub family: Family,
    /// The settings groups it reads (`scr`, `gradient`, …, or its own).
    pub groups: &'static [&'static str],
    /// The random start's scheme when none is asked for.
    pub default_scheme: InitScheme,
    /// The method with these settings (each group read with its defaults) for a run of `Context`.
    pub make: fn(&Settings, &Context) -> Result<Box<dyn Trainer>>,
}

impl Method {
    /// The method with these settings.
    pub fn trainer(&self, settings: &Settings, ctx: &Context) -> Result<Box<dyn Trainer>> {
        (self.make)(settings, ctx)
    }

    pub fn reads(&self, group: &str) -> bool {
        self.groups.contains(&group)
    }

    /// Refuses a group of `settings` this method does not read, naming its first key.
    pub fn refuse_unread(&self, settings: &Settings) -> Result<()> {
        let reads = if self.groups.is_empty() {
            "no settings".to_string()
        } else {
            self.groups.join(", ")
        };
        settings.refuse_unread(
            |g| self.reads(g),
            &format!("{} (it reads {reads})", self.name),
        )
    }
}

fn gradient(kind: OptimizerKind, s: &Settings, ctx: &Context) -> Result<Box<dyn Trainer>> {
    Ok(Box::new(Gradient::new(kind, s, ctx.seed)?))
}

fn glm(kind: GlmKind, s: &Settings) -> Result<Box<dyn Trainer>> {
    Ok(Box::new(Glm::new(kind, s)?))
}

const SCR: &[&str] = &["scr"];
const GRADIENT: &[&str] = &["gradient"];
const GLM: &[&str] = &["glm"];

/// Every built-in network-training method.
pub const METHODS: &[Method] = &[
    Method {
        name: "scr",
        family: Family::Network,
        help: "Sequential convex relaxation (docs/scr.md)",
        groups: SCR,
        default_scheme: InitScheme::Gaussian,
        make: |s, _| Ok(Box::new(Scr::from_settings(s)?)),
    },
    Method {
        name: "gd",
        family: Family::Network,
        help: "Full-batch gradient descent",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |s, ctx| gradient(OptimizerKind::Gd, s, ctx),
    },
    Method {
        name: "sgd",
        family: Family::Network,
        help: "Mini-batch SGD with momentum",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |s, ctx| gradient(OptimizerKind::Sgd, s, ctx),
    },
    Method {
        name: "adam",
        family: Family::Network,
        help: "Adam (full batch unless a mini-batch size is given)",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |s, ctx| gradient(OptimizerKind::Adam, s, ctx),
    },
    Method {
        name: "lbfgs",
        family: Family::Network,
        help: "L-BFGS with a weak-Wolfe line search",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |s, ctx| gradient(OptimizerKind::Lbfgs, s, ctx),
    },
    Method {
        name: "lm",
        family: Family::Network,
        help: "Levenberg–Marquardt (nonlinear least squares; small networks)",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |s, ctx| gradient(OptimizerKind::Lm, s, ctx),
    },
    Method {
        name: "scr+lbfgs",
        family: Family::Network,
        help: "SCR, then L-BFGS from SCR's network",
        groups: &["scr", "gradient"],
        default_scheme: InitScheme::Gaussian,
        make: |s, ctx| {
            Ok(Box::new(Pipeline {
                name: "scr+lbfgs".into(),
                first: Box::new(Scr::from_settings(s)?),
                then: gradient(OptimizerKind::Lbfgs, s, ctx)?,
            }))
        },
    },
    Method {
        name: "milp",
        family: Family::Network,
        help: "Exact training by mixed-integer programming, with a certificate (feature `milp`; \
               docs/milp.md)",
        groups: &["milp"],
        default_scheme: InitScheme::He,
        make: |s, ctx| Ok(Box::new(Milp::new(s, ctx.seed)?)),
    },
    Method {
        name: "convex",
        family: Family::Network,
        help: "Two-layer ReLU training with weight decay as a convex program: the global optimum \
               with a certificate when every activation pattern is enumerated (docs/convex.md)",
        groups: &["convex"],
        default_scheme: InitScheme::He,
        make: |s, ctx| Ok(Box::new(Convex::new(s, ctx)?)),
    },
    Method {
        name: "ridge",
        family: Family::Linear,
        help: "Ridge regression, ‖y − Xw − b‖² + α‖w‖² (scikit-learn's Ridge); a linear model",
        groups: GLM,
        default_scheme: InitScheme::He,
        make: |s, _| glm(GlmKind::Ridge, s),
    },
    Method {
        name: "lasso",
        family: Family::Linear,
        help: "The lasso, ‖y − Xw − b‖²/(2N) + α‖w‖₁ (scikit-learn's Lasso); a linear model",
        groups: GLM,
        default_scheme: InitScheme::He,
        make: |s, _| glm(GlmKind::Lasso, s),
    },
    Method {
        name: "elastic-net",
        family: Family::Linear,
        help: "The elastic net, ‖·‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2 (scikit-learn's \
               ElasticNet); a linear model",
        groups: GLM,
        default_scheme: InitScheme::He,
        make: |s, _| glm(GlmKind::ElasticNet, s),
    },
    Method {
        name: "logistic",
        family: Family::Linear,
        help: "Logistic regression, C Σ log(1 + e^{−y(wᵀx + b)}) + ½‖w‖² or ‖w‖₁; softmax over \
               more than two classes (scikit-learn's LogisticRegression); a linear model",
        groups: GLM,
        default_scheme: InitScheme::He,
        make: |s, _| glm(GlmKind::Logistic, s),
    },
    Method {
        name: "svm",
        family: Family::Linear,
        help: "The linear SVM, ½‖w‖² + C Σ max(0, 1 − y(wᵀx + b)) (scikit-learn's \
               SVC(kernel=\"linear\")); a linear model",
        groups: GLM,
        default_scheme: InitScheme::He,
        make: |s, _| glm(GlmKind::Svm, s),
    },
    Method {
        name: "perceptron",
        family: Family::Linear,
        help: "A layer of threshold units by linear programming: a separating unit per class, or \
               a Farkas certificate that none exists; the robust LP's unit otherwise",
        groups: &[],
        default_scheme: InitScheme::He,
        make: |s, _| Ok(Box::new(Perceptron::new(s)?)),
    },
];

/// The methods added by [`register`], after the built-in ones.
static REGISTERED: RwLock<Vec<&'static Method>> = RwLock::new(Vec::new());

/// Adds `method` to the table for the rest of the process: requests, `compare` and reports reach
/// it by name like a built-in row. A name already taken is refused.
pub fn register(method: Method) -> Result<()> {
    let mut registered = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    if methods_in(&registered).any(|m| m.name == method.name) {
        return Err(Error::InvalidArgument(format!(
            "a method named '{}' is already in the table",
            method.name
        )));
    }
    // a row lives as long as the table: the process
    registered.push(Box::leak(Box::new(method)));
    Ok(())
}

fn methods_in<'a>(registered: &'a [&'static Method]) -> impl Iterator<Item = &'static Method> + 'a {
    METHODS.iter().chain(registered.iter().copied())
}

/// Every method of the table: the built-in rows, then the registered ones.
pub fn methods() -> Vec<&'static Method> {
    let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    methods_in(&registered).collect()
}

/// The row named `name`, or a message listing the names.
pub fn method(name: &str) -> Result<&'static Method> {
    let all = methods();
    all.iter().copied().find(|m| m.name == name).ok_or_else(|| {
        Error::setting(
            "method",
            format!(
                "is not a method: unknown method '{name}' (methods: {})",
                method_names().join(", ")
            ),
        )
    })
}

pub fn method_names() -> Vec<&'static str> {
    methods().iter().map(|m| m.name).collect()
}

/// The names of the methods of `family`.
pub fn names_of(family: Family) -> Vec<&'static str> {
    methods()
        .iter()
        .filter(|m| m.family == family)
        .map(|m| m.name)
        .collect()
}
