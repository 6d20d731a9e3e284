//! The gated model restricted to a working set, without its Gram matrix: Newton's method on the
//! support with each Newton system solved by preconditioned conjugate gradients
//! (docs/convex.md §5). It is [`super::gated_newton`] for sets whose Gram matrix is too large to
//! form: that costs N·(|W| d̃)² (95 s for 285 patterns of d̃ = 21 at N = 10⁵), where one product
//! with it, computed from the data as `Aᵀ(A x)/N`, costs 4·N·|W|·d̃, done in single precision
//! ([`Products`]: 1.9 s → 1.2 s on the bench's N = 10⁴, 200-pattern case, 102 s → 58 s for
//! N = 10⁵, 1 000 patterns). The gradient, objective and gap are [`Program::eval`]'s, in
//! double precision.
//!
//! Each step:
//!
//! 1. blocks at zero whose dual constraint `‖∇_b‖ ≤ β` fails enter together, each by the exact
//!    minimiser of its block with `G_bb` replaced by `(|D_b|/N) Σ` (`Σ = X̃ᵀX̃/N`), along a line
//!    searched with the exact curvature;
//! 2. the relative gap, from the prediction and the gradient ([`GapTerms`]), stops the solve;
//! 3. a Newton step on the support, `(G_SS + β blockdiag((I − d̂d̂ᵀ)/‖d_b‖) + λI) Δ = −∇F`, by
//!    CG to a relative residual η (inexact Newton: η shrinks with the square root of the gap,
//!    so the last steps are accurate and the first cheap), preconditioned by the Kronecker
//!    product `(P + C) ⊗ Σ` with `P_ab = |D_a D_b|/N`, the fraction of samples two patterns
//!    share: `G_ab = X̃ᵀD_aD_bX̃/N` is that fraction times a covariance, and the strong
//!    correlation of patterns with nearly equal masks, which is what makes `G` ill-conditioned,
//!    is in `P`. Measured on the bench's N = 10⁴, d = 20, 200-pattern case near its optimum: 90
//!    CG iterations to 1e-4 with `P ⊗ Σ`, 202 without; block Jacobi (`G_bb` blocks) took more
//!    than none. The diagonal `C` carries the penalty's curvature and the damping (each block's
//!    `c_b I` as `(c_b/μ) Σ`, `μ` Σ's mean eigenvalue).
//! 4. blocks whose step passes their origin leave as in [`super::gated_newton`], and the step is
//!    searched along its line ([`Line`]) with the curvature `‖AΔ‖²/N` that CG's products give.

use super::gated_newton::{
    block_minimiser, support, BlockEigen, Ended, GapTerms, Line, NewtonSteps, Solve,
};
use super::program::{group_norms, Program, BLOCK, PARALLEL_WORK};
use crate::linalg::{dot, norm};
use crate::train::Budget;
use faer::linalg::matmul::matmul;
use faer::linalg::solvers::{Llt, Solve as _};
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

/// Newton steps at most per solve (each step also lets blocks enter).
const MAX_STEPS: usize = 50;

/// Cut steps in a row after which a solve gives up: none short of [`MAX_STEPS`]. With far more
/// columns than samples `G` is singular and the damping starts at 1e-12 of the diagonal, so
/// cut steps, each still decreasing the objective, come before the full ones. Measured on a
/// planted teacher with d = 60, N = 1 000, 200 gates (gated, β = 1e-3; 2 cores, one run each),
/// with the damping then growing 10× per cut: giving up after 5 (the direct solve's rule) ended
/// the run "stalled" at a gap of 0.63, or, with Clarabel's sample rows taking over, certified
/// it in 69 s; without the rule the four rounds took 16, 29, 39 and 7 steps and certified it
/// in 16 s (14 s with the damping growing 100× per cut; the interior point on the whole
/// program: 33 s).
const MAX_CUT_STEPS: usize = MAX_STEPS;

/// CG iterations at most per Newton system: the iterate is used as it is then (every CG iterate
/// from zero is a descent direction).
const MAX_CG: usize = 500;

/// CG's relative residual η: `0.1·√gap` within these (inexact Newton's superlinear rule;
/// measured on the N = 10⁴ case, from a ridge start four Newton steps of 58–100 iterations
/// reached a gap of 2e-11), or looser when that is enough for the tolerance, taking the gap
/// after a step as η² times the one before: `η = √(tol/(4 gap))`, at most
/// [`FORCING_LOOSEST`]. That model is optimistic near the optimum (N = 10⁵, 1 000 patterns:
/// η = 0.016 took the gap from 9.0e-5 to 1.6e-6, not 2e-8), but the linear one, `tol/(2 gap)`,
/// made the middle steps tighter than they needed and the solve 58 s → 71 s.
const FORCING_MIN: f64 = 1e-4;
const FORCING_MAX: f64 = 1e-1;
const FORCING_LOOSEST: f64 = 0.5;

/// Groups per pass of a product's block of samples: the block's `Z = X̃_b U` (512 samples × 256
/// groups, 512 KB in f32) stays in the core's 2 MB L2 cache between its GEMM and its masked
/// loop. Measured at N = 10⁵, 1 000 groups: 0.091 s per product with the whole block at once,
/// 0.082 s with 64 groups, 0.077 with 128, 0.074 with 256 (one run each, shared machine).
const PRODUCT_CHUNK: usize = 256;

/// The ridge, relative to its mean diagonal, that keeps the preconditioner's factors positive
/// definite when patterns coincide on the data.
const PRECONDITIONER_RIDGE: f64 = 1e-8;

/// Solves the restricted program `prog` (the gated model on the working set's groups, squared
/// loss without weights) from `warm` to relative gap `tol`; the point comes back group by group.
pub fn solve(prog: &Program, warm: &[f64], tol: f64, budget: &Budget) -> Solve {
    debug_assert!(!prog.constrained && prog.weights.is_none());
    let dim = prog.dim();
    let blocks = prog.n_groups();
    let nf = prog.n() as f64;
    let sigma = covariance(prog);
    let Some(kron) = Kronecker::new(prog, &sigma) else {
        return Solve {
            d: warm.to_vec(),
            rel_gap: f64::INFINITY,
            ended: Ended::Stalled,
        };
    };
    let sigma_eigen = BlockEigen::of_block(sigma.clone());
    let products = Products::new(prog);
    let share: Vec<f64> = prog
        .groups
        .iter()
        .map(|g| prog.patterns.masks[g.pattern].count() as f64 / nf)
        .collect();
    let mut d = warm.to_vec();
    let mut at = State::at(prog, &d);
    // the Levenberg–Marquardt damping as in the direct solve: CG needs it where `G` is singular
    // (more columns than samples, equal patterns)
    let mut steps = NewtonSteps::new(MAX_STEPS, MAX_CUT_STEPS, budget);
    let ended = loop {
        if let Some(ended) = steps.next() {
            break ended;
        }
        // 1. blocks at zero that the certificate wants
        let entering: Vec<usize> = (0..blocks)
            .filter(|&b| {
                norm(&d[b * dim..(b + 1) * dim]) == 0.0
                    && norm(&at.grad[b * dim..(b + 1) * dim]) > prog.beta
            })
            .collect();
        if !entering.is_empty()
            && enter(
                prog,
                &products,
                &entering,
                &sigma_eigen,
                &share,
                &mut d,
                &at,
            )
        {
            at = State::at(prog, &d);
        }
        // 2. done?
        steps.rel_gap = at.gap_terms(prog, &d).relative(prog.beta);
        if let Some(ended) = steps.ended(tol) {
            break ended;
        }
        // 3. Newton on the support
        let support = support(&d, dim);
        let forcing = (0.1 * steps.rel_gap.sqrt())
            .clamp(FORCING_MIN, FORCING_MAX)
            .max((tol / (4.0 * steps.rel_gap)).sqrt().min(FORCING_LOOSEST));
        let newton = |support: Vec<usize>, d: &[f64], at: &State, damping: f64| {
            newton_line(
                prog, &products, &kron, &share, &sigma, support, d, at, damping, forcing, budget,
            )
        };
        let Some(line) = newton(support, &d, &at, steps.damping) else {
            break Ended::Stalled;
        };
        // 4. blocks heading through their origin leave, if that decreases F
        let leaving = line.leaving(&d);
        if !leaving.is_empty() {
            let mut d2 = d.clone();
            for &b in &leaving {
                d2[b * dim..(b + 1) * dim].iter_mut().for_each(|v| *v = 0.0);
            }
            let at2 = State::at(prog, &d2);
            let jump = at2.objective(prog, &d2) - at.objective(prog, &d);
            let rest = line.staying(&leaving);
            let taken = if rest.is_empty() {
                (jump < 0.0).then_some(0.0)
            } else {
                newton(rest, &d2, &at2, steps.damping).and_then(|l2| {
                    let a = l2.search(&d2, jump)?;
                    l2.apply(a, &mut d2);
                    Some(a)
                })
            };
            if taken.is_some() {
                d = d2;
                at = State::at(prog, &d);
                steps.after_jump();
                continue;
            }
        }
        let Some(a) = line.search(&d, 0.0) else {
            break Ended::Stalled;
        };
        line.apply(a, &mut d);
        at = State::at(prog, &d);
        steps.after_step(a);
    };
    Solve {
        d,
        rel_gap: steps.rel_gap,
        ended,
    }
}

/// The loss's gradient and residual at a point.
struct State {
    /// `Aᵀ(Ad − y)/N`, group by group
    grad: Vec<f64>,
    /// `e = Ad − y`
    residual: Vec<f64>,
    /// `‖e‖²/(2N)`
    loss: f64,
}

impl State {
    fn at(prog: &Program, d: &[f64]) -> Self {
        let mut grad = vec![0.0; d.len()];
        let e = prog.eval(d, None, &mut grad, None);
        let residual = e
            .prediction
            .iter()
            .zip(prog.y)
            .map(|(p, y)| p - y)
            .collect();
        Self {
            grad,
            residual,
            loss: e.loss,
        }
    }

    fn objective(&self, prog: &Program, d: &[f64]) -> f64 {
        self.loss + prog.penalty(d)
    }

    fn gap_terms(&self, prog: &Program, d: &[f64]) -> GapTerms {
        let nf = prog.n() as f64;
        GapTerms {
            d_grad: dot(d, &self.grad),
            yy_minus_cd: -dot(prog.y, &self.residual) / nf,
            penalty: prog.penalty(d),
            worst_gradient: group_norms(&self.grad, prog.dim())
                .into_iter()
                .fold(0.0, f64::max),
        }
    }
}

/// Takes the `entering` blocks (at zero) to their block minimisers under the metric
/// `share_b Σ` together, along a searched line; returns whether a step was taken.
fn enter(
    prog: &Program,
    products: &Products,
    entering: &[usize],
    sigma_eigen: &BlockEigen,
    share: &[f64],
    d: &mut [f64],
    at: &State,
) -> bool {
    let dim = prog.dim();
    let mut step = Vec::with_capacity(entering.len() * dim);
    let (mut smooth_slope, mut penalty_slope) = (0.0, 0.0);
    for &b in entering {
        let g = &at.grad[b * dim..(b + 1) * dim];
        if share[b] <= 0.0 {
            return false;
        }
        // min ½ share xᵀΣx + gᵀx + β‖x‖, divided by share: ½xᵀΣx − (−g/share)ᵀx + (β/share)‖x‖
        let v: Vec<f64> = g.iter().map(|x| -x / share[b]).collect();
        let x = block_minimiser(sigma_eigen, &v, prog.beta / share[b]);
        smooth_slope += dot(g, &x);
        penalty_slope += prog.beta * norm(&x);
        step.extend_from_slice(&x);
    }
    let slope = smooth_slope + penalty_slope;
    if slope.is_nan() || slope >= 0.0 {
        return false;
    }
    let (ax, _) = products.apply(entering, &step);
    let line = Line {
        support: entering.to_vec(),
        dim,
        beta: prog.beta,
        step,
        smooth_slope,
        slope,
        curvature: dot(&ax, &ax) / prog.n() as f64,
    };
    match line.search(d, 0.0) {
        Some(a) => {
            line.apply(a, d);
            true
        }
        None => false,
    }
}

/// The products with `A_S` and `G_SS` in CG, in single precision: the data and `x` rounded to
/// f32, each block of samples' two GEMMs and masked loops in f32 (twice the lanes per
/// instruction and half the memory traffic of f64), the blocks' sums in f64, in block order
/// (the same on any thread count). CG asks for relative residuals of 1e-4 at the least, far
/// above f32's 6e-8; the gradient, the objective and the certificate stay in f64.
struct Products<'p, 'a> {
    prog: &'p Program<'a>,
    /// `X̃` row by row, rounded
    rows: Vec<f32>,
}

impl<'p, 'a> Products<'p, 'a> {
    fn new(prog: &'p Program<'a>) -> Self {
        let rows = prog
            .data
            .rows(0..prog.n())
            .iter()
            .map(|&v| v as f32)
            .collect();
        Self { prog, rows }
    }

    /// `(A_S x, G_SS x)` for `x` on the blocks `support`.
    fn apply(&self, support: &[usize], x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, dim, g) = (self.prog.n(), self.prog.dim(), support.len());
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let blocks: Vec<std::ops::Range<usize>> = (0..n)
            .step_by(BLOCK)
            .map(|s| s..(s + BLOCK).min(n))
            .collect();
        let threads = if n * g * dim < PARALLEL_WORK {
            1
        } else {
            crate::linalg::threads::available().min(blocks.len())
        };
        let mut results: Vec<Option<(Vec<f32>, Vec<f32>)>> = vec![None; blocks.len()];
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (blocks, x32) = (&blocks, &x32);
                    scope.spawn(move || {
                        (t..blocks.len())
                            .step_by(threads)
                            .map(|b| (b, self.block(blocks[b].clone(), support, x32)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                for (b, r) in h.join().expect("a block of products panicked") {
                    results[b] = Some(r);
                }
            }
        });
        let mut ax = Vec::with_capacity(n);
        let mut gx = vec![0.0; dim * g];
        for r in results {
            let (p, partial) = r.expect("every block computed");
            ax.extend(p.iter().map(|&v| f64::from(v)));
            gx.iter_mut()
                .zip(&partial)
                .for_each(|(a, &b)| *a += f64::from(b));
        }
        (ax, gx)
    }

    /// One block of samples: its part of `A_S x` and its partial `X̃_bᵀ D (A_S x)_b / N`, each
    /// a pass over the groups [`PRODUCT_CHUNK`] at a time (a GEMM and the masked loops per
    /// chunk).
    fn block(
        &self,
        range: std::ops::Range<usize>,
        support: &[usize],
        x32: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let (dim, g, len) = (self.prog.dim(), support.len(), range.len());
        let xs = MatRef::from_column_major_slice(
            &self.rows[range.start * dim..range.end * dim],
            dim,
            len,
        );
        let chunk = PRODUCT_CHUNK.min(g.max(1));
        let chunks: Vec<std::ops::Range<usize>> = (0..g)
            .step_by(chunk)
            .map(|c0| c0..(c0 + chunk).min(g))
            .collect();
        let group = |j: usize| self.prog.groups[support[j]];
        let mask = |j: usize| &self.prog.patterns.masks[group(j).pattern];
        let mut z = vec![0.0f32; len * chunk];
        let mut p = vec![0.0f32; len];
        for c in &chunks {
            let (c0, c1) = (c.start, c.end);
            let zc = &mut z[..len * c.len()];
            matmul(
                MatMut::from_column_major_slice_mut(zc, len, c1 - c0),
                Accum::Replace,
                xs.transpose(),
                MatRef::from_column_major_slice(&x32[c0 * dim..c1 * dim], dim, c1 - c0),
                1.0f32,
                Par::Seq,
            );
            for j in c0..c1 {
                let sign = group(j).sign as f32;
                let k = j - c0;
                mask(j).masked_add(range.start, sign, &zc[k * len..(k + 1) * len], &mut p);
            }
        }
        let scale = 1.0 / self.prog.n() as f32;
        let r: Vec<f32> = p.iter().map(|v| v * scale).collect();
        let mut partial = vec![0.0f32; dim * g];
        for c in &chunks {
            let (c0, c1) = (c.start, c.end);
            let zc = &mut z[..len * c.len()];
            for j in c0..c1 {
                let sign = group(j).sign as f32;
                let k = j - c0;
                mask(j).masked_copy(range.start, sign, &r, &mut zc[k * len..(k + 1) * len]);
            }
            matmul(
                MatMut::from_column_major_slice_mut(&mut partial[c0 * dim..c1 * dim], dim, c1 - c0),
                Accum::Replace,
                xs,
                MatRef::from_column_major_slice(zc, len, c1 - c0),
                1.0f32,
                Par::Seq,
            );
        }
        (p, partial)
    }
}

/// The inexact Newton step on `support` from `d` as a [`Line`].
#[allow(clippy::too_many_arguments)]
fn newton_line(
    prog: &Program,
    products: &Products,
    kron: &Kronecker,
    share: &[f64],
    sigma: &Mat<f64>,
    support: Vec<usize>,
    d: &[f64],
    at: &State,
    damping: f64,
    forcing: f64,
    budget: &Budget,
) -> Option<Line> {
    if support.is_empty() {
        return None;
    }
    let (dim, beta, n) = (prog.dim(), prog.beta, prog.n());
    let m = support.len() * dim;
    let unit: Vec<Vec<f64>> = support
        .iter()
        .map(|&b| {
            let db = &d[b * dim..(b + 1) * dim];
            let nb = norm(db);
            db.iter().map(|v| v / nb).collect()
        })
        .collect();
    let radius: Vec<f64> = support
        .iter()
        .map(|&b| norm(&d[b * dim..(b + 1) * dim]))
        .collect();
    let mut rhs = vec![0.0; m];
    for (s, &b) in support.iter().enumerate() {
        for c in 0..dim {
            rhs[s * dim + c] = -(at.grad[b * dim + c] + beta * unit[s][c]);
        }
    }
    // the mean diagonal of the system, with `G_bb`'s trace as `share_b tr Σ`
    let trace_sigma: f64 = (0..dim).map(|i| sigma[(i, i)]).sum();
    let mean_diagonal = support
        .iter()
        .zip(&radius)
        .map(|(&b, r)| share[b] * trace_sigma + beta * (dim as f64 - 1.0) / r)
        .sum::<f64>()
        / m as f64;
    let lambda = damping * mean_diagonal;
    // H x = G x + β(x − d̂d̂ᵀx)/‖d‖ + λx, block by block
    let system = |x: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let (ax, mut hx) = products.apply(&support, x);
        for s in 0..support.len() {
            let xs = &x[s * dim..(s + 1) * dim];
            let along = dot(&unit[s], xs);
            for c in 0..dim {
                hx[s * dim + c] += beta * (xs[c] - along * unit[s][c]) / radius[s] + lambda * xs[c];
            }
        }
        (ax, hx)
    };
    // the penalty's curvature and the damping, `c_b I`, in the preconditioner as `(c_b/μ) Σ`,
    // `μ = tr Σ / d̃` (the same trace): `P ⊗ Σ` alone left them out, and small groups' `β/‖d_b‖`
    // is not small. Measured on N = 10⁵, 1 000 patterns: 862 CG iterations in all → 741.
    let mean_sigma = trace_sigma / dim as f64;
    let shift: Vec<f64> = radius
        .iter()
        .map(|r| (beta * (dim as f64 - 1.0) / (dim as f64 * r) + lambda) / mean_sigma)
        .collect();
    let precondition = kron.on(&support, &shift);
    let rhs_norm = norm(&rhs);
    let mut x = vec![0.0; m];
    let mut ax = vec![0.0; n];
    let mut r = rhs.clone();
    let mut z = precondition.apply(&r);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    for _ in 0..MAX_CG {
        // a CG solve can take seconds at N = 10⁵: stop it early when the budget runs out (the
        // iterate so far is still a descent direction; the solve stops at its next step)
        if budget.exhausted().is_some() {
            break;
        }
        let (ap, hp) = system(&p);
        let curvature = dot(&p, &hp);
        if curvature.is_nan() || curvature <= 0.0 {
            break;
        }
        let alpha = rz / curvature;
        x.iter_mut().zip(&p).for_each(|(a, b)| *a += alpha * b);
        ax.iter_mut().zip(&ap).for_each(|(a, b)| *a += alpha * b);
        r.iter_mut().zip(&hp).for_each(|(a, b)| *a -= alpha * b);
        if norm(&r) <= forcing * rhs_norm {
            break;
        }
        z = precondition.apply(&r);
        let rz_next = dot(&r, &z);
        let ratio = rz_next / rz;
        rz = rz_next;
        p.iter_mut().zip(&z).for_each(|(a, b)| *a = b + ratio * *a);
    }
    let mut smooth_slope = 0.0;
    let mut penalty_slope = 0.0;
    for (s, &b) in support.iter().enumerate() {
        let xs = &x[s * dim..(s + 1) * dim];
        smooth_slope += dot(&at.grad[b * dim..(b + 1) * dim], xs);
        penalty_slope += beta * dot(&unit[s], xs);
    }
    let slope = smooth_slope + penalty_slope;
    (slope < 0.0 && slope.is_finite()).then_some(Line {
        support,
        dim,
        beta,
        step: x,
        smooth_slope,
        slope,
        curvature: dot(&ax, &ax) / n as f64,
    })
}

/// `Σ = X̃ᵀX̃/N`.
fn covariance(prog: &Program) -> Mat<f64> {
    let dim = prog.dim();
    let mut sigma = Mat::<f64>::zeros(dim, dim);
    for i in 0..prog.n() {
        let x = prog.data.row(i);
        for a in 0..dim {
            for b in 0..=a {
                sigma[(a, b)] += x[a] * x[b];
            }
        }
    }
    let nf = prog.n() as f64;
    for a in 0..dim {
        for b in 0..=a {
            let v = sigma[(a, b)] / nf;
            sigma[(a, b)] = v;
            sigma[(b, a)] = v;
        }
    }
    sigma
}

/// The preconditioner's factors: `Σ`'s, and the shared fractions `P` of the set's patterns
/// (computed once per solve by counting bits; a support takes its rows and columns).
struct Kronecker {
    sigma: Llt<f64>,
    shared: Mat<f64>,
}

/// `((P_SS + C) ⊗ Σ)⁻¹` for one support, `C` its diagonal shift.
struct OnSupport<'k> {
    sigma: &'k Llt<f64>,
    patterns: Option<Llt<f64>>,
    blocks: usize,
}

impl Kronecker {
    fn new(prog: &Program, sigma: &Mat<f64>) -> Option<Self> {
        let blocks = prog.n_groups();
        let nf = prog.n() as f64;
        let masks: Vec<_> = prog
            .groups
            .iter()
            .map(|g| &prog.patterns.masks[g.pattern])
            .collect();
        // rows of P by thread, each entry an exact count: the same on any thread count
        let threads = crate::linalg::threads::available().min(blocks.max(1));
        let rows: Vec<Vec<f64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let masks = &masks;
                    scope.spawn(move || {
                        (t..blocks)
                            .step_by(threads)
                            .map(|a| {
                                (0..=a)
                                    .map(|b| masks[a].overlap(masks[b]) as f64 / nf)
                                    .collect::<Vec<f64>>()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let parts: Vec<Vec<Vec<f64>>> = handles
                .into_iter()
                .map(|h| h.join().expect("a row of P panicked"))
                .collect();
            (0..blocks)
                .map(|a| parts[a % threads][a / threads].clone())
                .collect()
        });
        let shared =
            Mat::<f64>::from_fn(
                blocks,
                blocks,
                |a, b| {
                    if b <= a {
                        rows[a][b]
                    } else {
                        rows[b][a]
                    }
                },
            );
        Some(Self {
            sigma: regularised_llt(sigma.clone())?,
            shared,
        })
    }

    fn on(&self, support: &[usize], shift: &[f64]) -> OnSupport<'_> {
        let p = Mat::<f64>::from_fn(support.len(), support.len(), |a, b| {
            self.shared[(support[a], support[b])] + if a == b { shift[a] } else { 0.0 }
        });
        OnSupport {
            sigma: &self.sigma,
            patterns: regularised_llt(p),
            blocks: support.len(),
        }
    }
}

impl OnSupport<'_> {
    /// `Σ⁻¹ R P⁻¹` for `r` as the d̃ × |S| matrix `R` (the identity if `P` could not be factored).
    fn apply(&self, r: &[f64]) -> Vec<f64> {
        let Some(patterns) = &self.patterns else {
            return r.to_vec();
        };
        let dim = r.len() / self.blocks;
        let rm = Mat::<f64>::from_fn(dim, self.blocks, |i, j| r[j * dim + i]);
        let y = self.sigma.solve(&rm);
        // Z P = Y  ⇔  P Zᵀ = Yᵀ
        let zt = patterns.solve(y.transpose().to_owned());
        let mut out = vec![0.0; r.len()];
        for j in 0..self.blocks {
            for i in 0..dim {
                out[j * dim + i] = zt[(j, i)];
            }
        }
        out
    }
}

/// The Cholesky factor of `m + ridge·I`, the ridge [`PRECONDITIONER_RIDGE`] times the mean
/// diagonal, grown 100× while the factorisation fails.
fn regularised_llt(mut m: Mat<f64>) -> Option<Llt<f64>> {
    let side = m.nrows();
    if side == 0 {
        return None;
    }
    let mean = (0..side).map(|i| m[(i, i)]).sum::<f64>() / side as f64;
    if !(mean > 0.0 && mean.is_finite()) {
        return None;
    }
    let mut ridge = PRECONDITIONER_RIDGE * mean;
    let diagonal: Vec<f64> = (0..side).map(|i| m[(i, i)]).collect();
    for _ in 0..8 {
        for (i, v) in diagonal.iter().enumerate() {
            m[(i, i)] = v + ridge;
        }
        if let Ok(l) = m.llt(Side::Lower) {
            return Some(l);
        }
        ridge *= 100.0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convex::gram::Gram;
    use crate::convex::{gated_newton, patterns, Lifted, Loss};
    use crate::linalg::Matrix;
    use crate::train::Limits;
    use rand::{Rng, SeedableRng};

    /// From zero, on a seeded group lasso whose optimum has blocks at zero and blocks not, the
    /// solve without `G` converges and reaches the optimum of the Gram-form Newton solver: the
    /// same objective to 1e-10 relative, the same zero blocks, the same point to 1e-6. Its gap,
    /// from the prediction, is checked by the Gram-form solver's own test against the data.
    #[test]
    fn it_reaches_the_gram_form_optimum() {
        let (data, y, pats) = gated_newton::seeded_group_lasso();
        let beta = 5e-3;
        let prog = Program::new(&data, &y, Loss::Squared, &pats, false, beta);
        let budget = Budget::start(&Limits::none());
        let dim = prog.dim();
        let solved = solve(&prog, &vec![0.0; prog.n_vars()], 1e-12, &budget);
        assert_eq!(solved.ended, Ended::Converged, "gap {}", solved.rel_gap);
        let mut gram = Gram::empty();
        let order: Vec<usize> = (0..pats.len()).collect();
        assert!(gram.extend(&prog, &order, &budget));
        let reference =
            gated_newton::solve(&gram, dim, beta, &vec![0.0; prog.n_vars()], 1e-13, &budget);
        assert_eq!(reference.ended, Ended::Converged);
        let objective = |u: &[f64]| prog.network_loss(u) + prog.penalty(u);
        let (got, want) = (objective(&solved.d), objective(&reference.d));
        assert!(
            (got - want).abs() <= 1e-10 * want,
            "objective {got} against {want}"
        );
        let (a, b) = (group_norms(&solved.d, dim), group_norms(&reference.d, dim));
        assert!(a.contains(&0.0) && a.iter().any(|&v| v > 0.0));
        for (j, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(*x == 0.0, *y == 0.0, "block {j}: {x} against {y}");
        }
        let distance: f64 = solved
            .d
            .iter()
            .zip(&reference.d)
            .map(|(p, q)| (p - q).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(distance <= 1e-6 * norm(&reference.d), "distance {distance}");
    }

    /// With four times more columns than samples (a planted teacher in d = 30, N = 150, 20
    /// sampled gates, β = 1e-3) `G` is singular and the first Newton steps are cut while the
    /// damping grows: the solve still converges from zero, to the interior
    /// point's optimum on the same program (1e-7 relative). Giving up after five cut steps in a
    /// row, as the direct solve does, ended this one "stalled".
    #[test]
    fn it_converges_with_more_columns_than_samples() {
        let (d, n) = (30, 150);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let mut normal = || {
            let (a, b): (f64, f64) = (rng.random(), rng.random());
            (-2.0 * (1.0 - a).ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        let x = Matrix::from_fn(d, n, |_, _| normal());
        let w: Vec<f64> = (0..d).map(|_| normal()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| (0..d).map(|r| w[r] * x.get(r, i)).sum::<f64>().max(0.0) + 0.1 * normal())
            .collect();
        let data = Lifted::new(&x);
        let pats = patterns::sample(&data, 20, 4).unwrap();
        let prog = Program::new(&data, &y, Loss::Squared, &pats, false, 1e-3);
        assert!(
            prog.n_vars() >= 4 * n,
            "the program has {} columns",
            prog.n_vars()
        );
        let budget = Budget::start(&Limits::none());
        let solved = solve(&prog, &vec![0.0; prog.n_vars()], 1e-9, &budget);
        assert_eq!(solved.ended, Ended::Converged, "gap {}", solved.rel_gap);
        let settings = crate::convex::ipm::IpmSettings {
            tol: 1e-10,
            ..Default::default()
        };
        let reference =
            crate::convex::ipm::solve(&prog, &settings, &budget, &mut |_| None).unwrap();
        let got = prog.network_loss(&solved.d) + prog.penalty(&solved.d);
        let want = reference.bound.primal;
        assert!(
            (got - want).abs() <= 1e-7 * want,
            "objective {got} against {want}"
        );
    }

    /// `(P + C) ⊗ Σ` applied by its factors is the inverse of the Kronecker product formed
    /// entry by entry: `((P + C) ⊗ Σ) M⁻¹ r = r` on a support of three of the blocks, with the
    /// support's diagonal shift `C`.
    #[test]
    fn the_preconditioner_inverts_the_kronecker_product() {
        let (d, n) = (2, 300);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut next = || rng.random::<f64>() - 0.5;
        let x = Matrix::from_fn(d, n, |_, _| next());
        let y: Vec<f64> = (0..n).map(|_| next()).collect();
        let data = Lifted::new(&x);
        let pats = patterns::sample(&data, 6, 2).unwrap();
        let prog = Program::new(&data, &y, Loss::Squared, &pats, false, 1e-3);
        let sigma = covariance(&prog);
        let kron = Kronecker::new(&prog, &sigma).unwrap();
        assert!(pats.len() >= 3, "{} patterns", pats.len());
        let support = [pats.len() - 1, 0, 1];
        let shift = [0.3, 0.0, 1.7];
        let on = kron.on(&support, &shift);
        let dim = prog.dim();
        let r: Vec<f64> = (0..support.len() * dim).map(|_| next()).collect();
        let z = on.apply(&r);
        let shared = |a: usize, b: usize| {
            let (ma, mb) = (&pats.masks[support[a]], &pats.masks[support[b]]);
            (0..n).filter(|&i| ma.on(i) && mb.on(i)).count() as f64 / n as f64
                + if a == b { shift[a] } else { 0.0 }
        };
        for a in 0..support.len() {
            for i in 0..dim {
                let back: f64 = (0..support.len())
                    .flat_map(|b| (0..dim).map(move |j| (b, j)))
                    .map(|(b, j)| shared(a, b) * sigma[(i, j)] * z[b * dim + j])
                    .sum();
                assert!(
                    (back - r[a * dim + i]).abs() <= 1e-6,
                    "{back} against {}",
                    r[a * dim + i]
                );
            }
        }
    }
}
