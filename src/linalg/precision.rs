//! The two floating-point precisions a network's passes run in, and the scalar trait their
//! kernels are written against.
//!
//! float64 is the crate's currency: data, solvers, certificates and the models' arithmetic.
//! float32 is the gradient methods' option: their passes (the GEMMs, which are nearly all of a
//! step) run twice as fast in it — faer's SGEMM 96–112 GFLOP/s against its DGEMM's 45–55 on
//! one core of this machine (AVX-512, `cargo run --release --example gemm_probe`).

use serde::{Deserialize, Serialize};

/// The value type of a network's passes, of its stored parameters and of its ONNX graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Precision {
    /// float64.
    #[default]
    #[serde(rename = "f64", alias = "float64")]
    F64,
    /// float32: parameters, data and every product in single precision.
    #[serde(rename = "f32", alias = "float32")]
    F32,
}

impl Precision {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("f64", "float64 (double precision)"),
        (
            "f32",
            "float32 (single precision): passes twice as fast, 7 significant digits",
        ),
    ];

    /// `f64` or `f32`, the request's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }

    /// `float64` or `float32`.
    pub fn long_name(self) -> &'static str {
        match self {
            Precision::F64 => "float64",
            Precision::F32 => "float32",
        }
    }

    /// Whether it is the default, float64 (a model file leaves it out then).
    pub fn is_f64(&self) -> bool {
        *self == Precision::F64
    }

    /// `v` as this precision stores it: rounded to the nearest float32, or unchanged.
    pub fn round(self, v: f64) -> f64 {
        match self {
            Precision::F64 => v,
            Precision::F32 => f64::from(v as f32),
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "f64" | "float64" | "double" => Ok(Precision::F64),
            "f32" | "float32" | "single" => Ok(Precision::F32),
            _ => Err(format!("unknown precision '{s}' (expected f64 or f32)")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A real scalar the passes' kernels run in: `f32` or `f64`, with faer's products.
pub trait Float:
    faer::traits::RealField
    + Copy
    + Default
    + PartialOrd
    + std::ops::AddAssign
    + std::ops::Mul<Output = Self>
    + std::ops::Sub<Output = Self>
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    fn of(v: f64) -> Self;
    fn get(self) -> f64;
    /// `values` in this precision: the slice itself for `f64`, else rounded into `buffer`.
    fn view<'a>(values: &'a [f64], buffer: &'a mut Vec<Self>) -> &'a [Self];
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn of(v: f64) -> Self {
        v
    }
    #[inline]
    fn get(self) -> f64 {
        self
    }
    fn view<'a>(values: &'a [f64], _: &'a mut Vec<Self>) -> &'a [Self] {
        values
    }
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn get(self) -> f64 {
        f64::from(self)
    }
    fn view<'a>(values: &'a [f64], buffer: &'a mut Vec<Self>) -> &'a [Self] {
        buffer.clear();
        buffer.extend(values.iter().map(|&v| v as f32));
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_rounding_is_float32s() {
        for p in [Precision::F64, Precision::F32] {
            assert_eq!(p.name().parse::<Precision>().unwrap(), p);
            assert_eq!(p.long_name().parse::<Precision>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Precision>(&json).unwrap(), p);
        }
        assert!("f16".parse::<Precision>().is_err());
        let v = 0.1_f64;
        assert_eq!(Precision::F64.round(v), v);
        assert_eq!(Precision::F32.round(v), f64::from(0.1_f32));
        assert_ne!(Precision::F32.round(v), v);
        let mut buffer = Vec::new();
        assert_eq!(f32::view(&[v, 2.0], &mut buffer), &[0.1_f32, 2.0]);
    }
}
