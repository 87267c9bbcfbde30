//! Alibaba PAI's GPU trace of 2020 (`alibaba/clusterdata`, `cluster-trace-gpu-v2020`, NSDI '22):
//! `pai_job_table.csv` and `pai_task_table.csv`, both without a header row (the release ships the
//! headers apart, in `*.header` files). Give both files, in either order: each is known by its
//! number of columns,
//! - `pai_job_table`: `job_name,inst_id,user,status,start_time,end_time` (6);
//! - `pai_task_table`: `job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type` (10).
//!
//! A job is its tasks' instances:
//! - name: `job_name` (the key the two tables share); user: `user`; team: the user (the tables
//!   have no group or department), unless a mapping rule says otherwise; `status` goes into the
//!   label `status`;
//! - pods: every instance of every task (`inst_num`, summed), each asking for the requests of one
//!   instance of the task with the most GPUs (then most CPU, then memory): `plan_gpu` percent of
//!   a GPU (50 is half a GPU, kept as a share; above one GPU rounded up to whole GPUs), `plan_cpu`
//!   percent of a core, `plan_mem` GB (read as GiB). A job whose tasks differ (a parameter server
//!   without GPUs beside GPU workers) thus asks for more than it did; the report counts such
//!   jobs. The GPU model is that task's `gpu_type` (`V100`, `T4`, `MISC`..., as in
//!   `pai_machine_spec.csv`), the one model the job may run on;
//! - times (seconds on the trace's shifted clock): submitted at the job's `start_time` (the
//!   table's "submission time"), started at its earliest task's `start_time`, ran until the
//!   job's `end_time` (else its last task's), whatever the status: a failed job held its GPUs
//!   until then. A `Running` job, or one without an end, was still running when the trace was
//!   taken; one without a task start never ran (`Waiting`, or left the queue): the report lists
//!   them, they are not imported, nor are jobs without task rows.
//!
//! Left out: `inst_id` (one per job: `job_name` names the job), the instance, sensor, group-tag
//! and machine tables; task rows of jobs not in the job table are counted as passed over.

use super::research::{gpu_milli_of, ms};
use super::{End, Options, Record, Report};
use crate::error::TraceError;
use crate::table::{Col, DEFAULT_MAX_ROWS, Row, Table};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

const JOB_COLUMNS: [&str; 6] = ["job_name", "inst_id", "user", "status", "start_time", "end_time"];
const TASK_COLUMNS: [&str; 10] = [
    "job_name",
    "task_name",
    "inst_num",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
    "plan_gpu",
    "gpu_type",
];

/// A row of the job table.
struct Job {
    origin: String,
    name: String,
    user: String,
    status: String,
    submit: Option<i64>,
    end: Option<i64>,
}

/// A row of the task table: one instance's requests, and how many instances.
struct Task {
    instances: u64,
    start: Option<i64>,
    end: Option<i64>,
    gpu_milli: u32,
    gpu_rounded: bool,
    cpu_milli: u64,
    mem_mib: u64,
    gpu_type: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Jobs,
    Tasks,
}

fn col(kind: Kind, i: usize) -> Col {
    match kind {
        Kind::Jobs => Table::positional(i, JOB_COLUMNS[i]),
        Kind::Tasks => Table::positional(i, TASK_COLUMNS[i]),
    }
}

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut tasks: HashMap<String, Vec<Task>> = HashMap::new();
    let mut seen = (false, false);
    for path in paths {
        let mut t = Table::open_with(path, false)?;
        t.limit_rows(DEFAULT_MAX_ROWS.max(opts.max_jobs));
        let mut kind = None;
        let mut rec = csv::StringRecord::new();
        while let Some(row) = t.next(&mut rec)? {
            let k = match kind {
                Some(k) => k,
                None => {
                    let k = match row.rec.len() {
                        6 => Kind::Jobs,
                        10 => Kind::Tasks,
                        n => {
                            return Err(row.row_err(format!(
                                "{n} fields: expected pai_job_table's 6 ({}) or pai_task_table's 10 ({})",
                                JOB_COLUMNS.join(","),
                                TASK_COLUMNS.join(",")
                            )));
                        }
                    };
                    kind = Some(k);
                    k
                }
            };
            match k {
                Kind::Jobs => {
                    seen.0 = true;
                    if jobs.len() as u64 >= opts.max_jobs {
                        return Err(row.row_err(format!(
                            "more than {} jobs: larger than the limit (the scenario's [limits] max_jobs; raise it if the trace is meant to be this large)",
                            opts.max_jobs
                        )));
                    }
                    jobs.push(job_row(&row)?);
                }
                Kind::Tasks => {
                    seen.1 = true;
                    let name = row.non_empty(col(k, 0))?.to_string();
                    let task = task_row(&row)?;
                    tasks.entry(name).or_default().push(task);
                }
            }
        }
    }
    if !seen.0 || !seen.1 {
        let missing = if seen.0 {
            "pai_task_table.csv (10 columns)"
        } else {
            "pai_job_table.csv (6 columns)"
        };
        return Err(TraceError::file(
            &report.files.join(", "),
            format!(
                "the pai format reads pai_job_table.csv and pai_task_table.csv together: no rows of {missing} given"
            ),
        ));
    }
    let mut out = Vec::with_capacity(jobs.len());
    let mut names = HashSet::with_capacity(jobs.len());
    for job in jobs {
        if !names.insert(job.name.clone()) {
            report.read += 1;
            report.skip("a second job of the same name", &job.origin);
            continue;
        }
        let Some(ts) = tasks.remove(&job.name) else {
            report.read += 1;
            report.skip(
                "no rows in pai_task_table.csv: its requests are unknown",
                &job.origin,
            );
            continue;
        };
        let Some(submit) = job.submit else {
            report.read += 1;
            report.skip("no submission time recorded", &job.origin);
            continue;
        };
        out.push(record(job, submit, &ts, report)?);
    }
    for (_, ts) in tasks {
        for _ in ts {
            report.ignore("task rows of jobs not in pai_job_table.csv");
        }
    }
    Ok(out)
}

fn job_row(row: &Row<'_>) -> Result<Job, TraceError> {
    let c = |i| col(Kind::Jobs, i);
    Ok(Job {
        origin: format!("{}:{}", row.file, row.line),
        name: row.non_empty(c(0))?.to_string(),
        user: row.str(c(2)).to_string(),
        status: row.str(c(3)).to_string(),
        submit: row.opt_secs(Some(c(4)), false)?.map(ms),
        end: row.opt_secs(Some(c(5)), false)?.map(ms),
    })
}

/// A number >= 0 in a field that may be empty (0) or `nan` (0), as the release writes floats.
fn amount(row: &Row<'_>, c: Col) -> Result<f64, TraceError> {
    let s = row.str(c);
    if s.is_empty() || s.eq_ignore_ascii_case("nan") {
        return Ok(0.0);
    }
    match row.f64(c)? {
        v if v >= 0.0 => Ok(v),
        _ => Err(row.err(c, format!("expected a number >= 0, found '{s}'"))),
    }
}

fn task_row(row: &Row<'_>) -> Result<Task, TraceError> {
    let c = |i| col(Kind::Tasks, i);
    let inst = amount(row, c(2))?;
    if inst.fract() != 0.0 || inst > f64::from(u32::MAX) {
        return Err(row.err(
            c(2),
            format!("expected a whole number of instances, found '{}'", row.str(c(2))),
        ));
    }
    let (gpu_milli, gpu_rounded) = gpu_milli_of(amount(row, c(8))? / 100.0).map_err(|m| {
        row.err(
            c(8),
            format!("{m} (plan_gpu is percent of a GPU), found '{}'", row.str(c(8))),
        )
    })?;
    let cpu = amount(row, c(6))?;
    let mem = amount(row, c(7))?;
    if cpu > 1e15 || mem > 1e12 {
        return Err(row.err(c(if cpu > 1e15 { 6 } else { 7 }), "more than any machine has"));
    }
    Ok(Task {
        instances: inst as u64,
        start: row.opt_secs(Some(c(4)), false)?.map(ms),
        end: row.opt_secs(Some(c(5)), false)?.map(ms),
        gpu_milli,
        gpu_rounded,
        // Percent of a core: 600 is 6 cores, 6000 thousandths.
        cpu_milli: (cpu * 10.0).round() as u64,
        mem_mib: (mem * 1024.0).round() as u64,
        gpu_type: Some(row.str(c(9)))
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("nan"))
            .map(str::to_string),
    })
}

fn record(job: Job, submit: i64, tasks: &[Task], report: &mut Report) -> Result<Record, TraceError> {
    let mut r = Record::new(job.origin, job.name, submit);
    // The task with the most GPUs per instance, then the most CPU, then memory.
    let shape = tasks
        .iter()
        .max_by_key(|t| (t.gpu_milli, t.cpu_milli, t.mem_mib))
        .expect("a job has at least one task row");
    if tasks
        .iter()
        .any(|t| (t.gpu_milli, t.cpu_milli, t.mem_mib) != (shape.gpu_milli, shape.cpu_milli, shape.mem_mib))
    {
        report.default_(
            "tasks of different shapes: every instance asks for the requests of the task with the most GPUs",
        );
    }
    if shape.gpu_rounded {
        report.default_("GPUs: plan_gpu above 100 and not a multiple of 100, rounded up to whole GPUs");
    }
    let instances: u64 = tasks.iter().map(|t| t.instances).sum();
    r.pods = match u32::try_from(instances) {
        Ok(0) => {
            report.default_("inst_num: 0 instances in all, read as 1");
            1
        }
        Ok(n) => n,
        Err(_) => {
            return Err(TraceError::file(
                &r.origin,
                format!("{instances} instances in pai_task_table.csv: more than 2^32"),
            ));
        }
    };
    r.pod.gpu_milli = shape.gpu_milli;
    r.pod.cpu_milli = shape.cpu_milli;
    r.pod.mem_mib = shape.mem_mib;
    if shape.gpu_milli > 0 {
        r.gpu_model = shape.gpu_type.clone();
    }
    r.user = Some(job.user).filter(|u| !u.is_empty());
    r.start_ms = tasks.iter().filter_map(|t| t.start).min();
    let end = job.end.or_else(|| {
        // Else the last task's end, if every task ended.
        tasks
            .iter()
            .map(|t| t.end)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    });
    let running = job.status.eq_ignore_ascii_case("Running");
    r.end = match (r.start_ms, end) {
        (Some(_), _) if running => End::StillRunning,
        (Some(_), Some(e)) => End::At(e),
        (Some(_), None) => End::StillRunning,
        (None, _) if running || job.status.eq_ignore_ascii_case("Waiting") || job.status.is_empty() => {
            End::NeverStarted
        }
        (None, _) => End::LeftUnstarted,
    };
    if !job.status.is_empty() {
        r.labels.insert("status".into(), job.status);
    }
    Ok(r)
}
