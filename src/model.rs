//! A trained model as a user keeps it: the network, the columns it reads and writes, and the
//! standardisation it was trained with, and what its outputs mean. One file format,
//! `cvxnn-model` version 3; the files of earlier versions still load (`cvxnn-model` 2, whose
//! outputs are values; `cvxnn-mlp` 1 and `cvxnn-threshold-network` 1, without column names).
//! A float32 model says so in an optional `precision` field (`"f32"`; absent: float64), which a
//! reader that does not know it passes over — the numbers are valid float64 all the same.

pub use crate::data::Columns;
use crate::data::{Dataset, Scaling, Table, Targets};
use crate::error::{Error, Result};
use crate::linalg::{Matrix, Precision};
use crate::net::{Link, Mlp, Network, ThresholdNetwork};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The model file's format tag and version.
pub const MODEL_FORMAT: &str = "cvxnn-model";
pub const MODEL_VERSION: u32 = 3;

/// A network with the data conventions it was trained under. [`Model::predict`] takes inputs in
/// the data's own units and returns outputs in the targets' units.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub network: Network,
    /// `None` for a file of an earlier version: its columns are then matched by position.
    pub columns: Option<Columns>,
    pub scaling: Option<Scaling>,
    /// The outputs' link: identity, or the class probabilities of a network trained on the
    /// cross-entropy (sigmoid of one logit, softmax of several), which `predict` gives.
    pub link: Link,
    /// The precision the network was trained in: a float32 network's parameters are float32
    /// numbers, and its ONNX export is a float32 graph unless asked otherwise.
    pub precision: Precision,
}

/// `cvxnn-model` version 3 (and 2, which has no `link`).
#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    version: u32,
    #[serde(flatten)]
    network: Network,
    inputs: Vec<String>,
    targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scaling: Option<Scaling>,
    #[serde(default, skip_serializing_if = "Link::is_identity")]
    link: Link,
    #[serde(default, skip_serializing_if = "Precision::is_f64")]
    precision: Precision,
}

/// `cvxnn-mlp` version 1.
#[derive(Deserialize)]
struct MlpFileV1 {
    #[serde(flatten)]
    mlp: Mlp,
}

/// `cvxnn-threshold-network` version 1.
#[derive(Deserialize)]
struct ThresholdFileV1 {
    units: Vec<crate::net::ThresholdUnit>,
}

/// How well a model fits a data set, in the data's own units.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub n_samples: usize,
    /// `‖Y − f(X)‖_F² / (n_y N)`.
    pub mse: f64,
    /// `‖Y − f(X)‖_F / ‖Y‖_F` (absolute when Y = 0).
    pub output_error: f64,
    pub max_abs_error: f64,
    /// A model of class probabilities: the mean cross-entropy and the accuracy (its errors above
    /// are those of the probabilities against the labels as 0/1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_entropy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
}

impl Model {
    /// A model trained on `columns`, with `scaling` if it was trained standardised.
    pub fn new(network: Network, columns: Columns, scaling: Option<Scaling>) -> Result<Self> {
        let m = Self {
            network,
            columns: Some(columns),
            scaling,
            link: Link::Identity,
            precision: Precision::F64,
        };
        m.validate()?;
        Ok(m)
    }

    /// A bare network as a model: columns by position, no scaling, outputs as they are (an
    /// imported network, a linear layer).
    pub fn of_network(network: Network) -> Result<Self> {
        let m = Self {
            network,
            columns: None,
            scaling: None,
            link: Link::Identity,
            precision: Precision::F64,
        };
        m.validate()?;
        Ok(m)
    }

    /// The model predicting `link` of its network's outputs.
    pub fn with_link(mut self, link: Link) -> Result<Self> {
        self.link = link;
        self.validate()?;
        Ok(self)
    }

    /// The model trained in `precision`: a float32 model's network parameters must be float32
    /// numbers.
    pub fn with_precision(mut self, precision: Precision) -> Result<Self> {
        self.precision = precision;
        self.validate()?;
        Ok(self)
    }

    pub fn n_inputs(&self) -> usize {
        self.network.n_inputs()
    }

    pub fn n_outputs(&self) -> usize {
        self.network.n_outputs()
    }

    fn validate(&self) -> Result<()> {
        self.network.validate()?;
        if let Some(c) = &self.columns {
            if c.inputs.len() != self.n_inputs() || c.targets.len() != self.n_outputs() {
                return Err(Error::Shape(format!(
                    "the model names {} input and {} target column(s), its network takes {} and \
                     gives {}",
                    c.inputs.len(),
                    c.targets.len(),
                    self.n_inputs(),
                    self.n_outputs()
                )));
            }
        }
        if let Some(s) = &self.scaling {
            s.validate(self.n_inputs(), self.n_outputs())?;
        }
        if let Network::Mlp(m) = &self.network {
            let values = m.weights.iter().flat_map(|w| w.as_slice());
            if let Some(v) = values
                .chain(m.biases.iter().flatten())
                .find(|&&v| self.precision.round(v) != v)
            {
                return Err(Error::InvalidArgument(format!(
                    "a {} model's parameters are {} numbers; {v:e} is not",
                    self.precision.long_name(),
                    self.precision.long_name()
                )));
            }
        }
        if !self.link.is_identity() {
            let fits = match self.link {
                Link::Sigmoid => self.n_outputs() == 1,
                _ => self.n_outputs() >= 2,
            };
            if !fits || self.scaling.as_ref().is_some_and(|s| s.targets.is_some()) {
                return Err(Error::Shape(format!(
                    "a {:?} link takes {} unscaled logits, the network gives {} output(s){}",
                    self.link,
                    if self.link == Link::Sigmoid {
                        "one"
                    } else {
                        "two or more"
                    },
                    self.n_outputs(),
                    if self.scaling.as_ref().is_some_and(|s| s.targets.is_some()) {
                        " with a target scaling"
                    } else {
                        ""
                    }
                )));
            }
        }
        Ok(())
    }

    /// Outputs (targets' units; class probabilities under a link) for inputs with samples as
    /// columns (the data's units).
    pub fn predict(&self, x: &Matrix) -> Result<Matrix> {
        let mut out = self.network.forward(&*self.network_inputs(x)?)?;
        if let Some(t) = self.scaling.as_ref().and_then(|s| s.targets.as_ref()) {
            out = t.inverse(&out)?;
        }
        self.link.apply(&mut out);
        Ok(out)
    }

    /// The inputs as the network reads them (standardised if it was trained so).
    fn network_inputs<'x>(&self, x: &'x Matrix) -> Result<std::borrow::Cow<'x, Matrix>> {
        Ok(match &self.scaling {
            Some(s) => std::borrow::Cow::Owned(s.inputs.transform(x)?),
            None => std::borrow::Cow::Borrowed(x),
        })
    }

    /// The target names: the trained ones, or `y1, y2, …` for a file of an earlier version.
    pub fn target_names(&self) -> Vec<String> {
        match &self.columns {
            Some(c) => c.targets.clone(),
            None => (1..=self.n_outputs()).map(|i| format!("y{i}")).collect(),
        }
    }

    fn widths(&self) -> String {
        format!(
            "the model takes {} inputs and gives {} outputs",
            self.n_inputs(),
            self.n_outputs()
        )
    }

    /// The model's inputs from `table`: by name when both have names, else its leading columns
    /// (a file of inputs only, or of inputs then targets).
    pub fn inputs_of(&self, table: &Table) -> Result<Matrix> {
        if let (Some(c), Some(_)) = (&self.columns, &table.header) {
            return table.select(&c.inputs);
        }
        let (d, k) = (self.n_inputs(), self.n_outputs());
        if table.n_cols() != d && table.n_cols() != d + k {
            return Err(Error::Shape(format!(
                "{}; {} has {} columns (expected {d} inputs, or {d} inputs then {k} targets)",
                self.widths(),
                table.source.display(),
                table.n_cols()
            )));
        }
        Ok(table.leading(d))
    }

    /// Inputs and targets from `table`: by name when both have names (`targets`, if given, must
    /// be the model's), else inputs then targets by position.
    pub fn data_of(&self, table: &Table, targets: Option<&[String]>) -> Result<Dataset> {
        let (d, k) = (self.n_inputs(), self.n_outputs());
        let source = table.source.display().to_string();
        match (&self.columns, &table.header) {
            (Some(c), Some(_)) => {
                if let Some(t) = targets {
                    if t != c.targets.as_slice() {
                        return Err(Error::Shape(format!(
                            "the model was trained on target(s) {}, not {}",
                            c.targets.join(", "),
                            t.join(", ")
                        )));
                    }
                }
                let y = match label_columns(table, &c.targets) {
                    Some(encoded) => encoded?,
                    None => table.select(&c.targets)?,
                };
                let mut ds = Dataset::new(table.select(&c.inputs)?, y, source)?;
                ds.input_names.clone_from(&c.inputs);
                ds.target_names.clone_from(&c.targets);
                Ok(ds)
            }
            (_, None) if targets.is_some() => Err(Error::parse(
                &table.source,
                "targets given by name, but the file has no header row",
            )),
            (columns, header) => {
                if table.n_cols() != d + k {
                    return Err(Error::Shape(format!(
                        "{} ({} columns: inputs, then targets); {source} has {} columns",
                        self.widths(),
                        d + k,
                        table.n_cols()
                    )));
                }
                let chosen = match (targets, header) {
                    (Some(t), Some(_)) if columns.is_none() => Targets::Names(t.to_vec()),
                    _ => Targets::Last(k),
                };
                let ds = table.dataset(&chosen)?;
                if ds.n_inputs() != d || ds.n_outputs() != k {
                    return Err(Error::Shape(format!(
                        "{}; {source} has {} input and {} target columns",
                        self.widths(),
                        ds.n_inputs(),
                        ds.n_outputs()
                    )));
                }
                Ok(ds)
            }
        }
    }

    /// The fit on `ds` (data's units).
    pub fn evaluate(&self, ds: &Dataset) -> Result<Evaluation> {
        let (y, classes) = if self.link.is_identity() {
            (std::borrow::Cow::Borrowed(&ds.y), None)
        } else {
            let t = crate::net::class_indicators(&ds.y)?;
            let logits = self.network.forward(&*self.network_inputs(&ds.x)?)?;
            let figures = crate::net::class_figures(&logits, &t, None);
            (std::borrow::Cow::Owned(t), Some(figures))
        };
        let resid = self.predict(&ds.x)?.sub(&y)?;
        let r = resid.frobenius();
        let ny = y.frobenius();
        Ok(Evaluation {
            n_samples: ds.n_samples(),
            mse: r * r / (resid.rows() * resid.cols()).max(1) as f64,
            output_error: if ny > 0.0 { r / ny } else { r },
            max_abs_error: resid.as_slice().iter().fold(0.0_f64, |m, v| m.max(v.abs())),
            cross_entropy: classes.map(|c| c.0),
            accuracy: classes.map(|c| c.1),
        })
    }

    /// The model file's JSON text (`{"format": "cvxnn-model", "version": 2, "kind": "mlp", …}`).
    pub fn to_json(&self) -> Result<String> {
        let columns = self.columns.clone().unwrap_or_else(|| Columns {
            inputs: (1..=self.n_inputs()).map(|i| format!("x{i}")).collect(),
            targets: self.target_names(),
        });
        let file = ModelFile {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            network: self.network.clone(),
            inputs: columns.inputs,
            targets: columns.targets,
            scaling: self.scaling.clone(),
            link: self.link,
            precision: self.precision,
        };
        serde_json::to_string_pretty(&file)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialise model: {e}")))
    }

    /// Writes the model as JSON ([`Model::to_json`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self
            .to_json()
            .map_err(|e| Error::parse(path, e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
    }

    /// Reads a model file of any version, validating shapes and values.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// A model from the JSON text of a model file of any version (`source` names it in errors),
    /// validating shapes and values.
    pub fn from_json(text: &str, source: impl AsRef<Path>) -> Result<Self> {
        let path = source.as_ref();
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::parse(path, format!("not a cvxnn model file: {e}")))?;
        let bad = |e: serde_json::Error| Error::parse(path, format!("not a cvxnn model file: {e}"));
        let format = value["format"].as_str().unwrap_or_default();
        let version = value["version"].as_u64();
        let model = match (format, version) {
            (MODEL_FORMAT, Some(v @ (2 | 3))) => {
                let f: ModelFile = serde_json::from_value(value).map_err(bad)?;
                if v == 2 && !f.link.is_identity() {
                    return Err(Error::parse(path, "a link needs cvxnn-model version 3"));
                }
                Self {
                    network: f.network,
                    columns: Some(Columns {
                        inputs: f.inputs,
                        targets: f.targets,
                    }),
                    scaling: f.scaling,
                    link: f.link,
                    precision: f.precision,
                }
            }
            ("cvxnn-mlp", Some(1)) => {
                let f: MlpFileV1 = serde_json::from_value(value).map_err(bad)?;
                Self {
                    network: Network::Mlp(f.mlp),
                    columns: None,
                    scaling: None,
                    link: Link::Identity,
                    precision: Precision::F64,
                }
            }
            ("cvxnn-threshold-network", Some(1)) => {
                let f: ThresholdFileV1 = serde_json::from_value(value).map_err(bad)?;
                Self {
                    network: Network::Threshold(ThresholdNetwork { units: f.units }),
                    columns: None,
                    scaling: None,
                    link: Link::Identity,
                    precision: Precision::F64,
                }
            }
            (MODEL_FORMAT | "cvxnn-mlp" | "cvxnn-threshold-network", v) => {
                return Err(Error::parse(
                    path,
                    format!(
                        "{format} version {} is not supported (this cvxnn reads {MODEL_FORMAT} \
                         2 and {MODEL_VERSION} and the version-1 files)",
                        v.map_or("?".into(), |v| v.to_string())
                    ),
                ))
            }
            _ => {
                return Err(Error::parse(
                    path,
                    format!("not a cvxnn model file (format '{format}')"),
                ))
            }
        };
        model
            .validate()
            .map_err(|e| Error::parse(path, e.to_string()))?;
        Ok(model)
    }
}

/// The ±1 class columns `label=value, …` of a model trained on class labels (`data.classes`
/// names them so), read from the file's label column when the file has that column and not the
/// encoded ones: +1 where the label is the column's value, −1 elsewhere — the training's
/// encoding. `None` when the names are not of that form or the file has them as they are.
fn label_columns(table: &Table, names: &[String]) -> Option<Result<Matrix>> {
    let header = table.header.as_ref()?;
    if names.iter().all(|n| header.contains(n)) {
        return None;
    }
    let mut label = None;
    let mut values = Vec::with_capacity(names.len());
    for n in names {
        let (column, value) = n.rsplit_once('=')?;
        if label.is_some_and(|l| l != column) {
            return None;
        }
        label = Some(column);
        values.push(value.parse::<f64>().ok()?);
    }
    let label = label?;
    if !header.iter().any(|h| h == label) {
        return None;
    }
    Some(table.select(&[label.to_string()]).map(|l| {
        let l = l.row(0);
        Matrix::from_fn(values.len(), l.len(), |k, j| {
            if l[j] == values[k] {
                1.0
            } else {
                -1.0
            }
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{planted_teacher, TargetScaling};
    use crate::net::{Activation, Architecture};

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cvxnn-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn save_load_roundtrip_with_columns_and_scaling_and_legacy_files() {
        let arch = Architecture::parse("3-4-2", Activation::Linear).unwrap();
        let t = planted_teacher(&arch, 20, 3).unwrap();
        let scaling = Scaling::fit(&t.data, TargetScaling::Standardize);
        let cols = Columns {
            inputs: vec!["a".into(), "b".into(), "c".into()],
            targets: vec!["p".into(), "q".into()],
        };
        let m = Model::new(Network::Mlp(t.model.clone()), cols, Some(scaling)).unwrap();
        let p = tmp("m.json");
        m.save(&p).unwrap();
        assert_eq!(Model::load(&p).unwrap(), m);
        // predictions undo the scaling: the network on scaled inputs, outputs scaled back
        let s = m.scaling.as_ref().unwrap();
        let direct = s
            .targets
            .as_ref()
            .unwrap()
            .inverse(
                &t.model
                    .forward(&s.inputs.transform(&t.data.x).unwrap())
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(m.predict(&t.data.x).unwrap(), direct);
        // a version-1 file still loads, without names
        let v1 = serde_json::json!({"format": "cvxnn-mlp", "version": 1, "arch": t.model.arch,
            "weights": t.model.weights, "biases": t.model.biases});
        std::fs::write(&p, v1.to_string()).unwrap();
        let old = Model::load(&p).unwrap();
        assert_eq!(old.columns, None);
        assert_eq!(old.predict(&t.data.x).unwrap(), t.data.y);
        for bad in [
            r#"{"format": "cvxnn-mlp", "version": 1}"#,
            r#"{"format": "cvxnn-model", "version": 7}"#,
            r#"{"format": "other"}"#,
            "[1, 2]",
        ] {
            std::fs::write(&p, bad).unwrap();
            assert!(Model::load(&p).is_err(), "{bad}");
        }
    }
}
