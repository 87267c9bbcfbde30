//! Writes a workload in the canonical CSV format.

use crate::canonical::COLUMNS;
use fairway_engine::resources::fmt_milli;
use fairway_engine::{GPU_MILLI, JobKind, Workload};
use std::io::Write;

/// Writes every job, one row each, with every canonical column (empty where not set).
pub fn canonical<W: Write>(w: &Workload, out: W) -> csv::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record(COLUMNS)?;
    let secs = |ms: u64| fmt_milli(ms);
    for (i, j) in w.jobs.iter().enumerate() {
        let models: Vec<&str> = j.models.iter().map(|m| w.models[m.index()].as_str()).collect();
        let rec = [
            w.names[i].to_string(),
            secs(j.submit.millis()),
            secs(j.work.millis()),
            if j.pod.gpu_milli % GPU_MILLI == 0 {
                (j.pod.gpu_milli / GPU_MILLI).to_string()
            } else {
                fmt_milli(u64::from(j.pod.gpu_milli))
            },
            w.teams[j.team.index()].clone(),
            j.pods.to_string(),
            fmt_milli(j.pod.cpu_milli),
            fmt_milli(j.pod.mem_mib * 1000 / 1024),
            models.join("|"),
            j.priority.to_string(),
            j.user.map(|u| w.users[u.index()].clone()).unwrap_or_default(),
            j.queue.map(|q| w.queues[q as usize].clone()).unwrap_or_default(),
            j.estimate.get().map(|e| secs(e.millis())).unwrap_or_default(),
            j.gpu_util.map(|u| u.to_string()).unwrap_or_default(),
            match j.kind {
                JobKind::Batch => String::new(),
                k => k.as_str().to_string(),
            },
            j.class
                .map(|c| w.job_classes[c as usize].clone())
                .unwrap_or_default(),
            j.recorded_start
                .get()
                .map(|t| secs(t.millis()))
                .unwrap_or_default(),
            j.patience.get().map(|p| secs(p.millis())).unwrap_or_default(),
        ];
        wr.write_record(&rec)?;
    }
    wr.flush()?;
    Ok(())
}
