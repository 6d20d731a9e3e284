//! What every training run shares, whatever the method: the [`Problem`] (a dataset and an
//! architecture), where the run starts ([`Start`]), how it is watched and stopped ([`Monitor`],
//! [`Observer`], [`Limits`]) and why it ended ([`Stop`]). The methods themselves implement
//! [`crate::methods::Trainer`] on top of these.

mod monitor;
mod start;
mod stop;

pub use monitor::{quiet, Budget, Event, Interrupt, Limits, Monitor, Observer, Quiet};
pub use start::{random_network, InitScheme, Start};
pub use stop::Stop;

use crate::data::Dataset;
use crate::error::Result;
use crate::net::Architecture;

/// A training problem: a dataset and the architecture to fit to it, checked to agree.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    pub data: &'a Dataset,
    pub arch: &'a Architecture,
}

impl<'a> Problem<'a> {
    /// Refuses an architecture whose input or output width differs from the data's columns.
    pub fn new(data: &'a Dataset, arch: &'a Architecture) -> Result<Self> {
        arch.check_widths(data.n_inputs(), data.n_outputs())?;
        Ok(Self { data, arch })
    }
}
