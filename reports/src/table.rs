//! The readable summary printed after a run.

use crate::escape::terminal;
use crate::metrics::{Dist, RunSummary};
use std::fmt::Write;

pub use fairway_engine::time::human_secs;

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), human_secs)
}

fn dist_cells(d: &Dist) -> [String; 4] {
    [cell(d.mean), cell(d.p50), cell(d.p95), cell(d.max)]
}

/// The headline numbers and one row per team.
pub fn render(s: &RunSummary) -> String {
    let mut out = String::new();
    let c = &s.counts;
    let _ = writeln!(out, "scenario  {}  (seed {})", terminal(&s.scenario), s.seed);
    let _ = writeln!(
        out,
        "policy    {}  placement {}",
        terminal(&s.policy),
        terminal(&s.placement)
    );
    let _ = writeln!(
        out,
        "jobs      {} total: {} finished, {} unschedulable, {} abandoned, {} pending, {} running",
        c.jobs_total, c.jobs_finished, c.jobs_unschedulable, c.jobs_abandoned, c.jobs_pending, c.jobs_running
    );
    let _ = writeln!(
        out,
        "GPUs      {} capacity, {:.1}% allocated over {} (makespan {})",
        s.capacity_gpus,
        s.gpu_allocation_rate * 100.0,
        human_secs(s.span_s),
        human_secs(s.makespan_s)
    );
    let [m, p50, p95, max] = dist_cells(&s.wait_s);
    let _ = writeln!(out, "wait      mean {m}  p50 {p50}  p95 {p95}  max {max}");
    if s.has_censored_waits() {
        // Jobs that never started wait at least as long as they did (Kaplan–Meier).
        let k = &s.wait_s_km;
        let at_least = |v: Option<f64>| v.map_or_else(|| "beyond the run".to_string(), human_secs);
        let _ = writeln!(
            out,
            "          counting the {} jobs that never started ({} still waiting at the end): mean at least {}  p50 {}  p95 {}",
            s.jobs_pending_at_end + s.counts.jobs_abandoned,
            s.jobs_pending_at_end,
            at_least(k.mean),
            at_least(k.p50),
            at_least(k.p95)
        );
    }
    let [m, p50, p95, max] = dist_cells(&s.jct_s);
    let _ = writeln!(out, "JCT       mean {m}  p50 {p50}  p95 {p95}  max {max}");
    if s.interactive_jobs > 0 {
        let [m, p50, p95, max] = dist_cells(s.wait_s_by_kind.get("interactive").unwrap_or(&Dist::default()));
        let _ = write!(
            out,
            "interactive {} jobs, start latency mean {m}  p50 {p50}  p95 {p95}  max {max}",
            s.interactive_jobs
        );
        match (s.interactive_within_target, s.interactive_target_s) {
            (Some(f), Some(t)) => {
                let _ = writeln!(out, "; {:.1}% started within {}", f * 100.0, human_secs(t));
            }
            _ => {
                let _ = writeln!(out);
            }
        }
    }
    if s.preemptions > 0 {
        let _ = writeln!(
            out,
            "preempted {} times, {:.1} GPU-hours lost, {:.1} GPU-hours of restart overhead",
            s.preemptions, s.lost_gpu_hours, s.overhead_gpu_hours
        );
    }
    if let Some(f) = s.fragmented_gpus_mean {
        let _ = writeln!(
            out,
            "fragmented {f:.2} GPUs on average: idle, but no pending pod shape could use them"
        );
    }
    if s.node_failures > 0 {
        let _ = writeln!(
            out,
            "failures  {} node failures, GPU availability {:.2}%, {} runs interrupted",
            s.node_failures,
            s.gpu_availability * 100.0,
            s.interrupted_by_failures
        );
    }
    if !s.policy_stats.is_empty() {
        let stats: Vec<String> = (s.policy_stats.iter())
            .map(|(k, v)| format!("{} {v}", terminal(k)))
            .collect();
        let _ = writeln!(out, "policy    {}", stats.join(", "));
    }
    let _ = writeln!(out);
    let names: Vec<_> = s.per_team.keys().map(|k| terminal(k)).collect();
    let width = names.iter().map(|k| k.chars().count()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
        "team", "jobs", "finished", "wait", "p50", "p95", "max", "GPU-h", "share"
    );
    for (name, t) in names.iter().zip(s.per_team.values()) {
        let [m, p50, p95, max] = dist_cells(&t.wait_s);
        let _ = writeln!(
            out,
            "{:<width$}  {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9.1} {:>5.1}%",
            name,
            t.counts.jobs_total,
            t.counts.jobs_finished,
            m,
            p50,
            p95,
            max,
            t.gpu_hours,
            t.gpu_share * 100.0
        );
    }
    out
}
