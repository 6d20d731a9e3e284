//! The Gram matrix of a working set's patterns: with `A = [D_p X̃]_{p ∈ S}` (N × |S| d̃) and the
//! prediction `A d` (`d_p = Σ_j s_j u_j` over the groups j of pattern p), the loss of the
//! restricted program is `½dᵀGd − cᵀd + ‖y‖²/(2N)` with `G = AᵀA/N` and `c = Aᵀy/N` (with
//! sample weights `W`, the quadratic model of [`super::newton`]: `AᵀWA/N` and `AᵀWy/N`). Its size is
//! (|S| d̃)² whatever N, which is what lets the working-set solver handle large N; it is per
//! pattern, not per group, because the ReLU model's `v_p` and `w_p` share their columns.
//!
//! Block `(p, q)` is `X̃ᵀ D_p D_q X̃ / N`. It is computed by GEMMs over chunks of samples with the
//! masked copies of X̃ side by side, and grows by the new patterns' columns only. Each new
//! pattern's column panel is one task with a fixed shape, summed over the chunks in order, so
//! the result does not depend on the number of threads.

use super::program::Program;
use crate::train::Budget;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Samples per chunk of the GEMMs: the chunk's masked copy (chunk × |W| d̃) stays a few MB.
const CHUNK: usize = 1024;

/// One new pattern's column panel of `G` (rows 0..its end) and its entries of `c`, unscaled.
type Panel = (Vec<f64>, Vec<f64>);

/// `G` and `c` of the patterns `patterns` (indices into the program's patterns), in that order.
pub struct Gram {
    pub patterns: Vec<usize>,
    /// `AᵀA/N`, symmetric, side `patterns.len() · d̃`.
    pub g: Mat<f64>,
    /// `Aᵀy/N`.
    pub c: Vec<f64>,
    /// `‖y‖²/N` (`yᵀWy/N` with weights): the loss's constant.
    pub yy: f64,
}

impl Gram {
    pub fn empty() -> Self {
        Self {
            patterns: Vec::new(),
            g: Mat::zeros(0, 0),
            c: Vec::new(),
            yy: 0.0,
        }
    }

    /// Appends the patterns `new` (none of them present yet): their columns' products with
    /// every column present and with each other. Returns false, leaving `self` as it was, when
    /// `budget` ran out on the way.
    pub fn extend(&mut self, prog: &Program, new: &[usize], budget: &Budget) -> bool {
        if new.is_empty() {
            return true;
        }
        let (n, dim) = (prog.n(), prog.dim());
        let old = self.patterns.len() * dim;
        let mut patterns = self.patterns.clone();
        patterns.extend_from_slice(new);
        let side = patterns.len() * dim;
        let threads = crate::linalg::threads::available().min(new.len());
        // new pattern w (position old/dim + w) is task w; it needs rows 0..end(w) of its panel
        let panels: Option<Vec<Panel>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let patterns = &patterns;
                    scope.spawn(move || {
                        let mine: Vec<usize> = (t..new.len()).step_by(threads).collect();
                        let end = |w: usize| old + (w + 1) * dim;
                        let width = mine.last().map_or(0, |&w| end(w));
                        let mut out: Vec<Panel> = mine
                            .iter()
                            .map(|&w| (vec![0.0; end(w) * dim], vec![0.0; dim]))
                            .collect();
                        let mut copy = vec![0.0; CHUNK * width];
                        for start in (0..n).step_by(CHUNK) {
                            if budget.exhausted().is_some() {
                                return None;
                            }
                            let len = CHUNK.min(n - start);
                            masked_columns(prog, patterns, start, len, width / dim, &mut copy);
                            let m =
                                MatRef::from_column_major_slice(&copy[..len * width], len, width);
                            for (&w, (panel, cy)) in mine.iter().zip(out.iter_mut()) {
                                let cols = m.subcols(old + w * dim, dim);
                                matmul(
                                    MatMut::from_column_major_slice_mut(panel, end(w), dim),
                                    Accum::Add,
                                    m.subcols(0, end(w)).transpose(),
                                    cols,
                                    1.0,
                                    Par::Seq,
                                );
                                for (c, acc) in cy.iter_mut().enumerate() {
                                    *acc += (0..len)
                                        .map(|k| {
                                            cols[(k, c)]
                                                * root_weight(prog, start + k)
                                                * prog.y[start + k]
                                        })
                                        .sum::<f64>();
                                }
                            }
                        }
                        Some(mine.into_iter().zip(out).collect::<Vec<_>>())
                    })
                })
                .collect();
            let mut all: Vec<(usize, Panel)> = Vec::new();
            for h in handles {
                all.extend(h.join().expect("a Gram panel panicked")?);
            }
            all.sort_by_key(|(w, _)| *w);
            Some(all.into_iter().map(|(_, p)| p).collect())
        });
        let Some(panels) = panels else {
            return false;
        };
        let nf = n as f64;
        let mut g = Mat::<f64>::zeros(side, side);
        g.as_mut()
            .submatrix_mut(0, 0, old, old)
            .copy_from(self.g.as_ref());
        let mut c = self.c.clone();
        for (w, (panel, cy)) in panels.into_iter().enumerate() {
            let col0 = old + w * dim;
            let rows = col0 + dim;
            for cc in 0..dim {
                for r in 0..rows {
                    let v = panel[cc * rows + r] / nf;
                    g[(r, col0 + cc)] = v;
                    g[(col0 + cc, r)] = v;
                }
            }
            c.extend(cy.iter().map(|v| v / nf));
        }
        self.patterns = patterns;
        self.g = g;
        self.c = c;
        self.yy = (0..n)
            .map(|i| (root_weight(prog, i) * prog.y[i]).powi(2))
            .sum::<f64>()
            / nf;
        true
    }
}

/// `√w_i` of a weighted squared loss (1 without weights): `G = AᵀWA/N` and `c = AᵀWy/N` are
/// formed from the rows of `A` and `y` scaled by it.
fn root_weight(prog: &Program, i: usize) -> f64 {
    prog.weights.map_or(1.0, |w| w[i].sqrt())
}

/// Writes the chunk `start..start + len` of `[D_p X̃]` (rows scaled by `√w_i`, see
/// [`root_weight`]) for the first `count` of `patterns` into `out` (len × count d̃,
/// column-major).
fn masked_columns(
    prog: &Program,
    patterns: &[usize],
    start: usize,
    len: usize,
    count: usize,
    out: &mut [f64],
) {
    let dim = prog.dim();
    for (w, &p) in patterns[..count].iter().enumerate() {
        let mask = &prog.patterns.masks[p];
        for k in 0..len {
            let on = mask.on(start + k);
            let x = prog.data.row(start + k);
            let s = root_weight(prog, start + k);
            for c in 0..dim {
                out[(w * dim + c) * len + k] = if on { s * x[c] } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convex::{patterns, Lifted};
    use crate::linalg::Matrix;
    use crate::train::Limits;
    use rand::{Rng, SeedableRng};

    /// Grown in two steps over chunks of samples, G and c equal AᵀA/N and Aᵀy/N formed
    /// directly from the masked columns, in any order of patterns.
    #[test]
    fn the_gram_matrix_is_a_transpose_a() {
        let (d, n) = (3, 2 * CHUNK + 37);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut next = || rng.random::<f64>() - 0.5;
        let x = Matrix::from_fn(d, n, |_, _| next());
        let y: Vec<f64> = (0..n).map(|_| next()).collect();
        let data = Lifted::new(&x);
        let pats = patterns::sample(&data, 6, 3).unwrap();
        let prog = Program::new(&data, &y, crate::convex::Loss::Squared, &pats, true, 1e-3);
        let budget = Budget::start(&Limits::none());
        let mut gram = Gram::empty();
        assert!(pats.len() >= 3);
        // a permutation of the patterns: the Gram matrix's order is the working set's
        let order: Vec<usize> = (0..pats.len()).rev().collect();
        assert!(gram.extend(&prog, &order[..2], &budget));
        assert!(gram.extend(&prog, &order[2..], &budget));
        let dim = prog.dim();
        let column = |pos: usize, c: usize, i: usize| {
            let p = order[pos];
            if pats.masks[p].on(i) {
                data.row(i)[c]
            } else {
                0.0
            }
        };
        for a in 0..order.len() * dim {
            let want_c: f64 = (0..n).map(|i| column(a / dim, a % dim, i) * y[i]).sum();
            assert!((gram.c[a] - want_c / n as f64).abs() <= 1e-12);
            for b in 0..order.len() * dim {
                let want: f64 = (0..n)
                    .map(|i| column(a / dim, a % dim, i) * column(b / dim, b % dim, i))
                    .sum();
                assert!(
                    (gram.g[(a, b)] - want / n as f64).abs() <= 1e-12,
                    "({a}, {b})"
                );
            }
        }
    }
}
