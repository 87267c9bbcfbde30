//! `metrics.prom`: the run as OpenMetrics text under Kueue's metric names and labels, stamped
//! with simulated timestamps, for backfilling into Prometheus or Mimir
//! (`promtool tsdb create-blocks-from openmetrics metrics.prom DATA_DIR`) and viewing on the
//! dashboards people already have for Kueue.
//!
//! Simulated time 0 (the first submission) is [`EPOCH_S`] (2026-01-01T00:00:00Z). Samples are
//! taken every [`step_s`] seconds: gauges read the exact step function at each instant, counters
//! and histograms count what happened up to it. Queues are the policy's (Kueue's
//! ClusterQueues; one per team otherwise), and a team's levels count towards the queue most of
//! its jobs went to. GPU usage is summed over flavors (`flavor="all"`) under the resource
//! `nvidia.com/gpu`. Admission wait is first submission to first admission (first start for
//! policies without a quota step); requeues after preemption are not observed again.

use crate::frame::Text;
use crate::render::RunData;
use std::collections::BTreeMap;
use std::io::Write;

/// Simulated time 0 on the Prometheus clock, Unix seconds (2026-01-01T00:00:00Z).
pub const EPOCH_S: u64 = 1_767_225_600;
/// At most about this many sample instants.
pub const MAX_SAMPLES: u64 = 500;
const RESOURCE: &str = "nvidia.com/gpu";
const ROLE: &str = "standalone";

/// Kueue's `admission_wait_time_seconds` buckets: 1, then 2.5 doubling, 16 in all.
pub fn admission_buckets() -> Vec<f64> {
    std::iter::once(1.0)
        .chain((0..15).map(|k| 2.5 * f64::from(1u32 << k)))
        .collect()
}

/// The sampling step for a run of `span_s` seconds: one minute, or longer for long runs so
/// that there are at most [`MAX_SAMPLES`] samples; always whole minutes.
pub fn step_s(span_s: f64) -> u64 {
    let minutes = (span_s.max(0.0) / MAX_SAMPLES as f64 / 60.0).ceil() as u64;
    60 * minutes.max(1)
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (k, (n, v)) in pairs.iter().enumerate() {
        if k > 0 {
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

/// One queue's data for the metrics.
#[derive(Default)]
struct QueueData<'a> {
    cohort: String,
    /// Jobs pending, jobs running, GPUs allocated, GPUs pending at each sample instant; `None`
    /// (all 0) when none of its teams is in the series.
    levels: Option<&'a [Vec<f64>; 4]>,
    /// (time, priority class, wait seconds) of first admissions.
    admissions: &'a [(u64, Text, f64)],
    /// (time, priority class) of finishes.
    finishes: &'a [(u64, Text)],
    /// (time, reason, priority class) of evictions (one entry per preemption: names shared).
    evictions: Vec<(u64, &'static str, Text)>,
    /// (time, reason) of preemptions this queue caused.
    preempting: Vec<(u64, Text)>,
}

impl QueueData<'_> {
    /// Level `k` (see [`QueueData::levels`]) at sample instant `j`.
    fn level(&self, k: usize, j: usize) -> f64 {
        self.levels.map_or(0.0, |l| l[k][j])
    }
}

/// Writes `metrics.prom` for `run`.
pub fn write(out: &mut dyn Write, run: &RunData) -> std::io::Result<()> {
    let s = &run.summary;
    let t0 = run.t0_ms();
    let rel = |ms: u64| ms.saturating_sub(t0) / 1000;
    let mut queues: BTreeMap<String, QueueData> = BTreeMap::new();
    for q in &s.queues {
        queues.entry(q.name.clone()).or_default().cohort = q.cohort.clone().unwrap_or_default();
    }
    // A queue's levels are the sums of its teams', folded as the series was read.
    for (q, levels) in &run.series.queue_levels {
        queues.entry(q.clone()).or_default().levels = Some(levels);
    }
    for (q, jobs) in &run.jobs.queues {
        let qd = queues.entry(q.clone()).or_default();
        qd.admissions = &jobs.admissions;
        qd.finishes = &jobs.finishes;
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
    let times = sample_times(s.span_s);
    let ts = |t: u64| EPOCH_S + t;

    let mut w = std::io::BufWriter::new(out);
    // Gauges read from queue step functions: (name, help, level, extra labels).
    type Gauge<'a> = (&'a str, &'a str, usize, &'a [(&'a str, &'a str)]);
    let gauges: [Gauge; 4] = [
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
            if name == "kueue_cluster_queue_resource_usage" {
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
        for (name, help, pick) in quota {
            writeln!(w, "# TYPE {name} gauge")?;
            writeln!(w, "# HELP {name} {help}")?;
            for q in &quota_queues {
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
        weighted_share(&mut w, run, &queues, &times)?;
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
    // Admission wait histogram, per queue and priority class.
    let buckets = admission_buckets();
    let name = "kueue_admission_wait_time_seconds";
    writeln!(w, "# TYPE {name} histogram")?;
    writeln!(
        w,
        "# HELP {name} The time between a workload was created or requeued until admission, per 'cluster_queue'."
    )?;
    for (q, qd) in &queues {
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
            let mut counts = vec![0u64; buckets.len()];
            let (mut n, mut sum, mut next) = (0u64, 0.0f64, 0usize);
            for &t in &times {
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
                for (k, b) in buckets.iter().enumerate() {
                    let le = format!("{b:?}");
                    let mut pairs = base.to_vec();
                    pairs.push(("le", &le));
                    writeln!(w, "{name}_bucket{} {} {}", labels(&pairs), counts[k], ts(t))?;
                }
                let mut pairs = base.to_vec();
                pairs.push(("le", "+Inf"));
                writeln!(w, "{name}_bucket{} {n} {}", labels(&pairs), ts(t))?;
                writeln!(w, "{name}_count{} {n} {}", labels(&base), ts(t))?;
                writeln!(w, "{name}_sum{} {} {}", labels(&base), value(sum), ts(t))?;
            }
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
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
    queues: &BTreeMap<String, QueueData>,
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
            for &t in times {
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
    queues: &BTreeMap<String, QueueData>,
    times: &[u64],
) -> std::io::Result<()> {
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
        let Some(qd) = queues.get(&q.name) else { continue };
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
        // 30 days / 500 samples = 5184 s -> 87 minutes.
        assert_eq!(step_s(30.0 * 86400.0), 87 * 60);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\n")]), "{a=\"x\\\"y\\\\z\\n\"}");
    }
}
