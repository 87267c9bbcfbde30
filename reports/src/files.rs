//! The output folder: `summary.json`, the job and time-series tables (CSV and Parquet) and
//! `preemptions.csv`. Each file is written to a
//! temporary name and renamed into place, so a run that dies leaves no half-written file.

use crate::frame::{JobsTable, SeriesTable, write_parquet};
use crate::metrics::RunSummary;
use fairway_engine::resources::fmt_milli;
use fairway_engine::{Outcome, Workload};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writing an output file failed.
#[derive(Debug, thiserror::Error)]
#[error("{file}: cannot write: {message}")]
pub struct WriteError {
    pub file: String,
    pub message: String,
}

/// The file that marks a folder as fairway's output, so a later run may write into it again.
pub const OUTPUT_MARKER: &str = ".fairway-output";

/// Makes `dir` ready to receive a run's files: created if missing; an existing folder must be
/// empty or hold fairway's output (its marker), unless `force`, so that a mistyped `--out`
/// cannot scatter files through (or overwrite) someone's folder. Marks the folder, and, with
/// `clean_charts`, removes the charts of the previous run there (a chart this run does not draw
/// must not survive from an older one).
pub fn claim_output_dir(dir: &Path, force: bool, clean_charts: bool) -> Result<(), WriteError> {
    let err = |e: std::io::Error| WriteError {
        file: dir.display().to_string(),
        message: e.to_string(),
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(WriteError {
                file: dir.display().to_string(),
                message: "exists and is not a folder".into(),
            });
        }
        let marked = dir.join(OUTPUT_MARKER).exists();
        let empty = std::fs::read_dir(dir).map_err(err)?.next().is_none();
        if !marked && !empty && !force {
            return Err(WriteError {
                file: dir.display().to_string(),
                message: "the folder is not empty and holds no earlier fairway output; choose another --out, or pass --force to write into it".into(),
            });
        }
        if clean_charts && dir.join("charts").is_dir() {
            std::fs::remove_dir_all(dir.join("charts")).map_err(err)?;
        }
    } else {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    write_atomic(&dir.join(OUTPUT_MARKER), |_| Ok(()))
}

/// Writes `path` through a temporary file in the same folder, then renames it into place.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let err = |e: std::io::Error| WriteError {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let f = std::fs::File::create(&tmp)?;
        let mut buf = std::io::BufWriter::new(f);
        fill(&mut buf)?;
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Creates `dir` if needed and writes `summary.json` into it, pretty-printed.
pub fn write_summary(dir: &Path, summary: &impl serde::Serialize) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError {
        file: dir.display().to_string(),
        message: e.to_string(),
    })?;
    write_atomic(&dir.join("summary.json"), |f| {
        serde_json::to_writer_pretty(&mut *f, summary).map_err(std::io::Error::other)?;
        writeln!(f)
    })
}

/// Writes the tables of a run into `dir` (created if needed): `summary.json`, `jobs.csv`,
/// `jobs.parquet`, `timeseries.csv`, `timeseries.parquet` and `preemptions.csv`.
pub fn write_run(dir: &Path, w: &Workload, o: &Outcome, summary: &RunSummary) -> Result<(), WriteError> {
    write_summary(dir, summary)?;
    let jobs = JobsTable::build(w, o);
    write_atomic(&dir.join("jobs.csv"), |f| jobs.write_csv(f))?;
    write_parquet(
        &dir.join("jobs.parquet"),
        frame_of(dir, "jobs.parquet", jobs.to_frame())?,
    )?;
    drop(jobs);
    let series = SeriesTable::build(w, o);
    write_atomic(&dir.join("timeseries.csv"), |f| series.write_csv(f))?;
    write_parquet(
        &dir.join("timeseries.parquet"),
        frame_of(dir, "timeseries.parquet", series.to_frame())?,
    )?;
    write_atomic(&dir.join("preemptions.csv"), |f| preemptions_csv(f, w, o))?;
    Ok(())
}

fn frame_of<T>(dir: &Path, file: &str, r: polars::prelude::PolarsResult<T>) -> Result<T, WriteError> {
    r.map_err(|e| WriteError {
        file: dir.join(file).display().to_string(),
        message: e.to_string(),
    })
}

/// One row per preemption, in order: who lost its run, why, and for whom.
pub fn preemptions_csv(out: &mut dyn Write, w: &Workload, o: &Outcome) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record(["time_s", "job_id", "team", "reason", "by_job_id", "by_team"])?;
    for p in &o.preemption_log {
        let (by, by_team) = match p.by {
            Some(b) => (
                w.names[b.index()].as_str(),
                w.teams[w.jobs[b.index()].team.index()].as_str(),
            ),
            None => ("", ""),
        };
        wr.write_record([
            &fmt_milli(p.time.millis()),
            w.names[p.job.index()].as_str(),
            w.teams[w.jobs[p.job.index()].team.index()].as_str(),
            o.reasons[p.reason as usize].as_str(),
            by,
            by_team,
        ])?;
    }
    wr.flush()
}
