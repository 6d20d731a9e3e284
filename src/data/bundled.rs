//! Small real data sets shipped with cvxnn (in `data/`, embedded in the binary), loadable by name
//! wherever a data file is accepted: `--data iris`. Sources and licences: `data/README.md`.
//!
//! | name | samples | inputs | target (last column) |
//! |---|---|---|---|
//! | `iris` | 150 | 4 | `species`: 0 setosa, 1 versicolor, 2 virginica |
//! | `wine` | 178 | 13 | `cultivar`: 0, 1, 2 |
//! | `breast_cancer` | 569 | 30 | `benign`: 1 benign, 0 malignant |
//! | `diabetes` | 442 | 10 | `progression`: disease progression after one year (regression) |

/// The bundled sets: name, CSV text (header row, the target last).
pub const BUNDLED: &[(&str, &str)] = &[
    ("iris", include_str!("../../data/iris.csv")),
    ("wine", include_str!("../../data/wine.csv")),
    (
        "breast_cancer",
        include_str!("../../data/breast_cancer.csv"),
    ),
    ("diabetes", include_str!("../../data/diabetes.csv")),
];

/// The CSV text of a bundled set (case-insensitive; `breast-cancer` is accepted too).
pub fn csv(name: &str) -> Option<&'static str> {
    let key = name.to_ascii_lowercase().replace('-', "_");
    BUNDLED.iter().find(|(n, _)| *n == key).map(|(_, t)| *t)
}

/// The names of the bundled sets.
pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, Targets};
    use std::path::Path;

    #[test]
    fn every_bundled_set_loads_with_its_shape_and_labels() {
        // (name, samples, inputs, distinct target values or 0 for regression)
        for (name, n, d, classes) in [
            ("iris", 150, 4, 3),
            ("wine", 178, 13, 3),
            ("breast_cancer", 569, 30, 2),
            ("diabetes", 442, 10, 0),
        ] {
            let ds = Dataset::load(Path::new(name), &Targets::Last(1)).unwrap();
            assert_eq!(
                (ds.n_samples(), ds.n_inputs(), ds.n_outputs()),
                (n, d, 1),
                "{name}"
            );
            assert_eq!(ds.input_names.len(), d, "{name}: header");
            let mut labels: Vec<i64> = ds.y.as_slice().iter().map(|&v| v as i64).collect();
            labels.sort_unstable();
            labels.dedup();
            if classes > 0 {
                assert_eq!(labels, (0..classes).collect::<Vec<i64>>(), "{name}");
            } else {
                assert!(labels.len() > 100, "{name}: a regression target");
            }
        }
        // class counts as published: iris 50/50/50, breast cancer 212 malignant / 357 benign
        let iris = Dataset::load(Path::new("iris"), &Targets::Last(1)).unwrap();
        assert_eq!(iris.y.as_slice().iter().filter(|&&v| v == 2.0).count(), 50);
        let bc = Dataset::load(Path::new("Breast-Cancer"), &Targets::Last(1)).unwrap();
        assert_eq!(bc.y.as_slice().iter().filter(|&&v| v == 0.0).count(), 212);
        assert_eq!(names().len(), 4);
        assert!(Dataset::load(Path::new("no_such_set"), &Targets::Last(1)).is_err());
    }
}
