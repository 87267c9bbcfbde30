//! What a trace contains: size, span, demand, durations.

use fairway_engine::Workload;
use fairway_engine::stats::Summary;
use std::collections::BTreeMap;

/// A summary of a workload, before any simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStats {
    pub jobs: usize,
    pub teams: usize,
    /// First and last submit time, seconds.
    pub first_submit_s: f64,
    pub last_submit_s: f64,
    /// GPU-hours the jobs ask for (GPUs of the gang x run time on the reference GPU).
    pub gpu_hours: f64,
    /// Average GPUs busy if every job ran at once on arrival: GPU-hours / submit span.
    pub offered_load_gpus: f64,
    /// Run times, seconds.
    pub duration_s: Summary,
    /// Jobs by GPUs per gang (as text, e.g. "0.5", "8"), counted.
    pub by_gpus: BTreeMap<String, usize>,
    pub with_model_constraint: usize,
    pub with_recorded_start: usize,
    pub with_patience: usize,
    /// Jobs still running when the trace ended (left out of durations and GPU demand).
    pub open_ended: usize,
    pub multi_pod: usize,
    /// Jobs per team, by name.
    pub per_team: BTreeMap<String, usize>,
}

pub fn of(w: &Workload) -> TraceStats {
    let closed = || w.jobs.iter().filter(|j| !j.open_ended);
    let mut durations: Vec<f64> = closed().map(|j| j.work.as_secs_f64()).collect();
    let gpu_hours: f64 = closed()
        .map(|j| j.gpu_milli() as f64 / 1000.0 * j.work.as_secs_f64() / 3600.0)
        .sum();
    let first = w.jobs.first().map_or(0.0, |j| j.submit.as_secs_f64());
    let last = w.jobs.last().map_or(0.0, |j| j.submit.as_secs_f64());
    let mut by_gpus = BTreeMap::new();
    let mut per_team = BTreeMap::new();
    for j in &w.jobs {
        *by_gpus
            .entry(fairway_engine::resources::fmt_milli(j.gpu_milli()))
            .or_insert(0) += 1;
        *per_team.entry(w.teams[j.team.index()].clone()).or_insert(0) += 1;
    }
    TraceStats {
        jobs: w.len(),
        teams: w.teams.len(),
        first_submit_s: first,
        last_submit_s: last,
        gpu_hours,
        offered_load_gpus: if last > first {
            gpu_hours * 3600.0 / (last - first)
        } else {
            0.0
        },
        duration_s: Summary::of(&mut durations).unwrap_or_default(),
        by_gpus,
        with_model_constraint: w.jobs.iter().filter(|j| !j.models.is_any()).count(),
        with_recorded_start: w.jobs.iter().filter(|j| j.recorded_start.is_some()).count(),
        with_patience: w.jobs.iter().filter(|j| j.patience.is_some()).count(),
        open_ended: w.jobs.iter().filter(|j| j.open_ended).count(),
        multi_pod: w.jobs.iter().filter(|j| j.pods > 1).count(),
        per_team,
    }
}

impl TraceStats {
    /// The statistics as `fairway trace stats` prints them; `name` names the trace.
    pub fn render(&self, name: &str) -> String {
        use fairway_engine::resources::fmt_milli;
        use fairway_engine::time::human_secs;
        let d = &self.duration_s;
        let mix: Vec<String> = self.by_gpus.iter().map(|(g, n)| format!("{g}: {n}")).collect();
        let teams: Vec<String> = self.per_team.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        [
            format!("trace        {name}"),
            format!("jobs         {} in {} teams", self.jobs, self.teams),
            format!(
                "submitted    from {} to {} ({})",
                fmt_milli((self.first_submit_s * 1000.0) as u64),
                fmt_milli((self.last_submit_s * 1000.0) as u64),
                human_secs(self.last_submit_s - self.first_submit_s)
            ),
            format!(
                "GPU demand   {:.1} GPU-hours; {:.1} GPUs busy on average over the submit span",
                self.gpu_hours, self.offered_load_gpus
            ),
            format!(
                "duration     mean {}  p50 {}  p90 {}  p95 {}  p99 {}  max {}",
                human_secs(d.mean),
                human_secs(d.p50),
                human_secs(d.p90),
                human_secs(d.p95),
                human_secs(d.p99),
                human_secs(d.max)
            ),
            format!("GPUs per job {}", mix.join(", ")),
            format!("per team     {}", teams.join(", ")),
            format!(
                "             {} multi-pod, {} with a GPU-model constraint, {} with a recorded start, {} that may give up, {} still running at the trace's end (open-ended: left out of duration and demand)",
                self.multi_pod,
                self.with_model_constraint,
                self.with_recorded_start,
                self.with_patience,
                self.open_ended
            ),
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect()
    }
}
