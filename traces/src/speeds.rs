//! GPU speed tables: how much work a GPU model does per second, relative to the reference GPU,
//! from [`MIN_SPEED`](crate::cluster::MIN_SPEED) to [`MAX_SPEED`](crate::cluster::MAX_SPEED).

use crate::error::TraceError;
use crate::table::Table;
use std::path::Path;

/// `gpu_model,speed[,...]`: one speed per GPU model (other columns, such as a source, are kept
/// for people and ignored here).
pub fn read_table(path: &Path) -> Result<Vec<(String, f64)>, TraceError> {
    let mut t = Table::open(path)?;
    let model = t.required("gpu_model")?;
    let speed = t.required("speed")?;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        let m = row.non_empty(model)?.to_string();
        out.push((m, positive(&row, speed)?));
    }
    Ok(out)
}

/// `class,gpu_model,speed`: the speed of a job class on a GPU model.
pub fn read_matrix(path: &Path) -> Result<Vec<(String, String, f64)>, TraceError> {
    let mut t = Table::open(path)?;
    let class = t.required("class")?;
    let model = t.required("gpu_model")?;
    let speed = t.required("speed")?;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        out.push((
            row.non_empty(class)?.to_string(),
            row.non_empty(model)?.to_string(),
            positive(&row, speed)?,
        ));
    }
    Ok(out)
}

/// A speed the engine can hold (see [`speed_permille`](crate::cluster::speed_permille)).
fn positive(row: &crate::table::Row<'_>, col: crate::table::Col) -> Result<f64, TraceError> {
    use crate::cluster::{MAX_SPEED, MIN_SPEED};
    let v = row.f64(col)?;
    if crate::cluster::speed_permille(v).is_some() {
        Ok(v)
    } else {
        Err(row.err(
            col,
            format!(
                "expected a speed from {MIN_SPEED} to {MAX_SPEED} (1 = the reference GPU), found '{}'",
                row.str(col)
            ),
        ))
    }
}
