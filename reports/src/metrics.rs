//! Headline metrics of one run, computed exactly from the outcome.
//!
//! Definitions (seconds unless stated):
//! - wait = first start - submit, over jobs that started;
//! - JCT (job completion time) = end - submit, over finished jobs;
//! - span = end of run - first submit; makespan = last finish - first submit;
//! - GPU allocation rate = allocated GPU-seconds / (GPU capacity x span), where allocated
//!   GPU-seconds integrate the GPUs held by running pods over time (exact, not sampled);
//! - total pending = all time a job spent pending, including after preemptions;
//! - slowdown = JCT / time running (over all runs); bounded slowdown = max(1, JCT / max(time
//!   running, 10 s)); both over finished jobs;
//! - GPU utilisation rate = used GPU-seconds / (GPU capacity x span), where a running job uses
//!   its allocation times the trace's `gpu_util`; only jobs with a `gpu_util` count, and
//!   `gpu_util_coverage` says which share of the allocated GPU time they are;
//! - fairness: each team's share of allocated GPU time over its entitlement (`share_ratio`; the
//!   entitlement is the nominal GPU quota share of its queue under Kueue, its weight share under
//!   fair-share, an equal share otherwise; a queue's is split evenly among the teams whose jobs
//!   it served, and a team whose jobs went to several queues has the sum of its splits, with
//!   `per_queue` giving each queue's own share and ratio); Jain's index over those ratios, (sum x)^2 / (n sum
//!   x^2), 1 when every team got exactly its entitlement; the worst-served team has the lowest
//!   ratio below 1 among the teams whose share of the GPU time asked for (`demand_share`: GPUs x
//!   run time at the reference speed, over all jobs) reached their entitlement (none if no such
//!   team got less than its entitlement);
//!   the wait spread is the largest minus the smallest team p95 wait;
//! - right-sizing (traces with `gpu_util`): a job used GPUs x `gpu_util`; a group's recommended
//!   request is that use's 90th percentile over the group's jobs, rounded up to whole GPUs (at
//!   least 1; to tenths of a GPU, at least 0.1, when the group's median request is below one
//!   GPU); the GPU-hours it frees are, over the group's jobs, time running x (GPUs asked -
//!   max(recommended, the job's own use rounded up)) where positive;
//! - percentiles interpolate linearly between closest ranks (type 7, as numpy's default).

use fairway_engine::stats::{Summary, quantile_sorted};
use fairway_engine::{JobRun, JobSpec, JobStatus, Outcome, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the `summary.json` layout; bumped when a key changes meaning or disappears.
pub const SUMMARY_SCHEMA: &str = "fairway.summary/1";

/// A distribution, as written to `summary.json`. Fields are `null` when there is no sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

impl Dist {
    /// The Kaplan–Meier estimate of a distribution from `(value, observed)` pairs, where an
    /// unobserved value is censored: it is known only to exceed the value given (a job still
    /// waiting when the run ended). A quantile is the smallest observed value at which the
    /// estimated distribution reaches its level (`None` when censoring leaves it unreached); the
    /// mean is restricted to the largest value, observed or not, and so is a lower bound when
    /// that one is censored; `max` is the largest value, observed or not; `count` counts both.
    pub fn kaplan_meier(mut v: Vec<(f64, bool)>) -> Dist {
        if v.is_empty() {
            return Dist::default();
        }
        // Observed before censored at equal values: a job censored at t was still at risk at t.
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let n = v.len();
        let mut survival = 1.0f64;
        let (mut area, mut last) = (0.0f64, 0.0f64);
        let levels = [0.5, 0.9, 0.95, 0.99];
        let mut quantiles: [Option<f64>; 4] = [None; 4];
        let mut i = 0;
        while i < n {
            let t = v[i].0;
            area += survival * (t - last).max(0.0);
            last = t;
            let at_risk = n - i;
            let mut events = 0;
            while i < n && v[i].0 == t {
                events += usize::from(v[i].1);
                i += 1;
            }
            if events > 0 {
                survival *= 1.0 - events as f64 / at_risk as f64;
                for (q, level) in quantiles.iter_mut().zip(levels) {
                    // A small tolerance: (1 - S) is a product of fractions, 0.5 may read 0.4999...
                    if q.is_none() && 1.0 - survival >= level - 1e-12 {
                        *q = Some(round(t));
                    }
                }
            }
        }
        Dist {
            count: n,
            mean: Some(round(area)),
            p50: quantiles[0],
            p90: quantiles[1],
            p95: quantiles[2],
            p99: quantiles[3],
            max: Some(round(last)),
        }
    }
}

/// Rounds a ratio to six decimals, so that summaries print stably.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Rounds to the millisecond (times are integer milliseconds; interpolation adds digits only).
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Jobs by final state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    #[serde(flatten)]
    pub counts: Counts,
    /// GPU-hours allocated to the team's pods.
    pub gpu_hours: f64,
    /// The team's share of all allocated GPU-hours (0..1).
    pub gpu_share: f64,
    pub preemptions: u64,
    pub wait_s: Dist,
    /// The wait distribution with jobs still waiting at the end (or that gave up) counted as
    /// censored at their time waited so far: the Kaplan–Meier estimate.
    #[serde(default)]
    pub wait_s_km: Dist,
    pub jct_s: Dist,
    /// Total time pending per job (including after preemptions), over jobs that started.
    #[serde(default)]
    pub pending_s: Dist,
    #[serde(default)]
    pub slowdown: Dist,
    #[serde(default)]
    pub bounded_slowdown: Dist,
    /// The queue most of the team's jobs went to.
    #[serde(default)]
    pub queue: Option<String>,
    /// Every queue the team's jobs went to, when they went to more than one (its entitlement
    /// is then the sum of its shares of each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
    /// The share of GPU time the team is entitled to (see the module notes).
    #[serde(default)]
    pub entitlement: f64,
    /// `gpu_share / entitlement` (`null` without an entitlement).
    #[serde(default)]
    pub share_ratio: Option<f64>,
    /// The team's share of the GPU time all jobs asked for (GPUs x run time at the reference
    /// speed), 0..1: a team whose share of demand is below its entitlement asked for less than
    /// its share, so a low `share_ratio` says nothing against the policy.
    #[serde(default)]
    pub demand_share: f64,
    /// Used over allocated GPU time of the team's jobs with a `gpu_util`.
    #[serde(default)]
    pub gpu_utilisation: Option<f64>,
    /// Of the time jobs spent pending: waiting for quota (or for the policy) vs. admitted by a
    /// quota system and waiting for nodes. Seconds summed over jobs.
    pub quota_wait_s: f64,
    pub node_wait_s: f64,
    /// Pending time by the policy's reason (Kueue's words for the kueue policy), job-seconds.
    pub pending_s_by_reason: BTreeMap<String, f64>,
}

/// The contents of `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: String,
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
    /// Wait (first start - submit) of the jobs that started.
    pub wait_s: Dist,
    /// Jobs still pending when the run ended.
    #[serde(default)]
    pub jobs_pending_at_end: usize,
    /// The wait distribution counting every job that waited: those still pending at the end and
    /// those that gave up are censored at their time waited so far (Kaplan–Meier; see
    /// [`Dist::kaplan_meier`]). Equal in spirit to `wait_s` when every job started.
    #[serde(default)]
    pub wait_s_km: Dist,
    pub jct_s: Dist,
    #[serde(default)]
    pub pending_s: Dist,
    #[serde(default)]
    pub slowdown: Dist,
    #[serde(default)]
    pub bounded_slowdown: Dist,
    /// Used GPU-seconds over capacity x span (`null` when no job has a `gpu_util`).
    #[serde(default)]
    pub gpu_utilisation_rate: Option<f64>,
    /// Share of allocated GPU time from jobs with a `gpu_util`.
    #[serde(default)]
    pub gpu_util_coverage: Option<f64>,
    /// Allocation per pool with GPUs.
    #[serde(default)]
    pub per_pool: BTreeMap<String, PoolSummary>,
    #[serde(default)]
    pub fairness: Fairness,
    /// The policy's queues, with quotas and entitlements.
    #[serde(default)]
    pub queues: Vec<fairway_engine::QueueInfo>,
    /// Per-team right-sizing advice (`null` when no job has a `gpu_util`).
    #[serde(default)]
    pub right_sizing: Option<RightSizing>,
    /// Wait by job kind (`batch`, `interactive`): interactive start latency apart.
    pub wait_s_by_kind: BTreeMap<String, Dist>,
    pub interactive_jobs: usize,
    /// The scenario's time-to-start target for interactive jobs, seconds.
    pub interactive_target_s: Option<f64>,
    /// Share of interactive jobs that started within the target (of all interactive jobs:
    /// one that never started missed it). `null` without a target or interactive jobs.
    pub interactive_within_target: Option<f64>,
    pub per_team: BTreeMap<String, TeamSummary>,
    /// Per queue, when teams and queues are not one to one (a team across several queues, or
    /// a queue shared by teams): its teams, its share of GPU time and its entitlement.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_queue: BTreeMap<String, QueueShare>,
    /// Preemptions by the policy's reason.
    pub preemptions_by_reason: BTreeMap<String, u64>,
    /// The policy's own figures (e.g. runtime-estimate accuracy for backfill).
    pub policy_stats: BTreeMap<String, f64>,
    /// Engine work, for throughput: events applied and scheduling passes.
    pub events: u64,
    pub passes: u64,
}

/// `summary.json` could not be read as a run summary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a run summary: {source}")]
    Parse {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{file}: not a run summary ({SUMMARY_SCHEMA}): its schema is '{found}'")]
    Schema { file: String, found: String },
}

impl RunSummary {
    /// Whether some job's wait is censored (still pending at the end, or gave up before it
    /// started), so that `wait_s` leaves jobs out and `wait_s_km` should be read beside it.
    pub fn has_censored_waits(&self) -> bool {
        self.jobs_pending_at_end > 0 || self.counts.jobs_abandoned > 0
    }

    /// The `summary.json` of a run's output folder.
    pub fn read(dir: &std::path::Path) -> Result<RunSummary, SummaryError> {
        let path = dir.join("summary.json");
        let file = path.display().to_string();
        let text =
            fairway_engine::input::read_text(&path, fairway_engine::input::TEXT_CAP).map_err(|source| {
                SummaryError::Io {
                    file: file.clone(),
                    source,
                }
            })?;
        let s: RunSummary = serde_json::from_str(&text).map_err(|source| SummaryError::Parse {
            file: file.clone(),
            source,
        })?;
        if s.schema != SUMMARY_SCHEMA {
            return Err(SummaryError::Schema {
                file,
                found: s.schema,
            });
        }
        Ok(s)
    }
}

/// One pool's allocation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolSummary {
    pub model: Option<String>,
    pub capacity_gpus: f64,
    pub gpu_allocation_rate: f64,
}

/// One queue's GPU time against its entitlement, with the teams whose jobs it served.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueShare {
    pub teams: Vec<String>,
    /// The queue's jobs' share of all allocated GPU time.
    pub gpu_share: f64,
    pub entitlement: f64,
    /// `gpu_share / entitlement` (`null` without an entitlement).
    pub share_ratio: Option<f64>,
}

/// How evenly GPU time went against entitlements (see the module notes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    /// `nominal quota`, `weights` or `equal`.
    pub basis: String,
    pub jain_index: Option<f64>,
    pub worst_served_team: Option<String>,
    pub worst_share_ratio: Option<f64>,
    /// Largest minus smallest team p95 wait, seconds.
    pub wait_p95_spread_s: Option<f64>,
}

/// The percentile of per-job GPU use a right-sizing recommendation covers.
pub const RIGHT_SIZE_PERCENTILE: f64 = 90.0;

/// Right-sizing advice for a group of jobs (a team or a user).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RightSize {
    /// Jobs that ran and have a `gpu_util`.
    pub jobs: usize,
    /// Median GPUs asked per job.
    pub requested_gpus_p50: f64,
    /// Median and 90th percentile of GPUs used per job.
    pub used_gpus_p50: f64,
    pub used_gpus_p90: f64,
    pub recommended_gpus: f64,
    pub requested_gpu_hours: f64,
    pub used_gpu_hours: f64,
    pub freed_gpu_hours: f64,
}

/// Right-sizing advice per team.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RightSizing {
    pub percentile: f64,
    pub freed_gpu_hours: f64,
    pub per_team: BTreeMap<String, RightSize>,
}

/// One job's evidence for right-sizing: GPUs asked, utilisation, hours running.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UseSample {
    pub gpus: f64,
    pub util: f64,
    pub run_h: f64,
}

/// The advice for one group's jobs (`None` when none has evidence).
pub fn right_size(samples: &[UseSample]) -> Option<RightSize> {
    let ok: Vec<&UseSample> = (samples.iter())
        .filter(|s| s.gpus > 0.0 && s.run_h > 0.0 && s.util.is_finite())
        .collect();
    if ok.is_empty() {
        return None;
    }
    let used_of = |s: &UseSample| s.gpus * s.util.clamp(0.0, 1.0);
    let mut asked: Vec<f64> = ok.iter().map(|s| s.gpus).collect();
    let mut used: Vec<f64> = ok.iter().map(|s| used_of(s)).collect();
    asked.sort_by(f64::total_cmp);
    used.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| quantile_sorted(v, p / 100.0).unwrap_or(0.0);
    let p90 = q(&used, RIGHT_SIZE_PERCENTILE);
    // Whole GPUs, unless the group asks for shares of one: then tenths of a GPU.
    let unit = if q(&asked, 50.0) >= 1.0 { 1.0 } else { 0.1 };
    // A little float noise above a step must not round up a further step.
    let up = |x: f64| ((x / unit - 1e-9).ceil() * unit).max(unit);
    let recommended = round(up(p90));
    let mut freed = 0.0;
    for s in &ok {
        let keep = recommended.max(up(used_of(s)));
        freed += (s.gpus - keep).max(0.0) * s.run_h;
    }
    Some(RightSize {
        jobs: ok.len(),
        requested_gpus_p50: round(q(&asked, 50.0)),
        used_gpus_p50: round(q(&used, 50.0)),
        used_gpus_p90: round(p90),
        recommended_gpus: recommended,
        requested_gpu_hours: round(ok.iter().map(|s| s.gpus * s.run_h).sum()),
        used_gpu_hours: round(ok.iter().map(|s| used_of(s) * s.run_h).sum()),
        freed_gpu_hours: round(freed),
    })
}

/// Jain's fairness index of `x`: (sum x)^2 / (n sum x^2); `None` for no values or all zero.
pub fn jain_index(x: &[f64]) -> Option<f64> {
    let sum: f64 = x.iter().sum();
    let sq: f64 = x.iter().map(|v| v * v).sum();
    (!x.is_empty() && sq > 0.0).then(|| sum * sum / (x.len() as f64 * sq))
}

/// The floor of bounded slowdown's denominator, seconds: jobs shorter than this count as this
/// long, so that a 1-second job that waited a minute does not dominate the mean.
pub const BOUNDED_SLOWDOWN_FLOOR_S: f64 = 10.0;

/// Slowdown of a finished job: JCT over time running (`None` if it never ran).
pub fn slowdown(jct_ms: u64, run_ms: u64) -> Option<f64> {
    (run_ms > 0).then(|| jct_ms as f64 / run_ms as f64)
}

/// Bounded slowdown: max(1, JCT / max(time running, 10 s)).
pub fn bounded_slowdown(jct_ms: u64, run_ms: u64) -> f64 {
    let run = (run_ms as f64 / 1000.0).max(BOUNDED_SLOWDOWN_FLOOR_S);
    (jct_ms as f64 / 1000.0 / run).max(1.0)
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

/// Wait before the first start, seconds.
fn wait_s(r: &JobRun, j: &JobSpec) -> Option<f64> {
    r.first_start().map(|s| s.since(j.submit).as_secs_f64())
}

/// A job's wait for the Kaplan–Meier estimate: observed when it started, censored at its time
/// pending when it was still waiting at the end or gave up; none for a job that could never run.
fn wait_km(r: &JobRun, j: &JobSpec) -> Option<(f64, bool)> {
    match (wait_s(r, j), r.status) {
        (Some(w), _) => Some((w, true)),
        (None, JobStatus::Pending | JobStatus::Abandoned) => Some((r.pending_ms as f64 / 1000.0, false)),
        _ => None,
    }
}

/// Time pending (including after preemptions), seconds, of a job that started.
fn pending_s(r: &JobRun, _: &JobSpec) -> Option<f64> {
    r.first_start().map(|_| r.pending_ms as f64 / 1000.0)
}

/// Job completion time of a finished job, ms.
fn jct_ms(r: &JobRun, j: &JobSpec) -> Option<u64> {
    (r.status == JobStatus::Finished)
        .then(|| r.end())
        .flatten()
        .map(|e| e.since(j.submit).millis())
}

fn jct_s(r: &JobRun, j: &JobSpec) -> Option<f64> {
    jct_ms(r, j).map(|ms| ms as f64 / 1000.0)
}

/// The distribution of `metric` over all jobs and over each of `groups` groups (`group` of a
/// job), values in job order. Only one metric's values are held at a time.
fn dists(
    w: &Workload,
    o: &Outcome,
    groups: usize,
    group: impl Fn(&JobRun, &JobSpec) -> usize,
    metric: impl Fn(&JobRun, &JobSpec) -> Option<f64>,
) -> (Dist, Vec<Dist>) {
    dists_with(w, o, groups, group, metric, Dist::of)
}

/// [`dists`] of any per-job sample, with `estimate` making a distribution of a group's samples
/// (a wait observed or censored, through [`Dist::kaplan_meier`]).
fn dists_with<T>(
    w: &Workload,
    o: &Outcome,
    groups: usize,
    group: impl Fn(&JobRun, &JobSpec) -> usize,
    sample: impl Fn(&JobRun, &JobSpec) -> Option<T>,
    estimate: fn(Vec<T>) -> Dist,
) -> (Dist, Vec<Dist>) {
    let jobs = || o.jobs.iter().zip(&w.jobs);
    let mut per: Vec<Vec<T>> = (0..groups).map(|_| Vec::new()).collect();
    for (r, j) in jobs() {
        if let Some(x) = sample(r, j) {
            per[group(r, j)].push(x);
        }
    }
    let per: Vec<Dist> = per.into_iter().map(estimate).collect();
    let all = estimate(jobs().filter_map(|(r, j)| sample(r, j)).collect());
    (all, per)
}

/// Computes every headline metric.
pub fn summarize(w: &Workload, o: &Outcome, info: &RunInfo) -> RunSummary {
    let mut counts = Counts::default();
    let teams = w.teams.len();
    let mut team_counts = vec![Counts::default(); teams];
    let mut team_preempt = vec![0u64; teams];
    let mut team_pending_ms = vec![0u64; teams];
    let mut team_node_ms = vec![0u64; teams];
    // GPU-milli x milliseconds asked for, per team (f64: the product of two large counts).
    let mut team_demand = vec![0f64; teams];
    let mut last_finish = None;
    let (mut interactive, mut on_time) = (0usize, 0usize);
    let mut team_use: Vec<Vec<UseSample>> = vec![Vec::new(); teams];
    let nq = o.queues.queues.len();
    // Jobs per (team, queue): sparse, since with one queue per team a dense table would be
    // teams x teams.
    let mut team_queue_jobs: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    // GPU time of each queue's jobs (milli-GPU x ms), over all their runs.
    let mut queue_gpu = vec![0u128; nq];
    for (i, (r, j)) in o.jobs.iter().zip(&w.jobs).enumerate() {
        let t = j.team.index();
        if let Some(&q) = o.queues.job_queue.get(i)
            && (q as usize) < nq
        {
            *team_queue_jobs.entry((t, q as usize)).or_default() += 1;
            queue_gpu[q as usize] += u128::from(j.gpu_milli()) * u128::from(r.run_ms);
        }
        if let Some(u) = j.gpu_util
            && r.run_ms > 0
        {
            team_use[t].push(UseSample {
                gpus: j.gpu_milli() as f64 / 1000.0,
                util: f64::from(u),
                run_h: r.run_ms as f64 / MS_PER_HOUR,
            });
        }
        if j.kind == fairway_engine::JobKind::Interactive {
            interactive += 1;
            if let (Some(s), Some(t)) = (r.first_start(), info.interactive_target_s)
                && s.since(j.submit).as_secs_f64() <= t
            {
                on_time += 1;
            }
        }
        count(&mut counts, r.status);
        count(&mut team_counts[t], r.status);
        // An open-ended job's run time is unknown: it demanded what it ran.
        let work = if j.open_ended { r.run_ms } else { j.work.millis() };
        team_demand[t] += j.gpu_milli() as f64 * work as f64;
        team_preempt[t] += u64::from(r.preemptions);
        team_pending_ms[t] += r.pending_ms;
        team_node_ms[t] += r.admitted_wait_ms;
        if r.status == JobStatus::Finished {
            last_finish = last_finish.max(r.end());
        }
    }
    // The distributions, one metric at a time: a run of millions of jobs then holds one value
    // per job at once (plus the sorted copy), not one per metric and team.
    let team_of = |_: &JobRun, j: &JobSpec| j.team.index();
    let (waits, mut team_waits) = dists(w, o, teams, team_of, wait_s);
    let jobs_pending_at_end = o.jobs.iter().filter(|r| r.status == JobStatus::Pending).count();
    let (waits_km, mut team_waits_km) = dists_with(w, o, teams, team_of, wait_km, Dist::kaplan_meier);
    let (jcts, mut team_jcts) = dists(w, o, teams, team_of, jct_s);
    let (pendings, mut team_pendings) = dists(w, o, teams, team_of, pending_s);
    let (slows, mut team_slows) = dists(w, o, teams, team_of, |r, j| {
        jct_ms(r, j).and_then(|jct| slowdown(jct, r.run_ms))
    });
    let (bslows, mut team_bslows) = dists(w, o, teams, team_of, |r, j| {
        jct_ms(r, j).map(|jct| bounded_slowdown(jct, r.run_ms))
    });
    let kinds = [
        fairway_engine::JobKind::Batch,
        fairway_engine::JobKind::Interactive,
    ];
    let (_, kind_waits) = dists(w, o, kinds.len(), |_, j| j.kind as usize, wait_s);
    let kind_waits: BTreeMap<String, Dist> = (kinds.iter().zip(kind_waits))
        .filter(|(_, d)| d.count > 0)
        .map(|(k, d)| (k.as_str().to_string(), d))
        .collect();
    let span_ms = o.end.since(o.start).millis();
    let total_gpu_ms = o.total.gpu_milli_ms as f64 / 1000.0;
    let capacity = o.capacity_gpu_milli as f64 / 1000.0;
    // A team's queue is the one most of its jobs went to. Each queue's entitlement is split
    // evenly among the teams whose jobs it served, and a team is entitled to the sum of its
    // splits (a team whose CPU and GPU pods go to different queues has both).
    let mut team_queue: Vec<Option<usize>> = vec![None; teams];
    let mut best = vec![0u32; teams];
    // In (team, queue) order, so the lowest queue wins a tie.
    for (&(t, q), &n) in &team_queue_jobs {
        if n > best[t] {
            best[t] = n;
            team_queue[t] = Some(q);
        }
    }
    // Both ways round, in one pass: the queues of each team, the teams of each queue.
    let mut team_queues: Vec<Vec<usize>> = vec![Vec::new(); teams];
    let mut queue_teams: Vec<Vec<usize>> = vec![Vec::new(); nq];
    for &(t, q) in team_queue_jobs.keys() {
        team_queues[t].push(q);
        queue_teams[q].push(t);
    }
    let total_demand: f64 = team_demand.iter().sum();
    let entitlement = |t: usize| -> f64 {
        (team_queues[t].iter())
            .map(|&q| o.queues.queues[q].entitlement / queue_teams[q].len() as f64)
            .sum()
    };
    let one_to_one = team_queues.iter().all(|qs| qs.len() <= 1) && queue_teams.iter().all(|ts| ts.len() <= 1);
    let per_queue: BTreeMap<String, QueueShare> = if one_to_one {
        BTreeMap::new()
    } else {
        (0..nq)
            .filter(|&q| !queue_teams[q].is_empty())
            .map(|q| {
                let info = &o.queues.queues[q];
                let share = if o.total.gpu_milli_ms > 0 {
                    queue_gpu[q] as f64 / o.total.gpu_milli_ms as f64
                } else {
                    0.0
                };
                let teams: Vec<String> = queue_teams[q].iter().map(|&t| w.teams[t].clone()).collect();
                (
                    info.name.clone(),
                    QueueShare {
                        teams,
                        gpu_share: round6(share),
                        entitlement: round6(info.entitlement),
                        share_ratio: (info.entitlement > 0.0).then(|| round6(share / info.entitlement)),
                    },
                )
            })
            .collect()
    };
    let per_team: BTreeMap<String, TeamSummary> = (0..teams)
        .map(|t| {
            let gpu_ms = o.teams[t].gpu_milli_ms as f64 / 1000.0;
            let share = if total_gpu_ms > 0.0 {
                gpu_ms / total_gpu_ms
            } else {
                0.0
            };
            let ent = entitlement(t);
            let u = &o.teams[t];
            (
                w.teams[t].clone(),
                TeamSummary {
                    counts: team_counts[t].clone(),
                    gpu_hours: gpu_ms / MS_PER_HOUR,
                    gpu_share: share,
                    preemptions: team_preempt[t],
                    wait_s: std::mem::take(&mut team_waits[t]),
                    wait_s_km: std::mem::take(&mut team_waits_km[t]),
                    jct_s: std::mem::take(&mut team_jcts[t]),
                    pending_s: std::mem::take(&mut team_pendings[t]),
                    slowdown: std::mem::take(&mut team_slows[t]),
                    bounded_slowdown: std::mem::take(&mut team_bslows[t]),
                    queue: team_queue[t].map(|q| o.queues.queues[q].name.clone()),
                    queues: if team_queues[t].len() > 1 {
                        (team_queues[t].iter())
                            .map(|&q| o.queues.queues[q].name.clone())
                            .collect()
                    } else {
                        Vec::new()
                    },
                    entitlement: round6(ent),
                    share_ratio: (ent > 0.0).then(|| round6(share / ent)),
                    demand_share: if total_demand > 0.0 {
                        round6(team_demand[t] / total_demand)
                    } else {
                        0.0
                    },
                    gpu_utilisation: (u.measured_gpu_milli_ms > 0)
                        .then(|| round6(u.used_gpu_milli_ms as f64 / u.measured_gpu_milli_ms as f64)),
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
    let ratios: Vec<(&String, f64)> = (per_team.iter())
        .filter_map(|(n, t)| t.share_ratio.map(|r| (n, r)))
        .collect();
    // Only a team that asked for at least its entitlement can have been held below it, and only
    // one that got less than it was.
    let worst = (ratios.iter())
        .filter(|(n, r)| *r < 1.0 && per_team[*n].demand_share >= per_team[*n].entitlement)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let p95s: Vec<f64> = per_team.values().filter_map(|t| t.wait_s.p95).collect();
    let fairness = Fairness {
        basis: o.queues.basis.clone(),
        jain_index: jain_index(&ratios.iter().map(|r| r.1).collect::<Vec<_>>()).map(round6),
        worst_served_team: worst.map(|w| w.0.clone()),
        worst_share_ratio: worst.map(|w| w.1),
        wait_p95_spread_s: (!p95s.is_empty()).then(|| {
            let max = p95s.iter().copied().fold(f64::MIN, f64::max);
            let min = p95s.iter().copied().fold(f64::MAX, f64::min);
            round(max - min)
        }),
    };
    let advice: BTreeMap<String, RightSize> = (0..teams)
        .filter_map(|t| right_size(&team_use[t]).map(|r| (w.teams[t].clone(), r)))
        .collect();
    let right_sizing = (!advice.is_empty()).then(|| RightSizing {
        percentile: RIGHT_SIZE_PERCENTILE,
        freed_gpu_hours: round(advice.values().map(|r| r.freed_gpu_hours).sum()),
        per_team: advice,
    });
    let cap_ms = capacity * span_ms as f64;
    RunSummary {
        pending_s: pendings,
        slowdown: slows,
        bounded_slowdown: bslows,
        gpu_utilisation_rate: (o.total.measured_gpu_milli_ms > 0 && cap_ms > 0.0)
            .then(|| round6(o.total.used_gpu_milli_ms as f64 / 1000.0 / cap_ms)),
        gpu_util_coverage: (o.total.measured_gpu_milli_ms > 0 && o.total.gpu_milli_ms > 0)
            .then(|| round6(o.total.measured_gpu_milli_ms as f64 / o.total.gpu_milli_ms as f64)),
        per_pool: (o.pools.iter())
            .filter(|p| p.capacity_gpu_milli > 0)
            .map(|p| {
                let cap = p.capacity_gpu_milli as f64 * span_ms as f64;
                (
                    p.name.clone(),
                    PoolSummary {
                        model: p.model.clone(),
                        capacity_gpus: p.capacity_gpu_milli as f64 / 1000.0,
                        gpu_allocation_rate: if cap > 0.0 {
                            round6(p.gpu_milli_ms as f64 / cap)
                        } else {
                            0.0
                        },
                    },
                )
            })
            .collect(),
        fairness,
        queues: (o.queues.queues.iter())
            .map(|q| fairway_engine::QueueInfo {
                entitlement: round6(q.entitlement),
                ..q.clone()
            })
            .collect(),
        right_sizing,
        schema: SUMMARY_SCHEMA.to_string(),
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
        wait_s_by_kind: kind_waits,
        interactive_jobs: interactive,
        interactive_target_s: info.interactive_target_s,
        interactive_within_target: info
            .interactive_target_s
            .filter(|_| interactive > 0)
            .map(|_| round(on_time as f64 / interactive as f64)),
        wait_s: waits,
        jobs_pending_at_end,
        wait_s_km: waits_km,
        jct_s: jcts,
        per_team,
        per_queue,
        preemptions_by_reason: o.preemption_log.iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(o.reasons[p.reason as usize].clone()).or_insert(0) += 1;
            m
        }),
        policy_stats: o.policy_stats.iter().cloned().collect(),
        events: o.counters.events,
        passes: o.counters.passes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index_by_hand() {
        assert_eq!(jain_index(&[1.0, 1.0, 1.0]), Some(1.0));
        // One of two gets everything: 1/n.
        assert_eq!(jain_index(&[2.0, 0.0]), Some(0.5));
        // (1 + 3)^2 / (2 (1 + 9)) = 0.8.
        assert_eq!(jain_index(&[1.0, 3.0]), Some(0.8));
        assert_eq!(jain_index(&[]), None);
    }

    #[test]
    fn right_sizing_by_hand() {
        let s = |gpus, util, run_h| UseSample { gpus, util, run_h };
        // Ten 1-hour jobs asked for 8 GPUs; nine used 3 (8 x 0.375), one 3.5. Sorted, the p90
        // rank is 0.9 x 9 = 8.1: 3 + 0.1 x 0.5 = 3.05, rounded up to 4 GPUs. Each job could
        // have given back 4 GPUs for its hour: 40 GPU-hours.
        let mut jobs = vec![s(8.0, 0.375, 1.0); 9];
        jobs.push(s(8.0, 3.5 / 8.0, 1.0));
        let r = right_size(&jobs).unwrap();
        assert_eq!(
            (r.requested_gpus_p50, r.used_gpus_p50, r.used_gpus_p90),
            (8.0, 3.0, 3.05)
        );
        assert_eq!(r.recommended_gpus, 4.0);
        assert_eq!(r.freed_gpu_hours, 40.0);
        assert_eq!(r.requested_gpu_hours, 80.0);
        // Shares of a GPU are advised in tenths: asked 0.5, used 0.075 -> 0.1.
        let r = right_size(&[s(0.5, 0.15, 2.0)]).unwrap();
        assert_eq!(r.recommended_gpus, 0.1);
        assert_eq!(r.freed_gpu_hours, 0.8);
        // No evidence, no advice.
        assert_eq!(right_size(&[s(4.0, 0.5, 0.0)]), None);
    }

    #[test]
    fn bounded_slowdown_floors_short_runs() {
        // A 1 s job that waited 59 s: slowdown 60, bounded 60 / 10 = 6.
        assert_eq!(slowdown(60_000, 1_000), Some(60.0));
        assert_eq!(bounded_slowdown(60_000, 1_000), 6.0);
        assert_eq!(bounded_slowdown(5_000, 5_000), 1.0);
    }

    /// Waits 10, 20 and 30 s, and one job still waiting after 25 s. At risk: 4 at 10 (S = 3/4),
    /// 3 at 20 (S = 1/2), the censored job leaves at 25, 1 at 30 (S = 0). p50 = 20, p90 = 30;
    /// mean = 10 x 1 + 10 x 3/4 + 10 x 1/2 = 22.5; max 30.
    #[test]
    fn kaplan_meier_counts_a_censored_wait_as_at_least_its_time() {
        let d = Dist::kaplan_meier(vec![(20.0, true), (25.0, false), (10.0, true), (30.0, true)]);
        assert_eq!(
            d,
            Dist {
                count: 4,
                mean: Some(22.5),
                p50: Some(20.0),
                p90: Some(30.0),
                p95: Some(30.0),
                p99: Some(30.0),
                max: Some(30.0),
            }
        );
        // Half the jobs never started: the median is reached, p90 is not.
        let d = Dist::kaplan_meier(vec![(5.0, true), (50.0, false)]);
        assert_eq!(
            (d.p50, d.p90, d.mean, d.max),
            (Some(5.0), None, Some(27.5), Some(50.0))
        );
        assert_eq!(Dist::kaplan_meier(Vec::new()), Dist::default());
    }

    /// Without censoring, the estimate is the sample's own distribution: its mean, and as
    /// quantiles the smallest values with at least that share of the sample at or below them.
    #[test]
    fn kaplan_meier_without_censoring_is_the_sample() {
        let mut rng = 12345u64;
        for n in 1..60usize {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    rng = rng
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((rng >> 40) % 50) as f64
                })
                .collect();
            let d = Dist::kaplan_meier(v.iter().map(|&x| (x, true)).collect());
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let mean = sorted.iter().sum::<f64>() / n as f64;
            assert!((d.mean.unwrap() - mean).abs() < 1e-3, "{n}: {d:?} vs {mean}");
            for (q, level) in [(d.p50, 0.5), (d.p90, 0.9), (d.p99, 0.99)] {
                let k = ((level * n as f64) - 1e-9).ceil() as usize;
                assert_eq!(q, Some(sorted[k.max(1) - 1]), "{n} at {level}");
            }
            assert_eq!(d.max, sorted.last().copied());
        }
    }
}
