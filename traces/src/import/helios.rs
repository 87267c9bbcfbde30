//! SenseTime's Helios traces (`S-Lab-System-Group/HeliosData`, SC '21): one `cluster_log.csv`
//! per cluster (Earth, Saturn, Uranus, Venus), one Slurm job a row, with the header
//! `job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue`.
//!
//! - name: `job_id`; team: `vc` (the virtual cluster; a mapping rule may say otherwise, and a
//!   row with no `vc` falls back to its `user`); user: `user`;
//! - pods: `node_num` (one pod a node), each asking for `gpu_num / node_num` GPUs and
//!   `cpu_num / node_num` cores; where that does not divide, every pod asks for the share
//!   rounded up and the report counts the jobs. Jobs of 0 GPUs (the trace's CPU jobs) are kept
//!   as CPU-only jobs; a `node_num` of 0 is read as 1 node (reported);
//! - times (`YYYY-MM-DD HH:MM:SS`, no time zone: read as UTC, only differences matter):
//!   submitted at `submit_time`, recorded start `start_time`, ran until `end_time` whatever the
//!   `state` (a failed, cancelled or timed-out job held its GPUs until then); a `RUNNING` or
//!   `SUSPENDED` job was still running when the log was taken, a `PENDING` one (or one without a
//!   `start_time`) never ran: the report lists them, they are not imported;
//! - a `jobname` column, where a copy of the trace has one, goes into the label `jobname`.
//!
//! Left out: `duration` and `queue` (both derived from the times above: run and wait seconds),
//! memory (the trace has none), the GPU model (Helios states it per cluster, not per job).

use super::research::{opt_civil, slurm_end, split_up, whole_gpu_milli};
use super::{Options, Record, Report};
use crate::error::TraceError;
use crate::table::Table;
use std::path::PathBuf;

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    // Civil times, read as milliseconds since 1970: time 0 is told as a date.
    report.wall_clock = true;
    let mut out = Vec::new();
    for path in paths {
        let mut t = Table::open(path)?;
        t.limit_rows(opts.max_jobs);
        let id = t.required("job_id")?;
        let vc = t.required("vc")?;
        let gpus = t.required("gpu_num")?;
        let nodes = t.required("node_num")?;
        let state = t.required("state")?;
        let submit = t.required("submit_time")?;
        let start = t.required("start_time")?;
        let end = t.required("end_time")?;
        let user = t.optional("user");
        let cpus = t.optional("cpu_num");
        let jobname = t.optional("jobname");
        let mut rec = csv::StringRecord::new();
        while let Some(row) = t.next(&mut rec)? {
            let name = row.non_empty(id)?;
            let submitted = opt_civil(&row, submit)?.ok_or_else(|| row.err(submit, "must not be empty"))?;
            let mut r = Record::new(format!("{}:{}", row.file, row.line), name.to_string(), submitted);
            r.start_ms = opt_civil(&row, start)?;
            r.end = slurm_end(row.str(state), r.start_ms, opt_civil(&row, end)?);
            let mut n = row.count(nodes)?;
            if n == 0 {
                report.default_("node_num: 0, read as 1 node");
                n = 1;
            }
            r.pods = u32::try_from(n).map_err(|_| row.err(nodes, format!("more than 2^32 nodes: {n}")))?;
            let (per_pod, exact) = split_up(row.count(gpus)?, n);
            if !exact {
                report.default_("GPUs: gpu_num is not a multiple of node_num, so each node's pod asks for the share rounded up");
            }
            r.pod.gpu_milli = whole_gpu_milli(per_pod).map_err(|m| row.err(gpus, m))?;
            if let Some(c) = cpus.filter(|&c| !row.str(c).is_empty()) {
                let (per_pod, exact) = split_up(row.count(c)?, n);
                if !exact {
                    report.default_("CPUs: cpu_num is not a multiple of node_num, so each node's pod asks for the share rounded up");
                }
                r.pod.cpu_milli = per_pod
                    .checked_mul(1000)
                    .ok_or_else(|| row.err(c, "too many cores"))?;
            }
            r.team = Some(row.str(vc)).filter(|s| !s.is_empty()).map(str::to_string);
            r.user = row.opt_str(user).map(str::to_string);
            if let Some(j) = row.opt_str(jobname) {
                r.labels.insert("jobname".into(), j.to_string());
            }
            out.push(r);
        }
    }
    Ok(out)
}
