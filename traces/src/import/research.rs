//! What the importers of research traces share: civil times, GPUs split over pods, how a
//! Slurm-style log says a job ended.

use super::End;
use crate::error::TraceError;

/// Milliseconds since 1970 of a civil time `YYYY-MM-DD HH:MM:SS[.fff]` (or with a `T`), with or
/// without a UTC offset (`+08:00`, `Z`). A time without an offset is read as UTC: only
/// differences between the trace's times matter. `None` if `s` is not such a time.
pub(crate) fn civil_ms(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.timestamp_millis());
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

/// `total` split evenly over `parts` (> 0), rounded up: (per part, whether it divided exactly).
pub(crate) fn split_up(total: u64, parts: u64) -> (u64, bool) {
    let parts = parts.max(1);
    let per = total.div_ceil(parts);
    (per, per.checked_mul(parts) == Some(total))
}

/// `gpus` whole GPUs spread over the fewest pods of at most `max` GPUs each, evenly, rounded up:
/// (pods, GPUs per pod, whether that is exactly `gpus`).
pub(crate) fn pods_of_at_most(gpus: u64, max: u64) -> (u64, u64, bool) {
    if gpus <= max {
        return (1, gpus, true);
    }
    let pods = gpus.div_ceil(max.max(1));
    let (per, exact) = split_up(gpus, pods);
    (pods, per, exact)
}

/// Whole GPUs per pod in thousandths, or a message if more than fairway holds.
pub(crate) fn whole_gpu_milli(gpus: u64) -> Result<u32, String> {
    gpus.checked_mul(u64::from(fairway_engine::GPU_MILLI))
        .and_then(|m| u32::try_from(m).ok())
        .ok_or_else(|| {
            format!(
                "{gpus} GPUs in one pod is more than fairway holds (at most {})",
                fairway_engine::cluster::MAX_GPUS
            )
        })
}

/// A pod's GPUs given as a number of GPUs (`0.5`, `2`), in thousandths: a share of one GPU as
/// given (at least 1 thousandth), more than one GPU rounded up to whole GPUs (fairway's pods ask
/// for whole GPUs or a share of one). Returns whether it rounded up to whole GPUs. The error
/// says what was expected; the caller adds what it found.
pub(crate) fn gpu_milli_of(gpus: f64) -> Result<(u32, bool), String> {
    use fairway_engine::GPU_MILLI;
    if !gpus.is_finite() || gpus < 0.0 {
        return Err("expected a number of GPUs >= 0".into());
    }
    let milli = gpus * f64::from(GPU_MILLI);
    if milli > fairway_engine::cluster::MAX_GPUS as f64 * f64::from(GPU_MILLI) {
        return Err(format!(
            "more GPUs in one pod than fairway holds (at most {})",
            fairway_engine::cluster::MAX_GPUS
        ));
    }
    let m = milli.round() as u64;
    if m < u64::from(GPU_MILLI) {
        // None, or a share of one GPU to the thousandth (a tiny share is at least one).
        return Ok((if gpus > 0.0 { m.max(1) as u32 } else { 0 }, false));
    }
    let whole = m.div_ceil(u64::from(GPU_MILLI));
    whole_gpu_milli(whole).map(|g| (g, !m.is_multiple_of(u64::from(GPU_MILLI))))
}

/// Seconds of a trace (at most [`fairway_engine::time::MAX_MILLIS`] in milliseconds) as the
/// signed milliseconds of a [`Record`].
pub(crate) fn ms(secs_ms: u64) -> i64 {
    i64::try_from(secs_ms).unwrap_or(i64::MAX)
}

/// The civil time in `col` in milliseconds ([`civil_ms`]), or `None` if the field is empty or
/// says there is none (`None`, `NaT`, `nan`, `null`).
pub(crate) fn opt_civil(
    row: &crate::table::Row<'_>,
    col: crate::table::Col,
) -> Result<Option<i64>, TraceError> {
    let s = row.str(col);
    if s.is_empty() || ["none", "nat", "nan", "null"].contains(&s.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    civil_ms(s).map(Some).ok_or_else(|| {
        row.err(
            col,
            format!("expected a date and time like 2020-06-09 18:41:01 (with or without a UTC offset), found '{s}'"),
        )
    })
}

/// How a job of a Slurm-style log ended, from its final `state` and the times it has: still
/// running (`RUNNING`, `SUSPENDED`) or waiting (`PENDING`) when the log was taken, else (completed,
/// failed, cancelled, timed out: it held its resources) ended at its end, or left unstarted.
pub(crate) fn slurm_end(state: &str, start: Option<i64>, end: Option<i64>) -> End {
    let state = state.to_ascii_uppercase();
    let running = state.starts_with("RUNNING") || state.starts_with("SUSPENDED");
    let pending = state.is_empty() || state.starts_with("PENDING");
    match (start, end) {
        (Some(_), _) if running => End::StillRunning,
        (Some(_), Some(e)) => End::At(e),
        (Some(_), None) => End::StillRunning,
        (None, _) if pending || running => End::NeverStarted,
        (None, _) => End::LeftUnstarted,
    }
}
