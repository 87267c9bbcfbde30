//! `fairway report --compare DIR...`: runs side by side, as one HTML page and a Markdown table
//! for a pull-request comment. The first folder is the reference every delta is taken against.

use crate::chart::{Binned, Chart};
use crate::escape;
use crate::html::{PAGE_END, esc, inline_svg, num, page_start};
use crate::metric::{METRICS, metric};
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

/// The change from `a` to `b`, as text: absolute, and relative when `a` is not 0.
fn delta(a: f64, b: f64) -> String {
    let d = b - a;
    if d == 0.0 {
        return "=".into();
    }
    let sign = if d > 0.0 { "+" } else { "" };
    if a != 0.0 {
        format!("{sign}{} ({sign}{:.1} %)", num(d), 100.0 * d / a.abs())
    } else {
        format!("{sign}{}", num(d))
    }
}

/// Headline rows: (metric, value per run) for metrics that at least one run has.
fn headline(summaries: &[&RunSummary]) -> Vec<(&'static str, Vec<Option<f64>>)> {
    METRICS
        .iter()
        .map(|m| {
            (
                m.name,
                summaries.iter().map(|s| m.value(s, None)).collect::<Vec<_>>(),
            )
        })
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .collect()
}

/// Per-team rows: (team, metric, value per run).
const TEAM_METRICS: &[&str] = &["p50_wait", "p95_wait", "gpu_share", "share_ratio", "preemptions"];

fn team_rows(summaries: &[&RunSummary]) -> Vec<(String, &'static str, Vec<Option<f64>>)> {
    let mut teams = BTreeSet::new();
    for s in summaries {
        teams.extend(s.per_team.keys().cloned());
    }
    let mut rows = Vec::new();
    for t in teams {
        for m in TEAM_METRICS.iter().filter_map(|n| metric(n).ok()) {
            let v: Vec<Option<f64>> = summaries.iter().map(|s| m.value(s, Some(&t))).collect();
            if v.iter().any(Option::is_some) {
                rows.push((t.clone(), m.name, v));
            }
        }
    }
    rows
}

fn cell(v: Option<f64>, base: Option<f64>, first: bool) -> String {
    match (v, base) {
        (None, _) => "–".into(),
        (Some(x), Some(b)) if !first => format!("{} ({})", num(x), delta(b, x)),
        (Some(x), _) => num(x),
    }
}

/// The comparison as Markdown.
pub fn markdown(runs: &[RunData]) -> String {
    let labels = labels(runs);
    let summaries: Vec<&RunSummary> = runs.iter().map(|r| &r.summary).collect();
    let mut md = String::from("### fairway comparison\n\n");
    let heads: Vec<_> = labels.iter().map(|l| escape::markdown(l)).collect();
    let heads = heads.join(" | ");
    let _ = writeln!(md, "| metric | {heads} |");
    let _ = writeln!(md, "|---|{}", "---|".repeat(labels.len()));
    for (name, v) in headline(&summaries) {
        let cells: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(k, x)| cell(*x, v[0], k == 0))
            .collect();
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
    }
    let _ = writeln!(md, "\n| team | metric | {heads} |");
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(labels.len()));
    for (team, name, v) in team_rows(&summaries) {
        let cells: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(k, x)| cell(*x, v[0], k == 0))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {name} | {} |",
            escape::markdown(&team),
            cells.join(" | ")
        );
    }
    md
}

/// The overlaid charts: wait CDFs of all jobs and GPUs allocated over time, one line per run.
pub fn charts(runs: &[RunData]) -> Result<Vec<Chart>, RenderError> {
    let labels = labels(runs);
    let waits = runs
        .iter()
        .zip(&labels)
        .map(|(r, l)| (l.clone(), r.waits_h()))
        .collect();
    let end_h = runs.iter().map(RunData::end_h).fold(0.0, f64::max);
    let allocated = (runs.iter().zip(&labels))
        .map(|(r, l)| {
            Ok(Binned {
                name: l.clone(),
                points: r.allocated_binned(end_h)?,
            })
        })
        .collect::<Result<_, RenderError>>()?;
    Ok(vec![
        Chart::Cdf {
            stem: "compare_wait_cdf",
            title: "Wait (first start - submit), all jobs".into(),
            x_desc: "wait, hours".into(),
            series: waits,
        },
        Chart::Lines {
            stem: "compare_allocated",
            title: "GPUs allocated".into(),
            y_desc: "GPUs".into(),
            series: allocated,
            end_h,
        },
    ])
}

/// The comparison page.
pub fn html(runs: &[RunData]) -> Result<String, RenderError> {
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
    h.push_str("</table>\n<p class=\"muted\">Deltas are against the first run.</p>\n<h2>Headline</h2>\n<table>\n<tr><th>metric</th>");
    for l in &labels {
        let _ = write!(h, "<th>{}</th>", esc(l));
    }
    h.push_str("</tr>\n");
    for (name, v) in headline(&summaries) {
        let _ = write!(h, "<tr><td>{name}</td>");
        for (k, x) in v.iter().enumerate() {
            let _ = write!(h, "<td>{}</td>", esc(&cell(*x, v[0], k == 0)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Charts</h2>\n");
    for c in charts(runs)? {
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
    for (team, name, v) in team_rows(&summaries) {
        let _ = write!(h, "<tr><td>{}</td><td>{name}</td>", esc(&team));
        for (k, x) in v.iter().enumerate() {
            let _ = write!(h, "<td>{}</td>", esc(&cell(*x, v[0], k == 0)));
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
    let md = markdown(&runs);
    let html = html(&runs)?;
    crate::write_atomic(&out.join("compare.md"), |f| f.write_all(md.as_bytes()))?;
    crate::write_atomic(&out.join("compare.html"), |f| f.write_all(html.as_bytes()))?;
    claim.complete()?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_absolute_and_relative() {
        assert_eq!(delta(100.0, 110.0), "+10 (+10.0 %)");
        assert_eq!(delta(2.0, 1.5), "-0.500 (-25.0 %)");
        assert_eq!(delta(0.0, 3.0), "+3");
        assert_eq!(delta(5.0, 5.0), "=");
    }
}
