//! Cluster files: pools of identical nodes, as TOML or CSV, or the openb node list.

use crate::error::TraceError;
use crate::table::Table;
use fairway_engine::cluster::{MAX_GPUS_PER_NODE, REFERENCE_SPEED};
use fairway_engine::{ClusterSpec, PoolSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One pool as written in a TOML cluster file or a scenario's `[[cluster.pool]]`.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoolRow {
    pub name: String,
    /// Omit for CPU-only nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    pub nodes: u32,
    #[serde(default)]
    pub gpus_per_node: u32,
    /// vCPUs per node.
    pub cpu: f64,
    pub memory_gib: f64,
    /// Work per second relative to the reference GPU (1.0).
    #[serde(default = "one")]
    pub speed: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

fn one() -> f64 {
    1.0
}

/// The slowest and fastest speeds accepted, relative to the reference GPU: the engine counts
/// speed in thousandths of it, so a slower speed would round to zero.
pub const MIN_SPEED: f64 = 0.001;
pub const MAX_SPEED: f64 = 1000.0;

/// A speed relative to the reference GPU in the engine's per-mille, or `None` outside
/// [`MIN_SPEED`]..=[`MAX_SPEED`] (or not a number).
pub fn speed_permille(speed: f64) -> Option<u32> {
    (MIN_SPEED..=MAX_SPEED)
        .contains(&speed)
        .then(|| (speed * f64::from(REFERENCE_SPEED)).round() as u32)
}

impl PoolRow {
    /// Checks the values and converts to the engine's units. `at` says where the pool was written.
    pub fn to_spec(&self, at: &str) -> Result<PoolSpec, TraceError> {
        let bad = |m: String| TraceError::config(&format!("{at}: pool '{}'", self.name), m);
        if self.name.trim().is_empty() {
            return Err(TraceError::config(at, "a pool needs a name"));
        }
        if self.gpus_per_node > MAX_GPUS_PER_NODE {
            return Err(bad(format!(
                "gpus_per_node is at most {MAX_GPUS_PER_NODE}, found {}",
                self.gpus_per_node
            )));
        }
        if self.gpus_per_node > 0 && self.gpu_model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return Err(bad("a pool with GPUs needs a gpu_model".into()));
        }
        if !(self.cpu.is_finite() && self.cpu >= 0.0) {
            return Err(bad(format!("cpu must be a number >= 0, found {}", self.cpu)));
        }
        if !(self.memory_gib.is_finite() && self.memory_gib >= 0.0) {
            return Err(bad(format!(
                "memory_gib must be a number >= 0, found {}",
                self.memory_gib
            )));
        }
        let Some(speed_permille) = speed_permille(self.speed) else {
            return Err(bad(format!(
                "speed must be a number from {MIN_SPEED} to {MAX_SPEED} (1 = the reference GPU), found {:?}",
                self.speed
            )));
        };
        let model = if self.gpus_per_node > 0 {
            self.gpu_model.as_deref()
        } else {
            None
        };
        let mut p = PoolSpec::new(&self.name, model, self.nodes, self.gpus_per_node, 0, 0);
        p.cpu_milli = (self.cpu * 1000.0).round() as u64;
        p.mem_mib = (self.memory_gib * 1024.0).round() as u64;
        p.speed_permille = speed_permille;
        p.labels.extend(self.labels.clone());
        Ok(p)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    pool: Vec<PoolRow>,
}

/// The formats of a cluster file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterFormat {
    /// `[[pool]]` tables.
    Toml,
    /// A row per pool: `name,gpu_model,nodes,gpus_per_node,cpu,memory_gib[,speed]`.
    Csv,
    /// The openb node list: a row per node.
    OpenbNodes,
    /// The Alibaba PAI 2020 machine list: no header; `machine,gpu_type,cap_cpu,cap_mem,cap_gpu`
    /// (cores, GB, GPUs); `gpu_type` CPU marks CPU-only machines.
    PaiMachines,
    /// The Alibaba 2026 spot-GPU node list: `gpu_model,gpu_capacity_num,cpu_num,node_name`. It
    /// states no memory: nodes get [`UNSTATED_MEMORY_MIB`], so memory never binds.
    SpotNodes,
    /// Node objects as `kubectl get nodes -o json|yaml` prints them
    /// ([`crate::import::nodes`]).
    KubernetesNodes,
}

/// Memory given to nodes of a list that does not state it (1 PiB: never the binding resource).
pub const UNSTATED_MEMORY_MIB: u64 = 1 << 30;

/// Adds one node to the pool of identical nodes (model, GPUs, CPU, memory), or opens a pool.
/// Nodes grouped into pools of identical nodes, in the order shapes first appear: a node list
/// of n nodes and p shapes is grouped in O(n) (a map from shape to pool), not O(n p).
#[derive(Default)]
pub(crate) struct NodePools {
    pools: Vec<PoolSpec>,
    index: std::collections::HashMap<(Option<String>, u32, u64, u64), usize>,
}

impl NodePools {
    /// Adds one node: to the pool of its shape, or as a new pool.
    pub(crate) fn add(&mut self, model: Option<&str>, gpus: u32, cpu_milli: u64, mem_mib: u64) {
        let model = if gpus == 0 { None } else { model };
        let key = (model.map(str::to_string), gpus, cpu_milli, mem_mib);
        match self.index.get(&key) {
            Some(&i) => self.pools[i].nodes += 1,
            None => {
                let mut p = PoolSpec::new("", model, 1, gpus, 0, 0);
                p.cpu_milli = cpu_milli;
                p.mem_mib = mem_mib;
                p.name = pool_name(&p);
                self.index.insert(key, self.pools.len());
                self.pools.push(p);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    pub(crate) fn finish(self) -> Vec<PoolSpec> {
        self.pools
    }
}

/// `model-Ngpu-Ccpu-Mgib` (memory left out when the list does not state it).
fn pool_name(p: &PoolSpec) -> String {
    let model = p.gpu_model.as_deref().unwrap_or("cpu").to_lowercase();
    let cpu = fairway_engine::resources::fmt_milli(p.cpu_milli);
    let mem = if p.mem_mib == UNSTATED_MEMORY_MIB {
        String::new()
    } else {
        format!("-{}gib", fairway_engine::resources::fmt_gib(p.mem_mib))
    };
    if p.gpus_per_node == 0 {
        format!("{model}-{cpu}cpu{mem}")
    } else {
        format!("{model}-{}gpu-{cpu}cpu{mem}", p.gpus_per_node)
    }
}

fn no_nodes(file: &str) -> TraceError {
    TraceError::file(file, "the node list has no nodes")
}

/// A node's GPU count, within the engine's limit.
pub(crate) fn check_gpus(
    row: &crate::table::Row<'_>,
    col: crate::table::Col,
    g: u64,
) -> Result<u32, TraceError> {
    if g > u64::from(MAX_GPUS_PER_NODE) {
        return Err(row.err(col, format!("at most 64 GPUs per node, found {g}")));
    }
    Ok(g as u32)
}

/// Reads the PAI 2020 machine list (see [`ClusterFormat::PaiMachines`]).
fn read_pai(path: &Path) -> Result<Vec<PoolSpec>, TraceError> {
    let mut t = Table::open_with(path, false)?;
    let (machine, kind, cpu, mem, gpu) = (
        Table::positional(0, "machine"),
        Table::positional(1, "gpu_type"),
        Table::positional(2, "cap_cpu"),
        Table::positional(3, "cap_mem"),
        Table::positional(4, "cap_gpu"),
    );
    let mut pools = NodePools::default();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        row.non_empty(machine)?;
        let model = row.non_empty(kind)?;
        let g = check_gpus(&row, gpu, row.count(gpu)?)?;
        if (model == "CPU") != (g == 0) {
            return Err(row.err(gpu, format!("gpu_type {model} with {g} GPUs")));
        }
        let c = row
            .count(cpu)?
            .checked_mul(1000)
            .ok_or_else(|| row.err(cpu, "too many cores"))?;
        let m = row
            .count(mem)?
            .checked_mul(1024)
            .ok_or_else(|| row.err(mem, "too much memory"))?;
        pools.add(Some(model), g, c, m);
    }
    if pools.is_empty() {
        return Err(no_nodes(&t.file));
    }
    Ok(pools.finish())
}

/// Reads the 2026 spot-GPU node list (see [`ClusterFormat::SpotNodes`]).
fn read_spot(path: &Path) -> Result<Vec<PoolSpec>, TraceError> {
    let mut t = Table::open(path)?;
    let model = t.required("gpu_model")?;
    let gpu = t.required("gpu_capacity_num")?;
    let cpu = t.required("cpu_num")?;
    let name = t.required("node_name")?;
    let mut pools = NodePools::default();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        row.non_empty(name)?;
        let m = row.non_empty(model)?;
        let g = check_gpus(&row, gpu, row.count(gpu)?)?;
        let c = row
            .count(cpu)?
            .checked_mul(1000)
            .ok_or_else(|| row.err(cpu, "too many cores"))?;
        pools.add(Some(m), g, c, UNSTATED_MEMORY_MIB);
    }
    if pools.is_empty() {
        return Err(no_nodes(&t.file));
    }
    Ok(pools.finish())
}

impl ClusterFormat {
    pub const NAMES: &[&str] = &[
        "toml",
        "csv",
        "openb-nodes",
        "pai-machines",
        "spot-nodes",
        "kubernetes-nodes",
    ];

    pub fn parse(name: &str) -> Option<ClusterFormat> {
        match name {
            "toml" => Some(ClusterFormat::Toml),
            "csv" => Some(ClusterFormat::Csv),
            "openb-nodes" => Some(ClusterFormat::OpenbNodes),
            "pai-machines" => Some(ClusterFormat::PaiMachines),
            "spot-nodes" => Some(ClusterFormat::SpotNodes),
            "kubernetes-nodes" => Some(ClusterFormat::KubernetesNodes),
            _ => None,
        }
    }

    /// Guesses the format from the extension and, for CSV, the header.
    pub fn detect(path: &Path) -> Result<ClusterFormat, TraceError> {
        let file = path.display().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Ok(ClusterFormat::Toml),
            Some("csv") => {
                let t = Table::open(path)?;
                let h = t.header();
                if h.iter().any(|h| h == "sn") {
                    Ok(ClusterFormat::OpenbNodes)
                } else if h.iter().any(|h| h == "gpu_capacity_num") {
                    Ok(ClusterFormat::SpotNodes)
                } else if h.len() == 5 && h[0].len() == 24 && h[0].bytes().all(|b| b.is_ascii_hexdigit()) {
                    // The PAI list has no header: its first row is a machine.
                    Ok(ClusterFormat::PaiMachines)
                } else {
                    Ok(ClusterFormat::Csv)
                }
            }
            Some("json" | "yaml" | "yml") => Ok(ClusterFormat::KubernetesNodes),
            _ => Err(TraceError::file(
                &file,
                "a cluster file ends in .toml or .csv (or .json/.yaml for Kubernetes nodes)",
            )),
        }
    }
}

/// Reads a cluster file in the given format (or the detected one).
pub fn read(path: &Path, format: Option<ClusterFormat>) -> Result<ClusterSpec, TraceError> {
    let format = match format {
        Some(f) => f,
        None => ClusterFormat::detect(path)?,
    };
    let pools = match format {
        ClusterFormat::Toml => read_toml(path)?,
        ClusterFormat::Csv => read_csv(path)?,
        ClusterFormat::OpenbNodes => crate::openb::read_nodes(path)?,
        ClusterFormat::PaiMachines => read_pai(path)?,
        ClusterFormat::SpotNodes => read_spot(path)?,
        ClusterFormat::KubernetesNodes => {
            let c = crate::import::nodes::read(&[path.to_path_buf()], &crate::import::Options::default())?;
            let file = path.display().to_string();
            c.pools
                .iter()
                .map(|p| p.to_spec(&file))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(ClusterSpec { pools })
}

fn read_toml(path: &Path) -> Result<Vec<PoolSpec>, TraceError> {
    let parsed: PoolFile = crate::tomlfile::read(path)?;
    let file = path.display().to_string();
    parsed.pool.iter().map(|p| p.to_spec(&file)).collect()
}

fn read_csv(path: &Path) -> Result<Vec<PoolSpec>, TraceError> {
    let mut t = Table::open(path)?;
    let name = t.required("name")?;
    let model = t.required("gpu_model")?;
    let nodes = t.required("nodes")?;
    let gpus = t.required("gpus_per_node")?;
    let cpu = t.required("cpu")?;
    let mem = t.required("memory_gib")?;
    let speed = t.optional("speed");
    let mut pools = Vec::new();
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        let p = PoolRow {
            name: row.non_empty(name)?.to_string(),
            gpu_model: row.opt_str(Some(model)).map(str::to_string),
            nodes: row.count32(nodes)?,
            gpus_per_node: row.count32(gpus)?,
            cpu: row.f64(cpu)?,
            memory_gib: row.f64(mem)?,
            speed: row.opt_f64(speed)?.unwrap_or(1.0),
            labels: BTreeMap::new(),
        };
        pools.push(
            p.to_spec(&format!("{}:{}", row.file, row.line))
                .map_err(|e| row.row_err(config_message(e)))?,
        );
    }
    Ok(pools)
}

fn config_message(e: TraceError) -> String {
    match e {
        TraceError::Config { message, .. } => message,
        other => other.to_string(),
    }
}
