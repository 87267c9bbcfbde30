//! Gavel's job traces (`stanford-futuredata/gavel`, OSDI '20, `scheduler/traces/`): tab-separated,
//! no header, one job a line, with the run time in seconds, as Gavel's extension Shockwave
//! (`uw-mad-dash/shockwave`, NSDI '23) writes them: `job_type, command, working_directory,
//! num_steps_arg, needs_data_dir, total_steps, scale_factor, mode, priority_weight, SLO,
//! duration, arrival_time` (12 fields).
//!
//! Gavel's own traces have 10 fields (no `mode`, no `duration`): Gavel derives a job's run time
//! from `total_steps` and throughputs it measured per model and GPU type, which are not in the
//! trace, so such a line is refused with an error that says so.
//!
//! - name: the job's place in the trace from 0 (Gavel numbers its jobs the same way; over several
//!   files, the count goes on);
//! - submitted at `arrival_time`; runs for `duration` (a simulator input: there is no recorded
//!   start);
//! - pods and GPUs: `scale_factor` is the number of single-GPU workers. Gavel places workers
//!   on GPUs without regard to servers; fairway gives the job one pod of `scale_factor` GPUs
//!   (Gavel's generator draws at most 8), or over 8 the fewest pods of at most 8 GPUs, evenly
//!   (rounded up where that does not divide, which the report counts);
//! - team: the trace has none: `default` (reported) unless a mapping rule sets one. `job_type`
//!   (`ResNet-50 (batch size 64)`: the job's class), `mode` (Shockwave's batch-size adaptation)
//!   and `priority_weight` (a weight for Gavel's fairness policies, not a priority) go into
//!   labels of those names, for mapping rules to match; fairway's job class is not set.
//!
//! Left out: `command`, `working_directory`, `num_steps_arg`, `needs_data_dir` (how to launch
//! the job), `total_steps` (the run time stands for it), `SLO` (a deadline factor), CPUs and
//! memory (not in the trace).

use super::research::{pods_of_at_most, whole_gpu_milli};
use super::{End, Options, Record, Report, kube::FILE_CAP};
use crate::error::TraceError;
use std::path::PathBuf;

/// The fields of a line, in order.
const FIELDS: [&str; 12] = [
    "job_type",
    "command",
    "working_directory",
    "num_steps_arg",
    "needs_data_dir",
    "total_steps",
    "scale_factor",
    "mode",
    "priority_weight",
    "SLO",
    "duration",
    "arrival_time",
];

/// GPUs of one pod at most.
const GPUS_PER_NODE: u64 = 8;

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let text = fairway_engine::input::read_text(path, FILE_CAP).map_err(|source| TraceError::Io {
            file: file.clone(),
            source,
        })?;
        for (i, line) in text.lines().enumerate() {
            let line_no = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            if out.len() as u64 >= opts.max_jobs {
                return Err(TraceError::Row {
                    file: file.clone(),
                    line: line_no,
                    message: format!(
                        "more than {} jobs: larger than the limit (the scenario's [limits] max_jobs; raise it if the trace is meant to be this large)",
                        opts.max_jobs
                    ),
                });
            }
            let name = out.len().to_string();
            out.push(job(line, &file, line_no, name, report)?);
        }
    }
    if out.is_empty() {
        return Err(TraceError::file(
            &report.files.join(", "),
            "no jobs: every line is empty",
        ));
    }
    Ok(out)
}

fn job(
    line: &str,
    file: &str,
    line_no: u64,
    name: String,
    report: &mut Report,
) -> Result<Record, TraceError> {
    let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
    let row_err = |message: String| TraceError::Row {
        file: file.to_string(),
        line: line_no,
        message,
    };
    match fields.len() {
        12 => {}
        10 => {
            return Err(row_err(
                "10 tab-separated fields: Gavel's own trace line, which has no run time (Gavel derives it from total_steps and throughputs it measured, which are not in the trace); fairway reads the 12-field lines that add mode and duration (job_type, command, working_directory, num_steps_arg, needs_data_dir, total_steps, scale_factor, mode, priority_weight, SLO, duration, arrival_time)".into(),
            ));
        }
        n => {
            return Err(row_err(format!(
                "expected 12 tab-separated fields ({}), found {n}",
                FIELDS.join(", ")
            )));
        }
    }
    let field = |i: usize| fields[i];
    let err = |i: usize, message: String| TraceError::Field {
        file: file.to_string(),
        line: line_no,
        column: FIELDS[i].to_string(),
        message,
    };
    let secs = |i: usize| -> Result<i64, TraceError> {
        let s = field(i);
        s.parse::<f64>()
            .ok()
            .filter(|v| *v >= 0.0)
            .and_then(fairway_engine::time::secs_to_millis)
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| {
                err(
                    i,
                    format!("expected a number of seconds >= 0 (up to about 285,000 years), found '{s}'"),
                )
            })
    };
    let job_type = field(0);
    if job_type.is_empty() {
        return Err(err(0, "must not be empty".into()));
    }
    let scale: u64 = field(6).parse().ok().filter(|&g| g >= 1).ok_or_else(|| {
        err(
            6,
            format!("expected a whole number of GPUs >= 1, found '{}'", field(6)),
        )
    })?;
    let duration = secs(10)?;
    let arrival = secs(11)?;
    let mut r = Record::new(format!("{file}:{line_no}"), name, arrival);
    r.end = End::After(duration);
    let (pods, per_pod, exact) = pods_of_at_most(scale, GPUS_PER_NODE);
    if !exact {
        report.default_(
            "GPUs: scale_factor spread over 8-GPU pods does not divide evenly, so each pod asks for the share rounded up",
        );
    }
    r.pods = u32::try_from(pods).map_err(|_| err(6, "more than 2^32 pods".into()))?;
    r.pod.gpu_milli = whole_gpu_milli(per_pod).map_err(|m| err(6, m))?;
    r.labels.insert("job_type".into(), job_type.to_string());
    for i in [7, 8] {
        if !field(i).is_empty() {
            r.labels.insert(FIELDS[i].into(), field(i).to_string());
        }
    }
    Ok(r)
}
