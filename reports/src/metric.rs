//! The metrics that checks, targets and sweeps name: each metric's name, unit and place in a
//! [`RunSummary`], and the amounts written against them (`5%`, `2h`, `3pp`).
//!
//! `fairway compare`'s checks ([`crate::compare::Check`]) and `fairway plan`'s targets
//! ([`Target`]) both read names and amounts here, so the two accept the same metrics and units.

use crate::metrics::{RunSummary, TeamSummary};

/// What a metric measures, which decides the units an amount of it may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Seconds: amounts in `s`, `m`, `h`, `d` or bare seconds.
    Seconds,
    /// A fraction (0..1): amounts in `%` or bare fractions.
    Fraction,
    /// Anything else (counts, GPU-hours, ratios): bare amounts.
    Plain,
}

/// Which way a change of a metric is an improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
    /// Neither way by itself (a team's share, GPU-hours used).
    Neither,
}

/// A change judged against a metric's [`Better`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
        }
    }
}

/// One metric of a run summary.
#[derive(Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub better: Better,
    /// `None` for team metrics (a team's share has no whole-run value).
    run: Option<fn(&RunSummary) -> Option<f64>>,
    /// `None` for whole-run metrics.
    team: Option<fn(&TeamSummary) -> Option<f64>>,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Metric {
    fn eq(&self, other: &Metric) -> bool {
        self.name == other.name
    }
}

impl Metric {
    /// The metric's value in one summary; with `team`, in that team's entry (`None` where the
    /// summary or the team lacks it, e.g. a whole-run metric asked of a team).
    pub fn value(&self, s: &RunSummary, team: Option<&str>) -> Option<f64> {
        match team {
            None => self.run.and_then(|f| f(s)),
            Some(t) => s.per_team.get(t).zip(self.team).and_then(|(t, f)| f(t)),
        }
    }

    /// Whether a team's entry has this metric.
    pub fn per_team(&self) -> bool {
        self.team.is_some()
    }

    /// Whether the whole run has this metric.
    pub fn whole_run(&self) -> bool {
        self.run.is_some()
    }

    /// A value as a person reads it: durations in s, m, h or d; fractions in %.
    pub fn show(&self, v: f64) -> String {
        match self.unit {
            Unit::Seconds => duration(v),
            Unit::Fraction => format!("{:.1} %", 100.0 * v),
            Unit::Plain => crate::html::num(v),
        }
    }

    /// The change from `from` to `to`, signed, in the metric's units: a duration, percentage
    /// points for fractions, a number otherwise; with the relative change beside durations and
    /// numbers when `from` is not 0. "=" for none.
    pub fn show_change(&self, from: f64, to: f64) -> String {
        let d = to - from;
        if d == 0.0 {
            return "=".into();
        }
        if self.negligible(from, to) {
            return "≈".into();
        }
        let sign = if d > 0.0 { "+" } else { "-" };
        let amount = match self.unit {
            Unit::Seconds => format!("{sign}{}", duration(d.abs())),
            Unit::Fraction => return format!("{sign}{:.1} pp", 100.0 * d.abs()),
            Unit::Plain => format!("{sign}{}", crate::html::num(d.abs())),
        };
        if from != 0.0 {
            format!("{amount}, {sign}{:.1} %", 100.0 * d.abs() / from.abs())
        } else {
            amount
        }
    }

    /// [`Metric::show_change`] with the verdict beside it where there is one: "+1h, +50.0 %,
    /// worse".
    pub fn judged_change(&self, from: f64, to: f64) -> String {
        let mark = self
            .verdict(from, to)
            .map_or(String::new(), |v| format!(", {}", v.word()));
        format!("{}{mark}", self.show_change(from, to))
    }

    /// A change too small to show at the precision changes are written in (under 0.05
    /// percentage points of a fraction, under 0.05 % of anything else): not marked either way.
    fn negligible(&self, from: f64, to: f64) -> bool {
        let d = (to - from).abs();
        match self.unit {
            Unit::Fraction => d < 0.0005,
            _ => from != 0.0 && d < 0.0005 * from.abs(),
        }
    }

    /// What a reader must know beside this metric's value for run `s`: utilisation measured
    /// over part of the GPU time only.
    pub fn partial(&self, s: &RunSummary) -> Option<String> {
        match (self.name, s.gpu_util_coverage) {
            ("gpu_utilisation_rate", Some(c)) if c < 1.0 => {
                Some(format!("of the {:.1} % of GPU time measured", 100.0 * c))
            }
            _ => None,
        }
    }

    /// Why two runs' values of this metric cannot be set side by side, if they cannot: a
    /// fairness figure over entitlements on different bases (nominal quota against equal
    /// shares), or a rate over the run's span where the spans differ by more than 1 % (a run
    /// twice as long halves its allocation rate for the same GPU-hours).
    pub fn incomparable(&self, a: &RunSummary, b: &RunSummary) -> Option<String> {
        match self.name {
            "jain_index" | "share_ratio" if a.fairness.basis != b.fairness.basis => Some(format!(
                "entitlements on different bases ({} vs {})",
                a.fairness.basis, b.fairness.basis
            )),
            "gpu_allocation_rate" | "gpu_utilisation_rate" | "fragmented_gpus_mean"
                if spans_differ(a.span_s, b.span_s) =>
            {
                Some(format!(
                    "rates over different spans ({} vs {}); compare gpu_hours, or allocation over the common window",
                    duration(a.span_s),
                    duration(b.span_s)
                ))
            }
            _ => None,
        }
    }

    /// Whether going from `from` to `to` is an improvement; `None` when equal or when neither
    /// direction is better.
    pub fn verdict(&self, from: f64, to: f64) -> Option<Verdict> {
        if to == from || self.negligible(from, to) {
            return None;
        }
        match self.better {
            Better::Lower if to < from => Some(Verdict::Better),
            Better::Higher if to > from => Some(Verdict::Better),
            Better::Neither => None,
            _ => Some(Verdict::Worse),
        }
    }
}

/// Whether two runs' spans (seconds) differ by more than 1 % of the longer: then their rates
/// over the span are not comparable.
pub fn spans_differ(a: f64, b: f64) -> bool {
    (a - b).abs() > 0.01 * a.max(b)
}

macro_rules! metric {
    ($name:literal, $unit:ident, $better:ident, run: $run:expr, team: $team:expr) => {
        Metric {
            name: $name,
            unit: Unit::$unit,
            better: Better::$better,
            run: $run,
            team: $team,
        }
    };
}

/// Every metric, in the order `sweep.csv` lists them.
pub const METRICS: &[Metric] = &[
    metric!("mean_wait", Seconds, Lower, run: Some(|s| s.wait_s.mean), team: Some(|t| t.wait_s.mean)),
    metric!("p50_wait", Seconds, Lower, run: Some(|s| s.wait_s.p50), team: Some(|t| t.wait_s.p50)),
    metric!("p90_wait", Seconds, Lower, run: Some(|s| s.wait_s.p90), team: Some(|t| t.wait_s.p90)),
    metric!("p95_wait", Seconds, Lower, run: Some(|s| s.wait_s.p95), team: Some(|t| t.wait_s.p95)),
    metric!("p99_wait", Seconds, Lower, run: Some(|s| s.wait_s.p99), team: Some(|t| t.wait_s.p99)),
    metric!("max_wait", Seconds, Lower, run: Some(|s| s.wait_s.max), team: Some(|t| t.wait_s.max)),
    metric!("mean_wait_km", Seconds, Lower, run: Some(|s| s.wait_s_km.mean), team: Some(|t| t.wait_s_km.mean)),
    metric!("p50_wait_km", Seconds, Lower, run: Some(|s| s.wait_s_km.p50), team: Some(|t| t.wait_s_km.p50)),
    metric!("p95_wait_km", Seconds, Lower, run: Some(|s| s.wait_s_km.p95), team: Some(|t| t.wait_s_km.p95)),
    metric!("mean_pending", Seconds, Lower, run: Some(|s| s.pending_s.mean), team: Some(|t| t.pending_s.mean)),
    metric!("p95_pending", Seconds, Lower, run: Some(|s| s.pending_s.p95), team: Some(|t| t.pending_s.p95)),
    metric!("mean_jct", Seconds, Lower, run: Some(|s| s.jct_s.mean), team: Some(|t| t.jct_s.mean)),
    metric!("p50_jct", Seconds, Lower, run: Some(|s| s.jct_s.p50), team: Some(|t| t.jct_s.p50)),
    metric!("p95_jct", Seconds, Lower, run: Some(|s| s.jct_s.p95), team: Some(|t| t.jct_s.p95)),
    metric!("p99_jct", Seconds, Lower, run: Some(|s| s.jct_s.p99), team: Some(|t| t.jct_s.p99)),
    metric!("mean_slowdown", Plain, Lower, run: Some(|s| s.slowdown.mean), team: Some(|t| t.slowdown.mean)),
    metric!("mean_bounded_slowdown", Plain, Lower, run: Some(|s| s.bounded_slowdown.mean), team: Some(|t| t.bounded_slowdown.mean)),
    metric!("p95_bounded_slowdown", Plain, Lower, run: Some(|s| s.bounded_slowdown.p95), team: Some(|t| t.bounded_slowdown.p95)),
    metric!("gpu_allocation_rate", Fraction, Higher, run: Some(|s| Some(s.gpu_allocation_rate)), team: None),
    metric!("gpu_utilisation_rate", Fraction, Higher, run: Some(|s| s.gpu_utilisation_rate), team: None),
    metric!("jain_index", Plain, Higher, run: Some(|s| s.fairness.jain_index), team: None),
    metric!("share_ratio", Plain, Neither, run: None, team: Some(|t| t.share_ratio)),
    metric!("gpu_share", Fraction, Neither, run: None, team: Some(|t| Some(t.gpu_share))),
    metric!("gpu_hours", Plain, Neither, run: Some(|s| Some(s.gpu_hours)), team: Some(|t| Some(t.gpu_hours))),
    metric!("makespan", Seconds, Lower, run: Some(|s| Some(s.makespan_s)), team: None),
    metric!("preemptions", Plain, Lower, run: Some(|s| Some(s.preemptions as f64)), team: Some(|t| Some(t.preemptions as f64))),
    metric!("lost_gpu_hours", Plain, Lower, run: Some(|s| Some(s.lost_gpu_hours)), team: None),
    metric!("jobs_finished", Plain, Higher, run: Some(|s| Some(s.counts.jobs_finished as f64)), team: Some(|t| Some(t.counts.jobs_finished as f64))),
    metric!("jobs_unschedulable", Plain, Lower, run: Some(|s| Some(s.counts.jobs_unschedulable as f64)), team: Some(|t| Some(t.counts.jobs_unschedulable as f64))),
    metric!("jobs_abandoned", Plain, Lower, run: Some(|s| Some(s.counts.jobs_abandoned as f64)), team: Some(|t| Some(t.counts.jobs_abandoned as f64))),
    metric!("interactive_within_target", Fraction, Higher, run: Some(|s| s.interactive_within_target), team: None),
    metric!("fragmented_gpus_mean", Plain, Lower, run: Some(|s| s.fragmented_gpus_mean), team: None),
    metric!("gpu_availability", Fraction, Higher, run: Some(|s| Some(s.gpu_availability)), team: None),
];

/// Seconds in the unit a person reads best (s, m, h, d), to three significant digits, so that
/// two close values stay apart: 100 s is 1.67m, 104 s 1.73m, 7,200 s 2h.
pub(crate) fn duration(s: f64) -> String {
    let (v, unit) = fairway_engine::time::in_human_unit(s);
    let text = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{unit}")
}

/// A metric name nobody knows.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown metric '{name}'; known: {}", METRICS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "))]
pub struct UnknownMetric {
    pub name: String,
}

/// The metric called `name`.
pub fn metric(name: &str) -> Result<&'static Metric, UnknownMetric> {
    METRICS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| UnknownMetric { name: name.into() })
}

/// `12.5h` -> (12.5, "h"): a number >= 0 and the unit after it.
pub fn split_amount(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let v: f64 = number.parse().ok()?;
    v.is_finite().then_some((v, unit.trim()))
}

/// An amount of time in `unit` (`s`, `m`, `h`, `d` or none) as seconds.
pub fn seconds(v: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "" | "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        "d" => v * 86400.0,
        _ => return None,
    })
}

/// An amount of `metric` as its own value: seconds for times, a fraction for `%`.
fn absolute(metric: &Metric, v: f64, unit: &str) -> Option<f64> {
    match (metric.unit, unit) {
        (Unit::Seconds, u) => seconds(v, u),
        (Unit::Fraction, "%") => Some(v / 100.0),
        (_, "") => Some(v),
        _ => None,
    }
}

/// The units an amount of `metric` may be written in, for errors.
fn units_of(metric: &Metric) -> &'static str {
    match metric.unit {
        Unit::Seconds => "s, m, h, d or none (seconds)",
        Unit::Fraction => "% or none (a fraction)",
        Unit::Plain => "none",
    }
}

/// A target a run must meet: `[team:NAME:]METRIC<=AMOUNT` or `>=`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// As written, for reports.
    pub text: String,
    pub team: Option<String>,
    pub metric: &'static Metric,
    pub at_most: bool,
    /// In the metric's own unit (seconds, fraction, ...).
    pub bound: f64,
}

/// A target or check that cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{what} '{text}': {why}; write e.g. {example}")]
pub struct AmountError {
    pub what: &'static str,
    pub text: String,
    pub why: String,
    pub example: &'static str,
}

impl std::str::FromStr for Target {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Target, AmountError> {
        let bad = |why: String| AmountError {
            what: "target",
            text: text.to_string(),
            why,
            example: "p95_wait<=2h or team:research:mean_wait<=30m",
        };
        let (team, rest) = match text.strip_prefix("team:") {
            Some(r) => {
                let (team, rest) = r
                    .split_once(':')
                    .ok_or_else(|| bad("team:NAME:METRIC...".into()))?;
                (Some(team.to_string()), rest)
            }
            None => (None, text),
        };
        let (name, at_most, amount) = if let Some((n, a)) = rest.split_once("<=") {
            (n, true, a)
        } else if let Some((n, a)) = rest.split_once(">=") {
            (n, false, a)
        } else {
            return Err(bad("no <= or >=".into()));
        };
        let metric = metric(name.trim()).map_err(|e| bad(e.to_string()))?;
        if team.is_some() && !metric.per_team() {
            return Err(bad(format!(
                "{} is a whole-run metric, not a team's",
                metric.name
            )));
        }
        let (v, unit) = split_amount(amount).ok_or_else(|| bad("the bound is not a number".into()))?;
        let bound = absolute(metric, v, unit).ok_or_else(|| {
            bad(format!(
                "unit '{unit}' does not suit {} (units: {})",
                metric.name,
                units_of(metric)
            ))
        })?;
        Ok(Target {
            text: text.to_string(),
            team,
            metric,
            at_most,
            bound,
        })
    }
}

/// Mean, sample standard deviation and count of values; `None` if any is missing or there are
/// none.
pub fn mean_sd(xs: &[Option<f64>]) -> Option<(f64, f64, usize)> {
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

/// Where a target stands at one point, over its seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The whole interval is within the bound.
    Met,
    /// The whole interval is beyond it.
    Missed,
    /// The interval straddles the bound: more seeds may settle it either way.
    Unsettled,
}

/// A target's metric over the seeds of one point: the mean and its two-sided 95 % Student
/// t-interval, cut at 0 (a single seed gives no interval: `lo` and `hi` are its value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub seeds: usize,
    pub standing: Standing,
}

impl Assessment {
    /// The interval as text, e.g. "95 % t-interval 1.2h–3.4h over 5 seeds"; for one seed, that
    /// there is none.
    pub fn interval_text(&self, metric: &Metric) -> String {
        if self.seeds < 2 {
            "1 seed: no interval".into()
        } else if self.lo == self.hi {
            format!("the same in all {} seeds", self.seeds)
        } else {
            format!(
                "95 % t-interval {}–{} over {} seeds",
                metric.show(self.lo),
                metric.show(self.hi),
                self.seeds
            )
        }
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (the half-width of a
/// two-sided 95 % interval, in standard errors); above 30, the next smaller tabulated df's.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        31..=40 => 2.042,
        41..=60 => 2.021,
        61..=120 => 2.000,
        121..=1000 => 1.980,
        _ => 1.962,
    }
}

impl Target {
    /// The target's metric over `runs` (one per seed), with its interval and where it stands
    /// against the bound; `None` when a run lacks the metric.
    pub fn assess(&self, runs: &[RunSummary]) -> Option<Assessment> {
        let xs: Vec<Option<f64>> = runs
            .iter()
            .map(|r| self.metric.value(r, self.team.as_deref()))
            .collect();
        let (mean, sd, n) = mean_sd(&xs)?;
        let half = if n > 1 {
            t95(n - 1) * sd / (n as f64).sqrt()
        } else {
            0.0
        };
        // Every metric is a time, a fraction, a count or a ratio: none is below 0.
        let (lo, hi) = ((mean - half).max(0.0), mean + half);
        let within = |v: f64| {
            if self.at_most {
                v <= self.bound
            } else {
                v >= self.bound
            }
        };
        let standing = match (within(lo), within(hi)) {
            (true, true) => Standing::Met,
            (false, false) => Standing::Missed,
            _ => Standing::Unsettled,
        };
        Some(Assessment {
            mean,
            lo,
            hi,
            seeds: n,
            standing,
        })
    }

    /// Whether `runs` meet the target: its whole interval within the bound (a metric no run
    /// has fails).
    pub fn meets(&self, runs: &[RunSummary]) -> bool {
        self.assess(runs).is_some_and(|a| a.standing == Standing::Met)
    }

    /// The target's metric name, without the team or bound.
    pub fn metric_name(&self) -> &'static str {
        self.metric.name
    }

    /// Puts the team the target means in place of the name it was written with (a team, or a
    /// queue that `team_of` knows), before anything runs; `team_of` says why a name is unknown.
    pub fn name_team(&mut self, team_of: impl Fn(&str) -> Result<String, String>) -> Result<(), AmountError> {
        if let Some(name) = &self.team {
            let team = team_of(name).map_err(|why| AmountError {
                what: "target",
                text: self.text.clone(),
                why,
                example: "team:NAME:p95_wait<=2h with a team, LocalQueue or ClusterQueue of the run",
            })?;
            self.team = Some(team);
        }
        Ok(())
    }
}

/// Parses a tolerance or bound amount for `metric` in `%`-of-baseline terms: used by checks.
pub(crate) fn tolerance_amount(metric: &Metric, v: f64, unit: &str) -> Option<Tolerance> {
    match (metric.unit, unit) {
        (_, "%") => Some(Tolerance::Relative(v / 100.0)),
        (Unit::Fraction, "pp") => Some(Tolerance::Absolute(v / 100.0)),
        (Unit::Seconds, u) => seconds(v, u).map(Tolerance::Absolute),
        (_, "") => Some(Tolerance::Absolute(v)),
        _ => None,
    }
}

/// How far a metric may move before a check fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// A fraction of the baseline (5 % is 0.05).
    Relative(f64),
    /// An amount in the metric's unit (percentage points are stored as a fraction: 2pp is 0.02).
    Absolute(f64),
}

/// The units a check's tolerance for `metric` may be written in, for errors.
pub(crate) fn tolerance_units(metric: &Metric) -> &'static str {
    match metric.unit {
        Unit::Seconds => "%, s, m, h, d or none",
        Unit::Fraction => "%, pp or none",
        Unit::Plain => "% or none",
    }
}
