//! The rate of faer's three GEMMs of a gradient pass (`Z = W A`, `∂W = D Aᵀ`, `D' = Wᵀ D`) on one
//! thread, on the layer shapes of bench/gradient.py's networks, in 512-sample blocks as
//! `gradient::model::eval_batch` cuts them: `cargo run --release --example gemm_probe`.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use std::time::Instant;

/// The best rate of `f` (which does `flops` floating-point operations) over 20 runs.
fn rate(name: &str, flops: f64, mut f: impl FnMut()) {
    f();
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{name:24} {:.1} GFLOP/s", flops / best / 1e9);
}

fn main() {
    for (rows, inner, n) in [
        (512, 512, 512),
        (512, 784, 512),
        (128, 784, 512),
        (512, 512, 4096),
    ] {
        let w = Mat::<f64>::from_fn(rows, inner, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1);
        let a = Mat::<f64>::from_fn(inner, n, |i, j| ((i * 5 + j) % 13) as f64 * 0.1);
        let d = Mat::<f64>::from_fn(rows, n, |i, j| ((i + j * 2) % 7) as f64 * 0.1);
        let (mut z, mut g, mut p) = (
            Mat::<f64>::zeros(rows, n),
            Mat::<f64>::zeros(rows, inner),
            Mat::<f64>::zeros(inner, n),
        );
        let flops = 2.0 * (rows * inner * n) as f64;
        println!("-- W {rows} × {inner}, {n} samples");
        rate("Z = W A", flops, || {
            matmul(
                z.as_mut(),
                Accum::Add,
                w.as_ref(),
                a.as_ref(),
                1.0,
                Par::Seq,
            )
        });
        rate("dW = D Aᵀ", flops, || {
            let at = a.as_ref().transpose();
            matmul(g.as_mut(), Accum::Replace, d.as_ref(), at, 1.0, Par::Seq)
        });
        rate("D' = Wᵀ D", flops, || {
            let wt = w.as_ref().transpose();
            matmul(p.as_mut(), Accum::Replace, wt, d.as_ref(), 1.0, Par::Seq)
        });
    }
}
