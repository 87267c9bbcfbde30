//! Headline metrics of one run, computed exactly from the outcome.
//!
//! Definitions (seconds unless stated):
//! - wait = first start - submit, over jobs that started;
//! - JCT (job completion time) = end - submit, over finished jobs;
//! - span = end of run - first submit; makespan = last finish - first submit;
//! - GPU allocation rate = allocated GPU-seconds / (GPU capacity x span), where allocated
//!   GPU-seconds integrate the GPUs held by running pods over time (exact, not sampled);
//! - percentiles interpolate linearly between closest ranks (type 7, as numpy's default).

use fairway_engine::stats::Summary;
use fairway_engine::{JobStatus, Outcome, Workload};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the `summary.json` layout; bumped when a key changes meaning or disappears.
pub const SUMMARY_SCHEMA: &str = "fairway.summary/1";

/// A distribution, as written to `summary.json`. Fields are `null` when there is no sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Dist {
    pub count: usize,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Dist {
    pub fn of(mut values: Vec<f64>) -> Dist {
        match Summary::of(&mut values) {
            None => Dist::default(),
            Some(s) => Dist {
                count: s.count,
                mean: Some(round(s.mean)),
                p50: Some(round(s.p50)),
                p90: Some(round(s.p90)),
                p95: Some(round(s.p95)),
                p99: Some(round(s.p99)),
                max: Some(round(s.max)),
            },
        }
    }
}

/// Rounds to the millisecond (times are integer milliseconds; interpolation adds digits only).
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Jobs by final state.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    pub jobs_total: usize,
    pub jobs_finished: usize,
    pub jobs_unschedulable: usize,
    pub jobs_abandoned: usize,
    /// Still waiting when the run stopped.
    pub jobs_pending: usize,
    /// Still running when the run stopped.
    pub jobs_running: usize,
}

/// One team's numbers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TeamSummary {
    #[serde(flatten)]
    pub counts: Counts,
    /// GPU-hours allocated to the team's pods.
    pub gpu_hours: f64,
    /// The team's share of all allocated GPU-hours (0..1).
    pub gpu_share: f64,
    pub preemptions: u64,
    pub wait_s: Dist,
    pub jct_s: Dist,
    /// Of the time jobs spent pending: waiting for quota (or for the policy) vs. admitted by a
    /// quota system and waiting for nodes. Seconds summed over jobs.
    pub quota_wait_s: f64,
    pub node_wait_s: f64,
    /// Pending time by the policy's reason (Kueue's words for the kueue policy), job-seconds.
    pub pending_s_by_reason: BTreeMap<String, f64>,
}

/// The contents of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub schema: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub policy: String,
    pub placement: String,
    pub trace: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub capacity_gpus: f64,
    pub span_s: f64,
    pub makespan_s: f64,
    pub gpu_allocation_rate: f64,
    pub gpu_hours: f64,
    pub preemptions: u64,
    pub lost_gpu_hours: f64,
    /// GPU-hours spent on restart overheads after preemptions.
    pub overhead_gpu_hours: f64,
    /// Mean idle GPU capacity no pending pod shape could use (`null` unless the scenario tracks
    /// fragmentation).
    pub fragmented_gpus_mean: Option<f64>,
    /// Share of GPU capacity that was up (not failed) over the span.
    pub gpu_availability: f64,
    pub node_failures: u64,
    /// Runs interrupted by a node failure.
    pub interrupted_by_failures: u64,
    pub wait_s: Dist,
    pub jct_s: Dist,
    /// Wait by job kind (`batch`, `interactive`): interactive start latency apart.
    pub wait_s_by_kind: BTreeMap<String, Dist>,
    pub interactive_jobs: usize,
    /// The scenario's time-to-start target for interactive jobs, seconds.
    pub interactive_target_s: Option<f64>,
    /// Share of interactive jobs that started within the target (of all interactive jobs:
    /// one that never started missed it). `null` without a target or interactive jobs.
    pub interactive_within_target: Option<f64>,
    pub per_team: BTreeMap<String, TeamSummary>,
    /// Preemptions by the policy's reason.
    pub preemptions_by_reason: BTreeMap<String, u64>,
    /// The policy's own figures (e.g. runtime-estimate accuracy for backfill).
    pub policy_stats: BTreeMap<String, f64>,
    /// Engine work, for throughput: events applied and scheduling passes.
    pub events: u64,
    pub passes: u64,
}

/// Labels of a run that do not come from the engine.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub scenario: String,
    pub seed: u64,
    /// The trace as the scenario names it (its path as written, or "synthetic").
    pub trace: String,
    /// Time-to-start target of interactive jobs, seconds.
    pub interactive_target_s: Option<f64>,
}

const MS_PER_HOUR: f64 = 3_600_000.0;

fn count(c: &mut Counts, s: JobStatus) {
    c.jobs_total += 1;
    match s {
        JobStatus::Finished => c.jobs_finished += 1,
        JobStatus::Unschedulable => c.jobs_unschedulable += 1,
        JobStatus::Abandoned => c.jobs_abandoned += 1,
        JobStatus::Pending | JobStatus::Future => c.jobs_pending += 1,
        JobStatus::Running => c.jobs_running += 1,
    }
}

/// Computes every headline metric.
pub fn summarize(w: &Workload, o: &Outcome, info: &RunInfo) -> RunSummary {
    let mut counts = Counts::default();
    let mut waits = Vec::new();
    let mut jcts = Vec::new();
    let teams = w.teams.len();
    let mut team_counts = vec![Counts::default(); teams];
    let mut team_waits = vec![Vec::new(); teams];
    let mut team_jcts = vec![Vec::new(); teams];
    let mut team_preempt = vec![0u64; teams];
    let mut team_pending_ms = vec![0u64; teams];
    let mut team_node_ms = vec![0u64; teams];
    let mut last_finish = None;
    let mut kind_waits: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let (mut interactive, mut on_time) = (0usize, 0usize);
    for (r, j) in o.jobs.iter().zip(&w.jobs) {
        if j.kind == fairway_engine::JobKind::Interactive {
            interactive += 1;
            if let (Some(s), Some(t)) = (r.first_start, info.interactive_target_s)
                && s.since(j.submit).as_secs_f64() <= t
            {
                on_time += 1;
            }
        }
        let t = j.team.index();
        count(&mut counts, r.status);
        count(&mut team_counts[t], r.status);
        team_preempt[t] += u64::from(r.preemptions);
        team_pending_ms[t] += r.pending_ms;
        team_node_ms[t] += r.admitted_wait_ms;
        if let Some(s) = r.first_start {
            let wait = s.since(j.submit).as_secs_f64();
            waits.push(wait);
            team_waits[t].push(wait);
            kind_waits
                .entry(j.kind.as_str().to_string())
                .or_default()
                .push(wait);
        }
        if r.status == JobStatus::Finished {
            let end = r.end.expect("finished jobs have an end");
            let jct = end.since(j.submit).as_secs_f64();
            jcts.push(jct);
            team_jcts[t].push(jct);
            last_finish = last_finish.max(Some(end));
        }
    }
    let span_ms = o.end.since(o.start).millis();
    let total_gpu_ms = o.total.gpu_milli_ms as f64 / 1000.0;
    let capacity = o.capacity_gpu_milli as f64 / 1000.0;
    let per_team = (0..teams)
        .map(|t| {
            let gpu_ms = o.teams[t].gpu_milli_ms as f64 / 1000.0;
            (
                w.teams[t].clone(),
                TeamSummary {
                    counts: team_counts[t].clone(),
                    gpu_hours: gpu_ms / MS_PER_HOUR,
                    gpu_share: if total_gpu_ms > 0.0 {
                        gpu_ms / total_gpu_ms
                    } else {
                        0.0
                    },
                    preemptions: team_preempt[t],
                    wait_s: Dist::of(std::mem::take(&mut team_waits[t])),
                    jct_s: Dist::of(std::mem::take(&mut team_jcts[t])),
                    quota_wait_s: (team_pending_ms[t] - team_node_ms[t]) as f64 / 1000.0,
                    node_wait_s: team_node_ms[t] as f64 / 1000.0,
                    pending_s_by_reason: o.pending_by_reason[t]
                        .iter()
                        .enumerate()
                        .filter(|&(_, &ms)| ms > 0)
                        .map(|(r, &ms)| {
                            let name = if o.reasons[r].is_empty() {
                                "(none given)"
                            } else {
                                o.reasons[r].as_str()
                            };
                            (name.to_string(), ms as f64 / 1000.0)
                        })
                        .collect(),
                },
            )
        })
        .collect();
    RunSummary {
        schema: SUMMARY_SCHEMA,
        scenario: info.scenario.clone(),
        seed: info.seed,
        policy: o.policy.clone(),
        placement: o.placement.clone(),
        trace: info.trace.clone(),
        counts,
        capacity_gpus: capacity,
        span_s: span_ms as f64 / 1000.0,
        makespan_s: last_finish.map_or(0.0, |e| e.since(o.start).as_secs_f64()),
        gpu_allocation_rate: if span_ms > 0 && capacity > 0.0 {
            total_gpu_ms / (capacity * span_ms as f64)
        } else {
            0.0
        },
        gpu_hours: total_gpu_ms / MS_PER_HOUR,
        fragmented_gpus_mean: (o.fragmentation_tracked && span_ms > 0)
            .then(|| round(o.total.fragmented_gpu_milli_ms as f64 / 1000.0 / span_ms as f64)),
        preemptions: o.counters.preemptions,
        lost_gpu_hours: o.total.lost_gpu_milli_ms as f64 / 1000.0 / MS_PER_HOUR,
        overhead_gpu_hours: o.total.overhead_gpu_milli_ms as f64 / 1000.0 / MS_PER_HOUR,
        gpu_availability: if span_ms > 0 && capacity > 0.0 {
            1.0 - o.down_gpu_milli_ms as f64 / 1000.0 / (capacity * span_ms as f64)
        } else {
            1.0
        },
        node_failures: o.counters.node_failures,
        interrupted_by_failures: o
            .preemption_log
            .iter()
            .filter(|p| o.reasons[p.reason as usize] == fairway_engine::sim::NODE_FAILURE)
            .count() as u64,
        wait_s_by_kind: kind_waits.into_iter().map(|(k, v)| (k, Dist::of(v))).collect(),
        interactive_jobs: interactive,
        interactive_target_s: info.interactive_target_s,
        interactive_within_target: info
            .interactive_target_s
            .filter(|_| interactive > 0)
            .map(|_| round(on_time as f64 / interactive as f64)),
        wait_s: Dist::of(waits),
        jct_s: Dist::of(jcts),
        per_team,
        preemptions_by_reason: o.preemption_log.iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(o.reasons[p.reason as usize].clone()).or_insert(0) += 1;
            m
        }),
        policy_stats: o.policy_stats.iter().cloned().collect(),
        events: o.counters.events,
        passes: o.counters.passes,
    }
}
