//! Writes the first SCR subproblem of a planted teacher as JSON — the data (one sample per column)
//! and the parameters `X_W, Y_H, x, y` of every hidden layer — so that another solver can be
//! given exactly the program cvxnn solves (bench/scr_scale.py builds CVXPY's split form from it).
//!
//! ```text
//! cargo run --release --example scr_subproblem -- ARCH OUTPUT N SEED INIT OUT.json
//! cargo run --release --example scr_subproblem -- 3-3-2 linear 1000 1 random sub.json
//! ```
//!
//! The teacher is `train --teacher ARCH --output-activation OUTPUT --n N --seed SEED`'s; `INIT` is
//! `zero` or `random` (N(0, 1) parameters drawn with SEED, as `train --init random`).

use cvxnn::data::planted_teacher;
use cvxnn::linalg::Matrix;
use cvxnn::net::{Activation, Architecture};
use cvxnn::scr::{Params, ScrProblem};

fn rows(m: &Matrix) -> Vec<Vec<f64>> {
    (0..m.rows())
        .map(|i| (0..m.cols()).map(|j| m.get(i, j)).collect())
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [arch, output, n, seed, init, out] = args.as_slice() else {
        return Err("usage: scr_subproblem ARCH linear|relu N SEED zero|random OUT.json".into());
    };
    let output = match output.as_str() {
        "linear" => Activation::Linear,
        "relu" => Activation::Relu,
        other => return Err(format!("output activation {other:?}: linear or relu").into()),
    };
    let arch = Architecture::parse(arch, output)?;
    let seed: u64 = seed.parse()?;
    let teacher = planted_teacher(&arch, n.parse()?, seed)?;
    let p = ScrProblem::new(&teacher.data.x, &teacher.data.y, &arch)?;
    let params = match init.as_str() {
        "zero" => Params::zeros(&p),
        "random" => Params::random(&p, seed),
        other => return Err(format!("start {other:?}: zero or random").into()),
    };
    let layers: Vec<_> = params
        .layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "xw": rows(&l.xw), "yh": rows(&l.yh), "xh": rows(&l.xh), "ys": rows(&l.ys),
            })
        })
        .collect();
    let doc = serde_json::json!({ "x": rows(&p.x), "y": rows(&p.y), "layers": layers });
    std::fs::write(out, serde_json::to_string(&doc)?)?;
    Ok(())
}
