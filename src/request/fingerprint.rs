//! What a report records to tell whether a rerun saw the same data and made the same model: the
//! data's shape, columns and a SHA-256 of their numbers, and a SHA-256 of the model's file.

use crate::data::{Columns, Dataset};
use crate::model::Model;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The data a run trained on, before any standardisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataInfo {
    /// The file, the teacher, or what a program handed over.
    pub source: String,
    pub n_samples: usize,
    /// The input and target columns, by name.
    #[serde(flatten)]
    pub columns: Columns,
    /// SHA-256 of the shape, the column names and every number's bits (inputs, then targets,
    /// then the sample weights if any): the same for the same numbers whatever the file's
    /// format.
    pub sha256: String,
}

impl DataInfo {
    pub fn of(data: &Dataset) -> Self {
        let mut h = Sha256::new();
        for n in [data.n_samples(), data.n_inputs(), data.n_outputs()] {
            h.update((n as u64).to_le_bytes());
        }
        for name in data.input_names.iter().chain(&data.target_names) {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
        }
        for v in data.x.as_slice().iter().chain(data.y.as_slice()) {
            h.update(v.to_bits().to_le_bytes());
        }
        if let Some(w) = &data.weights {
            h.update(b"weights");
            for v in w {
                h.update(v.to_bits().to_le_bytes());
            }
        }
        Self {
            source: data.source.clone(),
            n_samples: data.n_samples(),
            columns: data.columns(),
            sha256: hex(&h.finalize()),
        }
    }
}

/// SHA-256 of the model's file: equal exactly when every parameter is bit for bit the same (the
/// file writes each number so that it reads back to the same bits), with the same columns and
/// standardisation.
pub fn model_sha256(model: &Model) -> String {
    let text = model
        .to_json()
        .expect("a trained model serialises (its numbers are finite)");
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::Matrix;

    #[test]
    fn the_hash_sees_one_bit_and_one_name() {
        let x = Matrix::from_fn(2, 3, |i, j| (i + 2 * j) as f64);
        let y = Matrix::from_fn(1, 3, |_, j| j as f64);
        let a = Dataset::new(x.clone(), y.clone(), "a").unwrap();
        let mut b = a.clone();
        assert_eq!(DataInfo::of(&a), DataInfo::of(&b));
        b.x.set(1, 2, f64::from_bits(b.x.get(1, 2).to_bits() + 1));
        assert_ne!(DataInfo::of(&a).sha256, DataInfo::of(&b).sha256);
        let mut c = a.clone();
        c.input_names[0] = "z".into();
        assert_ne!(DataInfo::of(&a).sha256, DataInfo::of(&c).sha256);
        // the source is a label, not content
        let mut d = a.clone();
        d.source = "elsewhere".into();
        assert_eq!(DataInfo::of(&a).sha256, DataInfo::of(&d).sha256);
        assert_eq!(DataInfo::of(&a).sha256.len(), 64);
    }
}
