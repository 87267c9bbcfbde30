//! The queue view of a run: GPUs pending per queue over time, and for a policy with quotas
//! (Kueue's ClusterQueues) the ClusterQueue table, their quotas per flavor and resource, usage
//! against nominal quota over time, preemptions over time by reason and the most-preempted
//! workloads.
//!
//! Levels over time come from the queue levels read at `metrics.prom`'s sample instants (at
//! most 30 minutes apart), each held until the next: charts draw their time averages over the
//! chart's bins, and a peak or a time above quota is as seen at those instants.

use crate::chart::{Binned, Chart, Colors, MAX_TEAMS};
use crate::html::{esc, num, pct};
use crate::render::RunData;
use crate::table::human_secs;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Level indices of [`crate::fold::SeriesFacts::queue_levels`].
const GPUS_ALLOCATED: usize = 2;
const GPUS_PENDING: usize = 3;

/// Whether the run's queues have quotas (a Kueue run).
pub fn has_quotas(run: &RunData) -> bool {
    run.summary.queues.iter().any(|q| q.nominal_gpus.is_some())
}

/// Queues with levels, busiest (allocated GPU-hours over the samples) first, name order among
/// equals.
fn busiest(run: &RunData) -> Vec<(&String, &[Vec<f64>; 4])> {
    let mut q: Vec<(&String, &[Vec<f64>; 4])> = run.series.queue_levels.iter().collect();
    let sum = |l: &[Vec<f64>; 4]| l[GPUS_ALLOCATED].iter().sum::<f64>();
    q.sort_by(|a, b| sum(b.1).total_cmp(&sum(a.1)).then(a.0.cmp(b.0)));
    q
}

/// "what" or "what: top N of M queues" when there are more queues than a chart draws.
fn top(what: &str, shown: usize, all: usize, kind: &str) -> String {
    if all > shown {
        format!("{what}: top {shown} of {all} {kind} by GPU-hours")
    } else {
        what.to_string()
    }
}

/// The queue charts of a run, in the order the report shows them, in the page's `colors`.
pub fn charts(run: &RunData, colors: &Colors) -> Vec<Chart> {
    let times: Vec<f64> = (crate::prom::sample_times(run.summary.span_s).into_iter())
        .map(|t| t as f64 / 3600.0)
        .collect();
    let kind = if has_quotas(run) {
        "ClusterQueues"
    } else {
        "queues"
    };
    let order = busiest(run);
    // Time averages over the chart's bins, as the other time charts draw.
    let line = |name: &str, values: &[f64], scale: f64| {
        let mut b = crate::chart::Binner::new(run.end_h(), crate::chart::BINS);
        times.iter().zip(values).for_each(|(&t, &v)| b.push(t, v * scale));
        Binned {
            name: name.to_string(),
            points: b.finish(),
        }
    };
    let mut charts = Vec::new();
    let pending: Vec<Binned> = (order.iter())
        .filter(|(_, l)| l[GPUS_PENDING].iter().any(|&v| v > 0.0))
        .take(MAX_TEAMS)
        .map(|(q, l)| line(q, &l[GPUS_PENDING], 1.0))
        .collect();
    if !pending.is_empty() {
        charts.push(Chart::Lines {
            stem: "gpus_pending",
            title: top(
                "GPUs requested by pending jobs, by queue",
                pending.len(),
                order.len(),
                kind,
            ),
            y_desc: "GPUs pending".into(),
            series: pending,
            end_h: run.end_h(),
            colors: colors.clone(),
        });
    }
    if has_quotas(run) {
        let nominal: BTreeMap<&str, f64> = (run.summary.queues.iter())
            .filter_map(|q| Some((q.name.as_str(), q.nominal_gpus.filter(|&n| n > 0.0)?)))
            .collect();
        let usage: Vec<Binned> = (order.iter())
            .filter_map(|(q, l)| Some(line(q, &l[GPUS_ALLOCATED], 100.0 / nominal.get(q.as_str())?)))
            .take(MAX_TEAMS)
            .collect();
        if !usage.is_empty() {
            let with_quota = order
                .iter()
                .filter(|q| nominal.contains_key(q.0.as_str()))
                .count();
            charts.push(Chart::Lines {
                stem: "quota_usage",
                title: top(
                    "GPUs in use as % of nominal quota, by ClusterQueue (over 100 %: borrowing)",
                    usage.len(),
                    with_quota,
                    kind,
                ),
                y_desc: "% of nominal GPU quota".into(),
                series: usage,
                end_h: run.end_h(),
                colors: colors.clone(),
            });
        }
    }
    if let Some(c) = preemptions_per_day(run) {
        charts.push(c);
    }
    charts
}

/// Preemptions per day of simulated time, one line per reason (the most frequent
/// [`MAX_TEAMS`]).
fn preemptions_per_day(run: &RunData) -> Option<Chart> {
    let rows = &run.preemptions.rows;
    if rows.is_empty() {
        return None;
    }
    let days = (run.summary.span_s / 86400.0).ceil().max(1.0) as usize;
    let mut by: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for p in rows {
        let d = ((p.time_s.max(0.0) / 86400.0) as usize).min(days - 1);
        by.entry(&p.reason).or_insert_with(|| vec![0.0; days])[d] += 1.0;
    }
    let mut reasons: Vec<(&str, Vec<f64>)> = by.into_iter().collect();
    reasons.sort_by(|a, b| {
        let n = |v: &[f64]| v.iter().sum::<f64>();
        n(&b.1).total_cmp(&n(&a.1)).then(a.0.cmp(b.0))
    });
    let series = (reasons.into_iter().take(MAX_TEAMS))
        .map(|(r, counts)| Binned {
            name: r.to_string(),
            // A step per day, drawn at the day's start and end.
            points: (counts.iter().enumerate())
                .flat_map(|(d, &n)| [(d as f64 * 24.0, n), ((d + 1) as f64 * 24.0, n)])
                .collect(),
        })
        .collect();
    Some(Chart::Lines {
        stem: "preemptions",
        title: "Preemptions per day, by reason".into(),
        y_desc: "preemptions per day".into(),
        series,
        end_h: days as f64 * 24.0,
        colors: crate::chart::Colors::default(),
    })
}

/// The ClusterQueue table and the most-preempted workloads (empty without quotas).
pub fn section(run: &RunData) -> String {
    if !has_quotas(run) {
        return String::new();
    }
    let s = &run.summary;
    let times = crate::prom::sample_times(s.span_s);
    let step = crate::prom::step_s(s.span_s);
    // GPU-hours and preemptions of each queue's teams.
    let mut hours: BTreeMap<&str, (f64, u64)> = BTreeMap::new();
    for t in s.per_team.values() {
        if let Some(q) = &t.queue {
            let e = hours.entry(q).or_default();
            e.0 += t.gpu_hours;
            e.1 += t.preemptions;
        }
    }
    let limit = |v: Option<f64>| v.map_or_else(|| "no limit".to_string(), num);
    let mut h = String::from(
        "<h2>ClusterQueues</h2>\n<p class=\"muted\">GPU quotas summed over flavors. Mean in use is \
         the queue's GPU-hours over the run's span; peak and time over nominal are read at samples ",
    );
    let _ = write!(
        h,
        "{} apart.</p>\n<table>\n<tr><th>ClusterQueue</th><th>cohort</th><th>nominal GPUs</th>\
         <th>borrowing limit</th><th>lending limit</th><th>weight</th><th>entitlement</th>\
         <th>mean in use</th><th>peak in use</th><th>time over nominal</th><th>preempted</th></tr>\n",
        human_secs(step as f64)
    );
    for q in &s.queues {
        let levels = run.series.queue_levels.get(&q.name).map(|l| &l[GPUS_ALLOCATED]);
        let peak = levels.map_or(0.0, |l| l.iter().copied().fold(0.0, f64::max));
        let over = match (levels, q.nominal_gpus) {
            (Some(l), Some(n)) if !times.is_empty() => {
                pct(l.iter().filter(|&&v| v > n + 1e-9).count() as f64 / times.len() as f64)
            }
            _ => "–".into(),
        };
        let (gpu_h, preempted) = hours.get(q.name.as_str()).copied().unwrap_or_default();
        let mean = if s.span_s > 0.0 {
            gpu_h * 3600.0 / s.span_s
        } else {
            0.0
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{over}</td><td>{preempted}</td></tr>",
            esc(&q.name),
            esc(q.cohort.as_deref().unwrap_or("–")),
            q.nominal_gpus.map_or_else(|| "–".into(), num),
            limit(q.borrowing_limit_gpus),
            limit(q.lending_limit_gpus),
            num(q.weight),
            pct(q.entitlement),
            num(mean),
            num(peak),
        );
    }
    h.push_str("</table>\n");
    h.push_str(&quota_table(run));
    h.push_str(&most_preempted(run));
    h
}

/// Every ClusterQueue's quotas per flavor and resource, as its manifest states them.
fn quota_table(run: &RunData) -> String {
    let queues: Vec<_> = run
        .summary
        .queues
        .iter()
        .filter(|q| !q.quotas.is_empty())
        .collect();
    if queues.is_empty() {
        return String::new();
    }
    let mut h = String::from(
        "<h3>Quotas by flavor and resource</h3>\n<table>\n<tr><th>ClusterQueue</th><th>flavor</th>\
         <th>resource</th><th>nominal</th><th>borrowing limit</th><th>lending limit</th></tr>\n",
    );
    let limit = |v: &Option<String>| v.as_deref().map_or_else(|| "no limit".to_string(), esc);
    for q in queues {
        for f in &q.quotas {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&q.name),
                esc(&f.flavor),
                esc(&f.resource),
                match f.nominal_gpus {
                    Some(g) if f.nominal != num(g) => format!("{} ({} GPUs)", esc(&f.nominal), num(g)),
                    _ => esc(&f.nominal),
                },
                limit(&f.borrowing_limit),
                limit(&f.lending_limit)
            );
        }
    }
    h.push_str("</table>\n");
    h
}

/// The workloads preempted most often (at most 10), with their queue.
fn most_preempted(run: &RunData) -> String {
    let p = &run.preemptions;
    if p.rows.is_empty() {
        return String::new();
    }
    let mut count: BTreeMap<u32, u64> = BTreeMap::new();
    for r in &p.rows {
        *count.entry(r.job).or_default() += 1;
    }
    let name: BTreeMap<u32, &str> = p.ids.iter().map(|(n, &k)| (k, &**n)).collect();
    let mut jobs: Vec<(&str, u64, u32)> = (count.into_iter())
        .map(|(k, n)| (name.get(&k).copied().unwrap_or("?"), n, k))
        .collect();
    jobs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut h = format!(
        "<h3>Most-preempted workloads</h3>\n<p class=\"muted\">{} workloads were preempted {} times in all.</p>\n\
         <table>\n<tr><th>workload</th><th>ClusterQueue</th><th>priority class</th><th>preempted</th></tr>\n",
        jobs.len(),
        p.rows.len()
    );
    for (job, n, k) in jobs.iter().take(10) {
        let (queue, class) = (run.jobs.preempted.get(*k as usize))
            .and_then(Option::as_ref)
            .map_or(("–", "–"), |(q, c)| (&**q, &**c));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{n}</td></tr>",
            esc(job),
            esc(queue),
            esc(if class.is_empty() { "–" } else { class })
        );
    }
    h.push_str("</table>\n");
    h
}
