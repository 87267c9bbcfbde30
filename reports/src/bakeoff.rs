//! The results table of a bake-off: one row per policy, the same headline metrics for each,
//! as `bakeoff.csv` and as text.

use crate::escape::terminal;
use crate::metrics::{Dist, RunSummary};
use crate::table::human_secs;
use std::fmt::Write as _;
use std::io::Write;

const COLUMNS: &[&str] = &[
    "policy",
    "placement",
    "jobs_finished",
    "jobs_unschedulable",
    "jobs_abandoned",
    "wait_mean_s",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "wait_max_s",
    "jct_mean_s",
    "jct_p95_s",
    "makespan_s",
    "gpu_allocation_rate",
    "preemptions",
    "lost_gpu_hours",
    "overhead_gpu_hours",
    "interactive_wait_p95_s",
    "fragmented_gpus_mean",
];

fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// One row per run, in the order given.
pub fn bakeoff_csv(out: &mut dyn Write, runs: &[RunSummary]) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record(COLUMNS)?;
    for s in runs {
        let inter = s.wait_s_by_kind.get("interactive").and_then(|d| d.p95);
        wr.write_record([
            s.policy.clone(),
            s.placement.clone(),
            s.counts.jobs_finished.to_string(),
            s.counts.jobs_unschedulable.to_string(),
            s.counts.jobs_abandoned.to_string(),
            num(s.wait_s.mean),
            num(s.wait_s.p50),
            num(s.wait_s.p95),
            num(s.wait_s.p99),
            num(s.wait_s.max),
            num(s.jct_s.mean),
            num(s.jct_s.p95),
            s.makespan_s.to_string(),
            s.gpu_allocation_rate.to_string(),
            s.preemptions.to_string(),
            s.lost_gpu_hours.to_string(),
            s.overhead_gpu_hours.to_string(),
            num(inter),
            num(s.fragmented_gpus_mean),
        ])?;
    }
    wr.flush()
}

fn cell(d: &Dist, f: impl Fn(&Dist) -> Option<f64>) -> String {
    f(d).map_or_else(|| "-".to_string(), human_secs)
}

/// The table printed after a bake-off.
pub fn render(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    let label = |s: &RunSummary| format!("{} + {}", terminal(&s.policy), terminal(&s.placement));
    let width = runs
        .iter()
        .map(|s| label(s).chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:<width$}  {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8} {:>6}",
        "policy + placement", "finished", "wait", "p50", "p95", "p99", "JCT", "alloc", "preempt", "frag"
    );
    for s in runs {
        let _ = writeln!(
            out,
            "{:<width$}  {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6.1}% {:>8} {:>6}",
            label(s),
            s.counts.jobs_finished,
            cell(&s.wait_s, |d| d.mean),
            cell(&s.wait_s, |d| d.p50),
            cell(&s.wait_s, |d| d.p95),
            cell(&s.wait_s, |d| d.p99),
            cell(&s.jct_s, |d| d.mean),
            s.gpu_allocation_rate * 100.0,
            s.preemptions,
            s.fragmented_gpus_mean
                .map_or_else(|| "-".to_string(), |f| format!("{f:.2}"))
        );
    }
    out
}
