//! Kueue's admission model, replayed against the manifests a real cluster runs.
//!
//! Kueue admits by quota: a workload reserves quota per (flavor, resource) in its ClusterQueue and
//! the cohort tree (`tree`), chosen by flavor assignment (`assign`) and, when quota is short, by
//! preemption (`preempt`). Only then do its pods look for nodes: here, with the scenario's
//! placement, restricted to the pools whose labels match the admitted flavors. A workload that
//! holds quota but finds no node waits "for nodes", which the report separates from waiting for
//! quota. The cycle follows Kueue's scheduler: one head per ClusterQueue, nomination against one
//! snapshot, entries in Kueue's order, requeueing as the queueing strategy says. The semantics are
//! documented against Kueue's source in the README's Kueue section.

mod assign;
mod cycle;
pub mod edit;
pub mod effective;
pub mod manifest;
pub mod model;
mod preempt;
pub mod quantity;
mod queue;
#[cfg(test)]
mod tests;
pub mod tree;
mod waiting;

use fairway_engine::{
    Cluster, Cycle, Decision, JobId, JobSpec, Policy, PolicyError, SimDuration, SimTime, Transition, Workload,
};
use model::{Config, Queueing, Strategy};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use tree::{Node, Quota, Tree, Usage};

/// A Kueue release, `0.minor`; decides the behaviours that changed between releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub minor: u32,
}

impl Version {
    /// The newest release the model follows.
    pub const NEWEST: Version = Version { minor: 19 };
    /// The oldest release whose behaviour the model reproduces.
    pub const OLDEST: Version = Version { minor: 8 };

    /// "0.19", "v0.19.2" or "0.19.2".
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        (major == 0 && (Version::OLDEST.minor..=Version::NEWEST.minor).contains(&minor))
            .then_some(Version { minor })
    }
    /// DRS in integer arithmetic (before v0.13).
    pub fn integer_drs(self) -> bool {
        self.minor < 13
    }
    /// Several preemptions per cohort per cycle (MultiplePreemptions, v0.9+).
    pub fn multiple_preemptions(self) -> bool {
        self.minor >= 9
    }
    /// Non-borrowing heads win the fair-sharing tournament, and a preemptor within nominal may
    /// preempt any over-nominal queue (v0.17+).
    pub fn fair_sharing_nominal_rules(self) -> bool {
        self.minor >= 17
    }
    /// Equivalent workloads are parked together under BestEffortFIFO (v0.18+).
    pub fn equivalence_hashing(self) -> bool {
        self.minor >= 18
    }
    /// waitForPodsReady is on by default (v0.19+).
    pub fn pods_ready_by_default(self) -> bool {
        self.minor >= 19
    }
}

/// How the policy is set up, besides the manifests.
#[derive(Clone, Debug)]
pub struct Options {
    pub version: Version,
    /// How long a preempted workload keeps its quota (and its pods run) before it is gone.
    pub eviction_latency: SimDuration,
    /// A job whose queue the manifests do not know is rejected (with the reason) instead of
    /// failing the run.
    pub reject_unknown_queues: bool,
    /// Count GPU requests in milli-GPU (for a shared-GPU resource) instead of whole devices
    /// rounded up per pod.
    pub gpu_milli: bool,
}

/// Kueue's pending reasons (QuotaReserved=False), plus fairway's two for queued work.
pub mod reason {
    pub const WAITING_FOR_QUOTA: &str = "WaitingForQuota";
    pub const EXCEEDS_MAX_QUOTA: &str = "ExceedsMaxQuota";
    pub const NO_MATCHING_FLAVOR: &str = "NoMatchingFlavor";
    pub const WAITING_FOR_PREEMPTED: &str = "WaitingForPreemptedWorkloads";
    pub const WAITING_FOR_PODS_READY: &str = "WaitingForPodsReady";
    pub const SUSPENDED: &str = "Suspended";
    /// Admitted (quota reserved), but the pods find no node yet.
    pub const WAITING_FOR_NODES: &str = "WaitingForNodes";
    /// Behind the head of a StrictFIFO queue, not yet tried.
    pub const HEAD_OF_LINE_BLOCKED: &str = "HeadOfLineBlocked";
    /// In the queue, not yet tried.
    pub const QUEUED: &str = "Queued";
    /// Backing off after a waitForPodsReady eviction.
    pub const BACKOFF: &str = "BackoffAfterEviction";
}

/// Kueue's preemption reasons.
pub mod preemption_reason {
    pub const IN_CLUSTER_QUEUE: &str = "InClusterQueue";
    pub const IN_COHORT_RECLAMATION: &str = "InCohortReclamation";
    pub const IN_COHORT_FAIR_SHARING: &str = "InCohortFairSharing";
    pub const IN_COHORT_RECLAIM_WHILE_BORROWING: &str = "InCohortReclaimWhileBorrowing";
}

/// The order of a cycle's entries without fair sharing: borrow level, priority (higher first),
/// queue timestamp, job.
type EntryKey = (u32, Reverse<i32>, SimTime, JobId);

/// Quantities per resource or per fr: a handful, so kept inline.
type Frs = smallvec::SmallVec<[(usize, i64); 4]>;

/// Heap order: higher priority, then earlier queue timestamp, then job id (for UID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    prio: Reverse<i32>,
    ts: SimTime,
    job: JobId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WlState {
    /// Pending in its ClusterQueue: in the heap, or parked until a flush.
    Queued,
    /// Waiting for its requeue backoff to expire.
    Backoff,
    /// Quota reserved.
    Admitted,
    /// Preempted: still holds quota (and its pods run) until its eviction completes.
    Evicting,
}

/// What an admitted workload holds.
#[derive(Clone, Debug)]
struct Admission {
    /// Quota per fr.
    frs: Frs,
    /// Pools its pods may use (those matching every assigned flavor's node labels).
    pools: Vec<bool>,
    reserved_at: SimTime,
}

#[derive(Clone, Debug)]
struct Wl {
    cq: usize,
    prio: i32,
    ts: SimTime,
    /// Shape of the request, for equivalence parking.
    hash: u64,
    /// Request per resource (non-zero only).
    req: Frs,
    state: WlState,
    /// The tree generation it was last tried at.
    tried_gen: u64,
    pop_cycle: u64,
    adm: Option<Admission>,
    /// Evictions by waitForPodsReady so far.
    requeues: u32,
    /// Why it was preempted, and for whom, once chosen as a victim.
    victim_of: Option<(&'static str, JobId)>,
    reason: &'static str,
}

impl Wl {
    fn key(&self, job: JobId) -> Key {
        Key {
            prio: Reverse(self.prio),
            ts: self.ts,
            job,
        }
    }
}

/// Workloads by job number: a dense table, because every head, candidate and victim is looked up
/// here several times per cycle.
#[derive(Clone, Debug, Default)]
struct Wls(Vec<Option<Wl>>);

impl Wls {
    fn get(&self, job: &JobId) -> Option<&Wl> {
        self.0.get(job.index()).and_then(Option::as_ref)
    }
    fn get_mut(&mut self, job: &JobId) -> Option<&mut Wl> {
        self.0.get_mut(job.index()).and_then(Option::as_mut)
    }
    fn insert(&mut self, job: JobId, w: Wl) {
        let i = job.index();
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i] = Some(w);
    }
    fn take(&mut self, job: &JobId) -> Option<Wl> {
        self.0.get_mut(job.index()).and_then(Option::take)
    }
    /// Workloads in job order.
    fn iter(&self) -> impl Iterator<Item = (JobId, &Wl)> {
        (self.0.iter().enumerate()).filter_map(|(i, w)| w.as_ref().map(|w| (JobId(i as u32), w)))
    }
}

impl std::ops::Index<&JobId> for Wls {
    type Output = Wl;
    fn index(&self, job: &JobId) -> &Wl {
        self.get(job).expect("a known workload")
    }
}

/// A ClusterQueue at run time.
#[derive(Clone, Debug)]
struct Cq {
    name: String,
    root: usize,
    settings: model::CqSettings,
    groups: Vec<CqGroup>,
    queue: queue::Queue,
    /// The PendingPreemption workload that stays at the head (BestEffortFIFO).
    sticky: Option<JobId>,
    /// Admitted workloads by priority, then job: the own-queue victim search reads only those
    /// below the preemptor's priority.
    admitted: BTreeSet<(i32, JobId)>,
    /// Resources the queue covers.
    covers: Vec<bool>,
    /// Active and not held, so it may admit: asked for every queue on every cycle.
    open: bool,
}

/// A resource group of a ClusterQueue, as flavor assignment reads it.
#[derive(Clone, Debug)]
struct CqGroup {
    /// Per resource, whether the group holds it: asked for every request on every nomination.
    covers: Vec<bool>,
    /// Indexes into `Config::flavors`, in order.
    flavors: Vec<usize>,
}

/// A set of indexes that lists them as they are marked, so that taking the set costs what was
/// marked, not the range.
#[derive(Clone, Debug, Default)]
struct Marks {
    on: Vec<bool>,
    list: Vec<usize>,
}

impl Marks {
    /// Indexes `0..n`, all marked or none.
    fn new(n: usize, all: bool) -> Marks {
        Marks {
            on: vec![all; n],
            list: if all { (0..n).collect() } else { Vec::new() },
        }
    }
    fn mark(&mut self, i: usize) {
        if !self.on[i] {
            self.on[i] = true;
            self.list.push(i);
        }
    }
    fn is_marked(&self, i: usize) -> bool {
        self.on[i]
    }
    /// Makes room for indexes up to `n`, unmarked.
    fn grow(&mut self, n: usize) {
        if self.on.len() < n {
            self.on.resize(n, false);
        }
    }
    /// Unmarks everything, handing each index that was marked to `f`.
    fn take(&mut self, mut f: impl FnMut(usize)) {
        for i in self.list.drain(..) {
            self.on[i] = false;
            f(i);
        }
    }
}

/// Counts for the policy's own summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub cycles: u64,
    pub admissions: u64,
    pub preemptions: u64,
    pub evictions_pods_ready: u64,
}

/// Kueue's admission as a fairway policy.
///
/// Cost per cycle: one nomination per ClusterQueue head whose cohort tree changed since that head
/// last failed, a look at each queue of such a tree or whose queue changed (not at every queue),
/// plus a copy of the usage table (nodes x frs). A nomination is O(frs x tree depth)
/// when the head fits, and O(admitted workloads of the tree x log of that) when it searches for
/// victims. Workload look-ups are O(1) by job number.
pub struct Kueue {
    cfg: Config,
    opts: Options,
    nres: usize,
    tree: Tree,
    res_of_fr: Vec<usize>,
    cqs: Vec<Cq>,
    /// Per tree node (filled at roots): the ClusterQueues of its tree, in index order, so that
    /// work on one tree (a flush, a search for victims) costs what that tree holds, not every
    /// queue.
    tree_cqs: Vec<Vec<usize>>,
    fair: Option<Vec<Strategy>>,
    pods_ready: Option<model::PodsReady>,
    /// Per flavor, per pool: whether the pool's labels hold the flavor's node labels.
    flavor_pools: Vec<Vec<bool>>,
    /// Per flavor: the GPU model its `gpu_model` label names (`Some(None)`: not in the cluster),
    /// or `None` when it has no such label.
    flavor_model: Vec<Option<Option<fairway_engine::ModelId>>>,
    /// Per job: the GPU models it may use.
    job_models: Vec<fairway_engine::ModelSet>,
    /// Per job: its node selector (an index into the workload's).
    job_selector: Vec<Option<fairway_engine::SelectorId>>,
    /// Per flavor, per node selector of the workload: whether the flavor's node labels agree
    /// with the selector on every key the flavor defines.
    flavor_selects: Vec<Vec<bool>>,
    /// Per job: its ClusterQueue, or `NO_CQ`.
    job_cq: Vec<u32>,
    job_prio: Vec<i32>,
    rejections: BTreeMap<JobId, String>,
    wls: Wls,
    usage: Usage,
    /// Per tree node (used at roots): bumped whenever usage or queues change in that tree.
    gens: Vec<u64>,
    /// What the next cycle looks at for heads: the ClusterQueues whose queue changed since a
    /// cycle last looked at them, and the trees (roots) whose generation moved since (all their
    /// queues). A queue in neither has nothing to try: it was passed over, or its head failed,
    /// against its tree as it still is. So a cycle costs the queues that changed, not them all.
    stale_cqs: Marks,
    stale_trees: Marks,
    /// The queues a cycle looks at, reused.
    looking: Vec<usize>,
    /// Cycles look at every ClusterQueue (the reference the tests hold the marks to).
    #[cfg(test)]
    by_scan: bool,
    /// Buffers a cycle reuses: the generations and usage it started from, its heads.
    cycle_bufs: (Vec<u64>, Usage, Vec<JobId>),
    /// A cycle's nominated entries and their processing order, reused.
    entry_bufs: (Vec<cycle::Entry>, Vec<(EntryKey, usize)>),
    last_flush_cycle: Vec<u64>,
    flushes: BTreeSet<(SimTime, usize)>,
    /// Per tree node (used at roots): whether `flushes` holds a flush of that tree.
    flush_due: Vec<bool>,
    releases: BTreeSet<(SimTime, JobId)>,
    backoffs: BTreeSet<(SimTime, JobId)>,
    ready_deadlines: BTreeSet<(SimTime, JobId)>,
    /// Admitted workloads whose pods found no nodes yet, by admission time.
    unplaced: waiting::Waiting,
    /// When `place` last tried every one of them; buffers for the ones it tries, for the merge
    /// of their groups, and for the groups that found no nodes.
    placed_at: Option<SimTime>,
    placing: Vec<(SimTime, JobId)>,
    place_heads: BinaryHeap<Reverse<(waiting::At, usize)>>,
    full_groups: Marks,
    reasons: Vec<(JobId, &'static str)>,
    wake: Option<SimTime>,
    cycle_no: u64,
    now: SimTime,
    pub stats: Stats,
}

const NO_CQ: u32 = u32::MAX;
/// Far more cycles than any instant needs; a guard against a model bug looping.
const MAX_CYCLES_PER_PASS: u32 = 1_000_000;
/// Inadmissible workloads return to the heap in batches, at most once a second (Kueue's delay
/// queue).
const FLUSH_DELAY: SimDuration = SimDuration(1000);

/// What [`Kueue::audit`] found wrong with the policy's own books (a bug in the model).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BrokenBooks(pub String);

/// A name given to both a ClusterQueue and a Cohort.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' names both a ClusterQueue and a Cohort")]
pub struct NameClash(pub String);

impl Kueue {
    /// Builds the policy from checked manifests.
    pub fn new(cfg: Config, opts: Options) -> Result<Kueue, NameClash> {
        let nres = cfg.resources.len();
        let nfl = cfg.flavors.len();
        let nfr = nfl * nres;
        let ncq = cfg.cluster_queues.len();
        // Tree nodes: ClusterQueues first, then cohorts (declared or only named).
        let mut names: Vec<String> = cfg.cluster_queues.iter().map(|(s, _)| s.name.clone()).collect();
        let mut specs: Vec<&model::QuotaNodeSpec> = cfg.cluster_queues.iter().map(|(s, _)| s).collect();
        let mut implicit: Vec<model::QuotaNodeSpec> = Vec::new();
        let mut cohort_names: Vec<String> = cfg.cohorts.iter().map(|c| c.name.clone()).collect();
        for s in cfg
            .cluster_queues
            .iter()
            .map(|(s, _)| s)
            .chain(cfg.cohorts.iter())
        {
            if let Some(p) = &s.parent
                && !cohort_names.contains(p)
            {
                cohort_names.push(p.clone());
                implicit.push(model::QuotaNodeSpec {
                    name: p.clone(),
                    parent: None,
                    groups: vec![],
                    quotas: BTreeMap::new(),
                    weight: 1.0,
                });
            }
        }
        if names.iter().any(|n| cohort_names.contains(n)) {
            let n = names.iter().find(|n| cohort_names.contains(n)).expect("found");
            return Err(NameClash(n.clone()));
        }
        specs.extend(cfg.cohorts.iter());
        specs.extend(implicit.iter());
        names.extend(cfg.cohorts.iter().map(|c| c.name.clone()));
        names.extend(implicit.iter().map(|c| c.name.clone()));
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let mut nodes: Vec<Node> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| Node {
                name: s.name.clone(),
                parent: s.parent.as_deref().map(|p| index[p]),
                children: vec![],
                is_cq: i < ncq,
                weight: s.weight,
            })
            .collect();
        // The manifests refuse cohort cycles; one in a Config built otherwise is broken here so
        // that walks up the tree end.
        for i in 0..nodes.len() {
            let mut seen = BTreeSet::new();
            let mut cur = Some(i);
            while let Some(c) = cur {
                if !seen.insert(c) {
                    nodes[c].parent = None;
                    break;
                }
                cur = nodes[c].parent;
            }
        }
        for i in 0..nodes.len() {
            if let Some(p) = nodes[i].parent {
                nodes[p].children.push(i);
            }
        }
        let mut quota = vec![Quota::default(); nodes.len() * nfr];
        for (i, s) in specs.iter().enumerate() {
            for (&(f, r), &q) in &s.quotas {
                quota[i * nfr + f * nres + r] = q;
            }
        }
        let mut tree = Tree::new(nodes, nfr, quota);
        tree.integer_drs = opts.version.integer_drs();
        let cqs: Vec<Cq> = cfg
            .cluster_queues
            .iter()
            .enumerate()
            .map(|(i, (s, settings))| {
                let mut covers = vec![false; nres];
                for g in &s.groups {
                    for &r in &g.resources {
                        covers[r] = true;
                    }
                }
                Cq {
                    name: s.name.clone(),
                    root: tree.root(i),
                    settings: settings.clone(),
                    groups: (s.groups.iter())
                        .map(|g| CqGroup {
                            covers: (0..nres).map(|r| g.resources.contains(&r)).collect(),
                            flavors: g.flavors.clone(),
                        })
                        .collect(),
                    queue: queue::Queue::new(
                        opts.version.equivalence_hashing() && settings.queueing == Queueing::BestEffortFifo,
                    ),
                    sticky: None,
                    admitted: BTreeSet::new(),
                    covers,
                    open: !settings.held,
                }
            })
            .collect();
        let fair = match &cfg.global {
            Some(g) if g.fair_sharing => Some(g.strategies.clone()),
            _ => None,
        };
        let pods_ready = match &cfg.global {
            Some(g) => g.pods_ready.clone(),
            None if opts.version.pods_ready_by_default() => Some(model::PodsReady {
                timeout_s: 1800.0,
                recovery_timeout_s: None,
                block_admission: false,
                backoff_base_s: 60.0,
                backoff_max_s: 3600.0,
                backoff_limit: None,
                requeue_at_eviction_time: true,
            }),
            None => None,
        };
        let n = tree.nodes.len();
        let mut tree_cqs = vec![Vec::new(); n];
        for (i, c) in cqs.iter().enumerate() {
            tree_cqs[c.root].push(i);
        }
        Ok(Kueue {
            nres,
            res_of_fr: (0..nfr).map(|fr| fr % nres).collect(),
            usage: tree.empty_usage(),
            tree,
            cqs,
            tree_cqs,
            fair,
            pods_ready,
            flavor_pools: Vec::new(),
            flavor_model: Vec::new(),
            job_models: Vec::new(),
            job_selector: Vec::new(),
            flavor_selects: Vec::new(),
            job_cq: Vec::new(),
            job_prio: Vec::new(),
            rejections: BTreeMap::new(),
            wls: Wls::default(),
            gens: vec![0; n],
            stale_cqs: Marks::new(ncq, true),
            stale_trees: Marks::new(n, false),
            looking: Vec::new(),
            #[cfg(test)]
            by_scan: false,
            cycle_bufs: Default::default(),
            entry_bufs: Default::default(),
            last_flush_cycle: vec![0; n],
            flushes: BTreeSet::new(),
            flush_due: vec![false; n],
            releases: BTreeSet::new(),
            backoffs: BTreeSet::new(),
            ready_deadlines: BTreeSet::new(),
            unplaced: waiting::Waiting::default(),
            placed_at: None,
            placing: Vec::new(),
            place_heads: BinaryHeap::new(),
            full_groups: Marks::default(),
            reasons: Vec::new(),
            wake: None,
            cycle_no: 0,
            now: SimTime::ZERO,
            stats: Stats::default(),
            cfg,
            opts,
        })
    }

    /// The checked configuration (warnings included).
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Current quota-reserved usage of a ClusterQueue for (flavor, resource), by names.
    pub fn usage_of(&self, cq: &str, flavor: &str, resource: &str) -> Option<i64> {
        let c = self.cqs.iter().position(|c| c.name == cq)?;
        let f = self.cfg.flavors.iter().position(|x| x.name == flavor)?;
        let r = self.cfg.resources.iter().position(|x| x == resource)?;
        Some(self.tree.usage(&self.usage, c, f * self.nres + r))
    }

    fn fr(&self, flavor: usize, res: usize) -> usize {
        flavor * self.nres + res
    }

    /// Kueue's request of a job: per-pod requests times pods; GPUs rounded up per pod (or in
    /// milli-GPU with `gpu_milli`); `pods` only where the ClusterQueue covers it.
    fn requests(&self, spec: &JobSpec, cq: usize) -> Frs {
        let pods = i64::from(spec.pods);
        let gpu_per_pod = if self.opts.gpu_milli {
            i64::from(spec.pod.gpu_milli)
        } else {
            i64::from(spec.pod.gpu_milli.div_ceil(1000))
        };
        let mut v = Frs::new();
        let mut push = |r: usize, q: i64| {
            if q > 0 {
                v.push((r, q));
            }
        };
        push(0, spec.pod.cpu_milli as i64 * pods);
        push(
            1,
            (spec.pod.mem_mib as i64)
                .saturating_mul(1 << 20)
                .saturating_mul(pods),
        );
        if self.cqs[cq].covers[2] {
            push(2, pods);
        }
        push(3, gpu_per_pod * pods);
        v
    }

    fn bump(&mut self, root: usize) {
        self.gens[root] += 1;
        self.stale_trees.mark(root);
    }

    fn schedule_flush(&mut self, root: usize) {
        if !self.flush_due[root] {
            self.flush_due[root] = true;
            self.flushes.insert((self.now + FLUSH_DELAY, root));
        }
    }

    fn set_reason(&mut self, job: JobId, r: &'static str) {
        if let Some(w) = self.wls.get_mut(&job)
            && w.reason != r
        {
            w.reason = r;
            self.reasons.push((job, r));
        }
    }

    fn push_heap(&mut self, job: JobId) {
        let w = self.wls.get_mut(&job).expect("workload");
        w.state = WlState::Queued;
        let key = w.key(job);
        let (cq, hash) = (w.cq, w.hash);
        let c = &mut self.cqs[cq];
        c.queue.push(key, hash);
        let root = c.root;
        self.bump(root);
    }

    fn remove_queued(&mut self, job: JobId) {
        let Some(w) = self.wls.get(&job) else { return };
        let key = w.key(job);
        let (cq, hash) = (w.cq, w.hash);
        let c = &mut self.cqs[cq];
        c.queue.remove(key, hash);
        if c.sticky == Some(job) {
            c.sticky = None;
        }
        // Its head may be another now.
        self.stale_cqs.mark(cq);
    }

    fn park(&mut self, job: JobId) {
        let w = self.wls.get_mut(&job).expect("workload");
        w.state = WlState::Queued;
        let key = w.key(job);
        self.cqs[w.cq].queue.park(key, w.hash);
    }

    /// Adds or removes an admitted workload's quota.
    fn charge(&mut self, cq: usize, frs: &[(usize, i64)], sign: i64) {
        for &(fr, q) in frs {
            self.tree.add(&mut self.usage, cq, fr, sign * q);
        }
        let root = self.cqs[cq].root;
        self.bump(root);
    }

    /// The waitForPodsReady deadline of a workload admitted at `reserved_at`, if Kueue waits
    /// for pods to be ready.
    fn ready_deadline(&self, reserved_at: SimTime) -> Option<SimTime> {
        let pr = self.pods_ready.as_ref()?;
        Some(reserved_at + SimDuration((pr.timeout_s * 1000.0).round() as u64))
    }

    /// The workload admitted at `reserved_at` no longer waits for nodes (its pods started, or it
    /// left): off the waiting list, and its pods-ready deadline with it.
    fn stop_waiting_for_nodes(&mut self, reserved_at: SimTime, job: JobId) {
        self.unplaced.remove((reserved_at, job));
        if let Some(t) = self.ready_deadline(reserved_at) {
            self.ready_deadlines.remove(&(t, job));
        }
    }

    /// Releases a workload's quota and sends it back to its queue (or to backoff).
    fn release(&mut self, cx: &mut Cycle<'_>, job: JobId) {
        let Some(w) = self.wls.get_mut(&job) else { return };
        let Some(adm) = w.adm.take() else { return };
        let cq = w.cq;
        let victim = w.victim_of.take();
        w.state = WlState::Queued;
        let prio = w.prio;
        self.cqs[cq].admitted.remove(&(prio, job));
        self.charge(cq, &adm.frs, -1);
        self.stop_waiting_for_nodes(adm.reserved_at, job);
        match cx.status(job) {
            fairway_engine::JobStatus::Running => {
                let (why, by) = victim.unwrap_or((preemption_reason::IN_CLUSTER_QUEUE, job));
                cx.preempt(job, why, Some(by));
            }
            fairway_engine::JobStatus::Pending => {
                cx.decide(Decision::Unadmit { job });
            }
            _ => {}
        }
        let root = self.cqs[cq].root;
        self.schedule_flush(root);
    }

    fn handle_timers(&mut self, cx: &mut Cycle<'_>) {
        let now = self.now;
        while let Some(&(t, job)) = self.releases.first() {
            if t > now {
                break;
            }
            self.releases.pop_first();
            if self.wls.get(&job).is_some_and(|w| w.state == WlState::Evicting) {
                self.release(cx, job);
                self.push_heap(job);
                self.set_reason(job, reason::QUEUED);
            }
        }
        while let Some(&(t, job)) = self.ready_deadlines.first() {
            if t > now {
                break;
            }
            self.ready_deadlines.pop_first();
            self.pods_ready_timeout(cx, job);
        }
        while let Some(&(t, job)) = self.backoffs.first() {
            if t > now {
                break;
            }
            self.backoffs.pop_first();
            if self.wls.get(&job).is_some_and(|w| w.state == WlState::Backoff) {
                self.push_heap(job);
                self.set_reason(job, reason::QUEUED);
            }
        }
        while let Some(&(t, root)) = self.flushes.first() {
            if t > now {
                break;
            }
            self.flushes.pop_first();
            self.flush_due[root] = false;
            self.flush(root);
        }
    }

    /// Moves every inadmissible workload of the tree back to the heaps.
    fn flush(&mut self, root: usize) {
        self.last_flush_cycle[root] = self.cycle_no;
        for &c in &self.tree_cqs[root] {
            self.cqs[c].queue.flush();
        }
        self.bump(root);
    }

    /// waitForPodsReady: an admitted workload whose pods did not all start in time is evicted and
    /// requeued after a backoff.
    fn pods_ready_timeout(&mut self, cx: &mut Cycle<'_>, job: JobId) {
        let Some(pr) = self.pods_ready.clone() else { return };
        if !self.wls.get(&job).is_some_and(|w| w.state == WlState::Admitted)
            || cx.status(job) != fairway_engine::JobStatus::Pending
        {
            return;
        }
        self.stats.evictions_pods_ready += 1;
        self.release(cx, job);
        let now = self.now;
        let w = self.wls.get_mut(&job).expect("workload");
        w.requeues += 1;
        if pr.requeue_at_eviction_time {
            w.ts = now;
        }
        if pr.backoff_limit.is_some_and(|l| w.requeues > l) {
            self.wls.take(&job);
            cx.reject(
                job,
                "RequeuingLimitExceeded: evicted by waitForPodsReady too many times",
            );
            return;
        }
        let n = w.requeues.min(62);
        let backoff = (pr.backoff_base_s * 2f64.powi(n as i32 - 1)).min(pr.backoff_max_s);
        let until = now + SimDuration((backoff * 1000.0).round() as u64);
        w.state = WlState::Backoff;
        self.backoffs.insert((until, job));
        self.set_reason(job, reason::BACKOFF);
    }

    /// Starts admitted workloads whose pods find nodes now, in admission order. Those admitted
    /// before the last try found no nodes then; unless pods ended or nodes came back since (the
    /// cluster only filled up), they find none now either, and are not tried again. Within a
    /// pass, nor is one whose group (see `waiting`) an earlier one found full: it is only told
    /// why it waits, if it never was.
    ///
    /// Cost: after a release, O(g log g) for the g groups with waiting workloads, plus
    /// O(log w) and a try per workload started and per group that fills, and O(log w) per
    /// workload never tried; otherwise a look at each workload admitted since the last pass.
    fn place(&mut self, cx: &mut Cycle<'_>) {
        let from = match self.placed_at {
            Some(t) if !cx.freed() => Some(t),
            _ => None,
        };
        self.placed_at = Some(cx.now());
        #[cfg(test)]
        if self.by_scan {
            self.place_by_scan(cx, from.unwrap_or(SimTime(0)));
            return;
        }
        let mut full = std::mem::take(&mut self.full_groups);
        full.grow(self.unplaced.groups());
        if let Some(from) = from {
            let mut recent = std::mem::take(&mut self.placing);
            recent.clear();
            recent.extend(self.unplaced.since(from));
            for &at in &recent {
                self.place_one(cx, at, &mut full);
            }
            self.placing = recent;
        } else {
            // Every group from its front, and the untried workloads (of groups that fill),
            // merged in admission order; a group leaves the merge when it fills.
            const UNTRIED: usize = usize::MAX;
            let mut heads = std::mem::take(&mut self.place_heads);
            heads.clear();
            for g in self.unplaced.live() {
                if let Some(at) = self.unplaced.next_in(g, None) {
                    heads.push(Reverse((at, g)));
                }
            }
            if let Some(at) = self.unplaced.next_untried(None) {
                heads.push(Reverse((at, UNTRIED)));
            }
            while let Some(Reverse((at, g))) = heads.pop() {
                if g == UNTRIED {
                    if let Some(next) = self.unplaced.next_untried(Some(at)) {
                        heads.push(Reverse((next, UNTRIED)));
                    }
                    // One of a group still in the merge is its group's to try.
                    if self.unplaced.is_untried(&at) && full.is_marked(self.unplaced.group(at.1)) {
                        self.place_one(cx, at, &mut full);
                    }
                } else if self.place_one(cx, at, &mut full)
                    && let Some(next) = self.unplaced.next_in(g, Some(at))
                {
                    heads.push(Reverse((next, g)));
                }
            }
            self.place_heads = heads;
        }
        full.take(|_| {});
        self.full_groups = full;
    }

    /// Tries one waiting workload (unless its group is `full`): true if it no longer waits (its
    /// pods started, or it is not pending any more), false if it still does.
    fn place_one(&mut self, cx: &mut Cycle<'_>, at: waiting::At, full: &mut Marks) -> bool {
        let (t, job) = at;
        if cx.status(job) != fairway_engine::JobStatus::Pending {
            self.stop_waiting_for_nodes(t, job);
            return true;
        }
        let g = self.unplaced.group(job);
        if !full.is_marked(g) {
            let pools = self.wls[&job].adm.as_ref().map_or(&[][..], |a| &a.pools[..]);
            if cx.try_start_within(job, Some(pools)) {
                self.stop_waiting_for_nodes(t, job);
                return true;
            }
            full.mark(g);
        }
        self.unplaced.tried(&at);
        self.set_reason(job, reason::WAITING_FOR_NODES);
        false
    }

    /// `place` as first written: every workload admitted since `from` tried in turn.
    #[cfg(test)]
    fn place_by_scan(&mut self, cx: &mut Cycle<'_>, from: SimTime) {
        let waiting: Vec<waiting::At> = self.unplaced.since(from).collect();
        for &(t, job) in &waiting {
            if cx.status(job) != fairway_engine::JobStatus::Pending {
                self.stop_waiting_for_nodes(t, job);
                continue;
            }
            let pools = self.wls[&job].adm.as_ref().map_or(&[][..], |a| &a.pools[..]);
            if cx.try_start_within(job, Some(pools)) {
                self.stop_waiting_for_nodes(t, job);
            } else {
                self.unplaced.tried(&(t, job));
                self.set_reason(job, reason::WAITING_FOR_NODES);
            }
        }
    }

    /// Checks the policy's books: usage equals the sum of admitted workloads, no tree holds more
    /// than its quota, no queue more than it may ever hold, every queued workload is where its
    /// state says. Run after every pass in debug builds (so in every test).
    pub fn audit(&self) -> Result<(), BrokenBooks> {
        self.check_books().map_err(BrokenBooks)
    }

    fn check_books(&self) -> Result<(), String> {
        let mut u = self.tree.empty_usage();
        for (job, w) in self.wls.iter() {
            let listed = self.cqs[w.cq].admitted.contains(&(w.prio, job));
            match (&w.adm, listed) {
                (Some(a), true) => {
                    for &(fr, q) in &a.frs {
                        self.tree.add(&mut u, w.cq, fr, q);
                    }
                }
                (None, false) => {}
                _ => {
                    return Err(format!(
                        "job {job}: admission {} but admitted list {listed}",
                        w.adm.is_some()
                    ));
                }
            }
            let key = w.key(job);
            let c = &self.cqs[w.cq];
            let ok = match w.state {
                WlState::Queued => c.queue.contains(key, w.hash) || c.sticky == Some(job),
                WlState::Admitted | WlState::Evicting => w.adm.is_some(),
                WlState::Backoff => self.backoffs.iter().any(|&(_, j)| j == job),
            };
            if !ok {
                return Err(format!("job {job} is {:?} but not filed so", w.state));
            }
        }
        if u != self.usage {
            return Err("usage differs from the sum of admitted workloads".into());
        }
        // A queue the next cycle will not look at has nothing to try, as a look would find.
        for (i, c) in self.cqs.iter().enumerate() {
            if self.stale_cqs.is_marked(i) || self.stale_trees.is_marked(c.root) {
                continue;
            }
            if !c.open {
                continue;
            }
            let head = (self.sticky_head(c)).or_else(|| c.queue.peek_head().map(|k| k.job));
            if let Some(job) = head
                && self.wls[&job].tried_gen != self.gens[c.root]
            {
                return Err(format!(
                    "ClusterQueue {} has head {job} to try, but the next cycle would not look at it",
                    c.name
                ));
            }
        }
        // A pods-ready deadline stays only while its admission waits for nodes.
        for &(t, job) in &self.ready_deadlines {
            let adm = self.wls.get(&job).and_then(|w| w.adm.as_ref());
            if adm.is_none_or(|a| {
                self.ready_deadline(a.reserved_at) != Some(t)
                    || !self.unplaced.contains(&(a.reserved_at, job))
            }) {
                return Err(format!(
                    "job {job}: a pods-ready deadline at {t} it no longer has"
                ));
            }
        }
        for n in 0..self.tree.nodes.len() {
            for fr in 0..self.tree.nfr {
                let used = self.tree.usage(&u, n, fr);
                if used < 0 {
                    return Err(format!("{}: negative usage", self.tree.nodes[n].name));
                }
                if self.tree.nodes[n].parent.is_none() && used > self.tree.subtree_quota(n, fr) {
                    return Err(format!(
                        "tree {} holds {used} of fr {fr}, over its quota",
                        self.tree.nodes[n].name
                    ));
                }
                if self.tree.nodes[n].is_cq && used > self.tree.potential(n, fr) {
                    return Err(format!(
                        "ClusterQueue {} holds {used} of fr {fr}, over its maximum",
                        self.tree.nodes[n].name
                    ));
                }
            }
        }
        Ok(())
    }

    fn next_timer(&self) -> Option<SimTime> {
        [
            self.releases.first().map(|x| x.0),
            self.backoffs.first().map(|x| x.0),
            self.ready_deadlines.first().map(|x| x.0),
            self.flushes.first().map(|x| x.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Kueue scheduling cycles until no queue has an untried head. Victims whose eviction
    /// completes at once release their quota between cycles, and cycles resume.
    fn admit(&mut self, cx: &mut Cycle<'_>) {
        let mut budget = MAX_CYCLES_PER_PASS;
        loop {
            while budget > 0 && self.cycle(cx) {
                budget -= 1;
            }
            if budget == 0 || self.releases.first().is_none_or(|&(t, _)| t > self.now) {
                return;
            }
            self.handle_timers(cx);
        }
    }
}

impl Policy for Kueue {
    fn prepare(&mut self, w: &Workload, cluster: &Cluster) -> Result<(), PolicyError> {
        // Flavors match the pools whose labels contain their node labels.
        self.flavor_pools = self
            .cfg
            .flavors
            .iter()
            .map(|f| {
                cluster
                    .pools()
                    .iter()
                    .map(|p| f.node_labels.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
                    .collect()
            })
            .collect();
        self.flavor_model = self
            .cfg
            .flavors
            .iter()
            .map(|f| f.node_labels.get("gpu_model").map(|m| cluster.model_id(m)))
            .collect();
        self.job_models = w.jobs.iter().map(|j| j.models).collect();
        self.job_selector = w.jobs.iter().map(|j| j.selector).collect();
        self.flavor_selects = (self.cfg.flavors.iter())
            .map(|f| {
                (w.selectors.iter())
                    .map(|s| {
                        s.0.iter()
                            .all(|(k, v)| f.node_labels.get(k).is_none_or(|l| l == v))
                    })
                    .collect()
            })
            .collect();
        // Route every job: its queue, else its team, names a LocalQueue (or, with none, a ClusterQueue).
        let mut by_name: HashMap<String, usize> = HashMap::new();
        // By name through a map: with many LocalQueues, a search per queue would cost
        // LocalQueues x ClusterQueues. The first queue of a name wins, as a search would find.
        let mut cq_by_name: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.cqs.iter().enumerate() {
            cq_by_name.entry(c.name.as_str()).or_insert(i);
        }
        let cq_index = |name: &str| cq_by_name.get(name).copied();
        if self.cfg.local_queues.is_empty() {
            for (i, c) in self.cqs.iter().enumerate() {
                by_name.insert(c.name.clone(), i);
            }
        } else {
            for lq in &self.cfg.local_queues {
                let Some(cq) = cq_index(&lq.cluster_queue) else {
                    return Err(PolicyError::new(format!(
                        "LocalQueue '{}' points to ClusterQueue '{}', which does not exist",
                        lq.name, lq.cluster_queue
                    )));
                };
                by_name.insert(lq.name.clone(), cq);
                if let Some(ns) = &lq.namespace {
                    by_name.insert(format!("{ns}/{}", lq.name), cq);
                }
            }
        }
        self.job_cq = Vec::with_capacity(w.len());
        self.job_prio = Vec::with_capacity(w.len());
        for (i, j) in w.jobs.iter().enumerate() {
            let name = match j.queue {
                Some(q) => w.queues[q as usize].as_str(),
                None => w.teams[j.team.index()].as_str(),
            };
            let cq = match by_name.get(name) {
                Some(&c) => c as u32,
                None => {
                    let mut known: Vec<&str> = by_name.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    let what = if self.cfg.local_queues.is_empty() {
                        "ClusterQueue"
                    } else {
                        "LocalQueue"
                    };
                    let msg = format!(
                        "job '{}' goes to {what} '{name}', which the manifests do not define (known: {})",
                        &w.names[i],
                        known.join(", ")
                    );
                    if !self.opts.reject_unknown_queues {
                        return Err(PolicyError::new(msg));
                    }
                    self.rejections
                        .insert(JobId(i as u32), format!("{what} '{name}' not found"));
                    NO_CQ
                }
            };
            self.job_cq.push(cq);
            let prio = match j.priority_class {
                None => j.priority,
                Some(c) => {
                    let class = &w.classes[c as usize];
                    match self.cfg.priority_classes.get(class) {
                        Some(&v) => v,
                        None if self.opts.reject_unknown_queues => {
                            self.rejections.insert(
                                JobId(i as u32),
                                format!("WorkloadPriorityClass '{class}' not found"),
                            );
                            0
                        }
                        None => {
                            return Err(PolicyError::new(format!(
                                "job '{}' names WorkloadPriorityClass '{class}', which the manifests do not define",
                                &w.names[i]
                            )));
                        }
                    }
                }
            };
            self.job_prio.push(prio);
        }
        Ok(())
    }

    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, now: SimTime) {
        self.now = now;
        match what {
            Transition::Submitted => {
                let cq = self.job_cq[job.index()];
                if cq == NO_CQ {
                    return;
                }
                let cq = cq as usize;
                let req = self.requests(spec, cq);
                let prio = self.job_prio[job.index()];
                let hash = {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    (prio, spec.pods, spec.pod, spec.models, spec.selector).hash(&mut h);
                    h.finish()
                };
                let s = &self.cqs[cq].settings;
                let initial = if s.held {
                    reason::SUSPENDED
                } else {
                    match s.queueing {
                        Queueing::StrictFifo => reason::HEAD_OF_LINE_BLOCKED,
                        Queueing::BestEffortFifo => reason::QUEUED,
                    }
                };
                self.wls.insert(
                    job,
                    Wl {
                        cq,
                        prio,
                        ts: spec.submit,
                        hash,
                        req,
                        state: WlState::Queued,
                        tried_gen: u64::MAX,
                        pop_cycle: 0,
                        adm: None,
                        requeues: 0,
                        victim_of: None,
                        reason: "",
                    },
                );
                self.push_heap(job);
                self.set_reason(job, initial);
            }
            // `place` starts every workload, and takes it off the waiting list as it does.
            Transition::Started => {}
            Transition::Finished | Transition::Abandoned | Transition::Unschedulable => {
                self.remove_queued(job);
                let Some(w) = self.wls.take(&job) else { return };
                // Only a workload in these states can have an entry in these timer sets.
                match w.state {
                    WlState::Backoff => self.backoffs.retain(|&(_, j)| j != job),
                    WlState::Evicting => self.releases.retain(|&(_, j)| j != job),
                    _ => {}
                }
                if let Some(adm) = &w.adm {
                    self.cqs[w.cq].admitted.remove(&(w.prio, job));
                    self.charge(w.cq, &adm.frs, -1);
                    self.stop_waiting_for_nodes(adm.reserved_at, job);
                    let root = self.cqs[w.cq].root;
                    self.schedule_flush(root);
                }
            }
            Transition::Preempted => {
                // A node failure (our own preemptions release the quota first): the workload keeps
                // its quota and its pods look for nodes again.
                if let Some(w) = self.wls.get(&job)
                    && let Some(adm) = &w.adm
                {
                    self.unplaced.insert((adm.reserved_at, job), spec, &adm.pools);
                }
            }
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        self.now = cx.now();
        let rejections = std::mem::take(&mut self.rejections);
        for (job, why) in rejections {
            if cx.is_pending(job) {
                cx.reject(job, &why);
            } else {
                self.rejections.insert(job, why);
            }
        }
        self.handle_timers(cx);
        self.admit(cx);
        self.place(cx);
        for (job, r) in std::mem::take(&mut self.reasons) {
            if cx.is_pending(job) {
                cx.decide(Decision::Reason { job, reason: r });
            }
        }
        if cfg!(debug_assertions)
            && let Err(e) = self.audit()
        {
            panic!("kueue policy audit failed at {}: {e}", self.now);
        }
        if let Some(t) = self.next_timer()
            && t > self.now
            && self.wake.is_none_or(|w| w <= self.now || w > t)
        {
            self.wake = Some(t);
            cx.wake_at(t);
        }
    }

    /// ClusterQueues, with GPU quotas (of the resource jobs' GPUs are counted in) summed over
    /// flavors; entitlement is the share of nominal GPU quota (equal shares if no queue has any).
    fn queues(&self, _w: &Workload) -> Option<fairway_engine::QueueReport> {
        // Requests put GPUs in resource 3 (see `requests`), in milli-GPU with `gpu_milli`.
        let unit = if self.opts.gpu_milli { 1000.0 } else { 1.0 };
        let gpu_sum = |spec: &model::QuotaNodeSpec, pick: fn(&Quota) -> Option<i64>| {
            let mut total = 0i64;
            for (&(_, r), q) in &spec.quotas {
                if r == 3 {
                    match pick(q) {
                        Some(v) if v < quantity::UNLIMITED => total = total.saturating_add(v),
                        _ => return None,
                    }
                }
            }
            Some(total as f64 / unit)
        };
        let mut queues: Vec<fairway_engine::QueueInfo> = self
            .cfg
            .cluster_queues
            .iter()
            .map(|(spec, _)| fairway_engine::QueueInfo {
                name: spec.name.clone(),
                cohort: spec.parent.clone(),
                nominal_gpus: gpu_sum(spec, |q| Some(q.nominal)),
                borrowing_limit_gpus: gpu_sum(spec, |q| q.borrowing_limit),
                lending_limit_gpus: gpu_sum(spec, |q| q.lending_limit),
                weight: spec.weight,
                entitlement: 0.0,
                quotas: (spec.quotas.iter())
                    .map(|(&(f, r), q)| {
                        let resource = &self.cfg.resources[r];
                        let show = |v: i64| quantity::show(resource, v);
                        fairway_engine::FlavorQuota {
                            flavor: self.cfg.flavors[f].name.clone(),
                            resource: resource.clone(),
                            nominal: show(q.nominal),
                            borrowing_limit: q.borrowing_limit.map(show),
                            lending_limit: q.lending_limit.map(show),
                            // Resource 3 is the one jobs' GPUs are counted in (see `requests`).
                            nominal_gpus: (r == 3).then(|| q.nominal as f64 / unit),
                        }
                    })
                    .collect(),
            })
            .collect();
        let total: f64 = queues.iter().filter_map(|q| q.nominal_gpus).sum();
        let n = queues.len() as f64;
        for q in &mut queues {
            q.entitlement = if total > 0.0 {
                q.nominal_gpus.unwrap_or(0.0) / total
            } else {
                1.0 / n
            };
        }
        let index: HashMap<&str, u32> = (queues.iter().enumerate())
            .map(|(i, q)| (q.name.as_str(), i as u32))
            .collect();
        let job_queue = (self.job_cq.iter())
            .map(|&c| match self.cqs.get(c as usize) {
                Some(cq) => index.get(cq.name.as_str()).copied().unwrap_or(u32::MAX),
                None => u32::MAX,
            })
            .collect();
        Some(fairway_engine::QueueReport {
            basis: if total > 0.0 { "nominal quota" } else { "equal" }.to_string(),
            queues,
            job_queue,
        })
    }
}
