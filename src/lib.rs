//! # cvxnn — train neural networks as mathematical programs
//!
//! One problem description (a [`data::Dataset`] and a [`net::Architecture`], checked together as
//! a [`train::Problem`]), many methods behind one interface ([`methods::Trainer`], registered in
//! [`methods::METHODS`]): the sequential convex relaxation (SCR) of ReLU-network training
//! ([`scr`]), with a first-order backend in pure Rust (ADMM, the default) and an interior-point
//! backend (Clarabel, cargo feature `sdp`); gradient training (GD, SGD, Adam, L-BFGS,
//! Levenberg–Marquardt, [`gradient`]); exact training with a certificate ([`milp`], feature
//! `milp`). Every run starts from a [`train::Start`], is watched by a [`train::Observer`], stops
//! on [`train::Limits`] (time, Ctrl-C) and ends in one [`methods::Run`] record; [`model::Model`]
//! keeps a network with its columns and standardisation; [`compare`] runs several methods on the
//! same problems. Convex models ([`glm`]) and perceptrons by LP ([`perceptron`]) stand apart.
//!
//! ```
//! use cvxnn::data::planted_teacher;
//! use cvxnn::net::{Activation, Architecture};
//! let arch = Architecture::parse("3-3-2", Activation::Relu).unwrap();
//! let teacher = planted_teacher(&arch, 30, 1).unwrap();
//! assert_eq!(teacher.data.x.shape(), (3, 30));
//! assert_eq!(teacher.model.relative_error(&teacher.data.x, &teacher.data.y).unwrap(), 0.0);
//! ```

pub mod bounds;
pub mod compare;
pub mod conic;
pub mod convex;
pub mod data;
pub mod error;
pub mod glm;
pub mod global;
pub mod gradient;
pub mod lbfgs;
pub mod linalg;
pub mod methods;
pub mod milp;
pub mod model;
pub mod net;
pub mod onnx;
pub mod perceptron;
pub mod report;
pub mod request;
pub mod scr;
pub mod train;

pub use error::{Error, Result};

/// The Rust examples of the README and of `docs/` are compiled and run as doctests.
#[cfg(doctest)]
mod doc_examples {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/training.md")]
    struct Training;
}
