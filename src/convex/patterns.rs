//! Activation patterns `D = diag(1[X̃g ≥ 0])` of the lifted data `X̃ = [X, 1]`: every one, by
//! enumerating the regions of the hyperplane arrangement `{g : x̃_nᵀg = 0}`, or a seeded sample.
//!
//! Enumeration (docs/convex.md §2). Every region of an arrangement whose normals span the space
//! is a pointed cone, so it has an extreme ray, which lies on at least k − 1 of the hyperplanes
//! (k the dimension). Each set of k − 1 independent normals gives a candidate ray ±r; the
//! regions around r are those of the hyperplanes through r, a central arrangement in the
//! (k − 1)-dimensional space r⊥, found by the same procedure. This needs no general position:
//! duplicated or collinear samples just put more hyperplanes through a ray. Every region comes
//! with an interior point (its gate): r plus a small step into the local region.

use super::lifted::Lifted;
use crate::error::{Error, Result};
use crate::linalg::{dot, norm};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One bit per sample: bit n is 1 when sample n is on (x̃_nᵀg ≥ 0).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mask {
    words: Vec<u64>,
}

impl Mask {
    fn from_signs(on: impl Iterator<Item = bool>, n: usize) -> Self {
        let mut words = vec![0u64; n.div_ceil(64)];
        for (i, b) in on.enumerate() {
            if b {
                words[i >> 6] |= 1 << (i & 63);
            }
        }
        Self { words }
    }

    #[inline]
    pub fn on(&self, n: usize) -> bool {
        (self.words[n >> 6] >> (n & 63)) & 1 == 1
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The samples on in both masks.
    pub fn overlap(&self, other: &Mask) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// `out[k] = scale · src[k]` where sample `start + k` is on, else 0.
    pub fn masked_copy<T: Lane>(&self, start: usize, scale: T, src: &[T], out: &mut [T]) {
        self.masked::<T, false>(start, scale, src, out);
    }

    /// `out[k] += scale · src[k]` where sample `start + k` is on.
    pub fn masked_add<T: Lane>(&self, start: usize, scale: T, src: &[T], out: &mut [T]) {
        self.masked::<T, true>(start, scale, src, out);
    }

    /// `out[k] = (ADD ? out[k] : 0) + on_k · scale · src[k]`, whole words of the mask (64
    /// samples) in the middle: by AVX-512's masked multiply where the processor has it, the
    /// word's bits being the instruction's lane mask, else eight samples per byte of it through
    /// a table of 0/1 lanes (`ADD` is a constant, so each caller gets its own branch-free loop).
    /// Both give the same numbers for finite `src`: `scale · src[k]` (or 0) added to `out[k]`
    /// (an off lane's 0 may differ in sign, and is 0 rather than NaN for an infinite `src[k]`
    /// under AVX-512). The table loop,
    /// compiled for x86-64's SSE2, made these loops a third of the time of a product in
    /// [`super::gated_cg`] (perf, N = 10⁵, 1 000 patterns, d̃ = 21).
    #[inline]
    fn masked<T: Lane, const ADD: bool>(&self, start: usize, scale: T, src: &[T], out: &mut [T]) {
        let out = &mut out[..src.len()];
        let head = self.aligned_from(start, src.len());
        for k in 0..head {
            put::<T, ADD>(&mut out[k], self.lane::<T>(start + k) * scale * src[k]);
        }
        let body = (src.len() - head) / 64 * 64;
        let first_word = (start + head) / 64;
        let words = &self.words[first_word..first_word + body / 64];
        let (o, s) = (&mut out[head..head + body], &src[head..head + body]);
        if !T::masked_words_simd::<ADD>(words, scale, s, o) {
            masked_words_by_bytes::<T, ADD>(words, scale, s, o);
        }
        for k in head + body..src.len() {
            put::<T, ADD>(&mut out[k], self.lane::<T>(start + k) * scale * src[k]);
        }
    }

    /// Samples before the first multiple of 64 from `start` (at most `len`): the masked loops
    /// take the 64 samples of each word of the mask after them, branch-free. With a branch per
    /// sample they took three quarters of a gated evaluation's time (perf, N = 10⁴, 200
    /// patterns, d̃ = 21; 14.9 ms per evaluation, 4.5 ms by bytes of the mask).
    fn aligned_from(&self, start: usize, len: usize) -> usize {
        ((64 - start % 64) % 64).min(len)
    }

    /// 1 when sample `n` is on, else 0.
    #[inline]
    fn lane<T: Lane>(&self, n: usize) -> T {
        if self.on(n) {
            T::ONE
        } else {
            T::ZERO
        }
    }
}

/// `o = v`, or `o += v` when `ADD`.
#[inline(always)]
fn put<T: Lane, const ADD: bool>(o: &mut T, v: T) {
    *o = if ADD { *o + v } else { v };
}

/// [`Mask::masked`] on whole words, eight samples per byte of the mask through a table of 0/1
/// lanes.
fn masked_words_by_bytes<T: Lane, const ADD: bool>(
    words: &[u64],
    scale: T,
    src: &[T],
    out: &mut [T],
) {
    let table = T::table();
    for ((o, s), &word) in out
        .chunks_exact_mut(64)
        .zip(src.chunks_exact(64))
        .zip(words)
    {
        for (b, (o, s)) in o.chunks_exact_mut(8).zip(s.chunks_exact(8)).enumerate() {
            let lanes = &table[((word >> (8 * b)) & 0xff) as usize];
            for l in 0..8 {
                put::<T, ADD>(&mut o[l], lanes[l] * scale * s[l]);
            }
        }
    }
}

/// [`Mask::masked`] on whole words by AVX-512's masked multiply: `$lanes` numbers per
/// `$lanes` bits of the mask (off lanes are 0), one function per number type.
macro_rules! masked_words_avx512 {
    ($name:ident, $t:ty, $lanes:literal, $bits:ty, $set1:ident, $load:ident, $maskz_mul:ident,
     $add:ident, $store:ident) => {
        /// # Safety
        /// The processor has AVX-512F; `src` and `out` hold `64 · words.len()` numbers.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $name<const ADD: bool>(words: &[u64], scale: $t, src: &[$t], out: &mut [$t]) {
            use std::arch::x86_64::*;
            debug_assert!(src.len() == 64 * words.len() && out.len() == src.len());
            let scale = $set1(scale);
            for (i, &word) in words.iter().enumerate() {
                for q in 0..64 / $lanes {
                    let at = 64 * i + $lanes * q;
                    // SAFETY: `at + $lanes <= 64 · words.len()`, the length of both slices
                    unsafe {
                        let on = (word >> ($lanes * q)) as $bits;
                        let v = $maskz_mul(on, scale, $load(src.as_ptr().add(at)));
                        let v = if ADD {
                            $add($load(out.as_ptr().add(at)), v)
                        } else {
                            v
                        };
                        $store(out.as_mut_ptr().add(at), v);
                    }
                }
            }
        }
    };
}

masked_words_avx512!(
    masked_words_avx512_f32,
    f32,
    16,
    u16,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_maskz_mul_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
masked_words_avx512!(
    masked_words_avx512_f64,
    f64,
    8,
    u8,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_maskz_mul_pd,
    _mm512_add_pd,
    _mm512_storeu_pd
);

/// Whether this process may use AVX-512F (detected once, then cached by the standard library).
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// A number the masked loops work in (f64, and f32 for the products of
/// [`super::gated_cg`]): byte `b` of a mask is `table()[b]`, its eight bits as 0/1.
pub trait Lane:
    Copy + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> + 'static
{
    const ZERO: Self;
    const ONE: Self;
    fn table() -> &'static [[Self; 8]; 256];
    /// [`Mask::masked`] on whole words in the processor's vector instructions, if it has the
    /// ones this build knows; false (nothing done) otherwise.
    fn masked_words_simd<const ADD: bool>(
        words: &[u64],
        scale: Self,
        src: &[Self],
        out: &mut [Self],
    ) -> bool;
}

macro_rules! byte_table {
    ($t:ty) => {{
        let mut table = [[0.0 as $t; 8]; 256];
        let mut b = 0;
        while b < 256 {
            let mut l = 0;
            while l < 8 {
                table[b][l] = ((b >> l) & 1) as $t;
                l += 1;
            }
            b += 1;
        }
        table
    }};
}

/// [`Lane`] for one number type: its byte table and its AVX-512 loop.
macro_rules! lane {
    ($t:ty, $simd:ident) => {
        impl Lane for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn table() -> &'static [[Self; 8]; 256] {
                static TABLE: [[$t; 8]; 256] = byte_table!($t);
                &TABLE
            }
            fn masked_words_simd<const ADD: bool>(
                words: &[u64],
                scale: Self,
                src: &[Self],
                out: &mut [Self],
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                {
                    if has_avx512() {
                        assert!(src.len() == 64 * words.len() && out.len() == src.len());
                        // SAFETY: the processor has AVX-512F; the lengths were checked
                        unsafe { $simd::<ADD>(words, scale, src, out) };
                        return true;
                    }
                }
                #[cfg(not(target_arch = "x86_64"))]
                let _ = (words, scale, src, out);
                false
            }
        }
    };
}

lane!(f64, masked_words_avx512_f64);
lane!(f32, masked_words_avx512_f32);

/// The patterns a convex model uses, each with a gate vector that realises it on the data.
#[derive(Clone, Debug)]
pub struct Patterns {
    pub masks: Vec<Mask>,
    /// `gates[i]` (length d̃): `masks[i]` is `1[X̃ gates[i] ≥ 0]`.
    pub gates: Vec<Vec<f64>>,
    /// Every pattern of the data (the optimum is then global), or a sample.
    pub complete: bool,
    /// Regions found (enumeration) or gates drawn (sampling), before the all-off pattern, which
    /// adds nothing to a model, is dropped and duplicates are merged.
    pub found: usize,
}

/// The number of regions of a central arrangement of `n` hyperplanes in general position in
/// `R^k`: `2 Σ_{i<k} C(n − 1, i)`; no arrangement of `n` hyperplanes has more. Saturates at
/// `u64::MAX`.
pub fn general_position_count(n: usize, k: usize) -> u64 {
    if n == 0 {
        return 1;
    }
    let mut total: u128 = 0;
    let mut binom: u128 = 1; // C(n-1, i)
    for i in 0..k.min(n) {
        if i > 0 {
            binom = binom * (n - i) as u128 / i as u128;
        }
        total = total.saturating_add(binom);
        if total > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    (2 * total).min(u64::MAX as u128) as u64
}

/// Every activation pattern of `data`, refusing when the general-position count exceeds `max`.
pub fn enumerate(data: &Lifted, max: usize) -> Result<Patterns> {
    let (n, k) = (data.n(), data.dim());
    let bound = general_position_count(n, k);
    if bound > max as u64 {
        return Err(Error::InvalidArgument(format!(
            "enumerating the activation patterns of {n} samples in {k} dimensions (d + 1 with the \
             bias) may give up to {bound} patterns, more than `convex.max_patterns` {max}; raise \
             `convex.max_patterns`, or sample K gates with `convex.patterns` K (the optimum is \
             then that of a restricted model, not a global one)"
        )));
    }
    let normals: Vec<Vec<f64>> = (0..n).map(|i| data.row(i).to_vec()).collect();
    let regions = regions(&normals, k);
    let found = regions.len();
    let mut out = Patterns {
        masks: Vec::new(),
        gates: Vec::new(),
        complete: true,
        found,
    };
    let mut seen = HashMap::new();
    for (_, gate) in regions {
        out.add(data, gate, &mut seen);
    }
    Ok(out)
}

/// `count` gates drawn from N(0, I) with `seed`, and their distinct patterns.
pub fn sample(data: &Lifted, count: usize, seed: u64) -> Result<Patterns> {
    if count == 0 {
        return Err(Error::setting("convex.patterns", "must be at least 1"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Patterns {
        masks: Vec::new(),
        gates: Vec::new(),
        complete: false,
        found: count,
    };
    let mut seen = HashMap::new();
    for _ in 0..count {
        let g: Vec<f64> = (0..data.dim())
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        out.add(data, g, &mut seen);
    }
    Ok(out)
}

/// The distinct patterns of the given gate vectors (each of length d̃).
pub fn given(data: &Lifted, gates: &[Vec<f64>]) -> Result<Patterns> {
    let mut out = Patterns {
        masks: Vec::new(),
        gates: Vec::new(),
        complete: false,
        found: gates.len(),
    };
    let mut seen = HashMap::new();
    for (i, g) in gates.iter().enumerate() {
        if g.len() != data.dim() || g.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "gate {} has {} finite entries; the data need {} (d weights and the bias's)",
                i + 1,
                g.iter().filter(|v| v.is_finite()).count(),
                data.dim()
            )));
        }
        out.add(data, g.clone(), &mut seen);
    }
    Ok(out)
}

impl Patterns {
    /// Adds the pattern of `gate` unless it is all off or already present.
    fn add(&mut self, data: &Lifted, gate: Vec<f64>, seen: &mut HashMap<Mask, usize>) {
        let mask = Mask::from_signs(
            (0..data.n()).map(|i| dot(data.row(i), &gate) >= 0.0),
            data.n(),
        );
        if mask.count() == 0 || seen.contains_key(&mask) {
            return;
        }
        seen.insert(mask.clone(), self.masks.len());
        self.masks.push(mask);
        self.gates.push(gate);
    }

    pub fn len(&self) -> usize {
        self.masks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }
}

/// A value counts as zero below this, relative to the norms involved.
const ZERO: f64 = 1e-10;

/// An orthonormal basis of the span of `vs` (Gram–Schmidt, twice for stability).
fn basis(vs: &[&[f64]], dim: usize) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for v in vs {
        let scale = norm(v);
        if scale == 0.0 {
            continue;
        }
        let mut w = v.to_vec();
        for _ in 0..2 {
            for b in &out {
                let c = dot(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let len = norm(&w);
        if len > ZERO * scale * 1e2 {
            w.iter_mut().for_each(|x| *x /= len);
            out.push(w);
            if out.len() == dim {
                break;
            }
        }
    }
    out
}

/// The regions of the central arrangement with normals `normals` (vectors in `R^k`), each as its
/// strict sign vector and an interior point.
fn regions(normals: &[Vec<f64>], k: usize) -> Vec<(Vec<bool>, Vec<f64>)> {
    if normals.is_empty() {
        let mut g = vec![0.0; k];
        g[0] = 1.0;
        return vec![(Vec::new(), g)];
    }
    let refs: Vec<&[f64]> = normals.iter().map(Vec::as_slice).collect();
    let span = basis(&refs, k);
    let r = span.len();
    if r < k {
        // the arrangement is a product with span⊥: solve it in the span's coordinates and lift
        let coords: Vec<Vec<f64>> = normals
            .iter()
            .map(|h| span.iter().map(|b| dot(h, b)).collect())
            .collect();
        return regions(&coords, r)
            .into_iter()
            .map(|(s, q)| {
                let mut g = vec![0.0; k];
                for (c, b) in q.iter().zip(&span) {
                    g.iter_mut().zip(b).for_each(|(x, y)| *x += c * y);
                }
                (s, g)
            })
            .collect();
    }
    if k == 1 {
        let signs = |dir: f64| normals.iter().map(|h| h[0] * dir > 0.0).collect();
        return vec![(signs(1.0), vec![1.0]), (signs(-1.0), vec![-1.0])];
    }
    let scales: Vec<f64> = normals.iter().map(|h| norm(h)).collect();
    let mut rays_seen: HashSet<Vec<i8>> = HashSet::new();
    // ordered, so that the patterns come out in the same order in every process
    let mut found: BTreeMap<Vec<bool>, Vec<f64>> = BTreeMap::new();
    let mut subset: Vec<usize> = (0..k - 1).collect();
    loop {
        if let Some(dir) = null_vector(&subset.iter().map(|&i| refs[i]).collect::<Vec<_>>(), k) {
            for sign in [1.0, -1.0] {
                let ray: Vec<f64> = dir.iter().map(|v| v * sign).collect();
                let values: Vec<f64> = normals.iter().map(|h| dot(h, &ray)).collect();
                let key: Vec<i8> = values
                    .iter()
                    .zip(&scales)
                    .map(|(&v, &s)| {
                        if v.abs() <= ZERO * s {
                            0
                        } else if v > 0.0 {
                            1
                        } else {
                            -1
                        }
                    })
                    .collect();
                if !rays_seen.insert(key.clone()) {
                    continue;
                }
                around_ray(normals, &ray, &values, &key, &mut found);
            }
        }
        if !next_subset(&mut subset, normals.len()) {
            break;
        }
    }
    found.into_iter().collect()
}

/// The regions around the ray `ray` (on the hyperplanes where `key` is 0): those of the
/// hyperplanes through it, projected onto `ray⊥`, with the other signs as at the ray.
fn around_ray(
    normals: &[Vec<f64>],
    ray: &[f64],
    values: &[f64],
    key: &[i8],
    found: &mut BTreeMap<Vec<bool>, Vec<f64>>,
) {
    let k = ray.len();
    let through: Vec<usize> = (0..normals.len()).filter(|&i| key[i] == 0).collect();
    let projected: Vec<Vec<f64>> = through
        .iter()
        .map(|&i| {
            let h = &normals[i];
            let c = dot(h, ray);
            h.iter().zip(ray).map(|(a, b)| a - c * b).collect()
        })
        .collect();
    for (local, q) in regions(&projected, k) {
        // step from the ray into the local region, half-way to the nearest other hyperplane
        let qn = norm(&q).max(f64::MIN_POSITIVE);
        let q: Vec<f64> = q.iter().map(|v| v / qn).collect();
        let mut step: f64 = 1.0;
        for (i, h) in normals.iter().enumerate() {
            if key[i] != 0 {
                let slope = dot(h, &q).abs();
                if slope > 0.0 {
                    step = step.min(0.5 * values[i].abs() / slope);
                }
            }
        }
        let gate: Vec<f64> = ray.iter().zip(&q).map(|(r, d)| r + step * d).collect();
        let mut signs: Vec<bool> = key.iter().map(|&s| s > 0).collect();
        for (j, &i) in through.iter().enumerate() {
            signs[i] = local[j];
        }
        found.entry(signs).or_insert(gate);
    }
}

/// A unit vector orthogonal to the `k − 1` vectors `vs` in `R^k`, if they are independent.
fn null_vector(vs: &[&[f64]], k: usize) -> Option<Vec<f64>> {
    let b = basis(vs, k);
    if b.len() < vs.len() {
        return None;
    }
    // the coordinate axis farthest from the span, minus its projection
    let mut best: Option<Vec<f64>> = None;
    let mut best_len = 0.0;
    for axis in 0..k {
        let mut w = vec![0.0; k];
        w[axis] = 1.0;
        for _ in 0..2 {
            for v in &b {
                let c = dot(&w, v);
                w.iter_mut().zip(v).for_each(|(x, y)| *x -= c * y);
            }
        }
        let len = norm(&w);
        if len > best_len {
            best_len = len;
            best = Some(w.iter().map(|x| x / len).collect());
        }
    }
    best
}

/// The next `k`-subset of `0..n` in lexicographic order; false after the last.
fn next_subset(s: &mut [usize], n: usize) -> bool {
    let k = s.len();
    if k == 0 || k > n {
        return false;
    }
    let mut i = k;
    while i > 0 {
        i -= 1;
        if s[i] < n - k + i {
            s[i] += 1;
            for j in i + 1..k {
                s[j] = s[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::Matrix;

    fn random_points(n: usize, d: usize, seed: u64) -> Lifted {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Matrix::from_fn(d, n, |_, _| StandardNormal.sample(&mut rng));
        Lifted::new(&x)
    }

    /// The masked loops equal the bit-by-bit definition at every start and length around the
    /// byte and word boundaries, in f64 and f32, by whichever path the processor takes and by
    /// the byte-table path on whole words; `overlap` counts the samples on in both.
    #[test]
    fn masked_loops_follow_the_bits() {
        let n = 300;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut coin = || {
            let v: f64 = StandardNormal.sample(&mut rng);
            v > 0.0
        };
        let bits: Vec<bool> = (0..n).map(|_| coin()).collect();
        let other: Vec<bool> = (0..n).map(|_| coin()).collect();
        let mask = Mask::from_signs(bits.iter().copied(), n);
        let mask2 = Mask::from_signs(other.iter().copied(), n);
        let both = (0..n).filter(|&i| bits[i] && other[i]).count();
        assert_eq!(mask.overlap(&mask2), both);
        fn check<T: Lane + PartialEq + std::fmt::Debug>(
            mask: &Mask,
            bits: &[bool],
            of: impl Fn(f64) -> T,
        ) {
            let n = bits.len();
            let src: Vec<T> = (0..n).map(|i| of(i as f64 + 0.5)).collect();
            let scale = of(-2.0);
            for start in [0, 3, 8, 13, 64, 70, 128] {
                for len in [0, 1, 7, 8, 9, 17, 64, 65, 130, 200, n - start] {
                    let len = len.min(n - start);
                    let mut copy = vec![of(9.0); len];
                    let mut add = vec![of(1.0); len];
                    mask.masked_copy(start, scale, &src[..len], &mut copy);
                    mask.masked_add(start, scale, &src[..len], &mut add);
                    for k in 0..len {
                        let want = if bits[start + k] {
                            scale * src[k]
                        } else {
                            of(0.0)
                        };
                        assert_eq!(copy[k], want, "start {start} len {len} k {k}");
                        assert_eq!(add[k], of(1.0) + want, "start {start} len {len} k {k}");
                    }
                }
            }
            let words = n / 64;
            let mut copy = vec![of(9.0); 64 * words];
            let mut add = vec![of(1.0); 64 * words];
            let m = &mask.words[..words];
            masked_words_by_bytes::<T, false>(m, scale, &src[..64 * words], &mut copy);
            masked_words_by_bytes::<T, true>(m, scale, &src[..64 * words], &mut add);
            for k in 0..64 * words {
                let want = if bits[k] { scale * src[k] } else { of(0.0) };
                assert_eq!((copy[k], add[k]), (want, of(1.0) + want), "bytes, k {k}");
            }
        }
        check(&mask, &bits, |v| v);
        check(&mask, &bits, |v| v as f32);
    }

    #[test]
    fn count_formula() {
        // d̃ = 3: N² − N + 2
        for n in [1, 2, 5, 40] {
            assert_eq!(general_position_count(n, 3), (n * n - n + 2) as u64);
        }
        assert_eq!(general_position_count(10, 1), 2);
        assert_eq!(general_position_count(3, 5), 8); // fewer points than dimensions: 2^N
    }

    #[test]
    fn enumeration_matches_the_general_position_count() {
        for (n, d, seed) in [
            (40, 2, 1),
            (25, 2, 2),
            (12, 3, 3),
            (9, 4, 4),
            (3, 4, 5),
            (30, 1, 6),
        ] {
            let data = random_points(n, d, seed);
            let p = enumerate(&data, 1_000_000).unwrap();
            assert_eq!(
                p.found as u64,
                general_position_count(n, d + 1),
                "n = {n}, d = {d}"
            );
            // the all-off pattern is dropped, every other one kept once
            assert_eq!(p.len(), p.found - 1);
            for (m, g) in p.masks.iter().zip(&p.gates) {
                for i in 0..n {
                    assert_eq!(m.on(i), dot(data.row(i), g) >= 0.0);
                }
            }
        }
    }

    #[test]
    fn enumeration_handles_degenerate_data() {
        // a 3×3 grid has collinear triples and repeated x values; 5 duplicates of one point
        let mut cols = Vec::new();
        for a in 0..3 {
            for b in 0..3 {
                cols.push(vec![a as f64, b as f64]);
            }
        }
        for _ in 0..5 {
            cols.push(vec![0.5, 0.5]);
        }
        let x = Matrix::from_fn(2, cols.len(), |i, j| cols[j][i]);
        let data = Lifted::new(&x);
        let p = enumerate(&data, 100_000).unwrap();
        // brute force: the patterns of many random gates are a subset of the enumerated ones
        let all: std::collections::HashSet<Mask> = p.masks.iter().cloned().collect();
        let s = sample(&data, 20_000, 9).unwrap();
        for m in &s.masks {
            assert!(all.contains(m), "a sampled pattern was not enumerated");
        }
        assert!(p.found as u64 <= general_position_count(cols.len(), 3));
        // 10 distinct points of a 3×3 grid + centre-ish point: strictly fewer than general
        assert!((p.found as u64) < general_position_count(10, 3));
    }

    #[test]
    fn refuses_beyond_the_budget() {
        let data = random_points(100, 5, 1);
        let e = enumerate(&data, 10_000).unwrap_err().to_string();
        assert!(
            e.contains("`convex.max_patterns`") && e.contains("`convex.patterns` K"),
            "{e}"
        );
    }

    #[test]
    fn given_gates_give_their_patterns() {
        let data = random_points(30, 2, 3);
        let s = sample(&data, 25, 4).unwrap();
        let g = given(&data, &s.gates).unwrap();
        assert_eq!(g.masks, s.masks);
        assert!(!g.complete);
        let e = given(&data, &[vec![1.0, 2.0]]).unwrap_err().to_string();
        assert!(e.contains("need 3"), "{e}");
    }

    #[test]
    fn sampling_is_seeded() {
        let data = random_points(50, 3, 1);
        let a = sample(&data, 40, 7).unwrap();
        let b = sample(&data, 40, 7).unwrap();
        let c = sample(&data, 40, 8).unwrap();
        assert_eq!(a.masks, b.masks);
        assert_ne!(a.masks, c.masks);
        assert!(!a.complete && a.len() <= 40);
    }
}
