//! The CI gate: compare a candidate against a baseline on named metrics, each with a tolerance,
//! and say which checks hold, as Markdown (for a pull-request comment) and JUnit XML (for CI
//! systems).
//!
//! A check is `METRIC:[+|-]AMOUNT[UNIT]`. The sign says which direction is a regression (`+`: the
//! metric must not rise by more than AMOUNT; `-`: it must not fall by more). UNIT is `%` (of the
//! baseline), `pp` (percentage points, for fractions such as `gpu_allocation_rate`), `s`, `m`,
//! `h` (for times in seconds) or nothing (the metric's own unit).
//!
//! With several seeds per side, each side is the mean over its seeds, and a check fails only if
//! the change also exceeds the noise: twice the standard error of the difference of the means
//! (sqrt(s_b^2 / n_b + s_c^2 / n_c), sample standard deviations). With one seed per side there is
//! no noise estimate and the tolerance alone decides.

use serde_json::Value;
use std::fmt::Write as _;

/// Metric names and where they live in `summary.json` (a `per_team` entry has the same paths).
pub const METRICS: &[(&str, &str)] = &[
    ("mean_wait", "wait_s.mean"),
    ("p50_wait", "wait_s.p50"),
    ("p90_wait", "wait_s.p90"),
    ("p95_wait", "wait_s.p95"),
    ("p99_wait", "wait_s.p99"),
    ("max_wait", "wait_s.max"),
    ("mean_pending", "pending_s.mean"),
    ("p95_pending", "pending_s.p95"),
    ("mean_jct", "jct_s.mean"),
    ("p50_jct", "jct_s.p50"),
    ("p95_jct", "jct_s.p95"),
    ("p99_jct", "jct_s.p99"),
    ("mean_slowdown", "slowdown.mean"),
    ("mean_bounded_slowdown", "bounded_slowdown.mean"),
    ("p95_bounded_slowdown", "bounded_slowdown.p95"),
    ("gpu_allocation_rate", "gpu_allocation_rate"),
    ("gpu_utilisation_rate", "gpu_utilisation_rate"),
    ("jain_index", "fairness.jain_index"),
    ("share_ratio", "share_ratio"),
    ("gpu_share", "gpu_share"),
    ("gpu_hours", "gpu_hours"),
    ("makespan", "makespan_s"),
    ("preemptions", "preemptions"),
    ("lost_gpu_hours", "lost_gpu_hours"),
    ("jobs_finished", "jobs_finished"),
    ("jobs_unschedulable", "jobs_unschedulable"),
    ("jobs_abandoned", "jobs_abandoned"),
    ("interactive_within_target", "interactive_within_target"),
    ("fragmented_gpus_mean", "fragmented_gpus_mean"),
    ("gpu_availability", "gpu_availability"),
];

/// The path in `summary.json` of a metric, or an error listing the known names (`what` names the
/// thing being parsed in the message).
pub fn metric_path(name: &str, what: &str) -> Result<(&'static str, &'static str), String> {
    METRICS.iter().copied().find(|(m, _)| *m == name).ok_or_else(|| {
        let names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
        format!("{what}: unknown metric '{name}'; known: {}", names.join(", "))
    })
}

/// `12.5h` -> (12.5, "h"): a number >= 0 and the unit after it.
pub fn split_amount(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let v: f64 = number.parse().ok()?;
    v.is_finite().then_some((v, unit))
}

/// How far a metric may move before the check fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// A fraction of the baseline (5 % is 0.05).
    Relative(f64),
    /// An amount in the metric's unit (percentage points are stored as a fraction: 2pp is 0.02).
    Absolute(f64),
}

/// One `--fail-on` check.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// As written, for reports.
    pub text: String,
    pub metric: &'static str,
    path: &'static str,
    /// True: a rise is a regression; false: a fall is.
    pub rise_is_worse: bool,
    pub tolerance: Tolerance,
}

impl std::str::FromStr for Check {
    type Err = String;

    fn from_str(text: &str) -> Result<Check, String> {
        let bad = |why: &str| {
            format!(
                "check '{text}': {why}; write METRIC:+AMOUNT or METRIC:-AMOUNT with a unit %, pp, s, m, h or none, e.g. p95_wait:+5%"
            )
        };
        let (name, rest) = text.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let (metric, path) = metric_path(name.trim(), &format!("check '{text}'"))?;
        let rest = rest.trim();
        let (rise_is_worse, amount) = match rest.chars().next() {
            Some('+') => (true, &rest[1..]),
            Some('-') => (false, &rest[1..]),
            _ => return Err(bad("the amount needs a sign")),
        };
        let (v, unit) = split_amount(amount).ok_or_else(|| bad("the amount is not a number"))?;
        let tolerance = match unit {
            "%" => Tolerance::Relative(v / 100.0),
            "pp" => Tolerance::Absolute(v / 100.0),
            "" | "s" => Tolerance::Absolute(v),
            "m" => Tolerance::Absolute(v * 60.0),
            "h" => Tolerance::Absolute(v * 3600.0),
            _ => return Err(bad("unknown unit")),
        };
        Ok(Check {
            text: text.trim().to_string(),
            metric,
            path,
            rise_is_worse,
            tolerance,
        })
    }
}

/// A metric's value in one summary (`team` selects a `per_team` entry).
pub fn value(summary: &Value, path: &str, team: Option<&str>) -> Option<f64> {
    let mut v = match team {
        Some(t) => summary.get("per_team")?.get(t)?,
        None => summary,
    };
    for part in path.split('.') {
        v = v.get(part)?;
    }
    v.as_f64()
}

/// Mean and sample standard deviation; `None` if any run lacks the value.
fn stats(xs: &[Option<f64>]) -> Option<(f64, f64, usize)> {
    let xs: Vec<f64> = xs.iter().copied().collect::<Option<_>>()?;
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    Some((mean, var.sqrt(), n))
}

/// What one check found.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
    /// The value the candidate may not pass.
    pub limit: Option<f64>,
    /// Twice the standard error of the difference (0 with one seed a side).
    pub noise: f64,
    pub passed: bool,
    pub note: String,
}

/// Evaluates every check on the whole run and, with `per_team`, on every team both sides have.
/// `base` and `cand` hold one summary per seed.
pub fn evaluate(checks: &[Check], base: &[Value], cand: &[Value], per_team: bool) -> Vec<Outcome> {
    let mut scopes: Vec<Option<String>> = vec![None];
    if per_team && let (Some(b), Some(c)) = (base.first(), cand.first()) {
        let teams = |v: &Value| -> Vec<String> {
            v.get("per_team")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let ct = teams(c);
        scopes.extend(teams(b).into_iter().filter(|t| ct.contains(t)).map(Some));
    }
    let mut out = Vec::new();
    for scope in &scopes {
        for check in checks {
            let team = scope.as_deref();
            let vals = |side: &[Value]| -> Vec<Option<f64>> {
                side.iter().map(|s| value(s, check.path, team)).collect()
            };
            let name = match team {
                Some(t) => format!("{} [team {t}]", check.text),
                None => check.text.clone(),
            };
            // A team-level check of a whole-run metric has no value: skip it.
            if team.is_some()
                && base.first().and_then(|b| value(b, check.path, team)).is_none()
                && cand.first().and_then(|c| value(c, check.path, team)).is_none()
            {
                continue;
            }
            out.push(judge(check, name, stats(&vals(base)), stats(&vals(cand))));
        }
    }
    out
}

fn judge(check: &Check, name: String, b: Option<(f64, f64, usize)>, c: Option<(f64, f64, usize)>) -> Outcome {
    let (Some((bm, bs, bn)), Some((cm, cs, cn))) = (b, c) else {
        let both_missing = b.is_none() && c.is_none();
        return Outcome {
            name,
            baseline: b.map(|x| x.0),
            candidate: c.map(|x| x.0),
            limit: None,
            noise: 0.0,
            passed: both_missing,
            note: if both_missing {
                "no value on either side (e.g. no job started): skipped".into()
            } else {
                "a value on one side only".into()
            },
        };
    };
    let slack = match check.tolerance {
        Tolerance::Relative(f) => bm.abs() * f,
        Tolerance::Absolute(a) => a,
    };
    let limit = if check.rise_is_worse {
        bm + slack
    } else {
        bm - slack
    };
    let noise = if bn > 1 || cn > 1 {
        2.0 * (bs * bs / bn as f64 + cs * cs / cn as f64).sqrt()
    } else {
        0.0
    };
    let beyond = if check.rise_is_worse {
        cm > limit
    } else {
        cm < limit
    };
    let diff = (cm - bm).abs();
    let passed = !beyond || diff <= noise;
    let note = if beyond && passed {
        "beyond the tolerance but within the seed noise".to_string()
    } else {
        String::new()
    };
    Outcome {
        name,
        baseline: Some(bm),
        candidate: Some(cm),
        limit: Some(limit),
        noise,
        passed,
        note,
    }
}

fn num(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
    }
}

/// The Markdown summary: a headline and one table row per check.
pub fn markdown(outcomes: &[Outcome], baseline: &str, candidate: &str, seeds: usize) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let mut s = String::new();
    let verdict = if failed == 0 { "PASS" } else { "FAIL" };
    let _ = writeln!(
        s,
        "### fairway compare: {verdict} ({} of {} checks hold)\n",
        outcomes.len() - failed,
        outcomes.len()
    );
    let _ = writeln!(
        s,
        "Baseline `{baseline}`, candidate `{candidate}`; {seeds} seed(s) a side, means compared.\n"
    );
    let _ = writeln!(
        s,
        "| check | baseline | candidate | change | limit | noise | result |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for o in outcomes {
        let change = match (o.baseline, o.candidate) {
            (Some(b), Some(c)) if b != 0.0 => format!("{:+.1}%", (c - b) / b.abs() * 100.0),
            (Some(b), Some(c)) if c >= b => format!("+{}", num(Some(c - b))),
            (Some(b), Some(c)) => num(Some(c - b)),
            _ => "-".into(),
        };
        let result = if o.passed { "ok" } else { "**regressed**" };
        let note = if o.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", o.note)
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {result}{note} |",
            o.name,
            num(o.baseline),
            num(o.candidate),
            change,
            num(o.limit),
            num(Some(o.noise))
        );
    }
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test case per check; a regression is a failure.
pub fn junit(outcomes: &[Outcome]) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuite name=\"fairway compare\" tests=\"{}\" failures=\"{failed}\">",
        outcomes.len()
    );
    for o in outcomes {
        let _ = write!(
            s,
            "  <testcase classname=\"fairway.compare\" name=\"{}\"",
            xml_escape(&o.name)
        );
        if o.passed {
            let _ = writeln!(s, "/>");
        } else {
            let msg = format!(
                "baseline {}, candidate {}, limit {}{}",
                num(o.baseline),
                num(o.candidate),
                num(o.limit),
                if o.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", o.note)
                }
            );
            let _ = writeln!(
                s,
                ">\n    <failure message=\"{}\"/>\n  </testcase>",
                xml_escape(&msg)
            );
        }
    }
    s.push_str("</testsuite>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary(p95: f64, alloc: f64) -> Value {
        json!({ "wait_s": { "p95": p95 }, "gpu_allocation_rate": alloc,
                "per_team": { "a": { "wait_s": { "p95": p95 * 2.0 } } } })
    }

    #[test]
    fn checks_parse_with_their_units() {
        let c: Check = "p95_wait:+5%".parse().unwrap();
        assert_eq!((c.rise_is_worse, c.tolerance), (true, Tolerance::Relative(0.05)));
        let c: Check = "gpu_allocation_rate:-2pp".parse().unwrap();
        assert_eq!((c.rise_is_worse, c.tolerance), (false, Tolerance::Absolute(0.02)));
        let c: Check = "mean_wait:+10m".parse().unwrap();
        assert_eq!(c.tolerance, Tolerance::Absolute(600.0));
        assert!(
            "p95_wait:5%"
                .parse::<Check>()
                .unwrap_err()
                .contains("needs a sign")
        );
        assert!(
            "p96_wait:+5%"
                .parse::<Check>()
                .unwrap_err()
                .contains("unknown metric 'p96_wait'")
        );
        assert!(
            "p95_wait:+5x"
                .parse::<Check>()
                .unwrap_err()
                .contains("unknown unit")
        );
    }

    /// Baseline p95 100 s, allocation 0.50. Candidate p95 104 s (limit 105: holds), allocation
    /// 0.47 (limit 0.48: regressed). Per team a: p95 208 vs 200, limit 210: holds.
    #[test]
    fn one_seed_a_side_the_tolerance_decides() {
        let checks: Vec<Check> = ["p95_wait:+5%", "gpu_allocation_rate:-2pp"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let o = evaluate(&checks, &[summary(100.0, 0.50)], &[summary(104.0, 0.47)], true);
        let got: Vec<(&str, bool, Option<f64>)> =
            o.iter().map(|o| (o.name.as_str(), o.passed, o.limit)).collect();
        assert_eq!(
            got,
            [
                ("p95_wait:+5%", true, Some(105.0)),
                ("gpu_allocation_rate:-2pp", false, Some(0.48)),
                ("p95_wait:+5% [team a]", true, Some(210.0)),
            ]
        );
        let md = markdown(&o, "main", "pr", 1);
        assert!(
            md.starts_with("### fairway compare: FAIL (2 of 3 checks hold)"),
            "{md}"
        );
        let x = junit(&o);
        assert!(x.contains("tests=\"3\" failures=\"1\""), "{x}");
        assert!(
            x.contains("<failure message=\"baseline 0.5, candidate 0.47, limit 0.48\"/>"),
            "{x}"
        );
    }

    /// Seeds: baseline p95 {90, 110} (mean 100, s 14.14), candidate {100, 120} (mean 110, s
    /// 14.14). Limit 105 is passed, but the noise is 2 sqrt(200/2 + 200/2) = 28.3 > 10: holds.
    /// Candidate {130, 130}: mean 130, noise 2 sqrt(100 + 0) = 20 < 30: regressed.
    #[test]
    fn several_seeds_a_side_the_noise_counts_too() {
        let checks: Vec<Check> = vec!["p95_wait:+5%".parse().unwrap()];
        let base = [summary(90.0, 0.5), summary(110.0, 0.5)];
        let o = evaluate(&checks, &base, &[summary(100.0, 0.5), summary(120.0, 0.5)], false);
        assert!(o[0].passed && (o[0].noise - 28.284).abs() < 0.001, "{o:?}");
        assert_eq!(o[0].note, "beyond the tolerance but within the seed noise");
        let o = evaluate(&checks, &base, &[summary(130.0, 0.5), summary(130.0, 0.5)], false);
        assert!(!o[0].passed && (o[0].noise - 20.0).abs() < 1e-9, "{o:?}");
    }
}
