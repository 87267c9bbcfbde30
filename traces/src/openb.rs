//! The Alibaba cluster-trace-gpu-v2023 ("openb") pod and node lists.
//!
//! Each pod row becomes a one-pod job:
//! - `creation_time` is the submit time; `scheduled_time` is kept as the recorded start;
//! - run time is `deletion_time - scheduled_time` (what the pod held its resources for);
//! - a pod never scheduled (empty `scheduled_time`) keeps its place as an arrival that gives up at
//!   its `deletion_time` if not started by then; if it does start, it runs for as long as it
//!   stayed in the system (`deletion_time - creation_time`, at least 1 s);
//! - GPUs are `num_gpu` whole GPUs, or `gpu_milli` of one GPU when `num_gpu` is 1;
//! - `qos` is the team, and gives the priority: Guaranteed 3, LS 2, Burstable 1, BE 0;
//! - `gpu_spec` (`V100M16|V100M32`) is the set of allowed GPU models;
//! - the `multigpu*` lists have none of the three time columns: their pods are submitted at 0 in
//!   file order with a placeholder run of 1 s, and [`Loaded::timeless`] says so (only a
//!   time-free experiment, workload inflation, may read them).

use crate::error::TraceError;
use crate::table::{Table, unique_id};
use crate::{Loaded, canonical};
use fairway_engine::{GPU_MILLI, JobSpec, PodRequest, PoolSpec, SimDuration, SimTime, WorkloadBuilder};
use std::path::Path;

/// Priority of each QoS class.
pub const QOS_PRIORITY: &[(&str, i32)] = &[("Guaranteed", 3), ("LS", 2), ("Burstable", 1), ("BE", 0)];

/// Reads `openb_pod_list_*.csv`.
pub fn read_pods(path: &Path) -> Result<Loaded, TraceError> {
    read_pods_with(path, crate::table::DEFAULT_MAX_ROWS)
}

/// [`read_pods`], refusing more than `max_jobs` rows.
pub fn read_pods_with(path: &Path, max_jobs: u64) -> Result<Loaded, TraceError> {
    let mut t = Table::open(path)?;
    t.limit_rows(max_jobs);
    let name = t.required("name")?;
    let cpu = t.required("cpu_milli")?;
    let mem = t.required("memory_mib")?;
    let num_gpu = t.required("num_gpu")?;
    let gpu_milli = t.required("gpu_milli")?;
    let gpu_spec = t.optional("gpu_spec");
    let qos = t.required("qos")?;
    // The multigpu* lists carry no time columns; with some of them, all are required.
    let timeless = ["creation_time", "deletion_time", "scheduled_time"]
        .iter()
        .all(|c| t.optional(c).is_none());
    let times = if timeless {
        None
    } else {
        Some((
            t.required("creation_time")?,
            t.required("deletion_time")?,
            t.required("scheduled_time")?,
        ))
    };

    let mut b = WorkloadBuilder::new(t.file.clone());
    let mut rec = csv::StringRecord::new();
    let mut never_scheduled = 0usize;
    // Rows deleted at the file's last deletion time were still running when the trace ended.
    let (mut last_deletion, mut censored) = (0u64, 0usize);
    while let Some(row) = t.next(&mut rec)? {
        let id = unique_id(&row, name, &b)?;
        let n_gpu = row.count(num_gpu)?;
        let g_milli = row.count(gpu_milli)?;
        let per_pod = match n_gpu {
            0 => 0,
            1 if (1..=u64::from(GPU_MILLI)).contains(&g_milli) => g_milli as u32,
            1 => {
                return Err(row.err(
                    gpu_milli,
                    format!("expected 1..=1000 milli-GPU for a 1-GPU pod, found '{g_milli}'"),
                ));
            }
            n if g_milli == u64::from(GPU_MILLI) && n <= 64 => n as u32 * GPU_MILLI,
            _ => {
                return Err(row.err(
                    gpu_milli,
                    format!("a pod with {n_gpu} GPUs must use whole GPUs (1000), found '{g_milli}'"),
                ));
            }
        };
        // Without times (the multigpu* lists): submitted at 0 in file order, running the
        // smallest run we model.
        let (submit, work, patience, start) = match times {
            None => (0, 1000, None, None),
            Some((created, deleted, scheduled)) => {
                let submit = row.secs(created, false)?;
                let end = row.secs(deleted, false)?;
                if end < submit {
                    return Err(row.err(deleted, "deletion_time is before creation_time"));
                }
                if end > last_deletion {
                    (last_deletion, censored) = (end, 1);
                } else if end == last_deletion {
                    censored += 1;
                }
                let start = row.opt_secs(Some(scheduled), false)?;
                let (work, patience) = match start {
                    Some(s) if s < submit || s > end => {
                        return Err(row.err(
                            scheduled,
                            "scheduled_time must lie between creation_time and deletion_time",
                        ));
                    }
                    Some(s) => (end - s, None),
                    None => {
                        never_scheduled += 1;
                        (end - submit, Some(SimDuration(end - submit)))
                    }
                };
                // A pod deleted the instant it started held nothing; give it the smallest run
                // we model.
                (submit, work.max(1000), patience, start)
            }
        };
        let team_name = row.non_empty(qos)?;
        let Some(&(_, priority)) = QOS_PRIORITY.iter().find(|(q, _)| *q == team_name) else {
            return Err(row.err(
                qos,
                format!("expected one of Guaranteed, LS, Burstable, BE, found '{team_name}'"),
            ));
        };
        let team = b.team(team_name).map_err(|e| row.err(qos, e.to_string()))?;
        let pod = PodRequest {
            gpu_milli: per_pod,
            cpu_milli: row.count(cpu)?,
            mem_mib: row.count(mem)?,
        };
        let mut spec = JobSpec::new(SimTime(submit), SimDuration(work), 1, pod, team);
        spec.priority = priority;
        spec.patience = patience.into();
        spec.recorded_start = start.map(SimTime).into();
        if let Some(text) = row.opt_str(gpu_spec) {
            spec.models =
                canonical::model_set(text, &mut b).map_err(|m| row.err(gpu_spec.expect("present"), m))?;
        }
        b.push(id, row.line as u32, spec)
            .map_err(|e| row.row_err(e.to_string()))?;
    }
    if b.is_empty() {
        return Err(TraceError::file(&t.file, "the trace has a header but no pods"));
    }
    let mut warnings = Vec::new();
    if censored > 0 {
        warnings.push(format!(
            "{}: {censored} pods were still running when the trace ended (deletion_time = {} s): their run time is a lower bound",
            t.file,
            last_deletion / 1000
        ));
    }
    if never_scheduled > 0 {
        warnings.push(format!(
            "{}: {never_scheduled} pods were never scheduled in the trace: they wait until their deletion_time, then give up",
            t.file
        ));
    }
    Ok(Loaded {
        workload: b.finish(),
        warnings,
        timeless,
    })
}

/// Reads `openb_node_list_*.csv` into pools: nodes with the same GPU model, GPU count, CPU and
/// memory form one pool, named like `g2-8gpu-96cpu-384gib`, in order of first appearance.
pub fn read_nodes(path: &Path) -> Result<Vec<PoolSpec>, TraceError> {
    let mut t = Table::open(path)?;
    let sn = t.required("sn")?;
    let cpu = t.required("cpu_milli")?;
    let mem = t.required("memory_mib")?;
    let gpu = t.required("gpu")?;
    let model = t.required("model")?;
    let mut pools = crate::cluster::NodePools::default();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        row.non_empty(sn)?;
        let (c, m) = (row.count(cpu)?, row.count(mem)?);
        let g = crate::cluster::check_gpus(&row, gpu, row.count(gpu)?)?;
        let model_name = row.opt_str(Some(model)).map(str::to_string);
        if g > 0 && model_name.is_none() {
            return Err(row.err(model, "a node with GPUs needs a model"));
        }
        pools.add(model_name.as_deref(), g, c, m);
    }
    if pools.is_empty() {
        return Err(TraceError::file(
            &t.file,
            "the node list has a header but no nodes",
        ));
    }
    Ok(pools.finish())
}
