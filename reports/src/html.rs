//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no external
//! resources; its Content-Security-Policy forbids loading any, so a browser reports an attempt) that someone who never ran fairway can read. Every string that comes from a trace
//! or a manifest goes through [`esc`].

use crate::render::RunData;
use crate::table::human_secs;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values (see [`crate::escape::xml`]:
/// the page is read as XML too).
pub fn esc(s: &str) -> String {
    crate::escape::xml(s).into_owned()
}

pub const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{padding:.25rem .45rem;border-bottom:1px solid #eee;text-align:right}\
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}td:not(:first-child){white-space:nowrap}.muted{color:#666;font-size:.9rem}\
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:9rem}\
.card b{display:block;font-size:1.3rem}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\
.worse{color:#b00020}.better{color:#087f23}";

/// A number with a sensible precision for people.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if a >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

pub fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

/// An SVG document as an inline element (the XML declaration, if any, dropped).
pub fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// Starts a page with its title.
pub fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

pub const PAGE_END: &str = "</body>\n</html>\n";

/// The report page of one run; `charts` are (title, SVG) in display order.
pub fn report(run: &RunData, charts: &[(String, String)]) -> String {
    let s = &run.summary;
    let mut h = page_start(&format!("fairway report: {}", s.scenario));
    let _ = write!(
        h,
        "<h1>fairway report: {}</h1>\n<p class=\"muted\">policy <b>{}</b>, placement <b>{}</b>, \
         trace <b>{}</b>, seed {}; {} GPUs over {} simulated.</p>\n",
        esc(&s.scenario),
        esc(&s.policy),
        esc(&s.placement),
        esc(&s.trace),
        s.seed,
        num(s.capacity_gpus),
        human_secs(s.span_s)
    );
    h.push_str(&lead(run));
    h.push_str("<h2>Headline</h2>\n<div class=\"cards\">\n");
    let cards = [
        ("jobs", s.counts.jobs_total.to_string()),
        ("finished", s.counts.jobs_finished.to_string()),
        ("unschedulable", s.counts.jobs_unschedulable.to_string()),
        ("mean wait", opt(s.wait_s.mean, human_secs)),
        ("p95 wait", opt(s.wait_s.p95, human_secs)),
        ("p99 wait", opt(s.wait_s.p99, human_secs)),
        (
            "p95 wait, incl. jobs never started",
            if s.has_censored_waits() {
                opt(s.wait_s_km.p95, human_secs).replace('–', "beyond the run")
            } else {
                String::new()
            },
        ),
        ("median JCT", opt(s.jct_s.p50, human_secs)),
        ("GPU allocation", pct(s.gpu_allocation_rate)),
        (
            "GPU utilisation",
            match (s.gpu_utilisation_rate, s.gpu_util_coverage) {
                (Some(u), Some(c)) if c < 1.0 => format!("{} ({} of GPU time measured)", pct(u), pct(c)),
                (u, _) => opt(u, pct),
            },
        ),
        ("preemptions", s.preemptions.to_string()),
        ("lost GPU-hours", num(s.lost_gpu_hours)),
        ("Jain's index", opt(s.fairness.jain_index, num)),
    ];
    let interactive = (s.interactive_target_s.zip(s.interactive_within_target)).map(|(t, within)| {
        (
            format!("interactive started within {}", human_secs(t)),
            format!("{} of {}", pct(within), s.interactive_jobs),
        )
    });
    // A card without a value (a figure the run has no use for) is left out.
    for (k, v) in (cards.iter().filter(|c| !c.1.is_empty()))
        .map(|(k, v)| (k.to_string(), v))
        .chain(interactive.iter().map(|(k, v)| (k.clone(), v)))
    {
        let _ = writeln!(h, "<div class=\"card\">{}<b>{}</b></div>", esc(&k), esc(v));
    }
    h.push_str("</div>\n");
    let entitled = s.per_team.values().filter(|t| t.share_ratio.is_some()).count();
    let asked = (s.per_team.values())
        .filter(|t| t.share_ratio.is_some() && t.demand_share >= t.entitlement)
        .count();
    if let Some(t) = &s.fairness.worst_served_team {
        let _ = writeln!(
            h,
            "<p>Worst served against its entitlement ({}): <b>{}</b>, at {} of its share, among the {asked} of {entitled} teams that asked for at least their entitlement's share of the GPU time. \
             Team p95 waits differ by up to {}.</p>",
            esc(&s.fairness.basis),
            esc(t),
            opt(s.fairness.worst_share_ratio, pct),
            opt(s.fairness.wait_p95_spread_s, human_secs)
        );
    } else if entitled > 0 {
        let why = if asked == 0 {
            "No team asked for as much GPU time as its entitlement".to_string()
        } else {
            format!(
                "Every team that asked for at least its entitlement's share of the GPU time ({asked} of {entitled}) got it"
            )
        };
        let _ = writeln!(
            h,
            "<p>{why}, so no team was held below its share by the others (entitlements: {}). Team p95 waits differ by up to {}.</p>",
            esc(&s.fairness.basis),
            opt(s.fairness.wait_p95_spread_s, human_secs)
        );
    }
    h.push_str("<h2>Charts</h2>\n");
    for (title, svg) in charts {
        let _ = writeln!(
            h,
            "<figure>{}<figcaption class=\"muted\">{}</figcaption></figure>",
            inline_svg(svg),
            esc(title)
        );
    }
    h.push_str(&team_table(run));
    h.push_str(&crate::queues::section(run));
    h.push_str(&reasons_table(run));
    h.push_str(&rightsizing_table(run));
    h.push_str(&pool_table(run));
    h.push_str(DEFINITIONS);
    h.push_str(PAGE_END);
    h
}

/// The answer first: who waited most, against what entitlement, and whether waiting came from
/// capacity (no GPU free) or from the policy, quotas or fragmentation (GPUs idle meanwhile).
fn lead(run: &RunData) -> String {
    let s = &run.summary;
    let mut h = String::from("<h2>In short</h2>\n");
    // A team of a handful of jobs is not "who waits": at least 1 % of the jobs, or 10.
    let floor = (s.counts.jobs_total / 100).clamp(1, 10);
    let waits = (s.per_team.iter())
        .filter(|(_, t)| t.counts.jobs_total >= floor)
        .filter_map(|(n, t)| Some((n, t, t.wait_s.p95?)))
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(a.0)));
    match waits {
        Some((name, t, p95)) if p95 > 0.0 => {
            let _ = writeln!(
                h,
                "<p><b>{}</b> waits most: p95 wait <b>{}</b> over its {} jobs (mean pending {}). It asked for \
                 {} of the GPU time and got {}{}, against an entitlement of {} ({}).</p>",
                esc(name),
                human_secs(p95),
                t.counts.jobs_total,
                opt(t.pending_s.mean, human_secs),
                pct(t.demand_share),
                pct(t.gpu_share),
                if t.preemptions > 0 {
                    format!(" (counting the work its {} preemptions lost)", t.preemptions)
                } else {
                    String::new()
                },
                pct(t.entitlement),
                esc(&s.fairness.basis),
            );
        }
        _ => {
            h.push_str("<p>No team's p95 wait was above zero: nearly every job started as it arrived.</p>\n")
        }
    }
    let b = run.series.backlog;
    let total = b.full_gpu_h + b.idle_gpu_h;
    if total > 0.0 {
        let _ = write!(
            h,
            "<p>Requests spent <b>{}</b> GPU-hours waiting. <b>{}</b> of them came while no GPU was free for them \
             (capacity: more GPUs would have let them start); <b>{}</b> while as many GPUs stood idle \
             (the policy, a quota or fragmentation held them back). While requests waited ({} in all), \
             <b>{}</b> of the GPUs were allocated on average. ",
            num(total),
            pct(b.full_gpu_h / total),
            pct(b.idle_gpu_h / total),
            human_secs(b.waiting_h * 3600.0),
            pct(b.allocated_while_waiting)
        );
        h.push_str(if b.full_gpu_h >= 2.0 * b.idle_gpu_h {
            "Waiting here is mostly a question of capacity (<code>fairway plan</code> sizes it)."
        } else if b.idle_gpu_h >= 2.0 * b.full_gpu_h {
            "Waiting here is mostly a question of policy and placement: more GPUs alone would not remove it."
        } else {
            "Both capacity and policy or placement hold work back."
        });
        if s.gpu_availability < 1.0 {
            let _ = write!(
                h,
                " GPUs of failed nodes count as idle here (GPUs were available {} of the time).",
                pct(s.gpu_availability)
            );
        }
        h.push_str("</p>\n");
    } else {
        h.push_str("<p>No GPU request waited.</p>\n");
    }
    h
}

fn team_table(run: &RunData) -> String {
    // With censored waits, each team's p95 counting the jobs that never started, beside it.
    let km = run.summary.has_censored_waits();
    let mut h = String::from(
        "<h2>Teams</h2>\n<table>\n<tr><th>team</th><th>queue</th><th>jobs</th><th>finished</th>\
         <th>GPU-hours</th><th>share</th><th>entitlement</th><th>share / entitlement</th>\
         <th>p50 wait</th><th>p95 wait</th>",
    );
    if km {
        h.push_str("<th>p95 wait, incl. never started</th>");
    }
    h.push_str("<th>mean pending</th><th>preemptions</th></tr>\n");
    for (name, t) in &run.summary.per_team {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td>",
            esc(name),
            esc(t.queue.as_deref().unwrap_or("–")),
            t.counts.jobs_total,
            t.counts.jobs_finished,
            num(t.gpu_hours),
            pct(t.gpu_share),
            pct(t.entitlement),
            opt(t.share_ratio, num),
            opt(t.wait_s.p50, human_secs),
            opt(t.wait_s.p95, human_secs),
        );
        if km {
            let _ = write!(
                h,
                "<td>{}</td>",
                t.wait_s_km
                    .p95
                    .map_or_else(|| "beyond the run".into(), human_secs)
            );
        }
        let _ = writeln!(
            h,
            "<td>{}</td><td>{}</td></tr>",
            opt(t.pending_s.mean, human_secs),
            t.preemptions
        );
    }
    h.push_str("</table>\n");
    if km {
        let _ = writeln!(
            h,
            "<p class=\"muted\">{} jobs were still waiting when the run ended and {} gave up before they started. \
             Wait figures cover the jobs that started; those marked \"incl. never started\" count the others too, as \
             waiting at least as long as they did (the Kaplan–Meier estimate), and read \"beyond the run\" where too \
             many never started to place the percentile.</p>",
            run.summary.jobs_pending_at_end, run.summary.counts.jobs_abandoned
        );
    }
    h
}

fn reasons_table(run: &RunData) -> String {
    let reasons = run.pending_reasons_h();
    if reasons.is_empty() {
        return String::new();
    }
    let total: f64 = reasons.iter().map(|r| r.1).sum();
    let mut h = String::from(
        "<h2>Why jobs waited</h2>\n<table>\n<tr><th>pending reason</th><th>job-hours</th><th>share</th></tr>\n",
    );
    for (r, hours) in reasons.iter().take(10) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(r),
            num(*hours),
            pct(if total > 0.0 { hours / total } else { 0.0 })
        );
    }
    h.push_str("</table>\n");
    if !run.summary.preemptions_by_reason.is_empty() {
        h.push_str("<table>\n<tr><th>preemption reason</th><th>preemptions</th></tr>\n");
        for (r, n) in &run.summary.preemptions_by_reason {
            let _ = writeln!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(r));
        }
        h.push_str("</table>\n");
    }
    h
}

fn rightsizing_table(run: &RunData) -> String {
    let Some(rs) = &run.summary.right_sizing else {
        return String::new();
    };
    let mut h = format!(
        "<h2>Right-sizing</h2>\n<p>Recommended request: the {}th percentile of GPUs used per job \
         (GPUs asked x <code>gpu_util</code>), rounded up. Right-sizing would free <b>{}</b> \
         GPU-hours over this trace.</p>\n<table>\n<tr><th>team / user</th><th>jobs</th>\
         <th>asked (median)</th><th>used (median)</th><th>recommended</th><th>GPU-hours freed</th></tr>\n",
        rs.percentile,
        num(rs.freed_gpu_hours)
    );
    let row = |h: &mut String, name: &str, r: &crate::metrics::RightSize| {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            r.jobs,
            num(r.requested_gpus_p50),
            num(r.used_gpus_p50),
            num(r.recommended_gpus),
            num(r.freed_gpu_hours)
        );
    };
    for (t, r) in &rs.per_team {
        row(&mut h, t, r);
    }
    let mut users: Vec<(&String, &crate::metrics::RightSize)> = (run.jobs.user_right_sizing.iter())
        .map(|(u, (_, r))| (u, r))
        .collect();
    users.sort_by(|a, b| {
        b.1.freed_gpu_hours
            .total_cmp(&a.1.freed_gpu_hours)
            .then(a.0.cmp(b.0))
    });
    for (u, r) in users.iter().filter(|u| u.1.freed_gpu_hours > 0.0).take(20) {
        row(&mut h, &format!("user {u}"), r);
    }
    h.push_str("</table>\n<p class=\"muted\">Every user is in <code>rightsizing.csv</code>.</p>\n");
    h
}

fn pool_table(run: &RunData) -> String {
    let mut h = String::from(
        "<h2>Pools</h2>\n<table>\n<tr><th>pool</th><th>GPU model</th><th>GPUs</th><th>allocation</th></tr>\n",
    );
    for (name, p) in &run.summary.per_pool {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(p.model.as_deref().unwrap_or("–")),
            num(p.capacity_gpus),
            pct(p.gpu_allocation_rate)
        );
    }
    h.push_str("</table>\n");
    h
}

const DEFINITIONS: &str = "<h2>Definitions</h2>\n<ul class=\"muted\">\
<li>wait = first start − submit; pending = all time waiting, including after preemptions; JCT = end − submit.</li>\
<li>GPU allocation = GPU-time reserved by running pods / (GPUs × span); utilisation counts allocation × the trace's <code>gpu_util</code>.</li>\
<li>share = a team's part of all allocated GPU-time; entitlement = its queue's nominal-quota share (Kueue), weight share (fair-share) or an equal share; Jain's index over share / entitlement, 1 = perfectly fair.</li>\
<li>Percentiles interpolate between closest ranks (numpy's default). Time series are exact step functions; charts show their time averages over 400 bins.</li>\
</ul>\n";
