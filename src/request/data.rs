//! A request's `data`: where the samples come from (a file or bundled set, a planted teacher, or
//! arrays a program hands over), and what is done to them before training — class labels
//! encoded as ±1 columns, samples of some classes kept, a seeded test split.

use crate::data::{self, Dataset, Table, Targets, Teacher};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::methods::read_group;
use crate::net::{Activation, Architecture};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// Where the data come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DataSource {
    /// A CSV or `.npy` file, or a bundled set (iris, wine, breast_cancer, diabetes); the targets
    /// are the named columns, or the last k (k from `arch`, else 1).
    File {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<String>>,
    },
    /// A planted teacher of architecture `teacher` (seeded by the request's seed), `n` samples,
    /// Gaussian noise of standard deviation `noise` on its targets.
    Teacher {
        teacher: String,
        n: usize,
        noise: f64,
    },
    /// Arrays handed over with the request by a program (the Python package); `arrays` says
    /// what they were. A report records their fingerprint, not the numbers.
    Arrays { arrays: String },
}

/// The data of a run: the source, then what is done to its samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Data {
    #[serde(flatten)]
    pub source: DataSource,
    /// The target column holds class labels: it becomes one ±1 column per class (sorted), or one
    /// column for two classes (the larger value +1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub classes: bool,
    /// One ±1 column: this class against every other (implies `classes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<f64>,
    /// Only the samples whose class is one of these (implies `classes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_classes: Option<Vec<f64>>,
    /// This fraction of the samples (seeded by `split_seed`) is held out and only evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
}

/// The keys a `[data]` table may have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataKeys {
    file: Option<String>,
    targets: Option<Vec<String>>,
    teacher: Option<String>,
    n: Option<usize>,
    noise: Option<f64>,
    arrays: Option<String>,
    #[serde(default)]
    classes: bool,
    positive_class: Option<f64>,
    keep_classes: Option<Vec<f64>>,
    test_fraction: Option<f64>,
    split_seed: Option<u64>,
}

/// A target with more values than this is not class labels (softmax regression, a layer of
/// threshold units, one output per class).
pub const MAX_CLASSES: usize = 100;

impl Data {
    pub(super) fn from_value(value: Value) -> Result<Self> {
        let k: DataKeys = read_group("data", value)?;
        let teacher_keys = [("data.n", k.n.is_some()), ("data.noise", k.noise.is_some())];
        let source = match (k.file, k.teacher, k.arrays) {
            (Some(file), None, None) => {
                if let Some((key, _)) = teacher_keys.iter().find(|(_, given)| *given) {
                    return Err(Error::setting(*key, "applies to `data.teacher` only"));
                }
                DataSource::File {
                    file,
                    targets: k.targets,
                }
            }
            (None, Some(teacher), None) => {
                if k.targets.is_some() {
                    return Err(Error::setting(
                        "data.targets",
                        "applies to `data.file` only",
                    ));
                }
                DataSource::Teacher {
                    teacher,
                    n: k.n.unwrap_or(30),
                    noise: k.noise.unwrap_or(0.0),
                }
            }
            (None, None, Some(arrays)) => DataSource::Arrays { arrays },
            _ => {
                return Err(Error::setting(
                    "data",
                    "needs exactly one of `data.file` (a data file or bundled set) and \
                     `data.teacher` (a planted teacher's architecture)",
                ))
            }
        };
        if let Some(f) = k.test_fraction {
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::setting(
                    "data.test_fraction",
                    format!("must be in (0, 1) (a test fraction), got {f}"),
                ));
            }
        }
        if k.split_seed.is_some() && k.test_fraction.is_none() {
            return Err(Error::setting(
                "data.split_seed",
                "applies with `data.test_fraction`",
            ));
        }
        Ok(Self {
            source,
            classes: k.classes || k.positive_class.is_some() || k.keep_classes.is_some(),
            positive_class: k.positive_class,
            keep_classes: k.keep_classes,
            test_fraction: k.test_fraction,
            split_seed: k.split_seed,
        })
    }

    /// The samples: read from the file (targets by name, or the last `outputs`), made by the
    /// teacher (of `output` activation, seed `seed`), or `arrays`; and the teacher if there is
    /// one.
    pub(super) fn load(
        &self,
        arrays: Option<Dataset>,
        outputs: usize,
        output: Activation,
        seed: u64,
    ) -> Result<(Dataset, Option<Teacher>)> {
        match (&self.source, arrays) {
            (DataSource::Arrays { arrays }, None) => Err(Error::setting(
                "data.arrays",
                format!(
                    "names data a program handed over ({arrays}); give the same arrays again \
                     with the request"
                ),
            )),
            (DataSource::Arrays { .. }, Some(data)) => Ok((data, None)),
            (_, Some(_)) => Err(Error::InvalidArgument(
                "arrays were given with a request whose data are a file or a teacher".into(),
            )),
            (DataSource::File { file, targets }, None) => {
                let table = Table::load(Path::new(file))?;
                let which = match targets {
                    Some(names) => Targets::Names(names.clone()),
                    None => Targets::Last(outputs),
                };
                Ok((table.dataset(&which)?, None))
            }
            (DataSource::Teacher { teacher, n, noise }, None) => {
                let arch = Architecture::parse(teacher, output)
                    .map_err(|e| Error::setting("data.teacher", e.to_string()))?;
                let mut t = data::planted_teacher(&arch, *n, seed)?;
                t.data = data::with_label_noise(&t.data, *noise, seed)
                    .map_err(|e| Error::setting("data.noise", e.to_string()))?;
                Ok((t.data.clone(), Some(t)))
            }
        }
    }

    /// `data` as training takes it: the kept classes, the labels encoded, then split into the
    /// training part and the held-out test part (`split_seed`, default `seed`). Returns the
    /// class of each target column when the targets are classes.
    pub(super) fn prepare(&self, data: Dataset, seed: u64) -> Result<Prepared> {
        let data = match &self.keep_classes {
            Some(keep) => keep_classes(&data, keep)?,
            None => data,
        };
        let (data, classes) = if self.classes {
            let (d, c) = encode_classes(&data, self.positive_class)?;
            (d, Some(c))
        } else {
            (data, None)
        };
        let (train, test) = match self.test_fraction {
            Some(f) => {
                let (train, test) = data.split(f, self.split_seed.unwrap_or(seed))?;
                (train, Some(test))
            }
            None => (data, None),
        };
        Ok(Prepared {
            train,
            test,
            classes,
        })
    }

    /// The data with their defaults filled in (the split's seed).
    pub(super) fn resolved(&self, seed: u64) -> Self {
        let mut d = self.clone();
        if d.test_fraction.is_some() {
            d.split_seed = Some(d.split_seed.unwrap_or(seed));
        }
        d
    }
}

/// The samples as training takes them.
pub(super) struct Prepared {
    pub train: Dataset,
    pub test: Option<Dataset>,
    pub classes: Option<Vec<f64>>,
}

/// The distinct values of `v`, sorted.
pub fn distinct(v: &[f64]) -> Vec<f64> {
    let mut values = v.to_vec();
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
}

/// The one target column of class labels (refusing several columns).
fn label_column(data: &Dataset) -> Result<&[f64]> {
    if data.n_outputs() != 1 {
        return Err(Error::setting(
            "data.classes",
            format!(
                "reads one target column of class labels, the data have {}",
                data.n_outputs()
            ),
        ));
    }
    Ok(data.y.as_slice())
}

/// Only the samples whose label is one of `keep`.
fn keep_classes(data: &Dataset, keep: &[f64]) -> Result<Dataset> {
    let y = label_column(data)?;
    let values = distinct(y);
    if let Some(v) = keep.iter().find(|v| !values.contains(v)) {
        let list: Vec<String> = values.iter().map(f64::to_string).collect();
        return Err(Error::setting(
            "data.keep_classes",
            format!(
                "{v} does not occur in the targets (their values: {})",
                list.join(", ")
            ),
        ));
    }
    let kept: Vec<usize> = (0..y.len()).filter(|&j| keep.contains(&y[j])).collect();
    if kept.is_empty() {
        return Err(Error::setting("data.keep_classes", "keeps no sample"));
    }
    data.samples(&kept, data.source.clone())
}

/// The labels as ±1 columns: `positive` against the rest, two classes as one column (the larger
/// value +1), more as one column per class; and each column's class.
fn encode_classes(data: &Dataset, positive: Option<f64>) -> Result<(Dataset, Vec<f64>)> {
    let y = label_column(data)?;
    let values = distinct(y);
    let columns = match positive {
        Some(p) if values.contains(&p) => vec![p],
        Some(p) => {
            return Err(Error::setting(
                "data.positive_class",
                format!("{p} does not occur in the targets"),
            ))
        }
        None if values.len() < 2 => {
            return Err(Error::setting(
                "data.classes",
                "needs at least two classes: the target takes a single value",
            ))
        }
        None if values.len() > MAX_CLASSES => {
            return Err(Error::setting(
                "data.classes",
                format!(
                    "needs class labels (at most {MAX_CLASSES}): the target takes {} values; a \
                     regression target is fitted by ridge, lasso or elastic-net",
                    values.len()
                ),
            ))
        }
        None if values.len() == 2 => vec![values[1]],
        None => values,
    };
    let encoded = Matrix::from_fn(columns.len(), y.len(), |k, j| {
        if y[j] == columns[k] {
            1.0
        } else {
            -1.0
        }
    });
    let mut out = Dataset::new(data.x.clone(), encoded, data.source.clone())?;
    out.weights.clone_from(&data.weights);
    out.input_names.clone_from(&data.input_names);
    let name = &data.target_names[0];
    out.target_names = columns.iter().map(|c| format!("{name}={c}")).collect();
    Ok((out, columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[f64]) -> Dataset {
        let n = v.len();
        Dataset::new(
            Matrix::from_fn(1, n, |_, j| j as f64),
            Matrix::from_fn(1, n, |_, j| v[j]),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn classes_become_plus_minus_one_columns() {
        let d = labels(&[2.0, 0.0, 1.0, 2.0]);
        let (e, c) = encode_classes(&d, None).unwrap();
        assert_eq!(c, [0.0, 1.0, 2.0]);
        assert_eq!(e.y.row(0), [-1.0, 1.0, -1.0, -1.0]);
        assert_eq!(e.y.row(2), [1.0, -1.0, -1.0, 1.0]);
        assert_eq!(e.target_names, ["y1=0", "y1=1", "y1=2"]);
        // two classes: one column, the larger positive; or the class asked for
        let (e, c) = encode_classes(&labels(&[3.0, 5.0, 5.0]), None).unwrap();
        assert_eq!((c, e.y.row(0)), (vec![5.0], vec![-1.0, 1.0, 1.0]));
        let (e, _) = encode_classes(&d, Some(0.0)).unwrap();
        assert_eq!(e.y.row(0), [-1.0, 1.0, -1.0, -1.0]);
        assert!(encode_classes(&d, Some(7.0)).is_err());
        assert!(encode_classes(&labels(&[1.0, 1.0]), None).is_err());
        let many: Vec<f64> = (0..=MAX_CLASSES).map(|v| v as f64).collect();
        let e = encode_classes(&labels(&many), None).unwrap_err();
        assert!(e.to_string().contains("class labels"), "{e}");
        // kept classes
        let k = keep_classes(&d, &[2.0, 1.0]).unwrap();
        assert_eq!(k.y.row(0), [2.0, 1.0, 2.0]);
        assert_eq!(k.x.row(0), [0.0, 2.0, 3.0]);
        assert!(keep_classes(&d, &[]).is_err());
        // a class the targets do not have is named, with the ones they have
        let e = keep_classes(&d, &[2.0, 9.0]).unwrap_err().to_string();
        assert!(
            e.contains("9 does not occur") && e.contains("0, 1, 2"),
            "{e}"
        );
    }
}
