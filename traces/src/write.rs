//! Writes a workload in the canonical CSV format.

use crate::canonical::COLUMNS;
use fairway_engine::resources::fmt_milli;
use fairway_engine::{GPU_MILLI, JobKind, Workload};
use std::io::Write;

/// MiB as GiB, exactly: a 1024th is ten decimal places at most, and the reader takes the
/// decimal back to the same MiB (three places would lose up to a MiB a pod).
fn gib(mib: u64) -> String {
    let (whole, part) = (mib / 1024, mib % 1024);
    if part == 0 {
        return whole.to_string();
    }
    // part / 1024 = part * 5^10 / 10^10.
    let digits = format!("{:010}", part * 9_765_625);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Writes every job, one row each, with every canonical column (empty where not set). Every
/// value is written exactly: the canonical reader reads the file back into the same jobs.
pub fn canonical<W: Write>(w: &Workload, out: W) -> csv::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record(COLUMNS)?;
    let secs = |ms: u64| fmt_milli(ms);
    for (i, j) in w.jobs.iter().enumerate() {
        let models: Vec<&str> = j.models.iter().map(|m| w.models[m.index()].as_str()).collect();
        let rec = [
            w.names[i].to_string(),
            secs(j.submit.millis()),
            if j.open_ended {
                "open".to_string()
            } else {
                secs(j.work.millis())
            },
            if j.pod.gpu_milli % GPU_MILLI == 0 {
                (j.pod.gpu_milli / GPU_MILLI).to_string()
            } else {
                fmt_milli(u64::from(j.pod.gpu_milli))
            },
            w.teams[j.team.index()].clone(),
            j.pods.to_string(),
            fmt_milli(j.pod.cpu_milli),
            gib(j.pod.mem_mib),
            models.join("|"),
            // A priority class is written by name (its value is the policy's to resolve).
            match j.priority_class {
                Some(c) => w.classes[c as usize].clone(),
                None => j.priority.to_string(),
            },
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
            j.selector
                .map(|s| w.selectors[s.index()].to_string())
                .unwrap_or_default(),
        ];
        wr.write_record(&rec)?;
    }
    wr.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::gib;

    #[test]
    fn memory_is_written_to_the_exact_mib() {
        assert_eq!(gib(0), "0");
        assert_eq!(gib(64 * 1024), "64");
        assert_eq!(gib(512), "0.5");
        assert_eq!(gib(307), "0.2998046875");
        assert_eq!(gib(1025), "1.0009765625");
        for mib in [1, 307, 1023, 1025, 999_999_999_999_999] {
            let back = (gib(mib).parse::<f64>().unwrap() * 1024.0).round() as u64;
            assert_eq!(back, mib);
        }
    }
}
