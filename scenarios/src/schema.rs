//! The scenario file as written: every section and row, read with `deny_unknown_fields` so a typo
//! is an error, never a silent default, and loaded with [`Scenario::load`].

use crate::error::ScenarioError;
use crate::whatif;
use fairway_policies::{Spec, SpecSyntaxError};
use fairway_traces::{PoolRow, SyntheticSpec};
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
    /// `canonical`, `openb`, `synthetic`, or an importer's format (`kueue-workloads`, ...).
    pub format: String,
    /// The trace file, for every format but `synthetic`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Several files instead of `path`, for importers (a table of jobs and one of tasks, pods
    /// dumped per namespace).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Resource names counted as GPUs in Kubernetes objects (importers of `kueue-workloads`
    /// and `kubernetes-pods`) [default: nvidia.com/gpu, amd.com/gpu, gpu.intel.com/i915].
    #[serde(default)]
    pub gpu_resources: Option<Vec<String>>,
    /// `[[trace.mapping.rules]]`: patterns that set team, queue, priority and kind, for
    /// importers.
    #[serde(default)]
    pub mapping: Option<fairway_traces::import::Mapping>,
    /// `[trace.prometheus]`: query a Prometheus instead of reading files, for `prometheus`.
    #[serde(default)]
    pub prometheus: Option<PrometheusSource>,
    /// The generator's settings, for `synthetic`.
    #[serde(default)]
    pub synthetic: Option<SyntheticSpec>,
    /// Multiplies every submit time (0.5 = the same jobs arriving twice as fast).
    #[serde(default)]
    pub time_scale: Option<f64>,
}

/// `[trace.prometheus]`: the Prometheus (or Mimir, Thanos) to query and the span to read.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSource {
    /// Its base URL, `http://HOST:9090` (with the path prefix of Mimir or Thanos if any).
    pub url: String,
    /// The span's start and end, RFC 3339.
    pub start: String,
    pub end: String,
    /// The range queries' resolution [default: 60s]; a pod's end without a completion time
    /// is only as fine as this.
    #[serde(default)]
    pub step: Option<String>,
}

impl PrometheusSource {
    /// The settings checked, or the key that is wrong and why.
    pub fn source(&self) -> Result<fairway_traces::import::prometheus::Source, (String, String)> {
        fairway_traces::import::prometheus::Source::new(
            &self.url,
            &self.start,
            &self.end,
            self.step.as_deref(),
        )
        .map_err(|e| (format!("trace.prometheus.{}", e.key), e.message))
    }
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

/// A scenario or sweep file's name (as errors give it) and text, read as every input is
/// (regular files only, up to the text cap).
pub(crate) fn read_file(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    match fairway_engine::input::read_text(path, fairway_engine::input::TEXT_CAP) {
        Ok(text) => Ok((file, text)),
        Err(source) => Err(ScenarioError::Io { file, source }),
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let (file, text) = read_file(path)?;
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

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn whatif_error(&self, key: &str, source: crate::whatif::WhatIfError) -> ScenarioError {
        ScenarioError::WhatIf {
            file: self.file.clone(),
            key: key.to_string(),
            source: Box::new(source),
        }
    }

    /// Parses a list of `name[params]` texts; `key` names the list in errors.
    pub(crate) fn specs(&self, list: &[String], key: &str) -> Result<Vec<Spec>, ScenarioError> {
        list.iter()
            .map(|p| {
                p.parse()
                    .map_err(|e: SpecSyntaxError| self.invalid(key, e.to_string()))
            })
            .collect()
    }
}
