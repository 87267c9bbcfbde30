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
use crate::render::{RunData, sum_steps};
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

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (k, (n, v)) in pairs.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push_str(n);
        s.push_str("=\"");
        s.push_str(&label(v));
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

/// A step function read at increasing instants.
struct Cursor<'a> {
    points: &'a [(u64, f64)],
    next: usize,
    level: f64,
}

impl<'a> Cursor<'a> {
    fn new(points: &'a [(u64, f64)]) -> Self {
        Cursor {
            points,
            next: 0,
            level: 0.0,
        }
    }
    fn at(&mut self, t: u64) -> f64 {
        while self.next < self.points.len() && self.points[self.next].0 <= t {
            self.level = self.points[self.next].1;
            self.next += 1;
        }
        self.level
    }
}

/// One queue's data for the metrics.
#[derive(Default)]
struct QueueData {
    cohort: String,
    pending: Vec<(u64, f64)>,
    running: Vec<(u64, f64)>,
    gpus: Vec<(u64, f64)>,
    pending_gpus: Vec<(u64, f64)>,
    /// (time, priority class, wait seconds) of first admissions.
    admissions: Vec<(u64, Text, f64)>,
    /// (time, priority class) of finishes.
    finishes: Vec<(u64, Text)>,
    /// (time, reason, priority class) of evictions.
    evictions: Vec<(u64, String, String)>,
    /// (time, reason) of preemptions this queue caused.
    preempting: Vec<(u64, String)>,
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
    let team_queue: BTreeMap<&str, &str> = (s.per_team.iter())
        .filter_map(|(t, x)| x.queue.as_deref().map(|q| (t.as_str(), q)))
        .collect();
    // Each team's levels as step functions; a queue's are the sum of its teams'.
    let ser = &run.series;
    // Pending jobs, running jobs, GPUs allocated, GPUs pending: (seconds, level) each.
    type Levels = [Vec<(u64, f64)>; 4];
    let mut team_steps: BTreeMap<&str, Levels> = BTreeMap::new();
    for i in 0..ser.len() {
        let Some(team) = ser.team[i].as_deref() else {
            continue;
        };
        let levels = [
            f64::from(ser.pending[i]),
            f64::from(ser.running[i]),
            ser.gpu_milli[i] as f64 / 1000.0,
            ser.pending_gpu_milli[i] as f64 / 1000.0,
        ];
        let steps = team_steps.entry(team).or_default();
        for (k, v) in levels.into_iter().enumerate() {
            steps[k].push((rel(ser.time_ms[i]), v));
        }
    }
    let mut queue_teams: BTreeMap<&str, Vec<&Levels>> = BTreeMap::new();
    for (team, steps) in &team_steps {
        if let Some(&q) = team_queue.get(team) {
            queue_teams.entry(q).or_default().push(steps);
        }
    }
    for (q, teams) in queue_teams {
        let qd = queues.entry(q.to_string()).or_default();
        let field = |k: usize| sum_steps(teams.iter().map(|s| s[k].as_slice()));
        (qd.pending, qd.running, qd.gpus, qd.pending_gpus) = (field(0), field(1), field(2), field(3));
    }
    let jobs = &run.jobs;
    // Jobs with a queue, by id: their queue and priority class.
    let mut job_queue: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let no_class = Text::from("");
    for i in 0..jobs.len() {
        let Some(q) = jobs.queue[i].as_deref() else {
            continue;
        };
        let class_name = jobs.priority_class[i].as_deref().unwrap_or("");
        job_queue.insert(&jobs.job_id[i], (q, class_name));
        if !queues.contains_key(q) {
            queues.insert(q.to_string(), QueueData::default());
        }
        let qd = queues.get_mut(q).expect("inserted above");
        let class = jobs.priority_class[i].clone().unwrap_or_else(|| no_class.clone());
        if let Some(a) = jobs.admit_ms[i].or(jobs.start_ms[i]) {
            let wait = (a - jobs.submit_ms[i]) as f64 / 1000.0;
            qd.admissions.push((rel(a), class.clone(), wait));
        }
        if *jobs.status[i] == *"finished"
            && let Some(e) = jobs.end_ms[i]
        {
            qd.finishes.push((rel(e), class));
        }
    }
    for p in &run.preemptions {
        let t = rel(t0 + (p.time_s * 1000.0).round() as u64);
        let failure = p.reason == fairway_engine::sim::NODE_FAILURE;
        if let Some(&(q, class)) = job_queue.get(p.job_id.as_str()) {
            let reason = if failure { "NodeFailures" } else { "Preempted" };
            queues.get_mut(q).expect("queue of a job").evictions.push((
                t,
                reason.to_string(),
                class.to_string(),
            ));
        }
        if let Some(&(q, _)) = job_queue.get(p.by_job_id.as_str()) {
            queues
                .get_mut(q)
                .expect("queue of a job")
                .preempting
                .push((t, p.reason.clone()));
        }
    }
    for qd in queues.values_mut() {
        qd.admissions.sort_by_key(|a| a.0);
        qd.finishes.sort_by_key(|a| a.0);
        qd.evictions.sort_by_key(|a| a.0);
        qd.preempting.sort_by_key(|a| a.0);
    }
    let step = step_s(s.span_s);
    let end = s.span_s.max(0.0).ceil() as u64;
    let times: Vec<u64> = (0..=end.div_ceil(step)).map(|k| k * step).collect();
    let ts = |t: u64| EPOCH_S + t;

    let mut w = std::io::BufWriter::new(out);
    // Gauges read from queue step functions.
    type Pick = fn(&QueueData) -> &Vec<(u64, f64)>;
    type Gauge<'a> = (&'a str, &'a str, Pick, &'a [(&'a str, &'a str)]);
    let gauges: [Gauge; 4] = [
        (
            "kueue_pending_workloads",
            "The number of pending workloads, per 'cluster_queue' and 'status'.",
            |q| &q.pending,
            &[("status", "active")],
        ),
        (
            "kueue_admitted_active_workloads",
            "The number of admitted Workloads that are active, per 'cluster_queue'.",
            |q| &q.running,
            &[],
        ),
        (
            "kueue_cluster_queue_resource_usage",
            "The cluster_queue's total resource usage within all the flavors.",
            |q| &q.gpus,
            &[("flavor", "all"), ("resource", RESOURCE)],
        ),
        (
            "kueue_cluster_queue_resource_pending",
            "The total requests of pending workloads, per 'cluster_queue' and 'resource'.",
            |q| &q.pending_gpus,
            &[("resource", RESOURCE)],
        ),
    ];
    for (name, help, pick, extra) in gauges {
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
            let mut c = Cursor::new(pick(qd));
            for &t in &times {
                writeln!(w, "{name}{l} {} {}", value(c.at(t)), ts(t))?;
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
        |qd| {
            qd.admissions
                .iter()
                .map(|a| (a.0, vec![("priority_class", a.1.to_string())]))
                .collect()
        },
    )?;
    counter(
        &mut w,
        "kueue_finished_workloads",
        "The total number of finished workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| {
            qd.finishes
                .iter()
                .map(|a| (a.0, vec![("priority_class", a.1.to_string())]))
                .collect()
        },
    )?;
    counter(
        &mut w,
        "kueue_evicted_workloads",
        "The number of evicted workloads per 'cluster_queue'.",
        &queues,
        &times,
        |qd| {
            (qd.evictions.iter())
                .map(|e| {
                    (
                        e.0,
                        vec![
                            ("reason", e.1.clone()),
                            ("underlying_cause", String::new()),
                            ("priority_class", e.2.clone()),
                        ],
                    )
                })
                .collect()
        },
    )?;
    counter(
        &mut w,
        "kueue_preempted_workloads",
        "The number of preempted workloads per 'preempting_cluster_queue'.",
        &queues,
        &times,
        |qd| {
            qd.preempting
                .iter()
                .map(|p| (p.0, vec![("reason", p.1.clone())]))
                .collect()
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

/// A counter family: one series per queue and distinct extra labels, counting events up to
/// each instant.
#[allow(clippy::type_complexity)]
fn counter(
    w: &mut dyn Write,
    family: &str,
    help: &str,
    queues: &BTreeMap<String, QueueData>,
    times: &[u64],
    events: impl Fn(&QueueData) -> Vec<(u64, Vec<(&'static str, String)>)>,
) -> std::io::Result<()> {
    writeln!(w, "# TYPE {family} counter")?;
    writeln!(w, "# HELP {family} {help}")?;
    let queue_label = if family == "kueue_preempted_workloads" {
        "preempting_cluster_queue"
    } else {
        "cluster_queue"
    };
    for (q, qd) in queues {
        let mut by: BTreeMap<Vec<(&'static str, String)>, Vec<u64>> = BTreeMap::new();
        for (t, l) in events(qd) {
            by.entry(l).or_default().push(t);
        }
        for (extra, at) in by {
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
        let mut c = Cursor::new(&qd.gpus);
        for &t in times {
            let borrowed = (c.at(t) - q.nominal_gpus.unwrap_or(0.0)).max(0.0);
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
