//! The linear-algebra facts SCR rests on (docs/scr.md §§3, 6, 8), checked on random matrices.

use cvxnn::data::planted_teacher;
use cvxnn::linalg::Matrix;
use cvxnn::net::{Activation, Architecture};
use cvxnn::scr::formulation::{
    nuclear_norm_2x2, objective_at, product_matrix, rank_matrix, Iterate, Layout,
};
use cvxnn::scr::{Params, ScrProblem};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn gaussian(rng: &mut ChaCha8Rng, r: usize, c: usize, scale: f64) -> Matrix {
    Matrix::from_fn(r, c, |_, _| scale * rng.sample::<f64, _>(StandardNormal))
}

/// rank M(A, B, C; X₀, Y₀) = n + rank(C − AB), for every rank of the residual (§3.1).
#[test]
fn rank_of_rank_matrix_is_n_plus_rank_of_residual() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for trial in 0..40 {
        let (p, n, q) = (2 + trial % 4, 1 + trial % 3, 3 + trial % 5);
        let a = gaussian(&mut rng, p, n, 1.0);
        let b = gaussian(&mut rng, n, q, 1.0);
        let r = trial % (p.min(q) + 1);
        let resid = gaussian(&mut rng, p, r, 1.0)
            .matmul(&gaussian(&mut rng, r, q, 1.0))
            .unwrap();
        let c = a.matmul(&b).unwrap().add(&resid).unwrap();
        let x0 = gaussian(&mut rng, p, n, 2.0);
        let y0 = gaussian(&mut rng, n, q, 2.0);
        let m = rank_matrix(&a, &b, &c, &x0, &y0).unwrap();
        assert_eq!(m.shape(), (p + n, q + n));
        assert_eq!(
            m.rank(1e-10).unwrap(),
            n + r,
            "trial {trial}: p={p} n={n} q={q} r={r}"
        );
        assert_eq!(
            c.sub(&a.matmul(&b).unwrap()).unwrap().rank(1e-10).unwrap(),
            r
        );
    }
}

/// ‖m‖_* = max(‖(a+d, c−b)‖, ‖(a−d, b+c)‖) for 2×2 matrices, against an SVD, across scales (§3.3).
#[test]
fn closed_form_2x2_nuclear_norm_matches_svd() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut worst: f64 = 0.0;
    for k in 0..3000 {
        let scale = [1e-3, 1.0, 1e3][k % 3];
        let m = gaussian(&mut rng, 2, 2, scale);
        let svd = m.nuclear_norm().unwrap();
        let closed = nuclear_norm_2x2(m.get(0, 0), m.get(0, 1), m.get(1, 0), m.get(1, 1));
        worst = worst.max((closed - svd).abs() / svd);
    }
    assert!(worst < 1e-12, "worst relative error {worst:e}");
    // rank-one and zero matrices
    assert!((nuclear_norm_2x2(1.0, 2.0, 2.0, 4.0) - 5.0).abs() < 1e-14);
    assert_eq!(nuclear_norm_2x2(0.0, 0.0, 0.0, 0.0), 0.0);
}

/// The column split of §8: with W = (MMᵀ)^{1/2} and z_j = m_jᵀ W⁻¹ m_j every block
/// [[W, m_j], [m_jᵀ, z_j]] is PSD and ½ tr W + ½ Σ z_j equals the SVD nuclear norm.
#[test]
fn split_nuclear_norm_equals_svd_nuclear_norm() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for (m_rows, q) in [(5, 33), (3, 7), (6, 200)] {
        let m = gaussian(&mut rng, m_rows, q, 1.5);
        let gram = m.matmul(&m.transpose()).unwrap();
        let (vals, vecs) = gram.symmetric_eigen().unwrap();
        let sqrt = |f: &dyn Fn(f64) -> f64| {
            let d = Matrix::from_fn(m_rows, m_rows, |i, j| if i == j { f(vals[i]) } else { 0.0 });
            vecs.matmul(&d).unwrap().matmul(&vecs.transpose()).unwrap()
        };
        let w = sqrt(&|v: f64| v.max(0.0).sqrt());
        let w_inv = sqrt(&|v: f64| 1.0 / v.sqrt());
        let mut total = (0..m_rows).map(|i| w.get(i, i)).sum::<f64>() / 2.0;
        for j in 0..q {
            let mj = Matrix::from_col_major(m_rows, 1, m.col(j).to_vec()).unwrap();
            let zj = mj
                .transpose()
                .matmul(&w_inv)
                .unwrap()
                .matmul(&mj)
                .unwrap()
                .get(0, 0);
            total += zj / 2.0;
            let block =
                Matrix::block2x2(&w, &mj, &mj.transpose(), &Matrix::from_fn(1, 1, |_, _| zj))
                    .unwrap();
            let (ev, _) = block.symmetric_eigen().unwrap();
            assert!(ev[0] > -1e-9 * ev[m_rows], "block {j} not PSD: {}", ev[0]);
        }
        let nuc = m.nuclear_norm().unwrap();
        assert!(
            (total - nuc).abs() < 1e-10 * nuc,
            "{m_rows}×{q}: split {total} vs svd {nuc}"
        );
    }
}

/// ‖M‖_* ≥ n always, with equality exactly at the fixed point X₀ = −A, Y₀ = −B, C = AB (§3.1).
#[test]
fn nuclear_norm_at_least_n_with_equality_at_fixed_point() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    for trial in 0..50 {
        let (p, n, q) = (1 + trial % 4, 1 + trial % 3, 2 + trial % 6);
        let a = gaussian(&mut rng, p, n, 1.0);
        let b = gaussian(&mut rng, n, q, 1.0);
        let c = gaussian(&mut rng, p, q, 1.0);
        let (x0, y0) = (gaussian(&mut rng, p, n, 1.0), gaussian(&mut rng, n, q, 1.0));
        let nuc = rank_matrix(&a, &b, &c, &x0, &y0)
            .unwrap()
            .nuclear_norm()
            .unwrap();
        assert!(nuc >= n as f64 - 1e-12, "trial {trial}: {nuc} < {n}");
        let ab = a.matmul(&b).unwrap();
        let at_fixed = rank_matrix(&a, &b, &ab, &a.neg(), &b.neg()).unwrap();
        assert!((at_fixed.nuclear_norm().unwrap() - n as f64).abs() < 1e-10);
        // any other point is strictly above n
        let off = rank_matrix(&a, &b, &ab, &x0, &y0)
            .unwrap()
            .nuclear_norm()
            .unwrap();
        assert!(off > n as f64 + 1e-6);
    }
}

/// The affine expressions the solvers receive agree with the matrix formulas of §3 and §7 at any
/// point, for one and two hidden layers.
#[test]
fn solver_expressions_match_matrix_formulas() {
    for (spec, output) in [
        ("3-4-2", Activation::Relu),
        ("3-4-2", Activation::Linear),
        ("2-3-4-2", Activation::Relu),
        ("2-3-4-2", Activation::Linear),
    ] {
        let arch = Architecture::parse(spec, output).unwrap();
        let n = 12;
        let t = planted_teacher(&arch, n, 5).unwrap();
        let p = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
        let lay = Layout::new(&p);
        let params = Params::random(&p, 9);
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let mut it = Iterate::from_model(&t.model, &p).unwrap();
        let kl = p.n_hidden_layers();
        it.weights[0] = gaussian(&mut rng, p.widths[1], p.widths[0], 1.0);
        it.biases[kl] = (0..p.n_outputs()).map(|i| 0.3 - 0.5 * i as f64).collect();
        for k in 0..kl {
            it.h[k] = gaussian(&mut rng, p.hidden_width(k), n, 1.0);
            if k + 1 < kl {
                // hidden pre-activations are free variables
                it.z[k] = gaussian(&mut rng, p.widths[k + 2], n, 1.0);
            }
        }
        if output == Activation::Relu {
            // the free output entries (where Y = 0) move; the others are pinned to Y
            it.z[kl - 1] = Matrix::from_fn(p.n_outputs(), n, |i, j| {
                if t.data.y.get(i, j) == 0.0 {
                    -0.5
                } else {
                    t.data.y.get(i, j)
                }
            });
        }
        let v = lay.pack(&p, &it);
        assert_eq!(lay.unpack(&p, &v), it);
        let (lambda, mu): (Vec<f64>, Vec<f64>) = (0..kl).map(|k| (2.0 + k as f64, 0.5)).unzip();
        let mut want = 0.0;
        for k in 0..kl {
            let m = product_matrix(&it, &params, k).unwrap();
            for j in 0..m.cols() {
                let col = lay.product_column(&p, &params, k, j);
                assert_eq!(col.len(), m.rows());
                for (i, e) in col.iter().enumerate() {
                    assert!(
                        (e.eval(&v) - m.get(i, j)).abs() < 1e-12,
                        "{spec}: M_{k}[{i},{j}]"
                    );
                }
            }
            let s = it.slack(&p, k).unwrap();
            let lp = &params.layers[k];
            let mut comp = 0.0;
            for j in 0..n {
                for i in 0..p.hidden_width(k) {
                    let [a, b, c] = lay.complementarity_block(&p, &params, k, i, j);
                    let (h, s) = (it.h[k].get(i, j), s.get(i, j));
                    assert!((lay.slack_expr(&p, k, i, j).eval(&v) - s).abs() < 1e-12);
                    // Schur complement of the 2×2 block is −h·s (§3.3)
                    assert!((a.eval(&v) - b.eval(&v) * c.eval(&v) + h * s).abs() < 1e-10);
                    assert!((b.eval(&v) - (h + lp.xh.get(i, j))).abs() < 1e-12);
                    comp += nuclear_norm_2x2(a.eval(&v), b.eval(&v), c.eval(&v), 1.0);
                }
            }
            want += lambda[k] * m.nuclear_norm().unwrap() + mu[k] * comp;
        }
        let got = objective_at(&it, &p, &params, &lambda, &mu).unwrap();
        assert!((want - got).abs() < 1e-9 * want);
    }
}

/// Near the fixed point, ‖[[E, D], [F, I]]‖_* = n + ‖E − DF‖_* + ½‖D‖²_F + ½‖F‖²_F + O(ε³): an
/// SCR step is a proximal step on the exact penalty of the true residual (README, "Choosing λ and μ").
#[test]
fn second_order_expansion_of_the_rank_matrix_norm() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let (p, n, q) = (2, 3, 5);
    let mut worst = Vec::new();
    for eps in [1e-1, 1e-2, 1e-3] {
        let mut w: f64 = 0.0;
        for _ in 0..100 {
            let e = gaussian(&mut rng, p, q, eps);
            let d = gaussian(&mut rng, p, n, eps);
            let f = gaussian(&mut rng, n, q, eps);
            let m = Matrix::block2x2(&e, &d, &f, &Matrix::identity(n)).unwrap();
            let schur = e.sub(&d.matmul(&f).unwrap()).unwrap();
            let approx = n as f64
                + schur.nuclear_norm().unwrap()
                + 0.5 * d.frobenius().powi(2)
                + 0.5 * f.frobenius().powi(2);
            w = w.max((m.nuclear_norm().unwrap() - approx).abs());
        }
        worst.push(w / eps.powi(2));
    }
    // the error relative to ε² vanishes linearly in ε (it is O(ε³))
    assert!(
        worst[1] < worst[0] / 5.0 && worst[2] < worst[1] / 5.0 && worst[2] < 0.1,
        "{worst:?}"
    );
}
