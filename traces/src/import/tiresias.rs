//! The Tiresias simulator's job traces (`SymbioticLab/Tiresias`, NSDI '19, `simulator/*_job.csv`):
//! `job_id,num_gpu,submit_time,iterations,model_name,duration,interval`, times in seconds
//! from 0.
//!
//! - name: `job_id`; submitted at `submit_time`; runs for `duration` (a simulator input: there
//!   is no recorded start);
//! - pods and GPUs: `num_gpu` is the job's total. Tiresias takes the node size from its cluster
//!   file (`num_gpu_p_node`: 4 or 8 in the files it ships) and spreads a job over as many nodes
//!   as it needs; the trace alone does not say, so fairway assumes 8-GPU nodes: a job of up to 8
//!   GPUs is one pod, a larger one the fewest pods of at most 8 GPUs, evenly (12 GPUs: 2 pods of
//!   6; where it does not divide, each pod asks for the share rounded up, which the report
//!   counts);
//! - team: the trace has none: `default` (reported) unless a mapping rule sets one;
//!   `model_name` goes into the label `model_name`, for mapping rules to match.
//!
//! Left out: `iterations` and `interval` (Tiresias's schedulers do not use them either; the
//! interval is the gap to the next submission), CPUs and memory (Tiresias estimates them from
//! the model name).

use super::research::{ms, pods_of_at_most, whole_gpu_milli};
use super::{End, Options, Record, Report};
use crate::error::TraceError;
use crate::table::Table;
use std::path::PathBuf;

/// The node size assumed for jobs of more GPUs than one node has.
pub const GPUS_PER_NODE: u64 = 8;

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut out = Vec::new();
    for path in paths {
        let mut t = Table::open(path)?;
        t.limit_rows(opts.max_jobs);
        let id = t.required("job_id")?;
        let gpus = t.required("num_gpu")?;
        let submit = t.required("submit_time")?;
        let duration = t.required("duration")?;
        let model = t.optional("model_name");
        let mut rec = csv::StringRecord::new();
        while let Some(row) = t.next(&mut rec)? {
            let name = row.non_empty(id)?;
            let mut r = Record::new(
                format!("{}:{}", row.file, row.line),
                name.to_string(),
                ms(row.secs(submit, false)?),
            );
            r.end = End::After(ms(row.secs(duration, false)?));
            let (pods, per_pod, exact) = pods_of_at_most(row.count(gpus)?, GPUS_PER_NODE);
            if !exact {
                report.default_(
                    "GPUs: num_gpu spread over 8-GPU nodes does not divide evenly, so each pod asks for the share rounded up",
                );
            }
            r.pods = u32::try_from(pods).map_err(|_| row.err(gpus, "more than 2^32 pods"))?;
            r.pod.gpu_milli = whole_gpu_milli(per_pod).map_err(|m| row.err(gpus, m))?;
            if let Some(m) = row.opt_str(model) {
                r.labels.insert("model_name".into(), m.to_string());
            }
            out.push(r);
        }
    }
    Ok(out)
}
