//! `.npy` tables: a 2-D array, one sample per row, targets as the last k columns.

use super::{Dataset, Table, Targets};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use std::path::Path;

/// Loads a 2-D `.npy` array (float64, float32 or integer; C or Fortran order) and splits it into
/// inputs and targets (the last k columns: the file has no column names).
pub fn load_npy(path: &Path, targets: &Targets) -> Result<Dataset> {
    if matches!(targets, Targets::Names(_)) {
        return Err(Error::parse(
            path,
            ".npy files have no column names: give the number of target columns instead",
        ));
    }
    read_npy(path)?.dataset(targets)
}

/// Reads a 2-D `.npy` array as a table without a header.
pub(super) fn read_npy(path: &Path) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| Error::parse(path, format!("not a .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let [rows, cols] = shape[..] else {
        return Err(Error::parse(
            path,
            format!("expected a 2-D array (samples × columns), got shape {shape:?}"),
        ));
    };
    let (rows, cols) = (rows as usize, cols as usize);
    // Refuse shapes the file cannot hold before allocating anything.
    if rows.checked_mul(cols).is_none_or(|n| n > bytes.len()) {
        return Err(Error::parse(
            path,
            format!("header claims shape {shape:?}, more than the file holds"),
        ));
    }
    let fortran = matches!(npy.order(), npyz::Order::Fortran);
    let dtype = npy.dtype();
    let values = match npy.try_data::<f64>() {
        Ok(d) => to_f64(d, |v| v),
        Err(npy) => match npy.try_data::<f32>() {
            Ok(d) => to_f64(d, f64::from),
            Err(npy) => match npy.try_data::<i64>() {
                Ok(d) => to_f64(d, |v| v as f64),
                Err(npy) => match npy.try_data::<i32>() {
                    Ok(d) => to_f64(d, f64::from),
                    Err(_) => {
                        return Err(Error::parse(
                            path,
                            format!("unsupported dtype {dtype:?} (use float64, float32 or int)"),
                        ))
                    }
                },
            },
        },
    }
    .map_err(|e| Error::parse(path, format!("cannot read array data: {e}")))?;
    let table = if fortran {
        Matrix::from_col_major(rows, cols, values)
    } else {
        Matrix::from_col_major(cols, rows, values).map(|m| m.transpose())
    }
    .map_err(|e| Error::parse(path, e.to_string()))?;
    if let Some(k) = table.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(Error::parse(
            path,
            format!(
                "row {}, column {}: non-finite value {}",
                k % rows + 1,
                k / rows + 1,
                table.as_slice()[k]
            ),
        ));
    }
    Ok(Table {
        values: table,
        header: None,
        source: path.to_path_buf(),
    })
}

/// Reads every element of an array and converts it to `f64`.
fn to_f64<T: npyz::Deserialize, R: std::io::Read>(
    data: npyz::NpyReader<T, R>,
    convert: impl Fn(T) -> f64,
) -> std::io::Result<Vec<f64>> {
    data.map(|v| v.map(&convert)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(shape: &[u64], data: &[f64]) -> Vec<u8> {
        let mut buf = Vec::new();
        {
            use npyz::WriterBuilder;
            let mut w = npyz::WriteOptions::<f64>::new()
                .default_dtype()
                .shape(shape)
                .writer(&mut buf)
                .begin_nd()
                .unwrap();
            w.extend(data.iter().copied()).unwrap();
            w.finish().unwrap();
        }
        buf
    }

    #[test]
    fn reads_c_order_table_and_rejects_bad_shapes() {
        let dir = std::env::temp_dir().join(format!("cvxnn-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.npy");
        // two samples (rows), three columns: x1 x2 y
        std::fs::write(&p, npy_bytes(&[2, 3], &[1., 2., 3., 4., 5., 6.])).unwrap();
        let d = load_npy(&p, &Targets::Last(1)).unwrap();
        assert_eq!(d.x.shape(), (2, 2));
        assert_eq!(d.x.get(1, 0), 2.0);
        assert_eq!(d.y.get(0, 1), 6.0);
        std::fs::write(&p, npy_bytes(&[6], &[1., 2., 3., 4., 5., 6.])).unwrap();
        assert!(load_npy(&p, &Targets::Last(1)).is_err());
        std::fs::write(&p, npy_bytes(&[2, 2], &[1., f64::NAN, 3., 4.])).unwrap();
        assert!(load_npy(&p, &Targets::Last(1))
            .unwrap_err()
            .to_string()
            .contains("non-finite"));
        std::fs::write(&p, b"garbage").unwrap();
        assert!(load_npy(&p, &Targets::Last(1)).is_err());
    }
}
