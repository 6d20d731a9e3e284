//! The rate of faer's three GEMMs of a gradient pass (`Z = W A`, `∂W = D Aᵀ`, `D' = Wᵀ D`) on one
//! thread, on the layer shapes of bench/gradient.py's networks, in 512-sample blocks as
//! `gradient::pass::data_term` cuts them, in float64 and float32: `cargo run --release --example gemm_probe`.

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
    probe::<f64>("f64");
    probe::<f32>("f32");
}

/// The three products in precision `T`.
fn probe<T: faer::traits::RealField + Copy + From<u8>>(precision: &str) {
    let v = |k: usize| T::from((k % 13) as u8) * T::from(1u8) / T::from(10u8);
    let one = T::from(1u8);
    for (rows, inner, n) in [
        (512, 512, 512),
        (512, 784, 512),
        (128, 784, 512),
        (512, 512, 4096),
    ] {
        let w = Mat::<T>::from_fn(rows, inner, |i, j| v(i * 7 + j * 3));
        let a = Mat::<T>::from_fn(inner, n, |i, j| v(i * 5 + j));
        let d = Mat::<T>::from_fn(rows, n, |i, j| v(i + j * 2));
        let (mut z, mut g, mut p) = (
            Mat::<T>::zeros(rows, n),
            Mat::<T>::zeros(rows, inner),
            Mat::<T>::zeros(inner, n),
        );
        let flops = 2.0 * (rows * inner * n) as f64;
        println!("-- {precision}: W {rows} × {inner}, {n} samples");
        rate("Z = W A", flops, || {
            matmul(
                z.as_mut(),
                Accum::Add,
                w.as_ref(),
                a.as_ref(),
                one,
                Par::Seq,
            )
        });
        rate("dW = D Aᵀ", flops, || {
            let at = a.as_ref().transpose();
            matmul(g.as_mut(), Accum::Replace, d.as_ref(), at, one, Par::Seq)
        });
        rate("D' = Wᵀ D", flops, || {
            let wt = w.as_ref().transpose();
            matmul(p.as_mut(), Accum::Replace, wt, d.as_ref(), one, Par::Seq)
        });
    }
}
