//! Microsoft's Philly trace (`msr-fiddle/philly-traces`, ATC '19): `cluster_job_log`, a JSON
//! list of jobs `{status, vc, jobid, user, submitted_time, attempts: [{start_time, end_time,
//! detail: [{ip, gpus: [...]}]}]}`, times as `2017-10-03 02:49:35` or `None`.
//!
//! - name: `jobid`; team: `vc` (the virtual cluster; a mapping rule may say otherwise); user:
//!   `user`; `status` (Pass, Killed, Failed) goes into the label `status`;
//! - pods and GPUs: the machines (`detail` entries with GPUs) of the first attempt that lists
//!   any, one pod a machine, each asking for as many GPUs as the machine gave the job (where
//!   machines gave different counts, every pod asks for the most; the report counts the jobs).
//!   That is how the trace's own analysis counts a job's GPUs;
//! - times (no time zone: read as UTC, only differences matter): submitted at
//!   `submitted_time`, started at the first recorded `start_time` of its attempts, ran until the
//!   last attempt's `end_time`, as the trace's analysis notebook measures run time. A job retried
//!   after a failure is thus one run from its first start to its last end, the gaps between
//!   attempts included (fairway has no restarts of a trace job). A last attempt without an end
//!   was still running when the log was taken; a job without attempts never ran; a job whose
//!   attempts have no start time (a logging gap, says the trace's README) cannot be placed in
//!   time: the report lists all three, they are not imported.
//!
//! Left out: the machine names (`ip`) and GPU ids, CPUs and memory (not in the trace), and
//! the attempts' individual times.

use super::research::{civil_ms, whole_gpu_milli};
use super::{End, Options, Record, Report, kube::FILE_CAP};
use crate::error::TraceError;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    vc: Option<Value>,
    #[serde(default)]
    jobid: Option<Value>,
    #[serde(default)]
    user: Option<Value>,
    #[serde(default)]
    submitted_time: Option<Value>,
    #[serde(default)]
    attempts: Option<Vec<Attempt>>,
}

#[derive(Deserialize)]
struct Attempt {
    #[serde(default)]
    start_time: Option<Value>,
    #[serde(default)]
    end_time: Option<Value>,
    #[serde(default)]
    detail: Option<Vec<Detail>>,
}

#[derive(Deserialize)]
struct Detail {
    /// Only their number matters.
    #[serde(default)]
    gpus: Option<Vec<IgnoredAny>>,
}

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    // Civil times, read as milliseconds since 1970: time 0 is told as a date.
    report.wall_clock = true;
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let text = fairway_engine::input::read_text(path, FILE_CAP).map_err(|source| TraceError::Io {
            file: file.clone(),
            source,
        })?;
        let jobs: Vec<Job> = serde_json::from_str(&text).map_err(|e| json_error(&file, &e))?;
        drop(text);
        if (out.len() + jobs.len()) as u64 > opts.max_jobs {
            return Err(TraceError::file(
                &file,
                format!(
                    "more than {} jobs: larger than the limit (the scenario's [limits] max_jobs; raise it if the trace is meant to be this large)",
                    opts.max_jobs
                ),
            ));
        }
        for (i, job) in jobs.iter().enumerate() {
            if let Some(r) = record(job, i, &file, report)? {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// A JSON error with its line, and the column within the line.
fn json_error(file: &str, e: &serde_json::Error) -> TraceError {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    if e.line() == 0 {
        return TraceError::file(file, format!("not a JSON list of jobs: {message}"));
    }
    TraceError::Row {
        file: file.to_string(),
        line: e.line() as u64,
        message: format!(
            "column {}: not a Philly job log (a JSON list of jobs): {message}",
            e.column()
        ),
    }
}

/// A field's text: strings as they are, numbers written out; `None` if absent or null.
fn text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn record(job: &Job, index: usize, file: &str, report: &mut Report) -> Result<Option<Record>, TraceError> {
    let who = match text(&job.jobid) {
        Some(id) if !id.is_empty() => id,
        _ => {
            return Err(TraceError::Object {
                file: file.to_string(),
                object: format!("job #{index} (from 0)"),
                field: "jobid".into(),
                message: "missing, or not a non-empty string".into(),
            });
        }
    };
    let at = |field: &str, message: String| TraceError::Object {
        file: file.to_string(),
        object: who.clone(),
        field: field.to_string(),
        message,
    };
    let time = |v: &Option<Value>, field: &str| -> Result<Option<i64>, TraceError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() || s == "None" => Ok(None),
            Some(Value::String(s)) => civil_ms(s).map(Some).ok_or_else(|| {
                at(
                    field,
                    format!("expected a time like 2017-10-03 02:49:35 or None, found '{s}'"),
                )
            }),
            Some(other) => Err(at(
                field,
                format!("expected a time like 2017-10-03 02:49:35 or None, found {other}"),
            )),
        }
    };
    let origin = format!("{file}: {who}");
    for (field, v) in [("vc", &job.vc), ("user", &job.user), ("status", &job.status)] {
        if !matches!(v, None | Some(Value::Null | Value::String(_))) {
            let found = v.as_ref().map_or_else(|| "nothing".to_string(), Value::to_string);
            return Err(at(field, format!("expected a string, found {found}")));
        }
    }
    let Some(submitted) = time(&job.submitted_time, "submitted_time")? else {
        report.read += 1;
        report.skip("no submission time recorded", &origin);
        return Ok(None);
    };
    let mut r = Record::new(origin.clone(), who.clone(), submitted);
    r.team = text(&job.vc).filter(|s| !s.is_empty());
    r.user = text(&job.user).filter(|s| !s.is_empty());
    if let Some(s) = text(&job.status) {
        r.labels.insert("status".into(), s);
    }
    let attempts = job.attempts.as_deref().unwrap_or_default();
    let mut starts = Vec::with_capacity(attempts.len());
    let mut last_end = None;
    for (i, a) in attempts.iter().enumerate() {
        starts.push(time(&a.start_time, &format!("attempts[{i}].start_time"))?);
        last_end = time(&a.end_time, &format!("attempts[{i}].end_time"))?;
    }
    if attempts.is_empty() {
        r.end = End::LeftUnstarted;
        return Ok(Some(r));
    }
    let Some(first_start) = starts.iter().flatten().next().copied() else {
        report.read += 1;
        report.skip(
            "no attempt has a start time (a logging gap): its run cannot be placed in time",
            &origin,
        );
        return Ok(None);
    };
    r.start_ms = Some(first_start);
    r.end = match last_end {
        Some(e) => End::At(e),
        None => End::StillRunning,
    };
    // The machines of the first attempt that lists any GPUs.
    let machines: Vec<u64> = attempts
        .iter()
        .map(|a| {
            a.detail
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|d| d.gpus.as_ref().map_or(0, Vec::len) as u64)
                .filter(|&g| g > 0)
                .collect::<Vec<_>>()
        })
        .find(|m| !m.is_empty())
        .unwrap_or_default();
    match machines.iter().max() {
        None => report.default_("GPUs: no attempt lists a machine with GPUs, read as a job of no GPUs"),
        Some(&most) => {
            if machines.iter().any(|&g| g != most) {
                report.default_(
                    "GPUs: machines gave the job different GPU counts, so every pod asks for the most",
                );
            }
            r.pods = u32::try_from(machines.len())
                .map_err(|_| at("attempts", "more than 2^32 machines".into()))?;
            r.pod.gpu_milli = whole_gpu_milli(most).map_err(|m| at("attempts.detail.gpus", m))?;
        }
    }
    Ok(Some(r))
}
