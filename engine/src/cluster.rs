//! The modelled hardware: pools of identical nodes, each with CPU, memory and individual GPUs.
//!
//! GPUs are tracked one by one (free milli-GPU per physical GPU) so that shared-GPU pods pack onto
//! a single GPU and whole-GPU pods take entire GPUs, as a device plugin would.

use crate::ids::{ModelId, ModelSet, NodeId, PoolId};
use crate::job::{JobKind, JobSpec, Selector, SelectorId};
use crate::resources::{GPU_MILLI, GpuNeed, PodRequest, fmt_gib, fmt_milli};
use crate::room::{Room, RoomIndex};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Most GPUs one node may carry (a pod's GPUs are a 64-bit mask of the node's GPUs).
pub const MAX_GPUS_PER_NODE: u32 = 64;

/// Most nodes a cluster may have: far beyond any real cluster, low enough to refuse a typo
/// (`nodes = 40000000000`) before it exhausts memory.
pub const MAX_NODES: u64 = 1 << 24;

/// Speed factor of the reference GPU, in per-mille.
pub const REFERENCE_SPEED: u32 = 1000;

/// A pool of identical nodes as the user describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolSpec {
    pub name: String,
    /// GPU model of every GPU in the pool; `None` for CPU-only nodes.
    pub gpu_model: Option<String>,
    pub nodes: u32,
    pub gpus_per_node: u32,
    pub cpu_milli: u64,
    pub mem_mib: u64,
    /// Work done per second of run time, in per-mille of the reference GPU (1000 = reference).
    pub speed_permille: u32,
    /// Node labels (for flavor matching); sorted by key.
    pub labels: BTreeMap<String, String>,
    /// Reserved for interactive jobs: batch jobs may not use these nodes.
    pub interactive_only: bool,
}

impl PoolSpec {
    /// A pool with reference speed, labelled only with its GPU model (`gpu_model=...`).
    pub fn new(name: &str, gpu_model: Option<&str>, nodes: u32, gpus: u32, cpu: u64, mem_gib: u64) -> Self {
        let mut labels = BTreeMap::new();
        if let Some(m) = gpu_model {
            labels.insert("gpu_model".to_string(), m.to_string());
        }
        PoolSpec {
            name: name.to_string(),
            gpu_model: gpu_model.map(str::to_string),
            nodes,
            gpus_per_node: gpus,
            cpu_milli: cpu * 1000,
            mem_mib: mem_gib * 1024,
            speed_permille: REFERENCE_SPEED,
            labels,
            interactive_only: false,
        }
    }
}

/// The user's description of the cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterSpec {
    pub pools: Vec<PoolSpec>,
}

/// Why a cluster description cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClusterError {
    #[error("the cluster has no nodes")]
    Empty,
    #[error("pool '{0}' appears twice")]
    DuplicatePool(String),
    #[error("pool '{pool}': {gpus} GPUs per node exceeds the supported {MAX_GPUS_PER_NODE}")]
    TooManyGpus { pool: String, gpus: u32 },
    #[error("pool '{0}': has GPUs but no gpu_model")]
    GpusWithoutModel(String),
    #[error("pool '{0}': speed must be greater than zero")]
    ZeroSpeed(String),
    #[error("the cluster has more than {} GPU models", ModelSet::CAPACITY)]
    TooManyModels,
    #[error("the cluster has more than {MAX_NODES} nodes")]
    TooManyNodes,
    #[error("the cluster has more than {MAX_GPUS} GPUs")]
    TooManyGpusInAll,
}

/// Why the resources of one pod cannot be taken where a slot puts it ([`Cluster::take`]).
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakeError {
    #[error("node {node} does not exist")]
    NoSuchNode { node: NodeId },
    #[error("node {node} (pool {pool}) is down")]
    NodeDown { node: NodeId, pool: String },
    /// `model` is the pool's GPU model, `none` for a pool without GPUs.
    #[error("node {node} (pool {pool}) has GPU model {model}, which the job does not allow")]
    ModelNotAllowed {
        node: NodeId,
        pool: String,
        model: String,
    },
    /// The slot's GPU mask names a GPU the node does not have.
    #[error("node {node} has {gpus} GPUs; the slot names GPU mask {mask:#x}")]
    NoSuchGpu { node: NodeId, gpus: u32, mask: u64 },
    #[error(
        "node {node} has {} CPU and {} GiB free; the pod needs {pod}",
        fmt_milli(*.free_cpu_milli),
        fmt_gib(*.free_mem_mib)
    )]
    NotEnoughCpuOrMemory {
        node: NodeId,
        free_cpu_milli: u64,
        free_mem_mib: u64,
        pod: PodRequest,
    },
    /// The slot names more or fewer GPUs than the pod asks for (one for a shared GPU).
    #[error("the slot names {named} GPUs but the pod asks for {pod}")]
    GpuCountMismatch { named: u32, pod: PodRequest },
    /// `gpu` is the GPU's index on the node.
    #[error("GPU {gpu} of node {node} has {free_milli} milli-GPU free; the pod needs {needed_milli}")]
    NotEnoughGpu {
        node: NodeId,
        gpu: u32,
        free_milli: u16,
        needed_milli: u16,
    },
}

/// The most GPUs a cluster may have: allocations are counted in 32-bit milli-GPU (the recorder
/// keeps its time series compact that way); over four million GPUs.
pub const MAX_GPUS: u64 = u32::MAX as u64 / GPU_MILLI as u64;

/// One pool at run time: the shape of its nodes and the node ids it owns.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub model: Option<ModelId>,
    pub gpus_per_node: u32,
    pub cpu_milli: u64,
    pub mem_mib: u64,
    pub speed_permille: u32,
    pub labels: BTreeMap<String, String>,
    pub nodes: Range<u32>,
    /// Reserved for interactive jobs.
    pub interactive_only: bool,
}

/// The free capacity of one node.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub pool: PoolId,
    /// Offset of this node's GPUs in the cluster's flat per-GPU table.
    gpu_base: u32,
    gpus: u32,
    free_cpu: u64,
    free_mem: u64,
    /// GPUs with nothing on them.
    free_whole: u32,
    up: bool,
}

/// Which nodes a job's pods may use: nodes of an allowed GPU model and, optionally, only nodes of
/// some pools (e.g. the pools of the flavor a quota system admitted the job on); pools reserved
/// for interactive work only for interactive jobs.
#[derive(Clone, Copy, Debug)]
pub struct Allowed<'a> {
    pub models: ModelSet,
    /// Indexed by pool id; `None` allows every pool.
    pub pools: Option<&'a [bool]>,
    pub kind: JobKind,
    /// A node selector bound with [`Cluster::bind_selectors`]; `None` selects every pool.
    pub selector: Option<SelectorId>,
}

impl Allowed<'_> {
    /// Nodes of these GPU models, in any pool open to batch jobs.
    pub fn models(models: ModelSet) -> Allowed<'static> {
        Allowed {
            models,
            pools: None,
            kind: JobKind::Batch,
            selector: None,
        }
    }

    /// Nodes a job may use, in any pool open to its kind.
    pub fn job(spec: &JobSpec) -> Allowed<'static> {
        Allowed {
            models: spec.models,
            pools: None,
            kind: spec.kind,
            selector: spec.selector,
        }
    }
}

/// Where one pod runs: a node and the mask of that node's GPUs it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSlot {
    pub node: NodeId,
    pub gpus: u64,
}

/// Free capacity per node and per GPU. Changed only by the engine, which checks every change.
///
/// Policies plan on copies of it (preemptions, reservations): the pools and models never change
/// after construction and are shared between copies, and [`Clone::clone_from`] refreshes a copy
/// a policy keeps by copying the free capacity into its buffers, without allocating.
#[derive(Debug)]
pub struct Cluster {
    models: Arc<[String]>,
    pools: Arc<[Pool]>,
    nodes: Vec<Node>,
    /// Free milli-GPU of each physical GPU, node after node.
    gpu_free: Vec<u16>,
    capacity_gpu_milli: u64,
    free_gpu_milli: u64,
    /// Free capacity per node, indexed for [`Cluster::first_with_room`].
    room: RoomIndex,
    /// How many node changes were made, for [`Cluster::changes`].
    changes: u64,
    /// For each node selector of the workload bound ([`Cluster::bind_selectors`]), the pools it
    /// selects, by pool id.
    selectors: Arc<[Box<[bool]>]>,
    /// On a planning copy ([`Cluster::copy_into`]): the nodes given back whose index entries
    /// were not raised yet. A try gives back many pods and asks for a node rarely, so the copy
    /// defers that work: [`Cluster::first_with_room`] checks these nodes beside the index, and
    /// they are indexed once there are [`DEFERRED_MAX`]. `None` on a cluster whose index is
    /// kept exact (the engine's).
    deferred: Option<Vec<u32>>,
}

/// Most nodes a planning copy leaves out of date in its index before it updates them all.
const DEFERRED_MAX: usize = 64;

impl Clone for Cluster {
    fn clone(&self) -> Self {
        Cluster {
            models: Arc::clone(&self.models),
            pools: Arc::clone(&self.pools),
            selectors: Arc::clone(&self.selectors),
            nodes: self.nodes.clone(),
            gpu_free: self.gpu_free.clone(),
            capacity_gpu_milli: self.capacity_gpu_milli,
            free_gpu_milli: self.free_gpu_milli,
            room: self.room.clone(),
            changes: self.changes,
            deferred: self.deferred.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let Cluster {
            models,
            pools,
            selectors,
            nodes,
            gpu_free,
            capacity_gpu_milli,
            free_gpu_milli,
            room,
            changes,
            deferred,
        } = self;
        models.clone_from(&source.models);
        pools.clone_from(&source.pools);
        selectors.clone_from(&source.selectors);
        nodes.clone_from(&source.nodes);
        gpu_free.clone_from(&source.gpu_free);
        *capacity_gpu_milli = source.capacity_gpu_milli;
        *free_gpu_milli = source.free_gpu_milli;
        room.clone_from(&source.room);
        *changes = source.changes;
        // A planning copy stays one; either way it takes on the source's stale entries.
        match deferred {
            Some(d) => {
                d.clear();
                d.extend_from_slice(source.deferred.as_deref().unwrap_or_default());
            }
            None => deferred.clone_from(&source.deferred),
        }
    }
}

impl Cluster {
    /// Builds an empty (fully free, all nodes up) cluster.
    pub fn new(spec: &ClusterSpec) -> Result<Cluster, ClusterError> {
        if spec.pools.iter().map(|p| u64::from(p.nodes)).sum::<u64>() > MAX_NODES {
            return Err(ClusterError::TooManyNodes);
        }
        let gpus: u64 = (spec.pools.iter())
            .map(|p| u64::from(p.nodes) * u64::from(p.gpus_per_node))
            .sum();
        if gpus > MAX_GPUS {
            return Err(ClusterError::TooManyGpusInAll);
        }
        let mut models: Vec<String> = Vec::new();
        let mut pools = Vec::with_capacity(spec.pools.len());
        let mut nodes = Vec::new();
        let mut gpu_free = Vec::new();
        let mut names = std::collections::HashSet::with_capacity(spec.pools.len());
        for (pi, p) in spec.pools.iter().enumerate() {
            if !names.insert(p.name.as_str()) {
                return Err(ClusterError::DuplicatePool(p.name.clone()));
            }
            if p.gpus_per_node > MAX_GPUS_PER_NODE {
                return Err(ClusterError::TooManyGpus {
                    pool: p.name.clone(),
                    gpus: p.gpus_per_node,
                });
            }
            if p.speed_permille == 0 {
                return Err(ClusterError::ZeroSpeed(p.name.clone()));
            }
            let model = match &p.gpu_model {
                Some(m) => Some(match models.iter().position(|x| x == m) {
                    Some(i) => ModelId(i as u8),
                    None if models.len() < ModelSet::CAPACITY => {
                        models.push(m.clone());
                        ModelId((models.len() - 1) as u8)
                    }
                    None => return Err(ClusterError::TooManyModels),
                }),
                None if p.gpus_per_node > 0 => return Err(ClusterError::GpusWithoutModel(p.name.clone())),
                None => None,
            };
            let first = u32::try_from(nodes.len()).map_err(|_| ClusterError::TooManyNodes)?;
            let end = first.checked_add(p.nodes).ok_or(ClusterError::TooManyNodes)?;
            for _ in 0..p.nodes {
                nodes.push(Node {
                    pool: PoolId(pi as u32),
                    gpu_base: gpu_free.len() as u32,
                    gpus: p.gpus_per_node,
                    free_cpu: p.cpu_milli,
                    free_mem: p.mem_mib,
                    free_whole: p.gpus_per_node,
                    up: true,
                });
                gpu_free.extend(std::iter::repeat_n(GPU_MILLI as u16, p.gpus_per_node as usize));
            }
            pools.push(Pool {
                name: p.name.clone(),
                model,
                gpus_per_node: p.gpus_per_node,
                cpu_milli: p.cpu_milli,
                mem_mib: p.mem_mib,
                speed_permille: p.speed_permille,
                interactive_only: p.interactive_only,
                labels: p.labels.clone(),
                nodes: first..end,
            });
        }
        if nodes.is_empty() {
            return Err(ClusterError::Empty);
        }
        let capacity = gpu_free.len() as u64 * u64::from(GPU_MILLI);
        let mut c = Cluster {
            models: models.into(),
            pools: pools.into(),
            selectors: Arc::new([]),
            nodes,
            gpu_free,
            capacity_gpu_milli: capacity,
            free_gpu_milli: capacity,
            room: RoomIndex::new(std::iter::empty()),
            changes: 0,
            deferred: None,
        };
        c.room = RoomIndex::new((0..c.nodes.len()).map(|i| c.room_of(i)));
        Ok(c)
    }

    /// How many times a node's free capacity or state changed so far (a copy starts from its
    /// source's count): whatever a policy works out from the cluster holds while this stays the
    /// same.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// A copy of this cluster in `keep`, for a policy to plan on: made on first use, then
    /// refreshed in place (no allocation) each time. It reads exactly as this cluster; pods
    /// given back on it update its free-capacity index lazily.
    pub fn copy_into<'k>(&self, keep: &'k mut Option<Cluster>) -> &'k mut Cluster {
        match keep {
            Some(c) => {
                c.clone_from(self);
                c
            }
            None => {
                let c = keep.insert(self.clone());
                c.deferred.get_or_insert_with(Vec::new);
                c
            }
        }
    }

    fn room_of(&self, i: usize) -> Room {
        let n = &self.nodes[i];
        let gpus = &self.gpu_free[n.gpu_base as usize..(n.gpu_base + n.gpus) as usize];
        Room {
            cpu: n.free_cpu,
            mem: n.free_mem,
            whole: n.free_whole,
            share: gpus.iter().copied().max().unwrap_or(0),
            up: n.up,
        }
    }

    fn reindex(&mut self, id: NodeId) {
        self.changes += 1;
        self.index_node(id.index());
    }

    fn index_node(&mut self, i: usize) {
        let r = self.room_of(i);
        self.room.set(i, r);
    }

    /// The lowest-numbered node in `from..end` that is up and has room for one pod of `req`
    /// (`pods_that_fit > 0`), in O(log n) when most nodes are full. Model and pool constraints are
    /// the caller's (they are per pool, and pools are contiguous node ranges).
    pub fn first_with_room(&self, from: NodeId, end: u32, req: &PodRequest) -> Option<NodeId> {
        let end = (end as usize).min(self.nodes.len());
        let fits = |i: usize| self.nodes[i].up && self.pods_that_fit(NodeId(i as u32), req) > 0;
        let indexed = self.room.first(from.index(), end, req, fits);
        match &self.deferred {
            None => indexed.map(|i| NodeId(i as u32)),
            Some(stale) => self
                .first_stale(stale, from.index(), indexed.unwrap_or(end), req)
                .or(indexed.map(|i| NodeId(i as u32))),
        }
    }

    /// The lowest of the `stale` nodes in `from..end` with room for one pod of `req`: a node given
    /// back on a planning copy may have more room than its index entry says.
    #[cold]
    fn first_stale(&self, stale: &[u32], from: usize, end: usize, req: &PodRequest) -> Option<NodeId> {
        (stale.iter().map(|&i| i as usize))
            .filter(|&i| i >= from && i < end)
            .filter(|&i| self.nodes[i].up && self.pods_that_fit(NodeId(i as u32), req) > 0)
            .min()
            .map(|i| NodeId(i as u32))
    }

    /// GPU model names; a `ModelId` indexes this.
    pub fn models(&self) -> &[String] {
        &self.models
    }
    pub fn model_id(&self, name: &str) -> Option<ModelId> {
        self.models
            .iter()
            .position(|m| m == name)
            .map(|i| ModelId(i as u8))
    }
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    pub fn pool(&self, id: PoolId) -> &Pool {
        &self.pools[id.index()]
    }
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }
    pub fn node_pool(&self, id: NodeId) -> &Pool {
        &self.pools[self.nodes[id.index()].pool.index()]
    }
    /// Total GPUs, in milli-GPU.
    pub fn capacity_gpu_milli(&self) -> u64 {
        self.capacity_gpu_milli
    }
    /// GPUs not allocated to any pod, in milli-GPU (down nodes included).
    pub fn free_gpu_milli(&self) -> u64 {
        self.free_gpu_milli
    }
    /// Free milli-GPU of each GPU of a node.
    pub fn gpu_free(&self, id: NodeId) -> &[u16] {
        let n = &self.nodes[id.index()];
        &self.gpu_free[n.gpu_base as usize..(n.gpu_base + n.gpus) as usize]
    }

    /// Whether pods may run on the node: it is up, of an allowed model, in an allowed pool.
    pub fn eligible(&self, id: NodeId, allowed: &Allowed<'_>) -> bool {
        let n = &self.nodes[id.index()];
        n.up && self.pool_allowed(n.pool, allowed)
    }

    /// Whether pods may run on the pool's nodes (those that are up): an allowed model, an allowed
    /// pool, open to the job's kind.
    pub fn pool_allowed(&self, id: PoolId, allowed: &Allowed<'_>) -> bool {
        let pool = &self.pools[id.index()];
        allowed.models.admits(pool.model)
            && (!pool.interactive_only || allowed.kind == JobKind::Interactive)
            && allowed
                .pools
                .is_none_or(|p| p.get(id.index()).copied().unwrap_or(false))
            && self.selects(allowed.selector, id)
    }

    /// Whether node selector `sel` (bound by [`Cluster::bind_selectors`]) selects the pool; no
    /// selector selects every pool, and one never bound none.
    pub fn selects(&self, sel: Option<SelectorId>, pool: PoolId) -> bool {
        sel.is_none_or(|s| {
            (self.selectors.get(s.index()))
                .and_then(|m| m.get(pool.index()))
                .copied()
                .unwrap_or(false)
        })
    }

    /// Resolves a workload's node selectors against the pools' labels (selector `i` of the
    /// slice is `SelectorId::new(i)` from then on).
    pub fn bind_selectors(&mut self, selectors: &[Selector]) {
        if selectors.is_empty() && self.selectors.is_empty() {
            return;
        }
        self.selectors = selectors
            .iter()
            .map(|s| self.pools.iter().map(|p| s.matches(&p.labels)).collect())
            .collect();
    }

    /// How many pods of `req` fit on the node right now (ignores up/down and model constraints).
    pub fn pods_that_fit(&self, id: NodeId, req: &PodRequest) -> u32 {
        let n = &self.nodes[id.index()];
        let gpu_pods = match req.gpu_need() {
            GpuNeed::None => u64::MAX,
            GpuNeed::Whole(g) => u64::from(n.free_whole / g),
            GpuNeed::Shared(s) => self.gpu_free(id).iter().map(|&f| u64::from(f / s)).sum(),
        };
        pods_within(n.free_cpu, n.free_mem, gpu_pods, req)
    }

    /// How many pods of `req` may go on the node now for `allowed`: those that fit, on an
    /// eligible node; none on another.
    pub fn pods_allowed(&self, id: NodeId, req: &PodRequest, allowed: &Allowed<'_>) -> u32 {
        if self.eligible(id, allowed) {
            self.pods_that_fit(id, req)
        } else {
            0
        }
    }

    /// Free CPU (milli) and memory (MiB) of a node.
    pub fn free_cpu_mem(&self, id: NodeId) -> (u64, u64) {
        let n = &self.nodes[id.index()];
        (n.free_cpu, n.free_mem)
    }

    /// The fullest-first key of a node for packing: free GPU, then free CPU, then free memory.
    pub fn free_key(&self, id: NodeId) -> (u64, u64, u64) {
        let n = &self.nodes[id.index()];
        let gpu: u64 = self.gpu_free(id).iter().map(|&f| u64::from(f)).sum();
        (gpu, n.free_cpu, n.free_mem)
    }

    /// Appends `count` slots on node `id` for pods of `req`, choosing GPUs the way a device plugin
    /// would: whole GPUs lowest index first, a shared GPU on the most loaded GPU that still has room.
    /// Returns false (and appends nothing) if the node cannot take `count` such pods.
    pub fn pick_slots(&self, id: NodeId, req: &PodRequest, count: u32, out: &mut Vec<PodSlot>) -> bool {
        if count == 0 {
            return true;
        }
        if self.pods_that_fit(id, req) < count {
            return false;
        }
        let mut free = [0u16; MAX_GPUS_PER_NODE as usize];
        let src = self.gpu_free(id);
        free[..src.len()].copy_from_slice(src);
        let free = &mut free[..src.len()];
        for _ in 0..count {
            let mask = match req.gpu_need() {
                GpuNeed::None => 0,
                GpuNeed::Whole(g) => {
                    let mut mask = 0u64;
                    let mut taken = 0;
                    for (i, f) in free.iter_mut().enumerate() {
                        if taken == g {
                            break;
                        }
                        if u32::from(*f) == GPU_MILLI {
                            *f = 0;
                            mask |= 1 << i;
                            taken += 1;
                        }
                    }
                    mask
                }
                GpuNeed::Shared(s) => {
                    let best = free
                        .iter()
                        .enumerate()
                        .filter(|&(_, &f)| f >= s)
                        .min_by_key(|&(i, &f)| (f, i))
                        .map(|(i, _)| i)
                        .expect("pods_that_fit counted room for this share");
                    free[best] -= s;
                    1 << best
                }
            };
            out.push(PodSlot { node: id, gpus: mask });
        }
        true
    }

    /// Takes the resources of one pod, checking that they are free. On error nothing changes.
    /// Policies never call this: they see the cluster read-only and act through decisions.
    pub fn take(&mut self, req: &PodRequest, slot: PodSlot, models: ModelSet) -> Result<(), TakeError> {
        let node = slot.node;
        let Some(n) = self.nodes.get(node.index()) else {
            return Err(TakeError::NoSuchNode { node });
        };
        let pool = &self.pools[n.pool.index()];
        if !n.up {
            return Err(TakeError::NodeDown {
                node,
                pool: pool.name.clone(),
            });
        }
        if !models.admits(pool.model) {
            return Err(TakeError::ModelNotAllowed {
                node,
                pool: pool.name.clone(),
                model: pool.model.map_or("none", |m| &self.models[m.index()]).to_string(),
            });
        }
        if n.gpus < 64 && slot.gpus >> n.gpus != 0 {
            return Err(TakeError::NoSuchGpu {
                node,
                gpus: n.gpus,
                mask: slot.gpus,
            });
        }
        if n.free_cpu < req.cpu_milli || n.free_mem < req.mem_mib {
            return Err(TakeError::NotEnoughCpuOrMemory {
                node,
                free_cpu_milli: n.free_cpu,
                free_mem_mib: n.free_mem,
                pod: *req,
            });
        }
        let base = n.gpu_base as usize;
        let bits = slot.gpus.count_ones();
        let per_gpu = match req.gpu_need() {
            GpuNeed::None if bits == 0 => 0,
            GpuNeed::Whole(g) if bits == g => GPU_MILLI as u16,
            GpuNeed::Shared(s) if bits == 1 => s,
            _ => {
                return Err(TakeError::GpuCountMismatch {
                    named: bits,
                    pod: *req,
                });
            }
        };
        for i in mask_bits(slot.gpus) {
            if self.gpu_free[base + i] < per_gpu {
                return Err(TakeError::NotEnoughGpu {
                    node,
                    gpu: i as u32,
                    free_milli: self.gpu_free[base + i],
                    needed_milli: per_gpu,
                });
            }
        }
        let mut whole_taken = 0;
        for i in mask_bits(slot.gpus) {
            if u32::from(self.gpu_free[base + i]) == GPU_MILLI {
                whole_taken += 1;
            }
            self.gpu_free[base + i] -= per_gpu;
        }
        let n = &mut self.nodes[slot.node.index()];
        n.free_cpu -= req.cpu_milli;
        n.free_mem -= req.mem_mib;
        n.free_whole -= whole_taken;
        self.free_gpu_milli -= u64::from(per_gpu) * u64::from(bits);
        self.reindex(slot.node);
        Ok(())
    }

    /// Gives back the resources of one pod taken by `take`. Policies use it on their own copies of
    /// the cluster, to ask "what if these jobs had ended" (e.g. backfill reservations).
    pub fn give_back(&mut self, req: &PodRequest, slot: PodSlot) {
        let per_gpu = match req.gpu_need() {
            GpuNeed::None => 0,
            GpuNeed::Whole(_) => GPU_MILLI as u16,
            GpuNeed::Shared(s) => s,
        };
        let n = &mut self.nodes[slot.node.index()];
        let base = n.gpu_base as usize;
        n.free_cpu += req.cpu_milli;
        n.free_mem += req.mem_mib;
        for i in mask_bits(slot.gpus) {
            self.gpu_free[base + i] += per_gpu;
            if u32::from(self.gpu_free[base + i]) == GPU_MILLI {
                n.free_whole += 1;
            }
        }
        self.free_gpu_milli += u64::from(per_gpu) * u64::from(slot.gpus.count_ones());
        if self.deferred.is_none() {
            self.reindex(slot.node);
        } else {
            self.defer_reindex(slot.node);
        }
    }

    /// On a planning copy: notes that node `id` may have more room than its index entry says,
    /// or, once `DEFERRED_MAX` such nodes are noted, brings all their entries up to date.
    #[cold]
    fn defer_reindex(&mut self, id: NodeId) {
        let mut stale = self.deferred.take().unwrap_or_default();
        if stale.len() < DEFERRED_MAX {
            stale.push(id.0);
            self.changes += 1;
        } else {
            for &i in &stale {
                self.index_node(i as usize);
            }
            stale.clear();
            self.reindex(id);
        }
        self.deferred = Some(stale);
    }

    /// A node's GPU capacity, in milli-GPU.
    pub fn node_gpu_milli(&self, id: NodeId) -> u64 {
        u64::from(self.nodes[id.index()].gpus) * u64::from(GPU_MILLI)
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes[id.index()].up
    }
    /// Marks a node up or down (its pods are the caller's business: the engine evicts them
    /// first). Like `take`, for policies' own copies of the cluster.
    pub fn set_up(&mut self, id: NodeId, up: bool) {
        self.nodes[id.index()].up = up;
        self.reindex(id);
    }

    /// Whether a job of `pods` pods could ever run here, on an empty cluster with every node up.
    /// `Err` explains why not, in terms a user can act on.
    pub fn check_fits_ever(
        &self,
        req: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
    ) -> Result<(), NeverFits> {
        let (models, kind) = (allowed.models, allowed.kind);
        let mut eligible_pools = 0;
        let mut capacity: u64 = 0;
        let mut reserved = 0;
        let mut of_model = 0;
        for (i, p) in self.pools.iter().enumerate() {
            if !models.admits(p.model) {
                continue;
            }
            of_model += 1;
            if !self.selects(allowed.selector, PoolId(i as u32)) {
                continue;
            }
            if p.interactive_only && kind != JobKind::Interactive {
                reserved += 1;
                continue;
            }
            eligible_pools += 1;
            capacity += u64::from(pool_shape_fits(p, req)) * u64::from(p.nodes.len() as u32);
        }
        if eligible_pools == 0 && reserved > 0 {
            return Err(NeverFits::ReservedForInteractive);
        }
        if of_model > 0 && eligible_pools == 0 {
            return Err(NeverFits::NotSelected);
        }
        if eligible_pools == 0 {
            let wanted: Vec<&str> = models
                .iter()
                .filter_map(|m| self.models.get(m.index()).map(String::as_str))
                .collect();
            return Err(NeverFits::NoSuchModel {
                wanted: wanted.join("|"),
            });
        }
        if capacity == 0 {
            let largest = (self.pools.iter().enumerate())
                .filter(|&(i, p)| models.admits(p.model) && self.selects(allowed.selector, PoolId(i as u32)))
                .map(|(_, p)| p)
                .max_by_key(|p| (p.gpus_per_node, p.cpu_milli, p.mem_mib))
                .expect("at least one eligible pool");
            return Err(NeverFits::PodTooLarge {
                pod: *req,
                largest: format!(
                    "{} GPU, {} CPU, {} GiB (pool {})",
                    largest.gpus_per_node,
                    fmt_milli(largest.cpu_milli),
                    fmt_gib(largest.mem_mib),
                    largest.name
                ),
                constrained: !models.is_any() || allowed.selector.is_some(),
            });
        }
        if capacity < u64::from(pods) {
            return Err(NeverFits::GangTooLarge { pods, capacity });
        }
        Ok(())
    }

    /// Sum over all nodes of allocated CPU, memory and GPU milli, for audits.
    pub(crate) fn allocated_per_node(&self, id: NodeId) -> (u64, u64, u64) {
        let n = &self.nodes[id.index()];
        let p = &self.pools[n.pool.index()];
        let gpu: u64 = self
            .gpu_free(id)
            .iter()
            .map(|&f| u64::from(GPU_MILLI) - u64::from(f))
            .sum();
        (p.cpu_milli - n.free_cpu, p.mem_mib - n.free_mem, gpu)
    }

    /// Free-whole counters agree with the per-GPU table; for audits.
    pub(crate) fn node_counters_consistent(&self, id: NodeId) -> bool {
        let n = &self.nodes[id.index()];
        let whole = self
            .gpu_free(id)
            .iter()
            .filter(|&&f| u32::from(f) == GPU_MILLI)
            .count() as u32;
        let deferred = self.deferred.iter().flatten().any(|&i| i == id.0);
        whole == n.free_whole && (deferred || self.room.holds(id.index(), &self.room_of(id.index())))
    }
}

/// Pods of `req` that fit on one empty node of pool `p`.
fn pool_shape_fits(p: &Pool, req: &PodRequest) -> u32 {
    let gpu_pods = match req.gpu_need() {
        GpuNeed::None => u64::MAX,
        GpuNeed::Whole(g) => u64::from(p.gpus_per_node / g),
        GpuNeed::Shared(s) => u64::from(p.gpus_per_node) * u64::from(GPU_MILLI as u16 / s),
    };
    pods_within(p.cpu_milli, p.mem_mib, gpu_pods, req)
}

/// Pods of `req` that fit in `cpu` and `mem`, and at most `gpu_pods` (what the GPUs allow).
fn pods_within(cpu: u64, mem: u64, gpu_pods: u64, req: &PodRequest) -> u32 {
    let by_cpu = cpu.checked_div(req.cpu_milli).unwrap_or(u64::MAX);
    let by_mem = mem.checked_div(req.mem_mib).unwrap_or(u64::MAX);
    by_cpu.min(by_mem).min(gpu_pods).min(u64::from(u32::MAX)) as u32
}

/// Indexes of the set bits of a GPU mask.
fn mask_bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            None
        } else {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            Some(i)
        }
    })
}

/// Why a job can never run on this cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum NeverFits {
    NoSuchModel {
        wanted: String,
    },
    PodTooLarge {
        pod: PodRequest,
        largest: String,
        constrained: bool,
    },
    GangTooLarge {
        pods: u32,
        capacity: u64,
    },
    /// Every node of the allowed models is reserved for interactive work.
    ReservedForInteractive,
    /// No pool of the allowed models carries the labels of the job's node selector.
    NotSelected,
}

impl fmt::Display for NeverFits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeverFits::NoSuchModel { wanted } => write!(f, "no node has GPU model {wanted}"),
            NeverFits::ReservedForInteractive => {
                write!(f, "every node it may use is reserved for interactive jobs")
            }
            NeverFits::NotSelected => write!(f, "no pool carries the labels of its node selector"),
            NeverFits::PodTooLarge {
                pod,
                largest,
                constrained,
            } => write!(
                f,
                "one pod needs {pod}; no {}node offers that (largest: {largest})",
                if *constrained { "allowed " } else { "" }
            ),
            NeverFits::GangTooLarge { pods, capacity } => write!(
                f,
                "the gang of {pods} pods must run at once, but the allowed nodes hold at most {capacity} of them"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(gpu_milli: u32, cpu: u64, mem_gib: u64) -> PodRequest {
        PodRequest {
            gpu_milli,
            cpu_milli: cpu * 1000,
            mem_mib: mem_gib * 1024,
        }
    }

    fn one_node(gpus: u32) -> Cluster {
        Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("p", Some("A100"), 1, gpus, 32, 256)],
        })
        .unwrap()
    }

    #[test]
    fn shared_gpus_pack_on_the_most_loaded_gpu() {
        let mut c = one_node(2);
        let r = req(600, 1, 1);
        let mut out = Vec::new();
        assert!(c.pick_slots(NodeId(0), &r, 1, &mut out));
        c.take(&r, out[0], ModelSet::ANY).unwrap();
        // 400 left on GPU 0: a 300 share goes there, not onto the empty GPU 1.
        let r2 = req(300, 1, 1);
        out.clear();
        assert!(c.pick_slots(NodeId(0), &r2, 1, &mut out));
        assert_eq!(out[0].gpus, 0b01);
        c.take(&r2, out[0], ModelSet::ANY).unwrap();
        assert_eq!(c.gpu_free(NodeId(0)), &[100, 1000]);
        // a whole GPU is still available, one only.
        assert_eq!(c.pods_that_fit(NodeId(0), &req(1000, 1, 1)), 1);
        assert_eq!(c.pods_that_fit(NodeId(0), &req(2000, 1, 1)), 0);
        assert_eq!(c.free_gpu_milli(), 1100);
    }

    /// A policy's what-if copy is refreshed with `clone_from`: whatever it went through, it then
    /// reads exactly as the cluster it copies, free capacity, index and node states alike.
    #[test]
    fn a_refreshed_copy_reads_as_its_source() {
        let spec = ClusterSpec {
            pools: vec![
                PoolSpec::new("a", Some("A100"), 3, 4, 32, 256),
                PoolSpec::new("b", Some("H100"), 2, 8, 64, 512),
            ],
        };
        let mut source = Cluster::new(&spec).unwrap();
        let mut copy = source.clone();
        let slot = |node, gpus| PodSlot {
            node: NodeId(node),
            gpus,
        };
        // The copy diverges one way, the source another.
        copy.take(&req(2000, 4, 8), slot(4, 0b11), ModelSet::ANY).unwrap();
        copy.set_up(NodeId(1), false);
        source
            .take(&req(1000, 30, 8), slot(0, 0b1), ModelSet::ANY)
            .unwrap();
        source
            .take(&req(500, 1, 1), slot(3, 0b100), ModelSet::ANY)
            .unwrap();
        source.set_up(NodeId(2), false);
        assert_eq!(source.changes(), 3);
        copy.clone_from(&source);
        assert_eq!(format!("{copy:?}"), format!("{source:?}"));
        assert_eq!(copy.free_gpu_milli(), source.free_gpu_milli());
        // The index was refreshed too: node 0's 2 CPUs left are too few for 4, node 1 is the
        // first with room, as on the source.
        let pod = req(1000, 4, 8);
        assert_eq!(copy.first_with_room(NodeId(0), 5, &pod), Some(NodeId(1)));
        assert_eq!(
            copy.first_with_room(NodeId(0), 5, &pod),
            source.first_with_room(NodeId(0), 5, &pod)
        );
        // And it is a copy: taking from it leaves the source alone.
        copy.take(&pod, slot(1, 0b1), ModelSet::ANY).unwrap();
        assert_eq!(source.free_gpu_milli(), copy.free_gpu_milli() + 1000);
        assert_eq!((source.changes(), copy.changes()), (3, 4));
        // A take that is refused changes nothing, so it is not counted.
        assert!(copy.take(&pod, slot(2, 0b1), ModelSet::ANY).is_err());
        assert_eq!(copy.changes(), 4);
    }

    proptest::proptest! {
        /// A planning copy leaves its index behind for pods given back and catches up after
        /// `DEFERRED_MAX` of them; under random takes, give-backs and node failures it still
        /// finds exactly the node a scan finds.
        #[test]
        fn a_planning_copy_finds_what_a_scan_finds(
            seed in proptest::prelude::any::<u64>(),
            nodes in 1u32..=70,
        ) {
            let spec = ClusterSpec {
                pools: vec![
                    PoolSpec::new("a", Some("A100"), nodes, 8, 64, 512),
                    PoolSpec::new("b", Some("H100"), 3, 4, 32, 256),
                ],
            };
            let n = nodes + 3;
            let source = Cluster::new(&spec).unwrap();
            let mut keep = None;
            let copy = source.copy_into(&mut keep);
            let mut next = crate::test_rng(seed);
            let reqs = [req(1000, 4, 8), req(2000, 8, 16), req(300, 1, 1), req(4000, 30, 100), req(0, 2, 2)];
            let mut held: Vec<(PodRequest, PodSlot)> = Vec::new();
            let mut out = Vec::new();
            for _ in 0..400 {
                match next(10) {
                    0..=5 => {
                        let r = reqs[next(5) as usize];
                        out.clear();
                        let id = NodeId(next(u64::from(n)) as u32);
                        if copy.is_up(id) && copy.pick_slots(id, &r, 1, &mut out) {
                            copy.take(&r, out[0], ModelSet::ANY).unwrap();
                            held.push((r, out[0]));
                        }
                    }
                    6..=8 if !held.is_empty() => {
                        let (r, s) = held.swap_remove(next(held.len() as u64) as usize);
                        copy.give_back(&r, s);
                    }
                    _ => {
                        let id = NodeId(next(u64::from(n)) as u32);
                        let up = copy.is_up(id);
                        copy.set_up(id, !up);
                    }
                }
                for _ in 0..4 {
                    let r = reqs[next(5) as usize];
                    let from = next(u64::from(n) + 1) as u32;
                    let end = next(u64::from(n) + 2) as u32;
                    let scan = (from..end.min(n))
                        .find(|&i| copy.is_up(NodeId(i)) && copy.pods_that_fit(NodeId(i), &r) > 0);
                    proptest::prop_assert_eq!(copy.first_with_room(NodeId(from), end, &r).map(|i| i.0), scan);
                }
            }
        }
    }

    /// The index's bounds are coarse: 32,000 and 32,050 milli-CPU look alike to it (both 500 in
    /// units of 64), so the node's exact figures must decide.
    #[test]
    fn the_first_node_with_room_is_decided_on_exact_figures() {
        let c = one_node(4); // 32 CPUs
        let pod = |cpu_milli| PodRequest {
            gpu_milli: 1000,
            cpu_milli,
            mem_mib: 1024,
        };
        assert_eq!(c.first_with_room(NodeId(0), 1, &pod(32_000)), Some(NodeId(0)));
        assert_eq!(c.first_with_room(NodeId(0), 1, &pod(32_050)), None);
    }

    #[test]
    fn whole_gpu_pods_take_the_lowest_untouched_gpus() {
        let mut c = one_node(8);
        let on_node_0 = |gpus| PodSlot {
            node: NodeId(0),
            gpus,
        };
        // GPU 0 whole and a share of GPU 2 taken: GPUs 1 and 3 to 7 are untouched.
        c.take(&req(1000, 1, 1), on_node_0(0b1), ModelSet::ANY).unwrap();
        c.take(&req(300, 1, 1), on_node_0(0b100), ModelSet::ANY).unwrap();
        let mut out = Vec::new();
        assert!(c.pick_slots(NodeId(0), &req(2000, 1, 1), 3, &mut out));
        let masks: Vec<u64> = out.iter().map(|s| s.gpus).collect();
        assert_eq!(masks, [0b1010, 0b11_0000, 0b1100_0000]);
        // A fourth pod of two has no room: nothing is appended.
        out.clear();
        assert!(!c.pick_slots(NodeId(0), &req(2000, 1, 1), 4, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn take_rejects_overcommit_and_changes_nothing() {
        let mut c = one_node(4);
        let r = req(2000, 1, 1);
        c.take(
            &r,
            PodSlot {
                node: NodeId(0),
                gpus: 0b0011,
            },
            ModelSet::ANY,
        )
        .unwrap();
        let before = (c.free_gpu_milli(), c.gpu_free(NodeId(0)).to_vec());
        let err = c
            .take(
                &r,
                PodSlot {
                    node: NodeId(0),
                    gpus: 0b0110,
                },
                ModelSet::ANY,
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("GPU 1 of node 0 has 0 milli-GPU free"),
            "{err}"
        );
        assert_eq!(before, (c.free_gpu_milli(), c.gpu_free(NodeId(0)).to_vec()));
        let err = c
            .take(
                &r,
                PodSlot {
                    node: NodeId(0),
                    gpus: 0b10000,
                },
                ModelSet::ANY,
            )
            .unwrap_err();
        assert!(err.to_string().contains("has 4 GPUs"), "{err}");
        c.give_back(
            &r,
            PodSlot {
                node: NodeId(0),
                gpus: 0b0011,
            },
        );
        assert_eq!(c.free_gpu_milli(), 4000);
        assert!(c.node_counters_consistent(NodeId(0)));
    }

    #[test]
    fn take_errors_name_node_pool_and_shortfall() {
        let mut c = one_node(4);
        let on = |node, gpus| PodSlot {
            node: NodeId(node),
            gpus,
        };
        let err = |c: &mut Cluster, r: PodRequest, s: PodSlot, m: ModelSet| {
            c.take(&r, s, m).unwrap_err().to_string()
        };
        assert_eq!(
            err(&mut c, req(1000, 1, 1), on(5, 0b1), ModelSet::ANY),
            "node 5 does not exist"
        );
        c.set_up(NodeId(0), false);
        assert_eq!(
            err(&mut c, req(1000, 1, 1), on(0, 0b1), ModelSet::ANY),
            "node 0 (pool p) is down"
        );
        c.set_up(NodeId(0), true);
        assert_eq!(
            err(
                &mut c,
                req(1000, 1, 1),
                on(0, 0b1),
                ModelSet::ANY.with(ModelId(1))
            ),
            "node 0 (pool p) has GPU model A100, which the job does not allow"
        );
        assert_eq!(
            err(&mut c, req(1000, 1, 1), on(0, 0b10000), ModelSet::ANY),
            "node 0 has 4 GPUs; the slot names GPU mask 0x10"
        );
        assert_eq!(
            err(&mut c, req(1000, 40, 1), on(0, 0b1), ModelSet::ANY),
            "node 0 has 32 CPU and 256 GiB free; the pod needs 1 GPU, 40 CPU, 1 GiB"
        );
        assert_eq!(
            err(&mut c, req(2000, 1, 1), on(0, 0b1), ModelSet::ANY),
            "the slot names 1 GPUs but the pod asks for 2 GPU, 1 CPU, 1 GiB"
        );
        let mut cpu = Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("cpu", None, 1, 0, 8, 32)],
        })
        .unwrap();
        assert_eq!(
            err(&mut cpu, req(0, 1, 1), on(0, 0), ModelSet::ANY.with(ModelId(0))),
            "node 0 (pool cpu) has GPU model none, which the job does not allow"
        );
    }

    #[test]
    fn never_fits_names_the_shortfall() {
        let c = Cluster::new(&ClusterSpec {
            pools: vec![
                PoolSpec::new("g2", Some("G2"), 2, 8, 96, 384),
                PoolSpec::new("g3", Some("G3"), 1, 8, 128, 768),
            ],
        })
        .unwrap();
        let big = req(8000, 120, 720);
        let g2 = ModelSet::ANY.with(c.model_id("G2").unwrap());
        assert!(
            c.check_fits_ever(
                &big,
                1,
                &Allowed {
                    kind: JobKind::Batch,
                    ..Allowed::models(ModelSet::ANY)
                }
            )
            .is_ok()
        );
        let e = c
            .check_fits_ever(
                &big,
                1,
                &Allowed {
                    kind: JobKind::Batch,
                    ..Allowed::models(g2)
                },
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "one pod needs 8 GPU, 120 CPU, 720 GiB; no allowed node offers that (largest: 8 GPU, 96 CPU, 384 GiB (pool g2))"
        );
        let e = c
            .check_fits_ever(&req(4000, 1, 1), 7, &Allowed::models(ModelSet::ANY))
            .unwrap_err();
        assert_eq!(e, NeverFits::GangTooLarge { pods: 7, capacity: 6 });
    }

    /// A pool reserved for interactive work: batch jobs may not use it, interactive ones may.
    #[test]
    fn reserved_pools_are_for_interactive_jobs_only() {
        let mut dev = PoolSpec::new("dev", Some("G3"), 1, 8, 128, 768);
        dev.interactive_only = true;
        let c = Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("g2", Some("G2"), 1, 8, 96, 384), dev],
        })
        .unwrap();
        let g3 = ModelSet::ANY.with(c.model_id("G3").unwrap());
        let small = req(1000, 1, 1);
        assert_eq!(
            c.check_fits_ever(
                &small,
                1,
                &Allowed {
                    kind: JobKind::Batch,
                    ..Allowed::models(g3)
                }
            )
            .unwrap_err()
            .to_string(),
            "every node it may use is reserved for interactive jobs"
        );
        assert!(
            c.check_fits_ever(
                &small,
                1,
                &Allowed {
                    kind: JobKind::Interactive,
                    ..Allowed::models(g3)
                }
            )
            .is_ok()
        );
        let batch = Allowed::models(ModelSet::ANY);
        let interactive = Allowed {
            kind: JobKind::Interactive,
            ..batch
        };
        assert!(c.eligible(NodeId(0), &batch) && !c.eligible(NodeId(1), &batch));
        assert!(c.eligible(NodeId(0), &interactive) && c.eligible(NodeId(1), &interactive));
    }

    #[test]
    fn bad_specs_are_rejected() {
        let mut p = PoolSpec::new("x", None, 1, 2, 1, 1);
        assert_eq!(
            Cluster::new(&ClusterSpec {
                pools: vec![p.clone()]
            })
            .unwrap_err(),
            ClusterError::GpusWithoutModel("x".into())
        );
        p.gpu_model = Some("A".into());
        p.gpus_per_node = 65;
        assert!(matches!(
            Cluster::new(&ClusterSpec { pools: vec![p] }),
            Err(ClusterError::TooManyGpus { .. })
        ));
        assert_eq!(
            Cluster::new(&ClusterSpec::default()).unwrap_err(),
            ClusterError::Empty
        );
        // 536,871 nodes of 8 GPUs are one node more than 4,294,967 GPUs allow; refused before
        // anything is allocated.
        let big = |nodes| ClusterSpec {
            pools: vec![PoolSpec::new("g", Some("A"), nodes, 8, 1, 1)],
        };
        assert_eq!(
            Cluster::new(&big(536_871)).unwrap_err(),
            ClusterError::TooManyGpusInAll
        );
        assert_eq!(MAX_GPUS, 4_294_967);
    }
}
