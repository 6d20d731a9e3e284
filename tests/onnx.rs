//! ONNX export, checked by an independent runtime: tract (pure Rust) loads each exported file and
//! its outputs must equal cvxnn's own predictions — to 1e-12 in float64, to float32's precision
//! in float32 — for ReLU networks of one and two hidden layers, both outputs, with and without
//! the stored standardisation, and for threshold networks.

use cvxnn::data::{planted_teacher, Dataset, Scaling, TargetScaling};
use cvxnn::linalg::Matrix;
use cvxnn::model::{Columns, Model};
use cvxnn::net::{Activation, Architecture, Mlp, Network, ThresholdNetwork, ThresholdUnit};
use cvxnn::onnx::{proto, Precision, OPSET};
use prost::Message;
use rand::{Rng, SeedableRng};
use tract_onnx::prelude::*;

/// Runs an ONNX file on `x` (features × samples) with tract; returns outputs × samples.
fn run_tract(bytes: &[u8], x: &Matrix, precision: Precision) -> Matrix {
    let (d, n) = x.shape();
    let rows: Vec<f64> = (0..n).flat_map(|j| x.col(j).to_vec()).collect();
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .expect("tract reads the file");
    let (model, input): (_, Tensor) = match precision {
        Precision::F64 => (
            model.with_input_fact(0, f64::fact([n, d]).into()).unwrap(),
            tract_ndarray::Array2::from_shape_vec((n, d), rows)
                .unwrap()
                .into(),
        ),
        Precision::F32 => (
            model.with_input_fact(0, f32::fact([n, d]).into()).unwrap(),
            tract_ndarray::Array2::from_shape_vec((n, d), rows.iter().map(|&v| v as f32).collect())
                .unwrap()
                .into(),
        ),
    };
    let plan = model
        .into_optimized()
        .expect("tract optimises the graph")
        .into_runnable()
        .unwrap();
    let out = plan.run(tvec!(input.into())).expect("tract runs the graph");
    let out = out[0].cast_to::<f64>().unwrap();
    let view = out.to_array_view::<f64>().unwrap();
    let k = view.shape()[1];
    assert_eq!(view.shape()[0], n);
    Matrix::from_fn(k, n, |i, j| view[[j, i]])
}

/// The largest difference relative to the largest value (at least 1).
fn max_diff(a: &Matrix, b: &Matrix) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.as_slice().iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn random_inputs(d: usize, n: usize, seed: u64) -> Matrix {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Matrix::from_fn(d, n, |_, _| rng.random_range(-3.0..3.0))
}

fn mlp_model(spec: &str, output: Activation, scaled: bool, seed: u64) -> (Model, Dataset) {
    let arch = Architecture::parse(spec, output).unwrap();
    let t = planted_teacher(&arch, 200, seed).unwrap();
    // data in units far from the network's: the standardisation must be part of the graph
    let mut data = t.data.clone();
    data.x = data.x.map(|v| 40.0 * v + 7.0);
    data.y = data
        .y
        .map(|v| 0.1 * v + if output == Activation::Relu { 0.0 } else { 3.0 });
    let scaling = scaled.then(|| {
        let targets = match output {
            Activation::Relu => TargetScaling::ScaleOnly,
            Activation::Linear => TargetScaling::Standardize,
        };
        Scaling::fit(&data, targets)
    });
    let columns = Columns {
        inputs: (0..arch.n_inputs())
            .map(|i| format!("feature {i}"))
            .collect(),
        targets: (0..arch.n_outputs())
            .map(|i| format!("target, {i}"))
            .collect(),
    };
    let model = Model::new(Network::Mlp(t.model.clone()), columns, scaling).unwrap();
    (model, data)
}

#[test]
fn float64_export_equals_the_forward_pass() {
    for (spec, output) in [
        ("3-3-2", Activation::Linear),
        ("3-3-2", Activation::Relu),
        ("3-4-4-2", Activation::Linear),
        ("5-8-1", Activation::Relu),
    ] {
        for scaled in [false, true] {
            let (model, data) = mlp_model(spec, output, scaled, 3);
            let bytes = model.to_onnx(Precision::F64).unwrap();
            let ours = model.predict(&data.x).unwrap();
            let theirs = run_tract(&bytes, &data.x, Precision::F64);
            let diff = max_diff(&theirs, &ours);
            assert!(diff < 1e-12, "{spec} {output} scaled {scaled}: {diff:e}");
            // and the outputs are not trivially zero
            assert!(ours.as_slice().iter().any(|v| v.abs() > 1e-3));
        }
    }
}

#[test]
fn float32_export_agrees_to_single_precision() {
    let (model, data) = mlp_model("3-4-4-2", Activation::Linear, true, 5);
    let bytes = model.to_onnx(Precision::F32).unwrap();
    let ours = model.predict(&data.x).unwrap();
    let theirs = run_tract(&bytes, &data.x, Precision::F32);
    let diff = max_diff(&theirs, &ours);
    assert!(diff < 1e-5, "{diff:e}");
    // single precision really is used: the float64 file is closer
    let exact = run_tract(
        &model.to_onnx(Precision::F64).unwrap(),
        &data.x,
        Precision::F64,
    );
    assert!(max_diff(&exact, &ours) < diff);
}

#[test]
fn mlp_export_has_no_standardisation() {
    let arch = Architecture::parse("2-3-1", Activation::Linear).unwrap();
    let mlp = planted_teacher(&arch, 10, 2).unwrap().model;
    let x = random_inputs(2, 50, 9);
    let theirs = run_tract(&mlp.to_onnx(Precision::F64).unwrap(), &x, Precision::F64);
    assert!(max_diff(&theirs, &mlp.forward(&x).unwrap()) < 1e-12);
}

#[test]
fn threshold_export_is_the_and_of_its_units() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let units = (0..3)
        .map(|_| ThresholdUnit {
            w: (0..4).map(|_| rng.random_range(-1.0..1.0)).collect(),
            b: rng.random_range(-0.5..0.5),
        })
        .collect();
    let net = ThresholdNetwork { units };
    let x = random_inputs(4, 300, 11);
    let columns = Columns {
        inputs: (1..=4).map(|i| format!("x{i}")).collect(),
        targets: vec!["label".into()],
    };
    let model = Model::new(Network::Threshold(net), columns, None).unwrap();
    let ours = model.predict(&x).unwrap();
    let ones = ours.as_slice().iter().filter(|&&v| v == 1.0).count();
    assert!(
        ones > 10 && ones < 290,
        "{ones} of 300 fire: a weak test instance"
    );
    for precision in [Precision::F64, Precision::F32] {
        let theirs = run_tract(&model.to_onnx(precision).unwrap(), &x, precision);
        assert_eq!(theirs, ours, "{precision:?}");
    }
}

#[test]
fn the_file_is_standard_onnx_with_named_columns() {
    let (model, _) = mlp_model("3-3-2", Activation::Linear, true, 1);
    let bytes = model.to_onnx(Precision::F64).unwrap();
    let m = proto::ModelProto::decode(&bytes[..]).unwrap();
    assert_eq!(m.opset_import.len(), 1);
    assert_eq!(
        (m.opset_import[0].domain.as_str(), m.opset_import[0].version),
        ("", OPSET)
    );
    let g = m.graph.unwrap();
    let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(
        ops,
        ["Sub", "Div", "MatMul", "Add", "Relu", "MatMul", "Add", "Mul", "Add"]
    );
    assert_eq!(g.input[0].name, "x");
    assert_eq!(g.output[0].name, "y");
    assert_eq!(g.node.last().unwrap().output, ["y"]);
    let meta = |k: &str| {
        let e = m.metadata_props.iter().find(|e| e.key == k).unwrap();
        serde_json::from_str::<Vec<String>>(&e.value).unwrap()
    };
    assert_eq!(
        meta("cvxnn.inputs"),
        ["feature 0", "feature 1", "feature 2"]
    );
    assert_eq!(meta("cvxnn.targets"), ["target, 0", "target, 1"]);
    // every initializer holds the values its dimensions announce (8 bytes each)
    for t in &g.initializer {
        let count: i64 = t.dims.iter().product();
        assert_eq!(t.raw_data.len() as i64, 8 * count, "{}", t.name);
    }
}

#[test]
fn float32_refuses_values_out_of_its_range() {
    let arch = Architecture::parse("2-2-1", Activation::Linear).unwrap();
    let mut mlp = Mlp::zeros(&arch);
    mlp.weights[0].set(0, 0, 1e300);
    let err = mlp.to_onnx(Precision::F32).unwrap_err().to_string();
    assert!(err.contains("float32"), "{err}");
    assert!(mlp.to_onnx(Precision::F64).is_ok());
}

/// `cvxnn export` writes the file that tract runs to the saved model's predictions; a missing
/// model or an unwritable path is a clean failure.
#[test]
fn export_command_writes_the_models_predictions() {
    let dir = std::env::temp_dir().join(format!("cvxnn-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (data, model, onnx) = (file("d.csv"), file("m.json"), file("m.onnx"));
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cvxnn"))
            .args(args)
            .output()
            .unwrap()
    };
    let succeed = |args: &[&str]| {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
    };
    succeed(&[
        "generate", "teacher", "--arch", "3-4-1", "--n", "40", "--out", &data,
    ]);
    succeed(&[
        "train",
        "--method",
        "lbfgs",
        "--data",
        &data,
        "--arch",
        "3-4-1",
        "--standardize",
        "--model-out",
        &model,
        "--report",
        &file("r.json"),
        "--plot",
        &file("p.svg"),
    ]);
    let saved = Model::load(std::path::Path::new(&model)).unwrap();
    assert!(saved.scaling.is_some());
    let x = random_inputs(3, 60, 1).map(|v| 10.0 * v);
    let ours = saved.predict(&x).unwrap();
    for (flag, precision, tol) in [
        (None, Precision::F64, 1e-12),
        (Some("--float32"), Precision::F32, 1e-5),
    ] {
        let mut args = vec!["export", "--model", &model, "--onnx", &onnx];
        args.extend(flag);
        succeed(&args);
        let theirs = run_tract(&std::fs::read(&onnx).unwrap(), &x, precision);
        let diff = max_diff(&theirs, &ours);
        assert!(diff < tol, "{precision:?}: {diff:e}");
    }
    for (args, want) in [
        (
            ["export", "--model", "/nonexistent/m.json", "--onnx", &onnx],
            "/nonexistent/m.json",
        ),
        (
            ["export", "--model", &model, "--onnx", "/nonexistent/x.onnx"],
            "/nonexistent/x.onnx",
        ),
    ] {
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(want) && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

/// Import (for `certify`): cvxnn's own export of a two-layer model reads back as the same network
/// (bit for bit in float64, to float32's rounding in float32); a PyTorch-style graph (`Gemm`
/// with `transB`, float32 weights in `raw_data`, or `MatMul`/`Add` with the weights in the typed
/// fields) reads with the right orientation; other graphs are refused by name.
#[test]
fn two_layer_graphs_import_and_others_are_refused() {
    use cvxnn::onnx::import::two_layer;
    let (model, data) = mlp_model("3-5-2", Activation::Linear, false, 4);
    let Network::Mlp(net) = &model.network else {
        panic!()
    };
    let back = two_layer(&model.to_onnx(Precision::F64).unwrap()).unwrap();
    assert_eq!(&back, net);
    let back32 = two_layer(&model.to_onnx(Precision::F32).unwrap()).unwrap();
    let f = net.forward(&data.x).unwrap();
    let rel = max_diff(&back32.forward(&data.x).unwrap(), &f) / f.frobenius();
    assert!(rel < 1e-6, "float32 import off by {rel}");

    // PyTorch's exporter: Gemm(x, W, b, transB = 1), Relu, Gemm
    let (w1, b1) = (
        Matrix::from_rows(&[vec![1.0, -2.0], vec![0.5, 3.0]]).unwrap(),
        [0.25, -1.0],
    );
    let (w2, b2) = (Matrix::from_rows(&[vec![2.0, -1.5]]).unwrap(), [0.5]);
    let f32_tensor = |name: &str, m: &Matrix| proto::Tensor {
        dims: vec![m.rows() as i64, m.cols() as i64],
        data_type: 1,
        name: name.into(),
        raw_data: (0..m.rows())
            .flat_map(|i| (0..m.cols()).map(move |j| (i, j)))
            .flat_map(|(i, j)| (m.get(i, j) as f32).to_le_bytes())
            .collect(),
        ..Default::default()
    };
    let vector = |name: &str, v: &[f64]| proto::Tensor {
        dims: vec![v.len() as i64],
        data_type: 1,
        name: name.into(),
        float_data: v.iter().map(|&x| x as f32).collect(),
        ..Default::default()
    };
    let node =
        |op: &str, inputs: &[&str], output: &str, attrs: Vec<proto::Attribute>| proto::Node {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            op_type: op.into(),
            attribute: attrs,
        };
    let value = |name: &str| proto::ValueInfo {
        name: name.into(),
        ..Default::default()
    };
    let graph = |nodes: Vec<proto::Node>, init: Vec<proto::Tensor>| {
        proto::ModelProto {
            ir_version: 7,
            graph: Some(proto::GraphProto {
                node: nodes,
                initializer: init,
                input: vec![value("input")],
                output: vec![value("out")],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    };
    // Gemm(x, W, b, transB = 1), the activation `act`, Gemm
    let gemm_graph = |act: &str| {
        let gemm = |inputs: &[&str], out: &str| {
            node(
                "Gemm",
                inputs,
                out,
                vec![proto::Attribute::int("transB", 1)],
            )
        };
        graph(
            vec![
                gemm(&["input", "0.weight", "0.bias"], "h"),
                node(act, &["h"], "r", vec![]),
                gemm(&["r", "2.weight", "2.bias"], "out"),
            ],
            vec![
                f32_tensor("0.weight", &w1),
                vector("0.bias", &b1),
                f32_tensor("2.weight", &w2),
                vector("2.bias", &b2),
            ],
        )
    };
    let gemm = gemm_graph("Relu");
    let net = two_layer(&gemm).unwrap();
    assert_eq!(net.weights[0], w1);
    assert_eq!(net.weights[1], w2);
    assert_eq!(
        (net.biases[0].as_slice(), net.biases[1].as_slice()),
        (&b1[..], &b2[..])
    );
    // MatMul with the transposed weight, then Add
    let matmul = graph(
        vec![
            node("MatMul", &["input", "w1t"], "h0", vec![]),
            node("Add", &["h0", "b1"], "h", vec![]),
            node("Relu", &["h"], "r", vec![]),
            node("MatMul", &["r", "w2t"], "o0", vec![]),
            node("Add", &["b2", "o0"], "out", vec![]),
        ],
        vec![
            f32_tensor("w1t", &w1.transpose()),
            vector("b1", &b1),
            f32_tensor("w2t", &w2.transpose()),
            vector("b2", &b2),
        ],
    );
    assert_eq!(two_layer(&matmul).unwrap(), net);

    // refused, by name
    let sigmoid = gemm_graph("Sigmoid");
    let err = two_layer(&sigmoid).unwrap_err().to_string();
    assert!(
        err.contains("Sigmoid") && err.contains("Linear–ReLU–Linear"),
        "{err}"
    );
    let (deep, _) = mlp_model("3-4-4-1", Activation::Linear, false, 2);
    let err = two_layer(&deep.to_onnx(Precision::F64).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not one hidden ReLU layer"), "{err}");
    let (scaled, _) = mlp_model("3-5-2", Activation::Linear, true, 4);
    let err = two_layer(&scaled.to_onnx(Precision::F64).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("Sub"), "{err}");
    assert!(two_layer(b"not a model").is_err());
}

/// A model of class probabilities ends in `Sigmoid` (one logit) or `Softmax` (several): tract's
/// values are the model's probabilities, which sum to one per sample.
#[test]
fn class_probability_export_ends_in_sigmoid_or_softmax() {
    use cvxnn::net::Link;
    for (spec, link) in [("3-4-1", Link::Sigmoid), ("3-4-3", Link::Softmax)] {
        let (model, data) = mlp_model(spec, Activation::Linear, false, 8);
        let model = model.with_link(link).unwrap();
        let ours = model.predict(&data.x).unwrap();
        let logits = model.network.forward(&data.x).unwrap();
        assert_ne!(ours, logits, "{spec}: the link is applied");
        for (precision, tol) in [(Precision::F64, 1e-14), (Precision::F32, 1e-5)] {
            // tract 0.22 has no float64 Sigmoid (onnxruntime has: python/tests check that file)
            if link == Link::Sigmoid && precision == Precision::F64 {
                continue;
            }
            let theirs = run_tract(&model.to_onnx(precision).unwrap(), &data.x, precision);
            let diff = max_diff(&theirs, &ours);
            assert!(diff < tol, "{spec} {precision:?}: {diff:e}");
        }
        for j in 0..data.n_samples() {
            let col = ours.col(j);
            assert!(col.iter().all(|p| (0.0..=1.0).contains(p)));
            if link == Link::Softmax {
                assert!((col.iter().sum::<f64>() - 1.0).abs() < 1e-14);
            }
        }
    }
}

/// A float32 training run end to end: `train --precision f32` saves a float32 model and says so
/// in its report; `export` writes it as a float32 graph by default (`--float64` on request),
/// which tract runs to the model's predictions within float32 rounding.
#[test]
fn a_float32_model_exports_as_a_float32_graph() {
    let dir = std::env::temp_dir().join(format!("cvxnn-onnx32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (data, model, onnx, report) = (
        file("d.csv"),
        file("m.json"),
        file("m.onnx"),
        file("r.json"),
    );
    let succeed = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cvxnn"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
    };
    succeed(&[
        "generate", "teacher", "--arch", "3-6-2", "--n", "80", "--out", &data,
    ]);
    succeed(&[
        "train",
        "--method",
        "adam",
        "--steps",
        "300",
        "--data",
        &data,
        "--arch",
        "3-6-2",
        "--standardize",
        "--precision",
        "f32",
        "--model-out",
        &model,
        "--report",
        &report,
    ]);
    let saved = Model::load(std::path::Path::new(&model)).unwrap();
    assert_eq!(saved.precision, Precision::F32);
    let text: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let said = text.to_string();
    assert!(said.contains(r#""precision":"f32""#), "{said}");
    let x = random_inputs(3, 50, 2).map(|v| 5.0 * v);
    let ours = saved.predict(&x).unwrap();
    for (flag, precision, code) in [
        (None, Precision::F32, 1),
        (Some("--float64"), Precision::F64, 11),
    ] {
        let mut args = vec!["export", "--model", &model, "--onnx", &onnx];
        args.extend(flag);
        succeed(&args);
        let bytes = std::fs::read(&onnx).unwrap();
        let graph = proto::ModelProto::decode(&bytes[..])
            .unwrap()
            .graph
            .unwrap();
        assert!(graph.initializer.iter().all(|t| t.data_type == code));
        let theirs = run_tract(&bytes, &x, precision);
        let diff = max_diff(&theirs, &ours);
        // the float64 graph of float32 parameters is the model's own arithmetic
        let tol = if precision == Precision::F32 {
            1e-5
        } else {
            1e-12
        };
        assert!(diff < tol, "{precision:?}: {diff:e}");
    }
}
