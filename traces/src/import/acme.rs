//! Shanghai AI Lab's Acme traces (`InternLM/AcmeTrace`, NSDI '24): `trace_seren.csv` and
//! `trace_kalos.csv`, one job a row, with the columns
//! `job_id,user,node_num,gpu_num,cpu_num,type,state,submit_time,start_time,end_time,duration,queue,gpu_time`
//! and, in Kalos only, `mem_per_pod_GB,shared_mem_per_pod,fail_time,stop_time`.
//!
//! - name: `job_id`; user: `user`; team: the user (the trace has no virtual cluster or
//!   department), unless a mapping rule says otherwise;
//! - pods: `node_num` (one pod a node), each asking for `gpu_num / node_num` GPUs and
//!   `cpu_num / node_num` cores (rounded up where that does not divide; the report counts the
//!   jobs), and `mem_per_pod_GB` GiB where given. Jobs of 0 GPUs are kept as CPU-only jobs; a
//!   `node_num` of 0 is read as 1 node (reported);
//! - times (`2023-03-01 00:18:22+08:00`; the offset is honoured, a time without one is read as
//!   UTC): submitted at `submit_time`, recorded start `start_time`, ran until `end_time` (else
//!   `stop_time`, else `fail_time`) whatever the `state`: a failed or cancelled job held its
//!   GPUs until then. A `RUNNING` job was still running, a `PENDING` one (or one without a
//!   `start_time`) never ran: the report lists them, they are not imported;
//! - `type` (Pretrain, SFT, Eval, MLLM, Debug, Other) goes into the label `type`, for mapping
//!   rules to match.
//!
//! Left out: `duration`, `queue` and `gpu_time` (derived from the times and GPUs above),
//! `shared_mem_per_pod` (shared memory is part of the pod's memory limit), the GPU model (one
//! model per cluster, not stated per job).

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
        let gpus = t.required("gpu_num")?;
        let nodes = t.required("node_num")?;
        let state = t.required("state")?;
        let submit = t.required("submit_time")?;
        let start = t.required("start_time")?;
        let end = t.required("end_time")?;
        let user = t.optional("user");
        let cpus = t.optional("cpu_num");
        let mem = t.optional("mem_per_pod_GB");
        let kind = t.optional("type");
        let stop = t.optional("stop_time");
        let fail = t.optional("fail_time");
        let mut rec = csv::StringRecord::new();
        while let Some(row) = t.next(&mut rec)? {
            let name = row.non_empty(id)?;
            let submitted = opt_civil(&row, submit)?.ok_or_else(|| row.err(submit, "must not be empty"))?;
            let mut r = Record::new(format!("{}:{}", row.file, row.line), name.to_string(), submitted);
            r.start_ms = opt_civil(&row, start)?;
            let mut ended = opt_civil(&row, end)?;
            for c in [stop, fail].into_iter().flatten() {
                if ended.is_none() {
                    ended = opt_civil(&row, c)?;
                }
            }
            r.end = slurm_end(row.str(state), r.start_ms, ended);
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
            if let Some(c) = mem
                && let Some(gb) = row.opt_f64(Some(c))?
            {
                // GB as the cluster's Kubernetes limits count them: GiB.
                let mib = gb * 1024.0;
                if !(0.0..=1e15).contains(&mib) {
                    return Err(row.err(c, format!("expected GB >= 0, found '{gb}'")));
                }
                r.pod.mem_mib = mib.round() as u64;
            }
            r.user = row.opt_str(user).map(str::to_string);
            if let Some(k) = row.opt_str(kind) {
                r.labels.insert("type".into(), k.to_string());
            }
            out.push(r);
        }
    }
    Ok(out)
}
