//! The ADMM backend against references: the pair's norm is the block's nuclear norm on the
//! orthant, the structured solve matches a dense one, the answer does not depend on the thread
//! count.

use super::passes::Solver;
use super::prox::{shrink_pair, svt_wide};
use super::rows::{block_pair, Rows, CHUNK};
use super::*;
use crate::data::planted_teacher;
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture};
use crate::scr::formulation::{Affine, ScrProblem};
use crate::scr::Params;

fn svt_reference(m: &Matrix, tau: f64) -> Matrix {
    let svd = faer::Mat::from_fn(m.rows(), m.cols(), |i, j| m.get(i, j))
        .thin_svd()
        .unwrap();
    let (u, s, v) = (svd.U(), svd.S(), svd.V());
    let k = s.column_vector().nrows();
    Matrix::from_fn(m.rows(), m.cols(), |i, j| {
        (0..k)
            .map(|r| u[(i, r)] * (s[r] - tau).max(0.0) * v[(j, r)])
            .sum()
    })
}

/// On `h, s ≥ 0` the pair's norm equals the block's nuclear norm (an SVD), and below it
/// elsewhere; `shrink_pair` is the prox of `τ‖·‖₂` (its optimality condition); the Gram route
/// of `svt_wide` matches an SVD.
#[test]
fn block_pair_norm_is_the_nuclear_norm_on_the_orthant() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let nuclear = |m: &Matrix| {
        let svd = faer::Mat::from_fn(2, 2, |i, j| m.get(i, j))
            .thin_svd()
            .unwrap();
        let s = svd.S();
        s[0] + s[1]
    };
    for k in 0..2000 {
        let (x, y) = (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
        let (mut h, mut s) = (rng.random_range(0.0..2.0), rng.random_range(0.0..2.0));
        match k % 4 {
            0 => h = 0.0,
            1 => s = 0.0,
            2 => (h, s) = (-h, s),
            _ => {}
        }
        let [a, b, c] = [x * y + h * y + x * s, h + x, s + y];
        let m = Matrix::from_rows(&[vec![a, b], vec![c, 1.0]]).unwrap();
        let block = [
            Affine::constant(a),
            Affine::constant(b),
            Affine::constant(c),
        ];
        let [p0, p1] = block_pair(block).map(|e| e.constant);
        let (norm, want) = (p0.hypot(p1), nuclear(&m));
        if h >= 0.0 && s >= 0.0 {
            assert!(
                (norm - want).abs() <= 1e-12 * want,
                "h={h} s={s}: {norm} vs {want}"
            );
        } else {
            assert!(norm <= want + 1e-12 * want, "h={h} s={s}: {norm} > {want}");
        }
        // prox optimality: z − out ∈ τ ∂‖out‖
        let tau = [0.1, 1.0, 10.0][k % 3];
        let z = [p0, p1];
        let out = shrink_pair(z, tau);
        let on = out[0].hypot(out[1]);
        let g = [z[0] - out[0], z[1] - out[1]];
        if on > 0.0 {
            for i in 0..2 {
                assert!((g[i] - tau * out[i] / on).abs() < 1e-12 * (1.0 + tau));
            }
        } else {
            assert!(g[0].hypot(g[1]) <= tau * (1.0 + 1e-12));
        }
    }
    for (rows, cols) in [(5, 33), (3, 8)] {
        let m = Matrix::from_fn(rows, cols, |_, _| rng.random_range(-2.0..2.0));
        let want = svt_reference(&m, 1.5);
        let mut q = m.as_slice().to_vec();
        svt_wide(&mut q, rows, 1.5).unwrap();
        let got = Matrix::from_col_major(rows, cols, q).unwrap();
        assert!(got.sub(&want).unwrap().frobenius() < 1e-9);
    }
}

fn instance(spec: &str, output: Activation, n: usize) -> (ScrProblem, Params) {
    let arch = Architecture::parse(spec, output).unwrap();
    let t = planted_teacher(&arch, n, 2).unwrap();
    let p = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
    let par = Params::random(&p, 4);
    (p, par)
}

/// The compact rows equal the formulation's affine expressions at a random point, and the
/// structured v-update solves the weighted normal equations `AᵀRA v = AᵀR(w − c)` like a dense
/// solve (one and two hidden layers, both outputs, one and three threads).
#[test]
fn rows_and_structured_solve_match_dense() {
    for (spec, output, threads, dense) in [
        ("3-4-2", Activation::Relu, 1, true),
        ("3-4-2", Activation::Linear, 1, false),
        ("2-3-3-1", Activation::Relu, 3, true),
        ("2-3-3-1", Activation::Relu, 2, false),
        ("2-3-2-2", Activation::Linear, 1, false),
    ] {
        let (p, par) = instance(spec, output, 9);
        let lay = Layout::new(&p);
        let rows = Rows::build(&p, &lay, &par, threads).unwrap();
        let (ng, nl, n_w) = (rows.ng, rows.loc_off[rows.n], rows.n_w());
        let x_true: Vec<f64> = (0..ng + nl)
            .map(|i| 1.0 + (i as f64 * 0.37).sin())
            .collect();
        let (xg, xl) = x_true.split_at(ng);
        // every row: its compact form equals the affine expression it came from
        let mut exprs: Vec<Affine> = Vec::new();
        for j in 0..p.n_samples() {
            for k in 0..p.n_hidden_layers() {
                exprs.extend(lay.product_column(&p, &par, k, j));
            }
            for k in 0..p.n_hidden_layers() {
                for i in 0..p.hidden_width(k) {
                    exprs.extend(block_pair(lay.complementarity_block(&p, &par, k, i, j)));
                }
            }
            for k in 0..p.n_hidden_layers() {
                for i in 0..p.hidden_width(k) {
                    exprs.push(Affine::var(lay.h(k, i, j), 1.0));
                    exprs.push(lay.slack_expr(&p, k, i, j));
                }
            }
            exprs.extend(lay.output_vars_of(j).map(|v| Affine::var(v, 1.0)));
        }
        for k in 0..p.n_hidden_layers() {
            for l in 0..p.hidden_width(k) {
                exprs.extend(lay.product_column(&p, &par, k, p.n_samples() + l));
            }
        }
        assert_eq!(exprs.len(), n_w);
        let mut aw = vec![0.0; n_w]; // A x_true + c
        for j in 0..=rows.n {
            let span = if j < rows.n {
                rows.w_off[j]..rows.w_off[j + 1]
            } else {
                rows.w_off[rows.n]..n_w
            };
            let lv = if j < rows.n {
                &xl[rows.loc_off[j]..rows.loc_off[j + 1]]
            } else {
                &[][..]
            };
            for o in span {
                aw[o] = rows.c[o] + rows.dot(o, xg, lv);
                let e = exprs[o].eval(&x_true);
                assert!(
                    (aw[o] - e).abs() < 1e-12,
                    "{spec}: row {o}: {} vs {e}",
                    aw[o]
                );
            }
        }
        // the structured solve recovers x_true from w = A x_true + c, u = 0
        let rho: Vec<f64> = (0..rows.n_groups()).map(|g| 0.5 + g as f64).collect();
        let weights = vec![0.0; 2 * rows.k_layers];
        let solver = Solver::new(&rows, rho, weights, 1.0, threads, dense).unwrap();
        let chunks = rows.chunks();
        let mut l_bounds: Vec<usize> = chunks.iter().map(|r| rows.loc_off[r.start]).collect();
        l_bounds.push(nl);
        let (mut vg, mut vl) = (vec![0.0; ng], vec![0.0; nl]);
        solver.v_update(&chunks, &l_bounds, &aw, &vec![0.0; n_w], &mut vg, &mut vl);
        let mut q = Vec::new();
        for j in 0..rows.n {
            let v = &mut vl[rows.loc_off[j]..rows.loc_off[j + 1]];
            solver.finish_local(j, &vg, v, &mut q);
        }
        let err = vg
            .iter()
            .chain(&vl)
            .zip(&x_true)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err < 1e-6,
            "{spec} {output}: structured solve error {err:e}"
        );
    }
}

/// Chunks: the answer does not depend on the number of threads (fixed chunking).
#[test]
fn thread_count_does_not_change_the_answer() {
    let (p, par) = instance("2-3-1", Activation::Relu, 2 * CHUNK + 17);
    let (lambda, mu) = (vec![1.0], vec![1.0]);
    let sub = Subproblem {
        problem: &p,
        params: &par,
        lambda: &lambda,
        mu: &mu,
    };
    let run = |threads| {
        let mut b = AdmmBackend {
            threads,
            max_iter: 30,
            ..Default::default()
        };
        b.solve(&sub).unwrap()
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.iterate, b.iterate);
    assert_eq!(a.solver_iterations, b.solver_iterations);
}
