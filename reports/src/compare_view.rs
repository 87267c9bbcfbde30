//! `fairway report --compare DIR...`: runs side by side, as one HTML page and a Markdown table
//! for a pull-request comment. The first folder is the reference every delta is taken against.

use crate::chart::{Binned, Chart};
use crate::escape;
use crate::html::{PAGE_END, esc, inline_svg, page_start};
use crate::metric::{METRICS, Metric, Verdict, metric, spans_differ};
use crate::metrics::RunSummary;
use crate::render::{RenderError, RunData};
use std::collections::BTreeSet;
use std::fmt::Write;

/// A run's label: its folder's last component, or the whole path if two runs share it.
fn labels(runs: &[RunData]) -> Vec<String> {
    let short: Vec<String> = (runs.iter())
        .map(|r| {
            r.dir.file_name().map_or_else(
                || r.dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let distinct: BTreeSet<&String> = short.iter().collect();
    if distinct.len() == short.len() {
        short
    } else {
        runs.iter().map(|r| r.dir.display().to_string()).collect()
    }
}

/// Headline rows: (metric, value per run) for metrics that at least one run has.
fn headline(summaries: &[&RunSummary]) -> Vec<(&'static Metric, Vec<Option<f64>>)> {
    // Waits with censored jobs counted only where some run has such jobs.
    let censored = summaries.iter().any(|s| s.has_censored_waits());
    METRICS
        .iter()
        .filter(|m| censored || !m.name.ends_with("_km"))
        .map(|m| (m, summaries.iter().map(|s| m.value(s, None)).collect::<Vec<_>>()))
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .collect()
}

/// Per-team rows: (team, metric, value per run).
const TEAM_METRICS: &[&str] = &["p50_wait", "p95_wait", "gpu_share", "share_ratio", "preemptions"];

fn team_rows(summaries: &[&RunSummary]) -> Vec<(String, &'static Metric, Vec<Option<f64>>)> {
    let mut teams = BTreeSet::new();
    for s in summaries {
        teams.extend(s.per_team.keys().cloned());
    }
    let mut rows = Vec::new();
    for t in teams {
        for m in TEAM_METRICS.iter().filter_map(|n| metric(n).ok()) {
            let v: Vec<Option<f64>> = summaries.iter().map(|s| m.value(s, Some(&t))).collect();
            if v.iter().any(Option::is_some) {
                rows.push((t.clone(), m, v));
            }
        }
    }
    rows
}

/// A value in human units, and after the first run its change against the first, marked
/// better or worse where the metric has a better direction.
struct Cell {
    text: String,
    verdict: Option<Verdict>,
}

fn cell(m: &Metric, v: Option<f64>, base: Option<f64>, first: bool) -> Cell {
    match (v, base) {
        (None, _) => Cell {
            text: "–".into(),
            verdict: None,
        },
        (Some(x), Some(b)) if !first => Cell {
            text: format!("{} ({})", m.show(x), m.judged_change(b, x)),
            verdict: m.verdict(b, x),
        },
        (Some(x), _) => Cell {
            text: m.show(x),
            verdict: None,
        },
    }
}

/// The cells of a row; a run whose value cannot be set beside the first run's (see
/// [`Metric::incomparable`]) shows its value and why, without a change.
fn cells(m: &Metric, v: &[Option<f64>], runs: &[&RunSummary]) -> Vec<Cell> {
    v.iter()
        .enumerate()
        .map(|(k, x)| match (k, x, m.incomparable(runs[0], runs[k])) {
            (1.., Some(x), Some(why)) => Cell {
                text: format!("{} (not comparable: {why})", m.show(*x)),
                verdict: None,
            },
            _ => {
                let mut c = cell(m, *x, v[0], k == 0);
                if let (Some(_), Some(p)) = (x, m.partial(runs[k])) {
                    c.text = format!("{} [{p}]", c.text);
                }
                c
            }
        })
        .collect()
}

/// The GPUs allocated of each run, from one read of its series: binned over the longest run's
/// span for the overlaid chart, and, where the spans differ ([`spans_differ`]), the allocation
/// of each over the window they all cover (from the first submission to the end of the
/// shortest run): the allocation rates of runs of different spans are not comparable, this is.
struct Allocated {
    end_h: f64,
    series: Vec<Vec<(f64, f64)>>,
    /// The window's length in seconds and each run's allocation over it.
    window: Option<(f64, Vec<f64>)>,
}

fn allocated(runs: &[RunData]) -> Result<Allocated, RenderError> {
    let end_h = runs.iter().map(RunData::end_h).fold(0.0, f64::max);
    let spans = runs.iter().map(|r| r.summary.span_s);
    let (lo, hi) = (
        spans.clone().fold(f64::INFINITY, f64::min),
        spans.fold(0.0, f64::max),
    );
    let window = (!runs.is_empty() && lo > 0.0 && spans_differ(lo, hi)).then_some(lo);
    let mut over = vec![(end_h, crate::chart::BINS)];
    // One bin over the window: its time average.
    over.extend(window.map(|lo| (lo / 3600.0, 1)));
    let mut series = Vec::with_capacity(runs.len());
    let mut rates = Vec::new();
    for r in runs {
        let mut bins = r.allocated_binned(&over)?.into_iter();
        series.push(bins.next().unwrap_or_default());
        if let Some(w) = bins.next() {
            let mean = w.first().map_or(0.0, |b| b.1);
            let capacity = r.summary.capacity_gpus;
            rates.push(if capacity > 0.0 { mean / capacity } else { 0.0 });
        }
    }
    Ok(Allocated {
        end_h,
        series,
        window: window.map(|lo| (lo, rates)),
    })
}

/// The common-window allocation row's label and cells.
fn window_row(w: &(f64, Vec<f64>)) -> (String, Vec<Cell>) {
    let m = metric("gpu_allocation_rate").expect("a metric");
    let v: Vec<Option<f64>> = w.1.iter().copied().map(Some).collect();
    let label = format!(
        "gpu_allocation_rate over the common window (the first {})",
        crate::metric::duration(w.0)
    );
    (
        label,
        v.iter()
            .enumerate()
            .map(|(k, x)| cell(m, *x, v[0], k == 0))
            .collect(),
    )
}

/// A cell as an HTML table cell, coloured by its verdict.
fn td(c: &Cell) -> String {
    match c.verdict {
        Some(v) => format!("<td class=\"{}\">{}</td>", v.word(), esc(&c.text)),
        None => format!("<td>{}</td>", esc(&c.text)),
    }
}

/// The comparison as Markdown.
pub fn markdown(runs: &[RunData], window: Option<&(f64, Vec<f64>)>) -> String {
    let labels = labels(runs);
    let summaries: Vec<&RunSummary> = runs.iter().map(|r| &r.summary).collect();
    let mut md = String::from("### fairway comparison\n\n");
    let heads: Vec<_> = labels.iter().map(|l| escape::markdown(l)).collect();
    let heads = heads.join(" | ");
    let _ = writeln!(md, "| metric | {heads} |");
    let _ = writeln!(md, "|---|{}", "---|".repeat(labels.len()));
    for (m, v) in headline(&summaries) {
        let texts: Vec<String> = cells(m, &v, &summaries).into_iter().map(|c| c.text).collect();
        let _ = writeln!(md, "| {} | {} |", m.name, texts.join(" | "));
    }
    if let Some(w) = window {
        let (label, cells) = window_row(w);
        let texts: Vec<String> = cells.into_iter().map(|c| c.text).collect();
        let _ = writeln!(md, "| {label} | {} |", texts.join(" | "));
    }
    let _ = writeln!(md, "\n| team | metric | {heads} |");
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(labels.len()));
    for (team, m, v) in team_rows(&summaries) {
        let texts: Vec<String> = cells(m, &v, &summaries).into_iter().map(|c| c.text).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            escape::markdown(&team),
            m.name,
            texts.join(" | ")
        );
    }
    md
}

/// The overlaid charts: wait CDFs of all jobs and GPUs allocated over time, one line per run.
fn charts(runs: &[RunData], alloc: &Allocated) -> Vec<Chart> {
    let labels = labels(runs);
    let waits = runs
        .iter()
        .zip(&labels)
        .map(|(r, l)| (l.clone(), r.waits_h()))
        .collect();
    let end_h = alloc.end_h;
    let allocated = (alloc.series.iter().zip(&labels))
        .map(|(points, l)| Binned {
            name: l.clone(),
            points: points.clone(),
        })
        .collect();
    vec![
        Chart::Cdf {
            stem: "compare_wait_cdf",
            title: "Wait (first start - submit), all jobs".into(),
            x_desc: "wait (log scale; waits under 1m drawn at 1m)".into(),
            series: waits,
            colors: Default::default(),
        },
        Chart::Lines {
            stem: "compare_allocated",
            title: "GPUs allocated".into(),
            y_desc: "GPUs".into(),
            series: allocated,
            end_h,
            colors: Default::default(),
        },
    ]
}

/// The comparison page.
fn html(runs: &[RunData], alloc: &Allocated) -> Result<String, RenderError> {
    let labels = labels(runs);
    let summaries: Vec<&RunSummary> = runs.iter().map(|r| &r.summary).collect();
    let mut h = page_start("fairway comparison");
    h.push_str("<h1>fairway comparison</h1>\n<table>\n<tr><th>run</th><th>scenario</th><th>policy</th><th>placement</th><th>seed</th></tr>\n");
    for (r, l) in runs.iter().zip(&labels) {
        let s = &r.summary;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(l),
            esc(&s.scenario),
            esc(&s.policy),
            esc(&s.placement),
            s.seed
        );
    }
    h.push_str("</table>\n<p class=\"muted\">Changes are against the first run, marked better or worse where the metric has a better direction.</p>\n<h2>Headline</h2>\n<table>\n<tr><th>metric</th>");
    for l in &labels {
        let _ = write!(h, "<th>{}</th>", esc(l));
    }
    h.push_str("</tr>\n");
    for (m, v) in headline(&summaries) {
        let _ = write!(h, "<tr><td>{}</td>", m.name);
        for c in cells(m, &v, &summaries) {
            h.push_str(&td(&c));
        }
        h.push_str("</tr>\n");
    }
    if let Some(w) = &alloc.window {
        let (label, cells) = window_row(w);
        let _ = write!(h, "<tr><td>{}</td>", esc(&label));
        for c in cells {
            h.push_str(&td(&c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Charts</h2>\n");
    for c in charts(runs, alloc) {
        let svg = c.svg()?;
        let _ = writeln!(
            h,
            "<figure>{}<figcaption class=\"muted\">{}</figcaption></figure>",
            inline_svg(&svg),
            esc(c.title())
        );
    }
    h.push_str("<h2>Teams</h2>\n<table>\n<tr><th>team</th><th>metric</th>");
    for l in &labels {
        let _ = write!(h, "<th>{}</th>", esc(l));
    }
    h.push_str("</tr>\n");
    for (team, m, v) in team_rows(&summaries) {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(&team), m.name);
        for c in cells(m, &v, &summaries) {
            h.push_str(&td(&c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    h.push_str(PAGE_END);
    Ok(h)
}

/// Loads the runs in `dirs` (at least two) and writes `compare.md` and `compare.html` into
/// `out`; returns the Markdown.
pub fn write(dirs: &[std::path::PathBuf], out: &std::path::Path) -> Result<String, RenderError> {
    if dirs.len() < 2 {
        return Err(RenderError::Usage(
            "--compare needs at least two run folders".into(),
        ));
    }
    let runs = dirs
        .iter()
        .map(|d| RunData::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let claim = crate::output::claim(out, false, "compare")?;
    let alloc = allocated(&runs)?;
    let md = markdown(&runs, alloc.window.as_ref());
    let html = html(&runs, &alloc)?;
    crate::write_atomic(&out.join("compare.md"), |f| f.write_all(md.as_bytes()))?;
    crate::write_atomic(&out.join("compare.html"), |f| f.write_all(html.as_bytes()))?;
    claim.complete()?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_in_human_units_and_judged() {
        let wait = metric("p95_wait").unwrap();
        // 2 h to 3 h: one hour more, 50 % more, and a longer wait is worse.
        let c = cell(wait, Some(10_800.0), Some(7_200.0), false);
        assert_eq!(c.text, "3h (+1h, +50.0 %, worse)");
        assert_eq!(c.verdict, Some(Verdict::Worse));
        // The first run's own cell has no change.
        assert_eq!(cell(wait, Some(7_200.0), Some(7_200.0), true).text, "2h");
        // Allocation 40 % to 30 %: 10 points down, and less allocation is worse.
        let alloc = metric("gpu_allocation_rate").unwrap();
        assert_eq!(
            cell(alloc, Some(0.3), Some(0.4), false).text,
            "30.0 % (-10.0 pp, worse)"
        );
        // Preemptions 4 to 2: fewer is better; a team's share has no better side.
        let pre = metric("preemptions").unwrap();
        assert_eq!(
            cell(pre, Some(2.0), Some(4.0), false).text,
            "2 (-2, -50.0 %, better)"
        );
        let share = metric("gpu_share").unwrap();
        assert_eq!(
            cell(share, Some(0.25), Some(0.5), false).text,
            "25.0 % (-25.0 pp)"
        );
        assert_eq!(cell(wait, Some(60.0), Some(60.0), false).text, "1m (=)");
        assert_eq!(cell(wait, None, Some(60.0), false).text, "–");
        // A change that would read as 0 is not called better or worse.
        let jain = metric("jain_index").unwrap();
        assert_eq!(cell(jain, Some(0.3741), Some(0.3740), false).text, "0.374 (≈)");
        assert_eq!(cell(pre, Some(10_001.0), Some(10_000.0), false).text, "10001 (≈)");
        // Close values stay apart; long spans read in days.
        assert_eq!(
            cell(wait, Some(104.0), Some(100.0), false).text,
            "1.73m (+4s, +4.0 %, worse)"
        );
        let makespan = metric("makespan").unwrap();
        assert_eq!(
            cell(makespan, Some(25_356_605.0), Some(13_004_958.0), false).text,
            "293d (+143d, +95.0 %, worse)"
        );
    }
}
