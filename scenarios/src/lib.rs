//! Scenario files: what to replay, on what hardware, under which policy.
//!
//! A scenario is a TOML file (`deny_unknown_fields` everywhere, so a typo is an error, never a
//! silent default). Paths inside it are relative to the file. [`Scenario::load`] parses and checks
//! it; [`Scenario::resolve`] reads the trace and cluster and builds the policy, so that every
//! error surfaces before a run starts; [`Resolved::run`] runs it.

pub mod inflation;
pub mod sweep;
pub mod whatif;

use fairway_engine::{
    Cluster, ClusterError, ClusterSpec, EngineError, EngineOptions, Outcome, Placement, Policy, SeriesSink,
    SimDuration, SimTime, Simulation, UnknownModel, Workload,
};
use fairway_policies::{Param, RegistryError, Spec, SpecSyntaxError};
use fairway_traces::{ClusterFormat, PoolRow, SyntheticSpec, TraceError, TraceFormat};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A scenario as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Names the run and its output folder.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Seeds everything random (synthetic traces, randomised policies).
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub trace: TraceSection,
    pub cluster: ClusterSection,
    pub policy: PolicySection,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub failures: FailureSection,
    /// Run the workload-inflation experiment instead of a replay.
    #[serde(default)]
    pub inflation: Option<InflationSection>,
    #[serde(default)]
    pub interactive: InteractiveSection,
    /// Run several policies on the same trace and cluster instead of one.
    #[serde(default)]
    pub bakeoff: Option<BakeoffSection>,
    /// Edits applied on top of everything above, in order.
    #[serde(default)]
    pub whatif: Vec<whatif::WhatIf>,
    /// Caps that keep a wrong file or a typo from exhausting memory or time.
    #[serde(default)]
    pub limits: LimitsSection,
    /// The folder the file is in; relative paths start here.
    #[serde(skip)]
    pub base: PathBuf,
    /// The file it was read from.
    #[serde(skip)]
    pub file: String,
}

fn default_seed() -> u64 {
    1
}

/// `[limits]`: the largest trace and the longest simulated span a run accepts.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Jobs in the trace (read or generated).
    #[serde(default = "default_max_jobs")]
    pub max_jobs: u64,
    /// Days from the first to the last submission (after `time_scale`), and of `horizon_s`.
    #[serde(default = "default_max_span_days")]
    pub max_span_days: f64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_jobs: default_max_jobs(),
            max_span_days: default_max_span_days(),
        }
    }
}

fn default_max_jobs() -> u64 {
    fairway_traces::DEFAULT_MAX_ROWS
}

/// Ten years: longer than any trace, short enough to catch a wrong `time_scale`.
fn default_max_span_days() -> f64 {
    3660.0
}

/// `[trace]`: where the jobs come from.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TraceSection {
    /// `canonical`, `openb` or `synthetic`.
    pub format: String,
    /// The trace file, for `canonical` and `openb`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// The generator's settings, for `synthetic`.
    #[serde(default)]
    pub synthetic: Option<SyntheticSpec>,
    /// Multiplies every submit time (0.5 = the same jobs arriving twice as fast).
    #[serde(default)]
    pub time_scale: Option<f64>,
}

/// `[cluster]`: the hardware.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// A cluster file (`.toml` pools, `.csv` pools, or an openb node list).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// `toml`, `csv`, `openb-nodes`, `pai-machines` or `spot-nodes`; guessed from the file when
    /// absent.
    #[serde(default)]
    pub format: Option<String>,
    /// Pools written inline, instead of `path`.
    #[serde(default)]
    pub pool: Vec<PoolRow>,
    /// Keep about one node in N of every pool (a proportional slice of a large cluster).
    #[serde(default)]
    pub sample_one_in: Option<u32>,
    /// A `gpu_model,speed` table: pools left at speed 1 take their model's speed from it.
    #[serde(default)]
    pub speed_table: Option<PathBuf>,
}

/// `[policy]`: which jobs run, and where.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// A registry name, optionally with parameters: `fifo` or `fifo[mode=best-effort]`.
    pub name: String,
    /// Placement name, optionally with parameters.
    #[serde(default = "default_placement")]
    pub placement: String,
    /// Kueue manifests (a YAML file or a folder of them), relative to the scenario, for
    /// `name = "kueue"`.
    #[serde(default)]
    pub manifests: Option<PathBuf>,
    /// Policy parameters, merged with those in `name`.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Placement parameters, merged with those in `placement`.
    #[serde(default)]
    pub placement_params: BTreeMap<String, toml::Value>,
}

fn default_placement() -> String {
    "best-fit".to_string()
}

/// `[engine]`: time limit and preemption costs.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// Stop simulating at this time (seconds after the trace origin).
    #[serde(default)]
    pub horizon_s: Option<f64>,
    /// Work between checkpoints; a preempted job keeps the work up to its last one.
    #[serde(default)]
    pub checkpoint_every_s: Option<f64>,
    /// Run time added to every restart after a preemption.
    #[serde(default)]
    pub restart_overhead_s: Option<f64>,
    /// A `class,gpu_model,speed` table: a job class's speed on a GPU model, replacing the pool's.
    #[serde(default)]
    pub speed_matrix: Option<PathBuf>,
    /// Per job class, preemption costs replacing the two above.
    #[serde(default)]
    pub class: Vec<ClassCostRow>,
    /// Record fragmentation (idle GPU capacity no pending pod shape can use) over time.
    #[serde(default)]
    pub fragmentation: bool,
    /// Stop with an error once one job has been preempted this many times (default 10,000):
    /// a policy that keeps evicting the same jobs would never let the run end.
    #[serde(default)]
    pub max_preemptions_per_job: Option<u32>,
}

/// `[failures]`: nodes that fail, on a schedule or at random.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailureSection {
    /// Outages at given times.
    #[serde(default)]
    pub schedule: Vec<OutageRow>,
    /// Mean time between failures of each node, hours (exponential); with `mttr_h`.
    #[serde(default)]
    pub mtbf_h: Option<f64>,
    /// Mean time to repair, hours (exponential).
    #[serde(default)]
    pub mttr_h: Option<f64>,
    /// Draw failures until this time (default: the last submit plus the longest job).
    #[serde(default)]
    pub until_s: Option<f64>,
}

/// One scheduled outage: node `node` (counting from 0) of pool `pool` is down from `down_s`
/// until `up_s` (or for good).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutageRow {
    pub pool: String,
    #[serde(default)]
    pub node: u32,
    pub down_s: f64,
    #[serde(default)]
    pub up_s: Option<f64>,
}

/// `[interactive]`: how interactive jobs (development pods, `kind = interactive`) are treated
/// and judged.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InteractiveSection {
    /// Every interactive job gets this priority (for priority-aware policies).
    #[serde(default)]
    pub priority: Option<i32>,
    /// Time-to-start target: the report gives the share of interactive jobs started within it.
    #[serde(default)]
    pub target_start_s: Option<f64>,
    /// Nodes set aside for interactive jobs: each entry moves `nodes` nodes of `pool` into a
    /// pool `<pool>-interactive` that batch jobs may not use.
    #[serde(default)]
    pub reserve: Vec<ReserveRow>,
}

/// `[[interactive.reserve]]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReserveRow {
    pub pool: String,
    pub nodes: u32,
}

/// `[bakeoff]`: policies and placements to run side by side on the same trace and cluster (every
/// policy with every placement); one results table compares them.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BakeoffSection {
    /// Policies as `[policy] name` takes them (default: the scenario's policy).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Placements (default: the scenario's placement).
    #[serde(default)]
    pub placements: Vec<String>,
}

/// `[inflation]`: the fragmentation experiment of Weng et al. (ATC '23); see [`inflation`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InflationSection {
    /// Stop once arrived GPU demand reaches this fraction of cluster GPU capacity.
    #[serde(default = "default_inflation_target")]
    pub target: f64,
    /// Placements to compare, each on the same arrival order (default: the policy's placement).
    #[serde(default)]
    pub placements: Vec<String>,
}

fn default_inflation_target() -> f64 {
    1.3
}

/// `[[engine.class]]`: the preemption costs of one job class.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassCostRow {
    pub name: String,
    #[serde(default)]
    pub checkpoint_every_s: Option<f64>,
    #[serde(default)]
    pub restart_overhead_s: Option<f64>,
}

/// Why a scenario cannot be loaded, resolved or run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a scenario; the message names file, line and column.
    #[error("{message}")]
    Parse { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("{file}: cluster: {source}")]
    Cluster {
        file: String,
        #[source]
        source: ClusterError,
    },
    #[error("{file}: {source}")]
    Registry {
        file: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error(transparent)]
    UnknownModel(#[from] UnknownModel),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            file: file.clone(),
            source,
        })?;
        let mut s = Scenario::parse(&text, &file)?;
        s.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(s)
    }

    /// Parses scenario text; `file` names it in errors. Relative paths start at the current folder.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let mut s: Scenario = fairway_traces::tomlfile::parse(text, file).map_err(|e| {
            let mut message = e.to_string();
            if message.contains("unknown field `sweep`") {
                message.push_str(" (this is a sweep file: run it with `fairway sweep`)");
            }
            ScenarioError::Parse {
                file: file.to_string(),
                message,
            }
        })?;
        s.file = file.to_string();
        s.check()?;
        Ok(s)
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Parses a list of `name[params]` texts; `key` names the list in errors.
    fn specs(&self, list: &[String], key: &str) -> Result<Vec<Spec>, ScenarioError> {
        list.iter()
            .map(|p| {
                p.parse()
                    .map_err(|e: SpecSyntaxError| self.invalid(key, e.to_string()))
            })
            .collect()
    }

    /// Like `specs`, but an empty list stands for `default` alone.
    fn specs_or(&self, list: &[String], key: &str, default: &Spec) -> Result<Vec<Spec>, ScenarioError> {
        if list.is_empty() {
            Ok(vec![default.clone()])
        } else {
            self.specs(list, key)
        }
    }

    /// Checks what can be checked without reading other files.
    fn check(&self) -> Result<(), ScenarioError> {
        for (i, w) in self.whatif.iter().enumerate() {
            w.check().map_err(|m| self.invalid(&format!("whatif[{i}]"), m))?;
        }
        if let Some(b) = &self.bakeoff {
            if b.policies.is_empty() && b.placements.is_empty() {
                return Err(self.invalid("bakeoff", "name at least one policy or placement"));
            }
            for spec in self.specs(&b.placements, "bakeoff.placements")? {
                fairway_policies::placement(&spec, self.seed)
                    .map_err(|e| self.invalid("bakeoff.placements", e.to_string()))?;
            }
            for spec in self.specs(&b.policies, "bakeoff.policies")? {
                if spec.name == "kueue" {
                    return Err(self.invalid(
                        "bakeoff.policies",
                        "kueue needs its manifests: give it as [policy]",
                    ));
                }
                fairway_policies::policy(&spec, self.seed)
                    .map_err(|e| self.invalid("bakeoff.policies", e.to_string()))?;
            }
            if self.inflation.is_some() {
                return Err(self.invalid(
                    "bakeoff",
                    "a scenario is a bake-off or an inflation experiment, not both",
                ));
            }
        }
        if let Some(t) = self.interactive.target_start_s
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(self.invalid("interactive.target_start_s", "must be a number of seconds >= 0"));
        }
        if let Some(i) = &self.inflation {
            if !(i.target.is_finite() && i.target > 0.0 && i.target <= 100.0) {
                return Err(self.invalid(
                    "inflation.target",
                    "must be a fraction of GPU capacity, > 0 and at most 100",
                ));
            }
            for spec in self.specs(&i.placements, "inflation.placements")? {
                fairway_policies::placement(&spec, self.seed)
                    .map_err(|e| self.invalid("inflation.placements", e.to_string()))?;
            }
        }
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return Err(self.invalid(
                "name",
                "must be non-empty, without '/' or '\\', not starting with '.'",
            ));
        }
        let t = &self.trace;
        match t.format.as_str() {
            "synthetic" => {
                if t.synthetic.is_none() {
                    return Err(self.invalid("trace", "format 'synthetic' needs a [trace.synthetic] table"));
                }
                if t.path.is_some() {
                    return Err(self.invalid("trace.path", "a synthetic trace has no file"));
                }
            }
            f if TraceFormat::parse(f).is_some() => {
                if t.path.is_none() {
                    return Err(
                        self.invalid("trace.path", format!("format '{f}' needs the trace file's path"))
                    );
                }
                if t.synthetic.is_some() {
                    return Err(self.invalid(
                        "trace.synthetic",
                        format!("only for format 'synthetic', not '{f}'"),
                    ));
                }
            }
            other => {
                return Err(self.invalid(
                    "trace.format",
                    format!("unknown format '{other}'; known: canonical, openb, synthetic"),
                ));
            }
        }
        if let Some(s) = t.time_scale
            && !(s.is_finite() && s > 0.0)
        {
            return Err(self.invalid("trace.time_scale", format!("must be a number > 0, found {s}")));
        }
        let c = &self.cluster;
        match (&c.path, c.pool.is_empty()) {
            (None, true) => {
                return Err(self.invalid("cluster", "give either path = \"...\" or [[cluster.pool]] tables"));
            }
            (Some(_), false) => {
                return Err(self.invalid("cluster", "give either path or [[cluster.pool]], not both"));
            }
            _ => {}
        }
        if let Some(f) = &c.format {
            if c.path.is_none() {
                return Err(self.invalid("cluster.format", "only with cluster.path"));
            }
            cluster_format(f).ok_or_else(|| {
                self.invalid(
                    "cluster.format",
                    format!("unknown format '{f}'; known: toml, csv, openb-nodes, pai-machines, spot-nodes"),
                )
            })?;
        }
        let f = &self.failures;
        if f.mtbf_h.is_some() != f.mttr_h.is_some() {
            return Err(self.invalid("failures", "mtbf_h and mttr_h go together"));
        }
        for (key, v) in [
            ("failures.mtbf_h", f.mtbf_h),
            ("failures.mttr_h", f.mttr_h),
            ("failures.until_s", f.until_s),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(self.invalid(key, format!("must be a number > 0, found {v}")));
            }
        }
        for (i, o) in f.schedule.iter().enumerate() {
            let bad = |m: &str| self.invalid(&format!("failures.schedule[{i}]"), m.to_string());
            if fairway_engine::time::secs_to_millis(o.down_s).is_none() {
                return Err(bad("down_s must be a number of seconds >= 0"));
            }
            if let Some(u) = o.up_s
                && (fairway_engine::time::secs_to_millis(u).is_none() || u <= o.down_s)
            {
                return Err(bad("up_s must come after down_s"));
            }
        }
        if c.sample_one_in == Some(0) {
            return Err(self.invalid("cluster.sample_one_in", "must be at least 1"));
        }
        let e = &self.engine;
        let mut checks = vec![
            ("engine.horizon_s".to_string(), e.horizon_s, false),
            (
                "engine.checkpoint_every_s".to_string(),
                e.checkpoint_every_s,
                true,
            ),
            (
                "engine.restart_overhead_s".to_string(),
                e.restart_overhead_s,
                false,
            ),
        ];
        for c in &e.class {
            checks.push((
                format!("engine.class '{}' checkpoint_every_s", c.name),
                c.checkpoint_every_s,
                true,
            ));
            checks.push((
                format!("engine.class '{}' restart_overhead_s", c.name),
                c.restart_overhead_s,
                false,
            ));
        }
        for (key, v, positive) in checks {
            let key = key.as_str();
            if let Some(v) = v
                && (fairway_engine::time::secs_to_millis(v).is_none() || (positive && v < 0.001))
            {
                let want = if positive { "> 0" } else { ">= 0" };
                return Err(self.invalid(key, format!("must be a number of seconds {want}, found {v}")));
            }
        }
        let l = &self.limits;
        if l.max_jobs == 0 {
            return Err(self.invalid("limits.max_jobs", "must be at least 1"));
        }
        if !(l.max_span_days.is_finite() && l.max_span_days > 0.0) {
            return Err(self.invalid(
                "limits.max_span_days",
                format!("must be a number of days > 0, found {}", l.max_span_days),
            ));
        }
        if let Some(h) = e.horizon_s
            && h > l.max_span_days * 86_400.0
        {
            return Err(self.invalid(
                "engine.horizon_s",
                format!(
                    "{h} s is more than [limits] max_span_days = {}; raise the limit if you mean it",
                    l.max_span_days
                ),
            ));
        }
        self.policy_spec()?;
        self.placement_spec()?;
        Ok(())
    }

    /// The policy's name and parameters, from `name` and `params` together.
    pub fn policy_spec(&self) -> Result<Spec, ScenarioError> {
        let mut spec =
            merge_spec(&self.policy.name, &self.policy.params).map_err(|m| self.invalid("policy.name", m))?;
        if let Some(m) = &self.policy.manifests {
            let path = self.base.join(m).display().to_string();
            if spec.params.insert("manifests".into(), Param::Str(path)).is_some() {
                return Err(self.invalid(
                    "policy.manifests",
                    "given twice (also in the policy's parameters)",
                ));
            }
        }
        for w in &self.whatif {
            if let whatif::WhatIf::PolicyParam { key, value } = w {
                let one: BTreeMap<String, toml::Value> = [(key.clone(), value.clone())].into();
                let extra =
                    merge_spec(&spec.name, &one).map_err(|m| self.invalid("whatif.policy_param", m))?;
                spec.params.extend(extra.params);
            }
        }
        Ok(spec)
    }

    pub fn placement_spec(&self) -> Result<Spec, ScenarioError> {
        merge_spec(&self.policy.placement, &self.policy.placement_params)
            .map_err(|m| self.invalid("policy.placement", m))
    }

    /// The scheduled and random outages, resolved to nodes.
    fn outages(
        &self,
        w: &Workload,
        cluster: &Cluster,
    ) -> Result<Vec<fairway_traces::failures::Outage>, ScenarioError> {
        let f = &self.failures;
        let mut out = Vec::new();
        let ms = |s: f64| SimTime(fairway_engine::time::secs_to_millis(s).unwrap_or(0));
        for (i, o) in f.schedule.iter().enumerate() {
            let Some(pool) = cluster.pools().iter().find(|p| p.name == o.pool) else {
                let known: Vec<&str> = cluster.pools().iter().map(|p| p.name.as_str()).collect();
                return Err(self.invalid(
                    &format!("failures.schedule[{i}].pool"),
                    format!("no pool '{}' (pools: {})", o.pool, known.join(", ")),
                ));
            };
            if o.node >= pool.nodes.len() as u32 {
                return Err(self.invalid(
                    &format!("failures.schedule[{i}].node"),
                    format!("pool '{}' has {} nodes", o.pool, pool.nodes.len()),
                ));
            }
            out.push(fairway_traces::failures::Outage {
                node: fairway_engine::NodeId(pool.nodes.start + o.node),
                down: ms(o.down_s),
                up: o.up_s.map(ms),
            });
        }
        if let (Some(mtbf), Some(mttr)) = (f.mtbf_h, f.mttr_h) {
            let until = match f.until_s {
                Some(u) => ms(u),
                None => {
                    let last = w.jobs.last().map_or(SimTime::ZERO, |j| j.submit);
                    last + w.jobs.iter().map(|j| j.work).max().unwrap_or_default()
                }
            };
            let drawn = fairway_traces::failures::generate(
                cluster.node_count() as u32,
                mtbf * 3600.0,
                mttr * 3600.0,
                until,
                self.seed,
            )
            .ok_or_else(|| self.invalid("failures", "mtbf_h and mttr_h must be > 0"))?;
            out.extend(drawn);
        }
        out.sort_by_key(|o| (o.down, o.node));
        Ok(out)
    }

    /// The engine's options, with job classes and GPU models resolved against the workload and
    /// the cluster (classes or models they lack are ignored).
    fn engine_options(&self, w: &Workload, cluster: &Cluster) -> Result<EngineOptions, ScenarioError> {
        let ms = |s: Option<f64>| s.and_then(fairway_engine::time::secs_to_millis);
        let class_of = |name: &str| w.job_classes.iter().position(|c| c == name).map(|i| i as u32);
        let mut opts = EngineOptions {
            horizon: ms(self.engine.horizon_s).map(SimTime),
            checkpoint_every: ms(self.engine.checkpoint_every_s).map(SimDuration),
            restart_overhead: SimDuration(ms(self.engine.restart_overhead_s).unwrap_or(0)),
            track_fragmentation: self.engine.fragmentation,
            max_preemptions_per_job: self.engine.max_preemptions_per_job,
            // Debug builds (every test of a scenario run, what-if, sweep or plan) check the
            // engine's invariants after every pass; release builds trust them.
            audit: cfg!(debug_assertions),
            ..EngineOptions::default()
        };
        for c in &self.engine.class {
            if let Some(class) = class_of(&c.name) {
                opts.class_costs.push(fairway_engine::ClassCost {
                    class,
                    checkpoint_every: ms(c.checkpoint_every_s).map(SimDuration),
                    restart_overhead: SimDuration(ms(c.restart_overhead_s).unwrap_or(0)),
                });
            }
        }
        if let Some(p) = &self.engine.speed_matrix {
            for (class, model, speed) in fairway_traces::speeds::read_matrix(&self.base.join(p))? {
                if let (Some(class), Some(model)) = (class_of(&class), cluster.model_id(&model)) {
                    let speed_permille = (speed * 1000.0).round().max(1.0) as u32;
                    opts.class_speed.push(fairway_engine::ClassSpeed {
                        class,
                        model,
                        speed_permille,
                    });
                }
            }
        }
        Ok(opts)
    }

    /// Reads the cluster description (without building it).
    pub fn cluster_spec(&self) -> Result<ClusterSpec, ScenarioError> {
        let c = &self.cluster;
        let mut spec = match &c.path {
            Some(p) => fairway_traces::cluster::read(
                &self.base.join(p),
                c.format.as_deref().and_then(cluster_format),
            )?,
            None => ClusterSpec {
                pools: c
                    .pool
                    .iter()
                    .map(|p| p.to_spec(&format!("{}: cluster.pool", self.file)))
                    .collect::<Result<_, _>>()?,
            },
        };
        if let Some(n) = c.sample_one_in {
            spec = sample_one_in(&spec, n);
        }
        whatif::apply_cluster(&self.whatif, &mut spec, &self.file).map_err(|m| self.invalid("whatif", m))?;
        for r in &self.interactive.reserve {
            let key = "interactive.reserve";
            let Some(i) = spec.pools.iter().position(|p| p.name == r.pool) else {
                let names: Vec<&str> = spec.pools.iter().map(|p| p.name.as_str()).collect();
                return Err(self.invalid(key, format!("no pool '{}' (pools: {})", r.pool, names.join(", "))));
            };
            let p = &mut spec.pools[i];
            if r.nodes == 0 || r.nodes > p.nodes || p.interactive_only {
                return Err(self.invalid(
                    key,
                    format!(
                        "pool '{}' has {} nodes to reserve from, asked for {}",
                        r.pool, p.nodes, r.nodes
                    ),
                ));
            }
            p.nodes -= r.nodes;
            let mut kept = p.clone();
            kept.name = format!("{}-interactive", p.name);
            kept.nodes = r.nodes;
            kept.interactive_only = true;
            spec.pools.push(kept);
        }
        spec.pools.retain(|p| p.nodes > 0);
        if let Some(t) = &c.speed_table {
            let table = fairway_traces::speeds::read_table(&self.base.join(t))?;
            for p in &mut spec.pools {
                if p.speed_permille == fairway_engine::cluster::REFERENCE_SPEED
                    && let Some((_, s)) = table.iter().find(|(m, _)| Some(m) == p.gpu_model.as_ref())
                {
                    p.speed_permille = (s * 1000.0).round().max(1.0) as u32;
                }
            }
        }
        Ok(spec)
    }

    /// Reads or generates the trace. Returns the workload and the reader's warnings.
    pub fn workload(&self) -> Result<(Workload, Vec<String>), ScenarioError> {
        let t = &self.trace;
        let (mut w, warnings) = match TraceFormat::parse(&t.format) {
            Some(f) => {
                let path = self.base.join(t.path.as_ref().expect("checked"));
                let l = fairway_traces::read_with(&path, f, self.limits.max_jobs)?;
                (l.workload, l.warnings)
            }
            None => {
                let spec = t.synthetic.as_ref().expect("checked");
                if spec.jobs as u64 > self.limits.max_jobs {
                    return Err(self.invalid(
                        "trace.synthetic.jobs",
                        format!(
                            "{} jobs is more than [limits] max_jobs = {}; raise the limit if you mean it",
                            spec.jobs, self.limits.max_jobs
                        ),
                    ));
                }
                (
                    fairway_traces::synthetic::generate(spec, self.seed, &self.base)?,
                    Vec::new(),
                )
            }
        };
        if let Some(p) = self.interactive.priority {
            for j in w
                .jobs
                .iter_mut()
                .filter(|j| j.kind == fairway_engine::JobKind::Interactive)
            {
                j.priority = p;
            }
        }
        if let Some(s) = t.time_scale {
            for j in &mut w.jobs {
                j.submit = SimTime((j.submit.millis() as f64 * s).round() as u64);
                if let Some(r) = j.recorded_start.get() {
                    j.recorded_start
                        .set(SimTime((r.millis() as f64 * s).round() as u64));
                }
            }
        }
        let w = whatif::apply_workload(&self.whatif, w, self.seed).map_err(|m| self.invalid("whatif", m))?;
        let max_ms = self.limits.max_span_days * 86_400_000.0;
        if let (Some(first), Some(last)) = (w.jobs.first(), w.jobs.last()) {
            let span = last.submit.since(first.submit).millis() as f64;
            if span > max_ms {
                return Err(self.invalid(
                    "limits.max_span_days",
                    format!(
                        "the trace's submissions span {:.0} days, more than the limit of {} (check time_scale, or raise the limit)",
                        span / 86_400_000.0,
                        self.limits.max_span_days
                    ),
                ));
            }
        }
        Ok((w, warnings))
    }

    /// Checks that the policy and placement names and parameters build (without reading files
    /// other than manifests).
    pub fn check_names(&self) -> Result<(), ScenarioError> {
        self.build(&self.policy_spec()?, &self.placement_spec()?)
            .map(|_| ())
    }

    /// Builds the policy and placement through the registry.
    fn build(&self, policy: &Spec, placement: &Spec) -> Result<Built, ScenarioError> {
        let registry = |e| ScenarioError::Registry {
            file: self.file.clone(),
            source: Box::new(e),
        };
        let edits = whatif::kueue_edits(&self.whatif);
        Ok((
            fairway_policies::policy_with_edits(policy, self.seed, &edits).map_err(registry)?,
            fairway_policies::placement(placement, self.seed).map_err(registry)?,
        ))
    }

    /// Reads everything the run needs and checks that it fits together.
    pub fn resolve(&self) -> Result<Resolved, ScenarioError> {
        let policy = self.policy_spec()?;
        let placement = self.placement_spec()?;
        self.build(&policy, &placement)?;
        let cluster_spec = self.cluster_spec()?;
        let cluster = Cluster::new(&cluster_spec).map_err(|source| ScenarioError::Cluster {
            file: self.file.clone(),
            source,
        })?;
        let (mut workload, warnings) = self.workload()?;
        workload.bind_models(&cluster)?;
        let options = self.engine_options(&workload, &cluster)?;
        let outages = self.outages(&workload, &cluster)?;
        Ok(Resolved {
            scenario: self.clone(),
            policy,
            placement,
            cluster,
            workload,
            warnings,
            options,
            outages,
        })
    }
}

/// A policy and a placement, built and ready.
type Built = (Box<dyn Policy>, Box<dyn Placement>);

/// Everything a run needs, read and checked.
#[derive(Debug)]
pub struct Resolved {
    pub scenario: Scenario,
    pub policy: Spec,
    pub placement: Spec,
    pub cluster: Cluster,
    pub workload: Workload,
    pub warnings: Vec<String>,
    pub options: EngineOptions,
    /// Node outages to inject, in time order.
    pub outages: Vec<fairway_traces::failures::Outage>,
}

impl Resolved {
    /// Jobs that no node of the cluster can ever hold, with the reason (they will be reported as
    /// unschedulable).
    pub fn never_fitting(&self) -> Vec<(usize, String)> {
        self.workload
            .jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| {
                self.cluster
                    .check_fits_ever(&j.pod, j.pods, j.models, j.kind)
                    .err()
                    .map(|e| (i, e.to_string()))
            })
            .collect()
    }

    /// Runs the workload-inflation experiment, one curve per placement, in the order listed.
    pub fn inflation(&self) -> Result<Vec<inflation::Curve>, ScenarioError> {
        let sc = &self.scenario;
        let Some(cfg) = &sc.inflation else {
            return Err(sc.invalid("inflation", "the scenario has no [inflation] section"));
        };
        let order = inflation::arrival_order(
            &self.workload,
            self.cluster.capacity_gpu_milli(),
            cfg.target,
            sc.seed,
        )
        .map_err(|m| sc.invalid("inflation", m))?;
        let names = sc.specs_or(&cfg.placements, "inflation.placements", &self.placement)?;
        names
            .iter()
            .map(|spec| {
                let mut p =
                    fairway_policies::placement(spec, sc.seed).map_err(|e| ScenarioError::Registry {
                        file: sc.file.clone(),
                        source: Box::new(e),
                    })?;
                inflation::run(&self.workload, &self.cluster, p.as_mut(), &order)
                    .map_err(|m| sc.invalid("inflation", m))
            })
            .collect()
    }

    /// The bake-off's (policy, placement) pairs: every policy with every placement, policies
    /// outermost, in the order listed.
    pub fn bakeoff_runs(&self) -> Result<Vec<(Spec, Spec)>, ScenarioError> {
        let sc = &self.scenario;
        let Some(b) = &sc.bakeoff else {
            return Err(sc.invalid("bakeoff", "the scenario has no [bakeoff] section"));
        };
        let policies = sc.specs_or(&b.policies, "bakeoff.policies", &self.policy)?;
        let placements = sc.specs_or(&b.placements, "bakeoff.placements", &self.placement)?;
        Ok(policies
            .iter()
            .flat_map(|p| placements.iter().map(move |q| (p.clone(), q.clone())))
            .collect())
    }

    /// Runs the simulation.
    pub fn run(&self) -> Result<Outcome, ScenarioError> {
        self.run_with(&self.policy, &self.placement)
    }

    /// Runs the simulation, handing its time series to `sink` as the run goes (the outcome's
    /// `series` is then empty).
    pub fn run_streaming(&self, sink: &mut dyn SeriesSink) -> Result<Outcome, ScenarioError> {
        self.simulate(&self.policy, &self.placement, Some(sink))
    }

    /// Runs the simulation under another policy and placement (the scenario's cluster and trace).
    pub fn run_with(&self, policy: &Spec, placement: &Spec) -> Result<Outcome, ScenarioError> {
        self.simulate(policy, placement, None)
    }

    fn simulate<'a>(
        &'a self,
        policy: &Spec,
        placement: &Spec,
        sink: Option<&'a mut dyn SeriesSink>,
    ) -> Result<Outcome, ScenarioError> {
        let (policy, placement) = self.scenario.build(policy, placement)?;
        let mut sim = Simulation::new(
            &self.workload,
            self.cluster.clone(),
            policy,
            placement,
            self.options.clone(),
        )?;
        for o in &self.outages {
            sim.add_outage(o.node, o.down, o.up);
        }
        if let Some(sink) = sink {
            sim.stream_series(sink);
        }
        Ok(sim.run()?)
    }
}

fn cluster_format(name: &str) -> Option<ClusterFormat> {
    match name {
        "toml" => Some(ClusterFormat::Toml),
        "csv" => Some(ClusterFormat::Csv),
        "openb-nodes" => Some(ClusterFormat::OpenbNodes),
        "pai-machines" => Some(ClusterFormat::PaiMachines),
        "spot-nodes" => Some(ClusterFormat::SpotNodes),
        _ => None,
    }
}

/// `name[params]` text plus a TOML parameter table, as one spec.
fn merge_spec(text: &str, table: &BTreeMap<String, toml::Value>) -> Result<Spec, String> {
    let mut spec: Spec = text.parse().map_err(|e: SpecSyntaxError| e.to_string())?;
    for (k, v) in table {
        let p = match v {
            toml::Value::String(s) => Param::Str(s.clone()),
            toml::Value::Integer(i) => Param::Int(*i),
            toml::Value::Float(f) => Param::Float(*f),
            toml::Value::Boolean(b) => Param::Bool(*b),
            other => {
                return Err(format!(
                    "parameter '{k}' must be text, a number or a boolean, not {}",
                    other.type_str()
                ));
            }
        };
        if spec.params.insert(k.clone(), p).is_some() {
            return Err(format!("parameter '{k}' is given twice"));
        }
    }
    Ok(spec)
}

/// Keeps about one node in `n` of the cluster, in proportion per pool: each pool keeps
/// `floor(nodes / n)`, and the remaining nodes up to `round(total / n)` go to the pools with the
/// largest remainders (ties to the earlier pool). Pools left with no node are dropped.
pub fn sample_one_in(spec: &ClusterSpec, n: u32) -> ClusterSpec {
    let n = u64::from(n.max(1));
    let total: u64 = spec.pools.iter().map(|p| u64::from(p.nodes)).sum();
    let target = (total + n / 2) / n;
    let mut kept: Vec<u64> = spec.pools.iter().map(|p| u64::from(p.nodes) / n).collect();
    let mut order: Vec<usize> = (0..spec.pools.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(u64::from(spec.pools[i].nodes) % n), i));
    let mut left = target.saturating_sub(kept.iter().sum());
    for i in order {
        if left == 0 {
            break;
        }
        if u64::from(spec.pools[i].nodes) % n > 0 {
            kept[i] += 1;
            left -= 1;
        }
    }
    ClusterSpec {
        pools: spec
            .pools
            .iter()
            .zip(kept)
            .filter(|(_, k)| *k > 0)
            .map(|(p, k)| fairway_engine::PoolSpec {
                nodes: k as u32,
                ..p.clone()
            })
            .collect(),
    }
}
