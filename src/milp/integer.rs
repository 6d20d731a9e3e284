//! Exact training of ReLU networks of any depth and output count with integer weights, as a
//! MILP (the setting of mip_nn and BeMi, here with an open solver).
//!
//! **The class.** Every weight and bias an integer in `[−P, P]`, ReLU hidden layers, a linear
//! output layer with any number of outputs. The optimum is global over these finitely many
//! networks.
//!
//! **The program.** First-layer weights multiply data, so the first pre-activations are linear in
//! them. A deeper weight multiplies a hidden activation, a variable: it is written in binary,
//! `w = −P + Σ_t 2^t β_t` with `Σ_t 2^t β_t ≤ 2P`, and each product `β_t·h` (binary times an
//! activation in `[0, U]`) is linearised exactly. ReLU is Fischetti & Jo's big-M with the interval
//! bounds of [`crate::bounds::training_bounds`] for the box `[−P, P]`. The loss is the sum of
//! absolute errors over outputs and samples (L1), the largest one (L∞), or exact fit to a tolerance.

use super::errors::ErrorMeasure;
use super::model::{LinearModel, MilpCertificate, MilpSettings, NetworkFit, OnProgress};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp};

/// What to train.
#[derive(Clone, Debug, PartialEq)]
pub struct IntegerMilp {
    /// Any depth; the output activation must be linear.
    pub arch: Architecture,
    /// P: every weight and bias in `{−P, …, P}`.
    pub weight_bound: u32,
    pub loss: ErrorMeasure,
}

impl IntegerMilp {
    /// The certificate of `fit` over this class (certified when the gap is at most `gap_tol`).
    pub fn certificate(&self, fit: &NetworkFit, gap_tol: f64) -> MilpCertificate {
        let p = self.weight_bound;
        fit.certificate(
            "integer",
            format!(
                "{} ReLU networks (linear output) with every weight and bias an integer in [−{p}, {p}]",
                self.arch.spec()
            ),
            self.loss.name(),
            p as f64,
            gap_tol,
        )
    }
}

/// The loss of predictions (outputs × samples) against targets, over every entry.
fn loss_of(loss: ErrorMeasure, yhat: &Matrix, y: &Matrix) -> f64 {
    loss.value(yhat.as_slice(), y.as_slice())
}

/// Largest accepted program: samples × (units + products).
const MAX_SIZE: usize = 400_000;

/// Column indices.
struct Cols {
    /// w[l][k][i], b[l][k]: integer columns
    w: Vec<Vec<Vec<usize>>>,
    b: Vec<Vec<usize>>,
    /// bits[l][k][i][t] for layers l ≥ 1
    bits: Vec<Vec<Vec<Vec<usize>>>>,
    /// per hidden layer l (0-based, = weight layer l's output), unit k, sample j: activation h
    /// (None when its bounds fix it at 0) and indicator δ (None when the phase is fixed)
    h: Vec<Vec<Vec<Option<usize>>>>,
    delta: Vec<Vec<Vec<Option<usize>>>>,
    /// q[[l, k, i, j, t]] = β_t·h for layers l ≥ 1: bit t of weight (k, i) of layer l times
    /// activation i of the previous layer on sample j
    q: std::collections::HashMap<[usize; 5], usize>,
    err: Vec<usize>,
}

fn n_bits(p: u32) -> usize {
    // enough bits to write 0..=2P
    (u32::BITS - (2 * p).leading_zeros()) as usize
}

fn validate(x: &Matrix, y: &Matrix, spec: &IntegerMilp) -> Result<()> {
    let arch = &spec.arch;
    if arch.output != Activation::Linear {
        return Err(Error::InvalidArgument(
            "integer-weight training needs a linear output".into(),
        ));
    }
    if x.rows() != arch.n_inputs() || y.rows() != arch.n_outputs() || x.cols() != y.cols() {
        return Err(Error::Shape(format!(
            "the network {} takes {} inputs and gives {} outputs; the data have {} inputs, {} targets, {} and {} samples",
            arch.spec(),
            arch.n_inputs(),
            arch.n_outputs(),
            x.rows(),
            y.rows(),
            x.cols(),
            y.cols()
        )));
    }
    if x.cols() == 0 {
        return Err(Error::InvalidArgument(
            "exact training needs at least one sample".into(),
        ));
    }
    if !x.is_finite() || !y.is_finite() {
        return Err(Error::NonFinite("training data".into()));
    }
    if spec.weight_bound == 0 || spec.weight_bound > 1 << 20 {
        return Err(Error::InvalidArgument(format!(
            "the integer weight bound must be between 1 and 2^20, got {}",
            spec.weight_bound
        )));
    }
    spec.loss.validate()?;
    let w = &arch.widths;
    let products: usize =
        (1..w.len() - 1).map(|l| w[l] * w[l + 1]).sum::<usize>() * n_bits(spec.weight_bound);
    let units: usize = w[1..].iter().sum();
    if x.cols().saturating_mul(units + products) > MAX_SIZE {
        return Err(Error::InvalidArgument(format!(
            "{} with {} samples is beyond what a MILP can certify ({} variables per sample)",
            arch.spec(),
            x.cols(),
            units + products
        )));
    }
    Ok(())
}

fn build(x: &Matrix, y: &Matrix, spec: &IntegerMilp) -> Result<(LinearModel, Cols)> {
    let widths = &spec.arch.widths;
    let layers = widths.len() - 1;
    let p = spec.weight_bound as f64;
    let nb = n_bits(spec.weight_bound);
    let n = x.cols();
    let inf = f64::INFINITY;
    let bounds = crate::bounds::training_bounds(x, &spec.arch, p)?;
    let mut m = LinearModel::new();
    let mut cols = Cols {
        w: Vec::new(),
        b: Vec::new(),
        bits: Vec::new(),
        h: Vec::new(),
        delta: Vec::new(),
        q: std::collections::HashMap::new(),
        err: Vec::new(),
    };
    for l in 0..layers {
        let (rows, ins) = (widths[l + 1], widths[l]);
        let mut wl = Vec::with_capacity(rows);
        let mut bl = Vec::with_capacity(rows);
        let mut bitsl = Vec::with_capacity(rows);
        for _ in 0..rows {
            let mut wk = Vec::with_capacity(ins);
            let mut bitsk = Vec::with_capacity(ins);
            for _ in 0..ins {
                let c = m.col(-p, p, 0.0);
                m.integer[c] = true;
                wk.push(c);
                if l >= 1 {
                    // w = −P + Σ 2^t β_t, Σ 2^t β_t ≤ 2P
                    let bits: Vec<usize> = (0..nb).map(|_| m.binary(0.0)).collect();
                    let mut t: Vec<(usize, f64)> = bits
                        .iter()
                        .enumerate()
                        .map(|(i, &bc)| (bc, (1u64 << i) as f64))
                        .collect();
                    m.row(-inf, 2.0 * p, &t);
                    t.push((c, -1.0));
                    m.row(p, p, &t);
                    bitsk.push(bits);
                }
            }
            let c = m.col(-p, p, 0.0);
            m.integer[c] = true;
            bl.push(c);
            wl.push(wk);
            bitsl.push(bitsk);
        }
        cols.w.push(wl);
        cols.b.push(bl);
        cols.bits.push(bitsl);
    }
    let outputs = widths[layers];
    cols.err = spec.loss.error_cols(&mut m, outputs * n);
    // per layer, the pre-activation terms of unit k on sample j
    for l in 0..layers {
        let (rows, ins) = (widths[l + 1], widths[l]);
        let mut hl = vec![vec![None; n]; rows];
        let mut dl = vec![vec![None; n]; rows];
        for k in 0..rows {
            for j in 0..n {
                let mut z: Vec<(usize, f64)> = vec![(cols.b[l][k], 1.0)];
                if l == 0 {
                    z.extend(cols.w[0][k].iter().zip(x.col(j)).map(|(&c, &v)| (c, v)));
                } else {
                    let ub = bounds[l - 1][j];
                    for i in 0..ins {
                        let Some(h) = cols.h[l - 1][i][j] else {
                            continue;
                        };
                        // w·h = −P h + Σ 2^t (β_t h)
                        z.push((h, -p));
                        for t in 0..nb {
                            let beta = cols.bits[l][k][i][t];
                            let q = m.col(0.0, ub, 0.0);
                            m.row(-inf, 0.0, &[(q, 1.0), (beta, -ub)]);
                            m.row(-inf, 0.0, &[(q, 1.0), (h, -1.0)]);
                            m.row(-ub, inf, &[(q, 1.0), (h, -1.0), (beta, -ub)]);
                            z.push((q, (1u64 << t) as f64));
                            cols.q.insert([l, k, i, j, t], q);
                        }
                    }
                }
                if l + 1 < layers {
                    // hidden: h = max(0, z) with |z| ≤ U
                    let u = bounds[l][j];
                    let h = m.col(0.0, u, 0.0);
                    let d = m.binary(0.0);
                    let neg: Vec<(usize, f64)> = z.iter().map(|&(c, v)| (c, -v)).collect();
                    let mut t = neg.clone();
                    t.push((h, 1.0));
                    m.row(0.0, inf, &t); // h ≥ z
                    t.push((d, u));
                    m.row(-inf, u, &t); // h ≤ z + U(1 − δ)
                    m.row(-inf, 0.0, &[(h, 1.0), (d, -u)]); // h ≤ Uδ
                    hl[k][j] = Some(h);
                    dl[k][j] = Some(d);
                } else {
                    spec.loss
                        .add_rows(&mut m, &cols.err, k * n + j, z, y.get(k, j));
                }
            }
        }
        if l + 1 < layers {
            cols.h.push(hl);
            cols.delta.push(dl);
        }
    }
    Ok((m, cols))
}

/// An integer network as a point of the program (`None` if a weight is not an integer in the box
/// or the point breaks a row: a bound cut it off).
fn point(
    net: &Mlp,
    x: &Matrix,
    y: &Matrix,
    spec: &IntegerMilp,
    m: &LinearModel,
    cols: &Cols,
) -> Option<Vec<f64>> {
    let p = spec.weight_bound as f64;
    let nb = n_bits(spec.weight_bound);
    let layers = net.weights.len();
    let mut v = vec![0.0; m.n_cols()];
    for l in 0..layers {
        for k in 0..net.weights[l].rows() {
            for i in 0..net.weights[l].cols() {
                let w = net.weights[l].get(k, i);
                if w.fract() != 0.0 || w.abs() > p {
                    return None;
                }
                v[cols.w[l][k][i]] = w;
                if l >= 1 {
                    let code = (w + p) as u64;
                    for t in 0..nb {
                        v[cols.bits[l][k][i][t]] = (code >> t & 1) as f64;
                    }
                }
            }
            v[cols.b[l][k]] = net.biases[l][k];
        }
    }
    let acts = net.forward_layers(x).ok()?;
    for l in 0..layers {
        let (z, a) = &acts[l];
        for k in 0..z.rows() {
            for j in 0..x.cols() {
                if l + 1 < layers {
                    if let Some(h) = cols.h[l][k][j] {
                        v[h] = a.get(k, j);
                    }
                    if let Some(d) = cols.delta[l][k][j] {
                        v[d] = if z.get(k, j) > 0.0 { 1.0 } else { 0.0 };
                    }
                }
                if l >= 1 {
                    let prev = &acts[l - 1].1;
                    for i in 0..prev.rows() {
                        for t in 0..nb {
                            if let Some(&q) = cols.q.get(&[l, k, i, j, t]) {
                                v[q] = v[cols.bits[l][k][i][t]] * prev.get(i, j);
                            }
                        }
                    }
                }
            }
        }
    }
    let yhat = &acts[layers - 1].1;
    match spec.loss {
        ErrorMeasure::L1 => {
            for k in 0..yhat.rows() {
                for j in 0..x.cols() {
                    v[cols.err[k * x.cols() + j]] = (yhat.get(k, j) - y.get(k, j)).abs();
                }
            }
        }
        ErrorMeasure::Linf => v[cols.err[0]] = loss_of(ErrorMeasure::Linf, yhat, y),
        ErrorMeasure::Exact { .. } => {}
    }
    let scale = 1.0 + v.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
    (m.max_violation(&v) <= 1e-9 * scale).then_some(v)
}

fn decode(v: &[f64], cols: &Cols, arch: &Architecture) -> Result<Mlp> {
    let widths = &arch.widths;
    let weights = (0..widths.len() - 1)
        .map(|l| Matrix::from_fn(widths[l + 1], widths[l], |k, i| v[cols.w[l][k][i]].round()))
        .collect();
    let biases = cols
        .b
        .iter()
        .map(|bl| bl.iter().map(|&c| v[c].round()).collect())
        .collect();
    Mlp::new(arch.clone(), weights, biases)
}

/// `net` with every weight and bias rounded to the nearest integer in `[−P, P]`: a member of the
/// class (for example a gradient-trained network, as a first incumbent).
pub fn round_into_class(net: &Mlp, weight_bound: u32) -> Mlp {
    let p = weight_bound as f64;
    let r = |v: f64| v.round().clamp(-p, p);
    let mut out = net.clone();
    for w in &mut out.weights {
        for v in w.as_mut_slice() {
            *v = r(*v);
        }
    }
    for b in &mut out.biases {
        for v in b.iter_mut() {
            *v = r(*v);
        }
    }
    out
}

/// Trains `spec` on (x, y) (inputs × samples, outputs × samples) to a certified optimum over
/// the integer networks of the box, or to the time limit. `start`, a network of the class (see
/// [`round_into_class`]), is offered as the first incumbent; `progress` sees the search move.
pub fn train(
    x: &Matrix,
    y: &Matrix,
    spec: &IntegerMilp,
    settings: &MilpSettings,
    start: Option<&Mlp>,
    progress: OnProgress,
) -> Result<NetworkFit> {
    validate(x, y, spec)?;
    settings.validate()?;
    if let Some(s) = start {
        if s.arch != spec.arch {
            return Err(Error::Shape(format!(
                "the start network is {}, training a {}",
                s.arch.spec(),
                spec.arch.spec()
            )));
        }
    }
    let (m, cols) = build(x, y, spec)?;
    let start_x = start.and_then(|s| point(s, x, y, spec, &m, &cols));
    let out = super::solve(&m, settings, start_x.as_deref(), progress)?;
    let model = match &out.x {
        Some(v) => Some(decode(v, &cols, &spec.arch)?),
        None => None,
    };
    let loss = match &model {
        Some(net) => loss_of(spec.loss, &net.forward(x)?, y),
        None => f64::INFINITY,
    };
    Ok(NetworkFit::new(model, loss, &out, &m))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "milp")]
    use crate::milp::model::MilpStatus;
    use rand::{Rng, SeedableRng};

    fn data(arch: &Architecture, n: usize, seed: u64) -> (Matrix, Matrix) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let x = Matrix::from_fn(arch.n_inputs(), n, |_, _| rng.random_range(-2.0..2.0));
        let y = Matrix::from_fn(arch.n_outputs(), n, |_, _| rng.random_range(-3.0..3.0));
        (x, y)
    }

    /// Every network with `params` (weights then bias, layer by layer) in order.
    fn network(arch: &Architecture, params: &[f64]) -> Mlp {
        let mut net = Mlp::zeros(arch);
        let mut it = params.iter();
        for l in 0..net.weights.len() {
            for v in net.weights[l].as_mut_slice() {
                *v = *it.next().unwrap();
            }
            for v in net.biases[l].iter_mut() {
                *v = *it.next().unwrap();
            }
        }
        net
    }

    /// No integer network of the box is cut off: each is a feasible point whose objective is its
    /// loss, and decodes to itself (two hidden layers, two outputs).
    #[test]
    fn every_integer_network_is_feasible_with_its_own_loss() {
        let arch = Architecture::parse("2-2-2-2", Activation::Linear).unwrap();
        let (x, y) = data(&arch, 6, 1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for loss in [ErrorMeasure::L1, ErrorMeasure::Linf] {
            let spec = IntegerMilp {
                arch: arch.clone(),
                weight_bound: 2,
                loss,
            };
            let (m, cols) = build(&x, &y, &spec).unwrap();
            for trial in 0..200 {
                let params: Vec<f64> = (0..arch.n_parameters())
                    .map(|_| rng.random_range(-2..=2) as f64)
                    .collect();
                let net = network(&arch, &params);
                let v = point(&net, &x, &y, &spec, &m, &cols)
                    .unwrap_or_else(|| panic!("trial {trial}: an integer network is cut off"));
                let want = loss_of(loss, &net.forward(&x).unwrap(), &y);
                assert!((m.objective(&v) - want).abs() <= 1e-9 * (1.0 + want));
                assert_eq!(decode(&v, &cols, &arch).unwrap(), net);
            }
            // rounding puts any network in the class
            let real = network(&arch, &vec![2.7; arch.n_parameters()]);
            assert!(point(&round_into_class(&real, 2), &x, &y, &spec, &m, &cols).is_some());
            // a weight outside the box or not an integer is not a point of the program
            let mut params = vec![1.0; arch.n_parameters()];
            params[0] = 3.0;
            assert!(point(&network(&arch, &params), &x, &y, &spec, &m, &cols).is_none());
            params[0] = 0.5;
            assert!(point(&network(&arch, &params), &x, &y, &spec, &m, &cols).is_none());
        }
    }

    #[test]
    fn bad_inputs_are_refused() {
        let arch = Architecture::parse("1-2-1", Activation::Linear).unwrap();
        let (x, y) = data(&arch, 5, 1);
        let st = MilpSettings::default();
        let spec = |arch: Architecture, p: u32| IntegerMilp {
            arch,
            weight_bound: p,
            loss: ErrorMeasure::L1,
        };
        assert!(train(&x, &y, &spec(arch.clone(), 0), &st, None, None).is_err());
        let relu_out = Architecture::parse("1-2-1", Activation::Relu).unwrap();
        assert!(train(&x, &y, &spec(relu_out, 1), &st, None, None).is_err());
        let wide = Architecture::parse("2-2-1", Activation::Linear).unwrap();
        assert!(train(&x, &y, &spec(wide.clone(), 1), &st, None, None).is_err());
        let other = Mlp::zeros(&wide);
        assert!(train(&x, &y, &spec(arch.clone(), 1), &st, Some(&other), None).is_err());
    }

    /// The certified optimum equals the best of all (2P+1)^params networks, enumerated.
    #[cfg(feature = "milp")]
    #[test]
    fn the_optimum_equals_enumeration_over_every_integer_network() {
        for (spec_str, p, loss) in [
            ("1-2-1", 1u32, ErrorMeasure::L1),
            ("1-1-1-1", 2, ErrorMeasure::L1),
            ("1-2-2", 1, ErrorMeasure::Linf),
        ] {
            let arch = Architecture::parse(spec_str, Activation::Linear).unwrap();
            let (x, y) = data(&arch, 6, 7);
            let n_par = arch.n_parameters();
            let values = 2 * p as usize + 1;
            let mut best = f64::INFINITY;
            let mut params = vec![0.0; n_par];
            for code in 0..values.pow(n_par as u32) {
                let mut c = code;
                for v in params.iter_mut() {
                    *v = (c % values) as f64 - p as f64;
                    c /= values;
                }
                let net = network(&arch, &params);
                best = best.min(loss_of(loss, &net.forward(&x).unwrap(), &y));
            }
            let spec = IntegerMilp {
                arch: arch.clone(),
                weight_bound: p,
                loss,
            };
            // from the zero network as first incumbent (a member of every class)
            let zero = Mlp::zeros(&arch);
            let fit = train(&x, &y, &spec, &MilpSettings::default(), Some(&zero), None).unwrap();
            assert_eq!(fit.status, MilpStatus::Optimal, "{spec_str}");
            assert!(
                (fit.loss - best).abs() <= 1e-6 * (1.0 + best),
                "{spec_str}: MILP {} vs enumeration {best}",
                fit.loss
            );
            assert!(fit.bound <= best + 1e-6 && fit.abs_gap() <= 1e-5);
        }
    }

    /// Three-bit parity: no 3-2-1 network with weights in {−1, 0, 1} fits it (the MILP proves it
    /// and enumeration of all 3^11 networks agrees); three units with weights in {−2, …, 2} do.
    #[cfg(feature = "milp")]
    #[test]
    fn three_bit_parity_is_refuted_for_two_units_and_fit_with_three() {
        let ds = crate::data::blum_rivest::parity(3).unwrap();
        let st = MilpSettings::default();
        let exact = ErrorMeasure::Exact { tol: 1e-6 };
        let two = Architecture::parse("3-2-1", Activation::Linear).unwrap();
        let spec = IntegerMilp {
            arch: two.clone(),
            weight_bound: 1,
            loss: exact,
        };
        let fit = train(&ds.x, &ds.y, &spec, &st, None, None).unwrap();
        assert_eq!(fit.status, MilpStatus::Infeasible);
        let n_par = two.n_parameters();
        let mut params = vec![0.0; n_par];
        for code in 0..3usize.pow(n_par as u32) {
            let mut c = code;
            for v in params.iter_mut() {
                *v = (c % 3) as f64 - 1.0;
                c /= 3;
            }
            let out = network(&two, &params).forward(&ds.x).unwrap();
            assert!(
                loss_of(ErrorMeasure::Linf, &out, &ds.y) > 1e-6,
                "{params:?} fits parity"
            );
        }
        let three = IntegerMilp {
            arch: Architecture::parse("3-3-1", Activation::Linear).unwrap(),
            weight_bound: 2,
            loss: exact,
        };
        let fit = train(&ds.x, &ds.y, &three, &st, None, None).unwrap();
        assert_eq!(fit.status, MilpStatus::Optimal);
        let net = fit.model.unwrap();
        assert!(loss_of(ErrorMeasure::Linf, &net.forward(&ds.x).unwrap(), &ds.y) <= 1e-6);
    }
}
