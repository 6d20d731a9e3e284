//! ONNX import of a two-layer ReLU network: `Linear → ReLU → Linear` as PyTorch's
//! `torch.onnx.export` writes it (`Gemm`, or `MatMul` then `Add`, with the weights as
//! initializers, `Constant` nodes or their `Transpose`), and as cvxnn's own export writes an
//! unstandardised two-layer model. Any other graph is refused, naming what it holds: the
//! import is for `certify`, whose bound covers exactly these networks.
//!
//! The graph is read as one chain from its input to its output: every node must take the chain
//! and constants only. Values are read as float64 (a float32 file's values are exact in it).

use super::proto::{self, Attribute, ModelProto, Tensor};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp};
use prost::Message;
use std::collections::HashMap;
use std::path::Path;

/// A constant: its dims and its values, row-major.
#[derive(Clone, Debug)]
struct Constant {
    dims: Vec<usize>,
    values: Vec<f64>,
}

/// What the chain has become so far: affine layers, each maybe followed by a ReLU.
#[derive(Clone, Debug, Default)]
struct Chain {
    /// `(W (out × in), b, relu)`.
    layers: Vec<(Matrix, Vec<f64>, bool)>,
    /// The operators met, for messages.
    ops: Vec<String>,
}

/// The two-layer network in an ONNX file.
pub fn load_two_layer(path: &Path) -> Result<Mlp> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    two_layer(&bytes).map_err(|e| match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// The two-layer network `d → m ReLU → K linear` of an ONNX model's bytes.
pub fn two_layer(bytes: &[u8]) -> Result<Mlp> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| Error::InvalidArgument(format!("not an ONNX model ({e})")))?;
    let graph = model
        .graph
        .ok_or_else(|| Error::InvalidArgument("the ONNX model has no graph".into()))?;
    let mut constants: HashMap<String, Constant> = HashMap::new();
    for t in &graph.initializer {
        constants.insert(t.name.clone(), tensor(t)?);
    }
    let inputs: Vec<&str> = graph
        .input
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| !constants.contains_key(*n))
        .collect();
    let [input] = inputs[..] else {
        return Err(Error::InvalidArgument(format!(
            "the graph has {} data inputs ({}); a two-layer network has one",
            inputs.len(),
            inputs.join(", ")
        )));
    };
    let mut chain_name = input.to_string();
    let mut chain = Chain::default();
    for node in &graph.node {
        let op = node.op_type.as_str();
        let on_chain: Vec<usize> = (0..node.input.len())
            .filter(|&i| node.input[i] == chain_name)
            .collect();
        let out = node.output.first().cloned().unwrap_or_default();
        if on_chain.is_empty() {
            // a node of constants only
            let value = match op {
                "Constant" => constant_attribute(&node.attribute)?,
                "Transpose" => transpose(&lookup(&constants, &node.input[0])?, &node.attribute)?,
                "Identity" => lookup(&constants, &node.input[0])?,
                other => {
                    return Err(Error::InvalidArgument(format!(
                        "the graph computes constants with {other}, which this import does not \
                         evaluate (it reads Linear–ReLU–Linear: Gemm or MatMul/Add, Relu)"
                    )))
                }
            };
            constants.insert(out, value);
            continue;
        }
        chain.ops.push(op.to_string());
        let other = |k: usize| -> Result<Constant> {
            let name = node.input.get(k).ok_or_else(|| {
                Error::InvalidArgument(format!("{op} is missing its input {}", k + 1))
            })?;
            lookup(&constants, name)
        };
        match op {
            "Identity" => {}
            "Relu" => match chain.layers.last_mut() {
                Some(l) if !l.2 => l.2 = true,
                _ => return Err(refused(&chain, "a Relu that follows no linear layer")),
            },
            "Gemm" => {
                if on_chain != [0] || int_attr(&node.attribute, "transA", 0) != 0 {
                    return Err(refused(
                        &chain,
                        "a Gemm whose data input is not its first, untransposed",
                    ));
                }
                let alpha = float_attr(&node.attribute, "alpha", 1.0);
                let beta = float_attr(&node.attribute, "beta", 1.0);
                let b = other(1)?;
                let w = matrix(&b, "Gemm's B")?;
                let w = if int_attr(&node.attribute, "transB", 0) == 1 {
                    w
                } else {
                    w.transpose()
                };
                let w = w.map(|v| alpha * v);
                let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
                    Some(_) => broadcast(&other(2)?, w.rows(), "Gemm's C")?
                        .into_iter()
                        .map(|v| beta * v)
                        .collect(),
                    None => vec![0.0; w.rows()],
                };
                chain.layers.push((w, bias, false));
            }
            "MatMul" => {
                if on_chain != [0] {
                    return Err(refused(
                        &chain,
                        "a MatMul with the data as its second input",
                    ));
                }
                let w = matrix(&other(1)?, "MatMul's weight")?.transpose();
                let rows = w.rows();
                chain.layers.push((w, vec![0.0; rows], false));
            }
            "Add" => {
                let k = if on_chain == [0] { 1 } else { 0 };
                let c = other(k)?;
                match chain.layers.last_mut() {
                    Some(l) if !l.2 => {
                        let add = broadcast(&c, l.0.rows(), "the Add's constant")?;
                        l.1.iter_mut().zip(add).for_each(|(b, a)| *b += a);
                    }
                    _ => return Err(refused(&chain, "an Add that follows no linear layer")),
                }
            }
            other => {
                return Err(refused(&chain, &format!("the operator {other}")));
            }
        }
        chain_name = out;
    }
    let outputs: Vec<&str> = graph.output.iter().map(|v| v.name.as_str()).collect();
    if outputs != [chain_name.as_str()] {
        return Err(refused(
            &chain,
            &format!(
                "outputs {} that are not the chain's end",
                outputs.join(", ")
            ),
        ));
    }
    let shape: Vec<bool> = chain.layers.iter().map(|l| l.2).collect();
    if shape != [true, false] {
        return Err(refused(
            &chain,
            "not one hidden ReLU layer and a linear output",
        ));
    }
    let (w1, b1, _) = chain.layers[0].clone();
    let (w2, b2, _) = chain.layers[1].clone();
    if w2.cols() != w1.rows() {
        return Err(Error::Shape(format!(
            "the layers do not chain: the first gives {} values, the second takes {}",
            w1.rows(),
            w2.cols()
        )));
    }
    let arch = Architecture::new(vec![w1.cols(), w1.rows(), w2.rows()], Activation::Linear)?;
    Mlp::new(arch, vec![w1, w2], vec![b1, b2])
}

/// The error for a graph that is not Linear–ReLU–Linear.
fn refused(chain: &Chain, what: &str) -> Error {
    Error::InvalidArgument(format!(
        "the ONNX graph ({}) has {what}; certify takes a two-layer ReLU network: Linear–ReLU–\
         Linear (Gemm or MatMul/Add, Relu, Gemm or MatMul/Add)",
        chain.ops.join(" → ")
    ))
}

fn lookup(constants: &HashMap<String, Constant>, name: &str) -> Result<Constant> {
    constants.get(name).cloned().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "the ONNX graph's value {name} is neither the data nor a constant"
        ))
    })
}

/// A tensor's values as float64 (float32 and float64 tensors; raw or typed fields).
fn tensor(t: &Tensor) -> Result<Constant> {
    let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let values: Vec<f64> = match t.data_type {
        1 if !t.raw_data.is_empty() => t
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        1 => t.float_data.iter().map(|&v| v as f64).collect(),
        11 if !t.raw_data.is_empty() => t
            .raw_data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        11 => t.double_data.clone(),
        other => {
            return Err(Error::InvalidArgument(format!(
                "the tensor {} has ONNX data type {other}; this import reads float (1) and \
                 double (11)",
                t.name
            )))
        }
    };
    let count: usize = dims.iter().product();
    if values.len() != count {
        return Err(Error::Shape(format!(
            "the tensor {} has dims {:?} but {} values",
            t.name,
            dims,
            values.len()
        )));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("the ONNX tensor {}", t.name)));
    }
    Ok(Constant { dims, values })
}

/// A 2-D constant as a matrix (row-major values).
fn matrix(c: &Constant, what: &str) -> Result<Matrix> {
    let [rows, cols] = c.dims[..] else {
        return Err(Error::Shape(format!(
            "{what} has dims {:?}; a weight matrix has two",
            c.dims
        )));
    };
    Ok(Matrix::from_fn(rows, cols, |i, j| c.values[i * cols + j]))
}

/// A bias of `n` values from a constant of `n` values or one value (broadcast).
fn broadcast(c: &Constant, n: usize, what: &str) -> Result<Vec<f64>> {
    match c.values.len() {
        1 => Ok(vec![c.values[0]; n]),
        len if len == n => Ok(c.values.clone()),
        len => Err(Error::Shape(format!(
            "{what} has {len} values; the layer has {n} outputs"
        ))),
    }
}

fn transpose(c: &Constant, attrs: &[Attribute]) -> Result<Constant> {
    let perm = attrs
        .iter()
        .find(|a| a.name == "perm")
        .map(|a| a.ints.clone());
    if c.dims.len() != 2 || perm.is_some_and(|p| p != [1, 0]) {
        return Err(Error::InvalidArgument(format!(
            "a Transpose of a constant with dims {:?}: this import reads 2-D transposes only",
            c.dims
        )));
    }
    let m = matrix(c, "the Transpose's input")?.transpose();
    Ok(Constant {
        dims: vec![m.rows(), m.cols()],
        values: (0..m.rows())
            .flat_map(|i| (0..m.cols()).map(move |j| (i, j)))
            .map(|(i, j)| m.get(i, j))
            .collect(),
    })
}

fn constant_attribute(attrs: &[Attribute]) -> Result<Constant> {
    attrs
        .iter()
        .find(|a| a.name == "value")
        .and_then(|a| a.t.as_ref())
        .map(tensor)
        .unwrap_or_else(|| {
            Err(Error::InvalidArgument(
                "a Constant node without a tensor value".into(),
            ))
        })
}

fn int_attr(attrs: &[proto::Attribute], name: &str, default: i64) -> i64 {
    attrs
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.i)
}

fn float_attr(attrs: &[proto::Attribute], name: &str, default: f64) -> f64 {
    attrs
        .iter()
        .find(|a| a.name == name)
        .map_or(default, |a| a.f as f64)
}
