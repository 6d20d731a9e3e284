//! The one table of training methods: names, help, the option groups each reads, the scheme of
//! its random start, and how to build it from [`Options`].

use super::{Convex, Gradient, Milp, MilpOptions, Pipeline, Scr, Trainer};
use crate::convex::ConvexSettings;
use crate::error::{Error, Result};
use crate::gradient::{self, OptimizerKind};
use crate::scr::{Backend, ScrSettings};
use crate::train::InitScheme;

/// The groups of options a method reads (the command line's argument groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Scr,
    Gradient,
    Milp,
    Convex,
}

/// Every method's settings in one place: what a front end fills in and [`Method::trainer`]
/// reads.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub scr: ScrSettings,
    pub backend: Backend,
    pub gradient: gradient::Options,
    pub milp: MilpOptions,
    pub convex: ConvexSettings,
    /// Seeds the mini-batch order (unless `gradient.batch_seed` is set).
    pub seed: u64,
}

/// One row of the table.
pub struct Method {
    pub name: &'static str,
    pub help: &'static str,
    pub groups: &'static [Group],
    /// The random start's scheme when none is asked for.
    pub default_scheme: InitScheme,
    make: fn(&Options) -> Result<Box<dyn Trainer>>,
}

impl Method {
    /// The method with these settings.
    pub fn trainer(&self, options: &Options) -> Result<Box<dyn Trainer>> {
        (self.make)(options)
    }

    pub fn reads(&self, group: Group) -> bool {
        self.groups.contains(&group)
    }
}

fn scr(o: &Options) -> Result<Box<dyn Trainer>> {
    Ok(Box::new(Scr {
        settings: o.scr.clone(),
        backend: o.backend.clone(),
    }))
}

fn gradient_method(o: &Options, kind: OptimizerKind) -> Box<dyn Trainer> {
    Box::new(Gradient {
        settings: o.gradient.settings(kind, o.seed),
    })
}

fn scr_then_lbfgs(o: &Options) -> Result<Box<dyn Trainer>> {
    Ok(Box::new(Pipeline {
        name: "scr+lbfgs".into(),
        first: scr(o)?,
        then: gradient_method(o, OptimizerKind::Lbfgs),
    }))
}

fn milp(o: &Options) -> Result<Box<dyn Trainer>> {
    Ok(Box::new(Milp {
        options: MilpOptions {
            seed: o.seed,
            ..o.milp.clone()
        },
    }))
}

const SCR: &[Group] = &[Group::Scr];
const GRADIENT: &[Group] = &[Group::Gradient];

/// Every network-training method.
pub const METHODS: &[Method] = &[
    Method {
        name: "scr",
        help: "Sequential convex relaxation (docs/scr.md)",
        groups: SCR,
        default_scheme: InitScheme::Gaussian,
        make: scr,
    },
    Method {
        name: "gd",
        help: "Full-batch gradient descent",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |o| Ok(gradient_method(o, OptimizerKind::Gd)),
    },
    Method {
        name: "sgd",
        help: "Mini-batch SGD with momentum",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |o| Ok(gradient_method(o, OptimizerKind::Sgd)),
    },
    Method {
        name: "adam",
        help: "Adam (full batch unless --batch)",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |o| Ok(gradient_method(o, OptimizerKind::Adam)),
    },
    Method {
        name: "lbfgs",
        help: "L-BFGS with a strong-Wolfe line search",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |o| Ok(gradient_method(o, OptimizerKind::Lbfgs)),
    },
    Method {
        name: "lm",
        help: "Levenberg–Marquardt (nonlinear least squares; small networks)",
        groups: GRADIENT,
        default_scheme: InitScheme::He,
        make: |o| Ok(gradient_method(o, OptimizerKind::Lm)),
    },
    Method {
        name: "scr+lbfgs",
        help: "SCR, then L-BFGS from SCR's network",
        groups: &[Group::Scr, Group::Gradient],
        default_scheme: InitScheme::Gaussian,
        make: scr_then_lbfgs,
    },
    Method {
        name: "milp",
        help: "Exact training by mixed-integer programming, with a certificate (feature `milp`; \
               docs/milp.md)",
        groups: &[Group::Milp],
        default_scheme: InitScheme::He,
        make: milp,
    },
    Method {
        name: "convex",
        help: "Two-layer ReLU training with weight decay as a convex program: the global optimum \
               with a certificate when every activation pattern is enumerated (docs/convex.md)",
        groups: &[Group::Convex],
        default_scheme: InitScheme::He,
        make: |o| {
            Ok(Box::new(Convex {
                settings: o.convex.clone(),
            }))
        },
    },
];

/// The row named `name`, or a message listing the names.
pub fn method(name: &str) -> Result<&'static Method> {
    METHODS.iter().find(|m| m.name == name).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "unknown method '{name}' (methods: {})",
            method_names().join(", ")
        ))
    })
}

pub fn method_names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}
