//! Network description (`Architecture`, `Activation`) and the trained objects: the ReLU network
//! [`Mlp`], threshold units under an AND ([`ThresholdNetwork`]), and [`Network`], either of them.

mod link;
mod threshold;

pub use link::{class_figures, class_indicators, sigmoid, softmax, Link};
pub use threshold::{ThresholdNetwork, ThresholdUnit};

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Largest width accepted for one layer: beyond it a dense weight matrix is not a sensible request.
pub const MAX_WIDTH: usize = 1 << 20;

/// Samples per block of the blocked forward pass ([`Mlp::forward`]): a block's activations
/// (width × block) stay a few MB whatever N (4 MB at 2 000 units). The whole-data pass of the
/// 2 000-unit network the convex model gives at N = 10⁵ held two 1.6 GB matrices per hidden
/// layer.
const FORWARD_BLOCK: usize = 256;

/// Activation of a layer. Hidden layers are always ReLU; the output is linear or ReLU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Linear,
    Relu,
}

impl Activation {
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Linear => z,
            Activation::Relu => z.max(0.0),
        }
    }
}

impl FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "linear" | "identity" => Ok(Activation::Linear),
            "relu" => Ok(Activation::Relu),
            _ => Err(Error::InvalidArgument(format!(
                "unknown activation '{s}' (expected 'linear' or 'relu')"
            ))),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
        })
    }
}

/// Layer widths `n_0-n_1-…-n_L` (input first), ReLU hidden layers, and the output activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    pub widths: Vec<usize>,
    pub output: Activation,
}

impl Architecture {
    /// Validated architecture: at least input and output, every width in `1..=MAX_WIDTH`.
    pub fn new(widths: Vec<usize>, output: Activation) -> Result<Self> {
        if widths.len() < 2 {
            return Err(Error::InvalidArgument(format!(
                "an architecture needs at least an input and an output width, got {widths:?}"
            )));
        }
        if let Some(w) = widths.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
            return Err(Error::InvalidArgument(format!(
                "layer width {w} is outside 1..={MAX_WIDTH}"
            )));
        }
        Ok(Self { widths, output })
    }

    /// Parses `"3-3-2"` (input 3, one hidden layer of 3, output 2).
    pub fn parse(spec: &str, output: Activation) -> Result<Self> {
        let widths = spec
            .split('-')
            .map(|p| {
                p.trim().parse::<usize>().map_err(|_| {
                    Error::InvalidArgument(format!(
                        "architecture '{spec}': '{p}' is not a layer width (expected e.g. 3-3-2)"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(widths, output)
    }

    pub fn n_inputs(&self) -> usize {
        self.widths[0]
    }

    pub fn n_outputs(&self) -> usize {
        *self.widths.last().expect("validated: at least two widths")
    }

    /// Number of hidden layers.
    pub fn n_hidden_layers(&self) -> usize {
        self.widths.len() - 2
    }

    /// Number of weights and biases.
    pub fn n_parameters(&self) -> usize {
        self.widths.windows(2).map(|w| w[1] * (w[0] + 1)).sum()
    }

    /// Refuses data with `inputs` input and `targets` target columns unless they are this
    /// architecture's input and output widths.
    pub fn check_widths(&self, inputs: usize, targets: usize) -> Result<()> {
        if inputs != self.n_inputs() || targets != self.n_outputs() {
            return Err(Error::Shape(format!(
                "the architecture {} takes {} input(s) and gives {} output(s); the data have {} \
                 input and {} target column(s)",
                self.spec(),
                self.n_inputs(),
                self.n_outputs(),
                inputs,
                targets
            )));
        }
        Ok(())
    }

    /// Refuses inputs `x` (d × N) and targets `y` (k × N) this architecture cannot be trained
    /// on: other widths, other sample counts, no samples.
    pub fn check_data(&self, x: &Matrix, y: &Matrix) -> Result<()> {
        self.check_widths(x.rows(), y.rows())?;
        if x.cols() != y.cols() || x.cols() == 0 {
            return Err(Error::Shape(format!(
                "{} input and {} target samples (need the same, at least one)",
                x.cols(),
                y.cols()
            )));
        }
        Ok(())
    }

    /// `"3-3-2"`.
    pub fn spec(&self) -> String {
        self.widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} output)", self.spec(), self.output)
    }
}

/// A fully connected ReLU network: `x_l = relu(W_l x_{l-1} + b_l)`, the last layer with the
/// architecture's output activation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    pub arch: Architecture,
    /// `weights[l]` is `n_{l+1} × n_l`.
    pub weights: Vec<Matrix>,
    /// `biases[l]` has length `n_{l+1}`.
    pub biases: Vec<Vec<f64>>,
}

impl Mlp {
    /// Builds a network, checking every shape against the architecture and that all values are finite.
    pub fn new(arch: Architecture, weights: Vec<Matrix>, biases: Vec<Vec<f64>>) -> Result<Self> {
        let mlp = Self {
            arch,
            weights,
            biases,
        };
        mlp.validate()?;
        Ok(mlp)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let Architecture { widths, .. } = &self.arch;
        let layers = widths.len() - 1;
        if self.weights.len() != layers || self.biases.len() != layers {
            return Err(Error::Shape(format!(
                "architecture {} has {layers} layers, model has {} weight matrices and {} biases",
                self.arch.spec(),
                self.weights.len(),
                self.biases.len()
            )));
        }
        for l in 0..layers {
            if self.weights[l].shape() != (widths[l + 1], widths[l]) {
                return Err(Error::Shape(format!(
                    "layer {}: weight is {:?}, expected ({}, {})",
                    l + 1,
                    self.weights[l].shape(),
                    widths[l + 1],
                    widths[l]
                )));
            }
            if self.biases[l].len() != widths[l + 1] {
                return Err(Error::Shape(format!(
                    "layer {}: bias has length {}, expected {}",
                    l + 1,
                    self.biases[l].len(),
                    widths[l + 1]
                )));
            }
            if !self.weights[l].is_finite() || self.biases[l].iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite(format!("layer {} parameters", l + 1)));
            }
        }
        Ok(())
    }

    /// Every weight and bias zero.
    pub fn zeros(arch: &Architecture) -> Self {
        let w = &arch.widths;
        Self {
            arch: arch.clone(),
            weights: w.windows(2).map(|p| Matrix::zeros(p[1], p[0])).collect(),
            biases: w.windows(2).map(|p| vec![0.0; p[1]]).collect(),
        }
    }

    /// Every weight and bias drawn from N(0, scale²), from the given RNG.
    pub fn random_gaussian(arch: &Architecture, scale: f64, rng: &mut impl Rng) -> Self {
        let mut g = || scale * rng.sample::<f64, _>(StandardNormal);
        let weights = arch
            .widths
            .windows(2)
            .map(|w| Matrix::from_fn(w[1], w[0], |_, _| g()))
            .collect();
        let biases = arch
            .widths
            .windows(2)
            .map(|w| (0..w[1]).map(|_| g()).collect())
            .collect();
        Self {
            arch: arch.clone(),
            weights,
            biases,
        }
    }

    /// A copy with every parameter perturbed by N(0, sigma²) noise.
    pub fn perturbed(&self, sigma: f64, rng: &mut impl Rng) -> Self {
        let mut out = self.clone();
        for w in &mut out.weights {
            for v in w.as_mut_slice() {
                *v += sigma * rng.sample::<f64, _>(StandardNormal);
            }
        }
        for b in &mut out.biases {
            for v in b {
                *v += sigma * rng.sample::<f64, _>(StandardNormal);
            }
        }
        out
    }

    /// An error unless `x` has one row per input.
    fn check_inputs(&self, x: &Matrix) -> Result<()> {
        if x.rows() != self.arch.n_inputs() {
            return Err(Error::Shape(format!(
                "the model takes {} inputs, the data have {}",
                self.arch.n_inputs(),
                x.rows()
            )));
        }
        Ok(())
    }

    /// The activation of layer `l` (0-based).
    fn activation(&self, l: usize) -> Activation {
        if l + 1 == self.weights.len() {
            self.arch.output
        } else {
            Activation::Relu
        }
    }

    /// Layer `l`'s (0-based) pre-activation `W_l X_{l-1} + B_l` of its input.
    fn pre_activation(&self, l: usize, input: &Matrix) -> Result<Matrix> {
        let mut z = self.weights[l].matmul(input)?;
        z.add_to_columns(&self.biases[l])?;
        Ok(z)
    }

    /// Pre-activations `Z_l = W_l X_{l-1} + B_l` and activations `X_l` of every layer, `l = 1..L`.
    pub fn forward_layers(&self, x: &Matrix) -> Result<Vec<(Matrix, Matrix)>> {
        self.check_inputs(x)?;
        let layers = self.weights.len();
        let mut out: Vec<(Matrix, Matrix)> = Vec::with_capacity(layers);
        for l in 0..layers {
            let input = if l == 0 { x } else { &out[l - 1].1 };
            let z = self.pre_activation(l, input)?;
            let act = self.activation(l);
            let h = z.map(|v| act.apply(v));
            out.push((z, h));
        }
        Ok(out)
    }

    /// The forward pass over blocks of [`FORWARD_BLOCK`] samples: `visit(first sample of the
    /// block, activations X_l of every layer on it)`. Each sample's arithmetic is the same as
    /// in [`Mlp::forward_layers`], so the values are bit for bit the same.
    fn forward_blocks(&self, x: &Matrix, mut visit: impl FnMut(usize, &[Matrix])) -> Result<()> {
        self.check_inputs(x)?;
        let (d, n) = x.shape();
        let mut hs: Vec<Matrix> = Vec::with_capacity(self.weights.len());
        for start in (0..n).step_by(FORWARD_BLOCK) {
            let end = (start + FORWARD_BLOCK).min(n);
            let block =
                Matrix::from_col_major(d, end - start, x.as_slice()[start * d..end * d].to_vec())?;
            hs.clear();
            for l in 0..self.weights.len() {
                let mut h = self.pre_activation(l, hs.last().unwrap_or(&block))?;
                let act = self.activation(l);
                h.as_mut_slice().iter_mut().for_each(|v| *v = act.apply(*v));
                hs.push(h);
            }
            visit(start, &hs);
        }
        Ok(())
    }

    /// Network output `f(X)` for inputs with samples as columns, computed by blocks of samples.
    pub fn forward(&self, x: &Matrix) -> Result<Matrix> {
        let outputs = self.arch.n_outputs();
        let mut out = Matrix::zeros(outputs, x.cols());
        self.forward_blocks(x, |start, hs| {
            let last = hs.last().expect("validated: at least one layer").as_slice();
            out.as_mut_slice()[start * outputs..start * outputs + last.len()].copy_from_slice(last);
        })?;
        Ok(out)
    }

    /// The first hidden layer (1-based) whose units are all off on every sample of `x`, if any.
    pub fn dead_hidden_layer(&self, x: &Matrix) -> Result<Option<usize>> {
        let mut alive = vec![false; self.weights.len() - 1];
        self.forward_blocks(x, |_, hs| {
            for (a, h) in alive.iter_mut().zip(hs) {
                *a = *a || h.as_slice().iter().any(|&v| v != 0.0);
            }
        })?;
        Ok(alive.iter().position(|&a| !a).map(|l| l + 1))
    }

    /// Mean squared error `‖Y − f(X)‖_F² / (n_y N)`.
    pub fn mse(&self, x: &Matrix, y: &Matrix) -> Result<f64> {
        let r = self.forward(x)?.sub(y)?;
        Ok(r.frobenius().powi(2) / (r.rows() * r.cols()).max(1) as f64)
    }

    /// The weight-decay objective `(1/2N)‖f(X) − Y‖_F² + (β/2) Σ (every weight² and every hidden
    /// bias²)`: the output bias is not penalised (the convex reformulation's networks have none,
    /// and training with weight decay keeps it at zero). For two-layer networks this is the
    /// objective of docs/convex.md.
    pub fn weight_decay_objective(&self, x: &Matrix, y: &Matrix, beta: f64) -> Result<f64> {
        let r = self.forward(x)?.sub(y)?;
        Ok(r.frobenius().powi(2) / (2 * r.cols().max(1)) as f64
            + 0.5 * beta * self.decayed_squares())
    }

    /// `Σ w²` over every weight and every hidden bias (what weight decay penalises).
    pub fn decayed_squares(&self) -> f64 {
        let layers = self.weights.len();
        self.weights
            .iter()
            .flat_map(|w| w.as_slice())
            .chain(self.biases[..layers - 1].iter().flatten())
            .map(|v| v * v)
            .sum()
    }

    /// Relative output error `‖Y − f(X)‖_F / ‖Y‖_F` (absolute when `Y = 0`).
    pub fn relative_error(&self, x: &Matrix, y: &Matrix) -> Result<f64> {
        let r = self.forward(x)?.sub(y)?.frobenius();
        let ny = y.frobenius();
        Ok(if ny > 0.0 { r / ny } else { r })
    }
}

/// A trained network of any kind cvxnn makes: what every method returns and every model file
/// holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Network {
    /// A ReLU network (every method but the threshold MILP).
    Mlp(Mlp),
    /// Linear threshold units under an AND output (the threshold MILP).
    Threshold(ThresholdNetwork),
}

impl Network {
    pub fn n_inputs(&self) -> usize {
        match self {
            Network::Mlp(m) => m.arch.n_inputs(),
            Network::Threshold(t) => t.n_inputs(),
        }
    }

    pub fn n_outputs(&self) -> usize {
        match self {
            Network::Mlp(m) => m.arch.n_outputs(),
            Network::Threshold(_) => 1,
        }
    }

    /// Outputs for inputs with samples as columns (0/1 for threshold networks).
    pub fn forward(&self, x: &Matrix) -> Result<Matrix> {
        match self {
            Network::Mlp(m) => m.forward(x),
            Network::Threshold(t) => t.forward(x),
        }
    }

    /// `3-3-2 (linear output)`, `12-2-1 threshold units under AND`.
    pub fn describe(&self) -> String {
        match self {
            Network::Mlp(m) => m.arch.to_string(),
            Network::Threshold(t) => format!(
                "{}-{}-1 threshold units under AND",
                t.n_inputs(),
                t.units.len()
            ),
        }
    }

    pub fn as_mlp(&self) -> Option<&Mlp> {
        match self {
            Network::Mlp(m) => Some(m),
            Network::Threshold(_) => None,
        }
    }

    /// Checks shapes and values (what a loaded file must pass).
    pub fn validate(&self) -> Result<()> {
        match self {
            Network::Mlp(m) => {
                Architecture::new(m.arch.widths.clone(), m.arch.output)?;
                m.validate()
            }
            Network::Threshold(t) => t.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked forward pass is the whole-data one bit for bit (the products are faer's
    /// GEMMs, on blocks of 256 columns here and of 512 there), for a sample count that fills
    /// neither kind of block, widths that fill no GEMM micro-kernel, and every output.
    #[test]
    fn the_blocked_forward_pass_is_the_whole_data_one() {
        use rand::SeedableRng;
        let arch = Architecture::parse("37-129-33-5", Activation::Relu).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let net = Mlp::random_gaussian(&arch, 0.3, &mut rng);
        let x = Matrix::from_fn(37, 1_301, |i, j| {
            ((i * 31 + j * 7) % 23) as f64 / 11.0 - 1.0
        });
        let blocked = net.forward(&x).unwrap();
        let whole = net.forward_layers(&x).unwrap().pop().unwrap().1;
        assert_eq!(blocked.shape(), whole.shape());
        for (a, b) in blocked.as_slice().iter().zip(whole.as_slice()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn parse_architecture() {
        let a = Architecture::parse("3-3-2", Activation::Relu).unwrap();
        assert_eq!(a.widths, vec![3, 3, 2]);
        assert_eq!(a.n_parameters(), 3 * 4 + 2 * 4);
        assert_eq!(a.spec(), "3-3-2");
        for bad in ["3", "3-x-2", "3-0-2", "", "3--2", "-1-2"] {
            assert!(
                Architecture::parse(bad, Activation::Linear).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn forward_by_hand() {
        let arch = Architecture::parse("2-2-1", Activation::Linear).unwrap();
        let w1 = Matrix::from_rows(&[vec![1.0, -1.0], vec![2.0, 0.0]]).unwrap();
        let w2 = Matrix::from_rows(&[vec![1.0, -3.0]]).unwrap();
        let m = Mlp::new(arch, vec![w1, w2], vec![vec![0.0, -1.0], vec![0.5]]).unwrap();
        // x = (1, 2): z1 = (-1, 1) -> h = (0, 1) -> y = 0 - 3 + 0.5
        let x = Matrix::from_rows(&[vec![1.0], vec![2.0]]).unwrap();
        assert_eq!(m.forward(&x).unwrap().get(0, 0), -2.5);
        let bad = Matrix::zeros(3, 1);
        assert!(m.forward(&bad).is_err());
    }
}
