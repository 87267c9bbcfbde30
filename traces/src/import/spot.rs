//! Alibaba's spot-GPU trace (`alibaba/clusterdata`, `cluster-trace-v2026-spot-gpu`, ASPLOS '26):
//! `job_info_df.csv`, one job a row, with the header
//! `job_name,organization,gpu_model,cpu_request,gpu_request,worker_num,submit_time,duration,job_type`;
//! its nodes are `node_info_df.csv` (the `spot-nodes` cluster format).
//!
//! - name: `job_name`; team: `organization` (a cost organization: department, agency...), unless
//!   a mapping rule says otherwise;
//! - pods: `worker_num` instances, each asking for `gpu_request` GPUs (a share of one GPU such as
//!   0.5 as given; above one GPU rounded up to whole GPUs, which the report counts) and
//!   `cpu_request` vCPUs: the requests are per instance, as the trace's users read them
//!   (a job's total is request x `worker_num`). A `worker_num` of 0 is read as 1 (reported);
//! - GPU model: `gpu_model` (the model the job asked for, named as in `node_info_df.csv`) is the
//!   one model the job may run on;
//! - times: submitted at `submit_time` (seconds from the first submission), runs for `duration`
//!   seconds (there is no recorded start). Jobs at `submit_time` 0 were already running when
//!   the trace began (long-running HP services among them);
//! - `job_type`: `HP` (high priority, with an SLO) gets priority 1 and `Spot` (on spot,
//!   preemptible capacity) priority 0; it also goes into the label `job_type`, for mapping rules.
//!
//! Left out: memory (the trace has none).

use super::research::{gpu_milli_of, ms};
use super::{End, Options, Record, Report};
use crate::error::TraceError;
use crate::table::Table;
use std::path::PathBuf;

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut out = Vec::new();
    for path in paths {
        let mut t = Table::open(path)?;
        t.limit_rows(opts.max_jobs);
        let id = t.required("job_name")?;
        let gpus = t.required("gpu_request")?;
        let workers = t.required("worker_num")?;
        let submit = t.required("submit_time")?;
        let duration = t.required("duration")?;
        let org = t.optional("organization");
        let model = t.optional("gpu_model");
        let cpus = t.optional("cpu_request");
        let kind = t.optional("job_type");
        let mut rec = csv::StringRecord::new();
        while let Some(row) = t.next(&mut rec)? {
            let name = row.non_empty(id)?;
            let mut r = Record::new(
                format!("{}:{}", row.file, row.line),
                name.to_string(),
                ms(row.secs(submit, false)?),
            );
            r.end = End::After(ms(row.secs(duration, false)?));
            let mut n = row.count(workers)?;
            if n == 0 {
                report.default_("worker_num: 0, read as 1 instance");
                n = 1;
            }
            r.pods =
                u32::try_from(n).map_err(|_| row.err(workers, format!("more than 2^32 instances: {n}")))?;
            let (milli, rounded) = gpu_milli_of(row.f64(gpus)?)
                .map_err(|m| row.err(gpus, format!("{m}, found '{}'", row.str(gpus))))?;
            if rounded {
                report.default_("GPUs: gpu_request above one GPU and not whole, rounded up to whole GPUs");
            }
            r.pod.gpu_milli = milli;
            if let Some(c) = cpus
                && let Some(v) = row.opt_f64(Some(c))?
            {
                if !(0.0..=1e15).contains(&v) {
                    return Err(row.err(
                        c,
                        format!("expected a number of vCPUs >= 0, found '{}'", row.str(c)),
                    ));
                }
                r.pod.cpu_milli = (v * 1000.0).round() as u64;
            }
            r.team = row.opt_str(org).map(str::to_string);
            if milli > 0 {
                r.gpu_model = row.opt_str(model).map(str::to_string);
            }
            if let Some(col) = kind
                && let Some(v) = row.opt_str(Some(col))
            {
                r.priority = Some(match v {
                    "HP" => "1".to_string(),
                    "Spot" => "0".to_string(),
                    other => return Err(row.err(col, format!("expected HP or Spot, found '{other}'"))),
                });
                r.labels.insert("job_type".into(), v.to_string());
            }
            out.push(r);
        }
    }
    Ok(out)
}
