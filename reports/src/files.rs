//! The output folder: `summary.json`, `jobs.csv`, `timeseries.csv`. Each file is written to a
//! temporary name and renamed into place, so a run that dies leaves no half-written file.

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

fn secs(ms: Option<u64>) -> String {
    ms.map(fmt_milli).unwrap_or_default()
}

/// Writes the three files of a run into `dir` (created if needed).
pub fn write_run(dir: &Path, w: &Workload, o: &Outcome, summary: &RunSummary) -> Result<(), WriteError> {
    write_summary(dir, summary)?;
    write_atomic(&dir.join("jobs.csv"), |f| jobs_csv(f, w, o))?;
    write_atomic(&dir.join("timeseries.csv"), |f| timeseries_csv(f, w, o))?;
    write_atomic(&dir.join("preemptions.csv"), |f| preemptions_csv(f, w, o))?;
    Ok(())
}

/// One row per job of the trace; times of things that never happened are empty.
pub fn jobs_csv(out: &mut dyn Write, w: &Workload, o: &Outcome) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record([
        "job_id",
        "team",
        "status",
        "submit_time",
        "start_time",
        "end_time",
        "wait_s",
        "jct_s",
        "preemptions",
        "gpus",
        "pods",
        "reason",
        "admit_time",
        "quota_wait_s",
        "node_wait_s",
        "wait_reason",
    ])?;
    for (i, (r, j)) in o.jobs.iter().zip(&w.jobs).enumerate() {
        let submit = j.submit.millis();
        let start = r.first_start.map(|t| t.millis());
        let finished = r.status == fairway_engine::JobStatus::Finished;
        wr.write_record([
            w.names[i].as_str(),
            w.teams[j.team.index()].as_str(),
            r.status.as_str(),
            &fmt_milli(submit),
            &secs(start),
            &secs(r.end.map(|t| t.millis())),
            &secs(start.map(|s| s - submit)),
            &secs(r.end.filter(|_| finished).map(|e| e.millis() - submit)),
            &r.preemptions.to_string(),
            &fmt_milli(u64::from(j.pod.gpu_milli)),
            &j.pods.to_string(),
            r.reason.as_deref().unwrap_or(""),
            &secs(r.first_admitted.map(|t| t.millis())),
            &fmt_milli(r.pending_ms - r.admitted_wait_ms),
            &fmt_milli(r.admitted_wait_ms),
            match r.main_wait_reason() {
                0 => "",
                i => o.reasons[i as usize].as_str(),
            },
        ])?;
    }
    wr.flush()
}

/// The exact step functions: each row holds from its time until the next row of the same scope
/// and team.
pub fn timeseries_csv(out: &mut dyn Write, w: &Workload, o: &Outcome) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record([
        "time_s",
        "scope",
        "team",
        "gpus_allocated",
        "jobs_running",
        "jobs_pending",
        "gpus_fragmented",
    ])?;
    for p in &o.series {
        let (scope, team) = match p.team {
            None => ("cluster", ""),
            Some(t) => ("team", w.teams[t.index()].as_str()),
        };
        wr.write_record([
            &fmt_milli(p.time.millis()),
            scope,
            team,
            &fmt_milli(p.level.gpu_milli),
            &p.level.running.to_string(),
            &p.level.pending.to_string(),
            &if o.fragmentation_tracked && p.team.is_none() {
                fmt_milli(p.level.fragmented_gpu_milli)
            } else {
                String::new()
            },
        ])?;
    }
    wr.flush()
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
