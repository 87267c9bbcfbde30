//! `fairway plan`: the smallest capacity addition that meets every target.
//!
//! One pool's node count varies over a range of additions. The search assumes that adding nodes
//! never makes a target harder to meet (more capacity, no longer waits), bisects on that
//! assumption, and checks it on every point it evaluates: if a point meets the targets while a
//! larger one does not, the assumption is broken there and the search falls back to trying every
//! addition in order. With several pools, the cheapest combination that meets every target wins.
//! A point meets a target when the whole 95 % Student t-interval of the mean over its seeds is
//! within the bound ([`Target::assess`]); an interval that straddles the bound leaves the point
//! unsettled, and the answer says so rather than yes or no.

use super::seeds::{AddNodes, replicate};
use super::{Executor, StudyError};
use crate::Scenario;
use fairway_policies::Registry;
use fairway_reports::RunSummary;
use fairway_reports::metric::{Assessment, Standing, Target};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// What a plan varies, from `lo` to `hi`: nodes added to a pool (`pool.NAME.nodes=A..B`), or a
/// Kueue ClusterQueue's nominal quota (`kueue.CQ.FLAVOR.RESOURCE.nominal=A..B`, in the
/// resource's units as Kueue counts them, with an optional common suffix such as `Gi`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vary {
    pub knob: Knob,
    pub lo: i64,
    pub hi: i64,
}

/// The setting a plan varies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Knob {
    Pool(String),
    Nominal {
        cluster_queue: String,
        flavor: String,
        resource: String,
        /// The quantity's suffix (`Gi`), the same at both ends of the range.
        suffix: String,
    },
}

impl Vary {
    /// The pool varied, if the knob is a pool.
    pub fn pool(&self) -> Option<&str> {
        match &self.knob {
            Knob::Pool(p) => Some(p),
            Knob::Nominal { .. } => None,
        }
    }
}

/// `123Gi` as (123, "Gi").
fn number_and_suffix(t: &str) -> Option<(i64, &str)> {
    let t = t.trim();
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n = t[..end].parse().ok()?;
    let suffix = &t[end..];
    suffix
        .chars()
        .all(|c| c.is_ascii_alphabetic())
        .then_some((n, suffix))
}

impl std::str::FromStr for Vary {
    type Err = StudyError;

    fn from_str(text: &str) -> Result<Vary, StudyError> {
        let bad = || {
            StudyError::Argument {
            what: "--vary",
            expected: "pool.NAME.nodes=A..B (nodes to add, A <= B) or kueue.CLUSTERQUEUE.FLAVOR.RESOURCE.nominal=A..B (a nominal quota)".into(),
            got: text.into(),
        }
        };
        let (key, range) = text.split_once('=').ok_or_else(bad)?;
        let (a, b) = range.split_once("..").ok_or_else(bad)?;
        let ((lo, sa), (hi, sb)) = (
            number_and_suffix(a).ok_or_else(bad)?,
            number_and_suffix(b).ok_or_else(bad)?,
        );
        if lo > hi || hi - lo > 100_000 || sa != sb {
            return Err(bad());
        }
        let knob = if let Some(pool) = key.strip_prefix("pool.").and_then(|k| k.strip_suffix(".nodes")) {
            if !sa.is_empty() {
                return Err(bad());
            }
            Knob::Pool(pool.to_string())
        } else {
            // ClusterQueue and flavor names are the first two parts; the resource (which may
            // hold dots, `nvidia.com/gpu`) the rest.
            let rest = key
                .strip_prefix("kueue.")
                .and_then(|k| k.strip_suffix(".nominal"))
                .ok_or_else(bad)?;
            let mut parts = rest.splitn(3, '.');
            let (cq, flavor, resource) = (parts.next(), parts.next(), parts.next());
            match (cq, flavor, resource) {
                (Some(c), Some(f), Some(r)) if !c.is_empty() && !f.is_empty() && !r.is_empty() => {
                    Knob::Nominal {
                        cluster_queue: c.to_string(),
                        flavor: f.to_string(),
                        resource: r.to_string(),
                        suffix: sa.to_string(),
                    }
                }
                _ => return Err(bad()),
            }
        };
        Ok(Vary { knob, lo, hi })
    }
}

/// `pool.NAME=PRICE`: the price of one node of a pool.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    pub pool: String,
    pub price: f64,
}

impl std::str::FromStr for Cost {
    type Err = StudyError;

    fn from_str(text: &str) -> Result<Cost, StudyError> {
        let bad = || StudyError::Argument {
            what: "--cost",
            expected: "pool.NAME=PRICE (PRICE >= 0)".into(),
            got: text.into(),
        };
        let (k, v) = text.split_once('=').ok_or_else(bad)?;
        let pool = k.strip_prefix("pool.").ok_or_else(bad)?;
        let price: f64 = v.trim().parse().map_err(|_| bad())?;
        if !(price.is_finite() && price >= 0.0) {
            return Err(bad());
        }
        Ok(Cost {
            pool: pool.to_string(),
            price,
        })
    }
}

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub targets: Vec<Target>,
    /// One pool: the smallest addition; several: the cheapest combination.
    pub vary: Vec<Vary>,
    /// Node prices (default 1 for every pool varied).
    pub costs: Vec<Cost>,
    /// Seeds per point: the scenario's seed and the next ones.
    pub seeds: u64,
}

/// What the plan found.
#[derive(Debug)]
pub enum Plan {
    OnePool(OnePool),
    Cheapest(Cheapest),
}

impl Plan {
    /// Whether some addition meets every target.
    pub fn answered(&self) -> bool {
        match self {
            Plan::OnePool(p) => p.found.answer.is_some(),
            Plan::Cheapest(p) => p.found.answer.is_some(),
        }
    }

    /// The answer and how it was found, as the terminal shows it.
    pub fn render(&self) -> String {
        match self {
            Plan::OnePool(p) => p.render(),
            Plan::Cheapest(p) => p.render(),
        }
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (a team's name may).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A target's metric name, without the team or bound.
fn lhs(t: &Target) -> &str {
    t.text.split(['<', '>']).next().unwrap_or("")
}

/// "p95_wait is 1.2h (95 % t-interval 1h–1.4h over 5 seeds)".
fn stated(t: &Target, a: &Assessment) -> String {
    format!(
        "{} is {} ({})",
        lhs(t),
        t.metric.show(a.mean),
        a.interval_text(t.metric)
    )
}

fn joined(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The answer for one pool, with every point evaluated (the marginal-value curve).
#[derive(Debug)]
pub struct OnePool {
    pub vary: Vary,
    /// GPUs of one node of the pool varied.
    pub gpus_per_node: u32,
    pub targets: Vec<Target>,
    pub seeds: u64,
    pub found: Found,
    /// The summaries of every point evaluated, by nodes added (or quota).
    pub points: BTreeMap<i64, Vec<RunSummary>>,
    /// For a quota, the policy's files at each point (the effective manifests and their diff),
    /// which `write` puts beside the plan for the answer.
    pub outputs: BTreeMap<i64, Vec<(String, String)>>,
}

impl OnePool {
    /// "7 node(s) (56 GPUs)", or a quota's "24".
    fn nodes(&self, x: i64) -> String {
        match &self.vary.knob {
            Knob::Pool(_) => format!("{x} node(s) ({} GPUs)", x * i64::from(self.gpus_per_node)),
            Knob::Nominal { suffix, .. } => format!("{x}{suffix}"),
        }
    }

    /// What the knob is: "pool a100", or "the nominal quota of nvidia.com/gpu in flavor h100 of
    /// ClusterQueue team-a".
    fn knob(&self) -> String {
        match &self.vary.knob {
            Knob::Pool(p) => format!("pool {p}"),
            Knob::Nominal {
                cluster_queue,
                flavor,
                resource,
                ..
            } => {
                format!("the nominal quota of {resource} in flavor {flavor} of ClusterQueue {cluster_queue}")
            }
        }
    }

    /// "with 3 node(s) (24 GPUs) added to pool a100", or "at a nominal quota of 24".
    fn at(&self, x: i64) -> String {
        match &self.vary.knob {
            Knob::Pool(p) => format!("with {} added to pool {p}", self.nodes(x)),
            Knob::Nominal { .. } => format!("at {}", self.nodes(x)),
        }
    }

    fn is_pool(&self) -> bool {
        matches!(self.vary.knob, Knob::Pool(_))
    }

    /// The targets that do not hold at a point: missed, or not settled by its seeds.
    fn shortfalls(&self, runs: &[RunSummary]) -> (Vec<String>, Vec<String>) {
        let (mut missed, mut unsettled) = (Vec::new(), Vec::new());
        for t in &self.targets {
            match t.assess(runs) {
                Some(a) if a.standing == Standing::Unsettled => unsettled.push(format!(
                    "{} ({}; {})",
                    t.text,
                    t.metric.show(a.mean),
                    a.interval_text(t.metric)
                )),
                Some(a) if a.standing == Standing::Met => {}
                _ => missed.push(t.text.clone()),
            }
        }
        (missed, unsettled)
    }

    fn render(&self) -> String {
        let (lo, hi) = (self.vary.lo, self.vary.hi);
        let knob = self.knob();
        let (range, smaller, thing) = match &self.vary.knob {
            Knob::Pool(_) => (format!("{lo}..{hi}"), "fewer nodes", "addition"),
            Knob::Nominal { suffix, .. } => {
                (format!("{lo}{suffix}..{hi}{suffix}"), "a smaller quota", "quota")
            }
        };
        let targets = &self.targets;
        let mut out = String::new();
        let seeds = self.seeds.max(1);
        let more = format!("run more seeds (--seeds {}) to settle it", (seeds * 2).max(5));
        match self.found.answer {
            Some(x) => {
                let why: Vec<String> = targets
                    .iter()
                    .filter_map(|t| t.assess(&self.points[&x]).map(|a| stated(t, &a)))
                    .collect();
                if self.is_pool() {
                    let _ = writeln!(out, "answer: add {} to {knob}", self.nodes(x));
                } else {
                    let _ = writeln!(out, "answer: set {knob} to {}", self.nodes(x));
                }
                let before = self.points.range(..x).next_back().map(|(b, runs)| {
                    let (missed, unsettled) = self.shortfalls(runs);
                    let at = if self.is_pool() {
                        format!("With {b} added")
                    } else {
                        format!("At {}", self.nodes(*b))
                    };
                    let mut text = String::new();
                    if !missed.is_empty() {
                        let _ = write!(text, " {at}, {} would not hold.", missed.join(" and "));
                    }
                    if !unsettled.is_empty() {
                        let _ = write!(
                            text,
                            " {at}, {} is not settled at {seeds} seed(s): {smaller} may do; {more}.",
                            unsettled.join(" and ")
                        );
                    }
                    text
                });
                let lead = if self.is_pool() {
                    format!("Adding {} to {knob}", self.nodes(x))
                } else {
                    format!("Setting {knob} to {}", self.nodes(x))
                };
                let _ = writeln!(
                    out,
                    "\n{lead} is the smallest {thing} in {range} that meets every target ({}) over {seeds} seed(s): {}.{}",
                    joined(targets),
                    why.join("; "),
                    before.unwrap_or_default()
                );
                if seeds < 2 {
                    let _ = writeln!(
                        out,
                        "One seed gives no interval: this holds for seed {} only; plan with --seeds 5 or more before acting on it.",
                        self.first_seed()
                    );
                }
            }
            None => {
                // The largest addition tried where nothing was missed outright.
                let open = (self.points.iter().rev()).find(|(_, runs)| self.shortfalls(runs).0.is_empty());
                match open {
                    Some((x, runs)) => {
                        let _ = writeln!(
                            out,
                            "not settled at {seeds} seed(s): {}, {} straddles its bound; {more}",
                            self.at(*x),
                            self.shortfalls(runs).1.join(" and ")
                        );
                    }
                    None => {
                        if self.is_pool() {
                            let _ = writeln!(out, "no addition in {range} to {knob} meets every target");
                        } else {
                            let _ = writeln!(out, "no value of {knob} in {range} meets every target");
                        }
                    }
                }
            }
        }
        if self.found.scanned {
            let _ = writeln!(
                out,
                "({} did not always help on the points evaluated, so every {thing} in the range was tried)",
                if self.is_pool() {
                    "adding nodes"
                } else {
                    "raising the quota"
                }
            );
        }
        let _ = writeln!(out, "\n{}", self.table());
        out
    }

    fn first_seed(&self) -> u64 {
        (self.points.values().next())
            .and_then(|runs| runs.first())
            .map_or(0, |r| r.seed)
    }

    /// Every point: the mean over seeds and its 95 % interval per target (✗ where it is missed,
    /// ? where the interval straddles the bound).
    fn table(&self) -> String {
        let mut table = String::new();
        let head = if self.is_pool() {
            format!("{:>11} {:>6}", "nodes added", "GPUs")
        } else {
            format!("{:>18}", "nominal quota")
        };
        let _ = writeln!(
            table,
            "{head}  {}",
            self.targets
                .iter()
                .map(|t| format!("  {:>30}", t.text))
                .collect::<String>()
        );
        for (x, runs) in &self.points {
            let cells: String = self
                .targets
                .iter()
                .map(|t| match t.assess(runs) {
                    Some(a) => {
                        let mark = match a.standing {
                            Standing::Met => "",
                            Standing::Missed => "✗ ",
                            Standing::Unsettled => "? ",
                        };
                        let range = if a.seeds > 1 && a.lo != a.hi {
                            format!(" [{}–{}]", t.metric.show(a.lo), t.metric.show(a.hi))
                        } else {
                            String::new()
                        };
                        format!("  {:>30}", format!("{mark}{}{range}", t.metric.show(a.mean)))
                    }
                    None => format!("  {:>30}", "-"),
                })
                .collect();
            let at = if self.is_pool() {
                format!("{x:>11} {:>6}", x * i64::from(self.gpus_per_node))
            } else {
                format!("{:>18}", self.nodes(*x))
            };
            let _ = writeln!(table, "{at}  {cells}");
        }
        let _ = write!(
            table,
            "(mean over {} seed(s){}; ✗ missed, ? not settled)",
            self.seeds.max(1),
            if self.seeds > 1 {
                ", [95 % t-interval]"
            } else {
                ", no interval"
            }
        );
        table
    }

    /// Writes `plan.csv` (the marginal-value curve) and a chart of it per target (`plan-1.svg`,
    /// ...) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), StudyError> {
        let knob = self.knob();
        let claim = fairway_reports::output::claim(dir, false, "plan")?;
        let mut csv_text = if self.is_pool() {
            format!("nodes_added,gpus_added,{ASSESSMENT_COLUMNS}\n")
        } else {
            format!("nominal_quota,{ASSESSMENT_COLUMNS}\n")
        };
        for (x, runs) in &self.points {
            for t in &self.targets {
                if let Some(a) = t.assess(runs) {
                    let at = if self.is_pool() {
                        format!("{x},{}", x * i64::from(self.gpus_per_node))
                    } else {
                        csv_field(&self.nodes(*x))
                    };
                    csv_text.push_str(&format!("{at},{}\n", assessment_fields(t, &a)));
                }
            }
        }
        // The configuration to apply: the answer's manifests, and their diff against the input.
        if let Some(files) = self.found.answer.and_then(|x| self.outputs.get(&x)) {
            for (rel, text) in files {
                let path = dir.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| StudyError::Io {
                        file: parent.display().to_string(),
                        action: "create",
                        source,
                    })?;
                }
                fairway_reports::write_atomic(&path, |f| f.write_all(text.as_bytes()))?;
            }
        }
        fairway_reports::write_atomic(&dir.join("plan.csv"), |f| f.write_all(csv_text.as_bytes()))?;
        // The marginal-value curve of each target: the mean over seeds, the band its margin.
        for (k, t) in self.targets.iter().enumerate() {
            let chart = fairway_reports::chart::Chart::Bands {
                stem: "plan",
                title: format!(
                    "{} as {} (band: {})",
                    t.text,
                    if self.is_pool() {
                        format!("nodes are added to {knob}")
                    } else {
                        format!("{knob} grows")
                    },
                    if self.seeds > 1 {
                        "95 % t-interval over the seeds"
                    } else {
                        "none, one seed"
                    }
                ),
                x_desc: if self.is_pool() {
                    format!("nodes added to {knob}")
                } else {
                    let unit = match &self.vary.knob {
                        Knob::Nominal { suffix, .. } if !suffix.is_empty() => format!(" ({suffix})"),
                        _ => String::new(),
                    };
                    format!("{knob}{unit}")
                },
                y_desc: lhs(t).to_string(),
                y_metric: Some(t.metric),
                target: Some(t.bound),
                series: vec![fairway_reports::chart::Band {
                    name: t.text.clone(),
                    points: (self.points.iter())
                        .filter_map(|(x, runs)| t.assess(runs).map(|a| (*x as f64, a.mean, a.lo, a.hi)))
                        .collect(),
                }],
            };
            let svg = chart.svg().map_err(fairway_reports::render::RenderError::from)?;
            fairway_reports::write_atomic(&dir.join(format!("plan-{}.svg", k + 1)), |f| {
                f.write_all(svg.as_bytes())
            })?;
        }
        claim.complete()?;
        Ok(())
    }
}

/// The price of adding `nodes` to each pool at `prices` per node.
fn cost(nodes: &[i64], prices: &[f64]) -> f64 {
    nodes.iter().zip(prices).map(|(&x, &p)| x as f64 * p).sum()
}

/// The columns of a target's assessment in `plan.csv`, after those of the addition.
const ASSESSMENT_COLUMNS: &str = "target,seeds,mean,lo95,hi95,standing";

/// A target's assessment at a point as `plan.csv` writes it ([`ASSESSMENT_COLUMNS`]).
fn assessment_fields(t: &Target, a: &Assessment) -> String {
    let standing = match a.standing {
        Standing::Met => "met",
        Standing::Missed => "missed",
        Standing::Unsettled => "not settled",
    };
    format!(
        "{},{},{},{},{},{standing}",
        csv_field(&t.text),
        a.seeds,
        a.mean,
        a.lo,
        a.hi
    )
}

/// The answer over several pools.
#[derive(Debug)]
pub struct Cheapest {
    pub vary: Vec<Vary>,
    /// GPUs of one node of each pool varied.
    pub gpus_per_node: Vec<u32>,
    /// Seeds per point.
    pub seeds: u64,
    pub prices: Vec<f64>,
    pub targets: Vec<Target>,
    /// Combinations in the ranges.
    pub combinations: f64,
    pub found: FoundCheapest,
    /// The summaries of each combination evaluated, over the seeds.
    pub points: BTreeMap<Vec<i64>, Vec<RunSummary>>,
}

impl Cheapest {
    /// Writes `plan.csv` into `dir`: per combination evaluated (in cost order) and target, the
    /// nodes and GPUs added to each pool, the cost, and the target's assessment.
    pub fn write(&self, dir: &Path) -> Result<(), StudyError> {
        let claim = fairway_reports::output::claim(dir, false, "plan")?;
        let mut csv_text = String::new();
        for v in &self.vary {
            let pool = csv_field(v.pool().unwrap_or_default());
            csv_text.push_str(&format!("nodes_added:{pool},gpus_added:{pool},"));
        }
        csv_text.push_str(&format!("cost,{ASSESSMENT_COLUMNS}\n"));
        let cost = |c: &[i64]| cost(c, &self.prices);
        let mut order: Vec<(&Vec<i64>, &Vec<RunSummary>)> = self.points.iter().collect();
        order.sort_by(|a, b| cost(a.0).total_cmp(&cost(b.0)).then(a.0.cmp(b.0)));
        for (c, runs) in order {
            for t in &self.targets {
                let Some(a) = t.assess(runs) else { continue };
                for (x, g) in c.iter().zip(&self.gpus_per_node) {
                    csv_text.push_str(&format!("{x},{},", x * i64::from(*g)));
                }
                csv_text.push_str(&format!("{},{}\n", cost(c), assessment_fields(t, &a)));
            }
        }
        fairway_reports::write_atomic(&dir.join("plan.csv"), |f| f.write_all(csv_text.as_bytes()))?;
        claim.complete()?;
        Ok(())
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let describe = |c: &[i64]| {
            self.vary
                .iter()
                .zip(c)
                .zip(&self.gpus_per_node)
                .map(|((a, x), g)| {
                    format!(
                        "{x} node(s) ({} GPUs) to pool {}",
                        x * i64::from(*g),
                        a.pool().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.found.answer {
            Some(c) => {
                let total = cost(c, &self.prices);
                let _ = writeln!(out, "answer: add {} (cost {total})", describe(c));
                let _ = writeln!(
                    out,
                    "\nThe cheapest combination in the ranges that meets every target ({}) over {} seed(s), each target's whole 95 % t-interval within its bound: {} evaluated of {}.",
                    joined(&self.targets),
                    self.seeds.max(1),
                    self.found.evaluated.len(),
                    self.combinations
                );
            }
            None => {
                let _ = writeln!(out, "no combination in the ranges meets every target");
            }
        }
        if self.found.scanned {
            let _ = writeln!(
                out,
                "(adding nodes did not always help on the points evaluated, so every combination was tried in cost order)"
            );
        }
        out
    }
}

/// Runs the capacity search on `scenario` (its cluster is the starting point).
pub fn plan(
    scenario: &Scenario,
    registry: &Registry,
    req: &PlanRequest,
    exec: &Executor,
) -> Result<Plan, StudyError> {
    if req.vary.is_empty() {
        return Err(StudyError::Unsuited("plan needs a pool to vary".into()));
    }
    if scenario.bakeoff.is_some() || scenario.inflation.is_some() {
        return Err(StudyError::Unsuited(format!(
            "{}: plan takes a plain scenario, not a bake-off or an inflation experiment",
            scenario.file
        )));
    }
    let quota = req.vary.iter().find(|v| v.pool().is_none());
    if quota.is_some() && (req.vary.len() > 1 || !req.costs.is_empty()) {
        return Err(StudyError::Unsuited(
            "a plan varies one ClusterQueue quota on its own (no other --vary, no --cost)".into(),
        ));
    }
    let policies = scenario.policies(registry)?;
    // A quota is checked against the manifests before anything runs: its lower end resolved.
    if let Some(v) = quota {
        scenario_with(scenario, v, v.lo).policies(registry)?;
    }
    // Names first, before anything is simulated: the pools varied and the teams targeted.
    let base = scenario.resolve_using(policies.clone())?;
    let pools = base.cluster.pools();
    let mut gpus_per_node = Vec::new();
    for v in &req.vary {
        let Some(pool) = v.pool() else {
            gpus_per_node.push(0);
            continue;
        };
        let Some(p) = pools.iter().find(|p| p.name == pool) else {
            return Err(StudyError::Unsuited(format!(
                "--vary names pool '{}'; the cluster's pools: {}",
                pool,
                pools
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        gpus_per_node.push(p.gpus_per_node);
    }
    // A target may name a team by its LocalQueue or ClusterQueue.
    let names = crate::TeamNames::of(&base)?;
    let mut targets = req.targets.clone();
    for t in &mut targets {
        t.name_team(|n| names.team(n))?;
    }
    drop(base);
    let mut error = None;
    let mut outputs: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    // The summaries of one combination of additions (pool, nodes), or of one quota, over the
    // seeds.
    let mut evaluate = |adds: &[AddNodes], quota: Option<(&Vary, i64)>| -> Option<Vec<RunSummary>> {
        if error.is_some() || exec.stopped() {
            return None;
        }
        let runs = match quota {
            None => replicate(scenario, &policies, adds, req.seeds, exec),
            Some((v, x)) => {
                // A quota is a policy setting: this point's manifests are resolved for it.
                let sc = scenario_with(scenario, v, x);
                sc.policies(registry).map_err(StudyError::from).and_then(|p| {
                    outputs.insert(x, p.policy.outputs().to_vec());
                    replicate(&sc, &p, adds, req.seeds, exec)
                })
            }
        };
        match runs {
            Ok(runs) => Some(runs),
            Err(e) => {
                error = Some(e);
                None
            }
        }
    };
    let meets = |runs: &[RunSummary]| targets.iter().all(|t| t.meets(runs));
    let out = if req.vary.len() == 1 && req.costs.is_empty() {
        let v = &req.vary[0];
        let mut points: BTreeMap<i64, Vec<RunSummary>> = BTreeMap::new();
        // The marginal-value curve: up to 9 points over the range.
        let steps = (v.hi - v.lo).clamp(1, 8);
        let mut grid: Vec<i64> = (0..=steps).map(|i| v.lo + (v.hi - v.lo) * i / steps).collect();
        grid.dedup();
        let found = search(v.lo, v.hi, &grid, |x| {
            let runs = match v.pool() {
                Some(pool) => evaluate(
                    &[AddNodes {
                        pool: pool.to_string(),
                        nodes: x,
                    }],
                    None,
                ),
                None => evaluate(&[], Some((v, x))),
            };
            match runs {
                Some(runs) => {
                    let ok = meets(&runs);
                    points.insert(x, runs);
                    ok
                }
                None => false,
            }
        });
        Plan::OnePool(OnePool {
            vary: v.clone(),
            gpus_per_node: gpus_per_node[0],
            targets: targets.clone(),
            seeds: req.seeds,
            found,
            points,
            outputs: std::mem::take(&mut outputs),
        })
    } else {
        let combinations: f64 = req.vary.iter().map(|a| (a.hi - a.lo + 1) as f64).product();
        if combinations > 100_000.0 {
            return Err(StudyError::Unsuited(format!(
                "--vary spans {combinations} combinations; at most 100,000"
            )));
        }
        let mut prices = vec![1.0; req.vary.len()];
        for c in &req.costs {
            let i = req
                .vary
                .iter()
                .position(|a| a.pool() == Some(c.pool.as_str()))
                .ok_or_else(|| {
                    StudyError::Unsuited(format!("--cost names pool '{}', which no --vary varies", c.pool))
                })?;
            prices[i] = c.price;
        }
        let ranges: Vec<(i64, i64)> = req.vary.iter().map(|a| (a.lo, a.hi)).collect();
        let mut points: BTreeMap<Vec<i64>, Vec<RunSummary>> = BTreeMap::new();
        let found = search_cheapest(&ranges, &prices, |c| {
            let adds: Vec<AddNodes> = req
                .vary
                .iter()
                .zip(c)
                .map(|(a, &x)| AddNodes {
                    pool: a.pool().unwrap_or_default().to_string(),
                    nodes: x,
                })
                .collect();
            let runs = evaluate(&adds, None);
            let ok = runs.as_deref().is_some_and(meets);
            if let Some(runs) = runs {
                points.insert(c.to_vec(), runs);
            }
            ok
        });
        Plan::Cheapest(Cheapest {
            vary: req.vary.clone(),
            gpus_per_node,
            seeds: req.seeds,
            prices,
            targets: targets.clone(),
            combinations,
            found,
            points,
        })
    };
    if let Some(e) = error {
        return Err(e);
    }
    if exec.stopped() {
        return Err(StudyError::Interrupted {
            finished: 0,
            total: 0,
            kept: "; the plan did not finish".into(),
        });
    }
    Ok(out)
}

/// `scenario` with a quota what-if: the knob of `v` (a quota) at `x`.
fn scenario_with(scenario: &Scenario, v: &Vary, x: i64) -> Scenario {
    let mut sc = scenario.clone();
    if let Knob::Nominal {
        cluster_queue,
        flavor,
        resource,
        suffix,
    } = &v.knob
    {
        sc.whatif.push(crate::whatif::WhatIf::KueueQuota {
            cluster_queue: cluster_queue.clone(),
            flavor: flavor.clone(),
            resource: resource.clone(),
            nominal: Some(toml::Value::String(format!("{x}{suffix}"))),
            borrowing_limit: None,
            lending_limit: None,
        });
    }
    sc
}

/// What the search found.
#[derive(Debug, PartialEq)]
pub struct Found {
    /// The smallest addition meeting every target, if any in the range does.
    pub answer: Option<i64>,
    /// Every addition evaluated, ascending.
    pub evaluated: Vec<i64>,
    /// The monotonicity assumption broke and every addition was tried.
    pub scanned: bool,
}

/// Finds the smallest x in [lo, hi] with `ok(x)`, assuming ok is monotone (false then true).
/// Bisection alone never sees a violation, so the `grid` points (the marginal-value curve) are
/// evaluated too, and the assumption is checked on everything seen; if it breaks, every x in
/// [lo, hi] is tried in order.
pub fn search(lo: i64, hi: i64, grid: &[i64], mut ok: impl FnMut(i64) -> bool) -> Found {
    let mut seen: std::collections::BTreeMap<i64, bool> = Default::default();
    let mut eval =
        |x: i64, seen: &mut std::collections::BTreeMap<i64, bool>| *seen.entry(x).or_insert_with(|| ok(x));
    let monotone = |seen: &std::collections::BTreeMap<i64, bool>| {
        // Once true, never false again.
        seen.values().skip_while(|v| !**v).all(|v| *v)
    };
    let mut answer = None;
    if eval(hi, &mut seen) {
        let (mut a, mut b) = (lo, hi); // invariant: ok(b)
        if eval(lo, &mut seen) {
            b = lo;
        }
        while a < b {
            let mid = a + (b - a) / 2;
            if eval(mid, &mut seen) {
                b = mid;
            } else {
                a = mid + 1;
            }
        }
        answer = Some(b);
    }
    for &g in grid {
        if (lo..=hi).contains(&g) {
            eval(g, &mut seen);
        }
    }
    if monotone(&seen) {
        return Found {
            answer,
            evaluated: seen.keys().copied().collect(),
            scanned: false,
        };
    }
    for x in lo..=hi {
        if eval(x, &mut seen) {
            return Found {
                answer: Some(x),
                evaluated: seen.keys().copied().collect(),
                scanned: true,
            };
        }
    }
    Found {
        answer: None,
        evaluated: seen.keys().copied().collect(),
        scanned: true,
    }
}

/// What the search over several pools found.
#[derive(Debug, PartialEq)]
pub struct FoundCheapest {
    /// The cheapest additions (one per pool) meeting every target, if any.
    pub answer: Option<Vec<i64>>,
    /// Combinations evaluated, in the order they were.
    pub evaluated: Vec<Vec<i64>>,
    /// Monotonicity broke (a combination met the targets while one with at least as many nodes
    /// of every pool did not): every combination was evaluated in cost order.
    pub scanned: bool,
}

/// The cheapest combination of additions (one range per pool, `costs` per node) with `ok`.
/// Combinations are tried in order of cost (ties: fewer nodes first, then in order). Assuming
/// more nodes never hurt, a combination with no more nodes of any pool than one that failed is
/// not evaluated; the assumption is checked on every pair of evaluated combinations.
pub fn search_cheapest(
    ranges: &[(i64, i64)],
    costs: &[f64],
    mut ok: impl FnMut(&[i64]) -> bool,
) -> FoundCheapest {
    let mut all: Vec<Vec<i64>> = vec![Vec::new()];
    for &(lo, hi) in ranges {
        all = all
            .into_iter()
            .flat_map(|c| (lo..=hi).map(move |x| [c.clone(), vec![x]].concat()))
            .collect();
    }
    let cost = |c: &[i64]| cost(c, costs);
    all.sort_by(|a, b| {
        cost(a)
            .total_cmp(&cost(b))
            .then(a.iter().sum::<i64>().cmp(&b.iter().sum::<i64>()))
            .then(a.cmp(b))
    });
    let le = |a: &[i64], b: &[i64]| a.iter().zip(b).all(|(x, y)| x <= y);
    let mut passed: Vec<Vec<i64>> = Vec::new();
    let mut failed: Vec<Vec<i64>> = Vec::new();
    let mut evaluated = Vec::new();
    let mut answer = None;
    for c in &all {
        if failed.iter().any(|f| le(c, f)) {
            continue; // no more of anything than a failure
        }
        evaluated.push(c.clone());
        if ok(c) {
            passed.push(c.clone());
            answer = Some(c.clone());
            break;
        }
        failed.push(c.clone());
    }
    let broken = passed.iter().any(|p| failed.iter().any(|f| le(p, f)));
    if !broken {
        return FoundCheapest {
            answer,
            evaluated,
            scanned: false,
        };
    }
    // Without the assumption: the first combination in cost order that meets the targets.
    for c in &all {
        if !evaluated.contains(c) {
            evaluated.push(c.clone());
            if ok(c) {
                return FoundCheapest {
                    answer: Some(c.clone()),
                    evaluated,
                    scanned: true,
                };
            }
        } else if passed.contains(c) {
            return FoundCheapest {
                answer: Some(c.clone()),
                evaluated,
                scanned: true,
            };
        }
    }
    FoundCheapest {
        answer: None,
        evaluated,
        scanned: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_reports::metrics::Dist;

    /// Five seeds whose p95 waits are these seconds.
    fn seeds_with_p95(p95: &[f64]) -> Vec<RunSummary> {
        (p95.iter().enumerate())
            .map(|(i, &p)| RunSummary {
                seed: 1 + i as u64,
                wait_s: Dist {
                    count: 1,
                    p95: Some(p),
                    ..Dist::default()
                },
                ..RunSummary::default()
            })
            .collect()
    }

    fn one_pool(target: &str, points: &[(i64, &[f64])], answer: Option<i64>) -> OnePool {
        OnePool {
            vary: Vary {
                knob: Knob::Pool("g".into()),
                lo: 0,
                hi: 1,
            },
            outputs: BTreeMap::new(),
            gpus_per_node: 8,
            targets: vec![target.parse().unwrap()],
            seeds: points[0].1.len() as u64,
            found: Found {
                answer,
                evaluated: points.iter().map(|p| p.0).collect(),
                scanned: false,
            },
            points: points.iter().map(|(x, v)| (*x, seeds_with_p95(v))).collect(),
        }
    }

    /// p95 waits of 10, 12, 14, 16, 18 s: mean 14 s, sd sqrt(10), standard error sqrt(10)/sqrt(5)
    /// = 1.414 s, t(0.975, 4 df) = 2.776: the interval is 14 ± 3.93 s, 10.07 to 17.93 s. A bound
    /// of 17 s falls inside it (not settled); 18 s is above it (met).
    #[test]
    fn an_interval_across_the_bound_is_not_settled_and_the_answer_says_so() {
        let spread: &[f64] = &[10.0, 12.0, 14.0, 16.0, 18.0];
        let met: &[f64] = &[5.0, 5.0, 5.0, 5.0, 5.0];
        let p = one_pool("p95_wait<=17s", &[(0, spread)], None);
        assert!(
            p.render().starts_with(
                "not settled at 5 seed(s): with 0 node(s) (0 GPUs) added to pool g, p95_wait<=17s (14s; 95 % t-interval 10.1s–17.9s over 5 seeds) straddles its bound; run more seeds (--seeds 10) to settle it\n"
            ),
            "{}",
            p.render()
        );
        let p = one_pool("p95_wait<=17s", &[(0, spread), (1, met)], Some(1));
        let text = p.render();
        assert!(
            text.starts_with("answer: add 1 node(s) (8 GPUs) to pool g\n"),
            "{text}"
        );
        assert!(
            text.contains("p95_wait is 5s (the same in all 5 seeds). With 0 added, p95_wait<=17s (14s; 95 % t-interval 10.1s–17.9s over 5 seeds) is not settled at 5 seed(s): fewer nodes may do"),
            "{text}"
        );
        assert!(
            text.contains("          0      0               ? 14s [10.1s–17.9s]\n"),
            "{text}"
        );
        let p = one_pool("p95_wait<=18s", &[(0, spread)], None);
        assert!(p.targets[0].meets(&p.points[&0]));
        let p = one_pool("p95_wait<=10s", &[(0, spread)], None);
        assert!(
            p.render()
                .starts_with("no addition in 0..1 to pool g meets every target")
        );
        // One seed is no interval, and the answer says it holds for that seed only.
        let p = one_pool("p95_wait<=17s", &[(0, &[20.0]), (1, &[5.0])], Some(1));
        assert!(
            p.render().contains("p95_wait is 5s (1 seed: no interval).")
                && p.render()
                    .contains("this holds for seed 1 only; plan with --seeds 5 or more before acting on it"),
            "{}",
            p.render()
        );
    }

    #[test]
    fn search_bisects_and_falls_back_when_monotonicity_breaks() {
        let mut calls = 0;
        let f = search(0, 64, &[], |x| {
            calls += 1;
            x >= 37
        });
        assert_eq!(f.answer, Some(37));
        assert!(!f.scanned && calls <= 9, "{calls} evaluations");
        assert_eq!(search(0, 10, &[], |_| false).answer, None);
        assert_eq!(search(3, 10, &[], |_| true).answer, Some(3));
        // True at 2 and from 8: bisection finds 8 (it sees 10, 0, 5, 8, 7); the grid sees 2 true
        // and 4 false, so the assumption is broken and the scan finds 2.
        let odd = |x: i64| x == 2 || x >= 8;
        assert_eq!(search(0, 10, &[], odd).answer, Some(8));
        let f = search(0, 10, &[0, 2, 4, 6, 8, 10], odd);
        assert!(f.scanned);
        assert_eq!(f.answer, Some(2));
    }

    #[test]
    fn ranges_and_prices_parse() {
        let v: Vary = "pool.a100.nodes=0..8".parse().unwrap();
        assert_eq!((v.pool(), v.lo, v.hi), (Some("a100"), 0, 8));
        let q: Vary = "kueue.team-a.h100.nvidia.com/gpu.nominal=8..32".parse().unwrap();
        assert_eq!(
            q.knob,
            Knob::Nominal {
                cluster_queue: "team-a".into(),
                flavor: "h100".into(),
                resource: "nvidia.com/gpu".into(),
                suffix: String::new(),
            }
        );
        let m: Vary = "kueue.a.default.memory.nominal=64Gi..512Gi".parse().unwrap();
        assert_eq!((m.lo, m.hi), (64, 512));
        assert!(matches!(m.knob, Knob::Nominal { ref suffix, .. } if suffix == "Gi"));
        for bad in [
            "pool.a.nodes=3..1",
            "pool.a=0..1",
            "nodes=0..1",
            "pool.a.nodes=0..x",
            "pool.a.nodes=0Gi..2Gi",
            "kueue.a.default.memory.nominal=64Gi..512Mi",
            "kueue.a.default.nominal=0..1",
            "kueue.a..gpu.nominal=0..1",
        ] {
            assert!(bad.parse::<Vary>().is_err(), "{bad}");
        }
        let c: Cost = "pool.a100=2.5".parse().unwrap();
        assert_eq!(c.price, 2.5);
        assert!("pool.a100=-1".parse::<Cost>().is_err());
    }
}
#[cfg(test)]
mod cheapest_tests {
    use super::*;

    /// Needs 10 GPUs: pool a has 2-GPU nodes at cost 3, pool b 4-GPU nodes at cost 5. Cheapest:
    /// (a, b) = (1, 2): 10 GPUs for 13; (5, 0) costs 15, (3, 1) 14, (0, 3) 15.
    #[test]
    fn the_cheapest_combination_wins() {
        let f = search_cheapest(&[(0, 6), (0, 4)], &[3.0, 5.0], |c| 2 * c[0] + 4 * c[1] >= 10);
        assert_eq!(f.answer, Some(vec![1, 2]));
        assert!(!f.scanned);
        // Pruning: combinations dominated by a failure are not evaluated.
        assert!(f.evaluated.len() < 35, "{}", f.evaluated.len());
        assert_eq!(
            search_cheapest(&[(0, 1), (0, 1)], &[1.0, 1.0], |_| false).answer,
            None
        );
    }
}
