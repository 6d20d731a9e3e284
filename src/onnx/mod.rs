//! ONNX export: a model as a standard ONNX graph that any ONNX runtime evaluates.
//!
//! The graph takes one input `x` of shape `[N, n_x]` (samples as rows, ONNX's convention; N is
//! symbolic) and gives one output `y` of shape `[N, n_y]`, in the data's own units:
//!
//! - the stored standardisation of the inputs as `Sub` then `Div` (the same two roundings as
//!   [`Model::predict`]);
//! - each layer as `MatMul(h, Wᵀ)` then `Add(b)`, followed by `Relu` on the hidden layers and on
//!   a ReLU output;
//! - a threshold network as the same affine map, `Greater` than 0, `Cast` to the value type and
//!   `ReduceMin` over the units (1 exactly when every unit fires: the AND);
//! - the targets' standardisation undone as `Mul` then `Add`;
//! - a model of class probabilities (trained on the cross-entropy) ends in `Sigmoid` (one logit)
//!   or `Softmax` over the classes (axis 1).
//!
//! Values are float64 or float32 ([`Precision`]); the operator set is ONNX 13. The model's column
//! names go into the graph's documentation and into the metadata (`cvxnn.inputs`,
//! `cvxnn.targets`, as JSON lists). The file is written with `prost` from message definitions of
//! the fields used here (field numbers of onnx.proto), so no code generation or `protoc` is
//! needed.

use crate::data::Standardizer;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::model::Model;
use crate::net::{Activation, Link, Mlp, Network, ThresholdNetwork};
use prost::Message;
use std::path::Path;

pub mod import;
pub mod proto;

/// ONNX's operator set the graph is written for: every operator used has had its current
/// semantics since 13 (ReduceMin's `axes` is an attribute until 18).
pub const OPSET: i64 = 13;
/// ONNX IR version 7 is the one of operator set 13.
const IR_VERSION: i64 = 7;

pub use crate::linalg::Precision;

/// The `TensorProto.DataType` code of a precision.
fn data_type(precision: Precision) -> i32 {
    match precision {
        Precision::F64 => 11,
        Precision::F32 => 1,
    }
}

impl Model {
    /// The model as an ONNX file (bytes): standardisation, network, and the column names as
    /// metadata.
    pub fn to_onnx(&self, precision: Precision) -> Result<Vec<u8>> {
        let mut g = Graph::new(precision, self.n_inputs());
        let mut h = INPUT.to_string();
        if let Some(s) = &self.scaling {
            h = g.standardize(&h, &s.inputs, "x_scaled")?;
        }
        let out = match &self.network {
            Network::Mlp(m) => g.mlp(m, &h)?,
            Network::Threshold(t) => g.threshold(t, &h)?,
        };
        if let Some(t) = self.scaling.as_ref().and_then(|s| s.targets.as_ref()) {
            g.unstandardize(&out, t)?;
        }
        match self.link {
            Link::Identity => {}
            Link::Sigmoid => g.node("Sigmoid", &[&out], "probability", vec![]),
            Link::Softmax => g.node(
                "Softmax",
                &[&out],
                "probabilities",
                vec![proto::Attribute::int("axis", 1)],
            ),
        }
        let (inputs, targets) = match &self.columns {
            Some(c) => (c.inputs.clone(), c.targets.clone()),
            None => (numbered("x", self.n_inputs()), self.target_names()),
        };
        g.finish(
            self.n_outputs(),
            &inputs,
            &targets,
            &self.network.describe(),
        )
    }

    /// Writes [`Model::to_onnx`] to `path`.
    pub fn save_onnx(&self, path: &Path, precision: Precision) -> Result<()> {
        let bytes = self.to_onnx(precision)?;
        std::fs::write(path, bytes).map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })
    }
}

impl Mlp {
    /// The network alone as an ONNX file (no standardisation; columns `x1…`, `y1…`): the
    /// export of a model without columns or scaling.
    pub fn to_onnx(&self, precision: Precision) -> Result<Vec<u8>> {
        Model::of_network(Network::Mlp(self.clone()))?.to_onnx(precision)
    }
}

const INPUT: &str = "x";
const OUTPUT: &str = "y";

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// The graph under construction: nodes in topological order and their constant tensors.
struct Graph {
    precision: Precision,
    n_inputs: usize,
    nodes: Vec<proto::Node>,
    initializers: Vec<proto::Tensor>,
}

impl Graph {
    fn new(precision: Precision, n_inputs: usize) -> Self {
        Self {
            precision,
            n_inputs,
            nodes: Vec::new(),
            initializers: Vec::new(),
        }
    }

    /// A constant of the graph's value type, row-major `values` of shape `dims`.
    fn constant(&mut self, name: &str, dims: &[usize], values: &[f64]) -> Result<String> {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len());
        let raw = match self.precision {
            Precision::F64 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Precision::F32 => {
                let mut raw = Vec::with_capacity(4 * values.len());
                for &v in values {
                    let s = v as f32;
                    if !s.is_finite() {
                        return Err(Error::InvalidArgument(format!(
                            "{name}: {v:e} does not fit in float32; export as float64"
                        )));
                    }
                    raw.extend_from_slice(&s.to_le_bytes());
                }
                raw
            }
        };
        self.initializers.push(proto::Tensor {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type(self.precision),
            name: name.into(),
            raw_data: raw,
            ..Default::default()
        });
        Ok(name.into())
    }

    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attrs: Vec<proto::Attribute>) {
        self.nodes.push(proto::Node {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            op_type: op.into(),
            attribute: attrs,
        });
    }

    /// `(h − mean) / std`, feature by feature.
    fn standardize(&mut self, h: &str, s: &Standardizer, out: &str) -> Result<String> {
        let d = s.mean.len();
        let mean = self.constant("input_mean", &[d], &s.mean)?;
        let std = self.constant("input_std", &[d], &s.std)?;
        self.node("Sub", &[h, &mean], "x_centred", vec![]);
        self.node("Div", &["x_centred", &std], out, vec![]);
        Ok(out.into())
    }

    /// `h · std + mean`, target by target.
    fn unstandardize(&mut self, h: &str, s: &Standardizer) -> Result<()> {
        let k = s.mean.len();
        let mean = self.constant("target_mean", &[k], &s.mean)?;
        let std = self.constant("target_std", &[k], &s.std)?;
        self.node("Mul", &[h, &std], "y_scaled", vec![]);
        self.node("Add", &["y_scaled", &mean], "y_unscaled", vec![]);
        Ok(())
    }

    /// `h W_lᵀ + b_l`, layer by layer, with the activations.
    fn mlp(&mut self, m: &Mlp, input: &str) -> Result<String> {
        let layers = m.weights.len();
        let mut h = input.to_string();
        for l in 0..layers {
            let k = l + 1;
            let z = self.affine(&h, &m.weights[l], &m.biases[l], &format!("{k}"))?;
            let relu = l + 1 < layers || m.arch.output == Activation::Relu;
            h = if relu {
                let a = format!("h{k}");
                self.node("Relu", &[&z], &a, vec![]);
                a
            } else {
                z
            };
        }
        Ok(h)
    }

    /// `h Wᵀ + b` as `MatMul` with the stored `Wᵀ`, then `Add`. (`Gemm` would be one node, but
    /// tract 0.22 evaluates its bias scaling in float32 and fails on float64 graphs.)
    fn affine(&mut self, h: &str, w: &Matrix, b: &[f64], tag: &str) -> Result<String> {
        let wt = self.constant(
            &format!("W{tag}_t"),
            &[w.cols(), w.rows()],
            &column_major_rows(w),
        )?;
        let b = self.constant(&format!("b{tag}"), &[b.len()], b)?;
        let product = format!("Wx{tag}");
        let z = format!("z{tag}");
        self.node("MatMul", &[h, &wt], &product, vec![]);
        self.node("Add", &[&product, &b], &z, vec![]);
        Ok(z)
    }

    /// 1 where `w_kᵀx + b_k > 0` for every unit k, else 0.
    fn threshold(&mut self, t: &ThresholdNetwork, input: &str) -> Result<String> {
        let (units, d) = (t.units.len(), t.n_inputs());
        let w = Matrix::from_fn(units, d, |k, i| t.units[k].w[i]);
        let b: Vec<f64> = t.units.iter().map(|u| u.b).collect();
        let z = self.affine(input, &w, &b, "")?;
        let zero = self.constant("zero", &[], &[0.0])?;
        self.node("Greater", &[&z, &zero], "fires", vec![]);
        let to = i64::from(data_type(self.precision));
        self.node(
            "Cast",
            &["fires"],
            "fires_value",
            vec![proto::Attribute::int("to", to)],
        );
        self.node(
            "ReduceMin",
            &["fires_value"],
            "all_fire",
            vec![
                proto::Attribute::ints("axes", &[1]),
                proto::Attribute::int("keepdims", 1),
            ],
        );
        Ok("all_fire".into())
    }

    /// Renames the last value to `y`, declares the input and output and encodes the model.
    fn finish(
        mut self,
        n_outputs: usize,
        inputs: &[String],
        targets: &[String],
        what: &str,
    ) -> Result<Vec<u8>> {
        let node = self
            .nodes
            .last_mut()
            .expect("a network always adds at least one node");
        node.output = vec![OUTPUT.into()];
        let ty = self.precision;
        let json = |v: &[String]| serde_json::to_string(v).expect("a list of strings serialises");
        let graph = proto::GraphProto {
            node: self.nodes,
            name: "cvxnn".into(),
            initializer: self.initializers,
            doc_string: format!("{what}, {}", ty.long_name()),
            input: vec![value_info(
                INPUT,
                ty,
                self.n_inputs,
                &format!("inputs, one sample per row: {}", inputs.join(", ")),
            )],
            output: vec![value_info(
                OUTPUT,
                ty,
                n_outputs,
                &format!("outputs, one sample per row: {}", targets.join(", ")),
            )],
        };
        let model = proto::ModelProto {
            ir_version: IR_VERSION,
            producer_name: "cvxnn".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: format!("cvxnn model: {what}"),
            graph: Some(graph),
            opset_import: vec![proto::OperatorSetId {
                domain: String::new(),
                version: OPSET,
            }],
            metadata_props: vec![
                proto::Entry {
                    key: "cvxnn.inputs".into(),
                    value: json(inputs),
                },
                proto::Entry {
                    key: "cvxnn.targets".into(),
                    value: json(targets),
                },
            ],
        };
        Ok(model.encode_to_vec())
    }
}

/// `Matrix` is column-major and ONNX tensors row-major, so a matrix's column-major values are
/// the row-major values of its transpose.
fn column_major_rows(m: &Matrix) -> Vec<f64> {
    m.as_slice().to_vec()
}

/// A tensor `[N, width]` of the graph's type, N symbolic.
fn value_info(name: &str, ty: Precision, width: usize, doc: &str) -> proto::ValueInfo {
    let dim = |value: Option<i64>, param: Option<&str>| proto::Dimension {
        dim_value: value,
        dim_param: param.map(str::to_string),
    };
    proto::ValueInfo {
        name: name.into(),
        r#type: Some(proto::TypeProto {
            tensor_type: Some(proto::TensorType {
                elem_type: data_type(ty),
                shape: Some(proto::Shape {
                    dim: vec![dim(None, Some("N")), dim(Some(width as i64), None)],
                }),
            }),
        }),
        doc_string: doc.into(),
    }
}
