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

use crate::escape::{markdown_code, xml};
use crate::metric::{
    AmountError, Metric, Tolerance, Unit, mean_sd, metric, split_amount, tolerance_amount, tolerance_units,
};
use crate::metrics::RunSummary;
use std::fmt::Write as _;

/// One `--fail-on` check.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// As written, for reports.
    pub text: String,
    pub metric: &'static Metric,
    /// True: a rise is a regression; false: a fall is.
    pub rise_is_worse: bool,
    pub tolerance: Tolerance,
}

impl std::str::FromStr for Check {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Check, AmountError> {
        let bad = |why: String| AmountError {
            what: "check",
            text: text.to_string(),
            why,
            example: "METRIC:+AMOUNT or METRIC:-AMOUNT, as p95_wait:+5% or gpu_allocation_rate:-2pp",
        };
        let (name, rest) = text.split_once(':').ok_or_else(|| bad("no ':'".into()))?;
        let metric = metric(name.trim()).map_err(|e| bad(e.to_string()))?;
        let rest = rest.trim();
        let (rise_is_worse, amount) = match rest.chars().next() {
            Some('+') => (true, &rest[1..]),
            Some('-') => (false, &rest[1..]),
            _ => return Err(bad("the amount needs a sign".into())),
        };
        let (v, unit) = split_amount(amount).ok_or_else(|| bad("the amount is not a number".into()))?;
        let tolerance = tolerance_amount(metric, v, unit).ok_or_else(|| {
            bad(format!(
                "unit '{unit}' does not suit {} (units: {})",
                metric.name,
                tolerance_units(metric)
            ))
        })?;
        Ok(Check {
            text: text.trim().to_string(),
            metric,
            rise_is_worse,
            tolerance,
        })
    }
}

/// What one check found.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub metric: &'static Metric,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
    /// The value the candidate may not pass.
    pub limit: Option<f64>,
    /// Twice the standard error of the difference (0 with one seed a side).
    pub noise: f64,
    pub passed: bool,
    /// The two sides' values are on different bases ([`Metric::incomparable`]): shown, not
    /// compared, and not passed (the note says why).
    pub flagged: bool,
    pub note: String,
}

/// The (mean, standard deviation, seeds) of a check's metric on one side, if any.
type Side = Option<(f64, f64, usize)>;

impl Outcome {
    /// A check that does not pass without being judged against a limit: `flagged` when the two
    /// sides are on different bases; `note` says why.
    fn failed(check: &Check, name: String, (b, c): (Side, Side), flagged: bool, note: String) -> Outcome {
        Outcome {
            name,
            metric: check.metric,
            baseline: b.map(|x| x.0),
            candidate: c.map(|x| x.0),
            limit: None,
            noise: 0.0,
            passed: false,
            flagged,
            note,
        }
    }
}

/// Checks that have no value on either side: the gate cannot tell, so it does not pass.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "cannot evaluate {}: no value on either side (no job started, or a summary without the metric); a gate that cannot tell does not pass",
    checks.join(", ")
)]
pub struct Unevaluable {
    pub checks: Vec<String>,
}

/// Evaluates every check on the whole run and, with `per_team`, on every team both sides have
/// (a whole-run metric is not asked of a team). `base` and `cand` hold one summary per seed. A
/// check with no value on either side is an error, never a pass.
pub fn evaluate(
    checks: &[Check],
    base: &[RunSummary],
    cand: &[RunSummary],
    per_team: bool,
) -> Result<Vec<Outcome>, Unevaluable> {
    let mut scopes: Vec<Option<String>> = vec![None];
    if per_team && let (Some(b), Some(c)) = (base.first(), cand.first()) {
        scopes.extend(
            b.per_team
                .keys()
                .filter(|t| c.per_team.contains_key(*t))
                .cloned()
                .map(Some),
        );
    }
    let mut out = Vec::new();
    let mut unevaluable = Vec::new();
    for scope in &scopes {
        for check in checks {
            let team = scope.as_deref();
            let vals = |side: &[RunSummary]| -> Vec<Option<f64>> {
                side.iter().map(|s| check.metric.value(s, team)).collect()
            };
            let name = match team {
                Some(t) => format!("{} [team {t}]", check.text),
                None => check.text.clone(),
            };
            // With --per-team, a team metric is not asked of the whole run, nor a whole-run one
            // of a team.
            let asked = match team {
                Some(_) => check.metric.per_team(),
                None => check.metric.whole_run() || !per_team,
            };
            if !asked {
                continue;
            }
            let (b, c) = (mean_sd(&vals(base)), mean_sd(&vals(cand)));
            if b.is_none() && c.is_none() {
                unevaluable.push(name);
                continue;
            }
            let why = (base.first().zip(cand.first())).and_then(|(x, y)| check.metric.incomparable(x, y));
            if let Some(why) = why {
                // Flagged, not compared; a gate that cannot tell does not pass.
                out.push(Outcome::failed(check, name, (b, c), true, why));
                continue;
            }
            let mut o = judge(check, name, b, c);
            // Utilisation over part of the GPU time says so beside its figure, per side.
            let partial: Vec<String> = [("baseline", base), ("candidate", cand)]
                .iter()
                .filter_map(|(side, runs)| Some(format!("{side} {}", check.metric.partial(runs.first()?)?)))
                .collect();
            if !partial.is_empty() {
                let p = partial.join(", ");
                o.note = if o.note.is_empty() {
                    p
                } else {
                    format!("{}; {p}", o.note)
                };
            }
            out.push(o);
        }
    }
    if unevaluable.is_empty() {
        Ok(out)
    } else {
        Err(Unevaluable { checks: unevaluable })
    }
}

fn judge(check: &Check, name: String, b: Side, c: Side) -> Outcome {
    let (Some((bm, bs, bn)), Some((cm, cs, cn))) = (b, c) else {
        // A value on one side only: the candidate lost (or gained) what the baseline measured.
        return Outcome::failed(check, name, (b, c), false, "a value on one side only".into());
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
        metric: check.metric,
        baseline: Some(bm),
        candidate: Some(cm),
        limit: Some(limit),
        noise,
        passed,
        flagged: false,
        note,
    }
}

/// A value of the check's metric in human units ("-" for none).
fn show(o: &Outcome, x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| o.metric.show(v))
}

/// The seed noise, an amount of the metric: a duration, percentage points or a number.
fn show_noise(o: &Outcome) -> String {
    match o.metric.unit {
        Unit::Fraction => format!("{:.1} pp", 100.0 * o.noise),
        _ => o.metric.show(o.noise),
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
        "Baseline {}, candidate {}; {seeds} seed(s) a side, means compared.\n",
        markdown_code(baseline),
        markdown_code(candidate)
    );
    let _ = writeln!(
        s,
        "| check | baseline | candidate | change | limit | noise | result |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for o in outcomes {
        let change = match (o.baseline, o.candidate) {
            _ if o.flagged => "-".into(),
            (Some(b), Some(c)) => o.metric.judged_change(b, c),
            _ => "-".into(),
        };
        let result = match (o.flagged, o.passed) {
            (true, _) => "**not compared**",
            (false, true) => "ok",
            (false, false) => "**regressed**",
        };
        let note = if o.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", o.note)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {result}{note} |",
            markdown_code(&o.name),
            show(o, o.baseline),
            show(o, o.candidate),
            change,
            show(o, o.limit),
            if seeds > 1 {
                show_noise(o)
            } else {
                "–".to_string()
            }
        );
    }
    s
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
            xml(&o.name)
        );
        if o.passed {
            let _ = writeln!(s, "/>");
        } else {
            let msg = format!(
                "baseline {}, candidate {}, limit {}{}",
                show(o, o.baseline),
                show(o, o.candidate),
                show(o, o.limit),
                if o.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", o.note)
                }
            );
            let _ = writeln!(s, ">\n    <failure message=\"{}\"/>\n  </testcase>", xml(&msg));
        }
    }
    s.push_str("</testsuite>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Tolerance;
    use crate::metrics::{Dist, TeamSummary};

    fn p95(p95: f64) -> Dist {
        Dist {
            count: 1,
            p95: Some(p95),
            ..Dist::default()
        }
    }

    fn summary(p95_wait: f64, alloc: f64) -> RunSummary {
        let team = TeamSummary {
            wait_s: p95(p95_wait * 2.0),
            ..TeamSummary::default()
        };
        RunSummary {
            wait_s: p95(p95_wait),
            gpu_allocation_rate: alloc,
            per_team: [("a".to_string(), team)].into(),
            ..RunSummary::default()
        }
    }

    #[test]
    fn checks_parse_with_their_units() {
        let c: Check = "p95_wait:+5%".parse().unwrap();
        assert_eq!((c.rise_is_worse, c.tolerance), (true, Tolerance::Relative(0.05)));
        let c: Check = "gpu_allocation_rate:-2pp".parse().unwrap();
        assert_eq!((c.rise_is_worse, c.tolerance), (false, Tolerance::Absolute(0.02)));
        let c: Check = "mean_wait:+10m".parse().unwrap();
        assert_eq!(c.tolerance, Tolerance::Absolute(600.0));
        let c: Check = "mean_wait:+1d".parse().unwrap();
        assert_eq!(c.tolerance, Tolerance::Absolute(86400.0));
        let err = |t: &str| t.parse::<Check>().unwrap_err().to_string();
        assert!(err("p95_wait:5%").contains("needs a sign"));
        assert!(err("p96_wait:+5%").contains("unknown metric 'p96_wait'"));
        assert!(err("p95_wait:+5x").contains("unit 'x' does not suit p95_wait"));
        // Percentage points are for fractions, minutes for times.
        assert!(err("p95_wait:+2pp").contains("(units: %, s, m, h, d or none)"));
        assert!(err("jain_index:-5m").contains("(units: % or none)"));
    }

    /// Baseline p95 100 s, allocation 0.50. Candidate p95 104 s (limit 105: holds), allocation
    /// 0.47 (limit 0.48: regressed). Per team a: p95 208 vs 200, limit 210: holds.
    #[test]
    fn one_seed_a_side_the_tolerance_decides() {
        let checks: Vec<Check> = ["p95_wait:+5%", "gpu_allocation_rate:-2pp"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let o = evaluate(&checks, &[summary(100.0, 0.50)], &[summary(104.0, 0.47)], true).unwrap();
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
        // In human units: p95 100 s to 104 s (4 s more, 4 %), allocation 50 % to 47 %.
        assert!(
            md.contains("| `p95_wait:+5%` | 1.67m | 1.73m | +4s, +4.0 %, worse | 1.75m | – | ok |"),
            "{md}"
        );
        assert!(
            md.contains("| 50.0 % | 47.0 % | -3.0 pp, worse | 48.0 % | – | **regressed** |"),
            "{md}"
        );
        let x = junit(&o);
        assert!(x.contains("tests=\"3\" failures=\"1\""), "{x}");
        assert!(
            x.contains("<failure message=\"baseline 50.0 %, candidate 47.0 %, limit 48.0 %\"/>"),
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
        let o = evaluate(&checks, &base, &[summary(100.0, 0.5), summary(120.0, 0.5)], false).unwrap();
        assert!(o[0].passed && (o[0].noise - 28.284).abs() < 0.001, "{o:?}");
        assert_eq!(o[0].note, "beyond the tolerance but within the seed noise");
        let o = evaluate(&checks, &base, &[summary(130.0, 0.5), summary(130.0, 0.5)], false).unwrap();
        assert!(!o[0].passed && (o[0].noise - 20.0).abs() < 1e-9, "{o:?}");
    }

    /// Summaries that hold no value of the checked metric (here: nothing at all, as a
    /// summary.json with only its schema key reads) fail closed; a value on one side only is a
    /// regression.
    #[test]
    fn a_check_that_cannot_be_evaluated_fails_closed() {
        let checks: Vec<Check> = vec![
            "p95_wait:+5%".parse().unwrap(),
            "jain_index:-0.01".parse().unwrap(),
        ];
        let empty = RunSummary::default();
        let one = std::slice::from_ref(&empty);
        let e = evaluate(&checks, one, one, false).unwrap_err();
        assert_eq!(e.checks, ["p95_wait:+5%", "jain_index:-0.01"]);
        let o = evaluate(&checks[..1], &[summary(100.0, 0.5)], &[empty], false).unwrap();
        assert!(!o[0].passed && o[0].note == "a value on one side only", "{o:?}");
    }

    /// Runs of 100 h and 200 h: their allocation rates are over different spans, so the check
    /// is flagged (shown, not passed, the reason given) rather than judged; a 0.5 % longer run
    /// is compared as usual. Fairness on equal shares against nominal quota is flagged too.
    #[test]
    fn metrics_on_different_bases_are_flagged_not_compared() {
        let run = |span_h: f64, alloc: f64, basis: &str| {
            let mut s = RunSummary {
                span_s: span_h * 3600.0,
                gpu_allocation_rate: alloc,
                ..RunSummary::default()
            };
            s.fairness.basis = basis.into();
            s.fairness.jain_index = Some(0.5);
            s
        };
        let checks: Vec<Check> = ["gpu_allocation_rate:-2pp", "jain_index:-5%"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let o = evaluate(
            &checks,
            &[run(100.0, 0.4, "equal")],
            &[run(200.0, 0.3, "nominal quota")],
            false,
        )
        .unwrap();
        assert!(
            o.iter().all(|o| o.flagged && !o.passed && o.limit.is_none()),
            "{o:?}"
        );
        assert_eq!(
            o[0].note,
            "rates over different spans (4.17d vs 8.33d); compare gpu_hours, or allocation over the common window"
        );
        assert_eq!(
            o[1].note,
            "entitlements on different bases (equal vs nominal quota)"
        );
        let md = markdown(&o, "a", "b", 1);
        assert!(
            md.contains("| 40.0 % | 30.0 % | - | - |") && md.contains("**not compared** (rates over"),
            "{md}"
        );
        let o = evaluate(
            &checks,
            &[run(100.0, 0.4, "equal")],
            &[run(100.5, 0.39, "equal")],
            false,
        )
        .unwrap();
        assert!(o.iter().all(|o| !o.flagged && o.passed), "{o:?}");
    }

    /// Utilisation measured over 4.8 % of the GPU time is never shown alone.
    #[test]
    fn partial_utilisation_carries_its_coverage() {
        let run = RunSummary {
            gpu_utilisation_rate: Some(0.5),
            gpu_util_coverage: Some(0.048),
            ..RunSummary::default()
        };
        let checks: Vec<Check> = vec!["gpu_utilisation_rate:-1pp".parse().unwrap()];
        let o = evaluate(
            &checks,
            std::slice::from_ref(&run),
            std::slice::from_ref(&run),
            false,
        )
        .unwrap();
        assert_eq!(
            o[0].note,
            "baseline of the 4.8 % of GPU time measured, candidate of the 4.8 % of GPU time measured"
        );
    }
}
