//! Seed 001's hard instances: Blum & Rivest's (1992) reduction of set splitting to training a
//! 3-node network of linear threshold units, and XOR/parity.
//!
//! **Set splitting.** Elements `0..n` and sets `C_1 … C_m`: is there a 2-colouring of the elements
//! under which no set is monochromatic? NP-complete (Garey & Johnson, SP4), already for sets of
//! size 3.
//!
//! **The training set** in `{0, 1}ⁿ`: the origin and every set's indicator vector `Σ_{i∈C_j} e_i`
//! are positive (target 1); every unit vector `e_i` is negative (target 0). The network: two
//! hidden threshold units `[w_kᵀx + b_k > 0]` and an AND at the output. It classifies every point
//! iff the instance can be split: from a split `(S₁, S₂)`, unit k takes `w_i = −1` on `S_k`,
//! `w_i = n` off it, `b = ½` ([`network_from_split`]); conversely the elements whose unit vector
//! unit 1 rejects, and the rest, split every set.

use super::Dataset;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Largest element count [`SetSplitting::brute_force`] accepts (2²³ colourings).
pub const BRUTE_FORCE_MAX: usize = 24;

/// The file `generate blum-rivest --instance-out` writes: the instance, how it was drawn, and its
/// brute-force answer when it was computed (`satisfiable` and a `split` if there is one).
#[derive(Clone, Debug, Serialize)]
pub struct InstanceFile {
    pub format: String,
    pub version: u32,
    pub elements: usize,
    pub sets: Vec<Vec<usize>>,
    pub planted: bool,
    pub seed: u64,
    pub satisfiable: Option<bool>,
    pub split: Option<Vec<bool>>,
}

impl InstanceFile {
    pub fn new(
        inst: &SetSplitting,
        planted: bool,
        seed: u64,
        answer: Option<Option<Vec<bool>>>,
    ) -> Self {
        Self {
            format: "cvxnn-set-splitting".into(),
            version: 1,
            elements: inst.elements,
            sets: inst.sets.clone(),
            planted,
            seed,
            satisfiable: answer.as_ref().map(Option::is_some),
            split: answer.flatten(),
        }
    }
}

/// A set-splitting instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetSplitting {
    pub elements: usize,
    pub sets: Vec<Vec<usize>>,
}

pub use crate::net::ThresholdUnit;

impl SetSplitting {
    /// `sets` random sets of `set_size` distinct elements of `0..elements`, seeded. With
    /// `planted`, a random 2-colouring (both colours used) is drawn first and only sets it splits
    /// are kept, so the instance is satisfiable.
    pub fn random(
        elements: usize,
        sets: usize,
        set_size: usize,
        planted: bool,
        seed: u64,
    ) -> Result<Self> {
        if !(2..=64).contains(&elements) {
            return Err(Error::InvalidArgument(format!(
                "set splitting needs 2 to 64 elements, got {elements}"
            )));
        }
        if !(2..=elements).contains(&set_size) {
            return Err(Error::InvalidArgument(format!(
                "the set size must be between 2 and the number of elements ({elements}), got \
                 {set_size}"
            )));
        }
        if sets == 0 || sets > 100_000 {
            return Err(Error::InvalidArgument(format!(
                "the number of sets must be between 1 and 100000, got {sets}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let colour: Vec<bool> = if planted {
            let mut c: Vec<bool> = (0..elements).map(|i| i % 2 == 0).collect();
            c.shuffle(&mut rng);
            c
        } else {
            Vec::new()
        };
        let all: Vec<usize> = (0..elements).collect();
        let mut out = Vec::with_capacity(sets);
        while out.len() < sets {
            let mut set: Vec<usize> = all.choose_multiple(&mut rng, set_size).copied().collect();
            set.sort_unstable();
            if planted {
                let first = colour[set[0]];
                if set.iter().all(|&i| colour[i] == first) {
                    continue;
                }
            }
            out.push(set);
        }
        Ok(SetSplitting {
            elements,
            sets: out,
        })
    }

    /// Checks the element indices and set sizes.
    pub fn validate(&self) -> Result<()> {
        if !(2..=64).contains(&self.elements) {
            return Err(Error::InvalidArgument(format!(
                "set splitting needs 2 to 64 elements, got {}",
                self.elements
            )));
        }
        for (j, s) in self.sets.iter().enumerate() {
            if s.is_empty() || s.iter().any(|&i| i >= self.elements) {
                return Err(Error::InvalidArgument(format!(
                    "set {j} is empty or names an element ≥ {}",
                    self.elements
                )));
            }
        }
        Ok(())
    }

    fn masks(&self) -> Vec<u64> {
        self.sets
            .iter()
            .map(|s| s.iter().fold(0u64, |m, &i| m | 1 << i))
            .collect()
    }

    /// Does the colouring (`side[i]`: element i's colour) leave no set monochromatic?
    pub fn is_split_by(&self, side: &[bool]) -> bool {
        self.sets.iter().all(|s| {
            let first = side[s[0]];
            s.iter().any(|&i| side[i] != first)
        })
    }

    /// A splitting colouring, or `None` when there is none, by trying all `2^(n−1)` colourings
    /// (element 0 fixed by symmetry). At most [`BRUTE_FORCE_MAX`] elements.
    pub fn brute_force(&self) -> Result<Option<Vec<bool>>> {
        self.validate()?;
        let n = self.elements;
        if n > BRUTE_FORCE_MAX {
            return Err(Error::InvalidArgument(format!(
                "brute force tries 2^(n−1) colourings: at most {BRUTE_FORCE_MAX} elements, got {n}"
            )));
        }
        let masks = self.masks();
        let full = (1u64 << n) - 1;
        for c in 0..(1u64 << (n - 1)) {
            let side = c << 1; // element 0 on side 0
            let other = full & !side;
            if masks.iter().all(|&m| m & side != 0 && m & other != 0) {
                return Ok(Some((0..n).map(|i| side >> i & 1 == 1).collect()));
            }
        }
        Ok(None)
    }

    /// Blum & Rivest's training set: the origin, then `e_0 … e_{n−1}`, then one point per set;
    /// targets 1 (positive) and 0 (negative).
    pub fn training_set(&self) -> Result<Dataset> {
        self.validate()?;
        let n = self.elements;
        let count = 1 + n + self.sets.len();
        let mut x = Matrix::zeros(n, count);
        let mut y = Matrix::zeros(1, count);
        y.set(0, 0, 1.0);
        for i in 0..n {
            x.set(i, 1 + i, 1.0);
        }
        for (j, s) in self.sets.iter().enumerate() {
            for &i in s {
                x.set(i, 1 + n + j, 1.0);
            }
            y.set(0, 1 + n + j, 1.0);
        }
        let mut ds = Dataset::new(
            x,
            y,
            format!(
                "Blum–Rivest instance: {n} elements, {} sets",
                self.sets.len()
            ),
        )?;
        ds.input_names = (0..n).map(|i| format!("e{i}")).collect();
        ds.target_names = vec!["label".into()];
        Ok(ds)
    }
}

/// The two hidden units that Blum & Rivest build from a splitting colouring; with an AND output
/// they classify [`SetSplitting::training_set`] without error.
pub fn network_from_split(inst: &SetSplitting, side: &[bool]) -> [ThresholdUnit; 2] {
    let n = inst.elements as f64;
    let unit = |colour: bool| ThresholdUnit {
        w: side
            .iter()
            .map(|&s| if s == colour { -1.0 } else { n })
            .collect(),
        b: 0.5,
    };
    [unit(false), unit(true)]
}

/// Training errors of threshold units under an AND output on `ds` (targets 0/1); two units are
/// Blum & Rivest's 3-node network.
pub fn and_network_errors(units: &[ThresholdUnit], ds: &Dataset) -> usize {
    (0..ds.n_samples())
        .filter(|&j| {
            let x = ds.x.col(j);
            let out = units.iter().all(|u| u.fires(x));
            out != (ds.y.get(0, j) > 0.5)
        })
        .count()
}

/// All `2^bits` points of `{0, 1}^bits` with their parity as target (XOR for `bits = 2`).
pub fn parity(bits: usize) -> Result<Dataset> {
    if !(1..=20).contains(&bits) {
        return Err(Error::InvalidArgument(format!(
            "parity needs 1 to 20 bits, got {bits}"
        )));
    }
    let count = 1usize << bits;
    let x = Matrix::from_fn(bits, count, |i, j| (j >> i & 1) as f64);
    let y = Matrix::from_fn(1, count, |_, j| (j.count_ones() % 2) as f64);
    let mut ds = Dataset::new(x, y, format!("parity of {bits} bits"))?;
    ds.input_names = (0..bits).map(|i| format!("b{i}")).collect();
    ds.target_names = vec!["parity".into()];
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An independent check of satisfiability: depth-first search with pruning on the sets whose
    /// elements are all coloured.
    fn search(inst: &SetSplitting, side: &mut Vec<bool>) -> bool {
        let k = side.len();
        let fine = inst
            .sets
            .iter()
            .all(|s| s.iter().any(|&i| i >= k) || s.iter().any(|&i| side[i] != side[s[0]]));
        if !fine {
            return false;
        }
        if k == inst.elements {
            return true;
        }
        for c in [false, true] {
            side.push(c);
            if search(inst, side) {
                return true;
            }
            side.pop();
        }
        false
    }

    #[test]
    fn brute_force_agrees_with_a_backtracking_search() {
        let (mut sat, mut unsat) = (0, 0);
        for seed in 0..60 {
            // 5 elements: all ten triples cannot be split (a 2 + 3 colouring leaves the triple
            // of one colour), a few of them can
            let sets = 3 + (seed as usize % 30);
            let inst = SetSplitting::random(5, sets, 3, false, seed).unwrap();
            let found = inst.brute_force().unwrap();
            let expected = search(&inst, &mut Vec::new());
            assert_eq!(found.is_some(), expected, "seed {seed}: {inst:?}");
            if let Some(side) = found {
                assert!(inst.is_split_by(&side));
                sat += 1;
            } else {
                unsat += 1;
            }
        }
        assert!(sat > 0 && unsat > 0, "both answers occur: {sat} / {unsat}");
    }

    #[test]
    fn a_split_gives_a_network_that_classifies_every_point() {
        for seed in 0..10 {
            let inst = SetSplitting::random(10, 25, 3, true, seed).unwrap();
            let side = inst
                .brute_force()
                .unwrap()
                .expect("planted instances are satisfiable");
            let ds = inst.training_set().unwrap();
            assert_eq!(ds.n_samples(), 1 + 10 + 25);
            assert_eq!(
                and_network_errors(&network_from_split(&inst, &side), &ds),
                0
            );
            // a colouring that leaves some set monochromatic gives a network with errors
            let mono = vec![false; 10];
            assert!(!inst.is_split_by(&mono));
            assert!(and_network_errors(&network_from_split(&inst, &mono), &ds) > 0);
        }
    }

    #[test]
    fn one_threshold_unit_never_classifies_an_instance() {
        // b ≥ 1 (origin) and w_i + b ≤ −1 (units) give, for a set point,
        // Σ_{i∈C} w_i + b = Σ_{i∈C} (w_i + b) − (|C| − 1) b ≤ −1: the LP must certify it
        use crate::perceptron::{certificate_residual, separate, Separation};
        let inst = SetSplitting::random(10, 15, 3, true, 2).unwrap();
        let ds = inst.training_set().unwrap();
        let y: Vec<f64> = ds.y.as_slice().iter().map(|&v| 2.0 * v - 1.0).collect();
        match separate(&ds.x, &y, &mut crate::glm::unwatched)
            .unwrap()
            .unwrap()
        {
            Separation::NotSeparable { lambda, .. } => {
                assert!(certificate_residual(&ds.x, &y, &lambda) < 1e-7)
            }
            Separation::Separable { .. } => panic!("one unit cannot classify {inst:?}"),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_instance_and_bad_sizes_are_rejected() {
        let a = SetSplitting::random(12, 20, 3, false, 7).unwrap();
        assert_eq!(a, SetSplitting::random(12, 20, 3, false, 7).unwrap());
        assert_ne!(a, SetSplitting::random(12, 20, 3, false, 8).unwrap());
        assert!(SetSplitting::random(1, 5, 2, false, 1).is_err());
        assert!(SetSplitting::random(5, 5, 6, false, 1).is_err());
        assert!(SetSplitting::random(5, 0, 2, false, 1).is_err());
        let big = SetSplitting::random(30, 5, 3, false, 1).unwrap();
        assert!(big.brute_force().is_err());
        let bad = SetSplitting {
            elements: 4,
            sets: vec![vec![0, 9]],
        };
        assert!(bad.training_set().is_err());
    }

    #[test]
    fn parity_labels_are_the_xor_of_the_bits() {
        let ds = parity(3).unwrap();
        assert_eq!(ds.n_samples(), 8);
        for j in 0..8 {
            let s: f64 = ds.x.col(j).iter().sum();
            assert_eq!(ds.y.get(0, j), s % 2.0);
        }
        assert!(parity(0).is_err());
    }
}
