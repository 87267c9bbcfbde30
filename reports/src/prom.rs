//! `metrics.prom`: the run as OpenMetrics text under Kueue's metric names and labels, stamped
//! with simulated timestamps, for backfilling into Prometheus or Mimir
//! (`promtool tsdb create-blocks-from openmetrics metrics.prom DATA_DIR`) and viewing on the
//! dashboards people already have for Kueue.
//!
//! Simulated time 0 (the first submission) is [`EPOCH_S`] (2026-01-01T00:00:00Z). Samples are
//! taken every [`step_s`] seconds, never more than [`MAX_STEP_S`] (30 minutes) apart, so that
//! `rate(...[1h])` and `histogram_quantile` over it always have two samples: gauges read the
//! exact step function at each instant, counters and histograms count what happened up to it.
//! A counter or histogram series starts at the sample before its first event (reading 0), as
//! Kueue creates a series at its first event. Queues are the policy's (Kueue's ClusterQueues;
//! one per team otherwise), and a team's levels count towards the queue most of its jobs went
//! to. GPU usage is summed over flavors (`flavor="all"`) under the resource `nvidia.com/gpu`;
//! reservation is the same figure (fairway reserves quota for a workload when it admits it, and
//! counts the GPUs of its running pods), and every queue's status is `active`. Admission wait,
//! and quota-reservation wait with it, is first submission to first admission (first start for
//! policies without a quota step); requeues after preemption are not observed again. A label
//! whose value is empty (a job without priority class, a queue outside a cohort) is left out,
//! which Prometheus reads the same.
//!
//! The file grows with queues x samples (about 2 MB per queue and year of simulated time, more
//! with several priority classes), so at most
//! [`DEFAULT_QUEUES`] queues (or as many as asked) are written by name: those with the most
//! allocated GPU-hours (summed over the teams whose queue it is; name order among equals). The
//! rest are summed into one queue, `cluster_queue="others"` (`_others` if a queue has that name,
//! and so on): its gauges of workloads and usage and its counters are the sums over those queues
//! at each instant, its histogram holds all their admissions, its quota gauges are the sums of
//! their quotas (+Inf if any is unlimited; none if none has a quota), its cohort is the one they
//! share (empty if they do not), and it has no `kueue_cluster_queue_weighted_share` (a share of
//! one queue; a sum of them means nothing). [`QueueBound::note`] says so in words.

use crate::frame::Text;
use crate::metrics::RunSummary;
use crate::render::RunData;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// Simulated time 0 on the Prometheus clock, Unix seconds (2026-01-01T00:00:00Z).
pub const EPOCH_S: u64 = 1_767_225_600;
/// About this many sample instants at most, unless that would put them more than
/// [`MAX_STEP_S`] apart.
pub const MAX_SAMPLES: u64 = 500;
/// Samples are never further apart than this, so that `rate(...[1h])` finds two in any window.
pub const MAX_STEP_S: u64 = 1800;
const RESOURCE: &str = "nvidia.com/gpu";
const ROLE: &str = "standalone";

/// Kueue's `admission_wait_time_seconds` buckets: 1, then 2.5 doubling, 16 in all.
pub fn admission_buckets() -> Vec<f64> {
    std::iter::once(1.0)
        .chain((0..15).map(|k| 2.5 * f64::from(1u32 << k)))
        .collect()
}

/// The sampling step for a run of `span_s` seconds: one minute, or longer for long runs so
/// that there are at most [`MAX_SAMPLES`] samples, but never more than [`MAX_STEP_S`]; always
/// whole minutes.
pub fn step_s(span_s: f64) -> u64 {
    let minutes = (span_s.max(0.0) / MAX_SAMPLES as f64 / 60.0).ceil() as u64;
    (60 * minutes.max(1)).min(MAX_STEP_S)
}

/// The first sample instant (an index into `times`) a series whose first event is at `first`
/// is written from: the last instant before it, where it reads 0, so that `rate()` sees the
/// first event; a series appears at its first event, as Kueue creates it then.
fn first_sample(times: &[u64], first: u64) -> usize {
    times.partition_point(|&t| t < first).saturating_sub(1)
}

/// `{name="value",...}`; a label with an empty value is left out, which Prometheus reads the
/// same (it keeps the file small: it is written at every sample).
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (n, v) in pairs.iter().filter(|p| !p.1.is_empty()) {
        if s.len() > 1 {
            s.push(',');
        }
        s.push_str(n);
        s.push_str("=\"");
        s.push_str(&crate::escape::label_value(v));
        s.push('"');
    }
    s.push('}');
    s
}

fn value(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "+Inf".into()
    } else if x == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{x}")
    }
}

/// The sample instants of a run of `span_s` seconds: seconds since the first submission, every
/// [`step_s`], through the end.
pub fn sample_times(span_s: f64) -> Vec<u64> {
    let step = step_s(span_s);
    let end = span_s.max(0.0).ceil() as u64;
    (0..=end.div_ceil(step)).map(|k| k * step).collect()
}

/// Queues written by name in `metrics.prom` unless asked otherwise.
pub const DEFAULT_QUEUES: usize = 100;

/// Which queues `metrics.prom` writes by name, and which it sums into one (see the module
/// documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueBound {
    /// Queues written by name.
    pub kept: BTreeSet<String>,
    /// How many queues are summed into [`QueueBound::label`] (0: none).
    pub summed: usize,
    /// The `cluster_queue` label value of the sum.
    pub label: String,
}

impl QueueBound {
    /// The queues of `s` (its policy's, and every team's) that `metrics.prom` keeps with at most
    /// `limit` by name (`None`: all).
    pub fn of(s: &RunSummary, limit: Option<usize>) -> QueueBound {
        let mut hours: BTreeMap<&str, f64> = s.queues.iter().map(|q| (q.name.as_str(), 0.0)).collect();
        for t in s.per_team.values() {
            if let Some(q) = &t.queue {
                *hours.entry(q).or_default() += t.gpu_hours;
            }
        }
        let mut label = String::from("others");
        while hours.contains_key(label.as_str()) {
            label.insert(0, '_');
        }
        let mut order: Vec<(&str, f64)> = hours.into_iter().collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let keep = limit.unwrap_or(usize::MAX).min(order.len());
        QueueBound {
            kept: order[..keep].iter().map(|q| q.0.to_string()).collect(),
            summed: order.len() - keep,
            label,
        }
    }

    /// What a reader of `metrics.prom` should know: `None` when every queue has its name.
    pub fn note(&self) -> Option<String> {
        (self.summed > 0).then(|| {
            format!(
                "metrics.prom names {} of {} queues (those with the most allocated GPU-hours) and \
                 sums the other {} as cluster_queue=\"{}\"; --prom-queues N or all changes this",
                self.kept.len(),
                self.kept.len() + self.summed,
                self.summed,
                crate::escape::terminal(&self.label)
            )
        })
    }
}

/// One queue's data for the metrics (borrowed from the run, or summed over queues).
#[derive(Default)]
struct QueueData<'a> {
    cohort: String,
    /// Jobs pending, jobs running, GPUs allocated, GPUs pending at each sample instant; `None`
    /// (all 0) when none of its teams is in the series.
    levels: Option<Cow<'a, [Vec<f64>; 4]>>,
    /// (time, priority class, wait seconds) of first admissions.
    admissions: Cow<'a, [(u64, Text, f64)]>,
    /// (time, priority class) of finishes.
    finishes: Cow<'a, [(u64, Text)]>,
    /// (time, reason, priority class) of evictions (one entry per preemption: names shared).
    evictions: Vec<(u64, &'static str, Text)>,
    /// (time, reason) of preemptions this queue caused.
    preempting: Vec<(u64, Text)>,
}

impl<'a> QueueData<'a> {
    /// Level `k` (see [`QueueData::levels`]) at sample instant `j`.
    fn level(&self, k: usize, j: usize) -> f64 {
        self.levels.as_ref().map_or(0.0, |l| l[k][j])
    }

    /// The sum of `queues` as one queue: levels added at each instant, events merged in time
    /// order (queue order among equal times), the cohort they share or none.
    fn sum(queues: Vec<QueueData<'a>>) -> QueueData<'a> {
        let cohorts: BTreeSet<&str> = queues.iter().map(|q| q.cohort.as_str()).collect();
        let mut out = QueueData {
            cohort: match cohorts.len() {
                1 => cohorts.first().copied().unwrap_or_default().to_string(),
                _ => String::new(),
            },
            ..QueueData::default()
        };
        let mut admissions = Vec::new();
        let mut finishes = Vec::new();
        for q in &queues {
            if let Some(l) = &q.levels {
                match &mut out.levels {
                    None => out.levels = Some(Cow::Owned((**l).clone())),
                    Some(sum) => {
                        for (s, v) in sum.to_mut().iter_mut().zip(l.iter()) {
                            s.iter_mut().zip(v).for_each(|(s, v)| *s += v);
                        }
                    }
                }
            }
            admissions.extend_from_slice(&q.admissions);
            finishes.extend_from_slice(&q.finishes);
        }
        for q in queues {
            out.evictions.extend(q.evictions);
            out.preempting.extend(q.preempting);
        }
        admissions.sort_by_key(|a| a.0);
        finishes.sort_by_key(|a| a.0);
        out.evictions.sort_by_key(|a| a.0);
        out.preempting.sort_by_key(|a| a.0);
        out.admissions = Cow::Owned(admissions);
        out.finishes = Cow::Owned(finishes);
        out
    }
}

/// Quota of a queue (nominal, borrowing limit, lending limit, in GPUs; `None` for unlimited).
type Quotas = (f64, Option<f64>, Option<f64>);

/// Writes `metrics.prom` for `run`, naming at most `limit` queues (`None`: all).
pub fn write(out: &mut dyn Write, run: &RunData, limit: Option<usize>) -> std::io::Result<()> {
    let s = &run.summary;
    let t0 = run.t0_ms();
    let rel = |ms: u64| ms.saturating_sub(t0) / 1000;
    let mut queues: BTreeMap<String, QueueData> = BTreeMap::new();
    for q in &s.queues {
        queues.entry(q.name.clone()).or_default().cohort = q.cohort.clone().unwrap_or_default();
    }
    // A queue's levels are the sums of its teams', folded as the series was read.
    for (q, levels) in &run.series.queue_levels {
        queues.entry(q.clone()).or_default().levels = Some(Cow::Borrowed(levels));
    }
    for (q, jobs) in &run.jobs.queues {
        let qd = queues.entry(q.clone()).or_default();
        qd.admissions = Cow::Borrowed(&jobs.admissions);
        qd.finishes = Cow::Borrowed(&jobs.finishes);
    }
    let job_queue = |k: u32| run.jobs.preempted.get(k as usize).and_then(Option::as_ref);
    for p in &run.preemptions.rows {
        let t = rel(t0 + (p.time_s * 1000.0).round() as u64);
        let failure = &*p.reason == fairway_engine::sim::NODE_FAILURE;
        if let Some((q, class)) = job_queue(p.job) {
            let reason = if failure { "NodeFailures" } else { "Preempted" };
            (queues.get_mut(&**q).expect("queue of a job").evictions).push((t, reason, class.clone()));
        }
        if let Some((q, _)) = p.by.and_then(job_queue) {
            queues
                .get_mut(&**q)
                .expect("queue of a job")
                .preempting
                .push((t, p.reason.clone()));
        }
    }
    for qd in queues.values_mut() {
        qd.evictions.sort_by_key(|a| a.0);
        qd.preempting.sort_by_key(|a| a.0);
    }
    // Queues past the bound become one, written last.
    let bound = QueueBound::of(s, limit);
    let (named, rest): (BTreeMap<_, _>, BTreeMap<_, _>) =
        queues.into_iter().partition(|(q, _)| bound.kept.contains(q));
    let mut queues: Vec<(String, QueueData)> = named.into_iter().collect();
    let mut rest_quota: Option<Quotas> = None;
    if !rest.is_empty() {
        for q in s.queues.iter().filter(|q| rest.contains_key(&q.name)) {
            if let Some(n) = q.nominal_gpus {
                let (sn, sb, sl) = rest_quota.get_or_insert((0.0, Some(0.0), Some(0.0)));
                *sn += n;
                *sb = sb.zip(q.borrowing_limit_gpus).map(|(a, b)| a + b);
                *sl = sl.zip(q.lending_limit_gpus).map(|(a, b)| a + b);
            }
        }
        queues.push((bound.label.clone(), QueueData::sum(rest.into_values().collect())));
    }
    let times = sample_times(s.span_s);
    let ts = |t: u64| EPOCH_S + t;

    let mut w = std::io::BufWriter::new(out);
    // Gauges read from queue step functions: (name, help, level, extra labels).
    type Gauge<'a> = (&'a str, &'a str, usize, &'a [(&'a str, &'a str)]);
    let gauges: [Gauge; 5] = [
        (
            "kueue_pending_workloads",
            "The number of pending workloads, per 'cluster_queue' and 'status'.",
            0,
            &[("status", "active")],
        ),
        (
            "kueue_admitted_active_workloads",
            "The number of admitted Workloads that are active, per 'cluster_queue'.",
            1,
            &[],
        ),
        (
            "kueue_cluster_queue_resource_usage",
            "The cluster_queue's total resource usage within all the flavors.",
            2,
            &[("flavor", "all"), ("resource", RESOURCE)],
        ),
        (
            "kueue_cluster_queue_resource_reservation",
            "The cluster_queue's total resource reservation within all the flavors.",
            2,
            &[("flavor", "all"), ("resource", RESOURCE)],
        ),
        (
            "kueue_cluster_queue_resource_pending",
            "The total requests of pending workloads, per 'cluster_queue' and 'resource'.",
            3,
            &[("resource", RESOURCE)],
        ),
    ];
    for (name, help, level, extra) in gauges {
        writeln!(w, "# TYPE {name} gauge")?;
        writeln!(w, "# HELP {name} {help}")?;
        for (q, qd) in &queues {
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            if extra.iter().any(|e| e.0 == "flavor") {
                pairs.push(("cohort", &qd.cohort));
            }
            pairs.push(("cluster_queue", q));
            pairs.extend_from_slice(extra);
            pairs.push(("replica_role", ROLE));
            let l = labels(&pairs);
            for (j, &t) in times.iter().enumerate() {
                writeln!(w, "{name}{l} {} {}", value(qd.level(level, j)), ts(t))?;
            }
        }
    }
    // Every queue is active through the run (fairway has no ClusterQueue that lacks a flavor or
    // is being deleted).
    let name = "kueue_cluster_queue_status";
    writeln!(w, "# TYPE {name} gauge")?;
    writeln!(
        w,
        "# HELP {name} Reports 'cluster_queue' with its 'status' (with possible values 'pending', 'active' or 'terminating'). For a ClusterQueue, the metric only reports a value of 1 for one of the statuses."
    )?;
    for (q, _) in &queues {
        for (status, v) in [("pending", 0), ("active", 1), ("terminating", 0)] {
            let l = labels(&[("cluster_queue", q), ("status", status), ("replica_role", ROLE)]);
            for &t in &times {
                writeln!(w, "{name}{l} {v} {}", ts(t))?;
            }
        }
    }
    // Quota gauges, constant over the run.
    type Quota<'a> = (&'a str, &'a str, fn(&fairway_engine::QueueInfo) -> Option<f64>);
    let quota: [Quota; 3] = [
        (
            "kueue_cluster_queue_nominal_quota",
            "The nominal quota, per 'cluster_queue', 'flavor' and 'resource' (summed over flavors).",
            |q| q.nominal_gpus,
        ),
        (
            "kueue_cluster_queue_borrowing_limit",
            "The borrowing limit (+Inf when unset), summed over flavors.",
            |q| Some(q.borrowing_limit_gpus.unwrap_or(f64::INFINITY)),
        ),
        (
            "kueue_cluster_queue_lending_limit",
            "The lending limit (+Inf when unset), summed over flavors.",
            |q| Some(q.lending_limit_gpus.unwrap_or(f64::INFINITY)),
        ),
    ];
    let quota_queues: Vec<&fairway_engine::QueueInfo> =
        s.queues.iter().filter(|q| q.nominal_gpus.is_some()).collect();
    if !quota_queues.is_empty() {
        // The summed queues' quotas, as one queue of theirs would state them.
        let rest = rest_quota.map(|(n, b, l)| fairway_engine::QueueInfo {
            name: bound.label.clone(),
            cohort: queues
                .last()
                .map(|q| q.1.cohort.clone())
                .filter(|c| !c.is_empty()),
            nominal_gpus: Some(n),
            borrowing_limit_gpus: b,
            lending_limit_gpus: l,
            weight: 0.0,
            entitlement: 0.0,
            quotas: Vec::new(),
        });
        for (name, help, pick) in quota {
            writeln!(w, "# TYPE {name} gauge")?;
            writeln!(w, "# HELP {name} {help}")?;
            let named = quota_queues
                .iter()
                .copied()
                .filter(|q| bound.kept.contains(&q.name));
            for q in named.chain(rest.as_ref()) {
                let Some(v) = pick(q) else { continue };
                let l = labels(&[
                    ("cohort", q.cohort.as_deref().unwrap_or("")),
                    ("cluster_queue", &q.name),
                    ("flavor", "all"),
                    ("resource", RESOURCE),
                    ("replica_role", ROLE),
                ]);
                for &t in &times {
                    writeln!(w, "{name}{l} {} {}", value(v), ts(t))?;
                }
            }
        }
        weighted_share(&mut w, run, &queues, &bound, &times)?;
    }
    // Counters: events up to each instant.
    counter(
        &mut w,
        "kueue_admitted_workloads",
        "The total number of admitted workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| by_class(qd.admissions.iter().map(|a| (a.0, &a.1))),
    )?;
    counter(
        &mut w,
        "kueue_quota_reserved_workloads",
        "The total number of quota reserved workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| by_class(qd.admissions.iter().map(|a| (a.0, &a.1))),
    )?;
    counter(
        &mut w,
        "kueue_finished_workloads",
        "The total number of finished workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| by_class(qd.finishes.iter().map(|a| (a.0, &a.1))),
    )?;
    counter(
        &mut w,
        "kueue_evicted_workloads",
        "The number of evicted workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| {
            by_labels(qd.evictions.iter().map(|e| {
                (
                    e.0,
                    vec![
                        ("reason", e.1.to_string()),
                        ("underlying_cause", String::new()),
                        ("priority_class", e.2.to_string()),
                    ],
                )
            }))
        },
    )?;
    counter(
        &mut w,
        "kueue_preempted_workloads",
        "The number of preempted workloads per 'preempting_cluster_queue'.",
        &queues,
        &times,
        |qd| {
            by_labels(
                qd.preempting
                    .iter()
                    .map(|p| (p.0, vec![("reason", p.1.to_string())])),
            )
        },
    )?;
    // Wait histograms, per queue and priority class: quota reservation is admission here.
    wait_histogram(
        &mut w,
        "kueue_quota_reserved_wait_time_seconds",
        "The time between a workload was created or requeued until it got quota reservation, per 'cluster_queue'.",
        &queues,
        &times,
    )?;
    wait_histogram(
        &mut w,
        "kueue_admission_wait_time_seconds",
        "The time between a workload was created or requeued until admission, per 'cluster_queue'.",
        &queues,
        &times,
    )?;
    writeln!(w, "# EOF")?;
    w.flush()
}

/// A wait histogram in Kueue's buckets over the first admissions of each queue and priority
/// class, from the sample before the first one.
fn wait_histogram(
    w: &mut dyn Write,
    name: &str,
    help: &str,
    queues: &[(String, QueueData)],
    times: &[u64],
) -> std::io::Result<()> {
    let buckets = admission_buckets();
    // As Go's client writes them (`1`, `2.5`, `40960`): a dashboard's `le="10"` must match.
    let les: Vec<String> = buckets.iter().map(|b| format!("{b}")).collect();
    writeln!(w, "# TYPE {name} histogram")?;
    writeln!(w, "# HELP {name} {help}")?;
    for (q, qd) in queues {
        let mut classes: Vec<&str> = qd.admissions.iter().map(|a| &*a.1).collect();
        classes.sort_unstable();
        classes.dedup();
        for class in classes {
            let obs: Vec<(u64, f64)> = (qd.admissions.iter())
                .filter(|a| *a.1 == *class)
                .map(|a| (a.0, a.2))
                .collect();
            let base = [
                ("cluster_queue", q.as_str()),
                ("priority_class", class),
                ("replica_role", ROLE),
            ];
            let bucket_labels: Vec<String> = (les.iter().map(String::as_str).chain(["+Inf"]))
                .map(|le| {
                    let mut pairs = base.to_vec();
                    pairs.push(("le", le));
                    labels(&pairs)
                })
                .collect();
            let plain = labels(&base);
            let mut counts = vec![0u64; buckets.len()];
            let (mut n, mut sum, mut next) = (0u64, 0.0f64, 0usize);
            for &t in &times[first_sample(times, obs[0].0)..] {
                while next < obs.len() && obs[next].0 <= t {
                    let v = obs[next].1;
                    for (k, b) in buckets.iter().enumerate() {
                        if v <= *b {
                            counts[k] += 1;
                        }
                    }
                    n += 1;
                    sum += v;
                    next += 1;
                }
                let t = EPOCH_S + t;
                for (l, c) in bucket_labels.iter().zip(counts.iter().chain([&n])) {
                    writeln!(w, "{name}_bucket{l} {c} {t}")?;
                }
                writeln!(w, "{name}_count{plain} {n} {t}")?;
                writeln!(w, "{name}_sum{plain} {} {t}", value(sum))?;
            }
        }
    }
    Ok(())
}

/// Event times (in order) by their extra labels.
type Labelled = BTreeMap<Vec<(&'static str, String)>, Vec<u64>>;

fn by_labels(events: impl Iterator<Item = (u64, Vec<(&'static str, String)>)>) -> Labelled {
    let mut by = Labelled::new();
    for (t, l) in events {
        by.entry(l).or_default().push(t);
    }
    by
}

/// [`by_labels`] for events labelled with a priority class alone, without labels per event
/// (there is an admission per job).
fn by_class<'a>(events: impl Iterator<Item = (u64, &'a Text)>) -> Labelled {
    let mut by: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (t, class) in events {
        by.entry(class).or_default().push(t);
    }
    (by.into_iter())
        .map(|(class, at)| (vec![("priority_class", class.to_string())], at))
        .collect()
}

/// A counter family: one series per queue and distinct extra labels, counting events up to
/// each instant.
fn counter(
    w: &mut dyn Write,
    family: &str,
    help: &str,
    queues: &[(String, QueueData)],
    times: &[u64],
    events: impl Fn(&QueueData) -> Labelled,
) -> std::io::Result<()> {
    writeln!(w, "# TYPE {family} counter")?;
    writeln!(w, "# HELP {family} {help}")?;
    let queue_label = if family == "kueue_preempted_workloads" {
        "preempting_cluster_queue"
    } else {
        "cluster_queue"
    };
    for (q, qd) in queues {
        for (extra, at) in events(qd) {
            let mut pairs: Vec<(&str, &str)> = vec![(queue_label, q)];
            pairs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            pairs.push(("replica_role", ROLE));
            let l = labels(&pairs);
            let mut next = 0;
            for &t in &times[first_sample(times, at[0])..] {
                while next < at.len() && at[next] <= t {
                    next += 1;
                }
                writeln!(w, "{family}_total{l} {next} {}", EPOCH_S + t)?;
            }
        }
    }
    Ok(())
}

/// `kueue_cluster_queue_weighted_share` over GPUs alone: for a queue in a cohort, 1000 x (GPU
/// usage above nominal) / (GPUs its cohort can lend: the sum of min(nominal, lending limit)
/// of its queues), divided by its weight; 0 outside a cohort; NaN for a borrowing queue of
/// weight 0.
fn weighted_share(
    w: &mut dyn Write,
    run: &RunData,
    queues: &[(String, QueueData)],
    bound: &QueueBound,
    times: &[u64],
) -> std::io::Result<()> {
    let queues: BTreeMap<&str, &QueueData> = (queues.iter())
        .filter(|q| bound.kept.contains(&q.0))
        .map(|(n, q)| (n.as_str(), q))
        .collect();
    let s = &run.summary;
    let mut lendable: BTreeMap<&str, f64> = BTreeMap::new();
    for q in &s.queues {
        if let (Some(c), Some(n)) = (&q.cohort, q.nominal_gpus) {
            *lendable.entry(c).or_default() += n.min(q.lending_limit_gpus.unwrap_or(f64::INFINITY));
        }
    }
    let name = "kueue_cluster_queue_weighted_share";
    writeln!(w, "# TYPE {name} gauge")?;
    writeln!(
        w,
        "# HELP {name} GPU usage above nominal quota over the cohort's lendable GPUs (x1000), divided by the weight."
    )?;
    for q in &s.queues {
        let Some(qd) = queues.get(q.name.as_str()) else {
            continue;
        };
        let lbl = labels(&[
            ("cluster_queue", &q.name),
            ("cohort", q.cohort.as_deref().unwrap_or("")),
            ("replica_role", ROLE),
        ]);
        let lend = q.cohort.as_deref().and_then(|c| lendable.get(c)).copied();
        for (j, &t) in times.iter().enumerate() {
            let borrowed = (qd.level(2, j) - q.nominal_gpus.unwrap_or(0.0)).max(0.0);
            let v = match lend {
                Some(l) if l > 0.0 && borrowed > 0.0 => {
                    if q.weight == 0.0 {
                        f64::NAN
                    } else {
                        1000.0 * borrowed / l / q.weight
                    }
                }
                _ => 0.0,
            };
            writeln!(w, "{name}{lbl} {} {}", value(v), EPOCH_S + t)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_kueues() {
        let b = admission_buckets();
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..4], &[1.0, 2.5, 5.0, 10.0]);
        assert_eq!(b[15], 40960.0);
    }

    #[test]
    fn step_is_a_minute_or_enough_minutes_for_the_cap() {
        assert_eq!(step_s(3600.0), 60);
        // 5 days / 500 samples = 864 s -> 15 minutes.
        assert_eq!(step_s(5.0 * 86400.0), 15 * 60);
        // 30 days / 500 samples = 5184 s, more than half an hour apart: capped.
        assert_eq!(step_s(30.0 * 86400.0), MAX_STEP_S);
    }

    #[test]
    fn a_series_starts_at_the_sample_before_its_first_event() {
        let times = [0, 60, 120, 180];
        assert_eq!(first_sample(&times, 0), 0);
        assert_eq!(first_sample(&times, 60), 0);
        assert_eq!(first_sample(&times, 61), 1);
        assert_eq!(first_sample(&times, 180), 2);
        assert_eq!(first_sample(&times, 999), 3);
    }

    #[test]
    fn empty_label_values_are_left_out() {
        assert_eq!(labels(&[("a", ""), ("b", "1"), ("c", "")]), "{b=\"1\"}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\n")]), "{a=\"x\\\"y\\\\z\\n\"}");
    }

    fn team(queue: &str, gpu_hours: f64) -> crate::TeamSummary {
        crate::TeamSummary {
            queue: Some(queue.into()),
            gpu_hours,
            ..Default::default()
        }
    }

    /// Queues q1..q4 with 4, 3, 3 and 0 GPU-hours (q4 has no team): two by name keep q1 and the
    /// first by name of the tied q2 and q3.
    #[test]
    fn the_bound_keeps_the_busiest_queues_by_name() {
        let s = RunSummary {
            per_team: [
                ("a".to_string(), team("q1", 4.0)),
                ("b".to_string(), team("q2", 1.0)),
                ("c".to_string(), team("q2", 2.0)),
                ("d".to_string(), team("q3", 3.0)),
            ]
            .into(),
            queues: ["q1", "q2", "q3", "q4", "others"]
                .map(|n| fairway_engine::QueueInfo {
                    name: n.into(),
                    cohort: None,
                    nominal_gpus: None,
                    borrowing_limit_gpus: None,
                    lending_limit_gpus: None,
                    weight: 1.0,
                    entitlement: 0.2,
                    quotas: Vec::new(),
                })
                .into(),
            ..RunSummary::default()
        };
        let b = QueueBound::of(&s, Some(2));
        assert_eq!(b.kept, ["q1".to_string(), "q2".to_string()].into());
        assert_eq!((b.summed, b.label.as_str()), (3, "_others"));
        let note = b.note().unwrap();
        assert!(
            note.contains("names 2 of 5 queues")
                && note.contains("sums the other 3 as cluster_queue=\"_others\""),
            "{note}"
        );
        let all = QueueBound::of(&s, None);
        assert_eq!((all.kept.len(), all.summed, all.note()), (5, 0, None));
    }
}
